/* Each family's contact log as a hash chain. A row's chain_hash is
 * BLAKE2b-256 over a fixed label, the hash of the row before it
 * (chain_prev; 32 zero bytes for the first), and the row's own columns:
 * every column but the two chain columns, in the order of their names,
 * skipping NULLs, each as its name, a NUL, a type letter (i integer,
 * f real, t text, b blob) and its value (an integer or a real as 8 bytes
 * big-endian, text and blobs as an 8-byte big-endian length then the
 * bytes). Whatever the row stores is hashed, so a column added later
 * (NULL in older rows) leaves older hashes as they were. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

#define CHAIN_LABEL "casebot contact chain v1"
#define CHAIN_COLS_MAX 64

static const char SQL_ROW[] = "SELECT * FROM contact_log WHERE id = ?";
static const char SQL_ROWS[] = "SELECT * FROM contact_log WHERE family_id = ? ORDER BY id";
static const char SQL_UNSEALED[] =
	"SELECT id FROM contact_log WHERE family_id = ? AND chain_hash IS NULL ORDER BY id";
static const char SQL_SEAL[] = "UPDATE contact_log SET chain_prev = ?1, chain_hash = ?2 WHERE id = ?3";
static const char SQL_HEAD[] = "SELECT head_id, head FROM contact_chains WHERE family_id = ?";
static const char SQL_HEAD_SET[] =
	"INSERT INTO contact_chains (family_id, head_id, head, rows) VALUES (?1, ?2, ?3, ?4)"
	" ON CONFLICT (family_id) DO UPDATE SET head_id = ?2, head = ?3, rows = rows + ?4";

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--, v >>= 8)
		b[i] = (unsigned char)(v & 0xff);
	crypto_generichash_update(h, b, sizeof(b));
}

static int chain_column(const char *name)
{
	return strcmp(name, "chain_prev") == 0 || strcmp(name, "chain_hash") == 0;
}

int store_chain_row_hash(sqlite3_stmt *q, const unsigned char prev[STORE_CHAIN_BYTES],
			 unsigned char out[STORE_CHAIN_BYTES])
{
	crypto_generichash_state h;
	int order[CHAIN_COLS_MAX], n = sqlite3_column_count(q), k = 0;

	if (n > CHAIN_COLS_MAX)
		return -CB_ETOOBIG;
	/* Columns in the order of their names, whatever order the table has. */
	for (int i = 0; i < n; i++) {
		int j = k++;

		while (j > 0 && strcmp(sqlite3_column_name(q, order[j - 1]), sqlite3_column_name(q, i)) > 0) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	crypto_generichash_init(&h, NULL, 0, STORE_CHAIN_BYTES);
	crypto_generichash_update(&h, (const unsigned char *)CHAIN_LABEL, sizeof(CHAIN_LABEL));
	crypto_generichash_update(&h, prev, STORE_CHAIN_BYTES);
	for (int o = 0; o < n; o++) {
		int i = order[o], type = sqlite3_column_type(q, i);
		const char *name = sqlite3_column_name(q, i);
		unsigned char letter;
		double d;
		uint64_t bits;

		if (type == SQLITE_NULL || chain_column(name))
			continue;
		crypto_generichash_update(&h, (const unsigned char *)name, strlen(name) + 1);
		switch (type) {
		case SQLITE_INTEGER:
			letter = 'i';
			crypto_generichash_update(&h, &letter, 1);
			put_u64(&h, (uint64_t)sqlite3_column_int64(q, i));
			break;
		case SQLITE_FLOAT:
			letter = 'f';
			d = sqlite3_column_double(q, i);
			memcpy(&bits, &d, sizeof(bits));
			crypto_generichash_update(&h, &letter, 1);
			put_u64(&h, bits);
			break;
		default:
			letter = type == SQLITE_TEXT ? 't' : 'b';
			crypto_generichash_update(&h, &letter, 1);
			{
				const unsigned char *v = type == SQLITE_TEXT ? sqlite3_column_text(q, i)
									     : sqlite3_column_blob(q, i);
				int len = sqlite3_column_bytes(q, i);

				put_u64(&h, (uint64_t)len);
				if (len > 0)
					crypto_generichash_update(&h, v, (unsigned long long)len);
			}
		}
	}
	crypto_generichash_final(&h, out, STORE_CHAIN_BYTES);
	return 0;
}

