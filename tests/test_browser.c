/* The web console in a real browser. The group setup runs the daemon
 * against the Telegram simulator with two counsellors (Sara, who has F-1
 * and F-2, and Ana), F-1's chat linked and one message from it, a reminded
 * appointment and an open alert; then tests/browser/console.mjs drives
 * Debian's chromium through the console once. Each test here checks one
 * of its steps, and what that step left in the store or the simulator. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "bot/config.h"
#include "locales/locale.h"
#include "locales/note.h"
#include "store/store.h"
#include "tests/support/dtest.h"

#define PASSWORD "a long browser password"
#define WRITE_TEXT "Tot morgen om tien uur, Sara"
#define LIVE_TEXT "De politie staat aan de deur"
#define CHROMIUM "/usr/bin/chromium"

struct bt {
	struct dt *t;
	cJSON *results;
	char shots[512];
};

static int cli_password(struct testenv *e, const char *name)
{
	int fds[2], saved = dup(STDIN_FILENO), rc;

	if (saved < 0 || pipe(fds) != 0)
		return -1;
	if (write(fds[1], PASSWORD "\n", strlen(PASSWORD) + 1) < 0)
		return -1;
	close(fds[1]);
	dup2(fds[0], STDIN_FILENO);
	close(fds[0]);
	clearerr(stdin);
	rc = testenv_cli(e, "staff", "password", name, NULL);
	dup2(saved, STDIN_FILENO);
	close(saved);
	clearerr(stdin);
	return rc;
}

static int totp_secret(struct testenv *e, const char *name, char *out, size_t cap)
{
	const char *s;

	if (testenv_cli(e, "staff", "totp", name, NULL) != 0 || (s = strstr(e->out, "secret=")) == NULL)
		return -1;
	s += 7;
	snprintf(out, cap, "%.*s", (int)strcspn(s, "&"), s);
	return 0;
}

/* What the family page says of the family's message, in Sara's language,
 * as the catalogs render the row the daemon wrote. */
static int keep_inbound(const void *rec, void *arg)
{
	const struct contact *c = rec;
	struct contact *out = arg;

	if (strcmp(c->direction, "in") == 0 && strcmp(c->kind, "text") == 0)
		*out = *c;
	return 0;
}

static int inbound_sentence(struct dt *t, char *out, size_t cap)
{
	struct store *st = NULL;
	struct locales *loc = NULL;
	struct contact c;
	char err[256];
	int rc = -1;

	memset(&c, 0, sizeof(c));
	if (store_open(t->env.data, 0, &st, err, sizeof(err)) != 0 ||
	    locale_load(CASEBOT_LOCALES_DIR, &loc, err, sizeof(err)) != 0)
		goto out;
	if (store_contact_each(st, 1, 0, keep_inbound, &c) != 0 || c.id == 0)
		goto out;
	rc = note_contact(loc, LANG_NL, &c, out, cap);
out:
	if (st != NULL)
		store_close(st);
	if (loc != NULL)
		locale_free(loc);
	return rc;
}

