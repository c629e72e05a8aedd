/* bot/tz.c: Europe/Brussels local time <-> UTC, across both daylight-saving
 * changes. Every expected instant is computed with timegm() so that a wrong
 * offset cannot hide behind the code under test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "bot/casebot.h"
#include "bot/tz.h"

/* Each test starts in Brussels, whatever an earlier test did to TZ. */
static int setup_tz(void **state)
{
	(void)state;
	return tz_set("Europe/Brussels") == 0 ? 0 : -1;
}

static time_t utc(int y, int mon, int day, int hh, int mm)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	return timegm(&tm);
}

/* Parses s and checks it against the UTC instant given. */
static void expect_local(const char *s, int y, int mon, int day, int hh, int mm)
{
	time_t t = 0;

	assert_int_equal(tz_parse_local(s, &t), 0);
	assert_int_equal((long long)t, (long long)utc(y, mon, day, hh, mm));
}

static void expect_bad(const char *s)
{
	time_t t = 12345;

	assert_int_equal(tz_parse_local(s, &t), -CB_EINVAL);
	/* A rejected input leaves the output alone. */
	assert_int_equal((long long)t, 12345);
}

static void test_set(void **state)
{
	(void)state;
	assert_string_equal(tz_name(), "Europe/Brussels");
	assert_int_equal(tz_set("Mars/Olympus_Mons"), -CB_ECONFIG);
	assert_int_equal(tz_set(""), -CB_ECONFIG);
	assert_int_equal(tz_set(NULL), -CB_ECONFIG);
	assert_int_equal(tz_set("../../etc/passwd"), -CB_ECONFIG);
	/* A failed set keeps the zone in force. */
	assert_string_equal(tz_name(), "Europe/Brussels");
	expect_local("2026-12-03 14:00", 2026, 12, 3, 13, 0);

	assert_int_equal(tz_set("UTC"), 0);
	assert_string_equal(tz_name(), "UTC");
	expect_local("2026-12-03 14:00", 2026, 12, 3, 14, 0);
}

/* A directory ("Europe") or a non-zone file ("zone.tab") under the zoneinfo
 * tree is no zone: glibc would fall back to UTC without a word, and every
 * local time would be an hour or two off. */
static void test_set_not_a_zone(void **state)
{
	(void)state;
	assert_int_equal(tz_set("Europe"), -CB_ECONFIG);
	assert_int_equal(tz_set("zone.tab"), -CB_ECONFIG);
	assert_string_equal(tz_name(), "Europe/Brussels");
}

static void test_winter_summer(void **state)
{
	(void)state;
	expect_local("2026-12-03 14:00", 2026, 12, 3, 13, 0);
	expect_local("2026-07-01 14:00", 2026, 7, 1, 12, 0);
	expect_local("2026-01-01 00:00", 2025, 12, 31, 23, 0);
	expect_local("2026-12-31 23:59", 2026, 12, 31, 22, 59);
	expect_local("2026-06-30 01:00", 2026, 6, 29, 23, 0);
}

/* 2026-03-29 and 2027-03-28: clocks jump from 02:00 CET to 03:00 CEST. */
static void test_spring_gap(void **state)
{
	(void)state;
	expect_bad("2026-03-29 02:00");
	expect_bad("2026-03-29 02:30");
	expect_bad("2026-03-29 02:59");
	expect_local("2026-03-29 01:59", 2026, 3, 29, 0, 59);
	expect_local("2026-03-29 03:00", 2026, 3, 29, 1, 0);
	expect_bad("2027-03-28 02:30");
	expect_local("2027-03-28 01:59", 2027, 3, 28, 0, 59);
	expect_local("2027-03-28 03:00", 2027, 3, 28, 1, 0);
	/* The same hour a week earlier exists. */
	expect_local("2026-03-22 02:30", 2026, 3, 22, 1, 30);
}

/* 2026-10-25 and 2027-10-31: 02:00-02:59 happens twice; the first
 * (summer time) occurrence wins. */
