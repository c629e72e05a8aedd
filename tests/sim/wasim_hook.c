/* Webhooks to the daemon, as Meta sends them: the payload is printed once,
 * signed once (X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw
 * bytes with the app secret>) and POSTed until the answer is 200, with a
 * backoff that doubles from --retry-base-ms, at most --max-attempts times.
 * Statuses of an accepted message go out in the order asked (shuffled by
 * default, as Meta does not promise one) and some twice. Every body is
 * kept (bounded) so a test can replay one byte for byte. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "bot/log.h"
#include "tests/sim/wasim.h"

static void pump(struct wasim *w);

void wasim_sign(const char *key, const char *body, size_t len, char *out, size_t cap)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[sizeof(mac) * 2 + 1];

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, cap, "sha256=%s", hex);
}

int wasim_has_number(const struct sim_chat *c)
{
	return c->id > 0;
}

/* A wamid looks like Meta's: base64 of a small binary record that holds
 * the recipient's number and a unique tail. */
void wasim_wamid(struct wasim *w, const struct sim_chat *c, char *buf, size_t cap)
{
	unsigned char raw[64];
	char b64[sizeof(raw) * 4 / 3 + 4];
	size_t n = 0;
	int len;

	raw[n++] = 0x1c;
	raw[n++] = 0x18;
	len = snprintf((char *)raw + n + 1, sizeof(raw) - n - 1, "%" PRId64,
	               c->id > 0 ? c->id : -c->id);
	raw[n] = (unsigned char)len;
	n += 1 + (size_t)len;
	raw[n++] = 0x15;
	raw[n++] = 0x02;
	raw[n++] = 0x00;
	raw[n++] = 0x12;
	raw[n++] = 0x18;
	raw[n++] = 0x14;
	len = snprintf((char *)raw + n, sizeof(raw) - n, "3EB0%016" PRIX64, ++w->next_seq);
	n += (size_t)len;
	raw[n++] = 0x00;
	sodium_bin2base64(b64, sizeof(b64), raw, n, sodium_base64_VARIANT_ORIGINAL);
	snprintf(buf, cap, "wamid.%s", b64);
}

cJSON *wasim_envelope(struct wasim *w, cJSON **value)
{
	cJSON *root = cJSON_CreateObject(), *entry, *e, *changes, *ch, *md;

	if (root == NULL)
		return NULL;
	cJSON_AddStringToObject(root, "object", "whatsapp_business_account");
	entry = cJSON_AddArrayToObject(root, "entry");
	e = cJSON_CreateObject();
	cJSON_AddItemToArray(entry, e);
	cJSON_AddStringToObject(e, "id", w->waba_id);
	changes = cJSON_AddArrayToObject(e, "changes");
	ch = cJSON_CreateObject();
	cJSON_AddItemToArray(changes, ch);
	*value = cJSON_AddObjectToObject(ch, "value");
	cJSON_AddStringToObject(ch, "field", "messages");
	if (*value == NULL) {
		cJSON_Delete(root);
		return NULL;
	}
	cJSON_AddStringToObject(*value, "messaging_product", "whatsapp");
	md = cJSON_AddObjectToObject(*value, "metadata");
	cJSON_AddStringToObject(md, "display_phone_number", w->display_number);
	cJSON_AddStringToObject(md, "phone_number_id", w->phone_number_id);
	return root;
}

cJSON *wasim_contact(const struct sim_chat *c)
{
	cJSON *o = cJSON_CreateObject(), *p;
	char num[24];

	if (o == NULL)
		return NULL;
	p = cJSON_AddObjectToObject(o, "profile");
	cJSON_AddStringToObject(p, "name", c->first_name);
	if (wasim_has_number(c)) {
		snprintf(num, sizeof(num), "%" PRId64, c->id);
		cJSON_AddStringToObject(o, "wa_id", num);
	}
	if (c->user_id[0] != '\0')
		cJSON_AddStringToObject(o, "user_id", c->user_id);
	return o;
}

/* ---- the store of hooks ------------------------------------------------ */

static void hook_free(struct wasim *w, struct wasim_hook *h)
{
	w->hook_bytes -= h->len;
	free(h->body);
	h->body = NULL;
}

