/* Routing and the family conversation handlers, in-process: inbound rows go
 * in as a gateway would store them; the tests read what the handlers wrote
 * (outbox rows, contact log, alerts) and render replies from the catalogs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bot/compose.h"
#include "bot/event_json.h"
#include "bot/gateways/whatsapp_send.h"
#include "bot/router.h"
#include "bot/vault.h"
#include "locales/locale.h"
#include "locales/note.h"
#include "tests/support/testenv.h"
#include "tests/support/texts.h"

struct rt {
	struct testenv env;
	struct config cfg;
	struct store *st;
	struct locales *loc;
	char direct[2048];
	int ndirect;
	int next_update;
	int edit_next;     /* the next inbound event is an edit */
};

static int setup(void **state)
{
	struct rt *t = calloc(1, sizeof(*t));
	char err[512];

	if (t == NULL || testenv_setup(&t->env, time(NULL), "emergency_number = 112\n") != 0)
		return -1;
	if (testenv_cli(&t->env, "init", NULL) != 0 ||
	    testenv_cli(&t->env, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl", NULL) != 0 ||
	    testenv_cli(&t->env, "staff", "add", "Marc", "--role", "counsellor", "--lang", "fr", NULL) != 0 ||
	    testenv_cli(&t->env, "family", "add", "F-1", "--lang", "fr", "--counsellor", "Sara", "--backup", "Marc", NULL) != 0 ||
	    testenv_cli(&t->env, "member", "add", "F-1", "Amina", "--role", "parent", NULL) != 0)
		return -1;
	if (config_load(&t->cfg, t->env.conf, err, sizeof(err)) != 0 ||
	    store_open(t->cfg.data_dir, 0, &t->st, err, sizeof(err)) != 0 ||
	    locale_load(t->cfg.locales_dir, &t->loc, err, sizeof(err)) != 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct rt *t = *state;

	store_close(t->st);
	locale_free(t->loc);
	testenv_teardown(&t->env);
	free(t);
	return 0;
}

static void on_direct(const char *channel, const char *address, const char *text, void *arg)
{
	struct rt *t = arg;

	(void)channel;
	(void)address;
	snprintf(t->direct, sizeof(t->direct), "%s", text);
	t->ndirect++;
}

/* Stores one event as the gateway would, then routes. */
static void inbound(struct rt *t, const char *sender, enum event_kind kind, const char *text, const char *button)
{
	static struct inbound_event ev;
	static char json[INBOUND_EVENT_MAX];
	struct hctx h = {&t->cfg, t->st, t->loc, time(NULL), "bot"};

	memset(&ev, 0, sizeof(ev));
	snprintf(ev.channel, sizeof(ev.channel), "telegram");
	snprintf(ev.external_id, sizeof(ev.external_id), "%d", ++t->next_update);
	snprintf(ev.sender, sizeof(ev.sender), "%s", sender);
	ev.at = time(NULL);
	ev.kind = kind;
	if (t->edit_next) {
		ev.edited = 1;
		ev.original_at = ev.at - 120;
		cb_strlcpy(ev.message_id, "77", sizeof(ev.message_id));
		t->edit_next = 0;
	}
	if (text != NULL)
		snprintf(ev.text, sizeof(ev.text), "%s", text);
	if (button != NULL) {
		snprintf(ev.button_data, sizeof(ev.button_data), "%s", button);
		snprintf(ev.callback_id, sizeof(ev.callback_id), "cb%d", t->next_update);
	}
	if (kind == EVENT_MEDIA) {
		/* "voice" or "voice:caption" */
		const char *colon = text != NULL ? strchr(text, ':') : NULL;

		snprintf(ev.media_kind, sizeof(ev.media_kind), "%.*s", colon != NULL ? (int)(colon - text) : 15,
			 text != NULL ? text : "photo");
		snprintf(ev.media_ref, sizeof(ev.media_ref), "FILE%d", t->next_update);
		snprintf(ev.text, sizeof(ev.text), "%s", colon != NULL ? colon + 1 : "");
	}
	assert_int_equal(event_to_json(&ev, 0, json, sizeof(json)), 0);
	assert_int_equal(store_inbound_add(t->st, "telegram", ev.external_id, ev.sender, ev.at, json, NULL), 0);
	assert_true(router_run(&h, 100, on_direct, t, NULL) >= 1);
}

static long long q(struct rt *t, const char *sql)
{
	sqlite3_stmt *s;
	long long v = -1;

	assert_int_equal(sqlite3_prepare_v2(store_db(t->st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* The text of the newest outbox row, rendered as its reader will see it. */
static void last_reply(struct rt *t, enum lang l, char *out, size_t cap, int *nbuttons)
{
	static struct composed msg;
	struct outbox_msg m;
	int64_t id = q(t, "SELECT max(id) FROM outbox");

	assert_int_equal(store_outbox_get(t->st, id, &m), 0);
	assert_int_equal(compose_outbox(t->st, t->loc, &m, l, NULL, &msg), 0);
	store_outbox_msg_free(&m);
	cb_strlcpy(out, msg.text, cap);
	if (nbuttons != NULL)
		*nbuttons = msg.nbuttons;
}

static void link_member(struct rt *t, const char *chat, const char *member)
{
	char text[64];
	const char *p;

	assert_int_equal(testenv_cli(&t->env, "invite", "F-1", "--member", member, NULL), 0);
	p = strstr(t->env.out, "code: ");
	assert_non_null(p);
	snprintf(text, sizeof(text), "/start %.10s", p + 6);
	inbound(t, chat, EVENT_TEXT, text, NULL);
}

static void link_chat(struct rt *t, const char *chat)
{
	link_member(t, chat, "Amina");
}

static void test_onboarding(void **state)
{
	struct rt *t = *state;
	char text[1024];

	/* Unknown: the neutral answer in four languages, nothing stored. */
	inbound(t, "777", EVENT_TEXT, "bonjour", NULL);
	assert_int_equal(t->ndirect, 1);
	assert_non_null(strstr(t->direct, "This number is not linked"));
	assert_int_equal(q(t, "SELECT count(*) FROM channels"), 0);
	/* A code with the wrong letters: the same answer. */
	inbound(t, "777", EVENT_TEXT, "/start 2222222222", NULL);
	assert_int_equal(t->ndirect, 2);
	assert_int_equal(q(t, "SELECT count(*) FROM channels"), 0);
	link_chat(t, "1001");
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE address = '1001' AND family_id = 1"
			   " AND member_id = 1 AND verified = 1"), 1);
	/* The code is the chat's first message: a conversation window (on
	 * WhatsApp) runs from it. */
	assert_true(q(t, "SELECT last_inbound_at FROM channels WHERE address = '1001'") > 0);
	last_reply(t, LANG_FR, text, sizeof(text), NULL);
	assert_non_null(strstr(text, "Sara"));
	/* The code works once. */
	assert_int_equal(q(t, "SELECT count(*) FROM invites WHERE used_at IS NOT NULL"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM inbound WHERE event LIKE '%start%'"), 0);
}

static void test_code_guessing_slowed(void **state)
{
	struct rt *t = *state;
	char text[64];
	const char *p;

	for (int i = 0; i < 6; i++)
		inbound(t, "888", EVENT_TEXT, "/start 2222222222", NULL);
	assert_int_equal(testenv_cli(&t->env, "invite", "F-1", NULL), 0);
	p = strstr(t->env.out, "code: ");
	snprintf(text, sizeof(text), "/start %.10s", p + 6);
	/* Even the right code is not looked at after six tries this hour. */
	inbound(t, "888", EVENT_TEXT, text, NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM channels"), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM invites WHERE used_at IS NULL"), 1);
	/* Another chat is not held back by it. */
	inbound(t, "889", EVENT_TEXT, text, NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE address = '889'"), 1);
}

static void test_urgent_every_language(void **state)
{
	struct rt *t = *state;
	static const char *const texts[] = {
		"De POLITIE staat aan de deur!", "la police est venue, mon mari est arrêté",
		"Die Polizei war da", "my husband was arrested", "ze hebben ons opgepakt",
		"on a reçu un ordre de quitter le territoire", "Abschiebung morgen?", "gesloten centrum",
	};
	char text[1024];

	link_chat(t, "1001");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		inbound(t, "1001", EVENT_TEXT, texts[i], NULL);
		assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'urgent'"), (long long)i + 1);
		/* Both the counsellor and the backup, marked urgent. */
		assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE urgent = 1"), 2 * ((long long)i + 1));
		last_reply(t, LANG_FR, text, sizeof(text), NULL);
		assert_non_null(strstr(text, "112"));
	}
	/* An urgent answer is never held by quiet hours. */
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'urgent_ack' AND urgent = 1"), 8);
	/* The body is in no log row. */
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE summary LIKE '%police%'"), 0);
	/* Not urgent: "politiek" is not "politie". */
	inbound(t, "1001", EVENT_TEXT, "we spraken over politiek", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'urgent'"), 8);
}

static void test_commands_every_language(void **state)
{
	struct rt *t = *state;
	static const char *const help[] = {"help", "HULP", "Aide", "hilfe!"};
	static const char *const stop[] = {"stop", "Stoppen", "ARRÊT", "halt"};
	char text[2048];

	link_chat(t, "1001");
	for (int i = 0; i < 4; i++) {
		inbound(t, "1001", EVENT_TEXT, help[i], NULL);
		assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'help.menu'"), i + 1);
	}
	last_reply(t, LANG_FR, text, sizeof(text), NULL);
	assert_non_null(strstr(text, "stop"));
	for (int i = 0; i < 4; i++) {
		inbound(t, "1001", EVENT_TEXT, stop[i], NULL);
		assert_int_equal(q(t, "SELECT opted_out FROM channels"), 1);
		inbound(t, "1001", EVENT_TEXT, "start", NULL);
		assert_int_equal(q(t, "SELECT opted_out FROM channels"), 0);
	}
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'stop.confirmed'"), 4);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'start.confirmed'"), 4);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'stop'"), 4);
	/* "stop" inside a sentence is a message for the counsellor. */
	inbound(t, "1001", EVENT_TEXT, "I cannot stop worrying", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'message'"), 1);
}

/* The STOP answer says what still comes, as the configuration decides. */
static void test_stop_says_what_continues(void **state)
{
	struct rt *t = *state;
	char text[2048];

	link_chat(t, "1001");
	inbound(t, "1001", EVENT_TEXT, "stop", NULL);
	last_reply(t, LANG_EN, text, sizeof(text), NULL);
	assert_null(strstr(text, "no more messages"));
	assert_non_null(strstr(text, "No more check-ins, document reminders or replies from your counsellor"));
	assert_non_null(strstr(text, "Still sent: appointment reminders and changes"));
	assert_non_null(strstr(text, "start"));
	/* Without reminders during STOP, the answer says so. */
	t->cfg.reminders_during_stop = 0;
	inbound(t, "1001", EVENT_TEXT, "start", NULL);
	inbound(t, "1001", EVENT_TEXT, "stop", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'stop.confirmed_all'"), 1);
	last_reply(t, LANG_EN, text, sizeof(text), NULL);
	assert_non_null(strstr(text, "appointment reminders or replies"));
	assert_null(strstr(text, "Still sent: appointment"));
	for (int l = 0; l < LANG_COUNT; l++) {
		last_reply(t, (enum lang)l, text, sizeof(text), NULL);
		assert_true(strlen(text) > 40);
	}
	/* The help list does not promise silence either. */
	inbound(t, "1001", EVENT_TEXT, "help", NULL);
	last_reply(t, LANG_EN, text, sizeof(text), NULL);
	assert_non_null(strstr(text, "stop - fewer messages from us"));
}

/* A second STOP is not confirmed or alerted again; START on a chat that
 * is not stopped, and /start from a linked chat, get a short answer and
 * are not forwarded. */
static void test_stop_twice_start_unstopped(void **state)
{
	struct rt *t = *state;
	char text[2048];

	link_chat(t, "1001");
	inbound(t, "1001", EVENT_TEXT, "stop", NULL);
	inbound(t, "1001", EVENT_TEXT, "STOP", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'stop_ack'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'stop'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'stop'"), 2);
	/* Telegram's /start from a stopped chat is START. */
	inbound(t, "1001", EVENT_TEXT, "/start", NULL);
	assert_int_equal(q(t, "SELECT opted_out FROM channels"), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'start.confirmed'"), 1);
	inbound(t, "1001", EVENT_TEXT, "start", NULL);
	inbound(t, "1001", EVENT_TEXT, "/start", NULL);
	inbound(t, "1001", EVENT_TEXT, "/start ABCDEFGHJK", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'start.not_stopped'"), 3);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'start.confirmed'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'message'"), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'start'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM channels"), 1);
	last_reply(t, LANG_NL, text, sizeof(text), NULL);
	assert_non_null(strstr(text, "hulp"));
}

static void test_language_change(void **state)
{
	struct rt *t = *state;
	char text[2048];
	int nbuttons = 0;

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-03 14:00",
				     "--kind", "lawyer", NULL), 0);
	inbound(t, "1001", EVENT_TEXT, "Sprache", NULL);
	last_reply(t, LANG_FR, text, sizeof(text), &nbuttons);
	assert_int_equal(nbuttons, 4);
	inbound(t, "1001", EVENT_BUTTON, NULL, "lang:de");
	/* The member chose for herself; the family keeps French. */
	assert_int_equal(q(t, "SELECT count(*) FROM members WHERE lang = 'de'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM families WHERE lang = 'fr'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'language'"), 2);
	inbound(t, "1001", EVENT_BUTTON, NULL, "lang:xx");
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'button'"), 1);
}

static void exec(struct rt *t, const char *sql)
{
	assert_int_equal(sqlite3_exec(store_db(t->st), sql, NULL, NULL, NULL), SQLITE_OK);
}

/* Sends the first queued row of a kind on chat 1 as the outbox does: it is
 * composed in the reader's language, marked sent, and what follows a send
 * is recorded in the same way (the next check-in, the question it asks).
 * The rendered text goes to text when asked for. */
static void send_row(struct rt *t, long long id, enum lang l, char *text, size_t cap)
{
	static struct composed msg;
	struct hctx h = {&t->cfg, t->st, t->loc, time(NULL), "bot"};
	struct outbox_msg m;

	assert_true(id > 0);
	assert_int_equal(store_outbox_get(t->st, id, &m), 0);
	if (m.channel_id == 0) {
		assert_int_equal(store_outbox_assign(t->st, id, 1, h.now), 0);
		m.channel_id = 1;
	}
	assert_int_equal(compose_outbox(t->st, t->loc, &m, l, NULL, &msg), 0);
	assert_int_equal(store_outbox_claim(t->st, id, h.now), 0);
	assert_int_equal(store_outbox_sent(t->st, id, "m1", h.now), 0);
	assert_int_equal(handler_after_sent(&h, &m), 0);
	assert_int_equal(questions_asked(&h, &m, &msg), 0);
	store_outbox_msg_free(&m);
	if (text != NULL)
		cb_strlcpy(text, msg.text, cap);
}

static void send_queued(struct rt *t, const char *kind, enum lang l, char *text, size_t cap)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT min(id) FROM outbox WHERE kind = '%s' AND status = 'queued'", kind);
	send_row(t, q(t, sql), l, text, cap);
}

static void mark_sent(struct rt *t, const char *kind)
{
	send_queued(t, kind, LANG_FR, NULL, 0);
}

static void test_reply_words(void **state)
{
	struct rt *t = *state;
	char text[1024];

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-03 14:00",
				     "--kind", "lawyer", NULL), 0);
	/* Nothing asked yet: "oui" goes to the counsellor. */
	inbound(t, "1001", EVENT_TEXT, "oui", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'message'"), 1);
	mark_sent(t, "reminder");
	inbound(t, "1001", EVENT_TEXT, "Oui !", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'confirmed'"), 1);
	last_reply(t, LANG_FR, text, sizeof(text), NULL);
	assert_non_null(strstr(text, "Merci"));
	/* The next reminder of a confirmed appointment asks nothing: a bare
	 * number then answers no question. */
	mark_sent(t, "reminder");
	inbound(t, "1001", EVENT_TEXT, "3", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'confirmed'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'answer.not_understood'"), 1);
	/* Each reminder that asks answers its own question. */
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-04 14:00",
				     "--kind", "doctor", NULL), 0);
	mark_sent(t, "reminder");
	inbound(t, "1001", EVENT_TEXT, "3", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'other_time'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'other_time'"), 1);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-05 14:00",
				     "--kind", "doctor", NULL), 0);
	mark_sent(t, "reminder");
	inbound(t, "1001", EVENT_TEXT, "nee", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'cannot_come'"), 1);
	/* The button of someone else's appointment does nothing. */
	inbound(t, "1001", EVENT_BUTTON, NULL, "ap:999:1");
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'button'"), 1);
}

/* Details shows a message of this chat again, once sent, while what it is
 * about is current: a second chat's press, a row not sent yet, a
 * cancelled appointment are stale buttons, and queue nothing. */
static void test_details_only_current_own(void **state)
{
	struct rt *t = *state;
	char button[32], sql[128];
	long long id;

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "member", "add", "F-1", "Omar", "--role", "parent", NULL), 0);
	link_member(t, "1002", "Omar");
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-03 14:00",
				     "--kind", "lawyer", NULL), 0);
	id = q(t, "SELECT min(id) FROM outbox WHERE kind = 'reminder'");
	snprintf(button, sizeof(button), "dt:%lld:0", id);
	/* Not sent yet. */
	inbound(t, "1001", EVENT_BUTTON, NULL, button);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'details'"), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE summary = 'button_stale'"), 1);
	mark_sent(t, "reminder");
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE id = %lld AND channel_id = 1", id);
	assert_int_equal(q(t, sql), 1);
	/* Another chat of the same family. */
	inbound(t, "1002", EVENT_BUTTON, NULL, button);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'details'"), 0);
	/* Its own chat: one details row for the chat, naming the message. */
	inbound(t, "1001", EVENT_BUTTON, NULL, button);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'details' AND channel_id = 1 AND urgent = 1"), 1);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM outbox WHERE kind = 'details' AND params = '{\"of\":\"%lld\"}'",
		 id);
	assert_int_equal(q(t, sql), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'button' AND summary = 'details'"), 1);
	/* A details press answers no question: "1" still confirms. */
	inbound(t, "1001", EVENT_TEXT, "1", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'confirmed'"), 1);
	/* Once the appointment is cancelled, the button shows nothing more. */
	assert_int_equal(testenv_cli(&t->env, "appointment", "cancel", "1", NULL), 0);
	inbound(t, "1001", EVENT_BUTTON, NULL, button);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'details'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE summary = 'button_stale'"), 3);
}

/* A message keeps its first line's key and values, which a template
 * stands for where free-form text may not go (WhatsApp after 24 hours of
 * silence): a reminder's time and kind, with its three answers. */
static void test_first_line_values(void **state)
{
	struct rt *t = *state;
	static struct composed msg;
	struct outbox_msg m;
	char when[128], *json = NULL;
	long long id;

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-03 14:00",
				     "--kind", "lawyer", NULL), 0);
	id = q(t, "SELECT min(id) FROM outbox WHERE kind = 'reminder'");
	assert_int_equal(store_outbox_get(t->st, id, &m), 0);
	assert_int_equal(compose_outbox(t->st, t->loc, &m, LANG_NL, NULL, &msg), 0);
	assert_string_equal(msg.first_key, "reminder.appointment");
	/* Its first line says when, never what: that is a detail. */
	assert_int_equal(msg.nfirst, 1);
	assert_int_equal(locale_format_datetime(t->loc, LANG_NL, (time_t)q(t, "SELECT starts_at FROM appointments"),
						when, sizeof(when)), 0);
	assert_string_equal(msg.first[0].name, "when");
	assert_string_equal(msg.first[0].value, when);
	/* Three answers and Details, which no template carries. */
	assert_int_equal(msg.nbuttons, 4);
	assert_int_equal(msg.details_button, 1);
	assert_string_equal(whatsapp_template_for(&msg)->name, "casebot_reminder");
	assert_int_equal(whatsapp_send_build_template(t->loc, LANG_NL, whatsapp_template_for(&msg), "32470000000", &msg,
						      &json), 0);
	assert_null(strstr(json, "advocaat"));
	assert_null(strstr(json, "dt:"));
	assert_non_null(strstr(json, msg.buttons[0].data));
	free(json);
	store_outbox_msg_free(&m);
	/* A check-in's first line has no values; its four answers are there. */
	assert_int_equal(testenv_cli(&t->env, "checkin", "set", "F-1", "--every", "7d", "--at", "mon 10:00", NULL), 0);
	id = q(t, "SELECT min(id) FROM outbox WHERE kind = 'checkin'");
	assert_true(id > 0);
	assert_int_equal(store_outbox_get(t->st, id, &m), 0);
	assert_int_equal(compose_outbox(t->st, t->loc, &m, LANG_FR, NULL, &msg), 0);
	assert_string_equal(msg.first_key, "checkin.question");
	assert_int_equal(msg.nfirst, 0);
	assert_int_equal(msg.nbuttons, 4);
	assert_string_equal(whatsapp_template_for(&msg)->name, "casebot_checkin");
	store_outbox_msg_free(&m);
}

