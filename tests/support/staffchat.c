/* Staff chats for the daemon tests: linking a counsellor's chat the way
 * staff do, and reading what the bot sent them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "tests/support/staffchat.h"

/* The number the bot showed in chat, entered as staff confirm does. */
void staffchat_confirm(struct dt *t, const char *name, long long chat)
{
	char text[1024], number[8];
	const char *p;

	dt_sent_text(t, chat, 0, text, sizeof(text));
	for (p = text; *p != '\0' && strspn(p, "0123456789") != 6; p++)
		;
	assert_true(*p != '\0');
	snprintf(number, sizeof(number), "%.6s", p);
	assert_int_equal(testenv_cli(&t->env, "staff", "confirm", name, number, NULL), 0);
}

/* Staff and their chats, linked the way staff link them. */
void staffchat_setup(struct dt *t, int with_marc, int with_lotte, int with_cora)
{
	struct {
		const char *name, *role, *lang;
		long long chat;
		int on;
	} people[] = {
		{"Sara", NULL, NULL, SARA, 1},
		{"Marc", "counsellor", "fr", MARC, with_marc},
		{"Lotte", "counsellor", "de", LOTTE, with_lotte},
		{"Cora", "coordinator", "en", CORA, with_cora},
	};

	for (size_t i = 0; i < sizeof(people) / sizeof(people[0]); i++) {
		char text[64];
		const char *p;

		if (!people[i].on)
			continue;
		if (people[i].role != NULL)
			assert_int_equal(testenv_cli(&t->env, "staff", "add", people[i].name, "--role", people[i].role,
						     "--lang", people[i].lang, NULL), 0);
		assert_int_equal(testenv_cli(&t->env, "staff", "invite", people[i].name, NULL), 0);
		p = strstr(t->env.out, "code: ");
		assert_non_null(p);
		snprintf(text, sizeof(text), "/start %.10s", p + 6);
		assert_true(simctl_message(&t->sim, people[i].chat, text) > 0);
		/* The chat shows a pairing number; entered at the CLI, it makes
		 * the chat theirs, and the welcome follows. */
		DT_WAIT_SENT(t, people[i].chat, 1, 10000);
		staffchat_confirm(t, people[i].name, people[i].chat);
		DT_WAIT_SENT(t, people[i].chat, 2, 10000);
	}
	if (with_marc)
		assert_int_equal(testenv_cli(&t->env, "family", "set", "F-1", "--backup", "Marc", NULL), 0);
}

cJSON *staffchat_last_sent(struct dt *t, long long chat)
{
	cJSON *all = simctl_sent(&t->sim, chat), *last;

	assert_non_null(all);
	last = cJSON_DetachItemFromArray(all, cJSON_GetArraySize(all) - 1);
	cJSON_Delete(all);
	assert_non_null(last);
	return last;
}

/* The callback data of the button whose data starts with prefix. */
void staffchat_button_data(const cJSON *msg, const char *prefix, char *out, size_t cap)
{
	const cJSON *rows = cJSON_GetObjectItem(cJSON_GetObjectItem(msg, "reply_markup"), "inline_keyboard"), *row;

	out[0] = '\0';
	cJSON_ArrayForEach(row, rows) {
		const cJSON *b;

		cJSON_ArrayForEach(b, row) {
			const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(b, "callback_data"));

			if (d != NULL && strncmp(d, prefix, strlen(prefix)) == 0)
				snprintf(out, cap, "%s", d);
		}
	}
}

void staffchat_reply_to(struct dt *t, long long chat, long long message_id, const char *text)
{
	char json[512];
	cJSON *r;

	snprintf(json, sizeof(json), "{\"chat_id\":%lld,\"text\":\"%s\",\"reply_to_message_id\":%lld}", chat, text,
		 message_id);
	r = simctl_post(&t->sim, "message", json);
	assert_non_null(r);
	cJSON_Delete(r);
}

void staffchat_last_text(struct dt *t, long long chat, char *out, size_t cap)
{
	dt_sent_text(t, chat, dt_sent_count(t, chat) - 1, out, cap);
}

/* Sends text (or presses the button with data) as Sara and returns the
 * last message she got once n more came. */
cJSON *staffchat_sara_asks(struct dt *t, const char *text, const char *data, int n)
{
	int before = dt_sent_count(t, SARA);

	if (data != NULL)
		assert_true(simctl_button(&t->sim, SARA, data, 1) > 0);
	else
		assert_true(simctl_message(&t->sim, SARA, text) > 0);
	DT_WAIT_SENT(t, SARA, before + n, 30000);
	return staffchat_last_sent(t, SARA);
}

const char *staffchat_text_of(const cJSON *msg)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItem(msg, "text"));

	assert_non_null(s);
	return s;
}
