/* casebot as a systemd service, with the real build/casebot: what it tells
 * the service manager on $NOTIFY_SOCKET (READY, WATCHDOG, RELOADING then
 * READY, STOPPING), the settings a SIGHUP cannot change named in the log,
 * and the catalogs of an installed copy found from where the binary is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/dtest.h"
#include "tests/support/testenv.h"

#define NOTIFY_NAME "notify.sock"

/* The service manager's end: a datagram socket in the test's directory. */
static int notify_bind(struct dt *t)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_true((size_t)snprintf(a.sun_path, sizeof(a.sun_path), "%s/" NOTIFY_NAME, t->env.dir) <
		    sizeof(a.sun_path));
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* As systemd sets it for a Type=notify unit with WatchdogSec=2s. */
static void notify_env(struct dt *t)
{
	char path[PATH_MAX], pid[24];

	snprintf(path, sizeof(path), "%s/" NOTIFY_NAME, t->env.dir);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "2000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
}

/* Reads datagrams until one holds what (bounded); each is appended to
 * seen, in order, one per line. Returns 1 when it came. */
static int notify_wait(int fd, const char *what, char *seen, size_t cap, long ms)
{
	long long until = dt_now_ms() + ms;

	while (dt_now_ms() < until) {
		struct pollfd p = {fd, POLLIN, 0};
		char msg[512];
		ssize_t n;
		size_t len;

		if (poll(&p, 1, 100) <= 0)
			continue;
		if ((n = recv(fd, msg, sizeof(msg) - 1, 0)) <= 0)
			continue;
		msg[n] = '\0';
		len = strlen(seen);
		snprintf(seen + len, cap - len, "%s|", msg);
		if (strstr(msg, what) != NULL)
			return 1;
	}
	return 0;
}

static void test_notify(void **state)
{
	struct dt *t = *state;
	char seen[8192] = "";
	const char *reloading, *ready;
	int fd = notify_bind(t);

	t->child_env = notify_env;
	dt_start_daemon(t);
	assert_true(notify_wait(fd, "READY=1", seen, sizeof(seen), 15000));
	/* Ready means answering: the port is open by then. */
	assert_true(dt_port_open(t->http_port));
	assert_true(notify_wait(fd, "WATCHDOG=1", seen, sizeof(seen), 5000));

	seen[0] = '\0';
	assert_int_equal(kill(t->daemon, SIGHUP), 0);
	assert_true(notify_wait(fd, "READY=1", seen, sizeof(seen), 10000));
	/* RELOADING=1 with the monotonic clock, then READY=1 once it is done. */
	reloading = strstr(seen, "RELOADING=1\nMONOTONIC_USEC=");
	assert_non_null(reloading);
	assert_true(strtoull(reloading + strlen("RELOADING=1\nMONOTONIC_USEC="), NULL, 10) > 0);
	ready = strstr(seen, "READY=1");
	assert_true(ready > reloading);
	assert_true(dt_log_has(t, "reloaded catalogs and settings"));

	seen[0] = '\0';
	assert_int_equal(kill(t->daemon, SIGTERM), 0);
	assert_true(notify_wait(fd, "STOPPING=1", seen, sizeof(seen), 10000));
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	close(fd);
}

/* Without WATCHDOG_USEC (no WatchdogSec=) there is READY but no ping. */
static void no_watchdog_env(struct dt *t)
{
	notify_env(t);
	unsetenv("WATCHDOG_USEC");
}

static void test_notify_without_watchdog(void **state)
{
	struct dt *t = *state;
	char seen[8192] = "";
	int fd = notify_bind(t);

	t->child_env = no_watchdog_env;
	dt_start_daemon(t);
	assert_true(notify_wait(fd, "READY=1", seen, sizeof(seen), 15000));
	/* Three times the interval the other test pings at. */
	assert_false(notify_wait(fd, "WATCHDOG=1", seen, sizeof(seen), 3000));
	assert_false(dt_log_has(t, "watchdog"));
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
	close(fd);
}

