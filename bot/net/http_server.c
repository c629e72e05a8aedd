/* H2O on libuv: accept on a uv_tcp_t, wrap it with h2o_uv_socket_create()
 * and hand it to h2o_accept(). H2O owns each connection from then on and
 * closes its uv_tcp_t through our close callback.
 *
 * Debian's libh2o is 2.2.5, and three of its limits shape this file:
 * - An HTTP/1 request whose handler has not answered keeps the socket's
 *   reads stopped, so H2O never notices the client leaving; the request
 *   lives until we answer. A pool-linked sentinel still tells us when the
 *   request memory goes, so a late answer is never sent to freed memory.
 * - HTTP/1 has no request_shutdown hook, so idle keep-alive connections do
 *   not close on h2o_context_request_shutdown(). We shut down the read side
 *   of each socket instead: H2O reads EOF and closes the connection itself.
 * - h2o_context_dispose() runs uv_run(NOWAIT) to reap its timers, which
 *   must not happen inside a callback; we make that nested run a no-op and
 *   wait for the timers' close callbacks with two fence handles. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netdb.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <h2o.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "bot/net/http_server.h"

#define HOST_MAX 64
#define HEADER_NAME_MAX 64
#define HEADER_VALUE_MAX 4096

enum listener_state { L_NONE = 0, L_OPEN, L_CLOSING, L_CLOSED };

struct route {
	h2o_handler_t super;        /* first: H2O allocates and frees this */
	struct http_server *s;
	http_handler_fn fn;
	void *arg;
};

struct pending;

/* Lives in the request's memory pool; its dispose hook runs when H2O frees
 * the request, answered or not. */
struct sentinel {
	struct pending *p;
};

/* A request handed to a handler, owned by it until http_server_respond(). */
struct pending {
	struct http_server_req pub;
	h2o_req_t *req;             /* NULL once the request is gone */
	struct sentinel *sentinel;
	struct http_server *s;      /* NULL once detached from the server */
	struct pending *prev, *next;
};

struct conn {
	uv_tcp_t tcp;               /* first: the close callback gets it */
	struct http_server *s;
	struct sockaddr_storage peer;
	struct conn *prev, *next;
};

struct http_server {
	uv_loop_t *loop;
	h2o_globalconf_t gc;
	h2o_hostconf_t *host;
	h2o_context_t ctx;
	h2o_accept_ctx_t actx;
	SSL_CTX *ssl;               /* HTTPS, or NULL */
	int ctx_ready;
	int nroutes;
	uv_tcp_t listener;
	enum listener_state lstate;
	uv_timer_t fence_a, fence_b;
	struct conn *conns;
	int nconns;
	struct pending *pending;
	int closing;
	int finalizing;
	void (*closed_cb)(void *arg);
	void *closed_arg;
};

static const char *reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: break;
	}
	if (status < 200)
		return "Informational";
	if (status < 300)
		return "Success";
	if (status < 400)
		return "Redirection";
	if (status < 500)
		return "Client Error";
	return "Server Error";
}

static int has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return 1;
	return 0;
}

static void send_response(h2o_req_t *req, int status, const char *ctype,
                          const char *body, size_t len)
{
	h2o_iovec_t v;

	req->res.status = status;
	req->res.reason = reason_phrase(status);
	req->res.content_length = len;
	/* These carry no body and no Content-Length (RFC 9110 8.6). */
	if (status == 204 || status == 304) {
		req->res.content_length = SIZE_MAX;
		len = 0;
	}
	if (ctype != NULL) {
		v = h2o_strdup(&req->pool, ctype, SIZE_MAX);
		h2o_set_header(&req->pool, &req->res.headers,
		               H2O_TOKEN_CONTENT_TYPE, v.base, v.len, 1);
	}
	h2o_send_inline(req, body != NULL ? body : "", len);
}

static void pending_detach(struct pending *p)
{
	struct http_server *s = p->s;

	if (p->sentinel != NULL) {
		p->sentinel->p = NULL;
		p->sentinel = NULL;
	}
	if (s != NULL) {
		if (p->prev != NULL)
			p->prev->next = p->next;
		else
			s->pending = p->next;
		if (p->next != NULL)
			p->next->prev = p->prev;
		p->prev = p->next = NULL;
		p->s = NULL;
	}
}

