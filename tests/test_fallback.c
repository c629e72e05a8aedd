/* Channel fallback, in-process: bot/outbox.c on a libuv loop, the real
 * store, and one fake gateway per chat service (tests/support/fakegw.c),
 * each answering as the test scripts it. A member, Amina, has a Telegram
 * chat, a WhatsApp chat and an SMS number, in that order unless a test
 * orders them otherwise. What is tested: the first chat that can take a
 * message gets it, and only it; a chat that fails for good passes the
 * message down the order, never back up; one copy per chat, also when
 * the outbox starts again; a reminder unconfirmed for [fallback] reminder
 * goes down too, and not once it is confirmed; the last chat failing too
 * alerts the counsellor. No pauses: a planned time is brought forward by
 * moving not_before, and the loop runs until the outcome shows. */
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
#include "bot/gateways/gateway.h"
#include "tests/support/fakegw.h"
#include "tests/support/inproc.h"
#include "tests/support/testenv.h"

#define TG 1          /* channel ids */
#define WA 3
#define SMS 4
#define STAFF 2

struct ffx {
	struct testenv env;
	struct inproc_core d;
	struct fakegw tg, wa, sms;
	uv_timer_t watchdog;
};

#define q(c, ...) inproc_q((c)->d.store, __VA_ARGS__)
#define execf(c, ...) inproc_execf((c)->d.store, __VA_ARGS__)
#define RUN_UNTIL(c, cond) INPROC_RUN_UNTIL(&(c)->d.loop, &(c)->watchdog, cond)

static void attach(struct ffx *c, struct fakegw *f, const char *name, int buttons)
{
	fakegw_init(f, &c->d.loop, name);
	f->gw.caps.buttons_max = buttons ? COMPOSE_BUTTONS_MAX : 0;
	f->gw.caps.button_title_max = 64;
	f->gw.caps.button_data_max = 64;
	f->gw.caps.rate_per_chat = 50.0;
	f->gw.caps.rate_global = 100.0;
	c->d.gateways[c->d.ngateways++] = &f->gw;
}

