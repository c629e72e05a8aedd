/* tgsim: a loopback simulator of the Telegram Bot API for the integration
 * tests and the demo. One libuv loop, H2O through bot/net/http_server.h, cJSON
 * for every body. Everything it keeps is bounded: the oldest entries go
 * first when a store is full.
 *
 * tgsim.c        options, start-up, signals, routes, shutdown
 * tgsim_store.c  the state: chats, updates, sent messages, files, button
 *                presses, faults, rate-limit tracking, counters
 * tgsim_api.c    /bot<TOKEN>/<method> and /file/bot<TOKEN>/<path>
 * tgsim_control.c /control/...: inject updates, read what the bot sent
 * tgsim_page.c   /chat: a self-contained HTML chat page for the demo */
#ifndef TGSIM_H
#define TGSIM_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "bot/casebot.h"
#include "bot/net/http_server.h"

#define TGSIM_TOKEN_MAX 128
#define TGSIM_BODY_MAX (8u * 1024 * 1024)      /* request bodies (base64 documents) */
#define TGSIM_MAX_UPDATES 10000
#define TGSIM_MAX_UPDATE_BYTES (64u * 1024 * 1024)
#define TGSIM_MAX_SENT 10000
#define TGSIM_MAX_SENT_BYTES (64u * 1024 * 1024)
#define TGSIM_MAX_CHATS 10000
#define TGSIM_MAX_CALLBACKS 10000
#define TGSIM_MAX_FILES 2000
#define TGSIM_MAX_FILE_BYTES (64u * 1024 * 1024) /* uploaded contents kept */
#define TGSIM_MAX_FAULTS 16
#define TGSIM_MAX_HELD 256                     /* requests answered later */
#define TGSIM_MAX_WAITERS 64                   /* GET /control/wait held at once */
#define TGSIM_WAIT_MAX_MS 60000
#define TGSIM_RESPONSE_MAX (4u * 1024 * 1024)  /* getUpdates answer, like the real API */
#define TGSIM_GLOBAL_PER_SEC 30
#define TGSIM_CHAT_GAP_MS 1000
#define TGSIM_POLL_TIMEOUT_MAX 50              /* seconds; larger values are clamped */
#define TGSIM_DROP_HOLD_MS 150000              /* longer than any client timeout */
#define TGSIM_FIRST_UPDATE_ID 100000001     /* the lowest a run may start at */
#define TGSIM_METHOD_MAX 40
#define TGSIM_MAX_COMMAND_SETS 128             /* setMyCommands: scope x language */
#define TGSIM_MAX_DESCRIPTIONS 16              /* setMyDescription: by language */

struct tgsim_held;
struct tgsim_waiter;

/* One private chat the simulator knows. */
struct tgsim_chat {
	int64_t id;
	char first_name[65];
	int blocked;
	int64_t last_message_id;   /* message ids are per chat, shared by both sides */
	uint64_t last_send_ms;     /* monotonic time of the last accepted sendMessage */
	int has_sent;
};

struct tgsim_update {
	int64_t id;                /* update_id, or an internal one for a raw non-object */
	cJSON *json;
	size_t bytes;              /* printed size, for the byte cap */
};

struct tgsim_sent {
	int64_t chat_id;
	int64_t message_id;
	int64_t reply_to;          /* 0: not a reply */
	int64_t at_ms;             /* wall clock, ms since the epoch */
	char *text;
	cJSON *markup;             /* NULL: none */
	size_t bytes;
};

enum tgsim_gen { GEN_NONE = 0, GEN_JPEG, GEN_PDF, GEN_EXE, GEN_OGG, GEN_BIN };

struct tgsim_file {
	char file_id[48];
	char unique_id[24];
	char path[64];             /* "" when over the download limit */
	int64_t size;
	enum tgsim_gen gen;        /* contents generated on download... */
	unsigned char *data;       /* ...or kept (uploads with content_base64) */
};

/* The command menu set for one scope and language (setMyCommands). */
struct tgsim_command_set {
	char scope[32];            /* BotCommandScope type */
	int64_t chat_id;           /* chat, chat_administrators, chat_member */
	int64_t user_id;           /* chat_member */
	char lang[3];              /* "" for everyone else in the scope */
	cJSON *commands;           /* the array, as set */
};

