/* What the contact log and the alerts say, in the reader's language.
 *
 * A contact-log row or an alert stores a short code ("stop", "text",
 * "document_received") and a small JSON object of its values (a byte
 * count, a document type, an appointment time), never a sentence. The
 * sentence is made when someone reads it, from the catalogs of the
 * reader's language. A row sent to the family ("out") is told from the
 * message it was (its catalog key) and how it went (its status). Rows
 * written before codes existed have no values; they read as a plain
 * sentence about what kind of contact it was. */
#ifndef CASEBOT_NOTE_H
#define CASEBOT_NOTE_H

#include <stddef.h>

#include "bot/casebot.h"
#include "store/store.h"

struct locales;

/* A contact-log row as one short sentence. */
int note_contact(const struct locales *loc, enum lang l, const struct contact *c, char *out, size_t cap);
/* The details of an alert as one short sentence; "" when the row holds
 * none (an alert written before codes existed). */
int note_alert(const struct locales *loc, enum lang l, const struct alert *a, char *out, size_t cap);
/* The sentence for a code and its values (a JSON object, or NULL);
 * -CB_ENOENT for a code this version does not know. */
int note_render(const struct locales *loc, enum lang l, const char *code, const char *params, char *out,
		size_t cap);

/* Every code, for tests and checks: NULL when i is past the end. */
const char *note_code_at(size_t i);

#endif
