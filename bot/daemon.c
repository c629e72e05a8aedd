/* casebot run. One loop: the HTTP client and server, the Telegram gateway,
 * the outbox and its scheduler timer, and the signals. SIGTERM drains:
 * polling stops, sends in flight finish (for a bounded time), everything is
 * closed, and the loop closes cleanly. */
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/calendar.h"
#include "bot/clock.h"
#include "bot/compose.h"
#include "bot/console/console.h"
#include "bot/daemon.h"
#include "bot/fetcher.h"
#include "bot/gateways/gateway.h"
#include "bot/net/http_client.h"
#include "bot/net/http_server.h"
#include "bot/log.h"
#include "bot/metrics.h"
#include "bot/outbox.h"
#include "bot/ratelimit.h"
#include "bot/router.h"
#include "bot/service.h"
#include "bot/tz.h"
#include "bot/wake.h"
#include "handlers/handler.h"
#include "locales/locale.h"
#include "store/store.h"

#define DRAIN_STEP_MS 100
#define DRAIN_MAX_MS 10000
#define READY_STORE_WAIT_MS 100 /* the longest /healthz and /readyz wait for the write lock */
#define NEUTRAL_SLOTS 1024
#define NEUTRAL_EVERY 300      /* one neutral answer per unknown chat per 5 minutes */
#define NEUTRAL_PER_SECOND 5.0 /* and at most this many for all of them, */
#define NEUTRAL_BURST 10.0     /* after a burst of ten */
#define RETENTION_EVERY_RUNS 30 /* of housekeeping, every ten seconds: five minutes */

/* When each unknown chat last got the neutral answer: kept in memory only,
 * as a hash, so nothing about strangers reaches the disk. */
static struct {
	uint64_t key;
	time_t at;
} neutral_sent[NEUTRAL_SLOTS];

struct daemon {
	uv_loop_t loop;
	struct config cfg;
	struct store *store;
	struct locales *loc;
	struct http_client *http;
	struct http_server *server;
	struct console_server *console;   /* the web console on server */
	struct calendar_server calendar;  /* one-time links to calendar files */
	/* The gateways configured, in the order of gateway_kinds: a gateway
	 * whose section is absent is not here. */
	struct gateway *gateways[GATEWAY_MAX];
	int ngateways;
	/* What the gateways, the outbox, the fetcher and the console are
	 * given: they never see the daemon. */
	struct gateway_env gateway_env;
	struct outbox *outbox;
	struct wake *wake;           /* the CLI says it wrote: the outbox looks again */
	struct fetcher *fetcher;
	struct metrics metrics;
	struct bucket neutral_bucket;    /* answers to unknown chats, all together */
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t drain_timer;      /* bounds the wait for sends in flight */
	uv_timer_t housekeeping;     /* each minute: deadline checks; hourly pruning */
	uv_timer_t route_retry;      /* the next event whose routing is tried again */
	uv_timer_t watchdog;         /* tells systemd's watchdog the loop turns */
	unsigned housekeeping_runs;
	int stopping;
	uint64_t stop_started;       /* loop ms when SIGTERM came */
	int closing_handles;
	uint64_t started_ms;         /* loop time at start */
};

static void daemon_inbound_ready(struct daemon *d);

static void daemon_hctx(struct daemon *d, struct hctx *h)
{
	gateway_hctx(&d->gateway_env, h);
}

static void send_neutral(const char *channel, const char *address, const char *text, void *arg)
{
	struct daemon *d = arg;
	unsigned char hash[8];
	uint64_t key;
	size_t slot;
	time_t now = time(NULL);

	struct gateway *gw = gateway_find(d->gateways, d->ngateways, channel);

	if (gw == NULL || gw->ops->send_direct == NULL)
		return;
	crypto_generichash(hash, sizeof(hash), (const unsigned char *)address, strlen(address), NULL, 0);
	memcpy(&key, hash, sizeof(key));
	slot = (size_t)(key % NEUTRAL_SLOTS);
	if (neutral_sent[slot].key == key && now - neutral_sent[slot].at < NEUTRAL_EVERY)
		return;
	/* Many strangers at once must not use up the bot's sending limit. */
	if (bucket_wait(&d->neutral_bucket, uv_now(&d->loop)) > 0)
		return;
	bucket_take(&d->neutral_bucket, uv_now(&d->loop));
	neutral_sent[slot].key = key;
	neutral_sent[slot].at = now;
	gw->ops->send_direct(gw, address, text);
}

static void inbound_ready(void *arg)
{
	daemon_inbound_ready(arg);
}


