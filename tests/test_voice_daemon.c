/* The daemon's voice notes against the Telegram simulator: a member with
 * voice on gets a reminder's text and then its voice note (sendVoice, an
 * upload of Ogg/Opus that decodes whole), cached for that message; with
 * voice off only the text; a recorded clip goes instead of synthesis. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/voice.h"
#include "tests/support/dtest.h"
#include "tests/support/staffchat.h"

#define CHAT DT_FAMILY_CHAT

/* The n-th message sent to the chat, as the simulator recorded it. */
static void nth(struct dt *t, int n, char *out, size_t cap)
{
	dt_sent_text(t, CHAT, n, out, cap);
}

/* The bytes of a file the bot uploaded, by the file_id the simulator gave
 * it, fetched as a Bot API client would (getFile, then the download). */
static void uploaded(struct dt *t, const char *line, struct store_audio *out)
{
	char id[64], json[128], path[256];
	struct simctl_resp r;
	cJSON *root;
	const char *p;

	assert_int_equal(sscanf(line, "[voice %63[^]]]", id), 1);
	snprintf(json, sizeof(json), "{\"file_id\":\"%s\"}", id);
	assert_int_equal(simctl_api(&t->sim, "getFile", json, 0, &r), 0);
	assert_int_equal(r.status, 200);
	root = cJSON_Parse(r.body);
	p = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "result"), "file_path"));
	assert_non_null(p);
	snprintf(path, sizeof(path), "/file/bot%s/%s", DT_TOKEN, p);
	cJSON_Delete(root);
	simctl_resp_free(&r);
	assert_int_equal(simctl_http(&t->sim, "GET", path, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	out->data = (unsigned char *)r.body;
	out->len = r.len;
	r.body = NULL;
	simctl_resp_free(&r);
}

static void in_hours(int hours, char *when, size_t cap)
{
	time_t at = time(NULL) + hours * 3600;
	struct tm tm;

	localtime_r(&at, &tm);
	strftime(when, cap, "%Y-%m-%d %H:%M", &tm);
}

static void test_reminder_voice_on_and_off(void **state)
{
	struct dt *t = *state;
	struct store_audio a = {0};
	char when[32], text[1024];
	double seconds = 0;
	int n;

	dt_start_daemon(t);
	dt_link_family(t);
	n = dt_sent_count(t, CHAT);
	assert_int_equal(testenv_cli(&t->env, "voice", "on", "F-1", "--member", "Amina", NULL), 0);
	in_hours(3, when, sizeof(when));
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", when, "--kind", "lawyer", NULL), 0);
	DT_WAIT_SENT(t, CHAT, n + 2, 20000);
	nth(t, n, text, sizeof(text));
	assert_non_null(strstr(text, "Herinnering"));
	nth(t, n + 1, text, sizeof(text));
	assert_non_null(strstr(text, "[voice "));
	uploaded(t, text, &a);
	assert_int_equal(voice_check(a.data, a.len, &seconds), 0);
	assert_true(seconds > 2.0 && seconds < VOICE_MAX_SECONDS);
	print_message("a Dutch reminder: %.1f s, %.1f KB\n", seconds, a.len / 1024.0);
	/* Made once, kept for that message. */
	assert_int_equal(dt_q(t, "SELECT count(*) FROM voice_cache c JOIN outbox o ON o.id = c.outbox_id"
				 " WHERE o.kind = 'reminder'"), 1);
	assert_int_equal(dt_stat(t, "files_uploaded"), 1);
	free(a.data);

	/* Off: the next reminder is text only. */
	assert_int_equal(testenv_cli(&t->env, "voice", "off", "F-1", NULL), 0);
	in_hours(4, when, sizeof(when));
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", when, "--kind", "doctor", NULL), 0);
	DT_WAIT_SENT(t, CHAT, n + 3, 20000);
	dt_wait_family_outbox_idle(t);
	assert_int_equal(dt_sent_count(t, CHAT), n + 3);
	nth(t, n + 2, text, sizeof(text));
	assert_non_null(strstr(text, "Herinnering"));
	assert_int_equal(dt_stat(t, "files_uploaded"), 1);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* The organisation's clip for the request's fixed sentence is what the
 * member gets, byte for byte. */
static void test_recorded_clip_wins(void **state)
{
	struct dt *t = *state;
	struct store_audio a = {0}, clip = {0};
	char path[600], text[1024];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "%s/clip.ogg", t->env.dir);
	/* A recording of our own: here the French sentence, stood for Dutch. */
	assert_int_equal(testenv_cli(&t->env, "voice", "preview", "voice.document_request", "fr", path, NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "voice", "set", "voice.document_request", "nl", path, NULL), 0);
	assert_non_null(f = fopen(path, "rb"));
	clip.data = malloc(VOICE_MAX_BYTES);
	clip.len = fread(clip.data, 1, VOICE_MAX_BYTES, f);
	fclose(f);
	dt_start_daemon(t);
	dt_link_family(t);
	n = dt_sent_count(t, CHAT);
	assert_int_equal(testenv_cli(&t->env, "voice", "on", "F-1", NULL), 0);
	assert_int_equal(testenv_cli(&t->env, "document", "request", "F-1", "--type", "passport", NULL), 0);
	DT_WAIT_SENT(t, CHAT, n + 2, 20000);
	nth(t, n + 1, text, sizeof(text));
	uploaded(t, text, &a);
	assert_int_equal(a.len, clip.len);
	assert_memory_equal(a.data, clip.data, clip.len);
	/* A clip is no cached note. */
	assert_int_equal(dt_q(t, "SELECT count(*) FROM voice_cache"), 0);
	free(a.data);
	free(clip.data);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* A counsellor switches it on and off from the phone: the same setting,
 * audited with her name; a wrong argument gets the example. */
static void test_phone_command(void **state)
{
	struct dt *t = *state;
	char text[1024];
	int n;

	dt_start_daemon(t);
	staffchat_setup(t, 0, 0, 0);
	n = dt_sent_count(t, SARA);
	assert_true(simctl_message(&t->sim, SARA, "/voice F-1 on Amina") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 1, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "Spraakberichten staan aan voor F-1"));
	assert_non_null(strstr(text, "sms"));
	assert_int_equal(dt_q(t, "SELECT voice FROM members WHERE name = 'Amina'"), 1);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM audit WHERE action = 'voice.on' AND actor = 'staff:Sara'"), 1);
	assert_true(simctl_message(&t->sim, SARA, "/voice F-1 maybe") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 2, 10000);
	staffchat_last_text(t, SARA, text, sizeof(text));
	assert_non_null(strstr(text, "/voice F-001 on"));
	assert_true(simctl_message(&t->sim, SARA, "/voice F-1 off") > 0);
	DT_WAIT_SENT_EXACTLY(t, SARA, n + 3, 10000);
	assert_int_equal(dt_q(t, "SELECT voice FROM members WHERE name = 'Amina'"), 0);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reminder_voice_on_and_off, dt_setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_recorded_clip_wins, dt_setup, dt_teardown),
		cmocka_unit_test_setup_teardown(test_phone_command, dt_setup, dt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
