#include <systemd/sd-daemon.h>
#include <time.h>

#include "bot/log.h"
#include "bot/service.h"

void service_ready(void)
{
	sd_notify(0, "READY=1");
}

void service_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000ULL);
}

void service_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}

static void watchdog_ping(uv_timer_t *t)
{
	(void)t;
	sd_notify(0, "WATCHDOG=1");
}

int service_watchdog_start(uv_timer_t *t)
{
	uint64_t usec = 0, ms;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return 0;
	ms = usec / 2000 > 0 ? usec / 2000 : 1;
	uv_timer_start(t, watchdog_ping, ms, ms);
	log_info("watchdog: alive every %llu ms", (unsigned long long)ms);
	return 1;
}
