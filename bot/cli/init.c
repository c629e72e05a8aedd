/* casebot init, casebot check. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/compose.h"
#include "bot/daemon.h"
#include "bot/log.h"
#include "bot/gateways/telegram_api.h"
#include "bot/gateways/whatsapp.h"
#include "bot/gateways/whatsapp_send.h"
#include "bot/tz.h"
#include "bot/vault.h"
#include "locales/locale.h"

enum key_kind { KEY_DOCUMENTS, KEY_SIGNING };

_Static_assert(crypto_sign_SECRETKEYBYTES >= crypto_secretstream_xchacha20poly1305_KEYBYTES,
	       "one buffer holds either key");

/* A key of the installation in its own new 0600 file, never in the
 * database: the key that encrypts documents at rest, or the Ed25519 secret
 * key that signs contact-log exports (64 bytes, the public key in its
 * second half). An existing key is never replaced. */
static int make_key(struct cli *c, const char *path, enum key_kind kind, int *created)
{
	unsigned char key[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	size_t len;
	ssize_t n;
	int fd;

	*created = 0;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return CLI_OK;
		return cli_fail(c, "%s: cannot create: %s", path, strerror(errno));
	}
	if (sodium_init() < 0) {
		close(fd);
		unlink(path);
		return cli_fail(c, "libsodium failed to start");
	}
	if (kind == KEY_SIGNING) {
		crypto_sign_keypair(pk, key);
		len = crypto_sign_SECRETKEYBYTES;
	} else {
		crypto_secretstream_xchacha20poly1305_keygen(key);
		len = crypto_secretstream_xchacha20poly1305_KEYBYTES;
	}
	n = write(fd, key, len);
	sodium_memzero(key, sizeof(key));
	if (n != (ssize_t)len || fsync(fd) != 0) {
		close(fd);
		unlink(path);
		return cli_fail(c, "%s: cannot write the key", path);
	}
	close(fd);
	*created = 1;
	return CLI_OK;
}

static int cmd_init(struct cli *c, int argc, char **argv)
{
	char err[512], key[PATH_MAX];
	int rc, created, signing;

	if ((rc = cli_args_only(c, argc, argv, 0, "")) != CLI_OK)
		return rc;
	if (store_open(c->cfg.data_dir, 1, &c->store, err, sizeof(err)) != 0)
		return cli_fail(c, "%s", err);
	if ((rc = config_document_key_path(&c->cfg, key, sizeof(key))) != 0)
		return cli_usage_error(c, "document_key: %s", config_file_error(rc));
	if ((rc = make_key(c, key, KEY_DOCUMENTS, &created)) != CLI_OK)
		return rc;
	if ((rc = config_signing_key_path(&c->cfg, key, sizeof(key))) != 0)
		return cli_usage_error(c, "signing_key: %s", config_file_error(rc));
	if ((rc = make_key(c, key, KEY_SIGNING, &signing)) != CLI_OK)
		return rc;
	if ((rc = cli_audit(c, "init", NULL, NULL)) != CLI_OK)
		return rc;
	fprintf(c->out, "data directory %s ready (schema version %d%s%s)\n", c->cfg.data_dir,
		store_schema_version(c->store), created ? ", new document key" : "",
		signing ? ", new signing key" : "");
	return CLI_OK;
}

/* A secret file, read as the daemon will read it; the value is wiped at
 * once and never printed. */
static int check_secret_file(struct cli *c, const char *what, const char *path, char *buf, size_t cap)
{
	char file[CONFIG_PATH_MAX];
	int rc = config_file_path(path, file, sizeof(file)), e;

	if (rc != 0)
		return cli_usage_error(c, "%s %s: %s", what, path, config_file_error(rc));
	rc = config_secret_file(path, buf, cap);
	e = errno;
	if (rc == 0)
		return CLI_OK;
	sodium_memzero(buf, cap);
	if (rc == -CB_EPERM)
		return cli_usage_error(c, "%s %s: others may read it (chmod 600 %s)", what, path, path);
	if (rc == -CB_EINVAL)
		return cli_usage_error(c, "%s %s: the first line is empty", what, path);
	if (rc == -CB_ETOOBIG)
		return cli_usage_error(c, "%s %s: the first line is too long", what, path);
	return cli_usage_error(c, "%s %s: cannot read it: %s", what, path, strerror(e));
}

