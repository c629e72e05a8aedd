/* The Details button of a family message. What a locked screen may show of
 * a message (its first lines) names no institution, no subject and no
 * place; what, where, for whom and which document are its details. The
 * button asks for them: the outbox renders the message again, details
 * included, and replaces it in place where the gateway can edit (no new
 * notification), or sends it as a new message where it cannot. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handler.h"

/* Whether what a family message is about is still current: an appointment
 * that has not started and is not cancelled, a request still open, a file
 * whose request the family has still to name. */
static int current(struct hctx *h, const struct outbox_msg *m)
{
	struct appointment a;
	struct doc_request r;

	if (strcmp(m->kind, "reminder") == 0)
		return store_appointment_get(h->store, m->appointment_id, &a) == 0 && a.starts_at > h->now &&
		       strcmp(a.status, "cancelled") != 0;
	if (strcmp(m->kind, "document_request") == 0 || strcmp(m->kind, "document_reminder") == 0 ||
	    strcmp(m->kind, "document_rejected") == 0)
		return store_docreq_get(h->store, m->request_id, &r) == 0 && strcmp(r.status, "open") == 0;
	return strcmp(m->kind, "document_which") == 0;
}

int details_show(struct hctx *h, const struct family_msg *fm, int64_t outbox_id)
{
	struct outbox_msg m;
	char of[24], *params = NULL;
	int rc;

	if ((rc = store_outbox_get(h->store, outbox_id, &m)) != 0)
		return rc;
	/* Only a message this very chat was sent, and has: another chat's
	 * row, or one not sent yet, shows nothing. */
	if (m.channel_id != fm->channel.id || m.staff_id != 0 ||
	    (strcmp(m.status, "sent") != 0 && strcmp(m.status, "delivered") != 0 && strcmp(m.status, "read") != 0) ||
	    !current(h, &m)) {
		store_outbox_msg_free(&m);
		return -CB_ENOENT;
	}
	store_outbox_msg_free(&m);
	snprintf(of, sizeof(of), "%lld", (long long)outbox_id);
	if ((rc = handler_params(&params, "of", of, NULL)) != 0)
		return rc;
	rc = handler_reply(h, fm, "details", "button.details", params);
	free(params);
	return rc != 0 ? rc : handler_log_in(h, fm, "button", "details", NULL);
}
