/* The simulator's state. Every store is a ring with a count cap and, where
 * items vary in size, a byte cap: a runaway bot or test fills it and the
 * oldest entries go, memory never grows past the caps. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sim/tgsim.h"

#define CALLBACK_BASE UINT64_C(4000000000000000000)

uint64_t tgsim_now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ring_init(struct tgsim_ring *r, size_t esz, size_t cap)
{
	r->buf = calloc(cap, esz);
	r->esz = esz;
	r->cap = cap;
	r->head = r->n = 0;
	return r->buf != NULL ? 0 : -CB_ENOMEM;
}

void *tgsim_ring_at(const struct tgsim_ring *r, size_t i)
{
	return r->buf + ((r->head + i) % r->cap) * r->esz;
}

/* A zeroed slot at the tail; the caller has made room. */
static void *ring_push(struct tgsim_ring *r)
{
	void *slot = tgsim_ring_at(r, r->n);

	memset(slot, 0, r->esz);
	r->n++;
	return slot;
}

static void ring_pop(struct tgsim_ring *r)
{
	r->head = (r->head + 1) % r->cap;
	r->n--;
}

static void update_free(struct tgsim *sim, struct tgsim_update *u)
{
	cJSON_Delete(u->json);
	sim->update_bytes -= u->bytes;
}

static void sent_free(struct tgsim *sim, struct tgsim_sent *m)
{
	free(m->text);
	cJSON_Delete(m->markup);
	sim->sent_bytes -= m->bytes;
}

static void file_free(struct tgsim *sim, struct tgsim_file *f)
{
	if (f->data != NULL)
		sim->file_bytes -= (size_t)f->size;
	free(f->data);
}

static void clear_all(struct tgsim *sim)
{
	size_t i;

	for (i = 0; i < sim->updates.n; i++)
		update_free(sim, tgsim_ring_at(&sim->updates, i));
	sim->updates.n = sim->updates.head = 0;
	for (i = 0; i < sim->sent.n; i++)
		sent_free(sim, tgsim_ring_at(&sim->sent, i));
	sim->sent.n = sim->sent.head = 0;
	for (i = 0; i < sim->files.n; i++)
		file_free(sim, tgsim_ring_at(&sim->files, i));
	sim->files.n = sim->files.head = 0;
	sim->callbacks.n = sim->callbacks.head = 0;
	sim->nchats = 0;
	sim->confirmed_offset = 0;
	sim->nallowed = -1;
	sim->nglobal = sim->global_head = 0;
	memset(&sim->st, 0, sizeof(sim->st));
	tgsim_fault_clear(sim);
}

int tgsim_store_init(struct tgsim *sim)
{
	int rc = -CB_ENOMEM;

	sim->chats = calloc(TGSIM_MAX_CHATS, sizeof(*sim->chats));
	if (sim->chats == NULL)
		goto out;
	if (ring_init(&sim->updates, sizeof(struct tgsim_update), TGSIM_MAX_UPDATES) != 0 ||
	    ring_init(&sim->sent, sizeof(struct tgsim_sent), TGSIM_MAX_SENT) != 0 ||
	    ring_init(&sim->files, sizeof(struct tgsim_file), TGSIM_MAX_FILES) != 0 ||
	    ring_init(&sim->callbacks, sizeof(struct tgsim_callback), TGSIM_MAX_CALLBACKS) != 0)
		goto out;
	sim->next_update_id = sim->first_update_id = TGSIM_FIRST_UPDATE_ID;
	sim->next_file = 1;
	sim->next_callback = 1;
	sim->nallowed = -1;
	rc = 0;
out:
	return rc;
}

void tgsim_store_free(struct tgsim *sim)
{
	if (sim->updates.buf != NULL && sim->sent.buf != NULL && sim->files.buf != NULL)
		clear_all(sim);
	for (size_t i = 0; i < sim->ncommand_sets; i++)
		cJSON_Delete(sim->command_sets[i].commands);
	for (size_t i = 0; i < sim->ndescriptions; i++)
		free(sim->descriptions[i].text);
	sim->ncommand_sets = sim->ndescriptions = 0;
	free(sim->chats);
	free(sim->updates.buf);
	free(sim->sent.buf);
	free(sim->files.buf);
	free(sim->callbacks.buf);
	sim->chats = NULL;
	sim->updates.buf = sim->sent.buf = sim->files.buf = sim->callbacks.buf = NULL;
}

