/* tgsim: the Telegram Bot API simulator the integration tests and the demo
 * talk to (see tgsim.h for the files).
 *
 *   tgsim --listen 127.0.0.1:0 --token TOKEN [--port-file PATH] [--first-update-id N]
 *         [--chat-tolerance-ms N] [--global-tolerance-ms N] [--enforce] [--strict-offset]
 *
 * The token may come from TGSIM_TOKEN instead of --token. The bound port
 * goes to PATH through a temporary name and a rename, so a reader never
 * sees half a number. SIGTERM or SIGINT answers what is held, closes the
 * server and exits 0 once uv_loop_close() succeeds. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bot/log.h"
#include "tests/sim/tgsim.h"

struct app {
	struct tgsim sim;
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	int http_closed;
};

/* ---- helpers shared by the simulator's files ------------------------- */

cJSON *tgsim_bot_json(const struct tgsim *sim)
{
	cJSON *u = cJSON_CreateObject();

	if (u == NULL)
		return NULL;
	cJSON_AddNumberToObject(u, "id", (double)sim->bot_id);
	cJSON_AddTrueToObject(u, "is_bot");
	cJSON_AddStringToObject(u, "first_name", "Casebot Sim");
	cJSON_AddStringToObject(u, "username", "casebot_sim_bot");
	return u;
}

cJSON *tgsim_chat_json(const struct sim_chat *c)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	cJSON_AddNumberToObject(o, "id", (double)c->id);
	cJSON_AddStringToObject(o, "first_name", c->first_name);
	cJSON_AddStringToObject(o, "type", "private");
	return o;
}

static void page_handle(struct http_server_req *req, void *arg)
{
	static const struct sim_page page = {
		.title = "tgsim: family phone", .chat_label = "Chat id",
		.chat_default = "1001", .colour = "#517da2",
	};

	(void)arg;
	sim_page_handle(req, &page);
}

/* ---- start and stop -------------------------------------------------- */

static void on_http_closed(void *arg)
{
	struct app *a = arg;

	a->http_closed = 1;
}

static void shutdown_all(struct app *a)
{
	if (a->sim.core.closing)
		return;
	a->sim.core.closing = 1;
	log_info("shutting down");
	tgsim_api_shutdown(&a->sim);
	sim_wait_shutdown(&a->sim.core);
	http_server_close(a->sim.core.http, on_http_closed, a);
	uv_close((uv_handle_t *)&a->sigterm, NULL);
	uv_close((uv_handle_t *)&a->sigint, NULL);
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	shutdown_all(h->data);
}

static int valid_token(const char *t)
{
	size_t n = strlen(t);

	if (n == 0 || n >= TGSIM_TOKEN_MAX)
		return 0;
	return strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_-") == n;
}

