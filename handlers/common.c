/* Helpers every conversation handler uses. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handler.h"

int handler_reply(struct hctx *h, const struct family_msg *fm, const char *kind,
		  const char *key, const char *params)
{
	struct outbox_msg m;

	memset(&m, 0, sizeof(m));
	m.family_id = fm->family.id;
	m.member_id = fm->member.id;
	m.channel_id = fm->channel.id;
	cb_strlcpy(m.kind, kind, sizeof(m.kind));
	cb_strlcpy(m.catalog_key, key, sizeof(m.catalog_key));
	m.params = params;
	m.urgent = 1;
	m.not_before = h->now;
	return store_outbox_add(h->store, &m, h->now);
}

static int vnote(struct hctx *h, const struct handler_note *n, va_list ap)
{
	char *params = NULL;
	int rc;

	if ((rc = handler_vparams(&params, ap)) == 0)
		rc = store_contact_add(h->store, n->family_id, n->at != 0 ? n->at : h->now, n->direction,
				       n->channel_kind, n->kind, n->staff_id, n->member_id, n->code, params, n->status);
	free(params);
	return rc;
}

int handler_note(struct hctx *h, const struct handler_note *n, ...)
{
	va_list ap;
	int rc;

	va_start(ap, n);
	rc = vnote(h, n, ap);
	va_end(ap);
	return rc;
}

int handler_log_in(struct hctx *h, const struct family_msg *fm, const char *kind, const char *code, ...)
{
	const struct handler_note n = {.family_id = fm->family.id, .direction = "in", .channel_kind = fm->channel.kind,
				       .kind = kind, .member_id = fm->member.id, .code = code};
	va_list ap;
	int rc;

	va_start(ap, code);
	rc = vnote(h, &n, ap);
	va_end(ap);
	/* Any word from the family answers the last check-in. */
	return rc != 0 ? rc : store_checkin_answered(h->store, fm->family.id, h->now);
}

/* What follows a sent message, by its kind: each handler that owns the
 * kind says what, so that this file calls nobody back. The row itself
 * keeps no words once sent (the outbox_scrub trigger of the schema): a
 * forward keeps what a reply needs, a reply and a pairing number nothing. */
static const struct {
	const char *kind;
	int (*fn)(struct hctx *h, const struct outbox_msg *m);
} after_sent[] = {
	{"relay_reply", staff_reply_sent},
	{"checkin", checkins_after_sent},
	{"reminder", appointments_reminder_sent},
	{"document_reminder", documents_reminder_sent},
};

int handler_after_sent(struct hctx *h, const struct outbox_msg *m)
{
	if (m->family_id == 0)
		return 0;
	for (size_t i = 0; i < CB_ARRAY_SIZE(after_sent); i++)
		if (strcmp(m->kind, after_sent[i].kind) == 0)
			return after_sent[i].fn(h, m);
	return 0;
}

int handler_vparams(char **out, va_list ap)
{
	cJSON *o = cJSON_CreateObject();
	const char *name;
	int rc = 0;

	*out = NULL;
	if (o == NULL)
		return -CB_ENOMEM;
	while (rc == 0 && (name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		if (cJSON_AddStringToObject(o, name, value != NULL ? value : "") == NULL)
			rc = -CB_ENOMEM;
	}
	if (rc == 0 && (*out = cJSON_PrintUnformatted(o)) == NULL)
		rc = -CB_ENOMEM;
	cJSON_Delete(o);
	return rc;
}

int handler_params(char **out, ...)
{
	va_list ap;
	int rc;

	va_start(ap, out);
	rc = handler_vparams(out, ap);
	va_end(ap);
	return rc;
}

enum lang handler_reader_lang(struct store *st, const struct family *f, int64_t member_id, struct member *mem)
{
	struct member own;

	if (mem == NULL)
		mem = &own;
	memset(mem, 0, sizeof(*mem));
	if (member_id != 0 && store_member_get_id(st, member_id, mem) != 0)
		memset(mem, 0, sizeof(*mem));
	return mem->has_lang ? mem->lang : f->lang;
}

int handler_family_msg(struct hctx *h, const struct channel *ch, struct family_msg *fm)
{
	int rc;

	fm->channel = *ch;
	memset(&fm->member, 0, sizeof(fm->member));
	if ((rc = store_family_get_id(h->store, ch->family_id, &fm->family)) != 0)
		return rc;
	fm->lang = handler_reader_lang(h->store, &fm->family, ch->member_id, &fm->member);
	return 0;
}
