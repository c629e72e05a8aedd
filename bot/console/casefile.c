/* The family page and its actions. The page is read with one audit row
 * (console.view); each action is a POST that goes through family_action():
 * scope first (a refusal audited, and answered like an unknown family),
 * then the handler operation the CLI and the phone commands use, then its
 * audit row, then back to the page. A document is decrypted into memory
 * for its download only, wiped once sent, and never cached. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/config.h"
#include "bot/console/casefile.h"
#include "bot/event.h"
#include "bot/log.h"
#include "bot/tz.h"
#include "bot/vault.h"
#include "locales/note.h"

/* What staff write to a family is at most one message of its gateway:
 * 4096 UTF-16 units, 16 KiB of UTF-8. */
#define FORM_VALUE_MAX EVENT_TEXT_MAX
#define DATE_MAX PAGE_DATE_MAX
#define SENTENCE_MAX PAGE_SENTENCE_MAX
#define URL_MAX (STORE_NAME_MAX + 64)

static const char *const appointment_kinds[] = {"home_visit", "lawyer", "immigration_office", "court",
						 "school", "doctor", "social_service", "other"};
static const char *const doc_types[] = {"passport", "id_card", "birth_certificate", "school_certificate",
					"medical_certificate", "lawyer_letter", "order_to_leave", "payslip",
					"lease", "other"};
static const char *const reasons[] = {"unreadable", "incomplete", "expired", "wrong_document"};

/* What the rows of one family page are drawn with. */
struct rows {
	struct page *x;
	struct html *b;
	const struct family *f;
	int closed;
	int count;
};

static void url(const struct family *f, const char *tail, int64_t id, char *out, size_t cap)
{
	if (id != 0)
		snprintf(out, cap, "/families/%s%s/%lld", f->ref, tail, (long long)id);
	else
		snprintf(out, cap, "/families/%s%s", f->ref, tail);
}

/* /families/REF/<what>/<id>/<verb> */
static void action_url(const struct family *f, const char *what, int64_t id, const char *verb, char *out,
		       size_t cap)
{
	snprintf(out, cap, "/families/%s/%s/%lld/%s", f->ref, what, (long long)id, verb);
}

/* A <select> of catalog words: the values are codes, the labels their
 * text in prefix.code. */
static void select_codes(struct page *x, struct html *b, const char *id, const char *name, const char *label,
			 const char *prefix, const char *const *codes, size_t n)
{
	char key[96];

	page_label(x, b, id, label);
	html_raw(b, "<select id=\"");
	html_text(b, id);
	html_raw(b, "\" name=\"");
	html_text(b, name);
	html_raw(b, "\" required>");
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%s%s", prefix, codes[i]);
		html_raw(b, "<option value=\"");
		html_text(b, codes[i]);
		html_raw(b, "\">");
		html_text(b, page_t(x, key));
		html_raw(b, "</option>");
	}
	html_raw(b, "</select>");
}

static int timeline_row(const void *rec, void *arg)
{
	const struct contact *c = rec;
	struct rows *r = arg;
	char at[DATE_MAX], sentence[SENTENCE_MAX];

	page_when(r->x, c->at, at, sizeof(at));
	if (note_contact(r->x->h->loc, r->x->lang, c, sentence, sizeof(sentence)) != 0)
		cb_strlcpy(sentence, "?", sizeof(sentence));
	html_raw(r->b, "<li><time>");
	html_text(r->b, at);
	html_raw(r->b, "</time> \xe2\x80\x94 ");
	html_text(r->b, sentence);
	html_raw(r->b, "</li>");
	return 0;
}

static int alert_row(const void *rec, void *arg)
{
	const struct alert *a = rec;
	struct rows *r = arg;
	char at[DATE_MAX], sentence[SENTENCE_MAX], to[URL_MAX];

	if (a->family_id != r->f->id || a->acked_at != 0 || a->group_id != a->id)
		return 0;
	r->count++;
	page_when(r->x, a->created_at, at, sizeof(at));
	if (note_alert(r->x->h->loc, r->x->lang, a, sentence, sizeof(sentence)) != 0 || sentence[0] == '\0')
		cb_strlcpy(sentence, page_t(r->x, a->urgent ? "console.overview.urgent" : "console.overview.alert"),
			   sizeof(sentence));
	html_raw(r->b, a->urgent ? "<li class=\"urgent\">" : "<li>");
	html_text(r->b, at);
	html_raw(r->b, " \xe2\x80\x94 ");
	html_text(r->b, sentence);
	action_url(r->f, "alerts", a->id, "ack", to, sizeof(to));
	page_button(r->x, r->b, to, "console.family.ack");
	html_raw(r->b, "</li>");
	return 0;
}

