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
			     "webhook_path = wa-hook\n";

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test_setup_teardown(test_verification, setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_forged, setup, dt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
