/* The desk pages: the alerts to triage (filtered, acknowledged and passed
 * on from one list) and the audit log (filtered, and exported as CSV).
 * Both are reads of many files at once: each read writes its audit row.
 * Scope as everywhere: an alert shows only to staff who reach its family;
 * a counsellor's audit log holds what they did and what was done about
 * them, a coordinator's everything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bot/console/desk.h"
#include "bot/tz.h"
#include "locales/note.h"

#define DATE_MAX PAGE_DATE_MAX
#define SENTENCE_MAX PAGE_SENTENCE_MAX
#define DESK_STAFF_MAX 256
#define DESK_ALERTS_MAX 500
#define DESK_AUDIT_ROWS 1000
#define URL_MAX (STORE_NAME_MAX + 64)

/* The staff members, read once per page: names for ids, the assign list. */
struct roster {
	struct staff s[DESK_STAFF_MAX];
	int n;
};

static int roster_add(const void *rec, void *arg)
{
	struct roster *r = arg;

	if (r->n < DESK_STAFF_MAX)
		r->s[r->n++] = *(const struct staff *)rec;
	return 0;
}

static const char *roster_name(const struct roster *r, int64_t id)
{
	for (int i = 0; i < r->n; i++)
		if (r->s[i].id == id)
			return r->s[i].name;
	return "";
}

struct filter {
	int all;            /* acknowledged ones too */
	int urgent;         /* urgent only */
	int mine;           /* only those given to me */
	char ref[STORE_NAME_MAX];
};

struct alerts_walk {
	struct page *x;
	struct html *b;
	const struct filter *fl;
	struct roster *ro;
	int count;
	int failed;
};

static void assign_form(struct alerts_walk *w, const struct alert *a)
{
	struct page *x = w->x;
	char to[URL_MAX], id[32];

	snprintf(to, sizeof(to), "/alerts/%lld/assign", (long long)a->id);
	snprintf(id, sizeof(id), "assign-%lld", (long long)a->id);
	page_form_start(x, w->b, to);
	page_label(x, w->b, id, "console.alerts.assign_to");
	html_raw(w->b, "<select name=\"staff\" id=\"");
	html_text(w->b, id);
	html_raw(w->b, "\">");
	for (int i = 0; i < w->ro->n; i++) {
		if (!w->ro->s[i].active)
			continue;
		html_rawf(w->b, "<option value=\"%lld\">", (long long)w->ro->s[i].id);
		html_text(w->b, w->ro->s[i].name);
		html_raw(w->b, "</option>");
	}
	html_raw(w->b, "</select> <button type=\"submit\">");
	html_text(w->b, page_t(x, "console.alerts.assign"));
	html_raw(w->b, "</button></form>");
}

static int alert_row(const void *rec, void *arg)
{
	const struct alert *a = rec;
	struct alerts_walk *w = arg;
	struct page *x = w->x;
	struct family f;
	char at[DATE_MAX], sentence[SENTENCE_MAX], href[URL_MAX], to[URL_MAX];
	const char *cells[4];
	int yes = 0;

	if (a->group_id != a->id || (!w->fl->all && a->acked_at != 0) || (w->fl->urgent && !a->urgent) ||
	    (w->fl->ref[0] != '\0' && strcmp(w->fl->ref, a->family_ref) != 0))
		return 0;
	if (store_family_get_id(x->h->store, a->family_id, &f) != 0 ||
	    (w->fl->mine && store_alert_group_has(x->h->store, a->group_id, x->staff.id, &yes) != 0)) {
		w->failed = 1;
		return -CB_ESTORE;
	}
	if (!staff_reaches(x->h, &x->staff, &f) || (w->fl->mine && !yes))
		return 0;
	if (++w->count > DESK_ALERTS_MAX)
		return 0;
	page_when(x, a->created_at, at, sizeof(at));
	if (note_alert(x->h->loc, x->lang, a, sentence, sizeof(sentence)) != 0 || sentence[0] == '\0')
		cb_strlcpy(sentence, page_t(x, a->urgent ? "console.overview.urgent" : "console.overview.alert"),
			   sizeof(sentence));
	snprintf(href, sizeof(href), "/families/%s", f.ref);
	cells[0] = f.ref;
	cells[1] = at;
	cells[2] = sentence;
	cells[3] = roster_name(w->ro, a->staff_id);
	page_row_open(w->b, a->urgent ? "urgent" : NULL, href, cells, 4);
	html_raw(w->b, "<td>");
	if (a->acked_at == 0) {
		snprintf(to, sizeof(to), "/alerts/%lld/ack", (long long)a->id);
		page_button(x, w->b, to, "console.family.ack");
		assign_form(w, a);
	} else {
		page_when(x, a->acked_at, at, sizeof(at));
		html_text(w->b, page_t(x, "console.alerts.acked"));
		html_raw(w->b, " ");
		html_text(w->b, at);
	}
	html_raw(w->b, "</td></tr>");
	return 0;
}

