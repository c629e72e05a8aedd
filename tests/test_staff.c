/* Staff on their phone, through the simulator: forwards and replies both
 * ways, commands, the backup while the counsellor is away, scoping
 * refusals, alert escalation, and email for staff without Telegram. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests/support/dtest.h"
#include "tests/support/texts.h"

#define SARA 9001      /* counsellor of F-1, Dutch */
#define MARC 9002      /* backup of F-1, French */
#define LOTTE 9003     /* counsellor of nobody here, German */
#define CORA 9004      /* coordinator, English */

/* The number the bot showed in chat, entered as staff confirm does. */
static void confirm_shown_number(struct dt *t, const char *name, long long chat)
{
	char text[1024], number[8];
	const char *p;

	dt_sent_text(t, chat, 0, text, sizeof(text));
	for (p = text; *p != '\0' && strspn(p, "0123456789") != 6; p++)
		;
	assert_true(*p != '\0');
	snprintf(number, sizeof(number), "%.6s", p);
	assert_int_equal(testenv_cli(&t->env, "staff", "confirm", name, number, NULL), 0);
}

/* Staff and their chats, linked the way staff link them. */
static void staff_setup(struct dt *t, int with_marc, int with_lotte, int with_cora)
{
	struct {
		const char *name, *role, *lang;
		long long chat;
		int on;
	} people[] = {
		{"Sara", NULL, NULL, SARA, 1},
		{"Marc", "counsellor", "fr", MARC, with_marc},
		{"Lotte", "counsellor", "de", LOTTE, with_lotte},
		{"Cora", "coordinator", "en", CORA, with_cora},
	};

	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
		char text[64];
		const char *p;

		if (!people[i].on)
			continue;
		if (people[i].role != NULL)
			assert_int_equal(testenv_cli(&t->env, "staff", "add", people[i].name, "--role", people[i].role,
						     "--lang", people[i].lang, NULL), 0);
		assert_int_equal(testenv_cli(&t->env, "staff", "invite", people[i].name, NULL), 0);
		p = strstr(t->env.out, "code: ");
		assert_non_null(p);
		snprintf(text, sizeof(text), "/start %.10s", p + 6);
		assert_true(simctl_message(&t->sim, people[i].chat, text) > 0);
		/* The chat shows a pairing number; entered at the CLI, it makes
		 * the chat theirs, and the welcome follows. */
		DT_WAIT_SENT(t, people[i].chat, 1, 10000);
		confirm_shown_number(t, people[i].name, people[i].chat);
		DT_WAIT_SENT(t, people[i].chat, 2, 10000);
	}
	if (with_marc)
		assert_int_equal(testenv_cli(&t->env, "family", "set", "F-1", "--backup", "Marc", NULL), 0);
}

static cJSON *last_sent(struct dt *t, long long chat)
{
	cJSON *all = simctl_sent(&t->sim, chat), *last;

	assert_non_null(all);
	last = cJSON_DetachItemFromArray(all, cJSON_GetArraySize(all) - 1);
	cJSON_Delete(all);
	assert_non_null(last);
	return last;
}

/* The callback data of the button whose data starts with prefix. */
static void button_data(const cJSON *msg, const char *prefix, char *out, size_t cap)
{
	const cJSON *rows = cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "reply_markup"), "inline_keyboard"), *row;

	out[0] = '\0';
	cJSON_ArrayForEach(row, rows) {
		const cJSON *b;

		cJSON_ArrayForEach(b, row) {
			const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(b, "callback_data"));

			if (d != NULL && strncmp(d, prefix, strlen(prefix)) == 0)
				snprintf(out, cap, "%s", d);
		}
	}
}

static void reply_to(struct dt *t, long long chat, long long message_id, const char *text)
{
	char json[512];
	cJSON *r;

	snprintf(json, sizeof(json), "{\"chat_id\":%lld,\"text\":\"%s\",\"reply_to_message_id\":%lld}", chat, text,
		 message_id);
	r = simctl_post(&t->sim, "message", json);
	assert_non_null(r);
	cJSON_Delete(r);
}

static void last_text(struct dt *t, long long chat, char *out, size_t cap)
{
	dt_sent_text(t, chat, dt_sent_count(t, chat) - 1, out, cap);
}

