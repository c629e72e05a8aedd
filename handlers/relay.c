/* Whatever a family writes that the bot does not answer itself reaches its
 * counsellor. The family is told so, at most once an hour. */
#include <stdio.h>
#include <string.h>

#include "bot/event.h"
#include "handlers/handler.h"

#define ACK_EVERY (60 * 60)

int relay_forward(struct hctx *h, const struct family_msg *fm, const char *what)
{
	char summary[128];
	int rc, acks = 0;

	/* The alert names what arrived, never what it says: the counsellor
	 * reads the message itself through the forward. */
	snprintf(summary, sizeof(summary), "new %s from the family", what);
	if ((rc = store_alert_add(h->store, fm->family.id, fm->family.counsellor_id, "message", 0,
				  summary, h->now)) != 0)
		return rc;
	if ((rc = store_outbox_count_since(h->store, fm->family.id, "forward_ack", h->now - ACK_EVERY, &acks)) != 0)
		return rc;
	if (acks > 0)
		return 0;
	return handler_reply(h, fm, "forward_ack", "forward.ack", NULL);
}