/* Renders outbox row id as its reader sees it. */
static void render_row(struct rt *t, long long id, enum lang l, char *out, size_t cap, int *nbuttons)
{
	static struct composed msg;
	struct outbox_msg m;

	assert_int_equal(store_outbox_get(t->st, id, &m), 0);
	assert_int_equal(compose_outbox(t->st, t->loc, &m, l, NULL, &msg), 0);
	store_outbox_msg_free(&m);
	cb_strlcpy(out, msg.text, cap);
	/* The choices: a Details button picks none. */
	*nbuttons = msg.nbuttons - msg.details_button;
}

/* After the family answered, later reminder steps do not ask again: once
 * it said it will come they only remind; when it cannot come, or wants
 * another time, they are cancelled, and they come back if it will come
 * after all. */
static void test_answered_reminder_steps(void **state)
{
	struct rt *t = *state;
	char text[2048];
	long long later;
	int nbuttons = -1;

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-03 14:00",
				     "--kind", "lawyer", NULL), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND appointment_id = 1"), 2);
	mark_sent(t, "reminder");
	later = q(t, "SELECT id FROM outbox WHERE kind = 'reminder' AND status = 'queued' AND appointment_id = 1");
	render_row(t, later, LANG_EN, text, sizeof(text), &nbuttons);
	assert_non_null(strstr(text, "Can you come?"));
	assert_int_equal(nbuttons, 3);
	inbound(t, "1001", EVENT_TEXT, "1", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE id = 1 AND status = 'confirmed'"), 1);
	render_row(t, later, LANG_EN, text, sizeof(text), &nbuttons);
	assert_null(strstr(text, "Can you come?"));
	assert_non_null(strstr(text, "Reminder: you have an appointment"));
	assert_non_null(strstr(text, "You told us you will come"));
	assert_int_equal(nbuttons, 0);
	for (int l = 0; l < LANG_COUNT; l++) {
		render_row(t, later, (enum lang)l, text, sizeof(text), &nbuttons);
		assert_int_equal(nbuttons, 0);
	}

	/* Another appointment, in 30 hours: its first reminder goes at once,
	 * the two-hour one later. "Cannot come" cancels that later step. */
	{
		time_t soon = time(NULL) + 30 * 3600;
		struct tm tm;
		char at[32];

		localtime_r(&soon, &tm);
		strftime(at, sizeof(at), "%Y-%m-%d %H:%M", &tm);
		assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", at, "--kind", "doctor", NULL), 0);
	}
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND appointment_id = 2"), 2);
	send_row(t, q(t, "SELECT id FROM outbox WHERE kind = 'reminder' AND appointment_id = 2"
		      " ORDER BY not_before LIMIT 1"), LANG_FR, NULL, 0);
	inbound(t, "1001", EVENT_TEXT, "2", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE id = 2 AND status = 'cannot_come'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND appointment_id = 2"
			   " AND status = 'queued'"), 0);
	/* The first appointment keeps its reminder. */
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND appointment_id = 1"
			   " AND status = 'queued'"), 1);
	/* Coming after all (its first reminder's button): the step ahead is back. */
	inbound(t, "1001", EVENT_BUTTON, NULL, "ap:2:1");
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE id = 2 AND status = 'confirmed'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND appointment_id = 2"
			   " AND status = 'queued'"), 1);
	render_row(t, q(t, "SELECT id FROM outbox WHERE kind = 'reminder' AND appointment_id = 2 AND status = 'queued'"),
		   LANG_FR, text, sizeof(text), &nbuttons);
	assert_non_null(strstr(text, "Vous nous avez dit que vous venez"));
}

