/* The outbox dispatcher: every outbound message is a row first. Due rows are
 * sent within the gateway's limits; the attempt is recorded before the HTTP
 * call; the outcome moves the row forward (sent) or back to the queue with a
 * backoff, or ends it (failed, expired, cancelled). */
#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/calendar.h"
#include "bot/clock.h"
#include "bot/compose.h"
#include "bot/config.h"
#include "bot/gateways/gateway.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/outbox.h"
#include "bot/ratelimit.h"
#include "bot/scheduler.h"
#include "handlers/handler.h"
#include "store/store.h"
#include "bot/voice.h"

#define OUTBOX_BATCH 64
#define OUTBOX_MAX_INFLIGHT 16
/* A message nobody set a shorter life for is worth trying for a day. */
#define OUTBOX_GIVE_UP_AFTER (24 * 60 * 60)
#define OUTBOX_ALERT_TTL (7 * 24 * 60 * 60)
/* A row held by something that ends by itself (a failing store, every
 * chat slot busy) is looked at again after this long. */
#define OUTBOX_RETRY_MS 1000
/* How long a message to staff waits for their chat's conversation window
 * (a counsellor between two home visits), once the nudge went, before
 * they hear of it on another channel. */
#define OUTBOX_WINDOW_WAIT (2 * 60 * 60)

struct job {
	struct outbox *ob;
	struct outbox_msg m;         /* owns its params */
	struct channel ch;
	struct composed msg;
	size_t offset;               /* bytes of msg.text already sent */
	size_t next_offset;          /* where the part in flight ends */
	int media_sent;              /* a forwarded file went after the text */
	char text_message_id[GATEWAY_ID_MAX];
	char edit_id[GATEWAY_ID_MAX];   /* Details: the gateway's id of the message shown again */
	struct limits *lim;          /* its gateway and that gateway's buckets */
	struct chat_slot *slot;
	enum lang lang;              /* its reader's */
	uv_timer_t timer;            /* spaces the parts of a long message */
	char sent_id[GATEWAY_ID_MAX];   /* sent: the gateway's id, recorded at the next turn */
	int prepaid;                 /* the first part's tokens were taken when it was claimed */
	int voice_tried;             /* a voice note was considered after the text */
	struct voice_job *voice;     /* its synthesis, while it runs */
	struct voice_text spoken;    /* what it says */
	struct store_audio audio;    /* the note, waiting for the chat's next token */
	struct job *next;
	struct job *next_turn;       /* on the sent or the starting list */
};

/* Each gateway sends within its own limits: what one gateway allows is
 * never used up by another. */
struct limits {
	struct gateway *gw;
	struct bucket global;
	struct chat_limits chats;
};

struct outbox {
	/* What the daemon gave it: the loop, settings, store, catalogs and
	 * metrics. The gateways are its limits' (lim[i]->gw). */
	const struct gateway_env *env;
	uv_timer_t timer;            /* the scheduler's one timer */
	struct limits *lim[GATEWAY_MAX];
	int nlim;
	struct job *jobs;
	int inflight;
	int stopped;
	int dirty;                   /* rows may have changed: scan at the next tick */
	/* The timer sleeps until the next row falls due after scanned_to (the
	 * last look at the due rows saw every one due then), the next expiry,
	 * or a limit letting go. A CLI write wakes it through the wake socket;
	 * a row the daemon makes due itself is marked by the store
	 * (store_outbox_changed). */
	time_t scanned_to;
	time_t next_due;             /* earliest queued row after scanned_to, 0 when none */
	time_t next_expiry;          /* earliest expiry of a queued row, 0 when none */
	int stuck;                   /* the pass held a row that nothing will wake */
	/* A pass walks the due rows once, in the order of the outbox_queue
	 * index, a batch at a time: sends go on from the cursor as jobs end,
	 * and a new pass starts from the top once this one has seen every due
	 * row, or when the queue changed under it. Nothing is sorted. Each
	 * row of the batch owns its params until the next batch. */
	struct outbox_cursor cur;    /* the last row the pass is done with */
	struct outbox_msg due[OUTBOX_BATCH];
	int ndue, next;
	int in_pass;                 /* a pass is under way */
	int held_rows;               /* rows the pass left queued (a chat busy or held) */
	int seen_rows;               /* rows the pass read */
	/* The chats the pass left a row queued for: their later rows wait for
	 * the next pass, so that a chat's messages go in their order. */
	int64_t *held;
	size_t held_cap, held_n;
	/* A turn of the outbox (one tick) records the sends that came back
	 * since the last and claims the rows it sends next in one
	 * transaction; the claimed sends start once it is committed. */
	struct job *sent_head, **sent_tail;
	struct job *start_head, **start_tail;
	struct voice_queue *voice;   /* voice notes are made off the loop, one at a time */
};

/* What dispatch() did with a row. */
enum { DISPATCH_DONE, DISPATCH_STOP, DISPATCH_HELD };

static void send_part(struct job *j);

static uint64_t now_ms(struct outbox *ob)
{
	uv_update_time(ob->env->loop);
	return uv_now(ob->env->loop);
}

static struct limits *limits_for(struct outbox *ob, const char *kind)
{
	for (int i = 0; i < ob->nlim; i++)
		if (strcmp(kind, ob->lim[i]->gw->ops->name) == 0)
			return ob->lim[i];
	return NULL;
}

static int is_reply(const struct outbox_msg *m)
{
	return strcmp(m->kind, "relay_reply") == 0;
}

/* Tells staff that a message did not go: a counsellor's reply comes back
 * to that counsellor with the reason; anything else for a family is an
 * alert. Nothing is said about a message to staff that did not go. */
static int tell_staff(struct outbox *ob, const struct outbox_msg *m, const char *reason)
{
	struct family f;
	struct hctx h;

	gateway_hctx(ob->env, &h);
	if (m->family_id == 0 || store_family_get_id(ob->env->store, m->family_id, &f) != 0)
		return 0;
	if (is_reply(m) && m->staff_id != 0)
		return staff_notice(&h, m->staff_id, m->family_id, "staff_reply_failed", "staff.reply_failed",
				    "ref", f.ref, "reason", reason, NULL);
	if (m->staff_id != 0)
		return 0;
	return handler_alert(&h, f.id, "undelivered", 0, NULL, "undelivered", "what", m->catalog_key, "reason", reason,
			     NULL);
}

static struct limits *limits_for(struct outbox *ob, const char *kind);

/* Who hears that a message was given up, when its own gateway is the one
 * that failed: a verified chat on any other running gateway (email
 * included) of the first of these who has one. */
struct elsewhere {
	struct outbox *ob;
	const char *failed;          /* the gateway that failed */
	struct channel ch;
	int found;
};

static int other_channel(const void *rec, void *arg)
{
	const struct channel *c = rec;
	struct elsewhere *e = arg;

	if (e->found || !c->verified || c->blocked || strcmp(c->kind, e->failed) == 0 ||
	    limits_for(e->ob, c->kind) == NULL)
		return 0;
	e->ch = *c;
	e->found = 1;
	return 0;
}

static int staff_elsewhere(struct elsewhere *e, int64_t staff_id)
{
	struct staff s;

	if (e->found || staff_id == 0 || store_staff_get_id(e->ob->env->store, staff_id, &s) != 0 || !s.active)
		return 0;
	return store_channel_each_staff(e->ob->env->store, staff_id, other_channel, e);
}

static int coordinator_elsewhere(const void *rec, void *arg)
{
	const struct staff *s = rec;
	struct elsewhere *e = arg;

	if (e->found || s->role != ROLE_COORDINATOR)
		return 0;
	return staff_elsewhere(e, s->id);
}

