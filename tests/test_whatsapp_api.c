/* WhatsApp Cloud API, reading half: every public sample in
 * tests/data/payloads/whatsapp with its expected result, then the shapes
 * the samples do not show (batches, milliseconds, limits). */
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
#include "bot/gateways/whatsapp_api.h"

#define DIR_PAYLOADS "tests/data/payloads/whatsapp"
#define ITEMS_MAX 8

/* What a parse reported, item by item. */
struct got {
	int nev, nst;
	int evrc[ITEMS_MAX], strc[ITEMS_MAX];
	struct inbound_event ev[ITEMS_MAX];
	struct whatsapp_status st[ITEMS_MAX];
	struct whatsapp_webhook w;
};

static struct got g;

static int on_message(void *arg, int rc, const struct inbound_event *ev)
{
	struct got *x = arg;

	if (x->nev < ITEMS_MAX) {
		x->evrc[x->nev] = rc;
		x->ev[x->nev] = *ev;
	}
	x->nev++;
	return 0;
}

static int on_status(void *arg, int rc, const struct whatsapp_status *st)
{
	struct got *x = arg;

	if (x->nst < ITEMS_MAX) {
		x->strc[x->nst] = rc;
		x->st[x->nst] = *st;
	}
	x->nst++;
	return 0;
}

static int parse_body(const char *body, size_t len, const char *number_id)
{
	memset(&g, 0, sizeof(g));
	g.w.message = on_message;
	g.w.status = on_status;
	g.w.arg = &g;
	g.w.phone_number_id = number_id;
	return whatsapp_api_parse_webhook(body, len, &g.w);
}

static int parse_str(const char *body)
{
	return parse_body(body, strlen(body), NULL);
}

static char *load(const char *name, size_t *len)
{
	char path[512];
	FILE *fp;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", DIR_PAYLOADS, name);
	fp = fopen(path, "rb");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	buf[n] = '\0';
	fclose(fp);
	*len = (size_t)n;
	return buf;
}

/* ---------------------------------------------------- the public samples */

enum what { WEBHOOK, MEDIA, OTHER_API };

/* One sample and what reading it must give. For a webhook: the counts, and
 * the first usable message or status. Empty strings are checked too: ""
 * means the field must be empty. */
struct expect {
	const char *file;
	enum what what;
	int rc;
	int messages, statuses, ignored, malformed;
	/* the first message reported (usable or not) */
	int evrc;
	enum event_kind kind;
	const char *external_id, *sender, *alt, *text, *button, *media_kind, *media_ref, *mime, *reply_to;
	long long at;
	/* the first status */
	const char *status;
	int error_code;
	const char *error_title, *error_details, *category;
	int billable;
};

#define MSG(f, k, id, snd, alt_, txt, btn, mk, mr, mi, rt, t) \
	{f, WEBHOOK, 0, 1, 0, 0, 0, 0, k, id, snd, alt_, txt, btn, mk, mr, mi, rt, t, NULL, 0, NULL, NULL, NULL, 0}
#define COUNTS(f, m, s, i, x) {f, WEBHOOK, 0, m, s, i, x, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, \
	NULL, 0, NULL, NULL, NULL, 0}
#define STATUS(f, st, code, title, details, cat, bill) {f, WEBHOOK, 0, 0, 1, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, \
	NULL, NULL, NULL, NULL, 0, st, code, title, details, cat, bill}
#define NOT_WEBHOOK(f) {f, WEBHOOK, -CB_EPARSE, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, \
	0, NULL, 0, NULL, NULL, NULL, 0}

