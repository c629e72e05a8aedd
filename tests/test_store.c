/* store/: opening and migrating the SQLite file, every table group's
 * functions, and erasure that really removes a family. Each test gets a
 * fresh database in its own mkdtemp() directory; raw SQL through store_db()
 * sets up rows that have no store function yet and checks what is on disk. */
/* nftw() is an X/Open interface. */
#define _XOPEN_SOURCE 700

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/casebot.h"
#include "store/store.h"

#define ERRCAP 512
#define NOW ((time_t)1796300000)   /* 2026-12-03, any fixed instant will do */

struct fx {
	char dir[64];          /* the mkdtemp() directory */
	char data[96];         /* dir/data: store_open creates it */
	struct store *st;
	int64_t coord, couns;  /* two staff members */
	int64_t fam, fam2;     /* two families, counsellor couns */
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A temp directory only; the test opens the store itself. */
static int setup_dir(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/casebot-store-XXXXXX");
	if (mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	snprintf(fx->data, sizeof(fx->data), "%s/data", fx->dir);
	*state = fx;
	return 0;
}

/* An open store with two staff members and two families. */
static int setup_store(void **state)
{
	struct staff s = {0};
	struct family f = {0};
	struct fx *fx;
	char err[ERRCAP];

	if (setup_dir(state) != 0)
		return -1;
	fx = *state;
	if (store_open(fx->data, 1, &fx->st, err, sizeof(err)) != 0) {
		fprintf(stderr, "store_open: %s\n", err);
		return -1;
	}
	cb_strlcpy(s.name, "coord", sizeof(s.name));
	s.role = ROLE_COORDINATOR;
	s.lang = LANG_NL;
	if (store_staff_add(fx->st, &s, NOW, &fx->coord) != 0)
		return -1;
	cb_strlcpy(s.name, "sofie", sizeof(s.name));
	s.role = ROLE_COUNSELLOR;
	s.lang = LANG_FR;
	cb_strlcpy(s.email, "sofie@example.org", sizeof(s.email));
	if (store_staff_add(fx->st, &s, NOW, &fx->couns) != 0)
		return -1;
	cb_strlcpy(f.ref, "GB-2026-001", sizeof(f.ref));
	cb_strlcpy(f.display_name, "Amina", sizeof(f.display_name));
	f.lang = LANG_FR;
	f.counsellor_id = fx->couns;
	f.backup_id = fx->coord;
	if (store_family_add(fx->st, &f, NOW, &fx->fam) != 0)
		return -1;
	cb_strlcpy(f.ref, "GB-2026-002", sizeof(f.ref));
	cb_strlcpy(f.display_name, "Yusuf", sizeof(f.display_name));
	f.lang = LANG_NL;
	f.backup_id = 0;
	if (store_family_add(fx->st, &f, NOW, &fx->fam2) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	int rc;

	store_close(fx->st);
	rc = nftw(fx->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return rc;
}

/* Runs formatted SQL (sqlite3_mprintf rules) and checks it worked. */
static void sql(struct store *st, const char *fmt, ...)
{
	va_list ap;
	char *q, *msg = NULL;
	int rc;

	va_start(ap, fmt);
	q = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	assert_non_null(q);
	rc = sqlite3_exec(store_db(st), q, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", q, msg != NULL ? msg : "?");
	sqlite3_free(q);
}

/* The integer in the first column of the first row of formatted SQL. */
static int64_t sql_int(struct store *st, const char *fmt, ...)
{
	va_list ap;
	char *q;
	sqlite3_stmt *s = NULL;
	int64_t v;

	va_start(ap, fmt);
	q = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	assert_non_null(q);
	if (sqlite3_prepare_v2(store_db(st), q, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(store_db(st)));
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_free(q);
	return v;
}

/* The text in the first column of the first row, copied. */
static void sql_text(struct store *st, char *out, size_t cap, const char *fmt, ...)
{
	va_list ap;
	char *q;
	sqlite3_stmt *s = NULL;

	va_start(ap, fmt);
	q = sqlite3_vmprintf(fmt, ap);
	va_end(ap);
	assert_non_null(q);
	if (sqlite3_prepare_v2(store_db(st), q, -1, &s, NULL) != SQLITE_OK)
		fail_msg("%s: %s", q, sqlite3_errmsg(store_db(st)));
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	store_col_text(s, 0, out, cap);
	sqlite3_finalize(s);
	sqlite3_free(q);
}

static int mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return (int)(sb.st_mode & 07777);
}

/* 1 if the file at path contains needle anywhere (0 if there is no file). */
static int file_contains(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	size_t n = strlen(needle), len, cap = 1 << 16;
	char *buf;
	int found = 0;

	if (fp == NULL)
		return 0;
	buf = malloc(cap);
	assert_non_null(buf);
	len = 0;
	for (;;) {
		size_t r = fread(buf + len, 1, cap - len, fp);

		len += r;
		if (len < cap)
			break;
		cap *= 2;
		buf = realloc(buf, cap);
		assert_non_null(buf);
	}
	fclose(fp);
	for (size_t i = 0; !found && i + n <= len; i++)
		found = memcmp(buf + i, needle, n) == 0;
	free(buf);
	return found;
}

/* Looks for needle in the database file and its WAL. */
static int db_contains(struct fx *fx, const char *needle)
{
	char path[160];
	int found;

	snprintf(path, sizeof(path), "%s/casebot.db", fx->data);
	found = file_contains(path, needle);
	snprintf(path, sizeof(path), "%s/casebot.db-wal", fx->data);
	return found || file_contains(path, needle);
}

/* Open, modes, pragmas */

static void test_open_create(void **state)
{
	struct fx *fx = *state;
	char err[ERRCAP], path[160], mode[16];

	assert_int_equal(store_open(fx->data, 1, &fx->st, err, sizeof(err)), 0);
	assert_non_null(fx->st);
	assert_string_equal(err, "");
	assert_int_equal(mode_of(fx->data), 0700);
	snprintf(path, sizeof(path), "%s/casebot.db", fx->data);
	assert_int_equal(mode_of(path), 0600);
	/* SQLite gives the WAL the database file's mode. */
	snprintf(path, sizeof(path), "%s/casebot.db-wal", fx->data);
	if (access(path, F_OK) == 0)
		assert_int_equal(mode_of(path), 0600);

	sql_text(fx->st, mode, sizeof(mode), "PRAGMA journal_mode");
	assert_string_equal(mode, "wal");
	assert_int_equal(sql_int(fx->st, "PRAGMA foreign_keys"), 1);
	assert_int_equal(sql_int(fx->st, "PRAGMA secure_delete"), 1);
	assert_true(store_schema_count() >= 1);
	assert_int_equal(store_schema_version(fx->st), (int)store_schema_count());
	assert_int_equal(sql_int(fx->st, "PRAGMA user_version"), (int64_t)store_schema_count());
	assert_non_null(store_schema_migration(0));
	assert_null(store_schema_migration(store_schema_count()));
}

static void test_tables(void **state)
{
	static const char *const tables[] = {
		"staff", "families", "members", "channels", "invites", "appointments",
		"document_requests", "documents", "checkin_plans", "outbox", "inbound",
		"contact_log", "alerts", "audit", "gateway_state",
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < CB_ARRAY_SIZE(tables); i++)
		if (sql_int(fx->st, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = %Q",
			    tables[i]) != 1)
			fail_msg("table %s is missing", tables[i]);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
}

/* Opening again, with or without create, migrates nothing and loses nothing. */
static void test_reopen(void **state)
{
	struct fx *fx = *state;
	struct staff s;
	char err[ERRCAP];
	int version = store_schema_version(fx->st);

	store_close(fx->st);
	fx->st = NULL;
	for (int create = 1; create >= 0; create--) {
		assert_int_equal(store_open(fx->data, create, &fx->st, err, sizeof(err)), 0);
		assert_int_equal(store_schema_version(fx->st), version);
		assert_int_equal(store_staff_get(fx->st, "sofie", &s), 0);
		assert_int_equal(s.id, fx->couns);
		assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM families"), 2);
		store_close(fx->st);
		fx->st = NULL;
	}
	assert_int_equal(mode_of(fx->data), 0700);
}

static void test_newer_schema(void **state)
{
	struct fx *fx = *state;
	char err[ERRCAP], want[ERRCAP];
	size_t n = store_schema_count();

	sql(fx->st, "PRAGMA user_version = %d", (int)n + 1);
	store_close(fx->st);
	fx->st = NULL;
	assert_int_equal(store_open(fx->data, 0, &fx->st, err, sizeof(err)), -CB_ESTORE);
	assert_null(fx->st);
	snprintf(want, sizeof(want), "database schema %zu is newer than this casebot (%zu)", n + 1, n);
	assert_string_equal(err, want);
	assert_int_equal(store_open(fx->data, 1, &fx->st, err, sizeof(err)), -CB_ESTORE);
	assert_null(fx->st);
	assert_string_equal(err, want);
}

static void test_open_missing(void **state)
{
	struct fx *fx = *state;
	char err[ERRCAP], want[ERRCAP];

	assert_int_equal(store_open(fx->data, 0, &fx->st, err, sizeof(err)), -CB_ENOENT);
	assert_null(fx->st);
	snprintf(want, sizeof(want), "%s/casebot.db: no database (run casebot init)", fx->data);
	assert_string_equal(err, want);
	/* Without create nothing is made. */
	assert_int_equal(access(fx->data, F_OK), -1);
}

/* Staff */

static int count_staff(const void *rec, void *arg)
{
	const struct staff *s = rec;
	char (*names)[STORE_NAME_MAX] = arg;
	int i = 0;

	while (names[i][0] != '\0')
		i++;
	cb_strlcpy(names[i], s->name, STORE_NAME_MAX);
	return 0;
}

static int stop_at_first(const void *rec, void *arg)
{
	(void)rec;
	++*(int *)arg;
	return 7;
}

static void test_staff(void **state)
{
	struct fx *fx = *state;
	struct staff s = {0}, got;
	char names[8][STORE_NAME_MAX] = {{0}};
	int64_t id = 0;
	int calls = 0;

	cb_strlcpy(s.name, "anna", sizeof(s.name));
	s.role = ROLE_COUNSELLOR;
	s.lang = LANG_DE;
	assert_int_equal(store_staff_add(fx->st, &s, NOW, &id), 0);
	assert_true(id > fx->couns);
	assert_int_equal(store_staff_add(fx->st, &s, NOW, NULL), -CB_EEXIST);

	assert_int_equal(store_staff_get(fx->st, "sofie", &got), 0);
	assert_int_equal(got.id, fx->couns);
	assert_string_equal(got.name, "sofie");
	assert_int_equal(got.role, ROLE_COUNSELLOR);
	assert_int_equal(got.lang, LANG_FR);
	assert_string_equal(got.email, "sofie@example.org");
	assert_int_equal(got.active, 1);
	assert_int_equal(got.away, 0);

	assert_int_equal(store_staff_get_id(fx->st, fx->coord, &got), 0);
	assert_string_equal(got.name, "coord");
	assert_int_equal(got.role, ROLE_COORDINATOR);
	assert_int_equal(got.lang, LANG_NL);
	assert_string_equal(got.email, "");
	assert_int_equal(store_staff_get_id(fx->st, id, &got), 0);
	assert_string_equal(got.name, "anna");
	assert_int_equal(got.lang, LANG_DE);

	assert_int_equal(store_staff_get(fx->st, "nobody", &got), -CB_ENOENT);
	assert_int_equal(store_staff_get_id(fx->st, 9999, &got), -CB_ENOENT);

	/* Listed by name. */
	assert_int_equal(store_staff_each(fx->st, count_staff, names), 0);
	assert_string_equal(names[0], "anna");
	assert_string_equal(names[1], "coord");
	assert_string_equal(names[2], "sofie");
	assert_string_equal(names[3], "");
	/* A callback's non-zero return stops the walk and is passed back. */
	assert_int_equal(store_staff_each(fx->st, stop_at_first, &calls), 7);
	assert_int_equal(calls, 1);

	assert_string_equal(store_role_name(ROLE_COUNSELLOR), "counsellor");
	assert_string_equal(store_role_name(ROLE_COORDINATOR), "coordinator");
}

/* Families */

static int collect_refs(const void *rec, void *arg)
{
	const struct family *f = rec;
	char (*refs)[STORE_NAME_MAX] = arg;
	int i = 0;

	while (refs[i][0] != '\0')
		i++;
	cb_strlcpy(refs[i], f->ref, STORE_NAME_MAX);
	return 0;
}

static void test_family(void **state)
{
	struct fx *fx = *state;
	struct family f = {0}, got;
	char refs[8][STORE_NAME_MAX] = {{0}};
	int64_t id = 0;

	/* An unknown counsellor breaks the foreign key; store_exec_stmt maps
	 * other constraints to -CB_EINVAL. Nothing is inserted. */
	cb_strlcpy(f.ref, "GB-2026-000", sizeof(f.ref));
	f.lang = LANG_EN;
	f.counsellor_id = 4242;
	assert_int_equal(store_family_add(fx->st, &f, NOW, &id), -CB_EINVAL);
	f.counsellor_id = fx->couns;
	f.backup_id = 4243;
	assert_int_equal(store_family_add(fx->st, &f, NOW, &id), -CB_EINVAL);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM families"), 2);
	/* A duplicate reference. */
	cb_strlcpy(f.ref, "GB-2026-001", sizeof(f.ref));
	f.backup_id = 0;
	assert_int_equal(store_family_add(fx->st, &f, NOW, &id), -CB_EEXIST);

	assert_int_equal(store_family_get(fx->st, "GB-2026-001", &got), 0);
	assert_int_equal(got.id, fx->fam);
	assert_string_equal(got.ref, "GB-2026-001");
	assert_string_equal(got.display_name, "Amina");
	assert_int_equal(got.lang, LANG_FR);
	assert_string_equal(got.status, "active");
	assert_int_equal(got.counsellor_id, fx->couns);
	assert_int_equal(got.backup_id, fx->coord);
	assert_string_equal(got.counsellor, "sofie");
	assert_string_equal(got.backup, "coord");
	assert_int_equal((long long)got.created_at, (long long)NOW);
	assert_int_equal((long long)got.closed_at, 0);

	assert_int_equal(store_family_get_id(fx->st, fx->fam2, &got), 0);
	assert_string_equal(got.ref, "GB-2026-002");
	assert_int_equal(got.backup_id, 0);
	assert_string_equal(got.backup, "");
	assert_int_equal(got.lang, LANG_NL);
	assert_int_equal(store_family_get(fx->st, "GB-9999", &got), -CB_ENOENT);
	assert_int_equal(store_family_get_id(fx->st, 9999, &got), -CB_ENOENT);

	/* Listed by reference, not by insertion order. */
	cb_strlcpy(f.ref, "AA-1", sizeof(f.ref));
	f.display_name[0] = '\0';
	assert_int_equal(store_family_add(fx->st, &f, NOW, &id), 0);
	assert_int_equal(store_family_each(fx->st, collect_refs, refs), 0);
	assert_string_equal(refs[0], "AA-1");
	assert_string_equal(refs[1], "GB-2026-001");
	assert_string_equal(refs[2], "GB-2026-002");
	assert_string_equal(refs[3], "");
	assert_int_equal(store_family_get_id(fx->st, id, &got), 0);
	assert_string_equal(got.display_name, "");
}

/* Adds an outbox row for family fam with the given links and kind. */
static int64_t add_outbox(struct fx *fx, int64_t fam, int64_t appt, int64_t req, const char *kind)
{
	struct outbox_msg m = {0};

	m.family_id = fam;
	m.appointment_id = appt;
	m.request_id = req;
	cb_strlcpy(m.kind, kind, sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "test.key", sizeof(m.catalog_key));
	m.not_before = NOW + 3600;
	assert_int_equal(store_outbox_add(fx->st, &m, NOW), 0);
	assert_true(m.id > 0);
	assert_string_equal(m.status, "queued");
	return m.id;
}

static void outbox_status(struct fx *fx, int64_t id, char *out, size_t cap)
{
	sql_text(fx->st, out, cap, "SELECT status FROM outbox WHERE id = %lld", (long long)id);
}

static void test_family_close(void **state)
{
	struct fx *fx = *state;
	struct family got;
	char status[16];
	int64_t queued = add_outbox(fx, fx->fam, 0, 0, "checkin");
	int64_t sent = add_outbox(fx, fx->fam, 0, 0, "checkin");
	int64_t other = add_outbox(fx, fx->fam2, 0, 0, "checkin");

	sql(fx->st, "UPDATE outbox SET status = 'sent' WHERE id = %lld", (long long)sent);
	assert_int_equal(store_family_close(fx->st, fx->fam, NOW + 60), 0);
	assert_int_equal(store_family_get_id(fx->st, fx->fam, &got), 0);
	assert_string_equal(got.status, "closed");
	assert_int_equal((long long)got.closed_at, (long long)(NOW + 60));
	outbox_status(fx, queued, status, sizeof(status));
	assert_string_equal(status, "cancelled");
	assert_int_equal(sql_int(fx->st, "SELECT updated_at FROM outbox WHERE id = %lld",
				 (long long)queued), NOW + 60);
	outbox_status(fx, sent, status, sizeof(status));
	assert_string_equal(status, "sent");
	outbox_status(fx, other, status, sizeof(status));
	assert_string_equal(status, "queued");

	/* Closing twice is a state error and changes nothing. */
	assert_int_equal(store_family_close(fx->st, fx->fam, NOW + 120), -CB_ESTATE);
	assert_int_equal(store_family_get_id(fx->st, fx->fam, &got), 0);
	assert_int_equal((long long)got.closed_at, (long long)(NOW + 60));
	assert_int_equal(store_family_get_id(fx->st, fx->fam2, &got), 0);
	assert_string_equal(got.status, "active");
}

/* Members */

static int collect_members(const void *rec, void *arg)
{
	const struct member *m = rec;
	struct member *out = arg;
	int i = 0;

	while (out[i].id != 0)
		i++;
	out[i] = *m;
	return 0;
}

static void test_members(void **state)
{
	struct fx *fx = *state;
	struct member m = {0}, got, all[8];
	int64_t mum = 0, kid = 0, id = 0;
	enum member_role role;

	m.family_id = fx->fam;
	cb_strlcpy(m.name, "Amina", sizeof(m.name));
	m.role = MEMBER_PARENT;
	m.has_lang = 1;
	m.lang = LANG_EN;
	assert_int_equal(store_member_add(fx->st, &m, NOW, &mum), 0);
	cb_strlcpy(m.name, "Sami", sizeof(m.name));
	m.role = MEMBER_CHILD;
	m.has_lang = 0;
	assert_int_equal(store_member_add(fx->st, &m, NOW, &kid), 0);
	/* A name is unique within a family, not across families. */
	assert_int_equal(store_member_add(fx->st, &m, NOW, &id), -CB_EEXIST);
	m.family_id = fx->fam2;
	assert_int_equal(store_member_add(fx->st, &m, NOW, &id), 0);
	/* An unknown family. */
	m.family_id = 9999;
	assert_int_equal(store_member_add(fx->st, &m, NOW, &id), -CB_EINVAL);

	assert_int_equal(store_member_get(fx->st, fx->fam, "Amina", &got), 0);
	assert_int_equal(got.id, mum);
	assert_int_equal(got.family_id, fx->fam);
	assert_string_equal(got.name, "Amina");
	assert_int_equal(got.role, MEMBER_PARENT);
	assert_int_equal(got.has_lang, 1);
	assert_int_equal(got.lang, LANG_EN);
	assert_int_equal(store_member_get(fx->st, fx->fam, "Sami", &got), 0);
	assert_int_equal(got.id, kid);
	assert_int_equal(got.role, MEMBER_CHILD);
	assert_int_equal(got.has_lang, 0);
	assert_int_equal(store_member_get(fx->st, fx->fam2, "Amina", &got), -CB_ENOENT);

	memset(all, 0, sizeof(all));
	assert_int_equal(store_member_each(fx->st, fx->fam, collect_members, all), 0);
	assert_int_equal(all[0].id, mum);
	assert_int_equal(all[1].id, kid);
	assert_int_equal(all[2].id, 0);

	assert_string_equal(store_member_role_name(MEMBER_OTHER), "other");
	assert_int_equal(store_member_role_parse("child", &role), 0);
	assert_int_equal(role, MEMBER_CHILD);
	assert_int_equal(store_member_role_parse("Child", &role), -CB_EINVAL);
}

/* Appointments and document requests */

static int collect_appts(const void *rec, void *arg)
{
	const struct appointment *a = rec;
	struct appointment *out = arg;
	int i = 0;

	while (out[i].id != 0)
		i++;
	out[i] = *a;
	return 0;
}

static void test_appointments(void **state)
{
	struct fx *fx = *state;
	struct member m = {0};
	struct appointment a = {0}, b = {0}, got, all[4];
	int64_t mum = 0;

	m.family_id = fx->fam;
	cb_strlcpy(m.name, "Amina", sizeof(m.name));
	assert_int_equal(store_member_add(fx->st, &m, NOW, &mum), 0);

	a.family_id = fx->fam;
	a.member_id = mum;
	cb_strlcpy(a.kind, "lawyer", sizeof(a.kind));
	a.starts_at = NOW + 7 * 86400;
	cb_strlcpy(a.place, "Rue de la Loi 1", sizeof(a.place));
	assert_int_equal(store_appointment_add(fx->st, &a, NOW), 0);
	assert_true(a.id > 0);
	assert_string_equal(a.status, "scheduled");
	b.family_id = fx->fam;
	cb_strlcpy(b.kind, "home_visit", sizeof(b.kind));
	b.starts_at = NOW + 86400;
	assert_int_equal(store_appointment_add(fx->st, &b, NOW), 0);
	/* The schema refuses a kind it does not know. */
	cb_strlcpy(b.kind, "party", sizeof(b.kind));
	assert_int_equal(store_appointment_add(fx->st, &b, NOW), -CB_EINVAL);
	assert_int_equal(store_appointment_kind_valid("party"), 0);
	assert_int_equal(store_appointment_kind_valid("immigration_office"), 1);

	assert_int_equal(store_appointment_get(fx->st, a.id, &got), 0);
	assert_int_equal(got.family_id, fx->fam);
	assert_int_equal(got.member_id, mum);
	assert_string_equal(got.member, "Amina");
	assert_string_equal(got.kind, "lawyer");
	assert_int_equal((long long)got.starts_at, (long long)(NOW + 7 * 86400));
	assert_string_equal(got.place, "Rue de la Loi 1");
	assert_string_equal(got.status, "scheduled");
	assert_int_equal((long long)got.answered_at, 0);
	assert_int_equal(store_appointment_get(fx->st, 9999, &got), -CB_ENOENT);

	/* Listed by start time. */
	memset(all, 0, sizeof(all));
	assert_int_equal(store_appointment_each(fx->st, fx->fam, collect_appts, all), 0);
	assert_int_equal(all[0].id, b.id);
	assert_string_equal(all[0].member, "");
	assert_string_equal(all[0].place, "");
	assert_int_equal(all[1].id, a.id);
	assert_int_equal(all[2].id, 0);
	memset(all, 0, sizeof(all));
	assert_int_equal(store_appointment_each(fx->st, fx->fam2, collect_appts, all), 0);
	assert_int_equal(all[0].id, 0);

	/* A new status and time clears the family's earlier answer. */
	sql(fx->st, "UPDATE appointments SET status = 'confirmed', answered_at = %lld WHERE id = %lld",
	    (long long)NOW + 10, (long long)a.id);
	assert_int_equal(store_appointment_get(fx->st, a.id, &got), 0);
	assert_int_equal((long long)got.answered_at, (long long)NOW + 10);
	assert_int_equal(store_appointment_set(fx->st, a.id, "scheduled", NOW + 8 * 86400, NOW + 20), 0);
	assert_int_equal(store_appointment_get(fx->st, a.id, &got), 0);
	assert_string_equal(got.status, "scheduled");
	assert_int_equal((long long)got.starts_at, (long long)(NOW + 8 * 86400));
	assert_int_equal((long long)got.answered_at, 0);
	assert_int_equal(sql_int(fx->st, "SELECT updated_at FROM appointments WHERE id = %lld",
				 (long long)a.id), NOW + 20);
	assert_int_equal(store_appointment_set(fx->st, a.id, "cancelled", got.starts_at, NOW + 30), 0);
	assert_int_equal(store_appointment_get(fx->st, a.id, &got), 0);
	assert_string_equal(got.status, "cancelled");
	assert_int_equal(store_appointment_set(fx->st, a.id, "postponed", got.starts_at, NOW), -CB_EINVAL);
}

static int collect_reqs(const void *rec, void *arg)
{
	const struct doc_request *r = rec;
	struct doc_request *out = arg;
	int i = 0;

	while (out[i].id != 0)
		i++;
	out[i] = *r;
	return 0;
}

static void test_docreqs(void **state)
{
	struct fx *fx = *state;
	struct doc_request r = {0}, s = {0}, all[4];

	r.family_id = fx->fam;
	cb_strlcpy(r.doc_type, "passport", sizeof(r.doc_type));
	cb_strlcpy(r.due_date, "2026-12-15", sizeof(r.due_date));
	cb_strlcpy(r.note, "copy of every page", sizeof(r.note));
	assert_int_equal(store_docreq_add(fx->st, &r, NOW), 0);
	assert_true(r.id > 0);
	assert_string_equal(r.status, "open");
	assert_int_equal((long long)r.created_at, (long long)NOW);
	s.family_id = fx->fam;
	cb_strlcpy(s.doc_type, "school_certificate", sizeof(s.doc_type));
	assert_int_equal(store_docreq_add(fx->st, &s, NOW + 1), 0);
	cb_strlcpy(s.doc_type, "selfie", sizeof(s.doc_type));
	assert_int_equal(store_docreq_add(fx->st, &s, NOW), -CB_EINVAL);
	assert_int_equal(store_doc_type_valid("selfie"), 0);
	assert_int_equal(store_doc_type_valid("order_to_leave"), 1);

	/* Two documents received for the first request. */
	for (int i = 0; i < 2; i++)
		sql(fx->st, "INSERT INTO documents (family_id, request_id, received_at, mime, size, mac,"
		    " path) VALUES (%lld, %lld, %lld, 'image/jpeg', 10, zeroblob(32), 'f/%d.bin')",
		    (long long)fx->fam, (long long)r.id, (long long)NOW, i);

	memset(all, 0, sizeof(all));
	assert_int_equal(store_docreq_each(fx->st, fx->fam, collect_reqs, all), 0);
	assert_int_equal(all[0].id, r.id);
	assert_int_equal(all[0].family_id, fx->fam);
	assert_int_equal(all[0].member_id, 0);
	assert_string_equal(all[0].doc_type, "passport");
	assert_string_equal(all[0].due_date, "2026-12-15");
	assert_string_equal(all[0].note, "copy of every page");
	assert_string_equal(all[0].status, "open");
	assert_int_equal((long long)all[0].created_at, (long long)NOW);
	assert_int_equal(all[0].documents, 2);
	assert_int_equal(all[1].id, s.id);
	assert_string_equal(all[1].due_date, "");
	assert_string_equal(all[1].note, "");
	assert_int_equal(all[1].documents, 0);
	assert_int_equal(all[2].id, 0);
}

/* Check-in plans */

static void test_checkin(void **state)
{
	struct fx *fx = *state;
	struct checkin_plan p = {0}, got;

	assert_int_equal(store_checkin_get(fx->st, fx->fam, &got), -CB_ENOENT);
	assert_int_equal(store_checkin_off(fx->st, fx->fam, NOW), -CB_ESTATE);

	p.family_id = fx->fam;
	p.every_days = 7;
	p.weekday = 2;
	p.minute_of_day = 18 * 60;
	assert_int_equal(store_checkin_set(fx->st, &p, NOW), 0);
	assert_int_equal(store_checkin_get(fx->st, fx->fam, &got), 0);
	assert_int_equal(got.family_id, fx->fam);
	assert_int_equal(got.every_days, 7);
	assert_int_equal(got.weekday, 2);
	assert_int_equal(got.minute_of_day, 1080);
	assert_int_equal(got.active, 1);

	/* Setting again updates the one plan. */
	p.every_days = 14;
	p.weekday = 5;
	p.minute_of_day = 9 * 60 + 30;
	assert_int_equal(store_checkin_set(fx->st, &p, NOW + 1), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM checkin_plans"), 1);
	assert_int_equal(store_checkin_get(fx->st, fx->fam, &got), 0);
	assert_int_equal(got.every_days, 14);
	assert_int_equal(got.weekday, 5);
	assert_int_equal(got.minute_of_day, 570);

	assert_int_equal(store_checkin_off(fx->st, fx->fam, NOW + 2), 0);
	assert_int_equal(store_checkin_get(fx->st, fx->fam, &got), 0);
	assert_int_equal(got.active, 0);
	assert_int_equal(got.every_days, 14);
	assert_int_equal(store_checkin_off(fx->st, fx->fam, NOW + 3), -CB_ESTATE);
	assert_int_equal(sql_int(fx->st, "SELECT updated_at FROM checkin_plans WHERE family_id = %lld",
				 (long long)fx->fam), NOW + 2);
	/* Setting a plan that is off turns it back on. */
	assert_int_equal(store_checkin_set(fx->st, &p, NOW + 4), 0);
	assert_int_equal(store_checkin_get(fx->st, fx->fam, &got), 0);
	assert_int_equal(got.active, 1);

	/* Out of range values break the schema's checks. */
	p.every_days = 0;
	assert_int_equal(store_checkin_set(fx->st, &p, NOW), -CB_EINVAL);
	p.every_days = 7;
	p.weekday = 8;
	assert_int_equal(store_checkin_set(fx->st, &p, NOW), -CB_EINVAL);
	p.weekday = 1;
	p.minute_of_day = 1440;
	assert_int_equal(store_checkin_set(fx->st, &p, NOW), -CB_EINVAL);
	assert_int_equal(store_checkin_get(fx->st, fx->fam, &got), 0);
	assert_int_equal(got.every_days, 14);
}

/* Outbox */

static int collect_outbox(const void *rec, void *arg)
{
	const struct outbox_msg *m = rec;
	struct outbox_msg *out = arg;
	int i = 0;

	while (out[i].id != 0)
		i++;
	/* The row's params are lent for the call only. */
	return store_outbox_msg_copy(&out[i], m);
}

static void test_outbox(void **state)
{
	struct fx *fx = *state;
	struct appointment a = {0}, b = {0};
	struct doc_request r = {0};
	struct outbox_msg m = {0}, all[4];
	char status[16];
	int64_t a_queued, a_sent, b_queued, r_queued, r_failed, k_queued, k_sent, k_other, k_fam2;

	a.family_id = b.family_id = fx->fam;
	cb_strlcpy(a.kind, "doctor", sizeof(a.kind));
	cb_strlcpy(b.kind, "school", sizeof(b.kind));
	a.starts_at = b.starts_at = NOW + 86400;
	assert_int_equal(store_appointment_add(fx->st, &a, NOW), 0);
	assert_int_equal(store_appointment_add(fx->st, &b, NOW), 0);
	r.family_id = fx->fam;
	cb_strlcpy(r.doc_type, "payslip", sizeof(r.doc_type));
	assert_int_equal(store_docreq_add(fx->st, &r, NOW), 0);

	a_queued = add_outbox(fx, fx->fam, a.id, 0, "reminder");
	a_sent = add_outbox(fx, fx->fam, a.id, 0, "reminder");
	b_queued = add_outbox(fx, fx->fam, b.id, 0, "reminder");
	r_queued = add_outbox(fx, fx->fam, 0, r.id, "doc_reminder");
	r_failed = add_outbox(fx, fx->fam, 0, r.id, "doc_reminder");
	k_queued = add_outbox(fx, fx->fam, 0, 0, "checkin");
	k_sent = add_outbox(fx, fx->fam, 0, 0, "checkin");
	k_other = add_outbox(fx, fx->fam, 0, 0, "relay");
	k_fam2 = add_outbox(fx, fx->fam2, 0, 0, "checkin");
	sql(fx->st, "UPDATE outbox SET status = 'sent' WHERE id IN (%lld, %lld)",
	    (long long)a_sent, (long long)k_sent);
	sql(fx->st, "UPDATE outbox SET status = 'failed' WHERE id = %lld", (long long)r_failed);

	assert_int_equal(store_outbox_cancel_appointment(fx->st, a.id, NOW + 5), 0);
	outbox_status(fx, a_queued, status, sizeof(status));
	assert_string_equal(status, "cancelled");
	outbox_status(fx, a_sent, status, sizeof(status));
	assert_string_equal(status, "sent");
	outbox_status(fx, b_queued, status, sizeof(status));
	assert_string_equal(status, "queued");
	outbox_status(fx, r_queued, status, sizeof(status));
	assert_string_equal(status, "queued");

	assert_int_equal(store_outbox_cancel_request(fx->st, r.id, NOW + 6), 0);
	outbox_status(fx, r_queued, status, sizeof(status));
	assert_string_equal(status, "cancelled");
	outbox_status(fx, r_failed, status, sizeof(status));
	assert_string_equal(status, "failed");
	outbox_status(fx, b_queued, status, sizeof(status));
	assert_string_equal(status, "queued");

	assert_int_equal(store_outbox_cancel_kind(fx->st, fx->fam, "checkin", NOW + 7), 0);
	outbox_status(fx, k_queued, status, sizeof(status));
	assert_string_equal(status, "cancelled");
	outbox_status(fx, k_sent, status, sizeof(status));
	assert_string_equal(status, "sent");
	outbox_status(fx, k_other, status, sizeof(status));
	assert_string_equal(status, "queued");
	outbox_status(fx, k_fam2, status, sizeof(status));
	assert_string_equal(status, "queued");
	outbox_status(fx, b_queued, status, sizeof(status));
	assert_string_equal(status, "queued");
	/* Exactly three rows were cancelled, each at its own time. */
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM outbox WHERE status = 'cancelled'"), 3);
	assert_int_equal(sql_int(fx->st, "SELECT updated_at FROM outbox WHERE id = %lld",
				 (long long)k_queued), NOW + 7);
	assert_int_equal(sql_int(fx->st, "SELECT updated_at FROM outbox WHERE id = %lld",
				 (long long)k_sent), NOW);

	/* A row reads back as written; params default to "{}" and a zero
	 * expiry is none. */
	m.family_id = fx->fam2;
	m.staff_id = fx->couns;
	m.urgent = 1;
	cb_strlcpy(m.kind, "forward", sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "relay.forward", sizeof(m.catalog_key));
	m.params = "{\"text\":\"hallo\"}";
	m.not_before = NOW - 10;
	m.expires_at = NOW + 600;
	assert_int_equal(store_outbox_add(fx->st, &m, NOW), 0);
	memset(all, 0, sizeof(all));
	assert_int_equal(store_outbox_each_family(fx->st, fx->fam2, collect_outbox, all), 0);
	/* Ordered by not_before: the new row comes first. */
	assert_int_equal(all[0].id, m.id);
	assert_int_equal(all[0].staff_id, fx->couns);
	assert_int_equal(all[0].member_id, 0);
	assert_int_equal(all[0].urgent, 1);
	assert_string_equal(all[0].kind, "forward");
	assert_string_equal(all[0].catalog_key, "relay.forward");
	assert_string_equal(all[0].params, "{\"text\":\"hallo\"}");
	assert_int_equal((long long)all[0].not_before, (long long)(NOW - 10));
	assert_int_equal((long long)all[0].expires_at, (long long)(NOW + 600));
	assert_string_equal(all[0].status, "queued");
	assert_int_equal(all[0].attempts, 0);
	assert_int_equal(all[1].id, k_fam2);
	assert_string_equal(all[1].params, "{}");
	assert_int_equal((long long)all[1].expires_at, 0);
	assert_int_equal(all[2].id, 0);
	store_outbox_msg_free(&all[0]);
	store_outbox_msg_free(&all[1]);
	assert_int_equal(sql_int(fx->st, "SELECT expires_at IS NULL FROM outbox WHERE id = %lld",
				 (long long)k_fam2), 1);
}

/* Contact log and audit */

static int collect_contacts(const void *rec, void *arg)
{
	const struct contact *c = rec;
	struct contact *out = arg;
	int i = 0;

	while (out[i].id != 0)
		i++;
	out[i] = *c;
	return 0;
}

/* The plan of the cached statement whose text contains marker fails the
 * test if it reads the outbox row by row instead of through an index. */
static void assert_outbox_indexed(struct store *st, const char *marker)
{
	sqlite3 *db = store_db(st);
	sqlite3_stmt *s = NULL, *plan = NULL;
	char *sql, plan_text[1024] = "";
	int searched = 0, scanned = 0;

	while ((s = sqlite3_next_stmt(db, s)) != NULL)
		if (strstr(sqlite3_sql(s), marker) != NULL)
			break;
	assert_non_null(s);
	sql = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sqlite3_sql(s));
	assert_non_null(sql);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &plan, NULL), SQLITE_OK);
	while (sqlite3_step(plan) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(plan, 3);

		strncat(plan_text, d, sizeof(plan_text) - strlen(plan_text) - 2);
		strcat(plan_text, ";");
		if (strncmp(d, "SEARCH o USING INDEX outbox_", 28) == 0)
			searched = 1;
		if (strcmp(d, "SCAN o") == 0 || strncmp(d, "SCAN o ", 7) == 0)
			scanned = 1;
	}
	sqlite3_finalize(plan);
	sqlite3_free(sql);
	if (!searched || scanned)
		fail_msg("%s: %s", marker, plan_text);
}

/* A staff reply finds its forward, and a forward finds the family's last
 * automatic message, through the chat's index: neither reads the whole
 * outbox. */
static void test_outbox_plans(void **state)
{
	struct fx *fx = *state;
	struct outbox_msg m = {0};

	assert_int_equal(store_outbox_find_forward(fx->st, 1, "42", &m), -CB_ENOENT);
	assert_int_equal(store_outbox_last_auto(fx->st, 1, &m), -CB_ENOENT);
	assert_outbox_indexed(fx->st, "o.kind = 'forward' AND (o.gateway_message_id");
	assert_outbox_indexed(fx->st, "o.status IN ('sent', 'delivered', 'read') ORDER BY o.updated_at");
}

static void test_contact_and_audit(void **state)
{
	struct fx *fx = *state;
	struct member m = {0};
	struct contact all[5];
	int64_t mum = 0;

	m.family_id = fx->fam;
	cb_strlcpy(m.name, "Amina", sizeof(m.name));
	assert_int_equal(store_member_add(fx->st, &m, NOW, &mum), 0);

	/* Written out of time order on purpose. */
	assert_int_equal(store_contact_add(fx->st, fx->fam, NOW + 200, "in", "telegram", "reply", 0,
					   mum, "confirmed", NULL, NULL), 0);
	assert_int_equal(store_contact_add(fx->st, fx->fam, NOW + 100, "out", "telegram", "reminder",
					   fx->couns, mum, "reminder.appointment", NULL, "delivered"), 0);
	assert_int_equal(store_contact_add(fx->st, fx->fam, NOW + 300, "internal", NULL, "note",
					   fx->couns, 0, "reply", "{}", ""), 0);
	assert_int_equal(store_contact_add(fx->st, fx->fam2, NOW + 150, "in", "sms", "reply", 0, 0,
					   "text", "{\"bytes\":\"3\"}", NULL), 0);
	assert_int_equal(store_contact_add(fx->st, fx->fam, NOW, "sideways", NULL, "note", 0, 0,
					   "help", NULL, NULL), -CB_EINVAL);

	memset(all, 0, sizeof(all));
	assert_int_equal(store_contact_each(fx->st, fx->fam, 0, collect_contacts, all), 0);
	assert_int_equal((long long)all[0].at, (long long)(NOW + 100));
	assert_int_equal(all[0].family_id, fx->fam);
	assert_string_equal(all[0].direction, "out");
	assert_string_equal(all[0].channel_kind, "telegram");
	assert_string_equal(all[0].kind, "reminder");
	assert_string_equal(all[0].staff, "sofie");
	assert_string_equal(all[0].member, "Amina");
	assert_string_equal(all[0].code, "reminder.appointment");
	assert_string_equal(all[0].params, "{}");
	assert_string_equal(all[0].status, "delivered");
	assert_int_equal((long long)all[1].at, (long long)(NOW + 200));
	assert_string_equal(all[1].staff, "");
	assert_string_equal(all[1].status, "");
	assert_int_equal((long long)all[2].at, (long long)(NOW + 300));
	assert_string_equal(all[2].channel_kind, "");
	assert_string_equal(all[2].member, "");
	assert_int_equal(all[3].id, 0);

	/* since is inclusive. */
	memset(all, 0, sizeof(all));
	assert_int_equal(store_contact_each(fx->st, fx->fam, NOW + 200, collect_contacts, all), 0);
	assert_int_equal((long long)all[0].at, (long long)(NOW + 200));
	assert_int_equal((long long)all[1].at, (long long)(NOW + 300));
	assert_int_equal(all[2].id, 0);
	memset(all, 0, sizeof(all));
	assert_int_equal(store_contact_each(fx->st, fx->fam, NOW + 301, collect_contacts, all), 0);
	assert_int_equal(all[0].id, 0);

	assert_int_equal(store_audit(fx->st, NOW, "sofie", "family.show", "GB-2026-001", NULL), 0);
	assert_int_equal(store_audit(fx->st, NOW + 1, "cli", "staff.add", NULL, "anna"), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit"), 2);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit WHERE at = %lld AND actor = 'sofie'"
				 " AND action = 'family.show' AND family_ref = 'GB-2026-001'"
				 " AND detail IS NULL", (long long)NOW), 1);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit WHERE actor = 'cli'"
				 " AND family_ref IS NULL AND detail = 'anna'"), 1);
}

