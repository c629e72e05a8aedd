/* The control interface under /control: tests and the demo page inject
 * what a family would do on its phone and read back what the bot sent.
 * JSON in, JSON out, whatever the Content-Type (so "curl -d" works); a
 * POST a browser sends from another site is refused, so only the demo page
 * of this server can drive it.
 *
 *   POST message  {chat_id, text, first_name?, last_name?, username?,
 *                  language_code?, reply_to_message_id?} -> {update_id, message_id}
 *   POST chat     {chat_id, first_name?}   makes a chat known, no update
 *   POST button   {chat_id, data, message_id?} -> {update_id, callback_query_id, message_id}
 *   POST photo    {chat_id, bytes?, caption?} -> {update_id, message_id, file_id}
 *   POST document {chat_id, content_base64, file_name?, mime_type?, caption?}
 *                 or {chat_id, kind: pdf|exe|bin, bytes?, ...} -> same
 *   POST voice    {chat_id, seconds?};  POST location {chat_id, latitude?, longitude?}
 *   POST block / unblock {chat_id} -> {update_id (0: no change), blocked}
 *   POST raw      {update: any JSON} -> {update_id}
 *   POST fault    {kind: 429|500|400|slow|drop|garbage|empty|clear, count?,
 *                  retry_after?, delay_ms?, method?, html?} -> {faults_left}
 *   POST reset
 *   GET  sent[?chat_id=N] -> {messages: [{chat_id, message_id, text,
 *                  reply_markup, reply_to_message_id, at_ms}]}
 *   GET  stats
 *   GET  wait?chat_id=N&count=K&timeout_ms=T -> {count}: answered as soon
 *                  as the bot has sent at least K messages to chat N (to any
 *                  chat without chat_id), or after T ms (at most 60 s) with
 *                  the count then; tests wait on this instead of polling.
 * A message from a chat that blocked the bot unblocks it first, with the
 * my_chat_member update Telegram sends when a user presses "Restart". */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "bot/log.h"
#include "bot/gateways/telegram_api.h"
#include "tests/sim/tgsim.h"

#define PHOTO_MIN 64
#define FILE_SIZE_MAX (4LL * 1024 * 1024 * 1024)  /* generated files; Telegram's own cap */

static struct tgsim *front(const struct sim_ctl *c)
{
	return c->ctx;
}

static struct sim_chat *in_chat(struct sim_ctl *c)
{
	struct sim_chat *chat;
	int64_t id;

	if (sim_ctl_i64(c, "chat_id", 0, &id) != 0 || id == 0) {
		sim_ctl_error(c, 400, "chat_id must be a non-zero integer");
		return NULL;
	}
	if ((chat = sim_chat_get(&front(c)->core, id, sim_ctl_str(c, "first_name", NULL))) == NULL)
		sim_ctl_error(c, 507, "too many chats");
	return chat;
}

static cJSON *user_obj(const struct sim_ctl *c, const struct sim_chat *chat)
{
	static const char *const extra[] = {"last_name", "username", "language_code"};
	cJSON *u = cJSON_CreateObject();
	const char *v;
	size_t i;

	if (u == NULL)
		return NULL;
	cJSON_AddNumberToObject(u, "id", (double)chat->id);
	cJSON_AddFalseToObject(u, "is_bot");
	cJSON_AddStringToObject(u, "first_name", chat->first_name);
	for (i = 0; c != NULL && i < CB_ARRAY_SIZE(extra); i++)
		if ((v = sim_ctl_str(c, extra[i], NULL)) != NULL)
			cJSON_AddStringToObject(u, extra[i], v);
	return u;
}

