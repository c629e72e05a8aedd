#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/config.h"
#include "bot/gateways/gateway.h"
#include "bot/tz.h"

struct parse_ctx {
	struct config *cfg;
	FILE *fp;
	int line;
	char *err;
	size_t errlen;
	int failed;          /* line of the first key or value error, 0 if none */
	int too_long;        /* line that did not fit libinih's line buffer */
};

static int has_catalogs(const char *dir)
{
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/nl.json", dir);

	return n > 0 && (size_t)n < sizeof(path) && access(path, R_OK) == 0;
}

/* Where the catalogs are when the configuration does not say, found at
 * run time from the program's own path: PREFIX/share/casebot/locales
 * beside an installed PREFIX/bin/casebot, ../locales beside build/casebot
 * in the source tree, else ./locales (a test binary run from the tree).
 * When none holds them, the installed place, for the error to name. */
static void default_locales(char *out, size_t cap)
{
	static const char *const beside[] = {"../share/casebot/locales", "../locales"};
	char exe[CONFIG_PATH_MAX], dir[CONFIG_PATH_MAX + 32], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (size_t i = 0; i < CB_ARRAY_SIZE(beside); i++) {
			snprintf(dir, sizeof(dir), "%s/%s", exe, beside[i]);
			if (has_catalogs(dir) && realpath(dir, real) != NULL && cb_strlcpy(out, real, cap) == 0)
				return;
		}
	}
	if (has_catalogs("locales") && realpath("locales", real) != NULL && cb_strlcpy(out, real, cap) == 0)
		return;
	snprintf(dir, sizeof(dir), "%s/%s", n > 0 ? exe : ".", beside[0]);
	cb_strlcpy(out, dir, cap);
}

void config_defaults(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cb_strlcpy(cfg->data_dir, "./data", sizeof(cfg->data_dir));
	cb_strlcpy(cfg->timezone, "Europe/Brussels", sizeof(cfg->timezone));
	default_locales(cfg->locales_dir, sizeof(cfg->locales_dir));
	cfg->default_language = LANG_NL;
	cfg->quiet_start = 21 * 60;
	cfg->quiet_end = 8 * 60;
	cb_strlcpy(cfg->emergency_number, "112", sizeof(cfg->emergency_number));
	cfg->retention_days = 730;
	cfg->audit_retention_days = 1825;
	cfg->erase_closed_after_days = 90;
	cb_strlcpy(cfg->http_listen, "127.0.0.1:8080", sizeof(cfg->http_listen));
	cfg->ladder[0] = (struct reminder_step){2, 0, 10 * 60};
	cfg->ladder[1] = (struct reminder_step){0, 120, -1};
	cfg->ladder_len = 2;
	cfg->ack_deadline_minutes = 24 * 60;
	cfg->reminders_during_stop = 1;
	cfg->document_reminder_days = 3;
	cfg->checkin_no_answer_minutes = 48 * 60;
	cfg->fallback_reminder_seconds = 24 * 3600;
	cfg->fallback_checkin_seconds = 0;
	cfg->invite_valid_days = 7;
	cfg->console_not_reached_days = 14;
	cfg->escalate_after_seconds = 4 * 3600;
	cfg->work_start = 9 * 60;
	cfg->work_end = 17 * 60;
	cfg->work_days = 0x3e;        /* Monday to Friday */
	for (size_t i = 0; i < gateway_nkinds; i++)
		if (gateway_kinds[i].section != NULL && gateway_kinds[i].section->defaults != NULL)
			gateway_kinds[i].section->defaults(cfg);
}

/* What "credential:" may name: one file in the credentials directory, as
 * systemd's LoadCredential= IDs are. */
static int credential_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > 255 || name[0] == '.')
		return 0;
	for (const char *p = name; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-' && *p != '@')
			return 0;
	return 1;
}

int config_check_file(const char *value)
{
	size_t n = strlen(CONFIG_CREDENTIAL);

	return strncmp(value, CONFIG_CREDENTIAL, n) != 0 || credential_name_ok(value + n) ? 0 : -CB_EINVAL;
}

