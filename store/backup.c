/* A copy of the live database taken with SQLite's online backup API while
 * the daemon runs, and what the copy must lose of families erased since. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

/* Pages per step: small enough that each step is short, large enough that
 * a database of some hundred megabytes is copied in a few thousand steps. */
#define BACKUP_PAGES 128
#define BACKUP_BUSY_SLEEP_MS 20
#define BACKUP_BUSY_MAX_MS 30000

static int fail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, db != NULL ? sqlite3_errmsg(db) : "out of memory");
	return -CB_ESTORE;
}

/* The copy is read from one snapshot: a read transaction stays open on the
 * live connection for the whole copy, so that the steps all see the same
 * pages (in WAL mode a reader holds no writer back, and without it a write
 * by the daemon between two steps would start the copy over, possibly
 * again and again). */
int store_backup_copy(struct store *st, const char *path, int64_t *pages, char *err, size_t errlen)
{
	sqlite3 *live = store_db(st), *dst = NULL;
	sqlite3_backup *b = NULL;
	int rc = -CB_ESTORE, step, waited = 0, fd;

	err[0] = '\0';
	*pages = 0;
	/* The file is made 0600 here, so that SQLite never makes it wider. */
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(errno));
		return -CB_EIO;
	}
	close(fd);
	if (sqlite3_exec(live, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) != SQLITE_OK)
		return fail(live, err, errlen, "cannot read the database");
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = fail(dst, err, errlen, path);
		goto out;
	}
	if ((b = sqlite3_backup_init(dst, "main", live, "main")) == NULL) {
		rc = fail(dst, err, errlen, "cannot start the copy");
		goto out;
	}
	for (;;) {
		step = sqlite3_backup_step(b, BACKUP_PAGES);
		if (step == SQLITE_DONE)
			break;
		if (step == SQLITE_BUSY || step == SQLITE_LOCKED) {
			if ((waited += BACKUP_BUSY_SLEEP_MS) > BACKUP_BUSY_MAX_MS) {
				snprintf(err, errlen, "the database stayed locked for %d s", BACKUP_BUSY_MAX_MS / 1000);
				goto out;
			}
			sqlite3_sleep(BACKUP_BUSY_SLEEP_MS);
			continue;
		}
		if (step != SQLITE_OK) {
			snprintf(err, errlen, "the copy failed: %s", sqlite3_errstr(step));
			goto out;
		}
	}
	*pages = sqlite3_backup_pagecount(b);
	rc = 0;
out:
	if (b != NULL && sqlite3_backup_finish(b) != SQLITE_OK && rc == 0)
		rc = fail(dst, err, errlen, "the copy failed");
	if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && rc == 0)
		rc = fail(dst, err, errlen, path);
	sqlite3_exec(live, "COMMIT", NULL, NULL, NULL);
	if (rc != 0)
		unlink(path);
	return rc;
}

static const char SQL_BACKUP_DOCS[] = "SELECT id, family_id, path FROM documents ORDER BY id";
static const char SQL_BACKUP_FAMILIES[] = "SELECT id, ref, created_at FROM families ORDER BY id";
static const char SQL_BACKUP_LIVE[] =
	"SELECT count(*) FROM families WHERE id = ?1 AND ref = ?2 AND created_at = ?3";

struct docs_ctx {
	store_backup_doc_fn fn;
	void *arg;
};

static int doc_row(sqlite3_stmt *q, void *arg)
{
	struct docs_ctx *ctx = arg;
	const unsigned char *p = sqlite3_column_text(q, 2);

	return ctx->fn(sqlite3_column_int64(q, 0), sqlite3_column_int64(q, 1), p != NULL ? (const char *)p : "",
		       ctx->arg);
}

int store_backup_each_document(struct store *st, store_backup_doc_fn fn, void *arg)
{
	struct docs_ctx ctx = {fn, arg};

	return store_rows(store_stmt(st, SQL_BACKUP_DOCS), doc_row, &ctx);
}

/* The families of the copy that the live database no longer has (by id,
 * reference and creation time, since an erased family's id and reference
 * may be given again), collected before any is erased. */
struct gone {
	struct store *live;
	int64_t *id;
	size_t n, cap;
};

static int family_row(sqlite3_stmt *q, void *arg)
{
	struct gone *g = arg;
	sqlite3_stmt *l = store_stmt(g->live, SQL_BACKUP_LIVE);
	int64_t *grown;
	int n = 0, rc;

	if (l == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(l, 1, sqlite3_column_int64(q, 0));
	sqlite3_bind_text(l, 2, (const char *)sqlite3_column_text(q, 1), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(l, 3, sqlite3_column_int64(q, 2));
	if ((rc = store_row(l, store_read_int, &n)) != 0)
		return rc;
	if (n > 0)
		return 0;
	if (g->n == g->cap) {
		size_t cap = g->cap != 0 ? g->cap * 2 : 16;

		if ((grown = realloc(g->id, cap * sizeof(*grown))) == NULL)
			return -CB_ENOMEM;
		g->id = grown;
		g->cap = cap;
	}
	g->id[g->n++] = sqlite3_column_int64(q, 0);
	return 0;
}

int store_backup_prune(struct store *copy, struct store *live, time_t now,
		       void (*path_cb)(const char *path, void *arg), void *arg, int *erased)
{
	struct gone g = {live, NULL, 0, 0};
	int rc;

	*erased = 0;
	if ((rc = store_rows(store_stmt(copy, SQL_BACKUP_FAMILIES), family_row, &g)) != 0 || g.n == 0)
		goto out;
	if ((rc = store_begin(copy)) != 0)
		goto out;
	for (size_t i = 0; i < g.n && rc == 0; i++)
		rc = store_family_erase(copy, g.id[i], now, path_cb, arg);
	if (rc != 0 || (rc = store_commit(copy)) != 0) {
		store_rollback(copy);
		goto out;
	}
	*erased = (int)g.n;
	/* Erased here as for real: no page of the copy keeps what they were. */
	rc = store_vacuum(copy);
out:
	free(g.id);
	return rc;
}
