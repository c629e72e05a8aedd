/* Outbound HTTP(S), and mail over SMTP: libcurl's multi interface driven by
 * the daemon's libuv loop. One client holds one multi handle, so connections
 * (and HTTP/2 streams) to a gateway are reused across requests. Nothing here
 * logs, and URLs are never printed: Telegram URLs carry the bot token; mail
 * carries a password and addresses.
 *
 * The process must ignore SIGPIPE; http_client_new() makes sure it does,
 * because CURLOPT_NOSIGNAL stops curl from doing it around its own writes. */
#ifndef CASEBOT_HTTP_CLIENT_H
#define CASEBOT_HTTP_CLIENT_H

#include <stdatomic.h>
#include <stddef.h>

#include <uv.h>

#include "bot/casebot.h"

#define HTTP_CLIENT_TIMEOUT_MS 30000L          /* when a request gives 0 */
#define HTTP_CLIENT_CONNECT_TIMEOUT_MS 10000L  /* at most; less if the total is less */
#define HTTP_CLIENT_MAX_RESPONSE (1024 * 1024) /* when a request gives 0 */
#define HTTP_CLIENT_MAX_RESPONSE_LIMIT (1024u * 1024 * 1024) /* largest cap */
#define HTTP_CLIENT_MAX_REQUEST (64u * 1024 * 1024)
#define HTTP_CLIENT_MAX_HEADERS 32
#define HTTP_CLIENT_MAX_HOST_CONNECTIONS 8L    /* more requests queue */
#define HTTP_CLIENT_MAX_CACHED_CONNECTIONS 16L
#define HTTP_CLIENT_MAX_RCPT 32                /* recipients of one mail */
#define HTTP_CLIENT_MAX_ADDRESS 320            /* bytes in one mail address */
#define HTTP_CLIENT_MAX_CREDENTIAL 1024        /* SMTP username or password */

struct http_client;

enum http_method { HTTP_GET = 0, HTTP_POST };

/* One field of a multipart/form-data POST; a field with a filename is a
 * file. Everything is copied. */
struct http_form_field {
	const char *name;
	const char *data;
	size_t len;
	const char *filename;         /* or NULL */
	const char *type;             /* the part's Content-Type, or NULL */
};

#define HTTP_CLIENT_MAX_FORM 8

struct http_request {
	enum http_method method;
	const char *url;              /* http:// or https:// only; copied */
	const char *body;             /* POST body, copied; may be NULL */
	size_t body_len;
	const char *content_type;     /* POST; NULL lets curl pick form encoding */
	/* POST multipart/form-data (libcurl's mime API) instead of body: at
	 * most HTTP_CLIENT_MAX_FORM fields, together at most
	 * HTTP_CLIENT_MAX_REQUEST bytes. */
	const struct http_form_field *form;
	size_t nform;
	const char *const *headers;   /* NULL-terminated "Name: value" list, or NULL */
	long timeout_ms;              /* whole transfer; 0 = HTTP_CLIENT_TIMEOUT_MS.
	                               * A long poll adds its own wait to this. */
	size_t max_response_bytes;    /* body cap; 0 = HTTP_CLIENT_MAX_RESPONSE,
	                               * at most HTTP_CLIENT_MAX_RESPONSE_LIMIT */
	const char *output_path;      /* if set, a 2xx body is streamed to this new
	                               * file (created 0600, must not exist); it is
	                               * removed again when the transfer fails */
	/* Instead of output_path: a 2xx body is handed to sink in the chunks
	 * it arrives in, from memory, under the same cap. A negative return
	 * stops the transfer, and becomes the response's error. */
	int (*sink)(const char *p, size_t n, void *arg);
	void *sink_arg;
};

/* One mail over SMTP. Every string is copied; the caller's may go away
 * after http_client_mail() returns. */
