/* Staff on WhatsApp, the daemon against build/wasim: a counsellor whose
 * chat has been silent for more than 24 hours gets a neutral template and
 * what waits for her once she answers, or hears of it on another channel
 * when the template fails or she does not answer in time; a new number on
 * a staff chat is told to the coordinators and on the staff member's other
 * chat; a user known only by a business-scoped user id is sent to by it. */
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
#include "tests/support/staffchat.h"
#include "tests/support/wasimctl.h"

#define SARA_WA "32470009009"
#define CORA_TG 9104
#define SARA_TG 9101

struct wt {
	struct dt *t;
	struct wasimctl w;
};

static int setup_with(void **state, const char *wasim_args)
{
	struct wt *x = calloc(1, sizeof(*x));
	char ini[1024], url[160];
	void *dts = NULL;

	if (x == NULL || wasimctl_start(&x->w, NULL, wasim_args) != 0)
		return -1;
	snprintf(ini, sizeof(ini),
		 "[whatsapp]\napi_base = %s\nphone_number_id = %s\nverify_token = %s\nwebhook_path = hook\n"
		 "display_number = 32470000000\nrate_per_chat = 5\n",
		 wasimctl_api_base(&x->w), wasimctl_phone_number_id(&x->w), WASIMCTL_VERIFY_TOKEN);
	setenv("CASEBOT_WHATSAPP_TOKEN", WASIMCTL_TOKEN, 1);
	setenv("CASEBOT_WHATSAPP_APP_SECRET", WASIMCTL_APP_SECRET, 1);
	if (dt_setup_with(&dts, ini) != 0)
		return -1;
	x->t = dts;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/whatsapp/hook", x->t->http_port);
	if (wasimctl_set_webhook(&x->w, url) != 0)
		return -1;
	*state = x;
	return 0;
}

/* The staff template approved in Dutch (Sara's language). */
static int setup(void **state)
{
	return setup_with(state, "--template casebot_staff_waiting:nl:0 --status-dup-percent 0");
}

/* No staff template at Meta: sending it fails with 132001. */
static int setup_no_template(void **state)
{
	return setup_with(state, "--status-dup-percent 0");
}

static int teardown(void **state)
{
	struct wt *x = *state;
	void *dts = x->t;
	int rc = dt_teardown(&dts);

	unsetenv("CASEBOT_TEST_WINDOW_WAIT");
	if (wasimctl_stop(&x->w) != 0)
		rc = -1;
	free(x);
	return rc;
}

static void wait_port(struct wt *x)
{
	long long until = dt_now_ms() + 10000;

	while (!dt_port_open(x->t->http_port) && dt_now_ms() < until)
		dt_sleep_ms(20);
	assert_true(dt_port_open(x->t->http_port));
}

static void start(struct wt *x)
{
	dt_start_daemon(x->t);
	wait_port(x);
}

/* The test build, so that $CASEBOT_TEST_WINDOW_WAIT shortens the wait. */
static void start_test_build(struct wt *x, int wait_seconds)
{
	char s[16];

	snprintf(s, sizeof(s), "%d", wait_seconds);
	setenv("CASEBOT_TEST_WINDOW_WAIT", s, 1);
	dt_start_daemon_at(x->t, time(NULL));
	wait_port(x);
}

static int sent_count(struct wt *x, const char *wa_id)
{
	cJSON *sent = wasimctl_sent(&x->w, wa_id);
	int n = cJSON_GetArraySize(sent);

	cJSON_Delete(sent);
	return n;
}

