/* casebot family add | list | show | close | erase | unlink, member add, invite. */
#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/gateways/sms_api.h"
#include "bot/gateways/whatsapp.h"
#include "handlers/handler.h"
#include "bot/tz.h"

/* A case reference is short and plain: it is typed on phones and in
 * commands. */
static int check_ref(struct cli *c, const char *ref)
{
	size_t n = strlen(ref);

	if (n == 0 || n > 32)
		return cli_usage_error(c, "REF must be 1 to 32 characters");
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)ref[i]) && ref[i] != '-' && ref[i] != '_' && ref[i] != '.')
			return cli_usage_error(c, "REF \"%s\" may hold only letters, digits, - _ .", ref);
	return CLI_OK;
}

static int cmd_family_add(struct cli *c, int argc, char **argv)
{
	const char *lang = NULL, *counsellor = NULL, *backup = NULL, *name = NULL;
	struct family f;
	struct staff s;
	int rc;
	const struct cli_arg args[] = {
		{"lang", &lang, NULL},
		{"counsellor", &counsellor, NULL},
		{"backup", &backup, NULL},
		{"name", &name, NULL},
		{0},
	};

	memset(&f, 0, sizeof(f));
	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK ||
	    (rc = check_ref(c, argv[optind])) != CLI_OK)
		return rc;
	cb_strlcpy(f.ref, argv[optind], sizeof(f.ref));
	if (lang == NULL || cli_lang(lang, &f.lang) != 0)
		return cli_usage_error(c, "--lang must be nl, fr, de or en");
	if (counsellor == NULL)
		return cli_usage_error(c, "--counsellor NAME is required");
	if (backup != NULL && strcmp(backup, counsellor) == 0)
		return cli_usage_error(c, "the backup must be someone other than the counsellor");
	if (name != NULL) {
		if ((rc = cli_check_text(c, "--name", name, sizeof(f.display_name))) != CLI_OK)
			return rc;
		cb_strlcpy(f.display_name, name, sizeof(f.display_name));
	}
	if ((rc = cli_open_store(c)) != CLI_OK || (rc = cli_staff(c, counsellor, &s)) != CLI_OK)
		return rc;
	if (!s.active)
		return cli_usage_error(c, "staff member \"%s\" is not active", counsellor);
	f.counsellor_id = s.id;
	if (backup != NULL) {
		if ((rc = cli_staff(c, backup, &s)) != CLI_OK)
			return rc;
		if (!s.active)
			return cli_usage_error(c, "staff member \"%s\" is not active", backup);
		f.backup_id = s.id;
	}
	/* References differ by more than case: "f-001" is F-001. */
	{
		struct family same;

		rc = store_family_get(c->store, f.ref, &same);
		if (rc == 0)
			return cli_usage_error(c, "family \"%s\" already exists", same.ref);
		if (rc != -CB_ENOENT)
			return cli_fail(c, "%s", store_errmsg(c->store));
	}
	if (store_begin(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	rc = store_family_add(c->store, &f, c->now, NULL);
	if (rc == -CB_EEXIST)
		return cli_usage_error(c, "family \"%s\" already exists", f.ref);
	if (rc != 0 || cli_audit(c, "family.add", f.ref, NULL) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "added family %s (%s), counsellor %s%s%s\n", f.ref, lang_code(f.lang),
		counsellor, backup != NULL ? ", backup " : "", backup != NULL ? backup : "");
	return CLI_OK;
}

static int print_family_row(const void *rec, void *arg)
{
	const struct family *f = rec;
	struct cli *c = arg;

	/* A counsellor who left follows nobody: the family needs a new one. */
	fprintf(c->out, "%-16s %-4s %-8s %-20s %-20s %s\n", f->ref, lang_code(f->lang), f->status,
		f->counsellor_active ? f->counsellor : "(unassigned)", f->backup[0] != '\0' ? f->backup : "-",
		f->display_name);
	return 0;
}

static int cmd_family_list(struct cli *c, int argc, char **argv)
{
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 0, "")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK)
		return rc;
	/* The list names every family: a read like any other, audited first. */
	if (cli_audit(c, "family.list", NULL, NULL) != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "%-16s %-4s %-8s %-20s %-20s %s\n", "REF", "LANG", "STATUS", "COUNSELLOR",
		"BACKUP", "NAME");
	if (store_family_each(c->store, print_family_row, c) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

static int print_member(const void *rec, void *arg)
{
	const struct member *m = rec;
	struct cli *c = arg;

	fprintf(c->out, "  %s (%s%s%s)\n", m->name, store_member_role_name(m->role),
		m->has_lang ? ", " : "", m->has_lang ? lang_code(m->lang) : "");
	return 0;
}

/* Staff see that a channel exists, its id (as in the audit trail) and its
 * state, not the number behind it. */
static int print_channel(const void *rec, void *arg)
{
	const struct channel *ch = rec;
	struct cli *c = arg;
	size_t n = strlen(ch->address);

	fprintf(c->out, "  #%lld %s ...%s%s%s%s\n", (long long)ch->id, ch->kind,
		n > 3 ? ch->address + n - 3 : ch->address, ch->verified ? " verified" : "",
		ch->blocked ? " blocked" : "", ch->opted_out ? " stopped" : "");
	return 0;
}

static int print_appointment_ahead(const void *rec, void *arg)
{
	const struct appointment *a = rec;
	struct cli *c = arg;
	char when[32];

	if (a->starts_at < c->now || strcmp(a->status, "cancelled") == 0)
		return 0;
	tz_format_iso(a->starts_at, when, sizeof(when));
	fprintf(c->out, "  #%lld %s %s %s%s%s\n", (long long)a->id, when, a->kind, a->status,
		a->member[0] != '\0' ? " for " : "", a->member);
	return 0;
}

static int print_open_request(const void *rec, void *arg)
{
	const struct doc_request *r = rec;
	struct cli *c = arg;

	if (strcmp(r->status, "open") != 0 && strcmp(r->status, "received") != 0)
		return 0;
	fprintf(c->out, "  #%lld %s %s%s%s\n", (long long)r->id, r->doc_type, r->status,
		r->due_date[0] != '\0' ? " due " : "", r->due_date);
	return 0;
}

static int cmd_family_show(struct cli *c, int argc, char **argv)
{
	static const char *const days[] = {"", "mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	struct checkin_plan plan;
	struct family f;
	char created[32];
	int rc;

	if ((rc = cli_read_family(c, argc, argv, "family.show", &f)) != CLI_OK)
		return rc;
	tz_format_iso(f.created_at, created, sizeof(created));
	fprintf(c->out, "family %s\n  name:       %s\n  language:   %s\n  status:     %s\n"
		"  counsellor: %s\n  backup:     %s\n  since:      %s\n",
		f.ref, f.display_name[0] != '\0' ? f.display_name : "-", lang_code(f.lang), f.status,
		f.counsellor, f.backup[0] != '\0' ? f.backup : "-", created);
	{
		enum calendar_mode mode;

		if (store_family_calendar(c->store, f.id, &mode) == 0)
			fprintf(c->out, "  calendar:   %s\n", store_calendar_mode_name(mode));
	}
	fprintf(c->out, "members:\n");
	rc = store_member_each(c->store, f.id, print_member, c);
	fprintf(c->out, "channels:\n");
	rc = rc != 0 ? rc : store_channel_each_family(c->store, f.id, print_channel, c);
	fprintf(c->out, "appointments ahead:\n");
	rc = rc != 0 ? rc : store_appointment_each(c->store, f.id, print_appointment_ahead, c);
	fprintf(c->out, "open document requests:\n");
	rc = rc != 0 ? rc : store_docreq_each(c->store, f.id, print_open_request, c);
	if (rc != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	rc = store_checkin_get(c->store, f.id, &plan);
	if (rc == 0 && plan.active) {
		char every[64];

		fprintf(c->out, "check-ins: %s from %s %02d:%02d\n",
			cli_count(c, "cli.count.every_days", "days", plan.every_days, every, sizeof(every)),
			days[plan.weekday], plan.minute_of_day / 60, plan.minute_of_day % 60);
	}
	else if (rc == 0 || rc == -CB_ENOENT)
		fprintf(c->out, "check-ins: off\n");
	else
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

static int cmd_family_close(struct cli *c, int argc, char **argv)
{
	struct family f;
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 1, "REF")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (store_begin(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	rc = store_family_close(c->store, f.id, c->now);
	if (rc == -CB_ESTATE)
		return cli_usage_error(c, "family %s is already closed", f.ref);
	if (rc != 0 || cli_audit(c, "family.close", f.ref, NULL) != CLI_OK || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "closed family %s; nothing more will be sent to it\n", f.ref);
	return CLI_OK;
}

/* Erasure is real (handlers/erase.c): rows gone in one transaction, then
 * the files, then the database vacuumed and its log truncated. When a
 * reader kept the old pages in use, erase REF again (the family is gone
 * by then) finishes that last step. */
static int cmd_family_erase(struct cli *c, int argc, char **argv)
{
	struct family f;
	struct hctx h;
	char err[512];
	int rc, yes = 0;
	const struct cli_arg args[] = {
		{"yes", NULL, &yes},
		{0},
	};
	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK)
		return rc;
	if (store_family_get(c->store, argv[optind], &f) == -CB_ENOENT && erase_unfinished(c->store, argv[optind])) {
		if (!yes)
			return cli_usage_error(c, "this finishes erasing family %s; add --yes", argv[optind]);
		if (erase_finish(c->store, argv[optind], err, sizeof(err)) != 0)
			return cli_fail(c, "%s", err);
		fprintf(c->out, "erased family %s\n", argv[optind]);
		return CLI_OK;
	}
	if ((rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (!yes)
		return cli_usage_error(c, "this deletes family %s and all its records for good; add --yes", f.ref);
	cli_hctx(c, &h);
	if (erase_family(&h, &f, NULL, err, sizeof(err)) != 0)
		return cli_fail(c, "%s", err);
	fprintf(c->out, "erased family %s\n", f.ref);
	return CLI_OK;
}

/* A number typed for --sms, as stored: E.164. The national form is
 * Belgium's; anything that could be read two ways is refused. */
static int sms_number(struct cli *c, const char *typed, char *out, size_t cap)
{
	if (sms_api_normalize_number(typed, out, cap) != 0)
		return cli_usage_error(c, "--sms \"%s\" is not a number casebot can be sure of: give it as +32470123456 "
				       "(E.164) or 0470 12 34 56 (Belgian)", typed);
	return CLI_OK;
}

/* The member's SMS chat, linked and verified by the counsellor's word,
 * and the short welcome that says how to stop, in the same transaction
 * as the member. */
static int link_sms(struct cli *c, const struct family *f, int64_t member_id, const char *number)
{
	struct outbox_msg m;
	struct channel ch;
	struct staff s;
	char *params = NULL;
	int rc;

	rc = store_channel_find(c->store, "sms", number, &ch);
	if (rc == 0)
		return -CB_EEXIST;
	if (rc != -CB_ENOENT ||
	    (rc = store_channel_link(c->store, f->id, member_id, 0, "sms", number, c->now, &ch)) != 0 ||
	    (rc = store_staff_get_id(c->store, f->counsellor_id, &s)) != 0 ||
	    (rc = handler_params(&params, "counsellor", s.name, NULL)) != 0)
		return rc;
	memset(&m, 0, sizeof(m));
	m.family_id = f->id;
	m.member_id = member_id;
	m.channel_id = ch.id;
	cb_strlcpy(m.kind, "welcome", sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "welcome.sms", sizeof(m.catalog_key));
	m.params = params;
	m.urgent = 1;
	m.not_before = c->now;
	rc = store_outbox_add(c->store, &m, c->now);
	free(params);
	return rc;
}

static int cmd_member_add(struct cli *c, int argc, char **argv)
{
	const char *role = NULL, *lang = NULL, *sms = NULL;
	char role_lc[16] = "", number[SMS_NUMBER_MAX] = "";
	struct member m;
	struct family f;
	int64_t id = 0;
	int rc;
	const struct cli_arg args[] = {
		{"role", &role, NULL},
		{"lang", &lang, NULL},
		{"sms", &sms, NULL},
		{0},
	};

	memset(&m, 0, sizeof(m));
	if ((rc = cli_parse(c, argc, argv, args, 2, "REF NAME")) != CLI_OK ||
	    (rc = cli_check_text(c, "NAME", argv[optind + 1], sizeof(m.name))) != CLI_OK)
		return rc;
	cb_strlcpy(m.name, argv[optind + 1], sizeof(m.name));
	/* A member added with a number is most often the parent who reads
	 * the family's texts. */
	if (role == NULL && sms != NULL)
		role = "parent";
	if (role != NULL)
		cli_lower(role_lc, role, sizeof(role_lc));
	if (role == NULL || store_member_role_parse(role_lc, &m.role) != 0)
		return cli_usage_error(c, "--role must be parent, child or other");
	if (lang != NULL) {
		if (cli_lang(lang, &m.lang) != 0)
			return cli_usage_error(c, "--lang must be nl, fr, de or en");
		m.has_lang = 1;
	}
	if (sms != NULL && (rc = sms_number(c, sms, number, sizeof(number))) != CLI_OK)
		return rc;
	if ((rc = cli_open_store(c)) != CLI_OK || (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (strcmp(f.status, "closed") == 0)
		return cli_usage_error(c, "family %s is closed", f.ref);
	m.family_id = f.id;
	if (store_begin(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	rc = store_member_add(c->store, &m, c->now, &id);
	if (rc == -CB_EEXIST) {
		store_rollback(c->store);
		return cli_usage_error(c, "family %s already has a member \"%s\"", f.ref, m.name);
	}
	if (rc == 0 && sms != NULL && (rc = link_sms(c, &f, id, number)) == -CB_EEXIST) {
		store_rollback(c->store);
		return cli_usage_error(c, "that number is already linked to a chat; unlink it first");
	}
	if (rc != 0 || cli_audit(c, "member.add", f.ref, NULL) != CLI_OK ||
	    (sms != NULL && cli_audit(c, "channel.link", f.ref, "sms") != CLI_OK) || store_commit(c->store) != 0) {
		store_rollback(c->store);
		return cli_fail(c, "%s", store_errmsg(c->store));
	}
	fprintf(c->out, "added %s (%s) to family %s\n", m.name, store_member_role_name(m.role), f.ref);
	if (sms != NULL)
		fprintf(c->out, "linked by SMS; a welcome that says how to stop is on its way\n");
	return CLI_OK;
}

static int cmd_invite(struct cli *c, int argc, char **argv)
{
	const char *member = NULL;
	char code[INVITE_CODE_LEN + 1], expires[32];
	struct family f;
	struct member m = {0};
	time_t until;
	int rc;
	const struct cli_arg args[] = {
		{"member", &member, NULL},
		{0},
	};
	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (strcmp(f.status, "closed") == 0)
		return cli_usage_error(c, "family %s is closed", f.ref);
	if (member != NULL) {
		rc = store_member_get(c->store, f.id, member, &m);
		if (rc == -CB_ENOENT)
			return cli_usage_error(c, "family %s has no member \"%s\"", f.ref, member);
		if (rc != 0)
			return cli_fail(c, "%s", store_errmsg(c->store));
	}
	until = c->now + (time_t)c->cfg.invite_valid_days * 86400;
	/* The audit row names the member by id: a name is the family's data,
	 * and leaves with it. */
	{
		const struct audit_entry e = {c->actor, "invite.create", f.ref, NULL, 0, 0, m.id};

		if (store_begin(c->store) != 0 ||
		    store_invite_create(c->store, f.id, m.id, 0, c->now, until, code) != 0 ||
		    store_audit_add(c->store, c->now, &e) != 0 || store_commit(c->store) != 0)
			return cli_fail(c, "%s", store_errmsg(c->store));
	}
	tz_format_iso(until, expires, sizeof(expires));
	fprintf(c->out, "code: %s\nlink: https://t.me/%s?start=%s\n", code, c->cfg.gw.telegram.bot_username, code);
	/* WhatsApp opens a chat with the business number, the code typed in:
	 * sending it links the chat as on Telegram. */
	if (gateway_whatsapp_configured(&c->cfg) && c->cfg.gw.whatsapp.display_number[0] != '\0')
		fprintf(c->out, "whatsapp: https://wa.me/%s?text=%s\n", c->cfg.gw.whatsapp.display_number, code);
	fprintf(c->out, "valid until %s; it works once.\n", expires);
	return CLI_OK;
}

struct family_chats {
	int64_t ids[32];
	int64_t member_id;   /* 0: every chat */
	int n;
};

static int keep_family_chat(const void *rec, void *arg)
{
	const struct channel *ch = rec;
	struct family_chats *fc = arg;

	if ((fc->member_id == 0 || ch->member_id == fc->member_id) && fc->n < (int)CB_ARRAY_SIZE(fc->ids))
		fc->ids[fc->n++] = ch->id;
	return 0;
}

/* A family's lost or shared-out phone: its chats (or one member's) stop
 * being the family's. The chat then gets what a stranger gets. */
static int cmd_family_unlink(struct cli *c, int argc, char **argv)
{
	const char *member = NULL;
	const struct cli_arg args[] = {
		{"member", &member, NULL},
		{0},
	};
	struct family_chats fc = {0};
	struct family f;
	struct member m = {0};
	int rc;

	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (member != NULL) {
		rc = store_member_get(c->store, f.id, member, &m);
		if (rc == -CB_ENOENT)
			return cli_usage_error(c, "family %s has no member \"%s\"", f.ref, member);
		if (rc != 0)
			return cli_fail(c, "%s", store_errmsg(c->store));
		fc.member_id = m.id;
	}
	if (store_channel_each_family(c->store, f.id, keep_family_chat, &fc) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	if (fc.n == 0)
		return cli_usage_error(c, "%s%s%s has no linked chat", member != NULL ? m.name : "family ",
				       member != NULL ? " of family " : "", f.ref);
	if (store_begin(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	for (int i = 0; i < fc.n; i++) {
		const struct audit_entry e = {c->actor, "channel.unlink", f.ref, NULL, 0, fc.ids[i], 0};

		if (store_channel_unlink(c->store, fc.ids[i], c->now) != 0 || store_audit_add(c->store, c->now, &e) != 0)
			return cli_fail(c, "%s", store_errmsg(c->store));
	}
	if (store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "unlinked %d chat(s) of family %s\n", fc.n, f.ref);
	return CLI_OK;
}

/* Who follows a family, and in which language, can change over months. */
static int cmd_family_set(struct cli *c, int argc, char **argv)
{
	const char *lang = NULL, *counsellor = NULL, *backup = NULL, *name = NULL, *calendar = NULL;
	const struct cli_arg args[] = {
		{"lang", &lang, NULL},
		{"counsellor", &counsellor, NULL},
		{"backup", &backup, NULL},
		{"name", &name, NULL},
		{"calendar", &calendar, NULL},
		{0},
	};
	enum calendar_mode mode = CALENDAR_OFF;
	char word[16];
	struct family f;
	struct staff s;
	int rc;

	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK)
		return rc;
	if (lang == NULL && counsellor == NULL && backup == NULL && name == NULL && calendar == NULL)
		return cli_usage_error(c, "nothing to change (--lang, --counsellor, --backup, --name, --calendar)");
	if (calendar != NULL) {
		cli_lower(word, calendar, sizeof(word));
		if (strlen(calendar) >= sizeof(word) || store_calendar_mode_parse(word, &mode) != 0)
			return cli_usage_error(c, "--calendar must be off, on or details");
	}
	if ((rc = cli_open_store(c)) != CLI_OK || (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (lang != NULL && cli_lang(lang, &f.lang) != 0)
		return cli_usage_error(c, "--lang must be nl, fr, de or en");
	if (name != NULL) {
		if ((rc = cli_check_text(c, "--name", name, sizeof(f.display_name))) != CLI_OK)
			return rc;
		cb_strlcpy(f.display_name, name, sizeof(f.display_name));
	}
	if (counsellor != NULL) {
		if ((rc = cli_staff(c, counsellor, &s)) != CLI_OK)
			return rc;
		if (!s.active)
			return cli_usage_error(c, "staff member \"%s\" is not active", counsellor);
		f.counsellor_id = s.id;
	}
	/* "--backup -" removes the backup. */
	if (backup != NULL && strcmp(backup, "-") == 0) {
		f.backup_id = 0;
	} else if (backup != NULL) {
		if ((rc = cli_staff(c, backup, &s)) != CLI_OK)
			return rc;
		if (!s.active)
			return cli_usage_error(c, "staff member \"%s\" is not active", backup);
		f.backup_id = s.id;
	}
	if (f.backup_id == f.counsellor_id)
		return cli_usage_error(c, "the backup must be someone other than the counsellor");
	if (store_begin(c->store) != 0 || store_family_update(c->store, &f) != 0 ||
	    (calendar != NULL && store_family_set_calendar(c->store, f.id, mode) != 0) ||
	    cli_audit(c, "family.set", f.ref, calendar != NULL ? store_calendar_mode_name(mode) : NULL) != CLI_OK ||
	    store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "family %s updated\n", f.ref);
	return CLI_OK;
}

const struct cli_command cli_family_commands[] = {
	{"family", "add", cmd_family_add,
	 "REF --lang nl|fr|de|en --counsellor NAME [--backup NAME] [--name DISPLAY]",
	 "Add a family under a case reference, with its counsellor."},
	{"family", "set", cmd_family_set,
	 "REF [--lang nl|fr|de|en] [--counsellor NAME] [--backup NAME|-] [--name DISPLAY] [--calendar off|on|details]",
	 "Change a family's language, counsellor, backup (- for none) or display name, or whether it gets its "
	 "appointments as calendar files (details: with what and where)."},
	{"family", "list", cmd_family_list, "", "List families."},
	{"family", "show", cmd_family_show, "REF", "Show a family file (the read is audited)."},
	{"family", "close", cmd_family_close, "REF",
	 "Close a family: nothing more is sent to it; its records stay until erased."},
	{"family", "erase", cmd_family_erase, "REF --yes",
	 "Delete a family, its records and its documents for good."},
	{"family", "unlink", cmd_family_unlink, "REF [--member NAME]",
	 "Unlink a family's chats (or one member's): a lost phone. A new invite links the next one."},
	{"member", "add", cmd_member_add, "REF NAME [--role parent|child|other] [--lang L] [--sms NUMBER]",
	 "Add a member to a family. With --sms the member's phone (+32470123456, or 0470 12 34 56) is linked for SMS "
	 "at once and sent a short welcome that says how to stop; --role is then parent unless given."},
	{"invite", NULL, cmd_invite, "REF [--member NAME]",
	 "Print a one-time code and Telegram link that links a phone to the family."},
	{0},
};
