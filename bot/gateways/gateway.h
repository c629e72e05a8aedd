/* One interface for every messaging gateway (Telegram now; WhatsApp and SMS
 * behind the same ops later). A gateway turns its updates into inbound
 * events and stores them before acknowledging; it sends one message part at
 * a time for the outbox and reports how that went. */
#ifndef CASEBOT_GATEWAY_H
#define CASEBOT_GATEWAY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bot/compose.h"

#include <uv.h>

struct config;
struct config_section;
struct http_client;
struct http_server;
struct locales;
struct metrics;
struct store;
struct gateway;
struct hctx;

/* What a gateway is given when it is made, and all it may use: it never
 * sees the daemon. The daemon owns all of it for the gateway's life. */
struct gateway_env {
	uv_loop_t *loop;
	const struct config *cfg;
	struct store *store;
	struct locales *const *loc;        /* read through: SIGHUP replaces the catalogs */
	struct metrics *metrics;
	struct http_client *http;
	struct http_server *server;
	/* A batch of inbound events is committed: route it. */
	void (*inbound_ready)(void *arg);
	void *arg;
};

/* Message ids, chat addresses and media references are text of at most
 * this many bytes, whatever the gateway. */
#define GATEWAY_ID_MAX 128

enum gateway_outcome {
	GW_SENT = 0,
	GW_RETRY_AFTER,   /* rate limited: try again after retry_after seconds */
	GW_TRANSIENT,     /* 5xx, timeout, reset, garbage: back off and retry */
	GW_BLOCKED,       /* the user blocked the bot or is gone */
	GW_PERMANENT,     /* this message can never be sent (400) */
	GW_UNREACHABLE    /* the address cannot get messages on this gateway:
			     the chat is marked for its owner's next channel */
};

struct gateway_result {
	enum gateway_outcome outcome;
	char message_id[GATEWAY_ID_MAX];
	int retry_after;
	char reason[128];     /* for the log: never a URL or a token */
	double seconds;       /* how long the gateway took */
	/* GW_RETRY_AFTER: the limit is this chat's alone, other chats go on. */
	int chat_only;
	/* GW_SENT: the whole message went at once in another form (an
	 * approved template in place of free-form text); no part follows. */
	int whole;
	/* A failure: the staff.reason.* code staff are told; "" is gateway. */
	char why[16];
	/* No answer came in time: the gateway may have carried the send out
	 * all the same, and a retry may show it twice (at least once). */
	int timed_out;
};

typedef void (*gateway_sent_cb)(const struct gateway_result *r, void *arg);
/* A download's bytes, as they arrive; a negative return stops it. */
typedef int (*gateway_sink_fn)(const char *p, size_t n, void *arg);
typedef void (*gateway_fetched_cb)(int rc, int64_t size, void *arg);

struct gateway_part {
	const char *address;                 /* chat id or number */
	const char *text;
	size_t len;
	const struct composed_button *buttons;   /* on the last part only */
	int nbuttons;
	/* The whole message this part is from, in its reader's language;
	 * NULL for a direct send. */
	const struct composed *msg;
	enum lang lang;
	/* The gateway has a conversation window (caps.window_seconds) and
	 * the chat last wrote longer ago than that, or never. */
	int outside_window;
	/* The message is worth nothing after this (a reminder: its
	 * appointment's start); 0: no end. A gateway that can, has it
	 * dropped rather than delivered late. */
	time_t expires_at;
};

struct gateway_ops {
	const char *name;                    /* the channel kind: "telegram" */
	int (*start)(struct gateway *gw);    /* start receiving */
	void (*stop)(struct gateway *gw);    /* stop receiving; sends in flight finish */
	/* Sends one part; cb runs once, later, on the loop. */
	int (*send)(struct gateway *gw, const struct gateway_part *p, gateway_sent_cb cb, void *arg);
	/* Sends a file the gateway already holds (a family's photo, voice note
	 * or document, by its reference) to another chat; NULL when the gateway
	 * cannot. */
	int (*send_media)(struct gateway *gw, const char *address, const char *media_kind,
			  const char *media_ref, gateway_sent_cb cb, void *arg);
	/* Sends a file casebot made (a voice note) to a chat, uploaded from
	 * memory (the bytes are copied): media_kind is one of media_send's
	 * kinds, mime its type. NULL when the gateway sends no such files. */
	int (*send_file)(struct gateway *gw, const char *address, const char *media_kind, const char *mime,
			 const char *filename, const void *data, size_t len, gateway_sent_cb cb, void *arg);
	/* Replaces the text and buttons of a message it sent before (message_id
	 * as the send reported it; p->address is its chat) in place: the reader
	 * gets no new notification. An edit to what the message already shows
	 * counts as sent. Called only when caps.can_edit is set; NULL when the
	 * gateway cannot edit, and then the outbox sends a new message. */
	int (*edit)(struct gateway *gw, const char *message_id, const struct gateway_part *p, gateway_sent_cb cb,
		    void *arg);
	/* Best effort, nothing recorded: the neutral answer to an unknown chat. */
	void (*send_direct)(struct gateway *gw, const char *address, const char *text);
	/* Length in bytes of the first part of text that fits one message;
	 * *next is where the following part starts. */
	size_t (*split)(const char *text, size_t len, size_t *next);
	/* Downloads a media reference (capped), handing its bytes to sink from
	 * memory; the gateway writes nothing to disk. sink and cb get arg. */
	int (*fetch)(struct gateway *gw, const char *media_ref, gateway_sink_fn sink,
		     gateway_fetched_cb cb, void *arg);
	/* The largest file fetch can download, in bytes. fetch reports a file
	 * over it as -CB_ETOOBIG, and a file it can never get as -CB_EINVAL. */
	int64_t fetch_max;
	/* Requests in flight (polls, sends, downloads). */
	int (*busy)(const struct gateway *gw);
	void (*free)(struct gateway *gw);
};

