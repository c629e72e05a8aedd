/* The frame every console page has, forms and their values, the audit
 * and the one check of scope. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/console/page.h"
#include "bot/log.h"

const char *page_t(const struct page *x, const char *key)
{
	return locale_text(x->h->loc, x->lang, key);
}

void page_header(struct page *x, const char *name, const char *fmt, const char *value)
{
	struct console_response *r = x->res;

	if (r->nheaders >= CONSOLE_HEADERS_MAX)
		return;
	r->headers[r->nheaders].name = name;
	snprintf(r->headers[r->nheaders].value, sizeof(r->headers[0].value), fmt, value);
	r->nheaders++;
}

void page_finish(struct page *x, int status, const char *ctype, struct html *b)
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

void page_redirect(struct page *x, const char *to)
{
	struct html b = {0};

	page_header(x, "location", "%s", to);
	html_raw(&b, "");
	page_finish(x, 303, "text/plain; charset=utf-8", &b);
}

void page_set_cookie(struct page *x, const char *name, const char *value, int max_age)
{
	char v[300];

	snprintf(v, sizeof(v), "%s=%s; Path=/; HttpOnly; SameSite=Strict%s; Max-Age=%d", name, value,
		 x->c->secure_cookie ? "; Secure" : "", max_age);
	page_header(x, "set-cookie", "%s", v);
}

/* A name's value from name=value pairs split by sep (a form body, a
 * query, a Cookie header). Form values are percent-decoded with libcurl;
 * cookies are taken as they are. */
int page_pair(const char *s, size_t len, char sep, const char *name, int decode, char *out, size_t cap)
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

int page_form(const struct page *x, const char *name, char *out, size_t cap)
{
	if (x->req->body == NULL)
		return -CB_ENOENT;
	return page_pair(x->req->body, x->req->body_len, '&', name, 1, out, cap);
}

int page_cookie(const struct page *x, const char *name, char *out, size_t cap)
{
	if (x->req->cookie == NULL)
		return -CB_ENOENT;
	return page_pair(x->req->cookie, strlen(x->req->cookie), ';', name, 0, out, cap);
}

void page_start(struct page *x, struct html *b, const char *title)
{
	html_raw(b, "<!doctype html>\n<html lang=\"");
	html_text(b, lang_code(x->lang));
	html_raw(b, "\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<link rel=\"stylesheet\" href=\"/console.css\"><script src=\"/console.js\" defer></script><title>");
	html_text(b, title);
	html_raw(b, " \xe2\x80\x93 casebot</title></head><body><header><strong>casebot</strong>");
	if (x->signed_in) {
		html_raw(b, "<nav><a href=\"/\">");
		html_text(b, page_t(x, "console.nav.overview"));
		html_raw(b, "</a> <a href=\"/caseload\">");
		html_text(b, page_t(x, "console.nav.caseload"));
		html_raw(b, "</a> <a href=\"/alerts\">");
		html_text(b, page_t(x, "console.nav.alerts"));
		html_raw(b, "</a> <a href=\"/audit\">");
		html_text(b, page_t(x, "console.nav.audit"));
		if (x->staff.role == ROLE_COORDINATOR) {
			html_raw(b, "</a> <a href=\"/staff\">");
			html_text(b, page_t(x, "console.nav.staff"));
		}
		html_raw(b, "</a></nav><span>");
		html_text(b, x->staff.name);
		html_raw(b, "</span>");
		page_button(x, b, "/logout", "console.logout");
	}
	html_raw(b, "</header><main><h1>");
	html_text(b, title);
	html_raw(b, "</h1>");
}

void page_end(struct html *b)
{
	html_raw(b, "</main></body></html>\n");
}

/* A page that only says something (refused, not found, expired). */
void page_message(struct page *x, int status, const char *key)
{
	struct html b = {0};

	page_start(x, &b, page_t(x, key));
	html_raw(&b, "<p><a href=\"/\">");
	html_text(&b, page_t(x, "console.nav.overview"));
	html_raw(&b, "</a></p>");
	page_end(&b);
	page_finish(x, status, "text/html; charset=utf-8", &b);
}

void page_store_failed(struct page *x)
{
	struct html b = {0};

	/* The path has references and ids only, never a name. */
	log_warn("console: %s %.*s: %s", x->req->method, (int)strcspn(x->req->path, "?"), x->req->path,
		 store_errmsg(x->h->store));
	html_raw(&b, "the store is not available\n");
	page_finish(x, 500, "text/plain; charset=utf-8", &b);
}

int page_audit(struct page *x, const char *action, const char *ref, const char *detail, int64_t object_id)
{
	const struct audit_entry e = {x->actor, action, ref, detail, x->staff.id, 0, object_id};

	return store_audit_add(x->h->store, x->h->now, &e);
}

void page_when(const struct page *x, time_t at, char *out, size_t cap)
{
	if (at == 0 || locale_format_datetime(x->h->loc, x->lang, at, out, cap) != 0)
		cb_strlcpy(out, at == 0 ? page_t(x, "console.never") : "?", cap);
}

