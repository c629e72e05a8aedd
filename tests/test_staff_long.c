/* Staff and long things: texts at the gateway's limit forwarded whole,
 * lists paged whatever the file's size, a reply too long refused with the
 * numbers, a command with a very long word. Apart from test_staff so that
 * the two run side by side. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/dtest.h"
#include "tests/support/staffchat.h"
#include "tests/support/texts.h"

/* The texts the bot sent to chat from message from on, joined, without the
 * spaces and line breaks a split may take out. */
static void joined_since(struct dt *t, long long chat, int from, char *out, size_t cap)
{
	cJSON *all = simctl_sent(&t->sim, chat), *m;
	size_t n = 0;
	int i = 0;

	assert_non_null(all);
	cJSON_ArrayForEach(m, all) {
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(m, "text"));

		if (i++ < from || p == NULL)
			continue;
		for (; *p != '\0' && n + 1 < cap; p++)
			if (*p != ' ' && *p != '\n')
				out[n++] = *p;
	}
	out[n] = '\0';
	cJSON_Delete(all);
}

static void squeeze(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in != '\0' && n + 1 < cap; in++)
		if (*in != ' ' && *in != '\n')
			out[n++] = *in;
	out[n] = '\0';
}

/* Texts at the gateway's limit (4096 UTF-16 units), in five scripts, reach
 * the counsellor whole, over several messages, with the reply buttons on
 * the last; a reply as long as fits beside its header ("Message from
 * Sara:", test_reply_too_long finds the exact limit) reaches the family
 * whole. */
static void test_long_texts_whole(void **state)
{
	struct dt *t = *state;
	static char text[TEXTS_MAX], want[TEXTS_MAX], got[4 * TEXTS_MAX], data[80];
	cJSON *last;
	int sara, family;

	dt_start_daemon(t);
	staffchat_setup(t, 0, 0, 0);
	dt_link_family(t);
	for (int s = 0; s < TEXTS_COUNT; s++) {
		print_message("%s\n", texts_script_name((enum texts_script)s));
		texts_long((enum texts_script)s, NULL, TEXTS_TELEGRAM_UNITS, text, sizeof(text));
		sara = dt_sent_count(t, SARA);
		assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, text) > 0);
		DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'sent'") == s + 1,
			    20000);
		assert_true(dt_sent_count(t, SARA) >= sara + 2);
		joined_since(t, SARA, sara, got, sizeof(got));
		squeeze(text, want, sizeof(want));
		assert_non_null(strstr(got, want));
		/* The counsellor answers with the Reply button, at the same length. */
		last = staffchat_last_sent(t, SARA);
		staffchat_button_data(last, "rp:", data, sizeof(data));
		assert_true(data[0] != '\0');
		sara = dt_sent_count(t, SARA);
		assert_true(simctl_button(&t->sim, SARA, data,
					  (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(last, "message_id"))) > 0);
		cJSON_Delete(last);
		DT_WAIT_SENT(t, SARA, sara + 1, 10000);
		texts_long((enum texts_script)(TEXTS_COUNT - 1 - s), NULL, TEXTS_TELEGRAM_UNITS - 128, text, sizeof(text));
		family = dt_sent_count(t, DT_FAMILY_CHAT);
		assert_true(simctl_message(&t->sim, SARA, text) > 0);
		DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'relay_reply' AND status = 'sent'") == s + 1,
			    20000);
		joined_since(t, DT_FAMILY_CHAT, family, got, sizeof(got));
		squeeze(text, want, sizeof(want));
		assert_non_null(strstr(got, want));
		assert_non_null(strstr(got, "Sara"));
	}
	/* Telegram's reply to the first part of a long forward answers it. */
	texts_long(TEXTS_LATIN, NULL, TEXTS_TELEGRAM_UNITS, text, sizeof(text));
	sara = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, text) > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'sent'") == TEXTS_COUNT + 1,
		    20000);
	family = dt_sent_count(t, DT_FAMILY_CHAT);
	{
		cJSON *all = simctl_sent(&t->sim, SARA);
		long long first = 0;

		for (int i = sara; first == 0 && i < cJSON_GetArraySize(all); i++) {
			const cJSON *m = cJSON_GetArrayItem(all, i);

			if (strstr(cJSON_GetStringValue(cJSON_GetObjectItem(m, "text")), "woord0 ") != NULL)
				first = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "message_id"));
		}
		cJSON_Delete(all);
		assert_true(first > 0);
		/* Not the last part, which the row itself is known by. */
		assert_true(first != dt_sent_message_id(t, SARA, dt_sent_count(t, SARA) - 1));
		staffchat_reply_to(t, SARA, first, "Goed ontvangen.");
	}
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'relay_reply' AND status = 'sent'") ==
		    TEXTS_COUNT + 1, 20000);
	joined_since(t, DT_FAMILY_CHAT, family, got, sizeof(got));
	assert_non_null(strstr(got, "Goedontvangen."));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'failed'"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* Lists come ten rows at a time with a More button, whatever the size of
 * the file: /log and Show log on a file with 500 contacts, /families with
 * 500 families, /alerts with twelve open alerts. Each page read is
 * audited. */
