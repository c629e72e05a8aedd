#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <sqlite3.h>
#include <uv.h>

#include "bot/casebot.h"
#include "bot/metrics.h"

void metrics_count(struct metrics *m, const char *direction, const char *channel, const char *kind)
{
	struct metric_series *s;

	for (int i = 0; i < m->nseries; i++) {
		s = &m->series[i];
		if (strcmp(s->direction, direction) == 0 && strcmp(s->channel, channel) == 0 &&
		    strcmp(s->kind, kind) == 0) {
			s->n++;
			return;
		}
	}
	/* Kinds come from the code, not from users: the table does not grow
	 * without bound. The last slot takes whatever does not fit. */
	if (m->nseries == METRICS_SERIES) {
		m->series[METRICS_SERIES - 1].n++;
		return;
	}
	s = &m->series[m->nseries++];
	cb_strlcpy(s->direction, direction, sizeof(s->direction));
	cb_strlcpy(s->channel, channel, sizeof(s->channel));
	cb_strlcpy(s->kind, kind, sizeof(s->kind));
	s->n = 1;
}

void metrics_template(struct metrics *m, const char *channel, const char *name)
{
	metrics_count(m, "tpl", channel, name);
}

void metrics_billable(struct metrics *m, const char *channel, const char *category)
{
	struct metric_billable *b;
	const char *c = category;

	/* The category is the gateway's word: it goes into the text format
	 * only when it cannot break it. */
	for (const char *p = c; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			c = "other";
	if (c[0] == '\0' || strlen(c) >= sizeof(b->category))
		c = "other";
	for (int i = 0; i < m->nbillable; i++) {
		b = &m->billable[i];
		if (strcmp(b->channel, channel) == 0 && strcmp(b->category, c) == 0) {
			b->n++;
			return;
		}
	}
	if (m->nbillable == METRICS_BILLABLE) {
		m->billable[METRICS_BILLABLE - 1].n++;
		return;
	}
	b = &m->billable[m->nbillable++];
	cb_strlcpy(b->channel, channel, sizeof(b->channel));
	cb_strlcpy(b->category, c, sizeof(b->category));
	b->n = 1;
}

void metrics_sms_segments(struct metrics *m, const char *encoding, int n)
{
	if (n > 0)
		m->sms_segments[strcmp(encoding, "gsm7") == 0 ? 0 : 1] += (uint64_t)n;
}

void metrics_latency(struct metrics *m, double seconds)
{
	m->gateway_seconds_sum += seconds;
	m->gateway_calls++;
}

static struct metric_gateway *poll_series(struct metrics *m, const char *channel)
{
	struct metric_gateway *g;

	for (int i = 0; i < m->npoll; i++)
		if (strcmp(m->poll_failures[i].channel, channel) == 0)
			return &m->poll_failures[i];
	/* One per gateway kind: the table is as long as the gateway table. */
	if (m->npoll == METRICS_GATEWAYS)
		return &m->poll_failures[METRICS_GATEWAYS - 1];
	g = &m->poll_failures[m->npoll++];
	cb_strlcpy(g->channel, channel, sizeof(g->channel));
	g->n = 0;
	return g;
}

void metrics_poll_gateway(struct metrics *m, const char *channel)
{
	poll_series(m, channel);
}

void metrics_poll_failure(struct metrics *m, const char *channel)
{
	poll_series(m, channel)->n++;
}

struct out {
	char *buf;
	size_t cap, len;
	int full;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->full = 1;
		return;
	}
	o->len += (size_t)n;
}

