/* The wake socket: a CLI command that wrote tells the running daemon, whose
 * outbox otherwise sleeps until its next due row. Real daemon, real CLI,
 * the Telegram simulator. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bot/wake.h"
#include "tests/support/dtest.h"

static void socket_path(struct dt *t, char *out, size_t cap)
{
	snprintf(out, cap, "%s/%s", t->env.data, WAKE_SOCKET);
}

/* An appointment three hours from now: its first reminder is due at once. */
static void add_appointment(struct dt *t)
{
	time_t at = time(NULL) + 3 * 3600;
	char when[32];
	struct tm tm;

	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", when, "--kind", "lawyer", NULL), 0);
}

/* The reminder reaches the family: the daemon, idle after the welcome,
 * was woken by the CLI. Nothing else would wake it for this row. */
static void expect_reminder(struct dt *t, int n)
{
	char text[1024];

	DT_WAIT_SENT(t, DT_FAMILY_CHAT, n, 10000);
	dt_sent_text(t, DT_FAMILY_CHAT, n - 1, text, sizeof(text));
	assert_non_null(strstr(text, "Herinnering"));
}

/* What a killed daemon leaves: a socket file nobody reads. */
static void leave_stale_socket(const char *path)
{
	struct sockaddr_un a;
	int fd = socket(AF_UNIX, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sun_family = AF_UNIX;
	assert_true(strlen(path) < sizeof(a.sun_path));
	memcpy(a.sun_path, path, strlen(path));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	close(fd);
}

static void test_cli_write_wakes_idle_daemon(void **state)
{
	struct dt *t = *state;

	dt_start_daemon(t);
	dt_link_family(t);
	dt_wait_family_outbox_idle(t);
	add_appointment(t);
	expect_reminder(t, 2);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

static void test_socket_private_and_removed_at_exit(void **state)
{
	struct dt *t = *state;
	char path[PATH_MAX + 32];
	struct stat sb;

	socket_path(t, path, sizeof(path));
	dt_start_daemon(t);
	dt_link_family(t);
	assert_int_equal(lstat(path, &sb), 0);
	assert_true(S_ISSOCK(sb.st_mode));
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	assert_int_equal(lstat(path, &sb), -1);
}

static void test_stale_socket_after_kill(void **state)
{
	struct dt *t = *state;
	char path[PATH_MAX + 32];
	struct stat sb;

	socket_path(t, path, sizeof(path));
	dt_start_daemon(t);
	dt_link_family(t);
	assert_int_equal(dt_stop_daemon(t, SIGKILL), 128 + SIGKILL);
	assert_int_equal(lstat(path, &sb), 0);
	/* The next daemon takes the directory over, socket and all. */
	dt_start_daemon(t);
	DT_WAIT_FOR(dt_port_open(t->http_port), 10000);
	dt_wait_family_outbox_idle(t);
	add_appointment(t);
	expect_reminder(t, 2);
	assert_int_equal(lstat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

/* No daemon, with or without a socket file left behind: the command does
 * its work and says nothing about a daemon. */
static void test_cli_without_daemon_is_silent(void **state)
{
	struct dt *t = *state;
	char path[PATH_MAX + 32];

	socket_path(t, path, sizeof(path));
	add_appointment(t);
	assert_string_equal(t->env.err, "");
	leave_stale_socket(path);
	add_appointment(t);
	assert_string_equal(t->env.err, "");
	assert_int_equal(dt_q(t, "SELECT count(*) FROM appointments"), 2);
	/* The daemon started later finds both reminders on its first look. */
	dt_start_daemon(t);
	dt_link_family(t);
	dt_wait_family_outbox_idle(t);
	assert_true(dt_sent_count(t, DT_FAMILY_CHAT) >= 3);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dt_setup, dt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cli_write_wakes_idle_daemon),
		T(test_socket_private_and_removed_at_exit),
		T(test_stale_socket_after_kill),
		T(test_cli_without_daemon_is_silent),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("wake", tests, NULL, NULL);
}
