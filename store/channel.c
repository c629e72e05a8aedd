/* Channels (a phone or chat linked to a family member or a staff member)
 * and the invites that link them. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"

/* Channels */

/* In each member's order: a chat with a position first (1 is the first),
 * then the others as they were linked. */
static const char SQL_CHANNEL_FAMILY[] =
	"SELECT id, family_id, member_id, staff_id, kind, address, verified, blocked, opted_out,"
	" last_inbound_at, position, fallback_reason FROM channels WHERE family_id = ?"
	" ORDER BY coalesce(position, 2147483647), id";

/* The first chat after this one in its member's order that can take a
 * message: down the order only. A chat without a member has no order. */
static const char SQL_CHANNEL_NEXT[] =
	"SELECT c.id, c.family_id, c.member_id, c.staff_id, c.kind, c.address, c.verified, c.blocked,"
	" c.opted_out, c.last_inbound_at, c.position, c.fallback_reason"
	" FROM channels me JOIN channels c ON c.family_id = me.family_id AND c.member_id = me.member_id"
	" WHERE me.id = ?1 AND c.id <> me.id AND c.blocked = 0 AND c.verified = 1"
	" AND (coalesce(c.position, 2147483647), c.id) > (coalesce(me.position, 2147483647), me.id)"
	" ORDER BY coalesce(c.position, 2147483647), c.id LIMIT 1";

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
	c->position = sqlite3_column_int(q, 10);
	store_col_text(q, 11, c->fallback_reason, sizeof(c->fallback_reason));
	return 0;
}

int store_channel_next(struct store *st, int64_t channel_id, struct channel *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANNEL_NEXT);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, channel_id);
	return store_row(q, read_channel, out);
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
	" last_inbound_at, position, fallback_reason FROM channels "
/* By its address, or by another identity of the chat (store/identity.c)
 * that is not waiting for staff. */
static const char SQL_CHANNEL_FIND[] =
	SELECT_CHANNEL "WHERE kind = ?1 AND address = ?2"
	" UNION ALL " SELECT_CHANNEL "WHERE id = (SELECT channel_id FROM channel_identities"
	" WHERE kind = ?1 AND identity = ?2 AND pending = 0) LIMIT 1";
static const char SQL_CHANNEL_ID[] = SELECT_CHANNEL "WHERE id = ?";
/* The newest confirmed chat wins: after a phone is replaced, the old chat
 * never takes the forwards back, whatever its id. */
static const char SQL_CHANNEL_STAFF[] =
	SELECT_CHANNEL "WHERE staff_id = ? AND blocked = 0 AND verified = 1"
	" ORDER BY kind = 'email', coalesce(confirmed_at, created_at) DESC, id DESC LIMIT 1";
static const char SQL_CHANNEL_STAFF_ALL[] = SELECT_CHANNEL "WHERE staff_id = ? ORDER BY id";
static const char SQL_CHANNEL_BLOCK[] = "UPDATE channels SET blocked = ?1 WHERE id = ?2";
static const char SQL_CHANNEL_OPTOUT[] = "UPDATE channels SET opted_out = ?1 WHERE id = ?2";
static const char SQL_CHANNEL_FALLBACK[] =
	"UPDATE channels SET blocked = 1, fallback_reason = ?1 WHERE id = ?2";
/* Messages are routed in the order they are stored, not always the order
 * they were written (a gateway retries): the time only moves forward. */
static const char SQL_CHANNEL_TOUCH[] =
	"UPDATE channels SET last_inbound_at = max(coalesce(last_inbound_at, 0), ?1) WHERE id = ?2";
static const char SQL_CHANNEL_LINK[] =
	"INSERT INTO channels (family_id, member_id, staff_id, kind, address, verified, created_at,"
	" confirmed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?7, ?6, CASE WHEN ?7 THEN ?6 END)"
	" ON CONFLICT (kind, address) DO UPDATE SET family_id = ?1, member_id = ?2, staff_id = ?3,"
	" verified = ?7, blocked = 0, opted_out = 0, fallback_reason = NULL, confirmed_at = CASE WHEN ?7 THEN ?6 END";