static int run_browser(struct bt *b, const char *sara, const char *ana, const char *sentence)
{
	char url[64], results[600], port[16], chat[24];
	pid_t pid;
	int status;
	FILE *f;
	long n;
	char *text;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", b->t->http_port);
	snprintf(results, sizeof(results), "%s/browser.json", b->t->env.dir);
	snprintf(port, sizeof(port), "%d", b->t->http_port);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		setenv("CONSOLE_URL", url, 1);
		setenv("CHROMIUM", CHROMIUM, 1);
		setenv("RESULTS", results, 1);
		setenv("SCREENSHOTS", b->shots, 1);
		setenv("PASSWORD", PASSWORD, 1);
		setenv("SARA_SECRET", sara, 1);
		setenv("ANA_SECRET", ana, 1);
		setenv("INBOUND_SENTENCE", sentence, 1);
		setenv("WRITE_TEXT", WRITE_TEXT, 1);
		setenv("SIM_BASE", simctl_base(&b->t->sim), 1);
		snprintf(chat, sizeof(chat), "%d", DT_FAMILY_CHAT);
		setenv("FAMILY_CHAT", chat, 1);
		setenv("LIVE_TEXT", LIVE_TEXT, 1);
		/* Its lines go to stderr: the TAP on stdout is cmocka's. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execlp("node", "node", "tests/browser/console.mjs", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "node exited with status %d\n", status);
		return -1;
	}
	if ((f = fopen(results, "r")) == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	if (text == NULL || fread(text, 1, (size_t)n, f) != (size_t)n) {
		free(text);
		fclose(f);
		return -1;
	}
	fclose(f);
	b->results = cJSON_Parse(text);
	free(text);
	return b->results != NULL ? 0 : -1;
}

static int group_setup(void **state)
{
	struct bt *b = calloc(1, sizeof(*b));
	char sara[80], ana[80], sentence[512], sql[512], when[32];
	time_t tomorrow = time(NULL) + 24 * 3600;
	struct tm lt;

	if (b == NULL || dt_setup((void **)&b->t) != 0)
		return -1;
	snprintf(b->shots, sizeof(b->shots), "%s", dt_build_dir());
	localtime_r(&tomorrow, &lt);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &lt);
	if (testenv_cli(&b->t->env, "staff", "add", "Ana", "--role", "counsellor", "--lang", "en", NULL) != 0 ||
	    testenv_cli(&b->t->env, "family", "add", "F-2", "--lang", "fr", "--counsellor", "Sara", NULL) != 0 ||
	    testenv_cli(&b->t->env, "appointment", "add", "F-1", "--at", when, "--kind", "lawyer", NULL) != 0 ||
	    cli_password(&b->t->env, "Sara") != 0 || cli_password(&b->t->env, "Ana") != 0 ||
	    totp_secret(&b->t->env, "Sara", sara, sizeof(sara)) != 0 ||
	    totp_secret(&b->t->env, "Ana", ana, sizeof(ana)) != 0) {
		fprintf(stderr, "setup: %s\n", b->t->env.err);
		return -1;
	}
	dt_start_daemon(b->t);
	dt_link_family(b->t);
	if (simctl_message(&b->t->sim, DT_FAMILY_CHAT, "Wanneer is de afspraak precies?") <= 0)
		return -1;
	DT_WAIT_FOR(dt_q(b->t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'") == 1,
		    20000);
	/* The reminder went and nobody confirmed; an alert waits for Sara. */
	dt_exec_sql(b->t, "UPDATE appointments SET reminded_at = strftime('%s', 'now') WHERE family_id = 1");
	snprintf(sql, sizeof(sql),
		 "INSERT INTO alerts (family_id, staff_id, kind, urgent, summary, created_at) "
		 "VALUES (1, 1, 'unconfirmed', 0, 'unconfirmed', strftime('%%s', 'now'));"
		 "UPDATE alerts SET group_id = id;");
	dt_exec_sql(b->t, sql);
	if (inbound_sentence(b->t, sentence, sizeof(sentence)) != 0)
		return -1;
	if (run_browser(b, sara, ana, sentence) != 0)
		return -1;
	*state = b;
	return 0;
}

static int group_teardown(void **state)
{
	struct bt *b = *state;
	void *t = b->t;
	int rc = dt_teardown(&t);

	cJSON_Delete(b->results);
	free(b);
	return rc;
}

static void assert_step(struct bt *b, const char *name)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(b->results, name);

	if (!cJSON_IsString(r) || strcmp(r->valuestring, "ok") != 0) {
		fprintf(stderr, "%s: %s\n", name, cJSON_IsString(r) ? r->valuestring : "did not run");
		fail();
	}
}

