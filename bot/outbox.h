/* The outbox (bot/outbox.c): sends due rows within the gateways' limits.
 * It is given what it uses when it is made, the daemon's environment and
 * the gateways, and never calls back into the daemon: the layers above
 * wake it, it calls down into the store and the gateways. */
#ifndef CASEBOT_OUTBOX_H
#define CASEBOT_OUTBOX_H

#include "bot/gateways/gateway.h"

struct outbox;

/* env and the gateways outlive the outbox. */
struct outbox *outbox_new(const struct gateway_env *env, struct gateway *const *gateways, int ngateways);
void outbox_kick(struct outbox *ob);          /* look for due rows soon */
int outbox_inflight(const struct outbox *ob);
void outbox_stop(struct outbox *ob);          /* no new sends; in-flight ones finish */
void outbox_close(struct outbox *ob);         /* closes its timer; freed in the close callback */

#endif
