/* Routing: a stored inbound event goes to the handler for its sender (a
 * family chat, a staff chat, or nobody known yet). One transaction covers
 * the handlers' writes and marking the event handled. */
#ifndef CASEBOT_ROUTER_H
#define CASEBOT_ROUTER_H

#include "handlers/handler.h"

/* Routes every inbound row still marked new (oldest first, at most limit).
 * direct_cb is called after commit for each neutral answer to send.
 * Returns how many rows were handled, or a negative code. */
typedef void (*router_direct_cb)(const char *channel, const char *address, const char *text, void *arg);
int router_run(struct hctx *h, int limit, router_direct_cb direct_cb, void *arg);

#endif
