/* Check-ins. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/buttons.h"
#include "bot/tz.h"
#include "handlers/handler.h"

static const char *const weekdays[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

int checkins_parse_every(const char *s, int *days)
{
	int minutes;

	/* "7d" or "2w" */
	if (s[0] != '\0' && s[strlen(s) - 1] == 'w') {
		char buf[8];
		char *end;
		long w;

		if (cb_strlcpy(buf, s, sizeof(buf)) != 0)
			return -CB_EINVAL;
		buf[strlen(buf) - 1] = '\0';
		w = strtol(buf, &end, 10);
		if (*end != '\0' || end == buf || w < 1 || w > 12)
			return -CB_EINVAL;
		*days = (int)w * 7;
		return 0;
	}
	if (config_parse_duration(s, &minutes) != 0 || minutes % 1440 != 0 || minutes == 0 ||
	    minutes > 90 * 1440 || s[strlen(s) - 1] != 'd')
		return -CB_EINVAL;
	*days = minutes / 1440;
	return 0;
}

/* "mon 10:00": a weekday (three letters or the whole English name) and a
 * local time. */
int checkins_parse_at(const char *s, int *weekday, int *minute)
{
	static const char *const full[] = {"monday", "tuesday", "wednesday", "thursday",
					   "friday", "saturday", "sunday"};
	const char *sp = strchr(s, ' ');
	size_t n;

	if (sp == NULL)
		return -CB_EINVAL;
	n = (size_t)(sp - s);
	*weekday = 0;
	for (int i = 0; i < 7; i++)
		if ((n == 3 && strncasecmp(s, weekdays[i], 3) == 0) ||
		    (n == strlen(full[i]) && strncasecmp(s, full[i], n) == 0))
			*weekday = i + 1;
	if (*weekday == 0)
		return -CB_EINVAL;
	return tz_parse_hhmm(sp + 1, minute);
}

time_t checkins_next(time_t now, int weekday, int minute_of_day)
{
	struct tm tm;

	tz_local(now, &tm);
	for (int d = 0; d <= 7; d++) {
		struct tm day = tm;
		int wd;
		time_t t;

		day.tm_mday += d;
		day.tm_hour = 12;
		day.tm_min = 0;
		day.tm_sec = 0;
		day.tm_isdst = -1;
		if (mktime(&day) == (time_t)-1)
			continue;
		wd = day.tm_wday == 0 ? 7 : day.tm_wday;
		if (wd != weekday)
			continue;
		if (tz_make_local(day.tm_year + 1900, day.tm_mon + 1, day.tm_mday,
				  minute_of_day / 60, minute_of_day % 60, &t) != 0 &&
		    tz_make_local(day.tm_year + 1900, day.tm_mon + 1, day.tm_mday,
				  minute_of_day / 60 + 1, minute_of_day % 60, &t) != 0)
			continue;
		if (t >= now)
			return t;
	}
	return 0;
}

int checkins_set(struct hctx *h, const struct checkin_plan *p, time_t *next)
{
	struct outbox_msg m;
	int rc;

	if ((rc = store_checkin_set(h->store, p, h->now)) != 0 ||
	    (rc = store_outbox_cancel_kind(h->store, p->family_id, "checkin", h->now)) != 0)
		return rc;
	memset(&m, 0, sizeof(m));
	m.family_id = p->family_id;
	cb_strlcpy(m.kind, "checkin", sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "checkin.question", sizeof(m.catalog_key));
	m.not_before = checkins_next(h->now, p->weekday, p->minute_of_day);
	if (m.not_before == 0)
		return -CB_EINVAL;
	*next = m.not_before;
	return store_outbox_add(h->store, &m, h->now);
}

int checkins_off(struct hctx *h, int64_t family_id)
{
	int rc = store_checkin_off(h->store, family_id, h->now);

	if (rc != 0)
		return rc;
	return store_outbox_cancel_kind(h->store, family_id, "checkin", h->now);
}