/* What was queued for a chat that goes: a copy queued on another chat
 * makes it redundant (it goes with the chat); otherwise it waits for the
 * owner's other chats. */
static const char SQL_UNLINK_CANCEL[] =
	"UPDATE outbox SET status = 'cancelled', updated_at = ?2 WHERE channel_id = ?1"
	" AND status = 'queued' AND EXISTS (SELECT 1 FROM outbox o WHERE o.status = 'queued'"
	" AND o.channel_id <> ?1 AND o.id <> outbox.id AND o.family_id IS outbox.family_id"
	" AND o.staff_id IS outbox.staff_id AND o.kind = outbox.kind AND o.catalog_key = outbox.catalog_key"
	" AND o.params = outbox.params AND o.not_before = outbox.not_before)";
static const char SQL_UNLINK_REQUEUE[] =
	"UPDATE outbox SET channel_id = NULL, updated_at = ?2 WHERE channel_id = ?1"
	" AND status IN ('queued', 'sending')";
static const char SQL_UNLINK_STATE[] =
	"DELETE FROM gateway_state WHERE gateway = 'staff-reply'"
	" AND key = (SELECT address FROM channels WHERE id = ?)";
static const char SQL_UNLINK[] = "DELETE FROM channels WHERE id = ?";

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

static int exec_id(struct store *st, const char *sql, int64_t id)
{
	sqlite3_stmt *q = store_stmt(st, sql);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, id);
	return store_exec_stmt(q);
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

int store_channel_set_fallback(struct store *st, int64_t id, const char *reason)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANNEL_FALLBACK);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, id);
	return store_exec_stmt(q);
}

int store_channel_set_opted_out(struct store *st, int64_t id, int opted_out)
{
	return set_flag(st, SQL_CHANNEL_OPTOUT, id, opted_out);
}

int store_channel_touch(struct store *st, int64_t id, time_t now)
{
	return set_flag(st, SQL_CHANNEL_TOUCH, id, now);
}

static int link(struct store *st, int64_t family_id, int64_t member_id, int64_t staff_id, const char *kind,
		const char *address, time_t now, int verified, struct channel *out)
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
	sqlite3_bind_int(q, 7, verified);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	return store_channel_find(st, kind, address, out);
}

int store_channel_link(struct store *st, int64_t family_id, int64_t member_id, int64_t staff_id,
		       const char *kind, const char *address, time_t now, struct channel *out)
{
	return link(st, family_id, member_id, staff_id, kind, address, now, 1, out);
}

int store_channel_each_staff(struct store *st, int64_t staff_id, store_each_cb cb, void *arg)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANNEL_STAFF_ALL);
	struct channel c;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, staff_id);
	return store_each(q, read_channel, &c, cb, arg);
}

int store_channel_unlink(struct store *st, int64_t id, time_t now)
{
	static const char *const steps[] = {SQL_UNLINK_CANCEL, SQL_UNLINK_REQUEUE};
	sqlite3_stmt *q;
	int rc;

	for (size_t i = 0; i < CB_ARRAY_SIZE(steps); i++) {
		if ((q = store_stmt(st, steps[i])) == NULL)
			return -CB_ESTORE;
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2, now);
		if ((rc = store_exec_stmt(q)) != 0)
			return rc;
	}
	if ((rc = exec_id(st, SQL_UNLINK_STATE, id)) != 0 || (rc = exec_id(st, SQL_UNLINK, id)) != 0)
		return rc;
	return sqlite3_changes(store_db(st)) == 1 ? 0 : -CB_ENOENT;
}

/* A code of a closed family, or of a staff member who left, is as dead as
 * a wrong one. */
static const char SQL_INVITE_FIND[] =
	"SELECT i.id, i.family_id, i.member_id, i.staff_id FROM invites i"
	" LEFT JOIN families f ON f.id = i.family_id LEFT JOIN staff s ON s.id = i.staff_id"
	" WHERE i.code_hash = ? AND i.used_at IS NULL AND i.expires_at > ?"
	" AND (f.id IS NULL OR f.status <> 'closed') AND (s.id IS NULL OR s.active = 1)";
static const char SQL_INVITE_USE[] =
	"UPDATE invites SET used_at = ?1 WHERE id = ?2 AND used_at IS NULL";
