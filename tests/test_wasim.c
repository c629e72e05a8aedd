/* The WhatsApp Cloud API simulator against the behaviour of the real API.
 * Each test starts build/wasim (wasimctl) and, where webhooks matter, a
 * receiver in this process: an H2O server on its own libuv loop in a
 * thread, which keeps every POST's raw bytes and signature header and
 * answers as the test tells it. Tests wait on the simulator's
 * /control/wait, never on time. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sodium.h>

#include "bot/casebot.h"
#include "bot/net/http_server.h"
#include "tests/support/wasimctl.h"

#define PNID WASIMCTL_PHONE_NUMBER_ID
#define FAMILY "32470001001"
#define OTHER "32470001002"
#define MSGS "/" PNID "/messages"
#define MAX_SEEN 64

/* ---- the webhook receiver --------------------------------------------- */

struct seen {
	char *body;
	size_t len;
	char signature[100];
	int answered;
};

struct receiver {
	pthread_t thread;
	pthread_mutex_t mu;
	uv_loop_t loop;
	struct http_server *http;
	int port;
	char url[96];
	int refuse;                /* answer 500 to this many POSTs first */
	int check_signature;       /* answer 401 to a bad signature */
	struct seen seen[MAX_SEEN];
	int nseen;
	pthread_mutex_t ready_mu;
	pthread_cond_t ready;
	int started;
};

static void sign(const void *body, size_t len, char *out, size_t cap)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[sizeof(mac) * 2 + 1];

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)WASIMCTL_APP_SECRET,
	                            strlen(WASIMCTL_APP_SECRET));
	crypto_auth_hmacsha256_update(&st, body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, cap, "sha256=%s", hex);
}

static void on_hook(struct http_server_req *req, void *arg)
{
	struct receiver *rc = arg;
	const char *sig = http_server_req_header(req, "x-hub-signature-256", NULL);
	char want[100], challenge[64] = "", token[64] = "", *q;
	int status = 200;

	if (strcmp(req->method, "GET") == 0) {
		/* The handshake, as the daemon answers it. */
		q = strchr(req->path, '?');
		if (q != NULL) {
			sscanf(strstr(q, "hub.challenge=") != NULL ? strstr(q, "hub.challenge=") + 14 : "",
			       "%63[^&]", challenge);
			sscanf(strstr(q, "hub.verify_token=") != NULL ? strstr(q, "hub.verify_token=") + 17 : "",
			       "%63[^&]", token);
		}
		if (strcmp(token, WASIMCTL_VERIFY_TOKEN) == 0)
			http_server_respond(req, 200, "text/plain", challenge, strlen(challenge));
		else
			http_server_respond(req, 403, "text/plain", "no\n", 3);
		return;
	}
	pthread_mutex_lock(&rc->mu);
	if (rc->nseen < MAX_SEEN) {
		struct seen *s = &rc->seen[rc->nseen++];

		s->body = malloc(req->body_len + 1);
		memcpy(s->body, req->body != NULL ? req->body : "", req->body_len);
		s->body[req->body_len] = '\0';
		s->len = req->body_len;
		snprintf(s->signature, sizeof(s->signature), "%s", sig != NULL ? sig : "");
	}
	sign(req->body != NULL ? req->body : "", req->body_len, want, sizeof(want));
	if (rc->check_signature && (sig == NULL || strcmp(sig, want) != 0))
		status = 401;
	else if (rc->refuse > 0) {
		rc->refuse--;
		status = 500;
	}
	rc->seen[rc->nseen - 1].answered = status;
	pthread_mutex_unlock(&rc->mu);
	http_server_respond(req, status, "text/plain", status == 200 ? "ok" : "no", 2);
}

static void *receiver_main(void *arg)
{
	struct receiver *rc = arg;

	uv_loop_init(&rc->loop);
	rc->http = http_server_new(&rc->loop);
	http_server_route(rc->http, "/hook", on_hook, rc);
	http_server_listen(rc->http, "127.0.0.1:0");
	rc->port = http_server_port(rc->http);
	pthread_mutex_lock(&rc->ready_mu);
	rc->started = 1;
	pthread_cond_signal(&rc->ready);
	pthread_mutex_unlock(&rc->ready_mu);
	uv_run(&rc->loop, UV_RUN_DEFAULT);
	uv_loop_close(&rc->loop);
	return NULL;
}

static struct receiver *receiver_start(void)
{
	struct receiver *rc = calloc(1, sizeof(*rc));

	assert_non_null(rc);
	pthread_mutex_init(&rc->mu, NULL);
	pthread_mutex_init(&rc->ready_mu, NULL);
	pthread_cond_init(&rc->ready, NULL);
	assert_int_equal(pthread_create(&rc->thread, NULL, receiver_main, rc), 0);
	pthread_mutex_lock(&rc->ready_mu);
	while (!rc->started)
		pthread_cond_wait(&rc->ready, &rc->ready_mu);
	pthread_mutex_unlock(&rc->ready_mu);
	assert_true(rc->port > 0);
	snprintf(rc->url, sizeof(rc->url), "http://127.0.0.1:%d/hook", rc->port);
	return rc;
}

/* One receiver for the whole run, emptied for each test: its thread
 * lives until the process ends, so what H2O keeps for the thread is never
 * orphaned by a thread that exits. */
static struct receiver *receiver_get(void)
{
	static struct receiver *shared;
	int i;

	if (shared == NULL)
		shared = receiver_start();
	pthread_mutex_lock(&shared->mu);
	for (i = 0; i < shared->nseen; i++)
		free(shared->seen[i].body);
	memset(shared->seen, 0, sizeof(shared->seen));
	shared->nseen = 0;
	shared->refuse = 0;
	shared->check_signature = 0;
	pthread_mutex_unlock(&shared->mu);
	return shared;
}

/* ---- fixture ---------------------------------------------------------- */

