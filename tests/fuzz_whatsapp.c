/* libFuzzer target for the WhatsApp reading half: the input is fed as a
 * webhook body (with and without a number to keep) and as a GET
 * /{media-id} answer; every event it yields is written as the inbound
 * table would keep it and read back. Built apart from the tests, and run,
 * by make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/casebot.h"
#include "bot/event.h"
#include "bot/event_json.h"
#include "bot/gateways/whatsapp_api.h"

static char json[102400];
static struct inbound_event back;

static void terminated(const char *s, size_t cap)
{
	if (memchr(s, '\0', cap) == NULL)
		abort();
}

static int on_message(void *arg, int rc, const struct inbound_event *ev)
{
	(void)arg;
	/* Every string the parser fills must be terminated within its field. */
	terminated(ev->channel, sizeof(ev->channel));
	terminated(ev->external_id, sizeof(ev->external_id));
	terminated(ev->sender, sizeof(ev->sender));
	terminated(ev->sender_alt, sizeof(ev->sender_alt));
	terminated(ev->text, sizeof(ev->text));
	terminated(ev->button_data, sizeof(ev->button_data));
	terminated(ev->media_kind, sizeof(ev->media_kind));
	terminated(ev->media_ref, sizeof(ev->media_ref));
	terminated(ev->media_mime, sizeof(ev->media_mime));
	terminated(ev->reply_to, sizeof(ev->reply_to));
	if (rc != 0 && rc != WHATSAPP_IGNORED && rc != -CB_EPARSE)
		abort();
	if (rc != 0)
		return 0;
	if (ev->external_id[0] == '\0' || ev->sender[0] == '\0' || ev->at <= 0)
		abort();
	if (!whatsapp_api_is_number(ev->sender) && !whatsapp_api_is_user_id(ev->sender))
		abort();
	if (ev->kind == EVENT_BUTTON && (ev->button_data[0] == '\0' || strlen(ev->button_data) > WHATSAPP_PAYLOAD_MAX))
		abort();
	if (ev->kind == EVENT_MEDIA && (ev->media_ref[0] == '\0' || ev->media_kind[0] == '\0'))
		abort();
	if (ev->kind == EVENT_IDENTITY && ev->sender_alt[0] == '\0')
		abort();
	/* What the store keeps must read back as the same event. */
	if (event_to_json(ev, 0, json, sizeof(json)) != 0 ||
	    event_from_json(json, ev->channel, ev->external_id, ev->sender, &back) != 0 || back.kind != ev->kind ||
	    strcmp(back.text, ev->text) != 0 || strcmp(back.sender_alt, ev->sender_alt) != 0)
		abort();
	return 0;
}

static int on_status(void *arg, int rc, const struct whatsapp_status *st)
{
	(void)arg;
	terminated(st->message_id, sizeof(st->message_id));
	terminated(st->error_title, sizeof(st->error_title));
	terminated(st->error_details, sizeof(st->error_details));
	terminated(st->category, sizeof(st->category));
	if (rc == 0 && (st->message_id[0] == '\0' || whatsapp_api_state_name(st->state) == NULL || st->at <= 0 ||
			st->billable < -1 || st->billable > 1))
		abort();
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct whatsapp_webhook w;
	struct whatsapp_media m;
	int rc;

	for (int pass = 0; pass < 2; pass++) {
		memset(&w, 0, sizeof(w));
		w.message = on_message;
		w.status = on_status;
		w.phone_number_id = pass == 0 ? NULL : "1234567890";
		rc = whatsapp_api_parse_webhook((const char *)data, size, &w);
		if (rc != 0 && rc != -CB_EPARSE)
			abort();
		if (w.messages < 0 || w.statuses < 0 || w.ignored < 0 || w.malformed < 0)
			abort();
	}
	rc = whatsapp_api_parse_media((const char *)data, size, 200, &m);
	if (rc == 0 && strncmp(m.url, "http", 4) != 0)
		abort();
	terminated(m.url, sizeof(m.url));
	terminated(m.mime, sizeof(m.mime));
	return 0;
}
