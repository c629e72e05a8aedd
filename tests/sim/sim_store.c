/* The simulator's state. Every store is a ring with a count cap and, where
 * items vary in size, a byte cap: a runaway bot or test fills it and the
 * oldest entries go, memory never grows past the caps. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/sim/sim.h"

uint64_t sim_now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

int64_t sim_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sim_ring_init(struct sim_ring *r, size_t esz, size_t cap)
{
	r->buf = calloc(cap, esz);
	r->esz = esz;
	r->cap = cap;
	r->head = r->n = 0;
	return r->buf != NULL ? 0 : -CB_ENOMEM;
}

void *sim_ring_at(const struct sim_ring *r, size_t i)
{
	return r->buf + ((r->head + i) % r->cap) * r->esz;
}

/* A zeroed slot at the tail; the caller has made room. */
void *sim_ring_push(struct sim_ring *r)
{
	void *slot = sim_ring_at(r, r->n);

	memset(slot, 0, r->esz);
	r->n++;
	return slot;
}

void sim_ring_pop(struct sim_ring *r)
{
	r->head = (r->head + 1) % r->cap;
	r->n--;
}

static void sent_free(struct sim *sim, struct sim_sent *m)
{
	free(m->text);
	cJSON_Delete(m->markup);
	sim->sent_bytes -= m->bytes;
}

static void file_free(struct sim *sim, struct sim_file *f)
{
	if (f->data != NULL)
		sim->file_bytes -= (size_t)f->size;
	free(f->data);
}

static void clear_all(struct sim *sim)
{
	size_t i;

	for (i = 0; i < sim->sent.n; i++)
		sent_free(sim, sim_ring_at(&sim->sent, i));
	sim->sent.n = sim->sent.head = 0;
	for (i = 0; i < sim->files.n; i++)
		file_free(sim, sim_ring_at(&sim->files, i));
	sim->files.n = sim->files.head = 0;
	sim->nchats = 0;
	sim->nglobal = sim->global_head = 0;
	sim_fault_clear(sim);
}

int sim_store_init(struct sim *sim)
{
	int rc = -CB_ENOMEM;

	sim->chats = calloc(SIM_MAX_CHATS, sizeof(*sim->chats));
	if (sim->chats == NULL)
		goto out;
	if (sim_ring_init(&sim->sent, sizeof(struct sim_sent), SIM_MAX_SENT) != 0 ||
	    sim_ring_init(&sim->files, sizeof(struct sim_file), SIM_MAX_FILES) != 0)
		goto out;
	sim->next_file = 1;
	if (sim->global_per_sec <= 0 || sim->global_per_sec > SIM_GLOBAL_MAX)
		sim->global_per_sec = 30;
	if (sim->chat_gap_ms <= 0)
		sim->chat_gap_ms = 1000;
	rc = 0;
out:
	return rc;
}

void sim_store_free(struct sim *sim)
{
	if (sim->sent.buf != NULL && sim->files.buf != NULL)
		clear_all(sim);
	free(sim->chats);
	free(sim->sent.buf);
	free(sim->files.buf);
	sim->chats = NULL;
	sim->sent.buf = sim->files.buf = NULL;
}

void sim_store_reset(struct sim *sim)
{
	clear_all(sim);
	sim->clock_offset_ms = 0;
}

int64_t sim_clock_ms(const struct sim *sim)
{
	return sim_wall_ms() + sim->clock_offset_ms;
}


struct sim_chat *sim_chat_find(struct sim *sim, int64_t id)
{
	size_t i;

	for (i = 0; i < sim->nchats; i++)
		if (sim->chats[i].id == id)
			return &sim->chats[i];
	return NULL;
}

struct sim_chat *sim_chat_by_user_id(struct sim *sim, const char *user_id)
{
	size_t i;

	if (user_id == NULL || user_id[0] == '\0')
		return NULL;
	for (i = 0; i < sim->nchats; i++)
		if (strcmp(sim->chats[i].user_id, user_id) == 0)
			return &sim->chats[i];
	return NULL;
}

struct sim_chat *sim_chat_get(struct sim *sim, int64_t id, const char *first_name)
{
	struct sim_chat *c = sim_chat_find(sim, id);