int config_file_path(const char *value, char *out, size_t cap)
{
	size_t n = strlen(CONFIG_CREDENTIAL);
	const char *dir;
	int len;

	/* Whatever fails, out names the file for a message. */
	if (cb_strlcpy(out, value, cap) != 0)
		return -CB_ETOOBIG;
	if (strncmp(value, CONFIG_CREDENTIAL, n) != 0)
		return 0;
	if (!credential_name_ok(value + n))
		return -CB_EINVAL;
	/* Outside its service there is no such directory: the file is missing. */
	dir = getenv("CREDENTIALS_DIRECTORY");
	if (dir == NULL || dir[0] == '\0') {
		errno = ENOENT;
		return -CB_ENOENT;
	}
	len = snprintf(out, cap, "%s/%s", dir, value + n);
	if (len < 0 || (size_t)len >= cap) {
		cb_strlcpy(out, value, cap);
		return -CB_ETOOBIG;
	}
	return 0;
}

const char *config_file_error(int rc)
{
	if (rc == -CB_ENOENT)
		return "a credential, and $CREDENTIALS_DIRECTORY is not set (systemd's LoadCredential= sets it)";
	if (rc == -CB_EINVAL)
		return CONFIG_FILE_WHY;
	return "the path is too long";
}

static int key_path(const struct config *cfg, const char *set, const char *name, char *out, size_t cap)
{
	int n;

	if (set[0] != '\0')
		return config_file_path(set, out, cap);
	n = snprintf(out, cap, "%s/%s", cfg->data_dir, name);
	return n < 0 || (size_t)n >= cap ? -CB_ETOOBIG : 0;
}

int config_document_key_path(const struct config *cfg, char *out, size_t cap)
{
	return key_path(cfg, cfg->document_key, "document.key", out, cap);
}

int config_signing_key_path(const struct config *cfg, char *out, size_t cap)
{
	return key_path(cfg, cfg->signing_key, "signing.key", out, cap);
}

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* "mon-fri" or "mon,wed,fri" into bits 1..7. */
static int parse_days(const char *v, int *out)
{
	static const char *const names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
	char buf[64], *save = NULL, *tok;
	int bits = 0;

	if (cb_strlcpy(buf, v, sizeof(buf)) != 0)
		return -CB_EINVAL;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		int from = -1, to = -1;

		tok = trim(tok);
		if (dash != NULL)
			*dash = '\0';
		for (int i = 0; i < 7; i++) {
			if (strcmp(trim(tok), names[i]) == 0)
				from = i + 1;
			if (dash != NULL && strcmp(trim(dash + 1), names[i]) == 0)
				to = i + 1;
		}
		if (from < 0 || (dash != NULL && (to < 0 || to < from)))
			return -CB_EINVAL;
		for (int d = from; d <= (dash != NULL ? to : from); d++)
			bits |= 1 << d;
	}
	if (bits == 0)
		return -CB_EINVAL;
	*out = bits;
	return 0;
}

/* "20s" or a duration in minutes ("2m"), up to ten minutes. */
static int parse_seconds(const char *v, int *out)
{
	char *end;
	long secs;
	int minutes;

	if (v == NULL || !isdigit((unsigned char)*v))
		return -CB_EINVAL;
	errno = 0;
	secs = strtol(v, &end, 10);
	if (errno != 0 || strcmp(end, "s") != 0) {
		if (config_parse_duration(v, &minutes) != 0)
			return -CB_EINVAL;
		secs = (long)minutes * 60;
	}
	if (secs < 1 || secs > 600)
		return -CB_EINVAL;
	*out = (int)secs;
	return 0;
}

int config_parse_duration(const char *s, int *minutes)
{
	char *end;
	long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -CB_EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || v < 0 || v > 366L * 24 * 60)
		return -CB_EINVAL;
	if (strcmp(end, "m") == 0)
		;
	else if (strcmp(end, "h") == 0)
		v *= 60;
	else if (strcmp(end, "d") == 0)
		v *= 24 * 60;
	else
		return -CB_EINVAL;
	if (v > 366L * 24 * 60)
		return -CB_EINVAL;
	*minutes = (int)v;
	return 0;
}

