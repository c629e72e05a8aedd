/* What retention deletes: old rows in small batches, each its own short
 * transaction, each found through an index on its time. */
#include <string.h>

#include "store/store.h"

static const char *const SQL_PRUNE[] = {
	[PRUNE_CONTACT] = "DELETE FROM contact_log WHERE id IN"
			  " (SELECT id FROM contact_log WHERE at < ?1 ORDER BY at LIMIT ?2)",
	/* Only rows that have ended: a queued reminder stays however old. */
	[PRUNE_OUTBOX] = "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
			 " WHERE status IN ('sent', 'delivered', 'read', 'failed', 'expired', 'cancelled')"
			 " AND updated_at < ?1 ORDER BY updated_at LIMIT ?2)",
	[PRUNE_ALERTS] = "DELETE FROM alerts WHERE id IN"
			 " (SELECT id FROM alerts WHERE created_at < ?1 ORDER BY created_at LIMIT ?2)",
	[PRUNE_INBOUND] = "DELETE FROM inbound WHERE id IN"
			  " (SELECT id FROM inbound WHERE received_at < ?1 ORDER BY received_at LIMIT ?2)",
	/* Telegram picks a random update_id after a week without updates, so
	 * old handled rows must not linger to collide with new ones; they are
	 * redacted already, and a re-delivery never comes that late. */
	[PRUNE_INBOUND_HANDLED] = "DELETE FROM inbound WHERE id IN (SELECT id FROM inbound"
				  " WHERE received_at < ?1 AND status <> 'new' ORDER BY received_at LIMIT ?2)",
	[PRUNE_DELIVERIES] = "DELETE FROM deliveries WHERE rowid IN (SELECT rowid FROM deliveries"
			     " WHERE updated_at < ?1 ORDER BY updated_at LIMIT ?2)",
	/* A status of no message casebot knows holds a message id, and so a
	 * number: kept as long as Meta may send it again (a week), no longer. */
	[PRUNE_DELIVERIES_UNKNOWN] = "DELETE FROM deliveries WHERE rowid IN (SELECT rowid FROM deliveries"
				     " WHERE updated_at < ?1 AND outbox_id IS NULL ORDER BY updated_at LIMIT ?2)",
	[PRUNE_AUDIT] = "DELETE FROM audit WHERE id IN (SELECT id FROM audit WHERE at < ?1 ORDER BY at LIMIT ?2)",
};

int store_prune(struct store *st, enum prune_kind kind, time_t before, int batch, int *deleted)
{
	sqlite3_stmt *q;
	int rc;

	*deleted = 0;
	if ((unsigned)kind >= CB_ARRAY_SIZE(SQL_PRUNE) || (q = store_stmt(st, SQL_PRUNE[kind])) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, before);
	sqlite3_bind_int(q, 2, batch);
	rc = store_exec_stmt(q);
	if (rc == 0)
		*deleted = sqlite3_changes(store_db(st));
	return rc;
}

static const char SQL_CLOSED_BEFORE[] =
	"SELECT id FROM families WHERE status = 'closed' AND closed_at < ?1 ORDER BY closed_at LIMIT ?2";

struct ids {
	int64_t *ids;
	int n;
};

static int read_id(sqlite3_stmt *q, void *arg)
{
	struct ids *ids = arg;

	ids->ids[ids->n++] = sqlite3_column_int64(q, 0);
	return 0;
}

int store_family_closed_before(struct store *st, time_t before, int64_t *ids, int max, int *n)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CLOSED_BEFORE);
	struct ids out = {ids, 0};
	int rc;

	if (q != NULL) {
		sqlite3_bind_int64(q, 1, before);
		sqlite3_bind_int(q, 2, max);
	}
	rc = store_rows(q, read_id, &out);
	*n = out.n;
	return rc;
}

static const char SQL_STATE_FIRST[] = "SELECT key FROM gateway_state WHERE gateway = ? ORDER BY key LIMIT 1";

static int read_key(sqlite3_stmt *q, void *arg)
{
	struct { char *buf; size_t cap; } *v = arg;

	store_col_text(q, 0, v->buf, v->cap);
	return 0;
}

int store_state_first(struct store *st, const char *gateway, char *key, size_t cap)
{
	sqlite3_stmt *q = store_stmt(st, SQL_STATE_FIRST);
	struct { char *buf; size_t cap; } v = {key, cap};

	if (q != NULL)
		sqlite3_bind_text(q, 1, gateway, -1, SQLITE_STATIC);
	return store_row(q, read_key, &v);
}