struct tgsim_description {
	char lang[3];
	char *text;
};

struct tgsim_callback {
	uint64_t seq;
	int answered;
};

enum tgsim_fault_kind {
	FAULT_429 = 1, FAULT_500, FAULT_SLOW, FAULT_DROP, FAULT_GARBAGE, FAULT_EMPTY
};

struct tgsim_fault {
	enum tgsim_fault_kind kind;
	int left;
	char method[TGSIM_METHOD_MAX];   /* "" matches every method */
	int retry_after;
	int delay_ms;
	int html;                         /* 500 with an HTML body */
};

/* A ring of fixed-size items; the oldest is dropped by the caller. */
struct tgsim_ring {
	unsigned char *buf;
	size_t esz, cap, head, n;
};

struct tgsim_stats {
	long long breaches_chat, breaches_global;
	long long sent, rejected, get_updates, callbacks_answered;
	long long files_downloaded, conflicts, api_calls, updates_dropped;
	long long bot_settings;          /* accepted setMyCommands and setMyDescription */
};

struct tgsim {
	uv_loop_t *loop;
	struct http_server *http;
	char token[TGSIM_TOKEN_MAX];
	int64_t bot_id;
	int chat_tol_ms, global_tol_ms, enforce;
	int closing;

	struct tgsim_chat *chats;
	size_t nchats;
	struct tgsim_ring updates;          /* struct tgsim_update, oldest first */
	size_t update_bytes;
	int64_t first_update_id;            /* where this run's ids started */
	int64_t next_update_id;
	int64_t confirmed_offset;
	char allowed[16][32];               /* allowed_updates; nallowed < 0: never set */
	int nallowed;
	struct tgsim_ring sent;             /* struct tgsim_sent */
	size_t sent_bytes;
	struct tgsim_ring files;            /* struct tgsim_file */
	size_t file_bytes;
	uint64_t next_file;
	struct tgsim_ring callbacks;        /* struct tgsim_callback */
	uint64_t next_callback;
	struct tgsim_fault faults[TGSIM_MAX_FAULTS];
	uint64_t global_times[TGSIM_GLOBAL_PER_SEC];  /* last accepted sends, ring */
	size_t nglobal, global_head;
	struct tgsim_stats st;

	struct tgsim_command_set command_sets[TGSIM_MAX_COMMAND_SETS];
	size_t ncommand_sets;
	struct tgsim_description descriptions[TGSIM_MAX_DESCRIPTIONS];
	size_t ndescriptions;

	struct tgsim_held *held;            /* requests answered later */
	int nheld;
	struct tgsim_held *poll;            /* the one long poll, if any */
	struct tgsim_waiter *waiters;       /* GET /control/wait, held */
};

/* tgsim_store.c */
int tgsim_store_init(struct tgsim *sim);
void tgsim_store_free(struct tgsim *sim);
void tgsim_store_reset(struct tgsim *sim);
uint64_t tgsim_now_ms(void);         /* monotonic */

void *tgsim_ring_at(const struct tgsim_ring *r, size_t i);

struct tgsim_chat *tgsim_chat_find(struct tgsim *sim, int64_t id);
/* Finds or creates; NULL when the table is full. first_name may be NULL. */
struct tgsim_chat *tgsim_chat_get(struct tgsim *sim, int64_t id, const char *first_name);

/* Queues an update and takes json. An object gets an update_id (first,
 * unless keep_id and it has one); anything else is queued as it is, for
 * parser tests. *id is the update_id, 0 when allowed_updates filtered it
 * out. The caller wakes the long poll (tgsim_api_wake). */
int tgsim_update_push(struct tgsim *sim, cJSON *json, int keep_id, int64_t *id);
/* Forgets updates below offset (offset > 0) or all but the last -offset. */
void tgsim_update_confirm(struct tgsim *sim, int64_t offset);
/* Updates >= offset (0: from the first), at most limit, as a new array of
 * references to the stored objects. */
