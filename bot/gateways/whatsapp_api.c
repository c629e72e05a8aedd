/* Reading what the WhatsApp Cloud API sends: webhook bodies and the media
 * URL answer, with cJSON. Nothing here does I/O or logs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "bot/casebot.h"
#include "bot/gateways/whatsapp_api.h"

/* Items of one change that are read at most: a body over it is cut off
 * there, counted malformed. Meta batches up to a few hundred. */
#define WA_ITEMS_MAX 1000

static const cJSON *field(const cJSON *o, const char *name)
{
	return cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, name) : NULL;
}

/* A string member, or NULL when absent or not a string. */
static const char *str(const cJSON *o, const char *name)
{
	const cJSON *it = field(o, name);

	return cJSON_IsString(it) && it->valuestring != NULL ? it->valuestring : NULL;
}

/* Copies at most cap - 1 bytes without cutting a UTF-8 sequence; text
 * that is not UTF-8 is cut where it stops being so. */
static void copy_text(char *dst, size_t cap, const char *src)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)src;
	utf8proc_ssize_t len = (utf8proc_ssize_t)strlen(src), i = 0, n;
	utf8proc_int32_t cp;

	while (i < len) {
		n = utf8proc_iterate(p + i, len - i, &cp);
		if (n <= 0 || (size_t)(i + n) >= cap)
			break;
		i += n;
	}
	memcpy(dst, src, (size_t)i);
	dst[i] = '\0';
}

