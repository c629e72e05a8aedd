/* The one table of gateways. Adding a gateway is one file beside this one,
 * one line here, and its configuration section. The order is the order
 * they start in and the order the unknown-chat answer and healthz list
 * them. */
#include "bot/gateways/email.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/telegram.h"

const struct gateway_kind gateway_kinds[] = {
	{"email", gateway_email_new},
	{"telegram", gateway_telegram_new},
};

const size_t gateway_nkinds = sizeof(gateway_kinds) / sizeof(gateway_kinds[0]);
