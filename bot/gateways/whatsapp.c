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

#include "bot/config.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/telegram_api.h"
#include "bot/gateways/whatsapp.h"
#include "bot/gateways/whatsapp_send.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/net/http_client.h"
#include "bot/net/http_server.h"

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
static int signature_ok(const struct whatsapp *wa, struct http_server_req *req)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES], given[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	const char *h;
	size_t hlen = 0, glen = 0;
	int ok;

	h = http_server_req_header(req, "x-hub-signature-256", &hlen);
	if (h == NULL || hlen != 7 + 2 * sizeof(mac) || strncmp(h, "sha256=", 7) != 0)
		return 0;
	if (sodium_hex2bin(given, sizeof(given), h + 7, hlen - 7, NULL, &glen, NULL) != 0 || glen != sizeof(given))
		return 0;
	/* The key is the app secret as Meta shows it, of any length: the
	 * streaming API takes that, crypto_auth_hmacsha256() only 32 bytes. */
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)wa->app_secret, strlen(wa->app_secret));
	if (req->body_len > 0)
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)req->body, req->body_len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_memzero(&st, sizeof(st));
	ok = sodium_memcmp(mac, given, sizeof(mac)) == 0;
	sodium_memzero(mac, sizeof(mac));
	return ok;
}

static void webhook(struct http_server_req *req, void *arg)
{
	struct whatsapp *wa = arg;

	if (strcmp(req->method, "GET") == 0) {
		verify(wa, req);
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		http_server_respond(req, 405, "text/plain", "method not allowed\n", 19);
		return;
	}
	if (!signature_ok(wa, req)) {
		wa->gw.env->metrics->webhook_refused++;
		log_warn("whatsapp webhook: a POST without a valid signature was refused");
		http_server_respond(req, 401, "text/plain", "unauthorized\n", 13);
		return;
	}
	/* Nothing is read yet: Meta keeps what was not answered 200 and tries
	 * again for days. */
	http_server_respond(req, 503, "text/plain", "not stored\n", 11);
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

static const struct gateway_ops whatsapp_ops = {
	.name = "whatsapp",
	.start = wa_start,
	.stop = wa_stop,
	.send = wa_send,
	.send_direct = wa_send_direct,
	.split = wa_split,
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
	{"token_file", CONFIG_TEXT, CONFIG_AT(gw.whatsapp.token_file), NULL, NULL, NULL},
	{"app_secret_file", CONFIG_TEXT, CONFIG_AT(gw.whatsapp.app_secret_file), NULL, NULL, NULL},
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