struct fx {
	struct wasimctl w;
	struct receiver *rc;
};

static int start(void **state, int with_receiver, const char *args)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (with_receiver)
		f->rc = receiver_get();
	if (wasimctl_start(&f->w, f->rc != NULL ? f->rc->url : NULL, args) != 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return start(state, 0, "--template visit_reminder:nl:2 --template visit_reminder:fr:2");
}

static int setup_enforce(void **state)
{
	return start(state, 0, "--enforce --chat-tolerance-ms 0");
}

static int setup_mps(void **state)
{
	return start(state, 0, "--enforce --mps 3 --pair-gap-ms 1 --global-tolerance-ms 0");
}

static int setup_hooks(void **state)
{
	return start(state, 1, "--status-dup-percent 0 --status-order forward --retry-base-ms 20");
}

static int setup_statuses(void **state)
{
	return start(state, 1, "--status-dup-percent 100 --status-order reverse");
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int code = wasimctl_stop(&f->w);

	free(f);
	/* The simulator must answer SIGTERM with exit 0, whatever it held. */
	return code == 0 ? 0 : -1;
}

/* ---- helpers ---------------------------------------------------------- */

struct call {
	struct simctl_resp r;
	cJSON *json;
};

static void call_free(struct call *c)
{
	cJSON_Delete(c->json);
	simctl_resp_free(&c->r);
}

static void graph(struct fx *f, const char *verb, const char *path, const char *json,
                  const char *token, struct call *c)
{
	memset(c, 0, sizeof(*c));
	assert_int_equal(wasimctl_graph(&f->w, verb, path, json, token, &c->r), 0);
	if (c->r.body != NULL)
		c->json = cJSON_ParseWithLength(c->r.body, c->r.len);
}

static const cJSON *at(const cJSON *o, const char *path)
{
	char buf[256], *save = NULL, *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = strtok_r(buf, ".", &save); p != NULL && o != NULL; p = strtok_r(NULL, ".", &save))
		o = (*p >= '0' && *p <= '9') ? cJSON_GetArrayItem(o, atoi(p)) :
		    cJSON_GetObjectItemCaseSensitive(o, p);
	return o;
}

static const char *str_at(const cJSON *o, const char *path)
{
	const cJSON *v = at(o, path);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

static long num_at(const cJSON *o, const char *path)
{
	const cJSON *v = at(o, path);

	assert_true(cJSON_IsNumber(v));
	return (long)v->valuedouble;
}

/* An error exactly in Graph's shape: error.{message, type, code,
 * fbtrace_id}, error_data.details where Meta gives one. */
static void assert_graph_error(const struct call *c, long http, long code)
{
	assert_int_equal(c->r.status, http);
	assert_non_null(c->json);
	assert_int_equal(num_at(c->json, "error.code"), code);
	assert_true(strlen(str_at(c->json, "error.message")) > 0);
	assert_true(strlen(str_at(c->json, "error.type")) > 0);
	assert_true(strlen(str_at(c->json, "error.fbtrace_id")) > 0);
}

/* Takes json. */
static void expect_error(struct fx *f, char *json, long http, long code)
{
	struct call c;

	graph(f, "POST", MSGS, json, NULL, &c);
	free(json);
	assert_graph_error(&c, http, code);
	assert_true(strlen(str_at(c.json, "error.error_data.details")) > 0);
	call_free(&c);
}

static char *text_json(const char *to, const char *body)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "messaging_product", "whatsapp");
	cJSON_AddStringToObject(o, "recipient_type", "individual");
	cJSON_AddStringToObject(o, "to", to);
	cJSON_AddStringToObject(o, "type", "text");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(o, "text"), "body", body);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

/* Sends a text; the HTTP status. */
static long send_text(struct fx *f, const char *to, const char *body, struct call *out)
{
	char *json = text_json(to, body);
	struct call c;
	long status;

	graph(f, "POST", MSGS, json, NULL, &c);
	free(json);
	status = c.r.status;
	if (out != NULL)
		*out = c;
	else
		call_free(&c);
	return status;
}

static const char *template_json(const char *lang, int nparams)
{
	static char buf[512];
	int n;

	n = snprintf(buf, sizeof(buf),
	             "{\"messaging_product\":\"whatsapp\",\"to\":\"" FAMILY "\",\"type\":\"template\","
	             "\"template\":{\"name\":\"visit_reminder\",\"language\":{\"policy\":\"deterministic\","
	             "\"code\":\"%s\"},\"components\":[{\"type\":\"body\",\"parameters\":[", lang);
	for (int i = 0; i < nparams; i++)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s{\"type\":\"text\",\"text\":\"p%d\"}",
		              i > 0 ? "," : "", i + 1);
	snprintf(buf + n, sizeof(buf) - (size_t)n, "]}]}}");
	return buf;
}

static int nseen(struct receiver *rc)
{
	int n;

	pthread_mutex_lock(&rc->mu);
	n = rc->nseen;
	pthread_mutex_unlock(&rc->mu);
	return n;
}

/* ---- tests ------------------------------------------------------------ */

static void t_bad_token(void **state)
{
	struct fx *f = *state;
	char *json = text_json(FAMILY, "hi");
	struct call c;

	graph(f, "POST", MSGS, json, "", &c);
	assert_graph_error(&c, 401, 190);
	call_free(&c);
	graph(f, "POST", MSGS, json, "not-the-token", &c);
	assert_graph_error(&c, 401, 190);
	assert_string_equal(str_at(c.json, "error.type"), "OAuthException");
	call_free(&c);
	graph(f, "GET", "/1200000000000001", NULL, "", &c);
	assert_graph_error(&c, 401, 190);
	call_free(&c);
	free(json);
	assert_int_equal(wasimctl_stat(&f->w, "bad_auth"), 3);
	assert_int_equal(wasimctl_stat(&f->w, "sent"), 0);
}

