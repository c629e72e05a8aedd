/* What every handler works with, and the operations staff start from the
 * CLI (and later from their phone): both call these, so the rules live in
 * one place. Each operation runs inside the caller's transaction. */
#ifndef CASEBOT_HANDLER_H
#define CASEBOT_HANDLER_H

#include <stdarg.h>
#include <time.h>

#include "bot/config.h"
#include "store/store.h"

struct locales;

struct hctx {
	const struct config *cfg;
	struct store *store;
	const struct locales *loc;
	time_t now;
	const char *actor;      /* "cli:alice", "staff:Sara": who did it, for the audit */
};

/* Appointments: the appointment row, its reminder ladder, and the notice to
 * the family when it is moved or cancelled. */
int appointments_create(struct hctx *h, struct appointment *a);
int appointments_move(struct hctx *h, struct appointment *a, time_t starts_at);
int appointments_cancel(struct hctx *h, struct appointment *a);
/* Reminder times for an appointment at starts_at, written to times[]; steps
 * already past collapse into one reminder now. Returns the count. */
int appointments_reminder_times(const struct config *cfg, time_t now, time_t starts_at,
				time_t *times, int max);

/* Document requests: the request, the message asking for it, and the first
 * reminder while it is missing. */
int documents_request(struct hctx *h, struct doc_request *r);
/* Queues the next reminder of an open request, reminder_every days on,
 * unless one is already waiting. */
int documents_queue_reminder(struct hctx *h, const struct doc_request *r);
/* After-send hooks (the table in handlers/common.c): a document reminder,
 * a reminder, a counsellor's reply went. */
int documents_reminder_sent(struct hctx *h, const struct outbox_msg *m);
int appointments_reminder_sent(struct hctx *h, const struct outbox_msg *m);
int staff_reply_sent(struct hctx *h, const struct outbox_msg *m);
/* After START on channel_id: an open request that never reached the chat
 * is asked again, and its reminders go on (one chain). */
int documents_resume(struct hctx *h, int64_t request_id, int64_t channel_id);

/* Check-in plans: the plan and its next check-in. */
int checkins_set(struct hctx *h, const struct checkin_plan *p, time_t *next);
int checkins_off(struct hctx *h, int64_t family_id);
/* "7d" (1 to 90 days) or "2w" (1 to 12 weeks). */
int checkins_parse_every(const char *s, int *days);
/* "mon 10:00" or "Monday 10:00". */
int checkins_parse_at(const char *s, int *weekday, int *minute);
/* The first local weekday/minute at or after now (weekday 1 = Monday). */
time_t checkins_next(time_t now, int weekday, int minute_of_day);

/* An inbound message from a known family chat, as the handlers see it. */
struct inbound_event;
struct family_msg {
	const struct inbound_event *ev;
	struct channel channel;
	struct family family;
	struct member member;      /* id 0 when the chat is the family's, not a member's */
	enum lang lang;            /* the member's own language, else the family's */
};

/* What the router tells the daemon to send straight away, outside the
 * outbox: the neutral answer to a chat casebot does not know. Nothing about
 * an unknown sender is stored. */
#define HANDLER_DIRECT_MAX 1024
struct handler_direct {
	int send;
	char text[HANDLER_DIRECT_MAX];
};

/* Queues a reply on the chat the message came from. Replies are not held
 * by quiet hours: the family has just written. params is a JSON object of
 * placeholder values, or NULL. */
int handler_reply(struct hctx *h, const struct family_msg *fm, const char *kind,
		  const char *key, const char *params);
/* The language a family's reader reads: the member's own when the member
 * has one, else the family's. The one place that decides it. With mem,
 * the member comes back too (zeroed when there is none). */
enum lang handler_reader_lang(struct store *st, const struct family *f, int64_t member_id, struct member *mem);
/* A known family's event (handlers/family.c): whatever it is, what it
 * asks for is done, logged, forwarded or answered. */
