/* Reply words: what a family types is folded (case, accents, punctuation)
 * before it is compared with the catalogs' word lists, in all four
 * languages, as whole words or phrases. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "handlers/handler.h"
#include "locales/locale.h"

int words_fold(const char *in, char *out, size_t cap)
{
	utf8proc_uint8_t *folded = NULL;
	utf8proc_ssize_t n;
	size_t o = 0;
	int space = 1;

	if (cap == 0)
		return -CB_ETOOBIG;
	/* LUMP makes a typographic apostrophe (a phone's default in "c’est",
	 * "d’accord") the plain one the word lists use. */
	n = utf8proc_map((const utf8proc_uint8_t *)in, 0, &folded,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD |
			 UTF8PROC_STRIPMARK | UTF8PROC_IGNORE | UTF8PROC_LUMP);
	if (n < 0) {
		out[0] = '\0';
		return -CB_EINVAL;
	}
	/* Letters, digits and the apostrophe make words; everything else is
	 * one space. */
	for (utf8proc_ssize_t i = 0; i < n && o + 1 < cap; i++) {
		unsigned char ch = folded[i];
		int word = ch >= 0x80 || isalnum(ch) || ch == '\'';

		if (word) {
			out[o++] = (char)ch;
			space = 0;
		} else if (!space) {
			out[o++] = ' ';
			space = 1;
		}
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	free(folded);
	return 0;
}

int words_is(const struct locales *loc, const char *folded, const char *key)
{
	for (int l = 0; l < LANG_COUNT; l++) {
		const char *const *items;
		size_t n = locale_list(loc, (enum lang)l, key, &items);

		for (size_t i = 0; i < n; i++)
			if (strcmp(folded, items[i]) == 0)
				return 1;
	}
	return 0;
}
