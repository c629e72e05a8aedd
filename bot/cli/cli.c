#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <utf8proc.h>

#include "bot/cli/cli.h"
#include "bot/clock.h"
#include "bot/tz.h"
#include "bot/wake.h"
#include "locales/locale.h"

static const struct cli_command *const tables[] = {
	cli_init_commands, cli_staff_commands, cli_login_commands, cli_family_commands,
	cli_appointment_commands, cli_document_commands, cli_checkin_commands,
	cli_outbox_commands, cli_audit_commands, cli_export_commands, cli_whatsapp_commands,
	cli_channel_commands, cli_voice_commands, cli_backup_commands,
};

static void verror(struct cli *c, const char *fmt, va_list ap)
{
	fprintf(c->err, "casebot: %s%s", c->cmd, c->cmd[0] != '\0' ? ": " : "");
	vfprintf(c->err, fmt, ap);
	fputc('\n', c->err);
}

int cli_usage_error(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(c, fmt, ap);
	va_end(ap);
	if (c->store != NULL)
		store_rollback(c->store);
	return CLI_USAGE;
}

int cli_fail(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(c, fmt, ap);
	va_end(ap);
	if (c->store != NULL)
		store_rollback(c->store);
	return CLI_FAIL;
}

int cli_open_store(struct cli *c)
{
	char err[512];
	int rc = store_open(c->cfg.data_dir, 0, &c->store, err, sizeof(err));

	if (rc == -CB_ENOENT)
		return cli_usage_error(c, "%s", err);
	if (rc != 0)
		return cli_fail(c, "%s", err);
	return CLI_OK;
}

int cli_open_locales(struct cli *c)
{
	char err[512];

	if (locale_load(c->cfg.locales_dir, &c->loc, err, sizeof(err)) != 0)
		return cli_fail(c, "%s", err);
	return CLI_OK;
}

const char *cli_count(struct cli *c, const char *key, const char *name, long long n, char *out, size_t cap)
{
	char num[24];
	const struct locale_param p[] = {{name, num}};

	snprintf(num, sizeof(num), "%lld", n);
	if ((c->loc != NULL || cli_open_locales(c) == CLI_OK) &&
	    locale_render_count(c->loc, c->lang, key, n, p, 1, out, cap) == 0)
		return out;
	snprintf(out, cap, "%s", num);
	return out;
}

int cli_family(struct cli *c, const char *ref, struct family *f)
{
	int rc = store_family_get(c->store, ref, f);

	if (rc == -CB_ENOENT)
		return cli_usage_error(c, "unknown family \"%s\"", ref);
	if (rc != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

int cli_read_family(struct cli *c, int argc, char **argv, const char *action, struct family *f)
{
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 1, "REF")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_family(c, argv[optind], f)) != CLI_OK)
		return rc;
	/* The read is audited before anything is shown. */
	if (cli_audit(c, action, f->ref, NULL) != CLI_OK)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

int cli_staff(struct cli *c, const char *name, struct staff *s)
{
	int rc = store_staff_get(c->store, name, s);

	if (rc == -CB_ENOENT)
		return cli_usage_error(c, "unknown staff member \"%s\"", name);
	if (rc != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	return CLI_OK;
}

int cli_id(struct cli *c, const char *s, int64_t *id)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0)
		return cli_usage_error(c, "\"%s\" is not an id (a positive number)", s);
	*id = v;
	return CLI_OK;
}

void cli_hctx(struct cli *c, struct hctx *h)
{
	h->cfg = &c->cfg;
	h->store = c->store;
	h->loc = c->loc;
	h->now = c->now;
	h->actor = c->actor;
}

int cli_getopt(struct cli *c, int argc, char **argv, const struct option *opts)
{
	char shorts[64] = ":";
	size_t n = 1;
	int ch;

	/* Each long option's letter works as a short option too (-o FILE). */
	for (const struct option *o = opts; o->name != NULL && n + 3 < sizeof(shorts); o++) {
		if (o->val <= 0 || o->val > 127)
			continue;
		shorts[n++] = (char)o->val;
		if (o->has_arg == required_argument)
			shorts[n++] = ':';
	}
	shorts[n] = '\0';
	opterr = 0;
	ch = getopt_long(argc, argv, shorts, opts, NULL);
	if (ch == '?') {
		if (optopt != 0)
			cli_usage_error(c, "unknown option -%c", optopt);
		else
			cli_usage_error(c, "unknown option %s", argv[optind - 1]);
		return '?';
	}
	if (ch == ':') {
		cli_usage_error(c, "option %s needs a value", argv[optind - 1]);
		return '?';
	}
	return ch;
}

