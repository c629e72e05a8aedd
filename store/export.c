/* What an export writes: rows as they are stored, every column by its
 * name, so that nothing held is left out and a column added later is
 * exported without a change here. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "store/store.h"

int store_row_json(sqlite3_stmt *q, cJSON *obj)
{
	for (int i = 0; i < sqlite3_column_count(q); i++) {
		const char *name = sqlite3_column_name(q, i);
		cJSON *v = NULL;

		switch (sqlite3_column_type(q, i)) {
		case SQLITE_INTEGER:
			v = cJSON_CreateNumber((double)sqlite3_column_int64(q, i));
			break;
		case SQLITE_FLOAT:
			v = cJSON_CreateNumber(sqlite3_column_double(q, i));
			break;
		case SQLITE_TEXT:
			v = cJSON_CreateString((const char *)sqlite3_column_text(q, i));
			break;
		case SQLITE_BLOB: {
			/* Blobs (hashes) as hex. */
			int n = sqlite3_column_bytes(q, i);
			char *hex = malloc((size_t)n * 2 + 1);

			if (hex == NULL)
				return -CB_ENOMEM;
			sodium_bin2hex(hex, (size_t)n * 2 + 1, sqlite3_column_blob(q, i), (size_t)n);
			v = cJSON_CreateString(hex);
			free(hex);
			break;
		}
		default:
			v = cJSON_CreateNull();
		}
		if (v == NULL || !cJSON_AddItemToObject(obj, name, v)) {
			cJSON_Delete(v);
			return -CB_ENOMEM;
		}
	}
	return 0;
}

static int add_row(sqlite3_stmt *q, void *arg)
{
	cJSON *arr = arg, *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -CB_ENOMEM;
	}
	return store_row_json(q, o);
}

/* Every table that holds something about a family, found by its id
 * (?1) or its reference (?2). The audit trail is found by reference, as
 * it outlives the family. */
static const struct {
	const char *name;
	const char *sql;
} family_tables[] = {
	{"family", "SELECT * FROM families WHERE id = ?1"},
	{"members", "SELECT * FROM members WHERE family_id = ?1 ORDER BY id"},
	{"channels", "SELECT * FROM channels WHERE family_id = ?1 ORDER BY id"},
	{"invites", "SELECT * FROM invites WHERE family_id = ?1 ORDER BY id"},
	{"appointments", "SELECT * FROM appointments WHERE family_id = ?1 ORDER BY id"},
	{"document_requests", "SELECT * FROM document_requests WHERE family_id = ?1 ORDER BY id"},
	{"documents", "SELECT * FROM documents WHERE family_id = ?1 ORDER BY id"},
	{"downloads", "SELECT * FROM downloads WHERE family_id = ?1 ORDER BY id"},
	{"checkin_plan", "SELECT * FROM checkin_plans WHERE family_id = ?1"},
	{"outbox", "SELECT * FROM outbox WHERE family_id = ?1 ORDER BY id"},
	{"contact_log", "SELECT * FROM contact_log WHERE family_id = ?1 ORDER BY id"},
	{"contact_chain", "SELECT * FROM contact_chains WHERE family_id = ?1"},
	{"alerts", "SELECT * FROM alerts WHERE family_id = ?1 ORDER BY id"},
	{"questions", "SELECT q.* FROM questions q JOIN channels c ON c.id = q.channel_id"
		      " WHERE c.family_id = ?1 ORDER BY q.channel_id"},
	{"question_choices", "SELECT qc.* FROM question_choices qc JOIN channels c ON c.id = qc.channel_id"
			     " WHERE c.family_id = ?1 ORDER BY qc.channel_id, qc.number"},
	{"inbound", "SELECT i.* FROM inbound i JOIN channels c ON c.kind = i.channel_kind AND c.address = i.sender"
		    " WHERE c.family_id = ?1 ORDER BY i.id"},
	{"audit", "SELECT * FROM audit WHERE family_ref = ?2 ORDER BY id"},
};

int store_family_dump(struct store *st, int64_t family_id, const char *ref, cJSON *root)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(family_tables); i++) {
		sqlite3_stmt *q = store_stmt(st, family_tables[i].sql);
		cJSON *arr = cJSON_CreateArray();
		int rc;

		if (arr == NULL || !cJSON_AddItemToObject(root, family_tables[i].name, arr)) {
			cJSON_Delete(arr);
			return -CB_ENOMEM;
		}
		if (q == NULL)
			return -CB_ESTORE;
		sqlite3_bind_int64(q, 1, family_id);
		sqlite3_bind_text(q, 2, ref, -1, SQLITE_STATIC);
		if ((rc = store_rows(q, add_row, arr)) != 0)
			return rc;
	}
	return 0;
}
