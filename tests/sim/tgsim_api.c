/* The Bot API side: /bot<TOKEN>/<method> with a JSON body (or none) and
 * /file/bot<TOKEN>/<file_path>. Answers, error texts and status codes follow
 * the real server (tdlib/telegram-bot-api): the HTTP status is the
 * error_code, a 429 carries parameters.retry_after and a Retry-After header,
 * limit and timeout are clamped rather than refused, method names are
 * case-insensitive, and a getUpdates that starts a long poll ends the one
 * already waiting with 409.
 *
 * Requests answered later (long polls, "slow" and "drop" faults) are held
 * in a struct held with its own timer; the request handle stays valid until
 * we answer it, even when the client has gone (bot/net/http_server.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <utf8proc.h>

#include "bot/log.h"
#include "bot/gateways/telegram_api.h"
#include "tests/sim/sim_form.h"
#include "tests/sim/tgsim.h"

#define DOWNLOAD_MAX (20 * 1024 * 1024)

enum held_kind { HELD_POLL = 0, HELD_SLOW, HELD_DROP };

struct tgsim_held {
	uv_timer_t timer;                /* owned: freed in its close callback */
	struct tgsim *sim;
	struct http_server_req *req;     /* NULL once answered */
	enum held_kind kind;
	char method[TGSIM_METHOD_MAX];
	cJSON *params;                   /* HELD_SLOW: the request, parsed */
	int64_t offset;                  /* HELD_POLL */
	int limit;
	uint64_t started;
	int done;
	struct tgsim_held *prev, *next;
};

static const char *const methods[] = {
	"getMe", "getUpdates", "sendMessage", "editMessageText", "answerCallbackQuery", "getFile",
	"sendChatAction", "deleteWebhook", "getWebhookInfo", "setMyCommands",
	"sendPhoto", "sendDocument", "sendVoice", "sendVideo", "sendAudio",
	"getMyCommands", "deleteMyCommands", "setMyDescription", "getMyDescription",
};

