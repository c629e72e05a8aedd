/* libcurl multi on libuv, for HTTP(S) requests and SMTP mail alike. The
 * shape is curl's docs/examples/multi-uv.c with its four gaps closed:
 * completed transfers are read after every timer and socket event, poll
 * errors reach curl as CURL_CSELECT_ERR, allocation and uv_poll_init_socket
 * failures are reported to curl, and shutdown removes the transfers before
 * the multi handle and closes the handles last. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "bot/net/http_client.h"

#define BODY_INITIAL 4096
#define HEADER_LINE_MAX 8192

/* One socket curl asked us to watch. Freed in the poll's close callback. */
struct sock {
	uv_poll_t poll;
	struct http_client *c;
	curl_socket_t fd;
	int closing;
	struct sock *prev, *next;   /* live list: not yet closing */
};

/* One transfer, from http_client_request() or http_client_mail() to its
 * done callback. */
struct xfer {
	struct http_client *c;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *rcpt;    /* mail: envelope recipients */
	curl_mime *mime;            /* a multipart POST */
	char *upload;               /* mail: the message, fed by on_read */
	size_t up_len, up_pos;
	int mail;
	http_done_cb cb;
	void *arg;
	char *buf;                  /* in-memory body, NUL-terminated */
	size_t len, alloc, max;
	int fd;                     /* output file, -1 when none */
	char *path;
	int (*sink)(const char *p, size_t n, void *arg);
	void *sink_arg;
	int sink_error;
	size_t file_len;
	int to_memory;              /* decided at the first body byte */
	int decided;
	int toobig;
	int io_error;
	struct xfer *prev, *next;
};

struct http_client {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	int handles;                /* libuv handles whose close_cb has not run */
	struct sock *socks;
	struct xfer *xfers;
	int nxfers;
	int dispatching;            /* inside done callbacks */
	int closing;
	int close_pending;          /* close asked while dispatching */
	void (*closed_cb)(void *arg);
	void *closed_arg;
};

static void check_info(struct http_client *c);
static void finish_close(struct http_client *c);

static void maybe_free_client(struct http_client *c)
{
	void (*cb)(void *);
	void *arg;

	if (!c->closing || c->handles > 0 || c->multi != NULL)
		return;
	cb = c->closed_cb;
	arg = c->closed_arg;
	free(c);
	curl_global_cleanup();
	if (cb != NULL)
		cb(arg);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct http_client *c = h->data;

	c->handles--;
	maybe_free_client(c);
}

static void on_sock_closed(uv_handle_t *h)
{
	struct sock *s = (struct sock *)h;
	struct http_client *c = s->c;

	free(s);
	c->handles--;
	maybe_free_client(c);
}

static void sock_close(struct sock *s)
{
	if (s->closing)
		return;
	s->closing = 1;
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		s->c->socks = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	s->prev = s->next = NULL;
	uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct sock *s = (struct sock *)h;
	struct http_client *c = s->c;
	int flags = 0;
	int running;

	/* An error must reach curl, or the transfer waits for its timeout. */
	if (status < 0) {
		flags = CURL_CSELECT_ERR;
	} else {
		if (events & UV_READABLE)
			flags |= CURL_CSELECT_IN;
		if (events & UV_WRITABLE)
			flags |= CURL_CSELECT_OUT;
	}
	if (c->multi == NULL)
		return;
	curl_multi_socket_action(c->multi, s->fd, flags, &running);
	check_info(c);
}

