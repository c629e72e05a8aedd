/* The Telegram Bot API simulator against the behaviour of the real API.
 * Each test starts build/tgsim on a free loopback port (simctl), talks to it
 * with plain libcurl, and stops it with SIGTERM: it must exit 0. Every
 * request carries a timeout, so no test can hang. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <magic.h>

#include "bot/casebot.h"
#include "bot/event.h"
#include "bot/gateways/telegram_api.h"
#include "tests/support/simctl.h"

#define TOKEN "123456:TEST-token_x"
#define CHAT 4242
#define CONFLICT "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"

/* ---- fixture ---------------------------------------------------------- */

static int start(void **state, const char *args)
{
	struct simctl *s = calloc(1, sizeof(*s));

	if (s == NULL || simctl_start(s, TOKEN, args) != 0) {
		free(s);
		return -1;
	}
	*state = s;
	return 0;
}

static int setup(void **state)
{
	return start(state, NULL);
}

static int setup_enforce(void **state)
{
	return start(state, "--enforce --chat-tolerance-ms 0");
}

static int teardown(void **state)
{
	struct simctl *s = *state;
	int code = simctl_stop(s);

	free(s);
	/* The simulator must answer SIGTERM with exit 0, whatever it held. */
	return code == 0 ? 0 : -1;
}

/* ---- helpers ---------------------------------------------------------- */

struct call {
	struct simctl_resp r;
	cJSON *json;             /* the parsed body, NULL when not JSON */
};

static void call_free(struct call *c)
{
	cJSON_Delete(c->json);
	simctl_resp_free(&c->r);
}

static void api(struct simctl *s, const char *method, const char *json, long timeout_ms,
                struct call *c)
{
	memset(c, 0, sizeof(*c));
	simctl_api(s, method, json, timeout_ms, &c->r);
	if (c->r.body != NULL)
		c->json = cJSON_ParseWithLength(c->r.body, c->r.len);
}

/* Takes body: a cJSON tree for the request. */
static void api_obj(struct simctl *s, const char *method, cJSON *body, struct call *c)
{
	char *text = cJSON_PrintUnformatted(body);

	assert_non_null(text);
	api(s, method, text, 0, c);
	free(text);
	cJSON_Delete(body);
}

static int is_ok(const struct call *c)
{
	return c->r.status == 200 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->json, "ok"));
}

static const cJSON *result(const struct call *c)
{
	return cJSON_GetObjectItemCaseSensitive(c->json, "result");
}

/* An error answer exactly as Telegram shapes it. */
static void assert_error(const struct call *c, int code, const char *desc)
{
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(c->json, "ok");
	const cJSON *ec = cJSON_GetObjectItemCaseSensitive(c->json, "error_code");
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(c->json, "description");

	assert_int_equal(c->r.status, code);
	assert_true(cJSON_IsFalse(ok));
	assert_true(cJSON_IsNumber(ec));
	assert_int_equal(ec->valueint, code);
	assert_true(cJSON_IsString(d));
	assert_string_equal(d->valuestring, desc);
}

static void expect_error(struct simctl *s, const char *method, const char *json, int code,
                         const char *desc)
{
	struct call c;

	api(s, method, json, 0, &c);
	assert_error(&c, code, desc);
	call_free(&c);
}

static int64_t num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	assert_true(cJSON_IsNumber(v));
	return (int64_t)v->valuedouble;
}

static const char *str(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	assert_true(cJSON_IsString(v));
	return v->valuestring;
}

/* getUpdates with these arguments; the ids in the result land in ids. */
static int get_updates(struct simctl *s, int64_t offset, int limit, int timeout,
                       int64_t *ids, int cap, long *ms)
{
	char body[128];
	struct call c;
	const cJSON *it;
	int n = 0;

	if (limit > 0)
		snprintf(body, sizeof(body), "{\"offset\":%" PRId64 ",\"limit\":%d,\"timeout\":%d}",
		         offset, limit, timeout);
	else
		snprintf(body, sizeof(body), "{\"offset\":%" PRId64 ",\"timeout\":%d}", offset, timeout);
	api(s, "getUpdates", body, (timeout + 5) * 1000L, &c);
	assert_true(is_ok(&c));
	assert_true(cJSON_IsArray(result(&c)));
	cJSON_ArrayForEach(it, result(&c)) {
		if (n < cap)
			ids[n] = num(it, "update_id");
		n++;
	}
	if (ms != NULL)
		*ms = c.r.ms;
	call_free(&c);
	return n;
}

static void send_text(struct simctl *s, int64_t chat, const char *text, struct call *c)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "chat_id", (double)chat);
	cJSON_AddStringToObject(o, "text", text);
	api_obj(s, "sendMessage", o, c);
}

static int send_ok(struct simctl *s, int64_t chat, const char *text)
{
	struct call c;
	int ok;

	send_text(s, chat, text, &c);
	ok = is_ok(&c);
	call_free(&c);
	return ok;
}

static long long counter(struct simctl *s, const char *name)
{
	return simctl_stat(s, name);
}

/* A request in flight while the test does something else: curl multi. */
struct async {
	CURLM *m;
	CURL *e;
	struct curl_slist *hdrs;
	char url[256];
	char body[4096];
	size_t len;
	long status;
	int done;
};

static size_t async_write(char *p, size_t size, size_t n, void *arg)
{
	struct async *a = arg;
	size_t len = size * n;

	if (a->len + len >= sizeof(a->body))
		return 0;
	memcpy(a->body + a->len, p, len);
	a->len += len;
	a->body[a->len] = '\0';
	return len;
}

