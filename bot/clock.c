/* Built twice: into build/casebot as it is, and with -DCASEBOT_TEST_CLOCK
 * into build/casebot-test and the tests (see the Makefile). It is kept out
 * of libcasebot.a so that each binary links exactly one of the two. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/clock.h"

time_t clock_now(void)
{
#ifdef CASEBOT_TEST_CLOCK
	const char *s = getenv("CASEBOT_TEST_NOW");
	char *end;
	long long v;

	if (s != NULL && s[0] != '\0') {
		v = strtoll(s, &end, 10);
		if (*end == '\0' && v > 0)
			return (time_t)v;
	}
#endif
	return time(NULL);
}

int clock_test_retry_max(void)
{
#ifdef CASEBOT_TEST_CLOCK
	const char *s = getenv("CASEBOT_TEST_RETRY_MAX");
	char *end;
	long v;

	if (s != NULL && s[0] != '\0') {
		v = strtol(s, &end, 10);
		if (*end == '\0' && v > 0 && v < 86400)
			return (int)v;
	}
#endif
	return 0;
}

int clock_test_window_wait(void)
{
#ifdef CASEBOT_TEST_CLOCK
	const char *s = getenv("CASEBOT_TEST_WINDOW_WAIT");
	char *end;
	long v;

	if (s != NULL && s[0] != '\0') {
		v = strtol(s, &end, 10);
		if (*end == '\0' && v > 0 && v < 86400)
			return (int)v;
	}
#endif
	return 0;
}

int clock_is_test(void)
{
#ifdef CASEBOT_TEST_CLOCK
	return 1;
#else
	return 0;
#endif
}

void clock_crash_point(const char *point)
{
#ifdef CASEBOT_TEST_CLOCK
	const char *at = getenv("CASEBOT_TEST_CRASH"), *once = getenv("CASEBOT_TEST_CRASH_ONCE");

	if (at != NULL && strcmp(at, point) == 0 && once != NULL && unlink(once) == 0)
		raise(SIGKILL);
#else
	(void)point;
#endif
}