static void test_checkin_answers(void **state)
{
	struct rt *t = *state;
	char button[32];

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "checkin", "set", "F-1", "--every", "7d", "--at", "mon 10:00", NULL), 0);
	mark_sent(t, "checkin");
	snprintf(button, sizeof(button), "ci:%lld:1", q(t, "SELECT min(id) FROM outbox WHERE kind = 'checkin'"));
	inbound(t, "1001", EVENT_BUTTON, NULL, button);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'checkin.thanks'"), 1);
	/* The next check-in, answered with its number. */
	mark_sent(t, "checkin");
	inbound(t, "1001", EVENT_TEXT, "3", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'checkin_hard'"), 1);
	/* A button of an earlier check-in still answers that one. */
	button[strlen(button) - 1] = '4';
	inbound(t, "1001", EVENT_BUTTON, NULL, button);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'contact_request'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'checkin.contact_soon'"), 2);
}

/* A check-in answered, then answered again in words or numbers ("1",
 * "oui", "2", "ok"): each is heard with the check-in's thanks and logged
 * as an answer, none goes to the counsellor as a message. A changed answer
 * to "hard" alerts once; saying it again does not alert twice. */
static void test_checkin_answered_again(void **state)
{
	struct rt *t = *state;
	static const char *const words[] = {"1", "oui", "2", "ok", "Bien"};

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "checkin", "set", "F-1", "--every", "7d", "--at", "mon 10:00", NULL), 0);
	mark_sent(t, "checkin");
	for (size_t i = 0; i < CB_ARRAY_SIZE(words); i++) {
		inbound(t, "1001", EVENT_TEXT, words[i], NULL);
		assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'checkin.thanks'"), (long long)i + 1);
		assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'checkin_answer'"), (long long)i + 1);
	}
	assert_int_equal(q(t, "SELECT json_extract(params, '$.answer') = 'checkin_good' FROM contact_log"
			   " WHERE kind = 'checkin_answer' ORDER BY id DESC LIMIT 1"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'answer.not_understood'"), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts"), 0);
	inbound(t, "1001", EVENT_TEXT, "3", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'checkin_hard'"), 1);
	inbound(t, "1001", EVENT_TEXT, "difficile", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'checkin_hard'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'checkin.contact_soon'"), 2);
	/* Words that answer nothing still reach the counsellor. */
	inbound(t, "1001", EVENT_TEXT, "a demain", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'message'"), 1);
	/* Once its week is over, a number answers nothing. */
	assert_int_equal(sqlite3_exec(store_db(t->st), "UPDATE questions SET expires_at = 1", NULL, NULL, NULL), SQLITE_OK);
	inbound(t, "1001", EVENT_TEXT, "1", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'answer.not_understood'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'checkin_answer'"), 7);
}

/* After "taal" (the language menu), "2" picks the second language. It is
 * not an answer to the reminder sent before. */
static void test_number_answers_language_menu(void **state)
{
	struct rt *t = *state;
	char text[2048];

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-03 14:00",
				     "--kind", "lawyer", NULL), 0);
	mark_sent(t, "reminder");
	inbound(t, "1001", EVENT_TEXT, "taal", NULL);
	send_queued(t, "language_choose", LANG_FR, text, sizeof(text));
	inbound(t, "1001", EVENT_TEXT, "2", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM members WHERE lang = 'fr'"), 1);
	inbound(t, "1001", EVENT_TEXT, "taal", NULL);
	send_queued(t, "language_choose", LANG_FR, text, sizeof(text));
	inbound(t, "1001", EVENT_TEXT, "3", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM members WHERE lang = 'de'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'scheduled'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind IN ('cannot_come', 'other_time')"), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'language.changed'"), 2);
}

/* A file while two documents are asked for: "Which document is this?",
 * and "1" files it under the first request; it confirms no appointment. */
static void test_number_answers_which_document(void **state)
{
	struct rt *t = *state;
	static const unsigned char key[32];
	struct hctx h = {&t->cfg, t->st, t->loc, time(NULL), "bot"};
	struct family_msg fm;
	struct channel ch;
	static const char pdf[] = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
	char abs[PATH_MAX], text[2048], which[2048];
	struct document doc;

	assert_true(sodium_init() >= 0);
	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-03 14:00",
				     "--kind", "lawyer", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "passport", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "lease", NULL), 0);
	mark_sent(t, "reminder");
	/* The file as the fetcher hands it over: typed, encrypted, filed. */
	memset(&doc, 0, sizeof(doc));
	assert_int_equal(vault_sniff_buffer(pdf, sizeof(pdf) - 1, doc.mime, sizeof(doc.mime)), 0);
	assert_string_equal(doc.mime, "application/pdf");
	assert_int_equal(documents_new_path(t->cfg.data_dir, 1, doc.path, sizeof(doc.path), abs, sizeof(abs)), 0);
	assert_int_equal(vault_encrypt_buffer(key, pdf, sizeof(pdf) - 1, abs, doc.mac), 0);
	doc.size = (int64_t)sizeof(pdf) - 1;
	assert_int_equal(store_channel_get(t->st, 1, &ch), 0);
	memset(&fm, 0, sizeof(fm));
	assert_int_equal(handler_family_msg(&h, &ch, &fm), 0);
	assert_int_equal(documents_receive(&h, &fm, "document", "FILE1", &doc), 0);
	send_queued(t, "document_which", LANG_FR, which, sizeof(which));
	/* The document names are details: the preview holds none, and the
	 * details name the requests by number, as "1" picks them. */
	assert_null(strstr(which, "passeport"));
	{
		static struct composed msg;
		struct outbox_msg m;

		assert_int_equal(store_outbox_get(t->st, q(t, "SELECT min(id) FROM outbox WHERE kind = 'document_which'"),
						  &m), 0);
		assert_int_equal(compose_outbox_details(t->st, t->loc, &m, LANG_FR, NULL, 1, &msg), 0);
		store_outbox_msg_free(&m);
		assert_non_null(strstr(msg.text, "\n1 passeport\n2 contrat de bail"));
	}
	inbound(t, "1001", EVENT_TEXT, "1", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'scheduled'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM documents WHERE request_id = 1"), 1);
	assert_int_equal(q(t, "SELECT status = 'received' FROM document_requests WHERE id = 1"), 1);
	assert_int_equal(q(t, "SELECT status = 'open' FROM document_requests WHERE id = 2"), 1);
	last_reply(t, LANG_FR, text, sizeof(text), NULL);
	assert_non_null(strstr(text, "Merci"));
}

/* A bare number answers only an open question of that chat: with none (never
 * asked, answered, expired) the family hears it was not understood, once,
 * and the counsellor gets the message. */