static int setup(void **state)
{
	struct ffx *c = calloc(1, sizeof(*c));
	long long now = (long long)time(NULL);
	char err[256];

	if (c == NULL || testenv_setup(&c->env, time(NULL), "quiet_hours = off\n[fallback]\nreminder = 1h\n") != 0)
		return -1;
	if (testenv_cli(&c->env, "init", NULL) != 0 ||
	    testenv_cli(&c->env, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl", NULL) != 0 ||
	    testenv_cli(&c->env, "family", "add", "F-1", "--lang", "nl", "--counsellor", "Sara", NULL) != 0 ||
	    testenv_cli(&c->env, "member", "add", "F-1", "Amina", "--role", "parent", NULL) != 0)
		return -1;
	if (config_load(&c->d.cfg, c->env.conf, err, sizeof(err)) != 0 ||
	    store_open(c->d.cfg.data_dir, 0, &c->d.store, err, sizeof(err)) != 0 ||
	    locale_load(CASEBOT_LOCALES_DIR, &c->d.loc, err, sizeof(err)) != 0 || uv_loop_init(&c->d.loop) != 0)
		return -1;
	uv_timer_init(&c->d.loop, &c->watchdog);
	execf(c, "INSERT INTO channels (id, family_id, member_id, kind, address, verified, created_at) VALUES"
		 " (%d, 1, 1, 'telegram', '1001', 1, %lld), (%d, 1, 1, 'whatsapp', '32470000001', 1, %lld),"
		 " (%d, 1, 1, 'sms', '+32470000001', 1, %lld);"
		 "INSERT INTO channels (id, staff_id, kind, address, verified, created_at, confirmed_at) VALUES"
		 " (%d, 1, 'telegram', '9001', 1, %lld, %lld);",
	      TG, now, WA, now, SMS, now, STAFF, now, now);
	attach(c, &c->tg, "telegram", 1);
	attach(c, &c->wa, "whatsapp", 1);
	attach(c, &c->sms, "sms", 0);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ffx *c = *state;

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

static void start(struct ffx *c)
{
	c->d.outbox = inproc_outbox(&c->d);
	assert_non_null(c->d.outbox);
}

/* The outbox stops as at a restart (its rows stay as they are) and a new
 * one starts on the same store. */
static void restart(struct ffx *c)
{
	outbox_close(c->d.outbox);
	c->d.outbox = NULL;
	start(c);
}

/* A notice for Amina, due now, on channel (0: none chosen yet); its id. */
static long long queue_notice(struct ffx *c, int channel)
{
	long long now = (long long)time(NULL);

	execf(c, "INSERT INTO outbox (family_id, member_id, channel_id, kind, catalog_key, not_before, created_at,"
		 " updated_at) VALUES (1, 1, %s, 'notice', 'forward.ack', %lld, %lld, %lld)",
	      channel != 0 ? (channel == TG ? "1" : channel == WA ? "3" : "4") : "NULL", now, now, now);
	if (c->d.outbox != NULL)
		outbox_kick(c->d.outbox);
	return q(c, "SELECT max(id) FROM outbox");
}

static int ended(struct ffx *c, long long id)
{
	return q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND status NOT IN ('queued', 'sending')", id) == 1;
}

/* Rows of the message whose first row is id (itself and its copies) that
 * ended, on any chat. */
static int all_ended(struct ffx *c, long long id)
{
	return q(c, "SELECT count(*) FROM outbox WHERE (id = %lld OR origin_id = %lld) AND status IN"
		    " ('queued', 'sending')", id, id) == 0;
}

static long long rows_on(struct ffx *c, long long id, int channel)
{
	return q(c, "SELECT count(*) FROM outbox WHERE (id = %lld OR origin_id = %lld) AND channel_id = %d", id, id,
		 channel);
}

static struct gateway_result *script(struct fakegw *f, enum gateway_outcome o, const char *reason)
{
	struct gateway_result *r = fakegw_push(f, o, 0, reason);

	assert_non_null(r);
	if (o == GW_UNREACHABLE)
		cb_strlcpy(r->why, "unreachable", sizeof(r->why));
	return r;
}

/* The first chat of Amina's order that can take a message gets it, and
 * only that one; the order staff set is the one used. */
static void test_first_chat_only(void **state)
{
	struct ffx *c = *state;
	long long id;

	start(c);
	id = queue_notice(c, 0);
	RUN_UNTIL(c, all_ended(c, id) && c->tg.answered == 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND status = 'sent' AND channel_id = %d",
			   id, TG), 1);
	assert_int_equal(c->wa.sends + c->sms.sends, 0);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox"), 1);

	/* WhatsApp first, then SMS; Telegram follows as the one not named. */
	if (testenv_cli(&c->env, "channel", "order", "F-1", "Amina", "whatsapp", "#4", NULL) != 0)
		fail_msg("%s", c->env.err);
	assert_non_null(strstr(c->env.out, "Amina:\n  1. #3 whatsapp\n  2. #4 sms\n  3. #1 telegram\n"));
	assert_int_equal(testenv_cli(&c->env, "channel", "list", "F-1", NULL), 0);
	assert_non_null(strstr(c->env.out, "  1. #3 whatsapp\n  2. #4 sms\n  3. #1 telegram\n"));
	assert_int_equal(q(c, "SELECT count(*) FROM audit WHERE action = 'channel.order'"), 1);
	id = queue_notice(c, 0);
	RUN_UNTIL(c, all_ended(c, id) && c->wa.answered == 1);
	assert_int_equal(c->tg.sends, 1);
	assert_int_equal(c->wa.sends, 1);
	assert_int_equal(c->sms.sends, 0);
	/* A chat the member does not have, or one named twice, is refused. */
	assert_int_equal(testenv_cli(&c->env, "channel", "order", "F-1", "Amina", "email", NULL), 2);
	assert_int_equal(testenv_cli(&c->env, "channel", "order", "F-1", "Amina", "sms", "#4", NULL), 2);
	assert_int_equal(testenv_cli(&c->env, "channel", "order", "F-1", "Nobody", "sms", NULL), 2);
}

/* Telegram 403: the message goes to WhatsApp, once; the counsellor gets
 * no undelivered alert (the family got it), the contact log has the
 * step, and the family file shows it went on WhatsApp. */
static void test_blocked_goes_down(void **state)
{
	struct ffx *c = *state;
	long long id = queue_notice(c, 0);

	script(&c->tg, GW_BLOCKED, "Forbidden: bot was blocked by the user");
	start(c);
	RUN_UNTIL(c, all_ended(c, id) && c->wa.answered == 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND status = 'failed'", id), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE origin_id = %lld AND channel_id = %d AND status = 'sent'"
			      " AND fallback_of = %lld AND fallback_why = 'blocked'", id, WA, id), 1);
	assert_int_equal(c->tg.sends, 1);
	assert_int_equal(c->wa.sends, 1);
	assert_int_equal(c->sms.sends, 0);
	assert_int_equal(q(c, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"), 0);
	assert_int_equal(q(c, "SELECT count(*) FROM contact_log WHERE summary = 'fallback' AND channel_kind = 'whatsapp'"
			      " AND json_extract(params, '$.from') = 'telegram' AND json_extract(params, '$.why') = 'blocked'"),
			 1);
	assert_int_equal(q(c, "SELECT count(*) FROM contact_log WHERE direction = 'out' AND status = 'sent'"
			      " AND channel_kind = 'whatsapp'"), 1);
	/* The log says it in the reader's language, with the chat it went on. */
	setenv("CASEBOT_LANG", "en", 1);
	assert_int_equal(testenv_cli(&c->env, "log", "F-1", NULL), 0);
	unsetenv("CASEBOT_LANG");
	assert_non_null(strstr(c->env.out, "  telegram  Amina        Not delivered: acknowledgement of a message\n"));
	assert_non_null(strstr(c->env.out, "  whatsapp  Amina        Offered on WhatsApp, because on Telegram the family"
				     " blocked the bot: acknowledgement of a message\n"));
	assert_non_null(strstr(c->env.out, "  whatsapp  Amina        Sent: acknowledgement of a message\n"));
	assert_true(strstr(c->env.out, "Not delivered") < strstr(c->env.out, "Offered on"));
	/* The next message for Amina starts on WhatsApp: Telegram is blocked. */
	id = queue_notice(c, 0);
	RUN_UNTIL(c, all_ended(c, id) && c->wa.answered == 2);
	assert_int_equal(c->tg.sends, 1);
	assert_int_equal(rows_on(c, id, WA), 1);
}

/* Down the order only: a message on WhatsApp (second) that WhatsApp
 * cannot deliver (131026) goes to SMS, never back to Telegram, which
 * could take it. */
static void test_down_never_up(void **state)
{
	struct ffx *c = *state;
	long long id = queue_notice(c, WA);

	script(&c->wa, GW_UNREACHABLE, "whatsapp 131026: Message Undeliverable.");
	start(c);
	RUN_UNTIL(c, all_ended(c, id) && c->sms.answered == 1);
	assert_int_equal(c->tg.sends, 0);
	assert_int_equal(c->sms.sends, 1);
	assert_int_equal(rows_on(c, id, TG), 0);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE origin_id = %lld AND channel_id = %d AND"
			      " fallback_why = 'unreachable' AND status = 'sent'", id, SMS), 1);
	/* SMS has no buttons: what it gets it can show. */
	assert_int_equal(c->sms.calls[0].nbuttons, 0);
}

