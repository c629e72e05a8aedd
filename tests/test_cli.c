/* The admin CLI, run in-process: every command with good and bad input.
 * A refused command must exit 2, say why in one line, and leave the
 * database exactly as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/tz.h"
#include "bot/vault.h"
#include "store/store.h"
#include "tests/support/dtest.h"
#include "tests/support/testenv.h"

/* Sunday 22 November 2026, 10:00 in Brussels. */
static time_t utc(int y, int mon, int d, int hh, int mm)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = d;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	return timegm(&tm);
}

#define NOW utc(2026, 11, 22, 9, 0)

#define CLI(t, ...) testenv_cli((t), __VA_ARGS__, (const char *)NULL)

/* A refused command: exit 2, one line naming the problem, nothing written. */
#define REFUSED(t, needle, ...) do { \
	char before_[65], after_[65]; \
	assert_int_equal(testenv_db_digest((t), before_), 0); \
	assert_int_equal(CLI((t), __VA_ARGS__), 2); \
	assert_non_null(strstr((t)->err, (needle))); \
	assert_non_null(strchr((t)->err, '\n')); \
	assert_int_equal(strchr((t)->err, '\n')[1], '\0'); \
	assert_int_equal(testenv_db_digest((t), after_), 0); \
	assert_string_equal(before_, after_); \
} while (0)

static int setup(void **state)
{
	struct testenv *t = calloc(1, sizeof(*t));

	if (t == NULL || testenv_setup(t, NOW, NULL) != 0)
		return -1;
	if (CLI(t, "init") != 0 || CLI(t, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl") != 0 ||
	    CLI(t, "staff", "add", "Marc", "--role", "coordinator", "--lang", "fr") != 0 ||
	    CLI(t, "family", "add", "F-001", "--lang", "fr", "--counsellor", "Sara", "--backup", "Marc") != 0 ||
	    CLI(t, "member", "add", "F-001", "Amina", "--role", "parent") != 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct testenv *t = *state;

	testenv_teardown(t);
	free(t);
	return 0;
}

static void test_init_files(void **state)
{
	struct testenv *t = *state;
	char path[PATH_MAX + 32];
	unsigned char key1[64], key2[64];
	struct stat sb;
	FILE *fp;
	size_t n1, n2;

	assert_int_equal(stat(t->data, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/casebot.db", t->data);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/document.key", t->data);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	fp = fopen(path, "rb");
	n1 = fread(key1, 1, sizeof(key1), fp);
	fclose(fp);
	assert_int_equal(n1, 32);
	/* A second init keeps the key: documents stay readable. */
	assert_int_equal(CLI(t, "init"), 0);
	assert_null(strstr(t->out, "new document key"));
	fp = fopen(path, "rb");
	n2 = fread(key2, 1, sizeof(key2), fp);
	fclose(fp);
	assert_int_equal(n2, 32);
	assert_memory_equal(key1, key2, 32);
}

static void test_check(void **state)
{
	struct testenv *t = *state;
	FILE *fp;

	unsetenv("CASEBOT_TELEGRAM_TOKEN");
	assert_int_equal(CLI(t, "check"), 0);
	assert_non_null(strstr(t->out, "catalogs: nl fr de en"));
	assert_non_null(strstr(t->out, "telegram token: not set"));
	{
		char want[64];

		snprintf(want, sizeof(want), "schema %zu, integrity_check ok\n", store_schema_count());
		assert_non_null(strstr(t->out, want));
	}
	assert_non_null(strstr(t->out, "\nconfiguration OK\n"));
	fp = fopen(t->conf, "a");
	fprintf(fp, "[telegram]\nmod = poll\n");
	fclose(fp);
	assert_int_equal(CLI(t, "check"), 2);
	assert_non_null(strstr(t->err, "casebot.conf:4: [telegram] mod: unknown key"));
}

/* A copy of the catalogs in which one text of one language is replaced. */
static void doctored_locales(const char *dir, const char *lang, const char *from, const char *to)
{
	static const char *const langs[] = {"nl", "fr", "de", "en"};

	assert_int_equal(mkdir(dir, 0700), 0);
	for (size_t i = 0; i < 4; i++) {
		char src[PATH_MAX], dst[PATH_MAX + 16], *buf, *at;
		FILE *fp;
		long n;

		snprintf(src, sizeof(src), "%s/%s.json", CASEBOT_LOCALES_DIR, langs[i]);
		snprintf(dst, sizeof(dst), "%s/%s.json", dir, langs[i]);
		fp = fopen(src, "rb");
		assert_non_null(fp);
		fseek(fp, 0, SEEK_END);
		n = ftell(fp);
		rewind(fp);
		buf = calloc(1, (size_t)n + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
		fclose(fp);
		fp = fopen(dst, "wb");
		assert_non_null(fp);
		if (strcmp(langs[i], lang) == 0) {
			at = strstr(buf, from);
			assert_non_null(at);
			fwrite(buf, 1, (size_t)(at - buf), fp);
			fputs(to, fp);
			fputs(at + strlen(from), fp);
		} else {
			fputs(buf, fp);
		}
		fclose(fp);
		free(buf);
	}
}

/* check renders every family message as it is first sent: a catalog that
 * would show an institution on a locked screen is refused with one line
 * naming the language, the key and the word. */
static void test_check_refuses_banned_preview(void **state)
{
	struct testenv *t = *state;
	char dir[PATH_MAX];
	FILE *fp;

	snprintf(dir, sizeof(dir), "%s/locales", t->dir);
	doctored_locales(dir, "fr", "\"Merci. Nous avons bien reçu votre document.\"",
			 "\"Merci.\\nL'Office des Étrangers a bien reçu votre document.\"");
	fp = fopen(t->conf, "a");
	fprintf(fp, "locales_dir = %s\n", dir);
	fclose(fp);
	assert_int_not_equal(CLI(t, "check"), 0);
	assert_non_null(strstr(t->err, "/locales/fr.json: key document.thanks"));
	assert_non_null(strstr(t->err, "\"office des etrangers\""));
	assert_null(strstr(t->out, "configuration OK"));
	assert_non_null(strchr(t->err, '\n'));
	assert_null(strchr(strchr(t->err, '\n') + 1, '\n'));
}

static void test_check_bad_value(void **state)
{
	struct testenv *t = *state;
	FILE *fp = fopen(t->conf, "a");

	fprintf(fp, "quiet_hours = 25:00-08:00\n");
	fclose(fp);
	assert_int_equal(CLI(t, "check"), 2);
	assert_non_null(strstr(t->err, ":3: [casebot] quiet_hours: expected HH:MM-HH:MM or off"));
}

static void test_check_without_database(void **state)
{
	struct testenv *t = *state;
	struct testenv fresh;

	(void)t;
	assert_int_equal(testenv_setup(&fresh, NOW, NULL), 0);
	assert_int_equal(CLI(&fresh, "check"), 0);
	assert_non_null(strstr(fresh.out, "database: none yet in "));
	assert_non_null(strstr(fresh.out, "configuration OK\n"));
	/* Checking creates nothing. */
	assert_int_not_equal(access(fresh.data, F_OK), 0);
	testenv_teardown(&fresh);
}

/* A damaged page is found by PRAGMA integrity_check: a failure of the
 * disk, exit 1. */
static void test_check_damaged_database(void **state)
{
	struct testenv *t = *state;
	char path[PATH_MAX + 16];
	unsigned char junk[64];
	long long page = testenv_query_int(t, "SELECT rootpage FROM sqlite_master WHERE name = 'members'");
	long long size = testenv_query_int(t, "PRAGMA page_size");
	FILE *fp;

	assert_true(page > 1);
	assert_true(size >= 512);
	assert_int_equal(CLI(t, "check"), 0);
	memset(junk, 0xa5, sizeof(junk));
	snprintf(path, sizeof(path), "%s/casebot.db", t->data);
	fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, (page - 1) * size, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	fclose(fp);
	assert_int_equal(CLI(t, "check"), 1);
	assert_non_null(strstr(t->err, "casebot.db: damaged"));
	assert_null(strstr(t->out, "configuration OK"));
}

/* What SQLite keeps beside the database, gone with it. */
static void unlink_wal(struct testenv *t)
{
	char path[PATH_MAX + 16];

	snprintf(path, sizeof(path), "%s/casebot.db-wal", t->data);
	unlink(path);
	snprintf(path, sizeof(path), "%s/casebot.db-shm", t->data);
	unlink(path);
}

/* One page of a table nobody writes here (members) overwritten. */
static void damage_members(struct testenv *t)
{
	char path[PATH_MAX + 16];
	unsigned char junk[64];
	long long page = testenv_query_int(t, "SELECT rootpage FROM sqlite_master WHERE name = 'members'");
	long long size = testenv_query_int(t, "PRAGMA page_size");
	FILE *fp;

	assert_true(page > 1);
	memset(junk, 0xa5, sizeof(junk));
	snprintf(path, sizeof(path), "%s/casebot.db", t->data);
	fp = fopen(path, "r+b");
	assert_non_null(fp);
	assert_int_equal(fseek(fp, (page - 1) * size, SEEK_SET), 0);
	assert_int_equal(fwrite(junk, 1, sizeof(junk), fp), sizeof(junk));
	fclose(fp);
}

/* No command writes to a damaged database, even one that touches none of
 * its damaged pages: one line, exit 1, and the file as it was. */
static void test_damaged_database_refuses_writes(void **state)
{
	struct testenv *t = *state;
	char path[PATH_MAX + 16];
	struct stat before, after;

	snprintf(path, sizeof(path), "%s/casebot.db", t->data);
	damage_members(t);
	assert_int_equal(stat(path, &before), 0);
	assert_int_equal(CLI(t, "family", "add", "F-077", "--lang", "nl", "--counsellor", "Sara"), 1);
	assert_non_null(strstr(t->err, "casebot.db: damaged"));
	assert_int_equal(strchr(t->err, '\n')[1], '\0');
	assert_int_equal(CLI(t, "staff", "add", "Nora", "--role", "counsellor", "--lang", "fr"), 1);
	assert_int_equal(stat(path, &after), 0);
	assert_int_equal(after.st_size, before.st_size);
	assert_int_equal(after.st_mtime, before.st_mtime);
}

/* An empty casebot.db (a failed copy, a full disk) is no new database:
 * every command but init refuses it with one line, and it stays empty. */
static void test_empty_database_refused(void **state)
{
	struct testenv *t = *state;
	char path[PATH_MAX + 16];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/casebot.db", t->data);
	assert_int_equal(truncate(path, 0), 0);
	unlink_wal(t);
	assert_int_equal(CLI(t, "family", "list"), 1);
	assert_non_null(strstr(t->err, "casebot.db: empty, not a casebot database"));
	assert_int_equal(strchr(t->err, '\n')[1], '\0');
	assert_int_equal(CLI(t, "staff", "add", "Nora", "--role", "counsellor", "--lang", "fr"), 1);
	assert_int_equal(CLI(t, "check"), 1);
	assert_non_null(strstr(t->err, "casebot.db: empty, not a casebot database"));
	assert_null(strstr(t->out, "configuration OK"));
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	/* casebot init may make a database there. */
	assert_int_equal(CLI(t, "init"), 0);
	assert_int_equal(CLI(t, "family", "list"), 0);
}

/* check reads a database and changes nothing, not even its schema. */
static void test_check_changes_nothing(void **state)
{
	struct testenv *t = *state;
	char before[65], after[65], path[PATH_MAX + 16];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/casebot.db", t->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DROP INDEX families_ref_nocase; PRAGMA user_version = 1", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(testenv_db_digest(t, before), 0);
	assert_int_equal(CLI(t, "check"), 0);
	{
		char want[64];

		snprintf(want, sizeof(want), "schema 1 (casebot run or init brings it to %zu)", store_schema_count());
		assert_non_null(strstr(t->out, want));
	}
	assert_int_equal(testenv_db_digest(t, after), 0);
	assert_string_equal(before, after);
	assert_int_equal(testenv_query_int(t, "PRAGMA user_version"), 1);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(chmod(path, mode), 0);
}

/* The secrets check reads each one as casebot run would. */
static void test_check_secrets(void **state)
{
	struct testenv *t = *state;
	char token[PATH_MAX + 16], secret[PATH_MAX + 16], key[PATH_MAX + 16], ini[3 * PATH_MAX];
	FILE *fp;

	unsetenv("CASEBOT_TELEGRAM_TOKEN");
	snprintf(token, sizeof(token), "%s/token", t->dir);
	snprintf(secret, sizeof(secret), "%s/secret", t->dir);
	snprintf(ini, sizeof(ini), "[telegram]\ntoken_file = %s\nmode = webhook\nwebhook_secret_file = %s\n",
		 token, secret);
	fp = fopen(t->conf, "a");
	fputs(ini, fp);
	fclose(fp);
	write_file(secret, "s3cret_ok-1\n", 0600);
	write_file(token, "123456:ABC-def_123\n", 0644);
	assert_int_equal(CLI(t, "check"), 2);
	assert_non_null(strstr(t->err, "token_file"));
	assert_non_null(strstr(t->err, "others may read it (chmod 600"));
	write_file(token, "not a token\n", 0600);
	assert_int_equal(CLI(t, "check"), 2);
	assert_non_null(strstr(t->err, "not of the form 123456:ABC-def_123"));
	assert_null(strstr(t->err, "not a token"));
	write_file(token, "\n", 0600);
	assert_int_equal(CLI(t, "check"), 2);
	assert_non_null(strstr(t->err, "the first line is empty"));
	write_file(token, "123456:ABC-def_123\n", 0600);
	write_file(secret, "has spaces!\n", 0600);
	assert_int_equal(CLI(t, "check"), 2);
	assert_non_null(strstr(t->err, "Telegram allows only"));
	write_file(secret, "s3cret_ok-1\n", 0600);
	assert_int_equal(CLI(t, "check"), 0);
	assert_non_null(strstr(t->out, "telegram token: from "));
	assert_non_null(strstr(t->out, "webhook secret: from "));
	assert_null(strstr(t->out, "ABC-def"));
	assert_null(strstr(t->out, "s3cret"));
	/* The document key: private, and whole. */
	snprintf(key, sizeof(key), "%s/document.key", t->data);
	assert_int_equal(chmod(key, 0644), 0);
	assert_int_equal(CLI(t, "check"), 2);
	assert_non_null(strstr(t->err, "document.key: others may read it"));
	assert_int_equal(chmod(key, 0600), 0);
	assert_int_equal(truncate(key, 16), 0);
	assert_int_equal(CLI(t, "check"), 1);
	assert_non_null(strstr(t->err, "document.key: damaged"));
}

static void test_staff(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "staff", "add", "Lotte", "--role", "counsellor", "--lang", "de",
			     "--email", "lotte@example.org"), 0);
	assert_int_equal(CLI(t, "staff", "list"), 0);
	assert_non_null(strstr(t->out, "Lotte"));
	assert_non_null(strstr(t->out, "lotte@example.org"));
	assert_non_null(strstr(t->out, "coordinator"));
	REFUSED(t, "already exists", "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl");
	REFUSED(t, "--role must be", "staff", "add", "Jan", "--role", "boss", "--lang", "nl");
	REFUSED(t, "--lang must be", "staff", "add", "Jan", "--role", "counsellor", "--lang", "es");
	REFUSED(t, "missing NAME", "staff", "add", "--role", "counsellor", "--lang", "nl");
	REFUSED(t, "not an address", "staff", "add", "Jan", "--role", "counsellor", "--lang", "nl", "--email", "jan");
	REFUSED(t, "unknown option", "staff", "add", "Jan", "--colour", "red");
	REFUSED(t, "needs a value", "staff", "add", "Jan", "--role");
	REFUSED(t, "control character", "staff", "add", "Ja\tn", "--role", "counsellor", "--lang", "nl");
}

static void test_staff_invite_and_email(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "staff", "add", "Eva", "--role", "counsellor", "--lang", "en", "--email", "eva@example.org"), 0);
	/* The address is her channel when she has no Telegram. */
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM channels WHERE kind = 'email'"
					   " AND address = 'eva@example.org' AND staff_id IS NOT NULL"), 1);
	REFUSED(t, "belongs to someone else", "staff", "add", "Eve", "--role", "counsellor", "--lang", "en",
		"--email", "eva@example.org");
	assert_int_equal(CLI(t, "staff", "invite", "Eva"), 0);
	assert_non_null(strstr(t->out, "code: "));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM invites WHERE staff_id IS NOT NULL"
					   " AND family_id IS NULL"), 1);
	REFUSED(t, "unknown staff member", "staff", "invite", "Nobody");
	/* A staff code expires like a family's: 7 days by default. */
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM invites WHERE staff_id IS NOT NULL"
					   " AND expires_at - created_at = 7 * 86400"), 1);
}

