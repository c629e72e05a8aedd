/* Voice notes: a member's setting, the organisation's recorded clips and
 * the notes made for a family's messages, kept by the hash of their words. */
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

void store_audio_free(struct store_audio *a)
{
	free(a->data);
	memset(a, 0, sizeof(*a));
}

static const char SQL_SET_VOICE[] = "UPDATE members SET voice = ?1 WHERE id = ?2";
static const char SQL_VOICE[] = "SELECT voice FROM members WHERE id = ?1";

int store_member_set_voice(struct store *st, int64_t member_id, int on)
{
	sqlite3_stmt *q = store_stmt(st, SQL_SET_VOICE);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int(q, 1, on ? 1 : 0);
	sqlite3_bind_int64(q, 2, member_id);
	rc = store_exec_stmt(q);
	if (rc == 0 && sqlite3_changes(store_db(st)) == 0)
		return -CB_ENOENT;
	return rc;
}

int store_member_voice(struct store *st, int64_t member_id, int *on)
{
	sqlite3_stmt *q = store_stmt(st, SQL_VOICE);

	*on = 0;
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, member_id);
	return store_row(q, store_read_int, on);
}

/* Columns 0 (audio) and 1 (seconds) into a struct store_audio. */
static int read_audio(sqlite3_stmt *q, void *arg)
{
	struct store_audio *a = arg;
	const void *p = sqlite3_column_blob(q, 0);
	int n = sqlite3_column_bytes(q, 0);

	if (p == NULL || n <= 0)
		return -CB_EINVAL;
	if ((a->data = malloc((size_t)n)) == NULL)
		return -CB_ENOMEM;
	memcpy(a->data, p, (size_t)n);
	a->len = (size_t)n;
	a->seconds = sqlite3_column_double(q, 1);
	return 0;
}

static const char SQL_CLIP_SET[] =
	"INSERT INTO voice_clips (key, lang, audio, seconds, created_at) VALUES (?1, ?2, ?3, ?4, ?5)"
	" ON CONFLICT (key, lang) DO UPDATE SET audio = excluded.audio, seconds = excluded.seconds,"
	" created_at = excluded.created_at";
static const char SQL_CLIP_GET[] = "SELECT audio, seconds FROM voice_clips WHERE key = ?1 AND lang = ?2";
static const char SQL_CLIP_DEL[] = "DELETE FROM voice_clips WHERE key = ?1 AND lang = ?2";

int store_voice_clip_set(struct store *st, const char *key, enum lang l, const struct store_audio *a, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CLIP_SET);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, lang_code(l), -1, SQLITE_STATIC);
	sqlite3_bind_blob(q, 3, a->data, (int)a->len, SQLITE_STATIC);
	sqlite3_bind_double(q, 4, a->seconds);
	sqlite3_bind_int64(q, 5, now);
	return store_exec_stmt(q);
}

int store_voice_clip_get(struct store *st, const char *key, enum lang l, struct store_audio *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CLIP_GET);

	memset(out, 0, sizeof(*out));
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, lang_code(l), -1, SQLITE_STATIC);
	return store_row(q, read_audio, out);
}

int store_voice_clip_delete(struct store *st, const char *key, enum lang l)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CLIP_DEL);
	int rc;

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, lang_code(l), -1, SQLITE_STATIC);
	rc = store_exec_stmt(q);
	if (rc == 0 && sqlite3_changes(store_db(st)) == 0)
		return -CB_ENOENT;
	return rc;
}

static const char SQL_CACHE_GET[] = "SELECT audio, seconds FROM voice_cache WHERE family_id = ?1 AND hash = ?2";
static const char SQL_CACHE_MOVE[] =
	"UPDATE voice_cache SET outbox_id = ?3 WHERE family_id = ?1 AND hash = ?2 AND outbox_id < ?3";
static const char SQL_CACHE_PUT[] =
	"INSERT INTO voice_cache (family_id, hash, outbox_id, audio, seconds, created_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (family_id, hash) DO UPDATE SET"
	" outbox_id = max(outbox_id, excluded.outbox_id)";
static const char SQL_CACHE_COUNT[] = "SELECT count(*) FROM voice_cache WHERE family_id = ?1";

int store_voice_cache_get(struct store *st, int64_t family_id, const unsigned char *hash, size_t hlen,
			  int64_t outbox_id, struct store_audio *out)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CACHE_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, family_id);
	sqlite3_bind_blob(q, 2, hash, (int)hlen, SQLITE_STATIC);
	if ((rc = store_row(q, read_audio, out)) != 0)
		return rc;
	/* The note now lives as long as the newest message that says it. */
	if ((q = store_stmt(st, SQL_CACHE_MOVE)) == NULL) {
		store_audio_free(out);
		return -CB_ESTORE;
	}
	sqlite3_bind_int64(q, 1, family_id);
	sqlite3_bind_blob(q, 2, hash, (int)hlen, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, outbox_id);
	if ((rc = store_exec_stmt(q)) != 0)
		store_audio_free(out);
	return rc;
}

int store_voice_cache_put(struct store *st, int64_t family_id, const unsigned char *hash, size_t hlen,
			  int64_t outbox_id, const struct store_audio *a, time_t now)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CACHE_PUT);

	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, family_id);
	sqlite3_bind_blob(q, 2, hash, (int)hlen, SQLITE_STATIC);
	sqlite3_bind_int64(q, 3, outbox_id);
	sqlite3_bind_blob(q, 4, a->data, (int)a->len, SQLITE_STATIC);
	sqlite3_bind_double(q, 5, a->seconds);
	sqlite3_bind_int64(q, 6, now);
	return store_exec_stmt(q);
}

int store_voice_cache_count(struct store *st, int64_t family_id, int *n)
{
	sqlite3_stmt *q = store_stmt(st, SQL_CACHE_COUNT);

	*n = 0;
	if (q == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(q, 1, family_id);
	return store_row(q, store_read_int, n);
}
