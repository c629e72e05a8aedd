/* SMS end to end: the daemon against smsim, the Twilio Messaging API
 * simulator, behind a proxy: Twilio knows https://bot.example.org/sms/hook,
 * which the simulator signs and then posts to the daemon's listener. A
 * family links by texting its code; reminders come with numbered choices
 * and are answered with "1" or "oui"; STOP in four languages; a number
 * opted out at the carrier (21610), at once or in a status; an unknown
 * number marked for the next channel; forged and unsigned webhooks; kill
 * -9 between the commit and the 200. */
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
#include <unistd.h>

#include "tests/support/dtest.h"
#include "tests/support/smsimctl.h"
#include "tests/support/testhttp.h"

#define FAMILY "+32470001001"
#define PUBLIC_URL "https://bot.example.org/sms/hook"
#define WAIT_MS 20000

struct sf {
	struct dt *t;
	struct smsimctl m;
	char hook[160];
};

static int setup_args(void **state, const char *args)
{
	struct sf *f = calloc(1, sizeof(*f));
	char ini[768];
	void *dt = NULL;

	if (f == NULL || smsimctl_start(&f->m, args) != 0)
		return -1;
	setenv("CASEBOT_SMS_AUTH_TOKEN", SMSIMCTL_AUTH_TOKEN, 1);
	snprintf(ini, sizeof(ini),
		 "[sms]\napi_base = %s\naccount_sid = %s\nfrom = %s\npublic_url = %s\nwebhook_path = hook\n"
		 "rate_per_chat = 50\nrate_global = 100\n",
		 smsimctl_base(&f->m), SMSIMCTL_ACCOUNT_SID, SMSIMCTL_NUMBER, PUBLIC_URL);
	if (dt_setup_with(&dt, ini) != 0)
		return -1;
	f->t = dt;
	snprintf(f->hook, sizeof(f->hook), "http://127.0.0.1:%d/sms/hook", f->t->http_port);
	if (smsimctl_set_webhook(&f->m, f->hook, PUBLIC_URL) != 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	/* Statuses shuffled, a fifth of them late. */
	return setup_args(state, "--status-order shuffle --late-percent 20 --status-delay-ms 10");
}

static int teardown(void **state)
{
	struct sf *f = *state;
	void *dt = f->t;
	int rc = dt_teardown(&dt);

	if (smsimctl_stop(&f->m) != 0)
		rc = -1;
	unsetenv("CASEBOT_SMS_AUTH_TOKEN");
	free(f);
	return rc;
}

static void start(struct sf *f)
{
	long long until;

	dt_start_daemon(f->t);
	until = dt_now_ms() + 10000;
	while (!dt_port_open(f->t->http_port) && dt_now_ms() < until)
		dt_sleep_ms(20);
	assert_true(dt_port_open(f->t->http_port));
}

static const char *field(const cJSON *m, const char *name)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(m, name));

	return s != NULL ? s : "";
}

/* The index of the first message to FAMILY whose text holds what, from
 * from on; -1 when none. */
static int sent_index(struct sf *f, const char *what, int from)
{
	cJSON *all = smsimctl_sent(&f->m, FAMILY), *m;
	int i = 0, found = -1;

	cJSON_ArrayForEach(m, all) {
		if (found < 0 && i >= from && strstr(field(m, "text"), what) != NULL)
			found = i;
		i++;
	}
	cJSON_Delete(all);
	return found;
}

static cJSON *sent_at(struct sf *f, int n)
{
	cJSON *all = smsimctl_sent(&f->m, FAMILY), *m;

	assert_non_null(all);
	m = cJSON_DetachItemFromArray(all, n);
	cJSON_Delete(all);
	assert_non_null(m);
	return m;
}

static void set_lang(struct sf *f, const char *lang)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "UPDATE families SET lang = '%s' WHERE ref = 'F-1'", lang);
	dt_exec_sql(f->t, sql);
}

/* F-1's member Amina texts her code from FAMILY; the short welcome says
 * how to stop. */
static void link_family(struct sf *f, const char *welcome)
{
	char code[32];
	const char *p;

	assert_int_equal(testenv_cli(&f->t->env, "invite", "F-1", "--member", "Amina", NULL), 0);
	p = strstr(f->t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, sizeof(code), "%.10s", p + 6);
	assert_true(smsimctl_text(&f->m, FAMILY, code) > 0);
	assert_true(smsimctl_wait_sent(&f->m, FAMILY, 1, WAIT_MS) >= 1);
	DT_WAIT_FOR(sent_index(f, welcome, 0) >= 0, WAIT_MS);
	DT_WAIT_FOR(sent_index(f, "STOP", 0) >= 0, WAIT_MS);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM channels WHERE kind = 'sms' AND address = '" FAMILY
				    "' AND family_id = 1"), 1);
}