/* [invites] valid_days sets how long every code lives. */
static void test_invite_lifetime_configurable(void **state)
{
	struct testenv *t = *state;
	FILE *fp = fopen(t->conf, "a");

	fprintf(fp, "[invites]\nvalid_days = 2\n");
	fclose(fp);
	assert_int_equal(CLI(t, "invite", "F-001"), 0);
	assert_int_equal(CLI(t, "staff", "invite", "Sara"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM invites WHERE expires_at - created_at = 2 * 86400"), 2);
}

/* The audit trail, narrowed by family, staff member and date; reading it
 * is itself a row. */
static void test_audit_command(void **state)
{
	struct testenv *t = *state;
	long long reads;

	assert_int_equal(CLI(t, "family", "list"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'family.list'"
					   " AND actor LIKE 'cli:%'"), 1);
	assert_int_equal(CLI(t, "family", "show", "F-001"), 0);
	assert_int_equal(CLI(t, "staff", "invite", "Sara"), 0);
	assert_int_equal(CLI(t, "audit"), 0);
	assert_non_null(strstr(t->out, "family.show"));
	assert_non_null(strstr(t->out, "staff.invite"));
	assert_int_equal(CLI(t, "audit", "--family", "F-001"), 0);
	assert_non_null(strstr(t->out, "family.show"));
	assert_null(strstr(t->out, "staff.invite"));
	assert_int_equal(CLI(t, "audit", "--staff", "Sara"), 0);
	assert_non_null(strstr(t->out, "staff.invite"));
	assert_non_null(strstr(t->out, "staff.add"));
	assert_null(strstr(t->out, "family.show"));
	assert_null(strstr(t->out, "Marc"));
	/* Rows done by a staff member on the phone count as theirs. */
	{
		char path[PATH_MAX + 16];
		sqlite3 *db;

		snprintf(path, sizeof(path), "%s/casebot.db", t->data);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "INSERT INTO audit (at, actor, action, family_ref)"
					      " VALUES (1, 'staff:Sara', 'log.read', 'F-001')", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	assert_int_equal(CLI(t, "audit", "--staff", "Sara"), 0);
	assert_non_null(strstr(t->out, "log.read"));
	assert_int_equal(CLI(t, "audit", "--since", "2026-11-23"), 0);
	assert_null(strstr(t->out, "family.show"));
	reads = testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'audit.read'");
	assert_int_equal(reads, 5);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'audit.read'"
					   " AND family_ref = 'F-001'"), 1);
	REFUSED(t, "is not a date", "audit", "--since", "yesterday");
	REFUSED(t, "unknown staff member", "audit", "--staff", "Nobody");
	REFUSED(t, "unexpected argument", "audit", "F-001");
}

static void test_family(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "family", "add", "F-002", "--lang", "nl", "--counsellor", "Sara", "--name", "Fam. B"), 0);
	assert_int_equal(CLI(t, "family", "list"), 0);
	assert_non_null(strstr(t->out, "F-001"));
	assert_non_null(strstr(t->out, "Fam. B"));
	REFUSED(t, "unknown staff member \"Nobody\"", "family", "add", "F-003", "--lang", "nl", "--counsellor", "Nobody");
	REFUSED(t, "unknown staff member \"Nobody\"", "family", "add", "F-003", "--lang", "nl", "--counsellor",
		"Sara", "--backup", "Nobody");
	REFUSED(t, "already exists", "family", "add", "F-001", "--lang", "nl", "--counsellor", "Sara");
	REFUSED(t, "--lang must be", "family", "add", "F-003", "--lang", "xx", "--counsellor", "Sara");
	REFUSED(t, "may hold only", "family", "add", "F 003", "--lang", "nl", "--counsellor", "Sara");
	REFUSED(t, "someone other", "family", "add", "F-003", "--lang", "nl", "--counsellor", "Sara", "--backup", "Sara");
	REFUSED(t, "--counsellor NAME is required", "family", "add", "F-003", "--lang", "nl");
	REFUSED(t, "unknown family \"F-999\"", "family", "show", "F-999");
	REFUSED(t, "unexpected argument", "family", "show", "F-001", "extra");
}

