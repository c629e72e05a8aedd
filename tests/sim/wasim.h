/* wasim: a loopback simulator of the WhatsApp Cloud API (Meta's Graph API)
 * for the integration tests and the demo: a front end on the simulators'
 * core (tests/sim/sim.h). It answers the Graph API as Meta does, enforces
 * the 24-hour window, templates approved per language, the pair rate limit
 * and the throughput, and POSTs signed webhooks to the daemon, retried
 * when the answer is not 200, with statuses out of order and sometimes
 * twice.
 *
 * wasim.c         options, start-up, routes, shutdown (the command line is
 *                 documented at its top)
 * wasim_api.c     /{version}/{phone_number_id}/messages and /media,
 *                 /{version}/{media_id}, the media download URL
 * wasim_hook.c    webhook payloads, signatures, deliveries and retries,
 *                 statuses, the verification handshake
 * wasim_control.c /control/...: inject what a family does, read what the
 *                 daemon sent, age a chat, forge and replay webhooks */
#ifndef WASIM_H
#define WASIM_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "bot/casebot.h"
#include "bot/net/http_client.h"
#include "bot/net/http_server.h"
#include "tests/sim/sim.h"

#define WASIM_TOKEN_MAX 256
#define WASIM_SECRET_MAX 256
#define WASIM_URL_MAX 1024
#define WASIM_ID_MAX 64                          /* phone_number_id, media ids */
#define WASIM_WAMID_MAX 128
#define WASIM_BODY_MAX (32u * 1024 * 1024)       /* uploads */
#define WASIM_TEXT_MAX 4096                      /* characters of a text body */
#define WASIM_INTERACTIVE_BODY_MAX 1024
#define WASIM_BUTTONS_MAX 3
#define WASIM_BUTTON_TITLE_MAX 20
#define WASIM_LIST_ROWS_MAX 10
#define WASIM_ROW_TITLE_MAX 24
#define WASIM_ROW_DESC_MAX 72
#define WASIM_CAPTION_MAX 1024
#define WASIM_PAIR_GAP_MS 6000                   /* one message per 6 s to a user */
#define WASIM_MPS_DEFAULT 80                     /* messages per second, a number */
#define WASIM_WINDOW_MS (24LL * 3600 * 1000)
#define WASIM_MEDIA_URL_MS (5LL * 60 * 1000)     /* a media URL lives 5 minutes */
#define WASIM_MAX_TEMPLATES 128
#define WASIM_TEMPLATE_NAME_MAX 512
#define WASIM_MAX_HOOKS 4096                     /* webhook bodies kept, for replay */
#define WASIM_MAX_HOOK_BYTES (64u * 1024 * 1024)
#define WASIM_HOOK_INFLIGHT 4                    /* deliveries under way at once */
#define WASIM_HOOK_TIMEOUT_MS 20000              /* Meta waits about 20 s */

/* An approved template in one language. */
struct wasim_template {
	char name[WASIM_TEMPLATE_NAME_MAX];
	char lang[16];
	int params;                /* body parameters {{1}}..{{n}} */
	char category[16];         /* utility, marketing, authentication */
};

enum wasim_hook_state { HOOK_PENDING = 0, HOOK_INFLIGHT, HOOK_DELIVERED, HOOK_GAVE_UP };

/* One webhook POST: its exact bytes, signed once, posted until the daemon
 * answers 200 or the attempts run out. */
struct wasim_hook {
	uint64_t seq;              /* 1, 2, ... for this run */
	char kind[12];             /* "message", "status", "forged", "replay" */
	char ref[WASIM_WAMID_MAX]; /* the message id it carries */
	char status[12];           /* a status hook: sent, delivered, read, failed */
	char *body;
	size_t len;
	char signature[80];        /* "sha256=<hex>" */
	enum wasim_hook_state state;
	int attempts;
	int last_status;           /* the daemon's last answer, 0: none */
	uint64_t due_ms;           /* monotonic; when the next attempt may go */
};

struct wasim_stats {
	long long api_calls, sent, rejected, bad_auth;
	long long window_violations, pair_breaches, throughput_breaches;
	long long unreachable, template_errors, param_errors;
	long long media_uploads, media_downloads, media_expired, media_bad_auth;
	long long hooks_posted, hooks_delivered, hooks_refused, hooks_failed;
	long long hooks_gave_up, hooks_forged, forged_accepted, hooks_replayed;
	long long statuses, status_dups, marked_read, verifications;
};

enum wasim_order { ORDER_SHUFFLE = 0, ORDER_FORWARD, ORDER_REVERSE };

