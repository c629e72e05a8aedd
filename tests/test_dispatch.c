/* The dispatcher's walk over the queue, in-process (bot/outbox.c on a libuv
 * loop, the real store, the fake gateway of tests/support/fakegw.c): a row
 * goes out in the millisecond it falls due, not up to a second later; the
 * walk goes through more rows than one batch holds; a chat's messages go
 * in their order, urgent ones first, however the walk meets them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/config.h"
#include "bot/outbox.h"
#include "locales/locale.h"
#include "store/store.h"
#include "tests/support/fakegw.h"
#include "tests/support/inproc.h"
#include "tests/support/testenv.h"

#define FAMILY_CHAT "1001"
#define STAFF_CHAT "9001"
/* Due to sent on an idle loop: the timer's own millisecond, the send
 * call, and room for a loaded machine; a whole-second timer is 500 ms
 * late here. */
#define ON_TIME_MS 100

struct dfx {
	struct testenv env;
	struct inproc_core d;
	struct fakegw fake;
	uv_timer_t watchdog;
};

#define q(c, ...) inproc_q((c)->d.store, __VA_ARGS__)
#define exec(c, ...) inproc_execf((c)->d.store, __VA_ARGS__)
#define RUN_UNTIL(c, cond) INPROC_RUN_UNTIL(&(c)->d.loop, &(c)->watchdog, cond)

static int setup(void **state)
{
	struct dfx *c = calloc(1, sizeof(*c));
	char err[256];
	long long now = (long long)time(NULL);

	if (c == NULL || testenv_setup(&c->env, time(NULL), "quiet_hours = off\n") != 0)
		return -1;
	if (testenv_cli(&c->env, "init", NULL) != 0 ||
	    testenv_cli(&c->env, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl", NULL) != 0 ||
	    testenv_cli(&c->env, "family", "add", "F-1", "--lang", "nl", "--counsellor", "Sara", NULL) != 0)
		return -1;
	if (config_load(&c->d.cfg, c->env.conf, err, sizeof(err)) != 0 ||
	    store_open(c->d.cfg.data_dir, 0, &c->d.store, err, sizeof(err)) != 0 ||
	    locale_load(CASEBOT_LOCALES_DIR, &c->d.loc, err, sizeof(err)) != 0 ||
	    uv_loop_init(&c->d.loop) != 0)
		return -1;
	uv_timer_init(&c->d.loop, &c->watchdog);
	exec(c, "INSERT INTO channels (id, family_id, kind, address, verified, created_at) VALUES"
		" (1, 1, 'telegram', '" FAMILY_CHAT "', 1, %lld);"
		"INSERT INTO channels (id, staff_id, kind, address, verified, created_at, confirmed_at) VALUES"
		" (2, 1, 'telegram', '" STAFF_CHAT "', 1, %lld, %lld);", now, now, now);
	fakegw_init(&c->fake, &c->d.loop, "telegram");
	c->fake.gw.caps.rate_per_chat = 100000.0;
	c->fake.gw.caps.rate_global = 100000.0;
	c->d.gateways[c->d.ngateways++] = &c->fake.gw;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct dfx *c = *state;

	if (c->d.outbox != NULL)
		outbox_close(c->d.outbox);
	uv_close((uv_handle_t *)&c->watchdog, NULL);
	uv_run(&c->d.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c->d.loop), 0);
	store_close(c->d.store);
	locale_free(c->d.loc);
	testenv_teardown(&c->env);
	free(c);
	return 0;
}

/* A notice (its text says which row it is: the params carry no words, so
 * the row's own id is read back from the outbox). */
static long long queue(struct dfx *c, long long channel, long long not_before, int urgent)
{
	long long now = (long long)time(NULL);

	if (channel == 2)
		exec(c, "INSERT INTO outbox (staff_id, channel_id, kind, catalog_key, urgent, not_before, created_at,"
			" updated_at) VALUES (1, 2, 'staff_notice', 'staff.inbound_failed', %d, %lld, %lld, %lld)",
		     urgent, not_before, now, now);
	else
		exec(c, "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, urgent, not_before, created_at,"
			" updated_at) VALUES (1, 1, 'notice', 'forward.ack', %d, %lld, %lld, %lld)",
		     urgent, not_before, now, now);
	return q(c, "SELECT max(id) FROM outbox");
}

static long long real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A row due at the start of a second goes in that second's first
 * milliseconds: the outbox's timer counts milliseconds. The test starts
 * half a second into a second, where a timer counting whole seconds is
 * half a second late. */
static void test_due_on_the_millisecond(void **state)
{
	struct dfx *c = *state;
	struct timespec half;
	long long due, loop0, real0, sent_at;

	clock_gettime(CLOCK_REALTIME, &half);
	half.tv_sec += 1;
	half.tv_nsec = 500000000L;
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &half, NULL) != 0)
		;
	due = (long long)half.tv_sec + 1;
	queue(c, 1, due, 0);
	c->d.outbox = inproc_outbox(&c->d);
	assert_non_null(c->d.outbox);
	uv_update_time(&c->d.loop);
	loop0 = (long long)uv_now(&c->d.loop);
	real0 = real_ms();
	RUN_UNTIL(c, c->fake.sends == 1);
	sent_at = real0 + ((long long)c->fake.calls[0].at_ms - loop0);
	print_message("due -> sent: %lld ms\n", sent_at - due * 1000);
	assert_true(sent_at >= due * 1000 - 2);
	assert_true(sent_at - due * 1000 < ON_TIME_MS);
}

/* More due rows than a batch: all go, each chat's in the order they were
 * queued, an urgent one before the others, whatever row of the walk a
 * chat's send ends on. */
