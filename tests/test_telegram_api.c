/* Telegram Bot API layer: every public sample in tests/data/payloads/telegram
 * with exact expectations, our own fixtures in tests/data/telegram, malformed
 * input, builders, splitting and URLs. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bot/casebot.h"
#include "bot/event.h"
#include "bot/event_json.h"
#include "bot/gateways/telegram_api.h"

#define FILE_MAX (1024 * 1024)
#define TOKEN "123456:ABC-DEF_ghi789"

static struct inbound_event ev;
static unsigned flags;

/* ----------------------------------------------------------- file access */

/* The public samples, copied with their SOURCES.md into the repository so
 * that the tests need nothing beside it. */
static const char *payload_dir(void)
{
	return "tests/data/payloads/telegram";
}

static char *load_path(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	size_t n;

	if (fp == NULL)
		fail_msg("cannot open %s", path);
	buf = malloc(FILE_MAX + 1);
	assert_non_null(buf);
	n = fread(buf, 1, FILE_MAX + 1, fp);
	fclose(fp);
	assert_true(n <= FILE_MAX);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static char *load(const char *name, size_t *len)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", payload_dir(), name);
	return load_path(path, len);
}

static char *load_own(const char *name, size_t *len)
{
	char path[1024];

	snprintf(path, sizeof(path), "tests/data/telegram/%s", name);
	return load_path(path, len);
}

static int parse_text(const char *body, int64_t cap)
{
	cJSON *root = cJSON_Parse(body);
	int rc;

	assert_non_null(root);
	rc = telegram_api_parse_update(root, cap, &ev, &flags);
	cJSON_Delete(root);
	return rc;
}

/* Parses one update file from the public samples into ev/flags. */
static int parse_file(const char *name)
{
	size_t len;
	char *body = load(name, &len);
	int rc = parse_text(body, 0);

	free(body);
	return rc;
}

static int parse_own(const char *name)
{
	size_t len;
	char *body = load_own(name, &len);
	int rc = parse_text(body, 0);

	free(body);
	return rc;
}

static void result_file(const char *name, int own, int http, int want_rc,
                        struct telegram_result *r)
{
	size_t len;
	char *body = own ? load_own(name, &len) : load(name, &len);

	assert_int_equal(telegram_api_parse_result(body, len, http, r), want_rc);
	free(body);
}

static void assert_message(const char *ext, const char *sender, long at, long msg_id)
{
	assert_string_equal(ev.channel, "telegram");
	assert_string_equal(ev.external_id, ext);
	assert_string_equal(ev.sender, sender);
	assert_int_equal(ev.at, at);
	if (msg_id == 0)
		assert_string_equal(ev.message_id, "");
	else
		assert_int_equal(strtoll(ev.message_id, NULL, 10), msg_id);
}

static void assert_media(const char *kind, const char *ref, const char *mime, long size)
{
	assert_int_equal(ev.kind, EVENT_MEDIA);
	assert_string_equal(ev.media_kind, kind);
	assert_string_equal(ev.media_ref, ref);
	assert_string_equal(ev.media_mime, mime);
	assert_int_equal(ev.media_size, size);
}

/* ------------------------------------------------ getUpdates collection */

#define COLLECT_MAX 8

static struct {
	int calls;
	int fail_at;             /* call number that returns -CB_ESTORE, or -1 */
	int rc[COLLECT_MAX];
	unsigned flags[COLLECT_MAX];
	struct inbound_event ev[COLLECT_MAX];
	int64_t raw_id[COLLECT_MAX]; /* update_id read back from the raw JSON */
} col;

static int collect(void *arg, int rc, const struct inbound_event *e, unsigned fl,
                   const cJSON *update)
{
	int i = col.calls++;
	char *raw;
	cJSON *back, *id;

	assert_ptr_equal(arg, &col);
	if (i == col.fail_at)
		return -CB_ESTORE;
	assert_true(i < COLLECT_MAX);
	col.rc[i] = rc;
	col.flags[i] = fl;
	col.ev[i] = *e;
	col.raw_id[i] = -1;
	raw = cJSON_PrintUnformatted(update);
	assert_non_null(raw);
	back = cJSON_Parse(raw);
	assert_non_null(back);
	id = cJSON_GetObjectItemCaseSensitive(back, "update_id");
	if (cJSON_IsNumber(id))
		col.raw_id[i] = (int64_t)id->valuedouble;
	cJSON_Delete(back);
	free(raw);
	return 0;
}

static void collect_reset(struct telegram_updates *u, int64_t start)
{
	memset(&col, 0, sizeof(col));
	col.fail_at = -1;
	memset(u, 0, sizeof(*u));
	u->fn = collect;
	u->arg = &col;
	u->max_update_id = start;
}

/* ============================================ public samples, one by one */

static void p_apisio_get_updates(void **state)
{
	struct telegram_updates u;
	size_t len;
	char *body = load("apisio_getUpdates_response.json", &len);

	(void)state;
	collect_reset(&u, -1);
	assert_int_equal(telegram_api_parse_updates(body, len, 200, &u), 0);
	free(body);
	assert_int_equal(u.result.status, TELEGRAM_OK);
	assert_int_equal(col.calls, 2);
	assert_int_equal(u.usable, 2);
	assert_int_equal(u.ignored, 0);
	assert_int_equal(u.malformed, 0);
	assert_int_equal(u.max_update_id, 524876124);

	assert_int_equal(col.rc[0], 0);
	assert_int_equal(col.ev[0].kind, EVENT_TEXT);
	assert_string_equal(col.ev[0].external_id, "524876123");
	assert_string_equal(col.ev[0].sender, "123456789");
	assert_string_equal(col.ev[0].text, "/start");
	assert_int_equal(col.ev[0].at, 1746268800);
	assert_string_equal(col.ev[0].message_id, "101");
	assert_int_equal(col.raw_id[0], 524876123);

	assert_int_equal(col.rc[1], 0);
	assert_int_equal(col.ev[1].kind, EVENT_BUTTON);
	assert_string_equal(col.ev[1].external_id, "524876124");
	assert_string_equal(col.ev[1].sender, "123456789");
	assert_string_equal(col.ev[1].button_data, "option_1");
	assert_string_equal(col.ev[1].callback_id, "4382bfdwdsf43");
	assert_string_equal(col.ev[1].message_id, "100");
	assert_int_equal(col.ev[1].at, 0);
	assert_string_equal(col.ev[1].text, "");
	assert_int_equal(col.raw_id[1], 524876124);
}

static void p_courier_contact(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_contact_message.json"), 0);
	assert_message("900946536", "3527065", 1493845755, 96);
	assert_int_equal(ev.kind, EVENT_OTHER);
	/* The contact's phone number must not leak into the event. */
	assert_string_equal(ev.text, "");
	assert_string_equal(ev.media_ref, "");
	assert_int_equal(flags, 0);
}

static void p_courier_document(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_document_message.json"), 0);
	assert_message("900946532", "3527065", 1493845100, 92);
	assert_media("document", "BQADAQADCgADgtFRRPrv9GQ95f8eAg", "application/vnd.ms-excel",
	             4540928);
	assert_string_equal(ev.text, "");
	assert_int_equal(flags, 0);
}

static void p_courier_error_400(void **state)
{
	struct telegram_result r;

	(void)state;
	result_file("courier_error_400_bad_request.json", 0, 400, 0, &r);
	assert_int_equal(r.status, TELEGRAM_PERMANENT);
	assert_int_equal(r.error_code, 400);
	assert_string_equal(r.description, "Bad Request");
	assert_int_equal(r.retry_after, 0);
}

static void p_courier_error_403(void **state)
{
	struct telegram_result r;

	(void)state;
	result_file("courier_error_403_blocked.json", 0, 403, 0, &r);
	assert_int_equal(r.status, TELEGRAM_BLOCKED);
	assert_int_equal(r.error_code, 403);
	assert_string_equal(r.description, "Forbidden: bot was blocked by the user");
}

static void p_courier_error_429(void **state)
{
	struct telegram_result r;

	(void)state;
	result_file("courier_error_429_retry_after.json", 0, 429, 0, &r);
	assert_int_equal(r.status, TELEGRAM_RETRY_AFTER);
	assert_int_equal(r.error_code, 429);
	assert_int_equal(r.retry_after, 30);
	assert_string_equal(r.description, "Too Many Requests: retry after 30");
}

static void p_courier_get_file(void **state)
{
	struct telegram_result r;
	char url[256];

	(void)state;
	result_file("courier_getFile_response.json", 0, 200, 0, &r);
	assert_int_equal(r.status, TELEGRAM_OK);
	assert_string_equal(r.file_path, "document.xls");
	assert_int_equal(r.file_size, 0);
	assert_int_equal(r.message_id, 0);
	assert_int_equal(telegram_api_file_url(url, sizeof(url), "https://api.telegram.org",
	                                       TOKEN, r.file_path), 0);
	assert_string_equal(url, "https://api.telegram.org/file/bot" TOKEN "/document.xls");
}

static void p_courier_location(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_location_message.json"), 0);
	assert_message("900946534", "3527065", 1493845244, 94);
	assert_int_equal(ev.kind, EVENT_LOCATION);
	assert_string_equal(ev.text, "");
}

static void p_courier_photo(void **state)
{
	size_t len;
	char *body = load("courier_photo_message.json", &len);

	(void)state;
	assert_int_equal(parse_text(body, 0), 0);
	assert_message("900946525", "3527065", 1493843318, 85);
	assert_media("photo", "AgADAQADtKcxG4LRUUQSQVUjfJIiiF8G6C8ABA9NJzFdXskaincBAAEC",
	             "image/jpeg", 104737);
	assert_string_equal(ev.text, "Photo Caption");
	assert_int_equal(flags, 0);

	/* A cap between the sizes picks the largest one within it. */
	assert_int_equal(parse_text(body, 60000), 0);
	assert_media("photo", "AgADAQADtKcxG4LRUUQSQVUjfJIiiF8G6C8ABF8Fy2sccmWmjHcBAAEC",
	             "image/jpeg", 57833);
	assert_int_equal(flags, 0);

	/* No size fits: the smallest, flagged. */
	assert_int_equal(parse_text(body, 1000), 0);
	assert_media("photo", "AgADAQADtKcxG4LRUUQSQVUjfJIiiF8G6C8ABHsRSbk65AmUi3cBAAEC",
	             "image/jpeg", 1140);
	assert_int_equal(flags, TELEGRAM_F_TOO_BIG);
	free(body);
}

