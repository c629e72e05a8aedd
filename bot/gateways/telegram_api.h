/* The Telegram Bot API without I/O: updates and responses in, request bodies
 * and URLs out. bot/gateways/telegram.c does the HTTP around it.
 *
 * Only private chats are read: casebot never talks in groups or channels. */
#ifndef CASEBOT_TELEGRAM_API_H
#define CASEBOT_TELEGRAM_API_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bot/event.h"

/* telegram_api_parse_update(): a well-formed update casebot does not read. */
#define TELEGRAM_IGNORED 1

/* Flags telegram_api_parse_update() reports beside the event. */
#define TELEGRAM_F_EDITED    0x1u /* edited_message: a new version of ev->message_id */
#define TELEGRAM_F_TRUNCATED 0x2u /* text or caption cut to EVENT_TEXT_MAX-1 bytes */
#define TELEGRAM_F_TOO_BIG   0x4u /* the media is over the download cap */

#define TELEGRAM_TEXT_MAX_UNITS 4096       /* sendMessage text, UTF-16 units */
#define TELEGRAM_ANSWER_MAX_UNITS 200      /* answerCallbackQuery text */
#define TELEGRAM_CALLBACK_DATA_MAX 64      /* callback_data, bytes */
#define TELEGRAM_BUTTONS_MAX 100           /* per inline keyboard */
#define TELEGRAM_ROW_BUTTONS_MAX 8         /* per keyboard row */
#define TELEGRAM_DOWNLOAD_MAX (20 * 1024 * 1024) /* getFile limit of the cloud API */
#define TELEGRAM_COMMANDS_MAX 100          /* setMyCommands, per scope and language */
#define TELEGRAM_COMMAND_MAX 32            /* a command's name: a-z 0-9 _ */
#define TELEGRAM_COMMAND_ABOUT_MAX 256     /* a command's description, characters */
#define TELEGRAM_DESCRIPTION_MAX 512       /* setMyDescription, characters */
#define TELEGRAM_BODY_MAX (32 * 1024 * 1024)     /* largest response we parse */
#define TELEGRAM_POLL_LIMIT 100
#define TELEGRAM_POLL_TIMEOUT 30           /* seconds of long polling */
#define TELEGRAM_POLL_TIMEOUT_MAX 60
#define TELEGRAM_RETRY_AFTER_DEFAULT 5     /* 429 without parameters.retry_after */
#define TELEGRAM_RETRY_AFTER_MAX 86400     /* a flood wait longer than a day is capped */

/* Fills ev from one Update object. media_cap is the largest file casebot will
 * download (0: TELEGRAM_DOWNLOAD_MAX); flags may be NULL.
 * Returns 0 for a usable event, TELEGRAM_IGNORED for a kind casebot does not
 * read (other update kinds, groups, channels, an update with no known field),
 * -CB_EPARSE for a malformed update, -CB_EINVAL for one with a text that
 * is not valid UTF-8 (a string cJSON passed through as it came). Whatever
 * it returns, ev->channel is set and
 * ev->external_id holds the update_id whenever it was readable.
 * ev->at is 0 when Telegram gives no time (callback_query): the caller stamps
 * its receive time. For an edited message ev->at is the edit time, ev->edited
 * is set and ev->original_at is when the first version was sent. */
int telegram_api_parse_update(const cJSON *update, int64_t media_cap,
                              struct inbound_event *ev, unsigned *flags);

/* How a Bot API call went, for the outbox and the poller. */
enum telegram_status {
	TELEGRAM_OK = 0,
	TELEGRAM_RETRY_AFTER,  /* 429: wait retry_after seconds, then resend */
	TELEGRAM_TRANSIENT,    /* 5xx, 409 or an unreadable body: back off, resend */
	TELEGRAM_BLOCKED,      /* 403, or the chat/user is gone: stop writing to it */
	TELEGRAM_PERMANENT,    /* other 4xx: this request will never succeed */
	TELEGRAM_UNAUTHORIZED  /* 401/404: the token (or method) is wrong; stop the gateway */
};

struct telegram_result {
	enum telegram_status status;
	int error_code;                /* Telegram's error_code, else the HTTP status */
	int retry_after;               /* seconds, set for TELEGRAM_RETRY_AFTER */
	char description[256];         /* Telegram's description, for the log */
	int64_t message_id;            /* sendMessage: result.message_id, else 0 */
	char file_path[EVENT_REF_MAX]; /* getFile: result.file_path, else "" */
	int64_t file_size;             /* getFile: result.file_size, else 0 */
};

/* Classifies a Bot API response. Returns 0 when body is a Bot API response
 * (ok true or false: read r->status), -CB_EPARSE when it is not (r->status is
 * then TELEGRAM_TRANSIENT). Timeouts and connection errors never reach here. */
int telegram_api_parse_result(const char *body, size_t len, int http_status,
                              struct telegram_result *r);

const char *telegram_api_status_name(enum telegram_status s);