static void test_autumn_overlap(void **state)
{
	char buf[32];

	(void)state;
	expect_local("2026-10-25 02:30", 2026, 10, 25, 0, 30);
	expect_local("2026-10-25 02:00", 2026, 10, 25, 0, 0);
	expect_local("2026-10-25 01:59", 2026, 10, 24, 23, 59);
	expect_local("2026-10-25 03:00", 2026, 10, 25, 2, 0);
	expect_local("2027-10-31 02:30", 2027, 10, 31, 0, 30);
	expect_local("2027-10-31 03:00", 2027, 10, 31, 2, 0);
	/* Both instants print as the same local time. */
	tz_format_iso(utc(2026, 10, 25, 0, 30), buf, sizeof(buf));
	assert_string_equal(buf, "2026-10-25 02:30");
	tz_format_iso(utc(2026, 10, 25, 1, 30), buf, sizeof(buf));
	assert_string_equal(buf, "2026-10-25 02:30");
}

static void test_parse_local_invalid(void **state)
{
	(void)state;
	expect_bad("2026-02-29 10:00");
	expect_local("2028-02-29 10:00", 2028, 2, 29, 9, 0);
	expect_local("2000-02-29 10:00", 2000, 2, 29, 9, 0);
	expect_bad("2100-02-29 10:00");
	expect_bad("2026-04-31 10:00");
	expect_bad("2026-13-01 10:00");
	expect_bad("2026-00-01 10:00");
	expect_bad("2026-12-00 10:00");
	expect_bad("2026-12-03 24:00");
	expect_bad("2026-12-03 14:60");
	expect_bad("2026-12-3 14:00");
	expect_bad("2026/12/03 14:00");
	expect_bad("2026-12-03T14:00");
	expect_bad("2026-12-03  14:00");
	expect_bad("2026-12-03 14:00x");
	expect_bad("2026-12-03 14:00 ");
	expect_bad("2026-12-03 14:0");
	expect_bad("2026-12-03 14");
	expect_bad("2026-12-03");
	expect_bad(" 2026-12-03 14:00");
	expect_bad("1969-12-31 23:00");
	expect_bad("2200-01-01 00:00");
	expect_bad("");
	expect_bad(NULL);
	/* One digit for the hour is accepted, as in tz_parse_hhmm. */
	expect_local("2026-12-03 9:05", 2026, 12, 3, 8, 5);
}

static void test_parse_date(void **state)
{
	int y = 0, m = 0, d = 0;

	(void)state;
	assert_int_equal(tz_parse_date("2028-02-29", &y, &m, &d), 0);
	assert_int_equal(y, 2028);
	assert_int_equal(m, 2);
	assert_int_equal(d, 29);
	assert_int_equal(tz_parse_date("2026-12-31", &y, &m, &d), 0);
	assert_int_equal(y, 2026);
	assert_int_equal(m, 12);
	assert_int_equal(d, 31);
	assert_int_equal(tz_parse_date("2026-02-29", &y, &m, &d), -CB_EINVAL);
	assert_int_equal(tz_parse_date("2100-02-29", &y, &m, &d), -CB_EINVAL);
	assert_int_equal(tz_parse_date("2000-02-29", &y, &m, &d), 0);
	assert_int_equal(tz_parse_date("2026-06-31", &y, &m, &d), -CB_EINVAL);
	assert_int_equal(tz_parse_date("2026-6-30", &y, &m, &d), -CB_EINVAL);
	assert_int_equal(tz_parse_date("2026-06-30 ", &y, &m, &d), -CB_EINVAL);
	assert_int_equal(tz_parse_date("26-06-30", &y, &m, &d), -CB_EINVAL);
	assert_int_equal(tz_parse_date("", &y, &m, &d), -CB_EINVAL);
	assert_int_equal(tz_parse_date(NULL, &y, &m, &d), -CB_EINVAL);

	assert_int_equal(tz_valid_date(2024, 2, 29), 0);
	assert_int_equal(tz_valid_date(2023, 2, 29), -CB_EINVAL);
	assert_int_equal(tz_valid_date(1970, 1, 1), 0);
	assert_int_equal(tz_valid_date(2199, 12, 31), 0);
	assert_int_equal(tz_valid_date(1969, 12, 31), -CB_EINVAL);
	assert_int_equal(tz_valid_date(2026, 11, 31), -CB_EINVAL);
	assert_int_equal(tz_valid_date(2026, 1, 0), -CB_EINVAL);
}

