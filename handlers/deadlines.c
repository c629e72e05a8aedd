/* Periodic checks, every ten seconds in the daemon: an appointment still
 * unconfirmed when the ack deadline comes, a document past its due date, a
 * check-in nobody answered. Each alerts the counsellor once. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/tz.h"
#include "handlers/handler.h"
#include "locales/locale.h"

#define DEADLINE_BATCH 128

struct batch {
	struct deadline rows[DEADLINE_BATCH];
	int n;
};

static int collect(const void *rec, void *arg)
{
	struct batch *b = arg;

	if (b->n == DEADLINE_BATCH)
		return 1;
	b->rows[b->n++] = *(const struct deadline *)rec;
	return 0;
}

/* The alert for a deadline, with what it is about: the appointment's
 * time and kind, or the document's type. */
static int deadline_alert(struct hctx *h, enum deadline_kind kind, const struct deadline *d)
{
	char when[24];

	switch (kind) {
	case DEADLINE_UNCONFIRMED:
		snprintf(when, sizeof(when), "%lld", (long long)d->at);
		return handler_alert(h, d->family_id, "unconfirmed", 0, NULL, "unconfirmed", "when", when, "what",
				     d->what, NULL);
	case DEADLINE_OVERDUE:
		return handler_alert(h, d->family_id, "document_overdue", 0, NULL, "document_overdue", "document",
				     d->what, NULL);
	default:
		return handler_alert(h, d->family_id, "checkin_unanswered", 0, NULL, "checkin_unanswered", NULL);
	}
}

/* Seconds of working time (working days, working hours, local time)
 * between two moments; counted a day at a time, at most 60 days. */
long deadlines_working_seconds(const struct config *cfg, time_t from, time_t to)
{
	long seconds = 0;
	time_t day = tz_day_start(from);

	for (int i = 0; i < 60 && day < to; i++) {
		struct tm tm;
		time_t start, end, next;
		int wd;

		tz_local(day, &tm);
		wd = tm.tm_wday == 0 ? 7 : tm.tm_wday;
		tm.tm_mday += 1;
		tm.tm_hour = 12;
		tm.tm_isdst = -1;
		if (mktime(&tm) == (time_t)-1)
			break;
		next = tz_day_start(mktime(&tm));
		if (cfg->work_days & (1 << wd)) {
			start = day + cfg->work_start * 60;
			end = day + cfg->work_end * 60;
			if (start < from)
				start = from;
			if (end > to)
				end = to;
			if (end > start)
				seconds += (long)(end - start);
		}
		day = next;
	}
	return seconds;
}

struct escalation {
	struct hctx *h;
	struct alert rows[DEADLINE_BATCH];
	int n;
};

static int collect_alert(const void *rec, void *arg)
{
	struct escalation *e = arg;

	if (e->n == DEADLINE_BATCH)
		return 1;
	e->rows[e->n++] = *(const struct alert *)rec;
	return 0;
}

/* The family's words, as the first copy of the alert kept them, for the
 * one it is passed on to: a forward they can answer, saying who had it. */
