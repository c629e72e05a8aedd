/* A chat's second identity. WhatsApp knows one user by a number and by a
 * business-scoped user id, and a message may carry both: the second is
 * learnt quietly when the chat has none of its type yet. A new number, or
 * a new user id, for a chat that has one already is a change, and a change
 * is never merged unseen: it waits, pending, and the counsellor is alerted
 * and confirms it at the CLI (casebot channel confirm ID). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/event.h"
#include "bot/log.h"
#include "handlers/handler.h"

static int is_number(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* The change is pending; the family's counsellor hears of it once. */
static int changed(struct hctx *h, const struct channel *ch, const char *identity, const char *replaces)
{
	struct member m;
	char id_s[24];
	const char *code = is_number(identity) ? "number_changed" : "user_id_changed";
	int64_t id;
	int rc;

	rc = store_identity_pending_add(h->store, ch->id, ch->kind, identity, replaces, h->now, &id);
	if (rc == -CB_EEXIST)
		return 0;
	if (rc != 0)
		return rc;
	log_info("%s chat #%lld: a new %s waits for confirmation (change #%lld)", ch->kind, (long long)ch->id,
		 is_number(identity) ? "number" : "user id", (long long)id);
	if (ch->family_id == 0)
		return 0;
	memset(&m, 0, sizeof(m));
	if (ch->member_id != 0 && (rc = store_member_get_id(h->store, ch->member_id, &m)) != 0)
		return rc;
	snprintf(id_s, sizeof(id_s), "%lld", (long long)id);
	rc = handler_note(h, &(struct handler_note){.family_id = ch->family_id, .direction = "internal",
						      .channel_kind = ch->kind, .kind = "identity",
						      .member_id = ch->member_id, .code = code},
			  "member", m.name, "id", id_s, NULL);
	if (rc != 0)
		return rc;
	return handler_alert(h, ch->family_id, "identity_changed", 0, NULL, code, "member", m.name, "id", id_s, NULL);
}

/* One identity this message came with. */
static int note(struct hctx *h, const struct channel *ch, const char *ident)
{
	char same[IDENTITY_MAX];
	int rc;

	if (ident[0] == '\0' || strcmp(ident, ch->address) == 0)
		return 0;
	rc = store_identity_of_type(h->store, ch->id, is_number(ident), same, sizeof(same));
	if (rc == 0)
		return strcmp(same, ident) == 0 ? 0 : changed(h, ch, ident, same);
	if (rc != -CB_ENOENT)
		return rc;
	rc = store_identity_add(h->store, ch->id, ch->kind, ident, h->now);
	/* Known as another chat's: two chats, and nothing to merge here. */
	return rc == -CB_EEXIST ? 0 : rc;
}

int identity_note(struct hctx *h, const struct channel *ch, const struct inbound_event *ev)
{
	char same[IDENTITY_MAX];
	int rc;

	if (ev->kind != EVENT_IDENTITY) {
		if ((rc = note(h, ch, ev->sender)) != 0)
			return rc;
		return note(h, ch, ev->sender_alt);
	}
	/* WhatsApp says so: the new one replaces the chat's identity of the
	 * same type, or else the one the notice came from. */
	if (ev->sender_alt[0] == '\0' || strcmp(ev->sender_alt, ch->address) == 0)
		return 0;
	rc = store_identity_of_type(h->store, ch->id, is_number(ev->sender_alt), same, sizeof(same));
	if (rc != 0 && rc != -CB_ENOENT)
		return rc;
	if (rc == 0 && strcmp(same, ev->sender_alt) == 0)
		return 0;
	return changed(h, ch, ev->sender_alt, rc == 0 ? same : ev->sender);
}
