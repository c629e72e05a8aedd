/* smsim: a loopback simulator of Twilio's Programmable Messaging API for
 * the integration tests: a front end on the simulators' core
 * (tests/sim/sim.h).
 *
 *   smsim --listen 127.0.0.1:0 --account-sid AC... --auth-token TOKEN
 *         [--port-file PATH] [--number +32460000000] [--webhook URL]
 *         [--public-url URL] [--status-order forward|shuffle|reverse]
 *         [--status-delay-ms N] [--late-percent N] [--retry-base-ms N]
 *         [--max-attempts N]
 *
 * It answers POST /2010-04-01/Accounts/{AccountSid}/Messages.json (form
 * fields, Basic auth) as Twilio does: 201 with the message's sid, or
 * Twilio's error shape; it counts each message's segments (GSM-7 160/153,
 * the extension table two, UCS-2 70/67) and keeps its ValidityPeriod. After
 * an accepted message it POSTs the status callbacks to its StatusCallback
 * (sent, then delivered, or undelivered with 30003 or 30005 for a number
 * marked unreachable or unknown, or failed with 21610 for one opted out
 * later), in the order asked, some of them late. A number opted out is
 * refused at once with 21610. A family's text goes to --webhook as Twilio
 * posts one. Every webhook is form-encoded and signed as Twilio signs it:
 * X-Twilio-Signature, the base64 HMAC-SHA1 with the auth token of the URL
 * and each field's name and value sorted by name. When --public-url is
 * given, that is the URL Twilio knows (a proxy in front of the daemon): it
 * is what is signed, and a callback under it goes to --webhook's origin
 * instead. Webhooks are retried every --retry-base-ms doubling until 200,
 * at most --max-attempts times.
 *
 * /control/...: message {from, text} (a text from a family), forge {from,
 * text} (signed with a wrong token), number {number, mode: ok, unreachable,
 * unknown, opted_out, opted_out_later}, webhook {url, public_url}, fault
 * (the core's: 429 answers with Retry-After), reset, sent?number=N, stats, wait (the core's, chat_id =
 * the number's digits; also hooks_delivered, statuses_delivered,
 * forged_refused, inbound_delivered). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sodium.h>

#include "bot/gateways/sms_api.h"
#include "bot/gateways/telegram_api.h"
#include "bot/log.h"
#include "bot/net/http_client.h"
#include "tests/sim/sim.h"

#define SMSIM_URL_MAX 1024
#define SMSIM_HOOKS_MAX 4096
#define SMSIM_BODY_CHARS 1600

enum order { ORDER_FORWARD = 0, ORDER_SHUFFLE, ORDER_REVERSE };

struct hook {
	uint64_t seq;
	char kind[12];               /* inbound, status, forged */
	char post_url[SMSIM_URL_MAX];
	char *body;
	size_t len;
	char signature[64];
	int attempts, inflight, done, gave_up, last_status;
	uint64_t due_ms;
};

struct stats {
	long long api_calls, sent, rejected, bad_auth, opted_out, unreachable, throttled;
	long long hooks_posted, hooks_delivered, hooks_refused, hooks_gave_up;
	long long statuses_delivered, inbound_delivered, forged_refused, forged_accepted;
	long long segments;
};

struct smsim {
	struct sim core;             /* first: the core's callbacks cast back */
	char account_sid[64];
	char token[128];
	char number[32];
	char webhook[SMSIM_URL_MAX];
	char public_url[SMSIM_URL_MAX];
	struct hook *hooks[SMSIM_HOOKS_MAX];
	size_t nhooks;
	uint64_t next_seq, next_sid;
	int inflight;
	uv_timer_t timer;
	struct http_client *client;
	enum order order;
	int status_delay_ms, late_percent, retry_base_ms, max_attempts;
	struct stats st;
};

struct app {
	struct smsim s;
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	int http_closed, client_closed;
};

static void pump(struct smsim *s);

/* ---- forms and signatures ---------------------------------------------- */

struct field {
	const char *name;
	const char *value;
};

