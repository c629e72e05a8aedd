/* The Telegram gateway: long polling (getUpdates) or a webhook on the
 * daemon's HTTP server. */
#ifndef CASEBOT_GATEWAY_TELEGRAM_H
#define CASEBOT_GATEWAY_TELEGRAM_H

#include <stddef.h>

struct daemon;

/* NULL with err set when the token cannot be read. */
struct gateway *gateway_telegram_new(struct daemon *d, char *err, size_t errlen);

#endif
