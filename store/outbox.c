/* Outbox rows and check-in plans: everything casebot will send is a row
 * first. */
#include <stdlib.h>
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
static const char SQL_OUTBOX_CANCEL_APPT_KIND[] =
	"UPDATE outbox SET status = 'cancelled', updated_at = ?1"
	" WHERE appointment_id = ?2 AND kind = ?3 AND status = 'queued'";
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
	sqlite3_bind_text(q, 9, m->params != NULL && m->params[0] != '\0' ? m->params : "{}", -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 10, m->urgent != 0);
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

int store_outbox_cancel_appointment_kind(struct store *st, int64_t appointment_id, const char *kind, time_t now)
{
	return cancel(st, SQL_OUTBOX_CANCEL_APPT_KIND, appointment_id, kind, now);
}

int store_outbox_cancel_request(struct store *st, int64_t request_id, time_t now)
{
	return cancel(st, SQL_OUTBOX_CANCEL_REQ, request_id, NULL, now);
}

int store_outbox_cancel_kind(struct store *st, int64_t family_id, const char *kind, time_t now)
{
	return cancel(st, SQL_OUTBOX_CANCEL_KIND, family_id, kind, now);
}

void store_outbox_msg_free(struct outbox_msg *m)
{
	free((char *)m->params);
	m->params = NULL;
}

int store_outbox_msg_copy(struct outbox_msg *dst, const struct outbox_msg *src)
{
	*dst = *src;
	dst->params = strdup(src->params != NULL ? src->params : "{}");
	return dst->params != NULL ? 0 : -CB_ENOMEM;
}

/* Reads a row into m, with a heap copy of its params. */
static int read_outbox(sqlite3_stmt *q, void *arg)
{
	struct outbox_msg *m = arg;
	const unsigned char *params;
	char *copy;

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
	params = sqlite3_column_text(q, 9);
	if ((copy = strdup(params != NULL ? (const char *)params : "{}")) == NULL)
		return -CB_ENOMEM;
	m->params = copy;
	m->urgent = sqlite3_column_int(q, 10);
	m->not_before = (time_t)sqlite3_column_int64(q, 11);
	m->expires_at = (time_t)sqlite3_column_int64(q, 12);
	store_col_text(q, 13, m->status, sizeof(m->status));
	m->attempts = sqlite3_column_int(q, 14);
	return 0;
}

/* Each row of q to cb, its params lent for the call and freed after. */
struct each_outbox {
	struct outbox_msg m;
	store_each_cb cb;
	void *arg;
};

static int lend_outbox(sqlite3_stmt *q, void *arg)
{
	struct each_outbox *e = arg;
	int rc = read_outbox(q, &e->m);

	if (rc == 0)
		rc = e->cb(&e->m, e->arg);
	store_outbox_msg_free(&e->m);
	return rc;
}

static int each_outbox(sqlite3_stmt *q, store_each_cb cb, void *arg)
{
	struct each_outbox e = {{0}, cb, arg};

	return store_rows(q, lend_outbox, &e);
}

/* One row of q into m; m is cleared first, so freeing it is always safe. */
static int one_outbox(sqlite3_stmt *q, struct outbox_msg *m)
{
	memset(m, 0, sizeof(*m));
	return store_row(q, read_outbox, m);
}

int store_outbox_each_family(struct store *st, int64_t family_id, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_FAMILY);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return each_outbox(q, cb, arg);
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

/* The dispatcher's side. A row it cannot deliver (no chat its family or
 * staff member can be reached on) is parked by the dispatcher and leaves
 * the due walk until a chat of theirs is added or changes. */
#define SELECT_OUTBOX_O \
	"SELECT o.id, o.family_id, o.member_id, o.staff_id, o.channel_id, o.appointment_id," \
	" o.request_id, o.kind, o.catalog_key, o.params, o.urgent, o.not_before, o.expires_at," \
	" o.status, o.attempts FROM outbox o "
/* The due rows after a cursor, urgent ones first, each part in the order
 * of the outbox_queue index: the index is walked, nothing is sorted, and
 * the walk stops at the first row not due yet. */
