/* The SMS gateway (see sms.h): the [sms] section, the auth token, the
 * webhooks (inbound messages and status callbacks, each POST stored in one
 * transaction and answered only once that is committed) and the sends.
 * The auth token leaves this process only in an Authorization header; no
 * number or message body is logged above debug. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/clock.h"
#include "bot/config.h"
#include "bot/event_json.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/sms.h"
#include "bot/gateways/sms_api.h"
#include "bot/gateways/telegram_api.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/net/http_client.h"
#include "bot/net/http_server.h"
#include "handlers/handler.h"
#include "store/store.h"

#define SMS_SEND_TIMEOUT_MS 20000
#define SMS_ANSWER_MAX (64 * 1024)
#define SMS_URL_MAX 1024

static const char TWIML_EMPTY[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

struct sms {
	struct gateway gw;           /* first: the daemon holds a struct gateway * */
	char token[SMS_TOKEN_MAX];   /* signs webhooks, and Basic auth; never logged */
	unsigned translit;           /* 1 << enum lang: sent in GSM-7 letters */
	int inflight;
	int stopping;
};

static struct sms *sms_of(struct gateway *gw)
{
	return (struct sms *)gw;
}

size_t sms_text_len(const char *text, size_t len)
{
	return telegram_api_utf16_len(text, len);
}

/* ---- webhooks ------------------------------------------------------------ */

/* The URL Twilio signed: the public URL configured for the path it
 * called (the proxy in front may rewrite host, scheme and port), with the
 * query it sent. */
static int signed_url(const struct sms *s, int status, const char *query, char *out, size_t cap)
{
	const char *base = s->gw.env->cfg->gw.sms.public_url;
	size_t blen = strlen(base);
	int n;

	if (blen > 0 && base[blen - 1] == '/')
		blen--;
	n = snprintf(out, cap, "%.*s%s%s", (int)blen, base, status ? "/status" : "", query != NULL ? query : "");
	return n > 0 && (size_t)n < cap ? 0 : -CB_ETOOBIG;
}

struct status_batch {
	struct sms *s;
	struct sms_status st;
};

/* A message that failed after it was sent, in the status's transaction:
 * 21610 stops the chat (the family opted out at the carrier; START,
 * which the carrier passes on, resumes it); an unreachable number keeps
 * its reason for the owner's next channel; staff are told as the outbox
 * tells of a refused send. */
static int status_failed(const struct gateway_env *env, int64_t outbox_id, int code)
{
	struct hctx h = {env->cfg, env->store, *env->loc, time(NULL), "sms"};
	enum sms_class cls = sms_api_classify(400, code);
	const char *why = "gateway";
	struct outbox_msg m;
	struct channel ch;
	struct family f;
	char reason[64];
	int rc;

	if ((rc = store_outbox_get(env->store, outbox_id, &m)) != 0)
		return rc == -CB_ENOENT ? 0 : rc;
	snprintf(reason, sizeof(reason), "sms %d", code);
	if (cls == SMS_OPTED_OUT && m.channel_id != 0) {
		why = "carrier_stop";
		if ((rc = store_channel_set_opted_out(env->store, m.channel_id, 1)) != 0)
			goto out;
	} else if (cls == SMS_UNREACHABLE && m.channel_id != 0) {
		why = "unreachable";
		if ((rc = store_channel_set_fallback(env->store, m.channel_id, reason)) != 0)
			goto out;
	}
	log_info("sms: outbox #%lld failed after it was sent: %s", (long long)outbox_id, reason);
	/* The message goes on to its reader's next chat, as one refused at
	 * once does; a counsellor's reply lost its words as it ended. */
	if ((cls == SMS_OPTED_OUT || cls == SMS_UNREACHABLE) && strcmp(m.kind, "relay_reply") != 0 &&
	    store_channel_get(env->store, m.channel_id, &ch) == 0) {
		int offered, exhausted;

		if ((rc = fallback_failed(&h, &m, &ch, why, &offered, &exhausted, NULL, 0)) != 0 ||
		    offered)
			goto out;
		if (exhausted)
			why = "channels";
	}
	if (m.family_id == 0 || store_family_get_id(env->store, m.family_id, &f) != 0)
		goto out;
	if (strcmp(m.kind, "relay_reply") == 0 && m.staff_id != 0)
		rc = staff_notice(&h, m.staff_id, m.family_id, "staff_reply_failed", "staff.reply_failed", "ref", f.ref,
				  "reason", why, NULL);
	else if (m.staff_id == 0)
		rc = handler_alert(&h, f.id, "undelivered", 0, NULL, "undelivered", "what", m.catalog_key, "reason", why,
				   NULL);
out:
	store_outbox_msg_free(&m);
	return rc;
}

