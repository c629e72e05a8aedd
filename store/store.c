#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/store.h"

/* Room for every statement of the tree (the store files have about 190), so
 * that a daemon that has run each of its paths still prepares the next
 * one instead of failing it. */
#define STMT_CACHE 320

struct cached_stmt {
	const char *sql;     /* the caller's constant string: compared by address */
	sqlite3_stmt *stmt;
};

struct store {
	sqlite3 *db;
	struct cached_stmt cache[STMT_CACHE];
	int ncache;
	int depth;           /* store_begin calls not yet committed or rolled back */
	int outbox_changed;  /* a row became due for the dispatcher since it looked */
};

sqlite3 *store_db(struct store *st)
{
	return st->db;
}

const char *store_errmsg(struct store *st)
{
	return st != NULL && st->db != NULL ? sqlite3_errmsg(st->db) : "no database";
}

sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
	sqlite3_stmt *s = NULL;

	for (int i = 0; i < st->ncache; i++)
		if (st->cache[i].sql == sql)
			return st->cache[i].stmt;
	if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK)
		return NULL;
	if (st->ncache < STMT_CACHE) {
		st->cache[st->ncache].sql = sql;
		st->cache[st->ncache].stmt = s;
		st->ncache++;
		return s;
	}
	/* The cache is sized for every statement in the tree; running out is a
	 * programming error, caught by the tests. */
	sqlite3_finalize(s);
	return NULL;
}

void store_done(sqlite3_stmt *s)
{
	if (s != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
	}
}

static int exec(struct store *st, const char *sql)
{
	return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -CB_ESTORE;
}

/* A transaction begun inside another is a savepoint of it: a caller that
 * writes several things as one keeps working the same way whether or not
 * its caller has a transaction open (the router routes a whole batch in
 * one, the outbox records a turn's sends in one); what it rolls back is
 * its own part only. */
int store_begin(struct store *st)
{
	if (st->depth > 0 && sqlite3_get_autocommit(st->db))
		st->depth = 0;      /* SQLite rolled the transaction back by itself */
	if (exec(st, st->depth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT nested") != 0)
		return -CB_ESTORE;
	st->depth++;
	return 0;
}

int store_writable(struct store *st, int wait_ms)
{
	int rc;

	/* Inside a transaction of our own, the lock is ours already. */
	if (st->depth > 0 && !sqlite3_get_autocommit(st->db))
		return 0;
	sqlite3_busy_timeout(st->db, wait_ms);
	rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_busy_timeout(st->db, 5000);
	if (rc != SQLITE_OK)
		return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -CB_ESTATE : -CB_ESTORE;
	return exec(st, "ROLLBACK");
}

int store_commit(struct store *st)
{
	if (st->depth == 0 || sqlite3_get_autocommit(st->db)) {
		/* Nothing open to commit: the work is gone. */
		st->depth = 0;
		return exec(st, "COMMIT");
	}
	if (exec(st, st->depth == 1 ? "COMMIT" : "RELEASE nested") != 0)
		return -CB_ESTORE;
	st->depth--;
	return 0;
}

void store_rollback(struct store *st)
{
	if (sqlite3_get_autocommit(st->db)) {
		st->depth = 0;
		return;
	}
	if (st->depth <= 1) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		st->depth = 0;
		return;
	}
	sqlite3_exec(st->db, "ROLLBACK TO nested", NULL, NULL, NULL);
	sqlite3_exec(st->db, "RELEASE nested", NULL, NULL, NULL);
	st->depth--;
}

int store_sync_full(struct store *st, int on)
{
	return exec(st, on ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
}

int store_wrote(struct store *st)
{
	return sqlite3_total_changes(st->db) > 0;
}

int store_outbox_changed(struct store *st)
{
	int changed = st->outbox_changed;

	st->outbox_changed = 0;
	return changed;
}

int store_outbox_changed_since(const struct store *st)
{
	return st->outbox_changed;
}

static void outbox_changed_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	struct store *st = sqlite3_user_data(ctx);

	(void)argc;
	(void)argv;
	st->outbox_changed = 1;
	sqlite3_result_null(ctx);
}

/* Rows this connection makes due for the dispatcher, by whatever
 * statement or trigger: added, queued again, unparked, brought forward or
 * made urgent. Temporary triggers: this connection's own, no schema. */
static const char SQL_OUTBOX_WATCH[] =
	"CREATE TEMP TRIGGER outbox_added AFTER INSERT ON main.outbox"
	" BEGIN SELECT casebot_outbox_changed(); END;"
	"CREATE TEMP TRIGGER outbox_requeued AFTER UPDATE OF status, parked_at, not_before, urgent ON main.outbox"
	" WHEN NEW.status = 'queued' AND NEW.parked_at IS NULL AND (OLD.status IS NOT 'queued'"
	" OR OLD.parked_at IS NOT NULL OR NEW.not_before < OLD.not_before OR NEW.urgent > OLD.urgent)"
	" BEGIN SELECT casebot_outbox_changed(); END;";

static int outbox_watch(struct store *st)
{
	if (sqlite3_create_function(st->db, "casebot_outbox_changed", 0, SQLITE_UTF8, st, outbox_changed_fn, NULL,
				    NULL) != SQLITE_OK)
		return -CB_ESTORE;
	return exec(st, SQL_OUTBOX_WATCH);
}

int store_bind_id(sqlite3_stmt *s, int i, int64_t id)
{
	if (id == 0)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_int64(s, i, id);
}

int store_bind_opt_text(sqlite3_stmt *s, int i, const char *text)
{
	if (text == NULL || text[0] == '\0')
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, text, -1, SQLITE_TRANSIENT);
}

