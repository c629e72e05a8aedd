/* What erasure leaves and what retention keeps. One sentinel string goes
 * into every field and every flow of a family; after casebot family erase
 * no byte of it is left anywhere under data_dir (the database, its -wal
 * and -shm, documents, tmp), also when another reader had the database
 * open during the erase. Retention, with the test build's clock moved on,
 * deletes each kind of old row and erases a family closed long ago. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/dtest.h"

#define SENTINEL "Zq9Sentinel"
#define SARA 9001
#define LOTTE 9003
#define DAY 86400

/* How often needle occurs in a file, read plainly. */
static long long count_in_file(const char *path, const char *needle)
{
	size_t n = strlen(needle), len = 0, cap = 0;
	char *buf = NULL, chunk[65536];
	long long count = 0;
	FILE *fp = fopen(path, "rb");
	size_t got;

	if (fp == NULL)
		return 0;
	while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (len + got > cap) {
			cap = (len + got) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		memcpy(buf + len, chunk, got);
		len += got;
	}
	fclose(fp);
	for (size_t i = 0; len >= n && i <= len - n; i++)
		if (memcmp(buf + i, needle, n) == 0)
			count++;
	free(buf);
	return count;
}

/* Every file under dir, every byte. */
static long long count_under(const char *dir, const char *needle)
{
	char path[PATH_MAX + 256];
	struct dirent *e;
	struct stat sb;
	long long count = 0;
	DIR *dp = opendir(dir);

	if (dp == NULL)
		return 0;
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (lstat(path, &sb) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			count += count_under(path, needle);
		else if (S_ISREG(sb.st_mode))
			count += count_in_file(path, needle);
	}
	closedir(dp);
	return count;
}

static long long q1(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* A second reader of the database, in a child process: it opens a read
 * transaction (an old snapshot, as a backup or a report would), and lets
 * go either once family ref is gone from the tables (until_erased) or when
 * the test writes to its pipe. */
struct reader {
	pid_t pid;
	int release;   /* write end of the pipe */
};

static void reader_start(struct reader *r, const char *data_dir, const char *ref, int until_erased)
{
	int ready[2], release[2];
	char c;

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(release), 0);
	r->pid = fork();
	assert_true(r->pid >= 0);
	if (r->pid == 0) {
		char path[PATH_MAX + 32], sql[128];
		sqlite3 *db = NULL, *watch = NULL;
		long long until = 0;
		struct timespec ts;

		close(ready[0]);
		close(release[1]);
		snprintf(path, sizeof(path), "%s/casebot.db", data_dir);
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
		    sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK || q1(db, "SELECT count(*) FROM families") < 1)
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		if (until_erased) {
			snprintf(sql, sizeof(sql), "SELECT count(*) FROM families WHERE ref = '%s'", ref);
			sqlite3_open_v2(path, &watch, SQLITE_OPEN_READWRITE, NULL);
			sqlite3_busy_timeout(watch, 1000);
			clock_gettime(CLOCK_MONOTONIC, &ts);
			until = ts.tv_sec + 30;
			while (q1(watch, sql) != 0) {
				clock_gettime(CLOCK_MONOTONIC, &ts);
				if (ts.tv_sec > until)
					_exit(2);
				dt_sleep_ms(20);
			}
			sqlite3_close(watch);
		} else if (read(release[0], &c, 1) != 1) {
			_exit(1);
		}
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		sqlite3_close(db);
		_exit(0);
	}
	close(ready[1]);
	close(release[0]);
	r->release = release[1];
	/* The reader holds its snapshot before the erase starts. */
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
}