static void test_relay_round_trip(void **state)
{
	struct dt *t = *state;
	char text[2048], data[80], at[32];
	/* Within two days (so the reminder goes now), beyond the 24-hour ack
	 * deadline (so no alert comes between). */
	time_t when = time(NULL) + 30 * 3600;
	long long fwd_id;
	struct tm tm;
	cJSON *fwd;
	int family_before;

	dt_start_daemon(t);
	staff_setup(t, 0, 0, 0);
	dt_link_family(t);
	localtime_r(&when, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", at, "--kind", "lawyer", NULL), 0);
	DT_WAIT_SENT(t, DT_FAMILY_CHAT, 2, 10000);
	/* The family writes; Sara gets it, with what the family was answering. */
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Kan ik een uur later komen?") > 0);
	DT_WAIT_SENT(t, SARA, 3, 10000);
	fwd = last_sent(t, SARA);
	snprintf(text, sizeof(text), "%s", cJSON_GetStringValue(cJSON_GetObjectItem(fwd, "text")));
	assert_non_null(strstr(text, "F-1"));
	assert_non_null(strstr(text, "Amina"));
	assert_non_null(strstr(text, "Kan ik een uur later komen?"));
	assert_non_null(strstr(text, "Herinnering"));
	button_data(fwd, "rp:", data, sizeof(data));
	assert_true(data[0] != '\0');
	button_data(fwd, "lg:", data, sizeof(data));
	assert_true(data[0] != '\0');
	fwd_id = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(fwd, "message_id"));
	cJSON_Delete(fwd);
	/* Once sent, the forward keeps no words in the store. */
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'sent'") == 1, 5000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE params LIKE '%%later komen%%'"), 0);
	/* Sara answers with Telegram's reply: the family gets it, signed. The
	 * family's acknowledgement goes first. */
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward_ack' AND status = 'sent'") == 1, 5000);
	family_before = dt_sent_count(t, DT_FAMILY_CHAT);
	reply_to(t, SARA, fwd_id, "Ja, dat is goed.");
	DT_WAIT_SENT_EXACTLY(t, DT_FAMILY_CHAT, family_before + 1, 10000);
	last_text(t, DT_FAMILY_CHAT, text, sizeof(text));
	assert_non_null(strstr(text, "Sara"));
	assert_non_null(strstr(text, "Ja, dat is goed."));
	/* And Sara hears it was delivered. */
	DT_WAIT_SENT(t, SARA, 4, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log WHERE kind = 'reply' AND staff_id = 1"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log WHERE direction = 'out' AND kind = 'relay_reply'"
				 " AND staff_id = 1"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE params LIKE '%%dat is goed%%'"), 0);
	/* The Reply button, then a text. */
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "En morgen?") > 0);
	DT_WAIT_SENT(t, SARA, 5, 10000);
	fwd = last_sent(t, SARA);
	button_data(fwd, "rp:", data, sizeof(data));
	assert_true(simctl_button(&t->sim, SARA, data, (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(fwd, "message_id"))) > 0);
	cJSON_Delete(fwd);
	DT_WAIT_SENT(t, SARA, 6, 10000);
	family_before = dt_sent_count(t, DT_FAMILY_CHAT);
	assert_true(simctl_message(&t->sim, SARA, "Morgen om 10 uur.") > 0);
	DT_WAIT_SENT_EXACTLY(t, DT_FAMILY_CHAT, family_before + 1, 10000);
	last_text(t, DT_FAMILY_CHAT, text, sizeof(text));
	assert_non_null(strstr(text, "Morgen om 10 uur."));
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A photo from the family reaches the counsellor as the file itself. */
static void test_forwarded_file(void **state)
{
	struct dt *t = *state;
	char text[512];

	dt_start_daemon(t);
	staff_setup(t, 0, 0, 0);
	dt_link_family(t);
	assert_true(simctl_voice(&t->sim, DT_FAMILY_CHAT, 12) > 0);
	DT_WAIT_SENT(t, SARA, 4, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "[voice "));
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