void store_col_text(sqlite3_stmt *s, int i, char *dst, size_t cap)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	cb_strlcpy(dst, t != NULL ? (const char *)t : "", cap);
}

int store_schema_version(struct store *st)
{
	sqlite3_stmt *s = NULL;
	int v = -1;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int(s, 0);
	sqlite3_finalize(s);
	return v;
}

static int migrate(struct store *st, char *err, size_t errlen)
{
	int v = store_schema_version(st);
	size_t n = store_schema_count();

	if (v < 0) {
		snprintf(err, errlen, "cannot read schema version: %s", store_errmsg(st));
		return -CB_ESTORE;
	}
	if ((size_t)v > n) {
		snprintf(err, errlen, "database schema %d is newer than this casebot (%zu)", v, n);
		return -CB_ESTORE;
	}
	for (size_t i = (size_t)v; i < n; i++) {
		char pragma[64];

		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %zu", i + 1);
		if (store_begin(st) != 0 || exec(st, store_schema_migration(i)) != 0 ||
		    exec(st, pragma) != 0 || store_commit(st) != 0) {
			snprintf(err, errlen, "migration %zu failed: %s", i + 1, store_errmsg(st));
			store_rollback(st);
			return -CB_ESTORE;
		}
	}
	return 0;
}

/* SQLite's report of a damaged page spans lines ("*** in database main
 * ***\nPage 6: ..."): the message is one line. */
static void one_line(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
}

/* A database opened to be used (not made) must be casebot's and whole:
 * no writes go to one with a damaged page (PRAGMA quick_check), and one
 * without a schema is not taken for a new one. */
static int sound(struct store *st, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *q = NULL;
	int rc = -CB_ESTORE;

	if (store_schema_version(st) == 0) {
		snprintf(err, errlen, "%s: not a casebot database (no schema; casebot init makes a new one)", path);
		return -CB_ESTORE;
	}
	if (sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		snprintf(err, errlen, "%s: damaged: %s", path, store_errmsg(st));
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(q, 0), "ok") != 0) {
		snprintf(err, errlen, "%s: damaged (quick_check: %s)", path, (const char *)sqlite3_column_text(q, 0));
		one_line(err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	return rc;
}

int store_open(const char *data_dir, int create, struct store **out, char *err, size_t errlen)
{
	struct store *st = NULL;
	char path[PATH_MAX];
	struct stat sb;
	int rc = 0, fd;

	*out = NULL;
	err[0] = '\0';
	if (snprintf(path, sizeof(path), "%s/casebot.db", data_dir) >= (int)sizeof(path)) {
		snprintf(err, errlen, "data_dir is too long");
		return -CB_ECONFIG;
	}
	if (create) {
		if (mkdir(data_dir, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errlen, "%s: cannot create: %s", data_dir, strerror(errno));
			return -CB_EIO;
		}
		/* Create the file 0600 ourselves so SQLite never makes it wider. */
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd < 0) {
			snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
			return -CB_EIO;
		}
		close(fd);
	} else if (stat(path, &sb) != 0) {
		snprintf(err, errlen, "%s: no database (run casebot init)", path);
		return -CB_ENOENT;
	} else if (sb.st_size == 0) {
		/* SQLite would take an empty file for a new database, and the
		 * migrations would give it a fresh, empty schema: whatever was
		 * there before is gone, and that must not pass unseen. */
		snprintf(err, errlen, "%s: empty, not a casebot database (casebot init makes a new one)", path);
		return -CB_ESTORE;
	}
	st = calloc(1, sizeof(*st));
	if (st == NULL)
		return -CB_ENOMEM;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, store_errmsg(st));
		rc = -CB_ESTORE;
		goto out;
	}
	sqlite3_busy_timeout(st->db, 5000);
	if (exec(st, "PRAGMA journal_mode = WAL") != 0 ||
	    exec(st, "PRAGMA foreign_keys = ON") != 0 ||
	    exec(st, "PRAGMA synchronous = NORMAL") != 0 ||
	    exec(st, "PRAGMA secure_delete = ON") != 0) {
		snprintf(err, errlen, "%s: %s", path, store_errmsg(st));
		rc = -CB_ESTORE;
		goto out;
	}
	if (!create && (rc = sound(st, path, err, errlen)) != 0)
		goto out;
	rc = migrate(st, err, errlen);
	if (rc == 0 && (rc = outbox_watch(st)) != 0)
		snprintf(err, errlen, "%s: %s", path, store_errmsg(st));
