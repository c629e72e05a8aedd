/* The normalised inbound event: what every gateway turns its updates into
 * before they are stored and routed. */
#ifndef CASEBOT_EVENT_H
#define CASEBOT_EVENT_H

#include <stdint.h>
#include <time.h>

#define EVENT_TEXT_MAX 16384     /* 4096 UTF-16 units is at most 16 KiB of UTF-8 */
/* Ids, chat addresses and message ids of every gateway are text, room
 * for WhatsApp's (about 60 characters) and more. */
#define EVENT_ID_MAX 128
#define EVENT_REF_MAX 256

enum event_kind {
	EVENT_TEXT = 0,      /* text (also a /start command with its payload) */
	EVENT_BUTTON,        /* an inline button was pressed */
	EVENT_MEDIA,         /* photo, document, voice, audio, video, sticker */
	EVENT_LOCATION,      /* location or venue */
	EVENT_BLOCKED,       /* the user blocked the bot */
	EVENT_UNBLOCKED,     /* the user allowed the bot again */
	EVENT_OTHER,         /* a message kind casebot does not read (contact...) */
	EVENT_IDENTITY       /* the gateway says the sender's number or id changed;
				sender_alt is the new one (WhatsApp) */
};

struct inbound_event {
	char channel[16];                  /* "telegram", "whatsapp", "sms" */
	char external_id[EVENT_ID_MAX];    /* unique per channel (Telegram update_id) */
	char sender[EVENT_ID_MAX];         /* chat id / phone number as text */
	/* Another identity of the same sender in this message (WhatsApp: the
	 * business-scoped user id beside the number), "" if none. */
	char sender_alt[EVENT_ID_MAX];
	time_t at;                         /* when the user sent it (UTC) */
	enum event_kind kind;
	char text[EVENT_TEXT_MAX];         /* message text or media caption */
	char button_data[EVENT_ID_MAX + 1];/* callback data (Telegram: max 64 bytes) */
	char callback_id[EVENT_ID_MAX];    /* to answer the button press */
	char media_kind[16];               /* photo, document, voice, audio, video, sticker */
	char media_ref[EVENT_REF_MAX];     /* gateway file id (largest photo within the cap) */
	char media_mime[64];
	int64_t media_size;                /* bytes, 0 if unknown */
	char message_id[EVENT_ID_MAX];     /* the gateway's id of this message */
	char reply_to[EVENT_ID_MAX];       /* the message this one answers, "" if none */
	int edited;                        /* a new version of message_id, sent before */
	time_t original_at;                /* an edit: when the first version was sent */
};

#endif
