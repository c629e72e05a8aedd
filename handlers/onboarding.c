/* A chat casebot does not know: an invite code links it; anything else gets
 * the same neutral answer, which says nothing about who is known. */
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

int onboarding_handle(struct hctx *h, const struct inbound_event *ev, struct handler_direct *direct)
{
	struct family_msg fm;
	struct staff counsellor;
	char code[32], *params = NULL;
	int rc, tries = 0;

	memset(direct, 0, sizeof(*direct));
	if (ev->kind != EVENT_TEXT || extract_code(ev->text, code, sizeof(code)) != 0) {
		if (ev->kind != EVENT_BLOCKED && ev->kind != EVENT_UNBLOCKED)
			neutral(h, direct);
		return 0;
	}
	/* Guessing is slowed down: past a few tries an hour, a chat's codes
	 * are not even looked at, and it gets the same answer as any wrong one. */
	if ((rc = store_inbound_count_since(h->store, ev->channel, ev->sender, h->now - 3600, &tries)) != 0)
		return rc;
	if (tries > ONBOARDING_TRIES_PER_HOUR) {
		neutral(h, direct);
		return 0;
	}
	memset(&fm, 0, sizeof(fm));
	fm.ev = ev;
	rc = store_invite_redeem(h->store, code, ev->channel, ev->sender, h->now, &fm.channel);
	if (rc == -CB_ENOENT) {
		neutral(h, direct);
		return 0;
	}
	if (rc != 0)
		return rc;
	if (fm.channel.staff_id != 0) {
		struct staff s;

		if ((rc = store_staff_get_id(h->store, fm.channel.staff_id, &s)) != 0 ||
		    (rc = store_audit(h->store, h->now, "bot", "staff.link", NULL, s.name)) != 0)
			return rc;
		return staff_notice(h, s.id, "staff_notice", "staff.welcome", "name", s.name, NULL);
	}
	if ((rc = store_family_get_id(h->store, fm.channel.family_id, &fm.family)) != 0)
		return rc;
	fm.lang = fm.family.lang;
	if (fm.channel.member_id != 0 &&
	    store_member_get_id(h->store, fm.channel.member_id, &fm.member) == 0 && fm.member.has_lang)
		fm.lang = fm.member.lang;
	if ((rc = store_staff_get_id(h->store, fm.family.counsellor_id, &counsellor)) != 0)
		return rc;
	if ((rc = handler_log_in(h, &fm, "onboarding", "chat linked with an invite code")) != 0 ||
	    (rc = store_audit(h->store, h->now, "bot", "channel.link", fm.family.ref, ev->channel)) != 0)
		return rc;
	if ((rc = handler_params(&params, "counsellor", counsellor.name, NULL)) != 0)
		return rc;
	rc = handler_reply(h, &fm, "welcome", "welcome", params);
	free(params);
	return rc;
}
