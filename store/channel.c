/* Channels (a phone or chat linked to a family member or a staff member)
 * and the invites that link them. */
#include <sodium.h>
#include <string.h>

#include "store/store.h"

/* Channels */

static const char SQL_CHANNEL_FAMILY[] =
	"SELECT id, family_id, member_id, staff_id, kind, address, verified, blocked, opted_out,"
	" last_inbound_at FROM channels WHERE family_id = ? ORDER BY id";

static int read_channel(sqlite3_stmt *q, void *arg)
{
	struct channel *c = arg;

	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(q, 0);
	c->family_id = sqlite3_column_int64(q, 1);
	c->member_id = sqlite3_column_int64(q, 2);
	c->staff_id = sqlite3_column_int64(q, 3);
	store_col_text(q, 4, c->kind, sizeof(c->kind));
	store_col_text(q, 5, c->address, sizeof(c->address));
	c->verified = sqlite3_column_int(q, 6);
	c->blocked = sqlite3_column_int(q, 7);
	c->opted_out = sqlite3_column_int(q, 8);
	c->last_inbound_at = (time_t)sqlite3_column_int64(q, 9);
	return 0;
}

int store_channel_each_family(struct store *st, int64_t family_id, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANNEL_FAMILY);
	struct channel c;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return store_each(q, read_channel, &c, cb, arg);
}

/* Invites */

static const char SQL_INVITE_ADD[] =
	"INSERT INTO invites (code_hash, family_id, member_id, staff_id, created_at, expires_at)"
	" VALUES (?, ?, ?, ?, ?, ?)";

/* No 0/O, 1/I/L: the code is read off a screen or paper and typed on a
 * phone. 31 symbols, 10 of them: about 49 bits. */
static const char code_alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

int store_invite_hash(const char *code, unsigned char hash[32])
{
	char norm[INVITE_CODE_LEN + 1];
	size_t n = 0;

	for (const char *p = code; *p != '\0'; p++) {
		char c = *p;

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (n == INVITE_CODE_LEN)
			return -CB_EINVAL;
		norm[n++] = c;
	}
	if (n != INVITE_CODE_LEN)
		return -CB_EINVAL;
	norm[n] = '\0';
	crypto_generichash(hash, 32, (const unsigned char *)norm, n, NULL, 0);
	return 0;
}

int store_invite_create(struct store *st, int64_t family_id, int64_t member_id,
			int64_t staff_id, time_t now, time_t expires_at,
			char code[INVITE_CODE_LEN + 1])
{
	unsigned char hash[32];
	sqlite3_stmt *q;

	if (sodium_init() < 0)
		return -CB_EIO;
	for (int i = 0; i < INVITE_CODE_LEN; i++)
		code[i] = code_alphabet[randombytes_uniform(sizeof(code_alphabet) - 1)];
	code[INVITE_CODE_LEN] = '\0';
	store_invite_hash(code, hash);
	q = store_stmt(st, SQL_INVITE_ADD);
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_blob(q, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
	store_bind_id(q, 2, family_id);
	store_bind_id(q, 3, member_id);
	store_bind_id(q, 4, staff_id);
	sqlite3_bind_int64(q, 5, now);
	sqlite3_bind_int64(q, 6, expires_at);
	return store_exec_stmt(q);
}

#define SELECT_CHANNEL \
	"SELECT id, family_id, member_id, staff_id, kind, address, verified, blocked, opted_out," \
	" last_inbound_at FROM channels "
static const char SQL_CHANNEL_FIND[] = SELECT_CHANNEL "WHERE kind = ? AND address = ?";
static const char SQL_CHANNEL_ID[] = SELECT_CHANNEL "WHERE id = ?";
static const char SQL_CHANNEL_STAFF[] =
	SELECT_CHANNEL "WHERE staff_id = ? AND blocked = 0 ORDER BY kind = 'email', id LIMIT 1";
static const char SQL_CHANNEL_BLOCK[] = "UPDATE channels SET blocked = ?1 WHERE id = ?2";
static const char SQL_CHANNEL_OPTOUT[] = "UPDATE channels SET opted_out = ?1 WHERE id = ?2";
static const char SQL_CHANNEL_TOUCH[] = "UPDATE channels SET last_inbound_at = ?1 WHERE id = ?2";
static const char SQL_CHANNEL_LINK[] =
	"INSERT INTO channels (family_id, member_id, staff_id, kind, address, verified, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6) ON CONFLICT (kind, address) DO UPDATE SET"
	" family_id = ?1, member_id = ?2, staff_id = ?3, verified = 1, blocked = 0, opted_out = 0";

int store_channel_find(struct store *st, const char *kind, const char *address, struct channel *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANNEL_FIND);

	if (q != NULL) {
		sqlite3_bind_text(q, 1, kind, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, address, -1, SQLITE_STATIC);
	}
	return store_row(q, read_channel, out);
}