/* Inbound: nothing is handled twice. */
static void test_inbound_unique(void **state)
{
	struct fx *fx = *state;
	sqlite3 *db = store_db(fx->st);
	static const char ins[] =
		"INSERT INTO inbound (channel_kind, external_id, sender, received_at, event)"
		" VALUES ('telegram', '1001', '42', 1, '{}')";

	assert_int_equal(sqlite3_exec(db, ins, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, ins, NULL, NULL, NULL), SQLITE_CONSTRAINT);
	assert_int_equal(sqlite3_extended_errcode(db), SQLITE_CONSTRAINT_UNIQUE);
	/* The same id on another channel is another message. */
	sql(fx->st, "INSERT INTO inbound (channel_kind, external_id, sender, received_at, event)"
	    " VALUES ('whatsapp', '1001', '42', 1, '{}')");
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM inbound"), 2);
}

/* A gateway's batch and its cursor go in together or not at all, and the
 * connection is back at synchronous=NORMAL after. */
static void test_inbound_batch(void **state)
{
	struct fx *fx = *state;
	struct inbound_new ev[] = {{"u1", "42", "{}", -1}, {"u2", "43", "{}", -1}};
	struct inbound_new again[] = {{"u2", "43", "{}", -1}, {"u3", "43", "{}", -1}};
	struct inbound_new lost[] = {{"u4", "44", "{}", -1}};
	const struct inbound_cursor cur[] = {{"offset", "3"}, {"epoch", "1"}};
	const struct inbound_cursor next[] = {{"offset", "4"}};
	const struct inbound_cursor bad[] = {{"offset", NULL}};
	char value[32];

	assert_int_equal(store_inbound_batch(fx->st, "telegram", NOW, ev, 2, cur, 2), 0);
	assert_int_equal(ev[0].stored, 1);
	assert_int_equal(ev[1].stored, 1);
	assert_int_equal(store_state_get(fx->st, "telegram", "offset", value, sizeof(value)), 0);
	assert_string_equal(value, "3");
	assert_int_equal(store_state_get(fx->st, "telegram", "epoch", value, sizeof(value)), 0);
	assert_string_equal(value, "1");
	/* Seen before: not stored again, and no error. */
	assert_int_equal(store_inbound_batch(fx->st, "telegram", NOW, again, 2, next, 1), 0);
	assert_int_equal(again[0].stored, 0);
	assert_int_equal(again[1].stored, 1);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM inbound"), 3);
	/* A cursor that cannot be written takes the events with it. */
	assert_true(store_inbound_batch(fx->st, "telegram", NOW, lost, 1, bad, 1) != 0);
	assert_int_equal(lost[0].stored, 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM inbound"), 3);
	assert_int_equal(store_state_get(fx->st, "telegram", "offset", value, sizeof(value)), 0);
	assert_string_equal(value, "4");
	assert_int_equal(sql_int(fx->st, "PRAGMA synchronous"), 1);
	assert_int_equal(store_begin(fx->st), 0);
	store_rollback(fx->st);
}

/* Invites */

static void test_invites(void **state)
{
	static const char alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
	struct fx *fx = *state;
	unsigned char h1[32], h2[32];
	char codes[20][INVITE_CODE_LEN + 1];

	for (int i = 0; i < 20; i++) {
		sqlite3_stmt *s = NULL;

		memset(codes[i], 0, sizeof(codes[i]));
		assert_int_equal(store_invite_create(fx->st, fx->fam, 0, 0, NOW, NOW + 86400, codes[i]), 0);
		assert_int_equal(strlen(codes[i]), INVITE_CODE_LEN);
		assert_int_equal(strspn(codes[i], alphabet), INVITE_CODE_LEN);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(codes[i], codes[j]);

		/* The stored hash is the hash of the code, 32 bytes. */
		assert_int_equal(sqlite3_prepare_v2(store_db(fx->st),
						    "SELECT code_hash FROM invites ORDER BY id DESC LIMIT 1",
						    -1, &s, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		assert_int_equal(sqlite3_column_type(s, 0), SQLITE_BLOB);
		assert_int_equal(sqlite3_column_bytes(s, 0), 32);
		assert_int_equal(store_invite_hash(codes[i], h1), 0);
		assert_memory_equal(sqlite3_column_blob(s, 0), h1, 32);
		sqlite3_finalize(s);
	}
	/* The code text is nowhere in the file. */
	for (int i = 0; i < 20; i++)
		if (db_contains(fx, codes[i]))
			fail_msg("invite code %s stored in clear", codes[i]);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM invites WHERE family_id = %lld AND"
				 " staff_id IS NULL AND used_at IS NULL AND expires_at = %lld",
				 (long long)fx->fam, (long long)NOW + 86400), 20);

	/* A staff invite; an invite for nobody breaks the schema's check. */
	assert_int_equal(store_invite_create(fx->st, 0, 0, fx->couns, NOW, NOW + 60, codes[0]), 0);
	assert_int_equal(store_invite_create(fx->st, 0, 0, 0, NOW, NOW + 60, codes[0]), -CB_EINVAL);

	/* Case, dashes and spaces do not matter. */
	assert_int_equal(store_invite_hash("ABCDE23456", h1), 0);
	assert_int_equal(store_invite_hash("abcde-23456", h2), 0);
	assert_memory_equal(h1, h2, 32);
	assert_int_equal(store_invite_hash(" Ab Cd E-2345 6 ", h2), 0);
	assert_memory_equal(h1, h2, 32);
	assert_int_equal(store_invite_hash("ABCDE23457", h2), 0);
	assert_memory_not_equal(h1, h2, 32);
	/* Wrong lengths. */
	assert_int_equal(store_invite_hash("ABCDE2345", h2), -CB_EINVAL);
	assert_int_equal(store_invite_hash("ABCDE234567", h2), -CB_EINVAL);
	assert_int_equal(store_invite_hash("ABCDE2345-", h2), -CB_EINVAL);
	assert_int_equal(store_invite_hash("----------", h2), -CB_EINVAL);
	assert_int_equal(store_invite_hash("", h2), -CB_EINVAL);
}

/* A chat that goes: its queued rows wait for the owner's next chat, unless
 * another chat has the same row queued; everything else about it goes. */
static void test_channel_unlink(void **state)
{
	struct fx *fx = *state;
	struct channel a, b;

	assert_int_equal(store_channel_link(fx->st, fx->fam, 0, 0, "telegram", "111", NOW, &a), 0);
	assert_int_equal(store_channel_link(fx->st, fx->fam, 0, 0, "telegram", "222", NOW, &b), 0);
	for (int i = 0; i < 2; i++)
		sql(fx->st, "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, params, not_before,"
		    " created_at, updated_at) VALUES (%lld, %lld, 'checkin', 'checkin.question', '{}', %lld, %lld, %lld)",
		    (long long)fx->fam, (long long)(i == 0 ? a.id : b.id), (long long)NOW, (long long)NOW, (long long)NOW);
	sql(fx->st, "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, params, not_before,"
	    " created_at, updated_at) VALUES (%lld, %lld, 'welcome', 'welcome', '{}', %lld, %lld, %lld)",
	    (long long)fx->fam, (long long)a.id, (long long)NOW, (long long)NOW, (long long)NOW);
	sql(fx->st, "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, params, not_before, status,"
	    " created_at, updated_at) VALUES (%lld, %lld, 'reminder', 'k', '{}', %lld, 'sent', %lld, %lld)",
	    (long long)fx->fam, (long long)a.id, (long long)NOW, (long long)NOW, (long long)NOW);
	assert_int_equal(store_state_set(fx->st, "staff-reply", "111", "5"), 0);
	assert_int_equal(store_channel_unlink(fx->st, a.id, NOW + 1), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM channels WHERE address = '111'"), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM outbox WHERE kind = 'checkin'"), 1);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM outbox WHERE kind = 'checkin' AND status = 'queued'"
				 " AND channel_id = %lld", (long long)b.id), 1);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM outbox WHERE kind = 'welcome' AND status = 'queued'"
				 " AND channel_id IS NULL"), 1);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM outbox WHERE kind = 'reminder'"), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM gateway_state WHERE key = '111'"), 0);
	assert_int_equal(store_channel_unlink(fx->st, a.id, NOW + 1), -CB_ENOENT);
}

