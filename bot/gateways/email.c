/* The email gateway. A send is one SMTP transfer on the daemon's HTTP client;
 * the message is built here: the part's first line becomes the Subject
 * (an RFC 2047 encoded-word when it is not plain ASCII), the rest the body,
 * sent quoted-printable so that no line nears SMTP's 998-byte limit and the
 * mail passes any relay, 8BITMIME or not. libcurl dot-stuffs the upload
 * itself. The password and the addresses are never logged. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <stdatomic.h>
#include <time.h>

#include <curl/curl.h>

#include "bot/config.h"
#include "bot/metrics.h"
#include "store/store.h"
#include "bot/gateways/email.h"
#include "bot/net/http_client.h"
#include "bot/log.h"

#define EMAIL_ADDRESS_MAX 254      /* RFC 5321 path limit, less the brackets */
#define EMAIL_HEADERS_MAX 4096
#define EMAIL_QP_LINE 76           /* RFC 2045: encoded lines at most 76 */
#define EMAIL_WORD_BYTES 45        /* 60 base64 chars: a 72-char encoded-word */
#define EMAIL_ID_BYTES 15          /* 30 hex digits: fits gateway_result.message_id */
/* A mail server is no chat service with a published limit; these keep a
 * burst of alerts from looking like spam, and are this gateway's own: mail
 * never uses up what Telegram allows. */
#define EMAIL_RATE_PER_CHAT 1.0
#define EMAIL_RATE_GLOBAL 10.0

struct em {
	struct gateway gw;           /* first: the daemon holds a struct gateway * */
	char url[256];
	char from[256];
	char username[128];
	char password[256];
	char domain[256];            /* right of Message-ID's '@' */
	int require_tls;
	atomic_int stop;             /* set when the gateway goes: workers give up */
	int inflight;                /* mail transfers and refusals not yet reported */
	int refs;                    /* the same, plus timers not yet closed */
	int freeing;
	struct em_call *refusals;    /* refusals waiting for their loop turn */
};

struct em_call {
	struct em *em;
	gateway_sent_cb cb;
	void *arg;
	char message_id[EMAIL_ID_BYTES * 2 + 1];
	uv_timer_t timer;            /* a refusal reports on the next loop turn */
	struct gateway_result r;
	struct em_call *prev, *next;
	/* A mail on a worker thread: what it sends, its own copies of the
	 * settings (the gateway may go meanwhile), and the server's answer. */
	uv_work_t work;
	struct http_mail mail;
	const char *rcpt[2];
	char rcpt_s[EMAIL_ADDRESS_MAX + 1];
	char url[256], from[256], username[128], password[256];
	char *msg;
	struct http_response res;
};

/* An output buffer with a hard cap; overflow sticks and fails the build. */
struct buf {
	char *p;
	size_t len, cap;
	int overflow;
};

static struct em *em_of(struct gateway *gw)
{
	return (struct em *)gw;
}

