/* Erasing a family, for casebot family erase and for the daemon's
 * retention (a file closed long enough ago): one code for both. Erasure is
 * real: the rows go in one transaction with the audit row, then the files
 * (documents, a download still in tmp/), then the database is vacuumed
 * and its log truncated, so that no page of the family is left on disk. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/vault.h"
#include "handlers/handler.h"

struct paths {
	char **items;
	size_t n, cap;
	int failed;
};

static void collect_path(const char *path, void *arg)
{
	struct paths *p = arg;
	char **grown;

	if (p->n == p->cap) {
		size_t cap = p->cap != 0 ? p->cap * 2 : 16;

		grown = realloc(p->items, cap * sizeof(*grown));
		if (grown == NULL) {
			p->failed = 1;
			return;
		}
		p->items = grown;
		p->cap = cap;
	}
	if ((p->items[p->n] = strdup(path)) == NULL) {
		p->failed = 1;
		return;
	}
	p->n++;
}

static void free_paths(struct paths *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->items[i]);
	free(p->items);
}

static int remove_file(const char *path)
{
	return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
}

/* The family's document directory goes whole: a file the store does not
 * know of (an encryption cut short) is the family's too. */
static int remove_dir(const char *dir)
{
	char path[2 * PATH_MAX];
	struct dirent *e;
	DIR *dp = opendir(dir);
	int lost = 0;

	if (dp == NULL)
		return errno == ENOENT ? 0 : 1;
	while ((e = readdir(dp)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, e->d_name) >= (int)sizeof(path) ||
		    remove_file(path) != 0)
			lost++;
	}
	closedir(dp);
	if (rmdir(dir) != 0 && errno != ENOENT)
		lost++;
	return lost;
}

int erase_family(struct hctx *h, const struct family *f, const char *detail, char *err, size_t errlen)
{
	const struct audit_entry e = {h->actor, "family.erase", f->ref, detail, 0, 0, 0};
	const char *data_dir = h->cfg->data_dir;
	struct paths paths = {0};
	char file[2 * PATH_MAX];
	int rc, lost = 0;

	err[0] = '\0';
	/* The audit row is written first, while the reference still finds
	 * the family's id. */
	if ((rc = store_begin(h->store)) != 0)
		goto fail;
	if ((rc = store_audit_add(h->store, h->now, &e)) != 0 ||
	    (rc = store_family_erase(h->store, f->id, h->now, collect_path, &paths)) != 0 ||
	    (rc = paths.failed ? -CB_ENOMEM : 0) != 0 || (rc = store_commit(h->store)) != 0) {
		store_rollback(h->store);
		goto fail;
	}
	for (size_t i = 0; i < paths.n; i++) {
		snprintf(file, sizeof(file), "%s/%s", data_dir, paths.items[i]);
		if (remove_file(file) != 0)
			lost++;
	}
	snprintf(file, sizeof(file), "%s/documents/%lld", data_dir, (long long)f->id);
	lost += remove_dir(file);
	/* Downloads are encrypted as they stream in; tmp/ holds nothing but
	 * what an older version left there in the clear. */
	snprintf(file, sizeof(file), "%s/tmp", data_dir);
	if (vault_clear_dir(file, 0) != 0)
		lost++;
	rc = erase_finish(h->store, f->ref, err, errlen);
	if (rc == 0 && lost > 0) {
		snprintf(err, errlen, "%d file(s) of family %s could not be removed", lost, f->ref);
		rc = -CB_EIO;
	}
	free_paths(&paths);
	return rc;
fail:
	free_paths(&paths);
	snprintf(err, errlen, "%s", store_errmsg(h->store));
	return rc;
}

int erase_finish(struct store *st, const char *ref, char *err, size_t errlen)
{
	int rc = store_vacuum(st);

	if (rc == -CB_ESTATE) {
		/* Remembered, so that erase REF again finishes the work. */
		store_state_set(st, "erase", ref, "unfinished");
		snprintf(err, errlen, "family %s is erased from the tables, but another program still reads the "
			 "database, so its old pages remain in the file: stop that program (a sqlite3 shell, a "
			 "backup, a report) and run casebot family erase %s --yes again", ref, ref);
		return rc;
	}
	if (rc != 0) {
		snprintf(err, errlen, "family %s is erased from the tables, but vacuum failed: %s", ref,
			 store_errmsg(st));
		return rc;
	}
	if ((rc = store_state_del(st, "erase", ref)) != 0) {
		snprintf(err, errlen, "%s", store_errmsg(st));
		return rc;
	}
	return 0;
}

int erase_unfinished(struct store *st, const char *ref)
{
	char v[32];

	return store_state_get(st, "erase", ref, v, sizeof(v)) == 0;
}
