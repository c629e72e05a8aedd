/* tgsim: a loopback simulator of the Telegram Bot API for the integration
 * tests and the demo. One libuv loop, H2O through bot/net/http_server.h, cJSON
 * for every body. Everything it keeps is bounded: the oldest entries go
 * first when a store is full.
 *
 * It is a front end on the simulators' core (tests/sim/sim.h: chats, sent
 * messages, files, faults, rate checks, waits, the /chat page).
 *
 * tgsim.c        options, start-up, signals, routes, shutdown
 * tgsim_store.c  what only Telegram has: the update queue, button presses
 * tgsim_api.c    /bot<TOKEN>/<method> and /file/bot<TOKEN>/<path>
 * tgsim_control.c /control/...: inject updates, read what the bot sent */
#ifndef TGSIM_H
#define TGSIM_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "bot/casebot.h"
#include "bot/net/http_server.h"
#include "tests/sim/sim.h"

#define TGSIM_TOKEN_MAX 128
#define TGSIM_BODY_MAX (8u * 1024 * 1024)      /* request bodies (base64 documents) */
#define TGSIM_MAX_UPDATES 10000
#define TGSIM_MAX_UPDATE_BYTES (64u * 1024 * 1024)
#define TGSIM_MAX_CALLBACKS 10000
#define TGSIM_MAX_HELD 256                     /* requests answered later */
#define TGSIM_RESPONSE_MAX (4u * 1024 * 1024)  /* getUpdates answer, like the real API */
#define TGSIM_GLOBAL_PER_SEC 30
#define TGSIM_CHAT_GAP_MS 1000
#define TGSIM_POLL_TIMEOUT_MAX 50              /* seconds; larger values are clamped */
#define TGSIM_DROP_HOLD_MS 150000              /* longer than any client timeout */
#define TGSIM_FIRST_UPDATE_ID 100000001     /* the lowest a run may start at */
#define TGSIM_METHOD_MAX SIM_METHOD_MAX
#define TGSIM_MAX_COMMAND_SETS 128             /* setMyCommands: scope x language */
#define TGSIM_MAX_DESCRIPTIONS 16              /* setMyDescription: by language */

struct tgsim_held;

struct tgsim_update {
	int64_t id;                /* update_id, or an internal one for a raw non-object */
	cJSON *json;
	size_t bytes;              /* printed size, for the byte cap */
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

struct tgsim_stats {
	long long breaches_chat, breaches_global;
	long long sent, rejected, get_updates, callbacks_answered;
	long long files_downloaded, files_uploaded, conflicts, api_calls, updates_dropped;
	long long bot_settings;          /* accepted setMyCommands and setMyDescription */
};

struct tgsim {
	struct sim core;                    /* first: the core's wait callback casts back */
	char token[TGSIM_TOKEN_MAX];
	int64_t bot_id;

	struct sim_ring updates;            /* struct tgsim_update, oldest first */
	size_t update_bytes;
	int64_t first_update_id;            /* where this run's ids started */
	int strict_offset;                  /* an offset above every id hides them all */
	int64_t next_update_id;
	int64_t confirmed_offset;
	char allowed[16][32];               /* allowed_updates; nallowed < 0: never set */
	int nallowed;
	struct sim_ring callbacks;          /* struct tgsim_callback */
	uint64_t next_callback;
	struct tgsim_stats st;

	struct tgsim_command_set command_sets[TGSIM_MAX_COMMAND_SETS];
	size_t ncommand_sets;
	struct tgsim_description descriptions[TGSIM_MAX_DESCRIPTIONS];
	size_t ndescriptions;

	struct tgsim_held *held;            /* requests answered later */
	int nheld;
	struct tgsim_held *poll;            /* the one long poll, if any */
};

/* tgsim_store.c */
int tgsim_store_init(struct tgsim *sim);
void tgsim_store_free(struct tgsim *sim);
void tgsim_store_reset(struct tgsim *sim);

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

/* A new callback query id into buf (24 bytes). */
int tgsim_callback_new(struct tgsim *sim, char *buf, size_t cap);
/* 0 when the id was known and unanswered (it is answered now). */
int tgsim_callback_answer(struct tgsim *sim, const char *id);

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

/* tgsim.c: the bot as a User object; a private chat as a Chat object. */
cJSON *tgsim_bot_json(const struct tgsim *sim);
cJSON *tgsim_chat_json(const struct sim_chat *c);

#endif
