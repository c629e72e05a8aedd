/* The Telegram gateway. Updates come by long polling (getUpdates) or by
 * webhook; either way they are stored, with the new offset, in one
 * transaction before Telegram is told they arrived (the next getUpdates, or
 * the 200). Sends are sendMessage calls with JSON bodies; the outbox decides
 * when. The bot token lives in URLs only: no URL is ever logged. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/config.h"
#include "bot/metrics.h"
#include "store/store.h"
#include "bot/event_json.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/telegram.h"
#include "bot/net/http_client.h"
#include "bot/net/http_server.h"
#include "bot/log.h"
#include "bot/gateways/telegram_api.h"
#include "locales/locale.h"

#define TG_MIN_POLL_MS 1000          /* an answer at once must not make us spin */
#define TG_BACKOFF_MIN_MS 1000
#define TG_BACKOFF_MAX_MS 60000
#define TG_UPDATES_MAX (8 * 1024 * 1024)
#define TG_MAX_CALLBACKS 128
/* Telegram keeps an update for a day; after a week without any, it picks
 * the next update id at random, maybe below our offset. */
#define TG_SERVER_KEEPS_SECONDS (24 * 60 * 60)

struct tg {
	struct gateway gw;           /* first: the daemon holds a struct gateway * */
	char token[160];
	char secret[256];            /* webhook secret, empty in poll mode */
	int64_t offset;
	int64_t epoch;               /* how often the update ids restarted */
	time_t last_update_at;       /* when an update last came, 0: unknown */
	int started, stopping;
	int poll_inflight;
	int inflight;                /* sends, answers and downloads */
	uint64_t poll_started;
	uint64_t backoff_ms;
	uv_timer_t poll_timer;
	int timer_open;
};

struct tg_call {
	struct tg *tg;
	gateway_sent_cb sent_cb;
	gateway_fetched_cb fetched_cb;
	gateway_sink_fn sink;
	void *arg;
	uint64_t started;
	char edited[GATEWAY_ID_MAX];     /* editMessageText: the message edited */
};

/* One update of a batch, as it goes to the store. */
struct pending {
	char external_id[EVENT_ID_MAX];
	char sender[EVENT_ID_MAX];
	char callback_id[EVENT_ID_MAX];  /* a button press to answer, or "" */
	const char *kind;            /* for the metrics */
	char *json;
};

/* One batch of updates: collected while parsing, stored in one go with
 * the offset, and what is left to do once it is committed. */
struct batch {
	struct tg *tg;
	int polled;                  /* from getUpdates, not the webhook */
	int restarted;               /* the ids went back below our offset */
	int64_t epoch;               /* the epoch these updates are stored under */
	int64_t max_id;              /* the highest update_id of the batch, or -1 */
	int stored;
	int n;
	struct pending ev[TG_MAX_CALLBACKS];
	char *json;                  /* room for one event as JSON */
};

static void batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	for (int i = 0; i < b->n; i++)
		free(b->ev[i].json);
	free(b->json);
	free(b);
}

/* Stores what was collected, with the cursor; then counts what was new. */
static int batch_store(struct batch *b, const struct inbound_cursor *cursor, int ncursor)
{
	const struct gateway_env *d = b->tg->gw.env;
	struct inbound_new rows[TG_MAX_CALLBACKS];
	int rc;

	for (int i = 0; i < b->n; i++)
		rows[i] = (struct inbound_new){b->ev[i].external_id, b->ev[i].sender, b->ev[i].json, 0};
	rc = store_inbound_batch(d->store, "telegram", time(NULL), rows, b->n, cursor, ncursor);
	for (int i = 0; rc == 0 && i < b->n; i++) {
		if (!rows[i].stored)
			continue;
		b->stored++;
		metrics_count(d->metrics, "in", "telegram", b->ev[i].kind);
	}
	return rc;
}

static struct tg *tg_of(struct gateway *gw)
{
	return (struct tg *)gw;
}

static uint64_t loop_ms(struct tg *tg)
{
	uv_update_time(tg->gw.env->loop);
	return uv_now(tg->gw.env->loop);
}

/* How long a send, an answer or a set-up call waits for Telegram. */
static long tg_send_timeout_ms(const struct tg *tg)
{
	return tg->gw.env->cfg->gw.telegram.send_timeout * 1000L;
}

static int post(struct tg *tg, const char *method, const char *body, long timeout_ms,
		size_t max_bytes, http_done_cb cb, void *arg)
{
	struct http_request req;
	char url[512];
	int rc;

	if ((rc = telegram_api_method_url(url, sizeof(url), tg->gw.env->cfg->gw.telegram.api_base, tg->token,
					  method)) != 0)
		return rc;
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = url;
	req.body = body;
	req.body_len = strlen(body);
	req.content_type = "application/json";
	req.timeout_ms = timeout_ms;
	req.max_response_bytes = max_bytes;
	rc = http_client_request(tg->gw.env->http, &req, cb, arg);
	sodium_memzero(url, sizeof(url));
	return rc;
}

/* Posts body (freed here) for call (freed here when the post cannot start;
 * NULL means out of memory); done runs once with call as its argument. */
static int start_call(struct tg *tg, const char *method, char *body, size_t max_bytes,
		      http_done_cb done, struct tg_call *call)
{
	int rc = -CB_ENOMEM;

	if (call != NULL) {
		call->tg = tg;
		rc = post(tg, method, body, tg_send_timeout_ms(tg), max_bytes, done, call);
		if (rc != 0)
			free(call);
	}
	free(body);
	if (rc == 0)
		tg->inflight++;
	return rc;
}