static void async_start(struct async *a, struct simctl *s, const char *method, const char *json)
{
	memset(a, 0, sizeof(*a));
	a->m = curl_multi_init();
	a->e = curl_easy_init();
	assert_non_null(a->m);
	assert_non_null(a->e);
	snprintf(a->url, sizeof(a->url), "%s/bot%s/%s", simctl_base(s), TOKEN, method);
	a->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	curl_easy_setopt(a->e, CURLOPT_URL, a->url);
	curl_easy_setopt(a->e, CURLOPT_HTTPHEADER, a->hdrs);
	curl_easy_setopt(a->e, CURLOPT_COPYPOSTFIELDS, json);
	curl_easy_setopt(a->e, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(a->e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(a->e, CURLOPT_WRITEFUNCTION, async_write);
	curl_easy_setopt(a->e, CURLOPT_WRITEDATA, a);
	curl_multi_add_handle(a->m, a->e);
}

/* Drives the transfer for up to ms; returns 1 once it has finished. */
static int async_run(struct async *a, long ms)
{
	struct timespec t0, t;
	CURLMsg *msg;
	int running = 1, left;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!a->done) {
		curl_multi_perform(a->m, &running);
		while ((msg = curl_multi_info_read(a->m, &left)) != NULL)
			if (msg->msg == CURLMSG_DONE) {
				curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &a->status);
				a->done = 1;
			}
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (a->done || (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 >= ms)
			break;
		curl_multi_poll(a->m, NULL, 0, 20, NULL);
	}
	return a->done;
}

static void async_end(struct async *a)
{
	curl_multi_remove_handle(a->m, a->e);
	curl_easy_cleanup(a->e);
	curl_multi_cleanup(a->m);
	curl_slist_free_all(a->hdrs);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- the API surface -------------------------------------------------- */

static void t_get_me_and_auth(void **state)
{
	struct simctl *s = *state;
	struct simctl_resp r;
	struct call c;
	char path[128];

	api(s, "getMe", NULL, 0, &c);
	assert_true(is_ok(&c));
	assert_int_equal(num(result(&c), "id"), 123456);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(result(&c), "is_bot")));
	assert_string_equal(c.r.content_type, "application/json");
	call_free(&c);

	/* GET with no body works for getMe and getUpdates; names ignore case. */
	snprintf(path, sizeof(path), "/bot%s/getme", TOKEN);
	assert_int_equal(simctl_http(s, "GET", path, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	simctl_resp_free(&r);
	snprintf(path, sizeof(path), "/bot%s/getUpdates", TOKEN);
	assert_int_equal(simctl_http(s, "GET", path, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"ok\":true,\"result\":[]}");
	simctl_resp_free(&r);

	/* A wrong token: 401, shaped like Telegram's. */
	assert_int_equal(simctl_http(s, "POST", "/bot123456:WRONG/getMe", "{}", 0, &r), 0);
	assert_int_equal(r.status, 401);
	assert_string_equal(r.body, "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}");
	simctl_resp_free(&r);
	assert_int_equal(simctl_http(s, "GET", "/bot" TOKEN "x/getMe", NULL, 0, &r), 0);
	assert_int_equal(r.status, 401);
	simctl_resp_free(&r);

	/* An unknown method: 404. */
	expect_error(s, "sendTelepathy", "{}", 404, "Not Found");
	assert_int_equal(simctl_http(s, "GET", "/nothing/here", NULL, 0, &r), 0);
	assert_int_equal(r.status, 404);
	simctl_resp_free(&r);

	/* A body that is not JSON. */
	expect_error(s, "getMe", "{not json", 400, "Bad Request: can't parse JSON object");
}

static void t_offset_confirmation(void **state)
{
	struct simctl *s = *state;
	int64_t u[3], ids[8];
	int i;

	for (i = 0; i < 3; i++) {
		u[i] = simctl_message(s, CHAT, "hello");
		assert_true(u[i] > 0);
	}
	assert_true(u[1] == u[0] + 1 && u[2] == u[1] + 1);
	assert_int_equal(counter(s, "pending"), 3);

	/* Without an offset the same updates come back until confirmed. */
	assert_int_equal(get_updates(s, 0, 0, 0, ids, 8, NULL), 3);
	assert_int_equal(ids[0], u[0]);
	assert_int_equal(get_updates(s, 0, 0, 0, ids, 8, NULL), 3);

	/* offset = u1 confirms u0 for good; the same offset returns u1 and u2
	 * again, since nothing at or above it is confirmed. */
	assert_int_equal(get_updates(s, u[1], 0, 0, ids, 8, NULL), 2);
	assert_int_equal(ids[0], u[1]);
	assert_int_equal(ids[1], u[2]);
	assert_int_equal(get_updates(s, u[1], 0, 0, ids, 8, NULL), 2);
	assert_int_equal(ids[0], u[1]);
	assert_int_equal(get_updates(s, 0, 0, 0, ids, 8, NULL), 2);
	assert_int_equal(ids[0], u[1]);
	/* Asking from an earlier offset cannot bring u0 back. */
	assert_int_equal(get_updates(s, u[0], 0, 0, ids, 8, NULL), 2);
	assert_int_equal(ids[0], u[1]);
	assert_int_equal(counter(s, "confirmed_offset"), u[1]);

	assert_int_equal(get_updates(s, u[2] + 1, 0, 0, ids, 8, NULL), 0);
	assert_int_equal(counter(s, "pending"), 0);
	assert_int_equal(counter(s, "confirmed_offset"), u[2] + 1);
	assert_int_equal(counter(s, "get_updates"), 7);

	/* A negative offset keeps only the last N. */
	for (i = 0; i < 3; i++)
		u[i] = simctl_message(s, CHAT, "again");
	assert_int_equal(get_updates(s, -1, 0, 0, ids, 8, NULL), 1);
	assert_int_equal(ids[0], u[2]);
	assert_int_equal(counter(s, "pending"), 1);
}

/* An offset saved against another id sequence (a server that restarted, a
 * Telegram that picked new ids after a quiet week) is "in the future": the
 * real server answers from the oldest pending update and confirms nothing,
 * where an offset just past the newest id confirms everything below it. */
static void t_offset_in_the_future(void **state)
{
	struct simctl *s = *state;
	int64_t u0, u1, ids[8], far;
	struct async a;
	cJSON *j;

	/* No update yet: nothing to answer, whatever the offset. */
	assert_int_equal(get_updates(s, 900000000000, 0, 0, ids, 8, NULL), 0);
	/* A long poll with such an offset is woken by the first update. */
	async_start(&a, s, "getUpdates", "{\"offset\":900000000000,\"timeout\":10}");
	assert_false(async_run(&a, 300));
	u0 = simctl_message(s, CHAT, "first after a restart");
	assert_true(async_run(&a, 3000));
	j = cJSON_Parse(a.body);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "result")), 1);
	assert_int_equal(num(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "result"), 0), "update_id"), u0);
	cJSON_Delete(j);
	async_end(&a);
	u1 = simctl_message(s, CHAT, "second");
	far = u1 + 1 + 11;
	assert_int_equal(get_updates(s, far, 0, 0, ids, 8, NULL), 2);
	assert_int_equal(ids[0], u0);
	assert_int_equal(ids[1], u1);
	assert_int_equal(counter(s, "pending"), 2);
	/* Ten past the next id is still the present: it confirms both. */
	assert_int_equal(get_updates(s, u1 + 1 + 10, 0, 0, ids, 8, NULL), 0);
	assert_int_equal(counter(s, "pending"), 0);
}

/* setMyCommands and setMyDescription are checked as the real server checks
 * them, and what was set is read back per scope and language. */
