/* bot/config.c: defaults, every key of the INI file, the one-line errors
 * ("FILE:LINE: [section] key: reason"), the small value parsers and where
 * the Telegram token comes from. Each test gets its own mkdtemp() directory
 * and a clean environment. */
/* nftw() is an X/Open interface. */
#define _XOPEN_SOURCE 700

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/casebot.h"
#include "bot/config.h"
#include "bot/gateways/email.h"
#include "bot/gateways/sms.h"
#include "bot/gateways/telegram.h"
#include "bot/gateways/whatsapp.h"
#include "bot/tz.h"

#define ERRCAP 1024
/* Paths live under /tmp/casebot-config-XXXXXX: short. */
#define PATHCAP 128
#define FULL_CONF "tests/data/config/full.conf"

struct fx {
	char dir[64];
	char cwd[PATH_MAX];   /* restored by teardown, whatever a test did */
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/casebot-config-XXXXXX");
	if (getcwd(fx->cwd, sizeof(fx->cwd)) == NULL || mkdtemp(fx->dir) == NULL) {
		free(fx);
		return -1;
	}
	/* The developer's own environment must not leak into the tests. */
	unsetenv("CASEBOT_CONFIG");
	unsetenv("CASEBOT_TELEGRAM_TOKEN");
	*state = fx;
	/* The zone the program set at start; no load may change it. */
	return tz_set("Europe/Brussels");
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	int rc = chdir(fx->cwd);

	if (nftw(fx->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS) != 0)
		rc = -1;

	unsetenv("CASEBOT_CONFIG");
	unsetenv("CASEBOT_TELEGRAM_TOKEN");
	free(fx);
	return rc;
}

