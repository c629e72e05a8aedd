/* Exports for people outside casebot: a family's contact log, chained and
 * signed with the installation's Ed25519 key, for its lawyer; and
 * everything held about a family, for the family (GDPR Art. 15). Both go
 * to a new private directory (0700, files 0600) and are audited before a
 * byte is written. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bot/cli/cli.h"
#include "bot/vault.h"
#include "locales/locale.h"

/* SubjectPublicKeyInfo of an Ed25519 key, before its 32 bytes: what
 * openssl reads from a PEM file. */
static const unsigned char ED25519_SPKI[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b,
					     0x65, 0x70, 0x03, 0x21, 0x00};

int cli_signing_key(struct cli *c, unsigned char sk[crypto_sign_SECRETKEYBYTES])
{
	unsigned char seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
	char path[PATH_MAX];
	size_t n = 0;
	FILE *fp;
	int ok;

	if ((ok = config_signing_key_path(&c->cfg, path, sizeof(path))) != 0)
		return cli_usage_error(c, "signing_key: %s", config_file_error(ok));
	if (sodium_init() < 0)
		return cli_fail(c, "libsodium failed to start");
	if ((fp = fopen(path, "rb")) == NULL)
		return cli_fail(c, "%s: missing (casebot init makes one)", path);
	n = fread(sk, 1, crypto_sign_SECRETKEYBYTES, fp);
	ok = n == crypto_sign_SECRETKEYBYTES && fgetc(fp) == EOF;
	fclose(fp);
	/* The key's public half must be the one its seed gives. */
	if (ok) {
		crypto_sign_ed25519_sk_to_seed(seed, sk);
		crypto_sign_seed_keypair(pk, sk2, seed);
		ok = sodium_memcmp(sk2, sk, crypto_sign_SECRETKEYBYTES) == 0;
		sodium_memzero(seed, sizeof(seed));
		sodium_memzero(sk2, sizeof(sk2));
	}
	if (!ok) {
		sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
		return cli_fail(c, "%s: damaged (an Ed25519 key is %d bytes)", path, crypto_sign_SECRETKEYBYTES);
	}
	return CLI_OK;
}

int cli_check_new_dir(struct cli *c, const char *dir)
{
	struct dirent *e;
	struct stat sb;
	DIR *dp;
	int empty = 1;

	if (lstat(dir, &sb) != 0) {
		if (errno == ENOENT)
			return CLI_OK;
		return cli_usage_error(c, "%s: %s", dir, strerror(errno));
	}
	if (!S_ISDIR(sb.st_mode) || (dp = opendir(dir)) == NULL)
		return cli_usage_error(c, "%s exists and is not a directory", dir);
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(dp);
	if (!empty)
		return cli_usage_error(c, "%s is not empty; choose a new directory", dir);
	return CLI_OK;
}