/* Fire and forget: a button press is acknowledged so the phone stops its
 * spinner; a failure here costs nothing but that. */
static void answered(const struct http_response *res, void *arg)
{
	struct tg *tg = arg;

	(void)res;
	tg->inflight--;
}

static void answer_callback(struct tg *tg, const char *callback_id)
{
	char *body = NULL;

	if (telegram_api_build_answer_callback(callback_id, NULL, &body) != 0)
		return;
	if (post(tg, "answerCallbackQuery", body, tg_send_timeout_ms(tg), 64 * 1024, answered, tg) == 0)
		tg->inflight++;
	free(body);
}

/* Telegram answers getUpdates from the offset we send; when its ids
 * restarted below our offset (another server, new random ids after a quiet
 * week, the simulator restarted), an answer from its oldest pending update
 * (to a poll without an offset, see poll_offset, or from a server that
 * answers so) brings ids below our offset. They mean a new sequence: the
 * epoch moves on, in the batch's transaction, and the offset follows the
 * new ids. The new epoch is saved with the batch. */
static int restart_check(struct batch *b, const struct inbound_event *ev)
{
	char *end;
	long long id;

	if (ev->external_id[0] == '\0')
		return 0;
	id = strtoll(ev->external_id, &end, 10);
	if (*end != '\0')
		return 0;
	if (b->max_id < 0 && id < b->tg->offset && !b->restarted) {
		b->restarted = 1;
		b->epoch = b->tg->epoch + 1;
		log_warn("telegram: update ids restarted (%lld, below the saved offset %" PRId64
			 "); following the new sequence", id, b->tg->offset);
	}
	if (id > b->max_id)
		b->max_id = id;
	return 0;
}

/* Adds one update to the batch; the batch is stored once parsed. */
static int store_update(void *arg, int rc, const struct inbound_event *ev, unsigned flags,
			const cJSON *update)
{
	struct batch *b = arg;
	const struct gateway_env *d = b->tg->gw.env;
	struct inbound_event *copy;
	struct pending *p;

	(void)update;
	(void)flags;
	if (b->polled && restart_check(b, ev) != 0)
		return -CB_ESTORE;
	if (rc == TELEGRAM_IGNORED) {
		d->metrics->updates_ignored++;
		return 0;
	}
	if (rc != 0) {
		d->metrics->updates_malformed++;
		if (rc == -CB_EINVAL)
			log_warn("telegram: update %s refused: a text in it is not valid UTF-8",
				 ev->external_id[0] ? ev->external_id : "?");
		else
			log_warn("telegram: malformed update %s skipped", ev->external_id[0] ? ev->external_id : "?");
		return 0;
	}
	copy = NULL;
	if (b->epoch > 0 || ev->at == 0) {
		copy = malloc(sizeof(*copy));
		if (copy == NULL)
			return -CB_ENOMEM;
		*copy = *ev;
		ev = copy;
	}
	/* Ids of a new sequence may equal ones stored from an old one: the
	 * epoch keeps them apart, so nothing new is taken for a duplicate. */
	if (b->epoch > 0) {
		char id[EVENT_ID_MAX];

		cb_strlcpy(id, ev->external_id, sizeof(id));
		snprintf(copy->external_id, sizeof(copy->external_id), "%" PRId64 ":%.40s", b->epoch, id);
	}
	if (ev->at == 0) {
		/* Button presses carry no time: they happened now. */
		copy->at = time(NULL);
	}
	rc = b->n < TG_MAX_CALLBACKS ? event_to_json(ev, 0, b->json, INBOUND_EVENT_MAX) : -CB_ETOOBIG;
	if (rc == 0) {
		p = &b->ev[b->n];
		memset(p, 0, sizeof(*p));
		if ((p->json = strdup(b->json)) == NULL) {
			rc = -CB_ENOMEM;
		} else {
			cb_strlcpy(p->external_id, ev->external_id, sizeof(p->external_id));
			cb_strlcpy(p->sender, ev->sender, sizeof(p->sender));
			p->kind = event_kind_name(ev->kind);
			/* A press seen before is answered again: the first answer
			 * may not have reached Telegram. */
			if (ev->kind == EVENT_BUTTON)
				cb_strlcpy(p->callback_id, ev->callback_id, sizeof(p->callback_id));
			b->n++;
		}
	}
	free(copy);
	return rc;
}

static void schedule_poll(struct tg *tg, uint64_t delay);

static void backoff(struct tg *tg, const char *why)
{
	uint64_t wait = gateway_backoff_ms(&tg->backoff_ms, TG_BACKOFF_MIN_MS, TG_BACKOFF_MAX_MS);

	log_warn("telegram: polling failed (%s); next try in %" PRIu64 " ms", why, wait);
	gateway_poll_failed(&tg->gw, why);
	schedule_poll(tg, wait);
}