static int reader_end(struct reader *r)
{
	int status;

	if (write(r->release, "x", 1) != 1) {
		/* It had let go already. */
	}
	close(r->release);
	assert_int_equal(waitpid(r->pid, &status, 0), r->pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void exec_sql(const char *data_dir, const char *sql)
{
	char path[PATH_MAX + 32];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/casebot.db", data_dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("sql: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* A family file with the sentinel in each field the CLI takes, its audit
 * rows, and a download cut short in tmp/. */
static void cli_family(struct testenv *t)
{
	char path[PATH_MAX + 32];
	FILE *fp;

	assert_int_equal(testenv_cli(t, "init", NULL), 0);
	assert_int_equal(testenv_cli(t, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl", NULL), 0);
	assert_int_equal(testenv_cli(t, "family", "add", "F-001", "--lang", "nl", "--counsellor", "Sara",
				     "--name", SENTINEL " family", NULL), 0);
	assert_int_equal(testenv_cli(t, "member", "add", "F-001", SENTINEL, "--role", "parent", NULL), 0);
	assert_int_equal(testenv_cli(t, "appointment", "add", "F-001", "--at", "2030-01-10 10:00", "--kind", "lawyer",
				     "--place", "Rue " SENTINEL " 1", NULL), 0);
	assert_int_equal(testenv_cli(t, "document", "request", "F-001", "--type", "passport", "--note",
				     "note " SENTINEL, NULL), 0);
	assert_int_equal(testenv_cli(t, "invite", "F-001", "--member", SENTINEL, NULL), 0);
	exec_sql(t->data, "INSERT INTO channels (family_id, member_id, kind, address, created_at)"
		 " VALUES (1, 1, 'telegram', '1001', 1);"
		 "INSERT INTO downloads (id, family_id, channel_id, media_kind, media_ref, not_before, created_at)"
		 " VALUES (7, 1, 1, 'document', 'file-1', 1, 1);");
	snprintf(path, sizeof(path), "%s/tmp", t->data);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/tmp/dl-7", t->data);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("%PDF-1.4 half a file of " SENTINEL, fp);
	fclose(fp);
	assert_true(count_under(t->data, SENTINEL) > 0);
}

static int setup_cli(void **state)
{
	struct testenv *t = calloc(1, sizeof(*t));

	if (t == NULL || testenv_setup(t, time(NULL), NULL) != 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown_cli(void **state)
{
	struct testenv *t = *state;

	testenv_teardown(t);
	free(t);
	return 0;
}

/* Audit rows are structured: the member is named by id, never by name. */
static void test_audit_structured(void **state)
{
	struct testenv *t = *state;

	cli_family(t);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'invite.create'"
					   " AND detail IS NULL AND object_id = 1 AND family_id = 1 AND family_ref = 'F-001'"), 1);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE family_id = 1"),
			 testenv_query_int(t, "SELECT count(*) FROM audit WHERE family_ref = 'F-001'"));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE coalesce(detail, '') || actor || action"
					   " || coalesce(family_ref, '') LIKE '%" SENTINEL "%'"), 0);
	/* What someone types as a reference is not written as free text. */
	assert_int_equal(testenv_cli(t, "audit", "--family", "Mrs " SENTINEL, NULL), 2);
	assert_non_null(strstr(t->err, "is not a case reference"));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE family_ref LIKE '%" SENTINEL "%'"), 0);
}

/* A reader open during the erase holds the old pages: the erase waits for
 * it to let go, and then nothing is left, tmp/ included. */
static void test_erase_waits_for_reader(void **state)
{
	struct testenv *t = *state;
	struct reader r;

	cli_family(t);
	reader_start(&r, t->data, "F-001", 1);
	assert_int_equal(testenv_cli(t, "family", "erase", "F-001", "--yes", NULL), 0);
	assert_non_null(strstr(t->out, "erased family F-001"));
	assert_int_equal(reader_end(&r), 0);
	assert_int_equal(count_under(t->data, SENTINEL), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'family.erase'"
					   " AND family_ref = 'F-001' AND family_id = 1"), 1);
}

/* A reader that does not let go: erase says so and exits non-zero; once
 * it is gone, erase REF again finishes the work. */
static void test_erase_reader_holds_on(void **state)
{
	struct testenv *t = *state;
	struct reader r;

	cli_family(t);
	reader_start(&r, t->data, "F-001", 0);
	assert_int_equal(testenv_cli(t, "family", "erase", "F-001", "--yes", NULL), 1);
	assert_non_null(strstr(t->err, "another program still reads the database"));
	assert_null(strstr(t->out, "erased family"));
	assert_int_equal(reader_end(&r), 0);
	assert_int_equal(testenv_cli(t, "family", "erase", "F-001", "--yes", NULL), 0);
	assert_non_null(strstr(t->out, "erased family F-001"));
	assert_int_equal(count_under(t->data, SENTINEL), 0);
	/* And a third time it is an unknown family again. */
	assert_int_equal(testenv_cli(t, "family", "erase", "F-001", "--yes", NULL), 2);
}

/* The number the bot showed in chat, entered as staff confirm does. */
static void confirm_shown_number(struct dt *t, const char *name, long long chat)
{
	char text[1024], number[8];
	const char *p;

	dt_sent_text(t, chat, 0, text, sizeof(text));
	for (p = text; *p != '\0' && strspn(p, "0123456789") != 6; p++)
		;
	assert_true(*p != '\0');
	snprintf(number, sizeof(number), "%.6s", p);
	assert_int_equal(testenv_cli(&t->env, "staff", "confirm", name, number, NULL), 0);
}

static void link_staff(struct dt *t, const char *name, long long chat)
{
	char text[64];
	const char *p;

	assert_int_equal(testenv_cli(&t->env, "staff", "invite", name, NULL), 0);
	p = strstr(t->env.out, "code: ");
	assert_non_null(p);
	snprintf(text, sizeof(text), "/start %.10s", p + 6);
	assert_true(simctl_message(&t->sim, chat, text) > 0);
	DT_WAIT_SENT(t, chat, 1, 10000);
	confirm_shown_number(t, name, chat);
	DT_WAIT_SENT(t, chat, 2, 10000);
}

/* Nothing is still on its way: every message has ended, every download
 * is done. */
static int all_settled(struct dt *t)
{
	return dt_q(t, "SELECT count(*) FROM outbox WHERE status = 'sending' OR (status = 'queued'"
		    " AND not_before <= strftime('%%s', 'now'))") == 0 &&
	       dt_q(t, "SELECT count(*) FROM downloads") == 0 && dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'new'") == 0;
}

/* Every field and every flow: name, member, place, note, text, caption,
 * photo, PDF, voice, reply, forward, refused command, alert; the daemon
 * runs them all, then the family is erased while another reader has the
 * database open. No byte of the sentinel is left under data_dir. */
static void test_sentinel_erased(void **state)
{
	struct dt *t = *state;
	static const char jpeg[] = "\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
				   "comment " SENTINEL " photo bytes\xff\xd9";
	static const char pdf[] = "%PDF-1.4\n1 0 obj << /Title (" SENTINEL ") >> endobj\n%%EOF\n";
	char json[1024], at[32], text[256];
	time_t when = time(NULL) + 30 * 3600;
	struct reader r;
	struct tm tm;
	int family_before, sara_before;

	dt_start_daemon(t);
	assert_int_equal(testenv_cli(&t->env, "staff", "add", "Lotte", "--role", "counsellor", "--lang", "de", NULL), 0);
	link_staff(t, "Sara", SARA);
	link_staff(t, "Lotte", LOTTE);
	/* Fields: the family's name, a member, a place, a note. */
	assert_int_equal(testenv_cli(&t->env, "family", "set", "F-1", "--name", SENTINEL, NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "member", "add", "F-1", SENTINEL, "--role", "child", NULL), 0);
	localtime_r(&when, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", at, "--kind", "lawyer", "--place",
				     SENTINEL " straat 1", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "passport", "--note",
				     SENTINEL, NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "invite", "F-1", "--member", SENTINEL, NULL), 0);
	dt_link_family(t);
	/* Flows: a text (forwarded to Sara), a photo with a caption, a photo
	 * file, a PDF, a voice note, an urgent message (an alert). */
	sara_before = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Ik heb een vraag over " SENTINEL) > 0);
	DT_WAIT_SENT(t, SARA, sara_before + 1, 10000);
	assert_true(simctl_photo(&t->sim, DT_FAMILY_CHAT, 2048, "foto " SENTINEL) > 0);
	assert_true(simctl_document(&t->sim, DT_FAMILY_CHAT, SENTINEL ".jpg", "image/jpeg", jpeg, sizeof(jpeg) - 1) > 0);
	assert_true(simctl_document(&t->sim, DT_FAMILY_CHAT, SENTINEL ".pdf", "application/pdf", pdf, sizeof(pdf) - 1) > 0);
	snprintf(json, sizeof(json), "{\"message\":{\"message_id\":900,\"date\":%lld,\"chat\":{\"id\":%d,\"type\":\"private\"},"
		 "\"from\":{\"id\":%d,\"is_bot\":false,\"first_name\":\"A\"},\"voice\":{\"file_id\":\"voice-" SENTINEL "\","
		 "\"file_unique_id\":\"u-" SENTINEL "\",\"duration\":3,\"mime_type\":\"audio/ogg\"},"
		 "\"caption\":\"spraak " SENTINEL "\"}}", (long long)time(NULL), DT_FAMILY_CHAT, DT_FAMILY_CHAT);
	assert_true(simctl_raw(&t->sim, json) > 0);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "De politie staat voor de deur " SENTINEL) > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM documents") == 3 && all_settled(t), 20000);
	/* Sara replies to the text's forward, with Telegram's reply. */
	family_before = dt_sent_count(t, DT_FAMILY_CHAT);
	snprintf(json, sizeof(json), "{\"chat_id\":%d,\"text\":\"Antwoord " SENTINEL "\",\"reply_to_message_id\":%lld}",
		 SARA, dt_sent_message_id(t, SARA, sara_before));
	cJSON_Delete(simctl_post(&t->sim, "message", json));
	DT_WAIT_SENT(t, DT_FAMILY_CHAT, family_before + 1, 10000);
	dt_sent_text(t, DT_FAMILY_CHAT, dt_sent_count(t, DT_FAMILY_CHAT) - 1, text, sizeof(text));
	assert_non_null(strstr(text, "Antwoord " SENTINEL));
	/* Lotte follows another family: her command about F-1 is refused. */
	assert_true(simctl_message(&t->sim, LOTTE, "/appointment F-1 2030-01-10 10:00 lawyer " SENTINEL) > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'scope.refused'") == 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'scope.refused' AND detail = 'appointment'"
			      " AND family_ref = 'F-1' AND family_id = 1"), 1);
	/* Sara asks for her families, her alerts and F-1's log. */
	sara_before = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, SARA, "/families") > 0);
	assert_true(simctl_message(&t->sim, SARA, "/alerts") > 0);
	assert_true(simctl_message(&t->sim, SARA, "/log F-1") > 0);
	DT_WAIT_FOR(dt_sent_count(t, SARA) >= sara_before + 4 && all_settled(t), 20000);
	/* The sentinel is there before the erase: the scan finds it. */
	assert_true(count_under(t->env.data, SENTINEL) > 0);
	/* Staff notices about F-1 carry its id: the log, the refusal. */
	assert_true(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'staff_text' AND family_id = 1") >= 2);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE staff_id IS NOT NULL AND family_id IS NULL"
			      " AND kind NOT IN ('staff_text', 'digest', 'staff_pairing', 'staff_notice')"), 0);

	reader_start(&r, t->env.data, "F-1", 1);
	assert_int_equal(testenv_cli(&t->env, "family", "erase", "F-1", "--yes", NULL), 0);
	assert_int_equal(reader_end(&r), 0);
	assert_int_equal(count_under(t->env.data, SENTINEL), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	assert_int_equal(count_under(t->env.data, SENTINEL), 0);
}