/* Writes text to a fresh mkstemp() file in the test directory. */
static void write_ini(struct fx *fx, const char *text, char *path, size_t cap)
{
	int fd;
	size_t len = strlen(text);

	assert_true((size_t)snprintf(path, cap, "%s/cfg-XXXXXX", fx->dir) < cap);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* Writes text to dir/name, for token and default-lookup files. */
static void write_named(struct fx *fx, const char *name, const char *text, char *path, size_t cap)
{
	FILE *fp;

	assert_true((size_t)snprintf(path, cap, "%s/%s", fx->dir, name) < cap);
	fp = fopen(path, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	/* Secret files are refused when others may read them. */
	assert_int_equal(chmod(path, 0600), 0);
}

/* Loads text as a config file; returns config_load's result. */
static int load_text(struct fx *fx, const char *text, struct config *cfg, char *path,
		     size_t pathcap, char *err)
{
	write_ini(fx, text, path, pathcap);
	return config_load(cfg, path, err, ERRCAP);
}

static void test_defaults(void **state)
{
	struct config cfg;
	char real[PATH_MAX];

	(void)state;
	memset(&cfg, 0x5a, sizeof(cfg));
	config_defaults(&cfg);
	assert_string_equal(cfg.path, "");
	assert_string_equal(cfg.data_dir, "./data");
	assert_string_equal(cfg.timezone, "Europe/Brussels");
	/* Found at run time: this test runs from the source tree. */
	assert_non_null(realpath(CASEBOT_LOCALES_DIR, real));
	assert_string_equal(cfg.locales_dir, real);
	assert_int_equal(cfg.default_language, LANG_NL);
	assert_int_equal(cfg.quiet_start, 1260);
	assert_int_equal(cfg.quiet_end, 480);
	assert_string_equal(cfg.emergency_number, "112");
	assert_int_equal(cfg.retention_days, 730);
	assert_int_equal(cfg.audit_retention_days, 1825);
	assert_int_equal(cfg.erase_closed_after_days, 90);
	assert_string_equal(cfg.gw.telegram.api_base, "https://api.telegram.org");
	assert_string_equal(cfg.gw.telegram.token_file, "");
	assert_string_equal(cfg.gw.telegram.bot_username, "casebot");
	assert_int_equal(cfg.gw.telegram.webhook, 0);
	assert_string_equal(cfg.gw.telegram.webhook_secret_file, "");
	assert_string_equal(cfg.gw.telegram.webhook_path, "hook");
	assert_true(cfg.gw.telegram.rate_per_chat == 1.0);
	assert_true(cfg.gw.telegram.rate_global == 30.0);
	assert_string_equal(cfg.http_listen, "127.0.0.1:8080");
	assert_int_equal(cfg.ladder_len, 2);
	assert_int_equal(cfg.ladder[0].offset_days, 2);
	assert_int_equal(cfg.ladder[0].offset_minutes, 0);
	assert_int_equal(cfg.ladder[0].at_minute, 600);
	assert_int_equal(cfg.ladder[1].offset_days, 0);
	assert_int_equal(cfg.ladder[1].offset_minutes, 120);
	assert_int_equal(cfg.ladder[1].at_minute, -1);
	assert_int_equal(cfg.ack_deadline_minutes, 24 * 60);
	assert_int_equal(cfg.reminders_during_stop, 1);
	assert_int_equal(cfg.document_reminder_days, 3);
	assert_int_equal(cfg.checkin_no_answer_minutes, 48 * 60);
	/* A reminder waits as long as ack_deadline for the next chat; a
	 * check-in does not go on. */
	assert_int_equal(cfg.fallback_reminder_seconds, 24 * 3600);
	assert_int_equal(cfg.fallback_checkin_seconds, 0);
	assert_int_equal(cfg.invite_valid_days, 7);
}

static void test_full_example(void **state)
{
	struct config cfg;
	char err[ERRCAP];

	(void)state;
	assert_int_equal(config_load(&cfg, FULL_CONF, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.path, FULL_CONF);
	assert_string_equal(cfg.data_dir, "/var/lib/casebot");
	assert_string_equal(cfg.timezone, "Europe/Amsterdam");
	/* Reading names the zone; only the caller sets it. */
	assert_string_equal(tz_name(), "Europe/Brussels");
	assert_string_equal(cfg.locales_dir, "/usr/share/casebot/locales");
	assert_int_equal(cfg.default_language, LANG_FR);
	assert_int_equal(cfg.quiet_start, 22 * 60 + 30);
	assert_int_equal(cfg.quiet_end, 7 * 60 + 15);
	assert_string_equal(cfg.emergency_number, "0800 12 345");
	/* inih drops the " ; one year" inline comment. */
	assert_int_equal(cfg.retention_days, 365);
	assert_int_equal(cfg.audit_retention_days, 3650);
	assert_int_equal(cfg.erase_closed_after_days, 30);
	assert_string_equal(cfg.gw.telegram.api_base, "http://127.0.0.1:9000");
	assert_string_equal(cfg.gw.telegram.token_file, "/run/secrets/telegram-token");
	assert_string_equal(cfg.gw.telegram.bot_username, "gezin_bot");
	assert_int_equal(cfg.gw.telegram.webhook, 1);
	assert_string_equal(cfg.gw.telegram.webhook_secret_file, "/run/secrets/telegram-hook");
	assert_string_equal(cfg.gw.telegram.webhook_path, "tg-hook");
	assert_true(cfg.gw.telegram.rate_per_chat == 0.5);
	assert_true(cfg.gw.telegram.rate_global == 25.0);
	assert_string_equal(cfg.http_listen, "0.0.0.0:8443");
	assert_int_equal(cfg.ladder_len, 4);
	assert_int_equal(cfg.ladder[0].offset_days, 3);
	assert_int_equal(cfg.ladder[0].offset_minutes, 0);
	assert_int_equal(cfg.ladder[0].at_minute, 9 * 60 + 30);
	assert_int_equal(cfg.ladder[1].offset_days, 1);
	assert_int_equal(cfg.ladder[1].at_minute, 18 * 60);
	assert_int_equal(cfg.ladder[2].offset_days, 0);
	assert_int_equal(cfg.ladder[2].offset_minutes, 240);
	assert_int_equal(cfg.ladder[2].at_minute, -1);
	assert_int_equal(cfg.ladder[3].offset_minutes, 30);
	assert_int_equal(cfg.ladder[3].at_minute, -1);
	assert_int_equal(cfg.ack_deadline_minutes, 12 * 60);
	assert_int_equal(cfg.reminders_during_stop, 0);
	assert_int_equal(cfg.document_reminder_days, 5);
	assert_int_equal(cfg.checkin_no_answer_minutes, 2 * 24 * 60);
	assert_int_equal(cfg.invite_valid_days, 7);

}

/* Each load starts again from the defaults, zone included. */
static void test_reload_resets(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP];

	assert_int_equal(config_load(&cfg, FULL_CONF, err, sizeof(err)), 0);
	assert_string_equal(cfg.timezone, "Europe/Amsterdam");
	assert_int_equal(load_text(fx, "[casebot]\nretention_days = 60\n", &cfg, path, sizeof(path),
				   err), 0);
	assert_string_equal(cfg.timezone, "Europe/Brussels");
	assert_string_equal(tz_name(), "Europe/Brussels");
	assert_string_equal(cfg.path, path);
	assert_string_equal(cfg.data_dir, "./data");
	assert_int_equal(cfg.default_language, LANG_NL);
	assert_int_equal(cfg.gw.telegram.webhook, 0);
	assert_int_equal(cfg.ladder_len, 2);
	assert_int_equal(cfg.retention_days, 60);
}

static void test_unknown_key(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP], want[ERRCAP];

	assert_int_equal(load_text(fx,
				   "; line 1\n"
				   "[casebot]\n"
				   "data_dir = /srv/casebot\n"
				   "\n"
				   "# line 5\n"
				   "colour = blue\n"
				   "also_unknown = 1\n",
				   &cfg, path, sizeof(path), err), -CB_ECONFIG);
	snprintf(want, sizeof(want), "%s:6: [casebot] colour: unknown key", path);
	assert_string_equal(err, want);

	/* A known key in the wrong section is unknown there. */
	assert_int_equal(load_text(fx, "[http]\nlisten = :1\n[reminders]\n\n\nlisten = :2\n",
				   &cfg, path, sizeof(path), err), -CB_ECONFIG);
	snprintf(want, sizeof(want), "%s:6: [reminders] listen: unknown key", path);
	assert_string_equal(err, want);

	/* Keys are case-sensitive. */
	assert_int_equal(load_text(fx, "[casebot]\nData_Dir = /x\n", &cfg, path, sizeof(path), err),
			 -CB_ECONFIG);
	snprintf(want, sizeof(want), "%s:2: [casebot] Data_Dir: unknown key", path);
	assert_string_equal(err, want);

	/* A key before any section. */
	assert_int_equal(load_text(fx, "data_dir = /x\n", &cfg, path, sizeof(path), err), -CB_ECONFIG);
	snprintf(want, sizeof(want), "%s:1: [] data_dir: unknown key", path);
	assert_string_equal(err, want);

	/* Further down a long file, past comments, blanks and a multi-line
	 * value: the count follows every line read. */
	{
		char text[1024] = "[invites]\nvalid_days = 5\n[reminders]\nladder = 2d@10:00, 2h\n; comment\n";

		for (int i = 0; i < 20; i++)
			cb_strlcat(text, i % 2 ? "; filler\n" : "\n", sizeof(text));
		cb_strlcat(text, "bogus = 1\n", sizeof(text));
		assert_int_equal(load_text(fx, text, &cfg, path, sizeof(path), err), -CB_ECONFIG);
		snprintf(want, sizeof(want), "%s:26: [reminders] bogus: unknown key", path);
		assert_string_equal(err, want);
	}
}

struct bad_value {
	const char *section, *key, *value, *why;
};

#define BAD "bad value"
#define LADDER_WHY "expected steps like \"2d@10:00, 2h\" (at most 4)"
#define DAYS_WHY "expected a whole number of days, like 3d"
#define QUIET_WHY "expected HH:MM-HH:MM or off"

static const struct bad_value bad_values[] = {
	{"casebot", "data_dir", "", BAD},
	{"casebot", "timezone", "Mars/Olympus_Mons", "unknown time zone"},
	{"casebot", "timezone", "", BAD},
	{"casebot", "locales_dir", "", BAD},
	{"casebot", "default_language", "es", "expected nl, fr, de or en"},
	{"casebot", "default_language", "NL", "expected nl, fr, de or en"},
	{"casebot", "quiet_hours", "21:00", QUIET_WHY},
	{"casebot", "quiet_hours", "25:00-08:00", QUIET_WHY},
	{"casebot", "quiet_hours", "21:00-08:60", QUIET_WHY},
	{"casebot", "quiet_hours", "21:00-21:00", QUIET_WHY},
	{"casebot", "quiet_hours", "none", QUIET_WHY},
	{"casebot", "quiet_hours", "21:00-08:00-09:00", QUIET_WHY},
	{"casebot", "emergency_number", "", BAD},
	{"casebot", "retention_days", "29", BAD},
	{"casebot", "retention_days", "3651", BAD},
	{"casebot", "retention_days", "365d", BAD},
	{"casebot", "retention_days", "many", BAD},
	{"casebot", "audit_retention_days", "29", BAD},
	{"casebot", "audit_retention_days", "7301", BAD},
	{"casebot", "audit_retention_days", "5y", BAD},
	{"casebot", "erase_closed_after", "0", BAD},
	{"casebot", "erase_closed_after", "3651", BAD},
	{"casebot", "erase_closed_after", "90d", BAD},
	{"telegram", "api_base", "ftp://example.org", "expected an http:// or https:// URL"},
	{"telegram", "api_base", "api.telegram.org", "expected an http:// or https:// URL"},
	{"telegram", "token_file", "", BAD},
	{"telegram", "bot_username", "", BAD},
	{"telegram", "bot_username",
	 "a_name_much_longer_than_the_sixty_four_bytes_the_config_keeps_for_it", BAD},
	{"telegram", "mode", "push", "expected poll or webhook"},
	{"telegram", "webhook_secret_file", "", BAD},
	{"telegram", "token_file", "credential:", CONFIG_FILE_WHY},
	{"telegram", "webhook_secret_file", "credential:../hook", CONFIG_FILE_WHY},
	{"casebot", "document_key", "credential:keys/document", CONFIG_FILE_WHY},
	{"casebot", "signing_key", "credential:.signing", CONFIG_FILE_WHY},
	{"http", "tls_key", "credential:tls key", CONFIG_FILE_WHY},
	{"telegram", "webhook_path", "", BAD},
	{"telegram", "rate_per_chat", "0", BAD},
	{"telegram", "rate_per_chat", "-1", BAD},
	{"telegram", "rate_per_chat", "fast", BAD},
	{"telegram", "rate_per_chat", "100001", BAD},
	{"telegram", "rate_per_chat", "nan", BAD},
	{"telegram", "rate_global", "2x", BAD},
	{"telegram", "rate_global", "inf", BAD},
	{"http", "listen", "", BAD},
	{"reminders", "ladder", "2h@10:00", LADDER_WHY},
	{"reminders", "ladder", "1d, 2d, 3d, 4d, 5d", LADDER_WHY},
	{"reminders", "ladder", "", LADDER_WHY},
	{"reminders", "ack_deadline", "12", BAD},
	{"reminders", "ack_deadline", "12x", BAD},
	{"reminders", "during_stop", "maybe", BAD},
	{"reminders", "during_stop", "", BAD},
	{"documents", "reminder_every", "36h", DAYS_WHY},
	{"documents", "reminder_every", "0d", DAYS_WHY},
	{"documents", "reminder_every", "12h", DAYS_WHY},
	{"documents", "reminder_every", "3", DAYS_WHY},
	{"checkins", "no_answer_after", "soon", BAD},
	{"checkins", "no_answer_after", "367d", BAD},
	{"fallback", "reminder", "soon", "expected a duration like 24h, or off"},
	{"fallback", "reminder", "0s", "expected a duration like 24h, or off"},
	{"fallback", "reminder", "31d", "expected a duration like 24h, or off"},
	{"fallback", "checkin", "", "expected a duration like 24h, or off"},
	{"invites", "valid_days", "0", BAD},
	{"invites", "valid_days", "91", BAD},
	{"invites", "valid_days", "7d", BAD},
};

static void test_bad_values(void **state)
{
	struct fx *fx = *state;

	for (size_t i = 0; i < CB_ARRAY_SIZE(bad_values); i++) {
		const struct bad_value *b = &bad_values[i];
		struct config cfg;
		char text[512], path[PATHCAP], err[ERRCAP], want[ERRCAP];
		int rc;

		/* The bad key sits on line 4, after a comment and a blank line. */
		snprintf(text, sizeof(text), "; case %zu\n[%s]\n\n%s = %s\n", i, b->section, b->key,
			 b->value);
		rc = load_text(fx, text, &cfg, path, sizeof(path), err);
		snprintf(want, sizeof(want), "%s:4: [%s] %s: %s", path, b->section, b->key, b->why);
		if (rc != -CB_ECONFIG || strcmp(err, want) != 0)
			fail_msg("%s = \"%s\": rc %d, err \"%s\", want \"%s\"", b->key, b->value, rc,
				 err, want);
	}
	/* A bad time zone did not change the process zone. */
	assert_string_equal(tz_name(), "Europe/Brussels");
}

/* A reload that is refused (here: a bad value after a good zone) leaves the
 * process zone as it was; so does one that is accepted. */
static void test_reload_keeps_zone(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP];

	assert_string_equal(tz_name(), "Europe/Brussels");
	assert_int_equal(load_text(fx, "[casebot]\ntimezone = Europe/Amsterdam\nretention_days = x\n",
				   &cfg, path, sizeof(path), err), -CB_ECONFIG);
	assert_string_equal(tz_name(), "Europe/Brussels");
	assert_int_equal(load_text(fx, "[casebot]\ntimezone = Asia/Tokyo\n", &cfg, path,
				   sizeof(path), err), 0);
	assert_string_equal(cfg.timezone, "Asia/Tokyo");
	assert_string_equal(tz_name(), "Europe/Brussels");
}

