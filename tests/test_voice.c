/* Voice notes: the spoken words of every voice key in every language, the
 * notes made of them (decoded whole with libopusfile, within the caps), a
 * recorded clip that wins, and the cache that goes with its message. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
#include <opus/opusfile.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/casebot.h"
#include "bot/tz.h"
#include "bot/voice.h"
#include "locales/locale.h"
#include "locales/spoken.h"
#include "store/store.h"
#include "tests/support/testenv.h"

static const enum lang all_langs[] = {LANG_NL, LANG_FR, LANG_DE, LANG_EN};

static struct locales *loc;

static int setup(void **state)
{
	char err[512];

	(void)state;
	if (tz_set("Europe/Brussels") != 0)
		return -1;
	if (locale_load(CASEBOT_LOCALES_DIR, &loc, err, sizeof(err)) != 0) {
		fprintf(stderr, "locale_load: %s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	locale_free(loc);
	return 0;
}

static time_t local(int y, int mon, int day, int hh, int mm)
{
	time_t t;

	assert_int_equal(tz_make_local(y, mon, day, hh, mm, &t), 0);
	return t;
}

static void says(enum lang l, time_t t, const char *want)
{
	char out[256];

	assert_int_equal(spoken_datetime(loc, l, t, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

/* Tuesday 3 December 2024 at 14:00, as the Belgian reader of each
 * language hears it; other hours and the first of the month too. */
static void test_spoken_dates(void **state)
{
	time_t t = local(2024, 12, 3, 14, 0);
	char out[256];

	(void)state;
	says(LANG_NL, t, "dinsdag drie december, om twee uur 's middags");
	says(LANG_FR, t, "mardi trois décembre, à quatorze heures");
	says(LANG_DE, t, "Dienstag, den dritten Dezember, um vierzehn Uhr");
	says(LANG_EN, t, "Tuesday the third of December, at two in the afternoon");
	t = local(2025, 3, 1, 9, 30);
	says(LANG_NL, t, "zaterdag één maart, om negen uur dertig");
	says(LANG_FR, t, "samedi premier mars, à neuf heures trente");
	says(LANG_DE, t, "Samstag, den ersten März, um neun Uhr dreißig");
	says(LANG_EN, t, "Saturday the first of March, at nine thirty in the morning");
	t = local(2025, 3, 21, 12, 5);
	says(LANG_FR, t, "vendredi vingt et un mars, à midi cinq");
	says(LANG_EN, t, "Friday the twenty-first of March, at twelve oh five in the afternoon");
	says(LANG_NL, local(2025, 3, 21, 19, 0), "vrijdag eenentwintig maart, om zeven uur 's avonds");
	says(LANG_DE, local(2025, 3, 21, 1, 0), "Freitag, den einundzwanzigsten März, um ein Uhr");
	/* A due date is a day, spoken the same way. */
	assert_int_equal(spoken_day(loc, LANG_NL, 2026, 12, 10, out, sizeof(out)), 0);
	assert_string_equal(out, "donderdag tien december");
	assert_int_equal(spoken_day(loc, LANG_DE, 2026, 12, 31, out, sizeof(out)), 0);
	assert_string_equal(out, "Donnerstag, den einunddreißigsten Dezember");
	assert_int_not_equal(spoken_day(loc, LANG_EN, 2026, 2, 30, out, sizeof(out)), 0);
}

/* Written for listening: no digit, no button label, no catalog key. */
static void assert_spoken(const struct voice_text *t)
{
	static const char *const labels[] = {"button.confirm", "button.cannot_come", "button.other_time",
					     "button.details",  "button.checkin_good", "button.checkin_hard"};
	char key[64];

	for (const char *p = t->text; *p != '\0'; p++)
		if (isdigit((unsigned char)*p))
			fail_msg("%s %s: a digit in \"%s\"", t->key, lang_code(t->lang), t->text);
	for (size_t i = 0; i < CB_ARRAY_SIZE(labels); i++) {
		const char *label = locale_text(loc, t->lang, labels[i]);

		assert_non_null(label);
		if (strstr(t->text, label) != NULL)
			fail_msg("%s %s: the button label \"%s\" in \"%s\"", t->key, lang_code(t->lang), label,
				 t->text);
	}
	assert_null(testenv_catalog_key(t->text, key, sizeof(key)));
}

/* Every voice key in every language becomes a note that libopusfile
 * decodes whole: mono Opus, at most a minute and 512 KB, and a bitrate
 * between 16 and 24 kbit/s give or take the container. Prints what each
 * sounds like. */