static void em_release(struct em *em)
{
	if (--em->refs == 0 && em->freeing)
		free(em);
}

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = 1;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void put_str(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* A staff address (and our From) goes into a header and an SMTP command:
 * one '@', ASCII (no SMTPUTF8), no spaces, no controls, nothing that makes
 * a header a list or a comment. */
static int valid_recipient(const char *a)
{
	size_t n = strnlen(a, EMAIL_ADDRESS_MAX + 1);
	const char *at = strchr(a, '@');

	if (n == 0 || n > EMAIL_ADDRESS_MAX || at == NULL || at == a || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL)
		return 0;
	for (const unsigned char *p = (const unsigned char *)a; *p != '\0'; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("<>,;:\"()[]\\", *p) != NULL)
			return 0;
	return 1;
}

/* The largest cut at or below n that does not split a UTF-8 sequence;
 * never 0 for n > 0 (a cut that would leave nothing splits instead), and
 * n itself in bytes that are not UTF-8. */
static size_t utf8_cut(const unsigned char *s, size_t n, size_t len)
{
	size_t k = n;

	if (n >= len)
		return len;
	while (k > 0 && n - k < 3 && (s[k] & 0xc0) == 0x80)
		k--;
	return (s[k] & 0xc0) == 0x80 || k == 0 ? n : k;
}

/* The first line, controls turned to spaces, trimmed and capped. */
static size_t clean_subject(const char *text, size_t len, char *out, size_t cap)
{
	const char *nl = memchr(text, '\n', len);
	size_t n = nl != NULL ? (size_t)(nl - text) : len, o = 0, start = 0;

	for (size_t i = 0; i < n && o < cap - 1; i++) {
		unsigned char c = (unsigned char)text[i];

		out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	while (start < o && out[start] == ' ')
		start++;
	memmove(out, out + start, o - start);
	o -= start;
	if (o > EMAIL_SUBJECT_MAX)
		o = utf8_cut((const unsigned char *)out, EMAIL_SUBJECT_MAX, o);
	while (o > 0 && out[o - 1] == ' ')
		o--;
	out[o] = '\0';
	return o;
}

/* Plain ASCII goes as it is; anything else, or text a reader would take for
 * an encoded-word, as UTF-8 base64 encoded-words, each whole characters. */
static void put_subject(struct buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char b64[sodium_base64_ENCODED_LEN(EMAIL_WORD_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	int plain = strstr(s, "=?") == NULL;
	size_t i, k;

	for (i = 0; i < n && plain; i++)
		plain = u[i] < 0x80;
	put_str(b, "Subject: ");
	if (plain) {
		put(b, s, n);
		put_str(b, "\r\n");
		return;
	}
	for (i = 0; i < n; i = k) {
		k = i + utf8_cut(u + i, EMAIL_WORD_BYTES, n - i);
		sodium_bin2base64(b64, sizeof(b64), u + i, k - i, sodium_base64_VARIANT_ORIGINAL);
		if (i > 0)
			put_str(b, "\r\n ");     /* folding: the space between words is not text */
		put_str(b, "=?UTF-8?B?");
		put_str(b, b64);
		put_str(b, "?=");
	}
	put_str(b, "\r\n");
}

static void put_date(struct buf *b, time_t now)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	char line[64];
	int n;

	/* Our own names: strftime's would follow the locale. */
	gmtime_r(&now, &tm);
	n = snprintf(line, sizeof(line), "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
		     days[tm.tm_wday % 7], tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900,
		     tm.tm_hour, tm.tm_min, tm.tm_sec);
	put(b, line, (size_t)n);
}

static int at_line_end(const char *s, size_t i, size_t n)
{
	return i == n || s[i] == '\n' || (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n');
}

/* Quoted-printable (RFC 2045 6.7): LF or CRLF is a line break, any other
 * byte outside printable ASCII is =XX, space and tab are escaped at a line
 * end, and a soft break keeps every line at most 76 characters. A line's
 * "From " is escaped too, against mbox mangling on the way. */
static void put_body(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0, i, w;
	char enc[3];

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\n' || (c == '\r' && i + 1 < n && s[i + 1] == '\n')) {
			i += c == '\r';
			put_str(b, "\r\n");
			col = 0;
			continue;
		}
		if (((c == ' ' || c == '\t') && !at_line_end(s, i + 1, n)) ||
		    (c >= 33 && c <= 126 && c != '=' &&
		     !(c == 'F' && col == 0 && n - i >= 5 && memcmp(s + i, "From ", 5) == 0))) {
			enc[0] = (char)c;
			w = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			w = 3;
		}
		if (col + w > EMAIL_QP_LINE - 1) {
			put_str(b, "=\r\n");
			col = 0;
		}
		put(b, enc, w);
		col += w;
	}
	if (col > 0)
		put_str(b, "\r\n");
}

/* Builds the whole message into a new buffer (*out, *outlen). */
static int build_message(const struct em *em, const char *to, const char *text, size_t len,
			 const char *id, char **out, size_t *outlen)
{
	const char *nl = memchr(text, '\n', len);
	char subject[EMAIL_SUBJECT_MAX * 2 + 1];
	size_t sublen, body = nl != NULL ? (size_t)(nl - text) + 1 : len;
	struct buf b = {NULL, 0, 0, 0};
	int rc = -CB_ENOMEM;

	/* Each byte becomes at most 3, and a soft break (3) comes at most once
	 * in every 73 written: 4 a byte is room enough. */
	b.cap = EMAIL_HEADERS_MAX + 4 * (len - body) + 16;
	if ((b.p = malloc(b.cap)) == NULL)
		goto out;
	sublen = clean_subject(text, len, subject, sizeof(subject));
	if (sublen == 0)
		sublen = (size_t)snprintf(subject, sizeof(subject), "casebot");
	put_str(&b, "From: casebot <");
	put_str(&b, em->from);
	put_str(&b, ">\r\nTo: ");
	put_str(&b, to);
	put_str(&b, "\r\n");
	put_subject(&b, subject, sublen);
	put_date(&b, time(NULL));
	put_str(&b, "Message-ID: <");
	put_str(&b, id);
	put_str(&b, "@");
	put_str(&b, em->domain);
	put_str(&b, ">\r\n"
		  "MIME-Version: 1.0\r\n"
		  "Content-Type: text/plain; charset=UTF-8\r\n"
		  "Content-Transfer-Encoding: quoted-printable\r\n"
		  "Auto-Submitted: auto-generated\r\n"
		  "\r\n");
	put_body(&b, text + body, len - body);
	if (b.overflow) {
		rc = -CB_ETOOBIG;
		goto out;
	}
	*out = b.p;
	*outlen = b.len;
	b.p = NULL;
	rc = 0;
out:
	free(b.p);
	return rc;
}

static void mailed(const struct http_response *res, void *arg)
{
	struct em_call *call = arg;
	struct em *em = call->em;
	struct gateway_result r;
	int code = res->status;

	em->inflight--;
	memset(&r, 0, sizeof(r));
	r.seconds = res->total_seconds;
	r.outcome = GW_TRANSIENT;
	if (res->error != 0) {
		r.timed_out = res->timed_out;
		snprintf(r.reason, sizeof(r.reason), "smtp: %s",
			 res->timed_out ? "timeout" : (res->reason != NULL ? res->reason : "no connection"));
	} else if (code >= 200 && code <= 299) {
		r.outcome = GW_SENT;
		cb_strlcpy(r.message_id, call->message_id, sizeof(r.message_id));
		if (!em->freeing) {
			em->gw.last_ok_ms = uv_now(em->gw.env->loop);
			em->gw.last_latency = res->total_seconds;
		}
	} else if (code == 530 || code == 534 || code == 535 || code == 538) {
		/* Our credentials or our TLS, not this message: it waits. */
		snprintf(r.reason, sizeof(r.reason), "smtp %d: authentication refused", code);
		if (!em->freeing)
			log_error("email: the SMTP server refused to authenticate us (%d); "
				  "check [smtp] username and password_file", code);
	} else if (code >= 500 && code <= 599) {
		r.outcome = GW_PERMANENT;
		snprintf(r.reason, sizeof(r.reason), "smtp %d: the server refused the message", code);
	} else {
		snprintf(r.reason, sizeof(r.reason), "smtp %d: try again later", code);
	}
	if (call->cb != NULL && !em->freeing)
		call->cb(&r, call->arg);
	free(call->msg);
	free(call);
	em_release(em);
}

/* On a worker thread: libcurl waits for the server's reply to the end of
 * DATA without returning, so the mail is sent here, never on the loop.
 * Only the call is touched, and the gateway's stop flag. */
static void mail_work(uv_work_t *w)
{
	struct em_call *call = w->data;

	http_mail_send_blocking(&call->mail, &call->em->stop, &call->res);
	sodium_memzero(call->password, sizeof(call->password));
}

/* Back on the loop (libuv posts it through its async handle). */
static void mail_done(uv_work_t *w, int status)
{
	struct em_call *call = w->data;

	if (status == UV_ECANCELED) {
		memset(&call->res, 0, sizeof(call->res));
		call->res.error = -CB_EGATEWAY;
		call->res.cancelled = 1;
		call->res.reason = "cancelled";
	}
	mailed(&call->res, call);
}

static void refusal_closed(uv_handle_t *h)
{
	struct em_call *call = h->data;
	struct em *em = call->em;

	free(call);
	em_release(em);
}

static void unlink_refusal(struct em_call *call)
{
	struct em *em = call->em;

	if (call->prev != NULL)
		call->prev->next = call->next;
	else
		em->refusals = call->next;
	if (call->next != NULL)
		call->next->prev = call->prev;
	call->prev = call->next = NULL;
	em->inflight--;
}

static void refusal_due(uv_timer_t *t)
{
	struct em_call *call = t->data;

	unlink_refusal(call);
	if (call->cb != NULL)
		call->cb(&call->r, call->arg);
	uv_close((uv_handle_t *)&call->timer, refusal_closed);
}

/* A message that can never go is still reported through cb, as the ops
 * promise: later, on the loop, never from inside send(). */
static int refuse(struct em *em, const char *why, gateway_sent_cb cb, void *arg)
{
	struct em_call *call = calloc(1, sizeof(*call));

	if (call == NULL)
		return -CB_ENOMEM;
	call->em = em;
	call->cb = cb;
	call->arg = arg;
	call->r.outcome = GW_PERMANENT;
	cb_strlcpy(call->r.reason, why, sizeof(call->r.reason));
	if (uv_timer_init(em->gw.env->loop, &call->timer) != 0) {
		free(call);
		return -CB_ENOMEM;
	}
	call->timer.data = call;
	call->next = em->refusals;
	if (em->refusals != NULL)
		em->refusals->prev = call;
	em->refusals = call;
	em->inflight++;
	em->refs++;
	uv_timer_start(&call->timer, refusal_due, 0, 0);
	return 0;
}

static int em_send(struct gateway *gw, const struct gateway_part *p, gateway_sent_cb cb, void *arg)
{
	struct em *em = em_of(gw);
	unsigned char id[EMAIL_ID_BYTES];
	struct http_mail *m;
	struct em_call *call = NULL;
	size_t msglen = 0;
	int rc = -CB_ESTATE;

	if (em->freeing)
		goto out;
	if (p->address == NULL || !valid_recipient(p->address)) {
		rc = refuse(em, "not a usable email address", cb, arg);
		goto out;
	}
	rc = p->text == NULL ? -CB_EINVAL : -CB_ETOOBIG;
	if (p->text == NULL || p->len > EMAIL_MESSAGE_MAX)
		goto out;
	rc = -CB_ENOMEM;
	if ((call = calloc(1, sizeof(*call))) == NULL)
		goto out;
	call->em = em;
	call->cb = cb;
	call->arg = arg;
	randombytes_buf(id, sizeof(id));
	sodium_bin2hex(call->message_id, sizeof(call->message_id), id, sizeof(id));
	if ((rc = build_message(em, p->address, p->text, p->len, call->message_id, &call->msg, &msglen)) != 0)
		goto out;
	cb_strlcpy(call->rcpt_s, p->address, sizeof(call->rcpt_s));
	cb_strlcpy(call->url, em->url, sizeof(call->url));
	cb_strlcpy(call->from, em->from, sizeof(call->from));
	cb_strlcpy(call->username, em->username, sizeof(call->username));
	cb_strlcpy(call->password, em->password, sizeof(call->password));
	call->rcpt[0] = call->rcpt_s;
	m = &call->mail;
	m->url = call->url;
	m->username = call->username[0] != '\0' ? call->username : NULL;
	m->password = call->password[0] != '\0' ? call->password : NULL;
	m->from = call->from;
	m->rcpt = call->rcpt;
	m->message = call->msg;
	m->message_len = msglen;
	m->timeout_ms = EMAIL_SEND_TIMEOUT_MS;
	m->require_tls = em->require_tls;
	call->work.data = call;
	if (uv_queue_work(em->gw.env->loop, &call->work, mail_work, mail_done) != 0) {
		rc = -CB_EIO;
		goto out;
	}
	call = NULL;
	em->inflight++;
	em->refs++;
out:
	if (call != NULL) {
		sodium_memzero(call->password, sizeof(call->password));
		free(call->msg);
	}
	free(call);
	return rc;
}

static void em_send_direct(struct gateway *gw, const char *address, const char *text)
{
	struct gateway_part p = {.address = address, .text = text, .len = strlen(text)};

	if (em_send(gw, &p, NULL, NULL) != 0)
		log_warn("email: a message could not be started");
}

/* One mail carries the whole text; what is over the cap is cut at a line
 * or at least a character, and dropped rather than sent as a second mail
 * whose first line would pose as a subject. */
static size_t em_split(const char *text, size_t len, size_t *next)
{
	size_t cut = len;

	*next = len;
	if (len > EMAIL_MESSAGE_MAX) {
		cut = EMAIL_MESSAGE_MAX;
		while (cut > EMAIL_MESSAGE_MAX / 2 && text[cut - 1] != '\n')
			cut--;
		if (text[cut - 1] != '\n')
			cut = utf8_cut((const unsigned char *)text, EMAIL_MESSAGE_MAX, len);
	}
	return cut;
}

static int em_fetch(struct gateway *gw, const char *media_ref, gateway_sink_fn sink, gateway_fetched_cb cb,
		    void *arg)
{
	(void)gw;
	(void)media_ref;
	(void)sink;
	(void)cb;
	(void)arg;
	return -CB_ESTATE;    /* nothing comes in by mail */
}

static int em_start(struct gateway *gw)
{
	(void)gw;
	return 0;
}

static void em_stop(struct gateway *gw)
{
	(void)gw;
}

static int em_busy(const struct gateway *gw)
{
	return ((const struct em *)gw)->inflight;
}

/* Transfers still in flight finish without calling back; the memory goes
 * with the last of them, or with the last refusal timer's close. */
static void em_free(struct gateway *gw)
{
	struct em *em = em_of(gw);

	em->freeing = 1;
	/* Mails on worker threads give up now; each reports back on the
	 * loop, and the last one frees the gateway. */
	atomic_store(&em->stop, 1);
	sodium_memzero(em->password, sizeof(em->password));
	while (em->refusals != NULL) {
		struct em_call *call = em->refusals;

		unlink_refusal(call);
		uv_close((uv_handle_t *)&call->timer, refusal_closed);
	}
	if (em->refs == 0)
		free(em);
}

static const struct gateway_ops email_ops = {
	.name = "email",
	.start = em_start,
	.stop = em_stop,
	.send = em_send,
	.send_direct = em_send_direct,
	.split = em_split,
	.fetch = em_fetch,
	.busy = em_busy,
	.free = em_free,
};

static int loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char h[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n > 2 && n < sizeof(h) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(h, host + 1, n - 2);
		h[n - 2] = '\0';
		return inet_pton(AF_INET6, h, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return 0;
}

/* Family words must not cross the network in clear: smtp:// to anything
 * but this machine must upgrade with STARTTLS or fail. -1 on a bad URL. */
static int needs_tls(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL;
	int rc = -1;

	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
		rc = strncasecmp(url, "smtp://", 7) == 0 && !loopback(host);
	curl_free(host);
	curl_url_cleanup(u);
	return rc;
}

/* The right of the From address, when it can stand in a Message-ID. */
static void id_domain(const char *from, char *out, size_t cap)
{
	const char *at = strrchr(from, '@');
	size_t n;

	if (at != NULL && (n = strlen(at + 1)) > 0 && n < cap &&
	    strspn(at + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n) {
		memcpy(out, at + 1, n + 1);
		return;
	}
	cb_strlcpy(out, "casebot.invalid", cap);
}

/* ---- [smtp] ------------------------------------------------------------ */

static int is_smtp_url(const char *v)
{
	return strncmp(v, "smtp://", 7) == 0 || strncmp(v, "smtps://", 8) == 0 ? 0 : -CB_EINVAL;
}

static int is_address(const char *v)
{
	return strchr(v, '@') != NULL && strpbrk(v, "\r\n<>") == NULL ? 0 : -CB_EINVAL;
}

static const struct config_key keys[] = {
	{"url", CONFIG_TEXT, CONFIG_AT(gw.smtp.url), is_smtp_url, NULL,
	 "expected smtp://host:port or smtps://host:port"},
	{"from", CONFIG_TEXT, CONFIG_AT(gw.smtp.from), is_address, NULL,
	 "expected an address like casebot@example.org"},
	{"username", CONFIG_TEXT, CONFIG_AT(gw.smtp.username), NULL, NULL, NULL},
	CONFIG_FILE_KEY("password_file", gw.smtp.password_file),
	{"digest_at", CONFIG_HHMM, CONFIG_AT(gw.smtp.digest_at), NULL, NULL, "expected HH:MM"},
};

static void defaults(struct config *cfg)
{
	cfg->gw.smtp.digest_at = 8 * 60;
}

static int check(const struct config *cfg, const char *path, char *err, size_t errlen)
{
	if (cfg->gw.smtp.url[0] != '\0' && cfg->gw.smtp.from[0] == '\0') {
		snprintf(err, errlen, "%s: [smtp] url needs from", path);
		return -CB_ECONFIG;
	}
	return 0;
}

const struct config_section gateway_email_config = {
	"smtp", keys, CB_ARRAY_SIZE(keys), defaults, check,
};

int gateway_email_password(const struct config *cfg, char *out, size_t cap)
{
	const char *env = getenv("CASEBOT_SMTP_PASSWORD");

	out[0] = '\0';
	if (env != NULL && env[0] != '\0')
		return cb_strlcpy(out, env, cap) == 0 ? 0 : -CB_ETOOBIG;
	if (cfg->gw.smtp.password_file[0] == '\0')
		return 0;
	return config_secret_file(cfg->gw.smtp.password_file, out, cap);
}

struct gateway *gateway_email_new(const struct gateway_env *d, char *err, size_t errlen)
{
	const struct config *cfg = d->cfg;
	struct em *em = NULL;
	int rc;

	err[0] = '\0';
	if (cfg->gw.smtp.url[0] == '\0')
		return NULL;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "email: libsodium cannot start");
		return NULL;
	}
	if ((em = calloc(1, sizeof(*em))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	em->gw.ops = &email_ops;
	em->gw.env = d;
	if (cb_strlcpy(em->url, cfg->gw.smtp.url, sizeof(em->url)) != 0 ||
	    (em->require_tls = needs_tls(em->url)) < 0) {
		snprintf(err, errlen, "[smtp] url: expected smtp://host:port or smtps://host:port");
		goto fail;
	}
	if (!valid_recipient(cfg->gw.smtp.from) || cb_strlcpy(em->from, cfg->gw.smtp.from, sizeof(em->from)) != 0) {
		snprintf(err, errlen, "[smtp] from: expected an address like casebot@example.org");
		goto fail;
	}
	cb_strlcpy(em->username, cfg->gw.smtp.username, sizeof(em->username));
	if ((rc = gateway_email_password(cfg, em->password, sizeof(em->password))) != 0) {
		snprintf(err, errlen,
			 "cannot read the SMTP password from CASEBOT_SMTP_PASSWORD or [smtp] password_file "
			 "(one line, a file only casebot may read): %s",
			 casebot_strerror(rc));
		goto fail;
	}
	if (em->password[0] != '\0' && em->username[0] == '\0') {
		snprintf(err, errlen, "[smtp] a password is set but no username");
		goto fail;
	}
	id_domain(em->from, em->domain, sizeof(em->domain));
	em->gw.caps = (struct gateway_caps){
		.text_max = EMAIL_MESSAGE_MAX,
		.has_subject = 1,
		.rate_per_chat = EMAIL_RATE_PER_CHAT,
		.rate_global = EMAIL_RATE_GLOBAL,
		/* Mail only goes out: nothing to hear from. */
		.quiet_ok = 1,
		.send_timeout_ms = (int)EMAIL_SEND_TIMEOUT_MS,
	};
	return &em->gw;
fail:
	sodium_memzero(em->password, sizeof(em->password));
	free(em);
	return NULL;
}
