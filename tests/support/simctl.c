/* simctl: the tests' remote control for build/tgsim (see simctl.h). One
 * curl easy handle per call keeps every call independent and bounded. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>

#include "tests/support/simctl.h"

#define MAX_ARGS 32
#define BODY_CAP (64u * 1024 * 1024)   /* a 20 MB download fits */
#define POLL_MS 10

struct buf {
	char *p;
	size_t len, cap;
	int toobig;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)(ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int read_port(const char *path)
{
	FILE *fp = fopen(path, "r");
	int port = 0;

	if (fp == NULL)
		return 0;
	if (fscanf(fp, "%d", &port) != 1)
		port = 0;
	fclose(fp);
	return port;
}

static void remove_dir(struct simctl *s)
{
	char path[160];

	if (s->dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/port", s->dir);
	unlink(path);
	unlink(s->log);
	rmdir(s->dir);
	s->dir[0] = '\0';
}

static void dump_log(const struct simctl *s)
{
	char line[1024];
	FILE *fp = fopen(s->log, "r");

	if (fp == NULL)
		return;
	fprintf(stderr, "---- %s log ----\n", s->name);
	while (fgets(line, sizeof(line), fp) != NULL)
		fputs(line, stderr);
	fclose(fp);
}

/* $CASEBOT_BUILD/NAME; else the NAME beside the running binary or one
 * level up (build-asan/tests/test_x finds build-asan/tgsim, so a sanitizer
 * run never mixes builds); else build/NAME. */
static void find_sim(const char *name, char *bin, size_t cap)
{
	const char *build = getenv("CASEBOT_BUILD");
	char exe[400], *slash;
	ssize_t n;
	int up;

	if (build != NULL && build[0] != '\0') {
		snprintf(bin, cap, "%s/%s", build, name);
		return;
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (up = 0; up < 2 && (slash = strrchr(exe, '/')) != NULL; up++) {
			*slash = '\0';
			snprintf(bin, cap, "%s/%s", exe, name);
			if (access(bin, X_OK) == 0)
				return;
		}
	}
	snprintf(bin, cap, "build/%s", name);
}

int simctl_start(struct simctl *s, const char *token, const char *extra_args)
{
	return simctl_start_sim(s, "tgsim", token, extra_args);
}

int simctl_start_sim(struct simctl *s, const char *name, const char *token,
                     const char *extra_args)
{
	char bin[512], portfile[160], extra[512], *argv[MAX_ARGS], *save = NULL, *tok;
	int argc = 0, status, fd;
	long deadline;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	if (token == NULL || snprintf(s->token, sizeof(s->token), "%s", token) >= (int)sizeof(s->token))
		return -1;
	find_sim(name, bin, sizeof(bin));
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->dir, sizeof(s->dir), "/tmp/%s-XXXXXX", s->name);
	if (mkdtemp(s->dir) == NULL) {
		s->dir[0] = '\0';
		return -1;
	}
	snprintf(portfile, sizeof(portfile), "%s/port", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/%s.log", s->dir, s->name);
	argv[argc++] = bin;
	argv[argc++] = "--listen";
	argv[argc++] = "127.0.0.1:0";
	argv[argc++] = "--token";
	argv[argc++] = s->token;
	argv[argc++] = "--port-file";
	argv[argc++] = portfile;
	snprintf(extra, sizeof(extra), "%s", extra_args != NULL ? extra_args : "");
	for (tok = strtok_r(extra, " ", &save); tok != NULL && argc < MAX_ARGS - 1;
	     tok = strtok_r(NULL, " ", &save))
		argv[argc++] = tok;
	argv[argc] = NULL;

	fflush(NULL);
	if ((s->pid = fork()) < 0)
		goto fail;
	if (s->pid == 0) {
		/* Only async-signal-safe calls between fork and exec. */
		fd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0)
			dup2(fd, 2);
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0)
			dup2(fd, 0);
		execv(bin, argv);
		_exit(127);
	}
	deadline = now_ms() + SIMCTL_TIMEOUT_MS;
	while ((s->port = read_port(portfile)) <= 0) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = -1;
			goto fail;
		}
		if (now_ms() > deadline)
			goto fail;
		sleep_ms(POLL_MS);
	}
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
	return 0;
