/* The web console: the overview, the family pages and the login, served
 * on the daemon's HTTP server. console_handle() is the whole console
 * behind one call, a request in and a response out, so that tests drive
 * it without a socket; console_attach() puts it on the server. */
#ifndef CASEBOT_CONSOLE_H
#define CASEBOT_CONSOLE_H

#include <stddef.h>
#include <time.h>

#include "handlers/handler.h"

#define CONSOLE_IDLE_SECONDS (30 * 60)
#define CONSOLE_ABSOLUTE_SECONDS (12 * 3600)
#define CONSOLE_FAIL_WINDOW (15 * 60)
#define CONSOLE_FAIL_FREE 5          /* failures in the window before logins slow down */
#define CONSOLE_FAIL_SLOTS 1024
#define CONSOLE_HEADERS_MAX 12
#define CONSOLE_SESSION_COOKIE "cb_session"
#define CONSOLE_LOGIN_COOKIE "cb_login"
#define CONSOLE_LIVE_SECONDS 15     /* how often the overview asks for new alerts */

struct console_request {
	const char *method;
	const char *path;          /* path and query, as sent */
	const char *body;          /* application/x-www-form-urlencoded, or NULL */
	size_t body_len;
	const char *cookie;        /* the Cookie header, or NULL */
	const char *peer;          /* the client's address, or "" */
};

struct console_header {
	const char *name;          /* a constant */
	char value[320];
};

struct console_response {
	int status;
	const char *content_type;  /* a constant */
	char *body;                /* malloc'd; the caller frees it */
	size_t len;
	struct console_header headers[CONSOLE_HEADERS_MAX];
	int nheaders;
	unsigned delay_ms;         /* a slowed login: answer this much later */
	int wipe;                  /* a document's plain bytes: wiped when freed */
};

struct console_fail {
	time_t at;
	unsigned char who[16];     /* a keyed hash of the account or the address */
};

struct console {
	int secure_cookie;         /* Secure on cookies: the console is reached over HTTPS */
	int not_reached_days;
	unsigned char fail_key[32];
	struct console_fail fails[CONSOLE_FAIL_SLOTS];
	size_t fail_next;
};

void console_init(struct console *c, const struct config *cfg);
/* Answers one request as the staff member of its session. Always fills
 * res (a 500 page when the store fails). */
void console_handle(struct console *c, struct hctx *h, const struct console_request *req,
		    struct console_response *res);
void console_response_free(struct console_response *res);

struct gateway_env;
struct http_server;
struct console_server;
/* Routes "/" and below to the console; call it after every other route,
 * since the first matching prefix wins. NULL when out of memory. env (the
 * daemon's, outliving the console) gives the loop, settings, store and
 * catalogs; its inbound_ready sends at once what a form wrote. */
struct console_server *console_attach(const struct gateway_env *env, struct http_server *s);
/* Answers the slowed logins still waiting and frees the console; before
 * the server closes. */
void console_detach(struct console_server *cs);

#endif