/* The first error is the one reported. */
static void test_first_error_wins(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP], want[ERRCAP];

	assert_int_equal(load_text(fx,
				   "[casebot]\nretention_days = 1\nunknown = 2\n[invites]\nvalid_days = 0\n",
				   &cfg, path, sizeof(path), err), -CB_ECONFIG);
	snprintf(want, sizeof(want), "%s:2: [casebot] retention_days: bad value", path);
	assert_string_equal(err, want);
}

static void test_syntax_error(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP], want[ERRCAP];

	assert_int_equal(load_text(fx, "[casebot]\ndata_dir = /x\nthis is not ini\n", &cfg, path,
				   sizeof(path), err), -CB_ECONFIG);
	snprintf(want, sizeof(want), "%s:3: cannot parse this line", path);
	assert_string_equal(err, want);

	assert_int_equal(load_text(fx, "\n[casebot\n", &cfg, path, sizeof(path), err), -CB_ECONFIG);
	snprintf(want, sizeof(want), "%s:2: cannot parse this line", path);
	assert_string_equal(err, want);
}

/* inih goes on after a syntax error; the earlier fault is the one
 * reported. Here line 2 lacks its "]", so the key on line 3 lands in
 * section "": the user is told about line 2, not line 3. */
static void test_syntax_error_before_key_error(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP], want[ERRCAP];

	assert_int_equal(load_text(fx, "\n[casebot\ndata_dir = /x\n", &cfg, path, sizeof(path), err),
			 -CB_ECONFIG);
	snprintf(want, sizeof(want), "%s:2: cannot parse this line", path);
	assert_string_equal(err, want);
}

