/* The gateway contract: what the outbox does with each outcome a gateway
 * can report. The suite runs in-process (bot/outbox.c on a libuv loop, the
 * real store) against a fake gateway (tests/support/fakegw.c) that counts
 * its calls and answers each send as the test scripts it: sent, 429 with
 * retry_after, 5xx, a timeout, 403 blocked, 400, a text in parts, a file
 * after its text, Details as an edit in place where the gateway declares
 * it can edit and as a new message where it does not. No simulator, no
 * pauses: a retry is brought forward by moving the row's not_before, and
 * the loop runs until the outcome shows.
 *
 * The same tests then run against the real Telegram gateway talking to
 * build/tgsim (group contract_telegram): a spy (tests/support/spygw.c)
 * keeps the calls as the fake does, and each scripted outcome becomes what
 * the simulator does (a 429, 500 or 400 fault, a blocked chat, an answer
 * slower than send_timeout). A split there is Telegram's own, of a text
 * longer than 4096 characters, and Details are edited with
 * editMessageText. The tests that script what only the fake can do (a
 * whole message sent as a template, WhatsApp's outcomes) run against the
 * fake only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/config.h"
#include "bot/outbox.h"
#include "locales/locale.h"
#include "store/store.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/telegram.h"
#include "bot/gateways/telegram_api.h"
#include "bot/net/http_client.h"
#include "tests/support/fakegw.h"
#include "tests/support/inproc.h"
#include "tests/support/simctl.h"
#include "tests/support/spygw.h"
#include "tests/support/testenv.h"

#define FAMILY_CHAT "1001"
#define STAFF_CHAT "9001"
#define TG_TOKEN "123456:CONTRACT-token"

struct cfx {
	struct testenv env;
	struct inproc_core d;
	struct fakegw fake;          /* the fake, or the spy on the real gateway */
	uv_timer_t watchdog;
	struct simctl *sim;          /* the Telegram group: tgsim */
	struct http_client *http;
	struct gateway_env genv;
};

#define q(c, ...) inproc_q((c)->d.store, __VA_ARGS__)
#define exec(c, sql) inproc_exec((c)->d.store, (sql))
#define RUN_UNTIL(c, cond) INPROC_RUN_UNTIL(&(c)->d.loop, &(c)->watchdog, cond)

/* The gateway the daemon would hold for the channel kind, in its list,
 * declaring that it carries buttons and files, with limits fast enough
 * that parts do not wait a second. */
static void attach(struct cfx *c, struct gateway *gw)
{
	gw->caps.buttons_max = COMPOSE_BUTTONS_MAX;
	gw->caps.button_title_max = 64;
	gw->caps.button_data_max = 64;
	gw->caps.media_send = GATEWAY_MEDIA_ALL;
	gw->caps.media_receive = GATEWAY_MEDIA_ALL;
	gw->caps.rate_per_chat = 50.0;
	gw->caps.rate_global = 100.0;
	c->d.gateways[c->d.ngateways++] = gw;
}

/* The store, configuration and catalogs of a family F-1 with counsellor
 * Sara, and their two chats; extra_ini follows [casebot]. */
static struct cfx *setup_common(const char *extra_ini)
{
	struct cfx *c = calloc(1, sizeof(*c));
	char err[256], ini[512];
	long long now = (long long)time(NULL);
	char sql[1024];

	snprintf(ini, sizeof(ini), "quiet_hours = off\n%s", extra_ini != NULL ? extra_ini : "");
	if (c == NULL || testenv_setup(&c->env, time(NULL), ini) != 0)
		return NULL;
	if (testenv_cli(&c->env, "init", NULL) != 0 ||
	    testenv_cli(&c->env, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl", NULL) != 0 ||
	    testenv_cli(&c->env, "family", "add", "F-1", "--lang", "nl", "--counsellor", "Sara", NULL) != 0)
		return NULL;
	if (config_load(&c->d.cfg, c->env.conf, err, sizeof(err)) != 0 ||
	    store_open(c->d.cfg.data_dir, 0, &c->d.store, err, sizeof(err)) != 0 ||
	    locale_load(CASEBOT_LOCALES_DIR, &c->d.loc, err, sizeof(err)) != 0 ||
	    uv_loop_init(&c->d.loop) != 0)
		return NULL;
	uv_timer_init(&c->d.loop, &c->watchdog);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO channels (id, family_id, kind, address, verified, created_at) VALUES"
		 " (1, 1, 'telegram', '" FAMILY_CHAT "', 1, %lld);"
		 "INSERT INTO channels (id, staff_id, kind, address, verified, created_at, confirmed_at) VALUES"
		 " (2, 1, 'telegram', '" STAFF_CHAT "', 1, %lld, %lld);", now, now, now);
	exec(c, sql);
	return c;
}