static int tell_forward(struct hctx *h, int64_t staff_id, const struct alert *a, const char *kept, const char *from)
{
	cJSON *p = cJSON_Parse(kept);
	struct outbox_msg m;
	char *params = NULL;
	int rc = -CB_ENOMEM;

	if (p == NULL || !cJSON_IsObject(p)) {
		cJSON_Delete(p);
		return -CB_EPARSE;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(p, "from");
	if (cJSON_AddStringToObject(p, "from", from) == NULL || (params = cJSON_PrintUnformatted(p)) == NULL)
		goto out;
	memset(&m, 0, sizeof(m));
	m.family_id = a->family_id;
	m.staff_id = staff_id;
	m.urgent = a->urgent;
	m.not_before = h->now;
	m.expires_at = h->now + 7 * 86400;
	cb_strlcpy(m.kind, "forward", sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "staff.forward.header", sizeof(m.catalog_key));
	m.params = params;
	rc = store_outbox_add(h->store, &m, h->now);
out:
	free(params);
	cJSON_Delete(p);
	return rc;
}

static int tell(struct hctx *h, int64_t staff_id, const struct alert *a, const char *from)
{
	char id[24], *kept = NULL;
	int rc = store_alert_forward(h->store, a->id, &kept);

	if (rc == 0) {
		rc = tell_forward(h, staff_id, a, kept, from);
		free(kept);
		return rc;
	}
	if (rc != -CB_ENOENT)
		return rc;
	snprintf(id, sizeof(id), "%lld", (long long)a->id);
	return staff_notice(h, staff_id, a->family_id, "alert", "staff.alert.escalated", "alert_id", id, "ref", a->family_ref,
			    "kind", a->kind, "from", from, NULL);
}

struct coordinators {
	struct hctx *h;
	const struct alert *a;
	const char *from;
	int rc;
};

static int tell_coordinator(const void *rec, void *arg)
{
	const struct staff *s = rec;
	struct coordinators *c = arg;

	if (s->role != ROLE_COORDINATOR || !s->active || s->id == c->a->staff_id)
		return 0;
	c->rc = tell(c->h, s->id, c->a, c->from);
	return c->rc;
}

/* An alert nobody acknowledged within escalate_after working time goes to
 * the family's backup, and as long again later to the coordinators. */
static int escalate(struct hctx *h)
{
	static struct escalation e;
	int rc;

	e.h = h;
	e.n = 0;
	if ((rc = store_alert_each_open(h->store, 0, DEADLINE_BATCH, collect_alert, &e)) < 0)
		return rc;
	for (int i = 0; i < e.n; i++) {
		const struct alert *a = &e.rows[i];
		time_t since = a->escalated_at != 0 ? a->escalated_at : a->created_at;
		struct family f;
		struct staff owner;
		int level = a->escalation + 1, has = 0;

		if (deadlines_working_seconds(h->cfg, since, h->now) < h->cfg->escalate_after_seconds)
			continue;
		if (store_staff_get_id(h->store, a->staff_id, &owner) != 0)
			cb_strlcpy(owner.name, "?", sizeof(owner.name));
		if ((rc = store_begin(h->store)) != 0)
			return rc;
		/* The backup, unless they hold a copy already (urgent alerts go to
		 * both at once): then straight to the coordinators. */
		if (level == 1 && a->family_id != 0 && store_family_get_id(h->store, a->family_id, &f) == 0 &&
		    f.backup_id != 0 && f.backup_id != a->staff_id &&
		    (rc = store_alert_group_has(h->store, a->group_id, f.backup_id, &has)) == 0 && !has) {
			rc = tell(h, f.backup_id, a, owner.name);
		} else {
			struct coordinators c = {h, a, owner.name, 0};

			level = 2;
			rc = store_staff_each(h->store, tell_coordinator, &c);
			if (rc == 0)
				rc = c.rc;
		}
		if (rc == 0)
			rc = store_alert_escalate(h->store, a->id, level, h->now);
		/* Nobody is left to pass it on to: the words leave the store. */
		if (rc == 0 && level == 2)
			rc = store_alert_set_forward(h->store, a->id, NULL);
		if (rc == 0)
			rc = store_audit(h->store, h->now, "bot", "alert.escalate", a->family_ref,
					 level == 1 ? "backup" : "coordinators");
		if (rc == 0)
			rc = store_commit(h->store);
		if (rc != 0) {
			store_rollback(h->store);
			return rc;
		}
	}
	return 0;
}

struct digest_text {
	struct hctx *h;
	enum lang l;
	char text[4096];
};

static void add_line(struct digest_text *d, const char *key, const struct locale_param *p, size_t n)
{
	char line[512];

	if (locale_render(d->h->loc, d->l, key, p, n, line, sizeof(line)) != 0)
		return;
	if (d->text[0] != '\0')
		cb_strlcat(d->text, "\n", sizeof(d->text));
	cb_strlcat(d->text, line, sizeof(d->text));
}

static void add_count(struct digest_text *d, const char *key, int count)
{
	char n[16];
	const struct locale_param p[] = {{"count", n}};

	snprintf(n, sizeof(n), "%d", count);
	add_line(d, key, p, 1);
}

/* One line per family with open alerts: its reference and what they are. */
static int family_line(const char *ref, const char *kinds, void *arg)
{
	struct digest_text *d = arg;
	char detail[256] = "", buf[64], *save = NULL, *tok;

	cb_strlcpy(buf, kinds, sizeof(buf));
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char key[64];
		const char *label;

		snprintf(key, sizeof(key), "staff.alert_kind.%s", tok);
		if ((label = locale_text(d->h->loc, d->l, key)) == NULL &&
		    (label = locale_text(d->h->loc, d->l, "staff.alert_kind.other")) == NULL)
			continue;
		if (detail[0] != '\0')
			cb_strlcat(detail, ", ", sizeof(detail));
		cb_strlcat(detail, label, sizeof(detail));
	}
	{
		const struct locale_param p[] = {{"ref", ref}, {"detail", detail}};

		add_line(d, "staff.digest.family_line", p, 2);
	}
	return 0;
}