struct wasim_hook *wasim_hook_find(struct wasim *w, uint64_t seq)
{
	struct wasim_hook *h;
	size_t i;

	for (i = 0; i < w->hooks.n; i++) {
		h = sim_ring_at(&w->hooks, i);
		if (h->seq == seq)
			return h;
	}
	return NULL;
}

/* Takes body. Makes room by dropping the oldest hooks not under way. */
static int hook_push(struct wasim *w, char *body, size_t len, const char *sig,
                     const char *kind, const char *ref, const char *status,
                     uint64_t delay_ms, uint64_t *seq)
{
	struct wasim_hook *h;

	if (len > WASIM_MAX_HOOK_BYTES) {
		free(body);
		return -CB_ETOOBIG;
	}
	while (w->hooks.n > 0 && (w->hooks.n >= w->hooks.cap ||
	                          w->hook_bytes + len > WASIM_MAX_HOOK_BYTES)) {
		h = sim_ring_at(&w->hooks, 0);
		if (h->state == HOOK_INFLIGHT)
			break;
		hook_free(w, h);
		sim_ring_pop(&w->hooks);
	}
	if (w->hooks.n >= w->hooks.cap) {
		free(body);
		return -CB_ETOOBIG;
	}
	h = sim_ring_push(&w->hooks);
	h->seq = ++w->next_hook;
	cb_strlcpy(h->kind, kind, sizeof(h->kind));
	cb_strlcpy(h->ref, ref != NULL ? ref : "", sizeof(h->ref));
	cb_strlcpy(h->status, status != NULL ? status : "", sizeof(h->status));
	h->body = body;
	h->len = len;
	cb_strlcpy(h->signature, sig, sizeof(h->signature));
	h->state = HOOK_PENDING;
	h->due_ms = sim_now_ms() + delay_ms;
	w->hook_bytes += len;
	if (seq != NULL)
		*seq = h->seq;
	return 0;
}

static int queue_delayed(struct wasim *w, cJSON *root, const char *kind, const char *ref,
                         const char *status, int forged, uint64_t delay_ms, uint64_t *seq)
{
	char sig[80], wrong[WASIM_SECRET_MAX + 8];
	char *body = cJSON_PrintUnformatted(root);
	int rc;

	cJSON_Delete(root);
	if (body == NULL)
		return -CB_ENOMEM;
	if (forged) {
		/* Signed, but not with the app secret: what an attacker sends. */
		snprintf(wrong, sizeof(wrong), "not-%s", w->app_secret);
		wasim_sign(wrong, body, strlen(body), sig, sizeof(sig));
	} else {
		wasim_sign(w->app_secret, body, strlen(body), sig, sizeof(sig));
	}
	if ((rc = hook_push(w, body, strlen(body), sig, kind, ref, status, delay_ms, seq)) != 0)
		return rc;
	if (forged)
		w->st.hooks_forged++;
	pump(w);
	return 0;
}

int wasim_hook_queue(struct wasim *w, cJSON *root, const char *kind, const char *ref,
                     const char *status, int forged, uint64_t *seq)
{
	return queue_delayed(w, root, kind, ref, status, forged, 0, seq);
}

int wasim_hook_replay(struct wasim *w, uint64_t seq, uint64_t *new_seq)
{
	struct wasim_hook *h = wasim_hook_find(w, seq);
	char *copy, sig[80], ref[WASIM_WAMID_MAX], status[12];
	size_t len;
	int rc;

	if (h == NULL || h->body == NULL)
		return -CB_ENOENT;
	len = h->len;
	if ((copy = malloc(len + 1)) == NULL)
		return -CB_ENOMEM;
	memcpy(copy, h->body, len + 1);
	/* The hook may move when the ring makes room: copy what we keep. */
	cb_strlcpy(sig, h->signature, sizeof(sig));
	cb_strlcpy(ref, h->ref, sizeof(ref));
	cb_strlcpy(status, h->status, sizeof(status));
	if ((rc = hook_push(w, copy, len, sig, "replay", ref, status, 0, new_seq)) != 0)
		return rc;
	w->st.hooks_replayed++;
	pump(w);
	return 0;
}

