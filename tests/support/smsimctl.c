/* smsimctl: the tests' remote control for build/smsim (see smsimctl.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/smsimctl.h"

int smsimctl_start(struct smsimctl *m, const char *extra_args)
{
	char args[512];

	memset(m, 0, sizeof(*m));
	snprintf(args, sizeof(args), "--auth-token " SMSIMCTL_AUTH_TOKEN " --number " SMSIMCTL_NUMBER "%s%s",
	         extra_args != NULL ? " " : "", extra_args != NULL ? extra_args : "");
	/* simctl passes --token: smsim takes it for the account SID. */
	return simctl_start_sim(&m->s, "smsim", SMSIMCTL_ACCOUNT_SID, args);
}

int smsimctl_stop(struct smsimctl *m)
{
	return simctl_stop(&m->s);
}

const char *smsimctl_base(const struct smsimctl *m)
{
	return m->s.base;
}

static int steer(struct smsimctl *m, const char *what, cJSON *o)
{
	char *json = cJSON_PrintUnformatted(o);
	cJSON *r = json != NULL ? simctl_post(&m->s, what, json) : NULL;
	int rc = r != NULL ? 0 : -1;

	cJSON_Delete(r);
	cJSON_Delete(o);
	free(json);
	return rc;
}

int smsimctl_set_webhook(struct smsimctl *m, const char *url, const char *public_url)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "url", url);
	cJSON_AddStringToObject(o, "public_url", public_url != NULL ? public_url : "");
	return steer(m, "webhook", o);
}

static int64_t inject(struct smsimctl *m, const char *what, const char *number, const char *text)
{
	cJSON *o = cJSON_CreateObject(), *r;
	char *json;
	int64_t hook = -1;

	cJSON_AddStringToObject(o, "from", number);
	cJSON_AddStringToObject(o, "text", text);
	json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	r = json != NULL ? simctl_post(&m->s, what, json) : NULL;
	free(json);
	if (cJSON_IsNumber(cJSON_GetObjectItem(r, "hook")))
		hook = (int64_t)cJSON_GetObjectItem(r, "hook")->valuedouble;
	cJSON_Delete(r);
	return hook;
}

int64_t smsimctl_text(struct smsimctl *m, const char *number, const char *text)
{
	return inject(m, "message", number, text);
}

int64_t smsimctl_forge(struct smsimctl *m, const char *number, const char *text)
{
	return inject(m, "forge", number, text);
}

int smsimctl_number(struct smsimctl *m, const char *number, const char *mode)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "number", number);
	cJSON_AddStringToObject(o, "mode", mode);
	return steer(m, "number", o);
}

static void digits(const char *number, char *out, size_t cap)
{
	size_t n = 0;

	for (; *number != '\0' && n + 1 < cap; number++)
		if (*number >= '0' && *number <= '9')
			out[n++] = *number;
	out[n] = '\0';
}

cJSON *smsimctl_sent(struct smsimctl *m, const char *number)
{
	char path[96], d[24];
	struct simctl_resp r;
	cJSON *root = NULL, *arr = NULL;

	if (number != NULL) {
		digits(number, d, sizeof(d));
		snprintf(path, sizeof(path), "/control/sent?number=%s", d);
	} else {
		snprintf(path, sizeof(path), "/control/sent");
	}
	if (simctl_http(&m->s, "GET", path, NULL, 0, &r) == 0 && r.status == 200)
		root = cJSON_ParseWithLength(r.body, r.len);
	simctl_resp_free(&r);
	if (root != NULL)
		arr = cJSON_DetachItemFromObject(root, "messages");
	cJSON_Delete(root);
	return arr;
}

static long long wait_for(struct smsimctl *m, const char *what, const char *number, long long n, long timeout_ms)
{
	char path[192], d[24] = "";
	struct simctl_resp r;
	cJSON *out;
	long long result = -1;

	if (timeout_ms <= 0)
		timeout_ms = SIMCTL_TIMEOUT_MS;
	if (number != NULL)
		digits(number, d, sizeof(d));
	snprintf(path, sizeof(path), "/control/wait?what=%s&count=%lld&timeout_ms=%ld%s%s", what, n, timeout_ms,
	         number != NULL ? "&chat_id=" : "", d);
	if (simctl_http(&m->s, "GET", path, NULL, timeout_ms + SIMCTL_TIMEOUT_MS, &r) == 0 && r.status == 200 &&
	    (out = cJSON_ParseWithLength(r.body, r.len)) != NULL) {
		if (cJSON_IsNumber(cJSON_GetObjectItem(out, "count")))
			result = (long long)cJSON_GetObjectItem(out, "count")->valuedouble;
		cJSON_Delete(out);
	}
	simctl_resp_free(&r);
	return result;
}

int smsimctl_wait_sent(struct smsimctl *m, const char *number, int n, long timeout_ms)
{
	return (int)wait_for(m, "sent", number, n, timeout_ms);
}

long long smsimctl_wait(struct smsimctl *m, const char *what, long long n, long timeout_ms)
{
	return wait_for(m, what, NULL, n, timeout_ms);
}

long long smsimctl_stat(struct smsimctl *m, const char *name)
{
	struct simctl_resp r;
	cJSON *st = NULL;
	long long n = -1;

	if (simctl_http(&m->s, "GET", "/control/stats", NULL, 0, &r) == 0 && r.status == 200)
		st = cJSON_ParseWithLength(r.body, r.len);
	simctl_resp_free(&r);
	if (cJSON_IsNumber(cJSON_GetObjectItem(st, name)))
		n = (long long)cJSON_GetObjectItem(st, name)->valuedouble;
	cJSON_Delete(st);
	return n;
}

int smsimctl_fault(struct smsimctl *m, const char *kind, int count, int retry_after)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddNumberToObject(o, "count", count);
	if (retry_after > 0)
		cJSON_AddNumberToObject(o, "retry_after", retry_after);
	return steer(m, "fault", o);
}
