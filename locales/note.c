#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "locales/locale.h"
#include "locales/note.h"

#define NOTE_ARGS 4
#define PIECE_CAP 256

/* How a stored value becomes a placeholder's text. */
enum how {
	AS_IS,      /* a number, a file type */
	BY_KEY,     /* a code named in the catalog: prefix + value */
	LANG_NAME,  /* a language code, shown as that language's own name */
	DATETIME,   /* Unix seconds, as a date and time in the reader's language */
	COUNT       /* a number that chooses the plural form */
};

struct arg {
	const char *name;
	enum how how;
	const char *prefix;     /* BY_KEY */
	const char *fallback;   /* BY_KEY: the key for a value the catalog lacks, or NULL */
};

struct code {
	const char *code;
	const char *key;
	struct arg args[NOTE_ARGS];
};

static const struct code codes[] = {
	/* What the family sent. */
	{"text", "log.text", {{"bytes", COUNT, NULL, NULL}}},
	{"media", "log.media", {{"what", BY_KEY, "log.media.", "log.media.other"}}},
	{"edited_text", "log.edited_text", {{"bytes", COUNT, NULL, NULL}}},
	{"edited_media", "log.edited_media", {{"what", BY_KEY, "log.media.", "log.media.other"}}},
	{"urgent", "log.urgent", {{"bytes", COUNT, NULL, NULL}}},
	{"button_stale", "log.button_stale", {{0}}},
	{"details", "log.details", {{0}}},
	{"help", "log.help", {{0}}},
	{"language_asked", "log.language_asked", {{0}}},
	{"language_changed", "log.language_changed", {{"language", LANG_NAME, NULL, NULL}}},
	{"stop", "log.stop", {{0}}},
	{"stop_again", "log.stop_again", {{0}}},
	{"start", "log.start", {{0}}},
	{"start_unstopped", "log.start_unstopped", {{0}}},
	{"onboarding", "log.onboarding", {{0}}},
	{"appointment_answer", "log.appointment_answer", {{"answer", BY_KEY, "button.", NULL}}},
	{"checkin_answer", "log.checkin_answer", {{"answer", BY_KEY, "button.", NULL}}},
	{"document_received", "log.document_received",
	 {{"what", BY_KEY, "log.media.", "log.media.other"}, {"mime", AS_IS, NULL, NULL}, {"bytes", COUNT, NULL, NULL}}},
	{"document_refused", "log.document_refused",
	 {{"what", BY_KEY, "log.media.", "log.media.other"}, {"mime", AS_IS, NULL, NULL}}},
	{"document_attached", "log.document_attached",
	 {{"document", AS_IS, NULL, NULL}, {"request", AS_IS, NULL, NULL}}},
	{"document_too_big", "log.document_too_big",
	 {{"what", BY_KEY, "log.media.", "log.media.other"}, {"limit", AS_IS, NULL, NULL}}},
	{"document_too_big_size", "log.document_too_big_size",
	 {{"what", BY_KEY, "log.media.", "log.media.other"}, {"size", AS_IS, NULL, NULL}, {"limit", AS_IS, NULL, NULL}}},
	{"failed_text", "log.failed_text", {{"bytes", COUNT, NULL, NULL}, {"answer", BY_KEY, "log.answer.", NULL}}},
	{"failed_media", "log.failed_media",
	 {{"what", BY_KEY, "log.media.", "log.media.other"}, {"answer", BY_KEY, "log.answer.", NULL}}},
	{"failed_unread", "log.failed_unread", {{"answer", BY_KEY, "log.answer.", NULL}}},
	{"download_failed", "log.download_failed",
	 {{"what", BY_KEY, "log.media.", "log.media.other"}, {"reason", BY_KEY, "log.reason.", "log.reason.failed"}}},
	/* What happened around it. */
	{"blocked", "log.blocked", {{"reach", BY_KEY, "log.reach.", NULL}}},
	{"blocked_member", "log.blocked_member", {{"member", AS_IS, NULL, NULL}, {"reach", BY_KEY, "log.reach.", NULL}}},
	{"unblocked", "log.unblocked", {{0}}},
	{"reply", "log.reply", {{0}}},
	{"forwarded", "log.forwarded", {{0}}},
	{"undelivered", "log.undelivered",
	 {{"what", BY_KEY, "log.out.", "log.out.other"}, {"reason", BY_KEY, "staff.reason.", "staff.reason.gateway"}}},
	{"fallback", "log.fallback",
	 {{"what", BY_KEY, "log.out.", "log.out.other"}, {"from", BY_KEY, "channel.kind.", "channel.kind.other"},
	  {"to", BY_KEY, "channel.kind.", "channel.kind.other"}, {"why", BY_KEY, "log.fallback_why.", NULL}}},
	{"unconfirmed", "log.unconfirmed",
	 {{"when", DATETIME, NULL, NULL}, {"what", BY_KEY, "appointment.kind.", "appointment.kind.other"}}},
	{"document_overdue", "log.document_overdue", {{"document", BY_KEY, "document.type.", "document.type.other"}}},
	{"checkin_unanswered", "log.checkin_unanswered", {{0}}},
};

const char *note_code_at(size_t i)
{
	return i < CB_ARRAY_SIZE(codes) ? codes[i].code : NULL;
}

