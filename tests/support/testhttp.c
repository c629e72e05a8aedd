#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/testhttp.h"

struct buf {
	char *p;
	size_t len;
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	size_t add = size * n;
	char *grown;

	if (b->len + add > 4 * 1024 * 1024)
		return 0;
	grown = realloc(b->p, b->len + add + 1);
	if (grown == NULL)
		return 0;
	b->p = grown;
	memcpy(b->p + b->len, data, add);
	b->len += add;
	b->p[b->len] = '\0';
	return add;
}

char *testhttp_get(const char *url, long *status)
{
	struct buf b = {NULL, 0};
	CURL *c = curl_easy_init();
	CURLcode rc;

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c);
	if (status != NULL)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		free(b.p);
		return NULL;
	}
	if (b.p == NULL)
		b.p = calloc(1, 1);
	return b.p;
}

cJSON *testhttp_get_json(const char *url, long *status)
{
	char *body = testhttp_get(url, status);
	cJSON *j = body != NULL ? cJSON_Parse(body) : NULL;

	free(body);
	return j;
}

long testhttp_post(const char *url, const char *const *headers, const char *body, char **out)
{
	struct buf b = {NULL, 0};
	struct curl_slist *list = NULL;
	CURL *c = curl_easy_init();
	long status = 0;

	if (c == NULL)
		return -1;
	for (int i = 0; headers != NULL && headers[i] != NULL; i++)
		list = curl_slist_append(list, headers[i]);
	list = curl_slist_append(list, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	else
		status = -1;
	curl_slist_free_all(list);
	curl_easy_cleanup(c);
	if (out != NULL)
		*out = b.p;
	else
		free(b.p);
	return status;
}
