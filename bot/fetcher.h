/* The fetcher (bot/fetcher.c): downloads what families send, one at a
 * time, from the gateway of the chat that sent it. It is given what it
 * uses when it is made (the daemon's environment, the gateways, and the
 * outbox it wakes when a download queued a message) and never calls back
 * into the daemon. */
#ifndef CASEBOT_FETCHER_H
#define CASEBOT_FETCHER_H

#include <stddef.h>

#include "bot/gateways/gateway.h"

struct fetcher;
struct outbox;

/* env, the gateways and ob outlive the fetcher. */
struct fetcher *fetcher_new(const struct gateway_env *env, struct gateway *const *gateways, int ngateways,
			    struct outbox *ob, char *err, size_t errlen);
void fetcher_kick(struct fetcher *f);
int fetcher_busy(const struct fetcher *f);
void fetcher_stop(struct fetcher *f);
void fetcher_close(struct fetcher *f);

#endif
