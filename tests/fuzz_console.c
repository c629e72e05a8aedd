/* libFuzzer target for what the web console reads from a request: the
 * input is a Cookie header and a form body (one line each), read as the
 * console reads them (name=value pairs, form values percent-decoded), a
 * query string, a family reference, a session token and a CSRF token.
 * Built by make fuzz; make test replays tests/data/fuzz/console through
 * the same entry. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "bot/casebot.h"
#include "bot/console/auth.h"
#include "bot/console/page.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

static void pairs(const char *s, size_t len, char sep, int decode)
{
	static const char *const names[] = {"casebot_session", "casebot_login", "csrf", "name", "password", "code",
					    "at", "text", ""};
	char out[256], tiny[4];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int rc = page_pair(s, len, sep, names[i], decode, out, sizeof(out));

		if (rc == 0 && strlen(out) >= sizeof(out))
			abort();
		rc = page_pair(s, len, sep, names[i], decode, tiny, sizeof(tiny));
		if (rc == 0 && strlen(tiny) >= sizeof(tiny))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), *nl, csrf[AUTH_TOKEN_HEX], out[256];
	unsigned char hash[AUTH_HASH_BYTES];
	size_t clen;

	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	nl = memchr(s, '\n', size);
	clen = nl != NULL ? (size_t)(nl - s) : size;
	pairs(s, clen, ';', 0);
	if (nl != NULL)
		pairs(nl + 1, size - clen - 1, '&', 1);
	pairs(s, size, '&', 1);
	if (page_query(s, "ref", out, sizeof(out)) != NULL && strlen(out) >= sizeof(out))
		abort();
	page_ref_ok(s, strlen(s));
	/* A token is 64 hex digits; anything else is refused, not read past. */
	if (auth_token_hash(s, hash) == 0 && strlen(s) < 64)
		abort();
	if (auth_csrf(s, csrf) == 0 && memchr(csrf, '\0', sizeof(csrf)) == NULL)
		abort();
	if (nl != NULL)
		auth_csrf_check(s, nl + 1);
	free(s);
	return 0;
}