static void t_bot_commands(void **state)
{
	struct simctl *s = *state;
	struct call c;
	char big[700];

	expect_error(s, "setMyCommands", "{\"commands\":[{\"command\":\"Help\",\"description\":\"x\"}]}", 400,
	             "Bad Request: BOT_COMMAND_INVALID");
	expect_error(s, "setMyCommands", "{\"commands\":[{\"command\":\"/help\",\"description\":\"x\"}]}", 400,
	             "Bad Request: BOT_COMMAND_INVALID");
	expect_error(s, "setMyCommands", "{\"commands\":[{\"command\":\"arr\u00eat\",\"description\":\"x\"}]}",
	             400, "Bad Request: BOT_COMMAND_INVALID");
	expect_error(s, "setMyCommands",
	             "{\"commands\":[{\"command\":\"abcdefghijklmnopqrstuvwxyz0123456\",\"description\":\"x\"}]}",
	             400, "Bad Request: BOT_COMMAND_INVALID");
	expect_error(s, "setMyCommands", "{\"commands\":[{\"command\":\"help\",\"description\":\" \"}]}", 400,
	             "Bad Request: command description must be non-empty");
	expect_error(s, "setMyCommands", "{\"commands\":[{\"command\":\"help\"}]}", 400,
	             "Bad Request: can't parse BotCommand: Can't find field \"description\"");
	expect_error(s, "setMyCommands", "{\"commands\":{\"command\":\"help\"}}", 400,
	             "Bad Request: expected an Array of BotCommand");
	expect_error(s, "setMyCommands", "{\"commands\":\"[not json\"}", 400,
	             "Bad Request: can't parse commands JSON object");
	expect_error(s, "setMyCommands",
	             "{\"commands\":[{\"command\":\"help\",\"description\":\"x\"}],\"scope\":{\"type\":\"families\"}}",
	             400, "Bad Request: can't parse BotCommandScope: Unsupported type specified");
	expect_error(s, "setMyCommands",
	             "{\"commands\":[{\"command\":\"help\",\"description\":\"x\"}],\"scope\":{\"type\":\"chat\"}}",
	             400, "Bad Request: can't parse BotCommandScope: Can't find field \"chat_id\"");
	expect_error(s, "setMyCommands",
	             "{\"commands\":[{\"command\":\"help\",\"description\":\"x\"}],\"scope\":{\"type\":\"chat\","
	             "\"chat_id\":777}}", 400, "Bad Request: chat not found");
	expect_error(s, "setMyCommands",
	             "{\"commands\":[{\"command\":\"help\",\"description\":\"x\"}],\"language_code\":\"NL\"}",
	             400, "Bad Request: invalid language code specified");
	expect_error(s, "setMyCommands",
	             "{\"commands\":[{\"command\":\"help\",\"description\":\"x\"}],\"language_code\":\"nld\"}",
	             400, "Bad Request: invalid language code specified");
	/* Set for one scope and language, read back there and only there. */
	api(s, "setMyCommands", "{\"commands\":[{\"command\":\"hulp\",\"description\":\"Wat je kan sturen\"}],"
	    "\"scope\":{\"type\":\"all_private_chats\"},\"language_code\":\"nl\"}", 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	api(s, "getMyCommands", "{\"scope\":{\"type\":\"all_private_chats\"},\"language_code\":\"nl\"}", 0, &c);
	assert_true(is_ok(&c));
	assert_int_equal(cJSON_GetArraySize(result(&c)), 1);
	assert_string_equal(str(cJSON_GetArrayItem(result(&c), 0), "command"), "hulp");
	call_free(&c);
	api(s, "getMyCommands", "{\"scope\":{\"type\":\"all_private_chats\"},\"language_code\":\"fr\"}", 0, &c);
	assert_int_equal(cJSON_GetArraySize(result(&c)), 0);
	call_free(&c);
	api(s, "getMyCommands", "{\"language_code\":\"nl\"}", 0, &c);
	assert_int_equal(cJSON_GetArraySize(result(&c)), 0);
	call_free(&c);
	/* A chat scope needs a chat the bot knows; scope may come as a string. */
	simctl_message(s, CHAT, "hello");
	api(s, "setMyCommands", "{\"commands\":[{\"command\":\"families\",\"description\":\"Je gezinnen\"}],"
	    "\"scope\":\"{\\\"type\\\":\\\"chat\\\",\\\"chat_id\\\":4242}\"}", 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	api(s, "getMyCommands", "{\"scope\":{\"type\":\"chat\",\"chat_id\":4242}}", 0, &c);
	assert_int_equal(cJSON_GetArraySize(result(&c)), 1);
	call_free(&c);
	api(s, "deleteMyCommands", "{\"scope\":{\"type\":\"chat\",\"chat_id\":4242}}", 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	api(s, "getMyCommands", "{\"scope\":{\"type\":\"chat\",\"chat_id\":4242}}", 0, &c);
	assert_int_equal(cJSON_GetArraySize(result(&c)), 0);
	call_free(&c);
	/* Descriptions, by language; 512 characters at most. */
	memset(big, 'a', 513);
	big[513] = '\0';
	{
		char body[800];

		snprintf(body, sizeof(body), "{\"description\":\"%s\"}", big);
		expect_error(s, "setMyDescription", body, 400, "Bad Request: description is too long");
		/* 512 two-byte characters are 512 characters. */
		memset(big, 0, sizeof(big));
		for (int i = 0; i < 300; i++)
			memcpy(big + 2 * i, "\xc3\xa9", 2);
		snprintf(body, sizeof(body), "{\"description\":\"%s\",\"language_code\":\"fr\"}", big);
		api(s, "setMyDescription", body, 0, &c);
		assert_true(is_ok(&c));
		call_free(&c);
	}
	expect_error(s, "setMyDescription", "{\"description\":\"x\",\"language_code\":\"english\"}", 400,
	             "Bad Request: invalid language code specified");
	api(s, "getMyDescription", "{\"language_code\":\"fr\"}", 0, &c);
	assert_true(is_ok(&c));
	assert_int_equal(strlen(str(result(&c), "description")), 600);
	call_free(&c);
	api(s, "getMyDescription", "{}", 0, &c);
	assert_string_equal(str(result(&c), "description"), "");
	call_free(&c);
	assert_int_equal(counter(s, "bot_settings"), 4);
}

static void t_limit(void **state)
{
	struct simctl *s = *state;
	int64_t ids[128], first = 0, id;
	struct call c;
	int i;

	for (i = 0; i < 5; i++) {
		id = simctl_message(s, CHAT, "x");
		if (i == 0)
			first = id;
	}
	assert_int_equal(get_updates(s, 0, 2, 0, ids, 128, NULL), 2);
	assert_int_equal(ids[0], first);
	/* Out-of-range limits are clamped, as the real API does. */
	assert_int_equal(get_updates(s, 0, 500, 0, ids, 128, NULL), 5);
	for (i = 0; i < 100; i++)
		simctl_message(s, CHAT, "y");
	assert_int_equal(get_updates(s, 0, 0, 0, ids, 128, NULL), 100);
	assert_int_equal(get_updates(s, 0, 100, 0, ids, 128, NULL), 100);
	api(s, "getUpdates", "{\"limit\":0}", 0, &c);
	assert_true(is_ok(&c));
	assert_int_equal(cJSON_GetArraySize(result(&c)), 1);
	call_free(&c);
}

/* ---- long polling ----------------------------------------------------- */

static void t_long_poll_wakes(void **state)
{
	struct simctl *s = *state;
	struct timespec t0;
	struct async a;
	cJSON *j;
	int64_t id;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	async_start(&a, s, "getUpdates", "{\"offset\":0,\"timeout\":10}");
	/* Held: nothing to give yet. */
	assert_false(async_run(&a, 300));
	assert_int_equal(counter(s, "polling"), 1);
	id = simctl_message(s, CHAT, "wake up");
	assert_true(async_run(&a, 3000));
	/* At once, not after the 10 s timeout. */
	assert_true(elapsed_ms(&t0) < 2500);
	assert_int_equal(a.status, 200);
	j = cJSON_Parse(a.body);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "result")), 1);
	assert_int_equal(num(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "result"), 0), "update_id"), id);
	cJSON_Delete(j);
	async_end(&a);
	assert_int_equal(counter(s, "polling"), 0);
}

static void t_long_poll_timeout(void **state)
{
	struct simctl *s = *state;
	int64_t ids[4];
	long ms = 0;

	assert_int_equal(get_updates(s, 0, 0, 1, ids, 4, &ms), 0);
	assert_true(ms >= 900);
	assert_true(ms < 2500);
	/* timeout 0 is a short poll: at once. */
	assert_int_equal(get_updates(s, 0, 0, 0, ids, 4, &ms), 0);
	assert_true(ms < 500);
	/* Updates waiting: no wait whatever the timeout. */
	simctl_message(s, CHAT, "here");
	assert_int_equal(get_updates(s, 0, 0, 5, ids, 4, &ms), 1);
	assert_true(ms < 500);
}

static void t_conflict(void **state)
{
	struct simctl *s = *state;
	struct async a, b;
	struct call c = {0};

	async_start(&a, s, "getUpdates", "{\"timeout\":10}");
	assert_false(async_run(&a, 300));
	async_start(&b, s, "getUpdates", "{\"timeout\":10}");
	assert_false(async_run(&b, 300));
	/* The older poll is terminated by the newer one, as on Telegram. */
	assert_true(async_run(&a, 2000));
	assert_int_equal(a.status, 409);
	c.json = cJSON_Parse(a.body);
	c.r.status = a.status;
	assert_error(&c, 409, CONFLICT);
	cJSON_Delete(c.json);
	/* The newer one still gets the next update. */
	simctl_message(s, CHAT, "for the survivor");
	assert_true(async_run(&b, 3000));
	assert_int_equal(b.status, 200);
	assert_non_null(strstr(b.body, "for the survivor"));
	async_end(&a);
	async_end(&b);
	assert_int_equal(counter(s, "conflicts"), 1);
}

/* ---- sendMessage ------------------------------------------------------ */

static char *repeat(const char *unit, int n)
{
	size_t len = strlen(unit);
	char *out = malloc(len * (size_t)n + 1);
	int i;

	assert_non_null(out);
	for (i = 0; i < n; i++)
		memcpy(out + len * (size_t)i, unit, len);
	out[len * (size_t)n] = '\0';
	return out;
}

static cJSON *with_button(int64_t chat, const char *data)
{
	cJSON *o = cJSON_CreateObject(), *kb, *row, *btn;

	cJSON_AddNumberToObject(o, "chat_id", (double)chat);
	cJSON_AddStringToObject(o, "text", "Confirm?");
	kb = cJSON_AddArrayToObject(cJSON_AddObjectToObject(o, "reply_markup"), "inline_keyboard");
	row = cJSON_CreateArray();
	btn = cJSON_CreateObject();
	cJSON_AddStringToObject(btn, "text", "Yes");
	cJSON_AddStringToObject(btn, "callback_data", data);
	cJSON_AddItemToArray(row, btn);
	cJSON_AddItemToArray(kb, row);
	return o;
}

/* editMessageText as the Bot API answers it: only a message the bot sent
 * in that chat, refused when nothing would change, the edited message in
 * the answer; the message keeps its id, no new one is made, and the sent
 * list shows its new text. */