/* An alert about a message given up, on another gateway than the one that
 * failed: that gateway may be down for everybody. Returns 1 when it is
 * queued, 0 when nobody can be reached another way. A given-up alert of
 * this kind raises no other, or two gateways could pass one back and
 * forth for ever. */
static int alert_elsewhere(struct outbox *ob, const struct outbox_msg *m, const char *failed, const char *why,
			   const char *reason)
{
	struct store *st = ob->env->store;
	struct elsewhere e = {ob, failed, {0}, 0};
	struct outbox_msg a;
	struct family f;
	char *details = NULL, *params = NULL, alert_s[24];
	int64_t alert_id;
	time_t now = time(NULL);
	int rc;

	if (m->family_id == 0 || store_family_get_id(st, m->family_id, &f) != 0)
		return 0;
	if (strcmp(m->kind, "alert") == 0 && m->params != NULL && strstr(m->params, "\"kind\":\"undelivered\"") != NULL)
		return 0;
	if ((rc = staff_elsewhere(&e, m->staff_id)) != 0 || (rc = staff_elsewhere(&e, f.counsellor_id)) != 0 ||
	    (rc = staff_elsewhere(&e, f.backup_id)) != 0 ||
	    (!e.found && (rc = store_staff_each(st, coordinator_elsewhere, &e)) != 0))
		return rc;
	if (!e.found)
		return 0;
	if ((rc = handler_params(&details, "what", m->catalog_key, "reason", reason, NULL)) != 0 ||
	    (rc = store_alert_add(st, f.id, e.ch.staff_id, "undelivered", m->urgent, "undelivered", details, now, 0,
				  &alert_id)) != 0)
		goto out;
	snprintf(alert_s, sizeof(alert_s), "%lld", (long long)alert_id);
	if ((rc = handler_params(&params, "alert_id", alert_s, "ref", f.ref, "kind", "undelivered", NULL)) != 0)
		goto out;
	memset(&a, 0, sizeof(a));
	a.family_id = f.id;
	a.staff_id = e.ch.staff_id;
	a.channel_id = e.ch.id;
	a.urgent = m->urgent;
	a.not_before = now;
	a.expires_at = now + OUTBOX_ALERT_TTL;
	a.params = params;
	cb_strlcpy(a.kind, "alert", sizeof(a.kind));
	cb_strlcpy(a.catalog_key, "staff.alert", sizeof(a.catalog_key));
	if ((rc = store_outbox_add(st, &a, now)) == 0)
		log_warn("outbox #%" PRId64 " given up (%s): staff %" PRId64 " alerted by %s", m->id, why,
			 e.ch.staff_id, e.ch.kind);
out:
	free(details);
	free(params);
	return rc == 0 ? 1 : rc;
}

/* A row that failed for good on its chat (blocked, unreachable, opted
 * out at the carrier) is
 * offered to its reader's next chat, before it ends (it still has its
 * words then): nobody needs to be told of that failure, the contact log
 * has the step. When the last chat of the reader's order failed too, the
 * counsellor hears that none could take it. */
struct step {
	char from[16], to[16];      /* the chats' kinds; to is "" when nothing was offered */
	const char *why;
};

static int offer_next(struct outbox *ob, const struct outbox_msg *m, const char *status, const char **reason,
		      struct step *step)
{
	struct channel ch;
	struct hctx h;
	int offered, exhausted, rc;

	memset(step, 0, sizeof(*step));
	if (strcmp(status, "failed") != 0 || *reason == NULL ||
	    (strcmp(*reason, "blocked") != 0 && strcmp(*reason, "unreachable") != 0 &&
	     strcmp(*reason, "carrier_stop") != 0) || m->channel_id == 0)
		return 0;
	if ((rc = store_channel_get(ob->env->store, m->channel_id, &ch)) != 0)
		return rc == -CB_ENOENT ? 0 : rc;
	gateway_hctx(ob->env, &h);
	cb_strlcpy(step->from, ch.kind, sizeof(step->from));
	step->why = *reason;
	if ((rc = fallback_failed(&h, m, &ch, *reason, &offered, &exhausted, step->to, sizeof(step->to))) != 0)
		return rc;
	if (offered) {
		log_info("outbox #%" PRId64 " offered to the next chat of its reader", m->id);
		*reason = NULL;
	} else if (exhausted) {
		*reason = "channels";
	}
	return 0;
}

/* ---- staff chats outside their conversation window -------------------------
 *
 * A gateway with a window (WhatsApp) takes only approved templates once a
 * chat has been silent for that long, and no template may carry what staff
 * are sent (a family's words, its name). So a message to staff waits,
 * held, while one neutral template in their language asks them to write:
 * their answer opens the window and brings everything held at once (a
 * trigger on the chat's last_inbound_at). If the template fails too, or
 * nothing opens the window within OUTBOX_WINDOW_WAIT, they (or a
 * coordinator) are alerted on another channel; the message still waits
 * for the window until its own expiry. */

static int is_nudge(const struct outbox_msg *m)
{
	return strcmp(m->kind, "window_nudge") == 0;
}

static int window_closed(const struct gateway *gw, const struct channel *ch, time_t now)
{
	return gw->caps.window_seconds > 0 &&
	       (ch->last_inbound_at == 0 || now - ch->last_inbound_at >= gw->caps.window_seconds);
}

static time_t window_wait(void)
{
	int t = clock_test_window_wait();

	return t > 0 ? t : OUTBOX_WINDOW_WAIT;
}

/* Staff hear of a held message on another channel; 1 when somebody can be
 * reached there. */
static int window_alert(struct outbox *ob, const struct outbox_msg *m, const char *kind)
{
	int rc = alert_elsewhere(ob, m, kind, "held for the window", "staff_window");

	if (rc == 0)
		log_warn("outbox #%" PRId64 ": held for the %s window, and nobody can be told on another channel",
			 m->id, kind);
	return rc;
}

/* Holds m (queued or being sent) for ch's window; in its own transaction.
 * The nudge goes once per silence of the chat. */
static int window_hold(struct outbox *ob, const struct outbox_msg *m, const struct channel *ch, const char *why)
{
	struct store *st = ob->env->store;
	struct outbox_msg n;
	time_t now = time(NULL), held_at, until;
	int alerted, nudge, tell = 0, rc;

	if (store_begin(st) != 0)
		return -CB_ESTORE;
	rc = store_outbox_window_hold(st, m->id, now, &held_at, &alerted);
	if (rc == 0)
		rc = store_outbox_window_nudge(st, ch->id, ch->last_inbound_at, &nudge);
	if (rc == 0 && nudge == STORE_NUDGE_NONE) {
		memset(&n, 0, sizeof(n));
		n.staff_id = ch->staff_id;
		n.channel_id = ch->id;
		n.urgent = m->urgent;
		n.not_before = now;
		n.expires_at = now + OUTBOX_GIVE_UP_AFTER;
		n.params = "{}";
		cb_strlcpy(n.kind, "window_nudge", sizeof(n.kind));
		cb_strlcpy(n.catalog_key, "staff.window_waiting", sizeof(n.catalog_key));
		rc = store_outbox_add(st, &n, now);
		if (rc == 0)
			log_info("outbox #%" PRId64 ": held for the %s window; nudge #%" PRId64 " asks the chat to write",
				 m->id, ch->kind, n.id);
	}
	/* Told once: when the nudge failed, when nothing opened the window in
	 * time, or just before the message would expire unseen. */
	if (!alerted && (nudge == STORE_NUDGE_FAILED || now >= held_at + window_wait() ||
			 (m->expires_at != 0 && now >= m->expires_at - 60)))
		tell = 1;
	if (rc == 0 && tell && (rc = window_alert(ob, m, ch->kind)) > 0)
		rc = 0;
	if (alerted || tell)
		until = m->expires_at != 0 ? m->expires_at : now + OUTBOX_GIVE_UP_AFTER;
	else
		until = held_at + window_wait();
	if (!alerted && !tell && m->expires_at != 0 && until > m->expires_at - 60)
		until = m->expires_at - 60 > now ? m->expires_at - 60 : now + 1;
	if (rc == 0)
		rc = store_outbox_window_wait(st, m->id, until, tell, why, now);
	if (rc == 0)
		rc = store_commit(st);
	if (rc != 0)
		store_rollback(st);
	return rc;
}

