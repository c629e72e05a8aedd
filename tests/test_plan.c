/* The message path reads through indexes. The daemon's own pieces run
 * in-process on the real store (the router, the handlers, the outbox on a
 * libuv loop with a fake gateway, the deadline pass): a check-in goes out,
 * the family answers it by typing and by button, asks for help, writes
 * something for the counsellor, a send is retried, a row expires. Then
 * every statement the connection holds prepared is run through EXPLAIN
 * QUERY PLAN, and none may read the whole of a table that grows with the
 * history (contact_log, outbox, inbound, audit, alerts, appointments,
 * document_requests). The statements the
 * dispatcher runs at each kick may not sort either. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/config.h"
#include "bot/outbox.h"
#include "bot/event_json.h"
#include "bot/router.h"
#include "locales/locale.h"
#include "store/store.h"
#include "tests/support/fakegw.h"
#include "tests/support/inproc.h"
#include "tests/support/testenv.h"

#define FAMILY_CHAT "1001"
#define STAFF_CHAT "9001"

static const char *const growing[] = {"contact_log", "outbox", "inbound", "audit", "alerts", "appointments",
				      "document_requests"};

struct pfx {
	struct testenv env;
	struct inproc_core d;
	struct fakegw fake;
	uv_timer_t watchdog;
	int next_update;
};

#define q(c, ...) inproc_q((c)->d.store, __VA_ARGS__)
#define exec(c, sql) inproc_exec((c)->d.store, (sql))
#define RUN_UNTIL(c, cond) INPROC_RUN_UNTIL(&(c)->d.loop, &(c)->watchdog, cond)

static int setup(void **state)
{
	struct pfx *c = calloc(1, sizeof(*c));
	char err[256], sql[1024], at[32];
	time_t now = time(NULL), when = now + 3 * 86400;
	struct tm tm;

	if (c == NULL || testenv_setup(&c->env, now, "quiet_hours = off\n") != 0)
		return -1;
	localtime_r(&when, &tm);
	strftime(at, sizeof(at), "%Y-%m-%d 14:00", &tm);
	if (testenv_cli(&c->env, "init", NULL) != 0 ||
	    testenv_cli(&c->env, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl", NULL) != 0 ||
	    testenv_cli(&c->env, "family", "add", "F-1", "--lang", "nl", "--counsellor", "Sara", NULL) != 0 ||
	    testenv_cli(&c->env, "appointment", "add", "F-1", "--at", at, "--kind", "lawyer", NULL) != 0)
		return -1;
	if (config_load(&c->d.cfg, c->env.conf, err, sizeof(err)) != 0 ||
	    store_open(c->d.cfg.data_dir, 0, &c->d.store, err, sizeof(err)) != 0 ||
	    locale_load(CASEBOT_LOCALES_DIR, &c->d.loc, err, sizeof(err)) != 0 ||
	    uv_loop_init(&c->d.loop) != 0)
		return -1;
	uv_timer_init(&c->d.loop, &c->watchdog);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO channels (id, family_id, kind, address, verified, created_at) VALUES"
		 " (1, 1, 'telegram', '" FAMILY_CHAT "', 1, %lld);"
		 "INSERT INTO channels (id, staff_id, kind, address, verified, created_at, confirmed_at) VALUES"
		 " (2, 1, 'telegram', '" STAFF_CHAT "', 1, %lld, %lld);"
		 "INSERT INTO checkin_plans (family_id, every_days, weekday, minute_of_day, updated_at)"
		 " VALUES (1, 7, 1, 600, %lld);",
		 (long long)now, (long long)now, (long long)now, (long long)now);
	exec(c, sql);
	fakegw_init(&c->fake, &c->d.loop, "telegram");
	c->fake.gw.caps.buttons_max = COMPOSE_BUTTONS_MAX;
	c->fake.gw.caps.button_title_max = 64;
	c->fake.gw.caps.button_data_max = 64;
	c->fake.gw.caps.rate_per_chat = 1000.0;
	c->fake.gw.caps.rate_global = 1000.0;
	c->d.gateways[c->d.ngateways++] = &c->fake.gw;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct pfx *c = *state;

	if (c->d.outbox != NULL)
		outbox_close(c->d.outbox);
	uv_close((uv_handle_t *)&c->watchdog, NULL);
	uv_run(&c->d.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&c->d.loop), 0);
	store_close(c->d.store);
	locale_free(c->d.loc);
	testenv_teardown(&c->env);
	free(c);
	return 0;
}

/* One event stored as the gateway stores it, then routed. */
static void inbound(struct pfx *c, const char *sender, const char *text, const char *button)
{
	static struct inbound_event ev;
	static char json[INBOUND_EVENT_MAX];
	struct hctx h;

	inproc_hctx(&c->d, &h);
	memset(&ev, 0, sizeof(ev));
	cb_strlcpy(ev.channel, "telegram", sizeof(ev.channel));
	snprintf(ev.external_id, sizeof(ev.external_id), "%d", ++c->next_update);
	cb_strlcpy(ev.sender, sender, sizeof(ev.sender));
	snprintf(ev.message_id, sizeof(ev.message_id), "%d", 500 + c->next_update);
	ev.at = h.now;
	ev.kind = button != NULL ? EVENT_BUTTON : EVENT_TEXT;
	if (text != NULL)
		cb_strlcpy(ev.text, text, sizeof(ev.text));
	if (button != NULL) {
		cb_strlcpy(ev.button_data, button, sizeof(ev.button_data));
		snprintf(ev.callback_id, sizeof(ev.callback_id), "cb%d", c->next_update);
	}
	assert_int_equal(event_to_json(&ev, 0, json, sizeof(json)), 0);
	assert_int_equal(store_inbound_add(c->d.store, "telegram", ev.external_id, ev.sender, ev.at, json, NULL), 0);
	assert_int_equal(router_run(&h, 100, NULL, NULL, NULL), 1);
	outbox_kick(c->d.outbox);
}

