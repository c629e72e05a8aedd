/* What only Telegram keeps: the update queue getUpdates reads, and the
 * button presses answerCallbackQuery answers. Bounded like the core's
 * stores: the oldest go first. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sim/tgsim.h"

#define CALLBACK_BASE UINT64_C(4000000000000000000)

static void update_free(struct tgsim *sim, struct tgsim_update *u)
{
	cJSON_Delete(u->json);
	sim->update_bytes -= u->bytes;
}

static void clear_all(struct tgsim *sim)
{
	size_t i;

	for (i = 0; i < sim->updates.n; i++)
		update_free(sim, sim_ring_at(&sim->updates, i));
	sim->updates.n = sim->updates.head = 0;
	sim->callbacks.n = sim->callbacks.head = 0;
	sim->confirmed_offset = 0;
	sim->nallowed = -1;
	memset(&sim->st, 0, sizeof(sim->st));
}

int tgsim_store_init(struct tgsim *sim)
{
	int rc;

	sim->core.chat_gap_ms = TGSIM_CHAT_GAP_MS;
	sim->core.global_per_sec = TGSIM_GLOBAL_PER_SEC;
	if ((rc = sim_store_init(&sim->core)) != 0)
		return rc;
	if (sim_ring_init(&sim->updates, sizeof(struct tgsim_update), TGSIM_MAX_UPDATES) != 0 ||
	    sim_ring_init(&sim->callbacks, sizeof(struct tgsim_callback), TGSIM_MAX_CALLBACKS) != 0)
		return -CB_ENOMEM;
	sim->next_update_id = sim->first_update_id = TGSIM_FIRST_UPDATE_ID;
	sim->next_callback = 1;
	sim->nallowed = -1;
	return 0;
}

void tgsim_store_free(struct tgsim *sim)
{
	if (sim->updates.buf != NULL)
		clear_all(sim);
	for (size_t i = 0; i < sim->ncommand_sets; i++)
		cJSON_Delete(sim->command_sets[i].commands);
	for (size_t i = 0; i < sim->ndescriptions; i++)
		free(sim->descriptions[i].text);
	sim->ncommand_sets = sim->ndescriptions = 0;
	free(sim->updates.buf);
	free(sim->callbacks.buf);
	sim->updates.buf = sim->callbacks.buf = NULL;
	sim_store_free(&sim->core);
}

/* Counters restart; update, file and callback ids keep growing, so a bot
 * that remembers an offset never mistakes a new update for an old one. */
void tgsim_store_reset(struct tgsim *sim)
{
	clear_all(sim);
	sim_store_reset(&sim->core);
}

/* The update's kind: its first field other than update_id. */
static const char *update_kind(const cJSON *json)
{
	const cJSON *it;

	if (!cJSON_IsObject(json))
		return NULL;
	cJSON_ArrayForEach(it, json)
		if (it->string != NULL && strcmp(it->string, "update_id") != 0)
			return it->string;
	return NULL;
}

/* Like Telegram: without a list (or with an empty one) every kind but
 * chat_member and the reactions; otherwise only the kinds listed. */
static int update_allowed(struct tgsim *sim, const cJSON *json)
{
	const char *kind = update_kind(json);
	int i;

	if (kind == NULL)
		return 1;
	if (sim->nallowed <= 0)
		return strcmp(kind, "chat_member") != 0 &&
		       strcmp(kind, "message_reaction") != 0 &&
		       strcmp(kind, "message_reaction_count") != 0;
	for (i = 0; i < sim->nallowed; i++)
		if (strcmp(sim->allowed[i], kind) == 0)
			return 1;
	return 0;
}

void tgsim_update_set_allowed(struct tgsim *sim, const cJSON *list)
{
	const cJSON *it;
	int n = 0;

	if (!cJSON_IsArray(list))
		return;
	cJSON_ArrayForEach(it, list) {
		if (!cJSON_IsString(it) || n >= (int)CB_ARRAY_SIZE(sim->allowed))
			continue;
		if (cb_strlcpy(sim->allowed[n], it->valuestring, sizeof(sim->allowed[n])) == 0)
			n++;
	}
	sim->nallowed = n;
}

/* A copy of update with update_id first, as Telegram writes it; the
 * fields move over, update is freed. NULL when out of memory. */
static cJSON *with_id(cJSON *update, int64_t id)
{
	cJSON *out = cJSON_CreateObject(), *it;

	cJSON_DeleteItemFromObjectCaseSensitive(update, "update_id");
	if (out == NULL || cJSON_AddNumberToObject(out, "update_id", (double)id) == NULL)
		goto fail;
	while ((it = update->child) != NULL) {
		cJSON_DetachItemViaPointer(update, it);
		if (!cJSON_AddItemToObject(out, it->string, it)) {
			cJSON_Delete(it);
			goto fail;
		}
	}
	cJSON_Delete(update);
	return out;
fail:
	cJSON_Delete(out);
	cJSON_Delete(update);
	return NULL;
}

