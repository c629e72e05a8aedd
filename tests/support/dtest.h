/* Helpers for tests that run the real daemon against the Telegram
 * simulator: a data directory with a counsellor (Sara) and a family (F-1,
 * Dutch, member Amina), a simulator, the daemon as a child process, and
 * what the simulator recorded. */
#ifndef CASEBOT_DTEST_H
#define CASEBOT_DTEST_H

#include <sys/types.h>

#include "tests/support/simctl.h"
#include "tests/support/testenv.h"

#define DT_TOKEN "123456:TEST-token_abc"
#define DT_FAMILY_CHAT 1001

struct dt {
	struct testenv env;
	struct simctl sim;
	pid_t daemon;
	char log[300];
	int http_port;
	/* When set, runs in the daemon's process before exec: what it adds
	 * to the environment is the daemon's alone. */
	void (*child_env)(struct dt *t);
};

/* cmocka setup and teardown; dt_setup_with appends INI lines to the
 * configuration. The teardown stops the daemon (it must exit 0) and the
 * simulator. */
int dt_setup(void **state);
int dt_setup_with(void **state, const char *more_ini);
/* The same with arguments for the simulator (see simctl_start). */
int dt_setup_sim(void **state, const char *sim_args, const char *more_ini);
int dt_teardown(void **state);

const char *dt_build_dir(void);
void dt_sleep_ms(long ms);
long long dt_now_ms(void);
int dt_free_port(void);
/* 1 when something accepts connections on the loopback port. */
int dt_port_open(int port);
/* One integer from a query on the data directory's database. */
long long dt_q(struct dt *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dt_exec_sql(struct dt *t, const char *sql);
void dt_start_daemon(struct dt *t);
/* Whether the daemon's log (its stdout and stderr) holds what. */
int dt_log_has(struct dt *t, const char *what);
/* The test build of the daemon (build/casebot-test), its clock pinned at
 * now through $CASEBOT_TEST_NOW: what reads that clock (retention) runs
 * as if it were then. */
void dt_start_daemon_at(struct dt *t, time_t now);
/* Sends sig and waits (bounded); the exit status, 128 + signal, or -1. */
int dt_stop_daemon(struct dt *t, int sig);
int dt_sent_count(struct dt *t, long long chat);
/* The n-th message (from 0) the bot sent to chat. */
void dt_sent_text(struct dt *t, long long chat, int n, char *out, size_t cap);
long long dt_sent_message_id(struct dt *t, long long chat, int n);
long long dt_stat(struct dt *t, const char *name);
/* Waits (bounded) until the outbox holds nothing due for a family: every
 * message the daemon meant to send a family by now has gone (or ended),
 * and the simulator has answered it. A test that checks that nothing more
 * was sent asserts after this, not after a pause. */
void dt_wait_family_outbox_idle(struct dt *t);
/* Links DT_FAMILY_CHAT to F-1 with an invite code, as a family does. */
void dt_link_family(struct dt *t);

#define DT_WAIT_FOR(cond, ms) do { \
	long long until_ = dt_now_ms() + (ms); \
	while (!(cond) && dt_now_ms() < until_) \
		dt_sleep_ms(25); \
	assert_true(cond); \
} while (0)

/* Waits on the simulator (it answers when the count is reached, no
 * polling) until the bot has sent at least n messages to chat, then until
 * the daemon has recorded what it sent (no outbox row is 'sending'):
 * the simulator counts a message before the daemon hears the answer.
 * Returns the count. The EXACTLY form then checks that no more went. */
int dt_wait_sent(struct dt *t, long long chat, int n, long ms);
#define DT_WAIT_SENT(t, chat, n, ms) assert_true(dt_wait_sent((t), (chat), (n), (ms)) >= (n))
#define DT_WAIT_SENT_EXACTLY(t, chat, n, ms) do { \
	DT_WAIT_SENT(t, chat, n, ms); \
	assert_int_equal(dt_sent_count((t), (chat)), (n)); \
} while (0)

#endif