static const struct expect samples[] = {
	MSG("official_meta_overview_text_message.json", EVENT_TEXT,
	    "wamid.HBgLMTY1MDM4Nzk0MzkVAgASGBQzQTRBNjU5OUFFRTAzODEwMTQ0RgA=", "16505551234", "",
	    "Does it come in another color?", "", "", "", "", "", 1749416383),
	MSG("courier_hello.json", EVENT_TEXT, "external_id", "5678", "", "Hello World", "", "", "", "", "", 1454119029),
	/* A user who hides the number writes from the user id. */
	MSG("courier_hello_bsuid_in_from.json", EVENT_TEXT, "external_id", "US.1234", "", "Hello World", "", "", "", "",
	    "", 1454119029),
	MSG("courier_hello_from_bsuid.json", EVENT_TEXT, "external_id", "US.1234", "", "Hello World", "", "", "", "", "",
	    1454119029),
	MSG("courier_hello_user_id.json", EVENT_TEXT, "external_id", "5678", "US.1234", "Hello World", "", "", "", "",
	    "", 1454119029),
	/* "foo_bar" is no user id: the number alone. */
	MSG("courier_hello_invalid_user_id.json", EVENT_TEXT, "external_id", "5678", "", "Hello World", "", "", "", "",
	    "", 1454119029),
	/* A template's quick reply: the payload is the button data. */
	MSG("courier_button.json", EVENT_BUTTON, "external_id", "5678", "", "", "No-Button-Payload", "", "", "",
	    "gBGGFmkiWVVPAgkgQkwi7IORac0", 1454119029),
	MSG("courier_button_reply.json", EVENT_BUTTON, "external_id", "5678", "", "", "id_button_reply", "", "", "", "",
	    1454119029),
	MSG("courier_list_reply.json", EVENT_BUTTON, "external_id", "5678", "", "", "id_list_reply", "", "", "", "",
	    1454119029),
	MSG("courier_image.json", EVENT_MEDIA, "external_id", "5678", "", "Check out my new phone!", "", "photo",
	    "id_image", "image/jpeg", "", 1454119029),
	MSG("courier_document.json", EVENT_MEDIA, "external_id", "5678", "", "80skaraokesonglistartist", "", "document",
	    "id_document", "application/pdf", "", 1454119029),
	MSG("courier_audio.json", EVENT_MEDIA, "external_id", "5678", "", "Check out my new phone!", "", "audio",
	    "id_audio", "image/jpeg", "", 1454119029),
	MSG("courier_voice.json", EVENT_MEDIA, "external_id", "5678", "", "", "", "voice", "id_voice",
	    "audio/ogg; codecs=opus", "", 1454119029),
	MSG("courier_video.json", EVENT_MEDIA, "external_id", "5678", "", "Check out my new phone!", "", "video",
	    "id_video", "image/jpeg", "", 1454119029),
	/* No coordinates are kept. */
	MSG("courier_location.json", EVENT_LOCATION, "external_id", "5678", "", "", "", "", "", "", "", 1454119029),
	/* Kinds casebot cannot show reach the counsellor as "something came". */
	MSG("courier_error_msg.json", EVENT_OTHER, "external_id", "5678", "", "", "", "", "", "", "", 1454119029),
	MSG("courier_nfm_reply.json", EVENT_OTHER, "external_id", "5678", "", "", "", "", "", "", "", 1454119029),
	MSG("courier_nfm_reply_non_object.json", EVENT_OTHER, "external_id", "5678", "", "", "", "", "", "", "",
	    1454119029),
	/* Number changes: the new number in sender_alt. */
	MSG("meta_openapi_system_user_changed_number.json", EVENT_IDENTITY,
	    "wamid.HBgLMTk4MzU1NTE5NzQVAgASGAoxMTgyMDg2MjY3AA==", "16505551234", "12195555358", "", "", "", "", "", "",
	    1750269342),
	MSG("pywa_system_user_changed_number.json", EVENT_IDENTITY, "wamid.xyzxyz==", "972987654321", "972912345678",
	    "", "", "", "", "", "", 1753851315),
	/* The same id twice in one body: both are read, the store keeps one. */
	COUNTS("courier_duplicate.json", 2, 0, 0, 0),
	COUNTS("courier_group_message.json", 0, 0, 1, 0),
	COUNTS("pywa_system_customer_identity_changed.json", 0, 0, 1, 0),
	COUNTS("courier_invalid_from.json", 0, 0, 0, 1),
	COUNTS("courier_invalid_timestamp.json", 0, 0, 0, 1),
	COUNTS("courier_no_from.json", 0, 0, 0, 1),
	/* Placeholders ("PHONE_NUMBER") where the number goes. */
	COUNTS("netflie_system_user_changed_number.json", 0, 0, 0, 1),
	/* errors[] about the app, not about a message: nothing to store. */
	COUNTS("courier_error_errors.json", 0, 0, 0, 0),
	COUNTS("courier_ignore_status.json", 0, 0, 1, 0),
	COUNTS("courier_invalid_status.json", 0, 0, 1, 0),
	STATUS("courier_valid_status.json", "sent", 0, "", "", "referral_conversion", 0),
	STATUS("courier_error_status.json", "failed", 131014,
	       "Request for url https://URL.jpg failed with error: 404 (Not Found)", "", "referral_conversion", 0),
	STATUS("netflie_status_read.json", "read", 0, "", "", "", -1),
	STATUS("netflie_status_delivered_utility.json", "delivered", 0, "", "", "utility", 1),
	STATUS("netflie_status_delivered_service.json", "delivered", 0, "", "", "service", 1),
	STATUS("pywa_status_delivered_service.json", "delivered", 0, "", "", "service", 1),
	STATUS("pywa_status_read_service.json", "read", 0, "", "", "service", 1),
	STATUS("pywa_status_failed_130472.json", "failed", 130472, "User's number is part of an experiment",
	       "Failed to send message because this user's phone number is part of an experiment", "", -1),
	/* Turn.io's forwarding format, not the Cloud API's envelope. */
	NOT_WEBHOOK("rp_sidekick_turn_status_failed_131026.json"),
	/* What the sending side reads and writes is no webhook. */
	NOT_WEBHOOK("courier_send_error_130429_rate_limit.json"),
	NOT_WEBHOOK("courier_send_error_131009_param_invalid.json"),
	NOT_WEBHOOK("courier_send_error_131056_pair_rate_limit.json"),
	NOT_WEBHOOK("courier_send_error_368_policy_block.json"),
	NOT_WEBHOOK("courier_send_error_613_http429.json"),
	NOT_WEBHOOK("courier_send_request_interactive_buttons.json"),
	NOT_WEBHOOK("courier_send_request_interactive_list.json"),
	NOT_WEBHOOK("courier_send_request_template.json"),
	NOT_WEBHOOK("courier_send_request_template_buttons_utf8.json"),
	NOT_WEBHOOK("courier_send_request_text.json"),
	NOT_WEBHOOK("courier_send_response_201.json"),
	NOT_WEBHOOK("courier_send_response_201_with_user_id.json"),
	/* GET /{media-id}: see test_media_samples. */
	{"meta_openapi_media_url_response.json", MEDIA, -CB_EPARSE, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, 0, NULL, 0, NULL, NULL, NULL, 0},
	{"ruby_whatsapp_sdk_media_url_response.json", MEDIA, 0, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL,
	 NULL, "image/png", NULL, 182859, NULL, 0, NULL, NULL, NULL, 0},
	{"ruby_whatsapp_sdk_media_get_error_100_33.json", MEDIA, -CB_EGATEWAY, 0, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL,
	 NULL, NULL, NULL, NULL, NULL, 0, NULL, 100, NULL, NULL, NULL, 0},
};