struct held {
	struct outbox *ob;
	int64_t ids[64];
	struct outbox_msg rows[64];
	int n;
};

static int keep_held(const void *rec, void *arg)
{
	struct held *h = arg;

	if (h->n == (int)CB_ARRAY_SIZE(h->rows))
		return 0;
	return store_outbox_msg_copy(&h->rows[h->n++], rec);
}

/* The nudge did not go (its template refused, the chat unreachable):
 * everything held for that chat is told about on another channel now, in
 * the caller's transaction. */
static int nudge_failed(struct outbox *ob, const struct outbox_msg *m)
{
	struct held h = {ob, {0}, {{0}}, 0};
	struct channel ch;
	time_t now = time(NULL);
	int rc;

	if (m->channel_id == 0 || store_channel_get(ob->env->store, m->channel_id, &ch) != 0)
		return 0;
	rc = store_outbox_each_window_held(ob->env->store, m->channel_id, keep_held, &h);
	for (int i = 0; i < h.n; i++) {
		const struct outbox_msg *r = &h.rows[i];

		if (rc == 0 && (rc = window_alert(ob, r, ch.kind)) > 0)
			rc = 0;
		if (rc == 0)
			rc = store_outbox_window_wait(ob->env->store, r->id,
						      r->expires_at != 0 ? r->expires_at : now + OUTBOX_GIVE_UP_AFTER, 1,
						      "held for the window; the nudge failed", now);
		store_outbox_msg_free(&h.rows[i]);
	}
	return rc;
}

/* Ends a row for good. reason (blocked, stopped, closed, gateway) says
 * why, for the staff who should know; NULL when nobody needs to. failed
 * names the gateway that kept failing when the row was given up: staff
 * then hear of it on another gateway when one reaches them. */
static void finish(struct outbox *ob, const struct outbox_msg *m, const char *status, const char *why,
		   const char *reason, const char *failed)
{
	struct store *st = ob->env->store;
	time_t now = time(NULL);
	struct step step;
	int rc;

	/* Details that could not be shown concern nobody but the reader,
	 * whose message still says what it said. */
	if (strcmp(m->kind, "details") == 0)
		reason = NULL;
	if (store_begin(st) != 0)
		return;
	rc = offer_next(ob, m, status, &reason, &step);
	if (rc == 0)
		rc = store_outbox_finish(st, m->id, status, why, now);
	if (rc == 0 && failed != NULL && (rc = alert_elsewhere(ob, m, failed, why, "gateway")) == 1)
		reason = NULL;
	if (rc > 0)
		rc = 0;
	if (rc == 0 && is_nudge(m) && strcmp(status, "failed") == 0)
		rc = nudge_failed(ob, m);
	if (rc == 0 && reason != NULL)
		rc = tell_staff(ob, m, reason);
	if (rc == 0 && m->family_id != 0 && m->staff_id == 0 && strcmp(status, "cancelled") != 0) {
		struct hctx h;

		gateway_hctx(ob->env, &h);
		rc = handler_note(&h, &(struct handler_note){.family_id = m->family_id, .at = now, .direction = "out",
							      .channel_kind = step.from[0] != '\0' ? step.from : NULL,
							      .kind = m->kind, .member_id = m->member_id,
							      .code = m->catalog_key, .status = status},
				  NULL);
	}
	/* The failure first, then where the message went on to. */
	if (rc == 0 && step.to[0] != '\0') {
		struct hctx h;

		gateway_hctx(ob->env, &h);
		h.now = now;
		rc = fallback_note(&h, m, step.from, step.to, step.why);
	}
	/* A row that did not go keeps no words either: the schema's
	 * outbox_scrub trigger blanks it as it ends, however it ends. */
	if (rc == 0)
		rc = store_commit(st);
	if (rc != 0) {
		store_rollback(st);
		return;
	}
	if (strcmp(status, "failed") == 0)
		ob->env->metrics->messages_failed++;
	log_info("outbox #%" PRId64 " %s: %s", m->id, status, why);
}

struct pick {
	int64_t ids[16];
	int64_t members[16];
	int n;
};

/* The chats come in each member's order: a member gets the row on the
 * first of theirs that can take it, and on the next only if that one
 * cannot (handlers/fallback.c); a chat of no member in particular gets
 * its own copy. */
static int pick_channel(const void *rec, void *arg)
{
	const struct channel *c = rec;
	struct pick *p = arg;

	if (c->blocked || p->n == (int)CB_ARRAY_SIZE(p->ids))
		return 0;
	for (int i = 0; c->member_id != 0 && i < p->n; i++)
		if (p->members[i] == c->member_id)
			return 0;
	p->members[p->n] = c->member_id;
	p->ids[p->n++] = c->id;
	return 0;
}

/* A row without a channel goes to every member of its family (one copy
 * per member, on the member's first chat), or to its member when the
 * member has a chat. The first chat takes this row; the others get
 * copies, picked up on the next scan. */
static int resolve(struct outbox *ob, struct outbox_msg *m)
{
	struct store *st = ob->env->store;
	struct pick all = {0}, mine = {0};
	struct pick *use;
	time_t now = time(NULL);
	int rc = 0;

	if (m->staff_id != 0 && !is_reply(m)) {
		struct channel ch;

		if ((rc = store_staff_channel(st, m->staff_id, &ch)) != 0)
			return rc;
		if (store_outbox_assign(st, m->id, ch.id, now) != 0)
			return -CB_ESTORE;
		m->channel_id = ch.id;
		return 0;
	}
	if (store_channel_each_family(st, m->family_id, pick_channel, &all) != 0)
		return -CB_ESTORE;
	for (int i = 0; m->member_id != 0 && i < all.n; i++)
		if (all.members[i] == m->member_id)
			mine.ids[mine.n++] = all.ids[i];
	use = mine.n > 0 ? &mine : &all;
	if (use->n == 0)
		return -CB_ENOENT;
	if (store_begin(st) != 0)
		return -CB_ESTORE;
	rc = store_outbox_assign(st, m->id, use->ids[0], now);
	for (int i = 1; rc == 0 && i < use->n; i++)
		rc = store_outbox_clone_for(st, m->id, use->ids[i], now);
	if (rc == 0)
		rc = store_commit(st);
	if (rc != 0) {
		store_rollback(st);
		return rc;
	}
	m->channel_id = use->ids[0];
	return 0;
}

/* The language of whoever reads this chat. */
static int reader_lang(struct outbox *ob, const struct outbox_msg *m, const struct channel *ch,
		       enum lang *l, int *closed)
{
	struct family f;
	struct staff s;

	*closed = 0;
	if (ch->staff_id != 0) {
		if (store_staff_get_id(ob->env->store, ch->staff_id, &s) != 0)
			return -CB_ENOENT;
		*l = s.lang;
		return 0;
	}
	if (store_family_get_id(ob->env->store, m->family_id, &f) != 0)
		return -CB_ENOENT;
	*closed = strcmp(f.status, "closed") == 0;
	*l = handler_reader_lang(ob->env->store, &f, ch->member_id, NULL);
	return 0;
}

/* After STOP only answers to the family, and appointment reminders and
 * notices when the configuration keeps them, still go: what stop.confirmed
 * and stop.confirmed_all tell the family. */
