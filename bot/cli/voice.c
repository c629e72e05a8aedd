/* casebot voice on | off | set | preview: a member's voice notes, the
 * organisation's recorded clips, and what a member would hear. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/cli/cli.h"
#include "bot/tz.h"
#include "bot/voice.h"
#include "locales/locale.h"

static int set_voice(struct cli *c, int argc, char **argv, int on)
{
	const char *member = NULL;
	struct family f;
	struct hctx h;
	int rc, n = 0;
	const struct cli_arg args[] = {
		{"member", &member, NULL},
		{0},
	};

	if ((rc = cli_parse(c, argc, argv, args, 1, "REF")) != CLI_OK || (rc = cli_open_store(c)) != CLI_OK ||
	    (rc = cli_family(c, argv[optind], &f)) != CLI_OK)
		return rc;
	if (strcmp(f.status, "closed") == 0)
		return cli_usage_error(c, "family %s is closed", f.ref);
	cli_hctx(c, &h);
	if (store_begin(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	rc = voice_setting_set(&h, &f, member, on, &n);
	if (rc == -CB_ENOENT) {
		store_rollback(c->store);
		return cli_usage_error(c, "family %s has no member \"%s\"", f.ref, member);
	}
	if (rc == -CB_ESTATE) {
		store_rollback(c->store);
		return cli_usage_error(c, "family %s has no members yet (casebot member add)", f.ref);
	}
	if (rc != 0 || store_commit(c->store) != 0)
		return cli_fail(c, "%s", store_errmsg(c->store));
	fprintf(c->out, "voice notes %s for %s (%d member%s)\n", on ? "on" : "off",
		member != NULL ? member : f.ref, n, n == 1 ? "" : "s");
	if (on)
		fprintf(c->out, "reminders, check-ins and document requests also come as a voice note, in the member's "
				"language, where the chat's gateway sends voice notes (Telegram, WhatsApp); an SMS chat "
				"gets the text only\n");
	return CLI_OK;
}

static int cmd_on(struct cli *c, int argc, char **argv)
{
	return set_voice(c, argc, argv, 1);
}

static int cmd_off(struct cli *c, int argc, char **argv)
{
	return set_voice(c, argc, argv, 0);
}

static int key_lang(struct cli *c, const char *key, const char *lang, enum lang *l, int *fixed)
{
	if (!voice_key_known(key, fixed)) {
		fprintf(c->err, "casebot: %s: unknown voice key \"%s\"; the keys are:", c->cmd, key);
		for (size_t i = 0; i < voice_nkeys; i++)
			fprintf(c->err, " %s", voice_keys[i]);
		fputc('\n', c->err);
		return CLI_USAGE;
	}
	if (cli_lang(lang, l) != 0)
		return cli_usage_error(c, "language \"%s\": expected nl, fr, de or en", lang);
	return CLI_OK;
}

/* A clip is read whole and checked by decoding it: only Ogg/Opus within the
 * caps is kept. */
static int read_clip(struct cli *c, const char *path, struct store_audio *a)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = CLI_OK;
	ssize_t got;

	memset(a, 0, sizeof(*a));
	if (fd < 0)
		return cli_usage_error(c, "%s: cannot open it", path);
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		rc = cli_usage_error(c, "%s: not a file", path);
		goto out;
	}
	if (sb.st_size <= 0 || sb.st_size > VOICE_MAX_BYTES) {
		rc = cli_usage_error(c, "%s: %lld bytes; a voice clip is at most %d KB", path, (long long)sb.st_size,
				     VOICE_MAX_BYTES / 1024);
		goto out;
	}
	if ((a->data = malloc((size_t)sb.st_size)) == NULL) {
		rc = cli_fail(c, "out of memory");
		goto out;
	}
	for (a->len = 0; a->len < (size_t)sb.st_size; a->len += (size_t)got) {
		if ((got = read(fd, a->data + a->len, (size_t)sb.st_size - a->len)) <= 0) {
			rc = cli_fail(c, "%s: cannot read it", path);
			goto out;
		}
	}
	switch (voice_check(a->data, a->len, &a->seconds)) {
	case 0:
		break;
	case -CB_ETOOBIG:
		rc = cli_usage_error(c, "%s: longer than %.0f seconds", path, VOICE_MAX_SECONDS);
		goto out;
	default:
		rc = cli_usage_error(c, "%s: not an Ogg/Opus file (record it as .ogg with Opus, or convert it: "
					"opusenc in.wav out.ogg)", path);
		goto out;
	}