int metrics_render(const struct metrics *m, int64_t outbox_depth, double oldest_due_seconds,
		   char *buf, size_t cap, size_t *len)
{
	struct out o = {buf, cap, 0, 0};

	/* The libraries' versions as this process runs them, not as it was
	 * built against: a Debian upgrade changes them under the binary. */
	put(&o, "# HELP casebot_build_info The running version of casebot and of the libraries it uses.\n"
		"# TYPE casebot_build_info gauge\n"
		"casebot_build_info{version=\"%s\",sqlite=\"%s\",curl=\"%s\",libuv=\"%s\"} 1\n",
	    CASEBOT_VERSION, sqlite3_libversion(), curl_version_info(CURLVERSION_NOW)->version, uv_version_string());
	put(&o, "# HELP casebot_messages_total Messages in and out, by channel and kind.\n"
		"# TYPE casebot_messages_total counter\n");
	for (int i = 0; i < m->nseries; i++)
		if (strcmp(m->series[i].direction, "tpl") != 0)
			put(&o, "casebot_messages_total{direction=\"%s\",channel=\"%s\",kind=\"%s\"} %llu\n",
			    m->series[i].direction, m->series[i].channel, m->series[i].kind,
			    (unsigned long long)m->series[i].n);
	put(&o, "# HELP casebot_templates_sent_total Messages sent as an approved template, by channel and template.\n"
		"# TYPE casebot_templates_sent_total counter\n");
	for (int i = 0; i < m->nseries; i++)
		if (strcmp(m->series[i].direction, "tpl") == 0)
			put(&o, "casebot_templates_sent_total{channel=\"%s\",template=\"%s\"} %llu\n",
			    m->series[i].channel, m->series[i].kind, (unsigned long long)m->series[i].n);
	put(&o, "# HELP casebot_send_failures_total Send attempts that failed.\n"
		"# TYPE casebot_send_failures_total counter\ncasebot_send_failures_total %llu\n",
	    (unsigned long long)m->send_failures);
	put(&o, "# HELP casebot_send_timeouts_total Send attempts that got no answer in time; the gateway"
		" may have carried them out, and the retry may show them twice.\n"
		"# TYPE casebot_send_timeouts_total counter\ncasebot_send_timeouts_total %llu\n",
	    (unsigned long long)m->send_timeouts);
	put(&o, "# HELP casebot_messages_failed_total Messages given up on.\n"
		"# TYPE casebot_messages_failed_total counter\ncasebot_messages_failed_total %llu\n",
	    (unsigned long long)m->messages_failed);
	put(&o, "# HELP casebot_updates_ignored_total Updates of kinds casebot does not read.\n"
		"# TYPE casebot_updates_ignored_total counter\ncasebot_updates_ignored_total %llu\n",
	    (unsigned long long)m->updates_ignored);
	put(&o, "# HELP casebot_updates_malformed_total Updates that could not be parsed.\n"
		"# TYPE casebot_updates_malformed_total counter\ncasebot_updates_malformed_total %llu\n",
	    (unsigned long long)m->updates_malformed);
	put(&o, "# HELP casebot_inbound_failures_total Routings of an inbound event that failed.\n"
		"# TYPE casebot_inbound_failures_total counter\ncasebot_inbound_failures_total %llu\n",
	    (unsigned long long)m->inbound_failures);
	put(&o, "# HELP casebot_inbound_failed_total Inbound events given up on after retries.\n"
		"# TYPE casebot_inbound_failed_total counter\ncasebot_inbound_failed_total %llu\n",
	    (unsigned long long)m->inbound_failed);
	put(&o, "# HELP casebot_poll_failures_total Polls for updates that got no usable answer, by channel.\n"
		"# TYPE casebot_poll_failures_total counter\n");
	for (int i = 0; i < m->npoll; i++)
		put(&o, "casebot_poll_failures_total{channel=\"%s\"} %llu\n", m->poll_failures[i].channel,
		    (unsigned long long)m->poll_failures[i].n);
	put(&o, "# HELP casebot_webhook_refused_total Webhook calls without the right secret.\n"
		"# TYPE casebot_webhook_refused_total counter\ncasebot_webhook_refused_total %llu\n",
	    (unsigned long long)m->webhook_refused);
	put(&o, "# HELP casebot_billable_messages_total Sent messages the gateway charges for, by category.\n"
		"# TYPE casebot_billable_messages_total counter\n");
	for (int i = 0; i < m->nbillable; i++)
		put(&o, "casebot_billable_messages_total{channel=\"%s\",category=\"%s\"} %llu\n", m->billable[i].channel,
		    m->billable[i].category, (unsigned long long)m->billable[i].n);
	put(&o, "# HELP casebot_sms_segments_total SMS segments sent (what a provider charges), by encoding.\n"
		"# TYPE casebot_sms_segments_total counter\n"
		"casebot_sms_segments_total{encoding=\"gsm7\"} %llu\ncasebot_sms_segments_total{encoding=\"ucs2\"} %llu\n",
	    (unsigned long long)m->sms_segments[0], (unsigned long long)m->sms_segments[1]);
	put(&o, "# HELP casebot_outbox_depth Messages due and not yet sent.\n"
		"# TYPE casebot_outbox_depth gauge\ncasebot_outbox_depth %lld\n", (long long)outbox_depth);
	put(&o, "# HELP casebot_outbox_oldest_due_seconds Age of the oldest due message.\n"
		"# TYPE casebot_outbox_oldest_due_seconds gauge\ncasebot_outbox_oldest_due_seconds %.0f\n",
	    oldest_due_seconds);
	put(&o, "# HELP casebot_gateway_seconds Gateway round trips.\n"
		"# TYPE casebot_gateway_seconds summary\ncasebot_gateway_seconds_sum %.6f\n"
		"casebot_gateway_seconds_count %llu\n",
	    m->gateway_seconds_sum, (unsigned long long)m->gateway_calls);
	*len = o.len;
	return o.full ? -CB_ETOOBIG : 0;
}