/* A member's channel order belongs in this row, as more columns of
 * member_cols and more cells here, once members have one. */
static int member_row(const void *rec, void *arg)
{
	const struct member *m = rec;
	struct rows *r = arg;
	char key[64];
	const char *cells[4];
	int voice = 0;

	snprintf(key, sizeof(key), "console.role.%s", store_member_role_name(m->role));
	cells[0] = m->name;
	cells[1] = page_t(r->x, key);
	cells[2] = m->has_lang ? lang_code(m->lang) : "";
	if (store_member_voice(r->x->h->store, m->id, &voice) != 0)
		voice = 0;
	cells[3] = page_t(r->x, voice ? "console.voice.on" : "console.voice.off");
	page_row(r->b, NULL, NULL, cells, 4);
	return 0;
}

static int channel_row(const void *rec, void *arg)
{
	const struct channel *ch = rec;
	struct rows *r = arg;
	char at[DATE_MAX], id[24], to[URL_MAX];
	const char *state = ch->blocked ? "console.family.chat_blocked" :
			    ch->opted_out ? "console.family.chat_stopped" :
			    ch->verified ? "console.family.chat_linked" : "console.family.chat_pending";
	const char *cells[4];

	page_when(r->x, ch->last_inbound_at, at, sizeof(at));
	snprintf(id, sizeof(id), "#%lld", (long long)ch->id);
	cells[0] = id;
	cells[1] = ch->kind;
	cells[2] = page_t(r->x, state);
	cells[3] = at;
	page_row_open(r->b, NULL, NULL, cells, 4);
	html_raw(r->b, "<td>");
	action_url(r->f, "chats", ch->id, "unlink", to, sizeof(to));
	page_button(r->x, r->b, to, "console.family.unlink");
	html_raw(r->b, "</td></tr>");
	return 0;
}

static int appointment_row(const void *rec, void *arg)
{
	const struct appointment *a = rec;
	struct rows *r = arg;
	struct page *x = r->x;
	char at[DATE_MAX], kind[96], status[96], to[URL_MAX], id[32];
	const char *cells[4];

	page_when(x, a->starts_at, at, sizeof(at));
	snprintf(kind, sizeof(kind), "appointment.kind.%s", a->kind);
	snprintf(status, sizeof(status), "console.appointment.%s", a->status);
	cells[0] = at;
	cells[1] = page_t(x, kind);
	cells[2] = a->place;
	cells[3] = page_t(x, status);
	page_row_open(r->b, NULL, NULL, cells, 4);
	html_raw(r->b, "<td>");
	if (!r->closed && strcmp(a->status, "cancelled") != 0 && a->starts_at > x->h->now) {
		action_url(r->f, "appointments", a->id, "move", to, sizeof(to));
		page_form_start(x, r->b, to);
		snprintf(id, sizeof(id), "move-at-%lld", (long long)a->id);
		page_label(x, r->b, id, "console.family.new_time");
		html_raw(r->b, "<input type=\"datetime-local\" name=\"at\" required id=\"");
		html_text(r->b, id);
		html_raw(r->b, "\"> <button type=\"submit\">");
		html_text(r->b, page_t(x, "console.family.move"));
		html_raw(r->b, "</button></form>");
		action_url(r->f, "appointments", a->id, "cancel", to, sizeof(to));
		page_button(x, r->b, to, "console.family.cancel");
	}
	html_raw(r->b, "</td></tr>");
	return 0;
}

static int docreq_row(const void *rec, void *arg)
{
	const struct doc_request *q = rec;
	struct rows *r = arg;
	char type[96], status[96];
	const char *cells[3];

	snprintf(type, sizeof(type), "document.type.%s", q->doc_type);
	snprintf(status, sizeof(status), "console.docreq.%s", q->status);
	cells[0] = page_t(r->x, type);
	cells[1] = q->due_date;
	cells[2] = page_t(r->x, status);
	page_row(r->b, NULL, NULL, cells, 3);
	return 0;
}