static void test_family_set_and_alerts(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "staff", "add", "Lotte", "--role", "counsellor", "--lang", "de"), 0);
	assert_int_equal(CLI(t, "family", "set", "F-001", "--counsellor", "Lotte", "--backup", "Sara", "--lang", "de"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM families f JOIN staff c ON c.id = f.counsellor_id"
					   " JOIN staff b ON b.id = f.backup_id WHERE c.name = 'Lotte' AND b.name = 'Sara'"
					   " AND f.lang = 'de'"), 1);
	assert_int_equal(CLI(t, "family", "set", "F-001", "--backup", "-"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM families WHERE backup_id IS NULL"), 1);
	REFUSED(t, "someone other", "family", "set", "F-001", "--backup", "Lotte");
	REFUSED(t, "nothing to change", "family", "set", "F-001");
	REFUSED(t, "unknown staff member", "family", "set", "F-001", "--counsellor", "Nobody");
	REFUSED(t, "--lang must be", "family", "set", "F-001", "--lang", "it");
	{
		char path[PATH_MAX + 16];
		sqlite3 *db;

		snprintf(path, sizeof(path), "%s/casebot.db", t->data);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "INSERT INTO alerts (family_id, staff_id, kind, urgent, summary, created_at)"
					      " VALUES (1, 1, 'urgent', 1, 'urgent message from the family', 1),"
					      " (1, 1, 'stop', 0, 'the family sent STOP', 2)", NULL, NULL, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "UPDATE alerts SET acked_at = 3 WHERE kind = 'stop'", NULL, NULL, NULL),
				 SQLITE_OK);
		sqlite3_close(db);
	}
	assert_int_equal(CLI(t, "alerts"), 0);
	assert_non_null(strstr(t->out, "URGENT"));
	assert_null(strstr(t->out, "STOP"));
	assert_int_equal(CLI(t, "alerts", "--all"), 0);
	assert_non_null(strstr(t->out, "(acknowledged)"));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'alerts.read'"), 2);
}

static void test_family_show_is_audited(void **state)
{
	struct testenv *t = *state;
	long long before = testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'family.show'");

	assert_int_equal(CLI(t, "family", "show", "F-001"), 0);
	assert_non_null(strstr(t->out, "counsellor: Sara"));
	assert_non_null(strstr(t->out, "Amina (parent)"));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'family.show'"
					   " AND family_ref = 'F-001' AND actor LIKE 'cli:%'"), before + 1);
}

static void test_family_close(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-12-03 14:00", "--kind", "lawyer"), 0);
	assert_int_equal(CLI(t, "family", "close", "F-001"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE status = 'queued'"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM families WHERE status = 'closed'"), 1);
	REFUSED(t, "already closed", "family", "close", "F-001");
	REFUSED(t, "is closed", "appointment", "add", "F-001", "--at", "2026-12-04 14:00", "--kind", "lawyer");
	REFUSED(t, "is closed", "document", "request", "F-001", "--type", "passport");
	REFUSED(t, "is closed", "invite", "F-001");
}

static void test_family_erase(void **state)
{
	struct testenv *t = *state;
	char doc[PATH_MAX + 32], sql[256];
	FILE *fp;

	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-12-03 14:00", "--kind", "lawyer"), 0);
	assert_int_equal(CLI(t, "document", "request", "F-001", "--type", "passport"), 0);
	/* A stored document: a row and its file. */
	snprintf(doc, sizeof(doc), "%s/doc-1.bin", t->data);
	fp = fopen(doc, "w");
	fputs("ciphertext", fp);
	fclose(fp);
	{
		char path[PATH_MAX + 16];
		sqlite3 *db;

		snprintf(path, sizeof(path), "%s/casebot.db", t->data);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		snprintf(sql, sizeof(sql), "INSERT INTO documents (family_id, received_at, mime, size, mac, path)"
			 " VALUES (1, 1, 'image/jpeg', 10, x'00', 'doc-1.bin');"
			 "INSERT INTO contact_log (family_id, at, direction, kind, summary) VALUES (1, 1, 'in', 'text', 'x');");
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	REFUSED(t, "add --yes", "family", "erase", "F-001");
	assert_int_equal(access(doc, F_OK), 0);
	assert_int_equal(CLI(t, "family", "erase", "F-001", "--yes"), 0);
	assert_int_not_equal(access(doc, F_OK), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM families"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM members"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM appointments"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM document_requests"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM documents"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM contact_log"), 0);
	/* The audit trail keeps the reference of what was erased. */
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'family.erase'"
					   " AND family_ref = 'F-001'"), 1);
	REFUSED(t, "unknown family", "family", "erase", "F-001", "--yes");
}

static void test_member(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "member", "add", "F-001", "Yusuf", "--role", "child", "--lang", "nl"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM members WHERE name = 'Yusuf'"
					   " AND role = 'child' AND lang = 'nl'"), 1);
	REFUSED(t, "already has a member", "member", "add", "F-001", "Amina", "--role", "parent");
	REFUSED(t, "--role must be", "member", "add", "F-001", "Noor", "--role", "aunt");
	REFUSED(t, "--lang must be", "member", "add", "F-001", "Noor", "--role", "other", "--lang", "ar");
	REFUSED(t, "unknown family", "member", "add", "F-404", "Noor", "--role", "other");
	REFUSED(t, "missing REF NAME", "member", "add", "F-001", "--role", "other");
}

static void test_invite(void **state)
{
	struct testenv *t = *state;
	char code[INVITE_CODE_LEN + 1], sql[256], hex[65];
	unsigned char hash[32];
	const char *p;

	assert_int_equal(CLI(t, "invite", "F-001", "--member", "Amina"), 0);
	p = strstr(t->out, "code: ");
	assert_non_null(p);
	memcpy(code, p + 6, INVITE_CODE_LEN);
	code[INVITE_CODE_LEN] = '\0';
	assert_non_null(strstr(t->out, "https://t.me/casebot?start="));
	assert_non_null(strstr(t->out, code));
	/* Stored hashed, never as text, valid for 7 days by default. */
	assert_int_equal(store_invite_hash(code, hash), 0);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM invites WHERE hex(code_hash) = upper('%s')"
		 " AND member_id IS NOT NULL AND expires_at - created_at = 7 * 86400", hex);
	assert_int_equal(testenv_query_int(t, sql), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM invites WHERE instr(code_hash, '%s') > 0", code);
	assert_int_equal(testenv_query_int(t, sql), 0);
	REFUSED(t, "has no member \"Zed\"", "invite", "F-001", "--member", "Zed");
	REFUSED(t, "unknown family", "invite", "F-404");
}

/* Reminder rows of appointment 1, in order, as "not_before-expires_at". */
static long long reminder_at(struct testenv *t, int nth)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT not_before FROM outbox WHERE kind = 'reminder' AND status = 'queued'"
		 " ORDER BY not_before LIMIT 1 OFFSET %d", nth);
	return testenv_query_int(t, sql);
}

static void test_appointment_ladder(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-12-03 14:00", "--kind", "lawyer",
			     "--member", "Amina", "--place", "Rue Haute 1"), 0);
	assert_non_null(strstr(t->out, "added appointment #1: 2026-12-03 14:00 lawyer"));
	assert_int_equal(testenv_query_int(t, "SELECT starts_at FROM appointments"), utc(2026, 12, 3, 13, 0));
	/* Two days before at 10:00 local, and two hours before. */
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE kind = 'reminder'"), 2);
	assert_int_equal(reminder_at(t, 0), utc(2026, 12, 1, 9, 0));
	assert_int_equal(reminder_at(t, 1), utc(2026, 12, 3, 11, 0));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE kind = 'reminder'"
					   " AND expires_at = (SELECT starts_at FROM appointments)"
					   " AND appointment_id = 1 AND catalog_key = 'reminder.appointment'"), 2);
	assert_int_equal(CLI(t, "appointment", "list", "F-001"), 0);
	assert_non_null(strstr(t->out, "Rue Haute 1"));
	assert_non_null(strstr(t->out, "Amina"));
}

static void test_appointment_late(void **state)
{
	struct testenv *t = *state;

	/* Tomorrow 09:00: the two-day step has passed, so one reminder now and
	 * one two hours before. */
	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-11-23 09:00", "--kind", "doctor"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE kind = 'reminder'"), 2);
	assert_int_equal(reminder_at(t, 0), NOW);
	assert_int_equal(reminder_at(t, 1), utc(2026, 11, 23, 6, 0));
	/* In one hour: every step has passed, one reminder at once. */
	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-11-22 11:00", "--kind", "school"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE appointment_id = 2"), 1);
	assert_int_equal(testenv_query_int(t, "SELECT not_before FROM outbox WHERE appointment_id = 2"), NOW);
}

static void test_appointment_dst(void **state)
{
	struct testenv *t = *state;

	/* The autumn hour that happens twice: the first one. */
	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2027-10-31 02:30", "--kind", "other"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT starts_at FROM appointments"), utc(2027, 10, 31, 0, 30));
	/* The reminder two days before at 10:00 is in summer time. */
	assert_int_equal(reminder_at(t, 0), utc(2027, 10, 29, 8, 0));
	REFUSED(t, "does not exist in Europe/Brussels: the clocks go forward that night", "appointment", "add",
		"F-001", "--at", "2027-03-28 02:30", "--kind", "lawyer");
	REFUSED(t, "no such day as 2027-02-29", "appointment", "add", "F-001", "--at", "2027-02-29 10:00",
		"--kind", "lawyer");
}

