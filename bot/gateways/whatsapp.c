/* The WhatsApp gateway, receiving side: the [whatsapp] section, the
 * secrets, the webhook (GET verification, POST with the X-Hub-Signature-256
 * HMAC of the raw body) and media downloads. The token and the app secret
 * never leave this process except in an Authorization header; no URL, number
 * or message body is logged above debug. */
#include <curl/curl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/config.h"
#include "bot/event_json.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/telegram_api.h"
#include "bot/gateways/whatsapp.h"
#include "bot/gateways/whatsapp_send.h"
#include "bot/gateways/whatsapp_api.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/net/http_client.h"
#include "bot/net/http_server.h"
#include "store/store.h"

#define WA_QUERY_VALUE_MAX 512       /* hub.challenge and hub.verify_token */

static struct whatsapp *wa_of(struct gateway *gw)
{
	return (struct whatsapp *)gw;
}

/* ---- GET verification ----------------------------------------------- */

/* The decoded value of one query parameter, or -CB_ENOENT. The query is
 * split at '&' and '=' and each part percent-decoded by libcurl. */
static int query_param(const char *path, const char *name, char *out, size_t cap)
{
	const char *q = strchr(path, '?'), *p, *end, *eq;
	size_t nlen = strlen(name);
	char *dec;
	int n;

	if (q == NULL)
		return -CB_ENOENT;
	for (p = q + 1; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = strchr(p, '&');
		if (end == NULL)
			end = p + strlen(p);
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq == NULL || (size_t)(eq - p) != nlen || memcmp(p, name, nlen) != 0)
			continue;
		dec = curl_easy_unescape(NULL, eq + 1, (int)(end - eq - 1), &n);
		if (dec == NULL)
			return -CB_ENOMEM;
		if ((size_t)n >= cap || memchr(dec, '\0', (size_t)n) != NULL) {
			curl_free(dec);
			return -CB_ETOOBIG;
		}
		memcpy(out, dec, (size_t)n);
		out[n] = '\0';
		curl_free(dec);
		return 0;
	}
	return -CB_ENOENT;
}

/* Meta checks the endpoint once when it is registered: it sends
 * hub.mode=subscribe, the verify token configured there, and a challenge
 * to echo. Anything else is refused. */
static void verify(struct whatsapp *wa, struct http_server_req *req)
{
	const char *want = wa->gw.env->cfg->gw.whatsapp.verify_token;
	char mode[32], token[WA_QUERY_VALUE_MAX], challenge[WA_QUERY_VALUE_MAX];
	size_t tlen, wlen = strlen(want);
	int ok;

	ok = query_param(req->path, "hub.mode", mode, sizeof(mode)) == 0 && strcmp(mode, "subscribe") == 0 &&
	     query_param(req->path, "hub.verify_token", token, sizeof(token)) == 0 &&
	     query_param(req->path, "hub.challenge", challenge, sizeof(challenge)) == 0;
	if (ok) {
		tlen = strlen(token);
		ok = wlen > 0 && tlen == wlen && sodium_memcmp(token, want, wlen) == 0;
	}
	sodium_memzero(token, sizeof(token));
	if (!ok) {
		wa->gw.env->metrics->webhook_refused++;
		log_warn("whatsapp webhook: a verification request was refused");
		http_server_respond(req, 403, "text/plain", "forbidden\n", 10);
		return;
	}
	log_info("whatsapp webhook: verified by Meta");
	http_server_respond(req, 200, "text/plain", challenge, strlen(challenge));
}

/* ---- POST: the signature ---------------------------------------------- */

/* X-Hub-Signature-256 is "sha256=" and the hex HMAC-SHA256 of the body as
 * received, keyed with the app secret. The bytes are hashed as they came:
 * JSON serialised again would differ on escaped accents and emoji. */