/* sendPhoto and friends: the field that carries the file, by method. */
static const char *media_field(const char *method)
{
	static const char *const map[][2] = {
		{"sendPhoto", "photo"}, {"sendDocument", "document"}, {"sendVoice", "voice"},
		{"sendVideo", "video"}, {"sendAudio", "audio"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(method, map[i][0]) == 0)
			return map[i][1];
	return NULL;
}

static void dispatch(struct tgsim *sim, struct http_server_req *req,
                     const char *method, const cJSON *params, uint64_t started);

/* ---- answers ---------------------------------------------------------- */

static cJSON *ok_root(cJSON *result)
{
	cJSON *root = NULL;

	if (result == NULL)
		return NULL;
	if ((root = cJSON_CreateObject()) == NULL || cJSON_AddTrueToObject(root, "ok") == NULL ||
	    !cJSON_AddItemToObject(root, "result", result)) {
		cJSON_Delete(result);
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

static cJSON *err_root(int code, const char *desc)
{
	cJSON *root = cJSON_CreateObject();

	if (root == NULL || cJSON_AddFalseToObject(root, "ok") == NULL ||
	    cJSON_AddNumberToObject(root, "error_code", code) == NULL ||
	    cJSON_AddStringToObject(root, "description", desc) == NULL) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* Every API answer goes through here: one log line (method, status, time;
 * never the token, never a message text), the counters, the response. */
static void finish(struct tgsim *sim, struct http_server_req *req, const char *method,
                   uint64_t started, int status, cJSON *root, const char *note)
{
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(root, "description");

	sim->st.api_calls++;
	if (strcmp(method, "sendMessage") == 0 && status != 200)
		sim->st.rejected++;
	log_info("%s -> %d%s%s%s%s (%llu ms)", method, status,
	         cJSON_IsString(desc) ? " " : "", cJSON_IsString(desc) ? desc->valuestring : "",
	         note != NULL ? " " : "", note != NULL ? note : "",
	         (unsigned long long)(sim_now_ms() - started));
	sim_reply_json(req, status, root);
}

static void fail(struct tgsim *sim, struct http_server_req *req, const char *method,
                 uint64_t started, int code, const char *desc)
{
	finish(sim, req, method, started, code, err_root(code, desc), NULL);
}

static void fail_retry(struct tgsim *sim, struct http_server_req *req, const char *method,
                       uint64_t started, int retry_after, const char *note)
{
	char desc[80], secs[24];
	cJSON *root, *params;

	if (retry_after <= 0)
		retry_after = 1;
	snprintf(desc, sizeof(desc), "Too Many Requests: retry after %d", retry_after);
	snprintf(secs, sizeof(secs), "%d", retry_after);
	root = err_root(429, desc);
	params = root != NULL ? cJSON_AddObjectToObject(root, "parameters") : NULL;
	if (params != NULL)
		cJSON_AddNumberToObject(params, "retry_after", retry_after);
	http_server_add_header(req, "Retry-After", secs);
	finish(sim, req, method, started, 429, root, note);
}

static void raw_answer(struct tgsim *sim, struct http_server_req *req, const char *method,
                       uint64_t started, int status, const char *ctype, const char *body,
                       const char *note)
{
	sim->st.api_calls++;
	if (strcmp(method, "sendMessage") == 0)
		sim->st.rejected++;
	log_info("%s -> %d %s (%llu ms)", method, status, note,
	         (unsigned long long)(sim_now_ms() - started));
	http_server_respond(req, status, ctype, body, body != NULL ? strlen(body) : 0);
}

/* ---- held requests ---------------------------------------------------- */

static void held_closed(uv_handle_t *h)
{
	struct tgsim_held *hd = h->data;

	cJSON_Delete(hd->params);
	free(hd);
}

/* Unlinks and closes; the memory goes in the close callback. */
static void held_done(struct tgsim_held *hd)
{
	struct tgsim *sim = hd->sim;

	if (hd->done)
		return;
	hd->done = 1;
	if (hd->prev != NULL)
		hd->prev->next = hd->next;
	else
		sim->held = hd->next;
	if (hd->next != NULL)
		hd->next->prev = hd->prev;
	sim->nheld--;
	if (sim->poll == hd)
		sim->poll = NULL;
	uv_timer_stop(&hd->timer);
	uv_close((uv_handle_t *)&hd->timer, held_closed);
}

static void answer_updates(struct tgsim *sim, struct http_server_req *req, uint64_t started,
                           int64_t offset, int limit)
{
	char note[48];
	cJSON *list;
	int n = 0;

	list = tgsim_update_list(sim, tgsim_update_from(sim, offset), limit, &n);
	snprintf(note, sizeof(note), "updates=%d", n);
	finish(sim, req, "getUpdates", started, 200, ok_root(list), note);
}

static void on_held_timer(uv_timer_t *t)
{
	struct tgsim_held *hd = t->data;
	struct tgsim *sim = hd->sim;
	struct http_server_req *req = hd->req;

	hd->req = NULL;
	switch (hd->kind) {
	case HELD_POLL:
		answer_updates(sim, req, hd->started, hd->offset, hd->limit);
		break;
	case HELD_SLOW:
		/* Processed only now, as if the request had just arrived. */
		dispatch(sim, req, hd->method, hd->params, hd->started);
		break;
	case HELD_DROP:
		/* Nobody is waiting any more; nothing was done. */
		raw_answer(sim, req, hd->method, hd->started, 502, "text/plain",
		           "dropped\n", "(drop fault, held until now)");
		break;
	}
	held_done(hd);
}

static struct tgsim_held *held_new(struct tgsim *sim, struct http_server_req *req,
                                   enum held_kind kind, const char *method,
                                   uint64_t delay_ms, uint64_t started)
{
	struct tgsim_held *hd;

	if (sim->nheld >= TGSIM_MAX_HELD || (hd = calloc(1, sizeof(*hd))) == NULL)
		return NULL;
	uv_timer_init(sim->core.loop, &hd->timer);
	hd->timer.data = hd;
	hd->sim = sim;
	hd->req = req;
	hd->kind = kind;
	hd->started = started;
	cb_strlcpy(hd->method, method, sizeof(hd->method));
	hd->next = sim->held;
	if (sim->held != NULL)
		sim->held->prev = hd;
	sim->held = hd;
	sim->nheld++;
	uv_timer_start(&hd->timer, on_held_timer, delay_ms, 0);
	return hd;
}

void tgsim_api_wake(struct tgsim *sim)
{
	struct tgsim_held *hd = sim->poll;
	struct http_server_req *req;

	if (hd == NULL || tgsim_update_pending(sim, tgsim_update_from(sim, hd->offset)) == 0)
		return;
	req = hd->req;
	hd->req = NULL;
	answer_updates(sim, req, hd->started, hd->offset, hd->limit);
	held_done(hd);
}

void tgsim_api_shutdown(struct tgsim *sim)
{
	struct tgsim_held *hd;
	struct http_server_req *req;

	while ((hd = sim->held) != NULL) {
		req = hd->req;
		hd->req = NULL;
		if (hd->kind == HELD_POLL)
			answer_updates(sim, req, hd->started, hd->offset, hd->limit);
		else
			raw_answer(sim, req, hd->method, hd->started, 503, "text/plain",
			           "shutting down\n", "(held, shutting down)");
		held_done(hd);
	}
}

/* ---- parameters ------------------------------------------------------- */

/* An integer parameter: a number or a numeric string, as the real API
 * reads form fields. Returns 1 when present and readable. */
static int param_i64(const cJSON *params, const char *name, int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(params, name);
	char *end;
	long long v;

	if (cJSON_IsNumber(it)) {
		if (!(it->valuedouble <= 9007199254740992.0 && it->valuedouble >= -9007199254740992.0))
			return 0;
		*out = (int64_t)it->valuedouble;
		return 1;
	}
	if (cJSON_IsString(it) && it->valuestring[0] != '\0') {
		v = strtoll(it->valuestring, &end, 10);
		if (*end != '\0')
			return 0;
		*out = v;
		return 1;
	}
	return 0;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : (v > hi ? hi : v);
}

static int valid_utf8(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(s), n;
	utf8proc_int32_t cp;

	while (len > 0) {
		if ((n = utf8proc_iterate(p, len, &cp)) <= 0 || cp < 0)
			return 0;
		p += n;
		len -= n;
	}
	return 1;
}

static int blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (strchr(" \t\r\n\v\f", *s) == NULL)
			return 0;
	return 1;
}

/* reply_markup as the real API takes it: an object, or a string holding
 * one. On success *out is a new tree (or NULL for none); otherwise *err is
 * Telegram's description. */
static int read_markup(const cJSON *params, cJSON **out, const char **err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(params, "reply_markup");
	const cJSON *kb, *row, *btn, *data;
	cJSON *m = NULL;
	size_t len;

	*out = NULL;
	*err = "Bad Request: can't parse reply keyboard markup JSON object";
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (cJSON_IsString(it))
		m = cJSON_Parse(it->valuestring);
	else if (cJSON_IsObject(it))
		m = cJSON_Duplicate(it, 1);
	if (!cJSON_IsObject(m))
		goto bad;
	kb = cJSON_GetObjectItemCaseSensitive(m, "inline_keyboard");
	if (kb != NULL) {
		if (!cJSON_IsArray(kb))
			goto bad;
		cJSON_ArrayForEach(row, kb) {
			if (!cJSON_IsArray(row))
				goto bad;
			cJSON_ArrayForEach(btn, row) {
				if (!cJSON_IsObject(btn) ||
				    !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(btn, "text"))) {
					*err = "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
					goto bad;
				}
				data = cJSON_GetObjectItemCaseSensitive(btn, "callback_data");
				if (data == NULL) {
					if (cJSON_GetObjectItemCaseSensitive(btn, "url") != NULL)
						continue;
					*err = "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
					goto bad;
				}
				len = cJSON_IsString(data) ? strlen(data->valuestring) : 0;
				if (len == 0 || len > TELEGRAM_CALLBACK_DATA_MAX) {
					*err = "Bad Request: BUTTON_DATA_INVALID";
					goto bad;
				}
			}
		}
	}
	*out = m;
	return 0;
bad:
	cJSON_Delete(m);
	return -CB_EINVAL;
}

/* reply_to_message_id or reply_parameters.message_id; *lenient when the
 * caller allows sending without the reply. */
static int64_t read_reply(const cJSON *params, int *lenient)
{
	const cJSON *rp = cJSON_GetObjectItemCaseSensitive(params, "reply_parameters");
	int64_t id = 0;

	*lenient = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(params, "allow_sending_without_reply"));
	if (cJSON_IsString(rp))
		return 0;
	if (cJSON_IsObject(rp)) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rp, "allow_sending_without_reply")))
			*lenient = 1;
		if (param_i64(rp, "message_id", &id))
			return id;
		return 0;
	}
	if (param_i64(params, "reply_to_message_id", &id))
		return id;
	return 0;
}