static void polled(const struct http_response *res, void *arg)
{
	struct tg *tg = arg;
	const struct gateway_env *d = tg->gw.env;
	struct telegram_updates u;
	struct batch *b;
	uint64_t now, since;
	struct inbound_cursor cursor[3];
	char offset_s[32], epoch_s[32], at_s[32];
	time_t at = time(NULL);
	int rc, ncursor = 0;

	tg->poll_inflight = 0;
	if (tg->stopping)
		return;
	if (res->error != 0) {
		backoff(tg, res->timed_out ? "timeout" : (res->cancelled ? "cancelled" : "no connection"));
		return;
	}
	b = calloc(1, sizeof(*b));
	if (b == NULL || (b->json = malloc(INBOUND_EVENT_MAX)) == NULL) {
		free(b);
		backoff(tg, "out of memory");
		return;
	}
	b->tg = tg;
	b->polled = 1;
	b->epoch = tg->epoch;
	b->max_id = -1;
	memset(&u, 0, sizeof(u));
	u.fn = store_update;
	u.arg = b;
	u.max_update_id = tg->offset - 1;
	rc = telegram_api_parse_updates(res->body, res->len, res->status, &u);
	/* A new sequence: the offset goes back to just past its ids. */
	if (rc == 0 && b->restarted) {
		u.max_update_id = b->max_id;
		snprintf(epoch_s, sizeof(epoch_s), "%" PRId64, b->epoch);
		cursor[ncursor++] = (struct inbound_cursor){"epoch", epoch_s};
	}
	if (rc == 0 && (b->restarted || u.max_update_id >= tg->offset)) {
		snprintf(offset_s, sizeof(offset_s), "%" PRId64, u.max_update_id + 1);
		cursor[ncursor++] = (struct inbound_cursor){"offset", offset_s};
	}
	if (rc == 0 && b->max_id >= 0) {
		snprintf(at_s, sizeof(at_s), "%lld", (long long)at);
		cursor[ncursor++] = (struct inbound_cursor){"last_update_at", at_s};
	}
	if (rc == 0)
		rc = batch_store(b, cursor, ncursor);
	if (rc != 0) {
		batch_free(b);
		if (rc == -CB_EGATEWAY && u.result.status == TELEGRAM_RETRY_AFTER) {
			schedule_poll(tg, (uint64_t)u.result.retry_after * 1000);
			return;
		}
		if (rc == -CB_EGATEWAY && u.result.status == TELEGRAM_UNAUTHORIZED)
			log_error("telegram: the bot token was refused; check token_file");
		backoff(tg, rc == -CB_EGATEWAY ? telegram_api_status_name(u.result.status) :
			    (rc == -CB_EPARSE ? "unreadable answer" : casebot_strerror(rc)));
		return;
	}
	/* Committed: only now does the offset move on at Telegram's side. */
	if (b->restarted || u.max_update_id >= tg->offset)
		tg->offset = u.max_update_id + 1;
	tg->epoch = b->epoch;
	if (b->max_id >= 0)
		tg->last_update_at = at;
	tg->backoff_ms = 0;
	gateway_polled(&tg->gw);
	now = loop_ms(tg);
	tg->gw.last_ok_ms = now;
	tg->gw.last_latency = res->total_seconds;
	for (int i = 0; i < b->n; i++)
		if (b->ev[i].callback_id[0] != '\0')
			answer_callback(tg, b->ev[i].callback_id);
	if (b->stored > 0)
		d->inbound_ready(d->arg);
	since = now - tg->poll_started;
	schedule_poll(tg, u.usable + u.ignored + u.malformed == 0 && since < TG_MIN_POLL_MS ?
			  TG_MIN_POLL_MS - since : 0);
	batch_free(b);
}

/* The offset to poll from. After a quiet spell longer than Telegram keeps
 * updates, our offset may be above the ids Telegram now gives, and
 * sending it would confirm, and so drop, every update below it: poll
 * without one (Telegram then answers from its oldest unconfirmed update,
 * and has none older than a day) until something comes. Updates already
 * stored that come again are known by their ids. */
static int64_t poll_offset(const struct tg *tg)
{
	if (tg->offset > 0 && time(NULL) - tg->last_update_at > TG_SERVER_KEEPS_SECONDS)
		return 0;
	return tg->offset;
}

static void poll_now(uv_timer_t *t)
{
	struct tg *tg = t->data;
	char *body = NULL;
	int rc;

	if (tg->stopping || tg->poll_inflight)
		return;
	if ((rc = telegram_api_build_get_updates(poll_offset(tg), TELEGRAM_POLL_TIMEOUT, &body)) != 0) {
		backoff(tg, "cannot build the request");
		return;
	}
	tg->poll_started = loop_ms(tg);
	rc = post(tg, "getUpdates", body, (TELEGRAM_POLL_TIMEOUT + 15) * 1000L, TG_UPDATES_MAX, polled, tg);
	free(body);
	if (rc != 0) {
		backoff(tg, casebot_strerror(rc));
		return;
	}
	tg->poll_inflight = 1;
}

static void schedule_poll(struct tg *tg, uint64_t delay)
{
	if (!tg->stopping)
		uv_timer_start(&tg->poll_timer, poll_now, delay, 0);
}

