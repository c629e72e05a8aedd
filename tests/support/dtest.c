#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bot/wake.h"
#include "tests/support/dtest.h"


const char *dt_build_dir(void)
{
	const char *b = getenv("CASEBOT_BUILD");

	return b != NULL && b[0] != '\0' ? b : "build";
}

void dt_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

long long dt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A loopback port nobody listens on right now. */
int dt_free_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) != 0)
		port = -1;
	else
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

int dt_port_open(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

long long dt_q(struct dt *t, const char *fmt, ...)
{
	char sql[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return testenv_query_int(&t->env, sql);
}

void dt_exec_sql(struct dt *t, const char *sql)
{
	char path[PATH_MAX + 16];
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/casebot.db", t->env.data);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		fail_msg("sql: %s", sqlite3_errmsg(db));
	sqlite3_close(db);
	/* As the CLI does after a write: a running daemon looks again. */
	wake_daemon(t->env.data);
}

int dt_log_has(struct dt *t, const char *what)
{
	char log[65536];
	FILE *fp = fopen(t->log, "r");
	size_t n;

	if (fp == NULL)
		return 0;
	n = fread(log, 1, sizeof(log) - 1, fp);
	log[n] = '\0';
	fclose(fp);
	return strstr(log, what) != NULL;
}

/* now 0: build/casebot on the real clock; else build/casebot-test with
 * the clock pinned there. */
static void start_daemon(struct dt *t, time_t now)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		char bin[300], at[32];
		int fd = open(t->log, O_WRONLY | O_CREAT | O_APPEND, 0600);

		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
			close(fd);
		}
		setenv("CASEBOT_TELEGRAM_TOKEN", DT_TOKEN, 1);
		if (now != 0) {
			snprintf(at, sizeof(at), "%lld", (long long)now);
			setenv("CASEBOT_TEST_NOW", at, 1);
		}
		if (t->child_env != NULL)
			t->child_env(t);
		snprintf(bin, sizeof(bin), "%s/%s", dt_build_dir(), now != 0 ? "casebot-test" : "casebot");
		execl(bin, "casebot", "-c", t->env.conf, "run", (char *)NULL);
		_exit(127);
	}
	t->daemon = pid;
}

void dt_start_daemon(struct dt *t)
{
	start_daemon(t, 0);
}

void dt_start_daemon_at(struct dt *t, time_t now)
{
	start_daemon(t, now);
}

/* Sends sig and waits (bounded) for the daemon; returns its exit status,
 * or -1 when it did not stop in time. */
int dt_stop_daemon(struct dt *t, int sig)
{
	long long until = dt_now_ms() + 15000;
	int status;

	if (t->daemon <= 0)
		return 0;
	kill(t->daemon, sig);
	while (dt_now_ms() < until) {
		pid_t r = waitpid(t->daemon, &status, WNOHANG);

		if (r == t->daemon) {
			t->daemon = 0;
			if (WIFEXITED(status))
				return WEXITSTATUS(status);
			return 128 + WTERMSIG(status);
		}
		dt_sleep_ms(20);
	}
	kill(t->daemon, SIGKILL);
	waitpid(t->daemon, &status, 0);
	t->daemon = 0;
	return -1;
}

