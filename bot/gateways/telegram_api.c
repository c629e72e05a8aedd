/* The Telegram Bot API without I/O. Everything here is pure: JSON in, events
 * and request bodies out, so it can be fuzzed and tested on canned payloads. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <utf8proc.h>

#include "bot/casebot.h"
#include "bot/event.h"
#include "bot/gateways/telegram_api.h"

/* Telegram ids fit in 52 bits; cJSON keeps numbers as doubles, exact to 2^53. */
#define JSON_INT_MAX 9007199254740992.0

#define ABSENT 1

/* ------------------------------------------------------------------ UTF-8 */

/* Length of the well-formed UTF-8 sequence at s, or 0 when s[0] does not start
 * one; *units is its UTF-16 length. */
static size_t utf8_seq(const unsigned char *s, size_t len, size_t *units)
{
	unsigned char c = s[0];
	uint32_t cp;
	size_t n, i;

	*units = 1;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (n > len)
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if (n == 3) {
		cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
		if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
	} else if (n == 4) {
		cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
		     ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
		if (cp < 0x10000 || cp > 0x10FFFF)
			return 0;
		*units = 2;
	}
	return n;
}

static int utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, units;

	while (i < len) {
		n = utf8_seq(p + i, len - i, &units);
		if (n == 0)
			return 0;
		i += n;
	}
	return 1;
}

size_t telegram_api_utf16_len(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, units, total = 0;

	if (s == NULL)
		return 0;
	while (i < len) {
		n = utf8_seq(p + i, len - i, &units);
		if (n == 0)
			n = 1;
		i += n;
		total += units;
	}
	return total;
}

/* Largest cut point <= n that does not fall inside a UTF-8 sequence. Stops
 * after three continuation bytes so that garbage cannot walk it far. */
static size_t utf8_floor(const char *s, size_t n)
{
	int steps = 0;

	while (n > 0 && steps < 3 && ((unsigned char)s[n] & 0xC0) == 0x80) {
		n--;
		steps++;
	}
	return n;
}

/* Copies src into dst, cutting at a character boundary when it does not fit.
 * Returns 1 when cut. */
static int copy_text(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n < cap) {
		memcpy(dst, src, n + 1);
		return 0;
	}
	n = utf8_floor(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 1;
}

size_t telegram_api_split(const char *text, size_t len, size_t max_units, size_t *next)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, n, units, used = 0;
	size_t nl = 0, sp = 0, gb = 0, cut, skip;
	size_t half = max_units / 2;
	utf8proc_int32_t prev = -1, cp, gstate = 0;

	if (text == NULL || len == 0) {
		if (next != NULL)
			*next = 0;
		return 0;
	}
	while (i < len) {
		n = utf8_seq(p + i, len - i, &units);
		if (n == 0)
			n = 1;
		/* A character (a letter with its combining marks, an emoji with
		 * its modifiers) is never cut in two: remember where the last one
		 * began, this one included. */
		if (utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp) <= 0)
			cp = -1;
		if (i > 0 && (prev < 0 || cp < 0 || utf8proc_grapheme_break_stateful(prev, cp, &gstate)))
			gb = i;
		prev = cp;
		if (used + units > max_units)
			break;
		/* A separator ends the part before it; remember the late ones. */
		if (i > 0 && used >= half) {
			if (p[i] == '\n')
				nl = i;
			else if (p[i] == ' ')
				sp = i;
		}
		used += units;
		i += n;
	}
	if (i == len) {
		cut = len;
		skip = len;
	} else if (i > 0 && (p[i] == '\n' || p[i] == ' ')) {
		/* The window ends right on a separator: the best cut there is. */
		cut = i;
		skip = i + 1;
	} else if (nl > 0) {
		cut = nl;
		skip = nl + 1;
	} else if (sp > 0) {
		cut = sp;
		skip = sp + 1;
	} else if (gb > 0) {
		cut = gb;
		skip = gb;
	} else if (i > 0) {
		cut = i;
		skip = i;
	} else {
		/* Not even one character fits: send it alone rather than loop. */
		n = utf8_seq(p, len, &units);
		cut = n == 0 ? 1 : n;
		skip = cut;
	}
	if (next != NULL)
		*next = skip;
	return cut;
}

/* ------------------------------------------------------------ JSON access */

/* Each getter returns 0 when the field is there with the right type, ABSENT
 * when missing or null, -CB_EPARSE when it has another type. */

static const cJSON *field(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsNull(it) ? NULL : it;
}

static int get_i64(const cJSON *obj, const char *key, int64_t *out)
{
	const cJSON *it = field(obj, key);
	double d;

	if (it == NULL)
		return ABSENT;
	if (!cJSON_IsNumber(it))
		return -CB_EPARSE;
	d = it->valuedouble;
	/* NaN fails both comparisons. */
	if (!(d >= -JSON_INT_MAX && d <= JSON_INT_MAX))
		return -CB_EPARSE;
	*out = (int64_t)d;
	if ((double)*out != d)
		return -CB_EPARSE;
	return 0;
}

