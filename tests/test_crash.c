/* kill -9 of casebot run, again and again, while build/tgsim feeds it a
 * family's texts, its button presses and typed answers to reminders, and
 * reminders and forwards are due. After every kill the database passes
 * PRAGMA integrity_check; at the end every update the simulator handed
 * out is in the inbound table and handled (none lost), each once (one
 * contact-log row per update: none handled twice), and no chat got the
 * same message more than once more per crash (at least once, never a
 * storm). One line of figures is printed.
 *
 * $CASEBOT_CRASH_KILLS kills (10 unless set: make test); make crash runs
 * 100. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bot/casebot.h"
#include "tests/support/dtest.h"
#include "tests/support/staffchat.h"

#define APPOINTMENTS 8

struct run {
	int kills;
	int injected, lost, unhandled, twice, integrity_ok;
	int dup_max, dup_total, sends;
	int sent_at_kill[2][1024];  /* Sara's and the family's sent counts at each kill */
};

static int kills_wanted(void)
{
	const char *s = getenv("CASEBOT_CRASH_KILLS");
	int n = s != NULL ? atoi(s) : 0;

	return n > 0 && n <= 1000 ? n : 10;
}

static int setup(void **state)
{
	return dt_setup_with(state, "[telegram]\nrate_per_chat = 50\nrate_global = 500\n");
}

static int integrity(struct dt *t)
{
	char path[4200];
	sqlite3 *db;
	sqlite3_stmt *q;
	int ok = 0;

	snprintf(path, sizeof(path), "%s/casebot.db", t->env.data);
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		return 0;
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL) == SQLITE_OK) {
		ok = sqlite3_step(q) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(q, 0), "ok") == 0;
		sqlite3_finalize(q);
	}
	sqlite3_close(db);
	return ok;
}

static void wait_up(struct dt *t)
{
	long long until = dt_now_ms() + 10000;

	while (!dt_port_open(t->http_port) && dt_now_ms() < until)
		dt_sleep_ms(5);
	assert_true(dt_port_open(t->http_port));
}

/* A reminder button the family got: its message id and data. */
static int some_button(struct dt *t, unsigned r, long long *message_id, char *data, size_t cap)
{
	cJSON *sent = simctl_sent(&t->sim, DT_FAMILY_CHAT), *m;
	int n = 0, pick, found = 0;

	cJSON_ArrayForEach(m, sent) {
		char *all = cJSON_GetObjectItem(m, "reply_markup") != NULL ? cJSON_PrintUnformatted(m) : NULL;

		if (all != NULL && strstr(all, "\"ap:") != NULL)
			n++;
		free(all);
	}
	if (n > 0) {
		pick = (int)(r % (unsigned)n);
		cJSON_ArrayForEach(m, sent) {
			cJSON *rows, *row, *b;

			if (cJSON_GetObjectItem(m, "reply_markup") == NULL || found)
				continue;
			rows = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "reply_markup"), "inline_keyboard");
			cJSON_ArrayForEach(row, rows) {
				cJSON_ArrayForEach(b, row) {
					const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(b, "callback_data"));

					if (!found && d != NULL && strncmp(d, "ap:", 3) == 0 && pick-- == 0) {
						*message_id = (long long)cJSON_GetObjectItem(m, "message_id")->valuedouble;
						snprintf(data, cap, "%s", d);
						found = 1;
					}
				}
			}
		}
	}
	cJSON_Delete(sent);
	return found;
}

/* What tells one message from another: its text and its buttons (a
 * reminder's first line is the same for every appointment, its buttons
 * are not); NULL for a message that may well come twice (an
 * acknowledgement). The caller frees it. */
static char *message_key(const cJSON *m, long long chat)
{
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(m, "text"));
	const cJSON *markup = cJSON_GetObjectItem(m, "reply_markup");
	char *mk, *key;
	size_t len;

	if (text == NULL || (chat == SARA && strstr(text, "msg-") == NULL) || (chat != SARA && !cJSON_IsObject(markup)))
		return NULL;
	mk = markup != NULL ? cJSON_PrintUnformatted(markup) : NULL;
	len = strlen(text) + (mk != NULL ? strlen(mk) : 0) + 2;
	if ((key = malloc(len)) != NULL)
		snprintf(key, len, "%s|%s", text, mk != NULL ? mk : "");
	free(mk);
	return key;
}

/* Copies of one message to one chat beyond the first, per window between
 * two kills: the largest of them, and their sum. A message is known by
 * its text; only texts that are unique by construction count (forwards
 * carry the family's "msg-N", reminders their buttons). */