/* Webhook: POST /telegram/<path> with the secret header. */
static void webhook(struct http_server_req *req, void *arg)
{
	struct tg *tg = arg;
	const struct gateway_env *d = tg->gw.env;
	const char *given;
	size_t given_len = 0, secret_len = strlen(tg->secret);
	struct batch *b;
	struct inbound_event *ev;
	cJSON *update;
	int rc, ok = 0;

	if (strcmp(req->method, "POST") != 0) {
		http_server_respond(req, 405, "text/plain", "method not allowed\n", 19);
		return;
	}
	given = http_server_req_header(req, "x-telegram-bot-api-secret-token", &given_len);
	if (given == NULL || given_len != secret_len || secret_len == 0 ||
	    sodium_memcmp(given, tg->secret, secret_len) != 0) {
		d->metrics->webhook_refused++;
		http_server_respond(req, 401, "text/plain", "unauthorized\n", 13);
		return;
	}
	b = calloc(1, sizeof(*b));
	ev = malloc(sizeof(*ev));
	if (b == NULL || ev == NULL || (b->json = malloc(INBOUND_EVENT_MAX)) == NULL) {
		free(b);
		free(ev);
		http_server_respond(req, 503, "text/plain", "busy\n", 5);
		return;
	}
	b->tg = tg;
	b->epoch = tg->epoch;
	b->max_id = -1;
	update = req->body != NULL ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
	if (update == NULL) {
		/* Telegram would resend a refused update for ever: a malformed one
		 * is counted, logged and acknowledged. */
		d->metrics->updates_malformed++;
		log_warn("telegram webhook: body is not JSON");
		ok = 1;
		goto out;
	}
	rc = telegram_api_parse_update(update, 0, ev, NULL);
	rc = store_update(b, rc, ev, 0, update);
	if (rc == 0)
		rc = batch_store(b, NULL, 0);
	ok = rc == 0;
	cJSON_Delete(update);
out:
	if (ok) {
		http_server_respond(req, 200, "application/json", "{}", 2);
		tg->gw.last_ok_ms = loop_ms(tg);
		for (int i = 0; i < b->n; i++)
			if (b->ev[i].callback_id[0] != '\0')
				answer_callback(tg, b->ev[i].callback_id);
		if (b->stored > 0)
			d->inbound_ready(d->arg);
	} else {
		/* Not stored: Telegram keeps it and tries again. */
		http_server_respond(req, 500, "text/plain", "not stored\n", 11);
	}
	batch_free(b);
	free(ev);
}

/* ---- what Telegram shows before anyone writes ------------------------- */

/* Best effort: a refusal is logged, and the next start tries again. */
struct tg_setup {
	struct tg *tg;
	char what[64];
};

static void set_up(const struct http_response *res, void *arg)
{
	struct tg_setup *s = arg;
	struct telegram_result r;

	s->tg->inflight--;
	if (res->error != 0) {
		log_warn("telegram: %s: no answer", s->what);
	} else {
		telegram_api_parse_result(res->body, res->len, res->status, &r);
		if (r.status != TELEGRAM_OK)
			log_warn("telegram: %s refused: %d %.100s", s->what, r.error_code, r.description);
	}
	free(s);
}

/* Posts body (freed here) for method; what names it in log lines. */
static void setup_call(struct tg *tg, const char *method, const char *what, char *body, int rc)
{
	struct tg_setup *s = NULL;

	if (rc == 0 && (s = calloc(1, sizeof(*s))) != NULL) {
		s->tg = tg;
		snprintf(s->what, sizeof(s->what), "%s %s", method, what);
		rc = post(tg, method, body, tg_send_timeout_ms(tg), 64 * 1024, set_up, s);
	}
	if (rc == 0 && s == NULL)
		rc = -CB_ENOMEM;
	if (rc == 0) {
		tg->inflight++;
	} else {
		log_warn("telegram: %s %s not sent: %s", method, what, casebot_strerror(rc));
		free(s);
	}
	free(body);
}

/* The family menu in language l: each command is the first reply word of
 * its kind in that language, so typing it and choosing it do the same. */
static void family_commands(struct tg *tg, enum lang l, const char *language_code)
{
	static const char *const kinds[][2] = {
		{"words.help", "commands.family.help"}, {"words.language", "commands.family.language"},
		{"words.stop", "commands.family.stop"}, {"words.start", "commands.family.start"},
	};
	struct telegram_command c[CB_ARRAY_SIZE(kinds)];
	const struct locales *loc = *tg->gw.env->loc;
	const char *const *words;
	char *body = NULL, what[32];
	size_t n = 0;
	int rc;

	for (size_t i = 0; i < CB_ARRAY_SIZE(kinds); i++) {
		if (locale_list(loc, l, kinds[i][0], &words) == 0 || !telegram_api_command_ok(words[0])) {
			log_warn("telegram: %s.json %s: \"%s\" cannot be a command", lang_code(l), kinds[i][0],
				 locale_list(loc, l, kinds[i][0], &words) > 0 ? words[0] : "");
			continue;
		}
		c[n].command = words[0];
		c[n].description = locale_text(loc, l, kinds[i][1]);
		n++;
	}
	snprintf(what, sizeof(what), "families %s", language_code[0] != '\0' ? language_code : "default");
	rc = telegram_api_build_set_commands(c, n, "all_private_chats", 0, language_code, &body);
	setup_call(tg, "setMyCommands", what, body, rc);
}

struct staff_list {
	struct staff *s;
	size_t n, cap;
};

static int collect_staff(const void *rec, void *arg)
{
	struct staff_list *l = arg;
	struct staff *grown;

	if (l->n == l->cap) {
		size_t cap = l->cap != 0 ? l->cap * 2 : 16;

		if ((grown = realloc(l->s, cap * sizeof(*grown))) == NULL)
			return -CB_ENOMEM;
		l->s = grown;
		l->cap = cap;
	}
	l->s[l->n++] = *(const struct staff *)rec;
	return 0;
}

/* Each staff chat gets the staff commands, in that staff member's
 * language; a chat scope wins over the families' menu. */