static void checkbox(struct page *x, struct html *b, const char *name, int on, const char *key)
{
	html_raw(b, "<p><input type=\"checkbox\" value=\"1\" id=\"f-");
	html_text(b, name);
	html_raw(b, "\" name=\"");
	html_text(b, name);
	html_raw(b, on ? "\" checked> " : "\"> ");
	html_raw(b, "<label class=\"inline\" for=\"f-");
	html_text(b, name);
	html_raw(b, "\">");
	html_text(b, page_t(x, key));
	html_raw(b, "</label></p>");
}

static int flag(const char *path, const char *name)
{
	char v[8];

	return page_query(path, name, v, sizeof(v)) != NULL && strcmp(v, "1") == 0;
}

void desk_alerts(struct page *x)
{
	static const char *const cols[] = {"console.col.family", "console.col.when", "console.col.what",
					   "console.col.for", "console.col.actions"};
	const char *path = x->req->path;
	struct html b = {0};
	struct filter fl = {0};
	struct roster *ro = calloc(1, sizeof(*ro));
	struct alerts_walk w = {0};

	if (ro == NULL) {
		page_store_failed(x);
		return;
	}
	fl.all = flag(path, "all");
	fl.urgent = flag(path, "urgent");
	fl.mine = flag(path, "mine");
	if (page_query(path, "family", fl.ref, sizeof(fl.ref)) == NULL || !page_ref_ok(fl.ref, strlen(fl.ref)))
		fl.ref[0] = '\0';
	if (store_staff_each(x->h->store, roster_add, ro) != 0 ||
	    store_audit(x->h->store, x->h->now, x->actor, "alerts.read", fl.ref[0] != '\0' ? fl.ref : NULL,
			"console") != 0)
		goto failed;
	page_start(x, &b, page_t(x, "console.alerts.heading"));
	html_raw(&b, "<form method=\"get\" action=\"/alerts\" class=\"filters\">");
	checkbox(x, &b, "urgent", fl.urgent, "console.alerts.only_urgent");
	checkbox(x, &b, "mine", fl.mine, "console.alerts.only_mine");
	checkbox(x, &b, "all", fl.all, "console.alerts.with_acked");
	page_label(x, &b, "f-family", "console.col.family");
	html_raw(&b, "<input id=\"f-family\" name=\"family\" value=\"");
	html_text(&b, fl.ref);
	html_raw(&b, "\">");
	page_form_end(x, &b, "console.filter");
	page_table_head(x, &b, cols, 5);
	w.x = x;
	w.b = &b;
	w.fl = &fl;
	w.ro = ro;
	if (store_alert_list(x->h->store, !fl.all, 10 * DESK_ALERTS_MAX, alert_row, &w) != 0 || w.failed)
		goto failed;
	page_table_end(&b);
	if (w.count == 0) {
		html_raw(&b, "<p class=\"muted\">");
		html_text(&b, page_t(x, "console.none"));
		html_raw(&b, "</p>");
	}
	page_end(&b);
	free(ro);
	page_finish(x, 200, PAGE_HTML, &b);
	return;
failed:
	free(ro);
	html_free(&b);
	page_store_failed(x);
}

