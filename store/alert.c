/* Alerts for staff: acknowledged by someone, or escalated. */
#include <string.h>

#include "store/store.h"

#define ALERT_COLUMNS \
	"SELECT a.id, a.family_id, a.staff_id, a.kind, a.urgent, a.summary, a.created_at, a.acked_at," \
	" a.escalation, a.escalated_at, coalesce(f.ref, ''), coalesce(a.group_id, a.id), coalesce(a.params, '')"
#define SELECT_ALERT ALERT_COLUMNS " FROM alerts a LEFT JOIN families f ON f.id = a.family_id "
static const char SQL_ALERT_GET[] = SELECT_ALERT "WHERE a.id = ?";
static const char SQL_ALERT_OPEN_STAFF[] =
	SELECT_ALERT "WHERE a.acked_at IS NULL AND a.staff_id = ? ORDER BY a.urgent DESC, a.created_at DESC LIMIT ?";
/* Escalation follows the first copy of each alert: the others went to
 * people who already have it. */
static const char SQL_ALERT_OPEN_ALL[] =
	ALERT_COLUMNS " FROM alerts a INDEXED BY alerts_escalating LEFT JOIN families f ON f.id = a.family_id"
	" WHERE a.acked_at IS NULL AND a.escalation < 2 AND (a.group_id IS NULL OR a.group_id = a.id)"
	" ORDER BY a.id LIMIT ?";
static const char SQL_ALERT_ACK[] =
	"UPDATE alerts SET acked_at = ?1, acked_by = ?2, forward = NULL WHERE acked_at IS NULL"
	" AND (id = ?3 OR group_id = (SELECT group_id FROM alerts WHERE id = ?3))";
static const char SQL_ALERT_ADD[] =
	"INSERT INTO alerts (family_id, staff_id, kind, urgent, summary, params, created_at, group_id)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_ALERT_OWN_GROUP[] = "UPDATE alerts SET group_id = id WHERE id = ?";
static const char SQL_ALERT_SET_FORWARD[] = "UPDATE alerts SET forward = ?2 WHERE id = ?1";
static const char SQL_ALERT_FORWARD[] = "SELECT forward FROM alerts WHERE id = ? AND forward IS NOT NULL";
static const char SQL_ALERT_GROUP_HAS[] = "SELECT count(*) FROM alerts WHERE group_id = ?1 AND staff_id = ?2";
static const char SQL_ALERT_REACHES[] =
	"SELECT count(*) FROM alerts WHERE family_id = ?1 AND acked_at IS NULL"
	" AND ((staff_id = ?2 AND urgent = 1) OR (?3 AND escalation >= 1))";
static const char SQL_ALERT_ESCALATE[] =
	"UPDATE alerts SET escalation = ?1, escalated_at = ?2 WHERE id = ?3 AND acked_at IS NULL";
static const char SQL_ALERT_COUNT[] =
	"SELECT count(*) FROM alerts WHERE acked_at IS NULL AND staff_id = ?";

static int read_alert(sqlite3_stmt *q, void *arg)
{
	struct alert *a = arg;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(q, 0);
	a->family_id = sqlite3_column_int64(q, 1);
	a->staff_id = sqlite3_column_int64(q, 2);
	store_col_text(q, 3, a->kind, sizeof(a->kind));
	a->urgent = sqlite3_column_int(q, 4);
	store_col_text(q, 5, a->code, sizeof(a->code));
	a->created_at = (time_t)sqlite3_column_int64(q, 6);
	a->acked_at = (time_t)sqlite3_column_int64(q, 7);
	a->escalation = sqlite3_column_int(q, 8);
	a->escalated_at = (time_t)sqlite3_column_int64(q, 9);
	store_col_text(q, 10, a->family_ref, sizeof(a->family_ref));
	a->group_id = sqlite3_column_int64(q, 11);
	store_col_text(q, 12, a->params, sizeof(a->params));
	return 0;
}

int store_alert_add(struct store *st, int64_t family_id, int64_t staff_id, const char *kind,
		    int urgent, const char *code, const char *params, time_t now, int64_t group_id, int64_t *id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_ALERT_ADD);
	int64_t new_id;
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	store_bind_id(q, 1, family_id);
	store_bind_id(q, 2, staff_id);
	sqlite3_bind_text(q, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 4, urgent);
	sqlite3_bind_text(q, 5, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 6, params != NULL ? params : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 7, now);
	store_bind_id(q, 8, group_id);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	new_id = sqlite3_last_insert_rowid(store_db(st));
	if (id != NULL)
		*id = new_id;
	if (group_id != 0)
		return 0;
	if ((q = store_stmt(st, SQL_ALERT_OWN_GROUP)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, new_id);
	return store_exec_stmt(q);
}

int store_alert_get(struct store *st, int64_t id, struct alert *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_ALERT_GET);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_alert, out);
}

int store_alert_each_open(struct store *st, int64_t staff_id, int limit, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, staff_id != 0 ? SQL_ALERT_OPEN_STAFF : SQL_ALERT_OPEN_ALL);
	struct alert a;

	if (q != NULL) {
		if (staff_id != 0) {
			sqlite3_bind_int64(q, 1, staff_id);
			sqlite3_bind_int(q, 2, limit);
		} else {
			sqlite3_bind_int(q, 1, limit);
		}
	}
	return store_each(q, read_alert, &a, cb, arg);
}

int store_alert_count_open(struct store *st, int64_t staff_id, int *count)
{
	sqlite3_stmt *q = store_stmt(st, SQL_ALERT_COUNT);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, staff_id);
	return store_row(q, store_read_int, count);
}

