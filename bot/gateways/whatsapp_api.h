/* The WhatsApp Cloud API without I/O, reading half: webhook bodies and
 * Graph API answers in, inbound events and delivery statuses out.
 * bot/gateways/whatsapp.c does the HTTP around it; the request bodies the
 * sending side builds are in whatsapp_send.c.
 *
 * Only one-to-one chats are read: group messages are ignored. */
#ifndef CASEBOT_WHATSAPP_API_H
#define CASEBOT_WHATSAPP_API_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "bot/event.h"

/* A well-formed message or status casebot does not read. */
#define WHATSAPP_IGNORED 1

#define WHATSAPP_BODY_MAX (4 * 1024 * 1024)   /* a webhook body we read */
#define WHATSAPP_PAYLOAD_MAX 64     /* button ids and payloads casebot reads
				       back: the data it put there */

/* One status of a message casebot sent. */
enum whatsapp_state {
	WA_STATE_SENT = 1,           /* ranks: a status only moves up */
	WA_STATE_DELIVERED,
	WA_STATE_READ,
	WA_STATE_PLAYED,             /* a voice note was listened to */
	WA_STATE_FAILED              /* terminal */
};

struct whatsapp_status {
	char message_id[EVENT_ID_MAX];    /* the wamid the send was answered with */
	enum whatsapp_state state;
	time_t at;
	int error_code;                   /* failed: errors[0].code, 0 if none */
	char error_title[128];
	char error_details[256];          /* errors[0].error_data.details, or message */
	char category[32];                /* pricing.category, "" when absent */
	int billable;                     /* pricing.billable: 1, 0, or -1 absent */
};

/* What one webhook body holds, reported item by item in the order Meta
 * wrote them. rc is 0 for a usable item, WHATSAPP_IGNORED for one casebot
 * does not read (group messages, reactions, statuses like "deleted"),
 * -CB_EPARSE for a malformed one; whatever rc is, the item's id is set
 * when it was readable. A callback's nonzero return stops the parse and
 * becomes its result. */
struct whatsapp_webhook {
	int (*message)(void *arg, int rc, const struct inbound_event *ev);
	int (*status)(void *arg, int rc, const struct whatsapp_status *st);
	void *arg;
	/* Only changes for this number are read ("" or NULL: any); others
	 * are counted ignored. */
	const char *phone_number_id;
	/* Counts, filled in by the parse. */
	int messages, statuses, ignored, malformed;
	int errors;                       /* value.errors[] entries (none is read) */
	int first_error_code;             /* for the log */
};

/* Parses one webhook body (object whatsapp_business_account, entry[],
 * changes[], value.messages[] and value.statuses[]). -CB_EPARSE when the
 * body is not such an envelope; else 0 or what a callback returned.
 *
 * A message becomes an event as a Telegram message does: text; a reply
 * button, a list row or a template's quick-reply is EVENT_BUTTON with its
 * id or payload as the button data; image (as "photo"), document, audio,
 * voice (audio/ogg; codecs=opus, or audio marked voice), video and sticker
 * are EVENT_MEDIA with the media id as reference and the caption as text;
 * location is EVENT_LOCATION without coordinates; a number or user id
 * change is EVENT_IDENTITY with the new one in sender_alt; anything else
 * (contacts, unsupported kinds with errors[]) is EVENT_OTHER. The sender
 * is the number (wa_id) when there is a valid one, else the business-
 * scoped user id, and sender_alt the other when the message has both. */
int whatsapp_api_parse_webhook(const char *body, size_t len, struct whatsapp_webhook *w);

/* A WhatsApp timestamp: decimal seconds as a string (sometimes in
 * milliseconds) or as a number. -CB_EPARSE otherwise. */
int whatsapp_api_timestamp(const cJSON *v, time_t *out);

/* A number as WhatsApp writes it (digits only, at most 20) and a business-
 * scoped user id ("US.1234": two capital letters, a dot, then letters,
 * digits and dots). */
int whatsapp_api_is_number(const char *s);
int whatsapp_api_is_user_id(const char *s);

/* The status names WhatsApp uses, and back; NULL or 0 when unknown. */
const char *whatsapp_api_state_name(enum whatsapp_state s);
enum whatsapp_state whatsapp_api_state_parse(const char *name);

/* GET /{media-id}: the download URL (valid a few minutes), its MIME type
 * and size (0 when not given). A Graph API error is -CB_EGATEWAY with
 * *error_code set (100 for an unknown id); -CB_EPARSE for anything else. */
struct whatsapp_media {
	char url[1024];
	char mime[64];
	int64_t size;
	int error_code;
};
int whatsapp_api_parse_media(const char *body, size_t len, long http_status, struct whatsapp_media *m);

#endif