/* The last message wa_id got: its text, type and first button's data. */
static void last_sent(struct wt *x, const char *wa_id, char *text, size_t cap, char *type, size_t tcap, char *data,
		      size_t dcap)
{
	cJSON *sent = wasimctl_sent(&x->w, wa_id), *last, *b;
	const char *s;

	assert_non_null(sent);
	last = cJSON_GetArrayItem(sent, cJSON_GetArraySize(sent) - 1);
	assert_non_null(last);
	s = cJSON_GetStringValue(cJSON_GetObjectItem(last, "text"));
	snprintf(text, cap, "%s", s != NULL ? s : "");
	s = cJSON_GetStringValue(cJSON_GetObjectItem(last, "type"));
	snprintf(type, tcap, "%s", s != NULL ? s : "");
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(last, "buttons"), 0);
	s = cJSON_GetStringValue(cJSON_GetObjectItem(b, "data"));
	snprintf(data, dcap, "%s", s != NULL ? s : "");
	if (cJSON_GetObjectItem(last, "params") != NULL) {
		char *all = cJSON_PrintUnformatted(cJSON_GetObjectItem(last, "params"));

		/* A template's parameters are part of what she reads. */
		snprintf(text + strlen(text), cap - strlen(text), "%s", all);
		free(all);
	}
	cJSON_Delete(sent);
}

/* A staff member on Telegram, paired as staff pair. */
static void link_telegram(struct wt *x, const char *name, const char *role, const char *lang, long long chat)
{
	char text[64];
	const char *p;

	if (role != NULL)
		assert_int_equal(testenv_cli(&x->t->env, "staff", "add", name, "--role", role, "--lang", lang, NULL), 0);
	assert_int_equal(testenv_cli(&x->t->env, "staff", "invite", name, NULL), 0);
	p = strstr(x->t->env.out, "code: ");
	assert_non_null(p);
	snprintf(text, sizeof(text), "/start %.10s", p + 6);
	assert_true(simctl_message(&x->t->sim, chat, text) > 0);
	DT_WAIT_SENT(x->t, chat, 1, 10000);
	staffchat_confirm(x->t, name, chat);
	DT_WAIT_SENT(x->t, chat, 2, 10000);
}

/* Sara links her WhatsApp with her code and the pairing number. */
static void link_sara_whatsapp(struct wt *x)
{
	char code[16], text[4096], type[32], data[64], number[8] = "";
	const char *p;

	assert_int_equal(testenv_cli(&x->t->env, "staff", "invite", "Sara", NULL), 0);
	p = strstr(x->t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, sizeof(code), "%.10s", p + 6);
	assert_true(wasimctl_text(&x->w, SARA_WA, code) > 0);
	assert_true(wasimctl_wait_sent(&x->w, SARA_WA, 1, 20000) >= 1);
	last_sent(x, SARA_WA, text, sizeof(text), type, sizeof(type), data, sizeof(data));
	for (p = text; *p != '\0' && number[0] == '\0'; p++)
		if (strspn(p, "0123456789") == 6 && (p == text || p[-1] < '0' || p[-1] > '9'))
			snprintf(number, sizeof(number), "%.6s", p);
	assert_int_equal(strlen(number), 6);
	assert_int_equal(testenv_cli(&x->t->env, "staff", "confirm", "Sara", number, NULL), 0);
	assert_true(wasimctl_wait_sent(&x->w, SARA_WA, 2, 20000) >= 2);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM outbox WHERE staff_id IS NOT NULL AND status IN ('queued', 'sending')")
			    == 0,
		    10000);
}

/* 25 hours since Sara last wrote on WhatsApp, for wasim and, when both,
 * for the daemon's own record too. */
static void age_sara(struct wt *x, int both)
{
	assert_int_equal(wasimctl_age(&x->w, SARA_WA, 25), 0);
	if (both)
		dt_exec_sql(x->t, "UPDATE channels SET last_inbound_at = last_inbound_at - 25 * 3600"
				  " WHERE kind = 'whatsapp' AND staff_id IS NOT NULL");
}

#define FAMILY_WORDS "Kan ik de afspraak van dinsdag verzetten?"

/* The family writes; the forward to Sara is held and the template goes
 * instead, with nothing of the family in it. Returns Sara's count. */
static int forward_held(struct wt *x, int n, char *data, size_t dcap)
{
	char text[4096], type[32];

	assert_true(simctl_message(&x->t->sim, DT_FAMILY_CHAT, FAMILY_WORDS) > 0);
	assert_true(wasimctl_wait_sent(&x->w, SARA_WA, n + 1, 20000) >= n + 1);
	last_sent(x, SARA_WA, text, sizeof(text), type, sizeof(type), data, dcap);
	assert_string_equal(type, "template");
	assert_null(strstr(text, "dinsdag"));
	assert_null(strstr(text, "F-1"));
	assert_null(strstr(text, "Amina"));
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'queued'"
			 " AND window_held_at IS NOT NULL") == 1,
		    10000);
	return n + 1;
}

