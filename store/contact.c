/* The contact log (what the family file shows) and the audit trail. */
#include <string.h>

#include "store/store.h"

static const char SQL_CONTACT_ADD[] =
	"INSERT INTO contact_log (family_id, at, direction, channel_kind, kind, staff_id, member_id,"
	" summary, params, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
static const char SQL_CONTACT_LIST[] =
	"SELECT l.id, l.family_id, l.at, l.direction, l.channel_kind, l.kind, s.name, m.name,"
	" l.summary, coalesce(l.params, ''), l.status FROM contact_log l LEFT JOIN staff s ON s.id = l.staff_id"
	" LEFT JOIN members m ON m.id = l.member_id WHERE l.family_id = ? AND l.at >= ?"
	" ORDER BY l.at, l.id";
/* The family's id is found from its reference, so that every row about a
 * family names it by both, whoever writes it. */
static const char SQL_AUDIT_ADD[] =
	"INSERT INTO audit (at, actor, action, family_ref, detail, staff_id, channel_id, object_id, family_id)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, (SELECT id FROM families WHERE ref = ?4))";
static const char SQL_AUDIT_LIST[] =
	"SELECT a.id, a.at, a.actor, a.action, a.family_ref, s.name, a.channel_id, a.detail, a.object_id FROM audit a"
	" LEFT JOIN staff s ON s.id = a.staff_id WHERE a.at >= ?1 AND (?2 IS NULL OR a.family_ref = ?2)"
	" AND (?3 IS NULL OR a.staff_id = ?3 OR a.actor = 'staff:' || (SELECT name FROM staff WHERE id = ?3))"
	" ORDER BY a.at, a.id";

int store_contact_add(struct store *st, int64_t family_id, time_t at, const char *direction,
		      const char *channel_kind, const char *kind, int64_t staff_id,
		      int64_t member_id, const char *code, const char *params, const char *status)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CONTACT_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, family_id);
	sqlite3_bind_int64(q, 2, at);
	sqlite3_bind_text(q, 3, direction, -1, SQLITE_STATIC);
	store_bind_opt_text(q, 4, channel_kind);
	sqlite3_bind_text(q, 5, kind, -1, SQLITE_STATIC);
	store_bind_id(q, 6, staff_id);
	store_bind_id(q, 7, member_id);
	sqlite3_bind_text(q, 8, code, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 9, params != NULL ? params : "{}", -1, SQLITE_STATIC);
	store_bind_opt_text(q, 10, status);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	return store_chain_seal(st, family_id);
}

static int read_contact(sqlite3_stmt *q, void *arg)
{
	struct contact *c = arg;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(q, 0);
	c->family_id = sqlite3_column_int64(q, 1);
	c->at = (time_t)sqlite3_column_int64(q, 2);
	store_col_text(q, 3, c->direction, sizeof(c->direction));
	store_col_text(q, 4, c->channel_kind, sizeof(c->channel_kind));
	store_col_text(q, 5, c->kind, sizeof(c->kind));
	store_col_text(q, 6, c->staff, sizeof(c->staff));
	store_col_text(q, 7, c->member, sizeof(c->member));
	store_col_text(q, 8, c->code, sizeof(c->code));
	store_col_text(q, 9, c->params, sizeof(c->params));
	store_col_text(q, 10, c->status, sizeof(c->status));
	return 0;
}

int store_contact_each(struct store *st, int64_t family_id, time_t since, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CONTACT_LIST);
	struct contact c;

	if (q != NULL) {
		sqlite3_bind_int64(q, 1, family_id);
		sqlite3_bind_int64(q, 2, since);
	}
	return store_each(q, read_contact, &c, cb, arg);
}

/* A detail is a word the code chose (a kind, a reason, "phone"), never
 * something a person wrote: letters, digits and . _ : - only, and short. */
static int audit_token(const char *s)
{
	size_t n;

	if (s == NULL)
		return 1;
	n = strlen(s);
	if (n > 32)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == ':' || ch == '-'))
			return 0;
	}
	return 1;
}

int store_audit_add(struct store *st, time_t at, const struct audit_entry *e)
{
	sqlite3_stmt *q;

	if (!audit_token(e->detail) || !audit_token(e->family_ref))
		return -CB_EINVAL;
	if ((q = store_stmt(st, SQL_AUDIT_ADD)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, at);
	sqlite3_bind_text(q, 2, e->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, e->action, -1, SQLITE_STATIC);
	store_bind_opt_text(q, 4, e->family_ref);
	store_bind_opt_text(q, 5, e->detail);
	store_bind_id(q, 6, e->staff_id);
	store_bind_id(q, 7, e->channel_id);
	store_bind_id(q, 8, e->object_id);
	return store_exec_stmt(q);
}

int store_audit(struct store *st, time_t at, const char *actor, const char *action,
		const char *family_ref, const char *detail)
{
	const struct audit_entry e = {actor, action, family_ref, detail, 0, 0, 0};

	return store_audit_add(st, at, &e);
}

static int read_audit(sqlite3_stmt *q, void *arg)
{
	struct audit_row *a = arg;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(q, 0);
	a->at = (time_t)sqlite3_column_int64(q, 1);
	store_col_text(q, 2, a->actor, sizeof(a->actor));
	store_col_text(q, 3, a->action, sizeof(a->action));
	store_col_text(q, 4, a->family_ref, sizeof(a->family_ref));
	store_col_text(q, 5, a->staff, sizeof(a->staff));
	a->channel_id = sqlite3_column_int64(q, 6);
	store_col_text(q, 7, a->detail, sizeof(a->detail));
	a->object_id = sqlite3_column_int64(q, 8);
	return 0;
}

int store_audit_each(struct store *st, const char *family_ref, int64_t staff_id, time_t since,
		     store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_AUDIT_LIST);
	struct audit_row a;

	if (q != NULL) {
		sqlite3_bind_int64(q, 1, since);
		store_bind_opt_text(q, 2, family_ref);
		store_bind_id(q, 3, staff_id);
	}
	return store_each(q, read_audit, &a, cb, arg);
}

static const char SQL_CONTACT_LAST_IN[] =
	"SELECT coalesce(max(at), 0) FROM contact_log WHERE family_id = ? AND direction = 'in'";

static int read_i64(sqlite3_stmt *q, void *arg)
{
	*(int64_t *)arg = sqlite3_column_int64(q, 0);
	return 0;
}

int store_contact_last_in(struct store *st, int64_t family_id, int64_t *at)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CONTACT_LAST_IN);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return store_row(q, read_i64, at);
}
