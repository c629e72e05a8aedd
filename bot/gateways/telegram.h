/* The Telegram gateway: long polling (getUpdates) or a webhook on the
 * daemon's HTTP server. */
#ifndef CASEBOT_GATEWAY_TELEGRAM_H
#define CASEBOT_GATEWAY_TELEGRAM_H

#include <stddef.h>

struct gateway_env;

struct config;

/* NULL with err set when the token cannot be read. */
struct gateway *gateway_telegram_new(const struct gateway_env *env, char *err, size_t errlen);

/* [telegram]: its keys, defaults and checks. */
extern const struct config_section gateway_telegram_config;

/* Reads the token from $CASEBOT_TELEGRAM_TOKEN or token_file (first line,
 * trimmed). Never logged. */
int gateway_telegram_token(const struct config *cfg, char *out, size_t cap);

#endif
