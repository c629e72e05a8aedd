/* casebot run: one libuv loop carrying the gateways, the outbox, the
 * scheduler and the HTTP server. */
#ifndef CASEBOT_DAEMON_H
#define CASEBOT_DAEMON_H

#include "bot/config.h"

/* Runs the daemon until SIGTERM/SIGINT; returns the exit code. The daemon
 * is the top of the layers: it makes the store, the gateways, the outbox
 * (bot/outbox.h), the fetcher (bot/fetcher.h) and the console, gives each
 * what it uses, and none of them calls back into it. */
int daemon_run(const struct config *cfg);

#endif