static void p_courier_send_ok(void **state)
{
	struct telegram_result r;

	(void)state;
	result_file("courier_sendMessage_ok_response.json", 0, 200, 0, &r);
	assert_int_equal(r.status, TELEGRAM_OK);
	assert_int_equal(r.message_id, 133);
	assert_string_equal(r.file_path, "");
	assert_string_equal(r.description, "");
}

static void p_courier_start(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_start_command.json"), 0);
	assert_message("174114370", "3527065", 1454119029, 41);
	assert_int_equal(ev.kind, EVENT_TEXT);
	assert_string_equal(ev.text, "/start");
}

static void p_courier_sticker(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_sticker_message.json"), 0);
	assert_message("174114373", "3527065", 1454119668, 44);
	/* The sticker itself, not its thumbnail. */
	assert_media("sticker", "BQADAwADRQADyIsGAAHtBskMy6GoLAI", "image/webp", 38440);
}

static void p_courier_text(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_text_message.json"), 0);
	assert_message("174114370", "3527065", 1454119029, 41);
	assert_int_equal(ev.kind, EVENT_TEXT);
	assert_string_equal(ev.text, "Hello World");
	assert_string_equal(ev.reply_to, "");
	assert_int_equal(flags, 0);
}

static void p_courier_without_message(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_update_without_message.json"), TELEGRAM_IGNORED);
	assert_string_equal(ev.channel, "telegram");
	assert_string_equal(ev.external_id, "174114370");
	assert_string_equal(ev.sender, "");
}

static void p_courier_venue(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_venue_message.json"), 0);
	assert_message("900946535", "3527065", 1493845520, 95);
	assert_int_equal(ev.kind, EVENT_LOCATION);
	assert_string_equal(ev.text, "");
}

static void p_courier_video(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_video_message.json"), 0);
	assert_message("900946526", "3527065", 1493843364, 86);
	assert_media("video", "BAADAQADBgADgtFRRPFTAAHxLVw76wI", "video/mp4", 257507);
}

static void p_courier_voice(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_voice_message.json"), 0);
	assert_message("900946531", "3527065", 1493844646, 91);
	assert_media("voice", "AwADAQADCQADgtFRRGn8KrC-0D_MAg", "audio/ogg", 4288);
}

static void p_courier_web_app_data(void **state)
{
	(void)state;
	assert_int_equal(parse_file("courier_web_app_data_message.json"), 0);
	assert_message("900946537", "3527065", 1493845755, 97);
	assert_int_equal(ev.kind, EVENT_OTHER);
	assert_string_equal(ev.text, "");
}

static void p_litegram_callback(void **state)
{
	(void)state;
	assert_int_equal(parse_file("litegram_callback_query_inline_keyboard.json"), 0);
	assert_message("163399206", "436432850", 0, 1054);
	assert_int_equal(ev.kind, EVENT_BUTTON);
	assert_string_equal(ev.button_data, "K0ktLokvzsgvj6+oKquqACIA");
	assert_string_equal(ev.callback_id, "1874464818486990916");
	/* The keyboard message's text is not the user's. */
	assert_string_equal(ev.text, "");
}

static void p_official_callback(void **state)
{
	(void)state;
	/* Old sample: no message, inline_message_id instead, no chat_instance. */
	assert_int_equal(parse_file("official_webhooks_guide_callback_query.json"), 0);
	assert_message("10000", "1111111", 0, 0);
	assert_int_equal(ev.kind, EVENT_BUTTON);
	assert_string_equal(ev.button_data, "Data from button callback");
	assert_string_equal(ev.callback_id, "4382bfdwdsb323b2d9");
}

static void p_official_document(void **state)
{
	(void)state;
	assert_int_equal(parse_file("official_webhooks_guide_document_message.json"), 0);
	assert_message("10000", "1111111", 1441645532, 1365);
	assert_media("document", "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX", "application/pdf", 536392);
}

static void p_official_edited(void **state)
{
	(void)state;
	assert_int_equal(parse_file("official_webhooks_guide_edited_message.json"), 0);
	/* at is the edit time; message_id names the message that changed. */
	assert_message("10000", "1111111", 1441646600, 1365);
	assert_int_equal(ev.kind, EVENT_TEXT);
	assert_string_equal(ev.text, "Edited text");
	assert_int_equal(flags, TELEGRAM_F_EDITED);
}

static void p_official_entities(void **state)
{
	(void)state;
	assert_int_equal(parse_file("official_webhooks_guide_message_with_entities.json"), 0);
	assert_message("10000", "1111111", 1441645532, 1365);
	assert_int_equal(ev.kind, EVENT_TEXT);
	assert_string_equal(ev.text, "Bold and italics");
	assert_int_equal(flags, 0);
}

static void p_official_text(void **state)
{
	(void)state;
	assert_int_equal(parse_file("official_webhooks_guide_text_message.json"), 0);
	assert_message("10000", "1111111", 1441645532, 1365);
	assert_int_equal(ev.kind, EVENT_TEXT);
	assert_string_equal(ev.text, "/start");
}

static void p_official_voice(void **state)
{
	(void)state;
	assert_int_equal(parse_file("official_webhooks_guide_voice_message.json"), 0);
	assert_message("10000", "1111111", 1441645532, 1365);
	assert_media("voice", "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX", "audio/ogg", 23000);
}

static void p_teloxide_kicked(void **state)
{
	(void)state;
	assert_int_equal(parse_file("teloxide_my_chat_member_kicked.json"), 0);
	assert_message("0", "0", 1644677726, 0);
	assert_int_equal(ev.kind, EVENT_BLOCKED);
}

static void p_teloxide_supergroup(void **state)
{
	(void)state;
	assert_int_equal(parse_file("teloxide_supergroup_command_with_entities.json"),
	                 TELEGRAM_IGNORED);
	assert_string_equal(ev.external_id, "439432600");
	assert_string_equal(ev.sender, "");
	assert_string_equal(ev.text, "");
}

static void p_teloxide_text(void **state)
{
	(void)state;
	assert_int_equal(parse_file("teloxide_text_message.json"), 0);
	assert_message("892252934", "218485655", 1569518342, 6557);
	assert_int_equal(ev.kind, EVENT_TEXT);
	assert_string_equal(ev.text, "hello there");
}

static const char *const known_payloads[] = {
	"apisio_getUpdates_response.json",
	"courier_contact_message.json",
	"courier_document_message.json",
	"courier_error_400_bad_request.json",
	"courier_error_403_blocked.json",
	"courier_error_429_retry_after.json",
	"courier_getFile_response.json",
	"courier_location_message.json",
	"courier_photo_message.json",
	"courier_sendMessage_ok_response.json",
	"courier_start_command.json",
	"courier_sticker_message.json",
	"courier_text_message.json",
	"courier_update_without_message.json",
	"courier_venue_message.json",
	"courier_video_message.json",
	"courier_voice_message.json",
	"courier_web_app_data_message.json",
	"litegram_callback_query_inline_keyboard.json",
	"official_webhooks_guide_callback_query.json",
	"official_webhooks_guide_document_message.json",
	"official_webhooks_guide_edited_message.json",
	"official_webhooks_guide_message_with_entities.json",
	"official_webhooks_guide_text_message.json",
	"official_webhooks_guide_voice_message.json",
	"teloxide_my_chat_member_kicked.json",
	"teloxide_supergroup_command_with_entities.json",
	"teloxide_text_message.json",
};

/* Every file in the directory, including ones added after this test was
 * written: an update parses the same alone and inside a getUpdates body, a
 * response classifies, nothing is malformed. */
static void p_every_file(void **state)
{
	struct telegram_updates u;
	struct telegram_result r;
	struct inbound_event *alone = malloc(sizeof(*alone));
	const char *dir = payload_dir();
	struct dirent *de;
	size_t seen = 0, known = 0, len, i;
	DIR *d = opendir(dir);

	(void)state;
	assert_non_null(alone);
	if (d == NULL)
		fail_msg("cannot open payload directory %s", dir);
	while ((de = readdir(d)) != NULL) {
		char *body, *wrapped;
		cJSON *root;
		unsigned fl;
		int rc;

		if (de->d_name[0] == '.')
			continue;
		seen++;
		for (i = 0; i < CB_ARRAY_SIZE(known_payloads); i++)
			if (strcmp(de->d_name, known_payloads[i]) == 0)
				known++;
		body = load(de->d_name, &len);
		root = cJSON_ParseWithLength(body, len);
		if (root == NULL)
			fail_msg("%s: not JSON", de->d_name);
		if (cJSON_GetObjectItemCaseSensitive(root, "update_id") != NULL) {
			rc = telegram_api_parse_update(root, 0, alone, &fl);
			if (rc < 0)
				fail_msg("%s: malformed (%d)", de->d_name, rc);
			wrapped = malloc(len + 64);
			assert_non_null(wrapped);
			len = (size_t)sprintf(wrapped, "{\"ok\":true,\"result\":[%s]}", body);
			collect_reset(&u, -1);
			assert_int_equal(telegram_api_parse_updates(wrapped, len, 200, &u), 0);
			assert_int_equal(col.calls, 1);
			assert_int_equal(col.rc[0], rc);
			assert_int_equal(col.flags[0], fl);
			assert_memory_equal(&col.ev[0], alone, sizeof(*alone));
			assert_int_equal(u.max_update_id, strtoll(alone->external_id, NULL, 10));
			free(wrapped);
		} else if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(root, "result"))) {
			collect_reset(&u, -1);
			assert_int_equal(telegram_api_parse_updates(body, len, 200, &u), 0);
			assert_int_equal(u.malformed, 0);
			assert_true(u.max_update_id >= 0);
		} else {
			assert_int_equal(telegram_api_parse_result(body, len, 200, &r), 0);
		}
		cJSON_Delete(root);
		free(body);
	}
	closedir(d);
	free(alone);
	if (known != CB_ARRAY_SIZE(known_payloads))
		fail_msg("%s: %zu of %zu known samples found", dir, known,
		         CB_ARRAY_SIZE(known_payloads));
	if (seen > known)
		print_message("%zu sample(s) without exact expectations, checked generically\n",
		              seen - known);
}