static int queued(struct pfx *c)
{
	return q(c, "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending') AND not_before <= %lld",
		 (long long)time(NULL)) == 0 && c->fake.pending == 0;
}

/* Runs the message path: what it prepares stays in the store's cache. */
static void run_message_path(struct pfx *c)
{
	char data[64], sql[512];
	long long checkin, now = (long long)time(NULL);
	struct hctx h;

	snprintf(sql, sizeof(sql),
		 "INSERT INTO outbox (family_id, kind, catalog_key, not_before, created_at, updated_at)"
		 " VALUES (1, 'checkin', 'checkin.question', %lld, %lld, %lld);"
		 "INSERT INTO outbox (family_id, channel_id, kind, catalog_key, not_before, expires_at,"
		 " created_at, updated_at) VALUES (1, 1, 'notice', 'forward.ack', %lld, %lld, %lld, %lld);",
		 now, now, now, now + 3600, now - 1, now, now);
	exec(c, sql);
	checkin = q(c, "SELECT id FROM outbox WHERE kind = 'checkin' AND not_before <= %lld", now);
	c->d.outbox = inproc_outbox(&c->d);
	assert_non_null(c->d.outbox);
	RUN_UNTIL(c, q(c, "SELECT count(*) FROM questions WHERE outbox_id = %lld", checkin) == 1);
	assert_int_equal(q(c, "SELECT count(*) FROM outbox WHERE status = 'expired'"), 1);
	/* Typed, by button, help, and words for the counsellor. */
	inbound(c, FAMILY_CHAT, "1", NULL);
	RUN_UNTIL(c, queued(c));
	snprintf(data, sizeof(data), "ci:%lld:2", checkin);
	inbound(c, FAMILY_CHAT, NULL, data);
	RUN_UNTIL(c, queued(c));
	inbound(c, FAMILY_CHAT, "help", NULL);
	RUN_UNTIL(c, queued(c));
	fakegw_push(&c->fake, GW_TRANSIENT, 0, "HTTP 502");
	inbound(c, FAMILY_CHAT, "Can we meet on Monday?", NULL);
	RUN_UNTIL(c, c->fake.answered >= 1 &&
			     q(c, "SELECT count(*) FROM outbox WHERE last_error = 'HTTP 502' AND status = 'queued'") == 1);
	exec(c, "UPDATE outbox SET not_before = 0 WHERE status = 'queued' AND last_error IS NOT NULL");
	outbox_kick(c->d.outbox);
	RUN_UNTIL(c, queued(c));
	assert_true(q(c, "SELECT count(*) FROM alerts") >= 1);
	assert_true(q(c, "SELECT count(*) FROM outbox WHERE kind = 'forward' AND status = 'sent'") >= 1);
	/* A deadline pass, as the housekeeping timer runs it. */
	inproc_hctx(&c->d, &h);
	assert_int_equal(deadlines_run(&h), 0);
}

