/* What reaches staff. Every alert is a row (acknowledged, escalated) and a
 * message to whoever follows the family now: the counsellor, or the backup
 * while the counsellor is away; urgent ones go to both at once, day or
 * night. A family's own words (or file) travel as a forward the counsellor
 * can answer; anything else as a notice. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/compose.h"
#include "bot/event.h"
#include "bot/gateways/gateway.h"
#include "handlers/handler.h"

#define ACK_EVERY (60 * 60)
#define STAFF_MESSAGE_TTL (7 * 86400)

/* The first line of the last automated message a chat got, in the
 * family's language: the counsellor sees what the family was answering. */
static void last_question(struct hctx *h, int64_t channel_id, enum lang l, char *out, size_t cap)
{
	static struct composed msg;
	struct outbox_msg m;
	char *nl;

	memset(&m, 0, sizeof(m));
	out[0] = '\0';
	if (channel_id == 0 || store_outbox_last_auto(h->store, channel_id, &m) != 0 ||
	    compose_outbox(h->store, h->loc, &m, l, NULL, &msg) != 0)
		goto out;
	if ((nl = strchr(msg.text, '\n')) != NULL)
		*nl = '\0';
	cb_strlcpy(out, msg.text, cap);
out:
	store_outbox_msg_free(&m);
}

/* One copy of an alert, for one staff member; *group is the first copy's
 * id (0 before the first). The first copy of a forward keeps the words
 * while the alert is open, so that whoever it is escalated to reads them. */
static int notify(struct hctx *h, const struct family *f, int64_t staff_id, const char *kind, int urgent,
		  const char *code, const char *details, const struct forward *fw, int64_t *group)
{
	char alert_s[24], channel_s[24], edit_s[24] = "", last[160] = "", *params = NULL;
	struct outbox_msg m;
	struct member mem;
	int64_t alert_id;
	int rc;

	if ((rc = store_alert_add(h->store, f->id, staff_id, kind, urgent, code, details, h->now, *group, &alert_id)) != 0)
		return rc;
	memset(&m, 0, sizeof(m));
	memset(&mem, 0, sizeof(mem));
	m.family_id = f->id;
	m.staff_id = staff_id;
	m.urgent = urgent;
	m.not_before = h->now;
	/* Nobody reads a week-old notice for the first time. */
	m.expires_at = h->now + STAFF_MESSAGE_TTL;
	snprintf(alert_s, sizeof(alert_s), "%lld", (long long)alert_id);
	if (fw == NULL) {
		cb_strlcpy(m.kind, "alert", sizeof(m.kind));
		cb_strlcpy(m.catalog_key, "staff.alert", sizeof(m.catalog_key));
		/* The details are rendered from the alert row, in the reader's
		 * language, when the message goes. */
		rc = handler_params(&params, "alert_id", alert_s, "ref", f->ref, "kind", kind, NULL);
	} else {
		enum lang l = handler_reader_lang(h->store, f, fw->member_id, &mem);

		last_question(h, fw->channel_id, l, last, sizeof(last));
		snprintf(channel_s, sizeof(channel_s), "%lld", (long long)fw->channel_id);
		if (fw->edit_of != 0)
			snprintf(edit_s, sizeof(edit_s), "%lld", (long long)fw->edit_of);
		cb_strlcpy(m.kind, "forward", sizeof(m.kind));
		cb_strlcpy(m.catalog_key, "staff.forward.header", sizeof(m.catalog_key));
		m.member_id = fw->member_id;
		rc = handler_params(&params, "alert_id", alert_s, "ref", f->ref,
				    "member", mem.name, "language", lang_code(l), "last", last,
				    "text", fw->text != NULL ? fw->text : "",
				    "media_kind", fw->media_kind != NULL ? fw->media_kind : "",
				    "media_ref", fw->media_ref != NULL ? fw->media_ref : "",
				    "channel_id", channel_s, "edit_of", edit_s, NULL);
	}
	m.params = params;
	if (rc == 0)
		rc = store_outbox_add(h->store, &m, h->now);
	if (rc == 0 && fw != NULL && *group == 0)
		rc = store_alert_set_forward(h->store, alert_id, params);
	if (*group == 0)
		*group = alert_id;
	free(params);
	return rc;
}

int handler_alert(struct hctx *h, int64_t family_id, const char *kind, int urgent, const struct forward *fw,
		  const char *code, ...)
{
	struct family f;
	struct staff primary;
	char *details = NULL;
	int64_t to[2] = {0, 0}, group = 0;
	va_list ap;
	int rc;

	va_start(ap, code);
	rc = handler_vparams(&details, ap);
	va_end(ap);
	if (rc != 0)
		return rc;
	if ((rc = store_family_get_id(h->store, family_id, &f)) != 0 ||
	    (rc = store_staff_get_id(h->store, f.counsellor_id, &primary)) != 0)
		goto out;
	to[0] = f.counsellor_id;
	/* A counsellor who left is like one away, for good. */
	if (f.backup_id != 0 && (urgent || primary.away || !primary.active)) {
		if (urgent && primary.active)
			to[1] = f.backup_id;
		else
			to[0] = f.backup_id;
	}
	for (int i = 0; i < 2 && rc == 0; i++)
		if (to[i] != 0)
			rc = notify(h, &f, to[i], kind, urgent, code, details, fw, &group);
out:
	free(details);
	return rc;
}