static void on_timer(uv_timer_t *h)
{
	struct http_client *c = h->data;
	int running;

	if (c->multi == NULL)
		return;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	/* Read completions whatever running says: a lone transfer that timed
	 * out leaves running at 0 and is reported only here. */
	check_info(c);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&c->timer);
	else
		uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                          void *socketp)
{
	struct http_client *c = userp;
	struct sock *s = socketp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		/* curl forgets the socket itself after this call. */
		if (s != NULL)
			sock_close(s);
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		if (uv_poll_init_socket(c->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->c = c;
		s->fd = fd;
		s->next = c->socks;
		if (c->socks != NULL)
			c->socks->prev = s;
		c->socks = s;
		c->handles++;
		curl_multi_assign(c->multi, fd, s);
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= UV_WRITABLE;
	if (uv_poll_start(&s->poll, events, on_poll) != 0) {
		curl_multi_assign(c->multi, fd, NULL);
		sock_close(s);
		return -1;
	}
	return 0;
}

static int buf_append(struct xfer *x, const char *p, size_t n)
{
	size_t want;
	char *nb;

	if (n > x->max - x->len) {
		x->toobig = 1;
		return -CB_ETOOBIG;
	}
	if (x->len + n + 1 > x->alloc) {
		want = x->alloc ? x->alloc : BODY_INITIAL;
		while (want < x->len + n + 1)
			want *= 2;
		if (want > x->max + 1)
			want = x->max + 1;
		nb = realloc(x->buf, want);
		if (nb == NULL)
			return -CB_ENOMEM;
		x->buf = nb;
		x->alloc = want;
	}
	memcpy(x->buf + x->len, p, n);
	x->len += n;
	x->buf[x->len] = '\0';
	return 0;
}

static int file_append(struct xfer *x, const char *p, size_t n)
{
	ssize_t w;

	if (n > x->max - x->file_len) {
		x->toobig = 1;
		return -CB_ETOOBIG;
	}
	while (n > 0) {
		w = write(x->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			x->io_error = 1;
			return -CB_EIO;
		}
		p += w;
		n -= (size_t)w;
		x->file_len += (size_t)w;
	}
	return 0;
}

static int sink_append(struct xfer *x, const char *p, size_t n)
{
	int rc;

	if (n > x->max - x->file_len) {
		x->toobig = 1;
		return -CB_ETOOBIG;
	}
	if ((rc = x->sink(p, n, x->sink_arg)) < 0) {
		x->sink_error = rc;
		return rc;
	}
	x->file_len += n;
	return 0;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb;
	long code = 0;

	/* Only a 2xx body goes to the file; an error page is kept in memory so
	 * the caller can read it, under the same cap. */
	if (!x->decided) {
		x->decided = 1;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
		x->to_memory = (x->fd < 0 && x->sink == NULL) || code < 200 || code > 299;
	}
	if (x->to_memory) {
		if (buf_append(x, p, n) != 0)
			return 0;
	} else if (x->sink != NULL) {
		if (sink_append(x, p, n) != 0)
			return 0;
	} else if (file_append(x, p, n) != 0) {
		return 0;
	}
	return n;
}

static void xfer_free(struct xfer *x)
{
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_mime_free(x->mime);
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->rcpt);
	free(x->upload);
	if (x->fd >= 0)
		close(x->fd);
	free(x->path);
	free(x->buf);
	free(x);
}

static void xfer_unlink(struct xfer *x)
{
	struct http_client *c = x->c;

	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		c->xfers = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	x->prev = x->next = NULL;
	c->nxfers--;
}

/* Seconds from a Retry-After header (delta-seconds or an HTTP date). */
static long retry_after(CURL *easy)
{
	struct curl_header *h;
	char *end;
	long v;
	time_t t;

	if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) !=
	    CURLHE_OK)
		return -1;
	errno = 0;
	v = strtol(h->value, &end, 10);
	if (end != h->value && *end == '\0' && errno == 0)
		return v < 0 ? 0 : v;
	t = curl_getdate(h->value, NULL);
	if (t < 0)
		return -1;
	t -= time(NULL);
	return t < 0 ? 0 : (long)t;
}