struct wasim {
	struct sim core;                    /* first: the core's callbacks cast back */
	char token[WASIM_TOKEN_MAX];
	char app_secret[WASIM_SECRET_MAX];
	char phone_number_id[WASIM_ID_MAX];
	char display_number[WASIM_ID_MAX];  /* the business's own number */
	char waba_id[WASIM_ID_MAX];
	char webhook[WASIM_URL_MAX];        /* "" when none: nothing is posted */
	char verify_token[WASIM_TOKEN_MAX];
	unsigned char url_key[32];          /* signs media download URLs */

	struct wasim_template templates[WASIM_MAX_TEMPLATES];
	size_t ntemplates;

	/* Deliveries: a ring of hooks, the oldest dropped (never one under
	 * way); one timer wakes the pump when the next is due. */
	struct sim_ring hooks;              /* struct wasim_hook */
	size_t hook_bytes;
	uint64_t next_hook;
	int inflight;
	uv_timer_t hook_timer;
	struct http_client *client;
	int retry_base_ms, max_attempts;
	int status_delay_ms, dup_percent;
	enum wasim_order order;
	int read_receipts;                  /* a read status follows delivered */

	uint64_t next_seq;                  /* wamid and media id material */
	int64_t next_synthetic;             /* chat ids for users without a number */
	struct wasim_stats st;
};

/* wasim_api.c */
void wasim_api_handle(struct http_server_req *req, void *arg);
void wasim_api_download(struct http_server_req *req, void *arg);
/* A media id's download URL (path and query) into buf. */
int wasim_media_url(struct wasim *w, const struct sim_file *f, char *buf, size_t cap);
/* Answers with Graph's error shape: {"error": {message, type, code,
 * error_subcode?, error_data: {messaging_product, details}, fbtrace_id}}. */
void wasim_graph_error(struct http_server_req *req, int http_status, int code, int subcode,
                       const char *title, const char *details);

/* wasim_hook.c */
int wasim_hook_init(struct wasim *w);
/* Stops the timer, cancels deliveries; closed(arg) runs once all is freed. */
void wasim_hook_close(struct wasim *w, void (*closed)(void *arg), void *arg);
void wasim_hook_reset(struct wasim *w);
/* Posts what is due now (after the webhook URL changed). */
void wasim_hook_kick(struct wasim *w);
/* A new wamid for chat into buf. */
void wasim_wamid(struct wasim *w, const struct sim_chat *c, char *buf, size_t cap);
/* The envelope {object, entry[{id, changes[{value{messaging_product,
 * metadata}, field}]}]}; *value is where messages, statuses and contacts go. */
cJSON *wasim_envelope(struct wasim *w, cJSON **value);
/* A contacts entry for c: profile.name, wa_id (unless it has no number),
 * user_id (when it has one). */
cJSON *wasim_contact(const struct sim_chat *c);
/* Whether c has a phone number (users known only by a BSUID do not). */
int wasim_has_number(const struct sim_chat *c);
/* Queues a webhook of kind carrying ref; takes root. forged signs it with
 * a wrong key. *seq (may be NULL) is its number. */
int wasim_hook_queue(struct wasim *w, cJSON *root, const char *kind, const char *ref,
                     const char *status, int forged, uint64_t *seq);
/* Re-posts a delivered hook byte for byte with its own signature. */
int wasim_hook_replay(struct wasim *w, uint64_t seq, uint64_t *new_seq);
struct wasim_hook *wasim_hook_find(struct wasim *w, uint64_t seq);
/* After an accepted send: sent, delivered (and read) statuses, in the
 * configured order and with duplicates; failed with errors[] when
 * fail_code is not 0. */
int wasim_statuses_schedule(struct wasim *w, const struct sim_chat *c, const char *wamid,
                            const char *category, int billable, int fail_code);
/* GET webhook?hub.mode=subscribe&hub.verify_token=T&hub.challenge=C; done
 * gets the daemon's status and body. */
int wasim_verify(struct wasim *w, const char *token, const char *challenge,
                 void (*done)(int status, const char *body, size_t len, void *arg), void *arg);
/* The HMAC-SHA256 of body with key, as "sha256=<hex>". */
void wasim_sign(const char *key, const char *body, size_t len, char *out, size_t cap);

/* wasim_control.c */
void wasim_control_handle(struct http_server_req *req, void *arg);
long long wasim_wait_count(struct sim *sim, const char *what, int64_t chat);

/* wasim.c */
struct wasim_template *wasim_template_find(struct wasim *w, const char *name, const char *lang);
int wasim_template_add(struct wasim *w, const char *name, const char *lang, int params,
                       const char *category);
/* The chat for a wa_id given as text ("+32 470..." is refused: digits
 * only, as the API's to field is normalised), created if needed. */
struct sim_chat *wasim_chat_by_wa_id(struct wasim *w, const char *wa_id, int create);

#endif
