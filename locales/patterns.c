/* Word patterns (see patterns.h). Matching runs on every family text, so
 * the text is cut into tokens once and each token is tried only against
 * the items whose first word can start with its first byte; items whose
 * first word may sit inside a compound are tried on every token. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "bot/casebot.h"
#include "locales/patterns.h"

/* Shortest stem: a shorter one catches everyday words in some language. */
#define STEM_MIN 4
/* Shortest part of a compound: the same, with more words to hide in. */
#define INFIX_MIN 5
/* Tokens a short text is cut into without an allocation. */
#define TOKENS_ON_STACK 128

enum alt_kind { ALT_EXACT, ALT_PREFIX, ALT_SUFFIX, ALT_INFIX };

struct alt {
	const char *s;
	size_t len;
	enum alt_kind kind;
};

struct word {
	struct alt *alts;
	size_t nalts;
	/* Other tokens that may stand before this word (0 or PATTERNS_GAP). */
	size_t gap;
};

struct pattern {
	char *item;
	/* The item's copy, cut at the spaces and bars the words point into. */
	char *buf;
	int tag;
	size_t nwords;
	struct word words[PATTERNS_WORDS];
};

struct list {
	struct pattern *v;
	size_t n, cap;
};

struct index {
	size_t *v;
	size_t n, cap;
};

struct patterns {
	struct list urgent, excluded;
	/* Urgent items by the first byte their first word can start with... */
	struct index first[256];
	/* ...and those whose first word may start anywhere in a token. */
	struct index anywhere;
};

struct token {
	size_t off, len;
	/* Whether the token lies inside an exclusion: -1 not looked at yet. */
	signed char excluded;
};

static void why_fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void why_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (why == NULL || whylen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

/* Length of the token character at s (letters, marks and digits of any
 * script), 0 for a separator. */
static size_t token_char(const char *s, size_t left)
{
	unsigned char c = (unsigned char)*s;
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;

	if (c < 0x80)
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	n = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)left, &cp);
	if (n <= 0)
		return 0;
	switch (utf8proc_category(cp)) {
	case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
	case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
	case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
	case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
		return (size_t)n;
	default:
		return 0;
	}
}

static int alt_matches(const struct alt *a, const char *t, size_t tl)
{
	switch (a->kind) {
	case ALT_EXACT:
		return tl == a->len && memcmp(t, a->s, tl) == 0;
	case ALT_PREFIX:
		return tl >= a->len && memcmp(t, a->s, a->len) == 0;
	case ALT_SUFFIX:
		return tl >= a->len && memcmp(t + tl - a->len, a->s, a->len) == 0;
	case ALT_INFIX:
		for (size_t i = 0; i + a->len <= tl; i++)
			if (t[i] == a->s[0] && memcmp(t + i, a->s, a->len) == 0)
				return 1;
		return 0;
	}
	return 0;
}

static int word_matches(const struct word *w, const char *t, size_t tl)
{
	for (size_t i = 0; i < w->nalts; i++)
		if (alt_matches(&w->alts[i], t, tl))
			return 1;
	return 0;
}

struct text {
	const struct patterns *p;
	const char *s;
	struct token *tok;
	size_t n;
};

static int excluded(struct text *x, size_t i);

/* Word w of pat at token i and the rest after it; the index of the token
 * the last word matched, or -1. */
static long match_from(struct text *x, const struct pattern *pat, size_t w, size_t i, int urgent)
{
	const struct token *t = &x->tok[i];

	if (!word_matches(&pat->words[w], x->s + t->off, t->len))
		return -1;
	if (urgent && excluded(x, i))
		return -1;
	if (w + 1 == pat->nwords)
		return (long)i;
	for (size_t j = i + 1; j < x->n && j <= i + 1 + pat->words[w + 1].gap; j++) {
		long end = match_from(x, pat, w + 1, j, urgent);

		if (end >= 0)
			return end;
	}
	return -1;
}

/* Whether token i lies inside an occurrence of an exclusion; remembered,
 * since a phrase asks about the same tokens again. */
