/* Retention, in one place: what casebot keeps, and for how long. The
 * daemon runs it every few minutes. Rows older than retention_days go (the
 * contact log, messages that have ended, alerts, inbound updates), audit
 * rows older than audit_retention_days, handled inbound updates after six
 * days, and a family closed more than erase_closed_after days ago is
 * erased as casebot family erase does it; one-time links to calendar
 * files go when they expire. Deletes go in small batches,
 * each its own short transaction, so the message path never waits long. */
#include <stdio.h>
#include <string.h>

#include "bot/log.h"
#include "handlers/handler.h"

#define RETENTION_BATCH 500
#define RETENTION_BATCHES 20       /* per kind and run: 10000 rows */
#define RETENTION_ERASES 5         /* families erased per run */
#define INBOUND_HANDLED_DAYS 6
/* Meta sends a notification again for up to 7 days. */
#define DELIVERY_UNKNOWN_DAYS 8

static int prune(struct hctx *h, enum prune_kind kind, time_t before, int *total)
{
	int rc = 0, n = RETENTION_BATCH;

	for (int i = 0; i < RETENTION_BATCHES && n == RETENTION_BATCH; i++) {
		if ((rc = store_prune(h->store, kind, before, RETENTION_BATCH, &n)) != 0)
			return rc;
		*total += n;
	}
	return 0;
}

/* A link to a calendar file that was never opened goes when it expires,
 * at the appointment's end: nothing of it stays. */
static int prune_links(struct hctx *h, int *total)
{
	int rc = 0, n = RETENTION_BATCH;

	for (int i = 0; i < RETENTION_BATCHES && n == RETENTION_BATCH; i++) {
		if ((rc = store_calendar_link_prune(h->store, h->now, RETENTION_BATCH, &n)) != 0)
			return rc;
		*total += n;
	}
	return 0;
}

int retention_run(struct hctx *h, struct retention_counts *out)
{
	const struct config *cfg = h->cfg;
	time_t rows_before = h->now - (time_t)cfg->retention_days * 86400;
	int64_t ids[RETENTION_ERASES];
	struct family f;
	char err[512], ref[STORE_NAME_MAX];
	int rc, n = 0, deliveries = 0, links = 0;

	memset(out, 0, sizeof(*out));
	if ((rc = prune(h, PRUNE_CONTACT, rows_before, &out->contacts)) != 0 ||
	    (rc = prune(h, PRUNE_OUTBOX, rows_before, &out->messages)) != 0 ||
	    (rc = prune(h, PRUNE_DELIVERIES, rows_before, &deliveries)) != 0 ||
	    (rc = prune(h, PRUNE_DELIVERIES_UNKNOWN, h->now - DELIVERY_UNKNOWN_DAYS * 86400, &deliveries)) != 0 ||
	    (rc = prune(h, PRUNE_ALERTS, rows_before, &out->alerts)) != 0 ||
	    (rc = prune(h, PRUNE_INBOUND, rows_before, &out->inbound)) != 0 ||
	    (rc = prune(h, PRUNE_INBOUND_HANDLED, h->now - INBOUND_HANDLED_DAYS * 86400, &out->inbound)) != 0 ||
	    (rc = prune(h, PRUNE_AUDIT, h->now - (time_t)cfg->audit_retention_days * 86400, &out->audit)) != 0 ||
	    (rc = prune_links(h, &links)) != 0)
		return rc;
	/* An erasure a reader held up is finished first. */
	if (store_state_first(h->store, "erase", ref, sizeof(ref)) == 0 &&
	    erase_finish(h->store, ref, err, sizeof(err)) != 0)
		log_warn("retention: an erasure is still waiting for another reader of the database");
	if ((rc = store_family_closed_before(h->store, h->now - (time_t)cfg->erase_closed_after_days * 86400, ids,
					     RETENTION_ERASES, &n)) != 0)
		return rc;
	for (int i = 0; i < n; i++) {
		if ((rc = store_family_get_id(h->store, ids[i], &f)) != 0)
			return rc;
		/* The audit row says the bot erased the reference, for retention,
		 * and nothing else about the family. */
		rc = erase_family(h, &f, "retention", err, sizeof(err));
		/* The log names no family: err does, and stays here. */
		if (rc == -CB_ESTATE || rc == -CB_EIO) {
			log_warn("retention: family #%lld erased, but %s", (long long)f.id,
				 rc == -CB_ESTATE ? "another reader still holds its old pages"
						  : "some of its files could not be removed");
			rc = 0;
		}
		if (rc != 0)
			return rc;
		out->families++;
	}
	return 0;
}