int family_event(struct hctx *h, struct family_msg *fm);
/* Urgent words from a closed file's chat: *urgent set, and handled. */
int family_closed_urgent(struct hctx *h, struct family_msg *fm, int *urgent);
/* Fills fm's family, member and language from a family chat. */
int handler_family_msg(struct hctx *h, const struct channel *ch, struct family_msg *fm);
/* What follows a sent message, in its transaction: the next check-in, the
 * next reminder of a document still missing. */
int handler_after_sent(struct hctx *h, const struct outbox_msg *m);
/* Every ten seconds: unconfirmed appointments, overdue documents, unanswered
 * check-ins alert the counsellor (once each). */
int deadlines_run(struct hctx *h);
int checkins_after_sent(struct hctx *h, const struct outbox_msg *m);
/* Channel fallback (handlers/fallback.c), in the caller's transaction.
 * Row m failed for good on ch (why: blocked, unreachable, carrier_stop): it is offered
 * to the next chat of its reader's order (*offered), or there is none
 * although the reader has other chats (*exhausted: the last one failed).
 * The step goes in the contact log, or, with to, the kind of the chat it
 * went to is written there (or "") for the caller to log it with
 * fallback_note() once it has logged the failure. */
int fallback_failed(struct hctx *h, const struct outbox_msg *m, const struct channel *ch, const char *why,
		    int *offered, int *exhausted, char *to, size_t to_cap);
int fallback_note(struct hctx *h, const struct outbox_msg *m, const char *from, const char *to, const char *why);
/* Row m went on ch: a question of a kind with a fallback time ([fallback])
 * is offered to the next chat for then, in case it stays unanswered; a
 * copy that waited for that is logged as the step it is. */
int fallback_after_sent(struct hctx *h, const struct outbox_msg *m, const struct channel *ch);
/* Whether a due row still goes: a copy that waited for its question to
 * stay unanswered does not once it is answered. */
int fallback_due(struct hctx *h, const struct outbox_msg *m, int *go);
/* Working seconds ([alerts] working_hours and working_days) between two times. */
long deadlines_working_seconds(const struct config *cfg, time_t from, time_t to);
/* Builds a params object from name, value pairs ending with NULL, as a
 * heap string of any length in *out (NULL on failure); the caller frees it. */
int handler_params(char **out, ...) __attribute__((sentinel));
int handler_vparams(char **out, va_list ap);
/* One row of a family's contact log, what its file shows. */
struct handler_note {
	int64_t family_id;
	time_t at;                   /* 0: h->now */
	const char *direction;       /* "in", "out" or "internal" */
	const char *channel_kind;    /* NULL: no gateway */
	const char *kind;
	int64_t staff_id, member_id; /* 0: none */
	const char *code;            /* a code of locales/note.c, or a catalog key */
	const char *status;          /* NULL, or how a message ended ("sent") */
};
/* Writes n, with the code's values as name, value pairs ending with NULL,
 * in the caller's transaction. The one writer of contact_log: every layer
 * that has something for the family file says it here. */
int handler_note(struct hctx *h, const struct handler_note *n, ...) __attribute__((sentinel));
/* Writes the contact-log row for an inbound message: what happened as a
 * code of locales/note.c and name, value pairs of its values, ending with
 * NULL. No words of the family go in it. */
int handler_log_in(struct hctx *h, const struct family_msg *fm, const char *kind, const char *code, ...)
	__attribute__((sentinel));

/* handlers/staff.c: staff on their phone. */
int staff_handle(struct hctx *h, const struct inbound_event *ev, const struct channel *ch);
/* Whether a staff member may reach a family: a coordinator always; a
 * counsellor their own families, and those they back up while the
 * counsellor is away (1); anyone while an alert of the family passed on to
 * them, or an urgent one sent to them, is open (STAFF_REACH_ALERT). */
#define STAFF_REACH_ALERT 2
int staff_reaches(struct hctx *h, const struct staff *s, const struct family *f);
/* Staff words to the family, as a reply to it: to the linked chat it last
 * wrote from, signed with s's name, logged. -CB_EPERM when s does not
 * reach f, -CB_ENOENT when f has no chat to write to, -CB_ETOOBIG when the
 * words do not fit one message of that chat's gateway. */