static void check_str(const char *want, const char *got, const char *file, const char *what)
{
	if (want != NULL && strcmp(want, got) != 0)
		fail_msg("%s: %s is \"%s\", expected \"%s\"", file, what, got, want);
}

static void check_webhook(const struct expect *e)
{
	size_t len;
	char *body = load(e->file, &len);
	int rc = parse_body(body, len, NULL);

	free(body);
	if (rc != e->rc)
		fail_msg("%s: parse gave %d, expected %d", e->file, rc, e->rc);
	if (g.w.messages != e->messages || g.w.statuses != e->statuses || g.w.ignored != e->ignored ||
	    g.w.malformed != e->malformed)
		fail_msg("%s: %d messages, %d statuses, %d ignored, %d malformed", e->file, g.w.messages, g.w.statuses,
			 g.w.ignored, g.w.malformed);
	if (e->external_id != NULL) {
		const struct inbound_event *ev = &g.ev[0];

		assert_true(g.nev >= 1);
		assert_int_equal(g.evrc[0], e->evrc);
		assert_string_equal(ev->channel, "whatsapp");
		if (ev->kind != e->kind)
			fail_msg("%s: kind %s", e->file, event_kind_name(ev->kind));
		check_str(e->external_id, ev->external_id, e->file, "external_id");
		check_str(e->external_id, ev->message_id, e->file, "message_id");
		check_str(e->sender, ev->sender, e->file, "sender");
		check_str(e->alt, ev->sender_alt, e->file, "sender_alt");
		check_str(e->text, ev->text, e->file, "text");
		check_str(e->button, ev->button_data, e->file, "button");
		check_str(e->media_kind, ev->media_kind, e->file, "media_kind");
		check_str(e->media_ref, ev->media_ref, e->file, "media_ref");
		check_str(e->mime, ev->media_mime, e->file, "mime");
		check_str(e->reply_to, ev->reply_to, e->file, "reply_to");
		assert_int_equal((long long)ev->at, e->at);
	}
	if (e->status != NULL) {
		const struct whatsapp_status *st = &g.st[0];

		assert_true(g.nst >= 1);
		assert_int_equal(g.strc[0], 0);
		check_str(e->status, whatsapp_api_state_name(st->state), e->file, "status");
		assert_true(st->message_id[0] != '\0');
		assert_true(st->at > 1400000000);
		assert_int_equal(st->error_code, e->error_code);
		check_str(e->error_title, st->error_title, e->file, "error_title");
		check_str(e->error_details, st->error_details, e->file, "error_details");
		check_str(e->category, st->category, e->file, "category");
		assert_int_equal(st->billable, e->billable);
	}
}