static void test_walk_keeps_each_chats_order(void **state)
{
	struct dfx *c = *state;
	long long now = (long long)time(NULL), urgent, first_family = 0, first_staff = 0;
	long long last_family = 0, last_staff = 0;
	int n = 0, family = 0, staff = 0;
	sqlite3_stmt *s;

	for (int i = 0; i < 90; i++) {
		long long id = queue(c, i % 3 == 0 ? 2 : 1, now - 100 + i, 0);

		if (i % 3 == 0 && first_staff == 0)
			first_staff = id;
		if (i % 3 != 0 && first_family == 0)
			first_family = id;
	}
	urgent = queue(c, 1, now, 1);
	c->d.outbox = inproc_outbox(&c->d);
	assert_non_null(c->d.outbox);
	RUN_UNTIL(c, q(c, "SELECT count(*) FROM outbox WHERE status = 'sent'") == 91);
	/* Sends to each chat, in the order of their rows' ids: the fake
	 * numbers its answers in call order, and the rows keep the number. */

	assert_int_equal(sqlite3_prepare_v2(store_db(c->d.store),
					    "SELECT id, channel_id FROM outbox ORDER BY CAST(gateway_message_id AS INTEGER)",
					    -1, &s, NULL), SQLITE_OK);

	while (sqlite3_step(s) == SQLITE_ROW) {
		long long id = sqlite3_column_int64(s, 0), ch = sqlite3_column_int64(s, 1);

		n++;
		if (ch == 1) {
			if (family++ == 0)
				assert_int_equal(id, urgent);
			else if (family == 2)
				assert_int_equal(id, first_family);
			else
				assert_true(id > last_family);
			if (id != urgent)
				last_family = id;
		} else {
			if (staff++ == 0)
				assert_int_equal(id, first_staff);
			else
				assert_true(id > last_staff);
			last_staff = id;
		}
	}
	sqlite3_finalize(s);
	assert_int_equal(n, 91);
	assert_int_equal(family, 61);
	assert_int_equal(staff, 30);
}

/* Rows that expired unsent end as expired, found by their expiry, and are
 * never sent; a row not yet expired goes. */
static void test_expired_rows_never_go(void **state)
{
	struct dfx *c = *state;
	long long now = (long long)time(NULL), old = queue(c, 1, now - 60, 0), fresh = queue(c, 1, now - 60, 0);

	exec(c, "UPDATE outbox SET expires_at = %lld WHERE id = %lld", now - 1, old);
	exec(c, "UPDATE outbox SET expires_at = %lld WHERE id = %lld", now + 3600, fresh);
	c->d.outbox = inproc_outbox(&c->d);
	assert_non_null(c->d.outbox);
	RUN_UNTIL(c, c->fake.sends == 1 && q(c, "SELECT count(*) FROM outbox WHERE status = 'sent'") == 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND status = 'expired'", old), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND status = 'sent'", fresh), 1);
}

/* A row nobody can receive yet (its family's only chat is blocked) is
 * parked, out of the walk, not tried again and again; once the chat can
 * be reached again the row comes back and goes. */
static void test_unreachable_rows_park_until_a_chat_can_take_them(void **state)
{
	struct dfx *c = *state;
	long long now = (long long)time(NULL), id;

	exec(c, "UPDATE channels SET blocked = 1 WHERE id = 1");
	exec(c, "INSERT INTO outbox (family_id, kind, catalog_key, not_before, created_at, updated_at)"
		" VALUES (1, 'notice', 'forward.ack', %lld, %lld, %lld)", now, now, now);
	id = q(c, "SELECT max(id) FROM outbox");
	c->d.outbox = inproc_outbox(&c->d);
	assert_non_null(c->d.outbox);
	RUN_UNTIL(c, q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND parked_at IS NOT NULL", id) == 1);
	assert_int_equal(q(c, "SELECT status = 'queued' FROM outbox WHERE id = %lld", id), 1);
	assert_int_equal(c->fake.sends, 0);
	exec(c, "UPDATE channels SET blocked = 0 WHERE id = 1");
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND parked_at IS NULL", id), 1);
	outbox_kick(c->d.outbox);
	RUN_UNTIL(c, q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND status = 'sent'", id) == 1);
	assert_int_equal(c->fake.sends, 1);
	assert_string_equal(c->fake.calls[0].address, FAMILY_CHAT);
}

static int count_commit(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* A turn of the outbox records the sends that came back and claims the
 * next ones in one transaction: fewer commits than messages, where each
 * claim and each sent mark used to be a commit of its own. */
static void test_a_turn_is_one_transaction(void **state)
{
	struct dfx *c = *state;
	long long now = (long long)time(NULL);
	int commits = 0;

	for (int i = 0; i < 40; i++)
		queue(c, i % 2 == 0 ? 1 : 2, now - 50 + i, 0);
	sqlite3_commit_hook(store_db(c->d.store), count_commit, &commits);
	c->d.outbox = inproc_outbox(&c->d);
	assert_non_null(c->d.outbox);
	RUN_UNTIL(c, q(c, "SELECT count(*) FROM outbox WHERE status = 'sent'") == 40);
	sqlite3_commit_hook(store_db(c->d.store), NULL, NULL);
	print_message("40 messages, %d commits\n", commits);
	assert_true(commits < 40);
	assert_int_equal(q(c, "SELECT count(*) FROM contact_log WHERE direction = 'out' AND status = 'sent'"), 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_due_on_the_millisecond, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_keeps_each_chats_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expired_rows_never_go, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreachable_rows_park_until_a_chat_can_take_them, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_turn_is_one_transaction, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
