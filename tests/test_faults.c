/* The daemon through faults around it: a gateway outage (the simulator
 * answers 500 for longer than a few attempts' worth: a message is tried
 * again until its own expiry, and only then given up, with an alert on
 * another gateway; the test build caps the retry backoff,
 * $CASEBOT_TEST_RETRY_MAX, so that many attempts take seconds), and
 * sends that time out, another program writing to the database while
 * updates are routed, and update ids that start again after a quiet week. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/dtest.h"
#include "tests/support/mailbox.h"
#include "tests/support/testhttp.h"

#define SARA_CHAT 2001

/* The daemon under test, with retries at most a second apart. */
static void start_fast_retries(struct dt *t)
{
	setenv("CASEBOT_TEST_RETRY_MAX", "1", 1);
	dt_start_daemon_at(t, time(NULL));
	unsetenv("CASEBOT_TEST_RETRY_MAX");
}

/* An outage longer than eight attempts: the message still goes once the
 * gateway is back, and nothing is failed on the way. */
static void test_outage_outlived(void **state)
{
	struct dt *t = *state;

	start_fast_retries(t);
	dt_link_family(t);
	assert_int_equal(simctl_fault(&t->sim, "500", 14, 0, "sendMessage"), 0);
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "passport", NULL), 0);
	DT_WAIT_SENT(t, DT_FAMILY_CHAT, 2, 60000);
	assert_int_equal(dt_q(t, "SELECT status = 'sent' FROM outbox WHERE kind = 'document_request'"), 1);
	assert_true(dt_q(t, "SELECT attempts FROM outbox WHERE kind = 'document_request'") >= 15);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE status = 'failed'"), 0);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* Telegram stays down: the forward to Sara's Telegram chat is tried until
 * its day is over (the test brings that moment near), then failed, and
 * Sara hears of it by email, her other gateway. */
static void test_outage_gives_up_with_alert_elsewhere(void **state)
{
	struct dt *t = *state;
	struct mailbox mb;
	char sql[512];

	mailbox_start(&mb, t);
	/* Sara reads her families on Telegram, and has an email address. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO channels (staff_id, kind, address, verified, created_at) VALUES"
		 " (1, 'telegram', '%d', 1, %lld), (1, 'email', 'sara@example.org', 1, %lld);",
		 SARA_CHAT, (long long)time(NULL), (long long)time(NULL));
	dt_exec_sql(t, sql);
	start_fast_retries(t);
	dt_link_family(t);
	assert_int_equal(simctl_fault(&t->sim, "500", 100000, 0, "sendMessage"), 0);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Kan ik morgen langskomen?") > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND give_up_at IS NOT NULL") == 1,
		    20000);
	/* Many attempts, and still queued: a day is not over. */
	DT_WAIT_FOR(dt_q(t, "SELECT attempts FROM outbox WHERE kind = 'forward'") > 9, 30000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'failed'"), 0);
	/* The day ends now. */
	snprintf(sql, sizeof(sql), "UPDATE outbox SET give_up_at = %lld WHERE kind = 'forward';",
		 (long long)time(NULL) + 2);
	dt_exec_sql(t, sql);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'failed'") == 1, 20000);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox o JOIN channels c ON c.id = o.channel_id"
			 " WHERE o.kind = 'alert' AND c.kind = 'email' AND o.status = 'sent'") >= 1, 20000);
	DT_WAIT_FOR(mailbox_count(&mb, "To: sara@example.org", NULL, 0) >= 1, 10000);
	assert_true(mailbox_count(&mb, "F-1", NULL, 0) >= 1);
	/* No word of the family's in the mail. */
	assert_int_equal(mailbox_count(&mb, "langskomen", NULL, 0), 0);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'undelivered' AND staff_id = 1"), 1);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	mailbox_stop(&mb);
}

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

