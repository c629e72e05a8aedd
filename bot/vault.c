#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/casebot.h"
#include "bot/vault.h"

#define CHUNK 65536
#define SS_ABYTES crypto_secretstream_xchacha20poly1305_ABYTES
#define SS_HEADER crypto_secretstream_xchacha20poly1305_HEADERBYTES

int vault_load_key(const char *path, unsigned char key[VAULT_KEY_BYTES])
{
	FILE *fp;
	size_t n;

	if (sodium_init() < 0)
		return -CB_EIO;
	if ((fp = fopen(path, "rb")) == NULL)
		return -CB_ENOENT;
	n = fread(key, 1, VAULT_KEY_BYTES, fp);
	fclose(fp);
	return n == VAULT_KEY_BYTES ? 0 : -CB_EINVAL;
}

FILE *vault_create_private(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *fp;

	if (fd < 0)
		return NULL;
	if ((fp = fdopen(fd, "wb")) == NULL)
		close(fd);
	return fp;
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -CB_EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void stream_close(struct vault_stream *s)
{
	if (s->buf != NULL) {
		sodium_memzero(s->buf, CHUNK);
		free(s->buf);
		s->buf = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	sodium_memzero(&s->ss, sizeof(s->ss));
	sodium_memzero(&s->mac, sizeof(s->mac));
}

/* The hash that identifies a document is keyed with a key derived from the
 * document key: someone holding a known file cannot confirm that a family
 * sent it. */
int vault_stream_open(struct vault_stream *s, const unsigned char key[VAULT_KEY_BYTES], const char *path)
{
	unsigned char header[SS_HEADER], mkey[crypto_generichash_KEYBYTES];
	int rc;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (sodium_init() < 0)
		return -CB_EIO;
	if (cb_strlcpy(s->path, path, sizeof(s->path)) != 0 ||
	    snprintf(s->tmp, sizeof(s->tmp), "%s.part", path) >= (int)sizeof(s->tmp))
		return -CB_ETOOBIG;
	if ((s->buf = malloc(CHUNK)) == NULL)
		return -CB_ENOMEM;
	s->fd = open(s->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (s->fd < 0) {
		stream_close(s);
		return -CB_EIO;
	}
	crypto_kdf_derive_from_key(mkey, sizeof(mkey), 1, "cbdocmac", key);
	crypto_generichash_init(&s->mac, mkey, sizeof(mkey), VAULT_MAC_BYTES);
	sodium_memzero(mkey, sizeof(mkey));
	crypto_secretstream_xchacha20poly1305_init_push(&s->ss, header, key);
	if ((rc = write_all(s->fd, header, sizeof(header))) != 0)
		vault_stream_abort(s);
	return rc;
}

static int push(struct vault_stream *s, unsigned char tag)
{
	unsigned char enc[CHUNK + SS_ABYTES];
	unsigned long long elen;
	int rc;

	crypto_secretstream_xchacha20poly1305_push(&s->ss, enc, &elen, s->buf, s->len, NULL, 0, tag);
	rc = write_all(s->fd, enc, (size_t)elen);
	s->len = 0;
	return rc;
}

int vault_stream_write(struct vault_stream *s, const void *p, size_t n)
{
	const unsigned char *b = p;
	int rc;

	if (s->fd < 0)
		return -CB_ESTATE;
	crypto_generichash_update(&s->mac, b, n);
	s->total += (int64_t)n;
	while (n > 0) {
		size_t take = CHUNK - s->len < n ? CHUNK - s->len : n;

		memcpy(s->buf + s->len, b, take);
		s->len += take;
		b += take;
		n -= take;
		/* A full chunk goes out at once; the final one, possibly empty,
		 * is sealed by finish. */
		if (s->len == CHUNK && (rc = push(s, 0)) != 0) {
			vault_stream_abort(s);
			return rc;
		}
	}
	return 0;
}

int vault_stream_finish(struct vault_stream *s, unsigned char mac[VAULT_MAC_BYTES], int64_t *size)
{
	int rc;

	if (s->fd < 0)
		return -CB_ESTATE;
	rc = push(s, crypto_secretstream_xchacha20poly1305_TAG_FINAL);
	if (rc == 0 && fsync(s->fd) != 0)
		rc = -CB_EIO;
	if (rc == 0) {
		int fd = s->fd;

		s->fd = -1;
		if (close(fd) != 0 || rename(s->tmp, s->path) != 0)
			rc = -CB_EIO;
	}
	if (rc != 0) {
		vault_stream_abort(s);
		return rc;
	}
	crypto_generichash_final(&s->mac, mac, VAULT_MAC_BYTES);
	*size = s->total;
	stream_close(s);
	return 0;
}

void vault_stream_abort(struct vault_stream *s)
{
	stream_close(s);
	if (s->tmp[0] != '\0')
		unlink(s->tmp);
}

int vault_encrypt_buffer(const unsigned char key[VAULT_KEY_BYTES], const void *p, size_t n, const char *path,
			 unsigned char mac[VAULT_MAC_BYTES])
{
	struct vault_stream s;
	int64_t size;
	int rc;

	if ((rc = vault_stream_open(&s, key, path)) != 0 || (rc = vault_stream_write(&s, p, n)) != 0)
		return rc;
	return vault_stream_finish(&s, mac, &size);
}

int vault_decrypt(const unsigned char key[VAULT_KEY_BYTES], const char *in, vault_sink_fn sink, void *arg)
{
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char header[SS_HEADER], tag = 0;
	static unsigned char enc[CHUNK + SS_ABYTES], buf[CHUNK];
	FILE *src;
	int rc = -CB_EPARSE;

	if ((src = fopen(in, "rb")) == NULL)
		return -CB_ENOENT;
	if (fread(header, 1, sizeof(header), src) != sizeof(header) ||
	    crypto_secretstream_xchacha20poly1305_init_pull(&st, header, key) != 0)
		goto out;
	while (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		size_t n = fread(enc, 1, sizeof(enc), src);
		unsigned long long len;

		if (n == 0 || crypto_secretstream_xchacha20poly1305_pull(&st, buf, &len, &tag, enc, n,
									 NULL, 0) != 0) {
			rc = -CB_EPARSE;     /* altered, or cut before its final chunk */
			goto out;
		}
		if ((rc = sink(buf, (size_t)len, arg)) != 0)
			goto out;
	}
	rc = fgetc(src) == EOF ? 0 : -CB_EPARSE;
out:
	sodium_memzero(buf, sizeof(buf));
	fclose(src);
	return rc;
}

static int file_sink(const void *p, size_t n, void *arg)
{
	return fwrite(p, 1, n, arg) == n ? 0 : -CB_EIO;
}

int vault_decrypt_file(const unsigned char key[VAULT_KEY_BYTES], const char *in, const char *out)
{
	FILE *dst;
	int rc;

	if (access(in, R_OK) != 0)
		return -CB_ENOENT;
	if ((dst = vault_create_private(out)) == NULL)
		return -CB_EIO;
	rc = vault_decrypt(key, in, file_sink, dst);
	if (fclose(dst) != 0 && rc == 0)
		rc = -CB_EIO;
	if (rc != 0)
		unlink(out);
	return rc;
}

int vault_sniff_buffer(const void *p, size_t n, char *mime, size_t cap)
{
	magic_t m = magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS);
	const char *t;
	int rc = -CB_EIO;

	if (m == NULL)
		return -CB_ENOMEM;
	if (magic_load(m, NULL) == 0 && (t = magic_buffer(m, p, n)) != NULL)
		rc = cb_strlcpy(mime, t, cap);
	magic_close(m);
	return rc;
}

int vault_clear_dir(const char *dir, int remove_dir)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *dp;
	int rc = 0;

	if ((dp = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -CB_EIO;
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) || unlink(path) != 0)
			rc = -CB_EIO;
	}
	closedir(dp);
	if (rc == 0 && remove_dir && rmdir(dir) != 0)
		rc = -CB_EIO;
	return rc;
}