static int get_str(const cJSON *obj, const char *key, const char **out)
{
	const cJSON *it = field(obj, key);

	if (it == NULL)
		return ABSENT;
	if (!cJSON_IsString(it) || it->valuestring == NULL)
		return -CB_EPARSE;
	/* cJSON passes bytes through as they came: text that is not UTF-8
	 * stops here, before anyone stores, shows or forwards it. */
	if (!utf8_valid(it->valuestring, strlen(it->valuestring)))
		return -CB_EINVAL;
	*out = it->valuestring;
	return 0;
}

static int get_obj(const cJSON *obj, const char *key, const cJSON **out)
{
	const cJSON *it = field(obj, key);

	if (it == NULL)
		return ABSENT;
	if (!cJSON_IsObject(it))
		return -CB_EPARSE;
	*out = it;
	return 0;
}

/* A missing required field is as malformed as a wrong type. */
static int need(int rc)
{
	return rc == ABSENT ? -CB_EPARSE : rc;
}

static int put_i64(char *dst, size_t cap, int64_t v)
{
	int n = snprintf(dst, cap, "%" PRId64, v);

	return n < 0 || (size_t)n >= cap ? -CB_ETOOBIG : 0;
}

/* Body -> tree, or NULL when it is not one JSON value. The caller deletes. */
static cJSON *parse_body(const char *body, size_t len)
{
	const char *end = NULL;
	cJSON *root;

	if (body == NULL || len == 0 || len > TELEGRAM_BODY_MAX)
		return NULL;
	root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (root == NULL)
		return NULL;
	/* Trailing garbage means a corrupted body, not a response. */
	while (end != NULL && end < body + len &&
	       (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n' || *end == '\0'))
		end++;
	if (end == NULL || end != body + len) {
		cJSON_Delete(root);
		return NULL;
	}
	return root;
}

/* --------------------------------------------------------------- updates */

/* Private chats only: a chat without a type is private when its id is a user
 * id (positive), as in old samples. */
static int chat_sender(const cJSON *msg, struct inbound_event *ev)
{
	const cJSON *chat;
	const char *type = NULL;
	int64_t id;
	int rc;

	if ((rc = need(get_obj(msg, "chat", &chat))) < 0)
		return rc;
	if ((rc = need(get_i64(chat, "id", &id))) < 0)
		return rc;
	rc = get_str(chat, "type", &type);
	if (rc < 0)
		return rc;
	if (rc == ABSENT ? id < 0 : strcmp(type, "private") != 0)
		return TELEGRAM_IGNORED;
	return put_i64(ev->sender, sizeof(ev->sender), id) < 0 ? -CB_EPARSE : 0;
}

static int set_file(struct inbound_event *ev, const char *kind, const cJSON *file,
                    const char *default_mime)
{
	const char *id, *mime;
	int64_t size = 0;
	int rc;

	if ((rc = need(get_str(file, "file_id", &id))) < 0)
		return rc;
	if (id[0] == '\0' || cb_strlcpy(ev->media_ref, id, sizeof(ev->media_ref)) < 0)
		return -CB_EPARSE;
	if ((rc = get_i64(file, "file_size", &size)) < 0)
		return rc;
	ev->media_size = size > 0 ? size : 0;
	rc = get_str(file, "mime_type", &mime);
	if (rc < 0)
		return rc;
	if (rc == ABSENT)
		mime = default_mime;
	/* The MIME type is the sender's claim, a hint only: drop what does not fit. */
	if (cb_strlcpy(ev->media_mime, mime, sizeof(ev->media_mime)) < 0)
		ev->media_mime[0] = '\0';
	cb_strlcpy(ev->media_kind, kind, sizeof(ev->media_kind));
	ev->kind = EVENT_MEDIA;
	return 0;
}

/* Telegram sends each photo in several sizes. Take the largest (by area, then
 * bytes) whose size is unknown or within cap; when none fits, the smallest,
 * flagged too big. */
static int pick_photo(const cJSON *sizes, int64_t cap, struct inbound_event *ev,
                      unsigned *flags)
{
	const cJSON *ps, *best = NULL, *smallest = NULL;
	int64_t w, h, size, area, best_area = -1, best_size = -1, small_size = -1;

	if (!cJSON_IsArray(sizes) || cJSON_GetArraySize(sizes) == 0)
		return -CB_EPARSE;
	cJSON_ArrayForEach(ps, sizes) {
		if (!cJSON_IsObject(ps))
			return -CB_EPARSE;
		w = h = 0;
		size = -1;
		if (get_i64(ps, "width", &w) < 0 || get_i64(ps, "height", &h) < 0 ||
		    get_i64(ps, "file_size", &size) < 0)
			return -CB_EPARSE;
		if (w < 0 || h < 0 || w > 1000000 || h > 1000000)
			w = h = 0;
		area = w * h;
		if (size >= 0 && size > cap) {
			if (small_size < 0 || size < small_size) {
				smallest = ps;
				small_size = size;
			}
			continue;
		}
		if (area > best_area || (area == best_area && size >= best_size)) {
			best = ps;
			best_area = area;
			best_size = size;
		}
	}
	if (best == NULL) {
		best = smallest;
		*flags |= TELEGRAM_F_TOO_BIG;
	}
	return set_file(ev, "photo", best, "image/jpeg");
}

static const char *sticker_mime(const cJSON *st)
{
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "is_animated")))
		return "application/x-tgsticker";
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(st, "is_video")))
		return "video/webm";
	return "image/webp";
}