/* The directory made, or the empty one made private. */
static int export_dir(struct cli *c, const char *dir)
{
	struct dirent *e;
	DIR *dp;
	int empty = 1;

	if (mkdir(dir, 0700) == 0)
		return CLI_OK;
	if (errno != EEXIST)
		return cli_usage_error(c, "%s: cannot create: %s", dir, strerror(errno));
	if ((dp = opendir(dir)) == NULL)
		return cli_usage_error(c, "%s exists and is not a directory", dir);
	while ((e = readdir(dp)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(dp);
	if (!empty)
		return cli_usage_error(c, "%s is not empty; choose a new directory", dir);
	if (chmod(dir, 0700) != 0)
		return cli_fail(c, "%s: %s", dir, strerror(errno));
	return CLI_OK;
}

static int write_file(struct cli *c, const char *dir, const char *name, const void *p, size_t n)
{
	char path[PATH_MAX];
	const unsigned char *b = p;
	int fd;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return cli_fail(c, "%s/%s: the path is too long", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return cli_fail(c, "%s: %s", path, strerror(errno));
	while (n > 0) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return cli_fail(c, "%s: %s", path, strerror(errno));
		}
		b += w;
		n -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0)
		return cli_fail(c, "%s: %s", path, strerror(errno));
	return CLI_OK;
}

static int write_text(struct cli *c, const char *dir, const char *name, const char *s)
{
	return write_file(c, dir, name, s, strlen(s));
}

static void utc_iso(time_t t, char *buf, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int collect_row(sqlite3_stmt *q, void *arg)
{
	cJSON *arr = arg, *o = cJSON_CreateObject();

	if (o == NULL || !cJSON_AddItemToArray(arr, o)) {
		cJSON_Delete(o);
		return -CB_ENOMEM;
	}
	return store_row_json(q, o);
}

static void print_report(struct cli *c, const struct family *f, const struct chain_report *r)
{
	char head[STORE_CHAIN_BYTES * 2 + 1];

	sodium_bin2hex(head, sizeof(head), r->head, sizeof(r->head));
	if (r->rows == 0) {
		fprintf(c->out, "contact log of %s: no rows%s\n", f->ref,
			r->pruned ? " (all removed by retention)" : "");
		return;
	}
	fprintf(c->out, "contact log of %s: %lld rows, #%lld to #%lld%s\n", f->ref, (long long)r->rows,
		(long long)r->first_id, (long long)r->last_id,
		r->pruned ? "; older rows were removed by retention" : "");
	if (r->broken_id == 0)
		fprintf(c->out, "chain whole; head: row #%lld %s\n", (long long)r->head_id, head);
}

int cli_log_verify(struct cli *c, const struct family *f)
{
	struct chain_report r;

	if (cli_audit(c, "log.verify", f->ref, NULL) != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	if (store_chain_verify(c->store, f->id, &r, NULL, NULL) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	print_report(c, f, &r);
	if (r.broken_id != 0)
		return cli_fail(c, "the chain of %s is broken at row #%lld: %s", f->ref, (long long)r.broken_id, r.why);
	return CLI_OK;
}

/* Writes the log (contact-log.json), its head (chain-head.txt, which holds
 * the SHA-256 of the log), the head's signature, the public key and how to
 * check them. The caller has audited the export. */
static int log_export(struct cli *c, const struct family *f, const char *dir)
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES], sig[crypto_sign_BYTES], digest[crypto_hash_sha256_BYTES];
	unsigned char spki[sizeof(ED25519_SPKI) + crypto_sign_PUBLICKEYBYTES];
	char head_hex[STORE_CHAIN_BYTES * 2 + 1], digest_hex[sizeof(digest) * 2 + 1];
	char pk_hex[crypto_sign_PUBLICKEYBYTES * 2 + 1], b64[sodium_base64_ENCODED_LEN(sizeof(spki),
						sodium_base64_VARIANT_ORIGINAL)];
	char when[32], head[1024], pem[256], rows_s[24], *json = NULL, *verify = NULL;
	struct chain_report r;
	cJSON *root = cJSON_CreateObject(), *rows = cJSON_CreateArray();
	int rc;

	if (root == NULL || rows == NULL || !cJSON_AddItemToObject(root, "rows", rows)) {
		cJSON_Delete(rows);
		rc = cli_fail(c, "out of memory");
		goto out;
	}
	if ((rc = cli_signing_key(c, sk)) != CLI_OK)
		goto out;
	if (store_chain_verify(c->store, f->id, &r, collect_row, rows) != 0) {
		rc = cli_fail(c, "%s", store_errmsg(c->store));
		goto out;
	}
	/* A signature vouches for a chain that holds, or for nothing. */
	if (r.broken_id != 0) {
		rc = cli_fail(c, "the chain of %s is broken at row #%lld: %s; nothing exported", f->ref,
			      (long long)r.broken_id, r.why);
		goto out;
	}
	utc_iso(c->now, when, sizeof(when));
	sodium_bin2hex(head_hex, sizeof(head_hex), r.head, sizeof(r.head));
	sodium_bin2hex(pk_hex, sizeof(pk_hex), sk + crypto_sign_SEEDBYTES, crypto_sign_PUBLICKEYBYTES);
	cJSON_AddStringToObject(root, "family", f->ref);
	cJSON_AddStringToObject(root, "exported_at", when);
	cJSON_AddStringToObject(root, "chain_head", head_hex);
	if ((json = cJSON_Print(root)) == NULL) {
		rc = cli_fail(c, "out of memory");
		goto out;
	}
	crypto_hash_sha256(digest, (const unsigned char *)json, strlen(json));
	sodium_bin2hex(digest_hex, sizeof(digest_hex), digest, sizeof(digest));
	snprintf(head, sizeof(head),
		 "casebot contact log\nfamily: %s\nrows: %lld (#%lld to #%lld)\nstarts after rows removed by retention: %s\n"
		 "chain head: row #%lld %s\ncontact-log.json sha256: %s\nexported at: %s\npublic key: %s\n",
		 f->ref, (long long)r.rows, (long long)r.first_id, (long long)r.last_id, r.pruned ? "yes" : "no",
		 (long long)r.head_id, head_hex, digest_hex, when, pk_hex);
	crypto_sign_detached(sig, NULL, (const unsigned char *)head, strlen(head), sk);
	memcpy(spki, ED25519_SPKI, sizeof(ED25519_SPKI));
	memcpy(spki + sizeof(ED25519_SPKI), sk + crypto_sign_SEEDBYTES, crypto_sign_PUBLICKEYBYTES);
	sodium_bin2base64(b64, sizeof(b64), spki, sizeof(spki), sodium_base64_VARIANT_ORIGINAL);
	snprintf(pem, sizeof(pem), "-----BEGIN PUBLIC KEY-----\n%s\n-----END PUBLIC KEY-----\n", b64);
	snprintf(rows_s, sizeof(rows_s), "%lld", (long long)r.rows);
	{
		const struct locale_param p[] = {{"ref", f->ref}, {"rows", rows_s}, {"head", head_hex}, {"key", pk_hex}};
		size_t cap = 16384;

		if ((verify = malloc(cap)) == NULL) {
			rc = cli_fail(c, "out of memory");
			goto out;
		}
		if (locale_render(c->loc, f->lang, "export.log_verify", p, CB_ARRAY_SIZE(p), verify, cap) != 0) {
			rc = cli_fail(c, "export.log_verify: cannot render");
			goto out;
		}
	}
	if ((rc = export_dir(c, dir)) != CLI_OK || (rc = write_text(c, dir, "contact-log.json", json)) != CLI_OK ||
	    (rc = write_text(c, dir, "chain-head.txt", head)) != CLI_OK ||
	    (rc = write_file(c, dir, "chain-head.sig", sig, sizeof(sig))) != CLI_OK ||
	    (rc = write_text(c, dir, "signing-key.pem", pem)) != CLI_OK ||
	    (rc = write_text(c, dir, "VERIFY.txt", verify)) != CLI_OK)
		goto out;
	fprintf(c->out, "contact log of %s (%lld rows, head #%lld) exported to %s, signed\n", f->ref, (long long)r.rows,
		(long long)r.head_id, dir);
	rc = CLI_OK;
out:
	sodium_memzero(sk, sizeof(sk));
	cJSON_Delete(root);
	free(json);
	free(verify);
	return rc;
}

/* Rows written before the chain began are sealed into it first, in the
 * same transaction as the audit row. */
int cli_log_export(struct cli *c, const struct family *f, const char *dir)
{
	int rc;

	if ((rc = cli_check_new_dir(c, dir)) != CLI_OK || (rc = cli_open_locales(c)) != CLI_OK)
		return rc;
	if (store_begin(c->store) != 0 || store_chain_seal(c->store, f->id) != 0 ||
	    cli_audit(c, "log.export", f->ref, NULL) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return log_export(c, f, dir);
}

static const char *extension(const char *mime)
{
	static const char *const map[][2] = {
		{"image/jpeg", "jpg"}, {"image/png", "png"}, {"image/webp", "webp"},
		{"image/heic", "heic"}, {"image/heif", "heif"}, {"application/pdf", "pdf"},
	};

	for (size_t i = 0; i < CB_ARRAY_SIZE(map); i++)
		if (strcmp(mime, map[i][0]) == 0)
			return map[i][1];
	return "bin";
}

struct docs_ctx {
	struct cli *c;
	const char *dir;
	const unsigned char *key;
	int rc, n;
};

static int export_doc(const void *rec, void *arg)
{
	const struct document *d = rec;
	struct docs_ctx *x = arg;
	char src[PATH_MAX], dst[PATH_MAX];
	int rc;

	snprintf(src, sizeof(src), "%s/%s", x->c->cfg.data_dir, d->path);
	if (snprintf(dst, sizeof(dst), "%s/documents/document-%lld.%s", x->dir, (long long)d->id,
		     extension(d->mime)) >= (int)sizeof(dst)) {
		x->rc = cli_fail(x->c, "%s: the path is too long", x->dir);
		return -CB_ETOOBIG;
	}
	if ((rc = vault_decrypt_file(x->key, src, dst)) != 0) {
		x->rc = cli_fail(x->c, "document #%lld: %s", (long long)d->id,
				 rc == -CB_EPARSE ? "damaged or altered" : casebot_strerror(rc));
		return rc;
	}
	x->n++;
	return 0;
}

static int count(const cJSON *root, const char *name, char *buf, size_t cap)
{
	return snprintf(buf, cap, "%d", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, name)));
}

struct names {
	char buf[2048];
};

static int add_name(const void *rec, void *arg)
{
	const struct member *m = rec;
	struct names *n = arg;
	size_t len = strlen(n->buf);

	snprintf(n->buf + len, sizeof(n->buf) - len, "%s%s", len > 0 ? ", " : "", m->name);
	return 0;
}

static int cmd_family_export(struct cli *c, int argc, char **argv)
{
	unsigned char key[VAULT_KEY_BYTES];
	char path[PATH_MAX], date[96], napp[16], ndoc[16], ncon[16], *json = NULL, *summary = NULL;
	struct docs_ctx docs = {c, NULL, key, CLI_OK, 0};
	struct names names = {{0}};
	struct family f;
	cJSON *root = NULL;
	const char *dir;
	int rc;

	sodium_memzero(key, sizeof(key));
	if ((rc = cli_args_only(c, argc, argv, 2, "REF DIR")) != CLI_OK)
		return rc;
	dir = argv[optind + 1];
	docs.dir = dir;
	if ((rc = cli_open_store(c)) != CLI_OK || (rc = cli_family(c, argv[optind], &f)) != CLI_OK ||
	    (rc = cli_open_locales(c)) != CLI_OK)
		return rc;
	if ((rc = cli_check_new_dir(c, dir)) != CLI_OK)
		return rc;
	if (config_document_key_path(&c->cfg, path, sizeof(path)) != 0 || vault_load_key(path, key) != 0)
		return cli_fail(c, "%s: missing or damaged", path);
	/* The export is in the audit trail before any of it is written. */
	if (store_begin(c->store) != 0 || store_chain_seal(c->store, f.id) != 0 ||
	    cli_audit(c, "family.export", f.ref, NULL) != CLI_OK || store_commit(c->store) != 0) {
		rc = cli_fail(c, "%s", store_errmsg(c->store));
		goto out;
	}
	if ((root = cJSON_CreateObject()) == NULL || store_family_dump(c->store, f.id, f.ref, root) != 0 ||
	    (json = cJSON_Print(root)) == NULL) {
		rc = cli_fail(c, "%s", store_errmsg(c->store));
		goto out;
	}
	if ((rc = export_dir(c, dir)) != CLI_OK || (rc = write_text(c, dir, "family.json", json)) != CLI_OK)
		goto out;
	snprintf(path, sizeof(path), "%s/documents", dir);
	if (mkdir(path, 0700) != 0) {
		rc = cli_fail(c, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (store_document_each(c->store, f.id, export_doc, &docs) != 0) {
		rc = docs.rc != CLI_OK ? docs.rc : cli_fail(c, "%s", store_errmsg(c->store));
		goto out;
	}
	if (store_member_each(c->store, f.id, add_name, &names) != 0) {
		rc = cli_fail(c, "%s", store_errmsg(c->store));
		goto out;
	}
	locale_format_date(c->loc, f.lang, c->now, date, sizeof(date));
	count(root, "appointments", napp, sizeof(napp));
	count(root, "documents", ndoc, sizeof(ndoc));
	count(root, "contact_log", ncon, sizeof(ncon));
	{
		const struct locale_param p[] = {{"ref", f.ref}, {"date", date}, {"members", names.buf[0] ? names.buf : "-"},
						 {"appointments", napp}, {"documents", ndoc}, {"contacts", ncon}};
		size_t cap = 16384;

		if ((summary = malloc(cap)) == NULL ||
		    locale_render(c->loc, f.lang, "export.summary", p, CB_ARRAY_SIZE(p), summary, cap) != 0) {
			rc = cli_fail(c, "export.summary: cannot render");
			goto out;
		}
	}
	if ((rc = write_text(c, dir, "summary.txt", summary)) != CLI_OK)
		goto out;
	/* The contact log again, signed, for whoever must rely on it. */
	snprintf(path, sizeof(path), "%s/contact-log", dir);
	if ((rc = log_export(c, &f, path)) != CLI_OK)
		goto out;
	fprintf(c->out, "everything held about %s written to %s (%d documents decrypted)\n", f.ref, dir, docs.n);
out:
	sodium_memzero(key, sizeof(key));
	cJSON_Delete(root);
	free(json);
	free(summary);
	return rc;
}

const struct cli_command cli_export_commands[] = {
	{"family", "export", cmd_family_export, "REF DIR",
	 "Write everything held about a family into a new directory, documents decrypted, with a summary in the "
	 "family's language (subject access; audited)."},
	{0},
};
