/* Configuration: an INI file read with libinih.
 * Path: -c FILE, else $CASEBOT_CONFIG, else ./casebot.conf (absent is fine:
 * every key has a default). Secrets come from files or the environment and
 * are never printed. */
#ifndef CASEBOT_CONFIG_H
#define CASEBOT_CONFIG_H

#include <stddef.h>

#include "bot/casebot.h"
#include "bot/gateways/settings.h"

#define CONFIG_PATH_MAX 512
#define CONFIG_LADDER_MAX 4

/* One reminder step: offset before the appointment; with at_minute >= 0 the
 * reminder goes at that local time on the day offset_days before. */
struct reminder_step {
	int offset_days;     /* "2d@10:00": 2 days before, at 10:00 */
	int offset_minutes;  /* "2h": 120 minutes before */
	int at_minute;       /* minutes after local midnight, or -1 */
};

struct config {
	char path[CONFIG_PATH_MAX];   /* the file read, "" if none */
	/* [casebot] */
	char data_dir[CONFIG_PATH_MAX];
	char timezone[64];
	char locales_dir[CONFIG_PATH_MAX];
	enum lang default_language;
	int quiet_start;              /* minutes after midnight, -1 when off */
	int quiet_end;
	char emergency_number[32];
	int retention_days;           /* contact log, ended messages, alerts, inbound rows */
	int audit_retention_days;     /* the audit trail */
	int erase_closed_after_days;  /* a closed family is erased this long after closing */
	/* Key files, "" for the default under data_dir: the document key may
	 * live elsewhere (a systemd credential), and so may the Ed25519 key
	 * that signs contact-log exports. */
	char document_key[CONFIG_PATH_MAX];
	char signing_key[CONFIG_PATH_MAX];
	/* [http] */
	char http_listen[128];
	char http_tls_cert[CONFIG_PATH_MAX];   /* "": plain HTTP */
	char http_tls_key[CONFIG_PATH_MAX];
	/* The daemon's address as families reach it, through the reverse
	 * proxy ("https://bot.example.org"): one-time links to calendar
	 * files start with it. "" (the default): no links are sent. */
	char http_public_url[256];
	/* [reminders] */
	struct reminder_step ladder[CONFIG_LADDER_MAX];
	int ladder_len;
	int ack_deadline_minutes;     /* alert when unconfirmed this long after the first reminder */
	int reminders_during_stop;    /* appointment reminders continue after STOP */
	/* [documents] */
	int document_reminder_days;
	/* [checkins] */
	int checkin_no_answer_minutes;
	/* [fallback]: a message of this kind still unanswered this long after
	 * it went (or halfway to its appointment, when sooner) is offered to
	 * its reader's next chat; 0: never */
	int fallback_reminder_seconds;
	int fallback_checkin_seconds;
	/* [invites] */
	int invite_valid_days;
	/* [console] */
	int console_not_reached_days; /* the overview's "not reached" list */
	int console_secure_cookie;    /* behind HTTPS: cookies only go over it */
	/* [alerts] */
	int escalate_after_seconds;   /* working time before an alert moves up */
	int work_start, work_end;     /* working hours, minutes after midnight */
	int work_days;                /* bit 1 = Monday ... bit 7 = Sunday */
	/* The gateways' sections ([telegram], [smtp]...): bot/gateways/settings.h */
	struct gateway_settings gw;
};

/* Fills defaults, then reads path (NULL: the default lookup). On error
 * writes one line "FILE:LINE: key: what" into err. */
int config_load(struct config *cfg, const char *path, char *err, size_t errlen);
void config_defaults(struct config *cfg);
/* A reload (SIGHUP): cfg takes from file what can change under a running
 * daemon (quiet hours, reminders, documents, check-ins, fallback, the
 * emergency number, the catalogs' place); for every other key whose value
 * differs, later is called with its section and name, and cfg keeps the
 * value it has. */
void config_reload(struct config *cfg, const struct config *file,
		   void (*later)(const char *section, const char *key, void *arg), void *arg);

/* A file the configuration names (a secret, a key, a certificate) is a
 * path, or credential:NAME for $CREDENTIALS_DIRECTORY/NAME: what a systemd
 * unit's LoadCredential=NAME:... gives the service. */
#define CONFIG_CREDENTIAL "credential:"
/* 0 when value is a path or credential: with a name systemd allows. */
int config_check_file(const char *value);
/* The path to open for value. A credential outside its service (no
 * $CREDENTIALS_DIRECTORY) is -CB_ENOENT, with errno ENOENT. */
int config_file_path(const char *value, char *out, size_t cap);
/* Why config_file_path (or a key path below) returned rc, in words. */
const char *config_file_error(int rc);

/* The first line of a secret file (a path or credential:NAME), trimmed.
 * -CB_EIO when it cannot be opened, -CB_EPERM when others may read the
 * file, -CB_ETOOBIG when the line does not fit. */
int config_secret_file(const char *value, char *out, size_t cap);

/* One key of a gateway's section, read through the section's table: the
 * value goes to offset in struct config, as its kind says. */
enum config_kind {
	CONFIG_TEXT,          /* a string of size bytes at most, not empty */
	CONFIG_RATE,          /* a double: messages per second */
	CONFIG_HHMM,          /* an int: minutes after local midnight */
	CONFIG_CHOICE,        /* an int: the index of the value in choices */
	CONFIG_SECONDS        /* an int: seconds, 1 to 600, written 20s or 2m */
};

struct config_key {
	const char *name;
	enum config_kind kind;
	size_t offset;
	size_t size;
	int (*check)(const char *value);     /* 0 when acceptable; NULL: any */
	const char *const *choices;          /* CONFIG_CHOICE, NULL-terminated */
	const char *why;                     /* said when check or choices refuse */
};

struct config_section {
	const char *name;                    /* "telegram" for [telegram] */
	const struct config_key *keys;
	size_t nkeys;
	void (*defaults)(struct config *cfg);
	/* After the whole file: what no single key can say ("url needs from"). */
	int (*check)(const struct config *cfg, const char *path, char *err, size_t errlen);
};

#define CONFIG_AT(member) offsetof(struct config, member), sizeof(((struct config *)0)->member)
#define CONFIG_FILE_WHY "expected a path or credential:NAME"
/* A key that names a file: a path or credential:NAME. */
#define CONFIG_FILE_KEY(name, member) {name, CONFIG_TEXT, CONFIG_AT(member), config_check_file, NULL, CONFIG_FILE_WHY}

/* The document key's path (document_key, else data_dir/document.key) and
 * the signing key's (signing_key, else data_dir/signing.key). */
int config_document_key_path(const struct config *cfg, char *out, size_t cap);
int config_signing_key_path(const struct config *cfg, char *out, size_t cap);

/* Parses "21:00-08:00" or "off". */
int config_parse_quiet(const char *s, int *start, int *end);
/* Parses "2d@10:00, 2h". */
int config_parse_ladder(const char *s, struct reminder_step *steps, int max, int *n);
/* Parses a duration "90m", "4h", "2d" into minutes. */
int config_parse_duration(const char *s, int *minutes);

/* True if the local minute-of-day m falls in quiet hours. */
int config_in_quiet(const struct config *cfg, int minute_of_day);

#endif