/* Rows past retention go, each kind of them; rows within it stay; a family
 * closed long ago is erased, with one audit row. The daemon's clock is
 * moved on with the test build's CASEBOT_TEST_NOW. */
static void test_retention(void **state)
{
	struct dt *t = *state;
	time_t now = time(NULL), later = now + 731 * (time_t)DAY, much_later = now + 1826 * (time_t)DAY;
	char sql[512];

	dt_start_daemon(t);
	dt_link_family(t);
	/* A family that will be closed: erased 90 days after. */
	assert_int_equal(testenv_cli(&t->env, "family", "add", "F-2", "--lang", "fr", "--counsellor", "Sara", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "member", "add", "F-2", "Yusuf", "--role", "parent", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "family", "close", "F-2", NULL), 0);
	/* The family writes: an inbound row, contact-log rows, an alert, sent
	 * messages (the welcome, the acknowledgement) and a forward waiting
	 * for Sara, who has no chat. */
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Hallo") > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward_ack' AND status = 'sent'") == 1, 10000);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	assert_true(dt_q(t, "SELECT count(*) FROM contact_log") >= 2);
	assert_true(dt_q(t, "SELECT count(*) FROM outbox WHERE status = 'sent'") >= 2);
	assert_true(dt_q(t, "SELECT count(*) FROM alerts") >= 1);
	assert_true(dt_q(t, "SELECT count(*) FROM inbound") >= 2);
	/* Rows a day younger than retention at the moved clock stay. */
	snprintf(sql, sizeof(sql),
		 "INSERT INTO contact_log (family_id, at, direction, kind, summary) VALUES (1, %lld, 'in', 'text', 'recent');"
		 "INSERT INTO alerts (family_id, kind, summary, created_at) VALUES (1, 'message', 'recent', %lld);"
		 "INSERT INTO inbound (channel_kind, external_id, sender, received_at, event, status)"
		 " VALUES ('telegram', 'recent', '1001', %lld, '{}', 'handled');"
		 "UPDATE outbox SET status = 'queued', not_before = %lld WHERE kind = 'forward';",
		 (long long)(later - DAY), (long long)(later - DAY), (long long)(later - DAY), (long long)(later + DAY));
	dt_exec_sql(t, sql);

	dt_start_daemon_at(t, later);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM families WHERE ref = 'F-2'") == 0, 10000);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM contact_log WHERE summary <> 'recent'") == 0, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE status NOT IN ('queued', 'sending')"), 0);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'queued'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM families WHERE ref = 'F-1'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM members WHERE name = 'Yusuf'"), 0);
	/* One audit row for the erasure, by the bot, with nothing personal. */
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'family.erase'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'family.erase' AND actor = 'bot'"
			      " AND family_ref = 'F-2' AND detail = 'retention' AND object_id IS NULL"), 1);
	/* Audit rows have their own, longer retention. */
	assert_true(dt_q(t, "SELECT count(*) FROM audit WHERE at < %lld", (long long)now + 60) >= 3);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);

	dt_start_daemon_at(t, much_later);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM audit WHERE at < %lld", (long long)now + 60) == 0, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A download cut short by a crash is plain text in tmp/: the daemon
 * empties tmp/ as it starts. */
static void test_start_empties_tmp(void **state)
{
	struct dt *t = *state;
	char path[PATH_MAX + 32];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/tmp", t->env.data);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/tmp/dl-99", t->env.data);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("%PDF-1.4 " SENTINEL, fp);
	fclose(fp);
	dt_start_daemon(t);
	DT_WAIT_FOR(access(path, F_OK) != 0, 10000);
	assert_int_equal(count_under(t->env.data, SENTINEL), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_audit_structured, setup_cli, teardown_cli),
		cmocka_unit_test_setup_teardown(test_erase_waits_for_reader, setup_cli, teardown_cli),
		cmocka_unit_test_setup_teardown(test_erase_reader_holds_on, setup_cli, teardown_cli),
		cmocka_unit_test_setup_teardown(test_retention, dt_setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_sentinel_erased, dt_setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_start_empties_tmp, dt_setup, dt_teardown),
	};

	/* A reader that let go has closed its pipe. */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
