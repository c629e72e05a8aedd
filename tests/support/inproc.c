/* The daemon's core in the test's own process: its store and its loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>

#include "bot/outbox.h"
#include "tests/support/inproc.h"

long long inproc_q(struct store *st, const char *fmt, ...)
{
	char sql[512];
	sqlite3_stmt *s;
	long long v = -1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_prepare_v2(store_db(st), sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

void inproc_exec(struct store *st, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(store_db(st), sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("sql: %s", err);
}

void inproc_execf(struct store *st, const char *fmt, ...)
{
	char sql[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(sql))
		fail_msg("sql longer than %zu bytes", sizeof(sql));
	inproc_exec(st, sql);
}

void inproc_wake(uv_timer_t *t)
{
	(void)t;
}

const struct gateway_env *inproc_env(struct inproc_core *c)
{
	c->env.loop = &c->loop;
	c->env.cfg = &c->cfg;
	c->env.store = c->store;
	c->env.loc = &c->loc;
	c->env.metrics = &c->metrics;
	return &c->env;
}

struct outbox *inproc_outbox(struct inproc_core *c)
{
	return outbox_new(inproc_env(c), c->gateways, c->ngateways);
}

void inproc_hctx(struct inproc_core *c, struct hctx *h)
{
	gateway_hctx(inproc_env(c), h);
}