struct ids {
	int64_t *v;
	size_t n, cap;
};

static int read_id(sqlite3_stmt *q, void *arg)
{
	struct ids *ids = arg;

	if (ids->n == ids->cap) {
		size_t cap = ids->cap != 0 ? ids->cap * 2 : 8;
		int64_t *v = realloc(ids->v, cap * sizeof(*v));

		if (v == NULL)
			return -CB_ENOMEM;
		ids->v = v;
		ids->cap = cap;
	}
	ids->v[ids->n++] = sqlite3_column_int64(q, 0);
	return 0;
}

struct head {
	int64_t id;
	unsigned char hash[STORE_CHAIN_BYTES];
};

static int read_head(sqlite3_stmt *q, void *arg)
{
	struct head *h = arg;

	h->id = sqlite3_column_int64(q, 0);
	if (sqlite3_column_bytes(q, 1) != STORE_CHAIN_BYTES)
		return -CB_EPARSE;
	memcpy(h->hash, sqlite3_column_blob(q, 1), STORE_CHAIN_BYTES);
	return 0;
}

static int get_head(struct store *st, int64_t family_id, struct head *h)
{
	sqlite3_stmt *q = store_stmt(st, SQL_HEAD);

	memset(h, 0, sizeof(*h));
	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	return store_row(q, read_head, h);
}

static int hash_row(sqlite3_stmt *q, void *arg)
{
	unsigned char *prev_out = arg;   /* prev in, hash out */
	unsigned char out[STORE_CHAIN_BYTES];
	int rc = store_chain_row_hash(q, prev_out, out);

	if (rc == 0)
		memcpy(prev_out, out, sizeof(out));
	return rc;
}

int store_chain_seal(struct store *st, int64_t family_id)
{
	struct ids ids = {0};
	struct head head;
	sqlite3_stmt *q = store_stmt(st, SQL_UNSEALED);
	unsigned char prev[STORE_CHAIN_BYTES], h[STORE_CHAIN_BYTES];
	int rc;

	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	if ((rc = store_rows(q, read_id, &ids)) != 0)
		goto out;
	rc = get_head(st, family_id, &head);
	if (rc != 0 && rc != -CB_ENOENT)
		goto out;
	for (size_t i = 0; i < ids.n; i++) {
		memcpy(prev, head.hash, sizeof(prev));
		memcpy(h, prev, sizeof(h));
		if ((q = store_stmt(st, SQL_ROW)) == NULL) {
			rc = -CB_ESTORE;
			goto out;
		}
		sqlite3_bind_int64(q, 1, ids.v[i]);
		if ((rc = store_row(q, hash_row, h)) != 0)
			goto out;
		if ((q = store_stmt(st, SQL_SEAL)) == NULL) {
			rc = -CB_ESTORE;
			goto out;
		}
		sqlite3_bind_blob(q, 1, prev, sizeof(prev), SQLITE_TRANSIENT);
		sqlite3_bind_blob(q, 2, h, sizeof(h), SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 3, ids.v[i]);
		if ((rc = store_exec_stmt(q)) != 0)
			goto out;
		head.id = ids.v[i];
		memcpy(head.hash, h, sizeof(h));
	}
	rc = 0;
	if (ids.n > 0) {
		if ((q = store_stmt(st, SQL_HEAD_SET)) == NULL) {
			rc = -CB_ESTORE;
			goto out;
		}
		sqlite3_bind_int64(q, 1, family_id);
		sqlite3_bind_int64(q, 2, head.id);
		sqlite3_bind_blob(q, 3, head.hash, sizeof(head.hash), SQLITE_TRANSIENT);
		sqlite3_bind_int64(q, 4, (int64_t)ids.n);
		rc = store_exec_stmt(q);
	}
out:
	free(ids.v);
	return rc;
}

