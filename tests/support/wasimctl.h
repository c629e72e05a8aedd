/* wasimctl: starts build/wasim (the WhatsApp Cloud API simulator) for a
 * test and drives its control interface with blocking libcurl calls, as
 * simctl does for tgsim.
 *
 * How to use it in an integration test with the daemon:
 *
 *   struct wasimctl w;
 *   // The daemon's webhook URL (its [http] listener + /whatsapp/<path>);
 *   // NULL when the test needs no webhooks. extra_args as simctl's:
 *   // "--enforce --template visit_reminder:nl:2 --status-dup-percent 0".
 *   assert_int_equal(wasimctl_start(&w, "http://127.0.0.1:PORT/whatsapp/hook", NULL), 0);
 *   // [whatsapp] api_base = wasimctl_api_base(&w)   ("http://127.0.0.1:P/v23.0")
 *   //            phone_number_id = wasimctl_phone_number_id(&w)
 *   //            verify_token = WASIMCTL_VERIFY_TOKEN
 *   // CASEBOT_WHATSAPP_TOKEN = WASIMCTL_TOKEN,
 *   // CASEBOT_WHATSAPP_APP_SECRET = WASIMCTL_APP_SECRET.
 *   // Or start wasim with NULL, start the daemon with api_base, then
 *   // wasimctl_set_webhook(&w, url) once its port is known.
 *
 *   wasimctl_text(&w, "32470001001", "ABC123");       // the family writes
 *   wasimctl_wait(&w, "hooks_delivered", 1, 5000);     // the daemon said 200
 *   wasimctl_wait_sent(&w, "32470001001", 1, 5000);    // the daemon answered
 *   cJSON *sent = wasimctl_sent(&w, "32470001001");    // [{type, text, buttons...}]
 *   wasimctl_button_reply(&w, "32470001001", "ap:1:1", NULL);
 *   wasimctl_age(&w, "32470001001", 25);               // leave the 24 h window
 *   wasimctl_quick_reply(&w, "32470001001", "ap:1:1", "Yes");
 *   wasimctl_forge(&w, "32470001001", "hi");           // wrong signature
 *   wasimctl_wait(&w, "forged_refused", 1, 5000);      // the daemon refused it
 *   wasimctl_replay(&w, hook);                          // a duplicate webhook
 *   assert_int_equal(wasimctl_stop(&w), 0);             // exit status of wasim
 *
 * Every inject call returns the webhook's number (> 0, for wasimctl_replay
 * and GET /control/hooks) or -1; the message's wamid is then in
 * w.last_id and a media id in w.last_media_id. wa_ids are digit strings.
 * The webhooks are signed with WASIMCTL_APP_SECRET over the raw bytes
 * (X-Hub-Signature-256: sha256=<hex>), retried every 200 ms doubling for 8
 * attempts while the answer is not 200; statuses (sent, delivered, read)
 * come shuffled and 20% of them twice unless extra_args says otherwise
 * ("--status-order forward --status-dup-percent 0"). The pair rate (6 s)
 * and throughput (80/s) are refused only with --enforce; the 24-hour
 * window, templates (approve with --template or wasimctl_template) and
 * unreachable numbers always. Every call is bounded in time. */
#ifndef CASEBOT_WASIMCTL_H
#define CASEBOT_WASIMCTL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "tests/support/simctl.h"

#define WASIMCTL_TOKEN "wasim-test-token"
#define WASIMCTL_APP_SECRET "wasim-test-app-secret"
#define WASIMCTL_VERIFY_TOKEN "wasim-test-verify"
#define WASIMCTL_PHONE_NUMBER_ID "106540352242922"
#define WASIMCTL_VERSION "v23.0"

struct wasimctl {
	struct simctl s;           /* the process, its port, its log */
	char api_base[96];         /* "http://127.0.0.1:PORT/v23.0" */
	char last_id[128];         /* the wamid of the last injected message */
	char last_media_id[48];    /* its media id, "" when none */
};

/* Starts wasim with WASIMCTL_TOKEN, _APP_SECRET, _VERIFY_TOKEN and
 * _PHONE_NUMBER_ID; webhook may be NULL. extra_args is split on spaces. */
int wasimctl_start(struct wasimctl *w, const char *webhook, const char *extra_args);
/* SIGTERM; wasim's exit code (0), as simctl_stop. */
int wasimctl_stop(struct wasimctl *w);
const char *wasimctl_api_base(const struct wasimctl *w);
const char *wasimctl_phone_number_id(const struct wasimctl *w);
const char *wasimctl_base(const struct wasimctl *w);   /* "http://127.0.0.1:PORT" */
const char *wasimctl_log(const struct wasimctl *w);

