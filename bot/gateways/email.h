/* The email gateway: staff without Telegram get forwards, alerts and the
 * daily digest by mail, sent over SMTP on the daemon's HTTP client (one
 * multi handle, one loop). Nothing is received. */
#ifndef CASEBOT_GATEWAY_EMAIL_H
#define CASEBOT_GATEWAY_EMAIL_H

#include <stddef.h>

#include "bot/gateways/gateway.h"

struct config;

#define EMAIL_MESSAGE_MAX (256 * 1024)   /* bytes of text in one mail */
#define EMAIL_SUBJECT_MAX 160            /* bytes of subject text, before encoding */
/* libcurl waits for the reply to the end of DATA without returning to the
 * loop (smtp_done blocks, in 7.88 as in 8.x): this timeout is also the
 * longest a slow SMTP server can hold the daemon. A relay on localhost
 * answers at once and keeps that wait to nothing. */
#define EMAIL_SEND_TIMEOUT_MS 30000L

/* A part's address is the recipient's email address; its text is the mail:
 * the first line the Subject, the rest the body (buttons are ignored).
 * Needs env->loop, env->cfg and env->http. NULL with err "" when [smtp] url is
 * empty (email off); NULL with a one-line err on a real problem (the
 * password cannot be read, a password without a username...). After
 * ops->free() no callback of this gateway runs any more. */
struct gateway *gateway_email_new(const struct gateway_env *env, char *err, size_t errlen);

/* [smtp]: its keys, defaults and checks. */
extern const struct config_section gateway_email_config;

/* The SMTP password from $CASEBOT_SMTP_PASSWORD or password_file; "" when
 * neither is set (a server without authentication). */
int gateway_email_password(const struct config *cfg, char *out, size_t cap);

#endif