static const char SQL_INVITE_KILL[] =
	"DELETE FROM invites WHERE used_at IS NULL AND (family_id = ?1 OR staff_id = ?2)";

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

int store_invite_kill(struct store *st, int64_t family_id, int64_t staff_id)
{
	sqlite3_stmt *q = store_stmt(st, SQL_INVITE_KILL);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, family_id);
	sqlite3_bind_int64(q, 2, staff_id);
	return store_exec_stmt(q);
}

/* Pairing numbers */

#define PAIRING_SALT 16

static const char SQL_PAIRING_DEL[] = "DELETE FROM staff_pairings WHERE channel_id = ?";
/* A number not yet shown is void once the chat is linked again. */
static const char SQL_PAIRING_UNSHOWN[] =
	"DELETE FROM outbox WHERE channel_id = ? AND kind = 'staff_pairing' AND status = 'queued'";
static const char SQL_PAIRING_ADD[] =
	"INSERT INTO staff_pairings (channel_id, staff_id, salt, number_hash, created_at, expires_at)"
	" VALUES (?, ?, ?, ?, ?, ?)";
static const char SQL_PAIRING_EXPIRES[] = "SELECT expires_at FROM staff_pairings WHERE channel_id = ?";
static const char SQL_PAIRING_PENDING[] =
	"SELECT channel_id, salt, number_hash FROM staff_pairings WHERE staff_id = ? AND expires_at > ?"
	" AND attempts < ? ORDER BY channel_id";
static const char SQL_PAIRING_MISS[] =
	"UPDATE staff_pairings SET attempts = attempts + 1 WHERE staff_id = ?1 AND expires_at > ?2";
static const char SQL_PAIRING_LEFT[] =
	"SELECT ?3 - coalesce(max(attempts), 0) FROM staff_pairings WHERE staff_id = ?1 AND expires_at > ?2";
static const char SQL_PAIRING_SPENT[] =
	"DELETE FROM channels WHERE id IN (SELECT channel_id FROM staff_pairings WHERE staff_id = ?1"
	" AND attempts >= ?2)";
static const char SQL_PAIRING_CONFIRM[] =
	"UPDATE channels SET verified = 1, confirmed_at = ?1 WHERE id = ?2 AND verified = 0";
static const char SQL_PAIRING_PRUNE[] =
	"DELETE FROM channels WHERE verified = 0 AND id IN (SELECT channel_id FROM staff_pairings"
	" WHERE expires_at <= ?)";

static void pairing_hash(const unsigned char *salt, const char *number, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)number, strlen(number), salt, PAIRING_SALT);
}

static int pairing_create(struct store *st, int64_t channel_id, int64_t staff_id, time_t now,
			  char number[STAFF_PAIRING_DIGITS + 1])
{
	unsigned char salt[PAIRING_SALT], hash[32];
	sqlite3_stmt *q;
	int rc;

	snprintf(number, STAFF_PAIRING_DIGITS + 1, "%06u", (unsigned)randombytes_uniform(1000000));
	randombytes_buf(salt, sizeof(salt));
	pairing_hash(salt, number, hash);
	if ((rc = exec_id(st, SQL_PAIRING_DEL, channel_id)) != 0)
		return rc;
	if ((q = store_stmt(st, SQL_PAIRING_ADD)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, channel_id);
	sqlite3_bind_int64(q, 2, staff_id);
	sqlite3_bind_blob(q, 3, salt, sizeof(salt), SQLITE_TRANSIENT);
	sqlite3_bind_blob(q, 4, hash, sizeof(hash), SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 5, now);
	sqlite3_bind_int64(q, 6, now + STAFF_PAIRING_TTL);
	return store_exec_stmt(q);
}

static int read_time(sqlite3_stmt *q, void *arg)
{
	*(time_t *)arg = (time_t)sqlite3_column_int64(q, 0);
	return 0;
}

int store_pairing_expires(struct store *st, int64_t channel_id, time_t *expires_at)
{
	sqlite3_stmt *q = store_stmt(st, SQL_PAIRING_EXPIRES);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, channel_id);
	return store_row(q, read_time, expires_at);
}

