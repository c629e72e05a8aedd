/* A chat casebot does not know: an invite code links it; anything else gets
 * the same neutral answer, which says nothing about who is known. A staff
 * chat stays pending until its pairing number is confirmed at the CLI. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/event.h"
#include "handlers/handler.h"
#include "locales/locale.h"

#define ONBOARDING_TRIES_PER_HOUR 5

/* "/start CODE", or the code typed on its own (dashes and spaces allowed). */
static int extract_code(const char *text, char *code, size_t cap)
{
	size_t n = 0;

	if (strncmp(text, "/start", 6) == 0)
		text += 6;
	for (; *text != '\0'; text++) {
		if (*text == ' ' || *text == '-' || *text == '\n')
			continue;
		if (!isalnum((unsigned char)*text) || n + 1 >= cap)
			return -CB_EINVAL;
		code[n++] = *text;
	}
	code[n] = '\0';
	return n == INVITE_CODE_LEN ? 0 : -CB_EINVAL;
}

/* The neutral answer in the four languages, one line each. */
static void neutral(struct hctx *h, struct handler_direct *direct)
{
	static const enum lang order[] = {LANG_NL, LANG_FR, LANG_DE, LANG_EN};

	direct->text[0] = '\0';
	for (size_t i = 0; i < CB_ARRAY_SIZE(order); i++) {
		const char *t = locale_text(h->loc, order[i], "unknown.neutral");

		if (t == NULL)
			continue;
		if (direct->text[0] != '\0')
			cb_strlcat(direct->text, "\n", sizeof(direct->text));
		cb_strlcat(direct->text, t, sizeof(direct->text));
	}
	direct->send = direct->text[0] != '\0';
}

/* A staff member's code links the chat pending: it is shown a pairing
 * number, and gets nothing else until someone at the CLI enters that
 * number (casebot staff confirm). Whoever saw the code cannot become the
 * counsellor on their own. */
static int staff_pending(struct hctx *h, const struct channel *ch, const char *number)
{
	const struct audit_entry e = {"bot", "staff.link", NULL, "pending", ch->staff_id, ch->id, 0};
	struct outbox_msg m;
	char *params = NULL;
	int rc;

	if ((rc = store_audit_add(h->store, h->now, &e)) != 0)
		return rc;
	memset(&m, 0, sizeof(m));
	m.staff_id = ch->staff_id;
	m.channel_id = ch->id;
	cb_strlcpy(m.kind, "staff_pairing", sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "staff.pairing", sizeof(m.catalog_key));
	if ((rc = handler_params(&params, "number", number, NULL)) != 0)
		return rc;
	m.params = params;
	m.urgent = 1;
	m.not_before = h->now;
	m.expires_at = h->now + STAFF_PAIRING_TTL;
	rc = store_outbox_add(h->store, &m, h->now);
	free(params);
	return rc;
}

/* quiet: a pending staff chat, which gets no answer to anything but a
 * good code. */
static int onboard(struct hctx *h, const struct inbound_event *ev, struct handler_direct *direct, int quiet)
{
	struct family_msg fm;
	struct staff counsellor;
	char code[32], *params = NULL, number[STAFF_PAIRING_DIGITS + 1];
	int rc, tries = 0;

	memset(direct, 0, sizeof(*direct));
	if (ev->kind != EVENT_TEXT || extract_code(ev->text, code, sizeof(code)) != 0) {
		if (ev->kind != EVENT_BLOCKED && ev->kind != EVENT_UNBLOCKED && !quiet)
			neutral(h, direct);
		return 0;
	}
	/* Guessing is slowed down: past a few tries an hour, a chat's codes
	 * are not even looked at, and it gets the same answer as any wrong one. */
	if ((rc = store_inbound_count_since(h->store, ev->channel, ev->sender, h->now - 3600, &tries)) != 0)
		return rc;
	if (tries > ONBOARDING_TRIES_PER_HOUR) {
		if (!quiet)
			neutral(h, direct);
		return 0;
	}
	memset(&fm, 0, sizeof(fm));
	fm.ev = ev;
	rc = store_invite_redeem(h->store, code, ev->channel, ev->sender, h->now, &fm.channel, number);
	if (rc == -CB_ENOENT) {
		if (!quiet)
			neutral(h, direct);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (fm.channel.staff_id != 0)
		return staff_pending(h, &fm.channel, number);
	if ((rc = store_family_get_id(h->store, fm.channel.family_id, &fm.family)) != 0)
		return rc;
	fm.lang = handler_reader_lang(h->store, &fm.family, fm.channel.member_id, &fm.member);
	if ((rc = store_staff_get_id(h->store, fm.family.counsellor_id, &counsellor)) != 0)
		return rc;
	{
		const struct audit_entry e = {"bot", "channel.link", fm.family.ref, ev->channel, 0, fm.channel.id, 0};

		if ((rc = handler_log_in(h, &fm, "onboarding", "onboarding", NULL)) != 0 ||
		    (rc = store_audit_add(h->store, h->now, &e)) != 0)
			return rc;
	}
	if ((rc = handler_params(&params, "counsellor", counsellor.name, NULL)) != 0)
		return rc;
	/* A text costs, and its reader may not know it can say no. */
	rc = handler_reply(h, &fm, "welcome", strcmp(ev->channel, "sms") == 0 ? "welcome.sms" : "welcome", params);
	free(params);
	return rc;
}

int onboarding_handle(struct hctx *h, const struct inbound_event *ev, struct handler_direct *direct)
{
	return onboard(h, ev, direct, 0);
}

int onboarding_pending(struct hctx *h, const struct inbound_event *ev, const struct channel *ch,
		       struct handler_direct *direct)
{
	time_t until = 0;
	int rc = store_pairing_expires(h->store, ch->id, &until);

	if (rc != 0 && rc != -CB_ENOENT)
		return rc;
	/* Once its time has run out, a pending chat is a stranger again. */
	if (rc == -CB_ENOENT || until <= h->now) {
		if ((rc = store_channel_unlink(h->store, ch->id, h->now)) != 0)
			return rc;
		return onboard(h, ev, direct, 0);
	}
	return onboard(h, ev, direct, 1);
}

int onboarding_neutral(struct hctx *h, const struct inbound_event *ev, struct handler_direct *direct)
{
	memset(direct, 0, sizeof(*direct));
	if (ev->kind != EVENT_BLOCKED && ev->kind != EVENT_UNBLOCKED)
		neutral(h, direct);
	return 0;
}
