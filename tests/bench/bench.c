/* make bench: durable inbound updates per second, end to end. The
 * simulator holds N button presses (reminder confirmations) from F chats;
 * the daemon fetches them in batches of 100, stores them with the offset,
 * routes them, logs them and answers each. Beside it, the SQLite ceiling:
 * the same writes through the same store functions, with no bot around
 * them. Prints both, their ratio, and the daemon's peak RSS. Then the
 * daemon's CPU per message (utime + stime from /proc, 10 ms ticks) for
 * three flows while it runs: a typed answer to the chat's open question,
 * a button answer, and "help"; the due-to-sent latency of 200 reminders
 * due in the same second; and the growth table: a typed answer's and a
 * help's CPU with 50, 500 and 5000 families behind them, each with a year
 * of history (about 300 contact-log rows and 230 sent messages); last,
 * the console's server time per page (p50, p99) on that history with 450
 * and 5000 families. */
#include <cjson/cJSON.h>
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
#include "bot/console/auth.h"
#include "bot/console/console.h"
#include "locales/locale.h"
#include "bot/event_json.h"
#include "bot/wake.h"
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


static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

/* utime + stime of pid, seconds. */
static double cpu_s(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long ut = 0, st = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), fp) == NULL || (p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2) {
		fclose(fp);
		return -1;
	}
	fclose(fp);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

struct run {
	struct testenv env;
	struct simctl sim;
	sqlite3 *db;
	pid_t pid;
};

static void run_setup(struct run *r, int families)
{
	char extra[512], dbpath[PATH_MAX + 32];

	if (simctl_start(&r->sim, TOKEN, NULL) != 0)
		die("cannot start the simulator");
	snprintf(extra, sizeof(extra), "quiet_hours = off\n[telegram]\napi_base = %s\nrate_per_chat = 100000\n"
		 "rate_global = 100000\n[http]\nlisten = 127.0.0.1:0\n", simctl_base(&r->sim));
	if (testenv_setup(&r->env, time(NULL), extra) != 0 || testenv_cli(&r->env, "init", NULL) != 0)
		die("cannot set up the data directory");
	unsetenv("CASEBOT_TEST_NOW");
	snprintf(dbpath, sizeof(dbpath), "%s/casebot.db", r->env.data);
	if (sqlite3_open(dbpath, &r->db) != SQLITE_OK)
		die("cannot open the database");
	sqlite3_busy_timeout(r->db, 5000);
	populate(r->db, families);
	for (int i = 0; i < families; i++)
		if (simctl_chat(&r->sim, 7000 + i, NULL) != 0)
			die("cannot declare chats");
}

static void run_start(struct run *r)
{
	char log[PATH_MAX + 32];

	snprintf(log, sizeof(log), "%s/daemon.log", r->env.dir);
	r->pid = fork();
	if (r->pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(fd, 2);
		setenv("CASEBOT_TELEGRAM_TOKEN", TOKEN, 1);
		execl("build/casebot", "casebot", "-c", r->env.conf, "run", "--log-level", "warn", (char *)NULL);
		_exit(127);
	}
	/* Started, polling, with its start-up work done. */
	for (int i = 0; i < 200 && simctl_stat(&r->sim, "get_updates") < 1; i++)
		sleep_ms(50);
	sleep_ms(1500);
}

static void run_end(struct run *r)
{
	int status;

	kill(r->pid, SIGTERM);
	waitpid(r->pid, &status, 0);
	sqlite3_close(r->db);
	simctl_stop(&r->sim);
	testenv_teardown(&r->env);
}

/* Waits until n inbound rows are handled and sent replies number sent. */
static int run_wait(struct run *r, long long n, long long sent)
{
	for (int i = 0; i < 12000; i++) {
		if (query_int(r->db, "SELECT count(*) FROM inbound WHERE status = 'handled'") >= n &&
		    query_int(r->db, "SELECT count(*) FROM outbox WHERE status = 'sent'") >= sent)
			return 0;
		sleep_ms(50);
	}
	return -1;
}

enum flow { FLOW_TYPED, FLOW_BUTTON, FLOW_HELP };