static int document_row(const void *rec, void *arg)
{
	const struct document *d = rec;
	struct rows *r = arg;
	struct page *x = r->x;
	char at[DATE_MAX], status[96], size[32], to[URL_MAX], id[40];
	const char *cells[4];

	r->count++;
	page_when(x, d->received_at, at, sizeof(at));
	snprintf(status, sizeof(status), "console.docreq.%s", d->status);
	snprintf(size, sizeof(size), "%lld kB", (long long)((d->size + 1023) / 1024));
	url(r->f, "/documents", d->id, to, sizeof(to));
	cells[0] = at;
	cells[1] = d->mime;
	cells[2] = size;
	cells[3] = page_t(x, status);
	page_row_open(r->b, NULL, NULL, cells, 4);
	html_raw(r->b, "<td><a href=\"");
	html_text(r->b, to);
	html_raw(r->b, "\">");
	html_text(r->b, page_t(x, "console.family.download"));
	html_raw(r->b, "</a>");
	if (!r->closed && strcmp(d->status, "received") == 0) {
		action_url(r->f, "documents", d->id, "verify", to, sizeof(to));
		page_button(x, r->b, to, "console.family.verify");
		action_url(r->f, "documents", d->id, "reject", to, sizeof(to));
		page_form_start(x, r->b, to);
		snprintf(id, sizeof(id), "reason-%lld", (long long)d->id);
		select_codes(x, r->b, id, "reason", "console.family.reason", "console.reason.", reasons, CB_ARRAY_SIZE(reasons));
		html_raw(r->b, " <button type=\"submit\">");
		html_text(r->b, page_t(x, "console.family.reject"));
		html_raw(r->b, "</button></form>");
	}
	html_raw(r->b, "</td></tr>");
	return 0;
}

static void checkin_section(struct page *x, struct html *b, const struct family *f, int closed)
{
	struct checkin_plan p;
	const char *const *days;
	char to[URL_MAX], line[256], every[16], time_s[16];
	int rc = store_checkin_get(x->h->store, f->id, &p);
	size_t nd = locale_list(x->h->loc, x->lang, "weekdays", &days);

	page_section(x, b, "console.family.checkin");
	html_raw(b, "<p>");
	if (rc == 0 && p.active && nd == 7 && p.weekday >= 1 && p.weekday <= 7) {
		const struct locale_param lp[] = {{"days", every}, {"weekday", days[p.weekday - 1]}, {"time", time_s}};

		snprintf(every, sizeof(every), "%d", p.every_days);
		snprintf(time_s, sizeof(time_s), "%02d:%02d", p.minute_of_day / 60, p.minute_of_day % 60);
		if (locale_render_count(x->h->loc, x->lang, "console.family.checkin_plan", p.every_days, lp, 3, line,
					sizeof(line)) != 0)
			cb_strlcpy(line, "?", sizeof(line));
		html_text(b, line);
	} else
		html_text(b, page_t(x, "console.family.checkin_none"));
	html_raw(b, "</p>");
	if (closed)
		return;
	url(f, "/checkin", 0, to, sizeof(to));
	page_form_start(x, b, to);
	page_label(x, b, "checkin-every", "console.family.checkin_every");
	html_raw(b, "<input id=\"checkin-every\" name=\"every\" type=\"number\" min=\"1\" max=\"90\" required value=\"");
	html_rawf(b, "%d", rc == 0 && p.active ? p.every_days : 7);
	html_raw(b, "\">");
	page_label(x, b, "checkin-day", "console.family.checkin_day");
	html_raw(b, "<select id=\"checkin-day\" name=\"day\" required>");
	for (size_t i = 0; i < nd; i++) {
		html_rawf(b, "<option value=\"%zu\"%s>", i + 1,
			  rc == 0 && p.active && (size_t)p.weekday == i + 1 ? " selected" : "");
		html_text(b, days[i]);
		html_raw(b, "</option>");
	}
	html_raw(b, "</select>");
	page_label(x, b, "checkin-time", "console.family.checkin_time");
	html_raw(b, "<input id=\"checkin-time\" name=\"time\" type=\"time\" required value=\"10:00\">");
	page_form_end(x, b, "console.family.checkin_set");
	if (rc == 0 && p.active) {
		url(f, "/checkin/off", 0, to, sizeof(to));
		page_button(x, b, to, "console.family.checkin_off");
	}
}

