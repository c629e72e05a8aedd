/* casebot init, casebot check. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/cli.h"
#include "bot/daemon.h"
#include "bot/log.h"
#include "bot/tz.h"
#include "locales/locale.h"

/* The key that encrypts documents at rest lives in its own 0600 file, never
 * in the database. An existing key is never replaced. */
static int make_key(struct cli *c, const char *path, int *created)
{
	unsigned char key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
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
		return cli_fail(c, "libsodium failed to start");
	}
	crypto_secretstream_xchacha20poly1305_keygen(key);
	n = write(fd, key, sizeof(key));
	sodium_memzero(key, sizeof(key));
	if (n != (ssize_t)sizeof(key) || fsync(fd) != 0) {
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
	int rc, created;

	if ((rc = cli_args_only(c, argc, argv, 0, "")) != CLI_OK)
		return rc;
	if (store_open(c->cfg.data_dir, 1, &c->store, err, sizeof(err)) != 0)
		return cli_fail(c, "%s", err);
	snprintf(key, sizeof(key), "%s/document.key", c->cfg.data_dir);
	if ((rc = make_key(c, key, &created)) != CLI_OK)
		return rc;
	if ((rc = cli_audit(c, "init", NULL, NULL)) != CLI_OK)
		return rc;
	fprintf(c->out, "data directory %s ready (schema version %d%s)\n", c->cfg.data_dir,
		store_schema_version(c->store), created ? ", new document key" : "");
	return CLI_OK;
}

static int cmd_check(struct cli *c, int argc, char **argv)
{
	int rc, v;

	if ((rc = cli_args_only(c, argc, argv, 0, "")) != CLI_OK)
		return rc;
	if ((rc = cli_open_locales(c)) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK)
		return rc;
	v = store_schema_version(c->store);
	if (v != (int)store_schema_count())
		return cli_fail(c, "schema version %d, expected %zu", v, store_schema_count());
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
	 "Validate the configuration, the language catalogs and the database schema."},
	{"run", NULL, cmd_run, "[--log-level debug|info|warn|error]",
	 "Run the daemon until SIGTERM or SIGINT; SIGHUP reloads catalogs and settings."},
	{0},
};
