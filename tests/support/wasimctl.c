/* wasimctl: the tests' remote control for build/wasim (see wasimctl.h),
 * on simctl's process and HTTP helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "tests/support/wasimctl.h"

int wasimctl_start(struct wasimctl *w, const char *webhook, const char *extra_args)
{
	char args[1536];
	int n;

	memset(w, 0, sizeof(*w));
	n = snprintf(args, sizeof(args),
	             "--app-secret " WASIMCTL_APP_SECRET " --verify-token " WASIMCTL_VERIFY_TOKEN
	             " --phone-number-id " WASIMCTL_PHONE_NUMBER_ID "%s%s%s%s",
	             webhook != NULL ? " --webhook " : "", webhook != NULL ? webhook : "",
	             extra_args != NULL ? " " : "", extra_args != NULL ? extra_args : "");
	if (n < 0 || (size_t)n >= sizeof(args))
		return -1;
	if (simctl_start_sim(&w->s, "wasim", WASIMCTL_TOKEN, args) != 0)
		return -1;
	snprintf(w->api_base, sizeof(w->api_base), "%s/" WASIMCTL_VERSION, w->s.base);
	return 0;
}

int wasimctl_stop(struct wasimctl *w)
{
	return simctl_stop(&w->s);
}

const char *wasimctl_api_base(const struct wasimctl *w)
{
	return w->api_base;
}

const char *wasimctl_phone_number_id(const struct wasimctl *w)
{
	(void)w;
	return WASIMCTL_PHONE_NUMBER_ID;
}

const char *wasimctl_base(const struct wasimctl *w)
{
	return w->s.base;
}

const char *wasimctl_log(const struct wasimctl *w)
{
	return w->s.log;
}

static void bearer(const char *token, char *buf, size_t cap, const char **headers)
{
	if (token == NULL)
		token = WASIMCTL_TOKEN;
	if (token[0] == '\0') {
		headers[0] = NULL;
		return;
	}
	snprintf(buf, cap, "Authorization: Bearer %s", token);
	headers[0] = buf;
	headers[1] = NULL;
}

int wasimctl_graph(const struct wasimctl *w, const char *verb, const char *path,
                   const char *json, const char *token, struct simctl_resp *r)
{
	char auth[320], url[512];
	const char *headers[2];
	struct simctl_req q = {.verb = verb, .url = url, .headers = headers, .body = json,
	                       .len = json != NULL ? strlen(json) : 0};

	bearer(token, auth, sizeof(auth), headers);
	snprintf(url, sizeof(url), "%s%s", w->api_base, path);
	return simctl_request(&w->s, &q, r);
}

int wasimctl_upload(const struct wasimctl *w, const char *mime, const void *data, size_t len,
                    const char *file_name, struct simctl_resp *r)
{
	char auth[320], url[512];
	const char *headers[2];
	struct simctl_req q = {.verb = "POST", .url = url, .headers = headers};
	curl_mimepart *part;
	curl_mime *m;
	CURL *c;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if ((c = curl_easy_init()) == NULL)
		return -1;
	if ((m = curl_mime_init(c)) == NULL)
		goto out;
	part = curl_mime_addpart(m);
	curl_mime_name(part, "messaging_product");
	curl_mime_data(part, "whatsapp", CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(m);
	curl_mime_name(part, "type");
	curl_mime_data(part, mime, CURL_ZERO_TERMINATED);
	part = curl_mime_addpart(m);
	curl_mime_name(part, "file");
	curl_mime_data(part, data, len);
	curl_mime_type(part, mime);
	curl_mime_filename(part, file_name != NULL ? file_name : "file");
	bearer(NULL, auth, sizeof(auth), headers);
	snprintf(url, sizeof(url), "%s/%s/media", w->api_base, WASIMCTL_PHONE_NUMBER_ID);
	q.mime = m;
	rc = simctl_request(&w->s, &q, r);
	curl_mime_free(m);
out:
	curl_easy_cleanup(c);
	return rc;
}

int wasimctl_fetch(const struct wasimctl *w, const char *url, const char *token,
                   struct simctl_resp *r)
{
	char auth[320];
	const char *headers[2];
	struct simctl_req q = {.verb = "GET", .url = url, .headers = headers};

	bearer(token, auth, sizeof(auth), headers);
	return simctl_request(&w->s, &q, r);
}

cJSON *wasimctl_post(struct wasimctl *w, const char *what, const char *json)
{
	return simctl_post(&w->s, what, json);
}

static cJSON *get(struct wasimctl *w, const char *path)
{
	struct simctl_resp r;
	cJSON *out = NULL;

	if (simctl_http(&w->s, "GET", path, NULL, 0, &r) == 0 && r.status == 200)
		out = cJSON_ParseWithLength(r.body, r.len);
	simctl_resp_free(&r);
	return out;
}

/* Takes body. Keeps the wamid and media id of the answer. */
static int64_t inject(struct wasimctl *w, const char *what, cJSON *body)
{
	char *text = body != NULL ? cJSON_PrintUnformatted(body) : NULL;
	cJSON *out = NULL;
	const cJSON *id, *hook, *media;
	int64_t seq = -1;

	cJSON_Delete(body);
	w->last_id[0] = w->last_media_id[0] = '\0';
	if (text == NULL || (out = wasimctl_post(w, what, text)) == NULL)
		goto out;
	id = cJSON_GetObjectItemCaseSensitive(out, "id");
	hook = cJSON_GetObjectItemCaseSensitive(out, "hook");
	media = cJSON_GetObjectItemCaseSensitive(out, "media_id");
	if (cJSON_IsString(id))
		snprintf(w->last_id, sizeof(w->last_id), "%s", id->valuestring);
	if (cJSON_IsString(media))
		snprintf(w->last_media_id, sizeof(w->last_media_id), "%s", media->valuestring);
	if (cJSON_IsNumber(hook))
		seq = (int64_t)hook->valuedouble;
out:
	free(text);
	cJSON_Delete(out);
	return seq;
}