/* ---- methods ---------------------------------------------------------- */

static void m_get_me(struct tgsim *sim, struct http_server_req *req, uint64_t started)
{
	cJSON *u = tgsim_bot_json(sim);

	if (u != NULL) {
		cJSON_AddTrueToObject(u, "can_join_groups");
		cJSON_AddFalseToObject(u, "can_read_all_group_messages");
		cJSON_AddFalseToObject(u, "supports_inline_queries");
	}
	finish(sim, req, "getMe", started, 200, ok_root(u), NULL);
}

static void m_get_updates(struct tgsim *sim, struct http_server_req *req, const cJSON *params,
                          uint64_t started, int empty_fault)
{
	int64_t offset = 0, limit = 100, timeout = 0;
	const cJSON *allowed = cJSON_GetObjectItemCaseSensitive(params, "allowed_updates");
	struct tgsim_held *hd, *old;
	cJSON *parsed;

	param_i64(params, "offset", &offset);
	if (param_i64(params, "limit", &limit))
		limit = clamp64(limit, 1, 100);
	if (param_i64(params, "timeout", &timeout))
		timeout = clamp64(timeout, 0, TGSIM_POLL_TIMEOUT_MAX);
	if (cJSON_IsArray(allowed)) {
		tgsim_update_set_allowed(sim, allowed);
	} else if (cJSON_IsString(allowed)) {
		/* Form posts send the list as a JSON string. */
		parsed = cJSON_Parse(allowed->valuestring);
		tgsim_update_set_allowed(sim, parsed);
		cJSON_Delete(parsed);
	}
	sim->st.get_updates++;
	/* Asking from offset confirms every update below it, for good; an
	 * offset in the future confirms nothing. */
	if (offset <= 0 || tgsim_update_from(sim, offset) == offset)
		tgsim_update_confirm(sim, offset);
	if (offset < 0)
		offset = 0;
	if (empty_fault) {
		finish(sim, req, "getUpdates", started, 200, ok_root(cJSON_CreateArray()),
		       "(empty fault)");
		return;
	}
	if (timeout == 0 || tgsim_update_pending(sim, tgsim_update_from(sim, offset)) > 0) {
		answer_updates(sim, req, started, offset, (int)limit);
		return;
	}
	/* Only one long poll at a time: the older one is terminated. */
	if ((old = sim->poll) != NULL) {
		struct http_server_req *oreq = old->req;

		old->req = NULL;
		sim->st.conflicts++;
		fail(sim, oreq, "getUpdates", old->started, 409,
		     "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running");
		held_done(old);
	}
	hd = held_new(sim, req, HELD_POLL, "getUpdates", (uint64_t)timeout * 1000, started);
	if (hd == NULL) {
		fail_retry(sim, req, "getUpdates", started, 1, "(too many held requests)");
		return;
	}
	hd->offset = offset;
	hd->limit = (int)limit;
	sim->poll = hd;
}

static void m_send_message(struct tgsim *sim, struct http_server_req *req, const cJSON *params,
                           uint64_t started)
{
	const cJSON *text_it = cJSON_GetObjectItemCaseSensitive(params, "text");
	const char *text = cJSON_IsString(text_it) ? text_it->valuestring : "";
	const char *err = NULL;
	struct sim_chat *c;
	cJSON *markup = NULL, *msg = NULL;
	int64_t chat_id = 0, reply_to;
	int lenient, chat_breach, global_breach;
	uint64_t now = sim_now_ms(), wait_ms;
	char note[64], *copy;

	if (read_markup(params, &markup, &err) != 0) {
		fail(sim, req, "sendMessage", started, 400, err);
		return;
	}
	if (!valid_utf8(text)) {
		fail(sim, req, "sendMessage", started, 400, "Bad Request: strings must be encoded in UTF-8");
		goto out;
	}
	if (blank(text)) {
		fail(sim, req, "sendMessage", started, 400, "Bad Request: message text is empty");
		goto out;
	}
	if (cJSON_GetObjectItemCaseSensitive(params, "chat_id") == NULL) {
		fail(sim, req, "sendMessage", started, 400, "Bad Request: chat_id is empty");
		goto out;
	}
	if (!param_i64(params, "chat_id", &chat_id) || (c = sim_chat_find(&sim->core, chat_id)) == NULL) {
		fail(sim, req, "sendMessage", started, 400, "Bad Request: chat not found");
		goto out;
	}
	snprintf(note, sizeof(note), "chat=%" PRId64, chat_id);
	if (telegram_api_utf16_len(text, strlen(text)) > TELEGRAM_TEXT_MAX_UNITS) {
		fail(sim, req, "sendMessage", started, 400, "Bad Request: message is too long");
		goto out;
	}
	reply_to = read_reply(params, &lenient);
	if (reply_to != 0 && (reply_to < 0 || reply_to > c->last_message_id)) {
		if (!lenient) {
			fail(sim, req, "sendMessage", started, 400,
			     "Bad Request: message to be replied not found");
			goto out;
		}
		reply_to = 0;
	}
	if (c->blocked) {
		fail(sim, req, "sendMessage", started, 403, "Forbidden: bot was blocked by the user");
		goto out;
	}
	sim_rate_check(&sim->core, c, now, &chat_breach, &global_breach, &wait_ms);
	sim->st.breaches_chat += chat_breach;
	sim->st.breaches_global += global_breach;
	if ((chat_breach || global_breach) && sim->core.enforce) {
		fail_retry(sim, req, "sendMessage", started, (int)((wait_ms + 999) / 1000),
		           chat_breach ? "(per-chat limit)" : "(global limit)");
		goto out;
	}
	if (chat_breach || global_breach)
		cb_strlcat(note, chat_breach ? " breach=chat" : " breach=global", sizeof(note));
	if ((msg = cJSON_CreateObject()) == NULL || (copy = strdup(text)) == NULL) {
		fail(sim, req, "sendMessage", started, 500, "Internal Server Error");
		goto out;
	}
	c->last_message_id++;
	sim_rate_record(&sim->core, c, now);
	sim->st.sent++;
	cJSON_AddNumberToObject(msg, "message_id", (double)c->last_message_id);
	cJSON_AddItemToObject(msg, "from", tgsim_bot_json(sim));
	cJSON_AddItemToObject(msg, "chat", tgsim_chat_json(c));
	cJSON_AddNumberToObject(msg, "date", (double)time(NULL));
	cJSON_AddStringToObject(msg, "text", text);
	if (markup != NULL)
		cJSON_AddItemToObject(msg, "reply_markup", cJSON_Duplicate(markup, 1));
	sim_sent_push(&sim->core, chat_id, c->last_message_id, reply_to, copy, markup, NULL);
	markup = NULL;
	finish(sim, req, "sendMessage", started, 200, ok_root(msg), note);
	sim_wait_wake(&sim->core);
out:
	cJSON_Delete(markup);
}