static int map_error(const struct xfer *x, CURLcode rc, int *timed_out)
{
	*timed_out = 0;
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		*timed_out = 1;
		return -CB_EGATEWAY;
	case CURLE_FILESIZE_EXCEEDED:
		return -CB_ETOOBIG;
	case CURLE_OUT_OF_MEMORY:
		return -CB_ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -CB_EINVAL;
	case CURLE_WRITE_ERROR:
	case CURLE_ABORTED_BY_CALLBACK:
		if (x->sink_error != 0)
			return x->sink_error;
		if (x->toobig)
			return -CB_ETOOBIG;
		if (x->io_error)
			return -CB_EIO;
		if (rc == CURLE_WRITE_ERROR)
			return -CB_ENOMEM;
		return -CB_EGATEWAY;
	default:
		return -CB_EGATEWAY;
	}
}

/* curl fails a mail transfer the moment the server refuses a command; that
 * refusal is an answer, like an HTTP error status, not a broken transport.
 * These are the codes curl gives for a refused greeting, EHLO, AUTH, MAIL,
 * RCPT or DATA; a timeout or a TLS failure stays an error whatever the last
 * reply was. */
static int mail_refused(CURLcode rc, long code)
{
	if (code < 400 || code > 599)
		return 0;
	switch (rc) {
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_LOGIN_DENIED:
	case CURLE_REMOTE_ACCESS_DENIED:
		return 1;
	default:
		return 0;
	}
}

/* Reports one finished transfer and frees it. The easy handle must already
 * be out of the multi handle. */
static void complete(struct xfer *x, CURLcode rc, int cancelled)
{
	struct http_response res;
	long code = 0, connects = 0;
	double total = 0;

	memset(&res, 0, sizeof(res));
	res.retry_after = -1;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
	curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
	res.status = (int)code;
	res.total_seconds = total;
	res.reused = code != 0 && connects == 0;
	if (cancelled) {
		res.error = -CB_EGATEWAY;
		res.cancelled = 1;
		res.reason = "cancelled";
	} else {
		res.error = map_error(x, rc, &res.timed_out);
		if (x->mail && mail_refused(rc, code))
			res.error = 0;
		if (res.error != 0)
			res.reason = curl_easy_strerror(rc);
	}
	if (code != 0 && !x->mail)
		res.retry_after = retry_after(x->easy);
	/* A file is kept only for a complete 2xx body. */
	if (x->fd >= 0) {
		close(x->fd);
		x->fd = -1;
		if (res.error != 0 || code < 200 || code > 299)
			unlink(x->path);
	}
	if ((x->path != NULL || x->sink != NULL) && x->decided && !x->to_memory) {
		res.body = NULL;
		res.len = x->file_len;
	} else {
		res.body = x->buf != NULL ? x->buf : "";
		res.len = x->len;
	}
	x->cb(&res, x->arg);
	xfer_free(x);
}

/* A failed mail may leave its connection in curl's cache mid-dialogue: one
 * that timed out waiting for the reply to its end of DATA still owes that
 * reply, and the next mail over it would read the late 250 as the answer
 * to its MAIL FROM; closing the client would wait for it too (curl sends
 * QUIT and blocks for the answer). Shutting the socket down makes curl see
 * the connection as dead: it is dropped at its next check, and QUIT fails
 * at once. A connection curl has closed already is not found: nothing to do. */
static void mail_spoil_connection(CURL *easy)
{
	curl_socket_t fd = CURL_SOCKET_BAD;

	if (curl_easy_getinfo(easy, CURLINFO_ACTIVESOCKET, &fd) == CURLE_OK &&
	    fd != CURL_SOCKET_BAD)
		shutdown(fd, SHUT_RDWR);
}

