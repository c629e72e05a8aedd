/* Families, their members, channels and invites. */
#include <string.h>

#include "store/store.h"

#define SELECT_FAMILY \
	"SELECT f.id, f.ref, f.display_name, f.lang, f.status, f.counsellor_id, f.backup_id," \
	" c.name, b.name, f.created_at, f.closed_at, c.active FROM families f" \
	" JOIN staff c ON c.id = f.counsellor_id LEFT JOIN staff b ON b.id = f.backup_id "
/* A reference is matched without regard to case (through its NOCASE
 * index); an exact match wins should two differ only in case. */
static const char SQL_FAMILY_BY_REF[] = SELECT_FAMILY
	"WHERE f.ref = ?1 COLLATE NOCASE ORDER BY f.ref = ?1 DESC LIMIT 1";
static const char SQL_FAMILY_BY_ID[] = SELECT_FAMILY "WHERE f.id = ?";
static const char SQL_FAMILY_ALL[] = SELECT_FAMILY "ORDER BY f.ref";
static const char SQL_FAMILY_ADD[] =
	"INSERT INTO families (ref, display_name, lang, counsellor_id, backup_id, created_at)"
	" VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_FAMILY_CLOSE[] =
	"UPDATE families SET status = 'closed', closed_at = ? WHERE id = ? AND status <> 'closed'";
static const char SQL_FAMILY_CLOSE_OUTBOX[] =
	"UPDATE outbox SET status = 'cancelled', updated_at = ?1"
	" WHERE family_id = ?2 AND status = 'queued'";
static const char SQL_FAMILY_DOCS[] = "SELECT path FROM documents WHERE family_id = ?";
/* A download being fetched lands in tmp/dl-<id>, in the clear. */
static const char SQL_FAMILY_DOWNLOADS[] = "SELECT 'tmp/dl-' || id FROM downloads WHERE family_id = ?";
/* A staff text or digest that lists several families carries none of
 * their ids: while it waits, erasing any family blanks it (and a queued
 * one is not sent), since it may name this one. Once it has gone it keeps
 * nothing anyway (the outbox_scrub trigger). */
static const char SQL_FAMILY_LISTS[] =
	"UPDATE outbox SET params = '{}', status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END,"
	" updated_at = ?1 WHERE status IN ('queued', 'sending') AND family_id IS NULL"
	" AND kind IN ('staff_text', 'digest')";
static const char SQL_FAMILY_INBOUND_DEL[] =
	"DELETE FROM inbound WHERE EXISTS (SELECT 1 FROM channels c WHERE c.family_id = ?"
	" AND c.kind = inbound.channel_kind AND c.address = inbound.sender)";
static const char SQL_FAMILY_DEL[] = "DELETE FROM families WHERE id = ?";

static int read_family(sqlite3_stmt *q, void *arg)
{
	struct family *f = arg;
	char buf[8];

	memset(f, 0, sizeof(*f));
	f->id = sqlite3_column_int64(q, 0);
	store_col_text(q, 1, f->ref, sizeof(f->ref));
	store_col_text(q, 2, f->display_name, sizeof(f->display_name));
	store_col_text(q, 3, buf, sizeof(buf));
	if (lang_parse(buf, &f->lang) != 0)
		f->lang = LANG_EN;
	store_col_text(q, 4, f->status, sizeof(f->status));
	f->counsellor_id = sqlite3_column_int64(q, 5);
	f->backup_id = sqlite3_column_int64(q, 6);
	store_col_text(q, 7, f->counsellor, sizeof(f->counsellor));
	store_col_text(q, 8, f->backup, sizeof(f->backup));
	f->created_at = (time_t)sqlite3_column_int64(q, 9);
	f->closed_at = (time_t)sqlite3_column_int64(q, 10);
	f->counsellor_active = sqlite3_column_int(q, 11);
	return 0;
}

int store_family_add(struct store *st, const struct family *f, time_t now, int64_t *id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_FAMILY_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, f->ref, -1, SQLITE_STATIC);
	store_bind_opt_text(q, 2, f->display_name);
	sqlite3_bind_text(q, 3, lang_code(f->lang), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, f->counsellor_id);
	store_bind_id(q, 5, f->backup_id);
	sqlite3_bind_int64(q, 6, now);
	rc = store_exec_stmt(q);
	if (rc == 0 && id != NULL)
		*id = sqlite3_last_insert_rowid(store_db(st));
	return rc;
}

int store_family_get(struct store *st, const char *ref, struct family *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_FAMILY_BY_REF);

	if (q != NULL)
		sqlite3_bind_text(q, 1, ref, -1, SQLITE_STATIC);
	return store_row(q, read_family, out);
}

int store_family_get_id(struct store *st, int64_t id, struct family *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_FAMILY_BY_ID);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_family, out);
}

int store_family_each(struct store *st, store_each_cb cb, void *arg)
{
	struct family f;

	return store_each(store_stmt(st, SQL_FAMILY_ALL), read_family, &f, cb, arg);
}

/* Closing stops everything still waiting to be sent to the family. */
int store_family_close(struct store *st, int64_t id, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_FAMILY_CLOSE);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, id);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	if (sqlite3_changes(store_db(st)) == 0)
		return -CB_ESTATE;
	q = store_stmt(st, SQL_FAMILY_CLOSE_OUTBOX);
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, id);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	/* A code of a closed file must not link a stranger to it. */
	return store_invite_kill(st, id, 0);
}

struct doc_ctx {
	void (*cb)(const char *path, void *arg);
	void *arg;
};

