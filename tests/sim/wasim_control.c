/* The control interface under /control: tests and the demo page inject
 * what a family does on its phone, read back what the daemon sent, and
 * steer the simulator. JSON in, JSON out (as tgsim's). A user is named by
 * "wa_id" (or "chat_id", the same digits, which the /chat page sends) and
 * may carry a business-scoped "user_id"; "no_number": true sends as a
 * user known only by that user_id. Every inbound call answers
 * {id: wamid, hook: N}, N being the webhook's number in GET hooks.
 *
 *   POST message      {wa_id, text, name?, user_id?, no_number?, context_id?}
 *   POST button_reply {wa_id, id, title, context_id?}    interactive.button_reply
 *   POST list_reply   {wa_id, id, title, description?, context_id?}
 *   POST button       {wa_id, payload, text?, context_id?}  template quick reply
 *   POST button {wa_id, data} also works (the /chat page): a button_reply
 *        whose id is data, or a template quick reply when the last message
 *        sent to that user was a template
 *   POST image        {wa_id, bytes?, caption?}          also "photo"
 *   POST document     {wa_id, kind: pdf|exe|bin, bytes?, file_name?, caption?}
 *                     or {wa_id, content_base64, mime_type, file_name?}
 *   POST voice        {wa_id, seconds?}    audio/ogg; codecs=opus, voice: true
 *   POST location     {wa_id, latitude?, longitude?, name?, address?}
 *   POST changed_number {wa_id, new_wa_id}   system user_changed_number
 *   POST unsupported  {wa_id}               type unsupported, errors[131051]
 *   POST chat         {wa_id, name?, user_id?}   makes a user known, no webhook
 *   POST age          {wa_id, hours}        the last inbound message N hours older
 *   POST clock        {seconds}             the simulated clock moves ahead
 *   POST unreachable  {wa_id, mode: async|sync|off}   131026 in a failed
 *                     status (async, the default) or in the answer (sync)
 *   POST template     {name, language, params?, category?}   approves one
 *   POST forge        {wa_id?, text?}       a message webhook signed with a
 *                     wrong secret -> {hook}
 *   POST replay       {hook}                posts hook N again, same bytes
 *                     and signature -> {hook: new N}
 *   POST verify       {verify_token?, challenge?}  the GET handshake ->
 *                     {status, body, echoed}
 *   POST webhook      {url}                 where webhooks go from now on
 *   POST fault        as tgsim's (429, 500, 400, garbage); methods "messages",
 *                     "media", "file" (the download: 500 only)
 *   POST reset
 *   GET  sent[?wa_id=N]  {messages: [{chat_id, wa_id, id, message_id, type,
 *                     text, buttons, template, language, params, media_id,
 *                     at_ms}]}
 *   GET  hooks[?kind=K]  {hooks: [{hook, kind, ref, status, state,
 *                     attempts, last_status, body}]}
 *   GET  stats
 *   GET  wait?what=W&chat_id=N&count=K&timeout_ms=T  W: sent (to wa_id N,
 *                     0: anyone), hooks_delivered, hooks_posted,
 *                     hooks_refused, hooks_gave_up, forged_refused,
 *                     statuses_delivered, media_downloads, media_uploads */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bot/log.h"
#include "tests/sim/wasim.h"

#define FILE_SIZE_MAX (100LL * 1024 * 1024)

static struct wasim *front(const struct sim_ctl *c)
{
	return c->ctx;
}

static struct sim_chat *in_chat(struct sim_ctl *c)
{
	const char *user_id = sim_ctl_str(c, "user_id", NULL), *name = sim_ctl_str(c, "name", NULL);
	const cJSON *wa = cJSON_GetObjectItemCaseSensitive(c->in, "wa_id");
	struct sim_chat *chat = NULL;
	char buf[32];
	int64_t id;

	if (wa == NULL)
		wa = cJSON_GetObjectItemCaseSensitive(c->in, "chat_id");
	if (name == NULL)
		name = sim_ctl_str(c, "first_name", NULL);
	if (user_id != NULL && (user_id[0] == '\0' || strlen(user_id) >= SIM_USER_ID_MAX)) {
		sim_ctl_error(c, 400, "user_id must be 1 to 71 characters");
		return NULL;
	}
	if (cJSON_IsString(wa)) {
		chat = wasim_chat_by_wa_id(front(c), wa->valuestring, 1);
	} else if (wa != NULL && sim_json_i64(wa, &id) == 0 && id > 0) {
		snprintf(buf, sizeof(buf), "%" PRId64, id);
		chat = wasim_chat_by_wa_id(front(c), buf, 1);
	} else if (wa == NULL && user_id != NULL) {
		if ((chat = sim_chat_by_user_id(&front(c)->core, user_id)) == NULL)
			chat = sim_chat_get(&front(c)->core, --front(c)->next_synthetic, NULL);
	} else {
		sim_ctl_error(c, 400, "wa_id must be a phone number of 5 to 15 digits");
		return NULL;
	}
	if (chat == NULL) {
		sim_ctl_error(c, wa != NULL ? 400 : 507, wa != NULL ? "wa_id must be a phone number of 5 to 15 digits" :
		          "too many users");
		return NULL;
	}
	if (user_id != NULL)
		cb_strlcpy(chat->user_id, user_id, sizeof(chat->user_id));
	if (name != NULL && name[0] != '\0')
		snprintf(chat->first_name, sizeof(chat->first_name), "%s", name);
	else if (strncmp(chat->first_name, "User ", 5) == 0)
		snprintf(chat->first_name, sizeof(chat->first_name), "Family %" PRId64,
		         chat->id > 0 ? chat->id % 10000 : -chat->id);
	return chat;
}

