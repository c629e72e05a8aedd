/* The WhatsApp gateway in the running daemon: its section, the webhook's
 * verification and signature, and what a signed POST stores. Each test
 * signs its bodies itself with the app secret (libsodium's HMAC-SHA256)
 * and posts them with libcurl, as Meta does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bot/config.h"
#include "tests/support/dtest.h"
#include "tests/support/testhttp.h"

#define APP_SECRET "0123456789abcdef0123456789abcdef"
#define VERIFY_TOKEN "verify-me-42"

static const char wa_ini[] = "[whatsapp]\n"
			     "phone_number_id = 1234567890\n"
			     "display_number = 32470123456\n"
			     "verify_token = " VERIFY_TOKEN "\n"
			     "webhook_path = wa-hook\n"
			     /* Nothing listens there: no test reaches Meta. */
			     "api_base = http://127.0.0.1:9/v23.0\n";

static int setup(void **state)
{
	setenv("CASEBOT_WHATSAPP_TOKEN", "EAAtest-token", 1);
	setenv("CASEBOT_WHATSAPP_APP_SECRET", APP_SECRET, 1);
	return dt_setup_with(state, wa_ini);
}

/* Starts the daemon and waits until its HTTP server answers. */
static void start(struct dt *t)
{
	long long until;

	dt_start_daemon(t);
	until = dt_now_ms() + 10000;
	while (!dt_port_open(t->http_port) && dt_now_ms() < until)
		dt_sleep_ms(20);
	assert_true(dt_port_open(t->http_port));
}

static void hook_url(struct dt *t, const char *query, char *out, size_t cap)
{
	snprintf(out, cap, "http://127.0.0.1:%d/whatsapp/wa-hook%s", t->http_port, query);
}

/* "X-Hub-Signature-256: sha256=<hex>" of body under secret. */
static void sign(const char *secret, const char *body, char *header, size_t cap)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	char hex[2 * sizeof(mac) + 1];

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(header, cap, "X-Hub-Signature-256: sha256=%s", hex);
}

/* POSTs body signed with secret (NULL: no signature header). */
static long post_signed(struct dt *t, const char *secret, const char *body)
{
	char url[160], h[128];
	const char *headers[] = {h, NULL};

	hook_url(t, "", url, sizeof(url));
	if (secret == NULL)
		return testhttp_post(url, NULL, body, NULL);
	sign(secret, body, h, sizeof(h));
	return testhttp_post(url, headers, body, NULL);
}

static long long metric(struct dt *t, const char *name)
{
	char url[128], *body, *p;
	long long v = -1;
	long st;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", t->http_port);
	body = testhttp_get(url, &st);
	assert_int_equal(st, 200);
	for (p = body; p != NULL && (p = strstr(p, name)) != NULL; p++)
		if ((p == body || p[-1] == '\n') && p[strlen(name)] == ' ') {
			v = atoll(p + strlen(name) + 1);
			break;
		}
	free(body);
	return v;
}

static const char hello[] =
	"{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"8856996819413533\",\"changes\":[{\"value\":"
	"{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"32470123456\","
	"\"phone_number_id\":\"1234567890\"},\"contacts\":[{\"profile\":{\"name\":\"Am\\u00efna\"},"
	"\"wa_id\":\"32486000001\"}],\"messages\":[{\"from\":\"32486000001\",\"id\":\"wamid.HELLO1\","
	"\"timestamp\":\"1790000000\",\"text\":{\"body\":\"Dag \\u00e9\\u00e9n \\ud83d\\ude00\"},\"type\":\"text\"}]},"
	"\"field\":\"messages\"}]}]}";