int config_parse_quiet(const char *s, int *start, int *end)
{
	char a[8], b[8];
	const char *dash;

	if (strcmp(s, "off") == 0) {
		*start = *end = -1;
		return 0;
	}
	dash = strchr(s, '-');
	if (dash == NULL || dash - s >= (long)sizeof(a) || strlen(dash + 1) >= sizeof(b))
		return -CB_EINVAL;
	memcpy(a, s, (size_t)(dash - s));
	a[dash - s] = '\0';
	cb_strlcpy(b, dash + 1, sizeof(b));
	if (tz_parse_hhmm(a, start) != 0 || tz_parse_hhmm(b, end) != 0 || *start == *end)
		return -CB_EINVAL;
	return 0;
}

int config_parse_ladder(const char *s, struct reminder_step *steps, int max, int *n)
{
	char buf[256], *save = NULL, *tok;
	int count = 0;

	if (cb_strlcpy(buf, s, sizeof(buf)) != 0)
		return -CB_EINVAL;
	/* strtok_r would skip an empty item; "2h,,1h" is a typo worth a word. */
	if (buf[0] == '\0' || buf[0] == ',' || strstr(buf, ",,") != NULL || buf[strlen(buf) - 1] == ',')
		return -CB_EINVAL;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		struct reminder_step st = {0, 0, -1};
		char *at, *item = trim(tok);
		int minutes;

		if (item[0] == '\0' || count == max)
			return -CB_EINVAL;
		at = strchr(item, '@');
		if (at != NULL) {
			*at = '\0';
			if (tz_parse_hhmm(at + 1, &st.at_minute) != 0)
				return -CB_EINVAL;
		}
		if (config_parse_duration(item, &minutes) != 0 || minutes == 0)
			return -CB_EINVAL;
		if (at != NULL) {
			/* A time of day goes with a whole number of days. */
			if (minutes % (24 * 60) != 0)
				return -CB_EINVAL;
			st.offset_days = minutes / (24 * 60);
		} else {
			st.offset_minutes = minutes;
		}
		steps[count++] = st;
	}
	if (count == 0)
		return -CB_EINVAL;
	*n = count;
	return 0;
}

int config_in_quiet(const struct config *cfg, int m)
{
	if (cfg->quiet_start < 0)
		return 0;
	if (cfg->quiet_start < cfg->quiet_end)
		return m >= cfg->quiet_start && m < cfg->quiet_end;
	return m >= cfg->quiet_start || m < cfg->quiet_end;
}

static int parse_bool(const char *v, int *out)
{
	if (strcmp(v, "yes") == 0 || strcmp(v, "true") == 0 || strcmp(v, "on") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcmp(v, "no") == 0 || strcmp(v, "false") == 0 || strcmp(v, "off") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else
		return -CB_EINVAL;
	return 0;
}

static int parse_rate(const char *v, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !(d > 0.0) || d > 100000.0)
		return -CB_EINVAL;
	*out = d;
	return 0;
}

static int parse_int(const char *v, int lo, int hi, int *out)
{
	char *end;
	long l;

	errno = 0;
	l = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || l < lo || l > hi)
		return -CB_EINVAL;
	*out = (int)l;
	return 0;
}

static int parse_minutes(const char *v, int *out)
{
	return config_parse_duration(v, out);
}

/* A time after which something happens, or off. Seconds ("30s") are
 * for tests; people write 24h. */
static int parse_after(const char *v, int *seconds)
{
	char *end;
	long secs;
	int minutes;

	if (strcmp(v, "off") == 0) {
		*seconds = 0;
		return 0;
	}
	secs = strtol(v, &end, 10);
	if (end != v && strcmp(end, "s") == 0 && secs > 0 && secs < 86400) {
		*seconds = (int)secs;
		return 0;
	}
	if (config_parse_duration(v, &minutes) != 0 || minutes <= 0 || minutes > 30 * 24 * 60)
		return -CB_EINVAL;
	*seconds = minutes * 60;
	return 0;
}

static int copy_str(const char *v, char *dst, size_t cap)
{
	if (v[0] == '\0')
		return -CB_EINVAL;
	return cb_strlcpy(dst, v, cap) == 0 ? 0 : -CB_EINVAL;
}

