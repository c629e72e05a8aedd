/* The daemon's voice notes against wasim, the WhatsApp Cloud API
 * simulator: a member with voice on gets the reminder and then an audio
 * message, uploaded as audio/ogg; codecs=opus under 512 KB, that decodes
 * whole; with voice off, only the reminder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/voice.h"
#include "tests/support/dtest.h"
#include "tests/support/wasimctl.h"

#define FAMILY_WA "32470001001"
#define WAIT_MS 20000

struct wf {
	struct dt *t;
	struct wasimctl w;
};

static int setup(void **state)
{
	struct wf *f = calloc(1, sizeof(*f));
	char ini[512], hook[160];
	void *dt = NULL;

	if (f == NULL || wasimctl_start(&f->w, NULL, "--enforce --status-dup-percent 0") != 0)
		return -1;
	setenv("CASEBOT_WHATSAPP_TOKEN", WASIMCTL_TOKEN, 1);
	setenv("CASEBOT_WHATSAPP_APP_SECRET", WASIMCTL_APP_SECRET, 1);
	snprintf(ini, sizeof(ini),
		 "[whatsapp]\napi_base = %s\nphone_number_id = %s\nverify_token = %s\nwebhook_path = hook\n",
		 wasimctl_api_base(&f->w), wasimctl_phone_number_id(&f->w), WASIMCTL_VERIFY_TOKEN);
	if (dt_setup_with(&dt, ini) != 0)
		return -1;
	f->t = dt;
	snprintf(hook, sizeof(hook), "http://127.0.0.1:%d/whatsapp/hook", f->t->http_port);
	if (wasimctl_set_webhook(&f->w, hook) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct wf *f = *state;
	void *dt = f->t;
	int rc = dt_teardown(&dt);

	if (wasimctl_stop(&f->w) != 0)
		rc = -1;
	free(f);
	return rc;
}

static const char *field(const cJSON *m, const char *name)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(m, name));

	return s != NULL ? s : "";
}

/* How many messages of type went to the family, and the media id of the
 * last (into id). */
static int count_type(struct wf *f, const char *type, char *id, size_t cap)
{
	cJSON *all = wasimctl_sent(&f->w, FAMILY_WA), *m;
	int n = 0;

	cJSON_ArrayForEach(m, all) {
		if (strcmp(field(m, "type"), type) == 0) {
			n++;
			if (id != NULL)
				snprintf(id, cap, "%s", field(m, "media_id"));
		}
	}
	cJSON_Delete(all);
	return n;
}

static int has_text(struct wf *f, const char *what)
{
	cJSON *all = wasimctl_sent(&f->w, FAMILY_WA), *m;
	int n = 0;

	cJSON_ArrayForEach(m, all)
		n += strstr(field(m, "text"), what) != NULL;
	cJSON_Delete(all);
	return n;
}

static void add_appointment(struct wf *f, int hours, const char *kind)
{
	char when[32];
	time_t at = time(NULL) + hours * 3600;
	struct tm tm;

	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&f->t->env, "appointment", "add", "F-1", "--at", when, "--kind", kind, NULL), 0);
}

static void test_reminder_audio(void **state)
{
	struct wf *f = *state;
	struct simctl_resp r;
	char id[128], path[256], code[32], url[512];
	const char *p;
	double seconds = 0;
	cJSON *meta;
	long long until;

	dt_start_daemon(f->t);
	until = dt_now_ms() + 10000;
	while (!dt_port_open(f->t->http_port) && dt_now_ms() < until)
		dt_sleep_ms(20);
	/* Amina links by her code: her window is open. */
	assert_int_equal(testenv_cli(&f->t->env, "invite", "F-1", "--member", "Amina", NULL), 0);
	p = strstr(f->t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, sizeof(code), "%.10s", p + 6);
	assert_true(wasimctl_text(&f->w, FAMILY_WA, code) > 0);
	DT_WAIT_FOR(has_text(f, "Welkom") > 0, WAIT_MS);
	assert_int_equal(testenv_cli(&f->t->env, "voice", "on", "F-1", NULL), 0);
	add_appointment(f, 3, "lawyer");
	DT_WAIT_FOR(count_type(f, "audio", id, sizeof(id)) == 1, WAIT_MS);
	assert_true(has_text(f, "Herinnering") == 1 || count_type(f, "interactive", NULL, 0) >= 1);
	/* What was uploaded: its type, and the note itself. */
	snprintf(path, sizeof(path), "/%s", id);
	assert_int_equal(wasimctl_graph(&f->w, "GET", path, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	meta = cJSON_Parse(r.body);
	simctl_resp_free(&r);
	assert_string_equal(field(meta, "mime_type"), VOICE_MIME);
	snprintf(url, sizeof(url), "%s", field(meta, "url"));
	cJSON_Delete(meta);
	assert_int_equal(wasimctl_fetch(&f->w, url, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.len > 0 && r.len < VOICE_MAX_BYTES);
	assert_int_equal(voice_check((const unsigned char *)r.body, r.len, &seconds), 0);
	print_message("a Dutch reminder on WhatsApp: %.1f s, %.1f KB\n", seconds, r.len / 1024.0);
	simctl_resp_free(&r);
	assert_int_equal(wasimctl_stat(&f->w, "window_violations"), 0);

	/* Off: the next reminder comes without one. */
	assert_int_equal(testenv_cli(&f->t->env, "voice", "off", "F-1", NULL), 0);
	add_appointment(f, 4, "doctor");
	DT_WAIT_FOR(dt_q(f->t, "SELECT count(*) FROM outbox WHERE kind = 'reminder' AND status IN ('sent',"
			       " 'delivered', 'read')") == 2, WAIT_MS);
	dt_wait_family_outbox_idle(f->t);
	assert_int_equal(count_type(f, "audio", NULL, 0), 1);
	assert_int_equal(dt_stop_daemon(f->t, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reminder_audio, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
