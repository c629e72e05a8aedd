/* The SMS gateway: Twilio's Programmable Messaging API, which SignalWire
 * and other providers also speak. Sends are POST
 * {api_base}/2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded
 * with Basic auth; inbound messages come to POST /sms/<webhook_path> and
 * status callbacks to POST /sms/<webhook_path>/status on the daemon's
 * [http] listener, signed with X-Twilio-Signature. The pure side (forms,
 * signatures, statuses, segments, numbers) is sms_api.c. */
#ifndef CASEBOT_GATEWAY_SMS_H
#define CASEBOT_GATEWAY_SMS_H

#include <stddef.h>

#include "bot/gateways/gateway.h"

struct config;

#define SMS_TOKEN_MAX 256

/* NULL with err "" when [sms] has no account_sid; NULL with err set when
 * the auth token cannot be read. */
struct gateway *gateway_sms_new(const struct gateway_env *env, char *err, size_t errlen);

extern const struct config_section gateway_sms_config;

int gateway_sms_configured(const struct config *cfg);
/* The auth token from $CASEBOT_SMS_AUTH_TOKEN or auth_token_file (first
 * line, trimmed). Never logged. */
int gateway_sms_auth_token(const struct config *cfg, char *out, size_t cap);
/* The languages of [sms] transliterate as bits (1 << enum lang);
 * -CB_EINVAL for a word that is no language. "none" is 0. */
int gateway_sms_transliterate_mask(const char *value, unsigned *mask);

/* Length of a text in characters as Twilio counts a Body (UTF-16 units). */
size_t sms_text_len(const char *text, size_t len);

#endif
