/* What the console's pages share: the request as it goes through the
 * console (struct page), the frame every page has, forms and their
 * values, the audit, and the one check of scope. Private to bot/console. */
#ifndef CASEBOT_CONSOLE_PAGE_H
#define CASEBOT_CONSOLE_PAGE_H

#include "bot/console/auth.h"
#include "bot/console/console.h"
#include "bot/console/html.h"
#include "locales/locale.h"

#define PAGE_DATE_MAX 96
#define PAGE_SENTENCE_MAX 1024
#define PAGE_HTML "text/html; charset=utf-8"

/* What one request carries through the console. */
struct page {
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

/* A catalog text in the reader's language. */
const char *page_t(const struct page *x, const char *key);
/* A catalog text with values; "?" when it cannot be made. */
void page_render(const struct page *x, const char *key, const struct locale_param *p, size_t n, char *out,
		 size_t cap);
/* A date and time in the reader's language; "never" for 0. */
void page_when(const struct page *x, time_t at, char *out, size_t cap);

void page_header(struct page *x, const char *name, const char *fmt, const char *value);
/* Hands b to the response (a 500 when b ran out of memory). */
void page_finish(struct page *x, int status, const char *ctype, struct html *b);
void page_redirect(struct page *x, const char *to);
void page_set_cookie(struct page *x, const char *name, const char *value, int max_age);

/* A name's value from name=value pairs split by sep; decode: percent and
 * plus decoding, as forms and queries are sent. */
int page_pair(const char *s, size_t len, char sep, const char *name, int decode, char *out, size_t cap);
int page_form(const struct page *x, const char *name, char *out, size_t cap);
int page_cookie(const struct page *x, const char *name, char *out, size_t cap);
/* The query value of name in path ("/?list=overdue"), or NULL. */
const char *page_query(const char *path, const char *name, char *out, size_t cap);
/* A family reference as URLs carry it. */
int page_ref_ok(const char *s, size_t n);

void page_start(struct page *x, struct html *b, const char *title);
void page_end(struct html *b);
/* A page that only says something (refused, not found, expired). */
void page_message(struct page *x, int status, const char *key);
void page_store_failed(struct page *x);
/* An <h2> with the key's last word as its id. */
void page_section(struct page *x, struct html *b, const char *key);
/* A table's head from catalog keys, and one row from its cells: the
 * first cell may be a link (href, or NULL), the others are text; cls (or
 * NULL) is the row's class. page_row_open leaves the row open for cells
 * with controls; the caller closes it with </tr>. */
void page_table_head(struct page *x, struct html *b, const char *const *keys, int n);
void page_table_end(struct html *b);
void page_row(struct html *b, const char *cls, const char *href, const char *const *cells, int n);
void page_row_open(struct html *b, const char *cls, const char *href, const char *const *cells, int n);
/* The same cells as one CSV line. */
void page_csv_row(struct html *b, const char *const *cells, int n);
/* A form's opening tag posting to action (made by this program), with
 * the session's CSRF token. */
void page_form_start(struct page *x, struct html *b, const char *action);
/* Its submit button (label: a catalog key) and closing tag. */
void page_form_end(struct page *x, struct html *b, const char *label);
/* A form of one button (label: a catalog key). */
void page_button(struct page *x, struct html *b, const char *action, const char *label);
/* A labelled field: <label for=id> and the control's opening markup,
 * written by this program. */
void page_label(struct page *x, struct html *b, const char *id, const char *key);

int page_audit(struct page *x, const char *action, const char *ref, const char *detail, int64_t object_id);
/* The family named by ref, if the signed-in staff member reaches it;
 * otherwise -CB_EPERM, the refusal audited. */
int page_family(struct page *x, const char *ref, struct family *f);
int page_reaches(struct page *x, int64_t family_id, int64_t counsellor_id, int64_t backup_id);

#endif
