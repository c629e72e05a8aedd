#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/event_json.h"
#include "bot/log.h"
#include "bot/router.h"

struct run_ctx {
	struct hctx *h;
	router_direct_cb direct_cb;
	void *arg;
	struct router_stats stats;
	struct inbound_event ev;     /* large: lives in the heap-allocated context */
	char redacted[1024];         /* no text: a few short fields */
};

static int family_text(struct hctx *h, struct family_msg *fm, const struct arrival *what)
{
	char *folded = malloc(EVENT_TEXT_MAX);
	int rc, handled = 0;

	if (folded == NULL)
		return -CB_ENOMEM;
	if (words_fold(fm->ev->text, folded, EVENT_TEXT_MAX) != 0)
		folded[0] = '\0';
	/* Urgent words win over everything, wherever they stand. */
	if (urgent_is(h->loc, folded))
		rc = urgent_handle(h, fm);
	else if ((rc = preferences_command(h, fm, folded, &handled)) == 0 && !handled &&
		 (rc = questions_answer(h, fm, folded, what, &handled)) == 0 && !handled) {
		if ((rc = handler_log_in(h, fm, "text", what->code, what->name, what->value, NULL)) == 0)
			rc = relay_forward(h, fm);
	}
	free(folded);
	return rc;
}

/* The caption of a photo or file the fetcher will pass on later: its words
 * go now, as a text of their own (urgent words included). */
static int caption(struct hctx *h, struct family_msg *fm)
{
	struct inbound_event *text = malloc(sizeof(*text));
	struct family_msg fc = *fm;
	struct arrival what;
	int rc;

	if (text == NULL)
		return -CB_ENOMEM;
	*text = *fm->ev;
	text->kind = EVENT_TEXT;
	text->media_kind[0] = text->media_ref[0] = text->media_mime[0] = '\0';
	fc.ev = text;
	relay_describe(text, &what);
	rc = family_text(h, &fc, &what);
	free(text);
	return rc;
}

struct reachable {
	int64_t except;
	int others;
};

static int count_reachable(const void *rec, void *arg)
{
	const struct channel *ch = rec;
	struct reachable *r = arg;

	if (ch->id != r->except && !ch->blocked)
		r->others++;
	return 0;
}

/* One chat of a household blocked the bot: the alert names whose chat it
 * is, and says whether the rest of the household can still be reached. */
static int blocked(struct hctx *h, struct family_msg *fm)
{
	struct reachable r = {fm->channel.id, 0};
	const char *reach;
	int rc;

	if ((rc = store_channel_set_blocked(h->store, fm->channel.id, 1)) != 0 ||
	    (rc = store_channel_each_family(h->store, fm->family.id, count_reachable, &r)) != 0)
		return rc;
	/* The member is named; whether the rest of the household can still
	 * be reached is log.reach.others or log.reach.none. */
	reach = r.others > 0 ? "others" : "none";
	if (fm->member.id != 0) {
		char *params = NULL;

		if ((rc = handler_params(&params, "member", fm->member.name, "reach", reach, NULL)) == 0)
			rc = store_contact_add(h->store, fm->family.id, h->now, "internal", fm->channel.kind, "blocked",
					       0, fm->member.id, "blocked_member", params, NULL);
		free(params);
		return rc != 0 ? rc : handler_alert(h, fm->family.id, "blocked", 0, NULL, "blocked_member", "member",
						     fm->member.name, "reach", reach, NULL);
	}
	if ((rc = store_contact_add(h->store, fm->family.id, h->now, "internal", fm->channel.kind, "blocked", 0, 0,
				    "blocked", r.others > 0 ? "{\"reach\":\"others\"}" : "{\"reach\":\"none\"}", NULL)) != 0)
		return rc;
	return handler_alert(h, fm->family.id, "blocked", 0, NULL, "blocked", "reach", reach, NULL);
}

/* An edit is a new version of words the counsellor already has: it reaches
 * staff marked as an edit, and never runs a command or answers a question
 * (the first version did that, if it was one). Urgent words still alert. */
static int family_edit(struct hctx *h, struct family_msg *fm, const struct arrival *what)
{
	char *folded;
	int rc;

	if (fm->ev->kind != EVENT_TEXT && fm->ev->kind != EVENT_MEDIA)
		return handler_log_in(h, fm, "edited", what->code, what->name, what->value, NULL);
	if ((folded = malloc(EVENT_TEXT_MAX)) == NULL)
		return -CB_ENOMEM;
	if (words_fold(fm->ev->text, folded, EVENT_TEXT_MAX) != 0)
		folded[0] = '\0';
	if (urgent_is(h->loc, folded))
		rc = urgent_handle(h, fm);
	else if ((rc = handler_log_in(h, fm, "edited", what->code, what->name, what->value, NULL)) == 0)
		rc = relay_forward(h, fm);
	free(folded);
	return rc;
}