/* ---- deliveries ------------------------------------------------------- */

struct delivery {
	struct wasim *w;
	uint64_t seq;
};

static uint64_t backoff_ms(const struct wasim *w, int attempts)
{
	uint64_t d = (uint64_t)w->retry_base_ms;
	int i;

	for (i = 1; i < attempts && d < 3600000; i++)
		d *= 2;
	return d;
}

static void on_posted(const struct http_response *res, void *arg)
{
	struct delivery *d = arg;
	struct wasim *w = d->w;
	struct wasim_hook *h = wasim_hook_find(w, d->seq);

	free(d);
	w->inflight--;
	if (h == NULL)
		goto out;
	h->last_status = res->error == 0 ? res->status : 0;
	if (h->last_status == 200) {
		h->state = HOOK_DELIVERED;
		if (strcmp(h->kind, "forged") == 0)
			w->st.forged_accepted++;
		else
			w->st.hooks_delivered++;
		log_info("webhook %" PRIu64 " (%s) -> 200 after %d attempt(s)", h->seq, h->kind,
		         h->attempts);
	} else {
		if (res->error != 0)
			w->st.hooks_failed++;
		else
			w->st.hooks_refused++;
		log_info("webhook %" PRIu64 " (%s) -> %d%s", h->seq, h->kind, h->last_status,
		         res->error != 0 ? " (no answer)" : "");
		/* A forged hook is refused, as it should be: never retried. */
		if (strcmp(h->kind, "forged") == 0 || h->attempts >= w->max_attempts) {
			h->state = HOOK_GAVE_UP;
			if (strcmp(h->kind, "forged") != 0)
				w->st.hooks_gave_up++;
		} else {
			h->state = HOOK_PENDING;
			h->due_ms = sim_now_ms() + backoff_ms(w, h->attempts);
		}
	}
out:
	sim_wait_wake(&w->core);
	if (!w->core.closing)
		pump(w);
}

static void post(struct wasim *w, struct wasim_hook *h)
{
	const char *headers[4];
	char sig_header[sizeof(((struct wasim_hook *)0)->signature) + 24];
	struct http_request req;
	struct delivery *d;
	int rc;

	if ((d = malloc(sizeof(*d))) == NULL)
		return;
	d->w = w;
	d->seq = h->seq;
	snprintf(sig_header, sizeof(sig_header), "X-Hub-Signature-256: %s", h->signature);
	headers[0] = sig_header;
	headers[1] = "User-Agent: facebookexternalua";
	headers[2] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = w->webhook;
	req.body = h->body;
	req.body_len = h->len;
	req.content_type = "application/json";
	req.headers = headers;
	req.timeout_ms = WASIM_HOOK_TIMEOUT_MS;
	req.max_response_bytes = 64 * 1024;
	h->state = HOOK_INFLIGHT;
	h->attempts++;
	w->st.hooks_posted++;
	if ((rc = http_client_request(w->client, &req, on_posted, d)) != 0) {
		free(d);
		h->state = HOOK_PENDING;
		h->due_ms = sim_now_ms() + backoff_ms(w, h->attempts);
		w->st.hooks_failed++;
		return;
	}
	w->inflight++;
}

void wasim_hook_kick(struct wasim *w)
{
	pump(w);
}

static void on_hook_timer(uv_timer_t *t)
{
	pump(t->data);
}

/* Posts what is due, oldest first, up to WASIM_HOOK_INFLIGHT at once, and
 * arms the timer for the next. */
static void pump(struct wasim *w)
{
	struct wasim_hook *h;
	uint64_t now = sim_now_ms(), next = UINT64_MAX;
	size_t i;

	if (w->core.closing || w->webhook[0] == '\0')
		return;
	for (i = 0; i < w->hooks.n; i++) {
		h = sim_ring_at(&w->hooks, i);
		if (h->state != HOOK_PENDING)
			continue;
		if (h->due_ms <= now && w->inflight < WASIM_HOOK_INFLIGHT)
			post(w, h);
		else if (h->due_ms < next)
			next = h->due_ms;
	}
	uv_timer_stop(&w->hook_timer);
	if (next != UINT64_MAX)
		uv_timer_start(&w->hook_timer, on_hook_timer, next > now ? next - now : 1, 0);
}

