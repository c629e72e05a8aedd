/* smsimctl: starts build/smsim (the Twilio Messaging API simulator) for a
 * test and drives its control interface with blocking libcurl calls, on
 * simctl's process and HTTP helpers.
 *
 *   struct smsimctl m;
 *   smsimctl_start(&m, "--status-order forward");
 *   // [sms] api_base = smsimctl_base(&m), account_sid = SMSIMCTL_ACCOUNT_SID,
 *   //       from = SMSIMCTL_NUMBER, public_url = the URL Twilio knows;
 *   // CASEBOT_SMS_AUTH_TOKEN = SMSIMCTL_AUTH_TOKEN.
 *   smsimctl_set_webhook(&m, "http://127.0.0.1:PORT/sms/hook", public_url);
 *   smsimctl_text(&m, "+32470001001", "ABC123");   // a family texts
 *   smsimctl_wait_sent(&m, "+32470001001", 1, 5000);
 *   cJSON *sent = smsimctl_sent(&m, "+32470001001"); // [{text, segments, encoding, validity...}]
 *   smsimctl_number(&m, "+32470001001", "unreachable");
 *   assert_int_equal(smsimctl_stop(&m), 0);
 *
 * Every call is bounded in time; int calls return 0 (or a count or a
 * webhook number) on success and -1 on failure. */
#ifndef CASEBOT_SMSIMCTL_H
#define CASEBOT_SMSIMCTL_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "tests/support/simctl.h"

#define SMSIMCTL_ACCOUNT_SID "AC0123456789abcdef0123456789abcdef"
#define SMSIMCTL_AUTH_TOKEN "smsim-test-auth-token"
#define SMSIMCTL_NUMBER "+32460000000"

struct smsimctl {
	struct simctl s;
};

int smsimctl_start(struct smsimctl *m, const char *extra_args);
int smsimctl_stop(struct smsimctl *m);
const char *smsimctl_base(const struct smsimctl *m);
/* Where webhooks go (url), and the URL Twilio knows for it (public_url,
 * signed; NULL: url itself). */
int smsimctl_set_webhook(struct smsimctl *m, const char *url, const char *public_url);
/* A family's text from number (E.164): the webhook's number, or -1. */
int64_t smsimctl_text(struct smsimctl *m, const char *number, const char *text);
/* The same signed with a wrong token. */
int64_t smsimctl_forge(struct smsimctl *m, const char *number, const char *text);
/* mode: ok, unreachable (30003), unknown (30005), opted_out (21610 at
 * once), opted_out_later (21610 in a failed status). */
int smsimctl_number(struct smsimctl *m, const char *number, const char *mode);
/* What the daemon sent to number (NULL: all), oldest first (caller deletes). */
cJSON *smsimctl_sent(struct smsimctl *m, const char *number);
int smsimctl_wait_sent(struct smsimctl *m, const char *number, int n, long timeout_ms);
/* hooks_delivered, statuses_delivered, inbound_delivered, forged_refused,
 * hooks_refused: the count once it reaches n, or after timeout_ms. */
long long smsimctl_wait(struct smsimctl *m, const char *what, long long n, long timeout_ms);
long long smsimctl_stat(struct smsimctl *m, const char *name);
/* The core's faults: kind "429" (with Retry-After: retry_after seconds)
 * or "500" for the next count sends. */
int smsimctl_fault(struct smsimctl *m, const char *kind, int count, int retry_after);

#endif