static int by_name(const void *a, const void *b)
{
	const struct field *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

/* Twilio's scheme, written here on its own (not the daemon's code): the
 * URL, then name and value of each field in name order. */
static void sign(const char *token, const char *url, const struct field *f, size_t n, char *out, size_t cap)
{
	struct field sorted[64];
	unsigned char mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	size_t total = strlen(url) + 1, at;
	char *data;

	memcpy(sorted, f, n * sizeof(*f));
	qsort(sorted, n, sizeof(*sorted), by_name);
	for (size_t i = 0; i < n; i++)
		total += strlen(f[i].name) + strlen(f[i].value);
	data = malloc(total);
	if (data == NULL) {
		snprintf(out, cap, "x");
		return;
	}
	at = (size_t)sprintf(data, "%s", url);
	for (size_t i = 0; i < n; i++)
		at += (size_t)sprintf(data + at, "%s%s", sorted[i].name, sorted[i].value);
	HMAC(EVP_sha1(), token, (int)strlen(token), (unsigned char *)data, at, mac, &maclen);
	sodium_bin2base64(out, cap, mac, maclen, sodium_base64_VARIANT_ORIGINAL);
	free(data);
}

static char *encode(const struct field *f, size_t n, size_t *len)
{
	size_t cap = 1, at = 0;
	char *esc[64], *buf;

	for (size_t i = 0; i < n; i++) {
		esc[i] = curl_easy_escape(NULL, f[i].value, 0);
		cap += strlen(f[i].name) + 2 + (esc[i] != NULL ? strlen(esc[i]) : 0);
	}
	buf = malloc(cap);
	if (buf != NULL)
		for (size_t i = 0; i < n; i++)
			at += (size_t)sprintf(buf + at, "%s%s=%s", i > 0 ? "&" : "", f[i].name,
			                      esc[i] != NULL ? esc[i] : "");
	for (size_t i = 0; i < n; i++)
		curl_free(esc[i]);
	*len = at;
	return buf;
}

/* Where a URL Twilio knows is posted: under --public-url, the same path
 * under --webhook's origin (the proxy's job); else itself. */
static void post_url_for(const struct smsim *s, const char *url, char *out, size_t cap)
{
	size_t plen = strlen(s->public_url);

	if (plen > 0 && strncmp(url, s->public_url, plen) == 0 && s->webhook[0] != '\0')
		snprintf(out, cap, "%s%s", s->webhook, url + plen);
	else
		snprintf(out, cap, "%s", url);
}

static void hook_free(struct hook *h)
{
	free(h->body);
	free(h);
}

/* Queues a webhook to url (as Twilio knows it), posted after delay_ms. */
static int hook_queue(struct smsim *s, const char *kind, const char *url, const struct field *f, size_t n,
                      int forged, uint64_t delay_ms)
{
	struct hook *h;

	if (s->nhooks == SMSIM_HOOKS_MAX) {
		/* The oldest settled one goes; one still under way stays. */
		size_t i;

		for (i = 0; i < s->nhooks && !(s->hooks[i]->done && !s->hooks[i]->inflight); i++)
			;
		if (i == s->nhooks)
			return -CB_ETOOBIG;
		hook_free(s->hooks[i]);
		memmove(&s->hooks[i], &s->hooks[i + 1], (s->nhooks - i - 1) * sizeof(s->hooks[0]));
		s->nhooks--;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL || (h->body = encode(f, n, &h->len)) == NULL) {
		free(h);
		return -CB_ENOMEM;
	}
	h->seq = ++s->next_seq;
	cb_strlcpy(h->kind, forged ? "forged" : kind, sizeof(h->kind));
	post_url_for(s, url, h->post_url, sizeof(h->post_url));
	sign(forged ? "not-the-auth-token" : s->token, url, f, n, h->signature, sizeof(h->signature));
	h->due_ms = sim_now_ms() + delay_ms;
	s->hooks[s->nhooks++] = h;
	pump(s);
	return 0;
}

static struct hook *hook_find(struct smsim *s, uint64_t seq)
{
	for (size_t i = 0; i < s->nhooks; i++)
		if (s->hooks[i]->seq == seq)
			return s->hooks[i];
	return NULL;
}

struct posting {
	struct smsim *s;
	uint64_t seq;
};

static void on_posted(const struct http_response *res, void *arg)
{
	struct posting *p = arg;
	struct smsim *s = p->s;
	struct hook *h = hook_find(s, p->seq);
	int forged;

	free(p);
	s->inflight--;
	if (h == NULL)
		goto out;
	h->inflight = 0;
	h->last_status = res->error == 0 ? res->status : 0;
	forged = strcmp(h->kind, "forged") == 0;
	if (h->last_status == 200) {
		h->done = 1;
		if (forged) {
			s->st.forged_accepted++;
		} else {
			s->st.hooks_delivered++;
			if (strcmp(h->kind, "status") == 0)
				s->st.statuses_delivered++;
			else
				s->st.inbound_delivered++;
		}
		log_info("webhook %" PRIu64 " (%s) -> 200 after %d attempt(s)", h->seq, h->kind, h->attempts);
	} else {
		s->st.hooks_refused++;
		log_info("webhook %" PRIu64 " (%s) -> %d", h->seq, h->kind, h->last_status);
		if (forged || h->attempts >= s->max_attempts) {
			h->done = h->gave_up = 1;
			if (forged)
				s->st.forged_refused++;
			else
				s->st.hooks_gave_up++;
		} else {
			uint64_t d = (uint64_t)s->retry_base_ms;

			for (int i = 1; i < h->attempts && d < 3600000; i++)
				d *= 2;
			h->due_ms = sim_now_ms() + d;
		}
	}
out:
	sim_wait_wake(&s->core);
	if (!s->core.closing)
		pump(s);
}

static void post(struct smsim *s, struct hook *h)
{
	char sig[96];
	const char *headers[] = {sig, "User-Agent: TwilioProxy/1.1", NULL};
	struct http_request req;
	struct posting *p = malloc(sizeof(*p));

	if (p == NULL)
		return;
	p->s = s;
	p->seq = h->seq;
	snprintf(sig, sizeof(sig), "X-Twilio-Signature: %s", h->signature);
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = h->post_url;
	req.body = h->body;
	req.body_len = h->len;
	req.content_type = "application/x-www-form-urlencoded";
	req.headers = headers;
	req.timeout_ms = 15000;
	req.max_response_bytes = 64 * 1024;
	h->attempts++;
	s->st.hooks_posted++;
	if (http_client_request(s->client, &req, on_posted, p) != 0) {
		free(p);
		h->due_ms = sim_now_ms() + (uint64_t)s->retry_base_ms;
		return;
	}
	h->inflight = 1;
	s->inflight++;
}

static void on_timer(uv_timer_t *t)
{
	pump(t->data);
}

static void pump(struct smsim *s)
{
	uint64_t now = sim_now_ms(), next = UINT64_MAX;

	if (s->core.closing)
		return;
	for (size_t i = 0; i < s->nhooks; i++) {
		struct hook *h = s->hooks[i];

		if (h->done || h->inflight)
			continue;
		if (h->due_ms <= now && s->inflight < 8 && !(h->post_url[0] == '\0'))
			post(s, h);
		else if (h->due_ms < next)
			next = h->due_ms;
	}
	if (next != UINT64_MAX)
		uv_timer_start(&s->timer, on_timer, next > now ? next - now : 1, 0);
}

/* ---- numbers --------------------------------------------------------- */

/* A number's digits as a chat id of the core. */
static int number_id(const char *number, int64_t *id)
{
	char digits[24];
	size_t n = 0;

	for (const char *p = number; *p != '\0'; p++) {
		if (*p == '+' || *p == ' ')
			continue;
		if (*p < '0' || *p > '9' || n + 1 >= sizeof(digits))
			return -CB_EINVAL;
		digits[n++] = *p;
	}
	digits[n] = '\0';
	if (n < 8 || n > 15)
		return -CB_EINVAL;
	*id = strtoll(digits, NULL, 10);
	return 0;
}

static void new_sid(struct smsim *s, const char *prefix, char *out, size_t cap)
{
	unsigned char r[8];

	randombytes_buf(r, sizeof(r));
	snprintf(out, cap, "%s%016" PRIx64 "%02x%02x%02x%02x%02x%02x%02x%02x", prefix, ++s->next_sid, r[0], r[1], r[2],
	         r[3], r[4], r[5], r[6], r[7]);
}

/* ---- the Messaging API ----------------------------------------------- */

static void twilio_error(struct http_server_req *req, int status, int code, const char *message)
{
	cJSON *o = cJSON_CreateObject();
	char more[96];

	snprintf(more, sizeof(more), "https://www.twilio.com/docs/errors/%d", code);
	cJSON_AddNumberToObject(o, "code", code);
	cJSON_AddStringToObject(o, "message", message);
	cJSON_AddStringToObject(o, "more_info", more);
	cJSON_AddNumberToObject(o, "status", status);
	sim_reply_json(req, status, o);
}

static int basic_ok(struct smsim *s, struct http_server_req *req)
{
	char pair[256], want[400];
	size_t len = 0;
	const char *h = http_server_req_header(req, "authorization", &len);

	snprintf(pair, sizeof(pair), "%s:%s", s->account_sid, s->token);
	memcpy(want, "Basic ", 6);
	sodium_bin2base64(want + 6, sizeof(want) - 6, (unsigned char *)pair, strlen(pair),
	                  sodium_base64_VARIANT_ORIGINAL);
	return h != NULL && len == strlen(want) && sodium_memcmp(h, want, len) == 0;
}

/* The statuses of an accepted message: sent, then the end. */
static void schedule_statuses(struct smsim *s, const struct sim_chat *c, const char *sid, const char *to,
                              const char *callback)
{
	const char *words[2] = {"sent", "delivered"};
	const char *codes[2] = {"", ""};
	uint64_t due[2];
	char code[16] = "";

	if (callback == NULL || callback[0] == '\0')
		return;
	if (c->unreachable == 1 || c->unreachable == 2) {
		words[1] = "undelivered";
		snprintf(code, sizeof(code), "%d", c->unreachable == 1 ? 30003 : 30005);
		codes[1] = code;
	} else if (c->blocked == 2) {
		words[1] = "failed";
		codes[1] = "21610";
	}
	for (int i = 0; i < 2; i++) {
		due[i] = (uint64_t)(s->status_delay_ms * (i + 1));
		/* Some come late: the second may overtake the first. */
		if (s->late_percent > 0 && (int)randombytes_uniform(100) < s->late_percent)
			due[i] += (uint64_t)s->status_delay_ms * 3;
	}
	if (s->order == ORDER_REVERSE || (s->order == ORDER_SHUFFLE && randombytes_uniform(2) == 1)) {
		uint64_t t = due[0];

		due[0] = due[1];
		due[1] = t;
	}
	for (int i = 0; i < 2; i++) {
		struct field f[10];
		size_t n = 0;

		f[n++] = (struct field){"SmsSid", sid};
		f[n++] = (struct field){"SmsStatus", words[i]};
		f[n++] = (struct field){"MessageStatus", words[i]};
		f[n++] = (struct field){"To", to};
		f[n++] = (struct field){"MessageSid", sid};
		f[n++] = (struct field){"AccountSid", s->account_sid};
		f[n++] = (struct field){"From", s->number};
		f[n++] = (struct field){"ApiVersion", "2010-04-01"};
		if (codes[i][0] != '\0') {
			memmove(&f[1], &f[0], n * sizeof(f[0]));
			f[0] = (struct field){"ErrorCode", codes[i]};
			n++;
		}
		hook_queue(s, "status", callback, f, n, 0, due[i]);
	}
}

static void messages(struct smsim *s, struct http_server_req *req)
{
	struct sms_form form;
	const char *to, *from, *mss, *body, *cb, *validity;
	struct sim_chat *c;
	struct sim_sent *out;
	struct sim_fault fault;
	enum sms_encoding enc;
	char sid[64], *text;
	cJSON *o, *markup;
	int64_t id, v = 0;
	int segments;

	s->st.api_calls++;
	if (!basic_ok(s, req)) {
		s->st.bad_auth++;
		twilio_error(req, 401, 20003, "Authenticate");
		return;
	}
	if (sim_fault_take(&s->core, "Messages", 0, &fault) == 0) {
		if (fault.kind == FAULT_429) {
			char wait[16];

			snprintf(wait, sizeof(wait), "%d", fault.retry_after);
			http_server_add_header(req, "Retry-After", wait);
			s->st.throttled++;
			twilio_error(req, 429, 20429, "Too Many Requests");
			return;
		}
		if (fault.kind == FAULT_500) {
			twilio_error(req, 500, 20500, "Internal Server Error");
			return;
		}
	}
	if (sms_api_form_parse(req->body != NULL ? req->body : "", req->body_len, &form) != 0) {
		twilio_error(req, 400, 11200, "Malformed form");
		return;
	}
	to = sms_api_form_get(&form, "To");
	from = sms_api_form_get(&form, "From");
	mss = sms_api_form_get(&form, "MessagingServiceSid");
	body = sms_api_form_get(&form, "Body");
	cb = sms_api_form_get(&form, "StatusCallback");
	validity = sms_api_form_get(&form, "ValidityPeriod");
	if (to == NULL || to[0] != '+' || number_id(to, &id) != 0) {
		s->st.rejected++;
		twilio_error(req, 400, to == NULL ? 21604 : 21211, "The 'To' number is not a valid phone number.");
		goto out;
	}
	if ((from == NULL || strcmp(from, s->number) != 0) && (mss == NULL || strncmp(mss, "MG", 2) != 0)) {
		s->st.rejected++;
		twilio_error(req, 400, 21606, "The From phone number is not a valid, SMS-capable number for your account.");
		goto out;
	}
	if (body == NULL || body[0] == '\0') {
		s->st.rejected++;
		twilio_error(req, 400, 21602, "Message body is required.");
		goto out;
	}
	if (sms_api_segments(body, strlen(body), &enc, NULL) == 0 ||
	    telegram_api_utf16_len(body, strlen(body)) > SMSIM_BODY_CHARS) {
		s->st.rejected++;
		twilio_error(req, 400, 21617, "The concatenated message body exceeds the 1600 character limit.");
		goto out;
	}
	if (validity != NULL) {
		char *end;

		errno = 0;
		v = strtoll(validity, &end, 10);
		if (*end != '\0' || errno != 0 || v < 1 || v > SMS_VALIDITY_MAX) {
			s->st.rejected++;
			twilio_error(req, 400, 21609, "ValidityPeriod must be between 1 and 36000.");
			goto out;
		}
	}
	if ((c = sim_chat_get(&s->core, id, NULL)) == NULL) {
		twilio_error(req, 500, 20500, "Internal Server Error");
		goto out;
	}
	if (c->blocked == 1) {
		s->st.opted_out++;
		twilio_error(req, 400, 21610, "Attempt to send to unsubscribed recipient");
		goto out;
	}
	segments = sms_api_segments(body, strlen(body), &enc, NULL);
	new_sid(s, "SM", sid, sizeof(sid));
	markup = cJSON_CreateObject();
	cJSON_AddStringToObject(markup, "to", to);
	cJSON_AddNumberToObject(markup, "segments", segments);
	cJSON_AddStringToObject(markup, "encoding", enc == SMS_GSM7 ? "gsm7" : "ucs2");
	cJSON_AddNumberToObject(markup, "validity", (double)v);
	cJSON_AddStringToObject(markup, "status_callback", cb != NULL ? cb : "");
	if ((text = strdup(body)) == NULL ||
	    sim_sent_push(&s->core, id, ++c->last_message_id, 0, text, markup, &out) != 0) {
		twilio_error(req, 500, 20500, "Internal Server Error");
		goto out;
	}
	cb_strlcpy(out->mid, sid, sizeof(out->mid));
	cb_strlcpy(out->kind, "sms", sizeof(out->kind));
	s->st.sent++;
	s->st.segments += segments;
	if (c->unreachable != 0)
		s->st.unreachable++;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "sid", sid);
	cJSON_AddStringToObject(o, "account_sid", s->account_sid);
	cJSON_AddStringToObject(o, "to", to);
	cJSON_AddStringToObject(o, "from", s->number);
	cJSON_AddStringToObject(o, "body", body);
	cJSON_AddStringToObject(o, "status", "queued");
	{
		char nseg[16];

		snprintf(nseg, sizeof(nseg), "%d", segments);
		cJSON_AddStringToObject(o, "num_segments", nseg);
	}
	cJSON_AddStringToObject(o, "direction", "outbound-api");
	cJSON_AddStringToObject(o, "api_version", "2010-04-01");
	sim_reply_json(req, 201, o);
	schedule_statuses(s, c, sid, to, cb);
	sim_wait_wake(&s->core);
out:
	sms_api_form_free(&form);
}