int whatsapp_signature_ok(const char *secret, const char *header, size_t hlen, const char *body, size_t len)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES], given[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	size_t glen = 0;
	int ok;

	if (header == NULL || hlen != 7 + 2 * sizeof(mac) || strncmp(header, "sha256=", 7) != 0)
		return 0;
	if (sodium_hex2bin(given, sizeof(given), header + 7, hlen - 7, NULL, &glen, NULL) != 0 || glen != sizeof(given))
		return 0;
	/* The key is the app secret as Meta shows it, of any length: the
	 * streaming API takes that, crypto_auth_hmacsha256() only 32 bytes. */
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	if (len > 0)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	ok = sodium_memcmp(mac, given, sizeof(mac)) == 0;
	sodium_memzero(mac, sizeof(mac));
	return ok;
}

static int signature_ok(const struct whatsapp *wa, struct http_server_req *req)
{
	size_t hlen = 0;
	const char *h = http_server_req_header(req, "x-hub-signature-256", &hlen);

	return whatsapp_signature_ok(wa->app_secret, h, hlen, req->body, req->body_len);
}

/* ---- POST: the batch ------------------------------------------------- */

/* One message of a batch, as it goes to the store. */
struct pending {
	char external_id[EVENT_ID_MAX];
	char sender[EVENT_ID_MAX];
	const char *kind;            /* for the metrics */
	char *json;
};

/* Everything one POST holds: collected while parsing, stored in one
 * transaction, answered 200 once that is committed. */
struct batch {
	struct whatsapp *wa;
	struct pending *ev;
	int n, cap;
	struct whatsapp_status *st;
	int nst, stcap;
	unsigned char *billable;     /* per status: first billable word, count it */
	int stored, moved;
	char *json;                  /* room for one event as JSON */
};

static void batch_free(struct batch *b)
{
	for (int i = 0; i < b->n; i++)
		free(b->ev[i].json);
	free(b->ev);
	free(b->st);
	free(b->billable);
	free(b->json);
}