static void test_appointment_bad(void **state)
{
	struct testenv *t = *state;

	REFUSED(t, "is in the past", "appointment", "add", "F-001", "--at", "2026-11-22 09:59", "--kind", "lawyer");
	REFUSED(t, "write the day as YYYY-MM-DD", "appointment", "add", "F-001", "--at", "03/12/2026 14:00",
		"--kind", "lawyer");
	REFUSED(t, "write the time as HH:MM", "appointment", "add", "F-001", "--at", "2026-12-03 25:00",
		"--kind", "lawyer");
	REFUSED(t, "--at is required: a local date and time, like", "appointment", "add", "F-001", "--kind", "lawyer");
	REFUSED(t, "--kind must be one of", "appointment", "add", "F-001", "--at", "2026-12-03 14:00", "--kind", "party");
	REFUSED(t, "unknown family", "appointment", "add", "F-404", "--at", "2026-12-03 14:00", "--kind", "lawyer");
	REFUSED(t, "has no member", "appointment", "add", "F-001", "--at", "2026-12-03 14:00", "--kind", "lawyer",
		"--member", "Nobody");
	REFUSED(t, "no appointment #7", "appointment", "cancel", "7");
	REFUSED(t, "is not an id", "appointment", "cancel", "x7");
	REFUSED(t, "is not an id", "appointment", "move", "0", "--at", "2026-12-03 14:00");
}

static void test_appointment_move_cancel(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-12-03 14:00", "--kind", "lawyer"), 0);
	assert_int_equal(CLI(t, "appointment", "move", "1", "--at", "2026-12-10 09:30"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT starts_at FROM appointments"), utc(2026, 12, 10, 8, 30));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE kind = 'reminder'"
					   " AND status = 'cancelled'"), 2);
	assert_int_equal(reminder_at(t, 0), utc(2026, 12, 8, 9, 0));
	assert_int_equal(reminder_at(t, 1), utc(2026, 12, 10, 6, 30));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'appointment.moved'"
					   " AND not_before = (SELECT created_at FROM outbox WHERE id = 1)"), 1);
	REFUSED(t, "is in the past", "appointment", "move", "1", "--at", "2026-11-01 09:30");
	assert_int_equal(CLI(t, "appointment", "cancel", "1"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE status = 'queued'"
					   " AND kind = 'reminder'"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE status = 'queued'"
					   " AND catalog_key = 'appointment.cancelled'"), 1);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM appointments WHERE status = 'cancelled'"), 1);
	REFUSED(t, "is cancelled", "appointment", "cancel", "1");
	REFUSED(t, "is cancelled", "appointment", "move", "1", "--at", "2026-12-11 09:30");
}

static void test_document_request(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "document", "request", "F-001", "--type", "birth_certificate", "--due", "2026-12-10",
			     "--note", "both pages"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM document_requests WHERE due_date = '2026-12-10'"
					   " AND doc_type = 'birth_certificate' AND status = 'open'"), 1);
	assert_int_equal(testenv_query_int(t, "SELECT not_before FROM outbox WHERE kind = 'document_request'"), NOW);
	assert_int_equal(testenv_query_int(t, "SELECT not_before FROM outbox WHERE kind = 'document_reminder'"),
			 NOW + 3 * 86400);
	/* Due today is still fine. */
	assert_int_equal(CLI(t, "document", "request", "F-001", "--type", "payslip", "--due", "2026-11-22"), 0);
	assert_int_equal(CLI(t, "document", "list", "F-001"), 0);
	assert_non_null(strstr(t->out, "birth_certificate"));
	assert_non_null(strstr(t->out, "both pages"));
	REFUSED(t, "--type must be", "document", "request", "F-001", "--type", "visa");
	REFUSED(t, "is in the past", "document", "request", "F-001", "--type", "passport", "--due", "2026-11-21");
	REFUSED(t, "no such day in the calendar", "document", "request", "F-001", "--type", "passport", "--due",
		"2026-11-31");
	REFUSED(t, "unknown family", "document", "request", "F-404", "--type", "passport");
}

static void test_checkin(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "checkin", "set", "F-001", "--every", "7d", "--at", "mon 10:00"), 0);
	assert_non_null(strstr(t->out, "every 7 days. Next: Monday 23 November at 10:00."));
	/* One day is one day, in every language. */
	assert_int_equal(CLI(t, "checkin", "set", "F-001", "--every", "1d", "--at", "mon 10:00"), 0);
	assert_non_null(strstr(t->out, "Check-ins for F-001 every day. Next: "));
	assert_int_equal(CLI(t, "family", "show", "F-001"), 0);
	assert_non_null(strstr(t->out, "check-ins: every day from mon 10:00"));
	setenv("CASEBOT_LANG", "nl_BE.UTF-8", 1);
	assert_int_equal(CLI(t, "checkin", "set", "F-001", "--every", "1d", "--at", "mon 10:00"), 0);
	assert_non_null(strstr(t->out, "Check-ins voor F-001 elke dag. Volgende: maandag 23 november om 10.00 uur."));
	setenv("CASEBOT_LANG", "fr", 1);
	assert_int_equal(CLI(t, "checkin", "set", "F-001", "--every", "1d", "--at", "mon 10:00"), 0);
	assert_non_null(strstr(t->out, "pour F-001 tous les jours."));
	setenv("CASEBOT_LANG", "de", 1);
	assert_int_equal(CLI(t, "checkin", "set", "F-001", "--every", "2d", "--at", "mon 10:00"), 0);
	assert_non_null(strstr(t->out, "für F-001 alle 2 Tage."));
	setenv("CASEBOT_LANG", "en", 1);
	assert_int_equal(testenv_query_int(t, "SELECT not_before FROM outbox WHERE kind = 'checkin'"
					   " AND status = 'queued'"), utc(2026, 11, 23, 9, 0));
	/* Changing the plan replaces the queued check-in. Sunday 10:00 is now. */
	assert_int_equal(CLI(t, "checkin", "set", "F-001", "--every", "2w", "--at", "Sunday 10:00"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT every_days FROM checkin_plans"), 14);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE kind = 'checkin'"
					   " AND status = 'queued'"), 1);
	assert_int_equal(testenv_query_int(t, "SELECT not_before FROM outbox WHERE kind = 'checkin'"
					   " AND status = 'queued'"), NOW);
	REFUSED(t, "--every", "checkin", "set", "F-001", "--every", "0d", "--at", "mon 10:00");
	REFUSED(t, "--every", "checkin", "set", "F-001", "--every", "100d", "--at", "mon 10:00");
	REFUSED(t, "--every", "checkin", "set", "F-001", "--every", "7x", "--at", "mon 10:00");
	REFUSED(t, "--at", "checkin", "set", "F-001", "--every", "7d", "--at", "xyz 10:00");
	REFUSED(t, "--at", "checkin", "set", "F-001", "--every", "7d", "--at", "mon 25:00");
	REFUSED(t, "--at", "checkin", "set", "F-001", "--every", "7d");
	assert_int_equal(CLI(t, "checkin", "off", "F-001"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE kind = 'checkin'"
					   " AND status = 'queued'"), 0);
	REFUSED(t, "no check-ins to stop", "checkin", "off", "F-001");
}

/* Rows as the daemon writes them (a code and its values), and two written
 * before codes existed (no values): one sent to the family, one from it. */
static void add_contacts(struct testenv *t)
{
	char path[PATH_MAX + 16];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/casebot.db", t->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO members (family_id, name, role, created_at)"
		" VALUES (1, '=HYPERLINK(\"x\") \"quoted\"', 'other', 1);"
		"INSERT INTO contact_log (family_id, at, direction, channel_kind, kind, staff_id, member_id, summary,"
		" params, status)"
		" VALUES (1, 1795000000, 'out', 'telegram', 'reminder', NULL, NULL, 'reminder.appointment', NULL,"
		"   'delivered'),"
		" (1, 1795300000, 'in', 'telegram', 'text', NULL, (SELECT max(id) FROM members), 'text message (1 bytes)',"
		" NULL, NULL),"
		" (1, 1795310000, 'internal', 'telegram', 'reply', 1, NULL, 'reply', '{}', NULL),"
		" (1, 1795320000, 'in', 'telegram', 'text', NULL, 1, 'text', '{\"bytes\":\"1\"}', NULL),"
		" (1, 1795330000, 'in', 'telegram', 'stop', NULL, 1, 'stop', '{}', NULL),"
		" (1, 1795340000, 'out', 'telegram', 'checkin', NULL, NULL, 'checkin.question', NULL, 'sent')",
		NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_log(void **state)
{
	struct testenv *t = *state;
	cJSON *arr;

	add_contacts(t);
	assert_int_equal(CLI(t, "log", "F-001"), 0);
	assert_non_null(strstr(t->out, "Delivered: appointment reminder"));
	assert_non_null(strstr(t->out, "Contact from the family (older entry without details)"));
	assert_non_null(strstr(t->out, "Sara"));
	/* One byte is one byte. */
	assert_non_null(strstr(t->out, "Text message (1 byte)\n"));
	assert_non_null(strstr(t->out, "Sent: check-in question"));
	assert_null(strstr(t->out, "checkin.question"));
	/* 1795300000 is 2026-11-21 in Brussels. */
	assert_int_equal(CLI(t, "log", "F-001", "--since", "2026-11-21", "--format", "csv"), 0);
	assert_null(strstr(t->out, "appointment reminder"));
	assert_non_null(strstr(t->out, "time,direction,channel,kind,staff,member,summary,status\n"));
	assert_non_null(strstr(t->out, "\"'=HYPERLINK(\"\"x\"\") \"\"quoted\"\"\""));
	assert_int_equal(CLI(t, "log", "F-001", "--format", "json"), 0);
	arr = cJSON_Parse(t->out);
	assert_non_null(arr);
	assert_int_equal(cJSON_GetArraySize(arr), 6);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 2), "staff")->valuestring, "Sara");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "direction")->valuestring, "out");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 4), "code")->valuestring, "stop");
	cJSON_Delete(arr);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'log.read'"), 3);
	REFUSED(t, "--format must be", "log", "F-001", "--format", "xml");
	REFUSED(t, "write the day as YYYY-MM-DD, like", "log", "F-001", "--since", "yesterday");
	REFUSED(t, "unknown family", "log", "F-404");
}

/* Whoever reads the CLI in Dutch, French or German gets each row as a
 * sentence of their language: no English, no catalog key, no code. */