static int doc_row(sqlite3_stmt *q, void *arg)
{
	struct doc_ctx *ctx = arg;
	const unsigned char *p = sqlite3_column_text(q, 0);

	if (p != NULL)
		ctx->cb((const char *)p, ctx->arg);
	return 0;
}

static int exec_id(struct store *st, const char *sql, int64_t id)
{
	sqlite3_stmt *q = store_stmt(st, sql);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	return store_exec_stmt(q);
}

int store_family_erase(struct store *st, int64_t id, time_t now,
		       void (*cb)(const char *path, void *arg), void *arg)
{
	struct doc_ctx ctx = {cb, arg};
	const char *const files[] = {SQL_FAMILY_DOCS, SQL_FAMILY_DOWNLOADS};
	int rc;

	for (size_t i = 0; i < CB_ARRAY_SIZE(files); i++) {
		sqlite3_stmt *q = store_stmt(st, files[i]);

		if (q == NULL)
			return -CB_ESTORE;
		sqlite3_bind_int64(q, 1, id);
		if ((rc = store_rows(q, doc_row, &ctx)) != 0)
			return rc;
	}
	if ((rc = exec_id(st, SQL_FAMILY_LISTS, now)) != 0 || (rc = exec_id(st, SQL_FAMILY_INBOUND_DEL, id)) != 0)
		return rc;
	return exec_id(st, SQL_FAMILY_DEL, id);
}

/* Members */

static const char *const member_roles[] = {"parent", "child", "other"};

const char *store_member_role_name(enum member_role r)
{
	return (unsigned)r < CB_ARRAY_SIZE(member_roles) ? member_roles[r] : "other";
}

int store_member_role_parse(const char *s, enum member_role *out)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(member_roles); i++) {
		if (strcmp(s, member_roles[i]) == 0) {
			*out = (enum member_role)i;
			return 0;
		}
	}
	return -CB_EINVAL;
}

static const char SQL_MEMBER_ADD[] =
	"INSERT INTO members (family_id, name, role, lang, created_at) VALUES (?, ?, ?, ?, ?)";
#define SELECT_MEMBER "SELECT id, family_id, name, role, lang FROM members "
static const char SQL_MEMBER_GET[] = SELECT_MEMBER "WHERE family_id = ? AND name = ?";
static const char SQL_MEMBER_ID[] = SELECT_MEMBER "WHERE id = ?";
static const char SQL_MEMBER_ALL[] = SELECT_MEMBER "WHERE family_id = ? ORDER BY id";

static int read_member(sqlite3_stmt *q, void *arg)
{
	struct member *m = arg;
	char buf[16];

	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(q, 0);
	m->family_id = sqlite3_column_int64(q, 1);
	store_col_text(q, 2, m->name, sizeof(m->name));
	store_col_text(q, 3, buf, sizeof(buf));
	if (store_member_role_parse(buf, &m->role) != 0)
		m->role = MEMBER_OTHER;
	store_col_text(q, 4, buf, sizeof(buf));
	m->has_lang = lang_parse(buf, &m->lang) == 0;
	return 0;
}

int store_member_add(struct store *st, const struct member *m, time_t now, int64_t *id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_MEMBER_ADD);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, m->family_id);
	sqlite3_bind_text(q, 2, m->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 3, store_member_role_name(m->role), -1, SQLITE_STATIC);
	store_bind_opt_text(q, 4, m->has_lang ? lang_code(m->lang) : NULL);
	sqlite3_bind_int64(q, 5, now);
	rc = store_exec_stmt(q);
	if (rc == 0 && id != NULL)
		*id = sqlite3_last_insert_rowid(store_db(st));
	return rc;
}

int store_member_get(struct store *st, int64_t family_id, const char *name, struct member *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_MEMBER_GET);

	if (q != NULL) {
		sqlite3_bind_int64(q, 1, family_id);
		sqlite3_bind_text(q, 2, name, -1, SQLITE_STATIC);
	}
	return store_row(q, read_member, out);
}

int store_member_get_id(struct store *st, int64_t id, struct member *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_MEMBER_ID);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_member, out);
}

int store_member_each(struct store *st, int64_t family_id, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_MEMBER_ALL);
	struct member m;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return store_each(q, read_member, &m, cb, arg);
}

static const char SQL_FAMILY_LANG[] = "UPDATE families SET lang = ?1 WHERE id = ?2";
static const char SQL_MEMBER_LANG[] = "UPDATE members SET lang = ?1 WHERE id = ?2";

static int set_lang(struct store *st, const char *sql, int64_t id, enum lang l)
{
	sqlite3_stmt *q = store_stmt(st, sql);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, lang_code(l), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, id);
	return store_exec_stmt(q);
}

int store_family_set_lang(struct store *st, int64_t id, enum lang l)
{
	return set_lang(st, SQL_FAMILY_LANG, id, l);
}

int store_member_set_lang(struct store *st, int64_t id, enum lang l)
{
	return set_lang(st, SQL_MEMBER_LANG, id, l);
}

static const char SQL_FAMILY_UPDATE[] =
	"UPDATE families SET display_name = ?1, lang = ?2, counsellor_id = ?3, backup_id = ?4 WHERE id = ?5";

int store_family_update(struct store *st, const struct family *f)
{
	sqlite3_stmt *q = store_stmt(st, SQL_FAMILY_UPDATE);

	if (q == NULL)
		return -CB_ESTORE;
	store_bind_opt_text(q, 1, f->display_name);
	sqlite3_bind_text(q, 2, lang_code(f->lang), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, f->counsellor_id);
	store_bind_id(q, 4, f->backup_id);
	sqlite3_bind_int64(q, 5, f->id);
	return store_exec_stmt(q);
}