static int grow(void **p, int *cap, int n, size_t size)
{
	void *q;
	int c;

	if (n < *cap)
		return 0;
	c = *cap != 0 ? *cap * 2 : 16;
	if ((q = realloc(*p, (size_t)c * size)) == NULL)
		return -CB_ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

static int on_message(void *arg, int rc, const struct inbound_event *ev)
{
	struct batch *b = arg;
	struct metrics *m = b->wa->gw.env->metrics;
	struct pending *p;

	if (rc == WHATSAPP_IGNORED) {
		m->updates_ignored++;
		return 0;
	}
	if (rc != 0) {
		m->updates_malformed++;
		log_warn("whatsapp webhook: a malformed message was skipped");
		return 0;
	}
	if ((rc = event_to_json(ev, 0, b->json, INBOUND_EVENT_MAX)) != 0 ||
	    (rc = grow((void **)&b->ev, &b->cap, b->n, sizeof(*b->ev))) != 0)
		return rc;
	p = &b->ev[b->n];
	memset(p, 0, sizeof(*p));
	if ((p->json = strdup(b->json)) == NULL)
		return -CB_ENOMEM;
	cb_strlcpy(p->external_id, ev->external_id, sizeof(p->external_id));
	cb_strlcpy(p->sender, ev->sender, sizeof(p->sender));
	p->kind = event_kind_name(ev->kind);
	b->n++;
	return 0;
}

static int on_status(void *arg, int rc, const struct whatsapp_status *st)
{
	struct batch *b = arg;
	struct metrics *m = b->wa->gw.env->metrics;

	if (rc == WHATSAPP_IGNORED) {
		m->updates_ignored++;
		return 0;
	}
	if (rc != 0) {
		m->updates_malformed++;
		log_warn("whatsapp webhook: a malformed status was skipped");
		return 0;
	}
	if ((rc = grow((void **)&b->st, &b->stcap, b->nst, sizeof(*b->st))) != 0)
		return rc;
	b->st[b->nst++] = *st;
	return 0;
}

_Static_assert((int)WA_STATE_SENT == (int)DELIVERY_SENT && (int)WA_STATE_FAILED == (int)DELIVERY_FAILED &&
		       (int)WA_STATE_PLAYED == (int)DELIVERY_PLAYED,
	       "WhatsApp's states are the store's delivery states");

/* In the batch's transaction: the statuses, in the order they came. */
static int apply_statuses(struct store *store, void *arg)
{
	struct batch *b = arg;
	int applied, billable, rc;
	int64_t outbox_id;

	if (b->nst > 0 && (b->billable = calloc((size_t)b->nst, 1)) == NULL)
		return -CB_ENOMEM;
	for (int i = 0; i < b->nst; i++) {
		const struct whatsapp_status *s = &b->st[i];
		struct delivery d = {
			s->message_id, (enum delivery_state)s->state, s->at, s->error_code, s->error_title,
			s->error_details, s->category, s->billable,
		};

		if ((rc = store_delivery_apply(store, "whatsapp", &d, time(NULL), &applied, &billable, &outbox_id)) != 0)
			return rc;
		b->billable[i] = (unsigned char)billable;
		b->moved += applied && outbox_id != 0;
		if (applied && outbox_id != 0 && d.state == DELIVERY_FAILED &&
		    (rc = whatsapp_send_status_failed(b->wa->gw.env, outbox_id, s->error_code, s->error_title)) != 0)
			return rc;
	}
	return 0;
}

static int batch_store(struct batch *b)
{
	const struct gateway_env *d = b->wa->gw.env;
	struct inbound_new *rows = NULL;
	int rc;

	if (b->n > 0 && (rows = calloc((size_t)b->n, sizeof(*rows))) == NULL)
		return -CB_ENOMEM;
	for (int i = 0; i < b->n; i++)
		rows[i] = (struct inbound_new){b->ev[i].external_id, b->ev[i].sender, b->ev[i].json, 0};
	rc = store_inbound_batch_with(d->store, "whatsapp", time(NULL), rows, b->n, NULL, 0, apply_statuses, b);
	for (int i = 0; rc == 0 && i < b->n; i++) {
		if (!rows[i].stored)
			continue;
		b->stored++;
		metrics_count(d->metrics, "in", "whatsapp", b->ev[i].kind);
	}
	for (int i = 0; rc == 0 && i < b->nst; i++)
		if (b->billable[i])
			metrics_billable(d->metrics, "whatsapp", b->st[i].category);
	free(rows);
	return rc;
}

static void webhook(struct http_server_req *req, void *arg)
{
	struct whatsapp *wa = arg;
	const struct gateway_env *d = wa->gw.env;
	struct whatsapp_webhook w;
	struct batch b;
	int rc;

	if (strcmp(req->method, "GET") == 0) {
		verify(wa, req);
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		http_server_respond(req, 405, "text/plain", "method not allowed\n", 19);
		return;
	}
	if (!signature_ok(wa, req)) {
		d->metrics->webhook_refused++;
		log_warn("whatsapp webhook: a POST without a valid signature was refused");
		http_server_respond(req, 401, "text/plain", "unauthorized\n", 13);
		return;
	}
	memset(&b, 0, sizeof(b));
	b.wa = wa;
	if ((b.json = malloc(INBOUND_EVENT_MAX)) == NULL) {
		http_server_respond(req, 503, "text/plain", "busy\n", 5);
		return;
	}
	memset(&w, 0, sizeof(w));
	w.message = on_message;
	w.status = on_status;
	w.arg = &b;
	w.phone_number_id = d->cfg->gw.whatsapp.phone_number_id;
	rc = whatsapp_api_parse_webhook(req->body, req->body_len, &w);
	if (rc == -CB_EPARSE) {
		/* Signed by Meta and unreadable: it would come back for days
		 * and never read better. Counted, logged, acknowledged. */
		d->metrics->updates_malformed++;
		log_warn("whatsapp webhook: the body is not a WhatsApp notification");
		rc = 0;
	} else if (rc == 0) {
		if (w.errors > 0)
			log_warn("whatsapp webhook: Meta reports %d error(s), the first %d", w.errors,
				 w.first_error_code);
		rc = batch_store(&b);
	}
	if (rc != 0) {
		/* Nothing of it is stored: Meta keeps it and tries again. */
		log_warn("whatsapp webhook: not stored (%s)", casebot_strerror(rc));
		http_server_respond(req, 500, "text/plain", "not stored\n", 11);
		batch_free(&b);
		return;
	}
	/* Where a crash must lose nothing and handle nothing twice: new
	 * messages are committed, Meta has not heard so and will send them
	 * again. */
	if (b.stored > 0)
		clock_crash_point("whatsapp_committed");
	http_server_respond(req, 200, "text/plain", "ok\n", 3);
	wa->gw.last_ok_ms = uv_now(d->loop);
	if (b.stored > 0)
		d->inbound_ready(d->arg);
	batch_free(&b);
}

/* ---- the gateway ------------------------------------------------------ */

static int wa_start(struct gateway *gw)
{
	struct whatsapp *wa = wa_of(gw);
	const struct gateway_env *d = gw->env;
	char path[128];

	wa->started = 1;
	snprintf(path, sizeof(path), "/whatsapp/%s", d->cfg->gw.whatsapp.webhook_path);
	return http_server_route(d->server, path, webhook, wa);
}

static void wa_stop(struct gateway *gw)
{
	wa_of(gw)->stopping = 1;
}

/* Sends are the sending side's (whatsapp_send.c). */
static int wa_send(struct gateway *gw, const struct gateway_part *p, gateway_sent_cb cb, void *arg)
{
	return whatsapp_send_part(wa_of(gw), p, cb, arg);
}

static void wa_send_direct(struct gateway *gw, const char *address, const char *text)
{
	struct gateway_part p = {.address = address, .text = text, .len = strlen(text)};

	if (whatsapp_send_part(wa_of(gw), &p, NULL, NULL) != 0)
		log_warn("whatsapp: a neutral answer could not be sent");
}

size_t whatsapp_text_len(const char *text, size_t len)
{
	return telegram_api_utf16_len(text, len);
}

/* The same cut as Telegram's (a line or word break, never inside what a
 * reader sees as one character), at WhatsApp's limit. */
static size_t wa_split(const char *text, size_t len, size_t *next)
{
	return telegram_api_split(text, len, WHATSAPP_TEXT_MAX, next);
}

/* ---- media in ------------------------------------------------------------ */

/* A download is two Graph API calls with the Bearer header: GET
 * /{media-id} answers a URL that lives about five minutes, which is then
 * fetched at once, into the caller's sink. */
struct wa_fetch {
	struct whatsapp *wa;
	gateway_sink_fn sink;
	gateway_fetched_cb cb;
	void *arg;
};

/* Media ids are digits (the simulator's may have letters): nothing that
 * could change the URL's path. */
static int media_id_ok(const char *id)
{
	size_t n = 0;

	for (; id[n] != '\0'; n++)
		if (!((id[n] >= '0' && id[n] <= '9') || (id[n] >= 'a' && id[n] <= 'z') ||
		      (id[n] >= 'A' && id[n] <= 'Z') || id[n] == '_' || id[n] == '-'))
			return 0;
	return n > 0 && n < 128;
}

static int wa_get(struct whatsapp *wa, const char *url, size_t max, gateway_sink_fn sink, void *sink_arg,
		  long timeout_ms, http_done_cb done, void *arg)
{
	char auth[WHATSAPP_TOKEN_MAX + 32];
	const char *headers[] = {auth, NULL};
	struct http_request req;
	int rc;

	if ((rc = whatsapp_auth_header(wa, auth, sizeof(auth))) != 0)
		return rc;
	memset(&req, 0, sizeof(req));
	req.method = HTTP_GET;
	req.url = url;
	req.headers = headers;
	req.timeout_ms = timeout_ms;
	req.max_response_bytes = max;
	req.sink = sink;
	req.sink_arg = sink_arg;
	rc = http_client_request(wa->gw.env->http, &req, done, arg);
	sodium_memzero(auth, sizeof(auth));
	if (rc == 0)
		wa->inflight++;
	return rc;
}

static void media_done(const struct http_response *res, void *arg)
{
	struct wa_fetch *f = arg;
	int rc = res->error;

	f->wa->inflight--;
	if (rc == 0 && (res->status < 200 || res->status > 299))
		rc = res->status == 404 || res->status == 403 ? -CB_EINVAL : -CB_EGATEWAY;
	f->cb(rc, (int64_t)res->len, f->arg);
	free(f);
}

/* The download URL comes from Meta's answer; the token goes only to a URL
 * of the same scheme as api_base (https, unless a local simulator stands
 * in), and only as a header. */
static int url_allowed(const struct whatsapp *wa, const char *url)
{
	const char *base = wa->gw.env->cfg->gw.whatsapp.api_base;

	if (strncmp(url, "https://", 8) == 0)
		return 1;
	return strncmp(url, "http://", 7) == 0 && strncmp(base, "http://", 7) == 0;
}

static void media_url(const struct http_response *res, void *arg)
{
	struct wa_fetch *f = arg;
	struct whatsapp *wa = f->wa;
	struct whatsapp_media m;
	int rc = res->error;

	wa->inflight--;
	if (rc == 0) {
		rc = whatsapp_api_parse_media(res->body, res->len, res->status, &m);
		/* 100: no such media (gone after 30 days, or never ours). */
		if (rc == -CB_EGATEWAY && (m.error_code == 100 || (res->status >= 400 && res->status < 500 &&
								  res->status != 429)))
			rc = -CB_EINVAL;
		else if (rc == -CB_EPARSE)
			rc = -CB_EGATEWAY;
	}
	if (rc == 0 && m.size > WHATSAPP_DOWNLOAD_MAX)
		rc = -CB_ETOOBIG;
	if (rc == 0 && !url_allowed(wa, m.url))
		rc = -CB_EINVAL;
	if (rc == 0) {
		rc = wa_get(wa, m.url, WHATSAPP_DOWNLOAD_MAX, f->sink, f->arg, 120000, media_done, f);
		sodium_memzero(m.url, sizeof(m.url));
		if (rc == 0)
			return;
	}
	f->cb(rc, 0, f->arg);
	free(f);
}

static int wa_fetch(struct gateway *gw, const char *media_ref, gateway_sink_fn sink, gateway_fetched_cb cb,
		    void *arg)
{
	struct whatsapp *wa = wa_of(gw);
	struct wa_fetch *f;
	char url[512];
	int n, rc;

	if (!media_id_ok(media_ref))
		return -CB_EINVAL;
	n = snprintf(url, sizeof(url), "%s/%s", wa->gw.env->cfg->gw.whatsapp.api_base, media_ref);
	if (n < 0 || (size_t)n >= sizeof(url))
		return -CB_ETOOBIG;
	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -CB_ENOMEM;
	*f = (struct wa_fetch){wa, sink, cb, arg};
	if ((rc = wa_get(wa, url, 64 * 1024, NULL, NULL, 20000, media_url, f)) != 0)
		free(f);
	return rc;
}

static int wa_busy(const struct gateway *gw)
{
	return ((const struct whatsapp *)gw)->inflight;
}

static void wa_free(struct gateway *gw)
{
	struct whatsapp *wa = wa_of(gw);

	sodium_memzero(wa->token, sizeof(wa->token));
	sodium_memzero(wa->app_secret, sizeof(wa->app_secret));
	free(wa);
}

/* A file casebot made (a voice note: audio/ogg; codecs=opus), uploaded
 * and sent by the media id. */
static int wa_send_file(struct gateway *gw, const char *address, const char *media_kind, const char *mime,
			const char *filename, const void *data, size_t len, gateway_sent_cb cb, void *arg)
{
	return whatsapp_send_file((struct whatsapp *)gw, address, media_kind, mime, filename, data, len, cb, arg);
}

static const struct gateway_ops whatsapp_ops = {
	.name = "whatsapp",
	.start = wa_start,
	.stop = wa_stop,
	.send = wa_send,
	.send_media = whatsapp_send_media,
	.send_file = wa_send_file,
	.send_direct = wa_send_direct,
	.split = wa_split,
	.fetch = wa_fetch,
	.fetch_max = WHATSAPP_DOWNLOAD_MAX,
	.busy = wa_busy,
	.free = wa_free,
};

int whatsapp_auth_header(const struct whatsapp *wa, char *out, size_t cap)
{
	int n = snprintf(out, cap, "Authorization: Bearer %s", wa->token);

	return n > 0 && (size_t)n < cap ? 0 : -CB_ETOOBIG;
}

/* ---- [whatsapp] --------------------------------------------------------- */

static int is_url(const char *v)
{
	return strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0 ? 0 : -CB_EINVAL;
}

static int is_digits(const char *v)
{
	if (*v == '\0')
		return -CB_EINVAL;
	for (; *v != '\0'; v++)
		if (*v < '0' || *v > '9')
			return -CB_EINVAL;
	return 0;
}

/* A path part: letters, digits, '-' and '_', so that it needs no escaping
 * and cannot reach another route. */
static int is_path_part(const char *v)
{
	for (; *v != '\0'; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') || *v == '-' ||
		      *v == '_'))
			return -CB_EINVAL;
	return 0;
}

