/* Turns an outbox row into the text and buttons a person receives, in one
 * language, from the catalogs and the current state of the store: a moved
 * appointment or a changed language shows in messages queued before. */
#ifndef CASEBOT_COMPOSE_H
#define CASEBOT_COMPOSE_H

#include "bot/casebot.h"
#include "store/store.h"

#define COMPOSE_TEXT_MAX 8192
#define COMPOSE_BUTTONS_MAX 4

struct locales;

struct composed_button {
	char label[96];
	char data[65];       /* Telegram callback_data: at most 64 bytes */
};

struct composed {
	char text[COMPOSE_TEXT_MAX];
	struct composed_button buttons[COMPOSE_BUTTONS_MAX];
	int nbuttons;
	char media_kind[16];     /* a forwarded file follows the text: photo, voice... */
	char media_ref[256];
};

/* -CB_ENOENT when what the row points at is gone (the caller cancels the
 * row); -CB_EINVAL for a row the catalogs cannot render. With email, the
 * first line is a subject that never carries a family's words. */
int compose_outbox(struct store *st, const struct locales *loc, const struct outbox_msg *m,
		   enum lang l, int email, struct composed *out);

#endif