static void check_media(const struct expect *e)
{
	struct whatsapp_media m;
	size_t len;
	char *body = load(e->file, &len);
	int rc = whatsapp_api_parse_media(body, len, e->rc == -CB_EGATEWAY ? 400 : 200, &m);

	if (rc != e->rc)
		fail_msg("%s: parse_media gave %d, expected %d", e->file, rc, e->rc);
	if (rc == 0) {
		/* The escaped slashes are read as slashes. */
		assert_non_null(strstr(m.url, "https://lookaside.fbsbx.com/whatsapp_business/attachments/?mid="));
		check_str(e->mime, m.mime, e->file, "mime");
		assert_int_equal(m.size, e->at);
	}
	assert_int_equal(m.error_code, e->error_code);
	/* And it is no webhook. */
	assert_int_equal(parse_body(body, len, NULL), -CB_EPARSE);
	free(body);
}

static void test_samples(void **state)
{
	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(samples); i++) {
		if (samples[i].what == MEDIA)
			check_media(&samples[i]);
		else
			check_webhook(&samples[i]);
	}
}

/* Every file in the directory has its line above, and SOURCES.md names it. */
static void test_every_sample_listed(void **state)
{
	DIR *d = opendir(DIR_PAYLOADS);
	struct dirent *de;
	size_t len, n = 0;
	char *sources;
	FILE *fp;
	int found;

	(void)state;
	assert_non_null(d);
	fp = fopen("tests/data/payloads/SOURCES.md", "rb");
	assert_non_null(fp);
	sources = malloc(1 << 20);
	len = fread(sources, 1, (1 << 20) - 1, fp);
	sources[len] = '\0';
	fclose(fp);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		found = 0;
		for (size_t i = 0; i < CB_ARRAY_SIZE(samples); i++)
			found |= strcmp(de->d_name, samples[i].file) == 0;
		if (!found)
			fail_msg("%s has no expected result here", de->d_name);
		if (strstr(sources, de->d_name) == NULL)
			fail_msg("%s is not in SOURCES.md", de->d_name);
		n++;
	}
	closedir(d);
	free(sources);
	assert_int_equal(n, CB_ARRAY_SIZE(samples));
}

/* ------------------------------------------------------ what samples miss */

#define ENVELOPE_OPEN "{\"object\":\"whatsapp_business_account\",\"entry\":["
#define CHANGE(pnid, inner) \
	"{\"field\":\"messages\",\"value\":{\"messaging_product\":\"whatsapp\",\"metadata\":{\"phone_number_id\":\"" pnid \
	"\"}," inner "}}"
#define TEXT_MSG(id, from, ts, body) \
	"{\"from\":\"" from "\",\"id\":\"" id "\",\"timestamp\":" ts ",\"type\":\"text\",\"text\":{\"body\":\"" body "\"}}"