static void staff_commands(struct tg *tg)
{
	static const char *const names[] = {
		"help", "families", "log", "appointment", "request", "checkin", "away", "alerts",
	};
	struct telegram_command c[CB_ARRAY_SIZE(names)];
	const struct gateway_env *d = tg->gw.env;
	struct staff_list l = {0};
	struct channel ch;
	char key[64], what[48], *body, *end;
	long long chat;
	int rc;

	if (store_staff_each(d->store, collect_staff, &l) != 0) {
		log_warn("telegram: staff commands not set: %s", store_errmsg(d->store));
		free(l.s);
		return;
	}
	for (size_t i = 0; i < l.n; i++) {
		if (!l.s[i].active || store_staff_channel(d->store, l.s[i].id, &ch) != 0 ||
		    strcmp(ch.kind, "telegram") != 0)
			continue;
		chat = strtoll(ch.address, &end, 10);
		if (*end != '\0')
			continue;
		for (size_t k = 0; k < CB_ARRAY_SIZE(names); k++) {
			snprintf(key, sizeof(key), "commands.staff.%s", names[k]);
			c[k].command = names[k];
			c[k].description = locale_text(*d->loc, l.s[i].lang, key);
		}
		body = NULL;
		snprintf(what, sizeof(what), "staff #%lld", (long long)l.s[i].id);
		rc = telegram_api_build_set_commands(c, CB_ARRAY_SIZE(names), "chat", chat, "", &body);
		setup_call(tg, "setMyCommands", what, body, rc);
	}
	free(l.s);
}

/* At start: the menus of family chats (in each language, and in the
 * default language for the others), the description every new chat shows
 * (neutral: it names no institution and no subject, since anyone may see
 * the phone), and the menus of staff chats. */
static void tg_setup_bot(struct tg *tg)
{
	const struct config *cfg = tg->gw.env->cfg;
	char *body;
	int rc;

	for (int l = -1; l < LANG_COUNT; l++) {
		enum lang lang = l < 0 ? cfg->default_language : (enum lang)l;
		const char *code = l < 0 ? "" : lang_code(lang);

		family_commands(tg, lang, code);
		body = NULL;
		rc = telegram_api_build_set_description(locale_text(*tg->gw.env->loc, lang, "bot.description"), code,
							&body);
		setup_call(tg, "setMyDescription", code[0] != '\0' ? code : "default", body, rc);
	}
	staff_commands(tg);
}

static int tg_start(struct gateway *gw)
{
	struct tg *tg = tg_of(gw);
	const struct gateway_env *d = gw->env;
	char path[128], value[32];

	if (store_state_get(d->store, "telegram", "offset", value, sizeof(value)) == 0)
		tg->offset = strtoll(value, NULL, 10);
	if (store_state_get(d->store, "telegram", "epoch", value, sizeof(value)) == 0)
		tg->epoch = strtoll(value, NULL, 10);
	if (store_state_get(d->store, "telegram", "last_update_at", value, sizeof(value)) == 0)
		tg->last_update_at = (time_t)strtoll(value, NULL, 10);
	tg->started = 1;
	tg_setup_bot(tg);
	if (d->cfg->gw.telegram.webhook) {
		snprintf(path, sizeof(path), "/telegram/%s", d->cfg->gw.telegram.webhook_path);
		return http_server_route(d->server, path, webhook, tg);
	}
	schedule_poll(tg, 0);
	return 0;
}

static void tg_stop(struct gateway *gw)
{
	struct tg *tg = tg_of(gw);

	tg->stopping = 1;
	uv_timer_stop(&tg->poll_timer);
}

static void sent(const struct http_response *res, void *arg)
{
	struct tg_call *call = arg;
	struct tg *tg = call->tg;
	struct telegram_result tr;
	struct gateway_result r;

	tg->inflight--;
	memset(&r, 0, sizeof(r));
	r.seconds = res->total_seconds;
	if (res->error != 0) {
		r.outcome = GW_TRANSIENT;
		r.timed_out = res->timed_out;
		snprintf(r.reason, sizeof(r.reason), "%s", res->timed_out ? "timeout" : "no connection");
	} else {
		telegram_api_parse_result(res->body, res->len, res->status, &tr);
		switch (tr.status) {
		case TELEGRAM_OK:
			r.outcome = GW_SENT;
			snprintf(r.message_id, sizeof(r.message_id), "%" PRId64, tr.message_id);
			tg->gw.last_ok_ms = loop_ms(tg);
			tg->gw.last_latency = res->total_seconds;
			break;
		case TELEGRAM_RETRY_AFTER:
			r.outcome = GW_RETRY_AFTER;
			r.retry_after = tr.retry_after;
			break;
		case TELEGRAM_BLOCKED:
			r.outcome = GW_BLOCKED;
			break;
		case TELEGRAM_PERMANENT:
			r.outcome = GW_PERMANENT;
			/* An edit to what the message already shows (Details
			 * pressed twice): the reader sees what we meant. */
			if (call != NULL && call->edited[0] != '\0' &&
			    strstr(tr.description, "message is not modified") != NULL) {
				r.outcome = GW_SENT;
				cb_strlcpy(r.message_id, call->edited, sizeof(r.message_id));
			}
			break;
		default:
			/* A refused token is ours to fix; the message waits. */
			r.outcome = GW_TRANSIENT;
			break;
		}
		if (r.outcome != GW_SENT)
			snprintf(r.reason, sizeof(r.reason), "telegram %d: %.100s", tr.error_code, tr.description);
	}
	if (call->sent_cb != NULL)
		call->sent_cb(&r, call->arg);
	free(call);
}