/* The same keyboard, as the Bot API compares them: no keyboard and an
 * empty one look the same on the phone. */
static int same_markup(const cJSON *a, const cJSON *b)
{
	const cJSON *ka = cJSON_GetObjectItemCaseSensitive(a, "inline_keyboard");
	const cJSON *kb = cJSON_GetObjectItemCaseSensitive(b, "inline_keyboard");

	if (cJSON_GetArraySize(ka) == 0 && cJSON_GetArraySize(kb) == 0)
		return 1;
	return a != NULL && b != NULL && cJSON_Compare(a, b, 1);
}

/* editMessageText as the Bot API answers it: the message must be one the
 * bot sent in that chat (a family's own message "can't be edited", an id
 * never used is "not found"); the same text and keyboard again is "not
 * modified"; without reply_markup the keyboard goes. The answer is the
 * edited message with its edit_date. No new message is made, so the
 * phone shows no new notification, and GET /control/sent shows the
 * message with its new text. */
static void m_edit_message_text(struct tgsim *sim, struct http_server_req *req, const cJSON *params,
                                uint64_t started)
{
	static const char M[] = "editMessageText";
	const cJSON *text_it = cJSON_GetObjectItemCaseSensitive(params, "text");
	const char *text = cJSON_IsString(text_it) ? text_it->valuestring : "";
	const char *err = NULL;
	struct sim_sent *m = NULL;
	struct sim_chat *c;
	cJSON *markup = NULL, *msg = NULL;
	int64_t chat_id = 0, message_id = 0;
	int chat_breach, global_breach, printed_ok;
	uint64_t now = sim_now_ms(), wait_ms;
	size_t bytes;
	char note[64], *copy = NULL, *printed;

	if (read_markup(params, &markup, &err) != 0) {
		fail(sim, req, M, started, 400, err);
		return;
	}
	if (cJSON_GetObjectItemCaseSensitive(params, "chat_id") == NULL) {
		fail(sim, req, M, started, 400, "Bad Request: chat_id is empty");
		goto out;
	}
	if (!param_i64(params, "chat_id", &chat_id) || (c = sim_chat_find(&sim->core, chat_id)) == NULL) {
		fail(sim, req, M, started, 400, "Bad Request: chat not found");
		goto out;
	}
	if (!param_i64(params, "message_id", &message_id) || message_id <= 0) {
		fail(sim, req, M, started, 400, "Bad Request: message identifier is not specified");
		goto out;
	}
	if (!valid_utf8(text)) {
		fail(sim, req, M, started, 400, "Bad Request: strings must be encoded in UTF-8");
		goto out;
	}
	if (blank(text)) {
		fail(sim, req, M, started, 400, "Bad Request: message text is empty");
		goto out;
	}
	snprintf(note, sizeof(note), "chat=%" PRId64 " message=%" PRId64, chat_id, message_id);
	if (telegram_api_utf16_len(text, strlen(text)) > TELEGRAM_TEXT_MAX_UNITS) {
		fail(sim, req, M, started, 400, "Bad Request: MESSAGE_TOO_LONG");
		goto out;
	}
	if (c->blocked) {
		fail(sim, req, M, started, 403, "Forbidden: bot was blocked by the user");
		goto out;
	}
	for (size_t i = sim->core.sent.n; i > 0 && m == NULL; i--) {
		struct sim_sent *s = sim_ring_at(&sim->core.sent, i - 1);

		if (s->chat_id == chat_id && s->message_id == message_id)
			m = s;
	}
	if (m == NULL) {
		fail(sim, req, M, started, 400,
		     message_id <= c->last_message_id ? "Bad Request: message can't be edited"
		                                      : "Bad Request: message to edit not found");
		goto out;
	}
	if (strcmp(m->text, text) == 0 && same_markup(m->markup, markup)) {
		fail(sim, req, M, started, 400,
		     "Bad Request: message is not modified: specified new message content and reply markup are "
		     "exactly the same as a current content and reply markup of the message");
		goto out;
	}
	sim_rate_check(&sim->core, c, now, &chat_breach, &global_breach, &wait_ms);
	sim->st.breaches_chat += chat_breach;
	sim->st.breaches_global += global_breach;
	if ((chat_breach || global_breach) && sim->core.enforce) {
		fail_retry(sim, req, M, started, (int)((wait_ms + 999) / 1000),
		           chat_breach ? "(per-chat limit)" : "(global limit)");
		goto out;
	}
	/* Counted as sim_sent_push counts a message, for the byte cap. */
	bytes = sizeof(*m) + strlen(text);
	printed = markup != NULL ? cJSON_PrintUnformatted(markup) : NULL;
	printed_ok = markup == NULL || printed != NULL;
	bytes += printed != NULL ? strlen(printed) : 0;
	free(printed);
	if (!printed_ok || (copy = strdup(text)) == NULL || (msg = cJSON_CreateObject()) == NULL) {
		free(copy);
		fail(sim, req, M, started, 500, "Internal Server Error");
		goto out;
	}
	sim_rate_record(&sim->core, c, now);
	free(m->text);
	cJSON_Delete(m->markup);
	m->text = copy;
	m->markup = markup;
	markup = NULL;
	sim->core.sent_bytes = sim->core.sent_bytes - m->bytes + bytes;
	m->bytes = bytes;
	cJSON_AddNumberToObject(msg, "message_id", (double)message_id);
	cJSON_AddItemToObject(msg, "from", tgsim_bot_json(sim));
	cJSON_AddItemToObject(msg, "chat", tgsim_chat_json(c));
	cJSON_AddNumberToObject(msg, "date", (double)(m->at_ms / 1000));
	cJSON_AddNumberToObject(msg, "edit_date", (double)time(NULL));
	cJSON_AddStringToObject(msg, "text", m->text);
	if (m->markup != NULL)
		cJSON_AddItemToObject(msg, "reply_markup", cJSON_Duplicate(m->markup, 1));
	finish(sim, req, M, started, 200, ok_root(msg), note);
out:
	cJSON_Delete(markup);
}