static void add_appointment(struct sf *f, time_t in)
{
	char when[32];
	time_t at = time(NULL) + in;
	struct tm tm;

	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&f->t->env, "appointment", "add", "F-1", "--at", when, "--kind", "lawyer", NULL), 0);
}

static int confirmed(struct sf *f)
{
	return dt_q(f->t, "SELECT count(*) FROM appointments WHERE status = 'confirmed'") == 1;
}

/* The reminder lists its choices by number, fits two segments, and is
 * never delivered after the appointment starts (ValidityPeriod); "1"
 * confirms it. Statuses come shuffled and late, and only move forward. */
static void reminder_answered(struct sf *f, const char *lang, const char *welcome, const char *reminder,
			      const char *answer, const char *thanks)
{
	long long statuses;
	cJSON *m;
	int i;

	start(f);
	set_lang(f, lang);
	link_family(f, welcome);
	add_appointment(f, 3 * 3600);
	DT_WAIT_FOR((i = sent_index(f, reminder, 0)) >= 0, WAIT_MS);
	m = sent_at(f, i);
	assert_non_null(strstr(field(m, "text"), "\n1 "));
	assert_non_null(strstr(field(m, "text"), "\n2 "));
	assert_true(cJSON_GetObjectItem(m, "segments")->valueint <= 2);
	assert_true(cJSON_GetObjectItem(m, "validity")->valueint > 3 * 3600 - 120);
	assert_true(cJSON_GetObjectItem(m, "validity")->valueint <= 3 * 3600);
	assert_string_equal(field(m, "status_callback"), PUBLIC_URL "/status");
	cJSON_Delete(m);
	/* The simulator has the reminder before the daemon records it sent,
	 * and only then is it the question an answer goes to. */
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM questions q JOIN outbox o ON o.id = q.outbox_id"
			       " WHERE o.kind = 'reminder'") >= 1, WAIT_MS);
	assert_true(smsimctl_text(&f->m, FAMILY, answer) > 0);
	DT_WAIT_FOR(confirmed(f), WAIT_MS);
	DT_WAIT_FOR(sent_index(f, thanks, i + 1) >= 0, WAIT_MS);
	/* Every message's statuses arrived (two each) and the outbox ends
	 * at delivered, whatever order they came in. */
	statuses = 2 * smsimctl_stat(&f->m, "sent");
	assert_true(smsimctl_wait(&f->m, "statuses_delivered", statuses, WAIT_MS) >= statuses);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND status = 'delivered'"
			       " AND gateway_message_id LIKE 'SM%%'") == 1, WAIT_MS);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM deliveries WHERE channel_kind = 'sms' AND state != 2"), 0);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

static void test_reminder_answered_1(void **state)
{
	reminder_answered(*state, "nl", "Welkom", "Herinnering", "1", "Bedankt");
}

static void test_reminder_answered_oui(void **state)
{
	reminder_answered(*state, "fr", "Bienvenue", "Rappel", "oui", "Merci");
}

/* STOP, STOPPEN, ARRÊT and HALT stop the chat; START resumes it. */
static void test_stop_four_languages(void **state)
{
	static const char *const words[] = {"STOP", "STOPPEN", "ARRÊT", "HALT"};
	struct sf *f = *state;

	start(f);
	link_family(f, "Welkom");
	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++) {
		int n = smsimctl_wait_sent(&f->m, FAMILY, 0, 1000);

		assert_true(smsimctl_text(&f->m, FAMILY, words[k]) > 0);
		DT_WAIT_FOR(dt_q(f->t, "SELECT opted_out FROM channels WHERE kind = 'sms'") == 1, WAIT_MS);
		assert_true(smsimctl_wait_sent(&f->m, FAMILY, n + 1, WAIT_MS) >= n + 1);
		assert_true(smsimctl_text(&f->m, FAMILY, "START") > 0);
		DT_WAIT_FOR(dt_q(f->t, "SELECT opted_out FROM channels WHERE kind = 'sms'") == 0, WAIT_MS);
		assert_true(smsimctl_wait_sent(&f->m, FAMILY, n + 2, WAIT_MS) >= n + 2);
	}
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM contact_log WHERE kind = 'stop'"), 4);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* 21610 in the answer to a send: the chat stops at once and the
 * counsellor is told why; nothing more is tried on it. */