int wasim_hook_init(struct wasim *w)
{
	if (sim_ring_init(&w->hooks, sizeof(struct wasim_hook), WASIM_MAX_HOOKS) != 0)
		return -CB_ENOMEM;
	if ((w->client = http_client_new(w->core.loop)) == NULL)
		return -CB_ENOMEM;
	uv_timer_init(w->core.loop, &w->hook_timer);
	w->hook_timer.data = w;
	return 0;
}

void wasim_hook_reset(struct wasim *w)
{
	struct wasim_hook *h;
	size_t i, keep = 0, n = w->hooks.n;

	/* Hooks under way stay until their answer comes. */
	for (i = 0; i < n; i++) {
		h = sim_ring_at(&w->hooks, i);
		if (h->state == HOOK_INFLIGHT) {
			if (keep != i)
				memcpy(sim_ring_at(&w->hooks, keep), h, sizeof(*h));
			keep++;
			continue;
		}
		hook_free(w, h);
	}
	w->hooks.n = keep;
}

struct close_ctx {
	void (*closed)(void *arg);
	void *arg;
	int left;
};

static void close_step(void *arg)
{
	struct close_ctx *c = arg;

	if (--c->left == 0) {
		c->closed(c->arg);
		free(c);
	}
}

static void timer_closed(uv_handle_t *h)
{
	close_step(h->data);
}

void wasim_hook_close(struct wasim *w, void (*closed)(void *arg), void *arg)
{
	struct close_ctx *c = malloc(sizeof(*c));
	size_t i;

	uv_timer_stop(&w->hook_timer);
	if (c == NULL) {
		uv_close((uv_handle_t *)&w->hook_timer, NULL);
		http_client_close(w->client, NULL, NULL);
		closed(arg);
		return;
	}
	c->closed = closed;
	c->arg = arg;
	c->left = 2;
	w->hook_timer.data = c;
	uv_close((uv_handle_t *)&w->hook_timer, timer_closed);
	http_client_close(w->client, close_step, c);
	for (i = 0; i < w->hooks.n; i++)
		hook_free(w, sim_ring_at(&w->hooks, i));
	w->hooks.n = 0;
	free(w->hooks.buf);
	w->hooks.buf = NULL;
}

/* ---- statuses --------------------------------------------------------- */

static cJSON *status_payload(struct wasim *w, const struct sim_chat *c, const char *wamid,
                             const char *status, const char *category, int billable,
                             int fail_code)
{
	cJSON *value, *root = wasim_envelope(w, &value), *arr, *s, *p, *errs, *e, *ed;
	char num[24], ts[24];

	if (root == NULL)
		return NULL;
	cJSON_AddItemToArray(cJSON_AddArrayToObject(value, "contacts"), wasim_contact(c));
	arr = cJSON_AddArrayToObject(value, "statuses");
	s = cJSON_CreateObject();
	cJSON_AddItemToArray(arr, s);
	cJSON_AddStringToObject(s, "id", wamid);
	cJSON_AddStringToObject(s, "status", status);
	snprintf(ts, sizeof(ts), "%" PRId64, sim_clock_ms(&w->core) / 1000);
	cJSON_AddStringToObject(s, "timestamp", ts);
	if (wasim_has_number(c)) {
		snprintf(num, sizeof(num), "%" PRId64, c->id);
		cJSON_AddStringToObject(s, "recipient_id", num);
	}
	if (c->user_id[0] != '\0')
		cJSON_AddStringToObject(s, "recipient_user_id", c->user_id);
	if (fail_code != 0) {
		errs = cJSON_AddArrayToObject(s, "errors");
		e = cJSON_CreateObject();
		cJSON_AddItemToArray(errs, e);
		cJSON_AddNumberToObject(e, "code", fail_code);
		cJSON_AddStringToObject(e, "title", "Message undeliverable");
		cJSON_AddStringToObject(e, "message", "Message undeliverable");
		ed = cJSON_AddObjectToObject(e, "error_data");
		cJSON_AddStringToObject(ed, "details", "Message Undeliverable.");
		cJSON_AddStringToObject(e, "href",
		                        "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/");
		return root;
	}
	/* Per-message pricing, as Meta has sent it since July 2025. */
	p = cJSON_AddObjectToObject(s, "pricing");
	cJSON_AddBoolToObject(p, "billable", billable);
	cJSON_AddStringToObject(p, "pricing_model", "PMP");
	cJSON_AddStringToObject(p, "category", category);
	cJSON_AddStringToObject(p, "type", "regular");
	return root;
}