static int setup(void **state)
{
	struct cfx *c = setup_common(NULL);

	if (c == NULL)
		return -1;
	fakegw_init(&c->fake, &c->d.loop, "telegram");
	attach(c, &c->fake.gw);
	*state = c;
	return 0;
}

/* The real Telegram gateway against tgsim, seen through the spy. Its
 * capabilities are its own; only its rates are raised, as the fake's are,
 * so that parts do not wait (tgsim counts, and does not refuse, what
 * goes faster than Telegram allows). */
static int setup_telegram_with(void **state, const char *more_ini)
{
	struct simctl *sim = calloc(1, sizeof(*sim));
	struct gateway *real;
	struct cfx *c;
	char ini[256], err[256];

	if (sim == NULL || simctl_start(sim, TG_TOKEN, NULL) != 0) {
		free(sim);
		return -1;
	}
	setenv("CASEBOT_TELEGRAM_TOKEN", TG_TOKEN, 1);
	snprintf(ini, sizeof(ini), "[telegram]\napi_base = %s\n%s", simctl_base(sim), more_ini);
	if ((c = setup_common(ini)) == NULL || (c->http = http_client_new(&c->d.loop)) == NULL)
		return -1;
	c->sim = sim;
	c->genv = (struct gateway_env){.loop = &c->d.loop, .cfg = &c->d.cfg, .store = c->d.store,
				       .loc = &c->d.loc, .metrics = &c->d.metrics, .http = c->http};
	if ((real = gateway_telegram_new(&c->genv, err, sizeof(err))) == NULL ||
	    spygw_wrap(&c->fake, &c->d.loop, real) != 0)
		return -1;
	c->fake.gw.caps.rate_per_chat = 50.0;
	c->fake.gw.caps.rate_global = 100.0;
	c->d.gateways[c->d.ngateways++] = &c->fake.gw;
	if (simctl_chat(sim, 1001, "Amina") != 0 || simctl_chat(sim, 9001, "Sara") != 0)
		return -1;
	*state = c;
	return 0;
}

static int setup_telegram(void **state)
{
	return setup_telegram_with(state, "");
}

/* A send that waits more than a second for its answer times out. */
static int setup_telegram_timeout(void **state)
{
	return setup_telegram_with(state, "send_timeout = 1s\n");
}

/* What the test scripts, as the gateway under test can be made to do it;
 * the last_error the row then carries. */
static const char *script(struct cfx *c, enum gateway_outcome outcome, int retry_after,
			  const char *reason)
{
	static char want[160];

	if (c->sim == NULL) {
		assert_non_null(fakegw_push(&c->fake, outcome, retry_after, reason));
		return reason;
	}
	switch (outcome) {
	case GW_RETRY_AFTER:
		assert_int_equal(simctl_fault(c->sim, "429", 1, retry_after, "sendMessage"), 0);
		snprintf(want, sizeof(want), "telegram 429: Too Many Requests: retry after %d", retry_after);
		return want;
	case GW_TRANSIENT:
		if (strcmp(reason, "timed out") == 0) {
			/* Answered after three seconds: the gateway gave up at one. */
			assert_int_equal(simctl_fault(c->sim, "slow", 1, 3000, "sendMessage"), 0);
			return "timeout";
		}
		assert_int_equal(simctl_fault(c->sim, "500", 1, 0, "sendMessage"), 0);
		return "telegram 500: Internal Server Error";
	case GW_BLOCKED:
		assert_true(simctl_block(c->sim, 1001, 1) > 0);
		return "telegram 403: Forbidden: bot was blocked by the user";
	case GW_PERMANENT:
		assert_int_equal(simctl_fault(c->sim, "400", 1, 0, "sendMessage"), 0);
		return "telegram 400: Bad Request: message text is empty";
	default:
		fail_msg("no way to make tgsim answer outcome %d", (int)outcome);
	}
	return NULL;
}