struct pairing_match {
	const char *number;
	int64_t channel_id;
	int pending;
};

/* Every pending number is compared, so the time taken does not tell which
 * one (or whether one) matched. */
static int match_pairing(sqlite3_stmt *q, void *arg)
{
	struct pairing_match *m = arg;
	unsigned char hash[32];

	m->pending++;
	if (sqlite3_column_bytes(q, 1) != PAIRING_SALT || sqlite3_column_bytes(q, 2) != (int)sizeof(hash))
		return 0;
	pairing_hash(sqlite3_column_blob(q, 1), m->number, hash);
	if (sodium_memcmp(hash, sqlite3_column_blob(q, 2), sizeof(hash)) == 0 && m->channel_id == 0)
		m->channel_id = sqlite3_column_int64(q, 0);
	return 0;
}

/* store_change3 without requiring that a row changed. */
static int exec3(struct store *st, const char *sql, int64_t a, int64_t b, int64_t c)
{
	sqlite3_stmt *q = store_stmt(st, sql);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, a);
	sqlite3_bind_int64(q, 2, b);
	sqlite3_bind_int64(q, 3, c);
	return store_exec_stmt(q);
}

int store_pairing_confirm(struct store *st, int64_t staff_id, const char *number, time_t now,
			  int64_t *channel_id, int *tries_left)
{
	struct pairing_match m = {number, 0, 0};
	sqlite3_stmt *q;
	int rc;

	*channel_id = 0;
	*tries_left = 0;
	if ((rc = store_pairing_prune(st, now)) != 0)
		return rc;
	if ((q = store_stmt(st, SQL_PAIRING_PENDING)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, staff_id);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int(q, 3, STAFF_PAIRING_TRIES);
	if ((rc = store_rows(q, match_pairing, &m)) != 0)
		return rc;
	if (m.pending == 0)
		return -CB_ENOENT;
	if (m.channel_id != 0) {
		if ((rc = exec3(st, SQL_PAIRING_CONFIRM, now, m.channel_id, 0)) != 0 ||
		    (rc = exec_id(st, SQL_PAIRING_DEL, m.channel_id)) != 0)
			return rc;
		*channel_id = m.channel_id;
		return 0;
	}
	if ((rc = exec3(st, SQL_PAIRING_MISS, staff_id, now, 0)) != 0)
		return rc;
	if ((q = store_stmt(st, SQL_PAIRING_LEFT)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, staff_id);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int(q, 3, STAFF_PAIRING_TRIES);
	if ((rc = store_row(q, store_read_int, tries_left)) != 0)
		return rc;
	if (*tries_left < 0)
		*tries_left = 0;
	if ((rc = exec3(st, SQL_PAIRING_SPENT, staff_id, STAFF_PAIRING_TRIES, 0)) != 0)
		return rc;
	return -CB_EINVAL;
}

int store_pairing_prune(struct store *st, time_t now)
{
	return exec_id(st, SQL_PAIRING_PRUNE, now);
}

/* A valid, unused, unexpired code links the chat to its family (or staff
 * member, pending until confirmed) and is spent; anything else is
 * -CB_ENOENT, whatever the reason. */
int store_invite_redeem(struct store *st, const char *code, const char *kind, const char *address,
			time_t now, struct channel *out, char pairing[STAFF_PAIRING_DIGITS + 1])
{
	unsigned char hash[32];
	struct invite_row r = {0};
	sqlite3_stmt *q;
	int rc;

	pairing[0] = '\0';
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
	if ((rc = link(st, r.family_id, r.member_id, r.staff_id, kind, address, now, r.staff_id == 0, out)) != 0 ||
	    (rc = exec_id(st, SQL_PAIRING_UNSHOWN, out->id)) != 0)
		return rc;
	if (r.staff_id == 0)
		return exec_id(st, SQL_PAIRING_DEL, out->id);
	return pairing_create(st, out->id, r.staff_id, now, pairing);
}

int store_staff_channel(struct store *st, int64_t staff_id, struct channel *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CHANNEL_STAFF);

	if (q != NULL)
		sqlite3_bind_int64(q, 1, staff_id);
	return store_row(q, read_channel, out);
}