/* Media kinds in the order they are tried: an animation also carries a
 * document, so it comes first. */
static const struct {
	const char *key;
	const char *default_mime;
} media_kinds[] = {
	{"animation", "video/mp4"},
	{"document", ""},
	{"voice", "audio/ogg"},
	{"audio", ""},
	{"video", "video/mp4"},
	{"video_note", "video/mp4"},
	{"sticker", NULL},
};

static int parse_content(const cJSON *msg, int64_t cap, struct inbound_event *ev,
                         unsigned *flags)
{
	const cJSON *it;
	const char *s;
	size_t i;
	int rc;

	if ((rc = get_str(msg, "text", &s)) < 0)
		return rc;
	if (rc == 0) {
		ev->kind = EVENT_TEXT;
		if (copy_text(ev->text, sizeof(ev->text), s))
			*flags |= TELEGRAM_F_TRUNCATED;
		return 0;
	}
	/* A caption only makes sense on media, but reading it is harmless. */
	if ((rc = get_str(msg, "caption", &s)) < 0)
		return rc;
	if (rc == 0 && copy_text(ev->text, sizeof(ev->text), s))
		*flags |= TELEGRAM_F_TRUNCATED;

	it = field(msg, "photo");
	if (it != NULL) {
		rc = pick_photo(it, cap, ev, flags);
		goto out;
	}
	for (i = 0; i < CB_ARRAY_SIZE(media_kinds); i++) {
		if ((rc = get_obj(msg, media_kinds[i].key, &it)) < 0)
			return rc;
		if (rc == ABSENT)
			continue;
		rc = set_file(ev, media_kinds[i].key, it,
		              media_kinds[i].default_mime != NULL ? media_kinds[i].default_mime
		                                                  : sticker_mime(it));
		goto out;
	}
	/* Coordinates are not kept: the family file needs no whereabouts. */
	if (field(msg, "location") != NULL || field(msg, "venue") != NULL) {
		ev->kind = EVENT_LOCATION;
		ev->text[0] = '\0';
		*flags &= ~TELEGRAM_F_TRUNCATED;
		return 0;
	}
	/* Contact, web_app_data, poll, dice, service messages... The contact's
	 * phone number is deliberately not copied. */
	ev->kind = EVENT_OTHER;
	ev->text[0] = '\0';
	*flags &= ~TELEGRAM_F_TRUNCATED;
	return 0;
out:
	if (rc == 0 && ev->media_size > cap)
		*flags |= TELEGRAM_F_TOO_BIG;
	return rc;
}

static int parse_message(const cJSON *msg, int edited, int64_t cap,
                         struct inbound_event *ev, unsigned *flags)
{
	const cJSON *reply;
	int64_t v;
	int rc;

	if (!cJSON_IsObject(msg))
		return -CB_EPARSE;
	if ((rc = chat_sender(msg, ev)) != 0)
		return rc;
	v = 0;
	if ((rc = get_i64(msg, "message_id", &v)) < 0)
		return rc;
	if (v != 0 && put_i64(ev->message_id, sizeof(ev->message_id), v) < 0)
		return -CB_EPARSE;
	v = 0;
	if ((rc = get_i64(msg, "date", &v)) < 0)
		return rc;
	ev->at = (time_t)v;
	if (edited) {
		*flags |= TELEGRAM_F_EDITED;
		ev->edited = 1;
		ev->original_at = ev->at;
		if ((rc = get_i64(msg, "edit_date", &v)) < 0)
			return rc;
		if (rc == 0)
			ev->at = (time_t)v;
	}
	rc = get_obj(msg, "reply_to_message", &reply);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		v = 0;
		if (get_i64(reply, "message_id", &v) < 0)
			return -CB_EPARSE;
		if (v != 0 && put_i64(ev->reply_to, sizeof(ev->reply_to), v) < 0)
			return -CB_EPARSE;
	}
	return parse_content(msg, cap, ev, flags);
}

/* A button press. The message it hangs on may be missing (old samples, inline
 * mode): then the presser's user id is the private chat id. */
static int parse_callback(const cJSON *cq, struct inbound_event *ev)
{
	const cJSON *msg, *from;
	const char *id, *data;
	int64_t v;
	int rc;

	if (!cJSON_IsObject(cq))
		return -CB_EPARSE;
	if ((rc = need(get_str(cq, "id", &id))) < 0)
		return rc;
	if (id[0] == '\0' || cb_strlcpy(ev->callback_id, id, sizeof(ev->callback_id)) < 0)
		return -CB_EPARSE;
	rc = get_obj(cq, "message", &msg);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		if ((rc = chat_sender(msg, ev)) != 0)
			return rc;
		v = 0;
		if (get_i64(msg, "message_id", &v) < 0)
			return -CB_EPARSE;
		if (v != 0 && put_i64(ev->message_id, sizeof(ev->message_id), v) < 0)
			return -CB_EPARSE;
	} else {
		if ((rc = need(get_obj(cq, "from", &from))) < 0)
			return rc;
		if ((rc = need(get_i64(from, "id", &v))) < 0)
			return rc;
		if (v <= 0 || put_i64(ev->sender, sizeof(ev->sender), v) < 0)
			return -CB_EPARSE;
	}
	/* A game button carries no data: casebot never sends one. */
	rc = get_str(cq, "data", &data);
	if (rc < 0)
		return rc;
	if (rc == ABSENT)
		return TELEGRAM_IGNORED;
	if (data[0] == '\0' || strlen(data) > TELEGRAM_CALLBACK_DATA_MAX)
		return -CB_EPARSE;
	cb_strlcpy(ev->button_data, data, sizeof(ev->button_data));
	ev->kind = EVENT_BUTTON;
	return 0;
}