static void on_sentinel_dispose(void *mem)
{
	struct sentinel *sn = mem;
	struct pending *p = sn->p;

	if (p == NULL)
		return;
	pending_detach(p);
	p->req = NULL;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	struct route *r = (struct route *)self;
	struct http_server *s = r->s;
	struct pending *p;

	if (s->closing || (p = calloc(1, sizeof(*p))) == NULL) {
		send_response(req, 503, "text/plain; charset=utf-8",
		              "unavailable\n", 12);
		return 0;
	}
	p->pub.method = h2o_strdup(&req->pool, req->method.base,
	                           req->method.len).base;
	p->pub.path = h2o_strdup(&req->pool, req->input.path.base,
	                         req->input.path.len).base;
	if (req->entity.base != NULL && req->entity.len > 0) {
		p->pub.body = req->entity.base;
		p->pub.body_len = req->entity.len;
	}
	p->sentinel = h2o_mem_alloc_shared(&req->pool, sizeof(*p->sentinel),
	                                   on_sentinel_dispose);
	p->sentinel->p = p;
	p->req = req;
	p->s = s;
	p->next = s->pending;
	if (s->pending != NULL)
		s->pending->prev = p;
	s->pending = p;
	r->fn(&p->pub, r->arg);
	return 0;
}

int http_server_respond(struct http_server_req *pub, int status,
                        const char *content_type, const char *body,
                        size_t len)
{
	struct pending *p = (struct pending *)pub;
	h2o_req_t *req;
	int rc = 0;

	if (p == NULL)
		return -CB_EINVAL;
	req = p->req;
	if (req == NULL) {
		rc = -CB_ESTATE;
		goto out;
	}
	pending_detach(p);
	p->req = NULL;
	/* A bad answer still answers: the client gets a 500, the caller an
	 * error. */
	if (status < 200 || status > 599 || (body == NULL && len > 0) ||
	    (content_type != NULL && (strlen(content_type) > HEADER_VALUE_MAX ||
	                              has_ctl(content_type)))) {
		send_response(req, 500, NULL, "", 0);
		rc = -CB_EINVAL;
		goto out;
	}
	send_response(req, status, content_type, body, len);
out:
	free(p);
	return rc;
}

const char *http_server_req_header(struct http_server_req *pub,
                                   const char *name, size_t *len)
{
	struct pending *p = (struct pending *)pub;
	char lower[HEADER_NAME_MAX];
	size_t i, n;
	ssize_t at;
	h2o_iovec_t v;

	if (p == NULL || p->req == NULL || name == NULL)
		return NULL;
	n = strnlen(name, sizeof(lower));
	if (n == 0 || n == sizeof(lower))
		return NULL;
	/* H2O stores request header names in lower case. */
	for (i = 0; i < n; i++)
		lower[i] = (char)((name[i] >= 'A' && name[i] <= 'Z') ?
		                  name[i] - 'A' + 'a' : name[i]);
	at = h2o_find_header_by_str(&p->req->headers, lower, n, -1);
	if (at < 0)
		return NULL;
	v = h2o_strdup(&p->req->pool, p->req->headers.entries[at].value.base,
	               p->req->headers.entries[at].value.len);
	if (len != NULL)
		*len = v.len;
	return v.base;
}

int http_server_req_peer(struct http_server_req *pub, char *out, size_t cap)
{
	struct pending *p = (struct pending *)pub;
	struct sockaddr_storage ss;
	socklen_t n;

	if (p == NULL || p->req == NULL)
		return -CB_ESTATE;
	memset(&ss, 0, sizeof(ss));
	n = p->req->conn->callbacks->get_peername(p->req->conn, (struct sockaddr *)&ss);
	if (n == 0 || getnameinfo((struct sockaddr *)&ss, n, out, (socklen_t)cap, NULL, 0, NI_NUMERICHOST) != 0)
		return -CB_EIO;
	return 0;
}

static int token_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