static const char SQL_OUTBOX_DUE[] =
	SELECT_OUTBOX_O "WHERE o.status = 'queued' AND o.parked_at IS NULL AND o.urgent = ?1 AND o.not_before <= ?2"
	" AND (o.not_before, o.id) > (?3, ?4) ORDER BY o.not_before, o.id LIMIT ?5";
static const char SQL_OUTBOX_NEXT[] =
	"SELECT o.not_before FROM outbox o WHERE o.status = 'queued' AND o.parked_at IS NULL AND o.urgent = ?1"
	" AND o.not_before > ?2 ORDER BY o.not_before LIMIT 1";
static const char SQL_OUTBOX_NEXT_EXPIRY[] =
	"SELECT o.expires_at FROM outbox o INDEXED BY outbox_expiry WHERE o.status = 'queued'"
	" AND o.expires_at IS NOT NULL ORDER BY o.expires_at LIMIT 1";
static const char SQL_OUTBOX_PARK[] =
	"UPDATE outbox SET parked_at = ?1 WHERE id = ?2 AND status = 'queued'";
static const char SQL_OUTBOX_GET[] = SELECT_OUTBOX_O "WHERE o.id = ?";
static const char SQL_OUTBOX_EXPIRE[] =
	"UPDATE outbox INDEXED BY outbox_expiry SET status = 'expired', updated_at = ?1 WHERE status = 'queued'"
	" AND expires_at IS NOT NULL AND expires_at <= ?1";
static const char SQL_OUTBOX_ASSIGN[] =
	"UPDATE outbox SET channel_id = ?1, updated_at = ?2 WHERE id = ?3 AND status = 'queued'";
static const char SQL_OUTBOX_CLONE[] =
	"INSERT INTO outbox (family_id, member_id, staff_id, channel_id, appointment_id, request_id,"
	" kind, catalog_key, params, urgent, not_before, expires_at, created_at, updated_at)"
	" SELECT family_id, member_id, staff_id, ?1, appointment_id, request_id, kind, catalog_key,"
	" params, urgent, not_before, expires_at, created_at, ?2 FROM outbox WHERE id = ?3";
static const char SQL_OUTBOX_CLAIM[] =
	"UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?1"
	" WHERE id = ?2 AND status = 'queued'";
static const char SQL_OUTBOX_SENT[] =
	"UPDATE outbox SET status = 'sent', gateway_message_id = ?1, last_error = NULL,"
	" updated_at = ?2 WHERE id = ?3 AND status = 'sending'";
static const char SQL_OUTBOX_RETRY[] =
	"UPDATE outbox SET status = 'queued', not_before = ?1, last_error = ?2, updated_at = ?3"
	" WHERE id = ?4 AND status = 'sending'";
static const char SQL_OUTBOX_GIVE_UP[] =
	"UPDATE outbox SET give_up_at = coalesce(give_up_at, ?1) WHERE id = ?2 RETURNING give_up_at";
static const char SQL_OUTBOX_FINISH[] =
	"UPDATE outbox SET status = ?1, last_error = ?2, updated_at = ?3"
	" WHERE id = ?4 AND status IN ('queued', 'sending')";
static const char SQL_OUTBOX_POSTPONE[] =
	"UPDATE outbox SET not_before = ?1, updated_at = ?2 WHERE id = ?3 AND status = 'queued'";
static const char SQL_OUTBOX_REQUEUE[] =
	"UPDATE outbox SET status = 'queued', updated_at = ?1 WHERE status = 'sending'";
static const char SQL_OUTBOX_DEPTH[] =
	"SELECT count(*), coalesce(min(not_before), 0) FROM outbox WHERE status = 'queued'"
	" AND not_before <= ?1";

int store_outbox_each_due(struct store *st, time_t now, const struct outbox_cursor *after, int limit,
			  store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_DUE);

	if (q != NULL) {
		sqlite3_bind_int(q, 1, after->urgent != 0);
		sqlite3_bind_int64(q, 2, now);
		sqlite3_bind_int64(q, 3, after->not_before);
		sqlite3_bind_int64(q, 4, after->id);
		sqlite3_bind_int(q, 5, limit);
	}
	return each_outbox(q, cb, arg);
}

