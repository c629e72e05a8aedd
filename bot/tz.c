#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/casebot.h"
#include "bot/tz.h"

static char zone_name[64] = "UTC";

/* A zone name must lead to a compiled zone file: a directory ("Europe") or a
 * table ("zone.tab") would make glibc fall back to UTC without a word. */
static int is_tzif(const char *path)
{
	char magic[4];
	struct stat sb;
	FILE *fp;
	int ok;

	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
		return 0;
	if ((fp = fopen(path, "rb")) == NULL)
		return 0;
	ok = fread(magic, 1, 4, fp) == 4 && memcmp(magic, "TZif", 4) == 0;
	fclose(fp);
	return ok;
}

int tz_check(const char *zone)
{
	char path[PATH_MAX];

	if (zone == NULL || zone[0] == '\0' || strstr(zone, "..") != NULL ||
	    strlen(zone) >= sizeof(zone_name))
		return -CB_ECONFIG;
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", zone);
	return is_tzif(path) ? 0 : -CB_ECONFIG;
}

int tz_set(const char *zone)
{
	if (tz_check(zone) != 0)
		return -CB_ECONFIG;
	if (setenv("TZ", zone, 1) != 0)
		return -CB_ECONFIG;
	tzset();
	cb_strlcpy(zone_name, zone, sizeof(zone_name));
	return 0;
}

const char *tz_name(void)
{
	return zone_name;
}

void tz_local(time_t t, struct tm *out)
{
	if (localtime_r(&t, out) == NULL)
		memset(out, 0, sizeof(*out));
}

int tz_valid_date(int y, int mon, int day)
{
	static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap, max;

	if (y < 1970 || y > 2199 || mon < 1 || mon > 12 || day < 1)
		return -CB_EINVAL;
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	max = mdays[mon - 1] + (mon == 2 && leap);
	return day <= max ? 0 : -CB_EINVAL;
}

/* Reads exactly n digits. */
static int digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -CB_EINVAL;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

int tz_make_local(int y, int mon, int day, int hh, int mm, time_t *out)
{
	int found = 0;
	time_t best = 0;

	if (tz_valid_date(y, mon, day) != 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59)
		return -CB_EINVAL;
	/* Try both offsets; keep those that read back as what was asked. Two
	 * matches happen in the autumn overlap: the earlier one wins. */
	for (int dst = 1; dst >= 0; dst--) {
		struct tm tm = {0}, back;
		time_t t;

		tm.tm_year = y - 1900;
		tm.tm_mon = mon - 1;
		tm.tm_mday = day;
		tm.tm_hour = hh;
		tm.tm_min = mm;
		tm.tm_isdst = dst;
		t = mktime(&tm);
		if (t == (time_t)-1)
			continue;
		tz_local(t, &back);
		if (back.tm_year != y - 1900 || back.tm_mon != mon - 1 ||
		    back.tm_mday != day || back.tm_hour != hh || back.tm_min != mm)
			continue;
		if (!found || t < best)
			best = t;
		found = 1;
	}
	if (!found)
		return -CB_EINVAL;
	*out = best;
	return 0;
}

int tz_parse_date(const char *s, int *y, int *mon, int *day)
{
	const char *p = s;

	if (s == NULL || digits(&p, 4, y) || *p++ != '-' || digits(&p, 2, mon) ||
	    *p++ != '-' || digits(&p, 2, day) || *p != '\0')
		return -CB_EINVAL;
	return tz_valid_date(*y, *mon, *day);
}

int tz_parse_hhmm(const char *s, int *minutes)
{
	const char *p = s;
	int hh, mm;

	if (s == NULL)
		return -CB_EINVAL;
	if (digits(&p, 2, &hh) != 0) {
		p = s;
		if (digits(&p, 1, &hh) != 0)
			return -CB_EINVAL;
	}
	if (*p++ != ':' || digits(&p, 2, &mm) || *p != '\0' || hh > 23 || mm > 59)
		return -CB_EINVAL;
	*minutes = hh * 60 + mm;
	return 0;
}

int tz_parse_local(const char *s, time_t *out)
{
	char date[11];
	const char *sp;
	int y, mon, day, minutes;

	if (s == NULL || (sp = strchr(s, ' ')) == NULL || sp - s != 10)
		return -CB_EINVAL;
	memcpy(date, s, 10);
	date[10] = '\0';
	if (tz_parse_date(date, &y, &mon, &day) != 0 || tz_parse_hhmm(sp + 1, &minutes) != 0)
		return -CB_EINVAL;
	return tz_make_local(y, mon, day, minutes / 60, minutes % 60, out);
}

time_t tz_day_start(time_t t)
{
	struct tm tm;
	time_t out;

	tz_local(t, &tm);
	/* Midnight exists in every Belgian day; fall back to 01:00 for zones
	 * that jump at midnight. */
	if (tz_make_local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 0, 0, &out) == 0)
		return out;
	if (tz_make_local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 1, 0, &out) == 0)
		return out;
	return t;
}

void tz_format_iso(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	tz_local(t, &tm);
	if (strftime(buf, cap, "%Y-%m-%d %H:%M", &tm) == 0 && cap > 0)
		buf[0] = '\0';
}
