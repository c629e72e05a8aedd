#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <utf8proc.h>

#include "bot/casebot.h"
#include "bot/tz.h"
#include "locales/keys.h"
#include "locales/locale.h"
#include "locales/patterns.h"

/* A catalog is a few kilobytes; anything near this is a mistake. */
#define FILE_MAX (256 * 1024)
#define PATH_CAP 4096
/* One piece of a date: a day number, a rendered time. */
#define PART_CAP 128

struct entry {
	/* For a key with plural forms, text is the "other" form. */
	char *text;
	char *one;
	char **items;
	size_t nitems;
	/* Bit i set when the text uses the registry's placeholder i. */
	unsigned used;
};

struct locales {
	/* One entry per registry key, in registry order. */
	struct entry *e[LANG_COUNT];
	/* words.urgent and words.urgent_not of every language, compiled:
	 * families mix languages, so every text is matched against all. */
	struct patterns *urgent;
	/* words.preview_banned of every language, compiled the same way. */
	struct patterns *banned;
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int catalog_path(const char *dir, enum lang l, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/%s.json", dir, lang_code(l));

	return n < 0 || (size_t)n >= cap ? -CB_ETOOBIG : 0;
}

/* Length of the name when p starts "{name}" with name in [a-z_]+, else 0. */
static size_t placeholder_at(const char *p)
{
	size_t n = 0;

	if (*p != '{')
		return 0;
	while ((p[1 + n] >= 'a' && p[1 + n] <= 'z') || p[1 + n] == '_')
		n++;
	return n > 0 && p[1 + n] == '}' ? n : 0;
}

/* Case and accents folded the way reply words are matched. */
static int utf8_ok(const char *s)
{
	utf8proc_int32_t cp;
	utf8proc_ssize_t n;

	for (; *s != '\0'; s += n)
		if ((n = utf8proc_iterate((const utf8proc_uint8_t *)s, -1, &cp)) <= 0)
			return 0;
	return 1;
}

static int fold(const char *s, char **out)
{
	utf8proc_uint8_t *dst = NULL;
	utf8proc_ssize_t n;

	n = utf8proc_map((const utf8proc_uint8_t *)s, 0, &dst,
			 UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE |
				 UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK);
	if (n < 0)
		return n == UTF8PROC_ERROR_NOMEM ? -CB_ENOMEM : -CB_EPARSE;
	*out = (char *)dst;
	return 0;
}

/* Checks a text against its registry entry and records which placeholders
 * it uses. */
static int check_text(const struct keys_entry *k, const char *s, unsigned *used,
		      const char *path, char *err, size_t errlen)
{
	const char *p = s;
	size_t chars = 0;
	int first_line = 1;

	*used = 0;
	if (*s == '\0') {
		fail(err, errlen, "%s: key %s: empty text", path, k->key);
		return -CB_ECONFIG;
	}
	while (*p != '\0') {
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)p, -1, &cp);
		size_t name;
		int i;

		if (n < 0) {
			fail(err, errlen, "%s: key %s: invalid UTF-8", path, k->key);
			return -CB_ECONFIG;
		}
		if ((cp < 0x20 && cp != '\n') || cp == 0x7f) {
			fail(err, errlen, "%s: key %s: control character U+%04X", path,
			     k->key, (unsigned)cp);
			return -CB_ECONFIG;
		}
		chars++;
		if (cp == '\n')
			first_line = 0;
		if (cp == '}') {
			fail(err, errlen, "%s: key %s: stray '}'", path, k->key);
			return -CB_ECONFIG;
		}
		if (cp != '{') {
			p += n;
			continue;
		}
		name = placeholder_at(p);
		if (name == 0) {
			fail(err, errlen, "%s: key %s: stray '{' (a placeholder is {name}, name in a-z and _)",
			     path, k->key);
			return -CB_ECONFIG;
		}
		i = keys_param(k, p + 1, name);
		if (i < 0) {
			fail(err, errlen, "%s: key %s: unknown placeholder {%.*s}", path,
			     k->key, (int)name, p + 1);
			return -CB_ECONFIG;
		}
		if ((k->flags & KEYS_OPENS) && first_line && keys_param_reveals(p + 1, name)) {
			fail(err, errlen,
			     "%s: key %s: placeholder {%.*s} on the first line would show on a locked screen",
			     path, k->key, (int)name, p + 1);
			return -CB_ECONFIG;
		}
		*used |= 1u << i;
		chars += name + 1;
		p += name + 2;
	}
	if (k->maxlen != 0 && chars > k->maxlen) {
		fail(err, errlen, "%s: key %s: %zu characters, at most %u", path, k->key,
		     chars, k->maxlen);
		return -CB_ECONFIG;
	}
	return 0;
}

