/* The last question each chat was asked and its numbered choices. It is
 * written when the question is sent, so that "the last question" is the
 * one the family really saw last; a bare number answers only it. */
#include <string.h>

#include "store/store.h"

static const char SQL_QUESTION_DEL[] = "DELETE FROM questions WHERE channel_id = ?";
static const char SQL_QUESTION_ADD[] =
	"INSERT INTO questions (channel_id, outbox_id, kind, asked_at, expires_at)"
	" VALUES (?1, ?2, ?3, ?4, ?5)";
static const char SQL_CHOICE_ADD[] =
	"INSERT INTO question_choices (channel_id, number, data, words) VALUES (?1, ?2, ?3, ?4)";
static const char SQL_QUESTION_LAST[] =
	"SELECT channel_id, coalesce(outbox_id, 0), kind, asked_at, expires_at, coalesce(answered_at, 0),"
	" coalesce(answer, '') FROM questions WHERE channel_id = ?1 AND expires_at > ?2";
static const char SQL_CHOICES[] =
	"SELECT number, data, coalesce(words, '') FROM question_choices WHERE channel_id = ?"
	" ORDER BY number";
static const char SQL_QUESTION_ANSWERED[] =
	"UPDATE questions SET answered_at = ?1, answer = ?3 WHERE channel_id = ?2";

int store_question_ask(struct store *st, const struct question *q, const struct question_choice *choices, int n)
{
	sqlite3_stmt *s = store_stmt(st, SQL_QUESTION_DEL);
	int rc;

	if (s == NULL)
		return -CB_ESTORE;
	/* The choices of the question before go with it (ON DELETE CASCADE). */
	sqlite3_bind_int64(s, 1, q->channel_id);
	if ((rc = store_exec_stmt(s)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_QUESTION_ADD)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(s, 1, q->channel_id);
	store_bind_id(s, 2, q->outbox_id);
	sqlite3_bind_text(s, 3, q->kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, q->asked_at);
	sqlite3_bind_int64(s, 5, q->expires_at);
	if ((rc = store_exec_stmt(s)) != 0)
		return rc;
	for (int i = 0; i < n; i++) {
		if ((s = store_stmt(st, SQL_CHOICE_ADD)) == NULL)
			return -CB_ESTORE;
		sqlite3_bind_int64(s, 1, q->channel_id);
		sqlite3_bind_int(s, 2, choices[i].number);
		sqlite3_bind_text(s, 3, choices[i].data, -1, SQLITE_STATIC);
		store_bind_opt_text(s, 4, choices[i].words);
		if ((rc = store_exec_stmt(s)) != 0)
			return rc;
	}
	return 0;
}

static int read_question(sqlite3_stmt *s, void *arg)
{
	struct question *q = arg;

	memset(q, 0, sizeof(*q));
	q->channel_id = sqlite3_column_int64(s, 0);
	q->outbox_id = sqlite3_column_int64(s, 1);
	store_col_text(s, 2, q->kind, sizeof(q->kind));
	q->asked_at = (time_t)sqlite3_column_int64(s, 3);
	q->expires_at = (time_t)sqlite3_column_int64(s, 4);
	q->answered_at = (time_t)sqlite3_column_int64(s, 5);
	store_col_text(s, 6, q->answer, sizeof(q->answer));
	return 0;
}

struct choices_ctx {
	struct question_choice *out;
	int max, n;
};

static int read_choice(sqlite3_stmt *s, void *arg)
{
	struct choices_ctx *c = arg;
	struct question_choice *ch;

	if (c->n == c->max)
		return 0;
	ch = &c->out[c->n++];
	memset(ch, 0, sizeof(*ch));
	ch->number = sqlite3_column_int(s, 0);
	store_col_text(s, 1, ch->data, sizeof(ch->data));
	store_col_text(s, 2, ch->words, sizeof(ch->words));
	return 0;
}

int store_question_open(struct store *st, int64_t channel_id, time_t now, struct question *out,
			struct question_choice *choices, int max, int *n)
{
	int rc = store_question_last(st, channel_id, now, out, choices, max, n);

	if (rc == 0 && out->answered_at != 0) {
		*n = 0;
		return -CB_ENOENT;
	}
	return rc;
}

int store_question_last(struct store *st, int64_t channel_id, time_t now, struct question *out,
			struct question_choice *choices, int max, int *n)
{
	sqlite3_stmt *s = store_stmt(st, SQL_QUESTION_LAST);
	struct choices_ctx c = {choices, max, 0};
	int rc;

	*n = 0;
	if (s != NULL) {
		sqlite3_bind_int64(s, 1, channel_id);
		sqlite3_bind_int64(s, 2, now);
	}
	if ((rc = store_row(s, read_question, out)) != 0)
		return rc;
	if ((s = store_stmt(st, SQL_CHOICES)) == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(s, 1, channel_id);
	if ((rc = store_rows(s, read_choice, &c)) != 0)
		return rc;
	*n = c.n;
	return 0;
}

int store_question_answered(struct store *st, int64_t channel_id, time_t now, const char *answer)
{
	sqlite3_stmt *s = store_stmt(st, SQL_QUESTION_ANSWERED);

	if (s == NULL)
		return -CB_ESTORE;
	sqlite3_bind_int64(s, 1, now);
	sqlite3_bind_int64(s, 2, channel_id);
	store_bind_opt_text(s, 3, answer);
	return store_exec_stmt(s);
}