	if (c == NULL) {
		if (sim->nchats >= SIM_MAX_CHATS || id == 0)
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


int sim_sent_push(struct sim *sim, int64_t chat_id, int64_t message_id,
                  int64_t reply_to, char *text, cJSON *markup, struct sim_sent **out)
{
	struct sim_sent *m;
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
	                           sim->sent_bytes + bytes > SIM_MAX_SENT_BYTES)) {
		sent_free(sim, sim_ring_at(&sim->sent, 0));
		sim_ring_pop(&sim->sent);
	}
	m = sim_ring_push(&sim->sent);
	m->chat_id = chat_id;
	m->message_id = message_id;
	m->reply_to = reply_to;
	m->at_ms = sim_wall_ms();
	m->text = text;
	m->markup = markup;
	m->bytes = bytes;
	sim->sent_bytes += bytes;
	if (out != NULL)
		*out = m;
	return 0;
}

const struct sim_sent *sim_sent_find(struct sim *sim, int64_t chat_id, int64_t message_id)
{
	const struct sim_sent *m;
	size_t i;

	for (i = sim->sent.n; i > 0; i--) {
		m = sim_ring_at(&sim->sent, i - 1);
		if (m->chat_id == chat_id && (message_id == 0 || m->message_id == message_id))
			return m;
	}
	return NULL;
}

int sim_file_add(struct sim *sim, const char *dir, const char *ext,
                   int64_t size, enum sim_gen gen, const void *data,
                   struct sim_file **out)
{
	struct sim_file *f;
	unsigned char *copy = NULL;
	uint64_t seq = sim->next_file;

	if (size < 0 || (data != NULL && (uint64_t)size > SIM_MAX_FILE_BYTES))
		return -CB_ETOOBIG;
	if (data != NULL) {
		if ((copy = malloc(size > 0 ? (size_t)size : 1)) == NULL)
			return -CB_ENOMEM;
		memcpy(copy, data, (size_t)size);
	}
	while (sim->files.n > 0 && (sim->files.n >= sim->files.cap ||
	                            (copy != NULL && sim->file_bytes + (size_t)size > SIM_MAX_FILE_BYTES))) {
		file_free(sim, sim_ring_at(&sim->files, 0));
		sim_ring_pop(&sim->files);
	}
	sim->next_file++;
	f = sim_ring_push(&sim->files);
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

struct sim_file *sim_file_by_id(struct sim *sim, const char *file_id)
{
	struct sim_file *f;
	size_t i;

	for (i = 0; i < sim->files.n; i++) {
		f = sim_ring_at(&sim->files, i);
		if (strcmp(f->file_id, file_id) == 0)
			return f;
	}
	return NULL;
}

struct sim_file *sim_file_by_path(struct sim *sim, const char *path)
{
	struct sim_file *f;
	size_t i;