/* Counters restart; update, file and callback ids keep growing, so a bot
 * that remembers an offset never mistakes a new update for an old one. */
void tgsim_store_reset(struct tgsim *sim)
{
	clear_all(sim);
}

struct tgsim_chat *tgsim_chat_find(struct tgsim *sim, int64_t id)
{
	size_t i;

	for (i = 0; i < sim->nchats; i++)
		if (sim->chats[i].id == id)
			return &sim->chats[i];
	return NULL;
}

struct tgsim_chat *tgsim_chat_get(struct tgsim *sim, int64_t id, const char *first_name)
{
	struct tgsim_chat *c = tgsim_chat_find(sim, id);

	if (c == NULL) {
		if (sim->nchats >= TGSIM_MAX_CHATS || id == 0)
			return NULL;
		c = &sim->chats[sim->nchats++];
		memset(c, 0, sizeof(*c));
		c->id = id;
		snprintf(c->first_name, sizeof(c->first_name), "User %" PRId64, id);
	}
	if (first_name != NULL && first_name[0] != '\0')
		snprintf(c->first_name, sizeof(c->first_name), "%s", first_name);
	return c;
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
	if (uid != NULL && keep_id && tgsim_json_i64(uid, &v) == 0 && v >= 0) {
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
		update_free(sim, tgsim_ring_at(&sim->updates, 0));
		ring_pop(&sim->updates);
		sim->st.updates_dropped++;
	}
	u = ring_push(&sim->updates);
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
			u = tgsim_ring_at(&sim->updates, 0);
			if (u->id + 1 > sim->confirmed_offset)
				sim->confirmed_offset = u->id + 1;
			update_free(sim, u);
			ring_pop(&sim->updates);
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
		u = tgsim_ring_at(&sim->updates, i);
		if (u->id < offset) {
			update_free(sim, u);
			continue;
		}
		if (keep != i)
			memcpy(tgsim_ring_at(&sim->updates, keep), u, sizeof(*u));
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
		u = tgsim_ring_at(&sim->updates, i);
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
	if (offset > 0 && sim->next_update_id > sim->first_update_id && offset > sim->next_update_id + 10)
		return 0;
	return offset;
}

int tgsim_update_pending(struct tgsim *sim, int64_t offset)
{
	size_t i;
	int n = 0;

	for (i = 0; i < sim->updates.n; i++)
		if (offset <= 0 || ((struct tgsim_update *)tgsim_ring_at(&sim->updates, i))->id >= offset)
			n++;
	return n;
}

int tgsim_sent_push(struct tgsim *sim, int64_t chat_id, int64_t message_id,
                    int64_t reply_to, char *text, cJSON *markup)
{
	struct tgsim_sent *m;
	char *printed = NULL;
	size_t bytes = sizeof(*m) + (text != NULL ? strlen(text) : 0);

	if (markup != NULL) {
		if ((printed = cJSON_PrintUnformatted(markup)) == NULL) {
			free(text);
			cJSON_Delete(markup);
			return -CB_ENOMEM;
		}
		bytes += strlen(printed);
		free(printed);
	}
	while (sim->sent.n > 0 && (sim->sent.n >= sim->sent.cap ||
	                           sim->sent_bytes + bytes > TGSIM_MAX_SENT_BYTES)) {
		sent_free(sim, tgsim_ring_at(&sim->sent, 0));
		ring_pop(&sim->sent);
	}
	m = ring_push(&sim->sent);
	m->chat_id = chat_id;
	m->message_id = message_id;
	m->reply_to = reply_to;
	m->at_ms = wall_ms();
	m->text = text;
	m->markup = markup;
	m->bytes = bytes;
	sim->sent_bytes += bytes;
	return 0;
}

const struct tgsim_sent *tgsim_sent_find(struct tgsim *sim, int64_t chat_id,
                                         int64_t message_id)
{
	const struct tgsim_sent *m;
	size_t i;

	for (i = sim->sent.n; i > 0; i--) {
		m = tgsim_ring_at(&sim->sent, i - 1);
		if (m->chat_id == chat_id && (message_id == 0 || m->message_id == message_id))
			return m;
	}
	return NULL;
}

