/* The WhatsApp gateway: Meta's Cloud API. Messages and statuses come by
 * webhook on the daemon's HTTP server (GET|POST /whatsapp/<webhook_path>);
 * sends are Graph API calls with the Bearer token.
 *
 * The gateway is two files around one struct: whatsapp.c (the section,
 * the secrets, the webhook, media downloads) and whatsapp_send.c (sends,
 * templates, the conversation window). Both see struct whatsapp. */
#ifndef CASEBOT_GATEWAY_WHATSAPP_H
#define CASEBOT_GATEWAY_WHATSAPP_H

#include <stddef.h>

#include "bot/gateways/gateway.h"

struct config;

/* What WhatsApp allows (Cloud API reference, "Messages"). */
#define WHATSAPP_TEXT_MAX 4096            /* characters of a text body */
#define WHATSAPP_BUTTONS_MAX 3            /* reply buttons on one message */
#define WHATSAPP_BUTTON_TITLE_MAX 20      /* characters of a button title */
#define WHATSAPP_WINDOW_SECONDS (24 * 3600)
#define WHATSAPP_DOWNLOAD_MAX (20 * 1024 * 1024)
#define WHATSAPP_TOKEN_MAX 1024           /* system-user tokens run to a few hundred bytes */
#define WHATSAPP_SECRET_MAX 256

struct whatsapp {
	struct gateway gw;           /* first: the daemon holds a struct gateway * */
	char token[WHATSAPP_TOKEN_MAX];       /* Bearer; never logged */
	char app_secret[WHATSAPP_SECRET_MAX]; /* signs the webhooks; never logged */
	int started, stopping;
	int inflight;                /* Graph API calls not yet answered, both files */
};

/* NULL with err "" when [whatsapp] has no phone_number_id (not
 * configured); NULL with err set when a secret cannot be read. */
struct gateway *gateway_whatsapp_new(const struct gateway_env *env, char *err, size_t errlen);

/* [whatsapp]: its keys, defaults and checks. */
extern const struct config_section gateway_whatsapp_config;

/* Whether [whatsapp] is configured (phone_number_id set). */
int gateway_whatsapp_configured(const struct config *cfg);

/* The access token from $CASEBOT_WHATSAPP_TOKEN or token_file, and the app
 * secret from $CASEBOT_WHATSAPP_APP_SECRET or app_secret_file (first line,
 * trimmed). Never logged. */
int gateway_whatsapp_token(const struct config *cfg, char *out, size_t cap);
int gateway_whatsapp_app_secret(const struct config *cfg, char *out, size_t cap);

/* The Authorization header for Graph API calls, "Authorization: Bearer
 * <token>", into out (wiped by the caller after use). */
int whatsapp_auth_header(const struct whatsapp *wa, char *out, size_t cap);

/* 1 when header (hlen bytes, NULL: none) is "sha256=" and the hex
 * HMAC-SHA256 of the body bytes keyed with secret, compared in constant
 * time. */
int whatsapp_signature_ok(const char *secret, const char *header, size_t hlen, const char *body, size_t len);

/* Length of a text in WhatsApp's measure of its limit (UTF-16 units, as
 * the Graph API counts). */
size_t whatsapp_text_len(const char *text, size_t len);

#endif