/* Rewrites the daemon's configuration file with one line changed. */
static void conf_replace(struct dt *t, const char *from, const char *to)
{
	char buf[8192], *at;
	FILE *fp = fopen(t->env.conf, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	assert_non_null(at = strstr(buf, from));
	assert_non_null(fp = fopen(t->env.conf, "w"));
	fwrite(buf, 1, (size_t)(at - buf), fp);
	fputs(to, fp);
	fputs(at + strlen(from), fp);
	assert_int_equal(fclose(fp), 0);
}

/* A SIGHUP after [http] listen and a secret's file changed: one line each
 * says it waits for a restart, without the values, and the daemon goes on
 * answering where it listened. */
static void test_reload_names_restart_settings(void **state)
{
	struct dt *t = *state;
	char from[64], to[128];
	int port = dt_free_port();

	dt_start_daemon(t);
	DT_WAIT_FOR(dt_log_has(t, "running"), 15000);
	snprintf(from, sizeof(from), "listen = 127.0.0.1:%d\n", t->http_port);
	snprintf(to, sizeof(to), "listen = 127.0.0.1:%d\n[telegram]\ntoken_file = /etc/casebot/tg.token\n", port);
	conf_replace(t, from, to);
	assert_int_equal(kill(t->daemon, SIGHUP), 0);
	DT_WAIT_FOR(dt_log_has(t, "reloaded catalogs and settings"), 10000);
	assert_true(dt_log_has(t, "reload: [http] listen changed; it takes effect after a restart"));
	assert_true(dt_log_has(t, "reload: [telegram] token_file changed; it takes effect after a restart"));
	/* quiet_hours = off is still off: nothing said of it. */
	assert_false(dt_log_has(t, "quiet_hours changed"));
	snprintf(to, sizeof(to), "%d", port);
	assert_false(dt_log_has(t, to));
	assert_false(dt_log_has(t, "tg.token"));
	assert_true(dt_port_open(t->http_port));
	assert_false(dt_port_open(port));
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

static void copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	assert_true(in >= 0);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	assert_int_equal(n, 0);
	close(in);
	assert_int_equal(close(out), 0);
}

/* Runs bin -c conf check in dir; its output into out. Returns the exit code. */
static int run_check(const char *bin, const char *conf, const char *dir, char *out, size_t cap)
{
	char log[PATH_MAX];
	int status, fd;
	FILE *fp;
	size_t n;
	pid_t pid;

	snprintf(log, sizeof(log), "%s/check.out", dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (chdir(dir) != 0 || (fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		unsetenv("CASEBOT_TELEGRAM_TOKEN");
		execl(bin, "casebot", "-c", conf, "check", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_non_null(fp = fopen(log, "r"));
	n = fread(out, 1, cap - 1, fp);
	out[n] = '\0';
	fclose(fp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* The layout make install makes: PREFIX/bin/casebot finds its catalogs
 * in PREFIX/share/casebot/locales whatever the working directory, and a
 * binary in the build tree finds the tree's. */
static void test_installed_finds_catalogs(void **state)
{
	static const char *const langs[] = {"nl", "fr", "de", "en"};
	struct testenv env;
	static const char *const dirs[] = {"", "/bin", "/share", "/share/casebot", "/share/casebot/locales"};
	char prefix[300], path[PATH_MAX], from[PATH_MAX], want[PATH_MAX + 64], out[8192], tree[PATH_MAX];
	char work[PATH_MAX];

	(void)state;
	assert_int_equal(testenv_setup(&env, time(NULL), NULL), 0);
	snprintf(prefix, sizeof(prefix), "%s/usr", env.dir);
	snprintf(work, sizeof(work), "%s/elsewhere", env.dir);
	assert_int_equal(mkdir(work, 0700), 0);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", prefix, dirs[i]);
		assert_int_equal(mkdir(path, 0700), 0);
	}
	snprintf(from, sizeof(from), "%s/casebot", dt_build_dir());
	snprintf(path, sizeof(path), "%s/bin/casebot", prefix);
	copy_file(from, path, 0700);
	for (size_t i = 0; i < sizeof(langs) / sizeof(langs[0]); i++) {
		snprintf(from, sizeof(from), "locales/%s.json", langs[i]);
		snprintf(want, sizeof(want), "%s/share/casebot/locales/%s.json", prefix, langs[i]);
		copy_file(from, want, 0600);
	}
	assert_int_equal(run_check(path, env.conf, work, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "catalogs: nl fr de en in %s/share/casebot/locales\n", prefix);
	if (strstr(out, want) == NULL)
		fail_msg("no \"%s\" in:\n%s", want, out);

	/* The tree's own binary, run from elsewhere, finds the tree's. */
	snprintf(from, sizeof(from), "%s/casebot", dt_build_dir());
	assert_non_null(realpath(from, path));
	assert_non_null(realpath("locales", tree));
	assert_int_equal(run_check(path, env.conf, work, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "catalogs: nl fr de en in %s\n", tree);
	if (strstr(out, want) == NULL)
		fail_msg("no \"%s\" in:\n%s", want, out);

	/* Without them, the message names where an installed casebot looks. */
	snprintf(path, sizeof(path), "%s/bin/casebot", prefix);
	snprintf(want, sizeof(want), "%s/share/casebot/locales/nl.json", prefix);
	assert_int_equal(unlink(want), 0);
	assert_int_not_equal(run_check(path, env.conf, work, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/bin/../share/casebot/locales", prefix);
	if (strstr(out, want) == NULL)
		fail_msg("no \"%s\" in:\n%s", want, out);
	testenv_teardown(&env);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dt_setup, dt_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_notify),
		T(test_notify_without_watchdog),
		T(test_reload_names_restart_settings),
		cmocka_unit_test(test_installed_finds_catalogs),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("service", tests, NULL, NULL);
}