static void test_lists_paged(void **state)
{
	struct dt *t = *state;
	char data[80];
	cJSON *msg;

	dt_start_daemon(t);
	staffchat_setup(t, 0, 0, 0);
	dt_exec_sql(t, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
		       " INSERT INTO contact_log (family_id, at, direction, kind, summary, params)"
		       " SELECT 1, CAST(strftime('%s', 'now') AS INTEGER) - 1000 + i, 'in', 'text',"
		       " 'text', printf('{\"bytes\":\"%d\"}', i) FROM n");
	msg = staffchat_sara_asks(t, "/log F-1", NULL, 1);
	assert_non_null(strstr(staffchat_text_of(msg), "(500 bytes)"));
	assert_non_null(strstr(staffchat_text_of(msg), "(491 bytes)"));
	assert_null(strstr(staffchat_text_of(msg), "(490 bytes)"));
	staffchat_button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "mo:l:1:10");
	cJSON_Delete(msg);
	msg = staffchat_sara_asks(t, NULL, data, 1);
	assert_non_null(strstr(staffchat_text_of(msg), "(490 bytes)"));
	assert_non_null(strstr(staffchat_text_of(msg), "(481 bytes)"));
	assert_null(strstr(staffchat_text_of(msg), "(491 bytes)"));
	assert_null(strstr(staffchat_text_of(msg), "(480 bytes)"));
	staffchat_button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "mo:l:1:20");
	cJSON_Delete(msg);
	/* The Show log button of a forward: the same first page. */
	msg = staffchat_sara_asks(t, NULL, "lg:1:0", 1);
	assert_non_null(strstr(staffchat_text_of(msg), "(500 bytes)"));
	cJSON_Delete(msg);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'log.read'"), 3);

	dt_exec_sql(t, "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
		       " INSERT INTO families (ref, display_name, lang, counsellor_id, created_at)"
		       " SELECT printf('G-%03d', i), 'family', 'nl', 1, 1 FROM n");
	msg = staffchat_sara_asks(t, "/families", NULL, 1);
	assert_true(strlen(staffchat_text_of(msg)) < 4096);
	staffchat_button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "mo:f:0:10");
	{
		char first[4096];

		snprintf(first, sizeof(first), "%s", staffchat_text_of(msg));
		cJSON_Delete(msg);
		msg = staffchat_sara_asks(t, NULL, data, 1);
		assert_string_not_equal(first, staffchat_text_of(msg));
		assert_non_null(strstr(staffchat_text_of(msg), "G-"));
	}
	staffchat_button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "mo:f:0:20");
	cJSON_Delete(msg);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'families.read'"), 2);

	dt_exec_sql(t, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12)"
		       " INSERT INTO alerts (family_id, staff_id, kind, summary, created_at)"
		       " SELECT 1, 1, 'message', printf('alert-%02d', i), i FROM n");
	/* The count, then ten alerts; the tenth has More. */
	msg = staffchat_sara_asks(t, "/alerts", NULL, 11);
	staffchat_button_data(msg, "ak:", data, sizeof(data));
	assert_true(data[0] != '\0');
	staffchat_button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "mo:a:0:10");
	cJSON_Delete(msg);
	msg = staffchat_sara_asks(t, NULL, data, 2);
	staffchat_button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "");
	cJSON_Delete(msg);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A reply longer than one Telegram message can hold is refused whole,
 * with the limit, not cut and not answered with a usage line. */
/* The limit a refusal names: the one number below the gateway's limit
 * and well above anything else the sentence holds. */