static void test_21610_at_send(void **state)
{
	struct sf *f = *state;

	start(f);
	link_family(f, "Welkom");
	assert_int_equal(smsimctl_number(&f->m, FAMILY, "opted_out"), 0);
	add_appointment(f, 3 * 3600);
	DT_WAIT_FOR(dt_q(f->t, "SELECT opted_out FROM channels WHERE kind = 'sms'") == 1, WAIT_MS);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM alerts WHERE kind = 'undelivered' AND params LIKE"
			       " '%%carrier_stop%%'") == 1, WAIT_MS);
	assert_int_equal(smsimctl_stat(&f->m, "opted_out"), 1);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* 21610 in a failed status, after the send was taken: the same. */
static void test_21610_in_status(void **state)
{
	struct sf *f = *state;

	start(f);
	link_family(f, "Welkom");
	assert_int_equal(smsimctl_number(&f->m, FAMILY, "opted_out_later"), 0);
	add_appointment(f, 3 * 3600);
	DT_WAIT_FOR(dt_q(f->t, "SELECT opted_out FROM channels WHERE kind = 'sms'") == 1, WAIT_MS);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM alerts WHERE kind = 'undelivered' AND params LIKE"
			       " '%%carrier_stop%%'") == 1, WAIT_MS);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM deliveries WHERE channel_kind = 'sms' AND state = 5"
			       " AND error_code = 21610") == 1, WAIT_MS);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* 30005 (unknown number) in an undelivered status: the chat keeps the
 * reason for its owner's next channel, the counsellor hears of it. */
static void test_unknown_number_marks_fallback(void **state)
{
	struct sf *f = *state;

	start(f);
	link_family(f, "Welkom");
	assert_int_equal(smsimctl_number(&f->m, FAMILY, "unknown"), 0);
	add_appointment(f, 3 * 3600);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM channels WHERE kind = 'sms' AND fallback_reason LIKE"
			       " '%%30005%%'") == 1, WAIT_MS);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM alerts WHERE kind = 'undelivered' AND params LIKE"
			       " '%%unreachable%%'") == 1, WAIT_MS);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* A webhook signed with another token, or not signed, or signed for
 * another URL: 401 and nothing stored. Signed over the public URL with
 * its default port (:443) put on, as some proxies pass it: taken. */
static void test_signature_refused_and_port(void **state)
{
	struct sf *f = *state;
	const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", NULL};
	long status;

	start(f);
	assert_true(smsimctl_forge(&f->m, FAMILY, "hello") > 0);
	assert_true(smsimctl_wait(&f->m, "forged_refused", 1, WAIT_MS) >= 1);
	status = testhttp_post(f->hook, headers, "MessageSid=SM1&From=%2B32470001001&Body=hi", NULL);
	assert_int_equal(status, 401);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM inbound WHERE channel_kind = 'sms'"), 0);
	/* The same URL with the default port: what Twilio signed when the
	 * proxy's URL carries it. */
	assert_int_equal(smsimctl_set_webhook(&f->m, f->hook, "https://bot.example.org:443/sms/hook"), 0);
	assert_true(smsimctl_text(&f->m, FAMILY, "hello") > 0);
	assert_true(smsimctl_wait(&f->m, "inbound_delivered", 1, WAIT_MS) >= 1);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM inbound WHERE channel_kind = 'sms'"), 1);
	/* Another host: refused. */
	assert_int_equal(smsimctl_set_webhook(&f->m, f->hook, "https://evil.example.org/sms/hook"), 0);
	assert_true(smsimctl_forge(&f->m, FAMILY, "x") > 0);
	assert_true(smsimctl_wait(&f->m, "forged_refused", 2, WAIT_MS) >= 2);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM inbound WHERE channel_kind = 'sms'"), 1);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* kill -9 between the commit and the 200: smsim posts again, as Twilio
 * retries an unanswered webhook; the MessageSid is known, the text is
 * handled once. */
static void test_crash_after_commit(void **state)
{
	struct sf *f = *state;
	char flag[400];
	FILE *fp;

	start(f);
	link_family(f, "Welkom");
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
	snprintf(flag, sizeof(flag), "%s/crash.once", f->t->env.dir);
	fp = fopen(flag, "w");
	assert_non_null(fp);
	fclose(fp);
	setenv("CASEBOT_TEST_CRASH", "sms_committed", 1);
	setenv("CASEBOT_TEST_CRASH_ONCE", flag, 1);
	dt_start_daemon_at(f->t, time(NULL));
	unsetenv("CASEBOT_TEST_CRASH");
	unsetenv("CASEBOT_TEST_CRASH_ONCE");
	assert_true(smsimctl_text(&f->m, FAMILY, "ik kom morgen niet") > 0);
	DT_WAIT_FOR(access(flag, F_OK) != 0, 10000);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 128 + SIGKILL);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM inbound WHERE channel_kind = 'sms' AND status = 'new'"), 1);
	start(f);
	assert_true(smsimctl_wait(&f->m, "inbound_delivered", 2, WAIT_MS) >= 2);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM inbound WHERE status = 'new'") == 0, 10000);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM inbound WHERE channel_kind = 'sms'"), 2);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'"), 1);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* /metrics counts the segments sent, by encoding; French is sent in
 * GSM-7 letters by default. */
