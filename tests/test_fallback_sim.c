/* Channel fallback end to end: the daemon against tgsim, wasim and
 * smsim, with Amina linked on Telegram, WhatsApp and SMS, in that order
 * (the order they were linked in), or in the order staff set. A reminder
 * Telegram refuses (the family blocked the bot) reaches her on WhatsApp
 * and is answered there; a reminder left unconfirmed on Telegram for
 * [fallback] reminder goes to SMS (WhatsApp put last) with numbered
 * choices, and "1" there confirms; with WhatsApp first, a number that is
 * not on WhatsApp (131026, in the answer or later in a status) sends the
 * reminder down to SMS, never back up to Telegram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/dtest.h"
#include "tests/support/smsimctl.h"
#include "tests/support/wasimctl.h"

#define FAMILY_WA "32470001001"
#define FAMILY_SMS "+32470001001"
#define SMS_PUBLIC_URL "https://bot.example.org/sms/hook"
#define WAIT_MS 20000

struct fx {
	struct dt *t;
	struct wasimctl w;
	struct smsimctl m;
};

/* WhatsApp's pair limit (a message per six seconds to one number) is
 * raised: wasim does not enforce it here, and the tests do not wait on it. */
static int setup_ini(void **state, const char *more)
{
	struct fx *x = calloc(1, sizeof(*x));
	char ini[1024], url[160];
	void *dts = NULL;

	if (x == NULL || wasimctl_start(&x->w, NULL, "--status-dup-percent 0") != 0 ||
	    smsimctl_start(&x->m, "--status-order forward") != 0)
		return -1;
	snprintf(ini, sizeof(ini),
		 "[whatsapp]\napi_base = %s\nphone_number_id = %s\nverify_token = %s\nwebhook_path = hook\n"
		 "display_number = 32470000000\nrate_per_chat = 20\n"
		 "[sms]\napi_base = %s\naccount_sid = %s\nfrom = %s\npublic_url = %s\nwebhook_path = hook\n"
		 "rate_per_chat = 50\nrate_global = 100\n%s",
		 wasimctl_api_base(&x->w), wasimctl_phone_number_id(&x->w), WASIMCTL_VERIFY_TOKEN,
		 smsimctl_base(&x->m), SMSIMCTL_ACCOUNT_SID, SMSIMCTL_NUMBER, SMS_PUBLIC_URL, more);
	setenv("CASEBOT_WHATSAPP_TOKEN", WASIMCTL_TOKEN, 1);
	setenv("CASEBOT_WHATSAPP_APP_SECRET", WASIMCTL_APP_SECRET, 1);
	setenv("CASEBOT_SMS_AUTH_TOKEN", SMSIMCTL_AUTH_TOKEN, 1);
	if (dt_setup_with(&dts, ini) != 0)
		return -1;
	x->t = dts;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/whatsapp/hook", x->t->http_port);
	if (wasimctl_set_webhook(&x->w, url) != 0)
		return -1;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/sms/hook", x->t->http_port);
	if (smsimctl_set_webhook(&x->m, url, SMS_PUBLIC_URL) != 0)
		return -1;
	*state = x;
	return 0;
}

/* No fallback on time: only a failure moves a message down. */
static int setup(void **state)
{
	return setup_ini(state, "[fallback]\nreminder = off\n");
}

static int setup_timed(void **state)
{
	return setup_ini(state, "[fallback]\nreminder = 2s\n");
}

static int teardown(void **state)
{
	struct fx *x = *state;
	void *dts = x->t;
	int rc = dt_teardown(&dts);

	if (wasimctl_stop(&x->w) != 0 || smsimctl_stop(&x->m) != 0)
		rc = -1;
	unsetenv("CASEBOT_SMS_AUTH_TOKEN");
	free(x);
	return rc;
}

static int wa_sent(struct fx *x)
{
	cJSON *sent = wasimctl_sent(&x->w, FAMILY_WA);
	int n = cJSON_GetArraySize(sent);

	cJSON_Delete(sent);
	return n;
}

static void wa_last_text(struct fx *x, char *out, size_t cap)
{
	cJSON *sent = wasimctl_sent(&x->w, FAMILY_WA), *last;
	const char *s;

	last = cJSON_GetArrayItem(sent, cJSON_GetArraySize(sent) - 1);
	s = cJSON_GetStringValue(cJSON_GetObjectItem(last, "text"));
	snprintf(out, cap, "%s", s != NULL ? s : "");
	cJSON_Delete(sent);
}

