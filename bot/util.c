#include <string.h>

#include "bot/casebot.h"

static const char *const errnames[] = {
	[CB_OK] = "success",
	[CB_ENOMEM] = "out of memory",
	[CB_EINVAL] = "invalid value",
	[CB_ENOENT] = "not found",
	[CB_EEXIST] = "already exists",
	[CB_ESTORE] = "database error",
	[CB_EIO] = "input/output error",
	[CB_ETOOBIG] = "too large",
	[CB_EPARSE] = "malformed input",
	[CB_ECONFIG] = "configuration error",
	[CB_ESTATE] = "not allowed in the current state",
	[CB_EPERM] = "not permitted",
	[CB_EGATEWAY] = "gateway error",
};

const char *casebot_strerror(int err)
{
	if (err < 0)
		err = -err;
	if ((size_t)err >= CB_ARRAY_SIZE(errnames) || errnames[err] == NULL)
		return "unknown error";
	return errnames[err];
}

static const char *const lang_codes[LANG_COUNT] = {
	[LANG_NL] = "nl", [LANG_FR] = "fr", [LANG_DE] = "de", [LANG_EN] = "en",
};

int lang_parse(const char *s, enum lang *out)
{
	if (s == NULL)
		return -CB_EINVAL;
	for (int i = 0; i < LANG_COUNT; i++) {
		if (strcmp(s, lang_codes[i]) == 0) {
			*out = (enum lang)i;
			return 0;
		}
	}
	return -CB_EINVAL;
}

const char *lang_code(enum lang l)
{
	if ((int)l < 0 || l >= LANG_COUNT)
		return "en";
	return lang_codes[l];
}

int cb_strlcpy(char *dst, const char *src, size_t cap)
{
	size_t n = strlen(src);

	if (cap == 0)
		return -CB_ETOOBIG;
	if (n >= cap) {
		memcpy(dst, src, cap - 1);
		dst[cap - 1] = '\0';
		return -CB_ETOOBIG;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int cb_strlcat(char *dst, const char *src, size_t cap)
{
	size_t len = strnlen(dst, cap);

	if (len == cap)
		return -CB_ETOOBIG;
	return cb_strlcpy(dst + len, src, cap - len);
}
