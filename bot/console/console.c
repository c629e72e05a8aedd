/* The web console. Every page is made here, on the server, from the
 * store and the catalogs; the browser gets HTML, one style sheet and no
 * script. Every value goes through html_text() (or html_csv() in an
 * export). URLs carry case references and ids, never names.
 *
 * Access: a password (argon2id) and a TOTP code make a session, a random
 * 256-bit token in an HttpOnly, SameSite=Strict cookie, stored only as its
 * hash; it dies 30 minutes after its last use or 12 hours after it was
 * made. Every POST carries a CSRF token derived from the session's token
 * (or, for the login form, from a cookie of its own). After
 * CONSOLE_FAIL_FREE failures in CONSOLE_FAIL_WINDOW for one account or one
 * address, each further try is answered later and later, whatever its
 * outcome; every failure reads the same.
 *
 * Scope is the phone commands' (staff_reaches()): a counsellor sees their
 * families and those they back up while the counsellor is away; a
 * coordinator sees all. Every family page, export and refusal is
 * audited. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/config.h"
#include "bot/console/auth.h"
#include "bot/console/console.h"
#include "bot/console/html.h"
#include "bot/event.h"
#include "bot/tz.h"
#include "locales/locale.h"
#include "locales/note.h"

/* What staff write to a family is at most one message of its gateway:
 * 4096 UTF-16 units, 16 KiB of UTF-8. */
#define FORM_VALUE_MAX EVENT_TEXT_MAX
#define DATE_MAX 96
#define SENTENCE_MAX 1024
#define REMINDER_HORIZON (72 * 3600)
#define SLOW_MS_MAX 30000

static const char CSS[] =
	"*{box-sizing:border-box}\n"
	"body{margin:0;font:16px/1.45 system-ui,sans-serif;color:#1a1a1a;background:#fff}\n"
	"header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.5rem 1rem;"
	"background:#123;color:#fff}\n"
	"header a{color:#fff}\n"
	"header form{margin-left:auto}\n"
	"main{padding:1rem;max-width:60rem;margin:0 auto}\n"
	"h1{font-size:1.4rem;margin:.2rem 0 1rem}\n"
	"h2{font-size:1.1rem;margin:1.5rem 0 .5rem}\n"
	"a{color:#0645ad}\n"
	"a:focus,button:focus,input:focus{outline:3px solid #f5a623;outline-offset:2px}\n"
	"button{font:inherit;padding:.45rem .9rem;border:1px solid #123;background:#123;color:#fff;"
	"border-radius:4px;cursor:pointer}\n"
	"header button{background:#fff;color:#123}\n"
	"label{display:block;margin:.8rem 0 .2rem;font-weight:600}\n"
	"input,textarea{font:inherit;width:100%;max-width:24rem;padding:.4rem;border:1px solid #555;"
	"border-radius:4px}\n"
	"textarea{max-width:100%;min-height:6rem}\n"
	".counts{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(16rem,1fr));"
	"gap:.5rem}\n"
	".counts a{display:block;padding:.6rem .8rem;border:1px solid #bbb;border-radius:6px;"
	"text-decoration:none;color:#1a1a1a}\n"
	".counts b{font-size:1.5rem;display:block}\n"
	"table{border-collapse:collapse;width:100%}\n"
	"th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #ddd;vertical-align:top}\n"
	".list{overflow-x:auto}\n"
	".urgent{color:#a00000;font-weight:700}\n"
	".error{color:#a00000;font-weight:600}\n"
	".muted{color:#555}\n"
	"ol.timeline{padding-left:1.2rem}\n"
	"ol.timeline li{margin:.3rem 0}\n"
	"header nav a{margin-right:.6rem}\n"
	".caseload dl{display:grid;grid-template-columns:auto 1fr;gap:.1rem 1rem;margin:.3rem 0}\n"
	".caseload dd{margin:0;font-weight:600}\n"
	".chart{max-width:100%;height:auto}\n"
	".legend .in::before,.legend .out::before{content:\"\";display:inline-block;width:.8rem;height:.8rem;"
	"margin-right:.3rem;vertical-align:middle}\n"
	".legend .in::before{background:#1f4e79}\n"
	".legend .out::before{background:#b35900}\n"
	"@media (max-width:40rem){main{padding:.6rem}th,td{padding:.3rem}}\n";

/* What one request carries through the console. */
struct ctx {
	struct console *c;
	struct hctx *h;
	const struct console_request *req;
	struct console_response *res;
	struct staff staff;        /* the signed-in staff member, when signed in */
	int signed_in;
	char token[AUTH_TOKEN_HEX];
	char csrf[AUTH_TOKEN_HEX];
	char actor[96];
	enum lang lang;
};


void console_init(struct console *c, const struct config *cfg)
{
	memset(c, 0, sizeof(*c));
	c->secure_cookie = cfg->console_secure_cookie;
	c->not_reached_days = cfg->console_not_reached_days > 0 ? cfg->console_not_reached_days : 14;
	randombytes_buf(c->fail_key, sizeof(c->fail_key));
}

void console_response_free(struct console_response *res)
{
	free(res->body);
	res->body = NULL;
}

static const char *t(const struct ctx *x, const char *key)
{
	return locale_text(x->h->loc, x->lang, key);
}

static void add_header(struct ctx *x, const char *name, const char *fmt, const char *value)
{
	struct console_response *r = x->res;

	if (r->nheaders >= CONSOLE_HEADERS_MAX)
		return;
	r->headers[r->nheaders].name = name;
	snprintf(r->headers[r->nheaders].value, sizeof(r->headers[0].value), fmt, value);
	r->nheaders++;
}

/* The same on every answer, pages, exports, redirects and errors alike. */
static void security_headers(struct ctx *x)
{
	add_header(x, "content-security-policy", "%s",
		   "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
		   "frame-ancestors 'none'; base-uri 'none'");
	add_header(x, "x-frame-options", "%s", "DENY");
	add_header(x, "referrer-policy", "%s", "no-referrer");
	add_header(x, "cache-control", "%s", "no-store");
	add_header(x, "x-content-type-options", "%s", "nosniff");
}

static void finish(struct ctx *x, int status, const char *ctype, struct html *b)
{
	if (b->failed) {
		html_free(b);
		status = 500;
		ctype = "text/plain; charset=utf-8";
		html_raw(b, "out of memory\n");
	}
	x->res->status = status;
	x->res->content_type = ctype;
	x->res->body = b->buf;
	x->res->len = b->len;
	b->buf = NULL;
}