static void api_handle(struct http_server_req *req, void *arg)
{
	struct smsim *s = arg;
	char path[256], want[160];

	if (sim_path(req->path, path, sizeof(path)) != 0) {
		twilio_error(req, 404, 20404, "The requested resource was not found");
		return;
	}
	snprintf(want, sizeof(want), "/2010-04-01/Accounts/%s/Messages.json", s->account_sid);
	if (strcmp(path, want) != 0) {
		twilio_error(req, 404, 20404, "The requested resource was not found");
		return;
	}
	if (strcmp(req->method, "POST") != 0) {
		twilio_error(req, 405, 20004, "Method not allowed");
		return;
	}
	messages(s, req);
}

/* ---- control ------------------------------------------------------------ */

static void ctl_error(struct http_server_req *req, int status, const char *why)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", why);
	sim_reply_json(req, status, o);
}

static const char *str(const cJSON *in, const char *name)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(in, name));
}

/* A family's text, as Twilio posts it (the fields of a real inbound
 * webhook, in their order). */
static void c_message(struct smsim *s, struct http_server_req *req, const cJSON *in, int forged)
{
	const char *from = str(in, "from"), *text = str(in, "text");
	char sid[64], nseg[16];
	struct field f[20];
	size_t n = 0;
	int64_t id;
	cJSON *o;

	if (from == NULL || text == NULL || from[0] != '+' || number_id(from, &id) != 0) {
		ctl_error(req, 400, "from (E.164) and text are needed");
		return;
	}
	if (s->webhook[0] == '\0') {
		ctl_error(req, 409, "no webhook");
		return;
	}
	sim_chat_get(&s->core, id, NULL);
	new_sid(s, "SM", sid, sizeof(sid));
	snprintf(nseg, sizeof(nseg), "%d", sms_api_segments(text, strlen(text), NULL, NULL));
	f[n++] = (struct field){"ToCountry", "BE"};
	f[n++] = (struct field){"ToState", ""};
	f[n++] = (struct field){"SmsMessageSid", sid};
	f[n++] = (struct field){"NumMedia", "0"};
	f[n++] = (struct field){"ToCity", ""};
	f[n++] = (struct field){"FromZip", ""};
	f[n++] = (struct field){"SmsSid", sid};
	f[n++] = (struct field){"FromState", ""};
	f[n++] = (struct field){"SmsStatus", "received"};
	f[n++] = (struct field){"FromCity", ""};
	f[n++] = (struct field){"Body", text};
	f[n++] = (struct field){"FromCountry", "BE"};
	f[n++] = (struct field){"To", s->number};
	f[n++] = (struct field){"ToZip", ""};
	f[n++] = (struct field){"NumSegments", nseg};
	f[n++] = (struct field){"MessageSid", sid};
	f[n++] = (struct field){"AccountSid", s->account_sid};
	f[n++] = (struct field){"From", from};
	f[n++] = (struct field){"ApiVersion", "2010-04-01"};
	if (hook_queue(s, "inbound", s->public_url[0] != '\0' ? s->public_url : s->webhook, f, n, forged, 0) != 0) {
		ctl_error(req, 503, "too many webhooks");
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "hook", (double)s->next_seq);
	cJSON_AddStringToObject(o, "sid", sid);
	sim_reply_json(req, 200, o);
}

