/* make bench: durable inbound updates per second, end to end. The
 * simulator holds N button presses (reminder confirmations) from F chats;
 * the daemon fetches them in batches of 100, stores them with the offset,
 * routes them, logs them and answers each. Beside it, the SQLite ceiling:
 * the same writes through the same store functions, with no bot around
 * them. Prints both, their ratio, and the daemon's peak RSS. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/event_json.h"
#include "store/store.h"
#include "tests/support/simctl.h"
#include "tests/support/testenv.h"

#define TOKEN "42:bench-token"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench: %s\n", what);
	exit(1);
}

static void exec_sql(sqlite3 *db, const char *sql)
{
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
		fprintf(stderr, "bench: %s\n", sqlite3_errmsg(db));
		exit(1);
	}
}

/* F families, each with a linked chat and one appointment ahead. */
static void populate(sqlite3 *db, int families)
{
	char sql[1024];
	long long now = (long long)time(NULL);

	exec_sql(db, "BEGIN");
	exec_sql(db, "INSERT INTO staff (id, name, role, lang, created_at) VALUES (1, 'Sara', 'counsellor', 'nl', 0)");
	for (int i = 0; i < families; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO families (id, ref, lang, counsellor_id, created_at) VALUES (%d, 'B-%d', 'nl', 1, %lld);"
			 "INSERT INTO channels (id, family_id, kind, address, verified, created_at)"
			 " VALUES (%d, %d, 'telegram', '%d', 1, %lld);"
			 "INSERT INTO appointments (id, family_id, kind, starts_at, created_at, updated_at)"
			 " VALUES (%d, %d, 'lawyer', %lld, %lld, %lld);",
			 i + 1, i, now, i + 1, i + 1, 7000 + i, now, i + 1, i + 1, now + 30 * 86400, now, now);
		exec_sql(db, sql);
	}
	exec_sql(db, "COMMIT");
}

static long long query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static long peak_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(fp);
	return kib;
}

/* The daemon's writes for n updates, through the store, no bot logic:
 * per batch of 100 one synchronous=FULL transaction storing the updates and
 * the offset; per update one transaction that logs it, records the answer
 * and queues the reply, and marks it handled; per reply the claim, then the
 * sent mark with its log row. */
