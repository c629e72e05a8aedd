/* libFuzzer target for what routing reads in a family's text: folding,
 * the answer words of every catalog (yes, no, stop, help, check-in
 * answers...), the urgent patterns, the pattern compiler itself (an input
 * line as an item), and an inbound row's stored event. Built by make
 * fuzz; make test replays tests/data/fuzz/router through the same entry. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/casebot.h"
#include "bot/event.h"
#include "bot/event_json.h"
#include "handlers/handler.h"
#include "locales/keys.h"
#include "locales/locale.h"
#include "locales/patterns.h"

static struct locales *loc;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (locale_load(CASEBOT_LOCALES_DIR, &loc, err, sizeof(err)) != 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[EVENT_TEXT_MAX], folded[4 * EVENT_TEXT_MAX], small[8];
	static struct inbound_event ev;
	struct patterns *p = NULL;
	struct patterns_hit hit;
	char why[256];
	size_t n = size < sizeof(text) - 1 ? size : sizeof(text) - 1;
	int rc;

	memcpy(text, data, n);
	text[n] = '\0';
	/* A fold that does not fit is refused, never cut unterminated. */
	rc = words_fold(text, small, sizeof(small));
	if (memchr(small, '\0', sizeof(small)) == NULL)
		abort();
	rc = words_fold(text, folded, sizeof(folded));
	if (rc == 0) {
		if (strlen(folded) >= sizeof(folded))
			abort();
		for (size_t i = 0; i < keys_count(); i++) {
			const struct keys_entry *k = keys_at(i);

			if (strncmp(k->key, "words.", 6) == 0 && words_is(loc, folded, k->key) < 0)
				abort();
		}
		if (urgent_is(loc, folded) < 0 || locale_urgent(loc, folded) < 0)
			abort();
	}
	/* The text as a pattern item, matched against itself folded. */
	if (patterns_new(&p) == 0) {
		if (patterns_add(p, text, 1, 0, why, sizeof(why)) == 0 && rc == 0) {
			rc = patterns_match(p, folded, &hit);
			if (rc == 1 && (hit.off > strlen(folded) || hit.len > strlen(folded) - hit.off))
				abort();
		}
		patterns_add(p, text, 2, 1, why, sizeof(why));
		patterns_free(p);
	}
	/* The input as the event an inbound row keeps. */
	if (event_from_json(text, "telegram", "1", "1001", &ev) == 0 &&
	    (memchr(ev.text, '\0', sizeof(ev.text)) == NULL ||
	     memchr(ev.button_data, '\0', sizeof(ev.button_data)) == NULL))
		abort();
	return 0;
}
