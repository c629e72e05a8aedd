/* The two HTTP transports against each other on loopback: H2O serving
 * routes, libcurl multi fetching them, one libuv loop. Every test counts its
 * callbacks, is bounded by a watchdog timer, and ends with both transports
 * closed and uv_loop_close() == 0. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <pthread.h>
#include <uv.h>

#include "bot/casebot.h"
#include "bot/net/http_client.h"
#include "bot/net/http_server.h"

#define WATCHDOG_MS 5000
#define MAX_SLOTS 64
#define MAX_HELD 16
#define BIG_LEN 65536
#define RAW_BODY_LEN 5000

struct fx;

/* What one request's done callback saw. */
struct slot {
	struct fx *fx;
	int calls;
	int status;
	int error;
	int timed_out;
	int cancelled;
	int reused;
	int body_null;
	char body[256];
	size_t len;
	long retry_after;
	double secs;
	uint64_t done_at;         /* uv_now() at the callback */
};

/* A canned-response TCP server for what H2O will not send: a body with
 * neither Content-Length nor chunked framing, ended by closing. */
struct raw_conn {
	uv_tcp_t tcp;
	uv_write_t wr;
	int written;
};

struct raw {
	uv_tcp_t listener;
	int port;
	int accepted;
	int open;
};

struct fx {
	uv_loop_t loop;
	uv_timer_t watchdog;
	uv_timer_t later;
	void (*later_fn)(struct fx *fx);
	struct http_server *srv;
	struct http_client *cli;
	struct raw raw;
	int raw_used;
	char base[80];
	int port;
	int watchdog_fired;
	int stopping;
	int srv_closed;
	int cli_closed;
	int srv_close_requested;
	int cli_close_requested;
	int handler_calls;
	int handler_ok;           /* handler-side checks that passed */
	int expected_done;
	int done_calls;
	int auto_stop;            /* fx_stop when expected_done is reached */
	struct http_server_req *held[MAX_HELD];
	int nheld;
	int respond_rc;
	int respond_calls;
	struct slot slots[MAX_SLOTS];
	int stage;
	char tmpdir[64];
};

static char big_body[BIG_LEN];
static char raw_response[128 + RAW_BODY_LEN];
static size_t raw_response_len;

/* Fixture. */

static void on_srv_closed(void *arg)
{
	((struct fx *)arg)->srv_closed++;
}

static void on_cli_closed(void *arg)
{
	((struct fx *)arg)->cli_closed++;
}

static void on_raw_conn_closed(uv_handle_t *h)
{
	free(h);
}

static void on_raw_listener_closed(uv_handle_t *h)
{
	(void)h;
}

static void fx_close_server(struct fx *fx)
{
	if (fx->srv_close_requested)
		return;
	fx->srv_close_requested = 1;
	http_server_close(fx->srv, on_srv_closed, fx);
}

static void fx_close_client(struct fx *fx)
{
	if (fx->cli_close_requested)
		return;
	fx->cli_close_requested = 1;
	http_client_close(fx->cli, on_cli_closed, fx);
}

/* Closes everything the test owns; the loop then runs dry. */
static void fx_stop(struct fx *fx)
{
	if (fx->stopping)
		return;
	fx->stopping = 1;
	fx_close_server(fx);
	fx_close_client(fx);
	if (fx->raw_used && fx->raw.open) {
		fx->raw.open = 0;
		uv_close((uv_handle_t *)&fx->raw.listener, on_raw_listener_closed);
	}
	uv_close((uv_handle_t *)&fx->watchdog, NULL);
	uv_close((uv_handle_t *)&fx->later, NULL);
}

static void on_watchdog(uv_timer_t *t)
{
	struct fx *fx = t->data;

	fx->watchdog_fired = 1;
	fx_stop(fx);
	uv_stop(&fx->loop);
}

static void on_later(uv_timer_t *t)
{
	struct fx *fx = t->data;
	void (*fn)(struct fx *) = fx->later_fn;

	fx->later_fn = NULL;
	if (fn != NULL)
		fn(fx);
}

static void fx_later(struct fx *fx, uint64_t ms, void (*fn)(struct fx *))
{
	fx->later_fn = fn;
	uv_timer_start(&fx->later, on_later, ms, 0);
}

static struct fx *fx_new(void)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	assert_non_null(fx);
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(uv_timer_init(&fx->loop, &fx->watchdog), 0);
	fx->watchdog.data = fx;
	assert_int_equal(uv_timer_start(&fx->watchdog, on_watchdog, WATCHDOG_MS, 0), 0);
	uv_unref((uv_handle_t *)&fx->watchdog);
	assert_int_equal(uv_timer_init(&fx->loop, &fx->later), 0);
	fx->later.data = fx;
	fx->srv = http_server_new(&fx->loop);
	assert_non_null(fx->srv);
	fx->cli = http_client_new(&fx->loop);
	assert_non_null(fx->cli);
	fx->auto_stop = 1;
	for (int i = 0; i < MAX_SLOTS; i++) {
		fx->slots[i].fx = fx;
		fx->slots[i].retry_after = -2;
	}
	return fx;
}

static void fx_listen(struct fx *fx, const char *addr)
{
	assert_int_equal(http_server_listen(fx->srv, addr), 0);
	fx->port = http_server_port(fx->srv);
	assert_true(fx->port > 0);
	if (addr[0] == '[')
		snprintf(fx->base, sizeof(fx->base), "http://[::1]:%d", fx->port);
	else
		snprintf(fx->base, sizeof(fx->base), "http://127.0.0.1:%d", fx->port);
}

