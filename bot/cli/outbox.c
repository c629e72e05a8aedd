/* casebot outbox REF: what casebot will send a family, as they will read it. */
#include <string.h>

#include "bot/cli/cli.h"
#include "bot/compose.h"
#include "bot/tz.h"

struct show_ctx {
	struct cli *c;
	const struct family *f;
	int all;
	int failed;
};

static int show_row(const void *rec, void *arg)
{
	const struct outbox_msg *m = rec;
	struct show_ctx *s = arg;
	struct composed msg;
	enum lang l;
	char when[32];
	FILE *out = s->c->out;

	if (!s->all && strcmp(m->status, "queued") != 0)
		return 0;
	/* A member with a language of their own reads it in that one. */
	l = handler_reader_lang(s->c->store, s->f, m->member_id, NULL);
	tz_format_iso(m->not_before, when, sizeof(when));
	fprintf(out, "#%lld %s %s %s\n", (long long)m->id, when, m->kind, m->status);
	if (compose_outbox_details(s->c->store, s->c->loc, m, l, NULL, 1, &msg) != 0) {
		fprintf(out, "    (cannot be rendered)\n");
		s->failed++;
		return 0;
	}
	for (const char *p = msg.text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		int n = nl != NULL ? (int)(nl - p) : (int)strlen(p);

		fprintf(out, "    | %.*s\n", n, p);
		p += n + (nl != NULL);
	}
	for (int i = 0; i < msg.nbuttons; i++)
		fprintf(out, "    [%s]\n", msg.buttons[i].label);
	return 0;
}

static int cmd_outbox(struct cli *c, int argc, char **argv)
{
	struct show_ctx s = {c, NULL, 0, 0};
	const struct cli_arg args[] = {{"all", NULL, &s.all}, {0}};
	struct family f;
	int rc;

	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK || (rc = cli_open_locales(c)) != CLI_OK ||
	    (rc = cli_open_store(c)) != CLI_OK || (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (cli_audit(c, "outbox.read", f.ref, NULL) != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	s.f = &f;
	if (store_outbox_each_family(c->store, f.id, show_row, &s) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	if (s.failed > 0)
		return cli_fail(c, "%d message(s) cannot be rendered", s.failed);
	return CLI_OK;
}

const struct cli_command cli_outbox_commands[] = {
	{"outbox", NULL, cmd_outbox, "REF [--all]",
	 "Show the messages queued for a family, as the family will read them (audited). "
	 "--all shows sent, failed and cancelled ones too."},
	{0},
};