/* A file the bot passes on by its file_id (the way a forward sends a
 * family's photo to the counsellor). Recorded in the sent list as
 * "[field file_id]" plus the caption. */
static void m_send_media(struct tgsim *sim, struct http_server_req *req, const char *method,
                         const cJSON *params, uint64_t started)
{
	const char *field = media_field(method);
	const cJSON *file = cJSON_GetObjectItemCaseSensitive(params, field);
	const cJSON *caption = cJSON_GetObjectItemCaseSensitive(params, "caption");
	struct sim_chat *c;
	int64_t chat_id = 0;
	int chat_breach, global_breach;
	uint64_t now = sim_now_ms(), wait_ms;
	char line[512], *copy;
	cJSON *msg;

	if (!param_i64(params, "chat_id", &chat_id) || (c = sim_chat_find(&sim->core, chat_id)) == NULL) {
		fail(sim, req, method, started, 400, "Bad Request: chat not found");
		return;
	}
	if (!cJSON_IsString(file) || sim_file_by_id(&sim->core, file->valuestring) == NULL) {
		fail(sim, req, method, started, 400, "Bad Request: wrong file identifier/HTTP URL specified");
		return;
	}
	if (c->blocked) {
		fail(sim, req, method, started, 403, "Forbidden: bot was blocked by the user");
		return;
	}
	sim_rate_check(&sim->core, c, now, &chat_breach, &global_breach, &wait_ms);
	sim->st.breaches_chat += chat_breach;
	sim->st.breaches_global += global_breach;
	snprintf(line, sizeof(line), "[%s %s]%s%s", field, file->valuestring,
	         cJSON_IsString(caption) ? " " : "", cJSON_IsString(caption) ? caption->valuestring : "");
	if ((msg = cJSON_CreateObject()) == NULL || (copy = strdup(line)) == NULL) {
		cJSON_Delete(msg);
		fail(sim, req, method, started, 500, "Internal Server Error");
		return;
	}
	c->last_message_id++;
	sim_rate_record(&sim->core, c, now);
	sim->st.sent++;
	cJSON_AddNumberToObject(msg, "message_id", (double)c->last_message_id);
	cJSON_AddItemToObject(msg, "chat", tgsim_chat_json(c));
	cJSON_AddNumberToObject(msg, "date", (double)time(NULL));
	sim_sent_push(&sim->core, chat_id, c->last_message_id, 0, copy, NULL, NULL);
	finish(sim, req, method, started, 200, ok_root(msg), NULL);
	sim_wait_wake(&sim->core);
}

static void m_answer_callback(struct tgsim *sim, struct http_server_req *req,
                              const cJSON *params, uint64_t started)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(params, "callback_query_id");
	char buf[32];

	if (cJSON_IsNumber(id))
		snprintf(buf, sizeof(buf), "%.0f", id->valuedouble);
	else
		cb_strlcpy(buf, cJSON_IsString(id) ? id->valuestring : "", sizeof(buf));
	if (tgsim_callback_answer(sim, buf) != 0) {
		fail(sim, req, "answerCallbackQuery", started, 400,
		     "Bad Request: query is too old and response timeout expired or query ID is invalid");
		return;
	}
	finish(sim, req, "answerCallbackQuery", started, 200, ok_root(cJSON_CreateTrue()), NULL);
}

static void m_get_file(struct tgsim *sim, struct http_server_req *req, const cJSON *params,
                       uint64_t started)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(params, "file_id");
	struct sim_file *f = cJSON_IsString(id) ? sim_file_by_id(&sim->core, id->valuestring) : NULL;
	cJSON *o;

	if (f == NULL) {
		fail(sim, req, "getFile", started, 400, "Bad Request: invalid file_id");
		return;
	}
	if (f->size > DOWNLOAD_MAX || f->path[0] == '\0') {
		fail(sim, req, "getFile", started, 400, "Bad Request: file is too big");
		return;
	}
	if ((o = cJSON_CreateObject()) != NULL) {
		cJSON_AddStringToObject(o, "file_id", f->file_id);
		cJSON_AddStringToObject(o, "file_unique_id", f->unique_id);
		cJSON_AddNumberToObject(o, "file_size", (double)f->size);
		cJSON_AddStringToObject(o, "file_path", f->path);
	}
	finish(sim, req, "getFile", started, 200, ok_root(o), NULL);
}

static void m_chat_action(struct tgsim *sim, struct http_server_req *req, const cJSON *params,
                          uint64_t started)
{
	struct sim_chat *c;
	int64_t chat_id;

	if (!param_i64(params, "chat_id", &chat_id) || (c = sim_chat_find(&sim->core, chat_id)) == NULL) {
		fail(sim, req, "sendChatAction", started, 400, "Bad Request: chat not found");
		return;
	}
	if (c->blocked) {
		fail(sim, req, "sendChatAction", started, 403, "Forbidden: bot was blocked by the user");
		return;
	}
	finish(sim, req, "sendChatAction", started, 200, ok_root(cJSON_CreateTrue()), NULL);
}

static void m_webhook_info(struct tgsim *sim, struct http_server_req *req, uint64_t started)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL) {
		cJSON_AddStringToObject(o, "url", "");
		cJSON_AddFalseToObject(o, "has_custom_certificate");
		cJSON_AddNumberToObject(o, "pending_update_count", (double)sim->updates.n);
	}
	finish(sim, req, "getWebhookInfo", started, 200, ok_root(o), NULL);
}

/* ---- the bot's menu and description ------------------------------------ */

/* A parameter that is an object or an array, given as JSON or as a string
 * holding JSON (form posts); a new tree, NULL when absent, or *bad. */
static cJSON *json_param(const cJSON *params, const char *name, int *bad)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(params, name);
	cJSON *v = NULL;

	*bad = 0;
	if (it == NULL || cJSON_IsNull(it) || (cJSON_IsString(it) && it->valuestring[0] == '\0'))
		return NULL;
	if (cJSON_IsString(it))
		v = cJSON_Parse(it->valuestring);
	else
		v = cJSON_Duplicate(it, 1);
	if (v == NULL)
		*bad = 1;
	return v;
}

