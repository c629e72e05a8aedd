/* libFuzzer target for the webhook bodies as the daemon's HTTP handlers
 * take them. The input is a header line and a body. Telegram: the secret
 * header compared as the webhook does, then the body parsed as one update
 * and kept as the inbound row would keep it. WhatsApp: the
 * X-Hub-Signature-256 checked on the body's bytes (as given, and as the
 * right signature of those bytes, which must pass), then the body parsed
 * as a notification. Built by make fuzz; make test replays
 * tests/data/fuzz/webhook through the same entry. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "bot/casebot.h"
#include "bot/event.h"
#include "bot/event_json.h"
#include "bot/gateways/telegram_api.h"
#include "bot/gateways/whatsapp.h"
#include "bot/gateways/whatsapp_api.h"

#define SECRET "fuzz-app-secret"

static char json[INBOUND_EVENT_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	return 0;
}

static int on_message(void *arg, int rc, const struct inbound_event *ev)
{
	(void)arg;
	if (rc == 0 && event_to_json(ev, 0, json, sizeof(json)) != 0)
		abort();
	return 0;
}

static int on_status(void *arg, int rc, const struct whatsapp_status *st)
{
	(void)arg;
	(void)rc;
	(void)st;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct inbound_event ev;
	const char *nl = memchr(data, '\n', size);
	const char *header = (const char *)data, *body;
	size_t hlen = nl != NULL ? (size_t)(nl - header) : 0, blen;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char good[7 + 2 * sizeof(mac) + 1];
	struct whatsapp_webhook w;
	crypto_auth_hmacsha256_state st;
	unsigned flags;
	cJSON *update;
	int rc;

	body = nl != NULL ? nl + 1 : header;
	blen = size - (size_t)(body - header);
	/* Telegram: a secret of the same length compared in constant time. */
	if (hlen == strlen(SECRET) && sodium_memcmp(header, SECRET, hlen) == 0 && memcmp(header, SECRET, hlen) != 0)
		abort();
	update = cJSON_ParseWithLength(body, blen);
	if (update != NULL) {
		rc = telegram_api_parse_update(update, 0, &ev, &flags);
		if (rc == 0 && event_to_json(&ev, 0, json, sizeof(json)) != 0)
			abort();
		cJSON_Delete(update);
	}
	/* WhatsApp: the header as sent, then the right signature. */
	whatsapp_signature_ok(SECRET, nl != NULL ? header : NULL, hlen, body, blen);
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)SECRET, strlen(SECRET));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, blen);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(good, "sha256=", 7);
	sodium_bin2hex(good + 7, sizeof(good) - 7, mac, sizeof(mac));
	if (!whatsapp_signature_ok(SECRET, good, strlen(good), body, blen))
		abort();
	/* One byte more or less is another body. */
	if (blen > 0 && whatsapp_signature_ok(SECRET, good, strlen(good), body, blen - 1))
		abort();
	memset(&w, 0, sizeof(w));
	w.message = on_message;
	w.status = on_status;
	w.phone_number_id = "1234567890";
	rc = whatsapp_api_parse_webhook(body, blen, &w);
	if (rc != 0 && rc != -CB_EPARSE)
		abort();
	return 0;
}
