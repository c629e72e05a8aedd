#include <string.h>

#include "store/store.h"

const char *store_role_name(enum staff_role r)
{
	return r == ROLE_COORDINATOR ? "coordinator" : "counsellor";
}

static const char SQL_ADD[] =
	"INSERT INTO staff (name, role, lang, email, active, created_at) VALUES (?, ?, ?, ?, 1, ?)";
#define SELECT_STAFF "SELECT id, name, role, lang, email, active, away FROM staff "
static const char SQL_BY_NAME[] = SELECT_STAFF "WHERE name = ?";
static const char SQL_BY_ID[] = SELECT_STAFF "WHERE id = ?";
static const char SQL_ALL[] = SELECT_STAFF "ORDER BY name";

int store_staff_add(struct store *st, const struct staff *s, time_t now, int64_t *id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, s->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, store_role_name(s->role), -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, lang_code(s->lang), -1, SQLITE_STATIC);
	store_bind_opt_text(q, 4, s->email);
	sqlite3_bind_int64(q, 5, now);
	rc = store_exec_stmt(q);
	if (rc == 0 && id != NULL)
		*id = sqlite3_last_insert_rowid(store_db(st));
	return rc;
}

static int read_row(sqlite3_stmt *q, void *arg)
{
	struct staff *out = arg;
	char buf[16];

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(q, 0);
	store_col_text(q, 1, out->name, sizeof(out->name));
	store_col_text(q, 2, buf, sizeof(buf));
	out->role = strcmp(buf, "coordinator") == 0 ? ROLE_COORDINATOR : ROLE_COUNSELLOR;
	store_col_text(q, 3, buf, sizeof(buf));
	if (lang_parse(buf, &out->lang) != 0)
		out->lang = LANG_EN;
	store_col_text(q, 4, out->email, sizeof(out->email));
	out->active = sqlite3_column_int(q, 5);
	out->away = sqlite3_column_int(q, 6);
	return 0;
}

int store_staff_get(struct store *st, const char *name, struct staff *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_BY_NAME);

	if (q != NULL)
		sqlite3_bind_text(q, 1, name, -1, SQLITE_STATIC);
	return store_row(q, read_row, out);
}

int store_staff_get_id(struct store *st, int64_t id, struct staff *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_BY_ID);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_row, out);
}

int store_staff_each(struct store *st, store_each_cb cb, void *arg)
{
	struct staff s;

	return store_each(store_stmt(st, SQL_ALL), read_row, &s, cb, arg);
}

static const char SQL_AWAY[] = "UPDATE staff SET away = ?1 WHERE id = ?2";

int store_staff_set_away(struct store *st, int64_t id, int away)
{
	sqlite3_stmt *q = store_stmt(st, SQL_AWAY);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int(q, 1, away);
	sqlite3_bind_int64(q, 2, id);
	return store_exec_stmt(q);
}

static const char SQL_DEACTIVATE[] = "UPDATE staff SET active = 0, away = 0 WHERE id = ? AND active = 1";

int store_staff_deactivate(struct store *st, int64_t id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_DEACTIVATE);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	return sqlite3_changes(store_db(st)) == 1 ? 0 : -CB_ESTATE;
}