static void test_quiet(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP];
	int s = 0, e = 0;

	assert_int_equal(load_text(fx, "[casebot]\nquiet_hours = off\n", &cfg, path, sizeof(path), err), 0);
	assert_int_equal(cfg.quiet_start, -1);
	assert_int_equal(cfg.quiet_end, -1);
	for (int m = 0; m < 24 * 60; m++)
		assert_int_equal(config_in_quiet(&cfg, m), 0);

	assert_int_equal(config_parse_quiet("21:00-08:00", &s, &e), 0);
	assert_int_equal(s, 1260);
	assert_int_equal(e, 480);
	assert_int_equal(config_parse_quiet("9:30-7:05", &s, &e), 0);
	assert_int_equal(s, 570);
	assert_int_equal(e, 425);
	assert_int_equal(config_parse_quiet("off", &s, &e), 0);
	assert_int_equal(s, -1);
	assert_int_equal(e, -1);
	assert_int_equal(config_parse_quiet("OFF", &s, &e), -CB_EINVAL);
	assert_int_equal(config_parse_quiet("21:00 - 08:00", &s, &e), -CB_EINVAL);
	assert_int_equal(config_parse_quiet("21:00-", &s, &e), -CB_EINVAL);
	assert_int_equal(config_parse_quiet("-08:00", &s, &e), -CB_EINVAL);
	assert_int_equal(config_parse_quiet("", &s, &e), -CB_EINVAL);
	assert_int_equal(config_parse_quiet("0000000021:00-08:00", &s, &e), -CB_EINVAL);
}

