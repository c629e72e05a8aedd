/* The WhatsApp gateway against build/wasim, the Cloud API simulator: it
 * signs its webhooks, retries them until they are answered 200, sends
 * statuses shuffled and twice, and serves media only with the Bearer token
 * for five minutes. The daemon runs as in production, with Telegram beside
 * it. */
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
#include "tests/support/wasimctl.h"

#define FAMILY_WA "32470001001"

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
		 "display_number = 32470000000\n",
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

static int setup(void **state)
{
	return setup_with(state, "--status-dup-percent 50");
}

static int teardown(void **state)
{
	struct wt *x = *state;
	void *dts = x->t;
	int rc = dt_teardown(&dts);

	if (wasimctl_stop(&x->w) != 0)
		rc = -1;
	free(x);
	return rc;
}

static void start(struct wt *x)
{
	long long until;

	dt_start_daemon(x->t);
	until = dt_now_ms() + 10000;
	while (!dt_port_open(x->t->http_port) && dt_now_ms() < until)
		dt_sleep_ms(20);
	assert_true(dt_port_open(x->t->http_port));
}

/* The family sends its code as a text (what the wa.me link fills in):
 * the chat is linked and welcomed over WhatsApp. */
static void link_family(struct wt *x)
{
	char code[16], body[160];
	const char *p;

	assert_int_equal(testenv_cli(&x->t->env, "invite", "F-1", "--member", "Amina", NULL), 0);
	p = strstr(x->t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, sizeof(code), "%.10s", p + 6);
	assert_non_null(strstr(x->t->env.out, "https://wa.me/32470000000?text="));
	/* The simulator's user has a business-scoped user id beside the
	 * number, as users have since 2026. */
	snprintf(body, sizeof(body), "{\"wa_id\":\"" FAMILY_WA "\",\"user_id\":\"BE.1001\",\"text\":\"%s\"}", code);
	assert_true(wasimctl_inject(&x->w, "message", body) > 0);
	assert_true(wasimctl_wait(&x->w, "hooks_delivered", 1, 10000) >= 1);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM channels WHERE kind = 'whatsapp' AND address = '" FAMILY_WA "'"
			 " AND family_id = 1 AND member_id = 1") == 1, 10000);
	assert_true(wasimctl_wait_sent(&x->w, FAMILY_WA, 1, 20000) >= 1);
}

static void test_onboarding_by_code(void **state)
{
	struct wt *x = *state;
	cJSON *sent;

	start(x);
	link_family(x);
	sent = wasimctl_sent(&x->w, FAMILY_WA);
	assert_non_null(sent);
	assert_true(cJSON_GetArraySize(sent) >= 1);
	cJSON_Delete(sent);
	/* The simulator's contact carries a user id too: the chat learnt it. */
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM channel_identities WHERE pending = 0") == 1, 10000);
	/* What went out is delivered and read; the statuses came shuffled and
	 * some twice, and only moved the rows forward. */
	assert_true(wasimctl_wait(&x->w, "statuses_delivered", 3, 20000) >= 3);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM outbox o JOIN deliveries d ON d.gateway_message_id ="
			 " o.gateway_message_id WHERE o.status = 'read' AND d.state = 3") >= 1, 20000);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM deliveries WHERE state < 3"), 0);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* A forged webhook is refused with nothing stored; a replayed one is
 * answered 200 and handled once. */
static void test_forged_and_duplicate(void **state)
{
	struct wt *x = *state;
	int64_t hook;

	start(x);
	link_family(x);
	assert_true(wasimctl_forge(&x->w, FAMILY_WA, "vervalst") > 0);
	assert_true(wasimctl_wait(&x->w, "forged_refused", 1, 10000) >= 1);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM inbound"), 1);
	hook = wasimctl_text(&x->w, FAMILY_WA, "Hallo, ik heb een vraag");
	assert_true(hook > 0);
	assert_true(wasimctl_wait(&x->w, "hooks_delivered", 2, 10000) >= 2);
	assert_true(wasimctl_replay(&x->w, hook) > 0);
	assert_true(wasimctl_wait(&x->w, "hooks_delivered", 3, 10000) >= 3);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM inbound WHERE status = 'handled'") == 2, 10000);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM inbound"), 2);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'"), 1);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* A PDF is fetched with the Bearer token (GET /{media-id}, then its URL at
 * once), encrypted and filed; a voice note reaches the counsellor. */