/* Runs the loop dry and checks that everything was closed and freed. */
static void fx_finish(struct fx *fx)
{
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->watchdog_fired, 0);
	/* After a watchdog stop, drain what the forced close started. */
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->srv_closed, 1);
	assert_int_equal(fx->cli_closed, 1);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
	if (fx->tmpdir[0] != '\0')
		rmdir(fx->tmpdir);
	free(fx);
}

/* Client side. */

static void on_done(const struct http_response *res, void *arg)
{
	struct slot *s = arg;
	struct fx *fx = s->fx;
	size_t n;

	s->calls++;
	s->done_at = uv_now(&fx->loop);
	s->status = res->status;
	s->error = res->error;
	s->timed_out = res->timed_out;
	s->cancelled = res->cancelled;
	s->reused = res->reused;
	s->retry_after = res->retry_after;
	s->secs = res->total_seconds;
	s->body_null = res->body == NULL;
	s->len = res->len;
	if (res->body != NULL) {
		n = res->len < sizeof(s->body) - 1 ? res->len : sizeof(s->body) - 1;
		memcpy(s->body, res->body, n);
		s->body[n] = '\0';
		/* The body is always NUL-terminated. */
		assert_int_equal(res->body[res->len], '\0');
	}
	if (res->error != 0)
		assert_non_null(res->reason);
	fx->done_calls++;
	if (fx->auto_stop && fx->done_calls == fx->expected_done)
		fx_stop(fx);
}

static void get(struct fx *fx, int slot, const char *path, long timeout_ms,
                size_t cap, const char *out)
{
	struct http_request req;
	char url[160];

	snprintf(url, sizeof(url), "%s%s", fx->base, path);
	memset(&req, 0, sizeof(req));
	req.method = HTTP_GET;
	req.url = url;
	req.timeout_ms = timeout_ms;
	req.max_response_bytes = cap;
	req.output_path = out;
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[slot]), 0);
}

/* Handlers. */

static void h_hello(struct http_server_req *req, void *arg)
{
	struct fx *fx = arg;

	fx->handler_calls++;
	if (strcmp(req->method, "GET") == 0)
		fx->handler_ok++;
	http_server_respond(req, 200, "text/plain", "hello", 5);
}

static void h_echo(struct http_server_req *req, void *arg)
{
	struct fx *fx = arg;
	const char *ct, *xt;
	size_t ctlen = 0;

	fx->handler_calls++;
	ct = http_server_req_header(req, "Content-Type", &ctlen);
	xt = http_server_req_header(req, "x-test", NULL);
	if (strcmp(req->method, "POST") != 0) {
		http_server_respond(req, 405, NULL, NULL, 0);
		return;
	}
	if (ct != NULL && strcmp(ct, "application/json") == 0 && ctlen == 16 &&
	    xt != NULL && strcmp(xt, "1") == 0 &&
	    http_server_req_header(req, "X-Absent", NULL) == NULL)
		fx->handler_ok++;
	http_server_respond(req, 201, "application/json", req->body,
	                    req->body_len);
}

static int has(const char *b, size_t n, const char *needle, size_t len)
{
	for (size_t i = 0; len <= n && i <= n - len; i++)
		if (memcmp(b + i, needle, len) == 0)
			return 1;
	return 0;
}

/* Answers whether a multipart POST came as the form the test sent. */
static void h_form(struct http_server_req *req, void *arg)
{
	static const char file[] = "OggS\0\x01opus";
	struct fx *fx = arg;
	const char *ct = http_server_req_header(req, "Content-Type", NULL);
	const char *b = req->body;
	size_t n = req->body_len;

	fx->handler_calls++;
	if (ct != NULL && strncmp(ct, "multipart/form-data; boundary=", 30) == 0 && b != NULL &&
	    has(b, n, "name=\"messaging_product\"\r\n\r\nwhatsapp\r\n", 38) &&
	    has(b, n, "name=\"file\"; filename=\"note.ogg\"\r\nContent-Type: audio/ogg\r\n\r\n", 61) &&
	    has(b, n, file, sizeof(file) - 1))
		fx->handler_ok++;
	http_server_respond(req, 200, "application/json", "{\"id\":\"1\"}", 10);
}

static void test_post_form(void **state)
{
	static const char file[] = "OggS\0\x01opus";
	const struct http_form_field form[] = {
		{"messaging_product", "whatsapp", 8, NULL, NULL},
		{"file", file, sizeof(file) - 1, "note.ogg", "audio/ogg"},
	};
	struct fx *fx = fx_new();
	struct http_request req;
	char url[160];

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/form", h_form, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->expected_done = 1;
	snprintf(url, sizeof(url), "%s/form", fx->base);
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = url;
	req.form = form;
	/* No fields, or too many, is no request. */
	req.nform = 0;
	assert_int_equal(http_client_request(fx->cli, &req, on_done, &fx->slots[1]), -CB_EINVAL);
	req.nform = HTTP_CLIENT_MAX_FORM + 1;
	assert_int_equal(http_client_request(fx->cli, &req, on_done, &fx->slots[1]), -CB_EINVAL);
	req.nform = 2;
	assert_int_equal(http_client_request(fx->cli, &req, on_done, &fx->slots[0]), 0);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].status, 200);
	assert_int_equal(fx->handler_calls, 1);
	assert_int_equal(fx->handler_ok, 1);
	fx_finish(fx);
}

static void async_answer(struct fx *fx)
{
	assert_int_equal(fx->nheld, 1);
	fx->respond_rc = http_server_respond(fx->held[0], 200, "text/plain",
	                                     "later", 5);
	fx->respond_calls++;
	fx->nheld = 0;
}

static void h_async(struct http_server_req *req, void *arg)
{
	struct fx *fx = arg;

	fx->handler_calls++;
	fx->held[fx->nheld++] = req;
	fx_later(fx, 50, async_answer);
}