static void test_every_key_every_language(void **state)
{
	time_t when = local(2024, 12, 3, 14, 0);
	struct timespec a, b;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (size_t k = 0; k < voice_nkeys; k++) {
		for (size_t i = 0; i < CB_ARRAY_SIZE(all_langs); i++) {
			struct voice_text t;
			struct store_audio au;
			OggOpusFile *of;
			double seconds = 0;
			int err = 0;

			assert_int_equal(voice_text_sample(loc, voice_keys[k], all_langs[i], when, &t), 0);
			assert_spoken(&t);
			assert_int_equal(voice_synthesize(&t, &au), 0);
			assert_int_equal(voice_check(au.data, au.len, &seconds), 0);
			assert_true(seconds > 2.0 && seconds < VOICE_MAX_SECONDS);
			assert_true(au.len < VOICE_MAX_BYTES);
			assert_true(au.seconds > seconds - 0.1 && au.seconds < seconds + 0.1);
			of = op_open_memory(au.data, au.len, &err);
			assert_non_null(of);
			assert_int_equal(op_channel_count(of, -1), 1);
			assert_true(op_bitrate(of, -1) >= 15000 && op_bitrate(of, -1) <= 26000);
			op_free(of);
			print_message("%-28s %s %5.1f s %5.1f KB\n", voice_keys[k], lang_code(all_langs[i]), seconds,
				      au.len / 1024.0);
			store_audio_free(&au);
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	print_message("%zu notes in %.1f s\n", voice_nkeys * CB_ARRAY_SIZE(all_langs),
		      (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
}

/* What is not a whole Ogg/Opus stream is refused. */
static void test_check_refuses(void **state)
{
	struct voice_text t;
	struct store_audio au;
	unsigned char junk[4096];

	(void)state;
	memset(junk, 'x', sizeof(junk));
	assert_int_equal(voice_check(junk, sizeof(junk), NULL), -CB_EINVAL);
	assert_int_equal(voice_check(junk, 0, NULL), -CB_EINVAL);
	assert_int_equal(voice_check(junk, VOICE_MAX_BYTES + 1, NULL), -CB_ETOOBIG);
	assert_int_equal(voice_text_sample(loc, "voice.checkin", LANG_FR, 0, &t), 0);
	assert_int_equal(voice_synthesize(&t, &au), 0);
	/* Its head without the audio pages is no note. */
	assert_int_equal(voice_check(au.data, 200, NULL), -CB_EINVAL);
	store_audio_free(&au);
}

struct fx {
	struct testenv env;
	struct store *st;
	int64_t family, member, appt, request;
};

static int64_t id_of(struct fx *fx, const char *sql)
{
	long long v = testenv_query_int(&fx->env, sql);

	assert_true(v > 0);
	return (int64_t)v;
}

static void fx_open(struct fx *fx)
{
	char err[256];
	time_t now = local(2024, 12, 1, 10, 0);

	memset(fx, 0, sizeof(*fx));
	assert_int_equal(testenv_setup(&fx->env, now, NULL), 0);
	assert_int_equal(testenv_cli(&fx->env, "init", NULL), 0);
	assert_int_equal(testenv_cli(&fx->env, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl", NULL), 0);
	assert_int_equal(testenv_cli(&fx->env, "family", "add", "F-001", "--lang", "fr", "--counsellor", "Sara", NULL),
			 0);
	assert_int_equal(testenv_cli(&fx->env, "member", "add", "F-001", "Amal", "--role", "parent", NULL), 0);
	assert_int_equal(testenv_cli(&fx->env, "appointment", "add", "F-001", "--at", "2024-12-03 14:00", "--kind",
				     "immigration_office", "--place", "Rue Haute 1", NULL),
			 0);
	assert_int_equal(testenv_cli(&fx->env, "document", "request", "F-001", "--type", "order_to_leave", "--due",
				     "2024-12-10", NULL),
			 0);
	fx->family = id_of(fx, "SELECT id FROM families");
	fx->member = id_of(fx, "SELECT id FROM members");
	fx->appt = id_of(fx, "SELECT id FROM appointments");
	fx->request = id_of(fx, "SELECT id FROM document_requests");
	assert_int_equal(store_open(fx->env.data, 0, &fx->st, err, sizeof(err)), 0);
}

static void fx_close(struct fx *fx)
{
	store_close(fx->st);
	testenv_teardown(&fx->env);
}

/* The voice of a reminder and of a request says when, never what, where
 * or which document: the same discretion as the text's first lines. */
static void test_discreet(void **state)
{
	struct fx fx;
	struct outbox_msg m = {0};
	struct voice_text t;

	(void)state;
	fx_open(&fx);
	m.family_id = fx.family;
	m.appointment_id = fx.appt;
	cb_strlcpy(m.kind, "reminder", sizeof(m.kind));
	for (size_t i = 0; i < CB_ARRAY_SIZE(all_langs); i++) {
		const char *kind = locale_text(loc, all_langs[i], "appointment.kind.immigration_office");
		const char *doc = locale_text(loc, all_langs[i], "document.type.order_to_leave");

		cb_strlcpy(m.kind, "reminder", sizeof(m.kind));
		m.request_id = 0;
		assert_int_equal(voice_text_for(fx.st, loc, &m, all_langs[i], &t), 0);
		assert_string_equal(t.key, "voice.reminder");
		assert_null(strstr(t.text, kind));
		assert_null(strstr(t.text, "Rue Haute"));
		assert_null(strstr(t.text, "Amal"));
		assert_spoken(&t);
		cb_strlcpy(m.kind, "document_request", sizeof(m.kind));
		m.request_id = fx.request;
		assert_int_equal(voice_text_for(fx.st, loc, &m, all_langs[i], &t), 0);
		assert_string_equal(t.key, "voice.document_request_due");
		assert_null(strstr(t.text, doc));
		assert_spoken(&t);
	}
	assert_int_equal(voice_text_for(fx.st, loc, &m, LANG_FR, &t), 0);
	assert_non_null(strstr(t.text, "mardi dix décembre"));
	/* A welcome or a forward has no voice. */
	cb_strlcpy(m.kind, "welcome", sizeof(m.kind));
	assert_int_equal(voice_text_for(fx.st, loc, &m, LANG_FR, &t), -CB_ENOENT);
	fx_close(&fx);
}

static int64_t outbox_row(struct fx *fx, const char *kind, time_t now)
{
	struct outbox_msg m = {0};

	m.family_id = fx->family;
	m.member_id = fx->member;
	cb_strlcpy(m.kind, kind, sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "checkin.question", sizeof(m.catalog_key));
	m.not_before = now;
	assert_int_equal(store_outbox_add(fx->st, &m, now), 0);
	return m.id;
}

/* A note is made once per text for the family, then found by its hash;
 * it goes when the last message that used it is pruned by retention, and
 * when the family is erased. */
static void test_cache_goes_with_message(void **state)
{
	struct fx fx;
	struct voice_text t;
	struct store_audio a, b;
	time_t now = local(2024, 12, 1, 10, 0);
	int64_t row1, row2;
	int n = -1, deleted = 0;

	(void)state;
	fx_open(&fx);
	row1 = outbox_row(&fx, "checkin", now);
	assert_int_equal(voice_text_sample(loc, "voice.checkin", LANG_NL, now, &t), 0);
	assert_int_equal(voice_lookup(fx.st, &t, fx.family, row1, &a), -CB_ENOENT);
	assert_int_equal(voice_note(fx.st, &t, fx.family, row1, &a), 0);
	assert_int_equal(store_voice_cache_count(fx.st, fx.family, &n), 0);
	assert_int_equal(n, 1);
	/* The next message saying the same finds it, and keeps it. */
	row2 = outbox_row(&fx, "checkin", now);
	assert_int_equal(voice_lookup(fx.st, &t, fx.family, row2, &b), 0);
	assert_int_equal(b.len, a.len);
	assert_memory_equal(b.data, a.data, a.len);
	store_audio_free(&b);
	/* Retention prunes the first message: the note stays with the second. */
	assert_int_equal(store_outbox_finish(fx.st, row1, "sent", "test", now), 0);
	assert_int_equal(store_prune(fx.st, PRUNE_OUTBOX, now + 1, 500, &deleted), 0);
	assert_int_equal(deleted, 1);
	assert_int_equal(store_voice_cache_count(fx.st, fx.family, &n), 0);
	assert_int_equal(n, 1);
	/* ... and the second: nothing of the note is left. */
	assert_int_equal(store_outbox_finish(fx.st, row2, "sent", "test", now), 0);
	assert_int_equal(store_prune(fx.st, PRUNE_OUTBOX, now + 1, 500, &deleted), 0);
	assert_int_equal(store_voice_cache_count(fx.st, fx.family, &n), 0);
	assert_int_equal(n, 0);
	/* Erasure takes a family's notes with it. */
	row1 = outbox_row(&fx, "checkin", now);
	assert_int_equal(voice_note(fx.st, &t, fx.family, row1, &b), 0);
	store_audio_free(&b);
	store_close(fx.st);
	fx.st = NULL;
	assert_int_equal(testenv_query_int(&fx.env, "SELECT count(*) FROM voice_cache"), 1);
	assert_int_equal(testenv_cli(&fx.env, "family", "erase", "F-001", "--yes", NULL), 0);
	assert_int_equal(testenv_query_int(&fx.env, "SELECT count(*) FROM voice_cache"), 0);
	store_audio_free(&a);
	testenv_teardown(&fx.env);
}

/* casebot voice: on and off per member, a clip that must be Ogg/Opus and
 * is for fixed sentences only, and that wins over synthesis; preview
 * writes the note. */
static void test_cli(void **state)
{
	struct fx fx;
	struct voice_text t;
	struct store_audio a;
	char clip[600], preview[600];
	FILE *f;
	double seconds;

	(void)state;
	fx_open(&fx);
	store_close(fx.st);
	fx.st = NULL;
	assert_int_equal(testenv_query_int(&fx.env, "SELECT voice FROM members"), 0);
	assert_int_equal(testenv_cli(&fx.env, "voice", "on", "F-001", "--member", "Amal", NULL), 0);
	assert_non_null(strstr(fx.env.out, "SMS chat gets the text only"));
	assert_int_equal(testenv_query_int(&fx.env, "SELECT voice FROM members"), 1);
	assert_int_equal(testenv_query_int(&fx.env, "SELECT count(*) FROM audit WHERE action = 'voice.on'"), 1);
	assert_int_equal(testenv_cli(&fx.env, "voice", "on", "F-001", "--member", "Nobody", NULL), 2);
	assert_int_equal(testenv_cli(&fx.env, "voice", "off", "F-001", NULL), 0);
	assert_int_equal(testenv_query_int(&fx.env, "SELECT voice FROM members"), 0);

	/* The preview is the note a member would get. */
	snprintf(preview, sizeof(preview), "%s/preview.ogg", fx.env.dir);
	assert_int_equal(testenv_cli(&fx.env, "voice", "preview", "voice.reminder", "fr", preview, NULL), 0);
	assert_non_null(strstr(fx.env.out, "à quatorze heures"));
	assert_non_null(f = fopen(preview, "rb"));
	a.data = malloc(VOICE_MAX_BYTES);
	a.len = fread(a.data, 1, VOICE_MAX_BYTES, f);
	fclose(f);
	assert_int_equal(voice_check(a.data, a.len, &seconds), 0);
	assert_true(seconds > 2.0);
	/* Written once: an existing file is not overwritten. */
	assert_int_equal(testenv_cli(&fx.env, "voice", "preview", "voice.reminder", "fr", preview, NULL), 2);

	/* A clip: not for a sentence with a date, not a file that is not
	 * Ogg/Opus; the preview's German check-in is one. */
	assert_int_equal(testenv_cli(&fx.env, "voice", "set", "voice.reminder", "de", preview, NULL), 2);
	assert_int_equal(testenv_cli(&fx.env, "voice", "set", "voice.checkin", "de", fx.env.conf, NULL), 2);
	assert_int_equal(testenv_cli(&fx.env, "voice", "set", "voice.nothing", "de", preview, NULL), 2);
	assert_int_equal(testenv_query_int(&fx.env, "SELECT count(*) FROM voice_clips"), 0);
	snprintf(clip, sizeof(clip), "%s", preview);
	assert_int_equal(testenv_cli(&fx.env, "voice", "set", "voice.checkin", "de", clip, NULL), 0);
	assert_int_equal(testenv_query_int(&fx.env, "SELECT count(*) FROM voice_clips"), 1);
	{
		char err[256];
		struct store_audio got;

		assert_int_equal(store_open(fx.env.data, 0, &fx.st, err, sizeof(err)), 0);
		assert_int_equal(voice_text_sample(loc, "voice.checkin", LANG_DE, 0, &t), 0);
		assert_int_equal(voice_note(fx.st, &t, fx.family, 0, &got), 0);
		assert_int_equal(got.len, a.len);
		assert_memory_equal(got.data, a.data, a.len);
		store_audio_free(&got);
		/* Another language has no clip: synthesized. */
		assert_int_equal(voice_text_sample(loc, "voice.checkin", LANG_NL, 0, &t), 0);
		assert_int_equal(voice_note(fx.st, &t, fx.family, 0, &got), 0);
		assert_true(got.len != a.len || memcmp(got.data, a.data, a.len) != 0);
		store_audio_free(&got);
	}
	store_audio_free(&a);
	fx_close(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spoken_dates),
		cmocka_unit_test(test_every_key_every_language),
		cmocka_unit_test(test_check_refuses),
		cmocka_unit_test(test_discreet),
		cmocka_unit_test(test_cache_goes_with_message),
		cmocka_unit_test(test_cli),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