/* Closing a family kills its unused codes; a staff member's go the same way. */
static void test_invite_kill(void **state)
{
	struct fx *fx = *state;
	char code[INVITE_CODE_LEN + 1], pairing[STAFF_PAIRING_DIGITS + 1];
	struct channel ch;

	assert_int_equal(store_invite_create(fx->st, fx->fam, 0, 0, NOW, NOW + 86400, code), 0);
	assert_int_equal(store_family_close(fx->st, fx->fam, NOW), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM invites WHERE family_id = %lld", (long long)fx->fam), 0);
	assert_int_equal(store_invite_redeem(fx->st, code, "telegram", "42", NOW, &ch, pairing), -CB_ENOENT);
	assert_int_equal(store_invite_create(fx->st, 0, 0, fx->couns, NOW, NOW + 86400, code), 0);
	assert_int_equal(store_invite_kill(fx->st, 0, fx->couns), 0);
	assert_int_equal(store_invite_redeem(fx->st, code, "telegram", "42", NOW, &ch, pairing), -CB_ENOENT);
	/* A staff code links pending, with a number kept only as a salted hash. */
	assert_int_equal(store_invite_create(fx->st, 0, 0, fx->couns, NOW, NOW + 86400, code), 0);
	assert_int_equal(store_invite_redeem(fx->st, code, "telegram", "42", NOW, &ch, pairing), 0);
	assert_int_equal(strlen(pairing), STAFF_PAIRING_DIGITS);
	assert_int_equal(ch.verified, 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM staff_pairings WHERE length(salt) = 16"
				 " AND length(number_hash) = 32 AND instr(number_hash, %Q) = 0", pairing), 1);
}