static void t_edit_message_text(void **state)
{
	struct simctl *s = *state;
	struct call c;
	cJSON *o, *sent;
	int64_t mid;

	assert_int_equal(simctl_chat(s, 777, "Amina"), 0);
	api_obj(s, "sendMessage", with_button(777, "ap:1:1"), &c);
	assert_true(is_ok(&c));
	mid = num(result(&c), "message_id");
	/* The chat's first message: the literal requests below name it. */
	assert_int_equal(mid, 1);
	call_free(&c);
	/* The family's own message (id 2) is not the bot's to edit. */
	assert_true(simctl_message(s, 777, "hello") > 0);
	expect_error(s, "editMessageText", "{\"chat_id\":777,\"message_id\":2,\"text\":\"x\"}", 400,
	             "Bad Request: message can't be edited");
	expect_error(s, "editMessageText", "{\"chat_id\":778,\"message_id\":1,\"text\":\"x\"}", 400,
	             "Bad Request: chat not found");
	expect_error(s, "editMessageText", "{\"message_id\":1,\"text\":\"x\"}", 400,
	             "Bad Request: chat_id is empty");
	expect_error(s, "editMessageText", "{\"chat_id\":777,\"text\":\"x\"}", 400,
	             "Bad Request: message identifier is not specified");
	expect_error(s, "editMessageText", "{\"chat_id\":777,\"message_id\":99,\"text\":\"x\"}", 400,
	             "Bad Request: message to edit not found");
	expect_error(s, "editMessageText", "{\"chat_id\":777,\"message_id\":1,\"text\":\" \"}", 400,
	             "Bad Request: message text is empty");
	/* The same text and keyboard: not modified. */
	o = with_button(777, "ap:1:1");
	cJSON_AddNumberToObject(o, "message_id", (double)mid);
	api_obj(s, "editMessageText", o, &c);
	assert_error(&c, 400,
	             "Bad Request: message is not modified: specified new message content and reply markup are "
	             "exactly the same as a current content and reply markup of the message");
	call_free(&c);
	/* A new text: the same message, edited. */
	o = with_button(777, "ap:1:1");
	cJSON_ReplaceItemInObject(o, "text", cJSON_CreateString("Confirm? Details: here."));
	cJSON_AddNumberToObject(o, "message_id", (double)mid);
	api_obj(s, "editMessageText", o, &c);
	assert_true(is_ok(&c));
	assert_int_equal(num(result(&c), "message_id"), mid);
	assert_true(num(result(&c), "edit_date") > 0);
	assert_string_equal(str(result(&c), "text"), "Confirm? Details: here.");
	assert_non_null(cJSON_GetObjectItem(result(&c), "reply_markup"));
	call_free(&c);
	sent = simctl_sent(s, 777);
	assert_int_equal(cJSON_GetArraySize(sent), 1);
	assert_int_equal(num(cJSON_GetArrayItem(sent, 0), "message_id"), mid);
	assert_string_equal(str(cJSON_GetArrayItem(sent, 0), "text"), "Confirm? Details: here.");
	cJSON_Delete(sent);
	/* Without reply_markup the keyboard goes, as on Telegram: that is a
	 * change, even with the same text. */
	api(s, "editMessageText", "{\"chat_id\":777,\"message_id\":1,\"text\":\"Confirm? Details: here.\"}", 0, &c);
	assert_true(is_ok(&c));
	assert_null(cJSON_GetObjectItem(result(&c), "reply_markup"));
	call_free(&c);
	sent = simctl_sent(s, 777);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(sent, 0), "reply_markup")));
	cJSON_Delete(sent);
	/* A blocked chat refuses edits too. */
	assert_true(simctl_block(s, 777, 1) >= 0);
	expect_error(s, "editMessageText", "{\"chat_id\":777,\"message_id\":1,\"text\":\"y\"}", 403,
	             "Forbidden: bot was blocked by the user");
}

static void t_send_validations(void **state)
{
	struct simctl *s = *state;
	struct call c;
	char *text;
	cJSON *sent;

	/* A chat the bot has never seen. */
	expect_error(s, "sendMessage", "{\"chat_id\":777,\"text\":\"hi\"}", 400,
	             "Bad Request: chat not found");
	expect_error(s, "sendMessage", "{\"chat_id\":\"@someone\",\"text\":\"hi\"}", 400,
	             "Bad Request: chat not found");
	expect_error(s, "sendMessage", "{\"text\":\"hi\"}", 400, "Bad Request: chat_id is empty");
	assert_int_equal(simctl_chat(s, 777, "Amina"), 0);
	assert_true(send_ok(s, 777, "hi"));
	/* chat_id as a string, the way form posts send it. */
	api(s, "sendMessage", "{\"chat_id\":\"777\",\"text\":\"again\"}", 0, &c);
	assert_true(is_ok(&c));
	assert_int_equal(num(cJSON_GetObjectItem(result(&c), "chat"), "id"), 777);
	assert_string_equal(str(result(&c), "text"), "again");
	call_free(&c);

	/* Empty and blank texts. */
	expect_error(s, "sendMessage", "{\"chat_id\":777,\"text\":\"\"}", 400,
	             "Bad Request: message text is empty");
	expect_error(s, "sendMessage", "{\"chat_id\":777}", 400, "Bad Request: message text is empty");
	expect_error(s, "sendMessage", "{\"chat_id\":777,\"text\":\" \\n\\t \"}", 400,
	             "Bad Request: message text is empty");

	/* Length counts UTF-16 units: an emoji outside the BMP counts 2. */
	text = repeat("\xF0\x9F\x98\x80", 2048);             /* 4096 units */
	send_text(s, 777, text, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	free(text);
	text = repeat("\xF0\x9F\x98\x80", 2049);             /* 4098 units, 8196 bytes */
	send_text(s, 777, text, &c);
	assert_error(&c, 400, "Bad Request: message is too long");
	call_free(&c);
	free(text);
	text = repeat("\xC3\xA9", 4096);                     /* 4096 units, 8192 bytes */
	send_text(s, 777, text, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	free(text);
	text = repeat("a", 4097);
	send_text(s, 777, text, &c);
	assert_error(&c, 400, "Bad Request: message is too long");
	call_free(&c);
	free(text);

	/* callback_data: 1 to 64 bytes. */
	text = repeat("d", 64);
	api_obj(s, "sendMessage", with_button(777, text), &c);
	assert_true(is_ok(&c));
	assert_non_null(cJSON_GetObjectItem(result(&c), "reply_markup"));
	call_free(&c);
	free(text);
	text = repeat("d", 65);
	api_obj(s, "sendMessage", with_button(777, text), &c);
	assert_error(&c, 400, "Bad Request: BUTTON_DATA_INVALID");
	call_free(&c);
	free(text);
	api_obj(s, "sendMessage", with_button(777, ""), &c);
	assert_error(&c, 400, "Bad Request: BUTTON_DATA_INVALID");
	call_free(&c);
	/* reply_markup may also come as a JSON string. */
	api(s, "sendMessage", "{\"chat_id\":777,\"text\":\"s\",\"reply_markup\":"
	    "\"{\\\"inline_keyboard\\\":[[{\\\"text\\\":\\\"A\\\",\\\"callback_data\\\":\\\"a\\\"}]]}\"}",
	    0, &c);
	assert_true(is_ok(&c));
	call_free(&c);

	/* Replies must point at a message that exists. */
	expect_error(s, "sendMessage",
	             "{\"chat_id\":777,\"text\":\"r\",\"reply_parameters\":{\"message_id\":9999}}", 400,
	             "Bad Request: message to be replied not found");
	api(s, "sendMessage", "{\"chat_id\":777,\"text\":\"r\",\"reply_parameters\":"
	    "{\"message_id\":9999,\"allow_sending_without_reply\":true}}", 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);

	/* Blocked: 403. */
	assert_true(simctl_block(s, 777, 1) > 0);
	expect_error(s, "sendMessage", "{\"chat_id\":777,\"text\":\"hi\"}", 403,
	             "Forbidden: bot was blocked by the user");

	/* Only accepted messages are recorded; every refusal is counted. */
	sent = simctl_sent(s, 777);
	assert_non_null(sent);
	assert_int_equal(cJSON_GetArraySize(sent), 7);
	cJSON_Delete(sent);
	assert_int_equal(counter(s, "sent"), 7);
	assert_int_equal(counter(s, "rejected"), 12);
}

static void t_message_ids(void **state)
{
	struct simctl *s = *state;
	struct call c;
	cJSON *sent, *m;

	/* Message ids count per chat, shared by both sides of the chat. */
	simctl_message(s, 1, "a");
	simctl_message(s, 1, "b");
	simctl_message(s, 2, "c");
	send_text(s, 1, "to one", &c);
	assert_int_equal(num(result(&c), "message_id"), 3);
	assert_true(num(result(&c), "date") > 1600000000);
	call_free(&c);
	send_text(s, 2, "to two", &c);
	assert_int_equal(num(result(&c), "message_id"), 2);
	call_free(&c);
	api(s, "sendMessage", "{\"chat_id\":1,\"text\":\"reply\",\"reply_to_message_id\":2}", 0, &c);
	assert_int_equal(num(result(&c), "message_id"), 4);
	call_free(&c);

	sent = simctl_sent(s, 0);
	assert_int_equal(cJSON_GetArraySize(sent), 3);
	m = cJSON_GetArrayItem(sent, 2);
	assert_int_equal(num(m, "chat_id"), 1);
	assert_int_equal(num(m, "message_id"), 4);
	assert_int_equal(num(m, "reply_to_message_id"), 2);
	assert_string_equal(str(m, "text"), "reply");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(m, "reply_markup")));
	assert_true(num(m, "at_ms") > 1600000000000LL);
	cJSON_Delete(sent);
	sent = simctl_sent(s, 2);
	assert_int_equal(cJSON_GetArraySize(sent), 1);
	cJSON_Delete(sent);
	assert_int_equal(simctl_wait_sent(s, 1, 2, 1000), 2);
	/* Waiting for more than will come ends at the timeout. */
	assert_int_equal(simctl_wait_sent(s, 2, 5, 200), 1);
}