static int apply_status(struct store *store, void *arg)
{
	struct status_batch *b = arg;
	struct delivery d = {b->st.sid, (enum delivery_state)b->st.state, time(NULL), b->st.error_code,
			     b->st.status, "", "", -1};
	int applied, billable, rc;
	int64_t outbox_id;

	if ((rc = store_delivery_apply(store, "sms", &d, time(NULL), &applied, &billable, &outbox_id)) != 0)
		return rc;
	if (applied && outbox_id != 0 && d.state == DELIVERY_FAILED)
		return status_failed(b->s->gw.env, outbox_id, b->st.error_code);
	return 0;
}

static void on_status(struct sms *s, struct http_server_req *req, const struct sms_form *form)
{
	const struct gateway_env *d = s->gw.env;
	struct status_batch b;
	int rc;

	memset(&b, 0, sizeof(b));
	b.s = s;
	rc = sms_api_parse_status(form, &b.st);

	if (rc == SMS_IGNORED) {
		d->metrics->updates_ignored++;
		http_server_respond(req, 200, "text/plain", "", 0);
		return;
	}
	if (rc != 0) {
		/* Signed by Twilio and unreadable: it would never read better. */
		d->metrics->updates_malformed++;
		log_warn("sms webhook: a malformed status callback was skipped");
		http_server_respond(req, 200, "text/plain", "", 0);
		return;
	}
	if ((rc = store_inbound_batch_with(d->store, "sms", time(NULL), NULL, 0, NULL, 0, apply_status, &b)) != 0) {
		log_warn("sms webhook: a status is not stored (%s)", casebot_strerror(rc));
		http_server_respond(req, 500, "text/plain", "not stored\n", 11);
		return;
	}
	s->gw.last_ok_ms = uv_now(d->loop);
	http_server_respond(req, 200, "text/plain", "", 0);
}

static void on_inbound(struct sms *s, struct http_server_req *req, const struct sms_form *form)
{
	const struct gateway_env *d = s->gw.env;
	struct inbound_event *ev = malloc(sizeof(*ev));
	char *json = malloc(INBOUND_EVENT_MAX);
	struct inbound_new row = {0};
	int rc = ev == NULL || json == NULL ? -CB_ENOMEM : sms_api_parse_inbound(form, time(NULL), ev);

	if (rc == SMS_IGNORED || rc == -CB_EPARSE) {
		if (rc == SMS_IGNORED)
			d->metrics->updates_ignored++;
		else
			d->metrics->updates_malformed++;
		if (rc == -CB_EPARSE)
			log_warn("sms webhook: a malformed message was skipped");
		http_server_respond(req, 200, "text/xml", TWIML_EMPTY, sizeof(TWIML_EMPTY) - 1);
		goto out;
	}
	if (rc == 0)
		rc = event_to_json(ev, 0, json, INBOUND_EVENT_MAX);
	if (rc == 0) {
		row = (struct inbound_new){ev->external_id, ev->sender, json, 0};
		rc = store_inbound_batch(d->store, "sms", time(NULL), &row, 1, NULL, 0);
	}
	if (rc != 0) {
		/* Nothing is stored: Twilio tries again. */
		log_warn("sms webhook: not stored (%s)", casebot_strerror(rc));
		http_server_respond(req, 500, "text/plain", "not stored\n", 11);
		goto out;
	}
	if (row.stored) {
		metrics_count(d->metrics, "in", "sms", event_kind_name(ev->kind));
		/* Where a crash must lose nothing and handle nothing twice:
		 * the message is committed, Twilio has not heard so and will
		 * send it again, and its MessageSid is known by then. */
		clock_crash_point("sms_committed");
	}
	/* An empty TwiML answer: whatever is said back goes through the
	 * outbox, never as a reply Twilio would send without a record. */
	http_server_respond(req, 200, "text/xml", TWIML_EMPTY, sizeof(TWIML_EMPTY) - 1);
	s->gw.last_ok_ms = uv_now(d->loop);
	if (row.stored)
		d->inbound_ready(d->arg);
out:
	if (json != NULL)
		sodium_memzero(json, INBOUND_EVENT_MAX);
	free(json);
	if (ev != NULL)
		sodium_memzero(ev, sizeof(*ev));
	free(ev);
}