/* A message from the family: {from (or from_user_id), id, timestamp,
 * type}, in an envelope with its contact. It opens the 24-hour window. */
static cJSON *user_message(struct sim_ctl *c, struct sim_chat *chat, const char *type,
                           cJSON **root, char *wamid, size_t cap)
{
	cJSON *value, *m, *ctx;
	const char *context = sim_ctl_str(c, "context_id", NULL);
	char num[24], ts[24];
	int no_number = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->in, "no_number")) ||
	                !wasim_has_number(chat);

	if ((*root = wasim_envelope(front(c), &value)) == NULL)
		return NULL;
	if (no_number && chat->user_id[0] == '\0') {
		cJSON_Delete(*root);
		*root = NULL;
		return NULL;
	}
	{
		/* The contact, without a number when the user hides it. */
		cJSON *ct = wasim_contact(chat);

		if (no_number)
			cJSON_DeleteItemFromObjectCaseSensitive(ct, "wa_id");
		cJSON_AddItemToArray(cJSON_AddArrayToObject(value, "contacts"), ct);
	}
	m = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(value, "messages"), m);
	if (!no_number) {
		snprintf(num, sizeof(num), "%" PRId64, chat->id);
		cJSON_AddStringToObject(m, "from", num);
	}
	if (chat->user_id[0] != '\0')
		cJSON_AddStringToObject(m, "from_user_id", chat->user_id);
	wasim_wamid(front(c), chat, wamid, cap);
	cJSON_AddStringToObject(m, "id", wamid);
	chat->last_inbound_ms = sim_clock_ms(&front(c)->core);
	snprintf(ts, sizeof(ts), "%" PRId64, chat->last_inbound_ms / 1000);
	cJSON_AddStringToObject(m, "timestamp", ts);
	cJSON_AddStringToObject(m, "type", type);
	if (context != NULL) {
		ctx = cJSON_AddObjectToObject(m, "context");
		cJSON_AddStringToObject(ctx, "from", front(c)->display_number);
		cJSON_AddStringToObject(ctx, "id", context);
	}
	return m;
}

/* Queues the webhook and answers {id, hook}. Takes root. */
static void deliver(struct sim_ctl *c, cJSON *root, const char *wamid, const char *media_id)
{
	uint64_t seq = 0;
	cJSON *out;
	int rc;

	if ((rc = wasim_hook_queue(front(c), root, "message", wamid, NULL, 0, &seq)) != 0) {
		sim_ctl_error(c, 500, casebot_strerror(rc));
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", wamid);
	cJSON_AddNumberToObject(out, "hook", (double)seq);
	if (media_id != NULL)
		cJSON_AddStringToObject(out, "media_id", media_id);
	sim_ctl_reply(c, 200, out);
}

/* The last message sent to chat, by kind ("" for any). */
static const struct sim_sent *last_sent(struct wasim *w, const struct sim_chat *chat,
                                        const char *kind)
{
	const struct sim_sent *m;
	size_t i;

	for (i = w->core.sent.n; i > 0; i--) {
		m = sim_ring_at(&w->core.sent, i - 1);
		if (m->chat_id == chat->id && (kind[0] == '\0' || strcmp(m->kind, kind) == 0))
			return m;
	}
	return NULL;
}

/* A reply's context: the one given, else the last message of that kind. */
static void add_context(struct sim_ctl *c, const struct sim_chat *chat, cJSON *m, const char *kind)
{
	const struct sim_sent *s;
	cJSON *ctx;

	if (cJSON_GetObjectItemCaseSensitive(m, "context") != NULL ||
	    (s = last_sent(front(c), chat, kind)) == NULL)
		return;
	ctx = cJSON_AddObjectToObject(m, "context");
	cJSON_AddStringToObject(ctx, "from", front(c)->display_number);
	cJSON_AddStringToObject(ctx, "id", s->mid);
}

static void c_message(struct sim_ctl *c)
{
	const char *text = sim_ctl_str(c, "text", NULL);
	char wamid[WASIM_WAMID_MAX];
	struct sim_chat *chat;
	cJSON *root, *m;

	if (text == NULL) {
		sim_ctl_error(c, 400, "text must be a string");
		return;
	}
	if ((chat = in_chat(c)) == NULL)
		return;
	if ((m = user_message(c, chat, "text", &root, wamid, sizeof(wamid))) == NULL) {
		sim_ctl_error(c, 400, "a user without a number needs a user_id");
		return;
	}
	cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "text"), "body", text);
	deliver(c, root, wamid, NULL);
}