/* ---- buttons ---------------------------------------------------------- */

static void t_answer_callback_once(void **state)
{
	struct simctl *s = *state;
	struct call c;
	cJSON *res, *q;
	char body[128];
	int64_t ids[4];
	const char *id;

	simctl_message(s, CHAT, "hi");
	api_obj(s, "sendMessage", with_button(CHAT, "ap:1:1"), &c);
	assert_true(is_ok(&c));
	call_free(&c);
	res = simctl_post(s, "button", "{\"chat_id\":4242,\"data\":\"ap:1:1\",\"message_id\":2}");
	assert_non_null(res);
	id = str(res, "callback_query_id");

	/* The update carries the message with its buttons. */
	api(s, "getUpdates", "{\"offset\":0}", 0, &c);
	q = cJSON_GetObjectItem(cJSON_GetArrayItem(result(&c), 1), "callback_query");
	assert_non_null(q);
	assert_string_equal(str(q, "id"), id);
	assert_string_equal(str(q, "data"), "ap:1:1");
	assert_non_null(cJSON_GetObjectItem(q, "chat_instance"));
	assert_int_equal(num(cJSON_GetObjectItem(q, "from"), "id"), CHAT);
	assert_int_equal(num(cJSON_GetObjectItem(q, "message"), "message_id"), 2);
	assert_string_equal(str(cJSON_GetObjectItem(q, "message"), "text"), "Confirm?");
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(q, "message"), "reply_markup"));
	call_free(&c);

	snprintf(body, sizeof(body), "{\"callback_query_id\":\"%s\",\"text\":\"Thanks\"}", id);
	api(s, "answerCallbackQuery", body, 0, &c);
	assert_true(is_ok(&c));
	assert_true(cJSON_IsTrue(result(&c)));
	call_free(&c);
	/* Once only. */
	expect_error(s, "answerCallbackQuery", body, 400,
	             "Bad Request: query is too old and response timeout expired or query ID is invalid");
	expect_error(s, "answerCallbackQuery", "{\"callback_query_id\":\"12345\"}", 400,
	             "Bad Request: query is too old and response timeout expired or query ID is invalid");
	expect_error(s, "answerCallbackQuery", "{}", 400,
	             "Bad Request: query is too old and response timeout expired or query ID is invalid");
	assert_int_equal(counter(s, "callbacks_answered"), 1);
	cJSON_Delete(res);

	/* Without message_id the press lands on the bot's latest message. */
	res = simctl_post(s, "button", "{\"chat_id\":4242,\"data\":\"x\"}");
	assert_int_equal(num(res, "message_id"), 2);
	cJSON_Delete(res);
	assert_int_equal(get_updates(s, 0, 0, 0, ids, 4, NULL), 3);
}

/* ---- files ------------------------------------------------------------ */

static char *mime_of(const void *data, size_t len)
{
	magic_t m = magic_open(MAGIC_MIME_TYPE);
	const char *t;
	char *out;

	assert_non_null(m);
	assert_int_equal(magic_load(m, NULL), 0);
	t = magic_buffer(m, data, len);
	out = strdup(t != NULL ? t : "?");
	magic_close(m);
	return out;
}

/* getFile, then the download; returns the bytes (caller frees). */
static char *fetch_file(struct simctl *s, const char *file_id, size_t *len)
{
	struct simctl_resp r;
	struct call c;
	char body[128], path[256], *out;

	snprintf(body, sizeof(body), "{\"file_id\":\"%s\"}", file_id);
	api(s, "getFile", body, 0, &c);
	assert_true(is_ok(&c));
	assert_string_equal(str(result(&c), "file_id"), file_id);
	assert_non_null(cJSON_GetObjectItem(result(&c), "file_unique_id"));
	snprintf(path, sizeof(path), "/file/bot%s/%s", TOKEN, str(result(&c), "file_path"));
	assert_int_equal(simctl_http(s, "GET", path, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal((int64_t)r.len, num(result(&c), "file_size"));
	call_free(&c);
	out = r.body;
	*len = r.len;
	return out;
}

/* The file_id of the largest photo, or of the document, in the last update. */
static char *last_file_id(struct simctl *s, const char *field, int64_t *size)
{
	struct call c;
	const cJSON *msg, *f;
	char *out;

	api(s, "getUpdates", "{\"offset\":-1}", 0, &c);
	msg = cJSON_GetObjectItem(cJSON_GetArrayItem(result(&c), 0), "message");
	f = cJSON_GetObjectItem(msg, field);
	if (cJSON_IsArray(f))
		f = cJSON_GetArrayItem(f, cJSON_GetArraySize(f) - 1);
	assert_non_null(f);
	out = strdup(str(f, "file_id"));
	if (size != NULL)
		*size = num(f, "file_size");
	call_free(&c);
	return out;
}

static void t_files(void **state)
{
	struct simctl *s = *state;
	static const unsigned char doc[] = "%PDF-1.7\nour own bytes\x00\x01\x02\xff";
	struct simctl_resp r;
	struct call c;
	const cJSON *photo, *p;
	char *id, *bytes, *mime, path[256];
	int64_t prev = 0, size;
	size_t len;

	/* A photo: three sizes, increasing, the largest as asked. */
	assert_true(simctl_photo(s, CHAT, 5000, "passport") > 0);
	api(s, "getUpdates", "{\"offset\":-1}", 0, &c);
	photo = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(result(&c), 0), "message"), "photo");
	assert_int_equal(cJSON_GetArraySize(photo), 3);
	cJSON_ArrayForEach(p, photo) {
		assert_true(num(p, "file_size") >= prev);
		assert_true(num(p, "width") > 0);
		prev = num(p, "file_size");
	}
	assert_int_equal(prev, 5000);
	assert_string_equal(str(cJSON_GetObjectItem(cJSON_GetArrayItem(result(&c), 0), "message"), "caption"),
	                    "passport");
	call_free(&c);
	id = last_file_id(s, "photo", NULL);
	bytes = fetch_file(s, id, &len);
	assert_int_equal(len, 5000);
	assert_memory_equal(bytes, "\xFF\xD8\xFF\xE0\x00\x10JFIF\x00", 11);
	mime = mime_of(bytes, len);
	assert_string_equal(mime, "image/jpeg");
	free(mime);
	free(bytes);
	free(id);

	/* Generated documents look like what they claim to be. */
	assert_true(simctl_document_gen(s, CHAT, "pdf", 3000) > 0);
	id = last_file_id(s, "document", &size);
	assert_int_equal(size, 3000);
	bytes = fetch_file(s, id, &len);
	mime = mime_of(bytes, len);
	assert_string_equal(mime, "application/pdf");
	free(mime);
	free(bytes);
	free(id);
	assert_true(simctl_document_gen(s, CHAT, "exe", 3000) > 0);
	id = last_file_id(s, "document", NULL);
	bytes = fetch_file(s, id, &len);
	mime = mime_of(bytes, len);
	assert_string_equal(mime, "application/x-executable");
	free(mime);
	free(bytes);
	free(id);
	assert_true(simctl_voice(s, CHAT, 2) > 0);
	id = last_file_id(s, "voice", &size);
	assert_int_equal(size, 4000);
	bytes = fetch_file(s, id, &len);
	mime = mime_of(bytes, len);
	assert_string_equal(mime, "audio/ogg");
	free(mime);
	free(bytes);
	free(id);

	/* An uploaded document comes back byte for byte. */
	assert_true(simctl_document(s, CHAT, "brief.pdf", "application/pdf", doc, sizeof(doc)) > 0);
	id = last_file_id(s, "document", &size);
	assert_int_equal(size, sizeof(doc));
	bytes = fetch_file(s, id, &len);
	assert_int_equal(len, sizeof(doc));
	assert_memory_equal(bytes, doc, sizeof(doc));
	free(bytes);
	free(id);
	assert_int_equal(counter(s, "files_downloaded"), 5);

	/* Unknown ids and paths. */
	expect_error(s, "getFile", "{\"file_id\":\"nope\"}", 400, "Bad Request: invalid file_id");
	expect_error(s, "getFile", "{}", 400, "Bad Request: invalid file_id");
	snprintf(path, sizeof(path), "/file/bot%s/photos/file_999.jpg", TOKEN);
	assert_int_equal(simctl_http(s, "GET", path, NULL, 0, &r), 0);
	assert_int_equal(r.status, 404);
	simctl_resp_free(&r);
	assert_int_equal(simctl_http(s, "GET", "/file/bot1:WRONG/photos/file_1.jpg", NULL, 0, &r), 0);
	assert_int_equal(r.status, 404);
	simctl_resp_free(&r);
	assert_int_equal(counter(s, "files_downloaded"), 5);
}