static void test_away_and_backup(void **state)
{
	struct dt *t = *state;
	char text[2048];
	long long old_fwd;
	int sara, marc;

	dt_start_daemon(t);
	staff_setup(t, 1, 0, 0);
	dt_link_family(t);
	assert_true(simctl_message(&t->sim, SARA, "/away on") > 0);
	DT_WAIT_SENT(t, SARA, 3, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "Marc"));
	sara = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Hallo?") > 0);
	DT_WAIT_SENT(t, MARC, 3, 10000);
	last_text(t, MARC, text, sizeof(text));
	assert_non_null(strstr(text, "Hallo?"));
	old_fwd = dt_sent_message_id(t, MARC, dt_sent_count(t, MARC) - 1);
	/* The backup reaches the family while Sara is away. */
	assert_true(simctl_message(&t->sim, MARC, "/log F-1") > 0);
	DT_WAIT_SENT(t, MARC, 4, 10000);
	last_text(t, MARC, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_null(strstr(text, "Hallo?"));
	assert_int_equal(dt_sent_count(t, SARA), sara);
	/* Back: forwards go to Sara again, and Marc's reach ends. */
	assert_true(simctl_message(&t->sim, SARA, "/away off") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, sara + 1, 10000);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Nog iets") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, sara + 2, 10000);
	marc = dt_sent_count(t, MARC);
	reply_to(t, MARC, old_fwd, "Je reviens vers vous.");
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 1, 10000);
	last_text(t, MARC, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'scope.refused' AND actor = 'staff:Marc'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'relay_reply'"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

static void test_commands_and_scoping(void **state)
{
	struct dt *t = *state;
	static const char *const refused[] = {
		"/log F-1", "/appointment F-1 2099-12-03 14:00 lawyer", "/request F-1 passport",
		"/checkin F-1 off", "/checkin F-1 every 7d mon 10:00",
	};
	char text[4096];
	int n;

	dt_start_daemon(t);
	staff_setup(t, 0, 1, 1);
	/* Lotte follows nobody here: every command about F-1 is refused,
	 * audited, and changes nothing. */
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		n = dt_sent_count(t, LOTTE);
		assert_true(simctl_message(&t->sim, LOTTE, refused[i]) > 0);
		DT_WAIT_SENT_EXACTLY(t, LOTTE, n + 1, 10000);
		last_text(t, LOTTE, text, sizeof(text));
		assert_non_null(strstr(text, "F-1"));
	}
	/* The Show log button too. */
	n = dt_sent_count(t, LOTTE);
	assert_true(simctl_button(&t->sim, LOTTE, "lg:1:0", 1) > 0);
	DT_WAIT_SENT_EXACTLY(t, LOTTE, n + 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'scope.refused' AND actor = 'staff:Lotte'"), 6);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM appointments"), 0);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM document_requests"), 0);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM checkin_plans"), 0);
	/* Sara, the counsellor: the same commands work, through the CLI's code. */
	n = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, SARA, "/appointment F-1 2099-12-03 14:00 lawyer Rue Haute 1, Brussel") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM appointments WHERE kind = 'lawyer'"
				 " AND place = 'Rue Haute 1, Brussel'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'reminder'"), 2);
	assert_true(simctl_message(&t->sim, SARA, "/request F-1 birth_certificate 2099-01-31") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 2, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM document_requests WHERE due_date = '2099-01-31'"), 1);
	assert_true(simctl_message(&t->sim, SARA, "/checkin F-1 every 2w fri 16:30") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 3, 10000);
	assert_int_equal(dt_q(t, "SELECT every_days FROM checkin_plans"), 14);
	/* Bad arguments get an explanation with an example, and write nothing. */
	assert_true(simctl_message(&t->sim, SARA, "/appointment F-1 2099-02-30 14:00 lawyer") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 4, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "2099-02-30"));
	assert_true(simctl_message(&t->sim, SARA, "/request F-1") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 5, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "/request "));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM appointments"), 1);
	assert_true(simctl_message(&t->sim, SARA, "/families") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 6, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_true(simctl_message(&t->sim, SARA, "/help") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 7, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "/away"));
	/* The coordinator reaches every family. */
	n = dt_sent_count(t, CORA);
	assert_true(simctl_message(&t->sim, CORA, "/log F-1") > 0);
	DT_WAIT_SENT_EXACTLY(t, CORA, n + 1, 10000);
	last_text(t, CORA, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'log.read' AND actor = 'staff:Cora'"), 1);
	/* A pairing number, once shown, is kept only as a hash. */
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'staff_pairing' AND status = 'sent'"), 3);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'staff_pairing' AND params <> '{}'"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* Through the daemon: a chat that redeemed Sara's code shows the number
 * and gets nothing of Sara's until the number is entered; what waited for
 * her then arrives. */
static void test_pending_chat_gets_nothing(void **state)
{
	struct dt *t = *state;
	char text[2048];
	const char *p;

	dt_start_daemon(t);
	assert_int_equal(testenv_cli(&t->env, "staff", "invite", "Sara", NULL), 0);
	p = strstr(t->env.out, "code: ");
	assert_non_null(p);
	snprintf(text, sizeof(text), "/start %.10s", p + 6);
	assert_true(simctl_message(&t->sim, SARA, text) > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, 1, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_null(strstr(text, "Sara"));
	dt_link_family(t);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Is er nieuws over de afspraak?") > 0);
	/* The family hears its message will be read; the pending chat hears
	 * nothing, not even an answer to a command. */
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward_ack' AND status = 'sent'") == 1, 10000);
	assert_true(simctl_message(&t->sim, SARA, "/families") > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'new'") == 0, 30000);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending') AND staff_id IS NULL") == 0,
		    10000);
	assert_int_equal(dt_sent_count(t, SARA), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'queued'"), 1);
	confirm_shown_number(t, "Sara", SARA);
	DT_WAIT_SENT_EXACTLY(t, SARA, 3, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'sent'"), 1);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

static void expect_dutch(const char *text)
{
	char key[64];
	const char *english = testenv_english_word(text);

	if (english != NULL)
		fail_msg("English word \"%s\" in:\n%s", english, text);
	if (testenv_catalog_key(text, key, sizeof(key)) != NULL)
		fail_msg("\"%s\" in:\n%s", key, text);
}

/* Sara reads Dutch: an alert's details, the family's log and her check-in
 * plan come in Dutch, with no English sentence, catalog key or code, and
 * one day is "elke dag". */
static void test_staff_read_their_language(void **state)
{
	struct dt *t = *state;
	char text[4096];
	int n;

	dt_start_daemon(t);
	staff_setup(t, 0, 0, 0);
	dt_link_family(t);
	n = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "stop") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 1, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "Melding voor F-1: heeft STOP gestuurd\nDetails: "));
	expect_dutch(text);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "start") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 2, 10000);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Hallo, hoe gaat het?") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 3, 10000);
	assert_true(simctl_message(&t->sim, SARA, "/checkin F-1 every 1d mon 10:00") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 4, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "Check-ins voor F-1 elke dag. Volgende: "));
	/* The log shows what went out too, once it went. */
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM contact_log WHERE direction = 'out' AND kind = 'stop_ack'") == 1, 10000);
	assert_true(simctl_message(&t->sim, SARA, "/log F-1") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 5, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "Contacten van F-1:"));
	assert_non_null(strstr(text, "Stuurde STOP"));
	assert_non_null(strstr(text, "Tekstbericht (20 bytes)"));
	assert_non_null(strstr(text, "Verstuurd: bevestiging van STOP"));
	expect_dutch(text);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

