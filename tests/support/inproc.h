/* The daemon's core in the test's own process (test_contract,
 * test_dispatch, test_plan): reading and writing its store, and running
 * its loop until a condition holds. */
#ifndef CASEBOT_TEST_INPROC_H
#define CASEBOT_TEST_INPROC_H

#include <stdint.h>
#include <uv.h>

#include "bot/config.h"
#include "bot/gateways/gateway.h"
#include "bot/metrics.h"
#include "store/store.h"

struct hctx;
struct locales;
struct outbox;

/* What the daemon holds for its outbox, in the test's process: the loop,
 * settings, store, catalogs, metrics and the gateways, and the environment
 * made of them that the outbox is given. */
struct inproc_core {
	uv_loop_t loop;
	struct config cfg;
	struct store *store;
	struct locales *loc;
	struct metrics metrics;
	struct gateway *gateways[GATEWAY_MAX];
	int ngateways;
	struct gateway_env env;
	struct outbox *outbox;
};

/* c->env from c's fields. */
const struct gateway_env *inproc_env(struct inproc_core *c);
/* The outbox on c's environment and gateways, as the daemon makes it. */
struct outbox *inproc_outbox(struct inproc_core *c);
/* A handler context for this moment, as the daemon's. */
void inproc_hctx(struct inproc_core *c, struct hctx *h);

/* Loop time a condition may take before the test fails. */
#define INPROC_RUN_MAX_MS 10000

/* One integer from a query on st, -1 when it gives no row. */
long long inproc_q(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Runs sql on st; a failure fails the test. */
void inproc_exec(struct store *st, const char *sql);
/* The same with the SQL made by printf from fmt. */
void inproc_execf(struct store *st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The watchdog's callback: it only makes uv_run return. */
void inproc_wake(uv_timer_t *t);

/* Runs loop until cond holds (checked after each event) or
 * INPROC_RUN_MAX_MS of loop time passed. The watchdog only makes uv_run
 * return so the condition is seen; the daemon's own timers drive
 * everything. */
#define INPROC_RUN_UNTIL(loop, watchdog, cond) do { \
	uint64_t until_ = uv_now(loop) + INPROC_RUN_MAX_MS; \
	uv_timer_start((watchdog), inproc_wake, 5, 5); \
	while (!(cond) && uv_now(loop) < until_) \
		uv_run((loop), UV_RUN_ONCE); \
	uv_timer_stop(watchdog); \
	assert_true(cond); \
} while (0)

#endif
