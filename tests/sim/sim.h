/* The simulators' generic core: what every fake gateway keeps whatever its
 * protocol. A front end (tgsim: the Telegram Bot API; wasim: the WhatsApp
 * Cloud API) embeds a struct sim, adds its own state, and speaks its own
 * API over the same stores. Everything is bounded: the oldest entries go
 * first when a store is full.
 *
 * sim_store.c  chats, sent messages, files, faults, rate checks, the clock
 * sim_util.c   JSON answers, integers, paths and queries, the port file,
 *              the cross-site check of the control API
 * sim_wait.c   GET /control/wait: a request held until a condition holds
 * sim_page.c   /chat: a self-contained HTML chat page for the demo */
#ifndef SIM_H
#define SIM_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "bot/casebot.h"
#include "bot/net/http_server.h"

#define SIM_MAX_SENT 10000
#define SIM_MAX_SENT_BYTES (64u * 1024 * 1024)
#define SIM_MAX_CHATS 10000
#define SIM_MAX_FILES 2000
#define SIM_MAX_FILE_BYTES (64u * 1024 * 1024) /* uploaded contents kept */
#define SIM_MAX_FAULTS 16
#define SIM_MAX_WAITERS 64                     /* GET /control/wait held at once */
#define SIM_WAIT_MAX_MS 60000
#define SIM_GLOBAL_MAX 1000                    /* the largest global rate, per second */
#define SIM_METHOD_MAX 40
#define SIM_USER_ID_MAX 72                     /* a business-scoped user id */

struct sim;
struct sim_waiter;

/* One private chat (one recipient) the simulator knows. */
struct sim_chat {
	int64_t id;                /* Telegram chat id; WhatsApp: the wa_id's digits */
	char first_name[65];
	char user_id[SIM_USER_ID_MAX]; /* WhatsApp's BSUID, "" when none */
	int blocked;
	int unreachable;           /* WhatsApp: not a WhatsApp user any more */
	int64_t last_message_id;   /* message ids are per chat, shared by both sides */
	uint64_t last_send_ms;     /* monotonic time of the last accepted send */
	int has_sent;
	int64_t last_inbound_ms;   /* simulated clock, 0: never wrote */
};

struct sim_sent {
	int64_t chat_id;
	int64_t message_id;
	char mid[128];             /* the id as the API gave it ("" when numeric) */
	char kind[16];             /* "" for a text; "template", "interactive"... */
	int64_t reply_to;          /* 0: not a reply */
	int64_t at_ms;             /* wall clock, ms since the epoch */
	char *text;
	cJSON *markup;             /* NULL: none */
	size_t bytes;
};

enum sim_gen { GEN_NONE = 0, GEN_JPEG, GEN_PDF, GEN_EXE, GEN_OGG, GEN_BIN };

struct sim_file {
	char file_id[48];
	char unique_id[24];
	char path[64];             /* "" when over the download limit */
	char mime[80];             /* "" when the front end does not keep it */
	int64_t size;
	int64_t created_ms;        /* simulated clock */
	enum sim_gen gen;          /* contents generated on download... */
	unsigned char *data;       /* ...or kept (uploads) */
};

enum sim_fault_kind {
	FAULT_429 = 1, FAULT_500, FAULT_SLOW, FAULT_DROP, FAULT_GARBAGE, FAULT_EMPTY, FAULT_400
};

struct sim_fault {
	enum sim_fault_kind kind;
	int left;
	char method[SIM_METHOD_MAX];     /* "" matches every method */
	int retry_after;
	int delay_ms;
	int html;                         /* 500 with an HTML body */
};

/* A ring of fixed-size items; the oldest is dropped by the caller. */
struct sim_ring {
	unsigned char *buf;
	size_t esz, cap, head, n;
};

/* Counts what a wait may wait for: "sent" is the core's; a front end
 * answers its own names and -1 for a name it does not know. */
typedef long long (*sim_wait_count_fn)(struct sim *sim, const char *what, int64_t chat);