void relay_describe(const struct inbound_event *ev, struct arrival *a)
{
	a->code = "media";
	a->name = "what";
	if (ev->edited)
		a->code = "edited_media";
	switch (ev->kind) {
	case EVENT_TEXT:
		a->code = ev->edited ? "edited_text" : "text";
		a->name = "bytes";
		snprintf(a->value, sizeof(a->value), "%zu", strlen(ev->text));
		break;
	case EVENT_MEDIA:
		cb_strlcpy(a->value, ev->media_kind[0] != '\0' ? ev->media_kind : "other", sizeof(a->value));
		break;
	case EVENT_LOCATION:
		cb_strlcpy(a->value, "location", sizeof(a->value));
		break;
	default:
		cb_strlcpy(a->value, "other", sizeof(a->value));
		break;
	}
}

int relay_forward(struct hctx *h, const struct family_msg *fm)
{
	const struct inbound_event *ev = fm->ev;
	struct forward fw = {fm->channel.id, fm->member.id, NULL, NULL, NULL, 0};
	struct arrival what;
	int rc, acks = 0;

	if (ev != NULL && ev->kind == EVENT_TEXT)
		fw.text = ev->text;
	if (ev != NULL && ev->edited)
		fw.edit_of = ev->original_at > 0 ? ev->original_at : 1;
	if (ev != NULL && ev->kind == EVENT_MEDIA && ev->media_ref[0] != '\0') {
		fw.media_kind = ev->media_kind;
		fw.media_ref = ev->media_ref;
		fw.text = ev->text[0] != '\0' ? ev->text : NULL;    /* a caption */
	}
	/* The alert row names what arrived, never what it says: the words
	 * travel only in the forward, and leave the store once it is sent. */
	relay_describe(ev, &what);
	if ((rc = handler_alert(h, fm->family.id, "message", 0, &fw, what.code, what.name, what.value, NULL)) != 0)
		return rc;
	if ((rc = store_outbox_count_since(h->store, fm->family.id, "forward_ack", h->now - ACK_EVERY, &acks)) != 0)
		return rc;
	if (acks > 0)
		return 0;
	return handler_reply(h, fm, "forward_ack", "forward.ack", NULL);
}

int relay_failed(struct hctx *h, const struct family_msg *fm, const struct arrival *what, int with_words)
{
	const struct inbound_event *ev = fm->ev;
	struct forward fw = {fm->channel.id, fm->member.id, NULL, NULL, NULL, 0};
	const char *code = "failed_unread", *name = NULL, *value = NULL, *answer;
	char *folded, *params = NULL;
	int urgent = 0, rc;

	if (ev != NULL && ev->text[0] != '\0') {
		if ((folded = malloc(EVENT_TEXT_MAX)) == NULL)
			return -CB_ENOMEM;
		urgent = words_fold(ev->text, folded, EVENT_TEXT_MAX) == 0 && urgent_is(h->loc, folded);
		free(folded);
		if (with_words)
			fw.text = ev->text;
	}
	/* What arrived (a text and its size, a kind of file, or an event that
	 * could not be read), and what the family got: log.answer.*. */
	answer = urgent ? "emergency" : "ack";
	if (what != NULL) {
		int text = strcmp(what->code, "text") == 0 || strcmp(what->code, "edited_text") == 0;

		code = text ? "failed_text" : "failed_media";
		name = what->name;
		value = what->value;
	}
	if (name != NULL)
		rc = handler_log_in(h, fm, "failed", code, "answer", answer, name, value, NULL);
	else
		rc = handler_log_in(h, fm, "failed", code, "answer", answer, NULL);
	if (rc != 0)
		return rc;
	if (name != NULL)
		rc = handler_alert(h, fm->family.id, "inbound_failed", urgent, fw.text != NULL ? &fw : NULL, code, "answer",
				   answer, name, value, NULL);
	else
		rc = handler_alert(h, fm->family.id, "inbound_failed", urgent, fw.text != NULL ? &fw : NULL, code, "answer",
				   answer, NULL);
	if (rc != 0)
		return rc;
	if (!urgent)
		return handler_reply(h, fm, "forward_ack", "forward.ack", NULL);
	if ((rc = handler_params(&params, "emergency", h->cfg->emergency_number, NULL)) != 0)
		return rc;
	rc = handler_reply(h, fm, "urgent_ack", "urgent.ack", params);
	free(params);
	return rc;
}

/* Each gateway says in the gateway table how much one message holds. */
size_t relay_text_limit(const char *kind)
{
	const struct gateway_kind *k = gateway_kind_find(kind);

	return k != NULL ? k->text_max : 0;
}

size_t relay_text_units(const char *kind, const char *text)
{
	const struct gateway_kind *k = gateway_kind_find(kind);

	return k != NULL && k->text_len != NULL ? k->text_len(text, strlen(text)) : strlen(text);
}