/* An SMS number opted out at the carrier (21610, refused at once): the
 * message goes on to the next chat. */
static void test_carrier_stop_goes_down(void **state)
{
	struct ffx *c = *state;
	long long id;
	struct gateway_result *r;

	assert_int_equal(testenv_cli(&c->env, "channel", "order", "F-1", "Amina", "sms", "telegram", NULL), 0);
	r = script(&c->sms, GW_PERMANENT, "sms 21610: Attempt to send to unsubscribed recipient");
	cb_strlcpy(r->why, "carrier_stop", sizeof(r->why));
	id = queue_notice(c, 0);
	start(c);
	RUN_UNTIL(c, all_ended(c, id) && c->tg.answered == 1);
	assert_int_equal(c->sms.sends, 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE origin_id = %lld AND channel_id = %d AND"
			      " fallback_why = 'carrier_stop' AND status = 'sent'", id, TG), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'"), 0);
}

/* The last chat fails too: the counsellor is told none of the family's
 * chats could take it; each step is in the log. */
/* Sends a gateway made to anyone but the counsellor's chat. */
static int family_sends(const struct fakegw *g)
{
	int n = 0;

	for (int i = 0; i < g->ncalls; i++)
		n += g->calls[i].media == 0 && strcmp(g->calls[i].address, "9001") != 0;
	return n;
}

