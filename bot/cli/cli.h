/* The admin CLI: bot/main.c hands argv to cli_run(), which dispatches to the
 * small cli_*.c command files. Exit codes: 0 done, 2 a wrong argument or
 * state (one line on err, nothing written), 1 a failure of the machine
 * (database, disk). */
#ifndef CASEBOT_CLI_H
#define CASEBOT_CLI_H

#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "bot/config.h"
#include "handlers/handler.h"
#include "store/store.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

struct locales;

struct cli {
	struct config cfg;
	const char *config_path;  /* -c FILE, or NULL */
	struct store *store;
	struct locales *loc;
	FILE *out, *err;
	time_t now;
	char actor[80];
	char cmd[32];             /* "family add": prefixes error lines */
	/* The reader's language for what the CLI renders from the catalogs
	 * (log rows, alerts): CASEBOT_LANG, else LC_ALL, LC_MESSAGES or LANG
	 * ("nl_BE.UTF-8" is Dutch), else English. */
	enum lang lang;
};

struct cli_command {
	const char *group;        /* "family" */
	const char *name;         /* "add", or NULL for a single-word command */
	int (*fn)(struct cli *c, int argc, char **argv);
	const char *usage;        /* the rest of the line after "casebot group name" */
	const char *help;         /* one sentence */
};

/* Runs one command line (argv[0] is the program name). */
int cli_run(int argc, char **argv, FILE *out, FILE *err);

/* Prints "casebot: CMD: message" and returns CLI_USAGE. */
int cli_usage_error(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "casebot: CMD: message" and returns CLI_FAIL (rolls back). */
int cli_fail(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Opens the store (not creating it); prints the reason on failure. */
int cli_open_store(struct cli *c);
int cli_open_locales(struct cli *c);
/* A count with its word in the reader's language, from a plural key with
 * one placeholder name ("1 byte", "every 7 days"); the bare number when the
 * catalogs cannot be read. Returns out. */
const char *cli_count(struct cli *c, const char *key, const char *name, long long n, char *out, size_t cap);
/* Looks up a family or staff member by name, printing "unknown ..." as a
 * usage error. */
int cli_family(struct cli *c, const char *ref, struct family *f);
int cli_staff(struct cli *c, const char *name, struct staff *s);
/* For a command "X REF" that reads a family file: the family, with the
 * read audited under action. */
int cli_read_family(struct cli *c, int argc, char **argv, const char *action, struct family *f);
int cli_id(struct cli *c, const char *s, int64_t *id);
void cli_hctx(struct cli *c, struct hctx *h);

/* getopt_long over argv with the command's options; unknown option or a
 * missing value is a usage error. Returns the option char, -1 at the end, or
 * '?' after printing the error. */
int cli_getopt(struct cli *c, int argc, char **argv, const struct option *opts);
/* Requires exactly n positional arguments after options. */
int cli_positional(struct cli *c, int argc, char **argv, int n, const char *what);

/* A command's options, by name: --name VALUE stores VALUE in *value, a
 * flag (value NULL) sets *flag to 1. Each also works as -<first letter>. */
struct cli_arg {
	const char *name;
	const char **value;
	int *flag;
};

/* Parses args (terminated by a NULL name) and requires exactly npos
 * positional arguments, which then start at argv[optind]. */
int cli_parse(struct cli *c, int argc, char **argv, const struct cli_arg *args, int npos, const char *what);

/* For commands with no options: only n positional arguments. */
int cli_args_only(struct cli *c, int argc, char **argv, int n, const char *what);

/* Checks a free-text value given on the command line: printable, no
 * control characters, at most cap-1 bytes. */
int cli_check_text(struct cli *c, const char *what, const char *s, size_t cap);

/* Lower-cases an ASCII word (a kind, a type, a role), capped: what staff
 * type is matched without regard to case. */
void cli_lower(char *dst, const char *src, size_t cap);
/* lang_parse() for what staff type: "NL" is nl. */
int cli_lang(const char *s, enum lang *out);

/* A local "YYYY-MM-DD HH:MM" given to option what, or a day "YYYY-MM-DD".
 * Each way it can be wrong (no time, a T for the space, an impossible day
 * or time, the hour skipped by the clocks) gets its own line, with an
 * example. */
int cli_parse_when(struct cli *c, const char *what, const char *s, time_t *t);
int cli_parse_day(struct cli *c, const char *what, const char *s, int *y, int *mon, int *day);

int cli_audit(struct cli *c, const char *action, const char *family_ref, const char *detail);

/* An export or a backup goes to a new directory or an empty one: it never
 * mixes with other files. Checked before anything is written or audited. */
int cli_check_new_dir(struct cli *c, const char *dir);

/* bot/cli/export.c: the installation's signing key (checked whole), and
 * the contact log's chain checked or exported signed into a new DIR. */
int cli_signing_key(struct cli *c, unsigned char sk[64]);
int cli_log_verify(struct cli *c, const struct family *f);
int cli_log_export(struct cli *c, const struct family *f, const char *dir);

/* Command tables, one per file. */
extern const struct cli_command cli_init_commands[];
extern const struct cli_command cli_staff_commands[];
extern const struct cli_command cli_login_commands[];
extern const struct cli_command cli_family_commands[];
extern const struct cli_command cli_appointment_commands[];
extern const struct cli_command cli_document_commands[];
extern const struct cli_command cli_checkin_commands[];
extern const struct cli_command cli_outbox_commands[];
extern const struct cli_command cli_audit_commands[];
extern const struct cli_command cli_export_commands[];
extern const struct cli_command cli_whatsapp_commands[];
extern const struct cli_command cli_channel_commands[];
extern const struct cli_command cli_voice_commands[];
extern const struct cli_command cli_backup_commands[];

#endif
