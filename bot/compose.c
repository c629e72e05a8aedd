#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/buttons.h"
#include "bot/compose.h"
#include "bot/gateways/gateway.h"
#include "bot/tz.h"
#include "locales/locale.h"
#include "locales/note.h"

struct ctx {
	struct store *st;
	const struct locales *loc;
	enum lang l;
	struct composed *out;
};

/* Renders key and appends it as a new line (or lines). */
static int line(struct ctx *c, const char *key, const struct locale_param *p, size_t n)
{
	char buf[COMPOSE_TEXT_MAX];
	int rc = locale_render(c->loc, c->l, key, p, n, buf, sizeof(buf));
	size_t len;

	if (rc != 0)
		return rc;
	if (c->out->text[0] == '\0' && c->out->first_key[0] == '\0') {
		cb_strlcpy(c->out->first_key, key, sizeof(c->out->first_key));
		for (size_t i = 0; i < n && i < COMPOSE_VALUES_MAX; i++) {
			cb_strlcpy(c->out->first[i].name, p[i].name, sizeof(c->out->first[i].name));
			cb_strlcpy(c->out->first[i].value, p[i].value, sizeof(c->out->first[i].value));
		}
		c->out->nfirst = n < COMPOSE_VALUES_MAX ? (int)n : COMPOSE_VALUES_MAX;
	}
	/* An empty placeholder at the end (a forward without a member) leaves
	 * no trailing space. */
	len = strlen(buf);
	while (len > 0 && buf[len - 1] == ' ')
		buf[--len] = '\0';
	if (c->out->text[0] != '\0' && cb_strlcat(c->out->text, "\n", sizeof(c->out->text)) != 0)
		return -CB_ETOOBIG;
	return cb_strlcat(c->out->text, buf, sizeof(c->out->text));
}

static int button(struct ctx *c, const char *key, const char *fmt, long long id, int choice)
{
	struct composed_button *b;
	const char *label = locale_text(c->loc, c->l, key);

	if (label == NULL || c->out->nbuttons == COMPOSE_BUTTONS_MAX)
		return -CB_EINVAL;
	b = &c->out->buttons[c->out->nbuttons++];
	cb_strlcpy(b->label, label, sizeof(b->label));
	snprintf(b->data, sizeof(b->data), fmt, id, choice);
	return 0;
}

/* A question's choice: a button, and the reply words that pick it. */
static int choice(struct ctx *c, const char *key, const char *words, const char *fmt, long long id, int n)
{
	int rc = button(c, key, fmt, id, n);

	if (rc == 0 && words != NULL)
		cb_strlcpy(c->out->buttons[c->out->nbuttons - 1].words, words,
			   sizeof(c->out->buttons[0].words));
	return rc;
}

/* Makes the message a question: its buttons, numbered, are listed in the
 * text too, in the order a bare number picks them. */
static int list_choices(struct ctx *c)
{
	int rc = 0;

	c->out->question = 1;
	for (int i = 0; rc == 0 && i < c->out->nbuttons; i++) {
		char number[12];
		const struct locale_param p[] = {{"number", number}, {"label", c->out->buttons[i].label}};

		snprintf(number, sizeof(number), "%d", i + 1);
		rc = line(c, "question.choice", p, CB_ARRAY_SIZE(p));
	}
	return rc;
}

