/* The one table of gateways. Adding a gateway is one file beside this one,
 * one line here, and its configuration section. The order is the order
 * they start in and the order healthz lists them. */
#include <sodium.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/gateways/email.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/sms.h"
#include "bot/gateways/sms_api.h"
#include "bot/gateways/telegram.h"
#include "bot/gateways/telegram_api.h"
#include "bot/gateways/whatsapp.h"
#include "handlers/handler.h"

const struct gateway_kind gateway_kinds[] = {
	{"email", gateway_email_new, EMAIL_MESSAGE_MAX, NULL, &gateway_email_config},
	{"telegram", gateway_telegram_new, TELEGRAM_TEXT_MAX_UNITS, telegram_api_utf16_len,
	 &gateway_telegram_config},
	{"whatsapp", gateway_whatsapp_new, WHATSAPP_TEXT_MAX, whatsapp_text_len, &gateway_whatsapp_config},
	{"sms", gateway_sms_new, SMS_TEXT_MAX, sms_text_len, &gateway_sms_config},
};

const size_t gateway_nkinds = sizeof(gateway_kinds) / sizeof(gateway_kinds[0]);

unsigned gateway_media_bit(const char *kind)
{
	static const char *const kinds[] = {"photo", "document", "voice", "audio", "video", "video_note", "sticker",
						   "calendar"};

	for (unsigned i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kind, kinds[i]) == 0)
			return 1u << i;
	return 0;
}

const struct gateway_kind *gateway_kind_find(const char *name)
{
	for (size_t i = 0; i < gateway_nkinds; i++)
		if (strcmp(name, gateway_kinds[i].name) == 0)
			return &gateway_kinds[i];
	return NULL;
}

struct gateway *gateway_find(struct gateway *const *gateways, int n, const char *kind)
{
	for (int i = 0; i < n; i++)
		if (strcmp(gateways[i]->ops->name, kind) == 0)
			return gateways[i];
	return NULL;
}

void gateway_hctx(const struct gateway_env *env, struct hctx *h)
{
	h->cfg = env->cfg;
	h->store = env->store;
	h->loc = *env->loc;
	h->now = clock_now();
	h->actor = "bot";
}

uint64_t gateway_backoff_ms(uint64_t *step, uint64_t min_ms, uint64_t max_ms)
{
	uint64_t wait = *step == 0 ? min_ms : *step;

	*step = *step == 0 ? min_ms : *step * 2;
	if (*step > max_ms)
		*step = max_ms;
	/* Up to a quarter more spreads the retries; the cap holds with it. */
	wait += randombytes_uniform((uint32_t)(wait / 4 + 1));
	return wait < max_ms ? wait : max_ms;
}