static void test_log_and_alerts_in_reader_language(void **state)
{
	static const char *const langs[] = {"nl", "fr_BE.UTF-8", "de"};
	static const char *const want[] = {"Tekstbericht (1 byte)", "Message texte (1 octet)", "Textnachricht (1 Byte)"};
	struct testenv *t = *state;
	char path[PATH_MAX + 16], key[64];
	sqlite3 *db;

	add_contacts(t);
	snprintf(path, sizeof(path), "%s/casebot.db", t->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO alerts (family_id, staff_id, kind, urgent, summary, params, created_at)"
				      " VALUES (1, 1, 'stop', 0, 'stop', '{}', 1),"
				      " (1, 1, 'urgent', 1, 'urgent', '{\"bytes\":\"1\"}', 2),"
				      " (1, 1, 'unconfirmed', 0, 'unconfirmed', '{\"when\":\"1795000000\",\"what\":\"lawyer\"}', 3),"
				      " (1, 1, 'blocked', 0, 'the family blocked the bot', NULL, 4)", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
		const char *english;

		setenv("CASEBOT_LANG", langs[i], 1);
		assert_int_equal(CLI(t, "log", "F-001"), 0);
		assert_non_null(strstr(t->out, want[i]));
		if ((english = testenv_english_word(t->out)) != NULL)
			fail_msg("%s log shows the English word \"%s\":\n%s", langs[i], english, t->out);
		if (testenv_catalog_key(t->out, key, sizeof(key)) != NULL)
			fail_msg("%s log shows \"%s\":\n%s", langs[i], key, t->out);
		assert_int_equal(CLI(t, "alerts"), 0);
		if ((english = testenv_english_word(t->out)) != NULL)
			fail_msg("%s alerts show the English word \"%s\":\n%s", langs[i], english, t->out);
		if (testenv_catalog_key(t->out, key, sizeof(key)) != NULL)
			fail_msg("%s alerts show \"%s\":\n%s", langs[i], key, t->out);
	}
	setenv("CASEBOT_LANG", "nl", 1);
	assert_int_equal(CLI(t, "alerts"), 0);
	assert_non_null(strstr(t->out, "heeft STOP gestuurd: Stuurde STOP"));
	assert_non_null(strstr(t->out, "DRINGEND bericht: DRINGEND bericht (1 byte)"));
	assert_non_null(strstr(t->out, "De afspraak op "));
	assert_non_null(strstr(t->out, "(advocaat) is niet bevestigd"));
	setenv("CASEBOT_LANG", "en", 1);
}

/* A received document as the daemon would store it: encrypted with the
 * data directory's key. Returns its id. */
static long long add_document(struct testenv *t, const char *plain, long long request_id)
{
	unsigned char key[VAULT_KEY_BYTES], mac[VAULT_MAC_BYTES];
	char in[PATH_MAX + 32], out[PATH_MAX + 64], sql[512], dir[PATH_MAX + 32];
	static int n;
	int64_t size = (int64_t)strlen(plain);
	sqlite3 *db;

	snprintf(in, sizeof(in), "%s/document.key", t->data);
	assert_int_equal(vault_load_key(in, key), 0);
	snprintf(dir, sizeof(dir), "%s/documents", t->data);
	mkdir(dir, 0700);
	snprintf(out, sizeof(out), "%s/documents/d%d.bin", t->data, ++n);
	assert_int_equal(vault_encrypt_buffer(key, plain, strlen(plain), out, mac), 0);
	snprintf(in, sizeof(in), "%s/casebot.db", t->data);
	assert_int_equal(sqlite3_open(in, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "INSERT INTO documents (family_id, request_id, received_at, mime, size, mac, path)"
		 " VALUES (1, %lld, 1, 'application/pdf', %lld, x'00', 'documents/d%d.bin')",
		 request_id, (long long)size, n);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	return testenv_query_int(t, "SELECT max(id) FROM documents");
}

static void test_document_verify_reject_get(void **state)
{
	struct testenv *t = *state;
	char out[PATH_MAX + 32], buf[64] = "";
	FILE *fp;

	assert_int_equal(CLI(t, "document", "request", "F-001", "--type", "passport"), 0);
	assert_int_equal(CLI(t, "document", "request", "F-001", "--type", "lease"), 0);
	assert_int_equal(add_document(t, "%PDF-1.4 passport scan", 1), 1);
	assert_int_equal(add_document(t, "%PDF-1.4 blurry lease", 2), 2);
	assert_int_equal(CLI(t, "document", "verify", "1"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM documents WHERE status = 'verified'"), 1);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM document_requests WHERE status = 'verified'"), 1);
	REFUSED(t, "already verified", "document", "verify", "1");
	REFUSED(t, "--reason must be", "document", "reject", "2", "--reason", "ugly");
	REFUSED(t, "no document #9", "document", "verify", "9");
	assert_int_equal(CLI(t, "document", "reject", "2", "--reason", "unreadable"), 0);
	assert_non_null(strstr(t->out, "asked again"));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM documents WHERE status = 'rejected'"
					   " AND reject_reason = 'unreadable'"), 1);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM document_requests WHERE id = 2 AND status = 'open'"), 1);
	/* The family reads the reason in French. */
	assert_int_equal(CLI(t, "outbox", "F-001"), 0);
	assert_non_null(strstr(t->out, "document_rejected"));
	assert_non_null(strstr(t->out, "contrat de bail"));
	assert_null(strstr(t->out, "cannot be rendered"));
	/* Decrypted for staff, audited. */
	snprintf(out, sizeof(out), "%s/copy.pdf", t->dir);
	assert_int_equal(CLI(t, "document", "get", "1", "-o", out), 0);
	fp = fopen(out, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "%PDF-1.4 passport scan");
	assert_non_null(strstr(t->out, "(application/pdf, 22 bytes)"));
	/* A one-byte file is one byte, in every language. */
	assert_int_equal(testenv_query_int(t, "SELECT size FROM documents WHERE id = 1"), 22);
	{
		char path[PATH_MAX + 16];
		sqlite3 *db;

		snprintf(path, sizeof(path), "%s/casebot.db", t->data);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, "UPDATE documents SET size = 1 WHERE id = 2", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	assert_int_equal(CLI(t, "document", "list", "F-001"), 0);
	assert_non_null(strstr(t->out, " 1 byte\n"));
	assert_non_null(strstr(t->out, " 22 bytes\n"));
	setenv("CASEBOT_LANG", "fr", 1);
	assert_int_equal(CLI(t, "document", "list", "F-001"), 0);
	assert_non_null(strstr(t->out, " 1 octet\n"));
	setenv("CASEBOT_LANG", "en", 1);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'document.get'"
					   " AND family_ref = 'F-001'"), 1);
	REFUSED(t, "exists", "document", "get", "1", "-o", out);
	REFUSED(t, "-o FILE is required", "document", "get", "1");
	/* A file altered on disk is refused, and nothing is written. */
	{
		char path[PATH_MAX + 64];

		snprintf(path, sizeof(path), "%s/documents/d2.bin", t->data);
		int byte;

		/* Flip a byte of the ciphertext: writing a fixed value would leave
		 * it unchanged one time in 256. */
		fp = fopen(path, "r+b");
		fseek(fp, 40, SEEK_SET);
		byte = fgetc(fp);
		fseek(fp, 40, SEEK_SET);
		fputc(byte ^ 0xff, fp);
		fclose(fp);
		snprintf(out, sizeof(out), "%s/copy2.pdf", t->dir);
		assert_int_equal(CLI(t, "document", "get", "2", "-o", out), 1);
		assert_non_null(strstr(t->err, "damaged"));
		assert_int_not_equal(access(out, F_OK), 0);
	}
}

/* Every kind of queued message renders in every language. */
static void test_outbox_renders_everything(void **state)
{
	struct testenv *t = *state;
	static const char *const langs[] = {"nl", "fr", "de", "en"};

	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-12-03 14:00", "--kind", "immigration_office",
			     "--member", "Amina", "--place", "Rue Haute 1"), 0);
	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-12-04 14:00", "--kind", "court"), 0);
	assert_int_equal(CLI(t, "appointment", "move", "1", "--at", "2026-12-05 09:00"), 0);
	assert_int_equal(CLI(t, "appointment", "cancel", "2"), 0);
	assert_int_equal(CLI(t, "document", "request", "F-001", "--type", "order_to_leave", "--due", "2026-12-01"), 0);
	assert_int_equal(CLI(t, "checkin", "set", "F-001", "--every", "7d", "--at", "mon 10:00"), 0);
	for (int i = 0; i < 4; i++) {
		char sql[128];

		snprintf(sql, sizeof(sql), "UPDATE families SET lang = '%s'", langs[i]);
		{
			char path[PATH_MAX + 16];
			sqlite3 *db;

			snprintf(path, sizeof(path), "%s/casebot.db", t->data);
			assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
			assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
			sqlite3_close(db);
		}
		assert_int_equal(CLI(t, "outbox", "F-001", "--all"), 0);
		assert_null(strstr(t->out, "cannot be rendered"));
		assert_non_null(strstr(t->out, "appointment_notice"));
		assert_non_null(strstr(t->out, "document_request"));
		assert_non_null(strstr(t->out, "checkin"));
	}
	/* The first line of a reminder names no institution; the kind comes
	 * on the next line. */
	assert_non_null(strstr(t->out, "| Reminder: you have an appointment on Saturday 5 December at 9:00.\n"
			       "    | What: Immigration Office"));
	assert_non_null(strstr(t->out, "Saturday 5 December at 9:00"));
	assert_non_null(strstr(t->out, "Immigration Office"));
	assert_non_null(strstr(t->out, "order to leave the territory"));
	assert_non_null(strstr(t->out, "Tuesday 1 December"));
}

static void test_help_and_unknown(void **state)
{
	struct testenv *t = *state;
	static const char *const cmds[][2] = {
		{"init", NULL}, {"check", NULL}, {"staff", "add"}, {"staff", "list"}, {"staff", "invite"},
		{"family", "add"}, {"family", "set"}, {"alerts", NULL},
		{"family", "list"}, {"family", "show"}, {"family", "close"}, {"family", "erase"},
		{"member", "add"}, {"invite", NULL}, {"appointment", "add"}, {"appointment", "list"},
		{"appointment", "cancel"}, {"appointment", "move"}, {"document", "request"},
		{"document", "list"}, {"document", "verify"}, {"document", "reject"}, {"document", "get"},
		{"checkin", "set"}, {"checkin", "off"}, {"log", NULL}, {"outbox", NULL}, {"run", NULL},
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i][1] != NULL)
			assert_int_equal(CLI(t, cmds[i][0], cmds[i][1], "--help"), 0);
		else
			assert_int_equal(CLI(t, cmds[i][0], "--help"), 0);
		assert_non_null(strstr(t->out, "usage: casebot "));
		assert_non_null(strstr(t->out, cmds[i][0]));
	}
	assert_int_equal(CLI(t, "--help"), 0);
	assert_non_null(strstr(t->out, "appointment move"));
	REFUSED(t, "unknown command \"fly\"", "fly");
	REFUSED(t, "unknown subcommand \"fly\"", "family", "fly");
	REFUSED(t, "which one?", "family");
}


