/* WhatsApp end to end: the daemon against wasim, the WhatsApp Cloud API
 * simulator. A family links by its code, gets a reminder and answers it
 * with the message's own choice inside the 24-hour window, or with a
 * template's quick reply after 25 hours of silence; a voice note and a PDF
 * go on to a counsellor on WhatsApp by upload; and a burst of due messages
 * goes within WhatsApp's pair limit. */
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
#include "tests/support/testhttp.h"
#include "tests/support/wasimctl.h"

#define FAMILY_WA "32470001001"
#define SARA_WA "32470009001"
#define WAIT_MS 20000

struct wf {
	struct dt *t;
	struct wasimctl w;
};

static int setup_args(void **state, const char *wasim_args)
{
	struct wf *f = calloc(1, sizeof(*f));
	char ini[512], hook[160];
	void *dt = NULL;

	if (f == NULL || wasimctl_start(&f->w, NULL, wasim_args) != 0)
		return -1;
	setenv("CASEBOT_WHATSAPP_TOKEN", WASIMCTL_TOKEN, 1);
	setenv("CASEBOT_WHATSAPP_APP_SECRET", WASIMCTL_APP_SECRET, 1);
	snprintf(ini, sizeof(ini),
		 "[whatsapp]\napi_base = %s\nphone_number_id = %s\nverify_token = %s\nwebhook_path = hook\n",
		 wasimctl_api_base(&f->w), wasimctl_phone_number_id(&f->w), WASIMCTL_VERIFY_TOKEN);
	if (dt_setup_with(&dt, ini) != 0)
		return -1;
	f->t = dt;
	snprintf(hook, sizeof(hook), "http://127.0.0.1:%d/whatsapp/hook", f->t->http_port);
	if (wasimctl_set_webhook(&f->w, hook) != 0)
		return -1;
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_args(state, "--status-dup-percent 0");
}

static int setup_enforced(void **state)
{
	return setup_args(state, "--enforce --status-dup-percent 0");
}

static int teardown(void **state)
{
	struct wf *f = *state;
	void *dt = f->t;
	int rc = dt_teardown(&dt);

	if (wasimctl_stop(&f->w) != 0)
		rc = -1;
	free(f);
	return rc;
}

static void start(struct wf *f)
{
	long long until;

	dt_start_daemon(f->t);
	until = dt_now_ms() + 10000;
	while (!dt_port_open(f->t->http_port) && dt_now_ms() < until)
		dt_sleep_ms(20);
	assert_true(dt_port_open(f->t->http_port));
}

/* The n-th message (from 0) wasim took for wa_id; the caller deletes it. */
static cJSON *sent_at(struct wf *f, const char *wa_id, int n)
{
	cJSON *all = wasimctl_sent(&f->w, wa_id), *m;

	assert_non_null(all);
	m = cJSON_DetachItemFromArray(all, n);
	cJSON_Delete(all);
	assert_non_null(m);
	return m;
}

static const char *field(const cJSON *m, const char *name)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(m, name));

	return s != NULL ? s : "";
}

/* The index of the first message to wa_id whose text or template holds
 * what, from n on; -1 when none. */
static int sent_index(struct wf *f, const char *wa_id, const char *what, int from)
{
	cJSON *all = wasimctl_sent(&f->w, wa_id), *m;
	int i = 0, found = -1;

	cJSON_ArrayForEach(m, all) {
		if (found < 0 && i >= from &&
		    (strstr(field(m, "text"), what) != NULL || strcmp(field(m, "template"), what) == 0))
			found = i;
		i++;
	}
	cJSON_Delete(all);
	return found;
}

