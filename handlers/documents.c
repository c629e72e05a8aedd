/* Document requests. */
#include <stdio.h>
#include <string.h>

#include "handlers/handler.h"

static int queue(struct hctx *h, const struct doc_request *r, const char *kind,
		 const char *key, time_t at)
{
	struct outbox_msg m;

	memset(&m, 0, sizeof(m));
	m.family_id = r->family_id;
	m.member_id = r->member_id;
	m.request_id = r->id;
	cb_strlcpy(m.kind, kind, sizeof(m.kind));
	cb_strlcpy(m.catalog_key, key, sizeof(m.catalog_key));
	snprintf(m.params, sizeof(m.params), "{\"request_id\":%lld}", (long long)r->id);
	m.not_before = at;
	return store_outbox_add(h->store, &m, h->now);
}

int documents_request(struct hctx *h, struct doc_request *r)
{
	int rc;

	if ((rc = store_docreq_add(h->store, r, h->now)) != 0)
		return rc;
	if ((rc = queue(h, r, "document_request", "document.request", h->now)) != 0)
		return rc;
	/* The first reminder; each one sent while the request is open queues
	 * the next. */
	return queue(h, r, "document_reminder", "document.reminder",
		     h->now + (time_t)h->cfg->document_reminder_days * 86400);
}