static void forms(struct page *x, struct html *b, const struct family *f)
{
	char to[URL_MAX];

	html_raw(b, "<details><summary>");
	html_text(b, page_t(x, "console.family.add_appointment"));
	html_raw(b, "</summary>");
	url(f, "/appointments", 0, to, sizeof(to));
	page_form_start(x, b, to);
	select_codes(x, b, "appt-kind", "kind", "console.family.kind", "appointment.kind.", appointment_kinds,
		     CB_ARRAY_SIZE(appointment_kinds));
	page_label(x, b, "appt-at", "console.col.when");
	html_raw(b, "<input id=\"appt-at\" name=\"at\" type=\"datetime-local\" required>");
	page_label(x, b, "appt-place", "console.col.place");
	html_rawf(b, "<input id=\"appt-place\" name=\"place\" maxlength=\"%d\">", STORE_TEXT_MAX - 1);
	page_form_end(x, b, "console.family.add");
	html_raw(b, "</details>");
}

static void request_form(struct page *x, struct html *b, const struct family *f)
{
	char to[URL_MAX];

	html_raw(b, "<details><summary>");
	html_text(b, page_t(x, "console.family.request"));
	html_raw(b, "</summary>");
	url(f, "/documents/request", 0, to, sizeof(to));
	page_form_start(x, b, to);
	select_codes(x, b, "doc-type", "type", "console.family.doc_type", "document.type.", doc_types,
		     CB_ARRAY_SIZE(doc_types));
	page_label(x, b, "doc-due", "console.col.due");
	html_raw(b, "<input id=\"doc-due\" name=\"due\" type=\"date\">");
	page_form_end(x, b, "console.family.request_send");
	html_raw(b, "</details>");
}

static void family_page(struct page *x, const char *ref)
{
	static const char *const member_cols[] = {"console.col.name", "console.col.role", "console.col.language",
						  "console.col.voice"};
	static const char *const chat_cols[] = {"console.col.chat", "console.col.gateway", "console.col.state",
						"console.col.last_inbound", "console.col.actions"};
	static const char *const appt_cols[] = {"console.col.when", "console.col.what", "console.col.place",
						"console.col.state", "console.col.actions"};
	static const char *const docreq_cols[] = {"console.col.what", "console.col.due", "console.col.state"};
	static const char *const doc_cols[] = {"console.col.received", "console.col.type", "console.col.size",
					       "console.col.state", "console.col.actions"};
	struct html b = {0};
	struct family f;
	struct rows r = {0};
	char title[256], to[URL_MAX];
	int rc = page_family(x, ref, &f);

	if (rc == -CB_EPERM) {
		page_message(x, 404, "console.refused");
		return;
	}
	if (rc != 0 || (rc = page_audit(x, "console.view", f.ref, NULL, 0)) != 0) {
		page_store_failed(x);
		return;
	}
	r.x = x;
	r.b = &b;
	r.f = &f;
	r.closed = strcmp(f.status, "closed") == 0;
	{
		const struct locale_param p[] = {{"ref", f.ref}};

		page_render(x, "console.family.heading", p, 1, title, sizeof(title));
	}
	page_start(x, &b, title);
	html_raw(&b, "<p>");
	html_text(&b, page_t(x, "console.col.counsellor"));
	html_raw(&b, ": ");
	html_text(&b, f.counsellor);
	if (f.backup[0] != '\0') {
		html_raw(&b, " \xc2\xb7 ");
		html_text(&b, page_t(x, "console.family.backup"));
		html_raw(&b, ": ");
		html_text(&b, f.backup);
	}
	html_raw(&b, "</p>");
	if (r.closed) {
		html_raw(&b, "<p class=\"notice\">");
		html_text(&b, page_t(x, "console.family.closed"));
		html_raw(&b, "</p>");
	}

	page_section(x, &b, "console.family.alerts");
	html_raw(&b, "<ul class=\"alerts\">");
	if (store_alert_list(x->h->store, 1, 500, alert_row, &r) != 0)
		goto failed;
	html_raw(&b, "</ul>");

	if (!r.closed) {
		page_section(x, &b, "console.family.write");
		url(&f, "/write", 0, to, sizeof(to));
		page_form_start(x, &b, to);
		page_label(x, &b, "text", "console.family.write_label");
		html_raw(&b, "<textarea id=\"text\" name=\"text\" required maxlength=\"4096\"></textarea>");
		page_form_end(x, &b, "console.family.send");
	}

	page_section(x, &b, "console.family.members");
	page_table_head(x, &b, member_cols, 4);
	if (store_member_each(x->h->store, f.id, member_row, &r) != 0)
		goto failed;
	page_table_end(&b);
	page_table_head(x, &b, chat_cols, 5);
	if (store_channel_each_family(x->h->store, f.id, channel_row, &r) != 0)
		goto failed;
	page_table_end(&b);

	page_section(x, &b, "console.family.appointments");
	page_table_head(x, &b, appt_cols, 5);
	if (store_appointment_each(x->h->store, f.id, appointment_row, &r) != 0)
		goto failed;
	page_table_end(&b);
	if (!r.closed)
		forms(x, &b, &f);

	page_section(x, &b, "console.family.documents");
	page_table_head(x, &b, docreq_cols, 3);
	if (store_docreq_each(x->h->store, f.id, docreq_row, &r) != 0)
		goto failed;
	page_table_end(&b);
	if (!r.closed)
		request_form(x, &b, &f);
	page_table_head(x, &b, doc_cols, 5);
	if (store_document_each(x->h->store, f.id, document_row, &r) != 0)
		goto failed;
	page_table_end(&b);

	checkin_section(x, &b, &f, r.closed);

	page_section(x, &b, "console.family.timeline");
	html_raw(&b, "<ol class=\"timeline\">");
	if (store_contact_each(x->h->store, f.id, 0, timeline_row, &r) != 0)
		goto failed;
	html_raw(&b, "</ol>");

	if (!r.closed) {
		page_section(x, &b, "console.family.close");
		url(&f, "/close", 0, to, sizeof(to));
		page_form_start(x, &b, to);
		html_raw(&b, "<p><input type=\"checkbox\" id=\"close-confirm\" name=\"confirm\" value=\"yes\" required> "
			     "<label class=\"inline\" for=\"close-confirm\">");
		html_text(&b, page_t(x, "console.family.close_confirm"));
		html_raw(&b, "</label></p>");
		page_form_end(x, &b, "console.family.close");
	}
	page_end(&b);
	page_finish(x, 200, PAGE_HTML, &b);
	return;
failed:
	html_free(&b);
	page_store_failed(x);
}

