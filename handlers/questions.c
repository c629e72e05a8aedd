/* Questions and their answers. Every question the bot asks (a reminder, a
 * check-in, the language menu, which document a file is) is recorded for
 * its chat when it is sent, with its numbered choices. A button answers
 * whatever it belongs to; a bare number, a yes or a no, or one of a
 * choice's own words answers the chat's last question, and only that one,
 * while it is open. */
#include <stdio.h>
#include <string.h>

#include "bot/buttons.h"
#include "bot/compose.h"
#include "handlers/handler.h"

/* A question stays answerable for a week at most, and never past what it
 * asks about (a reminder expires when its appointment starts). */
#define QUESTION_WINDOW (7 * 86400)

int questions_asked(struct hctx *h, const struct outbox_msg *m, const struct composed *msg)
{
	struct question_choice choices[COMPOSE_BUTTONS_MAX];
	struct question q;
	int n = 0;

	if (!msg->question || m->channel_id == 0 || m->staff_id != 0)
		return 0;
	memset(&q, 0, sizeof(q));
	q.channel_id = m->channel_id;
	q.outbox_id = m->id;
	cb_strlcpy(q.kind, m->kind, sizeof(q.kind));
	q.asked_at = h->now;
	q.expires_at = h->now + QUESTION_WINDOW;
	if (m->expires_at > 0 && m->expires_at < q.expires_at)
		q.expires_at = m->expires_at;
	/* A Details button is no choice: no number picks it. */
	for (int i = 0; i < msg->nbuttons - msg->details_button && n < (int)CB_ARRAY_SIZE(choices); i++) {
		memset(&choices[n], 0, sizeof(choices[n]));
		choices[n].number = i + 1;
		cb_strlcpy(choices[n].data, msg->buttons[i].data, sizeof(choices[n].data));
		cb_strlcpy(choices[n].words, msg->buttons[i].words, sizeof(choices[n].words));
		n++;
	}
	return store_question_ask(h->store, &q, choices, n);
}

/* Does what a choice (or a button with the same data) says. -CB_ENOENT
 * when it answers nothing any more: another family's button, a cancelled
 * appointment, a document already filed. */
static int run(struct hctx *h, const struct family_msg *fm, const char *data)
{
	long long id, req;
	int choice, rc;

	if (sscanf(data, BUTTON_APPOINTMENT, &id, &choice) == 2)
		rc = appointments_answer(h, fm, id, choice);
	else if (sscanf(data, BUTTON_DOCUMENT, &id, &req) == 2)
		rc = documents_attach(h, fm, id, req);
	else if (sscanf(data, BUTTON_CHECKIN, &id, &choice) == 2)
		rc = checkins_answer(h, fm, id, choice);
	else if (strncmp(data, BUTTON_LANGUAGE, BUTTON_LANGUAGE_LEN) == 0)
		rc = preferences_set_language(h, fm, data + BUTTON_LANGUAGE_LEN);
	else
		return -CB_ENOENT;
	if (rc == -CB_ENOENT || rc == -CB_ESTATE || rc == -CB_EINVAL)
		return -CB_ENOENT;
	return rc;
}

int questions_button(struct hctx *h, const struct family_msg *fm, const char *data, int *handled)
{
	struct question_choice choices[STORE_QUESTION_CHOICES];
	struct question q;
	int n = 0, rc;

	*handled = 0;
	rc = run(h, fm, data);
	if (rc == -CB_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	*handled = 1;
	/* A button of the open question answers it: a number typed after
	 * that is not taken as a second answer. */
	rc = store_question_open(h->store, fm->channel.id, h->now, &q, choices, (int)CB_ARRAY_SIZE(choices), &n);
	if (rc == -CB_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	for (int i = 0; i < n; i++)
		if (strcmp(choices[i].data, data) == 0)
			return store_question_answered(h->store, fm->channel.id, h->now, data);
	return 0;
}

/* "2", "02", "2." (folded to "2"): a number and nothing else. */
static int bare_number(const char *folded)
{
	size_t n = strspn(folded, "0123456789");

	if (n == 0 || n > 2 || folded[n] != '\0')
		return -1;
	return (folded[0] - '0') * (n == 2 ? 10 : 1) + (n == 2 ? folded[1] - '0' : 0);
}

/* An answer that answers nothing: the family hears so, and the message
 * goes to the counsellor like any other. The reply is this message's
 * acknowledgement, so the forward adds none of its own. */
static int not_understood(struct hctx *h, const struct family_msg *fm, const struct arrival *what)
{
	int rc;

	if ((rc = handler_log_in(h, fm, "text", what->code, what->name, what->value, NULL)) != 0 ||
	    (rc = handler_reply(h, fm, "forward_ack", "answer.not_understood", NULL)) != 0)
		return rc;
	return relay_forward(h, fm);
}

int questions_answer(struct hctx *h, const struct family_msg *fm, const char *folded, const struct arrival *what,
		     int *handled)
{
	struct question_choice choices[STORE_QUESTION_CHOICES];
	struct question q;
	int number = bare_number(folded), n = 0, open, again, rc;
	int yes_no = words_is(h->loc, folded, "words.yes") || words_is(h->loc, folded, "words.no");

	*handled = 0;
	rc = store_question_last(h->store, fm->channel.id, h->now, &q, choices, (int)CB_ARRAY_SIZE(choices), &n);
	if (rc != 0 && rc != -CB_ENOENT)
		return rc;
	open = rc == 0 && q.answered_at == 0;
	/* An answered question takes no second answer, but a check-in is
	 * asked so that the family says how it goes: saying it again ("ja"
	 * after "1") is heard too. */
	again = rc == 0 && !open && strcmp(q.kind, "checkin") == 0;
	if (!open && !again)
		n = 0;
	for (int i = 0; i < n; i++) {
		int answered;

		if (choices[i].number != number &&
		    (choices[i].words[0] == '\0' || !words_is(h->loc, folded, choices[i].words)))
			continue;
		if (again) {
			rc = checkins_answer_again(h, fm, choices[i].data, q.answer);
			if (rc == -CB_ENOENT || rc == -CB_ESTATE || rc == -CB_EINVAL)
				break;
			if (rc == 0)
				rc = store_question_answered(h->store, fm->channel.id, h->now, choices[i].data);
			*handled = rc == 0;
			return rc;
		}
		rc = run(h, fm, choices[i].data);
		if (rc != 0 && rc != -CB_ENOENT)
			return rc;
		/* Answered, or about something that is gone: either way the
		 * question takes no more answers. */
		answered = rc == 0;
		if ((rc = store_question_answered(h->store, fm->channel.id, h->now, answered ? choices[i].data : NULL)) != 0)
			return rc;
		if (answered) {
			*handled = 1;
			return 0;
		}
		break;
	}
	/* Other words are a message for the counsellor; a yes or a no with
	 * nothing asked too. */
	if (number < 0 && !(yes_no && open))
		return 0;
	*handled = 1;
	return not_understood(h, fm, what);
}