/* A file's path, or credential:NAME. */
static const char *copy_file(const char *v, char *dst, size_t cap)
{
	if (config_check_file(v) != 0)
		return CONFIG_FILE_WHY;
	return copy_str(v, dst, cap) == 0 ? NULL : "bad value";
}

/* A key of a gateway's section, through that gateway's table of keys. */
static const char *gateway_key(struct config *c, const char *sec, const char *key, const char *v, int *known)
{
	*known = 0;
	for (size_t i = 0; i < gateway_nkinds; i++) {
		const struct config_section *s = gateway_kinds[i].section;

		if (s == NULL || strcmp(s->name, sec) != 0)
			continue;
		for (size_t k = 0; k < s->nkeys; k++) {
			const struct config_key *ck = &s->keys[k];
			char *at = (char *)c + ck->offset;

			if (strcmp(ck->name, key) != 0)
				continue;
			*known = 1;
			if (ck->check != NULL && ck->check(v) != 0)
				return ck->why;
			switch (ck->kind) {
			case CONFIG_TEXT:
				return copy_str(v, at, ck->size) == 0 ? NULL : "bad value";
			case CONFIG_RATE:
				return parse_rate(v, (double *)(void *)at) == 0 ? NULL : "bad value";
			case CONFIG_HHMM:
				return tz_parse_hhmm(v, (int *)(void *)at) == 0 ? NULL : ck->why;
			case CONFIG_SECONDS:
				return parse_seconds(v, (int *)(void *)at) == 0 ? NULL :
				       "expected seconds like 20s (at most 10m)";
			case CONFIG_CHOICE:
				for (int n = 0; ck->choices[n] != NULL; n++) {
					if (strcmp(v, ck->choices[n]) == 0) {
						*(int *)(void *)at = n;
						return NULL;
					}
				}
				return ck->why;
			}
			return "bad value";
		}
	}
	return NULL;
}

