/* Helpers every simulator front end uses: JSON answers, integers from JSON
 * and from queries, the port file, the control API's cross-site check. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tests/sim/sim.h"

int sim_reply_json(struct http_server_req *req, int status, cJSON *root)
{
	char *text = root != NULL ? cJSON_PrintUnformatted(root) : NULL;
	int rc;

	cJSON_Delete(root);
	if (text == NULL)
		return http_server_respond(req, 500, "text/plain", "out of memory\n", 14);
	rc = http_server_respond(req, status, "application/json", text, strlen(text));
	free(text);
	return rc;
}

int sim_json_i64(const cJSON *item, int64_t *out)
{
	double d;
	char *end;
	long long v;

	if (cJSON_IsNumber(item)) {
		d = item->valuedouble;
		/* Range first: converting a larger double is undefined. */
		if (!(d <= 9007199254740992.0 && d >= -9007199254740992.0) || d != (double)(int64_t)d)
			return -CB_EINVAL;
		*out = (int64_t)d;
		return 0;
	}
	if (cJSON_IsString(item) && item->valuestring[0] != '\0') {
		errno = 0;
		v = strtoll(item->valuestring, &end, 10);
		if (*end != '\0' || errno != 0)
			return -CB_EINVAL;
		*out = v;
		return 0;
	}
	return -CB_EINVAL;
}

int sim_path(const char *path, char *buf, size_t cap)
{
	size_t n = strcspn(path, "?#");

	if (n >= cap) {
		if (cap > 0)
			buf[0] = '\0';
		return -CB_ETOOBIG;
	}
	memcpy(buf, path, n);
	buf[n] = '\0';
	return 0;
}

/* libcurl's URL parser finds the query; the pairs are split on '&' and the
 * value decoded by curl too. */
int sim_query(const char *path, const char *name, char *buf, size_t cap)
{
	CURLU *u = curl_url();
	char url[1024], *query = NULL, *save = NULL, *pair, *val;
	size_t nlen = strlen(name);
	int rc = -CB_ENOENT, outlen;

	if (u == NULL)
		return -CB_ENOMEM;
	snprintf(url, sizeof(url), "http://127.0.0.1%s", path);
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_QUERY, &query, 0) != CURLUE_OK)
		goto out;
	for (pair = strtok_r(query, "&", &save); pair != NULL; pair = strtok_r(NULL, "&", &save)) {
		if (strncmp(pair, name, nlen) != 0 || pair[nlen] != '=')
			continue;
		if ((val = curl_easy_unescape(NULL, pair + nlen + 1, 0, &outlen)) == NULL) {
			rc = -CB_ENOMEM;
			goto out;
		}
		rc = (size_t)outlen < cap && memchr(val, '\0', (size_t)outlen) == NULL ?
		     cb_strlcpy(buf, val, cap) : -CB_ETOOBIG;
		curl_free(val);
		goto out;
	}
out:
	curl_free(query);
	curl_url_cleanup(u);
	return rc;
}

int sim_write_port_file(const char *path, int port)
{
	char tmp[4096];
	FILE *fp;
	int rc = -CB_EIO;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp))
		return -CB_ETOOBIG;
	if ((fp = fopen(tmp, "w")) == NULL)
		goto out;
	fprintf(fp, "%d\n", port);
	if (fclose(fp) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	return rc;
}

/* A browser says where a POST comes from; only this server's own page may
 * drive it (curl and the tests send no Origin). H2O keeps the Host header
 * out of the header list, so the origin is checked against our port. */
int sim_cross_site(struct sim *sim, struct http_server_req *req)
{
	static const char *const hosts[] = {"127.0.0.1", "localhost", "[::1]"};
	const char *origin = http_server_req_header(req, "origin", NULL);
	const char *site = http_server_req_header(req, "sec-fetch-site", NULL);
	char own[64];
	size_t i;

	if (site != NULL && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0)
		return 1;
	if (origin == NULL)
		return 0;
	for (i = 0; i < CB_ARRAY_SIZE(hosts); i++) {
		snprintf(own, sizeof(own), "http://%s:%d", hosts[i], http_server_port(sim->http));
		if (strcmp(origin, own) == 0)
			return 0;
	}
	return 1;
}

int sim_query_i64(const char *path, const char *name, int64_t def, int64_t *out)
{
	char buf[32], *end;

	*out = def;
	if (sim_query(path, name, buf, sizeof(buf)) != 0)
		return 0;
	errno = 0;
	*out = strtoll(buf, &end, 10);
	return *end != '\0' || buf[0] == '\0' || errno != 0 ? -CB_EINVAL : 0;
}