fail:
	fprintf(stderr, "simctl: %s did not start\n", bin);
	simctl_stop(s);
	return -1;
}

int simctl_stop(struct simctl *s)
{
	int status = 0, code = -1;
	long deadline;
	pid_t r;

	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		deadline = now_ms() + SIMCTL_TIMEOUT_MS;
		while ((r = waitpid(s->pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
			sleep_ms(POLL_MS);
		if (r == 0) {
			fprintf(stderr, "simctl: %s ignored SIGTERM, killing it\n", s->name);
			kill(s->pid, SIGKILL);
			r = waitpid(s->pid, &status, 0);
		}
		if (r == s->pid)
			code = WIFEXITED(status) ? WEXITSTATUS(status) :
			       (WIFSIGNALED(status) ? 128 + WTERMSIG(status) : -1);
		s->pid = -1;
	}
	if (code != 0)
		dump_log(s);
	remove_dir(s);
	return code;
}

const char *simctl_base(const struct simctl *s)
{
	return s->base;
}

const char *simctl_log(const struct simctl *s)
{
	return s->log;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t len = size * n, cap;
	char *p;

	if (b->len + len + 1 > BODY_CAP) {
		b->toobig = 1;
		return 0;
	}
	if (b->len + len + 1 > b->cap) {
		cap = b->cap > 0 ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		if ((p = realloc(b->p, cap)) == NULL)
			return 0;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
	return len;
}

int simctl_http(const struct simctl *s, const char *verb, const char *path,
                const char *json, long timeout_ms, struct simctl_resp *r)
{
	struct simctl_req q = {.verb = verb, .path = path, .body = json,
	                       .len = json != NULL ? strlen(json) : 0, .timeout_ms = timeout_ms};

	return simctl_request(s, &q, r);
}

int simctl_request(const struct simctl *s, const struct simctl_req *q, struct simctl_resp *r)
{
	struct curl_slist *hdrs = NULL;
	struct curl_header *h;
	struct buf b = {0};
	char url[2048], ctype_hdr[160], *ctype = NULL;
	long start = now_ms();
	size_t i;
	CURL *c;
	CURLcode rc;

	memset(r, 0, sizeof(*r));
	r->curl_error = CURLE_FAILED_INIT;
	if ((c = curl_easy_init()) == NULL)
		return -1;
	if (q->url != NULL)
		snprintf(url, sizeof(url), "%s", q->url);
	else
		snprintf(url, sizeof(url), "%s%s", s->base, q->path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, q->timeout_ms > 0 ? q->timeout_ms : SIMCTL_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	for (i = 0; q->headers != NULL && q->headers[i] != NULL; i++)
		hdrs = curl_slist_append(hdrs, q->headers[i]);
	if (strcmp(q->verb, "POST") == 0) {
		hdrs = curl_slist_append(hdrs, "Expect:");
		if (q->mime != NULL) {
			curl_easy_setopt(c, CURLOPT_MIMEPOST, (curl_mime *)q->mime);
		} else {
			snprintf(ctype_hdr, sizeof(ctype_hdr), "Content-Type: %s",
			         q->content_type != NULL ? q->content_type : "application/json");
			hdrs = curl_slist_append(hdrs, ctype_hdr);
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body != NULL ? q->body : "");
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			                 (curl_off_t)(q->body != NULL ? q->len : 0));
		}
	} else if (strcmp(q->verb, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->verb);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	rc = curl_easy_perform(c);
	r->ms = now_ms() - start;
	r->curl_error = (int)rc;
	if (rc == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
		if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK && ctype != NULL)
			snprintf(r->content_type, sizeof(r->content_type), "%s", ctype);
		if (curl_easy_header(c, "Retry-After", 0, CURLH_HEADER, -1, &h) == CURLHE_OK)
			snprintf(r->retry_after, sizeof(r->retry_after), "%s", h->value);
		r->body = b.p;
		r->len = b.len;
		b.p = NULL;
	}
	free(b.p);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

int simctl_api(const struct simctl *s, const char *method, const char *json,
               long timeout_ms, struct simctl_resp *r)
{
	char path[256];

	snprintf(path, sizeof(path), "/bot%s/%s", s->token, method);
	return simctl_http(s, "POST", path, json, timeout_ms, r);
}

void simctl_resp_free(struct simctl_resp *r)
{
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

cJSON *simctl_post(const struct simctl *s, const char *what, const char *json)
{
	struct simctl_resp r;
	char path[128];
	cJSON *out = NULL;

	snprintf(path, sizeof(path), "/control/%s", what);
	if (simctl_http(s, "POST", path, json != NULL ? json : "{}", 0, &r) == 0 && r.status == 200)
		out = cJSON_ParseWithLength(r.body, r.len);
	simctl_resp_free(&r);
	return out;
}

static cJSON *get(const struct simctl *s, const char *path)
{
	struct simctl_resp r;
	cJSON *out = NULL;

	if (simctl_http(s, "GET", path, NULL, 0, &r) == 0 && r.status == 200)
		out = cJSON_ParseWithLength(r.body, r.len);
	simctl_resp_free(&r);
	return out;
}

/* Posts body (taken) and returns the update_id of the answer. */
static int64_t post_update(const struct simctl *s, const char *what, cJSON *body)
{
	char *text = body != NULL ? cJSON_PrintUnformatted(body) : NULL;
	cJSON *res = text != NULL ? simctl_post(s, what, text) : NULL;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(res, "update_id");
	int64_t v = cJSON_IsNumber(id) ? (int64_t)id->valuedouble : -1;

	cJSON_Delete(body);
	cJSON_Delete(res);
	free(text);
	return v;
}

static cJSON *chat_body(int64_t chat)
{
	cJSON *o = cJSON_CreateObject();

	if (o != NULL)
		cJSON_AddNumberToObject(o, "chat_id", (double)chat);
	return o;
}

int64_t simctl_message(const struct simctl *s, int64_t chat, const char *text)
{
	cJSON *o = chat_body(chat);

	cJSON_AddStringToObject(o, "text", text);
	return post_update(s, "message", o);
}

int64_t simctl_button(const struct simctl *s, int64_t chat, const char *data,
                      int64_t message_id)
{
	cJSON *o = chat_body(chat);

	cJSON_AddStringToObject(o, "data", data);
	if (message_id > 0)
		cJSON_AddNumberToObject(o, "message_id", (double)message_id);
	return post_update(s, "button", o);
}

int64_t simctl_photo(const struct simctl *s, int64_t chat, long bytes, const char *caption)
{
	cJSON *o = chat_body(chat);

	cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	if (caption != NULL)
		cJSON_AddStringToObject(o, "caption", caption);
	return post_update(s, "photo", o);
}

int64_t simctl_document(const struct simctl *s, int64_t chat, const char *file_name,
                        const char *mime_type, const void *data, size_t len)
{
	size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
	char *b64 = malloc(cap);
	cJSON *o;

	if (b64 == NULL)
		return -1;
	sodium_bin2base64(b64, cap, data, len, sodium_base64_VARIANT_ORIGINAL);
	o = chat_body(chat);
	cJSON_AddStringToObject(o, "content_base64", b64);
	free(b64);
	if (file_name != NULL)
		cJSON_AddStringToObject(o, "file_name", file_name);
	if (mime_type != NULL)
		cJSON_AddStringToObject(o, "mime_type", mime_type);
	return post_update(s, "document", o);
}

int64_t simctl_document_gen(const struct simctl *s, int64_t chat, const char *kind, long bytes)
{
	cJSON *o = chat_body(chat);

	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddNumberToObject(o, "bytes", (double)bytes);
	return post_update(s, "document", o);
}

int64_t simctl_voice(const struct simctl *s, int64_t chat, int seconds)
{
	cJSON *o = chat_body(chat);

	cJSON_AddNumberToObject(o, "seconds", seconds);
	return post_update(s, "voice", o);
}

int64_t simctl_location(const struct simctl *s, int64_t chat)
{
	return post_update(s, "location", chat_body(chat));
}

int64_t simctl_block(const struct simctl *s, int64_t chat, int blocked)
{
	return post_update(s, blocked ? "block" : "unblock", chat_body(chat));
}

int64_t simctl_raw(const struct simctl *s, const char *update_json)
{
	cJSON *o = cJSON_CreateObject(), *u = cJSON_Parse(update_json);

	if (o == NULL || u == NULL || !cJSON_AddItemToObject(o, "update", u)) {
		cJSON_Delete(o);
		cJSON_Delete(u);
		return -1;
	}
	return post_update(s, "raw", o);
}

int simctl_chat(const struct simctl *s, int64_t chat, const char *first_name)
{
	cJSON *o = chat_body(chat), *res;
	char *text;

	if (first_name != NULL)
		cJSON_AddStringToObject(o, "first_name", first_name);
	text = cJSON_PrintUnformatted(o);
	res = text != NULL ? simctl_post(s, "chat", text) : NULL;
	cJSON_Delete(o);
	free(text);
	if (res == NULL)
		return -1;
	cJSON_Delete(res);
	return 0;
}

int simctl_fault(const struct simctl *s, const char *kind, int count, int arg,
                 const char *method)
{
	cJSON *o = cJSON_CreateObject(), *res;
	char *text;

	cJSON_AddStringToObject(o, "kind", kind);
	cJSON_AddNumberToObject(o, "count", count > 0 ? count : 1);
	if (strcmp(kind, "429") == 0 && arg > 0)
		cJSON_AddNumberToObject(o, "retry_after", arg);
	else if ((strcmp(kind, "slow") == 0 || strcmp(kind, "drop") == 0) && arg > 0)
		cJSON_AddNumberToObject(o, "delay_ms", arg);
	if (method != NULL)
		cJSON_AddStringToObject(o, "method", method);
	text = cJSON_PrintUnformatted(o);
	res = text != NULL ? simctl_post(s, "fault", text) : NULL;
	cJSON_Delete(o);
	free(text);
	if (res == NULL)
		return -1;
	cJSON_Delete(res);
	return 0;
}

cJSON *simctl_sent(const struct simctl *s, int64_t chat)
{
	char path[64];
	cJSON *root, *arr;

	if (chat != 0)
		snprintf(path, sizeof(path), "/control/sent?chat_id=%" PRId64, chat);
	else
		snprintf(path, sizeof(path), "/control/sent");
	if ((root = get(s, path)) == NULL)
		return NULL;
	arr = cJSON_DetachItemFromObjectCaseSensitive(root, "messages");
	cJSON_Delete(root);
	if (!cJSON_IsArray(arr)) {
		cJSON_Delete(arr);
		return NULL;
	}
	return arr;
}

int simctl_wait_sent(const struct simctl *s, int64_t chat, int n, long timeout_ms)
{
	char path[128];
	struct simctl_resp r;
	cJSON *root;
	int count = -1;

	/* The simulator holds the request until the count is reached. */
	snprintf(path, sizeof(path), "/control/wait?chat_id=%" PRId64 "&count=%d&timeout_ms=%ld", chat, n,
	         timeout_ms);
	if (simctl_http(s, "GET", path, NULL, timeout_ms + SIMCTL_TIMEOUT_MS, &r) != 0)
		return -1;
	if (r.status == 200 && (root = cJSON_ParseWithLength(r.body, r.len)) != NULL) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "count");

		if (cJSON_IsNumber(c))
			count = c->valueint;
		cJSON_Delete(root);
	}
	simctl_resp_free(&r);
	return count;
}

cJSON *simctl_stats(const struct simctl *s)
{
	return get(s, "/control/stats");
}

long long simctl_stat(const struct simctl *s, const char *name)
{
	cJSON *st = simctl_stats(s);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, name);
	long long out = cJSON_IsNumber(v) ? (long long)v->valuedouble :
	                (cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1);

	cJSON_Delete(st);
	return out;
}

int simctl_reset(const struct simctl *s)
{
	cJSON *res = simctl_post(s, "reset", "{}");

	if (res == NULL)
		return -1;
	cJSON_Delete(res);
	return 0;
}