/* The actions. Each gets the family (reached, checked) and the id in
 * its path; it returns 0 when done, or an error and, for one staff can
 * mend, why (a catalog key). */
typedef int (*action_fn)(struct page *x, const struct family *f, int64_t id, const char **why);

static int act_write(struct page *x, const struct family *f, int64_t id, const char **why)
{
	char *text = malloc(FORM_VALUE_MAX + 1);
	int rc;

	(void)id;
	if (text == NULL)
		return -CB_ENOMEM;
	if (page_form(x, "text", text, FORM_VALUE_MAX + 1) != 0 || text[0] == '\0') {
		rc = -CB_EINVAL;
		goto out;
	}
	rc = staff_write(x->h, &x->staff, f, text);
	if (rc == -CB_ENOENT || rc == -CB_ETOOBIG) {
		*why = rc == -CB_ENOENT ? "console.family.no_chat" : "console.family.too_long";
		goto out;
	}
	if (rc == 0)
		rc = page_audit(x, "console.write", f->ref, NULL, 0);
out:
	free(text);
	return rc;
}

static int act_ack(struct page *x, const struct family *f, int64_t id, const char **why)
{
	struct alert a;
	int rc;

	(void)why;
	if ((rc = store_alert_get(x->h->store, id, &a)) != 0)
		return rc;
	if (a.family_id != f->id)
		return -CB_ENOENT;
	rc = store_alert_ack(x->h->store, id, x->staff.id, x->h->now);
	if (rc != 0 && rc != -CB_ESTATE)
		return rc;
	return page_audit(x, "alert.ack", f->ref, "console", id);
}

/* A datetime-local value ("2026-12-10T14:00"), in the future. */
static int form_when(struct page *x, const char *name, time_t *out)
{
	char v[32];

	if (page_form(x, name, v, sizeof(v)) != 0 || strlen(v) != 16 || v[10] != 'T')
		return -CB_EINVAL;
	v[10] = ' ';
	if (tz_parse_local(v, out) != 0 || *out <= x->h->now)
		return -CB_EINVAL;
	return 0;
}