/* A message the bot sent, as it appears inside an update. */
static cJSON *bot_message(struct tgsim *sim, const struct sim_chat *chat, int64_t message_id)
{
	const struct sim_sent *m = sim_sent_find(&sim->core, chat->id, message_id);
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "message_id", (double)(m != NULL ? m->message_id : message_id));
	cJSON_AddItemToObject(o, "from", tgsim_bot_json(sim));
	cJSON_AddItemToObject(o, "chat", tgsim_chat_json(chat));
	cJSON_AddNumberToObject(o, "date", (double)(m != NULL ? m->at_ms / 1000 : time(NULL)));
	if (m != NULL && m->text != NULL)
		cJSON_AddStringToObject(o, "text", m->text);
	if (m != NULL && m->markup != NULL)
		cJSON_AddItemToObject(o, "reply_markup", cJSON_Duplicate(m->markup, 1));
	return o;
}

/* Queues {"update_id":U, kind: payload}, wakes the long poll, and answers
 * {"update_id":U, ...out}. Takes payload and out. */
static void inject(struct sim_ctl *c, const char *kind, cJSON *payload, cJSON *out)
{
	cJSON *upd = NULL;
	int64_t id = 0;
	int rc;

	if (payload == NULL || out == NULL || (upd = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddItemToObject(upd, kind, payload)) {
		cJSON_Delete(payload);
		cJSON_Delete(upd);
		cJSON_Delete(out);
		sim_ctl_error(c, 500, "out of memory");
		return;
	}
	if ((rc = tgsim_update_push(front(c), upd, 0, &id)) != 0) {
		cJSON_Delete(out);
		sim_ctl_error(c, 500, casebot_strerror(rc));
		return;
	}
	tgsim_api_wake(front(c));
	cJSON_AddNumberToObject(out, "update_id", (double)id);
	sim_ctl_reply(c, 200, out);
}

static cJSON *member_change(struct tgsim *sim, const struct sim_chat *chat,
                            const char *old_status, const char *new_status)
{
	cJSON *o = cJSON_CreateObject(), *old_m, *new_m;

	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "chat", tgsim_chat_json(chat));
	cJSON_AddItemToObject(o, "from", user_obj(NULL, chat));
	cJSON_AddNumberToObject(o, "date", (double)time(NULL));
	if ((old_m = cJSON_AddObjectToObject(o, "old_chat_member")) != NULL) {
		cJSON_AddItemToObject(old_m, "user", tgsim_bot_json(sim));
		cJSON_AddStringToObject(old_m, "status", old_status);
	}
	if ((new_m = cJSON_AddObjectToObject(o, "new_chat_member")) != NULL) {
		cJSON_AddItemToObject(new_m, "user", tgsim_bot_json(sim));
		cJSON_AddStringToObject(new_m, "status", new_status);
		if (strcmp(new_status, "kicked") == 0)
			cJSON_AddNumberToObject(new_m, "until_date", 0);
	}
	return o;
}

/* Flips the blocked state with the my_chat_member update Telegram sends;
 * *id is 0 when nothing changed. */
static int set_blocked(struct tgsim *sim, struct sim_chat *chat, int blocked, int64_t *id)
{
	cJSON *upd;
	int rc;

	*id = 0;
	if (chat->blocked == blocked)
		return 0;
	chat->blocked = blocked;
	upd = cJSON_CreateObject();
	if (upd == NULL || !cJSON_AddItemToObject(upd, "my_chat_member",
	                                          member_change(sim, chat, blocked ? "member" : "kicked",
	                                                        blocked ? "kicked" : "member"))) {
		cJSON_Delete(upd);
		return -CB_ENOMEM;
	}
	rc = tgsim_update_push(sim, upd, 0, id);
	tgsim_api_wake(sim);
	return rc;
}

/* A message from the family: from, chat, date and a new message_id. A
 * family that blocked the bot has to unblock it to write (Telegram's
 * "Restart"), which Telegram reports first. */
static cJSON *user_message(struct sim_ctl *c, struct sim_chat *chat, int64_t *message_id)
{
	cJSON *m;
	int64_t upd_id, reply_to;

	if (chat->blocked && set_blocked(front(c), chat, 0, &upd_id) != 0)
		return NULL;
	if ((m = cJSON_CreateObject()) == NULL)
		return NULL;
	*message_id = ++chat->last_message_id;
	cJSON_AddNumberToObject(m, "message_id", (double)*message_id);
	cJSON_AddItemToObject(m, "from", user_obj(c, chat));
	cJSON_AddItemToObject(m, "chat", tgsim_chat_json(chat));
	cJSON_AddNumberToObject(m, "date", (double)time(NULL));
	if (sim_ctl_i64(c, "reply_to_message_id", 0, &reply_to) == 0 && reply_to > 0)
		cJSON_AddItemToObject(m, "reply_to_message", bot_message(front(c), chat, reply_to));
	return m;
}

