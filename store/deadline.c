/* What the periodic checks look for: appointments still unconfirmed
 * ack_deadline after their first reminder, documents past their due date, check-ins left unanswered.
 * Each is alerted once; the mark says so. */
#include <string.h>

#include "store/store.h"

/* ack_deadline (?2) after the first reminder sent, or halfway from it to
 * the start when that comes sooner, so that the counsellor still hears of
 * it in time. */
static const char SQL_UNCONFIRMED[] =
	"SELECT a.id, a.family_id, f.counsellor_id, a.starts_at, a.kind FROM appointments a"
	" JOIN families f ON f.id = a.family_id WHERE f.status <> 'closed' AND a.status = 'scheduled'"
	" AND a.unconfirmed_alerted_at IS NULL AND a.reminded_at IS NOT NULL AND a.starts_at > ?1"
	" AND a.reminded_at + min(?2, (a.starts_at - a.reminded_at) / 2) <= ?1";
static const char SQL_OVERDUE[] =
	"SELECT r.id, r.family_id, f.counsellor_id, 0, r.doc_type FROM document_requests r"
	" JOIN families f ON f.id = r.family_id WHERE f.status <> 'closed' AND r.status = 'open'"
	" AND r.overdue_alerted_at IS NULL AND r.due_date IS NOT NULL AND r.due_date < ?1";
static const char SQL_UNANSWERED[] =
	"SELECT p.family_id, p.family_id, f.counsellor_id, p.last_sent_at, 'checkin' FROM checkin_plans p"
	" JOIN families f ON f.id = p.family_id WHERE f.status <> 'closed' AND p.active = 1"
	" AND p.last_sent_at IS NOT NULL AND p.last_sent_at <= ?1 - ?2"
	" AND (p.last_answer_at IS NULL OR p.last_answer_at < p.last_sent_at)"
	" AND (p.no_answer_alerted_at IS NULL OR p.no_answer_alerted_at < p.last_sent_at)";
static const char SQL_MARK_APPT[] = "UPDATE appointments SET unconfirmed_alerted_at = ?1 WHERE id = ?2";
static const char SQL_MARK_REQ[] = "UPDATE document_requests SET overdue_alerted_at = ?1 WHERE id = ?2";
static const char SQL_MARK_PLAN_ALERT[] = "UPDATE checkin_plans SET no_answer_alerted_at = ?1 WHERE family_id = ?2";
static const char SQL_MARK_PLAN_SENT[] = "UPDATE checkin_plans SET last_sent_at = ?1 WHERE family_id = ?2";
static const char SQL_MARK_PLAN_ANSWER[] = "UPDATE checkin_plans SET last_answer_at = ?1 WHERE family_id = ?2";

static int read_deadline(sqlite3_stmt *q, void *arg)
{
	struct deadline *d = arg;

	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(q, 0);
	d->family_id = sqlite3_column_int64(q, 1);
	d->staff_id = sqlite3_column_int64(q, 2);
	d->at = (time_t)sqlite3_column_int64(q, 3);
	store_col_text(q, 4, d->what, sizeof(d->what));
	return 0;
}

int store_deadlines_each(struct store *st, enum deadline_kind kind, time_t now, int64_t window,
			 const char *today, store_each_cb cb, void *arg)
{
	static const char *const sql[] = {SQL_UNCONFIRMED, SQL_OVERDUE, SQL_UNANSWERED};
	sqlite3_stmt *q = store_stmt(st, sql[kind]);
	struct deadline d;

	if (q == NULL)
		return -CB_ESTORE;
	if (kind == DEADLINE_OVERDUE) {
		sqlite3_bind_text(q, 1, today, -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_int64(q, 1, now);
		sqlite3_bind_int64(q, 2, window);
	}
	return store_each(q, read_deadline, &d, cb, arg);
}

static int mark(struct store *st, const char *sql, int64_t id, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, sql);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, id);
	return store_exec_stmt(q);
}

int store_deadline_mark(struct store *st, enum deadline_kind kind, int64_t id, time_t now)
{
	static const char *const sql[] = {SQL_MARK_APPT, SQL_MARK_REQ, SQL_MARK_PLAN_ALERT};

	return mark(st, sql[kind], id, now);
}

int store_checkin_sent(struct store *st, int64_t family_id, time_t now)
{
	return mark(st, SQL_MARK_PLAN_SENT, family_id, now);
}

int store_checkin_answered(struct store *st, int64_t family_id, time_t now)
{
	return mark(st, SQL_MARK_PLAN_ANSWER, family_id, now);
}