static void webhook(struct http_server_req *req, void *arg)
{
	struct sms *s = arg;
	const struct gateway_env *d = s->gw.env;
	char prefix[128], url[SMS_URL_MAX];
	const char *rest, *query, *sig;
	struct sms_form form;
	size_t plen, slen = 0;
	int status;

	if (strcmp(req->method, "POST") != 0) {
		http_server_respond(req, 405, "text/plain", "method not allowed\n", 19);
		return;
	}
	plen = (size_t)snprintf(prefix, sizeof(prefix), "/sms/%s", d->cfg->gw.sms.webhook_path);
	rest = req->path + plen;
	query = strchr(rest, '?');
	if (query != NULL ? (size_t)(query - rest) == 0 : rest[0] == '\0')
		status = 0;
	else if (strncmp(rest, "/status", 7) == 0 && (rest[7] == '\0' || rest[7] == '?'))
		status = 1;
	else {
		http_server_respond(req, 404, "text/plain", "not found\n", 10);
		return;
	}
	if (sms_api_form_parse(req->body != NULL ? req->body : "", req->body_len, &form) != 0) {
		d->metrics->webhook_refused++;
		log_warn("sms webhook: a POST that is not a form was refused");
		http_server_respond(req, 400, "text/plain", "bad request\n", 12);
		return;
	}
	sig = http_server_req_header(req, "x-twilio-signature", &slen);
	if (signed_url(s, status, query, url, sizeof(url)) != 0 ||
	    !sms_api_signature_ok(s->token, url, &form, sig, sig != NULL ? slen : 0)) {
		sms_api_form_free(&form);
		d->metrics->webhook_refused++;
		log_warn("sms webhook: a POST without a valid signature was refused");
		http_server_respond(req, 401, "text/plain", "unauthorized\n", 13);
		return;
	}
	if (status)
		on_status(s, req, &form);
	else
		on_inbound(s, req, &form);
	sms_api_form_free(&form);
}

/* ---- sends ----------------------------------------------------------------- */

struct sms_call {
	struct sms *s;
	gateway_sent_cb cb;
	void *arg;
	char to[GATEWAY_ID_MAX];
	int segments;
	enum sms_encoding enc;
};

/* 21610 said at once: the chat stops here and now, so that nothing more
 * is tried on it; the outbox tells the counsellor why. */
static void opted_out(struct sms *s, const char *to)
{
	struct channel ch;

	if (store_channel_find(s->gw.env->store, "sms", to, &ch) == 0 &&
	    store_channel_set_opted_out(s->gw.env->store, ch.id, 1) != 0)
		log_error("sms: cannot stop channel %lld", (long long)ch.id);
}

static void sent(const struct http_response *res, void *arg)
{
	struct sms_call *call = arg;
	struct sms *s = call->s;
	struct gateway_result r;
	struct sms_answer a;

	s->inflight--;
	memset(&r, 0, sizeof(r));
	if (res->error != 0) {
		memset(&a, 0, sizeof(a));
		a.cls = SMS_TRANSIENT;
		cb_strlcpy(a.message, res->timed_out ? "timeout" : "no connection", sizeof(a.message));
		r.timed_out = res->timed_out;
	} else {
		sms_api_parse_answer(res->status, res->body, res->len, res->retry_after, &a);
	}
	r.seconds = res->total_seconds;
	if (a.cls != SMS_SENT)
		snprintf(r.reason, sizeof(r.reason), "sms: %s", a.message);
	switch (a.cls) {
	case SMS_SENT:
		r.outcome = GW_SENT;
		cb_strlcpy(r.message_id, a.sid, sizeof(r.message_id));
		uv_update_time(s->gw.env->loop);
		s->gw.last_ok_ms = uv_now(s->gw.env->loop);
		s->gw.last_latency = res->total_seconds;
		metrics_sms_segments(s->gw.env->metrics, call->enc == SMS_GSM7 ? "gsm7" : "ucs2", call->segments);
		break;
	case SMS_BACKOFF:
		r.outcome = GW_RETRY_AFTER;
		r.retry_after = a.retry_after > 0 ? a.retry_after : 1;
		break;
	case SMS_TRANSIENT:
		r.outcome = GW_TRANSIENT;
		break;
	case SMS_OPTED_OUT:
		opted_out(s, call->to);
		r.outcome = GW_PERMANENT;
		cb_strlcpy(r.why, "carrier_stop", sizeof(r.why));
		break;
	case SMS_UNREACHABLE:
		r.outcome = GW_UNREACHABLE;
		cb_strlcpy(r.why, "unreachable", sizeof(r.why));
		break;
	default:
		r.outcome = GW_PERMANENT;
		break;
	}
	if (call->cb != NULL)
		call->cb(&r, call->arg);
	free(call);
}

