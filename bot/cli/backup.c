/* casebot backup, casebot restore: the database (SQLite's online backup
 * API, while the daemon runs), the documents as they are stored (still
 * encrypted) and the key files, to a new directory or a tar stream, and
 * back into a new data directory.
 *
 * A backup is the database at one moment (the snapshot) and exactly the
 * document files its rows name: a stored document's file is written before
 * its row and never changed, and only erasing its family removes it, after
 * the erasing transaction. So the snapshot is taken first, then the files
 * it names are copied; a family erased while the backup runs is erased
 * from the copy too (rows, files, and a VACUUM), so that a backup that
 * ends after an erasure never brings that family back. */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/log.h"
#include "bot/vault.h"

#define DB_NAME "casebot.db"
#define DOC_KEY_NAME "document.key"
#define SIGN_KEY_NAME "signing.key"
#define COPY_CHUNK 65536
/* A stage is a directory beside DEST or in the data directory: paths
 * below it stay well under PATH_MAX. */
#define STAGE_MAX (PATH_MAX / 2)

/* What a backup holds, counted as it is made or read. */
struct tally {
	int files;
	long long bytes;
};

/* A document's stored path: documents/<family id>/<name>, the name
 * without a slash and not starting with a dot. Anything else in a
 * database or a tar stream is not followed. */
static int doc_path_ok(const char *p)
{
	const char *s = p + strlen("documents/"), *name;

	if (strncmp(p, "documents/", strlen("documents/")) != 0 || !isdigit((unsigned char)*s))
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	if (*s != '/' || s[1] == '\0' || s[1] == '.')
		return 0;
	for (name = s + 1; *name != '\0'; name++)
		if (!isalnum((unsigned char)*name) && *name != '.' && *name != '_' && *name != '-')
			return 0;
	return 1;
}

/* dir/name into out; -CB_ETOOBIG when it does not fit. */
static int join(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);

	return n < 0 || (size_t)n >= cap ? -CB_ETOOBIG : 0;
}

/* Calls fn for a tree: a directory before its entries (after 0) and once
 * more after them (after 1), anything else once (after 0). rel is the
 * path below the root ("" for the root). */
typedef int (*walk_fn)(const char *path, const char *rel, const struct stat *sb, int after, void *arg);