static void test_pdf_and_voice(void **state)
{
	struct wt *x = *state;

	start(x);
	link_family(x);
	assert_int_equal(testenv_cli(&x->t->env, "document", "request", "F-1", "--type", "passport", NULL), 0);
	assert_true(wasimctl_document(&x->w, FAMILY_WA, "pdf", 30000, "paspoort.pdf") > 0);
	assert_true(wasimctl_wait(&x->w, "media_downloads", 1, 20000) >= 1);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM documents WHERE family_id = 1 AND mime = 'application/pdf'") == 1,
		    20000);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM downloads"), 0);
	assert_true(wasimctl_voice(&x->w, FAMILY_WA, 7) > 0);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM alerts WHERE family_id = 1 AND kind = 'message'") >= 1, 20000);
	assert_true(dt_q(x->t, "SELECT count(*) FROM contact_log WHERE family_id = 1 AND direction = 'in'"
			 " AND kind = 'document'") >= 1);
	/* The voice note is forwarded, its media id with it. */
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM inbound WHERE status = 'handled'"), 3);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* kill -9 between the commit and the 200: the simulator retries, as Meta
 * does, until the restarted daemon answers; the message is handled once. */
static void test_crash_after_commit(void **state)
{
	struct wt *x = *state;
	char flag[400];
	FILE *fp;

	start(x);
	link_family(x);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
	snprintf(flag, sizeof(flag), "%s/crash.once", x->t->env.dir);
	fp = fopen(flag, "w");
	assert_non_null(fp);
	fclose(fp);
	setenv("CASEBOT_TEST_CRASH", "whatsapp_committed", 1);
	setenv("CASEBOT_TEST_CRASH_ONCE", flag, 1);
	dt_start_daemon_at(x->t, time(NULL));
	unsetenv("CASEBOT_TEST_CRASH");
	unsetenv("CASEBOT_TEST_CRASH_ONCE");
	assert_true(wasimctl_text(&x->w, FAMILY_WA, "ik kom morgen niet") > 0);
	DT_WAIT_FOR(access(flag, F_OK) != 0, 10000);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 128 + SIGKILL);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM inbound WHERE status = 'new'"), 1);
	start(x);
	assert_true(wasimctl_wait(&x->w, "hooks_delivered", 2, 20000) >= 2);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM inbound WHERE status = 'new'") == 0, 10000);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM inbound"), 2);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'"), 1);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

static int reminder_setup(void **state)
{
	return setup_with(state, "--template casebot_reminder:nl:1 --status-dup-percent 0");
}

static int sent_count(struct wt *x)
{
	cJSON *sent = wasimctl_sent(&x->w, FAMILY_WA);
	int n = cJSON_GetArraySize(sent);

	cJSON_Delete(sent);
	return n;
}

/* The data of button i of the last message the family got, and its type. */
static void last_button(struct wt *x, int i, char *data, size_t cap, char *type, size_t tcap)
{
	cJSON *sent = wasimctl_sent(&x->w, FAMILY_WA), *last, *b;
	const char *d, *ty;

	assert_non_null(sent);
	last = cJSON_GetArrayItem(sent, cJSON_GetArraySize(sent) - 1);
	b = cJSON_GetArrayItem(cJSON_GetObjectItem(last, "buttons"), i);
	d = cJSON_GetStringValue(cJSON_GetObjectItem(b, "data"));
	ty = cJSON_GetStringValue(cJSON_GetObjectItem(last, "type"));
	assert_non_null(d);
	snprintf(data, cap, "%s", d);
	snprintf(type, tcap, "%s", ty != NULL ? ty : "");
	cJSON_Delete(sent);
}