static void interactive_reply(struct sim_ctl *c, struct sim_chat *chat, const char *kind,
                              const char *id, const char *title)
{
	const char *desc = sim_ctl_str(c, "description", NULL);
	char wamid[WASIM_WAMID_MAX];
	cJSON *root, *m, *it, *r;

	if ((m = user_message(c, chat, "interactive", &root, wamid, sizeof(wamid))) == NULL) {
		sim_ctl_error(c, 400, "a user without a number needs a user_id");
		return;
	}
	add_context(c, chat, m, "interactive");
	it = cJSON_AddObjectToObject(m, "interactive");
	cJSON_AddStringToObject(it, "type", kind);
	r = cJSON_AddObjectToObject(it, kind);
	cJSON_AddStringToObject(r, "id", id);
	cJSON_AddStringToObject(r, "title", title);
	if (desc != NULL && strcmp(kind, "list_reply") == 0)
		cJSON_AddStringToObject(r, "description", desc);
	deliver(c, root, wamid, NULL);
}

/* The title of the button whose id is data on the last interactive message. */
static const char *title_for(struct wasim *w, const struct sim_chat *chat, const char *data)
{
	const struct sim_sent *s = last_sent(w, chat, "interactive");
	const cJSON *b;

	if (s == NULL)
		return data;
	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(s->markup, "buttons")) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(b, "data");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(b, "title");

		if (cJSON_IsString(d) && strcmp(d->valuestring, data) == 0 && cJSON_IsString(t))
			return t->valuestring;
	}
	return data;
}

static void c_reply(struct sim_ctl *c, const char *kind)
{
	const char *id = sim_ctl_str(c, "id", NULL), *title = sim_ctl_str(c, "title", NULL);
	struct sim_chat *chat;

	if (id == NULL) {
		sim_ctl_error(c, 400, "id must be a string");
		return;
	}
	if ((chat = in_chat(c)) == NULL)
		return;
	interactive_reply(c, chat, kind, id, title != NULL ? title : title_for(front(c), chat, id));
}

static void quick_reply(struct sim_ctl *c, struct sim_chat *chat, const char *payload, const char *text)
{
	char wamid[WASIM_WAMID_MAX];
	cJSON *root, *m, *b;

	if ((m = user_message(c, chat, "button", &root, wamid, sizeof(wamid))) == NULL) {
		sim_ctl_error(c, 400, "a user without a number needs a user_id");
		return;
	}
	add_context(c, chat, m, "template");
	b = cJSON_AddObjectToObject(m, "button");
	cJSON_AddStringToObject(b, "payload", payload);
	cJSON_AddStringToObject(b, "text", text);
	deliver(c, root, wamid, NULL);
}

/* A template quick reply ({payload}); {data} as the /chat page sends it
 * answers whatever the last message was. */
static void c_button(struct sim_ctl *c)
{
	const char *payload = sim_ctl_str(c, "payload", NULL), *data = sim_ctl_str(c, "data", NULL);
	const struct sim_sent *last;
	struct sim_chat *chat;

	if (payload == NULL && data == NULL) {
		sim_ctl_error(c, 400, "payload must be a string");
		return;
	}
	if ((chat = in_chat(c)) == NULL)
		return;
	if (payload != NULL) {
		quick_reply(c, chat, payload, sim_ctl_str(c, "text", payload));
		return;
	}
	last = last_sent(front(c), chat, "");
	if (last != NULL && strcmp(last->kind, "template") == 0)
		quick_reply(c, chat, data, data);
	else
		interactive_reply(c, chat, "button_reply", data, title_for(front(c), chat, data));
}

static int in_size(struct sim_ctl *c, int64_t def, int64_t min, int64_t *out)
{
	if (sim_ctl_i64(c, "bytes", def, out) != 0 || *out < 0 || *out > FILE_SIZE_MAX) {
		sim_ctl_error(c, 400, "bytes must be an integer from 0 to 100 MiB");
		return -CB_EINVAL;
	}
	if (*out < min)
		*out = min;
	return 0;
}

/* Registers the file as Meta keeps inbound media, and sends the message
 * whose type field carries {id, mime_type, sha256, ...}. Takes data. */