out:
	close(fd);
	if (rc != CLI_OK)
		store_audio_free(a);
	return rc;
}

static int cmd_set(struct cli *c, int argc, char **argv)
{
	struct store_audio a;
	enum lang l;
	int rc, fixed = 0;

	if ((rc = cli_args_only(c, argc, argv, 3, "KEY LANG FILE.ogg")) != CLI_OK ||
	    (rc = key_lang(c, argv[optind], argv[optind + 1], &l, &fixed)) != CLI_OK)
		return rc;
	if (!fixed)
		return cli_usage_error(c, "%s says a date or a time, which a recording cannot; clips are for the "
					  "fixed sentences voice.checkin, voice.document_request and "
					  "voice.document_reminder", argv[optind]);
	if ((rc = read_clip(c, argv[optind + 2], &a)) != CLI_OK)
		return rc;
	if ((rc = cli_open_store(c)) != CLI_OK) {
		store_audio_free(&a);
		return rc;
	}
	if (store_begin(c->store) != 0 || store_voice_clip_set(c->store, argv[optind], l, &a, c->now) != 0 ||
	    cli_audit(c, "voice.clip", NULL, lang_code(l)) != CLI_OK || store_commit(c->store) != 0) {
		store_audio_free(&a);
		return cli_fail(c, "%s", store_errmsg(c->store));
	}
	fprintf(c->out, "clip for %s in %s: %.1f s, %zu KB; it is what members hear from now on\n", argv[optind],
		lang_code(l), a.seconds, (a.len + 1023) / 1024);
	store_audio_free(&a);
	return CLI_OK;
}

static int write_new(struct cli *c, const char *path, const struct store_audio *a)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t done = 0;
	ssize_t n;

	if (fd < 0)
		return cli_usage_error(c, "%s: cannot create it (it must not exist yet)", path);
	for (; done < a->len; done += (size_t)n) {
		if ((n = write(fd, a->data + done, a->len - done)) <= 0) {
			close(fd);
			unlink(path);
			return cli_fail(c, "%s: cannot write it", path);
		}
	}
	if (close(fd) != 0) {
		unlink(path);
		return cli_fail(c, "%s: cannot write it", path);
	}
	return CLI_OK;
}

/* What a member would hear for key in lang, with an appointment two days
 * from now at 14:00 (or that day as a due date). */
static int cmd_preview(struct cli *c, int argc, char **argv)
{
	struct voice_text t;
	struct store_audio a;
	struct tm tm;
	time_t when;
	enum lang l;
	int rc, fixed;

	if ((rc = cli_args_only(c, argc, argv, 3, "KEY LANG FILE.ogg")) != CLI_OK ||
	    (rc = key_lang(c, argv[optind], argv[optind + 1], &l, &fixed)) != CLI_OK ||
	    (rc = cli_open_store(c)) != CLI_OK || (rc = cli_open_locales(c)) != CLI_OK)
		return rc;
	tz_local(c->now + 2 * 86400, &tm);
	if (tz_make_local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, 14, 0, &when) != 0)
		when = c->now + 2 * 86400;
	if (voice_text_sample(c->loc, argv[optind], l, when, &t) != 0)
		return cli_fail(c, "cannot render %s in %s", argv[optind], lang_code(l));
	if ((rc = voice_note(c->store, &t, 0, 0, &a)) != 0)
		return cli_fail(c, "cannot make the voice note: %s", casebot_strerror(rc));
	rc = write_new(c, argv[optind + 2], &a);
	if (rc == CLI_OK)
		fprintf(c->out, "%s: %.1f s, %zu KB\n%s\n", argv[optind + 2], a.seconds, (a.len + 1023) / 1024, t.text);
	store_audio_free(&a);
	return rc;
}

const struct cli_command cli_voice_commands[] = {
	{"voice", "on", cmd_on, "REF [--member NAME]",
	 "Send a family's members (or one) their reminders, check-ins and document requests as a voice note too."},
	{"voice", "off", cmd_off, "REF [--member NAME]", "Stop the voice notes."},
	{"voice", "set", cmd_set, "KEY LANG FILE.ogg",
	 "Record the organisation's own clip for a fixed sentence: it is sent instead of the synthesized voice."},
	{"voice", "preview", cmd_preview, "KEY LANG FILE.ogg",
	 "Write the voice note a member would get for KEY in LANG, to listen to before switching it on."},
	{0},
};
