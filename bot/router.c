#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/event_json.h"
#include "bot/log.h"
#include "bot/router.h"

/* An answer sent straight to a chat casebot does not know: it goes once
 * the batch it answers is committed. */
struct direct_answer {
	char channel[16];
	char sender[EVENT_ID_MAX];
	char text[HANDLER_DIRECT_MAX];
};

struct run_ctx {
	struct hctx *h;
	router_direct_cb direct_cb;
	void *arg;
	int share;                   /* the run's events share transactions */
	int batched;                 /* a shared transaction is open */
	int in_tx;                   /* events routed in it */
	struct direct_answer *directs;
	int ndirects, capdirects;
	struct router_stats stats;
	struct inbound_event ev;     /* large: lives in the heap-allocated context */
	char redacted[1024];         /* no text: a few short fields */
};

/* The message's own time, which a gateway's retry does not change (never
 * later than now). */
static time_t written_at(const struct run_ctx *c)
{
	return c->ev.at > 0 && c->ev.at < c->h->now ? c->ev.at : c->h->now;
}

static int route_one(struct run_ctx *c, struct handler_direct *direct)
{
	struct hctx *h = c->h;
	struct family_msg fm;
	int rc;

	memset(&fm, 0, sizeof(fm));
	fm.ev = &c->ev;
	rc = store_channel_find(h->store, c->ev.channel, c->ev.sender, &fm.channel);
	if (rc == -CB_ENOENT && c->ev.sender_alt[0] != '\0' && c->ev.kind != EVENT_IDENTITY)
		rc = store_channel_find(h->store, c->ev.channel, c->ev.sender_alt, &fm.channel);
	if (rc == -CB_ENOENT) {
		if (c->ev.kind == EVENT_IDENTITY)
			return 0;
		if ((rc = onboarding_handle(h, &c->ev, direct)) != 0)
			return rc;
		/* A chat its code just linked: its code opens its conversation
		 * window, and it learns its other identity. */
		rc = store_channel_find(h->store, c->ev.channel, c->ev.sender, &fm.channel);
		if (rc == -CB_ENOENT)
			return 0;
		if (rc != 0 || (rc = identity_note(h, &fm.channel, &c->ev)) != 0)
			return rc;
		return store_channel_touch(h->store, fm.channel.id, written_at(c));
	}
	if (rc != 0)
		return rc;
	if ((rc = identity_note(h, &fm.channel, &c->ev)) != 0 || c->ev.kind == EVENT_IDENTITY)
		return rc;
	if ((rc = store_channel_touch(h->store, fm.channel.id, written_at(c))) != 0)
		return rc;
	if (fm.channel.staff_id != 0 && !fm.channel.verified)
		return onboarding_pending(h, &c->ev, &fm.channel, direct);
	if (fm.channel.staff_id != 0)
		return staff_handle(h, &c->ev, &fm.channel);
	if ((rc = handler_family_msg(h, &fm.channel, &fm)) != 0)
		return rc;
	fm.ev = &c->ev;
	/* A closed file's chat learns nothing from silence: it gets what a
	 * stranger gets, unless it is urgent. */
	if (strcmp(fm.family.status, "closed") == 0) {
		int urgent = 0;

		if ((rc = family_closed_urgent(h, &fm, &urgent)) != 0 || urgent)
			return rc;
		return onboarding_neutral(h, &c->ev, direct);
	}
	return family_event(h, &fm);
}

/* Who should hear that an event could not be handled: the staff member
 * who wrote it, or the family's counsellor (words included when
 * with_words). Nobody for a chat casebot does not know. */
