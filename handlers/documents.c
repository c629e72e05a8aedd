/* Document requests. */
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/vault.h"
#include "handlers/handler.h"

/* channel_id 0: every chat of the family (or the member's own). */
static int queue_on(struct hctx *h, const struct doc_request *r, int64_t channel_id, const char *kind,
		    const char *key, time_t at)
{
	struct outbox_msg m;
	char params[48];

	memset(&m, 0, sizeof(m));
	m.family_id = r->family_id;
	m.member_id = r->member_id;
	m.channel_id = channel_id;
	m.request_id = r->id;
	cb_strlcpy(m.kind, kind, sizeof(m.kind));
	cb_strlcpy(m.catalog_key, key, sizeof(m.catalog_key));
	snprintf(params, sizeof(params), "{\"request_id\":%lld}", (long long)r->id);
	m.params = params;
	m.not_before = at;
	return store_outbox_add(h->store, &m, h->now);
}

static int queue(struct hctx *h, const struct doc_request *r, const char *kind,
		 const char *key, time_t at)
{
	return queue_on(h, r, 0, kind, key, at);
}

int documents_queue_reminder(struct hctx *h, const struct doc_request *r)
{
	int waiting = 0, rc;

	/* One chain of reminders per request: a household's copies of one
	 * reminder, or START after STOP, find the next one already waiting. */
	if ((rc = store_outbox_request_waiting(h->store, r->id, "document_reminder", h->now, &waiting)) != 0)
		return rc;
	if (waiting > 0)
		return 0;
	return queue(h, r, "document_reminder", "document.reminder",
		     h->now + (time_t)h->cfg->document_reminder_days * 86400);
}

int documents_resume(struct hctx *h, int64_t request_id, int64_t channel_id)
{
	struct doc_request r;
	struct outbox_msg last;
	int rc;

	memset(&last, 0, sizeof(last));
	if ((rc = store_docreq_get(h->store, request_id, &r)) != 0)
		return rc;
	if (strcmp(r.status, "open") != 0)
		return 0;
	/* What asked for it while the chat was stopped never reached it: the
	 * request, or the rejection with its reason, is asked now on that
	 * chat. One already on its way, or one the chat got, is enough. */
	rc = store_outbox_request_last_ask(h->store, r.id, channel_id, &last);
	if (rc == -CB_ENOENT) {
		rc = queue_on(h, &r, channel_id, "document_request", "document.request", h->now);
	} else if (rc == 0 && strcmp(last.status, "cancelled") == 0) {
		last.id = 0;
		last.channel_id = channel_id;
		last.not_before = h->now;
		last.expires_at = 0;
		rc = store_outbox_add(h->store, &last, h->now);
	}
	store_outbox_msg_free(&last);
	if (rc != 0)
		return rc;
	return documents_queue_reminder(h, &r);
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
	return documents_queue_reminder(h, r);
}

static const char *const accepted_types[] = {
	"image/jpeg", "image/png", "image/webp", "image/heic", "image/heif", "application/pdf",
};

int documents_type_accepted(const char *mime)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(accepted_types); i++)
		if (strcmp(mime, accepted_types[i]) == 0)
			return 1;
	return 0;
}

/* A new file name under data_dir/documents/<family>/, random so that a name
 * says nothing. */
int documents_new_path(const char *data_dir, int64_t family_id, char *rel, size_t relcap, char *abs,
		       size_t abscap)
{
	unsigned char rnd[12];
	char hex[25], dir[PATH_MAX];

	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	snprintf(dir, sizeof(dir), "%s/documents", data_dir);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -CB_EIO;
	snprintf(dir, sizeof(dir), "%s/documents/%lld", data_dir, (long long)family_id);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -CB_EIO;
	if (snprintf(rel, relcap, "documents/%lld/%s.bin", (long long)family_id, hex) >= (int)relcap ||
	    snprintf(abs, abscap, "%s/%s", data_dir, rel) >= (int)abscap)
		return -CB_ETOOBIG;
	return 0;
}