static void t_file_too_big(void **state)
{
	struct simctl *s = *state;
	struct call c;
	const cJSON *photo;
	char body[128];

	assert_true(simctl_photo(s, CHAT, 21L * 1024 * 1024, NULL) > 0);
	api(s, "getUpdates", "{\"offset\":-1}", 0, &c);
	photo = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(result(&c), 0), "message"), "photo");
	snprintf(body, sizeof(body), "{\"file_id\":\"%s\"}", str(cJSON_GetArrayItem(photo, 2), "file_id"));
	expect_error(s, "getFile", body, 400, "Bad Request: file is too big");
	/* The smaller sizes stay downloadable. */
	snprintf(body, sizeof(body), "{\"file_id\":\"%s\"}", str(cJSON_GetArrayItem(photo, 1), "file_id"));
	call_free(&c);
	api(s, "getFile", body, 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	assert_true(simctl_document_gen(s, CHAT, "pdf", 20L * 1024 * 1024 + 1) > 0);
	{
		char *id = last_file_id(s, "document", NULL);

		snprintf(body, sizeof(body), "{\"file_id\":\"%s\"}", id);
		free(id);
	}
	expect_error(s, "getFile", body, 400, "Bad Request: file is too big");
}

/* ---- faults ----------------------------------------------------------- */