int staff_write(struct hctx *h, const struct staff *s, const struct family *f, const char *text);
/* A message to a staff member: kind, catalog key, and name/value pairs for
 * its params, ending with NULL. family_id is the family it is about (0 for
 * none, or for a list of several): the row is erased with that family. */
int staff_notice(struct hctx *h, int64_t staff_id, int64_t family_id, const char *kind, const char *key, ...)
	__attribute__((sentinel));

/* handlers/erase.c: a family erased for good, by casebot family erase and
 * by retention. The audit row (actor h->actor, detail as given) and the
 * rows go in one transaction, then the files, then the database is
 * vacuumed and its log truncated. On failure err says why: -CB_ESTATE
 * when another reader kept the old pages in use (erase_finish, once it
 * has let go, completes the work), -CB_EIO when a file stayed. */
int erase_family(struct hctx *h, const struct family *f, const char *detail, char *err, size_t errlen);
int erase_finish(struct store *st, const char *ref, char *err, size_t errlen);
/* Whether ref's erasure is waiting for erase_finish. */
int erase_unfinished(struct store *st, const char *ref);

/* handlers/retention.c: what is kept, and for how long (see the file).
 * Counts what went. */
struct retention_counts {
	int contacts, messages, alerts, inbound, audit, families;
};
int retention_run(struct hctx *h, struct retention_counts *out);

/* handlers/words.c: folding and matching of what families type. */
int words_fold(const char *in, char *out, size_t cap);
/* The whole message is one item of list key, in any language. */
int words_is(const struct locales *loc, const char *folded, const char *key);

/* handlers/onboarding.c: a chat casebot does not know. */
int onboarding_handle(struct hctx *h, const struct inbound_event *ev, struct handler_direct *direct);
/* A staff chat waiting for its pairing number to be confirmed: only a new
 * code is answered (with a new number); once its time is up, it is a
 * stranger again. */
int onboarding_pending(struct hctx *h, const struct inbound_event *ev, const struct channel *ch,
		       struct handler_direct *direct);
/* handlers/identity.c: the identities a message came with (a WhatsApp
 * number and user id) are learnt for its chat, or, when they change one
 * the chat has (EVENT_IDENTITY: the gateway says so), kept pending and
 * the counsellor alerted. */
int identity_note(struct hctx *h, const struct channel *ch, const struct inbound_event *ev);
/* The answer an unknown chat gets, for a chat whose family file is closed. */
int onboarding_neutral(struct hctx *h, const struct inbound_event *ev, struct handler_direct *direct);
/* handlers/appointments.c: a reminder button or reply word (1 confirm,
 * 2 cannot come, 3 another time). */
int appointments_answer(struct hctx *h, const struct family_msg *fm, int64_t appointment_id, int choice);
/* handlers/documents.c: a file the family sent, already checked by its
 * first bytes (doc->mime) and, when a photo or PDF, encrypted while it was
 * downloaded (doc->path, mac, size): filed with the open request (or the
 * family says which one). Another type was not kept (doc->path ""). */
int documents_receive(struct hctx *h, const struct family_msg *fm, const char *what, const char *media_ref,
		      struct document *doc);
/* Photos and PDF, by their libmagic type. */
int documents_type_accepted(const char *mime);
/* A new random file name for a family's document: relative to data_dir
 * (what the store keeps) and absolute. */
int documents_new_path(const char *data_dir, int64_t family_id, char *rel, size_t relcap, char *abs,
		       size_t abscap);
int documents_attach(struct hctx *h, const struct family_msg *fm, int64_t document_id, int64_t request_id);
/* A file over the gateway's download limit (bytes; size 0 when unknown):
 * logged, the counsellor alerted, the family told the limit. */
int documents_too_big(struct hctx *h, const struct family_msg *fm, const char *what, int64_t size, int64_t limit);
/* Staff decisions on a received document. Reasons: unreadable, incomplete,
 * expired, wrong_document. */
int documents_verify(struct hctx *h, const struct document *doc);
int documents_reject(struct hctx *h, const struct document *doc, const char *reason);
int documents_reason_valid(const char *reason);