static void check_info(struct http_client *c)
{
	CURLMsg *msg;
	int pending;
	struct xfer *x;
	char *priv;
	CURLcode rc;

	c->dispatching++;
	while (c->multi != NULL &&
	       (msg = curl_multi_info_read(c->multi, &pending)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		priv = NULL;
		rc = msg->data.result;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct xfer *)(void *)priv;
		/* While the handle still knows its connection. */
		if (x != NULL && x->mail && rc != CURLE_OK)
			mail_spoil_connection(msg->easy_handle);
		curl_multi_remove_handle(c->multi, msg->easy_handle);
		if (x == NULL)
			continue;
		xfer_unlink(x);
		complete(x, rc, 0);
	}
	c->dispatching--;
	if (c->dispatching == 0 && c->close_pending) {
		c->close_pending = 0;
		finish_close(c);
	}
}

static int valid_header(const char *h)
{
	size_t n = strnlen(h, HEADER_LINE_MAX);

	return n > 0 && n < HEADER_LINE_MAX && strpbrk(h, "\r\n") == NULL;
}

/* What every transfer sets, HTTP or mail: its URL and protocols, the
 * timeouts, no signals, and where its answer goes. */
/* Hands a prepared transfer to the multi handle and lists it: HTTP and
 * mail alike. */
static int start_xfer(struct http_client *c, struct xfer *x)
{
	if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK)
		return -CB_ENOMEM;
	x->next = c->xfers;
	if (c->xfers != NULL)
		c->xfers->prev = x;
	c->xfers = x;
	c->nxfers++;
	return 0;
}

static int setup_common(struct xfer *x, const char *url, const char *protocols, long timeout_ms)
{
	CURL *e = x->easy;
	long timeout = timeout_ms ? timeout_ms : HTTP_CLIENT_TIMEOUT_MS;
	long connect = timeout < HTTP_CLIENT_CONNECT_TIMEOUT_MS ?
	               timeout : HTTP_CLIENT_CONNECT_TIMEOUT_MS;

	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, protocols) != CURLE_OK)
		return -CB_EINVAL;
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect);
	return 0;
}

static int setup_easy(struct xfer *x, const struct http_request *req)
{
	CURL *e = x->easy;
	char line[HEADER_LINE_MAX];
	struct curl_slist *l;
	int rc = -CB_EINVAL;
	size_t i;

	if (setup_common(x, req->url, "http,https", req->timeout_ms) != 0)
		goto out;
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	/* Refuse early when Content-Length already says too much; the write
	 * callback enforces the same cap on what actually arrives. */
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "casebot/" CASEBOT_VERSION);

	if (req->method == HTTP_POST && req->form != NULL) {
		size_t total = 0;

		if (req->nform == 0 || req->nform > HTTP_CLIENT_MAX_FORM)
			goto out;
		if ((x->mime = curl_mime_init(e)) == NULL) {
			rc = -CB_ENOMEM;
			goto out;
		}
		for (i = 0; i < req->nform; i++) {
			const struct http_form_field *f = &req->form[i];
			curl_mimepart *part;

			total += f->len;
			if (total > HTTP_CLIENT_MAX_REQUEST) {
				rc = -CB_ETOOBIG;
				goto out;
			}
			if (f->name == NULL || (part = curl_mime_addpart(x->mime)) == NULL ||
			    curl_mime_name(part, f->name) != CURLE_OK ||
			    curl_mime_data(part, f->len > 0 ? f->data : "", f->len) != CURLE_OK ||
			    (f->filename != NULL && curl_mime_filename(part, f->filename) != CURLE_OK) ||
			    (f->type != NULL && curl_mime_type(part, f->type) != CURLE_OK)) {
				rc = -CB_ENOMEM;
				goto out;
			}
		}
		curl_easy_setopt(e, CURLOPT_MIMEPOST, x->mime);
	} else if (req->method == HTTP_POST) {
		if (req->body_len > HTTP_CLIENT_MAX_REQUEST) {
			rc = -CB_ETOOBIG;
			goto out;
		}
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)req->body_len);
		if (curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
		                     req->body_len ? req->body : "") != CURLE_OK) {
			rc = -CB_ENOMEM;
			goto out;
		}
		if (req->content_type != NULL) {
			if (snprintf(line, sizeof(line), "Content-Type: %s",
			             req->content_type) >= (int)sizeof(line) ||
			    !valid_header(line))
				goto out;
			if ((l = curl_slist_append(x->headers, line)) == NULL) {
				rc = -CB_ENOMEM;
				goto out;
			}
			x->headers = l;
		}
	} else if (req->method == HTTP_GET) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else {
		goto out;
	}
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++) {
		if (i >= HTTP_CLIENT_MAX_HEADERS || !valid_header(req->headers[i]))
			goto out;
		if ((l = curl_slist_append(x->headers, req->headers[i])) == NULL) {
			rc = -CB_ENOMEM;
			goto out;
		}
		x->headers = l;
	}
	if (x->headers != NULL)
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	rc = 0;
out:
	return rc;
}