static int teardown(void **state)
{
	struct cfx *c = *state;

	/* A real gateway's answers come from the network: let the last ones
	 * reach the outbox before it goes. */
	if (c->sim != NULL)
		RUN_UNTIL(c, c->fake.pending == 0);
	if (c->d.outbox != NULL)
		outbox_close(c->d.outbox);
	if (c->sim != NULL) {
		c->fake.gw.ops->free(&c->fake.gw);
		http_client_close(c->http, NULL, NULL);
	}
	uv_close((uv_handle_t *)&c->watchdog, NULL);
	uv_run(&c->d.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c->d.loop), 0);
	if (c->sim != NULL) {
		/* tgsim must answer SIGTERM with exit 0. */
		assert_int_equal(simctl_stop(c->sim), 0);
		free(c->sim);
	}
	store_close(c->d.store);
	locale_free(c->d.loc);
	testenv_teardown(&c->env);
	free(c);
	return 0;
}

/* A notice for the family, due now; its id. */
static long long queue_notice(struct cfx *c)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, not_before,"
		 " created_at, updated_at) VALUES (1, 1, 'notice', 'forward.ack', %lld, %lld, %lld)",
		 (long long)time(NULL), (long long)time(NULL), (long long)time(NULL));
	exec(c, sql);
	return q(c, "SELECT max(id) FROM outbox");
}

static void start(struct cfx *c)
{
	c->d.outbox = inproc_outbox(&c->d);
	assert_non_null(c->d.outbox);
}

/* The retry the outbox planned is due now. */
static void bring_forward(struct cfx *c, long long id)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "UPDATE outbox SET not_before = %lld WHERE id = %lld", (long long)time(NULL), id);
	exec(c, sql);
	outbox_kick(c->d.outbox);
}

static const char *status(struct cfx *c, long long id)
{
	static char buf[32];
	sqlite3_stmt *s;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(store_db(c->d.store), "SELECT status FROM outbox WHERE id = ?", -1, &s,
					    NULL), SQLITE_OK);
	sqlite3_bind_int64(s, 1, id);
	if (sqlite3_step(s) == SQLITE_ROW)
		snprintf(buf, sizeof(buf), "%s", (const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	return buf;
}

/* Calls (parts and files) addressed to address. */
static int calls_to(const struct cfx *c, const char *address)
{
	int n = 0;

	for (int i = 0; i < c->fake.ncalls; i++)
		n += strcmp(c->fake.calls[i].address, address) == 0;
	return n;
}

static int ended(struct cfx *c, long long id)
{
	const char *st = status(c, id);

	return strcmp(st, "queued") != 0 && strcmp(st, "sending") != 0;
}

/* Sent: one call, the row sent with the gateway's id, the family file
 * shows it. */
static void test_sent(void **state)
{
	struct cfx *c = *state;
	long long id = queue_notice(c);

	start(c);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "sent");
	assert_int_equal(c->fake.sends, 1);
	assert_string_equal(c->fake.calls[0].address, FAMILY_CHAT);
	assert_int_equal(q(c, "SELECT attempts FROM outbox WHERE id = %lld", id), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND gateway_message_id = '1'", id), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM contact_log WHERE direction = 'out' AND status = 'sent'"), 1);
}

