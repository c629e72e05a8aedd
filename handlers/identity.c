/* A chat's second identity. WhatsApp knows one user by a number and by a
 * business-scoped user id, and a message may carry both: the second is
 * learnt quietly when the chat has none of its type yet. A new number, or
 * a new user id, for a chat that has one already is a change, and a change
 * is never merged unseen: it waits, pending, and the counsellor is alerted
 * and confirms it at the CLI (casebot channel confirm ID). On a staff
 * chat, the coordinators are told, and the staff member on another chat. */
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

/* Who hears of a change on a staff chat: every coordinator, and the staff
 * member on another of their chats (the changed one may be a phone that
 * is gone). */
struct staff_told {
	const struct channel *changed;
	int64_t staff[32];
	int nstaff;
	int64_t other;               /* the staff member's other chat, or 0 */
};

static int add_coordinator(const void *rec, void *arg)
{
	const struct staff *s = rec;
	struct staff_told *t = arg;

	if (s->active && s->role == ROLE_COORDINATOR && s->id != t->changed->staff_id &&
	    t->nstaff < (int)CB_ARRAY_SIZE(t->staff))
		t->staff[t->nstaff++] = s->id;
	return 0;
}

static int other_chat(const void *rec, void *arg)
{
	const struct channel *c = rec;
	struct staff_told *t = arg;

	if (t->other == 0 && c->id != t->changed->id && c->verified && !c->blocked &&
	    strcmp(c->kind, t->changed->kind) != 0)
		t->other = c->id;
	return 0;
}

static int staff_told(struct hctx *h, int64_t staff_id, int64_t channel_id, const char *key, const char *params)
{
	struct outbox_msg m;

	memset(&m, 0, sizeof(m));
	m.staff_id = staff_id;
	m.channel_id = channel_id;
	m.params = params;
	m.urgent = 1;
	m.not_before = h->now;
	cb_strlcpy(m.kind, "staff_notice", sizeof(m.kind));
	cb_strlcpy(m.catalog_key, key, sizeof(m.catalog_key));
	return store_outbox_add(h->store, &m, h->now);
}

static int staff_changed(struct hctx *h, const struct channel *ch, int64_t id, int number)
{
	struct staff_told t;
	struct staff s;
	char id_s[24], *params = NULL;
	const char *key = number ? "staff.number_changed" : "staff.user_id_changed";
	int rc;

	memset(&t, 0, sizeof(t));
	t.changed = ch;
	if ((rc = store_staff_get_id(h->store, ch->staff_id, &s)) != 0)
		return rc == -CB_ENOENT ? 0 : rc;
	snprintf(id_s, sizeof(id_s), "%lld", (long long)id);
	if ((rc = handler_params(&params, "name", s.name, "id", id_s, NULL)) != 0 ||
	    (rc = store_staff_each(h->store, add_coordinator, &t)) != 0 ||
	    (rc = store_channel_each_staff(h->store, ch->staff_id, other_chat, &t)) != 0)
		goto out;
	for (int i = 0; rc == 0 && i < t.nstaff; i++)
		rc = staff_told(h, t.staff[i], 0, key, params);
	if (rc == 0 && t.other != 0)
		rc = staff_told(h, ch->staff_id, t.other, key, params);
	if (rc == 0 && t.nstaff == 0 && t.other == 0)
		log_warn("%s chat #%lld of staff #%lld: a change waits, and no coordinator or other chat can be told",
			 ch->kind, (long long)ch->id, (long long)ch->staff_id);
out:
	free(params);
	return rc;
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
		return ch->staff_id != 0 ? staff_changed(h, ch, id, is_number(identity)) : 0;
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
