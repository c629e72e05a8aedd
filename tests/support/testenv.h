/* A throwaway casebot set-up for tests: a temporary directory with a
 * configuration file and a data directory, the CLI run in-process with its
 * output captured, and a digest of the whole database to prove that a
 * refused command wrote nothing. */
#ifndef CASEBOT_TESTENV_H
#define CASEBOT_TESTENV_H

#include <limits.h>
#include <stddef.h>
#include <time.h>

struct testenv {
	char dir[256];
	char conf[PATH_MAX];
	char data[PATH_MAX];
	char out[65536];
	char err[4096];
	time_t now;
};

/* Creates the directory and a configuration with extra_ini appended (may
 * be NULL); pins the CLI clock at now. Returns 0 or -1. */
int testenv_setup(struct testenv *t, time_t now, const char *extra_ini);
void testenv_teardown(struct testenv *t);

/* Runs "casebot -c CONF args..." (NULL-terminated) and returns the exit
 * code; stdout and stderr land in t->out and t->err. */
int testenv_cli(struct testenv *t, ...);

/* A digest of every row of every table, hex into out[65]. */
int testenv_db_digest(struct testenv *t, char out[65]);

/* One integer from an SQL query on the data directory's database, -1 on
 * error. */
long long testenv_query_int(struct testenv *t, const char *sql);

/* For texts a Dutch, French or German reader gets: the first English word
 * of text that no such reader should see ("the", "sent", "family"...), as
 * a whole word in any case, or NULL. */
const char *testenv_english_word(const char *text);
/* The first thing in text that looks like a catalog key or a code with a
 * dot ("checkin.question"), copied into out, or NULL. */
const char *testenv_catalog_key(const char *text, char *out, size_t cap);

/* Removes a directory tree. */
int testenv_rmtree(const char *path);

#endif
