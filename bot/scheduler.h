/* The scheduler's arithmetic (bot/scheduler.c): when a message may go. */
#ifndef CASEBOT_SCHEDULER_H
#define CASEBOT_SCHEDULER_H

#include <time.h>

struct config;

/* When a non-urgent message due at t may go: t itself, or the end of the
 * quiet hours that t falls in. */
time_t scheduler_after_quiet(const struct config *cfg, time_t t);
/* Backoff after the n-th failed attempt, with jitter: seconds, never more
 * than SCHEDULER_BACKOFF_MAX. */
#define SCHEDULER_BACKOFF_MAX 600
int scheduler_backoff(int attempts);

#endif
