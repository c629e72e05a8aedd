/* What a family can always ask for: help, another language, stop, start. */
#include <stdio.h>
#include <string.h>

#include "bot/event.h"
#include "handlers/handler.h"

/* After START, what STOP let lapse comes back: the next check-in, and for
 * each document still missing its request (when the chat never got it)
 * and one chain of reminders. */
static int resume(struct hctx *h, const struct family_msg *fm)
{
	struct checkin_plan plan;
	int64_t open[8];
	int n = 0, rc;
	time_t next;

	rc = store_checkin_get(h->store, fm->family.id, &plan);
	if (rc == 0 && plan.active && (rc = checkins_set(h, &plan, &next)) != 0)
		return rc;
	if (rc != 0 && rc != -CB_ENOENT)
		return rc;
	if ((rc = store_docreq_open(h->store, fm->family.id, open, 8, &n)) != 0)
		return rc;
	for (int i = 0; i < n && i < 8; i++)
		if ((rc = documents_resume(h, open[i], fm->channel.id)) != 0)
			return rc;
	return 0;
}

/* Telegram's own start command, with or without an invite code: from a
 * chat already linked it means "start", never a new link. */
static int is_start_command(const struct family_msg *fm)
{
	const char *t = fm->ev->text;

	t += strspn(t, " \t\n");
	return strncmp(t, "/start", 6) == 0 && (t[6] == '\0' || t[6] == ' ' || t[6] == '@' || t[6] == '\n');
}

/* STOP pauses what this chat gets and says exactly what still comes; a
 * chat already stopped is not told, nor are staff alerted, again. */
static int stop(struct hctx *h, const struct family_msg *fm)
{
	int rc;

	if (fm->channel.opted_out)
		return handler_log_in(h, fm, "stop", "stop_again", NULL);
	if ((rc = store_channel_set_opted_out(h->store, fm->channel.id, 1)) != 0 ||
	    (rc = handler_log_in(h, fm, "stop", "stop", NULL)) != 0 ||
	    (rc = handler_alert(h, fm->family.id, "stop", 0, NULL, "stop", NULL)) != 0)
		return rc;
	return handler_reply(h, fm, "stop_ack",
			     h->cfg->reminders_during_stop ? "stop.confirmed" : "stop.confirmed_all", NULL);
}

static int start(struct hctx *h, const struct family_msg *fm)
{
	int rc;

	if (!fm->channel.opted_out) {
		if ((rc = handler_log_in(h, fm, "start", "start_unstopped", NULL)) != 0)
			return rc;
		return handler_reply(h, fm, "start_ack", "start.not_stopped", NULL);
	}
	if ((rc = store_channel_set_opted_out(h->store, fm->channel.id, 0)) != 0 ||
	    (rc = handler_log_in(h, fm, "start", "start", NULL)) != 0 ||
	    (rc = handler_alert(h, fm->family.id, "start", 0, NULL, "start", NULL)) != 0 ||
	    (rc = resume(h, fm)) != 0)
		return rc;
	return handler_reply(h, fm, "start_ack", "start.confirmed", NULL);
}

int preferences_command(struct hctx *h, const struct family_msg *fm, const char *folded, int *handled)
{
	int rc;

	*handled = 1;
	if (words_is(h->loc, folded, "words.help")) {
		if ((rc = handler_log_in(h, fm, "help", "help", NULL)) != 0)
			return rc;
		return handler_reply(h, fm, "help", "help.menu", NULL);
	}
	if (words_is(h->loc, folded, "words.language")) {
		if ((rc = handler_log_in(h, fm, "language", "language_asked", NULL)) != 0)
			return rc;
		return handler_reply(h, fm, "language_choose", "language.choose", NULL);
	}
	if (words_is(h->loc, folded, "words.stop"))
		return stop(h, fm);
	if (words_is(h->loc, folded, "words.start") || is_start_command(fm))
		return start(h, fm);
	*handled = 0;
	return 0;
}

int preferences_set_language(struct hctx *h, const struct family_msg *fm, const char *code)
{
	enum lang l;
	int rc;

	if (lang_parse(code, &l) != 0)
		return -CB_EINVAL;
	/* A member with a chat of their own chooses for themselves; a family
	 * chat chooses for the family. Queued messages follow: they are
	 * rendered when sent. */
	if (fm->member.id != 0)
		rc = store_member_set_lang(h->store, fm->member.id, l);
	else
		rc = store_family_set_lang(h->store, fm->family.id, l);
	if (rc != 0)
		return rc;
	if ((rc = handler_log_in(h, fm, "language", "language_changed", "language", lang_code(l), NULL)) != 0)
		return rc;
	return handler_reply(h, fm, "language_changed", "language.changed", NULL);
}