/* The names a growing table goes by in sql: its own and its aliases. */
static int names_of_growing(const char *sql, char names[][32], int max)
{
	static const char *const not_alias[] = {"where", "join", "left", "inner", "on", "order", "group", "limit",
						"set", "values", "as", "using", "indexed", "not", "union", NULL};
	int n = 0;

	for (size_t g = 0; g < CB_ARRAY_SIZE(growing); g++) {
		size_t len = strlen(growing[g]);

		if (n < max)
			cb_strlcpy(names[n++], growing[g], 32);
		for (const char *p = sql; (p = strstr(p, growing[g])) != NULL; p += len) {
			const char *a = p + len;
			char word[32];
			size_t w = 0;
			int keyword = 0;

			if ((p > sql && (isalnum((unsigned char)p[-1]) || p[-1] == '_')) ||
			    isalnum((unsigned char)*a) || *a == '_' || *a == '(')
				continue;
			while (*a == ' ')
				a++;
			if (strncasecmp(a, "AS ", 3) == 0)
				a += 3;
			while ((isalnum((unsigned char)a[w]) || a[w] == '_') && w < sizeof(word) - 1) {
				word[w] = (char)tolower((unsigned char)a[w]);
				w++;
			}
			word[w] = '\0';
			for (int k = 0; not_alias[k] != NULL; k++)
				keyword |= strcmp(word, not_alias[k]) == 0;
			if (w > 0 && !keyword && n < max)
				cb_strlcpy(names[n++], word, 32);
		}
	}
	return n;
}

/* A partial index holds only the rows some work is waiting on (what is
 * queued, what may be late): reading all of it is no scan of the table. */
static int partial_index(sqlite3 *db, const char *detail)
{
	const char *p = strstr(detail, "USING INDEX ");
	char name[64];
	sqlite3_stmt *s;
	size_t n;
	int partial;

	if (p != NULL)
		p += strlen("USING INDEX ");
	else if ((p = strstr(detail, "USING COVERING INDEX ")) != NULL)
		p += strlen("USING COVERING INDEX ");
	else
		return 0;
	n = strcspn(p, " ");
	snprintf(name, sizeof(name), "%.*s", (int)n, p);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?"
					    " AND sql LIKE '% WHERE %'", -1, &s, NULL), SQLITE_OK);
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	partial = sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int(s, 0) == 1;
	sqlite3_finalize(s);
	return partial;
}