int cli_positional(struct cli *c, int argc, char **argv, int n, const char *what)
{
	int have = argc - optind;

	if (have < n)
		return cli_usage_error(c, "missing %s", what);
	if (have > n)
		return cli_usage_error(c, "unexpected argument \"%s\"", argv[optind + n]);
	return CLI_OK;
}

#define CLI_ARGS_MAX 8
#define CLI_LONG_ONLY 256

int cli_parse(struct cli *c, int argc, char **argv, const struct cli_arg *args, int npos, const char *what)
{
	struct option opts[CLI_ARGS_MAX + 2];
	int n = 0, ch;

	for (; args != NULL && args[n].name != NULL && n < CLI_ARGS_MAX; n++) {
		opts[n].name = args[n].name;
		opts[n].has_arg = args[n].value != NULL ? required_argument : no_argument;
		opts[n].flag = NULL;
		opts[n].val = args[n].name[0];
		/* Two options with one first letter (--staff, --since): only the
		 * first keeps the short form; the other is long only. */
		for (int i = 0; i < n; i++)
			if (opts[i].val == opts[n].val)
				opts[n].val = CLI_LONG_ONLY + n;
	}
	opts[n] = (struct option){"help", no_argument, NULL, 'h'};
	opts[n + 1] = (struct option){0};
	while ((ch = cli_getopt(c, argc, argv, opts)) != -1) {
		if (ch == '?')
			return CLI_USAGE;
		for (int i = 0; i < n; i++) {
			if (ch != opts[i].val)
				continue;
			if (args[i].value != NULL)
				*args[i].value = optarg;
			else
				*args[i].flag = 1;
		}
	}
	return cli_positional(c, argc, argv, npos, what);
}

int cli_args_only(struct cli *c, int argc, char **argv, int n, const char *what)
{
	return cli_parse(c, argc, argv, NULL, n, what);
}

static int utf8_text(const char *s)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s), n;
	utf8proc_int32_t cp;

	while (left > 0) {
		if ((n = utf8proc_iterate(p, left, &cp)) <= 0 || cp < 0)
			return 0;
		p += n;
		left -= n;
	}
	return 1;
}

/* What people type reaches families and staff screens: it must be UTF-8,
 * with no control characters (C0, DEL or C1). */
int cli_check_text(struct cli *c, const char *what, const char *s, size_t cap)
{
	const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
	utf8proc_ssize_t left = (utf8proc_ssize_t)strlen(s), n;
	utf8proc_int32_t cp;

	if (s[0] == '\0')
		return cli_usage_error(c, "%s is empty", what);
	if (strlen(s) >= cap)
		return cli_usage_error(c, "%s is longer than %zu bytes", what, cap - 1);
	while (left > 0) {
		if ((n = utf8proc_iterate(p, left, &cp)) <= 0 || cp < 0)
			return cli_usage_error(c, "%s is not valid UTF-8 text (check the terminal's encoding)", what);
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			return cli_usage_error(c, "%s has a control character", what);
		p += n;
		left -= n;
	}
	return CLI_OK;
}

int cli_lang(const char *s, enum lang *out)
{
	char lc[8];

	if (s == NULL || strlen(s) >= sizeof(lc))
		return -CB_EINVAL;
	cli_lower(lc, s, sizeof(lc));
	return lang_parse(lc, out);
}

