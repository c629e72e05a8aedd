/* The control API's common part: every front end's /control/NAME request
 * goes through sim_control_dispatch(), which refuses it while the
 * simulator closes, checks the path and a browser's cross-site POST,
 * reads the JSON body and walks the front end's route table. */
#include <stdio.h>
#include <string.h>

#include "bot/log.h"
#include "tests/sim/sim.h"

void sim_ctl_reply(struct sim_ctl *c, int status, cJSON *root)
{
	log_info("control %s -> %d", c->name, status);
	sim_reply_json(c->req, status, root);
}

void sim_ctl_error(struct sim_ctl *c, int status, const char *msg)
{
	cJSON *root = cJSON_CreateObject();

	if (root != NULL)
		cJSON_AddStringToObject(root, "error", msg);
	sim_ctl_reply(c, status, root);
}

const char *sim_ctl_str(const struct sim_ctl *c, const char *name, const char *def)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(c->in, name);

	return cJSON_IsString(it) ? it->valuestring : def;
}

int sim_ctl_i64(const struct sim_ctl *c, const char *name, int64_t def, int64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(c->in, name);

	if (it == NULL || cJSON_IsNull(it)) {
		*out = def;
		return 0;
	}
	return sim_json_i64(it, out);
}

void sim_control_dispatch(struct sim *core, struct http_server_req *req, const struct sim_route *routes, size_t n,
			  void *ctx)
{
	struct sim_ctl c = {.core = core, .ctx = ctx, .req = req, .name = "?"};
	char path[128];
	cJSON *in = NULL;
	size_t i;
	int post = strcmp(req->method, "POST") == 0;

	if (core->closing) {
		http_server_respond(req, 503, "text/plain", "shutting down\n", 14);
		return;
	}
	if (sim_path(req->path, path, sizeof(path)) != 0 || strncmp(path, "/control/", 9) != 0) {
		sim_ctl_error(&c, 404, "no such control");
		return;
	}
	c.name = path + 9;
	if (post) {
		if (sim_cross_site(core, req)) {
			sim_ctl_error(&c, 403, "cross-site request");
			return;
		}
		in = req->body != NULL ? cJSON_ParseWithLength(req->body, req->body_len) : cJSON_CreateObject();
		if (!cJSON_IsObject(in)) {
			sim_ctl_error(&c, 400, "the body must be a JSON object");
			goto out;
		}
	}
	c.in = in;
	for (i = 0; i < n; i++) {
		if (strcmp(c.name, routes[i].name) != 0)
			continue;
		if (post != routes[i].post || (!post && strcmp(req->method, "GET") != 0))
			sim_ctl_error(&c, 405, routes[i].post ? "use POST" : "use GET");
		else
			routes[i].fn(&c);
		goto out;
	}
	sim_ctl_error(&c, 404, "no such control");
out:
	cJSON_Delete(in);
}