/* The family's answer to a check-in: 1 good, 2 okay, 3 hard, 4 contact me.
 * Hard and contact me alert the counsellor, when alert says so. */
static int answer(struct hctx *h, const struct family_msg *fm, int64_t outbox_id, int choice, int alert)
{
	/* Each answer as its button's catalog key, button.<name>. */
	static const char *const names[] = {NULL, "checkin_good", "checkin_okay", "checkin_hard", "checkin_contact"};
	struct outbox_msg m;
	int rc;

	if (choice < 1 || choice > 4)
		return -CB_EINVAL;
	rc = store_outbox_get(h->store, outbox_id, &m);
	store_outbox_msg_free(&m);
	if (rc == -CB_ENOENT || (rc == 0 && (m.family_id != fm->family.id || strcmp(m.kind, "checkin") != 0)))
		return -CB_ENOENT;
	if (rc != 0)
		return rc;
	if ((rc = handler_log_in(h, fm, "checkin_answer", "checkin_answer", "answer", names[choice], NULL)) != 0)
		return rc;
	if (choice < 3)
		return handler_reply(h, fm, "checkin_answer", "checkin.thanks", NULL);
	if (alert && (rc = handler_alert(h, fm->family.id, choice == 3 ? "checkin_hard" : "contact_request", 0, NULL,
				"checkin_answer", "answer", names[choice], NULL)) != 0)
		return rc;
	return handler_reply(h, fm, "checkin_answer", "checkin.contact_soon", NULL);
}

int checkins_answer(struct hctx *h, const struct family_msg *fm, int64_t outbox_id, int choice)
{
	return answer(h, fm, outbox_id, choice, 1);
}

/* A check-in answered already, answered again by words or a number: the
 * family hears that it was heard, as the first time, and the new answer is
 * logged; the counsellor is alerted again only when the answer changed. */
int checkins_answer_again(struct hctx *h, const struct family_msg *fm, const char *data, const char *before)
{
	long long id, was_id;
	int choice, was = 0;

	if (sscanf(data, BUTTON_CHECKIN, &id, &choice) != 2)
		return -CB_ENOENT;
	if (sscanf(before, BUTTON_CHECKIN, &was_id, &was) != 2 || was_id != id)
		was = 0;
	return answer(h, fm, (int64_t)id, choice, choice != was);
}

/* The check-in after this one: every_days on, at the plan's local time. */
int checkins_after_sent(struct hctx *h, const struct outbox_msg *m)
{
	struct checkin_plan p;
	struct outbox_msg next;
	struct tm tm;
	time_t at;
	int rc;

	if ((rc = store_checkin_sent(h->store, m->family_id, h->now)) != 0)
		return rc;
	rc = store_checkin_get(h->store, m->family_id, &p);
	if (rc == -CB_ENOENT || (rc == 0 && !p.active))
		return 0;
	if (rc != 0)
		return rc;
	tz_local(m->not_before > 0 ? m->not_before : h->now, &tm);
	tm.tm_mday += p.every_days;
	tm.tm_hour = 12;
	tm.tm_min = 0;
	tm.tm_sec = 0;
	tm.tm_isdst = -1;
	if (mktime(&tm) == (time_t)-1)
		return -CB_EINVAL;
	if (tz_make_local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, p.minute_of_day / 60,
			  p.minute_of_day % 60, &at) != 0 &&
	    tz_make_local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, p.minute_of_day / 60 + 1,
			  p.minute_of_day % 60, &at) != 0)
		return -CB_EINVAL;
	memset(&next, 0, sizeof(next));
	next.family_id = m->family_id;
	cb_strlcpy(next.kind, "checkin", sizeof(next.kind));
	cb_strlcpy(next.catalog_key, "checkin.question", sizeof(next.catalog_key));
	next.not_before = at;
	return store_outbox_add(h->store, &next, h->now);
}
