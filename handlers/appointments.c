/* Appointment reminders. */
#include <stdio.h>
#include <string.h>

#include "bot/tz.h"
#include "handlers/handler.h"

/* The local time of one ladder step, or 0 when the step makes no sense for
 * this appointment (it would fall after the start). */
static time_t step_time(const struct reminder_step *s, time_t starts_at)
{
	struct tm tm;
	time_t t;

	if (s->at_minute < 0)
		return starts_at - (time_t)s->offset_minutes * 60;
	tz_local(starts_at, &tm);
	/* Noon never falls in a DST gap, so mktime normalises the day safely. */
	tm.tm_mday -= s->offset_days;
	tm.tm_hour = 12;
	tm.tm_min = 0;
	tm.tm_isdst = -1;
	if (mktime(&tm) == (time_t)-1)
		return 0;
	if (tz_make_local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  s->at_minute / 60, s->at_minute % 60, &t) != 0 &&
	    tz_make_local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  s->at_minute / 60 + 1, s->at_minute % 60, &t) != 0)
		return 0;
	return t;
}

int appointments_reminder_times(const struct config *cfg, time_t now, time_t starts_at,
				time_t *times, int max)
{
	int n = 0, past = 0;

	if (starts_at <= now)
		return 0;
	for (int i = 0; i < cfg->ladder_len && n < max; i++) {
		time_t t = step_time(&cfg->ladder[i], starts_at);

		if (t == 0 || t >= starts_at)
			continue;
		if (t <= now) {
			past = 1;
			continue;
		}
		times[n++] = t;
	}
	/* A family told of an appointment late gets one reminder at once, not
	 * one per step it missed. */
	if (past && n < max)
		times[n++] = now;
	return n;
}

#define NOTICE_AT_ONCE (24 * 3600)

static int queue(struct hctx *h, const struct appointment *a, const char *kind,
		 const char *key, time_t at, int step, int urgent)
{
	struct outbox_msg m;
	char params[64];

	memset(&m, 0, sizeof(m));
	m.family_id = a->family_id;
	m.member_id = a->member_id;
	m.appointment_id = a->id;
	cb_strlcpy(m.kind, kind, sizeof(m.kind));
	cb_strlcpy(m.catalog_key, key, sizeof(m.catalog_key));
	snprintf(params, sizeof(params), "{\"appointment_id\":%lld,\"step\":%d}", (long long)a->id, step);
	m.params = params;
	m.not_before = at;
	m.expires_at = a->starts_at;
	m.urgent = urgent;
	return store_outbox_add(h->store, &m, h->now);
}

/* A family that gets its appointments as calendar files gets the new
 * appointment, its new time or its cancellation as one, after the text
 * that tells it, and as urgently. The outbox makes the file (or the
 * link) when it sends the row, from the appointment as it is then. */
static int calendar(struct hctx *h, const struct appointment *a, int cancelled, int urgent)
{
	enum calendar_mode mode;
	int rc;

	if ((rc = store_family_calendar(h->store, a->family_id, &mode)) != 0 || mode == CALENDAR_OFF)
		return rc;
	return queue(h, a, "calendar", cancelled ? "calendar.file_cancelled" : "calendar.file", h->now, -1, urgent);
}

/* The family hears of a change at once, whatever the hour, when the
 * appointment (at its old or its new time) is less than a day away: held
 * until the end of quiet hours it could come too late, or expire unsent at
 * the start. */
static int notice(struct hctx *h, const struct appointment *a, const char *key, time_t old_start)
{
	int soon = old_start - h->now < NOTICE_AT_ONCE || a->starts_at - h->now < NOTICE_AT_ONCE;
	int rc = queue(h, a, "appointment_notice", key, h->now, -1, soon);

	return rc != 0 ? rc : calendar(h, a, strcmp(a->status, "cancelled") == 0, soon);
}

static int queue_reminders(struct hctx *h, const struct appointment *a)
{
	time_t times[CONFIG_LADDER_MAX + 1];
	int n = appointments_reminder_times(h->cfg, h->now, a->starts_at, times, (int)CB_ARRAY_SIZE(times));
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++)
		rc = queue(h, a, "reminder", "reminder.appointment", times[i], i, 0);
	return rc;
}

/* Only the steps still ahead, none at once: for a family that already has
 * the reminder it answered. */
static int queue_reminders_ahead(struct hctx *h, const struct appointment *a)
{
	time_t times[CONFIG_LADDER_MAX + 1];
	int n = appointments_reminder_times(h->cfg, h->now, a->starts_at, times, (int)CB_ARRAY_SIZE(times));
	int rc = 0;

	for (int i = 0; i < n && rc == 0; i++)
		if (times[i] > h->now)
			rc = queue(h, a, "reminder", "reminder.appointment", times[i], i, 0);
	return rc;
}

