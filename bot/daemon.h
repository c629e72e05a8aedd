/* casebot run: one libuv loop carrying the gateways, the outbox, the
 * scheduler and the HTTP server. */
#ifndef CASEBOT_DAEMON_H
#define CASEBOT_DAEMON_H

#include <stdint.h>
#include <uv.h>

#include "bot/config.h"
#include "bot/gateways/gateway.h"
#include "bot/metrics.h"
#include "bot/ratelimit.h"
#include "handlers/handler.h"
#include "store/store.h"

struct locales;
struct http_client;
struct http_server;
struct gateway;
struct outbox;
struct fetcher;

struct daemon {
	uv_loop_t loop;
	struct config cfg;
	struct store *store;
	struct locales *loc;
	struct http_client *http;
	struct http_server *server;
	struct console_server *console;   /* the web console on server */
	/* The gateways configured, in the order of gateway_kinds: a gateway
	 * whose section is absent is not here. */
	struct gateway *gateways[GATEWAY_MAX];
	int ngateways;
	struct gateway_env gateway_env;   /* what the gateways are given */
	struct outbox *outbox;
	struct fetcher *fetcher;
	struct metrics metrics;
	struct bucket neutral_bucket;    /* answers to unknown chats, all together */
	uv_signal_t sig_term, sig_int, sig_hup;
	uv_timer_t drain_timer;      /* bounds the wait for sends in flight */
	uv_timer_t housekeeping;     /* each minute: deadline checks; hourly pruning */
	uv_timer_t route_retry;      /* the next event whose routing is tried again */
	unsigned housekeeping_runs;
	int stopping;
	uint64_t stop_started;       /* loop ms when SIGTERM came */
	int closing_handles;
	time_t started_at;
};

/* The gateway of a channel kind; NULL when none is configured. */
struct gateway *daemon_gateway(const struct daemon *d, const char *kind);

/* A handler context for the current moment. */
void daemon_hctx(struct daemon *d, struct hctx *h);

/* Routes the inbound rows a gateway has just committed, sends the neutral
 * answers, and wakes the outbox. */
void daemon_inbound_ready(struct daemon *d);

/* Runs the daemon until SIGTERM/SIGINT; returns the exit code. */
int daemon_run(const struct config *cfg);

/* The outbox (bot/outbox.c): sends due rows within the gateways' limits. */
struct outbox *outbox_new(struct daemon *d);
void outbox_kick(struct outbox *ob);          /* look for due rows soon */
int outbox_inflight(const struct outbox *ob);
void outbox_stop(struct outbox *ob);          /* no new sends; in-flight ones finish */
void outbox_close(struct outbox *ob);         /* closes its timer; freed in the close callback */

/* The fetcher (bot/fetcher.c): downloads what families send, one at a time. */
struct fetcher *fetcher_new(struct daemon *d, char *err, size_t errlen);
void fetcher_kick(struct fetcher *f);
int fetcher_busy(const struct fetcher *f);
void fetcher_stop(struct fetcher *f);
void fetcher_close(struct fetcher *f);

/* The scheduler's arithmetic (bot/scheduler.c). */
/* When a non-urgent message due at t may go: t itself, or the end of the
 * quiet hours that t falls in. */
time_t scheduler_after_quiet(const struct config *cfg, time_t t);
/* Backoff after the n-th failed attempt, with jitter: seconds, never more
 * than SCHEDULER_BACKOFF_MAX. */
#define SCHEDULER_BACKOFF_MAX 600
int scheduler_backoff(int attempts);

#endif