static void t_send_text(void **state)
{
	struct fx *f = *state;
	char big[4 * 4097 + 1];
	struct call c;
	cJSON *sent;
	size_t i;

	assert_true(wasimctl_text(&f->w, FAMILY, "bonjour") > 0);
	assert_int_equal(send_text(f, FAMILY, "Votre rendez-vous est demain \xC3\xA0 10h", &c), 200);
	assert_string_equal(str_at(c.json, "messaging_product"), "whatsapp");
	assert_string_equal(str_at(c.json, "contacts.0.input"), FAMILY);
	assert_string_equal(str_at(c.json, "contacts.0.wa_id"), FAMILY);
	assert_true(strncmp(str_at(c.json, "messages.0.id"), "wamid.", 6) == 0);
	sent = wasimctl_sent(&f->w, FAMILY);
	assert_int_equal(cJSON_GetArraySize(sent), 1);
	assert_string_equal(str_at(sent, "0.id"), str_at(c.json, "messages.0.id"));
	assert_string_equal(str_at(sent, "0.type"), "text");
	assert_string_equal(str_at(sent, "0.text"), "Votre rendez-vous est demain \xC3\xA0 10h");
	cJSON_Delete(sent);
	call_free(&c);

	/* 4096 characters pass whatever their bytes; 4097 do not. */
	for (i = 0; i < 4096; i++)
		memcpy(big + 2 * i, "\xC3\xA9", 2);
	big[2 * 4096] = '\0';
	assert_int_equal(send_text(f, FAMILY, big, NULL), 200);
	memcpy(big + 2 * 4096, "\xC3\xA9", 3);
	assert_int_equal(send_text(f, FAMILY, big, &c), 400);
	assert_graph_error(&c, 400, 100);
	call_free(&c);
	/* "+32 470..." is normalised to the digits. */
	assert_int_equal(send_text(f, "+32 470 00 10 01", "ok", &c), 200);
	assert_string_equal(str_at(c.json, "contacts.0.wa_id"), FAMILY);
	call_free(&c);
}

static void t_window(void **state)
{
	struct fx *f = *state;
	struct call c;

	/* Never wrote: business-initiated free-form is refused. */
	assert_int_equal(send_text(f, OTHER, "hello", &c), 400);
	assert_graph_error(&c, 400, 131047);
	assert_string_equal(str_at(c.json, "error.error_data.messaging_product"), "whatsapp");
	call_free(&c);
	assert_true(wasimctl_text(&f->w, FAMILY, "hi") > 0);
	assert_int_equal(send_text(f, FAMILY, "inside the window", NULL), 200);
	/* 23 hours later still inside; 25 hours later outside. */
	assert_int_equal(wasimctl_age(&f->w, FAMILY, 23), 0);
	assert_int_equal(send_text(f, FAMILY, "still inside", NULL), 200);
	assert_int_equal(wasimctl_age(&f->w, FAMILY, 2), 0);
	expect_error(f, text_json(FAMILY, "outside"), 400, 131047);
	/* A template is allowed outside the window. */
	graph(f, "POST", MSGS, template_json("nl", 2), NULL, &c);
	assert_int_equal(c.r.status, 200);
	assert_string_equal(str_at(c.json, "messages.0.message_status"), "accepted");
	call_free(&c);
	/* The family answers: the window opens again. */
	assert_true(wasimctl_text(&f->w, FAMILY, "ok") > 0);
	assert_int_equal(send_text(f, FAMILY, "thanks", NULL), 200);
	assert_int_equal(wasimctl_stat(&f->w, "window_violations"), 2);
}

static void t_template_language(void **state)
{
	struct fx *f = *state;
	struct call c;

	graph(f, "POST", MSGS, template_json("de", 2), NULL, &c);
	assert_graph_error(&c, 404, 132001);
	assert_non_null(strstr(str_at(c.json, "error.error_data.details"), "de"));
	call_free(&c);
	graph(f, "POST", MSGS, template_json("nl", 1), NULL, &c);
	assert_graph_error(&c, 400, 132000);
	call_free(&c);
	graph(f, "POST", MSGS, template_json("fr", 2), NULL, &c);
	assert_int_equal(c.r.status, 200);
	call_free(&c);
	/* Approved at run time, in one more language. */
	assert_int_equal(wasimctl_template(&f->w, "visit_reminder", "de", 2), 0);
	graph(f, "POST", MSGS, template_json("de", 2), NULL, &c);
	assert_int_equal(c.r.status, 200);
	call_free(&c);
	assert_int_equal(wasimctl_stat(&f->w, "template_errors"), 2);
	{
		cJSON *sent = wasimctl_sent(&f->w, FAMILY);

		assert_int_equal(cJSON_GetArraySize(sent), 2);
		assert_string_equal(str_at(sent, "0.type"), "template");
		assert_string_equal(str_at(sent, "0.template"), "visit_reminder");
		assert_string_equal(str_at(sent, "0.language"), "fr");
		assert_string_equal(str_at(sent, "0.params.1"), "p2");
		cJSON_Delete(sent);
	}
}

static char *buttons_json(int n, const char *title0, const char *title1)
{
	char buf[2048];
	int k, i;

	k = snprintf(buf, sizeof(buf),
	             "{\"messaging_product\":\"whatsapp\",\"to\":\"" FAMILY "\",\"type\":\"interactive\","
	             "\"interactive\":{\"type\":\"button\",\"body\":{\"text\":\"Kunt u komen?\"},"
	             "\"action\":{\"buttons\":[");
	for (i = 0; i < n; i++)
		k += snprintf(buf + k, sizeof(buf) - (size_t)k,
		              "%s{\"type\":\"reply\",\"reply\":{\"id\":\"ap:1:%d\",\"title\":\"%s\"}}",
		              i > 0 ? "," : "", i, i == 0 ? title0 : i == 1 ? title1 : "Later");
	snprintf(buf + k, sizeof(buf) - (size_t)k, "]}}}");
	return strdup(buf);
}