/* The section: defaults, and values refused with the key named. */
static void test_config(void **state)
{
	struct config cfg;
	char path[400], err[512];
	FILE *fp;

	(void)state;
	config_defaults(&cfg);
	assert_string_equal(cfg.gw.whatsapp.api_base, "https://graph.facebook.com/v23.0");
	assert_string_equal(cfg.gw.whatsapp.webhook_path, "hook");
	assert_string_equal(cfg.gw.whatsapp.phone_number_id, "");
	assert_true(cfg.gw.whatsapp.rate_per_chat > 0.16 && cfg.gw.whatsapp.rate_per_chat < 0.17);
	assert_true(cfg.gw.whatsapp.rate_global == 80.0);

	snprintf(path, sizeof(path), "/tmp/casebot-wa-%d.conf", (int)getpid());
	fp = fopen(path, "w");
	fputs("[whatsapp]\nphone_number_id = 12ab\n", fp);
	fclose(fp);
	assert_int_not_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "phone_number_id"));
	fp = fopen(path, "w");
	fputs("[whatsapp]\nwebhook_path = ../admin\n", fp);
	fclose(fp);
	assert_int_not_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "webhook_path"));
	/* A number without the token Meta's verification echoes. */
	fp = fopen(path, "w");
	fputs("[whatsapp]\nphone_number_id = 1234\n", fp);
	fclose(fp);
	assert_int_not_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "verify_token"));
	fp = fopen(path, "w");
	fputs("[whatsapp]\nphone_number_id = 1234\nverify_token = x\napi_base = http://127.0.0.1:9/v23.0\n"
	      "display_number = 32470123456\nrate_per_chat = 0.2\n", fp);
	fclose(fp);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), 0);
	assert_string_equal(cfg.gw.whatsapp.api_base, "http://127.0.0.1:9/v23.0");
	assert_string_equal(cfg.gw.whatsapp.display_number, "32470123456");
	assert_true(cfg.gw.whatsapp.rate_per_chat == 0.2);
	unlink(path);
}

/* GET verification: the right token echoes the challenge; anything else
 * is 403 and echoes nothing. */
