/* Appointments and document requests: what families are reminded of. */
#include <string.h>

#include "store/store.h"

static const char *const appointment_kinds[] = {
	"home_visit", "lawyer", "immigration_office", "court",
	"school", "doctor", "social_service", "other",
};

static const char *const doc_types[] = {
	"passport", "id_card", "birth_certificate", "school_certificate",
	"medical_certificate", "lawyer_letter", "order_to_leave", "payslip",
	"lease", "other",
};

static int in_list(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return 1;
	return 0;
}

int store_appointment_kind_valid(const char *kind)
{
	return in_list(kind, appointment_kinds, CB_ARRAY_SIZE(appointment_kinds));
}

int store_doc_type_valid(const char *type)
{
	return in_list(type, doc_types, CB_ARRAY_SIZE(doc_types));
}

static const char SQL_APPT_ADD[] =
	"INSERT INTO appointments (family_id, member_id, kind, starts_at, place, created_at, updated_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
#define SELECT_APPT \
	"SELECT a.id, a.family_id, a.member_id, m.name, a.kind, a.starts_at, a.place, a.status," \
	" a.answered_at FROM appointments a LEFT JOIN members m ON m.id = a.member_id "
static const char SQL_APPT_GET[] = SELECT_APPT "WHERE a.id = ?";
static const char SQL_APPT_FAMILY[] = SELECT_APPT "WHERE a.family_id = ? ORDER BY a.starts_at, a.id";
static const char SQL_APPT_SET[] =
	"UPDATE appointments SET status = ?1, starts_at = ?2, answered_at = NULL, reminded_at = NULL,"
	" unconfirmed_alerted_at = NULL, calendar_seq = calendar_seq + 1, updated_at = ?3 WHERE id = ?4";
static const char SQL_APPT_REMINDED[] =
	"UPDATE appointments SET reminded_at = ?1 WHERE id = ?2 AND reminded_at IS NULL";

static int read_appt(sqlite3_stmt *q, void *arg)
{
	struct appointment *a = arg;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(q, 0);
	a->family_id = sqlite3_column_int64(q, 1);
	a->member_id = sqlite3_column_int64(q, 2);
	store_col_text(q, 3, a->member, sizeof(a->member));
	store_col_text(q, 4, a->kind, sizeof(a->kind));
	a->starts_at = (time_t)sqlite3_column_int64(q, 5);
	store_col_text(q, 6, a->place, sizeof(a->place));
	store_col_text(q, 7, a->status, sizeof(a->status));
	a->answered_at = (time_t)sqlite3_column_int64(q, 8);
	return 0;
}

int store_appointment_add(struct store *st, struct appointment *a, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_APPT_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, a->family_id);
	store_bind_id(q, 2, a->member_id);
	sqlite3_bind_text(q, 3, a->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, a->starts_at);
	store_bind_opt_text(q, 5, a->place);
	sqlite3_bind_int64(q, 6, now);
	rc = store_exec_stmt(q);
	if (rc == 0) {
		a->id = sqlite3_last_insert_rowid(store_db(st));
		cb_strlcpy(a->status, "scheduled", sizeof(a->status));
	}
	return rc;
}

int store_appointment_get(struct store *st, int64_t id, struct appointment *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_APPT_GET);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_appt, out);
}

int store_appointment_each(struct store *st, int64_t family_id, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_APPT_FAMILY);
	struct appointment a;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return store_each(q, read_appt, &a, cb, arg);
}

int store_appointment_reminded(struct store *st, int64_t id, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_APPT_REMINDED);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, id);
	return store_exec_stmt(q);
}

/* A new status or time clears the family's earlier answer, and the time
 * it has to give one starts again with the next reminder; the calendar
 * event's SEQUENCE goes up, so a phone takes the change. */
int store_appointment_set(struct store *st, int64_t id, const char *status, time_t starts_at, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_APPT_SET);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, starts_at);
	sqlite3_bind_int64(q, 3, now);
	sqlite3_bind_int64(q, 4, id);
	return store_exec_stmt(q);
}

static const char SQL_DOCREQ_ADD[] =
	"INSERT INTO document_requests (family_id, member_id, doc_type, due_date, note, created_at,"
	" updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)";
#define SELECT_DOCREQ \
	"SELECT r.id, r.family_id, r.member_id, r.doc_type, r.due_date, r.note, r.status, r.created_at," \
	" (SELECT count(*) FROM documents d WHERE d.request_id = r.id) FROM document_requests r "
static const char SQL_DOCREQ_FAMILY[] = SELECT_DOCREQ "WHERE r.family_id = ? ORDER BY r.id";
static const char SQL_DOCREQ_GET[] = SELECT_DOCREQ "WHERE r.id = ?";
static const char SQL_DOCREQ_STATUS[] =
	"UPDATE document_requests SET status = ?1, updated_at = ?2 WHERE id = ?3";

static int read_docreq(sqlite3_stmt *q, void *arg)
{
	struct doc_request *r = arg;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(q, 0);
	r->family_id = sqlite3_column_int64(q, 1);
	r->member_id = sqlite3_column_int64(q, 2);
	store_col_text(q, 3, r->doc_type, sizeof(r->doc_type));
	store_col_text(q, 4, r->due_date, sizeof(r->due_date));
	store_col_text(q, 5, r->note, sizeof(r->note));
	store_col_text(q, 6, r->status, sizeof(r->status));
	r->created_at = (time_t)sqlite3_column_int64(q, 7);
	r->documents = sqlite3_column_int(q, 8);
	return 0;
}

int store_docreq_add(struct store *st, struct doc_request *r, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DOCREQ_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, r->family_id);
	store_bind_id(q, 2, r->member_id);
	sqlite3_bind_text(q, 3, r->doc_type, -1, SQLITE_STATIC);
	store_bind_opt_text(q, 4, r->due_date);
	store_bind_opt_text(q, 5, r->note);
	sqlite3_bind_int64(q, 6, now);
	rc = store_exec_stmt(q);
	if (rc == 0) {
		r->id = sqlite3_last_insert_rowid(store_db(st));
		cb_strlcpy(r->status, "open", sizeof(r->status));
		r->created_at = now;
	}
	return rc;
}

int store_docreq_each(struct store *st, int64_t family_id, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DOCREQ_FAMILY);
	struct doc_request r;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return store_each(q, read_docreq, &r, cb, arg);
}

static const char SQL_APPT_ANSWER[] =
	"UPDATE appointments SET status = ?1, answered_at = ?2, updated_at = ?2 WHERE id = ?3"
	" AND status <> 'cancelled'";

int store_appointment_answer(struct store *st, int64_t id, const char *status, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_APPT_ANSWER);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int64(q, 3, id);
	return store_exec_stmt(q);
}

int store_docreq_get(struct store *st, int64_t id, struct doc_request *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DOCREQ_GET);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_docreq, out);
}

int store_docreq_set_status(struct store *st, int64_t id, const char *status, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DOCREQ_STATUS);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int64(q, 3, id);
	return store_exec_stmt(q);
}