static cJSON *ids_out(int64_t message_id, const char *file_id)
{
	cJSON *out = cJSON_CreateObject();

	if (out == NULL)
		return NULL;
	cJSON_AddNumberToObject(out, "message_id", (double)message_id);
	if (file_id != NULL)
		cJSON_AddStringToObject(out, "file_id", file_id);
	return out;
}

static void c_message(struct sim_ctl *c)
{
	const char *text = sim_ctl_str(c, "text", NULL);
	struct sim_chat *chat;
	cJSON *m, *ents, *e;
	int64_t mid = 0;
	size_t n;

	if (text == NULL) {
		sim_ctl_error(c, 400, "text must be a string");
		return;
	}
	if ((chat = in_chat(c)) == NULL)
		return;
	if ((m = user_message(c, chat, &mid)) == NULL) {
		sim_ctl_error(c, 500, "out of memory");
		return;
	}
	cJSON_AddStringToObject(m, "text", text);
	/* Telegram marks a leading /command (with an optional @botname). */
	n = text[0] == '/' ? 1 + strspn(text + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@") : 0;
	if (n > 1 && (ents = cJSON_AddArrayToObject(m, "entities")) != NULL &&
	    (e = cJSON_CreateObject()) != NULL) {
		cJSON_AddNumberToObject(e, "offset", 0);
		cJSON_AddNumberToObject(e, "length", (double)n);
		cJSON_AddStringToObject(e, "type", "bot_command");
		cJSON_AddItemToArray(ents, e);
	}
	inject(c, "message", m, ids_out(mid, NULL));
}

static void c_chat(struct sim_ctl *c)
{
	struct sim_chat *chat = in_chat(c);
	cJSON *out;

	if (chat == NULL)
		return;
	if ((out = cJSON_CreateObject()) != NULL) {
		cJSON_AddNumberToObject(out, "chat_id", (double)chat->id);
		cJSON_AddStringToObject(out, "first_name", chat->first_name);
		cJSON_AddBoolToObject(out, "blocked", chat->blocked);
	}
	sim_ctl_reply(c, 200, out);
}

static void c_button(struct sim_ctl *c)
{
	const char *data = sim_ctl_str(c, "data", NULL);
	const struct sim_sent *last;
	struct sim_chat *chat;
	char cbid[32], inst[32];
	int64_t mid;
	cJSON *q, *out;

	if (data == NULL) {
		sim_ctl_error(c, 400, "data must be a string");
		return;
	}
	if (sim_ctl_i64(c, "message_id", 0, &mid) != 0) {
		sim_ctl_error(c, 400, "message_id must be an integer");
		return;
	}
	if ((chat = in_chat(c)) == NULL)
		return;
	/* Without a message_id the button sits on the bot's latest message. */
	if (mid == 0 && (last = sim_sent_find(&front(c)->core, chat->id, 0)) != NULL)
		mid = last->message_id;
	tgsim_callback_new(front(c), cbid, sizeof(cbid));
	/* Stable per chat, negative-looking like Telegram's; unsigned, so it
	 * cannot overflow. */
	snprintf(inst, sizeof(inst), "-%" PRIu64, (uint64_t)chat->id * 7919u + 104729u);
	if ((q = cJSON_CreateObject()) == NULL || (out = cJSON_CreateObject()) == NULL) {
		cJSON_Delete(q);
		sim_ctl_error(c, 500, "out of memory");
		return;
	}
	cJSON_AddStringToObject(q, "id", cbid);
	cJSON_AddItemToObject(q, "from", user_obj(c, chat));
	cJSON_AddItemToObject(q, "message", bot_message(front(c), chat, mid));
	cJSON_AddStringToObject(q, "chat_instance", inst);
	cJSON_AddStringToObject(q, "data", data);
	cJSON_AddStringToObject(out, "callback_query_id", cbid);
	cJSON_AddNumberToObject(out, "message_id", (double)mid);
	inject(c, "callback_query", q, out);
}

static cJSON *file_obj(const struct sim_file *f)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "file_id", f->file_id);
	cJSON_AddStringToObject(o, "file_unique_id", f->unique_id);
	cJSON_AddNumberToObject(o, "file_size", (double)f->size);
	return o;
}