static int parse_chat(const char *address, int64_t *chat)
{
	char *end;

	errno = 0;
	*chat = strtoll(address, &end, 10);
	return errno == 0 && end != address && *end == '\0' ? 0 : -CB_EINVAL;
}

/* The request body of a part: sendMessage, or editMessageText of
 * message_id when it is not 0. */
static int part_body(const struct gateway_part *p, int64_t message_id, char **body)
{
	struct telegram_button buttons[COMPOSE_BUTTONS_MAX];
	struct telegram_message m;
	char *text;
	int rc;

	memset(&m, 0, sizeof(m));
	if (parse_chat(p->address, &m.chat_id) != 0)
		return -CB_EINVAL;
	text = strndup(p->text, p->len);
	if (text == NULL)
		return -CB_ENOMEM;
	m.text = text;
	/* Two buttons a row: labels stay readable on a small screen. */
	for (int i = 0; i < p->nbuttons && i < COMPOSE_BUTTONS_MAX; i++) {
		buttons[i].text = p->buttons[i].label;
		buttons[i].data = p->buttons[i].data;
		buttons[i].row = (unsigned)i / 2;
	}
	m.buttons = buttons;
	m.nbuttons = (size_t)(p->nbuttons < COMPOSE_BUTTONS_MAX ? p->nbuttons : COMPOSE_BUTTONS_MAX);
	if (message_id != 0)
		rc = telegram_api_build_edit_message_text(&m, message_id, body);
	else
		rc = telegram_api_build_send_message(&m, body);
	free(text);
	return rc;
}

static int send_text(struct tg *tg, const struct gateway_part *p, gateway_sent_cb cb, void *arg)
{
	struct tg_call *call;
	char *body = NULL;
	int rc;

	if ((rc = part_body(p, 0, &body)) != 0)
		return rc;
	if ((call = calloc(1, sizeof(*call))) != NULL) {
		call->sent_cb = cb;
		call->arg = arg;
	}
	return start_call(tg, "sendMessage", body, 256 * 1024, sent, call);
}

/* A message sent before, changed in place with editMessageText: Telegram
 * shows no new notification for it. */
static int tg_edit(struct gateway *gw, const char *message_id, const struct gateway_part *p, gateway_sent_cb cb,
		   void *arg)
{
	struct tg_call *call;
	char *body = NULL, *end;
	long long id;
	int rc;

	errno = 0;
	id = strtoll(message_id, &end, 10);
	if (errno != 0 || end == message_id || *end != '\0' || id <= 0)
		return -CB_EINVAL;
	if ((rc = part_body(p, (int64_t)id, &body)) != 0)
		return rc;
	if ((call = calloc(1, sizeof(*call))) != NULL) {
		call->sent_cb = cb;
		call->arg = arg;
		cb_strlcpy(call->edited, message_id, sizeof(call->edited));
	}
	return start_call(tg_of(gw), "editMessageText", body, 256 * 1024, sent, call);
}

/* A family's file passed on by its file_id: Telegram lets a bot send again
 * what it received, without downloading it. */
static int tg_send_media(struct gateway *gw, const char *address, const char *media_kind, const char *media_ref,
			 gateway_sent_cb cb, void *arg)
{
	static const char *const map[][3] = {
		{"photo", "sendPhoto", "photo"}, {"document", "sendDocument", "document"},
		{"voice", "sendVoice", "voice"}, {"audio", "sendAudio", "audio"},
		{"video", "sendVideo", "video"}, {"video_note", "sendVideoNote", "video_note"},
		{"sticker", "sendSticker", "sticker"},
	};
	struct tg *tg = tg_of(gw);
	struct tg_call *call;
	char chat_s[32];
	cJSON *o;
	char *body;
	int64_t chat;

	if (parse_chat(address, &chat) != 0)
		return -CB_EINVAL;
	for (size_t i = 0; i < CB_ARRAY_SIZE(map); i++) {
		if (strcmp(media_kind, map[i][0]) != 0)
			continue;
		snprintf(chat_s, sizeof(chat_s), "%" PRId64, chat);
		/* Ids go as exact decimal text: cJSON would print large ones in
		 * floating point. */
		if ((o = cJSON_CreateObject()) == NULL || cJSON_AddRawToObject(o, "chat_id", chat_s) == NULL ||
		    cJSON_AddStringToObject(o, map[i][2], media_ref) == NULL) {
			cJSON_Delete(o);
			return -CB_ENOMEM;
		}
		body = cJSON_PrintUnformatted(o);
		cJSON_Delete(o);
		if (body == NULL)
			return -CB_ENOMEM;
		if ((call = calloc(1, sizeof(*call))) != NULL) {
			call->sent_cb = cb;
			call->arg = arg;
		}
		return start_call(tg, map[i][1], body, 256 * 1024, sent, call);
	}
	return -CB_EINVAL;
}

/* A file casebot made, uploaded as multipart/form-data: a voice note goes
 * with sendVoice, so that the phone shows it as one (Ogg/Opus), anything
 * else as a document. */
