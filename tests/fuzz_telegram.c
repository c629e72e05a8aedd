/* libFuzzer target for the Telegram Bot API layer: the input is fed as a
 * getUpdates body, as a single update, as an API result, and as text to split
 * and send. Built apart from the tests, and run, by make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bot/casebot.h"
#include "bot/event.h"
#include "bot/gateways/telegram_api.h"

static void check_event(int rc, const struct inbound_event *ev)
{
	/* Every string the parser fills must be terminated within its field. */
	if (memchr(ev->channel, '\0', sizeof(ev->channel)) == NULL ||
	    memchr(ev->external_id, '\0', sizeof(ev->external_id)) == NULL ||
	    memchr(ev->sender, '\0', sizeof(ev->sender)) == NULL ||
	    memchr(ev->text, '\0', sizeof(ev->text)) == NULL ||
	    memchr(ev->button_data, '\0', sizeof(ev->button_data)) == NULL ||
	    memchr(ev->callback_id, '\0', sizeof(ev->callback_id)) == NULL ||
	    memchr(ev->media_kind, '\0', sizeof(ev->media_kind)) == NULL ||
	    memchr(ev->media_ref, '\0', sizeof(ev->media_ref)) == NULL ||
	    memchr(ev->media_mime, '\0', sizeof(ev->media_mime)) == NULL)
		abort();
	if (rc == 0 && ev->sender[0] == '\0')
		abort();
	if (rc == 0 && ev->kind == EVENT_BUTTON &&
	    (ev->button_data[0] == '\0' || ev->callback_id[0] == '\0'))
		abort();
	if (rc == 0 && ev->kind == EVENT_MEDIA && ev->media_ref[0] == '\0')
		abort();
	/* A text that is not UTF-8 is refused as such (-CB_EINVAL). */
	if (rc != 0 && rc != TELEGRAM_IGNORED && rc != -CB_EPARSE && rc != -CB_EINVAL)
		abort();
}

static int on_update(void *arg, int rc, const struct inbound_event *ev, unsigned flags,
                     const cJSON *update)
{
	char *raw;

	(void)flags;
	check_event(rc, ev);
	/* What the store would keep. */
	raw = cJSON_PrintUnformatted(update);
	free(raw);
	(*(unsigned *)arg)++;
	return 0;
}

/* Splits the whole text; every part must fit and the loop must end. */
static void split_all(const char *s, size_t len, size_t max_units)
{
	size_t off = 0, next, part;

	while (off < len) {
		part = telegram_api_split(s + off, len - off, max_units, &next);
		if (next == 0 || part > next || next > len - off)
			abort();
		if (telegram_api_utf16_len(s + off, part) > max_units && part > 4)
			abort();
		off += next;
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct inbound_event ev;
	struct telegram_updates u;
	struct telegram_result r;
	unsigned calls = 0, flags;
	char *text, *json;
	cJSON *root;
	int rc;

	memset(&u, 0, sizeof(u));
	u.fn = on_update;
	u.arg = &calls;
	u.max_update_id = -1;
	rc = telegram_api_parse_updates((const char *)data, size, 200, &u);
	if (rc == 0 && calls != u.usable + u.ignored + u.malformed)
		abort();

	telegram_api_parse_result((const char *)data, size, 200, &r);
	telegram_api_parse_result((const char *)data, size, 429, &r);
	if (r.status == TELEGRAM_RETRY_AFTER &&
	    (r.retry_after < 1 || r.retry_after > TELEGRAM_RETRY_AFTER_MAX))
		abort();

	root = cJSON_ParseWithLength((const char *)data, size);
	if (root != NULL) {
		rc = telegram_api_parse_update(root, 1000, &ev, &flags);
		check_event(rc, &ev);
		cJSON_Delete(root);
	}

	/* The same bytes as text a counsellor typed. */
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	split_all(text, size, TELEGRAM_TEXT_MAX_UNITS);
	split_all(text, size, 7);
	split_all(text, size, 1);
	{
		struct telegram_button b = { text, text, 0 };
		struct telegram_message m = { .chat_id = 42, .text = text, .buttons = &b,
		                              .nbuttons = size % 2, .reply_to_message_id = 7 };

		if (telegram_api_build_send_message(&m, &json) == 0) {
			root = cJSON_Parse(json);
			if (root == NULL)
				abort();
			cJSON_Delete(root);
			free(json);
		}
	}
	if (telegram_api_build_answer_callback(text, text, &json) == 0)
		free(json);
	if (telegram_api_build_get_file(text, &json) == 0)
		free(json);
	{
		char url[512];

		telegram_api_file_url(url, sizeof(url), "https://api.telegram.org",
		                      "123:abc", text);
	}
	free(text);
	return 0;
}