static void route_retry_due(uv_timer_t *t)
{
	daemon_inbound_ready(t->data);
}

/* An event whose routing failed (a busy database) waits for its retry_at;
 * this timer comes back for it, whether or not anything else arrives. */
static void arm_route_retry(struct daemon *d)
{
	time_t at, now = time(NULL);

	if (d->stopping || store_inbound_next_retry(d->store, &at) != 0) {
		uv_timer_stop(&d->route_retry);
		return;
	}
	/* Whatever is due now was just tried: the next look is a second
	 * away at the earliest. */
	uv_timer_start(&d->route_retry, route_retry_due, at > now + 1 ? (uint64_t)(at - now) * 1000 : 1000, 0);
}

/* Routes what is stored and not yet routed; the number of events routed. */
static int route_pending(struct daemon *d)
{
	struct router_stats rs;
	struct hctx h;
	int n, routed = 0;

	do {
		daemon_hctx(d, &h);
		n = router_run(&h, 100, send_neutral, d, &rs);
		if (n > 0) {
			d->metrics.inbound_failures += (uint64_t)(rs.retried + rs.failed);
			d->metrics.inbound_failed += (uint64_t)rs.failed;
		}
		if (n < 0) {
			/* Whatever the run had routed was not kept: it failed too. */
			d->metrics.inbound_failures++;
			log_error("routing stopped: %s (%s)", casebot_strerror(n), store_errmsg(d->store));
		}
		if (n > 0)
			routed += n;
	} while (n > 0);
	arm_route_retry(d);
	return routed;
}

/* What routing queued is sent, and what it stored is fetched. */
static void kick(struct daemon *d)
{
	if (d->outbox != NULL)
		outbox_kick(d->outbox);
	if (d->fetcher != NULL)
		fetcher_kick(d->fetcher);
}

static void daemon_inbound_ready(struct daemon *d)
{
	route_pending(d);
	kick(d);
}

static void on_wake(void *arg)
{
	struct daemon *d = arg;

	if (d->outbox != NULL)
		outbox_kick(d->outbox);
}

/* The store is writable when a write transaction can start soon: the
 * check runs on the loop, so it waits READY_STORE_WAIT_MS for another
 * connection's write lock, not the store's usual five seconds. */
static int store_ok(struct daemon *d, const char **why)
{
	int rc = store_writable(d->store, READY_STORE_WAIT_MS);

	*why = rc == -CB_ESTATE ? "another connection holds the write lock" : "cannot start a write";
	return rc == 0;
}

/* Liveness, for a person or a script: JSON with each part's state. */
static void healthz(struct http_server_req *req, void *arg)
{
	struct daemon *d = arg;
	char body[256 + GATEWAY_MAX * 64], each[GATEWAY_MAX * 64], why[256];
	const char *store_why;
	int store_up = store_ok(d, &store_why), gw_ok = 1, n, len = 0;
	double since = -1;

	/* Each gateway is ok, or unreachable when it should have been heard
	 * from and was not, or kept failing; "gateway" is ok when all of
	 * them are, and the contact time is the longest silence among those
	 * expected to speak. */
	each[0] = '\0';
	for (int i = 0; i < d->ngateways; i++) {
		const struct gateway *gw = d->gateways[i];
		uint64_t now = uv_now(&d->loop), last = gw->last_ok_ms;
		double s = last > 0 ? (double)(now - last) / 1000.0 : -1;
		int ok = gateway_ready(gw, now, d->started_ms, why, sizeof(why));

		if (!gw->caps.quiet_ok && s > since)
			since = s;
		gw_ok = gw_ok && ok;
		len += snprintf(each + len, sizeof(each) - (size_t)len, "%s\"%s\":\"%s\"", i > 0 ? "," : "",
				gw->ops->name, ok ? "ok" : "unreachable");
		if (len >= (int)sizeof(each))
			len = (int)sizeof(each) - 1;
	}
	n = snprintf(body, sizeof(body),
		     "{\"store\":\"%s\",\"gateway\":\"%s\",\"last_gateway_contact_seconds\":%.0f,"
		     "\"gateways\":{%s}}\n",
		     store_up ? "ok" : "failing", gw_ok ? "ok" : "unreachable", since, each);
	if (n >= (int)sizeof(body))
		n = (int)sizeof(body) - 1;
	http_server_respond(req, store_up && gw_ok ? 200 : 503, "application/json", body, (size_t)n);
}

/* Readiness: 200 "ready" when the store takes writes and every gateway
 * answered recently (gateway_ready); else 503 with one line per reason. */