static void duplicates(struct run *x, struct dt *t, long long chat, const int *at_kill)
{
	cJSON *sent = simctl_sent(&t->sim, chat), *m;
	int n = cJSON_GetArraySize(sent), per[1024] = {0};

	for (int i = 0; i < n; i++) {
		char *key, *prev;
		int window = 0;

		m = cJSON_GetArrayItem(sent, i);
		if ((key = message_key(m, chat)) == NULL)
			continue;
		for (int j = 0; j < i; j++) {
			prev = message_key(cJSON_GetArrayItem(sent, j), chat);
			if (prev != NULL && strcmp(prev, key) == 0) {
				while (window < x->kills && at_kill[window] <= i)
					window++;
				per[window]++;
				x->dup_total++;
				if (getenv("CASEBOT_CRASH_VERBOSE") != NULL)
					fprintf(stderr, "duplicate to %lld in window %d: %.120s\n", chat, window, key);
				free(prev);
				break;
			}
			free(prev);
		}
		free(key);
	}
	for (int w = 0; w <= x->kills; w++)
		if (per[w] > x->dup_max)
			x->dup_max = per[w];
	x->sends += n;
	cJSON_Delete(sent);
}

static void test_kill9_loses_nothing(void **state)
{
	struct dt *t = *state;
	static struct run x;
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	int64_t ids[8192];
	char when[32], text[96], data[64];
	long long message_id;

	memset(&x, 0, sizeof(x));
	x.kills = kills_wanted();
	srand(seed);
	dt_start_daemon(t);
	wait_up(t);
	staffchat_setup(t, 0, 0, 0);
	dt_link_family(t);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	/* Reminders due now, each for an appointment of its own. */
	for (int i = 0; i < APPOINTMENTS; i++) {
		time_t at = time(NULL) + 3 * 3600 + i * 600;
		struct tm tm;

		localtime_r(&at, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
		assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", when, "--kind", "lawyer", NULL),
				 0);
	}
	for (int k = 0; k < x.kills; k++) {
		/* What the family does meanwhile: a text or two, a button, an
		 * answer typed. */
		for (int i = 0, n = 1 + rand() % 3; i < n && x.injected < (int)CB_ARRAY_SIZE(ids) - 2; i++) {
			snprintf(text, sizeof(text), "msg-%d: ik heb een vraag over de brief", x.injected);
			ids[x.injected] = simctl_message(&t->sim, DT_FAMILY_CHAT, text);
			assert_true(ids[x.injected++] > 0);
		}
		if (rand() % 2 == 0 && some_button(t, (unsigned)rand(), &message_id, data, sizeof(data))) {
			ids[x.injected] = simctl_button(&t->sim, DT_FAMILY_CHAT, data, message_id);
			assert_true(ids[x.injected++] > 0);
		} else if (rand() % 3 == 0) {
			ids[x.injected] = simctl_message(&t->sim, DT_FAMILY_CHAT, rand() % 2 ? "1" : "ja");
			assert_true(ids[x.injected++] > 0);
		}
		dt_start_daemon(t);
		wait_up(t);
		dt_sleep_ms(20 + rand() % 400);
		assert_int_equal(dt_stop_daemon(t, SIGKILL), 128 + SIGKILL);
		x.sent_at_kill[0][k] = dt_sent_count(t, SARA);
		x.sent_at_kill[1][k] = dt_sent_count(t, DT_FAMILY_CHAT);
		x.integrity_ok += integrity(t);
	}
	/* The last start runs until everything is handled and sent. */
	dt_start_daemon(t);
	wait_up(t);
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM inbound WHERE status = 'new'") == 0 &&
			    dt_q(t, "SELECT count(*) FROM outbox WHERE status = 'sending' OR (status = 'queued'"
				    " AND not_before <= strftime('%%s', 'now') AND parked_at IS NULL)") == 0,
		    60000);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	for (int i = 0; i < x.injected; i++) {
		if (dt_q(t, "SELECT count(*) FROM inbound WHERE channel_kind = 'telegram' AND external_id = '%lld'",
			 (long long)ids[i]) == 0)
			x.lost++;
		else if (dt_q(t, "SELECT count(*) FROM inbound WHERE channel_kind = 'telegram' AND external_id = '%lld'"
				 " AND status = 'handled'",
			      (long long)ids[i]) == 0)
			x.unhandled++;
	}
	/* Each handled update of the family is one row of its contact log. */
	x.twice = (int)(dt_q(t, "SELECT count(*) FROM contact_log WHERE family_id = 1 AND direction = 'in'") -
			dt_q(t, "SELECT count(*) FROM inbound i JOIN channels c ON c.kind = i.channel_kind"
				" AND c.address = i.sender WHERE c.family_id = 1 AND i.status = 'handled'"));
	duplicates(&x, t, SARA, x.sent_at_kill[0]);
	duplicates(&x, t, DT_FAMILY_CHAT, x.sent_at_kill[1]);
	printf("crash: %d kills, %d updates in: %d lost, %d unhandled, %d handled twice; %d sends, at most %d duplicate"
	       " send per chat per crash (%d in all); integrity_check ok after %d of %d restarts (seed %u)\n",
	       x.kills, x.injected, x.lost, x.unhandled, x.twice, x.sends, x.dup_max, x.dup_total, x.integrity_ok,
	       x.kills, seed);
	assert_int_equal(x.lost, 0);
	assert_int_equal(x.unhandled, 0);
	assert_int_equal(x.twice, 0);
	assert_true(x.dup_max <= 1);
	assert_int_equal(x.integrity_ok, x.kills);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill9_loses_nothing, setup, dt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