static void media_message(struct sim_ctl *c, struct sim_chat *chat, const char *type,
                          const char *mime, int64_t size, enum sim_gen gen,
                          unsigned char *data, cJSON **media_out)
{
	unsigned char hash[crypto_hash_sha256_BYTES], *bytes;
	char hex[sizeof(hash) * 2 + 1], wamid[WASIM_WAMID_MAX], mid[48];
	struct sim_file *f;
	cJSON *root, *m, *o;
	int rc;

	if ((rc = sim_file_add(&front(c)->core, "media", "bin", size, gen, data, &f)) != 0) {
		free(data);
		sim_ctl_error(c, rc == -CB_ETOOBIG ? 413 : 500, casebot_strerror(rc));
		return;
	}
	free(data);
	snprintf(f->file_id, sizeof(f->file_id), "%" PRIu64, UINT64_C(1200000000000000) + ++front(c)->next_seq);
	cb_strlcpy(f->mime, mime, sizeof(f->mime));
	f->created_ms = sim_clock_ms(&front(c)->core);
	cb_strlcpy(mid, f->file_id, sizeof(mid));
	if ((bytes = sim_file_bytes(f)) == NULL) {
		sim_ctl_error(c, 500, "out of memory");
		return;
	}
	crypto_hash_sha256(hash, bytes, (unsigned long long)size);
	free(bytes);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	if ((m = user_message(c, chat, type, &root, wamid, sizeof(wamid))) == NULL) {
		sim_ctl_error(c, 400, "a user without a number needs a user_id");
		return;
	}
	o = cJSON_AddObjectToObject(m, type);
	cJSON_AddStringToObject(o, "mime_type", mime);
	cJSON_AddStringToObject(o, "sha256", hex);
	cJSON_AddStringToObject(o, "id", mid);
	if (media_out != NULL)
		*media_out = o;
	{
		const char *caption = sim_ctl_str(c, "caption", NULL);

		if (caption != NULL && strcmp(type, "audio") != 0)
			cJSON_AddStringToObject(o, "caption", caption);
	}
	if (strcmp(type, "document") == 0)
		cJSON_AddStringToObject(o, "filename", sim_ctl_str(c, "file_name", "document.pdf"));
	if (strcmp(type, "audio") == 0)
		cJSON_AddTrueToObject(o, "voice");
	deliver(c, root, wamid, mid);
}

static void c_image(struct sim_ctl *c)
{
	struct sim_chat *chat;
	int64_t size;

	if (in_size(c, 50000, 64, &size) != 0 || (chat = in_chat(c)) == NULL)
		return;
	media_message(c, chat, "image", "image/jpeg", size, GEN_JPEG, NULL, NULL);
}

static void c_document(struct sim_ctl *c)
{
	const char *b64 = sim_ctl_str(c, "content_base64", NULL), *kind = sim_ctl_str(c, "kind", "pdf");
	const char *mime = sim_ctl_str(c, "mime_type", NULL);
	struct sim_chat *chat;
	unsigned char *bin = NULL;
	size_t b64len, binlen = 0;
	enum sim_gen gen = GEN_PDF;
	int64_t size;

	if (b64 != NULL) {
		b64len = strlen(b64);
		if ((bin = malloc(b64len / 4 * 3 + 3)) == NULL) {
			sim_ctl_error(c, 500, "out of memory");
			return;
		}
		if (sodium_base642bin(bin, b64len / 4 * 3 + 3, b64, b64len, "\r\n", &binlen, NULL,
		                      sodium_base64_VARIANT_ORIGINAL) != 0) {
			free(bin);
			sim_ctl_error(c, 400, "content_base64 is not base64");
			return;
		}
		size = (int64_t)binlen;
		gen = GEN_NONE;
		if (mime == NULL)
			mime = "application/octet-stream";
	} else {
		if (strcmp(kind, "pdf") == 0)
			gen = GEN_PDF, mime = mime != NULL ? mime : "application/pdf";
		else if (strcmp(kind, "exe") == 0)
			gen = GEN_EXE, mime = mime != NULL ? mime : "application/x-msdownload";
		else if (strcmp(kind, "bin") == 0)
			gen = GEN_BIN, mime = mime != NULL ? mime : "application/octet-stream";
		else {
			sim_ctl_error(c, 400, "kind must be pdf, exe or bin");
			return;
		}
		if (in_size(c, 20000, 64, &size) != 0)
			return;
	}
	if ((chat = in_chat(c)) == NULL) {
		free(bin);
		return;
	}
	media_message(c, chat, "document", mime, size, gen, bin, NULL);
}

static void c_voice(struct sim_ctl *c)
{
	struct sim_chat *chat;
	int64_t secs;

	if (sim_ctl_i64(c, "seconds", 3, &secs) != 0 || secs < 1 || secs > 3600) {
		sim_ctl_error(c, 400, "seconds must be 1 to 3600");
		return;
	}
	if ((chat = in_chat(c)) == NULL)
		return;
	/* A voice note arrives as type audio with voice: true. */
	media_message(c, chat, "audio", "audio/ogg; codecs=opus", secs * 2000, GEN_OGG, NULL, NULL);
}

static void c_location(struct sim_ctl *c)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(c->in, "latitude");
	const cJSON *lon = cJSON_GetObjectItemCaseSensitive(c->in, "longitude");
	const char *name = sim_ctl_str(c, "name", NULL), *address = sim_ctl_str(c, "address", NULL);
	char wamid[WASIM_WAMID_MAX];
	struct sim_chat *chat;
	cJSON *root, *m, *loc;

	if ((chat = in_chat(c)) == NULL)
		return;
	if ((m = user_message(c, chat, "location", &root, wamid, sizeof(wamid))) == NULL) {
		sim_ctl_error(c, 400, "a user without a number needs a user_id");
		return;
	}
	loc = cJSON_AddObjectToObject(m, "location");
	/* Brussels, unless told otherwise. */
	cJSON_AddNumberToObject(loc, "latitude", cJSON_IsNumber(lat) ? lat->valuedouble : 50.846557);
	cJSON_AddNumberToObject(loc, "longitude", cJSON_IsNumber(lon) ? lon->valuedouble : 4.351697);
	if (name != NULL)
		cJSON_AddStringToObject(loc, "name", name);
	if (address != NULL)
		cJSON_AddStringToObject(loc, "address", address);
	deliver(c, root, wamid, NULL);
}