/* Erasure */

struct docs_seen {
	char paths[4][64];
	int n;
};

static void doc_seen(const char *path, void *arg)
{
	struct docs_seen *d = arg;

	if (d->n < 4)
		cb_strlcpy(d->paths[d->n], path, sizeof(d->paths[0]));
	d->n++;
}

/* Gives family fam a row in every table that hangs off a family. tag makes
 * its text unique so the file can be searched for it afterwards. */
static void populate(struct fx *fx, int64_t fam, const char *tag, const char *tg_addr,
		     const char *sms_addr)
{
	struct member m = {0};
	struct appointment a = {0};
	struct doc_request r = {0};
	struct checkin_plan p = {0};
	char code[INVITE_CODE_LEN + 1], summary[64];
	int64_t mid = 0, chan;

	m.family_id = fam;
	snprintf(m.name, sizeof(m.name), "Member%s", tag);
	assert_int_equal(store_member_add(fx->st, &m, NOW, &mid), 0);
	sql(fx->st, "INSERT INTO channels (family_id, member_id, kind, address, created_at)"
	    " VALUES (%lld, %lld, 'telegram', %Q, %lld)", (long long)fam, (long long)mid, tg_addr,
	    (long long)NOW);
	chan = sqlite3_last_insert_rowid(store_db(fx->st));
	sql(fx->st, "INSERT INTO channels (family_id, member_id, kind, address, created_at)"
	    " VALUES (%lld, %lld, 'sms', %Q, %lld)", (long long)fam, (long long)mid, sms_addr,
	    (long long)NOW);
	assert_int_equal(store_invite_create(fx->st, fam, mid, 0, NOW, NOW + 86400, code), 0);
	a.family_id = fam;
	a.member_id = mid;
	cb_strlcpy(a.kind, "court", sizeof(a.kind));
	a.starts_at = NOW + 86400;
	snprintf(a.place, sizeof(a.place), "Place%s", tag);
	assert_int_equal(store_appointment_add(fx->st, &a, NOW), 0);
	r.family_id = fam;
	r.member_id = mid;
	cb_strlcpy(r.doc_type, "id_card", sizeof(r.doc_type));
	snprintf(r.note, sizeof(r.note), "Note%s", tag);
	assert_int_equal(store_docreq_add(fx->st, &r, NOW), 0);
	for (int i = 1; i <= 2; i++)
		sql(fx->st, "INSERT INTO documents (family_id, request_id, member_id, received_at, mime,"
		    " size, mac, path) VALUES (%lld, NULLIF(%lld, 0), %lld, %lld, 'application/pdf', 100,"
		    " zeroblob(32), '%q/doc%d.bin')", (long long)fam, (long long)(i == 1 ? r.id : 0),
		    (long long)mid, (long long)NOW, tag, i);
	p.family_id = fam;
	p.every_days = 7;
	p.weekday = 1;
	p.minute_of_day = 600;
	assert_int_equal(store_checkin_set(fx->st, &p, NOW), 0);
	sql(fx->st, "INSERT INTO outbox (family_id, member_id, channel_id, appointment_id, kind,"
	    " catalog_key, params, not_before, created_at, updated_at) VALUES (%lld, %lld, %lld, %lld,"
	    " 'reminder', 'k', '{\"p\":\"Params%q\"}', %lld, %lld, %lld)", (long long)fam,
	    (long long)mid, (long long)chan, (long long)a.id, tag, (long long)NOW, (long long)NOW,
	    (long long)NOW);
	snprintf(summary, sizeof(summary), "Summary%s", tag);
	assert_int_equal(store_contact_add(fx->st, fam, NOW, "in", "telegram", "reply", fx->couns, mid,
					   summary, NULL, NULL), 0);
	sql(fx->st, "INSERT INTO alerts (family_id, staff_id, kind, summary, created_at)"
	    " VALUES (%lld, %lld, 'unreached', 'Alert%q', %lld)", (long long)fam, (long long)fx->couns,
	    tag, (long long)NOW);
	sql(fx->st, "INSERT INTO inbound (channel_kind, external_id, sender, received_at, event)"
	    " VALUES ('telegram', 'tg-%q', %Q, %lld, '{\"text\":\"Inbound%q\"}')", tag, tg_addr,
	    (long long)NOW, tag);
	sql(fx->st, "INSERT INTO inbound (channel_kind, external_id, sender, received_at, event)"
	    " VALUES ('sms', 'sms-%q', %Q, %lld, '{}')", tag, sms_addr, (long long)NOW);
	assert_int_equal(store_audit(fx->st, NOW, "sofie", "family.show", tag, NULL), 0);
}

