#include <fcntl.h>
#include <limits.h>
#include <magic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bot/casebot.h"
#include "bot/vault.h"

#define CHUNK 65536
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define SS_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES

int vault_load_key(const char *data_dir, unsigned char key[VAULT_KEY_BYTES])
{
	char path[PATH_MAX];
	FILE *fp;
	size_t n;

	if (sodium_init() < 0)
		return -CB_EIO;
	snprintf(path, sizeof(path), "%s/document.key", data_dir);
	if ((fp = fopen(path, "rb")) == NULL)
		return -CB_ENOENT;
	n = fread(key, 1, VAULT_KEY_BYTES, fp);
	fclose(fp);
	return n == VAULT_KEY_BYTES ? 0 : -CB_EINVAL;
}

static FILE *create_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	FILE *fp;

	if (fd < 0)
		return NULL;
	if ((fp = fdopen(fd, "wb")) == NULL)
		close(fd);
	return fp;
}

int vault_encrypt_file(const unsigned char key[VAULT_KEY_BYTES], const char *in, const char *out,
		       unsigned char sha256[32], int64_t *size)
{
	crypto_secretstream_xchacha20poly1305_state st;
	crypto_hash_sha256_state h;
	unsigned char header[SS_HEADER];
	static unsigned char buf[CHUNK], enc[CHUNK + SS_ABYTES];
	char tmp[PATH_MAX];
	FILE *src = NULL, *dst = NULL;
	int64_t total = 0;
	int rc = -CB_EIO, eof;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", out) >= (int)sizeof(tmp))
		return -CB_ETOOBIG;
	if ((src = fopen(in, "rb")) == NULL || (dst = create_private(tmp)) == NULL)
		goto out;
	crypto_secretstream_xchacha20poly1305_init_push(&st, header, key);
	crypto_hash_sha256_init(&h);
	if (fwrite(header, 1, sizeof(header), dst) != sizeof(header))
		goto out;
	do {
		size_t n = fread(buf, 1, sizeof(buf), src);
		unsigned long long elen;

		if (ferror(src))
			goto out;
		eof = feof(src);
		crypto_hash_sha256_update(&h, buf, n);
		crypto_secretstream_xchacha20poly1305_push(&st, enc, &elen, buf, n, NULL, 0,
			eof ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : 0);
		if (fwrite(enc, 1, (size_t)elen, dst) != elen)
			goto out;
		total += (int64_t)n;
	} while (!eof);
	crypto_hash_sha256_final(&h, sha256);
	if (fflush(dst) != 0 || fsync(fileno(dst)) != 0)
		goto out;
	rc = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	if (src != NULL)
		fclose(src);
	if (dst != NULL && fclose(dst) != 0)
		rc = -CB_EIO;
	if (rc == 0 && rename(tmp, out) != 0)
		rc = -CB_EIO;
	if (rc != 0)
		unlink(tmp);
	else
		*size = total;
	return rc;
}

int vault_decrypt_file(const unsigned char key[VAULT_KEY_BYTES], const char *in, const char *out)
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char header[SS_HEADER], tag = 0;
	static unsigned char enc[CHUNK + SS_ABYTES], buf[CHUNK];
	FILE *src = NULL, *dst = NULL;
	int rc = -CB_EIO;

	if ((src = fopen(in, "rb")) == NULL)
		return -CB_ENOENT;
	if ((dst = create_private(out)) == NULL)
		goto out;
	if (fread(header, 1, sizeof(header), src) != sizeof(header) ||
	    crypto_secretstream_xchacha20poly1305_init_pull(&st, header, key) != 0) {
		rc = -CB_EPARSE;
		goto out;
	}
	while (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		size_t n = fread(enc, 1, sizeof(enc), src);
		unsigned long long len;

		if (n == 0 || crypto_secretstream_xchacha20poly1305_pull(&st, buf, &len, &tag, enc, n,
									 NULL, 0) != 0) {
			rc = -CB_EPARSE;     /* altered, or cut before its final chunk */
			goto out;
		}
		if (fwrite(buf, 1, (size_t)len, dst) != len)
			goto out;
	}
	rc = fgetc(src) == EOF ? 0 : -CB_EPARSE;
out:
	sodium_memzero(buf, sizeof(buf));
	fclose(src);
	if (dst != NULL && fclose(dst) != 0 && rc == 0)
		rc = -CB_EIO;
	if (rc != 0 && dst != NULL)
		unlink(out);
	return rc;
}

int vault_sniff(const char *path, char *mime, size_t cap)
{
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
	const char *t;
	int rc = -CB_EIO;

	if (m == NULL)
		return -CB_ENOMEM;
	if (magic_load(m, NULL) == 0 && (t = magic_file(m, path)) != NULL)
		rc = cb_strlcpy(mime, t, cap);
	magic_close(m);
	return rc;
}
