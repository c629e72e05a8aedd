#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <utf8proc.h>

#include "bot/casebot.h"
#include "bot/compose.h"
#include "bot/tz.h"
#include "locales/keys.h"
#include "locales/locale.h"
#include "locales/note.h"
#include "tests/support/testenv.h"

#define ERRCAP 512
#define OUTCAP 2048

static const enum lang all_langs[] = {LANG_NL, LANG_FR, LANG_DE, LANG_EN};

static int setup(void **state)
{
	struct locales *loc = NULL;
	char err[ERRCAP];

	if (tz_set("Europe/Brussels") != 0)
		return -1;
	if (locale_load(CASEBOT_LOCALES_DIR, &loc, err, sizeof(err)) != 0) {
		fprintf(stderr, "locale_load: %s\n", err);
		return -1;
	}
	*state = loc;
	return 0;
}

static int teardown(void **state)
{
	locale_free(*state);
	return 0;
}

static time_t utc(int y, int mon, int day, int hh, int mm)
{
	struct tm tm = {0};

	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	return timegm(&tm);
}

static time_t local(int y, int mon, int day, int hh, int mm)
{
	time_t t = 0;

	assert_int_equal(tz_make_local(y, mon, day, hh, mm, &t), 0);
	return t;
}

static char *folded(const char *s)
{
	utf8proc_uint8_t *out = NULL;

	assert_true(utf8proc_map((const utf8proc_uint8_t *)s, 0, &out,
				 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
					 UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK) >= 0);
	return (char *)out;
}

