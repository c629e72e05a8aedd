/* Documents at rest: libsodium secretstream (XChaCha20-Poly1305) in 64 KiB
 * chunks, with the key in its own file (data_dir/document.key or the
 * configured document_key), never in the database. A document is encrypted
 * as it arrives, from memory: its plain bytes never reach a disk. */
#ifndef CASEBOT_VAULT_H
#define CASEBOT_VAULT_H

#include <limits.h>
#include <sodium.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define VAULT_KEY_BYTES crypto_secretstream_xchacha20poly1305_KEYBYTES
#define VAULT_MAC_BYTES 32          /* the keyed hash of a plain document */
#define VAULT_SNIFF_BYTES 16384     /* what libmagic sees of a download */

/* Reads the 32-byte key file at path. */
int vault_load_key(const char *path, unsigned char key[VAULT_KEY_BYTES]);

/* A document being encrypted while it streams in: written under a
 * temporary name beside its final path, renamed by vault_stream_finish,
 * removed by vault_stream_abort. */
struct vault_stream {
	crypto_secretstream_xchacha20poly1305_state ss;
	crypto_generichash_state mac;
	unsigned char *buf;             /* one plain chunk, wiped on close */
	size_t len;
	int fd;
	int64_t total;
	char tmp[PATH_MAX], path[PATH_MAX];
};

int vault_stream_open(struct vault_stream *s, const unsigned char key[VAULT_KEY_BYTES], const char *path);
int vault_stream_write(struct vault_stream *s, const void *p, size_t n);
/* Seals the last chunk, syncs and renames; gives the keyed hash of the
 * plain bytes and their count. The stream is closed either way. */
int vault_stream_finish(struct vault_stream *s, unsigned char mac[VAULT_MAC_BYTES], int64_t *size);
void vault_stream_abort(struct vault_stream *s);

/* Encrypts a buffer to a new file at path, as the stream does. */
int vault_encrypt_buffer(const unsigned char key[VAULT_KEY_BYTES], const void *p, size_t n, const char *path,
			 unsigned char mac[VAULT_MAC_BYTES]);
/* Decrypts in chunks to sink (its nonzero answer stops it and is
 * returned); -CB_EPARSE when the file was altered or cut short. The
 * chunks are wiped after the sink has them. */
typedef int (*vault_sink_fn)(const void *p, size_t n, void *arg);
int vault_decrypt(const unsigned char key[VAULT_KEY_BYTES], const char *in, vault_sink_fn sink, void *arg);
/* A new file (never one that exists, never through a link) only its owner
 * reads: 0600. */
FILE *vault_create_private(const char *path);
/* Decrypts to a new private file. */
int vault_decrypt_file(const unsigned char key[VAULT_KEY_BYTES], const char *in, const char *out);
/* What the first bytes of a file say it is (libmagic): "image/jpeg". */
int vault_sniff_buffer(const void *p, size_t n, char *mime, size_t cap);

/* Deletes every file in dir (not below it), then dir itself if asked; a
 * missing dir is fine. */
int vault_clear_dir(const char *dir, int remove_dir);

#endif
