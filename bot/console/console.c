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
#include "bot/console/casefile.h"
#include "bot/console/desk.h"
#include "bot/console/page.h"
#include "bot/console/team.h"
#include "bot/event.h"
#include "bot/tz.h"
#include "locales/locale.h"
#include "locales/note.h"

#define DATE_MAX PAGE_DATE_MAX
#define SENTENCE_MAX PAGE_SENTENCE_MAX
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
	"a:focus,button:focus,input:focus,input:focus-within,select:focus,textarea:focus,summary:focus"
	"{outline:3px solid #b35900;outline-offset:2px}\n"
	"header a:focus,header button:focus{outline-color:#ffd27a}\n"
	"button{font:inherit;padding:.45rem .9rem;border:1px solid #123;background:#123;color:#fff;"
	"border-radius:4px;cursor:pointer}\n"
	"header button{background:#fff;color:#123}\n"
	"label{display:block;margin:.8rem 0 .2rem;font-weight:600}\n"
	"input,textarea,select{font:inherit;width:100%;max-width:24rem;padding:.4rem;border:1px solid #555;"
	"border-radius:4px;background:#fff;color:#1a1a1a}\n"
	"input[type=checkbox]{width:auto;vertical-align:middle}\n"
	"label.inline{display:inline;font-weight:400}\n"
	"td form{margin:.2rem 0}td label{margin-top:0;font-weight:400}\n"
	"details{margin:.6rem 0}summary{cursor:pointer;color:#0645ad;text-decoration:underline}\n"
	".notice{padding:.5rem .8rem;border-left:4px solid #555;background:#f3f3f3}\n"
	".card{border:1px solid #bbb;border-radius:6px;padding:.2rem .9rem .6rem;margin:.8rem 0}\n"
	".card dl{display:grid;grid-template-columns:auto 1fr;gap:.1rem 1rem}.card dd{margin:0}\n"
	".actions{display:flex;flex-wrap:wrap;gap:.4rem}\n"
	".filters{display:flex;flex-wrap:wrap;gap:0 1.2rem;align-items:end}\n"
	".qr{max-width:100%;height:auto}.secret{word-break:break-all}\n"
	"#live{border:2px solid #a00000;border-radius:6px;padding:0 .8rem}\n"
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

/* The console's one script, a file (the policy allows no inline
 * script): on the overview, every data-every seconds it asks
 * /alerts/live for the open alerts newer than the newest shown, puts
 * them at the top of the live list (text only, never markup) and updates
 * the alerts' count. Polling, rather than server-sent events: an answer
 * is one small read, it goes through any proxy as it is, and no
 * connection stays open on the daemon's loop per tab. Without
 * JavaScript the page is whole, and a reload shows the same. */
static const char JS[] =
	"'use strict';\n"
	"(function () {\n"
	"\tconst live = document.getElementById('live');\n"
	"\tif (!live) return;\n"
	"\tconst list = live.querySelector('ul');\n"
	"\tconst count = document.getElementById('count-alerts');\n"
	"\tconst every = (Number(live.dataset.every) || 15) * 1000;\n"
	"\tlet after = Number(live.dataset.newest) || 0;\n"
	"\tasync function poll() {\n"
	"\t\ttry {\n"
	"\t\t\tconst r = await fetch('/alerts/live?after=' + after, { credentials: 'same-origin', cache: 'no-store' });\n"
	"\t\t\tif (!r.ok) return;\n"
	"\t\t\tconst j = await r.json();\n"
	"\t\t\tif (count) count.textContent = String(j.open);\n"
	"\t\t\tfor (const a of j.alerts.slice().reverse()) {\n"
	"\t\t\t\tconst li = document.createElement('li');\n"
	"\t\t\t\tif (a.urgent) li.className = 'urgent';\n"
	"\t\t\t\tconst link = document.createElement('a');\n"
	"\t\t\t\tlink.href = '/families/' + encodeURIComponent(a.ref);\n"
	"\t\t\t\tlink.textContent = a.ref;\n"
	"\t\t\t\tli.append(link, ' \\u2014 ' + a.at + ' \\u2014 ' + a.text);\n"
	"\t\t\t\tlist.prepend(li);\n"
	"\t\t\t}\n"
	"\t\t\tif (j.newest > after) after = j.newest;\n"
	"\t\t\tlive.hidden = list.children.length === 0;\n"
	"\t\t} catch (e) {\n"
	"\t\t\t/* Offline for a moment: the next turn tries again. */\n"
	"\t\t}\n"
	"\t}\n"
	"\tsetInterval(poll, every);\n"
	"})();\n";