static void h_hold(struct http_server_req *req, void *arg)
{
	struct fx *fx = arg;

	fx->handler_calls++;
	assert_true(fx->nheld < MAX_HELD);
	fx->held[fx->nheld++] = req;
}

static void h_big(struct http_server_req *req, void *arg)
{
	struct fx *fx = arg;

	fx->handler_calls++;
	http_server_respond(req, 200, "application/octet-stream", big_body,
	                    sizeof(big_body));
}

static void h_retry(struct http_server_req *req, void *arg)
{
	struct fx *fx = arg;

	fx->handler_calls++;
	if (http_server_add_header(req, "Retry-After", "7") == 0 &&
	    http_server_add_header(req, "X-Bad", "a\r\nb") == -CB_EINVAL &&
	    http_server_add_header(req, "Content-Length", "1") == -CB_EINVAL)
		fx->handler_ok++;
	http_server_respond(req, 429, "application/json", "{}", 2);
}

static void h_empty(struct http_server_req *req, void *arg)
{
	struct fx *fx = arg;

	fx->handler_calls++;
	http_server_respond(req, 204, NULL, NULL, 0);
}

static void respond_held(struct fx *fx, int status)
{
	for (int i = 0; i < fx->nheld; i++) {
		fx->respond_rc = http_server_respond(fx->held[i], status, NULL,
		                                     NULL, 0);
		fx->respond_calls++;
	}
	fx->nheld = 0;
}

/* Tests. */

static void test_get(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/hello", h_hello, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->expected_done = 1;
	get(fx, 0, "/hello", 0, 0, NULL);
	assert_int_equal(http_client_active(fx->cli), 1);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].status, 200);
	assert_int_equal(fx->slots[0].error, 0);
	assert_string_equal(fx->slots[0].body, "hello");
	assert_int_equal(fx->slots[0].len, 5);
	assert_int_equal(fx->slots[0].retry_after, -1);
	assert_int_equal(fx->handler_calls, 1);
	assert_int_equal(fx->handler_ok, 1);
	fx_finish(fx);
}

static void test_post_echo(void **state)
{
	static const char json[] = "{\"ok\":true,\"text\":\"h\\u00e9\"}";
	static const char *const hdrs[] = { "X-Test: 1", NULL };
	struct fx *fx = fx_new();
	struct http_request req;
	char url[160];

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/echo", h_echo, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->expected_done = 1;
	snprintf(url, sizeof(url), "%s/echo", fx->base);
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = url;
	req.body = json;
	req.body_len = strlen(json);
	req.content_type = "application/json";
	req.headers = hdrs;
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[0]), 0);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].status, 201);
	assert_string_equal(fx->slots[0].body, json);
	assert_int_equal(fx->handler_calls, 1);
	assert_int_equal(fx->handler_ok, 1);
	fx_finish(fx);
}

static void test_bad_requests(void **state)
{
	static const char *const crlf[] = { "X-A: 1\r\nX-B: 2", NULL };
	struct fx *fx = fx_new();
	struct http_request req;

	(void)state;
	fx_listen(fx, "127.0.0.1:0");
	memset(&req, 0, sizeof(req));
	req.url = "http://127.0.0.1:1/";
	req.headers = crlf;
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[0]), -CB_EINVAL);
	req.headers = NULL;
	req.url = NULL;
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[0]), -CB_EINVAL);
	req.url = "http://127.0.0.1:1/";
	req.timeout_ms = -1;
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[0]), -CB_EINVAL);
	req.timeout_ms = 0;
	req.max_response_bytes = HTTP_CLIENT_MAX_RESPONSE_LIMIT + 1;
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[0]), -CB_EINVAL);
	req.max_response_bytes = 0;
	req.url = "ftp://127.0.0.1:1/";
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[0]), -CB_EINVAL);
	assert_int_equal(http_client_active(fx->cli), 0);
	fx_stop(fx);
	req.timeout_ms = 0;
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[0]), -CB_ESTATE);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 0);
	fx_finish(fx);
}

static void test_async_response(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/async", h_async, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->expected_done = 1;
	get(fx, 0, "/async", 0, 0, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->handler_calls, 1);
	assert_int_equal(fx->respond_calls, 1);
	assert_int_equal(fx->respond_rc, 0);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].status, 200);
	assert_string_equal(fx->slots[0].body, "later");
	assert_true(fx->slots[0].secs >= 0.04);
	fx_finish(fx);
}

static void test_not_found(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/hello", h_hello, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->expected_done = 3;
	get(fx, 0, "/nope", 0, 0, NULL);
	get(fx, 1, "/hellox", 0, 0, NULL);
	get(fx, 2, "/hello/sub?x=1", 0, 0, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].status, 404);
	assert_int_equal(fx->slots[0].error, 0);
	assert_int_equal(fx->slots[1].status, 404);
	assert_int_equal(fx->slots[2].status, 200);
	assert_int_equal(fx->handler_calls, 1);
	fx_finish(fx);
}

static void test_body_too_big(void **state)
{
	size_t n = 2 * HTTP_SERVER_MAX_BODY;
	char *body = malloc(n);
	struct fx *fx = fx_new();
	struct http_request req;
	char url[160];

	(void)state;
	assert_non_null(body);
	memset(body, 'a', n);
	assert_int_equal(http_server_route(fx->srv, "/echo", h_echo, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->expected_done = 2;
	snprintf(url, sizeof(url), "%s/echo", fx->base);
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = url;
	req.body = body;
	req.body_len = n;
	req.content_type = "application/json";
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[0]), 0);
	/* Exactly at the cap is accepted. */
	req.body_len = HTTP_SERVER_MAX_BODY;
	req.max_response_bytes = 2 * HTTP_SERVER_MAX_BODY;
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[1]), 0);
	free(body);   /* the client copied it */
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].status, 413);
	assert_int_equal(fx->slots[1].calls, 1);
	assert_int_equal(fx->slots[1].status, 201);
	assert_int_equal(fx->slots[1].len, HTTP_SERVER_MAX_BODY);
	assert_int_equal(fx->handler_calls, 1);
	fx_finish(fx);
}