	for (i = 0; i < sim->files.n; i++) {
		f = sim_ring_at(&sim->files, i);
		if (f->path[0] != '\0' && strcmp(f->path, path) == 0)
			return f;
	}
	return NULL;
}

static void gen_fill(enum sim_gen gen, unsigned char *buf, size_t len)
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

unsigned char *sim_file_bytes(const struct sim_file *f)
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

const struct sim_sent *sim_sent_by_mid(struct sim *sim, const char *mid)
{
	const struct sim_sent *m;
	size_t i;

	for (i = sim->sent.n; i > 0; i--) {
		m = sim_ring_at(&sim->sent, i - 1);
		if (m->mid[0] != '\0' && strcmp(m->mid, mid) == 0)
			return m;
	}
	return NULL;
}

int sim_sent_count(const struct sim *sim, int64_t chat)
{
	int n = 0;

	for (size_t i = 0; i < sim->sent.n; i++)
		if (chat == 0 || ((const struct sim_sent *)sim_ring_at(&sim->sent, i))->chat_id == chat)
			n++;
	return n;
}

int sim_fault_add(struct sim *sim, const struct sim_fault *f)
{
	size_t i;

	for (i = 0; i < SIM_MAX_FAULTS; i++) {
		if (sim->faults[i].left <= 0) {
			sim->faults[i] = *f;
			return 0;
		}
	}
	return -CB_ETOOBIG;
}

void sim_fault_clear(struct sim *sim)
{
	memset(sim->faults, 0, sizeof(sim->faults));
}

/* Faults apply in the order they were added. */
int sim_fault_take(struct sim *sim, const char *method, int empty_ok, struct sim_fault *out)
{
	struct sim_fault *f;
	size_t i;

	for (i = 0; i < SIM_MAX_FAULTS; i++) {
		f = &sim->faults[i];
		if (f->left <= 0)
			continue;
		if (f->method[0] != '\0' && strcmp(f->method, method) != 0)
			continue;
		/* A download is not an API call: only "file" faults reach it. */
		if (f->method[0] == '\0' && strcmp(method, "file") == 0)
			continue;
		if (f->kind == FAULT_EMPTY && !empty_ok)
			continue;
		f->left--;
		*out = *f;
		return 0;
	}
	return -CB_ENOENT;
}

int sim_faults_left(const struct sim *sim)
{
	int n = 0;
	size_t i;

	for (i = 0; i < SIM_MAX_FAULTS; i++)
		if (sim->faults[i].left > 0)
			n += sim->faults[i].left;
	return n;
}

void sim_rate_check(const struct sim *sim, const struct sim_chat *c,
                      uint64_t now, int *chat, int *global, uint64_t *wait_ms)
{
	uint64_t gap = (uint64_t)(sim->chat_gap_ms > sim->chat_tol_ms ? sim->chat_gap_ms - sim->chat_tol_ms : 0);
	uint64_t window = (uint64_t)(1000 - sim->global_tol_ms);
	uint64_t oldest;

	*chat = *global = 0;
	*wait_ms = 0;
	if (c->has_sent && now - c->last_send_ms < gap) {
		*chat = 1;
		*wait_ms = (uint64_t)sim->chat_gap_ms - (now - c->last_send_ms);
	}
	/* global_per_sec sends already in the window make this one too many. */
	if (sim->nglobal == (size_t)sim->global_per_sec) {
		oldest = sim->global_times[sim->global_head];
		if (now - oldest < window) {
			*global = 1;
			if (1000 - (now - oldest) > *wait_ms)
				*wait_ms = 1000 - (now - oldest);
		}
	}
}

void sim_rate_record(struct sim *sim, struct sim_chat *c, uint64_t now)
{
	c->last_send_ms = now;
	c->has_sent = 1;
	if (sim->nglobal < (size_t)sim->global_per_sec) {
		sim->global_times[(sim->global_head + sim->nglobal) % (size_t)sim->global_per_sec] = now;
		sim->nglobal++;
	} else {
		sim->global_times[sim->global_head] = now;
		sim->global_head = (sim->global_head + 1) % (size_t)sim->global_per_sec;
	}
}

static int field_i64(const cJSON *in, const char *name, int64_t def, int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(in, name);

	if (it == NULL || cJSON_IsNull(it)) {
		*out = def;
		return 0;
	}
	return sim_json_i64(it, out);
}

int sim_fault_parse(const cJSON *in, struct sim_fault *f, int *clear, const char **why)
{
	static const struct { const char *name; enum sim_fault_kind kind; } kinds[] = {
		{"429", FAULT_429}, {"500", FAULT_500}, {"slow", FAULT_SLOW},
		{"drop", FAULT_DROP}, {"garbage", FAULT_GARBAGE}, {"empty", FAULT_EMPTY},
		{"400", FAULT_400},
	};
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(in, "kind");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(in, "method");
	const char *kind = cJSON_IsString(k) ? k->valuestring : "";
	const char *method = cJSON_IsString(m) ? m->valuestring : "";
	int64_t count, retry, delay;
	size_t i;

	memset(f, 0, sizeof(*f));
	*clear = strcmp(kind, "clear") == 0;
	if (*clear)
		return 0;
	for (i = 0; i < CB_ARRAY_SIZE(kinds); i++)
		if (strcmp(kind, kinds[i].name) == 0)
			f->kind = kinds[i].kind;
	if (f->kind == 0) {
		*why = "kind must be 429, 500, 400, slow, drop, garbage, empty or clear";
		return -CB_EINVAL;
	}
	if (field_i64(in, "count", 1, &count) != 0 || count < 1 || count > 1000000 ||
	    field_i64(in, "retry_after", 5, &retry) != 0 || retry < 1 || retry > 86400 ||
	    field_i64(in, "delay_ms", 0, &delay) != 0 || delay < 0 || delay > 3600000) {
		*why = "count 1..1000000, retry_after 1..86400, delay_ms 0..3600000";
		return -CB_EINVAL;
	}
	if (f->kind == FAULT_SLOW && delay == 0)
		delay = 2000;
	if (cb_strlcpy(f->method, method, sizeof(f->method)) != 0 ||
	    strspn(method, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_") != strlen(method)) {
		*why = "method must be a method name";
		return -CB_EINVAL;
	}
	f->left = (int)count;
	f->retry_after = (int)retry;
	f->delay_ms = (int)delay;
	f->html = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(in, "html"));
	return 0;
}