/* The system message Meta sends when a user moves to a new number: from
 * the old number, system.wa_id the new one. The simulator's user keeps
 * its user_id and takes the new number. */
static void c_changed_number(struct sim_ctl *c)
{
	const char *new_wa = sim_ctl_str(c, "new_wa_id", NULL);
	char wamid[WASIM_WAMID_MAX], body[256], num[24];
	struct sim_chat *chat, *moved;
	cJSON *root, *m, *sys;

	if (new_wa == NULL) {
		sim_ctl_error(c, 400, "new_wa_id must be a phone number");
		return;
	}
	if ((chat = in_chat(c)) == NULL)
		return;
	if ((m = user_message(c, chat, "system", &root, wamid, sizeof(wamid))) == NULL) {
		sim_ctl_error(c, 400, "a user without a number needs a user_id");
		return;
	}
	/* Meta sends no contacts block with a system message. */
	cJSON_DeleteItemFromObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(
		cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(
			cJSON_GetObjectItemCaseSensitive(root, "entry"), 0), "changes"), 0), "value"),
		"contacts");
	if ((moved = wasim_chat_by_wa_id(front(c), new_wa, 1)) == NULL) {
		cJSON_Delete(root);
		sim_ctl_error(c, 400, "new_wa_id must be a phone number of 5 to 15 digits");
		return;
	}
	snprintf(num, sizeof(num), "%" PRId64, moved->id);
	snprintf(body, sizeof(body), "User %s changed from %" PRId64 " to %s", chat->first_name,
	         chat->id, num);
	sys = cJSON_AddObjectToObject(m, "system");
	cJSON_AddStringToObject(sys, "body", body);
	cJSON_AddStringToObject(sys, "wa_id", num);
	if (chat->user_id[0] != '\0')
		cJSON_AddStringToObject(sys, "user_id", chat->user_id);
	cJSON_AddStringToObject(sys, "type", "user_changed_number");
	snprintf(moved->first_name, sizeof(moved->first_name), "%s", chat->first_name);
	memcpy(moved->user_id, chat->user_id, sizeof(moved->user_id));
	moved->last_inbound_ms = chat->last_inbound_ms;
	chat->user_id[0] = '\0';
	deliver(c, root, wamid, NULL);
}

static void c_unsupported(struct sim_ctl *c)
{
	char wamid[WASIM_WAMID_MAX];
	struct sim_chat *chat;
	cJSON *root, *m, *errs, *e;

	if ((chat = in_chat(c)) == NULL)
		return;
	if ((m = user_message(c, chat, "unsupported", &root, wamid, sizeof(wamid))) == NULL) {
		sim_ctl_error(c, 400, "a user without a number needs a user_id");
		return;
	}
	errs = cJSON_AddArrayToObject(m, "errors");
	e = cJSON_CreateObject();
	cJSON_AddItemToArray(errs, e);
	cJSON_AddNumberToObject(e, "code", 131051);
	cJSON_AddStringToObject(e, "title", "Message type unknown");
	cJSON_AddStringToObject(e, "message", "Message type unknown");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(e, "error_data"), "details",
	                        "Message type is currently not supported.");
	deliver(c, root, wamid, NULL);
}

static cJSON *chat_json(const struct sim_chat *chat)
{
	cJSON *o = cJSON_CreateObject();
	char num[24];

	if (wasim_has_number(chat)) {
		snprintf(num, sizeof(num), "%" PRId64, chat->id);
		cJSON_AddStringToObject(o, "wa_id", num);
	}
	cJSON_AddNumberToObject(o, "chat_id", (double)chat->id);
	cJSON_AddStringToObject(o, "name", chat->first_name);
	if (chat->user_id[0] != '\0')
		cJSON_AddStringToObject(o, "user_id", chat->user_id);
	cJSON_AddNumberToObject(o, "last_inbound_ms", (double)chat->last_inbound_ms);
	cJSON_AddStringToObject(o, "unreachable", chat->unreachable == 2 ? "sync" :
	                        chat->unreachable == 1 ? "async" : "off");
	return o;
}

static void c_chat(struct sim_ctl *c)
{
	struct sim_chat *chat = in_chat(c);

	if (chat != NULL)
		sim_ctl_reply(c, 200, chat_json(chat));
}

static void c_age(struct sim_ctl *c)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(c->in, "hours");
	struct sim_chat *chat;

	if (!cJSON_IsNumber(h) || h->valuedouble < 0 || h->valuedouble > 24 * 365) {
		sim_ctl_error(c, 400, "hours must be a number from 0 to 8760");
		return;
	}
	if ((chat = in_chat(c)) == NULL)
		return;
	if (chat->last_inbound_ms == 0) {
		sim_ctl_error(c, 409, "this user never wrote");
		return;
	}
	chat->last_inbound_ms -= (int64_t)(h->valuedouble * 3600.0 * 1000.0);
	sim_ctl_reply(c, 200, chat_json(chat));
}