/* Raw server. */

static void raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	static char scratch[4096];

	(void)h;
	(void)suggested;
	buf->base = scratch;
	buf->len = sizeof(scratch);
}

static void on_raw_written(uv_write_t *wr, int status)
{
	struct raw_conn *rc = wr->data;

	(void)status;
	if (!uv_is_closing((uv_handle_t *)&rc->tcp))
		uv_close((uv_handle_t *)&rc->tcp, on_raw_conn_closed);
}

static void on_raw_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
	struct raw_conn *rc = (struct raw_conn *)st;
	uv_buf_t out;

	(void)buf;
	if (nread < 0) {
		if (!uv_is_closing((uv_handle_t *)st))
			uv_close((uv_handle_t *)st, on_raw_conn_closed);
		return;
	}
	if (nread == 0 || rc->written)
		return;
	rc->written = 1;
	uv_read_stop(st);
	out = uv_buf_init(raw_response, (unsigned int)raw_response_len);
	rc->wr.data = rc;
	uv_write(&rc->wr, st, &out, 1, on_raw_written);
}

static void on_raw_connection(uv_stream_t *l, int status)
{
	struct fx *fx = l->data;
	struct raw_conn *rc;

	assert_int_equal(status, 0);
	rc = calloc(1, sizeof(*rc));
	assert_non_null(rc);
	assert_int_equal(uv_tcp_init(&fx->loop, &rc->tcp), 0);
	assert_int_equal(uv_accept(l, (uv_stream_t *)&rc->tcp), 0);
	fx->raw.accepted++;
	uv_read_start((uv_stream_t *)&rc->tcp, raw_alloc, on_raw_read);
}

static void raw_start(struct fx *fx)
{
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	assert_int_equal(uv_tcp_init(&fx->loop, &fx->raw.listener), 0);
	fx->raw.listener.data = fx;
	fx->raw_used = 1;
	fx->raw.open = 1;
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
	assert_int_equal(uv_tcp_bind(&fx->raw.listener, (struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&fx->raw.listener, 16,
	                           on_raw_connection), 0);
	assert_int_equal(uv_tcp_getsockname(&fx->raw.listener,
	                                    (struct sockaddr *)&ss, &len), 0);
	fx->raw.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static void raw_get(struct fx *fx, int slot, size_t cap, const char *out)
{
	struct http_request req;
	char url[96];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/raw", fx->raw.port);
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.max_response_bytes = cap;
	req.output_path = out;
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[slot]), 0);
}

static void test_response_too_big(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/big", h_big, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	raw_start(fx);
	fx->expected_done = 4;
	/* Content-Length over the cap: refused before the body. */
	get(fx, 0, "/big", 0, 1000, NULL);
	/* Exactly the cap is fine. */
	get(fx, 1, "/big", 0, BIG_LEN, NULL);
	/* No length announced: the write callback stops it. */
	raw_get(fx, 2, 1000, NULL);
	raw_get(fx, 3, RAW_BODY_LEN, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].error, -CB_ETOOBIG);
	assert_int_equal(fx->slots[0].timed_out, 0);
	assert_int_equal(fx->slots[1].calls, 1);
	assert_int_equal(fx->slots[1].error, 0);
	assert_int_equal(fx->slots[1].len, BIG_LEN);
	assert_int_equal(fx->slots[2].calls, 1);
	assert_int_equal(fx->slots[2].error, -CB_ETOOBIG);
	assert_int_equal(fx->slots[2].status, 200);
	assert_int_equal(fx->slots[3].calls, 1);
	assert_int_equal(fx->slots[3].error, 0);
	assert_int_equal(fx->slots[3].len, RAW_BODY_LEN);
	assert_int_equal(fx->raw.accepted, 2);
	fx_finish(fx);
}

static void timeout_check_once_more(struct fx *fx)
{
	/* The connection is gone on the client side; the request is still
	 * alive in H2O, so answering it is allowed and harmless. */
	respond_held(fx, 200);
	fx_stop(fx);
}

static void on_done_timeout(const struct http_response *res, void *arg)
{
	struct slot *s = arg;

	on_done(res, arg);
	/* Wait a while for a second, wrong, report. */
	fx_later(s->fx, 300, timeout_check_once_more);
}

static void test_client_timeout(void **state)
{
	struct fx *fx = fx_new();
	struct http_request req;
	char url[160];

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/hold", h_hold, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->auto_stop = 0;
	snprintf(url, sizeof(url), "%s/hold", fx->base);
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.timeout_ms = 200;
	assert_int_equal(http_client_request(fx->cli, &req, on_done_timeout,
	                                     &fx->slots[0]), 0);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].error, -CB_EGATEWAY);
	assert_int_equal(fx->slots[0].timed_out, 1);
	assert_int_equal(fx->slots[0].cancelled, 0);
	assert_int_equal(fx->slots[0].status, 0);
	assert_true(fx->slots[0].secs >= 0.19);
	assert_int_equal(fx->handler_calls, 1);
	assert_int_equal(fx->respond_calls, 1);
	assert_int_equal(fx->respond_rc, 0);
	fx_finish(fx);
}

static void on_probe_closed(uv_handle_t *h)
{
	(void)h;
}