static void test_verification(void **state)
{
	struct dt *t = *state;
	char url[400], *body;
	long st;

	start(t);
	hook_url(t, "?hub.mode=subscribe&hub.verify_token=" VERIFY_TOKEN "&hub.challenge=1158201444", url,
		 sizeof(url));
	body = testhttp_get(url, &st);
	assert_int_equal(st, 200);
	assert_string_equal(body, "1158201444");
	free(body);
	/* Percent-encoded as Meta may send it. */
	hook_url(t, "?hub.challenge=77&hub.verify_token=verify%2Dme%2D42&hub.mode=subscribe", url, sizeof(url));
	body = testhttp_get(url, &st);
	assert_int_equal(st, 200);
	assert_string_equal(body, "77");
	free(body);
	hook_url(t, "?hub.mode=subscribe&hub.verify_token=verify-me-43&hub.challenge=1158201444", url, sizeof(url));
	body = testhttp_get(url, &st);
	assert_int_equal(st, 403);
	assert_null(strstr(body != NULL ? body : "", "1158201444"));
	free(body);
	hook_url(t, "?hub.mode=unsubscribe&hub.verify_token=" VERIFY_TOKEN "&hub.challenge=5", url, sizeof(url));
	free(testhttp_get(url, &st));
	assert_int_equal(st, 403);
	hook_url(t, "?hub.mode=subscribe&hub.verify_token=verify-me-4&hub.challenge=5", url, sizeof(url));
	free(testhttp_get(url, &st));
	assert_int_equal(st, 403);
	hook_url(t, "", url, sizeof(url));
	free(testhttp_get(url, &st));
	assert_int_equal(st, 403);
	assert_int_equal(metric(t, "casebot_webhook_refused_total"), 4);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A POST without the app secret's signature is refused, counted, and
 * leaves nothing behind. */
static void test_forged(void **state)
{
	struct dt *t = *state;
	char url[160], h[128];
	const char *headers[] = {h, NULL};

	start(t);
	assert_int_equal(post_signed(t, NULL, hello), 401);
	assert_int_equal(post_signed(t, "0123456789abcdef0123456789abcdee", hello), 401);
	/* The right secret over other bytes: one accent escaped otherwise. */
	hook_url(t, "", url, sizeof(url));
	sign(APP_SECRET, hello, h, sizeof(h));
	{
		char *other = strdup(hello);

		memcpy(strstr(other, "\\u00e9"), "\\u00E9", 6);
		assert_int_equal(testhttp_post(url, headers, other, NULL), 401);
		free(other);
	}
	/* Not hex, or cut short. */
	snprintf(h, sizeof(h), "X-Hub-Signature-256: sha256=%064d", 0);
	h[30] = 'g';
	assert_int_equal(testhttp_post(url, headers, hello, NULL), 401);
	sign(APP_SECRET, hello, h, sizeof(h));
	h[strlen(h) - 2] = '\0';
	assert_int_equal(testhttp_post(url, headers, hello, NULL), 401);
	assert_int_equal(metric(t, "casebot_webhook_refused_total"), 5);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A webhook body around items (messages and statuses of one change). */
static char *envelope(const char *contacts, const char *messages, const char *statuses)
{
	char *b = malloc(16384);

	snprintf(b, 16384,
		 "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"8856996819413533\",\"changes\":[{"
		 "\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{"
		 "\"display_phone_number\":\"32470123456\",\"phone_number_id\":\"1234567890\"}"
		 "%s%s%s%s%s%s%s%s%s}}]}]}",
		 contacts != NULL ? ",\"contacts\":[" : "", contacts != NULL ? contacts : "", contacts != NULL ? "]" : "",
		 messages != NULL ? ",\"messages\":[" : "", messages != NULL ? messages : "", messages != NULL ? "]" : "",
		 statuses != NULL ? ",\"statuses\":[" : "", statuses != NULL ? statuses : "", statuses != NULL ? "]" : "");
	return b;
}

static void text_msg(char *out, size_t cap, const char *id, const char *from, const char *user_id, long long ts,
		     const char *text)
{
	snprintf(out, cap,
		 "{\"from\":\"%s\",%s%s%s\"id\":\"%s\",\"timestamp\":\"%lld\",\"type\":\"text\",\"text\":{\"body\":\"%s\"}}",
		 from, user_id != NULL ? "\"from_user_id\":\"" : "", user_id != NULL ? user_id : "",
		 user_id != NULL ? "\"," : "", id, ts, text);
}

static void status_of(char *out, size_t cap, const char *id, const char *status, long long ts, const char *extra)
{
	snprintf(out, cap, "{\"id\":\"%s\",\"status\":\"%s\",\"timestamp\":\"%lld\",\"recipient_id\":\"32486000001\"%s}",
		 id, status, ts, extra != NULL ? extra : "");
}

/* POSTs a signed body (freed here) and expects status. */
static void post_ok(struct dt *t, char *body, long want)
{
	assert_int_equal(post_signed(t, APP_SECRET, body), want);
	free(body);
}

/* A signed message is stored before the 200, once however often Meta
 * sends it, and routed. */
static void test_stored_once(void **state)
{
	struct dt *t = *state;

	start(t);
	assert_int_equal(post_signed(t, APP_SECRET, hello), 200);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound WHERE channel_kind = 'whatsapp'"
			      " AND external_id = 'wamid.HELLO1' AND sender = '32486000001'"), 1);
	/* Meta retries for days: the same message again is answered 200 and
	 * stored nothing new. */
	assert_int_equal(post_signed(t, APP_SECRET, hello), 200);
	assert_int_equal(post_signed(t, APP_SECRET, hello), 200);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound"), 1);
	/* An unknown chat: routed once, nothing linked. */
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'handled'") == 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM channels WHERE kind = 'whatsapp'"), 0);
	assert_int_equal(metric(t, "casebot_webhook_refused_total"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* Several entries with messages and statuses in one POST: every message
 * stored, every status kept, in one transaction. */
static void test_batch(void **state)
{
	struct dt *t = *state;
	char m1[512], m2[512], m3[512], s1[512], s2[512], msgs[2048], sts[1200], *body;

	start(t);
	text_msg(m1, sizeof(m1), "wamid.B1", "32486000001", NULL, 1790000000, "een");
	text_msg(m2, sizeof(m2), "wamid.B2", "32486000002", NULL, 1790000001, "twee");
	text_msg(m3, sizeof(m3), "wamid.B1", "32486000001", NULL, 1790000000, "een");
	status_of(s1, sizeof(s1), "wamid.OUT1", "delivered", 1790000002, NULL);
	status_of(s2, sizeof(s2), "wamid.OUT2", "sent", 1790000003, NULL);
	snprintf(msgs, sizeof(msgs), "%s,%s,%s", m1, m2, m3);
	snprintf(sts, sizeof(sts), "%s,%s", s1, s2);
	body = envelope(NULL, msgs, sts);
	/* A second entry in the same body. */
	{
		char *two = malloc(40000), *inner = strstr(body, "{\"id\":\"8856996819413533\"");
		size_t n = strlen(inner) - 2;   /* the entry, without "]}" */
		char m4[512];

		text_msg(m4, sizeof(m4), "wamid.B3", "32486000003", NULL, 1790000004, "drie");
		snprintf(two, 40000,
			 "{\"object\":\"whatsapp_business_account\",\"entry\":[%.*s,{\"id\":\"2\",\"changes\":[{"
			 "\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"1234567890\"},"
			 "\"messages\":[%s]}}]}]}",
			 (int)n, inner, m4);
		free(body);
		body = two;
	}
	post_ok(t, body, 200);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound"), 3);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound WHERE external_id IN ('wamid.B1','wamid.B2','wamid.B3')"),
			 3);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM deliveries WHERE channel_kind = 'whatsapp'"), 2);
	assert_int_equal(dt_q(t, "SELECT state FROM deliveries WHERE gateway_message_id = 'wamid.OUT1'"), 2);
	assert_int_equal(metric(t, "casebot_updates_malformed_total"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A message casebot sent (an outbox row with the id WhatsApp answered):
 * its statuses come out of order and twice, and only move it forward;
 * failed is the end, with its error; billable messages are counted once,
 * by category. */
static void test_statuses(void **state)
{
	struct dt *t = *state;
	char s[1024], two[2100];
	long long now = (long long)time(NULL);

	start(t);
	dt_exec_sql(t, "INSERT INTO channels (family_id, member_id, kind, address, verified, created_at)"
		       " VALUES (1, 1, 'whatsapp', '32486000001', 1, 0);"
		       "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, not_before, status,"
		       " gateway_message_id, created_at, updated_at) VALUES (1, 1, 'reply', 'x', 0, 'sent',"
		       " 'wamid.OUT1', 0, 0), (1, 1, 'reply', 'x', 0, 'sent', 'wamid.OUT2', 0, 0);");
	/* read first, then delivered: delivered never moves it back. */
	status_of(s, sizeof(s), "wamid.OUT1", "read", now, NULL);
	post_ok(t, envelope(NULL, NULL, s), 200);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE gateway_message_id = 'wamid.OUT1' AND status = 'read'"),
			 1);
	status_of(s, sizeof(s), "wamid.OUT1", "delivered", now - 5,
		  ",\"pricing\":{\"billable\":true,\"pricing_model\":\"PMP\",\"category\":\"utility\"}");
	post_ok(t, envelope(NULL, NULL, s), 200);
	post_ok(t, envelope(NULL, NULL, s), 200);
	status_of(s, sizeof(s), "wamid.OUT1", "sent", now - 9, NULL);
	post_ok(t, envelope(NULL, NULL, s), 200);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE gateway_message_id = 'wamid.OUT1' AND status = 'read'"),
			 1);
	assert_int_equal(dt_q(t, "SELECT state FROM deliveries WHERE gateway_message_id = 'wamid.OUT1'"), 3);
	assert_int_equal(dt_q(t, "SELECT status_at FROM deliveries WHERE gateway_message_id = 'wamid.OUT1'"), now);
	/* The pricing of a status that came late is still kept, and counted
	 * once although it came twice. */
	assert_int_equal(dt_q(t, "SELECT billable FROM deliveries WHERE gateway_message_id = 'wamid.OUT1'"
			      " AND category = 'utility'"), 1);
	assert_int_equal(metric(t, "casebot_billable_messages_total{channel=\"whatsapp\",category=\"utility\"}"), 1);
	/* The second message fails, then a late "delivered" and a repeated
	 * failure change nothing. */
	status_of(s, sizeof(s), "wamid.OUT2", "failed", now,
		  ",\"errors\":[{\"code\":131026,\"title\":\"Message undeliverable\",\"message\":\"Message "
		  "undeliverable\",\"error_data\":{\"details\":\"Message Undeliverable.\"}}]");
	post_ok(t, envelope(NULL, NULL, s), 200);
	{
		char late[512];

		status_of(late, sizeof(late), "wamid.OUT2", "delivered", now + 1, NULL);
		snprintf(two, sizeof(two), "%s,%s", late, s);
		post_ok(t, envelope(NULL, NULL, two), 200);
	}
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE gateway_message_id = 'wamid.OUT2' AND status = 'failed'"
			      " AND last_error LIKE 'whatsapp 131026: Message undeliverable%%'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM deliveries WHERE gateway_message_id = 'wamid.OUT2' AND state = 5"
			      " AND error_code = 131026 AND error_title = 'Message undeliverable'"
			      " AND error_details = 'Message Undeliverable.'"), 1);
	/* A status for a message of no outbox row is kept all the same. */
	status_of(s, sizeof(s), "wamid.ELSEWHERE", "sent", now, NULL);
	post_ok(t, envelope(NULL, NULL, s), 200);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM deliveries"), 3);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM deliveries WHERE outbox_id IS NULL"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound"), 0);
	/* A status may come before the send's answer recorded the id: once
	 * the row has it, the next status brings it where the first said. */
	status_of(s, sizeof(s), "wamid.EARLY", "delivered", now, NULL);
	post_ok(t, envelope(NULL, NULL, s), 200);
	dt_exec_sql(t, "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, not_before, status,"
		       " gateway_message_id, created_at, updated_at) VALUES (1, 1, 'reply', 'x', 0, 'sent',"
		       " 'wamid.EARLY', 0, 0)");
	status_of(s, sizeof(s), "wamid.EARLY", "sent", now - 1, NULL);
	post_ok(t, envelope(NULL, NULL, s), 200);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE gateway_message_id = 'wamid.EARLY'"
			      " AND status = 'delivered'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM deliveries WHERE gateway_message_id = 'wamid.EARLY'"
			      " AND outbox_id IS NOT NULL AND state = 2"), 1);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	/* A message id holds the number it went to: erasing the family takes
	 * its statuses too. */
	assert_int_equal(testenv_cli(&t->env, "family", "erase", "F-1", "--yes", NULL), 0);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM deliveries WHERE gateway_message_id <> 'wamid.ELSEWHERE'"), 0);
}