static int family_event(struct hctx *h, struct family_msg *fm)
{
	const struct inbound_event *ev = fm->ev;
	struct arrival what;
	int handled = 0, rc;

	relay_describe(ev, &what);
	if (ev->edited)
		return family_edit(h, fm, &what);
	switch (ev->kind) {
	case EVENT_BLOCKED:
		return blocked(h, fm);
	case EVENT_UNBLOCKED:
		if ((rc = store_channel_set_blocked(h->store, fm->channel.id, 0)) != 0)
			return rc;
		return store_contact_add(h->store, fm->family.id, h->now, "internal", fm->channel.kind,
					 "unblocked", 0, fm->member.id, "unblocked", NULL, NULL);
	case EVENT_BUTTON:
		if ((rc = questions_button(h, fm, ev->button_data, &handled)) != 0 || handled)
			return rc;
		/* A stale or unknown button: logged, nothing else. */
		return handler_log_in(h, fm, "button", "button_stale", NULL);
	case EVENT_MEDIA:
		/* Photos and files are fetched after this commit; the download
		 * row keeps the gateway's reference until then. */
		if (strcmp(ev->media_kind, "photo") == 0 || strcmp(ev->media_kind, "document") == 0) {
			struct download dl;

			memset(&dl, 0, sizeof(dl));
			dl.family_id = fm->family.id;
			dl.member_id = fm->member.id;
			dl.channel_id = fm->channel.id;
			cb_strlcpy(dl.media_kind, ev->media_kind, sizeof(dl.media_kind));
			if (cb_strlcpy(dl.media_ref, ev->media_ref, sizeof(dl.media_ref)) != 0)
				return -CB_ETOOBIG;
			dl.media_size = ev->media_size;
			if ((rc = store_download_add(h->store, &dl, h->now)) != 0)
				return rc;
			return ev->text[0] != '\0' ? caption(h, fm) : 0;
		}
		/* Voice notes, videos, stickers go to the counsellor. */
		__attribute__((fallthrough));
	case EVENT_TEXT:
		return family_text(h, fm, &what);
	default:
		if ((rc = handler_log_in(h, fm, event_kind_name(ev->kind), what.code, what.name, what.value, NULL)) != 0)
			return rc;
		return relay_forward(h, fm);
	}
}

/* Urgent words from a closed file's chat still get the emergency number,
 * and its counsellor and backup still hear of it at once. */
static int closed_urgent(struct hctx *h, struct family_msg *fm, int *urgent)
{
	char *folded;
	int rc = 0;

	*urgent = 0;
	if ((fm->ev->kind != EVENT_TEXT && fm->ev->kind != EVENT_MEDIA) || fm->ev->text[0] == '\0')
		return 0;
	if ((folded = malloc(EVENT_TEXT_MAX)) == NULL)
		return -CB_ENOMEM;
	if (words_fold(fm->ev->text, folded, EVENT_TEXT_MAX) == 0 && urgent_is(h->loc, folded)) {
		*urgent = 1;
		rc = urgent_handle(h, fm);
	}
	free(folded);
	return rc;
}

static int route_one(struct run_ctx *c, struct handler_direct *direct)
{
	struct hctx *h = c->h;
	struct family_msg fm;
	int rc;

	memset(&fm, 0, sizeof(fm));
	fm.ev = &c->ev;
	rc = store_channel_find(h->store, c->ev.channel, c->ev.sender, &fm.channel);
	if (rc == -CB_ENOENT)
		return onboarding_handle(h, &c->ev, direct);
	if (rc != 0)
		return rc;
	if ((rc = store_channel_touch(h->store, fm.channel.id, h->now)) != 0)
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

		if ((rc = closed_urgent(h, &fm, &urgent)) != 0 || urgent)
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

static int route_row(const void *rec, void *arg)
{
	const struct inbound_row *row = rec;
	struct run_ctx *c = arg;
	struct hctx *h = c->h;
	struct handler_direct direct;
	int rc, parsed, redacted = 0;

	memset(&direct, 0, sizeof(direct));
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
	if (direct.send && c->direct_cb != NULL)
		c->direct_cb(row->channel, row->sender, direct.text, c->arg);
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
	rc = store_inbound_each_new(h->store, h->now, limit, route_row, c);
	if (rc == 0)
		rc = c->stats.handled + c->stats.retried + c->stats.failed;
	if (stats != NULL)
		*stats = c->stats;
	free(c);
	return rc;
}