static int allowed_after_stop(const struct config *cfg, const char *kind)
{
	if (strcmp(kind, "reminder") == 0 || strcmp(kind, "appointment_notice") == 0 || strcmp(kind, "calendar") == 0)
		return cfg->reminders_during_stop;
	return strcmp(kind, "checkin") != 0 && strcmp(kind, "document_request") != 0 &&
	       strcmp(kind, "document_reminder") != 0 && strcmp(kind, "document_rejected") != 0 &&
	       strcmp(kind, "relay_reply") != 0;
}

static void tick(uv_timer_t *t);

/* A Details press: the family message it names (sent to this very chat),
 * rendered now with its details, to replace that message in place where
 * the gateway can edit; elsewhere it goes as a new message. -CB_ENOENT
 * when that message is gone or is not this chat's. */
static int compose_details(struct outbox *ob, const struct outbox_msg *m, enum lang l, struct job *j)
{
	struct store *st = ob->env->store;
	struct gateway *gw = j->lim->gw;
	struct outbox_msg target;
	cJSON *p = cJSON_Parse(m->params);
	const cJSON *of = cJSON_GetObjectItemCaseSensitive(p, "of");
	int64_t id = cJSON_IsString(of) ? strtoll(of->valuestring, NULL, 10) : 0;
	int rc;

	cJSON_Delete(p);
	if (id <= 0 || id == m->id)
		return -CB_ENOENT;
	if ((rc = store_outbox_get(st, id, &target)) != 0)
		return rc;
	if (target.channel_id != m->channel_id)
		rc = -CB_ENOENT;
	else if (gw->caps.can_edit && gw->ops->edit != NULL)
		rc = store_outbox_gateway_id(st, id, j->edit_id, sizeof(j->edit_id));
	if (rc == 0)
		rc = compose_outbox_details(st, *ob->env->loc, &target, l, &gw->caps, 1, &j->msg);
	store_outbox_msg_free(&target);
	/* The question was the chat's when the message first went; showing it
	 * again asks nothing new. */
	j->msg.question = 0;
	return rc;
}

static void job_closed(uv_handle_t *h)
{
	struct job *j = h->data;

	voice_cancel(j->voice);
	store_audio_free(&j->audio);
	store_outbox_msg_free(&j->m);
	free(j);
}

