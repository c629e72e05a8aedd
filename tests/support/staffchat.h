/* Staff chats for the daemon tests (test_staff, test_staff_long): the
 * staff of the test setup, their chats linked as staff link them, and what
 * the bot sent to a chat. */
#ifndef CASEBOT_TEST_STAFFCHAT_H
#define CASEBOT_TEST_STAFFCHAT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "tests/support/dtest.h"

#define SARA 9001      /* counsellor of F-1, Dutch */
#define MARC 9002      /* backup of F-1, French */
#define LOTTE 9003     /* counsellor of nobody here, German */
#define CORA 9004      /* coordinator, English */

/* The number the bot showed in chat, entered as staff confirm does. */
void staffchat_confirm(struct dt *t, const char *name, long long chat);
/* Sara always; Marc (her backup on F-1), Lotte and Cora when asked. Each
 * chat is paired and welcomed before this returns. */
void staffchat_setup(struct dt *t, int with_marc, int with_lotte, int with_cora);
/* The last message sent to chat; the caller frees it. */
cJSON *staffchat_last_sent(struct dt *t, long long chat);
/* The callback data of the button whose data starts with prefix ("" if none). */
void staffchat_button_data(const cJSON *msg, const char *prefix, char *out, size_t cap);
/* chat answers message_id with text (Telegram's reply). */
void staffchat_reply_to(struct dt *t, long long chat, long long message_id, const char *text);
void staffchat_last_text(struct dt *t, long long chat, char *out, size_t cap);
/* Sends text (or presses the button with data) as Sara and returns the
 * last message she got once n more came; the caller frees it. */
cJSON *staffchat_sara_asks(struct dt *t, const char *text, const char *data, int n);
/* The text of a sent message (fails the test if it has none). */
const char *staffchat_text_of(const cJSON *msg);

#endif