static void readyz(struct http_server_req *req, void *arg)
{
	struct daemon *d = arg;
	char body[128 + GATEWAY_MAX * 256];
	const char *store_why;
	size_t len = 0;

	if (!store_ok(d, &store_why))
		len += (size_t)snprintf(body, sizeof(body), "store: not writable (%s)\n", store_why);
	for (int i = 0; i < d->ngateways; i++) {
		char why[256];

		if (gateway_ready(d->gateways[i], uv_now(&d->loop), d->started_ms, why, sizeof(why)))
			continue;
		len += (size_t)snprintf(body + len, sizeof(body) - len, "%s\n", why);
		if (len >= sizeof(body))
			len = sizeof(body) - 1;
	}
	if (len == 0) {
		http_server_respond(req, 200, "text/plain", "ready\n", 6);
		return;
	}
	http_server_respond(req, 503, "text/plain", body, len);
}

static void metrics(struct http_server_req *req, void *arg)
{
	struct daemon *d = arg;
	char *body = malloc(64 * 1024);
	int64_t depth = 0;
	time_t oldest = 0, now = time(NULL);
	size_t len = 0;

	if (body == NULL) {
		http_server_respond(req, 503, "text/plain", "busy\n", 5);
		return;
	}
	store_outbox_depth(d->store, now, &depth, &oldest);
	metrics_render(&d->metrics, depth, depth > 0 && oldest > 0 ? (double)(now - oldest) : 0.0,
		       body, 64 * 1024, &len);
	http_server_respond(req, 200, "text/plain; version=0.0.4", body, len);
	free(body);
}

/* Every ten seconds: the deadline checks. At start and then every five
 * minutes: retention (handlers/retention.c), which also drops handled
 * inbound rows after six days; long enough to drop a re-delivered update,
 * short enough that Telegram's random ids after a quiet week meet no old
 * one. */
static void housekeeping(uv_timer_t *t)
{
	struct daemon *d = t->data;
	struct retention_counts rc;
	struct hctx h;

	daemon_hctx(d, &h);
	if (deadlines_run(&h) != 0)
		log_warn("deadline checks failed: %s", store_errmsg(d->store));
	if (d->housekeeping_runs++ % RETENTION_EVERY_RUNS == 0) {
		if (retention_run(&h, &rc) != 0)
			log_warn("retention failed: %s", store_errmsg(d->store));
		else if (rc.contacts + rc.messages + rc.alerts + rc.inbound + rc.audit + rc.families > 0)
			log_info("retention: %d contact(s), %d message(s), %d alert(s), %d inbound, %d audit row(s), "
				 "%d closed famil%s erased", rc.contacts, rc.messages, rc.alerts, rc.inbound, rc.audit,
				 rc.families, rc.families == 1 ? "y" : "ies");
	}
	/* Events whose routing failed are due again. The outbox looks only
	 * when something was routed or queued: an idle daemon does nothing
	 * more here. */
	if (route_pending(d) > 0 || store_outbox_changed_since(d->store))
		kick(d);
}

static void closed_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

static void finish_close(struct daemon *d)
{
	if (d->closing_handles)
		return;
	d->closing_handles = 1;
	http_client_close(d->http, NULL, NULL);
	d->http = NULL;
	wake_close(d->wake);
	d->wake = NULL;
	if (d->outbox != NULL)
		outbox_close(d->outbox);
	d->outbox = NULL;
	if (d->fetcher != NULL)
		fetcher_close(d->fetcher);
	d->fetcher = NULL;
	for (int i = 0; i < d->ngateways; i++)
		d->gateways[i]->ops->free(d->gateways[i]);
	d->ngateways = 0;
	console_detach(d->console);
	d->console = NULL;
	if (d->server != NULL)
		http_server_close(d->server, NULL, NULL);
	d->server = NULL;
	uv_close((uv_handle_t *)&d->sig_term, NULL);
	uv_close((uv_handle_t *)&d->sig_int, NULL);
	uv_close((uv_handle_t *)&d->sig_hup, NULL);
	uv_close((uv_handle_t *)&d->drain_timer, NULL);
	uv_close((uv_handle_t *)&d->housekeeping, NULL);
	uv_close((uv_handle_t *)&d->route_retry, NULL);
	uv_close((uv_handle_t *)&d->watchdog, NULL);
}