static int sms_sent(struct fx *x)
{
	cJSON *sent = smsimctl_sent(&x->m, FAMILY_SMS);
	int n = cJSON_GetArraySize(sent);

	cJSON_Delete(sent);
	return n;
}

static void sms_last_text(struct fx *x, char *out, size_t cap)
{
	cJSON *sent = smsimctl_sent(&x->m, FAMILY_SMS), *last;
	const char *s;

	last = cJSON_GetArrayItem(sent, cJSON_GetArraySize(sent) - 1);
	s = cJSON_GetStringValue(cJSON_GetObjectItem(last, "text"));
	snprintf(out, cap, "%s", s != NULL ? s : "");
	cJSON_Delete(sent);
}

static void invite_code(struct fx *x, char *code, size_t cap)
{
	const char *p;

	assert_int_equal(testenv_cli(&x->t->env, "invite", "F-1", "--member", "Amina", NULL), 0);
	p = strstr(x->t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, cap, "%.10s", p + 6);
}

/* The daemon up, Amina linked on Telegram, then on WhatsApp and by SMS
 * with her codes. */
static void start_linked(struct fx *x)
{
	char code[16], body[160];
	long long until;

	dt_start_daemon(x->t);
	until = dt_now_ms() + 10000;
	while (!dt_port_open(x->t->http_port) && dt_now_ms() < until)
		dt_sleep_ms(20);
	assert_true(dt_port_open(x->t->http_port));
	dt_link_family(x->t);
	invite_code(x, code, sizeof(code));
	snprintf(body, sizeof(body), "{\"wa_id\":\"" FAMILY_WA "\",\"text\":\"%s\"}", code);
	assert_true(wasimctl_inject(&x->w, "message", body) > 0);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM channels WHERE family_id = 1 AND member_id = 1") == 2, WAIT_MS);
	assert_true(wasimctl_wait_sent(&x->w, FAMILY_WA, 1, WAIT_MS) >= 1);
	invite_code(x, code, sizeof(code));
	assert_true(smsimctl_text(&x->m, FAMILY_SMS, code) > 0);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM channels WHERE family_id = 1 AND member_id = 1") == 3, WAIT_MS);
	assert_true(smsimctl_wait_sent(&x->m, FAMILY_SMS, 1, WAIT_MS) >= 1);
	dt_wait_family_outbox_idle(x->t);
}

/* An appointment for Amina in three hours: one reminder, due now. */
static void add_appointment(struct fx *x)
{
	char when[32];
	time_t at = time(NULL) + 3 * 3600;
	struct tm tm;

	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&x->t->env, "appointment", "add", "F-1", "--at", when, "--kind", "doctor",
				     "--member", "Amina", NULL), 0);
}

static int confirmed(struct fx *x)
{
	return dt_q(x->t, "SELECT count(*) FROM appointments WHERE status = 'confirmed'") == 1;
}

/* Telegram answers 403 (Amina blocked the bot): the reminder goes to
 * WhatsApp, once, with its question; "1" there confirms. The counsellor
 * gets no undelivered alert, the log shows the step and the channel. */
static void test_blocked_telegram_to_whatsapp(void **state)
{
	struct fx *x = *state;
	struct simctl_resp r;
	int before, tg;
	int64_t update;
	char text[2048], body[96];

	start_linked(x);
	before = wa_sent(x);
	tg = dt_sent_count(x->t, DT_FAMILY_CHAT);
	/* Amina blocks the bot while the daemon is down, and the update that
	 * says so is confirmed by someone else: the daemon learns it from the
	 * 403 only, as when the update comes after the send. */
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
	update = simctl_block(&x->t->sim, DT_FAMILY_CHAT, 1);
	assert_true(update > 0);
	snprintf(body, sizeof(body), "{\"offset\":%lld,\"timeout\":0}", (long long)update + 1);
	assert_int_equal(simctl_api(&x->t->sim, "getUpdates", body, 5000, &r), 0);
	assert_int_equal(r.status, 200);
	simctl_resp_free(&r);
	add_appointment(x);
	dt_start_daemon(x->t);
	assert_true(wasimctl_wait_sent(&x->w, FAMILY_WA, before + 1, WAIT_MS) >= before + 1);
	wa_last_text(x, text, sizeof(text));
	assert_non_null(strstr(text, "1"));
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM outbox o JOIN channels c ON c.id = o.channel_id WHERE"
			 " o.kind = 'reminder' AND o.status IN ('sent', 'delivered', 'read') AND c.kind = 'whatsapp'"
			 " AND o.fallback_why = 'blocked'") == 1, WAIT_MS);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM contact_log WHERE summary = 'fallback'"
			      " AND json_extract(params, '$.from') = 'telegram' AND channel_kind = 'whatsapp'"), 1);
	assert_true(wasimctl_text(&x->w, FAMILY_WA, "1") > 0);
	DT_WAIT_FOR(confirmed(x), WAIT_MS);
	dt_wait_family_outbox_idle(x->t);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"), 0);
	/* One copy on WhatsApp: the reminder and the thanks, nothing twice. */
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox o JOIN channels c ON c.id = o.channel_id"
			      " WHERE o.kind = 'reminder' AND c.kind = 'whatsapp'"), 1);
	assert_int_equal(dt_sent_count(x->t, DT_FAMILY_CHAT), tg);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* Unconfirmed on Telegram two seconds after it went ([fallback] reminder
 * = 2s here): the reminder goes to SMS, the next chat once WhatsApp is put
 * last, with its choices by number; "1" there confirms. */
