/* casebot checkin set | off, casebot log */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bot/cli/cli.h"
#include "bot/tz.h"
#include "locales/locale.h"
#include "locales/note.h"

static int cmd_set(struct cli *c, int argc, char **argv)
{
	const char *every = "7d", *at = NULL;
	struct checkin_plan p;
	struct family f;
	struct hctx h;
	char next_s[128];
	time_t next;
	int rc;
	const struct cli_arg args[] = {
		{"every", &every, NULL},
		{"at", &at, NULL},
		{0},
	};

	memset(&p, 0, sizeof(p));
	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK)
		return rc;
	if (checkins_parse_every(every, &p.every_days) != 0)
		return cli_usage_error(c, "--every \"%s\": expected days like 7d (1d to 90d) or weeks like 2w", every);
	if (at == NULL || checkins_parse_at(at, &p.weekday, &p.minute_of_day) != 0)
		return cli_usage_error(c, "--at \"%s\": expected a weekday and a time, like \"mon 10:00\"",
				       at != NULL ? at : "");
	if ((rc = cli_open_store(c)) != CLI_OK || (rc = cli_open_locales(c)) != CLI_OK ||
	    (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (strcmp(f.status, "closed") == 0)
		return cli_usage_error(c, "family %s is closed", f.ref);
	p.family_id = f.id;
	cli_hctx(c, &h);
	if (store_begin(c->store) != 0 || checkins_set(&h, &p, &next) != 0 ||
	    cli_audit(c, "checkin.set", f.ref, every) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	{
		char days[16], line[512];
		const struct locale_param lp[] = {{"ref", f.ref}, {"days", days}, {"next", next_s}};

		snprintf(days, sizeof(days), "%d", p.every_days);
		if (locale_format_datetime(c->loc, c->lang, next, next_s, sizeof(next_s)) != 0 ||
		    locale_render_count(c->loc, c->lang, "staff.checkin.set", p.every_days, lp, 3, line,
					sizeof(line)) != 0)
			return cli_fail(c, "cannot render the answer");
		fprintf(c->out, "%s\n", line);
	}
	return CLI_OK;
}

static int cmd_off(struct cli *c, int argc, char **argv)
{
	struct family f;
	struct hctx h;
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 1, "REF")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	cli_hctx(c, &h);
	if (store_begin(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	rc = checkins_off(&h, f.id);
	if (rc == -CB_ESTATE)
		return cli_usage_error(c, "family %s has no check-ins to stop", f.ref);
	if (rc != 0 || cli_audit(c, "checkin.off", f.ref, NULL) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "check-ins for %s stopped\n", f.ref);
	return CLI_OK;
}

enum log_format { FMT_TEXT, FMT_CSV, FMT_JSON };

struct log_ctx {
	struct cli *c;
	enum log_format fmt;
	cJSON *array;
};

/* A CSV field, quoted; a leading = + - @ is defused so a spreadsheet never
 * runs it as a formula. */
static void csv_field(FILE *fp, const char *s, int last)
{
	fputc('"', fp);
	if (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@')
		fputc('\'', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
	fputc(last ? '\n' : ',', fp);
}

/* Text rows are for a person: the time, the chat service, who, and what
 * happened as a sentence in the reader's language. CSV and JSON keep the
 * stored codes beside that sentence, for programs. */
static int print_contact(const void *rec, void *arg)
{
	const struct contact *e = rec;
	struct log_ctx *ctx = arg;
	FILE *out = ctx->c->out;
	char when[32], summary[512];

	tz_format_iso(e->at, when, sizeof(when));
	if (note_contact(ctx->c->loc, ctx->c->lang, e, summary, sizeof(summary)) != 0)
		return -CB_EINVAL;
	if (ctx->fmt == FMT_TEXT) {
		fprintf(out, "%s  %-9s %-12s %s\n", when, e->channel_kind[0] != '\0' ? e->channel_kind : "-",
			e->staff[0] != '\0' ? e->staff : (e->member[0] != '\0' ? e->member : "-"), summary);
	} else if (ctx->fmt == FMT_CSV) {
		const char *fields[] = {when, e->direction, e->channel_kind, e->kind, e->staff,
					e->member, summary, e->status};

		for (size_t i = 0; i < CB_ARRAY_SIZE(fields); i++)
			csv_field(out, fields[i], i + 1 == CB_ARRAY_SIZE(fields));
	} else {
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(ctx->array, o))
			return -CB_ENOMEM;
		cJSON_AddNumberToObject(o, "at", (double)e->at);
		cJSON_AddStringToObject(o, "local_time", when);
		cJSON_AddStringToObject(o, "direction", e->direction);
		cJSON_AddStringToObject(o, "channel", e->channel_kind);
		cJSON_AddStringToObject(o, "kind", e->kind);
		cJSON_AddStringToObject(o, "staff", e->staff);
		cJSON_AddStringToObject(o, "member", e->member);
		cJSON_AddStringToObject(o, "summary", summary);
		cJSON_AddStringToObject(o, "code", e->code);
		cJSON_AddStringToObject(o, "status", e->status);
	}
	return 0;
}

static int cmd_log(struct cli *c, int argc, char **argv)
{
	struct log_ctx ctx = {c, FMT_TEXT, NULL};
	const char *since = NULL, *format = "text", *export = NULL;
	struct family f;
	time_t from = 0;
	int rc, y, mon, day, verify = 0;
	const struct cli_arg args[] = {
		{"since", &since, NULL},
		{"format", &format, NULL},
		{"verify", NULL, &verify},
		{"export", &export, NULL},
		{0},
	};
	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK)
		return rc;
	if (verify || export != NULL) {
		if (verify && export != NULL)
			return cli_usage_error(c, "--verify and --export go one at a time");
		if (since != NULL)
			return cli_usage_error(c, "--since reads part of the log; a chain is checked whole");
		if ((rc = cli_open_store(c)) != CLI_OK || (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
			return rc;
		return verify ? cli_log_verify(c, &f) : cli_log_export(c, &f, export);
	}
	if (since != NULL && (rc = cli_parse_day(c, "--since", since, &y, &mon, &day)) != CLI_OK)
		return rc;
	/* A day whose midnight the clocks skip starts an hour later. */
	if (since != NULL && tz_make_local(y, mon, day, 0, 0, &from) != 0 &&
	    tz_make_local(y, mon, day, 1, 0, &from) != 0)
		return cli_usage_error(c, "--since \"%s\": that day has no midnight in %s", since, tz_name());
	if (strcasecmp(format, "text") == 0)
		ctx.fmt = FMT_TEXT;
	else if (strcasecmp(format, "csv") == 0)
		ctx.fmt = FMT_CSV;
	else if (strcasecmp(format, "json") == 0)
		ctx.fmt = FMT_JSON;
	else
		return cli_usage_error(c, "--format must be text, csv or json");
	if ((rc = cli_open_store(c)) != CLI_OK || (rc = cli_open_locales(c)) != CLI_OK ||
	    (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (cli_audit(c, "log.read", f.ref, since) != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	if (ctx.fmt == FMT_CSV)
		fprintf(c->out, "time,direction,channel,kind,staff,member,summary,status\n");
	if (ctx.fmt == FMT_JSON && (ctx.array = cJSON_CreateArray()) == NULL)
		return cli_fail(c, "out of memory");
	rc = store_contact_each(c->store, f.id, from, print_contact, &ctx);
	if (rc == 0 && ctx.fmt == FMT_JSON) {
		char *s = cJSON_PrintUnformatted(ctx.array);

		if (s == NULL)
			rc = -CB_ENOMEM;
		else
			fprintf(c->out, "%s\n", s);
		free(s);
	}
	cJSON_Delete(ctx.array);
	if (rc != 0)
		return cli_fail(c, "%s", rc == -CB_ENOMEM ? "out of memory" :
					 rc == -CB_EINVAL ? "cannot render a row" : store_errmsg(c->store));
	return CLI_OK;
}

static int print_alert(const void *rec, void *arg)
{
	const struct alert *a = rec;
	struct cli *c = arg;
	struct staff s;
	char when[32], key[64], detail[512];
	const char *kind, *acked = locale_text(c->loc, c->lang, "cli.alerts.acknowledged");

	tz_format_iso(a->created_at, when, sizeof(when));
	if (store_staff_get_id(c->store, a->staff_id, &s) != 0)
		cb_strlcpy(s.name, "-", sizeof(s.name));
	snprintf(key, sizeof(key), "staff.alert_kind.%s", a->kind);
	if ((kind = locale_text(c->loc, c->lang, key)) == NULL)
		kind = locale_text(c->loc, c->lang, "staff.alert_kind.other");
	note_alert(c->loc, c->lang, a, detail, sizeof(detail));
	fprintf(c->out, "%-5lld %-16s %-12s %-14s %s%s%s\n", (long long)a->id, when,
		a->family_ref[0] != '\0' ? a->family_ref : "-", s.name, kind != NULL ? kind : "-",
		a->acked_at != 0 || detail[0] != '\0' ? ": " : "", a->acked_at != 0 ? acked : detail);
	return 0;
}

/* The coordinators' view at a desk: open alerts across all families, in
 * the reader's language. */
static int cmd_alerts(struct cli *c, int argc, char **argv)
{
	const char *const *cols;
	int all = 0, rc;
	const struct cli_arg args[] = {{"all", NULL, &all}, {0}};

	if ((rc = cli_parse(c, argc, argv, args, 0, "")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_open_locales(c)) != CLI_OK)
		return rc;
	if (cli_audit(c, "alerts.read", NULL, all ? "all" : "open") != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	if (locale_list(c->loc, c->lang, "cli.alerts.columns", &cols) != 6)
		return cli_fail(c, "cannot render the list");
	fprintf(c->out, "%-5s %-16s %-12s %-14s %s: %s\n", cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]);
	if (store_alert_list(c->store, !all, 500, print_alert, c) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

const struct cli_command cli_checkin_commands[] = {
	{"checkin", "set", cmd_set, "REF --every 7d --at \"mon 10:00\"",
	 "Plan regular check-ins for a family (every N days or N weeks, from a weekday and time)."},
	{"checkin", "off", cmd_off, "REF", "Stop a family's check-ins."},
	{"log", NULL, cmd_log, "REF [--since YYYY-MM-DD] [--format text|csv|json] | REF --verify | REF --export DIR",
	 "Print a family's contact log (audited); --verify checks its hash chain and names the first broken row; "
	 "--export writes it with its chain head, signed with the installation's key, into a new DIR."},
	{"alerts", NULL, cmd_alerts, "[--all]",
	 "List open alerts across families (with --all, acknowledged ones too; audited)."},
	{0},
};