static void test_connection_refused(void **state)
{
	struct fx *fx = fx_new();
	uv_tcp_t probe;
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof(ss), port;
	struct http_request req;
	char url[96];

	(void)state;
	fx_listen(fx, "127.0.0.1:0");
	/* A port that was just free and is closed again. */
	assert_int_equal(uv_tcp_init(&fx->loop, &probe), 0);
	assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
	assert_int_equal(uv_tcp_bind(&probe, (struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_tcp_getsockname(&probe, (struct sockaddr *)&ss, &len), 0);
	port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	uv_close((uv_handle_t *)&probe, on_probe_closed);
	fx->expected_done = 1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	memset(&req, 0, sizeof(req));
	req.url = url;
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[0]), 0);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].error, -CB_EGATEWAY);
	assert_int_equal(fx->slots[0].timed_out, 0);
	assert_int_equal(fx->slots[0].status, 0);
	fx_finish(fx);
}

static int file_equals(const char *path, const char *want, size_t n)
{
	FILE *f = fopen(path, "rb");
	char *got;
	size_t r;
	int ok;

	if (f == NULL)
		return 0;
	got = malloc(n + 1);
	r = fread(got, 1, n + 1, f);
	fclose(f);
	ok = r == n && memcmp(got, want, n) == 0;
	free(got);
	return ok;
}

static void test_download(void **state)
{
	struct fx *fx = fx_new();
	char ok[96], small[96], missing[96], rawsmall[96], exists[96];
	struct stat st;
	FILE *f;

	(void)state;
	strcpy(fx->tmpdir, "/tmp/casebot-http-XXXXXX");
	assert_non_null(mkdtemp(fx->tmpdir));
	snprintf(ok, sizeof(ok), "%s/ok", fx->tmpdir);
	snprintf(small, sizeof(small), "%s/small", fx->tmpdir);
	snprintf(missing, sizeof(missing), "%s/missing", fx->tmpdir);
	snprintf(rawsmall, sizeof(rawsmall), "%s/rawsmall", fx->tmpdir);
	snprintf(exists, sizeof(exists), "%s/exists", fx->tmpdir);
	f = fopen(exists, "w");
	assert_non_null(f);
	fclose(f);

	assert_int_equal(http_server_route(fx->srv, "/big", h_big, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	raw_start(fx);
	fx->expected_done = 4;
	get(fx, 0, "/big", 0, 20 * 1024 * 1024, ok);
	get(fx, 1, "/big", 0, 1000, small);
	get(fx, 2, "/missing", 0, 20 * 1024 * 1024, missing);
	raw_get(fx, 3, 1000, rawsmall);
	{
		struct http_request req;
		char url[160];

		snprintf(url, sizeof(url), "%s/big", fx->base);
		memset(&req, 0, sizeof(req));
		req.url = url;
		req.output_path = exists;
		assert_int_equal(http_client_request(fx->cli, &req, on_done,
		                                     &fx->slots[4]), -CB_EEXIST);
	}
	uv_run(&fx->loop, UV_RUN_DEFAULT);

	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].error, 0);
	assert_int_equal(fx->slots[0].status, 200);
	assert_int_equal(fx->slots[0].body_null, 1);
	assert_int_equal(fx->slots[0].len, BIG_LEN);
	assert_true(file_equals(ok, big_body, BIG_LEN));
	assert_int_equal(stat(ok, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(fx->slots[1].calls, 1);
	assert_int_equal(fx->slots[1].error, -CB_ETOOBIG);
	assert_int_equal(access(small, F_OK), -1);

	/* An error page stays in memory and no file is left. */
	assert_int_equal(fx->slots[2].calls, 1);
	assert_int_equal(fx->slots[2].error, 0);
	assert_int_equal(fx->slots[2].status, 404);
	assert_int_equal(fx->slots[2].body_null, 0);
	assert_int_equal(access(missing, F_OK), -1);

	assert_int_equal(fx->slots[3].calls, 1);
	assert_int_equal(fx->slots[3].error, -CB_ETOOBIG);
	assert_int_equal(access(rawsmall, F_OK), -1);

	assert_int_equal(fx->slots[4].calls, 0);
	unlink(ok);
	unlink(exists);
	fx_finish(fx);
}

static void test_concurrent(void **state)
{
	struct fx *fx = fx_new();
	char path[32], want[32];
	int reused = 0;
	const int n = 50;

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/hello", h_hello, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->expected_done = n;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "/hello/%d", i);
		get(fx, i, path, 0, 0, NULL);
	}
	assert_int_equal(http_client_active(fx->cli), n);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	(void)want;
	for (int i = 0; i < n; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_int_equal(fx->slots[i].status, 200);
		assert_string_equal(fx->slots[i].body, "hello");
		reused += fx->slots[i].reused;
	}
	/* At most HTTP_CLIENT_MAX_HOST_CONNECTIONS new connections. */
	assert_true(reused >= n - (int)HTTP_CLIENT_MAX_HOST_CONNECTIONS);
	assert_int_equal(fx->handler_calls, n);
	fx_finish(fx);
}

static void queued_done(struct fx *fx)
{
	respond_held(fx, 200);
	fx_stop(fx);
}

static void on_done_queued(const struct http_response *res, void *arg)
{
	struct slot *s = arg;

	on_done(res, arg);
	if (s->fx->done_calls == s->fx->expected_done)
		fx_later(s->fx, 50, queued_done);
}

/* More transfers than connections to one host: the ones waiting for a
 * connection still time out on time, each reported once. */
static void test_queued_timeout(void **state)
{
	struct fx *fx = fx_new();
	struct http_request req;
	char url[160];
	const int n = 10;
	uint64_t start;

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/hold", h_hold, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->auto_stop = 0;
	fx->expected_done = n;
	snprintf(url, sizeof(url), "%s/hold", fx->base);
	memset(&req, 0, sizeof(req));
	req.url = url;
	req.timeout_ms = 300;
	uv_update_time(&fx->loop);
	start = uv_now(&fx->loop);
	for (int i = 0; i < n; i++)
		assert_int_equal(http_client_request(fx->cli, &req, on_done_queued,
		                                     &fx->slots[i]), 0);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	for (int i = 0; i < n; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_int_equal(fx->slots[i].error, -CB_EGATEWAY);
		assert_int_equal(fx->slots[i].timed_out, 1);
		/* Queued ones may still reach the server once a connection
		 * frees up, but their clock started when they were queued. */
		assert_true(fx->slots[i].done_at - start < 1000);
	}
	assert_true(fx->handler_calls <= n);
	fx_finish(fx);
}

static void shutdown_now(struct fx *fx)
{
	fx_stop(fx);
	/* The client's callback ran inside http_client_close(). */
	assert_int_equal(fx->slots[0].calls, 1);
	respond_held(fx, 200);
}

static void h_hold_then_shutdown(struct http_server_req *req, void *arg)
{
	struct fx *fx = arg;

	h_hold(req, arg);
	fx_later(fx, 10, shutdown_now);
}

static void test_shutdown_in_flight(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/hold", h_hold_then_shutdown,
	                                   fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->auto_stop = 0;
	get(fx, 0, "/hold", 0, 0, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->handler_calls, 1);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].error, -CB_EGATEWAY);
	assert_int_equal(fx->slots[0].cancelled, 1);
	assert_int_equal(fx->slots[0].timed_out, 0);
	/* The server answered 503 when it closed; the late answer is refused
	 * and only frees the handle. */
	assert_int_equal(fx->respond_calls, 1);
	assert_int_equal(fx->respond_rc, -CB_ESTATE);
	fx_finish(fx);
}