static const struct config_key keys[] = {
	{"api_base", CONFIG_TEXT, CONFIG_AT(gw.whatsapp.api_base), is_url, NULL,
	 "expected an http:// or https:// URL with the Graph API version"},
	{"phone_number_id", CONFIG_TEXT, CONFIG_AT(gw.whatsapp.phone_number_id), is_digits, NULL,
	 "expected the digits of the phone number id Meta shows"},
	{"display_number", CONFIG_TEXT, CONFIG_AT(gw.whatsapp.display_number), is_digits, NULL,
	 "expected the number in international form, digits only (32470123456)"},
	{"verify_token", CONFIG_TEXT, CONFIG_AT(gw.whatsapp.verify_token), NULL, NULL, NULL},
	{"webhook_path", CONFIG_TEXT, CONFIG_AT(gw.whatsapp.webhook_path), is_path_part, NULL,
	 "expected letters, digits, - and _ only"},
	CONFIG_FILE_KEY("token_file", gw.whatsapp.token_file),
	CONFIG_FILE_KEY("app_secret_file", gw.whatsapp.app_secret_file),
	{"rate_per_chat", CONFIG_RATE, CONFIG_AT(gw.whatsapp.rate_per_chat), NULL, NULL, NULL},
	{"rate_global", CONFIG_RATE, CONFIG_AT(gw.whatsapp.rate_global), NULL, NULL, NULL},
};

