/* Channel fallback: each member's chats in order, and the copies of a
 * message offered down that order when a chat cannot take it. */
#include <string.h>

#include "store/store.h"

static const char SQL_ORDER_CLEAR[] =
	"UPDATE channels SET position = NULL WHERE family_id = ?1 AND member_id = ?2";
static const char SQL_ORDER_SET[] =
	"UPDATE channels SET position = ?1 WHERE id = ?2 AND member_id = ?3";
static const char SQL_CHANNEL_SIBLINGS[] =
	"SELECT count(*) FROM channels me JOIN channels c ON c.family_id = me.family_id"
	" AND c.member_id = me.member_id WHERE me.id = ?1 AND c.id <> me.id";
/* The message's first row names itself once it has a copy, so that the
 * unique index sees every row of the message. */
static const char SQL_OFFER_ORIGIN[] =
	"UPDATE outbox SET origin_id = id WHERE id = ?1 AND origin_id IS NULL";
static const char SQL_OFFER_COPY[] =
	"INSERT OR IGNORE INTO outbox (family_id, member_id, staff_id, channel_id, appointment_id, request_id,"
	" kind, catalog_key, params, urgent, not_before, expires_at, created_at, updated_at, origin_id,"
	" fallback_of, fallback_why)"
	" SELECT family_id, member_id, staff_id, ?2, appointment_id, request_id, kind, catalog_key, params,"
	" urgent, ?3, expires_at, ?4, ?4, origin_id, id, ?5 FROM outbox WHERE id = ?1";
/* A copy already waiting on that chat (one offered for later, when the
 * first was not confirmed) goes now: the chat before it failed. */
static const char SQL_OFFER_SOONER[] =
	"UPDATE outbox SET not_before = min(not_before, ?3), fallback_why = ?4, updated_at = ?5"
	" WHERE origin_id = (SELECT origin_id FROM outbox WHERE id = ?1) AND channel_id = ?2"
	" AND status = 'queued' AND not_before > ?3";
static const char SQL_FALLBACK_GET[] =
	"SELECT o.fallback_of, o.fallback_why, o.created_at, coalesce(f.channel_id, 0)"
	" FROM outbox o LEFT JOIN outbox f ON f.id = o.fallback_of WHERE o.id = ?1 AND o.fallback_why IS NOT NULL";

int store_channel_order(struct store *st, int64_t family_id, int64_t member_id, const int64_t *ids, int n)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(st, SQL_ORDER_CLEAR)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, family_id);
	sqlite3_bind_int64(q, 2, member_id);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	for (int i = 0; i < n; i++) {
		if ((rc = store_change3(st, SQL_ORDER_SET, i + 1, ids[i], member_id)) != 0)
			return rc == -CB_ESTATE ? -CB_ENOENT : rc;
	}
	return 0;
}

int store_channel_siblings(struct store *st, int64_t channel_id, int *count)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANNEL_SIBLINGS);

	*count = 0;
	if (q != NULL)
		sqlite3_bind_int64(q, 1, channel_id);
	return store_row(q, store_read_int, count);
}

int store_outbox_offer(struct store *st, int64_t id, int64_t channel_id, time_t not_before, const char *why,
		       time_t now, int *created)
{
	sqlite3_stmt *q;
	int rc;

	*created = 0;
	if ((rc = store_change3(st, SQL_OFFER_ORIGIN, id, 0, 0)) != 0 && rc != -CB_ESTATE)
		return rc;
	if ((q = store_stmt(st, SQL_OFFER_COPY)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, channel_id);
	sqlite3_bind_int64(q, 3, not_before);
	sqlite3_bind_int64(q, 4, now);
	sqlite3_bind_text(q, 5, why, -1, SQLITE_STATIC);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	if (sqlite3_changes(store_db(st)) == 1) {
		*created = 1;
		return 0;
	}
	if ((q = store_stmt(st, SQL_OFFER_SOONER)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, channel_id);
	sqlite3_bind_int64(q, 3, not_before);
	sqlite3_bind_text(q, 4, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, now);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	*created = sqlite3_changes(store_db(st)) == 1;
	return 0;
}

static int read_fallback(sqlite3_stmt *q, void *arg)
{
	struct outbox_fallback *f = arg;

	memset(f, 0, sizeof(*f));
	f->of = sqlite3_column_int64(q, 0);
	store_col_text(q, 1, f->why, sizeof(f->why));
	f->offered_at = (time_t)sqlite3_column_int64(q, 2);
	f->from_channel = sqlite3_column_int64(q, 3);
	return 0;
}

int store_outbox_fallback_get(struct store *st, int64_t id, struct outbox_fallback *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_FALLBACK_GET);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_fallback, out);
}

static const char SQL_CHECKIN_ANSWERED[] =
	"SELECT count(*) FROM checkin_plans WHERE family_id = ?1 AND last_answer_at >= ?2";

int store_checkin_answered_since(struct store *st, int64_t family_id, time_t since, int *answered)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHECKIN_ANSWERED);

	*answered = 0;
	if (q != NULL) {
		sqlite3_bind_int64(q, 1, family_id);
		sqlite3_bind_int64(q, 2, since);
	}
	return store_row(q, store_read_int, answered);
}