/* Called once per update, in order. rc is 0 (ev is usable), TELEGRAM_IGNORED or
 * -CB_EPARSE. update is the borrowed JSON of this update, valid only during the
 * call (cJSON_PrintUnformatted it to keep the raw text). A negative return
 * stops parsing and is returned by telegram_api_parse_updates(). */
typedef int (*telegram_update_fn)(void *arg, int rc, const struct inbound_event *ev,
                                  unsigned flags, const cJSON *update);

struct telegram_updates {
	int64_t media_cap;             /* in: as for telegram_api_parse_update() */
	telegram_update_fn fn;         /* in: may be NULL to only count */
	void *arg;                     /* in */
	int64_t max_update_id;         /* in/out: raised to the highest update_id
	                                  seen (ignored and malformed ones too),
	                                  never lowered; start it at offset - 1 */
	unsigned usable, ignored, malformed; /* out */
	struct telegram_result result; /* out: how the getUpdates call went */
};

/* Parses a getUpdates response. Returns 0 when the result array was walked,
 * -CB_EGATEWAY when Telegram answered ok:false (u->result says why),
 * -CB_EPARSE when the body is not a getUpdates response, or the callback's
 * negative code (max_update_id then covers only the updates before the one
 * that failed). A malformed update never stops the walk. */
int telegram_api_parse_updates(const char *body, size_t len, int http_status,
                               struct telegram_updates *u);

/* One inline keyboard button. Buttons with the same row number share a line;
 * row numbers must not decrease along the array. */
struct telegram_button {
	const char *text;   /* the label */
	const char *data;   /* callback_data, 1..64 bytes */
	unsigned row;
};

struct telegram_message {
	int64_t chat_id;
	const char *text;                      /* UTF-8, 1..4096 UTF-16 units, not blank */
	const struct telegram_button *buttons; /* may be NULL when nbuttons is 0 */
	size_t nbuttons;
	int64_t reply_to_message_id;           /* 0: not a reply */
};

/* Request bodies. On success *json is a malloc'd string the caller frees with
 * free(); on failure *json is NULL and the return is -CB_EINVAL (missing,
 * empty or invalid UTF-8), -CB_ETOOBIG (over a Telegram limit) or -CB_ENOMEM.
 * No parse_mode is ever set: text is sent as typed. */
int telegram_api_build_send_message(const struct telegram_message *m, char **json);
/* editMessageText: the text and buttons of message_id in m->chat_id become
 * m's (m->reply_to_message_id must be 0); no buttons leaves an empty
 * keyboard. Errors as for sendMessage. */
int telegram_api_build_edit_message_text(const struct telegram_message *m, int64_t message_id, char **json);
int telegram_api_build_answer_callback(const char *callback_id, const char *text,
                                       char **json);
int telegram_api_build_get_updates(int64_t offset, int timeout, char **json);

/* One entry of the bot's command menu. */
struct telegram_command {
	const char *command;       /* 1..32 of a-z 0-9 _, no slash */
	const char *description;   /* 1..256 characters */
};

/* 1 when name may be a command. */
int telegram_api_command_ok(const char *name);
/* setMyCommands for scope "all_private_chats" (chat_id unused) or "chat"
 * (that chat), for users whose Telegram speaks language_code (two letters
 * a-z), or for everyone else in the scope when language_code is "". */
int telegram_api_build_set_commands(const struct telegram_command *c, size_t n, const char *scope,
                                    int64_t chat_id, const char *language_code, char **json);
/* setMyDescription (0..512 characters), by language as above. */
int telegram_api_build_set_description(const char *description, const char *language_code,
                                       char **json);
int telegram_api_build_get_file(const char *file_id, char **json);

/* UTF-16 code units of len bytes of UTF-8, as Telegram counts text length
 * (a character outside the BMP counts 2; an invalid byte counts 1). */
size_t telegram_api_utf16_len(const char *s, size_t len);

/* Returns the byte length of the first part of text (len bytes) that fits in
 * max_units UTF-16 units, never cutting a UTF-8 sequence, cutting at a newline,
 * else a space, in the second half of the window, else at the last character
 * that fits. *next (may be NULL) is where the following part starts: the
 * newline or space cut at belongs to no part. Loop until len is consumed;
 * *next > 0 whenever len > 0, so the loop always ends. */
size_t telegram_api_split(const char *text, size_t len, size_t max_units, size_t *next);

/* "<api_base>/bot<token>/<method>" and "<api_base>/file/bot<token>/<file_path>"
 * into buf. These URLs carry the token: never log them. Returns -CB_EINVAL for
 * a malformed token or method, a file_path that is empty, absolute, contains
 * ".." or a character outside [A-Za-z0-9._~/-]; -CB_ETOOBIG (buf emptied) when
 * the URL does not fit. */
int telegram_api_method_url(char *buf, size_t cap, const char *api_base,
                            const char *token, const char *method);
int telegram_api_file_url(char *buf, size_t cap, const char *api_base,
                          const char *token, const char *file_path);

#endif