static void job_forget(struct job *j)
{
	struct outbox *ob = j->ob;
	struct job **pp;

	for (pp = &ob->jobs; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	j->slot->inflight = 0;
	ob->inflight--;
	uv_close((uv_handle_t *)&j->timer, job_closed);
}

static void job_end(struct job *j)
{
	struct outbox *ob = j->ob;

	job_forget(j);
	if (!ob->stopped)
		uv_timer_start(&ob->timer, tick, 0, 0);
}

static void record_sent(struct job *j, const char *message_id)
{
	struct outbox *ob = j->ob;
	struct store *st = ob->env->store;
	time_t now = time(NULL);
	struct hctx h;
	int rc;

	if (store_begin(st) != 0) {
		log_error("outbox #%" PRId64 ": cannot record the send: %s", j->m.id, store_errmsg(st));
		return;
	}
	gateway_hctx(ob->env, &h);
	rc = store_outbox_sent(st, j->m.id, message_id, now);
	/* The family file shows what the family got, and what was passed on
	 * to staff about it (internal); notices to staff are not contacts. */
	if (rc == 0 && j->m.family_id != 0 && j->ch.staff_id == 0)
		rc = handler_note(&h, &(struct handler_note){.family_id = j->m.family_id, .at = now, .direction = "out",
							      .channel_kind = j->ch.kind, .kind = j->m.kind,
							      .staff_id = j->m.staff_id, .member_id = j->ch.member_id,
							      .code = j->m.catalog_key, .status = "sent"},
				  NULL);
	else if (rc == 0 && j->m.family_id != 0 && strcmp(j->m.kind, "forward") == 0)
		rc = handler_note(&h, &(struct handler_note){.family_id = j->m.family_id, .at = now,
							      .direction = "internal", .channel_kind = j->ch.kind,
							      .kind = "forward", .staff_id = j->m.staff_id,
							      .member_id = j->m.member_id, .code = "forwarded", .status = "sent"},
				  NULL);
	if (rc == 0) {
		rc = handler_after_sent(&h, &j->m);
		if (rc == 0 && j->ch.staff_id == 0)
			rc = fallback_after_sent(&h, &j->m, &j->ch);
		/* A question becomes the chat's last once it is on the wire. */
		if (rc == 0)
			rc = questions_asked(&h, &j->m, &j->msg);
	}
	if (rc == 0)
		rc = store_commit(st);
	if (rc != 0) {
		store_rollback(st);
		log_error("outbox #%" PRId64 ": cannot record the send: %s", j->m.id, store_errmsg(st));
		return;
	}
	metrics_count(ob->env->metrics, "out", j->ch.kind, j->m.kind);
}

/* The gateway took the whole message: it is recorded at the outbox's next
 * turn, with the others that came back meanwhile, in one transaction. A
 * crash before that leaves the row 'sending', sent again after the
 * restart: at least once. */
static void sent(struct job *j, const char *message_id)
{
	struct outbox *ob = j->ob;

	cb_strlcpy(j->sent_id, message_id, sizeof(j->sent_id));
	if (ob->stopped) {
		record_sent(j, j->sent_id);
		job_end(j);
		return;
	}
	j->next_turn = NULL;
	*ob->sent_tail = j;
	ob->sent_tail = &j->next_turn;
	uv_timer_start(&ob->timer, tick, 0, 0);
}

static void record_turn_sent(struct outbox *ob)
{
	struct job *j, *next;

	for (j = ob->sent_head; j != NULL; j = next) {
		next = j->next_turn;
		record_sent(j, j->sent_id);
		job_forget(j);
	}
	ob->sent_head = NULL;
	ob->sent_tail = &ob->sent_head;
}

static void retry_later(struct job *j, int seconds, const char *why)
{
	struct outbox *ob = j->ob;
	time_t now = time(NULL);

	if (store_outbox_retry(ob->env->store, j->m.id, now + seconds, why, now) != 0)
		log_error("outbox #%" PRId64 ": cannot requeue: %s", j->m.id, store_errmsg(ob->env->store));
	else
		log_info("outbox #%" PRId64 " retry in %d s: %s", j->m.id, seconds, why);
}

/* How long a failing message is worth trying: a reminder until its
 * appointment starts, anything else a day from its first failure, and
 * never past its own expiry. */
static time_t give_up_at(const struct outbox_msg *m, time_t now)
{
	time_t t = now + OUTBOX_GIVE_UP_AFTER;

	if (m->expires_at != 0 && (strcmp(m->kind, "reminder") == 0 || m->expires_at < t))
		t = m->expires_at;
	return t;
}

/* A gateway that fails for a while (an outage) is tried again with a
 * growing backoff until the message is no longer worth sending; only then
 * is it failed, and staff told on another gateway. */
static void retry_or_give_up(struct job *j, const struct gateway_result *r)
{
	struct outbox *ob = j->ob;
	const char *why = r->reason;
	time_t now = time(NULL), until;
	int wait = scheduler_backoff(j->m.attempts);

	/* A send that got no answer in time may have gone all the same, and
	 * be slow to show: the retry waits longer than the gateway's own
	 * timeout, so that a gateway still working on the first one is not
	 * handed a second while it does. */
	if (r->timed_out) {
		ob->env->metrics->send_timeouts++;
		wait += (j->lim->gw->caps.send_timeout_ms + 999) / 1000;
	}

	if (store_outbox_give_up_at(ob->env->store, j->m.id, give_up_at(&j->m, now), &until) != 0) {
		log_error("outbox #%" PRId64 ": cannot keep its deadline: %s", j->m.id, store_errmsg(ob->env->store));
		until = give_up_at(&j->m, now);
	}
	if (now + wait < until) {
		retry_later(j, wait, why);
		return;
	}
	finish(ob, &j->m, "failed", why, "gateway", j->ch.kind);
}

static void on_sent(const struct gateway_result *r, void *arg);

/* A calendar file follows its text. It is made now, from the appointment
 * as it is, in the reader's language. */
static int send_calendar(struct job *j, struct gateway *gw)
{
	const struct gateway_env *env = j->ob->env;
	char *file = NULL;
	size_t len = 0;
	int rc;

	if ((rc = calendar_file(env->store, *env->loc, env->cfg, j->m.appointment_id, j->lang, time(NULL), &file,
				&len)) != 0)
		return rc;
	rc = gw->ops->send_file(gw, j->ch.address, "calendar", CALENDAR_MIME, CALENDAR_FILENAME, file, len, on_sent, j);
	free(file);
	return rc;
}

/* ---- the voice note after the text ---------------------------------------- */

static int outside_window(const struct job *j)
{
	const struct gateway *gw = j->lim->gw;

	return gw->caps.window_seconds > 0 &&
	       (j->ch.last_inbound_at == 0 || time(NULL) - j->ch.last_inbound_at >= gw->caps.window_seconds);
}

/* The note went or not: the message is sent either way, since its words
 * are on the phone. */
static void on_voice_sent(const struct gateway_result *r, void *arg)
{
	struct job *j = arg;

	metrics_latency(j->ob->env->metrics, r->seconds);
	if (r->outcome == GW_SENT)
		log_info("outbox #%" PRId64 ": voice note sent (%s)", j->m.id, lang_code(j->lang));
	else
		log_warn("outbox #%" PRId64 ": the voice note did not go: %s", j->m.id, r->reason);
	sent(j, j->text_message_id);
}

static void voice_due(uv_timer_t *t);

/* The note is a message of its own to the chat: it waits for the chat's
 * next token, as a part of a long text does. */
static void voice_go(struct job *j)
{
	struct gateway *gw = j->lim->gw;
	uint64_t now = now_ms(j->ob), wait = bucket_wait(&j->slot->b, now);
	int rc;

	if (wait > 0 && !j->ob->stopped) {
		j->timer.data = j;
		uv_timer_start(&j->timer, voice_due, wait, 0);
		return;
	}
	bucket_take(&j->slot->b, now);
	bucket_take(&j->lim->global, now);
	rc = gw->ops->send_file(gw, j->ch.address, "voice", VOICE_MIME, "voice.ogg", j->audio.data, j->audio.len,
				on_voice_sent, j);
	store_audio_free(&j->audio);
	if (rc != 0) {
		log_warn("outbox #%" PRId64 ": the voice note cannot be sent: %s", j->m.id, casebot_strerror(rc));
		sent(j, j->text_message_id);
	}
}

static void voice_due(uv_timer_t *t)
{
	voice_go(t->data);
}

static void voice_made(int rc, struct store_audio *audio, void *arg)
{
	struct job *j = arg;
	struct store *st = j->ob->env->store;
	unsigned char hash[VOICE_HASH_BYTES];

	j->voice = NULL;
	if (rc != 0) {
		log_warn("outbox #%" PRId64 ": no voice note: %s", j->m.id, casebot_strerror(rc));
		store_audio_free(audio);
		sent(j, j->text_message_id);
		return;
	}
	voice_hash(&j->spoken, hash);
	if (store_voice_cache_put(st, j->m.family_id, hash, sizeof(hash), j->m.id, audio, time(NULL)) != 0)
		log_warn("outbox #%" PRId64 ": the voice note is not cached: %s", j->m.id, store_errmsg(st));
	j->audio = *audio;
	memset(audio, 0, sizeof(*audio));
	voice_go(j);
}

/* After the text of a reminder, a check-in or a document request to a
 * member with voice on, where the gateway sends voice notes (and, with a
 * conversation window, while it is open: a voice note is free-form): the
 * note in the member's language now, a recorded clip or a cached one when
 * there is one, else made off the loop. 0 when it is under way. */
static int voice_start(struct job *j, const char *message_id)
{
	struct outbox *ob = j->ob;
	struct store *st = ob->env->store;
	struct gateway *gw = j->lim->gw;
	int on = 0, rc;

	if (j->ch.staff_id != 0 || j->ch.member_id == 0 || j->m.family_id == 0 || gw->ops->send_file == NULL ||
	    (gw->caps.media_send & gateway_media_bit("voice")) == 0 || outside_window(j) || ob->voice == NULL)
		return -CB_ENOENT;
	if (store_member_voice(st, j->ch.member_id, &on) != 0 || !on)
		return -CB_ENOENT;
	if ((rc = voice_text_for(st, *ob->env->loc, &j->m, j->lang, &j->spoken)) != 0)
		return rc;
	cb_strlcpy(j->text_message_id, message_id, sizeof(j->text_message_id));
	rc = voice_lookup(st, &j->spoken, j->m.family_id, j->m.id, &j->audio);
	if (rc == 0) {
		voice_go(j);
		return 0;
	}
	if (rc == -CB_ENOENT)
		rc = voice_queue_add(ob->voice, &j->spoken, voice_made, j, &j->voice);
	if (rc != 0) {
		log_warn("outbox #%" PRId64 ": no voice note: %s", j->m.id, casebot_strerror(rc));
		j->text_message_id[0] = '\0';
	}
	return rc;
}

static void on_sent(const struct gateway_result *r, void *arg)
{
	struct job *j = arg;
	struct outbox *ob = j->ob;
	const struct gateway_env *env = ob->env;
	uint64_t now = now_ms(ob);

	metrics_latency(env->metrics, r->seconds);
	if (r->outcome == GW_TRANSIENT)
		gateway_failed(j->lim->gw, now, r->reason);
	else
		gateway_answered(j->lim->gw, now);
	if (j->media_sent && r->outcome != GW_SENT) {
		/* The words went; a file after them (a forwarded one, a
		 * calendar file) the gateway would not take is noted, not
		 * resent with them. */
		struct gateway_result text = *r;

		log_warn("outbox #%" PRId64 ": the file after the text did not go: %s", j->m.id, r->reason);
		text.outcome = GW_SENT;
		cb_strlcpy(text.message_id, j->text_message_id, sizeof(text.message_id));
		sent(j, text.message_id);
		return;
	}
	if (r->outcome == GW_SENT) {
		j->offset = r->whole ? strlen(j->msg.text) : j->next_offset;
		/* Blank space left after a cut is no message of its own. */
		j->offset += strspn(j->msg.text + j->offset, " \n");
		if (j->offset < strlen(j->msg.text)) {
			/* Staff may answer any part of a forward. */
			if (strcmp(j->m.kind, "forward") == 0 && r->message_id[0] != '\0' &&
			    store_outbox_part(env->store, j->m.id, r->message_id) != 0)
				log_warn("outbox #%" PRId64 ": a part's id is not kept: %s", j->m.id, store_errmsg(env->store));
			/* The next part waits for the chat's next token. */
			send_part(j);
			return;
		}
		/* A calendar file follows its text; it is no message to hear. */
		if (strcmp(j->msg.media_kind, "calendar") == 0 && !j->media_sent) {
			j->media_sent = 1;
			j->voice_tried = 1;
			cb_strlcpy(j->text_message_id, r->message_id, sizeof(j->text_message_id));
			if (send_calendar(j, j->lim->gw) == 0)
				return;
			log_warn("outbox #%" PRId64 ": the calendar file cannot be sent", j->m.id);
		}
		/* A forwarded file follows its text, as a file. */
		if (j->msg.media_ref[0] != '\0' && !j->media_sent) {
			struct gateway *gw = j->lim->gw;

			j->media_sent = 1;
			cb_strlcpy(j->text_message_id, r->message_id, sizeof(j->text_message_id));
			/* Only the gateway the family wrote on can read its file
			 * reference: on another the text says a file came, and the
			 * file is not sent by a reference it cannot read. */
			if (gw->ops->send_media != NULL && strcmp(j->msg.media_gateway, gw->ops->name) == 0 &&
			    (gw->caps.media_send & gateway_media_bit(j->msg.media_kind)) != 0 &&
			    gw->ops->send_media(gw, j->ch.address, j->msg.media_kind, j->msg.media_ref, on_sent, j) == 0)
				return;
		}
		/* A member with voice on also hears it. */
		if (!j->voice_tried && j->msg.media_ref[0] == '\0') {
			j->voice_tried = 1;
			if (voice_start(j, r->message_id) == 0)
				return;
		}
		if (j->text_message_id[0] != '\0') {
			/* The forward is known by its text, which staff answer. */
			sent(j, j->text_message_id);
			return;
		}
		sent(j, r->message_id);
		return;
	}
	env->metrics->send_failures++;
	/* Refused for the window, whatever our record said: held as well. */
	if (r->outcome == GW_PERMANENT && strcmp(r->why, "window") == 0 && j->ch.staff_id != 0 && !is_nudge(&j->m)) {
		if (window_hold(ob, &j->m, &j->ch, r->reason) != 0)
			log_error("outbox #%" PRId64 ": cannot hold it for the window: %s", j->m.id, store_errmsg(env->store));
		job_end(j);
		return;
	}
	switch (r->outcome) {
	case GW_RETRY_AFTER:
		/* The gateway said when: nothing goes to this chat before then. */
		bucket_hold(&j->slot->b, now + (uint64_t)r->retry_after * 1000);
		/* A gateway with a limit over all chats holds all of them. */
		if (j->lim->gw->caps.rate_global > 0 && r->retry_after > 0 && !r->chat_only)
			bucket_hold(&j->lim->global, now + (uint64_t)r->retry_after * 1000);
		retry_later(j, r->retry_after > 0 ? r->retry_after : 1, r->reason);
		break;
	case GW_TRANSIENT:
		retry_or_give_up(j, r);
		break;
	case GW_BLOCKED:
		if (store_channel_set_blocked(env->store, j->ch.id, 1) != 0)
			log_error("cannot mark channel %" PRId64 " blocked", j->ch.id);
		finish(ob, &j->m, "failed", "the chat blocked the bot", "blocked", NULL);
		break;
	case GW_UNREACHABLE:
		/* Nothing more goes to this address here; the reason stays with
		 * the chat for its owner's next channel. */
		if (store_channel_set_fallback(env->store, j->ch.id, r->reason) != 0)
			log_error("cannot mark channel %" PRId64 " for fallback", j->ch.id);
		finish(ob, &j->m, "failed", r->reason, "unreachable", NULL);
		break;
	default:
		finish(ob, &j->m, "failed", r->reason, r->why[0] != '\0' ? r->why : "gateway", NULL);
		break;
	}
	job_end(j);
}

static void next_part_due(uv_timer_t *t)
{
	send_part(t->data);
}

static void send_part(struct job *j)
{
	struct outbox *ob = j->ob;
	struct gateway *gw = j->lim->gw;
	struct gateway_part p;
	size_t len = strlen(j->msg.text), part;
	uint64_t now = now_ms(ob), wait;
	struct gateway_result r;
	int rc;

	wait = bucket_wait(&j->slot->b, now);
	if (j->offset > 0 && wait > 0) {
		uv_timer_start(&j->timer, next_part_due, wait, 0);
		return;
	}
	if (j->prepaid) {
		j->prepaid = 0;
	} else {
		bucket_take(&j->slot->b, now);
		bucket_take(&j->lim->global, now);
	}
	part = gw->ops->split(j->msg.text + j->offset, len - j->offset, &j->next_offset);
	j->next_offset += j->offset;
	memset(&p, 0, sizeof(p));
	p.address = j->ch.address;
	p.text = j->msg.text + j->offset;
	p.len = part;
	p.msg = &j->msg;
	p.lang = j->lang;
	p.expires_at = j->m.expires_at;
	p.outside_window = gw->caps.window_seconds > 0 &&
			   (j->ch.last_inbound_at == 0 || time(NULL) - j->ch.last_inbound_at >= gw->caps.window_seconds);
	if (j->next_offset >= len) {
		/* What the gateway cannot show compose has put in the text. */
		p.buttons = j->msg.buttons;
		p.nbuttons = j->msg.nbuttons < gw->caps.buttons_max ? j->msg.nbuttons : gw->caps.buttons_max;
	}
	if (j->edit_id[0] != '\0') {
		char id[sizeof(j->edit_id)];

		/* The first part replaces the message; a further part would
		 * follow as a message of its own. */
		cb_strlcpy(id, j->edit_id, sizeof(id));
		j->edit_id[0] = '\0';
		rc = gw->ops->edit(gw, id, &p, on_sent, j);
	} else {
		rc = gw->ops->send(gw, &p, on_sent, j);
	}
	if (rc != 0) {
		memset(&r, 0, sizeof(r));
		r.outcome = GW_TRANSIENT;
		cb_strlcpy(r.reason, "the gateway refused the request", sizeof(r.reason));
		on_sent(&r, j);
	}
}

/* One due row: checks, then the send. DISPATCH_STOP stops the pass
 * where it is (the in-flight cap, or the only gateway's global limit, is
 * reached), DISPATCH_HELD says the row stays queued for a later pass. */
static int dispatch(struct outbox *ob, struct outbox_msg *m, uint64_t *wake)
{
	const struct gateway_env *env = ob->env;
	struct limits *lim;
	struct gateway *gw;
	struct chat_slot *slot;
	struct channel ch;
	struct job *j;
	enum lang l;
	time_t now = time(NULL), after;
	uint64_t t = now_ms(ob), w;
	int closed, rc;

	if (ob->inflight >= OUTBOX_MAX_INFLIGHT)
		return DISPATCH_STOP;
	if (!m->urgent && (after = scheduler_after_quiet(env->cfg, now)) > now) {
		store_outbox_postpone(env->store, m->id, after, now);
		return DISPATCH_HELD;
	}
	if (m->channel_id == 0 && (rc = resolve(ob, m)) != 0) {
		/* Nobody to send it to yet: it waits out of the walk until a chat
		 * of theirs is added or becomes reachable. */
		if (rc == -CB_ENOENT && store_outbox_park(env->store, m->id, now) == 0)
			return DISPATCH_DONE;
		ob->stuck = 1;
		return DISPATCH_HELD;
	}
	if (store_channel_get(env->store, m->channel_id, &ch) != 0) {
		ob->stuck = 1;
		return DISPATCH_HELD;
	}
	if (ch.blocked) {
		finish(ob, m, "failed", "the chat blocked the bot", "blocked", NULL);
		return DISPATCH_DONE;
	}
	/* That gateway is not running: the row waits for a restart that
	 * starts it, without a look every second meanwhile. */
	if ((lim = limits_for(ob, ch.kind)) == NULL)
		return DISPATCH_HELD;
	gw = lim->gw;
	/* A closed file still answers an urgent message with the emergency
	 * number: that answer can matter more than the file. */
	if (reader_lang(ob, m, &ch, &l, &closed) != 0 || (closed && strcmp(m->kind, "urgent_ack") != 0)) {
		finish(ob, m, "cancelled", "the family file is closed", is_reply(m) ? "closed" : NULL, NULL);
		return DISPATCH_DONE;
	}
	{
		struct hctx h;
		int go;

		gateway_hctx(env, &h);
		if (fallback_due(&h, m, &go) != 0) {
			ob->stuck = 1;
			return DISPATCH_HELD;
		}
		if (!go) {
			finish(ob, m, "cancelled", "answered on another chat", NULL, NULL);
			return DISPATCH_DONE;
		}
	}
	if (ch.opted_out && !allowed_after_stop(env->cfg, m->kind)) {
		finish(ob, m, "cancelled", "the family sent STOP", is_reply(m) ? "stopped" : NULL, NULL);
		return DISPATCH_DONE;
	}
	if (ch.staff_id != 0 && !is_nudge(m) && window_closed(gw, &ch, now)) {
		if (window_hold(ob, m, &ch, "waiting for the chat's window") != 0) {
			ob->stuck = 1;
			return DISPATCH_HELD;
		}
		return DISPATCH_DONE;
	}
	/* A chat with a send in flight is looked at again when that send
	 * ends: its end wakes the outbox. */
	slot = chat_limits_get(&lim->chats, ch.id, t);
	if (slot == NULL)
		ob->stuck = 1;
	if (slot == NULL || slot->inflight)
		return DISPATCH_HELD;
	if ((w = bucket_wait(&slot->b, t)) > 0) {
		if (t + w < *wake)
			*wake = t + w;
		return DISPATCH_HELD;
	}
	if ((w = bucket_wait(&lim->global, t)) > 0) {
		if (t + w < *wake)
			*wake = t + w;
		/* Only this gateway is full: rows for the others go on; with no
		 * other gateway the pass waits here for the limit. */
		return ob->nlim == 1 ? DISPATCH_STOP : DISPATCH_HELD;
	}
	j = calloc(1, sizeof(*j));
	if (j == NULL) {
		ob->stuck = 1;
		return DISPATCH_STOP;
	}
	j->lim = lim;
	if (strcmp(m->kind, "details") == 0)
		rc = compose_details(ob, m, l, j);
	else if (strcmp(m->kind, "calendar") == 0)
		rc = calendar_compose(env->store, *env->loc, env->cfg, m, l, gw, now, &j->msg);
	else
		rc = compose_outbox(env->store, *env->loc, m, l, &gw->caps, &j->msg);
	if (rc != 0 || j->msg.text[0] == '\0') {
		free(j);
		if (rc == -CB_ESTATE)
			/* The text the family got already has the date, time and
			 * place: nothing is missing. */
			finish(ob, m, "cancelled", "this chat takes no calendar file and no link", NULL, NULL);
		else if (rc == -CB_ENOENT)
			finish(ob, m, "cancelled", "what it was about is gone", NULL, NULL);
		else
			finish(ob, m, "failed", "the message cannot be rendered", "gateway", NULL);
		return DISPATCH_DONE;
	}
	/* The attempt is on record before the gateway hears of it. */
	if (store_outbox_claim(env->store, m->id, now) != 0) {
		free(j);
		return DISPATCH_DONE;
	}
	j->ob = ob;
	/* The job owns its row; the cached one is freed at the next scan. */
	if (store_outbox_msg_copy(&j->m, m) != 0) {
		store_outbox_retry(env->store, m->id, now + 1, "out of memory", now);
		free(j);
		ob->stuck = 1;
		return DISPATCH_STOP;
	}
	j->m.attempts++;
	j->ch = ch;
	j->lang = l;
	j->slot = slot;
	uv_timer_init(env->loop, &j->timer);
	j->timer.data = j;
	slot->inflight = 1;
	ob->inflight++;
	j->next = ob->jobs;
	ob->jobs = j;
	/* It goes once the turn's claims are committed; its tokens are taken
	 * now, so that the rows after it in this turn see the limits as they
	 * will be. */
	bucket_take(&slot->b, t);
	bucket_take(&lim->global, t);
	j->prepaid = 1;
	j->next_turn = NULL;
	*ob->start_tail = j;
	ob->start_tail = &j->next_turn;
	return DISPATCH_DONE;
}

static int collect(const void *rec, void *arg)
{
	struct outbox *ob = arg;

	if (ob->ndue == OUTBOX_BATCH)
		return 0;
	if (store_outbox_msg_copy(&ob->due[ob->ndue], rec) != 0)
		return -CB_ENOMEM;
	ob->ndue++;
	return 0;
}

static void forget_batch(struct outbox *ob)
{
	for (int i = 0; i < ob->ndue; i++)
		store_outbox_msg_free(&ob->due[i]);
	ob->ndue = 0;
	ob->next = 0;
}

/* The chat a row waits behind: its channel, or its family (or staff
 * member) while it has none yet. Never 0. */
static int64_t chat_key(const struct outbox_msg *m)
{
	if (m->channel_id != 0)
		return m->channel_id;
	if (m->family_id != 0)
		return -m->family_id;
	return -1000000000 - m->staff_id;
}

/* The held chats are an open-addressed set, emptied at each pass. */
static size_t held_slot(const struct outbox *ob, int64_t key)
{
	size_t i = (size_t)((uint64_t)key * 0x9E3779B97F4A7C15ull >> 17) & (ob->held_cap - 1);

	while (ob->held[i] != 0 && ob->held[i] != key)
		i = (i + 1) & (ob->held_cap - 1);
	return i;
}

static int is_held(const struct outbox *ob, int64_t key)
{
	return ob->held_n > 0 && ob->held[held_slot(ob, key)] == key;
}

static int hold(struct outbox *ob, int64_t key)
{
	if (2 * (ob->held_n + 1) > ob->held_cap) {
		size_t cap = ob->held_cap != 0 ? ob->held_cap * 2 : 64;
		int64_t *old = ob->held, *v = calloc(cap, sizeof(*v));
		size_t old_cap = ob->held_cap;

		if (v == NULL)
			return -CB_ENOMEM;
		ob->held = v;
		ob->held_cap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i] != 0)
				ob->held[held_slot(ob, old[i])] = old[i];
		free(old);
	}
	if (ob->held[held_slot(ob, key)] != key) {
		ob->held[held_slot(ob, key)] = key;
		ob->held_n++;
	}
	return 0;
}