/* The samples live in the repository with their provenance: every file of
 * every gateway's directory is named in SOURCES.md. */
static void p_samples_have_sources(void **state)
{
	static const char *const dirs[] = {"telegram", "whatsapp", "sms"};
	size_t len, files = 0;
	char *sources = load_path("tests/data/payloads/SOURCES.md", &len);

	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(dirs); i++) {
		char path[256];
		struct dirent *de;
		DIR *d;

		snprintf(path, sizeof(path), "tests/data/payloads/%s", dirs[i]);
		if ((d = opendir(path)) == NULL)
			fail_msg("cannot open %s", path);
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			files++;
			/* A name is listed whole, or under a prefix like "courier_*". */
			if (strstr(sources, de->d_name) == NULL) {
				char prefix[128];
				const char *us = strchr(de->d_name, '_');

				snprintf(prefix, sizeof(prefix), "%.*s_*", us != NULL ? (int)(us - de->d_name) : 0,
				         de->d_name);
				if (us == NULL || strstr(sources, prefix) == NULL)
					fail_msg("%s/%s is not in SOURCES.md", dirs[i], de->d_name);
			}
		}
		closedir(d);
	}
	assert_true(files >= CB_ARRAY_SIZE(known_payloads));
	free(sources);
}

/* ============================================================ own fixtures */

static void f_mixed_batch(void **state)
{
	struct telegram_updates u;
	size_t len;
	char *body = load_own("getUpdates_mixed_batch.json", &len);

	(void)state;
	collect_reset(&u, 3);
	assert_int_equal(telegram_api_parse_updates(body, len, 200, &u), 0);
	assert_int_equal(col.calls, 6);
	assert_int_equal(u.usable, 2);
	assert_int_equal(u.ignored, 1);
	assert_int_equal(u.malformed, 3);
	/* The channel post (9) is ignored but still moves the offset. */
	assert_int_equal(u.max_update_id, 9);

	assert_int_equal(col.rc[0], 0);
	assert_string_equal(col.ev[0].text, "first");
	assert_int_equal(col.rc[1], -CB_EPARSE);
	assert_string_equal(col.ev[1].external_id, "6");
	assert_int_equal(col.rc[2], -CB_EPARSE);
	assert_string_equal(col.ev[2].external_id, "");
	assert_string_equal(col.ev[2].text, "");
	assert_int_equal(col.rc[3], TELEGRAM_IGNORED);
	assert_string_equal(col.ev[3].external_id, "9");
	assert_int_equal(col.rc[4], 0);
	assert_string_equal(col.ev[4].text, "last");
	assert_string_equal(col.ev[4].external_id, "7");
	assert_int_equal(col.rc[5], -CB_EPARSE);

	/* A store failure on the second update stops the walk before it, so the
	 * offset covers only the first. */
	collect_reset(&u, 3);
	col.fail_at = 1;
	assert_int_equal(telegram_api_parse_updates(body, len, 200, &u), -CB_ESTORE);
	assert_int_equal(u.max_update_id, 5);

	/* The offset never goes back. */
	collect_reset(&u, 1000);
	assert_int_equal(telegram_api_parse_updates(body, len, 200, &u), 0);
	assert_int_equal(u.max_update_id, 1000);

	/* Without a callback it only counts. */
	memset(&u, 0, sizeof(u));
	u.max_update_id = -1;
	assert_int_equal(telegram_api_parse_updates(body, len, 200, &u), 0);
	assert_int_equal(u.usable + u.ignored + u.malformed, 6);
	assert_int_equal(u.max_update_id, 9);
	free(body);
}

static void f_unblocked(void **state)
{
	(void)state;
	assert_int_equal(parse_own("my_chat_member_unblocked.json"), 0);
	assert_message("31", "218485655", 1700001000, 0);
	assert_int_equal(ev.kind, EVENT_UNBLOCKED);
}

static void f_group_added(void **state)
{
	(void)state;
	assert_int_equal(parse_own("my_chat_member_group_added.json"), TELEGRAM_IGNORED);
	assert_string_equal(ev.external_id, "32");
}

static void f_photo_without_size(void **state)
{
	(void)state;
	assert_int_equal(parse_own("photo_without_file_size.json"), 0);
	assert_message("40", "77", 1700002000, 9);
	/* Largest by area, wherever it sits in the array. */
	assert_media("photo", "BIG", "image/jpeg", 0);
	assert_string_equal(ev.text, "passport");
	assert_int_equal(flags, 0);
}

static void f_reply_document_too_big(void **state)
{
	(void)state;
	assert_int_equal(parse_own("reply_with_document_too_big.json"), 0);
	assert_message("41", "77", 1700002100, 10);
	assert_string_equal(ev.reply_to, "8");
	assert_media("document", "DOCBIG", "application/pdf", 31457280);
	assert_string_equal(ev.text, "here");
	assert_int_equal(flags, TELEGRAM_F_TOO_BIG);
}

/* The edit sample of Telegram's webhook guide: the event says it is an
 * edit, and of what, and keeps saying so once stored and read back for
 * routing. */
static void f_edited_message_event(void **state)
{
	static struct inbound_event back;
	static char json[4096];

	(void)state;
	assert_int_equal(parse_file("official_webhooks_guide_edited_message.json"), 0);
	assert_message("10000", "1111111", 1441646600, 1365);
	assert_int_equal(ev.edited, 1);
	assert_int_equal(ev.original_at, 1441645532);
	assert_int_equal(event_to_json(&ev, 1, json, sizeof(json)), 0);
	assert_int_equal(event_from_json(json, "telegram", "10000", "1111111", &back), 0);
	assert_int_equal(back.edited, 1);
	assert_int_equal(back.original_at, 1441645532);
	assert_string_equal(back.message_id, "1365");
	/* A new message is no edit. */
	assert_int_equal(parse_file("official_webhooks_guide_text_message.json"), 0);
	assert_int_equal(ev.edited, 0);
	assert_int_equal(event_to_json(&ev, 0, json, sizeof(json)), 0);
	assert_null(strstr(json, "edited"));
}

static void f_chat_id_string(void **state)
{
	(void)state;
	assert_int_equal(parse_own("malformed_chat_id_string.json"), -CB_EPARSE);
	assert_string_equal(ev.external_id, "50");
	assert_string_equal(ev.text, "");
}

static void f_error_responses(void **state)
{
	struct telegram_result r;

	(void)state;
	result_file("error_400_chat_not_found.json", 1, 400, 0, &r);
	assert_int_equal(r.status, TELEGRAM_BLOCKED);
	assert_int_equal(r.error_code, 400);
	result_file("error_403_user_deactivated.json", 1, 403, 0, &r);
	assert_int_equal(r.status, TELEGRAM_BLOCKED);
	result_file("error_409_conflict.json", 1, 409, 0, &r);
	assert_int_equal(r.status, TELEGRAM_TRANSIENT);
	assert_int_equal(r.error_code, 409);
	result_file("error_502_html.txt", 1, 502, -CB_EPARSE, &r);
	assert_int_equal(r.status, TELEGRAM_TRANSIENT);
	assert_int_equal(r.error_code, 502);
}

/* ==================================================== malformed updates */

static void m_update_shapes(void **state)
{
	static const char *const bad[] = {
		"[]",
		"\"update\"",
		"{}",
		"{\"update_id\":\"12\",\"message\":{}}",
		"{\"update_id\":1.5}",
		"{\"update_id\":-3}",
		"{\"update_id\":1e300}",
		"{\"update_id\":true}",
	};
	cJSON *root;
	size_t i;

	(void)state;
	for (i = 0; i < CB_ARRAY_SIZE(bad); i++) {
		root = cJSON_Parse(bad[i]);
		assert_non_null(root);
		assert_int_equal(telegram_api_parse_update(root, 0, &ev, &flags), -CB_EPARSE);
		assert_string_equal(ev.external_id, "");
		assert_string_equal(ev.channel, "telegram");
		cJSON_Delete(root);
	}
	assert_int_equal(telegram_api_parse_update(NULL, 0, &ev, &flags), -CB_EPARSE);
	assert_int_equal(telegram_api_parse_update(NULL, 0, NULL, &flags), -CB_EINVAL);
}