int store_alert_ack(struct store *st, int64_t id, int64_t staff_id, time_t now)
{
	return store_change3(st, SQL_ALERT_ACK, now, staff_id, id);
}

int store_alert_set_forward(struct store *st, int64_t id, const char *params)
{
	sqlite3_stmt *q = store_stmt(st, SQL_ALERT_SET_FORWARD);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	if (params != NULL)
		sqlite3_bind_text(q, 2, params, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(q, 2);
	return store_exec_stmt(q);
}

static int read_dup_text(sqlite3_stmt *q, void *arg)
{
	const unsigned char *t = sqlite3_column_text(q, 0);
	char **out = arg;

	return (*out = strdup(t != NULL ? (const char *)t : "")) != NULL ? 0 : -CB_ENOMEM;
}

int store_alert_forward(struct store *st, int64_t id, char **params)
{
	sqlite3_stmt *q = store_stmt(st, SQL_ALERT_FORWARD);

	*params = NULL;
	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_dup_text, params);
}

int store_alert_group_has(struct store *st, int64_t group_id, int64_t staff_id, int *yes)
{
	sqlite3_stmt *q = store_stmt(st, SQL_ALERT_GROUP_HAS);

	*yes = 0;
	if (q != NULL) {
		sqlite3_bind_int64(q, 1, group_id);
		sqlite3_bind_int64(q, 2, staff_id);
	}
	return store_row(q, store_read_int, yes);
}

int store_alert_reaches(struct store *st, int64_t family_id, int64_t staff_id, int is_backup, int *yes)
{
	sqlite3_stmt *q = store_stmt(st, SQL_ALERT_REACHES);

	*yes = 0;
	if (q != NULL) {
		sqlite3_bind_int64(q, 1, family_id);
		sqlite3_bind_int64(q, 2, staff_id);
		sqlite3_bind_int(q, 3, is_backup != 0);
	}
	return store_row(q, store_read_int, yes);
}

int store_alert_escalate(struct store *st, int64_t id, int level, time_t now)
{
	return store_change3(st, SQL_ALERT_ESCALATE, level, now, id);
}

static const char SQL_DIGEST[] =
	"WITH fam AS (SELECT f.id FROM families f JOIN staff c ON c.id = f.counsellor_id"
	" WHERE f.status <> 'closed' AND (?1 OR f.counsellor_id = ?2 OR (f.backup_id = ?2 AND c.away = 1)))"
	" SELECT (SELECT count(*) FROM alerts a WHERE a.staff_id = ?2 AND a.kind IN ('message', 'urgent')"
	"   AND a.created_at >= ?3),"
	" (SELECT count(*) FROM alerts a WHERE a.staff_id = ?2 AND a.acked_at IS NULL),"
	" (SELECT count(*) FROM document_requests r WHERE r.family_id IN fam AND r.status = 'open'"
	"   AND r.due_date IS NOT NULL AND r.due_date < ?4),"
	" (SELECT count(*) FROM appointments p WHERE p.family_id IN fam AND p.status = 'scheduled'"
	"   AND p.starts_at BETWEEN ?5 AND ?6)";
static const char SQL_DIGEST_FAMILIES[] =
	"SELECT f.ref, group_concat(DISTINCT a.kind) FROM alerts a JOIN families f ON f.id = a.family_id"
	" WHERE a.staff_id = ? AND a.acked_at IS NULL GROUP BY f.ref ORDER BY f.ref LIMIT 30";

static int read_digest(sqlite3_stmt *q, void *arg)
{
	struct digest *d = arg;

	d->messages = sqlite3_column_int(q, 0);
	d->open_alerts = sqlite3_column_int(q, 1);
	d->overdue = sqlite3_column_int(q, 2);
	d->unconfirmed = sqlite3_column_int(q, 3);
	return 0;
}

int store_digest(struct store *st, const struct staff *s, time_t since, const char *today, time_t from,
		 time_t until, struct digest *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DIGEST);

	memset(out, 0, sizeof(*out));
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int(q, 1, s->role == ROLE_COORDINATOR);
	sqlite3_bind_int64(q, 2, s->id);
	sqlite3_bind_int64(q, 3, since);
	sqlite3_bind_text(q, 4, today, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 5, from);
	sqlite3_bind_int64(q, 6, until);
	return store_row(q, read_digest, out);
}

struct pair_ctx {
	store_pair_cb cb;
	void *arg;
};

static int read_pair(sqlite3_stmt *q, void *arg)
{
	struct pair_ctx *c = arg;
	const unsigned char *a = sqlite3_column_text(q, 0), *b = sqlite3_column_text(q, 1);

	return c->cb(a != NULL ? (const char *)a : "", b != NULL ? (const char *)b : "", c->arg);
}

int store_digest_families(struct store *st, int64_t staff_id, store_pair_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DIGEST_FAMILIES);
	struct pair_ctx c = {cb, arg};

	if (q != NULL)
		sqlite3_bind_int64(q, 1, staff_id);
	return store_rows(q, read_pair, &c);
}

static const char SQL_ALERT_LIST_OPEN[] =
	SELECT_ALERT "WHERE a.acked_at IS NULL ORDER BY a.urgent DESC, a.created_at DESC LIMIT ?";
static const char SQL_ALERT_LIST_ALL[] = SELECT_ALERT "ORDER BY a.created_at DESC LIMIT ?";

int store_alert_list(struct store *st, int open_only, int limit, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, open_only ? SQL_ALERT_LIST_OPEN : SQL_ALERT_LIST_ALL);
	struct alert a;

	if (q != NULL)
		sqlite3_bind_int(q, 1, limit);
	return store_each(q, read_alert, &a, cb, arg);
}
