/* Helpers every conversation handler uses. */
#include <cjson/cJSON.h>
#include <stdarg.h>
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
	if (params != NULL && cb_strlcpy(m.params, params, sizeof(m.params)) != 0)
		return -CB_ETOOBIG;
	m.urgent = 1;
	m.not_before = h->now;
	return store_outbox_add(h->store, &m, h->now);
}

int handler_log_in(struct hctx *h, const struct family_msg *fm, const char *kind, const char *summary)
{
	return store_contact_add(h->store, fm->family.id, h->now, "in", fm->channel.kind, kind, 0,
				 fm->member.id, summary, NULL);
}

int handler_params(char *out, size_t cap, ...)
{
	cJSON *o = cJSON_CreateObject();
	const char *name;
	va_list ap;
	int rc = 0;

	if (o == NULL)
		return -CB_ENOMEM;
	va_start(ap, cap);
	while (rc == 0 && (name = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		if (cJSON_AddStringToObject(o, name, value != NULL ? value : "") == NULL)
			rc = -CB_ENOMEM;
	}
	va_end(ap);
	if (rc == 0 && !cJSON_PrintPreallocated(o, out, (int)cap, 0))
		rc = -CB_ETOOBIG;
	cJSON_Delete(o);
	return rc;
}

int handler_family_msg(struct hctx *h, const struct channel *ch, struct family_msg *fm)
{
	int rc;

	fm->channel = *ch;
	memset(&fm->member, 0, sizeof(fm->member));
	if ((rc = store_family_get_id(h->store, ch->family_id, &fm->family)) != 0)
		return rc;
	fm->lang = fm->family.lang;
	if (ch->member_id != 0 && store_member_get_id(h->store, ch->member_id, &fm->member) == 0 &&
	    fm->member.has_lang)
		fm->lang = fm->member.lang;
	return 0;
}
