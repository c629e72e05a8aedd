#include <stdio.h>
#include <string.h>

#include "bot/tz.h"
#include "locales/locale.h"
#include "locales/spoken.h"

#define PART_CAP 160

const char *spoken_number(const struct locales *loc, enum lang l, int n)
{
	const char *const *items;

	if (n < 0 || n > 59 || locale_list(loc, l, "voice.numbers", &items) != 60)
		return NULL;
	return items[n];
}

/* The hour on the hour ("twee uur 's middags"), or with its minutes: the
 * catalog's hour holds "{minutes}" where they go ("veertien uur
 * {minutes}", "two {minutes} in the afternoon"). */
static int spoken_time(const struct locales *loc, enum lang l, int h, int m, char *out, size_t cap)
{
	const char *const *hours, *const *with, *const *minutes;
	const char *slot;

	if (h < 0 || h > 23 || m < 0 || m > 59 || locale_list(loc, l, "voice.hours", &hours) != 24 ||
	    locale_list(loc, l, "voice.hours_minutes", &with) != 24 ||
	    locale_list(loc, l, "voice.minutes", &minutes) != 60)
		return -CB_EINVAL;
	if (m == 0)
		return cb_strlcpy(out, hours[h], cap);
	if ((slot = strstr(with[h], "{minutes}")) == NULL)
		return -CB_EINVAL;
	if (snprintf(out, cap, "%.*s%s%s", (int)(slot - with[h]), with[h], minutes[m], slot + 9) >= (int)cap)
		return -CB_ETOOBIG;
	return 0;
}

/* tm_wday is Sunday-based, as in struct tm. */
static int spoken_date(const struct locales *loc, enum lang l, const struct tm *tm, char *out, size_t cap)
{
	const char *const *weekdays, *const *months, *const *days;

	if (locale_list(loc, l, "weekdays", &weekdays) != 7 || locale_list(loc, l, "months", &months) != 12 ||
	    locale_list(loc, l, "voice.days", &days) != 31 || tm->tm_wday < 0 || tm->tm_wday > 6 || tm->tm_mon < 0 ||
	    tm->tm_mon > 11 || tm->tm_mday < 1 || tm->tm_mday > 31)
		return -CB_EINVAL;
	const struct locale_param p[] = {
		{"weekday", weekdays[(tm->tm_wday + 6) % 7]},
		{"day", days[tm->tm_mday - 1]},
		{"month", months[tm->tm_mon]},
	};
	return locale_render(loc, l, "voice.format.date", p, CB_ARRAY_SIZE(p), out, cap);
}

int spoken_datetime(const struct locales *loc, enum lang l, time_t t, char *out, size_t cap)
{
	char date[PART_CAP], time[PART_CAP];
	struct tm tm;
	int rc;

	if (out == NULL || cap == 0)
		return -CB_EINVAL;
	out[0] = '\0';
	tz_local(t, &tm);
	if ((rc = spoken_date(loc, l, &tm, date, sizeof(date))) != 0 ||
	    (rc = spoken_time(loc, l, tm.tm_hour, tm.tm_min, time, sizeof(time))) != 0)
		return rc;
	const struct locale_param p[] = {{"date", date}, {"time", time}};
	return locale_render(loc, l, "voice.format.datetime", p, CB_ARRAY_SIZE(p), out, cap);
}

int spoken_day(const struct locales *loc, enum lang l, int y, int mon, int day, char *out, size_t cap)
{
	struct tm tm;
	time_t noon;

	if (out == NULL || cap == 0)
		return -CB_EINVAL;
	out[0] = '\0';
	if (tz_valid_date(y, mon, day) != 0)
		return -CB_EINVAL;
	/* Noon of that day, UTC, is that day in Brussels too; only its
	 * weekday is read. */
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = 12;
	noon = timegm(&tm);
	gmtime_r(&noon, &tm);
	return spoken_date(loc, l, &tm, out, cap);
}