static void expect_datetime(const struct locales *loc, enum lang l, time_t t,
			    const char *want)
{
	char out[OUTCAP];

	assert_int_equal(locale_format_datetime(loc, l, t, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_load_shipped(void **state)
{
	const struct locales *loc = *state;
	const char *const *items;

	assert_string_equal(locale_text(loc, LANG_NL, "meta.language_name"), "Nederlands");
	assert_string_equal(locale_text(loc, LANG_FR, "meta.language_name"), "Français");
	assert_string_equal(locale_text(loc, LANG_DE, "meta.language_name"), "Deutsch");
	assert_string_equal(locale_text(loc, LANG_EN, "meta.language_name"), "English");
	assert_int_equal(locale_list(loc, LANG_FR, "weekdays", &items), 7);
	assert_string_equal(items[0], "lundi");
	assert_int_equal(locale_list(loc, LANG_DE, "months", &items), 12);
	assert_string_equal(items[2], "März");
	assert_null(locale_text(loc, LANG_EN, "weekdays"));
	assert_null(locale_text(loc, LANG_EN, "no.such.key"));
	assert_null(locale_text(loc, (enum lang)LANG_COUNT, "welcome"));
	assert_int_equal(locale_list(loc, LANG_EN, "welcome", &items), 0);
	assert_null(items);
}

/* Each file must hold exactly the registry's keys, nothing more. */
static void test_files_match_registry(void **state)
{
	(void)state;
	for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
		char path[1024], *buf;
		FILE *f;
		long n;
		cJSON *root;
		size_t count = 0;
		const cJSON *it;

		snprintf(path, sizeof(path), "%s/%s.json", CASEBOT_LOCALES_DIR,
			 lang_code(all_langs[li]));
		f = fopen(path, "rb");
		assert_non_null(f);
		assert_int_equal(fseek(f, 0, SEEK_END), 0);
		n = ftell(f);
		rewind(f);
		buf = calloc(1, (size_t)n + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
		fclose(f);
		root = cJSON_Parse(buf);
		free(buf);
		assert_non_null(root);
		cJSON_ArrayForEach(it, root) {
			assert_true(keys_find(it->string) >= 0);
			count++;
		}
		assert_int_equal(count, keys_count());
		cJSON_Delete(root);
	}
}

static void test_every_key_renders(void **state)
{
	const struct locales *loc = *state;

	for (size_t i = 0; i < keys_count(); i++) {
		const struct keys_entry *k = keys_at(i);
		struct locale_param params[KEYS_MAX_PARAMS];
		char values[KEYS_MAX_PARAMS][64];
		size_t n = 0;

		for (; n < KEYS_MAX_PARAMS && k->params[n] != NULL; n++) {
			snprintf(values[n], sizeof(values[n]), "<%s>", k->params[n]);
			params[n].name = k->params[n];
			params[n].value = values[n];
		}
		for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
			enum lang l = all_langs[li];
			char out[OUTCAP];

			if (k->kind == KEYS_LIST) {
				const char *const *items;

				assert_true(locale_list(loc, l, k->key, &items) > 0);
				assert_non_null(items[0]);
				continue;
			}
			assert_int_equal(locale_render(loc, l, k->key, params, n, out, sizeof(out)), 0);
			assert_true(out[0] != '\0');
			assert_null(strchr(out, '{'));
			/* The load check made the sets equal; each one is used. */
			for (size_t j = 0; j < n; j++)
				assert_non_null(strstr(out, values[j]));
		}
	}
}

static void test_render_reminder(void **state)
{
	const struct locales *loc = *state;
	static const char *const want[] = {
		[LANG_NL] = "Herinnering: je hebt een afspraak op dinsdag 1 december om 9.05 uur.",
		[LANG_FR] = "Rappel : vous avez un rendez-vous le mardi 1er décembre à 9h05.",
		[LANG_DE] = "Erinnerung: Sie haben einen Termin am Dienstag, 1. Dezember, 9:05 Uhr.",
		[LANG_EN] = "Reminder: you have an appointment on Tuesday 1 December at 9:05.",
	};
	/* What it is comes with the details. */
	static const char *const what[] = {
		[LANG_NL] = "Wat: advocaat",
		[LANG_FR] = "Objet : avocat",
		[LANG_DE] = "Was: Anwalt",
		[LANG_EN] = "What: lawyer",
	};
	time_t t = local(2026, 12, 1, 9, 5);

	for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
		enum lang l = all_langs[li];
		char when[256], out[OUTCAP];
		struct locale_param p[] = {
			{"what", locale_text(loc, l, "appointment.kind.lawyer")},
			{"when", when},
		};

		assert_int_equal(locale_format_datetime(loc, l, t, when, sizeof(when)), 0);
		assert_int_equal(locale_render(loc, l, "reminder.appointment", p + 1, 1, out,
					       sizeof(out)), 0);
		assert_string_equal(out, want[l]);
		assert_int_equal(locale_render(loc, l, "reminder.what", p, 1, out, sizeof(out)), 0);
		assert_string_equal(out, what[l]);
	}
}

static void test_render_errors(void **state)
{
	const struct locales *loc = *state;
	const struct locale_param p[] = {{"counsellor", "Anna"}, {"text", "{when} is literal"}};
	char out[OUTCAP];

	/* A value is copied as it is, never expanded again. */
	assert_int_equal(locale_render(loc, LANG_EN, "reply.from_counsellor", p, 2, out,
				       sizeof(out)), 0);
	assert_string_equal(out, "Message from Anna:\n{when} is literal");

	strcpy(out, "junk");
	assert_int_equal(locale_render(loc, LANG_EN, "reply.from_counsellor", p, 1, out,
				       sizeof(out)), -CB_EINVAL);
	assert_string_equal(out, "");
	assert_int_equal(locale_render(loc, LANG_EN, "welcome", NULL, 0, out, sizeof(out)),
			 -CB_EINVAL);
	assert_int_equal(locale_render(loc, LANG_EN, "no.such.key", NULL, 0, out, sizeof(out)),
			 -CB_ENOENT);
	assert_int_equal(locale_render(loc, LANG_EN, "weekdays", NULL, 0, out, sizeof(out)),
			 -CB_ENOENT);
	assert_int_equal(locale_render(loc, LANG_EN, "document.thanks", NULL, 0, out, 0),
			 -CB_EINVAL);
}

static void test_render_too_small(void **state)
{
	const struct locales *loc = *state;
	const struct locale_param p[] = {{"counsellor", "Anna"}, {"text", "See you"}};
	const char *want = "Message from Anna:\nSee you";
	size_t len = strlen(want);
	char out[64];

	memset(out, 'x', sizeof(out));
	assert_int_equal(locale_render(loc, LANG_EN, "reply.from_counsellor", p, 2, out, len),
			 -CB_ETOOBIG);
	assert_string_equal(out, "");
	/* Nothing written past the cap. */
	for (size_t i = len; i < sizeof(out); i++)
		assert_int_equal(out[i], 'x');
	/* Too small inside the literal text, not only in a value. */
	assert_int_equal(locale_render(loc, LANG_EN, "reply.from_counsellor", p, 2, out, 5),
			 -CB_ETOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(locale_render(loc, LANG_EN, "reply.from_counsellor", p, 2, out, len + 1),
			 0);
	assert_string_equal(out, want);
	assert_int_equal(locale_format_datetime(loc, LANG_FR, local(2026, 12, 1, 9, 5), out, 10),
			 -CB_ETOOBIG);
	assert_string_equal(out, "");
	assert_int_equal(locale_format_time(loc, LANG_NL, local(2026, 12, 1, 9, 5), out, 4),
			 -CB_ETOOBIG);
	assert_string_equal(out, "");
}

static void test_dates(void **state)
{
	const struct locales *loc = *state;
	time_t dec1 = local(2026, 12, 1, 9, 5), dec3 = local(2026, 12, 3, 14, 0);
	char out[OUTCAP];

	/* 1 December 2026 is a Tuesday, 3 December a Thursday. */
	assert_int_equal(dec1, utc(2026, 12, 1, 8, 5));
	expect_datetime(loc, LANG_NL, dec1, "dinsdag 1 december om 9.05 uur");
	expect_datetime(loc, LANG_FR, dec1, "mardi 1er décembre à 9h05");
	expect_datetime(loc, LANG_DE, dec1, "Dienstag, 1. Dezember, 9:05 Uhr");
	expect_datetime(loc, LANG_EN, dec1, "Tuesday 1 December at 9:05");
	expect_datetime(loc, LANG_NL, dec3, "donderdag 3 december om 14.00 uur");
	expect_datetime(loc, LANG_FR, dec3, "jeudi 3 décembre à 14h00");
	expect_datetime(loc, LANG_DE, dec3, "Donnerstag, 3. Dezember, 14:00 Uhr");
	expect_datetime(loc, LANG_EN, dec3, "Thursday 3 December at 14:00");

	assert_int_equal(locale_format_date(loc, LANG_FR, dec1, out, sizeof(out)), 0);
	assert_string_equal(out, "mardi 1er décembre");
	assert_int_equal(locale_format_date(loc, LANG_DE, dec3, out, sizeof(out)), 0);
	assert_string_equal(out, "Donnerstag, 3. Dezember");
	assert_int_equal(locale_format_time(loc, LANG_NL, dec1, out, sizeof(out)), 0);
	assert_string_equal(out, "9.05 uur");
	assert_int_equal(locale_format_time(loc, LANG_FR, dec3, out, sizeof(out)), 0);
	assert_string_equal(out, "14h00");
	assert_int_equal(locale_format_time(loc, LANG_DE, dec1, out, sizeof(out)), 0);
	assert_string_equal(out, "9:05 Uhr");
	assert_int_equal(locale_format_time(loc, LANG_EN, local(2026, 12, 3, 0, 0), out,
					    sizeof(out)), 0);
	assert_string_equal(out, "0:00");

	assert_int_equal(locale_format_day(loc, LANG_NL, 2026, 12, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "dinsdag 1 december");
	assert_int_equal(locale_format_day(loc, LANG_FR, 2026, 12, 1, out, sizeof(out)), 0);
	assert_string_equal(out, "mardi 1er décembre");
	assert_int_equal(locale_format_day(loc, LANG_DE, 2027, 2, 28, out, sizeof(out)), 0);
	assert_string_equal(out, "Sonntag, 28. Februar");
	assert_int_equal(locale_format_day(loc, LANG_EN, 2028, 2, 29, out, sizeof(out)), 0);
	assert_string_equal(out, "Tuesday 29 February");
	assert_int_equal(locale_format_day(loc, LANG_EN, 2026, 3, 29, out, sizeof(out)), 0);
	assert_string_equal(out, "Sunday 29 March");
	assert_int_equal(locale_format_day(loc, LANG_EN, 2027, 2, 29, out, sizeof(out)),
			 -CB_EINVAL);
	assert_int_equal(locale_format_day(loc, LANG_EN, 2026, 13, 1, out, sizeof(out)),
			 -CB_EINVAL);
}

/* One DST year: spring gap on the last Sunday of March, autumn overlap on
 * the last Sunday of October. */
static void check_dst_year(const struct locales *loc, int y, int march, int october)
{
	char want[128];
	time_t t;

	/* Spring: 01:30 CET = 00:30 UTC, 02:30 does not exist, 03:30 CEST = 01:30 UTC. */
	t = local(y, 3, march, 1, 30);
	assert_int_equal(t, utc(y, 3, march, 0, 30));
	snprintf(want, sizeof(want), "zondag %d maart om 1.30 uur", march);
	expect_datetime(loc, LANG_NL, t, want);
	snprintf(want, sizeof(want), "dimanche %d mars à 1h30", march);
	expect_datetime(loc, LANG_FR, t, want);
	assert_int_equal(tz_make_local(y, 3, march, 2, 30, &t), -CB_EINVAL);
	t = local(y, 3, march, 3, 30);
	assert_int_equal(t, utc(y, 3, march, 1, 30));
	snprintf(want, sizeof(want), "Sonntag, %d. März, 3:30 Uhr", march);
	expect_datetime(loc, LANG_DE, t, want);
	snprintf(want, sizeof(want), "Sunday %d March at 3:30", march);
	expect_datetime(loc, LANG_EN, t, want);
	/* From UTC across the jump: one hour apart, two local hours apart. */
	snprintf(want, sizeof(want), "Sunday %d March at 1:30", march);
	expect_datetime(loc, LANG_EN, utc(y, 3, march, 0, 30), want);
	snprintf(want, sizeof(want), "dimanche %d mars à 3h30", march);
	expect_datetime(loc, LANG_FR, utc(y, 3, march, 1, 30), want);
	/* Local Sunday starts while UTC is still Saturday. */
	snprintf(want, sizeof(want), "zondag %d maart om 0.30 uur", march);
	expect_datetime(loc, LANG_NL, utc(y, 3, march - 1, 23, 30), want);

	/* Autumn: 02:30 happens twice; the first is CEST (00:30 UTC). */
	t = local(y, 10, october, 2, 30);
	assert_int_equal(t, utc(y, 10, october, 0, 30));
	snprintf(want, sizeof(want), "zondag %d oktober om 2.30 uur", october);
	expect_datetime(loc, LANG_NL, t, want);
	snprintf(want, sizeof(want), "Sonntag, %d. Oktober, 2:30 Uhr", october);
	expect_datetime(loc, LANG_DE, utc(y, 10, october, 0, 30), want);
	expect_datetime(loc, LANG_DE, utc(y, 10, october, 1, 30), want);
	t = local(y, 10, october, 3, 30);
	assert_int_equal(t, utc(y, 10, october, 2, 30));
	snprintf(want, sizeof(want), "dimanche %d octobre à 3h30", october);
	expect_datetime(loc, LANG_FR, t, want);
	snprintf(want, sizeof(want), "Sunday %d October at 3:30", october);
	expect_datetime(loc, LANG_EN, t, want);
	/* Local Sunday starts at 22:00 UTC on Saturday in summer time. */
	snprintf(want, sizeof(want), "Sunday %d October at 0:30", october);
	expect_datetime(loc, LANG_EN, utc(y, 10, october - 1, 22, 30), want);
	snprintf(want, sizeof(want), "Saturday %d October at 23:30", october - 1);
	expect_datetime(loc, LANG_EN, utc(y, 10, october - 1, 21, 30), want);
}

static void test_dst_2026(void **state)
{
	check_dst_year(*state, 2026, 29, 25);
}

static void test_dst_2027(void **state)
{
	check_dst_year(*state, 2027, 28, 31);
}

/* Field rules the loader cannot see: the neutral answers are identical, the
 * menus name the real reply words, the questions list the real buttons. */
static void test_wording_rules(void **state)
{
	const struct locales *loc = *state;
	static const char *const menu_words[] = {"words.language", "words.stop", "words.start",
						  "words.help"};
	static const char *const questions[] = {"reminder.question", "checkin.question", "language.choose",
						 "document.which"};

	for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
		enum lang l = all_langs[li];
		char *menu = folded(locale_text(loc, l, "help.menu"));
		const char *const *items;

		assert_string_equal(locale_text(loc, l, "unknown.neutral"),
				    locale_text(loc, l, "invite.bad_code"));
		assert_null(strchr(locale_text(loc, l, "unknown.neutral"), '\n'));
		for (size_t i = 0; i < CB_ARRAY_SIZE(menu_words); i++) {
			assert_true(locale_list(loc, l, menu_words[i], &items) > 0);
			assert_non_null(strstr(menu, items[0]));
		}
		free(menu);
		/* compose lists a question's numbered choices from its buttons;
		 * a list written into the text would show twice. */
		for (size_t i = 0; i < CB_ARRAY_SIZE(questions); i++)
			assert_null(strstr(locale_text(loc, l, questions[i]), "\n1 "));
		for (size_t i = 0; i < keys_count(); i++) {
			const char *key = keys_at(i)->key, *p;
			int words = 1;

			if (strncmp(key, "button.", 7) != 0)
				continue;
			for (p = locale_text(loc, l, key); *p != '\0'; p++)
				words += *p == ' ';
			assert_true(words <= 3);
		}
	}
}

static int list_has(const struct locales *loc, enum lang l, const char *key, const char *w)
{
	const char *const *items;
	size_t n = locale_list(loc, l, key, &items);

	for (size_t i = 0; i < n; i++) {
		if (strcmp(items[i], w) == 0)
			return 1;
	}
	return 0;
}

static void test_reply_words(void **state)
{
	const struct locales *loc = *state;

	assert_true(list_has(loc, LANG_NL, "words.yes", "ja"));
	assert_true(list_has(loc, LANG_FR, "words.yes", "oui"));
	assert_true(list_has(loc, LANG_FR, "words.yes", "d'accord"));
	assert_true(list_has(loc, LANG_DE, "words.no", "nein"));
	assert_true(list_has(loc, LANG_EN, "words.yes", "y"));
	assert_true(list_has(loc, LANG_FR, "words.stop", "arret"));
	assert_true(list_has(loc, LANG_DE, "words.stop", "halt"));
	assert_true(list_has(loc, LANG_DE, "words.help", "hilfe"));
	assert_true(list_has(loc, LANG_DE, "words.language", "sprache"));
	assert_true(list_has(loc, LANG_NL, "words.urgent", "gesloten centrum|centra"));
	assert_true(list_has(loc, LANG_NL, "words.urgent", "dvz"));
	assert_true(list_has(loc, LANG_FR, "words.urgent", "office des etrangers"));
	assert_true(list_has(loc, LANG_FR, "words.urgent", "expuls*"));
	assert_true(list_has(loc, LANG_DE, "words.urgent", "*abschieb*"));
	assert_true(list_has(loc, LANG_EN, "words.urgent", "immigration office*"));
	assert_true(list_has(loc, LANG_NL, "words.urgent_not", "geweldig*"));
	assert_false(list_has(loc, LANG_EN, "words.urgent", "Police"));
}

/* The words of the four check-in answers: each language has its own for
 * each answer, no word picks two answers (in any language), and none is a
 * command or an urgent word, which would win before the check-in. */
static void test_checkin_words(void **state)
{
	const struct locales *loc = *state;
	static const char *const answers[] = {"words.checkin_good", "words.checkin_okay", "words.checkin_hard",
					      "words.checkin_contact"};
	static const char *const others[] = {"words.stop", "words.start", "words.help", "words.language",
					     "words.urgent"};

	for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
		for (size_t a = 0; a < CB_ARRAY_SIZE(answers); a++) {
			const char *const *items;
			size_t n = locale_list(loc, all_langs[li], answers[a], &items);

			assert_true(n >= 3);
			for (size_t i = 0; i < n; i++) {
				for (size_t l2 = 0; l2 < CB_ARRAY_SIZE(all_langs); l2++) {
					for (size_t b = 0; b < CB_ARRAY_SIZE(answers); b++)
						if (b != a && list_has(loc, all_langs[l2], answers[b], items[i]))
							fail_msg("\"%s\" is in %s (%s) and %s (%s)", items[i],
								 answers[a], lang_code(all_langs[li]), answers[b],
								 lang_code(all_langs[l2]));
					for (size_t o = 0; o < CB_ARRAY_SIZE(others); o++)
						if (list_has(loc, all_langs[l2], others[o], items[i]))
							fail_msg("\"%s\" (%s) is also in %s", items[i], answers[a],
								 others[o]);
				}
			}
		}
	}
	/* The words the family is most likely to use. */
	assert_true(list_has(loc, LANG_FR, "words.checkin_hard", "non"));
	assert_true(list_has(loc, LANG_FR, "words.checkin_okay", "ca va"));
	assert_true(list_has(loc, LANG_EN, "words.checkin_okay", "okay"));
	assert_true(list_has(loc, LANG_NL, "words.checkin_good", "goed"));
	assert_true(list_has(loc, LANG_DE, "words.checkin_hard", "schlecht"));
}

/* The texts staff read. Each key with exactly the placeholders the staff
 * code supplies, and whether it can start a message. */
struct staff_key {
	const char *key;
	const char *params[KEYS_MAX_PARAMS];
	int opens;
};

static const struct staff_key staff_keys[] = {
	{"staff.welcome", {"name"}, 1},
	{"staff.forward.header", {"ref", "member", "language"}, 1},
	{"staff.forward.urgent_header", {"ref", "member", "language"}, 1},
	{"staff.forward.answering", {"last"}, 0},
	{"staff.forward.text", {"text"}, 0},
	{"staff.forward.media", {"what"}, 0},
	{"button.staff_reply", {0}, 0},
	{"button.staff_log", {0}, 0},
	{"button.staff_handled", {0}, 0},
	{"button.staff_ack", {0}, 0},
	{"staff.reply_prompt", {"ref"}, 1},
	{"staff.reply_delivered", {"ref"}, 1},
	{"staff.reply_failed", {"ref", "reason"}, 1},
	{"staff.reason.blocked", {0}, 0},
	{"staff.reason.stopped", {0}, 0},
	{"staff.reason.gateway", {0}, 0},
	{"staff.reason.closed", {0}, 0},
	{"staff.refused", {"ref"}, 1},
	{"staff.unknown_command", {0}, 1},
	{"staff.help", {0}, 1},
	{"staff.families.header", {0}, 1},
	{"staff.families.line", {"ref", "days", "name"}, 0},
	{"staff.families.never", {"ref", "name"}, 0},
	{"staff.families.none", {0}, 1},
	{"staff.log.header", {"ref"}, 1},
	{"staff.log.line", {"when", "summary"}, 0},
	{"staff.log.empty", {"ref"}, 1},
	{"staff.appointment.added", {"ref", "when", "what"}, 1},
	{"staff.request.added", {"ref", "document"}, 1},
	{"staff.checkin.set", {"ref", "days", "next"}, 1},
	{"staff.checkin.off", {"ref"}, 1},
	{"staff.usage.appointment", {0}, 1},
	{"staff.usage.request", {0}, 1},
	{"staff.usage.checkin", {0}, 1},
	{"staff.usage.log", {0}, 1},
	{"staff.usage.away", {0}, 1},
	{"staff.error.date", {"value"}, 1},
	{"staff.error.past", {"value"}, 1},
	{"staff.error.kind", {"value"}, 1},
	{"staff.error.doctype", {"value"}, 1},
	{"staff.error.closed", {"ref"}, 1},
	{"staff.error.no_checkins", {"ref"}, 1},
	{"staff.away.on", {"backup"}, 1},
	{"staff.away.on_nobackup", {0}, 1},
	{"staff.away.off", {0}, 1},
	{"staff.alerts.header", {"count"}, 1},
	{"staff.alerts.none", {0}, 1},
	{"staff.alert", {"ref", "kind"}, 1},
	{"staff.alert.detail", {"detail"}, 0},
	{"staff.alert.escalated", {"ref", "kind", "who"}, 1},
	{"staff.alert.acked", {0}, 1},
	{"staff.handled", {"ref"}, 1},
	{"staff.alert_kind.message", {0}, 0},
	{"staff.alert_kind.urgent", {0}, 0},
	{"staff.alert_kind.cannot_come", {0}, 0},
	{"staff.alert_kind.other_time", {0}, 0},
	{"staff.alert_kind.unconfirmed", {0}, 0},
	{"staff.alert_kind.document_overdue", {0}, 0},
	{"staff.alert_kind.checkin_unanswered", {0}, 0},
	{"staff.alert_kind.checkin_hard", {0}, 0},
	{"staff.alert_kind.contact_request", {0}, 0},
	{"staff.alert_kind.stop", {0}, 0},
	{"staff.alert_kind.start", {0}, 0},
	{"staff.alert_kind.blocked", {0}, 0},
	{"staff.alert_kind.undelivered", {0}, 0},
	{"staff.alert_kind.document_received", {0}, 0},
	{"staff.alert_kind.document_unrequested", {0}, 0},
	{"staff.alert_kind.document_refused", {0}, 0},
	{"staff.alert_kind.download_failed", {0}, 0},
	{"staff.digest.subject", {"date"}, 1},
	{"staff.digest.intro", {0}, 1},
	{"staff.digest.messages", {"count"}, 0},
	{"staff.digest.alerts", {"count"}, 0},
	{"staff.digest.overdue", {"count"}, 0},
	{"staff.digest.unconfirmed", {"count"}, 0},
	{"staff.digest.family_line", {"ref", "detail"}, 0},
	{"staff.digest.empty", {0}, 1},
	{"staff.email.forward_subject", {"ref"}, 1},
	{"staff.email.alert_subject", {"ref", "kind"}, 1},
	{"reply.from_counsellor", {"counsellor", "text"}, 1},
};

/* Values that must never show on a locked screen, whatever the registry's
 * list says: the family's words, an alert's details, a log summary, and a
 * mistyped appointment kind or document type (it can read "DVZ"). */
static int staff_value_hidden(const char *key, const char *param)
{
	static const char *const always[] = {"text", "detail", "summary", "last", "reason",
					     "what", "document"};

	for (size_t i = 0; i < CB_ARRAY_SIZE(always); i++) {
		if (strcmp(param, always[i]) == 0)
			return 1;
	}
	return strcmp(param, "value") == 0 &&
	       (strcmp(key, "staff.error.kind") == 0 || strcmp(key, "staff.error.doctype") == 0);
}

static void test_staff_keys(void **state)
{
	const struct locales *loc = *state;

	for (size_t s = 0; s < CB_ARRAY_SIZE(staff_keys); s++) {
		const struct staff_key *sk = &staff_keys[s];
		int i = keys_find(sk->key);
		const struct keys_entry *k;
		struct locale_param params[KEYS_MAX_PARAMS];
		char values[KEYS_MAX_PARAMS][64];
		size_t n = 0;

		if (i < 0)
			fail_msg("%s is not registered", sk->key);
		k = keys_at((size_t)i);
		assert_int_equal(k->kind, KEYS_TEXT);
		assert_int_equal(!!(k->flags & KEYS_OPENS), sk->opens);
		for (; n < KEYS_MAX_PARAMS && sk->params[n] != NULL; n++) {
			assert_non_null(k->params[n]);
			assert_string_equal(k->params[n], sk->params[n]);
			snprintf(values[n], sizeof(values[n]), "<%s>", sk->params[n]);
			params[n].name = sk->params[n];
			params[n].value = values[n];
		}
		assert_true(n == KEYS_MAX_PARAMS || k->params[n] == NULL);
		if (strncmp(sk->key, "button.", 7) == 0)
			assert_int_equal(k->maxlen, 20);
		for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
			enum lang l = all_langs[li];
			char out[OUTCAP];
			size_t first;

			assert_int_equal(locale_render(loc, l, sk->key, params, n, out, sizeof(out)), 0);
			assert_true(out[0] != '\0');
			assert_null(strchr(out, '{'));
			first = strcspn(out, "\n");
			for (size_t j = 0; j < n; j++) {
				const char *at = strstr(out, values[j]);

				if (at == NULL)
					fail_msg("%s (%s) lacks %s: %s", sk->key, lang_code(l), values[j], out);
				if (sk->opens && staff_value_hidden(sk->key, sk->params[j]) &&
				    (size_t)(at - out) < first)
					fail_msg("%s (%s): %s on the first line: %s", sk->key,
						 lang_code(l), values[j], out);
			}
			/* Plain punctuation, as in the family texts: no curly quotes,
			 * guillemets, dashes or middle dots. */
			for (const char *const *bad = (const char *const[]){"\u2018", "\u2019", "\u201c",
									    "\u201d", "\u00ab", "\u00bb",
									    "\u2013", "\u2014", "\u00b7",
									    "\u2026", NULL};
			     *bad != NULL; bad++)
				assert_null(strstr(out, *bad));
		}
	}
}