/* The code typed into WhatsApp (what the wa.me link fills in) links the
 * chat, as on Telegram; the chat learns the sender's user id too, and its
 * last message time is the message's own. */
static void test_onboarding_by_code(void **state)
{
	struct dt *t = *state;
	char code[16], m[512], *p;
	long long written = (long long)time(NULL) - 600;

	assert_int_equal(testenv_cli(&t->env, "invite", "F-1", "--member", "Amina", NULL), 0);
	p = strstr(t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, sizeof(code), "%.10s", p + 6);
	assert_non_null(strstr(t->env.out, "whatsapp: https://wa.me/32470123456?text="));
	assert_non_null(strstr(strstr(t->env.out, "wa.me/"), code));
	start(t);
	text_msg(m, sizeof(m), "wamid.CODE1", "32486000001", "BE.77", written, code);
	post_ok(t, envelope(NULL, m, NULL), 200);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM channels WHERE kind = 'whatsapp' AND address = '32486000001'"
			 " AND family_id = 1 AND member_id = 1") == 1, 10000);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM channel_identities WHERE identity = 'BE.77' AND pending = 0") == 1,
		    10000);
	/* The code itself opens the conversation window. */
	assert_int_equal(dt_q(t, "SELECT last_inbound_at FROM channels WHERE kind = 'whatsapp'"), written);
	/* Later the number may not come: the user id finds the chat. */
	snprintf(m, sizeof(m),
		 "{\"from_user_id\":\"BE.77\",\"id\":\"wamid.CODE2\",\"timestamp\":\"%lld\",\"type\":\"text\","
		 "\"text\":{\"body\":\"hallo\"}}", written + 60);
	post_ok(t, envelope(NULL, m, NULL), 200);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'handled'") == 2, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log WHERE family_id = 1 AND direction = 'in'"
			      " AND kind = 'text'"), 1);
	assert_int_equal(dt_q(t, "SELECT last_inbound_at FROM channels WHERE kind = 'whatsapp'"), written + 60);
	/* A message written earlier and delivered late does not move it back. */
	text_msg(m, sizeof(m), "wamid.CODE0", "32486000001", NULL, written + 10, "eerder");
	post_ok(t, envelope(NULL, m, NULL), 200);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'handled'") == 3, 10000);
	assert_int_equal(dt_q(t, "SELECT last_inbound_at FROM channels WHERE kind = 'whatsapp'"), written + 60);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* WhatsApp says a family's number changed: nothing is merged; the change
 * waits, the counsellor is alerted, and the CLI confirms it. */