static void c_number(struct smsim *s, struct http_server_req *req, const cJSON *in)
{
	const char *number = str(in, "number"), *mode = str(in, "mode");
	struct sim_chat *c;
	int64_t id;

	if (number == NULL || mode == NULL || number_id(number, &id) != 0 ||
	    (c = sim_chat_get(&s->core, id, NULL)) == NULL) {
		ctl_error(req, 400, "number and mode are needed");
		return;
	}
	c->unreachable = strcmp(mode, "unreachable") == 0 ? 1 : strcmp(mode, "unknown") == 0 ? 2 : 0;
	c->blocked = strcmp(mode, "opted_out") == 0 ? 1 : strcmp(mode, "opted_out_later") == 0 ? 2 : 0;
	if (strcmp(mode, "ok") != 0 && c->unreachable == 0 && c->blocked == 0) {
		ctl_error(req, 400, "mode: ok, unreachable, unknown, opted_out or opted_out_later");
		return;
	}
	sim_reply_json(req, 200, cJSON_CreateObject());
}

static void c_webhook(struct smsim *s, struct http_server_req *req, const cJSON *in)
{
	const char *url = str(in, "url"), *pub = str(in, "public_url");

	if (url == NULL || cb_strlcpy(s->webhook, url, sizeof(s->webhook)) != 0 ||
	    (pub != NULL && cb_strlcpy(s->public_url, pub, sizeof(s->public_url)) != 0)) {
		ctl_error(req, 400, "url is needed");
		return;
	}
	sim_reply_json(req, 200, cJSON_CreateObject());
	pump(s);
}