static void test_in_quiet(void **state)
{
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	/* Across midnight: 21:00 up to, not including, 08:00. */
	assert_int_equal(config_in_quiet(&cfg, 20 * 60 + 59), 0);
	assert_int_equal(config_in_quiet(&cfg, 21 * 60), 1);
	assert_int_equal(config_in_quiet(&cfg, 23 * 60 + 59), 1);
	assert_int_equal(config_in_quiet(&cfg, 0), 1);
	assert_int_equal(config_in_quiet(&cfg, 7 * 60 + 59), 1);
	assert_int_equal(config_in_quiet(&cfg, 8 * 60), 0);
	assert_int_equal(config_in_quiet(&cfg, 12 * 60), 0);

	/* Within one day: 13:00 up to 14:00. */
	assert_int_equal(config_parse_quiet("13:00-14:00", &cfg.quiet_start, &cfg.quiet_end), 0);
	assert_int_equal(config_in_quiet(&cfg, 12 * 60 + 59), 0);
	assert_int_equal(config_in_quiet(&cfg, 13 * 60), 1);
	assert_int_equal(config_in_quiet(&cfg, 13 * 60 + 59), 1);
	assert_int_equal(config_in_quiet(&cfg, 14 * 60), 0);
	assert_int_equal(config_in_quiet(&cfg, 0), 0);
	assert_int_equal(config_in_quiet(&cfg, 23 * 60 + 59), 0);
}