/* What a gateway can carry, declared by the gateway when it is made (some
 * of it comes from its configuration section) and read by the core: the
 * outbox takes its rate limits from here, compose its buttons. */
struct gateway_caps {
	int buttons_max;             /* 0: choices are numbered lines in the text */
	int button_title_max;        /* bytes */
	int button_data_max;         /* bytes */
	size_t text_max;             /* bytes of UTF-8 one message holds; split() cuts */
	unsigned media_send;         /* gateway_media_bit() of the kinds it sends on */
	unsigned media_receive;      /* ... and of those it receives */
	int has_subject;             /* the first line is a subject (email) */
	int can_edit;                /* a sent message can be changed in place */
	double rate_per_chat;        /* messages per second, one chat */
	double rate_global;          /* messages per second, all chats of this gateway */
	int window_seconds;          /* free-form messages only this long after the
					person last wrote; 0: no window */
	/* Silence is no fault: the gateway is called (webhook) or never
	 * receives at all; healthz does not expect to hear from it. */
	int quiet_ok;
	/* How long a send waits for the gateway's answer: a send that timed
	 * out is tried again only after longer than this. */
	int send_timeout_ms;
};

struct gateway {
	const struct gateway_ops *ops;
	const struct gateway_env *env;
	struct gateway_caps caps;
	uint64_t last_ok_ms;      /* loop time the gateway last answered well */
	double last_latency;      /* seconds */
	/* Calls that got no usable answer (a poll or a send: no connection,
	 * a timeout, a 5xx, a refused token), in a row when last_fail_ms is
	 * after last_ok_ms; why the last one failed, for the log's words. */
	uint64_t last_fail_ms;
	int failures;
	char last_failure[64];
	/* Polls for updates that failed in a row: a send that works does not
	 * make up for updates that do not come. */
	int poll_failures;
};

/* The gateways the daemon knows, one line each in bot/gateways/gateways.c.
 * create returns NULL with err "" when the gateway is not configured (its
 * section is absent), and NULL with a one-line err on a real problem. */
struct gateway_kind {
	const char *name;            /* the channel kind stored with each chat */
	struct gateway *(*create)(const struct gateway_env *env, char *err, size_t errlen);
	/* The longest text one message holds, in the gateway's own measure
	 * (Telegram: UTF-16 units), and that measure; NULL: bytes. Read by
	 * handlers that refuse a text rather than cut it, also when the
	 * gateway is not running in this process (the CLI). */
	size_t text_max;
	size_t (*text_len)(const char *text, size_t len);
	/* Its configuration section: keys, defaults, checks (bot/config.h). */
	const struct config_section *section;
};

#define GATEWAY_MAX 8

extern const struct gateway_kind gateway_kinds[];
extern const size_t gateway_nkinds;

/* The bit of a media kind (photo, document, voice, audio, video,
 * video_note, sticker, calendar) in gateway_caps.media_send and
 * media_receive; 0 for a kind no gateway knows. A calendar is a document
 * of type text/calendar: some gateways send documents, but not that one. */
#define GATEWAY_MEDIA_ALL 0xffu
unsigned gateway_media_bit(const char *kind);

/* The table's line for a channel kind; NULL when there is none. */
const struct gateway_kind *gateway_kind_find(const char *name);

/* The running gateway of a channel kind among n; NULL when none is. */
struct gateway *gateway_find(struct gateway *const *gateways, int n, const char *kind);

/* A handler context for this moment from what env holds: its settings,
 * store and current catalogs, on the one clock a test build can pin. The
 * actor is "bot". */
void gateway_hctx(const struct gateway_env *env, struct hctx *h);

/* A call of the gateway got no usable answer, at now_ms (loop time): why
 * says why, in a few words with no address, URL or token.
 * gateway_answered: it did answer (a refusal too: the gateway is there). */
void gateway_failed(struct gateway *gw, uint64_t now_ms, const char *why);
void gateway_answered(struct gateway *gw, uint64_t now_ms);
/* A poll for updates failed: counted in /metrics, and a failure;
 * gateway_polled: one worked. */
void gateway_poll_failed(struct gateway *gw, const char *why);
void gateway_polled(struct gateway *gw);

/* Readiness: the gateway answered recently. One that has to speak (it
 * polls: caps.quiet_ok is 0) has answered within GATEWAY_SILENT_MS, or
 * the daemon started less long ago (now_ms and started_ms are loop
 * times), and its last
 * GATEWAY_READY_FAILURES polls did not all fail; any gateway has not
 * failed that many calls in a row since it last answered. A gateway with
 * nothing to do stays ready. 1 when ready; else 0 with one line in why
 * (its name, no secret). */
#define GATEWAY_SILENT_MS 120000
#define GATEWAY_READY_FAILURES 3
int gateway_ready(const struct gateway *gw, uint64_t now_ms, uint64_t started_ms, char *why, size_t cap);

/* The wait before the next try of a failing poll, with jitter, between
 * min_ms and max_ms: *step (0 after a success) doubles each time. */
uint64_t gateway_backoff_ms(uint64_t *step, uint64_t min_ms, uint64_t max_ms);

#endif