/* Her answer to the template opens the window: the held forward comes. */
static void answer_brings_forward(struct wt *x, int n, const char *data)
{
	char text[4096], type[32], d[64];

	assert_true(wasimctl_quick_reply(&x->w, SARA_WA, data, "Toon het") > 0);
	assert_true(wasimctl_wait_sent(&x->w, SARA_WA, n + 1, 20000) >= n + 1);
	last_sent(x, SARA_WA, text, sizeof(text), type, sizeof(type), d, sizeof(d));
	assert_non_null(strstr(text, FAMILY_WORDS));
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status IN ('sent', 'delivered',"
			 " 'read')") == 1,
		    10000);
}

/* Outside the window by the daemon's own record: the template, then the
 * forward once she answers; nothing went free-form into a closed window,
 * nothing failed, and her tap got no answer of its own. */
static void test_template_then_forward(void **state)
{
	struct wt *x = *state;
	char data[64];
	int n;

	start(x);
	dt_link_family(x->t);
	link_sara_whatsapp(x);
	age_sara(x, 1);
	n = forward_held(x, sent_count(x, SARA_WA), data, sizeof(data));
	assert_int_equal(wasimctl_stat(&x->w, "window_violations"), 0);
	answer_brings_forward(x, n, data);
	assert_int_equal(sent_count(x, SARA_WA), n + 1);
	assert_int_equal(wasimctl_stat(&x->w, "window_violations"), 0);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox WHERE status = 'failed'"), 0);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox WHERE kind = 'window_nudge'"), 1);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* The daemon thinks the window open, WhatsApp says it is closed: the
 * refused forward is held all the same, and the template goes. */
static void test_refused_for_window(void **state)
{
	struct wt *x = *state;
	char data[64];
	int n;

	start(x);
	dt_link_family(x->t);
	link_sara_whatsapp(x);
	age_sara(x, 0);
	n = forward_held(x, sent_count(x, SARA_WA), data, sizeof(data));
	answer_brings_forward(x, n, data);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox WHERE status = 'failed' AND kind <> 'window_nudge'"), 0);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* No template at Meta: the nudge fails (132001), and the coordinator
 * hears of the held message on Telegram at once; the forward still waits
 * for Sara's window and comes when she next writes. */
static void test_template_fails_alerts_coordinator(void **state)
{
	struct wt *x = *state;
	char text[4096], type[32], data[64];
	int n;

	start(x);
	dt_link_family(x->t);
	link_telegram(x, "Cora", "coordinator", "en", CORA_TG);
	link_sara_whatsapp(x);
	age_sara(x, 1);
	n = sent_count(x, SARA_WA);
	assert_true(simctl_message(&x->t->sim, DT_FAMILY_CHAT, FAMILY_WORDS) > 0);
	DT_WAIT_SENT(x->t, CORA_TG, 3, 20000);
	dt_sent_text(x->t, CORA_TG, 2, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_non_null(strstr(text, "24 hours"));
	assert_true(wasimctl_stat(&x->w, "template_errors") >= 1);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox WHERE kind = 'window_nudge' AND status = 'failed'"), 1);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'queued'"), 1);
	assert_int_equal(sent_count(x, SARA_WA), n);
	/* She writes on WhatsApp of her own accord: the forward follows. */
	assert_true(wasimctl_text(&x->w, SARA_WA, "/families") > 0);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status IN ('sent', 'delivered',"
			 " 'read')") == 1,
		    20000);
	assert_true(wasimctl_wait_sent(&x->w, SARA_WA, n + 1, 20000) >= n + 1);
	last_sent(x, SARA_WA, text, sizeof(text), type, sizeof(type), data, sizeof(data));
	(void)type;
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'failed'"), 0);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* The template went but Sara does not answer within the wait: she hears
 * of it on her Telegram chat; the forward still comes when she answers. */