static void on_done_close_client(const struct http_response *res, void *arg)
{
	struct slot *s = arg;
	struct fx *fx = s->fx;

	on_done(res, arg);
	/* From inside a done callback: the other transfers are cancelled
	 * after this callback returns, each reported once. */
	fx_close_client(fx);
	assert_int_equal(fx->done_calls, 1);
}

static void after_client_closed(struct fx *fx)
{
	respond_held(fx, 200);
	fx_stop(fx);
}

static void h_hold_count(struct http_server_req *req, void *arg)
{
	struct fx *fx = arg;

	h_hold(req, arg);
	if (fx->nheld == 2 && fx->stage == 0) {
		struct http_request r;
		char url[160];

		/* Both holds are in: now the request whose callback closes. */
		fx->stage = 1;
		snprintf(url, sizeof(url), "%s/hello", fx->base);
		memset(&r, 0, sizeof(r));
		r.url = url;
		assert_int_equal(http_client_request(fx->cli, &r,
		                                     on_done_close_client,
		                                     &fx->slots[0]), 0);
	}
}

static void wait_client_closed(struct fx *fx)
{
	if (fx->cli_closed)
		after_client_closed(fx);
	else
		fx_later(fx, 10, wait_client_closed);
}

static void test_close_from_callback(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/hello", h_hello, fx), 0);
	assert_int_equal(http_server_route(fx->srv, "/hold", h_hold_count, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->auto_stop = 0;
	get(fx, 1, "/hold", 0, 0, NULL);
	get(fx, 2, "/hold", 0, 0, NULL);
	fx_later(fx, 10, wait_client_closed);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].status, 200);
	assert_int_equal(fx->slots[0].error, 0);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_int_equal(fx->slots[i].cancelled, 1);
		assert_int_equal(fx->slots[i].error, -CB_EGATEWAY);
	}
	assert_int_equal(fx->done_calls, 3);
	assert_int_equal(fx->respond_calls, 2);
	fx_finish(fx);
}

static void on_done_close_server(const struct http_response *res, void *arg)
{
	struct slot *s = arg;

	on_done(res, arg);
	fx_close_server(s->fx);
}

static void wait_server_closed(struct fx *fx)
{
	if (fx->srv_closed)
		fx_stop(fx);
	else
		fx_later(fx, 10, wait_server_closed);
}

/* The client keeps its idle keep-alive connection open; the server must
 * still close promptly (H2O alone would wait for its 10 s request timeout). */
static void test_server_close_idle(void **state)
{
	struct fx *fx = fx_new();
	struct http_request req;
	char url[160];

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/hello", h_hello, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->auto_stop = 0;
	snprintf(url, sizeof(url), "%s/hello", fx->base);
	memset(&req, 0, sizeof(req));
	req.url = url;
	assert_int_equal(http_client_request(fx->cli, &req, on_done_close_server,
	                                     &fx->slots[0]), 0);
	fx_later(fx, 10, wait_server_closed);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].status, 200);
	assert_true(fx->slots[0].secs < 1.0);
	fx_finish(fx);
}

static void test_retry_after(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/retry", h_retry, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->expected_done = 1;
	get(fx, 0, "/retry", 0, 0, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].status, 429);
	assert_int_equal(fx->slots[0].retry_after, 7);
	assert_string_equal(fx->slots[0].body, "{}");
	assert_int_equal(fx->handler_ok, 1);
	fx_finish(fx);
}

static void on_done_again(const struct http_response *res, void *arg)
{
	struct slot *s = arg;
	struct fx *fx = s->fx;

	on_done(res, arg);
	if (s == &fx->slots[0])
		get(fx, 1, "/empty", 0, 0, NULL);
}

