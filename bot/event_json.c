/* The inbound table keeps each event as JSON: written before the gateway is
 * acknowledged, read back by the router (also after a crash). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/casebot.h"
#include "bot/event_json.h"

static const char *const kind_names[] = {
	[EVENT_TEXT] = "text", [EVENT_BUTTON] = "button", [EVENT_MEDIA] = "media",
	[EVENT_LOCATION] = "location", [EVENT_BLOCKED] = "blocked",
	[EVENT_UNBLOCKED] = "unblocked", [EVENT_OTHER] = "other", [EVENT_IDENTITY] = "identity",
};

const char *event_kind_name(enum event_kind k)
{
	return (unsigned)k < CB_ARRAY_SIZE(kind_names) ? kind_names[k] : "other";
}

static int put(cJSON *o, const char *name, const char *value)
{
	if (value[0] == '\0')
		return 0;
	return cJSON_AddStringToObject(o, name, value) != NULL ? 0 : -CB_ENOMEM;
}

int event_to_json(const struct inbound_event *ev, int redact, char *out, size_t cap)
{
	cJSON *o = cJSON_CreateObject();
	int rc = -CB_ENOMEM;

	if (o == NULL)
		return -CB_ENOMEM;
	if (cJSON_AddStringToObject(o, "kind", event_kind_name(ev->kind)) == NULL ||
	    cJSON_AddNumberToObject(o, "at", (double)ev->at) == NULL ||
	    put(o, "message_id", ev->message_id) != 0 || put(o, "reply_to", ev->reply_to) != 0 ||
	    put(o, "media_kind", ev->media_kind) != 0 || put(o, "media_mime", ev->media_mime) != 0 ||
	    cJSON_AddNumberToObject(o, "media_size", (double)ev->media_size) == NULL)
		goto out;
	if (ev->edited && (cJSON_AddTrueToObject(o, "edited") == NULL ||
			   cJSON_AddNumberToObject(o, "original_at", (double)ev->original_at) == NULL))
		goto out;
	/* A redacted copy keeps what happened, not what was said. */
	if (!redact && (put(o, "text", ev->text) != 0 || put(o, "button", ev->button_data) != 0 ||
			put(o, "callback_id", ev->callback_id) != 0 || put(o, "media_ref", ev->media_ref) != 0 ||
			put(o, "sender_alt", ev->sender_alt) != 0))
		goto out;
	rc = cJSON_PrintPreallocated(o, out, (int)cap, 0) ? 0 : -CB_ETOOBIG;
out:
	cJSON_Delete(o);
	return rc;
}

static void get_str(const cJSON *o, const char *name, char *dst, size_t cap)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	dst[0] = '\0';
	if (cJSON_IsString(it))
		cb_strlcpy(dst, it->valuestring, cap);
}

/* An id written as text, or as a number by an older version. */
static void get_id(const cJSON *o, const char *name, char *dst, size_t cap)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	dst[0] = '\0';
	if (cJSON_IsString(it))
		cb_strlcpy(dst, it->valuestring, cap);
	else if (cJSON_IsNumber(it) && it->valuedouble != 0)
		snprintf(dst, cap, "%lld", (long long)it->valuedouble);
}

static double get_num(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(it) ? it->valuedouble : 0;
}

int event_from_json(const char *json, const char *channel, const char *external_id,
		    const char *sender, struct inbound_event *ev)
{
	cJSON *o = cJSON_Parse(json);
	char kind[16];

	memset(ev, 0, sizeof(*ev));
	if (o == NULL || !cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return -CB_EPARSE;
	}
	cb_strlcpy(ev->channel, channel, sizeof(ev->channel));
	cb_strlcpy(ev->external_id, external_id, sizeof(ev->external_id));
	cb_strlcpy(ev->sender, sender, sizeof(ev->sender));
	get_str(o, "kind", kind, sizeof(kind));
	ev->kind = EVENT_OTHER;
	for (size_t i = 0; i < CB_ARRAY_SIZE(kind_names); i++)
		if (strcmp(kind, kind_names[i]) == 0)
			ev->kind = (enum event_kind)i;
	ev->at = (time_t)get_num(o, "at");
	get_id(o, "message_id", ev->message_id, sizeof(ev->message_id));
	get_id(o, "reply_to", ev->reply_to, sizeof(ev->reply_to));
	ev->media_size = (int64_t)get_num(o, "media_size");
	ev->edited = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "edited"));
	ev->original_at = (time_t)get_num(o, "original_at");
	get_str(o, "text", ev->text, sizeof(ev->text));
	get_str(o, "button", ev->button_data, sizeof(ev->button_data));
	get_str(o, "callback_id", ev->callback_id, sizeof(ev->callback_id));
	get_str(o, "media_kind", ev->media_kind, sizeof(ev->media_kind));
	get_str(o, "media_ref", ev->media_ref, sizeof(ev->media_ref));
	get_str(o, "media_mime", ev->media_mime, sizeof(ev->media_mime));
	get_str(o, "sender_alt", ev->sender_alt, sizeof(ev->sender_alt));
	cJSON_Delete(o);
	return 0;
}