int64_t wasimctl_inject(struct wasimctl *w, const char *what, const char *json)
{
	return inject(w, what, cJSON_Parse(json != NULL ? json : "{}"));
}

static cJSON *user(const char *wa_id)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL && wa_id != NULL)
		cJSON_AddStringToObject(o, "wa_id", wa_id);
	return o;
}

int64_t wasimctl_text(struct wasimctl *w, const char *wa_id, const char *text)
{
	cJSON *o = user(wa_id);

	cJSON_AddStringToObject(o, "text", text);
	return inject(w, "message", o);
}

static int64_t reply(struct wasimctl *w, const char *what, const char *wa_id, const char *id,
                     const char *title)
{
	cJSON *o = user(wa_id);

	cJSON_AddStringToObject(o, "id", id);
	if (title != NULL)
		cJSON_AddStringToObject(o, "title", title);
	return inject(w, what, o);
}

int64_t wasimctl_button_reply(struct wasimctl *w, const char *wa_id, const char *id,
                              const char *title)
{
	return reply(w, "button_reply", wa_id, id, title);
}

int64_t wasimctl_list_reply(struct wasimctl *w, const char *wa_id, const char *id,
                            const char *title)
{
	return reply(w, "list_reply", wa_id, id, title);
}

int64_t wasimctl_quick_reply(struct wasimctl *w, const char *wa_id, const char *payload,
                             const char *text)
{
	cJSON *o = user(wa_id);

	cJSON_AddStringToObject(o, "payload", payload);
	if (text != NULL)
		cJSON_AddStringToObject(o, "text", text);
	return inject(w, "button", o);
}

int64_t wasimctl_image(struct wasimctl *w, const char *wa_id, long bytes, const char *caption)
{
	cJSON *o = user(wa_id);

	if (bytes > 0)
		cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	if (caption != NULL)
		cJSON_AddStringToObject(o, "caption", caption);
	return inject(w, "image", o);
}

int64_t wasimctl_document(struct wasimctl *w, const char *wa_id, const char *kind, long bytes,
                          const char *file_name)
{
	cJSON *o = user(wa_id);

	cJSON_AddStringToObject(o, "kind", kind != NULL ? kind : "pdf");
	if (bytes > 0)
		cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	if (file_name != NULL)
		cJSON_AddStringToObject(o, "file_name", file_name);
	return inject(w, "document", o);
}

int64_t wasimctl_voice(struct wasimctl *w, const char *wa_id, int seconds)
{
	cJSON *o = user(wa_id);

	cJSON_AddNumberToObject(o, "seconds", seconds);
	return inject(w, "voice", o);
}

int64_t wasimctl_location(struct wasimctl *w, const char *wa_id, double lat, double lon)
{
	cJSON *o = user(wa_id);

	cJSON_AddNumberToObject(o, "latitude", lat);
	cJSON_AddNumberToObject(o, "longitude", lon);
	return inject(w, "location", o);
}

int64_t wasimctl_changed_number(struct wasimctl *w, const char *wa_id, const char *new_wa_id)
{
	cJSON *o = user(wa_id);

	cJSON_AddStringToObject(o, "new_wa_id", new_wa_id);
	return inject(w, "changed_number", o);
}

int64_t wasimctl_unsupported(struct wasimctl *w, const char *wa_id)
{
	return inject(w, "unsupported", user(wa_id));
}

/* Takes body; 0 when the answer was 200. */
static int steer(struct wasimctl *w, const char *what, cJSON *body)
{
	char *text = body != NULL ? cJSON_PrintUnformatted(body) : NULL;
	cJSON *out = text != NULL ? wasimctl_post(w, what, text) : NULL;
	int rc = out != NULL ? 0 : -1;

	free(text);
	cJSON_Delete(body);
	cJSON_Delete(out);
	return rc;
}