/* language_code: "" or two letters a-z (tdlib's validate_bot_language_code). */
static int read_lang(const cJSON *params, char lang[3])
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(params, "language_code");
	const char *s = cJSON_IsString(it) ? it->valuestring : "";

	if (s[0] != '\0' && !(s[0] >= 'a' && s[0] <= 'z' && s[1] >= 'a' && s[1] <= 'z' && s[2] == '\0'))
		return -1;
	snprintf(lang, 3, "%s", s);
	return 0;
}

static size_t utf8_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* The BotCommandScope as the real server reads it; err is its description
 * of what is wrong. */
static int read_scope(struct tgsim *sim, const cJSON *params, struct tgsim_command_set *set,
                      const char **err)
{
	static const char *const types[] = {
		"default", "all_private_chats", "all_group_chats", "all_chat_administrators",
		"chat", "chat_administrators", "chat_member",
	};
	const cJSON *type;
	cJSON *scope;
	int bad, rc = -1;
	size_t i;

	scope = json_param(params, "scope", &bad);
	*err = "Bad Request: can't parse BotCommandScope JSON object";
	if (bad)
		return -1;
	if (scope == NULL) {
		cb_strlcpy(set->scope, "default", sizeof(set->scope));
		return 0;
	}
	*err = "Bad Request: can't parse BotCommandScope: BotCommandScope must be an Object";
	if (!cJSON_IsObject(scope))
		goto out;
	type = cJSON_GetObjectItemCaseSensitive(scope, "type");
	*err = "Bad Request: can't parse BotCommandScope: Can't find field \"type\"";
	if (!cJSON_IsString(type))
		goto out;
	for (i = 0; i < CB_ARRAY_SIZE(types); i++)
		if (strcmp(type->valuestring, types[i]) == 0)
			break;
	*err = "Bad Request: can't parse BotCommandScope: Unsupported type specified";
	if (i == CB_ARRAY_SIZE(types))
		goto out;
	cb_strlcpy(set->scope, types[i], sizeof(set->scope));
	if (i >= 4) {
		*err = "Bad Request: can't parse BotCommandScope: Can't find field \"chat_id\"";
		if (!param_i64(scope, "chat_id", &set->chat_id))
			goto out;
		*err = "Bad Request: chat not found";
		if (sim_chat_find(&sim->core, set->chat_id) == NULL)
			goto out;
		*err = "Bad Request: can't parse BotCommandScope: Invalid user_id specified";
		if (i == 6 && (!param_i64(scope, "user_id", &set->user_id) || set->user_id <= 0))
			goto out;
	}
	rc = 0;
out:
	cJSON_Delete(scope);
	return rc;
}

static struct tgsim_command_set *command_set_find(struct tgsim *sim, const struct tgsim_command_set *key)
{
	for (size_t i = 0; i < sim->ncommand_sets; i++) {
		struct tgsim_command_set *s = &sim->command_sets[i];

		if (strcmp(s->scope, key->scope) == 0 && s->chat_id == key->chat_id &&
		    s->user_id == key->user_id && strcmp(s->lang, key->lang) == 0)
			return s;
	}
	return NULL;
}

/* setMyCommands, getMyCommands and deleteMyCommands, checked as the real
 * server checks them: tdlib for the JSON, the scope and the language code,
 * Telegram's own errors for the commands (BOT_COMMAND_INVALID for a name
 * that is not 1-32 of a-z 0-9 _). */
static void m_my_commands(struct tgsim *sim, struct http_server_req *req, const char *method,
                          const cJSON *params, uint64_t started)
{
	struct tgsim_command_set key, *set;
	const cJSON *it;
	cJSON *commands = NULL, *copy;
	const char *err;
	int bad, n = 0;

	memset(&key, 0, sizeof(key));
	if (strcmp(method, "setMyCommands") == 0) {
		commands = json_param(params, "commands", &bad);
		if (bad) {
			fail(sim, req, method, started, 400, "Bad Request: can't parse commands JSON object");
			return;
		}
		if (commands == NULL)
			commands = cJSON_CreateArray();
		if (!cJSON_IsArray(commands)) {
			fail(sim, req, method, started, 400, "Bad Request: expected an Array of BotCommand");
			goto out;
		}
		cJSON_ArrayForEach(it, commands) {
			const cJSON *c = cJSON_GetObjectItemCaseSensitive(it, "command");
			const cJSON *d = cJSON_GetObjectItemCaseSensitive(it, "description");

			if (!cJSON_IsObject(it)) {
				fail(sim, req, method, started, 400, "Bad Request: can't parse BotCommand: expected an Object");
				goto out;
			}
			if (!cJSON_IsString(c) || !cJSON_IsString(d)) {
				fail(sim, req, method, started, 400, !cJSON_IsString(c) ?
				     "Bad Request: can't parse BotCommand: Can't find field \"command\"" :
				     "Bad Request: can't parse BotCommand: Can't find field \"description\"");
				goto out;
			}
			if (!valid_utf8(c->valuestring) || !valid_utf8(d->valuestring)) {
				fail(sim, req, method, started, 400, "Bad Request: strings must be encoded in UTF-8");
				goto out;
			}
			if (!telegram_api_command_ok(c->valuestring)) {
				fail(sim, req, method, started, 400, "Bad Request: BOT_COMMAND_INVALID");
				goto out;
			}
			if (blank(d->valuestring)) {
				fail(sim, req, method, started, 400, "Bad Request: command description must be non-empty");
				goto out;
			}
			if (utf8_chars(d->valuestring) > TELEGRAM_COMMAND_ABOUT_MAX) {
				fail(sim, req, method, started, 400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID");
				goto out;
			}
			n++;
		}
		if (n > TELEGRAM_COMMANDS_MAX) {
			fail(sim, req, method, started, 400, "Bad Request: BOT_COMMANDS_TOO_MUCH");
			goto out;
		}
	}
	if (read_scope(sim, params, &key, &err) != 0) {
		fail(sim, req, method, started, 400, err);
		goto out;
	}
	if (read_lang(params, key.lang) != 0) {
		fail(sim, req, method, started, 400, "Bad Request: invalid language code specified");
		goto out;
	}
	set = command_set_find(sim, &key);
	if (strcmp(method, "getMyCommands") == 0) {
		copy = set != NULL ? cJSON_Duplicate(set->commands, 1) : cJSON_CreateArray();
		finish(sim, req, method, started, 200, ok_root(copy), NULL);
		goto out;
	}
	/* An empty list, or deleteMyCommands, removes the menu of that scope. */
	if (set != NULL) {
		cJSON_Delete(set->commands);
		*set = sim->command_sets[--sim->ncommand_sets];
	}
	if (commands != NULL && n > 0) {
		if (sim->ncommand_sets == TGSIM_MAX_COMMAND_SETS) {
			fail_retry(sim, req, method, started, 1, "(too many command sets)");
			goto out;
		}
		key.commands = commands;
		commands = NULL;
		sim->command_sets[sim->ncommand_sets++] = key;
	}
	sim->st.bot_settings++;
	finish(sim, req, method, started, 200, ok_root(cJSON_CreateTrue()), NULL);
out:
	cJSON_Delete(commands);
}

/* setMyDescription (0-512 characters; empty removes it) and
 * getMyDescription, by language code. */
static void m_my_description(struct tgsim *sim, struct http_server_req *req, const char *method,
                             const cJSON *params, uint64_t started)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(params, "description");
	const char *text = cJSON_IsString(d) ? d->valuestring : "";
	struct tgsim_description *found = NULL;
	char lang[3];
	cJSON *o;

	if (read_lang(params, lang) != 0) {
		fail(sim, req, method, started, 400, "Bad Request: invalid language code specified");
		return;
	}
	for (size_t i = 0; i < sim->ndescriptions; i++)
		if (strcmp(sim->descriptions[i].lang, lang) == 0)
			found = &sim->descriptions[i];
	if (strcmp(method, "getMyDescription") == 0) {
		if ((o = cJSON_CreateObject()) != NULL)
			cJSON_AddStringToObject(o, "description", found != NULL ? found->text : "");
		finish(sim, req, method, started, 200, ok_root(o), NULL);
		return;
	}
	if (!valid_utf8(text)) {
		fail(sim, req, method, started, 400, "Bad Request: strings must be encoded in UTF-8");
		return;
	}
	/* The limit is documented; the wording of this error is ours. */
	if (utf8_chars(text) > TELEGRAM_DESCRIPTION_MAX) {
		fail(sim, req, method, started, 400, "Bad Request: description is too long");
		return;
	}
	if (found == NULL && sim->ndescriptions == TGSIM_MAX_DESCRIPTIONS) {
		fail_retry(sim, req, method, started, 1, "(too many descriptions)");
		return;
	}
	if (found == NULL) {
		found = &sim->descriptions[sim->ndescriptions++];
		cb_strlcpy(found->lang, lang, sizeof(found->lang));
		found->text = NULL;
	}
	free(found->text);
	if ((found->text = strdup(text)) == NULL) {
		*found = sim->descriptions[--sim->ndescriptions];
		fail(sim, req, method, started, 500, "Internal Server Error");
		return;
	}
	sim->st.bot_settings++;
	finish(sim, req, method, started, 200, ok_root(cJSON_CreateTrue()), NULL);
}