static int in_size(struct sim_ctl *c, const char *name, int64_t def, int64_t min, int64_t *out)
{
	if (sim_ctl_i64(c, name, def, out) != 0 || *out < 0 || *out > FILE_SIZE_MAX) {
		sim_ctl_error(c, 400, "bytes must be an integer from 0 to 4 GiB");
		return -CB_EINVAL;
	}
	if (*out < min)
		*out = min;
	return 0;
}

static void add_caption(struct sim_ctl *c, cJSON *m)
{
	const char *cap = sim_ctl_str(c, "caption", NULL);

	if (cap != NULL)
		cJSON_AddStringToObject(m, "caption", cap);
}

/* Three sizes, like Telegram's thumbnails; the largest has the size asked
 * for, each one a real JPEG start so libmagic says image/jpeg. */
static void c_photo(struct sim_ctl *c)
{
	static const int dims[3][2] = {{90, 68}, {320, 240}, {1280, 960}};
	struct sim_chat *chat;
	struct sim_file *f;
	int64_t size, sizes[3], mid = 0;
	char largest[48] = "";
	cJSON *m, *arr, *ps;
	int i, rc;

	if (in_size(c, "bytes", 50000, PHOTO_MIN, &size) != 0 || (chat = in_chat(c)) == NULL)
		return;
	sizes[2] = size;
	sizes[0] = size / 16 > PHOTO_MIN ? size / 16 : PHOTO_MIN;
	if (sizes[0] > size)
		sizes[0] = size;
	sizes[1] = size / 4 > sizes[0] ? size / 4 : sizes[0];
	if ((m = user_message(c, chat, &mid)) == NULL ||
	    (arr = cJSON_AddArrayToObject(m, "photo")) == NULL) {
		cJSON_Delete(m);
		sim_ctl_error(c, 500, "out of memory");
		return;
	}
	for (i = 0; i < 3; i++) {
		if ((rc = sim_file_add(&front(c)->core, "photos", "jpg", sizes[i], GEN_JPEG, NULL, &f)) != 0 ||
		    (ps = file_obj(f)) == NULL) {
			cJSON_Delete(m);
			sim_ctl_error(c, 500, rc != 0 ? casebot_strerror(rc) : "out of memory");
			return;
		}
		cJSON_AddNumberToObject(ps, "width", dims[i][0]);
		cJSON_AddNumberToObject(ps, "height", dims[i][1]);
		cJSON_AddItemToArray(arr, ps);
		cb_strlcpy(largest, f->file_id, sizeof(largest));
	}
	add_caption(c, m);
	inject(c, "message", m, ids_out(mid, largest));
}

/* The extension of a file name, for the file_path: letters and digits
 * only, since the path ends up in a URL. */
static void safe_ext(const char *name, char *out, size_t cap)
{
	const char *dot = name != NULL ? strrchr(name, '.') : NULL;
	size_t n = 0;

	if (dot != NULL)
		for (dot++; *dot != '\0' && n + 1 < cap && n < 8; dot++)
			if ((*dot >= 'a' && *dot <= 'z') || (*dot >= 'A' && *dot <= 'Z') ||
			    (*dot >= '0' && *dot <= '9'))
				out[n++] = *dot;
	out[n] = '\0';
	if (n == 0)
		cb_strlcpy(out, "bin", cap);
}

