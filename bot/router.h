/* Routing: a stored inbound event goes to the handler for its sender (a
 * family chat, a staff chat, or nobody known yet). One transaction covers
 * the handlers' writes and marking the event handled. */
#ifndef CASEBOT_ROUTER_H
#define CASEBOT_ROUTER_H

#include "handlers/handler.h"

/* How many attempts an event gets, and the wait between them. */
#define ROUTER_ATTEMPTS 3
#define ROUTER_RETRY_AFTER 5

struct router_stats {
	int handled;
	int retried;      /* failed, and will be tried again */
	int failed;       /* failed for good: staff and family were told */
};

/* Routes every inbound row still marked new and due (oldest first, at most
 * limit). direct_cb is called after commit for each neutral answer to
 * send. A routing that fails is tried again ROUTER_ATTEMPTS times in all;
 * then the event is marked failed, the counsellor alerted and the family
 * acknowledged. Returns how many rows were routed (or tried), or a
 * negative code; stats (may be NULL) says how it went. */
typedef void (*router_direct_cb)(const char *channel, const char *address, const char *text, void *arg);
int router_run(struct hctx *h, int limit, router_direct_cb direct_cb, void *arg, struct router_stats *stats);

#endif