/* The download of a file getFile described. */
static void m_download(struct tgsim *sim, struct http_server_req *req, const cJSON *params,
                       uint64_t started)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(params, "path");
	struct sim_file *f = cJSON_IsString(p) ? sim_file_by_path(&sim->core, p->valuestring) : NULL;
	unsigned char *bytes;

	if (f == NULL) {
		fail(sim, req, "file", started, 404, "Not Found");
		return;
	}
	if ((bytes = sim_file_bytes(f)) == NULL) {
		fail(sim, req, "file", started, 500, "Internal Server Error");
		return;
	}
	sim->st.files_downloaded++;
	sim->st.api_calls++;
	log_info("file -> 200 %lld bytes (%llu ms)", (long long)f->size,
	         (unsigned long long)(sim_now_ms() - started));
	http_server_respond(req, 200, "application/octet-stream", (const char *)bytes,
	                    (size_t)f->size);
	free(bytes);
}

static void dispatch(struct tgsim *sim, struct http_server_req *req, const char *method,
                     const cJSON *params, uint64_t started)
{
	if (strcmp(method, "getMe") == 0)
		m_get_me(sim, req, started);
	else if (strcmp(method, "getUpdates") == 0)
		m_get_updates(sim, req, params, started, 0);
	else if (strcmp(method, "sendMessage") == 0)
		m_send_message(sim, req, params, started);
	else if (strcmp(method, "editMessageText") == 0)
		m_edit_message_text(sim, req, params, started);
	else if (strcmp(method, "answerCallbackQuery") == 0)
		m_answer_callback(sim, req, params, started);
	else if (strcmp(method, "getFile") == 0)
		m_get_file(sim, req, params, started);
	else if (strcmp(method, "sendChatAction") == 0)
		m_chat_action(sim, req, params, started);
	else if (strcmp(method, "getWebhookInfo") == 0)
		m_webhook_info(sim, req, started);
	else if (strcmp(method, "file") == 0)
		m_download(sim, req, params, started);
	else if (media_field(method) != NULL)
		m_send_media(sim, req, method, params, started);
	else if (strstr(method, "MyCommands") != NULL)
		m_my_commands(sim, req, method, params, started);
	else if (strstr(method, "MyDescription") != NULL)
		m_my_description(sim, req, method, params, started);
	else /* deleteWebhook: nothing to keep */
		finish(sim, req, method, started, 200, ok_root(cJSON_CreateTrue()), NULL);
}

/* A fault, if one is armed for this method. Returns 1 when it took the
 * request (answered or held), 0 to go on normally. params is taken only
 * when held. */
