/* casebot appointment add | list | cancel | move */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/calendar.h"
#include "bot/cli/cli.h"
#include "bot/tz.h"

static int parse_at(struct cli *c, const char *at, time_t *t)
{
	int rc;

	if ((rc = cli_parse_when(c, "--at", at, t)) != CLI_OK)
		return rc;
	if (*t <= c->now)
		return cli_usage_error(c, "--at \"%s\" is in the past", at);
	return CLI_OK;
}

static int report(struct cli *c, const char *what, const struct appointment *a)
{
	char when[32];

	tz_format_iso(a->starts_at, when, sizeof(when));
	fprintf(c->out, "%s appointment #%lld: %s %s\n", what, (long long)a->id, when, a->kind);
	return CLI_OK;
}

static int cmd_add(struct cli *c, int argc, char **argv)
{
	const char *at = NULL, *kind = NULL, *member = NULL, *place = NULL;
	struct appointment a;
	struct family f;
	struct member m;
	struct hctx h;
	int rc;
	const struct cli_arg args[] = {
		{"at", &at, NULL},
		{"kind", &kind, NULL},
		{"member", &member, NULL},
		{"place", &place, NULL},
		{0},
	};

	memset(&a, 0, sizeof(a));
	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK || (rc = parse_at(c, at, &a.starts_at)) != CLI_OK)
		return rc;
	if (kind != NULL)
		cli_lower(a.kind, kind, sizeof(a.kind));
	if (kind == NULL || strlen(kind) >= sizeof(a.kind) || !store_appointment_kind_valid(a.kind))
		return cli_usage_error(c, "--kind must be one of home_visit, lawyer, immigration_office, "
				       "court, school, doctor, social_service, other");
	if (place != NULL) {
		if ((rc = cli_check_text(c, "--place", place, sizeof(a.place))) != CLI_OK)
			return rc;
		cb_strlcpy(a.place, place, sizeof(a.place));
	}
	if ((rc = cli_open_store(c)) != CLI_OK || (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (strcmp(f.status, "closed") == 0)
		return cli_usage_error(c, "family %s is closed", f.ref);
	a.family_id = f.id;
	if (member != NULL) {
		rc = store_member_get(c->store, f.id, member, &m);
		if (rc == -CB_ENOENT)
			return cli_usage_error(c, "family %s has no member \"%s\"", f.ref, member);
		if (rc != 0)
			return cli_fail(c, "%s", store_errmsg(c->store));
		a.member_id = m.id;
	}
	cli_hctx(c, &h);
	if (store_begin(c->store) != 0 || appointments_create(&h, &a) != 0 ||
	    cli_audit(c, "appointment.add", f.ref, a.kind) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return report(c, "added", &a);
}

static int print_appointment(const void *rec, void *arg)
{
	const struct appointment *a = rec;
	struct cli *c = arg;
	char when[32];

	tz_format_iso(a->starts_at, when, sizeof(when));
	fprintf(c->out, "%-5lld %-17s %-19s %-12s %-12s %s\n", (long long)a->id, when, a->kind,
		a->status, a->member[0] != '\0' ? a->member : "-", a->place);
	return 0;
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	struct family f;
	int rc;

	if ((rc = cli_read_family(c, argc, argv, "appointment.list", &f)) != CLI_OK)
		return rc;
	fprintf(c->out, "%-5s %-17s %-19s %-12s %-12s %s\n", "ID", "WHEN", "KIND", "STATUS", "FOR", "PLACE");
	if (store_appointment_each(c->store, f.id, print_appointment, c) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

/* Finds appointment ID and its family, for cancel and move. */
static int load(struct cli *c, const char *id_s, struct appointment *a, struct family *f)
{
	int64_t id;
	int rc;

	if ((rc = cli_id(c, id_s, &id)) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK)
		return rc;
	rc = store_appointment_get(c->store, id, a);
	if (rc == -CB_ENOENT)
		return cli_usage_error(c, "no appointment #%s", id_s);
	if (rc != 0 || store_family_get_id(c->store, a->family_id, f) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	if (strcmp(a->status, "cancelled") == 0)
		return cli_usage_error(c, "appointment #%s is cancelled", id_s);
	return CLI_OK;
}

static int cmd_cancel(struct cli *c, int argc, char **argv)
{
	struct appointment a;
	struct family f;
	struct hctx h;
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 1, "ID")) != CLI_OK || (rc = load(c, argv[optind], &a, &f)) != CLI_OK)
		return rc;
	cli_hctx(c, &h);
	if (store_begin(c->store) != 0 || appointments_cancel(&h, &a) != 0 ||
	    cli_audit(c, "appointment.cancel", f.ref, NULL) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return report(c, "cancelled", &a);
}

static int cmd_move(struct cli *c, int argc, char **argv)
{
	const char *at = NULL;
	struct appointment a;
	struct family f;
	struct hctx h;
	time_t t;
	int rc;
	const struct cli_arg args[] = {
		{"at", &at, NULL},
		{0},
	};
	if ((rc = cli_parse(c, argc, argv, args, 1, "ID")) != CLI_OK || (rc = parse_at(c, at, &t)) != CLI_OK ||
	    (rc = load(c, argv[optind], &a, &f)) != CLI_OK)
		return rc;
	cli_hctx(c, &h);
	if (store_begin(c->store) != 0 || appointments_move(&h, &a, t) != 0 ||
	    cli_audit(c, "appointment.move", f.ref, NULL) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return report(c, "moved", &a);
}

/* The calendar file the family would get now, in its language, whatever
 * its calendar setting says (the file shows what that setting lets in):
 * for staff to look at before they switch it on. */
static int cmd_ics(struct cli *c, int argc, char **argv)
{
	struct appointment a;
	struct family f;
	char *file = NULL;
	size_t len = 0;
	FILE *fp;
	int fd, rc;

	if ((rc = cli_args_only(c, argc, argv, 2, "ID FILE.ics")) != CLI_OK)
		return rc;
	if (access(argv[optind + 1], F_OK) == 0)
		return cli_usage_error(c, "%s exists; choose a new file", argv[optind + 1]);
	if ((rc = cli_id(c, argv[optind], &a.id)) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_open_locales(c)) != CLI_OK)
		return rc;
	rc = store_appointment_get(c->store, a.id, &a);
	if (rc == -CB_ENOENT)
		return cli_usage_error(c, "no appointment #%s", argv[optind]);
	if (rc != 0 || store_family_get_id(c->store, a.family_id, &f) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	/* The file is made in a transaction with the audit row: an
	 * appointment made before calendar files gets its UID there. */
	if (store_begin(c->store) != 0 || cli_audit(c, "appointment.ics", f.ref, NULL) != CLI_OK ||
	    calendar_file(c->store, c->loc, &c->cfg, a.id, f.lang, c->now, &file, &len) != 0 ||
	    store_commit(c->store) != 0) {
		store_rollback(c->store);
		free(file);
		return cli_fail(c, "%s", store_errmsg(c->store));
	}
	fd = open(argv[optind + 1], O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	fp = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (fp == NULL || fwrite(file, 1, len, fp) != len || fclose(fp) != 0) {
		if (fp == NULL && fd >= 0)
			close(fd);
		free(file);
		return cli_fail(c, "cannot write %s", argv[optind + 1]);
	}
	free(file);
	fprintf(c->out, "appointment #%lld of %s: calendar file written to %s\n", (long long)a.id, f.ref,
		argv[optind + 1]);
	return CLI_OK;
}

const struct cli_command cli_appointment_commands[] = {
	{"appointment", "add", cmd_add,
	 "REF --at \"YYYY-MM-DD HH:MM\" --kind home_visit|lawyer|immigration_office|court|school|doctor|"
	 "social_service|other [--member NAME] [--place TEXT]",
	 "Add an appointment; its reminders are queued at once."},
	{"appointment", "list", cmd_list, "REF", "List a family's appointments (audited)."},
	{"appointment", "cancel", cmd_cancel, "ID", "Cancel an appointment; the family is told."},
	{"appointment", "move", cmd_move, "ID --at \"YYYY-MM-DD HH:MM\"",
	 "Move an appointment; its reminders are rescheduled and the family is told."},
	{"appointment", "ics", cmd_ics, "ID FILE.ics",
	 "Write the calendar file the family would get for an appointment (audited)."},
	{0},
};