static void drain_step(uv_timer_t *t)
{
	struct daemon *d = t->data;
	int busy = (d->outbox != NULL ? outbox_inflight(d->outbox) : 0) +
		   (d->fetcher != NULL ? fetcher_busy(d->fetcher) : 0);
	uint64_t waited = uv_now(&d->loop) - d->stop_started;

	for (int i = 0; i < d->ngateways; i++)
		busy += d->gateways[i]->ops->busy(d->gateways[i]);
	if (busy == 0 || waited >= DRAIN_MAX_MS) {
		if (busy > 0)
			log_warn("stopping with %d request(s) unfinished; they will be retried", busy);
		finish_close(d);
		return;
	}
	uv_timer_start(&d->drain_timer, drain_step, DRAIN_STEP_MS, 0);
}

static void on_stop_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (d->stopping)
		return;
	log_info("signal %d: stopping; letting sends in flight finish", signum);
	service_stopping();
	d->stopping = 1;
	d->stop_started = uv_now(&d->loop);
	for (int i = 0; i < d->ngateways; i++)
		d->gateways[i]->ops->stop(d->gateways[i]);
	if (d->outbox != NULL)
		outbox_stop(d->outbox);
	if (d->fetcher != NULL)
		fetcher_stop(d->fetcher);
	uv_timer_start(&d->drain_timer, drain_step, 0, 0);
}

static void restart_needed(const char *section, const char *key, void *arg)
{
	(void)arg;
	log_warn("reload: [%s] %s changed; it takes effect after a restart", section, key);
}

/* New catalogs and the settings that can change under a running daemon
 * (config_reload); each other setting changed in the file is named. A bad
 * file keeps the old ones. */
static void reload(struct daemon *d)
{
	struct locales *loc = NULL;
	struct config cfg;
	char err[512];

	if (config_load(&cfg, d->cfg.path[0] != '\0' ? d->cfg.path : NULL, err, sizeof(err)) != 0) {
		log_error("reload refused: %s", err);
		return;
	}
	if (locale_load(cfg.locales_dir, &loc, err, sizeof(err)) != 0) {
		log_error("reload refused: %s", err);
		return;
	}
	if (compose_check_previews(loc, err, sizeof(err)) != 0) {
		log_error("reload refused: %s/%s", cfg.locales_dir, err);
		locale_free(loc);
		return;
	}
	locale_free(d->loc);
	d->loc = loc;
	config_reload(&d->cfg, &cfg, restart_needed, NULL);
	log_info("reloaded catalogs and settings");
	if (d->outbox != NULL)
		outbox_kick(d->outbox);
}

/* SIGHUP: systemd waits between RELOADING=1 and READY=1, refused or not. */
static void on_hup(uv_signal_t *s, int signum)
{
	(void)signum;
	service_reloading();
	reload(s->data);
	service_ready();
}

/* The certificate and key, each a path or a credential. */
static int start_tls(struct daemon *d)
{
	char cert[CONFIG_PATH_MAX], key[CONFIG_PATH_MAX], err[512];
	int rc;

	if ((rc = config_file_path(d->cfg.http_tls_cert, cert, sizeof(cert))) != 0 ||
	    (rc = config_file_path(d->cfg.http_tls_key, key, sizeof(key))) != 0) {
		log_error("[http] tls_cert or tls_key: %s", config_file_error(rc));
		return -CB_ECONFIG;
	}
	if (http_server_set_tls(d->server, cert, key, err, sizeof(err)) != 0) {
		log_error("[http] %s", err);
		return -CB_ECONFIG;
	}
	return 0;
}

