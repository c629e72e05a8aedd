/* casebot: shared definitions. Every function that can fail returns 0 or a
 * negative CB_E* code; casebot_strerror() names it. */
#ifndef CASEBOT_H
#define CASEBOT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define CASEBOT_VERSION "0.1.0"

enum {
	CB_OK = 0,
	CB_ENOMEM = 1,   /* out of memory */
	CB_EINVAL = 2,   /* invalid argument or value */
	CB_ENOENT = 3,   /* no such record */
	CB_EEXIST = 4,   /* record already exists */
	CB_ESTORE = 5,   /* SQLite error */
	CB_EIO = 6,      /* file or system error */
	CB_ETOOBIG = 7,  /* over a size cap */
	CB_EPARSE = 8,   /* malformed input */
	CB_ECONFIG = 9,  /* bad configuration */
	CB_ESTATE = 10,  /* not allowed in the current state */
	CB_EPERM = 11,   /* not allowed for this actor */
	CB_EGATEWAY = 12 /* gateway failure */
};

const char *casebot_strerror(int err);

/* Languages the bot speaks. */
enum lang { LANG_NL = 0, LANG_FR, LANG_DE, LANG_EN, LANG_COUNT };

int lang_parse(const char *s, enum lang *out);
const char *lang_code(enum lang l);

#define CB_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Copies at most cap-1 bytes and always terminates; returns -CB_ETOOBIG when
 * src did not fit. */
int cb_strlcpy(char *dst, const char *src, size_t cap);

/* Appends with the same cap rule. */
int cb_strlcat(char *dst, const char *src, size_t cap);

#endif