/* Runs cli_run on argv as given, without the -c the CLI macro adds. */
static int raw_cli(struct testenv *t, int argc, char **argv)
{
	FILE *out = tmpfile(), *err = tmpfile();
	int rc;
	size_t n;

	assert_non_null(out);
	assert_non_null(err);
	rc = cli_run(argc, argv, out, err);
	rewind(out);
	n = fread(t->out, 1, sizeof(t->out) - 1, out);
	t->out[n] = '\0';
	rewind(err);
	n = fread(t->err, 1, sizeof(t->err) - 1, err);
	t->err[n] = '\0';
	fclose(out);
	fclose(err);
	return rc;
}

static void test_config_options(void **state)
{
	struct testenv *t = *state;
	char joined[PATH_MAX + 16], eq[PATH_MAX + 16];
	char *alone[] = {"casebot", "-c", NULL};
	char *before[] = {"casebot", "-c", "check", NULL};
	char *longopt[] = {"casebot", "--config", t->conf, "check", NULL};
	char *longeq[] = {"casebot", eq, "check", NULL};
	char *shortj[] = {"casebot", joined, "check", NULL};
	char *empty[] = {"casebot", "--config=", "check", NULL};

	snprintf(joined, sizeof(joined), "-c%s", t->conf);
	snprintf(eq, sizeof(eq), "--config=%s", t->conf);
	assert_int_equal(raw_cli(t, 2, alone), 2);
	assert_non_null(strstr(t->err, "-c needs a file, like: casebot -c casebot.conf check"));
	assert_null(strstr(t->err, "unknown option"));
	assert_int_equal(raw_cli(t, 3, before), 2);
	assert_non_null(strstr(t->err, "-c needs a file before the command"));
	assert_int_equal(raw_cli(t, 4, longopt), 0);
	assert_non_null(strstr(t->out, "configuration OK"));
	assert_int_equal(raw_cli(t, 3, longeq), 0);
	assert_non_null(strstr(t->out, "configuration OK"));
	assert_int_equal(raw_cli(t, 3, shortj), 0);
	assert_non_null(strstr(t->out, "configuration OK"));
	assert_int_equal(raw_cli(t, 3, empty), 2);
	assert_non_null(strstr(t->err, "needs a file"));
}

/* "casebot staff --help" lists the group's commands instead of taking
 * --help for a subcommand. */
static void test_group_help(void **state)
{
	struct testenv *t = *state;
	static const char *const groups[][2] = {
		{"staff", "staff invite NAME"}, {"family", "family erase REF --yes"},
		{"member", "member add REF NAME"}, {"appointment", "appointment move ID"},
		{"document", "document get ID -o FILE"}, {"checkin", "checkin off REF"},
	};

	for (size_t i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		assert_int_equal(CLI(t, groups[i][0], "--help"), 0);
		assert_non_null(strstr(t->out, groups[i][1]));
		assert_string_equal(t->err, "");
		assert_int_equal(CLI(t, groups[i][0], "-h"), 0);
		assert_non_null(strstr(t->out, groups[i][1]));
		assert_int_equal(CLI(t, "help", groups[i][0]), 0);
		assert_non_null(strstr(t->out, groups[i][1]));
	}
	assert_int_equal(CLI(t, "appointment", "--help"), 0);
	assert_non_null(strstr(t->out, "Times are local to Europe/Brussels"));
	REFUSED(t, "unknown subcommand \"fly\"", "staff", "fly");
}

/* Help names the configured zone, read before the command runs; a fresh
 * process used to print the zone it had not set yet: UTC. */
static void test_help_names_the_zone(void **state)
{
	struct testenv *t = *state;
	char cmd[PATH_MAX * 2 + 64], buf[512];
	size_t n;
	FILE *p, *fp = fopen(t->conf, "a");

	fprintf(fp, "timezone = Asia/Tokyo\n");
	fclose(fp);
	assert_int_equal(CLI(t, "--help"), 0);
	assert_non_null(strstr(t->out, "Times are local to Asia/Tokyo"));
	assert_int_equal(CLI(t, "appointment", "add", "--help"), 0);
	assert_non_null(strstr(t->out, "Times are local to Asia/Tokyo"));
	snprintf(cmd, sizeof(cmd), "%s/casebot --help 2>&1", dt_build_dir());
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	while (fread(cmd, 1, sizeof(cmd), p) > 0)
		;
	assert_int_equal(pclose(p), 0);
	assert_non_null(strstr(buf, "usage: casebot"));
	snprintf(cmd, sizeof(cmd), "%s/casebot --help 2>&1 | grep -c 'Times are local to Europe/Brussels'",
		 dt_build_dir());
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	pclose(p);
	assert_string_equal(buf, "1\n");
}

/* Runs BIN -c CONF ARGS with CASEBOT_TEST_NOW set, as a separate process. */
static int run_binary(struct testenv *t, const char *bin, const char *now, const char *args)
{
	char cmd[PATH_MAX * 2 + 256];

	snprintf(cmd, sizeof(cmd), "CASEBOT_TEST_NOW=%s %s/%s -c %s %s >/dev/null 2>&1", now, dt_build_dir(), bin,
		 t->conf, args);
	return system(cmd);
}

/* Only a test build reads CASEBOT_TEST_NOW: the production binary keeps
 * the real clock, so the variable cannot date what staff do. */
static void test_clock_only_in_test_build(void **state)
{
	struct testenv *t = *state;
	long long real = (long long)time(NULL), at;

	/* 9 September 2001: far from any real now. */
	assert_int_equal(run_binary(t, "casebot", "1000000000", "staff add Prod --role counsellor --lang nl"), 0);
	at = testenv_query_int(t, "SELECT created_at FROM staff WHERE name = 'Prod'");
	assert_true(at >= real - 5 && at <= real + 600);
	assert_int_equal(testenv_query_int(t, "SELECT max(at) FROM audit WHERE action = 'staff.add'"), at);
	assert_int_equal(run_binary(t, "casebot-test", "1000000000", "staff add Test --role counsellor --lang nl"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT created_at FROM staff WHERE name = 'Test'"), 1000000000);
	/* In 2039 an appointment in 2036 is past, for the test build only. */
	assert_int_equal(run_binary(t, "casebot", "2200000000",
				    "appointment add F-001 --at '2036-01-01 10:00' --kind lawyer"), 0);
	assert_int_not_equal(run_binary(t, "casebot-test", "2200000000",
					"appointment add F-001 --at '2036-01-02 10:00' --kind lawyer"), 0);
}

/* Each way a date can be wrong gets its own line, with what was expected
 * and an example; none of them reads like the DST gap. */
static void test_date_mistakes(void **state)
{
	struct testenv *t = *state;
	static const char *const cases[][2] = {
		{"2026-12-10", "has a day but no time: add one, like \"2026-12-10 14:00\""},
		{"2026-12-10T14:00", "put a space between the day and the time, like \"2026-12-10 14:00\""},
		{"10/12/2026 14:00", "write the day as YYYY-MM-DD and then the time, like \"2026-12-10 14:00\""},
		{"2026-12-10 14h00", "write the time as HH:MM, from 00:00 to 23:59, like \"2026-12-10 14:00\""},
		{"2026-12-10 24:00", "write the time as HH:MM"},
		{"2026-13-10 14:00", "there is no such day as 2026-13-10"},
		{"2027-03-28 02:30", "does not exist in Europe/Brussels: the clocks go forward that night"},
		{"2026-11-01 10:00", "is in the past"},
	};
	char seen[8][sizeof(((struct testenv *)0)->err)];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		REFUSED(t, cases[i][1], "appointment", "add", "F-001", "--at", cases[i][0], "--kind", "lawyer");
		memcpy(seen[i], t->err, sizeof(seen[i]));
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(seen[i], seen[j]);
		if (i != 6)
			assert_null(strstr(t->err, "clocks"));
	}
	REFUSED(t, "--due \"2026-12-10 14:00\" takes a day without a time, like 2026-12-10", "document", "request",
		"F-001", "--type", "passport", "--due", "2026-12-10 14:00");
	REFUSED(t, "--due \"10-12-2026\": write the day as YYYY-MM-DD, like 2026-12-10", "document", "request",
		"F-001", "--type", "passport", "--due", "10-12-2026");
	REFUSED(t, "--since \"2026-02-30\": there is no such day in the calendar", "log", "F-001", "--since",
		"2026-02-30");
	REFUSED(t, "does not exist", "appointment", "move", "1", "--at", "2027-03-28 02:00");
}

/* Staff type references and kinds in any case. */
static void test_case_insensitive(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "family", "show", "f-001"), 0);
	assert_non_null(strstr(t->out, "family F-001"));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'family.show'"
					   " AND family_ref = 'F-001'"), 1);
	assert_int_equal(CLI(t, "appointment", "add", "f-001", "--at", "2026-12-03 14:00", "--kind", "Lawyer",
			     "--member", "Amina"), 0);
	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-12-04 14:00", "--kind",
			     "IMMIGRATION_OFFICE"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM appointments WHERE kind IN"
					   " ('lawyer', 'immigration_office')"), 2);
	assert_int_equal(CLI(t, "document", "request", "f-001", "--type", "Passport"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM document_requests WHERE doc_type = 'passport'"), 1);
	assert_int_equal(CLI(t, "member", "add", "F-001", "Noor", "--role", "Child", "--lang", "NL"), 0);
	assert_int_equal(CLI(t, "staff", "add", "Jan", "--role", "Counsellor", "--lang", "De"), 0);
	assert_int_equal(CLI(t, "log", "f-001", "--format", "JSON"), 0);
	REFUSED(t, "family \"F-001\" already exists", "family", "add", "f-001", "--lang", "nl", "--counsellor", "Sara");
	/* An exact match wins over one that differs only in case. */
	assert_int_equal(CLI(t, "family", "add", "F-002", "--lang", "nl", "--counsellor", "Sara"), 0);
	assert_int_equal(CLI(t, "family", "show", "F-002"), 0);
	assert_non_null(strstr(t->out, "family F-002"));
}

/* What is not UTF-8 would reach staff screens and family messages as
 * garbage: it is refused, and nothing is written. */
static void test_invalid_utf8(void **state)
{
	struct testenv *t = *state;

	REFUSED(t, "argument 6 is not valid UTF-8", "member", "add", "F-001", "Am\xe9lie", "--role", "parent");
	REFUSED(t, "argument 5 is not valid UTF-8", "staff", "add", "Ren\xc3", "--role", "counsellor", "--lang", "fr");
	/* Any argument, whatever it is for: a reference, a date, a kind. An
	 * argument is numbered as typed (here after "-c FILE"). */
	REFUSED(t, "argument 5 is not valid UTF-8", "family", "show", "F-00\xb1");
	REFUSED(t, "argument 4 is not valid UTF-8", "log", "F-\xc3\x28");
	REFUSED(t, "--since is not valid UTF-8", "log", "F-001", "--since", "2026-12-0\xff");
	REFUSED(t, "--kind is not valid UTF-8", "appointment", "add", "F-001", "--at", "2026-12-03 14:00", "--kind",
		"lawy\xe9r");
	REFUSED(t, "argument 5 is not valid UTF-8", "staff", "invite", "Sar\xe0");
	REFUSED(t, "--name is not valid UTF-8", "family", "add", "F-009", "--lang", "fr", "--counsellor", "Sara",
		"--name", "Fam\xff");
	REFUSED(t, "--name is not valid UTF-8", "family", "set", "F-001", "--name", "\xc0\xaf");
	REFUSED(t, "--place is not valid UTF-8", "appointment", "add", "F-001", "--at", "2026-12-03 14:00",
		"--kind", "lawyer", "--place", "Rue \xe9tienne 1");
	REFUSED(t, "--note is not valid UTF-8", "document", "request", "F-001", "--type", "passport", "--note",
		"\xed\xa0\x80 surrogate");
	REFUSED(t, "control character", "member", "add", "F-001", "A\xc2\x85mina", "--role", "parent");
	/* Good UTF-8 in any script passes. */
	assert_int_equal(CLI(t, "member", "add", "F-001", "Amélie Ωμέγα أمينة", "--role", "parent"), 0);
	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-12-03 14:00", "--kind", "lawyer",
			     "--place", "Rue Étienne 1 🏠"), 0);
}

