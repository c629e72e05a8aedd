/* casebot channel: a chat's identity changes. WhatsApp tells when a family
 * member's number (or user id) changed; the new one routes nothing until
 * someone here has looked at it and confirms it. */
#include <stdio.h>
#include <string.h>

#include "bot/cli/cli.h"
#include "bot/tz.h"

struct list_ctx {
	struct cli *c;
	int n;
};

static int print_change(const void *rec, void *arg)
{
	const struct identity_change *ch = rec;
	struct list_ctx *l = arg;
	struct family f;
	struct member m;
	struct staff s;
	char when[64], who[160] = "";

	if (ch->family_id != 0 && store_family_get_id(l->c->store, ch->family_id, &f) == 0) {
		snprintf(who, sizeof(who), "%s", f.ref);
		if (ch->member_id != 0 && store_member_get_id(l->c->store, ch->member_id, &m) == 0)
			snprintf(who + strlen(who), sizeof(who) - strlen(who), " (%s)", m.name);
	} else if (ch->staff_id != 0 && store_staff_get_id(l->c->store, ch->staff_id, &s) == 0) {
		snprintf(who, sizeof(who), "staff %s", s.name);
	}
	tz_format_iso(ch->created_at, when, sizeof(when));
	fprintf(l->c->out, "#%lld  %s  %s: %s -> %s  (%s, chat #%lld)\n", (long long)ch->id, who, ch->kind,
		ch->replaces[0] != '\0' ? ch->replaces : "?", ch->identity, when, (long long)ch->channel_id);
	l->n++;
	return 0;
}

/* What waits, with the numbers: staff need them to call the family and
 * check. The read is audited. */
static int cmd_changes(struct cli *c, int argc, char **argv)
{
	struct list_ctx l = {c, 0};
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 0, "")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK)
		return rc;
	if (cli_audit(c, "channel.changes", NULL, NULL) != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	if (store_identity_each_pending(c->store, print_change, &l) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	if (l.n == 0)
		fprintf(c->out, "no change waits for confirmation\n");
	return CLI_OK;
}

static int change(struct cli *c, int argc, char **argv, struct identity_change *ch, const char **ref)
{
	static struct family f;
	int64_t id;
	int rc;

	*ref = NULL;
	if ((rc = cli_args_only(c, argc, argv, 1, "ID")) != CLI_OK || (rc = cli_id(c, argv[optind], &id)) != CLI_OK ||
	    (rc = cli_open_store(c)) != CLI_OK)
		return rc;
	rc = store_identity_change_get(c->store, id, ch);
	if (rc == -CB_ENOENT)
		return cli_usage_error(c, "no change #%lld waits for confirmation (see casebot channel changes)",
				       (long long)id);
	if (rc != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	if (ch->family_id != 0 && store_family_get_id(c->store, ch->family_id, &f) == 0)
		*ref = f.ref;
	return CLI_OK;
}

/* The audit row names the chat and the change by id, never the number. */
static int audit(struct cli *c, const char *action, const char *ref, const struct identity_change *ch)
{
	const struct audit_entry e = {c->actor, action, ref, NULL, ch->staff_id, ch->channel_id, ch->id};

	return store_audit_add(c->store, c->now, &e) == 0 ? CLI_OK : CLI_FAIL;
}

static int cmd_confirm(struct cli *c, int argc, char **argv)
{
	struct identity_change ch;
	const char *ref;
	int rc;

	if ((rc = change(c, argc, argv, &ch, &ref)) != CLI_OK)
		return rc;
	rc = store_identity_confirm(c->store, ch.id, c->now);
	if (rc == -CB_EEXIST)
		return cli_usage_error(c, "%s is linked to another chat; unlink that one first", ch.identity);
	if (rc != 0)
		return cli_fail(c, "%s (%s)", casebot_strerror(rc), store_errmsg(c->store));
	if (audit(c, "channel.confirm", ref, &ch) != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "chat #%lld now answers to %s\n", (long long)ch.channel_id, ch.identity);
	return CLI_OK;
}

static int cmd_refuse(struct cli *c, int argc, char **argv)
{
	struct identity_change ch;
	const char *ref;
	int rc;

	if ((rc = change(c, argc, argv, &ch, &ref)) != CLI_OK)
		return rc;
	if (store_identity_refuse(c->store, ch.id) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	if (audit(c, "channel.refuse", ref, &ch) != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "change #%lld dropped; chat #%lld keeps %s\n", (long long)ch.id, (long long)ch.channel_id,
		ch.replaces);
	return CLI_OK;
}

const struct cli_command cli_channel_commands[] = {
	{"channel", "changes", cmd_changes, "", "List the number changes that wait for confirmation (audited)."},
	{"channel", "confirm", cmd_confirm, "ID",
	 "Confirm change ID: the chat answers to the new number (or user id) from now on."},
	{"channel", "refuse", cmd_refuse, "ID", "Drop change ID: the chat keeps what it had."},
	{0},
};
