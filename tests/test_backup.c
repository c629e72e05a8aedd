/* casebot backup and casebot restore: a data directory with a family, its
 * contact log and a document the daemon stored, backed up to a directory
 * and as a tar stream, restored into a new data directory that answers as
 * the original did; a backup taken while the daemon runs and writes; a
 * family erased since the snapshot left out of the copy; and every
 * refusal in one line, with nothing left behind. */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bot/config.h"
#include "bot/vault.h"
#include "handlers/handler.h"
#include "store/store.h"
#include "tests/support/dtest.h"

#define CHAT DT_FAMILY_CHAT
#define PHOTO_BYTES 50000

#define CLI(env, ...) testenv_cli((env), __VA_ARGS__, (const char *)NULL)

/* One line on stderr, ending the output. */
static void one_line(const struct testenv *e, const char *needle)
{
	assert_non_null(strstr(e->err, needle));
	assert_non_null(strchr(e->err, '\n'));
	assert_int_equal(strchr(e->err, '\n')[1], '\0');
}

/* F-1 with a linked chat, a document request answered with a photo and
 * a text of its own: families, a contact log and a stored document. */
static void make_history(struct dt *t)
{
	dt_start_daemon(t);
	dt_link_family(t);
	assert_int_equal(CLI(&t->env, "document", "request", "F-1", "--type", "passport"), 0);
	DT_WAIT_SENT(t, CHAT, 2, 10000);
	assert_true(simctl_photo(&t->sim, CHAT, PHOTO_BYTES, NULL) > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM documents WHERE size = %d", PHOTO_BYTES) == 1, 15000);
	assert_true(simctl_message(&t->sim, CHAT, "Dank je, tot dinsdag") > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'") == 1, 10000);
	dt_wait_family_outbox_idle(t);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

static size_t slurp(const char *path, unsigned char *buf, size_t cap)
{
	FILE *fp = fopen(path, "rb");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, cap, fp);
	fclose(fp);
	return n;
}

/* The restored data directory answers as the original: check passes, the
 * log of F-1 reads the same, and the document decrypts to the same bytes. */
static void assert_same(struct dt *t, struct testenv *r)
{
	static unsigned char a[2 * PHOTO_BYTES], b[2 * PHOTO_BYTES];
	char log[sizeof(t->env.out)], id[24], pa[PATH_MAX], pb[PATH_MAX];

	assert_int_equal(CLI(&t->env, "log", "F-1"), 0);
	snprintf(log, sizeof(log), "%s", t->env.out);
	assert_non_null(strchr(log, '\n'));
	assert_int_equal(CLI(r, "check"), 0);
	assert_non_null(strstr(r->out, "integrity_check ok\n"));
	assert_non_null(strstr(r->out, "\nconfiguration OK\n"));
	assert_int_equal(CLI(r, "log", "F-1"), 0);
	assert_string_equal(r->out, log);
	snprintf(id, sizeof(id), "%lld", dt_q(t, "SELECT id FROM documents"));
	snprintf(pa, sizeof(pa), "%s/original.jpg", t->env.dir);
	snprintf(pb, sizeof(pb), "%s/restored.jpg", r->dir);
	assert_int_equal(CLI(&t->env, "document", "get", id, "-o", pa), 0);
	assert_int_equal(CLI(r, "document", "get", id, "-o", pb), 0);
	assert_int_equal(slurp(pa, a, sizeof(a)), PHOTO_BYTES);
	assert_int_equal(slurp(pb, b, sizeof(b)), PHOTO_BYTES);
	assert_memory_equal(a, b, PHOTO_BYTES);
	assert_int_equal(testenv_query_int(r, "SELECT count(*) FROM audit WHERE action = 'restore'"), 1);
}

/* The name of F-1's one stored document file under root/documents/1. */
static void doc_name(const char *root, char *name, size_t cap)
{
	char dir[PATH_MAX + 16];
	struct dirent *e;
	DIR *dp;

	name[0] = '\0';
	snprintf(dir, sizeof(dir), "%s/documents/1", root);
	assert_non_null(dp = opendir(dir));
	while ((e = readdir(dp)) != NULL)
		if (e->d_name[0] != '.')
			snprintf(name, cap, "%s", e->d_name);
	closedir(dp);
	assert_non_null(strstr(name, ".bin"));
}

static int private_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)path;
	(void)ftw;
	if (flag == FTW_D)
		return (sb->st_mode & 0777) == 0700 ? 0 : 1;
	return flag == FTW_F && (sb->st_mode & 0777) == 0600 ? 0 : 1;
}