struct walk {
	struct chain_report *r;
	unsigned char expect[STORE_CHAIN_BYTES];
	store_chain_cb cb;
	void *arg;
};

static const unsigned char zeros[STORE_CHAIN_BYTES];

static int col_index(sqlite3_stmt *q, const char *name)
{
	for (int i = 0; i < sqlite3_column_count(q); i++)
		if (strcmp(sqlite3_column_name(q, i), name) == 0)
			return i;
	return -1;
}

static void broken(struct chain_report *r, int64_t id, const char *why)
{
	if (r->broken_id == 0) {
		r->broken_id = id;
		cb_strlcpy(r->why, why, sizeof(r->why));
	}
}

static int walk_row(sqlite3_stmt *q, void *arg)
{
	struct walk *w = arg;
	struct chain_report *r = w->r;
	int ip = col_index(q, "chain_prev"), ih = col_index(q, "chain_hash"), ii = col_index(q, "id");
	int64_t id = ii >= 0 ? sqlite3_column_int64(q, ii) : 0;
	unsigned char prev[STORE_CHAIN_BYTES], h[STORE_CHAIN_BYTES];
	int rc;

	if (ip < 0 || ih < 0 || ii < 0)
		return -CB_ESTORE;
	if (w->cb != NULL && (rc = w->cb(q, w->arg)) != 0)
		return rc;
	r->rows++;
	r->last_id = id;
	if (r->broken_id != 0)
		return 0;
	if (sqlite3_column_bytes(q, ih) != STORE_CHAIN_BYTES || sqlite3_column_bytes(q, ip) != STORE_CHAIN_BYTES) {
		broken(r, id, "it carries no chain hash");
		return 0;
	}
	memcpy(prev, sqlite3_column_blob(q, ip), sizeof(prev));
	if (r->rows == 1) {
		r->first_id = id;
		/* Retention removes the oldest rows: the chain then starts from
		 * the hash the first kept row names. */
		r->pruned = memcmp(prev, zeros, sizeof(prev)) != 0;
	} else if (memcmp(prev, w->expect, sizeof(prev)) != 0) {
		broken(r, id, "it does not follow the row before it (a row was removed or moved)");
		return 0;
	}
	if ((rc = store_chain_row_hash(q, prev, h)) != 0)
		return rc;
	if (memcmp(h, sqlite3_column_blob(q, ih), sizeof(h)) != 0) {
		broken(r, id, "its content does not match its hash (the row was changed)");
		return 0;
	}
	memcpy(w->expect, h, sizeof(h));
	memcpy(r->head, h, sizeof(h));
	return 0;
}

int store_chain_verify(struct store *st, int64_t family_id, struct chain_report *r, store_chain_cb cb, void *arg)
{
	struct walk w = {r, {0}, cb, arg};
	struct head head;
	sqlite3_stmt *q = store_stmt(st, SQL_ROWS);
	int rc, have_head;

	memset(r, 0, sizeof(*r));
	if (q != NULL)
		sqlite3_bind_int64(q, 1, family_id);
	if ((rc = store_rows(q, walk_row, &w)) != 0)
		return rc;
	rc = get_head(st, family_id, &head);
	if (rc != 0 && rc != -CB_ENOENT)
		return rc;
	have_head = rc == 0;
	if (r->broken_id == 0 && have_head && r->rows > 0 &&
	    (head.id != r->last_id || memcmp(head.hash, r->head, sizeof(head.hash)) != 0)) {
		r->broken_id = head.id > r->last_id ? head.id : r->last_id;
		snprintf(r->why, sizeof(r->why), "the log ends at row #%lld but its chain runs to row #%lld"
			 " (rows were removed from its end)", (long long)r->last_id, (long long)head.id);
	}
	if (r->broken_id == 0 && r->rows > 0 && !have_head)
		broken(r, r->first_id, "the family has no chain head");
	if (r->rows == 0 && have_head)
		r->pruned = 1;
	r->head_id = r->rows > 0 ? r->last_id : (have_head ? head.id : 0);
	if (r->rows == 0 && have_head)
		memcpy(r->head, head.hash, sizeof(head.hash));
	return 0;
}