struct sim {
	uv_loop_t *loop;
	struct http_server *http;
	int enforce, closing;

	/* Rate checks: one send per chat_gap_ms to a chat, global_per_sec in
	 * any second; the tolerances forgive a client's timer jitter. */
	int chat_gap_ms, global_per_sec;
	int chat_tol_ms, global_tol_ms;
	uint64_t global_times[SIM_GLOBAL_MAX];  /* last accepted sends, ring */
	size_t nglobal, global_head;

	int64_t clock_offset_ms;            /* the simulated clock runs ahead */

	struct sim_chat *chats;
	size_t nchats;
	struct sim_ring sent;               /* struct sim_sent */
	size_t sent_bytes;
	struct sim_ring files;              /* struct sim_file */
	size_t file_bytes;
	uint64_t next_file;
	struct sim_fault faults[SIM_MAX_FAULTS];

	struct sim_waiter *waiters;         /* GET /control/wait, held */
	sim_wait_count_fn wait_count;       /* the front end's conditions, may be NULL */
};

/* sim_store.c */
int sim_store_init(struct sim *sim);
void sim_store_free(struct sim *sim);
/* Forgets chats, sent messages, files, faults and the rate history; ids
 * keep growing. */
void sim_store_reset(struct sim *sim);
uint64_t sim_now_ms(void);           /* monotonic */
int64_t sim_wall_ms(void);           /* ms since the epoch */
int64_t sim_clock_ms(const struct sim *sim);  /* the wall clock plus the offset */

int sim_ring_init(struct sim_ring *r, size_t esz, size_t cap);
void *sim_ring_at(const struct sim_ring *r, size_t i);
void *sim_ring_push(struct sim_ring *r);   /* a zeroed slot; the caller made room */
void sim_ring_pop(struct sim_ring *r);

struct sim_chat *sim_chat_find(struct sim *sim, int64_t id);
/* Finds or creates; NULL when the table is full. first_name may be NULL. */
struct sim_chat *sim_chat_get(struct sim *sim, int64_t id, const char *first_name);
struct sim_chat *sim_chat_by_user_id(struct sim *sim, const char *user_id);

/* Takes text and markup; *out (may be NULL) is the stored entry, valid
 * until the next push. */
int sim_sent_push(struct sim *sim, int64_t chat_id, int64_t message_id,
                  int64_t reply_to, char *text, cJSON *markup, struct sim_sent **out);
const struct sim_sent *sim_sent_find(struct sim *sim, int64_t chat_id, int64_t message_id);
const struct sim_sent *sim_sent_by_mid(struct sim *sim, const char *mid);
int sim_sent_count(const struct sim *sim, int64_t chat);

/* Registers a file; data (may be NULL: generated) is copied. Fills *out
 * with a pointer valid until the next file registration. */
int sim_file_add(struct sim *sim, const char *dir, const char *ext,
                 int64_t size, enum sim_gen gen, const void *data,
                 struct sim_file **out);
struct sim_file *sim_file_by_id(struct sim *sim, const char *file_id);
struct sim_file *sim_file_by_path(struct sim *sim, const char *path);
/* The file's bytes in a new buffer (caller frees): kept ones, or generated
 * ones, a real header (libmagic recognises it) and padding. */
unsigned char *sim_file_bytes(const struct sim_file *f);

int sim_fault_add(struct sim *sim, const struct sim_fault *f);
void sim_fault_clear(struct sim *sim);
/* Takes one use of the first fault matching method; copies it to *out.
 * A fault for every method ("") never reaches a download (method "file");
 * "empty" only a method for which empty_ok says it means something. */
int sim_fault_take(struct sim *sim, const char *method, int empty_ok,
                   struct sim_fault *out);
int sim_faults_left(const struct sim *sim);
/* Parses a POST /control/fault body into *f; 0, or -CB_EINVAL with *why. */
int sim_fault_parse(const cJSON *in, struct sim_fault *f, int *clear, const char **why);