static int tell_failure(struct run_ctx *c, const struct inbound_row *row, int parsed, int with_words)
{
	struct hctx *h = c->h;
	struct family_msg fm;
	struct arrival what;
	int rc;

	memset(&fm, 0, sizeof(fm));
	rc = store_channel_find(h->store, row->channel, row->sender, &fm.channel);
	if (rc == -CB_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (fm.channel.staff_id != 0)
		return fm.channel.verified ? staff_notice(h, fm.channel.staff_id, 0, "staff_notice", "staff.inbound_failed",
							  NULL)
					   : 0;
	if ((rc = handler_family_msg(h, &fm.channel, &fm)) != 0)
		return rc;
	if (parsed) {
		fm.ev = &c->ev;
		relay_describe(&c->ev, &what);
	}
	return relay_failed(h, &fm, parsed ? &what : NULL, with_words);
}

/* An event tried for the last time: marked failed, and told, with its
 * words if that works, else without, else not at all (the log says so). */
static int give_up(struct run_ctx *c, const struct inbound_row *row, int parsed, int redacted)
{
	struct hctx *h = c->h;
	int rc;

	for (int with_words = parsed; with_words >= 0; with_words--) {
		if ((rc = store_begin(h->store)) != 0)
			break;
		rc = tell_failure(c, row, parsed, with_words);
		if (rc == 0)
			rc = store_inbound_done(h->store, row->id, "failed", redacted ? c->redacted : "{}", h->now);
		if (rc == 0 && (rc = store_commit(h->store)) == 0)
			return 0;
		store_rollback(h->store);
	}
	log_error("inbound #%" PRId64 ": nobody could be told it failed: %s", row->id, casebot_strerror(rc));
	return store_inbound_done(h->store, row->id, "failed", "{}", h->now);
}

/* Events share a transaction ROUTER_TX_EVENTS at a time: one commit for
 * that many, and between two of them another connection (the CLI) gets
 * the write lock without waiting for a whole batch. */
#define ROUTER_TX_EVENTS 4

static void send_directs(struct run_ctx *c)
{
	for (int i = 0; i < c->ndirects; i++)
		c->direct_cb(c->directs[i].channel, c->directs[i].sender, c->directs[i].text, c->arg);
	c->ndirects = 0;
}

/* Commits the shared transaction; a commit that fails keeps nothing of
 * it: its events are still new and are routed again, nobody was answered
 * yet. */
static int end_shared(struct run_ctx *c)
{
	struct hctx *h = c->h;

	c->batched = 0;
	c->in_tx = 0;
	if (store_commit(h->store) != 0) {
		store_rollback(h->store);
		c->ndirects = 0;
		memset(&c->stats, 0, sizeof(c->stats));
		return -CB_ESTORE;
	}
	send_directs(c);
	return 0;
}

static int route_row(const void *rec, void *arg)
{
	const struct inbound_row *row = rec;
	struct run_ctx *c = arg;
	struct hctx *h = c->h;
	struct handler_direct direct;
	int rc, parsed, redacted = 0;

	memset(&direct, 0, sizeof(direct));
	/* Without the write lock now, each event waits for it on its own. */
	if (c->share && !c->batched && !(c->batched = store_begin(h->store) == 0))
		c->share = 0;
	rc = event_from_json(row->event, row->channel, row->external_id, row->sender, &c->ev);
	parsed = rc == 0;
	if (rc == 0)
		redacted = (rc = event_to_json(&c->ev, 1, c->redacted, sizeof(c->redacted))) == 0;
	if (rc == 0 && (rc = store_begin(h->store)) == 0) {
		rc = route_one(c, &direct);
		if (rc == 0)
			rc = store_inbound_done(h->store, row->id, "handled", c->redacted, h->now);
		if (rc == 0)
			rc = store_commit(h->store);
		if (rc != 0)
			store_rollback(h->store);
	}
	if (rc != 0) {
		/* One bad event fails alone; the queue goes on. It is tried
		 * again a few times (a busy database, a passing fault), unless it
		 * cannot even be read. */
		log_warn("inbound #%" PRId64 " (%s) failed, attempt %d of %d: %s", row->id, row->channel,
			 row->attempts + 1, ROUTER_ATTEMPTS, casebot_strerror(rc));
		if (parsed && row->attempts + 1 < ROUTER_ATTEMPTS) {
			c->stats.retried++;
			return store_inbound_retry(h->store, row->id, h->now + ROUTER_RETRY_AFTER) == 0 ? 0 : -CB_ESTORE;
		}
		c->stats.failed++;
		return give_up(c, row, parsed, redacted) == 0 ? 0 : -CB_ESTORE;
	}
	c->stats.handled++;
	if (direct.send && c->direct_cb != NULL && !c->batched)
		c->direct_cb(row->channel, row->sender, direct.text, c->arg);
	else if (direct.send && c->direct_cb != NULL) {
		struct direct_answer *a;

		if (c->ndirects == c->capdirects) {
			int cap = c->capdirects != 0 ? c->capdirects * 2 : 4;

			if ((a = realloc(c->directs, (size_t)cap * sizeof(*a))) == NULL)
				return -CB_ENOMEM;
			c->directs = a;
			c->capdirects = cap;
		}
		a = &c->directs[c->ndirects++];
		cb_strlcpy(a->channel, row->channel, sizeof(a->channel));
		cb_strlcpy(a->sender, row->sender, sizeof(a->sender));
		cb_strlcpy(a->text, direct.text, sizeof(a->text));
	}
	if (c->batched && ++c->in_tx >= ROUTER_TX_EVENTS) {
		/* The next events go in a transaction of their own, which
		 * waits for the lock if someone else has taken it meanwhile;
		 * the processor is offered first, so that a writer waiting
		 * for the lock gets it now rather than after the batch. */
		if ((rc = end_shared(c)) != 0)
			return rc;
		sched_yield();
	}
	return 0;
}

int router_run(struct hctx *h, int limit, router_direct_cb direct_cb, void *arg, struct router_stats *stats)
{
	struct run_ctx *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return -CB_ENOMEM;
	c->h = h;
	c->direct_cb = direct_cb;
	c->arg = arg;
	/* Events are routed ROUTER_TX_EVENTS to a transaction, each in a
	 * savepoint of it: one bad event still fails alone, and they cost one
	 * commit instead of one each. */
	c->share = 1;
	rc = store_inbound_each_new(h->store, h->now, limit, route_row, c);
	if (c->batched && end_shared(c) != 0 && rc == 0)
		rc = -CB_ESTORE;
	if (rc == 0)
		rc = c->stats.handled + c->stats.retried + c->stats.failed;
	if (stats != NULL)
		*stats = c->stats;
	free(c->directs);
	free(c);
	return rc;
}