static void defaults(struct config *cfg)
{
	struct whatsapp_settings *w = &cfg->gw.whatsapp;

	cb_strlcpy(w->api_base, "https://graph.facebook.com/v23.0", sizeof(w->api_base));
	cb_strlcpy(w->webhook_path, "hook", sizeof(w->webhook_path));
	/* Meta's pair limit is about one message every six seconds to one
	 * user; 80 a second is a business number's default throughput. */
	w->rate_per_chat = 1.0 / 6.0;
	w->rate_global = 80.0;
}

static int check(const struct config *cfg, const char *path, char *err, size_t errlen)
{
	const struct whatsapp_settings *w = &cfg->gw.whatsapp;

	if (w->phone_number_id[0] != '\0' && w->verify_token[0] == '\0') {
		snprintf(err, errlen, "%s: [whatsapp] phone_number_id needs verify_token", path);
		return -CB_ECONFIG;
	}
	return 0;
}

const struct config_section gateway_whatsapp_config = {
	"whatsapp", keys, CB_ARRAY_SIZE(keys), defaults, check,
};

int gateway_whatsapp_configured(const struct config *cfg)
{
	return cfg->gw.whatsapp.phone_number_id[0] != '\0';
}

static int secret(const char *env_name, const char *file, char *out, size_t cap)
{
	const char *env = getenv(env_name);

	if (env != NULL && env[0] != '\0')
		return cb_strlcpy(out, env, cap) == 0 ? 0 : -CB_ETOOBIG;
	if (file[0] == '\0')
		return -CB_ENOENT;
	return config_secret_file(file, out, cap);
}

