/* casebot document request | list */
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/tz.h"
#include "bot/vault.h"

static int cmd_request(struct cli *c, int argc, char **argv)
{
	const char *type = NULL, *due = NULL, *note = NULL;
	struct doc_request r;
	struct family f;
	struct hctx h;
	int rc, y, mon, day;
	const struct cli_arg args[] = {
		{"type", &type, NULL},
		{"due", &due, NULL},
		{"note", &note, NULL},
		{0},
	};

	memset(&r, 0, sizeof(r));
	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK)
		return rc;
	if (type != NULL)
		cli_lower(r.doc_type, type, sizeof(r.doc_type));
	if (type == NULL || strlen(type) >= sizeof(r.doc_type) || !store_doc_type_valid(r.doc_type))
		return cli_usage_error(c, "--type must be one of passport, id_card, birth_certificate, "
				       "school_certificate, medical_certificate, lawyer_letter, "
				       "order_to_leave, payslip, lease, other");
	if (due != NULL) {
		time_t day_start;

		if ((rc = cli_parse_day(c, "--due", due, &y, &mon, &day)) != CLI_OK)
			return rc;
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

static int print_document(const void *rec, void *arg)
{
	const struct document *d = rec;
	struct cli *c = arg;
	char when[32], req[24] = "-", size[48];

	tz_format_iso(d->received_at, when, sizeof(when));
	if (d->request_id != 0)
		snprintf(req, sizeof(req), "#%lld", (long long)d->request_id);
	fprintf(c->out, "  doc %-5lld %-16s %-9s %-17s %-7s %s\n", (long long)d->id, d->mime, d->status, when, req,
		cli_count(c, "cli.count.bytes", "bytes", d->size, size, sizeof(size)));
	return 0;
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	struct family f;
	int rc;

	if ((rc = cli_read_family(c, argc, argv, "document.list", &f)) != CLI_OK)
		return rc;
	fprintf(c->out, "%-5s %-20s %-10s %-10s %-16s %-4s %s\n", "ID", "TYPE", "STATUS", "DUE", "ASKED",
		"DOCS", "NOTE");
	if (store_docreq_each(c->store, f.id, print_request, c) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "documents received:\n");
	if (store_document_each(c->store, f.id, print_document, c) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

/* Finds document ID and its family. */
static int load_doc(struct cli *c, const char *id_s, struct document *d, struct family *f)
{
	int64_t id;
	int rc;

	if ((rc = cli_id(c, id_s, &id)) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK)
		return rc;
	rc = store_document_get(c->store, id, d);
	if (rc == -CB_ENOENT)
		return cli_usage_error(c, "no document #%s", id_s);
	if (rc != 0 || store_family_get_id(c->store, d->family_id, f) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

static int cmd_verify(struct cli *c, int argc, char **argv)
{
	struct document d;
	struct family f;
	struct hctx h;
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 1, "ID")) != CLI_OK || (rc = load_doc(c, argv[optind], &d, &f)) != CLI_OK)
		return rc;
	cli_hctx(c, &h);
	if (store_begin(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	rc = documents_verify(&h, &d);
	if (rc == -CB_ESTATE)
		return cli_usage_error(c, "document #%lld is already %s", (long long)d.id, d.status);
	if (rc != 0 || cli_audit(c, "document.verify", f.ref, NULL) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "document #%lld of %s verified\n", (long long)d.id, f.ref);
	return CLI_OK;
}

static int cmd_reject(struct cli *c, int argc, char **argv)
{
	const char *reason = NULL;
	char reason_lc[32];
	struct document d;
	struct family f;
	struct hctx h;
	int rc;
	const struct cli_arg args[] = {
		{"reason", &reason, NULL},
		{0},
	};
	if ((rc = cli_parse(c, argc, argv, args, 1, "ID")) != CLI_OK)
		return rc;
	if (reason != NULL) {
		cli_lower(reason_lc, reason, sizeof(reason_lc));
		reason = reason_lc;
	}
	if (reason == NULL || !documents_reason_valid(reason))
		return cli_usage_error(c, "--reason must be unreadable, incomplete, expired or wrong_document");
	if ((rc = load_doc(c, argv[optind], &d, &f)) != CLI_OK)
		return rc;
	cli_hctx(c, &h);
	if (store_begin(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	rc = documents_reject(&h, &d, reason);
	if (rc == -CB_ESTATE)
		return cli_usage_error(c, "document #%lld is already %s", (long long)d.id, d.status);
	if (rc != 0 || cli_audit(c, "document.reject", f.ref, reason) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "document #%lld of %s rejected (%s)%s\n", (long long)d.id, f.ref, reason,
		d.request_id != 0 ? "; the family is asked again" : "");
	return CLI_OK;
}

/* Decrypts a document for staff into a new private file. The read is
 * audited first: no copy leaves without a trace. */
static int cmd_get(struct cli *c, int argc, char **argv)
{
	char size[48];
	unsigned char key[VAULT_KEY_BYTES];
	char src[PATH_MAX];
	const char *out = NULL;
	struct document d;
	struct family f;
	int rc;
	const struct cli_arg args[] = {
		{"output", &out, NULL},
		{0},
	};
	if ((rc = cli_parse(c, argc, argv, args, 1, "ID")) != CLI_OK)
		return rc;
	if (out == NULL)
		return cli_usage_error(c, "-o FILE is required");
	if (access(out, F_OK) == 0)
		return cli_usage_error(c, "%s exists; choose a new file", out);
	if ((rc = load_doc(c, argv[optind], &d, &f)) != CLI_OK)
		return rc;
	if (config_document_key_path(&c->cfg, src, sizeof(src)) != 0 || vault_load_key(src, key) != 0)
		return cli_fail(c, "%s: missing or damaged", src);
	if (store_begin(c->store) != 0 || cli_audit(c, "document.get", f.ref, NULL) != CLI_OK ||
	    store_commit(c->store) != 0) {
		sodium_memzero(key, sizeof(key));
		return cli_fail(c, "%s", store_errmsg(c->store));
	}
	snprintf(src, sizeof(src), "%s/%s", c->cfg.data_dir, d.path);
	rc = vault_decrypt_file(key, src, out);
	sodium_memzero(key, sizeof(key));
	if (rc == -CB_EPARSE)
		return cli_fail(c, "document #%lld is damaged or was altered", (long long)d.id);
	if (rc != 0)
		return cli_fail(c, "cannot write %s: %s", out, casebot_strerror(rc));
	fprintf(c->out, "document #%lld of %s (%s, %s) written to %s\n", (long long)d.id, f.ref, d.mime,
		cli_count(c, "cli.count.bytes", "bytes", d.size, size, sizeof(size)), out);
	return CLI_OK;
}

const struct cli_command cli_document_commands[] = {
	{"document", "request", cmd_request,
	 "REF --type passport|id_card|birth_certificate|school_certificate|medical_certificate|"
	 "lawyer_letter|order_to_leave|payslip|lease|other [--due YYYY-MM-DD] [--note TEXT]",
	 "Ask a family for a document; the request goes out at once, with reminders while it is missing. "
	 "The note is for staff and is not sent."},
	{"document", "list", cmd_list, "REF", "List a family's document requests and documents (audited)."},
	{"document", "verify", cmd_verify, "ID", "Mark a received document as checked and good."},
	{"document", "reject", cmd_reject, "ID --reason unreadable|incomplete|expired|wrong_document",
	 "Reject a received document; the family is asked again, with the reason."},
	{"document", "get", cmd_get, "ID -o FILE", "Decrypt a document into a new file (audited)."},
	{0},
};