static int read_min(sqlite3_stmt *q, void *arg)
{
	if (sqlite3_column_type(q, 0) == SQLITE_NULL)
		return -CB_ENOENT;
	*(time_t *)arg = (time_t)sqlite3_column_int64(q, 0);
	return 0;
}

int store_outbox_next_due(struct store *st, time_t after, time_t *t)
{
	time_t each[2];
	int rc[2];

	for (int urgent = 0; urgent < 2; urgent++) {
		sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_NEXT);

		if (q != NULL) {
			sqlite3_bind_int(q, 1, urgent);
			sqlite3_bind_int64(q, 2, after);
		}
		rc[urgent] = store_row(q, read_min, &each[urgent]);
		if (rc[urgent] != 0 && rc[urgent] != -CB_ENOENT)
			return rc[urgent];
	}
	if (rc[0] != 0 && rc[1] != 0)
		return -CB_ENOENT;
	*t = rc[0] != 0 ? each[1] : rc[1] != 0 ? each[0] : each[0] < each[1] ? each[0] : each[1];
	return 0;
}

int store_outbox_next_expiry(struct store *st, time_t *t)
{
	return store_row(store_stmt(st, SQL_OUTBOX_NEXT_EXPIRY), read_min, t);
}

int store_outbox_get(struct store *st, int64_t id, struct outbox_msg *m)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_GET);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return one_outbox(q, m);
}

int store_outbox_expire(struct store *st, time_t now, int *count)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_EXPIRE);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	rc = store_exec_stmt(q);
	if (rc == 0 && count != NULL)
		*count = sqlite3_changes(store_db(st));
	return rc;
}

/* Runs a state change and reports -CB_ESTATE when the row was not in the
 * state the statement expects: delivery states only move forward. */
static int change(struct store *st, sqlite3_stmt *q)
{
	int rc = store_exec_stmt(q);

	if (rc == 0 && sqlite3_changes(store_db(st)) == 0)
		return -CB_ESTATE;
	return rc;
}

int store_outbox_park(struct store *st, int64_t id, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_PARK);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, id);
	return change(st, q);
}

int store_outbox_assign(struct store *st, int64_t id, int64_t channel_id, time_t now)
{
	return store_change3(st, SQL_OUTBOX_ASSIGN, channel_id, now, id);
}

int store_outbox_clone_for(struct store *st, int64_t id, int64_t channel_id, time_t now)
{
	return store_change3(st, SQL_OUTBOX_CLONE, channel_id, now, id);
}

int store_outbox_claim(struct store *st, int64_t id, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_CLAIM);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, id);
	return change(st, q);
}

int store_outbox_sent(struct store *st, int64_t id, const char *gateway_message_id, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_SENT);

	if (q == NULL)
		return -CB_ESTORE;
	store_bind_opt_text(q, 1, gateway_message_id);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int64(q, 3, id);
	return change(st, q);
}

int store_outbox_retry(struct store *st, int64_t id, time_t not_before, const char *error, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_RETRY);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, not_before);
	store_bind_opt_text(q, 2, error);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_int64(q, 4, id);
	return change(st, q);
}

static int read_time(sqlite3_stmt *q, void *arg)
{
	*(time_t *)arg = (time_t)sqlite3_column_int64(q, 0);
	return 0;
}

int store_outbox_give_up_at(struct store *st, int64_t id, time_t proposed, time_t *at)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_GIVE_UP);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, proposed);
	sqlite3_bind_int64(q, 2, id);
	return store_row(q, read_time, at);
}

int store_outbox_finish(struct store *st, int64_t id, const char *status, const char *error, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_FINISH);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
	store_bind_opt_text(q, 2, error);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_int64(q, 4, id);
	return change(st, q);
}

int store_outbox_postpone(struct store *st, int64_t id, time_t not_before, time_t now)
{
	return store_change3(st, SQL_OUTBOX_POSTPONE, not_before, now, id);
}

int store_outbox_requeue_sending(struct store *st, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_REQUEUE);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	return store_exec_stmt(q);
}

static int read_depth(sqlite3_stmt *q, void *arg)
{
	int64_t *v = arg;

	v[0] = sqlite3_column_int64(q, 0);
	v[1] = sqlite3_column_int64(q, 1);
	return 0;
}

