/* The clock the CLI reads. A test build (compiled with -DCASEBOT_TEST_CLOCK:
 * build/casebot-test and the test binaries) lets $CASEBOT_TEST_NOW (Unix
 * seconds) pin it; build/casebot ignores the variable, so nobody can date
 * audit rows, appointments or invites with it. */
#ifndef CASEBOT_CLOCK_H
#define CASEBOT_CLOCK_H

#include <time.h>

time_t clock_now(void);
/* In a test build, $CASEBOT_TEST_RETRY_MAX (seconds) caps the outbox's
 * retry backoff, so that a test lives through a long outage in seconds;
 * 0 (no such cap) otherwise. */
int clock_test_retry_max(void);
/* In a test build, $CASEBOT_TEST_WINDOW_WAIT (seconds) is how long a
 * message to staff waits for their chat's conversation window before they
 * are told on another channel; 0 (the outbox's own wait) otherwise. */
int clock_test_window_wait(void);
/* 1 in a test build. */
int clock_is_test(void);
/* A test build dies here (SIGKILL, as a power cut would) when
 * $CASEBOT_TEST_CRASH names point and the file $CASEBOT_TEST_CRASH_ONCE
 * can be removed: once. build/casebot does nothing. */
void clock_crash_point(const char *point);

#endif
