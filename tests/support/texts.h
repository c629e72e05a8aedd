/* Long texts for the tests: what a family or a counsellor may write, up to
 * the gateway's limit, in scripts whose UTF-8 and UTF-16 lengths differ. */
#ifndef CASEBOT_TEST_TEXTS_H
#define CASEBOT_TEST_TEXTS_H

#include <stddef.h>

enum texts_script {
	TEXTS_LATIN = 0,     /* 1 byte, 1 unit */
	TEXTS_CYRILLIC,      /* 2 bytes, 1 unit */
	TEXTS_ARABIC,        /* 2 bytes, 1 unit, right to left */
	TEXTS_EMOJI,         /* 4 bytes, 2 units (a surrogate pair) */
	TEXTS_COMBINING,     /* a letter and combining marks: 3 units, 5 bytes */
	TEXTS_COUNT
};

#define TEXTS_TELEGRAM_UNITS 4096
/* The most UTF-8 a text of TEXTS_TELEGRAM_UNITS units takes, and its NUL. */
#define TEXTS_MAX (4 * TEXTS_TELEGRAM_UNITS + 1)

const char *texts_script_name(enum texts_script s);
/* Writes a text of exactly units UTF-16 units into out (cap bytes): head
 * (ASCII) first, then numbered words of the script separated by spaces and
 * line breaks, so that every part of a split is recognisable. Returns its
 * length in bytes. */
size_t texts_long(enum texts_script s, const char *head, size_t units, char *out, size_t cap);
/* UTF-16 units of a UTF-8 string. */
size_t texts_units(const char *s);

#endif
