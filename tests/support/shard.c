/* Every test binary's groups run through here (the Makefile links them
 * with --wrap=_cmocka_run_group_tests): $CASEBOT_TEST_SHARD=k/n runs only
 * the tests whose place in their group is k modulo n, so that tests/run.sh
 * can run a slow binary as n processes side by side; its tests wait on the
 * daemon's timers, not on a processor, and each has its own directory and
 * ports. $CASEBOT_TEST_FILTER=pattern runs only the tests that match, as
 * cmocka's filter does. Without either, every test runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>

int __real__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests, const size_t num_tests,
				   CMFixtureFunction group_setup, CMFixtureFunction group_teardown);
int __wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests, const size_t num_tests,
				   CMFixtureFunction group_setup, CMFixtureFunction group_teardown);

int __wrap__cmocka_run_group_tests(const char *group_name, const struct CMUnitTest *const tests, const size_t num_tests,
				   CMFixtureFunction group_setup, CMFixtureFunction group_teardown)
{
	const char *shard = getenv("CASEBOT_TEST_SHARD"), *filter = getenv("CASEBOT_TEST_FILTER");
	struct CMUnitTest *mine;
	unsigned k, n;
	size_t m = 0;
	int rc;

	if (filter != NULL && filter[0] != '\0')
		cmocka_set_test_filter(filter);
	if (shard == NULL || sscanf(shard, "%u/%u", &k, &n) != 2 || n < 2 || k >= n)
		return __real__cmocka_run_group_tests(group_name, tests, num_tests, group_setup, group_teardown);
	if ((mine = calloc(num_tests + 1, sizeof(*mine))) == NULL)
		return 1;
	for (size_t i = 0; i < num_tests; i++)
		if (i % n == k)
			mine[m++] = tests[i];
	rc = m == 0 ? 0 : __real__cmocka_run_group_tests(group_name, mine, m, group_setup, group_teardown);
	free(mine);
	return rc;
}