static int act_appointment_add(struct page *x, const struct family *f, int64_t id, const char **why)
{
	struct appointment a;
	int rc;

	(void)id;
	(void)why;
	memset(&a, 0, sizeof(a));
	a.family_id = f->id;
	if (page_form(x, "kind", a.kind, sizeof(a.kind)) != 0 || !store_appointment_kind_valid(a.kind) ||
	    form_when(x, "at", &a.starts_at) != 0)
		return -CB_EINVAL;
	if ((rc = page_form(x, "place", a.place, sizeof(a.place))) != 0 && rc != -CB_ENOENT)
		return -CB_EINVAL;
	if ((rc = appointments_create(x->h, &a)) != 0)
		return rc;
	return page_audit(x, "appointment.add", f->ref, a.kind, a.id);
}

static int load_appointment(struct page *x, const struct family *f, int64_t id, struct appointment *a)
{
	int rc = store_appointment_get(x->h->store, id, a);

	if (rc != 0)
		return rc;
	if (a->family_id != f->id)
		return -CB_ENOENT;
	return strcmp(a->status, "cancelled") == 0 ? -CB_ESTATE : 0;
}

static int act_appointment_move(struct page *x, const struct family *f, int64_t id, const char **why)
{
	struct appointment a;
	time_t at;
	int rc;

	(void)why;
	if ((rc = load_appointment(x, f, id, &a)) != 0)
		return rc;
	if (form_when(x, "at", &at) != 0)
		return -CB_EINVAL;
	if ((rc = appointments_move(x->h, &a, at)) != 0)
		return rc;
	return page_audit(x, "appointment.move", f->ref, NULL, id);
}

static int act_appointment_cancel(struct page *x, const struct family *f, int64_t id, const char **why)
{
	struct appointment a;
	int rc;

	(void)why;
	if ((rc = load_appointment(x, f, id, &a)) != 0)
		return rc;
	if ((rc = appointments_cancel(x->h, &a)) != 0)
		return rc;
	return page_audit(x, "appointment.cancel", f->ref, NULL, id);
}

static int act_document_request(struct page *x, const struct family *f, int64_t id, const char **why)
{
	struct doc_request r;
	int rc, y, m, d;

	(void)id;
	(void)why;
	memset(&r, 0, sizeof(r));
	r.family_id = f->id;
	if (page_form(x, "type", r.doc_type, sizeof(r.doc_type)) != 0 || !store_doc_type_valid(r.doc_type))
		return -CB_EINVAL;
	rc = page_form(x, "due", r.due_date, sizeof(r.due_date));
	if (rc == -CB_ENOENT)
		r.due_date[0] = '\0';
	else if (rc != 0 || (r.due_date[0] != '\0' && tz_parse_date(r.due_date, &y, &m, &d) != 0))
		return -CB_EINVAL;
	if ((rc = documents_request(x->h, &r)) != 0)
		return rc;
	return page_audit(x, "document.request", f->ref, r.doc_type, r.id);
}

static int load_document(struct page *x, const struct family *f, int64_t id, struct document *d)
{
	int rc = store_document_get(x->h->store, id, d);

	if (rc != 0)
		return rc;
	return d->family_id == f->id ? 0 : -CB_ENOENT;
}

static int act_document_verify(struct page *x, const struct family *f, int64_t id, const char **why)
{
	struct document d;
	int rc;

	(void)why;
	if ((rc = load_document(x, f, id, &d)) != 0)
		return rc;
	if (strcmp(d.status, "received") != 0)
		return -CB_ESTATE;
	if ((rc = documents_verify(x->h, &d)) != 0)
		return rc;
	return page_audit(x, "document.verify", f->ref, NULL, id);
}

static int act_document_reject(struct page *x, const struct family *f, int64_t id, const char **why)
{
	struct document d;
	char reason[32];
	int rc;

	(void)why;
	if ((rc = load_document(x, f, id, &d)) != 0)
		return rc;
	if (page_form(x, "reason", reason, sizeof(reason)) != 0 || !documents_reason_valid(reason))
		return -CB_EINVAL;
	if (strcmp(d.status, "received") != 0)
		return -CB_ESTATE;
	if ((rc = documents_reject(x->h, &d, reason)) != 0)
		return rc;
	return page_audit(x, "document.reject", f->ref, reason, id);
}