/* The alert, when the staff member reaches its family. */
static int reached_alert(struct page *x, int64_t id, struct alert *a, struct family *f)
{
	int rc = store_alert_get(x->h->store, id, a);

	if (rc == 0)
		rc = store_family_get_id(x->h->store, a->family_id, f);
	if (rc == -CB_ENOENT) {
		page_message(x, 404, "console.not_found");
		return rc;
	}
	if (rc != 0) {
		page_store_failed(x);
		return rc;
	}
	if (!staff_reaches(x->h, &x->staff, f)) {
		if (page_audit(x, "scope.refused", f->ref, "console", id) != 0)
			page_store_failed(x);
		else
			page_message(x, 404, "console.refused");
		return -CB_EPERM;
	}
	return 0;
}

void desk_alert_post(struct page *x, int64_t id, const char *verb)
{
	struct alert a;
	struct family f;
	struct staff to;
	char v[24];
	int64_t copy;
	int rc;

	if (reached_alert(x, id, &a, &f) != 0)
		return;
	if (strcmp(verb, "ack") == 0) {
		rc = store_alert_ack(x->h->store, id, x->staff.id, x->h->now);
		if ((rc != 0 && rc != -CB_ESTATE) || page_audit(x, "alert.ack", f.ref, "console", id) != 0) {
			page_store_failed(x);
			return;
		}
		page_redirect(x, "/alerts");
		return;
	}
	/* Passed on: the staff member gets a copy of the alert (its own row
	 * in the same group), as escalation does; acknowledging any copy
	 * closes them all. */
	if (page_form(x, "staff", v, sizeof(v)) != 0 || store_staff_get_id(x->h->store, atoll(v), &to) != 0 ||
	    !to.active) {
		page_message(x, 422, "console.family.bad_input");
		return;
	}
	if (a.acked_at != 0) {
		page_message(x, 409, "console.family.bad_state");
		return;
	}
	/* Passing an alert on never widens who reads a file: it goes to
	 * someone who reaches the family already. */
	if (!staff_reaches(x->h, &to, &f)) {
		page_message(x, 422, "console.alerts.cannot_reach");
		return;
	}
	if (store_alert_add(x->h->store, a.family_id, to.id, a.kind, a.urgent, a.code,
			    a.params[0] != '\0' ? a.params : NULL, x->h->now, a.group_id, &copy) != 0) {
		page_store_failed(x);
		return;
	}
	{
		const struct audit_entry e = {x->actor, "alert.assign", f.ref, "console", to.id, 0, id};

		if (store_audit_add(x->h->store, x->h->now, &e) != 0) {
			page_store_failed(x);
			return;
		}
	}
	page_redirect(x, "/alerts");
}

/* The audit log: rows since a day (a week back unless asked), for one
 * family or one staff member when asked. */
struct audit_query {
	char ref[STORE_NAME_MAX];
	char staff[STORE_NAME_MAX];
	char since[48];
	int64_t staff_id;
	time_t from;
};

struct audit_walk {
	struct page *x;
	struct html *b;
	int csv;
	int count;
};

/* "#12" for a row id, nothing for none. */
static void id_cell(char *buf, size_t len, int64_t id)
{
	if (id != 0)
		snprintf(buf, len, "#%lld", (long long)id);
	else
		buf[0] = '\0';
}

static int audit_row(const void *rec, void *arg)
{
	const struct audit_row *r = rec;
	struct audit_walk *w = arg;
	char at[DATE_MAX], object[24], chat[24];
	const char *cells[7];

	if (++w->count > DESK_AUDIT_ROWS && !w->csv)
		return 0;
	if (w->csv)
		tz_format_iso(r->at, at, sizeof(at));
	else
		page_when(w->x, r->at, at, sizeof(at));
	id_cell(object, sizeof(object), r->object_id);
	id_cell(chat, sizeof(chat), r->channel_id);
	cells[0] = at;
	cells[1] = r->actor;
	cells[2] = r->action;
	cells[3] = r->family_ref;
	cells[4] = r->staff;
	cells[5] = chat[0] != '\0' ? chat : object;
	cells[6] = r->detail;
	if (w->csv)
		page_csv_row(w->b, cells, 7);
	else
		page_row(w->b, NULL, NULL, cells, 7);
	return 0;
}

