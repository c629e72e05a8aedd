/* The sending side of the WhatsApp gateway: what goes to
 * POST {api_base}/{phone-number-id}/messages and what its answers mean.
 * Bodies are built with cJSON; lengths are counted as the Graph API
 * counts them (UTF-16 units), and a title is never cut inside a character
 * as its reader sees it. */
#include <cjson/cJSON.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/config.h"
#include "bot/gateways/telegram_api.h"
#include "bot/gateways/whatsapp_api.h"
#include "bot/gateways/whatsapp.h"
#include "bot/gateways/whatsapp_send.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/net/http_client.h"
#include "bot/vault.h"
#include "handlers/handler.h"
#include "store/store.h"
#include "locales/keys.h"
#include "locales/locale.h"

/* Each template stands for the first line of one kind of message with its
 * buttons. A kind without one is not sent outside the window: the
 * message fails, and staff are told why. */
const struct whatsapp_template whatsapp_templates[] = {
	{"casebot_reminder", "reminder", "reminder.appointment", 3, "template.reminder",
	 {"button.confirm", "button.cannot_come", "button.other_time"}},
	{"casebot_reminder_note", "reminder", "reminder.appointment", 0, "template.reminder_note", {0}},
	{"casebot_appointment_cancelled", "appointment_notice", "appointment.cancelled", 0,
	 "template.appointment_cancelled", {0}},
	{"casebot_appointment_moved", "appointment_notice", "appointment.moved", 0, "template.appointment_moved", {0}},
	{"casebot_document_request", "document_request", "document.request", 0, "template.document_request", {0}},
	{"casebot_document_reminder", "document_reminder", "document.reminder", 0, "template.document_reminder",
	 {0}},
	{"casebot_checkin", "checkin", "checkin.question", 4, "template.checkin",
	 {"button.checkin_good", "button.checkin_okay", "button.checkin_hard", "button.checkin_contact"}},
	/* Staff outside the window: what waits for them is never in the
	 * template (no family, no words); their answer opens the window and
	 * brings it. */
	{"casebot_staff_waiting", "window_nudge", "staff.window_waiting", 1, "template.staff_waiting",
	 {"button.window_open"}},
};

const size_t whatsapp_ntemplates = CB_ARRAY_SIZE(whatsapp_templates);

static size_t units(const char *s, size_t len)
{
	return telegram_api_utf16_len(s, len);
}

/* A chat is addressed by its number in "to"; a user known only by a
 * business-scoped user id (CC.digits, or a parent CC.ENT.digits) by that
 * id in "recipient", which Graph reads only when "to" is absent ("to"
 * takes a phone number, and wins when both are given). */
