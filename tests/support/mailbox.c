/* A real SMTP server for the daemon tests, and what it received. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/mailbox.h"

void mailbox_start(struct mailbox *mb, struct dt *t)
{
	char listen[32];
	FILE *fp;

	mb->port = dt_free_port();
	snprintf(mb->dir, sizeof(mb->dir), "%s/maildir", t->env.dir);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", mb->port);
	mb->pid = fork();
	if (mb->pid == 0) {
		/* It goes with the test, should an assertion end it early. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", listen, "-c",
		      "aiosmtpd.handlers.Mailbox", mb->dir, (char *)NULL);
		_exit(127);
	}
	assert_true(mb->pid > 0);
	fp = fopen(t->env.conf, "a");
	assert_non_null(fp);
	fprintf(fp, "[smtp]\nurl = smtp://127.0.0.1:%d\nfrom = casebot@example.org\ndigest_at = 00:00\n", mb->port);
	fclose(fp);
	/* The mail server is up before the daemon needs it. */
	DT_WAIT_FOR(dt_port_open(mb->port), 10000);
}

void mailbox_stop(struct mailbox *mb)
{
	int status;

	if (mb->pid <= 0)
		return;
	kill(mb->pid, SIGTERM);
	waitpid(mb->pid, &status, 0);
	mb->pid = 0;
}

int mailbox_count(const struct mailbox *mb, const char *needle, char *out, size_t cap)
{
	char dir[512], path[1024];
	static char body[65536];
	struct dirent *e;
	int found = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/new", mb->dir);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((e = readdir(dp)) != NULL) {
		FILE *fp;
		size_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if ((fp = fopen(path, "r")) == NULL)
			continue;
		n = fread(body, 1, sizeof(body) - 1, fp);
		body[n] = '\0';
		fclose(fp);
		if (strstr(body, needle) == NULL)
			continue;
		if (found++ == 0 && out != NULL)
			snprintf(out, cap, "%s", body);
	}
	closedir(dp);
	return found;
}