/* A value is "bad" with a reason, or the key is unknown. */
static const char *set_value(struct config *c, const char *sec, const char *key,
			     const char *v, int *known)
{
	int rc = 0;

	*known = 1;
#define KEY(s, k) (strcmp(sec, s) == 0 && strcmp(key, k) == 0)
	if (KEY("casebot", "data_dir"))
		rc = copy_str(v, c->data_dir, sizeof(c->data_dir));
	else if (KEY("casebot", "timezone")) {
		rc = copy_str(v, c->timezone, sizeof(c->timezone));
		if (rc == 0 && tz_check(v) != 0)
			return "unknown time zone";
	} else if (KEY("casebot", "locales_dir"))
		rc = copy_str(v, c->locales_dir, sizeof(c->locales_dir));
	else if (KEY("casebot", "default_language")) {
		if (lang_parse(v, &c->default_language) != 0)
			return "expected nl, fr, de or en";
	} else if (KEY("casebot", "quiet_hours")) {
		if (config_parse_quiet(v, &c->quiet_start, &c->quiet_end) != 0)
			return "expected HH:MM-HH:MM or off";
	} else if (KEY("casebot", "emergency_number"))
		rc = copy_str(v, c->emergency_number, sizeof(c->emergency_number));
	else if (KEY("casebot", "document_key"))
		return copy_file(v, c->document_key, sizeof(c->document_key));
	else if (KEY("casebot", "signing_key"))
		return copy_file(v, c->signing_key, sizeof(c->signing_key));
	else if (KEY("casebot", "retention_days"))
		rc = parse_int(v, 30, 3650, &c->retention_days);
	else if (KEY("casebot", "audit_retention_days"))
		rc = parse_int(v, 30, 7300, &c->audit_retention_days);
	else if (KEY("casebot", "erase_closed_after"))
		rc = parse_int(v, 1, 3650, &c->erase_closed_after_days);
	else if (KEY("http", "listen"))
		rc = copy_str(v, c->http_listen, sizeof(c->http_listen));
	else if (KEY("http", "tls_cert"))
		return copy_file(v, c->http_tls_cert, sizeof(c->http_tls_cert));
	else if (KEY("http", "tls_key"))
		return copy_file(v, c->http_tls_key, sizeof(c->http_tls_key));
	else if (KEY("http", "public_url")) {
		if (strncmp(v, "https://", 8) != 0 && strncmp(v, "http://", 7) != 0)
			return "expected an https:// URL";
		rc = copy_str(v, c->http_public_url, sizeof(c->http_public_url));
	}
	else if (KEY("reminders", "ladder")) {
		if (config_parse_ladder(v, c->ladder, CONFIG_LADDER_MAX, &c->ladder_len) != 0)
			return "expected steps like \"2d@10:00, 2h\" (at most 4)";
	} else if (KEY("reminders", "ack_deadline"))
		rc = parse_minutes(v, &c->ack_deadline_minutes);
	else if (KEY("reminders", "during_stop"))
		rc = parse_bool(v, &c->reminders_during_stop);
	else if (KEY("documents", "reminder_every")) {
		int m;

		if (config_parse_duration(v, &m) != 0 || m < 24 * 60 || m % (24 * 60) != 0)
			return "expected a whole number of days, like 3d";
		c->document_reminder_days = m / (24 * 60);
	} else if (KEY("checkins", "no_answer_after"))
		rc = parse_minutes(v, &c->checkin_no_answer_minutes);
	else if (KEY("fallback", "reminder")) {
		if (parse_after(v, &c->fallback_reminder_seconds) != 0)
			return "expected a duration like 24h, or off";
	} else if (KEY("fallback", "checkin")) {
		if (parse_after(v, &c->fallback_checkin_seconds) != 0)
			return "expected a duration like 24h, or off";
	}
	else if (KEY("invites", "valid_days"))
		rc = parse_int(v, 1, 90, &c->invite_valid_days);
	else if (KEY("console", "not_reached_days"))
		rc = parse_int(v, 1, 365, &c->console_not_reached_days);
	else if (KEY("console", "secure_cookie"))
		rc = parse_bool(v, &c->console_secure_cookie);
	else if (KEY("alerts", "escalate_after")) {
		int minutes;
		char *end;
		long secs;

		/* Seconds are for tests; people write 4h. */
		secs = strtol(v, &end, 10);
		if (end != v && strcmp(end, "s") == 0 && secs > 0 && secs < 86400)
			c->escalate_after_seconds = (int)secs;
		else if (config_parse_duration(v, &minutes) == 0 && minutes > 0)
			c->escalate_after_seconds = minutes * 60;
		else
			return "expected a duration like 4h";
	} else if (KEY("alerts", "working_hours")) {
		if (config_parse_quiet(v, &c->work_start, &c->work_end) != 0 || c->work_start < 0 ||
		    c->work_start > c->work_end)
			return "expected HH:MM-HH:MM within one day";
	} else if (KEY("alerts", "working_days")) {
		if (parse_days(v, &c->work_days) != 0)
			return "expected days like mon-fri or mon,wed,fri";
	}
	else
		return gateway_key(c, sec, key, v, known);
#undef KEY
	return rc == 0 ? NULL : "bad value";
}

static char *line_reader(char *str, int num, void *stream)
{
	struct parse_ctx *ctx = stream;
	char *r = fgets(str, num, ctx->fp);
	size_t n;

	if (r == NULL)
		return NULL;
	ctx->line++;
	/* libinih reads a fixed number of bytes a line; a longer line would be
	 * split and misread, so it is an error of its own. */
	n = strlen(r);
	if (n > 0 && r[n - 1] != '\n' && !feof(ctx->fp) && ctx->too_long == 0)
		ctx->too_long = ctx->line;
	return r;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *ctx = user;
	const char *why;
	int known;

	if (ctx->failed)
		return 0;
	why = set_value(ctx->cfg, section, name, value, &known);
	if (!known)
		why = "unknown key";
	if (why != NULL) {
		snprintf(ctx->err, ctx->errlen, "%s:%d: [%s] %s: %s",
			 ctx->cfg->path, ctx->line, section, name, why);
		ctx->failed = ctx->line;
		return 0;
	}
	return 1;
}

