/* What happens to a family's chat: a text, a button, a file, an edit, a
 * chat that blocked the bot or allowed it again. The router picks this
 * handler for a known family's chat; the work is done here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/buttons.h"
#include "bot/event.h"
#include "bot/event_json.h"
#include "handlers/handler.h"

static int family_text(struct hctx *h, struct family_msg *fm, const struct arrival *what)
{
	char *folded = malloc(EVENT_TEXT_MAX);
	int rc, handled = 0;

	if (folded == NULL)
		return -CB_ENOMEM;
	if (words_fold(fm->ev->text, folded, EVENT_TEXT_MAX) != 0)
		folded[0] = '\0';
	/* Urgent words win over everything, wherever they stand. */
	if (urgent_is(h->loc, folded))
		rc = urgent_handle(h, fm);
	else if ((rc = preferences_command(h, fm, folded, &handled)) == 0 && !handled &&
		 (rc = questions_answer(h, fm, folded, what, &handled)) == 0 && !handled) {
		if ((rc = handler_log_in(h, fm, "text", what->code, what->name, what->value, NULL)) == 0)
			rc = relay_forward(h, fm);
	}
	free(folded);
	return rc;
}

/* The caption of a photo or file the fetcher will pass on later: its words
 * go now, as a text of their own (urgent words included). */
static int caption(struct hctx *h, struct family_msg *fm)
{
	struct inbound_event *text = malloc(sizeof(*text));
	struct family_msg fc = *fm;
	struct arrival what;
	int rc;

	if (text == NULL)
		return -CB_ENOMEM;
	*text = *fm->ev;
	text->kind = EVENT_TEXT;
	text->media_kind[0] = text->media_ref[0] = text->media_mime[0] = '\0';
	fc.ev = text;
	relay_describe(text, &what);
	rc = family_text(h, &fc, &what);
	free(text);
	return rc;
}

struct reachable {
	int64_t except;
	int others;
};

static int count_reachable(const void *rec, void *arg)
{
	const struct channel *ch = rec;
	struct reachable *r = arg;

	if (ch->id != r->except && !ch->blocked)
		r->others++;
	return 0;
}

/* One chat of a household blocked the bot: the alert names whose chat it
 * is, and says whether the rest of the household can still be reached. */
static int blocked(struct hctx *h, struct family_msg *fm)
{
	struct reachable r = {fm->channel.id, 0};
	const char *reach;
	int rc;

	if ((rc = store_channel_set_blocked(h->store, fm->channel.id, 1)) != 0 ||
	    (rc = store_channel_each_family(h->store, fm->family.id, count_reachable, &r)) != 0)
		return rc;
	/* The member is named; whether the rest of the household can still
	 * be reached is log.reach.others or log.reach.none. */
	reach = r.others > 0 ? "others" : "none";
	if (fm->member.id != 0) {
		rc = handler_note(h, &(struct handler_note){.family_id = fm->family.id, .direction = "internal",
							      .channel_kind = fm->channel.kind, .kind = "blocked",
							      .member_id = fm->member.id, .code = "blocked_member"},
				  "member", fm->member.name, "reach", reach, NULL);
		return rc != 0 ? rc : handler_alert(h, fm->family.id, "blocked", 0, NULL, "blocked_member", "member",
						     fm->member.name, "reach", reach, NULL);
	}
	if ((rc = handler_note(h, &(struct handler_note){.family_id = fm->family.id, .direction = "internal",
							   .channel_kind = fm->channel.kind, .kind = "blocked",
							   .code = "blocked"},
			       "reach", reach, NULL)) != 0)
		return rc;
	return handler_alert(h, fm->family.id, "blocked", 0, NULL, "blocked", "reach", reach, NULL);
}

/* An edit is a new version of words the counsellor already has: it reaches
 * staff marked as an edit, and never runs a command or answers a question
 * (the first version did that, if it was one). Urgent words still alert. */