int http_server_add_header(struct http_server_req *pub, const char *name,
                           const char *value)
{
	struct pending *p = (struct pending *)pub;
	h2o_req_t *req;
	h2o_iovec_t n, v;
	size_t i;

	if (p == NULL || name == NULL || value == NULL)
		return -CB_EINVAL;
	if ((req = p->req) == NULL)
		return -CB_ESTATE;
	if (strnlen(name, HEADER_NAME_MAX) == HEADER_NAME_MAX || *name == '\0' ||
	    strnlen(value, HEADER_VALUE_MAX) == HEADER_VALUE_MAX ||
	    has_ctl(value))
		return -CB_EINVAL;
	/* Framing headers are H2O's to write. */
	if (strcasecmp(name, "content-length") == 0 ||
	    strcasecmp(name, "transfer-encoding") == 0 ||
	    strcasecmp(name, "connection") == 0)
		return -CB_EINVAL;
	n = h2o_strdup(&req->pool, name, SIZE_MAX);
	for (i = 0; i < n.len; i++) {
		if (n.base[i] >= 'A' && n.base[i] <= 'Z')
			n.base[i] = (char)(n.base[i] - 'A' + 'a');
		if (!token_char(n.base[i]))
			return -CB_EINVAL;
	}
	v = h2o_strdup(&req->pool, value, SIZE_MAX);
	h2o_add_header_by_str(&req->pool, &req->res.headers, n.base, n.len, 1,
	                      NULL, v.base, v.len);
	return 0;
}

int http_server_set_max_body(struct http_server *s, size_t max_bytes)
{
	if (s == NULL || max_bytes == 0)
		return -CB_EINVAL;
	if (s->ctx_ready || s->closing)
		return -CB_ESTATE;
	s->gc.max_request_entity_size = max_bytes;
	return 0;
}

int http_server_route(struct http_server *s, const char *path_prefix,
                      http_handler_fn fn, void *arg)
{
	h2o_pathconf_t *pc;
	struct route *r;

	if (s == NULL || path_prefix == NULL || fn == NULL ||
	    path_prefix[0] != '/' || strlen(path_prefix) > 256 ||
	    has_ctl(path_prefix))
		return -CB_EINVAL;
	if (s->ctx_ready || s->closing)
		return -CB_ESTATE;
	if (s->nroutes >= HTTP_SERVER_MAX_ROUTES)
		return -CB_ETOOBIG;
	pc = h2o_config_register_path(s->host, path_prefix, 0);
	r = (struct route *)h2o_create_handler(pc, sizeof(*r));
	r->super.on_req = on_req;
	r->s = s;
	r->fn = fn;
	r->arg = arg;
	s->nroutes++;
	return 0;
}

static void maybe_finalize(struct http_server *s);

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *cn = (struct conn *)h;
	struct http_server *s = cn->s;

	if (cn->prev != NULL)
		cn->prev->next = cn->next;
	else
		s->conns = cn->next;
	if (cn->next != NULL)
		cn->next->prev = cn->prev;
	s->nconns--;
	free(cn);
	maybe_finalize(s);
}

static int same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr, &((const struct sockaddr_in *)b)->sin_addr,
		              sizeof(struct in_addr)) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		              &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr)) == 0;
	return 0;
}

/* How many open connections come from cn's address, cn included. */
static int from_same_address(const struct http_server *s, const struct conn *cn)
{
	int n = 0;

	for (const struct conn *o = s->conns; o != NULL; o = o->next)
		if (same_address(&o->peer, &cn->peer) && !uv_is_closing((const uv_handle_t *)&o->tcp))
			n++;
	return n;
}

static void on_accept(uv_stream_t *l, int status)
{
	struct http_server *s = l->data;
	struct conn *cn;
	h2o_socket_t *sock;
	int len = sizeof(cn->peer);

	if (status != 0 || s->closing)
		return;
	if ((cn = calloc(1, sizeof(*cn))) == NULL)
		return;
	if (uv_tcp_init(s->loop, &cn->tcp) != 0) {
		free(cn);
		return;
	}
	cn->s = s;
	cn->next = s->conns;
	if (s->conns != NULL)
		s->conns->prev = cn;
	s->conns = cn;
	s->nconns++;
	/* Over a cap the connection is accepted and closed at once: left in
	 * the backlog it would stall every later accept. One address (one
	 * client holding connections open) never takes them all. */
	if (uv_accept(l, (uv_stream_t *)&cn->tcp) != 0 || s->nconns > HTTP_SERVER_MAX_CONNECTIONS ||
	    uv_tcp_getpeername(&cn->tcp, (struct sockaddr *)&cn->peer, &len) != 0 ||
	    from_same_address(s, cn) > HTTP_SERVER_MAX_PER_ADDRESS) {
		uv_close((uv_handle_t *)&cn->tcp, on_conn_closed);
		return;
	}
	/* Small responses go out at once: with Nagle on, a response written
	 * in two pieces waits for the peer's delayed ACK. */
	uv_tcp_nodelay(&cn->tcp, 1);
	sock = h2o_uv_socket_create((uv_stream_t *)&cn->tcp, on_conn_closed);
	h2o_accept(&s->actx, sock);
}

