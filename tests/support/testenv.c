#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/tz.h"
#include "tests/support/testenv.h"

int testenv_setup(struct testenv *t, time_t now, const char *extra_ini)
{
	char stamp[32];
	FILE *fp;

	memset(t, 0, sizeof(*t));
	snprintf(t->dir, sizeof(t->dir), "/tmp/casebot-test-XXXXXX");
	if (mkdtemp(t->dir) == NULL)
		return -1;
	snprintf(t->conf, sizeof(t->conf), "%s/casebot.conf", t->dir);
	snprintf(t->data, sizeof(t->data), "%s/data", t->dir);
	fp = fopen(t->conf, "w");
	if (fp == NULL)
		return -1;
	fprintf(fp, "[casebot]\ndata_dir = %s\n%s", t->data, extra_ini != NULL ? extra_ini : "");
	fclose(fp);
	t->now = now;
	snprintf(stamp, sizeof(stamp), "%lld", (long long)now);
	setenv("CASEBOT_TEST_NOW", stamp, 1);
	unsetenv("CASEBOT_CONFIG");
	/* The CLI speaks the reader's language; tests read English unless they
	 * ask for another. */
	setenv("CASEBOT_LANG", "en", 1);
	return tz_set("Europe/Brussels");
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int testenv_rmtree(const char *path)
{
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void testenv_teardown(struct testenv *t)
{
	if (t->dir[0] != '\0')
		testenv_rmtree(t->dir);
	unsetenv("CASEBOT_TEST_NOW");
}

static void slurp(FILE *fp, char *buf, size_t cap)
{
	size_t n;

	rewind(fp);
	n = fread(buf, 1, cap - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

int testenv_cli(struct testenv *t, ...)
{
	char *argv[64];
	int argc = 0, rc;
	va_list ap;
	FILE *out = tmpfile(), *err = tmpfile();
	const char *a;

	if (out == NULL || err == NULL)
		return -1;
	argv[argc++] = "casebot";
	argv[argc++] = "-c";
	argv[argc++] = t->conf;
	va_start(ap, t);
	while ((a = va_arg(ap, const char *)) != NULL && argc < 63)
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	rc = cli_run(argc, argv, out, err);
	slurp(out, t->out, sizeof(t->out));
	slurp(err, t->err, sizeof(t->err));
	return rc;
}

static sqlite3 *open_db(struct testenv *t)
{
	char path[PATH_MAX + 16];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/casebot.db", t->data);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		sqlite3_close(db);
		return NULL;
	}
	/* The daemon's checkpoints hold readers off for a moment: without a
	 * wait a query then fails, and a test reads -1 for a count. */
	sqlite3_busy_timeout(db, 5000);
	return db;
}

int testenv_db_digest(struct testenv *t, char out[65])
{
	crypto_generichash_state h;
	unsigned char d[32];
	sqlite3_stmt *tables = NULL;
	sqlite3 *db = open_db(t);
	int rc = -1;

	if (db == NULL)
		return -1;
	crypto_generichash_init(&h, NULL, 0, sizeof(d));
	if (sqlite3_prepare_v2(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
			       -1, &tables, NULL) != SQLITE_OK)
		goto out;
	while (sqlite3_step(tables) == SQLITE_ROW) {
		char sql[256];
		sqlite3_stmt *rows = NULL;
		const char *name = (const char *)sqlite3_column_text(tables, 0);

		crypto_generichash_update(&h, (const unsigned char *)name, strlen(name) + 1);
		snprintf(sql, sizeof(sql), "SELECT * FROM \"%s\" ORDER BY rowid", name);
		if (sqlite3_prepare_v2(db, sql, -1, &rows, NULL) != SQLITE_OK)
			goto out;
		while (sqlite3_step(rows) == SQLITE_ROW) {
			for (int i = 0; i < sqlite3_column_count(rows); i++) {
				const unsigned char *v = sqlite3_column_text(rows, i);

				crypto_generichash_update(&h, v != NULL ? v : (const unsigned char *)"\x01NULL",
							  v != NULL ? strlen((const char *)v) + 1 : 6);
			}
		}
		sqlite3_finalize(rows);
	}
	crypto_generichash_final(&h, d, sizeof(d));
	sodium_bin2hex(out, 65, d, sizeof(d));
	rc = 0;
out:
	sqlite3_finalize(tables);
	sqlite3_close(db);
	return rc;
}

long long testenv_query_int(struct testenv *t, const char *sql)
{
	sqlite3 *db = open_db(t);
	sqlite3_stmt *s = NULL;
	long long v = -1;

	if (db == NULL)
		return -1;
	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static int word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c >= 0x80;
}

const char *testenv_english_word(const char *text)
{
	/* Words of the English texts that are not words of Dutch, French or
	 * German ("message", "document", "details", "byte", "was" and "of" are). */
	static const char *const english[] = {
		"the", "family", "from", "sent", "received", "answered", "could", "delivered", "reply",
		"written", "passed", "pressed", "asked", "changed", "language", "reminder", "appointment", "file",
		"older", "entry", "to", "and", "acknowledged", "every", "days", "day", "next", "not",
		"new", "alert", "refused", "blocked", "counsellor", "downloaded",
	};

	for (const char *p = text; *p != '\0'; p++) {
		if (!word_char((unsigned char)*p) || (p > text && word_char((unsigned char)p[-1])))
			continue;
		for (size_t i = 0; i < sizeof(english) / sizeof(english[0]); i++) {
			size_t n = strlen(english[i]);

			if (strncasecmp(p, english[i], n) == 0 && !word_char((unsigned char)p[n]))
				return english[i];
		}
	}
	return NULL;
}

const char *testenv_catalog_key(const char *text, char *out, size_t cap)
{
	for (const char *p = text; *p != '\0'; p++) {
		size_t a = 0, b = 0;

		if (p > text && word_char((unsigned char)p[-1]))
			continue;
		while ((p[a] >= 'a' && p[a] <= 'z') || p[a] == '_')
			a++;
		if (a == 0 || p[a] != '.')
			continue;
		while ((p[a + 1 + b] >= 'a' && p[a + 1 + b] <= 'z') || p[a + 1 + b] == '_')
			b++;
		if (b == 0)
			continue;
		snprintf(out, cap, "%.*s", (int)(a + 1 + b), p);
		return out;
	}
	return NULL;
}