/* In a private chat the bot is "kicked" when the user blocks it and "member"
 * again when the user restarts it. */
static int parse_member(const cJSON *cm, struct inbound_event *ev)
{
	const cJSON *old_m, *new_m;
	const char *old_s = "", *new_s;
	int64_t v = 0;
	int rc;

	if (!cJSON_IsObject(cm))
		return -CB_EPARSE;
	if ((rc = chat_sender(cm, ev)) != 0)
		return rc;
	if ((rc = get_i64(cm, "date", &v)) < 0)
		return rc;
	ev->at = (time_t)v;
	if ((rc = need(get_obj(cm, "new_chat_member", &new_m))) < 0)
		return rc;
	if ((rc = need(get_str(new_m, "status", &new_s))) < 0)
		return rc;
	rc = get_obj(cm, "old_chat_member", &old_m);
	if (rc < 0)
		return rc;
	if (rc == 0 && get_str(old_m, "status", &old_s) < 0)
		return -CB_EPARSE;
	if (strcmp(new_s, "kicked") == 0) {
		ev->kind = EVENT_BLOCKED;
		return 0;
	}
	if (strcmp(new_s, "member") == 0 && strcmp(old_s, "member") != 0) {
		ev->kind = EVENT_UNBLOCKED;
		return 0;
	}
	return TELEGRAM_IGNORED;
}

static int parse_update_id(const cJSON *update, int64_t *id)
{
	if (!cJSON_IsObject(update))
		return -CB_EPARSE;
	if (need(get_i64(update, "update_id", id)) < 0 || *id < 0)
		return -CB_EPARSE;
	return 0;
}

int telegram_api_parse_update(const cJSON *update, int64_t media_cap,
                              struct inbound_event *ev, unsigned *flags)
{
	const cJSON *it;
	unsigned fl = 0;
	int64_t id;
	int rc;

	if (ev == NULL)
		return -CB_EINVAL;
	memset(ev, 0, sizeof(*ev));
	cb_strlcpy(ev->channel, "telegram", sizeof(ev->channel));
	if (media_cap <= 0)
		media_cap = TELEGRAM_DOWNLOAD_MAX;
	if ((rc = parse_update_id(update, &id)) < 0)
		goto out;
	put_i64(ev->external_id, sizeof(ev->external_id), id);

	if ((it = field(update, "message")) != NULL)
		rc = parse_message(it, 0, media_cap, ev, &fl);
	else if ((it = field(update, "edited_message")) != NULL)
		rc = parse_message(it, 1, media_cap, ev, &fl);
	else if ((it = field(update, "callback_query")) != NULL)
		rc = parse_callback(it, ev);
	else if ((it = field(update, "my_chat_member")) != NULL)
		rc = parse_member(it, ev);
	else
		rc = TELEGRAM_IGNORED; /* channel posts, inline queries, kinds yet to come */
out:
	if (rc != 0) {
		/* Leave nothing half-parsed for a caller that skips the check. */
		char ext[EVENT_ID_MAX];

		memcpy(ext, ev->external_id, sizeof(ext));
		memset(ev, 0, sizeof(*ev));
		cb_strlcpy(ev->channel, "telegram", sizeof(ev->channel));
		memcpy(ev->external_id, ext, sizeof(ext));
		fl = 0;
	}
	if (flags != NULL)
		*flags = fl;
	return rc;
}

/* ------------------------------------------------------------- responses */

static int contains_nocase(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; *hay != '\0'; hay++) {
		size_t i;

		for (i = 0; i < n; i++) {
			char a = hay[i], b = needle[i];

			if (a >= 'A' && a <= 'Z')
				a = (char)(a - 'A' + 'a');
			if (a != b)
				break;
		}
		if (i == n)
			return 1;
	}
	return 0;
}

/* Fills r from a parsed {"ok":...} object. Returns 1 for ok:true, 0 for
 * ok:false, -CB_EPARSE when root is no Bot API response. */