#define STATUS_OF(id, st, ts) "{\"id\":\"" id "\",\"status\":\"" st "\",\"timestamp\":\"" ts "\",\"recipient_id\":\"3247\"}"

/* Several entries, changes, messages and statuses in one body: all read,
 * in order, each item on its own. */
static void test_batch(void **state)
{
	static const char body[] = ENVELOPE_OPEN
		"{\"id\":\"1\",\"changes\":["
		CHANGE("111", "\"messages\":[" TEXT_MSG("wamid.A", "32470000001", "\"1790000000\"", "een") ","
			      TEXT_MSG("wamid.B", "32470000002", "\"1790000001\"", "twee") "],"
			      "\"statuses\":[" STATUS_OF("wamid.S1", "read", "1790000002") "]") ","
		CHANGE("111", "\"statuses\":[" STATUS_OF("wamid.S1", "delivered", "1790000001") ","
			      STATUS_OF("wamid.S2", "sent", "1790000003") "]")
		"]},"
		"{\"id\":\"2\",\"changes\":["
		CHANGE("111", "\"messages\":[" TEXT_MSG("wamid.C", "32470000001", "1790000004", "drie") ","
			      "{\"id\":\"wamid.bad\",\"type\":\"text\"}]") ","
		/* Another number of the same app: not ours. */
		CHANGE("999", "\"messages\":[" TEXT_MSG("wamid.D", "32470000003", "\"1790000005\"", "vier") "]") ","
		"{\"field\":\"account_update\",\"value\":{\"event\":\"x\"}}"
		"]}]}";

	(void)state;
	assert_int_equal(parse_body(body, strlen(body), "111"), 0);
	assert_int_equal(g.w.messages, 3);
	assert_int_equal(g.w.statuses, 3);
	assert_int_equal(g.w.malformed, 1);
	assert_int_equal(g.w.ignored, 2);
	assert_int_equal(g.nev, 4);
	assert_string_equal(g.ev[0].external_id, "wamid.A");
	assert_string_equal(g.ev[1].external_id, "wamid.B");
	assert_string_equal(g.ev[1].text, "twee");
	assert_string_equal(g.ev[2].external_id, "wamid.C");
	/* A timestamp may be a number. */
	assert_int_equal(g.ev[2].at, 1790000004);
	assert_int_equal(g.evrc[3], -CB_EPARSE);
	assert_string_equal(g.ev[3].external_id, "wamid.bad");
	assert_int_equal(g.nst, 3);
	assert_int_equal(g.st[0].state, WA_STATE_READ);
	assert_int_equal(g.st[1].state, WA_STATE_DELIVERED);
	assert_string_equal(g.st[2].message_id, "wamid.S2");
	/* Without the number filter, the other number's message is read. */
	assert_int_equal(parse_body(body, strlen(body), NULL), 0);
	assert_int_equal(g.w.messages, 4);
}

static void test_timestamps(void **state)
{
	cJSON *v;
	time_t t;

	(void)state;
	v = cJSON_CreateString("1790000000");
	assert_int_equal(whatsapp_api_timestamp(v, &t), 0);
	assert_int_equal(t, 1790000000);
	cJSON_Delete(v);
	/* Milliseconds, as some notifications write them. */
	v = cJSON_CreateString("1790000000123");
	assert_int_equal(whatsapp_api_timestamp(v, &t), 0);
	assert_int_equal(t, 1790000000);
	cJSON_Delete(v);
	v = cJSON_CreateNumber(1669233778);
	assert_int_equal(whatsapp_api_timestamp(v, &t), 0);
	assert_int_equal(t, 1669233778);
	cJSON_Delete(v);
	static const char *const bad[] = {"asdf", "", "-5", "12x", " 1790000000", "0", "99999999999999999999"};
	for (size_t i = 0; i < CB_ARRAY_SIZE(bad); i++) {
		v = cJSON_CreateString(bad[i]);
		if (whatsapp_api_timestamp(v, &t) != -CB_EPARSE)
			fail_msg("\"%s\" was read as a time", bad[i]);
		cJSON_Delete(v);
	}
	assert_int_equal(whatsapp_api_timestamp(NULL, &t), -CB_EPARSE);
	v = cJSON_CreateTrue();
	assert_int_equal(whatsapp_api_timestamp(v, &t), -CB_EPARSE);
	cJSON_Delete(v);
}