static int act_checkin(struct page *x, const struct family *f, int64_t id, const char **why)
{
	struct checkin_plan p;
	char v[16], every[24];
	time_t next;
	int rc;

	(void)id;
	(void)why;
	memset(&p, 0, sizeof(p));
	p.family_id = f->id;
	if (page_form(x, "every", v, sizeof(v)) != 0)
		return -CB_EINVAL;
	snprintf(every, sizeof(every), "%sd", v);
	if (checkins_parse_every(every, &p.every_days) != 0 || page_form(x, "day", v, sizeof(v)) != 0 ||
	    strlen(v) != 1 || v[0] < '1' || v[0] > '7')
		return -CB_EINVAL;
	p.weekday = v[0] - '0';
	if (page_form(x, "time", v, sizeof(v)) != 0 || tz_parse_hhmm(v, &p.minute_of_day) != 0)
		return -CB_EINVAL;
	if ((rc = checkins_set(x->h, &p, &next)) != 0)
		return rc;
	return page_audit(x, "checkin.set", f->ref, every, 0);
}

static int act_checkin_off(struct page *x, const struct family *f, int64_t id, const char **why)
{
	int rc;

	(void)id;
	(void)why;
	if ((rc = checkins_off(x->h, f->id)) != 0)
		return rc;
	return page_audit(x, "checkin.off", f->ref, NULL, 0);
}

static int act_close(struct page *x, const struct family *f, int64_t id, const char **why)
{
	char v[8];
	int rc;

	(void)id;
	(void)why;
	if (page_form(x, "confirm", v, sizeof(v)) != 0 || strcmp(v, "yes") != 0)
		return -CB_EINVAL;
	if ((rc = store_family_close(x->h->store, f->id, x->h->now)) != 0)
		return rc;
	return page_audit(x, "family.close", f->ref, NULL, 0);
}

static int act_unlink(struct page *x, const struct family *f, int64_t id, const char **why)
{
	struct channel ch;
	int rc;

	(void)why;
	if ((rc = store_channel_get(x->h->store, id, &ch)) != 0)
		return rc;
	if (ch.family_id != f->id)
		return -CB_ENOENT;
	if ((rc = store_channel_unlink(x->h->store, id, x->h->now)) != 0)
		return rc;
	{
		const struct audit_entry e = {x->actor, "channel.unlink", f->ref, NULL, x->staff.id, id, 0};

		return store_audit_add(x->h->store, x->h->now, &e);
	}
}

static void family_action(struct page *x, const char *ref, action_fn fn, int64_t id, int open_only,
			  const char *anchor)
{
	struct family f;
	const char *why = NULL;
	char to[URL_MAX];
	int rc = page_family(x, ref, &f);

	if (rc == -CB_EPERM) {
		page_message(x, 404, "console.refused");
		return;
	}
	if (rc != 0) {
		page_store_failed(x);
		return;
	}
	if (open_only && strcmp(f.status, "closed") == 0) {
		page_message(x, 409, "console.family.closed");
		return;
	}
	rc = fn(x, &f, id, &why);
	if (rc == 0) {
		snprintf(to, sizeof(to), "/families/%s%s", f.ref, anchor);
		page_redirect(x, to);
	} else if (why != NULL)
		page_message(x, 422, why);
	else if (rc == -CB_EINVAL)
		page_message(x, 422, "console.family.bad_input");
	else if (rc == -CB_ESTATE)
		page_message(x, 409, "console.family.bad_state");
	else if (rc == -CB_ENOENT)
		page_message(x, 404, "console.not_found");
	else {
		log_warn("console: %s: %s", x->req->path, casebot_strerror(rc));
		page_store_failed(x);
	}
}

/* The document's plain bytes, in memory only; one audit row first, so
 * that no copy leaves without a trace. */
struct plain {
	unsigned char *buf;
	size_t len, cap;
};

static int plain_put(const void *p, size_t n, void *arg)
{
	struct plain *pl = arg;

	if (n > pl->cap - pl->len)
		return -CB_ETOOBIG;
	memcpy(pl->buf + pl->len, p, n);
	pl->len += n;
	return 0;
}