static void render_staff(const struct locales *loc, enum lang l, const char *key,
			 const struct locale_param *p, size_t n, char *out, size_t cap)
{
	int rc = locale_render(loc, l, key, p, n, out, cap);

	if (rc != 0)
		fail_msg("%s (%s): render %d", key, lang_code(l), rc);
}

/* A forward header reads well with and without a household member, stays
 * one line, and only the urgent one is marked. */
static void test_staff_forward_header(void **state)
{
	const struct locales *loc = *state;
	static const char *const keys[] = {"staff.forward.header", "staff.forward.urgent_header"};

	for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
		enum lang l = all_langs[li];
		char with[OUTCAP], without[OUTCAP], *folded_hdr;

		for (size_t i = 0; i < CB_ARRAY_SIZE(keys); i++) {
			const struct locale_param p[] = {
				{"ref", "F-001"}, {"member", "Amina"}, {"language", lang_code(l)}};
			const struct locale_param q[] = {
				{"ref", "F-001"}, {"member", ""}, {"language", lang_code(l)}};
			size_t len;

			render_staff(loc, l, keys[i], p, 3, with, sizeof(with));
			render_staff(loc, l, keys[i], q, 3, without, sizeof(without));
			assert_null(strchr(with, '\n'));
			assert_non_null(strstr(with, "F-001"));
			assert_non_null(strstr(with, "Amina"));
			/* No gap, empty brackets or dangling separator where the
			 * member would be; a trailing space is all that is left. */
			len = strlen(without);
			while (len > 0 && without[len - 1] == ' ')
				without[--len] = '\0';
			assert_null(strstr(without, "  "));
			assert_null(strstr(without, "()"));
			assert_null(strstr(without, "( "));
			assert_null(strstr(without, " )"));
			assert_null(strstr(without, "(,"));
			assert_null(strstr(without, " ,"));
			assert_null(strstr(without, ",)"));
			assert_true(len > 0 && strchr(",:;-", without[len - 1]) == NULL);
			folded_hdr = folded(with);
			if (i == 1)
				assert_true(strstr(folded_hdr, "urgent") != NULL ||
					    strstr(folded_hdr, "dringend") != NULL);
			else
				assert_true(strstr(folded_hdr, "urgent") == NULL &&
					    strstr(folded_hdr, "dringend") == NULL);
			free(folded_hdr);
		}
	}
}