static int parse_ms(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 900)
		return -CB_EINVAL;
	*out = (int)v;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: tgsim --listen HOST:PORT --token TOKEN [--port-file PATH]\n"
	                "             [--chat-tolerance-ms N] [--global-tolerance-ms N] [--enforce] [--strict-offset]\n"
	                "             [--first-update-id N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct app a;  /* large: keep it off the stack */
	const char *listen = NULL, *port_file = NULL, *token = getenv("TGSIM_TOKEN");
	char route[TGSIM_TOKEN_MAX + 16];
	int64_t first_id = 0;
	char *end;
	int i, port, rc;

	a.sim.core.chat_tol_ms = 50;
	a.sim.core.global_tol_ms = 50;
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--enforce") == 0) {
			a.sim.core.enforce = 1;
			continue;
		}
		/* As the real server after its ids restarted below the bot's
		 * offset: that offset returns none of them. */
		if (strcmp(opt, "--strict-offset") == 0) {
			a.sim.strict_offset = 1;
			continue;
		}
		if (val == NULL)
			usage();
		i++;
		if (strcmp(opt, "--listen") == 0)
			listen = val;
		else if (strcmp(opt, "--token") == 0)
			token = val;
		else if (strcmp(opt, "--port-file") == 0)
			port_file = val;
		else if (strcmp(opt, "--first-update-id") == 0) {
			first_id = strtoll(val, &end, 10);
			if (*end != '\0' || first_id <= 0 || first_id > 2000000000)
				usage();
		}
		else if (strcmp(opt, "--chat-tolerance-ms") == 0) {
			if (parse_ms(val, &a.sim.core.chat_tol_ms) != 0)
				usage();
		} else if (strcmp(opt, "--global-tolerance-ms") == 0) {
			if (parse_ms(val, &a.sim.core.global_tol_ms) != 0)
				usage();
		} else
			usage();
	}
	if (listen == NULL || token == NULL)
		usage();
	if (!valid_token(token))
		log_fatalx("the token may hold only letters, digits, ':', '_' and '-'");
	cb_strlcpy(a.sim.token, token, sizeof(a.sim.token));
	/* A bot's id is the number before the colon of its token. */
	a.sim.bot_id = strtoll(token, NULL, 10);
	if (a.sim.bot_id <= 0)
		a.sim.bot_id = 1000000001;

	if (uv_loop_init(&a.loop) != 0)
		log_fatalx("uv_loop_init failed");
	a.sim.core.loop = &a.loop;
	if (tgsim_store_init(&a.sim) != 0 || sodium_init() < 0)
		log_fatalx("out of memory");
	/* Like a bot whose queue Telegram starts afresh, each run picks its own
	 * first update id, far from the last run's: a bot that kept its offset
	 * sees ids that are not its old ones. */
	if (first_id == 0)
		first_id = TGSIM_FIRST_UPDATE_ID + (int64_t)randombytes_uniform(800000000);
	a.sim.first_update_id = a.sim.next_update_id = first_id;
	if ((a.sim.core.http = http_server_new(&a.loop)) == NULL)
		log_fatalx("http_server_new failed");
	http_server_set_max_body(a.sim.core.http, TGSIM_BODY_MAX);
	/* The first matching prefix wins: the catch-all goes last. */
	snprintf(route, sizeof(route), "/bot%s", a.sim.token);
	rc = http_server_route(a.sim.core.http, route, tgsim_api_handle, &a.sim);
	snprintf(route, sizeof(route), "/file/bot%s", a.sim.token);
	if (rc == 0)
		rc = http_server_route(a.sim.core.http, route, tgsim_api_file, &a.sim);
	if (rc == 0)
		rc = http_server_route(a.sim.core.http, "/control", tgsim_control_handle, &a.sim);
	if (rc == 0)
		rc = http_server_route(a.sim.core.http, "/chat", page_handle, &a.sim);
	if (rc == 0)
		rc = http_server_route(a.sim.core.http, "/", tgsim_api_fallback, &a.sim);
	if (rc != 0)
		log_fatalx("routes: %s", casebot_strerror(rc));
	if ((rc = http_server_listen(a.sim.core.http, listen)) != 0)
		log_fatalx("cannot listen on %s: %s", listen, casebot_strerror(rc));
	if ((port = http_server_port(a.sim.core.http)) < 0)
		log_fatalx("no port: %s", casebot_strerror(port));
	uv_signal_init(&a.loop, &a.sigterm);
	uv_signal_init(&a.loop, &a.sigint);
	a.sigterm.data = a.sigint.data = &a;
	uv_signal_start(&a.sigterm, on_signal, SIGTERM);
	uv_signal_start(&a.sigint, on_signal, SIGINT);
	if (port_file != NULL && (rc = sim_write_port_file(port_file, port)) != 0)
		log_fatalx("cannot write the port file: %s", casebot_strerror(rc));
	log_info("listening on port %d", port);

	uv_run(&a.loop, UV_RUN_DEFAULT);

	tgsim_store_free(&a.sim);
	rc = uv_loop_close(&a.loop);
	if (rc != 0 || !a.http_closed) {
		log_error("loop did not close cleanly: %s", rc != 0 ? uv_strerror(rc) : "server open");
		return 1;
	}
	log_info("stopped");
	return 0;
}