int tgsim_file_add(struct tgsim *sim, const char *dir, const char *ext,
                   int64_t size, enum tgsim_gen gen, const void *data,
                   struct tgsim_file **out)
{
	struct tgsim_file *f;
	unsigned char *copy = NULL;
	uint64_t seq = sim->next_file;

	if (size < 0 || (data != NULL && (uint64_t)size > TGSIM_MAX_FILE_BYTES))
		return -CB_ETOOBIG;
	if (data != NULL) {
		if ((copy = malloc(size > 0 ? (size_t)size : 1)) == NULL)
			return -CB_ENOMEM;
		memcpy(copy, data, (size_t)size);
	}
	while (sim->files.n > 0 && (sim->files.n >= sim->files.cap ||
	                            (copy != NULL && sim->file_bytes + (size_t)size > TGSIM_MAX_FILE_BYTES))) {
		file_free(sim, tgsim_ring_at(&sim->files, 0));
		ring_pop(&sim->files);
	}
	sim->next_file++;
	f = ring_push(&sim->files);
	/* Base64url-looking ids, as Telegram's are; the path only from a safe
	 * alphabet, since it becomes part of a download URL. */
	snprintf(f->file_id, sizeof(f->file_id), "AgACAgQAAxkBAAI%012" PRIu64 "Sim", seq);
	snprintf(f->unique_id, sizeof(f->unique_id), "AQAD%010" PRIu64, seq);
	if (size <= 20 * 1024 * 1024)
		snprintf(f->path, sizeof(f->path), "%s/file_%" PRIu64 ".%s", dir, seq, ext);
	f->size = size;
	f->gen = gen;
	f->data = copy;
	if (copy != NULL)
		sim->file_bytes += (size_t)size;
	*out = f;
	return 0;
}

struct tgsim_file *tgsim_file_by_id(struct tgsim *sim, const char *file_id)
{
	struct tgsim_file *f;
	size_t i;

	for (i = 0; i < sim->files.n; i++) {
		f = tgsim_ring_at(&sim->files, i);
		if (strcmp(f->file_id, file_id) == 0)
			return f;
	}
	return NULL;
}

struct tgsim_file *tgsim_file_by_path(struct tgsim *sim, const char *path)
{
	struct tgsim_file *f;
	size_t i;

	for (i = 0; i < sim->files.n; i++) {
		f = tgsim_ring_at(&sim->files, i);
		if (f->path[0] != '\0' && strcmp(f->path, path) == 0)
			return f;
	}
	return NULL;
}