static void test_last_chat_fails(void **state)
{
	struct ffx *c = *state;
	long long id = queue_notice(c, 0);

	script(&c->tg, GW_BLOCKED, "Forbidden: bot was blocked by the user");
	script(&c->wa, GW_UNREACHABLE, "whatsapp 131026: Message Undeliverable.");
	script(&c->sms, GW_UNREACHABLE, "sms 30003: Unreachable destination handset");
	start(c);
	RUN_UNTIL(c, all_ended(c, id) && c->sms.answered == 1 &&
		  q(c, "SELECT count(*) FROM alerts WHERE kind = 'undelivered'") == 1);
	/* Once on each of the family's chats; the counsellor's alert (on
	 * Telegram, 9001) may have gone already. */
	assert_int_equal(family_sends(&c->tg) + c->wa.sends + c->sms.sends, 3);
	assert_int_equal(q(c, "SELECT count(*) FROM alerts WHERE kind = 'undelivered' AND"
			      " json_extract(params, '$.reason') = 'channels'"), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM contact_log WHERE summary = 'fallback'"), 2);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE status = 'failed'"), 3);
	/* The counsellor's chat hears of it. */
	RUN_UNTIL(c, c->tg.ncalls >= 2 && strcmp(c->tg.calls[c->tg.ncalls - 1].address, "9001") == 0);
}

/* One copy per chat, whatever happens in between: a message offered to
 * a chat twice is there once, and a restart after the chat before it
 * failed (the row still 'sending' when the process died, the chat marked
 * blocked) offers it once. */