static int walk(const char *path, const char *rel, walk_fn fn, void *arg)
{
	char sub[PATH_MAX], subrel[PATH_MAX];
	struct dirent *e;
	struct stat sb;
	DIR *dp;
	int rc;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? -CB_ENOENT : -CB_EIO;
	if ((rc = fn(path, rel, &sb, 0, arg)) != 0 || !S_ISDIR(sb.st_mode))
		return rc;
	if ((dp = opendir(path)) == NULL)
		return -CB_EIO;
	while (rc == 0 && (e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (join(sub, sizeof(sub), path, e->d_name) != 0 ||
		    snprintf(subrel, sizeof(subrel), "%s%s%s", rel, rel[0] != '\0' ? "/" : "", e->d_name) >=
			    (int)sizeof(subrel))
			rc = -CB_ETOOBIG;
		else
			rc = walk(sub, subrel, fn, arg);
	}
	closedir(dp);
	return rc != 0 ? rc : fn(path, rel, &sb, 1, arg);
}

static int rm_entry(const char *path, const char *rel, const struct stat *sb, int after, void *arg)
{
	(void)rel;
	(void)arg;
	if (S_ISDIR(sb->st_mode))
		return after && rmdir(path) != 0 ? -CB_EIO : 0;
	return unlink(path) != 0 ? -CB_EIO : 0;
}

static void rmtree(const char *path)
{
	if (path[0] != '\0')
		walk(path, "", rm_entry, NULL);
}

/* Flushed, synced and closed: 0, or -CB_EIO when any of it failed. */
static int close_synced(FILE *fp, int rc)
{
	if (rc == 0 && (fflush(fp) != 0 || fsync(fileno(fp)) != 0))
		rc = -CB_EIO;
	if (fclose(fp) != 0 && rc == 0)
		rc = -CB_EIO;
	return rc;
}

/* A new private file at dst with src's bytes, synced; with may_link, a
 * hard link when src is on the same file system (a stored document never
 * changes, so the link is the copy). -CB_ENOENT when src is missing. */
static int copy_file(const char *src, const char *dst, int may_link, struct tally *t)
{
	unsigned char buf[COPY_CHUNK];
	struct stat sb;
	FILE *in, *out;
	int fd, rc = 0;
	size_t n;

	if (may_link && link(src, dst) == 0) {
		if (stat(dst, &sb) != 0)
			return -CB_EIO;
		t->files++;
		t->bytes += sb.st_size;
		return 0;
	}
	if ((fd = open(src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? -CB_ENOENT : -CB_EIO;
	if ((in = fdopen(fd, "rb")) == NULL) {
		close(fd);
		return -CB_EIO;
	}
	if ((out = vault_create_private(dst)) == NULL) {
		fclose(in);
		return -CB_EIO;
	}
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
		rc = fwrite(buf, 1, n, out) == n ? 0 : -CB_EIO;
		t->bytes += (long long)n;
	}
	if (rc == 0 && ferror(in))
		rc = -CB_EIO;
	fclose(in);
	if ((rc = close_synced(out, rc)) != 0)
		unlink(dst);
	else
		t->files++;
	return rc;
}

/* documents/ and documents/<family>/ under root, for rel. */
static int make_doc_dirs(const char *root, const char *rel)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(rel, '/');

	snprintf(dir, sizeof(dir), "%s/documents", root);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return -CB_EIO;
	if (snprintf(dir, sizeof(dir), "%s/%.*s", root, (int)(slash - rel), rel) >= (int)sizeof(dir))
		return -CB_ETOOBIG;
	return mkdir(dir, 0700) != 0 && errno != EEXIST ? -CB_EIO : 0;
}

/* Where the key files are: the document key (a backup needs it, or its
 * documents could never be opened) and the signing key (taken along when
 * there is one). */
static int key_paths(struct cli *c, char doc[PATH_MAX], char sign[PATH_MAX])
{
	int rc;

	if ((rc = config_document_key_path(&c->cfg, doc, PATH_MAX)) != 0 ||
	    (rc = config_signing_key_path(&c->cfg, sign, PATH_MAX)) != 0)
		return cli_usage_error(c, "document_key or signing_key: %s", config_file_error(rc));
	return CLI_OK;
}

/* Backup */

struct backup {
	struct cli *c;
	struct store *copy;
	char stage[STAGE_MAX];
	int may_link;
	struct tally t;
	int64_t missing_family;   /* a family whose file was gone: erased since the snapshot */
	char err[PATH_MAX + 128];
};

static int backup_doc(int64_t id, int64_t family_id, const char *rel, void *arg)
{
	struct backup *b = arg;
	char src[PATH_MAX], dst[PATH_MAX];
	int rc;

	if (!doc_path_ok(rel)) {
		snprintf(b->err, sizeof(b->err), "document #%lld has a path casebot does not make", (long long)id);
		return -CB_EPARSE;
	}
	if (join(src, sizeof(src), b->c->cfg.data_dir, rel) != 0 ||
	    join(dst, sizeof(dst), b->stage, rel) != 0 ||
	    make_doc_dirs(b->stage, rel) != 0) {
		snprintf(b->err, sizeof(b->err), "%s: cannot write", b->stage);
		return -CB_EIO;
	}
	rc = copy_file(src, dst, b->may_link, &b->t);
	if (rc == -CB_ENOENT) {
		/* Checked once the copy has lost the families erased since. */
		b->missing_family = family_id;
		return 0;
	}
	if (rc != 0)
		snprintf(b->err, sizeof(b->err), "document #%lld: cannot copy its file: %s", (long long)id,
			 strerror(errno));
	return rc;
}

struct pruned {
	struct backup *b;
	int failed;
};

static void pruned_file(const char *rel, void *arg)
{
	struct pruned *p = arg;
	char path[PATH_MAX];
	struct stat sb;

	if (!doc_path_ok(rel) || join(path, sizeof(path), p->b->stage, rel) != 0 ||
	    lstat(path, &sb) != 0)
		return;
	if (unlink(path) != 0) {
		p->failed = 1;
		return;
	}
	p->b->t.files--;
	p->b->t.bytes -= sb.st_size;
	/* Its family's folder goes with its last file. */
	*strrchr(path, '/') = '\0';
	rmdir(path);
}

static int still_missing(int64_t id, int64_t family_id, const char *rel, void *arg)
{
	struct backup *b = arg;
	char path[PATH_MAX];

	(void)family_id;
	join(path, sizeof(path), b->stage, rel);
	if (access(path, F_OK) == 0)
		return 0;
	snprintf(b->err, sizeof(b->err), "document #%lld has no file in %s/documents", (long long)id,
		 b->c->cfg.data_dir);
	return -CB_ENOENT;
}

/* The copy's documents, then the families erased since the snapshot out
 * of it, then each document row left must have its file. */
static int backup_documents(struct backup *b)
{
	struct cli *c = b->c;
	struct pruned p = {b, 0};
	char err[512];
	int rc, erased;

	if (store_open(b->stage, 0, &b->copy, err, sizeof(err)) != 0)
		return cli_fail(c, "the copy: %s", err);
	if ((rc = store_backup_each_document(b->copy, backup_doc, b)) != 0)
		return b->err[0] != '\0' ? cli_fail(c, "%s", b->err) : cli_fail(c, "%s", store_errmsg(b->copy));
	if (store_backup_prune(b->copy, c->store, c->now, pruned_file, &p, &erased) != 0 || p.failed)
		return cli_fail(c, "the copy: cannot erase a family erased since: %s", store_errmsg(b->copy));
	if (b->missing_family != 0 && store_backup_each_document(b->copy, still_missing, b) != 0)
		return cli_fail(c, "%s", b->err[0] != '\0' ? b->err : store_errmsg(b->copy));
	/* One file, with no log beside it, whoever opens it next. */
	if (sqlite3_exec(store_db(b->copy), "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
		return cli_fail(c, "the copy: %s", store_errmsg(b->copy));
	store_close(b->copy);
	b->copy = NULL;
	return CLI_OK;
}

/* The tar stream: every file of the stage, with its mode, in one pax
 * archive on the command's output. */
struct tar {
	struct archive *a;
	time_t now;
};

static int tar_entry(const char *path, const char *rel, const struct stat *sb, int after, void *arg)
{
	struct tar *t = arg;
	struct archive_entry *e;
	unsigned char buf[COPY_CHUNK];
	ssize_t n;
	int fd = -1, rc = 0;

	if (rel[0] == '\0' || after)
		return 0;
	if ((e = archive_entry_new()) == NULL)
		return -CB_ENOMEM;
	archive_entry_set_pathname(e, rel);
	archive_entry_set_mtime(e, t->now, 0);
	if (S_ISDIR(sb->st_mode)) {
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, 0700);
	} else {
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0600);
		archive_entry_set_size(e, sb->st_size);
		if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			rc = -CB_EIO;
	}
	if (rc == 0 && archive_write_header(t->a, e) != ARCHIVE_OK)
		rc = -CB_EIO;
	while (rc == 0 && fd >= 0 && (n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || archive_write_data(t->a, buf, (size_t)n) != n)
			rc = -CB_EIO;
	}
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return rc;
}

static int write_tar(struct cli *c, const char *stage)
{
	struct tar t = {archive_write_new(), c->now};
	int rc = CLI_OK;

	if (t.a == NULL || archive_write_set_format_pax_restricted(t.a) != ARCHIVE_OK ||
	    archive_write_open_FILE(t.a, c->out) != ARCHIVE_OK)
		rc = cli_fail(c, "cannot write the tar stream: %s", t.a != NULL ? archive_error_string(t.a) : "");
	else if (walk(stage, "", tar_entry, &t) != 0 || archive_write_close(t.a) != ARCHIVE_OK || fflush(c->out) != 0)
		rc = cli_fail(c, "cannot write the tar stream: %s",
			      archive_error_string(t.a) != NULL ? archive_error_string(t.a) : strerror(errno));
	archive_write_free(t.a);
	return rc;
}

/* DEST.partial-XXXXXX beside DEST, or for a stream a stage in the data
 * directory (the documents are then linked, not copied). */
static int make_stage(struct backup *b, const char *dest, int stream)
{
	char base[PATH_MAX];
	size_t n;

	if (stream) {
		b->may_link = 1;
		n = (size_t)snprintf(b->stage, sizeof(b->stage), "%s/backup.partial-XXXXXX", b->c->cfg.data_dir);
	} else {
		cb_strlcpy(base, dest, sizeof(base));
		for (n = strlen(base); n > 1 && base[n - 1] == '/'; n--)
			base[n - 1] = '\0';
		n = (size_t)snprintf(b->stage, sizeof(b->stage), "%s.partial-XXXXXX", base);
	}
	if (n >= sizeof(b->stage) || mkdtemp(b->stage) == NULL) {
		b->stage[0] = '\0';
		return cli_fail(b->c, "%s: cannot create a directory beside it: %s", stream ? b->c->cfg.data_dir : dest,
				strerror(errno));
	}
	return CLI_OK;
}

static int copy_key(struct backup *b, const char *src, const char *name, int required)
{
	char dst[PATH_MAX];
	int rc;

	join(dst, sizeof(dst), b->stage, name);
	rc = copy_file(src, dst, 0, &b->t);
	if (rc == -CB_ENOENT && !required)
		return CLI_OK;
	if (rc != 0)
		return cli_fail(b->c, "%s: cannot copy: %s", src, rc == -CB_ENOENT ? "missing" : strerror(errno));
	return CLI_OK;
}

static int cmd_backup(struct cli *c, int argc, char **argv)
{
	unsigned char key[VAULT_KEY_BYTES];
	char doc_key[PATH_MAX], sign_key[PATH_MAX], db[PATH_MAX], err[PATH_MAX + 256], bytes[48];
	struct backup b = {.c = c};
	const char *dest;
	int64_t pages;
	int rc, stream;

	if ((rc = cli_args_only(c, argc, argv, 1, "DEST (a new directory, or - for a tar stream)")) != CLI_OK)
		return rc;
	dest = argv[optind];
	stream = strcmp(dest, "-") == 0;
	if ((!stream && (rc = cli_check_new_dir(c, dest)) != CLI_OK) || (rc = key_paths(c, doc_key, sign_key)) != CLI_OK ||
	    (rc = cli_open_store(c)) != CLI_OK)
		return rc;
	rc = vault_load_key(doc_key, key);
	sodium_memzero(key, sizeof(key));
	if (rc != 0)
		return cli_fail(c, "%s: missing or damaged; a backup without it could not open the documents", doc_key);
	/* In the audit trail before anything is copied: the backup holds its
	 * own row. */
	if (cli_audit(c, "backup", NULL, stream ? "stream" : "directory") != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	/* A reader that goes away makes a write fail, not the process die
	 * with its stage left behind. */
	if (stream)
		signal(SIGPIPE, SIG_IGN);
	if ((rc = make_stage(&b, dest, stream)) != CLI_OK)
		return rc;
	join(db, sizeof(db), b.stage, DB_NAME);
	if (store_backup_copy(c->store, db, &pages, err, sizeof(err)) != 0) {
		rc = cli_fail(c, "%s", err);
		goto out;
	}
	if ((rc = backup_documents(&b)) != CLI_OK)
		goto out;
	/* The copy as it is now: every page and index checked. */
	if (store_verify(b.stage, &(int){0}, err, sizeof(err)) != 0) {
		rc = cli_fail(c, "the copy is damaged: %s", err);
		goto out;
	}
	{
		struct stat sb;

		if (stat(db, &sb) != 0) {
			rc = cli_fail(c, "%s: %s", db, strerror(errno));
			goto out;
		}
		b.t.files++;
		b.t.bytes += sb.st_size;
	}
	if ((rc = copy_key(&b, doc_key, DOC_KEY_NAME, 1)) != CLI_OK ||
	    (rc = copy_key(&b, sign_key, SIGN_KEY_NAME, 0)) != CLI_OK)
		goto out;
	if (stream) {
		if ((rc = write_tar(c, b.stage)) != CLI_OK)
			goto out;
	} else if (rename(b.stage, dest) != 0) {
		rc = cli_fail(c, "%s: cannot rename %s to it: %s", dest, b.stage, strerror(errno));
		goto out;
	} else {
		b.stage[0] = '\0';
	}
	cli_count(c, "cli.count.bytes", "bytes", b.t.bytes, bytes, sizeof(bytes));
	log_info("backup made: %d files, %s", b.t.files, bytes);
	fprintf(stream ? c->err : c->out, "backup %s: %d files, %s\n", stream ? "written to the output" : dest,
		b.t.files, bytes);
	rc = CLI_OK;
out:
	store_close(b.copy);
	if (b.stage[0] != '\0')
		rmtree(b.stage);
	return rc;
}

/* Restore */

struct restore {
	struct cli *c;
	const char *src;          /* a backup directory, or NULL for the tar stream on stdin */
	char stage[STAGE_MAX];
	int made_dir;
	unsigned char key[VAULT_KEY_BYTES];
	int opened;               /* a document was decrypted with the key */
	struct tally t;
	char err[PATH_MAX + 128];
};

static int same_file(const char *a, const char *b)
{
	unsigned char x[COPY_CHUNK], y[COPY_CHUNK];
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	size_t na, nb;
	int same = fa != NULL && fb != NULL;

	while (same) {
		na = fread(x, 1, sizeof(x), fa);
		nb = fread(y, 1, sizeof(y), fb);
		if (na != nb || sodium_memcmp(x, y, na) != 0)
			same = 0;
		if (na < sizeof(x))
			break;
	}
	sodium_memzero(x, sizeof(x));
	sodium_memzero(y, sizeof(y));
	if (fa != NULL)
		fclose(fa);
	if (fb != NULL)
		fclose(fb);
	return same;
}

/* "documents" or "documents/<family id>". */
static int doc_dir_ok(const char *p)
{
	const char *s = p + strlen("documents");

	if (strncmp(p, "documents", strlen("documents")) != 0)
		return 0;
	if (*s == '\0')
		return 1;
	if (*s++ != '/' || !isdigit((unsigned char)*s))
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	return *s == '\0';
}

static int top_file_ok(const char *p)
{
	return strcmp(p, DB_NAME) == 0 || strcmp(p, DOC_KEY_NAME) == 0 || strcmp(p, SIGN_KEY_NAME) == 0;
}

static int extract_file(struct restore *r, struct archive *a, const char *name)
{
	char path[PATH_MAX];
	const void *buf;
	size_t len;
	la_int64_t off;
	int rc = 0, ar;
	FILE *fp;

	if (join(path, sizeof(path), r->stage, name) != 0 || (!top_file_ok(name) && make_doc_dirs(r->stage, name) != 0))
		return -CB_EIO;
	if ((fp = vault_create_private(path)) == NULL)
		return errno == EEXIST ? -CB_EPARSE : -CB_EIO;
	while (rc == 0 && (ar = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		rc = fwrite(buf, 1, len, fp) == len ? 0 : -CB_EIO;
		r->t.bytes += (long long)len;
	}
	if (rc == 0 && ar != ARCHIVE_EOF)
		rc = -CB_EPARSE;
	r->t.files++;
	return close_synced(fp, rc);
}

/* The tar stream on stdin, into the stage: only what a backup holds, by
 * name and kind; anything else (a link, a path of another shape) refuses
 * the whole stream. */
static int extract_tar(struct restore *r)
{
	struct cli *c = r->c;
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	char name[PATH_MAX], dir[PATH_MAX];
	int ar, rc = CLI_OK;
	size_t n;

	if (a == NULL || archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, STDIN_FILENO, COPY_CHUNK) != ARCHIVE_OK) {
		rc = cli_fail(c, "the input is not a casebot backup: %s", a != NULL ? archive_error_string(a) : "");
		goto out;
	}
	while (rc == CLI_OK && (ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		cb_strlcpy(name, archive_entry_pathname(e) != NULL ? archive_entry_pathname(e) : "", sizeof(name));
		for (n = strlen(name); n > 0 && name[n - 1] == '/'; n--)
			name[n - 1] = '\0';
		if (archive_entry_filetype(e) == AE_IFDIR && doc_dir_ok(name)) {
			join(dir, sizeof(dir), r->stage, name);
			if (mkdir(dir, 0700) != 0 && errno != EEXIST)
				rc = cli_fail(c, "%s: %s", dir, strerror(errno));
		} else if (archive_entry_filetype(e) == AE_IFREG && (top_file_ok(name) || doc_path_ok(name))) {
			int x = extract_file(r, a, name);

			if (x == -CB_EPARSE)
				rc = cli_fail(c, "the input is not a casebot backup: %s is cut short or twice in it", name);
			else if (x != 0)
				rc = cli_fail(c, "%s: cannot write %s: %s", r->stage, name, strerror(errno));
		} else {
			rc = cli_fail(c, "the input is not a casebot backup: it holds \"%s\"", name);
		}
	}
	if (rc == CLI_OK && ar != ARCHIVE_EOF)
		rc = cli_fail(c, "the input is not a casebot backup: %s", archive_error_string(a));
out:
	archive_read_free(a);
	return rc;
}

static int discard(const void *p, size_t n, void *arg)
{
	(void)p;
	(void)n;
	(void)arg;
	return 0;
}

/* A document row of the restored database: its file must be there (from
 * a backup directory it is copied now), and the first one is decrypted
 * with the backup's key, which proves the key is the one that sealed it. */
static int restore_doc(int64_t id, int64_t family_id, const char *rel, void *arg)
{
	struct restore *r = arg;
	char path[PATH_MAX], src[PATH_MAX];
	int rc = 0;

	(void)family_id;
	if (!doc_path_ok(rel)) {
		snprintf(r->err, sizeof(r->err), "document #%lld has a path casebot does not make", (long long)id);
		return -CB_EPARSE;
	}
	join(path, sizeof(path), r->stage, rel);
	if (r->src != NULL) {
		join(src, sizeof(src), r->src, rel);
		if (make_doc_dirs(r->stage, rel) != 0 || (rc = copy_file(src, path, 0, &r->t)) != 0) {
			snprintf(r->err, sizeof(r->err), "document #%lld: %s", (long long)id,
				 rc == -CB_ENOENT ? "its file is not in the backup" : strerror(errno));
			return -CB_EIO;
		}
	} else if (access(path, F_OK) != 0) {
		snprintf(r->err, sizeof(r->err), "document #%lld: its file is not in the backup", (long long)id);
		return -CB_ENOENT;
	}
	if (r->opened)
		return 0;
	if ((rc = vault_decrypt(r->key, path, discard, NULL)) != 0) {
		snprintf(r->err, sizeof(r->err), "the document key in the backup does not open document #%lld%s",
			 (long long)id, rc == -CB_EPARSE ? "" : " (unreadable)");
		return -CB_EPARSE;
	}
	r->opened = 1;
	return 0;
}

static int stage_copy(struct restore *r, const char *name, int required)
{
	char src[PATH_MAX], dst[PATH_MAX];
	int rc;

	join(src, sizeof(src), r->src, name);
	join(dst, sizeof(dst), r->stage, name);
	rc = copy_file(src, dst, 0, &r->t);
	if (rc == -CB_ENOENT && !required)
		return CLI_OK;
	if (rc == -CB_ENOENT)
		return cli_fail(r->c, "%s is not a casebot backup: %s is missing", r->src, name);
	if (rc != 0)
		return cli_fail(r->c, "%s: cannot copy %s: %s", r->src, name, strerror(errno));
	return CLI_OK;
}

/* Everything in the stage checked: the database whole (integrity_check),
 * a key of the right size, each document's file there, and one of them
 * opened with the key. */
static int restore_check(struct restore *r)
{
	struct cli *c = r->c;
	struct store *st = NULL;
	char path[PATH_MAX], err[PATH_MAX + 256];
	struct stat sb;
	int v, rc;

	if ((rc = store_verify(r->stage, &v, err, sizeof(err))) == -CB_ENOENT)
		return cli_fail(c, "%s is not a casebot backup: it holds no %s", r->src != NULL ? r->src : "the input",
				DB_NAME);
	if (rc != 0) {
		/* Named as the operator knows it, not by the stage's path. */
		const char *why = err;

		if (join(path, sizeof(path), r->stage, DB_NAME) == 0 && strncmp(err, path, strlen(path)) == 0 &&
		    strncmp(err + strlen(path), ": ", 2) == 0)
			why = err + strlen(path) + 2;
		return cli_fail(c, "%s%s: %s", r->src != NULL ? r->src : "the stream's ", r->src != NULL ? "/" DB_NAME : DB_NAME,
				why);
	}
	if (v > (int)store_schema_count())
		return cli_fail(c, "the backup's database has schema %d, newer than this casebot (%zu)", v,
				store_schema_count());
	join(path, sizeof(path), r->stage, DOC_KEY_NAME);
	if (stat(path, &sb) != 0 || sb.st_size != VAULT_KEY_BYTES || vault_load_key(path, r->key) != 0)
		return cli_fail(c, "the backup's document key is missing or damaged");
	if (store_open(r->stage, 0, &st, err, sizeof(err)) != 0)
		return cli_fail(c, "the backup's database: %s", err);
	rc = store_backup_each_document(st, restore_doc, r);
	store_close(st);
	if (rc != 0)
		return cli_fail(c, "%s", r->err[0] != '\0' ? r->err : "the backup's documents cannot be read");
	return CLI_OK;
}

/* A key file goes where the configuration says it lives; one already
 * there must be the same key. */
static int check_key_place(struct restore *r, const char *name, const char *dst, int *place)
{
	char src[PATH_MAX];

	join(src, sizeof(src), r->stage, name);
	*place = access(src, F_OK) == 0;
	if (!*place || access(dst, F_OK) != 0)
		return CLI_OK;
	*place = 0;
	if (!same_file(src, dst))
		return cli_usage_error(r->c, "%s exists and holds another key than the backup's", dst);
	return CLI_OK;
}

static int place_file(struct restore *r, const char *name, const char *dst)
{
	char src[PATH_MAX];

	join(src, sizeof(src), r->stage, name);
	if (rename(src, dst) == 0)
		return CLI_OK;
	if (errno == EXDEV && copy_file(src, dst, 0, &(struct tally){0, 0}) == 0)
		return CLI_OK;
	return cli_fail(r->c, "%s: cannot write: %s", dst, strerror(errno));
}

/* The data directory must hold no database and no documents: restore
 * makes one, it never mixes two. */
static int restore_target(struct cli *c, const char *dir)
{
	char path[PATH_MAX];
	struct stat sb;

	if (lstat(dir, &sb) != 0)
		return errno == ENOENT ? CLI_OK : cli_usage_error(c, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return cli_usage_error(c, "%s exists and is not a directory", dir);
	join(path, sizeof(path), dir, DB_NAME);
	if (lstat(path, &sb) == 0)
		return cli_usage_error(c, "%s exists: restore makes a new data directory and never replaces a database",
				       path);
	snprintf(path, sizeof(path), "%s/documents", dir);
	if (lstat(path, &sb) == 0 && cli_check_new_dir(c, path) != CLI_OK)
		return CLI_USAGE;
	return CLI_OK;
}

static int cmd_restore(struct cli *c, int argc, char **argv)
{
	const char *data_dir = NULL;
	const struct cli_arg args[] = {{"data-dir", &data_dir, NULL}, {0}};
	struct restore r = {.c = c};
	char doc_key[PATH_MAX], sign_key[PATH_MAX], path[PATH_MAX], to[PATH_MAX], bytes[48];
	int rc, place_doc = 0, place_sign = 0, placed_doc = 0, placed_sign = 0, moved_docs = 0;
	struct stat sb;

	if ((rc = cli_parse(c, argc, argv, args, 1, "SRC (a backup directory, or - for a tar stream)")) != CLI_OK)
		return rc;
	if (data_dir != NULL && cb_strlcpy(c->cfg.data_dir, data_dir, sizeof(c->cfg.data_dir)) != 0)
		return cli_usage_error(c, "--data-dir: the path is too long");
	if (strcmp(argv[optind], "-") != 0) {
		r.src = argv[optind];
		join(path, sizeof(path), r.src, DB_NAME);
		if (stat(path, &sb) != 0)
			return cli_usage_error(c, "%s is not a casebot backup (no %s in it)", r.src, DB_NAME);
	}
	if ((rc = key_paths(c, doc_key, sign_key)) != CLI_OK || (rc = restore_target(c, c->cfg.data_dir)) != CLI_OK)
		return rc;
	if (mkdir(c->cfg.data_dir, 0700) == 0)
		r.made_dir = 1;
	else if (errno != EEXIST)
		return cli_fail(c, "%s: cannot create: %s", c->cfg.data_dir, strerror(errno));
	if (chmod(c->cfg.data_dir, 0700) != 0) {
		rc = cli_fail(c, "%s: %s", c->cfg.data_dir, strerror(errno));
		goto out;
	}
	snprintf(r.stage, sizeof(r.stage), "%s/restore.partial-XXXXXX", c->cfg.data_dir);
	if (mkdtemp(r.stage) == NULL) {
		r.stage[0] = '\0';
		rc = cli_fail(c, "%s: cannot write: %s", c->cfg.data_dir, strerror(errno));
		goto out;
	}
	if (r.src == NULL)
		rc = extract_tar(&r);
	else if ((rc = stage_copy(&r, DB_NAME, 1)) == CLI_OK && (rc = stage_copy(&r, DOC_KEY_NAME, 1)) == CLI_OK)
		rc = stage_copy(&r, SIGN_KEY_NAME, 0);
	if (rc != CLI_OK || (rc = restore_check(&r)) != CLI_OK ||
	    (rc = check_key_place(&r, DOC_KEY_NAME, doc_key, &place_doc)) != CLI_OK ||
	    (rc = check_key_place(&r, SIGN_KEY_NAME, sign_key, &place_sign)) != CLI_OK)
		goto out;
	/* Into place, the database last: until it is there, the directory
	 * is no data directory, and a failure takes back what was moved. */
	if (place_doc && (rc = place_file(&r, DOC_KEY_NAME, doc_key)) != CLI_OK)
		goto out;
	placed_doc = place_doc;
	if (place_sign && (rc = place_file(&r, SIGN_KEY_NAME, sign_key)) != CLI_OK)
		goto out;
	placed_sign = place_sign;
	snprintf(path, sizeof(path), "%s/documents", r.stage);
	snprintf(to, sizeof(to), "%s/documents", c->cfg.data_dir);
	if (access(path, F_OK) == 0) {
		rmdir(to);
		if (rename(path, to) != 0) {
			rc = cli_fail(c, "%s: cannot write: %s", to, strerror(errno));
			goto out;
		}
		moved_docs = 1;
	}
	if ((rc = place_file(&r, DB_NAME, (join(path, sizeof(path), c->cfg.data_dir, DB_NAME), path))) !=
	    CLI_OK)
		goto out;
	placed_doc = placed_sign = moved_docs = 0;
	rmtree(r.stage);
	r.stage[0] = '\0';
	if ((rc = cli_open_store(c)) != CLI_OK)
		goto out;
	if (cli_audit(c, "restore", NULL, r.src != NULL ? "directory" : "stream") != CLI_OK) {
		rc = cli_fail(c, "%s", store_errmsg(c->store));
		goto out;
	}
	cli_count(c, "cli.count.bytes", "bytes", r.t.bytes, bytes, sizeof(bytes));
	log_info("backup restored: %d files, %s", r.t.files, bytes);
	fprintf(c->out, "restored into %s: %d files, %s\n", c->cfg.data_dir, r.t.files, bytes);
out:
	sodium_memzero(r.key, sizeof(r.key));
	if (r.stage[0] != '\0')
		rmtree(r.stage);
	if (rc != CLI_OK) {
		if (placed_doc)
			unlink(doc_key);
		if (placed_sign)
			unlink(sign_key);
		if (moved_docs)
			rmtree(to);
		if (r.made_dir)
			rmtree(c->cfg.data_dir);
	}
	return rc;
}

const struct cli_command cli_backup_commands[] = {
	{"backup", NULL, cmd_backup, "DEST|-",
	 "Copy the database (while the daemon runs), the encrypted documents and the keys into a new directory, "
	 "or as a tar stream to the output with -."},
	{"restore", NULL, cmd_restore, "SRC|- [--data-dir DIR]",
	 "Make a new data directory (the configured one, or DIR) from a backup directory, or from a tar stream "
	 "on the input with -; refuses one that has a database, and a damaged backup or key."},
	{0},
};