/* A week without updates: Telegram starts its ids again, here below the
 * offset the daemon saved, and an offset above every id would confirm,
 * and so drop, them all (the simulator's --strict-offset, as the real
 * server). After a quiet spell longer than Telegram keeps updates, the
 * daemon polls without an offset first: nothing is lost. */
static void test_updates_after_quiet_week(void **state)
{
	struct dt *t = *state;
	char extra[128], sql[256];
	int port = t->sim.port;
	int64_t first, second;
	long long saved;

	dt_start_daemon(t);
	dt_link_family(t);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'handled'") == 1, 5000);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	saved = dt_q(t, "SELECT CAST(value AS INTEGER) FROM gateway_state WHERE gateway = 'telegram' AND key = 'offset'");
	/* The last update came eight days ago. */
	assert_true(dt_q(t, "SELECT CAST(value AS INTEGER) FROM gateway_state WHERE gateway = 'telegram'"
			 " AND key = 'last_update_at'") >= (long long)time(NULL) - 60);
	snprintf(sql, sizeof(sql), "UPDATE gateway_state SET value = '%lld' WHERE gateway = 'telegram'"
		 " AND key = 'last_update_at';", (long long)time(NULL) - 8 * 86400);
	dt_exec_sql(t, sql);
	assert_int_equal(simctl_stop(&t->sim), 0);
	snprintf(extra, sizeof(extra), "--listen 127.0.0.1:%d --first-update-id 1000 --strict-offset", port);
	assert_int_equal(simctl_start(&t->sim, DT_TOKEN, extra), 0);
	assert_int_equal(t->sim.port, port);
	dt_start_daemon(t);
	first = simctl_message(&t->sim, DT_FAMILY_CHAT, "hulp");
	assert_int_equal(first, 1000);
	assert_true(first < saved);
	DT_WAIT_SENT(t, DT_FAMILY_CHAT, 1, 15000);
	second = simctl_message(&t->sim, DT_FAMILY_CHAT, "Hallo, nog een vraag");
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'handled'") == 3, 15000);
	/* From then on the offset follows the new ids. */
	DT_WAIT_FOR(dt_q(t, "SELECT CAST(value AS INTEGER) FROM gateway_state WHERE gateway = 'telegram'"
			 " AND key = 'offset'") == second + 1, 5000);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

static int setup_short_send_timeout(void **state)
{
	return dt_setup_with(state, "[telegram]\nsend_timeout = 3s\n");
}

/* Telegram carries a send out but answers after the daemon stopped
 * waiting: the send goes again (at least once, as designed), /metrics
 * counts the timeout, and the retry waits longer than the gateway's own
 * timeout. */
static void test_send_timeout_counted(void **state)
{
	struct dt *t = *state;
	char url[128], *body;
	long long queued, again;

	dt_start_daemon(t);
	dt_link_family(t);
	assert_int_equal(simctl_fault(&t->sim, "slow", 1, 4000, "sendMessage"), 0);
	queued = dt_now_ms();
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "passport", NULL), 0);
	/* The slow one counts once it is done, then the retry. */
	DT_WAIT_SENT(t, DT_FAMILY_CHAT, 3, 30000);
	again = dt_now_ms();
	/* Three seconds of waiting for an answer, then the backoff (two) and
	 * more than three before the retry: without those three it would have
	 * come within two seconds of the timeout. */
	assert_true(again - queued >= 6500);
	assert_int_equal(dt_q(t, "SELECT attempts FROM outbox WHERE kind = 'document_request'"), 2);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics", t->http_port);
	body = testhttp_get(url, NULL);
	assert_non_null(body);
	assert_non_null(strstr(body, "casebot_send_timeouts_total 1\n"));
	free(body);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A connection to the daemon's port from a loopback address of its own
 * (127.0.0.N: one client), non-blocking once connected; -1 when refused. */
static int connect_from(const char *from, int port)
{
	struct sockaddr_in a, to;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, from, &a.sin_addr);
	memset(&to, 0, sizeof(to));
	to.sin_family = AF_INET;
	to.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* 1 when the server has closed fd (EOF or a reset), 0 while it is open. */