out:
	if (rc != 0) {
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

int store_verify(const char *data_dir, int *version, char *err, size_t errlen)
{
	char path[PATH_MAX];
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	struct stat sb;
	int rc = -CB_ESTORE, step;

	err[0] = '\0';
	*version = -1;
	if (snprintf(path, sizeof(path), "%s/casebot.db", data_dir) >= (int)sizeof(path)) {
		snprintf(err, errlen, "data_dir is too long");
		return -CB_ECONFIG;
	}
	if (stat(path, &sb) != 0)
		return -CB_ENOENT;
	if (sb.st_size == 0) {
		snprintf(err, errlen, "%s: empty, not a casebot database (casebot init makes a new one)", path);
		return -CB_ESTORE;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db != NULL ? sqlite3_errmsg(db) : "cannot open");
		goto out;
	}
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		snprintf(err, errlen, "%s: cannot read the schema version: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	*version = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	q = NULL;
	if (*version == 0) {
		snprintf(err, errlen, "%s: not a casebot database (no schema; casebot init makes a new one)", path);
		goto out;
	}
	/* integrity_check walks every page of every b-tree and also matches
	 * each index against its table, which quick_check does not: it
	 * answers one row "ok", or rows naming each problem; the first is
	 * enough to say. */
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check(1)", -1, &q, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: damaged: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	step = sqlite3_step(q);
	if (step != SQLITE_ROW) {
		snprintf(err, errlen, "%s: damaged: %s", path, sqlite3_errmsg(db));
		goto out;
	}
	if (strcmp((const char *)sqlite3_column_text(q, 0), "ok") != 0) {
		snprintf(err, errlen, "%s: damaged (integrity_check: %s)", path, (const char *)sqlite3_column_text(q, 0));
		one_line(err);
		goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

void store_close(struct store *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < st->ncache; i++)
		sqlite3_finalize(st->cache[i].stmt);
	if (st->db != NULL && sqlite3_close(st->db) != SQLITE_OK)
		sqlite3_close_v2(st->db);
	free(st);
}

int store_exec_stmt(sqlite3_stmt *q)
{
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	rc = sqlite3_step(q);
	if (rc == SQLITE_CONSTRAINT) {
		int ext = sqlite3_extended_errcode(sqlite3_db_handle(q));

		store_done(q);
		/* A duplicate is "exists"; any other constraint is a bad value. */
		if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -CB_EEXIST;
		return -CB_EINVAL;
	}
	store_done(q);
	return rc == SQLITE_DONE ? 0 : -CB_ESTORE;
}

int store_rows(sqlite3_stmt *q, store_row_fn fn, void *arg)
{
	int rc, ret = 0;

	if (q == NULL)
		return -CB_ESTORE;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if ((ret = fn(q, arg)) != 0)
			break;
	store_done(q);
	if (ret != 0)
		return ret;
	return rc == SQLITE_DONE ? 0 : -CB_ESTORE;
}

int store_row(sqlite3_stmt *q, store_row_fn fn, void *arg)
{
	int rc, ret = 0;

	if (q == NULL)
		return -CB_ESTORE;
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		ret = fn(q, arg);
	store_done(q);
	if (rc == SQLITE_ROW)
		return ret;
	return rc == SQLITE_DONE ? -CB_ENOENT : -CB_ESTORE;
}

struct each_ctx {
	store_row_fn read;
	void *rec;
	store_each_cb cb;
	void *arg;
};

static int each_row(sqlite3_stmt *q, void *arg)
{
	struct each_ctx *ctx = arg;
	int rc = ctx->read(q, ctx->rec);

	return rc != 0 ? rc : ctx->cb(ctx->rec, ctx->arg);
}

int store_each(sqlite3_stmt *q, store_row_fn read, void *rec, store_each_cb cb, void *arg)
{
	struct each_ctx ctx = {read, rec, cb, arg};

	return store_rows(q, each_row, &ctx);
}

int store_vacuum(struct store *st)
{
	int rc = SQLITE_BUSY, frames, done;

	if (exec(st, "VACUUM") != 0)
		return -CB_ESTORE;
	/* A TRUNCATE checkpoint calls the busy handler while readers hold
	 * frames of the log: each try waits that long for them to let go. */
	sqlite3_busy_timeout(st->db, STORE_CHECKPOINT_WAIT_MS);
	for (int i = 0; i < STORE_CHECKPOINT_TRIES && rc != SQLITE_OK; i++) {
		rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &frames, &done);
		if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
	}
	sqlite3_busy_timeout(st->db, 5000);
	if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
		return -CB_ESTATE;
	return rc == SQLITE_OK ? 0 : -CB_ESTORE;
}

int store_read_int(sqlite3_stmt *q, void *arg)
{
	*(int *)arg = sqlite3_column_int(q, 0);
	return 0;
}

int store_change3(struct store *st, const char *sql, int64_t a, int64_t b, int64_t c)
{
	sqlite3_stmt *q = store_stmt(st, sql);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, a);
	sqlite3_bind_int64(q, 2, b);
	sqlite3_bind_int64(q, 3, c);
	rc = store_exec_stmt(q);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		return -CB_ESTATE;
	return rc;
}