static cJSON *message(const char *to, const char *type)
{
	cJSON *o = cJSON_CreateObject();
	const char *field = whatsapp_api_is_user_id(to) ? "recipient" : "to";

	if (o == NULL || cJSON_AddStringToObject(o, "messaging_product", "whatsapp") == NULL ||
	    cJSON_AddStringToObject(o, "recipient_type", "individual") == NULL ||
	    cJSON_AddStringToObject(o, field, to) == NULL || cJSON_AddStringToObject(o, "type", type) == NULL) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* Prints o (deleted here) into *json. */
static int finish(cJSON *o, int rc, char **json)
{
	*json = NULL;
	if (rc == 0 && o == NULL)
		rc = -CB_ENOMEM;
	if (rc == 0 && (*json = cJSON_PrintUnformatted(o)) == NULL)
		rc = -CB_ENOMEM;
	cJSON_Delete(o);
	return rc;
}

static cJSON *add_text(cJSON *parent, const char *name, const char *s, size_t len)
{
	char *copy = strndup(s, len);
	cJSON *it;

	if (copy == NULL)
		return NULL;
	it = cJSON_AddStringToObject(parent, name, copy);
	free(copy);
	return it;
}

int whatsapp_send_build_text(const char *to, const char *text, size_t len, char **json)
{
	cJSON *o = message(to, "text"), *t;
	int rc = 0;

	if (units(text, len) > WHATSAPP_SEND_TEXT_MAX || len == 0)
		rc = -CB_EINVAL;
	else if (o == NULL || (t = cJSON_AddObjectToObject(o, "text")) == NULL || add_text(t, "body", text, len) == NULL ||
		 cJSON_AddFalseToObject(t, "preview_url") == NULL)
		rc = -CB_ENOMEM;
	return finish(o, rc, json);
}

/* Reply buttons need short, unique titles; anything else is a list. */
static int fits_buttons(const struct composed_button *b, int n)
{
	if (n > WHATSAPP_SEND_REPLY_BUTTONS)
		return 0;
	for (int i = 0; i < n; i++) {
		if (units(b[i].label, strlen(b[i].label)) > WHATSAPP_SEND_BUTTON_TITLE)
			return 0;
		for (int k = 0; k < i; k++)
			if (strcmp(b[i].label, b[k].label) == 0)
				return 0;
	}
	return 1;
}

/* A list row's title: the label, or as much of it as 24 units hold, cut
 * between characters (at a space when there is one late enough). */
static int add_row_title(cJSON *row, const char *label)
{
	size_t len = strlen(label), cut = len;

	if (units(label, len) > WHATSAPP_SEND_ROW_TITLE) {
		cut = telegram_api_split(label, len, WHATSAPP_SEND_ROW_TITLE, NULL);
		if (cJSON_AddStringToObject(row, "description", label) == NULL)
			return -CB_ENOMEM;
	}
	return add_text(row, "title", label, cut) != NULL ? 0 : -CB_ENOMEM;
}

int whatsapp_send_build_choices(const char *to, const char *text, size_t len, const struct composed_button *b,
				int n, const char *list_button, char **json)
{
	cJSON *o = message(to, "interactive"), *in, *body, *action, *arr, *it, *reply, *section;
	int rc = 0, buttons = fits_buttons(b, n);

	if (n <= 0 || n > WHATSAPP_SEND_LIST_ROWS || len == 0 || units(text, len) > WHATSAPP_SEND_BUTTON_BODY_MAX)
		return finish(o, -CB_EINVAL, json);
	if (o == NULL || (in = cJSON_AddObjectToObject(o, "interactive")) == NULL ||
	    cJSON_AddStringToObject(in, "type", buttons ? "button" : "list") == NULL ||
	    (body = cJSON_AddObjectToObject(in, "body")) == NULL || add_text(body, "text", text, len) == NULL ||
	    (action = cJSON_AddObjectToObject(in, "action")) == NULL)
		return finish(o, -CB_ENOMEM, json);
	for (int i = 0; i < n; i++)
		if (strlen(b[i].data) == 0 || strlen(b[i].data) > WHATSAPP_SEND_ID_MAX)
			return finish(o, -CB_EINVAL, json);
	if (buttons) {
		if ((arr = cJSON_AddArrayToObject(action, "buttons")) == NULL)
			return finish(o, -CB_ENOMEM, json);
		for (int i = 0; i < n && rc == 0; i++) {
			if ((it = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, it) ||
			    cJSON_AddStringToObject(it, "type", "reply") == NULL ||
			    (reply = cJSON_AddObjectToObject(it, "reply")) == NULL ||
			    cJSON_AddStringToObject(reply, "id", b[i].data) == NULL ||
			    cJSON_AddStringToObject(reply, "title", b[i].label) == NULL)
				rc = -CB_ENOMEM;
		}
		return finish(o, rc, json);
	}
	if (list_button == NULL || units(list_button, strlen(list_button)) > WHATSAPP_SEND_BUTTON_TITLE)
		return finish(o, -CB_EINVAL, json);
	if (cJSON_AddStringToObject(action, "button", list_button) == NULL ||
	    (arr = cJSON_AddArrayToObject(action, "sections")) == NULL || (section = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddItemToArray(arr, section) || (arr = cJSON_AddArrayToObject(section, "rows")) == NULL)
		return finish(o, -CB_ENOMEM, json);
	for (int i = 0; i < n && rc == 0; i++) {
		if ((it = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, it) ||
		    cJSON_AddStringToObject(it, "id", b[i].data) == NULL)
			rc = -CB_ENOMEM;
		else
			rc = add_row_title(it, b[i].label);
	}
	return finish(o, rc, json);
}

/* Cloud API reference, "Supported media types". */
static const struct media_type {
	const char *kind, *as, *mime;
	size_t max;
} media_types[] = {
	{"document", "document", "application/pdf", 100u << 20},
	{"document", "document", "text/plain", 100u << 20},
	{"document", "document", "application/msword", 100u << 20},
	{"document", "document", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", 100u << 20},
	{"document", "document", "application/vnd.ms-excel", 100u << 20},
	{"document", "document", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 100u << 20},
	{"document", "document", "application/vnd.ms-powerpoint", 100u << 20},
	{"document", "document", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
	 100u << 20},
	{"voice", "audio", "audio/ogg", 16u << 20},
	{"audio", "audio", "audio/ogg", 16u << 20},
	{"audio", "audio", "audio/aac", 16u << 20},
	{"audio", "audio", "audio/amr", 16u << 20},
	{"audio", "audio", "audio/mpeg", 16u << 20},
	{"audio", "audio", "audio/mp4", 16u << 20},
	{"photo", "image", "image/jpeg", 5u << 20},
	{"photo", "image", "image/png", 5u << 20},
	{"video", "video", "video/mp4", 16u << 20},
	{"video", "video", "video/3gpp", 16u << 20},
};

int whatsapp_send_media_type(const char *kind, const char *mime, size_t size, const char **as)
{
	/* "audio/ogg; codecs=opus" is audio/ogg; WhatsApp plays only opus. */
	size_t base = strcspn(mime, ";");

	for (size_t i = 0; i < CB_ARRAY_SIZE(media_types); i++) {
		const struct media_type *t = &media_types[i];

		if (strcmp(kind, t->kind) != 0 || strlen(t->mime) != base || strncasecmp(mime, t->mime, base) != 0)
			continue;
		if (strcmp(t->mime, "audio/ogg") == 0 && mime[base] != '\0' && strstr(mime + base, "opus") == NULL)
			return -CB_EINVAL;
		if (size > t->max)
			return -CB_ETOOBIG;
		*as = t->as;
		return 0;
	}
	return -CB_EINVAL;
}

int whatsapp_send_build_media(const char *to, const char *kind, const char *media_id, const char *filename,
			      char **json)
{
	cJSON *o = message(to, kind), *m;
	int rc = 0;

	if (strcmp(kind, "document") != 0 && strcmp(kind, "audio") != 0 && strcmp(kind, "image") != 0 &&
	    strcmp(kind, "video") != 0)
		rc = -CB_EINVAL;
	else if (o == NULL || (m = cJSON_AddObjectToObject(o, kind)) == NULL ||
		 cJSON_AddStringToObject(m, "id", media_id) == NULL ||
		 (filename != NULL && strcmp(kind, "document") == 0 &&
		  cJSON_AddStringToObject(m, "filename", filename) == NULL))
		rc = -CB_ENOMEM;
	return finish(o, rc, json);
}

/* ---- the window and the templates ---------------------------------------- */

int whatsapp_send_window_open(time_t last_inbound, time_t now, int window_seconds)
{
	return last_inbound > 0 && now - last_inbound < (time_t)window_seconds;
}

const struct whatsapp_template *whatsapp_template_for(const struct composed *msg)
{
	for (size_t i = 0; i < whatsapp_ntemplates; i++)
		/* A Details button is no choice: no template carries it. */
		if (strcmp(msg->first_key, whatsapp_templates[i].first_key) == 0 &&
		    msg->nbuttons - msg->details_button == whatsapp_templates[i].nbuttons)
			return &whatsapp_templates[i];
	return NULL;
}

/* The body key's placeholders, as the catalogs' registry lists them. */
static int body_names(const struct whatsapp_template *t, const char *names[WHATSAPP_TEMPLATE_PARAMS])
{
	int i = keys_find(t->body_key), n = 0;
	const struct keys_entry *k;

	if (i < 0)
		return -CB_ENOENT;
	k = keys_at((size_t)i);
	while (n < WHATSAPP_TEMPLATE_PARAMS && n < KEYS_MAX_PARAMS && k->params[n] != NULL) {
		names[n] = k->params[n];
		n++;
	}
	return n;
}

int whatsapp_template_body(const struct locales *loc, enum lang l, const struct whatsapp_template *t, char *body,
			   size_t cap, const char *names[WHATSAPP_TEMPLATE_PARAMS], int *nnames)
{
	const char *all[WHATSAPP_TEMPLATE_PARAMS];
	struct locale_param p[WHATSAPP_TEMPLATE_PARAMS];
	char marks[WHATSAPP_TEMPLATE_PARAMS][16];
	const char *at[WHATSAPP_TEMPLATE_PARAMS];
	int n = body_names(t, all), rc;

	*nnames = 0;
	if (n < 0)
		return n;
	/* Rendered once with a mark for each placeholder, to learn the order
	 * this language puts them in; then with Meta's numbers in that order. */
	for (int i = 0; i < n; i++) {
		snprintf(marks[i], sizeof(marks[i]), "\x01%d\x02", i);
		p[i] = (struct locale_param){all[i], marks[i]};
	}
	if ((rc = locale_render(loc, l, t->body_key, p, (size_t)n, body, cap)) != 0)
		return rc;
	for (int i = 0; i < n; i++)
		if ((at[i] = strstr(body, marks[i])) == NULL)
			return -CB_EINVAL;
	for (int k = 0; k < n; k++) {
		int first = -1;

		for (int i = 0; i < n; i++) {
			int taken = 0;

			for (int j = 0; j < k; j++)
				taken |= names[j] == all[i];
			if (!taken && (first < 0 || at[i] < at[first]))
				first = i;
		}
		names[k] = all[first];
		snprintf(marks[first], sizeof(marks[first]), "{{%d}}", k + 1);
	}
	*nnames = n;
	return locale_render(loc, l, t->body_key, p, (size_t)n, body, cap);
}

static const char *value_of(const struct composed *msg, const char *name)
{
	for (int i = 0; i < msg->nfirst; i++)
		if (strcmp(msg->first[i].name, name) == 0)
			return msg->first[i].value;
	return NULL;
}

/* Meta refuses a parameter with a newline, a tab or four spaces in a row. */
static int param_ok(const char *v)
{
	return v != NULL && v[0] != '\0' && strpbrk(v, "\n\t") == NULL && strstr(v, "    ") == NULL;
}

int whatsapp_send_build_template(const struct locales *loc, enum lang l, const struct whatsapp_template *t,
				 const char *to, const struct composed *msg, char **json)
{
	const char *names[WHATSAPP_TEMPLATE_PARAMS];
	char body[2048], index[12];
	cJSON *o = message(to, "template"), *tp, *lang, *comps, *c, *params, *it;
	int n, rc;

	if ((rc = whatsapp_template_body(loc, l, t, body, sizeof(body), names, &n)) != 0)
		return finish(o, rc, json);
	if (msg->nbuttons - msg->details_button != t->nbuttons)
		return finish(o, -CB_EINVAL, json);
	if (o == NULL || (tp = cJSON_AddObjectToObject(o, "template")) == NULL ||
	    cJSON_AddStringToObject(tp, "name", t->name) == NULL ||
	    (lang = cJSON_AddObjectToObject(tp, "language")) == NULL ||
	    cJSON_AddStringToObject(lang, "policy", "deterministic") == NULL ||
	    cJSON_AddStringToObject(lang, "code", lang_code(l)) == NULL ||
	    (comps = cJSON_AddArrayToObject(tp, "components")) == NULL)
		return finish(o, -CB_ENOMEM, json);
	if (n > 0) {
		if ((c = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(comps, c) ||
		    cJSON_AddStringToObject(c, "type", "body") == NULL ||
		    (params = cJSON_AddArrayToObject(c, "parameters")) == NULL)
			return finish(o, -CB_ENOMEM, json);
		for (int i = 0; i < n; i++) {
			const char *v = value_of(msg, names[i]);

			if (!param_ok(v))
				return finish(o, -CB_EINVAL, json);
			if ((it = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(params, it) ||
			    cJSON_AddStringToObject(it, "type", "text") == NULL ||
			    cJSON_AddStringToObject(it, "text", v) == NULL)
				return finish(o, -CB_ENOMEM, json);
		}
	}
	/* A tap on a quick reply comes back with its payload: the button's
	 * data, the same answer as the button of the free-form message. */
	for (int i = 0; i < t->nbuttons; i++) {
		snprintf(index, sizeof(index), "%d", i);
		if ((c = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(comps, c) ||
		    cJSON_AddStringToObject(c, "type", "button") == NULL ||
		    cJSON_AddStringToObject(c, "sub_type", "quick_reply") == NULL ||
		    cJSON_AddStringToObject(c, "index", index) == NULL ||
		    (params = cJSON_AddArrayToObject(c, "parameters")) == NULL || (it = cJSON_CreateObject()) == NULL ||
		    !cJSON_AddItemToArray(params, it) || cJSON_AddStringToObject(it, "type", "payload") == NULL ||
		    cJSON_AddStringToObject(it, "payload", msg->buttons[i].data) == NULL)
			return finish(o, -CB_ENOMEM, json);
	}
	return finish(o, 0, json);
}

/* Example values Meta's reviewers read, in the template's language. */
static int example(const struct locales *loc, enum lang l, const char *name, char *out, size_t cap)
{
	const char *key = NULL;

	if (strcmp(name, "when") == 0)
		/* Tuesday 3 December 2024, 14:00 UTC. */
		return locale_format_datetime(loc, l, (time_t)1733234400, out, cap);
	if (strcmp(name, "what") == 0)
		key = "appointment.kind.lawyer";
	else if (strcmp(name, "document") == 0)
		key = "document.type.birth_certificate";
	if (key == NULL || locale_text(loc, l, key) == NULL)
		return -CB_EINVAL;
	return cb_strlcpy(out, locale_text(loc, l, key), cap);
}

int whatsapp_template_definition(const struct locales *loc, enum lang l, const struct whatsapp_template *t,
				 char **json)
{
	const char *names[WHATSAPP_TEMPLATE_PARAMS];
	char body[2048], value[256];
	cJSON *o = cJSON_CreateObject(), *comps, *c, *ex, *rows, *row, *arr, *it;
	int n, rc;

	if ((rc = whatsapp_template_body(loc, l, t, body, sizeof(body), names, &n)) != 0)
		return finish(o, rc, json);
	if (o == NULL || cJSON_AddStringToObject(o, "name", t->name) == NULL ||
	    cJSON_AddStringToObject(o, "language", lang_code(l)) == NULL ||
	    cJSON_AddStringToObject(o, "category", "UTILITY") == NULL ||
	    (comps = cJSON_AddArrayToObject(o, "components")) == NULL || (c = cJSON_CreateObject()) == NULL ||
	    !cJSON_AddItemToArray(comps, c) || cJSON_AddStringToObject(c, "type", "BODY") == NULL ||
	    cJSON_AddStringToObject(c, "text", body) == NULL)
		return finish(o, -CB_ENOMEM, json);
	if (n > 0) {
		if ((ex = cJSON_AddObjectToObject(c, "example")) == NULL ||
		    (rows = cJSON_AddArrayToObject(ex, "body_text")) == NULL || (row = cJSON_CreateArray()) == NULL ||
		    !cJSON_AddItemToArray(rows, row))
			return finish(o, -CB_ENOMEM, json);
		for (int i = 0; i < n; i++) {
			if ((rc = example(loc, l, names[i], value, sizeof(value))) != 0)
				return finish(o, rc, json);
			if ((it = cJSON_CreateString(value)) == NULL || !cJSON_AddItemToArray(row, it))
				return finish(o, -CB_ENOMEM, json);
		}
	}
	if (t->nbuttons > 0) {
		if ((c = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(comps, c) ||
		    cJSON_AddStringToObject(c, "type", "BUTTONS") == NULL ||
		    (arr = cJSON_AddArrayToObject(c, "buttons")) == NULL)
			return finish(o, -CB_ENOMEM, json);
		for (int i = 0; i < t->nbuttons; i++) {
			const char *label = locale_text(loc, l, t->buttons[i]);

			if (label == NULL)
				return finish(o, -CB_EINVAL, json);
			if ((it = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(arr, it) ||
			    cJSON_AddStringToObject(it, "type", "QUICK_REPLY") == NULL ||
			    cJSON_AddStringToObject(it, "text", label) == NULL)
				return finish(o, -CB_ENOMEM, json);
		}
	}
	return finish(o, 0, json);
}

int whatsapp_templates_check(const struct locales *loc, char *err, size_t errlen)
{
	const char *names[WHATSAPP_TEMPLATE_PARAMS];
	char body[2048];
	int n;

	for (size_t i = 0; i < whatsapp_ntemplates; i++) {
		const struct whatsapp_template *t = &whatsapp_templates[i];

		for (int l = 0; l < LANG_COUNT; l++) {
			const char *code = lang_code((enum lang)l);

			if (locale_text(loc, (enum lang)l, t->body_key) == NULL ||
			    whatsapp_template_body(loc, (enum lang)l, t, body, sizeof(body), names, &n) != 0) {
				snprintf(err, errlen, "WhatsApp template %s (used by %s): no %s in %s.json", t->name,
					 t->kinds, t->body_key, code);
				return -CB_ECONFIG;
			}
			if (units(body, strlen(body)) > WHATSAPP_SEND_BUTTON_BODY_MAX) {
				snprintf(err, errlen, "WhatsApp template %s: %s in %s.json is over 1024 characters",
					 t->name, t->body_key, code);
				return -CB_ECONFIG;
			}
			for (int b = 0; b < t->nbuttons; b++) {
				const char *label = locale_text(loc, (enum lang)l, t->buttons[b]);

				if (label == NULL || units(label, strlen(label)) > WHATSAPP_SEND_QUICK_REPLY) {
					snprintf(err, errlen, "WhatsApp template %s (used by %s): quick reply %s in %s.json %s",
						 t->name, t->kinds, t->buttons[b], code,
						 label == NULL ? "is missing" : "is over 25 characters");
					return -CB_ECONFIG;
				}
			}
		}
	}
	return 0;
}

/* ---- answers ------------------------------------------------------------- */

/* Every code the Cloud API documents for sends ("Error codes"), and
 * courier's handling of them (handlers/meta/whatsapp/api.go). */
static const struct code_class {
	int code;
	enum whatsapp_send_class cls;
	int retry_after;
} codes[] = {
	/* Limits: wait, then the same message goes again. */
	{4, WHATSAPP_THROTTLED, 60},         /* API calls per hour of the app */
	{613, WHATSAPP_THROTTLED, 60},       /* calls over the rate limit (HTTP 429) */
	{80007, WHATSAPP_THROTTLED, 60},     /* the business account's rate limit */
	{130429, WHATSAPP_THROTTLED, 2},     /* the number's throughput */
	{131048, WHATSAPP_THROTTLED, 60},    /* spam rate limit */
	{133016, WHATSAPP_THROTTLED, 60},    /* register/deregister limit */
	{131056, WHATSAPP_PAIR_LIMIT, 6},    /* business-consumer pair: one per 6 s */
	/* Meta's side or the network: back off and retry. */
	{1, WHATSAPP_TRANSIENT, 0},          /* API unknown */
	{2, WHATSAPP_TRANSIENT, 0},          /* API service */
	{131000, WHATSAPP_TRANSIENT, 0},     /* something went wrong */
	{131016, WHATSAPP_TRANSIENT, 0},     /* service unavailable */
	{133004, WHATSAPP_TRANSIENT, 0},     /* server temporarily unavailable */
	/* Our token: it is ours to fix, and the message waits meanwhile. */
	{0, WHATSAPP_TRANSIENT, 0},          /* AuthException */
	{190, WHATSAPP_TRANSIENT, 0},        /* access token expired */
	/* Media Meta could not take or fetch. */
	{131053, WHATSAPP_MEDIA, 0},
	/* Free-form text more than 24 hours after the person last wrote. */
	{131047, WHATSAPP_WINDOW, 0},        /* re-engagement message */
	{470, WHATSAPP_WINDOW, 0},           /* the same, as the on-premises API said it */
	/* The person cannot get it on WhatsApp. */
	{131026, WHATSAPP_UNREACHABLE, 0},   /* message undeliverable */
	/* Templates. */
	{132000, WHATSAPP_TEMPLATE, 0},      /* parameter count mismatch */
	{132001, WHATSAPP_TEMPLATE, 0},      /* does not exist in that language */
	{132005, WHATSAPP_TEMPLATE, 0},      /* hydrated text too long */
	{132007, WHATSAPP_TEMPLATE, 0},      /* format character policy */
	{132012, WHATSAPP_TEMPLATE, 0},      /* parameter format mismatch */
	{132015, WHATSAPP_TEMPLATE, 0},      /* paused for low quality */
	{132016, WHATSAPP_TEMPLATE, 0},      /* disabled */
	/* Everything else (131008, 131009, 131021, 131051, 368, 130472,
	 * 131049, 131050, 131062 for a kind a business-scoped user id cannot
	 * get...) fails the one message, with its code and title. */
};

enum whatsapp_send_class whatsapp_send_classify(int code, const char *message)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(codes); i++)
		if (codes[i].code == code)
			return codes[i].cls;
	/* A code added later that still says it is about the window. */
	if (message != NULL && (strstr(message, "24 hours") != NULL || strstr(message, "e-engagement") != NULL ||
				strstr(message, "ustomer service window") != NULL))
		return WHATSAPP_WINDOW;
	return WHATSAPP_FAILED;
}

static int default_wait(int code)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(codes); i++)
		if (codes[i].code == code)
			return codes[i].retry_after;
	return 0;
}

static void set_title(struct whatsapp_send_answer *a, const cJSON *err)
{
	static const char *const fields[] = {"error_user_title", "title", "message"};
	const cJSON *details = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(err, "error_data"),
								"details");

	for (size_t i = 0; i < CB_ARRAY_SIZE(fields); i++) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(err, fields[i]);

		if (cJSON_IsString(it) && it->valuestring[0] != '\0') {
			cb_strlcpy(a->title, it->valuestring, sizeof(a->title));
			return;
		}
	}
	if (cJSON_IsString(details))
		cb_strlcpy(a->title, details->valuestring, sizeof(a->title));
}

int whatsapp_send_parse(int status, const char *body, size_t len, long retry_after,
			struct whatsapp_send_answer *a)
{
	cJSON *root = body != NULL ? cJSON_ParseWithLength(body, len) : NULL;
	const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(err, "code");
	const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(root, "messages");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(msgs, 0), "id");

	memset(a, 0, sizeof(*a));
	if (id == NULL)
		id = cJSON_GetObjectItemCaseSensitive(root, "id");    /* an upload */
	if (status >= 200 && status <= 299 && err == NULL) {
		if (cJSON_IsString(id) && id->valuestring[0] != '\0' &&
		    cb_strlcpy(a->id, id->valuestring, sizeof(a->id)) == 0) {
			a->cls = WHATSAPP_SENT;
		} else {
			a->cls = WHATSAPP_TRANSIENT;
			cb_strlcpy(a->title, "an answer without a message id", sizeof(a->title));
		}
		cJSON_Delete(root);
		return 0;
	}
	if (cJSON_IsNumber(code)) {
		a->code = code->valueint;
		set_title(a, err);
		a->cls = whatsapp_send_classify(a->code, a->title);
		a->retry_after = default_wait(a->code);
	} else {
		a->cls = WHATSAPP_FAILED;
		cb_strlcpy(a->title, root == NULL ? "an unreadable answer" : "an answer without an error code",
			   sizeof(a->title));
	}
	/* The status says more than a body Meta's front end wrote. */
	if (status == 429 && a->cls != WHATSAPP_PAIR_LIMIT) {
		a->cls = WHATSAPP_THROTTLED;
		if (a->retry_after == 0)
			a->retry_after = 30;
	} else if (status >= 500 && a->code == 0) {
		a->cls = WHATSAPP_TRANSIENT;
	}
	if (retry_after > 0 && (a->cls == WHATSAPP_THROTTLED || a->cls == WHATSAPP_PAIR_LIMIT))
		a->retry_after = (int)(retry_after < 3600 ? retry_after : 3600);
	cJSON_Delete(root);
	return 0;
}

void whatsapp_send_outcome(const struct whatsapp_send_answer *a, int retried, struct gateway_result *r)
{
	r->chat_only = 0;
	r->why[0] = '\0';
	if (a->cls != WHATSAPP_SENT)
		snprintf(r->reason, sizeof(r->reason), "whatsapp %d: %.100s", a->code, a->title);
	switch (a->cls) {
	case WHATSAPP_SENT:
		r->outcome = GW_SENT;
		cb_strlcpy(r->message_id, a->id, sizeof(r->message_id));
		break;
	case WHATSAPP_PAIR_LIMIT:
		r->chat_only = 1;
		/* fall through */
	case WHATSAPP_THROTTLED:
		r->outcome = GW_RETRY_AFTER;
		r->retry_after = a->retry_after > 0 ? a->retry_after : 1;
		break;
	case WHATSAPP_TRANSIENT:
		r->outcome = GW_TRANSIENT;
		break;
	case WHATSAPP_MEDIA:
		r->outcome = retried ? GW_PERMANENT : GW_TRANSIENT;
		break;
	case WHATSAPP_UNREACHABLE:
		r->outcome = GW_UNREACHABLE;
		cb_strlcpy(r->why, "unreachable", sizeof(r->why));
		break;
	case WHATSAPP_WINDOW:
		r->outcome = GW_PERMANENT;
		cb_strlcpy(r->why, "window", sizeof(r->why));
		break;
	case WHATSAPP_TEMPLATE:
		r->outcome = GW_PERMANENT;
		cb_strlcpy(r->why, "template", sizeof(r->why));
		break;
	default:
		r->outcome = GW_PERMANENT;
		break;
	}
}

/* ---- the gateway's sends --------------------------------------------------- */

#define WA_SEND_TIMEOUT_MS 20000
#define WA_ANSWER_MAX (64 * 1024)

struct wa_call {
	struct whatsapp *wa;
	const char *template_name;   /* of the template in flight or in reserve */
	gateway_sent_cb cb;
	void *arg;
	char *fallback;              /* the template to send if the window refuses */
	int is_template;             /* what is in flight is a template */
	double seconds;
};

static int post_json(struct whatsapp *wa, const char *body, http_done_cb done, void *arg)
{
	const struct whatsapp_settings *w = &wa->gw.env->cfg->gw.whatsapp;
	char url[512], auth[WHATSAPP_TOKEN_MAX + 32];
	const char *headers[] = {auth, "Accept: application/json", NULL};
	struct http_request req;
	int rc;

	if (snprintf(url, sizeof(url), "%s/%s/messages", w->api_base, w->phone_number_id) >= (int)sizeof(url))
		return -CB_ETOOBIG;
	if ((rc = whatsapp_auth_header(wa, auth, sizeof(auth))) != 0)
		return rc;
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = url;
	req.body = body;
	req.body_len = strlen(body);
	req.content_type = "application/json";
	req.headers = headers;
	req.timeout_ms = WA_SEND_TIMEOUT_MS;
	req.max_response_bytes = WA_ANSWER_MAX;
	rc = http_client_request(wa->gw.env->http, &req, done, arg);
	sodium_memzero(auth, sizeof(auth));
	if (rc == 0)
		wa->inflight++;
	return rc;
}

static void call_free(struct wa_call *call)
{
	free(call->fallback);
	free(call);
}

static void sent(const struct http_response *res, void *arg)
{
	struct wa_call *call = arg;
	struct whatsapp *wa = call->wa;
	struct whatsapp_send_answer a;
	struct gateway_result r;

	wa->inflight--;
	call->seconds += res->total_seconds;
	memset(&r, 0, sizeof(r));
	if (res->error != 0) {
		memset(&a, 0, sizeof(a));
		a.cls = WHATSAPP_TRANSIENT;
		cb_strlcpy(a.title, res->timed_out ? "timeout" : "no connection", sizeof(a.title));
	} else {
		whatsapp_send_parse(res->status, res->body, res->len, res->retry_after, &a);
	}
	/* Refused for the window (whatever our record of the last message
	 * said): the template goes in its place, at once. */
	if (a.cls == WHATSAPP_WINDOW && call->fallback != NULL && !wa->stopping) {
		char *body = call->fallback;

		call->fallback = NULL;
		call->is_template = 1;
		log_debug("whatsapp: free-form refused for the window (%d); sending the template", a.code);
		if (post_json(wa, body, sent, call) == 0) {
			free(body);
			return;
		}
		free(body);
	}
	whatsapp_send_outcome(&a, 0, &r);
	r.seconds = call->seconds;
	if (r.outcome == GW_SENT) {
		uv_update_time(wa->gw.env->loop);
		wa->gw.last_ok_ms = uv_now(wa->gw.env->loop);
		wa->gw.last_latency = res->total_seconds;
		if (call->is_template) {
			r.whole = 1;
			metrics_template(wa->gw.env->metrics, "whatsapp", call->template_name);
		}
	} else if (call->is_template && r.why[0] == '\0' && r.outcome == GW_PERMANENT) {
		cb_strlcpy(r.why, "template", sizeof(r.why));
	}
	if (call->cb != NULL)
		call->cb(&r, call->arg);
	call_free(call);
}

/* The free-form body of a part: its buttons as reply buttons or a list
 * when the text holds with them, else the text alone (a question lists
 * its choices by number in the text, which a bare number answers). */
static int free_form(struct whatsapp *wa, const struct gateway_part *p, char **json)
{
	const char *choose = locale_text(*wa->gw.env->loc, p->msg != NULL ? p->lang : LANG_EN, "button.choices");
	int rc;

	if (p->nbuttons > 0 && units(p->text, p->len) <= WHATSAPP_SEND_BUTTON_BODY_MAX) {
		rc = whatsapp_send_build_choices(p->address, p->text, p->len, p->buttons, p->nbuttons, choose, json);
		if (rc != -CB_EINVAL)
			return rc;
	}
	return whatsapp_send_build_text(p->address, p->text, p->len, json);
}

int whatsapp_send_part(struct whatsapp *wa, const struct gateway_part *p, gateway_sent_cb cb, void *arg)
{
	const struct whatsapp_template *t = p->msg != NULL ? whatsapp_template_for(p->msg) : NULL;
	struct wa_call *call = calloc(1, sizeof(*call));
	char *body = NULL, *tbody = NULL;
	int rc;

	if (call == NULL)
		return -CB_ENOMEM;
	call->wa = wa;
	call->cb = cb;
	call->arg = arg;
	call->template_name = t != NULL ? t->name : "";
	/* The template stands for the whole message: its first part. */
	if (t != NULL && p->text == p->msg->text &&
	    whatsapp_send_build_template(*wa->gw.env->loc, p->lang, t, p->address, p->msg, &tbody) != 0)
		tbody = NULL;
	if (p->outside_window && tbody != NULL) {
		body = tbody;
		tbody = NULL;
		call->is_template = 1;
	} else if ((rc = free_form(wa, p, &body)) != 0) {
		free(tbody);
		free(call);
		return rc;
	}
	/* Outside the window with no template, the free-form text is tried
	 * all the same: WhatsApp's refusal, if it comes, says so to staff. */
	call->fallback = tbody;
	rc = post_json(wa, body, sent, call);
	free(body);
	if (rc != 0)
		call_free(call);
	return rc;
}

/* ---- files out ------------------------------------------------------------- */

struct wa_file {
	struct whatsapp *wa;
	gateway_sent_cb cb;
	void *arg;
	char to[GATEWAY_ID_MAX];
	const char *as;              /* document, audio, image, video */
	char mime[128];
	char filename[128];
	char *data;
	size_t len, cap;
	int retried;                 /* a media error was tried once more */
	int uploaded;                /* the message by id is in flight */
	double seconds;
};

static void file_free(struct wa_file *f)
{
	if (f->data != NULL)
		sodium_memzero(f->data, f->cap);
	free(f->data);
	free(f);
}

static void file_done(struct wa_file *f, const struct whatsapp_send_answer *a)
{
	struct gateway_result r;

	memset(&r, 0, sizeof(r));
	whatsapp_send_outcome(a, f->retried, &r);
	r.seconds = f->seconds;
	if (r.outcome == GW_SENT) {
		uv_update_time(f->wa->gw.env->loop);
		f->wa->gw.last_ok_ms = uv_now(f->wa->gw.env->loop);
	}
	if (f->cb != NULL)
		f->cb(&r, f->arg);
	file_free(f);
}

static int upload(struct wa_file *f);

/* The answer to the upload or to the message by id. */
static void file_answered(const struct http_response *res, void *arg)
{
	struct wa_file *f = arg;
	struct whatsapp *wa = f->wa;
	struct whatsapp_send_answer a;
	char *body = NULL;

	wa->inflight--;
	f->seconds += res->total_seconds;
	if (res->error != 0) {
		memset(&a, 0, sizeof(a));
		a.cls = WHATSAPP_TRANSIENT;
		cb_strlcpy(a.title, res->timed_out ? "timeout" : "no connection", sizeof(a.title));
	} else {
		whatsapp_send_parse(res->status, res->body, res->len, res->retry_after, &a);
	}
	if (a.cls == WHATSAPP_MEDIA && !f->retried && !wa->stopping) {
		f->retried = 1;
		f->uploaded = 0;
		if (upload(f) == 0)
			return;
	}
	if (a.cls != WHATSAPP_SENT || f->uploaded) {
		file_done(f, &a);
		return;
	}
	/* Uploaded: the message that carries it, by its id. */
	f->uploaded = 1;
	if (whatsapp_send_build_media(f->to, f->as, a.id, strcmp(f->as, "document") == 0 ? f->filename : NULL,
				      &body) != 0 ||
	    post_json(wa, body, file_answered, f) != 0) {
		a.cls = WHATSAPP_TRANSIENT;
		cb_strlcpy(a.title, "the message with the file cannot be sent", sizeof(a.title));
		free(body);
		file_done(f, &a);
		return;
	}
	free(body);
}

static int upload(struct wa_file *f)
{
	const struct whatsapp_settings *w = &f->wa->gw.env->cfg->gw.whatsapp;
	char url[512], auth[WHATSAPP_TOKEN_MAX + 32];
	const char *headers[] = {auth, "Accept: application/json", NULL};
	const struct http_form_field form[] = {
		{"messaging_product", "whatsapp", 8, NULL, NULL},
		{"type", f->mime, strlen(f->mime), NULL, NULL},
		{"file", f->data, f->len, f->filename, f->mime},
	};
	struct http_request req;
	int rc;

	if (snprintf(url, sizeof(url), "%s/%s/media", w->api_base, w->phone_number_id) >= (int)sizeof(url))
		return -CB_ETOOBIG;
	if ((rc = whatsapp_auth_header(f->wa, auth, sizeof(auth))) != 0)
		return rc;
	memset(&req, 0, sizeof(req));
	req.method = HTTP_POST;
	req.url = url;
	req.form = form;
	req.nform = CB_ARRAY_SIZE(form);
	req.headers = headers;
	req.timeout_ms = 120000;
	req.max_response_bytes = WA_ANSWER_MAX;
	rc = http_client_request(f->wa->gw.env->http, &req, file_answered, f);
	sodium_memzero(auth, sizeof(auth));
	if (rc == 0)
		f->wa->inflight++;
	return rc;
}

static struct wa_file *file_new(struct whatsapp *wa, const char *address, gateway_sent_cb cb, void *arg)
{
	struct wa_file *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return NULL;
	f->wa = wa;
	f->cb = cb;
	f->arg = arg;
	if (cb_strlcpy(f->to, address, sizeof(f->to)) != 0) {
		free(f);
		return NULL;
	}
	return f;
}

/* A name for the file as the reader's phone shows it: nothing of what it
 * is about, only what kind of file. */
static void file_name(const char *mime, const char *given, char *out, size_t cap)
{
	if (given != NULL && given[0] != '\0')
		cb_strlcpy(out, given, cap);
	else if (strcmp(mime, "application/pdf") == 0)
		cb_strlcpy(out, "document.pdf", cap);
	else if (strncmp(mime, "audio/ogg", 9) == 0)
		cb_strlcpy(out, "voice.ogg", cap);
	else
		cb_strlcpy(out, "file", cap);
}

static int file_start(struct wa_file *f, const char *kind, const char *mime, const char *filename)
{
	int rc = whatsapp_send_media_type(kind, mime, f->len, &f->as);

	if (rc == 0 && cb_strlcpy(f->mime, mime, sizeof(f->mime)) != 0)
		rc = -CB_EINVAL;
	if (rc == 0) {
		file_name(mime, filename, f->filename, sizeof(f->filename));
		rc = upload(f);
	}
	return rc;
}

int whatsapp_send_file(struct whatsapp *wa, const char *address, const char *kind, const char *mime,
		       const char *filename, const void *data, size_t len, gateway_sent_cb cb, void *arg)
{
	struct wa_file *f;
	int rc;

	if (len == 0)
		return -CB_EINVAL;
	if ((f = file_new(wa, address, cb, arg)) == NULL || (f->data = malloc(len)) == NULL) {
		free(f);
		return -CB_ENOMEM;
	}
	memcpy(f->data, data, len);
	f->len = f->cap = len;
	if ((rc = file_start(f, kind, mime, filename)) != 0)
		file_free(f);
	return rc;
}

/* ---- a file the gateway holds, sent on ----------------------------------- */

struct wa_forward {
	struct wa_file *f;
	char kind[16];
	size_t max;
};

static int collect(const char *p, size_t n, void *arg)
{
	struct wa_forward *fw = arg;
	struct wa_file *f = fw->f;
	char *grown;

	if (f->len + n > fw->max)
		return -CB_ETOOBIG;
	if (f->len + n > f->cap) {
		size_t cap = f->cap != 0 ? f->cap * 2 : 64 * 1024;

		while (cap < f->len + n)
			cap *= 2;
		if ((grown = malloc(cap)) == NULL)
			return -CB_ENOMEM;
		if (f->data != NULL) {
			memcpy(grown, f->data, f->len);
			sodium_memzero(f->data, f->cap);
			free(f->data);
		}
		f->data = grown;
		f->cap = cap;
	}
	memcpy(f->data + f->len, p, n);
	f->len += n;
	return 0;
}

static void fetched(int rc, int64_t size, void *arg)
{
	struct wa_forward *fw = arg;
	struct wa_file *f = fw->f;
	struct whatsapp_send_answer a;
	char mime[128];

	(void)size;
	if (rc == 0 && (rc = vault_sniff_buffer(f->data, f->len, mime, sizeof(mime))) == 0 &&
	    /* A voice note's container says ogg; WhatsApp's own are opus. */
	    strcmp(fw->kind, "voice") == 0 && strcmp(mime, "audio/ogg") == 0)
		cb_strlcpy(mime, "audio/ogg; codecs=opus", sizeof(mime));
	if (rc == 0 && (rc = file_start(f, fw->kind, mime, NULL)) == 0) {
		free(fw);
		return;
	}
	memset(&a, 0, sizeof(a));
	a.cls = rc == -CB_EGATEWAY ? WHATSAPP_TRANSIENT : WHATSAPP_FAILED;
	snprintf(a.title, sizeof(a.title), "the file cannot be sent on: %s", casebot_strerror(rc));
	free(fw);
	file_done(f, &a);
}

int whatsapp_send_media(struct gateway *gw, const char *address, const char *media_kind, const char *media_ref,
			gateway_sent_cb cb, void *arg)
{
	struct whatsapp *wa = (struct whatsapp *)gw;
	struct wa_forward *fw;
	const char *as;
	int rc;

	/* The kinds WhatsApp takes, at their largest: the fetch stops there. */
	if (gw->ops->fetch == NULL || whatsapp_send_media_type(media_kind, strcmp(media_kind, "document") == 0 ?
							       "application/pdf" : "audio/ogg", 0, &as) != 0)
		return -CB_EINVAL;
	if ((fw = calloc(1, sizeof(*fw))) == NULL || (fw->f = file_new(wa, address, cb, arg)) == NULL) {
		free(fw);
		return -CB_ENOMEM;
	}
	cb_strlcpy(fw->kind, media_kind, sizeof(fw->kind));
	fw->max = strcmp(media_kind, "document") == 0 ? 100u << 20 : 16u << 20;
	if (fw->max > (size_t)gw->ops->fetch_max)
		fw->max = (size_t)gw->ops->fetch_max;
	if ((rc = gw->ops->fetch(gw, media_ref, collect, fetched, fw)) != 0) {
		file_free(fw->f);
		free(fw);
	}
	return rc;
}

/* ---- failures that come later, in a status ------------------------------- */

int whatsapp_send_status_failed(const struct gateway_env *env, int64_t outbox_id, int code, const char *title)
{
	struct hctx h = {env->cfg, env->store, *env->loc, time(NULL), "whatsapp"};
	struct whatsapp_send_answer a;
	struct gateway_result r;
	struct outbox_msg m;
	struct channel ch;
	struct family f;
	int rc;

	memset(&a, 0, sizeof(a));
	a.code = code;
	cb_strlcpy(a.title, title != NULL ? title : "", sizeof(a.title));
	a.cls = whatsapp_send_classify(code, a.title);
	memset(&r, 0, sizeof(r));
	whatsapp_send_outcome(&a, 1, &r);
	if ((rc = store_outbox_get(env->store, outbox_id, &m)) != 0)
		return rc == -CB_ENOENT ? 0 : rc;
	if (r.outcome == GW_UNREACHABLE && m.channel_id != 0 &&
	    (rc = store_channel_set_fallback(env->store, m.channel_id, r.reason)) != 0)
		goto out;
	log_info("whatsapp: outbox #%lld failed after it was sent: %s", (long long)outbox_id, r.reason);
	/* The number is not on WhatsApp: the message goes on to its reader's
	 * next chat, as one refused at once does. A counsellor's reply has
	 * lost its words as it ended, so it goes back to the counsellor. */
	if ((r.outcome == GW_UNREACHABLE || r.outcome == GW_BLOCKED) && strcmp(m.kind, "relay_reply") != 0 &&
	    m.channel_id != 0 && store_channel_get(env->store, m.channel_id, &ch) == 0) {
		int offered, exhausted;

		if ((rc = fallback_failed(&h, &m, &ch, r.outcome == GW_BLOCKED ? "blocked" : "unreachable", &offered,
					  &exhausted, NULL, 0)) != 0)
			goto out;
		if (offered)
			goto out;
		if (exhausted)
			cb_strlcpy(r.why, "channels", sizeof(r.why));
	}
	/* As the outbox tells of a send refused at once: a counsellor's reply
	 * goes back to the counsellor, anything else for a family is an
	 * alert; nothing is said of a message to staff. */
	if (m.family_id == 0 || store_family_get_id(env->store, m.family_id, &f) != 0)
		goto out;
	if (strcmp(m.kind, "relay_reply") == 0 && m.staff_id != 0)
		rc = staff_notice(&h, m.staff_id, m.family_id, "staff_reply_failed", "staff.reply_failed", "ref", f.ref,
				  "reason", r.why[0] != '\0' ? r.why : "gateway", NULL);
	else if (m.staff_id == 0)
		rc = handler_alert(&h, f.id, "undelivered", 0, NULL, "undelivered", "what", m.catalog_key, "reason",
				   r.why[0] != '\0' ? r.why : "gateway", NULL);
out:
	store_outbox_msg_free(&m);
	return rc;
}
