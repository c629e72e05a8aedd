#include <string.h>

#include "bot/casebot.h"
#include "locales/keys.h"

/* WhatsApp reply buttons hold at most 20 characters. */
#define BUTTON_MAX 20

#define TEXT KEYS_TEXT
#define LIST KEYS_LIST
#define OPENS KEYS_OPENS
#define FOLDED KEYS_FOLDED
#define PLURAL KEYS_PLURAL

/* key, kind, placeholders, list length, max characters, flags */
static const struct keys_entry registry[] = {
	{"meta.language_name", TEXT, {0}, 0, BUTTON_MAX, 0},

	/* Dates: {day} is a number, or format.day_ordinal_1 on the 1st;
	 * {hh} is the hour without a leading zero, {mm} two digits. */
	{"format.datetime", TEXT, {"weekday", "day", "month", "time"}, 0, 0, 0},
	{"format.date", TEXT, {"weekday", "day", "month"}, 0, 0, 0},
	{"format.time", TEXT, {"hh", "mm"}, 0, 0, 0},
	{"format.day_ordinal_1", TEXT, {0}, 0, 8, 0},
	{"weekdays", LIST, {0}, 7, 0, 0},
	{"months", LIST, {0}, 12, 0, 0},

	{"appointment.kind.home_visit", TEXT, {0}, 0, 0, 0},
	{"appointment.kind.lawyer", TEXT, {0}, 0, 0, 0},
	{"appointment.kind.immigration_office", TEXT, {0}, 0, 0, 0},
	{"appointment.kind.court", TEXT, {0}, 0, 0, 0},
	{"appointment.kind.school", TEXT, {0}, 0, 0, 0},
	{"appointment.kind.doctor", TEXT, {0}, 0, 0, 0},
	{"appointment.kind.social_service", TEXT, {0}, 0, 0, 0},
	{"appointment.kind.other", TEXT, {0}, 0, 0, 0},

	{"document.type.passport", TEXT, {0}, 0, 0, 0},
	{"document.type.id_card", TEXT, {0}, 0, 0, 0},
	{"document.type.birth_certificate", TEXT, {0}, 0, 0, 0},
	{"document.type.school_certificate", TEXT, {0}, 0, 0, 0},
	{"document.type.medical_certificate", TEXT, {0}, 0, 0, 0},
	{"document.type.lawyer_letter", TEXT, {0}, 0, 0, 0},
	{"document.type.order_to_leave", TEXT, {0}, 0, 0, 0},
	{"document.type.payslip", TEXT, {0}, 0, 0, 0},
	{"document.type.lease", TEXT, {0}, 0, 0, 0},
	{"document.type.other", TEXT, {0}, 0, 0, 0},
	/* Words that must not show in a family message's preview zone (its
	 * first KEYS_PREVIEW_LINES lines and KEYS_PREVIEW_CHARS characters, the part a
	 * locked screen shows): institutions, status documents, places of
	 * detention. Patterns as in words.urgent; every language's list is
	 * matched against every language's messages. */
	{"words.preview_banned", LIST, {0}, 0, 0, FOLDED},

	/* Every question lists its choices after its text, one line each:
	 * {label} is the choice's button label. */
	{"question.choice", TEXT, {"number", "label"}, 0, 0, 0},
	/* What opens a list of choices where there are more than buttons
	 * hold (WhatsApp: more than three). */
	{"button.choices", TEXT, {0}, 0, BUTTON_MAX, 0},

	/* Reminders: reminder.appointment opens and says only when; what,
	 * place and member are its details (shown on the Details button),
	 * question follows. */
	{"reminder.appointment", TEXT, {"when"}, 0, 0, OPENS},
	{"reminder.what", TEXT, {"what"}, 0, 0, 0},
	{"reminder.place", TEXT, {"place"}, 0, 0, 0},
	{"reminder.member", TEXT, {"member"}, 0, 0, 0},
	{"reminder.question", TEXT, {0}, 0, 0, 0},
	/* Instead of the question, in a later reminder of an appointment the
	 * family has confirmed. */
	{"reminder.you_confirmed", TEXT, {0}, 0, 0, 0},
	/* WhatsApp templates (bot/gateways/whatsapp_send.c lists which line
	 * each stands for): what goes instead of free-form text once the
	 * family has been silent for 24 hours. Meta approves each body as
	 * written, so it changes only with a new submission; a body never
	 * starts or ends with a placeholder, which Meta refuses. */
	{"template.reminder", TEXT, {"when"}, 0, 1024, OPENS},
	{"template.reminder_note", TEXT, {"when"}, 0, 1024, OPENS},
	{"button.confirm", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"button.cannot_come", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"button.other_time", TEXT, {0}, 0, BUTTON_MAX, 0},
	/* Edits the family's message in place to show its details. */
	{"button.details", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"reminder.confirmed_thanks", TEXT, {0}, 0, 0, OPENS},
	{"reminder.counsellor_will_contact", TEXT, {0}, 0, 0, OPENS},
	{"appointment.cancelled", TEXT, {"when"}, 0, 0, OPENS},
	{"appointment.moved", TEXT, {"when"}, 0, 0, OPENS},
	/* Appointments for the phone's calendar (bot/calendar.c): the
	 * caption of the calendar file, or where the gateway cannot carry the
	 * file, the message with a one-time link to it; the event's title,
	 * neutral, and with the kind only for a family that opted in to
	 * details. */
	{"calendar.file", TEXT, {0}, 0, 0, OPENS},
	{"calendar.file_cancelled", TEXT, {0}, 0, 0, OPENS},
	{"calendar.link", TEXT, {"url"}, 0, 0, OPENS},
	{"calendar.link_cancelled", TEXT, {"url"}, 0, 0, OPENS},
	{"calendar.title", TEXT, {0}, 0, 0, 0},
	{"calendar.title_kind", TEXT, {"what"}, 0, 0, 0},
	{"template.appointment_cancelled", TEXT, {"when"}, 0, 1024, OPENS},
	{"template.appointment_moved", TEXT, {"when"}, 0, 1024, OPENS},

	/* Documents: request_due and how_to_send follow document.request;
	 * document.name (and reason_line for a rejection) are the details. */
	{"document.request", TEXT, {0}, 0, 0, OPENS},
	{"document.name", TEXT, {"document"}, 0, 0, 0},
	{"document.request_due", TEXT, {"due"}, 0, 0, 0},
	{"document.how_to_send", TEXT, {0}, 0, 0, 0},
	{"document.reminder", TEXT, {0}, 0, 0, OPENS},
	/* Voice notes (bot/voice.c): the same messages written for listening,
	 * each one key so that a recorded clip can stand for it. Numbers are
	 * words, dates and times as a Belgian says them ({when}, {due}: from
	 * the voice.format keys and lists); they open a message as the text
	 * does, so they say when, never what or where. */
	{"voice.format.date", TEXT, {"weekday", "day", "month"}, 0, 0, 0},
	{"voice.format.datetime", TEXT, {"date", "time"}, 0, 0, 0},
	{"voice.reminder", TEXT, {"when"}, 0, 0, OPENS},
	{"voice.reminder_confirmed", TEXT, {"when"}, 0, 0, OPENS},
	{"voice.checkin", TEXT, {0}, 0, 0, OPENS},
	{"voice.document_request", TEXT, {0}, 0, 0, OPENS},
	{"voice.document_request_due", TEXT, {"due"}, 0, 0, OPENS},
	{"voice.document_reminder", TEXT, {0}, 0, 0, OPENS},
	{"voice.document_reminder_due", TEXT, {"due"}, 0, 0, OPENS},
	/* Cardinals 0-59; minutes 0-59 after an hour; days of the month 1-31
	 * as a date says them; each hour 0-23 on the hour, and with minutes
	 * (where "{minutes}" goes). */
	{"voice.numbers", LIST, {0}, 60, 0, 0},
	{"voice.minutes", LIST, {0}, 60, 0, 0},
	{"voice.days", LIST, {0}, 31, 0, 0},
	{"voice.hours", LIST, {0}, 24, 0, 0},
	{"voice.hours_minutes", LIST, {0}, 24, 0, 0},
	{"document.thanks", TEXT, {0}, 0, 0, OPENS},
	{"document.refused_type", TEXT, {0}, 0, 0, OPENS},
	/* {limit}: the gateway's download limit in megabytes. */
	{"document.too_big", TEXT, {"limit"}, 0, 0, OPENS},
	{"document.which", TEXT, {0}, 0, 0, OPENS},
	{"document.unrequested_thanks", TEXT, {0}, 0, 0, OPENS},
	{"document.rejected", TEXT, {0}, 0, 0, OPENS},
	{"document.reason_line", TEXT, {"reason"}, 0, 0, 0},
	{"document.reason.unreadable", TEXT, {0}, 0, 0, 0},
	{"document.reason.incomplete", TEXT, {0}, 0, 0, 0},
	{"document.reason.expired", TEXT, {0}, 0, 0, 0},
	{"document.reason.wrong_document", TEXT, {0}, 0, 0, 0},
	{"template.document_request", TEXT, {0}, 0, 1024, OPENS},
	{"template.document_reminder", TEXT, {0}, 0, 1024, OPENS},

	{"checkin.question", TEXT, {0}, 0, 0, OPENS},
	{"button.checkin_good", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"button.checkin_okay", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"button.checkin_hard", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"button.checkin_contact", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"checkin.thanks", TEXT, {0}, 0, 0, OPENS},
	{"checkin.contact_soon", TEXT, {0}, 0, 0, OPENS},
	/* The words that choose each check-in answer, as a whole message. */
	{"words.checkin_good", LIST, {0}, 0, 0, FOLDED},
	{"words.checkin_okay", LIST, {0}, 0, 0, FOLDED},
	{"words.checkin_hard", LIST, {0}, 0, 0, FOLDED},
	{"words.checkin_contact", LIST, {0}, 0, 0, FOLDED},
	{"template.checkin", TEXT, {0}, 0, 1024, OPENS},
	{"template.staff_waiting", TEXT, {0}, 0, 1024, OPENS},

	/* setMyDescription: what a chat with the bot shows before anything
	 * is written; 512 characters at most, and discreet all through. */
	{"bot.description", TEXT, {0}, 0, 512, OPENS},
	{"welcome", TEXT, {"counsellor"}, 0, 0, OPENS},
	/* By SMS, where a text costs: short, and how to stop it. */
	{"welcome.sms", TEXT, {"counsellor"}, 0, 0, OPENS},
	{"language.choose", TEXT, {0}, 0, 0, OPENS},
	{"language.changed", TEXT, {0}, 0, 0, OPENS},
	{"help.menu", TEXT, {0}, 0, 0, OPENS},
	/* setMyCommands for family chats: the descriptions of the command
	 * menu (256 characters at most); the command names are the first
	 * words of words.help, words.language, words.stop, words.start. */
	{"commands.family.help", TEXT, {0}, 0, 256, OPENS},
	{"commands.family.language", TEXT, {0}, 0, 256, OPENS},
	{"commands.family.stop", TEXT, {0}, 0, 256, OPENS},
	{"commands.family.start", TEXT, {0}, 0, 256, OPENS},
	/* STOP says what still comes: stop.confirmed when appointment
	 * reminders continue (during_stop = yes), stop.confirmed_all when
	 * they do not. */
	{"stop.confirmed", TEXT, {0}, 0, 0, OPENS},
	{"stop.confirmed_all", TEXT, {0}, 0, 0, OPENS},
	{"start.confirmed", TEXT, {0}, 0, 0, OPENS},
	{"start.not_stopped", TEXT, {0}, 0, 0, OPENS},
	/* The same text as invite.bad_code: a wrong code learns nothing. */
	{"unknown.neutral", TEXT, {0}, 0, 0, OPENS},
	{"invite.bad_code", TEXT, {0}, 0, 0, OPENS},
	{"forward.ack", TEXT, {0}, 0, 0, OPENS},
	/* A bare number or yes/no that answers no open question; the message
	 * goes to the counsellor all the same. */
	{"answer.not_understood", TEXT, {0}, 0, 0, OPENS},
	{"urgent.ack", TEXT, {"emergency"}, 0, 0, OPENS},
	{"reply.from_counsellor", TEXT, {"counsellor", "text"}, 0, 0, OPENS},

	/* Staff: counsellors and coordinators read these on their phone or in
	 * email. Texts flagged OPENS start a message; a family's words ({text}),
	 * an alert's details ({detail}) and anything naming a subject stay off
	 * their first line. Command words and the KIND and DOCTYPE codes stay
	 * English: they are what the staff commands accept. */
	{"staff.welcome", TEXT, {"name"}, 0, 0, OPENS},
	/* Shown in a chat that redeemed a staff code: no name, nothing about
	 * what the chat is for, since whoever holds the code may be a stranger. */
	{"staff.pairing", TEXT, {"number"}, 0, 0, OPENS},

	/* A forwarded family message: the header opens; answering, text and
	 * media are the lines that may follow. {member} may be empty. */
	{"staff.forward.header", TEXT, {"ref", "member", "language"}, 0, 0, OPENS},
	{"staff.forward.urgent_header", TEXT, {"ref", "member", "language"}, 0, 0, OPENS},
	{"staff.forward.answering", TEXT, {"last"}, 0, 0, 0},
	/* An escalated forward: {who} had it first. */
	{"staff.forward.escalated", TEXT, {"who"}, 0, 0, 0},
	/* An edited message: {when} is when the family sent the first version. */
	{"staff.forward.edited", TEXT, {"when"}, 0, 0, 0},
	{"staff.forward.text", TEXT, {"text"}, 0, 0, 0},
	{"staff.forward.media", TEXT, {"what"}, 0, 0, 0},
	{"button.staff_reply", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"button.staff_log", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"button.staff_handled", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"button.staff_ack", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"button.window_open", TEXT, {0}, 0, BUTTON_MAX, 0},
	{"button.staff_more", TEXT, {0}, 0, BUTTON_MAX, 0},

	/* Replies through the bot; reply_failed names one staff.reason.*. */
	{"staff.reply_prompt", TEXT, {"ref"}, 0, 0, OPENS},
	{"staff.reply_delivered", TEXT, {"ref"}, 0, 0, OPENS},
	{"staff.reply_failed", TEXT, {"ref", "reason"}, 0, 0, OPENS},
	{"staff.reply_too_long", TEXT, {"ref", "length", "limit"}, 0, 0, OPENS},
	{"staff.inbound_failed", TEXT, {0}, 0, 0, OPENS},
	/* The nudge that asks a staff chat outside its window to write. */
	{"staff.window_waiting", TEXT, {0}, 0, 0, OPENS},
	/* A staff chat's new identity, to coordinators and the staff member's other chat. */
	{"staff.number_changed", TEXT, {"name", "id"}, 0, 0, OPENS},
	{"staff.user_id_changed", TEXT, {"name", "id"}, 0, 0, OPENS},
	{"staff.reason.blocked", TEXT, {0}, 0, 0, 0},
	{"staff.reason.stopped", TEXT, {0}, 0, 0, 0},
	{"staff.reason.carrier_stop", TEXT, {0}, 0, 0, 0},
	{"staff.reason.gateway", TEXT, {0}, 0, 0, 0},
	{"staff.reason.closed", TEXT, {0}, 0, 0, 0},
	{"staff.reason.unreachable", TEXT, {0}, 0, 0, 0},
	{"staff.reason.template", TEXT, {0}, 0, 0, 0},
	{"staff.reason.window", TEXT, {0}, 0, 0, 0},
	{"staff.reason.channels", TEXT, {0}, 0, 0, 0},
	{"staff.reason.staff_window", TEXT, {0}, 0, 0, 0},
	{"staff.refused", TEXT, {"ref"}, 0, 0, OPENS},
	{"staff.unknown_command", TEXT, {0}, 0, 0, OPENS},
	{"staff.edit_ignored", TEXT, {0}, 0, 0, OPENS},
	{"staff.help", TEXT, {0}, 0, 0, OPENS},
	/* setMyCommands for staff chats, in the staff member's language. */
	{"commands.staff.help", TEXT, {0}, 0, 256, 0},
	{"commands.staff.families", TEXT, {0}, 0, 256, 0},
	{"commands.staff.log", TEXT, {0}, 0, 256, 0},
	{"commands.staff.appointment", TEXT, {0}, 0, 256, 0},
	{"commands.staff.request", TEXT, {0}, 0, 256, 0},
	{"commands.staff.checkin", TEXT, {0}, 0, 256, 0},
	{"commands.staff.away", TEXT, {0}, 0, 256, 0},
	{"commands.staff.alerts", TEXT, {0}, 0, 256, 0},

	/* Commands and their answers; a header opens, its lines follow. */
	{"staff.families.header", TEXT, {0}, 0, 0, OPENS},
	{"staff.families.line", TEXT, {"ref", "days", "name"}, 0, 0, 0},
	{"staff.families.never", TEXT, {"ref", "name"}, 0, 0, 0},
	{"staff.families.unassigned", TEXT, {0}, 0, 0, 0},
	{"staff.families.none", TEXT, {0}, 0, 0, OPENS},
	{"staff.log.header", TEXT, {"ref"}, 0, 0, OPENS},
	{"staff.log.line", TEXT, {"when", "summary"}, 0, 0, 0},
	{"staff.log.line_channel", TEXT, {"when", "channel", "summary"}, 0, 0, 0},
	{"staff.log.empty", TEXT, {"ref"}, 0, 0, OPENS},

	/* Contact-log rows and alert details (locales/note.c): one line per
	 * code, log.media.* and log.reason.* name its values, log.status.*
	 * and log.out.* tell a message the family was sent by its catalog
	 * key and how it went. */
	{"log.text", TEXT, {"bytes"}, 0, 0, PLURAL},
	{"log.urgent", TEXT, {"bytes"}, 0, 0, PLURAL},
	{"log.media", TEXT, {"what"}, 0, 0, 0},
	{"log.edited_text", TEXT, {"bytes"}, 0, 0, PLURAL},
	{"log.edited_media", TEXT, {"what"}, 0, 0, 0},
	{"log.media.photo", TEXT, {0}, 0, 0, 0},
	{"log.media.document", TEXT, {0}, 0, 0, 0},
	{"log.media.voice", TEXT, {0}, 0, 0, 0},
	{"log.media.audio", TEXT, {0}, 0, 0, 0},
	{"log.media.video", TEXT, {0}, 0, 0, 0},
	{"log.media.video_note", TEXT, {0}, 0, 0, 0},
	{"log.media.sticker", TEXT, {0}, 0, 0, 0},
	{"log.media.location", TEXT, {0}, 0, 0, 0},
	{"log.media.other", TEXT, {0}, 0, 0, 0},
	{"log.button_stale", TEXT, {0}, 0, 0, 0},
	{"log.details", TEXT, {0}, 0, 0, 0},
	{"log.help", TEXT, {0}, 0, 0, 0},
	{"log.language_asked", TEXT, {0}, 0, 0, 0},
	{"log.language_changed", TEXT, {"language"}, 0, 0, 0},
	{"log.stop", TEXT, {0}, 0, 0, 0},
	{"log.stop_again", TEXT, {0}, 0, 0, 0},
	{"log.start", TEXT, {0}, 0, 0, 0},
	{"log.start_unstopped", TEXT, {0}, 0, 0, 0},
	{"log.onboarding", TEXT, {0}, 0, 0, 0},
	{"log.appointment_answer", TEXT, {"answer"}, 0, 0, 0},
	{"log.checkin_answer", TEXT, {"answer"}, 0, 0, 0},
	{"log.document_received", TEXT, {"what", "mime", "bytes"}, 0, 0, PLURAL},
	{"log.document_refused", TEXT, {"what", "mime"}, 0, 0, 0},
	{"log.document_attached", TEXT, {"document", "request"}, 0, 0, 0},
	{"log.document_too_big", TEXT, {"what", "limit"}, 0, 0, 0},
	{"log.document_too_big_size", TEXT, {"what", "size", "limit"}, 0, 0, 0},
	{"log.failed_text", TEXT, {"bytes", "answer"}, 0, 0, PLURAL},
	{"log.failed_media", TEXT, {"what", "answer"}, 0, 0, 0},
	{"log.failed_unread", TEXT, {"answer"}, 0, 0, 0},
	{"log.answer.ack", TEXT, {0}, 0, 0, 0},
	{"log.answer.emergency", TEXT, {0}, 0, 0, 0},
	{"log.download_failed", TEXT, {"what", "reason"}, 0, 0, 0},
	{"log.reason.too_big", TEXT, {0}, 0, 0, 0},
	{"log.reason.failed", TEXT, {0}, 0, 0, 0},
	{"log.reason.no_gateway", TEXT, {0}, 0, 0, 0},
	{"log.blocked", TEXT, {"reach"}, 0, 0, 0},
	{"log.blocked_member", TEXT, {"member", "reach"}, 0, 0, 0},
	{"log.reach.others", TEXT, {0}, 0, 0, 0},
	{"log.reach.none", TEXT, {0}, 0, 0, 0},
	{"log.unblocked", TEXT, {0}, 0, 0, 0},
	{"log.number_changed", TEXT, {"member", "id"}, 0, 0, 0},
	{"log.user_id_changed", TEXT, {"member", "id"}, 0, 0, 0},
	{"log.reply", TEXT, {0}, 0, 0, 0},
	{"log.forwarded", TEXT, {0}, 0, 0, 0},
	{"log.undelivered", TEXT, {"what", "reason"}, 0, 0, 0},
	/* A message offered down its reader's order of chats: from and to
	 * name channel.kind.*, why one log.fallback_why.*. */
	{"log.fallback", TEXT, {"what", "from", "to", "why"}, 0, 0, 0},
	{"log.fallback_why.blocked", TEXT, {0}, 0, 0, 0},
	{"log.fallback_why.unreachable", TEXT, {0}, 0, 0, 0},
	{"log.fallback_why.carrier_stop", TEXT, {0}, 0, 0, 0},
	{"log.fallback_why.unconfirmed", TEXT, {0}, 0, 0, 0},
	{"channel.kind.telegram", TEXT, {0}, 0, 0, 0},
	{"channel.kind.whatsapp", TEXT, {0}, 0, 0, 0},
	{"channel.kind.sms", TEXT, {0}, 0, 0, 0},
	{"channel.kind.email", TEXT, {0}, 0, 0, 0},
	{"channel.kind.other", TEXT, {0}, 0, 0, 0},
	{"log.unconfirmed", TEXT, {"when", "what"}, 0, 0, 0},
	{"log.document_overdue", TEXT, {"document"}, 0, 0, 0},
	{"log.checkin_unanswered", TEXT, {0}, 0, 0, 0},
	{"log.legacy.in", TEXT, {0}, 0, 0, 0},
	{"log.legacy.internal", TEXT, {0}, 0, 0, 0},
	{"log.status.sent", TEXT, {"what"}, 0, 0, 0},
	{"log.status.delivered", TEXT, {"what"}, 0, 0, 0},
	{"log.status.read", TEXT, {"what"}, 0, 0, 0},
	{"log.status.failed", TEXT, {"what"}, 0, 0, 0},
	{"log.status.expired", TEXT, {"what"}, 0, 0, 0},
	{"log.status.other", TEXT, {"what"}, 0, 0, 0},
	{"log.out.reminder.appointment", TEXT, {0}, 0, 0, 0},
	{"log.out.appointment.moved", TEXT, {0}, 0, 0, 0},
	{"log.out.appointment.cancelled", TEXT, {0}, 0, 0, 0},
	{"log.out.calendar.file", TEXT, {0}, 0, 0, 0},
	{"log.out.calendar.file_cancelled", TEXT, {0}, 0, 0, 0},
	{"log.out.calendar.link", TEXT, {0}, 0, 0, 0},
	{"log.out.calendar.link_cancelled", TEXT, {0}, 0, 0, 0},
	{"log.out.reminder.confirmed_thanks", TEXT, {0}, 0, 0, 0},
	{"log.out.reminder.counsellor_will_contact", TEXT, {0}, 0, 0, 0},
	{"log.out.document.request", TEXT, {0}, 0, 0, 0},
	{"log.out.document.reminder", TEXT, {0}, 0, 0, 0},
	{"log.out.document.rejected", TEXT, {0}, 0, 0, 0},
	{"log.out.button.details", TEXT, {0}, 0, 0, 0},
	{"log.out.document.thanks", TEXT, {0}, 0, 0, 0},
	{"log.out.document.unrequested_thanks", TEXT, {0}, 0, 0, 0},
	{"log.out.document.refused_type", TEXT, {0}, 0, 0, 0},
	{"log.out.document.which", TEXT, {0}, 0, 0, 0},
	{"log.out.checkin.question", TEXT, {0}, 0, 0, 0},
	{"log.out.checkin.thanks", TEXT, {0}, 0, 0, 0},
	{"log.out.checkin.contact_soon", TEXT, {0}, 0, 0, 0},
	{"log.out.welcome", TEXT, {0}, 0, 0, 0},
	{"log.out.welcome.sms", TEXT, {0}, 0, 0, 0},
	{"log.out.language.choose", TEXT, {0}, 0, 0, 0},
	{"log.out.language.changed", TEXT, {0}, 0, 0, 0},
	{"log.out.help.menu", TEXT, {0}, 0, 0, 0},
	{"log.out.stop.confirmed", TEXT, {0}, 0, 0, 0},
	{"log.out.stop.confirmed_all", TEXT, {0}, 0, 0, 0},
	{"log.out.start.confirmed", TEXT, {0}, 0, 0, 0},
	{"log.out.start.not_stopped", TEXT, {0}, 0, 0, 0},
	{"log.out.forward.ack", TEXT, {0}, 0, 0, 0},
	{"log.out.answer.not_understood", TEXT, {0}, 0, 0, 0},
	{"log.out.urgent.ack", TEXT, {0}, 0, 0, 0},
	{"log.out.reply.from_counsellor", TEXT, {0}, 0, 0, 0},
	{"log.out.other", TEXT, {0}, 0, 0, 0},
	{"staff.appointment.added", TEXT, {"ref", "when", "what"}, 0, 0, OPENS},
	{"staff.request.added", TEXT, {"ref", "document"}, 0, 0, OPENS},
	{"staff.checkin.set", TEXT, {"ref", "days", "next"}, 0, 0, OPENS | PLURAL},
	{"staff.checkin.off", TEXT, {"ref"}, 0, 0, OPENS},
	{"staff.voice.on", TEXT, {"ref"}, 0, 0, OPENS},
	{"staff.voice.off", TEXT, {"ref"}, 0, 0, OPENS},
	{"staff.usage.voice", TEXT, {0}, 0, 0, OPENS},
	/* One line each: what is wrong, then an example. */
	{"staff.usage.appointment", TEXT, {0}, 0, 0, OPENS},
	{"staff.usage.request", TEXT, {0}, 0, 0, OPENS},
	{"staff.usage.checkin", TEXT, {0}, 0, 0, OPENS},
	{"staff.usage.log", TEXT, {0}, 0, 0, OPENS},
	{"staff.usage.away", TEXT, {0}, 0, 0, OPENS},
	{"staff.error.date", TEXT, {"value"}, 0, 0, OPENS},
	{"staff.error.past", TEXT, {"value"}, 0, 0, OPENS},
	/* A mistyped kind can name an institution ("DVZ"): {value} stays
	 * off the first line, the accepted codes follow it. */
	{"staff.error.kind", TEXT, {"value"}, 0, 0, OPENS},
	{"staff.error.doctype", TEXT, {"value"}, 0, 0, OPENS},
	{"staff.error.closed", TEXT, {"ref"}, 0, 0, OPENS},
	{"staff.error.no_checkins", TEXT, {"ref"}, 0, 0, OPENS},

	/* away.on names the backup; on_nobackup when some families have none. */
	{"staff.away.on", TEXT, {"backup"}, 0, 0, OPENS},
	{"staff.away.on_nobackup", TEXT, {0}, 0, 0, OPENS},
	{"staff.away.off", TEXT, {0}, 0, 0, OPENS},

	/* Alerts: staff.alert or staff.alert.escalated opens, staff.alert.detail
	 * follows; {kind} is one staff.alert_kind.*. */
	{"staff.alerts.header", TEXT, {"count"}, 0, 0, OPENS},
	{"staff.alerts.none", TEXT, {0}, 0, 0, OPENS},
	{"staff.alert", TEXT, {"ref", "kind"}, 0, 0, OPENS},
	{"staff.alert.detail", TEXT, {"detail"}, 0, 0, 0},
	{"staff.alert.escalated", TEXT, {"ref", "kind", "who"}, 0, 0, OPENS},
	{"staff.alert.acked", TEXT, {0}, 0, 0, OPENS},
	{"staff.handled", TEXT, {"ref"}, 0, 0, OPENS},
	{"staff.alert_kind.message", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.urgent", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.cannot_come", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.other_time", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.unconfirmed", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.document_overdue", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.checkin_unanswered", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.checkin_hard", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.contact_request", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.stop", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.start", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.blocked", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.identity_changed", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.undelivered", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.document_received", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.document_unrequested", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.document_refused", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.download_failed", TEXT, {0}, 0, 0, 0},
	{"staff.alert_kind.inbound_failed", TEXT, {0}, 0, 0, 0},
	/* A kind this catalog does not name yet. */
	{"staff.alert_kind.other", TEXT, {0}, 0, 0, 0},
	/* The CLI's list of alerts: its column titles, and what an
	 * acknowledged alert shows instead of its details. */
	{"cli.alerts.columns", LIST, {0}, 6, 0, 0},
	{"cli.alerts.acknowledged", TEXT, {0}, 0, 0, 0},
	/* Counts in the CLI's other lines. */
	{"cli.count.bytes", TEXT, {"bytes"}, 0, 0, PLURAL},
	{"cli.count.every_days", TEXT, {"days"}, 0, 0, PLURAL},

	/* Email: subjects carry a reference and a kind, never a family's words. */
	{"staff.digest.subject", TEXT, {"date"}, 0, 0, OPENS},
	{"staff.digest.intro", TEXT, {0}, 0, 0, OPENS},
	{"staff.digest.messages", TEXT, {"count"}, 0, 0, 0},
	{"staff.digest.alerts", TEXT, {"count"}, 0, 0, 0},
	{"staff.digest.overdue", TEXT, {"count"}, 0, 0, 0},
	{"staff.digest.unconfirmed", TEXT, {"count"}, 0, 0, 0},
	{"staff.digest.family_line", TEXT, {"ref", "detail"}, 0, 0, 0},
	{"staff.digest.empty", TEXT, {0}, 0, 0, OPENS},
	{"staff.email.forward_subject", TEXT, {"ref"}, 0, 0, OPENS},
	{"staff.email.alert_subject", TEXT, {"ref", "kind"}, 0, 0, OPENS},

	/* The web console's pages. */
	{"console.nav.overview", TEXT, {0}, 0, 0, 0},
	{"console.nav.caseload", TEXT, {0}, 0, 0, 0},
	{"console.caseload.heading", TEXT, {0}, 0, 0, 0},
	{"console.caseload.away", TEXT, {0}, 0, 0, 0},
	{"console.caseload.families", TEXT, {0}, 0, 0, 0},
	{"console.caseload.backups", TEXT, {0}, 0, 0, 0},
	{"console.caseload.alerts", TEXT, {0}, 0, 0, 0},
	{"console.caseload.median", TEXT, {0}, 0, 0, 0},
	{"console.caseload.no_answers", TEXT, {0}, 0, 0, 0},
	{"console.caseload.duration", TEXT, {"hours", "minutes"}, 0, 0, 0},
	{"console.caseload.in", TEXT, {0}, 0, 0, 0},
	{"console.caseload.out", TEXT, {0}, 0, 0, 0},
	{"console.caseload.chart", TEXT, {"name", "in", "out"}, 0, 0, 0},
	{"console.caseload.week", TEXT, {"week", "in", "out"}, 0, 0, 0},
	{"console.logout", TEXT, {0}, 0, 0, 0},
	{"console.login.heading", TEXT, {0}, 0, 0, 0},
	{"console.login.name", TEXT, {0}, 0, 0, 0},
	{"console.login.password", TEXT, {0}, 0, 0, 0},
	{"console.login.code", TEXT, {0}, 0, 0, 0},
	{"console.login.submit", TEXT, {0}, 0, 0, 0},
	{"console.login.failed", TEXT, {0}, 0, 0, 0},
	{"console.expired", TEXT, {0}, 0, 0, 0},
	{"console.refused", TEXT, {0}, 0, 0, 0},
	{"console.not_found", TEXT, {0}, 0, 0, 0},
	{"console.never", TEXT, {0}, 0, 0, 0},
	{"console.none", TEXT, {0}, 0, 0, 0},
	{"console.export", TEXT, {0}, 0, 0, 0},
	{"console.col.family", TEXT, {0}, 0, 0, 0},
	{"console.col.counsellor", TEXT, {0}, 0, 0, 0},
	{"console.col.when", TEXT, {0}, 0, 0, 0},
	{"console.col.what", TEXT, {0}, 0, 0, 0},
	{"console.col.chat", TEXT, {0}, 0, 0, 0},
	{"console.col.gateway", TEXT, {0}, 0, 0, 0},
	{"console.col.state", TEXT, {0}, 0, 0, 0},
	{"console.col.last_inbound", TEXT, {0}, 0, 0, 0},
	{"console.col.due", TEXT, {0}, 0, 0, 0},
	{"console.overview.heading", TEXT, {0}, 0, 0, 0},
	{"console.overview.not_reached_wrote", TEXT, {"days"}, 0, 0, 0},
	{"console.overview.not_reached_silent", TEXT, {"days"}, 0, 0, 0},
	{"console.overview.unanswered", TEXT, {0}, 0, 0, 0},
	{"console.overview.unconfirmed", TEXT, {0}, 0, 0, 0},
	{"console.overview.overdue", TEXT, {0}, 0, 0, 0},
	{"console.overview.alerts", TEXT, {0}, 0, 0, 0},
	{"console.overview.blocked", TEXT, {0}, 0, 0, 0},
	{"console.overview.no_channel", TEXT, {0}, 0, 0, 0},
	{"console.overview.wrote", TEXT, {0}, 0, 0, 0},
	{"console.overview.silent", TEXT, {0}, 0, 0, 0},
	{"console.overview.urgent", TEXT, {0}, 0, 0, 0},
	{"console.overview.alert", TEXT, {0}, 0, 0, 0},
	{"console.overview.chat_blocked", TEXT, {0}, 0, 0, 0},
	{"console.overview.chat_stopped", TEXT, {0}, 0, 0, 0},
	{"console.family.heading", TEXT, {"ref"}, 0, 0, 0},
	{"console.family.backup", TEXT, {0}, 0, 0, 0},
	{"console.family.alerts", TEXT, {0}, 0, 0, 0},
	{"console.family.ack", TEXT, {0}, 0, 0, 0},
	{"console.family.write", TEXT, {0}, 0, 0, 0},
	{"console.family.write_label", TEXT, {0}, 0, 0, 0},
	{"console.family.send", TEXT, {0}, 0, 0, 0},
	{"console.family.no_chat", TEXT, {0}, 0, 0, 0},
	{"console.family.too_long", TEXT, {0}, 0, 0, 0},
	{"console.family.members", TEXT, {0}, 0, 0, 0},
	{"console.family.appointments", TEXT, {0}, 0, 0, 0},
	{"console.family.documents", TEXT, {0}, 0, 0, 0},
	{"console.family.timeline", TEXT, {0}, 0, 0, 0},
	{"console.family.chat_blocked", TEXT, {0}, 0, 0, 0},
	{"console.family.chat_stopped", TEXT, {0}, 0, 0, 0},
	{"console.family.chat_linked", TEXT, {0}, 0, 0, 0},
	{"console.family.chat_pending", TEXT, {0}, 0, 0, 0},
	{"console.role.parent", TEXT, {0}, 0, 0, 0},
	{"console.role.child", TEXT, {0}, 0, 0, 0},
	{"console.role.other", TEXT, {0}, 0, 0, 0},
	{"console.appointment.scheduled", TEXT, {0}, 0, 0, 0},
	{"console.appointment.confirmed", TEXT, {0}, 0, 0, 0},
	{"console.appointment.cannot_come", TEXT, {0}, 0, 0, 0},
	{"console.appointment.other_time", TEXT, {0}, 0, 0, 0},
	{"console.appointment.cancelled", TEXT, {0}, 0, 0, 0},
	{"console.docreq.open", TEXT, {0}, 0, 0, 0},
	{"console.docreq.received", TEXT, {0}, 0, 0, 0},
	{"console.docreq.verified", TEXT, {0}, 0, 0, 0},
	{"console.docreq.rejected", TEXT, {0}, 0, 0, 0},
	{"console.docreq.cancelled", TEXT, {0}, 0, 0, 0},
	{"console.nav.alerts", TEXT, {0}, 0, 0, 0},
	{"console.nav.audit", TEXT, {0}, 0, 0, 0},
	{"console.nav.staff", TEXT, {0}, 0, 0, 0},
	{"console.col.place", TEXT, {0}, 0, 0, 0},
	{"console.col.received", TEXT, {0}, 0, 0, 0},
	{"console.col.type", TEXT, {0}, 0, 0, 0},
	{"console.col.size", TEXT, {0}, 0, 0, 0},
	{"console.col.name", TEXT, {0}, 0, 0, 0},
	{"console.col.role", TEXT, {0}, 0, 0, 0},
	{"console.col.language", TEXT, {0}, 0, 0, 0},
	{"console.col.voice", TEXT, {0}, 0, 0, 0},
	{"console.voice.on", TEXT, {0}, 0, 0, 0},
	{"console.voice.off", TEXT, {0}, 0, 0, 0},
	{"console.col.actions", TEXT, {0}, 0, 0, 0},
	{"console.family.closed", TEXT, {0}, 0, 0, 0},
	{"console.family.bad_input", TEXT, {0}, 0, 0, 0},
	{"console.family.bad_state", TEXT, {0}, 0, 0, 0},
	{"console.family.damaged", TEXT, {0}, 0, 0, 0},
	{"console.family.new_time", TEXT, {0}, 0, 0, 0},
	{"console.family.move", TEXT, {0}, 0, 0, 0},
	{"console.family.cancel", TEXT, {0}, 0, 0, 0},
	{"console.family.add_appointment", TEXT, {0}, 0, 0, 0},
	{"console.family.kind", TEXT, {0}, 0, 0, 0},
	{"console.family.add", TEXT, {0}, 0, 0, 0},
	{"console.family.request", TEXT, {0}, 0, 0, 0},
	{"console.family.doc_type", TEXT, {0}, 0, 0, 0},
	{"console.family.request_send", TEXT, {0}, 0, 0, 0},
	{"console.family.download", TEXT, {0}, 0, 0, 0},
	{"console.family.verify", TEXT, {0}, 0, 0, 0},
	{"console.family.reject", TEXT, {0}, 0, 0, 0},
	{"console.family.reason", TEXT, {0}, 0, 0, 0},
	{"console.reason.unreadable", TEXT, {0}, 0, 0, 0},
	{"console.reason.incomplete", TEXT, {0}, 0, 0, 0},
	{"console.reason.expired", TEXT, {0}, 0, 0, 0},
	{"console.reason.wrong_document", TEXT, {0}, 0, 0, 0},
	{"console.family.checkin", TEXT, {0}, 0, 0, 0},
	{"console.family.checkin_plan", TEXT, {"days", "weekday", "time"}, 0, 0, PLURAL},
	{"console.family.checkin_none", TEXT, {0}, 0, 0, 0},
	{"console.family.checkin_every", TEXT, {0}, 0, 0, 0},
	{"console.family.checkin_day", TEXT, {0}, 0, 0, 0},
	{"console.family.checkin_time", TEXT, {0}, 0, 0, 0},
	{"console.family.checkin_set", TEXT, {0}, 0, 0, 0},
	{"console.family.checkin_off", TEXT, {0}, 0, 0, 0},
	{"console.family.close", TEXT, {0}, 0, 0, 0},
	{"console.family.close_confirm", TEXT, {0}, 0, 0, 0},
	{"console.family.unlink", TEXT, {0}, 0, 0, 0},
	{"console.col.for", TEXT, {0}, 0, 0, 0},
	{"console.col.actor", TEXT, {0}, 0, 0, 0},
	{"console.col.action", TEXT, {0}, 0, 0, 0},
	{"console.col.staff", TEXT, {0}, 0, 0, 0},
	{"console.col.object", TEXT, {0}, 0, 0, 0},
	{"console.col.detail", TEXT, {0}, 0, 0, 0},
	{"console.filter", TEXT, {0}, 0, 0, 0},
	{"console.alerts.heading", TEXT, {0}, 0, 0, 0},
	{"console.alerts.assign_to", TEXT, {0}, 0, 0, 0},
	{"console.alerts.assign", TEXT, {0}, 0, 0, 0},
	{"console.alerts.acked", TEXT, {0}, 0, 0, 0},
	{"console.alerts.only_urgent", TEXT, {0}, 0, 0, 0},
	{"console.alerts.only_mine", TEXT, {0}, 0, 0, 0},
	{"console.alerts.with_acked", TEXT, {0}, 0, 0, 0},
	{"console.alerts.cannot_reach", TEXT, {0}, 0, 0, 0},
	{"console.live.heading", TEXT, {0}, 0, 0, 0},
	{"console.audit.heading", TEXT, {0}, 0, 0, 0},
	{"console.audit.since", TEXT, {0}, 0, 0, 0},
	{"console.audit.more", TEXT, {"count"}, 0, 0, 0},
	{"console.staff.heading", TEXT, {0}, 0, 0, 0},
	{"console.staff.role_counsellor", TEXT, {0}, 0, 0, 0},
	{"console.staff.role_coordinator", TEXT, {0}, 0, 0, 0},
	{"console.staff.active", TEXT, {0}, 0, 0, 0},
	{"console.staff.away", TEXT, {0}, 0, 0, 0},
	{"console.staff.inactive", TEXT, {0}, 0, 0, 0},
	{"console.staff.chats", TEXT, {0}, 0, 0, 0},
	{"console.staff.pending", TEXT, {0}, 0, 0, 0},
	{"console.staff.second_factor", TEXT, {0}, 0, 0, 0},
	{"console.staff.set", TEXT, {0}, 0, 0, 0},
	{"console.staff.not_set", TEXT, {0}, 0, 0, 0},
	{"console.staff.set_away", TEXT, {0}, 0, 0, 0},
	{"console.staff.set_back", TEXT, {0}, 0, 0, 0},
	{"console.staff.invite", TEXT, {0}, 0, 0, 0},
	{"console.staff.invite_how", TEXT, {"name", "until"}, 0, 0, 0},
	{"console.staff.number", TEXT, {0}, 0, 0, 0},
	{"console.staff.confirm", TEXT, {0}, 0, 0, 0},
	{"console.staff.nothing_pending", TEXT, {0}, 0, 0, 0},
	{"console.staff.wrong_number", TEXT, {0}, 0, 0, 0},
	{"console.staff.unlink", TEXT, {0}, 0, 0, 0},
	{"console.staff.totp", TEXT, {0}, 0, 0, 0},
	{"console.staff.totp_how", TEXT, {"name"}, 0, 0, 0},
	{"console.staff.new_password", TEXT, {0}, 0, 0, 0},
	{"console.staff.set_password", TEXT, {0}, 0, 0, 0},
	{"console.staff.password_rule", TEXT, {0}, 0, 0, 0},
	{"console.staff.backup", TEXT, {0}, 0, 0, 0},
	{"console.staff.no_backup", TEXT, {0}, 0, 0, 0},
	{"console.staff.set_backup", TEXT, {0}, 0, 0, 0},
	{"console.staff.deactivate", TEXT, {0}, 0, 0, 0},
	{"console.staff.deactivate_confirm", TEXT, {0}, 0, 0, 0},
	{"console.staff.add", TEXT, {0}, 0, 0, 0},
	{"console.staff.exists", TEXT, {0}, 0, 0, 0},

	/* Files an export writes, not messages: the summary of a subject
	 * access export in the family's language, and how to check a signed
	 * contact log. */
	{"export.summary", TEXT, {"ref", "date", "members", "appointments", "documents", "contacts"}, 0, 0, 0},
	{"export.log_verify", TEXT, {"ref", "rows", "head", "key"}, 0, 0, 0},

	{"words.yes", LIST, {0}, 0, 0, FOLDED},
	{"words.no", LIST, {0}, 0, 0, FOLDED},
	{"words.stop", LIST, {0}, 0, 0, FOLDED},
	{"words.start", LIST, {0}, 0, 0, FOLDED},
	{"words.help", LIST, {0}, 0, 0, FOLDED},
	{"words.language", LIST, {0}, 0, 0, FOLDED},
	/* Urgent words: stems, compounds and phrases (locales/patterns.h),
	 * and the everyday words a stem would catch. */
	{"words.urgent", LIST, {0}, 0, 0, FOLDED},
	{"words.urgent_not", LIST, {0}, 0, 0, FOLDED},
};

/* Values that can carry the subject: an appointment kind, a document name,
 * a reason, a place, a family's or counsellor's free text, an alert's
 * details, a contact-log summary, or the last message a family got. */
static const char *const revealing[] = {"what", "document", "reason", "place", "text",
					"detail", "summary", "last"};

size_t keys_count(void)
{
	return CB_ARRAY_SIZE(registry);
}

const struct keys_entry *keys_at(size_t i)
{
	return i < CB_ARRAY_SIZE(registry) ? &registry[i] : NULL;
}

int keys_find(const char *key)
{
	if (key == NULL)
		return -CB_ENOENT;
	for (size_t i = 0; i < CB_ARRAY_SIZE(registry); i++) {
		if (strcmp(registry[i].key, key) == 0)
			return (int)i;
	}
	return -CB_ENOENT;
}

static int name_is(const char *want, const char *name, size_t len)
{
	return strncmp(want, name, len) == 0 && want[len] == '\0';
}

int keys_param(const struct keys_entry *e, const char *name, size_t len)
{
	if (e == NULL || name == NULL)
		return -CB_ENOENT;
	for (int i = 0; i < KEYS_MAX_PARAMS && e->params[i] != NULL; i++) {
		if (name_is(e->params[i], name, len))
			return i;
	}
	return -CB_ENOENT;
}

int keys_family_facing(const struct keys_entry *e)
{
	/* Every staff text is named staff.*; the other texts that open a
	 * message are read by families. */
	return e != NULL && e->kind == KEYS_TEXT && (e->flags & KEYS_OPENS) && strncmp(e->key, "staff.", 6) != 0;
}

int keys_param_reveals(const char *name, size_t len)
{
	if (name == NULL)
		return 0;
	for (size_t i = 0; i < CB_ARRAY_SIZE(revealing); i++) {
		if (name_is(revealing[i], name, len))
			return 1;
	}
	return 0;
}
