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
#include "tests/support/mailbox.h"
#include "tests/support/staffchat.h"
#include "tests/support/texts.h"



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
	staffchat_setup(t, 0, 0, 0);
	dt_link_family(t);
	localtime_r(&when, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", at, "--kind", "lawyer", NULL), 0);
	DT_WAIT_SENT(t, DT_FAMILY_CHAT, 2, 10000);
	/* The family writes; Sara gets it, with what the family was answering. */
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Kan ik een uur later komen?") > 0);
	DT_WAIT_SENT(t, SARA, 3, 10000);
	fwd = staffchat_last_sent(t, SARA);
	snprintf(text, sizeof(text), "%s", cJSON_GetStringValue(cJSON_GetObjectItem(fwd, "text")));
	assert_non_null(strstr(text, "F-1"));
	assert_non_null(strstr(text, "Amina"));
	assert_non_null(strstr(text, "Kan ik een uur later komen?"));
	assert_non_null(strstr(text, "Herinnering"));
	staffchat_button_data(fwd, "rp:", data, sizeof(data));
	assert_true(data[0] != '\0');
	staffchat_button_data(fwd, "lg:", data, sizeof(data));
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
	staffchat_reply_to(t, SARA, fwd_id, "Ja, dat is goed.");
	DT_WAIT_SENT_EXACTLY(t, DT_FAMILY_CHAT, family_before + 1, 10000);
	staffchat_last_text(t, DT_FAMILY_CHAT, text, sizeof(text));
	assert_non_null(strstr(text, "Sara"));
	assert_non_null(strstr(text, "Ja, dat is goed."));
	/* And Sara hears it was delivered. */
	DT_WAIT_SENT(t, SARA, 4, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log WHERE kind = 'reply' AND staff_id = 1"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log WHERE direction = 'out' AND kind = 'relay_reply'"
				 " AND staff_id = 1"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM outbox WHERE params LIKE '%%dat is goed%%'"), 0);
	/* The Reply button, then a text. */
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "En morgen?") > 0);
	DT_WAIT_SENT(t, SARA, 5, 10000);
	fwd = staffchat_last_sent(t, SARA);
	staffchat_button_data(fwd, "rp:", data, sizeof(data));
	assert_true(simctl_button(&t->sim, SARA, data, (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(fwd, "message_id"))) > 0);
	cJSON_Delete(fwd);
	DT_WAIT_SENT(t, SARA, 6, 10000);
	family_before = dt_sent_count(t, DT_FAMILY_CHAT);
	assert_true(simctl_message(&t->sim, SARA, "Morgen om 10 uur.") > 0);
	DT_WAIT_SENT_EXACTLY(t, DT_FAMILY_CHAT, family_before + 1, 10000);
	staffchat_last_text(t, DT_FAMILY_CHAT, text, sizeof(text));
	assert_non_null(strstr(text, "Morgen om 10 uur."));
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A photo from the family reaches the counsellor as the file itself. */
static void test_forwarded_file(void **state)
{
	struct dt *t = *state;
	char text[512];

	dt_start_daemon(t);
	staffchat_setup(t, 0, 0, 0);
	dt_link_family(t);
	assert_true(simctl_voice(&t->sim, DT_FAMILY_CHAT, 12) > 0);
	DT_WAIT_SENT(t, SARA, 4, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
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
	staffchat_setup(t, 1, 0, 0);
	dt_link_family(t);
	assert_true(simctl_message(&t->sim, SARA, "/away on") > 0);
	DT_WAIT_SENT(t, SARA, 3, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "Marc"));
	sara = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Hallo?") > 0);
	DT_WAIT_SENT(t, MARC, 3, 10000);
	staffchat_last_text(t, MARC, text, sizeof(text));
	assert_non_null(strstr(text, "Hallo?"));
	old_fwd = dt_sent_message_id(t, MARC, dt_sent_count(t, MARC) - 1);
	/* The backup reaches the family while Sara is away. */
	assert_true(simctl_message(&t->sim, MARC, "/log F-1") > 0);
	DT_WAIT_SENT(t, MARC, 4, 10000);
	staffchat_last_text(t, MARC, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_null(strstr(text, "Hallo?"));
	assert_int_equal(dt_sent_count(t, SARA), sara);
	/* Back: forwards go to Sara again, and Marc's reach ends. */
	assert_true(simctl_message(&t->sim, SARA, "/away off") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, sara + 1, 10000);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Nog iets") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, sara + 2, 10000);
	marc = dt_sent_count(t, MARC);
	staffchat_reply_to(t, MARC, old_fwd, "Je reviens vers vous.");
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 1, 10000);
	staffchat_last_text(t, MARC, text, sizeof(text));
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
	staffchat_setup(t, 0, 1, 1);
	/* Lotte follows nobody here: every command about F-1 is refused,
	 * audited, and changes nothing. */
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		n = dt_sent_count(t, LOTTE);
		assert_true(simctl_message(&t->sim, LOTTE, refused[i]) > 0);
		DT_WAIT_SENT_EXACTLY(t, LOTTE, n + 1, 10000);
		staffchat_last_text(t, LOTTE, text, sizeof(text));
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
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "2099-02-30"));
	assert_true(simctl_message(&t->sim, SARA, "/request F-1") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 5, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "/request "));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM appointments"), 1);
	assert_true(simctl_message(&t->sim, SARA, "/families") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 6, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_true(simctl_message(&t->sim, SARA, "/help") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 7, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "/away"));
	/* The coordinator reaches every family. */
	n = dt_sent_count(t, CORA);
	assert_true(simctl_message(&t->sim, CORA, "/log F-1") > 0);
	DT_WAIT_SENT_EXACTLY(t, CORA, n + 1, 10000);
	staffchat_last_text(t, CORA, text, sizeof(text));
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
	staffchat_last_text(t, SARA, text, sizeof(text));
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
	staffchat_confirm(t, "Sara", SARA);
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
	staffchat_setup(t, 0, 0, 0);
	dt_link_family(t);
	n = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "stop") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 1, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "Melding voor F-1: heeft STOP gestuurd\nDetails: "));
	expect_dutch(text);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "start") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 2, 10000);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Hallo, hoe gaat het?") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 3, 10000);
	assert_true(simctl_message(&t->sim, SARA, "/checkin F-1 every 1d mon 10:00") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 4, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "Check-ins voor F-1 elke dag. Volgende: "));
	/* The log shows what went out too, once it went. */
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM contact_log WHERE direction = 'out' AND kind = 'stop_ack'") == 1, 10000);
	assert_true(simctl_message(&t->sim, SARA, "/log F-1") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 5, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "Contacten van F-1:"));
	assert_non_null(strstr(text, "Stuurde STOP"));
	assert_non_null(strstr(text, "Tekstbericht (20 bytes)"));
	assert_non_null(strstr(text, "Verstuurd: bevestiging van STOP"));
	/* What went to the family says on which chat it went. */
	assert_non_null(strstr(text, " Telegram: Verstuurd: bevestiging van STOP"));
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
	staffchat_setup(t, 1, 0, 1);
	dt_link_family(t);
	marc = dt_sent_count(t, MARC);
	cora = dt_sent_count(t, CORA);
	/* STOP raises an alert for Sara; nobody acknowledges it. */
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "stop") > 0);
	DT_WAIT_SENT(t, SARA, 3, 10000);
	msg = staffchat_last_sent(t, SARA);
	staffchat_button_data(msg, "ak:", data, sizeof(data));
	assert_true(data[0] != '\0');
	cJSON_Delete(msg);
	/* Passed on to the backup, then to the coordinators. */
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 1, 30000);
	DT_WAIT_SENT_EXACTLY(t, CORA, cora + 1, 30000);
	assert_int_equal(dt_q(t, "SELECT escalation FROM alerts WHERE kind = 'stop'"), 2);
	/* The coordinator acknowledges it: done, for everybody. */
	msg = staffchat_last_sent(t, CORA);
	staffchat_button_data(msg, "ak:", data, sizeof(data));
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
	staffchat_setup(t, 1, 0, 0);
	dt_link_family(t);
	sara = dt_sent_count(t, SARA);
	marc = dt_sent_count(t, MARC);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "de politie staat voor de deur") > 0);
	DT_WAIT_FOR(dt_sent_count(t, SARA) == sara + 1 && dt_sent_count(t, MARC) == marc + 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'urgent' AND acked_at IS NULL"), 2);
	msg = staffchat_last_sent(t, SARA);
	staffchat_button_data(msg, "mh:", data, sizeof(data));
	assert_true(data[0] != '\0');
	assert_true(simctl_button(&t->sim, SARA, data, (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(msg, "message_id"))) > 0);
	cJSON_Delete(msg);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'urgent' AND acked_at IS NULL") == 0, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'urgent' AND acked_by = 1"), 2);
	/* Marc has nothing open any more. */
	marc = dt_sent_count(t, MARC);
	assert_true(simctl_message(&t->sim, MARC, "/alerts") > 0);
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 1, 10000);
	staffchat_last_text(t, MARC, text, sizeof(text));
	assert_null(strstr(text, "F-1"));
	/* Sara answers a forward: its alert is handled by that. */
	sara = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Wanneer kom je langs?") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, sara + 1, 10000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM alerts WHERE kind = 'message' AND acked_at IS NULL"), 1);
	fwd_id = dt_sent_message_id(t, SARA, dt_sent_count(t, SARA) - 1);
	staffchat_reply_to(t, SARA, fwd_id, "Morgen om 10 uur.");
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
	staffchat_setup(t, 1, 0, 0);
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
	staffchat_last_text(t, MARC, text, sizeof(text));
	assert_non_null(strstr(text, "Mijn zoon is ziek vandaag"));
	assert_non_null(strstr(text, "Sara"));
	assert_null(strstr(text, "bytes"));
	fwd_id = dt_sent_message_id(t, MARC, dt_sent_count(t, MARC) - 1);
	/* He may read the log now, and the read is audited. */
	assert_true(simctl_message(&t->sim, MARC, "/log F-1") > 0);
	DT_WAIT_SENT_EXACTLY(t, MARC, marc + 2, 10000);
	staffchat_last_text(t, MARC, text, sizeof(text));
	assert_non_null(strstr(text, "F-1"));
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'log.read' AND actor = 'staff:Marc'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'scope.refused' AND actor = 'staff:Marc'"), 1);
	/* And answer: the family gets it, the alert is handled, the words are gone. */
	family = dt_sent_count(t, DT_FAMILY_CHAT);
	staffchat_reply_to(t, MARC, fwd_id, "Beterschap, ik bel morgen.");
	DT_WAIT_SENT_EXACTLY(t, DT_FAMILY_CHAT, family + 1, 10000);
	staffchat_last_text(t, DT_FAMILY_CHAT, text, sizeof(text));
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
	staffchat_setup(t, 1, 0, 0);
	dt_link_family(t);
	sara = dt_sent_count(t, SARA);
	marc = dt_sent_count(t, MARC);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "de politie staat voor de deur") > 0);
	DT_WAIT_FOR(dt_sent_count(t, SARA) == sara + 1 && dt_sent_count(t, MARC) == marc + 1, 10000);
	staffchat_last_text(t, MARC, text, sizeof(text));
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
	staffchat_setup(t, 0, 0, 0);
	dt_link_family(t);
	assert_int_equal(testenv_cli(&t->env, "family", "close", "F-1", NULL), 0);
	sara = dt_sent_count(t, SARA);
	family = dt_sent_count(t, DT_FAMILY_CHAT);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "de politie is hier") > 0);
	DT_WAIT_SENT_EXACTLY(t, DT_FAMILY_CHAT, family + 1, 10000);
	staffchat_last_text(t, DT_FAMILY_CHAT, text, sizeof(text));
	assert_non_null(strstr(text, "112"));
	DT_WAIT_SENT_EXACTLY(t, SARA, sara + 1, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
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
	staffchat_setup(t, 0, 0, 0);
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
	staffchat_last_text(t, SARA, text, sizeof(text));
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
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "niet doorgegeven"));
	assert_int_equal(dt_q(t, "SELECT away FROM staff WHERE name = 'Sara'"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

static void test_email_for_staff_without_telegram(void **state)
{
	struct dt *t = *state;
	static char mail[65536];
	struct mailbox mb;

	mailbox_start(&mb, t);
	/* Eva has an email address and no Telegram. */
	assert_int_equal(testenv_cli(&t->env, "staff", "add", "Eva", "--role", "counsellor", "--lang", "en",
				     "--email", "eva@example.org", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "family", "set", "F-1", "--counsellor", "Eva", NULL), 0);
	dt_start_daemon(t);
	dt_link_family(t);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, "Mijn zoon is ziek vandaag") > 0);
	DT_WAIT_FOR(mailbox_count(&mb, "Subject: New message from family F-1", mail, sizeof(mail)) == 1, 20000);
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
	DT_WAIT_FOR(mailbox_count(&mb, "Subject: casebot daily summary", mail, sizeof(mail)) == 1, 20000);
	assert_non_null(strstr(mail, "Your families since the last summary:"));
	assert_null(strstr(mail, "ziek"));
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'sent'") == 1, 5000);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	mailbox_stop(&mb);
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
		T(test_urgent_to_both), T(test_email_for_staff_without_telegram),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("staff", tests, NULL, NULL);
}
