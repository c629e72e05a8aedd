/* Documents at rest: libsodium secretstream (XChaCha20-Poly1305) in 64 KiB
 * chunks, with the key in data_dir/document.key, never in the database. */
#ifndef CASEBOT_VAULT_H
#define CASEBOT_VAULT_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define VAULT_KEY_BYTES crypto_secretstream_xchacha20poly1305_KEYBYTES

int vault_load_key(const char *data_dir, unsigned char key[VAULT_KEY_BYTES]);
/* Encrypts in to out (created 0600 through a temporary name); gives the
 * SHA-256 and the size of the plain file. */
int vault_encrypt_file(const unsigned char key[VAULT_KEY_BYTES], const char *in, const char *out,
		       unsigned char sha256[32], int64_t *size);
/* Decrypts; -CB_EPARSE when the file was altered or cut short. */
int vault_decrypt_file(const unsigned char key[VAULT_KEY_BYTES], const char *in, const char *out);
/* What a file really is, by its content (libmagic): "image/jpeg". */
int vault_sniff(const char *path, char *mime, size_t cap);

#endif