int dt_setup_sim(void **state, const char *sim_args, const char *more_ini)
{
	struct dt *t = calloc(1, sizeof(*t));
	char extra[1024];

	if (t == NULL)
		return -1;
	if (simctl_start(&t->sim, DT_TOKEN, sim_args) != 0)
		return -1;
	t->http_port = dt_free_port();
	snprintf(extra, sizeof(extra), "quiet_hours = off\n[telegram]\napi_base = %s\n[http]\nlisten = 127.0.0.1:%d\n%s",
		 simctl_base(&t->sim), t->http_port, more_ini != NULL ? more_ini : "");
	if (testenv_setup(&t->env, time(NULL), extra) != 0)
		return -1;
	snprintf(t->log, sizeof(t->log), "%s/daemon.log", t->env.dir);
	if (testenv_cli(&t->env, "init", NULL) != 0 ||
	    testenv_cli(&t->env, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl", NULL) != 0 ||
	    testenv_cli(&t->env, "family", "add", "F-1", "--lang", "nl", "--counsellor", "Sara", NULL) != 0 ||
	    testenv_cli(&t->env, "member", "add", "F-1", "Amina", "--role", "parent", NULL) != 0)
		return -1;
	*state = t;
	return 0;
}

int dt_setup_with(void **state, const char *more_ini)
{
	return dt_setup_sim(state, NULL, more_ini);
}

int dt_setup(void **state)
{
	return dt_setup_with(state, NULL);
}

int dt_teardown(void **state)
{
	struct dt *t = *state;
	int rc = 0;

	if (t->daemon > 0 && dt_stop_daemon(t, SIGTERM) != 0)
		rc = -1;
	if (rc != 0) {
		char cmd[400];

		snprintf(cmd, sizeof(cmd), "tail -20 %s >&2", t->log);
		if (system(cmd) != 0)
			rc = -1;
	}
	if (simctl_stop(&t->sim) != 0)
		rc = -1;
	testenv_teardown(&t->env);
	free(t);
	return rc;
}

int dt_sent_count(struct dt *t, long long chat)
{
	cJSON *s = simctl_sent(&t->sim, chat);
	int n = s != NULL ? cJSON_GetArraySize(s) : -1;

	cJSON_Delete(s);
	return n;
}

/* The n-th message (0-based) the bot sent to chat: its text, copied. */
void dt_sent_text(struct dt *t, long long chat, int n, char *out, size_t cap)
{
	cJSON *s = simctl_sent(&t->sim, chat);
	cJSON *m = cJSON_GetArrayItem(s, n);
	cJSON *text = cJSON_GetObjectItem(m, "text");

	out[0] = '\0';
	if (cJSON_IsString(text))
		snprintf(out, cap, "%s", text->valuestring);
	cJSON_Delete(s);
}

long long dt_sent_message_id(struct dt *t, long long chat, int n)
{
	cJSON *s = simctl_sent(&t->sim, chat);
	cJSON *m = cJSON_GetArrayItem(s, n);
	long long id = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(m, "message_id"));

	cJSON_Delete(s);
	return id;
}

long long dt_stat(struct dt *t, const char *name)
{
	return simctl_stat(&t->sim, name);
}

int dt_wait_sent(struct dt *t, long long chat, int n, long ms)
{
	int count = simctl_wait_sent(&t->sim, chat, n, ms);

	/* The simulator counts a message before the daemon records it sent:
	 * wait for this chat's rows only, so that a slow send to another chat
	 * (a long message in parts, a loaded machine) does not stall the test. */
	if (count >= n)
		DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox o JOIN channels c ON c.id = o.channel_id"
				 " WHERE o.status = 'sending' AND c.address = '%lld'", chat) == 0, 30000);
	return count;
}

void dt_wait_family_outbox_idle(struct dt *t)
{
	DT_WAIT_FOR(dt_q(t, "SELECT count(*) FROM outbox WHERE family_id IS NOT NULL AND staff_id IS NULL"
			 " AND status IN ('queued', 'sending') AND not_before <= %lld", (long long)time(NULL)) == 0,
		    20000);
}

static int sent_has(struct dt *t, long long chat, const char *needle)
{
	cJSON *s = simctl_sent(&t->sim, chat), *m;
	int found = 0;

	cJSON_ArrayForEach(m, s) {
		const cJSON *text = cJSON_GetObjectItem(m, "text");

		if (cJSON_IsString(text) && strstr(text->valuestring, needle) != NULL)
			found = 1;
	}
	cJSON_Delete(s);
	return found;
}

/* Links DT_FAMILY_CHAT to F-1 the way a family does: the invite link's code. */
void dt_link_family(struct dt *t)
{
	char code[32], text[64];
	const char *p;

	assert_int_equal(testenv_cli(&t->env, "invite", "F-1", "--member", "Amina", NULL), 0);
	p = strstr(t->env.out, "code: ");
	assert_non_null(p);
	snprintf(code, sizeof(code), "%.10s", p + 6);
	snprintf(text, sizeof(text), "/start %s", code);
	assert_true(simctl_message(&t->sim, DT_FAMILY_CHAT, text) > 0);
	DT_WAIT_SENT(t, DT_FAMILY_CHAT, 1, 10000);
	/* Messages queued for the family before its chat was linked may go
	 * out before the welcome: look for it among everything sent. */
	DT_WAIT_FOR(sent_has(t, DT_FAMILY_CHAT, "Welkom"), 30000);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM channels WHERE family_id = 1 AND member_id = 1"), 1);
}