/* Codes after a prefix in the registry: "appointment.kind." gives
 * home_visit, lawyer... */
static void expect_codes(const struct locales *loc, enum lang l, const char *key,
			 const char *prefix)
{
	const char *text = locale_text(loc, l, key);
	size_t plen = strlen(prefix), found = 0;

	assert_non_null(text);
	for (size_t i = 0; i < keys_count(); i++) {
		const char *code = keys_at(i)->key;
		const char *p;
		size_t clen;

		if (strncmp(code, prefix, plen) != 0)
			continue;
		code += plen;
		clen = strlen(code);
		/* As a whole word: "other" must not be found inside "mother". */
		for (p = strstr(text, code); p != NULL; p = strstr(p + 1, code)) {
			if ((p == text || strchr(" ,:\n", p[-1]) != NULL) &&
			    strchr(" ,.\n", p[clen]) != NULL)
				break;
		}
		if (p == NULL)
			fail_msg("%s (%s) does not list %s", key, lang_code(l), code);
		found++;
	}
	assert_true(found >= 8);
}

/* What staff type is English whatever their language: the help names every
 * command and every code the commands accept; the usage lines and errors
 * show the command they are about. */
static void test_staff_commands(void **state)
{
	const struct locales *loc = *state;
	static const char *const commands[] = {"/families", "/log REF", "/appointment REF",
					       "/request REF", "/checkin REF every 7d mon 10:00",
					       "/checkin REF off", "/away on", "/away off", "/alerts"};
	static const struct {
		const char *key, *command;
	} usage[] = {
		{"staff.usage.appointment", "/appointment F-001 2026-12-03 14:00 "},
		{"staff.usage.request", "/request F-001 "},
		{"staff.usage.checkin", "/checkin F-001 every 7d mon 10:00"},
		{"staff.usage.log", "/log F-001"},
		{"staff.usage.away", "/away on"},
	};

	for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
		enum lang l = all_langs[li];
		const char *help = locale_text(loc, l, "staff.help");

		for (size_t i = 0; i < CB_ARRAY_SIZE(commands); i++) {
			if (strstr(help, commands[i]) == NULL)
				fail_msg("staff.help (%s) lacks %s", lang_code(l), commands[i]);
		}
		/* The first line is a title, not a command with its codes. */
		assert_true(strcspn(help, "\n") < 20);
		expect_codes(loc, l, "staff.help", "appointment.kind.");
		expect_codes(loc, l, "staff.help", "document.type.");
		expect_codes(loc, l, "staff.error.kind", "appointment.kind.");
		expect_codes(loc, l, "staff.error.doctype", "document.type.");
		assert_non_null(strstr(locale_text(loc, l, "staff.welcome"), "/help"));
		assert_non_null(strstr(locale_text(loc, l, "staff.unknown_command"), "/help"));
		for (size_t i = 0; i < CB_ARRAY_SIZE(usage); i++) {
			const char *text = locale_text(loc, l, usage[i].key);

			assert_null(strchr(text, '\n'));
			if (strstr(text, usage[i].command) == NULL)
				fail_msg("%s (%s) lacks the example %s", usage[i].key, lang_code(l),
					 usage[i].command);
		}
	}
}

/* Subjects and one-line notices stay one line: an email subject cannot hold
 * a newline, and a list line must not break its list. */
static void test_staff_single_lines(void **state)
{
	const struct locales *loc = *state;
	static const char *const one_line[] = {
		"staff.forward.header", "staff.forward.urgent_header", "staff.forward.answering",
		"staff.families.line", "staff.families.never", "staff.log.line",
		"staff.alert", "staff.digest.subject", "staff.digest.messages", "staff.digest.alerts",
		"staff.digest.overdue", "staff.digest.unconfirmed", "staff.digest.family_line",
		"staff.email.forward_subject", "staff.email.alert_subject", "staff.reply_delivered",
		"staff.refused", "staff.alert.acked", "staff.handled",
	};

	for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
		enum lang l = all_langs[li];

		for (size_t i = 0; i < CB_ARRAY_SIZE(one_line); i++)
			assert_null(strchr(locale_text(loc, l, one_line[i]), '\n'));
		for (size_t i = 0; i < keys_count(); i++) {
			const char *key = keys_at(i)->key;

			if (strncmp(key, "staff.alert_kind.", 17) == 0 ||
			    strncmp(key, "staff.reason.", 13) == 0)
				assert_null(strchr(locale_text(loc, l, key), '\n'));
		}
	}
}