/* 204 has no body and keeps the connection usable. */
static void test_no_content(void **state)
{
	struct fx *fx = fx_new();
	struct http_request req;
	char url[160];

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/empty", h_empty, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	fx->expected_done = 2;
	snprintf(url, sizeof(url), "%s/empty", fx->base);
	memset(&req, 0, sizeof(req));
	req.url = url;
	assert_int_equal(http_client_request(fx->cli, &req, on_done_again,
	                                     &fx->slots[0]), 0);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(fx->slots[i].calls, 1);
		assert_int_equal(fx->slots[i].status, 204);
		assert_int_equal(fx->slots[i].error, 0);
		assert_int_equal(fx->slots[i].len, 0);
	}
	assert_int_equal(fx->slots[0].reused, 0);
	assert_int_equal(fx->slots[1].reused, 1);
	assert_int_equal(fx->handler_calls, 2);
	fx_finish(fx);
}

static void test_ipv6(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	assert_int_equal(http_server_route(fx->srv, "/hello", h_hello, fx), 0);
	fx_listen(fx, "[::1]:0");
	fx->expected_done = 1;
	get(fx, 0, "/hello", 0, 0, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 1);
	assert_int_equal(fx->slots[0].status, 200);
	assert_string_equal(fx->slots[0].body, "hello");
	fx_finish(fx);
}

static void test_server_config(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	assert_int_equal(http_server_listen(fx->srv, "nonsense"), -CB_EINVAL);
	assert_int_equal(http_server_listen(fx->srv, "127.0.0.1"), -CB_EINVAL);
	assert_int_equal(http_server_listen(fx->srv, "127.0.0.1:99999"), -CB_EINVAL);
	assert_int_equal(http_server_listen(fx->srv, "localhost:80"), -CB_EINVAL);
	assert_int_equal(http_server_listen(fx->srv, "[::1]8080"), -CB_EINVAL);
	assert_int_equal(http_server_route(fx->srv, "nope", h_hello, fx), -CB_EINVAL);
	assert_true(http_server_port(fx->srv) < 0);
	assert_int_equal(http_server_set_max_body(fx->srv, 4096), 0);
	assert_int_equal(http_server_route(fx->srv, "/hello", h_hello, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	assert_int_equal(http_server_route(fx->srv, "/late", h_hello, fx), -CB_ESTATE);
	assert_int_equal(http_server_set_max_body(fx->srv, 1), -CB_ESTATE);
	assert_int_equal(http_server_listen(fx->srv, "127.0.0.1:0"), -CB_ESTATE);
	fx_stop(fx);
	fx_finish(fx);
}

/* Mail is refused before curl sees it when anything would break the SMTP
 * dialogue; HTTP and SMTP URLs stay on their own sides. */
static void test_mail_bad_requests(void **state)
{
	static const char msg[] = "Subject: x\r\n\r\nbody\r\n";
	const char *rcpt[] = { "ana@example.org", NULL };
	const char *crlf[] = { "ana@example.org\r\nRCPT TO:<eve@example.org>", NULL };
	const char *angle[] = { "<ana@example.org>", NULL };
	const char *none[] = { NULL };
	const char *many[HTTP_CLIENT_MAX_RCPT + 2];
	struct fx *fx = fx_new();
	struct http_request req;
	struct http_mail m, bad;
	char *huge;

	(void)state;
	for (int i = 0; i < HTTP_CLIENT_MAX_RCPT + 1; i++)
		many[i] = "ana@example.org";
	many[HTTP_CLIENT_MAX_RCPT + 1] = NULL;
	memset(&m, 0, sizeof(m));
	m.url = "smtp://127.0.0.1:1";
	m.from = "casebot@example.org";
	m.rcpt = rcpt;
	m.message = msg;
	m.message_len = strlen(msg);
#define REFUSED(field, value, rc) do { \
		bad = m; \
		bad.field = value; \
		assert_int_equal(http_client_mail(fx->cli, &bad, on_done, \
		                                  &fx->slots[0]), rc); \
	} while (0)
	REFUSED(url, NULL, -CB_EINVAL);
	REFUSED(url, "http://127.0.0.1:1/", -CB_EINVAL);
	REFUSED(url, "ftp://127.0.0.1:1/", -CB_EINVAL);
	REFUSED(url, "smtp://127.0.0.1:1/\r\nx", -CB_EINVAL);
	REFUSED(from, NULL, -CB_EINVAL);
	REFUSED(from, "", -CB_EINVAL);
	REFUSED(from, "casebot@example.org\r\nRSET", -CB_EINVAL);
	REFUSED(from, "<casebot@example.org>", -CB_EINVAL);
	REFUSED(rcpt, NULL, -CB_EINVAL);
	REFUSED(rcpt, none, -CB_EINVAL);
	REFUSED(rcpt, crlf, -CB_EINVAL);
	REFUSED(rcpt, angle, -CB_EINVAL);
	REFUSED(rcpt, many, -CB_EINVAL);
	REFUSED(message, NULL, -CB_EINVAL);
	REFUSED(message_len, 0, -CB_EINVAL);
	REFUSED(message_len, HTTP_CLIENT_MAX_REQUEST + 1, -CB_ETOOBIG);
	REFUSED(timeout_ms, -1, -CB_EINVAL);
	huge = malloc(HTTP_CLIENT_MAX_CREDENTIAL + 2);
	assert_non_null(huge);
	memset(huge, 'a', HTTP_CLIENT_MAX_CREDENTIAL + 1);
	huge[HTTP_CLIENT_MAX_CREDENTIAL + 1] = '\0';
	REFUSED(password, huge, -CB_EINVAL);
	free(huge);
	assert_int_equal(http_client_mail(fx->cli, &m, NULL, NULL), -CB_EINVAL);
	assert_int_equal(http_client_mail(fx->cli, NULL, on_done, NULL), -CB_EINVAL);
	/* An HTTP request never speaks SMTP. */
	memset(&req, 0, sizeof(req));
	req.url = "smtp://127.0.0.1:1/";
	assert_int_equal(http_client_request(fx->cli, &req, on_done,
	                                     &fx->slots[0]), -CB_EINVAL);
	assert_int_equal(http_client_active(fx->cli), 0);
	fx_stop(fx);
	assert_int_equal(http_client_mail(fx->cli, &m, on_done, &fx->slots[0]),
	                 -CB_ESTATE);
#undef REFUSED
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(fx->slots[0].calls, 0);
	fx_finish(fx);
}

/* Closing a server that never listened still goes through the loop. */
static void test_close_unused(void **state)
{
	struct fx *fx = fx_new();

	(void)state;
	fx_stop(fx);
	assert_int_equal(fx->srv_closed, 0);
	assert_int_equal(fx->cli_closed, 0);
	fx_finish(fx);
}

/* HTTPS straight from the daemon: a blocking libcurl in a thread (it
 * must trust the test's own certificate), the server on the loop; the
 * thread's end wakes the loop. Plain HTTP to the same port gets nothing,
 * and a key that is not the certificate's is refused. */
struct tls_client {
	uv_async_t done;
	struct fx *fx;
	char url[64];
	long status;
	CURLcode https, plain;
	char body[64];
	size_t len;
};

static size_t tls_write(char *p, size_t size, size_t n, void *arg)
{
	struct tls_client *c = arg;
	size_t k = size * n;

	if (k > sizeof(c->body) - 1 - c->len)
		k = sizeof(c->body) - 1 - c->len;
	memcpy(c->body + c->len, p, k);
	c->len += k;
	c->body[c->len] = '\0';
	return size * n;
}

static void *tls_thread(void *arg)
{
	struct tls_client *c = arg;
	CURL *e = curl_easy_init();

	if (e != NULL) {
		curl_easy_setopt(e, CURLOPT_URL, c->url);
		curl_easy_setopt(e, CURLOPT_CAINFO, "tests/data/tls/cert.pem");
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, tls_write);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 4000L);
		c->https = curl_easy_perform(e);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &c->status);
		/* The same port without TLS. */
		memcpy(c->url, "http", 4);
		memmove(c->url + 4, c->url + 5, strlen(c->url + 5) + 1);
		curl_easy_setopt(e, CURLOPT_URL, c->url);
		c->plain = curl_easy_perform(e);
		curl_easy_cleanup(e);
	}
	uv_async_send(&c->done);
	return NULL;
}

