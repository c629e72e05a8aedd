/* casebot staff password | totp: a staff member's way into the web
 * console. The password is read from standard input (without echo on a
 * terminal) and kept only as an argon2id hash; the TOTP secret is printed
 * once, as an otpauth:// URI and a QR code, for an authenticator app. */
#include <qrencode.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/console/auth.h"

static const struct cli_arg no_args[] = {{0}};

static int read_password(struct cli *c, char *out, size_t cap)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO), hidden = 0;
	size_t n;

	if (tty) {
		fprintf(c->err, "password: ");
		fflush(c->err);
		if (tcgetattr(STDIN_FILENO, &old) == 0) {
			quiet = old;
			quiet.c_lflag &= (tcflag_t)~ECHO;
			hidden = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
		}
	}
	if (fgets(out, (int)cap, stdin) == NULL)
		out[0] = '\0';
	if (hidden) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', c->err);
	}
	n = strlen(out);
	if (n > 0 && out[n - 1] != '\n' && !feof(stdin))
		return -CB_ETOOBIG;
	while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
		out[--n] = '\0';
	return 0;
}

static int cmd_password(struct cli *c, int argc, char **argv)
{
	char *pw = malloc(AUTH_PASSWORD_MAX + 2), hash[AUTH_PWHASH_MAX];
	struct staff s;
	int rc;

	if (pw == NULL)
		return cli_fail(c, "out of memory");
	if ((rc = cli_parse(c, argc, argv, no_args, 1, "NAME")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_staff(c, argv[optind], &s)) != CLI_OK)
		goto out;
	if (!s.active) {
		rc = cli_usage_error(c, "staff member \"%s\" is not active", s.name);
		goto out;
	}
	if (read_password(c, pw, AUTH_PASSWORD_MAX + 2) != 0 || auth_password_hash(pw, hash) != 0) {
		rc = cli_usage_error(c, "the password must have %d to %d characters", AUTH_PASSWORD_MIN,
				     AUTH_PASSWORD_MAX);
		goto out;
	}
	{
		const struct audit_entry e = {c->actor, "staff.password", NULL, NULL, s.id, 0, 0};

		if (store_begin(c->store) != 0 || store_login_set_password(c->store, s.id, hash, c->now) != 0 ||
		    store_audit_add(c->store, c->now, &e) != 0 || store_commit(c->store) != 0) {
			rc = cli_fail(c, "%s", store_errmsg(c->store));
			goto out;
		}
	}
	fprintf(c->out, "password set for %s\n", s.name);
	rc = CLI_OK;
out:
	sodium_memzero(pw, AUTH_PASSWORD_MAX + 2);
	sodium_memzero(hash, sizeof(hash));
	free(pw);
	return rc;
}

/* The QR code in the terminal, two modules per character cell with the
 * half blocks, and the quiet zone around it. */
static void print_qr(struct cli *c, const char *text)
{
	static const char *const cells[4] = {" ", "\xe2\x96\x80", "\xe2\x96\x84", "\xe2\x96\x88"};
	QRcode *q = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
	int w, border = 2;

	if (q == NULL)
		return;
	w = q->width;
	for (int y = -border; y < w + border; y += 2) {
		for (int x = -border; x < w + border; x++) {
			int top = y >= 0 && y < w && x >= 0 && x < w && (q->data[y * w + x] & 1);
			int bottom = y + 1 >= 0 && y + 1 < w && x >= 0 && x < w && (q->data[(y + 1) * w + x] & 1);

			/* Dark modules are drawn light-on-dark terminals' way round:
			 * a module is dark where the cell is blank. */
			fputs(cells[(!top) | ((!bottom) << 1)], c->out);
		}
		fputc('\n', c->out);
	}
	QRcode_free(q);
}

static int cmd_totp(struct cli *c, int argc, char **argv)
{
	char secret[AUTH_TOTP_B32_MAX], uri[512];
	struct staff s;
	int rc;

	if ((rc = cli_parse(c, argc, argv, no_args, 1, "NAME")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_staff(c, argv[optind], &s)) != CLI_OK)
		return rc;
	if (!s.active)
		return cli_usage_error(c, "staff member \"%s\" is not active", s.name);
	if (auth_totp_new(secret) != 0 || auth_totp_uri("casebot", s.name, secret, uri, sizeof(uri)) != 0)
		return cli_fail(c, "cannot make a secret");
	{
		const struct audit_entry e = {c->actor, "staff.totp", NULL, NULL, s.id, 0, 0};

		if (store_begin(c->store) != 0 || store_login_set_totp(c->store, s.id, secret, c->now) != 0 ||
		    store_audit_add(c->store, c->now, &e) != 0 || store_commit(c->store) != 0)
			return cli_fail(c, "%s", store_errmsg(c->store));
	}
	fprintf(c->out, "%s\n", uri);
	print_qr(c, uri);
	fprintf(c->out, "Scan it (or enter the secret) in an authenticator app; the old code no longer works.\n");
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(uri, sizeof(uri));
	return CLI_OK;
}

const struct cli_command cli_login_commands[] = {
	{"staff", "password", cmd_password, "NAME",
	 "Set the web console password of a staff member, read from standard input."},
	{"staff", "totp", cmd_totp, "NAME",
	 "Make a new second-factor secret for the web console and print it as an otpauth:// URI and a QR code."},
	{0},
};
