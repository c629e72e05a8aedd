/* The console's secrets: argon2id passwords (libsodium), TOTP codes
 * (RFC 6238, liboath), session tokens and the CSRF tokens derived from
 * them. Nothing here keeps state; the store keeps what must last. */
#ifndef CASEBOT_AUTH_H
#define CASEBOT_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sodium.h>

#define AUTH_TOKEN_BYTES 32                  /* 256 bits */
#define AUTH_TOKEN_HEX (2 * AUTH_TOKEN_BYTES + 1)
#define AUTH_HASH_BYTES 32
#define AUTH_PWHASH_MAX crypto_pwhash_STRBYTES
#define AUTH_TOTP_SECRET_BYTES 20            /* 160 bits, as RFC 4226 advises */
#define AUTH_TOTP_B32_MAX 64
#define AUTH_PASSWORD_MIN 10
#define AUTH_PASSWORD_MAX 1024

/* argon2id, libsodium's interactive limits. -CB_EINVAL for a password
 * shorter than AUTH_PASSWORD_MIN or longer than AUTH_PASSWORD_MAX. */
int auth_password_hash(const char *password, char out[AUTH_PWHASH_MAX]);
/* 0 when password matches hash, -CB_EPERM otherwise. With hash NULL or
 * "" it still spends the time of one check, so that an unknown name
 * answers as slowly as a known one. */
int auth_password_check(const char *hash, const char *password);

/* A new random secret, base32 without padding. */
int auth_totp_new(char out[AUTH_TOTP_B32_MAX]);
/* otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=...; both names are
 * percent-encoded. */
int auth_totp_uri(const char *issuer, const char *account, const char *secret, char *out, size_t cap);
/* 0 when code (6 to 8 digits) is the code of secret at now or one step
 * either side; *step is the time step it matched. flags: 0 (SHA-1, what
 * authenticator apps use) or liboath's OATH_TOTP_HMAC_SHA256/512. */
int auth_totp_check(const char *secret, time_t now, const char *code, int flags, int64_t *step);

/* A random token as hex, and its hash as the store keeps it. */
void auth_token_new(char hex[AUTH_TOKEN_HEX]);
/* -CB_EINVAL when hex is not a token. */
int auth_token_hash(const char *hex, unsigned char out[AUTH_HASH_BYTES]);
/* The CSRF token of a session (or of the login form's cookie): a keyed
 * hash of its token, so that it needs no storage and dies with it. */
int auth_csrf(const char *token_hex, char out[AUTH_TOKEN_HEX]);
/* 0 when csrf belongs to token_hex (constant time), -CB_EPERM otherwise. */
int auth_csrf_check(const char *token_hex, const char *csrf);

#endif