static void redirect(struct ctx *x, const char *to)
{
	struct html b = {0};

	add_header(x, "location", "%s", to);
	html_raw(&b, "");
	finish(x, 303, "text/plain; charset=utf-8", &b);
}

static void set_cookie(struct ctx *x, const char *name, const char *value, int max_age)
{
	char v[300];

	snprintf(v, sizeof(v), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s; Max-Age=%d", name, value,
		 x->c->secure_cookie ? "; Secure" : "", max_age);
	add_header(x, "set-cookie", "%s", v);
}

/* A name's value from name=value pairs split by sep (a form body, a
 * query, a Cookie header). Form values are percent-decoded with libcurl;
 * cookies are taken as they are. */
static int pair_get(const char *s, size_t len, char sep, const char *name, int decode, char *out, size_t cap)
{
	size_t nlen = strlen(name);
	const char *end = s + len, *p = s;

	while (p < end) {
		const char *stop = memchr(p, sep, (size_t)(end - p));
		const char *eq;
		size_t vlen;

		if (stop == NULL)
			stop = end;
		while (p < stop && *p == ' ')
			p++;
		eq = memchr(p, '=', (size_t)(stop - p));
		if (eq != NULL && (size_t)(eq - p) == nlen && memcmp(p, name, nlen) == 0) {
			vlen = (size_t)(stop - eq - 1);
			if (!decode) {
				if (vlen >= cap)
					return -CB_ETOOBIG;
				memcpy(out, eq + 1, vlen);
				out[vlen] = '\0';
				return 0;
			}
			{
				char *plus = malloc(vlen + 1), *dec;
				int n = 0;

				if (plus == NULL)
					return -CB_ENOMEM;
				for (size_t i = 0; i < vlen; i++)
					plus[i] = eq[1 + i] == '+' ? ' ' : eq[1 + i];
				plus[vlen] = '\0';
				dec = curl_easy_unescape(NULL, plus, (int)vlen, &n);
				free(plus);
				if (dec == NULL)
					return -CB_ENOMEM;
				if ((size_t)n >= cap || memchr(dec, '\0', (size_t)n) != NULL) {
					curl_free(dec);
					return -CB_ETOOBIG;
				}
				memcpy(out, dec, (size_t)n);
				out[n] = '\0';
				curl_free(dec);
				return 0;
			}
		}
		p = stop + 1;
	}
	return -CB_ENOENT;
}

static int form_get(const struct ctx *x, const char *name, char *out, size_t cap)
{
	if (x->req->body == NULL)
		return -CB_ENOENT;
	return pair_get(x->req->body, x->req->body_len, '&', name, 1, out, cap);
}

static int cookie_get(const struct ctx *x, const char *name, char *out, size_t cap)
{
	if (x->req->cookie == NULL)
		return -CB_ENOENT;
	return pair_get(x->req->cookie, strlen(x->req->cookie), ';', name, 0, out, cap);
}

static void page_start(struct ctx *x, struct html *b, const char *title)
{
	html_raw(b, "<!doctype html>\n<html lang=\"");
	html_text(b, lang_code(x->lang));
	html_raw(b, "\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<link rel=\"stylesheet\" href=\"/console.css\"><title>");
	html_text(b, title);
	html_raw(b, " \xe2\x80\x93 casebot</title></head><body><header><strong>casebot</strong>");
	if (x->signed_in) {
		html_raw(b, "<nav><a href=\"/\">");
		html_text(b, t(x, "console.nav.overview"));
		html_raw(b, "</a> <a href=\"/caseload\">");
		html_text(b, t(x, "console.nav.caseload"));
		html_raw(b, "</a></nav><span>");
		html_text(b, x->staff.name);
		html_raw(b, "</span><form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"");
		html_text(b, x->csrf);
		html_raw(b, "\"><button type=\"submit\">");
		html_text(b, t(x, "console.logout"));
		html_raw(b, "</button></form>");
	}
	html_raw(b, "</header><main><h1>");
	html_text(b, title);
	html_raw(b, "</h1>");
}

static void page_end(struct html *b)
{
	html_raw(b, "</main></body></html>\n");
}

/* A page that only says something (refused, not found, expired). */
static void message_page(struct ctx *x, int status, const char *key)
{
	struct html b = {0};

	page_start(x, &b, t(x, key));
	html_raw(&b, "<p><a href=\"/\">");
	html_text(&b, t(x, "console.nav.overview"));
	html_raw(&b, "</a></p>");
	page_end(&b);
	finish(x, status, "text/html; charset=utf-8", &b);
}

static void store_failed(struct ctx *x)
{
	struct html b = {0};

	html_raw(&b, "the store is not available\n");
	finish(x, 500, "text/plain; charset=utf-8", &b);
}

static int audit(struct ctx *x, const char *action, const char *ref, const char *detail, int64_t object_id)
{
	const struct audit_entry e = {x->actor, action, ref, detail, x->staff.id, 0, object_id};

	return store_audit_add(x->h->store, x->h->now, &e);
}

/* Login throttling: failures are kept in memory, by a keyed hash of the
 * name typed and of the address, never the name or address itself. */
static void fail_key(const struct console *c, const char *kind, const char *s, unsigned char out[16])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, c->fail_key, sizeof(c->fail_key), 16);
	crypto_generichash_update(&st, (const unsigned char *)kind, strlen(kind) + 1);
	crypto_generichash_update(&st, (const unsigned char *)s, strlen(s));
	crypto_generichash_final(&st, out, 16);
}

static int fail_count(const struct console *c, const unsigned char who[16], time_t now)
{
	int n = 0;

	for (size_t i = 0; i < CONSOLE_FAIL_SLOTS; i++)
		if (c->fails[i].at != 0 && now - c->fails[i].at < CONSOLE_FAIL_WINDOW &&
		    memcmp(c->fails[i].who, who, 16) == 0)
			n++;
	return n;
}

static void fail_add(struct console *c, const unsigned char who[16], time_t now)
{
	c->fails[c->fail_next].at = now;
	memcpy(c->fails[c->fail_next].who, who, 16);
	c->fail_next = (c->fail_next + 1) % CONSOLE_FAIL_SLOTS;
}