/* Every directory 0700, every file 0600, nothing else. */
static void assert_private_tree(const char *dir)
{
	assert_int_equal(nftw(dir, private_entry, 16, FTW_PHYS), 0);
}

/* Nothing named *.partial-* in dir: no half-written stage left behind. */
static void assert_no_stage(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	if (dp == NULL)
		return;
	while ((e = readdir(dp)) != NULL)
		assert_null(strstr(e->d_name, ".partial-"));
	closedir(dp);
}

static void test_backup_restore_directory(void **state)
{
	struct dt *t = *state;
	struct testenv r;
	char bk[PATH_MAX], path[PATH_MAX + 300];

	make_history(t);
	snprintf(bk, sizeof(bk), "%s/backup", t->env.dir);
	assert_int_equal(CLI(&t->env, "backup", bk), 0);
	/* The database, one document and the two keys. */
	assert_non_null(strstr(t->env.out, ": 4 files, "));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'backup' AND actor LIKE 'cli:%%'"), 1);
	assert_private_tree(bk);
	assert_no_stage(t->env.dir);
	assert_no_stage(t->env.data);
	/* The copy holds the document's row and its own audit row. */
	{
		struct testenv peek = t->env;

		snprintf(peek.data, sizeof(peek.data), "%s", bk);
		assert_int_equal(testenv_query_int(&peek, "SELECT count(*) FROM documents"), 1);
		assert_int_equal(testenv_query_int(&peek, "SELECT count(*) FROM audit WHERE action = 'backup'"), 1);
	}
	/* The document is copied as it is stored: still ciphertext. */
	{
		static unsigned char live[PHOTO_BYTES + 1024], copy[PHOTO_BYTES + 1024];
		char name[256];
		size_t n;

		doc_name(bk, name, sizeof(name));
		snprintf(path, sizeof(path), "%s/documents/1/%s", bk, name);
		n = slurp(path, copy, sizeof(copy));
		assert_true(n > PHOTO_BYTES);
		snprintf(path, sizeof(path), "%s/documents/1/%s", t->env.data, name);
		assert_int_equal(slurp(path, live, sizeof(live)), n);
		assert_memory_equal(live, copy, n);
		assert_false(copy[0] == 0xFF && copy[1] == 0xD8);
	}
	assert_int_equal(testenv_setup(&r, t->env.now, NULL), 0);
	assert_int_equal(CLI(&r, "restore", bk), 0);
	assert_non_null(strstr(r.out, ": 4 files, "));
	assert_private_tree(r.data);
	assert_no_stage(r.data);
	assert_same(t, &r);
	testenv_teardown(&r);
}

/* backup - | restore -: the same directory out of a tar stream, into the
 * data directory --data-dir names. */
static void test_tar_round_trip(void **state)
{
	struct dt *t = *state;
	struct testenv r;
	char cmd[8 * PATH_MAX], rcfile[PATH_MAX + 16];
	unsigned char rc[8] = {0};

	make_history(t);
	assert_int_equal(testenv_setup(&r, t->env.now, NULL), 0);
	snprintf(rcfile, sizeof(rcfile), "%s/backup.rc", r.dir);
	snprintf(cmd, sizeof(cmd), "{ %s/casebot -c %s backup -; echo $? >%s; } | %s/casebot -c %s restore - --data-dir %s",
		 dt_build_dir(), t->env.conf, rcfile, dt_build_dir(), t->env.conf, r.data);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(slurp(rcfile, rc, sizeof(rc) - 1), 2);
	assert_string_equal((char *)rc, "0\n");
	assert_no_stage(t->env.data);
	assert_private_tree(r.data);
	assert_same(t, &r);
	/* The stream is a tar any tool reads: the same four files. */
	snprintf(cmd, sizeof(cmd), "%s/casebot -c %s backup - 2>/dev/null | tar tf - | grep -c -e '^casebot.db$' "
		 "-e '^document.key$' -e '^signing.key$' -e '^documents/1/[0-9a-f]*.bin$' | grep -qx 4",
		 dt_build_dir(), t->env.conf);
	assert_int_equal(system(cmd), 0);
	testenv_teardown(&r);
}