static void c_clock(struct sim_ctl *c)
{
	int64_t secs;
	cJSON *o;

	if (sim_ctl_i64(c, "seconds", 0, &secs) != 0 || secs < 0 || secs > 86400LL * 365) {
		sim_ctl_error(c, 400, "seconds must be from 0 to a year");
		return;
	}
	front(c)->core.clock_offset_ms += secs * 1000;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "offset_ms", (double)front(c)->core.clock_offset_ms);
	cJSON_AddNumberToObject(o, "now_ms", (double)sim_clock_ms(&front(c)->core));
	sim_ctl_reply(c, 200, o);
}

static void c_unreachable(struct sim_ctl *c)
{
	const char *mode = sim_ctl_str(c, "mode", "async");
	struct sim_chat *chat;

	if (strcmp(mode, "async") != 0 && strcmp(mode, "sync") != 0 && strcmp(mode, "off") != 0) {
		sim_ctl_error(c, 400, "mode must be async, sync or off");
		return;
	}
	if ((chat = in_chat(c)) == NULL)
		return;
	chat->unreachable = mode[0] == 'a' ? 1 : mode[0] == 's' ? 2 : 0;
	sim_ctl_reply(c, 200, chat_json(chat));
}

static void c_template(struct sim_ctl *c)
{
	const char *name = sim_ctl_str(c, "name", NULL), *lang = sim_ctl_str(c, "language", NULL);
	int64_t params;
	int rc;

	if (name == NULL || lang == NULL || sim_ctl_i64(c, "params", 0, &params) != 0 || params < 0 ||
	    params > 100) {
		sim_ctl_error(c, 400, "name and language must be strings, params 0..100");
		return;
	}
	if ((rc = wasim_template_add(front(c), name, lang, (int)params,
	                             sim_ctl_str(c, "category", "utility"))) != 0) {
		sim_ctl_error(c, 400, casebot_strerror(rc));
		return;
	}
	sim_ctl_reply(c, 200, cJSON_CreateObject());
}

static void c_forge(struct sim_ctl *c)
{
	const char *text = sim_ctl_str(c, "text", "forged");
	char wamid[WASIM_WAMID_MAX];
	struct sim_chat *chat;
	uint64_t seq = 0;
	int64_t old;
	cJSON *root, *m, *out;
	int rc;

	if ((chat = in_chat(c)) == NULL)
		return;
	old = chat->last_inbound_ms;
	if ((m = user_message(c, chat, "text", &root, wamid, sizeof(wamid))) == NULL) {
		sim_ctl_error(c, 400, "a user without a number needs a user_id");
		return;
	}
	/* A forged message opens no window: the user wrote nothing. */
	chat->last_inbound_ms = old;
	cJSON_AddStringToObject(cJSON_AddObjectToObject(m, "text"), "body", text);
	if ((rc = wasim_hook_queue(front(c), root, "forged", wamid, NULL, 1, &seq)) != 0) {
		sim_ctl_error(c, 500, casebot_strerror(rc));
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "id", wamid);
	cJSON_AddNumberToObject(out, "hook", (double)seq);
	sim_ctl_reply(c, 200, out);
}

static void c_replay(struct sim_ctl *c)
{
	uint64_t seq = 0;
	int64_t hook;
	cJSON *out;
	int rc;

	if (sim_ctl_i64(c, "hook", 0, &hook) != 0 || hook <= 0) {
		sim_ctl_error(c, 400, "hook must be a hook number");
		return;
	}
	if ((rc = wasim_hook_replay(front(c), (uint64_t)hook, &seq)) != 0) {
		sim_ctl_error(c, rc == -CB_ENOENT ? 404 : 500, rc == -CB_ENOENT ? "no such hook" :
		          casebot_strerror(rc));
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "hook", (double)seq);
	sim_ctl_reply(c, 200, out);
}

struct verify_ctx {
	struct http_server_req *req;
	char challenge[128];
};

static void on_verify(int status, const char *body, size_t len, void *arg)
{
	struct verify_ctx *v = arg;
	cJSON *o = cJSON_CreateObject();
	char *copy = malloc(len + 1);

	cJSON_AddNumberToObject(o, "status", status);
	if (copy != NULL) {
		memcpy(copy, body, len);
		copy[len] = '\0';
		cJSON_AddStringToObject(o, "body", copy);
	}
	cJSON_AddBoolToObject(o, "echoed", status == 200 && len == strlen(v->challenge) &&
	                                    memcmp(body, v->challenge, len) == 0);
	log_info("control verify -> 200 (the daemon answered %d)", status);
	sim_reply_json(v->req, 200, o);
	free(copy);
	free(v);
}