static void gen_fill(enum tgsim_gen gen, unsigned char *buf, size_t len)
{
	static const unsigned char jpeg[] = {
		0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00,
		0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00
	};
	static const char pdf[] = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n";
	static const char pdf_end[] = "\n%%EOF\n";
	/* An x86-64 executable: ELF header and one PT_LOAD program header. */
	static const unsigned char elf[] = {
		0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x3E, 0x00, 0x01, 0x00, 0x00, 0x00,
		0x00, 0x10, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x38, 0x00, 0x01, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	/* An Ogg page starting an Opus stream (OpusHead, mono, 48 kHz). */
	static const unsigned char ogg[] = {
		0x4F, 0x67, 0x67, 0x53, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x01, 0x13, 0x4F, 0x70, 0x75, 0x73, 0x48, 0x65, 0x61, 0x64,
		0x01, 0x01, 0x38, 0x01, 0x80, 0xBB, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	const unsigned char *head = NULL;
	size_t hlen = 0;

	memset(buf, 0, len);
	switch (gen) {
	case GEN_JPEG: head = jpeg; hlen = sizeof(jpeg); break;
	case GEN_PDF:
		memset(buf, ' ', len);
		head = (const unsigned char *)pdf;
		hlen = sizeof(pdf) - 1;
		break;
	case GEN_EXE: head = elf; hlen = sizeof(elf); break;
	case GEN_OGG: head = ogg; hlen = sizeof(ogg); break;
	default: break;
	}
	if (head != NULL)
		memcpy(buf, head, hlen < len ? hlen : len);
	if (gen == GEN_JPEG && len >= hlen + 2) {
		buf[len - 2] = 0xFF;
		buf[len - 1] = 0xD9;
	}
	if (gen == GEN_PDF && len >= hlen + sizeof(pdf_end) - 1)
		memcpy(buf + len - (sizeof(pdf_end) - 1), pdf_end, sizeof(pdf_end) - 1);
}

unsigned char *tgsim_file_bytes(const struct tgsim_file *f)
{
	unsigned char *buf = malloc(f->size > 0 ? (size_t)f->size : 1);

	if (buf == NULL)
		return NULL;
	if (f->data != NULL)
		memcpy(buf, f->data, (size_t)f->size);
	else
		gen_fill(f->gen, buf, (size_t)f->size);
	return buf;
}

int tgsim_callback_new(struct tgsim *sim, char *buf, size_t cap)
{
	struct tgsim_callback *c;

	if (sim->callbacks.n >= sim->callbacks.cap)
		ring_pop(&sim->callbacks);
	c = ring_push(&sim->callbacks);
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
	first = tgsim_ring_at(&sim->callbacks, 0);
	if (v < first->seq || v - first->seq >= sim->callbacks.n)
		return -CB_ENOENT;
	c = tgsim_ring_at(&sim->callbacks, (size_t)(v - first->seq));
	if (c->answered)
		return -CB_ESTATE;
	c->answered = 1;
	sim->st.callbacks_answered++;
	return 0;
}

int tgsim_fault_add(struct tgsim *sim, const struct tgsim_fault *f)
{
	size_t i;

	for (i = 0; i < TGSIM_MAX_FAULTS; i++) {
		if (sim->faults[i].left <= 0) {
			sim->faults[i] = *f;
			return 0;
		}
	}
	return -CB_ETOOBIG;
}

void tgsim_fault_clear(struct tgsim *sim)
{
	memset(sim->faults, 0, sizeof(sim->faults));
}

/* Faults apply in the order they were added; "empty" only ever to
 * getUpdates, the one method it means something for. */
int tgsim_fault_take(struct tgsim *sim, const char *method, struct tgsim_fault *out)
{
	struct tgsim_fault *f;
	size_t i;

	for (i = 0; i < TGSIM_MAX_FAULTS; i++) {
		f = &sim->faults[i];
		if (f->left <= 0)
			continue;
		if (f->method[0] != '\0' && strcmp(f->method, method) != 0)
			continue;
		/* A download is not an API call: only "file" faults reach it. */
		if (f->method[0] == '\0' && strcmp(method, "file") == 0)
			continue;
		if (f->kind == FAULT_EMPTY && strcmp(method, "getUpdates") != 0)
			continue;
		f->left--;
		*out = *f;
		return 0;
	}
	return -CB_ENOENT;
}

int tgsim_faults_left(const struct tgsim *sim)
{
	int n = 0;
	size_t i;

	for (i = 0; i < TGSIM_MAX_FAULTS; i++)
		if (sim->faults[i].left > 0)
			n += sim->faults[i].left;
	return n;
}

void tgsim_rate_check(const struct tgsim *sim, const struct tgsim_chat *c,
                      uint64_t now, int *chat, int *global, uint64_t *wait_ms)
{
	uint64_t gap = (uint64_t)(TGSIM_CHAT_GAP_MS - sim->chat_tol_ms);
	uint64_t window = (uint64_t)(1000 - sim->global_tol_ms);
	uint64_t oldest;

	*chat = *global = 0;
	*wait_ms = 0;
	if (c->has_sent && now - c->last_send_ms < gap) {
		*chat = 1;
		*wait_ms = TGSIM_CHAT_GAP_MS - (now - c->last_send_ms);
	}
	/* Thirty sends already in the window make this one the 31st. */
	if (sim->nglobal == TGSIM_GLOBAL_PER_SEC) {
		oldest = sim->global_times[sim->global_head];
		if (now - oldest < window) {
			*global = 1;
			if (1000 - (now - oldest) > *wait_ms)
				*wait_ms = 1000 - (now - oldest);
		}
	}
}

void tgsim_rate_record(struct tgsim *sim, struct tgsim_chat *c, uint64_t now)
{
	c->last_send_ms = now;
	c->has_sent = 1;
	if (sim->nglobal < TGSIM_GLOBAL_PER_SEC) {
		sim->global_times[(sim->global_head + sim->nglobal) % TGSIM_GLOBAL_PER_SEC] = now;
		sim->nglobal++;
	} else {
		sim->global_times[sim->global_head] = now;
		sim->global_head = (sim->global_head + 1) % TGSIM_GLOBAL_PER_SEC;
	}
}