static void test_metrics_segments(void **state)
{
	struct sf *f = *state;
	char url[96], *body;
	long status;

	start(f);
	set_lang(f, "fr");
	link_family(f, "Bienvenue");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", f->t->http_port);
	body = testhttp_get(url, &status);
	assert_int_equal(status, 200);
	assert_non_null(body);
	assert_null(strstr(body, "casebot_sms_segments_total{encoding=\"gsm7\"} 0\n"));
	assert_non_null(strstr(body, "casebot_sms_segments_total{encoding=\"ucs2\"} 0\n"));
	free(body);
	/* "arrêter" went as "arreter". */
	DT_WAIT_FOR(sent_index(f, "arreter", 0) >= 0, WAIT_MS);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* 429 with Retry-After: the send waits that long and goes then, once. */
static void test_429_backs_off(void **state)
{
	struct sf *f = *state;
	long long t0;
	int i;

	start(f);
	link_family(f, "Welkom");
	assert_int_equal(smsimctl_fault(&f->m, "429", 1, 1), 0);
	t0 = dt_now_ms();
	add_appointment(f, 3 * 3600);
	DT_WAIT_FOR((i = sent_index(f, "Herinnering", 0)) >= 0, WAIT_MS);
	assert_true(dt_now_ms() - t0 >= 900);
	assert_int_equal(smsimctl_stat(&f->m, "throttled"), 1);
	assert_int_equal(sent_index(f, "Herinnering", i + 1), -1);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND status != 'queued'"
				    " AND status != 'failed'"), 1);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* casebot member add --sms: E.164 or the Belgian national form, stored
 * normalised; the member gets the short welcome at once. Anything
 * ambiguous, or a number already linked, is refused with exit 2. */
static void test_member_add_sms(void **state)
{
	struct sf *f = *state;
	cJSON *all, *m;

	start(f);
	assert_int_equal(testenv_cli(&f->t->env, "member", "add", "F-1", "Noor", "--sms", "0470 12 34 56", NULL), 0);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM channels c JOIN members m ON m.id = c.member_id"
				    " WHERE c.kind = 'sms' AND c.address = '+32470123456' AND m.name = 'Noor'"
				    " AND m.role = 'parent' AND c.verified = 1"), 1);
	assert_true(smsimctl_wait_sent(&f->m, "+32470123456", 1, WAIT_MS) >= 1);
	all = smsimctl_sent(&f->m, "+32470123456");
	m = cJSON_GetArrayItem(all, 0);
	assert_non_null(m);
	assert_non_null(strstr(field(m, "text"), "Welkom"));
	assert_non_null(strstr(field(m, "text"), "STOP"));
	assert_int_equal(cJSON_GetObjectItem(m, "segments")->valueint, 1);
	cJSON_Delete(all);
	assert_int_equal(testenv_cli(&f->t->env, "member", "add", "F-1", "Sam", "--sms", "+32470123456", NULL), 2);
	assert_non_null(strstr(f->t->env.err, "already linked"));
	assert_int_equal(testenv_cli(&f->t->env, "member", "add", "F-1", "Sam", "--sms", "470123456", NULL), 2);
	assert_int_equal(testenv_cli(&f->t->env, "member", "add", "F-1", "Sam", "--sms", "32470123456", NULL), 2);
	assert_int_equal(testenv_cli(&f->t->env, "member", "add", "F-1", "Sam", "--sms", "+32 0470 12 34 56", NULL), 2);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM members WHERE name = 'Sam'"), 0);
	assert_int_equal(testenv_cli(&f->t->env, "member", "add", "F-1", "Sam", "--role", "child", "--sms",
				     "+33 6 12 34 56 78", NULL), 0);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM channels WHERE address = '+33612345678'"), 1);
	assert_true(smsimctl_wait_sent(&f->m, "+33612345678", 1, WAIT_MS) >= 1);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
	/* No number reached the daemon's log. */
	{
		FILE *fp = fopen(f->t->log, "r");
		char line[2048];

		assert_non_null(fp);
		while (fgets(line, sizeof(line), fp) != NULL)
			if (strstr(line, "470123456") != NULL || strstr(line, "612345678") != NULL)
				fail_msg("a number in the log: %s", line);
		fclose(fp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reminder_answered_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reminder_answered_oui, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_four_languages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_21610_at_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_21610_in_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_number_marks_fallback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_refused_and_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_segments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_member_add_sms, setup, teardown),
		cmocka_unit_test_setup_teardown(test_429_backs_off, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
