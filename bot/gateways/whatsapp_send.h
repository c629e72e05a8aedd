/* The sending side of the WhatsApp gateway: Graph API request bodies
 * (text, reply buttons, lists, templates, media by id), what an answer
 * means for the outbox, the 24-hour window, and the templates that stand
 * for a message outside it. Everything here but the send calls is pure,
 * so that tests check each body and each error code without a network. */
#ifndef CASEBOT_GATEWAY_WHATSAPP_SEND_H
#define CASEBOT_GATEWAY_WHATSAPP_SEND_H

#include <stddef.h>
#include <time.h>

#include "bot/casebot.h"
#include "bot/compose.h"
#include "bot/gateways/gateway.h"

struct locales;
struct whatsapp;

/* What the Graph API allows on one message (Cloud API reference). */
#define WHATSAPP_SEND_TEXT_MAX 4096        /* characters of a text body */
#define WHATSAPP_SEND_BUTTON_BODY_MAX 1024 /* characters of a body with buttons */
#define WHATSAPP_SEND_REPLY_BUTTONS 3      /* reply buttons; more choices are a list */
#define WHATSAPP_SEND_LIST_ROWS 10
#define WHATSAPP_SEND_BUTTON_TITLE 20      /* characters of a reply button title */
#define WHATSAPP_SEND_ROW_TITLE 24         /* characters of a list row title */
#define WHATSAPP_SEND_QUICK_REPLY 25       /* characters of a template's quick reply */
#define WHATSAPP_SEND_ID_MAX 200           /* bytes of a row id; a button's is 256 */

/* {"messaging_product":"whatsapp","recipient_type":"individual","to":...}
 * with a text body (preview_url false), a caller-freed string. */
int whatsapp_send_build_text(const char *to, const char *text, size_t len, char **json);
/* An interactive message: up to three unique titles of at most 20
 * characters are reply buttons; more choices, or a longer title, a list
 * (up to 10 rows, titles of at most 24 characters, the whole label as the
 * row's description when it is longer) opened by list_button. The ids are
 * the buttons' data. -CB_EINVAL when nothing fits (a body over 1024
 * characters, no or too many choices). */
int whatsapp_send_build_choices(const char *to, const char *text, size_t len, const struct composed_button *b,
				int n, const char *list_button, char **json);
/* A document, audio (voice notes are audio/ogg opus), image or video by
 * the media id an upload gave; filename for a document, or NULL. */
int whatsapp_send_build_media(const char *to, const char *kind, const char *media_id, const char *filename,
			      char **json);
/* Whether WhatsApp takes a file of this MIME type and size for kind
 * (document, audio, image, video), and which kind it goes as: a voice
 * note is audio. -CB_EINVAL for a type it refuses, -CB_ETOOBIG over its
 * limit. */
int whatsapp_send_media_type(const char *kind, const char *mime, size_t size, const char **as);

/* ---- the 24-hour window and the templates -------------------------------- */

#define WHATSAPP_TEMPLATE_PARAMS COMPOSE_VALUES_MAX

/* An approved template: it stands for a message whose first line is
 * first_key and that has nbuttons buttons (its quick replies, whose
 * payloads are the buttons' data, so that a tap is the same answer). */
struct whatsapp_template {
	const char *name;            /* at Meta, the same in every language */
	const char *kinds;           /* the message kinds that use it, for check */
	const char *first_key;
	int nbuttons;
	const char *body_key;        /* the catalogs' body, named placeholders */
	const char *buttons[COMPOSE_BUTTONS_MAX];  /* the catalogs' button labels */
};

extern const struct whatsapp_template whatsapp_templates[];
extern const size_t whatsapp_ntemplates;

/* 1 when free-form text may go: the person wrote less than window
 * seconds ago (last_inbound 0: never). */
int whatsapp_send_window_open(time_t last_inbound, time_t now, int window_seconds);
/* The template that stands for a composed message, or NULL. */
const struct whatsapp_template *whatsapp_template_for(const struct composed *msg);
/* The body as Meta holds it in language l: each placeholder becomes
 * {{1}}, {{2}}... in the order it first appears there; names[i] is the
 * placeholder numbered i + 1. */