static const char *const family_tables[] = {
	"members", "channels", "invites", "appointments", "document_requests", "documents",
	"checkin_plans", "outbox", "contact_log", "alerts",
};

static void test_erase(void **state)
{
	struct fx *fx = *state;
	struct docs_seen seen = {0};
	struct family f;
	int64_t before2[CB_ARRAY_SIZE(family_tables)];
	static const char *const markers[] = {
		"MemberXq7A", "PlaceXq7A", "NoteXq7A", "ParamsXq7A", "SummaryXq7A", "AlertXq7A",
		"InboundXq7A", "Amina",
	};

	populate(fx, fx->fam, "Xq7A", "100001", "+32470000001");
	populate(fx, fx->fam2, "Xq7B", "200002", "+32470000002");
	/* Rows that only look like the family's: another channel kind with the
	 * same address, a stranger, and a message to the counsellor. */
	sql(fx->st, "INSERT INTO inbound (channel_kind, external_id, sender, received_at, event)"
	    " VALUES ('whatsapp', 'wa-1', '100001', 1, '{}'), ('telegram', 'tg-x', '999', 1, '{}')");
	sql(fx->st, "INSERT INTO outbox (staff_id, kind, catalog_key, not_before, created_at,"
	    " updated_at) VALUES (%lld, 'digest', 'k', 1, 1, 1)", (long long)fx->couns);
	for (size_t i = 0; i < CB_ARRAY_SIZE(family_tables); i++) {
		assert_true(sql_int(fx->st, "SELECT count(*) FROM %s WHERE family_id = %lld",
				    family_tables[i], (long long)fx->fam) >= 1);
		before2[i] = sql_int(fx->st, "SELECT count(*) FROM %s WHERE family_id = %lld",
				     family_tables[i], (long long)fx->fam2);
	}
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM inbound"), 6);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit"), 2);
	/* The search below finds what is there. */
	for (size_t i = 0; i < CB_ARRAY_SIZE(markers); i++)
		assert_true(db_contains(fx, markers[i]));

	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(store_family_erase(fx->st, fx->fam, 0, doc_seen, &seen), 0);
	assert_int_equal(store_commit(fx->st), 0);

	/* Its document paths were handed back, and only its own. */
	assert_int_equal(seen.n, 2);
	assert_true((strcmp(seen.paths[0], "Xq7A/doc1.bin") == 0 &&
		     strcmp(seen.paths[1], "Xq7A/doc2.bin") == 0) ||
		    (strcmp(seen.paths[0], "Xq7A/doc2.bin") == 0 &&
		     strcmp(seen.paths[1], "Xq7A/doc1.bin") == 0));

	assert_int_equal(store_family_get_id(fx->st, fx->fam, &f), -CB_ENOENT);
	for (size_t i = 0; i < CB_ARRAY_SIZE(family_tables); i++) {
		if (sql_int(fx->st, "SELECT count(*) FROM %s WHERE family_id = %lld", family_tables[i],
			    (long long)fx->fam) != 0)
			fail_msg("%s still has rows of the erased family", family_tables[i]);
		if (sql_int(fx->st, "SELECT count(*) FROM %s WHERE family_id = %lld", family_tables[i],
			    (long long)fx->fam2) != before2[i])
			fail_msg("%s lost rows of the other family", family_tables[i]);
	}
	/* Inbound rows from its addresses are gone; the look-alikes stay. */
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM inbound"), 4);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM inbound WHERE external_id IN"
				 " ('tg-Xq7B', 'sms-Xq7B', 'wa-1', 'tg-x')"), 4);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM outbox WHERE family_id IS NULL"), 1);
	/* Staff and the audit trail outlive the family. */
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM staff"), 2);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit"), 2);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit WHERE family_ref = 'Xq7A'"), 1);
	assert_int_equal(store_family_get_id(fx->st, fx->fam2, &f), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM pragma_foreign_key_check"), 0);

	/* After VACUUM nothing of it is left in the file or the WAL. */
	assert_int_equal(store_vacuum(fx->st), 0);
	for (size_t i = 0; i < CB_ARRAY_SIZE(markers); i++)
		if (db_contains(fx, markers[i]))
			fail_msg("\"%s\" is still on disk after erase and vacuum", markers[i]);
	assert_true(db_contains(fx, "SummaryXq7B"));
}