static void m_field_types(void **state)
{
	static const char *const bad[] = {
		/* message not an object */
		"{\"update_id\":1,\"message\":[1]}",
		/* chat missing */
		"{\"update_id\":1,\"message\":{\"message_id\":1,\"date\":1,\"text\":\"x\"}}",
		/* text a number */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"text\":5}}",
		/* date a string */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"date\":\"x\",\"text\":\"x\"}}",
		/* chat type not a string */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":1},\"text\":\"x\"}}",
		/* empty photo array */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"photo\":[]}}",
		/* photo size without file_id */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"photo\":[{\"width\":1}]}}",
		/* document without file_id */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"document\":{\"file_size\":3}}}",
		/* document a string */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"document\":\"x\"}}",
		/* callback without id */
		"{\"update_id\":1,\"callback_query\":{\"from\":{\"id\":5},\"data\":\"x\"}}",
		/* callback without message nor from */
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"data\":\"x\"}}",
		/* callback data over 64 bytes */
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":5},"
		"\"data\":\"01234567890123456789012345678901234567890123456789012345678901234\"}}",
		/* my_chat_member without new status */
		"{\"update_id\":1,\"my_chat_member\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"new_chat_member\":{}}}",
		/* reply_to_message with a string id */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"text\":\"x\","
		"\"reply_to_message\":{\"message_id\":\"7\"}}}",
		/* reply_to_message not an object */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"text\":\"x\",\"reply_to_message\":7}}",
		/* message_id, edit_date, caption of the wrong type */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"message_id\":\"1\",\"text\":\"x\"}}",
		"{\"update_id\":1,\"edited_message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"edit_date\":[],\"text\":\"x\"}}",
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"caption\":{},\"document\":{\"file_id\":\"D\"}}}",
		/* file_size and mime_type of the wrong type */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"voice\":{\"file_id\":\"V\",\"file_size\":\"9\"}}}",
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"voice\":{\"file_id\":\"V\",\"mime_type\":9}}}",
		/* file_id empty */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"voice\":{\"file_id\":\"\"}}}",
		/* photo element not an object, width a string */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"photo\":[\"p\"]}}",
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"photo\":[{\"file_id\":\"p\",\"width\":\"9\"}]}}",
		/* chat id a fraction */
		"{\"update_id\":1,\"message\":{\"chat\":{\"id\":5.5,\"type\":\"private\"},\"text\":\"x\"}}",
		/* callback_query not an object, empty id, data not a string, empty data */
		"{\"update_id\":1,\"callback_query\":\"q\"}",
		"{\"update_id\":1,\"callback_query\":{\"id\":\"\",\"from\":{\"id\":5},\"data\":\"x\"}}",
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":5},\"data\":5}}",
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":5},\"data\":\"\"}}",
		/* callback message of the wrong type, without chat, with a string id */
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":5},\"data\":\"x\",\"message\":[]}}",
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":5},\"data\":\"x\",\"message\":{\"message_id\":3}}}",
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":5},\"data\":\"x\",\"message\":{\"message_id\":\"3\",\"chat\":{\"id\":5,\"type\":\"private\"}}}}",
		/* callback from a string user id */
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":\"5\"},\"data\":\"x\"}}",
		/* callback from a non-positive user id */
		"{\"update_id\":1,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":0},\"data\":\"x\"}}",
		/* my_chat_member: not an object, date a string, members of the wrong type */
		"{\"update_id\":1,\"my_chat_member\":true}",
		"{\"update_id\":1,\"my_chat_member\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"date\":\"1\",\"new_chat_member\":{\"status\":\"kicked\"}}}",
		"{\"update_id\":1,\"my_chat_member\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"new_chat_member\":\"kicked\"}}",
		"{\"update_id\":1,\"my_chat_member\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"new_chat_member\":{\"status\":\"kicked\"},\"old_chat_member\":1}}",
		"{\"update_id\":1,\"my_chat_member\":{\"chat\":{\"id\":5,\"type\":\"private\"},\"new_chat_member\":{\"status\":\"kicked\"},\"old_chat_member\":{\"status\":1}}}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < CB_ARRAY_SIZE(bad); i++) {
		if (parse_text(bad[i], 0) != -CB_EPARSE)
			fail_msg("case %zu parsed: %s", i, bad[i]);
		assert_string_equal(ev.external_id, "1");
		assert_int_equal(flags, 0);
	}
}

static void m_ignored_kinds(void **state)
{
	static const char *const ignored[] = {
		"{\"update_id\":2,\"channel_post\":{\"chat\":{\"id\":-100,\"type\":\"channel\"},\"text\":\"x\"}}",
		"{\"update_id\":2,\"inline_query\":{\"id\":\"1\",\"from\":{\"id\":5},\"query\":\"q\"}}",
		"{\"update_id\":2,\"message\":{\"chat\":{\"id\":-5,\"type\":\"group\"},\"text\":\"x\"}}",
		"{\"update_id\":2,\"message\":{\"chat\":{\"id\":-5},\"text\":\"x\"}}",
		"{\"update_id\":2,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":5},\"data\":\"d\","
		"\"message\":{\"message_id\":3,\"chat\":{\"id\":-5,\"type\":\"supergroup\"}}}}",
		"{\"update_id\":2,\"callback_query\":{\"id\":\"q\",\"from\":{\"id\":5},\"game_short_name\":\"g\"}}",
		"{\"update_id\":2,\"my_chat_member\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
		"\"old_chat_member\":{\"status\":\"member\"},\"new_chat_member\":{\"status\":\"member\"}}}",
		"{\"update_id\":2,\"brand_new_kind\":{\"x\":1}}",
		"{\"update_id\":2,\"message\":null}",
	};
	size_t i;

	(void)state;
	for (i = 0; i < CB_ARRAY_SIZE(ignored); i++) {
		if (parse_text(ignored[i], 0) != TELEGRAM_IGNORED)
			fail_msg("case %zu not ignored: %s", i, ignored[i]);
		assert_string_equal(ev.external_id, "2");
		assert_string_equal(ev.sender, "");
	}
}

static void m_media_variants(void **state)
{
	(void)state;
	assert_int_equal(parse_text("{\"update_id\":3,\"edited_message\":{\"message_id\":4,\"date\":10,"
	                            "\"edit_date\":20,\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"photo\":[{\"file_id\":\"P\",\"file_size\":10,\"width\":2,\"height\":2}],"
	                            "\"caption\":\"new caption\"}}", 0), 0);
	assert_message("3", "5", 20, 4);
	assert_media("photo", "P", "image/jpeg", 10);
	assert_string_equal(ev.text, "new caption");
	assert_int_equal(flags, TELEGRAM_F_EDITED);

	/* An animation also carries a document; it is reported as what it is. */
	assert_int_equal(parse_text("{\"update_id\":3,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"animation\":{\"file_id\":\"A\",\"mime_type\":\"video/mp4\",\"file_size\":9},"
	                            "\"document\":{\"file_id\":\"A\",\"mime_type\":\"video/mp4\",\"file_size\":9}}}", 0), 0);
	assert_media("animation", "A", "video/mp4", 9);

	assert_int_equal(parse_text("{\"update_id\":3,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"sticker\":{\"file_id\":\"S\",\"is_animated\":true,\"width\":1,\"height\":1}}}", 0), 0);
	assert_media("sticker", "S", "application/x-tgsticker", 0);

	assert_int_equal(parse_text("{\"update_id\":3,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"video_note\":{\"file_id\":\"V\",\"length\":240,\"duration\":3}}}", 0), 0);
	assert_media("video_note", "V", "video/mp4", 0);

	assert_int_equal(parse_text("{\"update_id\":3,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"audio\":{\"file_id\":\"AU\",\"mime_type\":\"audio/mpeg\",\"file_size\":99}}}", 0), 0);
	assert_media("audio", "AU", "audio/mpeg", 99);

	/* Mixed sizes: the biggest area is over the cap, the next has no size. */
	assert_int_equal(parse_text("{\"update_id\":3,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"photo\":[{\"file_id\":\"s\",\"file_size\":10,\"width\":10,\"height\":10},"
	                            "{\"file_id\":\"m\",\"width\":100,\"height\":100},"
	                            "{\"file_id\":\"l\",\"file_size\":5000,\"width\":1000,\"height\":1000}]}}", 1000), 0);
	assert_media("photo", "m", "image/jpeg", 0);
	assert_int_equal(flags, 0);

	assert_int_equal(parse_text("{\"update_id\":3,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"sticker\":{\"file_id\":\"S\",\"is_video\":true}}}", 0), 0);
	assert_media("sticker", "S", "video/webm", 0);

	/* A MIME type that does not fit is dropped, not cut. */
	assert_int_equal(parse_text("{\"update_id\":3,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"document\":{\"file_id\":\"D\",\"mime_type\":\"application/"
	                            "vnd.openxmlformats-officedocument.wordprocessingml.document.extra\"}}}", 0), 0);
	assert_media("document", "D", "", 0);

	/* Absurd dimensions count as unknown; the one with a real area wins. */
	assert_int_equal(parse_text("{\"update_id\":3,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"photo\":[{\"file_id\":\"a\",\"width\":-4,\"height\":9e15},"
	                            "{\"file_id\":\"b\",\"width\":2,\"height\":2},"
	                            "{\"file_id\":\"c\",\"width\":0,\"height\":0}]}}", 0), 0);
	assert_media("photo", "b", "image/jpeg", 0);

	/* A poll, a dice: readable as "something else". */
	assert_int_equal(parse_text("{\"update_id\":3,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"dice\":{\"emoji\":\"x\",\"value\":3}}}", 0), 0);
	assert_int_equal(ev.kind, EVENT_OTHER);
}

/* Writes a private text update with text made of n copies of unit. */
static char *big_update(const char *prefix, const char *unit, size_t n)
{
	size_t ul = strlen(unit), pl = strlen(prefix);
	char *s = malloc(n * ul + pl + 256), *p;
	size_t i;

	assert_non_null(s);
	p = s + sprintf(s, "{\"update_id\":4,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                   "\"text\":\"%s", prefix);
	for (i = 0; i < n; i++) {
		memcpy(p, unit, ul);
		p += ul;
	}
	strcpy(p, "\"}}");
	return s;
}

/* The builder refuses invalid UTF-8: use it as the oracle. */
static int utf8_ok(const char *s)
{
	struct telegram_message m = { .chat_id = 1, .text = s };
	char *out = NULL;
	int rc = telegram_api_build_send_message(&m, &out);

	free(out);
	return rc != -CB_EINVAL;
}

static void m_huge_text(void **state)
{
	char *s;
	size_t n;

	(void)state;
	/* 4-byte emoji: 16383 is not a multiple of 4, the cut must back off. */
	s = big_update("", "\xF0\x9F\x98\x80", 5000);
	assert_int_equal(parse_text(s, 0), 0);
	free(s);
	n = strlen(ev.text);
	assert_int_equal(n, 16380);
	assert_int_equal(flags, TELEGRAM_F_TRUNCATED);
	assert_int_equal(telegram_api_utf16_len(ev.text, n), 8190);

	/* CJK after one ASCII byte: 1 + 3k <= 16383. */
	s = big_update("a", "\xE4\xB8\xAD", 6000);
	assert_int_equal(parse_text(s, 0), 0);
	free(s);
	assert_int_equal(strlen(ev.text), 16381);
	assert_int_equal(flags, TELEGRAM_F_TRUNCATED);

	/* A caption is capped the same way. */
	{
		char *body = malloc(EVENT_TEXT_MAX + 256), *p;

		assert_non_null(body);
		p = body + sprintf(body, "{\"update_id\":4,\"message\":{\"chat\":{\"id\":5,"
		                         "\"type\":\"private\"},\"voice\":{\"file_id\":\"V\"},\"caption\":\"");
		memset(p, 'c', EVENT_TEXT_MAX + 10);
		strcpy(p + EVENT_TEXT_MAX + 10, "\"}}");
		assert_int_equal(parse_text(body, 0), 0);
		free(body);
		assert_media("voice", "V", "audio/ogg", 0);
		assert_int_equal(strlen(ev.text), EVENT_TEXT_MAX - 1);
		assert_int_equal(flags, TELEGRAM_F_TRUNCATED);
	}

	/* Exactly at the cap: not cut. */
	s = big_update("", "x", EVENT_TEXT_MAX - 1);
	assert_int_equal(parse_text(s, 0), 0);
	free(s);
	assert_int_equal(strlen(ev.text), EVENT_TEXT_MAX - 1);
	assert_int_equal(flags, 0);
}

