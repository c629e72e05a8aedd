/* casebot document request | list */
#include <string.h>

#include "bot/cli.h"
#include "bot/tz.h"

static int cmd_request(struct cli *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{"type", required_argument, NULL, 't'},
		{"due", required_argument, NULL, 'd'},
		{"note", required_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *type = NULL, *due = NULL, *note = NULL;
	struct doc_request r;
	struct family f;
	struct hctx h;
	int ch, rc, y, mon, day;

	memset(&r, 0, sizeof(r));
	while ((ch = cli_getopt(c, argc, argv, opts)) != -1) {
		if (ch == '?')
			return CLI_USAGE;
		if (ch == 't')
			type = optarg;
		else if (ch == 'd')
			due = optarg;
		else if (ch == 'n')
			note = optarg;
	}
	if ((rc = cli_positional(c, argc, argv, 1, "REF")) != CLI_OK)
		return rc;
	if (type == NULL || !store_doc_type_valid(type))
		return cli_usage_error(c, "--type must be one of passport, id_card, birth_certificate, "
				       "school_certificate, medical_certificate, lawyer_letter, "
				       "order_to_leave, payslip, lease, other");
	cb_strlcpy(r.doc_type, type, sizeof(r.doc_type));
	if (due != NULL) {
		time_t day_start;

		if (tz_parse_date(due, &y, &mon, &day) != 0)
			return cli_usage_error(c, "--due \"%s\" is not a date (expected YYYY-MM-DD)", due);
		if (tz_make_local(y, mon, day, 23, 59, &day_start) != 0 || day_start < c->now)
			return cli_usage_error(c, "--due \"%s\" is in the past", due);
		cb_strlcpy(r.due_date, due, sizeof(r.due_date));
	}
	if (note != NULL) {
		if ((rc = cli_check_text(c, "--note", note, sizeof(r.note))) != CLI_OK)
			return rc;
		cb_strlcpy(r.note, note, sizeof(r.note));
	}
	if ((rc = cli_open_store(c)) != CLI_OK || (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (strcmp(f.status, "closed") == 0)
		return cli_usage_error(c, "family %s is closed", f.ref);
	r.family_id = f.id;
	cli_hctx(c, &h);
	if (store_begin(c->store) != 0 || documents_request(&h, &r) != 0 ||
	    cli_audit(c, "document.request", f.ref, r.doc_type) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "requested %s from family %s (request #%lld)%s%s\n", r.doc_type, f.ref,
		(long long)r.id, r.due_date[0] != '\0' ? ", due " : "", r.due_date);
	return CLI_OK;
}

static int print_request(const void *rec, void *arg)
{
	const struct doc_request *r = rec;
	struct cli *c = arg;
	char asked[32];

	tz_format_iso(r->created_at, asked, sizeof(asked));
	fprintf(c->out, "%-5lld %-20s %-10s %-10s %-16s %-4d %s\n", (long long)r->id, r->doc_type,
		r->status, r->due_date[0] != '\0' ? r->due_date : "-", asked, r->documents, r->note);
	return 0;
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	struct family f;
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 1, "REF")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (cli_audit(c, "document.list", f.ref, NULL) != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "%-5s %-20s %-10s %-10s %-16s %-4s %s\n", "ID", "TYPE", "STATUS", "DUE", "ASKED",
		"DOCS", "NOTE");
	if (store_docreq_each(c->store, f.id, print_request, c) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

const struct cli_command cli_document_commands[] = {
	{"document", "request", cmd_request,
	 "REF --type passport|id_card|birth_certificate|school_certificate|medical_certificate|"
	 "lawyer_letter|order_to_leave|payslip|lease|other [--due YYYY-MM-DD] [--note TEXT]",
	 "Ask a family for a document; the request goes out at once, with reminders while it is missing. "
	 "The note is for staff and is not sent."},
	{"document", "list", cmd_list, "REF", "List a family's document requests (audited)."},
	{0},
};