static void pass_start(struct outbox *ob)
{
	forget_batch(ob);
	memset(&ob->cur, 0, sizeof(ob->cur));
	ob->cur.urgent = 1;
	if (ob->held_n > 0)
		memset(ob->held, 0, ob->held_cap * sizeof(*ob->held));
	ob->held_n = 0;
	ob->held_rows = 0;
	ob->seen_rows = 0;
	ob->stuck = 0;
	ob->in_pass = 1;
}

/* The wall clock in milliseconds. Due times are compared with it, not
 * with time(), which may read a coarse clock a few milliseconds behind:
 * a row due at a second is then looked for in that second, not the next. */
static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds until the second t (Unix time) has begun; 0 when it has.
 * Rounded up, and one more: the loop's clock counts whole milliseconds,
 * so a timer may fire up to one early. */
static uint64_t ms_until(time_t t)
{
	struct timespec ts;
	int64_t now_us, at_us = (int64_t)t * 1000000;

	clock_gettime(CLOCK_REALTIME, &ts);
	now_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	return at_us > now_us ? (uint64_t)((at_us - now_us + 999) / 1000) + 1 : 0;
}

/* The next tick: the earliest of a row falling due after the last look
 * (to the millisecond), an expiry, a rate limit letting go (wake), and a
 * row the daemon made due meanwhile. Nothing else: rows held by a chat in
 * flight wait for that send to end, whose end wakes the outbox, and rows
 * written by the CLI come with a wake. With nothing to do the timer
 * sleeps. */
