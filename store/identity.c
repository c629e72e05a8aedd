/* A chat's other identities. WhatsApp knows one user by a number (wa_id)
 * and by a business-scoped user id; either may come alone. A new number
 * for a chat is kept pending until staff confirm it: who holds a number
 * can change, and nobody's messages are merged into a family's file
 * unseen. */
#include <string.h>

#include "store/store.h"

static const char SQL_ADD[] =
	"INSERT INTO channel_identities (channel_id, kind, identity, pending, created_at)"
	" SELECT ?1, ?2, ?3, 0, ?4 WHERE NOT EXISTS (SELECT 1 FROM channels WHERE kind = ?2 AND address = ?3)";
/* Digits only: GLOB has no class for "all digits", only for a non-digit. */
static const char SQL_OF_TYPE[] =
	"SELECT address FROM channels WHERE id = ?1 AND (address NOT GLOB '*[^0-9]*') = ?2"
	" UNION ALL SELECT identity FROM channel_identities WHERE channel_id = ?1 AND pending = 0"
	" AND (identity NOT GLOB '*[^0-9]*') = ?2 LIMIT 1";
static const char SQL_PENDING_ADD[] =
	"INSERT INTO channel_identities (channel_id, kind, identity, replaces, pending, created_at)"
	" VALUES (?1, ?2, ?3, ?4, 1, ?5)";
#define SELECT_CHANGE \
	"SELECT i.id, i.channel_id, c.family_id, c.staff_id, c.member_id, i.kind, i.identity," \
	" coalesce(i.replaces, ''), i.created_at FROM channel_identities i JOIN channels c ON c.id = i.channel_id"
static const char SQL_CHANGE_GET[] = SELECT_CHANGE " WHERE i.id = ?1 AND i.pending = 1";
static const char SQL_CHANGE_EACH[] = SELECT_CHANGE " WHERE i.pending = 1 ORDER BY i.id";
static const char SQL_TAKEN[] =
	"SELECT 1 FROM channels WHERE kind = ?1 AND address = ?2 AND id <> ?3"
	" UNION ALL SELECT 1 FROM channel_identities WHERE kind = ?1 AND identity = ?2 AND pending = 0"
	" AND channel_id <> ?3 LIMIT 1";
static const char SQL_SET_ADDRESS[] = "UPDATE channels SET address = ?2 WHERE id = ?1 AND address = ?3";
static const char SQL_DROP_KNOWN[] =
	"DELETE FROM channel_identities WHERE channel_id = ?1 AND pending = 0 AND identity IN (?2, ?3)";
static const char SQL_DEL[] = "DELETE FROM channel_identities WHERE id = ?1 AND pending = 1";

int store_identity_add(struct store *st, int64_t channel_id, const char *kind, const char *identity, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, channel_id);
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, identity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, now);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	return sqlite3_changes(store_db(st)) == 1 ? 0 : -CB_EEXIST;
}

static int read_text(sqlite3_stmt *q, void *arg)
{
	struct { char *buf; size_t cap; } *v = arg;

	if (v->buf != NULL)
		store_col_text(q, 0, v->buf, v->cap);
	return 0;
}

int store_identity_of_type(struct store *st, int64_t channel_id, int number, char *found, size_t cap)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OF_TYPE);
	struct { char *buf; size_t cap; } v = {found, cap};

	if (q != NULL) {
		sqlite3_bind_int64(q, 1, channel_id);
		sqlite3_bind_int(q, 2, number ? 1 : 0);
	}
	return store_row(q, read_text, &v);
}

int store_identity_pending_add(struct store *st, int64_t channel_id, const char *kind, const char *identity,
			       const char *replaces, time_t now, int64_t *id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_PENDING_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, channel_id);
	sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, identity, -1, SQLITE_STATIC);
	store_bind_opt_text(q, 4, replaces);
	sqlite3_bind_int64(q, 5, now);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	if (id != NULL)
		*id = sqlite3_last_insert_rowid(store_db(st));
	return 0;
}

static int read_change(sqlite3_stmt *q, void *arg)
{
	struct identity_change *c = arg;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(q, 0);
	c->channel_id = sqlite3_column_int64(q, 1);
	c->family_id = sqlite3_column_int64(q, 2);
	c->staff_id = sqlite3_column_int64(q, 3);
	c->member_id = sqlite3_column_int64(q, 4);
	store_col_text(q, 5, c->kind, sizeof(c->kind));
	store_col_text(q, 6, c->identity, sizeof(c->identity));
	store_col_text(q, 7, c->replaces, sizeof(c->replaces));
	c->created_at = (time_t)sqlite3_column_int64(q, 8);
	return 0;
}

int store_identity_change_get(struct store *st, int64_t id, struct identity_change *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANGE_GET);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_change, out);
}

int store_identity_each_pending(struct store *st, store_each_cb cb, void *arg)
{
	struct identity_change c;

	return store_each(store_stmt(st, SQL_CHANGE_EACH), read_change, &c, cb, arg);
}

static int taken(struct store *st, const struct identity_change *c)
{
	sqlite3_stmt *q = store_stmt(st, SQL_TAKEN);
	struct { char *buf; size_t cap; } v = {NULL, 0};
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, c->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, c->identity, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, c->channel_id);
	rc = store_row(q, read_text, &v);
	return rc == 0 ? -CB_EEXIST : (rc == -CB_ENOENT ? 0 : rc);
}

static int exec_text2(struct store *st, const char *sql, int64_t id, const char *a, const char *b)
{
	sqlite3_stmt *q = store_stmt(st, sql);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, a, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, b, -1, SQLITE_STATIC);
	return store_exec_stmt(q);
}

/* The new identity replaces the old one: as the chat's address when the
 * old one was its address (the outbox writes to the new number from now
 * on), else as a known identity. */
static int confirm(struct store *st, const struct identity_change *c, time_t now)
{
	int rc;

	if ((rc = taken(st, c)) != 0)
		return rc;
	if ((rc = store_identity_refuse(st, c->id)) != 0)
		return rc;
	if ((rc = exec_text2(st, SQL_DROP_KNOWN, c->channel_id, c->identity, c->replaces)) != 0)
		return rc;
	if ((rc = exec_text2(st, SQL_SET_ADDRESS, c->channel_id, c->identity, c->replaces)) != 0)
		return rc;
	if (sqlite3_changes(store_db(st)) == 1)
		return 0;
	return store_identity_add(st, c->channel_id, c->kind, c->identity, now);
}

int store_identity_confirm(struct store *st, int64_t id, time_t now)
{
	struct identity_change c;
	int rc;

	if ((rc = store_begin(st)) != 0)
		return rc;
	rc = store_identity_change_get(st, id, &c);
	if (rc == 0)
		rc = confirm(st, &c, now);
	if (rc == 0)
		rc = store_commit(st);
	if (rc != 0)
		store_rollback(st);
	return rc;
}

int store_identity_refuse(struct store *st, int64_t id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DEL);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	return sqlite3_changes(store_db(st)) == 1 ? 0 : -CB_ENOENT;
}
