/* Documents a family sent: downloads waiting, and the stored (encrypted)
 * files with their requests. */
#include <string.h>

#include "store/store.h"

static const char SQL_DL_ADD[] =
	"INSERT INTO downloads (family_id, member_id, channel_id, media_kind, media_ref, media_size,"
	" not_before, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)";
static const char SQL_DL_NEXT[] =
	"SELECT id, family_id, member_id, channel_id, media_kind, media_ref, media_size, attempts"
	" FROM downloads WHERE not_before <= ? ORDER BY id LIMIT 1";
static const char SQL_DL_RETRY[] =
	"UPDATE downloads SET attempts = attempts + 1, not_before = ?1 WHERE id = ?2";
static const char SQL_DL_DEL[] = "DELETE FROM downloads WHERE id = ?";
static const char SQL_DOC_ADD[] =
	"INSERT INTO documents (family_id, request_id, member_id, received_at, mime, size, mac, path)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_REQ_OPEN[] =
	"SELECT id FROM document_requests WHERE family_id = ? AND status = 'open' ORDER BY id";
static const char SQL_REQ_RECEIVED[] =
	"UPDATE document_requests SET status = 'received', updated_at = ?1 WHERE id = ?2"
	" AND status = 'open'";

int store_download_add(struct store *st, const struct download *dl, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DL_ADD);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, dl->family_id);
	store_bind_id(q, 2, dl->member_id);
	sqlite3_bind_int64(q, 3, dl->channel_id);
	sqlite3_bind_text(q, 4, dl->media_kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, dl->media_ref, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, dl->media_size);
	sqlite3_bind_int64(q, 7, now);
	return store_exec_stmt(q);
}

static int read_dl(sqlite3_stmt *q, void *arg)
{
	struct download *dl = arg;

	memset(dl, 0, sizeof(*dl));
	dl->id = sqlite3_column_int64(q, 0);
	dl->family_id = sqlite3_column_int64(q, 1);
	dl->member_id = sqlite3_column_int64(q, 2);
	dl->channel_id = sqlite3_column_int64(q, 3);
	store_col_text(q, 4, dl->media_kind, sizeof(dl->media_kind));
	store_col_text(q, 5, dl->media_ref, sizeof(dl->media_ref));
	dl->media_size = sqlite3_column_int64(q, 6);
	dl->attempts = sqlite3_column_int(q, 7);
	return 0;
}

int store_download_next(struct store *st, time_t now, struct download *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DL_NEXT);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, now);
	return store_row(q, read_dl, out);
}

int store_download_retry(struct store *st, int64_t id, time_t not_before)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DL_RETRY);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, not_before);
	sqlite3_bind_int64(q, 2, id);
	return store_exec_stmt(q);
}

int store_download_done(struct store *st, int64_t id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DL_DEL);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	return store_exec_stmt(q);
}

int store_document_add(struct store *st, struct document *doc, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DOC_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, doc->family_id);
	store_bind_id(q, 2, doc->request_id);
	store_bind_id(q, 3, doc->member_id);
	sqlite3_bind_int64(q, 4, now);
	sqlite3_bind_text(q, 5, doc->mime, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, doc->size);
	sqlite3_bind_blob(q, 7, doc->mac, sizeof(doc->mac), SQLITE_STATIC);
	sqlite3_bind_text(q, 8, doc->path, -1, SQLITE_STATIC);
	rc = store_exec_stmt(q);
	if (rc == 0)
		doc->id = sqlite3_last_insert_rowid(store_db(st));
	return rc;
}

struct open_ctx {
	int64_t ids[8];
	int n;
};

static int read_open(sqlite3_stmt *q, void *arg)
{
	struct open_ctx *c = arg;

	if (c->n < (int)CB_ARRAY_SIZE(c->ids))
		c->ids[c->n] = sqlite3_column_int64(q, 0);
	c->n++;
	return 0;
}

int store_docreq_open(struct store *st, int64_t family_id, int64_t *ids, int max, int *count)
{
	sqlite3_stmt *q = store_stmt(st, SQL_REQ_OPEN);
	struct open_ctx c = {{0}, 0};
	int rc;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	rc = store_rows(q, read_open, &c);
	for (int i = 0; i < c.n && i < max && i < (int)CB_ARRAY_SIZE(c.ids); i++)
		ids[i] = c.ids[i];
	*count = c.n;
	return rc;
}

int store_docreq_received(struct store *st, int64_t id, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_REQ_RECEIVED);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, id);
	return store_exec_stmt(q);
}

static const char SQL_DOC_ATTACH[] =
	"UPDATE documents SET request_id = ?1 WHERE id = ?2 AND family_id = ?3 AND request_id IS NULL"
	" AND EXISTS (SELECT 1 FROM document_requests r WHERE r.id = ?1 AND r.family_id = ?3"
	" AND r.status = 'open')";

/* Only a document and an open request of the same family go together. */
int store_document_attach(struct store *st, int64_t family_id, int64_t document_id, int64_t request_id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DOC_ATTACH);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, request_id);
	sqlite3_bind_int64(q, 2, document_id);
	sqlite3_bind_int64(q, 3, family_id);
	rc = store_exec_stmt(q);
	if (rc == 0 && sqlite3_changes(store_db(st)) == 0)
		return -CB_ENOENT;
	return rc;
}

#define SELECT_DOC \
	"SELECT id, family_id, request_id, member_id, mime, size, mac, path, status, received_at" \
	" FROM documents "
static const char SQL_DOC_GET[] = SELECT_DOC "WHERE id = ?";
static const char SQL_DOC_FAMILY[] = SELECT_DOC "WHERE family_id = ? ORDER BY id";
static const char SQL_DOC_STATUS[] =
	"UPDATE documents SET status = ?1, reject_reason = ?2 WHERE id = ?3";

static int read_doc(sqlite3_stmt *q, void *arg)
{
	struct document *d = arg;
	const void *sha = sqlite3_column_blob(q, 6);

	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(q, 0);
	d->family_id = sqlite3_column_int64(q, 1);
	d->request_id = sqlite3_column_int64(q, 2);
	d->member_id = sqlite3_column_int64(q, 3);
	store_col_text(q, 4, d->mime, sizeof(d->mime));
	d->size = sqlite3_column_int64(q, 5);
	if (sha != NULL && sqlite3_column_bytes(q, 6) == (int)sizeof(d->mac))
		memcpy(d->mac, sha, sizeof(d->mac));
	store_col_text(q, 7, d->path, sizeof(d->path));
	store_col_text(q, 8, d->status, sizeof(d->status));
	d->received_at = (time_t)sqlite3_column_int64(q, 9);
	return 0;
}

int store_document_get(struct store *st, int64_t id, struct document *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DOC_GET);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_doc, out);
}

int store_document_each(struct store *st, int64_t family_id, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DOC_FAMILY);
	struct document d;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return store_each(q, read_doc, &d, cb, arg);
}

int store_document_set_status(struct store *st, int64_t id, const char *status, const char *reason)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DOC_STATUS);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
	store_bind_opt_text(q, 2, reason);
	sqlite3_bind_int64(q, 3, id);
	return store_exec_stmt(q);
}