static void test_number_without_question(void **state)
{
	struct rt *t = *state;
	char sql[128];

	link_chat(t, "1001");
	inbound(t, "1001", EVENT_TEXT, "2", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'answer.not_understood'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'forward.ack'"), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'message'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND params LIKE '%\"text\":\"2\"%'"), 1);
	{
		static struct composed msg;
		struct outbox_msg m;

		assert_int_equal(store_outbox_get(t->st, q(t, "SELECT id FROM outbox WHERE catalog_key ="
						       " 'answer.not_understood'"), &m), 0);
		assert_int_equal(compose_outbox(t->st, t->loc, &m, LANG_FR, NULL, &msg), 0);
		store_outbox_msg_free(&m);
		assert_non_null(strstr(msg.text, "pas compris"));
	}
	/* Answered: a second number is not a second answer. */
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-03 14:00",
				     "--kind", "lawyer", NULL), 0);
	mark_sent(t, "reminder");
	inbound(t, "1001", EVENT_TEXT, "1", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'confirmed'"), 1);
	inbound(t, "1001", EVENT_TEXT, "2", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'confirmed'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'answer.not_understood'"), 2);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'message'"), 2);
	/* Expired: the question is there, but too old to capture a number. */
	mark_sent(t, "reminder");
	snprintf(sql, sizeof(sql), "UPDATE questions SET expires_at = %lld", (long long)time(NULL) - 1);
	assert_int_equal(sqlite3_exec(store_db(t->st), sql, NULL, NULL, NULL), SQLITE_OK);
	inbound(t, "1001", EVENT_TEXT, "2", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'confirmed'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'answer.not_understood'"), 3);
	/* A number that is none of the open question's choices. */
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-04 14:00",
				     "--kind", "doctor", NULL), 0);
	mark_sent(t, "reminder");
	inbound(t, "1001", EVENT_TEXT, "7", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'scheduled'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'answer.not_understood'"), 4);
	/* Only the last question asked: after a check-in, "2" answers it. */
	assert_int_equal(testenv_cli(&t->env, "checkin", "set", "F-1", "--every", "7d", "--at", "mon 10:00", NULL), 0);
	mark_sent(t, "checkin");
	inbound(t, "1001", EVENT_TEXT, "2", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'scheduled'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'checkin_answer'"), 1);
}

/* A question belongs to the chat it was sent to: another chat of the same
 * family cannot answer it with a number. */
static void test_number_answers_its_own_chat(void **state)
{
	struct rt *t = *state;

	link_chat(t, "1001");
	link_chat(t, "1002");
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE family_id = 1"), 2);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-03 14:00",
				     "--kind", "lawyer", NULL), 0);
	mark_sent(t, "reminder");
	inbound(t, "1002", EVENT_TEXT, "1", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'scheduled'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'answer.not_understood'"
			   " AND channel_id = 2"), 1);
	inbound(t, "1001", EVENT_TEXT, "1", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'confirmed'"), 1);
}

/* Each check-in answer has its own words in each language; a no is not
 * "okay", an okay is not "good". Hard and contact me alert the
 * counsellor. */
static void test_checkin_words_every_language(void **state)
{
	struct rt *t = *state;
	static const struct {
		const char *word, *answer;
	} cases[] = {
		/* nl */
		{"Goed", "good"}, {"het gaat goed", "good"}, {"ja", "good"}, {"gaat wel", "okay"},
		{"oké", "okay"}, {"moeilijk", "hard"}, {"niet goed", "hard"}, {"nee", "hard"},
		{"bel me", "contact me"}, {"Neem contact op", "contact me"},
		/* fr */
		{"Ça va bien", "good"}, {"bien", "good"}, {"oui", "good"}, {"ça va", "okay"}, {"bof", "okay"},
		{"c'est difficile", "hard"}, {"C\u2019est difficile", "hard"}, {"pas bien", "hard"}, {"non", "hard"}, {"Appelez-moi", "contact me"},
		{"contactez-moi", "contact me"},
		/* de */
		{"Es geht gut", "good"}, {"gut", "good"}, {"ja", "good"}, {"es geht so", "okay"},
		{"einigermaßen", "okay"}, {"schwer", "hard"}, {"nicht gut", "hard"}, {"nein", "hard"},
		{"Melden Sie sich", "contact me"}, {"ruf mich an", "contact me"},
		/* en */
		{"I'm fine", "good"}, {"well", "good"}, {"yes", "good"}, {"okay", "okay"}, {"OK", "okay"},
		{"so-so", "okay"}, {"hard", "hard"}, {"not good", "hard"}, {"no", "hard"}, {"Call me", "contact me"},
		{"contact me", "contact me"},
	};
	long long alerts = 0;

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "checkin", "set", "F-1", "--every", "7d", "--at", "mon 10:00", NULL), 0);
	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		char sql[256];
		int alerting = strcmp(cases[i].answer, "hard") == 0 || strcmp(cases[i].answer, "contact me") == 0;

		mark_sent(t, "checkin");
		inbound(t, "1001", EVENT_TEXT, cases[i].word, NULL);
		/* The row names the answer by its button, button.checkin_<answer>. */
		snprintf(sql, sizeof(sql), "SELECT summary = 'checkin_answer' AND json_extract(params, '$.answer') = 'checkin_%s'"
			 " FROM contact_log WHERE kind = 'checkin_answer' ORDER BY id DESC LIMIT 1",
			 strcmp(cases[i].answer, "contact me") == 0 ? "contact" : cases[i].answer);
		if (q(t, sql) != 1 || q(t, "SELECT count(*) FROM contact_log WHERE kind = 'checkin_answer'") != (long long)i + 1)
			fail_msg("\"%s\" is not logged as %s", cases[i].word, cases[i].answer);
		alerts += alerting;
		assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind IN ('checkin_hard', 'contact_request')"),
				 alerts);
	}
	/* Nothing was forwarded as a message: each word answered its check-in. */
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'message'"), 0);
	/* Check-in words answer only a check-in: with none to answer (its
	 * week is over), "bien" is a message for the counsellor. */
	assert_int_equal(sqlite3_exec(store_db(t->st), "UPDATE questions SET expires_at = 1", NULL, NULL, NULL), SQLITE_OK);
	inbound(t, "1001", EVENT_TEXT, "bien", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'message'"), 1);
}

/* Every question lists its numbered choices in its text, in every
 * language, in the order a number picks them: a gateway without buttons
 * asks the same question. */
static void test_questions_list_their_choices(void **state)
{
	struct rt *t = *state;
	static const char *const kinds[] = {"reminder", "checkin", "language_choose", "document_which", "welcome"};
	static struct composed msg;
	int64_t ids[CB_ARRAY_SIZE(kinds)];

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-12-03 14:00",
				     "--kind", "lawyer", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "checkin", "set", "F-1", "--every", "7d", "--at", "mon 10:00", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "passport", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "lease", NULL), 0);
	inbound(t, "1001", EVENT_TEXT, "langue", NULL);
	exec(t, "INSERT INTO documents (family_id, received_at, mime, size, mac, path)"
		" VALUES (1, 1, 'application/pdf', 1, x'00', 'documents/1/x.bin')");
	exec(t, "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, params, not_before, created_at,"
		" updated_at) VALUES (1, 1, 'document_which', 'document.which', '{\"document_id\":\"1\"}', 1, 1, 1)");
	for (size_t k = 0; k < CB_ARRAY_SIZE(kinds); k++) {
		char sql[128];

		snprintf(sql, sizeof(sql), "SELECT min(id) FROM outbox WHERE kind = '%s'", kinds[k]);
		ids[k] = q(t, sql);
		assert_true(ids[k] > 0);
	}
	for (int l = 0; l < LANG_COUNT; l++) {
		for (size_t k = 0; k < CB_ARRAY_SIZE(kinds); k++) {
			struct outbox_msg m;
			const char *at;

			assert_int_equal(store_outbox_get(t->st, ids[k], &m), 0);
			/* With its details: the numbered list of which document a
			 * file is names the documents. */
			assert_int_equal(compose_outbox_details(t->st, t->loc, &m, (enum lang)l, NULL, 1, &msg), 0);
			store_outbox_msg_free(&m);
			assert_true(msg.question);
			assert_true(msg.nbuttons >= 2);
			/* The choices follow the question, never on its first line. */
			at = strchr(msg.text, '\n');
			assert_non_null(at);
			for (int i = 0; i < msg.nbuttons; i++) {
				char want[128];

				snprintf(want, sizeof(want), "\n%d %s", i + 1, msg.buttons[i].label);
				if ((at = strstr(at, want)) == NULL)
					fail_msg("%s (%s) does not list \"%s\": %s", kinds[k], lang_code((enum lang)l),
						 want + 1, msg.text);
			}
		}
	}
}