static int classify(const cJSON *root, int http_status, struct telegram_result *r)
{
	const cJSON *ok, *params;
	const char *desc = "";
	int64_t code, after;

	ok = cJSON_GetObjectItemCaseSensitive(root, "ok");
	if (!cJSON_IsObject(root) || !cJSON_IsBool(ok))
		return -CB_EPARSE;
	if (cJSON_IsTrue(ok)) {
		r->status = TELEGRAM_OK;
		r->error_code = http_status;
		return 1;
	}
	if (get_i64(root, "error_code", &code) != 0 || code < 0 || code > 999)
		code = http_status;
	r->error_code = (int)code;
	if (get_str(root, "description", &desc) != 0)
		desc = "";
	copy_text(r->description, sizeof(r->description), desc);

	after = -1;
	if (get_obj(root, "parameters", &params) == 0 &&
	    get_i64(params, "retry_after", &after) != 0)
		after = -1;
	if (after >= 0 || code == 429) {
		if (after < 0)
			after = TELEGRAM_RETRY_AFTER_DEFAULT;
		if (after < 1)
			after = 1;
		if (after > TELEGRAM_RETRY_AFTER_MAX)
			after = TELEGRAM_RETRY_AFTER_MAX;
		r->status = TELEGRAM_RETRY_AFTER;
		r->retry_after = (int)after;
	} else if (code >= 500 || code == 409 || code < 400) {
		/* 409: another poller or a webhook holds the bot; it may go away. */
		r->status = TELEGRAM_TRANSIENT;
	} else if (code == 401 || code == 404) {
		r->status = TELEGRAM_UNAUTHORIZED;
	} else if (code == 403) {
		/* Blocked, deactivated, never started: the family cannot be reached. */
		r->status = TELEGRAM_BLOCKED;
	} else if (code == 400 && (contains_nocase(desc, "chat not found") ||
	                           contains_nocase(desc, "user not found") ||
	                           contains_nocase(desc, "deactivated"))) {
		r->status = TELEGRAM_BLOCKED;
	} else {
		r->status = TELEGRAM_PERMANENT;
	}
	return 0;
}

static void result_fields(const cJSON *root, struct telegram_result *r)
{
	const cJSON *res = field(root, "result");
	const char *path;
	int64_t v;

	if (!cJSON_IsObject(res))
		return; /* true for answerCallbackQuery, an array for getUpdates */
	if (get_i64(res, "message_id", &v) == 0 && v > 0)
		r->message_id = v;
	/* A path that does not fit is left empty: the URL builder refuses it. */
	if (get_str(res, "file_path", &path) == 0 &&
	    cb_strlcpy(r->file_path, path, sizeof(r->file_path)) < 0)
		r->file_path[0] = '\0';
	if (get_i64(res, "file_size", &v) == 0 && v > 0)
		r->file_size = v;
}

static void result_garbage(int http_status, struct telegram_result *r)
{
	memset(r, 0, sizeof(*r));
	r->status = TELEGRAM_TRANSIENT;
	r->error_code = http_status;
	cb_strlcpy(r->description, "unreadable response", sizeof(r->description));
}

int telegram_api_parse_result(const char *body, size_t len, int http_status,
                              struct telegram_result *r)
{
	cJSON *root = NULL;
	int rc;

	if (r == NULL)
		return -CB_EINVAL;
	memset(r, 0, sizeof(*r));
	root = parse_body(body, len);
	rc = root != NULL ? classify(root, http_status, r) : -CB_EPARSE;
	if (rc < 0) {
		result_garbage(http_status, r);
		goto out;
	}
	if (rc == 1)
		result_fields(root, r);
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}

const char *telegram_api_status_name(enum telegram_status s)
{
	switch (s) {
	case TELEGRAM_OK: return "ok";
	case TELEGRAM_RETRY_AFTER: return "retry_after";
	case TELEGRAM_TRANSIENT: return "transient";
	case TELEGRAM_BLOCKED: return "blocked";
	case TELEGRAM_PERMANENT: return "permanent";
	case TELEGRAM_UNAUTHORIZED: return "unauthorized";
	}
	return "unknown";
}

int telegram_api_parse_updates(const char *body, size_t len, int http_status,
                               struct telegram_updates *u)
{
	struct inbound_event *ev = NULL;
	const cJSON *arr, *update;
	cJSON *root = NULL;
	unsigned flags;
	int64_t id;
	int rc;

	if (u == NULL)
		return -CB_EINVAL;
	u->usable = u->ignored = u->malformed = 0;
	memset(&u->result, 0, sizeof(u->result));
	root = parse_body(body, len);
	rc = root != NULL ? classify(root, http_status, &u->result) : -CB_EPARSE;
	if (rc == 0) {
		rc = -CB_EGATEWAY;
		goto out;
	}
	arr = rc == 1 ? field(root, "result") : NULL;
	if (!cJSON_IsArray(arr)) {
		result_garbage(http_status, &u->result);
		rc = -CB_EPARSE;
		goto out;
	}
	/* One event reused for every update: it is 17 KiB. */
	ev = malloc(sizeof(*ev));
	if (ev == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	rc = 0;
	cJSON_ArrayForEach(update, arr) {
		int prc = telegram_api_parse_update(update, u->media_cap, ev, &flags);

		if (prc == 0)
			u->usable++;
		else if (prc > 0)
			u->ignored++;
		else
			u->malformed++;
		if (u->fn != NULL) {
			rc = u->fn(u->arg, prc, ev, flags, update);
			if (rc < 0)
				goto out;
			rc = 0;
		}
		/* Counted only once handed over, so the offset never skips an update
		 * the caller did not take. */
		if (parse_update_id(update, &id) == 0 && id > u->max_update_id)
			u->max_update_id = id;
	}
out:
	free(ev);
	cJSON_Delete(root);
	return rc;
}

/* -------------------------------------------------------------- builders */

static int text_ok(const char *s, size_t max_units)
{
	size_t len;

	if (s == NULL || s[0] == '\0')
		return -CB_EINVAL;
	len = strlen(s);
	if (!utf8_valid(s, len))
		return -CB_EINVAL;
	if (telegram_api_utf16_len(s, len) > max_units)
		return -CB_ETOOBIG;
	return 0;
}

/* Telegram refuses a text of only whitespace ("message text is empty"). */
static int blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\n' && *s != '\r' && *s != '\t')
			return 0;
	return 1;
}