static void login_page(struct ctx *x, int status, int failed)
{
	char token[AUTH_TOKEN_HEX], csrf[AUTH_TOKEN_HEX];
	struct html b = {0};

	/* The form's own cookie: its CSRF token is derived from it. */
	if (cookie_get(x, CONSOLE_LOGIN_COOKIE, token, sizeof(token)) != 0 || auth_csrf(token, csrf) != 0) {
		auth_token_new(token);
		auth_csrf(token, csrf);
		set_cookie(x, CONSOLE_LOGIN_COOKIE, token, 3600);
	}
	page_start(x, &b, t(x, "console.login.heading"));
	if (failed) {
		html_raw(&b, "<p class=\"error\" role=\"alert\">");
		html_text(&b, t(x, "console.login.failed"));
		html_raw(&b, "</p>");
	}
	html_raw(&b, "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(&b, csrf);
	html_raw(&b, "\"><label for=\"name\">");
	html_text(&b, t(x, "console.login.name"));
	html_raw(&b, "</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required>"
		     "<label for=\"password\">");
	html_text(&b, t(x, "console.login.password"));
	html_raw(&b, "</label><input id=\"password\" name=\"password\" type=\"password\" "
		     "autocomplete=\"current-password\" required><label for=\"code\">");
	html_text(&b, t(x, "console.login.code"));
	html_raw(&b, "</label><input id=\"code\" name=\"code\" inputmode=\"numeric\" "
		     "autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" required>"
		     "<p><button type=\"submit\">");
	html_text(&b, t(x, "console.login.submit"));
	html_raw(&b, "</button></p></form>");
	page_end(&b);
	finish(x, status, "text/html; charset=utf-8", &b);
}

/* Whether name, password and code let someone in, and who. */
static int login_check(struct ctx *x, const char *name, const char *password, const char *code,
		       struct staff *s)
{
	struct staff_login l;
	int64_t step = 0;
	int known = store_staff_get(x->h->store, name, s) == 0 && s->active;

	if (!known || store_login_get(x->h->store, s->id, &l) != 0)
		memset(&l, 0, sizeof(l));
	/* Checked whether or not the name is known: the same time either way. */
	if (auth_password_check(l.password, password) != 0 || !known)
		return -CB_EPERM;
	if (l.totp_secret[0] == '\0' || auth_totp_check(l.totp_secret, x->h->now, code, 0, &step) != 0)
		return -CB_EPERM;
	/* A code works once. */
	if (store_login_use_step(x->h->store, s->id, step) != 0)
		return -CB_EPERM;
	return 0;
}

static void login_post(struct ctx *x)
{
	char token[AUTH_TOKEN_HEX], csrf[AUTH_TOKEN_HEX], name[STORE_NAME_MAX], code[16];
	char *password = malloc(AUTH_PASSWORD_MAX + 1);
	unsigned char who_name[16], who_addr[16], hash[AUTH_HASH_BYTES];
	struct staff s;
	int fails, rc;

	if (password == NULL) {
		store_failed(x);
		return;
	}
	if (cookie_get(x, CONSOLE_LOGIN_COOKIE, token, sizeof(token)) != 0 ||
	    form_get(x, "csrf", csrf, sizeof(csrf)) != 0 || auth_csrf_check(token, csrf) != 0) {
		message_page(x, 403, "console.expired");
		goto out;
	}
	if (form_get(x, "name", name, sizeof(name)) != 0)
		name[0] = '\0';
	if (form_get(x, "password", password, AUTH_PASSWORD_MAX + 1) != 0)
		password[0] = '\0';
	if (form_get(x, "code", code, sizeof(code)) != 0)
		code[0] = '\0';
	fail_key(x->c, "name", name, who_name);
	fail_key(x->c, "addr", x->req->peer != NULL ? x->req->peer : "", who_addr);
	fails = fail_count(x->c, who_name, x->h->now);
	rc = fail_count(x->c, who_addr, x->h->now);
	if (rc > fails)
		fails = rc;
	/* Past the free tries, every answer waits: one second for the first,
	 * doubling, at most SLOW_MS_MAX. */
	if (fails >= CONSOLE_FAIL_FREE) {
		unsigned shift = (unsigned)(fails - CONSOLE_FAIL_FREE);

		x->res->delay_ms = shift >= 5 ? SLOW_MS_MAX : 1000u << shift;
	}
	rc = login_check(x, name, password, code, &s);
	if (rc != 0) {
		fail_add(x->c, who_name, x->h->now);
		fail_add(x->c, who_addr, x->h->now);
		{
			const struct audit_entry e = {"console", "console.login_failed", NULL, NULL,
						      store_staff_get(x->h->store, name, &s) == 0 ? s.id : 0, 0, 0};

			if (store_audit_add(x->h->store, x->h->now, &e) != 0) {
				store_failed(x);
				goto out;
			}
		}
		login_page(x, 401, 1);
		goto out;
	}
	auth_token_new(x->token);
	auth_token_hash(x->token, hash);
	x->staff = s;
	snprintf(x->actor, sizeof(x->actor), "console:%s", s.name);
	if (store_session_add(x->h->store, hash, s.id, x->h->now) != 0 ||
	    store_session_prune(x->h->store, x->h->now - CONSOLE_IDLE_SECONDS, x->h->now - CONSOLE_ABSOLUTE_SECONDS) != 0 ||
	    audit(x, "console.login", NULL, NULL, 0) != 0) {
		store_failed(x);
		goto out;
	}
	set_cookie(x, CONSOLE_SESSION_COOKIE, x->token, CONSOLE_ABSOLUTE_SECONDS);
	set_cookie(x, CONSOLE_LOGIN_COOKIE, "", 0);
	redirect(x, "/");
out:
	sodium_memzero(password, AUTH_PASSWORD_MAX + 1);
	free(password);
}

/* The session of the request's cookie, if it is alive: then x is signed
 * in and the session's last use is now. */
static int session_load(struct ctx *x)
{
	unsigned char hash[AUTH_HASH_BYTES];
	int64_t staff_id;
	int rc;

	if (cookie_get(x, CONSOLE_SESSION_COOKIE, x->token, sizeof(x->token)) != 0 ||
	    auth_token_hash(x->token, hash) != 0)
		return 0;
	rc = store_session_get(x->h->store, hash, x->h->now - CONSOLE_IDLE_SECONDS,
			       x->h->now - CONSOLE_ABSOLUTE_SECONDS, &staff_id);
	if (rc == -CB_ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (store_staff_get_id(x->h->store, staff_id, &x->staff) != 0 || !x->staff.active)
		return store_session_delete(x->h->store, hash);
	if ((rc = store_session_touch(x->h->store, hash, x->h->now)) != 0)
		return rc;
	x->signed_in = 1;
	x->lang = x->staff.lang;
	auth_csrf(x->token, x->csrf);
	snprintf(x->actor, sizeof(x->actor), "console:%s", x->staff.name);
	return 0;
}

static int csrf_ok(struct ctx *x)
{
	char csrf[AUTH_TOKEN_HEX];

	return form_get(x, "csrf", csrf, sizeof(csrf)) == 0 && auth_csrf_check(x->token, csrf) == 0;
}

static void logout(struct ctx *x)
{
	unsigned char hash[AUTH_HASH_BYTES];

	if (auth_token_hash(x->token, hash) != 0 || store_session_delete(x->h->store, hash) != 0 ||
	    audit(x, "console.logout", NULL, NULL, 0) != 0) {
		store_failed(x);
		return;
	}
	set_cookie(x, CONSOLE_SESSION_COOKIE, "", 0);
	redirect(x, "/login");
}

static int reaches(struct ctx *x, int64_t family_id, int64_t counsellor_id, int64_t backup_id)
{
	struct family f;

	memset(&f, 0, sizeof(f));
	f.id = family_id;
	f.counsellor_id = counsellor_id;
	f.backup_id = backup_id;
	return staff_reaches(x->h, &x->staff, &f) != 0;
}

static void when(const struct ctx *x, time_t at, char *out, size_t cap)
{
	if (at == 0 || locale_format_datetime(x->h->loc, x->lang, at, out, cap) != 0)
		cb_strlcpy(out, at == 0 ? t(x, "console.never") : "?", cap);
}

/* What a row of a list says besides the family and its counsellor. */
static void row_what(struct ctx *x, enum overview_list list, const struct overview_row *r, char *out, size_t cap)
{
	char key[STORE_TEXT_MAX + 32];
	const char *v = NULL;

	out[0] = '\0';
	switch (list) {
	case OVERVIEW_NOT_REACHED:
		v = t(x, r->flag ? "console.overview.wrote" : "console.overview.silent");
		break;
	case OVERVIEW_UNCONFIRMED:
		snprintf(key, sizeof(key), "appointment.kind.%s", r->what);
		v = t(x, key);
		break;
	case OVERVIEW_OVERDUE:
		snprintf(key, sizeof(key), "document.type.%s", r->what);
		v = t(x, key);
		break;
	case OVERVIEW_ALERTS: {
		struct alert a;

		if (store_alert_get(x->h->store, r->object_id, &a) == 0 &&
		    note_alert(x->h->loc, x->lang, &a, out, cap) == 0 && out[0] != '\0')
			return;
		v = t(x, r->flag ? "console.overview.urgent" : "console.overview.alert");
		break;
	}
	case OVERVIEW_BLOCKED:
		v = t(x, r->flag == 1 ? "console.overview.chat_blocked" : "console.overview.chat_stopped");
		break;
	default:
		break;
	}
	if (v != NULL)
		cb_strlcpy(out, v, cap);
}

struct list_walk {
	struct ctx *x;
	enum overview_list list;
	int split;               /* OVERVIEW_NOT_REACHED: -1 all, 0 nothing sent, 1 we wrote */
	int count;
	struct html *b;          /* NULL: count only */
	int csv;
	int64_t last_group;
};

static int list_row(const void *rec, void *arg)
{
	const struct overview_row *r = rec;
	struct list_walk *w = arg;
	char at[DATE_MAX], what[SENTENCE_MAX];

	if (w->split >= 0 && r->flag != w->split)
		return 0;
	if (!reaches(w->x, r->family_id, r->counsellor_id, r->backup_id))
		return 0;
	w->count++;
	if (w->b == NULL)
		return 0;
	if (w->list == OVERVIEW_OVERDUE)
		cb_strlcpy(at, r->day, sizeof(at));
	else
		when(w->x, r->at, at, sizeof(at));
	row_what(w->x, w->list, r, what, sizeof(what));
	if (w->csv) {
		html_csv(w->b, r->ref);
		html_raw(w->b, ",");
		html_csv(w->b, r->counsellor);
		html_raw(w->b, ",");
		html_csv(w->b, at);
		html_raw(w->b, ",");
		html_csv(w->b, what);
		html_raw(w->b, "\r\n");
		return 0;
	}
	html_raw(w->b, "<tr><td><a href=\"/families/");
	html_text(w->b, r->ref);
	html_raw(w->b, "\">");
	html_text(w->b, r->ref);
	html_raw(w->b, "</a></td><td>");
	html_text(w->b, r->counsellor);
	html_raw(w->b, "</td><td>");
	html_text(w->b, at);
	html_raw(w->b, w->list == OVERVIEW_ALERTS && r->flag ? "</td><td class=\"urgent\">" : "</td><td>");
	html_text(w->b, what);
	html_raw(w->b, "</td></tr>");
	return 0;
}

/* The lists of the overview, as the page and the exports name them: the
 * "not reached" list comes in its two halves. */
struct list_def {
	const char *name;        /* in URLs */
	enum overview_list list;
	int split;
	const char *key;
};

static const struct list_def lists[] = {
	{"not-reached-wrote", OVERVIEW_NOT_REACHED, 1, "console.overview.not_reached_wrote"},
	{"not-reached-silent", OVERVIEW_NOT_REACHED, 0, "console.overview.not_reached_silent"},
	{"unanswered", OVERVIEW_UNANSWERED, -1, "console.overview.unanswered"},
	{"unconfirmed", OVERVIEW_UNCONFIRMED, -1, "console.overview.unconfirmed"},
	{"overdue", OVERVIEW_OVERDUE, -1, "console.overview.overdue"},
	{"alerts", OVERVIEW_ALERTS, -1, "console.overview.alerts"},
	{"blocked", OVERVIEW_BLOCKED, -1, "console.overview.blocked"},
	{"no-channel", OVERVIEW_NO_CHANNEL, -1, "console.overview.no_channel"},
};

static int walk_list(struct ctx *x, const struct list_def *d, struct list_walk *w)
{
	char today[48];
	time_t now = x->h->now;

	{
		struct tm lt;

		tz_local(now, &lt);
		snprintf(today, sizeof(today), "%04d-%02d-%02d", lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday);
	}
	w->x = x;
	w->list = d->list;
	w->split = d->split;
	w->count = 0;
	return store_overview_each(x->h->store, d->list,
				   d->list == OVERVIEW_NOT_REACHED ? now - (time_t)x->c->not_reached_days * 86400 : now,
				   now + REMINDER_HORIZON, today, list_row, w);
}

static void list_title(struct ctx *x, const struct list_def *d, char *out, size_t cap)
{
	char days[16];
	const struct locale_param p[] = {{"days", days}};

	snprintf(days, sizeof(days), "%d", x->c->not_reached_days);
	if (locale_render(x->h->loc, x->lang, d->key, p, 1, out, cap) != 0)
		cb_strlcpy(out, d->key, cap);
}

static void overview(struct ctx *x, const char *only)
{
	struct html b = {0};
	char title[256];
	size_t i;

	page_start(x, &b, t(x, "console.overview.heading"));
	html_raw(&b, "<ul class=\"counts\">");
	for (i = 0; i < CB_ARRAY_SIZE(lists); i++) {
		struct list_walk w = {0};

		if (walk_list(x, &lists[i], &w) != 0)
			goto failed;
		list_title(x, &lists[i], title, sizeof(title));
		html_raw(&b, "<li><a href=\"/?list=");
		html_text(&b, lists[i].name);
		html_raw(&b, "#list\">");
		html_rawf(&b, "<b>%d</b>", w.count);
		html_text(&b, title);
		html_raw(&b, "</a></li>");
	}
	html_raw(&b, "</ul>");
	for (i = 0; i < CB_ARRAY_SIZE(lists); i++) {
		struct list_walk w = {0};

		if (only == NULL || strcmp(only, lists[i].name) != 0)
			continue;
		list_title(x, &lists[i], title, sizeof(title));
		html_raw(&b, "<h2 id=\"list\">");
		html_text(&b, title);
		html_raw(&b, "</h2><p><a href=\"/export/");
		html_text(&b, lists[i].name);
		html_raw(&b, ".csv\">");
		html_text(&b, t(x, "console.export"));
		html_raw(&b, "</a></p><div class=\"list\"><table><thead><tr><th scope=\"col\">");
		html_text(&b, t(x, "console.col.family"));
		html_raw(&b, "</th><th scope=\"col\">");
		html_text(&b, t(x, "console.col.counsellor"));
		html_raw(&b, "</th><th scope=\"col\">");
		html_text(&b, t(x, "console.col.when"));
		html_raw(&b, "</th><th scope=\"col\">");
		html_text(&b, t(x, "console.col.what"));
		html_raw(&b, "</th></tr></thead><tbody>");
		w.b = &b;
		if (walk_list(x, &lists[i], &w) != 0)
			goto failed;
		html_raw(&b, "</tbody></table></div>");
		if (w.count == 0) {
			html_raw(&b, "<p class=\"muted\">");
			html_text(&b, t(x, "console.none"));
			html_raw(&b, "</p>");
		}
	}
	page_end(&b);
	finish(x, 200, "text/html; charset=utf-8", &b);
	return;
failed:
	html_free(&b);
	store_failed(x);
}

static void export_list(struct ctx *x, const char *name)
{
	struct html b = {0};
	struct list_walk w = {0};
	char file[96];

	for (size_t i = 0; i < CB_ARRAY_SIZE(lists); i++) {
		if (strcmp(name, lists[i].name) != 0)
			continue;
		html_csv(&b, t(x, "console.col.family"));
		html_raw(&b, ",");
		html_csv(&b, t(x, "console.col.counsellor"));
		html_raw(&b, ",");
		html_csv(&b, t(x, "console.col.when"));
		html_raw(&b, ",");
		html_csv(&b, t(x, "console.col.what"));
		html_raw(&b, "\r\n");
		w.b = &b;
		w.csv = 1;
		if (walk_list(x, &lists[i], &w) != 0 || audit(x, "console.export", NULL, lists[i].name, 0) != 0) {
			html_free(&b);
			store_failed(x);
			return;
		}
		snprintf(file, sizeof(file), "attachment; filename=\"%s.csv\"", lists[i].name);
		add_header(x, "content-disposition", "%s", file);
		finish(x, 200, "text/csv; charset=utf-8", &b);
		return;
	}
	message_page(x, 404, "console.not_found");
}

/* The family page's sections. */
static int timeline_row(const void *rec, void *arg)
{
	const struct contact *c = rec;
	struct ctx *x = ((void **)arg)[0];
	struct html *b = ((void **)arg)[1];
	char at[DATE_MAX], sentence[SENTENCE_MAX];

	when(x, c->at, at, sizeof(at));
	if (note_contact(x->h->loc, x->lang, c, sentence, sizeof(sentence)) != 0)
		cb_strlcpy(sentence, "?", sizeof(sentence));
	html_raw(b, "<li><time>");
	html_text(b, at);
	html_raw(b, "</time> \xe2\x80\x94 ");
	html_text(b, sentence);
	html_raw(b, "</li>");
	return 0;
}

static int channel_row(const void *rec, void *arg)
{
	const struct channel *ch = rec;
	struct ctx *x = ((void **)arg)[0];
	struct html *b = ((void **)arg)[1];
	char at[DATE_MAX];
	const char *state = ch->blocked ? "console.family.chat_blocked" :
			    ch->opted_out ? "console.family.chat_stopped" :
			    ch->verified ? "console.family.chat_linked" : "console.family.chat_pending";

	when(x, ch->last_inbound_at, at, sizeof(at));
	html_rawf(b, "<tr><td>#%lld</td><td>", (long long)ch->id);
	html_text(b, ch->kind);
	html_raw(b, "</td><td>");
	html_text(b, t(x, state));
	html_raw(b, "</td><td>");
	html_text(b, at);
	html_raw(b, "</td></tr>");
	return 0;
}

static int member_row(const void *rec, void *arg)
{
	const struct member *m = rec;
	struct html *b = ((void **)arg)[1];
	struct ctx *x = ((void **)arg)[0];
	char key[64];

	snprintf(key, sizeof(key), "console.role.%s", store_member_role_name(m->role));
	html_raw(b, "<li>");
	html_text(b, m->name);
	html_raw(b, " \xe2\x80\x93 ");
	html_text(b, t(x, key));
	html_raw(b, "</li>");
	return 0;
}

static int appointment_row(const void *rec, void *arg)
{
	const struct appointment *a = rec;
	struct ctx *x = ((void **)arg)[0];
	struct html *b = ((void **)arg)[1];
	char at[DATE_MAX], key[96];

	when(x, a->starts_at, at, sizeof(at));
	html_raw(b, "<tr><td>");
	html_text(b, at);
	html_raw(b, "</td><td>");
	snprintf(key, sizeof(key), "appointment.kind.%s", a->kind);
	html_text(b, t(x, key));
	html_raw(b, "</td><td>");
	snprintf(key, sizeof(key), "console.appointment.%s", a->status);
	html_text(b, t(x, key));
	html_raw(b, "</td></tr>");
	return 0;
}

static int docreq_row(const void *rec, void *arg)
{
	const struct doc_request *r = rec;
	struct ctx *x = ((void **)arg)[0];
	struct html *b = ((void **)arg)[1];
	char key[96];

	html_raw(b, "<tr><td>");
	snprintf(key, sizeof(key), "document.type.%s", r->doc_type);
	html_text(b, t(x, key));
	html_raw(b, "</td><td>");
	html_text(b, r->due_date);
	html_raw(b, "</td><td>");
	snprintf(key, sizeof(key), "console.docreq.%s", r->status);
	html_text(b, t(x, key));
	html_raw(b, "</td></tr>");
	return 0;
}

struct alert_walk {
	struct ctx *x;
	struct html *b;
	int64_t family_id;
	const char *ref;
	int count;
};

static int alert_row(const void *rec, void *arg)
{
	const struct alert *a = rec;
	struct alert_walk *w = arg;
	char at[DATE_MAX], sentence[SENTENCE_MAX];

	if (a->family_id != w->family_id || a->acked_at != 0 || a->group_id != a->id)
		return 0;
	w->count++;
	when(w->x, a->created_at, at, sizeof(at));
	if (note_alert(w->x->h->loc, w->x->lang, a, sentence, sizeof(sentence)) != 0 || sentence[0] == '\0')
		cb_strlcpy(sentence, t(w->x, a->urgent ? "console.overview.urgent" : "console.overview.alert"),
			   sizeof(sentence));
	html_raw(w->b, a->urgent ? "<li class=\"urgent\">" : "<li>");
	html_text(w->b, at);
	html_raw(w->b, " \xe2\x80\x94 ");
	html_text(w->b, sentence);
	html_raw(w->b, "<form method=\"post\" action=\"/families/");
	html_text(w->b, w->ref);
	html_rawf(w->b, "/alerts/%lld/ack\"><input type=\"hidden\" name=\"csrf\" value=\"", (long long)a->id);
	html_text(w->b, w->x->csrf);
	html_raw(w->b, "\"><button type=\"submit\">");
	html_text(w->b, t(w->x, "console.family.ack"));
	html_raw(w->b, "</button></form></li>");
	return 0;
}

static void section(struct ctx *x, struct html *b, const char *key)
{
	html_raw(b, "<h2>");
	html_text(b, t(x, key));
	html_raw(b, "</h2>");
}

static void table_head(struct ctx *x, struct html *b, const char *const *keys, int n)
{
	html_raw(b, "<div class=\"list\"><table><thead><tr>");
	for (int i = 0; i < n; i++) {
		html_raw(b, "<th scope=\"col\">");
		html_text(b, t(x, keys[i]));
		html_raw(b, "</th>");
	}
	html_raw(b, "</tr></thead><tbody>");
}

/* The family named by ref, if the signed-in staff member reaches it; a
 * refusal is audited (with the reference only when there is such a
 * family) and answered like an unknown family. */
static int family_for(struct ctx *x, const char *ref, struct family *f)
{
	int rc = store_family_get(x->h->store, ref, f);

	if (rc != 0 && rc != -CB_ENOENT)
		return rc;
	if (rc == 0 && staff_reaches(x->h, &x->staff, f))
		return 0;
	if ((rc = audit(x, "scope.refused", rc == 0 ? f->ref : NULL, "console", 0)) != 0)
		return rc;
	return -CB_EPERM;
}

static void family_page(struct ctx *x, const char *ref)
{
	static const char *const chat_cols[] = {"console.col.chat", "console.col.gateway", "console.col.state",
						"console.col.last_inbound"};
	static const char *const appt_cols[] = {"console.col.when", "console.col.what", "console.col.state"};
	static const char *const doc_cols[] = {"console.col.what", "console.col.due", "console.col.state"};
	struct html b = {0};
	struct family f;
	struct alert_walk aw = {0};
	void *pair[2] = {x, &b};
	char title[256];
	int rc = family_for(x, ref, &f);

	if (rc == -CB_EPERM) {
		message_page(x, 404, "console.refused");
		return;
	}
	if (rc != 0 || (rc = audit(x, "console.view", f.ref, NULL, 0)) != 0) {
		store_failed(x);
		return;
	}
	{
		const struct locale_param p[] = {{"ref", f.ref}};

		if (locale_render(x->h->loc, x->lang, "console.family.heading", p, 1, title, sizeof(title)) != 0)
			cb_strlcpy(title, f.ref, sizeof(title));
	}
	page_start(x, &b, title);
	html_raw(&b, "<p>");
	html_text(&b, t(x, "console.col.counsellor"));
	html_raw(&b, ": ");
	html_text(&b, f.counsellor);
	if (f.backup[0] != '\0') {
		html_raw(&b, " \xc2\xb7 ");
		html_text(&b, t(x, "console.family.backup"));
		html_raw(&b, ": ");
		html_text(&b, f.backup);
	}
	html_raw(&b, "</p>");

	section(x, &b, "console.family.alerts");
	html_raw(&b, "<ul>");
	aw.x = x;
	aw.b = &b;
	aw.family_id = f.id;
	aw.ref = f.ref;
	if (store_alert_list(x->h->store, 1, 500, alert_row, &aw) != 0)
		goto failed;
	html_raw(&b, "</ul>");

	section(x, &b, "console.family.write");
	html_raw(&b, "<form method=\"post\" action=\"/families/");
	html_text(&b, f.ref);
	html_raw(&b, "/write\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(&b, x->csrf);
	html_raw(&b, "\"><label for=\"text\">");
	html_text(&b, t(x, "console.family.write_label"));
	html_raw(&b, "</label><textarea id=\"text\" name=\"text\" required maxlength=\"4096\"></textarea>"
		     "<p><button type=\"submit\">");
	html_text(&b, t(x, "console.family.send"));
	html_raw(&b, "</button></p></form>");

	section(x, &b, "console.family.members");
	html_raw(&b, "<ul>");
	if (store_member_each(x->h->store, f.id, member_row, pair) != 0)
		goto failed;
	html_raw(&b, "</ul>");
	table_head(x, &b, chat_cols, 4);
	if (store_channel_each_family(x->h->store, f.id, channel_row, pair) != 0)
		goto failed;
	html_raw(&b, "</tbody></table></div>");

	section(x, &b, "console.family.appointments");
	table_head(x, &b, appt_cols, 3);
	if (store_appointment_each(x->h->store, f.id, appointment_row, pair) != 0)
		goto failed;
	html_raw(&b, "</tbody></table></div>");

	section(x, &b, "console.family.documents");
	table_head(x, &b, doc_cols, 3);
	if (store_docreq_each(x->h->store, f.id, docreq_row, pair) != 0)
		goto failed;
	html_raw(&b, "</tbody></table></div>");

	section(x, &b, "console.family.timeline");
	html_raw(&b, "<ol class=\"timeline\">");
	if (store_contact_each(x->h->store, f.id, 0, timeline_row, pair) != 0)
		goto failed;
	html_raw(&b, "</ol>");
	page_end(&b);
	finish(x, 200, "text/html; charset=utf-8", &b);
	return;
failed:
	html_free(&b);
	store_failed(x);
}

static void ack_alert(struct ctx *x, const char *ref, int64_t alert_id)
{
	struct family f;
	struct alert a;
	char to[STORE_NAME_MAX + 16];
	int rc = family_for(x, ref, &f);

	if (rc == -CB_EPERM) {
		message_page(x, 404, "console.refused");
		return;
	}
	if (rc != 0) {
		store_failed(x);
		return;
	}
	if (store_alert_get(x->h->store, alert_id, &a) != 0 || a.family_id != f.id) {
		message_page(x, 404, "console.not_found");
		return;
	}
	rc = store_alert_ack(x->h->store, alert_id, x->staff.id, x->h->now);
	if ((rc != 0 && rc != -CB_ESTATE) || audit(x, "alert.ack", f.ref, "console", alert_id) != 0) {
		store_failed(x);
		return;
	}
	snprintf(to, sizeof(to), "/families/%s", f.ref);
	redirect(x, to);
}

static void write_family(struct ctx *x, const char *ref)
{
	char *text = malloc(FORM_VALUE_MAX + 1);
	char to[STORE_NAME_MAX + 16];
	struct family f;
	int rc;

	if (text == NULL) {
		store_failed(x);
		return;
	}
	rc = family_for(x, ref, &f);
	if (rc == -CB_EPERM) {
		message_page(x, 404, "console.refused");
		goto out;
	}
	if (rc != 0) {
		store_failed(x);
		goto out;
	}
	if (form_get(x, "text", text, FORM_VALUE_MAX + 1) != 0 || text[0] == '\0') {
		message_page(x, 400, "console.expired");
		goto out;
	}
	rc = staff_write(x->h, &x->staff, &f, text);
	if (rc == -CB_ENOENT || rc == -CB_ETOOBIG) {
		message_page(x, 422, rc == -CB_ENOENT ? "console.family.no_chat" : "console.family.too_long");
		goto out;
	}
	if (rc != 0 || audit(x, "console.write", f.ref, NULL, 0) != 0) {
		store_failed(x);
		goto out;
	}
	snprintf(to, sizeof(to), "/families/%s", f.ref);
	redirect(x, to);
out:
	free(text);
}


/* The caseload: per counsellor, their families, contacts in and out per
 * week over CASELOAD_WEEKS weeks (an SVG the server draws, each bar
 * titled with its numbers), the median wait for an answer, open alerts,
 * away and backup. A coordinator sees everyone; a counsellor themselves. */
#define CASELOAD_WEEKS 12
#define CASELOAD_TIMES_MAX 4096
#define BAR_W 9
#define CHART_H 60

static void render(const struct ctx *x, const char *key, const struct locale_param *p, size_t n, char *out,
		   size_t cap)
{
	if (locale_render(x->h->loc, x->lang, key, p, n, out, cap) != 0)
		cb_strlcpy(out, "?", cap);
}

static void chart(struct ctx *x, struct html *b, const struct caseload_row *r, time_t since, const int *in,
		  const int *out)
{
	int max = 1, total_in = 0, total_out = 0;
	char title[512], a[16], c[16], day[DATE_MAX];

	for (int i = 0; i < CASELOAD_WEEKS; i++) {
		if (in[i] > max)
			max = in[i];
		if (out[i] > max)
			max = out[i];
		total_in += in[i];
		total_out += out[i];
	}
	snprintf(a, sizeof(a), "%d", total_in);
	snprintf(c, sizeof(c), "%d", total_out);
	{
		const struct locale_param p[] = {{"name", r->name}, {"in", a}, {"out", c}};

		render(x, "console.caseload.chart", p, 3, title, sizeof(title));
	}
	html_rawf(b, "<svg role=\"img\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" class=\"chart\">",
		  CASELOAD_WEEKS * (2 * BAR_W + 4), CHART_H + 2, CASELOAD_WEEKS * (2 * BAR_W + 4), CHART_H + 2);
	html_raw(b, "<title>");
	html_text(b, title);
	html_raw(b, "</title>");
	for (int i = 0; i < CASELOAD_WEEKS; i++) {
		int hi = in[i] * CHART_H / max, ho = out[i] * CHART_H / max, x0 = i * (2 * BAR_W + 4);

		if (locale_format_date(x->h->loc, x->lang, since + (time_t)i * 7 * 86400, day, sizeof(day)) != 0)
			cb_strlcpy(day, "?", sizeof(day));
		snprintf(a, sizeof(a), "%d", in[i]);
		snprintf(c, sizeof(c), "%d", out[i]);
		{
			const struct locale_param p[] = {{"week", day}, {"in", a}, {"out", c}};

			render(x, "console.caseload.week", p, 3, title, sizeof(title));
		}
		html_raw(b, "<g><title>");
		html_text(b, title);
		html_raw(b, "</title>");
		html_rawf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#1f4e79\"/>", x0,
			  CHART_H - hi, BAR_W, hi > 0 ? hi : 0);
		html_rawf(b, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#b35900\"/>",
			  x0 + BAR_W, CHART_H - ho, BAR_W, ho > 0 ? ho : 0);
		html_raw(b, "</g>");
	}
	html_rawf(b, "<line x1=\"0\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#555\"/></svg>", CHART_H,
		  CASELOAD_WEEKS * (2 * BAR_W + 4), CHART_H);
}

struct caseload_walk {
	struct ctx *x;
	struct html *b;
	int64_t *times;
	int failed;
};

static int caseload_row(const void *rec, void *arg)
{
	const struct caseload_row *r = rec;
	struct caseload_walk *w = arg;
	struct ctx *x = w->x;
	struct html *b = w->b;
	int in[CASELOAD_WEEKS], out[CASELOAD_WEEKS], n = 0;
	time_t since = x->h->now - (time_t)CASELOAD_WEEKS * 7 * 86400;
	char v[128];

	if (x->staff.role != ROLE_COORDINATOR && r->staff_id != x->staff.id)
		return 0;
	if (r->role == ROLE_COORDINATOR && r->families == 0 && r->backups == 0)
		return 0;
	if (store_caseload_weeks(x->h->store, r->staff_id, since, CASELOAD_WEEKS, in, out) != 0 ||
	    store_caseload_answer_times(x->h->store, r->staff_id, since, w->times, CASELOAD_TIMES_MAX, &n) != 0) {
		w->failed = 1;
		return -CB_ESTORE;
	}
	html_raw(b, "<section class=\"caseload\"><h2>");
	html_text(b, r->name);
	if (r->away) {
		html_raw(b, " <span class=\"muted\">(");
		html_text(b, t(x, "console.caseload.away"));
		html_raw(b, ")</span>");
	}
	html_raw(b, "</h2><dl><dt>");
	html_text(b, t(x, "console.caseload.families"));
	html_rawf(b, "</dt><dd>%d</dd><dt>", r->families);
	html_text(b, t(x, "console.caseload.backups"));
	html_rawf(b, "</dt><dd>%d</dd><dt>", r->backups);
	html_text(b, t(x, "console.caseload.alerts"));
	html_rawf(b, "</dt><dd>%d</dd><dt>", r->open_alerts);
	html_text(b, t(x, "console.caseload.median"));
	html_raw(b, "</dt><dd>");
	if (n == 0)
		html_text(b, t(x, "console.caseload.no_answers"));
	else {
		int64_t m = n % 2 ? w->times[n / 2] : (w->times[n / 2 - 1] + w->times[n / 2]) / 2;
		char hours[24], minutes[8];
		const struct locale_param p[] = {{"hours", hours}, {"minutes", minutes}};

		snprintf(hours, sizeof(hours), "%lld", (long long)(m / 3600));
		snprintf(minutes, sizeof(minutes), "%02d", (int)(m % 3600 / 60));
		render(x, "console.caseload.duration", p, 2, v, sizeof(v));
		html_text(b, v);
	}
	html_raw(b, "</dd></dl><p class=\"legend\"><span class=\"in\">");
	html_text(b, t(x, "console.caseload.in"));
	html_raw(b, "</span> <span class=\"out\">");
	html_text(b, t(x, "console.caseload.out"));
	html_raw(b, "</span></p>");
	chart(x, b, r, since, in, out);
	html_raw(b, "</section>");
	return 0;
}

static void caseload(struct ctx *x)
{
	struct html b = {0};
	struct caseload_walk w = {x, &b, malloc(sizeof(int64_t) * CASELOAD_TIMES_MAX), 0};

	if (w.times == NULL) {
		store_failed(x);
		return;
	}
	page_start(x, &b, t(x, "console.caseload.heading"));
	if (store_caseload_each(x->h->store, caseload_row, &w) != 0) {
		free(w.times);
		html_free(&b);
		store_failed(x);
		return;
	}
	free(w.times);
	page_end(&b);
	finish(x, 200, "text/html; charset=utf-8", &b);
}

/* The query value of name in path ("/?list=overdue"), or NULL. */
static const char *query(const char *path, const char *name, char *out, size_t cap)
{
	const char *q = strchr(path, '?');

	if (q == NULL || pair_get(q + 1, strlen(q + 1), '&', name, 1, out, cap) != 0)
		return NULL;
	return out;
}

/* A family reference as URLs carry it: what store refs are made of. */
static int ref_ok(const char *s, size_t n)
{
	if (n == 0 || n >= STORE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

static void dispatch(struct ctx *x)
{
	const char *m = x->req->method, *path = x->req->path;
	size_t plen = strcspn(path, "?");
	int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0, post = strcmp(m, "POST") == 0;
	char value[64], ref[STORE_NAME_MAX];
	int rc;

	if (plen == 12 && strncmp(path, "/console.css", 12) == 0 && get) {
		struct html b = {0};

		html_raw(&b, CSS);
		finish(x, 200, "text/css; charset=utf-8", &b);
		return;
	}
	if ((rc = session_load(x)) != 0) {
		store_failed(x);
		return;
	}
	if (plen == 6 && strncmp(path, "/login", 6) == 0) {
		if (get && x->signed_in)
			redirect(x, "/");
		else if (get)
			login_page(x, 200, 0);
		else if (post)
			login_post(x);
		else
			message_page(x, 405, "console.not_found");
		return;
	}
	if (!x->signed_in) {
		/* A form sent without a session is refused, not redirected. */
		if (post)
			message_page(x, 403, "console.expired");
		else
			redirect(x, "/login");
		return;
	}
	if (post && !csrf_ok(x)) {
		message_page(x, 403, "console.expired");
		return;
	}
	if (plen == 7 && strncmp(path, "/logout", 7) == 0 && post) {
		logout(x);
		return;
	}
	if (plen == 1 && get) {
		overview(x, query(path, "list", value, sizeof(value)));
		return;
	}
	if (plen == 9 && strncmp(path, "/caseload", 9) == 0 && get) {
		caseload(x);
		return;
	}
	if (plen > 12 && strncmp(path, "/export/", 8) == 0 && strncmp(path + plen - 4, ".csv", 4) == 0 && get &&
	    plen - 12 < sizeof(value)) {
		memcpy(value, path + 8, plen - 12);
		value[plen - 12] = '\0';
		export_list(x, value);
		return;
	}
	if (plen > 10 && strncmp(path, "/families/", 10) == 0) {
		const char *r = path + 10, *slash = memchr(r, '/', plen - 10);
		size_t rlen = slash != NULL ? (size_t)(slash - r) : plen - 10;
		long long id;
		char tail[16];

		if (ref_ok(r, rlen)) {
			memcpy(ref, r, rlen);
			ref[rlen] = '\0';
			if (slash == NULL && get) {
				family_page(x, ref);
				return;
			}
			if (slash != NULL && post && (size_t)(path + plen - slash) == 6 && strncmp(slash, "/write", 6) == 0) {
				write_family(x, ref);
				return;
			}
			if (slash != NULL && post && sscanf(slash, "/alerts/%lld/%15[a-z]", &id, tail) == 2 &&
			    strcmp(tail, "ack") == 0) {
				ack_alert(x, ref, (int64_t)id);
				return;
			}
		}
	}
	message_page(x, 404, "console.not_found");
}

void console_handle(struct console *c, struct hctx *h, const struct console_request *req,
		    struct console_response *res)
{
	struct ctx x;

	memset(res, 0, sizeof(*res));
	memset(&x, 0, sizeof(x));
	x.c = c;
	x.h = h;
	x.req = req;
	x.res = res;
	x.lang = h->cfg->default_language;
	cb_strlcpy(x.actor, "console", sizeof(x.actor));
	security_headers(&x);
	dispatch(&x);
	sodium_memzero(x.token, sizeof(x.token));
}