/* Each chat's open question: its appointment's reminder, answered by 1. */
static void open_questions(sqlite3 *db, int families)
{
	char sql[512];
	long long now = (long long)time(NULL);

	exec_sql(db, "BEGIN");
	for (int i = 0; i < families; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT OR REPLACE INTO questions (channel_id, kind, asked_at, expires_at) VALUES (%d, 'reminder', %lld, %lld);"
			 "INSERT OR REPLACE INTO question_choices (channel_id, number, data) VALUES (%d, 1, 'ap:%d:1');",
			 i + 1, now, now + 86400, i + 1, i + 1);
		exec_sql(db, sql);
	}
	exec_sql(db, "COMMIT");
}

/* The daemon's CPU per message while it handles n messages of a flow from
 * the chats of r (typed: one per chat, each answering its open question).
 * The daemon is stopped while they are queued at the simulator, so that it
 * meets them as a backlog, in batches of 100, as after a busy moment. */
static double flow_cpu_us(struct run *r, enum flow f, int n, int families)
{
	long long sent0 = query_int(r->db, "SELECT count(*) FROM outbox WHERE status = 'sent'");
	long long in0 = query_int(r->db, "SELECT count(*) FROM inbound WHERE status = 'handled'");
	double c0 = cpu_s(r->pid), c1;

	kill(r->pid, SIGSTOP);
	for (int i = 0; i < n; i++) {
		int64_t chat = 7000 + i % families;
		char data[32];

		if (f == FLOW_BUTTON) {
			snprintf(data, sizeof(data), "ap:%d:1", i % families + 1);
			if (simctl_button(&r->sim, chat, data, 1) <= 0)
				die("cannot inject updates");
		} else if (simctl_message(&r->sim, chat, f == FLOW_TYPED ? "1" : "help") <= 0) {
			die("cannot inject updates");
		}
	}
	kill(r->pid, SIGCONT);
	if (run_wait(r, in0 + n, sent0 + n) != 0)
		die("the daemon did not answer every message in 600 s");
	c1 = cpu_s(r->pid);
	return (c1 - c0) / n * 1e6;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* count reminders due at the same second, queued while the daemon runs
 * (as the CLI queues them): due to sent, as the simulator stamps each
 * send. p50, p99 and max in ms into out. */
static void due_to_sent(int count, long long out[3])
{
	struct run r;
	long long *lat = calloc((size_t)count, sizeof(*lat)), due;
	char sql[512];
	cJSON *sent;
	int n = 0;

	if (lat == NULL)
		die("out of memory");
	run_setup(&r, count);
	run_start(&r);
	due = (long long)time(NULL) + 2;
	exec_sql(r.db, "BEGIN");
	for (int i = 0; i < count; i++) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO outbox (family_id, channel_id, appointment_id, kind, catalog_key, params, not_before,"
			 " created_at, updated_at) VALUES (%d, %d, %d, 'reminder', 'reminder.appointment',"
			 " '{\"appointment_id\":%d,\"step\":0}', %lld, %lld, %lld)",
			 i + 1, i + 1, i + 1, i + 1, due, due - 2, due - 2);
		exec_sql(r.db, sql);
	}
	exec_sql(r.db, "COMMIT");
	/* As the CLI does after it wrote. */
	wake_daemon(r.env.data);
	if (simctl_wait_sent(&r.sim, 0, count, 30000) < count)
		die("the reminders did not all go");
	if ((sent = simctl_sent(&r.sim, 0)) == NULL)
		die("cannot read what was sent");
	for (cJSON *m = sent->child; m != NULL && n < count; m = m->next) {
		cJSON *at = cJSON_GetObjectItem(m, "at_ms");

		if (cJSON_IsNumber(at))
			lat[n++] = (long long)at->valuedouble - due * 1000;
	}
	cJSON_Delete(sent);
	run_end(&r);
	if (n < count)
		die("the simulator did not stamp every send");
	qsort(lat, (size_t)n, sizeof(*lat), cmp_ll);
	out[0] = lat[n / 2];
	out[1] = lat[(n * 99 + 99) / 100 - 1];
	out[2] = lat[n - 1];
	free(lat);
}

/* A year of history for each family: weekly check-ins and their answers,
 * appointment reminders, document requests, forwards; every out row has
 * its sent outbox row. The log is sealed into the families' chains as
 * the daemon leaves it. */