/* handlers/checkins.c: a check-in button or reply (1 good ... 4 contact me). */
int checkins_answer(struct hctx *h, const struct family_msg *fm, int64_t outbox_id, int choice);
/* data: the choice's button data ("ci:ID:N"); before: the one that answered
 * the check-in first. -CB_ENOENT when data is no check-in's. */
int checkins_answer_again(struct hctx *h, const struct family_msg *fm, const char *data, const char *before);

/* handlers/questions.c: the last question a chat was asked, and what
 * answers it. questions_asked records a question (a composed message with
 * msg->question set) as the chat's last, once it is sent. */
struct composed;
int questions_asked(struct hctx *h, const struct outbox_msg *m, const struct composed *msg);
/* A button press: it answers what its data names. *handled is 0 for a
 * stale or unknown button. */
int questions_button(struct hctx *h, const struct family_msg *fm, const char *data, int *handled);
/* A bare number, a yes or no, or a choice's own words answer the chat's
 * open question; a number (or yes/no) that answers nothing is not
 * understood and still forwarded. *handled is 0 for any other text. */
struct arrival;
int questions_answer(struct hctx *h, const struct family_msg *fm, const char *folded, const struct arrival *what,
		     int *handled);

/* handlers/details.c: a family message's Details button (outbox row id):
 * that message is shown again with its details, in place where the
 * gateway can edit. -CB_ENOENT for another chat's row, one not sent, or
 * one whose subject has ended (a stale button). */
int details_show(struct hctx *h, const struct family_msg *fm, int64_t outbox_id);

/* handlers/preferences.c: help, language, stop, start as a whole message.
 * *handled says whether the text was one of them. */
int preferences_command(struct hctx *h, const struct family_msg *fm, const char *folded, int *handled);
int preferences_set_language(struct hctx *h, const struct family_msg *fm, const char *code);

/* handlers/urgent.c */
int urgent_is(const struct locales *loc, const char *folded);
int urgent_handle(struct hctx *h, const struct family_msg *fm);

/* handlers/relay.c: what reaches staff. */
struct forward {
	int64_t channel_id;        /* the family chat the words came from */
	int64_t member_id;
	const char *text;          /* the family's words, or NULL */
	const char *media_kind;    /* "photo", "voice"... and its gateway reference, or NULL */
	const char *media_ref;
	time_t edit_of;            /* an edit: when the first version was sent, else 0 */
};
/* An alert row and a message for whoever follows the family now (the
 * counsellor, the backup while the counsellor is away, both when urgent).
 * With fw, the message is a forward of the family's words or file. Its
 * details are a code of locales/note.c and name, value pairs of its values,
 * ending with NULL; they are rendered in each reader's language. */
int handler_alert(struct hctx *h, int64_t family_id, const char *kind, int urgent, const struct forward *fw,
		  const char *code, ...) __attribute__((sentinel));
/* What arrived, never what it says: a code of locales/note.c ("text",
 * "media") and its one value (the byte count, the kind of file). */
struct arrival {
	const char *code;
	const char *name;
	char value[32];
};
void relay_describe(const struct inbound_event *ev, struct arrival *a);
/* The most one message of a family's gateway holds, in that gateway's
 * measure (Telegram counts UTF-16 units), by channel kind; 0 when no limit
 * applies. relay_text_units measures text the same way. */
size_t relay_text_limit(const char *kind);
size_t relay_text_units(const char *kind, const char *text);
/* Anything the bot does not answer goes to the counsellor. */
int relay_forward(struct hctx *h, const struct family_msg *fm);
/* A family's message casebot could not handle (what arrived, NULL when it
 * could not be read; the reason is for the log line): logged,
 * the counsellor alerted with what arrived (and its words, with_words),
 * the backup too when urgent words are in it; the family gets the neutral
 * acknowledgement, or the emergency number. fm->ev may be NULL when the
 * event could not be read. */
int relay_failed(struct hctx *h, const struct family_msg *fm, const struct arrival *what, int with_words);

/* Voice notes on (1) or off (0) for one member of f by name, or for every
 * member (member NULL); *count members changed. -CB_ENOENT for a name the
 * family does not have, -CB_ESTATE for a family without members. */
int voice_setting_set(struct hctx *h, const struct family *f, const char *member, int on, int *count);

#endif