/* A Graph API call as the daemon makes it: verb on api_base + path
 * ("/106540352242922/messages"), with "Authorization: Bearer <token>"
 * (token NULL: WASIMCTL_TOKEN; "": no header). Free with simctl_resp_free. */
int wasimctl_graph(const struct wasimctl *w, const char *verb, const char *path,
                   const char *json, const char *token, struct simctl_resp *r);
/* POST /{phone_number_id}/media, multipart: messaging_product, type, file. */
int wasimctl_upload(const struct wasimctl *w, const char *mime, const void *data, size_t len,
                    const char *file_name, struct simctl_resp *r);
/* GET of a full URL (a media URL) with the Bearer token (token as above). */
int wasimctl_fetch(const struct wasimctl *w, const char *url, const char *token,
                   struct simctl_resp *r);

/* POST /control/<what> with json; the parsed answer (caller deletes) or
 * NULL unless the status was 200. */
cJSON *wasimctl_post(struct wasimctl *w, const char *what, const char *json);

/* What a family does (see tests/sim/wasim_control.c for every field). */
int64_t wasimctl_text(struct wasimctl *w, const char *wa_id, const char *text);
/* title NULL: the button's title on the last interactive message. */
int64_t wasimctl_button_reply(struct wasimctl *w, const char *wa_id, const char *id,
                              const char *title);
int64_t wasimctl_list_reply(struct wasimctl *w, const char *wa_id, const char *id,
                            const char *title);
/* A template's quick-reply button: type "button" with payload. */
int64_t wasimctl_quick_reply(struct wasimctl *w, const char *wa_id, const char *payload,
                             const char *text);
int64_t wasimctl_image(struct wasimctl *w, const char *wa_id, long bytes, const char *caption);
/* kind "pdf", "exe" or "bin"; file_name may be NULL. */
int64_t wasimctl_document(struct wasimctl *w, const char *wa_id, const char *kind, long bytes,
                          const char *file_name);
int64_t wasimctl_voice(struct wasimctl *w, const char *wa_id, int seconds);
int64_t wasimctl_location(struct wasimctl *w, const char *wa_id, double lat, double lon);
int64_t wasimctl_changed_number(struct wasimctl *w, const char *wa_id, const char *new_wa_id);
int64_t wasimctl_unsupported(struct wasimctl *w, const char *wa_id);
/* Any inject call with its own JSON body: what is "message", "image"... */
int64_t wasimctl_inject(struct wasimctl *w, const char *what, const char *json);

/* Steering. Each returns 0 or -1. */
int wasimctl_age(struct wasimctl *w, const char *wa_id, double hours);
int wasimctl_clock(struct wasimctl *w, long seconds);
/* mode "async" (131026 in a failed status), "sync" (in the answer), "off". */
int wasimctl_unreachable(struct wasimctl *w, const char *wa_id, const char *mode);
int wasimctl_template(struct wasimctl *w, const char *name, const char *language, int params);
/* A message webhook signed with a wrong secret: its hook number or -1. */
int64_t wasimctl_forge(struct wasimctl *w, const char *wa_id, const char *text);
/* Posts hook again, same bytes and signature: the new hook's number. */
int64_t wasimctl_replay(struct wasimctl *w, int64_t hook);
/* The GET handshake: {status, body, echoed} (caller deletes); token NULL
 * uses WASIMCTL_VERIFY_TOKEN, challenge NULL a random one. */
cJSON *wasimctl_verify(struct wasimctl *w, const char *token, const char *challenge);
int wasimctl_reset(struct wasimctl *w);
/* Where webhooks go from now on (hooks waiting go there too). */
int wasimctl_set_webhook(struct wasimctl *w, const char *url);

/* What the daemon sent to wa_id (NULL: everyone), oldest first: the
 * "messages" array (caller deletes). */
cJSON *wasimctl_sent(struct wasimctl *w, const char *wa_id);
/* Blocks until at least n messages went to wa_id (NULL: anyone); the
 * count then, -1 on failure. */
int wasimctl_wait_sent(struct wasimctl *w, const char *wa_id, int n, long timeout_ms);
/* Blocks until counter what reaches n: hooks_delivered, hooks_posted,
 * hooks_refused, hooks_gave_up, hooks_settled, forged_refused,
 * statuses_delivered, media_downloads, media_uploads. The count then. */
long long wasimctl_wait(struct wasimctl *w, const char *what, long long n, long timeout_ms);
/* The webhooks (kind NULL: all; "message", "status", "forged", "replay"):
 * the "hooks" array (caller deletes). */
cJSON *wasimctl_hooks(struct wasimctl *w, const char *kind);
cJSON *wasimctl_stats(struct wasimctl *w);
long long wasimctl_stat(struct wasimctl *w, const char *name);

#endif