static void m_truncated_utf8(void **state)
{
	(void)state;
	/* cJSON passes raw bytes through: an update with a cut sequence, or
	 * any byte that is not UTF-8, in its text, caption or button data is
	 * refused at the edge, before anything stores or shows it. */
	assert_int_equal(parse_text("{\"update_id\":4,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"text\":\"ok \xF0\x9F\"}}", 0), -CB_EINVAL);
	assert_string_equal(ev.external_id, "4");
	assert_int_equal(parse_text("{\"update_id\":6,\"message\":{\"chat\":{\"id\":5,\"type\":\"private\"},"
	                            "\"photo\":[{\"file_id\":\"P\",\"file_unique_id\":\"u\",\"width\":1,"
	                            "\"height\":1}],\"caption\":\"\xC3(\"}}", 0), -CB_EINVAL);
	assert_int_equal(parse_text("{\"update_id\":7,\"callback_query\":{\"id\":\"9\",\"from\":{\"id\":5,"
	                            "\"is_bot\":false,\"first_name\":\"A\"},\"data\":\"ck:\xFF\"}}", 0), -CB_EINVAL);
	assert_int_equal(telegram_api_utf16_len("ok \xF0\x9F", 5), 5);
	assert_true(utf8_ok("caf\xC3\xA9 \xF0\x9F\x98\x80"));
	assert_false(utf8_ok("\xC0\xAF"));         /* overlong */
	assert_false(utf8_ok("\xED\xA0\x80"));     /* surrogate */
	assert_false(utf8_ok("\xF4\x90\x80\x80")); /* above U+10FFFF */
}

static void m_unknown_fields(void **state)
{
	(void)state;
	assert_int_equal(parse_text("{\"update_id\":8,\"future\":[1,{\"a\":null}],\"message\":{"
	                            "\"message_id\":2,\"date\":3,\"chat\":{\"id\":5,\"type\":\"private\","
	                            "\"is_forum\":false},\"from\":{\"id\":5,\"is_premium\":true},"
	                            "\"text\":\"hi\",\"quote\":{\"text\":\"q\"},\"new_thing\":{}}}", 0), 0);
	assert_message("8", "5", 3, 2);
	assert_string_equal(ev.text, "hi");
	/* Large ids keep every digit. */
	assert_int_equal(parse_text("{\"update_id\":9007199254740991,\"message\":{\"chat\":"
	                            "{\"id\":7000000000123,\"type\":\"private\"},\"text\":\"x\"}}", 0), 0);
	assert_string_equal(ev.external_id, "9007199254740991");
	assert_string_equal(ev.sender, "7000000000123");
}

/* ============================================= getUpdates / result bodies */

static void r_updates_garbage(void **state)
{
	static const char *const bad[] = {
		"nope", "", "[]", "{\"result\":[]}", "{\"ok\":1,\"result\":[]}",
		"{\"ok\":true}", "{\"ok\":true,\"result\":{}}", "{\"ok\":true,\"result\":[]} trailing",
		"{\"ok\":true,\"result\":[", "<html>502</html>",
	};
	static const char empty_x[] = "{\"ok\":true,\"result\":[]}XXXX";
	static const char spaced[] = " {\"ok\":true,\"result\":[]}\r\n";
	struct telegram_updates u;
	size_t i;

	(void)state;
	for (i = 0; i < CB_ARRAY_SIZE(bad); i++) {
		collect_reset(&u, 11);
		if (telegram_api_parse_updates(bad[i], strlen(bad[i]), 200, &u) != -CB_EPARSE)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_int_equal(u.result.status, TELEGRAM_TRANSIENT);
		assert_int_equal(u.max_update_id, 11);
		assert_int_equal(col.calls, 0);
	}
	/* A body not NUL-terminated is read only up to len. */
	collect_reset(&u, -1);
	assert_int_equal(telegram_api_parse_updates(empty_x, strlen(empty_x) - 4, 200, &u), 0);
	assert_int_equal(telegram_api_parse_updates(NULL, 0, 200, &u), -CB_EPARSE);
	assert_int_equal(telegram_api_parse_updates("{}", 2, 200, NULL), -CB_EINVAL);
	/* An empty poll is fine. */
	collect_reset(&u, 4);
	assert_int_equal(telegram_api_parse_updates(spaced, strlen(spaced), 200, &u), 0);
	assert_int_equal(u.max_update_id, 4);
	assert_int_equal(col.calls, 0);
}

static void r_updates_error(void **state)
{
	static const char conflict[] = "{\"ok\":false,\"error_code\":409,\"description\":\"Conflict: "
	                               "can't use getUpdates method while webhook is active\"}";
	static const char unauth[] = "{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}";
	struct telegram_updates u;

	(void)state;
	collect_reset(&u, 2);
	assert_int_equal(telegram_api_parse_updates(conflict, strlen(conflict), 409, &u), -CB_EGATEWAY);
	assert_int_equal(u.result.status, TELEGRAM_TRANSIENT);
	assert_int_equal(u.result.error_code, 409);
	assert_int_equal(u.max_update_id, 2);
	assert_int_equal(telegram_api_parse_updates(unauth, strlen(unauth), 401, &u), -CB_EGATEWAY);
	assert_int_equal(u.result.status, TELEGRAM_UNAUTHORIZED);
}

static void r_classify(void **state)
{
	static const struct {
		const char *body;
		int http;
		int rc;
		enum telegram_status status;
		int code;
		int retry_after;
	} cases[] = {
		{"{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests\"}", 429, 0,
		 TELEGRAM_RETRY_AFTER, 429, TELEGRAM_RETRY_AFTER_DEFAULT},
		{"{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":0}}", 429, 0,
		 TELEGRAM_RETRY_AFTER, 429, 1},
		{"{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":9999999}}", 429, 0,
		 TELEGRAM_RETRY_AFTER, 429, TELEGRAM_RETRY_AFTER_MAX},
		{"{\"ok\":false,\"error_code\":429,\"parameters\":{\"retry_after\":\"30\"}}", 429, 0,
		 TELEGRAM_RETRY_AFTER, 429, TELEGRAM_RETRY_AFTER_DEFAULT},
		{"{\"ok\":false,\"error_code\":502,\"description\":\"Bad Gateway\"}", 502, 0,
		 TELEGRAM_TRANSIENT, 502, 0},
		{"{\"ok\":false,\"description\":\"Internal Server Error\"}", 500, 0,
		 TELEGRAM_TRANSIENT, 500, 0},
		{"{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: message text is empty\"}",
		 400, 0, TELEGRAM_PERMANENT, 400, 0},
		{"{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: BUTTON_DATA_INVALID\"}",
		 400, 0, TELEGRAM_PERMANENT, 400, 0},
		{"{\"ok\":false,\"error_code\":400,\"description\":\"Bad Request: Chat Not Found\"}", 400, 0,
		 TELEGRAM_BLOCKED, 400, 0},
		{"{\"ok\":false,\"error_code\":403,\"description\":\"Forbidden: bot can't initiate "
		 "conversation with a user\"}", 403, 0, TELEGRAM_BLOCKED, 403, 0},
		{"{\"ok\":false,\"error_code\":404,\"description\":\"Not Found\"}", 404, 0,
		 TELEGRAM_UNAUTHORIZED, 404, 0},
		{"{\"ok\":false,\"error_code\":413,\"description\":\"Request Entity Too Large\"}", 413, 0,
		 TELEGRAM_PERMANENT, 413, 0},
		{"{\"ok\":true,\"result\":true}", 200, 0, TELEGRAM_OK, 200, 0},
		{"", 504, -CB_EPARSE, TELEGRAM_TRANSIENT, 504, 0},
		{"{\"ok\":\"false\"}", 400, -CB_EPARSE, TELEGRAM_TRANSIENT, 400, 0},
		{"null", 200, -CB_EPARSE, TELEGRAM_TRANSIENT, 200, 0},
	};
	struct telegram_result r;
	size_t i;

	(void)state;
	for (i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		int rc = telegram_api_parse_result(cases[i].body, strlen(cases[i].body),
		                                   cases[i].http, &r);

		if (rc != cases[i].rc || r.status != cases[i].status ||
		    r.error_code != cases[i].code || r.retry_after != cases[i].retry_after)
			fail_msg("case %zu: rc %d status %s code %d retry %d", i, rc,
			         telegram_api_status_name(r.status), r.error_code, r.retry_after);
	}
	assert_int_equal(telegram_api_parse_result("{}", 2, 200, NULL), -CB_EINVAL);
	assert_string_equal(telegram_api_status_name(TELEGRAM_OK), "ok");
	assert_string_equal(telegram_api_status_name(TELEGRAM_RETRY_AFTER), "retry_after");
	assert_string_equal(telegram_api_status_name(TELEGRAM_TRANSIENT), "transient");
	assert_string_equal(telegram_api_status_name(TELEGRAM_BLOCKED), "blocked");
	assert_string_equal(telegram_api_status_name(TELEGRAM_PERMANENT), "permanent");
	assert_string_equal(telegram_api_status_name(TELEGRAM_UNAUTHORIZED), "unauthorized");
	assert_string_equal(telegram_api_status_name((enum telegram_status)99), "unknown");
}

