/* The daemon through faults around it: another program writing to the
 * database while updates are routed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/support/dtest.h"

struct writer {
	char path[PATH_MAX + 16];
	int held;                    /* the lock was taken mid-batch */
};

/* Tries again at once: the writer takes the lock in the first gap
 * between two of the daemon's transactions. */
static int spin(void *arg, int n)
{
	(void)arg;
	sched_yield();
	return n < 10000000;
}

static int count_handled(sqlite3 *db)
{
	sqlite3_stmt *q;
	int n = -1;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM inbound WHERE status = 'handled'", -1, &q, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* Another connection (the CLI) that writes while a batch is being routed:
 * once the routing of the batch has begun, it takes the write lock, holds
 * it half a second, and commits. */
static void *writer_run(void *arg)
{
	struct writer *w = arg;
	long long until = dt_now_ms() + 20000;
	sqlite3 *db;
	int n;

	if (sqlite3_open(w->path, &db) != SQLITE_OK)
		return NULL;
	sqlite3_busy_timeout(db, 5000);
	while ((n = count_handled(db)) < 3 && dt_now_ms() < until)
		;
	sqlite3_busy_handler(db, spin, NULL);
	if (n >= 3 && n < 61 && sqlite3_exec(db, "BEGIN IMMEDIATE; UPDATE staff SET away = away;", NULL, NULL, NULL) ==
	    SQLITE_OK) {
		w->held = count_handled(db) < 61;
		dt_sleep_ms(500);
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			w->held = 0;
	}
	sqlite3_close(db);
	return NULL;
}

/* Sixty updates wait at Telegram while the daemon is down; it comes back
 * and gets them in one batch, and while that batch is being routed,
 * another connection holds the write lock for half a second and commits.
 * Routing waits for the lock, and every update is routed within two
 * seconds of its release. */
static void test_routing_waits_for_the_lock(void **state)
{
	struct dt *t = *state;
	struct writer w;
	pthread_t th;
	long long released;

	dt_start_daemon(t);
	dt_link_family(t);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	for (int i = 0; i < 60; i++) {
		char text[64];

		snprintf(text, sizeof(text), "bericht nummer %d", i);
		assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, text) > 0);
	}
	/* The batch comes a while after the start, apart from the daemon's
	 * start-up work (its first housekeeping, which routes what is due). */
	assert_int_equal(simctl_fault(&t->sim, "slow", 1, 1500, "getUpdates"), 0);
	memset(&w, 0, sizeof(w));
	snprintf(w.path, sizeof(w.path), "%s/casebot.db", t->env.data);
	assert_int_equal(pthread_create(&th, NULL, writer_run, &w), 0);
	dt_start_daemon(t);
	pthread_join(th, NULL);
	released = dt_now_ms();
	/* The lock was held while the batch was half routed. */
	assert_true(w.held);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'handled'") == 61, 2000);
	assert_true(dt_now_ms() - released <= 2100);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'"), 60);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_routing_waits_for_the_lock, dt_setup, dt_teardown),
	};

	/* CASEBOT_TEST_FILTER=test_routing* runs only what matches. */
	if (getenv("CASEBOT_TEST_FILTER") != NULL)
		cmocka_set_test_filter(getenv("CASEBOT_TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