/* What a whole alert looks like, as the staff code puts it together. */
static void test_staff_alert_render(void **state)
{
	const struct locales *loc = *state;
	static const char *const want[] = {
		[LANG_NL] = "Melding voor F-001: afspraak niet bevestigd",
		[LANG_FR] = "Alerte pour F-001 : rendez-vous non confirmé",
		[LANG_DE] = "Meldung zu F-001: Termin nicht bestätigt",
		[LANG_EN] = "Alert for F-001: appointment not confirmed",
	};

	for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
		enum lang l = all_langs[li];
		const struct locale_param p[] = {
			{"ref", "F-001"},
			{"kind", locale_text(loc, l, "staff.alert_kind.unconfirmed")},
			{"who", "Anna"},
		};
		const struct locale_param r[] = {
			{"ref", "F-001"}, {"reason", locale_text(loc, l, "staff.reason.blocked")}};
		char out[OUTCAP];

		render_staff(loc, l, "staff.alert", p, 2, out, sizeof(out));
		assert_string_equal(out, want[l]);
		render_staff(loc, l, "staff.alert.escalated", p, 3, out, sizeof(out));
		assert_true(strncmp(out, want[l], strlen(want[l])) == 0);
		assert_non_null(strstr(strchr(out, '\n'), "Anna"));
		render_staff(loc, l, "staff.reply_failed", r, 2, out, sizeof(out));
		assert_non_null(strstr(strchr(out, '\n'), locale_text(loc, l, "staff.reason.blocked")));
	}
}

/* Plurals: one and other forms, chosen by the count in each language's
 * way (French counts 0 as singular). */
static void test_plural_forms(void **state)
{
	const struct locales *loc = *state;
	static const struct {
		enum lang l;
		long long n;
		const char *want;
	} cases[] = {
		{LANG_EN, 1, "Check-ins for F-1 every day. Next: soon."},
		{LANG_EN, 2, "Check-ins for F-1 every 2 days. Next: soon."},
		{LANG_NL, 1, "Check-ins voor F-1 elke dag. Volgende: soon."},
		{LANG_NL, 14, "Check-ins voor F-1 om de 14 dagen. Volgende: soon."},
		{LANG_FR, 1, "Prises de nouvelles pour F-1 tous les jours. Prochaine : soon."},
		{LANG_FR, 7, "Prises de nouvelles pour F-1 tous les 7 jours. Prochaine : soon."},
		{LANG_DE, 1, "Check-ins für F-1 jeden Tag. Nächster: soon."},
		{LANG_DE, 3, "Check-ins für F-1 alle 3 Tage. Nächster: soon."},
	};
	char out[OUTCAP], n[16];

	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		const struct locale_param p[] = {{"ref", "F-1"}, {"days", n}, {"next", "soon"}};

		snprintf(n, sizeof(n), "%lld", cases[i].n);
		assert_int_equal(locale_render_count(loc, cases[i].l, "staff.checkin.set", cases[i].n, p, 3, out,
						     sizeof(out)), 0);
		assert_string_equal(out, cases[i].want);
	}
	assert_true(locale_plural_one(LANG_FR, 0));
	assert_false(locale_plural_one(LANG_EN, 0));
	assert_false(locale_plural_one(LANG_NL, 0));
	assert_false(locale_plural_one(LANG_DE, 2));
	/* A byte count through the contact log's renderer. */
	assert_int_equal(note_render(loc, LANG_EN, "text", "{\"bytes\":\"1\"}", out, sizeof(out)), 0);
	assert_string_equal(out, "Text message (1 byte)");
	assert_int_equal(note_render(loc, LANG_EN, "urgent", "{\"bytes\":\"27\"}", out, sizeof(out)), 0);
	assert_string_equal(out, "URGENT message (27 bytes)");
	assert_int_equal(note_render(loc, LANG_FR, "text", "{\"bytes\":\"0\"}", out, sizeof(out)), 0);
	assert_string_equal(out, "Message texte (0 octet)");
	assert_int_equal(note_render(loc, LANG_DE, "document_received",
				     "{\"what\":\"photo\",\"mime\":\"image/jpeg\",\"bytes\":\"1\"}", out, sizeof(out)), 0);
	assert_string_equal(out, "Empfangen: Foto (image/jpeg, 1 Byte)");
}

/* Every plural key has both forms in every catalog, and each form fills. */
static void test_plural_keys_complete(void **state)
{
	const struct locales *loc = *state;
	int plurals = 0;

	for (size_t i = 0; i < keys_count(); i++) {
		const struct keys_entry *k = keys_at(i);
		struct locale_param params[KEYS_MAX_PARAMS];
		char values[KEYS_MAX_PARAMS][64];
		size_t n = 0;

		if (!(k->flags & KEYS_PLURAL))
			continue;
		plurals++;
		for (; n < KEYS_MAX_PARAMS && k->params[n] != NULL; n++) {
			snprintf(values[n], sizeof(values[n]), "<%s>", k->params[n]);
			params[n].name = k->params[n];
			params[n].value = values[n];
		}
		for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
			char one[OUTCAP], other[OUTCAP];

			assert_int_equal(locale_render_count(loc, all_langs[li], k->key, 1, params, n, one, sizeof(one)), 0);
			assert_int_equal(locale_render_count(loc, all_langs[li], k->key, 5, params, n, other, sizeof(other)),
					 0);
			if (strcmp(one, other) == 0)
				fail_msg("%s.json: %s: the one and other forms are the same", lang_code(all_langs[li]), k->key);
		}
	}
	assert_true(plurals >= 4);
}

/* Each code the contact log and alerts store, with values as the code
 * writes them. */
static const struct {
	const char *code;
	const char *params;
} note_samples[] = {
	{"text", "{\"bytes\":\"27\"}"},
	{"media", "{\"what\":\"voice\"}"},
	{"edited_text", "{\"bytes\":\"12\"}"},
	{"edited_media", "{\"what\":\"photo\"}"},
	{"urgent", "{\"bytes\":\"1\"}"},
	{"button_stale", "{}"},
	{"details", "{}"},
	{"help", "{}"},
	{"language_asked", "{}"},
	{"language_changed", "{\"language\":\"de\"}"},
	{"stop", "{}"},
	{"stop_again", "{}"},
	{"start", "{}"},
	{"start_unstopped", "{}"},
	{"onboarding", "{}"},
	{"appointment_answer", "{\"answer\":\"cannot_come\",\"appointment\":\"3\"}"},
	{"checkin_answer", "{\"answer\":\"checkin_hard\"}"},
	{"document_received", "{\"what\":\"document\",\"mime\":\"application/pdf\",\"bytes\":\"2048\"}"},
	{"document_refused", "{\"what\":\"photo\",\"mime\":\"text/plain\"}"},
	{"document_attached", "{\"document\":\"4\",\"request\":\"2\"}"},
	{"document_too_big", "{\"what\":\"document\",\"limit\":\"20\",\"size\":\"0\"}"},
	{"document_too_big_size", "{\"what\":\"video\",\"limit\":\"20\",\"size\":\"31\"}"},
	{"failed_text", "{\"bytes\":\"1\",\"answer\":\"ack\"}"},
	{"failed_media", "{\"what\":\"voice\",\"answer\":\"emergency\"}"},
	{"failed_unread", "{\"answer\":\"ack\"}"},
	{"download_failed", "{\"what\":\"document\",\"reason\":\"too_big\"}"},
	{"blocked", "{\"reach\":\"none\"}"},
	{"blocked_member", "{\"member\":\"Amina\",\"reach\":\"others\"}"},
	{"unblocked", "{}"},
	{"reply", "{}"},
	{"forwarded", "{}"},
	{"undelivered", "{\"what\":\"checkin.question\",\"reason\":\"blocked\"}"},
	{"fallback", "{\"what\":\"reminder.appointment\",\"from\":\"telegram\",\"to\":\"sms\",\"why\":\"blocked\"}"},
	{"unconfirmed", "{\"when\":\"1796310000\",\"what\":\"immigration_office\"}"},
	{"document_overdue", "{\"document\":\"birth_certificate\"}"},
	{"checkin_unanswered", "{}"},
};

static void expect_readable(enum lang l, const char *what, const char *text)
{
	char key[64];
	const char *english;

	if (text[0] == '\0' || strchr(text, '{') != NULL)
		fail_msg("%s: %s: \"%s\"", lang_code(l), what, text);
	if (l == LANG_EN)
		return;
	if ((english = testenv_english_word(text)) != NULL)
		fail_msg("%s: %s: English word \"%s\" in \"%s\"", lang_code(l), what, english, text);
	if (testenv_catalog_key(text, key, sizeof(key)) != NULL)
		fail_msg("%s: %s: \"%s\" in \"%s\"", lang_code(l), what, key, text);
}

/* Every contact and alert code reads as a sentence of the reader's
 * language: no English, no catalog key, no code. */
