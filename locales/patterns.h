/* Word patterns: the urgent words of the catalogs, compiled once when the
 * catalogs load and matched against folded text on every family message.
 *
 * An item is one or more words separated by spaces. A word is one or more
 * alternatives separated by '|'; an alternative is
 *   abc      the token is abc
 *   abc*     the token starts with abc (a stem: expuls* is expulser,
 *            expulsé, expulsion)
 *   *abc     the token ends with abc
 *   *abc*    abc stands anywhere in the token (Dutch and German compounds:
 *            *polizei* is Polizeikontrolle and Bundespolizei)
 * The words of an item stand next to each other, in that order; "..."
 * between two words lets up to PATTERNS_GAP other words stand between them
 * ("land ... verlaten" is "het land moeten verlaten"). A word that is too
 * broad alone is written only inside such a phrase ("agent|agenten ...
 * deur"). An exclusion item (words.urgent_not) names everyday words a stem
 * would catch; a token inside an exclusion counts for no pattern.
 *
 * Tokens are runs of letters and digits of the folded text: any other
 * character, the apostrophe included ("l'avion" is "l" "avion"), separates
 * them. */
#ifndef CASEBOT_PATTERNS_H
#define CASEBOT_PATTERNS_H

#include <stddef.h>

/* Other words that may stand where an item says "...". */
#define PATTERNS_GAP 3
/* Words in one item; a longer phrase is a sentence, not a pattern. */
#define PATTERNS_WORDS 6

struct patterns;

struct patterns_hit {
	/* The item that matched and the tag it was added with. */
	const char *item;
	int tag;
	/* Where the matched words stand in the text, first to last byte. */
	size_t off, len;
};

int patterns_new(struct patterns **out);
void patterns_free(struct patterns *p);

/* Adds one item (exclude: an exclusion). A malformed item returns
 * -CB_ECONFIG and why it is refused in why. */
int patterns_add(struct patterns *p, const char *item, int tag, int exclude, char *why,
		 size_t whylen);

/* 1 when folded text holds an item outside every exclusion (hit, when not
 * NULL, says which), 0 when not, -CB_ENOMEM. */
int patterns_match(const struct patterns *p, const char *folded, struct patterns_hit *hit);

#endif