int documents_too_big(struct hctx *h, const struct family_msg *fm, const char *what, int64_t size, int64_t limit)
{
	char size_s[32], limit_s[24], *params = NULL;
	long long mb = (long long)(limit / (1024 * 1024));
	/* The size in MB when the gateway said it, else only the limit. */
	const char *code = size > 0 ? "document_too_big_size" : "document_too_big";
	int rc;

	snprintf(size_s, sizeof(size_s), "%lld", (long long)((size + 1024 * 1024 - 1) / (1024 * 1024)));
	snprintf(limit_s, sizeof(limit_s), "%lld", mb);
	if ((rc = handler_log_in(h, fm, "document_refused", code, "what", what, "limit", limit_s, "size", size_s,
				 NULL)) != 0 ||
	    (rc = handler_alert(h, fm->family.id, "document_refused", 0, NULL, code, "what", what, "limit", limit_s,
				"size", size_s, NULL)) != 0 ||
	    (rc = handler_params(&params, "limit", limit_s, NULL)) != 0)
		return rc;
	rc = handler_reply(h, fm, "document_reply", "document.too_big", params);
	free(params);
	return rc;
}

int documents_receive(struct hctx *h, const struct family_msg *fm, const char *what, const char *media_ref,
		      struct document *doc)
{
	/* The counsellor gets the file itself too, through the gateway. */
	struct forward fw = {fm->channel.id, fm->member.id, NULL, what, media_ref, 0};
	char *params = NULL, id_s[24], bytes[24];
	int64_t open_ids[4];
	int rc, open = 0;

	if (!documents_type_accepted(doc->mime) || doc->path[0] == '\0') {
		/* The file was not kept: only its type is noted. */
		if ((rc = handler_log_in(h, fm, "document_refused", "document_refused", "what", what, "mime", doc->mime,
					 NULL)) != 0 ||
		    (rc = handler_alert(h, fm->family.id, "document_refused", 0, NULL, "document_refused", "what", what,
					"mime", doc->mime, NULL)) != 0)
			return rc;
		return handler_reply(h, fm, "document_reply", "document.refused_type", NULL);
	}
	doc->family_id = fm->family.id;
	doc->member_id = fm->member.id;
	if ((rc = store_docreq_open(h->store, fm->family.id, open_ids, 4, &open)) != 0)
		return rc;
	if (open == 1)
		doc->request_id = open_ids[0];
	if ((rc = store_document_add(h->store, doc, h->now)) != 0)
		return rc;
	snprintf(bytes, sizeof(bytes), "%lld", (long long)doc->size);
	if ((rc = handler_log_in(h, fm, "document", "document_received", "what", what, "mime", doc->mime, "bytes",
				 bytes, NULL)) != 0)
		return rc;
	if (open == 1) {
		if ((rc = store_docreq_received(h->store, doc->request_id, h->now)) != 0 ||
		    (rc = store_outbox_cancel_request(h->store, doc->request_id, h->now)) != 0 ||
		    (rc = handler_alert(h, fm->family.id, "document_received", 0, &fw, "document_received", "what", what,
					"mime", doc->mime, "bytes", bytes, NULL)) != 0)
			return rc;
		return handler_reply(h, fm, "document_reply", "document.thanks", NULL);
	}
	if (open == 0) {
		if ((rc = handler_alert(h, fm->family.id, "document_unrequested", 0, &fw, "document_received", "what",
					what, "mime", doc->mime, "bytes", bytes, NULL)) != 0)
			return rc;
		return handler_reply(h, fm, "document_reply", "document.unrequested_thanks", NULL);
	}
	/* Several requests are open: the family says which one this is. */
	snprintf(id_s, sizeof(id_s), "%lld", (long long)doc->id);
	if ((rc = handler_params(&params, "document_id", id_s, NULL)) == 0)
		rc = handler_reply(h, fm, "document_which", "document.which", params);
	free(params);
	return rc;
}

