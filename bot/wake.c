/* The wake socket: a datagram socket, so that a wake is one sendto() that
 * never blocks the CLI, and a daemon busy elsewhere finds every wake that
 * came meanwhile as one readable socket. Only the daemon's own user can
 * write to it (0600, in a 0700 data directory). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bot/log.h"
#include "bot/wake.h"

struct wake {
	uv_poll_t poll;
	int fd;
	struct sockaddr_un addr;
	dev_t dev;                   /* the socket file this daemon bound */
	ino_t ino;
	wake_cb cb;
	void *arg;
};

static int wake_addr(const char *data_dir, struct sockaddr_un *a)
{
	int n;

	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	n = snprintf(a->sun_path, sizeof(a->sun_path), "%s/%s", data_dir, WAKE_SOCKET);
	return n > 0 && (size_t)n < sizeof(a->sun_path) ? 0 : -1;
}

static void on_readable(uv_poll_t *p, int status, int events)
{
	struct wake *w = p->data;
	char buf[64];
	int n = 0;

	(void)events;
	if (status < 0)
		log_warn("wake socket: %s", uv_strerror(status));
	/* What a wake says is only that it came. */
	while (recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		n++;
	if (n > 0)
		w->cb(w->arg);
}

struct wake *wake_listen(uv_loop_t *loop, const char *data_dir, wake_cb cb, void *arg)
{
	struct wake *w = calloc(1, sizeof(*w));
	struct stat sb;
	mode_t old;
	int rc;

	if (w == NULL)
		return NULL;
	w->cb = cb;
	w->arg = arg;
	if (wake_addr(data_dir, &w->addr) != 0) {
		log_warn("wake socket: the path %s/%s is too long for a socket; a CLI change waits until "
			 "something else wakes the outbox (a message, a due row, a restart)", data_dir, WAKE_SOCKET);
		free(w);
		return NULL;
	}
	w->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (w->fd < 0)
		goto fail;
	/* A daemon that was killed left its socket file; nothing listens on
	 * it any more. Anything else of that name is not ours to remove. */
	if (lstat(w->addr.sun_path, &sb) == 0 && S_ISSOCK(sb.st_mode))
		unlink(w->addr.sun_path);
	old = umask(0177);
	rc = bind(w->fd, (struct sockaddr *)&w->addr, sizeof(w->addr));
	umask(old);
	if (rc != 0 || chmod(w->addr.sun_path, 0600) != 0 || stat(w->addr.sun_path, &sb) != 0)
		goto fail;
	w->dev = sb.st_dev;
	w->ino = sb.st_ino;
	if (uv_poll_init(loop, &w->poll, w->fd) != 0) {
		unlink(w->addr.sun_path);
		goto fail;
	}
	w->poll.data = w;
	uv_poll_start(&w->poll, UV_READABLE, on_readable);
	return w;
fail:
	log_warn("wake socket %s: %s; a CLI change waits until something else wakes the outbox (a message, a "
		 "due row, a restart)", w->addr.sun_path,
		 strerror(errno));
	if (w->fd >= 0)
		close(w->fd);
	free(w);
	return NULL;
}

static void wake_closed(uv_handle_t *h)
{
	struct wake *w = h->data;

	close(w->fd);
	free(w);
}

void wake_close(struct wake *w)
{
	struct stat sb;

	if (w == NULL)
		return;
	/* A daemon started after this one on the same directory owns the
	 * file now. */
	if (stat(w->addr.sun_path, &sb) == 0 && sb.st_dev == w->dev && sb.st_ino == w->ino)
		unlink(w->addr.sun_path);
	uv_close((uv_handle_t *)&w->poll, wake_closed);
}

void wake_daemon(const char *data_dir)
{
	struct sockaddr_un a;
	int fd;

	if (wake_addr(data_dir, &a) != 0 || (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	/* No file, or a file nobody reads (ECONNREFUSED), is no daemon; a
	 * full queue (EAGAIN) is a daemon already woken. */
	if (sendto(fd, "w", 1, MSG_DONTWAIT, (struct sockaddr *)&a, sizeof(a)) < 0)
		errno = 0;
	close(fd);
}
