/* Inbound events and gateway state (the Telegram offset). */
#include <string.h>
#include <stdlib.h>

#include "store/store.h"

static const char SQL_INBOUND_ADD[] =
	"INSERT INTO inbound (channel_kind, external_id, sender, received_at, event)"
	" VALUES (?, ?, ?, ?, ?) ON CONFLICT (channel_kind, external_id) DO NOTHING";
static const char SQL_INBOUND_NEW[] =
	"SELECT id FROM inbound WHERE status = 'new' AND (retry_at IS NULL OR retry_at <= ?1) ORDER BY id LIMIT ?2";
static const char SQL_INBOUND_GET_NEW[] =
	"SELECT id, channel_kind, external_id, sender, received_at, event, attempts FROM inbound"
	" WHERE id = ?1 AND status = 'new'";
static const char SQL_INBOUND_NEXT_RETRY[] =
	"SELECT min(retry_at) FROM inbound WHERE status = 'new' AND retry_at IS NOT NULL";
static const char SQL_INBOUND_RETRY[] =
	"UPDATE inbound SET attempts = attempts + 1, retry_at = ?1 WHERE id = ?2 AND status = 'new'";
static const char SQL_INBOUND_DONE[] =
	"UPDATE inbound SET status = ?1, handled_at = ?2, event = ?3 WHERE id = ?4";
static const char SQL_STATE_GET[] = "SELECT value FROM gateway_state WHERE gateway = ? AND key = ?";
static const char SQL_STATE_SET[] =
	"INSERT INTO gateway_state (gateway, key, value) VALUES (?1, ?2, ?3)"
	" ON CONFLICT (gateway, key) DO UPDATE SET value = ?3";
int store_inbound_add(struct store *st, const char *channel, const char *external_id,
		      const char *sender, time_t now, const char *event_json, int64_t *id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_INBOUND_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, channel, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, external_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, sender, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, now);
	sqlite3_bind_text(q, 5, event_json, -1, SQLITE_STATIC);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	if (sqlite3_changes(store_db(st)) == 0)
		return -CB_EEXIST;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

int store_inbound_batch(struct store *st, const char *channel, time_t now, struct inbound_new *ev, int n,
			const struct inbound_cursor *cursor, int ncursor)
{
	return store_inbound_batch_with(st, channel, now, ev, n, cursor, ncursor, NULL, NULL);
}

int store_inbound_batch_with(struct store *st, const char *channel, time_t now, struct inbound_new *ev, int n,
			     const struct inbound_cursor *cursor, int ncursor, store_batch_fn also, void *arg)
{
	int rc;

	/* A normal commit may be lost in a power cut; this one is what the
	 * gateway's acknowledgement stands on. */
	if ((rc = store_sync_full(st, 1)) != 0)
		return rc;
	if ((rc = store_begin(st)) != 0)
		goto out;
	for (int i = 0; rc == 0 && i < n; i++) {
		rc = store_inbound_add(st, channel, ev[i].external_id, ev[i].sender, now, ev[i].event_json, NULL);
		ev[i].stored = rc == 0;
		if (rc == -CB_EEXIST)
			rc = 0;      /* seen before: handled once already */
	}
	for (int i = 0; rc == 0 && i < ncursor; i++)
		rc = store_state_set(st, channel, cursor[i].key, cursor[i].value);
	if (rc == 0 && also != NULL)
		rc = also(st, arg);
	if (rc == 0)
		rc = store_commit(st);
	if (rc != 0) {
		store_rollback(st);
		for (int i = 0; i < n; i++)
			ev[i].stored = 0;
	}
out:
	store_sync_full(st, 0);
	return rc;
}

static int read_inbound(sqlite3_stmt *q, void *arg)
{
	struct inbound_row *r = arg;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(q, 0);
	store_col_text(q, 1, r->channel, sizeof(r->channel));
	store_col_text(q, 2, r->external_id, sizeof(r->external_id));
	store_col_text(q, 3, r->sender, sizeof(r->sender));
	r->received_at = (time_t)sqlite3_column_int64(q, 4);
	store_col_text(q, 5, r->event, sizeof(r->event));
	r->attempts = sqlite3_column_int(q, 6);
	return 0;
}