static void local_at(time_t offset, char *out, size_t cap)
{
	time_t at = time(NULL) + offset;
	struct tm tm;

	localtime_r(&at, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M", &tm);
}

/* A reminder answered with its reply button; after 25 hours of silence the
 * next one goes as the approved template, and its quick reply answers it
 * just the same: the payload is the button's data. */
static void test_reminder_answered(void **state)
{
	struct wt *x = *state;
	char when[32], data[80], type[32];
	int n;

	start(x);
	link_family(x);
	n = sent_count(x);
	local_at(3 * 3600, when, sizeof(when));
	assert_int_equal(testenv_cli(&x->t->env, "appointment", "add", "F-1", "--at", when, "--kind", "lawyer", NULL),
			 0);
	assert_true(wasimctl_wait_sent(&x->w, FAMILY_WA, n + 1, 20000) >= n + 1);
	last_button(x, 0, data, sizeof(data), type, sizeof(type));
	assert_string_equal(type, "interactive");
	assert_true(wasimctl_button_reply(&x->w, FAMILY_WA, data, NULL) > 0);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM appointments WHERE id = 1 AND status = 'confirmed'") == 1, 20000);
	assert_true(wasimctl_wait_sent(&x->w, FAMILY_WA, n + 2, 20000) >= n + 2);
	/* 25 hours of silence, on both sides. */
	assert_int_equal(wasimctl_age(&x->w, FAMILY_WA, 25), 0);
	dt_exec_sql(x->t, "UPDATE channels SET last_inbound_at = last_inbound_at - 25 * 3600 WHERE kind = 'whatsapp'");
	n = sent_count(x);
	local_at(5 * 3600, when, sizeof(when));
	assert_int_equal(testenv_cli(&x->t->env, "appointment", "add", "F-1", "--at", when, "--kind", "doctor", NULL),
			 0);
	assert_true(wasimctl_wait_sent(&x->w, FAMILY_WA, n + 1, 20000) >= n + 1);
	last_button(x, 1, data, sizeof(data), type, sizeof(type));
	assert_string_equal(type, "template");
	assert_true(wasimctl_quick_reply(&x->w, FAMILY_WA, data, "Kan niet komen") > 0);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM appointments WHERE id = 2 AND status = 'cannot_come'") == 1,
		    20000);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM contact_log WHERE kind = 'reminder_answer' AND direction = 'in'"),
			 2);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

#define SARA_WA "32470009009"

/* The text of the last message wa_id got, and its wamid. */
static void last_sent(struct wt *x, const char *wa_id, char *text, size_t cap, char *id, size_t idcap)
{
	cJSON *sent = wasimctl_sent(&x->w, wa_id), *last;

	assert_non_null(sent);
	last = cJSON_GetArrayItem(sent, cJSON_GetArraySize(sent) - 1);
	assert_non_null(last);
	snprintf(text, cap, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(last, "text")));
	snprintf(id, idcap, "%s", cJSON_GetStringValue(cJSON_GetObjectItem(last, "id")));
	cJSON_Delete(sent);
}

/* A counsellor on WhatsApp links her chat with a staff code and the
 * pairing number, gets a Telegram family's message, and answers it with
 * WhatsApp's reply: the answer reaches the family on Telegram. */