/* 429: nothing goes to that chat before retry_after; then it goes. */
static void test_retry_after(void **state)
{
	struct cfx *c = *state;
	long long id = queue_notice(c);
	time_t before = time(NULL);

	script(c, GW_RETRY_AFTER, 2, "Too Many Requests");
	start(c);
	RUN_UNTIL(c, c->fake.answered == 1 && strcmp(status(c, id), "queued") == 0);
	assert_true(q(c, "SELECT not_before FROM outbox WHERE id = %lld", id) >= (long long)before + 2);
	/* Due again at once: the gateway's word still holds the chat. */
	bring_forward(c, id);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "sent");
	assert_int_equal(c->fake.sends, 2);
	assert_true(c->fake.calls[1].at_ms - c->fake.calls[0].at_ms >= 2000);
	assert_int_equal(q(c, "SELECT attempts FROM outbox WHERE id = %lld", id), 2);
}

/* 5xx and a timeout: back off, then sent; the error is on the row. */
static void transient_then_sent(struct cfx *c, const char *reason)
{
	long long id = queue_notice(c);
	time_t before = time(NULL);

	const char *want = script(c, GW_TRANSIENT, 0, reason);

	start(c);
	RUN_UNTIL(c, c->fake.answered == 1 && strcmp(status(c, id), "queued") == 0);
	assert_true(q(c, "SELECT not_before FROM outbox WHERE id = %lld", id) >= (long long)before + 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND last_error = '%s'", id, want), 1);
	assert_int_equal(c->fake.sends, 1);
	bring_forward(c, id);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "sent");
	assert_int_equal(c->fake.sends, 2);
	assert_int_equal(q(c, "SELECT attempts FROM outbox WHERE id = %lld", id), 2);
}

static void test_server_error(void **state)
{
	transient_then_sent(*state, "HTTP 502");
}

static void test_timeout(void **state)
{
	transient_then_sent(*state, "timed out");
}

/* An attempt that fails once the message is no longer worth sending (its
 * deadline, set at its first failure, has passed) ends the row, and staff
 * hear of it. */