/* A list item: valid UTF-8, no edge spaces; reply words already folded so
 * that the matcher can compare folded input with them directly. */
static int check_item(const struct keys_entry *k, const char *s, const char *path,
		      char *err, size_t errlen)
{
	char *folded = NULL;
	size_t n = strlen(s);
	int rc;

	if (n == 0 || s[0] == ' ' || s[n - 1] == ' ') {
		fail(err, errlen, "%s: key %s: empty item or item with edge spaces: \"%s\"",
		     path, k->key, s);
		return -CB_ECONFIG;
	}
	rc = fold(s, &folded);
	if (rc == -CB_ENOMEM) {
		fail(err, errlen, "%s: key %s: out of memory", path, k->key);
		goto out;
	}
	if (rc != 0) {
		fail(err, errlen, "%s: key %s: invalid UTF-8 in an item", path, k->key);
		rc = -CB_ECONFIG;
		goto out;
	}
	if ((k->flags & KEYS_FOLDED) && strcmp(folded, s) != 0) {
		fail(err, errlen, "%s: key %s: \"%s\" must be written folded: \"%s\"", path,
		     k->key, s, folded);
		rc = -CB_ECONFIG;
	}
out:
	free(folded);
	return rc;
}

static int take_string(char **dst, const struct keys_entry *k, const cJSON *item, unsigned *used,
		       const char *path, char *err, size_t errlen)
{
	int rc = check_text(k, item->valuestring, used, path, err, errlen);

	if (rc != 0)
		return rc;
	*dst = strdup(item->valuestring);
	if (*dst == NULL) {
		fail(err, errlen, "%s: key %s: out of memory", path, k->key);
		return -CB_ENOMEM;
	}
	return 0;
}

/* A key with plural forms is an object {"one": ..., "other": ...}; the
 * "one" form may leave the number out ("every day"). The placeholders
 * compared across languages are those of both forms together. */
static int take_plural(struct entry *e, const struct keys_entry *k, const cJSON *item,
		       const char *path, char *err, size_t errlen)
{
	const cJSON *one = cJSON_GetObjectItemCaseSensitive(item, "one");
	const cJSON *other = cJSON_GetObjectItemCaseSensitive(item, "other");
	unsigned used_one = 0, used_other = 0;
	int rc;

	if (!cJSON_IsObject(item) || cJSON_GetArraySize(item) != 2 || !cJSON_IsString(one) ||
	    !cJSON_IsString(other) || one->valuestring == NULL || other->valuestring == NULL) {
		fail(err, errlen, "%s: key %s: must be an object with the plural forms \"one\" and \"other\"",
		     path, k->key);
		return -CB_ECONFIG;
	}
	if ((rc = take_string(&e->one, k, one, &used_one, path, err, errlen)) != 0 ||
	    (rc = take_string(&e->text, k, other, &used_other, path, err, errlen)) != 0)
		return rc;
	e->used = used_one | used_other;
	return 0;
}

static int take_text(struct entry *e, const struct keys_entry *k, const cJSON *item,
		     const char *path, char *err, size_t errlen)
{
	if (k->flags & KEYS_PLURAL)
		return take_plural(e, k, item, path, err, errlen);
	if (!cJSON_IsString(item) || item->valuestring == NULL) {
		fail(err, errlen, "%s: key %s: must be a string", path, k->key);
		return -CB_ECONFIG;
	}
	return take_string(&e->text, k, item, &e->used, path, err, errlen);
}

