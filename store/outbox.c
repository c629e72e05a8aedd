/* Outbox rows and check-in plans: everything casebot will send is a row
 * first. */
#include <string.h>

#include "store/store.h"

static const char SQL_OUTBOX_ADD[] =
	"INSERT INTO outbox (family_id, member_id, staff_id, channel_id, appointment_id, request_id,"
	" kind, catalog_key, params, urgent, not_before, expires_at, created_at, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)";
static const char SQL_OUTBOX_CANCEL_APPT[] =
	"UPDATE outbox SET status = 'cancelled', updated_at = ?1"
	" WHERE appointment_id = ?2 AND status = 'queued'";
static const char SQL_OUTBOX_CANCEL_REQ[] =
	"UPDATE outbox SET status = 'cancelled', updated_at = ?1"
	" WHERE request_id = ?2 AND status = 'queued'";
static const char SQL_OUTBOX_CANCEL_KIND[] =
	"UPDATE outbox SET status = 'cancelled', updated_at = ?1"
	" WHERE family_id = ?2 AND kind = ?3 AND status = 'queued'";
static const char SQL_OUTBOX_FAMILY[] =
	"SELECT id, family_id, member_id, staff_id, channel_id, appointment_id, request_id, kind,"
	" catalog_key, params, urgent, not_before, expires_at, status, attempts"
	" FROM outbox WHERE family_id = ? ORDER BY not_before, id";

int store_outbox_add(struct store *st, struct outbox_msg *m, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	store_bind_id(q, 1, m->family_id);
	store_bind_id(q, 2, m->member_id);
	store_bind_id(q, 3, m->staff_id);
	store_bind_id(q, 4, m->channel_id);
	store_bind_id(q, 5, m->appointment_id);
	store_bind_id(q, 6, m->request_id);
	sqlite3_bind_text(q, 7, m->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 8, m->catalog_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 9, m->params[0] != '\0' ? m->params : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 10, m->urgent);
	sqlite3_bind_int64(q, 11, m->not_before);
	store_bind_id(q, 12, m->expires_at);
	sqlite3_bind_int64(q, 13, now);
	rc = store_exec_stmt(q);
	if (rc == 0) {
		m->id = sqlite3_last_insert_rowid(store_db(st));
		cb_strlcpy(m->status, "queued", sizeof(m->status));
	}
	return rc;
}

static int cancel(struct store *st, const char *sql, int64_t id, const char *kind, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, sql);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, id);
	if (kind != NULL)
		sqlite3_bind_text(q, 3, kind, -1, SQLITE_STATIC);
	return store_exec_stmt(q);
}

int store_outbox_cancel_appointment(struct store *st, int64_t appointment_id, time_t now)
{
	return cancel(st, SQL_OUTBOX_CANCEL_APPT, appointment_id, NULL, now);
}

int store_outbox_cancel_request(struct store *st, int64_t request_id, time_t now)
{
	return cancel(st, SQL_OUTBOX_CANCEL_REQ, request_id, NULL, now);
}

int store_outbox_cancel_kind(struct store *st, int64_t family_id, const char *kind, time_t now)
{
	return cancel(st, SQL_OUTBOX_CANCEL_KIND, family_id, kind, now);
}

static int read_outbox(sqlite3_stmt *q, void *arg)
{
	struct outbox_msg *m = arg;

	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(q, 0);
	m->family_id = sqlite3_column_int64(q, 1);
	m->member_id = sqlite3_column_int64(q, 2);
	m->staff_id = sqlite3_column_int64(q, 3);
	m->channel_id = sqlite3_column_int64(q, 4);
	m->appointment_id = sqlite3_column_int64(q, 5);
	m->request_id = sqlite3_column_int64(q, 6);
	store_col_text(q, 7, m->kind, sizeof(m->kind));
	store_col_text(q, 8, m->catalog_key, sizeof(m->catalog_key));
	store_col_text(q, 9, m->params, sizeof(m->params));
	m->urgent = sqlite3_column_int(q, 10);
	m->not_before = (time_t)sqlite3_column_int64(q, 11);
	m->expires_at = (time_t)sqlite3_column_int64(q, 12);
	store_col_text(q, 13, m->status, sizeof(m->status));
	m->attempts = sqlite3_column_int(q, 14);
	return 0;
}

int store_outbox_each_family(struct store *st, int64_t family_id, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_FAMILY);
	struct outbox_msg m;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return store_each(q, read_outbox, &m, cb, arg);
}

static const char SQL_CHECKIN_SET[] =
	"INSERT INTO checkin_plans (family_id, every_days, weekday, minute_of_day, active, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, 1, ?5) ON CONFLICT (family_id) DO UPDATE SET"
	" every_days = ?2, weekday = ?3, minute_of_day = ?4, active = 1, updated_at = ?5";
static const char SQL_CHECKIN_GET[] =
	"SELECT family_id, every_days, weekday, minute_of_day, active FROM checkin_plans"
	" WHERE family_id = ?";
static const char SQL_CHECKIN_OFF[] =
	"UPDATE checkin_plans SET active = 0, updated_at = ?1 WHERE family_id = ?2 AND active = 1";

int store_checkin_set(struct store *st, const struct checkin_plan *p, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHECKIN_SET);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, p->family_id);
	sqlite3_bind_int(q, 2, p->every_days);
	sqlite3_bind_int(q, 3, p->weekday);
	sqlite3_bind_int(q, 4, p->minute_of_day);
	sqlite3_bind_int64(q, 5, now);
	return store_exec_stmt(q);
}

static int read_plan(sqlite3_stmt *q, void *arg)
{
	struct checkin_plan *p = arg;

	p->family_id = sqlite3_column_int64(q, 0);
	p->every_days = sqlite3_column_int(q, 1);
	p->weekday = sqlite3_column_int(q, 2);
	p->minute_of_day = sqlite3_column_int(q, 3);
	p->active = sqlite3_column_int(q, 4);
	return 0;
}

int store_checkin_get(struct store *st, int64_t family_id, struct checkin_plan *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHECKIN_GET);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return store_row(q, read_plan, out);
}

int store_checkin_off(struct store *st, int64_t family_id, time_t now)
{
	int rc = cancel(st, SQL_CHECKIN_OFF, family_id, NULL, now);

	if (rc == 0 && sqlite3_changes(store_db(st)) == 0)
		return -CB_ESTATE;
	return rc;
}