/* WhatsApp's token and app secret, each from its variable or its file. */
static int check_whatsapp_secrets(struct cli *c)
{
	static const struct {
		const char *what, *env, *key;
		size_t file;
	} s[] = {
		{"whatsapp token", "CASEBOT_WHATSAPP_TOKEN", "[whatsapp] token_file",
		 offsetof(struct config, gw.whatsapp.token_file)},
		{"whatsapp app secret", "CASEBOT_WHATSAPP_APP_SECRET", "[whatsapp] app_secret_file",
		 offsetof(struct config, gw.whatsapp.app_secret_file)},
	};
	char secret[WHATSAPP_TOKEN_MAX];
	int rc;

	for (size_t i = 0; i < CB_ARRAY_SIZE(s); i++) {
		const char *env = getenv(s[i].env), *file = (const char *)&c->cfg + s[i].file;

		if (env != NULL && env[0] != '\0') {
			fprintf(c->out, "%s: from $%s\n", s[i].what, s[i].env);
		} else if (file[0] != '\0') {
			rc = check_secret_file(c, s[i].key, file, secret, sizeof(secret));
			sodium_memzero(secret, sizeof(secret));
			if (rc != CLI_OK)
				return rc;
			fprintf(c->out, "%s: from %s\n", s[i].what, file);
		} else {
			fprintf(c->out, "%s: not set ($%s or %s); casebot run needs one\n", s[i].what, s[i].env,
				s[i].key);
		}
	}
	return CLI_OK;
}

/* The secrets casebot can read from here: each is read the way casebot run
 * reads it. A secret that is not set is named, not an error: casebot run
 * says what it needs. */
static int check_secrets(struct cli *c)
{
	char secret[256], url[512];
	const char *env = getenv("CASEBOT_TELEGRAM_TOKEN");
	int rc = CLI_OK;

	if (env != NULL && env[0] != '\0') {
		cb_strlcpy(secret, env, sizeof(secret));
		fprintf(c->out, "telegram token: from $CASEBOT_TELEGRAM_TOKEN\n");
	} else if (c->cfg.gw.telegram.token_file[0] != '\0') {
		if ((rc = check_secret_file(c, "[telegram] token_file", c->cfg.gw.telegram.token_file, secret,
					    sizeof(secret))) != CLI_OK)
			return rc;
		fprintf(c->out, "telegram token: from %s\n", c->cfg.gw.telegram.token_file);
	} else {
		fprintf(c->out, "telegram token: not set ($CASEBOT_TELEGRAM_TOKEN or [telegram] token_file); "
			"casebot run needs one\n");
		secret[0] = '\0';
	}
	/* The token goes into every URL: it must have the form 123456:ABC-def. */
	if (secret[0] != '\0' &&
	    telegram_api_method_url(url, sizeof(url), c->cfg.gw.telegram.api_base, secret, "getMe") != 0)
		rc = cli_usage_error(c, "the Telegram token is not of the form 123456:ABC-def_123");
	sodium_memzero(url, sizeof(url));
	sodium_memzero(secret, sizeof(secret));
	if (rc != CLI_OK)
		return rc;
	if (c->cfg.gw.telegram.webhook) {
		if ((rc = check_secret_file(c, "[telegram] webhook_secret_file", c->cfg.gw.telegram.webhook_secret_file,
					    secret, sizeof(secret))) != CLI_OK)
			return rc;
		/* Telegram's own rule for secret_token: 1-256 of A-Z a-z 0-9 _ -. */
		for (const char *p = secret; *p != '\0'; p++)
			if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
				rc = cli_usage_error(c, "[telegram] webhook_secret_file %s: Telegram allows only "
						     "A-Z, a-z, 0-9, _ and - in the secret",
						     c->cfg.gw.telegram.webhook_secret_file);
		sodium_memzero(secret, sizeof(secret));
		if (rc != CLI_OK)
			return rc;
		fprintf(c->out, "webhook secret: from %s\n", c->cfg.gw.telegram.webhook_secret_file);
	}
	if (gateway_whatsapp_configured(&c->cfg) && (rc = check_whatsapp_secrets(c)) != CLI_OK)
		return rc;
	if (c->cfg.gw.smtp.url[0] != '\0') {
		if (getenv("CASEBOT_SMTP_PASSWORD") == NULL && c->cfg.gw.smtp.password_file[0] != '\0' &&
		    (rc = check_secret_file(c, "[smtp] password_file", c->cfg.gw.smtp.password_file, secret,
					    sizeof(secret))) != CLI_OK)
			return rc;
		sodium_memzero(secret, sizeof(secret));
	}
	return CLI_OK;
}

/* The signing key, when there is one (an installation from before it
 * gets one at the next casebot init): private and whole. */