static void tls_done(uv_async_t *a)
{
	struct tls_client *c = a->data;

	uv_close((uv_handle_t *)a, NULL);
	fx_stop(c->fx);
}

static void test_tls(void **state)
{
	struct fx *fx = fx_new();
	struct tls_client c;
	char err[256];
	pthread_t th;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.fx = fx;
	/* A key that is not the certificate's. */
	{
		struct http_server *other = http_server_new(&fx->loop);

		assert_non_null(other);
		assert_int_equal(http_server_set_tls(other, "tests/data/tls/cert.pem", "tests/data/tls/other-key.pem",
						     err, sizeof(err)),
				 -CB_EIO);
		assert_non_null(strstr(err, "tests/data/tls/other-key.pem"));
		assert_int_equal(http_server_set_tls(other, "tests/data/tls/missing.pem", "tests/data/tls/key.pem", err,
						     sizeof(err)),
				 -CB_EIO);
		http_server_close(other, NULL, NULL);
	}
	assert_int_equal(http_server_set_tls(fx->srv, "tests/data/tls/cert.pem", "tests/data/tls/key.pem", err,
					     sizeof(err)),
			 0);
	assert_int_equal(http_server_route(fx->srv, "/hello", h_hello, fx), 0);
	fx_listen(fx, "127.0.0.1:0");
	snprintf(c.url, sizeof(c.url), "https://127.0.0.1:%d/hello", http_server_port(fx->srv));
	assert_int_equal(uv_async_init(&fx->loop, &c.done, tls_done), 0);
	c.done.data = &c;
	assert_int_equal(pthread_create(&th, NULL, tls_thread, &c), 0);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(c.https, CURLE_OK);
	assert_int_equal(c.status, 200);
	assert_string_equal(c.body, "hello");
	assert_int_not_equal(c.plain, CURLE_OK);
	assert_int_equal(fx->handler_calls, 1);
	fx_finish(fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_post_form),
		cmocka_unit_test(test_post_echo),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_async_response),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_body_too_big),
		cmocka_unit_test(test_response_too_big),
		cmocka_unit_test(test_client_timeout),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_download),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_queued_timeout),
		cmocka_unit_test(test_shutdown_in_flight),
		cmocka_unit_test(test_close_from_callback),
		cmocka_unit_test(test_server_close_idle),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_no_content),
		cmocka_unit_test(test_ipv6),
		cmocka_unit_test(test_server_config),
		cmocka_unit_test(test_close_unused),
		cmocka_unit_test(test_mail_bad_requests),
	};
	int n;

	/* Loopback only, whatever the environment says about proxies. */
	setenv("no_proxy", "*", 1);
	for (size_t i = 0; i < sizeof(big_body); i++)
		big_body[i] = (char)('a' + i % 26);
	n = snprintf(raw_response, sizeof(raw_response),
	             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	             "Connection: close\r\n\r\n");
	memset(raw_response + n, 'x', RAW_BODY_LEN);
	raw_response_len = (size_t)n + RAW_BODY_LEN;
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