/* A voice note recorded in WhatsApp is audio marked voice; a sticker has
 * no caption; a button id longer than casebot makes is not casebot's, and
 * its title is read as a text. */
static void test_kinds(void **state)
{
	static const char voice[] = ENVELOPE_OPEN "{\"changes\":[" CHANGE("1",
		"\"messages\":[{\"from\":\"3247\",\"id\":\"w1\",\"timestamp\":\"1790000000\",\"type\":\"audio\","
		"\"audio\":{\"id\":\"778\",\"mime_type\":\"audio/ogg; codecs=opus\",\"voice\":true}}]") "]}]}";
	static const char sticker[] = ENVELOPE_OPEN "{\"changes\":[" CHANGE("1",
		"\"messages\":[{\"from\":\"3247\",\"id\":\"w2\",\"timestamp\":\"1790000000\",\"type\":\"sticker\","
		"\"sticker\":{\"id\":\"779\",\"animated\":false}}]") "]}]}";
	static const char long_id[] = ENVELOPE_OPEN "{\"changes\":[" CHANGE("1",
		"\"messages\":[{\"from\":\"3247\",\"id\":\"w3\",\"timestamp\":\"1790000000\",\"type\":\"interactive\","
		"\"interactive\":{\"type\":\"button_reply\",\"button_reply\":{\"id\":\""
		"0123456789012345678901234567890123456789012345678901234567890123456789\",\"title\":\"Ja\"}}}]") "]}]}";
	static const char reaction[] = ENVELOPE_OPEN "{\"changes\":[" CHANGE("1",
		"\"messages\":[{\"from\":\"3247\",\"id\":\"w4\",\"timestamp\":\"1790000000\",\"type\":\"reaction\","
		"\"reaction\":{\"message_id\":\"wamid.X\",\"emoji\":\"\\ud83d\\udc4d\"}}]") "]}]}";
	static const char user_id[] = ENVELOPE_OPEN "{\"changes\":[" CHANGE("1",
		"\"messages\":[{\"from\":\"3247\",\"id\":\"w5\",\"timestamp\":\"1790000000\",\"type\":\"system\","
		"\"system\":{\"type\":\"user_changed_user_id\",\"user_id\":\"BE.99\",\"body\":\"x\"}}]") "]}]}";
	static const char played[] = ENVELOPE_OPEN "{\"changes\":[" CHANGE("1",
		"\"statuses\":[" STATUS_OF("wamid.V", "played", "1790000000") "]") "]}]}";

	(void)state;
	assert_int_equal(parse_str(voice), 0);
	assert_int_equal(g.ev[0].kind, EVENT_MEDIA);
	assert_string_equal(g.ev[0].media_kind, "voice");
	assert_string_equal(g.ev[0].media_ref, "778");
	assert_int_equal(parse_str(sticker), 0);
	assert_string_equal(g.ev[0].media_kind, "sticker");
	assert_string_equal(g.ev[0].media_mime, "image/webp");
	assert_int_equal(parse_str(long_id), 0);
	assert_int_equal(g.ev[0].kind, EVENT_TEXT);
	assert_string_equal(g.ev[0].text, "Ja");
	assert_string_equal(g.ev[0].button_data, "");
	assert_int_equal(parse_str(reaction), 0);
	assert_int_equal(g.w.ignored, 1);
	assert_int_equal(g.w.messages, 0);
	assert_int_equal(parse_str(user_id), 0);
	assert_int_equal(g.ev[0].kind, EVENT_IDENTITY);
	assert_string_equal(g.ev[0].sender_alt, "BE.99");
	assert_int_equal(parse_str(played), 0);
	assert_int_equal(g.st[0].state, WA_STATE_PLAYED);
}

/* Text up to WhatsApp's 4096 characters is kept whole; what a broken
 * client might send beyond the event's room is cut between characters. */
