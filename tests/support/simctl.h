/* simctl: starts build/tgsim (the Telegram Bot API simulator) for a test
 * and drives its control interface with blocking libcurl calls.
 *
 *   struct simctl s;
 *   simctl_start(&s, "123:TEST", NULL);        // api_base = simctl_base(&s)
 *   simctl_message(&s, 42, "/start ABC123");
 *   simctl_wait_sent(&s, 42, 1, 5000);
 *   assert_int_equal(simctl_stop(&s), 0);      // exit status of tgsim
 *
 * The binary is $CASEBOT_BUILD/tgsim; without that variable, the tgsim of
 * the build the test binary belongs to, else build/tgsim. Its log goes to
 * a file in a temporary directory (simctl_log()); the directory goes at
 * simctl_stop(). Every call is bounded in time. Functions returning int
 * return 0 (or an id) on success and -1 on failure. */
#ifndef CASEBOT_SIMCTL_H
#define CASEBOT_SIMCTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define SIMCTL_TIMEOUT_MS 5000L   /* start-up and each control call */

struct simctl {
	pid_t pid;
	int port;
	char dir[64];          /* temporary directory: port file, log */
	char base[64];         /* "http://127.0.0.1:PORT" */
	char token[128];
	char log[128];
	char name[16];         /* "tgsim", "wasim" */
};

/* One HTTP exchange with the simulator (or anything on loopback). */
struct simctl_resp {
	long status;           /* 0 when no response came */
	int curl_error;        /* CURLcode: 0, or why no response came */
	char *body;            /* NUL-terminated, malloc'd; NULL when none */
	size_t len;
	char retry_after[16];  /* the Retry-After header, "" when absent */
	char content_type[64];
	long ms;               /* how long it took */
};

/* Starts tgsim on 127.0.0.1 with a free port and waits (at most
 * SIMCTL_TIMEOUT_MS) until it listens. extra_args (may be NULL) is split on
 * spaces: "--enforce --chat-tolerance-ms 0". */
int simctl_start(struct simctl *s, const char *token, const char *extra_args);
/* The same for another simulator on the core: name is the binary's
 * ("wasim"), found as tgsim is; it takes --listen, --token, --port-file. */
int simctl_start_sim(struct simctl *s, const char *name, const char *token,
                     const char *extra_args);

/* SIGTERM, then waits up to SIMCTL_TIMEOUT_MS (SIGKILL after that).
 * Returns tgsim's exit code, 128 + signal when a signal ended it, or -1.
 * The log is copied to stderr when the code is not 0. */
int simctl_stop(struct simctl *s);

const char *simctl_base(const struct simctl *s);   /* the daemon's api_base */
const char *simctl_log(const struct simctl *s);    /* tgsim's stderr, a file */

/* verb "GET" or "POST"; json may be NULL (POSTs then send no body);
 * timeout_ms 0 means SIMCTL_TIMEOUT_MS. Returns 0 when a response came,
 * else -1 with r->curl_error set. Free with simctl_resp_free(). */
int simctl_http(const struct simctl *s, const char *verb, const char *path,
                const char *json, long timeout_ms, struct simctl_resp *r);
/* Any request: on the simulator (path) or at url; extra headers
 * ("Name: value", NULL-terminated); a POST sends body with content_type
 * (NULL: application/json), or mime (a curl_mime *) as multipart. */
struct simctl_req {
	const char *verb;
	const char *path;
	const char *url;
	const char *const *headers;
	const char *body;
	size_t len;
	const char *content_type;
	void *mime;
	long timeout_ms;
};
int simctl_request(const struct simctl *s, const struct simctl_req *q, struct simctl_resp *r);
/* A Bot API call: POST /bot<token>/<method> with json (may be NULL). */
int simctl_api(const struct simctl *s, const char *method, const char *json,
               long timeout_ms, struct simctl_resp *r);
void simctl_resp_free(struct simctl_resp *r);

/* POST /control/<what> with json; the parsed answer (caller deletes), or
 * NULL unless the status was 200. */
cJSON *simctl_post(const struct simctl *s, const char *what, const char *json);

/* Injected updates: each returns the update_id (> 0), 0 when the bot's
 * allowed_updates filtered it, -1 on failure. */
int64_t simctl_message(const struct simctl *s, int64_t chat, const char *text);
int64_t simctl_button(const struct simctl *s, int64_t chat, const char *data,
                      int64_t message_id);
int64_t simctl_photo(const struct simctl *s, int64_t chat, long bytes,
                     const char *caption);
/* A document with these bytes (file_name and mime_type may be NULL)... */
int64_t simctl_document(const struct simctl *s, int64_t chat, const char *file_name,
                        const char *mime_type, const void *data, size_t len);
/* ...or a generated one: kind "pdf", "exe" or "bin". */
int64_t simctl_document_gen(const struct simctl *s, int64_t chat, const char *kind,
                            long bytes);
int64_t simctl_voice(const struct simctl *s, int64_t chat, int seconds);
int64_t simctl_location(const struct simctl *s, int64_t chat);
/* blocked 1: the family blocks the bot; 0: unblocks it. */
int64_t simctl_block(const struct simctl *s, int64_t chat, int blocked);
/* Any update object as JSON text; update_id is assigned when missing. */
int64_t simctl_raw(const struct simctl *s, const char *update_json);
/* Makes a chat known without a message (first_name may be NULL). */
int simctl_chat(const struct simctl *s, int64_t chat, const char *first_name);

/* Arms a fault for the next count calls (of method, or of every method
 * when NULL): kind "429" (arg = retry_after seconds), "slow" or "drop"
 * (arg = delay in ms; 0 means 2 s for slow and, for drop, longer than
 * any client timeout: 150 s),
 * "500", "400", "garbage", "empty" (arg unused); "clear" disarms all. */
int simctl_fault(const struct simctl *s, const char *kind, int count, int arg,
                 const char *method);

/* What the bot sent to chat (0: to every chat), oldest first: the
 * "messages" array (caller deletes), or NULL. */
cJSON *simctl_sent(const struct simctl *s, int64_t chat);
/* Blocks (GET /control/wait) until at least n messages were sent to chat
 * (0: any chat) or timeout_ms passed (at most 60 s); returns the count
 * then, -1 on failure. */
int simctl_wait_sent(const struct simctl *s, int64_t chat, int n, long timeout_ms);

/* GET /control/stats (caller deletes), or NULL. */
cJSON *simctl_stats(const struct simctl *s);
/* One counter from the stats, -1 on failure. */
long long simctl_stat(const struct simctl *s, const char *name);

int simctl_reset(const struct simctl *s);

#endif
