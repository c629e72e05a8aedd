/* When things may be sent: quiet hours and retry backoff. The outbox arms
 * one timer for the earliest of these. */
#include <sodium.h>

#include "bot/clock.h"
#include "bot/config.h"
#include "bot/scheduler.h"
#include "bot/tz.h"

time_t scheduler_after_quiet(const struct config *cfg, time_t t)
{
	struct tm tm;
	time_t end;
	int m;

	if (cfg->quiet_start < 0)
		return t;
	tz_local(t, &tm);
	m = tm.tm_hour * 60 + tm.tm_min;
	if (!config_in_quiet(cfg, m))
		return t;
	/* The quiet period ends today, or tomorrow when it started this
	 * evening. Noon keeps mktime clear of DST gaps. */
	if (m >= cfg->quiet_end) {
		tm.tm_mday += 1;
		tm.tm_hour = 12;
		tm.tm_min = 0;
		tm.tm_sec = 0;
		tm.tm_isdst = -1;
		if (mktime(&tm) == (time_t)-1)
			return t + 3600;
	}
	if (tz_make_local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  cfg->quiet_end / 60, cfg->quiet_end % 60, &end) != 0 &&
	    tz_make_local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			  cfg->quiet_end / 60 + 1, cfg->quiet_end % 60, &end) != 0)
		return t + 3600;
	return end > t ? end : t;
}

int scheduler_backoff(int attempts)
{
	int base = 2, wait, cap = clock_test_retry_max();

	for (int i = 1; i < attempts && base < SCHEDULER_BACKOFF_MAX; i++)
		base *= 2;
	/* Up to a quarter more, so retries from many chats spread out; the
	 * cap holds with the jitter. */
	wait = base + (int)randombytes_uniform((uint32_t)(base / 4 + 1));
	if (wait > SCHEDULER_BACKOFF_MAX)
		wait = SCHEDULER_BACKOFF_MAX;
	if (cap > 0 && wait > cap)
		wait = cap;
	return wait;
}
