#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bot/log.h"

static enum log_level min_level = LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};
/* syslog(3) priorities, as journald reads them from "<N>" */
static const int level_priorities[] = {7, 6, 4, 3};
static int journal = -1;          /* -1: not looked at yet */

/* systemd.exec(5): $JOURNAL_STREAM holds "DEVICE:INODE" of the stream it
 * connected; stderr is the journal only when it is still that stream. */
static int stderr_is_journal(void)
{
	const char *v = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat sb;
	char rest;

	if (v == NULL || sscanf(v, "%llu:%llu%c", &dev, &ino, &rest) != 2 || fstat(STDERR_FILENO, &sb) != 0)
		return 0;
	return (unsigned long long)sb.st_dev == dev && (unsigned long long)sb.st_ino == ino;
}

void log_init(void)
{
	journal = stderr_is_journal();
}

void log_set_level(enum log_level level)
{
	min_level = level;
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i <= LOG_ERROR; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	char stamp[32], line[1024];
	time_t now = time(NULL);
	struct tm tm;

	if (level < min_level)
		return;
	if (journal < 0)
		log_init();
	vsnprintf(line, sizeof(line), fmt, ap);
	/* One write per line so lines from the CLI and the daemon never mix.
	 * The journal stamps each line itself and files it by its priority. */
	if (journal) {
		fprintf(stderr, "<%d>%s\n", level_priorities[level], line);
		return;
	}
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %-5s %s\n", stamp, level_names[level], line);
}

#define LOG_FN(name, level) \
	void name(const char *fmt, ...) \
	{ \
		va_list ap; \
		va_start(ap, fmt); \
		vlog(level, fmt, ap); \
		va_end(ap); \
	}

LOG_FN(log_debug, LOG_DEBUG)
LOG_FN(log_info, LOG_INFO)
LOG_FN(log_warn, LOG_WARN)
LOG_FN(log_error, LOG_ERROR)

void log_fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