static void t_fault_429(void **state)
{
	struct simctl *s = *state;
	struct call c;
	const cJSON *params;

	simctl_chat(s, CHAT, NULL);
	assert_int_equal(simctl_fault(s, "429", 2, 7, "sendMessage"), 0);
	assert_int_equal(counter(s, "faults_left"), 2);
	/* Other methods are untouched. */
	api(s, "getMe", NULL, 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	send_text(s, CHAT, "first", &c);
	assert_error(&c, 429, "Too Many Requests: retry after 7");
	params = cJSON_GetObjectItem(c.json, "parameters");
	assert_int_equal(num(params, "retry_after"), 7);
	assert_string_equal(c.r.retry_after, "7");
	call_free(&c);
	send_text(s, CHAT, "second", &c);
	assert_int_equal(c.r.status, 429);
	call_free(&c);
	assert_int_equal(counter(s, "faults_left"), 0);
	assert_true(send_ok(s, CHAT, "third"));
	/* Refused messages were never delivered. */
	assert_int_equal(simctl_wait_sent(s, CHAT, 1, 0), 1);
	assert_int_equal(counter(s, "rejected"), 2);

	/* "clear" disarms. */
	assert_int_equal(simctl_fault(s, "429", 5, 1, NULL), 0);
	assert_int_equal(simctl_fault(s, "clear", 0, 0, NULL), 0);
	assert_int_equal(counter(s, "faults_left"), 0);
	api(s, "getMe", NULL, 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
}

static void t_fault_500(void **state)
{
	struct simctl *s = *state;
	struct simctl_resp r;
	struct call c;
	cJSON *res;

	assert_int_equal(simctl_fault(s, "500", 1, 0, NULL), 0);
	api(s, "getMe", NULL, 0, &c);
	assert_error(&c, 500, "Internal Server Error");
	call_free(&c);
	/* The HTML page a proxy in front of the API would send. */
	res = simctl_post(s, "fault", "{\"kind\":\"500\",\"html\":true}");
	assert_non_null(res);
	cJSON_Delete(res);
	api(s, "getUpdates", "{}", 0, &c);
	assert_int_equal(c.r.status, 500);
	assert_null(c.json);
	assert_string_equal(c.r.content_type, "text/html");
	assert_non_null(strstr(c.r.body, "<html>"));
	call_free(&c);
	api(s, "getMe", NULL, 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	/* Downloads only see faults armed for "file". */
	assert_int_equal(simctl_fault(s, "500", 1, 0, "file"), 0);
	simctl_photo(s, CHAT, 100, NULL);
	api(s, "getFile", "{\"file_id\":\"AgACAgQAAxkBAAI000000000003Sim\"}", 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	assert_int_equal(simctl_http(s, "GET", "/file/bot" TOKEN "/photos/file_3.jpg", NULL, 0, &r), 0);
	assert_int_equal(r.status, 500);
	simctl_resp_free(&r);
	assert_int_equal(simctl_http(s, "GET", "/file/bot" TOKEN "/photos/file_3.jpg", NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 100);
	simctl_resp_free(&r);
}

static void t_fault_slow(void **state)
{
	struct simctl *s = *state;
	struct call c;

	simctl_chat(s, CHAT, NULL);
	assert_int_equal(simctl_fault(s, "slow", 1, 600, "sendMessage"), 0);
	send_text(s, CHAT, "late", &c);
	assert_true(is_ok(&c));
	assert_true(c.r.ms >= 550);
	assert_true(c.r.ms < 3000);
	call_free(&c);
	send_text(s, CHAT, "on time", &c);
	assert_true(is_ok(&c));
	assert_true(c.r.ms < 500);
	call_free(&c);
}

static void t_fault_drop(void **state)
{
	struct simctl *s = *state;
	struct call c;

	/* Held longer than any client waits: the client gives up with no
	 * answer. The simulator still shuts down cleanly (teardown). */
	assert_int_equal(simctl_fault(s, "drop", 1, 0, "getMe"), 0);
	api(s, "getMe", NULL, 800, &c);
	assert_int_equal(c.r.curl_error, CURLE_OPERATION_TIMEDOUT);
	assert_int_equal(c.r.status, 0);
	call_free(&c);
	assert_int_equal(counter(s, "held"), 1);
	api(s, "getMe", NULL, 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	/* With a delay, the late answer is a 502 nobody reads. */
	assert_int_equal(simctl_fault(s, "drop", 1, 300, "getMe"), 0);
	api(s, "getMe", NULL, 2000, &c);
	assert_int_equal(c.r.status, 502);
	call_free(&c);
}

static void t_fault_garbage(void **state)
{
	struct simctl *s = *state;
	struct telegram_result tr;
	struct call c;

	assert_int_equal(simctl_fault(s, "garbage", 1, 0, NULL), 0);
	api(s, "getUpdates", "{}", 0, &c);
	assert_int_equal(c.r.status, 200);
	assert_non_null(c.r.body);
	assert_null(c.json);
	/* The project's own parser sees a transient failure, not a result. */
	assert_int_equal(telegram_api_parse_result(c.r.body, c.r.len, 200, &tr), -CB_EPARSE);
	assert_int_equal(tr.status, TELEGRAM_TRANSIENT);
	call_free(&c);
	api(s, "getUpdates", "{}", 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
}

static void t_fault_empty(void **state)
{
	struct simctl *s = *state;
	int64_t ids[4], id;
	long ms;

	id = simctl_message(s, CHAT, "waiting");
	assert_int_equal(simctl_fault(s, "empty", 1, 0, NULL), 0);
	/* "empty" only ever applies to getUpdates. */
	assert_true(send_ok(s, CHAT, "unaffected"));
	assert_int_equal(get_updates(s, 0, 0, 5, ids, 4, &ms), 0);
	assert_true(ms < 1000);
	assert_int_equal(get_updates(s, 0, 0, 5, ids, 4, &ms), 1);
	assert_int_equal(ids[0], id);
}

/* ---- rate limits ------------------------------------------------------ */

static void t_breach_chat(void **state)
{
	struct simctl *s = *state;

	simctl_chat(s, 10, NULL);
	simctl_chat(s, 11, NULL);
	assert_true(send_ok(s, 10, "one"));
	assert_true(send_ok(s, 10, "two, too soon"));
	assert_int_equal(counter(s, "breaches_chat"), 1);
	/* Another chat is another budget. */
	assert_true(send_ok(s, 11, "one"));
	assert_int_equal(counter(s, "breaches_chat"), 1);
	/* A second later is fine. */
	{
		struct timespec ts = {1, 50 * 1000000L};

		nanosleep(&ts, NULL);
	}
	assert_true(send_ok(s, 10, "three"));
	assert_int_equal(counter(s, "breaches_chat"), 1);
	assert_int_equal(counter(s, "breaches_global"), 0);
	/* Not enforced: all four were delivered. */
	assert_int_equal(counter(s, "sent"), 4);
}

static void t_breach_global(void **state)
{
	struct simctl *s = *state;
	struct timespec t0;
	int i;

	for (i = 0; i < 31; i++)
		simctl_chat(s, 100 + i, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 31; i++)
		assert_true(send_ok(s, 100 + i, "broadcast"));
	/* 31 sends inside one second: the 31st breaks the 30/s limit. */
	if (elapsed_ms(&t0) < 900) {
		assert_int_equal(counter(s, "breaches_global"), 1);
		assert_int_equal(counter(s, "breaches_chat"), 0);
	} else {
		print_message("31 sends took %ld ms: too slow to check the window\n", elapsed_ms(&t0));
	}
	assert_int_equal(counter(s, "sent"), 31);
}

static void t_enforce(void **state)
{
	struct simctl *s = *state;
	struct timespec t0;
	struct call c;
	int i;

	for (i = 0; i < 40; i++)
		simctl_chat(s, 200 + i, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_true(send_ok(s, 200, "one"));
	/* Too soon for the same chat: refused, not delivered. */
	send_text(s, 200, "too soon", &c);
	assert_error(&c, 429, "Too Many Requests: retry after 1");
	assert_int_equal(num(cJSON_GetObjectItem(c.json, "parameters"), "retry_after"), 1);
	assert_string_equal(c.r.retry_after, "1");
	call_free(&c);
	assert_int_equal(counter(s, "breaches_chat"), 1);
	assert_int_equal(simctl_wait_sent(s, 200, 1, 0), 1);
	for (i = 1; i < 30; i++)
		assert_true(send_ok(s, 200 + i, "x"));
	send_text(s, 230, "31st", &c);
	/* Thirty accepted within the second: the next one is refused. Only
	 * checkable when this machine sent them fast enough. */
	if (elapsed_ms(&t0) < 900) {
		assert_error(&c, 429, "Too Many Requests: retry after 1");
		assert_int_equal(counter(s, "breaches_global"), 1);
		assert_int_equal(counter(s, "sent"), 30);
	} else {
		print_message("31 sends took %ld ms: too slow to check the window\n", elapsed_ms(&t0));
	}
	call_free(&c);
}

/* ---- state ------------------------------------------------------------ */

static void t_stats_and_reset(void **state)
{
	struct simctl *s = *state;
	cJSON *st;
	int64_t before, after, ids[4];

	before = simctl_message(s, CHAT, "one");
	assert_true(send_ok(s, CHAT, "answer"));
	assert_int_equal(simctl_fault(s, "500", 3, 0, "getFile"), 0);
	st = simctl_stats(s);
	assert_non_null(st);
	assert_int_equal(num(st, "sent"), 1);
	assert_int_equal(num(st, "pending"), 1);
	assert_int_equal(num(st, "faults_left"), 3);
	assert_int_equal(num(st, "rejected"), 0);
	assert_int_equal(num(st, "get_updates"), 0);
	assert_int_equal(num(st, "breaches_chat"), 0);
	assert_int_equal(num(st, "breaches_global"), 0);
	assert_int_equal(num(st, "callbacks_answered"), 0);
	assert_int_equal(num(st, "files_downloaded"), 0);
	assert_int_equal(num(st, "confirmed_offset"), 0);
	cJSON_Delete(st);

	assert_int_equal(simctl_reset(s), 0);
	assert_int_equal(counter(s, "sent"), 0);
	assert_int_equal(counter(s, "pending"), 0);
	assert_int_equal(counter(s, "faults_left"), 0);
	assert_int_equal(simctl_wait_sent(s, 0, 0, 0), 0);
	/* Chats are forgotten too... */
	expect_error(s, "sendMessage", "{\"chat_id\":4242,\"text\":\"hi\"}", 400,
	             "Bad Request: chat not found");
	/* ...but update ids keep growing, so a bot's stored offset stays valid. */
	after = simctl_message(s, CHAT, "two");
	assert_true(after > before);
	assert_int_equal(get_updates(s, 0, 0, 0, ids, 4, NULL), 1);
	assert_int_equal(ids[0], after);
}

static void t_block(void **state)
{
	struct simctl *s = *state;
	struct call c;
	const cJSON *cm, *m;
	int64_t ids[4];

	simctl_message(s, CHAT, "hi");
	assert_true(simctl_block(s, CHAT, 1) > 0);
	/* Blocking twice changes nothing and sends nothing. */
	assert_int_equal(simctl_block(s, CHAT, 1), 0);
	api(s, "getUpdates", "{\"offset\":-1}", 0, &c);
	cm = cJSON_GetObjectItem(cJSON_GetArrayItem(result(&c), 0), "my_chat_member");
	assert_non_null(cm);
	assert_string_equal(str(cJSON_GetObjectItem(cm, "old_chat_member"), "status"), "member");
	assert_string_equal(str(cJSON_GetObjectItem(cm, "new_chat_member"), "status"), "kicked");
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cm, "new_chat_member"), "user"),
	                                "is_bot")->type == cJSON_True);
	call_free(&c);
	expect_error(s, "sendMessage", "{\"chat_id\":4242,\"text\":\"hi\"}", 403,
	             "Forbidden: bot was blocked by the user");

	/* Writing again means unblocking first, and Telegram says so first. */
	simctl_message(s, CHAT, "I'm back");
	api(s, "getUpdates", "{\"offset\":-2}", 0, &c);
	assert_int_equal(cJSON_GetArraySize(result(&c)), 2);
	cm = cJSON_GetObjectItem(cJSON_GetArrayItem(result(&c), 0), "my_chat_member");
	assert_string_equal(str(cJSON_GetObjectItem(cm, "new_chat_member"), "status"), "member");
	m = cJSON_GetObjectItem(cJSON_GetArrayItem(result(&c), 1), "message");
	assert_string_equal(str(m, "text"), "I'm back");
	call_free(&c);
	assert_true(send_ok(s, CHAT, "welcome back"));
	assert_true(simctl_block(s, CHAT, 1) > 0);
	assert_true(simctl_block(s, CHAT, 0) > 0);
	assert_int_equal(get_updates(s, -2, 0, 0, ids, 4, NULL), 2);
	assert_true(send_ok(s, CHAT, "unblocked"));
}

/* The simulator's updates are what the project's parser expects. */
static int count_event(void *arg, int rc, const struct inbound_event *ev, unsigned flags,
                       const cJSON *update)
{
	int *kinds = arg;

	(void)flags;
	(void)update;
	if (rc == 0)
		kinds[ev->kind]++;
	return 0;
}

static void t_parser_agrees(void **state)
{
	struct simctl *s = *state;
	struct telegram_updates u;
	struct call c;
	int kinds[EVENT_OTHER + 1] = {0};
	const cJSON *ents;

	simctl_message(s, CHAT, "/start ABC123");
	simctl_message(s, CHAT, "gewoon tekst");
	simctl_button(s, CHAT, "ap:1:1", 0);
	simctl_photo(s, CHAT, 40000, "pasfoto");
	simctl_document_gen(s, CHAT, "pdf", 10000);
	simctl_voice(s, CHAT, 3);
	simctl_location(s, CHAT);
	simctl_block(s, CHAT, 1);
	simctl_block(s, CHAT, 0);
	api(s, "getUpdates", "{}", 0, &c);
	assert_true(is_ok(&c));
	ents = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(result(&c), 0), "message"), "entities");
	assert_int_equal(cJSON_GetArraySize(ents), 1);
	assert_string_equal(str(cJSON_GetArrayItem(ents, 0), "type"), "bot_command");
	assert_int_equal(num(cJSON_GetArrayItem(ents, 0), "offset"), 0);
	assert_int_equal(num(cJSON_GetArrayItem(ents, 0), "length"), 6);
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(result(&c), 1), "message"),
	                                "entities"));

	memset(&u, 0, sizeof(u));
	u.fn = count_event;
	u.arg = kinds;
	assert_int_equal(telegram_api_parse_updates(c.r.body, c.r.len, 200, &u), 0);
	assert_int_equal(u.usable, 9);
	assert_int_equal(u.malformed, 0);
	assert_int_equal(kinds[EVENT_TEXT], 2);
	assert_int_equal(kinds[EVENT_BUTTON], 1);
	assert_int_equal(kinds[EVENT_MEDIA], 3);
	assert_int_equal(kinds[EVENT_LOCATION], 1);
	assert_int_equal(kinds[EVENT_BLOCKED], 1);
	assert_int_equal(kinds[EVENT_UNBLOCKED], 1);
	call_free(&c);
}