int store_channel_get(struct store *st, int64_t id, struct channel *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANNEL_ID);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	return store_row(q, read_channel, out);
}

static int set_flag(struct store *st, const char *sql, int64_t id, int64_t value)
{
	sqlite3_stmt *q = store_stmt(st, sql);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, value);
	sqlite3_bind_int64(q, 2, id);
	return store_exec_stmt(q);
}

int store_channel_set_blocked(struct store *st, int64_t id, int blocked)
{
	return set_flag(st, SQL_CHANNEL_BLOCK, id, blocked);
}

int store_channel_set_opted_out(struct store *st, int64_t id, int opted_out)
{
	return set_flag(st, SQL_CHANNEL_OPTOUT, id, opted_out);
}

int store_channel_touch(struct store *st, int64_t id, time_t now)
{
	return set_flag(st, SQL_CHANNEL_TOUCH, id, now);
}

int store_channel_link(struct store *st, int64_t family_id, int64_t member_id, int64_t staff_id,
		       const char *kind, const char *address, time_t now, struct channel *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANNEL_LINK);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	store_bind_id(q, 1, family_id);
	store_bind_id(q, 2, member_id);
	store_bind_id(q, 3, staff_id);
	sqlite3_bind_text(q, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 5, address, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, now);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	return store_channel_find(st, kind, address, out);
}

static const char SQL_INVITE_FIND[] =
	"SELECT id, family_id, member_id, staff_id FROM invites"
	" WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?";
static const char SQL_INVITE_USE[] =
	"UPDATE invites SET used_at = ?1 WHERE id = ?2 AND used_at IS NULL";

struct invite_row {
	int64_t id, family_id, member_id, staff_id;
};

static int read_invite(sqlite3_stmt *q, void *arg)
{
	struct invite_row *r = arg;

	r->id = sqlite3_column_int64(q, 0);
	r->family_id = sqlite3_column_int64(q, 1);
	r->member_id = sqlite3_column_int64(q, 2);
	r->staff_id = sqlite3_column_int64(q, 3);
	return 0;
}

/* A valid, unused, unexpired code links the chat to its family (or staff
 * member) and is spent; anything else is -CB_ENOENT, whatever the reason. */
int store_invite_redeem(struct store *st, const char *code, const char *kind, const char *address,
			time_t now, struct channel *out)
{
	unsigned char hash[32];
	struct invite_row r = {0};
	sqlite3_stmt *q;
	int rc;

	if (store_invite_hash(code, hash) != 0)
		return -CB_ENOENT;
	q = store_stmt(st, SQL_INVITE_FIND);
	if (q != NULL) {
		sqlite3_bind_blob(q, 1, hash, sizeof(hash), SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 2, now);
	}
	if ((rc = store_row(q, read_invite, &r)) != 0)
		return rc;
	q = store_stmt(st, SQL_INVITE_USE);
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, r.id);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	return store_channel_link(st, r.family_id, r.member_id, r.staff_id, kind, address, now, out);
}

int store_staff_channel(struct store *st, int64_t staff_id, struct channel *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANNEL_STAFF);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, staff_id);
	return store_row(q, read_channel, out);
}