int whatsapp_template_body(const struct locales *loc, enum lang l, const struct whatsapp_template *t, char *body,
			   size_t cap, const char *names[WHATSAPP_TEMPLATE_PARAMS], int *nnames);
/* The message that sends t to to, in l, with the composed message's
 * values and button data. -CB_EINVAL when a value is missing or holds
 * what Meta refuses in a parameter (a newline, a tab, four spaces). */
int whatsapp_send_build_template(const struct locales *loc, enum lang l, const struct whatsapp_template *t,
				 const char *to, const struct composed *msg, char **json);
/* What to submit to Meta for t in l (POST /{waba-id}/message_templates):
 * name, language, category UTILITY, the body with an example, the quick
 * replies. */
int whatsapp_template_definition(const struct locales *loc, enum lang l, const struct whatsapp_template *t,
				 char **json);
/* Every template has its body and buttons in all four catalogs, within
 * Meta's limits. -CB_ECONFIG with a one-line err otherwise. */
int whatsapp_templates_check(const struct locales *loc, char *err, size_t errlen);

/* ---- the gateway's sends --------------------------------------------------- */

/* The send op: one part to p->address. Free-form inside the window; the
 * template that stands for the message outside it, and also when a
 * free-form send is refused for the window; cb runs once, on the loop. */
int whatsapp_send_part(struct whatsapp *wa, const struct gateway_part *p, gateway_sent_cb cb, void *arg);

/* A file out: uploaded (POST /{phone-number-id}/media, multipart), then
 * sent by the media id the upload gave. kind is what the file is to the
 * core (document, voice, audio, photo, video); the bytes are copied. A
 * media error is tried once more, upload and all. -CB_EINVAL for a type
 * WhatsApp does not take, -CB_ETOOBIG over its limit; cb runs once
 * otherwise. */
int whatsapp_send_file(struct whatsapp *wa, const char *address, const char *kind, const char *mime,
		       const char *filename, const void *data, size_t len, gateway_sent_cb cb, void *arg);
/* The send_media op: a file the gateway holds by its media id, fetched
 * and sent again by upload. */
int whatsapp_send_media(struct gateway *gw, const char *address, const char *media_kind, const char *media_ref,
			gateway_sent_cb cb, void *arg);

/* A failed status for a message of outbox_id, in the status's
 * transaction (the row itself is failed by the store): 131026 marks the
 * chat for its owner's next channel; staff hear of it as of a refused
 * send, with the same reasons. */
int whatsapp_send_status_failed(const struct gateway_env *env, int64_t outbox_id, int code, const char *title);

/* ---- answers ------------------------------------------------------------- */

enum whatsapp_send_class {
	WHATSAPP_SENT = 0,
	WHATSAPP_THROTTLED,      /* throughput or spam limit: back off */
	WHATSAPP_PAIR_LIMIT,     /* too many to this one person: back off, others go on */
	WHATSAPP_TRANSIENT,      /* Meta or the network: retry with backoff */
	WHATSAPP_MEDIA,          /* Meta could not take the media: retried once */
	WHATSAPP_WINDOW,         /* free-form outside the 24-hour window */
	WHATSAPP_UNREACHABLE,    /* not on WhatsApp, or cannot get messages */
	WHATSAPP_TEMPLATE,       /* the template is wrong or missing in the language */
	WHATSAPP_FAILED          /* this message only */
};

struct whatsapp_send_answer {
	enum whatsapp_send_class cls;
	int code;                    /* Meta's error code, 0 when none */
	char title[96];              /* its title or message, for the log */
	char id[GATEWAY_ID_MAX];     /* the wamid of a sent message, or an upload's media id */
	int retry_after;             /* seconds, for the classes that back off */
};

/* Reads a Graph API answer (HTTP status, body, Retry-After or -1). A 2xx
 * without a message id is transient: the message may not have gone. */
int whatsapp_send_parse(int status, const char *body, size_t len, long retry_after,
			struct whatsapp_send_answer *a);
/* The class of an error code; message helps with codes Meta added later
 * that still say what they are about (the 24-hour window). */
enum whatsapp_send_class whatsapp_send_classify(int code, const char *message);
/* What the outbox does with an answer; retried says the media was tried
 * again already. */
void whatsapp_send_outcome(const struct whatsapp_send_answer *a, int retried, struct gateway_result *r);

#endif