static void test_ladder(void **state)
{
	struct reminder_step st[CONFIG_LADDER_MAX];
	int n = -1;

	(void)state;
	memset(st, 0x5a, sizeof(st));
	assert_int_equal(config_parse_ladder("2d@10:00, 2h", st, CONFIG_LADDER_MAX, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(st[0].offset_days, 2);
	assert_int_equal(st[0].offset_minutes, 0);
	assert_int_equal(st[0].at_minute, 600);
	assert_int_equal(st[1].offset_days, 0);
	assert_int_equal(st[1].offset_minutes, 120);
	assert_int_equal(st[1].at_minute, -1);

	assert_int_equal(config_parse_ladder("1h", st, CONFIG_LADDER_MAX, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].offset_days, 0);
	assert_int_equal(st[0].offset_minutes, 60);
	assert_int_equal(st[0].at_minute, -1);

	assert_int_equal(config_parse_ladder(" 7d@9:00 ,1d@18:30,90m, 15m ", st, CONFIG_LADDER_MAX, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(st[0].offset_days, 7);
	assert_int_equal(st[0].at_minute, 540);
	assert_int_equal(st[1].offset_days, 1);
	assert_int_equal(st[1].at_minute, 1110);
	assert_int_equal(st[2].offset_minutes, 90);
	assert_int_equal(st[3].offset_minutes, 15);

	/* "24h@10:00" is a whole day, so it reads as 1d@10:00. */
	assert_int_equal(config_parse_ladder("24h@10:00", st, CONFIG_LADDER_MAX, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(st[0].offset_days, 1);
	assert_int_equal(st[0].at_minute, 600);

	n = 99;
	assert_int_equal(config_parse_ladder("0d", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	assert_int_equal(config_parse_ladder("0m", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	assert_int_equal(config_parse_ladder("3x", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	assert_int_equal(config_parse_ladder("2h@10:00", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	assert_int_equal(config_parse_ladder("2d@24:00", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	assert_int_equal(config_parse_ladder("2d@", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	assert_int_equal(config_parse_ladder("@10:00", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	assert_int_equal(config_parse_ladder("2d 10:00", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	assert_int_equal(config_parse_ladder("1d, 2d, 3d, 4d, 5d", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	assert_int_equal(config_parse_ladder("", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	assert_int_equal(config_parse_ladder(" , ", st, CONFIG_LADDER_MAX, &n), -CB_EINVAL);
	/* A failed parse leaves the count alone. */
	assert_int_equal(n, 99);
	/* The cap is the caller's. */
	assert_int_equal(config_parse_ladder("2d, 1d", st, 1, &n), -CB_EINVAL);
}

static void test_duration(void **state)
{
	int m = -1;

	(void)state;
	assert_int_equal(config_parse_duration("90m", &m), 0);
	assert_int_equal(m, 90);
	assert_int_equal(config_parse_duration("4h", &m), 0);
	assert_int_equal(m, 240);
	assert_int_equal(config_parse_duration("2d", &m), 0);
	assert_int_equal(m, 2880);
	assert_int_equal(config_parse_duration("0m", &m), 0);
	assert_int_equal(m, 0);
	assert_int_equal(config_parse_duration("366d", &m), 0);
	assert_int_equal(m, 366 * 24 * 60);
	m = 7;
	assert_int_equal(config_parse_duration("367d", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("8785h", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("99999999999999999999m", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("5", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("m", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("-5m", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("+5m", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration(" 5m", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("5 m", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("5mm", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("1.5h", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("5s", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("5H", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration("", &m), -CB_EINVAL);
	assert_int_equal(config_parse_duration(NULL, &m), -CB_EINVAL);
	assert_int_equal(m, 7);
}

static void test_token(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char tokpath[PATHCAP], tok[128];

	config_defaults(&cfg);
	/* Neither source: nothing to read. */
	assert_int_equal(gateway_telegram_token(&cfg, tok, sizeof(tok)), -CB_ENOENT);

	/* The first line of the file, trimmed; the rest is ignored. */
	write_named(fx, "token", "  \t123456:ABC-def_ghi \r\nsecond line\n", tokpath, sizeof(tokpath));
	assert_int_equal(cb_strlcpy(cfg.gw.telegram.token_file, tokpath, sizeof(cfg.gw.telegram.token_file)), 0);
	assert_int_equal(gateway_telegram_token(&cfg, tok, sizeof(tok)), 0);
	assert_string_equal(tok, "123456:ABC-def_ghi");

	/* The environment wins over the file. */
	assert_int_equal(setenv("CASEBOT_TELEGRAM_TOKEN", "999:from-env", 1), 0);
	assert_int_equal(gateway_telegram_token(&cfg, tok, sizeof(tok)), 0);
	assert_string_equal(tok, "999:from-env");
	/* An empty variable counts as unset. */
	assert_int_equal(setenv("CASEBOT_TELEGRAM_TOKEN", "", 1), 0);
	assert_int_equal(gateway_telegram_token(&cfg, tok, sizeof(tok)), 0);
	assert_string_equal(tok, "123456:ABC-def_ghi");
	/* A token from the environment that does not fit is refused. */
	assert_int_equal(setenv("CASEBOT_TELEGRAM_TOKEN", "123456789:0123456789", 1), 0);
	assert_int_equal(gateway_telegram_token(&cfg, tok, 8), -CB_ETOOBIG);
	assert_int_equal(unsetenv("CASEBOT_TELEGRAM_TOKEN"), 0);

	/* No final newline. */
	write_named(fx, "token", "42:xyz", tokpath, sizeof(tokpath));
	assert_int_equal(gateway_telegram_token(&cfg, tok, sizeof(tok)), 0);
	assert_string_equal(tok, "42:xyz");

	/* An empty file, or an empty first line, is no token. */
	write_named(fx, "token", "", tokpath, sizeof(tokpath));
	assert_int_equal(gateway_telegram_token(&cfg, tok, sizeof(tok)), -CB_EINVAL);
	write_named(fx, "token", "   \n42:xyz\n", tokpath, sizeof(tokpath));
	assert_int_equal(gateway_telegram_token(&cfg, tok, sizeof(tok)), -CB_EINVAL);

	/* A missing file. */
	assert_int_equal(unlink(tokpath), 0);
	assert_int_equal(gateway_telegram_token(&cfg, tok, sizeof(tok)), -CB_EIO);
}

/* A token file whose first line does not fit is refused, as the same token
 * from $CASEBOT_TELEGRAM_TOKEN is: a cut secret would only show as a 401.
 * A token file others may read is refused too. */
static void test_token_file_too_long(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char tokpath[PATHCAP], tok[16];

	config_defaults(&cfg);
	write_named(fx, "token", "123456789:0123456789abcdef\n", tokpath, sizeof(tokpath));
	assert_int_equal(cb_strlcpy(cfg.gw.telegram.token_file, tokpath, sizeof(cfg.gw.telegram.token_file)), 0);
	assert_int_equal(gateway_telegram_token(&cfg, tok, sizeof(tok)), -CB_ETOOBIG);
	write_named(fx, "token", "42:xyz\n", tokpath, sizeof(tokpath));
	assert_int_equal(chmod(tokpath, 0644), 0);
	assert_int_equal(gateway_telegram_token(&cfg, tok, sizeof(tok)), -CB_EPERM);
}

static void test_missing_file(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP], want[ERRCAP];

	snprintf(path, sizeof(path), "%s/nope.conf", fx->dir);
	assert_int_equal(config_load(&cfg, path, err, sizeof(err)), -CB_ECONFIG);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	assert_string_equal(err, want);

	/* $CASEBOT_CONFIG naming a missing file is just as explicit. */
	assert_int_equal(setenv("CASEBOT_CONFIG", path, 1), 0);
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -CB_ECONFIG);
	assert_string_equal(err, want);
}

static void test_env_config(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char envpath[PATHCAP], argpath[PATHCAP], err[ERRCAP];

	write_ini(fx, "[casebot]\ndata_dir = /from/env\n", envpath, sizeof(envpath));
	write_ini(fx, "[casebot]\ndata_dir = /from/arg\n", argpath, sizeof(argpath));
	assert_int_equal(setenv("CASEBOT_CONFIG", envpath, 1), 0);
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
	assert_string_equal(cfg.path, envpath);
	assert_string_equal(cfg.data_dir, "/from/env");
	/* -c wins over the environment. */
	assert_int_equal(config_load(&cfg, argpath, err, sizeof(err)), 0);
	assert_string_equal(cfg.path, argpath);
	assert_string_equal(cfg.data_dir, "/from/arg");
}

/* Without -c or $CASEBOT_CONFIG, ./casebot.conf is read if present and its
 * absence is fine. Run in the temp directory so the tree's own file, if any,
 * does not interfere. */
static void test_default_lookup(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP];

	assert_int_equal(chdir(fx->dir), 0);
	assert_int_equal(setenv("CASEBOT_CONFIG", "", 1), 0);
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.path, "");
	assert_string_equal(cfg.data_dir, "./data");
	assert_int_equal(cfg.ladder_len, 2);

	write_named(fx, "casebot.conf", "[casebot]\ndata_dir = /from/default\n", path, sizeof(path));
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), 0);
	assert_string_equal(cfg.path, "casebot.conf");
	assert_string_equal(cfg.data_dir, "/from/default");

	/* Errors in the default file still stop the load. */
	write_named(fx, "casebot.conf", "[casebot]\nfoo = bar\n", path, sizeof(path));
	assert_int_equal(config_load(&cfg, NULL, err, sizeof(err)), -CB_ECONFIG);
	assert_string_equal(err, "casebot.conf:2: [casebot] foo: unknown key");
}

/* A secret, a key or a certificate named credential:NAME is the file NAME
 * in $CREDENTIALS_DIRECTORY, where systemd puts what LoadCredential= loads;
 * outside the service, without that directory, it is missing. */
static void test_credentials(void **state)
{
	static const char ini[] =
		"[casebot]\ndocument_key = credential:document.key\nsigning_key = /etc/casebot/signing.key\n"
		"[http]\ntls_cert = credential:tls.crt\ntls_key = credential:tls.key\n"
		"[telegram]\ntoken_file = credential:telegram_token\n"
		"[whatsapp]\nphone_number_id = 1234\nverify_token = v\ntoken_file = credential:whatsapp_token\n"
		"app_secret_file = credential:whatsapp_app_secret\n"
		"[sms]\naccount_sid = AC1\nfrom = +3225550100\npublic_url = https://bot.example.org/sms/hook\n"
		"auth_token_file = credential:sms_auth_token\n"
		"[smtp]\nurl = smtp://127.0.0.1:25\nfrom = bot@example.org\npassword_file = credential:smtp_password\n";
	static const char *const names[] = {"telegram_token", "whatsapp_token", "whatsapp_app_secret",
					    "sms_auth_token", "smtp_password"};
	int (*const readers[])(const struct config *, char *, size_t) = {
		gateway_telegram_token, gateway_whatsapp_token, gateway_whatsapp_app_secret,
		gateway_sms_auth_token, gateway_email_password};
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], creds[PATHCAP], want[PATHCAP + 32], err[ERRCAP], secret[128];

	unsetenv("CREDENTIALS_DIRECTORY");
	unsetenv("CASEBOT_WHATSAPP_TOKEN");
	unsetenv("CASEBOT_WHATSAPP_APP_SECRET");
	unsetenv("CASEBOT_SMS_AUTH_TOKEN");
	unsetenv("CASEBOT_SMTP_PASSWORD");
	if (load_text(fx, ini, &cfg, path, sizeof(path), err) != 0)
		fail_msg("%s", err);
	assert_string_equal(cfg.gw.telegram.token_file, "credential:telegram_token");
	/* Outside the service: no directory, so no file, and the message says why. */
	for (size_t i = 0; i < sizeof(readers) / sizeof(readers[0]); i++)
		assert_int_equal(readers[i](&cfg, secret, sizeof(secret)), -CB_EIO);
	assert_int_equal(config_document_key_path(&cfg, path, sizeof(path)), -CB_ENOENT);
	assert_string_equal(path, "credential:document.key");
	assert_non_null(strstr(config_file_error(-CB_ENOENT), "$CREDENTIALS_DIRECTORY is not set"));

	snprintf(creds, sizeof(creds), "%s/creds", fx->dir);
	assert_int_equal(mkdir(creds, 0700), 0);
	assert_int_equal(setenv("CREDENTIALS_DIRECTORY", creds, 1), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char name[64], text[64];

		snprintf(name, sizeof(name), "creds/%s", names[i]);
		snprintf(text, sizeof(text), "secret-of-%s\n", names[i]);
		write_named(fx, name, text, path, sizeof(path));
		/* systemd makes them 0400, readable by the service's user only. */
		assert_int_equal(chmod(path, 0400), 0);
		assert_int_equal(readers[i](&cfg, secret, sizeof(secret)), 0);
		snprintf(text, sizeof(text), "secret-of-%s", names[i]);
		assert_string_equal(secret, text);
	}
	assert_int_equal(config_document_key_path(&cfg, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/document.key", creds);
	assert_string_equal(path, want);
	/* A plain path stays a path. */
	assert_int_equal(config_signing_key_path(&cfg, path, sizeof(path)), 0);
	assert_string_equal(path, "/etc/casebot/signing.key");
	assert_int_equal(config_file_path(cfg.http_tls_key, path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/tls.key", creds);
	assert_string_equal(path, want);
	/* A directory name that leaves no room for the file's is refused. */
	assert_int_equal(config_file_path(cfg.http_tls_key, path, strlen(creds) + 3), -CB_ETOOBIG);
	/* The file's own rules still hold: others may not read it. */
	snprintf(want, sizeof(want), "%s/telegram_token", creds);
	assert_int_equal(chmod(want, 0644), 0);
	assert_int_equal(gateway_telegram_token(&cfg, secret, sizeof(secret)), -CB_EPERM);
	unsetenv("CREDENTIALS_DIRECTORY");
}

static void note_later(const char *section, const char *key, void *arg)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, ERRCAP - n, "[%s] %s;", section, key);
}

/* A reload takes what can change under a running daemon and names every
 * other key whose value changed, secrets included (by name only). */
static void test_reload_names_restart_keys(void **state)
{
	struct fx *fx = *state;
	struct config run, file;
	char path[PATHCAP], err[ERRCAP], later[ERRCAP] = "";

	assert_int_equal(load_text(fx, "[casebot]\nquiet_hours = 22:00-07:00\nretention_days = 400\n"
				   "[http]\nlisten = 127.0.0.1:1\n[telegram]\ntoken_file = /a\n",
				   &run, path, sizeof(path), err), 0);
	/* The same values again: nothing to say. */
	assert_int_equal(load_text(fx, "[casebot]\nretention_days = 400\nquiet_hours = 22:00-07:00\n"
				   "[http]\nlisten = 127.0.0.1:1\n[telegram]\ntoken_file = /a\n",
				   &file, path, sizeof(path), err), 0);
	config_reload(&run, &file, note_later, later);
	assert_string_equal(later, "");
	assert_int_equal(load_text(fx, "[casebot]\nquiet_hours = 23:00-06:00\nretention_days = 500\n"
				   "emergency_number = 101\n[http]\nlisten = 127.0.0.1:2\n[reminders]\n"
				   "ladder = 1d@09:00\n[telegram]\ntoken_file = /b\nrate_global = 20\n"
				   "[alerts]\nworking_hours = 08:00-16:00\n",
				   &file, path, sizeof(path), err), 0);
	config_reload(&run, &file, note_later, later);
	assert_string_equal(later, "[casebot] retention_days;[http] listen;[alerts] working_hours;"
			    "[telegram] token_file;[telegram] rate_global;");
	assert_int_equal(run.quiet_start, 23 * 60);
	assert_int_equal(run.quiet_end, 6 * 60);
	assert_string_equal(run.emergency_number, "101");
	assert_int_equal(run.ladder_len, 1);
	assert_int_equal(run.ladder[0].at_minute, 9 * 60);
	/* What waits for a restart keeps the value it runs with. */
	assert_int_equal(run.retention_days, 400);
	assert_string_equal(run.http_listen, "127.0.0.1:1");
	assert_string_equal(run.gw.telegram.token_file, "/a");
	assert_true(run.gw.telegram.rate_global == 30.0);
	assert_int_equal(run.work_start, 9 * 60);
}

static void test_webhook_needs_secret(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP], want[ERRCAP];

	assert_int_equal(load_text(fx, "[telegram]\nmode = webhook\n", &cfg, path, sizeof(path), err),
			 -CB_ECONFIG);
	snprintf(want, sizeof(want), "%s: [telegram] mode = webhook needs webhook_secret_file", path);
	assert_string_equal(err, want);

	assert_int_equal(load_text(fx, "[telegram]\nmode = webhook\nwebhook_secret_file = /run/s\n",
				   &cfg, path, sizeof(path), err), 0);
	assert_int_equal(cfg.gw.telegram.webhook, 1);
	assert_int_equal(load_text(fx, "[telegram]\nmode = poll\n", &cfg, path, sizeof(path), err), 0);
	assert_int_equal(cfg.gw.telegram.webhook, 0);
}

static void test_bools(void **state)
{
	static const struct {
		const char *v;
		int want;
	} cases[] = {
		{"yes", 1}, {"true", 1}, {"on", 1}, {"1", 1},
		{"no", 0}, {"false", 0}, {"off", 0}, {"0", 0},
	};
	struct fx *fx = *state;

	for (size_t i = 0; i < CB_ARRAY_SIZE(cases); i++) {
		struct config cfg;
		char text[128], path[PATHCAP], err[ERRCAP];

		snprintf(text, sizeof(text), "[reminders]\nduring_stop = %s\n", cases[i].v);
		assert_int_equal(load_text(fx, text, &cfg, path, sizeof(path), err), 0);
		assert_int_equal(cfg.reminders_during_stop, cases[i].want);
	}
}

/* [fallback]: each kind's time, in seconds for tests, or off. */
static void test_fallback_after(void **state)
{
	struct fx *fx = *state;
	struct config cfg;
	char path[PATHCAP], err[ERRCAP];

	assert_int_equal(load_text(fx, "[fallback]\nreminder = 2s\ncheckin = 3h\n", &cfg, path, sizeof(path), err), 0);
	assert_int_equal(cfg.fallback_reminder_seconds, 2);
	assert_int_equal(cfg.fallback_checkin_seconds, 3 * 3600);
	assert_int_equal(load_text(fx, "[fallback]\nreminder = off\n", &cfg, path, sizeof(path), err), 0);
	assert_int_equal(cfg.fallback_reminder_seconds, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_defaults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_full_example, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_keeps_zone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_error_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syntax_error_before_key_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_quiet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ladder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_duration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_token_file_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_config, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_lookup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_webhook_needs_secret, setup, teardown),
		cmocka_unit_test_setup_teardown(test_credentials, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_names_restart_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bools, setup, teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