int wasim_statuses_schedule(struct wasim *w, const struct sim_chat *c, const char *wamid,
                            const char *category, int billable, int fail_code)
{
	const char *names[3];
	int n = 0, i, j, rc, copies;
	uint64_t delay;
	cJSON *root;

	if (fail_code != 0) {
		names[n++] = "failed";
	} else {
		names[n++] = "sent";
		names[n++] = "delivered";
		if (w->read_receipts)
			names[n++] = "read";
	}
	if (w->order == ORDER_REVERSE) {
		for (i = 0; i < n / 2; i++) {
			const char *t = names[i];

			names[i] = names[n - 1 - i];
			names[n - 1 - i] = t;
		}
	} else if (w->order == ORDER_SHUFFLE) {
		for (i = n - 1; i > 0; i--) {
			j = (int)randombytes_uniform((uint32_t)i + 1);
			const char *t = names[i];

			names[i] = names[j];
			names[j] = t;
		}
	}
	for (i = 0; i < n; i++) {
		copies = w->dup_percent > 0 && (int)randombytes_uniform(100) < w->dup_percent ? 2 : 1;
		for (j = 0; j < copies; j++) {
			if ((root = status_payload(w, c, wamid, names[i], category, billable,
			                           fail_code)) == NULL)
				return -CB_ENOMEM;
			delay = (uint64_t)w->status_delay_ms * (uint64_t)(i + 1);
			if ((rc = queue_delayed(w, root, "status", wamid, names[i], 0, delay, NULL)) != 0)
				return rc;
			w->st.statuses++;
			if (j > 0)
				w->st.status_dups++;
		}
	}
	return 0;
}

/* ---- the verification handshake --------------------------------------- */

struct verify {
	void (*done)(int status, const char *body, size_t len, void *arg);
	void *arg;
};

static void on_verified(const struct http_response *res, void *arg)
{
	struct verify *v = arg;

	v->done(res->error == 0 ? res->status : 0, res->body != NULL ? res->body : "",
	        res->body != NULL ? res->len : 0, v->arg);
	free(v);
}

int wasim_verify(struct wasim *w, const char *token, const char *challenge,
                 void (*done)(int status, const char *body, size_t len, void *arg), void *arg)
{
	struct http_request req;
	struct verify *v;
	char *et = NULL, *ec = NULL, url[WASIM_URL_MAX + WASIM_TOKEN_MAX * 3 + 128];
	int rc = -CB_ENOMEM;

	if (w->webhook[0] == '\0')
		return -CB_ESTATE;
	if ((v = malloc(sizeof(*v))) == NULL)
		return -CB_ENOMEM;
	v->done = done;
	v->arg = arg;
	if ((et = curl_easy_escape(NULL, token, 0)) == NULL ||
	    (ec = curl_easy_escape(NULL, challenge, 0)) == NULL)
		goto out;
	snprintf(url, sizeof(url), "%s%shub.mode=subscribe&hub.verify_token=%s&hub.challenge=%s",
	         w->webhook, strchr(w->webhook, '?') != NULL ? "&" : "?", et, ec);
	memset(&req, 0, sizeof(req));
	req.method = HTTP_GET;
	req.url = url;
	req.timeout_ms = WASIM_HOOK_TIMEOUT_MS;
	req.max_response_bytes = 4096;
	if ((rc = http_client_request(w->client, &req, on_verified, v)) == 0) {
		v = NULL;
		w->st.verifications++;
	}
out:
	curl_free(et);
	curl_free(ec);
	free(v);
	return rc;
}