void page_section(struct page *x, struct html *b, const char *key)
{
	const char *id = strrchr(key, '.');

	/* The last word of the key names the section, for links to it. */
	html_raw(b, "<h2 id=\"");
	html_text(b, id != NULL ? id + 1 : key);
	html_raw(b, "\">");
	html_text(b, page_t(x, key));
	html_raw(b, "</h2>");
}

void page_table_head(struct page *x, struct html *b, const char *const *keys, int n)
{
	html_raw(b, "<div class=\"list\"><table><thead><tr>");
	for (int i = 0; i < n; i++) {
		html_raw(b, "<th scope=\"col\">");
		html_text(b, page_t(x, keys[i]));
		html_raw(b, "</th>");
	}
	html_raw(b, "</tr></thead><tbody>");
}

/* The family named by ref, if the signed-in staff member reaches it; a
 * refusal is audited (with the reference only when there is such a
 * family) and answered like an unknown family. */
int page_family(struct page *x, const char *ref, struct family *f)
{
	int rc = store_family_get(x->h->store, ref, f);

	if (rc != 0 && rc != -CB_ENOENT)
		return rc;
	if (rc == 0 && staff_reaches(x->h, &x->staff, f))
		return 0;
	if ((rc = page_audit(x, "scope.refused", rc == 0 ? f->ref : NULL, "console", 0)) != 0)
		return rc;
	return -CB_EPERM;
}

void page_render(const struct page *x, const char *key, const struct locale_param *p, size_t n, char *out,
		   size_t cap)
{
	if (locale_render(x->h->loc, x->lang, key, p, n, out, cap) != 0)
		cb_strlcpy(out, "?", cap);
}

/* The query value of name in path ("/?list=overdue"), or NULL. */
const char *page_query(const char *path, const char *name, char *out, size_t cap)
{
	const char *q = strchr(path, '?');

	if (q == NULL || page_pair(q + 1, strlen(q + 1), '&', name, 1, out, cap) != 0)
		return NULL;
	return out;
}

/* A family reference as URLs carry it: what store refs are made of. */
int page_ref_ok(const char *s, size_t n)
{
	if (n == 0 || n >= STORE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      s[i] == '-' || s[i] == '_' || s[i] == '.'))
			return 0;
	return 1;
}

int page_reaches(struct page *x, int64_t family_id, int64_t counsellor_id, int64_t backup_id)
{
	struct family f;

	memset(&f, 0, sizeof(f));
	f.id = family_id;
	f.counsellor_id = counsellor_id;
	f.backup_id = backup_id;
	return staff_reaches(x->h, &x->staff, &f) != 0;
}

void page_table_end(struct html *b)
{
	html_raw(b, "</tbody></table></div>");
}

void page_row_open(struct html *b, const char *cls, const char *href, const char *const *cells, int n)
{
	if (cls != NULL) {
		html_raw(b, "<tr class=\"");
		html_text(b, cls);
		html_raw(b, "\">");
	} else
		html_raw(b, "<tr>");
	for (int i = 0; i < n; i++) {
		html_raw(b, "<td>");
		if (i == 0 && href != NULL) {
			html_raw(b, "<a href=\"");
			html_text(b, href);
			html_raw(b, "\">");
		}
		html_text(b, cells[i]);
		if (i == 0 && href != NULL)
			html_raw(b, "</a>");
		html_raw(b, "</td>");
	}
}

void page_row(struct html *b, const char *cls, const char *href, const char *const *cells, int n)
{
	page_row_open(b, cls, href, cells, n);
	html_raw(b, "</tr>");
}

void page_form_start(struct page *x, struct html *b, const char *action)
{
	html_raw(b, "<form method=\"post\" action=\"");
	html_text(b, action);
	html_raw(b, "\"><input type=\"hidden\" name=\"csrf\" value=\"");
	html_text(b, x->csrf);
	html_raw(b, "\">");
}

void page_form_end(struct page *x, struct html *b, const char *label)
{
	html_raw(b, "<p><button type=\"submit\">");
	html_text(b, page_t(x, label));
	html_raw(b, "</button></p></form>");
}

void page_button(struct page *x, struct html *b, const char *action, const char *label)
{
	page_form_start(x, b, action);
	html_raw(b, "<button type=\"submit\">");
	html_text(b, page_t(x, label));
	html_raw(b, "</button></form>");
}

void page_label(struct page *x, struct html *b, const char *id, const char *key)
{
	html_raw(b, "<label for=\"");
	html_text(b, id);
	html_raw(b, "\">");
	html_text(b, page_t(x, key));
	html_raw(b, "</label>");
}

void page_csv_row(struct html *b, const char *const *cells, int n)
{
	for (int i = 0; i < n; i++) {
		if (i > 0)
			html_raw(b, ",");
		html_csv(b, cells[i]);
	}
	html_raw(b, "\r\n");
}