static void test_unconfirmed_telegram_to_sms(void **state)
{
	struct fx *x = *state;
	int before, tg, wa;
	char text[2048];

	start_linked(x);
	assert_int_equal(testenv_cli(&x->t->env, "channel", "order", "F-1", "Amina", "telegram", "sms", "whatsapp",
				     NULL), 0);
	before = sms_sent(x);
	tg = dt_sent_count(x->t, DT_FAMILY_CHAT);
	wa = wa_sent(x);
	add_appointment(x);
	DT_WAIT_SENT(x->t, DT_FAMILY_CHAT, tg + 1, WAIT_MS);
	assert_true(smsimctl_wait_sent(&x->m, FAMILY_SMS, before + 1, WAIT_MS) >= before + 1);
	sms_last_text(x, text, sizeof(text));
	assert_non_null(strstr(text, "1"));
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM contact_log WHERE summary = 'fallback'"
			 " AND json_extract(params, '$.why') = 'unconfirmed' AND channel_kind = 'sms'") == 1, WAIT_MS);
	assert_true(smsimctl_text(&x->m, FAMILY_SMS, "1") > 0);
	DT_WAIT_FOR(confirmed(x), WAIT_MS);
	dt_wait_family_outbox_idle(x->t);
	/* Telegram got the reminder once (nothing went back up), and once
	 * it was confirmed nothing went on to WhatsApp. */
	assert_int_equal(dt_sent_count(x->t, DT_FAMILY_CHAT), tg + 1);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox o JOIN channels c ON c.id = o.channel_id"
			      " WHERE o.kind = 'reminder' AND c.kind = 'whatsapp' AND o.status IN ('sent', 'delivered',"
			      " 'read')"), 0);
	assert_int_equal(wa_sent(x), wa);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* WhatsApp first, then SMS, then Telegram: 131026 sends the reminder
 * down to SMS, and not back up to Telegram. */
static void unreachable(struct fx *x, const char *mode)
{
	int tg, before;

	start_linked(x);
	assert_int_equal(testenv_cli(&x->t->env, "channel", "order", "F-1", "Amina", "whatsapp", "sms", "telegram",
				     NULL), 0);
	tg = dt_sent_count(x->t, DT_FAMILY_CHAT);
	before = sms_sent(x);
	assert_int_equal(wasimctl_unreachable(&x->w, FAMILY_WA, mode), 0);
	add_appointment(x);
	assert_true(smsimctl_wait_sent(&x->m, FAMILY_SMS, before + 1, WAIT_MS) >= before + 1);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM outbox o JOIN channels c ON c.id = o.channel_id WHERE"
			 " o.kind = 'reminder' AND o.status IN ('sent', 'delivered') AND c.kind = 'sms'"
			 " AND o.fallback_why = 'unreachable'") == 1, WAIT_MS);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM contact_log WHERE summary = 'fallback'"
			      " AND json_extract(params, '$.from') = 'whatsapp' AND channel_kind = 'sms'"), 1);
	dt_wait_family_outbox_idle(x->t);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"), 0);
	assert_int_equal(dt_sent_count(x->t, DT_FAMILY_CHAT), tg);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

static void test_whatsapp_to_sms_131026_in_answer(void **state)
{
	unreachable(*state, "sync");
}

static void test_whatsapp_to_sms_131026_in_status(void **state)
{
	unreachable(*state, "async");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_blocked_telegram_to_whatsapp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unconfirmed_telegram_to_sms, setup_timed, teardown),
		cmocka_unit_test_setup_teardown(test_whatsapp_to_sms_131026_in_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whatsapp_to_sms_131026_in_status, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
