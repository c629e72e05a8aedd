/* casebot channel: a chat's identity changes, and the order of a member's
 * chats. WhatsApp tells when a family member's number (or user id)
 * changed; the new one routes nothing until someone here has looked at it
 * and confirms it. A member's messages go to the first of their chats that
 * can take one, and down the order when it cannot. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The order: each member's chats, first to last, with their state; never
 * the number behind a chat. */
struct order_list {
	struct cli *c;
	int64_t member_id;
	int n, shown;
};

static int print_ordered(const void *rec, void *arg)
{
	const struct channel *ch = rec;
	struct order_list *l = arg;
	struct member m;

	if (ch->member_id != l->member_id)
		return 0;
	if (l->shown++ == 0) {
		if (ch->member_id != 0 && store_member_get_id(l->c->store, ch->member_id, &m) == 0)
			fprintf(l->c->out, "%s:\n", m.name);
		else
			fprintf(l->c->out, "the household (no member):\n");
	}
	l->n++;
	fprintf(l->c->out, "  %d. #%lld %s%s%s%s%s%s\n", ch->member_id != 0 ? l->shown : 0, (long long)ch->id, ch->kind,
		ch->blocked ? (ch->fallback_reason[0] != '\0' ? " unreachable" : " blocked") : "",
		ch->opted_out ? " stopped" : "", !ch->verified ? " unconfirmed" : "",
		ch->fallback_reason[0] != '\0' ? ": " : "", ch->fallback_reason);
	return 0;
}

static int print_member_order(const void *rec, void *arg)
{
	const struct member *m = rec;
	struct order_list *l = arg;

	l->member_id = m->id;
	l->shown = 0;
	return store_channel_each_family(l->c->store, m->family_id, print_ordered, l);
}

static int show_order(struct cli *c, const struct family *f)
{
	struct order_list l = {c, 0, 0, 0};
	int rc;

	if ((rc = store_member_each(c->store, f->id, print_member_order, &l)) != 0)
		return rc;
	l.member_id = 0;
	l.shown = 0;
	if ((rc = store_channel_each_family(c->store, f->id, print_ordered, &l)) != 0)
		return rc;
	if (l.n == 0)
		fprintf(c->out, "family %s has no chat\n", f->ref);
	return 0;
}

static int cmd_list(struct cli *c, int argc, char **argv)
{
	struct family f;
	int rc;

	if ((rc = cli_read_family(c, argc, argv, "channel.list", &f)) != CLI_OK)
		return rc;
	if (show_order(c, &f) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

/* A chat named on the command line: its id (#12 or 12), or its kind when
 * the member has one chat of that kind. */
struct chat_pick {
	int64_t member_id;
	const char *word;
	int64_t id;
	int matches;
};

static int pick_chat(const void *rec, void *arg)
{
	const struct channel *ch = rec;
	struct chat_pick *p = arg;
	const char *w = p->word[0] == '#' ? p->word + 1 : p->word;
	char *end;
	long long id = strtoll(w, &end, 10);

	if (ch->member_id != p->member_id)
		return 0;
	if ((end != w && *end == '\0' && id == ch->id) || strcmp(p->word, ch->kind) == 0) {
		p->id = ch->id;
		p->matches++;
	}
	return 0;
}

static int cmd_order(struct cli *c, int argc, char **argv)
{
	int64_t ids[16];
	struct family f;
	struct member m;
	char detail[40] = "";
	int rc, n;

	{
		const struct option opts[] = {{"help", no_argument, NULL, 'h'}, {0}};
		int ch;

		while ((ch = cli_getopt(c, argc, argv, opts)) != -1)
			if (ch == '?' || ch == 'h')
				return CLI_USAGE;
	}
	if (cli_open_store(c) != CLI_OK)
		return CLI_FAIL;
	n = argc - optind - 2;
	if (n < 1)
		return cli_usage_error(c, "expected REF MEMBER CHAT [CHAT...]");
	if (n > (int)CB_ARRAY_SIZE(ids))
		return cli_usage_error(c, "at most %zu chats", CB_ARRAY_SIZE(ids));
	if ((rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	rc = store_member_get(c->store, f.id, argv[optind + 1], &m);
	if (rc == -CB_ENOENT)
		return cli_usage_error(c, "family %s has no member \"%s\"", f.ref, argv[optind + 1]);
	if (rc != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	for (int i = 0; i < n; i++) {
		struct chat_pick p = {m.id, argv[optind + 2 + i], 0, 0};

		if (store_channel_each_family(c->store, f.id, pick_chat, &p) != 0)
			return cli_fail(c, "%s", store_errmsg(c->store));
		if (p.matches == 0)
			return cli_usage_error(c, "%s has no chat %s (see casebot channel list %s)", m.name, p.word, f.ref);
		if (p.matches > 1)
			return cli_usage_error(c, "%s has several %s chats: name one by its id", m.name, p.word);
		for (int k = 0; k < i; k++)
			if (ids[k] == p.id)
				return cli_usage_error(c, "chat %s is named twice", p.word);
		ids[i] = p.id;
	}
	/* The audit names the chats by id, first to last, as far as its
	 * detail holds. */
	for (int i = 0; i < n; i++) {
		char one[24];

		snprintf(one, sizeof(one), "%s%lld", i > 0 ? "." : "", (long long)ids[i]);
		if (strlen(detail) + strlen(one) > 32)
			break;
		strcat(detail, one);
	}
	{
		const struct audit_entry e = {c->actor, "channel.order", f.ref, detail, 0, ids[0], m.id};

		if (store_begin(c->store) != 0 || store_channel_order(c->store, f.id, m.id, ids, n) != 0 ||
		    store_audit_add(c->store, c->now, &e) != 0 || store_commit(c->store) != 0)
			return cli_fail(c, "%s", store_errmsg(c->store));
	}
	if (show_order(c, &f) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

const struct cli_command cli_channel_commands[] = {
	{"channel", "list", cmd_list, "REF",
	 "Show each member's chats in their order, with their state (audited)."},
	{"channel", "order", cmd_order, "REF MEMBER CHAT [CHAT...]",
	 "Set the order of a member's chats (each a kind, like whatsapp, or a chat id): messages go to the first that"
	 " can take them, and down the order when one cannot."},
	{"channel", "changes", cmd_changes, "", "List the number changes that wait for confirmation (audited)."},
	{"channel", "confirm", cmd_confirm, "ID",
	 "Confirm change ID: the chat answers to the new number (or user id) from now on."},
	{"channel", "refuse", cmd_refuse, "ID", "Drop change ID: the chat keeps what it had."},
	{0},
};