/* Backups taken one after the other while the daemon routes a stream of
 * messages: each restores to a database that passes integrity_check, and
 * the daemon kept writing while they were taken. */
static void test_backup_while_daemon_writes(void **state)
{
	struct dt *t = *state;
	char bk[8][PATH_MAX];
	long long counts[8];
	int n = 0, status;
	pid_t feeder;

	dt_start_daemon(t);
	dt_link_family(t);
	/* Some megabytes, so that a copy takes many steps. */
	dt_exec_sql(t, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
		    " INSERT INTO audit (at, actor, action, detail) SELECT 0, 'test', 'filler', hex(randomblob(200))"
		    " FROM n");
	feeder = fork();
	assert_true(feeder >= 0);
	if (feeder == 0) {
		for (int i = 0; i < 60; i++) {
			char text[64];

			snprintf(text, sizeof(text), "bericht nummer %d", i);
			if (simctl_message(&t->sim, CHAT, text) <= 0)
				_exit(1);
			dt_sleep_ms(15);
		}
		_exit(0);
	}
	do {
		snprintf(bk[n], sizeof(bk[n]), "%s/backup-%d", t->env.dir, n);
		assert_int_equal(CLI(&t->env, "backup", bk[n]), 0);
		n++;
	} while (n < 8 && waitpid(feeder, &status, WNOHANG) == 0);
	if (n == 8)
		assert_int_equal(waitpid(feeder, &status, 0), feeder);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_true(n >= 2);
	for (int i = 0; i < n; i++) {
		struct testenv r;

		assert_int_equal(testenv_setup(&r, t->env.now, NULL), 0);
		assert_int_equal(CLI(&r, "restore", bk[i]), 0);
		assert_int_equal(CLI(&r, "check"), 0);
		assert_non_null(strstr(r.out, "integrity_check ok\n"));
		counts[i] = testenv_query_int(&r, "SELECT count(*) FROM inbound");
		assert_true(counts[i] > 0);
		testenv_teardown(&r);
	}
	/* The daemon wrote between the first backup and the last. */
	assert_true(counts[n - 1] > counts[0]);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'handled'") >= 61, 20000);
	assert_true(dt_q(t, "SELECT count(*) FROM inbound") >= counts[n - 1]);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

static void collect(const char *path, void *arg)
{
	snprintf(arg, 200, "%s", path);
}

/* A family erased after the snapshot is erased from the copy too: rows
 * and the file's path given back, the other family kept. */
static void test_erased_since_snapshot(void **state)
{
	struct dt *t = *state;
	static const char plain[] = "%PDF-1.4\n% erased since\n%%EOF\n";
	unsigned char key[VAULT_KEY_BYTES];
	char err[512], stage[PATH_MAX], db[PATH_MAX + 16], keypath[PATH_MAX], abs[PATH_MAX], gone[200] = "";
	struct store *live, *copy;
	struct family f;
	struct document d;
	struct config cfg;
	int64_t pages;
	int erased;

	assert_int_equal(CLI(&t->env, "family", "add", "F-2", "--lang", "fr", "--counsellor", "Sara"), 0);
	assert_int_equal(store_open(t->env.data, 0, &live, err, sizeof(err)), 0);
	config_defaults(&cfg);
	assert_int_equal(cb_strlcpy(cfg.data_dir, t->env.data, sizeof(cfg.data_dir)), 0);
	assert_int_equal(config_document_key_path(&cfg, keypath, sizeof(keypath)), 0);
	assert_int_equal(vault_load_key(keypath, key), 0);
	assert_int_equal(store_family_get(live, "F-1", &f), 0);
	memset(&d, 0, sizeof(d));
	d.family_id = f.id;
	snprintf(d.mime, sizeof(d.mime), "application/pdf");
	d.size = (int64_t)strlen(plain);
	assert_int_equal(documents_new_path(t->env.data, f.id, d.path, sizeof(d.path), abs, sizeof(abs)), 0);
	assert_int_equal(vault_encrypt_buffer(key, plain, strlen(plain), abs, d.mac), 0);
	assert_int_equal(store_document_add(live, &d, t->env.now), 0);
	snprintf(stage, sizeof(stage), "%s/stage", t->env.dir);
	assert_int_equal(mkdir(stage, 0700), 0);
	snprintf(db, sizeof(db), "%s/casebot.db", stage);
	assert_int_equal(store_backup_copy(live, db, &pages, err, sizeof(err)), 0);
	assert_true(pages > 0);
	/* Erased in the live database after the snapshot. */
	assert_int_equal(CLI(&t->env, "family", "erase", "F-1", "--yes"), 0);
	assert_int_equal(store_open(stage, 0, &copy, err, sizeof(err)), 0);
	assert_int_equal(store_family_get(copy, "F-1", &f), 0);
	assert_int_equal(store_backup_prune(copy, live, t->env.now, collect, gone, &erased), 0);
	assert_int_equal(erased, 1);
	assert_string_equal(gone, d.path);
	assert_int_equal(store_family_get(copy, "F-1", &f), -CB_ENOENT);
	assert_int_equal(store_family_get(copy, "F-2", &f), 0);
	/* Pruning again finds nothing more. */
	assert_int_equal(store_backup_prune(copy, live, t->env.now, collect, gone, &erased), 0);
	assert_int_equal(erased, 0);
	store_close(copy);
	store_close(live);
	sodium_memzero(key, sizeof(key));
}

/* Each refusal is one line and leaves nothing: a DEST that is not empty
 * or not a directory, a restore over a database, a backup whose key does
 * not open its documents, a backup whose database was cut short. */
static void test_refusals(void **state)
{
	struct dt *t = *state;
	char before[65], after[65], full[PATH_MAX], file[PATH_MAX + 300], bk[PATH_MAX], target[PATH_MAX];
	FILE *fp;

	make_history(t);
	assert_int_equal(testenv_db_digest(&t->env, before), 0);
	snprintf(full, sizeof(full), "%s/full", t->env.dir);
	assert_int_equal(mkdir(full, 0700), 0);
	snprintf(file, sizeof(file), "%s/notes.txt", full);
	fp = fopen(file, "w");
	fputs("keep me\n", fp);
	fclose(fp);
	assert_int_equal(CLI(&t->env, "backup", full), 2);
	one_line(&t->env, "is not empty");
	assert_int_equal(CLI(&t->env, "backup", file), 2);
	one_line(&t->env, "is not a directory");
	assert_int_equal(CLI(&t->env, "backup"), 2);
	one_line(&t->env, "missing DEST");
	assert_int_equal(testenv_db_digest(&t->env, after), 0);
	assert_string_equal(before, after);
	assert_int_equal(access(file, F_OK), 0);
	assert_no_stage(t->env.dir);

	/* A restore over the data directory it came from. */
	snprintf(bk, sizeof(bk), "%s/backup", t->env.dir);
	assert_int_equal(CLI(&t->env, "backup", bk), 0);
	assert_int_equal(testenv_db_digest(&t->env, before), 0);
	assert_int_equal(CLI(&t->env, "restore", bk), 2);
	one_line(&t->env, "casebot.db exists");
	assert_int_equal(testenv_db_digest(&t->env, after), 0);
	assert_string_equal(before, after);
	assert_no_stage(t->env.data);

	/* Another key than the one that sealed the documents. */
	snprintf(target, sizeof(target), "%s/restored", t->env.dir);
	snprintf(file, sizeof(file), "%s/document.key", bk);
	{
		unsigned char other[VAULT_KEY_BYTES], saved[VAULT_KEY_BYTES];

		assert_int_equal(slurp(file, saved, sizeof(saved)), VAULT_KEY_BYTES);
		randombytes_buf(other, sizeof(other));
		fp = fopen(file, "wb");
		assert_int_equal(fwrite(other, 1, sizeof(other), fp), sizeof(other));
		fclose(fp);
		assert_int_equal(CLI(&t->env, "restore", bk, "--data-dir", target), 1);
		one_line(&t->env, "does not open document #1");
		assert_int_equal(access(target, F_OK), -1);
		fp = fopen(file, "wb");
		assert_int_equal(fwrite(saved, 1, sizeof(saved), fp), sizeof(saved));
		fclose(fp);
	}

	/* The database cut short. */
	{
		struct stat sb;

		snprintf(file, sizeof(file), "%s/casebot.db", bk);
		assert_int_equal(stat(file, &sb), 0);
		assert_int_equal(truncate(file, sb.st_size / 2), 0);
		assert_int_equal(CLI(&t->env, "restore", bk, "--data-dir", target), 1);
		one_line(&t->env, "backup/casebot.db: ");
		assert_int_equal(access(target, F_OK), -1);
		assert_no_stage(t->env.dir);
		/* Into an empty directory that was there: it stays, empty. */
		assert_int_equal(mkdir(target, 0700), 0);
		assert_int_equal(CLI(&t->env, "restore", bk, "--data-dir", target), 1);
		assert_int_equal(rmdir(target), 0);
	}
	/* Not a backup at all. */
	assert_int_equal(CLI(&t->env, "restore", t->env.dir, "--data-dir", target), 2);
	one_line(&t->env, "is not a casebot backup");
	assert_int_equal(access(target, F_OK), -1);
	/* A stream that holds what no backup holds. */
	{
		char cmd[4 * PATH_MAX], errfile[PATH_MAX + 16];
		struct testenv got;

		snprintf(file, sizeof(file), "%s/stray.txt", t->env.dir);
		fp = fopen(file, "w");
		fputs("stray\n", fp);
		fclose(fp);
		snprintf(errfile, sizeof(errfile), "%s/restore.err", t->env.dir);
		snprintf(cmd, sizeof(cmd), "tar cf - -C %s stray.txt | %s/casebot -c %s restore - --data-dir %s 2>%s",
			 t->env.dir, dt_build_dir(), t->env.conf, target, errfile);
		assert_int_not_equal(system(cmd), 0);
		memset(&got, 0, sizeof(got));
		slurp(errfile, (unsigned char *)got.err, sizeof(got.err) - 1);
		one_line(&got, "holds \"stray.txt\"");
		assert_int_equal(access(target, F_OK), -1);
	}
	/* A document's file gone while its family is still there: the backup
	 * fails in one line and leaves no directory, half or whole. */
	{
		char name[200], dest[PATH_MAX];

		doc_name(t->env.data, name, sizeof(name));
		snprintf(file, sizeof(file), "%s/documents/1/%s", t->env.data, name);
		assert_int_equal(unlink(file), 0);
		snprintf(dest, sizeof(dest), "%s/broken", t->env.dir);
		assert_int_equal(CLI(&t->env, "backup", dest), 1);
		one_line(&t->env, "document #1 has no file");
		assert_int_equal(access(dest, F_OK), -1);
		assert_no_stage(t->env.dir);
		assert_int_equal(CLI(&t->env, "backup", "-"), 1);
		one_line(&t->env, "document #1 has no file");
		assert_no_stage(t->env.data);
	}
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dt_setup, dt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_backup_restore_directory), T(test_tar_round_trip), T(test_backup_while_daemon_writes),
		T(test_erased_since_snapshot), T(test_refusals),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("backup", tests, NULL, NULL);
}
