/* Channel fallback: a message a chat cannot take for good is offered to
 * its reader's next chat, and a question still unanswered some time after
 * it went is offered there too. Down the order only, never back up, one
 * copy per chat at most (the store's unique index). Each step is a note in
 * the family's contact log. Gateway-neutral: the outbox calls it for a
 * send refused at once, a gateway for a failure it hears of later. */
#include <string.h>

#include "handlers/handler.h"

/* Details name a message on their own chat; anything for staff has no
 * member's order to go down. */
static int offered_kind(const struct outbox_msg *m)
{
	if (m->family_id == 0 || strcmp(m->kind, "details") == 0)
		return 0;
	return m->staff_id == 0 || strcmp(m->kind, "relay_reply") == 0;
}

static int note(struct hctx *h, const struct outbox_msg *m, const char *from, const char *to, const char *why)
{
	const struct handler_note n = {.family_id = m->family_id, .direction = "internal", .channel_kind = to,
				       .kind = m->kind, .member_id = m->member_id, .code = "fallback"};

	return handler_note(h, &n, "what", m->catalog_key, "from", from, "to", to, "why", why, NULL);
}

int fallback_note(struct hctx *h, const struct outbox_msg *m, const char *from, const char *to, const char *why)
{
	return note(h, m, from, to, why);
}

int fallback_failed(struct hctx *h, const struct outbox_msg *m, const struct channel *ch, const char *why,
		    int *offered, int *exhausted, char *to, size_t to_cap)
{
	struct channel next;
	int created, others, rc;

	*offered = *exhausted = 0;
	if (to != NULL && to_cap > 0)
		to[0] = '\0';
	if (!offered_kind(m) || ch->member_id == 0)
		return 0;
	rc = store_channel_next(h->store, ch->id, &next);
	if (rc == -CB_ENOENT) {
		if ((rc = store_channel_siblings(h->store, ch->id, &others)) != 0)
			return rc;
		*exhausted = others > 0;
		return 0;
	}
	if (rc != 0)
		return rc;
	if ((rc = store_outbox_offer(h->store, m->id, next.id, h->now, why, h->now, &created)) != 0)
		return rc;
	*offered = 1;
	if (!created)
		return 0;
	if (to != NULL)
		return cb_strlcpy(to, next.kind, to_cap);
	return note(h, m, ch->kind, next.kind, why);
}

/* Whether the question a row asks is still open: the appointment not
 * answered, the check-in not answered since since. */
static int still_open(struct hctx *h, const struct outbox_msg *m, time_t since, int *open)
{
	struct appointment a;
	int answered, rc;

	*open = 0;
	if (strcmp(m->kind, "reminder") == 0) {
		if ((rc = store_appointment_get(h->store, m->appointment_id, &a)) != 0)
			return rc == -CB_ENOENT ? 0 : rc;
		*open = strcmp(a.status, "scheduled") == 0 && a.answered_at == 0 && a.starts_at > h->now;
		return 0;
	}
	if (strcmp(m->kind, "checkin") == 0) {
		if ((rc = store_checkin_answered_since(h->store, m->family_id, since, &answered)) != 0)
			return rc;
		*open = !answered;
	}
	return 0;
}

static int after_seconds(const struct config *cfg, const char *kind)
{
	if (strcmp(kind, "reminder") == 0)
		return cfg->fallback_reminder_seconds;
	if (strcmp(kind, "checkin") == 0)
		return cfg->fallback_checkin_seconds;
	return 0;
}

int fallback_after_sent(struct hctx *h, const struct outbox_msg *m, const struct channel *ch)
{
	struct outbox_fallback fb;
	struct appointment a;
	struct channel next;
	time_t at;
	int secs = after_seconds(h->cfg, m->kind), open, created, rc;

	if (!offered_kind(m))
		return 0;
	/* A copy that waited for the question to stay open: that is the step. */
	rc = store_outbox_fallback_get(h->store, m->id, &fb);
	if (rc == 0 && strcmp(fb.why, "unconfirmed") == 0) {
		struct channel from;

		if ((rc = store_channel_get(h->store, fb.from_channel, &from)) != 0 && rc != -CB_ENOENT)
			return rc;
		if ((rc = note(h, m, rc == 0 ? from.kind : "", ch->kind, "unconfirmed")) != 0)
			return rc;
	} else if (rc != 0 && rc != -CB_ENOENT) {
		return rc;
	}
	rc = 0;
	if (secs <= 0 || ch->member_id == 0 || (rc = still_open(h, m, h->now, &open)) != 0 || !open)
		return rc;
	rc = store_channel_next(h->store, ch->id, &next);
	if (rc != 0)
		return rc == -CB_ENOENT ? 0 : rc;
	at = h->now + secs;
	/* Halfway to the appointment when that comes sooner: the copy must
	 * have time to be read and answered. */
	if (strcmp(m->kind, "reminder") == 0 && store_appointment_get(h->store, m->appointment_id, &a) == 0 &&
	    a.starts_at - h->now < 2 * (time_t)secs)
		at = h->now + (a.starts_at - h->now) / 2;
	return store_outbox_offer(h->store, m->id, next.id, at, "unconfirmed", h->now, &created);
}

int fallback_due(struct hctx *h, const struct outbox_msg *m, int *go)
{
	struct outbox_fallback fb;
	int rc;

	*go = 1;
	if (strcmp(m->kind, "reminder") != 0 && strcmp(m->kind, "checkin") != 0)
		return 0;
	rc = store_outbox_fallback_get(h->store, m->id, &fb);
	if (rc != 0 || strcmp(fb.why, "unconfirmed") != 0)
		return rc == -CB_ENOENT ? 0 : rc;
	return still_open(h, m, fb.offered_at, go);
}
