/* The console on the daemon's HTTP server: a request goes to
 * console_handle() with the daemon's store and clock, and its answer goes
 * back now, or later for a slowed login (a timer holds it meanwhile). */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bot/console/console.h"
#include "bot/gateways/gateway.h"
#include "bot/log.h"
#include "bot/net/http_server.h"

struct slow {
	uv_timer_t timer;                 /* first: the close callback gets it */
	struct http_server_req *req;
	struct console_response res;
	struct console_server *cs;        /* NULL once detached */
	struct slow *prev, *next;
};

struct console_server {
	struct console console;
	const struct gateway_env *env;   /* the daemon's loop, settings, store and catalogs */
	struct slow *slow;
};

static void answer(struct http_server_req *req, struct console_response *res)
{
	for (int i = 0; i < res->nheaders; i++)
		if (http_server_add_header(req, res->headers[i].name, res->headers[i].value) != 0)
			log_warn("console: header %s not sent", res->headers[i].name);
	http_server_respond(req, res->status, res->content_type, res->body, res->len);
	console_response_free(res);
}

static void slow_free(uv_handle_t *h)
{
	free(h);
}

static void slow_unlink(struct slow *s)
{
	if (s->cs == NULL)
		return;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		s->cs->slow = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->cs = NULL;
}

static void slow_due(uv_timer_t *t)
{
	struct slow *s = (struct slow *)t;

	slow_unlink(s);
	answer(s->req, &s->res);
	uv_close((uv_handle_t *)&s->timer, slow_free);
}

static void on_request(struct http_server_req *req, void *arg)
{
	struct console_server *cs = arg;
	struct console_request in;
	struct console_response res;
	struct hctx h;
	char peer[64] = "";
	struct slow *s;

	memset(&in, 0, sizeof(in));
	in.method = req->method;
	in.path = req->path;
	in.body = req->body;
	in.body_len = req->body_len;
	in.cookie = http_server_req_header(req, "cookie", NULL);
	if (http_server_req_peer(req, peer, sizeof(peer)) != 0)
		peer[0] = '\0';
	in.peer = peer;
	gateway_hctx(cs->env, &h);
	h.actor = "console";
	console_handle(&cs->console, &h, &in, &res);
	/* What a form wrote to the family goes out now. */
	if (strcmp(req->method, "POST") == 0)
		cs->env->inbound_ready(cs->env->arg);
	if (res.delay_ms == 0 || (s = calloc(1, sizeof(*s))) == NULL) {
		answer(req, &res);
		return;
	}
	s->req = req;
	s->res = res;
	s->cs = cs;
	s->next = cs->slow;
	if (cs->slow != NULL)
		cs->slow->prev = s;
	cs->slow = s;
	uv_timer_init(cs->env->loop, &s->timer);
	uv_timer_start(&s->timer, slow_due, res.delay_ms, 0);
}

struct console_server *console_attach(const struct gateway_env *env, struct http_server *srv)
{
	struct console_server *cs = calloc(1, sizeof(*cs));

	if (cs == NULL)
		return NULL;
	cs->env = env;
	console_init(&cs->console, env->cfg);
	if (http_server_route(srv, "/", on_request, cs) != 0) {
		free(cs);
		return NULL;
	}
	return cs;
}

void console_detach(struct console_server *cs)
{
	if (cs == NULL)
		return;
	while (cs->slow != NULL) {
		struct slow *s = cs->slow;

		slow_unlink(s);
		uv_timer_stop(&s->timer);
		answer(s->req, &s->res);
		uv_close((uv_handle_t *)&s->timer, slow_free);
	}
	sodium_memzero(cs->console.fail_key, sizeof(cs->console.fail_key));
	free(cs);
}