static void c_verify(struct sim_ctl *c)
{
	const char *token = sim_ctl_str(c, "verify_token", front(c)->verify_token);
	const char *challenge = sim_ctl_str(c, "challenge", NULL);
	struct verify_ctx *v = calloc(1, sizeof(*v));
	unsigned char raw[6];
	int rc;

	if (v == NULL) {
		sim_ctl_error(c, 500, "out of memory");
		return;
	}
	v->req = c->req;
	if (challenge != NULL) {
		if (cb_strlcpy(v->challenge, challenge, sizeof(v->challenge)) != 0) {
			free(v);
			sim_ctl_error(c, 400, "challenge is too long");
			return;
		}
	} else {
		randombytes_buf(raw, sizeof(raw));
		snprintf(v->challenge, sizeof(v->challenge), "%u",
		         (unsigned)(raw[0] | raw[1] << 8 | raw[2] << 16) % 900000000u + 100000000u);
	}
	if ((rc = wasim_verify(front(c), token, v->challenge, on_verify, v)) != 0) {
		free(v);
		sim_ctl_error(c, rc == -CB_ESTATE ? 409 : 500, rc == -CB_ESTATE ? "no --webhook" :
		          casebot_strerror(rc));
	}
	/* Answered in on_verify. */
}

static void c_webhook(struct sim_ctl *c)
{
	const char *url = sim_ctl_str(c, "url", NULL);

	if (url == NULL || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
	    cb_strlcpy(front(c)->webhook, url, sizeof(front(c)->webhook)) != 0) {
		sim_ctl_error(c, 400, "url must be an http:// or https:// URL");
		return;
	}
	wasim_hook_kick(front(c));
	sim_ctl_reply(c, 200, cJSON_CreateObject());
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
	out = cJSON_CreateObject();
	cJSON_AddNumberToObject(out, "faults_left", sim_faults_left(&front(c)->core));
	sim_ctl_reply(c, 200, out);
}

static void c_reset(struct sim_ctl *c)
{
	cJSON *o = cJSON_CreateObject();

	sim_store_reset(&front(c)->core);
	wasim_hook_reset(front(c));
	memset(&front(c)->st, 0, sizeof(front(c)->st));
	cJSON_AddTrueToObject(o, "ok");
	sim_ctl_reply(c, 200, o);
}

static int query_chat(struct sim_ctl *c, int64_t *chat)
{
	char buf[32];
	struct sim_chat *ch;

	*chat = 0;
	if (sim_query(c->req->path, "wa_id", buf, sizeof(buf)) != 0 &&
	    sim_query(c->req->path, "chat_id", buf, sizeof(buf)) != 0)
		return 0;
	if ((ch = wasim_chat_by_wa_id(front(c), buf, 0)) != NULL) {
		*chat = ch->id;
		return 0;
	}
	/* A negative chat_id names a user without a number. */
	if (sim_query_i64(c->req->path, "chat_id", 0, chat) == 0 && *chat != 0)
		return 0;
	*chat = -1;   /* unknown: nothing matches */
	return 0;
}

static void c_sent(struct sim_ctl *c)
{
	const struct sim_sent *m;
	cJSON *root = cJSON_CreateObject(), *arr, *o, *it;
	char num[24];
	int64_t chat;
	size_t i;

	query_chat(c, &chat);
	arr = cJSON_AddArrayToObject(root, "messages");
	for (i = 0; i < front(c)->core.sent.n; i++) {
		m = sim_ring_at(&front(c)->core.sent, i);
		if (chat != 0 && m->chat_id != chat)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "chat_id", (double)m->chat_id);
		if (m->chat_id > 0) {
			snprintf(num, sizeof(num), "%" PRId64, m->chat_id);
			cJSON_AddStringToObject(o, "wa_id", num);
		}
		cJSON_AddStringToObject(o, "id", m->mid);
		cJSON_AddNumberToObject(o, "message_id", (double)m->message_id);
		cJSON_AddStringToObject(o, "type", m->kind);
		cJSON_AddStringToObject(o, "text", m->text != NULL ? m->text : "");
		cJSON_ArrayForEach(it, m->markup)
			if (strcmp(it->string, "type") != 0)
				cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, 1));
		if (cJSON_GetObjectItemCaseSensitive(o, "buttons") == NULL)
			cJSON_AddArrayToObject(o, "buttons");
		cJSON_AddNumberToObject(o, "at_ms", (double)m->at_ms);
		cJSON_AddItemToArray(arr, o);
	}
	sim_ctl_reply(c, 200, root);
}

static const char *state_name(enum wasim_hook_state s)
{
	switch (s) {
	case HOOK_PENDING: return "pending";
	case HOOK_INFLIGHT: return "inflight";
	case HOOK_DELIVERED: return "delivered";
	default: return "gave_up";
	}
}

static void c_hooks(struct sim_ctl *c)
{
	const struct wasim_hook *h;
	cJSON *root = cJSON_CreateObject(), *arr, *o;
	char kind[16] = "";
	size_t i;

	sim_query(c->req->path, "kind", kind, sizeof(kind));
	arr = cJSON_AddArrayToObject(root, "hooks");
	for (i = 0; i < front(c)->hooks.n; i++) {
		h = sim_ring_at(&front(c)->hooks, i);
		if (kind[0] != '\0' && strcmp(kind, h->kind) != 0)
			continue;
		o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "hook", (double)h->seq);
		cJSON_AddStringToObject(o, "kind", h->kind);
		cJSON_AddStringToObject(o, "ref", h->ref);
		cJSON_AddStringToObject(o, "status", h->status);
		cJSON_AddStringToObject(o, "state", state_name(h->state));
		cJSON_AddNumberToObject(o, "attempts", h->attempts);
		cJSON_AddNumberToObject(o, "last_status", h->last_status);
		cJSON_AddStringToObject(o, "signature", h->signature);
		cJSON_AddStringToObject(o, "body", h->body != NULL ? h->body : "");
		cJSON_AddItemToArray(arr, o);
	}
	sim_ctl_reply(c, 200, root);
}