static int setup_escalation(void **state)
{
	return dt_setup_with(state, "[alerts]\nescalate_after = 2s\nworking_hours = 00:00-23:59\n"
				    "working_days = mon-sun\n");
}

static void test_alert_escalation(void **state)
{
	struct dt *t = *state;
	char data[64];
	cJSON *msg;
	int marc, cora;

	dt_start_daemon(t);
	staff_setup(t, 1, 0, 1);
	dt_link_family(t);
	marc = dt_sent_count(t, MARC);
	cora = dt_sent_count(t, CORA);
	/* STOP raises an alert for Sara; nobody acknowledges it. */
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "stop") > 0);
	DT_WAIT_SENT(t, SARA, 3, 10000);
	msg = last_sent(t, SARA);
	button_data(msg, "ak:", data, sizeof(data));
	assert_true(data[0] != '\0');
	cJSON_Delete(msg);
	/* Passed on to the backup, then to the coordinators. */
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 1, 30000);
	DT_WAIT_SENT_EXACTLY(t, CORA, cora + 1, 30000);
	assert_int_equal(dt_q(t, "SELECT escalation FROM alerts WHERE kind = 'stop'"), 2);
	/* The coordinator acknowledges it: done, for everybody. */
	msg = last_sent(t, CORA);
	button_data(msg, "ak:", data, sizeof(data));
	cJSON_Delete(msg);
	assert_true(simctl_button(&t->sim, CORA, data, 1) > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'stop' AND acked_by ="
			     " (SELECT id FROM staff WHERE name = 'Cora')") == 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'alert.escalate'"), 2);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* "Handled" on one copy of an urgent alert closes every copy, for
 * everybody; a reply to a forward handles that forward's alert. */