static int start(struct daemon *d)
{
	char err[512];

	if (locale_load(d->cfg.locales_dir, &d->loc, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -CB_ECONFIG;
	}
	if (compose_check_previews(d->loc, err, sizeof(err)) != 0) {
		log_error("%s/%s", d->cfg.locales_dir, err);
		return -CB_ECONFIG;
	}
	if (store_open(d->cfg.data_dir, 0, &d->store, err, sizeof(err)) != 0) {
		log_error("%s", err);
		return -CB_ECONFIG;
	}
	d->http = http_client_new(&d->loop);
	d->server = http_server_new(&d->loop);
	if (d->http == NULL || d->server == NULL) {
		log_error("cannot start the HTTP client or server");
		return -CB_ENOMEM;
	}
	d->gateway_env = (struct gateway_env){&d->loop, &d->cfg, d->store, &d->loc, &d->metrics,
					      d->http, d->server, inbound_ready, d};
	d->calendar = (struct calendar_server){d->store, &d->loc, &d->cfg};
	if (http_server_route(d->server, "/healthz", healthz, d) != 0 ||
	    http_server_route(d->server, "/readyz", readyz, d) != 0 ||
	    http_server_route(d->server, "/metrics", metrics, d) != 0 || calendar_route(d->server, &d->calendar) != 0)
		return -CB_ENOMEM;
	for (size_t i = 0; i < gateway_nkinds && d->ngateways < GATEWAY_MAX; i++) {
		struct gateway *gw;

		err[0] = '\0';
		gw = gateway_kinds[i].create(&d->gateway_env, err, sizeof(err));
		if (gw == NULL && err[0] != '\0') {
			log_error("%s", err);
			return -CB_ECONFIG;
		}
		if (gw == NULL)
			continue;
		d->gateways[d->ngateways++] = gw;
		metrics_poll_gateway(&d->metrics, gw->ops->name);
		if (gw->ops->start(gw) != 0) {
			log_error("cannot start the %s gateway", gateway_kinds[i].name);
			return -CB_ECONFIG;
		}
		log_info("gateway %s started", gateway_kinds[i].name);
	}
	if (d->ngateways == 0) {
		log_error("no gateway is configured");
		return -CB_ECONFIG;
	}
	/* Last: "/" would take every path routed after it. */
	if ((d->console = console_attach(&d->gateway_env, d->server)) == NULL)
		return -CB_ENOMEM;
	if (d->cfg.http_tls_cert[0] != '\0' && start_tls(d) != 0)
		return -CB_ECONFIG;
	if (http_server_listen(d->server, d->cfg.http_listen) != 0) {
		log_error("[http] listen %s: cannot listen there", d->cfg.http_listen);
		return -CB_ECONFIG;
	}
	/* Listening first: a CLI write from here on finds the outbox's first
	 * look at its queue or wakes it. */
	d->wake = wake_listen(&d->loop, d->cfg.data_dir, on_wake, d);
	d->outbox = outbox_new(&d->gateway_env, d->gateways, d->ngateways);
	if (d->outbox == NULL)
		return -CB_ENOMEM;
	d->fetcher = fetcher_new(&d->gateway_env, d->gateways, d->ngateways, d->outbox, err, sizeof(err));
	if (d->fetcher == NULL) {
		log_error("%s", err);
		return -CB_ECONFIG;
	}
	log_info("casebot %s running: %d gateway(s), http %s (port %d), zone %s", CASEBOT_VERSION,
		 d->ngateways, d->cfg.http_listen, http_server_port(d->server), tz_name());
	/* Events stored before a crash and not yet routed go first. */
	daemon_inbound_ready(d);
	return 0;
}

int daemon_run(const struct config *cfg)
{
	struct daemon *d = calloc(1, sizeof(*d));
	int rc, closed;

	if (d == NULL)
		return 1;
	if (sodium_init() < 0) {
		free(d);
		return 1;
	}
	d->cfg = *cfg;
	uv_loop_init(&d->loop);
	d->started_ms = uv_now(&d->loop);
	bucket_init(&d->neutral_bucket, NEUTRAL_PER_SECOND, NEUTRAL_BURST, uv_now(&d->loop));
	uv_signal_init(&d->loop, &d->sig_term);
	uv_signal_init(&d->loop, &d->sig_int);
	uv_signal_init(&d->loop, &d->sig_hup);
	uv_timer_init(&d->loop, &d->drain_timer);
	uv_timer_init(&d->loop, &d->housekeeping);
	uv_timer_init(&d->loop, &d->route_retry);
	uv_timer_init(&d->loop, &d->watchdog);
	d->route_retry.data = d;
	d->sig_term.data = d->sig_int.data = d->sig_hup.data = d->drain_timer.data = d;
	d->housekeeping.data = d;
	uv_signal_start(&d->sig_term, on_stop_signal, SIGTERM);
	uv_signal_start(&d->sig_int, on_stop_signal, SIGINT);
	uv_signal_start(&d->sig_hup, on_hup, SIGHUP);
	rc = start(d);
	if (rc != 0)
		finish_close(d);
	else {
		uv_timer_start(&d->housekeeping, housekeeping, 1000, 10 * 1000);
		/* Listening, the gateways started: systemd may start what needs us. */
		service_ready();
		service_watchdog_start(&d->watchdog);
	}
	uv_run(&d->loop, UV_RUN_DEFAULT);
	/* Anything a failed start left open is closed here. */
	uv_walk(&d->loop, closed_walk, NULL);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	closed = uv_loop_close(&d->loop);
	if (closed != 0)
		log_error("the event loop did not close cleanly: %s", uv_strerror(closed));
	store_close(d->store);
	locale_free(d->loc);
	free(d);
	if (rc != 0)
		return 1;
	log_info("stopped");
	return closed == 0 ? 0 : 1;
}
