/* wasim: the WhatsApp Cloud API simulator the integration tests and the
 * demo talk to (see wasim.h for the files).
 *
 *   wasim --listen 127.0.0.1:0 --token TOKEN --app-secret SECRET
 *         [--phone-number-id ID] [--display-number DIGITS] [--port-file PATH]
 *         [--webhook URL] [--verify-token T] [--enforce]
 *         [--template NAME:LANG:PARAMS[:CATEGORY]]...
 *         [--pair-gap-ms N] [--mps N] [--chat-tolerance-ms N] [--global-tolerance-ms N]
 *         [--retry-base-ms N] [--max-attempts N]
 *         [--status-order shuffle|forward|reverse] [--status-dup-percent N]
 *         [--status-delay-ms N] [--no-read-receipts]
 *
 * The token and the secret may come from WASIM_TOKEN and WASIM_APP_SECRET
 * instead. The Graph API is served under /{version}/{phone_number_id}/...
 * (any version, v23.0 say): api_base is http://127.0.0.1:PORT/v23.0.
 * The phone number id defaults to 106540352242922. Webhooks go to
 * --webhook (none without it). Defaults: the pair rate one message per
 * 6000 ms to a user, 80 messages a second, retries after 200 ms doubling
 * for 8 attempts, statuses shuffled, 20% of them twice, 20 ms apart, and
 * a read status after delivered. The 24-hour window, templates and
 * unreachable numbers are always enforced; the two rates are counted
 * always and refused (131056, 130429) only with --enforce.
 *
 * The bound port goes to PATH through a temporary name and a rename.
 * SIGTERM or SIGINT answers what is held, closes the server and the
 * webhook client and exits 0 once uv_loop_close() succeeds. */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/log.h"
#include "tests/sim/wasim.h"

struct app {
	struct wasim w;
	uv_loop_t loop;
	uv_signal_t sigterm, sigint;
	int http_closed, hooks_closed;
};

struct wasim_template *wasim_template_find(struct wasim *w, const char *name, const char *lang)
{
	size_t i;

	for (i = 0; i < w->ntemplates; i++)
		if (strcmp(w->templates[i].name, name) == 0 && strcmp(w->templates[i].lang, lang) == 0)
			return &w->templates[i];
	return NULL;
}

int wasim_template_add(struct wasim *w, const char *name, const char *lang, int params,
                       const char *category)
{
	struct wasim_template *t = wasim_template_find(w, name, lang);

	if (name[0] == '\0' || strlen(name) >= sizeof(t->name) || lang[0] == '\0' ||
	    strlen(lang) >= sizeof(t->lang) || strlen(category) >= sizeof(t->category) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name))
		return -CB_EINVAL;
	if (t == NULL) {
		if (w->ntemplates >= WASIM_MAX_TEMPLATES)
			return -CB_ETOOBIG;
		t = &w->templates[w->ntemplates++];
	}
	cb_strlcpy(t->name, name, sizeof(t->name));
	cb_strlcpy(t->lang, lang, sizeof(t->lang));
	cb_strlcpy(t->category, category, sizeof(t->category));
	t->params = params;
	return 0;
}

static void page_handle(struct http_server_req *req, void *arg)
{
	static const struct sim_page page = {
		.title = "wasim: family phone", .chat_label = "Phone (wa_id)",
		.chat_default = "32470001001", .colour = "#075e54",
	};

	(void)arg;
	sim_page_handle(req, &page);
}

static void on_closed(struct app *a)
{
	if (a->http_closed && a->hooks_closed) {
		uv_close((uv_handle_t *)&a->sigterm, NULL);
		uv_close((uv_handle_t *)&a->sigint, NULL);
	}
}

static void on_http_closed(void *arg)
{
	struct app *a = arg;

	a->http_closed = 1;
	on_closed(a);
}

static void on_hooks_closed(void *arg)
{
	struct app *a = arg;

	a->hooks_closed = 1;
	on_closed(a);
}

static void shutdown_all(struct app *a)
{
	if (a->w.core.closing)
		return;
	a->w.core.closing = 1;
	log_info("shutting down");
	sim_wait_shutdown(&a->w.core);
	wasim_hook_close(&a->w, on_hooks_closed, a);
	http_server_close(a->w.core.http, on_http_closed, a);
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)signum;
	shutdown_all(h->data);
}