static void test_number_change(void **state)
{
	struct dt *t = *state;
	char m[512], id[24];

	dt_exec_sql(t, "INSERT INTO channels (family_id, member_id, kind, address, verified, created_at)"
		       " VALUES (1, 1, 'whatsapp', '32486000001', 1, 0)");
	start(t);
	snprintf(m, sizeof(m),
		 "{\"from\":\"32486000001\",\"id\":\"wamid.SYS1\",\"timestamp\":\"%lld\",\"type\":\"system\","
		 "\"system\":{\"body\":\"Amina changed from 32486000001 to 32486000099\",\"wa_id\":\"32486000099\","
		 "\"type\":\"user_changed_number\"}}", (long long)time(NULL));
	post_ok(t, envelope(NULL, m, NULL), 200);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM channel_identities WHERE pending = 1 AND identity = '32486000099'"
			 " AND replaces = '32486000001'") == 1, 10000);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'identity_changed' AND family_id = 1") == 1,
		    10000);
	/* Meta sends it again: one change, one alert. */
	post_ok(t, envelope(NULL, m, NULL), 200);
	/* The new number writes before anyone confirmed: it is a stranger. */
	text_msg(m, sizeof(m), "wamid.NEW1", "32486000099", NULL, (long long)time(NULL), "hallo");
	post_ok(t, envelope(NULL, m, NULL), 200);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'handled'") == 2, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'identity_changed'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log WHERE family_id = 1 AND direction = 'in'"
			      " AND kind = 'text'"), 0);
	assert_int_equal(dt_q(t, "SELECT address FROM channels WHERE kind = 'whatsapp'"), 32486000001LL);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);

	assert_int_equal(testenv_cli(&t->env, "channel", "changes", NULL), 0);
	assert_non_null(strstr(t->env.out, "F-1 (Amina)"));
	assert_non_null(strstr(t->env.out, "32486000001 -> 32486000099"));
	snprintf(id, sizeof(id), "%lld", dt_q(t, "SELECT id FROM channel_identities WHERE pending = 1"));
	assert_int_not_equal(testenv_cli(&t->env, "channel", "confirm", "999", NULL), 0);
	if (testenv_cli(&t->env, "channel", "confirm", id, NULL) != 0)
		fail_msg("%s", t->env.err);
	assert_int_equal(dt_q(t, "SELECT address FROM channels WHERE kind = 'whatsapp'"), 32486000099LL);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM channel_identities WHERE pending = 1"), 0);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'channel.confirm' AND family_ref = 'F-1'"), 1);
	assert_int_equal(testenv_cli(&t->env, "channel", "changes", NULL), 0);
	assert_non_null(strstr(t->env.out, "no change waits"));
	/* Now the new number is the family's. */
	start(t);
	text_msg(m, sizeof(m), "wamid.NEW2", "32486000099", NULL, (long long)time(NULL), "hallo");
	post_ok(t, envelope(NULL, m, NULL), 200);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM contact_log WHERE family_id = 1 AND direction = 'in'"
			 " AND kind = 'text'") == 1, 10000);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* kill -9 after the batch is committed and before Meta heard 200: Meta
 * sends it again; nothing is lost and nothing is handled twice. */
