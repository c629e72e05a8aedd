/* Readiness and the operator's counters, against the real daemon and the
 * Telegram simulator: /readyz follows the store and the gateway, failed
 * polls and failed routings are counted, and /metrics says what runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/casebot.h"
#include "tests/support/dtest.h"
#include "tests/support/testhttp.h"

/* GET path on the daemon: the body (caller frees), its status in *status. */
static char *get(struct dt *t, const char *path, long *status)
{
	char url[128];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", t->http_port, path);
	return testhttp_get(url, status);
}

static long ready_status(struct dt *t)
{
	long status = 0;

	free(get(t, "/readyz", &status));
	return status;
}

/* The value of one series ("name{labels}" as written) in /metrics, -1
 * when it is not there. */
static long long metric(struct dt *t, const char *series)
{
	char *body = get(t, "/metrics", NULL), *p;
	long long v = -1;
	size_t n = strlen(series);

	for (p = body; p != NULL && (p = strstr(p, series)) != NULL; p += n)
		if ((p == body || p[-1] == '\n') && p[n] == ' ') {
			v = strtoll(p + n + 1, NULL, 10);
			break;
		}
	free(body);
	return v;
}

/* A second connection to the daemon's database, as the CLI has. */
static sqlite3 *open_db(struct dt *t)
{
	char path[PATH_MAX + 16];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/casebot.db", t->env.data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static void exec_db(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("sql: %s", sqlite3_errmsg(db));
}

static int log_has(struct dt *t, const char *needle)
{
	FILE *f = fopen(t->log, "r");
	char line[1024];
	int found = 0;

	while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	if (f != NULL)
		fclose(f);
	return found;
}

/* Ready once the gateway answers; getUpdates failing three times in a
 * row makes the daemon unready, naming the gateway and no secret, and
 * each failed poll is counted; the next poll that works makes it ready
 * again, and nothing was lost meanwhile. */
static void test_ready_follows_polls(void **state)
{
	struct dt *t = *state;
	char *body, version[64];
	long status = 0;

	dt_start_daemon(t);
	dt_link_family(t);
	body = get(t, "/readyz", &status);
	assert_int_equal(status, 200);
	assert_string_equal(body, "ready\n");
	free(body);
	snprintf(version, sizeof(version), "casebot_build_info{version=\"%s\",sqlite=\"%s\"", CASEBOT_VERSION,
		 sqlite3_libversion());
	body = get(t, "/metrics", NULL);
	assert_non_null(strstr(body, version));
	free(body);
	assert_int_equal(metric(t, "casebot_poll_failures_total{channel=\"telegram\"}"), 0);
	/* The poll waiting now answers with the message; the next three
	 * fail. */
	assert_int_equal(simctl_fault(&t->sim, "500", 3, 0, "getUpdates"), 0);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Is de afspraak morgen?") > 0);
	DT_WAIT_FOR(ready_status(t) == 503, 20000);
	body = get(t, "/readyz", &status);
	assert_int_equal(status, 503);
	assert_non_null(strstr(body, "telegram: 3 polls in a row failed"));
	assert_null(strstr(body, "store"));
	assert_null(strstr(body, DT_TOKEN));
	assert_null(strstr(body, "123456"));
	free(body);
	assert_int_equal(metric(t, "casebot_poll_failures_total{channel=\"telegram\"}"), 3);
	/* /healthz says the same of the gateway. */
	body = get(t, "/healthz", &status);
	assert_int_equal(status, 503);
	assert_non_null(strstr(body, "\"telegram\":\"unreachable\""));
	free(body);
	/* The next poll works: it returns with the next message (a poll
	 * that works and finds nothing returns after its long-poll time). */
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Hallo?") > 0);
	DT_WAIT_FOR(ready_status(t) == 200, 30000);
	assert_int_equal(metric(t, "casebot_poll_failures_total{channel=\"telegram\"}"), 3);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'") == 2, 10000);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* Another connection holding the write lock makes the daemon unready
 * (and /healthz too), without holding up its loop for the store's whole
 * busy timeout; once the lock goes, it is ready again. */
static void test_ready_follows_store(void **state)
{
	struct dt *t = *state;
	sqlite3 *db;
	char *body;
	long status = 0;

	dt_start_daemon(t);
	dt_link_family(t);
	assert_int_equal(ready_status(t), 200);
	db = open_db(t);
	exec_db(db, "BEGIN IMMEDIATE");
	body = get(t, "/readyz", &status);
	assert_int_equal(status, 503);
	assert_string_equal(body, "store: not writable (another connection holds the write lock)\n");
	free(body);
	body = get(t, "/healthz", &status);
	assert_int_equal(status, 503);
	assert_non_null(strstr(body, "\"store\":\"failing\""));
	free(body);
	exec_db(db, "ROLLBACK");
	sqlite3_close(db);
	assert_int_equal(ready_status(t), 200);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A routing that fails for real: the message's first routing fails (an
 * injected fault), and when it is tried again another connection holds
 * the write lock longer than the daemon waits for it, so that neither
 * the routing nor its retry can be written. Both count in
 * casebot_inbound_failures_total; once the lock goes, the message is
 * routed. */
static void test_routing_under_held_lock_counted(void **state)
{
	struct dt *t = *state;
	sqlite3 *db;

	dt_start_daemon(t);
	dt_link_family(t);
	assert_int_equal(metric(t, "casebot_inbound_failures_total"), 0);
	dt_exec_sql(t, "CREATE TRIGGER fail_text BEFORE INSERT ON contact_log WHEN NEW.kind = 'text'"
		       " BEGIN SELECT RAISE(ABORT, 'injected'); END");
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Mag ik later bellen?") > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'new' AND attempts = 1") == 1, 10000);
	assert_int_equal(metric(t, "casebot_inbound_failures_total"), 1);
	db = open_db(t);
	exec_db(db, "DROP TRIGGER fail_text");
	exec_db(db, "BEGIN IMMEDIATE");
	/* The retry comes ROUTER_RETRY_AFTER seconds after the first try. */
	DT_WAIT_FOR(log_has(t, "routing stopped"), 30000);
	exec_db(db, "ROLLBACK");
	sqlite3_close(db);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'") == 1, 15000);
	assert_int_equal(metric(t, "casebot_inbound_failures_total"), 2);
	assert_int_equal(metric(t, "casebot_inbound_failed_total"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dt_setup, dt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ready_follows_polls),
		T(test_ready_follows_store),
		T(test_routing_under_held_lock_counted),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("health", tests, NULL, NULL);
}