static size_t limit_named(const char *text)
{
	size_t limit = 0;

	for (const char *p = text; *p != '\0'; p++) {
		if (isdigit((unsigned char)*p) && (p == text || !isdigit((unsigned char)p[-1]))) {
			unsigned long v = strtoul(p, NULL, 10);

			if (v > TEXTS_TELEGRAM_UNITS / 2 && v < TEXTS_TELEGRAM_UNITS)
				limit = v;
		}
	}
	return limit;
}

/* Sara presses Reply under the family's forward (in data). */
static void sara_replies(struct dt *t, const char *data)
{
	cJSON_Delete(staffchat_sara_asks(t, NULL, data, 1));
}

/* The family receives "Message from Sara:" and the words: what one
 * Telegram message holds is the limit less that header. A reply one unit
 * over is refused with the numbers; one at the limit reaches the family as
 * one message of exactly Telegram's limit. */
static void test_reply_too_long(void **state)
{
	struct dt *t = *state;
	static char text[TEXTS_MAX];
	char data[80], num[24];
	cJSON *msg;
	size_t limit;
	int n;

	dt_start_daemon(t);
	staffchat_setup(t, 0, 0, 0);
	dt_link_family(t);
	n = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Mag ik iets vragen?") > 0);
	DT_WAIT_SENT(t, SARA, n + 1, 10000);
	msg = staffchat_last_sent(t, SARA);
	staffchat_button_data(msg, "rp:", data, sizeof(data));
	assert_true(data[0] != '\0');
	cJSON_Delete(msg);

	sara_replies(t, data);
	texts_long(TEXTS_CYRILLIC, NULL, TEXTS_TELEGRAM_UNITS + 1, text, sizeof(text));
	msg = staffchat_sara_asks(t, text, NULL, 1);
	assert_non_null(strstr(staffchat_text_of(msg), "4097"));
	assert_non_null(strstr(staffchat_text_of(msg), "F-1"));
	limit = limit_named(staffchat_text_of(msg));
	cJSON_Delete(msg);
	assert_true(limit > TEXTS_TELEGRAM_UNITS - 100);

	sara_replies(t, data);
	texts_long(TEXTS_CYRILLIC, NULL, limit + 1, text, sizeof(text));
	msg = staffchat_sara_asks(t, text, NULL, 1);
	snprintf(num, sizeof(num), "%zu", limit + 1);
	assert_non_null(strstr(staffchat_text_of(msg), num));
	assert_int_equal(limit_named(staffchat_text_of(msg)), limit);
	cJSON_Delete(msg);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'relay_reply'"), 0);

	sara_replies(t, data);
	n = dt_sent_count(t, DT_FAMILY_CHAT);
	texts_long(TEXTS_CYRILLIC, NULL, limit, text, sizeof(text));
	cJSON_Delete(staffchat_sara_asks(t, text, NULL, 1));   /* "delivered" */
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'relay_reply'"
				  " AND status IN ('sent', 'delivered', 'read')"), 1);
	assert_int_equal(dt_sent_count(t, DT_FAMILY_CHAT), n + 1);
	msg = staffchat_last_sent(t, DT_FAMILY_CHAT);
	assert_int_equal(texts_units(staffchat_text_of(msg)), TEXTS_TELEGRAM_UNITS);
	assert_non_null(strstr(staffchat_text_of(msg), text));
	cJSON_Delete(msg);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A command with a long word in it gets its usage error, the word echoed
 * whole, rather than failing: a document type, an appointment kind and a
 * date of a thousand letters each. */
static void test_long_word_in_command(void **state)
{
	struct dt *t = *state;
	static char word[1001], cmd[1200];
	const char *forms[] = {"/request F-1 %s", "/appointment F-1 2099-01-01 10:00 %s", "/request F-1 other %s"};
	cJSON *msg;

	dt_start_daemon(t);
	staffchat_setup(t, 0, 0, 0);
	dt_link_family(t);
	memset(word, 'x', sizeof(word) - 1);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(cmd, sizeof(cmd), forms[i], word);
		msg = staffchat_sara_asks(t, cmd, NULL, 1);
		assert_non_null(strstr(staffchat_text_of(msg), word));
		cJSON_Delete(msg);
	}
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'failed'"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dt_setup, dt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_long_texts_whole), T(test_lists_paged), T(test_reply_too_long), T(test_long_word_in_command),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("staff_long", tests, NULL, NULL);
}