static void test_vacuum(void **state)
{
	struct fx *fx = *state;
	char path[160], ok[16];
	struct stat sb;

	for (int i = 0; i < 50; i++)
		assert_int_equal(store_contact_add(fx->st, fx->fam, NOW + i, "out", "sms", "note", 0, 0,
						   "some text to fill a page or two", "{}", NULL), 0);
	assert_int_equal(store_vacuum(fx->st), 0);
	/* wal_checkpoint(TRUNCATE) leaves an empty WAL. */
	snprintf(path, sizeof(path), "%s/casebot.db-wal", fx->data);
	if (stat(path, &sb) == 0)
		assert_int_equal((long long)sb.st_size, 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM contact_log"), 50);
	sql_text(fx->st, ok, sizeof(ok), "PRAGMA integrity_check");
	assert_string_equal(ok, "ok");
}

/* The contact log's chain */

/* Each row is chained from the one before it in its own family; the
 * family's head is the last row's hash, and erasure takes the chain. */
static void test_contact_chain(void **state)
{
	struct fx *fx = *state;
	struct chain_report r;

	for (int i = 0; i < 3; i++) {
		assert_int_equal(store_contact_add(fx->st, fx->fam, NOW + i, "in", "telegram", "text", 0, 0, "hello",
						   NULL, NULL), 0);
		assert_int_equal(store_contact_add(fx->st, fx->fam2, NOW + i, "out", "telegram", "reminder", 0, 0,
						   "reminder", "{\"n\":\"1\"}", "sent"), 0);
	}
	/* The first row follows 32 zero bytes; each next one the row before
	 * it in the same family, never the other family's. */
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM contact_log WHERE id = 1 AND chain_prev = zeroblob(32)"), 1);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM contact_log a JOIN contact_log b ON b.id = a.id + 2"
				 " WHERE b.chain_prev = a.chain_hash"), 4);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM contact_chains c JOIN contact_log l ON l.id = c.head_id"
				 " WHERE c.head = l.chain_hash AND c.rows = 3"), 2);
	assert_int_equal(store_chain_verify(fx->st, fx->fam, &r, NULL, NULL), 0);
	assert_int_equal(r.rows, 3);
	assert_int_equal(r.broken_id, 0);
	assert_int_equal(r.pruned, 0);
	assert_int_equal(r.head_id, 5);
	/* The previous row's hash is found through an index, not a scan. */
	{
		sqlite3_stmt *q;

		assert_int_equal(sqlite3_prepare_v2(store_db(fx->st), "EXPLAIN QUERY PLAN SELECT id FROM contact_log"
						    " WHERE family_id = 1 AND chain_hash IS NULL ORDER BY id", -1, &q, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(q), SQLITE_ROW);
		assert_non_null(strstr((const char *)sqlite3_column_text(q, 3), "contact_log_unsealed"));
		sqlite3_finalize(q);
	}
	/* Erasure removes the family's chain with its rows. */
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(store_family_erase(fx->st, fx->fam, NOW, NULL, NULL), 0);
	assert_int_equal(store_commit(fx->st), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM contact_chains"), 1);
	assert_int_equal(store_chain_verify(fx->st, fx->fam2, &r, NULL, NULL), 0);
	assert_int_equal(r.broken_id, 0);
}

/* The chain hashes whatever a row stores, column by column: rows written
 * before the chain began are sealed into it on the family's next row; a
 * column added later, NULL in older rows, leaves their hashes as they
 * were; a value in it counts. */
static void test_contact_chain_columns(void **state)
{
	struct fx *fx = *state;
	struct chain_report r;

	sql(fx->st, "INSERT INTO contact_log (family_id, at, direction, kind, summary)"
		    " VALUES (%lld, %lld, 'in', 'text', 'before the chain')", (long long)fx->fam, (long long)NOW);
	assert_int_equal(store_chain_verify(fx->st, fx->fam, &r, NULL, NULL), 0);
	assert_int_equal(r.broken_id, 1);
	assert_int_equal(store_contact_add(fx->st, fx->fam, NOW + 1, "out", "telegram", "reply", 0, 0, "after", NULL,
					   NULL),
			 0);
	assert_int_equal(store_chain_verify(fx->st, fx->fam, &r, NULL, NULL), 0);
	assert_int_equal(r.rows, 2);
	assert_int_equal(r.broken_id, 0);
	sql(fx->st, "ALTER TABLE contact_log ADD COLUMN extra TEXT");
	assert_int_equal(store_chain_verify(fx->st, fx->fam, &r, NULL, NULL), 0);
	assert_int_equal(r.broken_id, 0);
	sql(fx->st, "UPDATE contact_log SET extra = 'x' WHERE id = 2");
	assert_int_equal(store_chain_verify(fx->st, fx->fam, &r, NULL, NULL), 0);
	assert_int_equal(r.broken_id, 2);
	sql(fx->st, "UPDATE contact_log SET extra = NULL WHERE id = 2");
	/* A status (or any column) changed after the fact shows. */
	sql(fx->st, "UPDATE contact_log SET status = 'read' WHERE id = 1");
	assert_int_equal(store_chain_verify(fx->st, fx->fam, &r, NULL, NULL), 0);
	assert_int_equal(r.broken_id, 1);
}

/* Transactions */

static void test_transaction(void **state)
{
	struct fx *fx = *state;
	struct staff s = {0}, got;
	struct family f = {0};
	int64_t sid = 0, fid = 0;

	cb_strlcpy(s.name, "temp", sizeof(s.name));
	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(sqlite3_get_autocommit(store_db(fx->st)), 0);
	assert_int_equal(store_staff_add(fx->st, &s, NOW, &sid), 0);
	cb_strlcpy(f.ref, "TMP-1", sizeof(f.ref));
	f.counsellor_id = sid;
	assert_int_equal(store_family_add(fx->st, &f, NOW, &fid), 0);
	assert_int_equal(store_audit(fx->st, NOW, "cli", "family.add", "TMP-1", NULL), 0);
	store_rollback(fx->st);
	assert_int_equal(sqlite3_get_autocommit(store_db(fx->st)), 1);
	assert_int_equal(store_staff_get(fx->st, "temp", &got), -CB_ENOENT);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM families WHERE ref = 'TMP-1'"), 0);
	assert_int_equal(sql_int(fx->st, "SELECT count(*) FROM audit"), 0);
	/* Rolling back outside a transaction is harmless. */
	store_rollback(fx->st);

	assert_int_equal(store_begin(fx->st), 0);
	assert_int_equal(store_staff_add(fx->st, &s, NOW, &sid), 0);
	assert_int_equal(store_commit(fx->st), 0);
	assert_int_equal(store_staff_get(fx->st, "temp", &got), 0);
	assert_int_equal(got.id, sid);
	/* COMMIT without BEGIN is an error, not a crash. */
	assert_int_equal(store_commit(fx->st), -CB_ESTORE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_create, setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_tables, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_open_missing, setup_dir, teardown),
		cmocka_unit_test_setup_teardown(test_staff, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_family, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_family_close, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_members, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_appointments, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_docreqs, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_checkin, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_outbox, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_outbox_plans, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_contact_and_audit, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_unique, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_inbound_batch, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_invites, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_channel_unlink, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_invite_kill, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_erase, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_vacuum, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_contact_chain, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_contact_chain_columns, setup_store, teardown),
		cmocka_unit_test_setup_teardown(test_transaction, setup_store, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