static int tg_send_file(struct gateway *gw, const char *address, const char *media_kind, const char *mime,
			const char *filename, const void *data, size_t len, gateway_sent_cb cb, void *arg)
{
	struct tg *tg = tg_of(gw);
	int voice = strcmp(media_kind, "voice") == 0;
	const char *method = voice ? "sendVoice" : "sendDocument", *field = voice ? "voice" : "document";
	struct http_request req;
	struct tg_call *call;
	char url[512], chat_s[32];
	int64_t chat;
	int rc;

	if (parse_chat(address, &chat) != 0 || len == 0)
		return -CB_EINVAL;
	snprintf(chat_s, sizeof(chat_s), "%" PRId64, chat);
	{
		const struct http_form_field form[] = {
			{"chat_id", chat_s, strlen(chat_s), NULL, NULL},
			{field, data, len, filename, mime},
		};

		if ((rc = telegram_api_method_url(url, sizeof(url), tg->gw.env->cfg->gw.telegram.api_base, tg->token,
						  method)) != 0)
			return rc;
		if ((call = calloc(1, sizeof(*call))) == NULL) {
			sodium_memzero(url, sizeof(url));
			return -CB_ENOMEM;
		}
		call->tg = tg;
		call->sent_cb = cb;
		call->arg = arg;
		memset(&req, 0, sizeof(req));
		req.method = HTTP_POST;
		req.url = url;
		req.form = form;
		req.nform = CB_ARRAY_SIZE(form);
		req.timeout_ms = tg_send_timeout_ms(tg);
		req.max_response_bytes = 256 * 1024;
		rc = http_client_request(tg->gw.env->http, &req, sent, call);
		sodium_memzero(url, sizeof(url));
	}
	if (rc != 0) {
		free(call);
		return rc;
	}
	tg->inflight++;
	return 0;
}

static int tg_send(struct gateway *gw, const struct gateway_part *p, gateway_sent_cb cb, void *arg)
{
	return send_text(tg_of(gw), p, cb, arg);
}

static void tg_send_direct(struct gateway *gw, const char *address, const char *text)
{
	struct gateway_part p = {.address = address, .text = text, .len = strlen(text)};

	if (send_text(tg_of(gw), &p, NULL, NULL) != 0)
		log_warn("telegram: a neutral answer could not be sent");
}

static size_t tg_split(const char *text, size_t len, size_t *next)
{
	return telegram_api_split(text, len, TELEGRAM_TEXT_MAX_UNITS, next);
}

static void downloaded(const struct http_response *res, void *arg)
{
	struct tg_call *call = arg;
	int rc = res->error;

	call->tg->inflight--;
	if (rc == 0 && (res->status < 200 || res->status > 299))
		rc = -CB_EGATEWAY;
	call->fetched_cb(rc, (int64_t)res->len, call->arg);
	free(call);
}

static void got_file(const struct http_response *res, void *arg)
{
	struct tg_call *call = arg;
	struct tg *tg = call->tg;
	struct telegram_result tr;
	struct http_request req;
	char url[768];
	int rc = res->error;

	tg->inflight--;
	if (rc == 0) {
		if (telegram_api_parse_result(res->body, res->len, res->status, &tr) != 0)
			rc = -CB_EGATEWAY;
		else if (tr.status == TELEGRAM_PERMANENT)
			/* A refusal never gets better; "file is too big" is how
			 * Telegram refuses a file over 20 MB. */
			rc = strstr(tr.description, "too big") != NULL ? -CB_ETOOBIG : -CB_EINVAL;
		else if (tr.status != TELEGRAM_OK || tr.file_path[0] == '\0')
			rc = -CB_EGATEWAY;
	}
	if (rc == 0 && tr.file_size > TELEGRAM_DOWNLOAD_MAX)
		rc = -CB_ETOOBIG;
	if (rc == 0)
		rc = telegram_api_file_url(url, sizeof(url), tg->gw.env->cfg->gw.telegram.api_base, tg->token,
					   tr.file_path);
	if (rc == 0) {
		memset(&req, 0, sizeof(req));
		req.method = HTTP_GET;
		req.url = url;
		req.timeout_ms = 120000;
		req.max_response_bytes = TELEGRAM_DOWNLOAD_MAX;
		req.sink = call->sink;
		req.sink_arg = call->arg;
		rc = http_client_request(tg->gw.env->http, &req, downloaded, call);
		sodium_memzero(url, sizeof(url));
		if (rc == 0) {
			tg->inflight++;
			return;
		}
	}
	call->fetched_cb(rc, 0, call->arg);
	free(call);
}

static int tg_fetch(struct gateway *gw, const char *media_ref, gateway_sink_fn sink,
		    gateway_fetched_cb cb, void *arg)
{
	struct tg *tg = tg_of(gw);
	struct tg_call *call;
	char *body = NULL;
	int rc;

	if ((rc = telegram_api_build_get_file(media_ref, &body)) != 0)
		return rc;
	if ((call = calloc(1, sizeof(*call))) != NULL) {
		call->fetched_cb = cb;
		call->sink = sink;
		call->arg = arg;
	}
	return start_call(tg, "getFile", body, 64 * 1024, got_file, call);
}

static int tg_busy(const struct gateway *gw)
{
	const struct tg *tg = (const struct tg *)gw;

	/* A long poll left hanging by stop() is cancelled at close, not
	 * waited for. */
	return tg->inflight + (tg->stopping ? 0 : tg->poll_inflight);
}

static void tg_closed(uv_handle_t *h)
{
	struct tg *tg = h->data;

	sodium_memzero(tg->token, sizeof(tg->token));
	sodium_memzero(tg->secret, sizeof(tg->secret));
	free(tg);
}

static void tg_free(struct gateway *gw)
{
	struct tg *tg = tg_of(gw);

	tg->stopping = 1;
	uv_close((uv_handle_t *)&tg->poll_timer, tg_closed);
}

