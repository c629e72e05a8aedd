/* The console's overview lists. Each walks an index: the per-family ones
 * read two or three index entries per open family, the others only the
 * rows they list. */
#include <string.h>

#include "store/store.h"

#define FAMILY_COLS "f.id, f.ref, f.counsellor_id, coalesce(f.backup_id, 0), coalesce(s.name, '')"
#define FAMILY_JOIN " JOIN staff s ON s.id = f.counsellor_id"
/* What a family writes that a counsellor is meant to answer. */
#define MESSAGE_KINDS "('text', 'voice', 'audio', 'photo', 'video', 'sticker', 'location', 'contact', 'edited')"
#define MESSAGE_VALUES "(VALUES ('text'), ('voice'), ('audio'), ('photo'), ('video'), ('sticker'), ('location'), ('contact')," \
		       " ('edited'))"

static const char *const sql[OVERVIEW_NLISTS] = {
	[OVERVIEW_NOT_REACHED] =
		"SELECT * FROM (SELECT " FAMILY_COLS ","
		" (SELECT max(c.at) FROM contact_log c WHERE c.family_id = f.id AND c.direction = 'in') AS last_in,"
		" (SELECT max(c.at) FROM contact_log c WHERE c.family_id = f.id AND c.direction = 'out') AS last_out,"
		" 0, '', '', '' FROM families f" FAMILY_JOIN " WHERE f.status = 'active')"
		" WHERE last_in IS NULL OR last_in < ?1 ORDER BY coalesce(last_in, 0), 2",
	/* The first family message after the last reply: one seek per kind
	 * of message in (family, kind, at), rather than a walk over every
	 * row the family sent since that reply (check-in answers, buttons),
	 * which is what the planner picks by itself. */
	[OVERVIEW_UNANSWERED] =
		"SELECT * FROM (SELECT " FAMILY_COLS ","
		" (SELECT min((SELECT c.at FROM contact_log c INDEXED BY contact_log_kind WHERE c.family_id = f.id"
		"  AND c.kind = k.column1 AND c.direction = 'in' AND c.at > coalesce((SELECT max(r.at)"
		"  FROM contact_log r WHERE r.family_id = f.id AND r.kind = 'reply'), 0) ORDER BY c.at LIMIT 1))"
		"  FROM " MESSAGE_VALUES " k) AS first,"
		" 0, 0, '', '', '' FROM families f" FAMILY_JOIN " WHERE f.status != 'closed')"
		" WHERE first IS NOT NULL ORDER BY first",
	[OVERVIEW_UNCONFIRMED] =
		"SELECT " FAMILY_COLS ", a.starts_at, 0, a.id, a.kind, '', '' FROM appointments a"
		" JOIN families f ON f.id = a.family_id" FAMILY_JOIN
		" WHERE a.status = 'scheduled' AND a.starts_at BETWEEN ?1 AND ?2 AND a.reminded_at IS NOT NULL"
		" AND a.answered_at IS NULL ORDER BY a.starts_at",
	[OVERVIEW_OVERDUE] =
		"SELECT " FAMILY_COLS ", r.created_at, 0, r.id, r.doc_type, '', r.due_date FROM document_requests r"
		" JOIN families f ON f.id = r.family_id" FAMILY_JOIN
		" WHERE r.status = 'open' AND r.due_date IS NOT NULL AND r.due_date < ?3 AND f.status != 'closed'"
		" ORDER BY r.due_date",
	[OVERVIEW_ALERTS] =
		"SELECT " FAMILY_COLS ", a.created_at, a.urgent, a.id, a.kind, coalesce(a.params, ''), ''"
		" FROM alerts a JOIN families f ON f.id = a.family_id" FAMILY_JOIN
		" WHERE a.acked_at IS NULL AND (a.group_id IS NULL OR a.group_id = a.id)"
		" ORDER BY a.urgent DESC, a.created_at",
	[OVERVIEW_BLOCKED] =
		"SELECT " FAMILY_COLS ", coalesce(c.last_inbound_at, 0), CASE WHEN c.blocked THEN 1 ELSE 2 END, c.id,"
		" c.kind, '', '' FROM channels c JOIN families f ON f.id = c.family_id" FAMILY_JOIN
		" WHERE (c.blocked = 1 OR c.opted_out = 1) AND f.status != 'closed' ORDER BY f.ref",
	[OVERVIEW_NO_CHANNEL] =
		"SELECT " FAMILY_COLS ", f.created_at, 0, 0, '', '', '' FROM families f" FAMILY_JOIN
		" WHERE f.status = 'active' AND NOT EXISTS (SELECT 1 FROM channels c WHERE c.family_id = f.id"
		" AND c.verified = 1 AND c.blocked = 0 AND c.opted_out = 0) ORDER BY f.created_at",
};

static int read_row(sqlite3_stmt *q, void *arg)
{
	struct overview_row *r = arg;

	memset(r, 0, sizeof(*r));
	r->family_id = sqlite3_column_int64(q, 0);
	store_col_text(q, 1, r->ref, sizeof(r->ref));
	r->counsellor_id = sqlite3_column_int64(q, 2);
	r->backup_id = sqlite3_column_int64(q, 3);
	store_col_text(q, 4, r->counsellor, sizeof(r->counsellor));
	r->at = (time_t)sqlite3_column_int64(q, 5);
	r->flag = sqlite3_column_int(q, 6);
	r->object_id = sqlite3_column_int64(q, 7);
	store_col_text(q, 8, r->what, sizeof(r->what));
	store_col_text(q, 9, r->params, sizeof(r->params));
	store_col_text(q, 10, r->day, sizeof(r->day));
	return 0;
}