static int family_edit(struct hctx *h, struct family_msg *fm, const struct arrival *what)
{
	char *folded;
	int rc;

	if (fm->ev->kind != EVENT_TEXT && fm->ev->kind != EVENT_MEDIA)
		return handler_log_in(h, fm, "edited", what->code, what->name, what->value, NULL);
	if ((folded = malloc(EVENT_TEXT_MAX)) == NULL)
		return -CB_ENOMEM;
	if (words_fold(fm->ev->text, folded, EVENT_TEXT_MAX) != 0)
		folded[0] = '\0';
	if (urgent_is(h->loc, folded))
		rc = urgent_handle(h, fm);
	else if ((rc = handler_log_in(h, fm, "edited", what->code, what->name, what->value, NULL)) == 0)
		rc = relay_forward(h, fm);
	free(folded);
	return rc;
}

/* A button: Details shows a message again and answers no question; any
 * other answers what its data names. */
static int family_button(struct hctx *h, struct family_msg *fm)
{
	const char *data = fm->ev->button_data;
	long long id;
	int zero, handled = 0, rc;

	if (sscanf(data, BUTTON_DETAILS, &id, &zero) == 2) {
		if ((rc = details_show(h, fm, (int64_t)id)) != -CB_ENOENT)
			return rc;
	} else if ((rc = questions_button(h, fm, data, &handled)) != 0 || handled) {
		return rc;
	}
	/* A stale or unknown button: logged, nothing else. */
	return handler_log_in(h, fm, "button", "button_stale", NULL);
}

int family_event(struct hctx *h, struct family_msg *fm)
{
	const struct inbound_event *ev = fm->ev;
	struct arrival what;
	int rc;

	relay_describe(ev, &what);
	if (ev->edited)
		return family_edit(h, fm, &what);
	switch (ev->kind) {
	case EVENT_BLOCKED:
		return blocked(h, fm);
	case EVENT_UNBLOCKED:
		if ((rc = store_channel_set_blocked(h->store, fm->channel.id, 0)) != 0)
			return rc;
		return handler_note(h, &(struct handler_note){.family_id = fm->family.id, .direction = "internal",
							       .channel_kind = fm->channel.kind, .kind = "unblocked",
							       .member_id = fm->member.id, .code = "unblocked"},
				    NULL);
	case EVENT_BUTTON:
		return family_button(h, fm);
	case EVENT_MEDIA:
		/* Photos and files are fetched after this commit; the download
		 * row keeps the gateway's reference until then. */
		if (strcmp(ev->media_kind, "photo") == 0 || strcmp(ev->media_kind, "document") == 0) {
			struct download dl;

			memset(&dl, 0, sizeof(dl));
			dl.family_id = fm->family.id;
			dl.member_id = fm->member.id;
			dl.channel_id = fm->channel.id;
			cb_strlcpy(dl.media_kind, ev->media_kind, sizeof(dl.media_kind));
			if (cb_strlcpy(dl.media_ref, ev->media_ref, sizeof(dl.media_ref)) != 0)
				return -CB_ETOOBIG;
			dl.media_size = ev->media_size;
			if ((rc = store_download_add(h->store, &dl, h->now)) != 0)
				return rc;
			return ev->text[0] != '\0' ? caption(h, fm) : 0;
		}
		/* Voice notes, videos, stickers go to the counsellor. */
		__attribute__((fallthrough));
	case EVENT_TEXT:
		return family_text(h, fm, &what);
	default:
		if ((rc = handler_log_in(h, fm, event_kind_name(ev->kind), what.code, what.name, what.value, NULL)) != 0)
			return rc;
		return relay_forward(h, fm);
	}
}

/* Urgent words from a closed file's chat still get the emergency number,
 * and its counsellor and backup still hear of it at once. */
int family_closed_urgent(struct hctx *h, struct family_msg *fm, int *urgent)
{
	char *folded;
	int rc = 0;

	*urgent = 0;
	if ((fm->ev->kind != EVENT_TEXT && fm->ev->kind != EVENT_MEDIA) || fm->ev->text[0] == '\0')
		return 0;
	if ((folded = malloc(EVENT_TEXT_MAX)) == NULL)
		return -CB_ENOMEM;
	if (words_fold(fm->ev->text, folded, EVENT_TEXT_MAX) == 0 && urgent_is(h->loc, folded)) {
		*urgent = 1;
		rc = urgent_handle(h, fm);
	}
	free(folded);
	return rc;
}