/* The filters of the query; -CB_EINVAL for ones that name nothing. */
static int audit_filters(struct page *x, struct audit_query *q)
{
	int y, m, d;
	struct staff s;

	memset(q, 0, sizeof(*q));
	if (page_query(x->req->path, "family", q->ref, sizeof(q->ref)) == NULL)
		q->ref[0] = '\0';
	if (page_query(x->req->path, "staff", q->staff, sizeof(q->staff)) == NULL)
		q->staff[0] = '\0';
	if (page_query(x->req->path, "since", q->since, sizeof(q->since)) == NULL)
		q->since[0] = '\0';
	if (q->ref[0] != '\0' && !page_ref_ok(q->ref, strlen(q->ref)))
		return -CB_EINVAL;
	if (q->since[0] != '\0') {
		if (tz_parse_date(q->since, &y, &m, &d) != 0 || tz_make_local(y, m, d, 0, 0, &q->from) != 0)
			return -CB_EINVAL;
	} else {
		struct tm lt;

		q->from = tz_day_start(x->h->now - 7 * 86400);
		tz_local(q->from, &lt);
		snprintf(q->since, sizeof(q->since), "%04d-%02d-%02d", lt.tm_year + 1900, lt.tm_mon + 1, lt.tm_mday);
	}
	if (q->staff[0] != '\0') {
		if (store_staff_get(x->h->store, q->staff, &s) != 0)
			return -CB_EINVAL;
		q->staff_id = s.id;
	}
	/* A counsellor reads their own rows only. */
	if (x->staff.role != ROLE_COORDINATOR) {
		q->staff_id = x->staff.id;
		cb_strlcpy(q->staff, x->staff.name, sizeof(q->staff));
	}
	return 0;
}

static const char *const audit_cols[] = {"console.col.when", "console.col.actor", "console.col.action",
					 "console.col.family", "console.col.staff", "console.col.object",
					 "console.col.detail"};

void desk_audit(struct page *x, int csv)
{
	struct html b = {0};
	struct audit_query q;
	struct audit_walk w = {0};

	if (audit_filters(x, &q) != 0) {
		page_message(x, 422, "console.family.bad_input");
		return;
	}
	/* The read is audited before it is made, with what it asked for. */
	if (store_audit(x->h->store, x->h->now, x->actor, csv ? "audit.export" : "audit.read",
			q.ref[0] != '\0' ? q.ref : NULL, "console") != 0) {
		page_store_failed(x);
		return;
	}
	w.x = x;
	w.b = &b;
	w.csv = csv;
	if (csv) {
		const char *cells[7];

		for (int i = 0; i < 7; i++)
			cells[i] = page_t(x, audit_cols[i]);
		page_csv_row(&b, cells, 7);
		if (store_audit_each(x->h->store, q.ref[0] != '\0' ? q.ref : NULL, q.staff_id, q.from, audit_row,
				     &w) != 0)
			goto failed;
		page_header(x, "content-disposition", "%s", "attachment; filename=\"audit.csv\"");
		page_finish(x, 200, "text/csv; charset=utf-8", &b);
		return;
	}
	page_start(x, &b, page_t(x, "console.audit.heading"));
	html_raw(&b, "<form method=\"get\" action=\"/audit\" class=\"filters\">");
	page_label(x, &b, "a-family", "console.col.family");
	html_raw(&b, "<input id=\"a-family\" name=\"family\" value=\"");
	html_text(&b, q.ref);
	html_raw(&b, "\">");
	if (x->staff.role == ROLE_COORDINATOR) {
		page_label(x, &b, "a-staff", "console.col.staff");
		html_raw(&b, "<input id=\"a-staff\" name=\"staff\" value=\"");
		html_text(&b, q.staff);
		html_raw(&b, "\">");
	}
	page_label(x, &b, "a-since", "console.audit.since");
	html_raw(&b, "<input id=\"a-since\" name=\"since\" type=\"date\" value=\"");
	html_text(&b, q.since);
	html_raw(&b, "\">");
	page_form_end(x, &b, "console.filter");
	html_raw(&b, "<p><a href=\"/audit.csv?family=");
	html_text(&b, q.ref);
	html_raw(&b, "&amp;staff=");
	html_text(&b, x->staff.role == ROLE_COORDINATOR ? q.staff : "");
	html_raw(&b, "&amp;since=");
	html_text(&b, q.since);
	html_raw(&b, "\">");
	html_text(&b, page_t(x, "console.export"));
	html_raw(&b, "</a></p>");
	page_table_head(x, &b, audit_cols, 7);
	if (store_audit_each(x->h->store, q.ref[0] != '\0' ? q.ref : NULL, q.staff_id, q.from, audit_row, &w) != 0)
		goto failed;
	page_table_end(&b);
	if (w.count > DESK_AUDIT_ROWS) {
		char n[16], line[256];
		const struct locale_param p[] = {{"count", n}};

		snprintf(n, sizeof(n), "%d", DESK_AUDIT_ROWS);
		page_render(x, "console.audit.more", p, 1, line, sizeof(line));
		html_raw(&b, "<p class=\"muted\">");
		html_text(&b, line);
		html_raw(&b, "</p>");
	}
	page_end(&b);
	page_finish(x, 200, PAGE_HTML, &b);
	return;
failed:
	html_free(&b);
	page_store_failed(x);
}