static double ceiling(const char *dir, int n, int families)
{
	struct inbound_event ev;
	char err[256], json[1024], offset[32];
	struct store *st;
	double t0, t;
	time_t now = time(NULL);

	if (store_open(dir, 1, &st, err, sizeof(err)) != 0)
		die(err);
	populate(store_db(st), families);
	memset(&ev, 0, sizeof(ev));
	ev.kind = EVENT_BUTTON;
	t0 = now_s();
	for (int b = 0; b < n; b += 100) {
		exec_sql(store_db(st), "PRAGMA synchronous = FULL");
		store_begin(st);
		for (int i = b; i < b + 100 && i < n; i++) {
			snprintf(ev.external_id, sizeof(ev.external_id), "%d", i + 1);
			snprintf(ev.sender, sizeof(ev.sender), "%d", 7000 + i % families);
			snprintf(ev.button_data, sizeof(ev.button_data), "ap:%d:1", i % families + 1);
			event_to_json(&ev, 0, json, sizeof(json));
			if (store_inbound_add(st, "telegram", ev.external_id, ev.sender, now, json, NULL) != 0)
				die("inbound");
		}
		snprintf(offset, sizeof(offset), "%d", b + 101);
		store_state_set(st, "telegram", "offset", offset);
		store_commit(st);
		exec_sql(store_db(st), "PRAGMA synchronous = NORMAL");
		for (int i = b; i < b + 100 && i < n; i++) {
			struct outbox_msg m;
			struct channel ch;
			int64_t fam = i % families + 1;

			store_begin(st);
			snprintf(ev.sender, sizeof(ev.sender), "%d", 7000 + i % families);
			if (store_channel_find(st, "telegram", ev.sender, &ch) != 0 ||
			    store_channel_touch(st, ch.id, now) != 0 ||
			    store_appointment_answer(st, fam, "confirmed", now) != 0 ||
			    store_contact_add(st, fam, now, "in", "telegram", "reminder_answer", 0, 0,
					      "appointment_answer", "{\"answer\":\"confirm\"}", NULL) != 0 ||
			    store_checkin_answered(st, fam, now) != 0)
				die("route");
			memset(&m, 0, sizeof(m));
			m.family_id = fam;
			m.channel_id = ch.id;
			cb_strlcpy(m.kind, "reminder_answer", sizeof(m.kind));
			cb_strlcpy(m.catalog_key, "reminder.confirmed_thanks", sizeof(m.catalog_key));
			m.not_before = now;
			m.urgent = 1;
			if (store_outbox_add(st, &m, now) != 0 ||
			    store_inbound_done(st, i + 1, "handled", "{\"kind\":\"button\"}", now) != 0)
				die("handle");
			store_commit(st);
			if (store_outbox_claim(st, m.id, now) != 0)
				die("claim");
			store_begin(st);
			if (store_outbox_sent(st, m.id, "1", now) != 0 ||
			    store_contact_add(st, fam, now, "out", "telegram", "reminder_answer", 0, 0,
					      "reminder.confirmed_thanks", NULL, "sent") != 0)
				die("sent");
			store_commit(st);
		}
	}
	t = now_s() - t0;
	store_close(st);
	return t;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 5000, families = argc > 2 ? atoi(argv[2]) : 100;
	struct testenv env;
	struct simctl sim;
	char extra[512], dbpath[PATH_MAX + 32], log[PATH_MAX + 32], ceildir[PATH_MAX + 32];
	double t0, t = 0, tc;
	long rss = -1;
	sqlite3 *db;
	pid_t pid;
	int status;

	if (n < 100 || families < 1 || families > 5000)
		die("usage: bench [updates >= 100] [families]");
	signal(SIGPIPE, SIG_IGN);
	if (simctl_start(&sim, TOKEN, NULL) != 0)
		die("cannot start the simulator");
	snprintf(extra, sizeof(extra), "quiet_hours = off\n[telegram]\napi_base = %s\nrate_per_chat = 100000\n"
		 "rate_global = 100000\n[http]\nlisten = 127.0.0.1:0\n", simctl_base(&sim));
	if (testenv_setup(&env, time(NULL), extra) != 0 || testenv_cli(&env, "init", NULL) != 0)
		die("cannot set up the data directory");
	unsetenv("CASEBOT_TEST_NOW");
	snprintf(dbpath, sizeof(dbpath), "%s/casebot.db", env.data);
	if (sqlite3_open(dbpath, &db) != SQLITE_OK)
		die("cannot open the database");
	sqlite3_busy_timeout(db, 5000);
	populate(db, families);
	for (int i = 0; i < families; i++)
		if (simctl_chat(&sim, 7000 + i, NULL) != 0)
			die("cannot declare chats");
	for (int i = 0; i < n; i++) {
		char data[32];

		snprintf(data, sizeof(data), "ap:%d:1", i % families + 1);
		if (simctl_button(&sim, 7000 + i % families, data, 1) <= 0)
			die("cannot inject updates");
	}
	snprintf(log, sizeof(log), "%s/daemon.log", env.dir);
	t0 = now_s();
	pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 2);
		setenv("CASEBOT_TELEGRAM_TOKEN", TOKEN, 1);
		execl("build/casebot", "casebot", "-c", env.conf, "run", "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	while (now_s() - t0 < 600) {
		if (query_int(db, "SELECT count(*) FROM inbound WHERE status = 'handled'") == n &&
		    query_int(db, "SELECT count(*) FROM outbox WHERE status = 'sent'") == n) {
			t = now_s() - t0;
			break;
		}
		/* Looking often would steal the CPU and the database from the
		 * daemon being measured. */
		struct timespec ts = {0, 50 * 1000000L};
		nanosleep(&ts, NULL);
	}
	rss = peak_rss_kib(pid);
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	sqlite3_close(db);
	simctl_stop(&sim);
	if (t == 0)
		die("the daemon did not finish in 600 s");
	snprintf(ceildir, sizeof(ceildir), "%s/ceiling", env.dir);
	tc = ceiling(ceildir, n, families);
	printf("casebot bench: %d button presses from %d chats, served in batches of 100\n", n, families);
	printf("  machine: %ld cores\n", sysconf(_SC_NPROCESSORS_ONLN));
	printf("  end to end (fetched, stored, routed, logged, answered): %8.0f updates/s  (%.2f s)\n", n / t, t);
	printf("  SQLite ceiling, same writes, no bot logic:               %8.0f updates/s  (%.2f s)\n", n / tc, tc);
	printf("  ratio: %.1f%% of the ceiling\n", 100.0 * (n / t) / (n / tc));
	printf("  daemon peak RSS: %.1f MiB\n", rss / 1024.0);
	testenv_teardown(&env);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