static void history(const char *data_dir, int families)
{
	char err[256];
	struct store *st;
	long long now = (long long)time(NULL);
	char sql[2048];

	if (store_open(data_dir, 0, &st, err, sizeof(err)) != 0)
		die(err);
	exec_sql(store_db(st), "BEGIN");
	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 229)"
		 " INSERT INTO outbox (family_id, channel_id, kind, catalog_key, not_before, status, attempts,"
		 " gateway_message_id, created_at, updated_at)"
		 " SELECT f.id, f.id, CASE n %% 4 WHEN 0 THEN 'checkin' WHEN 1 THEN 'reminder' WHEN 2 THEN 'checkin_answer'"
		 " ELSE 'forward_ack' END, 'checkin.question', %lld - 31536000 + n * 137000, 'sent', 1, n,"
		 " %lld - 31536000 + n * 137000, %lld - 31536000 + n * 137000 FROM families f, k;"
		 "WITH RECURSIVE k(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM k WHERE n < 299)"
		 " INSERT INTO contact_log (family_id, at, direction, channel_kind, kind, summary, status)"
		 " SELECT f.id, %lld - 31536000 + n * 105000, CASE n %% 3 WHEN 0 THEN 'in' ELSE 'out' END, 'telegram',"
		 " 'checkin', 'checkin.question', 'sent' FROM k, families f ORDER BY 2;",
		 now, now, now, now);
	exec_sql(store_db(st), sql);
	for (int i = 0; i < families; i++)
		if (store_chain_seal(st, i + 1) != 0)
			die("cannot seal the history");
	exec_sql(store_db(st), "COMMIT");
	store_close(st);
}

/* One line of the growth table: F families with a year of history; the
 * CPU of a typed answer (to each chat's open question) and of a help. */
static void growth_line(int families)
{
	struct run r;
	int n = families < 200 ? families : 200;
	double typed, help;
	long long contacts;

	run_setup(&r, families);
	history(r.env.data, families);
	open_questions(r.db, families);
	contacts = query_int(r.db, "SELECT count(*) FROM contact_log");
	run_start(&r);
	typed = flow_cpu_us(&r, FLOW_TYPED, n, families);
	help = flow_cpu_us(&r, FLOW_HELP, n, families);
	printf("  %5d families  %8lld log rows  %7lld outbox rows   typed %7.0f us/msg   help %7.0f us/msg\n",
	       families, contacts, query_int(r.db, "SELECT count(*) FROM outbox"), typed, help);
	run_end(&r);
}

/* The console's server time per page: console_handle() in this process
 * on the growth table's data (F families of one counsellor, a year of
 * history, an open alert for every tenth family), as a counsellor and as
 * a coordinator; each page PAGE_RUNS times, p50 and p99. */
#define PAGE_RUNS 40

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void session_cookie(struct store *st, int64_t staff_id, char *cookie, size_t cap)
{
	char token[AUTH_TOKEN_HEX];
	unsigned char hash[AUTH_HASH_BYTES];

	auth_token_new(token);
	if (auth_token_hash(token, hash) != 0 || store_session_add(st, hash, staff_id, time(NULL)) != 0)
		die("cannot make a console session");
	snprintf(cookie, cap, "%s=%s", CONSOLE_SESSION_COOKIE, token);
}

