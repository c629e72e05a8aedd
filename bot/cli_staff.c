/* casebot staff add | list */
#include <string.h>
#include <strings.h>

#include "bot/cli.h"
#include "bot/tz.h"

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
	if (rc != 0 || cli_audit(c, "staff.add", NULL, s.name) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "added %s %s (%s)\n", store_role_name(s.role), s.name, lang_code(s.lang));
	return CLI_OK;
}

static int print_staff(const void *rec, void *arg)
{
	const struct staff *s = rec;
	struct cli *c = arg;

	fprintf(c->out, "%-24s %-12s %-4s %-6s %s\n", s->name, store_role_name(s->role),
		lang_code(s->lang), s->active ? "active" : "left", s->email);
	return 0;
}

static int cmd_staff_list(struct cli *c, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 0, "")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK)
		return rc;
	fprintf(c->out, "%-24s %-12s %-4s %-6s %s\n", "NAME", "ROLE", "LANG", "STATUS", "EMAIL");
	if (store_staff_each(c->store, print_staff, c) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
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
	    cli_audit(c, "staff.invite", NULL, s.name) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	tz_format_iso(until, expires, sizeof(expires));
	fprintf(c->out, "code: %s\nlink: https://t.me/%s?start=%s\nvalid until %s; it works once.\n"
		"Send it from your own Telegram: that chat then gets your forwards and alerts.\n",
		code, c->cfg.telegram_bot_username, code, expires);
	return CLI_OK;
}

const struct cli_command cli_staff_commands[] = {
	{"staff", "add", cmd_staff_add, "NAME --role counsellor|coordinator --lang nl|fr|de|en [--email E]",
	 "Add a counsellor or a coordinator."},
	{"staff", "list", cmd_staff_list, "", "List staff members."},
	{"staff", "invite", cmd_staff_invite, "NAME",
	 "Print a one-time code that links a staff member's own Telegram chat."},
	{0},
};