static void c_sent(struct smsim *s, struct http_server_req *req)
{
	char number[32];
	int64_t id = 0;
	cJSON *o = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(o, "messages");

	if (sim_query(req->path, "number", number, sizeof(number)) == 0 && number_id(number, &id) != 0) {
		cJSON_Delete(o);
		ctl_error(req, 400, "number: digits");
		return;
	}
	for (size_t i = 0; i < s->core.sent.n; i++) {
		const struct sim_sent *m = sim_ring_at(&s->core.sent, i);
		cJSON *e;

		if (id != 0 && m->chat_id != id)
			continue;
		e = cJSON_Duplicate(m->markup, 1);
		cJSON_AddStringToObject(e, "sid", m->mid);
		cJSON_AddStringToObject(e, "text", m->text);
		cJSON_AddNumberToObject(e, "at_ms", (double)m->at_ms);
		cJSON_AddItemToArray(arr, e);
	}
	sim_reply_json(req, 200, o);
}

static void c_stats(struct smsim *s, struct http_server_req *req)
{
	cJSON *o = cJSON_CreateObject();

#define STAT(x) cJSON_AddNumberToObject(o, #x, (double)s->st.x)
	STAT(api_calls);
	STAT(sent);
	STAT(rejected);
	STAT(bad_auth);
	STAT(opted_out);
	STAT(unreachable);
	STAT(throttled);
	STAT(hooks_posted);
	STAT(hooks_delivered);
	STAT(hooks_refused);
	STAT(hooks_gave_up);
	STAT(statuses_delivered);
	STAT(inbound_delivered);
	STAT(forged_refused);
	STAT(forged_accepted);
	STAT(segments);
#undef STAT
	sim_reply_json(req, 200, o);
}