/* An id that must fit whole: -CB_EPARSE when empty or too long. */
static int copy_id(char *dst, size_t cap, const char *src)
{
	if (src == NULL || src[0] == '\0' || strlen(src) >= cap)
		return -CB_EPARSE;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int whatsapp_api_is_number(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return 0;
	for (; s[n] != '\0'; n++)
		if (s[n] < '0' || s[n] > '9')
			return 0;
	return n >= 1 && n <= 20;
}

int whatsapp_api_is_user_id(const char *s)
{
	size_t n;

	if (s == NULL || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' || s[2] != '.' || s[3] == '\0')
		return 0;
	for (n = 3; s[n] != '\0'; n++)
		if (!((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
		      s[n] == '.'))
			return 0;
	return n < EVENT_ID_MAX;
}

int whatsapp_api_timestamp(const cJSON *v, time_t *out)
{
	long long t;
	char *end;

	if (cJSON_IsString(v) && v->valuestring != NULL) {
		if (v->valuestring[0] < '0' || v->valuestring[0] > '9')
			return -CB_EPARSE;
		errno = 0;
		t = strtoll(v->valuestring, &end, 10);
		if (errno != 0 || *end != '\0')
			return -CB_EPARSE;
	} else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e16) {
		t = (long long)v->valuedouble;
	} else {
		return -CB_EPARSE;
	}
	/* Seconds until the year 5138; anything larger is milliseconds. */
	if (t >= 100000000000LL)
		t /= 1000;
	if (t <= 0 || t >= 100000000000LL)
		return -CB_EPARSE;
	*out = (time_t)t;
	return 0;
}

static const char *const state_names[] = {
	[WA_STATE_SENT] = "sent", [WA_STATE_DELIVERED] = "delivered", [WA_STATE_READ] = "read",
	[WA_STATE_PLAYED] = "played", [WA_STATE_FAILED] = "failed",
};

const char *whatsapp_api_state_name(enum whatsapp_state s)
{
	return (unsigned)s < CB_ARRAY_SIZE(state_names) ? state_names[s] : NULL;
}

enum whatsapp_state whatsapp_api_state_parse(const char *name)
{
	for (unsigned i = 1; name != NULL && i < CB_ARRAY_SIZE(state_names); i++)
		if (strcmp(name, state_names[i]) == 0)
			return (enum whatsapp_state)i;
	return 0;
}

/* ---- messages --------------------------------------------------------- */

/* The sender: from (a number, or a user id when the user hides it) and
 * from_user_id, with the contact's user_id as a fallback. */
static int set_sender(const cJSON *msg, const cJSON *contacts, struct inbound_event *ev)
{
	const char *from = str(msg, "from"), *uid = str(msg, "from_user_id"), *number = NULL, *user = NULL;
	const cJSON *c;

	if (whatsapp_api_is_number(from))
		number = from;
	else if (whatsapp_api_is_user_id(from))
		user = from;
	else if (from != NULL)
		return -CB_EPARSE;
	if (whatsapp_api_is_user_id(uid))
		user = uid;
	if (user == NULL && number != NULL) {
		cJSON_ArrayForEach(c, contacts) {
			const char *wa = str(c, "wa_id"), *u = str(c, "user_id");

			if (wa != NULL && strcmp(wa, number) == 0 && whatsapp_api_is_user_id(u))
				user = u;
		}
	}
	if (number == NULL && user == NULL)
		return -CB_EPARSE;
	cb_strlcpy(ev->sender, number != NULL ? number : user, sizeof(ev->sender));
	if (number != NULL && user != NULL)
		cb_strlcpy(ev->sender_alt, user, sizeof(ev->sender_alt));
	return 0;
}

/* A reply button's id, a list row's id or a template button's payload:
 * casebot's own button data. Anything longer than casebot ever puts there
 * is not its own; the title, as a text, may still answer a question. */
static int set_button(struct inbound_event *ev, const char *data, const char *title)
{
	if (data != NULL && data[0] != '\0' && strlen(data) <= WHATSAPP_PAYLOAD_MAX) {
		cb_strlcpy(ev->button_data, data, sizeof(ev->button_data));
		ev->kind = EVENT_BUTTON;
		return 0;
	}
	if (title == NULL || title[0] == '\0')
		return -CB_EPARSE;
	copy_text(ev->text, sizeof(ev->text), title);
	ev->kind = EVENT_TEXT;
	return 0;
}

static int parse_interactive(const cJSON *it, struct inbound_event *ev)
{
	const char *type = str(it, "type");
	const cJSON *r;

	if (type == NULL)
		return -CB_EPARSE;
	if (strcmp(type, "button_reply") == 0 || strcmp(type, "list_reply") == 0) {
		r = field(it, type);
		if (!cJSON_IsObject(r))
			return -CB_EPARSE;
		return set_button(ev, str(r, "id"), str(r, "title"));
	}
	/* Flows (nfm_reply) and what comes later: casebot sends none. */
	ev->kind = EVENT_OTHER;
	return 0;
}

static const struct {
	const char *type;      /* WhatsApp's message type and object */
	const char *kind;      /* casebot's media kind */
	const char *mime;      /* when WhatsApp gives none */
} media_types[] = {
	{"image", "photo", "image/jpeg"},
	{"document", "document", ""},
	{"audio", "audio", "audio/mpeg"},
	{"voice", "voice", "audio/ogg; codecs=opus"},
	{"video", "video", "video/mp4"},
	{"sticker", "sticker", "image/webp"},
};

static int parse_media(const cJSON *msg, size_t i, struct inbound_event *ev)
{
	const cJSON *m = field(msg, media_types[i].type);
	const char *mime, *caption, *kind = media_types[i].kind;
	int rc;

	if (!cJSON_IsObject(m))
		return -CB_EPARSE;
	if ((rc = copy_id(ev->media_ref, sizeof(ev->media_ref), str(m, "id"))) != 0)
		return rc;
	mime = str(m, "mime_type");
	if (mime == NULL)
		mime = media_types[i].mime;
	/* The MIME type is the sender's claim, a hint only. */
	if (cb_strlcpy(ev->media_mime, mime, sizeof(ev->media_mime)) != 0)
		ev->media_mime[0] = '\0';
	/* A voice note recorded in WhatsApp comes as audio marked voice. */
	if (strcmp(kind, "audio") == 0 && cJSON_IsTrue(field(m, "voice")))
		kind = "voice";
	cb_strlcpy(ev->media_kind, kind, sizeof(ev->media_kind));
	if ((caption = str(m, "caption")) != NULL)
		copy_text(ev->text, sizeof(ev->text), caption);
	ev->kind = EVENT_MEDIA;
	return 0;
}

/* user_changed_number carries the new number (system.wa_id, or new_wa_id
 * in older bodies); user_changed_user_id the new user id. */
static int parse_system(const cJSON *sys, struct inbound_event *ev)
{
	const char *type = str(sys, "type"), *v;

	if (type == NULL)
		return -CB_EPARSE;
	if (strcmp(type, "user_changed_number") == 0 || strcmp(type, "customer_changed_number") == 0) {
		v = str(sys, "wa_id");
		if (v == NULL)
			v = str(sys, "new_wa_id");
		if (!whatsapp_api_is_number(v))
			return -CB_EPARSE;
	} else if (strcmp(type, "user_changed_user_id") == 0) {
		v = str(sys, "user_id");
		if (v == NULL)
			v = str(sys, "new_user_id");
		if (!whatsapp_api_is_user_id(v))
			return -CB_EPARSE;
	} else {
		/* An identity (security code) change names no new address. */
		return WHATSAPP_IGNORED;
	}
	cb_strlcpy(ev->sender_alt, v, sizeof(ev->sender_alt));
	ev->kind = EVENT_IDENTITY;
	return 0;
}

static int parse_message(const cJSON *msg, const cJSON *contacts, struct inbound_event *ev)
{
	const char *type, *s;
	const cJSON *it, *ctx;
	int rc;

	if (!cJSON_IsObject(msg))
		return -CB_EPARSE;
	if ((rc = copy_id(ev->external_id, sizeof(ev->external_id), str(msg, "id"))) != 0)
		return rc;
	cb_strlcpy(ev->message_id, ev->external_id, sizeof(ev->message_id));
	if (field(msg, "group_id") != NULL)
		return WHATSAPP_IGNORED;
	if ((rc = set_sender(msg, contacts, ev)) != 0)
		return rc;
	if ((rc = whatsapp_api_timestamp(field(msg, "timestamp"), &ev->at)) != 0)
		return rc;
	ctx = field(msg, "context");
	if ((s = str(ctx, "id")) != NULL && s[0] != '\0')
		cb_strlcpy(ev->reply_to, s, sizeof(ev->reply_to));
	if ((type = str(msg, "type")) == NULL)
		return -CB_EPARSE;
	if (strcmp(type, "text") == 0) {
		if ((s = str(field(msg, "text"), "body")) == NULL)
			return -CB_EPARSE;
		copy_text(ev->text, sizeof(ev->text), s);
		ev->kind = EVENT_TEXT;
		return 0;
	}
	if (strcmp(type, "interactive") == 0)
		return parse_interactive(field(msg, "interactive"), ev);
	/* A template's quick-reply button: its payload is the data casebot
	 * gave it, its text what the family saw. */
	if (strcmp(type, "button") == 0) {
		it = field(msg, "button");
		if (!cJSON_IsObject(it))
			return -CB_EPARSE;
		return set_button(ev, str(it, "payload"), str(it, "text"));
	}
	for (size_t i = 0; i < CB_ARRAY_SIZE(media_types); i++)
		if (strcmp(type, media_types[i].type) == 0)
			return parse_media(msg, i, ev);
	/* Coordinates are not kept: the family file needs no whereabouts. */
	if (strcmp(type, "location") == 0) {
		ev->kind = EVENT_LOCATION;
		return 0;
	}
	if (strcmp(type, "system") == 0)
		return parse_system(field(msg, "system"), ev);
	/* A reaction is an emoji on a message already handled; a welcome
	 * request is the chat being opened, before anyone writes. */
	if (strcmp(type, "reaction") == 0 || strcmp(type, "request_welcome") == 0)
		return WHATSAPP_IGNORED;
	/* Contacts (their numbers are not copied), orders, and the kinds
	 * WhatsApp itself calls unsupported, with errors[]: the counsellor
	 * hears that something came that casebot cannot show. */
	ev->kind = EVENT_OTHER;
	return 0;
}

/* ---- statuses ------------------------------------------------------------ */

static int parse_status(const cJSON *o, struct whatsapp_status *st)
{
	const cJSON *err, *pricing, *b;
	const char *s;
	int rc;

	if (!cJSON_IsObject(o))
		return -CB_EPARSE;
	if ((rc = copy_id(st->message_id, sizeof(st->message_id), str(o, "id"))) != 0)
		return rc;
	if ((s = str(o, "status")) == NULL)
		return -CB_EPARSE;
	/* "deleted" and what may come later move nothing casebot keeps. */
	if ((st->state = whatsapp_api_state_parse(s)) == 0)
		return WHATSAPP_IGNORED;
	if ((rc = whatsapp_api_timestamp(field(o, "timestamp"), &st->at)) != 0)
		return rc;
	err = cJSON_GetArrayItem(field(o, "errors"), 0);
	if (cJSON_IsObject(err)) {
		b = field(err, "code");
		st->error_code = cJSON_IsNumber(b) ? b->valueint : 0;
		if ((s = str(err, "title")) != NULL)
			copy_text(st->error_title, sizeof(st->error_title), s);
		if ((s = str(field(err, "error_data"), "details")) != NULL || (s = str(err, "message")) != NULL)
			copy_text(st->error_details, sizeof(st->error_details), s);
	}
	st->billable = -1;
	pricing = field(o, "pricing");
	if (cJSON_IsObject(pricing)) {
		if ((s = str(pricing, "category")) != NULL && cb_strlcpy(st->category, s, sizeof(st->category)) != 0)
			st->category[0] = '\0';
		b = field(pricing, "billable");
		if (cJSON_IsBool(b))
			st->billable = cJSON_IsTrue(b);
	}
	return 0;
}

/* ---- the envelope ---------------------------------------------------------- */

static int each_message(const cJSON *value, struct whatsapp_webhook *w, struct inbound_event *ev)
{
	const cJSON *contacts = field(value, "contacts"), *msgs = field(value, "messages"), *m;
	int n = 0, rc;

	if (msgs != NULL && !cJSON_IsArray(msgs)) {
		w->malformed++;
		return 0;
	}
	cJSON_ArrayForEach(m, msgs) {
		if (n++ == WA_ITEMS_MAX) {
			w->malformed++;
			break;
		}
		memset(ev, 0, sizeof(*ev));
		cb_strlcpy(ev->channel, "whatsapp", sizeof(ev->channel));
		rc = parse_message(m, contacts, ev);
		if (rc == 0)
			w->messages++;
		else if (rc == WHATSAPP_IGNORED)
			w->ignored++;
		else
			w->malformed++;
		if (w->message != NULL && (rc = w->message(w->arg, rc, ev)) != 0)
			return rc;
	}
	return 0;
}

static int each_status(const cJSON *value, struct whatsapp_webhook *w)
{
	const cJSON *sts = field(value, "statuses"), *s;
	struct whatsapp_status st;
	int n = 0, rc;

	if (sts != NULL && !cJSON_IsArray(sts)) {
		w->malformed++;
		return 0;
	}
	cJSON_ArrayForEach(s, sts) {
		if (n++ == WA_ITEMS_MAX) {
			w->malformed++;
			break;
		}
		memset(&st, 0, sizeof(st));
		rc = parse_status(s, &st);
		if (rc == 0)
			w->statuses++;
		else if (rc == WHATSAPP_IGNORED)
			w->ignored++;
		else
			w->malformed++;
		if (w->status != NULL && (rc = w->status(w->arg, rc, &st)) != 0)
			return rc;
	}
	return 0;
}

static int parse_change(const cJSON *change, struct whatsapp_webhook *w, struct inbound_event *ev)
{
	const cJSON *value = field(change, "value"), *errs, *e;
	const char *f = str(change, "field"), *pnid;
	int rc;

	if (!cJSON_IsObject(value) || f == NULL) {
		w->malformed++;
		return 0;
	}
	if (strcmp(f, "messages") != 0) {
		w->ignored++;
		return 0;
	}
	pnid = str(field(value, "metadata"), "phone_number_id");
	if (w->phone_number_id != NULL && w->phone_number_id[0] != '\0' && pnid != NULL &&
	    strcmp(pnid, w->phone_number_id) != 0) {
		w->ignored++;
		return 0;
	}
	/* Errors about the app or the number, not about a message. */
	errs = field(value, "errors");
	if (!cJSON_IsArray(errs))
		errs = NULL;
	cJSON_ArrayForEach(e, errs) {
		if (w->errors++ == 0 && cJSON_IsNumber(field(e, "code")))
			w->first_error_code = field(e, "code")->valueint;
	}
	if ((rc = each_message(value, w, ev)) != 0)
		return rc;
	return each_status(value, w);
}

int whatsapp_api_parse_webhook(const char *body, size_t len, struct whatsapp_webhook *w)
{
	struct inbound_event *ev = NULL;
	const cJSON *entry, *e, *changes, *c;
	const char *object;
	cJSON *root;
	int rc = 0;

	w->messages = w->statuses = w->ignored = w->malformed = w->errors = 0;
	w->first_error_code = 0;
	if (body == NULL || len == 0 || len > WHATSAPP_BODY_MAX)
		return -CB_EPARSE;
	if ((root = cJSON_ParseWithLength(body, len)) == NULL)
		return -CB_EPARSE;
	object = str(root, "object");
	entry = field(root, "entry");
	if (object == NULL || strcmp(object, "whatsapp_business_account") != 0 || !cJSON_IsArray(entry)) {
		rc = -CB_EPARSE;
		goto out;
	}
	/* An event carries 16 KiB of text: keep it off the stack. */
	if ((ev = malloc(sizeof(*ev))) == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	cJSON_ArrayForEach(e, entry) {
		changes = field(e, "changes");
		if (!cJSON_IsArray(changes)) {
			w->malformed++;
			continue;
		}
		cJSON_ArrayForEach(c, changes) {
			if ((rc = parse_change(c, w, ev)) != 0)
				goto out;
		}
	}
out:
	free(ev);
	cJSON_Delete(root);
	return rc;
}

/* ---- media ------------------------------------------------------------------ */

int whatsapp_api_parse_media(const char *body, size_t len, long http_status, struct whatsapp_media *m)
{
	const cJSON *err, *size;
	const char *url, *mime;
	cJSON *root;
	int rc = -CB_EPARSE;

	memset(m, 0, sizeof(*m));
	if (body == NULL || len == 0 || (root = cJSON_ParseWithLength(body, len)) == NULL)
		return -CB_EPARSE;
	err = field(root, "error");
	if (cJSON_IsObject(err)) {
		m->error_code = cJSON_IsNumber(field(err, "code")) ? field(err, "code")->valueint : 0;
		rc = -CB_EGATEWAY;
		goto out;
	}
	if (http_status < 200 || http_status > 299)
		goto out;
	url = str(root, "url");
	if (url == NULL || (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0) ||
	    cb_strlcpy(m->url, url, sizeof(m->url)) != 0)
		goto out;
	mime = str(root, "mime_type");
	if (mime != NULL && cb_strlcpy(m->mime, mime, sizeof(m->mime)) != 0)
		m->mime[0] = '\0';
	/* file_size is a number in real answers, a string in Meta's spec. */
	size = field(root, "file_size");
	if (cJSON_IsNumber(size) && size->valuedouble > 0)
		m->size = (int64_t)size->valuedouble;
	else if (cJSON_IsString(size))
		m->size = strtoll(size->valuestring, NULL, 10) > 0 ? strtoll(size->valuestring, NULL, 10) : 0;
	rc = 0;
out:
	cJSON_Delete(root);
	return rc;
}