static int apply_fault(struct tgsim *sim, struct http_server_req *req, const char *method,
                       cJSON **params, uint64_t started)
{
	static const char html500[] =
		"<html>\r\n<head><title>500 Internal Server Error</title></head>\r\n"
		"<body>\r\n<center><h1>500 Internal Server Error</h1></center>\r\n"
		"<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
	static const char garbage_json[] = "{\"ok\":true,\"result\":[{\"update_id\":";
	static const char garbage_html[] =
		"<html><head><title>Captive portal</title></head><body>Log in to continue</body></html>\n";
	struct sim_fault f;
	struct tgsim_held *hd;

	if (sim_fault_take(&sim->core, method, strcmp(method, "getUpdates") == 0, &f) != 0)
		return 0;
	switch (f.kind) {
	case FAULT_429:
		fail_retry(sim, req, method, started, f.retry_after > 0 ? f.retry_after : 5,
		           "(429 fault)");
		return 1;
	case FAULT_500:
		if (f.html)
			raw_answer(sim, req, method, started, 500, "text/html", html500, "(500 fault, html)");
		else
			finish(sim, req, method, started, 500,
			       err_root(500, "Internal Server Error"), "(500 fault)");
		return 1;
	case FAULT_400:
		finish(sim, req, method, started, 400,
		       err_root(400, "Bad Request: message text is empty"), "(400 fault)");
		return 1;
	case FAULT_GARBAGE:
		raw_answer(sim, req, method, started, 200,
		           f.html ? "text/html" : "application/json",
		           f.html ? garbage_html : garbage_json, "(garbage fault)");
		return 1;
	case FAULT_EMPTY:
		m_get_updates(sim, req, *params, started, 1);
		return 1;
	case FAULT_SLOW:
	case FAULT_DROP:
		hd = held_new(sim, req, f.kind == FAULT_SLOW ? HELD_SLOW : HELD_DROP, method,
		              f.kind == FAULT_SLOW ? (uint64_t)(f.delay_ms > 0 ? f.delay_ms : 0) :
		              (uint64_t)(f.delay_ms > 0 ? f.delay_ms : TGSIM_DROP_HOLD_MS), started);
		if (hd == NULL) {
			fail_retry(sim, req, method, started, 1, "(too many held requests)");
			return 1;
		}
		hd->params = *params;
		*params = NULL;
		return 1;
	}
	return 0;
}

static int form_body(struct http_server_req *req)
{
	const char *ctype = http_server_req_header(req, "content-type", NULL);

	return ctype != NULL && strncasecmp(ctype, "multipart/form-data", 19) == 0;
}

/* A multipart/form-data request (a file uploaded with sendVoice or
 * sendDocument) read as the parameters a JSON body would give: each text
 * field a string, each file kept by the simulator and named by its new
 * file_id, so that the send records it as a file it passes on. NULL when
 * the body cannot be read. */
static cJSON *form_params(struct tgsim *sim, struct http_server_req *req)
{
	const char *ctype = http_server_req_header(req, "content-type", NULL);
	struct sim_part parts[SIM_FORM_PARTS_MAX];
	char boundary[100], value[256];
	struct sim_file *f;
	cJSON *params;
	int n;

	if (sim_form_header_param(ctype, strlen(ctype), "boundary", boundary, sizeof(boundary)) != 0 ||
	    (n = sim_form_parse(req->body, req->body_len, boundary, parts, SIM_FORM_PARTS_MAX)) < 0 ||
	    (params = cJSON_CreateObject()) == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		if (parts[i].filename[0] != '\0') {
			if (parts[i].len == 0 ||
			    sim_file_add(&sim->core, "uploads", "bin", (int64_t)parts[i].len, GEN_NONE, parts[i].data, &f) != 0)
				continue;
			cb_strlcpy(f->mime, parts[i].ctype, sizeof(f->mime));
			cJSON_AddStringToObject(params, parts[i].name, f->file_id);
			sim->st.files_uploaded++;
		} else if (parts[i].len < sizeof(value)) {
			memcpy(value, parts[i].data, parts[i].len);
			value[parts[i].len] = '\0';
			cJSON_AddStringToObject(params, parts[i].name, value);
		}
	}
	return params;
}

void tgsim_api_handle(struct http_server_req *req, void *arg)
{
	struct tgsim *sim = arg;
	uint64_t started = sim_now_ms();
	char path[512];
	const char *slash, *method = NULL;
	cJSON *params = NULL;
	size_t i;

	if (sim->core.closing) {
		http_server_respond(req, 503, "text/plain", "shutting down\n", 14);
		return;
	}
	if (sim_path(req->path, path, sizeof(path)) != 0 ||
	    (slash = strrchr(path, '/')) == NULL || slash == path) {
		fail(sim, req, "?", started, 404, "Not Found");
		return;
	}
	/* Method names are case-insensitive in the real API. */
	for (i = 0; i < CB_ARRAY_SIZE(methods); i++)
		if (strcasecmp(slash + 1, methods[i]) == 0)
			method = methods[i];
	if (method == NULL || strchr(path + 1, '/') != slash) {
		fail(sim, req, "?", started, 404, "Not Found");
		return;
	}
	if (req->body != NULL && req->body_len > 0 && form_body(req))
		params = form_params(sim, req);
	else if (req->body != NULL && req->body_len > 0)
		params = cJSON_ParseWithLength(req->body, req->body_len);
	else
		params = cJSON_CreateObject();
	if (!cJSON_IsObject(params)) {
		fail(sim, req, method, started, 400, "Bad Request: can't parse JSON object");
		goto out;
	}
	if (apply_fault(sim, req, method, &params, started))
		goto out;
	dispatch(sim, req, method, params, started);
out:
	cJSON_Delete(params);
}

void tgsim_api_file(struct http_server_req *req, void *arg)
{
	struct tgsim *sim = arg;
	uint64_t started = sim_now_ms();
	char path[512], prefix[TGSIM_TOKEN_MAX + 16];
	size_t plen;
	cJSON *params = NULL;

	if (sim->core.closing) {
		http_server_respond(req, 503, "text/plain", "shutting down\n", 14);
		return;
	}
	snprintf(prefix, sizeof(prefix), "/file/bot%s/", sim->token);
	plen = strlen(prefix);
	if (strcmp(req->method, "GET") != 0 || sim_path(req->path, path, sizeof(path)) != 0 ||
	    strncmp(path, prefix, plen) != 0 || path[plen] == '\0') {
		fail(sim, req, "file", started, 404, "Not Found");
		return;
	}
	params = cJSON_CreateObject();
	if (params == NULL || cJSON_AddStringToObject(params, "path", path + plen) == NULL) {
		fail(sim, req, "file", started, 500, "Internal Server Error");
		goto out;
	}
	/* Downloads see only faults armed for the method name "file". */
	if (apply_fault(sim, req, "file", &params, started))
		goto out;
	m_download(sim, req, params, started);
out:
	cJSON_Delete(params);
}

/* Everything no route took: a wrong token gets 401 like the real API, any
 * other path 404. */
void tgsim_api_fallback(struct http_server_req *req, void *arg)
{
	struct tgsim *sim = arg;
	uint64_t started = sim_now_ms();

	if (strncmp(req->path, "/bot", 4) == 0)
		fail(sim, req, "(wrong token)", started, 401, "Unauthorized");
	else
		fail(sim, req, "(no route)", started, 404, "Not Found");
}