static void test_every_note_code_renders(void **state)
{
	const struct locales *loc = *state;

	for (size_t c = 0; note_code_at(c) != NULL; c++) {
		size_t s = 0;

		while (s < CB_ARRAY_SIZE(note_samples) && strcmp(note_samples[s].code, note_code_at(c)) != 0)
			s++;
		if (s == CB_ARRAY_SIZE(note_samples))
			fail_msg("code %s has no sample here", note_code_at(c));
		for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
			char out[OUTCAP];

			assert_int_equal(note_render(loc, all_langs[li], note_samples[s].code, note_samples[s].params, out,
						     sizeof(out)), 0);
			expect_readable(all_langs[li], note_samples[s].code, out);
		}
	}
	{
		char out[OUTCAP];

		assert_int_equal(note_render(loc, LANG_NL, "no_such_code", "{}", out, sizeof(out)), -CB_ENOENT);
		/* A value missing: not rendered half. */
		assert_int_equal(note_render(loc, LANG_NL, "text", "{}", out, sizeof(out)), -CB_EINVAL);
	}
}

/* Rows sent to the family, by each message that can start one, in each
 * status; and rows written before codes existed. */
static void test_every_contact_row_renders(void **state)
{
	const struct locales *loc = *state;
	static const char *const statuses[] = {"sent", "delivered", "read", "failed", "expired", "odd"};
	struct contact c;

	for (size_t i = 0; i < keys_count(); i++) {
		const struct keys_entry *k = keys_at(i);

		if (!(k->flags & KEYS_OPENS) || strncmp(k->key, "staff.", 6) == 0)
			continue;
		for (size_t s = 0; s < CB_ARRAY_SIZE(statuses); s++) {
			memset(&c, 0, sizeof(c));
			cb_strlcpy(c.direction, "out", sizeof(c.direction));
			cb_strlcpy(c.code, k->key, sizeof(c.code));
			cb_strlcpy(c.status, statuses[s], sizeof(c.status));
			for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
				char out[OUTCAP];

				assert_int_equal(note_contact(loc, all_langs[li], &c, out, sizeof(out)), 0);
				expect_readable(all_langs[li], k->key, out);
			}
		}
	}
	/* What the old code wrote: English text, no values. */
	{
		static const char *const old[][2] = {
			{"in", "sent STOP: check-ins and document reminders paused"},
			{"internal", "the family blocked the bot"},
			{"in", "check-in answer: okay"},
		};

		for (size_t i = 0; i < CB_ARRAY_SIZE(old); i++) {
			memset(&c, 0, sizeof(c));
			cb_strlcpy(c.direction, old[i][0], sizeof(c.direction));
			cb_strlcpy(c.code, old[i][1], sizeof(c.code));
			for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
				char out[OUTCAP];

				assert_int_equal(note_contact(loc, all_langs[li], &c, out, sizeof(out)), 0);
				expect_readable(all_langs[li], old[i][1], out);
				assert_null(strstr(out, old[i][1]));
			}
		}
	}
}

/* Broken catalogs: a temporary directory gets the three good files and one
 * changed copy; the load must fail and name the file, the key and the fault. */
enum change { SET, ADD, DELETE, WRITE_FILE, NO_FILE };