static int id_ok(int64_t id)
{
	return id >= -(int64_t)JSON_INT_MAX && id <= (int64_t)JSON_INT_MAX;
}

/* cJSON prints numbers as doubles with 15 significant digits and accepts an
 * inexact round trip, so 9007199254740992 would go out as 9.00719925474099e+15.
 * Ids are written as exact decimal text instead. */
static int add_int(cJSON *obj, const char *key, int64_t v)
{
	char num[24];

	if (put_i64(num, sizeof(num), v) < 0)
		return -CB_EINVAL;
	return cJSON_AddRawToObject(obj, key, num) == NULL ? -CB_ENOMEM : 0;
}

static int print_json(cJSON *root, char **json)
{
	*json = cJSON_PrintUnformatted(root);
	return *json == NULL ? -CB_ENOMEM : 0;
}

static int add_keyboard(cJSON *root, const struct telegram_button *b, size_t n)
{
	cJSON *markup, *rows, *row = NULL, *btn;
	size_t i, in_row = 0;
	int rc;

	if (n > TELEGRAM_BUTTONS_MAX)
		return -CB_ETOOBIG;
	if (b == NULL)
		return -CB_EINVAL;
	markup = cJSON_AddObjectToObject(root, "reply_markup");
	rows = markup != NULL ? cJSON_AddArrayToObject(markup, "inline_keyboard") : NULL;
	if (rows == NULL)
		return -CB_ENOMEM;
	for (i = 0; i < n; i++) {
		if ((rc = text_ok(b[i].text, TELEGRAM_TEXT_MAX_UNITS)) < 0)
			return rc;
		if (b[i].data == NULL || b[i].data[0] == '\0')
			return -CB_EINVAL;
		if (strlen(b[i].data) > TELEGRAM_CALLBACK_DATA_MAX)
			return -CB_ETOOBIG;
		if (!utf8_valid(b[i].data, strlen(b[i].data)))
			return -CB_EINVAL;
		if (i > 0 && b[i].row < b[i - 1].row)
			return -CB_EINVAL;
		if (i == 0 || b[i].row != b[i - 1].row) {
			row = cJSON_CreateArray();
			if (row == NULL || !cJSON_AddItemToArray(rows, row)) {
				cJSON_Delete(row);
				return -CB_ENOMEM;
			}
			in_row = 0;
		}
		if (++in_row > TELEGRAM_ROW_BUTTONS_MAX)
			return -CB_ETOOBIG;
		btn = cJSON_CreateObject();
		if (btn == NULL || !cJSON_AddItemToArray(row, btn)) {
			cJSON_Delete(btn);
			return -CB_ENOMEM;
		}
		if (cJSON_AddStringToObject(btn, "text", b[i].text) == NULL ||
		    cJSON_AddStringToObject(btn, "callback_data", b[i].data) == NULL)
			return -CB_ENOMEM;
	}
	return 0;
}

int telegram_api_build_send_message(const struct telegram_message *m, char **json)
{
	cJSON *root = NULL, *reply;
	int rc;

	if (json == NULL)
		return -CB_EINVAL;
	*json = NULL;
	if (m == NULL || !id_ok(m->chat_id) || !id_ok(m->reply_to_message_id) ||
	    m->reply_to_message_id < 0) {
		rc = -CB_EINVAL;
		goto out;
	}
	if ((rc = text_ok(m->text, TELEGRAM_TEXT_MAX_UNITS)) < 0)
		goto out;
	if (blank(m->text)) {
		rc = -CB_EINVAL;
		goto out;
	}
	rc = -CB_ENOMEM;
	root = cJSON_CreateObject();
	if (root == NULL ||
	    add_int(root, "chat_id", m->chat_id) < 0 ||
	    cJSON_AddStringToObject(root, "text", m->text) == NULL)
		goto out;
	if (m->reply_to_message_id > 0) {
		/* Sent even when the message replied to was deleted meanwhile. */
		reply = cJSON_AddObjectToObject(root, "reply_parameters");
		if (reply == NULL ||
		    add_int(reply, "message_id", m->reply_to_message_id) < 0 ||
		    cJSON_AddTrueToObject(reply, "allow_sending_without_reply") == NULL)
			goto out;
	}
	if (m->nbuttons > 0 && (rc = add_keyboard(root, m->buttons, m->nbuttons)) < 0)
		goto out;
	rc = print_json(root, json);
out:
	cJSON_Delete(root);
	return rc;
}

