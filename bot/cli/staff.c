/* casebot staff add | list | invite | confirm | unlink | deactivate */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/cli/cli.h"
#include "bot/tz.h"

/* Audit rows about a staff member name them by id, and the chat by its
 * channel id. */
static int audit_chat(struct cli *c, const char *action, const struct staff *s, int64_t channel_id,
		      const char *detail)
{
	const struct audit_entry e = {c->actor, action, NULL, detail, s->id, channel_id, 0};

	return store_audit_add(c->store, c->now, &e) == 0 ? CLI_OK : CLI_FAIL;
}

static int cmd_staff_add(struct cli *c, int argc, char **argv)
{
	struct staff s;
	const char *role = NULL, *lang = NULL, *email = NULL;
	int rc;
	const struct cli_arg args[] = {
		{"role", &role, NULL},
		{"lang", &lang, NULL},
		{"email", &email, NULL},
		{0},
	};

	memset(&s, 0, sizeof(s));
	if ((rc = cli_parse(c, argc, argv, args, 1, "NAME")) != CLI_OK)
		return rc;
	if ((rc = cli_check_text(c, "NAME", argv[optind], sizeof(s.name))) != CLI_OK)
		return rc;
	cb_strlcpy(s.name, argv[optind], sizeof(s.name));
	if (role == NULL || (strcasecmp(role, "counsellor") != 0 && strcasecmp(role, "coordinator") != 0))
		return cli_usage_error(c, "--role must be counsellor or coordinator");
	s.role = strcasecmp(role, "coordinator") == 0 ? ROLE_COORDINATOR : ROLE_COUNSELLOR;
	if (lang == NULL || cli_lang(lang, &s.lang) != 0)
		return cli_usage_error(c, "--lang must be nl, fr, de or en");
	if (email != NULL) {
		if ((rc = cli_check_text(c, "--email", email, sizeof(s.email))) != CLI_OK)
			return rc;
		if (strchr(email, '@') == NULL || strchr(email, ' ') != NULL)
			return cli_usage_error(c, "--email \"%s\" is not an address", email);
		cb_strlcpy(s.email, email, sizeof(s.email));
	}
	if ((rc = cli_open_store(c)) != CLI_OK)
		return rc;
	if (store_begin(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	rc = store_staff_add(c->store, &s, c->now, &s.id);
	if (rc == -CB_EEXIST)
		return cli_usage_error(c, "staff member \"%s\" already exists", s.name);
	/* An email address is a channel of its own: used when the staff member
	 * has no Telegram chat linked. */
	if (rc == 0 && s.email[0] != '\0') {
		struct channel ch;

		if (store_channel_find(c->store, "email", s.email, &ch) == 0)
			return cli_usage_error(c, "the address %s belongs to someone else", s.email);
		rc = store_channel_link(c->store, 0, 0, s.id, "email", s.email, c->now, &ch);
	}
	if (rc != 0 || audit_chat(c, "staff.add", &s, 0, NULL) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "added %s %s (%s)\n", store_role_name(s.role), s.name, lang_code(s.lang));
	return CLI_OK;
}

#define STAFF_CHATS_MAX 32

/* A staff member's chats, read before any of them is changed. */
struct chats {
	struct channel items[STAFF_CHATS_MAX];
	int n;
};

static int keep_chat(const void *rec, void *arg)
{
	struct chats *ch = arg;

	if (ch->n < STAFF_CHATS_MAX)
		ch->items[ch->n++] = *(const struct channel *)rec;
	return 0;
}

static int read_chats(struct cli *c, int64_t staff_id, struct chats *out)
{
	out->n = 0;
	if (store_channel_each_staff(c->store, staff_id, keep_chat, out) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

/* Chats are named by their channel id, never by the number or chat id
 * behind them. */
static int print_staff(const void *rec, void *arg)
{
	const struct staff *s = rec;
	struct cli *c = arg;
	struct chats *ch = calloc(1, sizeof(*ch));
	char list[160] = "", one[40];

	if (ch == NULL || store_channel_each_staff(c->store, s->id, keep_chat, ch) != 0) {
		free(ch);
		return -CB_ESTORE;
	}
	for (int i = 0; i < ch->n; i++) {
		if (strcmp(ch->items[i].kind, "email") == 0)
			continue;
		snprintf(one, sizeof(one), "%s#%lld%s", list[0] != '\0' ? "," : "", (long long)ch->items[i].id,
			 ch->items[i].verified ? "" : "(pending)");
		cb_strlcat(list, one, sizeof(list));
	}
	free(ch);
	fprintf(c->out, "%-24s %-12s %-4s %-8s %-20s %s\n", s->name, store_role_name(s->role),
		lang_code(s->lang), s->active ? "active" : "inactive", list[0] != '\0' ? list : "-", s->email);
	return 0;
}

static int cmd_staff_list(struct cli *c, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 0, "")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK)
		return rc;
	fprintf(c->out, "%-24s %-12s %-4s %-8s %-20s %s\n", "NAME", "ROLE", "LANG", "STATUS", "CHATS", "EMAIL");
	if (store_staff_each(c->store, print_staff, c) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

/* Unlinks the chats of s that pick selects, each with its audit row. */
static int unlink_chats(struct cli *c, const struct staff *s, const struct chats *ch,
			int (*pick)(const struct channel *, int64_t), int64_t arg, int *count)
{
	*count = 0;
	for (int i = 0; i < ch->n; i++) {
		const struct channel *one = &ch->items[i];

		if (!pick(one, arg))
			continue;
		if (store_channel_unlink(c->store, one->id, c->now) != 0 ||
		    audit_chat(c, "staff.unlink", s, one->id, one->verified ? one->kind : "pending") != CLI_OK)
			return CLI_FAIL;
		(*count)++;
	}
	return CLI_OK;
}

static int pick_pending(const struct channel *ch, int64_t keep)
{
	return !ch->verified && ch->id != keep;
}

static int pick_id(const struct channel *ch, int64_t id)
{
	return ch->id == id;
}

static int pick_phone(const struct channel *ch, int64_t unused)
{
	(void)unused;
	return strcmp(ch->kind, "email") != 0;
}

static int pick_all(const struct channel *ch, int64_t unused)
{
	(void)ch;
	(void)unused;
	return 1;
}

/* The number the chat was shown, as the staff member reads it out:
 * spaces do not matter. */
static int read_number(struct cli *c, const char *in, char out[STAFF_PAIRING_DIGITS + 1])
{
	size_t n = 0;

	for (const char *p = in; *p != '\0'; p++) {
		if (*p == ' ')
			continue;
		if (!isdigit((unsigned char)*p) || n == STAFF_PAIRING_DIGITS)
			return cli_usage_error(c, "NUMBER is the %d-digit number the chat shows", STAFF_PAIRING_DIGITS);
		out[n++] = *p;
	}
	out[n] = '\0';
	if (n != STAFF_PAIRING_DIGITS)
		return cli_usage_error(c, "NUMBER is the %d-digit number the chat shows", STAFF_PAIRING_DIGITS);
	return CLI_OK;
}

/* The chat that redeemed the staff member's code becomes theirs only when
 * the number it shows is entered here; any other chat waiting on one of
 * their codes is dropped. */
static int cmd_staff_confirm(struct cli *c, int argc, char **argv)
{
	char number[STAFF_PAIRING_DIGITS + 1];
	struct chats *ch = NULL;
	struct staff s;
	struct hctx h;
	int64_t chat = 0;
	int rc, left = 0, dropped = 0;

	if ((rc = cli_args_only(c, argc, argv, 2, "NAME NUMBER")) != CLI_OK ||
	    (rc = read_number(c, argv[optind + 1], number)) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_staff(c, argv[optind], &s)) != CLI_OK)
		return rc;
	if (!s.active)
		return cli_usage_error(c, "staff member \"%s\" is not active", s.name);
	if (store_begin(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	rc = store_pairing_confirm(c->store, s.id, number, c->now, &chat, &left);
	if (rc == -CB_ENOENT)
		return cli_usage_error(c, "no chat of %s is waiting for a number (make a new invite)", s.name);
	if (rc == -CB_EINVAL) {
		/* The try is spent even though the command is refused. */
		if (audit_chat(c, "staff.confirm_failed", &s, 0, NULL) != CLI_OK || store_commit(c->store) != 0)
			return cli_fail(c, "%s", store_errmsg(c->store));
		if (left > 0)
			return cli_usage_error(c, "wrong number for %s; %d tr%s left", s.name, left, left == 1 ? "y" : "ies");
		return cli_usage_error(c, "wrong number for %s, too many times: the waiting chat is unlinked;"
				       " make a new invite", s.name);
	}
	if (rc != 0 || (ch = calloc(1, sizeof(*ch))) == NULL)
		goto fail;
	cli_hctx(c, &h);
	if (audit_chat(c, "staff.confirm", &s, chat, NULL) != CLI_OK || read_chats(c, s.id, ch) != CLI_OK ||
	    unlink_chats(c, &s, ch, pick_pending, chat, &dropped) != CLI_OK ||
	    staff_notice(&h, s.id, 0, "staff_notice", "staff.welcome", "name", s.name, NULL) != 0 ||
	    store_commit(c->store) != 0)
		goto fail;
	free(ch);
	fprintf(c->out, "chat #%lld is now %s's: forwards and alerts go there\n", (long long)chat, s.name);
	if (dropped > 0)
		fprintf(c->out, "%d other chat(s) waiting on %s's codes were unlinked\n", dropped, s.name);
	return CLI_OK;
fail:
	free(ch);
	return cli_fail(c, "%s", store_errmsg(c->store));
}

/* A lost or replaced phone: its chat stops being the staff member's at
 * once (queued messages wait for their next chat). */
static int cmd_staff_unlink(struct cli *c, int argc, char **argv)
{
	const char *chat = NULL;
	const struct cli_arg args[] = {
		{"chat", &chat, NULL},
		{0},
	};
	struct chats *ch = NULL;
	struct staff s;
	int64_t id = 0;
	int rc, n = 0;

	if ((rc = cli_parse(c, argc, argv, args, 1, "NAME")) != CLI_OK ||
	    (chat != NULL && (rc = cli_id(c, chat, &id)) != CLI_OK) || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_staff(c, argv[optind], &s)) != CLI_OK)
		return rc;
	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return cli_fail(c, "out of memory");
	if ((rc = read_chats(c, s.id, ch)) != CLI_OK)
		goto out;
	if (store_begin(c->store) != 0 ||
	    unlink_chats(c, &s, ch, id != 0 ? pick_id : pick_phone, id, &n) != CLI_OK) {
		rc = cli_fail(c, "%s", store_errmsg(c->store));
		goto out;
	}
	if (n == 0) {
		rc = id != 0 ? cli_usage_error(c, "%s has no chat #%lld (see casebot staff list)", s.name, (long long)id) :
			       cli_usage_error(c, "%s has no linked chat", s.name);
		goto out;
	}
	if (store_commit(c->store) != 0) {
		rc = cli_fail(c, "%s", store_errmsg(c->store));
		goto out;
	}
	fprintf(c->out, "unlinked %d chat(s) of %s\n", n, s.name);
out:
	free(ch);
	return rc;
}

static int count_followed(const void *rec, void *arg)
{
	const struct family *f = rec;
	int64_t *ctx = arg;   /* [0] staff id, [1] count */

	if (f->counsellor_id == ctx[0] && strcmp(f->status, "closed") != 0)
		ctx[1]++;
	return 0;
}

/* Someone who left: no chat, no code, no reach. Their families show as
 * unassigned until they get a counsellor again. */
static int cmd_staff_deactivate(struct cli *c, int argc, char **argv)
{
	struct chats *ch = NULL;
	struct staff s;
	int64_t followed[2] = {0, 0};
	int rc, n = 0;

	if ((rc = cli_args_only(c, argc, argv, 1, "NAME")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_staff(c, argv[optind], &s)) != CLI_OK)
		return rc;
	if (!s.active)
		return cli_usage_error(c, "staff member \"%s\" is not active", s.name);
	if ((ch = calloc(1, sizeof(*ch))) == NULL)
		return cli_fail(c, "out of memory");
	followed[0] = s.id;
	if ((rc = read_chats(c, s.id, ch)) != CLI_OK)
		goto out;
	if (store_begin(c->store) != 0 || store_staff_deactivate(c->store, s.id) != 0 ||
	    unlink_chats(c, &s, ch, pick_all, 0, &n) != CLI_OK || store_invite_kill(c->store, 0, s.id) != 0 ||
	    audit_chat(c, "staff.deactivate", &s, 0, NULL) != CLI_OK ||
	    store_family_each(c->store, count_followed, followed) != 0 || store_commit(c->store) != 0) {
		rc = cli_fail(c, "%s", store_errmsg(c->store));
		goto out;
	}
	fprintf(c->out, "deactivated %s; %d chat(s) unlinked\n", s.name, n);
	if (followed[1] > 0)
		fprintf(c->out, "%lld famil%s now without an active counsellor (casebot family set REF --counsellor NAME)\n",
			(long long)followed[1], followed[1] == 1 ? "y is" : "ies are");
out:
	free(ch);
	return rc;
}

static int cmd_staff_invite(struct cli *c, int argc, char **argv)
{
	char code[INVITE_CODE_LEN + 1], expires[32];
	struct staff s;
	time_t until;
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 1, "NAME")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_staff(c, argv[optind], &s)) != CLI_OK)
		return rc;
	if (!s.active)
		return cli_usage_error(c, "staff member \"%s\" is not active", s.name);
	until = c->now + (time_t)c->cfg.invite_valid_days * 86400;
	if (store_begin(c->store) != 0 || store_invite_create(c->store, 0, 0, s.id, c->now, until, code) != 0 ||
	    audit_chat(c, "staff.invite", &s, 0, NULL) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	tz_format_iso(until, expires, sizeof(expires));
	fprintf(c->out, "code: %s\nlink: https://t.me/%s?start=%s\nvalid until %s; it works once.\n"
		"Send it from your own Telegram: that chat then shows a %d-digit number. It gets your\n"
		"forwards and alerts once that number is entered here: casebot staff confirm %s NUMBER\n",
		code, c->cfg.gw.telegram.bot_username, code, expires, STAFF_PAIRING_DIGITS, s.name);
	return CLI_OK;
}

const struct cli_command cli_staff_commands[] = {
	{"staff", "add", cmd_staff_add, "NAME --role counsellor|coordinator --lang nl|fr|de|en [--email E]",
	 "Add a counsellor or a coordinator."},
	{"staff", "list", cmd_staff_list, "", "List staff members."},
	{"staff", "invite", cmd_staff_invite, "NAME",
	 "Print a one-time code that links a staff member's own Telegram chat (once confirmed)."},
	{"staff", "confirm", cmd_staff_confirm, "NAME NUMBER",
	 "Activate the chat that shows this pairing number after redeeming NAME's code."},
	{"staff", "unlink", cmd_staff_unlink, "NAME [--chat ID]",
	 "Unlink a staff member's phone chats (or only chat ID, from staff list): a lost phone."},
	{"staff", "deactivate", cmd_staff_deactivate, "NAME",
	 "A staff member who left: chats unlinked, codes dead, families shown as unassigned."},
	{0},
};