int http_client_request(struct http_client *c, const struct http_request *req,
                        http_done_cb cb, void *arg)
{
	struct xfer *x = NULL;
	int rc = -CB_EINVAL;

	if (c == NULL || req == NULL || cb == NULL || req->url == NULL)
		goto out;
	if (c->closing) {
		rc = -CB_ESTATE;
		goto out;
	}
	if ((strncasecmp(req->url, "http://", 7) != 0 &&
	     strncasecmp(req->url, "https://", 8) != 0) ||
	    req->timeout_ms < 0 ||
	    req->max_response_bytes > HTTP_CLIENT_MAX_RESPONSE_LIMIT)
		goto out;
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	x->c = c;
	x->cb = cb;
	x->arg = arg;
	x->fd = -1;
	x->max = req->max_response_bytes ? req->max_response_bytes :
	         HTTP_CLIENT_MAX_RESPONSE;
	if ((x->easy = curl_easy_init()) == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	if ((rc = setup_easy(x, req)) != 0)
		goto out;
	x->sink = req->sink;
	x->sink_arg = req->sink_arg;
	if (req->output_path != NULL && req->sink == NULL) {
		if ((x->path = strdup(req->output_path)) == NULL) {
			rc = -CB_ENOMEM;
			goto out;
		}
		/* O_EXCL and O_NOFOLLOW: never write through a planted link or
		 * over a file someone else owns. */
		x->fd = open(x->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		             O_CLOEXEC, 0600);
		if (x->fd < 0) {
			rc = errno == EEXIST ? -CB_EEXIST : -CB_EIO;
			free(x->path);
			x->path = NULL;
			goto out;
		}
	}
	if ((rc = start_xfer(c, x)) != 0)
		goto out;
	x = NULL;
out:
	if (x != NULL) {
		if (x->fd >= 0)
			unlink(x->path);
		xfer_free(x);
	}
	return rc;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *userp)
{
	struct xfer *x = userp;
	size_t n = size * nmemb, left = x->up_len - x->up_pos;

	if (n > left)
		n = left;
	memcpy(p, x->upload + x->up_pos, n);
	x->up_pos += n;
	return n;
}

/* curl rewinds when it retries on a fresh connection after a reused one
 * turned out dead. */
static int on_seek(void *userp, curl_off_t offset, int origin)
{
	struct xfer *x = userp;

	if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > x->up_len)
		return CURL_SEEKFUNC_CANTSEEK;
	x->up_pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

/* An envelope address goes into an SMTP command line: no control bytes
 * (CR, LF end the command) and no angle brackets (curl adds its own). */
static int valid_address(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strnlen(s, HTTP_CLIENT_MAX_ADDRESS + 1);
	if (n == 0 || n > HTTP_CLIENT_MAX_ADDRESS)
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>')
			return 0;
	return 1;
}

static int valid_credential(const char *s)
{
	return s == NULL || strnlen(s, HTTP_CLIENT_MAX_CREDENTIAL + 1) <=
	       HTTP_CLIENT_MAX_CREDENTIAL;
}

static int setup_mail(struct xfer *x, const struct http_mail *m)
{
	CURL *e = x->easy;
	struct curl_slist *l;
	int rc = -CB_EINVAL;
	size_t i;

	if (setup_common(x, m->url, "smtp,smtps", m->timeout_ms) != 0)
		goto out;
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(e, CURLOPT_READDATA, x);
	curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
	curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->up_len);
	if (curl_easy_setopt(e, CURLOPT_MAIL_FROM, m->from) != CURLE_OK) {
		rc = -CB_ENOMEM;
		goto out;
	}
	for (i = 0; m->rcpt[i] != NULL; i++) {
		if (i >= HTTP_CLIENT_MAX_RCPT || !valid_address(m->rcpt[i]))
			goto out;
		if ((l = curl_slist_append(x->rcpt, m->rcpt[i])) == NULL) {
			rc = -CB_ENOMEM;
			goto out;
		}
		x->rcpt = l;
	}
	if (x->rcpt == NULL)
		goto out;
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, x->rcpt);
	/* curl keeps its own copies of the credentials. */
	if (m->username != NULL && m->username[0] != '\0') {
		if (curl_easy_setopt(e, CURLOPT_USERNAME, m->username) != CURLE_OK ||
		    curl_easy_setopt(e, CURLOPT_PASSWORD,
		                     m->password != NULL ? m->password : "") !=
		    CURLE_OK) {
			rc = -CB_ENOMEM;
			goto out;
		}
	}
	/* smtps:// is TLS from the first byte; smtp:// upgrades with STARTTLS
	 * and, when TLS is required, refuses to go on without it. */
	if (m->require_tls && strncasecmp(m->url, "smtp://", 7) == 0)
		curl_easy_setopt(e, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	rc = 0;
out:
	return rc;
}

