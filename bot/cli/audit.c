/* casebot audit: the audit trail, read by whoever runs the CLI. The read
 * is itself a row of the trail. */
#include <string.h>

#include "bot/cli/cli.h"
#include "bot/tz.h"

static int print_row(const void *rec, void *arg)
{
	const struct audit_row *a = rec;
	struct cli *c = arg;
	char when[32], chat[24] = "-", object[24] = "-";

	tz_format_iso(a->at, when, sizeof(when));
	if (a->channel_id != 0)
		snprintf(chat, sizeof(chat), "#%lld", (long long)a->channel_id);
	if (a->object_id != 0)
		snprintf(object, sizeof(object), "#%lld", (long long)a->object_id);
	fprintf(c->out, "%-17s %-20s %-22s %-12s %-14s %-6s %-7s %s\n", when, a->actor, a->action,
		a->family_ref[0] != '\0' ? a->family_ref : "-", a->staff[0] != '\0' ? a->staff : "-", chat,
		object, a->detail);
	return 0;
}

static int cmd_audit(struct cli *c, int argc, char **argv)
{
	const char *family = NULL, *staff = NULL, *since = NULL;
	const struct cli_arg args[] = {
		{"family", &family, NULL},
		{"staff", &staff, NULL},
		{"since", &since, NULL},
		{0},
	};
	struct staff s = {0};
	time_t from = 0;
	int rc, y, mon, day;

	if ((rc = cli_parse(c, argc, argv, args, 0, "")) != CLI_OK)
		return rc;
	if (since != NULL && (tz_parse_date(since, &y, &mon, &day) != 0 ||
			      tz_make_local(y, mon, day, 0, 0, &from) != 0))
		return cli_usage_error(c, "--since \"%s\" is not a date (expected YYYY-MM-DD)", since);
	if (family != NULL && (rc = cli_check_text(c, "--family", family, STORE_NAME_MAX)) != CLI_OK)
		return rc;
	if ((rc = cli_open_store(c)) != CLI_OK || (staff != NULL && (rc = cli_staff(c, staff, &s)) != CLI_OK))
		return rc;
	/* An erased family is still in the trail by its reference: REF need
	 * not name a family that exists. The read is written before it is
	 * shown, with what it asked for. */
	{
		const struct audit_entry e = {c->actor, "audit.read", family, since, s.id, 0, 0};

		rc = store_audit_add(c->store, c->now, &e);
		if (rc == -CB_EINVAL)
			return cli_usage_error(c, "--family \"%s\" is not a case reference", family);
		if (rc != 0)
			return cli_fail(c, "%s", store_errmsg(c->store));
	}
	fprintf(c->out, "%-17s %-20s %-22s %-12s %-14s %-6s %-7s %s\n", "TIME", "ACTOR", "ACTION", "FAMILY", "STAFF",
		"CHAT", "OBJECT", "DETAIL");
	if (store_audit_each(c->store, family, s.id, from, print_row, c) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

const struct cli_command cli_audit_commands[] = {
	{"audit", NULL, cmd_audit, "[--family REF] [--staff NAME] [--since YYYY-MM-DD]",
	 "Show the audit trail: who read or changed what, and which chat (the read is audited)."},
	{0},
};