static void r_get_file(void **state)
{
	static const char ok[] = "{\"ok\":true,\"result\":{\"file_id\":\"X\",\"file_unique_id\":\"u\","
	                         "\"file_size\":52731,\"file_path\":\"documents/file_12.pdf\"}}";
	static const char sent[] = "{\"ok\":true,\"result\":{\"message_id\":9007199254740991,"
	                           "\"chat\":{\"id\":5,\"type\":\"private\"},\"date\":1,\"text\":\"x\"}}";
	struct telegram_result r;

	(void)state;
	assert_int_equal(telegram_api_parse_result(ok, strlen(ok), 200, &r), 0);
	assert_int_equal(r.status, TELEGRAM_OK);
	assert_string_equal(r.file_path, "documents/file_12.pdf");
	assert_int_equal(r.file_size, 52731);
	assert_int_equal(telegram_api_parse_result(sent, strlen(sent), 200, &r), 0);
	assert_int_equal(r.message_id, 9007199254740991LL);

	/* A path that does not fit is left empty, and the URL builder refuses it. */
	{
		char body[EVENT_REF_MAX + 64], url[512];
		int n = sprintf(body, "{\"ok\":true,\"result\":{\"file_path\":\"");

		memset(body + n, 'p', EVENT_REF_MAX);
		strcpy(body + n + EVENT_REF_MAX, "\"}}");
		assert_int_equal(telegram_api_parse_result(body, strlen(body), 200, &r), 0);
		assert_int_equal(r.status, TELEGRAM_OK);
		assert_string_equal(r.file_path, "");
		assert_int_equal(telegram_api_file_url(url, sizeof(url), "https://api.telegram.org",
		                                       TOKEN, r.file_path), -CB_EINVAL);
	}
}

/* ============================================================== builders */

static cJSON *parse_json(const char *json)
{
	cJSON *root = cJSON_Parse(json);

	assert_non_null(root);
	return root;
}

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	if (it == NULL)
		fail_msg("no %s", key);
	return it;
}

/* editMessageText: chat, message and text, and the keyboard always, even
 * empty: Telegram would take the old one away without it. */
static void b_edit_message_text(void **state)
{
	static const struct telegram_button btn[] = {
		{"Ik kom", "ap:1:1", 0},
		{"Ik kan niet", "ap:1:2", 0},
	};
	struct telegram_message m = {
		.chat_id = 1001,
		.text = "Herinnering: afspraak morgen om 10.00 uur\nWat: huisbezoek",
		.buttons = btn,
		.nbuttons = 2,
	};
	cJSON *root;
	char *json;

	(void)state;
	assert_int_equal(telegram_api_build_edit_message_text(&m, 57, &json), 0);
	root = parse_json(json);
	free(json);
	assert_int_equal(get(root, "chat_id")->valuedouble, 1001);
	assert_int_equal(get(root, "message_id")->valuedouble, 57);
	assert_string_equal(get(root, "text")->valuestring, m.text);
	assert_string_equal(get(cJSON_GetArrayItem(cJSON_GetArrayItem(get(get(root, "reply_markup"), "inline_keyboard"), 0),
						   1), "callback_data")->valuestring, "ap:1:2");
	cJSON_Delete(root);
	m.buttons = NULL;
	m.nbuttons = 0;
	assert_int_equal(telegram_api_build_edit_message_text(&m, 57, &json), 0);
	root = parse_json(json);
	free(json);
	assert_int_equal(cJSON_GetArraySize(get(get(root, "reply_markup"), "inline_keyboard")), 0);
	cJSON_Delete(root);
	assert_int_equal(telegram_api_build_edit_message_text(&m, 0, &json), -CB_EINVAL);
	assert_null(json);
	m.reply_to_message_id = 3;
	assert_int_equal(telegram_api_build_edit_message_text(&m, 57, &json), -CB_EINVAL);
	m.reply_to_message_id = 0;
	m.text = " ";
	assert_int_equal(telegram_api_build_edit_message_text(&m, 57, &json), -CB_EINVAL);
}

static void b_send_message(void **state)
{
	static const struct telegram_button btn[] = {
		{"Ja \xF0\x9F\x91\x8D", "appt:17:yes", 0},
		{"Nee", "appt:17:no", 0},
		{"Verzetten", "appt:17:move", 1},
	};
	struct telegram_message m = {
		.chat_id = -1001293752024LL,
		.text = "Herinnering: afspraak morgen om 10.00 uur\n\"quoted\" \\ tab\t<b>not html</b>",
		.buttons = btn,
		.nbuttons = 3,
		.reply_to_message_id = 1365,
	};
	const cJSON *kb, *row, *b;
	cJSON *root;
	char *json;

	(void)state;
	assert_int_equal(telegram_api_build_send_message(&m, &json), 0);
	root = parse_json(json);
	free(json);
	assert_true(get(root, "chat_id")->valuedouble == -1001293752024.0);
	assert_string_equal(get(root, "text")->valuestring, m.text);
	assert_null(cJSON_GetObjectItemCaseSensitive(root, "parse_mode"));
	assert_int_equal(get(get(root, "reply_parameters"), "message_id")->valuedouble, 1365);
	assert_true(cJSON_IsTrue(get(get(root, "reply_parameters"), "allow_sending_without_reply")));
	kb = get(get(root, "reply_markup"), "inline_keyboard");
	assert_int_equal(cJSON_GetArraySize(kb), 2);
	row = cJSON_GetArrayItem(kb, 0);
	assert_int_equal(cJSON_GetArraySize(row), 2);
	b = cJSON_GetArrayItem(row, 0);
	assert_string_equal(get(b, "text")->valuestring, "Ja \xF0\x9F\x91\x8D");
	assert_string_equal(get(b, "callback_data")->valuestring, "appt:17:yes");
	assert_string_equal(get(cJSON_GetArrayItem(row, 1), "callback_data")->valuestring, "appt:17:no");
	row = cJSON_GetArrayItem(kb, 1);
	assert_int_equal(cJSON_GetArraySize(row), 1);
	assert_string_equal(get(cJSON_GetArrayItem(row, 0), "text")->valuestring, "Verzetten");
	cJSON_Delete(root);

	/* Plain message: nothing optional appears; the largest exact chat id. */
	m.buttons = NULL;
	m.nbuttons = 0;
	m.reply_to_message_id = 0;
	m.chat_id = 9007199254740992LL;
	assert_int_equal(telegram_api_build_send_message(&m, &json), 0);
	assert_non_null(strstr(json, "\"chat_id\":9007199254740992"));
	root = parse_json(json);
	free(json);
	assert_int_equal(cJSON_GetArraySize(root), 2);
	cJSON_Delete(root);
	m.chat_id = 9007199254740993LL;
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	assert_null(json);
}