void console_init(struct console *c, const struct config *cfg)
{
	memset(c, 0, sizeof(*c));
	/* Behind an HTTPS proxy, or HTTPS here: cookies go over HTTPS only. */
	c->secure_cookie = cfg->console_secure_cookie || cfg->http_tls_cert[0] != '\0';
	c->not_reached_days = cfg->console_not_reached_days > 0 ? cfg->console_not_reached_days : 14;
	randombytes_buf(c->fail_key, sizeof(c->fail_key));
}

void console_response_free(struct console_response *res)
{
	if (res->wipe && res->body != NULL)
		sodium_memzero(res->body, res->len);
	free(res->body);
	res->body = NULL;
}



/* The same on every answer, pages, exports, redirects and errors alike. */
static void security_headers(struct page *x)
{
	page_header(x, "content-security-policy", "%s",
		   "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
		   "form-action 'self'; "
		   "frame-ancestors 'none'; base-uri 'none'");
	page_header(x, "x-frame-options", "%s", "DENY");
	page_header(x, "referrer-policy", "%s", "no-referrer");
	page_header(x, "cache-control", "%s", "no-store");
	page_header(x, "x-content-type-options", "%s", "nosniff");
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

static void login_page(struct page *x, int status, int failed)
{
	char token[AUTH_TOKEN_HEX], csrf[AUTH_TOKEN_HEX];
	struct html b = {0};

	/* The form's own cookie: its CSRF token is derived from it. */
	if (page_cookie(x, CONSOLE_LOGIN_COOKIE, token, sizeof(token)) != 0 || auth_csrf(token, csrf) != 0) {
		auth_token_new(token);
		auth_csrf(token, csrf);
		page_set_cookie(x, CONSOLE_LOGIN_COOKIE, token, 3600);
	}
	page_start(x, &b, page_t(x, "console.login.heading"));
	if (failed) {
		html_raw(&b, "<p class=\"error\" role=\"alert\">");
		html_text(&b, page_t(x, "console.login.failed"));
		html_raw(&b, "</p>");
	}
	html_raw(&b, "<form method=\"post\" action=\"/login\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(&b, csrf);
	html_raw(&b, "\"><label for=\"name\">");
	html_text(&b, page_t(x, "console.login.name"));
	html_raw(&b, "</label><input id=\"name\" name=\"name\" autocomplete=\"username\" required>"
		     "<label for=\"password\">");
	html_text(&b, page_t(x, "console.login.password"));
	html_raw(&b, "</label><input id=\"password\" name=\"password\" type=\"password\" "
		     "autocomplete=\"current-password\" required><label for=\"code\">");
	html_text(&b, page_t(x, "console.login.code"));
	html_raw(&b, "</label><input id=\"code\" name=\"code\" inputmode=\"numeric\" "
		     "autocomplete=\"one-time-code\" pattern=\"[0-9]{6}\" required>");
	page_form_end(x, &b, "console.login.submit");
	page_end(&b);
	page_finish(x, status, "text/html; charset=utf-8", &b);
}

/* Whether name, password and code let someone in, and who. */
static int login_check(struct page *x, const char *name, const char *password, const char *code,
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

static void login_post(struct page *x)
{
	char token[AUTH_TOKEN_HEX], csrf[AUTH_TOKEN_HEX], name[STORE_NAME_MAX], code[16];
	char *password = malloc(AUTH_PASSWORD_MAX + 1);
	unsigned char who_name[16], who_addr[16], hash[AUTH_HASH_BYTES];
	struct staff s;
	int fails, rc;

	if (password == NULL) {
		page_store_failed(x);
		return;
	}
	if (page_cookie(x, CONSOLE_LOGIN_COOKIE, token, sizeof(token)) != 0 ||
	    page_form(x, "csrf", csrf, sizeof(csrf)) != 0 || auth_csrf_check(token, csrf) != 0) {
		page_message(x, 403, "console.expired");
		goto out;
	}
	if (page_form(x, "name", name, sizeof(name)) != 0)
		name[0] = '\0';
	if (page_form(x, "password", password, AUTH_PASSWORD_MAX + 1) != 0)
		password[0] = '\0';
	if (page_form(x, "code", code, sizeof(code)) != 0)
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
				page_store_failed(x);
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
	    page_audit(x, "console.login", NULL, NULL, 0) != 0) {
		page_store_failed(x);
		goto out;
	}
	page_set_cookie(x, CONSOLE_SESSION_COOKIE, x->token, CONSOLE_ABSOLUTE_SECONDS);
	page_set_cookie(x, CONSOLE_LOGIN_COOKIE, "", 0);
	page_redirect(x, "/");
out:
	sodium_memzero(password, AUTH_PASSWORD_MAX + 1);
	free(password);
}

/* The session of the request's cookie, if it is alive: then x is signed
 * in and the session's last use is now. */
static int session_load(struct page *x)
{
	unsigned char hash[AUTH_HASH_BYTES];
	int64_t staff_id;
	int rc;

	if (page_cookie(x, CONSOLE_SESSION_COOKIE, x->token, sizeof(x->token)) != 0 ||
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

static int csrf_ok(struct page *x)
{
	char csrf[AUTH_TOKEN_HEX];

	return page_form(x, "csrf", csrf, sizeof(csrf)) == 0 && auth_csrf_check(x->token, csrf) == 0;
}

static void logout(struct page *x)
{
	unsigned char hash[AUTH_HASH_BYTES];

	if (auth_token_hash(x->token, hash) != 0 || store_session_delete(x->h->store, hash) != 0 ||
	    page_audit(x, "console.logout", NULL, NULL, 0) != 0) {
		page_store_failed(x);
		return;
	}
	page_set_cookie(x, CONSOLE_SESSION_COOKIE, "", 0);
	page_redirect(x, "/login");
}



/* What a row of a list says besides the family and its counsellor. */
static void row_what(struct page *x, enum overview_list list, const struct overview_row *r, char *out, size_t cap)
{
	char key[STORE_TEXT_MAX + 32];
	const char *v = NULL;

	out[0] = '\0';
	switch (list) {
	case OVERVIEW_NOT_REACHED:
		v = page_t(x, r->flag ? "console.overview.wrote" : "console.overview.silent");
		break;
	case OVERVIEW_UNCONFIRMED:
		snprintf(key, sizeof(key), "appointment.kind.%s", r->what);
		v = page_t(x, key);
		break;
	case OVERVIEW_OVERDUE:
		snprintf(key, sizeof(key), "document.type.%s", r->what);
		v = page_t(x, key);
		break;
	case OVERVIEW_ALERTS: {
		struct alert a;

		if (store_alert_get(x->h->store, r->object_id, &a) == 0 &&
		    note_alert(x->h->loc, x->lang, &a, out, cap) == 0 && out[0] != '\0')
			return;
		v = page_t(x, r->flag ? "console.overview.urgent" : "console.overview.alert");
		break;
	}
	case OVERVIEW_BLOCKED:
		v = page_t(x, r->flag == 1 ? "console.overview.chat_blocked" : "console.overview.chat_stopped");
		break;
	default:
		break;
	}
	if (v != NULL)
		cb_strlcpy(out, v, cap);
}

struct list_walk {
	struct page *x;
	enum overview_list list;
	int split;               /* OVERVIEW_NOT_REACHED: -1 all, 0 nothing sent, 1 we wrote */
	int count;
	struct html *b;          /* NULL: count only */
	int csv;
	int64_t last_group;
	int64_t newest;          /* OVERVIEW_ALERTS: the newest alert listed */
};

static int list_row(const void *rec, void *arg)
{
	const struct overview_row *r = rec;
	struct list_walk *w = arg;
	char at[DATE_MAX], what[SENTENCE_MAX];

	if (w->split >= 0 && r->flag != w->split)
		return 0;
	if (!page_reaches(w->x, r->family_id, r->counsellor_id, r->backup_id))
		return 0;
	w->count++;
	if (w->list == OVERVIEW_ALERTS && r->object_id > w->newest)
		w->newest = r->object_id;
	if (w->b == NULL)
		return 0;
	if (w->list == OVERVIEW_OVERDUE)
		cb_strlcpy(at, r->day, sizeof(at));
	else
		page_when(w->x, r->at, at, sizeof(at));
	row_what(w->x, w->list, r, what, sizeof(what));
	{
		char href[STORE_NAME_MAX + 16];
		const char *cells[4] = {r->ref, r->counsellor, at, what};

		if (w->csv) {
			page_csv_row(w->b, cells, 4);
			return 0;
		}
		snprintf(href, sizeof(href), "/families/%s", r->ref);
		page_row(w->b, w->list == OVERVIEW_ALERTS && r->flag ? "urgent" : NULL, href, cells, 4);
	}
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

static const char *const list_cols[] = {"console.col.family", "console.col.counsellor", "console.col.when",
				       "console.col.what"};

static int walk_list(struct page *x, const struct list_def *d, struct list_walk *w)
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

static void list_title(struct page *x, const struct list_def *d, char *out, size_t cap)
{
	char days[16];
	const struct locale_param p[] = {{"days", days}};

	snprintf(days, sizeof(days), "%d", x->c->not_reached_days);
	if (locale_render(x->h->loc, x->lang, d->key, p, 1, out, cap) != 0)
		cb_strlcpy(out, d->key, cap);
}

static void overview(struct page *x, const char *only)
{
	struct html b = {0};
	char title[256];
	int64_t newest = 0;
	size_t i;

	page_start(x, &b, page_t(x, "console.overview.heading"));
	html_raw(&b, "<ul class=\"counts\">");
	for (i = 0; i < CB_ARRAY_SIZE(lists); i++) {
		struct list_walk w = {0};

		if (walk_list(x, &lists[i], &w) != 0)
			goto failed;
		list_title(x, &lists[i], title, sizeof(title));
		html_raw(&b, "<li><a href=\"/?list=");
		html_text(&b, lists[i].name);
		html_raw(&b, "#list\">");
		html_rawf(&b, "<b id=\"count-%s\">%d</b>", lists[i].name, w.count);
		html_text(&b, title);
		html_raw(&b, "</a></li>");
		if (lists[i].list == OVERVIEW_ALERTS)
			newest = w.newest;
	}
	html_raw(&b, "</ul>");
	/* New alerts show here without a reload: /console.js asks for the
	 * ones newer than the newest counted above. */
	html_rawf(&b, "<section id=\"live\" data-newest=\"%lld\" data-every=\"%d\" aria-live=\"polite\" hidden>",
		  (long long)newest, CONSOLE_LIVE_SECONDS);
	page_section(x, &b, "console.live.heading");
	html_raw(&b, "<ul class=\"live\"></ul></section>");
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
		html_text(&b, page_t(x, "console.export"));
		html_raw(&b, "</a></p>");
		page_table_head(x, &b, list_cols, 4);
		w.b = &b;
		if (walk_list(x, &lists[i], &w) != 0)
			goto failed;
		page_table_end(&b);
		if (w.count == 0) {
			html_raw(&b, "<p class=\"muted\">");
			html_text(&b, page_t(x, "console.none"));
			html_raw(&b, "</p>");
		}
	}
	page_end(&b);
	page_finish(x, 200, "text/html; charset=utf-8", &b);
	return;
failed:
	html_free(&b);
	page_store_failed(x);
}

static void export_list(struct page *x, const char *name)
{
	struct html b = {0};
	struct list_walk w = {0};
	char file[96];

	for (size_t i = 0; i < CB_ARRAY_SIZE(lists); i++) {
		if (strcmp(name, lists[i].name) != 0)
			continue;
		{
			const char *cells[4];

			for (int k = 0; k < 4; k++)
				cells[k] = page_t(x, list_cols[k]);
			page_csv_row(&b, cells, 4);
		}
		w.b = &b;
		w.csv = 1;
		if (walk_list(x, &lists[i], &w) != 0 || page_audit(x, "console.export", NULL, lists[i].name, 0) != 0) {
			html_free(&b);
			page_store_failed(x);
			return;
		}
		snprintf(file, sizeof(file), "attachment; filename=\"%s.csv\"", lists[i].name);
		page_header(x, "content-disposition", "%s", file);
		page_finish(x, 200, "text/csv; charset=utf-8", &b);
		return;
	}
	page_message(x, 404, "console.not_found");
}

/* The caseload: per counsellor, their families, contacts in and out per
 * week over CASELOAD_WEEKS weeks (an SVG the server draws, each bar
 * titled with its numbers), the median wait for an answer, open alerts,
 * away and backup. A coordinator sees everyone; a counsellor themselves. */
#define CASELOAD_WEEKS 12
#define CASELOAD_TIMES_MAX 4096
#define BAR_W 9
#define CHART_H 60


static void chart(struct page *x, struct html *b, const struct caseload_row *r, time_t since, const int *in,
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

		page_render(x, "console.caseload.chart", p, 3, title, sizeof(title));
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

			page_render(x, "console.caseload.week", p, 3, title, sizeof(title));
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
	struct page *x;
	struct html *b;
	int64_t *times;
	int failed;
};

static int caseload_row(const void *rec, void *arg)
{
	const struct caseload_row *r = rec;
	struct caseload_walk *w = arg;
	struct page *x = w->x;
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
		html_text(b, page_t(x, "console.caseload.away"));
		html_raw(b, ")</span>");
	}
	html_raw(b, "</h2><dl><dt>");
	html_text(b, page_t(x, "console.caseload.families"));
	html_rawf(b, "</dt><dd>%d</dd><dt>", r->families);
	html_text(b, page_t(x, "console.caseload.backups"));
	html_rawf(b, "</dt><dd>%d</dd><dt>", r->backups);
	html_text(b, page_t(x, "console.caseload.alerts"));
	html_rawf(b, "</dt><dd>%d</dd><dt>", r->open_alerts);
	html_text(b, page_t(x, "console.caseload.median"));
	html_raw(b, "</dt><dd>");
	if (n == 0)
		html_text(b, page_t(x, "console.caseload.no_answers"));
	else {
		int64_t m = n % 2 ? w->times[n / 2] : (w->times[n / 2 - 1] + w->times[n / 2]) / 2;
		char hours[24], minutes[8];
		const struct locale_param p[] = {{"hours", hours}, {"minutes", minutes}};

		snprintf(hours, sizeof(hours), "%lld", (long long)(m / 3600));
		snprintf(minutes, sizeof(minutes), "%02d", (int)(m % 3600 / 60));
		page_render(x, "console.caseload.duration", p, 2, v, sizeof(v));
		html_text(b, v);
	}
	html_raw(b, "</dd></dl><p class=\"legend\"><span class=\"in\">");
	html_text(b, page_t(x, "console.caseload.in"));
	html_raw(b, "</span> <span class=\"out\">");
	html_text(b, page_t(x, "console.caseload.out"));
	html_raw(b, "</span></p>");
	chart(x, b, r, since, in, out);
	html_raw(b, "</section>");
	return 0;
}

static void caseload(struct page *x)
{
	struct html b = {0};
	struct caseload_walk w = {x, &b, malloc(sizeof(int64_t) * CASELOAD_TIMES_MAX), 0};

	if (w.times == NULL) {
		page_store_failed(x);
		return;
	}
	page_start(x, &b, page_t(x, "console.caseload.heading"));
	if (store_caseload_each(x->h->store, caseload_row, &w) != 0) {
		free(w.times);
		html_free(&b);
		page_store_failed(x);
		return;
	}
	free(w.times);
	page_end(&b);
	page_finish(x, 200, "text/html; charset=utf-8", &b);
}



/* The pages and forms of a signed-in staff member. */
static void route(struct page *x, const char *path, size_t plen, int get, int post)
{
	char value[64], ref[STORE_NAME_MAX], verb[16];
	long long id;
	int used = 0;

	if (plen == 1 && get) {
		overview(x, page_query(path, "list", value, sizeof(value)));
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
	if (plen == 7 && strncmp(path, "/alerts", 7) == 0 && get) {
		desk_alerts(x);
		return;
	}
	if (plen == 12 && strncmp(path, "/alerts/live", 12) == 0 && get) {
		desk_alerts_live(x);
		return;
	}
	if (plen > 8 && strncmp(path, "/alerts/", 8) == 0 && post &&
	    sscanf(path + 8, "%lld/%15[a-z]%n", &id, verb, &used) == 2 && (size_t)used == plen - 8 && id > 0) {
		desk_alert_post(x, (int64_t)id, verb);
		return;
	}
	if (((plen == 6 && strncmp(path, "/audit", 6) == 0) || (plen == 10 && strncmp(path, "/audit.csv", 10) == 0)) &&
	    get) {
		desk_audit(x, plen == 10);
		return;
	}
	if (plen == 6 && strncmp(path, "/staff", 6) == 0) {
		if (get)
			team_page(x);
		else
			team_post(x, 0, NULL);
		return;
	}
	if (plen > 7 && strncmp(path, "/staff/", 7) == 0 && post &&
	    sscanf(path + 7, "%lld/%15[a-z]%n", &id, verb, &used) == 2 && (size_t)used == plen - 7 && id > 0) {
		team_post(x, (int64_t)id, verb);
		return;
	}
	if (plen > 10 && strncmp(path, "/families/", 10) == 0) {
		const char *r = path + 10, *slash = memchr(r, '/', plen - 10);
		size_t rlen = slash != NULL ? (size_t)(slash - r) : plen - 10;

		if (page_ref_ok(r, rlen)) {
			memcpy(ref, r, rlen);
			ref[rlen] = '\0';
			if (casefile_route(x, ref, r + rlen, plen - 10 - rlen, get, post))
				return;
		}
	}
	page_message(x, 404, "console.not_found");
}

static void dispatch(struct page *x)
{
	const char *m = x->req->method, *path = x->req->path;
	size_t plen = strcspn(path, "?");
	int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0, post = strcmp(m, "POST") == 0;
	int rc;

	if (plen == 12 && strncmp(path, "/console.css", 12) == 0 && get) {
		struct html b = {0};

		html_raw(&b, CSS);
		page_finish(x, 200, "text/css; charset=utf-8", &b);
		return;
	}
	if (plen == 11 && strncmp(path, "/console.js", 11) == 0 && get) {
		struct html b = {0};

		html_raw(&b, JS);
		page_finish(x, 200, "text/javascript; charset=utf-8", &b);
		return;
	}
	if ((rc = session_load(x)) != 0) {
		page_store_failed(x);
		return;
	}
	if (plen == 6 && strncmp(path, "/login", 6) == 0) {
		if (get && x->signed_in)
			page_redirect(x, "/");
		else if (get)
			login_page(x, 200, 0);
		else if (post)
			login_post(x);
		else
			page_message(x, 405, "console.not_found");
		return;
	}
	if (!x->signed_in) {
		/* A form sent without a session is refused, not redirected. */
		if (post)
			page_message(x, 403, "console.expired");
		else
			page_redirect(x, "/login");
		return;
	}
	if (post && !csrf_ok(x)) {
		page_message(x, 403, "console.expired");
		return;
	}
	if (plen == 7 && strncmp(path, "/logout", 7) == 0 && post) {
		logout(x);
		return;
	}
	if (!post) {
		route(x, path, plen, get, 0);
		return;
	}
	/* A form's work, its audit rows and a refusal's row are one
	 * transaction: all of it, or (on a store failure) none. */
	if (store_begin(x->h->store) != 0) {
		page_store_failed(x);
		return;
	}
	route(x, path, plen, 0, 1);
	if (x->res->status == 500)
		store_rollback(x->h->store);
	else if (store_commit(x->h->store) != 0) {
		console_response_free(x->res);
		x->res->wipe = 0;
		page_store_failed(x);
	}
}

void console_handle(struct console *c, struct hctx *h, const struct console_request *req,
		    struct console_response *res)
{
	struct page x;

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