static int reminder(struct ctx *c, const struct outbox_msg *m, int with_question, const char *key)
{
	struct appointment a;
	char when[128], kindkey[64];
	const char *what;
	int rc;

	if ((rc = store_appointment_get(c->st, m->appointment_id, &a)) != 0)
		return rc;
	if ((rc = locale_format_datetime(c->loc, c->l, a.starts_at, when, sizeof(when))) != 0)
		return rc;
	snprintf(kindkey, sizeof(kindkey), "appointment.kind.%s", a.kind);
	what = locale_text(c->loc, c->l, kindkey);
	if (what == NULL)
		return -CB_EINVAL;
	{
		const struct locale_param p[] = {{"when", when}, {"what", what}};

		if ((rc = line(c, key, p, CB_ARRAY_SIZE(p))) != 0)
			return rc;
	}
	if (!with_question)
		return 0;
	if (a.place[0] != '\0') {
		const struct locale_param p[] = {{"place", a.place}};

		if ((rc = line(c, "reminder.place", p, 1)) != 0)
			return rc;
	}
	if (a.member[0] != '\0') {
		const struct locale_param p[] = {{"member", a.member}};

		if ((rc = line(c, "reminder.member", p, 1)) != 0)
			return rc;
	}
	/* Once the family has answered, later steps remind without asking
	 * again (after "cannot come" or "another time" they are cancelled;
	 * one already on its way, or the history, shows no question). */
	if (strcmp(a.status, "confirmed") == 0)
		return line(c, "reminder.you_confirmed", NULL, 0);
	if (strcmp(a.status, "scheduled") != 0)
		return 0;
	if ((rc = line(c, "reminder.question", NULL, 0)) != 0)
		return rc;
	if ((rc = choice(c, "button.confirm", "words.yes", BUTTON_APPOINTMENT, (long long)a.id, 1)) != 0 ||
	    (rc = choice(c, "button.cannot_come", "words.no", BUTTON_APPOINTMENT, (long long)a.id, 2)) != 0 ||
	    (rc = choice(c, "button.other_time", NULL, BUTTON_APPOINTMENT, (long long)a.id, 3)) != 0)
		return rc;
	return list_choices(c);
}

static int document(struct ctx *c, const struct outbox_msg *m, const char *key)
{
	struct doc_request r;
	char typekey[64], reasonkey[64], due[128];
	const char *doc, *reason = NULL;
	cJSON *params;
	int rc, y, mon, day;

	if ((rc = store_docreq_get(c->st, m->request_id, &r)) != 0)
		return rc;
	snprintf(typekey, sizeof(typekey), "document.type.%s", r.doc_type);
	if ((doc = locale_text(c->loc, c->l, typekey)) == NULL)
		return -CB_EINVAL;
	/* A rejection names its reason from the catalog's short list. */
	params = cJSON_Parse(m->params);
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(params, "reason"))) {
		snprintf(reasonkey, sizeof(reasonkey), "document.reason.%s",
			 cJSON_GetObjectItemCaseSensitive(params, "reason")->valuestring);
		reason = locale_text(c->loc, c->l, reasonkey);
	}
	cJSON_Delete(params);
	{
		const struct locale_param p[] = {{"document", doc}, {"reason", reason != NULL ? reason : ""}};

		if ((rc = line(c, key, p, 2)) != 0)
			return rc;
	}
	if (r.due_date[0] != '\0' && tz_parse_date(r.due_date, &y, &mon, &day) == 0) {
		const struct locale_param p[] = {{"due", due}};

		if ((rc = locale_format_day(c->loc, c->l, y, mon, day, due, sizeof(due))) != 0 ||
		    (rc = line(c, "document.request_due", p, 1)) != 0)
			return rc;
	}
	return line(c, "document.how_to_send", NULL, 0);
}

static int checkin(struct ctx *c, const struct outbox_msg *m)
{
	static const char *const keys[] = {"button.checkin_good", "button.checkin_okay",
					   "button.checkin_hard", "button.checkin_contact"};
	/* Each answer has its own words in each language: "okay" is not
	 * "good", and "non" is not "okay". */
	static const char *const words[] = {"words.checkin_good", "words.checkin_okay",
					    "words.checkin_hard", "words.checkin_contact"};
	int rc = line(c, "checkin.question", NULL, 0);

	for (int i = 0; rc == 0 && i < 4; i++)
		rc = choice(c, keys[i], words[i], BUTTON_CHECKIN, (long long)m->id, i + 1);
	return rc != 0 ? rc : list_choices(c);
}

