/* Urgent messages: police, arrest, detention, deportation, an order to
 * leave... (the words live in the catalogs, words.urgent and
 * words.urgent_not, in four languages, as stems and phrases:
 * locales/patterns.h). The counsellor and the backup are alerted at once, day or
 * night, and the family gets a calm answer with the emergency number. A
 * false alarm costs a phone call; a missed one can cost a family. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/event.h"
#include "handlers/handler.h"
#include "locales/locale.h"

int urgent_is(const struct locales *loc, const char *folded)
{
	/* Out of memory counts as urgent: a false alarm is the cheaper
	 * mistake. */
	return locale_urgent(loc, folded) != 0;
}

int urgent_handle(struct hctx *h, const struct family_msg *fm)
{
	struct forward fw = {fm->channel.id, fm->member.id, fm->ev->text, NULL, NULL, 0};
	char bytes[24], *params = NULL;
	int rc;

	if (fm->ev->edited)
		fw.edit_of = fm->ev->original_at > 0 ? fm->ev->original_at : 1;
	snprintf(bytes, sizeof(bytes), "%zu", strlen(fm->ev->text));
	if ((rc = handler_log_in(h, fm, "urgent", "urgent", "bytes", bytes, NULL)) != 0 ||
	    (rc = handler_alert(h, fm->family.id, "urgent", 1, &fw, "urgent", "bytes", bytes, NULL)) != 0)
		return rc;
	if ((rc = handler_params(&params, "emergency", h->cfg->emergency_number, NULL)) != 0)
		return rc;
	rc = handler_reply(h, fm, "urgent_ack", "urgent.ack", params);
	free(params);
	return rc;
}