static void c_document(struct sim_ctl *c)
{
	const char *b64 = sim_ctl_str(c, "content_base64", NULL);
	const char *kind = sim_ctl_str(c, "kind", "pdf");
	const char *name, *mime, *def_name, *def_mime;
	enum sim_gen gen;
	struct sim_chat *chat;
	struct sim_file *f;
	unsigned char *bin = NULL;
	size_t b64len, binlen = 0;
	int64_t size = 0, mid = 0;
	char ext[16];
	cJSON *m = NULL, *doc;
	int rc;

	if (strcmp(kind, "pdf") == 0) {
		gen = GEN_PDF;
		def_name = "document.pdf";
		def_mime = "application/pdf";
	} else if (strcmp(kind, "exe") == 0) {
		gen = GEN_EXE;
		def_name = "setup.exe";
		def_mime = "application/x-msdownload";
	} else if (strcmp(kind, "bin") == 0) {
		gen = GEN_BIN;
		def_name = "file.bin";
		def_mime = "application/octet-stream";
	} else {
		sim_ctl_error(c, 400, "kind must be pdf, exe or bin");
		return;
	}
	if (b64 != NULL) {
		gen = GEN_NONE;
		def_name = "file.bin";
		def_mime = "application/octet-stream";
		b64len = strlen(b64);
		if ((bin = malloc(b64len / 4 * 3 + 3)) == NULL) {
			sim_ctl_error(c, 500, "out of memory");
			return;
		}
		if (sodium_base642bin(bin, b64len / 4 * 3 + 3, b64, b64len, "\r\n", &binlen, NULL,
		                      sodium_base64_VARIANT_ORIGINAL) != 0) {
			sim_ctl_error(c, 400, "content_base64 is not base64");
			goto out;
		}
		size = (int64_t)binlen;
	} else if (in_size(c, "bytes", 20000, 64, &size) != 0) {
		return;
	}
	name = sim_ctl_str(c, "file_name", def_name);
	mime = sim_ctl_str(c, "mime_type", def_mime);
	if ((chat = in_chat(c)) == NULL)
		goto out;
	safe_ext(name, ext, sizeof(ext));
	if ((rc = sim_file_add(&front(c)->core, "documents", ext, size, gen, bin, &f)) != 0) {
		sim_ctl_error(c, rc == -CB_ETOOBIG ? 413 : 500, casebot_strerror(rc));
		goto out;
	}
	if ((m = user_message(c, chat, &mid)) == NULL || (doc = file_obj(f)) == NULL) {
		sim_ctl_error(c, 500, "out of memory");
		goto out;
	}
	cJSON_AddStringToObject(doc, "file_name", name);
	cJSON_AddStringToObject(doc, "mime_type", mime);
	cJSON_AddItemToObject(m, "document", doc);
	add_caption(c, m);
	inject(c, "message", m, ids_out(mid, f->file_id));
	m = NULL;
out:
	cJSON_Delete(m);
	free(bin);
}

static void c_voice(struct sim_ctl *c)
{
	struct sim_chat *chat;
	struct sim_file *f;
	int64_t secs, mid = 0;
	cJSON *m, *v;
	int rc;

	if (sim_ctl_i64(c, "seconds", 3, &secs) != 0 || secs < 1 || secs > 3600) {
		sim_ctl_error(c, 400, "seconds must be 1 to 3600");
		return;
	}
	if ((chat = in_chat(c)) == NULL)
		return;
	/* Opus voice notes run at about 2 kB a second. */
	if ((rc = sim_file_add(&front(c)->core, "voice", "oga", secs * 2000, GEN_OGG, NULL, &f)) != 0) {
		sim_ctl_error(c, 500, casebot_strerror(rc));
		return;
	}
	if ((m = user_message(c, chat, &mid)) == NULL || (v = file_obj(f)) == NULL) {
		cJSON_Delete(m);
		sim_ctl_error(c, 500, "out of memory");
		return;
	}
	cJSON_AddNumberToObject(v, "duration", (double)secs);
	cJSON_AddStringToObject(v, "mime_type", "audio/ogg");
	cJSON_AddItemToObject(m, "voice", v);
	inject(c, "message", m, ids_out(mid, f->file_id));
}