static void test_media_blocked_and_bad_rows(void **state)
{
	struct rt *t = *state;
	struct hctx h = {&t->cfg, t->st, t->loc, time(NULL), "bot"};

	link_chat(t, "1001");
	inbound(t, "1001", EVENT_MEDIA, "photo", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM downloads WHERE media_ref = 'FILE2' AND channel_id = 1"), 1);
	inbound(t, "1001", EVENT_MEDIA, "voice", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'message'"), 1);
	{
		/* The forward names the gateway its file reference belongs to:
		 * only that gateway may send the file on by it. */
		static struct composed msg;
		struct outbox_msg m;

		assert_int_equal(store_outbox_get(t->st, q(t, "SELECT id FROM outbox WHERE kind = 'forward'"), &m), 0);
		assert_int_equal(compose_outbox(t->st, t->loc, &m, LANG_NL, NULL, &msg), 0);
		store_outbox_msg_free(&m);
		assert_string_equal(msg.media_kind, "voice");
		assert_string_equal(msg.media_gateway, "telegram");
	}
	inbound(t, "1001", EVENT_BLOCKED, NULL, NULL);
	assert_int_equal(q(t, "SELECT blocked FROM channels"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'blocked'"), 1);
	/* A row that cannot be read fails alone; the next one is handled. */
	assert_int_equal(store_inbound_add(t->st, "telegram", "bad", "1001", time(NULL), "not json", NULL), 0);
	assert_int_equal(store_inbound_add(t->st, "telegram", "good", "1001", time(NULL),
					   "{\"kind\":\"unblocked\"}", NULL), 0);
	assert_int_equal(router_run(&h, 100, on_direct, t, NULL), 2);
	assert_int_equal(q(t, "SELECT count(*) FROM inbound WHERE status = 'failed'"), 1);
	assert_int_equal(q(t, "SELECT blocked FROM channels"), 0);
	/* A duplicate update is refused by the store, never routed twice. */
	assert_int_equal(store_inbound_add(t->st, "telegram", "good", "1001", time(NULL), "{}", NULL), -CB_EEXIST);
}

/* A row's code and values (columns 0 and 1 of sql), as an English reader
 * sees them. */
static void q_note(struct rt *t, const char *sql, char *out, size_t cap)
{
	sqlite3_stmt *s;

	assert_int_equal(sqlite3_prepare_v2(store_db(t->st), sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(note_render(t->loc, LANG_EN, (const char *)sqlite3_column_text(s, 0),
				     (const char *)sqlite3_column_text(s, 1), out, cap), 0);
	sqlite3_finalize(s);
}

/* One member of a household blocks the bot: the alert names her, and says
 * the others can still be reached. */
static void test_blocked_member_named(void **state)
{
	struct rt *t = *state;
	char text[512];

	assert_int_equal(testenv_cli(&t->env, "member", "add", "F-1", "Yusuf", "--role", "child", NULL), 0);
	link_member(t, "1001", "Amina");
	link_member(t, "1002", "Yusuf");
	inbound(t, "1001", EVENT_BLOCKED, NULL, NULL);
	q_note(t, "SELECT summary, params FROM alerts WHERE kind = 'blocked'", text, sizeof(text));
	assert_non_null(strstr(text, "Amina"));
	assert_null(strstr(text, "cannot reach them"));
	assert_non_null(strstr(text, "rest of the household can still be reached"));
	q_note(t, "SELECT summary, params FROM contact_log WHERE kind = 'blocked'", text, sizeof(text));
	assert_non_null(strstr(text, "Amina"));
	/* The last one: nobody can be reached any more, and it says so. */
	inbound(t, "1002", EVENT_BLOCKED, NULL, NULL);
	q_note(t, "SELECT summary, params FROM alerts WHERE kind = 'blocked' ORDER BY id DESC LIMIT 1", text, sizeof(text));
	assert_non_null(strstr(text, "Yusuf"));
	assert_non_null(strstr(text, "no chat of the household"));
}

/* An edit reaches the counsellor marked as an edit of what came first, and
 * never runs a command or answers a question. */
static void test_edit_forwarded_not_rerun(void **state)
{
	struct rt *t = *state;
	char text[2048];

	link_chat(t, "1001");
	inbound(t, "1001", EVENT_TEXT, "help", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'help.menu'"), 1);
	t->edit_next = 1;
	inbound(t, "1001", EVENT_TEXT, "help", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'help.menu'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'edited'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND staff_id = 1"), 1);
	/* Sara reads Dutch: the forward says it is an edit, of when, and the new words. */
	{
		static struct composed msg;
		struct outbox_msg m;

		assert_int_equal(store_outbox_get(t->st, q(t, "SELECT id FROM outbox WHERE kind = 'forward'"), &m), 0);
		assert_int_equal(compose_outbox(t->st, t->loc, &m, LANG_NL, NULL, &msg), 0);
		store_outbox_msg_free(&m);
		cb_strlcpy(text, msg.text, sizeof(text));
	}
	assert_non_null(strstr(text, "Bewerkt"));
	assert_non_null(strstr(text, " uur."));
	assert_non_null(strstr(text, "help"));
	/* An edit to "1" after a reminder confirms nothing. */
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-01-05 10:00",
				     "--kind", "doctor", NULL), 0);
	mark_sent(t, "reminder");
	t->edit_next = 1;
	inbound(t, "1001", EVENT_TEXT, "1", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE status = 'scheduled'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward'"), 2);
	/* Urgent words in an edit still alert at once. */
	t->edit_next = 1;
	inbound(t, "1001", EVENT_TEXT, "de politie is hier", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'urgent'"), 2);
}

static void test_deadlines(void **state)
{
	struct rt *t = *state;
	struct hctx h = {&t->cfg, t->st, t->loc, time(NULL), "bot"};
	char sql[256], at[32];
	time_t soon = time(NULL) + 12 * 3600;
	struct tm tm;

	localtime_r(&soon, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", at, "--kind", "doctor", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", "2099-01-05 10:00",
				     "--kind", "doctor", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "lease", NULL), 0);
	exec(t, "INSERT INTO document_requests (family_id, doc_type, due_date, created_at, updated_at)"
		" VALUES (1, 'passport', '2020-01-01', 1, 1)");
	assert_int_equal(testenv_cli(&t->env, "checkin", "set", "F-1", "--every", "7d", "--at", "mon 10:00", NULL), 0);
	snprintf(sql, sizeof(sql), "UPDATE checkin_plans SET last_sent_at = %lld", (long long)time(NULL) - 3 * 86400);
	exec(t, sql);
	/* Both appointments were reminded 13 hours ago. */
	snprintf(sql, sizeof(sql), "UPDATE appointments SET reminded_at = %lld", (long long)time(NULL) - 13 * 3600);
	exec(t, sql);
	assert_int_equal(deadlines_run(&h), 0);
	/* Only the appointment within 24 hours, only the overdue request. */
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'unconfirmed' AND staff_id = 1"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'document_overdue'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'checkin_unanswered'"), 1);
	/* Once each. */
	assert_int_equal(deadlines_run(&h), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts"), 3);
	/* A confirmed appointment and an answered check-in raise nothing new. */
	snprintf(sql, sizeof(sql), "UPDATE checkin_plans SET last_sent_at = %lld, last_answer_at = %lld",
		 (long long)time(NULL) - 3 * 86400, (long long)time(NULL) - 86400);
	exec(t, sql);
	assert_int_equal(deadlines_run(&h), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts"), 3);
}

/* "Not confirmed" counts from the first reminder actually sent:
 * ack_deadline after it, or halfway to the appointment when that is
 * sooner; never at once for an appointment made inside the deadline. */
static void test_unconfirmed_counts_from_first_reminder(void **state)
{
	struct rt *t = *state;
	time_t now = time(NULL), soon = now + 12 * 3600, later = now + 3 * 86400;
	struct hctx h = {&t->cfg, t->st, t->loc, now, "bot"};
	char at[32];
	struct tm tm;

	link_chat(t, "1001");
	localtime_r(&soon, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", at, "--kind", "doctor", NULL), 0);
	localtime_r(&later, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", at, "--kind", "lawyer", NULL), 0);
	/* Created inside ack_deadline, nothing sent yet: no alert. */
	assert_int_equal(deadlines_run(&h), 0);
	h.now = now + 60;
	assert_int_equal(deadlines_run(&h), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'unconfirmed'"), 0);
	/* The first reminders go now (the second appointment's first step is
	 * days ahead, but sent now all the same). */
	send_row(t, q(t, "SELECT min(id) FROM outbox WHERE kind = 'reminder' AND appointment_id = 1"
		      " AND not_before <= strftime('%s', 'now')"), LANG_FR, NULL, 0);
	send_row(t, q(t, "SELECT min(id) FROM outbox WHERE kind = 'reminder' AND appointment_id = 2"), LANG_FR, NULL, 0);
	assert_true(q(t, "SELECT reminded_at FROM appointments WHERE id = 1") >= (long long)now);
	/* Another step sent does not move the start of the count. */
	{
		long long first = q(t, "SELECT reminded_at FROM appointments WHERE id = 1");

		send_row(t, q(t, "SELECT min(id) FROM outbox WHERE kind = 'reminder' AND appointment_id = 1"
			      " AND status = 'queued'"), LANG_FR, NULL, 0);
		assert_int_equal(q(t, "SELECT reminded_at FROM appointments WHERE id = 1"), first);
	}
	h.now = now + 120;
	assert_int_equal(deadlines_run(&h), 0);
	h.now = now + 5 * 3600;
	assert_int_equal(deadlines_run(&h), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'unconfirmed'"), 0);
	/* Twelve hours ahead: halfway, six hours after the reminder. */
	h.now = now + 6 * 3600 + 60;
	assert_int_equal(deadlines_run(&h), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'unconfirmed' AND staff_id = 1"), 1);
	/* Three days ahead: ack_deadline (24 hours) after the reminder. */
	h.now = now + 23 * 3600;
	assert_int_equal(deadlines_run(&h), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'unconfirmed' AND staff_id = 1"), 1);
	h.now = now + 24 * 3600 + 60;
	assert_int_equal(deadlines_run(&h), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'unconfirmed' AND staff_id = 1"), 2);
	/* Moved: the count starts again with the next reminder. */
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE reminded_at IS NULL"), 0);
	localtime_r(&later, &tm);
	tm.tm_mday += 1;
	tm.tm_isdst = -1;
	{
		time_t moved = mktime(&tm);

		localtime_r(&moved, &tm);
		strftime(at, sizeof(at), "%Y-%m-%d %H:%M", &tm);
	}
	assert_int_equal(testenv_cli(&t->env, "appointment", "move", "2", "--at", at, NULL), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM appointments WHERE id = 2 AND reminded_at IS NULL"
			   " AND unconfirmed_alerted_at IS NULL"), 1);
}

struct staff_view {
	struct rt *t;
	int alerts;
};

/* Each alert message as a Dutch, French and German reader gets it. */
static int check_alert_row(sqlite3_stmt *s, struct staff_view *v)
{
	static struct composed msg;
	static const enum lang langs[] = {LANG_NL, LANG_FR, LANG_DE};
	struct outbox_msg m;
	char key[64];
	const char *english;

	assert_int_equal(store_outbox_get(v->t->st, sqlite3_column_int64(s, 0), &m), 0);
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
		assert_int_equal(compose_outbox(v->t->st, v->t->loc, &m, langs[i], NULL, &msg), 0);
		/* Each alert says what it is about on a second line. */
		assert_non_null(strchr(msg.text, '\n'));
		if ((english = testenv_english_word(msg.text)) != NULL)
			fail_msg("%s: English word \"%s\" in \"%s\"", lang_code(langs[i]), english, msg.text);
		if (testenv_catalog_key(msg.text, key, sizeof(key)) != NULL)
			fail_msg("%s: \"%s\" in \"%s\"", lang_code(langs[i]), key, msg.text);
	}
	store_outbox_msg_free(&m);
	v->alerts++;
	return 0;
}

/* STOP, START, answers, deadlines, a block: every alert they raise reads
 * in the staff member's own language, details included. */
static void test_alerts_in_staff_language(void **state)
{
	struct rt *t = *state;
	struct hctx h = {&t->cfg, t->st, t->loc, time(NULL), "bot"};
	struct staff_view v = {t, 0};
	time_t soon = time(NULL) + 12 * 3600;
	char at[32], sql[256], button[32];
	sqlite3_stmt *s;
	struct tm tm;

	link_chat(t, "1001");
	localtime_r(&soon, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", at, "--kind", "lawyer", NULL), 0);
	mark_sent(t, "reminder");
	inbound(t, "1001", EVENT_TEXT, "2", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'cannot_come'"), 1);
	assert_int_equal(testenv_cli(&t->env, "checkin", "set", "F-1", "--every", "7d", "--at", "mon 10:00", NULL), 0);
	mark_sent(t, "checkin");
	snprintf(button, sizeof(button), "ci:%lld:3", q(t, "SELECT id FROM outbox WHERE kind = 'checkin'"));
	inbound(t, "1001", EVENT_BUTTON, NULL, button);
	inbound(t, "1001", EVENT_TEXT, "stop", NULL);
	inbound(t, "1001", EVENT_TEXT, "start", NULL);
	exec(t, "INSERT INTO document_requests (family_id, doc_type, due_date, created_at, updated_at)"
		" VALUES (1, 'passport', '2020-01-01', 1, 1)");
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", at, "--kind", "doctor", NULL), 0);
	snprintf(sql, sizeof(sql), "UPDATE checkin_plans SET last_sent_at = %lld, last_answer_at = NULL",
		 (long long)time(NULL) - 3 * 86400);
	exec(t, sql);
	assert_int_equal(deadlines_run(&h), 0);
	inbound(t, "1001", EVENT_BLOCKED, NULL, NULL);
	assert_int_equal(sqlite3_prepare_v2(store_db(t->st), "SELECT id FROM outbox WHERE kind = 'alert'", -1, &s, NULL),
			 SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW)
		check_alert_row(s, &v);
	sqlite3_finalize(s);
	/* cannot come, check-in hard, stop, start, overdue, check-in
	 * unanswered, blocked. */
	if (v.alerts < 7)
		fail_msg("%d alerts: %lld rows", v.alerts, q(t, "SELECT count(*) FROM alerts"));
	/* What the details say, in Dutch. */
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'stop' AND summary = 'stop'"), 1);
	{
		static struct composed msg;
		struct outbox_msg m;

		assert_int_equal(store_outbox_get(t->st, q(t, "SELECT max(o.id) FROM outbox o WHERE o.kind = 'alert'"
							      " AND o.params LIKE '%\"kind\":\"stop\"%'"), &m), 0);
		assert_int_equal(compose_outbox(t->st, t->loc, &m, LANG_NL, NULL, &msg), 0);
		store_outbox_msg_free(&m);
		assert_non_null(strstr(msg.text, "Melding voor F-1: heeft STOP gestuurd\nDetails: Stuurde STOP"));
		assert_int_equal(store_outbox_get(t->st, q(t, "SELECT max(o.id) FROM outbox o WHERE o.kind = 'alert'"
							      " AND o.params LIKE '%\"kind\":\"cannot_come\"%'"), &m), 0);
		assert_int_equal(compose_outbox(t->st, t->loc, &m, LANG_DE, NULL, &msg), 0);
		store_outbox_msg_free(&m);
		assert_non_null(strstr(msg.text, "Details: Antwort auf die Erinnerung: Ich kann nicht"));
	}
}

static void test_after_sent_chains(void **state)
{
	struct rt *t = *state;
	struct hctx h = {&t->cfg, t->st, t->loc, time(NULL), "bot"};
	struct outbox_msg m;

	assert_int_equal(testenv_cli(&t->env, "checkin", "set", "F-1", "--every", "14d", "--at", "tue 18:30", NULL), 0);
	assert_int_equal(store_outbox_get(t->st, q(t, "SELECT id FROM outbox WHERE kind = 'checkin'"), &m), 0);
	assert_int_equal(handler_after_sent(&h, &m), 0);
	store_outbox_msg_free(&m);
	/* Two weeks on, at the same local time. */
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'checkin'"), 2);
	{
		time_t next = (time_t)q(t, "SELECT max(not_before) FROM outbox WHERE kind = 'checkin'");
		struct tm tm;

		localtime_r(&next, &tm);
		assert_int_equal(tm.tm_hour, 18);
		assert_int_equal(tm.tm_min, 30);
		assert_int_equal(tm.tm_wday, 2);
		assert_true(next - m.not_before >= 14 * 86400 - 3600 && next - m.not_before <= 14 * 86400 + 3600);
	}
	assert_true(q(t, "SELECT last_sent_at FROM checkin_plans") > 0);
	/* A document reminder queues the next while the request is open. */
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "lease", NULL), 0);
	assert_int_equal(store_outbox_get(t->st, q(t, "SELECT id FROM outbox WHERE kind = 'document_reminder'"), &m), 0);
	exec(t, "UPDATE outbox SET status = 'sent' WHERE kind = 'document_reminder'");
	assert_int_equal(handler_after_sent(&h, &m), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_reminder'"), 2);
	exec(t, "UPDATE document_requests SET status = 'received'");
	assert_int_equal(handler_after_sent(&h, &m), 0);
	store_outbox_msg_free(&m);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_reminder'"), 2);
}

/* The words of the newest forward row. */
static void last_forward_text(struct rt *t, char *out, size_t cap)
{
	sqlite3_stmt *s;
	cJSON *p;

	out[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(store_db(t->st), "SELECT params FROM outbox WHERE kind = 'forward'"
					    " ORDER BY id DESC LIMIT 1", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	p = cJSON_Parse((const char *)sqlite3_column_text(s, 0));
	assert_true(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "text")));
	snprintf(out, cap, "%s", cJSON_GetObjectItemCaseSensitive(p, "text")->valuestring);
	cJSON_Delete(p);
	sqlite3_finalize(s);
}

/* Texts at the gateway's limit (4096 UTF-16 units), in every script, are
 * forwarded whole, acknowledged and logged; urgent ones alert both staff
 * and give the family the emergency number; captions travel whole too. */
static void test_long_texts(void **state)
{
	struct rt *t = *state;
	static char text[TEXTS_MAX], got[TEXTS_MAX], media[TEXTS_MAX + 8], reply[1024];
	static const char *const kinds[] = {"voice", "photo"};
	long long fwd, logged;

	link_chat(t, "1001");
	for (int s = 0; s < TEXTS_COUNT; s++) {
		print_message("%s\n", texts_script_name((enum texts_script)s));
		texts_long((enum texts_script)s, NULL, TEXTS_TELEGRAM_UNITS, text, sizeof(text));
		assert_int_equal(texts_units(text), TEXTS_TELEGRAM_UNITS);
		fwd = q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward'");
		logged = q(t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'");
		inbound(t, "1001", EVENT_TEXT, text, NULL);
		assert_int_equal(q(t, "SELECT count(*) FROM inbound WHERE status = 'failed'"), 0);
		assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'"),
				 logged + 1);
		assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward'"), fwd + 1);
		last_forward_text(t, got, sizeof(got));
		assert_string_equal(got, text);
		assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward_ack'"), 1);

		/* Urgent: the counsellor and the backup, and the number. */
		texts_long((enum texts_script)s, "De politie staat aan de deur. ", TEXTS_TELEGRAM_UNITS, text,
			   sizeof(text));
		inbound(t, "1001", EVENT_TEXT, text, NULL);
		assert_int_equal(q(t, "SELECT count(*) FROM inbound WHERE status = 'failed'"), 0);
		assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'urgent'"), s + 1);
		assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE urgent = 1"), 2 * (s + 1));
		assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward'"), fwd + 3);
		last_forward_text(t, got, sizeof(got));
		assert_string_equal(got, text);
		last_reply(t, LANG_FR, reply, sizeof(reply), NULL);
		assert_non_null(strstr(reply, "112"));

		/* A caption is text too, on a voice note (forwarded with it) and
		 * on a photo (its words now, the file once fetched). */
		texts_long((enum texts_script)s, NULL, TEXTS_TELEGRAM_UNITS, text, sizeof(text));
		for (int k = 0; k < 2; k++) {
			snprintf(media, sizeof(media), "%s:%s", kinds[k], text);
			inbound(t, "1001", EVENT_MEDIA, media, NULL);
			assert_int_equal(q(t, "SELECT count(*) FROM inbound WHERE status = 'failed'"), 0);
			assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward'"), fwd + 4 + k);
			last_forward_text(t, got, sizeof(got));
			assert_string_equal(got, text);
		}
		assert_int_equal(q(t, "SELECT count(*) FROM downloads"), s + 1);
		assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE direction = 'in' AND kind = 'text'"),
				 logged + 3);
	}
	/* An urgent caption on a photo alerts like an urgent text. */
	snprintf(media, sizeof(media), "photo:la police est venue");
	inbound(t, "1001", EVENT_MEDIA, media, NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE urgent = 1"), 2 * (TEXTS_COUNT + 1));
}

/* A request asked while the chat was stopped is asked after START, once;
 * its reminders stay one chain, through STOP and START and through the
 * copies a household gets. */
static void test_start_resumes_document_request(void **state)
{
	struct rt *t = *state;
	struct hctx h = {&t->cfg, t->st, t->loc, time(NULL), "bot"};
	struct outbox_msg m;

	link_chat(t, "1001");
	inbound(t, "1001", EVENT_TEXT, "stop", NULL);
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "lease", NULL), 0);
	/* What the dispatcher does with it on a stopped chat. */
	exec(t, "UPDATE outbox SET status = 'cancelled', channel_id = 1, last_error = 'the family sent STOP'"
		" WHERE kind = 'document_request'");
	inbound(t, "1001", EVENT_TEXT, "start", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_request' AND status = 'queued'"
			   " AND channel_id = 1 AND request_id = 1"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_reminder' AND status = 'queued'"), 1);
	/* Again before anything went: nothing more is queued. */
	inbound(t, "1001", EVENT_TEXT, "stop", NULL);
	inbound(t, "1001", EVENT_TEXT, "start", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_request' AND status = 'queued'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_reminder' AND status = 'queued'"), 1);
	/* Once the request reached the chat, START asks nothing again. */
	mark_sent(t, "document_request");
	inbound(t, "1001", EVENT_TEXT, "stop", NULL);
	inbound(t, "1001", EVENT_TEXT, "start", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_request'"), 2);
	/* Two chats got copies of a reminder: one next reminder, not two. */
	exec(t, "UPDATE outbox SET not_before = 0 WHERE kind = 'document_reminder'");
	assert_int_equal(store_outbox_get(t->st, q(t, "SELECT id FROM outbox WHERE kind = 'document_reminder'"), &m), 0);
	exec(t, "UPDATE outbox SET status = 'sent' WHERE kind = 'document_reminder'");
	assert_int_equal(handler_after_sent(&h, &m), 0);
	assert_int_equal(handler_after_sent(&h, &m), 0);
	store_outbox_msg_free(&m);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_reminder' AND status = 'queued'"), 1);
	/* A rejection written while the chat is stopped reaches it after
	 * START, with its reason. */
	exec(t, "INSERT INTO documents (family_id, request_id, received_at, mime, size, mac, path)"
		" VALUES (1, 1, 1, 'image/jpeg', 10, x'00', 'documents/1/x.bin');"
		"UPDATE document_requests SET status = 'received'");
	inbound(t, "1001", EVENT_TEXT, "stop", NULL);
	assert_int_equal(testenv_cli(&t->env, "document", "reject", "1", "--reason", "unreadable", NULL), 0);
	exec(t, "UPDATE outbox SET status = 'cancelled', channel_id = 1, last_error = 'the family sent STOP'"
		" WHERE kind = 'document_rejected'");
	inbound(t, "1001", EVENT_TEXT, "start", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_rejected' AND status = 'queued'"
			   " AND channel_id = 1 AND params LIKE '%unreadable%'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_request' AND status = 'queued'"), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'document_reminder' AND status = 'queued'"), 1);
}

/* A staff member's code, redeemed from chat: the chat's channel id. */
static long long redeem_staff(struct rt *t, const char *name, const char *chat)
{
	char text[64], sql[128];
	const char *p;

	assert_int_equal(testenv_cli(&t->env, "staff", "invite", name, NULL), 0);
	p = strstr(t->env.out, "code: ");
	assert_non_null(p);
	snprintf(text, sizeof(text), "/start %.10s", p + 6);
	inbound(t, chat, EVENT_TEXT, text, NULL);
	snprintf(sql, sizeof(sql), "SELECT coalesce(max(id), 0) FROM channels WHERE address = '%s'", chat);
	return q(t, sql);
}

/* The pairing number queued for a chat (before it is sent and scrubbed). */
static void pairing_number(struct rt *t, long long chan, char out[16])
{
	char sql[160];
	long long n;

	snprintf(sql, sizeof(sql), "SELECT CAST(json_extract(params, '$.number') AS INTEGER) FROM outbox"
		 " WHERE kind = 'staff_pairing' AND channel_id = %lld ORDER BY id DESC LIMIT 1", chan);
	n = q(t, sql);
	assert_true(n >= 0 && n < 1000000);
	snprintf(out, 16, "%06lld", n);
}

static long long audit_rows(struct rt *t, const char *action, long long chan)
{
	char sql[160];

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit WHERE action = '%s' AND channel_id = %lld", action, chan);
	return q(t, sql);
}

/* Whoever redeems a staff code first does not become that counsellor: the
 * chat is shown a number, gets nothing else, and is active only once the
 * number is entered at the CLI. */
static void test_staff_link_needs_confirmation(void **state)
{
	struct rt *t = *state;
	struct channel ch;
	char text[1024], number[16], wrong[16];
	long long chan, rows;
	int nd;

	chan = redeem_staff(t, "Sara", "5001");
	assert_true(chan > 0);
	assert_int_equal(q(t, "SELECT verified FROM channels WHERE address = '5001'"), 0);
	/* The chat is shown a number, and nothing that names who it is for. */
	last_reply(t, LANG_NL, text, sizeof(text), NULL);
	pairing_number(t, chan, number);
	assert_non_null(strstr(text, number));
	assert_null(strstr(text, "Sara"));
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'staff.welcome'"), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM staff_pairings WHERE length(number_hash) = 32"), 1);
	/* Until then nothing reaches it: no forward, no answer to a command. */
	assert_int_equal(store_staff_channel(t->st, 1, &ch), -CB_ENOENT);
	rows = q(t, "SELECT count(*) FROM outbox");
	nd = t->ndirect;
	inbound(t, "5001", EVENT_TEXT, "/families", NULL);
	inbound(t, "5001", EVENT_TEXT, "/log F-1", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox"), rows);
	assert_int_equal(t->ndirect, nd);
	assert_int_equal(q(t, "SELECT count(*) FROM audit WHERE action = 'log.read'"), 0);
	/* A wrong number is refused and costs a try. */
	snprintf(wrong, sizeof(wrong), "%06d", (atoi(number) + 1) % 1000000);
	assert_int_equal(testenv_cli(&t->env, "staff", "confirm", "Sara", wrong, NULL), 2);
	assert_non_null(strstr(t->env.err, "4 tries left"));
	assert_int_equal(q(t, "SELECT verified FROM channels WHERE address = '5001'"), 0);
	assert_int_equal(testenv_cli(&t->env, "staff", "confirm", "Sara", number, NULL), 0);
	assert_int_equal(q(t, "SELECT verified FROM channels WHERE address = '5001'"), 1);
	assert_int_equal(store_staff_channel(t->st, 1, &ch), 0);
	assert_int_equal(ch.id, chan);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE catalog_key = 'staff.welcome'"), 1);
	/* The audit rows name the chat by its channel id, never its address. */
	assert_int_equal(audit_rows(t, "staff.link", chan), 1);
	assert_int_equal(audit_rows(t, "staff.confirm", chan), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM audit WHERE detail LIKE '%5001%'"), 0);
	/* Once confirmed, the chat is the counsellor's. */
	inbound(t, "5001", EVENT_TEXT, "/log F-1", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM audit WHERE action = 'log.read' AND actor = 'staff:Sara'"), 1);
}

/* Limited tries; a pending link that runs out leaves a stranger's chat. */
static void test_staff_pairing_tries_and_expiry(void **state)
{
	struct rt *t = *state;
	char number[16], wrong[16];
	long long chan = redeem_staff(t, "Sara", "5002");

	pairing_number(t, chan, number);
	snprintf(wrong, sizeof(wrong), "%06d", (atoi(number) + 7) % 1000000);
	for (int i = 0; i < STAFF_PAIRING_TRIES; i++)
		assert_int_equal(testenv_cli(&t->env, "staff", "confirm", "Sara", wrong, NULL), 2);
	assert_non_null(strstr(t->env.err, "too many times"));
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE address = '5002'"), 0);
	assert_int_equal(testenv_cli(&t->env, "staff", "confirm", "Sara", number, NULL), 2);
	assert_non_null(strstr(t->env.err, "no chat of Sara is waiting"));
	assert_int_equal(q(t, "SELECT count(*) FROM audit WHERE action = 'staff.confirm_failed'"), STAFF_PAIRING_TRIES);
	/* A number is not usable once the pending link has expired... */
	chan = redeem_staff(t, "Sara", "5003");
	pairing_number(t, chan, number);
	exec(t, "UPDATE staff_pairings SET expires_at = 1");
	assert_int_equal(testenv_cli(&t->env, "staff", "confirm", "Sara", number, NULL), 2);
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE address = '5003' AND verified = 1"), 0);
	/* ...and the chat is a stranger again. */
	chan = redeem_staff(t, "Sara", "5004");
	exec(t, "UPDATE staff_pairings SET expires_at = 1");
	inbound(t, "5004", EVENT_TEXT, "hallo", NULL);
	assert_non_null(strstr(t->direct, "This number is not linked"));
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE address = '5004'"), 0);
}

/* A stranger who redeemed a code first, then the counsellor with a second
 * one: confirming the counsellor's number unlinks the stranger. */
static void test_second_invite_replaces_stranger(void **state)
{
	struct rt *t = *state;
	struct channel ch;
	char number[16];
	long long stranger = redeem_staff(t, "Sara", "6001"), sara = redeem_staff(t, "Sara", "6002");

	assert_true(stranger > 0 && sara > stranger);
	pairing_number(t, sara, number);
	assert_int_equal(testenv_cli(&t->env, "staff", "confirm", "Sara", number, NULL), 0);
	assert_non_null(strstr(t->env.out, "1 other chat"));
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE address = '6001'"), 0);
	assert_int_equal(store_staff_channel(t->st, 1, &ch), 0);
	assert_int_equal(ch.id, sara);
	assert_int_equal(audit_rows(t, "staff.unlink", stranger), 1);
	/* The chat confirmed last gets the forwards, whatever the ids. */
	exec(t, "UPDATE channels SET confirmed_at = confirmed_at - 10 WHERE address = '6002'");
	{
		long long third = redeem_staff(t, "Sara", "6000");

		pairing_number(t, third, number);
		assert_int_equal(testenv_cli(&t->env, "staff", "confirm", "Sara", number, NULL), 0);
		assert_int_equal(store_staff_channel(t->st, 1, &ch), 0);
		assert_string_equal(ch.address, "6000");
		exec(t, "UPDATE channels SET confirmed_at = confirmed_at + 100 WHERE address = '6002'");
		assert_int_equal(store_staff_channel(t->st, 1, &ch), 0);
		assert_string_equal(ch.address, "6002");
	}
}

static void confirm_staff(struct rt *t, const char *name, const char *chat)
{
	char number[16];
	long long chan = redeem_staff(t, name, chat);

	pairing_number(t, chan, number);
	assert_int_equal(testenv_cli(&t->env, "staff", "confirm", name, number, NULL), 0);
}

/* A lost phone is unlinked; a counsellor who left is deactivated, and
 * their families show as unassigned. */
static void test_staff_unlink_and_deactivate(void **state)
{
	struct rt *t = *state;
	char text[2048], code[64];
	long long chan;
	const char *p;
	int nd;

	confirm_staff(t, "Sara", "7001");
	chan = q(t, "SELECT id FROM channels WHERE address = '7001'");
	assert_int_equal(testenv_cli(&t->env, "staff", "list", NULL), 0);
	snprintf(text, sizeof(text), "#%lld", chan);
	assert_non_null(strstr(t->env.out, text));
	assert_int_equal(testenv_cli(&t->env, "staff", "unlink", "Sara", "--chat", "999", NULL), 2);
	assert_non_null(strstr(t->env.err, "has no chat #999"));
	assert_int_equal(testenv_cli(&t->env, "staff", "unlink", "Sara", NULL), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE address = '7001'"), 0);
	assert_int_equal(audit_rows(t, "staff.unlink", chan), 1);
	/* The lost phone is now a stranger. */
	nd = t->ndirect;
	inbound(t, "7001", EVENT_TEXT, "/log F-1", NULL);
	assert_int_equal(t->ndirect, nd + 1);
	assert_int_equal(q(t, "SELECT count(*) FROM audit WHERE action = 'log.read'"), 0);
	assert_int_equal(testenv_cli(&t->env, "staff", "unlink", "Sara", NULL), 2);
	/* Sara leaves: her new chat goes, her codes die, her families show as
	 * unassigned, and what the family writes goes to the backup. */
	confirm_staff(t, "Sara", "7002");
	assert_int_equal(testenv_cli(&t->env, "staff", "invite", "Sara", NULL), 0);
	p = strstr(t->env.out, "code: ");
	snprintf(code, sizeof(code), "/start %.10s", p + 6);
	assert_int_equal(testenv_cli(&t->env, "staff", "add", "Cora", "--role", "coordinator", "--lang", "en", NULL), 0);
	confirm_staff(t, "Cora", "7003");
	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "staff", "deactivate", "Sara", NULL), 0);
	assert_non_null(strstr(t->env.out, "1 family is now without an active counsellor"));
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE staff_id = 1"), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM audit WHERE action = 'staff.deactivate' AND staff_id = 1"), 1);
	inbound(t, "7004", EVENT_TEXT, code, NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE address = '7004'"), 0);
	assert_int_equal(testenv_cli(&t->env, "family", "list", NULL), 0);
	assert_non_null(strstr(t->env.out, "(unassigned)"));
	assert_int_equal(testenv_cli(&t->env, "staff", "list", NULL), 0);
	assert_non_null(strstr(t->env.out, "inactive"));
	inbound(t, "7003", EVENT_TEXT, "/families", NULL);
	last_reply(t, LANG_EN, text, sizeof(text), NULL);
	assert_non_null(strstr(text, "F-1"));
	assert_non_null(strstr(text, "(no active counsellor)"));
	inbound(t, "1001", EVENT_TEXT, "Bonjour, une question", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND staff_id = 2"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND staff_id = 1"), 0);
	assert_int_equal(testenv_cli(&t->env, "staff", "deactivate", "Sara", NULL), 2);
}

/* A family's lost phone: unlinked, audited by chat, a stranger after. */
static void test_family_unlink(void **state)
{
	struct rt *t = *state;
	long long chan;
	int nd;

	link_chat(t, "3001");
	chan = q(t, "SELECT id FROM channels WHERE address = '3001'");
	assert_int_equal(audit_rows(t, "channel.link", chan), 1);
	/* family show names the chat as the audit trail does. */
	assert_int_equal(testenv_cli(&t->env, "family", "show", "F-1", NULL), 0);
	{
		char want[32];

		snprintf(want, sizeof(want), "#%lld telegram ...001", chan);
		assert_non_null(strstr(t->env.out, want));
	}
	assert_int_equal(testenv_cli(&t->env, "family", "unlink", "F-1", "--member", "Nobody", NULL), 2);
	assert_int_equal(testenv_cli(&t->env, "family", "unlink", "F-1", "--member", "Amina", NULL), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM channels"), 0);
	assert_int_equal(audit_rows(t, "channel.unlink", chan), 1);
	/* What was queued for that chat waits for the family's next chat. */
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'welcome' AND status = 'queued'"
			   " AND channel_id IS NULL"), 1);
	nd = t->ndirect;
	inbound(t, "3001", EVENT_TEXT, "bonjour", NULL);
	assert_int_equal(t->ndirect, nd + 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts"), 0);
	assert_int_equal(testenv_cli(&t->env, "family", "unlink", "F-1", NULL), 2);
	assert_non_null(strstr(t->env.err, "has no linked chat"));
}

/* Closing a file kills its codes; its chat then gets what a stranger gets. */
static void test_closed_family(void **state)
{
	struct rt *t = *state;
	char code[64];
	const char *p;
	long long rows;
	int nd;

	link_chat(t, "1001");
	assert_int_equal(testenv_cli(&t->env, "invite", "F-1", NULL), 0);
	p = strstr(t->env.out, "code: ");
	snprintf(code, sizeof(code), "/start %.10s", p + 6);
	assert_int_equal(testenv_cli(&t->env, "family", "close", "F-1", NULL), 0);
	assert_int_equal(q(t, "SELECT count(*) FROM invites WHERE used_at IS NULL"), 0);
	nd = t->ndirect;
	inbound(t, "4002", EVENT_TEXT, code, NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE address = '4002'"), 0);
	assert_int_equal(t->ndirect, nd + 1);
	assert_non_null(strstr(t->direct, "This number is not linked"));
	rows = q(t, "SELECT count(*) FROM outbox");
	inbound(t, "1001", EVENT_TEXT, "Bonjour, vous êtes là ?", NULL);
	assert_int_equal(t->ndirect, nd + 2);
	assert_non_null(strstr(t->direct, "This number is not linked"));
	assert_int_equal(q(t, "SELECT count(*) FROM outbox"), rows);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts"), 0);
}

/* A pending chat may redeem a new code: the old number is void. */
static void test_pending_chat_new_code(void **state)
{
	struct rt *t = *state;
	char first[16], second[16];
	long long chan = redeem_staff(t, "Sara", "9001");

	pairing_number(t, chan, first);
	assert_int_equal(redeem_staff(t, "Sara", "9001"), chan);
	pairing_number(t, chan, second);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'staff_pairing' AND status = 'queued'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM staff_pairings"), 1);
	if (strcmp(first, second) != 0) {
		assert_int_equal(testenv_cli(&t->env, "staff", "confirm", "Sara", first, NULL), 2);
	}
	assert_int_equal(testenv_cli(&t->env, "staff", "confirm", "Sara", second, NULL), 0);
	/* A family code from a pending chat makes it the family's, with no
	 * staff number left to send. */
	redeem_staff(t, "Marc", "9002");
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'staff_pairing' AND status = 'queued'"), 2);
	link_chat(t, "9002");
	assert_int_equal(q(t, "SELECT count(*) FROM channels WHERE address = '9002' AND family_id = 1 AND verified = 1"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'staff_pairing' AND status = 'queued'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM staff_pairings"), 0);
}

/* Reading lists on the phone is audited like reading a file. */
static void test_phone_reads_audited(void **state)
{
	struct rt *t = *state;

	confirm_staff(t, "Sara", "8001");
	inbound(t, "8001", EVENT_TEXT, "/families", NULL);
	inbound(t, "8001", EVENT_TEXT, "/alerts", NULL);
	assert_int_equal(q(t, "SELECT count(*) FROM audit WHERE action = 'families.read' AND actor = 'staff:Sara'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM audit WHERE action = 'alerts.read' AND actor = 'staff:Sara'"), 1);
}

/* Routes what is due at now + ahead seconds. */
static struct router_stats run_at(struct rt *t, int ahead)
{
	struct hctx h = {&t->cfg, t->st, t->loc, time(NULL) + ahead, "bot"};
	struct router_stats rs;

	assert_true(router_run(&h, 100, on_direct, t, &rs) >= 0);
	return rs;
}

/* A routing that fails is never silent: the event is tried again a
 * bounded number of times, then marked failed; the counsellor is alerted
 * with the words when they can still be forwarded (else without them),
 * the backup too when urgent words are in it, and the family gets the
 * neutral acknowledgement or the emergency number. */
static void test_routing_failure_told(void **state)
{
	struct rt *t = *state;
	struct router_stats rs;
	char got[256], reply[1024];

	link_chat(t, "1001");
	/* The contact log refuses the row of a plain text: routing fails. */
	exec(t, "CREATE TRIGGER fail_text BEFORE INSERT ON contact_log WHEN NEW.kind IN ('text', 'urgent')"
		" BEGIN SELECT RAISE(ABORT, 'injected'); END");
	inbound(t, "1001", EVENT_TEXT, "Kan ik morgen bellen?", NULL);
	assert_int_equal(q(t, "SELECT attempts FROM inbound ORDER BY id DESC LIMIT 1"), 1);
	assert_int_equal(q(t, "SELECT status = 'new' FROM inbound ORDER BY id DESC LIMIT 1"), 1);
	/* Not before its time; then twice more, and given up. */
	rs = run_at(t, 0);
	assert_int_equal(rs.retried + rs.failed + rs.handled, 0);
	rs = run_at(t, ROUTER_RETRY_AFTER);
	assert_int_equal(rs.retried, 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'inbound_failed'"), 0);
	rs = run_at(t, 2 * ROUTER_RETRY_AFTER);
	assert_int_equal(rs.failed, 1);
	assert_int_equal(q(t, "SELECT count(*) FROM inbound WHERE status = 'failed'"), 1);
	assert_int_equal(q(t, "SELECT attempts FROM inbound ORDER BY id DESC LIMIT 1"), ROUTER_ATTEMPTS - 1);
	/* The counsellor only (not urgent), with the words. */
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'inbound_failed' AND staff_id = 1"
			   " AND urgent = 0"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'inbound_failed'"), 1);
	last_forward_text(t, got, sizeof(got));
	assert_string_equal(got, "Kan ik morgen bellen?");
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'forward_ack' AND catalog_key = 'forward.ack'"), 1);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'failed'"), 1);
	/* The words leave the inbound table as on success. */
	assert_int_equal(q(t, "SELECT count(*) FROM inbound WHERE event LIKE '%morgen%'"), 0);

	/* Urgent words: both staff, the number for the family. */
	inbound(t, "1001", EVENT_TEXT, "De politie staat aan de deur", NULL);
	run_at(t, ROUTER_RETRY_AFTER);
	rs = run_at(t, 2 * ROUTER_RETRY_AFTER);
	assert_int_equal(rs.failed, 1);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'inbound_failed' AND urgent = 1"), 2);
	last_reply(t, LANG_FR, reply, sizeof(reply), NULL);
	assert_non_null(strstr(reply, "112"));

	/* When even the forward cannot be written, the alert goes without
	 * the words. */
	exec(t, "CREATE TRIGGER fail_forward BEFORE INSERT ON outbox WHEN NEW.kind = 'forward'"
		" BEGIN SELECT RAISE(ABORT, 'injected'); END");
	inbound(t, "1001", EVENT_TEXT, "Nog een vraag", NULL);
	run_at(t, ROUTER_RETRY_AFTER);
	rs = run_at(t, 2 * ROUTER_RETRY_AFTER);
	assert_int_equal(rs.failed, 1);
	assert_int_equal(q(t, "SELECT count(*) FROM inbound WHERE status = 'failed'"), 3);
	assert_int_equal(q(t, "SELECT count(*) FROM alerts WHERE kind = 'inbound_failed'"), 4);
	assert_int_equal(q(t, "SELECT count(*) FROM outbox WHERE kind = 'alert' AND params LIKE '%inbound_failed%'"),
			 1);
	assert_int_equal(q(t, "SELECT count(*) FROM contact_log WHERE kind = 'failed'"), 3);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static int count_commit(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* Events share transactions, each event in a savepoint: eight events
 * cost two commits, not eight. */
static void test_events_share_transactions(void **state)
{
	struct rt *t = *state;
	struct hctx h = {&t->cfg, t->st, t->loc, time(NULL), "bot"};
	static struct inbound_event ev;
	static char json[INBOUND_EVENT_MAX];
	int commits = 0;

	for (int i = 0; i < 8; i++) {
		memset(&ev, 0, sizeof(ev));
		snprintf(ev.channel, sizeof(ev.channel), "telegram");
		snprintf(ev.external_id, sizeof(ev.external_id), "%d", 900 + i);
		snprintf(ev.sender, sizeof(ev.sender), "%d", 4000 + i);
		ev.at = time(NULL);
		ev.kind = EVENT_TEXT;
		snprintf(ev.text, sizeof(ev.text), "hello");
		assert_int_equal(event_to_json(&ev, 0, json, sizeof(json)), 0);
		assert_int_equal(store_inbound_add(t->st, "telegram", ev.external_id, ev.sender, ev.at, json, NULL), 0);
	}
	sqlite3_commit_hook(store_db(t->st), count_commit, &commits);
	assert_int_equal(router_run(&h, 100, on_direct, t, NULL), 8);
	sqlite3_commit_hook(store_db(t->st), NULL, NULL);
	assert_int_equal(commits, 2);
	assert_int_equal(q(t, "SELECT count(*) FROM inbound WHERE status = 'handled' AND external_id >= '900'"), 8);
	/* Strangers are answered once their events are committed. */
	assert_int_equal(t->ndirect, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_blocked_member_named), T(test_edit_forwarded_not_rerun), T(test_events_share_transactions),
		T(test_onboarding), T(test_code_guessing_slowed), T(test_urgent_every_language), T(test_commands_every_language),
		T(test_stop_says_what_continues), T(test_stop_twice_start_unstopped),
		T(test_language_change), T(test_reply_words), T(test_details_only_current_own), T(test_first_line_values), T(test_answered_reminder_steps), T(test_checkin_answers), T(test_checkin_answered_again),
		T(test_number_answers_language_menu), T(test_number_answers_which_document),
		T(test_number_without_question), T(test_number_answers_its_own_chat),
		T(test_checkin_words_every_language),
		T(test_questions_list_their_choices),
		T(test_media_blocked_and_bad_rows), T(test_deadlines), T(test_unconfirmed_counts_from_first_reminder),
		T(test_after_sent_chains), T(test_long_texts), T(test_routing_failure_told),
		T(test_start_resumes_document_request),
		T(test_staff_link_needs_confirmation), T(test_staff_pairing_tries_and_expiry),
		T(test_second_invite_replaces_stranger), T(test_staff_unlink_and_deactivate), T(test_family_unlink),
		T(test_closed_family), T(test_phone_reads_audited), T(test_pending_chat_new_code),
		T(test_alerts_in_staff_language),
	};

	return cmocka_run_group_tests_name("router", tests, NULL, NULL);
}
