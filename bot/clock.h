/* The clock the CLI reads. A test build (compiled with -DCASEBOT_TEST_CLOCK:
 * build/casebot-test and the test binaries) lets $CASEBOT_TEST_NOW (Unix
 * seconds) pin it; build/casebot ignores the variable, so nobody can date
 * audit rows, appointments or invites with it. */
#ifndef CASEBOT_CLOCK_H
#define CASEBOT_CLOCK_H

#include <time.h>

time_t clock_now(void);
/* 1 in a test build. */
int clock_is_test(void);

#endif