/* A mail transfer checked and set up, not started. */
static int mail_xfer_new(struct http_client *c, const struct http_mail *m, http_done_cb cb, void *arg,
                         struct xfer **out)
{
	struct xfer *x = NULL;
	int rc = -CB_EINVAL;

	*out = NULL;
	if (m == NULL || m->url == NULL || m->rcpt == NULL || m->message == NULL)
		goto out;
	if ((strncasecmp(m->url, "smtp://", 7) != 0 &&
	     strncasecmp(m->url, "smtps://", 8) != 0) ||
	    strpbrk(m->url, "\r\n") != NULL || m->timeout_ms < 0 ||
	    m->message_len == 0 || !valid_address(m->from) ||
	    !valid_credential(m->username) || !valid_credential(m->password))
		goto out;
	if (m->message_len > HTTP_CLIENT_MAX_REQUEST) {
		rc = -CB_ETOOBIG;
		goto out;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	x->c = c;
	x->cb = cb;
	x->arg = arg;
	x->fd = -1;
	x->mail = 1;
	x->max = 64 * 1024;     /* SMTP delivers no body; a cap all the same */
	if ((x->upload = malloc(m->message_len)) == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	memcpy(x->upload, m->message, m->message_len);
	x->up_len = m->message_len;
	if ((x->easy = curl_easy_init()) == NULL) {
		rc = -CB_ENOMEM;
		goto out;
	}
	if ((rc = setup_mail(x, m)) != 0)
		goto out;
	*out = x;
	x = NULL;
out:
	if (x != NULL)
		xfer_free(x);
	return rc;
}

int http_client_mail(struct http_client *c, const struct http_mail *m,
                     http_done_cb cb, void *arg)
{
	struct xfer *x = NULL;
	int rc;

	if (c == NULL || cb == NULL)
		return -CB_EINVAL;
	if (c->closing)
		return -CB_ESTATE;
	if ((rc = mail_xfer_new(c, m, cb, arg, &x)) != 0)
		return rc;
	if ((rc = start_xfer(c, x)) != 0)
		xfer_free(x);
	return rc;
}

static int mail_progress(void *p, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return atomic_load((atomic_int *)p) ? 1 : 0;
}

int http_mail_send_blocking(const struct http_mail *m, atomic_int *stop, struct http_response *res)
{
	struct xfer *x = NULL;
	long code = 0;
	double total = 0;
	CURLcode cc;
	int rc;

	memset(res, 0, sizeof(*res));
	res->retry_after = -1;
	res->body = "";
	if ((rc = mail_xfer_new(NULL, m, NULL, NULL, &x)) != 0) {
		res->error = rc;
		res->reason = "the mail could not be set up";
		return rc;
	}
	/* curl calls this while it waits, even for the reply to the end of
	 * DATA: a stop comes through within a second. */
	curl_easy_setopt(x->easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(x->easy, CURLOPT_XFERINFOFUNCTION, mail_progress);
	curl_easy_setopt(x->easy, CURLOPT_XFERINFODATA, stop);
	cc = curl_easy_perform(x->easy);
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
	res->status = (int)code;
	res->total_seconds = total;
	if (cc == CURLE_ABORTED_BY_CALLBACK && atomic_load(stop)) {
		res->error = -CB_EGATEWAY;
		res->cancelled = 1;
		res->reason = "cancelled";
	} else {
		res->error = map_error(x, cc, &res->timed_out);
		if (mail_refused(cc, code))
			res->error = 0;
		if (res->error != 0)
			res->reason = curl_easy_strerror(cc);
	}
	/* A mail that did not finish may owe the server's reply; the QUIT of
	 * the cleanup must not wait for it. */
	if (cc != CURLE_OK)
		mail_spoil_connection(x->easy);
	xfer_free(x);
	return 0;
}

int http_client_active(const struct http_client *c)
{
	return c->nxfers;
}

struct http_client *http_client_new(uv_loop_t *loop)
{
	struct http_client *c = NULL;
	int global = 0;

	/* With CURLOPT_NOSIGNAL curl no longer ignores SIGPIPE around its
	 * writes, and a peer that hangs up must not kill the daemon. */
	signal(SIGPIPE, SIG_IGN);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto fail;
	global = 1;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		goto fail;
	c->loop = loop;
	if ((c->multi = curl_multi_init()) == NULL)
		goto fail;
	if (uv_timer_init(loop, &c->timer) != 0)
		goto fail;
	c->timer.data = c;
	c->handles = 1;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
	                  HTTP_CLIENT_MAX_CACHED_CONNECTIONS);
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
	                  HTTP_CLIENT_MAX_HOST_CONNECTIONS);
	return c;
fail:
	if (c != NULL) {
		if (c->multi != NULL)
			curl_multi_cleanup(c->multi);
		free(c);
	}
	if (global)
		curl_global_cleanup();
	return NULL;
}

/* The order matters: transfers out of the multi handle first (their owners
 * hear about it), then the multi handle, which may still call the socket
 * callback, then our handles, freed in their close callbacks. */
static void finish_close(struct http_client *c)
{
	struct xfer *x;

	while ((x = c->xfers) != NULL) {
		xfer_unlink(x);
		curl_multi_remove_handle(c->multi, x->easy);
		complete(x, CURLE_OK, 1);
	}
	curl_multi_cleanup(c->multi);
	c->multi = NULL;
	while (c->socks != NULL)
		sock_close(c->socks);
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}

void http_client_close(struct http_client *c, void (*closed_cb)(void *arg),
                       void *arg)
{
	if (c == NULL || c->closing)
		return;
	c->closing = 1;
	c->closed_cb = closed_cb;
	c->closed_arg = arg;
	/* Done callbacks run inside check_info's loop over the multi handle;
	 * it finishes the close when that loop ends. */
	if (c->dispatching > 0) {
		c->close_pending = 1;
		return;
	}
	finish_close(c);
}