static void test_long_text(void **state)
{
	const char *prefix = ENVELOPE_OPEN "{\"changes\":[{\"field\":\"messages\",\"value\":{\"messages\":["
			     "{\"from\":\"3247\",\"id\":\"w1\",\"timestamp\":\"1790000000\",\"type\":\"text\","
			     "\"text\":{\"body\":\"";
	const char *suffix = "\"}}]}}]}]}";
	size_t n = 4096, plen = strlen(prefix), slen = strlen(suffix);
	char *body = malloc(plen + 4 * 8000 + slen + 1), *p;

	(void)state;
	/* 4096 four-byte emoji: 16 KiB of UTF-8, one byte over the room. */
	p = body + plen;
	memcpy(body, prefix, plen);
	for (size_t i = 0; i < n; i++, p += 4)
		memcpy(p, "\xf0\x9f\x98\x80", 4);
	memcpy(p, suffix, slen + 1);
	assert_int_equal(parse_str(body), 0);
	assert_int_equal(strlen(g.ev[0].text), EVENT_TEXT_MAX - 4);
	assert_int_equal(strlen(g.ev[0].text) % 4, 0);
	/* 4096 é: 8 KiB, whole. */
	p = body + plen;
	for (size_t i = 0; i < n; i++, p += 2)
		memcpy(p, "\xc3\xa9", 2);
	memcpy(p, suffix, slen + 1);
	assert_int_equal(parse_str(body), 0);
	assert_int_equal(strlen(g.ev[0].text), 2 * n);
	free(body);
}

static void test_not_webhooks(void **state)
{
	static const char *const bad[] = {
		"", "{", "[]", "null", "{\"object\":\"page\",\"entry\":[]}", "{\"object\":\"whatsapp_business_account\"}",
		"{\"object\":\"whatsapp_business_account\",\"entry\":{}}",
	};

	(void)state;
	for (size_t i = 0; i < CB_ARRAY_SIZE(bad); i++)
		if (parse_str(bad[i]) != -CB_EPARSE)
			fail_msg("\"%s\" was read as a webhook", bad[i]);
	/* Shapes inside the envelope that are wrong are counted, not fatal. */
	assert_int_equal(parse_str(ENVELOPE_OPEN "{\"changes\":{}},{\"changes\":[{\"field\":\"messages\"},"
				   "{\"field\":\"messages\",\"value\":{\"messages\":{},\"statuses\":7}}]}]}"),
			 0);
	assert_int_equal(g.w.malformed, 4);
	assert_int_equal(parse_body("{}", 0, NULL), -CB_EPARSE);
}

static void test_identities(void **state)
{
	(void)state;
	assert_true(whatsapp_api_is_number("32470123456"));
	assert_false(whatsapp_api_is_number("+32470123456"));
	assert_false(whatsapp_api_is_number(""));
	assert_false(whatsapp_api_is_number("123456789012345678901"));
	assert_true(whatsapp_api_is_user_id("US.13491208655302741918"));
	assert_true(whatsapp_api_is_user_id("US.ENT.11815799212886844830"));
	assert_false(whatsapp_api_is_user_id("foo_bar"));
	assert_false(whatsapp_api_is_user_id("US."));
	assert_false(whatsapp_api_is_user_id("us.123"));
	assert_false(whatsapp_api_is_user_id("US.12/3"));
}

/* An event read from a webhook goes to the inbound table and back with
 * its second identity; the redacted copy keeps no number. */
static void test_event_json(void **state)
{
	char json[4096];
	struct inbound_event back;
	size_t len;
	char *body = load("courier_hello_user_id.json", &len);

	(void)state;
	assert_int_equal(parse_body(body, len, NULL), 0);
	free(body);
	assert_int_equal(event_to_json(&g.ev[0], 0, json, sizeof(json)), 0);
	assert_int_equal(event_from_json(json, "whatsapp", g.ev[0].external_id, g.ev[0].sender, &back), 0);
	assert_string_equal(back.sender_alt, "US.1234");
	assert_string_equal(back.text, "Hello World");
	assert_int_equal(back.at, 1454119029);
	assert_int_equal(event_to_json(&g.ev[0], 1, json, sizeof(json)), 0);
	assert_null(strstr(json, "US.1234"));
	assert_null(strstr(json, "Hello"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_samples),     cmocka_unit_test(test_every_sample_listed),
		cmocka_unit_test(test_batch),       cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_kinds),       cmocka_unit_test(test_long_text),
		cmocka_unit_test(test_not_webhooks), cmocka_unit_test(test_identities),
		cmocka_unit_test(test_event_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
