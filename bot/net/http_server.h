/* Inbound HTTP: H2O (Debian's libh2o, built against libuv) on the daemon's
 * loop, for webhooks, the web console and health checks. H2O parses every
 * request; nothing here reads HTTP by hand. HTTP/1.1, in the clear or,
 * with http_server_set_tls(), over TLS (H2O with OpenSSL); HTTP/2 belongs
 * to a reverse proxy in front of the daemon.
 *
 * A handler gets a request and must answer it exactly once with
 * http_server_respond(), either at once or later (after a store commit, from
 * a timer...). Until then the request handle stays valid, even if the
 * connection or the server goes away meanwhile: respond() then only frees
 * the handle. The process must ignore SIGPIPE; http_server_new() makes sure
 * it does. */
#ifndef CASEBOT_HTTP_SERVER_H
#define CASEBOT_HTTP_SERVER_H

#include <stddef.h>

#include <uv.h>

#include "bot/casebot.h"

#define HTTP_SERVER_MAX_BODY (1024 * 1024)  /* default; 413 above it */
/* Slow clients cannot hold the server: more connections than these (in
 * all, or from one address) are accepted and closed at once, and a
 * request whose head and body are not whole HTTP_SERVER_REQUEST_MS after
 * the connection opened (or its last answer went) is cut off, as is a
 * keep-alive connection idle that long. */
#define HTTP_SERVER_MAX_CONNECTIONS 1024
#define HTTP_SERVER_MAX_PER_ADDRESS 64
#define HTTP_SERVER_REQUEST_MS 5000
#define HTTP_SERVER_MAX_ROUTES 32

struct http_server;

/* What a handler sees. The strings and the body point into the server's
 * request memory: valid during the handler call only, so a handler that
 * answers later copies what it needs. */
struct http_server_req {
	const char *method;      /* "GET", "POST"...; NUL-terminated */
	const char *path;        /* path and query as sent (not decoded);
	                          * NUL-terminated */
	const char *body;        /* not NUL-terminated; NULL when empty */
	size_t body_len;         /* at most the server's body cap */
};

/* path_prefix matches itself and anything below it ("/hook" matches
 * "/hook", "/hook/x" and "/hook?x", not "/hooks"). */
typedef void (*http_handler_fn)(struct http_server_req *req, void *arg);

/* NULL when out of memory. */
struct http_server *http_server_new(uv_loop_t *loop);

/* Request bodies above max_bytes are answered 413 by the server. Before
 * http_server_listen() only. */
int http_server_set_max_body(struct http_server *s, size_t max_bytes);

/* Serves HTTPS: a PEM certificate chain and its private key, TLS 1.2 or
 * later. Before http_server_listen() only. -CB_EIO with a line in err
 * when the files cannot be read or do not belong together. */
int http_server_set_tls(struct http_server *s, const char *cert_file, const char *key_file, char *err,
			size_t errlen);

/* Registers a handler; the first matching prefix wins. Before
 * http_server_listen() only (-CB_ESTATE after). Unknown paths get 404. */
int http_server_route(struct http_server *s, const char *path_prefix,
                      http_handler_fn fn, void *arg);

/* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:0" (port 0 picks a free port).
 * Numeric addresses only, so that start-up never blocks on DNS. One
 * listening address per server. */
int http_server_listen(struct http_server *s, const char *host_port);

/* The bound port, or a negative CB_E* code when not listening. */
int http_server_port(const struct http_server *s);

/* A request header (name in any case), NUL-terminated, or NULL when absent
 * or the request is gone. Same lifetime as the request's strings. */
const char *http_server_req_header(struct http_server_req *req,
                                   const char *name, size_t *len);

/* The client's address ("127.0.0.1", "::1"), numeric; -CB_ESTATE when
 * the request is gone, -CB_EIO when the socket cannot tell. */
int http_server_req_peer(struct http_server_req *req, char *out, size_t cap);

/* Adds a response header before http_server_respond(); -CB_EINVAL for a
 * name or value with CR or LF, -CB_ESTATE when the request is gone. */
int http_server_add_header(struct http_server_req *req, const char *name,
                           const char *value);

/* Sends the response (status 200..599; body copied; content_type may be
 * NULL; 204 and 304 go without a body) and frees the request handle, which
 * must not be used afterwards. Returns -CB_ESTATE when the connection or the
 * server went away first (nothing is sent; the handle is freed all the
 * same), -CB_EINVAL for a bad status or content type (the client gets a
 * 500). */
int http_server_respond(struct http_server_req *req, int status,
                        const char *content_type, const char *body,
                        size_t len);

/* Stops listening, answers 503 to requests whose handlers have not yet
 * responded, closes the connections (idle keep-alive ones too), and frees
 * the server in close callbacks; then closed_cb (may be NULL) runs. Request
 * handles held by handlers stay valid until they respond (-CB_ESTATE). */
void http_server_close(struct http_server *s, void (*closed_cb)(void *arg),
                       void *arg);

#endif