static void download(struct page *x, const char *ref, int64_t id)
{
	unsigned char key[VAULT_KEY_BYTES];
	char path[PATH_MAX], disp[STORE_NAME_MAX + 96];
	struct plain pl = {0};
	struct document d;
	struct family f;
	const char *ext;
	int rc = page_family(x, ref, &f);

	if (rc == -CB_EPERM) {
		page_message(x, 404, "console.refused");
		return;
	}
	if (rc != 0) {
		page_store_failed(x);
		return;
	}
	if ((rc = load_document(x, &f, id, &d)) == -CB_ENOENT || (rc == 0 && d.path[0] == '\0')) {
		page_message(x, 404, "console.not_found");
		return;
	}
	if (rc != 0 || d.size < 0 || d.size > CASEFILE_DOCUMENT_MAX) {
		page_store_failed(x);
		return;
	}
	if (config_document_key_path(x->h->cfg, path, sizeof(path)) != 0 || vault_load_key(path, key) != 0 ||
	    page_audit(x, "document.get", f.ref, "console", id) != 0) {
		sodium_memzero(key, sizeof(key));
		page_store_failed(x);
		return;
	}
	/* One byte more than the store says: a longer file is refused. */
	pl.cap = (size_t)d.size + 1;
	if ((pl.buf = malloc(pl.cap)) == NULL) {
		sodium_memzero(key, sizeof(key));
		page_store_failed(x);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", x->h->cfg->data_dir, d.path);
	rc = vault_decrypt(key, path, plain_put, &pl);
	sodium_memzero(key, sizeof(key));
	if (rc != 0 || pl.len != (size_t)d.size) {
		sodium_memzero(pl.buf, pl.cap);
		free(pl.buf);
		page_message(x, 500, "console.family.damaged");
		return;
	}
	/* The type the store checked when it came in; the name says only the
	 * family and the document's number. */
	ext = strcmp(d.mime, "application/pdf") == 0 ? "pdf" : strcmp(d.mime, "image/png") == 0 ? "png" :
	      strcmp(d.mime, "image/jpeg") == 0 ? "jpg" : strcmp(d.mime, "image/webp") == 0 ? "webp" : "bin";
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s-document-%lld.%s\"", f.ref, (long long)id, ext);
	page_header(x, "content-disposition", "%s", disp);
	x->res->status = 200;
	x->res->content_type = documents_type_accepted(d.mime) ? d.mime : "application/octet-stream";
	x->res->body = (char *)pl.buf;
	x->res->len = pl.len;
	x->res->wipe = 1;
}

int casefile_route(struct page *x, const char *ref, const char *tail, size_t n, int get, int post)
{
	static const struct {
		const char *what, *verb;
		action_fn fn;
		int open_only;
		const char *anchor;
	} by_id[] = {
		{"alerts", "ack", act_ack, 0, ""},
		{"appointments", "move", act_appointment_move, 1, "#appointments"},
		{"appointments", "cancel", act_appointment_cancel, 1, "#appointments"},
		{"documents", "verify", act_document_verify, 1, "#documents"},
		{"documents", "reject", act_document_reject, 1, "#documents"},
		{"chats", "unlink", act_unlink, 0, "#members"},
	};
	static const struct {
		const char *tail;
		action_fn fn;
		int open_only;
		const char *anchor;
	} plain_actions[] = {
		{"/write", act_write, 1, ""},
		{"/appointments", act_appointment_add, 1, "#appointments"},
		{"/documents/request", act_document_request, 1, "#documents"},
		{"/checkin", act_checkin, 1, "#checkin"},
		{"/checkin/off", act_checkin_off, 0, "#checkin"},
		{"/close", act_close, 1, ""},
	};
	char t[64], what[16], verb[16];
	long long id;
	int used = 0;

	if (n == 0 && get) {
		family_page(x, ref);
		return 1;
	}
	if (n >= sizeof(t))
		return 0;
	memcpy(t, tail, n);
	t[n] = '\0';
	if (post)
		for (size_t i = 0; i < CB_ARRAY_SIZE(plain_actions); i++)
			if (strcmp(t, plain_actions[i].tail) == 0) {
				family_action(x, ref, plain_actions[i].fn, 0, plain_actions[i].open_only,
					      plain_actions[i].anchor);
				return 1;
			}
	if (get && sscanf(t, "/documents/%lld%n", &id, &used) == 1 && (size_t)used == n && id > 0) {
		download(x, ref, (int64_t)id);
		return 1;
	}
	if (post && sscanf(t, "/%15[a-z]/%lld/%15[a-z]%n", what, &id, verb, &used) == 3 && (size_t)used == n && id > 0)
		for (size_t i = 0; i < CB_ARRAY_SIZE(by_id); i++)
			if (strcmp(what, by_id[i].what) == 0 && strcmp(verb, by_id[i].verb) == 0) {
				family_action(x, ref, by_id[i].fn, (int64_t)id, by_id[i].open_only, by_id[i].anchor);
				return 1;
			}
	return 0;
}
