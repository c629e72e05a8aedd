/* Appointments in the phone's calendar: the family's choice, each
 * appointment's calendar identity, and one-time links to calendar files. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store/store.h"

static const char *const modes[] = {"off", "on", "details"};

int store_calendar_mode_parse(const char *s, enum calendar_mode *out)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(modes); i++) {
		if (strcmp(s, modes[i]) == 0) {
			*out = (enum calendar_mode)i;
			return 0;
		}
	}
	return -CB_EINVAL;
}

const char *store_calendar_mode_name(enum calendar_mode m)
{
	return (unsigned)m < CB_ARRAY_SIZE(modes) ? modes[m] : "off";
}

static const char SQL_FAMILY_CALENDAR[] = "SELECT calendar FROM families WHERE id = ?";
static const char SQL_FAMILY_SET_CALENDAR[] = "UPDATE families SET calendar = ?1 WHERE id = ?2";

static int read_mode(sqlite3_stmt *q, void *arg)
{
	char buf[16];

	store_col_text(q, 0, buf, sizeof(buf));
	if (store_calendar_mode_parse(buf, arg) != 0)
		*(enum calendar_mode *)arg = CALENDAR_OFF;
	return 0;
}

int store_family_calendar(struct store *st, int64_t family_id, enum calendar_mode *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_FAMILY_CALENDAR);

	*out = CALENDAR_OFF;
	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return store_row(q, read_mode, out);
}

int store_family_set_calendar(struct store *st, int64_t family_id, enum calendar_mode m)
{
	sqlite3_stmt *q = store_stmt(st, SQL_FAMILY_SET_CALENDAR);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, store_calendar_mode_name(m), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, family_id);
	return store_exec_stmt(q);
}

static const char SQL_APPT_CALENDAR[] = "SELECT calendar_uid, calendar_seq FROM appointments WHERE id = ?";
static const char SQL_APPT_SET_UID[] =
	"UPDATE appointments SET calendar_uid = ?1 WHERE id = ?2 AND calendar_uid IS NULL";

struct ident {
	char *uid;
	int seq;
};

static int read_ident(sqlite3_stmt *q, void *arg)
{
	struct ident *id = arg;

	store_col_text(q, 0, id->uid, CALENDAR_UID_MAX);
	id->seq = sqlite3_column_int(q, 1);
	return 0;
}

/* The UID is random, not derived from the row id: it says nothing about
 * the installation or how many appointments it holds, and it is unique
 * in any calendar it lands in. */
int store_appointment_calendar(struct store *st, int64_t id, char uid[CALENDAR_UID_MAX], int *sequence)
{
	struct ident ident = {uid, 0};
	unsigned char raw[16];
	char hex[sizeof(raw) * 2 + 1], made[CALENDAR_UID_MAX];
	sqlite3_stmt *q = store_stmt(st, SQL_APPT_CALENDAR);
	int rc;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, id);
	if ((rc = store_row(q, read_ident, &ident)) != 0)
		return rc;
	if (uid[0] == '\0') {
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2hex(hex, sizeof(hex), raw, sizeof(raw));
		snprintf(made, sizeof(made), "%s@casebot", hex);
		if ((q = store_stmt(st, SQL_APPT_SET_UID)) == NULL)
			return -CB_ESTORE;
		sqlite3_bind_text(q, 1, made, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, id);
		if ((rc = store_exec_stmt(q)) != 0)
			return rc;
		/* Read back: another writer may have made it first. */
		if ((q = store_stmt(st, SQL_APPT_CALENDAR)) != NULL)
			sqlite3_bind_int64(q, 1, id);
		if ((rc = store_row(q, read_ident, &ident)) != 0)
			return rc;
	}
	*sequence = ident.seq;
	return uid[0] != '\0' ? 0 : -CB_ESTORE;
}

static const char SQL_LINK_DROP_OUTBOX[] = "DELETE FROM calendar_links WHERE outbox_id = ?";
static const char SQL_LINK_ADD[] =
	"INSERT INTO calendar_links (token_hash, family_id, appointment_id, outbox_id, lang, created_at, expires_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
static const char SQL_LINK_GET[] =
	"SELECT id, appointment_id, lang, expires_at FROM calendar_links WHERE token_hash = ?";
static const char SQL_LINK_DEL[] = "DELETE FROM calendar_links WHERE id = ?";
static const char SQL_LINK_PRUNE[] =
	"DELETE FROM calendar_links WHERE id IN (SELECT id FROM calendar_links WHERE expires_at <= ?1"
	" ORDER BY expires_at LIMIT ?2)";

int store_calendar_link_add(struct store *st, const unsigned char hash[CALENDAR_TOKEN_HASH], int64_t family_id,
			    int64_t appointment_id, int64_t outbox_id, enum lang l, time_t now, time_t expires_at)
{
	sqlite3_stmt *q;
	int rc;

	if (outbox_id != 0) {
		if ((q = store_stmt(st, SQL_LINK_DROP_OUTBOX)) == NULL)
			return -CB_ESTORE;
		sqlite3_bind_int64(q, 1, outbox_id);
		if ((rc = store_exec_stmt(q)) != 0)
			return rc;
	}
	if ((q = store_stmt(st, SQL_LINK_ADD)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_blob(q, 1, hash, CALENDAR_TOKEN_HASH, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, family_id);
	sqlite3_bind_int64(q, 3, appointment_id);
	store_bind_id(q, 4, outbox_id);
	sqlite3_bind_text(q, 5, lang_code(l), -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 6, now);
	sqlite3_bind_int64(q, 7, expires_at);
	return store_exec_stmt(q);
}

struct link {
	int64_t id, appointment_id;
	enum lang l;
	time_t expires_at;
};

static int read_link(sqlite3_stmt *q, void *arg)
{
	struct link *k = arg;
	char buf[8];

	k->id = sqlite3_column_int64(q, 0);
	k->appointment_id = sqlite3_column_int64(q, 1);
	store_col_text(q, 2, buf, sizeof(buf));
	if (lang_parse(buf, &k->l) != 0)
		k->l = LANG_EN;
	k->expires_at = (time_t)sqlite3_column_int64(q, 3);
	return 0;
}

/* A link works once: it is deleted as it is taken, so a second request,
 * or one after it expired, finds nothing, as an unknown token does. */
int store_calendar_link_take(struct store *st, const unsigned char hash[CALENDAR_TOKEN_HASH], time_t now,
			     int64_t *appointment_id, enum lang *l)
{
	sqlite3_stmt *q = store_stmt(st, SQL_LINK_GET);
	struct link k;
	int rc;

	if (q != NULL)
		sqlite3_bind_blob(q, 1, hash, CALENDAR_TOKEN_HASH, SQLITE_TRANSIENT);
	if ((rc = store_row(q, read_link, &k)) != 0)
		return rc;
	if ((q = store_stmt(st, SQL_LINK_DEL)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, k.id);
	if ((rc = store_exec_stmt(q)) != 0)
		return rc;
	if (k.expires_at <= now)
		return -CB_ENOENT;
	*appointment_id = k.appointment_id;
	*l = k.l;
	return 0;
}

int store_calendar_link_prune(struct store *st, time_t now, int batch, int *deleted)
{
	sqlite3_stmt *q = store_stmt(st, SQL_LINK_PRUNE);
	int rc;

	*deleted = 0;
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int(q, 2, batch);
	if ((rc = store_exec_stmt(q)) == 0)
		*deleted = sqlite3_changes(store_db(st));
	return rc;
}