static void test_transient_gives_up(void **state)
{
	struct cfx *c = *state;
	long long id = queue_notice(c);
	char sql[128];

	snprintf(sql, sizeof(sql), "UPDATE outbox SET attempts = 7, give_up_at = %lld WHERE id = %lld",
		 (long long)time(NULL) - 1, id);
	exec(c, sql);
	script(c, GW_TRANSIENT, 0, "HTTP 500");
	start(c);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "failed");
	assert_int_equal(q(c, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"), 1);
}

/* 403: the chat is marked blocked, the row fails, the counsellor hears;
 * the next message to that chat is not tried. */
static void test_blocked(void **state)
{
	struct cfx *c = *state;
	long long id = queue_notice(c), next;

	script(c, GW_BLOCKED, 0, "Forbidden: bot was blocked by the user");
	start(c);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "failed");
	assert_int_equal(q(c, "SELECT blocked FROM channels WHERE id = 1"), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"), 1);
	next = queue_notice(c);
	outbox_kick(c->d.outbox);
	RUN_UNTIL(c, ended(c, next));
	assert_string_equal(status(c, next), "failed");
	assert_int_equal(calls_to(c, FAMILY_CHAT), 1);
	/* The counsellor's chat was told. */
	RUN_UNTIL(c, calls_to(c, STAFF_CHAT) >= 1);
}

/* 400: that message only fails, at once; the chat stays open. */
static void test_permanent(void **state)
{
	struct cfx *c = *state;
	long long id = queue_notice(c);

	script(c, GW_PERMANENT, 0, "Bad Request: message text is empty");
	start(c);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "failed");
	assert_int_equal(q(c, "SELECT attempts FROM outbox WHERE id = %lld", id), 1);
	assert_int_equal(q(c, "SELECT blocked FROM channels WHERE id = 1"), 0);
	assert_int_equal(q(c, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"), 1);
	assert_int_equal(calls_to(c, FAMILY_CHAT), 1);
	RUN_UNTIL(c, calls_to(c, STAFF_CHAT) >= 1);
}

/* A forward to staff: its text in parts the gateway's split() cut, in
 * order, the buttons on the last; then the file by its reference. The fake
 * cuts at 64 bytes; Telegram at 4096 characters, so its text is longer. */
static void test_split_and_media(void **state)
{
	struct cfx *c = *state;
	size_t part_max = c->sim == NULL ? 64 : TELEGRAM_TEXT_MAX_UNITS, cap = 3 * part_max + 2048, total = 0;
	char *sql = malloc(cap + 1024), *text = malloc(cap), whole[2048] = "";
	long long id;
	int texts = 0;

	assert_non_null(sql);
	assert_non_null(text);
	snprintf(text, cap, "%s", "een heel lang bericht over de school van mijn zoon en de afspraak bij de dokter"
		 " volgende week dinsdag");
	while (strlen(text) < 2 * part_max + 100)
		strcat(text, " en nog meer woorden over de school");
	snprintf(sql, cap + 1024, "INSERT INTO outbox (family_id, staff_id, channel_id, kind, catalog_key, params,"
		 " not_before, created_at, updated_at) VALUES (1, 1, 2, 'forward', 'staff.forward.header',"
		 " '{\"ref\":\"F-1\",\"member\":\"Amina\",\"text\":\"%s\",\"media_kind\":\"photo\","
		 "\"media_ref\":\"PHOTO-REF-1\",\"channel_id\":\"1\",\"alert_id\":\"1\"}', %lld, %lld, %lld)",
		 text, (long long)time(NULL), (long long)time(NULL), (long long)time(NULL));
	exec(c, sql);
	id = q(c, "SELECT max(id) FROM outbox");
	if (c->sim == NULL)
		fakegw_set_part_max(64);
	start(c);
	RUN_UNTIL(c, ended(c, id));
	fakegw_set_part_max(0);
	assert_string_equal(status(c, id), "sent");
	assert_true(c->fake.sends >= 3);
	assert_int_equal(c->fake.media_sends, 1);
	for (int i = 0; i < c->fake.ncalls; i++) {
		const struct fakegw_call *k = &c->fake.calls[i];

		assert_string_equal(k->address, STAFF_CHAT);
		if (k->media) {
			/* The file goes last, after every part of its text. */
			assert_int_equal(i, c->fake.ncalls - 1);
			assert_string_equal(k->text, "PHOTO-REF-1");
			continue;
		}
		texts++;
		assert_true(k->len <= part_max);
		total += k->len;
		/* Buttons only on the last part. */
		assert_int_equal(k->nbuttons > 0, i == c->fake.sends - 1);
		if (strlen(whole) + 2 < sizeof(whole)) {
			strncat(whole, k->text, sizeof(whole) - strlen(whole) - 2);
			strcat(whole, " ");
		}
	}
	assert_int_equal(texts, c->fake.sends);
	assert_true(total >= strlen(text));
	assert_non_null(strstr(whole, "dokter"));
	/* The forward is known by its text's id (the first part's), which
	 * staff answer. */
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND gateway_message_id IS NOT NULL", id), 1);
	assert_int_equal(c->fake.directs, 0);
	free(sql);
	free(text);
}

/* A file the gateway will not pass on: the words went, the row is sent. */
static void test_media_refused(void **state)
{
	struct cfx *c = *state;
	char sql[1024];
	long long id;

	snprintf(sql, sizeof(sql), "INSERT INTO outbox (family_id, staff_id, channel_id, kind, catalog_key, params,"
		 " not_before, created_at, updated_at) VALUES (1, 1, 2, 'forward', 'staff.forward.header',"
		 " '{\"ref\":\"F-1\",\"media_kind\":\"photo\",\"media_ref\":\"GONE\",\"channel_id\":\"1\",\"alert_id\":\"1\"}',"
		 " %lld, %lld, %lld)", (long long)time(NULL), (long long)time(NULL), (long long)time(NULL));
	exec(c, sql);
	id = q(c, "SELECT max(id) FROM outbox");
	/* tgsim refuses a file id it never gave by itself. */
	if (c->sim == NULL)
		fakegw_media_outcome(&c->fake, GW_PERMANENT, "Bad Request: wrong file identifier");
	start(c);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "sent");
	assert_int_equal(c->fake.media_sends, 1);
	/* Known by the text's id, not retried for the file. */
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND gateway_message_id = '1'", id), 1);
	assert_int_equal(q(c, "SELECT attempts FROM outbox WHERE id = %lld", id), 1);
}

/* A gateway that sent the whole message at once in another form (a
 * template in place of free-form text) gets no further part. */
static void test_whole_message(void **state)
{
	struct cfx *c = *state;
	char sql[1024];
	long long id;

	snprintf(sql, sizeof(sql), "INSERT INTO outbox (family_id, staff_id, channel_id, kind, catalog_key, params,"
		 " not_before, created_at, updated_at) VALUES (1, 1, 2, 'forward', 'staff.forward.header',"
		 " '{\"ref\":\"F-1\",\"text\":\"een heel lang bericht over de school van mijn zoon en de afspraak"
		 " bij de dokter volgende week dinsdag\",\"channel_id\":\"1\",\"alert_id\":\"1\"}', %lld, %lld, %lld)",
		 (long long)time(NULL), (long long)time(NULL), (long long)time(NULL));
	exec(c, sql);
	id = q(c, "SELECT max(id) FROM outbox");
	fakegw_push(&c->fake, GW_SENT, 0, "")->whole = 1;
	fakegw_set_part_max(64);
	start(c);
	RUN_UNTIL(c, ended(c, id));
	fakegw_set_part_max(0);
	assert_string_equal(status(c, id), "sent");
	assert_int_equal(c->fake.sends, 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND gateway_message_id = '1'", id), 1);
}

/* A limit on one chat alone (WhatsApp's pair limit) holds that chat, not
 * the others of the gateway. */
static void test_retry_after_chat_only(void **state)
{
	struct cfx *c = *state;
	long long first = queue_notice(c), second;
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO channels (id, family_id, kind, address, verified, created_at) VALUES"
		 " (3, 1, 'telegram', '1002', 1, %lld);"
		 "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, not_before, created_at, updated_at)"
		 " VALUES (1, 3, 'notice', 'forward.ack', %lld, %lld, %lld)",
		 (long long)time(NULL), (long long)time(NULL) + 1, (long long)time(NULL), (long long)time(NULL));
	exec(c, sql);
	second = q(c, "SELECT max(id) FROM outbox");
	fakegw_push(&c->fake, GW_RETRY_AFTER, 30, "pair rate limit hit")->chat_only = 1;
	start(c);
	RUN_UNTIL(c, ended(c, second));
	assert_string_equal(status(c, second), "sent");
	assert_string_equal(status(c, first), "queued");
	assert_true(q(c, "SELECT not_before FROM outbox WHERE id = %lld", first) >= (long long)time(NULL) + 25);
}

/* Not on WhatsApp: the row fails, the chat keeps the reason for the next
 * channel and takes nothing more, the counsellor is told why. */
static void test_unreachable(void **state)
{
	struct cfx *c = *state;
	long long id = queue_notice(c), next;
	struct gateway_result *r;

	r = fakegw_push(&c->fake, GW_UNREACHABLE, 0, "whatsapp 131026: Message Undeliverable.");
	cb_strlcpy(r->why, "unreachable", sizeof(r->why));
	start(c);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "failed");
	assert_int_equal(q(c, "SELECT blocked FROM channels WHERE id = 1"), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM channels WHERE id = 1 AND fallback_reason ="
			      " 'whatsapp 131026: Message Undeliverable.'"), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM alerts WHERE kind = 'undelivered' AND"
			      " json_extract(params, '$.reason') = 'unreachable'"), 1);
	next = queue_notice(c);
	outbox_kick(c->d.outbox);
	RUN_UNTIL(c, ended(c, next));
	assert_int_equal(calls_to(c, FAMILY_CHAT), 1);
}