static void test_counsellor_on_whatsapp(void **state)
{
	struct wt *x = *state;
	char code[16], body[256], text[4096], id[160], number[8] = "";
	const char *p;
	int n;

	start(x);
	dt_link_family(x->t);
	assert_int_equal(testenv_cli(&x->t->env, "staff", "invite", "Sara", NULL), 0);
	p = strstr(x->t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, sizeof(code), "%.10s", p + 6);
	assert_true(wasimctl_text(&x->w, SARA_WA, code) > 0);
	assert_true(wasimctl_wait_sent(&x->w, SARA_WA, 1, 20000) >= 1);
	last_sent(x, SARA_WA, text, sizeof(text), id, sizeof(id));
	for (p = text; *p != '\0' && number[0] == '\0'; p++)
		if (strspn(p, "0123456789") == 6 && (p == text || p[-1] < '0' || p[-1] > '9'))
			snprintf(number, sizeof(number), "%.6s", p);
	assert_int_equal(strlen(number), 6);
	assert_int_equal(testenv_cli(&x->t->env, "staff", "confirm", "Sara", number, NULL), 0);
	assert_true(wasimctl_wait_sent(&x->w, SARA_WA, 2, 20000) >= 2);
	n = wasimctl_wait_sent(&x->w, SARA_WA, 2, 1000);
	assert_true(simctl_message(&x->t->sim, DT_FAMILY_CHAT, "Kan ik de afspraak van dinsdag verzetten?") > 0);
	assert_true(wasimctl_wait_sent(&x->w, SARA_WA, n + 1, 20000) >= n + 1);
	last_sent(x, SARA_WA, text, sizeof(text), id, sizeof(id));
	assert_non_null(strstr(text, "Kan ik de afspraak van dinsdag verzetten?"));
	n = dt_sent_count(x->t, DT_FAMILY_CHAT);
	snprintf(body, sizeof(body), "{\"wa_id\":\"" SARA_WA "\",\"text\":\"Ja, bel me morgen.\",\"context_id\":\"%s\"}",
		 id);
	assert_true(wasimctl_inject(&x->w, "message", body) > 0);
	DT_WAIT_SENT(x->t, DT_FAMILY_CHAT, n + 1, 20000);
	dt_sent_text(x->t, DT_FAMILY_CHAT, n, text, sizeof(text));
	assert_non_null(strstr(text, "Ja, bel me morgen."));
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* A household: Amina on Telegram, Youssef on WhatsApp. Each links with
 * a code of their own; what each writes is the family's, logged under
 * the member who wrote it. */
static void test_household(void **state)
{
	struct wt *x = *state;
	char code[16], body[160];
	const char *p;

	assert_int_equal(testenv_cli(&x->t->env, "member", "add", "F-1", "Youssef", "--role", "child", NULL), 0);
	start(x);
	dt_link_family(x->t);
	assert_int_equal(testenv_cli(&x->t->env, "invite", "F-1", "--member", "Youssef", NULL), 0);
	p = strstr(x->t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, sizeof(code), "%.10s", p + 6);
	snprintf(body, sizeof(body), "{\"wa_id\":\"" FAMILY_WA "\",\"text\":\"%s\"}", code);
	assert_true(wasimctl_inject(&x->w, "message", body) > 0);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM channels WHERE family_id = 1") == 2, 20000);
	assert_int_equal(dt_q(x->t, "SELECT m.name = 'Youssef' FROM channels c JOIN members m ON m.id = c.member_id"
			      " WHERE c.kind = 'whatsapp'"), 1);
	assert_true(wasimctl_wait_sent(&x->w, FAMILY_WA, 1, 20000) >= 1);
	assert_true(wasimctl_text(&x->w, FAMILY_WA, "Ik ben Youssef, waar moet ik naartoe?") > 0);
	assert_true(simctl_message(&x->t->sim, DT_FAMILY_CHAT, "Hier Amina, alles goed.") > 0);
	DT_WAIT_FOR(dt_q(x->t, "SELECT count(*) FROM contact_log WHERE family_id = 1 AND direction = 'in'"
			 " AND kind = 'text'") == 2, 20000);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM contact_log l JOIN members m ON m.id = l.member_id"
			      " WHERE l.kind = 'text' AND l.direction = 'in' AND l.channel_kind = 'whatsapp'"
			      " AND m.name = 'Youssef'"), 1);
	assert_int_equal(dt_q(x->t, "SELECT count(*) FROM contact_log l JOIN members m ON m.id = l.member_id"
			      " WHERE l.kind = 'text' AND l.direction = 'in' AND l.channel_kind = 'telegram'"
			      " AND m.name = 'Amina'"), 1);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

/* Meta's verification handshake, from the simulator. */
static void test_verification(void **state)
{
	struct wt *x = *state;
	cJSON *r;

	start(x);
	r = wasimctl_verify(&x->w, NULL, "4242");
	assert_non_null(r);
	assert_int_equal(cJSON_GetObjectItem(r, "status")->valueint, 200);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(r, "echoed")));
	cJSON_Delete(r);
	r = wasimctl_verify(&x->w, "not-the-token", "4242");
	assert_non_null(r);
	assert_int_equal(cJSON_GetObjectItem(r, "status")->valueint, 403);
	cJSON_Delete(r);
	assert_int_equal(dt_stop_daemon(x->t, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verification, setup, teardown),
		cmocka_unit_test_setup_teardown(test_onboarding_by_code, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_and_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pdf_and_voice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reminder_answered, reminder_setup, teardown),
		cmocka_unit_test_setup_teardown(test_counsellor_on_whatsapp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_household, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
