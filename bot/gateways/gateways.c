/* The one table of gateways. Adding a gateway is one file beside this one,
 * one line here, and its configuration section. The order is the order
 * they start in and the order healthz lists them. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "bot/clock.h"
#include "bot/gateways/email.h"
#include "bot/gateways/gateway.h"
#include "bot/gateways/sms.h"
#include "bot/gateways/sms_api.h"
#include "bot/gateways/telegram.h"
#include "bot/gateways/telegram_api.h"
#include "bot/gateways/whatsapp.h"
#include "bot/metrics.h"
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

void gateway_failed(struct gateway *gw, uint64_t now_ms, const char *why)
{
	if (gw->last_fail_ms < gw->last_ok_ms)
		gw->failures = 0;
	gw->failures++;
	gw->last_fail_ms = now_ms;
	cb_strlcpy(gw->last_failure, why != NULL ? why : "", sizeof(gw->last_failure));
}

void gateway_answered(struct gateway *gw, uint64_t now_ms)
{
	gw->last_ok_ms = now_ms;
}

void gateway_poll_failed(struct gateway *gw, const char *why)
{
	metrics_poll_failure(gw->env->metrics, gw->ops->name);
	gw->poll_failures++;
	gateway_failed(gw, uv_now(gw->env->loop), why);
}

void gateway_polled(struct gateway *gw)
{
	gw->poll_failures = 0;
	gateway_answered(gw, uv_now(gw->env->loop));
}

int gateway_ready(const struct gateway *gw, uint64_t now, uint64_t started_ms, char *why, size_t cap)
{
	uint64_t since = gw->last_ok_ms > 0 ? gw->last_ok_ms : started_ms;

	if (gw->poll_failures >= GATEWAY_READY_FAILURES) {
		snprintf(why, cap, "%s: %d polls in a row failed, the last %llu s ago (%s)", gw->ops->name,
			 gw->poll_failures, (unsigned long long)((now - gw->last_fail_ms) / 1000), gw->last_failure);
		return 0;
	}
	/* A failure after the last answer: the streak is still running. */
	if (gw->failures >= GATEWAY_READY_FAILURES && gw->last_fail_ms >= gw->last_ok_ms) {
		snprintf(why, cap, "%s: %d calls in a row failed, the last %llu s ago (%s)", gw->ops->name,
			 gw->failures, (unsigned long long)((now - gw->last_fail_ms) / 1000), gw->last_failure);
		return 0;
	}
	if (!gw->caps.quiet_ok && now - since >= GATEWAY_SILENT_MS) {
		if (gw->last_ok_ms > 0)
			snprintf(why, cap, "%s: no answer for %llu s", gw->ops->name,
				 (unsigned long long)((now - since) / 1000));
		else
			snprintf(why, cap, "%s: no answer since start-up, %llu s ago", gw->ops->name,
				 (unsigned long long)((now - since) / 1000));
		return 0;
	}
	if (cap > 0)
		why[0] = '\0';
	return 1;
}