static char *list_json(int rows)
{
	char buf[4096];
	int k, i;

	k = snprintf(buf, sizeof(buf),
	             "{\"messaging_product\":\"whatsapp\",\"to\":\"" FAMILY "\",\"type\":\"interactive\","
	             "\"interactive\":{\"type\":\"list\",\"body\":{\"text\":\"Kies een dag\"},"
	             "\"action\":{\"button\":\"Dagen\",\"sections\":[{\"rows\":[");
	for (i = 0; i < rows; i++)
		k += snprintf(buf + k, sizeof(buf) - (size_t)k, "%s{\"id\":\"d%d\",\"title\":\"Dag %d\"}",
		              i > 0 ? "," : "", i, i);
	snprintf(buf + k, sizeof(buf) - (size_t)k, "]}]}}}");
	return strdup(buf);
}

static void post_expect(struct fx *f, char *json, long http, long code)
{
	struct call c;

	graph(f, "POST", MSGS, json, NULL, &c);
	if (http == 200)
		assert_int_equal(c.r.status, 200);
	else
		assert_graph_error(&c, http, code);
	call_free(&c);
	free(json);
}

static void t_interactive_limits(void **state)
{
	struct fx *f = *state;
	cJSON *sent;

	assert_true(wasimctl_text(&f->w, FAMILY, "hi") > 0);
	post_expect(f, buttons_json(4, "Ja", "Nee"), 400, 131009);
	post_expect(f, buttons_json(2, "Ja, ik kom zeker morgen", "Nee"), 400, 131009);
	post_expect(f, buttons_json(2, "Ja", "Ja"), 400, 131009);
	post_expect(f, list_json(11), 400, 131009);
	post_expect(f, buttons_json(3, "Ja", "Nee"), 200, 0);
	post_expect(f, list_json(10), 200, 0);
	sent = wasimctl_sent(&f->w, FAMILY);
	assert_int_equal(cJSON_GetArraySize(sent), 2);
	assert_string_equal(str_at(sent, "0.interactive"), "button");
	assert_string_equal(str_at(sent, "0.buttons.1.title"), "Nee");
	assert_string_equal(str_at(sent, "0.buttons.1.data"), "ap:1:1");
	assert_int_equal(cJSON_GetArraySize(at(sent, "1.buttons")), 10);
	cJSON_Delete(sent);
}

static void t_pair_limit(void **state)
{
	struct fx *f = *state;
	struct call c;

	assert_true(wasimctl_text(&f->w, FAMILY, "hi") > 0);
	assert_true(wasimctl_text(&f->w, OTHER, "hi") > 0);
	assert_int_equal(send_text(f, FAMILY, "one", NULL), 200);
	/* A second message to the same user within 6 s is refused... */
	assert_int_equal(send_text(f, FAMILY, "two", &c), 400);
	assert_graph_error(&c, 400, 131056);
	call_free(&c);
	/* ...another user is not held back. */
	assert_int_equal(send_text(f, OTHER, "one", NULL), 200);
	assert_int_equal(wasimctl_stat(&f->w, "pair_breaches"), 1);
	assert_int_equal(wasimctl_stat(&f->w, "sent"), 2);
}

static void t_throughput(void **state)
{
	struct fx *f = *state;
	char wa[24];
	struct call c;
	int i;

	for (i = 0; i < 4; i++) {
		snprintf(wa, sizeof(wa), "3247000200%d", i);
		assert_true(wasimctl_text(&f->w, wa, "hi") > 0);
	}
	for (i = 0; i < 3; i++) {
		snprintf(wa, sizeof(wa), "3247000200%d", i);
		assert_int_equal(send_text(f, wa, "burst", NULL), 200);
	}
	/* The fourth in the same second (--mps 3). */
	assert_int_equal(send_text(f, "32470002003", "burst", &c), 400);
	assert_graph_error(&c, 400, 130429);
	call_free(&c);
	assert_int_equal(wasimctl_stat(&f->w, "throughput_breaches"), 1);
}