/* A failure that names its reason (a template WhatsApp refused) tells
 * staff that reason, not the generic one. */
static void test_permanent_why(void **state)
{
	struct cfx *c = *state;
	long long id = queue_notice(c);

	cb_strlcpy(fakegw_push(&c->fake, GW_PERMANENT, 0, "whatsapp 132001: template does not exist")->why,
		   "template", sizeof(c->fake.script[0].why));
	start(c);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "failed");
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND last_error LIKE '%%132001%%'", id), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM alerts WHERE kind = 'undelivered' AND"
			      " json_extract(params, '$.reason') = 'template'"), 1);
}

/* A gateway with a conversation window learns whether the chat wrote
 * within it. */
static void test_window_flag(void **state)
{
	struct cfx *c = *state;
	long long id = queue_notice(c), next;
	char sql[128];

	c->fake.gw.caps.window_seconds = 86400;
	start(c);
	RUN_UNTIL(c, ended(c, id));
	assert_int_equal(c->fake.calls[0].outside_window, 1);
	snprintf(sql, sizeof(sql), "UPDATE channels SET last_inbound_at = %lld WHERE id = 1",
		 (long long)time(NULL) - 25 * 3600);
	exec(c, sql);
	next = queue_notice(c);
	outbox_kick(c->d.outbox);
	RUN_UNTIL(c, ended(c, next));
	assert_int_equal(c->fake.calls[1].outside_window, 1);
	snprintf(sql, sizeof(sql), "UPDATE channels SET last_inbound_at = %lld WHERE id = 1",
		 (long long)time(NULL) - 3600);
	exec(c, sql);
	next = queue_notice(c);
	outbox_kick(c->d.outbox);
	RUN_UNTIL(c, ended(c, next));
	assert_int_equal(c->fake.calls[2].outside_window, 0);
	/* Without a window there is nothing to be outside of. */
	c->fake.gw.caps.window_seconds = 0;
	snprintf(sql, sizeof(sql), "UPDATE channels SET last_inbound_at = NULL WHERE id = 1");
	exec(c, sql);
	next = queue_notice(c);
	outbox_kick(c->d.outbox);
	RUN_UNTIL(c, ended(c, next));
	assert_int_equal(c->fake.calls[3].outside_window, 0);
}