static void c_reset(struct smsim *s, struct http_server_req *req)
{
	for (size_t i = 0; i < s->nhooks; i++)
		if (!s->hooks[i]->inflight)
			s->hooks[i]->done = 1;
	sim_store_reset(&s->core);
	memset(&s->st, 0, sizeof(s->st));
	sim_reply_json(req, 200, cJSON_CreateObject());
}

static long long wait_count(struct sim *sim, const char *what, int64_t chat)
{
	struct smsim *s = (struct smsim *)sim;

	(void)chat;
	if (strcmp(what, "hooks_delivered") == 0)
		return s->st.hooks_delivered;
	if (strcmp(what, "statuses_delivered") == 0)
		return s->st.statuses_delivered;
	if (strcmp(what, "inbound_delivered") == 0)
		return s->st.inbound_delivered;
	if (strcmp(what, "forged_refused") == 0)
		return s->st.forged_refused;
	if (strcmp(what, "hooks_refused") == 0)
		return s->st.hooks_refused;
	return -1;
}

static void control(struct http_server_req *req, void *arg)
{
	struct smsim *s = arg;
	char path[128];
	const char *name;
	cJSON *in = NULL;
	struct sim_fault f;
	const char *why;
	int clear;

	if (s->core.closing) {
		http_server_respond(req, 503, "text/plain", "shutting down\n", 14);
		return;
	}
	if (sim_path(req->path, path, sizeof(path)) != 0 || strncmp(path, "/control/", 9) != 0) {
		ctl_error(req, 404, "no such control");
		return;
	}
	name = path + 9;
	if (strcmp(req->method, "GET") == 0) {
		if (strcmp(name, "sent") == 0)
			c_sent(s, req);
		else if (strcmp(name, "stats") == 0)
			c_stats(s, req);
		else if (strcmp(name, "wait") == 0)
			sim_wait_handle(&s->core, req);
		else
			ctl_error(req, 404, "no such control");
		return;
	}
	if (strcmp(req->method, "POST") != 0 || sim_cross_site(&s->core, req)) {
		ctl_error(req, 405, "POST from this origin only");
		return;
	}
	in = req->body != NULL ? cJSON_ParseWithLength(req->body, req->body_len) : cJSON_CreateObject();
	if (!cJSON_IsObject(in)) {
		cJSON_Delete(in);
		ctl_error(req, 400, "a JSON object is needed");
		return;
	}
	if (strcmp(name, "message") == 0)
		c_message(s, req, in, 0);
	else if (strcmp(name, "forge") == 0)
		c_message(s, req, in, 1);
	else if (strcmp(name, "number") == 0)
		c_number(s, req, in);
	else if (strcmp(name, "webhook") == 0)
		c_webhook(s, req, in);
	else if (strcmp(name, "reset") == 0)
		c_reset(s, req);
	else if (strcmp(name, "fault") == 0) {
		if (sim_fault_parse(in, &f, &clear, &why) != 0)
			ctl_error(req, 400, why);
		else if (clear) {
			sim_fault_clear(&s->core);
			sim_reply_json(req, 200, cJSON_CreateObject());
		} else if (sim_fault_add(&s->core, &f) != 0)
			ctl_error(req, 409, "too many faults");
		else
			sim_reply_json(req, 200, cJSON_CreateObject());
	} else
		ctl_error(req, 404, "no such control");
	cJSON_Delete(in);
}

