/* The console's logins and sessions. */
#include <string.h>

#include "store/store.h"

static const char SQL_GET[] = "SELECT password, totp_secret, totp_last_step FROM staff_logins WHERE staff_id = ?";

static int read_login(sqlite3_stmt *q, void *arg)
{
	struct staff_login *out = arg;

	store_col_text(q, 0, out->password, sizeof(out->password));
	store_col_text(q, 1, out->totp_secret, sizeof(out->totp_secret));
	out->totp_last_step = sqlite3_column_int64(q, 2);
	return 0;
}

int store_login_get(struct store *st, int64_t staff_id, struct staff_login *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_GET);

	memset(out, 0, sizeof(*out));
	if (q != NULL)
		sqlite3_bind_int64(q, 1, staff_id);
	return store_row(q, read_login, out);
}

static const char SQL_SET_PASSWORD[] =
	"INSERT INTO staff_logins (staff_id, password, updated_at) VALUES (?1, ?2, ?3) "
	"ON CONFLICT (staff_id) DO UPDATE SET password = ?2, updated_at = ?3";
/* A new secret starts its steps anew. */
static const char SQL_SET_TOTP[] =
	"INSERT INTO staff_logins (staff_id, totp_secret, updated_at) VALUES (?1, ?2, ?3) "
	"ON CONFLICT (staff_id) DO UPDATE SET totp_secret = ?2, totp_last_step = 0, updated_at = ?3";

static int set_text(struct store *st, const char *sql, int64_t staff_id, const char *text, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, sql);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, staff_id);
	store_bind_opt_text(q, 2, text);
	sqlite3_bind_int64(q, 3, now);
	return store_exec_stmt(q);
}

int store_login_set_password(struct store *st, int64_t staff_id, const char *hash, time_t now)
{
	return set_text(st, SQL_SET_PASSWORD, staff_id, hash, now);
}

int store_login_set_totp(struct store *st, int64_t staff_id, const char *secret, time_t now)
{
	return set_text(st, SQL_SET_TOTP, staff_id, secret, now);
}

int store_login_use_step(struct store *st, int64_t staff_id, int64_t step)
{
	return store_change3(st, "UPDATE staff_logins SET totp_last_step = ?2 WHERE staff_id = ?1 AND totp_last_step < ?2",
			     staff_id, step, 0);
}

static const char SQL_SESSION_ADD[] =
	"INSERT INTO console_sessions (token_hash, staff_id, created_at, seen_at) VALUES (?, ?, ?, ?3)";
static const char SQL_SESSION_GET[] =
	"SELECT staff_id, seen_at, created_at FROM console_sessions WHERE token_hash = ?";
static const char SQL_SESSION_TOUCH[] = "UPDATE console_sessions SET seen_at = ? WHERE token_hash = ?";
static const char SQL_SESSION_DELETE[] = "DELETE FROM console_sessions WHERE token_hash = ?";
static const char SQL_SESSION_PRUNE[] = "DELETE FROM console_sessions WHERE seen_at < ? OR created_at < ?";

int store_session_add(struct store *st, const unsigned char *hash, int64_t staff_id, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SESSION_ADD);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_blob(q, 1, hash, STORE_SESSION_HASH, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, staff_id);
	sqlite3_bind_int64(q, 3, now);
	return store_exec_stmt(q);
}

struct session_row {
	int64_t staff_id;
	time_t seen_at, created_at;
};

static int read_session(sqlite3_stmt *q, void *arg)
{
	struct session_row *r = arg;

	r->staff_id = sqlite3_column_int64(q, 0);
	r->seen_at = (time_t)sqlite3_column_int64(q, 1);
	r->created_at = (time_t)sqlite3_column_int64(q, 2);
	return 0;
}

int store_session_delete(struct store *st, const unsigned char *hash)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SESSION_DELETE);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_blob(q, 1, hash, STORE_SESSION_HASH, SQLITE_STATIC);
	return store_exec_stmt(q);
}

int store_session_get(struct store *st, const unsigned char *hash, time_t idle_before, time_t created_before,
		      int64_t *staff_id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SESSION_GET);
	struct session_row r;
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_blob(q, 1, hash, STORE_SESSION_HASH, SQLITE_STATIC);
	if ((rc = store_row(q, read_session, &r)) != 0)
		return rc;
	if (r.seen_at < idle_before || r.created_at < created_before) {
		if ((rc = store_session_delete(st, hash)) != 0)
			return rc;
		return -CB_ENOENT;
	}
	*staff_id = r.staff_id;
	return 0;
}

int store_session_touch(struct store *st, const unsigned char *hash, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SESSION_TOUCH);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_blob(q, 2, hash, STORE_SESSION_HASH, SQLITE_STATIC);
	return store_exec_stmt(q);
}

int store_session_prune(struct store *st, time_t idle_before, time_t created_before)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SESSION_PRUNE);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, idle_before);
	sqlite3_bind_int64(q, 2, created_before);
	return store_exec_stmt(q);
}