static void test_no_answer_alerts_elsewhere(void **state)
{
	struct wt *x = *state;
	char text[4096], data[64];
	int n, tg;

	start_test_build(x, 4);
	dt_link_family(x->t);
	link_telegram(x, "Sara", NULL, NULL, SARA_TG);
	link_sara_whatsapp(x);
	age_sara(x, 1);
	tg = dt_sent_count(x->t, SARA_TG);
	n = forward_held(x, sent_count(x, SARA_WA), data, sizeof(data));
	/* Nothing on Telegram while the wait runs... */
	assert_int_equal(dt_sent_count(x->t, SARA_TG), tg);
	/* ...then the alert. */
	DT_WAIT_SENT(x->t, SARA_TG, tg + 1, 20000);
	dt_sent_text(x->t, SARA_TG, tg, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_null(strstr(text, "dinsdag"));
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"), 1);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'queued'"
			      " AND window_alerted_at IS NOT NULL"),
			 1);
	answer_brings_forward(x, n, data);
	/* Told once. */
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"), 1);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* WhatsApp says Sara's number changed: the change waits for the CLI, and
 * the coordinator and Sara's Telegram chat are told how to confirm it. */
static void test_staff_number_change_told(void **state)
{
	struct wt *x = *state;
	char text[4096], want[64];
	int cora, tg;

	start(x);
	link_telegram(x, "Cora", "coordinator", "en", CORA_TG);
	link_telegram(x, "Sara", NULL, NULL, SARA_TG);
	link_sara_whatsapp(x);
	cora = dt_sent_count(x->t, CORA_TG);
	tg = dt_sent_count(x->t, SARA_TG);
	assert_true(wasimctl_changed_number(&x->w, SARA_WA, "32470009010") > 0);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM channel_identities WHERE pending = 1") == 1, 20000);
	snprintf(want, sizeof(want), "casebot channel confirm %lld",
		 dt_q(x->t, "SELECT id FROM channel_identities WHERE pending = 1"));
	DT_WAIT_SENT(x->t, CORA_TG, cora + 1, 20000);
	dt_sent_text(x->t, CORA_TG, cora, text, sizeof(text));
	assert_non_null(strstr(text, "Sara"));
	assert_non_null(strstr(text, want));
	assert_null(strstr(text, "32470009010"));
	DT_WAIT_SENT(x->t, SARA_TG, tg + 1, 20000);
	dt_sent_text(x->t, SARA_TG, tg, text, sizeof(text));
	assert_non_null(strstr(text, want));
	/* Nothing about it went to the changed chat itself. */
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox o JOIN channels c ON c.id = o.channel_id"
			      " WHERE c.kind = 'whatsapp' AND o.catalog_key = 'staff.number_changed'"),
			 0);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* A family known only by its business-scoped user id links by code and
 * is answered: the welcome goes to that id, in "recipient". */
static void test_user_id_only_family(void **state)
{
	struct wt *x = *state;
	char code[16], body[200];
	const char *p;

	start(x);
	assert_int_equal(testenv_cli(&x->t->env, "invite", "F-1", "--member", "Amina", NULL), 0);
	p = strstr(x->t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, sizeof(code), "%.10s", p + 6);
	snprintf(body, sizeof(body), "{\"user_id\":\"BE.4711\",\"no_number\":true,\"text\":\"%s\"}", code);
	assert_true(wasimctl_inject(&x->w, "message", body) > 0);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM channels WHERE kind = 'whatsapp' AND address = 'BE.4711'") == 1,
		    20000);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM outbox WHERE family_id = 1 AND status IN ('sent', 'delivered',"
			 " 'read')") >= 1,
		    20000);
	assert_true(wasimctl_stat(&x->w, "sent") >= 1);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM outbox WHERE status = 'failed'"), 0);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_template_then_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_for_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_template_fails_alerts_coordinator, setup_no_template, teardown),
		cmocka_unit_test_setup_teardown(test_no_answer_alerts_elsewhere, setup, teardown),
		cmocka_unit_test_setup_teardown(test_staff_number_change_told, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_id_only_family, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
