/* What every handler works with, and the operations staff start from the
 * CLI (and later from their phone): both call these, so the rules live in
 * one place. Each operation runs inside the caller's transaction. */
#ifndef CASEBOT_HANDLER_H
#define CASEBOT_HANDLER_H

#include <time.h>

#include "bot/config.h"
#include "store/store.h"

struct locales;

struct hctx {
	const struct config *cfg;
	struct store *store;
	const struct locales *loc;
	time_t now;
	const char *actor;      /* "cli:alice", "staff:Sara": who did it, for the audit */
};

/* Appointments: the appointment row, its reminder ladder, and the notice to
 * the family when it is moved or cancelled. */
int appointments_create(struct hctx *h, struct appointment *a);
int appointments_move(struct hctx *h, struct appointment *a, time_t starts_at);
int appointments_cancel(struct hctx *h, struct appointment *a);
/* Reminder times for an appointment at starts_at, written to times[]; steps
 * already past collapse into one reminder now. Returns the count. */
int appointments_reminder_times(const struct config *cfg, time_t now, time_t starts_at,
				time_t *times, int max);

/* Document requests: the request, the message asking for it, and the first
 * reminder while it is missing. */
int documents_request(struct hctx *h, struct doc_request *r);

/* Check-in plans: the plan and its next check-in. */
int checkins_set(struct hctx *h, const struct checkin_plan *p, time_t *next);
int checkins_off(struct hctx *h, int64_t family_id);
/* The first local weekday/minute at or after now (weekday 1 = Monday). */
time_t checkins_next(time_t now, int weekday, int minute_of_day);

#endif