struct which_ctx {
	struct ctx *c;
	long long document_id;
	int rc;
};

static int which_button(const void *rec, void *arg)
{
	const struct doc_request *r = rec;
	struct which_ctx *w = arg;
	struct composed_button *b;
	char key[64];
	const char *label;

	if (strcmp(r->status, "open") != 0 || w->c->out->nbuttons == COMPOSE_BUTTONS_MAX)
		return 0;
	snprintf(key, sizeof(key), "document.type.%s", r->doc_type);
	if ((label = locale_text(w->c->loc, w->c->l, key)) == NULL) {
		w->rc = -CB_EINVAL;
		return 1;
	}
	b = &w->c->out->buttons[w->c->out->nbuttons++];
	cb_strlcpy(b->label, label, sizeof(b->label));
	snprintf(b->data, sizeof(b->data), BUTTON_DOCUMENT, w->document_id, (long long)r->id);
	return 0;
}

/* Which open request is this file for: one button per request. */
static int document_which(struct ctx *c, const struct outbox_msg *m)
{
	struct which_ctx w = {c, 0, 0};
	cJSON *root = cJSON_Parse(m->params);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(root, "document_id");
	int rc;

	if (cJSON_IsString(id))
		w.document_id = strtoll(id->valuestring, NULL, 10);
	cJSON_Delete(root);
	if (w.document_id <= 0)
		return -CB_EINVAL;
	if ((rc = line(c, "document.which", NULL, 0)) != 0)
		return rc;
	rc = store_docreq_each(c->st, m->family_id, which_button, &w);
	if (rc < 0 || w.rc != 0)
		return rc < 0 ? rc : w.rc;
	/* Nothing is open any more: there is nothing to ask. */
	if (c->out->nbuttons == 0)
		return -CB_ENOENT;
	return list_choices(c);
}

/* Each language named in itself, so a reader finds their own. */
static int language_buttons(struct ctx *c)
{
	int rc = 0;

	for (int l = 0; rc == 0 && l < LANG_COUNT; l++) {
		struct composed_button *b = &c->out->buttons[c->out->nbuttons++];
		const char *name = locale_text(c->loc, (enum lang)l, "meta.language_name");

		if (name == NULL)
			return -CB_EINVAL;
		cb_strlcpy(b->label, name, sizeof(b->label));
		snprintf(b->data, sizeof(b->data), BUTTON_LANGUAGE "%s", lang_code((enum lang)l));
	}
	return rc;
}

static int language_choose(struct ctx *c)
{
	int rc = line(c, "language.choose", NULL, 0);

	if (rc == 0)
		rc = language_buttons(c);
	return rc != 0 ? rc : list_choices(c);
}

/* A string from a params object, "" when absent. */
static const char *param(const cJSON *root, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);

	return cJSON_IsString(it) ? it->valuestring : "";
}

/* A family's words (or file) for its counsellor, with what the family was
 * answering, and buttons to reply, see the log, mark it handled. */