static int excluded(struct text *x, size_t i)
{
	struct token *t = &x->tok[i];
	const struct list *ex = &x->p->excluded;

	if (t->excluded >= 0)
		return t->excluded;
	t->excluded = 0;
	for (size_t e = 0; e < ex->n && !t->excluded; e++) {
		const struct pattern *pat = &ex->v[e];

		for (size_t k = 0; k < pat->nwords && k <= i; k++) {
			if (word_matches(&pat->words[k], x->s + t->off, t->len) &&
			    match_from(x, pat, 0, i - k, 0) >= 0) {
				t->excluded = 1;
				break;
			}
		}
	}
	return t->excluded;
}

static size_t tokenize(const char *s, struct token *tok, size_t cap)
{
	size_t n = 0, i = 0, len = strlen(s);

	while (i < len && n < cap) {
		size_t c = token_char(s + i, len - i), start = i;

		if (c == 0) {
			i++;
			continue;
		}
		while (i < len && (c = token_char(s + i, len - i)) > 0)
			i += c;
		tok[n].off = start;
		tok[n].len = i - start;
		tok[n].excluded = -1;
		n++;
	}
	return n;
}

static int try_index(struct text *x, const struct index *ix, size_t i, struct patterns_hit *hit)
{
	for (size_t k = 0; k < ix->n; k++) {
		const struct pattern *pat = &x->p->urgent.v[ix->v[k]];
		long end = match_from(x, pat, 0, i, 1);

		if (end < 0)
			continue;
		if (hit != NULL) {
			hit->item = pat->item;
			hit->tag = pat->tag;
			hit->off = x->tok[i].off;
			hit->len = x->tok[end].off + x->tok[end].len - hit->off;
		}
		return 1;
	}
	return 0;
}

int patterns_match(const struct patterns *p, const char *folded, struct patterns_hit *hit)
{
	struct token stack[TOKENS_ON_STACK];
	struct text x = {p, folded, stack, 0};
	/* A token and the separator after it take two bytes at least. */
	size_t cap = strlen(folded) / 2 + 1;
	int found = 0;

	if (cap > TOKENS_ON_STACK && (x.tok = malloc(cap * sizeof(*x.tok))) == NULL)
		return -CB_ENOMEM;
	x.n = tokenize(folded, x.tok, cap);
	for (size_t i = 0; i < x.n && !found; i++) {
		unsigned char b = (unsigned char)folded[x.tok[i].off];

		found = try_index(&x, &p->first[b], i, hit) || try_index(&x, &p->anywhere, i, hit);
	}
	if (x.tok != stack)
		free(x.tok);
	return found;
}

static int index_add(struct index *ix, size_t v)
{
	if (ix->n > 0 && ix->v[ix->n - 1] == v)
		return 0;
	if (ix->n == ix->cap) {
		size_t cap = ix->cap ? ix->cap * 2 : 8;
		size_t *nv = realloc(ix->v, cap * sizeof(*nv));

		if (nv == NULL)
			return -CB_ENOMEM;
		ix->v = nv;
		ix->cap = cap;
	}
	ix->v[ix->n++] = v;
	return 0;
}

static size_t chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

/* One alternative, cut out of the item's copy; s is NUL-terminated. */
static int parse_alt(char *s, struct alt *a, char *why, size_t whylen)
{
	size_t len = strlen(s), min;
	int lead = len > 0 && s[0] == '*', trail = len > 1 && s[len - 1] == '*';

	if (lead) {
		s++;
		len--;
	}
	if (trail)
		s[--len] = '\0';
	if (len == 0) {
		why_fail(why, whylen, "an empty alternative");
		return -CB_ECONFIG;
	}
	for (size_t i = 0; i < len;) {
		size_t c = token_char(s + i, len - i);

		if (c == 0 || (s[i] >= 'A' && s[i] <= 'Z')) {
			utf8proc_int32_t cp;
			utf8proc_ssize_t cl = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
							       (utf8proc_ssize_t)(len - i), &cp);

			why_fail(why, whylen,
				 "\"%s\" holds \"%.*s\", which is not a letter or digit of a folded word", s,
				 cl > 0 ? (int)cl : 1, s + i);
			return -CB_ECONFIG;
		}
		i += c;
	}
	a->s = s;
	a->len = len;
	a->kind = lead && trail ? ALT_INFIX : lead ? ALT_SUFFIX : trail ? ALT_PREFIX : ALT_EXACT;
	min = a->kind == ALT_INFIX ? INFIX_MIN : STEM_MIN;
	if (a->kind != ALT_EXACT && chars(s, len) < min) {
		why_fail(why, whylen, "\"%s\" is too short to stand for more than itself (at least %zu letters)",
			 s, min);
		return -CB_ECONFIG;
	}
	return 0;
}