/* A reminder for F-1 in three hours (at the immigration office), sent by
 * the outbox to the family's chat; its row id. The gateway knows it by
 * the id it answered. */
static long long sent_reminder(struct cfx *c)
{
	time_t at = time(NULL) + 3 * 3600;
	char when[32];
	long long id;
	struct tm tm;

	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&c->env, "appointment", "add", "F-1", "--at", when, "--kind",
				     "immigration_office", "--place", "Pachecolaan 44", NULL), 0);
	start(c);
	RUN_UNTIL(c, q(c, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND status = 'sent'") == 1);
	id = q(c, "SELECT id FROM outbox WHERE kind = 'reminder' AND status = 'sent'");
	/* What a locked screen shows: no institution, no place. */
	assert_int_equal(c->fake.sends, 1);
	assert_null(strstr(c->fake.calls[0].text, "Vreemdelingenzaken"));
	assert_null(strstr(c->fake.calls[0].text, "Pachecolaan"));
	return id;
}

/* A Details press for row of, on the family's chat, due now; its id. */
static long long queue_details(struct cfx *c, long long of)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, params, urgent,"
		 " not_before, created_at, updated_at) VALUES (1, 1, 'details', 'button.details', '{\"of\":\"%lld\"}',"
		 " 1, %lld, %lld, %lld)", of, (long long)time(NULL), (long long)time(NULL), (long long)time(NULL));
	exec(c, sql);
	outbox_kick(c->d.outbox);
	return q(c, "SELECT max(id) FROM outbox");
}

/* A gateway that can edit: Details is one edit of the message the gateway
 * knows by its id, to its text with the details, the question's buttons
 * kept and Details gone; nothing new is sent. */