static void c_location(struct sim_ctl *c)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(c->in, "latitude");
	const cJSON *lon = cJSON_GetObjectItemCaseSensitive(c->in, "longitude");
	struct sim_chat *chat;
	int64_t mid = 0;
	cJSON *m, *loc;

	if ((chat = in_chat(c)) == NULL)
		return;
	if ((m = user_message(c, chat, &mid)) == NULL ||
	    (loc = cJSON_AddObjectToObject(m, "location")) == NULL) {
		cJSON_Delete(m);
		sim_ctl_error(c, 500, "out of memory");
		return;
	}
	/* Brussels, unless told otherwise. */
	cJSON_AddNumberToObject(loc, "latitude", cJSON_IsNumber(lat) ? lat->valuedouble : 50.846557);
	cJSON_AddNumberToObject(loc, "longitude", cJSON_IsNumber(lon) ? lon->valuedouble : 4.351697);
	inject(c, "message", m, ids_out(mid, NULL));
}

static void c_block(struct sim_ctl *c, int blocked)
{
	struct sim_chat *chat = in_chat(c);
	int64_t id = 0;
	cJSON *out;
	int rc;

	if (chat == NULL)
		return;
	if ((rc = set_blocked(front(c), chat, blocked, &id)) != 0) {
		sim_ctl_error(c, 500, casebot_strerror(rc));
		return;
	}
	if ((out = cJSON_CreateObject()) != NULL) {
		cJSON_AddNumberToObject(out, "update_id", (double)id);
		cJSON_AddBoolToObject(out, "blocked", blocked);
	}
	sim_ctl_reply(c, 200, out);
}

static void c_raw(struct sim_ctl *c)
{
	cJSON *upd = cJSON_GetObjectItemCaseSensitive(c->in, "update"), *out;
	int64_t id = 0;
	int rc;

	if (upd == NULL) {
		sim_ctl_error(c, 400, "update is missing");
		return;
	}
	cJSON_DetachItemViaPointer((cJSON *)c->in, upd);
	if ((rc = tgsim_update_push(front(c), upd, 1, &id)) != 0) {
		sim_ctl_error(c, rc == -CB_ETOOBIG ? 413 : 500, casebot_strerror(rc));
		return;
	}
	tgsim_api_wake(front(c));
	if ((out = cJSON_CreateObject()) != NULL)
		cJSON_AddNumberToObject(out, "update_id", (double)id);
	sim_ctl_reply(c, 200, out);
}

static void c_sent(struct sim_ctl *c)
{
	const struct sim_sent *m;
	char buf[32];
	int64_t chat = 0;
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	size_t i;
	char *end;

	if (sim_query(c->req->path, "chat_id", buf, sizeof(buf)) == 0) {
		chat = strtoll(buf, &end, 10);
		if (*end != '\0' || buf[0] == '\0') {
			cJSON_Delete(root);
			sim_ctl_error(c, 400, "chat_id must be an integer");
			return;
		}
	}
	if (root == NULL || (arr = cJSON_AddArrayToObject(root, "messages")) == NULL) {
		cJSON_Delete(root);
		sim_ctl_error(c, 500, "out of memory");
		return;
	}
	for (i = 0; i < front(c)->core.sent.n; i++) {
		m = sim_ring_at(&front(c)->core.sent, i);
		if (chat != 0 && m->chat_id != chat)
			continue;
		if ((o = cJSON_CreateObject()) == NULL)
			break;
		cJSON_AddNumberToObject(o, "chat_id", (double)m->chat_id);
		cJSON_AddNumberToObject(o, "message_id", (double)m->message_id);
		cJSON_AddStringToObject(o, "text", m->text);
		cJSON_AddItemToObject(o, "reply_markup",
		                      m->markup != NULL ? cJSON_Duplicate(m->markup, 1) : cJSON_CreateNull());
		if (m->reply_to != 0)
			cJSON_AddNumberToObject(o, "reply_to_message_id", (double)m->reply_to);
		else
			cJSON_AddNullToObject(o, "reply_to_message_id");
		cJSON_AddNumberToObject(o, "at_ms", (double)m->at_ms);
		cJSON_AddItemToArray(arr, o);
	}
	sim_ctl_reply(c, 200, root);
}