/* Whether a send to c at now (monotonic ms) breaks the per-chat gap or
 * the global rate; *wait_ms is how long until it would not. */
void sim_rate_check(const struct sim *sim, const struct sim_chat *c,
                    uint64_t now, int *chat, int *global, uint64_t *wait_ms);
/* Records an accepted send. */
void sim_rate_record(struct sim *sim, struct sim_chat *c, uint64_t now);

/* sim_util.c */
int sim_reply_json(struct http_server_req *req, int status, cJSON *root);
int sim_json_i64(const cJSON *item, int64_t *out);
/* The path without its query, into buf. */
int sim_path(const char *path, char *buf, size_t cap);
/* A query parameter's decoded value, or -CB_ENOENT. */
int sim_query(const char *path, const char *name, char *buf, size_t cap);
int sim_query_i64(const char *path, const char *name, int64_t def, int64_t *out);
/* Writes the port through a temporary name and a rename, so a reader
 * never sees half a number. */
int sim_write_port_file(const char *path, int port);
/* A browser's POST from another site (only this server's own page may
 * drive the control API). */
int sim_cross_site(struct sim *sim, struct http_server_req *req);

/* sim_control.c: one request to /control/NAME, as a front end's handler
 * for NAME gets it. */
struct sim_ctl {
	struct sim *core;
	void *ctx;                   /* the front end's own (struct tgsim, struct wasim) */
	struct http_server_req *req;
	const cJSON *in;             /* the JSON object a POST carried; NULL for a GET */
	const char *name;            /* "message", "button"... for the log */
};
struct sim_route {
	const char *name;
	int post;                    /* POST, or else GET */
	void (*fn)(struct sim_ctl *c);
};
/* Answers the request with root (taken) and logs it. */
void sim_ctl_reply(struct sim_ctl *c, int status, cJSON *root);
/* Answers {error: msg}. */
void sim_ctl_error(struct sim_ctl *c, int status, const char *msg);
/* A string member of the body, or def. */
const char *sim_ctl_str(const struct sim_ctl *c, const char *name, const char *def);
/* An integer member of the body, def when absent or null; -CB_EINVAL when
 * it is not an integer. */
int sim_ctl_i64(const struct sim_ctl *c, const char *name, int64_t def, int64_t *out);
/* The prologue every front end's control handler shares: 503 while the
 * simulator closes, 404 outside /control/, 403 for a cross-site POST, 400
 * for a body that is not a JSON object; then the route named by the path,
 * 405 for the wrong method and 404 for no route. ctx reaches the handler
 * as c->ctx. */
void sim_control_dispatch(struct sim *core, struct http_server_req *req, const struct sim_route *routes, size_t n,
			  void *ctx);

/* sim_wait.c: GET /control/wait?what=W&chat_id=N&count=K&timeout_ms=T
 * answers {count} as soon as count(W, N) >= K, or after T ms with the
 * count then. */
void sim_wait_handle(struct sim *sim, struct http_server_req *req);
/* Answers the waits whose condition holds now (after anything counted). */
void sim_wait_wake(struct sim *sim);
/* Answers every wait and closes their timers. */
void sim_wait_shutdown(struct sim *sim);

/* sim_page.c: GET /chat. The page talks to the control API with the
 * names every front end accepts: POST message {chat_id, text,
 * first_name}, button {chat_id, data, message_id}, photo {chat_id, bytes},
 * document {chat_id, kind, bytes}, GET sent?chat_id=N; a sent message's
 * buttons are its "buttons" [{title, data}] or Telegram's
 * reply_markup.inline_keyboard. */
struct sim_page {
	const char *title;         /* "tgsim: family phone" */
	const char *chat_label;    /* "Chat id", "Phone (wa_id)" */
	const char *chat_default;  /* digits */
	const char *colour;        /* the header, CSS colour */
};
void sim_page_handle(struct http_server_req *req, const struct sim_page *page);

#endif