/* Not reached: the sixth column is when the family last wrote, the
 * seventh when it was last written to; the flag says whether that was
 * after. */
static int read_reach(sqlite3_stmt *q, void *arg)
{
	struct overview_row *r = arg;
	int64_t last_in = sqlite3_column_int64(q, 5), last_out = sqlite3_column_int64(q, 6);

	read_row(q, arg);
	r->at = (time_t)last_in;
	r->flag = last_out > last_in;
	r->object_id = 0;
	return 0;
}

int store_overview_each(struct store *st, enum overview_list list, time_t a, time_t b, const char *date,
			store_each_cb cb, void *arg)
{
	struct overview_row r;
	sqlite3_stmt *q;

	if ((unsigned)list >= OVERVIEW_NLISTS)
		return -CB_EINVAL;
	if ((q = store_stmt(st, sql[list])) == NULL)
		return -CB_ESTORE;
	if (list == OVERVIEW_NOT_REACHED || list == OVERVIEW_UNCONFIRMED)
		sqlite3_bind_int64(q, 1, a);
	if (list == OVERVIEW_UNCONFIRMED)
		sqlite3_bind_int64(q, 2, b);
	if (list == OVERVIEW_OVERDUE)
		sqlite3_bind_text(q, 3, date != NULL ? date : "", -1, SQLITE_STATIC);
	return store_each(q, list == OVERVIEW_NOT_REACHED ? read_reach : read_row, &r, cb, arg);
}

static const char SQL_CASELOAD[] =
	"SELECT s.id, s.name, s.role = 'coordinator', s.away,"
	" (SELECT count(*) FROM families f WHERE f.counsellor_id = s.id AND f.status != 'closed'),"
	" (SELECT count(*) FROM families f WHERE f.backup_id = s.id AND f.status != 'closed'),"
	" (SELECT count(*) FROM alerts a WHERE a.staff_id = s.id AND a.acked_at IS NULL)"
	" FROM staff s WHERE s.active = 1 ORDER BY s.name";

static int read_caseload(sqlite3_stmt *q, void *arg)
{
	struct caseload_row *r = arg;

	memset(r, 0, sizeof(*r));
	r->staff_id = sqlite3_column_int64(q, 0);
	store_col_text(q, 1, r->name, sizeof(r->name));
	r->role = sqlite3_column_int(q, 2) ? ROLE_COORDINATOR : ROLE_COUNSELLOR;
	r->away = sqlite3_column_int(q, 3);
	r->families = sqlite3_column_int(q, 4);
	r->backups = sqlite3_column_int(q, 5);
	r->open_alerts = sqlite3_column_int(q, 6);
	return 0;
}

int store_caseload_each(struct store *st, store_each_cb cb, void *arg)
{
	struct caseload_row r;

	return store_each(store_stmt(st, SQL_CASELOAD), read_caseload, &r, cb, arg);
}

/* Per family of the counsellor, through contact_log(family_id, direction, at). */
static const char SQL_WEEKS[] =
	"SELECT (c.at - ?2) / 604800, c.direction = 'in', count(*) FROM families f"
	" JOIN contact_log c ON c.family_id = f.id AND c.direction IN ('in', 'out') AND c.at >= ?2"
	" WHERE f.counsellor_id = ?1 GROUP BY 1, 2";

struct weeks {
	int weeks;
	int *in, *out;
};

static int read_week(sqlite3_stmt *q, void *arg)
{
	struct weeks *w = arg;
	int64_t i = sqlite3_column_int64(q, 0);

	if (i >= 0 && i < w->weeks)
		(sqlite3_column_int(q, 1) ? w->in : w->out)[i] += sqlite3_column_int(q, 2);
	return 0;
}

int store_caseload_weeks(struct store *st, int64_t staff_id, time_t since, int weeks, int *in, int *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_WEEKS);
	struct weeks w = {weeks, in, out};

	memset(in, 0, sizeof(*in) * (size_t)weeks);
	memset(out, 0, sizeof(*out) * (size_t)weeks);
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, staff_id);
	sqlite3_bind_int64(q, 2, since);
	return store_rows(q, read_week, &w);
}

static const char SQL_ANSWER_TIMES[] =
	"SELECT * FROM (SELECT (SELECT min(r.at) FROM contact_log r WHERE r.family_id = c.family_id"
	"  AND r.kind = 'reply' AND r.at >= c.at) - c.at AS wait FROM families f"
	" JOIN contact_log c ON c.family_id = f.id AND c.direction = 'in' AND c.at >= ?2"
	" AND c.kind IN " MESSAGE_KINDS " WHERE f.counsellor_id = ?1)"
	" WHERE wait IS NOT NULL ORDER BY wait";

struct times {
	int64_t *secs;
	int cap, n;
};

static int read_time(sqlite3_stmt *q, void *arg)
{
	struct times *t = arg;

	if (t->n < t->cap)
		t->secs[t->n++] = sqlite3_column_int64(q, 0);
	return 0;
}

int store_caseload_answer_times(struct store *st, int64_t staff_id, time_t since, int64_t *secs, int cap, int *n)
{
	sqlite3_stmt *q = store_stmt(st, SQL_ANSWER_TIMES);
	struct times t = {secs, cap, 0};
	int rc;

	*n = 0;
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, staff_id);
	sqlite3_bind_int64(q, 2, since);
	rc = store_rows(q, read_time, &t);
	*n = t.n;
	return rc;
}