static void test_one_copy_per_chat(void **state)
{
	struct ffx *c = *state;
	long long id = queue_notice(c, TG), now = (long long)time(NULL);
	int created;

	assert_int_equal(store_outbox_offer(c->d.store, id, WA, now + 3600, "unconfirmed", now, &created), 0);
	assert_int_equal(created, 1);
	assert_int_equal(store_outbox_offer(c->d.store, id, WA, now + 3600, "unconfirmed", now, &created), 0);
	assert_int_equal(created, 0);
	assert_int_equal(rows_on(c, id, WA), 1);
	/* The process died after 403 marked the chat, before the row ended. */
	execf(c, "UPDATE outbox SET status = 'sending', attempts = 1 WHERE id = %lld;"
		 "UPDATE channels SET blocked = 1 WHERE id = %d", id, TG);
	start(c);
	/* The copy waiting for later goes now: the chat before it failed. */
	RUN_UNTIL(c, all_ended(c, id) && c->wa.answered == 1);
	assert_int_equal(c->tg.sends, 0);
	assert_int_equal(c->wa.sends, 1);
	assert_int_equal(rows_on(c, id, WA), 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE origin_id = %lld AND fallback_why = 'blocked'", id), 1);
	restart(c);
	outbox_kick(c->d.outbox);
	id = queue_notice(c, 0);
	RUN_UNTIL(c, all_ended(c, id) && c->wa.answered == 2);
	assert_int_equal(c->wa.sends, 2);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox"), 3);
}

/* A reminder for Amina in five hours (four or five from now, whatever
 * the machine's zone: the CLI reads Brussels time); the id of its first
 * row once it went on Telegram. */
static long long sent_reminder(struct ffx *c)
{
	time_t at = time(NULL) + 5 * 3600;
	char when[32];
	struct tm tm;

	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&c->env, "appointment", "add", "F-1", "--at", when, "--kind", "doctor",
				     "--member", "Amina", NULL), 0);
	start(c);
	RUN_UNTIL(c, q(c, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND status = 'sent'") == 1);
	return q(c, "SELECT id FROM outbox WHERE kind = 'reminder' AND status = 'sent'");
}

/* Unconfirmed after [fallback] reminder (1h here; halfway to the
 * appointment when sooner): the reminder goes to WhatsApp, with the same
 * question there, and the step is logged when it goes. */
static void test_unconfirmed_reminder(void **state)
{
	struct ffx *c = *state;
	long long id = sent_reminder(c), copy, sent_at;
	struct question_choice choices[STORE_QUESTION_CHOICES];
	struct question qn;
	int n;

	copy = q(c, "SELECT id FROM outbox WHERE origin_id = %lld AND channel_id = %d AND status = 'queued'"
		    " AND fallback_why = 'unconfirmed'", id, WA);
	assert_true(copy > 0);
	sent_at = q(c, "SELECT updated_at FROM outbox WHERE id = %lld", id);
	assert_true(q(c, "SELECT not_before - created_at FROM outbox WHERE id = %lld", copy) == 3600);
	assert_true(q(c, "SELECT created_at FROM outbox WHERE id = %lld", copy) >= sent_at - 1);
	assert_int_equal(c->wa.sends, 0);
	execf(c, "UPDATE outbox SET not_before = %lld WHERE id = %lld", (long long)time(NULL), copy);
	outbox_kick(c->d.outbox);
	RUN_UNTIL(c, ended(c, copy));
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND status = 'sent'", copy), 1);
	assert_int_equal(c->wa.sends, 1);
	assert_int_equal(c->tg.sends, 1);
	assert_int_equal(q(c, "SELECT count(*) FROM contact_log WHERE summary = 'fallback' AND"
			      " json_extract(params, '$.why') = 'unconfirmed' AND channel_kind = 'whatsapp'"), 1);
	/* WhatsApp's chat was asked the reminder's question. */
	assert_int_equal(store_question_open(c->d.store, WA, time(NULL), &qn, choices, STORE_QUESTION_CHOICES, &n), 0);
	assert_int_equal(qn.outbox_id, copy);
	assert_string_equal(qn.kind, "reminder");
	assert_true(n >= 3);
	/* And from there, once more unconfirmed, on to SMS: never back up. */
	assert_int_equal(rows_on(c, id, SMS), 1);
	assert_int_equal(rows_on(c, id, TG), 1);
}

/* Confirmed on Telegram before the time: the copy waiting for WhatsApp
 * does not go. */
static void test_confirmed_stays(void **state)
{
	struct ffx *c = *state;
	long long id = sent_reminder(c), copy, appt;

	copy = q(c, "SELECT id FROM outbox WHERE origin_id = %lld AND channel_id = %d", id, WA);
	appt = q(c, "SELECT appointment_id FROM outbox WHERE id = %lld", id);
	execf(c, "UPDATE appointments SET status = 'confirmed', answered_at = %lld WHERE id = %lld;"
		 "UPDATE outbox SET not_before = %lld WHERE id = %lld",
	      (long long)time(NULL), appt, (long long)time(NULL), copy);
	outbox_kick(c->d.outbox);
	RUN_UNTIL(c, ended(c, copy));
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE id = %lld AND status = 'cancelled'", copy), 1);
	assert_int_equal(c->wa.sends, 0);
	assert_int_equal(q(c, "SELECT count(*) FROM contact_log WHERE summary = 'fallback'"), 0);
}

/* [fallback] reminder = off: nothing waits for the next chat. */
static void test_fallback_off(void **state)
{
	struct ffx *c = *state;
	long long id;

	c->d.cfg.fallback_reminder_seconds = 0;
	id = sent_reminder(c);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE origin_id = %lld", id), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_first_chat_only), T(test_blocked_goes_down), T(test_down_never_up), T(test_carrier_stop_goes_down),
		T(test_last_chat_fails),
		T(test_one_copy_per_chat), T(test_unconfirmed_reminder), T(test_confirmed_stays), T(test_fallback_off),
	};

	return cmocka_run_group_tests_name("fallback", tests, NULL, NULL);
}