static int basic_auth(const struct sms *s, char *out, size_t cap)
{
	const char *sid = s->gw.env->cfg->gw.sms.account_sid;
	char pair[64 + SMS_TOKEN_MAX + 2];
	static const char head[] = "Authorization: Basic ";
	size_t plen;

	if (snprintf(pair, sizeof(pair), "%s:%s", sid, s->token) >= (int)sizeof(pair))
		return -CB_ETOOBIG;
	plen = strlen(pair);
	if (cap < sizeof(head) + sodium_base64_ENCODED_LEN(plen, sodium_base64_VARIANT_ORIGINAL)) {
		sodium_memzero(pair, sizeof(pair));
		return -CB_ETOOBIG;
	}
	memcpy(out, head, sizeof(head) - 1);
	sodium_bin2base64(out + sizeof(head) - 1, cap - (sizeof(head) - 1), (const unsigned char *)pair, plen,
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(pair, sizeof(pair));
	return 0;
}

/* One message: Twilio cuts it into segments itself and the phone puts
 * them together again; ValidityPeriod keeps a message with an expiry (a
 * reminder: its appointment's start) from being delivered after it. */
static int send_text(struct sms *s, const char *to, const char *text, size_t len, int lang_known, enum lang lang,
		     time_t expires_at, gateway_sent_cb cb, void *arg)
{
	const struct sms_settings *cfg = &s->gw.env->cfg->gw.sms;
	char url[SMS_URL_MAX], status_url[SMS_URL_MAX], auth[32 + 2 * (64 + SMS_TOKEN_MAX)];
	const char *headers[] = {auth, "Accept: application/json", NULL};
	struct http_request req;
	struct sms_send m;
	struct sms_call *call;
	char *body = NULL, *plain = NULL;
	size_t blen = 0, plen = 0;
	time_t now = time(NULL);
	int rc;

	/* Transliterated when the reader's language says so; a text with no
	 * one reader (the neutral answer, in four languages) when any does. */
	if ((lang_known ? (s->translit >> lang) & 1u : s->translit != 0) &&
	    (rc = sms_api_transliterate(text, len, &plain, &plen)) == 0) {
		text = plain;
		len = plen;
	}
	if ((call = calloc(1, sizeof(*call))) == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	call->s = s;
	call->cb = cb;
	call->arg = arg;
	cb_strlcpy(call->to, to, sizeof(call->to));
	call->segments = sms_api_segments(text, len, &call->enc, NULL);
	if ((rc = signed_url(s, 1, NULL, status_url, sizeof(status_url))) != 0)
		goto out;
	memset(&m, 0, sizeof(m));
	m.to = to;
	m.from = cfg->from;
	m.messaging_service_sid = cfg->messaging_service_sid;
	m.body = text;
	m.body_len = len;
	m.status_callback = status_url;
	if (expires_at != 0)
		m.validity = expires_at > now ? (long)(expires_at - now) : 1;
	if ((rc = sms_api_build_send(&m, &body, &blen)) != 0)
		goto out;
	if (snprintf(url, sizeof(url), "%s/2010-04-01/Accounts/%s/Messages.json", cfg->api_base, cfg->account_sid) >=
	    (int)sizeof(url)) {
		rc = -CB_ETOOBIG;
		goto out;
	}
	if ((rc = basic_auth(s, auth, sizeof(auth))) != 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = url;
	req.body = body;
	req.body_len = blen;
	req.content_type = "application/x-www-form-urlencoded";
	req.headers = headers;
	req.timeout_ms = SMS_SEND_TIMEOUT_MS;
	req.max_response_bytes = SMS_ANSWER_MAX;
	rc = http_client_request(s->gw.env->http, &req, sent, call);
	sodium_memzero(auth, sizeof(auth));
	if (rc == 0) {
		s->inflight++;
		call = NULL;
	}
out:
	free(call);
	if (body != NULL)
		sodium_memzero(body, blen);
	free(body);
	if (plain != NULL)
		sodium_memzero(plain, plen);
	free(plain);
	return rc;
}

static int sms_send(struct gateway *gw, const struct gateway_part *p, gateway_sent_cb cb, void *arg)
{
	return send_text(sms_of(gw), p->address, p->text, p->len, p->msg != NULL, p->lang, p->expires_at, cb, arg);
}

static void sms_send_direct(struct gateway *gw, const char *address, const char *text)
{
	if (send_text(sms_of(gw), address, text, strlen(text), 0, LANG_EN, 0, NULL, NULL) != 0)
		log_warn("sms: a neutral answer could not be sent");
}

/* At most what Twilio takes in one Body, cut between lines or words as
 * Telegram's texts are. */
static size_t sms_split(const char *text, size_t len, size_t *next)
{
	return telegram_api_split(text, len, SMS_TEXT_MAX, next);
}

static int sms_start(struct gateway *gw)
{
	struct sms *s = sms_of(gw);
	char path[128];

	snprintf(path, sizeof(path), "/sms/%s", gw->env->cfg->gw.sms.webhook_path);
	return http_server_route(gw->env->server, path, webhook, s);
}

static void sms_stop(struct gateway *gw)
{
	sms_of(gw)->stopping = 1;
}

static int sms_busy(const struct gateway *gw)
{
	return ((const struct sms *)gw)->inflight;
}

static void sms_free(struct gateway *gw)
{
	struct sms *s = sms_of(gw);

	sodium_memzero(s->token, sizeof(s->token));
	free(s);
}

static const struct gateway_ops sms_ops = {
	.name = "sms",
	.start = sms_start,
	.stop = sms_stop,
	.send = sms_send,
	.send_direct = sms_send_direct,
	.split = sms_split,
	.busy = sms_busy,
	.free = sms_free,
};

/* ---- [sms] -------------------------------------------------------------------- */

static int is_url(const char *v)
{
	return strncmp(v, "https://", 8) == 0 || strncmp(v, "http://", 7) == 0 ? 0 : -CB_EINVAL;
}

static int is_sid(const char *v)
{
	size_t n = strlen(v);

	return n >= 2 && n < 64 && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") == n ?
		       0 :
		       -CB_EINVAL;
}

/* A number in E.164, a short code (digits) or an alphanumeric sender id
 * (letters, digits and spaces, at most 11). */
static int is_sender(const char *v)
{
	size_t n = strlen(v);

	if (sms_api_is_e164(v) || (n >= 3 && n <= 8 && strspn(v, "0123456789") == n))
		return 0;
	return n >= 1 && n <= 11 &&
			       strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 ") == n ?
		       0 :
		       -CB_EINVAL;
}

static int is_path_part(const char *v)
{
	size_t n = strlen(v);

	return n > 0 && strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == n ?
		       0 :
		       -CB_EINVAL;
}

int gateway_sms_transliterate_mask(const char *value, unsigned *mask)
{
	char buf[64], *save = NULL, *w;
	enum lang l;

	*mask = 0;
	if (strcmp(value, "none") == 0)
		return 0;
	if (cb_strlcpy(buf, value, sizeof(buf)) != 0)
		return -CB_EINVAL;
	for (w = strtok_r(buf, ", ", &save); w != NULL; w = strtok_r(NULL, ", ", &save)) {
		if (lang_parse(w, &l) != 0)
			return -CB_EINVAL;
		*mask |= 1u << l;
	}
	return 0;
}

static int is_lang_list(const char *v)
{
	unsigned mask;

	return gateway_sms_transliterate_mask(v, &mask);
}

static const struct config_key keys[] = {
	{"api_base", CONFIG_TEXT, CONFIG_AT(gw.sms.api_base), is_url, NULL, "expected an http:// or https:// URL"},
	{"account_sid", CONFIG_TEXT, CONFIG_AT(gw.sms.account_sid), is_sid, NULL,
	 "expected the account SID (AC and 32 hex digits)"},
	{"from", CONFIG_TEXT, CONFIG_AT(gw.sms.from), is_sender, NULL,
	 "expected a number in E.164 (+32470123456), a short code or a sender id of at most 11 letters"},
	{"messaging_service_sid", CONFIG_TEXT, CONFIG_AT(gw.sms.messaging_service_sid), is_sid, NULL,
	 "expected the messaging service SID (MG and 32 hex digits)"},
	{"public_url", CONFIG_TEXT, CONFIG_AT(gw.sms.public_url), is_url, NULL,
	 "expected the http:// or https:// URL Twilio calls for /sms/<webhook_path>"},
	{"webhook_path", CONFIG_TEXT, CONFIG_AT(gw.sms.webhook_path), is_path_part, NULL,
	 "expected letters, digits, - and _ only"},
	CONFIG_FILE_KEY("auth_token_file", gw.sms.auth_token_file),
	{"transliterate", CONFIG_TEXT, CONFIG_AT(gw.sms.transliterate), is_lang_list, NULL,
	 "expected languages (nl, fr, de, en) separated by commas, or none"},
	{"rate_per_chat", CONFIG_RATE, CONFIG_AT(gw.sms.rate_per_chat), NULL, NULL, NULL},
	{"rate_global", CONFIG_RATE, CONFIG_AT(gw.sms.rate_global), NULL, NULL, NULL},
};

static void defaults(struct config *cfg)
{
	struct sms_settings *s = &cfg->gw.sms;

	cb_strlcpy(s->api_base, "https://api.twilio.com", sizeof(s->api_base));
	cb_strlcpy(s->webhook_path, "hook", sizeof(s->webhook_path));
	/* French, Dutch and German accents that GSM-7 lacks (ê, ç, ë) would
	 * make a text UCS-2 and more than halve what one segment holds. */
	cb_strlcpy(s->transliterate, "nl,fr,de", sizeof(s->transliterate));
	/* A long code sends about one segment a second to a country; a
	 * family rarely gets two texts within seconds. */
	s->rate_per_chat = 1.0;
	s->rate_global = 10.0;
}

static int check(const struct config *cfg, const char *path, char *err, size_t errlen)
{
	const struct sms_settings *s = &cfg->gw.sms;

	if (s->account_sid[0] == '\0')
		return 0;
	if ((s->from[0] == '\0') == (s->messaging_service_sid[0] == '\0')) {
		snprintf(err, errlen, "%s: [sms] needs exactly one of from and messaging_service_sid", path);
		return -CB_ECONFIG;
	}
	if (s->public_url[0] == '\0') {
		snprintf(err, errlen, "%s: [sms] account_sid needs public_url (the URL Twilio calls, for the signature)",
			 path);
		return -CB_ECONFIG;
	}
	return 0;
}

const struct config_section gateway_sms_config = {
	"sms", keys, CB_ARRAY_SIZE(keys), defaults, check,
};

int gateway_sms_configured(const struct config *cfg)
{
	return cfg->gw.sms.account_sid[0] != '\0';
}

int gateway_sms_auth_token(const struct config *cfg, char *out, size_t cap)
{
	const char *env = getenv("CASEBOT_SMS_AUTH_TOKEN");

	if (env != NULL && env[0] != '\0')
		return cb_strlcpy(out, env, cap) == 0 ? 0 : -CB_ETOOBIG;
	if (cfg->gw.sms.auth_token_file[0] == '\0')
		return -CB_ENOENT;
	return config_secret_file(cfg->gw.sms.auth_token_file, out, cap);
}

struct gateway *gateway_sms_new(const struct gateway_env *d, char *err, size_t errlen)
{
	const struct sms_settings *cfg = &d->cfg->gw.sms;
	struct sms *s;
	int rc;

	err[0] = '\0';
	if (!gateway_sms_configured(d->cfg))
		return NULL;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "sms: libsodium cannot start");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->gw.ops = &sms_ops;
	s->gw.env = d;
	if ((rc = gateway_sms_auth_token(d->cfg, s->token, sizeof(s->token))) != 0) {
		snprintf(err, errlen, "no SMS auth token: set CASEBOT_SMS_AUTH_TOKEN or [sms] auth_token_file (%s)",
			 casebot_strerror(rc));
		sodium_memzero(s->token, sizeof(s->token));
		free(s);
		return NULL;
	}
	if (gateway_sms_transliterate_mask(cfg->transliterate, &s->translit) != 0)
		s->translit = 0;
	s->gw.caps = (struct gateway_caps){
		/* No buttons: a question lists its choices by number, which a
		 * bare number (or the choice's words) answers. */
		.buttons_max = 0,
		.text_max = 4 * SMS_TEXT_MAX,
		.rate_per_chat = cfg->rate_per_chat,
		.rate_global = cfg->rate_global,
		/* Twilio calls us: silence is no fault. */
		.quiet_ok = 1,
		.send_timeout_ms = SMS_SEND_TIMEOUT_MS,
	};
	return &s->gw;
}