static void test_login_with_password_and_totp(void **state)
{
	struct bt *b = *state;

	assert_step(b, "login");
	assert_true(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'console.login' AND actor = 'console:Sara'") >= 1);
}

static void test_wrong_totp_refused(void **state)
{
	struct bt *b = *state;

	assert_step(b, "wrong_totp");
	assert_true(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'console.login_failed'") >= 1);
}

static void test_overview_family_never_reached(void **state)
{
	assert_step(*state, "never_reached");
}

static void test_overview_unconfirmed_reminder(void **state)
{
	struct bt *b = *state;

	assert_step(b, "unconfirmed");
	assert_true(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'console.export' AND detail = 'unconfirmed'") == 1);
}

static void test_family_page_inbound_in_readers_language(void **state)
{
	struct bt *b = *state;

	assert_step(b, "inbound");
	assert_true(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'console.view' AND family_ref = 'F-1'") >= 1);
}

static int sent_has(struct dt *t, const char *needle)
{
	cJSON *s = simctl_sent(&t->sim, DT_FAMILY_CHAT), *m;
	int found = 0;

	cJSON_ArrayForEach(m, s) {
		const cJSON *text = cJSON_GetObjectItem(m, "text");

		if (cJSON_IsString(text) && strstr(text->valuestring, needle) != NULL)
			found = 1;
	}
	cJSON_Delete(s);
	return found;
}

/* The words reach the family's chat in the simulator, signed like a
 * counsellor's reply. */
static void test_write_to_family_through_chat(void **state)
{
	struct bt *b = *state;

	assert_step(b, "write");
	DT_WAIT_FOR(sent_has(b->t, WRITE_TEXT), 20000);
	assert_true(sent_has(b->t, "Sara"));
	assert_int_equal(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'console.write' AND family_ref = 'F-1'"), 1);
	assert_int_equal(dt_q(b->t, "SELECT count(*) FROM contact_log WHERE kind = 'reply' AND family_id = 1"), 1);
}

static void test_acknowledge_alert(void **state)
{
	struct bt *b = *state;

	assert_step(b, "ack");
	assert_true(dt_q(b->t, "SELECT acked_at IS NOT NULL FROM alerts WHERE kind = 'unconfirmed'") == 1);
	assert_int_equal(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'alert.ack' AND family_ref = 'F-1'"), 1);
}

static void test_post_without_csrf_refused(void **state)
{
	struct bt *b = *state;

	assert_step(b, "csrf");
	/* Only the form's own message went. */
	assert_int_equal(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'console.write'"), 1);
}

static void test_counsellor_refused_other_family(void **state)
{
	struct bt *b = *state;

	assert_step(b, "refused");
	assert_int_equal(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'scope.refused' AND actor = 'console:Ana'"
				    " AND family_ref = 'F-1'"),
			 1);
	assert_int_equal(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'console.view' AND actor = 'console:Ana'"), 0);
}

static void test_phone_width_layout(void **state)
{
	struct bt *b = *state;
	char path[700];
	struct stat sb;

	assert_step(b, "phone");
	snprintf(path, sizeof(path), "%s/console-overview-360.png", b->shots);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size > 1000);
	snprintf(path, sizeof(path), "%s/console-family-360.png", b->shots);
	assert_int_equal(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/console-family.png", b->shots);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size > 1000);
}

/* Every control of six pages is reached by Tab, in turn, with a focus
 * outline that stands out; and a check-in plan set with the keyboard
 * alone is in the store. */
static void test_keyboard_alone(void **state)
{
	struct bt *b = *state;

	assert_step(b, "keyboard");
	assert_int_equal(dt_q(b->t, "SELECT every_days * 10 + weekday FROM checkin_plans WHERE family_id = 1 AND active"),
			 142);
	assert_int_equal(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'checkin.set' AND actor = 'console:Sara'"),
			 1);
}

/* Every text on seven pages has WCAG AA contrast, computed in the browser
 * from the colours it uses. */
static void test_contrast_aa(void **state)
{
	assert_step(*state, "contrast");
}

/* The family writes urgent words while the overview is open: the
 * overview shows the new alert, linked to its family, without a reload;
 * the poll that brought it is audited. */
static void test_live_alert(void **state)
{
	struct bt *b = *state;

	assert_step(b, "live");
	assert_int_equal(dt_q(b->t, "SELECT count(*) FROM alerts WHERE kind = 'urgent' AND family_id = 1"), 1);
	assert_true(dt_q(b->t, "SELECT count(*) FROM audit WHERE action = 'alerts.read' AND detail = 'live'") >= 1);
}

/* The caseload's chart is drawn by the server, its numbers in its title. */
static void test_caseload_chart(void **state)
{
	assert_step(*state, "caseload");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrong_totp_refused),
		cmocka_unit_test(test_login_with_password_and_totp),
		cmocka_unit_test(test_overview_family_never_reached),
		cmocka_unit_test(test_overview_unconfirmed_reminder),
		cmocka_unit_test(test_family_page_inbound_in_readers_language),
		cmocka_unit_test(test_write_to_family_through_chat),
		cmocka_unit_test(test_acknowledge_alert),
		cmocka_unit_test(test_post_without_csrf_refused),
		cmocka_unit_test(test_phone_width_layout),
		cmocka_unit_test(test_caseload_chart),
		cmocka_unit_test(test_keyboard_alone),
		cmocka_unit_test(test_contrast_aa),
		cmocka_unit_test(test_live_alert),
		cmocka_unit_test(test_counsellor_refused_other_family),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
