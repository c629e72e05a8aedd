/* The wake socket (bot/wake.c): a CLI command that wrote to the store
 * tells a running daemon so with one datagram on a Unix socket in the data
 * directory, and the daemon looks at its queue again. Without it the
 * daemon sleeps until its next due row. */
#ifndef CASEBOT_WAKE_H
#define CASEBOT_WAKE_H

#include <uv.h>

#define WAKE_SOCKET "casebot.wake"

struct wake;
typedef void (*wake_cb)(void *arg);

/* Listens on DATA_DIR/casebot.wake, mode 0600; a socket file left by a
 * daemon that was killed is replaced. cb runs once per readable turn,
 * however many datagrams came. NULL (logged) when it cannot listen. */
struct wake *wake_listen(uv_loop_t *loop, const char *data_dir, wake_cb cb, void *arg);
/* Removes the socket file; the memory goes in the close callback. */
void wake_close(struct wake *w);
/* Tells the daemon of data_dir, if one runs, that the store changed. No
 * daemon is normal: nothing is said, nothing waits. */
void wake_daemon(const char *data_dir);

#endif
