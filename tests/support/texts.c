#include <stdio.h>
#include <string.h>

#include "tests/support/texts.h"

struct script {
	const char *name;
	const char *word;     /* one word of the script */
	size_t word_units;
	const char *pad;      /* the smallest piece that fills the end */
	size_t pad_units;
};

static const struct script scripts[TEXTS_COUNT] = {
	[TEXTS_LATIN] = {"latin", "woord", 5, "a", 1},
	[TEXTS_CYRILLIC] = {"cyrillic", "\xd0\xbf\xd0\xbe\xd0\xbb\xd0\xb8\xd1\x86\xd0\xb8\xd1\x8f", 7, "\xd0\xb6", 1},
	[TEXTS_ARABIC] = {"arabic", "\xd8\xb4\xd8\xb1\xd8\xb7\xd8\xa9", 4, "\xd8\xa8", 1},
	/* 😀🏠 */
	[TEXTS_EMOJI] = {"emoji", "\xf0\x9f\x98\x80\xf0\x9f\x8f\xa0", 4, "\xf0\x9f\x98\x80", 2},
	/* e with an acute and a grave accent, as combining marks */
	[TEXTS_COMBINING] = {"combining", "e\xcc\x81\xcc\x80", 3, "e\xcc\x81\xcc\x80", 3},
};

const char *texts_script_name(enum texts_script s)
{
	return scripts[s].name;
}

size_t texts_units(const char *s)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p & 0xc0) == 0x80)
			continue;
		n += *p >= 0xf0 ? 2 : 1;
	}
	return n;
}

static int put(char *out, size_t cap, size_t *len, const char *piece)
{
	size_t n = strlen(piece);

	if (*len + n + 1 > cap)
		return -1;
	memcpy(out + *len, piece, n + 1);
	*len += n;
	return 0;
}

size_t texts_long(enum texts_script s, const char *head, size_t units, char *out, size_t cap)
{
	const struct script *sc = &scripts[s];
	size_t len = 0, have;
	char word[64];
	int i = 0;

	out[0] = '\0';
	if (head != NULL && put(out, cap, &len, head) != 0)
		return 0;
	have = texts_units(out);
	for (;;) {
		/* A word is " " or "\n", the script's word and its number. */
		snprintf(word, sizeof(word), "%s%s%d", have == 0 ? "" : (i % 12 == 11 ? "\n" : " "), sc->word, i);
		if (have + texts_units(word) > units)
			break;
		if (put(out, cap, &len, word) != 0)
			return 0;
		have += texts_units(word);
		i++;
	}
	while (have + sc->pad_units <= units && put(out, cap, &len, sc->pad) == 0)
		have += sc->pad_units;
	while (have < units && put(out, cap, &len, "x") == 0)
		have++;
	return len;
}