static int forward(struct ctx *c, const struct outbox_msg *m, const cJSON *p, int subject)
{
	const struct locale_param head[] = {
		{"ref", param(p, "ref")}, {"member", param(p, "member")}, {"language", param(p, "language")},
	};
	const struct locale_param last[] = {{"last", param(p, "last")}};
	const struct locale_param text[] = {{"text", param(p, "text")}};
	const struct locale_param media[] = {{"what", param(p, "media_kind")}};
	long long alert_id = strtoll(param(p, "alert_id"), NULL, 10);
	int rc = 0;

	if (subject)
		rc = line(c, "staff.email.forward_subject", head, 1);
	if (rc == 0)
		rc = line(c, m->urgent ? "staff.forward.urgent_header" : "staff.forward.header", head, 3);
	if (rc == 0 && param(p, "from")[0] != '\0') {
		const struct locale_param who[] = {{"who", param(p, "from")}};

		rc = line(c, "staff.forward.escalated", who, 1);
	}
	if (rc == 0 && param(p, "edit_of")[0] != '\0') {
		char when[128];
		const struct locale_param edited[] = {{"when", when}};

		locale_format_datetime(c->loc, c->l, (time_t)strtoll(param(p, "edit_of"), NULL, 10), when,
				       sizeof(when));
		rc = line(c, "staff.forward.edited", edited, 1);
	}
	if (rc == 0 && last[0].value[0] != '\0')
		rc = line(c, "staff.forward.answering", last, 1);
	if (rc == 0 && text[0].value[0] != '\0')
		rc = line(c, "staff.forward.text", text, 1);
	if (rc == 0 && media[0].value[0] != '\0') {
		rc = line(c, "staff.forward.media", media, 1);
		struct channel from;

		cb_strlcpy(c->out->media_kind, param(p, "media_kind"), sizeof(c->out->media_kind));
		cb_strlcpy(c->out->media_ref, param(p, "media_ref"), sizeof(c->out->media_ref));
		/* A reference means something only to the gateway that gave it. */
		if (store_channel_get(c->st, strtoll(param(p, "channel_id"), NULL, 10), &from) == 0)
			cb_strlcpy(c->out->media_gateway, from.kind, sizeof(c->out->media_gateway));
	}
	if (rc == 0)
		rc = button(c, "button.staff_reply", BUTTON_REPLY, (long long)m->id, 0);
	if (rc == 0)
		rc = button(c, "button.staff_log", BUTTON_LOG, (long long)m->family_id, 0);
	if (rc == 0)
		rc = button(c, "button.staff_handled", BUTTON_HANDLED, alert_id, 0);
	return rc;
}

/* A notice for staff: what happened to which family, with a button to
 * acknowledge it. The details come from the alert row, rendered in the
 * reader's language. */
static int alert(struct ctx *c, const cJSON *p, int subject)
{
	char key[64], details[512] = "";
	const char *kind;
	long long alert_id = strtoll(param(p, "alert_id"), NULL, 10);
	struct alert a;
	int rc = 0;

	snprintf(key, sizeof(key), "staff.alert_kind.%s", param(p, "kind"));
	kind = locale_text(c->loc, c->l, key);
	if (kind == NULL)
		kind = locale_text(c->loc, c->l, "staff.alert_kind.other");
	if (kind == NULL)
		return -CB_EINVAL;
	if (alert_id > 0 && store_alert_get(c->st, alert_id, &a) == 0)
		note_alert(c->loc, c->l, &a, details, sizeof(details));
	{
		const struct locale_param head[] = {{"ref", param(p, "ref")}, {"kind", kind},
						    {"who", param(p, "from")}};
		const struct locale_param detail[] = {{"detail", details}};

		if (subject)
			rc = line(c, "staff.email.alert_subject", head, 2);
		if (rc == 0)
			rc = line(c, param(p, "from")[0] != '\0' ? "staff.alert.escalated" : "staff.alert", head, 3);
		if (rc == 0 && detail[0].value[0] != '\0')
			rc = line(c, "staff.alert.detail", detail, 1);
	}
	return rc != 0 ? rc : button(c, "button.staff_ack", BUTTON_ACK, alert_id, 0);
}

/* A reply that could not reach the family: the reason in the staff
 * member's language. */
static int reply_failed(struct ctx *c, const cJSON *p)
{
	char key[64];
	const char *reason;

	snprintf(key, sizeof(key), "staff.reason.%s", param(p, "reason"));
	if ((reason = locale_text(c->loc, c->l, key)) == NULL)
		return -CB_EINVAL;
	{
		const struct locale_param lp[] = {{"ref", param(p, "ref")}, {"reason", reason}};

		return line(c, "staff.reply_failed", lp, 2);
	}
}