static const struct code *find(const char *code)
{
	for (size_t i = 0; code != NULL && i < CB_ARRAY_SIZE(codes); i++)
		if (strcmp(codes[i].code, code) == 0)
			return &codes[i];
	return NULL;
}

/* A catalog text by prefix + value, else by fallback. */
static const char *text_by(const struct locales *loc, enum lang l, const char *prefix, const char *value,
			   const char *fallback)
{
	char key[96];
	const char *t = NULL;
	int n = snprintf(key, sizeof(key), "%s%s", prefix, value);

	if (n > 0 && (size_t)n < sizeof(key))
		t = locale_text(loc, l, key);
	if (t == NULL && fallback != NULL)
		t = locale_text(loc, l, fallback);
	return t;
}

static const char *value_of(const cJSON *root, const char *name, char *buf, size_t cap)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);

	if (cJSON_IsString(it))
		return it->valuestring;
	if (cJSON_IsNumber(it)) {
		snprintf(buf, cap, "%lld", (long long)it->valuedouble);
		return buf;
	}
	return NULL;
}

int note_render(const struct locales *loc, enum lang l, const char *code, const char *params, char *out,
		size_t cap)
{
	const struct code *c = find(code);
	struct locale_param p[NOTE_ARGS];
	char pieces[NOTE_ARGS][PIECE_CAP], raw[NOTE_ARGS][32];
	long long count = 0;
	int counted = 0;
	size_t n = 0;
	cJSON *root = NULL;
	int rc = 0;

	if (out == NULL || cap == 0)
		return -CB_EINVAL;
	out[0] = '\0';
	if (c == NULL)
		return -CB_ENOENT;
	root = cJSON_Parse(params != NULL && params[0] != '\0' ? params : "{}");
	if (!cJSON_IsObject(root)) {
		rc = -CB_EINVAL;
		goto out;
	}
	for (; n < NOTE_ARGS && c->args[n].name != NULL && rc == 0; n++) {
		const struct arg *a = &c->args[n];
		const char *v = value_of(root, a->name, raw[n], sizeof(raw[n])), *t = NULL;
		enum lang other;

		p[n].name = a->name;
		p[n].value = pieces[n];
		if (v == NULL) {
			rc = -CB_EINVAL;
			break;
		}
		switch (a->how) {
		case AS_IS:
			rc = cb_strlcpy(pieces[n], v, PIECE_CAP);
			break;
		case COUNT:
			count = strtoll(v, NULL, 10);
			counted = 1;
			snprintf(pieces[n], PIECE_CAP, "%lld", count);
			break;
		case BY_KEY:
			t = text_by(loc, l, a->prefix, v, a->fallback);
			rc = t != NULL ? cb_strlcpy(pieces[n], t, PIECE_CAP) : -CB_EINVAL;
			break;
		case LANG_NAME:
			if (lang_parse(v, &other) != 0 || (t = locale_text(loc, other, "meta.language_name")) == NULL)
				rc = -CB_EINVAL;
			else
				rc = cb_strlcpy(pieces[n], t, PIECE_CAP);
			break;
		case DATETIME:
			rc = locale_format_datetime(loc, l, (time_t)strtoll(v, NULL, 10), pieces[n], PIECE_CAP);
			break;
		}
	}
	if (rc != 0)
		goto out;
	if (counted)
		rc = locale_render_count(loc, l, c->key, count, p, n, out, cap);
	else
		rc = locale_render(loc, l, c->key, p, n, out, cap);
out:
	cJSON_Delete(root);
	return rc;
}

/* A message the family was sent: which one, and how it went. */
static int sent(const struct locales *loc, enum lang l, const struct contact *c, char *out, size_t cap)
{
	const char *what = text_by(loc, l, "log.out.", c->code, "log.out.other");
	const char *status = c->status[0] != '\0' ? c->status : "sent";
	char key[64];
	const struct locale_param p[] = {{"what", what}};

	if (what == NULL)
		return -CB_EINVAL;
	if (snprintf(key, sizeof(key), "log.status.%s", status) >= (int)sizeof(key) || strchr(status, '.') != NULL ||
	    locale_text(loc, l, key) == NULL)
		cb_strlcpy(key, "log.status.other", sizeof(key));
	return locale_render(loc, l, key, p, 1, out, cap);
}

int note_contact(const struct locales *loc, enum lang l, const struct contact *c, char *out, size_t cap)
{
	const char *legacy;
	int rc;

	if (out == NULL || cap == 0)
		return -CB_EINVAL;
	out[0] = '\0';
	if (strcmp(c->direction, "out") == 0)
		return sent(loc, l, c, out, cap);
	/* A row from before codes has no values: it is told by its direction. */
	if (c->params[0] != '\0' && (rc = note_render(loc, l, c->code, c->params, out, cap)) == 0)
		return 0;
	legacy = strcmp(c->direction, "internal") == 0 ? "log.legacy.internal" : "log.legacy.in";
	return locale_render(loc, l, legacy, NULL, 0, out, cap);
}

int note_alert(const struct locales *loc, enum lang l, const struct alert *a, char *out, size_t cap)
{
	if (out == NULL || cap == 0)
		return -CB_EINVAL;
	out[0] = '\0';
	if (a->params[0] == '\0' || note_render(loc, l, a->code, a->params, out, cap) != 0)
		out[0] = '\0';
	return 0;
}