static int take_list(struct entry *e, const struct keys_entry *k, const cJSON *item,
		     const char *path, char *err, size_t errlen)
{
	const cJSON *it;
	int n, rc;

	if (!cJSON_IsArray(item)) {
		fail(err, errlen, "%s: key %s: must be a list of strings", path, k->key);
		return -CB_ECONFIG;
	}
	n = cJSON_GetArraySize(item);
	if (n == 0 || (k->items != 0 && (unsigned)n != k->items)) {
		if (k->items != 0)
			fail(err, errlen, "%s: key %s: %d items, must be %u", path, k->key,
			     n, k->items);
		else
			fail(err, errlen, "%s: key %s: empty list", path, k->key);
		return -CB_ECONFIG;
	}
	e->items = calloc((size_t)n, sizeof(*e->items));
	if (e->items == NULL) {
		fail(err, errlen, "%s: key %s: out of memory", path, k->key);
		return -CB_ENOMEM;
	}
	cJSON_ArrayForEach(it, item) {
		if (!cJSON_IsString(it) || it->valuestring == NULL) {
			fail(err, errlen, "%s: key %s: must be a list of strings", path, k->key);
			return -CB_ECONFIG;
		}
		rc = check_item(k, it->valuestring, path, err, errlen);
		if (rc != 0)
			return rc;
		e->items[e->nitems] = strdup(it->valuestring);
		if (e->items[e->nitems] == NULL) {
			fail(err, errlen, "%s: key %s: out of memory", path, k->key);
			return -CB_ENOMEM;
		}
		e->nitems++;
	}
	return 0;
}