static int parse_host_port(const char *hp, struct sockaddr_storage *ss)
{
	char host[HOST_MAX];
	const char *colon, *start, *end;
	char *tail;
	long port;
	size_t n;

	if (hp == NULL)
		return -CB_EINVAL;
	if (hp[0] == '[') {
		start = hp + 1;
		if ((end = strchr(start, ']')) == NULL || end[1] != ':')
			return -CB_EINVAL;
		colon = end + 1;
	} else {
		start = hp;
		if ((colon = strrchr(hp, ':')) == NULL)
			return -CB_EINVAL;
		end = colon;
	}
	n = (size_t)(end - start);
	if (n == 0 || n >= sizeof(host))
		return -CB_EINVAL;
	memcpy(host, start, n);
	host[n] = '\0';
	errno = 0;
	port = strtol(colon + 1, &tail, 10);
	if (colon[1] == '\0' || *tail != '\0' || errno != 0 || port < 0 ||
	    port > 65535)
		return -CB_EINVAL;
	if (hp[0] == '[') {
		if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) != 0)
			return -CB_EINVAL;
	} else if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) != 0) {
		return -CB_EINVAL;
	}
	return 0;
}

/* Room for HTTP_SERVER_MAX_CONNECTIONS beside the daemon's own files: the
 * soft limit on open files (often 1024) goes up to what the hard one
 * allows. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	rlim_t want = HTTP_SERVER_MAX_CONNECTIONS + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

int http_server_set_tls(struct http_server *s, const char *cert_file, const char *key_file, char *err,
			size_t errlen)
{
	SSL_CTX *ctx;
	unsigned long e;

	if (s == NULL || s->lstate != L_NONE || s->ssl != NULL)
		return -CB_ESTATE;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		snprintf(err, errlen, "TLS: out of memory");
		return -CB_ENOMEM;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		e = ERR_get_error();
		snprintf(err, errlen, "%s: not a PEM certificate chain (%s)", cert_file, ERR_reason_error_string(e));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		e = ERR_get_error();
		snprintf(err, errlen, "%s: not a PEM private key (%s)", key_file, ERR_reason_error_string(e));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "%s is not the key of %s", key_file, cert_file);
		goto fail;
	}
	s->ssl = ctx;
	s->actx.ssl_ctx = ctx;
	return 0;
fail:
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return -CB_EIO;
}

int http_server_listen(struct http_server *s, const char *host_port)
{
	struct sockaddr_storage ss;
	int rc;

	if (s == NULL)
		return -CB_EINVAL;
	if (s->closing || s->lstate != L_NONE)
		return -CB_ESTATE;
	memset(&ss, 0, sizeof(ss));
	if ((rc = parse_host_port(host_port, &ss)) != 0)
		goto out;
	if (!s->ctx_ready) {
		h2o_context_init(&s->ctx, s->loop, &s->gc);
		s->actx.ctx = &s->ctx;
		s->actx.hosts = s->gc.hosts;
		s->ctx_ready = 1;
	}
	rc = -CB_EIO;
	if (uv_tcp_init(s->loop, &s->listener) != 0)
		goto out;
	s->listener.data = s;
	s->lstate = L_OPEN;
	if (uv_tcp_bind(&s->listener, (struct sockaddr *)&ss,
	                ss.ss_family == AF_INET6 ? UV_TCP_IPV6ONLY : 0) != 0)
		goto out;
	if (uv_listen((uv_stream_t *)&s->listener, 511, on_accept) != 0)
		goto out;
	raise_fd_limit();
	rc = 0;
out:
	return rc;
}

int http_server_port(const struct http_server *s)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	if (s == NULL || s->lstate != L_OPEN)
		return -CB_ESTATE;
	if (uv_tcp_getsockname(&s->listener, (struct sockaddr *)&ss, &len) != 0)
		return -CB_EIO;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

struct http_server *http_server_new(uv_loop_t *loop)
{
	struct http_server *s;

	/* Writing to a client that hung up must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	s->loop = loop;
	if (uv_timer_init(loop, &s->fence_a) != 0 ||
	    uv_timer_init(loop, &s->fence_b) != 0) {
		/* uv_timer_init cannot fail on a valid loop. */
		free(s);
		return NULL;
	}
	s->fence_a.data = s;
	s->fence_b.data = s;
	h2o_config_init(&s->gc);
	/* H2O's request timer runs from the connection's start (or the end
	 * of the last answer) and is not put back by what arrives: a request
	 * whose head and body are not in by then, or a keep-alive connection
	 * idle that long, is closed, however slowly the client trickles. */
	s->gc.http1.req_timeout = HTTP_SERVER_REQUEST_MS;
	s->gc.server_name = h2o_iovec_init(H2O_STRLIT("casebot"));
	s->gc.max_request_entity_size = HTTP_SERVER_MAX_BODY;
	/* No h2c: HTTP/2 comes from the proxy in front, over TLS. */
	s->gc.http1.upgrade_to_http2 = 0;
	s->host = h2o_config_register_host(&s->gc,
	                                   h2o_iovec_init(H2O_STRLIT("default")),
	                                   65535);
	return s;
}