struct digest_run {
	struct hctx *h;
	char today[16];
	int rc;
};

/* Staff who read email (no Telegram chat) get one digest a day, at
 * digest_at: the subject line first, no family's words in it. */
static int digest_for(const void *rec, void *arg)
{
	const struct staff *s = rec;
	struct digest_run *r = arg;
	struct hctx *h = r->h;
	static struct digest_text d;
	struct channel ch;
	struct digest dg;
	char last[16] = "", key[32], date[128];

	if (!s->active || store_staff_channel(h->store, s->id, &ch) != 0 || strcmp(ch.kind, "email") != 0)
		return 0;
	snprintf(key, sizeof(key), "%lld", (long long)s->id);
	if (store_state_get(h->store, "digest", key, last, sizeof(last)) == 0 && strcmp(last, r->today) == 0)
		return 0;
	if ((r->rc = store_digest(h->store, s, h->now - 86400, r->today, h->now, h->now + 7 * 86400, &dg)) != 0)
		return 1;
	memset(&d, 0, sizeof(d));
	d.h = h;
	d.l = s->lang;
	locale_format_date(h->loc, s->lang, h->now, date, sizeof(date));
	{
		const struct locale_param p[] = {{"date", date}};

		add_line(&d, "staff.digest.subject", p, 1);
	}
	add_line(&d, "staff.digest.intro", NULL, 0);
	if (dg.messages + dg.open_alerts + dg.overdue + dg.unconfirmed == 0) {
		add_line(&d, "staff.digest.empty", NULL, 0);
	} else {
		add_count(&d, "staff.digest.messages", dg.messages);
		add_count(&d, "staff.digest.alerts", dg.open_alerts);
		add_count(&d, "staff.digest.overdue", dg.overdue);
		add_count(&d, "staff.digest.unconfirmed", dg.unconfirmed);
		if ((r->rc = store_digest_families(h->store, s->id, family_line, &d)) != 0)
			return 1;
	}
	if ((r->rc = store_begin(h->store)) != 0)
		return 1;
	r->rc = staff_notice(h, s->id, 0, "digest", "staff.digest.subject", "text", d.text, NULL);
	if (r->rc == 0)
		r->rc = store_state_set(h->store, "digest", key, r->today);
	if (r->rc == 0)
		r->rc = store_commit(h->store);
	if (r->rc != 0) {
		store_rollback(h->store);
		return 1;
	}
	return 0;
}

static int digests(struct hctx *h)
{
	struct digest_run r = {h, "", 0};
	struct tm tm;
	int rc;

	if (h->cfg->gw.smtp.url[0] == '\0')
		return 0;
	tz_local(h->now, &tm);
	if (tm.tm_hour * 60 + tm.tm_min < h->cfg->gw.smtp.digest_at)
		return 0;
	strftime(r.today, sizeof(r.today), "%Y-%m-%d", &tm);
	rc = store_staff_each(h->store, digest_for, &r);
	return rc < 0 ? rc : r.rc;
}

int deadlines_run(struct hctx *h)
{
	static struct batch b;
	char today[16];
	struct tm tm;
	int rc = 0;

	tz_local(h->now, &tm);
	strftime(today, sizeof(today), "%Y-%m-%d", &tm);
	for (int k = 0; k <= DEADLINE_UNANSWERED && rc == 0; k++) {
		int64_t window = k == DEADLINE_UNCONFIRMED ? (int64_t)h->cfg->ack_deadline_minutes * 60 :
				 (int64_t)h->cfg->checkin_no_answer_minutes * 60;

		b.n = 0;
		rc = store_deadlines_each(h->store, (enum deadline_kind)k, h->now, window, today, collect, &b);
		if (rc < 0)
			return rc;
		if (b.n == 0)
			continue;
		if ((rc = store_begin(h->store)) != 0)
			return rc;
		for (int i = 0; i < b.n && rc == 0; i++) {
			rc = deadline_alert(h, (enum deadline_kind)k, &b.rows[i]);
			if (rc == 0)
				rc = store_deadline_mark(h->store, (enum deadline_kind)k, b.rows[i].id, h->now);
		}
		if (rc == 0)
			rc = store_commit(h->store);
		if (rc != 0)
			store_rollback(h->store);
	}
	if (rc == 0)
		rc = escalate(h);
	if (rc == 0)
		rc = digests(h);
	return rc;
}