int tgsim_update_push(struct tgsim *sim, cJSON *json, int keep_id, int64_t *id)
{
	struct tgsim_update *u;
	cJSON *uid;
	char *text;
	size_t bytes;
	int64_t v = 0;
	int rc = 0;

	*id = 0;
	if (!update_allowed(sim, json))
		goto out;
	uid = cJSON_IsObject(json) ? cJSON_GetObjectItemCaseSensitive(json, "update_id") : NULL;
	if (uid != NULL && keep_id && sim_json_i64(uid, &v) == 0 && v >= 0) {
		if (v >= sim->next_update_id)
			sim->next_update_id = v + 1;
	} else {
		v = sim->next_update_id++;
		if (cJSON_IsObject(json) && (json = with_id(json, v)) == NULL) {
			rc = -CB_ENOMEM;
			goto out;
		}
	}
	if ((text = cJSON_PrintUnformatted(json)) == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	bytes = strlen(text);
	free(text);
	if (bytes > TGSIM_MAX_UPDATE_BYTES) {
		rc = -CB_ETOOBIG;
		goto out;
	}
	while (sim->updates.n > 0 && (sim->updates.n >= sim->updates.cap ||
	                              sim->update_bytes + bytes > TGSIM_MAX_UPDATE_BYTES)) {
		update_free(sim, sim_ring_at(&sim->updates, 0));
		sim_ring_pop(&sim->updates);
		sim->st.updates_dropped++;
	}
	u = sim_ring_push(&sim->updates);
	u->id = v;
	u->json = json;
	u->bytes = bytes;
	sim->update_bytes += bytes;
	json = NULL;
	*id = v;
out:
	cJSON_Delete(json);
	return rc;
}

void tgsim_update_confirm(struct tgsim *sim, int64_t offset)
{
	struct tgsim_update *u;
	size_t i, keep = 0, n = sim->updates.n;

	if (offset < 0) {
		/* -N keeps the last N updates and forgets the rest. */
		while (sim->updates.n > 0 && (int64_t)sim->updates.n > -offset) {
			u = sim_ring_at(&sim->updates, 0);
			if (u->id + 1 > sim->confirmed_offset)
				sim->confirmed_offset = u->id + 1;
			update_free(sim, u);
			sim_ring_pop(&sim->updates);
		}
		return;
	}
	if (offset == 0)
		return;
	if (offset > sim->confirmed_offset)
		sim->confirmed_offset = offset;
	/* Raw updates may carry any id, so confirmed ones are not always at
	 * the head: compact the ring in place. */
	for (i = 0; i < n; i++) {
		u = sim_ring_at(&sim->updates, i);
		if (u->id < offset) {
			update_free(sim, u);
			continue;
		}
		if (keep != i)
			memcpy(sim_ring_at(&sim->updates, keep), u, sizeof(*u));
		keep++;
	}
	sim->updates.n = keep;
}

cJSON *tgsim_update_list(struct tgsim *sim, int64_t offset, int limit, int *count)
{
	struct tgsim_update *u;
	cJSON *arr = cJSON_CreateArray();
	size_t i, bytes = 0;
	int n = 0;

	if (arr == NULL)
		return NULL;
	for (i = 0; i < sim->updates.n && n < limit; i++) {
		u = sim_ring_at(&sim->updates, i);
		if (offset > 0 && u->id < offset)
			continue;
		/* Like the real API: a batch stops before about 4 MB, but
		 * always carries at least one update. */
		if (n > 0 && bytes + u->bytes > TGSIM_RESPONSE_MAX)
			break;
		if (!cJSON_AddItemReferenceToArray(arr, u->json)) {
			cJSON_Delete(arr);
			return NULL;
		}
		bytes += u->bytes + 1;
		n++;
	}
	if (count != NULL)
		*count = n;
	return arr;
}

int64_t tgsim_update_from(struct tgsim *sim, int64_t offset)
{
	if (offset > 0 && !sim->strict_offset && sim->next_update_id > sim->first_update_id &&
	    offset > sim->next_update_id + 10)
		return 0;
	return offset;
}

int tgsim_update_pending(struct tgsim *sim, int64_t offset)
{
	size_t i;
	int n = 0;

	for (i = 0; i < sim->updates.n; i++)
		if (offset <= 0 || ((struct tgsim_update *)sim_ring_at(&sim->updates, i))->id >= offset)
			n++;
	return n;
}

int tgsim_callback_new(struct tgsim *sim, char *buf, size_t cap)
{
	struct tgsim_callback *c;

	if (sim->callbacks.n >= sim->callbacks.cap)
		sim_ring_pop(&sim->callbacks);
	c = sim_ring_push(&sim->callbacks);
	c->seq = sim->next_callback++;
	snprintf(buf, cap, "%" PRIu64, CALLBACK_BASE + c->seq);
	return 0;
}

int tgsim_callback_answer(struct tgsim *sim, const char *id)
{
	struct tgsim_callback *first, *c;
	unsigned long long v;
	char *end;

	if (id == NULL || id[0] < '0' || id[0] > '9' || sim->callbacks.n == 0)
		return -CB_ENOENT;
	v = strtoull(id, &end, 10);
	if (*end != '\0' || v < CALLBACK_BASE)
		return -CB_ENOENT;
	v -= CALLBACK_BASE;
	first = sim_ring_at(&sim->callbacks, 0);
	if (v < first->seq || v - first->seq >= sim->callbacks.n)
		return -CB_ENOENT;
	c = sim_ring_at(&sim->callbacks, (size_t)(v - first->seq));
	if (c->answered)
		return -CB_ESTATE;
	c->answered = 1;
	sim->st.callbacks_answered++;
	return 0;
}