static int parse_int(const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < min || v > max)
		return -CB_EINVAL;
	*out = (int)v;
	return 0;
}

static int valid_secret(const char *t, size_t cap)
{
	size_t n = strlen(t);

	return n > 0 && n < cap &&
	       strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789:_-.") == n;
}

/* NAME:LANG:PARAMS[:CATEGORY] */
static int parse_template(struct wasim *w, const char *spec)
{
	char buf[WASIM_TEMPLATE_NAME_MAX + 64], *save = NULL, *name, *lang, *params, *cat;
	int n;

	if (cb_strlcpy(buf, spec, sizeof(buf)) != 0)
		return -CB_EINVAL;
	name = strtok_r(buf, ":", &save);
	lang = strtok_r(NULL, ":", &save);
	params = strtok_r(NULL, ":", &save);
	cat = strtok_r(NULL, ":", &save);
	if (name == NULL || lang == NULL || params == NULL || parse_int(params, 0, 100, &n) != 0)
		return -CB_EINVAL;
	return wasim_template_add(w, name, lang, n, cat != NULL ? cat : "utility");
}

static void usage(void)
{
	fprintf(stderr,
	        "usage: wasim --listen HOST:PORT --token TOKEN --app-secret SECRET [--port-file PATH]\n"
	        "             [--phone-number-id ID] [--display-number DIGITS] [--webhook URL]\n"
	        "             [--verify-token T] [--enforce] [--template NAME:LANG:PARAMS[:CATEGORY]]...\n"
	        "             [--pair-gap-ms N] [--mps N] [--chat-tolerance-ms N] [--global-tolerance-ms N]\n"
	        "             [--retry-base-ms N] [--max-attempts N] [--status-order shuffle|forward|reverse]\n"
	        "             [--status-dup-percent N] [--status-delay-ms N] [--no-read-receipts]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct app a;  /* large: keep it off the stack */
	struct wasim *w = &a.w;
	const char *listen = NULL, *port_file = NULL;
	const char *token = getenv("WASIM_TOKEN"), *secret = getenv("WASIM_APP_SECRET");
	const char *pnid = "106540352242922", *display = "15550783881", *webhook = NULL;
	const char *verify = "wasim-verify";
	int i, port, rc;

	w->core.chat_gap_ms = WASIM_PAIR_GAP_MS;
	w->core.global_per_sec = WASIM_MPS_DEFAULT;
	w->core.chat_tol_ms = 50;
	w->core.global_tol_ms = 50;
	w->retry_base_ms = 200;
	w->max_attempts = 8;
	w->status_delay_ms = 20;
	w->dup_percent = 20;
	w->order = ORDER_SHUFFLE;
	w->read_receipts = 1;
	for (i = 1; i < argc; i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(opt, "--enforce") == 0) {
			w->core.enforce = 1;
			continue;
		}
		if (strcmp(opt, "--no-read-receipts") == 0) {
			w->read_receipts = 0;
			continue;
		}
		if (val == NULL)
			usage();
		i++;
		if (strcmp(opt, "--listen") == 0)
			listen = val;
		else if (strcmp(opt, "--token") == 0)
			token = val;
		else if (strcmp(opt, "--app-secret") == 0)
			secret = val;
		else if (strcmp(opt, "--port-file") == 0)
			port_file = val;
		else if (strcmp(opt, "--phone-number-id") == 0)
			pnid = val;
		else if (strcmp(opt, "--display-number") == 0)
			display = val;
		else if (strcmp(opt, "--webhook") == 0)
			webhook = val;
		else if (strcmp(opt, "--verify-token") == 0)
			verify = val;
		else if (strcmp(opt, "--template") == 0) {
			if (parse_template(w, val) != 0)
				usage();
		} else if (strcmp(opt, "--pair-gap-ms") == 0) {
			if (parse_int(val, 1, 3600000, &w->core.chat_gap_ms) != 0)
				usage();
		} else if (strcmp(opt, "--mps") == 0) {
			if (parse_int(val, 1, SIM_GLOBAL_MAX, &w->core.global_per_sec) != 0)
				usage();
		} else if (strcmp(opt, "--chat-tolerance-ms") == 0) {
			if (parse_int(val, 0, 900, &w->core.chat_tol_ms) != 0)
				usage();
		} else if (strcmp(opt, "--global-tolerance-ms") == 0) {
			if (parse_int(val, 0, 900, &w->core.global_tol_ms) != 0)
				usage();
		} else if (strcmp(opt, "--retry-base-ms") == 0) {
			if (parse_int(val, 1, 3600000, &w->retry_base_ms) != 0)
				usage();
		} else if (strcmp(opt, "--max-attempts") == 0) {
			if (parse_int(val, 1, 1000, &w->max_attempts) != 0)
				usage();
		} else if (strcmp(opt, "--status-dup-percent") == 0) {
			if (parse_int(val, 0, 100, &w->dup_percent) != 0)
				usage();
		} else if (strcmp(opt, "--status-delay-ms") == 0) {
			if (parse_int(val, 0, 60000, &w->status_delay_ms) != 0)
				usage();
		} else if (strcmp(opt, "--status-order") == 0) {
			if (strcmp(val, "shuffle") == 0)
				w->order = ORDER_SHUFFLE;
			else if (strcmp(val, "forward") == 0)
				w->order = ORDER_FORWARD;
			else if (strcmp(val, "reverse") == 0)
				w->order = ORDER_REVERSE;
			else
				usage();
		} else
			usage();
	}
	if (listen == NULL || token == NULL || secret == NULL)
		usage();
	if (!valid_secret(token, sizeof(w->token)) || !valid_secret(secret, sizeof(w->app_secret)))
		log_fatalx("the token and the app secret may hold only letters, digits and ':_-.'");
	if (strspn(pnid, "0123456789") != strlen(pnid) || pnid[0] == '\0' ||
	    strlen(pnid) >= sizeof(w->phone_number_id) ||
	    strspn(display, "0123456789") != strlen(display) || display[0] == '\0' ||
	    strlen(display) >= sizeof(w->display_number))
		log_fatalx("the phone number id and the display number are digits");
	if (webhook != NULL && (cb_strlcpy(w->webhook, webhook, sizeof(w->webhook)) != 0 ||
	                        (strncmp(webhook, "http://", 7) != 0 && strncmp(webhook, "https://", 8) != 0)))
		log_fatalx("the webhook must be an http:// or https:// URL");
	if (cb_strlcpy(w->verify_token, verify, sizeof(w->verify_token)) != 0)
		log_fatalx("the verify token is too long");
	cb_strlcpy(w->token, token, sizeof(w->token));
	cb_strlcpy(w->app_secret, secret, sizeof(w->app_secret));
	cb_strlcpy(w->phone_number_id, pnid, sizeof(w->phone_number_id));
	cb_strlcpy(w->display_number, display, sizeof(w->display_number));
	cb_strlcpy(w->waba_id, "102290129340398", sizeof(w->waba_id));

	signal(SIGPIPE, SIG_IGN);
	if (uv_loop_init(&a.loop) != 0)
		log_fatalx("uv_loop_init failed");
	w->core.loop = &a.loop;
	w->core.wait_count = wasim_wait_count;
	if (sodium_init() < 0 || sim_store_init(&w->core) != 0 || wasim_hook_init(w) != 0)
		log_fatalx("out of memory");
	randombytes_buf(w->url_key, sizeof(w->url_key));
	if ((w->core.http = http_server_new(&a.loop)) == NULL)
		log_fatalx("http_server_new failed");
	http_server_set_max_body(w->core.http, WASIM_BODY_MAX);
	/* The first matching prefix wins: the Graph API takes the rest. */
	rc = http_server_route(w->core.http, "/control", wasim_control_handle, w);
	if (rc == 0)
		rc = http_server_route(w->core.http, "/chat", page_handle, w);
	if (rc == 0)
		rc = http_server_route(w->core.http, "/whatsapp_business/attachments", wasim_api_download, w);
	if (rc == 0)
		rc = http_server_route(w->core.http, "/", wasim_api_handle, w);
	if (rc != 0)
		log_fatalx("routes: %s", casebot_strerror(rc));
	if ((rc = http_server_listen(w->core.http, listen)) != 0)
		log_fatalx("cannot listen on %s: %s", listen, casebot_strerror(rc));
	if ((port = http_server_port(w->core.http)) < 0)
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

	sim_store_free(&w->core);
	rc = uv_loop_close(&a.loop);
	if (rc != 0 || !a.http_closed || !a.hooks_closed) {
		log_error("loop did not close cleanly: %s", rc != 0 ? uv_strerror(rc) : "server open");
		return 1;
	}
	log_info("stopped");
	return 0;
}