/* What the overview's script asks for every little while: a small answer
 * from one indexed read, so that polling costs the daemon next to
 * nothing. */
struct live_walk {
	struct page *x;
	int64_t after, newest;
	int open;
	cJSON *list;
	int failed;
};

static int live_row(const void *rec, void *arg)
{
	const struct alert *a = rec;
	struct live_walk *w = arg;
	struct page *x = w->x;
	struct family f;
	char sentence[SENTENCE_MAX], at[DATE_MAX];
	cJSON *o;

	if (a->group_id != a->id || a->acked_at != 0)
		return 0;
	if (store_family_get_id(x->h->store, a->family_id, &f) != 0) {
		w->failed = 1;
		return -CB_ESTORE;
	}
	if (!staff_reaches(x->h, &x->staff, &f))
		return 0;
	w->open++;
	if (a->id > w->newest)
		w->newest = a->id;
	if (a->id <= w->after || cJSON_GetArraySize(w->list) >= 20)
		return 0;
	page_when(x, a->created_at, at, sizeof(at));
	if (note_alert(x->h->loc, x->lang, a, sentence, sizeof(sentence)) != 0 || sentence[0] == '\0')
		cb_strlcpy(sentence, page_t(x, a->urgent ? "console.overview.urgent" : "console.overview.alert"),
			   sizeof(sentence));
	if ((o = cJSON_CreateObject()) == NULL || !cJSON_AddItemToArray(w->list, o) ||
	    cJSON_AddNumberToObject(o, "id", (double)a->id) == NULL ||
	    cJSON_AddStringToObject(o, "ref", f.ref) == NULL || cJSON_AddStringToObject(o, "at", at) == NULL ||
	    cJSON_AddStringToObject(o, "text", sentence) == NULL || cJSON_AddBoolToObject(o, "urgent", a->urgent) == NULL) {
		w->failed = 1;
		return -CB_ENOMEM;
	}
	return 0;
}

void desk_alerts_live(struct page *x)
{
	struct live_walk w = {0};
	struct html b = {0};
	cJSON *root = cJSON_CreateObject();
	char v[24], *text = NULL;

	w.x = x;
	w.after = page_query(x->req->path, "after", v, sizeof(v)) != NULL ? atoll(v) : 0;
	w.list = cJSON_CreateArray();
	if (root == NULL || w.list == NULL ||
	    store_alert_list(x->h->store, 1, 10 * DESK_ALERTS_MAX, live_row, &w) != 0 || w.failed ||
	    cJSON_AddNumberToObject(root, "open", w.open) == NULL ||
	    cJSON_AddNumberToObject(root, "newest", (double)w.newest) == NULL) {
		cJSON_Delete(w.list);
		cJSON_Delete(root);
		page_store_failed(x);
		return;
	}
	cJSON_AddItemToObject(root, "alerts", w.list);
	/* A poll that brings alerts is a read of them; an empty one is not. */
	if (cJSON_GetArraySize(w.list) > 0 &&
	    store_audit(x->h->store, x->h->now, x->actor, "alerts.read", NULL, "live") != 0) {
		cJSON_Delete(root);
		page_store_failed(x);
		return;
	}
	if ((text = cJSON_PrintUnformatted(root)) == NULL) {
		cJSON_Delete(root);
		page_store_failed(x);
		return;
	}
	cJSON_Delete(root);
	html_raw(&b, text);
	free(text);
	page_finish(x, 200, "application/json", &b);
}