int appointments_create(struct hctx *h, struct appointment *a)
{
	int rc;

	if (a->starts_at <= h->now)
		return -CB_EINVAL;
	if ((rc = store_appointment_add(h->store, a, h->now)) != 0 ||
	    (rc = calendar(h, a, 0, a->starts_at - h->now < NOTICE_AT_ONCE)) != 0)
		return rc;
	return queue_reminders(h, a);
}

int appointments_move(struct hctx *h, struct appointment *a, time_t starts_at)
{
	time_t old_start = a->starts_at;
	int rc;

	if (strcmp(a->status, "cancelled") == 0)
		return -CB_ESTATE;
	if (starts_at <= h->now)
		return -CB_EINVAL;
	if ((rc = store_outbox_cancel_appointment(h->store, a->id, h->now)) != 0 ||
	    (rc = store_appointment_set(h->store, a->id, "scheduled", starts_at, h->now)) != 0)
		return rc;
	a->starts_at = starts_at;
	cb_strlcpy(a->status, "scheduled", sizeof(a->status));
	if ((rc = notice(h, a, "appointment.moved", old_start)) != 0)
		return rc;
	return queue_reminders(h, a);
}

int appointments_cancel(struct hctx *h, struct appointment *a)
{
	int rc;

	if (strcmp(a->status, "cancelled") == 0)
		return -CB_ESTATE;
	if ((rc = store_outbox_cancel_appointment(h->store, a->id, h->now)) != 0 ||
	    (rc = store_appointment_set(h->store, a->id, "cancelled", a->starts_at, h->now)) != 0)
		return rc;
	cb_strlcpy(a->status, "cancelled", sizeof(a->status));
	/* Only an appointment still ahead is worth a message. */
	if (a->starts_at <= h->now)
		return 0;
	return notice(h, a, "appointment.cancelled", a->starts_at);
}

/* The family's answer to a reminder. Confirm is thanked (later steps then
 * remind without asking); cannot come and another time cancel the later
 * steps, raise an alert for the counsellor and tell the family the
 * counsellor will call. */
int appointments_answer(struct hctx *h, const struct family_msg *fm, int64_t appointment_id, int choice)
{
	static const char *const status[] = {NULL, "confirmed", "cannot_come", "other_time"};
	/* Each answer as its button's catalog key, button.<name>. */
	static const char *const buttons[] = {NULL, "confirm", "cannot_come", "other_time"};
	struct appointment a;
	char id[24];
	int rc;

	if (choice < 1 || choice > 3)
		return -CB_EINVAL;
	rc = store_appointment_get(h->store, appointment_id, &a);
	/* A button of another family's appointment is treated as unknown. */
	if (rc == -CB_ENOENT || (rc == 0 && a.family_id != fm->family.id))
		return -CB_ENOENT;
	if (rc != 0)
		return rc;
	if (strcmp(a.status, "cancelled") == 0 || a.starts_at <= h->now)
		return -CB_ESTATE;
	if ((rc = store_appointment_answer(h->store, a.id, status[choice], h->now)) != 0)
		return rc;
	snprintf(id, sizeof(id), "%lld", (long long)a.id);
	if ((rc = handler_log_in(h, fm, "reminder_answer", "appointment_answer", "answer", buttons[choice],
				 "appointment", id, NULL)) != 0)
		return rc;
	if (choice == 1) {
		/* Coming after all: the steps still ahead come back. */
		if ((strcmp(a.status, "cannot_come") == 0 || strcmp(a.status, "other_time") == 0) &&
		    (rc = queue_reminders_ahead(h, &a)) != 0)
			return rc;
		return handler_reply(h, fm, "reminder_answer", "reminder.confirmed_thanks", NULL);
	}
	/* The later steps would ask about a time the family cannot make; the
	 * counsellor finds another, and moving the appointment reminds anew. */
	if ((rc = store_outbox_cancel_appointment_kind(h->store, a.id, "reminder", h->now)) != 0 ||
	    (rc = handler_alert(h, fm->family.id, status[choice], 0, NULL, "appointment_answer", "answer",
				buttons[choice], "appointment", id, NULL)) != 0)
		return rc;
	return handler_reply(h, fm, "reminder_answer", "reminder.counsellor_will_contact", NULL);
}

/* The family's time to confirm counts from the first reminder sent. */
int appointments_reminder_sent(struct hctx *h, const struct outbox_msg *m)
{
	if (m->family_id == 0 || m->appointment_id == 0)
		return 0;
	return store_appointment_reminded(h->store, m->appointment_id, h->now);
}
