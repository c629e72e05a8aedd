/* Language catalogs and the small renderer.
 *
 * One JSON file per language in the locales directory (nl.json, fr.json,
 * de.json, en.json). Each is a flat object: dotted string keys holding texts
 * with named placeholders ("{date}"), and a few arrays (weekday and month
 * names, reply words). locales/keys.c lists every key the code uses with the
 * placeholders it may contain; loading fails on a missing key, a placeholder
 * the code does not supply, or a placeholder set that differs between
 * languages. */
#ifndef CASEBOT_LOCALE_H
#define CASEBOT_LOCALE_H

#include <stddef.h>
#include <time.h>

#include "bot/casebot.h"

struct locales;

struct locale_param {
	const char *name;
	const char *value;
};

/* Reads and validates the four catalogs. On failure returns a negative code,
 * writes one line (file, key, what is wrong) into err and sets *out to NULL. */
int locale_load(const char *dir, struct locales **out, char *err, size_t errlen);
void locale_free(struct locales *loc);

/* The raw text of a string key, or NULL. */
const char *locale_text(const struct locales *loc, enum lang l, const char *key);

/* Fills a text's placeholders. Every placeholder in the text must be given;
 * -CB_ETOOBIG if the result does not fit in cap. */
int locale_render(const struct locales *loc, enum lang l, const char *key,
		  const struct locale_param *params, size_t nparams,
		  char *out, size_t cap);

/* For a key with plural forms ({"one": ..., "other": ...} in the catalogs):
 * the form that goes with count in language l, filled like locale_render.
 * locale_render on such a key gives the "other" form. */
int locale_render_count(const struct locales *loc, enum lang l, const char *key, long long count,
			const struct locale_param *params, size_t nparams, char *out, size_t cap);
/* 1 when count takes the "one" form in language l. */
int locale_plural_one(enum lang l, long long count);

/* An array key's items (reply words, names); returns the count, 0 if absent.
 * The strings are owned by loc. */
size_t locale_list(const struct locales *loc, enum lang l, const char *key,
		   const char *const **items);

/* 1 when folded text holds an urgent word of any of the four languages
 * (words.urgent, outside words.urgent_not; locales/patterns.h says how
 * they are written), 0 when not, -CB_ENOMEM. */
int locale_urgent(const struct locales *loc, const char *folded);

/* How many bytes of text a locked screen may show: its first
 * KEYS_PREVIEW_LINES lines and its first KEYS_PREVIEW_CHARS characters,
 * whichever reaches further. */
size_t locale_preview_len(const char *text);

/* What a banned word in a preview is. */
struct locale_banned {
	enum lang lang;        /* the catalog whose words.preview_banned has it */
	char item[96];         /* that item */
	char words[128];       /* the words of the text it matched, folded */
};
/* 1 when the preview zone of text holds a words.preview_banned item of
 * any language (hit, when not NULL, says which), 0 when not, or a
 * negative code. */
int locale_preview_banned(const struct locales *loc, const char *text, struct locale_banned *hit);

/* Date and time of t in the process zone, the way a Belgian reader of that
 * language expects it: "dinsdag 3 december om 14.00 uur",
 * "mardi 3 décembre à 14h00", "Dienstag, 3. Dezember, 14:00 Uhr",
 * "Tuesday 3 December at 14:00". */
int locale_format_datetime(const struct locales *loc, enum lang l, time_t t,
			   char *out, size_t cap);
/* "dinsdag 3 december" (no time). */
int locale_format_date(const struct locales *loc, enum lang l, time_t t,
		       char *out, size_t cap);
/* A calendar date without a time (a due date). */
int locale_format_day(const struct locales *loc, enum lang l, int y, int mon,
		      int day, char *out, size_t cap);
/* "14.00 uur", "14h00", "14:00 Uhr", "14:00". */
int locale_format_time(const struct locales *loc, enum lang l, time_t t,
		       char *out, size_t cap);

#endif