static int parse_word(char *s, struct word *w, char *why, size_t whylen)
{
	size_t n = 1;
	int rc;

	for (const char *c = s; *c != '\0'; c++)
		n += *c == '|';
	w->alts = calloc(n, sizeof(*w->alts));
	if (w->alts == NULL)
		return -CB_ENOMEM;
	for (char *alt = s, *bar; alt != NULL; alt = bar) {
		if ((bar = strchr(alt, '|')) != NULL)
			*bar++ = '\0';
		if ((rc = parse_alt(alt, &w->alts[w->nalts], why, whylen)) != 0)
			return rc;
		w->nalts++;
	}
	return 0;
}

static void pattern_free(struct pattern *pat)
{
	for (size_t i = 0; i < PATTERNS_WORDS; i++)
		free(pat->words[i].alts);
	free(pat->buf);
	free(pat->item);
}

static int parse(const char *item, int exclude, struct pattern *pat, char *why, size_t whylen)
{
	size_t gap = 0;
	char *w, *space;
	int rc;

	if ((pat->item = strdup(item)) == NULL || (pat->buf = strdup(item)) == NULL)
		return -CB_ENOMEM;
	for (w = pat->buf; w != NULL; w = space) {
		if ((space = strchr(w, ' ')) != NULL)
			*space++ = '\0';
		if (*w == '\0') {
			why_fail(why, whylen, "an empty word (two spaces, or one at an end)");
			return -CB_ECONFIG;
		}
		if (strcmp(w, "...") == 0) {
			if (exclude || pat->nwords == 0 || gap != 0 || space == NULL) {
				why_fail(why, whylen, "\"...\" stands only between two words of an urgent item");
				return -CB_ECONFIG;
			}
			gap = PATTERNS_GAP;
			continue;
		}
		if (pat->nwords == PATTERNS_WORDS) {
			why_fail(why, whylen, "more than %d words", PATTERNS_WORDS);
			return -CB_ECONFIG;
		}
		pat->words[pat->nwords].gap = gap;
		gap = 0;
		if ((rc = parse_word(w, &pat->words[pat->nwords++], why, whylen)) != 0)
			return rc;
	}
	return 0;
}

int patterns_add(struct patterns *p, const char *item, int tag, int exclude, char *why, size_t whylen)
{
	struct list *l = exclude ? &p->excluded : &p->urgent;
	struct pattern pat = {0};
	int rc;

	if ((rc = parse(item, exclude, &pat, why, whylen)) != 0)
		goto out;
	pat.tag = tag;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct pattern *nv = realloc(l->v, cap * sizeof(*nv));

		if (nv == NULL) {
			rc = -CB_ENOMEM;
			goto out;
		}
		l->v = nv;
		l->cap = cap;
	}
	if (!exclude) {
		for (size_t i = 0; i < pat.words[0].nalts && rc == 0; i++) {
			const struct alt *a = &pat.words[0].alts[i];

			if (a->kind == ALT_EXACT || a->kind == ALT_PREFIX)
				rc = index_add(&p->first[(unsigned char)a->s[0]], l->n);
			else
				rc = index_add(&p->anywhere, l->n);
		}
		if (rc != 0)
			goto out;
	}
	l->v[l->n++] = pat;
	return 0;
out:
	if (rc == -CB_ENOMEM)
		why_fail(why, whylen, "out of memory");
	pattern_free(&pat);
	return rc;
}

int patterns_new(struct patterns **out)
{
	*out = calloc(1, sizeof(**out));
	return *out == NULL ? -CB_ENOMEM : 0;
}

void patterns_free(struct patterns *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->urgent.n; i++)
		pattern_free(&p->urgent.v[i]);
	for (size_t i = 0; i < p->excluded.n; i++)
		pattern_free(&p->excluded.v[i]);
	free(p->urgent.v);
	free(p->excluded.v);
	for (size_t i = 0; i < 256; i++)
		free(p->first[i].v);
	free(p->anywhere.v);
	free(p);
}
