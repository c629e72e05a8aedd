/* The console's overview lists. Each walks an index: the per-family ones
 * read two or three index entries per open family, the others only the
 * rows they list. */
#include <string.h>

#include "store/store.h"

#define FAMILY_COLS "f.id, f.ref, f.counsellor_id, coalesce(f.backup_id, 0), coalesce(s.name, '')"
#define FAMILY_JOIN " JOIN staff s ON s.id = f.counsellor_id"
/* What a family writes that a counsellor is meant to answer. */
#define MESSAGE_KINDS "('text', 'voice', 'audio', 'photo', 'video', 'sticker', 'location', 'contact', 'edited')"

static const char *const sql[OVERVIEW_NLISTS] = {
	[OVERVIEW_NOT_REACHED] =
		"SELECT * FROM (SELECT " FAMILY_COLS ","
		" (SELECT max(c.at) FROM contact_log c WHERE c.family_id = f.id AND c.direction = 'in') AS last_in,"
		" (SELECT max(c.at) FROM contact_log c WHERE c.family_id = f.id AND c.direction = 'out') AS last_out,"
		" 0, '', '', '' FROM families f" FAMILY_JOIN " WHERE f.status = 'active')"
		" WHERE last_in IS NULL OR last_in < ?1 ORDER BY coalesce(last_in, 0), 2",
	[OVERVIEW_UNANSWERED] =
		"SELECT * FROM (SELECT " FAMILY_COLS ","
		" (SELECT min(c.at) FROM contact_log c WHERE c.family_id = f.id AND c.direction = 'in'"
		"  AND c.kind IN " MESSAGE_KINDS " AND c.at > coalesce((SELECT max(r.at) FROM contact_log r"
		"  WHERE r.family_id = f.id AND r.kind = 'reply'), 0)) AS first,"
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