static void arm(struct outbox *ob, uint64_t wake)
{
	uint64_t now = now_ms(ob), delay = UINT64_MAX, until;
	time_t next;

	if (ob->stopped)
		return;
	ob->next_due = 0;
	if (store_outbox_next_due(ob->env->store, ob->scanned_to, &next) == 0) {
		ob->next_due = next;
		delay = ms_until(next);
	}
	ob->next_expiry = 0;
	if (store_outbox_next_expiry(ob->env->store, &next) == 0) {
		ob->next_expiry = next;
		/* Past only when expiring failed: it is tried again shortly. */
		if ((until = ms_until(next + 1)) == 0)
			until = OUTBOX_RETRY_MS;
		if (until < delay)
			delay = until;
	}
	if (ob->stuck && delay > OUTBOX_RETRY_MS)
		delay = OUTBOX_RETRY_MS;
	if (wake != UINT64_MAX && (until = wake > now ? wake - now : 1) < delay)
		delay = until;
	if (ob->dirty || store_outbox_changed_since(ob->env->store))
		delay = 0;
	if (delay == UINT64_MAX)
		uv_timer_stop(&ob->timer);
	else
		uv_timer_start(&ob->timer, tick, delay, 0);
}

/* Goes on with the pass from its cursor. Returns 0 when a limit stops it
 * (the cursor stays on the row that waits), 1 when it has seen every due
 * row. */