int store_outbox_depth(struct store *st, time_t now, int64_t *depth, time_t *oldest_due)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_DEPTH);
	int64_t v[2] = {0, 0};
	int rc;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, now);
	rc = store_row(q, read_depth, v);
	*depth = v[0];
	*oldest_due = (time_t)v[1];
	return rc;
}

static const char SQL_OUTBOX_COUNT_SINCE[] =
	"SELECT count(*) FROM outbox WHERE family_id = ?1 AND kind = ?2 AND created_at >= ?3";

int store_outbox_count_since(struct store *st, int64_t family_id, const char *kind, time_t since, int *count)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_COUNT_SINCE);

	if (q != NULL) {
		sqlite3_bind_int64(q, 1, family_id);
		sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, since);
	}
	return store_row(q, store_read_int, count);
}

static const char SQL_OUTBOX_REQUEST_WAITING[] =
	"SELECT count(*) FROM outbox WHERE request_id = ?1 AND kind = ?2 AND status = 'queued'"
	" AND not_before > ?3";

int store_outbox_request_waiting(struct store *st, int64_t request_id, const char *kind, time_t now, int *count)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_REQUEST_WAITING);

	if (q != NULL) {
		sqlite3_bind_int64(q, 1, request_id);
		sqlite3_bind_text(q, 2, kind, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, now);
	}
	return store_row(q, store_read_int, count);
}

static const char SQL_OUTBOX_REQUEST_LAST_ASK[] =
	SELECT_OUTBOX_O "WHERE o.request_id = ?1 AND o.kind IN ('document_request', 'document_rejected')"
	" AND (o.status IN ('queued', 'sending') OR o.channel_id = ?2) ORDER BY o.id DESC LIMIT 1";

int store_outbox_request_last_ask(struct store *st, int64_t request_id, int64_t channel_id, struct outbox_msg *m)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_REQUEST_LAST_ASK);

	if (q != NULL) {
		sqlite3_bind_int64(q, 1, request_id);
		sqlite3_bind_int64(q, 2, channel_id);
	}
	return store_row(q, read_outbox, m);
}

static const char SQL_OUTBOX_LAST_AUTO[] =
	SELECT_OUTBOX_O "WHERE o.channel_id = ?1 AND o.kind IN ('reminder', 'checkin', 'document_request',"
	" 'document_reminder', 'document_rejected', 'appointment_notice')"
	" AND o.status IN ('sent', 'delivered', 'read') ORDER BY o.updated_at DESC, o.id DESC LIMIT 1";
static const char SQL_OUTBOX_BY_GATEWAY_ID[] =
	SELECT_OUTBOX_O "WHERE o.channel_id = ?1 AND o.kind = 'forward' AND (o.gateway_message_id = ?2"
	" OR o.id IN (SELECT outbox_id FROM outbox_parts WHERE gateway_message_id = ?2))"
	" ORDER BY o.id DESC LIMIT 1";
static const char SQL_OUTBOX_PART[] =
	"INSERT INTO outbox_parts (outbox_id, gateway_message_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING";

int store_outbox_last_auto(struct store *st, int64_t channel_id, struct outbox_msg *m)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_LAST_AUTO);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, channel_id);
	return one_outbox(q, m);
}

int store_outbox_find_forward(struct store *st, int64_t staff_channel_id, const char *gateway_message_id,
			      struct outbox_msg *m)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_BY_GATEWAY_ID);

	if (q != NULL) {
		sqlite3_bind_int64(q, 1, staff_channel_id);
		sqlite3_bind_text(q, 2, gateway_message_id, -1, SQLITE_STATIC);
	}
	return one_outbox(q, m);
}

struct gateway_id {
	char *buf;
	size_t cap;
};

static int read_gateway_id(sqlite3_stmt *q, void *arg)
{
	struct gateway_id *g = arg;
	const unsigned char *id = sqlite3_column_text(q, 0);

	if (id == NULL || id[0] == '\0')
		return -CB_ENOENT;
	return cb_strlcpy(g->buf, (const char *)id, g->cap);
}