int telegram_api_build_edit_message_text(const struct telegram_message *m, int64_t message_id, char **json)
{
	static const struct telegram_button no_buttons[1];
	cJSON *root = NULL;
	int rc;

	if (json == NULL)
		return -CB_EINVAL;
	*json = NULL;
	if (m == NULL || !id_ok(m->chat_id) || !id_ok(message_id) || message_id <= 0 ||
	    m->reply_to_message_id != 0) {
		rc = -CB_EINVAL;
		goto out;
	}
	if ((rc = text_ok(m->text, TELEGRAM_TEXT_MAX_UNITS)) < 0)
		goto out;
	if (blank(m->text)) {
		rc = -CB_EINVAL;
		goto out;
	}
	rc = -CB_ENOMEM;
	root = cJSON_CreateObject();
	if (root == NULL ||
	    add_int(root, "chat_id", m->chat_id) < 0 ||
	    add_int(root, "message_id", message_id) < 0 ||
	    cJSON_AddStringToObject(root, "text", m->text) == NULL)
		goto out;
	/* Without reply_markup Telegram takes the keyboard away: the one
	 * wanted, empty or not, always goes with the text. */
	if ((rc = add_keyboard(root, m->buttons != NULL ? m->buttons : no_buttons, m->nbuttons)) < 0)
		goto out;
	rc = print_json(root, json);
out:
	cJSON_Delete(root);
	return rc;
}

int telegram_api_build_answer_callback(const char *callback_id, const char *text,
                                       char **json)
{
	cJSON *root = NULL;
	int rc;

	if (json == NULL)
		return -CB_EINVAL;
	*json = NULL;
	if ((rc = text_ok(callback_id, EVENT_ID_MAX)) < 0)
		goto out;
	if (text != NULL && text[0] != '\0' &&
	    (rc = text_ok(text, TELEGRAM_ANSWER_MAX_UNITS)) < 0)
		goto out;
	rc = -CB_ENOMEM;
	root = cJSON_CreateObject();
	if (root == NULL ||
	    cJSON_AddStringToObject(root, "callback_query_id", callback_id) == NULL)
		goto out;
	if (text != NULL && text[0] != '\0' &&
	    cJSON_AddStringToObject(root, "text", text) == NULL)
		goto out;
	rc = print_json(root, json);
out:
	cJSON_Delete(root);
	return rc;
}

int telegram_api_command_ok(const char *name)
{
	size_t n = name != NULL ? strlen(name) : 0;

	if (n == 0 || n > TELEGRAM_COMMAND_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
			return 0;
	return 1;
}

/* Telegram counts these lengths in characters (code points). */
static size_t chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int lang_code_ok(const char *l)
{
	return l != NULL && (l[0] == '\0' || (l[0] >= 'a' && l[0] <= 'z' && l[1] >= 'a' && l[1] <= 'z' &&
					     l[2] == '\0'));
}

int telegram_api_build_set_commands(const struct telegram_command *c, size_t n, const char *scope,
                                    int64_t chat_id, const char *language_code, char **json)
{
	cJSON *root = NULL, *list, *item, *sc;
	int chat, rc = -CB_EINVAL;

	if (json == NULL)
		return -CB_EINVAL;
	*json = NULL;
	chat = scope != NULL && strcmp(scope, "chat") == 0;
	if ((!chat && (scope == NULL || strcmp(scope, "all_private_chats") != 0)) || (chat && !id_ok(chat_id)) ||
	    !lang_code_ok(language_code) || n > TELEGRAM_COMMANDS_MAX || (n > 0 && c == NULL))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!telegram_api_command_ok(c[i].command) || text_ok(c[i].description, SIZE_MAX) != 0 ||
		    blank(c[i].description))
			goto out;
		if (chars(c[i].description) > TELEGRAM_COMMAND_ABOUT_MAX) {
			rc = -CB_ETOOBIG;
			goto out;
		}
	}
	rc = -CB_ENOMEM;
	if ((root = cJSON_CreateObject()) == NULL || (list = cJSON_AddArrayToObject(root, "commands")) == NULL ||
	    (sc = cJSON_AddObjectToObject(root, "scope")) == NULL ||
	    cJSON_AddStringToObject(sc, "type", scope) == NULL || (chat && add_int(sc, "chat_id", chat_id) < 0))
		goto out;
	for (size_t i = 0; i < n; i++)
		if ((item = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(list, item) ||
		    cJSON_AddStringToObject(item, "command", c[i].command) == NULL ||
		    cJSON_AddStringToObject(item, "description", c[i].description) == NULL)
			goto out;
	if (language_code[0] != '\0' && cJSON_AddStringToObject(root, "language_code", language_code) == NULL)
		goto out;
	rc = print_json(root, json);
out:
	cJSON_Delete(root);
	return rc;
}

