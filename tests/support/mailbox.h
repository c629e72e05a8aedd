/* A real SMTP server for the daemon tests that mail staff (test_staff,
 * test_faults): Debian's aiosmtpd, writing a maildir in the test's
 * directory. */
#ifndef CASEBOT_TEST_MAILBOX_H
#define CASEBOT_TEST_MAILBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "tests/support/dtest.h"

struct mailbox {
	char dir[400];        /* the maildir */
	int port;
	pid_t pid;
};

/* Starts the server on a free port, appends the [smtp] section that sends
 * to it to t's configuration, and returns once it listens. */
void mailbox_start(struct mailbox *mb, struct dt *t);
/* Stops the server and waits for it. */
void mailbox_stop(struct mailbox *mb);
/* The messages in the maildir whose text contains needle, counted; the
 * first one copied into out (when out is not NULL). */
int mailbox_count(const struct mailbox *mb, const char *needle, char *out, size_t cap);

#endif