static void test_handled_closes_every_copy(void **state)
{
	struct dt *t = *state;
	char data[64], text[1024];
	long long fwd_id;
	cJSON *msg;
	int sara, marc;

	dt_start_daemon(t);
	staff_setup(t, 1, 0, 0);
	dt_link_family(t);
	sara = dt_sent_count(t, SARA);
	marc = dt_sent_count(t, MARC);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "de politie staat voor de deur") > 0);
	DT_WAIT_FOR(dt_sent_count(t, SARA) == sara + 1 && dt_sent_count(t, MARC) == marc + 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'urgent' AND acked_at IS NULL"), 2);
	msg = last_sent(t, SARA);
	button_data(msg, "mh:", data, sizeof(data));
	assert_true(data[0] != '\0');
	assert_true(simctl_button(&t->sim, SARA, data, (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(msg, "message_id"))) > 0);
	cJSON_Delete(msg);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'urgent' AND acked_at IS NULL") == 0, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'urgent' AND acked_by = 1"), 2);
	/* Marc has nothing open any more. */
	marc = dt_sent_count(t, MARC);
	assert_true(simctl_message(&t->sim, MARC, "/alerts") > 0);
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 1, 10000);
	last_text(t, MARC, text, sizeof(text));
	assert_null(strstr(text, "F-1"));
	/* Sara answers a forward: its alert is handled by that. */
	sara = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Wanneer kom je langs?") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, sara + 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'message' AND acked_at IS NULL"), 1);
	fwd_id = dt_sent_message_id(t, SARA, dt_sent_count(t, SARA) - 1);
	reply_to(t, SARA, fwd_id, "Morgen om 10 uur.");
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'message' AND acked_by = 1") == 1, 10000);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* An escalated forward carries the family's words, and the one it went to
 * may read and answer the family while the alert is open, each read
 * audited. The words leave the store when the alert is closed. */
static void test_escalated_forward(void **state)
{
	struct dt *t = *state;
	char text[2048];
	long long fwd_id;
	int marc, family;

	dt_start_daemon(t);
	staff_setup(t, 1, 0, 0);
	dt_link_family(t);
	marc = dt_sent_count(t, MARC);
	/* Before: Marc does not reach F-1. */
	assert_true(simctl_message(&t->sim, MARC, "/log F-1") > 0);
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'scope.refused' AND actor = 'staff:Marc'"), 1);
	marc = dt_sent_count(t, MARC);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Mijn zoon is ziek vandaag") > 0);
	/* Nobody handles it: Marc gets the words, and who had it first. */
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 1, 30000);
	last_text(t, MARC, text, sizeof(text));
	assert_non_null(strstr(text, "Mijn zoon is ziek vandaag"));
	assert_non_null(strstr(text, "Sara"));
	assert_null(strstr(text, "bytes"));
	fwd_id = dt_sent_message_id(t, MARC, dt_sent_count(t, MARC) - 1);
	/* He may read the log now, and the read is audited. */
	assert_true(simctl_message(&t->sim, MARC, "/log F-1") > 0);
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 2, 10000);
	last_text(t, MARC, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'log.read' AND actor = 'staff:Marc'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'scope.refused' AND actor = 'staff:Marc'"), 1);
	/* And answer: the family gets it, the alert is handled, the words are gone. */
	family = dt_sent_count(t, DT_FAMILY_CHAT);
	reply_to(t, MARC, fwd_id, "Beterschap, ik bel morgen.");
	DT_WAIT_SENT_EXACTLY(t, DT_FAMILY_CHAT, family + 1, 10000);
	last_text(t, DT_FAMILY_CHAT, text, sizeof(text));
	assert_non_null(strstr(text, "Beterschap, ik bel morgen."));
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM alerts WHERE acked_at IS NULL") == 0, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE forward IS NOT NULL"), 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE params LIKE '%%ziek vandaag%%'") == 0, 5000);
	/* Closed: Marc's reach ends with it. */
	marc = dt_sent_count(t, MARC);
	assert_true(simctl_message(&t->sim, MARC, "/log F-1") > 0);
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'scope.refused' AND actor = 'staff:Marc'"), 2);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* Urgent: both the counsellor and the backup, at once. */
static void test_urgent_to_both(void **state)
{
	struct dt *t = *state;
	char text[1024];
	int sara, marc;

	dt_start_daemon(t);
	staff_setup(t, 1, 0, 0);
	dt_link_family(t);
	sara = dt_sent_count(t, SARA);
	marc = dt_sent_count(t, MARC);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "de politie staat voor de deur") > 0);
	DT_WAIT_FOR(dt_sent_count(t, SARA) == sara + 1 && dt_sent_count(t, MARC) == marc + 1, 10000);
	last_text(t, MARC, text, sizeof(text));
	assert_non_null(strstr(text, "politie staat voor de deur"));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'urgent' AND urgent = 1"), 2);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A closed family that writes "police" still gets the emergency number,
 * and its counsellor is alerted. */