struct http_mail {
	const char *url;              /* smtp://host:port or smtps://host:port */
	const char *username;         /* NULL or "": no AUTH */
	const char *password;         /* may be NULL; never logged */
	const char *from;             /* envelope sender (MAIL FROM), bare address */
	const char *const *rcpt;      /* NULL-terminated envelope recipients */
	const char *message;          /* the whole RFC 5322 message, CRLF line
	                               * ends; curl dot-stuffs it */
	size_t message_len;           /* at most HTTP_CLIENT_MAX_REQUEST */
	long timeout_ms;              /* whole transfer; 0 = HTTP_CLIENT_TIMEOUT_MS */
	int require_tls;              /* smtp://: STARTTLS or fail (CURLUSESSL_ALL) */
};

struct http_response {
	int status;            /* HTTP status, 0 when no response arrived. For
	                        * mail the last SMTP reply code: 250 when the
	                        * message was accepted, the refusing reply's code
	                        * (4xx, 5xx) when the server said no. */
	int error;             /* 0, -CB_EGATEWAY (connect, reset, timeout, TLS,
	                        * cancelled), -CB_ETOOBIG (over the cap),
	                        * -CB_EINVAL (bad URL), -CB_EIO (output file),
	                        * -CB_ENOMEM. For mail, 0 also when the server
	                        * refused with a 4xx or 5xx reply: status says
	                        * which, as an HTTP error status would. */
	int timed_out;         /* error is -CB_EGATEWAY because time ran out */
	int cancelled;         /* error is -CB_EGATEWAY because the client closed */
	int reused;            /* the transfer went over an existing connection */
	const char *reason;    /* short curl message when error != 0 (no URL) */
	const char *body;      /* NUL-terminated; valid only during the callback.
	                        * NULL when a 2xx body went to output_path or
	                        * the sink (an
	                        * error page is kept here instead). */
	size_t len;            /* bytes in body, or written to output_path or
	                        * the sink */
	double total_seconds;
	long retry_after;      /* seconds from a Retry-After header, or -1 */
};

/* Runs exactly once per accepted request, on the loop, never from inside
 * http_client_request(). The client frees the body when it returns. */
typedef void (*http_done_cb)(const struct http_response *res, void *arg);

/* NULL when out of memory or curl cannot start. */
struct http_client *http_client_new(uv_loop_t *loop);

/* Starts a transfer. Returns 0 (cb will run) or a negative CB_E* code (cb
 * will not run): -CB_EINVAL for a bad request, -CB_EEXIST when output_path
 * exists, -CB_ESTATE after http_client_close(). */
int http_client_request(struct http_client *c, const struct http_request *req,
                        http_done_cb cb, void *arg);

/* Sends one mail on the same multi handle and loop as HTTP transfers; cb
 * reports it like an HTTP response (body empty, retry_after -1). Returns 0
 * (cb will run) or a negative CB_E* code (cb will not run): -CB_EINVAL for
 * a bad URL, an address with control characters or angle brackets, no or
 * too many recipients, an empty message, an over-long credential;
 * -CB_ETOOBIG for a message over HTTP_CLIENT_MAX_REQUEST; -CB_ESTATE after
 * http_client_close().
 *
 * libcurl (7.88 as 8.x) waits for the reply to the end of DATA without
 * returning to the loop: a slow server holds the loop that long, at most
 * timeout_ms. A connection left mid-dialogue by a failed mail is never
 * reused. */
int http_client_mail(struct http_client *c, const struct http_mail *m,
                     http_done_cb cb, void *arg);

/* The same mail, sent from the calling thread with an easy handle of its
 * own, returning when the server has answered (or time ran out): for a
 * worker thread, since libcurl waits for the reply to the end of DATA
 * without returning to any loop. Setting *stop makes it give up within a
 * second (res->cancelled). Fills res (no body) and returns 0, or a
 * negative code (also in res->error) when the mail cannot be set up. */
int http_mail_send_blocking(const struct http_mail *m, atomic_int *stop, struct http_response *res);

/* Transfers started and not yet reported. */
int http_client_active(const struct http_client *c);

/* Cancels every transfer (their callbacks run with cancelled set, before
 * this returns unless it is called from a done callback), then closes the
 * client's handles; closed_cb (may be NULL) runs once everything is freed.
 * The client must not be used afterwards. */
void http_client_close(struct http_client *c, void (*closed_cb)(void *arg),
                       void *arg);

#endif
