/* Local time in the configured zone (Europe/Brussels by default).
 * Times are stored as UTC Unix seconds; these helpers turn what a person types
 * into UTC and back. The process has one zone, set once at start-up. */
#ifndef CASEBOT_TZ_H
#define CASEBOT_TZ_H

#include <time.h>

/* Sets the process zone; -CB_ECONFIG if the zone is unknown. */
int tz_set(const char *zone);
/* 0 when zone names a compiled zone file; the process zone is left as it
 * is, so that reading a configuration never changes it. */
int tz_check(const char *zone);
const char *tz_name(void);

/* Broken-down local time of t in the process zone. */
void tz_local(time_t t, struct tm *out);

/* Checks a calendar date (1970..2199). */
int tz_valid_date(int y, int mon, int day);

/* "YYYY-MM-DD HH:MM" local -> UTC. A time that does not exist (the spring
 * DST gap) is -CB_EINVAL; an ambiguous autumn time takes the first (summer
 * time) occurrence. */
int tz_parse_local(const char *s, time_t *out);

/* "YYYY-MM-DD" -> its parts, checked. */
int tz_parse_date(const char *s, int *y, int *mon, int *day);

/* UTC of local hh:mm on that date; -CB_EINVAL in the DST gap. */
int tz_make_local(int y, int mon, int day, int hh, int mm, time_t *out);

/* Start of the local day that contains t. */
time_t tz_day_start(time_t t);

/* "HH:MM" -> minutes since midnight. */
int tz_parse_hhmm(const char *s, int *minutes);

/* "YYYY-MM-DD HH:MM" local rendering of t, for CLI output and logs. */
void tz_format_iso(time_t t, char *buf, size_t cap);

#endif