static const struct gateway_ops telegram_ops = {
	.name = "telegram",
	.start = tg_start,
	.stop = tg_stop,
	.send = tg_send,
	.send_media = tg_send_media,
	.send_file = tg_send_file,
	.edit = tg_edit,
	.send_direct = tg_send_direct,
	.split = tg_split,
	.fetch = tg_fetch,
	.fetch_max = TELEGRAM_DOWNLOAD_MAX,
	.busy = tg_busy,
	.free = tg_free,
};

/* ---- [telegram] --------------------------------------------------------- */

static int is_url(const char *v)
{
	return strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0 ? 0 : -CB_EINVAL;
}

static const char *const modes[] = {"poll", "webhook", NULL};

static const struct config_key keys[] = {
	{"api_base", CONFIG_TEXT, CONFIG_AT(gw.telegram.api_base), is_url, NULL,
	 "expected an http:// or https:// URL"},
	CONFIG_FILE_KEY("token_file", gw.telegram.token_file),
	{"bot_username", CONFIG_TEXT, CONFIG_AT(gw.telegram.bot_username), NULL, NULL, NULL},
	{"mode", CONFIG_CHOICE, CONFIG_AT(gw.telegram.webhook), NULL, modes, "expected poll or webhook"},
	CONFIG_FILE_KEY("webhook_secret_file", gw.telegram.webhook_secret_file),
	{"webhook_path", CONFIG_TEXT, CONFIG_AT(gw.telegram.webhook_path), NULL, NULL, NULL},
	{"rate_per_chat", CONFIG_RATE, CONFIG_AT(gw.telegram.rate_per_chat), NULL, NULL, NULL},
	{"rate_global", CONFIG_RATE, CONFIG_AT(gw.telegram.rate_global), NULL, NULL, NULL},
	{"send_timeout", CONFIG_SECONDS, CONFIG_AT(gw.telegram.send_timeout), NULL, NULL, NULL},
};

static void defaults(struct config *cfg)
{
	struct telegram_settings *t = &cfg->gw.telegram;

	cb_strlcpy(t->api_base, "https://api.telegram.org", sizeof(t->api_base));
	cb_strlcpy(t->bot_username, "casebot", sizeof(t->bot_username));
	cb_strlcpy(t->webhook_path, "hook", sizeof(t->webhook_path));
	t->rate_per_chat = 1.0;
	t->rate_global = 30.0;
	t->send_timeout = 20;
}

static int check(const struct config *cfg, const char *path, char *err, size_t errlen)
{
	if (cfg->gw.telegram.webhook && cfg->gw.telegram.webhook_secret_file[0] == '\0') {
		snprintf(err, errlen, "%s: [telegram] mode = webhook needs webhook_secret_file", path);
		return -CB_ECONFIG;
	}
	return 0;
}

const struct config_section gateway_telegram_config = {
	"telegram", keys, CB_ARRAY_SIZE(keys), defaults, check,
};

int gateway_telegram_token(const struct config *cfg, char *out, size_t cap)
{
	const char *env = getenv("CASEBOT_TELEGRAM_TOKEN");

	if (env != NULL && env[0] != '\0')
		return cb_strlcpy(out, env, cap) == 0 ? 0 : -CB_ETOOBIG;
	if (cfg->gw.telegram.token_file[0] == '\0')
		return -CB_ENOENT;
	return config_secret_file(cfg->gw.telegram.token_file, out, cap);
}

struct gateway *gateway_telegram_new(const struct gateway_env *d, char *err, size_t errlen)
{
	struct tg *tg = calloc(1, sizeof(*tg));
	int rc;

	if (tg == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	tg->gw.ops = &telegram_ops;
	tg->gw.env = d;
	rc = gateway_telegram_token(d->cfg, tg->token, sizeof(tg->token));
	if (rc != 0) {
		snprintf(err, errlen, "no Telegram token: set CASEBOT_TELEGRAM_TOKEN or [telegram] token_file (%s)",
			 casebot_strerror(rc));
		free(tg);
		return NULL;
	}
	if (d->cfg->gw.telegram.webhook &&
	    config_secret_file(d->cfg->gw.telegram.webhook_secret_file, tg->secret, sizeof(tg->secret)) != 0) {
		snprintf(err, errlen, "%s: cannot read the webhook secret (one line, a file only casebot may read)",
			 d->cfg->gw.telegram.webhook_secret_file);
		sodium_memzero(tg->token, sizeof(tg->token));
		free(tg);
		return NULL;
	}
	tg->gw.caps = (struct gateway_caps){
		.buttons_max = TELEGRAM_BUTTONS_MAX,
		.button_title_max = TELEGRAM_CALLBACK_DATA_MAX,
		.button_data_max = TELEGRAM_CALLBACK_DATA_MAX,
		/* 4096 UTF-16 units are at most 16 KiB of UTF-8; tg_split
		 * counts the units. */
		.text_max = 4 * TELEGRAM_TEXT_MAX_UNITS,
		.media_send = GATEWAY_MEDIA_ALL,
		.media_receive = GATEWAY_MEDIA_ALL,
		.can_edit = 1,
		.rate_per_chat = d->cfg->gw.telegram.rate_per_chat,
		.rate_global = d->cfg->gw.telegram.rate_global,
		.send_timeout_ms = d->cfg->gw.telegram.send_timeout * 1000,
		/* In webhook mode Telegram calls us: silence is no fault. */
		.quiet_ok = d->cfg->gw.telegram.webhook,
	};
	uv_timer_init(d->loop, &tg->poll_timer);
	tg->poll_timer.data = tg;
	return &tg->gw;
}