int config_load(struct config *cfg, const char *path, char *err, size_t errlen)
{
	struct parse_ctx ctx = {cfg, NULL, 0, err, errlen, 0, 0};
	const char *env = getenv("CASEBOT_CONFIG");
	int explicit = 1, rc;

	config_defaults(cfg);
	err[0] = '\0';
	if (path == NULL) {
		path = env != NULL && env[0] != '\0' ? env : NULL;
		if (path == NULL) {
			path = "casebot.conf";
			explicit = 0;
		}
	}
	if (tz_check(cfg->timezone) != 0) {
		snprintf(err, errlen, "time zone data for %s is missing (install tzdata)", cfg->timezone);
		return -CB_ECONFIG;
	}
	ctx.fp = fopen(path, "r");
	if (ctx.fp == NULL) {
		if (!explicit && errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -CB_ECONFIG;
	}
	cb_strlcpy(cfg->path, path, sizeof(cfg->path));
	rc = ini_parse_stream(line_reader, &ctx, handler, &ctx);
	fclose(ctx.fp);
	/* Report whichever error comes first in the file. */
	if (ctx.too_long > 0 && (ctx.failed == 0 || ctx.too_long <= ctx.failed) &&
	    (rc <= 0 || ctx.too_long <= rc)) {
		snprintf(err, errlen, "%s:%d: line too long (at most %d bytes)", path, ctx.too_long,
			 INI_MAX_LINE - 2);
		return -CB_ECONFIG;
	}
	if (rc != 0 && (ctx.failed == 0 || (rc > 0 && rc < ctx.failed))) {
		snprintf(err, errlen, "%s:%d: cannot parse this line", path, rc > 0 ? rc : ctx.line);
		return -CB_ECONFIG;
	}
	if (ctx.failed)
		return -CB_ECONFIG;
	if ((cfg->http_tls_cert[0] == '\0') != (cfg->http_tls_key[0] == '\0')) {
		snprintf(err, errlen, "%s: [http] tls_cert and tls_key go together: set both, or neither", path);
		return -CB_ECONFIG;
	}
	for (size_t i = 0; i < gateway_nkinds; i++) {
		const struct config_section *s = gateway_kinds[i].section;

		if (s != NULL && s->check != NULL && s->check(cfg, path, err, errlen) != 0)
			return -CB_ECONFIG;
	}
	return 0;
}

/* The keys outside the gateways' sections, where they sit in struct
 * config (a key may fill two members): a reload takes the live ones, the
 * others wait for a restart. */
static const struct core_key {
	const char *section, *name;
	struct {
		size_t off, size;
	} at[2];
	int text, live;
} core_keys[] = {
	{"casebot", "data_dir", {{CONFIG_AT(data_dir)}}, 1, 0},
	{"casebot", "timezone", {{CONFIG_AT(timezone)}}, 1, 0},
	{"casebot", "locales_dir", {{CONFIG_AT(locales_dir)}}, 1, 1},
	{"casebot", "default_language", {{CONFIG_AT(default_language)}}, 0, 0},
	{"casebot", "quiet_hours", {{CONFIG_AT(quiet_start)}, {CONFIG_AT(quiet_end)}}, 0, 1},
	{"casebot", "emergency_number", {{CONFIG_AT(emergency_number)}}, 1, 1},
	{"casebot", "document_key", {{CONFIG_AT(document_key)}}, 1, 0},
	{"casebot", "signing_key", {{CONFIG_AT(signing_key)}}, 1, 0},
	{"casebot", "retention_days", {{CONFIG_AT(retention_days)}}, 0, 0},
	{"casebot", "audit_retention_days", {{CONFIG_AT(audit_retention_days)}}, 0, 0},
	{"casebot", "erase_closed_after", {{CONFIG_AT(erase_closed_after_days)}}, 0, 0},
	{"http", "listen", {{CONFIG_AT(http_listen)}}, 1, 0},
	{"http", "tls_cert", {{CONFIG_AT(http_tls_cert)}}, 1, 0},
	{"http", "tls_key", {{CONFIG_AT(http_tls_key)}}, 1, 0},
	{"http", "public_url", {{CONFIG_AT(http_public_url)}}, 1, 0},
	{"reminders", "ladder", {{CONFIG_AT(ladder)}, {CONFIG_AT(ladder_len)}}, 0, 1},
	{"reminders", "ack_deadline", {{CONFIG_AT(ack_deadline_minutes)}}, 0, 1},
	{"reminders", "during_stop", {{CONFIG_AT(reminders_during_stop)}}, 0, 1},
	{"documents", "reminder_every", {{CONFIG_AT(document_reminder_days)}}, 0, 1},
	{"checkins", "no_answer_after", {{CONFIG_AT(checkin_no_answer_minutes)}}, 0, 1},
	{"fallback", "reminder", {{CONFIG_AT(fallback_reminder_seconds)}}, 0, 1},
	{"fallback", "checkin", {{CONFIG_AT(fallback_checkin_seconds)}}, 0, 1},
	{"invites", "valid_days", {{CONFIG_AT(invite_valid_days)}}, 0, 0},
	{"console", "not_reached_days", {{CONFIG_AT(console_not_reached_days)}}, 0, 0},
	{"console", "secure_cookie", {{CONFIG_AT(console_secure_cookie)}}, 0, 0},
	{"alerts", "escalate_after", {{CONFIG_AT(escalate_after_seconds)}}, 0, 0},
	{"alerts", "working_hours", {{CONFIG_AT(work_start)}, {CONFIG_AT(work_end)}}, 0, 0},
	{"alerts", "working_days", {{CONFIG_AT(work_days)}}, 0, 0},
};

static int differs(const struct config *a, const struct config *b, size_t off, size_t size, int text)
{
	const char *x = (const char *)a + off, *y = (const char *)b + off;

	return text ? strncmp(x, y, size) != 0 : memcmp(x, y, size) != 0;
}

void config_reload(struct config *cfg, const struct config *file,
		   void (*later)(const char *section, const char *key, void *arg), void *arg)
{
	for (size_t i = 0; i < CB_ARRAY_SIZE(core_keys); i++) {
		const struct core_key *k = &core_keys[i];
		int changed = 0;

		for (int r = 0; r < 2 && k->at[r].size > 0; r++)
			changed |= differs(cfg, file, k->at[r].off, k->at[r].size, k->text);
		if (!changed)
			continue;
		if (!k->live) {
			later(k->section, k->name, arg);
			continue;
		}
		for (int r = 0; r < 2 && k->at[r].size > 0; r++)
			memcpy((char *)cfg + k->at[r].off, (const char *)file + k->at[r].off, k->at[r].size);
	}
	/* A gateway keeps what it was started with: its tokens, URLs, limits. */
	for (size_t i = 0; i < gateway_nkinds; i++) {
		const struct config_section *s = gateway_kinds[i].section;

		for (size_t k = 0; s != NULL && k < s->nkeys; k++)
			if (differs(cfg, file, s->keys[k].offset, s->keys[k].size, s->keys[k].kind == CONFIG_TEXT))
				later(s->name, s->keys[k].name, arg);
	}
}

/* Reads the first line of a secret file into out; a file others may read
 * is refused, and so is a line that does not fit. */
int config_secret_file(const char *value, char *out, size_t cap)
{
	char path[CONFIG_PATH_MAX];
	struct stat sb;
	FILE *fp;
	size_t n;
	char *s;
	int rc = config_file_path(value, path, sizeof(path));

	if (rc != 0)
		return rc == -CB_ENOENT ? -CB_EIO : rc;
	if ((fp = fopen(path, "r")) == NULL)
		return -CB_EIO;
	if (fstat(fileno(fp), &sb) != 0 || (sb.st_mode & 077) != 0) {
		rc = -CB_EPERM;
		goto out;
	}
	if (fgets(out, (int)cap, fp) == NULL) {
		rc = -CB_EINVAL;
		goto out;
	}
	n = strlen(out);
	if (n > 0 && out[n - 1] != '\n' && !feof(fp) && fgetc(fp) != EOF) {
		rc = -CB_ETOOBIG;
		goto out;
	}
	s = trim(out);
	memmove(out, s, strlen(s) + 1);
	if (out[0] == '\0')
		rc = -CB_EINVAL;
out:
	fclose(fp);
	return rc;
}