struct broken {
	enum lang lang;
	enum change how;
	const char *key;
	const char *json;  /* SET, ADD: the value as JSON; WRITE_FILE: the file */
	const char *want;  /* err after "<dir>/<lang>.json: " */
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static void spill(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

static char *changed_copy(const char *orig, const struct broken *b)
{
	cJSON *root = cJSON_Parse(orig), *value;
	char *text;

	assert_non_null(root);
	if (b->how == DELETE) {
		assert_non_null(cJSON_GetObjectItemCaseSensitive(root, b->key));
		cJSON_DeleteItemFromObjectCaseSensitive(root, b->key);
	} else {
		value = cJSON_Parse(b->json);
		assert_non_null(value);
		if (b->how == SET && cJSON_GetObjectItemCaseSensitive(root, b->key) != NULL)
			assert_true(cJSON_ReplaceItemInObjectCaseSensitive(root, b->key, value));
		else
			assert_true(cJSON_AddItemToObject(root, b->key, value));
	}
	text = cJSON_Print(root);
	assert_non_null(text);
	cJSON_Delete(root);
	return text;
}

/* Loads a copy of the catalogs with one change (b), in a directory that is
 * gone when this returns; tmpl receives its name. */
static int load_changed(const struct broken *b, char *tmpl, struct locales **out, char *err, size_t errlen)
{
	char path[LANG_COUNT][256];
	int rc;

	assert_non_null(mkdtemp(tmpl));
	for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++) {
		enum lang l = all_langs[li];
		char src[1024], *orig, *text;

		snprintf(src, sizeof(src), "%s/%s.json", CASEBOT_LOCALES_DIR, lang_code(l));
		snprintf(path[l], sizeof(path[l]), "%s/%s.json", tmpl, lang_code(l));
		if (l != b->lang) {
			orig = slurp(src);
			spill(path[l], orig);
			free(orig);
			continue;
		}
		if (b->how == NO_FILE)
			continue;
		if (b->how == WRITE_FILE) {
			spill(path[l], b->json);
			continue;
		}
		orig = slurp(src);
		text = changed_copy(orig, b);
		spill(path[l], text);
		free(text);
		free(orig);
	}
	rc = locale_load(tmpl, out, err, errlen);
	for (size_t li = 0; li < CB_ARRAY_SIZE(all_langs); li++)
		unlink(path[all_langs[li]]);
	rmdir(tmpl);
	return rc;
}

static void expect_load_fails(const struct broken *b)
{
	char tmpl[] = "/tmp/casebot-locale-XXXXXX";
	char want[1024], err[ERRCAP];
	struct locales *loc = (struct locales *)&loc;
	int rc = load_changed(b, tmpl, &loc, err, sizeof(err));

	snprintf(want, sizeof(want), "%s/%s.json: %s", tmpl, lang_code(b->lang), b->want);
	if (strstr(err, want) == NULL)
		fail_msg("err \"%s\" lacks \"%s\"", err, want);
	assert_true(rc < 0);
	assert_null(loc);
	assert_null(strchr(err, '\n'));
}

#define BROKEN(fn, ...)                                   \
	static void fn(void **state)                      \
	{                                                 \
		static const struct broken b = __VA_ARGS__; \
		(void)state;                              \
		expect_load_fails(&b);                    \
	}

BROKEN(test_broken_missing_key,
       {LANG_DE, DELETE, "document.thanks", NULL, "key document.thanks: missing"})
BROKEN(test_broken_unknown_placeholder,
       {LANG_FR, SET, "reminder.appointment",
	"\"Rappel : rendez-vous le {dat}.\\nObjet : {what}\"",
	"key reminder.appointment: unknown placeholder {dat}"})
BROKEN(test_broken_placeholder_missing_in_one,
       {LANG_DE, SET, "reminder.what", "\"Was:\"",
	"key reminder.what: placeholder {what} is missing (nl.json has it)"})
/* The odd one out is named even when it is the first language. */
BROKEN(test_broken_placeholder_missing_in_first,
       {LANG_NL, SET, "appointment.moved", "\"Je afspraak is verplaatst.\"",
	"key appointment.moved: placeholder {when} is missing (fr.json has it)"})
BROKEN(test_broken_bad_json,
       {LANG_NL, WRITE_FILE, NULL,
	"{\n  \"meta.language_name\": \"Nederlands\",\n  \"weekdays\": [\"maandag\"\n}\n",
	"bad JSON at line 4"})
BROKEN(test_broken_not_object, {LANG_EN, WRITE_FILE, NULL, "[\"hello\"]", "not a JSON object"})
BROKEN(test_broken_extra_key,
       {LANG_EN, ADD, "reminder.appointmnet", "\"Reminder\"",
	"key reminder.appointmnet: unknown key"})
BROKEN(test_broken_duplicate_key,
       {LANG_DE, ADD, "welcome", "\"Willkommen, {counsellor}!\"", "key welcome: appears twice"})
BROKEN(test_broken_weekday_count,
       {LANG_FR, SET, "weekdays", "[\"lundi\",\"mardi\",\"mercredi\",\"jeudi\",\"vendredi\",\"samedi\"]",
	"key weekdays: 6 items, must be 7"})
BROKEN(test_broken_wrong_kind,
       {LANG_DE, SET, "months", "\"Januar\"", "key months: must be a list of strings"})
BROKEN(test_broken_text_as_list,
       {LANG_EN, SET, "welcome", "[\"Welcome {counsellor}\"]", "key welcome: must be a string"})
BROKEN(test_broken_unfolded_word,
       {LANG_FR, SET, "words.yes", "[\"Oui\",\"ok\"]",
	"key words.yes: \"Oui\" must be written folded: \"oui\""})
BROKEN(test_broken_accented_word,
       {LANG_FR, SET, "words.urgent", "[\"arrêté\"]",
	"key words.urgent: \"arrêté\" must be written folded: \"arrete\""})
BROKEN(test_broken_revealing_first_line,
       {LANG_EN, SET, "staff.request.added", "\"{ref} was asked for the {document}.\"",
	"key staff.request.added: placeholder {document} on the first line would show on a locked screen"})
BROKEN(test_broken_urgent_first_line,
       {LANG_NL, SET, "document.thanks", "\"Bedankt. De DVZ heeft je document.\"",
	"key document.thanks: first line says \"dvz\" (an urgent word in nl.json)"})
/* Another language's urgent word counts too. */
BROKEN(test_broken_foreign_urgent_first_line,
       {LANG_EN, SET, "forward.ack", "\"Thank you. Your OQT copy arrived.\\nMore.\"",
	"key forward.ack: first line says \"oqt\" (an urgent word in fr.json)"})
/* Urgent words are matched as stems and inside compounds on first lines
 * too, the way a family's text is. */
BROKEN(test_broken_urgent_stem_first_line,
       {LANG_FR, SET, "document.thanks", "\"Merci. Expulsion reçue.\"",
	"key document.thanks: first line says \"expulsion\" (an urgent word in fr.json)"})
BROKEN(test_broken_urgent_compound_first_line,
       {LANG_DE, SET, "checkin.thanks", "\"Danke. Die Bundespolizei ist informiert.\"",
	"key checkin.thanks: first line says \"bundespolizei\" (an urgent word in de.json)"})
/* A stem too short to mean one thing, and a malformed phrase, are refused
 * with the item and the reason. */
BROKEN(test_broken_urgent_short_stem,
       {LANG_DE, SET, "words.urgent", "[\"pol*\"]",
	"key words.urgent: \"pol*\": \"pol\" is too short to stand for more than itself"})
BROKEN(test_broken_urgent_bad_phrase,
       {LANG_NL, SET, "words.urgent_not", "[\"land ... verlaten\"]",
	"key words.urgent_not: \"land ... verlaten\": \"...\" stands only between two words of an urgent item"})
BROKEN(test_broken_urgent_apostrophe,
       {LANG_FR, SET, "words.urgent", "[\"l'avion\"]",
	"key words.urgent: \"l'avion\": \"l'avion\" holds \"'\", which is not a letter or digit of a folded word"})
BROKEN(test_broken_button_too_long,
       {LANG_EN, SET, "button.confirm", "\"Yes, I will be there on time\"",
	"key button.confirm: 28 characters, at most 20"})
BROKEN(test_broken_stray_brace,
       {LANG_DE, SET, "welcome", "\"Willkommen {Counsellor}\"", "key welcome: stray '{'"})
BROKEN(test_broken_empty_text, {LANG_FR, SET, "document.thanks", "\"\"", "key document.thanks: empty text"})
BROKEN(test_broken_missing_file, {LANG_DE, NO_FILE, NULL, NULL, "cannot open"})
/* Bytes that are not UTF-8 are refused wherever they stand, with a line
 * that does not repeat them. */
BROKEN(test_broken_utf8_text, {LANG_NL, SET, "document.thanks", "\"Bedankt \xC3(\"", "key document.thanks: invalid UTF-8"})
BROKEN(test_broken_utf8_item, {LANG_FR, SET, "words.yes", "[\"oui\",\"o\xFFk\"]",
			       "key words.yes: invalid UTF-8 in an item"})
BROKEN(test_broken_utf8_key, {LANG_DE, ADD, "welcome\xE2\x82", "\"Willkommen\"", "a key is not valid UTF-8"})
/* Staff texts follow the same rules as the family ones. */
BROKEN(test_broken_staff_reason_first_line,
       {LANG_DE, SET, "staff.reply_failed", "\"Nicht zugestellt an {ref}: {reason}\"",
	"key staff.reply_failed: placeholder {reason} on the first line would show on a locked screen"})
BROKEN(test_broken_staff_urgent_first_line,
       {LANG_EN, SET, "staff.alert.acked", "\"Acknowledged: police\"",
	"key staff.alert.acked: first line says \"police\""})
BROKEN(test_broken_staff_button_too_long,
       {LANG_FR, SET, "button.staff_log", "\"Afficher le journal des contacts\"",
	"key button.staff_log: 32 characters, at most 20"})
BROKEN(test_broken_staff_placeholder_missing,
       {LANG_NL, SET, "staff.forward.header", "\"Bericht van {ref} ({language})\"",
	"key staff.forward.header: placeholder {member} is missing (fr.json has it)"})
BROKEN(test_broken_plural_as_string,
       {LANG_NL, SET, "staff.checkin.set", "\"Check-ins voor {ref} om de {days} dagen. Volgende: {next}.\"",
	"key staff.checkin.set: must be an object with the plural forms \"one\" and \"other\""})
BROKEN(test_broken_plural_missing_form,
       {LANG_DE, SET, "log.text", "{\"other\": \"Textnachricht ({bytes} Bytes)\"}",
	"key log.text: must be an object with the plural forms \"one\" and \"other\""})
BROKEN(test_broken_plural_unknown_placeholder,
       {LANG_FR, SET, "log.text", "{\"one\": \"Message ({octets} octet)\", \"other\": \"Message ({bytes} octets)\"}",
	"key log.text: unknown placeholder {octets}"})
BROKEN(test_broken_staff_unknown_placeholder,
       {LANG_EN, SET, "staff.email.forward_subject", "\"New message from {ref}: {text}\"",
	"key staff.email.forward_subject: unknown placeholder {text}"})

static void test_load_bad_args(void **state)
{
	struct locales *loc = (struct locales *)&loc;
	char err[ERRCAP];

	(void)state;
	assert_int_equal(locale_load(NULL, &loc, err, sizeof(err)), -CB_EINVAL);
	assert_int_equal(locale_load(CASEBOT_LOCALES_DIR, NULL, err, sizeof(err)), -CB_EINVAL);
	assert_true(locale_load("/nonexistent/casebot", &loc, err, sizeof(err)) < 0);
	assert_null(loc);
	assert_string_equal(err, "/nonexistent/casebot/nl.json: cannot open: No such file or directory");
	/* A tiny err buffer is still terminated. */
	assert_true(locale_load("/nonexistent/casebot", &loc, err, 8) < 0);
	assert_int_equal(strlen(err), 7);
	assert_true(locale_load("/nonexistent/casebot", &loc, NULL, 0) < 0);
	locale_free(NULL);
}

/* A catalog that loads, but whose rendered family messages would show a
 * banned word on a locked screen: the preview check refuses it with one
 * line naming the language, the key and the word. */
static void expect_preview_refused(const struct broken *b)
{
	char tmpl[] = "/tmp/casebot-locale-XXXXXX";
	char want[1024], err[ERRCAP];
	struct locales *loc = NULL;

	if (load_changed(b, tmpl, &loc, err, sizeof(err)) != 0)
		fail_msg("the doctored catalog does not load: %s", err);
	assert_int_equal(compose_check_previews(loc, err, sizeof(err)), -CB_ECONFIG);
	locale_free(loc);
	snprintf(want, sizeof(want), "%s.json: %s", lang_code(b->lang), b->want);
	if (strstr(err, want) == NULL)
		fail_msg("err \"%s\" lacks \"%s\"", err, want);
	assert_null(strchr(err, '\n'));
}

#define PREVIEW_REFUSED(fn, ...)                            \
	static void fn(void **state)                        \
	{                                                   \
		static const struct broken b = __VA_ARGS__; \
		(void)state;                                \
		expect_preview_refused(&b);                 \
	}

/* The institution on the second line, as reminders were written. */
PREVIEW_REFUSED(test_preview_refuses_institution_second_line,
		{LANG_NL, SET, "reminder.appointment",
		 "\"Herinnering: je hebt een afspraak op {when}.\\nWat: Dienst Vreemdelingenzaken (DVZ)\"",
		 "key reminder.appointment: a locked screen would show \"dienst vreemdelingenzaken\""})
/* A document name put back into the third line of a request. */
PREVIEW_REFUSED(test_preview_refuses_document_third_line,
		{LANG_FR, SET, "document.request",
		 "\"La personne qui vous accompagne\\nvous demande un document :\\nordre de quitter le territoire (OQT).\"",
		 "key document.request: a locked screen would show \"ordre de quitter\""})
/* Past the third line but within 120 characters still shows. */
PREVIEW_REFUSED(test_preview_refuses_within_120_characters,
		{LANG_DE, SET, "checkin.question",
		 "\"Hallo!\\nWie geht es?\\nAntworten Sie.\\nAusländeramt\"",
		 "key checkin.question: a locked screen would show \"auslanderamt\""})
/* Every language's list is matched against every language's messages:
 * families mix languages. */
PREVIEW_REFUSED(test_preview_refuses_banned_word_of_other_language,
		{LANG_EN, SET, "document.thanks", "\"Thank you.\\nThe OE has your document.\"",
		 "key document.thanks: a locked screen would show \"oe\" (words.preview_banned of fr.json"})

/* The same institution as above on the second line, but on the first:
 * a long first line still leaves the next two in the zone. */
PREVIEW_REFUSED(test_preview_refuses_second_line_after_120_characters,
		{LANG_NL, SET, "reminder.appointment",
		 "\"Herinnering: je hebt een afspraak op {when}. Kom op tijd, neem je papieren mee, en bel als je niet"
		 " kan komen.\\nWat: Dienst Vreemdelingenzaken (DVZ)\"",
		 "key reminder.appointment: a locked screen would show \"dienst vreemdelingenzaken\""})

/* A catalog whose banned words all stand past the zone loads and passes. */
static void expect_preview_accepted(const struct broken *b)
{
	char tmpl[] = "/tmp/casebot-locale-XXXXXX";
	char err[ERRCAP];
	struct locales *loc = NULL;

	if (load_changed(b, tmpl, &loc, err, sizeof(err)) != 0)
		fail_msg("the changed catalog does not load: %s", err);
	if (compose_check_previews(loc, err, sizeof(err)) != 0)
		fail_msg("refused: %s", err);
	locale_free(loc);
}

#define PREVIEW_ACCEPTED(fn, ...)                           \
	static void fn(void **state)                        \
	{                                                   \
		static const struct broken b = __VA_ARGS__; \
		(void)state;                                \
		expect_preview_accepted(&b);                \
	}

/* The institution refused on the second line is fine on the fifth, once
 * the four lines before it hold more than 120 characters. */
PREVIEW_ACCEPTED(test_preview_accepts_fifth_line,
		 {LANG_NL, SET, "reminder.appointment",
		  "\"Herinnering: je hebt een afspraak op {when}.\\nKom op tijd, en neem je papieren mee als je ze"
		  " hebt.\\nBel je begeleider als je niet kan komen.\\nJe kan ook hier een bericht sturen.\\n"
		  "Wat: Dienst Vreemdelingenzaken (DVZ)\"", NULL})
/* Past three lines and past 120 characters: out of the zone. */
PREVIEW_ACCEPTED(test_preview_accepts_after_three_lines_and_120_characters,
		 {LANG_DE, SET, "checkin.question",
		  "\"Hallo! Wie geht es Ihnen und Ihrer Familie in dieser Woche? Wir möchten gern wissen, ob alles in"
		  " Ordnung ist.\\nAntworten Sie.\\nDanke.\\nAusländeramt\"", NULL})

/* The shipped catalogs: every family message, with every appointment kind,
 * document type and reason, in the four languages, previews clean. */
static void test_previews_clean(void **state)
{
	const struct locales *loc = *state;
	char err[ERRCAP];

	if (compose_check_previews(loc, err, sizeof(err)) != 0)
		fail_msg("%s", err);
}

/* The zone is the first three lines, or the first 120 characters when
 * they reach further; characters, not bytes. */
static void test_preview_zone(void **state)
{
	char text[512];
	const struct locales *loc = *state;

	(void)loc;
	/* Short: all of it. */
	assert_int_equal(locale_preview_len("a\nb\nc\nd"), 7);
	assert_int_equal(locale_preview_len("one\ntwo"), 7);
	/* One long line is all within the first three lines. */
	memset(text, 'x', 200);
	text[200] = '\0';
	assert_int_equal(locale_preview_len(text), 200);
	/* Short lines, then a long fourth: 120 characters (6 + 114 two-byte
	 * ones, 234 bytes). */
	snprintf(text, sizeof(text), "a\nb\nc\n");
	for (int i = 0; i < 130; i++)
		strcat(text, "\xc3\xa9");
	assert_int_equal(locale_preview_len(text), 234);
	/* Three long lines: the zone ends with the third. */
	snprintf(text, sizeof(text), "%0150d\n%010d\n%010d\nDVZ", 0, 0, 0);
	assert_int_equal(locale_preview_len(text), 172);
	assert_int_equal(locale_preview_banned(*state, "Hello\nWat: DVZ", NULL), 1);
	assert_int_equal(locale_preview_banned(*state, text, NULL), 0);
	assert_int_equal(locale_preview_banned(*state, "Bonjour.\nObjet : Office des Étrangers (OE)", NULL), 1);
	assert_int_equal(locale_preview_banned(*state, "Reminder: you have an appointment on Tuesday.", NULL), 0);
}

static void test_registry(void **state)
{
	const struct keys_entry *k;

	(void)state;
	assert_true(keys_count() > 70);
	assert_null(keys_at(keys_count()));
	assert_int_equal(keys_find("nope"), -CB_ENOENT);
	assert_int_equal(keys_find(NULL), -CB_ENOENT);
	k = keys_at((size_t)keys_find("reminder.what"));
	assert_non_null(k);
	assert_int_equal(keys_param(k, "what", 4), 0);
	assert_int_equal(keys_param(k, "whatever", 4), 0);
	assert_int_equal(keys_param(k, "wha", 3), -CB_ENOENT);
	assert_int_equal(keys_param(k, "place", 5), -CB_ENOENT);
	assert_int_equal(keys_param_reveals("document", 8), 1);
	assert_int_equal(keys_param_reveals("when", 4), 0);
	/* A family's words, an alert's details, a log summary and the last
	 * message a family got stay off staff first lines too. */
	assert_int_equal(keys_param_reveals("text", 4), 1);
	assert_int_equal(keys_param_reveals("detail", 6), 1);
	assert_int_equal(keys_param_reveals("summary", 7), 1);
	assert_int_equal(keys_param_reveals("last", 4), 1);
	assert_int_equal(keys_param_reveals("ref", 3), 0);
	assert_int_equal(keys_param_reveals("kind", 4), 0);
	assert_int_equal(keys_param_reveals("member", 6), 0);
	/* Every key appears once. */
	for (size_t i = 0; i < keys_count(); i++)
		assert_int_equal(keys_find(keys_at(i)->key), (int)i);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_load_shipped),
		T(test_files_match_registry),
		T(test_every_key_renders),
		T(test_render_reminder),
		T(test_previews_clean),
		T(test_preview_zone),
		T(test_render_errors),
		T(test_render_too_small),
		T(test_dates),
		T(test_dst_2026),
		T(test_dst_2027),
		T(test_wording_rules),
		T(test_reply_words), T(test_checkin_words),
		T(test_staff_keys),
		T(test_staff_forward_header),
		T(test_staff_commands),
		T(test_staff_single_lines),
		T(test_staff_alert_render),
		T(test_plural_forms),
		T(test_plural_keys_complete),
		T(test_every_note_code_renders),
		T(test_every_contact_row_renders),
		cmocka_unit_test(test_preview_refuses_institution_second_line),
		cmocka_unit_test(test_preview_refuses_document_third_line),
		cmocka_unit_test(test_preview_refuses_within_120_characters),
		cmocka_unit_test(test_preview_refuses_banned_word_of_other_language),
		cmocka_unit_test(test_preview_refuses_second_line_after_120_characters),
		cmocka_unit_test(test_preview_accepts_fifth_line),
		cmocka_unit_test(test_preview_accepts_after_three_lines_and_120_characters),
		cmocka_unit_test(test_broken_missing_key),
		cmocka_unit_test(test_broken_unknown_placeholder),
		cmocka_unit_test(test_broken_placeholder_missing_in_one),
		cmocka_unit_test(test_broken_placeholder_missing_in_first),
		cmocka_unit_test(test_broken_bad_json),
		cmocka_unit_test(test_broken_not_object),
		cmocka_unit_test(test_broken_extra_key),
		cmocka_unit_test(test_broken_duplicate_key),
		cmocka_unit_test(test_broken_weekday_count),
		cmocka_unit_test(test_broken_wrong_kind),
		cmocka_unit_test(test_broken_text_as_list),
		cmocka_unit_test(test_broken_unfolded_word),
		cmocka_unit_test(test_broken_accented_word),
		cmocka_unit_test(test_broken_revealing_first_line),
		cmocka_unit_test(test_broken_urgent_first_line),
		cmocka_unit_test(test_broken_foreign_urgent_first_line),
		cmocka_unit_test(test_broken_urgent_stem_first_line),
		cmocka_unit_test(test_broken_urgent_compound_first_line),
		cmocka_unit_test(test_broken_urgent_short_stem),
		cmocka_unit_test(test_broken_urgent_bad_phrase),
		cmocka_unit_test(test_broken_urgent_apostrophe),
		cmocka_unit_test(test_broken_button_too_long),
		cmocka_unit_test(test_broken_stray_brace),
		cmocka_unit_test(test_broken_utf8_text),
		cmocka_unit_test(test_broken_utf8_item),
		cmocka_unit_test(test_broken_utf8_key),
		cmocka_unit_test(test_broken_empty_text),
		cmocka_unit_test(test_broken_missing_file),
		cmocka_unit_test(test_broken_staff_reason_first_line),
		cmocka_unit_test(test_broken_staff_urgent_first_line),
		cmocka_unit_test(test_broken_staff_button_too_long),
		cmocka_unit_test(test_broken_staff_placeholder_missing),
		cmocka_unit_test(test_broken_staff_unknown_placeholder),
		cmocka_unit_test(test_broken_plural_as_string),
		cmocka_unit_test(test_broken_plural_missing_form),
		cmocka_unit_test(test_broken_plural_unknown_placeholder),
		cmocka_unit_test(test_load_bad_args),
		cmocka_unit_test(test_registry),
	};
#undef T

	return cmocka_run_group_tests_name("locale", tests, NULL, NULL);
}