/* F-1's member Amina links FAMILY_WA by sending her code as a text. */
static void link_family(struct wf *f)
{
	char code[32];
	const char *p;

	assert_int_equal(testenv_cli(&f->t->env, "invite", "F-1", "--member", "Amina", NULL), 0);
	p = strstr(f->t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, sizeof(code), "%.10s", p + 6);
	assert_true(wasimctl_text(&f->w, FAMILY_WA, code) > 0);
	assert_true(wasimctl_wait_sent(&f->w, FAMILY_WA, 1, WAIT_MS) >= 1);
	DT_WAIT_FOR(sent_index(f, FAMILY_WA, "Welkom", 0) >= 0, WAIT_MS);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM channels WHERE kind = 'whatsapp' AND family_id = 1"), 1);
}

static void add_appointment(struct wf *f)
{
	char when[32];
	time_t at = time(NULL) + 3 * 3600;
	struct tm tm;

	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&f->t->env, "appointment", "add", "F-1", "--at", when, "--kind", "lawyer", NULL), 0);
}

static int confirmed(struct wf *f)
{
	return dt_q(f->t, "SELECT count(*) FROM appointments WHERE status = 'confirmed'") == 1;
}

/* Inside the window the reminder is free-form, its choices WhatsApp's own
 * (reply buttons, or a list beyond three); choosing one confirms. */
static void test_reminder_answered_in_window(void **state)
{
	struct wf *f = *state;
	cJSON *m, *b;
	int i;

	start(f);
	link_family(f);
	add_appointment(f);
	DT_WAIT_FOR((i = sent_index(f, FAMILY_WA, "Herinnering", 0)) >= 0, WAIT_MS);
	m = sent_at(f, FAMILY_WA, i);
	assert_string_equal(field(m, "type"), "interactive");
	b = cJSON_GetObjectItem(m, "buttons");
	assert_true(cJSON_GetArraySize(b) >= 3);
	assert_string_equal(field(cJSON_GetArrayItem(b, 0), "data"), "ap:1:1");
	if (strcmp(field(m, "interactive"), "list") == 0)
		assert_true(wasimctl_list_reply(&f->w, FAMILY_WA, "ap:1:1", field(cJSON_GetArrayItem(b, 0), "title")) > 0);
	else
		assert_true(wasimctl_button_reply(&f->w, FAMILY_WA, "ap:1:1", NULL) > 0);
	cJSON_Delete(m);
	DT_WAIT_FOR(confirmed(f), WAIT_MS);
	DT_WAIT_FOR(sent_index(f, FAMILY_WA, "Bedankt", i + 1) >= 0, WAIT_MS);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND status IN ('sent',"
				    " 'delivered', 'read') AND gateway_message_id LIKE 'wamid.%%'"), 1);
	assert_int_equal(wasimctl_stat(&f->w, "window_violations"), 0);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* 25 hours of silence: the daemon knows it, and sends the approved
 * template in Dutch; its quick reply confirms as the choice would; the
 * template is counted in /metrics. */
