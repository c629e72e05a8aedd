/* Counters for GET /metrics, in Prometheus text format. */
#ifndef CASEBOT_METRICS_H
#define CASEBOT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#define METRICS_SERIES 96

struct metric_series {
	char direction[4];    /* in, out; tpl: a template sent, kind its name */
	char channel[16];
	char kind[32];
	uint64_t n;
};

#define METRICS_BILLABLE 16

/* Messages a gateway says it charges for (WhatsApp's pricing block), by
 * its pricing category. */
struct metric_billable {
	char channel[16];
	char category[32];
	uint64_t n;
};

#define METRICS_GATEWAYS 8

/* Polls for updates that failed, by gateway. */
struct metric_gateway {
	char channel[16];
	uint64_t n;
};

struct metrics {
	struct metric_series series[METRICS_SERIES];
	int nseries;
	uint64_t send_failures;        /* attempts that did not send */
	uint64_t send_timeouts;        /* ... of which no answer came in time */
	uint64_t messages_failed;      /* messages given up on */
	uint64_t updates_ignored;      /* update kinds casebot does not read */
	uint64_t updates_malformed;
	uint64_t inbound_failures;     /* routings of an inbound event that failed */
	uint64_t inbound_failed;       /* inbound events given up on (staff told) */
	uint64_t webhook_refused;      /* wrong or missing secret */
	struct metric_billable billable[METRICS_BILLABLE];
	int nbillable;
	double gateway_seconds_sum;    /* gateway round trips */
	uint64_t gateway_calls;
	uint64_t sms_segments[2];      /* SMS segments sent: GSM-7, UCS-2 */
	struct metric_gateway poll_failures[METRICS_GATEWAYS];
	int npoll;
};

void metrics_count(struct metrics *m, const char *direction, const char *channel, const char *kind);
/* One more message sent as an approved template (WhatsApp outside its
 * conversation window), which the gateway charges as such. */
void metrics_template(struct metrics *m, const char *channel, const char *name);
/* One more billable message of category (letters, digits and _ only;
 * anything else counts as "other"). */
void metrics_billable(struct metrics *m, const char *channel, const char *category);
/* n more SMS segments sent in encoding "gsm7" or "ucs2". */
void metrics_sms_segments(struct metrics *m, const char *encoding, int n);
void metrics_latency(struct metrics *m, double seconds);
/* One more failed poll of a gateway; metrics_poll_gateway shows the
 * gateway's count (0 until a poll fails). */
void metrics_poll_failure(struct metrics *m, const char *channel);
void metrics_poll_gateway(struct metrics *m, const char *channel);
/* Writes the text format into out; -CB_ETOOBIG if it does not fit. */
int metrics_render(const struct metrics *m, int64_t outbox_depth, double oldest_due_seconds,
		   char *out, size_t cap, size_t *len);

#endif