static long long count_hooks(struct wasim *w, const char *kind, enum wasim_hook_state state,
                             int attempted)
{
	const struct wasim_hook *h;
	long long n = 0;
	size_t i;

	for (i = 0; i < w->hooks.n; i++) {
		h = sim_ring_at(&w->hooks, i);
		if (kind != NULL && strcmp(h->kind, kind) != 0)
			continue;
		if (attempted ? h->attempts > 0 && h->state != HOOK_INFLIGHT : h->state == state)
			n++;
	}
	return n;
}

long long wasim_wait_count(struct sim *sim, const char *what, int64_t chat)
{
	struct wasim *w = (struct wasim *)sim;

	(void)chat;
	if (strcmp(what, "hooks_delivered") == 0)
		return w->st.hooks_delivered;
	if (strcmp(what, "hooks_posted") == 0)
		return w->st.hooks_posted;
	if (strcmp(what, "hooks_refused") == 0)
		return w->st.hooks_refused + w->st.hooks_failed;
	if (strcmp(what, "hooks_gave_up") == 0)
		return w->st.hooks_gave_up;
	if (strcmp(what, "forged_refused") == 0)
		return count_hooks(w, "forged", HOOK_GAVE_UP, 0);
	if (strcmp(what, "statuses_delivered") == 0)
		return count_hooks(w, "status", HOOK_DELIVERED, 0);
	if (strcmp(what, "hooks_settled") == 0)
		return count_hooks(w, NULL, HOOK_DELIVERED, 0) + count_hooks(w, NULL, HOOK_GAVE_UP, 0);
	if (strcmp(what, "media_downloads") == 0)
		return w->st.media_downloads;
	if (strcmp(what, "media_uploads") == 0)
		return w->st.media_uploads;
	return -1;
}

static void c_stats(struct sim_ctl *c)
{
	const struct wasim_stats *st = &front(c)->st;
	cJSON *o = cJSON_CreateObject();
	size_t pending = 0, i;

	for (i = 0; i < front(c)->hooks.n; i++) {
		const struct wasim_hook *h = sim_ring_at(&front(c)->hooks, i);

		pending += h->state == HOOK_PENDING || h->state == HOOK_INFLIGHT;
	}
#define N(x) cJSON_AddNumberToObject(o, #x, (double)st->x)
	N(api_calls); N(sent); N(rejected); N(bad_auth);
	N(window_violations); N(pair_breaches); N(throughput_breaches);
	N(unreachable); N(template_errors); N(param_errors);
	N(media_uploads); N(media_downloads); N(media_expired); N(media_bad_auth);
	N(hooks_posted); N(hooks_delivered); N(hooks_refused); N(hooks_failed);
	N(hooks_gave_up); N(hooks_forged); N(forged_accepted); N(hooks_replayed);
	N(statuses); N(status_dups); N(marked_read); N(verifications);
#undef N
	/* What the daemon answered to forged hooks: it must refuse them all. */
	cJSON_AddNumberToObject(o, "bad_signatures_refused",
	                        (double)count_hooks(front(c), "forged", HOOK_GAVE_UP, 0));
	cJSON_AddNumberToObject(o, "hooks_pending", (double)pending);
	cJSON_AddNumberToObject(o, "faults_left", sim_faults_left(&front(c)->core));
	sim_ctl_reply(c, 200, o);
}

static void c_wait(struct sim_ctl *c)
{
	sim_wait_handle(&front(c)->core, c->req);
}

static void c_button_reply(struct sim_ctl *c)
{
	c_reply(c, "button_reply");
}

static void c_list_reply(struct sim_ctl *c)
{
	c_reply(c, "list_reply");
}

void wasim_control_handle(struct http_server_req *req, void *arg)
{
	static const struct sim_route routes[] = {
		{"message", 1, c_message}, {"button", 1, c_button}, {"image", 1, c_image},
		{"photo", 1, c_image}, {"document", 1, c_document}, {"voice", 1, c_voice},
		{"location", 1, c_location}, {"changed_number", 1, c_changed_number},
		{"unsupported", 1, c_unsupported}, {"chat", 1, c_chat}, {"age", 1, c_age},
		{"clock", 1, c_clock}, {"unreachable", 1, c_unreachable},
		{"template", 1, c_template}, {"forge", 1, c_forge}, {"replay", 1, c_replay},
		{"verify", 1, c_verify}, {"webhook", 1, c_webhook}, {"fault", 1, c_fault}, {"reset", 1, c_reset},
		{"sent", 0, c_sent}, {"hooks", 0, c_hooks}, {"stats", 0, c_stats},
		{"wait", 0, c_wait},
		{"button_reply", 1, c_button_reply}, {"list_reply", 1, c_list_reply},
	};
	struct wasim *self = arg;

	sim_control_dispatch(&self->core, req, routes, CB_ARRAY_SIZE(routes), self);
}