/* What EXPLAIN QUERY PLAN says is wrong with sql, or "" when nothing. */
static void plan_faults(sqlite3 *db, const char *sql, int no_sort, char *out, size_t cap)
{
	char names[32][32], *eqp;
	int n = names_of_growing(sql, names, 32);
	sqlite3_stmt *s;

	out[0] = '\0';
	eqp = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
	assert_non_null(eqp);
	assert_int_equal(sqlite3_prepare_v2(db, eqp, -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(s, 3);
		size_t used = strlen(out);

		if (strncmp(detail, "SCAN ", 5) == 0 && !partial_index(db, detail)) {
			for (int i = 0; i < n; i++) {
				size_t len = strlen(names[i]);

				if (strncmp(detail + 5, names[i], len) == 0 &&
				    (detail[5 + len] == '\0' || detail[5 + len] == ' '))
					snprintf(out + used, cap - used, " [%s]", detail);
			}
		}
		/* Equal to a status and nothing more: every queued row. */
		if (no_sort && strstr(detail, "SEARCH ") != NULL && strstr(detail, "(status=?)") != NULL)
			snprintf(out + used, cap - used, " [%s]", detail);
		else if (no_sort && (strstr(detail, "TEMP B-TREE") != NULL || strstr(detail, "CO-ROUTINE") != NULL ||
				strstr(detail, "MATERIALIZE") != NULL))
			snprintf(out + used, cap - used, " [%s]", detail);
	}
	sqlite3_finalize(s);
	sqlite3_free(eqp);
}

/* The dispatcher reads these at every kick: they walk an index in its
 * order and stop, with nothing to sort. */
static int per_kick(const char *sql)
{
	const char *where = strstr(sql, "WHERE");

	return (strstr(sql, "FROM outbox") != NULL || strncmp(sql, "UPDATE outbox", 13) == 0) && where != NULL &&
	       strstr(where, "status = 'queued'") != NULL && strstr(where, " id = ") == NULL &&
	       strstr(where, " id IN ") == NULL;
}

/* The newest of a chat's or a family's rows is found by walking an index
 * backwards to the first, not by sorting all of them: a chat's history
 * grows for years. */
static int newest_one(const char *sql)
{
	int grows = 0;

	for (size_t g = 0; g < CB_ARRAY_SIZE(growing); g++) {
		char from[48];

		snprintf(from, sizeof(from), "FROM %s ", growing[g]);
		grows |= strstr(sql, from) != NULL;
	}
	return grows && strstr(sql, "ORDER BY") != NULL && strstr(sql, "LIMIT 1") != NULL;
}

static void test_message_path_uses_indexes(void **state)
{
	struct pfx *c = *state;
	sqlite3 *db = store_db(c->d.store);
	char faults[1024];
	int checked = 0, bad = 0;

	run_message_path(c);
	for (sqlite3_stmt *s = sqlite3_next_stmt(db, NULL); s != NULL; s = sqlite3_next_stmt(db, s)) {
		const char *sql = sqlite3_sql(s);

		if (sql == NULL || strncmp(sql, "PRAGMA", 6) == 0)
			continue;
		plan_faults(db, sql, per_kick(sql) || newest_one(sql), faults, sizeof(faults));
		checked++;
		if (faults[0] != '\0') {
			print_message("full scan or sort:%s\n  in: %s\n", faults, sql);
			bad++;
		}
	}
	print_message("%d statements of the message path checked\n", checked);
	assert_true(checked >= 40);
	assert_int_equal(bad, 0);
}

/* The check itself: a statement that reads a whole growing table, by its
 * name or an alias, or sorts at each kick, is named. */
static void test_plan_check_finds_scans(void **state)
{
	struct pfx *c = *state;
	sqlite3 *db = store_db(c->d.store);
	char faults[512];

	plan_faults(db, "SELECT count(*) FROM contact_log WHERE summary = 'x'", 0, faults, sizeof(faults));
	assert_non_null(strstr(faults, "SCAN contact_log"));
	plan_faults(db, "SELECT o.id FROM outbox o WHERE o.params = '{}'", 0, faults, sizeof(faults));
	assert_non_null(strstr(faults, "SCAN o"));
	plan_faults(db, "SELECT id FROM outbox WHERE status = 'queued' ORDER BY kind", 1, faults, sizeof(faults));
	assert_non_null(strstr(faults, "TEMP B-TREE"));
	plan_faults(db, "SELECT id FROM outbox WHERE id = 1", 0, faults, sizeof(faults));
	assert_string_equal(faults, "");
	plan_faults(db, "SELECT id FROM staff WHERE name = 'x' AND lang = 'nl'", 0, faults, sizeof(faults));
	assert_string_equal(faults, "");
	plan_faults(db, "SELECT id FROM alerts INDEXED BY alerts_created WHERE kind = 'x'", 0, faults, sizeof(faults));
	assert_non_null(strstr(faults, "SCAN alerts USING INDEX alerts_created"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plan_check_finds_scans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_path_uses_indexes, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