static void page_times(int families)
{
	static const char *const pages[] = {"/", "/?list=not-reached-silent", "/?list=unanswered", "/?list=alerts",
					    "/families/B-1", "/caseload", "/alerts", "/audit", "/staff",
					    "/export/no-channel.csv"};
	struct run r;
	struct config cfg;
	struct store *st;
	struct locales *loc;
	struct console *console = calloc(1, sizeof(*console));
	struct hctx h;
	char err[512], sara[128], marc[128], sql[1024];
	double *ms = calloc(PAGE_RUNS, sizeof(double));

	if (console == NULL || ms == NULL)
		die("out of memory");
	run_setup(&r, families);
	history(r.env.data, families);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO staff (id, name, role, lang, created_at) VALUES (2, 'Marc', 'coordinator', 'fr', 0);"
		 "INSERT INTO alerts (family_id, staff_id, kind, urgent, summary, params, created_at)"
		 " SELECT id, 1, 'checkin', id %% 20 = 0, 'checkin_unanswered', '{}', %lld - id FROM families"
		 " WHERE id %% 10 = 0;"
		 "UPDATE alerts SET group_id = id;",
		 (long long)time(NULL));
	exec_sql(r.db, sql);
	if (config_load(&cfg, r.env.conf, err, sizeof(err)) != 0 || store_open(cfg.data_dir, 0, &st, err, sizeof(err)) != 0 ||
	    locale_load(CASEBOT_LOCALES_DIR, &loc, err, sizeof(err)) != 0)
		die(err);
	console_init(console, &cfg);
	memset(&h, 0, sizeof(h));
	h.cfg = &cfg;
	h.store = st;
	h.loc = loc;
	h.actor = "console";
	session_cookie(st, 1, sara, sizeof(sara));
	session_cookie(st, 2, marc, sizeof(marc));
	printf("  %5d families, %lld log rows, %lld alerts:\n", families,
	       query_int(r.db, "SELECT count(*) FROM contact_log"), query_int(r.db, "SELECT count(*) FROM alerts"));
	for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++) {
		for (int who = 0; who < 2; who++) {
			const char *cookie = who == 0 ? sara : marc;
			int status = 0;

			if (who == 0 && strcmp(pages[i], "/staff") == 0)
				continue;
			for (int k = 0; k < PAGE_RUNS; k++) {
				struct console_request req = {"GET", pages[i], NULL, 0, cookie, "127.0.0.1"};
				struct console_response res;
				double t0;

				h.now = time(NULL);
				t0 = now_s();
				console_handle(console, &h, &req, &res);
				ms[k] = (now_s() - t0) * 1000.0;
				status = res.status;
				console_response_free(&res);
			}
			if (status != 200)
				die("a console page did not answer 200");
			qsort(ms, PAGE_RUNS, sizeof(double), cmp_double);
			printf("    %-28s %-11s p50 %6.1f ms   p99 %6.1f ms\n", pages[i], who == 0 ? "counsellor" : "coordinator",
			       ms[PAGE_RUNS / 2], ms[PAGE_RUNS * 99 / 100]);
		}
	}
	store_close(st);
	locale_free(loc);
	free(console);
	free(ms);
	sqlite3_close(r.db);
	simctl_stop(&r.sim);
	testenv_teardown(&r.env);
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

	/* make bench BENCH_ARGS=console: the console's page times only. */
	if (argc == 2 && strcmp(argv[1], "console") == 0) {
		signal(SIGPIPE, SIG_IGN);
		printf("console pages, server time (console_handle, %d runs each):\n", PAGE_RUNS);
		page_times(450);
		page_times(5000);
		return 0;
	}
	if (n < 100 || families < 1 || families > 5000)
		die("usage: bench [updates >= 100] [families] | bench console");
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
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	{
		static const char *const names[] = {"typed answer", "button answer", "help"};
		int per = families < 500 ? 500 : families;
		struct run r;
		long long lat[3];

		printf("CPU per message (daemon utime+stime while it handles the flow, %d messages from %d chats):\n",
		       per, per);
		for (int f = FLOW_TYPED; f <= FLOW_HELP; f++) {
			run_setup(&r, per);
			if (f == FLOW_TYPED)
				open_questions(r.db, per);
			run_start(&r);
			printf("  %-14s %6.0f us/msg", names[f], flow_cpu_us(&r, (enum flow)f, per, per));
			printf("   (peak RSS %.1f MiB)\n", peak_rss_kib(r.pid) / 1024.0);
			run_end(&r);
		}
		due_to_sent(200, lat);
		printf("due -> sent, 200 reminders due in the same second, limits 100000/s:"
		       " p50 %lld ms, p99 %lld ms, max %lld ms\n", lat[0], lat[1], lat[2]);
		printf("growth (a year of history per family):\n");
		for (int i = 3; i < argc; i++)
			growth_line(atoi(argv[i]));
		if (argc <= 3) {
			growth_line(50);
			growth_line(500);
			growth_line(5000);
		}
		printf("console pages, server time (console_handle, %d runs each):\n", PAGE_RUNS);
		page_times(450);
		page_times(5000);
	}
	return 0;
}