static int check_signing_key(struct cli *c)
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	char path[PATH_MAX];
	struct stat sb;
	int rc;

	if ((rc = config_signing_key_path(&c->cfg, path, sizeof(path))) != 0)
		return cli_usage_error(c, "signing_key: %s", config_file_error(rc));
	if (stat(path, &sb) != 0) {
		fprintf(c->out, "signing key: none yet (casebot init makes one)\n");
		return CLI_OK;
	}
	if ((sb.st_mode & 077) != 0)
		return cli_usage_error(c, "%s: others may read it (chmod 600 %s)", path, path);
	rc = cli_signing_key(c, sk);
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

/* The data directory, when there is one: the document key and the
 * database, read without changing either. */
static int check_data(struct cli *c)
{
	unsigned char key[VAULT_KEY_BYTES];
	char err[PATH_MAX + 256], path[PATH_MAX];
	struct stat sb;
	int rc, v;

	rc = store_verify(c->cfg.data_dir, &v, err, sizeof(err));
	if (rc == -CB_ENOENT) {
		fprintf(c->out, "database: none yet in %s (casebot init creates it)\n", c->cfg.data_dir);
		return CLI_OK;
	}
	if (rc != 0)
		return cli_fail(c, "%s", err);
	if (v > (int)store_schema_count())
		return cli_fail(c, "database schema %d is newer than this casebot (%zu)", v, store_schema_count());
	if ((rc = config_document_key_path(&c->cfg, path, sizeof(path))) != 0)
		return cli_usage_error(c, "document_key: %s", config_file_error(rc));
	if (stat(path, &sb) != 0)
		return cli_fail(c, "%s: missing; documents could not be stored (casebot init makes one)", path);
	if ((sb.st_mode & 077) != 0)
		return cli_usage_error(c, "%s: others may read it (chmod 600 %s)", path, path);
	rc = vault_load_key(path, key);
	sodium_memzero(key, sizeof(key));
	if (rc != 0 || sb.st_size != VAULT_KEY_BYTES)
		return cli_fail(c, "%s: damaged (a key is %d bytes)", path, VAULT_KEY_BYTES);
	if ((rc = check_signing_key(c)) != CLI_OK)
		return rc;
	if (v < (int)store_schema_count())
		fprintf(c->out, "database: %s/casebot.db, schema %d (casebot run or init brings it to %zu), "
			"integrity_check ok\n", c->cfg.data_dir, v, store_schema_count());
	else
		fprintf(c->out, "database: %s/casebot.db, schema %d, integrity_check ok\n", c->cfg.data_dir, v);
	return CLI_OK;
}

/* Like httpd -n: what can be checked without running is checked, and
 * nothing is changed. The configuration was read before we got here. */
static int cmd_check(struct cli *c, int argc, char **argv)
{
	char err[512];
	int rc;

	if ((rc = cli_args_only(c, argc, argv, 0, "")) != CLI_OK)
		return rc;
	if ((rc = cli_open_locales(c)) != CLI_OK)
		return rc;
	/* What each family message shows on a locked screen, rendered. */
	if (compose_check_previews(c->loc, err, sizeof(err)) != 0)
		return cli_fail(c, "%s/%s", c->cfg.locales_dir, err);
	fprintf(c->out, "catalogs: nl fr de en in %s\n", c->cfg.locales_dir);
	if (whatsapp_templates_check(c->loc, err, sizeof(err)) != 0)
		return cli_usage_error(c, "%s", err);
	if ((rc = check_secrets(c)) != CLI_OK || (rc = check_data(c)) != CLI_OK)
		return rc;
	fprintf(c->out, "configuration OK\n");
	return CLI_OK;
}

static int cmd_run(struct cli *c, int argc, char **argv)
{
	const char *level_s = "info";
	const struct cli_arg args[] = {{"log-level", &level_s, NULL}, {0}};
	enum log_level level;
	int rc;

	if ((rc = cli_parse(c, argc, argv, args, 0, "")) != CLI_OK)
		return rc;
	if (log_level_parse(level_s, &level) != 0)
		return cli_usage_error(c, "--log-level must be debug, info, warn or error");
	log_set_level(level);
	return daemon_run(&c->cfg);
}

const struct cli_command cli_init_commands[] = {
	{"init", NULL, cmd_init, "",
	 "Create the data directory (0700), the database (0600) and the document key file (0600)."},
	{"check", NULL, cmd_check, "",
	 "Validate the configuration, the language catalogs and the secrets it can read; with a database, "
	 "its schema version and PRAGMA quick_check. Changes nothing."},
	{"run", NULL, cmd_run, "[--log-level debug|info|warn|error]",
	 "Run the daemon until SIGTERM or SIGINT; SIGHUP reloads catalogs and settings."},
	{0},
};