/* Any other row: its params object holds the placeholder values. */
static int generic(struct ctx *c, const struct outbox_msg *m)
{
	struct locale_param p[8];
	cJSON *root = cJSON_Parse(m->params), *it;
	size_t n = 0;
	int rc;

	if (root == NULL || !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -CB_EINVAL;
	}
	cJSON_ArrayForEach(it, root) {
		if (cJSON_IsString(it) && n < CB_ARRAY_SIZE(p)) {
			p[n].name = it->string;
			p[n].value = it->valuestring;
			n++;
		}
	}
	rc = line(c, m->catalog_key, p, n);
	cJSON_Delete(root);
	return rc;
}

/* The next page of a list staff asked for; the handler wrote its data. */
static int more_button(struct ctx *c, const char *data)
{
	const char *label = locale_text(c->loc, c->l, "button.staff_more");
	struct composed_button *b;

	if (label == NULL || c->out->nbuttons == COMPOSE_BUTTONS_MAX)
		return -CB_EINVAL;
	b = &c->out->buttons[c->out->nbuttons++];
	cb_strlcpy(b->label, label, sizeof(b->label));
	return cb_strlcpy(b->data, data, sizeof(b->data));
}

/* Staff messages: their params hold what the handler knew. A list the
 * handler already rendered travels as text, a page at a time. */
static int staff(struct ctx *c, const struct outbox_msg *m, int subject)
{
	cJSON *p = cJSON_Parse(m->params);
	int rc;

	if (p == NULL)
		return -CB_EINVAL;
	if (strcmp(m->kind, "forward") == 0)
		rc = forward(c, m, p, subject);
	else if (strcmp(m->kind, "alert") == 0)
		rc = alert(c, p, subject);
	else if (strcmp(m->kind, "staff_reply_failed") == 0)
		rc = reply_failed(c, p);
	else
		rc = cb_strlcpy(c->out->text, param(p, "text"), sizeof(c->out->text));
	if (rc == 0 && param(p, "more")[0] != '\0')
		rc = more_button(c, param(p, "more"));
	cJSON_Delete(p);
	return rc;
}

int compose_outbox(struct store *st, const struct locales *loc, const struct outbox_msg *m,
		   enum lang l, const struct gateway_caps *caps, struct composed *out)
{
	struct ctx c = {st, loc, l, out};
	int subject = caps != NULL && caps->has_subject, rc;

	memset(out, 0, sizeof(*out));
	if (strcmp(m->kind, "reminder") == 0)
		rc = reminder(&c, m, 1, "reminder.appointment");
	else if (strcmp(m->kind, "appointment_notice") == 0)
		rc = reminder(&c, m, 0, m->catalog_key);
	else if (strcmp(m->kind, "document_request") == 0 || strcmp(m->kind, "document_reminder") == 0 ||
		 strcmp(m->kind, "document_rejected") == 0)
		rc = document(&c, m, m->catalog_key);
	else if (strcmp(m->kind, "checkin") == 0)
		rc = checkin(&c, m);
	else if (strcmp(m->kind, "document_which") == 0)
		rc = document_which(&c, m);
	else if (strcmp(m->kind, "language_choose") == 0)
		rc = language_choose(&c);
	else if (strcmp(m->kind, "welcome") == 0 && (rc = generic(&c, m)) == 0)
		rc = language_choose(&c);    /* the welcome offers the other languages at once */
	else if (strcmp(m->kind, "forward") == 0 || strcmp(m->kind, "alert") == 0 ||
		 strcmp(m->kind, "staff_text") == 0 || strcmp(m->kind, "staff_reply_failed") == 0 ||
		 strcmp(m->kind, "digest") == 0)
		rc = staff(&c, m, subject);
	else
		rc = generic(&c, m);
	/* Where the buttons do not fit, the family reads them as numbered
	 * choices; as a question it is recorded when sent, so that a bare
	 * number does what the button would. */
	if (rc == 0 && caps != NULL && out->nbuttons > caps->buttons_max && !out->question &&
	    m->staff_id == 0)
		rc = list_choices(&c);
	if (rc != 0)
		memset(out, 0, sizeof(*out));
	return rc;
}