cJSON *tgsim_update_list(struct tgsim *sim, int64_t offset, int limit, int *count);
int tgsim_update_pending(struct tgsim *sim, int64_t offset);
/* The offset getUpdates reads from. As in the real server (tdlib's TQueue),
 * an offset more than 10 past the next update id is "in the future" once any
 * update exists: the answer then starts at the oldest pending update, and
 * nothing is confirmed. A bot sees this when the server's ids restart below
 * the offset it saved. Returns 0 (from the oldest) or offset. */
int64_t tgsim_update_from(struct tgsim *sim, int64_t offset);
void tgsim_update_set_allowed(struct tgsim *sim, const cJSON *list);

/* Takes text and markup. */
int tgsim_sent_push(struct tgsim *sim, int64_t chat_id, int64_t message_id,
                    int64_t reply_to, char *text, cJSON *markup);
const struct tgsim_sent *tgsim_sent_find(struct tgsim *sim, int64_t chat_id,
                                         int64_t message_id);

/* Registers a file; data (may be NULL: generated) is copied. Fills *out
 * with a pointer valid until the next file registration. */
int tgsim_file_add(struct tgsim *sim, const char *dir, const char *ext,
                   int64_t size, enum tgsim_gen gen, const void *data,
                   struct tgsim_file **out);
struct tgsim_file *tgsim_file_by_id(struct tgsim *sim, const char *file_id);
struct tgsim_file *tgsim_file_by_path(struct tgsim *sim, const char *path);
/* The file's bytes in a new buffer (caller frees): kept ones, or generated
 * ones, a real header (libmagic recognises it) and padding. */
unsigned char *tgsim_file_bytes(const struct tgsim_file *f);

/* A new callback query id into buf (24 bytes). */
int tgsim_callback_new(struct tgsim *sim, char *buf, size_t cap);
/* 0 when the id was known and unanswered (it is answered now). */
int tgsim_callback_answer(struct tgsim *sim, const char *id);

int tgsim_fault_add(struct tgsim *sim, const struct tgsim_fault *f);
void tgsim_fault_clear(struct tgsim *sim);
/* Takes one use of the first fault matching method; copies it to *out. */
int tgsim_fault_take(struct tgsim *sim, const char *method, struct tgsim_fault *out);
int tgsim_faults_left(const struct tgsim *sim);

/* Whether a sendMessage to c at now (monotonic ms) breaks the per-chat
 * gap or the global rate; *wait_ms is how long until it would not. */
void tgsim_rate_check(const struct tgsim *sim, const struct tgsim_chat *c,
                      uint64_t now, int *chat, int *global, uint64_t *wait_ms);
/* Records an accepted send. */
void tgsim_rate_record(struct tgsim *sim, struct tgsim_chat *c, uint64_t now);

/* tgsim_api.c */
void tgsim_api_handle(struct http_server_req *req, void *arg);
void tgsim_api_file(struct http_server_req *req, void *arg);
void tgsim_api_fallback(struct http_server_req *req, void *arg);
/* Answers the long poll if updates wait for it. */
void tgsim_api_wake(struct tgsim *sim);
/* Answers every held request (503) and closes their timers. */
void tgsim_api_shutdown(struct tgsim *sim);

/* tgsim_control.c */
void tgsim_control_handle(struct http_server_req *req, void *arg);
/* Answers the waits whose condition holds now (after a send). */
void tgsim_control_wake(struct tgsim *sim);
/* Answers every wait and closes their timers. */
void tgsim_control_shutdown(struct tgsim *sim);

/* tgsim_page.c */
void tgsim_page_handle(struct http_server_req *req, void *arg);

/* Shared helpers (tgsim.c): JSON out, integers in. */
int tgsim_reply_json(struct http_server_req *req, int status, cJSON *root);
int tgsim_json_i64(const cJSON *item, int64_t *out);
/* The bot as a User object; a private chat as a Chat object. */
cJSON *tgsim_bot_json(const struct tgsim *sim);
cJSON *tgsim_chat_json(const struct tgsim_chat *c);
/* The path without its query, into buf. */
int tgsim_path(const char *path, char *buf, size_t cap);
/* A query parameter's decoded value, or -CB_ENOENT. */
int tgsim_query(const char *path, const char *name, char *buf, size_t cap);

#endif
