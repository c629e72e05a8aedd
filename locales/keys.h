/* The registry of catalog keys: every key the code uses, whether it holds a
 * text or a list, and which placeholders a text may contain. locale_load
 * checks each catalog against it, so a typo in a key or a placeholder fails
 * at start-up rather than in a family's chat. */
#ifndef CASEBOT_KEYS_H
#define CASEBOT_KEYS_H

#include <stddef.h>

/* More than any text needs; the registry's placeholder sets fit a bitmask. */
#define KEYS_MAX_PARAMS 6

enum keys_kind { KEYS_TEXT, KEYS_LIST };

enum {
	/* The text can start a message, so its first line shows on a locked
	 * screen: it must not hold a revealing placeholder or an urgent word. */
	KEYS_OPENS = 1u << 0,
	/* List items are reply words: already case- and accent-folded. */
	KEYS_FOLDED = 1u << 1,
	/* The text has plural forms, "one" and "other", chosen by a count. */
	KEYS_PLURAL = 1u << 2,
};

struct keys_entry {
	const char *key;
	enum keys_kind kind;
	/* Placeholders a text may use, without braces; unused slots NULL. */
	const char *params[KEYS_MAX_PARAMS];
	/* A list's exact item count; 0 means any non-empty list. */
	unsigned items;
	/* Longest text in characters (WhatsApp cuts button titles at 20);
	 * 0 means no limit beyond the file cap. */
	unsigned maxlen;
	unsigned flags;
};

size_t keys_count(void);
/* NULL when i >= keys_count(). */
const struct keys_entry *keys_at(size_t i);
/* Index of key in the registry, or -CB_ENOENT. */
int keys_find(const char *key);
/* Index of the placeholder name[0..len) in e->params, or -CB_ENOENT. */
int keys_param(const struct keys_entry *e, const char *name, size_t len);
/* What a locked screen shows of a message: its first lines and
 * characters. Nothing in it names an institution, a subject or a place. */
#define KEYS_PREVIEW_LINES 3
#define KEYS_PREVIEW_CHARS 120

/* 1 when the text opens a message a family reads. */
int keys_family_facing(const struct keys_entry *e);
/* 1 when a placeholder's value can name an institution, a document or the
 * subject of a message (it must stay off a first line), else 0. */
int keys_param_reveals(const char *name, size_t len);

#endif