static void test_reminder_template_after_silence(void **state)
{
	struct wf *f = *state;
	char url[128], *metrics;
	cJSON *m;
	int i;

	start(f);
	link_family(f);
	assert_int_equal(wasimctl_template(&f->w, "casebot_reminder", "nl", 1), 0);
	dt_exec_sql(f->t, "UPDATE channels SET last_inbound_at = last_inbound_at - 25 * 3600 WHERE kind = 'whatsapp'");
	assert_int_equal(wasimctl_age(&f->w, FAMILY_WA, 25), 0);
	add_appointment(f);
	DT_WAIT_FOR((i = sent_index(f, FAMILY_WA, "casebot_reminder", 0)) >= 0, WAIT_MS);
	m = sent_at(f, FAMILY_WA, i);
	assert_string_equal(field(m, "type"), "template");
	assert_string_equal(field(m, "language"), "nl");
	assert_string_equal(field(cJSON_GetArrayItem(cJSON_GetObjectItem(m, "buttons"), 0), "data"), "ap:1:1");
	cJSON_Delete(m);
	/* Nothing was tried free-form first: the daemon knew. */
	assert_int_equal(wasimctl_stat(&f->w, "window_violations"), 0);
	assert_true(wasimctl_quick_reply(&f->w, FAMILY_WA, "ap:1:1", "Ik kom") > 0);
	DT_WAIT_FOR(confirmed(f), WAIT_MS);
	/* The quick reply opened the window: the thanks is free-form. */
	DT_WAIT_FOR(sent_index(f, FAMILY_WA, "Bedankt", i + 1) >= 0, WAIT_MS);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", f->t->http_port);
	metrics = testhttp_get(url, NULL);
	assert_non_null(metrics);
	assert_non_null(strstr(metrics, "casebot_templates_sent_total{channel=\"whatsapp\",template=\"casebot_reminder\"} 1"));
	free(metrics);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* The daemon's record says the family wrote lately, WhatsApp says more
 * than 24 hours: the free-form send is refused (131047), and the template
 * goes in its place at once; the row is sent. */
static void test_window_refusal_falls_back(void **state)
{
	struct wf *f = *state;
	int i;

	start(f);
	link_family(f);
	assert_int_equal(wasimctl_template(&f->w, "casebot_reminder", "nl", 1), 0);
	assert_int_equal(wasimctl_age(&f->w, FAMILY_WA, 25), 0);
	add_appointment(f);
	DT_WAIT_FOR((i = sent_index(f, FAMILY_WA, "casebot_reminder", 0)) >= 0, WAIT_MS);
	assert_true(wasimctl_stat(&f->w, "window_violations") >= 1);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM outbox WHERE kind = 'reminder'"
			       " AND status IN ('sent', 'delivered', 'read')") == 1, WAIT_MS);
	assert_true(wasimctl_quick_reply(&f->w, FAMILY_WA, "ap:1:1", "Ik kom") > 0);
	DT_WAIT_FOR(confirmed(f), WAIT_MS);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* A template WhatsApp has not approved in the family's language (132001):
 * the message fails with that reason and the counsellor is alerted. */
static void test_template_missing_alerts(void **state)
{
	struct wf *f = *state;

	start(f);
	link_family(f);
	dt_exec_sql(f->t, "UPDATE channels SET last_inbound_at = last_inbound_at - 25 * 3600 WHERE kind = 'whatsapp'");
	assert_int_equal(wasimctl_age(&f->w, FAMILY_WA, 25), 0);
	add_appointment(f);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND status = 'failed'"
			       " AND last_error LIKE '%%132001%%'") == 1, WAIT_MS);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"
			       " AND json_extract(params, '$.reason') = 'template'") == 1, WAIT_MS);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* Not on WhatsApp (131026), in the answer or later in a failed status:
 * the reminder fails, the chat keeps the reason for the family's next
 * channel and takes nothing more, the counsellor is alerted. */
static void unreachable(struct wf *f, const char *mode)
{
	start(f);
	link_family(f);
	assert_int_equal(wasimctl_unreachable(&f->w, FAMILY_WA, mode), 0);
	add_appointment(f);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM channels WHERE kind = 'whatsapp' AND blocked = 1"
			       " AND fallback_reason LIKE '%%131026%%'") == 1, WAIT_MS);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND status = 'failed'") >= 1,
		    WAIT_MS);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"
			       " AND json_extract(params, '$.reason') = 'unreachable'") >= 1, WAIT_MS);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

static void test_unreachable_in_answer(void **state)
{
	unreachable(*state, "sync");
}

static void test_unreachable_in_status(void **state)
{
	unreachable(*state, "async");
}

/* The family's voice note and PDF reach its counsellor on WhatsApp as
 * files: fetched from WhatsApp, uploaded again, sent by the new ids. */
