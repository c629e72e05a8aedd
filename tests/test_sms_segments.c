/* What every family message costs by SMS, in every language: each text
 * that opens a family message and each composed message (every appointment
 * kind, document type and reason) as compose renders it for a gateway
 * without buttons, counted in segments with and without the
 * transliteration [sms] applies by default (nl, fr, de). The catalogs are
 * written to fit: a reminder in at most two segments, the SMS welcome in
 * one; transliterated, nothing is UCS-2. The counts of the reminder, the
 * check-in and the document request are printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/compose.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/sms.h"
#include "bot/gateways/sms_api.h"
#include "locales/locale.h"

#define KEYS_SEEN 400

struct seen {
	char key[64];
	int max_plain[LANG_COUNT];       /* segments as written */
	int max_translit[LANG_COUNT];    /* after the default transliteration */
	int ucs2_translit[LANG_COUNT];   /* still UCS-2 after it */
	char worst[LANG_COUNT][160];     /* what the longest was rendered with */
	char text[LANG_COUNT][1024];     /* the longest, transliterated */
};

struct tally {
	struct seen s[KEYS_SEEN];
	int n;
	unsigned mask;
	int messages;
	int failed;
};

static struct seen *find(struct tally *t, const char *key)
{
	for (int i = 0; i < t->n; i++)
		if (strcmp(t->s[i].key, key) == 0)
			return &t->s[i];
	if (t->n == KEYS_SEEN)
		return NULL;
	memset(&t->s[t->n], 0, sizeof(t->s[0]));
	cb_strlcpy(t->s[t->n].key, key, sizeof(t->s[0].key));
	return &t->s[t->n++];
}

static void each(void *arg, enum lang l, const char *key, const char *with, const char *text)
{
	struct tally *t = arg;
	struct seen *s = find(t, key);
	size_t len = strlen(text), tlen;
	enum sms_encoding e = SMS_GSM7;
	char *tr = NULL;
	int plain = sms_api_segments(text, len, NULL, NULL), translit = plain;

	if (s == NULL) {
		t->failed = 1;
		return;
	}
	t->messages++;
	if ((t->mask >> l) & 1u) {
		if (sms_api_transliterate(text, len, &tr, &tlen) != 0) {
			t->failed = 1;
			return;
		}
		translit = sms_api_segments(tr, tlen, &e, NULL);
	} else {
		sms_api_segments(text, len, &e, NULL);
	}
	/* The longest, as the phone shows it. */
	if (translit > s->max_translit[l] || strlen(tr != NULL ? tr : text) > strlen(s->text[l]))
		cb_strlcpy(s->text[l], tr != NULL ? tr : text, sizeof(s->text[l]));
	free(tr);
	if (plain == 0 || translit == 0)
		t->failed = 1;
	if (plain > s->max_plain[l])
		s->max_plain[l] = plain;
	if (translit > s->max_translit[l]) {
		s->max_translit[l] = translit;
		cb_strlcpy(s->worst[l], with, sizeof(s->worst[l]));
	}
	if (e == SMS_UCS2 && ((t->mask >> l) & 1u))
		s->ucs2_translit[l]++;
}

static struct locales *loc;
static struct tally *tally;

static int setup(void **state)
{
	char err[256];
	const struct gateway_caps caps = {.buttons_max = 0, .text_max = 4 * SMS_TEXT_MAX};

	(void)state;
	if (locale_load(CASEBOT_LOCALES_DIR, &loc, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	if ((tally = calloc(1, sizeof(*tally))) == NULL ||
	    gateway_sms_transliterate_mask("nl,fr,de", &tally->mask) != 0)
		return -1;
	return compose_each_family_message(loc, &caps, each, tally) == 0 && !tally->failed ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	locale_free(loc);
	free(tally);
	return 0;
}

/* Every key was reached in every language, and each text counted. */
static void test_every_message_counted(void **state)
{
	(void)state;
	assert_true(tally->messages > 200);
	assert_non_null(find(tally, "reminder.appointment"));
	assert_non_null(find(tally, "checkin.question"));
	assert_non_null(find(tally, "document.request"));
	assert_non_null(find(tally, "welcome.sms"));
	for (int i = 0; i < tally->n; i++)
		for (int l = 0; l < LANG_COUNT; l++)
			if (tally->s[i].max_plain[l] == 0)
				fail_msg("%s in %s was not counted", tally->s[i].key, lang_code((enum lang)l));
}

/* A reminder fits two segments with every appointment kind, confirmed
 * or not, in every language; the SMS welcome one. */
static void test_reminder_two_segments(void **state)
{
	const struct seen *r = find(tally, "reminder.appointment"), *w = find(tally, "welcome.sms");

	(void)state;
	for (int l = 0; l < LANG_COUNT; l++) {
		if (r->max_translit[l] > 2)
			fail_msg("a reminder in %s takes %d segments (%s)", lang_code((enum lang)l), r->max_translit[l],
				 r->worst[l]);
		if (w->max_translit[l] > 1)
			fail_msg("the SMS welcome in %s takes %d segments", lang_code((enum lang)l), w->max_translit[l]);
	}
}

/* Transliterated, no family message of nl, fr or de is UCS-2: every
 * letter the catalogs use has its GSM-7 stand-in. */
static void test_transliterated_is_gsm7(void **state)
{
	(void)state;
	for (int i = 0; i < tally->n; i++)
		for (int l = 0; l < LANG_COUNT; l++)
			if (tally->s[i].ucs2_translit[l] > 0)
				fail_msg("%s in %s stays UCS-2 after transliteration", tally->s[i].key,
					 lang_code((enum lang)l));
}

/* The counts a note on costs gives, and every key's, on stderr. */
static void test_print_counts(void **state)
{
	static const char *const keys[] = {"reminder.appointment", "checkin.question", "document.request"};

	(void)state;
	fprintf(stderr, "# segments (largest over kinds, types and reasons): with / without transliteration\n");
	for (size_t k = 0; k < CB_ARRAY_SIZE(keys); k++) {
		const struct seen *s = find(tally, keys[k]);

		fprintf(stderr, "# %-22s", keys[k]);
		for (int l = 0; l < LANG_COUNT; l++)
			fprintf(stderr, " %s %d/%d", lang_code((enum lang)l), s->max_translit[l], s->max_plain[l]);
		fprintf(stderr, "\n");
		for (int l = 0; l < LANG_COUNT; l++)
			fprintf(stderr, "#   %s: %s\n", lang_code((enum lang)l), s->text[l]);
	}
	for (int i = 0; i < tally->n; i++) {
		const struct seen *s = &tally->s[i];

		fprintf(stderr, "#   %-36s", s->key);
		for (int l = 0; l < LANG_COUNT; l++)
			fprintf(stderr, " %s %d/%d", lang_code((enum lang)l), s->max_translit[l], s->max_plain[l]);
		fprintf(stderr, "\n");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_message_counted),
		cmocka_unit_test(test_reminder_two_segments),
		cmocka_unit_test(test_transliterated_is_gsm7),
		cmocka_unit_test(test_print_counts),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