int store_outbox_gateway_id(struct store *st, int64_t id, char *buf, size_t cap)
{
	static const char sql[] = "SELECT gateway_message_id FROM outbox WHERE id = ?1";
	sqlite3_stmt *q = store_stmt(st, sql);
	struct gateway_id g = {buf, cap};

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_gateway_id, &g);
}

int store_outbox_part(struct store *st, int64_t id, const char *gateway_message_id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_OUTBOX_PART);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_text(q, 2, gateway_message_id, -1, SQLITE_STATIC);
	return store_exec_stmt(q);
}

/* ---- messages to staff that wait for a conversation window ---------------- */

static const char SQL_WINDOW_HOLD[] =
	"UPDATE outbox SET window_held_at = coalesce(window_held_at, ?2) WHERE id = ?1"
	" RETURNING window_held_at, window_alerted_at IS NOT NULL";
static const char SQL_WINDOW_WAIT[] =
	"UPDATE outbox SET status = 'queued', not_before = ?2, last_error = ?3, updated_at = ?4,"
	" window_held_at = coalesce(window_held_at, ?4),"
	" window_alerted_at = CASE WHEN ?5 THEN coalesce(window_alerted_at, ?4) ELSE window_alerted_at END"
	" WHERE id = ?1 AND status IN ('queued', 'sending')";
/* The newest nudge of the chat since it last wrote. */
static const char SQL_WINDOW_NUDGE[] =
	"SELECT status FROM outbox INDEXED BY outbox_window_nudge"
	" WHERE channel_id = ?1 AND kind = 'window_nudge' AND created_at >= ?2 ORDER BY created_at DESC, id DESC LIMIT 1";
static const char SQL_WINDOW_HELD[] =
	"SELECT id, family_id, member_id, staff_id, channel_id, appointment_id, request_id, kind,"
	" catalog_key, params, urgent, not_before, expires_at, status, attempts"
	" FROM outbox INDEXED BY outbox_window_held WHERE channel_id = ?1 AND status = 'queued'"
	" AND window_held_at IS NOT NULL AND window_alerted_at IS NULL ORDER BY id";

struct window_hold {
	time_t held_at;
	int alerted;
};

static int read_hold(sqlite3_stmt *q, void *arg)
{
	struct window_hold *h = arg;

	h->held_at = (time_t)sqlite3_column_int64(q, 0);
	h->alerted = sqlite3_column_int(q, 1);
	return 0;
}

int store_outbox_window_hold(struct store *st, int64_t id, time_t now, time_t *held_at, int *alerted)
{
	sqlite3_stmt *q = store_stmt(st, SQL_WINDOW_HOLD);
	struct window_hold h = {now, 0};
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, now);
	rc = store_row(q, read_hold, &h);
	*held_at = h.held_at;
	*alerted = h.alerted;
	return rc;
}

int store_outbox_window_wait(struct store *st, int64_t id, time_t not_before, int alerted, const char *why,
			     time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_WINDOW_WAIT);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, not_before);
	store_bind_opt_text(q, 3, why);
	sqlite3_bind_int64(q, 4, now);
	sqlite3_bind_int(q, 5, alerted != 0);
	return change(st, q);
}

static int read_nudge(sqlite3_stmt *q, void *arg)
{
	const unsigned char *s = sqlite3_column_text(q, 0);
	int *state = arg;

	*state = s != NULL && (strcmp((const char *)s, "failed") == 0 || strcmp((const char *)s, "expired") == 0 ||
			       strcmp((const char *)s, "cancelled") == 0)
			 ? STORE_NUDGE_FAILED
			 : STORE_NUDGE_LIVE;
	return 0;
}

int store_outbox_window_nudge(struct store *st, int64_t channel_id, time_t since, int *state)
{
	sqlite3_stmt *q = store_stmt(st, SQL_WINDOW_NUDGE);
	int rc;

	*state = STORE_NUDGE_NONE;
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, channel_id);
	sqlite3_bind_int64(q, 2, since);
	rc = store_row(q, read_nudge, state);
	return rc == -CB_ENOENT ? 0 : rc;
}

int store_outbox_each_window_held(struct store *st, int64_t channel_id, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_WINDOW_HELD);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, channel_id);
	return each_outbox(q, cb, arg);
}
