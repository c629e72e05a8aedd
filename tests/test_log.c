/* bot/log.c: the line format on a terminal or a file, and under journald
 * (stderr is the stream $JOURNAL_STREAM names): a syslog priority prefix
 * per level and no stamp of its own, so that journalctl -p warning shows
 * the warnings and errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bot/log.h"

struct fx {
	char path[64];
	int saved;           /* the test runner's own stderr */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	int fd;

	if (fx == NULL)
		return -1;
	snprintf(fx->path, sizeof(fx->path), "/tmp/casebot-log-XXXXXX");
	if ((fd = mkstemp(fx->path)) < 0 || (fx->saved = dup(2)) < 0 || dup2(fd, 2) < 0)
		return -1;
	close(fd);
	unsetenv("JOURNAL_STREAM");
	log_set_level(LOG_DEBUG);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	int rc = dup2(fx->saved, 2) < 0 ? -1 : 0;

	close(fx->saved);
	unlink(fx->path);
	unsetenv("JOURNAL_STREAM");
	log_set_level(LOG_INFO);
	log_init();
	free(fx);
	return rc;
}

/* What stderr holds so far. */
static void written(struct fx *fx, char *out, size_t cap)
{
	FILE *fp = fopen(fx->path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(out, 1, cap - 1, fp);
	out[n] = '\0';
	fclose(fp);
}

static void set_stream(int fd)
{
	struct stat sb;
	char v[64];

	assert_int_equal(fstat(fd, &sb), 0);
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)sb.st_dev, (unsigned long long)sb.st_ino);
	assert_int_equal(setenv("JOURNAL_STREAM", v, 1), 0);
}

static void log_each_level(void)
{
	log_debug("looking at %d rows", 3);
	log_info("gateway %s started", "telegram");
	log_warn("deadline checks failed: %s", "busy");
	log_error("routing stopped");
}

static void test_journal_priorities(void **state)
{
	struct fx *fx = *state;
	char text[1024];

	set_stream(2);
	log_init();
	log_each_level();
	written(fx, text, sizeof(text));
	assert_string_equal(text, "<7>looking at 3 rows\n<6>gateway telegram started\n"
			    "<4>deadline checks failed: busy\n<3>routing stopped\n");
}

/* Without the journal, or when stderr is no longer the stream journald
 * gave (a child's stderr sent to a file), each line has its stamp and
 * level as before. */
static void test_plain_lines(void **state)
{
	struct fx *fx = *state;
	char text[1024];
	regex_t re;
	int other = open("/dev/null", O_WRONLY);

	assert_true(other >= 0);
	set_stream(other);
	close(other);
	log_init();
	log_warn("deadline checks failed: %s", "busy");
	unsetenv("JOURNAL_STREAM");
	log_init();
	log_info("gateway %s started", "telegram");
	assert_int_equal(setenv("JOURNAL_STREAM", "not a stream", 1), 0);
	log_init();
	log_error("routing stopped");
	written(fx, text, sizeof(text));
	assert_int_equal(regcomp(&re,
				 "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z warn  deadline checks failed: busy\n"
				 "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z info  gateway telegram started\n"
				 "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z error routing stopped\n$",
				 REG_EXTENDED), 0);
	assert_int_equal(regexec(&re, text, 0, NULL, 0), 0);
	regfree(&re);
}

/* Below the level set, nothing is written in either form. */
static void test_level_holds_in_journal(void **state)
{
	struct fx *fx = *state;
	char text[1024];

	set_stream(2);
	log_init();
	log_set_level(LOG_WARN);
	log_each_level();
	written(fx, text, sizeof(text));
	assert_string_equal(text, "<4>deadline checks failed: busy\n<3>routing stopped\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_journal_priorities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(test_level_holds_in_journal, setup, teardown),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