static int pump(struct outbox *ob, uint64_t *wake)
{
	time_t now = (time_t)(wall_ms() / 1000);

	ob->scanned_to = now;
	while (!ob->stopped) {
		struct outbox_msg *m;
		int64_t key;
		int r;

		if (ob->next == ob->ndue) {
			/* A short batch was the last of its part: urgent rows
			 * first, then the others. */
			int last = ob->ndue > 0 && ob->ndue < OUTBOX_BATCH;

			forget_batch(ob);
			if (!last && store_outbox_each_due(ob->env->store, now, &ob->cur, OUTBOX_BATCH, collect, ob) != 0) {
				log_error("outbox scan failed: %s", store_errmsg(ob->env->store));
				forget_batch(ob);
				ob->stuck = 1;
				return 1;
			}
			if (ob->ndue == 0) {
				if (!ob->cur.urgent)
					return 1;
				memset(&ob->cur, 0, sizeof(ob->cur));
				continue;
			}
			ob->seen_rows += ob->ndue;
		}
		m = &ob->due[ob->next];
		key = chat_key(m);
		if (is_held(ob, key))
			r = DISPATCH_HELD;
		else if ((r = dispatch(ob, m, wake)) == DISPATCH_STOP)
			return 0;
		if (r == DISPATCH_HELD) {
			ob->held_rows++;
			if (hold(ob, key) != 0) {
				ob->stuck = 1;
				return 0;
			}
		}
		ob->cur.not_before = m->not_before;
		ob->cur.id = m->id;
		ob->next++;
	}
	return 0;
}

static void tick(uv_timer_t *t)
{
	struct outbox *ob = t->data;
	uint64_t wake = UINT64_MAX;
	time_t now = (time_t)(wall_ms() / 1000);
	int changed, expired = 0, tx;

	if (ob->stopped)
		return;
	tx = store_begin(ob->env->store) == 0;
	record_turn_sent(ob);
	changed = store_outbox_changed(ob->env->store) || ob->dirty;
	ob->dirty = 0;
	/* A new pass when the queue changed, when the last one left rows
	 * waiting, or when a row has fallen due or expired since; else the
	 * pass under way goes on, or nothing is to be done. */
	if (changed || (!ob->in_pass && (ob->held_rows > 0 || (ob->next_due != 0 && ob->next_due <= now) ||
					 (ob->next_expiry != 0 && ob->next_expiry < now)))) {
		if (store_outbox_expire(ob->env->store, now, &expired) == 0 && expired > 0)
			log_info("%d queued message(s) expired unsent", expired);
		pass_start(ob);
	}
	if (ob->in_pass && pump(ob, &wake))
		ob->in_pass = 0;
	if (tx && store_commit(ob->env->store) != 0) {
		/* The turn is undone: its claims with it, so its sends do not
		 * start; the sends it recorded go again (at least once). */
		log_error("outbox turn not recorded: %s", store_errmsg(ob->env->store));
		store_rollback(ob->env->store);
		for (struct job *j = ob->start_head, *next; j != NULL; j = next) {
			next = j->next_turn;
			job_forget(j);
		}
		ob->start_head = NULL;
		ob->start_tail = &ob->start_head;
		ob->dirty = 1;
	}
	for (struct job *j = ob->start_head, *next; j != NULL; j = next) {
		next = j->next_turn;
		send_part(j);
	}
	ob->start_head = NULL;
	ob->start_tail = &ob->start_head;
	arm(ob, wake);
}

struct outbox *outbox_new(const struct gateway_env *env, struct gateway *const *gateways, int ngateways)
{
	struct outbox *ob = calloc(1, sizeof(*ob));
	uint64_t now;

	if (ob == NULL)
		return NULL;
	ob->env = env;
	now = uv_now(env->loop);
	for (int i = 0; i < ngateways && i < GATEWAY_MAX; i++) {
		struct limits *lim = calloc(1, sizeof(*lim));

		if (lim == NULL) {
			while (ob->nlim > 0)
				free(ob->lim[--ob->nlim]);
			free(ob);
			return NULL;
		}
		lim->gw = gateways[i];
		bucket_init(&lim->global, lim->gw->caps.rate_global, 0.0, now);
		chat_limits_init(&lim->chats, lim->gw->caps.rate_per_chat);
		ob->lim[ob->nlim++] = lim;
	}
	uv_timer_init(env->loop, &ob->timer);
	ob->timer.data = ob;
	ob->dirty = 1;
	ob->cur.urgent = 1;
	ob->sent_tail = &ob->sent_head;
	ob->start_tail = &ob->start_head;
	ob->voice = voice_queue_new(env->loop);
	/* What a crash left half-sent goes again: at least once. */
	if (store_outbox_requeue_sending(env->store, time(NULL)) != 0)
		log_error("cannot requeue interrupted sends: %s", store_errmsg(env->store));
	uv_timer_start(&ob->timer, tick, 0, 0);
	return ob;
}

void outbox_kick(struct outbox *ob)
{
	if (ob->stopped)
		return;
	ob->dirty = 1;
	uv_timer_start(&ob->timer, tick, 0, 0);
}

int outbox_inflight(const struct outbox *ob)
{
	return ob->inflight;
}

void outbox_stop(struct outbox *ob)
{
	ob->stopped = 1;
	uv_timer_stop(&ob->timer);
	/* Sends that came back are recorded now, not at a turn that will not
	 * come. */
	if (ob->sent_head != NULL) {
		int tx = store_begin(ob->env->store) == 0;

		record_turn_sent(ob);
		if (tx && store_commit(ob->env->store) != 0)
			store_rollback(ob->env->store);
	}
}

static void outbox_closed(uv_handle_t *h)
{
	struct outbox *ob = h->data;

	forget_batch(ob);
	free(ob->held);
	voice_queue_free(ob->voice);
	while (ob->nlim > 0)
		free(ob->lim[--ob->nlim]);
	free(ob);
}

void outbox_close(struct outbox *ob)
{
	outbox_stop(ob);
	/* A long message waiting between its parts at shutdown stays 'sending'
	 * and goes again after the restart; its job goes now. */
	for (struct job *j = ob->jobs, *next; j != NULL; j = next) {
		next = j->next;
		uv_close((uv_handle_t *)&j->timer, job_closed);
	}
	ob->jobs = NULL;
	uv_close((uv_handle_t *)&ob->timer, outbox_closed);
}