void cli_lower(char *dst, const char *src, size_t cap)
{
	size_t i = 0;

	for (; src[i] != '\0' && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* The shape YYYY-MM-DD, whatever the numbers. */
static int date_shaped(const char *s, size_t n)
{
	static const char shape[] = "dddd-dd-dd";

	if (n != sizeof(shape) - 1)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return 0;
	return 1;
}

int cli_parse_day(struct cli *c, const char *what, const char *s, int *y, int *mon, int *day)
{
	if (tz_parse_date(s, y, mon, day) == 0)
		return CLI_OK;
	if (strlen(s) > 10 && date_shaped(s, 10) && (s[10] == ' ' || s[10] == 'T'))
		return cli_usage_error(c, "%s \"%s\" takes a day without a time, like %.10s", what, s, s);
	if (!date_shaped(s, strlen(s)))
		return cli_usage_error(c, "%s \"%s\": write the day as YYYY-MM-DD, like 2026-12-10", what, s);
	return cli_usage_error(c, "%s \"%s\": there is no such day in the calendar", what, s);
}

int cli_parse_when(struct cli *c, const char *what, const char *s, time_t *t)
{
	const char *sep;
	char date[11];
	int y, mon, day, minutes;

	if (s == NULL)
		return cli_usage_error(c, "%s is required: a local date and time, like \"2026-12-10 14:00\"", what);
	if (tz_parse_local(s, t) == 0)
		return CLI_OK;
	if (date_shaped(s, strlen(s)))
		return cli_usage_error(c, "%s \"%s\" has a day but no time: add one, like \"%s 14:00\"", what, s, s);
	sep = strpbrk(s, " T");
	if (sep != NULL && *sep == 'T' && date_shaped(s, (size_t)(sep - s)))
		return cli_usage_error(c, "%s \"%s\": put a space between the day and the time, like \"%.10s %s\"",
				       what, s, s, sep + 1);
	if (sep == NULL || !date_shaped(s, (size_t)(sep - s)))
		return cli_usage_error(c, "%s \"%s\": write the day as YYYY-MM-DD and then the time, "
				       "like \"2026-12-10 14:00\"", what, s);
	memcpy(date, s, 10);
	date[10] = '\0';
	if (tz_parse_date(date, &y, &mon, &day) != 0)
		return cli_usage_error(c, "%s \"%s\": there is no such day as %.10s in the calendar", what, s, s);
	if (tz_parse_hhmm(sep + 1, &minutes) != 0)
		return cli_usage_error(c, "%s \"%s\": write the time as HH:MM, from 00:00 to 23:59, like \"%.10s 14:00\"",
				       what, s, s);
	/* Day and time are well formed, so the local time does not exist: the
	 * hour the clocks skip when they go forward. */
	return cli_usage_error(c, "%s \"%s\" does not exist in %s: the clocks go forward that night; "
			       "choose a time outside the skipped hour, like \"%.10s %02d:%02d\"",
			       what, s, tz_name(), s, (minutes / 60 + 1) % 24, minutes % 60);
}

int cli_audit(struct cli *c, const char *action, const char *family_ref, const char *detail)
{
	return store_audit(c->store, c->now, c->actor, action, family_ref, detail) == 0 ? CLI_OK : CLI_FAIL;
}

static void print_usage(FILE *fp, const char *lead, const struct cli_command *cmd)
{
	fprintf(fp, "%scasebot %s%s%s%s%s\n", lead, cmd->group, cmd->name != NULL ? " " : "",
		cmd->name != NULL ? cmd->name : "", cmd->usage[0] != '\0' ? " " : "", cmd->usage);
}

static int takes_time(const struct cli_command *cmd)
{
	return strstr(cmd->usage, "HH:MM") != NULL || strstr(cmd->usage, "YYYY") != NULL ||
	       strstr(cmd->usage, "10:00") != NULL;
}

/* Help is read before anything else, so the zone it names comes from the
 * configuration read here, or the default when there is none. */
static const char *help_zone(struct cli *c)
{
	char err[512];

	if (config_load(&c->cfg, c->config_path, err, sizeof(err)) != 0)
		config_defaults(&c->cfg);
	return c->cfg.timezone;
}

static void print_zone(struct cli *c, FILE *fp)
{
	fprintf(fp, "Times are local to %s ([casebot] timezone) and stored as UTC.\n", help_zone(c));
}

static void print_all(struct cli *c, FILE *fp)
{
	fprintf(fp, "usage: casebot [-c FILE | --config FILE] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t t = 0; t < CB_ARRAY_SIZE(tables); t++)
		for (const struct cli_command *cmd = tables[t]; cmd->group != NULL; cmd++) {
			print_usage(fp, "  ", cmd);
			fprintf(fp, "      %s\n", cmd->help);
		}
	fprintf(fp, "\nThe configuration is -c FILE, else $CASEBOT_CONFIG, else ./casebot.conf.\n"
		"Every command takes --help. ");
	print_zone(c, fp);
}

/* "casebot staff --help": every subcommand of the group. */
static void print_group(struct cli *c, FILE *fp, const char *group)
{
	int times = 0;

	for (size_t t = 0; t < CB_ARRAY_SIZE(tables); t++)
		for (const struct cli_command *cmd = tables[t]; cmd->group != NULL; cmd++) {
			if (strcmp(cmd->group, group) != 0)
				continue;
			print_usage(fp, "usage: ", cmd);
			fprintf(fp, "       %s\n", cmd->help);
			times |= takes_time(cmd);
		}
	if (times)
		print_zone(c, fp);
}

static int is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0 || strcmp(a, "help") == 0;
}

static const struct cli_command *find(const char *group, const char *name, int *group_known)
{
	*group_known = 0;
	for (size_t t = 0; t < CB_ARRAY_SIZE(tables); t++) {
		for (const struct cli_command *cmd = tables[t]; cmd->group != NULL; cmd++) {
			if (strcmp(cmd->group, group) != 0)
				continue;
			*group_known = 1;
			if (cmd->name == NULL || (name != NULL && strcmp(cmd->name, name) == 0))
				return cmd;
		}
	}
	return NULL;
}

static void set_actor(struct cli *c)
{
	struct passwd *pw = getpwuid(geteuid());

	snprintf(c->actor, sizeof(c->actor), "cli:%s", pw != NULL ? pw->pw_name : "unknown");
}

/* The first of CASEBOT_LANG, LC_ALL, LC_MESSAGES, LANG that is set decides,
 * as for any program that speaks the reader's language; its first two
 * letters name one of ours, or the reader gets English. */
static enum lang reader_lang(void)
{
	static const char *const vars[] = {"CASEBOT_LANG", "LC_ALL", "LC_MESSAGES", "LANG"};

	for (size_t i = 0; i < CB_ARRAY_SIZE(vars); i++) {
		const char *v = getenv(vars[i]);
		char code[3];
		enum lang l;

		if (v == NULL || v[0] == '\0')
			continue;
		snprintf(code, sizeof(code), "%s", v);
		return lang_parse(code, &l) == 0 && (v[2] == '\0' || v[2] == '_' || v[2] == '.' || v[2] == '-') ?
			       l : LANG_EN;
	}
	return LANG_EN;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	}
	return 0;
}

static int is_command(const char *word)
{
	int known;

	return find(word, NULL, &known) != NULL || known;
}

/* The options before the command: -c FILE (or -cFILE), --config FILE (or
 * --config=FILE), --help, --version. Returns -1 with *next at the command,
 * or the exit code when nothing more is to be done. */
static int global_options(struct cli *c, int argc, char **argv, int *next)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
			if (i + 1 >= argc || argv[i + 1][0] == '\0')
				return cli_usage_error(c, "%s needs a file, like: casebot %s casebot.conf check", a, a);
			c->config_path = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0 || strncmp(a, "-c", 2) == 0) {
			c->config_path = a[1] == '-' ? a + 9 : a + 2;
			if (c->config_path[0] == '\0')
				return cli_usage_error(c, "%.8s needs a file, like: casebot --config=casebot.conf check", a);
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			print_all(c, c->out);
			return CLI_OK;
		} else if (strcmp(a, "--version") == 0) {
			fprintf(c->out, "casebot %s%s\n", CASEBOT_VERSION,
				clock_is_test() ? " (test build: $CASEBOT_TEST_NOW sets the clock)" : "");
			return CLI_OK;
		} else {
			return cli_usage_error(c, "unknown option %s (try casebot --help)", a);
		}
	}
	if (i >= argc) {
		/* "casebot -c check": the command was taken for the file. */
		if (c->config_path != NULL && is_command(c->config_path))
			return cli_usage_error(c, "-c needs a file before the command, like: casebot -c casebot.conf %s",
						c->config_path);
		print_all(c, c->err);
		return CLI_USAGE;
	}
	*next = i;
	return -1;
}

