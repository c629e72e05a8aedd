/* What the daemon tells the service manager (sd_notify(3)): ready,
 * reloading, stopping, and alive to the watchdog. Started without
 * $NOTIFY_SOCKET (not by systemd as Type=notify), each call does nothing. */
#ifndef CASEBOT_SERVICE_H
#define CASEBOT_SERVICE_H

#include <uv.h>

void service_ready(void);
/* With the time systemd 253 and later want beside RELOADING=1. */
void service_reloading(void);
void service_stopping(void);
/* When the unit sets WatchdogSec= for this process, starts t (its owner
 * initialised it and closes it) to say WATCHDOG=1 at half the interval,
 * so a loop that stops turning is restarted. Returns 1 then, else 0. */
int service_watchdog_start(uv_timer_t *t);

#endif