static void b_send_message_limits(void **state)
{
	struct telegram_button btn[TELEGRAM_BUTTONS_MAX + 1];
	char data[80], *text, *json = NULL;
	struct telegram_message m = { .chat_id = 42, .text = "Kies:" , .buttons = btn };
	size_t i;

	(void)state;
	for (i = 0; i < CB_ARRAY_SIZE(btn); i++)
		btn[i] = (struct telegram_button){"b", "d", (unsigned)(i / 8)};

	/* callback_data: 64 bytes fit, 65 do not, empty is refused. */
	memset(data, 'x', 64);
	data[64] = '\0';
	btn[0].data = data;
	m.nbuttons = 1;
	assert_int_equal(telegram_api_build_send_message(&m, &json), 0);
	free(json);
	data[64] = 'x';
	data[65] = '\0';
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_ETOOBIG);
	assert_null(json);
	btn[0].data = "";
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	btn[0].data = NULL;
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	btn[0].data = "cut \xE2\x9C";
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	btn[0].data = "d";
	btn[0].text = "";
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	btn[0].text = "b";

	/* 100 buttons, 8 a row: fine; 101 or 9 in a row: not. */
	m.nbuttons = TELEGRAM_BUTTONS_MAX;
	assert_int_equal(telegram_api_build_send_message(&m, &json), 0);
	free(json);
	m.nbuttons = TELEGRAM_BUTTONS_MAX + 1;
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_ETOOBIG);
	m.nbuttons = 9;
	btn[8].row = 0;
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_ETOOBIG);
	btn[8].row = 1;
	btn[1].row = 5; /* rows going back */
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	btn[1].row = 0;
	m.buttons = NULL;
	m.nbuttons = 1;
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	m.nbuttons = 0;

	/* Text: 4096 UTF-16 units. 2048 emoji fit, 2049 do not; 4096 CJK fit. */
	text = malloc(4 * 4097 + 1);
	assert_non_null(text);
	for (i = 0; i < 2049; i++)
		memcpy(text + 4 * i, "\xF0\x9F\x98\x80", 4);
	text[4 * 2048] = '\0';
	m.text = text;
	assert_int_equal(telegram_api_build_send_message(&m, &json), 0);
	free(json);
	text[4 * 2048] = '\xF0';
	text[4 * 2049] = '\0';
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_ETOOBIG);
	for (i = 0; i < 4097; i++)
		memcpy(text + 3 * i, "\xE4\xB8\xAD", 3);
	text[3 * 4096] = '\0';
	assert_int_equal(telegram_api_build_send_message(&m, &json), 0);
	free(json);
	text[3 * 4096] = '\xE4';
	text[3 * 4097] = '\0';
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_ETOOBIG);
	free(text);

	m.text = " \n\t ";
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	m.text = "";
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	m.text = NULL;
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	m.text = "bad \xE4\xB8";
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	m.text = "ok";
	m.reply_to_message_id = -1;
	assert_int_equal(telegram_api_build_send_message(&m, &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_send_message(NULL, &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_send_message(&m, NULL), -CB_EINVAL);
}

static void b_answer_callback(void **state)
{
	char text[202], *json;
	cJSON *root;

	(void)state;
	assert_int_equal(telegram_api_build_answer_callback("1874464818486990916", NULL, &json), 0);
	root = parse_json(json);
	free(json);
	assert_string_equal(get(root, "callback_query_id")->valuestring, "1874464818486990916");
	assert_null(cJSON_GetObjectItemCaseSensitive(root, "text"));
	assert_int_equal(cJSON_GetArraySize(root), 1);
	cJSON_Delete(root);

	assert_int_equal(telegram_api_build_answer_callback("q1", "Merci \xE2\x9C\x93", &json), 0);
	root = parse_json(json);
	free(json);
	assert_string_equal(get(root, "text")->valuestring, "Merci \xE2\x9C\x93");
	cJSON_Delete(root);

	memset(text, 'a', 200);
	text[200] = '\0';
	assert_int_equal(telegram_api_build_answer_callback("q1", text, &json), 0);
	free(json);
	text[200] = 'a';
	text[201] = '\0';
	assert_int_equal(telegram_api_build_answer_callback("q1", text, &json), -CB_ETOOBIG);
	assert_null(json);
	assert_int_equal(telegram_api_build_answer_callback("", NULL, &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_answer_callback(NULL, NULL, &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_answer_callback("q1", NULL, NULL), -CB_EINVAL);
	assert_int_equal(telegram_api_build_get_updates(1, 1, NULL), -CB_EINVAL);
	assert_int_equal(telegram_api_build_get_file("f", NULL), -CB_EINVAL);
}

static void b_get_updates(void **state)
{
	static const char *const kinds[] = {"message", "edited_message", "callback_query",
	                                    "my_chat_member"};
	const cJSON *allowed;
	cJSON *root;
	char *json;
	int i;

	(void)state;
	assert_int_equal(telegram_api_build_get_updates(524876125, TELEGRAM_POLL_TIMEOUT, &json), 0);
	root = parse_json(json);
	free(json);
	assert_int_equal(get(root, "offset")->valuedouble, 524876125);
	assert_int_equal(get(root, "limit")->valueint, 100);
	assert_int_equal(get(root, "timeout")->valueint, 30);
	allowed = get(root, "allowed_updates");
	assert_int_equal(cJSON_GetArraySize(allowed), 4);
	for (i = 0; i < 4; i++)
		assert_string_equal(cJSON_GetArrayItem(allowed, i)->valuestring, kinds[i]);
	cJSON_Delete(root);

	/* Ids beyond 15 digits go out exactly (cJSON alone would print 1e+15). */
	assert_int_equal(telegram_api_build_get_updates(1000000000000001LL, 0, &json), 0);
	assert_non_null(strstr(json, "\"offset\":1000000000000001,"));
	assert_non_null(strstr(json, "\"timeout\":0,"));
	free(json);
	assert_int_equal(telegram_api_build_get_updates(0, 0, &json), 0);
	free(json);
	assert_int_equal(telegram_api_build_get_updates(-1, 30, &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_get_updates(1, -1, &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_get_updates(1, TELEGRAM_POLL_TIMEOUT_MAX + 1, &json),
	                 -CB_EINVAL);
	assert_null(json);
}

static void b_get_file(void **state)
{
	char *json, big[EVENT_REF_MAX + 1];
	cJSON *root;

	(void)state;
	assert_int_equal(telegram_api_build_get_file("AgADAQADtKcxG4LRUUQSQVUj", &json), 0);
	root = parse_json(json);
	free(json);
	assert_string_equal(get(root, "file_id")->valuestring, "AgADAQADtKcxG4LRUUQSQVUj");
	assert_int_equal(cJSON_GetArraySize(root), 1);
	cJSON_Delete(root);
	assert_int_equal(telegram_api_build_get_file("", &json), -CB_EINVAL);
	memset(big, 'F', EVENT_REF_MAX);
	big[EVENT_REF_MAX] = '\0';
	assert_int_equal(telegram_api_build_get_file(big, &json), -CB_ETOOBIG);
}

/* ============================================================= splitting */

/* Splits text fully; checks every part fits, starts on a character boundary,
 * and that only one separator byte is dropped at each cut. Returns parts. */
static size_t split_all(const char *text, size_t max_units, size_t *first)
{
	size_t len = strlen(text), off = 0, parts = 0, part, next;

	while (off < len) {
		part = telegram_api_split(text + off, len - off, max_units, &next);
		assert_true(next > 0);
		assert_true(part <= next && next <= len - off);
		assert_true(next - part <= 1);
		if (next > part)
			assert_true(text[off + part] == '\n' || text[off + part] == ' ');
		if (part > 0 && telegram_api_utf16_len(text + off, part) > max_units)
			/* Only a lone character wider than the limit may exceed it. */
			assert_true(part <= 4 && max_units < 2);
		assert_true(((unsigned char)text[off] & 0xC0) != 0x80);
		if (parts == 0 && first != NULL)
			*first = part;
		parts++;
		off += next;
		assert_true(parts < 100000);
	}
	return parts;
}

static char *repeat(const char *unit, size_t n)
{
	size_t ul = strlen(unit), i;
	char *s = malloc(ul * n + 1);

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + i * ul, unit, ul);
	s[ul * n] = '\0';
	return s;
}

static void s_utf16_len(void **state)
{
	(void)state;
	assert_int_equal(telegram_api_utf16_len("a", 1), 1);
	assert_int_equal(telegram_api_utf16_len("\xC3\xA9", 2), 1);
	assert_int_equal(telegram_api_utf16_len("\xE4\xB8\xAD", 3), 1);
	assert_int_equal(telegram_api_utf16_len("\xF0\x9F\x98\x80", 4), 2);
	assert_int_equal(telegram_api_utf16_len("\xFF\xF0\x9F", 3), 3);
	assert_int_equal(telegram_api_utf16_len(NULL, 3), 0);
}

static void s_short_and_hard(void **state)
{
	size_t next, first;
	char *s;

	(void)state;
	assert_int_equal(telegram_api_split("hello", 5, 4096, &next), 5);
	assert_int_equal(next, 5);
	assert_int_equal(telegram_api_split("", 0, 4096, &next), 0);
	assert_int_equal(next, 0);

	s = repeat("a", 10000);
	assert_int_equal(split_all(s, 4096, &first), 3);
	assert_int_equal(first, 4096);
	assert_int_equal(telegram_api_split(s, 10000, 4096, NULL), 4096);
	free(s);
}

static void s_prefers_newline(void **state)
{
	char *s = repeat("word ", 1200); /* 6000 bytes of words */
	size_t next, part;

	(void)state;
	s[3000] = '\n';
	part = telegram_api_split(s, strlen(s), 4096, &next);
	assert_int_equal(part, 3000);
	assert_int_equal(next, 3001);

	/* A newline too early would leave a tiny part: the last space wins. */
	s[3000] = 'w';
	s[100] = '\n';
	part = telegram_api_split(s, strlen(s), 4096, &next);
	assert_int_equal(s[part], ' ');
	assert_int_equal(part, 4094);
	assert_int_equal(next, 4095);
	assert_int_equal(split_all(s, 4096, NULL), 2);
	free(s);

	/* The window ending right on a separator cuts there. */
	s = repeat("x", 5000);
	s[4096] = ' ';
	part = telegram_api_split(s, 5000, 4096, &next);
	assert_int_equal(part, 4096);
	assert_int_equal(next, 4097);
	free(s);
}

static void s_emoji(void **state)
{
	char *s = repeat("\xF0\x9F\x98\x80", 3000); /* 6000 units */
	size_t next, part;

	(void)state;
	part = telegram_api_split(s, strlen(s), 4096, &next);
	assert_int_equal(part, 8192);
	assert_int_equal(next, 8192);
	/* An odd limit must not cut the pair. */
	part = telegram_api_split(s, strlen(s), 4095, &next);
	assert_int_equal(part, 4 * 2047);
	assert_int_equal(split_all(s, 4095, NULL), 2);
	/* Not one character fits: it goes alone rather than loop. */
	part = telegram_api_split(s, strlen(s), 1, &next);
	assert_int_equal(part, 4);
	assert_int_equal(next, 4);
	assert_int_equal(split_all(s, 1, NULL), 3000);
	free(s);

	/* "a" + emoji: the boundary is at odd byte offsets. */
	s = repeat("a\xF0\x9F\x98\x80", 2000); /* 6000 units, 10000 bytes */
	part = telegram_api_split(s, strlen(s), 4096, &next);
	assert_true(telegram_api_utf16_len(s, part) <= 4096);
	assert_int_equal(part, 5 * 1365 + 1);
	assert_int_equal(split_all(s, 4096, NULL), 2);
	free(s);
}

static void s_cjk(void **state)
{
	char *s = repeat("\xE4\xB8\xAD\xE6\x96\x87", 2600); /* 5200 characters */
	size_t next, part;

	(void)state;
	part = telegram_api_split(s, strlen(s), 4096, &next);
	assert_int_equal(part, 3 * 4096);
	assert_int_equal(split_all(s, 4096, NULL), 2);
	/* CJK spaced with ideographic space (not ASCII): still a hard cut. */
	free(s);
	s = repeat("\xE4\xB8\xAD\xE3\x80\x80", 3000);
	part = telegram_api_split(s, strlen(s), 4096, &next);
	assert_int_equal(part, 3 * 4096);
	free(s);
	/* Garbage bytes still make progress. */
	s = repeat("\xF0\x9F", 3000);
	assert_int_equal(split_all(s, 4096, NULL), 2);
	free(s);
}

/* A letter with its combining marks, or an emoji sequence, is one
 * character to its reader: a hard cut never falls inside it. */
static void s_graphemes(void **state)
{
	char *s = repeat("e\xCC\x81\xCC\x80", 2000); /* 3 units, 5 bytes each */
	size_t next, part, off = 0, len;

	(void)state;
	part = telegram_api_split(s, strlen(s), 4096, &next);
	assert_int_equal(part, 5 * 1365);
	assert_int_equal(next, part);
	len = strlen(s);
	while (off < len) {
		part = telegram_api_split(s + off, len - off, 4096, &next);
		assert_int_equal(s[off], 'e');
		off += next;
	}
	free(s);
	/* A family: man ZWJ woman ZWJ girl, 8 units, 18 bytes. */
	s = repeat("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7", 600);
	part = telegram_api_split(s, strlen(s), 4096, &next);
	assert_int_equal(part, 18 * 512);
	part = telegram_api_split(s, strlen(s), 4100, &next);
	assert_int_equal(part, 18 * 512);
	free(s);
}

/* =================================================================== URLs */

static void b_set_commands(void **state)
{
	const struct telegram_command ok[] = {{"hulp", "Wat je kan sturen"}, {"taal", "Je taal kiezen"}};
	const struct telegram_command bad_name[] = {{"Hulp", "x"}};
	const struct telegram_command slash[] = {{"/help", "x"}};
	const struct telegram_command accent[] = {{"arr\xc3\xaat", "x"}};
	const struct telegram_command empty[] = {{"help", " "}};
	struct telegram_command longer[1] = {{"help", NULL}};
	struct telegram_command many[TELEGRAM_COMMANDS_MAX + 1];
	char about[2 * 257 + 1], *json = NULL;
	cJSON *root;

	(void)state;
	assert_int_equal(telegram_api_build_set_commands(ok, 2, "all_private_chats", 0, "nl", &json), 0);
	root = cJSON_Parse(json);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "scope"), "type")->valuestring,
	                    "all_private_chats");
	assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "scope"), "chat_id"));
	assert_string_equal(cJSON_GetObjectItem(root, "language_code")->valuestring, "nl");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "commands")), 2);
	cJSON_Delete(root);
	free(json);
	/* A chat scope carries its id exactly; no language means everyone. */
	assert_int_equal(telegram_api_build_set_commands(ok, 1, "chat", -1001234567890123LL, "", &json), 0);
	assert_non_null(strstr(json, "\"chat_id\":-1001234567890123"));
	assert_null(strstr(json, "language_code"));
	free(json);
	assert_int_equal(telegram_api_build_set_commands(bad_name, 1, "all_private_chats", 0, "", &json), -CB_EINVAL);
	assert_null(json);
	assert_int_equal(telegram_api_build_set_commands(slash, 1, "all_private_chats", 0, "", &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_set_commands(accent, 1, "all_private_chats", 0, "", &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_set_commands(empty, 1, "all_private_chats", 0, "", &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_set_commands(ok, 1, "all_private_chats", 0, "NL", &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_set_commands(ok, 1, "all_private_chats", 0, "nld", &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_set_commands(ok, 1, "families", 0, "", &json), -CB_EINVAL);
	/* 256 characters fit, however many bytes they take; 257 do not. */
	for (int i = 0; i < 256; i++)
		memcpy(about + 2 * i, "\xc3\xa9", 2);
	about[512] = '\0';
	longer[0].description = about;
	assert_int_equal(telegram_api_build_set_commands(longer, 1, "all_private_chats", 0, "", &json), 0);
	free(json);
	memcpy(about + 512, "\xc3\xa9", 3);
	assert_int_equal(telegram_api_build_set_commands(longer, 1, "all_private_chats", 0, "", &json), -CB_ETOOBIG);
	for (size_t i = 0; i < CB_ARRAY_SIZE(many); i++)
		many[i] = ok[0];
	assert_int_equal(telegram_api_build_set_commands(many, CB_ARRAY_SIZE(many), "all_private_chats", 0, "", &json),
	                 -CB_EINVAL);
	assert_int_equal(telegram_api_command_ok("abcdefghijklmnopqrstuvwxyz012345"), 1);
	assert_int_equal(telegram_api_command_ok("abcdefghijklmnopqrstuvwxyz0123456"), 0);
}

static void b_set_description(void **state)
{
	char text[514], *json = NULL;

	(void)state;
	assert_int_equal(telegram_api_build_set_description("Berichten van je gezinsbegeleider.", "nl", &json), 0);
	assert_string_equal(json, "{\"description\":\"Berichten van je gezinsbegeleider.\",\"language_code\":\"nl\"}");
	free(json);
	/* Empty removes the description. */
	assert_int_equal(telegram_api_build_set_description("", "", &json), 0);
	assert_string_equal(json, "{\"description\":\"\"}");
	free(json);
	memset(text, 'a', 513);
	text[513] = '\0';
	assert_int_equal(telegram_api_build_set_description(text, "", &json), -CB_ETOOBIG);
	text[512] = '\0';
	assert_int_equal(telegram_api_build_set_description(text, "", &json), 0);
	free(json);
	assert_int_equal(telegram_api_build_set_description("\xff", "", &json), -CB_EINVAL);
	assert_int_equal(telegram_api_build_set_description("x", "e", &json), -CB_EINVAL);
}

static void u_method_url(void **state)
{
	char url[128];
	size_t i;

	(void)state;
	assert_int_equal(telegram_api_method_url(url, sizeof(url), "https://api.telegram.org",
	                                         TOKEN, "sendMessage"), 0);
	assert_string_equal(url, "https://api.telegram.org/bot" TOKEN "/sendMessage");
	assert_int_equal(telegram_api_method_url(url, sizeof(url), "http://127.0.0.1:8081//",
	                                         TOKEN, "getUpdates"), 0);
	assert_string_equal(url, "http://127.0.0.1:8081/bot" TOKEN "/getUpdates");

	assert_int_equal(telegram_api_method_url(url, sizeof(url), "https://x", "nocolon", "getMe"),
	                 -CB_EINVAL);
	assert_int_equal(telegram_api_method_url(url, sizeof(url), "https://x", "12:ab/../c", "getMe"),
	                 -CB_EINVAL);
	assert_int_equal(telegram_api_method_url(url, sizeof(url), "https://x", "12:", "getMe"),
	                 -CB_EINVAL);
	assert_int_equal(telegram_api_method_url(url, sizeof(url), "https://x", TOKEN, "get/Me"),
	                 -CB_EINVAL);
	assert_int_equal(telegram_api_method_url(url, sizeof(url), "https://x", TOKEN, ""),
	                 -CB_EINVAL);
	assert_int_equal(telegram_api_method_url(url, sizeof(url), "ftp://x", TOKEN, "getMe"),
	                 -CB_EINVAL);
	assert_int_equal(telegram_api_method_url(url, sizeof(url), "https://x y", TOKEN, "getMe"),
	                 -CB_EINVAL);

	/* Too small: refused, and no piece of the token is left behind. */
	assert_int_equal(telegram_api_method_url(url, 40, "https://api.telegram.org", TOKEN,
	                                         "sendMessage"), -CB_ETOOBIG);
	for (i = 0; i < 40; i++)
		assert_int_equal(url[i], 0);
}

static void u_file_url(void **state)
{
	static const char *const bad[] = {
		"", "/etc/passwd", "../secret", "photos/../../x", "a..b", "a?b", "a#b",
		"a b", "a%2e", "a\\b", "a\nb",
	};
	char url[256];
	size_t i;

	(void)state;
	assert_int_equal(telegram_api_file_url(url, sizeof(url), "https://api.telegram.org/",
	                                       TOKEN, "photos/file_0.jpg"), 0);
	assert_string_equal(url, "https://api.telegram.org/file/bot" TOKEN "/photos/file_0.jpg");
	for (i = 0; i < CB_ARRAY_SIZE(bad); i++)
		if (telegram_api_file_url(url, sizeof(url), "https://api.telegram.org", TOKEN,
		                          bad[i]) != -CB_EINVAL)
			fail_msg("file path %zu accepted", i);
	assert_int_equal(telegram_api_file_url(url, sizeof(url), "https://api.telegram.org", TOKEN,
	                                       NULL), -CB_EINVAL);
	assert_int_equal(telegram_api_file_url(NULL, 0, "https://api.telegram.org", TOKEN, "a"),
	                 -CB_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(p_apisio_get_updates),
		cmocka_unit_test(p_courier_contact),
		cmocka_unit_test(p_courier_document),
		cmocka_unit_test(p_courier_error_400),
		cmocka_unit_test(p_courier_error_403),
		cmocka_unit_test(p_courier_error_429),
		cmocka_unit_test(p_courier_get_file),
		cmocka_unit_test(p_courier_location),
		cmocka_unit_test(p_courier_photo),
		cmocka_unit_test(p_courier_send_ok),
		cmocka_unit_test(p_courier_start),
		cmocka_unit_test(p_courier_sticker),
		cmocka_unit_test(p_courier_text),
		cmocka_unit_test(p_courier_without_message),
		cmocka_unit_test(p_courier_venue),
		cmocka_unit_test(p_courier_video),
		cmocka_unit_test(p_courier_voice),
		cmocka_unit_test(p_courier_web_app_data),
		cmocka_unit_test(p_litegram_callback),
		cmocka_unit_test(p_official_callback),
		cmocka_unit_test(p_official_document),
		cmocka_unit_test(p_official_edited),
		cmocka_unit_test(p_official_entities),
		cmocka_unit_test(p_official_text),
		cmocka_unit_test(p_official_voice),
		cmocka_unit_test(p_teloxide_kicked),
		cmocka_unit_test(p_teloxide_supergroup),
		cmocka_unit_test(p_teloxide_text),
		cmocka_unit_test(p_every_file),
		cmocka_unit_test(p_samples_have_sources),
		cmocka_unit_test(f_mixed_batch),
		cmocka_unit_test(f_unblocked),
		cmocka_unit_test(f_group_added),
		cmocka_unit_test(f_photo_without_size),
		cmocka_unit_test(f_reply_document_too_big),
		cmocka_unit_test(f_edited_message_event),
		cmocka_unit_test(f_chat_id_string),
		cmocka_unit_test(f_error_responses),
		cmocka_unit_test(m_update_shapes),
		cmocka_unit_test(m_field_types),
		cmocka_unit_test(m_ignored_kinds),
		cmocka_unit_test(m_media_variants),
		cmocka_unit_test(m_huge_text),
		cmocka_unit_test(m_truncated_utf8),
		cmocka_unit_test(m_unknown_fields),
		cmocka_unit_test(r_updates_garbage),
		cmocka_unit_test(r_updates_error),
		cmocka_unit_test(r_classify),
		cmocka_unit_test(r_get_file),
		cmocka_unit_test(b_send_message),
		cmocka_unit_test(b_edit_message_text),
		cmocka_unit_test(b_send_message_limits),
		cmocka_unit_test(b_answer_callback),
		cmocka_unit_test(b_get_updates),
		cmocka_unit_test(b_get_file),
		cmocka_unit_test(s_utf16_len),
		cmocka_unit_test(s_short_and_hard),
		cmocka_unit_test(s_prefers_newline),
		cmocka_unit_test(s_emoji),
		cmocka_unit_test(s_cjk), cmocka_unit_test(s_graphemes),
		cmocka_unit_test(u_method_url),
		cmocka_unit_test(u_file_url),
		cmocka_unit_test(b_set_commands),
		cmocka_unit_test(b_set_description),
	};

	return cmocka_run_group_tests_name("telegram_api", tests, NULL, NULL);
}