int wasimctl_age(struct wasimctl *w, const char *wa_id, double hours)
{
	cJSON *o = user(wa_id);

	cJSON_AddNumberToObject(o, "hours", hours);
	return steer(w, "age", o);
}

int wasimctl_clock(struct wasimctl *w, long seconds)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "seconds", (double)seconds);
	return steer(w, "clock", o);
}

int wasimctl_unreachable(struct wasimctl *w, const char *wa_id, const char *mode)
{
	cJSON *o = user(wa_id);

	cJSON_AddStringToObject(o, "mode", mode);
	return steer(w, "unreachable", o);
}

int wasimctl_template(struct wasimctl *w, const char *name, const char *language, int params)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "language", language);
	cJSON_AddNumberToObject(o, "params", params);
	return steer(w, "template", o);
}

int wasimctl_set_webhook(struct wasimctl *w, const char *url)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "url", url);
	return steer(w, "webhook", o);
}

int64_t wasimctl_forge(struct wasimctl *w, const char *wa_id, const char *text)
{
	cJSON *o = user(wa_id);

	if (text != NULL)
		cJSON_AddStringToObject(o, "text", text);
	return inject(w, "forge", o);
}

int64_t wasimctl_replay(struct wasimctl *w, int64_t hook)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "hook", (double)hook);
	return inject(w, "replay", o);
}

cJSON *wasimctl_verify(struct wasimctl *w, const char *token, const char *challenge)
{
	cJSON *o = cJSON_CreateObject(), *out;
	char *text;

	cJSON_AddStringToObject(o, "verify_token", token != NULL ? token : WASIMCTL_VERIFY_TOKEN);
	if (challenge != NULL)
		cJSON_AddStringToObject(o, "challenge", challenge);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	out = text != NULL ? wasimctl_post(w, "verify", text) : NULL;
	free(text);
	return out;
}

int wasimctl_reset(struct wasimctl *w)
{
	return steer(w, "reset", cJSON_CreateObject());
}

static cJSON *array_of(cJSON *root, const char *name)
{
	cJSON *arr = cJSON_DetachItemFromObjectCaseSensitive(root, name);

	cJSON_Delete(root);
	return cJSON_IsArray(arr) ? arr : (cJSON_Delete(arr), NULL);
}

cJSON *wasimctl_sent(struct wasimctl *w, const char *wa_id)
{
	char path[96];

	if (wa_id != NULL)
		snprintf(path, sizeof(path), "/control/sent?wa_id=%s", wa_id);
	else
		snprintf(path, sizeof(path), "/control/sent");
	return array_of(get(w, path), "messages");
}

static long long wait_for(struct wasimctl *w, const char *what, const char *wa_id, long long n,
                          long timeout_ms)
{
	char path[192];
	struct simctl_resp r;
	cJSON *out;
	const cJSON *count;
	long long result = -1;

	if (timeout_ms <= 0)
		timeout_ms = SIMCTL_TIMEOUT_MS;
	snprintf(path, sizeof(path), "/control/wait?what=%s&count=%lld&timeout_ms=%ld%s%s", what, n,
	         timeout_ms, wa_id != NULL ? "&chat_id=" : "", wa_id != NULL ? wa_id : "");
	if (simctl_http(&w->s, "GET", path, NULL, timeout_ms + SIMCTL_TIMEOUT_MS, &r) == 0 &&
	    r.status == 200 && (out = cJSON_ParseWithLength(r.body, r.len)) != NULL) {
		count = cJSON_GetObjectItemCaseSensitive(out, "count");
		if (cJSON_IsNumber(count))
			result = (long long)count->valuedouble;
		cJSON_Delete(out);
	}
	simctl_resp_free(&r);
	return result;
}

int wasimctl_wait_sent(struct wasimctl *w, const char *wa_id, int n, long timeout_ms)
{
	return (int)wait_for(w, "sent", wa_id, n, timeout_ms);
}

long long wasimctl_wait(struct wasimctl *w, const char *what, long long n, long timeout_ms)
{
	return wait_for(w, what, NULL, n, timeout_ms);
}

cJSON *wasimctl_hooks(struct wasimctl *w, const char *kind)
{
	char path[96];

	snprintf(path, sizeof(path), "/control/hooks%s%s", kind != NULL ? "?kind=" : "",
	         kind != NULL ? kind : "");
	return array_of(get(w, path), "hooks");
}

cJSON *wasimctl_stats(struct wasimctl *w)
{
	return get(w, "/control/stats");
}

long long wasimctl_stat(struct wasimctl *w, const char *name)
{
	cJSON *st = wasimctl_stats(w);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, name);
	long long n = cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;

	cJSON_Delete(st);
	return n;
}