static int read_file(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	FILE *f = NULL;
	char *buf = NULL;
	size_t n;
	int rc = 0;

	f = fopen(path, "rb");
	if (f == NULL) {
		fail(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		rc = -CB_EIO;
		goto out;
	}
	buf = malloc(FILE_MAX + 1);
	if (buf == NULL) {
		fail(err, errlen, "%s: out of memory", path);
		rc = -CB_ENOMEM;
		goto out;
	}
	n = fread(buf, 1, FILE_MAX + 1, f);
	if (ferror(f)) {
		fail(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		rc = -CB_EIO;
		goto out;
	}
	if (n > FILE_MAX) {
		fail(err, errlen, "%s: larger than %d bytes", path, FILE_MAX);
		rc = -CB_ETOOBIG;
		goto out;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	buf = NULL;
out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

static int line_of(const char *buf, const char *at)
{
	int line = 1;

	for (const char *p = buf; at != NULL && p < at && *p != '\0'; p++)
		line += *p == '\n';
	return line;
}

static int load_one(struct entry *tab, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	cJSON *root = NULL;
	const cJSON *item;
	const char *end = NULL;
	int rc;

	rc = read_file(path, &buf, &len, err, errlen);
	if (rc != 0)
		goto out;
	/* cJSON stops at a NUL; one inside the file would hide what follows. */
	if (memchr(buf, '\0', len) != NULL) {
		fail(err, errlen, "%s: bad JSON: NUL byte at line %d", path,
		     line_of(buf, memchr(buf, '\0', len)));
		rc = -CB_EPARSE;
		goto out;
	}
	/* The length counts the terminator so that trailing junk is refused. */
	root = cJSON_ParseWithLengthOpts(buf, len + 1, &end, 1);
	if (root == NULL) {
		fail(err, errlen, "%s: bad JSON at line %d", path, line_of(buf, end));
		rc = -CB_EPARSE;
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		fail(err, errlen, "%s: not a JSON object", path);
		rc = -CB_EPARSE;
		goto out;
	}
	cJSON_ArrayForEach(item, root) {
		int i = keys_find(item->string);
		const struct keys_entry *k;

		if (i < 0 && (item->string == NULL || !utf8_ok(item->string))) {
			/* The line names no key it could not print. */
			fail(err, errlen, "%s: a key is not valid UTF-8", path);
			rc = -CB_ECONFIG;
			goto out;
		}
		if (i < 0) {
			fail(err, errlen, "%s: key %s: unknown key (not in locales/keys.c)", path,
			     item->string != NULL ? item->string : "?");
			rc = -CB_ECONFIG;
			goto out;
		}
		k = keys_at((size_t)i);
		if (tab[i].text != NULL || tab[i].items != NULL) {
			fail(err, errlen, "%s: key %s: appears twice", path, k->key);
			rc = -CB_ECONFIG;
			goto out;
		}
		if (k->kind == KEYS_TEXT)
			rc = take_text(&tab[i], k, item, path, err, errlen);
		else
			rc = take_list(&tab[i], k, item, path, err, errlen);
		if (rc != 0)
			goto out;
	}
	for (size_t i = 0; i < keys_count(); i++) {
		if (tab[i].text == NULL && tab[i].items == NULL) {
			fail(err, errlen, "%s: key %s: missing", path, keys_at(i)->key);
			rc = -CB_ECONFIG;
			goto out;
		}
	}
out:
	cJSON_Delete(root);
	free(buf);
	return rc;
}

/* Every language must use the same placeholders for a key, or a caller's
 * params fit one language and not another. The set most languages share is
 * taken as right, so the error names the odd file out. */
static int check_same_params(const struct locales *loc, const char *dir, char *err,
			     size_t errlen)
{
	char path[PATH_CAP];

	for (size_t i = 0; i < keys_count(); i++) {
		const struct keys_entry *k = keys_at(i);
		unsigned ref = loc->e[0][i].used, diff;
		int best = 0, ref_lang = 0;

		if (k->kind != KEYS_TEXT)
			continue;
		for (int a = 0; a < LANG_COUNT; a++) {
			int same = 0;

			for (int b = 0; b < LANG_COUNT; b++)
				same += loc->e[a][i].used == loc->e[b][i].used;
			if (same > best) {
				best = same;
				ref = loc->e[a][i].used;
				ref_lang = a;
			}
		}
		for (int l = 0; l < LANG_COUNT; l++) {
			int bit = 0;

			diff = loc->e[l][i].used ^ ref;
			if (diff == 0)
				continue;
			while (!(diff & (1u << bit)))
				bit++;
			catalog_path(dir, (enum lang)l, path, sizeof(path));
			if (ref & (1u << bit))
				fail(err, errlen, "%s: key %s: placeholder {%s} is missing (%s.json has it)",
				     path, k->key, k->params[bit], lang_code((enum lang)ref_lang));
			else
				fail(err, errlen, "%s: key %s: placeholder {%s} is not in %s.json",
				     path, k->key, k->params[bit], lang_code((enum lang)ref_lang));
			return -CB_ECONFIG;
		}
	}
	return 0;
}

/* The urgent items and their exclusions of all four catalogs, compiled
 * once; a malformed item names its file. */
static int compile_urgent(struct locales *loc, const char *dir, char *err, size_t errlen)
{
	static const char *const keys[] = {"words.urgent", "words.urgent_not"};
	char path[PATH_CAP], why[256];
	int rc;

	if ((rc = patterns_new(&loc->urgent)) != 0) {
		fail(err, errlen, "%s: out of memory", dir);
		return rc;
	}
	for (int l = 0; l < LANG_COUNT; l++) {
		for (int k = 0; k < 2; k++) {
			const struct entry *e = &loc->e[l][keys_find(keys[k])];

			for (size_t j = 0; j < e->nitems; j++) {
				rc = patterns_add(loc->urgent, e->items[j], l, k == 1, why, sizeof(why));
				if (rc == 0)
					continue;
				catalog_path(dir, (enum lang)l, path, sizeof(path));
				fail(err, errlen, "%s: key %s: \"%s\": %s", path, keys[k], e->items[j], why);
				return rc;
			}
		}
	}
	return 0;
}

/* The preview-banned items of all four catalogs, compiled once. */
static int compile_banned(struct locales *loc, const char *dir, char *err, size_t errlen)
{
	const struct entry *e;
	char path[PATH_CAP], why[256];
	int rc;

	if ((rc = patterns_new(&loc->banned)) != 0) {
		fail(err, errlen, "%s: out of memory", dir);
		return rc;
	}
	for (int l = 0; l < LANG_COUNT; l++) {
		e = &loc->e[l][keys_find("words.preview_banned")];
		for (size_t j = 0; j < e->nitems; j++) {
			rc = patterns_add(loc->banned, e->items[j], l, 0, why, sizeof(why));
			if (rc == 0)
				continue;
			catalog_path(dir, (enum lang)l, path, sizeof(path));
			fail(err, errlen, "%s: key words.preview_banned: \"%s\": %s", path, e->items[j], why);
			return rc;
		}
	}
	return 0;
}

/* No urgent word of any language on the first line of a text that opens a
 * message: "DVZ" or "police" must never show on a locked screen. The line
 * is matched the way a family's text is. */
static int check_previews(const struct locales *loc, const char *dir, char *err,
			  size_t errlen)
{
	char path[PATH_CAP];
	char *line = NULL, *folded = NULL;
	struct patterns_hit hit;
	int rc = 0;

	for (int l = 0; l < LANG_COUNT && rc == 0; l++) {
		for (size_t i = 0; i < keys_count() && rc == 0; i++) {
			const struct keys_entry *k = keys_at(i);
			const char *text = loc->e[l][i].text;

			if (!(k->flags & KEYS_OPENS))
				continue;
			free(line);
			free(folded);
			folded = NULL;
			line = strndup(text, strcspn(text, "\n"));
			if (line == NULL) {
				rc = -CB_ENOMEM;
				goto out;
			}
			rc = fold(line, &folded);
			if (rc != 0)
				goto out;
			rc = patterns_match(loc->urgent, folded, &hit);
			if (rc < 0)
				goto out;
			if (rc == 0)
				continue;
			catalog_path(dir, (enum lang)l, path, sizeof(path));
			fail(err, errlen,
			     "%s: key %s: first line says \"%.*s\" (an urgent word in %s.json), which a locked screen would show (item \"%s\")",
			     path, k->key, (int)hit.len, folded + hit.off, lang_code((enum lang)hit.tag), hit.item);
			rc = -CB_ECONFIG;
			goto out;
		}
	}
out:
	if (rc == -CB_ENOMEM)
		fail(err, errlen, "%s: out of memory", dir);
	free(line);
	free(folded);
	return rc;
}

int locale_load(const char *dir, struct locales **out, char *err, size_t errlen)
{
	struct locales *loc = NULL;
	char path[PATH_CAP];
	int rc = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (out == NULL || dir == NULL) {
		fail(err, errlen, "locales: no directory given");
		return -CB_EINVAL;
	}
	*out = NULL;
	loc = calloc(1, sizeof(*loc));
	if (loc == NULL) {
		fail(err, errlen, "%s: out of memory", dir);
		rc = -CB_ENOMEM;
		goto out;
	}
	for (int l = 0; l < LANG_COUNT; l++) {
		rc = catalog_path(dir, (enum lang)l, path, sizeof(path));
		if (rc != 0) {
			fail(err, errlen, "%s: directory name too long", dir);
			goto out;
		}
		loc->e[l] = calloc(keys_count(), sizeof(*loc->e[l]));
		if (loc->e[l] == NULL) {
			fail(err, errlen, "%s: out of memory", path);
			rc = -CB_ENOMEM;
			goto out;
		}
		rc = load_one(loc->e[l], path, err, errlen);
		if (rc != 0)
			goto out;
	}
	rc = check_same_params(loc, dir, err, errlen);
	if (rc != 0)
		goto out;
	rc = compile_urgent(loc, dir, err, errlen);
	if (rc != 0)
		goto out;
	rc = compile_banned(loc, dir, err, errlen);
	if (rc != 0)
		goto out;
	rc = check_previews(loc, dir, err, errlen);
out:
	if (rc != 0) {
		locale_free(loc);
		return rc;
	}
	*out = loc;
	return 0;
}

void locale_free(struct locales *loc)
{
	if (loc == NULL)
		return;
	for (int l = 0; l < LANG_COUNT; l++) {
		if (loc->e[l] == NULL)
			continue;
		for (size_t i = 0; i < keys_count(); i++) {
			struct entry *e = &loc->e[l][i];

			free(e->text);
			free(e->one);
			for (size_t j = 0; j < e->nitems; j++)
				free(e->items[j]);
			free(e->items);
		}
		free(loc->e[l]);
	}
	patterns_free(loc->urgent);
	patterns_free(loc->banned);
	free(loc);
}

static const struct entry *lookup(const struct locales *loc, enum lang l, const char *key)
{
	int i;

	if (loc == NULL || (int)l < 0 || l >= LANG_COUNT)
		return NULL;
	i = keys_find(key);
	return i < 0 ? NULL : &loc->e[l][i];
}

const char *locale_text(const struct locales *loc, enum lang l, const char *key)
{
	const struct entry *e = lookup(loc, l, key);

	return e != NULL ? e->text : NULL;
}

size_t locale_list(const struct locales *loc, enum lang l, const char *key,
		   const char *const **items)
{
	const struct entry *e = lookup(loc, l, key);

	if (e == NULL || e->items == NULL) {
		if (items != NULL)
			*items = NULL;
		return 0;
	}
	if (items != NULL)
		*items = (const char *const *)e->items;
	return e->nitems;
}

int locale_urgent(const struct locales *loc, const char *folded)
{
	return patterns_match(loc->urgent, folded, NULL);
}

size_t locale_preview_len(const char *text)
{
	size_t lines_end = 0, chars_end = 0, chars = 0;
	int lines = 0;

	/* The end of the third line... */
	for (; text[lines_end] != '\0'; lines_end++)
		if (text[lines_end] == '\n' && ++lines == KEYS_PREVIEW_LINES)
			break;
	/* ...and the end of the 120th character (a UTF-8 lead byte starts
	 * each); the zone is whichever reaches further. */
	while (text[chars_end] != '\0') {
		if (((unsigned char)text[chars_end] & 0xC0) != 0x80 && chars++ == KEYS_PREVIEW_CHARS)
			break;
		chars_end++;
	}
	return lines_end > chars_end ? lines_end : chars_end;
}

int locale_preview_banned(const struct locales *loc, const char *text, struct locale_banned *hit)
{
	struct patterns_hit ph;
	char *zone, *folded = NULL;
	int rc;

	zone = strndup(text, locale_preview_len(text));
	if (zone == NULL)
		return -CB_ENOMEM;
	rc = fold(zone, &folded);
	free(zone);
	if (rc != 0)
		return rc;
	rc = patterns_match(loc->banned, folded, &ph);
	if (rc == 1 && hit != NULL) {
		hit->lang = (enum lang)ph.tag;
		cb_strlcpy(hit->item, ph.item, sizeof(hit->item));
		snprintf(hit->words, sizeof(hit->words), "%.*s", (int)ph.len, folded + ph.off);
	}
	free(folded);
	return rc;
}

static int put(char *out, size_t cap, size_t *n, const char *s, size_t len)
{
	if (len >= cap - *n)
		return -CB_ETOOBIG;
	memcpy(out + *n, s, len);
	*n += len;
	out[*n] = '\0';
	return 0;
}

/* Fills text's placeholders from params into out. */
static int fill(const char *text, const struct locale_param *params, size_t nparams, char *out, size_t cap)
{
	const char *p;
	size_t n = 0;
	int rc = 0;

	for (p = text; *p != '\0' && rc == 0;) {
		size_t name = placeholder_at(p);
		const char *value = NULL;

		if (name == 0) {
			/* Copy the run up to the next brace in one go. */
			size_t run = strcspn(p + 1, "{") + 1;

			rc = put(out, cap, &n, p, run);
			p += run;
			continue;
		}
		for (size_t j = 0; j < nparams; j++) {
			if (params[j].name != NULL && strncmp(params[j].name, p + 1, name) == 0 &&
			    params[j].name[name] == '\0') {
				value = params[j].value;
				break;
			}
		}
		if (value == NULL) {
			rc = -CB_EINVAL;
			break;
		}
		rc = put(out, cap, &n, value, strlen(value));
		p += name + 2;
	}
	if (rc != 0)
		out[0] = '\0';
	return rc;
}

int locale_render(const struct locales *loc, enum lang l, const char *key,
		  const struct locale_param *params, size_t nparams,
		  char *out, size_t cap)
{
	const char *text;

	if (out == NULL || cap == 0)
		return -CB_EINVAL;
	out[0] = '\0';
	if (params == NULL && nparams > 0)
		return -CB_EINVAL;
	text = locale_text(loc, l, key);
	if (text == NULL)
		return -CB_ENOENT;
	return fill(text, params, nparams, out, cap);
}

int locale_plural_one(enum lang l, long long n)
{
	/* French counts 0 and 1 as singular ("0 jour", "1 jour"); Dutch,
	 * German and English only 1. */
	if (l == LANG_FR)
		return n == 0 || n == 1;
	return n == 1;
}

int locale_render_count(const struct locales *loc, enum lang l, const char *key, long long count,
			const struct locale_param *params, size_t nparams, char *out, size_t cap)
{
	const struct entry *e;

	if (out == NULL || cap == 0)
		return -CB_EINVAL;
	out[0] = '\0';
	if (params == NULL && nparams > 0)
		return -CB_EINVAL;
	e = lookup(loc, l, key);
	if (e == NULL || e->text == NULL)
		return -CB_ENOENT;
	return fill(e->one != NULL && locale_plural_one(l, count) ? e->one : e->text, params, nparams, out, cap);
}

static int render_time(const struct locales *loc, enum lang l, const struct tm *tm,
		       char *out, size_t cap)
{
	char hh[16], mm[16];
	const struct locale_param p[] = {{"hh", hh}, {"mm", mm}};

	if (tm->tm_hour < 0 || tm->tm_hour > 23 || tm->tm_min < 0 || tm->tm_min > 59)
		return -CB_EINVAL;
	snprintf(hh, sizeof(hh), "%d", tm->tm_hour);
	snprintf(mm, sizeof(mm), "%02d", tm->tm_min);
	return locale_render(loc, l, "format.time", p, CB_ARRAY_SIZE(p), out, cap);
}

/* Renders "format.datetime" or "format.date" from broken-down local time;
 * tm_wday is Sunday-based as in struct tm. */
static int render_date(const struct locales *loc, enum lang l, const struct tm *tm,
		       const char *key, char *out, size_t cap)
{
	const char *const *weekdays, *const *months;
	const char *ordinal;
	char day[PART_CAP], time[PART_CAP];
	int rc;

	if (out == NULL || cap == 0)
		return -CB_EINVAL;
	out[0] = '\0';
	if (locale_list(loc, l, "weekdays", &weekdays) != 7 ||
	    locale_list(loc, l, "months", &months) != 12 ||
	    (ordinal = locale_text(loc, l, "format.day_ordinal_1")) == NULL)
		return -CB_EINVAL;
	if (tm->tm_wday < 0 || tm->tm_wday > 6 || tm->tm_mon < 0 || tm->tm_mon > 11 ||
	    tm->tm_mday < 1 || tm->tm_mday > 31)
		return -CB_EINVAL;
	/* French writes "1er décembre"; the others use the plain number. */
	if (tm->tm_mday == 1)
		rc = cb_strlcpy(day, ordinal, sizeof(day));
	else
		rc = snprintf(day, sizeof(day), "%d", tm->tm_mday) < 0 ? -CB_EINVAL : 0;
	if (rc != 0)
		return rc;
	rc = render_time(loc, l, tm, time, sizeof(time));
	if (rc != 0)
		return rc;
	const struct locale_param p[] = {
		{"weekday", weekdays[(tm->tm_wday + 6) % 7]},
		{"day", day},
		{"month", months[tm->tm_mon]},
		{"time", time},
	};

	return locale_render(loc, l, key, p, CB_ARRAY_SIZE(p), out, cap);
}

int locale_format_datetime(const struct locales *loc, enum lang l, time_t t,
			   char *out, size_t cap)
{
	struct tm tm;

	tz_local(t, &tm);
	return render_date(loc, l, &tm, "format.datetime", out, cap);
}

int locale_format_date(const struct locales *loc, enum lang l, time_t t,
		       char *out, size_t cap)
{
	struct tm tm;

	tz_local(t, &tm);
	return render_date(loc, l, &tm, "format.date", out, cap);
}

int locale_format_time(const struct locales *loc, enum lang l, time_t t,
		       char *out, size_t cap)
{
	struct tm tm;

	if (out == NULL || cap == 0)
		return -CB_EINVAL;
	tz_local(t, &tm);
	return render_time(loc, l, &tm, out, cap);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
 * days_from_civil); needs no zone, so a due date cannot shift a day. */
static long days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int locale_format_day(const struct locales *loc, enum lang l, int y, int mon,
		      int day, char *out, size_t cap)
{
	struct tm tm = {0};

	if (out != NULL && cap > 0)
		out[0] = '\0';
	if (tz_valid_date(y, mon, day) != 0)
		return -CB_EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	/* 1970-01-01 was a Thursday (4 in struct tm's Sunday-based count). */
	tm.tm_wday = (int)((days_from_civil(y, mon, day) + 4) % 7);
	return render_date(loc, l, &tm, "format.date", out, cap);
}