int cli_run(int argc, char **argv, FILE *out, FILE *err)
{
	struct cli c;
	const struct cli_command *cmd;
	char cfgerr[512];
	int i = 1, known, rc, sub_argc;

	memset(&c, 0, sizeof(c));
	c.out = out;
	c.err = err;
	c.now = clock_now();
	c.lang = reader_lang();
	set_actor(&c);
	/* Whatever an argument is for (a name, a reference, a file, a date),
	 * bytes that are not UTF-8 go no further than here. */
	for (int k = 1; k < argc; k++) {
		if (utf8_text(argv[k]))
			continue;
		if (k > 1 && strncmp(argv[k - 1], "-", 1) == 0 && utf8_text(argv[k - 1]))
			return cli_usage_error(&c, "%s is not valid UTF-8 (check the terminal's encoding)", argv[k - 1]);
		return cli_usage_error(&c, "argument %d is not valid UTF-8 (check the terminal's encoding)", k);
	}
	if ((rc = global_options(&c, argc, argv, &i)) >= 0)
		return rc;
	if (is_help(argv[i]) && i + 1 < argc && is_command(argv[i + 1])) {
		/* "casebot help staff" reads like "casebot staff --help". */
		print_group(&c, out, argv[i + 1]);
		return CLI_OK;
	}
	if (is_help(argv[i])) {
		print_all(&c, out);
		return CLI_OK;
	}
	cmd = find(argv[i], i + 1 < argc ? argv[i + 1] : NULL, &known);
	if (cmd == NULL) {
		if (!known)
			return cli_usage_error(&c, "unknown command \"%s\" (try casebot --help)", argv[i]);
		snprintf(c.cmd, sizeof(c.cmd), "%s", argv[i]);
		if (i + 1 < argc && is_help(argv[i + 1])) {
			print_group(&c, out, argv[i]);
			return CLI_OK;
		}
		if (i + 1 < argc)
			return cli_usage_error(&c, "unknown subcommand \"%s\" (try casebot %s --help)",
					       argv[i + 1], argv[i]);
		return cli_usage_error(&c, "which one? (try casebot %s --help)", argv[i]);
	}
	snprintf(c.cmd, sizeof(c.cmd), "%s%s%s", cmd->group, cmd->name != NULL ? " " : "",
		 cmd->name != NULL ? cmd->name : "");
	/* The subcommand's own argv starts at its name, as getopt expects. */
	i += cmd->name != NULL ? 1 : 0;
	sub_argc = argc - i;
	if (wants_help(sub_argc, argv + i)) {
		print_usage(out, "usage: ", cmd);
		fprintf(out, "%s\n", cmd->help);
		if (takes_time(cmd))
			print_zone(&c, out);
		return CLI_OK;
	}
	if (config_load(&c.cfg, c.config_path, cfgerr, sizeof(cfgerr)) != 0) {
		fprintf(err, "casebot: %s\n", cfgerr);
		return CLI_USAGE;
	}
	/* The zone is set here, once, and not by config_load: a SIGHUP reload
	 * reads the file again, and neither a refused nor an accepted reload
	 * may move the clock the daemon renders times in. */
	if (tz_set(c.cfg.timezone) != 0) {
		fprintf(err, "casebot: time zone data for %s is missing (install tzdata)\n",
			c.cfg.timezone);
		return CLI_USAGE;
	}
	optind = 0;
	rc = cmd->fn(&c, sub_argc, argv + i);
	if (c.store != NULL) {
		int wrote;

		store_rollback(c.store);
		wrote = store_wrote(c.store);
		store_close(c.store);
		/* Whatever the command committed, a running daemon acts on it
		 * now rather than at its next due row. */
		if (wrote)
			wake_daemon(c.cfg.data_dir);
	}
	locale_free(c.loc);
	return rc;
}