static void t_media(void **state)
{
	static const char pdf[] = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj<<>>endobj\n%%EOF\n";
	unsigned char hash[crypto_hash_sha256_BYTES];
	char hex[sizeof(hash) * 2 + 1], path[64], url[512], id[48], body[256];
	struct fx *f = *state;
	struct simctl_resp r;
	struct call c;

	assert_int_equal(wasimctl_upload(&f->w, "application/pdf", pdf, sizeof(pdf) - 1, "a.pdf", &r), 0);
	assert_int_equal(r.status, 200);
	c.json = cJSON_ParseWithLength(r.body, r.len);
	snprintf(id, sizeof(id), "%s", str_at(c.json, "id"));
	cJSON_Delete(c.json);
	simctl_resp_free(&r);
	/* A type WhatsApp does not take. */
	assert_int_equal(wasimctl_upload(&f->w, "application/x-msdownload", "MZ", 2, "a.exe", &r), 0);
	assert_int_equal(r.status, 400);
	simctl_resp_free(&r);

	snprintf(path, sizeof(path), "/%s", id);
	graph(f, "GET", path, NULL, NULL, &c);
	assert_int_equal(c.r.status, 200);
	assert_string_equal(str_at(c.json, "id"), id);
	assert_string_equal(str_at(c.json, "mime_type"), "application/pdf");
	assert_string_equal(str_at(c.json, "messaging_product"), "whatsapp");
	assert_int_equal(num_at(c.json, "file_size"), (long)sizeof(pdf) - 1);
	crypto_hash_sha256(hash, (const unsigned char *)pdf, sizeof(pdf) - 1);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	assert_string_equal(str_at(c.json, "sha256"), hex);
	snprintf(url, sizeof(url), "%s", str_at(c.json, "url"));
	assert_non_null(strstr(url, wasimctl_base(&f->w)));
	call_free(&c);

	/* The URL needs the same Bearer token... */
	assert_int_equal(wasimctl_fetch(&f->w, url, "", &r), 0);
	assert_int_equal(r.status, 401);
	simctl_resp_free(&r);
	assert_int_equal(wasimctl_fetch(&f->w, url, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, sizeof(pdf) - 1);
	assert_memory_equal(r.body, pdf, r.len);
	assert_string_equal(r.content_type, "application/pdf");
	simctl_resp_free(&r);
	/* ...and lives five minutes. */
	assert_int_equal(wasimctl_clock(&f->w, 299), 0);
	assert_int_equal(wasimctl_fetch(&f->w, url, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	simctl_resp_free(&r);
	assert_int_equal(wasimctl_clock(&f->w, 2), 0);
	assert_int_equal(wasimctl_fetch(&f->w, url, NULL, &r), 0);
	assert_int_equal(r.status, 404);
	simctl_resp_free(&r);
	assert_int_equal(wasimctl_stat(&f->w, "media_expired"), 1);
	/* A new GET gives a new URL that works. */
	graph(f, "GET", path, NULL, NULL, &c);
	assert_int_equal(wasimctl_fetch(&f->w, str_at(c.json, "url"), NULL, &r), 0);
	assert_int_equal(r.status, 200);
	simctl_resp_free(&r);
	call_free(&c);
	/* An unknown id: GraphMethodException 100, subcode 33. */
	graph(f, "GET", "/123456789", NULL, NULL, &c);
	assert_graph_error(&c, 400, 100);
	assert_int_equal(num_at(c.json, "error.error_subcode"), 33);
	call_free(&c);

	/* Sending it by id, and an unknown id. */
	assert_true(wasimctl_text(&f->w, FAMILY, "stuur maar") > 0);
	snprintf(body, sizeof(body),
	         "{\"messaging_product\":\"whatsapp\",\"to\":\"" FAMILY "\",\"type\":\"document\","
	         "\"document\":{\"id\":\"%s\",\"filename\":\"brief.pdf\"}}", id);
	graph(f, "POST", MSGS, body, NULL, &c);
	assert_int_equal(c.r.status, 200);
	call_free(&c);
	expect_error(f, strdup("{\"messaging_product\":\"whatsapp\",\"to\":\"" FAMILY "\",\"type\":\"audio\","
	                       "\"audio\":{\"id\":\"999\"}}"), 400, 131053);
}

static void t_unreachable(void **state)
{
	struct fx *f = *state;
	cJSON *hooks, *h, *body;
	struct call c;
	int found = 0;

	assert_true(wasimctl_text(&f->w, FAMILY, "hi") > 0);
	assert_true(wasimctl_text(&f->w, OTHER, "hi") > 0);
	assert_int_equal(wasimctl_wait(&f->w, "hooks_delivered", 2, 5000), 2);
	assert_int_equal(wasimctl_unreachable(&f->w, FAMILY, "sync"), 0);
	assert_int_equal(send_text(f, FAMILY, "hello", &c), 400);
	assert_graph_error(&c, 400, 131026);
	call_free(&c);
	/* Asynchronous: accepted, then a failed status with errors[]. */
	assert_int_equal(wasimctl_unreachable(&f->w, OTHER, "async"), 0);
	assert_int_equal(send_text(f, OTHER, "hello", &c), 200);
	call_free(&c);
	assert_int_equal(wasimctl_wait(&f->w, "statuses_delivered", 1, 5000), 1);
	hooks = wasimctl_hooks(&f->w, "status");
	cJSON_ArrayForEach(h, hooks) {
		body = cJSON_Parse(str_at(h, "body"));
		const cJSON *s = at(body, "entry.0.changes.0.value.statuses.0");

		assert_string_equal(str_at(s, "status"), "failed");
		assert_string_equal(str_at(s, "recipient_id"), OTHER);
		assert_int_equal(num_at(s, "errors.0.code"), 131026);
		assert_true(strlen(str_at(s, "errors.0.error_data.details")) > 0);
		found++;
		cJSON_Delete(body);
	}
	assert_int_equal(found, 1);
	cJSON_Delete(hooks);
	assert_int_equal(wasimctl_stat(&f->w, "unreachable"), 2);
}

static void t_webhook_signature(void **state)
{
	static const char text[] = "J'arrive \xC3\xA0 l'h\xC3\xB4pital \xF0\x9F\x98\x8A";
	struct fx *f = *state;
	char want[100];
	cJSON *p;
	const cJSON *m;

	assert_true(wasimctl_inject(&f->w, "message",
	                            "{\"wa_id\":\"" FAMILY "\",\"name\":\"Amina\",\"user_id\":\"BE.1234\","
	                            "\"text\":\"J'arrive \xC3\xA0 l'h\xC3\xB4pital \xF0\x9F\x98\x8A\"}") > 0);
	assert_int_equal(wasimctl_wait(&f->w, "hooks_delivered", 1, 5000), 1);
	assert_int_equal(nseen(f->rc), 1);
	/* The signature is the HMAC of the bytes as they came. */
	sign(f->rc->seen[0].body, f->rc->seen[0].len, want, sizeof(want));
	assert_string_equal(f->rc->seen[0].signature, want);
	assert_non_null(strstr(f->rc->seen[0].body, "\xC3\xA0 l'h\xC3\xB4pital"));
	p = cJSON_Parse(f->rc->seen[0].body);
	assert_string_equal(str_at(p, "object"), "whatsapp_business_account");
	assert_string_equal(str_at(p, "entry.0.changes.0.field"), "messages");
	assert_string_equal(str_at(p, "entry.0.changes.0.value.messaging_product"), "whatsapp");
	assert_string_equal(str_at(p, "entry.0.changes.0.value.metadata.phone_number_id"), PNID);
	assert_string_equal(str_at(p, "entry.0.changes.0.value.contacts.0.wa_id"), FAMILY);
	assert_string_equal(str_at(p, "entry.0.changes.0.value.contacts.0.user_id"), "BE.1234");
	assert_string_equal(str_at(p, "entry.0.changes.0.value.contacts.0.profile.name"), "Amina");
	m = at(p, "entry.0.changes.0.value.messages.0");
	assert_string_equal(str_at(m, "from"), FAMILY);
	assert_string_equal(str_at(m, "from_user_id"), "BE.1234");
	assert_string_equal(str_at(m, "id"), f->w.last_id);
	assert_string_equal(str_at(m, "type"), "text");
	assert_string_equal(str_at(m, "text.body"), text);
	/* Timestamps are strings of seconds. */
	assert_true(strspn(str_at(m, "timestamp"), "0123456789") == strlen(str_at(m, "timestamp")));
	cJSON_Delete(p);
}

static void t_webhook_retry(void **state)
{
	struct fx *f = *state;
	cJSON *hooks;

	f->rc->refuse = 2;
	assert_true(wasimctl_text(&f->w, FAMILY, "hallo") > 0);
	assert_int_equal(wasimctl_wait(&f->w, "hooks_delivered", 1, 10000), 1);
	assert_int_equal(nseen(f->rc), 3);
	/* Each retry is the same bytes with the same signature. */
	assert_int_equal(f->rc->seen[0].answered, 500);
	assert_int_equal(f->rc->seen[1].answered, 500);
	assert_int_equal(f->rc->seen[2].answered, 200);
	assert_string_equal(f->rc->seen[0].body, f->rc->seen[2].body);
	assert_string_equal(f->rc->seen[0].signature, f->rc->seen[2].signature);
	hooks = wasimctl_hooks(&f->w, "message");
	assert_int_equal(num_at(hooks, "0.attempts"), 3);
	assert_string_equal(str_at(hooks, "0.state"), "delivered");
	assert_int_equal(num_at(hooks, "0.last_status"), 200);
	cJSON_Delete(hooks);
	assert_int_equal(wasimctl_stat(&f->w, "hooks_refused"), 2);
}

static void t_statuses(void **state)
{
	struct fx *f = *state;
	const char *order[6];
	char wamid[128];
	struct call c;
	cJSON *p;
	int i, n;

	assert_true(wasimctl_text(&f->w, FAMILY, "hi") > 0);
	assert_int_equal(wasimctl_wait(&f->w, "hooks_delivered", 1, 5000), 1);
	assert_int_equal(send_text(f, FAMILY, "answer", &c), 200);
	snprintf(wamid, sizeof(wamid), "%s", str_at(c.json, "messages.0.id"));
	call_free(&c);
	/* Reversed, and every one twice: read, read, delivered, delivered,
	 * sent, sent. */
	assert_int_equal(wasimctl_wait(&f->w, "statuses_delivered", 6, 5000), 6);
	n = nseen(f->rc);
	assert_int_equal(n, 7);
	for (i = 1; i < n; i++) {
		const cJSON *s;

		p = cJSON_Parse(f->rc->seen[i].body);
		s = at(p, "entry.0.changes.0.value.statuses.0");
		assert_string_equal(str_at(s, "id"), wamid);
		assert_string_equal(str_at(s, "recipient_id"), FAMILY);
		assert_true(cJSON_IsString(at(s, "timestamp")));
		assert_string_equal(str_at(s, "pricing.category"), "service");
		assert_string_equal(str_at(s, "pricing.pricing_model"), "PMP");
		assert_true(cJSON_IsBool(at(s, "pricing.billable")));
		order[i - 1] = strcmp(str_at(s, "status"), "read") == 0 ? "read" :
		               strcmp(str_at(s, "status"), "delivered") == 0 ? "delivered" : "sent";
		cJSON_Delete(p);
	}
	/* Deliveries run side by side, so the receiver sees each status
	 * twice; the order they were queued in is read before sent. */
	{
		int reads = 0, delivered = 0, sents = 0;
		cJSON *hooks = wasimctl_hooks(&f->w, "status");

		for (i = 0; i < 6; i++) {
			reads += strcmp(order[i], "read") == 0;
			delivered += strcmp(order[i], "delivered") == 0;
			sents += strcmp(order[i], "sent") == 0;
		}
		assert_int_equal(reads, 2);
		assert_int_equal(delivered, 2);
		assert_int_equal(sents, 2);
		assert_int_equal(cJSON_GetArraySize(hooks), 6);
		assert_string_equal(str_at(hooks, "0.status"), "read");
		assert_string_equal(str_at(hooks, "1.status"), "read");
		assert_string_equal(str_at(hooks, "2.status"), "delivered");
		assert_string_equal(str_at(hooks, "5.status"), "sent");
		cJSON_Delete(hooks);
	}
	assert_int_equal(wasimctl_stat(&f->w, "status_dups"), 3);
}

static void t_forged_and_replay(void **state)
{
	struct fx *f = *state;
	int64_t hook, again;
	char want[100];

	f->rc->check_signature = 1;
	hook = wasimctl_text(&f->w, FAMILY, "echt");
	assert_true(hook > 0);
	assert_int_equal(wasimctl_wait(&f->w, "hooks_delivered", 1, 5000), 1);
	/* A forged one: the receiver checks and refuses it; it is not retried. */
	assert_true(wasimctl_forge(&f->w, FAMILY, "nep") > 0);
	assert_int_equal(wasimctl_wait(&f->w, "forged_refused", 1, 5000), 1);
	assert_int_equal(nseen(f->rc), 2);
	assert_int_equal(f->rc->seen[1].answered, 401);
	sign(f->rc->seen[1].body, f->rc->seen[1].len, want, sizeof(want));
	assert_string_not_equal(f->rc->seen[1].signature, want);
	assert_int_equal(wasimctl_stat(&f->w, "bad_signatures_refused"), 1);
	assert_int_equal(wasimctl_stat(&f->w, "forged_accepted"), 0);
	/* A replay is the same bytes, validly signed: a duplicate. */
	again = wasimctl_replay(&f->w, hook);
	assert_true(again > hook);
	assert_int_equal(wasimctl_wait(&f->w, "hooks_delivered", 2, 5000), 2);
	assert_int_equal(nseen(f->rc), 3);
	assert_int_equal(f->rc->seen[2].answered, 200);
	assert_string_equal(f->rc->seen[2].body, f->rc->seen[0].body);
	assert_string_equal(f->rc->seen[2].signature, f->rc->seen[0].signature);
	assert_int_equal(wasimctl_replay(&f->w, 999), -1);
}

static void t_verify(void **state)
{
	struct fx *f = *state;
	cJSON *v;

	v = wasimctl_verify(&f->w, NULL, "1158201444");
	assert_non_null(v);
	assert_int_equal(num_at(v, "status"), 200);
	assert_string_equal(str_at(v, "body"), "1158201444");
	assert_true(cJSON_IsTrue(at(v, "echoed")));
	cJSON_Delete(v);
	v = wasimctl_verify(&f->w, "wrong", NULL);
	assert_int_equal(num_at(v, "status"), 403);
	assert_true(cJSON_IsFalse(at(v, "echoed")));
	cJSON_Delete(v);
}

/* The payload of inbound hook number seq, parsed (caller deletes), and its
 * first message. */
static cJSON *hook_message(struct fx *f, int64_t seq, const cJSON **m)
{
	cJSON *hooks = wasimctl_hooks(&f->w, "message"), *h, *p = NULL;

	cJSON_ArrayForEach(h, hooks)
		if (num_at(h, "hook") == seq)
			p = cJSON_Parse(str_at(h, "body"));
	cJSON_Delete(hooks);
	assert_non_null(p);
	*m = at(p, "entry.0.changes.0.value.messages.0");
	assert_non_null(*m);
	return p;
}

static void t_inbound_kinds(void **state)
{
	struct fx *f = *state;
	const cJSON *m;
	struct call c;
	char path[64];
	cJSON *p;
	int64_t seq;

	/* A reply button taps the last interactive message. */
	assert_true(wasimctl_text(&f->w, FAMILY, "hi") > 0);
	post_expect(f, buttons_json(2, "Ja", "Nee"), 200, 0);
	seq = wasimctl_button_reply(&f->w, FAMILY, "ap:1:1", NULL);
	p = hook_message(f, seq, &m);
	assert_string_equal(str_at(m, "type"), "interactive");
	assert_string_equal(str_at(m, "interactive.type"), "button_reply");
	assert_string_equal(str_at(m, "interactive.button_reply.id"), "ap:1:1");
	assert_string_equal(str_at(m, "interactive.button_reply.title"), "Nee");
	assert_true(strncmp(str_at(m, "context.id"), "wamid.", 6) == 0);
	cJSON_Delete(p);

	seq = wasimctl_list_reply(&f->w, FAMILY, "d3", "Dag 3");
	p = hook_message(f, seq, &m);
	assert_string_equal(str_at(m, "interactive.list_reply.id"), "d3");
	cJSON_Delete(p);

	/* A template's quick reply has another shape. */
	seq = wasimctl_quick_reply(&f->w, FAMILY, "ap:1:1", "Ja");
	p = hook_message(f, seq, &m);
	assert_string_equal(str_at(m, "type"), "button");
	assert_string_equal(str_at(m, "button.payload"), "ap:1:1");
	assert_string_equal(str_at(m, "button.text"), "Ja");
	cJSON_Delete(p);

	/* A voice note: audio, voice true, Opus; its media id downloads. */
	seq = wasimctl_voice(&f->w, FAMILY, 4);
	p = hook_message(f, seq, &m);
	assert_string_equal(str_at(m, "type"), "audio");
	assert_true(cJSON_IsTrue(at(m, "audio.voice")));
	assert_string_equal(str_at(m, "audio.mime_type"), "audio/ogg; codecs=opus");
	snprintf(path, sizeof(path), "/%s", str_at(m, "audio.id"));
	assert_string_equal(str_at(m, "audio.id"), f->w.last_media_id);
	cJSON_Delete(p);
	graph(f, "GET", path, NULL, NULL, &c);
	assert_int_equal(num_at(c.json, "file_size"), 8000);
	{
		struct simctl_resp r;

		assert_int_equal(wasimctl_fetch(&f->w, str_at(c.json, "url"), NULL, &r), 0);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.len, 8000);
		assert_memory_equal(r.body, "OggS", 4);
		simctl_resp_free(&r);
	}
	call_free(&c);

	seq = wasimctl_document(&f->w, FAMILY, "pdf", 3000, "attest.pdf");
	p = hook_message(f, seq, &m);
	assert_string_equal(str_at(m, "document.filename"), "attest.pdf");
	assert_string_equal(str_at(m, "document.mime_type"), "application/pdf");
	assert_int_equal(strlen(str_at(m, "document.sha256")), 64);
	cJSON_Delete(p);

	seq = wasimctl_image(&f->w, FAMILY, 5000, "mijn brief");
	p = hook_message(f, seq, &m);
	assert_string_equal(str_at(m, "image.mime_type"), "image/jpeg");
	assert_string_equal(str_at(m, "image.caption"), "mijn brief");
	cJSON_Delete(p);

	seq = wasimctl_location(&f->w, FAMILY, 50.85, 4.35);
	p = hook_message(f, seq, &m);
	assert_true(cJSON_IsNumber(at(m, "location.latitude")));
	cJSON_Delete(p);

	seq = wasimctl_changed_number(&f->w, FAMILY, OTHER);
	p = hook_message(f, seq, &m);
	assert_string_equal(str_at(m, "type"), "system");
	assert_string_equal(str_at(m, "from"), FAMILY);
	assert_string_equal(str_at(m, "system.type"), "user_changed_number");
	assert_string_equal(str_at(m, "system.wa_id"), OTHER);
	cJSON_Delete(p);

	seq = wasimctl_unsupported(&f->w, FAMILY);
	p = hook_message(f, seq, &m);
	assert_string_equal(str_at(m, "type"), "unsupported");
	assert_int_equal(num_at(m, "errors.0.code"), 131051);
	cJSON_Delete(p);

	/* A user known only by a BSUID: no from, no wa_id. */
	seq = wasimctl_inject(&f->w, "message",
	                      "{\"user_id\":\"BE.9999\",\"no_number\":true,\"text\":\"hallo\"}");
	assert_true(seq > 0);
	p = hook_message(f, seq, &m);
	assert_null(at(m, "from"));
	assert_string_equal(str_at(m, "from_user_id"), "BE.9999");
	assert_null(at(p, "entry.0.changes.0.value.contacts.0.wa_id"));
	cJSON_Delete(p);
	/* It can be answered by its user id, inside its window. */
	graph(f, "POST", MSGS,
	      "{\"messaging_product\":\"whatsapp\",\"recipient\":\"BE.9999\",\"type\":\"text\","
	      "\"text\":{\"body\":\"dag\"}}", NULL, &c);
	assert_int_equal(c.r.status, 200);
	assert_string_equal(str_at(c.json, "contacts.0.user_id"), "BE.9999");
	assert_null(at(c.json, "contacts.0.wa_id"));
	call_free(&c);
	/* As Graph: "to" takes a phone number only, and "recipient" a user
	 * id only. */
	graph(f, "POST", MSGS,
	      "{\"messaging_product\":\"whatsapp\",\"to\":\"BE.9999\",\"type\":\"text\","
	      "\"text\":{\"body\":\"dag\"}}", NULL, &c);
	assert_int_equal(c.r.status, 400);
	call_free(&c);
	graph(f, "POST", MSGS,
	      "{\"messaging_product\":\"whatsapp\",\"recipient\":\"" FAMILY "\",\"type\":\"text\","
	      "\"text\":{\"body\":\"dag\"}}", NULL, &c);
	assert_int_equal(c.r.status, 400);
	assert_int_equal(num_at(c.json, "error.code"), 100);
	call_free(&c);
	/* A send by number answers with the wa_id, not the user id. */
	graph(f, "POST", MSGS,
	      "{\"messaging_product\":\"whatsapp\",\"to\":\"" FAMILY "\",\"type\":\"text\","
	      "\"text\":{\"body\":\"dag\"}}", NULL, &c);
	assert_int_equal(c.r.status, 200);
	assert_string_equal(str_at(c.json, "contacts.0.wa_id"), FAMILY);
	assert_null(at(c.json, "contacts.0.user_id"));
	call_free(&c);
}

static void t_mark_read_and_page(void **state)
{
	struct fx *f = *state;
	struct simctl_resp r;
	struct call c;
	char body[256];

	assert_true(wasimctl_text(&f->w, FAMILY, "hi") > 0);
	snprintf(body, sizeof(body), "{\"messaging_product\":\"whatsapp\",\"status\":\"read\","
	         "\"message_id\":\"%s\"}", f->w.last_id);
	graph(f, "POST", MSGS, body, NULL, &c);
	assert_int_equal(c.r.status, 200);
	assert_true(cJSON_IsTrue(at(c.json, "success")));
	call_free(&c);
	assert_int_equal(wasimctl_stat(&f->w, "marked_read"), 1);
	/* The /chat page shows a WhatsApp chat. */
	assert_int_equal(simctl_http(&f->w.s, "GET", "/chat", NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "wasim"));
	assert_non_null(strstr(r.body, "Phone (wa_id)"));
	simctl_resp_free(&r);
	/* The page's button press is a button reply. */
	post_expect(f, buttons_json(2, "Ja", "Nee"), 200, 0);
	{
		cJSON *out = simctl_post(&f->w.s, "button", "{\"chat_id\":" FAMILY ",\"data\":\"ap:1:0\"}");
		cJSON *hooks = wasimctl_hooks(&f->w, "message"), *p;
		const cJSON *m;

		assert_non_null(out);
		p = cJSON_Parse(str_at(hooks, "1.body"));
		m = at(p, "entry.0.changes.0.value.messages.0");
		assert_string_equal(str_at(m, "interactive.button_reply.id"), "ap:1:0");
		assert_string_equal(str_at(m, "interactive.button_reply.title"), "Ja");
		cJSON_Delete(p);
		cJSON_Delete(hooks);
		cJSON_Delete(out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_bad_token, setup, teardown),
		cmocka_unit_test_setup_teardown(t_send_text, setup, teardown),
		cmocka_unit_test_setup_teardown(t_window, setup, teardown),
		cmocka_unit_test_setup_teardown(t_template_language, setup, teardown),
		cmocka_unit_test_setup_teardown(t_interactive_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(t_pair_limit, setup_enforce, teardown),
		cmocka_unit_test_setup_teardown(t_throughput, setup_mps, teardown),
		cmocka_unit_test_setup_teardown(t_media, setup, teardown),
		cmocka_unit_test_setup_teardown(t_unreachable, setup_hooks, teardown),
		cmocka_unit_test_setup_teardown(t_webhook_signature, setup_hooks, teardown),
		cmocka_unit_test_setup_teardown(t_webhook_retry, setup_hooks, teardown),
		cmocka_unit_test_setup_teardown(t_statuses, setup_statuses, teardown),
		cmocka_unit_test_setup_teardown(t_forged_and_replay, setup_hooks, teardown),
		cmocka_unit_test_setup_teardown(t_verify, setup_hooks, teardown),
		cmocka_unit_test_setup_teardown(t_inbound_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(t_mark_read_and_page, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