static void test_crash_after_commit(void **state)
{
	struct dt *t = *state;
	char flag[400], m[512], *body;
	long long until;
	FILE *fp;

	dt_exec_sql(t, "INSERT INTO channels (family_id, member_id, kind, address, verified, created_at)"
		       " VALUES (1, 1, 'whatsapp', '32486000001', 1, 0)");
	snprintf(flag, sizeof(flag), "%s/crash.once", t->env.dir);
	fp = fopen(flag, "w");
	assert_non_null(fp);
	fclose(fp);
	setenv("CASEBOT_TEST_CRASH", "whatsapp_committed", 1);
	setenv("CASEBOT_TEST_CRASH_ONCE", flag, 1);
	dt_start_daemon_at(t, time(NULL));
	unsetenv("CASEBOT_TEST_CRASH");
	unsetenv("CASEBOT_TEST_CRASH_ONCE");
	until = dt_now_ms() + 10000;
	while (!dt_port_open(t->http_port) && dt_now_ms() < until)
		dt_sleep_ms(20);
	text_msg(m, sizeof(m), "wamid.CRASH1", "32486000001", NULL, (long long)time(NULL), "ik kom morgen niet");
	body = envelope(NULL, m, NULL);
	/* No answer: the daemon died with the batch committed. */
	assert_int_equal(post_signed(t, APP_SECRET, body), -1);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 128 + SIGKILL);
	assert_int_equal(access(flag, F_OK), -1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound WHERE external_id = 'wamid.CRASH1' AND status = 'new'"),
			 1);
	/* Back up: the stored message is routed; Meta's retry changes nothing. */
	start(t);
	post_ok(t, body, 200);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'handled'") == 1, 10000);
	post_ok(t, envelope(NULL, m, NULL), 200);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log WHERE family_id = 1 AND direction = 'in'"
			      " AND kind = 'text'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE family_id = 1 AND kind = 'message'"), 1);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* casebot check reads WhatsApp's secrets as casebot run does and never
 * prints them; casebot run without them says which it needs. */