static void t_raw_and_allowed(void **state)
{
	struct simctl *s = *state;
	struct call c;
	int64_t id, ids[8];

	/* Without update_id one is assigned; a given one is kept. */
	id = simctl_raw(s, "{\"edited_message\":{\"message_id\":1,\"date\":1700000000,"
	                   "\"edit_date\":1700000100,\"chat\":{\"id\":4242,\"type\":\"private\"},\"text\":\"x\"}}");
	assert_true(id > 0);
	assert_int_equal(simctl_raw(s, "{\"update_id\":900000000,\"message\":{\"message_id\":5,"
	                               "\"date\":1700000000,\"chat\":{\"id\":-100,\"type\":\"group\"},\"text\":\"g\"}}"),
	                 900000000);
	/* Not even an object: delivered as it is, for parser tests. */
	assert_true(simctl_raw(s, "\"not an update\"") > 900000000);
	api(s, "getUpdates", "{}", 0, &c);
	assert_int_equal(cJSON_GetArraySize(result(&c)), 3);
	assert_int_equal(num(cJSON_GetArrayItem(result(&c), 0), "update_id"), id);
	assert_true(cJSON_IsString(cJSON_GetArrayItem(result(&c), 2)));
	call_free(&c);
	/* Confirming above the raw ids forgets them all. */
	assert_int_equal(get_updates(s, 900000002, 0, 0, ids, 8, NULL), 0);
	assert_int_equal(counter(s, "pending"), 0);

	/* allowed_updates filters later updates, like Telegram. */
	api(s, "getUpdates", "{\"allowed_updates\":[\"message\"]}", 0, &c);
	assert_true(is_ok(&c));
	call_free(&c);
	assert_int_equal(simctl_button(s, CHAT, "x", 0), 0);
	assert_true(simctl_message(s, CHAT, "kept") > 0);
	assert_int_equal(get_updates(s, 0, 0, 0, ids, 8, NULL), 1);
	/* By default chat_member updates are left out. */
	api(s, "getUpdates", "{\"allowed_updates\":[]}", 0, &c);
	call_free(&c);
	assert_int_equal(simctl_raw(s, "{\"chat_member\":{}}"), 0);
	assert_true(simctl_button(s, CHAT, "y", 0) > 0);
}

/* ---- the page and the log --------------------------------------------- */

static void t_chat_page(void **state)
{
	struct simctl *s = *state;
	struct simctl_resp r;
	CURL *c = curl_easy_init();
	struct curl_header *h;
	char url[128];
	FILE *devnull = fopen("/dev/null", "w");

	assert_int_equal(simctl_http(s, "GET", "/chat", NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "text/html; charset=utf-8");
	assert_non_null(strstr(r.body, "textContent"));
	assert_null(strstr(r.body, "innerHTML"));
	assert_null(strstr(r.body, "http://"));
	assert_null(strstr(r.body, "https://"));
	simctl_resp_free(&r);

	/* The CSP: nothing but this page's own nonce'd script and style. */
	snprintf(url, sizeof(url), "%s/chat", simctl_base(s));
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	assert_int_equal(curl_easy_header(c, "Content-Security-Policy", 0, CURLH_HEADER, -1, &h), CURLHE_OK);
	assert_non_null(strstr(h->value, "default-src 'none'"));
	assert_non_null(strstr(h->value, "script-src 'nonce-"));
	assert_non_null(strstr(h->value, "connect-src 'self'"));
	assert_null(strstr(h->value, "unsafe"));
	assert_int_equal(curl_easy_header(c, "X-Content-Type-Options", 0, CURLH_HEADER, -1, &h), CURLHE_OK);
	curl_easy_cleanup(c);
	fclose(devnull);

	/* Control POSTs from another site's page are refused; "curl -d"
	 * (form content type, no Origin) and the page itself are welcome. */
	{
		static const char *const origins[] = {"Origin: http://evil.example", NULL, "SELF"};
		struct curl_slist *hdrs;
		char self[128];
		long status = 0;
		size_t i;

		for (i = 0; i < 3; i++) {
			c = curl_easy_init();
			hdrs = NULL;
			if (origins[i] != NULL && strcmp(origins[i], "SELF") == 0) {
				snprintf(self, sizeof(self), "Origin: %s", simctl_base(s));
				hdrs = curl_slist_append(hdrs, self);
			} else if (origins[i] != NULL) {
				hdrs = curl_slist_append(hdrs, origins[i]);
			}
			snprintf(url, sizeof(url), "%s/control/message", simctl_base(s));
			curl_easy_setopt(c, CURLOPT_URL, url);
			curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, "{\"chat_id\":1,\"text\":\"x\"}");
			curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
			devnull = fopen("/dev/null", "w");
			curl_easy_setopt(c, CURLOPT_WRITEDATA, devnull);
			assert_int_equal(curl_easy_perform(c), CURLE_OK);
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
			assert_int_equal(status, i == 0 ? 403 : 200);
			curl_easy_cleanup(c);
			curl_slist_free_all(hdrs);
			fclose(devnull);
		}
	}
	assert_int_equal(counter(s, "pending"), 2);
}

static void t_log_has_no_token(void **state)
{
	struct simctl *s = *state;
	char line[2048], *bytes;
	size_t len = 0;
	int lines = 0;
	FILE *fp;

	simctl_message(s, CHAT, "secret family text");
	assert_true(send_ok(s, CHAT, "another secret"));
	expect_error(s, "nope", "{}", 404, "Not Found");
	simctl_photo(s, CHAT, 1000, NULL);
	bytes = fetch_file(s, "AgACAgQAAxkBAAI000000000003Sim", &len);
	assert_int_equal(len, 1000);
	free(bytes);
	fp = fopen(simctl_log(s), "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		assert_null(strstr(line, "TEST-token_x"));
		assert_null(strstr(line, "secret"));
		lines++;
	}
	fclose(fp);
	assert_true(lines >= 5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(t_get_me_and_auth, setup, teardown),
		cmocka_unit_test_setup_teardown(t_offset_confirmation, setup, teardown),
		cmocka_unit_test_setup_teardown(t_offset_in_the_future, setup, teardown),
		cmocka_unit_test_setup_teardown(t_bot_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(t_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(t_long_poll_wakes, setup, teardown),
		cmocka_unit_test_setup_teardown(t_long_poll_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(t_conflict, setup, teardown),
		cmocka_unit_test_setup_teardown(t_send_validations, setup, teardown),
		cmocka_unit_test_setup_teardown(t_edit_message_text, setup, teardown),
		cmocka_unit_test_setup_teardown(t_message_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(t_answer_callback_once, setup, teardown),
		cmocka_unit_test_setup_teardown(t_files, setup, teardown),
		cmocka_unit_test_setup_teardown(t_file_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(t_fault_429, setup, teardown),
		cmocka_unit_test_setup_teardown(t_fault_500, setup, teardown),
		cmocka_unit_test_setup_teardown(t_fault_slow, setup, teardown),
		cmocka_unit_test_setup_teardown(t_fault_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(t_fault_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(t_fault_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(t_breach_chat, setup, teardown),
		cmocka_unit_test_setup_teardown(t_breach_global, setup, teardown),
		cmocka_unit_test_setup_teardown(t_enforce, setup_enforce, teardown),
		cmocka_unit_test_setup_teardown(t_stats_and_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(t_block, setup, teardown),
		cmocka_unit_test_setup_teardown(t_parser_agrees, setup, teardown),
		cmocka_unit_test_setup_teardown(t_raw_and_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(t_chat_page, setup, teardown),
		cmocka_unit_test_setup_teardown(t_log_has_no_token, setup, teardown),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests_name("sim", tests, NULL, NULL);
}