static void on_fence_b(uv_handle_t *h)
{
	struct http_server *s = h->data;
	void (*cb)(void *) = s->closed_cb;
	void *arg = s->closed_arg;

	h2o_config_dispose(&s->gc);
	if (s->ssl != NULL)
		SSL_CTX_free(s->ssl);
	free(s);
	if (cb != NULL)
		cb(arg);
}

/* H2O's timers were closed in the same loop turn as fence A, so by the time
 * fence A's callback closes fence B, their close callbacks have all run or
 * run in this pass; fence B's callback runs strictly after them. */
static void on_fence_a(uv_handle_t *h)
{
	struct http_server *s = h->data;

	uv_close((uv_handle_t *)&s->fence_b, on_fence_b);
}

static void maybe_finalize(struct http_server *s)
{
	unsigned int stop;

	if (!s->closing || s->finalizing || s->nconns > 0 ||
	    s->lstate == L_OPEN || s->lstate == L_CLOSING)
		return;
	s->finalizing = 1;
	if (s->ctx_ready) {
		/* h2o_context_dispose() ends with uv_run(NOWAIT); a set stop
		 * flag makes that run return at once instead of re-entering
		 * the loop from inside our callback. */
		stop = s->loop->stop_flag;
		uv_stop(s->loop);
		h2o_context_dispose(&s->ctx);
		s->loop->stop_flag = stop;
		s->ctx_ready = 0;
	}
	uv_close((uv_handle_t *)&s->fence_a, on_fence_a);
}

static void on_listener_closed(uv_handle_t *h)
{
	struct http_server *s = h->data;

	s->lstate = L_CLOSED;
	maybe_finalize(s);
}

void http_server_close(struct http_server *s, void (*closed_cb)(void *arg),
                       void *arg)
{
	struct pending *p;
	struct conn *cn;
	h2o_req_t *req;
	uv_os_fd_t fd;

	if (s == NULL || s->closing)
		return;
	s->closing = 1;
	s->closed_cb = closed_cb;
	s->closed_arg = arg;
	if (s->lstate == L_OPEN) {
		s->lstate = L_CLOSING;
		uv_close((uv_handle_t *)&s->listener, on_listener_closed);
	}
	/* The flag alone turns keep-alive off for requests still arriving.
	 * h2o_context_request_shutdown() would also arm HTTP/2's one-second
	 * GOAWAY timer, which we have no use for and which would still be
	 * linked when h2o_context_dispose() asserts that its timers are idle. */
	if (s->ctx_ready)
		s->ctx.shutdown_requested = 1;
	/* Requests whose handlers have not answered get a 503 now; their
	 * handles stay with the handlers, detached, until they respond. */
	while ((p = s->pending) != NULL) {
		req = p->req;
		pending_detach(p);
		p->req = NULL;
		send_response(req, 503, "text/plain; charset=utf-8",
		              "shutting down\n", 14);
	}
	for (cn = s->conns; cn != NULL; cn = cn->next) {
		if (uv_is_closing((uv_handle_t *)&cn->tcp))
			continue;
		if (uv_fileno((uv_handle_t *)&cn->tcp, &fd) == 0)
			shutdown(fd, SHUT_RD);
	}
	maybe_finalize(s);
}