static void test_secrets(void **state)
{
	struct dt *t = *state;
	char token[400], secret[400], ini[1024];
	FILE *fp;
	int st;

	snprintf(token, sizeof(token), "%s/wa.token", t->env.dir);
	snprintf(secret, sizeof(secret), "%s/wa.secret", t->env.dir);
	fp = fopen(token, "w");
	fputs("EAAfile-token-123\n", fp);
	fclose(fp);
	fp = fopen(secret, "w");
	fputs("file-app-secret-456\n", fp);
	fclose(fp);
	chmod(token, 0600);
	chmod(secret, 0644);
	snprintf(ini, sizeof(ini), "[whatsapp]\ntoken_file = %s\napp_secret_file = %s\n", token, secret);
	fp = fopen(t->env.conf, "a");
	fputs(ini, fp);
	fclose(fp);
	/* From the variables first. */
	assert_int_equal(testenv_cli(&t->env, "check", NULL), 0);
	assert_non_null(strstr(t->env.out, "whatsapp token: from $CASEBOT_WHATSAPP_TOKEN"));
	assert_non_null(strstr(t->env.out, "whatsapp app secret: from $CASEBOT_WHATSAPP_APP_SECRET"));
	unsetenv("CASEBOT_WHATSAPP_TOKEN");
	unsetenv("CASEBOT_WHATSAPP_APP_SECRET");
	/* A secret others may read is refused, by name, never shown. */
	st = testenv_cli(&t->env, "check", NULL);
	assert_int_equal(st, 2);
	assert_non_null(strstr(t->env.err, "app_secret_file"));
	assert_non_null(strstr(t->env.err, "chmod 600"));
	chmod(secret, 0600);
	assert_int_equal(testenv_cli(&t->env, "check", NULL), 0);
	assert_non_null(strstr(t->env.out, "whatsapp token: from "));
	assert_null(strstr(t->env.out, "EAAfile"));
	assert_null(strstr(t->env.out, "file-app-secret"));
	/* The daemon reads the files, and the webhook is signed with that. */
	start(t);
	assert_int_equal(post_signed(t, "file-app-secret-456", hello), 200);
	assert_int_equal(post_signed(t, APP_SECRET, hello), 401);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	/* Without a token the daemon does not start, and says what it needs. */
	unlink(token);
	dt_start_daemon(t);
	{
		long long until = dt_now_ms() + 10000;
		int status = 0;
		pid_t r;

		while ((r = waitpid(t->daemon, &status, WNOHANG)) == 0 && dt_now_ms() < until)
			dt_sleep_ms(20);
		assert_int_equal(r, t->daemon);
		t->daemon = 0;
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 1);
	}
	{
		char log[8192] = "";
		size_t n;

		fp = fopen(t->log, "r");
		assert_non_null(fp);
		n = fread(log, 1, sizeof(log) - 1, fp);
		log[n] = '\0';
		fclose(fp);
		assert_non_null(strstr(log, "no WhatsApp token"));
		assert_null(strstr(log, "file-app-secret"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test_setup_teardown(test_verification, setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_forged, setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_stored_once, setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_statuses, setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_onboarding_by_code, setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_number_change, setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_commit, setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_secrets, setup, dt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
