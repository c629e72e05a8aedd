/* The pure side of the SMS gateway (Twilio's Programmable Messaging API,
 * which SignalWire and others also speak): the form-encoded webhooks and
 * their X-Twilio-Signature, inbound messages and status callbacks, what
 * an answer or an error code means, and what a text costs in segments.
 * Nothing here does I/O, so that tests and the fuzz target reach every
 * line without a network. */
#ifndef CASEBOT_GATEWAY_SMS_API_H
#define CASEBOT_GATEWAY_SMS_API_H

#include <stddef.h>
#include <time.h>

#include "bot/casebot.h"
#include "bot/event.h"

#define SMS_IGNORED 1              /* a webhook item casebot does not read */
#define SMS_TEXT_MAX 1600          /* characters Twilio takes in one Body */
#define SMS_FORM_PARAMS_MAX 128    /* fields of one webhook */
#define SMS_SIGNATURE_MAX 64       /* base64 of a 20-byte HMAC-SHA1, and room */
#define SMS_NUMBER_MAX 20          /* "+" and at most 15 digits */
#define SMS_VALIDITY_MAX 36000     /* seconds: Twilio's largest ValidityPeriod */

/* A decoded application/x-www-form-urlencoded body, fields in the order
 * they came (a name may come more than once). */
struct sms_param {
	char *name;
	char *value;
	size_t value_len;
};

struct sms_form {
	struct sms_param *p;
	int n;
};

/* -CB_EPARSE for a malformed escape or a NUL byte in a name or a value,
 * -CB_ETOOBIG past SMS_FORM_PARAMS_MAX fields. Each part is decoded by
 * libcurl ('+' is a space first). */
int sms_api_form_parse(const char *body, size_t len, struct sms_form *f);
void sms_api_form_free(struct sms_form *f);
/* The first value of name, or NULL. */
const char *sms_api_form_get(const struct sms_form *f, const char *name);

/* X-Twilio-Signature: base64 of the HMAC-SHA1, keyed with the auth token,
 * of url followed by every field's name and value, sorted by name (and
 * by value within a name), into out. */
int sms_api_signature(const char *token, const char *url, const struct sms_form *f, char *out, size_t cap);
/* Whether given is the signature of the request at url, or at url with
 * its port taken off, or with the scheme's default port put on: Twilio's
 * own libraries accept all three, since a proxy may add or drop the port.
 * Compared in constant time. */
int sms_api_signature_ok(const char *token, const char *url, const struct sms_form *f, const char *given,
			 size_t given_len);

/* An inbound message: ev gets channel "sms", the MessageSid as its
 * external and message id, the sender in E.164, the body (a text), at.
 * SMS_IGNORED for what is not an SMS to us (a WhatsApp sender through
 * Twilio), -CB_EPARSE for a message without a sid or a sender, or with a
 * body that is not UTF-8. Media (MMS) are not fetched: a body is read as
 * a text, media alone are EVENT_OTHER. */
int sms_api_parse_inbound(const struct sms_form *f, time_t at, struct inbound_event *ev);

/* A status callback. state is the store's (enum delivery_state): sent 1,
 * delivered 2, read 3, failed 5; queued, accepted, sending and the like
 * are SMS_IGNORED (the send's answer already said as much). */
struct sms_status {
	char sid[EVENT_ID_MAX];
	int state;
	int error_code;                /* 0 when none */
	char status[16];               /* Twilio's word */
};
int sms_api_parse_status(const struct sms_form *f, struct sms_status *st);

/* What an answer or an error code means for the outbox. */
enum sms_class {
	SMS_SENT = 0,
	SMS_BACKOFF,      /* 429, 20429, 63018, 14107: too fast, wait */
	SMS_TRANSIENT,    /* 5xx, no answer, garbage: retry with backoff */
	SMS_OPTED_OUT,    /* 21610: the number opted out at the carrier */
	SMS_UNREACHABLE,  /* 30003, 30005, 30006, 21614: the next channel */
	SMS_FAILED        /* this message only */
};

struct sms_answer {
	enum sms_class cls;
	int code;                      /* Twilio's error code, 0 when none */
	char sid[EVENT_ID_MAX];        /* SM... of a sent message */
	char message[96];              /* for the log: never the number */
	int retry_after;               /* seconds, SMS_BACKOFF */
};

enum sms_class sms_api_classify(int http_status, int code);
/* Reads POST Messages.json's answer (HTTP status, JSON body, Retry-After
 * or -1). A 2xx without a sid is transient. */
void sms_api_parse_answer(int http_status, const char *body, size_t len, long retry_after, struct sms_answer *a);

/* The form of a send: To, From or MessagingServiceSid, Body,
 * StatusCallback, and ValidityPeriod when validity > 0 (capped at
 * SMS_VALIDITY_MAX), each value escaped by libcurl. Caller frees *out. */
struct sms_send {
	const char *to;
	const char *from;              /* or "" */
	const char *messaging_service_sid;  /* or "" */
	const char *body;
	size_t body_len;
	const char *status_callback;   /* or "" */
	long validity;                 /* seconds, 0: none */
};
int sms_api_build_send(const struct sms_send *s, char **out, size_t *len);

/* ---- encoding and length ------------------------------------------------ */

enum sms_encoding { SMS_GSM7 = 0, SMS_UCS2 };

/* Segments of text as a phone receives it: GSM-7 holds 160 septets in
 * one message and 153 in each part of a longer one, a character of the
 * extension table (€ [ ] { } | ^ ~ \ and form feed) takes two and is
 * never split; any other character makes the whole text UCS-2, 70 UTF-16
 * units in one and 67 a part, a surrogate pair never split. *enc and
 * *units (septets or UTF-16 units) may be NULL. An empty text is one
 * segment; text that is not UTF-8 is 0. */
int sms_api_segments(const char *text, size_t len, enum sms_encoding *enc, size_t *units);
/* Whether the code point is in GSM-7 (basic or extension table). */
int sms_api_is_gsm7(int32_t cp);
/* Replaces what GSM-7 lacks with its nearest letters (ê→e, ç→c, œ→oe,
 * curly quotes→straight, dashes→-, … → ...), by a small table and then
 * by taking off accents (utf8proc), keeping a character it cannot
 * replace. *out is a new string (caller frees). */
int sms_api_transliterate(const char *text, size_t len, char **out, size_t *outlen);

/* ---- numbers -------------------------------------------------------------- */

/* A number as a counsellor types it, normalised to E.164 into out: "+"
 * and 8 to 15 digits (spaces, dots, dashes, slashes and one pair of
 * brackets between digits allowed), "00" for "+", or a Belgian national
 * number ("0" and 8 digits, "04" and 8 digits for a mobile), which
 * becomes +32. -CB_EINVAL for anything else, a number without a country
 * or with letters in it. */
int sms_api_normalize_number(const char *typed, char *out, size_t cap);
/* Whether s is E.164 as stored: "+", a first digit 1-9, 8 to 15 digits. */
int sms_api_is_e164(const char *s);

#endif