static void c_fault(struct sim_ctl *c)
{
	struct sim_fault f;
	const char *why = NULL;
	int clear;
	cJSON *out;

	if (sim_fault_parse(c->in, &f, &clear, &why) != 0) {
		sim_ctl_error(c, 400, why);
		return;
	}
	if (clear)
		sim_fault_clear(&front(c)->core);
	else if (sim_fault_add(&front(c)->core, &f) != 0) {
		sim_ctl_error(c, 507, "too many faults armed");
		return;
	}
	if ((out = cJSON_CreateObject()) != NULL)
		cJSON_AddNumberToObject(out, "faults_left", sim_faults_left(&front(c)->core));
	sim_ctl_reply(c, 200, out);
}

static void c_stats(struct sim_ctl *c)
{
	const struct tgsim_stats *st = &front(c)->st;
	cJSON *o = cJSON_CreateObject();

	if (o != NULL) {
		cJSON_AddNumberToObject(o, "breaches_chat", (double)st->breaches_chat);
		cJSON_AddNumberToObject(o, "breaches_global", (double)st->breaches_global);
		cJSON_AddNumberToObject(o, "sent", (double)st->sent);
		cJSON_AddNumberToObject(o, "rejected", (double)st->rejected);
		cJSON_AddNumberToObject(o, "get_updates", (double)st->get_updates);
		cJSON_AddNumberToObject(o, "pending", (double)front(c)->updates.n);
		cJSON_AddNumberToObject(o, "confirmed_offset", (double)front(c)->confirmed_offset);
		cJSON_AddNumberToObject(o, "callbacks_answered", (double)st->callbacks_answered);
		cJSON_AddNumberToObject(o, "files_downloaded", (double)st->files_downloaded);
		cJSON_AddNumberToObject(o, "files_uploaded", (double)st->files_uploaded);
		cJSON_AddNumberToObject(o, "faults_left", sim_faults_left(&front(c)->core));
		cJSON_AddNumberToObject(o, "conflicts", (double)st->conflicts);
		cJSON_AddNumberToObject(o, "api_calls", (double)st->api_calls);
		cJSON_AddNumberToObject(o, "updates_dropped", (double)st->updates_dropped);
		cJSON_AddNumberToObject(o, "bot_settings", (double)st->bot_settings);
		cJSON_AddNumberToObject(o, "held", front(c)->nheld);
		cJSON_AddBoolToObject(o, "polling", front(c)->poll != NULL);
	}
	sim_ctl_reply(c, 200, o);
}

static void c_wait(struct sim_ctl *c)
{
	sim_wait_handle(&front(c)->core, c->req);
}

static void c_reset(struct sim_ctl *c)
{
	cJSON *o = cJSON_CreateObject();

	tgsim_store_reset(front(c));
	if (o != NULL)
		cJSON_AddTrueToObject(o, "ok");
	sim_ctl_reply(c, 200, o);
}

static void c_block_on(struct sim_ctl *c)
{
	c_block(c, 1);
}

static void c_block_off(struct sim_ctl *c)
{
	c_block(c, 0);
}

void tgsim_control_handle(struct http_server_req *req, void *arg)
{
	static const struct sim_route routes[] = {
		{"message", 1, c_message}, {"chat", 1, c_chat}, {"button", 1, c_button},
		{"photo", 1, c_photo}, {"document", 1, c_document}, {"voice", 1, c_voice},
		{"location", 1, c_location}, {"raw", 1, c_raw}, {"fault", 1, c_fault},
		{"reset", 1, c_reset}, {"sent", 0, c_sent}, {"stats", 0, c_stats},
		{"wait", 0, c_wait},
		{"block", 1, c_block_on}, {"unblock", 1, c_block_off},
	};
	struct tgsim *self = arg;

	sim_control_dispatch(&self->core, req, routes, CB_ARRAY_SIZE(routes), self);
}