static void db_exec(struct testenv *t, const char *sql)
{
	char path[PATH_MAX + 16];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/casebot.db", t->data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* n contact rows for family id fam, written the one way the code writes
 * them. */
static void chain_contacts(struct testenv *t, long long fam, int n)
{
	char err[256];
	struct store *st;

	assert_int_equal(store_open(t->data, 0, &st, err, sizeof(err)), 0);
	assert_int_equal(store_begin(st), 0);
	for (int i = 0; i < n; i++) {
		char summary[64], params[32];

		snprintf(summary, sizeof(summary), "appointment %d confirmed", i + 1);
		snprintf(params, sizeof(params), "{\"n\":\"%d\"}", i + 1);
		assert_int_equal(store_contact_add(st, fam, NOW + i * 60, i % 2 ? "out" : "in", "telegram",
						   "reminder_answer", 0, 0, summary, params, NULL), 0);
	}
	assert_int_equal(store_commit(st), 0);
	store_close(st);
}

/* The chain holds, then each way of tampering with it is caught, at the
 * row where it happened. */
static void test_log_verify(void **state)
{
	struct testenv *t = *state;

	assert_int_equal(CLI(t, "family", "add", "F-002", "--lang", "nl", "--counsellor", "Sara"), 0);
	assert_int_equal(CLI(t, "family", "add", "F-003", "--lang", "nl", "--counsellor", "Sara"), 0);
	assert_int_equal(CLI(t, "family", "add", "F-004", "--lang", "nl", "--counsellor", "Sara"), 0);
	/* Interleaved: each family's chain runs through its own rows only. */
	for (int f = 1; f <= 4; f++)
		chain_contacts(t, f, 3);
	for (int f = 1; f <= 4; f++)
		chain_contacts(t, f, 3);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM contact_log WHERE chain_hash IS NULL"), 0);
	assert_int_equal(CLI(t, "log", "F-001", "--verify"), 0);
	assert_non_null(strstr(t->out, "6 rows"));
	assert_non_null(strstr(t->out, "chain whole"));
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'log.verify'"), 1);
	/* F-001's rows are 1-3 and 13-15. A changed row: its own hash no
	 * longer matches. */
	db_exec(t, "UPDATE contact_log SET summary = 'appointment 2 missed' WHERE id = 2");
	assert_int_equal(CLI(t, "log", "F-001", "--verify"), 1);
	assert_non_null(strstr(t->err, "broken at row #2:"));
	assert_non_null(strstr(t->err, "changed"));
	/* Only the column a row stores counts: the time too. */
	db_exec(t, "UPDATE contact_log SET at = at + 1 WHERE id = 6");
	assert_int_equal(CLI(t, "log", "F-002", "--verify"), 1);
	assert_non_null(strstr(t->err, "broken at row #6:"));
	/* A deleted row: the one after it no longer follows. */
	db_exec(t, "DELETE FROM contact_log WHERE id = 8");
	assert_int_equal(CLI(t, "log", "F-003", "--verify"), 1);
	assert_non_null(strstr(t->err, "broken at row #9:"));
	assert_non_null(strstr(t->err, "removed or moved"));
	/* A reordered row: F-004's rows 10 and 11 swap places. */
	db_exec(t, "UPDATE contact_log SET id = -1 WHERE id = 10; UPDATE contact_log SET id = 10 WHERE id = 11;"
		   " UPDATE contact_log SET id = 11 WHERE id = -1");
	assert_int_equal(CLI(t, "log", "F-004", "--verify"), 1);
	assert_non_null(strstr(t->err, "broken at row #10:"));
	/* The last row cut off: the family's recorded head names it. */
	assert_int_equal(CLI(t, "family", "add", "F-005", "--lang", "nl", "--counsellor", "Sara"), 0);
	chain_contacts(t, 5, 3);
	assert_int_equal(CLI(t, "log", "F-005", "--verify"), 0);
	db_exec(t, "DELETE FROM contact_log WHERE id = (SELECT max(id) FROM contact_log)");
	assert_int_equal(CLI(t, "log", "F-005", "--verify"), 1);
	assert_non_null(strstr(t->err, "broken at row #27:"));
	assert_non_null(strstr(t->err, "removed from its end"));
	/* Retention removes the oldest rows: what is left still holds. */
	assert_int_equal(CLI(t, "family", "add", "F-006", "--lang", "nl", "--counsellor", "Sara"), 0);
	chain_contacts(t, 6, 4);
	db_exec(t, "DELETE FROM contact_log WHERE id IN (SELECT id FROM contact_log WHERE family_id = 6"
		   " ORDER BY id LIMIT 2)");
	assert_int_equal(CLI(t, "log", "F-006", "--verify"), 0);
	assert_non_null(strstr(t->out, "removed by retention"));
	/* --since reads part of a log; a chain is checked whole. */
	REFUSED(t, "checked whole", "log", "F-001", "--verify", "--since", "2026-11-01");
}

static void read_all(const char *path, char *buf, size_t cap, size_t *len)
{
	FILE *fp = fopen(path, "rb");

	assert_non_null(fp);
	*len = fread(buf, 1, cap - 1, fp);
	buf[*len] = '\0';
	fclose(fp);
}

static void assert_private(const char *path, unsigned mode)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, mode);
}

/* The export's head is signed with the installation's key; the
 * signature verifies with its public half and covers the log. */
static void test_log_export_signed(void **state)
{
	struct testenv *t = *state;
	char dir[PATH_MAX], path[PATH_MAX + 32], head[2048], log[65536], want[96], *line;
	unsigned char sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES + 1], digest[32];
	char digest_hex[65];
	size_t n, siglen;
	FILE *fp;

	chain_contacts(t, 1, 4);
	snprintf(path, sizeof(path), "%s/signing.key", t->data);
	assert_private(path, 0600);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	assert_int_equal(fread(sk, 1, sizeof(sk), fp), sizeof(sk));
	fclose(fp);
	snprintf(dir, sizeof(dir), "%s/export", t->dir);
	assert_int_equal(CLI(t, "log", "F-001", "--export", dir), 0);
	assert_non_null(strstr(t->out, "signed"));
	assert_private(dir, 0700);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'log.export'"
					      " AND family_ref = 'F-001'"), 1);
	snprintf(path, sizeof(path), "%s/chain-head.txt", dir);
	assert_private(path, 0600);
	read_all(path, head, sizeof(head), &n);
	snprintf(path, sizeof(path), "%s/chain-head.sig", dir);
	assert_private(path, 0600);
	read_all(path, (char *)sig, sizeof(sig), &siglen);
	assert_int_equal(siglen, crypto_sign_BYTES);
	assert_int_equal(crypto_sign_verify_detached(sig, (unsigned char *)head, n, sk + crypto_sign_SEEDBYTES), 0);
	/* One changed byte and it does not. */
	head[n - 2] ^= 1;
	assert_int_not_equal(crypto_sign_verify_detached(sig, (unsigned char *)head, n, sk + crypto_sign_SEEDBYTES), 0);
	head[n - 2] ^= 1;
	/* The head names the last row's chain hash and the log's digest. */
	snprintf(path, sizeof(path), "%s/contact-log.json", dir);
	assert_private(path, 0600);
	read_all(path, log, sizeof(log), &n);
	crypto_hash_sha256(digest, (unsigned char *)log, n);
	sodium_bin2hex(digest_hex, sizeof(digest_hex), digest, sizeof(digest));
	snprintf(want, sizeof(want), "contact-log.json sha256: %s\n", digest_hex);
	assert_non_null(strstr(head, want));
	assert_non_null(strstr(head, "rows: 4 (#1 to #4)"));
	{
		cJSON *root = cJSON_Parse(log), *rows = cJSON_GetObjectItem(root, "rows");
		const cJSON *last = cJSON_GetArrayItem(rows, 3);
		const char *h = cJSON_GetStringValue(cJSON_GetObjectItem(last, "chain_hash"));

		assert_int_equal(cJSON_GetArraySize(rows), 4);
		assert_non_null(h);
		line = strstr(head, "chain head: row #4 ");
		assert_non_null(line);
		assert_memory_equal(line + strlen("chain head: row #4 "), h, 64);
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(rows, 0), "summary")),
				    "appointment 1 confirmed");
		cJSON_Delete(root);
	}
	/* How to check it, in the family's language (French), with the
	 * public key beside it. */
	snprintf(path, sizeof(path), "%s/VERIFY.txt", dir);
	read_all(path, log, sizeof(log), &n);
	assert_non_null(strstr(log, "Comment vérifier"));
	assert_non_null(strstr(log, "openssl pkeyutl -verify"));
	snprintf(path, sizeof(path), "%s/signing-key.pem", dir);
	read_all(path, log, sizeof(log), &n);
	assert_non_null(strstr(log, "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA"));
	/* A directory in use is refused; an empty one is taken. */
	REFUSED(t, "not empty", "log", "F-001", "--export", dir);
	snprintf(dir, sizeof(dir), "%s/empty", t->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(CLI(t, "log", "F-001", "--export", dir), 0);
	assert_private(dir, 0700);
	/* A broken chain is not signed. */
	db_exec(t, "UPDATE contact_log SET summary = 'x' WHERE id = 1");
	snprintf(dir, sizeof(dir), "%s/broken", t->dir);
	assert_int_equal(CLI(t, "log", "F-001", "--export", dir), 1);
	assert_non_null(strstr(t->err, "broken at row #1"));
	assert_int_equal(access(dir, F_OK), -1);
	sodium_memzero(sk, sizeof(sk));
}