static void test_parse_hhmm(void **state)
{
	int m = -1;

	(void)state;
	assert_int_equal(tz_parse_hhmm("9:05", &m), 0);
	assert_int_equal(m, 9 * 60 + 5);
	assert_int_equal(tz_parse_hhmm("09:05", &m), 0);
	assert_int_equal(m, 9 * 60 + 5);
	assert_int_equal(tz_parse_hhmm("00:00", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(tz_parse_hhmm("23:59", &m), 0);
	assert_int_equal(m, 1439);
	m = 7;
	assert_int_equal(tz_parse_hhmm("24:00", &m), -CB_EINVAL);
	assert_int_equal(tz_parse_hhmm("12:60", &m), -CB_EINVAL);
	assert_int_equal(tz_parse_hhmm("9:5", &m), -CB_EINVAL);
	assert_int_equal(tz_parse_hhmm("123:00", &m), -CB_EINVAL);
	assert_int_equal(tz_parse_hhmm("09:05 ", &m), -CB_EINVAL);
	assert_int_equal(tz_parse_hhmm("0905", &m), -CB_EINVAL);
	assert_int_equal(tz_parse_hhmm("9", &m), -CB_EINVAL);
	assert_int_equal(tz_parse_hhmm("", &m), -CB_EINVAL);
	assert_int_equal(tz_parse_hhmm(NULL, &m), -CB_EINVAL);
	assert_int_equal(m, 7);
}

static void test_make_local(void **state)
{
	time_t t = 0;

	(void)state;
	assert_int_equal(tz_make_local(2026, 12, 3, 14, 0, &t), 0);
	assert_int_equal((long long)t, (long long)utc(2026, 12, 3, 13, 0));
	assert_int_equal(tz_make_local(2026, 3, 29, 2, 15, &t), -CB_EINVAL);
	assert_int_equal(tz_make_local(2026, 10, 25, 2, 15, &t), 0);
	assert_int_equal((long long)t, (long long)utc(2026, 10, 25, 0, 15));
	assert_int_equal(tz_make_local(2026, 12, 3, 24, 0, &t), -CB_EINVAL);
	assert_int_equal(tz_make_local(2026, 12, 3, -1, 0, &t), -CB_EINVAL);
	assert_int_equal(tz_make_local(2026, 12, 3, 10, 60, &t), -CB_EINVAL);
	assert_int_equal(tz_make_local(2026, 2, 29, 10, 0, &t), -CB_EINVAL);
}

/* The local day is 23 hours long in spring and 25 in autumn: its start is
 * local midnight in each case, not now minus a fixed number of hours. */
static void test_day_start(void **state)
{
	(void)state;
	/* Winter and summer ordinary days. */
	assert_int_equal((long long)tz_day_start(utc(2026, 12, 3, 13, 0)),
			 (long long)utc(2026, 12, 2, 23, 0));
	assert_int_equal((long long)tz_day_start(utc(2026, 7, 1, 12, 0)),
			 (long long)utc(2026, 6, 30, 22, 0));
	/* Spring: midnight is still CET, the evening is CEST. */
	assert_int_equal((long long)tz_day_start(utc(2026, 3, 29, 12, 0)),
			 (long long)utc(2026, 3, 28, 23, 0));
	assert_int_equal((long long)tz_day_start(utc(2026, 3, 29, 21, 59)),
			 (long long)utc(2026, 3, 28, 23, 0));
	assert_int_equal((long long)tz_day_start(utc(2026, 3, 29, 22, 0)),
			 (long long)utc(2026, 3, 29, 22, 0));
	/* Autumn: midnight is CEST, the evening is CET. */
	assert_int_equal((long long)tz_day_start(utc(2026, 10, 25, 12, 0)),
			 (long long)utc(2026, 10, 24, 22, 0));
	assert_int_equal((long long)tz_day_start(utc(2026, 10, 25, 22, 59)),
			 (long long)utc(2026, 10, 24, 22, 0));
	assert_int_equal((long long)tz_day_start(utc(2026, 10, 25, 23, 0)),
			 (long long)utc(2026, 10, 25, 23, 0));
	/* Inside the repeated hour, both occurrences belong to the same day. */
	assert_int_equal((long long)tz_day_start(utc(2026, 10, 25, 1, 30)),
			 (long long)utc(2026, 10, 24, 22, 0));
	/* Midnight itself is the start of its day. */
	assert_int_equal((long long)tz_day_start(utc(2026, 12, 2, 23, 0)),
			 (long long)utc(2026, 12, 2, 23, 0));
}

static void test_format_iso(void **state)
{
	char buf[32];
	char tiny[5];
	struct tm tm;

	(void)state;
	tz_format_iso(utc(2026, 12, 3, 13, 0), buf, sizeof(buf));
	assert_string_equal(buf, "2026-12-03 14:00");
	tz_format_iso(utc(2026, 7, 1, 12, 0), buf, sizeof(buf));
	assert_string_equal(buf, "2026-07-01 14:00");
	tz_format_iso(utc(2026, 3, 29, 1, 0), buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-29 03:00");
	tz_format_iso(utc(2026, 3, 29, 0, 59), buf, sizeof(buf));
	assert_string_equal(buf, "2026-03-29 01:59");
	/* Too small a buffer gives "", never a cut date. */
	memset(tiny, 'x', sizeof(tiny));
	tz_format_iso(utc(2026, 12, 3, 13, 0), tiny, sizeof(tiny));
	assert_string_equal(tiny, "");

	tz_local(utc(2026, 7, 1, 12, 0), &tm);
	assert_int_equal(tm.tm_hour, 14);
	assert_int_equal(tm.tm_isdst, 1);
	tz_local(utc(2026, 12, 3, 13, 0), &tm);
	assert_int_equal(tm.tm_hour, 14);
	assert_int_equal(tm.tm_isdst, 0);
}

/* Parsing what formatting wrote gives the instant back, every 15 minutes
 * through the autumn change week (except the repeated hour's second pass). */
static void test_round_trip(void **state)
{
	char buf[32];

	(void)state;
	for (time_t t = utc(2026, 10, 22, 0, 0); t < utc(2026, 10, 29, 0, 0); t += 15 * 60) {
		time_t back = 0;

		if (t >= utc(2026, 10, 25, 1, 0) && t < utc(2026, 10, 25, 2, 0))
			continue;
		tz_format_iso(t, buf, sizeof(buf));
		assert_int_equal(tz_parse_local(buf, &back), 0);
		assert_int_equal((long long)back, (long long)t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_set, setup_tz),
		cmocka_unit_test_setup(test_set_not_a_zone, setup_tz),
		cmocka_unit_test_setup(test_winter_summer, setup_tz),
		cmocka_unit_test_setup(test_spring_gap, setup_tz),
		cmocka_unit_test_setup(test_autumn_overlap, setup_tz),
		cmocka_unit_test_setup(test_parse_local_invalid, setup_tz),
		cmocka_unit_test_setup(test_parse_date, setup_tz),
		cmocka_unit_test_setup(test_parse_hhmm, setup_tz),
		cmocka_unit_test_setup(test_make_local, setup_tz),
		cmocka_unit_test_setup(test_day_start, setup_tz),
		cmocka_unit_test_setup(test_format_iso, setup_tz),
		cmocka_unit_test_setup(test_round_trip, setup_tz),
	};

	return cmocka_run_group_tests_name("tz", tests, NULL, NULL);
}