int documents_attach(struct hctx *h, const struct family_msg *fm, int64_t document_id, int64_t request_id)
{
	char doc_s[24], req_s[24];
	int rc = store_document_attach(h->store, fm->family.id, document_id, request_id);

	if (rc != 0)
		return rc;
	snprintf(doc_s, sizeof(doc_s), "%lld", (long long)document_id);
	snprintf(req_s, sizeof(req_s), "%lld", (long long)request_id);
	if ((rc = handler_log_in(h, fm, "document", "document_attached", "document", doc_s, "request", req_s, NULL)) != 0 ||
	    (rc = store_docreq_received(h->store, request_id, h->now)) != 0 ||
	    (rc = store_outbox_cancel_request(h->store, request_id, h->now)) != 0 ||
	    (rc = handler_alert(h, fm->family.id, "document_received", 0, NULL, "document_attached", "document", doc_s,
				"request", req_s, NULL)) != 0)
		return rc;
	return handler_reply(h, fm, "document_reply", "document.thanks", NULL);
}

int documents_verify(struct hctx *h, const struct document *doc)
{
	int rc;

	if (strcmp(doc->status, "received") != 0)
		return -CB_ESTATE;
	if ((rc = store_document_set_status(h->store, doc->id, "verified", NULL)) != 0)
		return rc;
	if (doc->request_id != 0)
		return store_docreq_set_status(h->store, doc->request_id, "verified", h->now);
	return 0;
}

static const char *const reject_reasons[] = {"unreadable", "incomplete", "expired", "wrong_document"};

int documents_reason_valid(const char *reason)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(reject_reasons); i++)
		if (strcmp(reason, reject_reasons[i]) == 0)
			return 1;
	return 0;
}

/* The family is asked again, with the reason; the request opens again and
 * its reminders start over. */
int documents_reject(struct hctx *h, const struct document *doc, const char *reason)
{
	struct doc_request r;
	struct outbox_msg m;
	char *params = NULL;
	int rc;

	if (strcmp(doc->status, "received") != 0 || !documents_reason_valid(reason))
		return -CB_ESTATE;
	if ((rc = store_document_set_status(h->store, doc->id, "rejected", reason)) != 0)
		return rc;
	if (doc->request_id == 0)
		return 0;
	if ((rc = store_docreq_get(h->store, doc->request_id, &r)) != 0 ||
	    (rc = store_docreq_set_status(h->store, r.id, "open", h->now)) != 0)
		return rc;
	memset(&m, 0, sizeof(m));
	m.family_id = r.family_id;
	m.member_id = r.member_id;
	m.request_id = r.id;
	cb_strlcpy(m.kind, "document_rejected", sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "document.rejected", sizeof(m.catalog_key));
	if ((rc = handler_params(&params, "reason", reason, NULL)) != 0)
		return rc;
	m.params = params;
	m.not_before = h->now;
	rc = store_outbox_add(h->store, &m, h->now);
	free(params);
	return rc != 0 ? rc : documents_queue_reminder(h, &r);
}

/* The chain of reminders goes on while the request is open; the request
 * message itself queued the first one. */
int documents_reminder_sent(struct hctx *h, const struct outbox_msg *m)
{
	struct doc_request r;
	int64_t open[16];
	int n = 0, rc;

	if (m->family_id == 0)
		return 0;
	if ((rc = store_docreq_open(h->store, m->family_id, open, 16, &n)) != 0)
		return rc;
	for (int i = 0; i < n && i < 16; i++) {
		if (open[i] != m->request_id)
			continue;
		memset(&r, 0, sizeof(r));
		r.id = m->request_id;
		r.family_id = m->family_id;
		r.member_id = m->member_id;
		return documents_queue_reminder(h, &r);
	}
	return 0;
}