static void test_edit_in_place(void **state)
{
	struct cfx *c = *state;
	const struct fakegw_call *k;
	long long reminder, id;
	char mid[32];

	c->fake.gw.caps.can_edit = 1;
	reminder = sent_reminder(c);
	assert_int_equal(c->fake.calls[0].nbuttons, 4);
	snprintf(mid, sizeof(mid), "%lld", q(c, "SELECT gateway_message_id FROM outbox WHERE id = %lld", reminder));
	id = queue_details(c, reminder);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "sent");
	assert_int_equal(c->fake.edits, 1);
	assert_int_equal(c->fake.sends, 1);
	k = &c->fake.calls[1];
	assert_int_equal(k->media, 2);
	assert_string_equal(k->edited, mid);
	assert_string_equal(k->address, FAMILY_CHAT);
	assert_non_null(strstr(k->text, "\nWat: Dienst Vreemdelingenzaken (DVZ)\nWaar: Pachecolaan 44\n"));
	assert_int_equal(k->nbuttons, 3);
	/* The edited message keeps its id; the question stays the reminder's. */
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND gateway_message_id = '%s'", id, mid), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM questions WHERE outbox_id = %lld", id), 0);
}

/* A gateway that cannot edit gets no edit call: the details come as a new
 * message, even though the fake has an edit op. */
static void test_edit_not_declared(void **state)
{
	struct cfx *c = *state;
	long long reminder, id;

	c->fake.gw.caps.can_edit = 0;
	reminder = sent_reminder(c);
	id = queue_details(c, reminder);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "sent");
	assert_int_equal(c->fake.edits, 0);
	assert_int_equal(c->fake.sends, 2);
	assert_int_equal(c->fake.calls[1].media, 0);
	assert_non_null(strstr(c->fake.calls[1].text, "\nWat: Dienst Vreemdelingenzaken (DVZ)\nWaar: Pachecolaan 44\n"));
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND gateway_message_id = '2'", id), 1);
}

/* Details of another chat's message show nothing; an edit the gateway
 * refuses fails that row only, and alerts nobody. */
static void test_edit_refused(void **state)
{
	struct cfx *c = *state;
	long long reminder, other, id;
	char sql[256];

	c->fake.gw.caps.can_edit = 1;
	reminder = sent_reminder(c);
	snprintf(sql, sizeof(sql), "UPDATE outbox SET channel_id = 2 WHERE id = %lld", reminder);
	exec(c, sql);
	other = queue_details(c, reminder);
	RUN_UNTIL(c, ended(c, other));
	assert_string_equal(status(c, other), "cancelled");
	assert_int_equal(c->fake.edits, 0);
	snprintf(sql, sizeof(sql), "UPDATE outbox SET channel_id = 1 WHERE id = %lld", reminder);
	exec(c, sql);
	if (c->sim == NULL)
		fakegw_push(&c->fake, GW_PERMANENT, 0, "Bad Request: message to edit not found");
	else
		assert_int_equal(simctl_fault(c->sim, "400", 1, 0, "editMessageText"), 0);
	id = queue_details(c, reminder);
	RUN_UNTIL(c, ended(c, id));
	assert_string_equal(status(c, id), "failed");
	assert_int_equal(c->fake.edits, 1);
	assert_int_equal(q(c, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TG(fn) cmocka_unit_test_setup_teardown(fn, setup_telegram, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_sent), T(test_retry_after), T(test_server_error), T(test_timeout),
		T(test_transient_gives_up), T(test_blocked), T(test_permanent), T(test_split_and_media),
		T(test_media_refused), T(test_whole_message), T(test_retry_after_chat_only), T(test_unreachable),
		T(test_permanent_why), T(test_window_flag), T(test_edit_in_place), T(test_edit_not_declared),
		T(test_edit_refused),
	};

	const struct CMUnitTest telegram[] = {
		TG(test_sent), TG(test_retry_after), TG(test_server_error),
		cmocka_unit_test_setup_teardown(test_timeout, setup_telegram_timeout, teardown),
		TG(test_transient_gives_up), TG(test_blocked), TG(test_permanent), TG(test_split_and_media),
		TG(test_media_refused), TG(test_edit_in_place), TG(test_edit_not_declared), TG(test_edit_refused),
	};
	int failed = cmocka_run_group_tests_name("contract_fake", tests, NULL, NULL);

	return failed + cmocka_run_group_tests_name("contract_telegram", telegram, NULL, NULL);
}
