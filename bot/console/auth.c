#include <liboath/oath.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "bot/casebot.h"
#include "bot/console/auth.h"

int auth_password_hash(const char *password, char out[AUTH_PWHASH_MAX])
{
	size_t n = strnlen(password, AUTH_PASSWORD_MAX + 1);

	if (n < AUTH_PASSWORD_MIN || n > AUTH_PASSWORD_MAX)
		return -CB_EINVAL;
	if (crypto_pwhash_str(out, password, n, crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		return -CB_ENOMEM;
	return 0;
}

int auth_password_check(const char *hash, const char *password)
{
	static char dummy[AUTH_PWHASH_MAX];
	size_t n = strnlen(password, AUTH_PASSWORD_MAX + 1);

	if (n > AUTH_PASSWORD_MAX)
		return -CB_EPERM;
	if (hash == NULL || hash[0] == '\0') {
		/* The same work as a real check, against a hash nobody knows
		 * the password of. */
		if (dummy[0] == '\0') {
			unsigned char r[32];
			char hex[65];

			randombytes_buf(r, sizeof(r));
			sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
			if (crypto_pwhash_str(dummy, hex, strlen(hex), crypto_pwhash_OPSLIMIT_INTERACTIVE,
					      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
				return -CB_EPERM;
		}
		/* Whatever it says, this is a refusal. */
		if (crypto_pwhash_str_verify(dummy, password, n) == 0)
			return -CB_EPERM;
		return -CB_EPERM;
	}
	return crypto_pwhash_str_verify(hash, password, n) == 0 ? 0 : -CB_EPERM;
}

int auth_totp_new(char out[AUTH_TOTP_B32_MAX])
{
	unsigned char raw[AUTH_TOTP_SECRET_BYTES];
	char *b32 = NULL;
	size_t n = 0;
	int rc = 0;

	randombytes_buf(raw, sizeof(raw));
	if (oath_init() != OATH_OK || oath_base32_encode((const char *)raw, sizeof(raw), &b32, &n) != OATH_OK) {
		rc = -CB_ENOMEM;
		goto out;
	}
	/* Apps want it without the padding. */
	while (n > 0 && b32[n - 1] == '=')
		n--;
	if (n >= AUTH_TOTP_B32_MAX) {
		rc = -CB_ETOOBIG;
		goto out;
	}
	memcpy(out, b32, n);
	out[n] = '\0';
out:
	sodium_memzero(raw, sizeof(raw));
	free(b32);
	return rc;
}

int auth_totp_uri(const char *issuer, const char *account, const char *secret, char *out, size_t cap)
{
	char *i = curl_easy_escape(NULL, issuer, 0), *a = curl_easy_escape(NULL, account, 0);
	int n = -1;

	if (i != NULL && a != NULL)
		n = snprintf(out, cap, "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30",
			     i, a, secret, i);
	curl_free(i);
	curl_free(a);
	if (n < 0)
		return -CB_ENOMEM;
	return (size_t)n < cap ? 0 : -CB_ETOOBIG;
}

int auth_totp_check(const char *secret, time_t now, const char *code, int flags, int64_t *step)
{
	char *raw = NULL;
	size_t rawlen = 0, n = strnlen(code, 9);
	char padded[168];
	uint64_t counter = 0;
	int pos = 0, rc;

	if (n < 6 || n > 8 || strspn(code, "0123456789") != n)
		return -CB_EPERM;
	/* liboath reads base32 with its padding. */
	if (cb_strlcpy(padded, secret, sizeof(padded) - 8) != 0)
		return -CB_EPERM;
	while (strlen(padded) % 8 != 0)
		strcat(padded, "=");
	if (oath_init() != OATH_OK || oath_base32_decode(padded, strlen(padded), &raw, &rawlen) != OATH_OK)
		return -CB_EPERM;
	rc = oath_totp_validate4(raw, rawlen, now, OATH_TOTP_DEFAULT_TIME_STEP_SIZE, OATH_TOTP_DEFAULT_START_TIME, 1,
				 &pos, &counter, flags, code);
	sodium_memzero(raw, rawlen);
	free(raw);
	if (rc < 0)
		return -CB_EPERM;
	*step = (int64_t)counter;
	return 0;
}

void auth_token_new(char hex[AUTH_TOKEN_HEX])
{
	unsigned char raw[AUTH_TOKEN_BYTES];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(hex, AUTH_TOKEN_HEX, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

static int token_raw(const char *hex, unsigned char raw[AUTH_TOKEN_BYTES])
{
	size_t n = 0;

	if (hex == NULL || strnlen(hex, AUTH_TOKEN_HEX) != AUTH_TOKEN_HEX - 1 ||
	    sodium_hex2bin(raw, AUTH_TOKEN_BYTES, hex, AUTH_TOKEN_HEX - 1, NULL, &n, NULL) != 0 ||
	    n != AUTH_TOKEN_BYTES)
		return -CB_EINVAL;
	return 0;
}

int auth_token_hash(const char *hex, unsigned char out[AUTH_HASH_BYTES])
{
	unsigned char raw[AUTH_TOKEN_BYTES];

	if (token_raw(hex, raw) != 0)
		return -CB_EINVAL;
	crypto_generichash(out, AUTH_HASH_BYTES, raw, sizeof(raw), NULL, 0);
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

int auth_csrf(const char *token_hex, char out[AUTH_TOKEN_HEX])
{
	static const char context[] = "casebot console csrf";
	unsigned char raw[AUTH_TOKEN_BYTES], mac[AUTH_TOKEN_BYTES];

	if (token_raw(token_hex, raw) != 0)
		return -CB_EINVAL;
	crypto_generichash(mac, sizeof(mac), (const unsigned char *)context, sizeof(context) - 1, raw, sizeof(raw));
	sodium_bin2hex(out, AUTH_TOKEN_HEX, mac, sizeof(mac));
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

int auth_csrf_check(const char *token_hex, const char *csrf)
{
	char want[AUTH_TOKEN_HEX];

	if (csrf == NULL || auth_csrf(token_hex, want) != 0 || strnlen(csrf, AUTH_TOKEN_HEX) != AUTH_TOKEN_HEX - 1)
		return -CB_EPERM;
	return sodium_memcmp(want, csrf, AUTH_TOKEN_HEX - 1) == 0 ? 0 : -CB_EPERM;
}