int telegram_api_build_set_description(const char *description, const char *language_code,
                                       char **json)
{
	cJSON *root = NULL;
	int rc = -CB_EINVAL;

	if (json == NULL)
		return -CB_EINVAL;
	*json = NULL;
	if (description == NULL || !lang_code_ok(language_code) ||
	    (description[0] != '\0' && text_ok(description, SIZE_MAX) != 0))
		goto out;
	if (chars(description) > TELEGRAM_DESCRIPTION_MAX) {
		rc = -CB_ETOOBIG;
		goto out;
	}
	rc = -CB_ENOMEM;
	if ((root = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(root, "description", description) == NULL ||
	    (language_code[0] != '\0' && cJSON_AddStringToObject(root, "language_code", language_code) == NULL))
		goto out;
	rc = print_json(root, json);
out:
	cJSON_Delete(root);
	return rc;
}

int telegram_api_build_get_updates(int64_t offset, int timeout, char **json)
{
	static const char *const kinds[] = {
		"message", "edited_message", "callback_query", "my_chat_member",
	};
	cJSON *root = NULL, *allowed;
	size_t i;
	int rc;

	if (json == NULL)
		return -CB_EINVAL;
	*json = NULL;
	/* A negative offset asks for the last updates again: never ours. */
	if (offset < 0 || !id_ok(offset) || timeout < 0 || timeout > TELEGRAM_POLL_TIMEOUT_MAX) {
		rc = -CB_EINVAL;
		goto out;
	}
	rc = -CB_ENOMEM;
	root = cJSON_CreateObject();
	if (root == NULL ||
	    add_int(root, "offset", offset) < 0 ||
	    add_int(root, "limit", TELEGRAM_POLL_LIMIT) < 0 ||
	    add_int(root, "timeout", timeout) < 0 ||
	    (allowed = cJSON_AddArrayToObject(root, "allowed_updates")) == NULL)
		goto out;
	for (i = 0; i < CB_ARRAY_SIZE(kinds); i++) {
		cJSON *s = cJSON_CreateString(kinds[i]);

		if (s == NULL || !cJSON_AddItemToArray(allowed, s)) {
			cJSON_Delete(s);
			goto out;
		}
	}
	rc = print_json(root, json);
out:
	cJSON_Delete(root);
	return rc;
}

int telegram_api_build_get_file(const char *file_id, char **json)
{
	cJSON *root = NULL;
	int rc;

	if (json == NULL)
		return -CB_EINVAL;
	*json = NULL;
	if ((rc = text_ok(file_id, EVENT_REF_MAX - 1)) < 0)
		goto out;
	rc = -CB_ENOMEM;
	root = cJSON_CreateObject();
	if (root == NULL || cJSON_AddStringToObject(root, "file_id", file_id) == NULL)
		goto out;
	rc = print_json(root, json);
out:
	cJSON_Delete(root);
	return rc;
}

/* ------------------------------------------------------------------ URLs */

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* "<digits>:<[A-Za-z0-9_-]+>", so that nothing in it can change the URL. */
static int token_ok(const char *t)
{
	const char *p = t;

	if (t == NULL || !(*p >= '0' && *p <= '9'))
		return 0;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != ':' || *p == '\0')
		return 0;
	for (; *p != '\0'; p++)
		if (!is_alnum(*p) && *p != '_' && *p != '-')
			return 0;
	return p - t < 128;
}

static int base_ok(const char *b)
{
	if (b == NULL || (strncmp(b, "https://", 8) != 0 && strncmp(b, "http://", 7) != 0))
		return 0;
	for (; *b != '\0'; b++)
		if ((unsigned char)*b <= ' ' || *b == 0x7f || *b == '?' || *b == '#')
			return 0;
	return 1;
}

static int path_ok(const char *p)
{
	if (p == NULL || p[0] == '\0' || p[0] == '/' || strstr(p, "..") != NULL)
		return 0;
	for (; *p != '\0'; p++)
		if (!is_alnum(*p) && strchr("._~/-", *p) == NULL)
			return 0;
	return 1;
}

static int build_url(char *buf, size_t cap, const char *base, const char *mid,
                     const char *token, const char *tail)
{
	size_t blen;
	int n;

	if (buf == NULL || cap == 0)
		return -CB_EINVAL;
	buf[0] = '\0';
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	if (blen > (size_t)INT32_MAX)
		return -CB_ETOOBIG;
	n = snprintf(buf, cap, "%.*s%sbot%s/%s", (int)blen, base, mid, token, tail);
	if (n < 0 || (size_t)n >= cap) {
		/* A cut URL still holds part of the token: wipe it. */
		memset(buf, 0, cap);
		return -CB_ETOOBIG;
	}
	return 0;
}

int telegram_api_method_url(char *buf, size_t cap, const char *api_base,
                            const char *token, const char *method)
{
	const char *p;

	if (!base_ok(api_base) || !token_ok(token) || method == NULL || method[0] == '\0')
		return -CB_EINVAL;
	for (p = method; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return -CB_EINVAL;
	return build_url(buf, cap, api_base, "/", token, method);
}

int telegram_api_file_url(char *buf, size_t cap, const char *api_base,
                          const char *token, const char *file_path)
{
	if (!base_ok(api_base) || !token_ok(token) || !path_ok(file_path))
		return -CB_EINVAL;
	return build_url(buf, cap, api_base, "/file/", token, file_path);
}