static int closed_by_server(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, 0);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

static int setup_webhook(void **state)
{
	struct dt *t;
	char secret_path[400];
	FILE *fp;

	if (dt_setup(state) != 0)
		return -1;
	t = *state;
	snprintf(secret_path, sizeof(secret_path), "%s/webhook.secret", t->env.dir);
	fp = fopen(secret_path, "w");
	if (fp == NULL)
		return -1;
	fputs("s3cret-Value_1\n", fp);
	fclose(fp);
	chmod(secret_path, 0600);
	fp = fopen(t->env.conf, "a");
	if (fp == NULL)
		return -1;
	fprintf(fp, "[telegram]\nmode = webhook\nwebhook_secret_file = %s\nwebhook_path = hook\n", secret_path);
	fclose(fp);
	return 0;
}

#define SLOW_CLIENTS 300

/* One client holds 300 connections open, each with half a request head;
 * another sends a head one byte a second. Meanwhile /healthz and
 * Telegram's webhook are answered every time, and every slow connection
 * is cut off once its time is up (five seconds), trickling or not. */
static void test_slow_clients_lock_nobody_out(void **state)
{
	struct dt *t = *state;
	static int fds[SLOW_CLIENTS];
	const char *good[] = {"X-Telegram-Bot-Api-Secret-Token: s3cret-Value_1", NULL};
	char health[128], hook[128], update[512];
	long long start, until, dribble_closed = 0;
	int dribbler, healthz = 0, hooks = 0, open_left = 0;
	long st;

	assert_int_equal(simctl_chat(&t->sim, 3003, NULL), 0);
	dt_start_daemon(t);
	snprintf(health, sizeof(health), "http://127.0.0.1:%d/healthz", t->http_port);
	snprintf(hook, sizeof(hook), "http://127.0.0.1:%d/telegram/hook", t->http_port);
	DT_WAIT_FOR(dt_port_open(t->http_port), 10000);
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		static const char half[] = "POST /telegram/hook HTTP/1.1\r\nHost: casebot\r\nContent-Le";

		fds[i] = connect_from("127.0.0.2", t->http_port);
		if (fds[i] >= 0 && send(fds[i], half, sizeof(half) - 1, MSG_NOSIGNAL) < 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	start = dt_now_ms();
	dribbler = connect_from("127.0.0.3", t->http_port);
	assert_true(dribbler >= 0);
	until = start + 12000;
	for (int tick = 0; dt_now_ms() < until; tick++) {
		char *body = testhttp_get(health, &st);

		assert_int_equal(st, 200);
		free(body);
		healthz++;
		if (tick % 4 == 0) {
			snprintf(update, sizeof(update),
				 "{\"update_id\":%d,\"message\":{\"message_id\":%d,\"date\":%lld,"
				 "\"chat\":{\"id\":3003,\"type\":\"private\"},\"from\":{\"id\":3003,\"is_bot\":false,"
				 "\"first_name\":\"X\"},\"text\":\"hallo\"}}", 900001 + tick, 5 + tick, (long long)time(NULL));
			assert_int_equal(testhttp_post(hook, good, update, NULL), 200);
			hooks++;
		}
		/* A byte of a header a second: never idle, never done. */
		if (tick % 2 == 0 && dribble_closed == 0) {
			const char *more = tick == 0 ? "GET /healthz HTTP/1.1\r\nX-A: " : "a";

			if (closed_by_server(dribbler) || send(dribbler, more, strlen(more), MSG_NOSIGNAL) < 0)
				dribble_closed = dt_now_ms();
		}
		dt_sleep_ms(500);
	}
	assert_true(healthz >= 20);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound"), hooks);
	/* Cut off once its time was up, though never idle. */
	assert_true(dribble_closed != 0);
	assert_in_range(dribble_closed - start, 4500, 7500);
	for (int i = 0; i < SLOW_CLIENTS; i++) {
		if (fds[i] < 0)
			continue;
		if (!closed_by_server(fds[i]))
			open_left++;
		close(fds[i]);
	}
	assert_int_equal(open_left, 0);
	close(dribbler);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* An SMTP server (aiosmtpd) that takes its time over every end of DATA:
 * it touches argv[2] when a mail's DATA is in, then waits argv[3]
 * seconds before it answers 250. */
static const char slow_smtp_py[] =
	"import asyncio, sys\n"
	"from aiosmtpd.smtp import SMTP\n"
	"class Slow:\n"
	"    async def handle_DATA(self, server, session, envelope):\n"
	"        open(sys.argv[2], 'a').write('data\\n')\n"
	"        await asyncio.sleep(float(sys.argv[3]))\n"
	"        return '250 OK'\n"
	"async def main():\n"
	"    loop = asyncio.get_running_loop()\n"
	"    srv = await loop.create_server(lambda: SMTP(Slow()), '127.0.0.1', int(sys.argv[1]))\n"
	"    async with srv:\n"
	"        await srv.serve_forever()\n"
	"asyncio.run(main())\n";

static pid_t start_slow_smtp(int port, const char *marker, int seconds)
{
	char port_s[16], secs[16];
	pid_t pid;

	snprintf(port_s, sizeof(port_s), "%d", port);
	snprintf(secs, sizeof(secs), "%d", seconds);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl("/usr/bin/python3", "python3", "-c", slow_smtp_py, port_s, marker, secs, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0;
}

/* The counsellor reads her families by email, through a server that waits
 * eight seconds before it answers the end of DATA. While it waits, the
 * daemon goes on: the family's next message is answered on Telegram at
 * once. The mail goes through in the end. */
static void test_slow_smtp_blocks_nothing(void **state)
{
	struct dt *t = *state;
	char marker[400];
	int port = dt_free_port(), status, sent;
	long long asked;
	pid_t smtp;
	FILE *fp;

	snprintf(marker, sizeof(marker), "%s/smtp-data", t->env.dir);
	smtp = start_slow_smtp(port, marker, 8);
	assert_true(smtp > 0);
	fp = fopen(t->env.conf, "a");
	assert_non_null(fp);
	fprintf(fp, "[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = casebot@example.org\ndigest_at = 00:00\n", port);
	fclose(fp);
	assert_int_equal(testenv_cli(&t->env, "staff", "add", "Eva", "--role", "counsellor", "--lang", "en",
				     "--email", "eva@example.org", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "family", "set", "F-1", "--counsellor", "Eva", NULL), 0);
	DT_WAIT_FOR(dt_port_open(port), 10000);
	dt_start_daemon(t);
	dt_link_family(t);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Mijn zoon is ziek vandaag") > 0);
	/* The forward's (or the digest's) DATA is in, and the server sits
	 * on it. */
	DT_WAIT_FOR(file_exists(marker), 20000);
	sent = dt_sent_count(t, DT_FAMILY_CHAT);
	asked = dt_now_ms();
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "hulp") > 0);
	DT_WAIT_SENT(t, DT_FAMILY_CHAT, sent + 1, 10000);
	assert_true(dt_now_ms() - asked < 5000);
	/* The mail still went, once the server answered. */
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'sent'") == 1, 60000);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	kill(smtp, SIGTERM);
	waitpid(smtp, &status, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_outage_outlived, dt_setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_outage_gives_up_with_alert_elsewhere, dt_setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_routing_waits_for_the_lock, dt_setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_updates_after_quiet_week, dt_setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_send_timeout_counted, setup_short_send_timeout, dt_teardown),
		cmocka_unit_test_setup_teardown(test_slow_clients_lock_nobody_out, setup_webhook, dt_teardown),
		cmocka_unit_test_setup_teardown(test_slow_smtp_blocks_nothing, dt_setup, dt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