static void test_urgent_from_closed_family(void **state)
{
	struct dt *t = *state;
	char text[1024];
	int sara, family;

	dt_start_daemon(t);
	staff_setup(t, 0, 0, 0);
	dt_link_family(t);
	assert_int_equal(testenv_cli(&t->env, "family", "close", "F-1", NULL), 0);
	sara = dt_sent_count(t, SARA);
	family = dt_sent_count(t, DT_FAMILY_CHAT);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "de politie is hier") > 0);
	DT_WAIT_SENT_EXACTLY(t, DT_FAMILY_CHAT, family + 1, 10000);
	last_text(t, DT_FAMILY_CHAT, text, sizeof(text));
	assert_non_null(strstr(text, "112"));
	DT_WAIT_SENT_EXACTLY(t, SARA, sara + 1, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "politie is hier"));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'urgent' AND staff_id = 1"), 1);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* Telegram's edited_message: the counsellor gets the new words marked as
 * an edit, "help" edited is not answered again, and an edited staff
 * command does not run twice. */
static void test_edited_messages(void **state)
{
	struct dt *t = *state;
	char text[2048], json[512];
	int sara, family;

	dt_start_daemon(t);
	staff_setup(t, 0, 0, 0);
	dt_link_family(t);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "help") > 0);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'help.menu' AND status = 'sent'") == 1,
		    10000);
	family = dt_sent_count(t, DT_FAMILY_CHAT);
	sara = dt_sent_count(t, SARA);
	snprintf(json, sizeof(json), "{\"edited_message\":{\"message_id\":900,\"date\":%lld,\"edit_date\":%lld,"
		 "\"chat\":{\"id\":%d,\"type\":\"private\"},\"text\":\"help, de school belde\"}}",
		 (long long)time(NULL) - 60, (long long)time(NULL), DT_FAMILY_CHAT);
	assert_true(simctl_raw(&t->sim, json) > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, sara + 1, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "Bewerkt"));
	assert_non_null(strstr(text, "help, de school belde"));
	/* No second help menu (the acknowledgement of the forward, at most). */
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'new'") == 0, 5000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'help.menu'"), 1);
	assert_true(dt_sent_count(t, DT_FAMILY_CHAT) <= family + 1);
	/* Sara edits a command: it does not run again, and she is told why. */
	snprintf(json, sizeof(json), "{\"edited_message\":{\"message_id\":901,\"date\":%lld,\"edit_date\":%lld,"
		 "\"chat\":{\"id\":%d,\"type\":\"private\"},\"text\":\"/away on\"}}",
		 (long long)time(NULL) - 60, (long long)time(NULL), SARA);
	assert_true(simctl_raw(&t->sim, json) > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, sara + 2, 10000);
	last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "niet doorgegeven"));
	assert_int_equal(dt_q(t, "SELECT away FROM staff WHERE name = 'Sara'"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A real SMTP server: Debian's aiosmtpd, writing a maildir. */
static pid_t start_smtp(const char *maildir, int port)
{
	char listen[32];
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	pid = fork();
	if (pid == 0) {
		execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen, "-c",
		      "aiosmtpd.handlers.Mailbox", maildir, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* The messages in maildir/new whose text contains needle, counted; the
 * first one copied into out (when given). */
static int mails_with(const char *maildir, const char *needle, char *out, size_t cap)
{
	char dir[512], path[1024];
	static char body[65536];
	struct dirent *e;
	int found = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/new", maildir);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(dp)) != NULL) {
		FILE *fp;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		n = fread(body, 1, sizeof(body) - 1, fp);
		body[n] = '\0';
		fclose(fp);
		if (strstr(body, needle) == NULL)
			continue;
		if (found++ == 0 && out != NULL)
			snprintf(out, cap, "%s", body);
	}
	closedir(dp);
	return found;
}

static void test_email_for_staff_without_telegram(void **state)
{
	struct dt *t = *state;
	static char mail[65536];
	char maildir[400];
	int port = dt_free_port(), status;
	pid_t smtp;
	FILE *fp;

	snprintf(maildir, sizeof(maildir), "%s/maildir", t->env.dir);
	smtp = start_smtp(maildir, port);
	assert_true(smtp > 0);
	fp = fopen(t->env.conf, "a");
	fprintf(fp, "[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = casebot@example.org\ndigest_at = 00:00\n", port);
	fclose(fp);
	/* Eva has an email address and no Telegram. */
	assert_int_equal(testenv_cli(&t->env, "staff", "add", "Eva", "--role", "counsellor", "--lang", "en",
				     "--email", "eva@example.org", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "family", "set", "F-1", "--counsellor", "Eva", NULL), 0);
	/* The mail server is up before the daemon needs it. */
	DT_WAIT_FOR(dt_port_open(port), 10000);
	dt_start_daemon(t);
	dt_link_family(t);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Mijn zoon is ziek vandaag") > 0);
	DT_WAIT_FOR(mails_with(maildir, "Subject: New message from family F-1", mail, sizeof(mail)) == 1, 20000);
	assert_non_null(strstr(mail, "To: eva@example.org"));
	assert_non_null(strstr(mail, "From: casebot@example.org"));
	/* The subject names the family's reference, never its words. */
	{
		char *subject = strstr(mail, "Subject: "), *eol;

		assert_non_null(subject);
		eol = strchr(subject, '\n');
		assert_non_null(eol);
		*eol = '\0';
		assert_non_null(strstr(subject, "F-1"));
		assert_null(strstr(subject, "ziek"));
		*eol = '\n';
	}
	assert_non_null(strstr(mail, "Mijn zoon is ziek vandaag"));
	/* The daily digest came too, once. */
	DT_WAIT_FOR(mails_with(maildir, "Subject: casebot daily summary", mail, sizeof(mail)) == 1, 20000);
	assert_non_null(strstr(mail, "Your families since the last summary:"));
	assert_null(strstr(mail, "ziek"));
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'sent'") == 1, 5000);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	kill(smtp, SIGTERM);
	waitpid(smtp, &status, 0);
}

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
	staff_setup(t, 0, 0, 0);
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
		last = last_sent(t, SARA);
		button_data(last, "rp:", data, sizeof(data));
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
		reply_to(t, SARA, first, "Goed ontvangen.");
	}
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'relay_reply' AND status = 'sent'") ==
		    TEXTS_COUNT + 1, 20000);
	joined_since(t, DT_FAMILY_CHAT, family, got, sizeof(got));
	assert_non_null(strstr(got, "Goedontvangen."));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'failed'"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* Sends text (or presses the button with data) as Sara and returns the
 * last message she got once n more came. */
static cJSON *sara_asks(struct dt *t, const char *text, const char *data, int n)
{
	int before = dt_sent_count(t, SARA);

	if (data != NULL)
		assert_true(simctl_button(&t->sim, SARA, data, 1) > 0);
	else
		assert_true(simctl_message(&t->sim, SARA, text) > 0);
	DT_WAIT_SENT(t, SARA, before + n, 30000);
	return last_sent(t, SARA);
}

static const char *text_of(const cJSON *msg)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(msg, "text"));

	assert_non_null(s);
	return s;
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
	staff_setup(t, 0, 0, 0);
	dt_exec_sql(t, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
		       " INSERT INTO contact_log (family_id, at, direction, kind, summary, params)"
		       " SELECT 1, CAST(strftime('%s', 'now') AS INTEGER) - 1000 + i, 'in', 'text',"
		       " 'text', printf('{\"bytes\":\"%d\"}', i) FROM n");
	msg = sara_asks(t, "/log F-1", NULL, 1);
	assert_non_null(strstr(text_of(msg), "(500 bytes)"));
	assert_non_null(strstr(text_of(msg), "(491 bytes)"));
	assert_null(strstr(text_of(msg), "(490 bytes)"));
	button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "mo:l:1:10");
	cJSON_Delete(msg);
	msg = sara_asks(t, NULL, data, 1);
	assert_non_null(strstr(text_of(msg), "(490 bytes)"));
	assert_non_null(strstr(text_of(msg), "(481 bytes)"));
	assert_null(strstr(text_of(msg), "(491 bytes)"));
	assert_null(strstr(text_of(msg), "(480 bytes)"));
	button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "mo:l:1:20");
	cJSON_Delete(msg);
	/* The Show log button of a forward: the same first page. */
	msg = sara_asks(t, NULL, "lg:1:0", 1);
	assert_non_null(strstr(text_of(msg), "(500 bytes)"));
	cJSON_Delete(msg);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'log.read'"), 3);

	dt_exec_sql(t, "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
		       " INSERT INTO families (ref, display_name, lang, counsellor_id, created_at)"
		       " SELECT printf('G-%03d', i), 'family', 'nl', 1, 1 FROM n");
	msg = sara_asks(t, "/families", NULL, 1);
	assert_true(strlen(text_of(msg)) < 4096);
	button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "mo:f:0:10");
	{
		char first[4096];

		snprintf(first, sizeof(first), "%s", text_of(msg));
		cJSON_Delete(msg);
		msg = sara_asks(t, NULL, data, 1);
		assert_string_not_equal(first, text_of(msg));
		assert_non_null(strstr(text_of(msg), "G-"));
	}
	button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "mo:f:0:20");
	cJSON_Delete(msg);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'families.read'"), 2);

	dt_exec_sql(t, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12)"
		       " INSERT INTO alerts (family_id, staff_id, kind, summary, created_at)"
		       " SELECT 1, 1, 'message', printf('alert-%02d', i), i FROM n");
	/* The count, then ten alerts; the tenth has More. */
	msg = sara_asks(t, "/alerts", NULL, 11);
	button_data(msg, "ak:", data, sizeof(data));
	assert_true(data[0] != '\0');
	button_data(msg, "mo:", data, sizeof(data));
	assert_string_equal(data, "mo:a:0:10");
	cJSON_Delete(msg);
	msg = sara_asks(t, NULL, data, 2);
	button_data(msg, "mo:", data, sizeof(data));
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
	cJSON_Delete(sara_asks(t, NULL, data, 1));
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
	staff_setup(t, 0, 0, 0);
	dt_link_family(t);
	n = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Mag ik iets vragen?") > 0);
	DT_WAIT_SENT(t, SARA, n + 1, 10000);
	msg = last_sent(t, SARA);
	button_data(msg, "rp:", data, sizeof(data));
	assert_true(data[0] != '\0');
	cJSON_Delete(msg);

	sara_replies(t, data);
	texts_long(TEXTS_CYRILLIC, NULL, TEXTS_TELEGRAM_UNITS + 1, text, sizeof(text));
	msg = sara_asks(t, text, NULL, 1);
	assert_non_null(strstr(text_of(msg), "4097"));
	assert_non_null(strstr(text_of(msg), "F-1"));
	limit = limit_named(text_of(msg));
	cJSON_Delete(msg);
	assert_true(limit > TEXTS_TELEGRAM_UNITS - 100);

	sara_replies(t, data);
	texts_long(TEXTS_CYRILLIC, NULL, limit + 1, text, sizeof(text));
	msg = sara_asks(t, text, NULL, 1);
	snprintf(num, sizeof(num), "%zu", limit + 1);
	assert_non_null(strstr(text_of(msg), num));
	assert_int_equal(limit_named(text_of(msg)), limit);
	cJSON_Delete(msg);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'relay_reply'"), 0);

	sara_replies(t, data);
	n = dt_sent_count(t, DT_FAMILY_CHAT);
	texts_long(TEXTS_CYRILLIC, NULL, limit, text, sizeof(text));
	cJSON_Delete(sara_asks(t, text, NULL, 1));   /* "delivered" */
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'relay_reply'"
				  " AND status IN ('sent', 'delivered', 'read')"), 1);
	assert_int_equal(dt_sent_count(t, DT_FAMILY_CHAT), n + 1);
	msg = last_sent(t, DT_FAMILY_CHAT);
	assert_int_equal(texts_units(text_of(msg)), TEXTS_TELEGRAM_UNITS);
	assert_non_null(strstr(text_of(msg), text));
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
	staff_setup(t, 0, 0, 0);
	dt_link_family(t);
	memset(word, 'x', sizeof(word) - 1);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(cmd, sizeof(cmd), forms[i], word);
		msg = sara_asks(t, cmd, NULL, 1);
		assert_non_null(strstr(text_of(msg), word));
		cJSON_Delete(msg);
	}
	assert_int_equal(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'failed'"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dt_setup, dt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_urgent_from_closed_family), T(test_edited_messages), T(test_handled_closes_every_copy),
		cmocka_unit_test_setup_teardown(test_escalated_forward, setup_escalation, dt_teardown),
		T(test_relay_round_trip), T(test_forwarded_file), T(test_away_and_backup),
		T(test_commands_and_scoping), T(test_pending_chat_gets_nothing),
		T(test_staff_read_their_language),
		cmocka_unit_test_setup_teardown(test_alert_escalation, setup_escalation, dt_teardown),
		T(test_urgent_to_both), T(test_email_for_staff_without_telegram), T(test_long_texts_whole), T(test_lists_paged), T(test_reply_too_long),
		T(test_long_word_in_command),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("staff", tests, NULL, NULL);
}
