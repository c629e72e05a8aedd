#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/buttons.h"
#include "bot/compose.h"
#include "bot/gateways/gateway.h"
#include "bot/tz.h"
#include "locales/keys.h"
#include "locales/locale.h"
#include "locales/note.h"

struct ctx {
	struct store *st;
	const struct locales *loc;
	enum lang l;
	/* The whole message, details included, as the Details button shows
	 * it; else the message a locked screen may preview. */
	int details;
	struct composed *out;
	/* The gateway can show a Details button (it has buttons): pressed, it
	 * edits the message in place, or where the gateway cannot edit, brings
	 * the message again as a new one. Without buttons the message stays
	 * as a locked screen may show it. */
	int can_details;
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

/* A family message whose details wait behind a button: the button edits
 * this very message (outbox row id) to show them. It comes after the
 * choices and is no choice itself. */
static int details_button(struct ctx *c, long long id)
{
	int rc;

	if (c->details || !c->can_details)
		return 0;
	if ((rc = button(c, "button.details", BUTTON_DETAILS, id, 0)) != 0)
		return rc;
	c->out->details_button = 1;
	return 0;
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

static int reminder_details(struct ctx *c, const struct appointment *a, const char *what)
{
	const struct locale_param w[] = {{"what", what}};
	int rc;

	if (!c->details)
		return 0;
	if ((rc = line(c, "reminder.what", w, 1)) != 0)
		return rc;
	if (a->place[0] != '\0') {
		const struct locale_param p[] = {{"place", a->place}};

		if ((rc = line(c, "reminder.place", p, 1)) != 0)
			return rc;
	}
	if (a->member[0] != '\0') {
		const struct locale_param p[] = {{"member", a->member}};

		if ((rc = line(c, "reminder.member", p, 1)) != 0)
			return rc;
	}
	return 0;
}

/* A reminder opens with when, and nothing else a locked screen could show:
 * what, where and for whom are details. */
static int render_reminder(struct ctx *c, long long id, const struct appointment *a, int with_question,
			   const char *key)
{
	char when[128], kindkey[64];
	const char *what;
	int rc;

	if ((rc = locale_format_datetime(c->loc, c->l, a->starts_at, when, sizeof(when))) != 0)
		return rc;
	snprintf(kindkey, sizeof(kindkey), "appointment.kind.%s", a->kind);
	what = locale_text(c->loc, c->l, kindkey);
	if (what == NULL)
		return -CB_EINVAL;
	{
		const struct locale_param p[] = {{"when", when}};

		if ((rc = line(c, key, p, CB_ARRAY_SIZE(p))) != 0)
			return rc;
	}
	if (!with_question)
		return 0;
	if ((rc = reminder_details(c, a, what)) != 0)
		return rc;
	/* Once the family has answered, later steps remind without asking
	 * again (after "cannot come" or "another time" they are cancelled;
	 * one already on its way, or the history, shows no question). */
	if (strcmp(a->status, "confirmed") == 0)
		rc = line(c, "reminder.you_confirmed", NULL, 0);
	else if (strcmp(a->status, "scheduled") == 0) {
		if ((rc = line(c, "reminder.question", NULL, 0)) != 0)
			return rc;
		if ((rc = choice(c, "button.confirm", "words.yes", BUTTON_APPOINTMENT, (long long)a->id, 1)) != 0 ||
		    (rc = choice(c, "button.cannot_come", "words.no", BUTTON_APPOINTMENT, (long long)a->id, 2)) != 0 ||
		    (rc = choice(c, "button.other_time", NULL, BUTTON_APPOINTMENT, (long long)a->id, 3)) != 0 ||
		    (rc = list_choices(c)) != 0)
			return rc;
	}
	return rc != 0 ? rc : details_button(c, id);
}

static int reminder(struct ctx *c, const struct outbox_msg *m, int with_question, const char *key)
{
	struct appointment a;
	int rc;

	if ((rc = store_appointment_get(c->st, m->appointment_id, &a)) != 0)
		return rc;
	return render_reminder(c, (long long)m->id, &a, with_question, key);
}

/* A request, its reminder or a rejection opens without naming the
 * document: its name (and a rejection's reason, a code of the catalog's
 * short list) are details. */
static int render_document(struct ctx *c, long long id, const struct doc_request *r, const char *reason_code,
			   const char *key)
{
	char typekey[64], reasonkey[64], due[128];
	const char *doc, *reason = NULL;
	int rc, y, mon, day;

	snprintf(typekey, sizeof(typekey), "document.type.%s", r->doc_type);
	if ((doc = locale_text(c->loc, c->l, typekey)) == NULL)
		return -CB_EINVAL;
	if (reason_code != NULL && reason_code[0] != '\0') {
		snprintf(reasonkey, sizeof(reasonkey), "document.reason.%s", reason_code);
		reason = locale_text(c->loc, c->l, reasonkey);
	}
	if ((rc = line(c, key, NULL, 0)) != 0)
		return rc;
	if (c->details) {
		const struct locale_param p[] = {{"document", doc}};
		const struct locale_param why[] = {{"reason", reason}};

		if ((rc = line(c, "document.name", p, 1)) != 0 ||
		    (reason != NULL && (rc = line(c, "document.reason_line", why, 1)) != 0))
			return rc;
	}
	if (r->due_date[0] != '\0' && tz_parse_date(r->due_date, &y, &mon, &day) == 0) {
		const struct locale_param p[] = {{"due", due}};

		if ((rc = locale_format_day(c->loc, c->l, y, mon, day, due, sizeof(due))) != 0 ||
		    (rc = line(c, "document.request_due", p, 1)) != 0)
			return rc;
	}
	if ((rc = line(c, "document.how_to_send", NULL, 0)) != 0)
		return rc;
	return details_button(c, id);
}

static int document(struct ctx *c, const struct outbox_msg *m, const char *key)
{
	struct doc_request r;
	cJSON *params;
	const cJSON *reason;
	int rc;

	if ((rc = store_docreq_get(c->st, m->request_id, &r)) != 0)
		return rc;
	params = cJSON_Parse(m->params);
	reason = cJSON_GetObjectItemCaseSensitive(params, "reason");
	rc = render_document(c, (long long)m->id, &r, cJSON_IsString(reason) ? reason->valuestring : NULL, key);
	cJSON_Delete(params);
	return rc;
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

	/* One button stays free for Details: the names of the documents are
	 * the details of this question. */
	if (strcmp(r->status, "open") != 0 || w->c->out->nbuttons == COMPOSE_BUTTONS_MAX - 1)
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

/* The buttons name the documents; the text lists them by number only
 * with the details. */
static int which_choices(struct ctx *c, long long id)
{
	int rc;

	/* Nothing is open any more: there is nothing to ask. */
	if (c->out->nbuttons == 0)
		return -CB_ENOENT;
	c->out->question = 1;
	if (c->details && (rc = list_choices(c)) != 0)
		return rc;
	return details_button(c, id);
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
	return which_choices(c, (long long)m->id);
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
	return compose_outbox_details(st, loc, m, l, caps, 0, out);
}

int compose_outbox_details(struct store *st, const struct locales *loc, const struct outbox_msg *m,
			   enum lang l, const struct gateway_caps *caps, int details, struct composed *out)
{
	/* Only a gateway with buttons carries a Details button. */
	int can_details = caps == NULL || caps->buttons_max > 0;
	struct ctx c = {st, loc, l, details, out, can_details};
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
	else if (strcmp(m->kind, "welcome") == 0) {
		/* The welcome offers the other languages at once; the SMS one
		 * is short, since every segment costs, and "language" asks. */
		if ((rc = generic(&c, m)) == 0 && strcmp(m->catalog_key, "welcome.sms") != 0)
			rc = language_choose(&c);
	}
	else if (strcmp(m->kind, "window_nudge") == 0 && (rc = generic(&c, m)) == 0)
		rc = button(&c, "button.window_open", BUTTON_WINDOW, 0, 0);  /* a tap is the answer that opens it */
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

/* The check of previews: a composed message, and what it was rendered
 * with, for the error line. */
struct check {
	const struct locales *loc;
	enum lang l;
	struct composed out;
	char *err;
	size_t errlen;
	/* compose_each_family_message: rendered for these caps, and handed
	 * to each instead of checked. */
	const struct gateway_caps *caps;
	compose_each_fn each;
	void *arg;
};

static int check_zone(struct check *k, const char *key, const char *with)
{
	struct locale_banned hit;
	int rc;

	if (k->each != NULL) {
		struct ctx c = {NULL, k->loc, k->l, 0, &k->out, 0};

		/* As compose_outbox does for a gateway without room for the
		 * buttons: they become numbered choices. */
		if (k->caps != NULL && k->out.nbuttons > k->caps->buttons_max && !k->out.question &&
		    (rc = list_choices(&c)) != 0)
			return rc;
		k->each(k->arg, k->l, key, with, k->out.text);
		return 0;
	}
	rc = locale_preview_banned(k->loc, k->out.text, &hit);

	if (rc < 0) {
		snprintf(k->err, k->errlen, "%s.json: key %s: cannot check the preview", lang_code(k->l), key);
		return rc;
	}
	if (rc == 0)
		return 0;
	snprintf(k->err, k->errlen,
		 "%s.json: key %s%s%s: a locked screen would show \"%s\" (words.preview_banned of %s.json, item \"%s\")",
		 lang_code(k->l), key, with[0] != '\0' ? " with " : "", with, hit.words, lang_code(hit.lang),
		 hit.item);
	return -CB_ECONFIG;
}

static void check_begin(struct check *k, struct ctx *c)
{
	memset(&k->out, 0, sizeof(k->out));
	c->st = NULL;
	c->loc = k->loc;
	c->l = k->l;
	c->details = 0;
	c->out = &k->out;
	c->can_details = k->caps == NULL || k->caps->buttons_max > 0;
}

/* The codes of the registry keys under prefix ("appointment.kind."). */
static const char *code_at(const char *prefix, size_t *i)
{
	size_t n = strlen(prefix);

	for (; *i < keys_count(); (*i)++)
		if (strncmp(keys_at(*i)->key, prefix, n) == 0)
			return keys_at((*i)++)->key + n;
	return NULL;
}

/* A sample value for a placeholder: the ones that can reveal a subject
 * take the names of a kind, a document type and a reason. A counsellor's
 * words ({text}) are theirs to choose: a neutral stand-in. */
static const char *sample(struct check *k, const char *name, const char *what, const char *doc,
			  const char *reason, char *buf, size_t cap)
{
	if (strcmp(name, "what") == 0)
		return what;
	if (strcmp(name, "document") == 0)
		return doc;
	if (strcmp(name, "reason") == 0)
		return reason;
	if (strcmp(name, "when") == 0 || strcmp(name, "due") == 0) {
		/* Tuesday 3 December 2024, 14:00 in Brussels. */
		if (locale_format_datetime(k->loc, k->l, (time_t)1733230800, buf, cap) != 0)
			buf[0] = '\0';
		return buf;
	}
	if (strcmp(name, "counsellor") == 0)
		return "Sara";
	if (strcmp(name, "member") == 0)
		return "Amina";
	if (strcmp(name, "emergency") == 0)
		return "112";
	if (strcmp(name, "text") == 0)
		return "?";
	return "20";
}

/* The codes under prefix, at most max, into codes; returns the count. */
static size_t codes(const char *prefix, const char **out, size_t max)
{
	size_t i = 0, n = 0;
	const char *code;

	while (n < max && (code = code_at(prefix, &i)) != NULL)
		out[n++] = code;
	return n;
}

/* Every text that opens a family message, with each kind, type and reason
 * in the placeholders that can carry them. */
static int check_texts(struct check *k)
{
	const char *kinds[32], *types[32], *reasons[32];
	size_t nk = codes("appointment.kind.", kinds, 32), nt = codes("document.type.", types, 32);
	size_t nr = codes("document.reason.", reasons, 32);
	size_t rounds = nk > nt ? nk : nt;
	struct ctx c;
	char with[160];
	int rc = 0;

	if (nk == 0 || nt == 0 || nr == 0)
		return -CB_EINVAL;
	rounds = rounds > nr ? rounds : nr;
	/* The lists are not as long as each other: the shorter ones start
	 * again until the longest is done. */
	for (size_t v = 0; rc == 0 && v < rounds; v++) {
		const char *kind = kinds[v % nk], *type = types[v % nt], *reason = reasons[v % nr];
		const char *what, *doc, *why;
		char key[96];

		snprintf(key, sizeof(key), "appointment.kind.%s", kind);
		what = locale_text(k->loc, k->l, key);
		snprintf(key, sizeof(key), "document.type.%s", type);
		doc = locale_text(k->loc, k->l, key);
		snprintf(key, sizeof(key), "document.reason.%s", reason);
		why = locale_text(k->loc, k->l, key);
		for (size_t i = 0; rc == 0 && i < keys_count(); i++) {
			const struct keys_entry *e = keys_at(i);
			struct locale_param p[KEYS_MAX_PARAMS];
			char bufs[KEYS_MAX_PARAMS][128];
			size_t n = 0;

			if (!keys_family_facing(e))
				continue;
			with[0] = '\0';
			for (; n < KEYS_MAX_PARAMS && e->params[n] != NULL; n++) {
				const char *name = e->params[n];

				p[n].name = name;
				p[n].value = sample(k, name, what, doc, why, bufs[n], sizeof(bufs[n]));
				/* The error names the code a revealing value came from. */
				if (strcmp(name, "what") == 0 || strcmp(name, "document") == 0 ||
				    strcmp(name, "reason") == 0)
					snprintf(with + strlen(with), sizeof(with) - strlen(with), "%s%s %s",
						 with[0] != '\0' ? ", " : "",
						 name[0] == 'w' ? "kind" : name[0] == 'd' ? "document type" : "reason",
						 name[0] == 'w' ? kind : name[0] == 'd' ? type : reason);
			}
			check_begin(k, &c);
			if ((rc = line(&c, e->key, p, n)) != 0) {
				snprintf(k->err, k->errlen, "%s.json: key %s: cannot be rendered", lang_code(k->l), e->key);
				break;
			}
			rc = check_zone(k, e->key, with);
		}
	}
	return rc;
}

/* The messages as compose_outbox builds them, from rows made up for each
 * appointment kind and document type. */
static int check_messages(struct check *k)
{
	static const char *const statuses[] = {"scheduled", "confirmed"};
	static const char *const notices[] = {"appointment.cancelled", "appointment.moved"};
	static const char *const docs[] = {"document.request", "document.reminder", "document.rejected"};
	struct ctx c;
	size_t i = 0, j;
	const char *code, *reason;
	char with[160];
	int rc = 0;

	while (rc == 0 && (code = code_at("appointment.kind.", &i)) != NULL) {
		struct appointment a;

		memset(&a, 0, sizeof(a));
		a.id = 1;
		a.starts_at = (time_t)1733230800;
		cb_strlcpy(a.kind, code, sizeof(a.kind));
		/* A place can name the institution itself: it never shows. */
		cb_strlcpy(a.place, "Office des Etrangers, Dienst Vreemdelingenzaken", sizeof(a.place));
		cb_strlcpy(a.member, "Amina", sizeof(a.member));
		snprintf(with, sizeof(with), "kind %s", code);
		for (size_t s = 0; rc == 0 && s < CB_ARRAY_SIZE(statuses); s++) {
			cb_strlcpy(a.status, statuses[s], sizeof(a.status));
			check_begin(k, &c);
			if ((rc = render_reminder(&c, 1, &a, 1, "reminder.appointment")) == 0)
				rc = check_zone(k, "reminder.appointment", with);
		}
		for (size_t s = 0; rc == 0 && s < CB_ARRAY_SIZE(notices); s++) {
			check_begin(k, &c);
			if ((rc = render_reminder(&c, 1, &a, 0, notices[s])) == 0)
				rc = check_zone(k, notices[s], with);
		}
	}
	for (i = 0; rc == 0 && (code = code_at("document.type.", &i)) != NULL;) {
		struct doc_request r;
		struct which_ctx w;

		memset(&r, 0, sizeof(r));
		r.id = 1;
		cb_strlcpy(r.doc_type, code, sizeof(r.doc_type));
		cb_strlcpy(r.due_date, "2024-12-10", sizeof(r.due_date));
		cb_strlcpy(r.status, "open", sizeof(r.status));
		for (size_t d = 0; rc == 0 && d < CB_ARRAY_SIZE(docs); d++) {
			for (j = 0; rc == 0 && (reason = code_at("document.reason.", &j)) != NULL;) {
				snprintf(with, sizeof(with), "document type %s, reason %s", code, reason);
				check_begin(k, &c);
				if ((rc = render_document(&c, 1, &r, reason, docs[d])) == 0)
					rc = check_zone(k, docs[d], with);
			}
		}
		/* Which document a file is: this type among the open ones. */
		check_begin(k, &c);
		w.c = &c;
		w.document_id = 1;
		w.rc = 0;
		if ((rc = line(&c, "document.which", NULL, 0)) != 0 || (rc = which_button(&r, &w)) != 0 ||
		    (rc = w.rc) != 0 || (rc = which_choices(&c, 1)) != 0)
			break;
		snprintf(with, sizeof(with), "document type %s", code);
		rc = check_zone(k, "document.which", with);
	}
	if (rc == 0) {
		check_begin(k, &c);
		if ((rc = checkin(&c, &(struct outbox_msg){.id = 1})) == 0)
			rc = check_zone(k, "checkin.question", "");
	}
	if (rc == 0) {
		const struct locale_param p[] = {{"counsellor", "Sara"}};

		check_begin(k, &c);
		if ((rc = line(&c, "welcome", p, 1)) == 0 && (rc = language_choose(&c)) == 0)
			rc = check_zone(k, "welcome", "");
	}
	if (rc == 0) {
		check_begin(k, &c);
		if ((rc = language_choose(&c)) == 0)
			rc = check_zone(k, "language.choose", "");
	}
	if (rc != 0 && rc != -CB_ECONFIG && k->err[0] == '\0')
		snprintf(k->err, k->errlen, "%s.json: a family message cannot be rendered", lang_code(k->l));
	return rc;
}

int compose_each_family_message(const struct locales *loc, const struct gateway_caps *caps, compose_each_fn each,
				void *arg)
{
	struct check *k = calloc(1, sizeof(*k));
	char err[256];
	int rc = 0;

	if (k == NULL)
		return -CB_ENOMEM;
	k->loc = loc;
	k->err = err;
	k->errlen = sizeof(err);
	k->caps = caps;
	k->each = each;
	k->arg = arg;
	for (int l = 0; rc == 0 && l < LANG_COUNT; l++) {
		k->l = (enum lang)l;
		if ((rc = check_texts(k)) == 0)
			rc = check_messages(k);
	}
	free(k);
	return rc;
}

int compose_check_previews(const struct locales *loc, char *err, size_t errlen)
{
	struct check *k = calloc(1, sizeof(*k));
	int rc = 0;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (k == NULL)
		return -CB_ENOMEM;
	k->loc = loc;
	k->err = err;
	k->errlen = errlen;
	for (int l = 0; rc == 0 && l < LANG_COUNT; l++) {
		k->l = (enum lang)l;
		if ((rc = check_texts(k)) == 0)
			rc = check_messages(k);
	}
	free(k);
	return rc;
}