int gateway_whatsapp_token(const struct config *cfg, char *out, size_t cap)
{
	return secret("CASEBOT_WHATSAPP_TOKEN", cfg->gw.whatsapp.token_file, out, cap);
}

int gateway_whatsapp_app_secret(const struct config *cfg, char *out, size_t cap)
{
	return secret("CASEBOT_WHATSAPP_APP_SECRET", cfg->gw.whatsapp.app_secret_file, out, cap);
}

struct gateway *gateway_whatsapp_new(const struct gateway_env *d, char *err, size_t errlen)
{
	const struct whatsapp_settings *w = &d->cfg->gw.whatsapp;
	struct whatsapp *wa;
	int rc;

	err[0] = '\0';
	if (!gateway_whatsapp_configured(d->cfg))
		return NULL;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "whatsapp: libsodium cannot start");
		return NULL;
	}
	if ((wa = calloc(1, sizeof(*wa))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	wa->gw.ops = &whatsapp_ops;
	wa->gw.env = d;
	if ((rc = gateway_whatsapp_token(d->cfg, wa->token, sizeof(wa->token))) != 0) {
		snprintf(err, errlen,
			 "no WhatsApp token: set CASEBOT_WHATSAPP_TOKEN or [whatsapp] token_file (%s)",
			 casebot_strerror(rc));
		goto fail;
	}
	if ((rc = gateway_whatsapp_app_secret(d->cfg, wa->app_secret, sizeof(wa->app_secret))) != 0) {
		snprintf(err, errlen,
			 "no WhatsApp app secret: set CASEBOT_WHATSAPP_APP_SECRET or [whatsapp] app_secret_file (%s)",
			 casebot_strerror(rc));
		goto fail;
	}
	wa->gw.caps = (struct gateway_caps){
		/* Up to three reply buttons, and a list of up to ten beyond. */
		.buttons_max = WHATSAPP_SEND_LIST_ROWS,
		.button_title_max = WHATSAPP_BUTTON_TITLE_MAX,
		/* A reply button's id may be 256 characters; the core's button
		 * data is made for Telegram's 64 bytes, and the same data is
		 * read back from either. */
		.button_data_max = TELEGRAM_CALLBACK_DATA_MAX,
		/* 4096 characters are at most 16 KiB of UTF-8; wa_split counts
		 * UTF-16 units. */
		.text_max = 4 * WHATSAPP_TEXT_MAX,
		.media_receive = gateway_media_bit("photo") | gateway_media_bit("document") | gateway_media_bit("voice") |
				 gateway_media_bit("audio") | gateway_media_bit("video") | gateway_media_bit("sticker"),
		/* Sent on by upload: what a counsellor gets of a family's file. */
		.media_send = gateway_media_bit("document") | gateway_media_bit("voice") | gateway_media_bit("audio"),
		.can_edit = 0,
		.rate_per_chat = w->rate_per_chat,
		.rate_global = w->rate_global,
		.window_seconds = WHATSAPP_WINDOW_SECONDS,
		/* Meta calls us: silence is no fault. */
		.quiet_ok = 1,
	};
	return &wa->gw;
fail:
	sodium_memzero(wa->token, sizeof(wa->token));
	sodium_memzero(wa->app_secret, sizeof(wa->app_secret));
	free(wa);
	return NULL;
}