int store_inbound_retry(struct store *st, int64_t id, time_t retry_at)
{
	return store_change3(st, SQL_INBOUND_RETRY, retry_at, id, 0);
}

struct ids {
	int64_t *v;
	int n, cap;
};

static int read_id(sqlite3_stmt *q, void *arg)
{
	struct ids *ids = arg;

	if (ids->n < ids->cap)
		ids->v[ids->n++] = sqlite3_column_int64(q, 0);
	return 0;
}

/* The ids first, then each row on its own: no read stays open while cb
 * writes, so cb's write transaction waits for a lock (the busy timeout)
 * instead of failing at once on a read that another connection's commit
 * has made stale. */
int store_inbound_each_new(struct store *st, time_t now, int limit, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_INBOUND_NEW);
	struct inbound_row *r = NULL;
	struct ids ids = {NULL, 0, limit};
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	/* A row carries a whole message: keep it off the stack. */
	r = malloc(sizeof(*r));
	ids.v = limit > 0 ? calloc((size_t)limit, sizeof(*ids.v)) : NULL;
	if (r == NULL || ids.v == NULL) {
		store_done(q);
		rc = limit > 0 ? -CB_ENOMEM : 0;
		goto out;
	}
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int(q, 2, limit);
	if ((rc = store_rows(q, read_id, &ids)) != 0)
		goto out;
	for (int i = 0; i < ids.n && rc == 0; i++) {
		if ((q = store_stmt(st, SQL_INBOUND_GET_NEW)) == NULL) {
			rc = -CB_ESTORE;
			break;
		}
		sqlite3_bind_int64(q, 1, ids.v[i]);
		rc = store_row(q, read_inbound, r);
		if (rc == -CB_ENOENT) {
			rc = 0;      /* handled meanwhile */
			continue;
		}
		if (rc == 0)
			rc = cb(r, arg);
	}
out:
	free(ids.v);
	free(r);
	return rc;
}

static int read_at(sqlite3_stmt *q, void *arg)
{
	if (sqlite3_column_type(q, 0) == SQLITE_NULL)
		return -CB_ENOENT;
	*(time_t *)arg = (time_t)sqlite3_column_int64(q, 0);
	return 0;
}

int store_inbound_next_retry(struct store *st, time_t *at)
{
	return store_row(store_stmt(st, SQL_INBOUND_NEXT_RETRY), read_at, at);
}

int store_inbound_done(struct store *st, int64_t id, const char *status, const char *redacted, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_INBOUND_DONE);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_text(q, 3, redacted, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, id);
	return store_exec_stmt(q);
}

static int read_value(sqlite3_stmt *q, void *arg)
{
	struct { char *buf; size_t cap; } *v = arg;

	store_col_text(q, 0, v->buf, v->cap);
	return 0;
}

int store_state_get(struct store *st, const char *gateway, const char *key, char *buf, size_t cap)
{
	sqlite3_stmt *q = store_stmt(st, SQL_STATE_GET);
	struct { char *buf; size_t cap; } v = {buf, cap};

	if (q != NULL) {
		sqlite3_bind_text(q, 1, gateway, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
	}
	return store_row(q, read_value, &v);
}

int store_state_set(struct store *st, const char *gateway, const char *key, const char *value)
{
	sqlite3_stmt *q = store_stmt(st, SQL_STATE_SET);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, gateway, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, value, -1, SQLITE_STATIC);
	return store_exec_stmt(q);
}

static const char SQL_STATE_DEL[] = "DELETE FROM gateway_state WHERE gateway = ? AND key = ?";

int store_state_del(struct store *st, const char *gateway, const char *key)
{
	sqlite3_stmt *q = store_stmt(st, SQL_STATE_DEL);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, gateway, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, key, -1, SQLITE_STATIC);
	return store_exec_stmt(q);
}

static const char SQL_INBOUND_COUNT[] =
	"SELECT count(*) FROM inbound WHERE channel_kind = ? AND sender = ? AND received_at >= ?";

int store_inbound_count_since(struct store *st, const char *channel, const char *sender, time_t since, int *count)
{
	sqlite3_stmt *q = store_stmt(st, SQL_INBOUND_COUNT);

	if (q != NULL) {
		sqlite3_bind_text(q, 1, channel, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, sender, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, since);
	}
	return store_row(q, store_read_int, count);
}