static void test_voice_and_pdf_sent_on(void **state)
{
	struct wf *f = *state;
	char sql[512];
	cJSON *all, *m;
	int audio = 0, document = 0;

	snprintf(sql, sizeof(sql),
		 "INSERT INTO channels (staff_id, kind, address, verified, created_at, confirmed_at) VALUES"
		 " (1, 'whatsapp', '" SARA_WA "', 1, %lld, %lld)", (long long)time(NULL), (long long)time(NULL));
	dt_exec_sql(f->t, sql);
	start(f);
	/* Sara wrote today: her window is open. */
	assert_true(wasimctl_text(&f->w, SARA_WA, "hallo") > 0);
	link_family(f);
	assert_true(wasimctl_voice(&f->w, FAMILY_WA, 4) > 0);
	assert_true(wasimctl_document(&f->w, FAMILY_WA, "pdf", 20000, "brief.pdf") > 0);
	assert_true(wasimctl_wait(&f->w, "media_uploads", 2, 30000) >= 2);
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status IN ('sent', 'delivered',"
			       " 'read') AND channel_id = (SELECT id FROM channels WHERE address = '" SARA_WA "')") >= 2,
		    WAIT_MS);
	all = wasimctl_sent(&f->w, SARA_WA);
	cJSON_ArrayForEach(m, all) {
		audio += strcmp(field(m, "type"), "audio") == 0;
		document += strcmp(field(m, "type"), "document") == 0;
	}
	cJSON_Delete(all);
	assert_int_equal(audio, 1);
	assert_int_equal(document, 1);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

/* 120 messages due at once for 40 chats, three each, with the simulator
 * refusing what breaks the limits: none does. */
static void test_burst_within_pair_limit(void **state)
{
	struct wf *f = *state;
	char sql[512], wa[24];
	long long now = (long long)time(NULL), t0, t1;

	for (int i = 0; i < 40; i++) {
		snprintf(wa, sizeof(wa), "3247100%04d", i);
		snprintf(sql, sizeof(sql),
			 "INSERT INTO channels (id, family_id, kind, address, verified, created_at, last_inbound_at)"
			 " VALUES (%d, 1, 'whatsapp', '%s', 1, %lld, %lld)", 100 + i, wa, now, now);
		dt_exec_sql(f->t, sql);
	}
	start(f);
	/* What opens WhatsApp's window: each person wrote. */
	for (int i = 0; i < 40; i++) {
		snprintf(wa, sizeof(wa), "3247100%04d", i);
		assert_true(wasimctl_text(&f->w, wa, "hallo") > 0);
	}
	assert_true(wasimctl_wait(&f->w, "hooks_delivered", 40, WAIT_MS) >= 40);
	/* Each hallo went to the counsellor and was answered: wait for quiet. */
	dt_wait_family_outbox_idle(f->t);
	t0 = dt_now_ms();
	for (int i = 0; i < 40; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, not_before, created_at, updated_at)"
			 " SELECT 1, %d, 'notice', 'forward.ack', %lld, %lld, %lld FROM (SELECT 1 UNION SELECT 2"
			 " UNION SELECT 3)", 100 + i, now, now, now);
		dt_exec_sql(f->t, sql);
	}
	/* Three to a chat at one per six seconds: a dozen seconds at least. */
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM outbox WHERE kind = 'notice' AND status IN ('sent', 'delivered',"
			       " 'read')") == 120, 120000);
	t1 = dt_now_ms();
	assert_int_equal(wasimctl_stat(&f->w, "pair_breaches"), 0);
	assert_int_equal(wasimctl_stat(&f->w, "throughput_breaches"), 0);
	assert_int_equal(dt_q(f->t, "SELECT count(*) FROM outbox WHERE kind = 'notice' AND attempts > 1"), 0);
	print_message("burst: 120 messages to 40 chats in %lld ms, 0 pair-limit breaches\n", t1 - t0);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reminder_answered_in_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reminder_template_after_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_refusal_falls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_missing_alerts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_in_answer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_in_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_voice_and_pdf_sent_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_burst_within_pair_limit, setup_enforced, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