/* ---- start-up ------------------------------------------------------------ */

static void on_closed(struct app *a)
{
	if (a->http_closed && a->client_closed) {
		uv_close((uv_handle_t *)&a->sigterm, NULL);
		uv_close((uv_handle_t *)&a->sigint, NULL);
		uv_close((uv_handle_t *)&a->s.timer, NULL);
	}
}

static void on_http_closed(void *arg)
{
	struct app *a = arg;

	a->http_closed = 1;
	on_closed(a);
}

static void on_client_closed(void *arg)
{
	struct app *a = arg;

	a->client_closed = 1;
	on_closed(a);
}

static void on_signal(uv_signal_t *h, int signum)
{
	struct app *a = h->data;

	(void)signum;
	if (a->s.core.closing)
		return;
	a->s.core.closing = 1;
	log_info("shutting down");
	uv_timer_stop(&a->s.timer);
	sim_wait_shutdown(&a->s.core);
	http_client_close(a->s.client, on_client_closed, a);
	http_server_close(a->s.core.http, on_http_closed, a);
}

static int parse_int(const char *v, long min, long max, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0 || n < min || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: smsim --listen HOST:PORT --account-sid AC... --auth-token TOKEN [--port-file PATH]\n"
	                "             [--number +E164] [--webhook URL] [--public-url URL]\n"
	                "             [--status-order forward|shuffle|reverse] [--status-delay-ms N]\n"
	                "             [--late-percent N] [--retry-base-ms N] [--max-attempts N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct app a;
	struct smsim *s = &a.s;
	const char *listen = NULL, *port_file = NULL, *sid = NULL, *token = NULL;
	int port, rc;

	cb_strlcpy(s->number, "+32460000000", sizeof(s->number));
	s->order = ORDER_SHUFFLE;
	s->status_delay_ms = 20;
	s->late_percent = 20;
	s->retry_base_ms = 200;
	s->max_attempts = 8;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (val == NULL)
			usage();
		i++;
		if (strcmp(opt, "--listen") == 0)
			listen = val;
		else if (strcmp(opt, "--port-file") == 0)
			port_file = val;
		else if (strcmp(opt, "--account-sid") == 0 || strcmp(opt, "--token") == 0)
			sid = val;
		else if (strcmp(opt, "--auth-token") == 0)
			token = val;
		else if (strcmp(opt, "--number") == 0) {
			if (cb_strlcpy(s->number, val, sizeof(s->number)) != 0)
				usage();
		} else if (strcmp(opt, "--webhook") == 0) {
			if (cb_strlcpy(s->webhook, val, sizeof(s->webhook)) != 0)
				usage();
		} else if (strcmp(opt, "--public-url") == 0) {
			if (cb_strlcpy(s->public_url, val, sizeof(s->public_url)) != 0)
				usage();
		} else if (strcmp(opt, "--status-order") == 0) {
			if (strcmp(val, "forward") == 0)
				s->order = ORDER_FORWARD;
			else if (strcmp(val, "shuffle") == 0)
				s->order = ORDER_SHUFFLE;
			else if (strcmp(val, "reverse") == 0)
				s->order = ORDER_REVERSE;
			else
				usage();
		} else if (strcmp(opt, "--status-delay-ms") == 0) {
			if (parse_int(val, 0, 60000, &s->status_delay_ms) != 0)
				usage();
		} else if (strcmp(opt, "--late-percent") == 0) {
			if (parse_int(val, 0, 100, &s->late_percent) != 0)
				usage();
		} else if (strcmp(opt, "--retry-base-ms") == 0) {
			if (parse_int(val, 1, 3600000, &s->retry_base_ms) != 0)
				usage();
		} else if (strcmp(opt, "--max-attempts") == 0) {
			if (parse_int(val, 1, 1000, &s->max_attempts) != 0)
				usage();
		} else
			usage();
	}
	if (listen == NULL || sid == NULL || token == NULL || cb_strlcpy(s->account_sid, sid, sizeof(s->account_sid)) != 0 ||
	    cb_strlcpy(s->token, token, sizeof(s->token)) != 0)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&a.loop) != 0 || sodium_init() < 0)
		log_fatalx("cannot start");
	s->core.loop = &a.loop;
	s->core.wait_count = wait_count;
	if (sim_store_init(&s->core) != 0 || (s->client = http_client_new(&a.loop)) == NULL ||
	    (s->core.http = http_server_new(&a.loop)) == NULL)
		log_fatalx("out of memory");
	uv_timer_init(&a.loop, &s->timer);
	s->timer.data = s;
	rc = http_server_route(s->core.http, "/control", control, s);
	if (rc == 0)
		rc = http_server_route(s->core.http, "/2010-04-01", api_handle, s);
	if (rc != 0)
		log_fatalx("routes: %s", casebot_strerror(rc));
	if ((rc = http_server_listen(s->core.http, listen)) != 0)
		log_fatalx("cannot listen on %s: %s", listen, casebot_strerror(rc));
	if ((port = http_server_port(s->core.http)) < 0)
		log_fatalx("no port");
	uv_signal_init(&a.loop, &a.sigterm);
	uv_signal_init(&a.loop, &a.sigint);
	a.sigterm.data = a.sigint.data = &a;
	uv_signal_start(&a.sigterm, on_signal, SIGTERM);
	uv_signal_start(&a.sigint, on_signal, SIGINT);
	if (port_file != NULL && sim_write_port_file(port_file, port) != 0)
		log_fatalx("cannot write the port file");
	log_info("listening on port %d", port);
	uv_run(&a.loop, UV_RUN_DEFAULT);
	for (size_t i = 0; i < s->nhooks; i++)
		hook_free(s->hooks[i]);
	sim_store_free(&s->core);
	if (uv_loop_close(&a.loop) != 0) {
		log_error("loop did not close cleanly");
		return 1;
	}
	log_info("stopped");
	return 0;
}
