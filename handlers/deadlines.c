/* Periodic checks, once a minute in the daemon: an appointment still
 * unconfirmed when the ack deadline comes, a document past its due date, a
 * check-in nobody answered. Each alerts the counsellor once. */
#include <stdio.h>
#include <string.h>

#include "bot/tz.h"
#include "handlers/handler.h"

#define DEADLINE_BATCH 128

struct batch {
	struct deadline rows[DEADLINE_BATCH];
	int n;
};

static int collect(const void *rec, void *arg)
{
	struct batch *b = arg;

	if (b->n == DEADLINE_BATCH)
		return 1;
	b->rows[b->n++] = *(const struct deadline *)rec;
	return 0;
}

static void describe(enum deadline_kind kind, const struct deadline *d, char *out, size_t cap)
{
	char when[32];

	switch (kind) {
	case DEADLINE_UNCONFIRMED:
		tz_format_iso(d->at, when, sizeof(when));
		snprintf(out, cap, "appointment #%lld (%s, %s) is not confirmed", (long long)d->id, d->what, when);
		break;
	case DEADLINE_OVERDUE:
		snprintf(out, cap, "document request #%lld (%s) is past its due date", (long long)d->id, d->what);
		break;
	default:
		snprintf(out, cap, "the last check-in was not answered");
		break;
	}
}

static const char *const alert_kinds[] = {"unconfirmed", "document_overdue", "checkin_unanswered"};

int deadlines_run(struct hctx *h)
{
	static struct batch b;
	char today[16], summary[160];
	struct tm tm;
	int rc = 0;

	tz_local(h->now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	for (int k = 0; k <= DEADLINE_UNANSWERED && rc == 0; k++) {
		int64_t window = k == DEADLINE_UNCONFIRMED ? (int64_t)h->cfg->ack_deadline_minutes * 60 :
				 (int64_t)h->cfg->checkin_no_answer_minutes * 60;

		b.n = 0;
		rc = store_deadlines_each(h->store, (enum deadline_kind)k, h->now, window, today, collect, &b);
		if (rc < 0)
			return rc;
		if (b.n == 0)
			continue;
		if ((rc = store_begin(h->store)) != 0)
			return rc;
		for (int i = 0; i < b.n && rc == 0; i++) {
			describe((enum deadline_kind)k, &b.rows[i], summary, sizeof(summary));
			rc = store_alert_add(h->store, b.rows[i].family_id, b.rows[i].staff_id, alert_kinds[k], 0,
					     summary, h->now);
			if (rc == 0)
				rc = store_deadline_mark(h->store, (enum deadline_kind)k, b.rows[i].id, h->now);
		}
		if (rc == 0)
			rc = store_commit(h->store);
		if (rc != 0)
			store_rollback(h->store);
	}
	return rc;
}
