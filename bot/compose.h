/* Turns an outbox row into the text and buttons a person receives, in one
 * language, from the catalogs and the current state of the store: a moved
 * appointment or a changed language shows in messages queued before. */
#ifndef CASEBOT_COMPOSE_H
#define CASEBOT_COMPOSE_H

#include "bot/casebot.h"
#include "bot/event.h"
#include "store/store.h"

/* Room for what a family or a counsellor wrote (at most the gateway's 16
 * KiB of UTF-8) and for what casebot puts around it. */
#define COMPOSE_TEXT_MAX (EVENT_TEXT_MAX + 4096)
#define COMPOSE_BUTTONS_MAX 4

struct locales;
struct gateway_caps;

struct composed_button {
	char label[96];
	char data[65];       /* Telegram callback_data: at most 64 bytes */
	char words[32];      /* a question's choice: the words.* list that picks it too, or "" */
};

/* A placeholder's value, as the first line of a message used it. */
#define COMPOSE_VALUES_MAX 4
struct composed_value {
	char name[16];
	char value[256];
};

struct composed {
	char text[COMPOSE_TEXT_MAX];
	struct composed_button buttons[COMPOSE_BUTTONS_MAX];
	int nbuttons;
	/* A question: button i is choice i + 1, listed by number in the text,
	 * so that a gateway without buttons asks the same question. */
	int question;
	/* The last button is Details, which no answer picks: it shows the
	 * message again, details included, in place. */
	int details_button;
	char media_kind[16];     /* a forwarded file follows the text: photo, voice... */
	char media_ref[256];
	char media_gateway[16];  /* the gateway whose reference media_ref is */
	/* The catalog key of the first line and its values: a gateway that
	 * may not send free-form text (WhatsApp outside its conversation
	 * window) sends the approved template that stands for that line. */
	char first_key[64];
	struct composed_value first[COMPOSE_VALUES_MAX];
	int nfirst;
};

/* -CB_ENOENT when what the row points at is gone (the caller cancels the
 * row); -CB_EINVAL for a row the catalogs cannot render. Rendered for what
 * the gateway can show (caps; NULL: buttons, no subject line): with a
 * subject line the first line is a subject that never carries a family's
 * words; a family's message with more buttons than the gateway has lists
 * them as numbered choices, which a bare number then answers. */
int compose_outbox(struct store *st, const struct locales *loc, const struct outbox_msg *m,
		   enum lang l, const struct gateway_caps *caps, struct composed *out);
/* The same, with details: a family message as its Details button shows it
 * (what, where, which document), or as staff read it. Without, a family
 * message holds only what a locked screen may show, and a Details button. */
int compose_outbox_details(struct store *st, const struct locales *loc, const struct outbox_msg *m,
			   enum lang l, const struct gateway_caps *caps, int details, struct composed *out);

/* Renders every family message (every text that opens one, and each kind
 * of reminder, notice, request, question) with every appointment kind,
 * document type and rejection reason, in the four languages, as it is
 * first sent. -CB_ECONFIG, with one line in err naming the language, the
 * key and the word, when a words.preview_banned item of any catalog shows
 * in a preview zone (locale_preview_len). */
int compose_check_previews(const struct locales *loc, char *err, size_t errlen);
/* The same messages, rendered for a gateway with caps (NULL: buttons),
 * each handed to each(arg, language, key, what it was rendered with,
 * text): what an SMS costs is counted from them. */
typedef void (*compose_each_fn)(void *arg, enum lang l, const char *key, const char *with, const char *text);
int compose_each_family_message(const struct locales *loc, const struct gateway_caps *caps, compose_each_fn each,
				void *arg);

#endif