/* Everything held about a family, documents decrypted, with a summary in
 * the family's language; the export is audited. */
static void test_family_export(void **state)
{
	struct testenv *t = *state;
	char dir[PATH_MAX], path[PATH_MAX + 64], buf[65536];
	size_t n;

	assert_int_equal(CLI(t, "appointment", "add", "F-001", "--at", "2026-12-03 14:00", "--kind", "lawyer",
			     "--place", "Rue Haute 1"), 0);
	assert_int_equal(CLI(t, "document", "request", "F-001", "--type", "passport"), 0);
	assert_int_equal(add_document(t, "%PDF-1.4 passport of Amina", 1), 1);
	chain_contacts(t, 1, 2);
	/* Another family's data stays out. */
	assert_int_equal(CLI(t, "family", "add", "F-009", "--lang", "nl", "--counsellor", "Sara", "--name", "Other"), 0);
	assert_int_equal(CLI(t, "member", "add", "F-009", "Zeynep", "--role", "parent"), 0);
	snprintf(dir, sizeof(dir), "%s/sar", t->dir);
	assert_int_equal(CLI(t, "family", "export", "f-001", dir), 0);
	assert_private(dir, 0700);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'family.export'"
					      " AND family_ref = 'F-001'"), 1);
	snprintf(path, sizeof(path), "%s/family.json", dir);
	assert_private(path, 0600);
	read_all(path, buf, sizeof(buf), &n);
	{
		cJSON *root = cJSON_Parse(buf);

		assert_non_null(root);
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
			cJSON_GetObjectItem(root, "family"), 0), "ref")), "F-001");
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
			cJSON_GetObjectItem(root, "members"), 0), "name")), "Amina");
		assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(
			cJSON_GetObjectItem(root, "appointments"), 0), "place")), "Rue Haute 1");
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "document_requests")), 1);
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "documents")), 1);
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "contact_log")), 2);
		assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(root, "outbox")) >= 2);
		assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(root, "audit")) >= 3);
		cJSON_Delete(root);
	}
	assert_null(strstr(buf, "Zeynep"));
	assert_null(strstr(buf, "F-009"));
	/* The document itself, decrypted. */
	snprintf(path, sizeof(path), "%s/documents/document-1.pdf", dir);
	assert_private(path, 0600);
	read_all(path, buf, sizeof(buf), &n);
	assert_string_equal(buf, "%PDF-1.4 passport of Amina");
	/* The summary, in French. */
	snprintf(path, sizeof(path), "%s/summary.txt", dir);
	assert_private(path, 0600);
	read_all(path, buf, sizeof(buf), &n);
	assert_non_null(strstr(buf, "Ce que casebot conserve à votre sujet (dossier F-001), le dimanche 22 novembre"));
	assert_non_null(strstr(buf, "Membres : Amina."));
	assert_non_null(strstr(buf, "1 rendez-vous, 1 documents"));
	/* The contact log, signed, beside it. */
	snprintf(path, sizeof(path), "%s/contact-log/chain-head.sig", dir);
	assert_private(path, 0600);
	REFUSED(t, "not empty", "family", "export", "F-001", dir);
	REFUSED(t, "unknown family", "family", "export", "F-404", "/nonexistent-dir");
}

/* Erasure removes the family's chain with its rows; other families keep
 * theirs. */
static void test_erase_removes_chain(void **state)
{
	struct testenv *t = *state;
	char path[PATH_MAX + 64];

	assert_int_equal(CLI(t, "family", "add", "F-002", "--lang", "nl", "--counsellor", "Sara"), 0);
	chain_contacts(t, 1, 3);
	chain_contacts(t, 2, 2);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM contact_chains"), 2);
	/* What a crash mid-download leaves: a partial file beside the
	 * family's documents, and (from an older version) a plain one in tmp. */
	snprintf(path, sizeof(path), "%s/documents", t->data);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/documents/1", t->data);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/documents/1/a.bin.part", t->data);
	write_file(path, "ciphertext", 0600);
	snprintf(path, sizeof(path), "%s/tmp", t->data);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/tmp/dl-7", t->data);
	write_file(path, "%PDF-1.4 plain", 0600);
	assert_int_equal(CLI(t, "family", "erase", "F-001", "--yes"), 0);
	snprintf(path, sizeof(path), "%s/documents/1", t->data);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/tmp/dl-7", t->data);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM contact_chains"), 1);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM contact_chains WHERE family_id = 1"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM contact_log WHERE family_id = 1"), 0);
	assert_int_equal(CLI(t, "log", "F-002", "--verify"), 0);
}

/* The document key may live outside the data directory: init makes it
 * there, check loads it, document get decrypts with it. */
static void test_document_key_elsewhere(void **state)
{
	struct testenv *t = *state;
	char creds[PATH_MAX], key[PATH_MAX + 32], out[PATH_MAX + 32], buf[256];
	size_t n;
	FILE *fp;

	snprintf(creds, sizeof(creds), "%s/creds", t->dir);
	assert_int_equal(mkdir(creds, 0700), 0);
	snprintf(key, sizeof(key), "%s/document.key", creds);
	fp = fopen(t->conf, "a");
	assert_non_null(fp);
	fprintf(fp, "\n[casebot]\ndocument_key = %s\n", key);
	fclose(fp);
	assert_int_equal(CLI(t, "check"), 1);
	assert_non_null(strstr(t->err, key));
	assert_non_null(strstr(t->err, "missing"));
	assert_int_equal(CLI(t, "init"), 0);
	assert_non_null(strstr(t->out, "new document key"));
	assert_private(key, 0600);
	assert_int_equal(CLI(t, "check"), 0);
	/* The key in the data directory is not the one used any more. */
	snprintf(out, sizeof(out), "%s/document.key", t->data);
	assert_int_equal(unlink(out), 0);
	assert_int_equal(CLI(t, "check"), 0);
	{
		unsigned char k[VAULT_KEY_BYTES], mac[VAULT_MAC_BYTES];
		char abs[PATH_MAX + 64];

		assert_int_equal(vault_load_key(key, k), 0);
		snprintf(abs, sizeof(abs), "%s/documents", t->data);
		mkdir(abs, 0700);
		snprintf(abs, sizeof(abs), "%s/documents/x.bin", t->data);
		assert_int_equal(vault_encrypt_buffer(k, "%PDF-1.4 elsewhere", 18, abs, mac), 0);
		db_exec(t, "INSERT INTO documents (family_id, received_at, mime, size, mac, path)"
			   " VALUES (1, 1, 'application/pdf', 18, zeroblob(32), 'documents/x.bin')");
	}
	snprintf(out, sizeof(out), "%s/got.pdf", t->dir);
	assert_int_equal(CLI(t, "document", "get", "1", "-o", out), 0);
	read_all(out, buf, sizeof(buf), &n);
	assert_string_equal(buf, "%PDF-1.4 elsewhere");
	/* A damaged signing key is caught by check. */
	snprintf(out, sizeof(out), "%s/signing.key", t->data);
	assert_int_equal(truncate(out, 10), 0);
	assert_int_equal(CLI(t, "check"), 1);
	assert_non_null(strstr(t->err, "signing.key: damaged"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_files), T(test_check), T(test_check_bad_value), T(test_check_refuses_banned_preview), T(test_check_without_database),
		T(test_check_damaged_database), T(test_damaged_database_refuses_writes), T(test_empty_database_refused),
		T(test_check_changes_nothing), T(test_check_secrets),
		T(test_staff), T(test_staff_invite_and_email), T(test_invite_lifetime_configurable), T(test_audit_command), T(test_family), T(test_family_set_and_alerts), T(test_family_show_is_audited), T(test_family_close),
		T(test_family_erase), T(test_member), T(test_invite), T(test_appointment_ladder),
		T(test_appointment_late), T(test_appointment_dst), T(test_appointment_bad),
		T(test_appointment_move_cancel), T(test_document_request), T(test_checkin), T(test_log), T(test_log_and_alerts_in_reader_language),
		T(test_document_verify_reject_get), T(test_outbox_renders_everything), T(test_help_and_unknown),
		T(test_config_options), T(test_group_help), T(test_help_names_the_zone), T(test_date_mistakes),
		T(test_case_insensitive), T(test_invalid_utf8), T(test_clock_only_in_test_build),
		T(test_log_verify), T(test_log_export_signed), T(test_family_export), T(test_erase_removes_chain),
		T(test_document_key_elsewhere),
	};

	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
