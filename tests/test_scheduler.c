/* Quiet hours, retry backoff and the rate-limit buckets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "bot/config.h"
#include "bot/scheduler.h"
#include "bot/gateways/gateway.h"
#include "bot/ratelimit.h"
#include "bot/tz.h"

static time_t local(int y, int mon, int d, int hh, int mm)
{
	time_t t;

	assert_int_equal(tz_make_local(y, mon, d, hh, mm, &t), 0);
	return t;
}

static int setup(void **state)
{
	(void)state;
	return tz_set("Europe/Brussels");
}

static void test_quiet_hours(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	/* 21:00-08:00: evening and night go to 08:00 the next morning. */
	assert_int_equal(scheduler_after_quiet(&cfg, local(2026, 12, 3, 20, 59)), local(2026, 12, 3, 20, 59));
	assert_int_equal(scheduler_after_quiet(&cfg, local(2026, 12, 3, 21, 0)), local(2026, 12, 4, 8, 0));
	assert_int_equal(scheduler_after_quiet(&cfg, local(2026, 12, 3, 23, 30)), local(2026, 12, 4, 8, 0));
	assert_int_equal(scheduler_after_quiet(&cfg, local(2026, 12, 4, 3, 0)), local(2026, 12, 4, 8, 0));
	assert_int_equal(scheduler_after_quiet(&cfg, local(2026, 12, 4, 8, 0)), local(2026, 12, 4, 8, 0));
	/* Across the month end and the DST nights. */
	assert_int_equal(scheduler_after_quiet(&cfg, local(2026, 12, 31, 22, 0)), local(2027, 1, 1, 8, 0));
	assert_int_equal(scheduler_after_quiet(&cfg, local(2027, 3, 27, 23, 0)), local(2027, 3, 28, 8, 0));
	assert_int_equal(scheduler_after_quiet(&cfg, local(2027, 10, 30, 23, 0)), local(2027, 10, 31, 8, 0));
	assert_int_equal(local(2027, 10, 31, 8, 0) - local(2027, 10, 30, 23, 0), 10 * 3600);
	/* Quiet within one day, and off. */
	assert_int_equal(config_parse_quiet("12:00-14:00", &cfg.quiet_start, &cfg.quiet_end), 0);
	assert_int_equal(scheduler_after_quiet(&cfg, local(2026, 12, 3, 13, 0)), local(2026, 12, 3, 14, 0));
	assert_int_equal(scheduler_after_quiet(&cfg, local(2026, 12, 3, 15, 0)), local(2026, 12, 3, 15, 0));
	assert_int_equal(config_parse_quiet("off", &cfg.quiet_start, &cfg.quiet_end), 0);
	assert_int_equal(scheduler_after_quiet(&cfg, local(2026, 12, 3, 23, 0)), local(2026, 12, 3, 23, 0));
}

static void test_backoff(void **state)
{
	(void)state;
	for (int i = 0; i < 200; i++) {
		int b1 = scheduler_backoff(1), b4 = scheduler_backoff(4), b20 = scheduler_backoff(20);

		assert_in_range(b1, 2, 2);
		assert_in_range(b4, 16, 20);
		/* Ten minutes at most, jitter included. */
		assert_int_equal(b20, 600);
		for (int n = 1; n < 40; n++)
			assert_in_range(scheduler_backoff(n), 2, 600);
	}
}

/* A poll that keeps failing waits longer each time, never more than the
 * cap (a minute for Telegram), jitter included. */
static void test_poll_backoff_capped(void **state)
{
	uint64_t step = 0, wait, most = 0;

	(void)state;
	assert_in_range(gateway_backoff_ms(&step, 1000, 60000), 1000, 1250);
	for (int i = 0; i < 200; i++) {
		wait = gateway_backoff_ms(&step, 1000, 60000);
		assert_in_range(wait, 1000, 60000);
		if (wait > most)
			most = wait;
	}
	assert_true(most > 50000);
	step = 0;
	assert_in_range(gateway_backoff_ms(&step, 1000, 60000), 1000, 1250);
}

static void test_bucket(void **state)
{
	struct bucket b;
	uint64_t t = 1000000;
	int sent = 0;

	(void)state;
	/* One a second: the second message waits a little over a second. */
	bucket_init(&b, 1.0, 0.0, t);
	assert_int_equal(bucket_wait(&b, t), 0);
	bucket_take(&b, t);
	assert_true(bucket_wait(&b, t) > 1000 && bucket_wait(&b, t) < 1100);
	/* A retry_after hold wins over the tokens. */
	bucket_hold(&b, t + 5000);
	assert_true(bucket_wait(&b, t + 2000) >= 3000);
	/* Thirty a second: never more than thirty in any one-second window. */
	bucket_init(&b, 30.0, 0.0, t);
	for (uint64_t now = t; now < t + 10000; now++) {
		if (bucket_wait(&b, now) == 0) {
			bucket_take(&b, now);
			sent++;
		}
		if ((now - t) % 1000 == 999) {
			assert_true(sent <= 30);
			sent = 0;
		}
	}
}

static void test_chat_limits(void **state)
{
	static struct chat_limits cl;
	struct chat_slot *a, *b;

	(void)state;
	chat_limits_init(&cl, 1.0);
	a = chat_limits_get(&cl, 42, 1000);
	assert_non_null(a);
	assert_ptr_equal(chat_limits_get(&cl, 42, 1000), a);
	b = chat_limits_get(&cl, 43, 1000);
	assert_ptr_not_equal(a, b);
	bucket_take(&a->b, 1000);
	a->inflight = 1;
	/* Thousands of other chats: a busy one keeps its slot. */
	for (int64_t k = 100; k < 100 + 3 * RATELIMIT_CHATS; k++)
		assert_non_null(chat_limits_get(&cl, k, 5000 + (uint64_t)k));
	assert_ptr_equal(chat_limits_get(&cl, 42, 900000), a);
	assert_int_equal(a->inflight, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quiet_hours), cmocka_unit_test(test_backoff), cmocka_unit_test(test_poll_backoff_capped),
		cmocka_unit_test(test_bucket), cmocka_unit_test(test_chat_limits),
	};

	return cmocka_run_group_tests_name("scheduler", tests, setup, NULL);
}
