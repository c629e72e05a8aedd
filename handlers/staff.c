/* Staff on their phone: replies to forwarded messages, and commands
 * (/families, /log, /appointment, /request, /checkin, /voice, /away, /alerts,
 * /help) in the staff member's language. Commands call the same operations
 * as the CLI. A counsellor reaches only their own families (and the
 * families they back up while the counsellor is away); a coordinator
 * reaches all; every refusal is audited. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/buttons.h"
#include "bot/compose.h"
#include "bot/event.h"
#include "bot/tz.h"
#include "handlers/handler.h"
#include "locales/locale.h"
#include "locales/note.h"

/* Lists for staff (/log, /families, /alerts) come a page at a time, with a
 * More button for the next one, whatever the size of the file. */
#define STAFF_PAGE 10
#define STAFF_LINE_MAX 640
#define STAFF_LIST_MAX ((STAFF_PAGE + 1) * STAFF_LINE_MAX)
/* The most say() renders: the sentence and the words of staff it echoes,
 * which are at most one message long. */
#define SAY_MAX (4 * EVENT_TEXT_MAX)

struct staff_msg {
	const struct inbound_event *ev;
	struct channel channel;
	struct staff staff;
	char actor[80];
	int64_t family_id;   /* the family the answer is about, once known: it is erased with it */
};

/* A counsellor's reply went: the counsellor hears it. */
int staff_reply_sent(struct hctx *h, const struct outbox_msg *m)
{
	struct family f;
	int rc;

	if ((rc = store_family_get_id(h->store, m->family_id, &f)) != 0)
		return rc;
	return staff_notice(h, m->staff_id, m->family_id, "staff_notice", "staff.reply_delivered", "ref", f.ref, NULL);
}

int staff_notice(struct hctx *h, int64_t staff_id, int64_t family_id, const char *kind, const char *key, ...)
{
	struct outbox_msg m;
	char *params;
	va_list ap;
	int rc;

	memset(&m, 0, sizeof(m));
	va_start(ap, key);
	rc = handler_vparams(&params, ap);
	va_end(ap);
	if (rc != 0)
		return rc;
	m.params = params;
	m.staff_id = staff_id;
	m.family_id = family_id;
	cb_strlcpy(m.kind, kind, sizeof(m.kind));
	cb_strlcpy(m.catalog_key, key, sizeof(m.catalog_key));
	/* An answer to what staff just did is not held by quiet hours. */
	m.urgent = 1;
	m.not_before = h->now;
	rc = store_outbox_add(h->store, &m, h->now);
	free(params);
	return rc;
}

/* A staff text rendered now (lists, logs): it travels as text, and keeps
 * nothing once it has gone (or failed, or expired). About one family it
 * carries that family's id; a list of several carries none, and erasing
 * any family blanks such a list while it waits. */
static int say_text(struct hctx *h, struct staff_msg *sm, const char *text)
{
	return staff_notice(h, sm->staff.id, sm->family_id, "staff_text", "staff.text", "text", text, NULL);
}

/* One page of a list, with the More button when rows are left (shown: the
 * rows this page and those before it showed). */
static int say_page(struct hctx *h, struct staff_msg *sm, const char *text, char list, long long id, int shown,
		    int more)
{
	char data[48] = "";

	if (more)
		snprintf(data, sizeof(data), BUTTON_MORE, list, id, shown);
	return staff_notice(h, sm->staff.id, sm->family_id, "staff_text", "staff.text", "text", text, "more", data,
			    NULL);
}

/* Renders key for the staff member. The values may echo words staff typed,
 * of any length up to the gateway's, so the text grows to fit them. */
static int say(struct hctx *h, struct staff_msg *sm, const char *key, ...)
{
	struct locale_param p[6];
	char *out = NULL, *grown;
	const char *name;
	size_t n = 0, cap = 1024;
	va_list ap;
	int rc;

	va_start(ap, key);
	while (n < CB_ARRAY_SIZE(p) && (name = va_arg(ap, const char *)) != NULL) {
		p[n].name = name;
		p[n].value = va_arg(ap, const char *);
		n++;
	}
	va_end(ap);
	do {
		if ((grown = realloc(out, cap)) == NULL) {
			rc = -CB_ENOMEM;
			goto out;
		}
		out = grown;
		rc = locale_render(h->loc, sm->staff.lang, key, p, n, out, cap);
		cap *= 2;
	} while (rc == -CB_ETOOBIG && cap <= SAY_MAX);
	if (rc != 0) {
		rc = -CB_EINVAL;
		goto out;
	}
	rc = say_text(h, sm, out);
out:
	free(out);
	return rc;
}

int staff_reaches(struct hctx *h, const struct staff *s, const struct family *f)
{
	struct staff primary;
	int open = 0;

	if (s->role == ROLE_COORDINATOR || f->counsellor_id == s->id)
		return 1;
	if (f->backup_id == s->id && store_staff_get_id(h->store, f->counsellor_id, &primary) == 0 &&
	    (primary.away || !primary.active))
		return 1;
	/* Whoever an open alert was passed on to (or an urgent one sent to)
	 * may read and answer that family until it is closed. */
	return store_alert_reaches(h->store, f->id, s->id, f->backup_id == s->id, &open) == 0 && open > 0 ?
		       STAFF_REACH_ALERT : 0;
}

/* What was refused, as the audit names it: the command's name, a reply
 * or a button; never the words that came with it. */
static void refused_what(const struct staff_msg *sm, char *out, size_t cap)
{
	const char *t = sm->ev->text;
	size_t n = 0;

	if (sm->ev->kind == EVENT_BUTTON || t[0] != '/') {
		cb_strlcpy(out, sm->ev->kind == EVENT_BUTTON ? "button" : "reply", cap);
		return;
	}
	for (t++; n + 1 < cap && ((t[n] >= 'a' && t[n] <= 'z') || (t[n] >= 'A' && t[n] <= 'Z')); n++)
		out[n] = t[n];
	out[n] = '\0';
}

/* The family named by ref, if this staff member reaches it. Unknown and
 * unreachable get the same answer; the refusal is audited, with the
 * family's reference only when there is such a family (what someone typed
 * is not kept). */
static int family_for(struct hctx *h, struct staff_msg *sm, const char *ref, struct family *f, int *ok)
{
	int rc = store_family_get(h->store, ref, f);
	char what[24];

	*ok = 0;
	if (rc != 0 && rc != -CB_ENOENT)
		return rc;
	if (rc == 0)
		sm->family_id = f->id;
	if (rc == 0 && staff_reaches(h, &sm->staff, f)) {
		*ok = 1;
		return 0;
	}
	refused_what(sm, what, sizeof(what));
	{
		const struct audit_entry e = {sm->actor, "scope.refused", rc == 0 ? f->ref : NULL, what, 0, 0, 0};

		if ((rc = store_audit_add(h->store, h->now, &e)) != 0)
			return rc;
	}
	return say(h, sm, "staff.refused", "ref", ref, NULL);
}

/* Splits a command line into words (at most max), in place. */
static int words(char *s, char **w, int max)
{
	int n = 0;

	while (*s != '\0' && n < max) {
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		w[n++] = s;
		while (*s != '\0' && !isspace((unsigned char)*s))
			s++;
		if (*s != '\0')
			*s++ = '\0';
	}
	return n;
}

struct list {
	struct hctx *h;
	struct staff_msg *sm;
	char text[STAFF_LIST_MAX];
	int n;          /* rows seen */
	int skip;       /* rows the pages before showed */
};

static void list_add(struct list *l, const char *line)
{
	if (l->text[0] != '\0')
		cb_strlcat(l->text, "\n", sizeof(l->text));
	cb_strlcat(l->text, line, sizeof(l->text));
	l->n++;
}

static int family_line(const void *rec, void *arg)
{
	const struct family *f = rec;
	struct list *l = arg;
	char line[256], days[24];
	int64_t last;

	if (strcmp(f->status, "closed") == 0 || !staff_reaches(l->h, &l->sm->staff, f))
		return 0;
	/* Only this page's rows are rendered; one more says there is more. */
	if (l->n < l->skip || l->n >= l->skip + STAFF_PAGE) {
		l->n++;
		return l->n > l->skip + STAFF_PAGE;
	}
	if (store_contact_last_in(l->h->store, f->id, &last) == 0 && last > 0) {
		const struct locale_param p[] = {{"ref", f->ref}, {"days", days}, {"name", f->display_name}};

		snprintf(days, sizeof(days), "%lld", (long long)((l->h->now - last) / 86400));
		locale_render(l->h->loc, l->sm->staff.lang, "staff.families.line", p, 3, line, sizeof(line));
	} else {
		const struct locale_param p[] = {{"ref", f->ref}, {"name", f->display_name}};

		locale_render(l->h->loc, l->sm->staff.lang, "staff.families.never", p, 2, line, sizeof(line));
	}
	/* A coordinator sees which families lost their counsellor. */
	if (!f->counsellor_active) {
		const char *mark = locale_text(l->h->loc, l->sm->staff.lang, "staff.families.unassigned");

		if (mark != NULL) {
			cb_strlcat(line, " ", sizeof(line));
			cb_strlcat(line, mark, sizeof(line));
		}
	}
	list_add(l, line);
	return 0;
}

static int cmd_families(struct hctx *h, struct staff_msg *sm, int skip)
{
	struct list *l = calloc(1, sizeof(*l));
	int rc;

	if (l == NULL)
		return -CB_ENOMEM;
	l->h = h;
	l->sm = sm;
	l->skip = skip;
	locale_render(h->loc, sm->staff.lang, "staff.families.header", NULL, 0, l->text, sizeof(l->text));
	/* The list is a read of every file it names: audited first. */
	rc = store_audit(h->store, h->now, sm->actor, "families.read", NULL, "phone");
	if (rc == 0 && (rc = store_family_each(h->store, family_line, l)) == 1)
		rc = 0;    /* stopped after the page */
	if (rc == 0 && l->n == 0)
		rc = say(h, sm, "staff.families.none", NULL);
	else if (rc == 0)
		rc = say_page(h, sm, l->text, 'f', 0, skip + STAFF_PAGE, l->n > skip + STAFF_PAGE);
	free(l);
	return rc;
}

/* A page of the log: the newest rows first come on the first page, each
 * page in time order. A first pass counts, the second keeps the page. */
struct log_lines {
	struct contact rows[STAFF_PAGE];
	int total;        /* rows in the log */
	int from, to;     /* the page: rows [from, to) in time order */
	int seen;
};

static int count_contact(const void *rec, void *arg)
{
	(void)rec;
	((struct log_lines *)arg)->total++;
	return 0;
}

static int keep_contact(const void *rec, void *arg)
{
	struct log_lines *ll = arg;

	if (ll->seen >= ll->from && ll->seen < ll->to)
		ll->rows[ll->seen - ll->from] = *(const struct contact *)rec;
	return ++ll->seen >= ll->to;
}

static int show_log(struct hctx *h, struct staff_msg *sm, const struct family *f, int skip)
{
	struct log_lines *ll = calloc(1, sizeof(*ll));
	struct list *l = calloc(1, sizeof(*l));
	int rc;

	if (ll == NULL || l == NULL) {
		free(ll);
		free(l);
		return -CB_ENOMEM;
	}
	/* The read is audited first, with why this reader may make it. */
	if ((rc = store_audit(h->store, h->now, sm->actor, "log.read", f->ref,
			      staff_reaches(h, &sm->staff, f) == STAFF_REACH_ALERT ? "phone_open_alert" : "phone")) != 0 ||
	    (rc = store_contact_each(h->store, f->id, 0, count_contact, ll)) != 0)
		goto out;
	ll->to = ll->total - skip;
	ll->from = ll->to > STAFF_PAGE ? ll->to - STAFF_PAGE : 0;
	if (ll->to > 0 && (rc = store_contact_each(h->store, f->id, 0, keep_contact, ll)) < 0)
		goto out;
	if (ll->total == 0 || ll->to <= 0) {
		rc = say(h, sm, "staff.log.empty", "ref", f->ref, NULL);
		goto out;
	}
	{
		const struct locale_param p[] = {{"ref", f->ref}};

		locale_render(h->loc, sm->staff.lang, "staff.log.header", p, 1, l->text, sizeof(l->text));
	}
	for (int i = 0; i < ll->to - ll->from; i++) {
		const struct contact *c = &ll->rows[i];
		char when[32], summary[384], line[512], key[48];
		const char *channel = NULL;
		const struct locale_param p[] = {{"when", when}, {"summary", summary}, {"channel", ""}};
		struct locale_param pc[3];

		tz_format_iso(c->at, when, sizeof(when));
		note_contact(h->loc, sm->staff.lang, c, summary, sizeof(summary));
		/* What went to the family says on which chat: after a fallback
		 * that is the one that reached it. */
		if (strcmp(c->direction, "out") == 0 && c->channel_kind[0] != '\0' &&
		    snprintf(key, sizeof(key), "channel.kind.%s", c->channel_kind) < (int)sizeof(key))
			channel = locale_text(h->loc, sm->staff.lang, key);
		memcpy(pc, p, sizeof(pc));
		pc[2].value = channel;
		if (channel != NULL)
			locale_render(h->loc, sm->staff.lang, "staff.log.line_channel", pc, 3, line, sizeof(line));
		else
			locale_render(h->loc, sm->staff.lang, "staff.log.line", p, 2, line, sizeof(line));
		list_add(l, line);
	}
	rc = say_page(h, sm, l->text, 'l', (long long)f->id, skip + STAFF_PAGE, ll->from > 0);
out:
	free(ll);
	free(l);
	return rc;
}

static int cmd_log(struct hctx *h, struct staff_msg *sm, char **w, int n)
{
	struct family f;
	int rc, ok;

	if (n != 2)
		return say(h, sm, "staff.usage.log", NULL);
	if ((rc = family_for(h, sm, w[1], &f, &ok)) != 0 || !ok)
		return rc;
	return show_log(h, sm, &f, 0);
}

/* /appointment REF YYYY-MM-DD HH:MM KIND [place...] */
static int cmd_appointment(struct hctx *h, struct staff_msg *sm, char **w, int n, const char *place)
{
	struct appointment a;
	struct family f;
	char at[40], when[128], kindkey[64];
	const char *what;
	int rc, ok;

	if (n < 5)
		return say(h, sm, "staff.usage.appointment", NULL);
	snprintf(at, sizeof(at), "%s %s", w[2], w[3]);
	memset(&a, 0, sizeof(a));
	if (tz_parse_local(at, &a.starts_at) != 0)
		return say(h, sm, "staff.error.date", "value", at, NULL);
	if (a.starts_at <= h->now)
		return say(h, sm, "staff.error.past", "value", at, NULL);
	if (!store_appointment_kind_valid(w[4]))
		return say(h, sm, "staff.error.kind", "value", w[4], NULL);
	if ((rc = family_for(h, sm, w[1], &f, &ok)) != 0 || !ok)
		return rc;
	if (strcmp(f.status, "closed") == 0)
		return say(h, sm, "staff.error.closed", "ref", f.ref, NULL);
	a.family_id = f.id;
	cb_strlcpy(a.kind, w[4], sizeof(a.kind));
	if (place != NULL)
		cb_strlcpy(a.place, place, sizeof(a.place));
	if ((rc = appointments_create(h, &a)) != 0 ||
	    (rc = store_audit(h->store, h->now, sm->actor, "appointment.add", f.ref, a.kind)) != 0)
		return rc;
	snprintf(kindkey, sizeof(kindkey), "appointment.kind.%s", a.kind);
	what = locale_text(h->loc, sm->staff.lang, kindkey);
	locale_format_datetime(h->loc, sm->staff.lang, a.starts_at, when, sizeof(when));
	return say(h, sm, "staff.appointment.added", "ref", f.ref, "when", when, "what", what != NULL ? what : a.kind,
		   NULL);
}

/* /request REF DOCTYPE [YYYY-MM-DD] */
static int cmd_request(struct hctx *h, struct staff_msg *sm, char **w, int n)
{
	struct doc_request r;
	struct family f;
	char typekey[64];
	const char *doc;
	int rc, ok, y, mon, day;
	time_t end;

	if (n < 3 || n > 4)
		return say(h, sm, "staff.usage.request", NULL);
	if (!store_doc_type_valid(w[2]))
		return say(h, sm, "staff.error.doctype", "value", w[2], NULL);
	memset(&r, 0, sizeof(r));
	if (n == 4) {
		if (tz_parse_date(w[3], &y, &mon, &day) != 0)
			return say(h, sm, "staff.error.date", "value", w[3], NULL);
		if (tz_make_local(y, mon, day, 23, 59, &end) != 0 || end < h->now)
			return say(h, sm, "staff.error.past", "value", w[3], NULL);
		cb_strlcpy(r.due_date, w[3], sizeof(r.due_date));
	}
	if ((rc = family_for(h, sm, w[1], &f, &ok)) != 0 || !ok)
		return rc;
	if (strcmp(f.status, "closed") == 0)
		return say(h, sm, "staff.error.closed", "ref", f.ref, NULL);
	r.family_id = f.id;
	cb_strlcpy(r.doc_type, w[2], sizeof(r.doc_type));
	if ((rc = documents_request(h, &r)) != 0 ||
	    (rc = store_audit(h->store, h->now, sm->actor, "document.request", f.ref, r.doc_type)) != 0)
		return rc;
	snprintf(typekey, sizeof(typekey), "document.type.%s", r.doc_type);
	doc = locale_text(h->loc, sm->staff.lang, typekey);
	return say(h, sm, "staff.request.added", "ref", f.ref, "document", doc != NULL ? doc : r.doc_type, NULL);
}

/* /voice REF on|off [member]: the same as casebot voice on|off. */
static int cmd_voice(struct hctx *h, struct staff_msg *sm, char **w, int n)
{
	struct hctx as = *h;
	struct family f;
	int rc, ok, on, count = 0;

	if ((n != 3 && n != 4) || (strcmp(w[2], "on") != 0 && strcmp(w[2], "off") != 0))
		return say(h, sm, "staff.usage.voice", NULL);
	on = strcmp(w[2], "on") == 0;
	if ((rc = family_for(h, sm, w[1], &f, &ok)) != 0 || !ok)
		return rc;
	/* The audit names the staff member who did it. */
	as.actor = sm->actor;
	rc = voice_setting_set(&as, &f, n == 4 ? w[3] : NULL, on, &count);
	if (rc == -CB_ENOENT || rc == -CB_ESTATE)
		return say(h, sm, "staff.usage.voice", NULL);
	if (rc != 0)
		return rc;
	return say(h, sm, on ? "staff.voice.on" : "staff.voice.off", "ref", f.ref, NULL);
}

/* /checkin REF every 7d mon 10:00 | /checkin REF off */
static int cmd_checkin(struct hctx *h, struct staff_msg *sm, char **w, int n)
{
	struct checkin_plan p;
	struct family f;
	char days[16], next_s[128], at[32];
	time_t next;
	int rc, ok;

	if (n == 3 && strcmp(w[2], "off") == 0) {
		if ((rc = family_for(h, sm, w[1], &f, &ok)) != 0 || !ok)
			return rc;
		rc = checkins_off(h, f.id);
		if (rc == -CB_ESTATE)
			return say(h, sm, "staff.error.no_checkins", "ref", f.ref, NULL);
		if (rc != 0 || (rc = store_audit(h->store, h->now, sm->actor, "checkin.off", f.ref, NULL)) != 0)
			return rc;
		return say(h, sm, "staff.checkin.off", "ref", f.ref, NULL);
	}
	if (n != 6 || strcmp(w[2], "every") != 0)
		return say(h, sm, "staff.usage.checkin", NULL);
	memset(&p, 0, sizeof(p));
	snprintf(at, sizeof(at), "%s %s", w[4], w[5]);
	if (checkins_parse_every(w[3], &p.every_days) != 0 ||
	    checkins_parse_at(at, &p.weekday, &p.minute_of_day) != 0)
		return say(h, sm, "staff.usage.checkin", NULL);
	if ((rc = family_for(h, sm, w[1], &f, &ok)) != 0 || !ok)
		return rc;
	if (strcmp(f.status, "closed") == 0)
		return say(h, sm, "staff.error.closed", "ref", f.ref, NULL);
	p.family_id = f.id;
	if ((rc = checkins_set(h, &p, &next)) != 0 ||
	    (rc = store_audit(h->store, h->now, sm->actor, "checkin.set", f.ref, w[3])) != 0)
		return rc;
	snprintf(days, sizeof(days), "%d", p.every_days);
	locale_format_datetime(h->loc, sm->staff.lang, next, next_s, sizeof(next_s));
	{
		const struct locale_param lp[] = {{"ref", f.ref}, {"days", days}, {"next", next_s}};
		char out[1024];

		if (locale_render_count(h->loc, sm->staff.lang, "staff.checkin.set", p.every_days, lp, 3, out,
					sizeof(out)) != 0)
			return -CB_EINVAL;
		return say_text(h, sm, out);
	}
}

struct backups {
	int64_t staff_id;
	int64_t backup_id;
	int without;
};

static int find_backup(const void *rec, void *arg)
{
	const struct family *f = rec;
	struct backups *b = arg;

	if (f->counsellor_id != b->staff_id || strcmp(f->status, "closed") == 0)
		return 0;
	if (f->backup_id == 0)
		b->without = 1;
	else if (b->backup_id == 0)
		b->backup_id = f->backup_id;
	return 0;
}

static int cmd_away(struct hctx *h, struct staff_msg *sm, char **w, int n)
{
	struct backups b = {sm->staff.id, 0, 0};
	struct staff backup;
	int on, rc;

	if (n != 2 || (strcmp(w[1], "on") != 0 && strcmp(w[1], "off") != 0))
		return say(h, sm, "staff.usage.away", NULL);
	on = strcmp(w[1], "on") == 0;
	if ((rc = store_staff_set_away(h->store, sm->staff.id, on)) != 0 ||
	    (rc = store_audit(h->store, h->now, sm->actor, on ? "staff.away" : "staff.back", NULL, NULL)) != 0)
		return rc;
	if (!on)
		return say(h, sm, "staff.away.off", NULL);
	if ((rc = store_family_each(h->store, find_backup, &b)) != 0)
		return rc;
	if (b.without || b.backup_id == 0 || store_staff_get_id(h->store, b.backup_id, &backup) != 0)
		return say(h, sm, "staff.away.on_nobackup", NULL);
	return say(h, sm, "staff.away.on", "backup", backup.name, NULL);
}

struct alert_list {
	struct alert rows[STAFF_PAGE];
	int n;          /* rows seen */
	int skip;       /* rows the pages before showed */
};

static int keep_alert(const void *rec, void *arg)
{
	struct alert_list *al = arg;

	if (al->n >= al->skip && al->n < al->skip + STAFF_PAGE)
		al->rows[al->n - al->skip] = *(const struct alert *)rec;
	al->n++;
	return 0;
}

/* Audits the read, says how many are open (first page only), and reads one
 * row past the page to know whether there is more. */
static int alerts_page(struct hctx *h, struct staff_msg *sm, struct alert_list *al)
{
	char count[16];
	int rc, open = 0;

	if ((rc = store_audit(h->store, h->now, sm->actor, "alerts.read", NULL, "phone")) != 0 ||
	    (rc = store_alert_count_open(h->store, sm->staff.id, &open)) != 0)
		return rc;
	if (open == 0)
		return al->skip == 0 ? say(h, sm, "staff.alerts.none", NULL) : 0;
	snprintf(count, sizeof(count), "%d", open);
	if (al->skip == 0 && (rc = say(h, sm, "staff.alerts.header", "count", count, NULL)) != 0)
		return rc;
	rc = store_alert_each_open(h->store, sm->staff.id, al->skip + STAFF_PAGE + 1, keep_alert, al);
	return rc < 0 ? rc : 0;
}

/* Each open alert of the page again, as its own message with its
 * Acknowledge button; the last one carries More when alerts are left. */
static int cmd_alerts(struct hctx *h, struct staff_msg *sm, int skip)
{
	struct alert_list *al = calloc(1, sizeof(*al));
	char id[24], more[48];
	int rc, shown;

	if (al == NULL)
		return -CB_ENOMEM;
	al->skip = skip;
	rc = alerts_page(h, sm, al);
	shown = al->n - skip < STAFF_PAGE ? al->n - skip : STAFF_PAGE;
	for (int i = 0; rc == 0 && i < shown; i++) {
		const struct alert *a = &al->rows[i];

		more[0] = '\0';
		if (i == shown - 1 && al->n > skip + STAFF_PAGE)
			snprintf(more, sizeof(more), BUTTON_MORE, 'a', 0LL, skip + STAFF_PAGE);
		snprintf(id, sizeof(id), "%lld", (long long)a->id);
		rc = staff_notice(h, sm->staff.id, a->family_id, "alert", "staff.alert", "alert_id", id, "ref",
				  a->family_ref, "kind", a->kind, "more", more, NULL);
	}
	free(al);
	return rc;
}

static int command(struct hctx *h, struct staff_msg *sm)
{
	/* As long as what staff may type, so that no word is cut. */
	char line[EVENT_TEXT_MAX], *w[12], *place = NULL;
	int n;

	cb_strlcpy(line, sm->ev->text, sizeof(line));
	/* The place of an appointment is the rest of the line, spaces and all. */
	if (strncmp(line, "/appointment", 12) == 0) {
		char *p = line;

		for (int i = 0; i < 5 && p != NULL; i++) {
			p += strspn(p, " \t");
			p = strpbrk(p, " \t");
		}
		if (p != NULL) {
			*p++ = '\0';
			p += strspn(p, " \t");
			if (*p != '\0')
				place = p;
		}
	}
	n = words(line, w, (int)CB_ARRAY_SIZE(w));
	if (n == 0)
		return say(h, sm, "staff.unknown_command", NULL);
	/* "/help@casebot_bot" in a group is not ours: only private chats reach here. */
	if (strcmp(w[0], "/help") == 0 || strcmp(w[0], "/start") == 0)
		return say(h, sm, "staff.help", NULL);
	if (strcmp(w[0], "/families") == 0)
		return cmd_families(h, sm, 0);
	if (strcmp(w[0], "/log") == 0)
		return cmd_log(h, sm, w, n);
	if (strcmp(w[0], "/appointment") == 0)
		return cmd_appointment(h, sm, w, n, place);
	if (strcmp(w[0], "/request") == 0)
		return cmd_request(h, sm, w, n);
	if (strcmp(w[0], "/checkin") == 0)
		return cmd_checkin(h, sm, w, n);
	if (strcmp(w[0], "/voice") == 0)
		return cmd_voice(h, sm, w, n);
	if (strcmp(w[0], "/away") == 0)
		return cmd_away(h, sm, w, n);
	if (strcmp(w[0], "/alerts") == 0)
		return cmd_alerts(h, sm, 0);
	return say(h, sm, "staff.unknown_command", NULL);
}

/* The UTF-16 units the family's copy of a reply adds to the counsellor's
 * words: the header ("Message from ...") in the language of whoever reads
 * that chat, composed as the outbox will compose it. */
static int reply_header_units(struct hctx *h, const struct staff *s, const struct family *f,
			      const struct channel *ch, size_t *units)
{
	struct composed *c = malloc(sizeof(*c));
	struct outbox_msg m;
	enum lang l = handler_reader_lang(h->store, f, ch->member_id, NULL);
	char *params = NULL;
	int rc;

	if (c == NULL)
		return -CB_ENOMEM;
	memset(&m, 0, sizeof(m));
	cb_strlcpy(m.kind, "relay_reply", sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "reply.from_counsellor", sizeof(m.catalog_key));
	if ((rc = handler_params(&params, "counsellor", s->name, "text", "", NULL)) != 0)
		goto out;
	m.params = params;
	if ((rc = compose_outbox(h->store, h->loc, &m, l, NULL, c)) != 0)
		goto out;
	*units = relay_text_units(ch->kind, c->text);
out:
	free(params);
	free(c);
	return rc;
}

/* Staff words to one family chat, signed with the staff member's name,
 * logged as a reply (via: the gateway the words came from, NULL from the
 * console). What one message of the family's gateway cannot hold, header
 * included, is refused whole (-CB_ETOOBIG) rather than cut or lost. An
 * answer handles the alert of what it answers (alert_id, 0 for none), for
 * everybody. */
static int relay_words(struct hctx *h, const struct staff *s, const struct family *f, const struct channel *ch,
		       const char *text, int64_t alert_id, const char *via)
{
	struct outbox_msg m;
	char *params = NULL;
	size_t limit, header = 0;
	int rc;

	if ((limit = relay_text_limit(ch->kind)) > 0 && (rc = reply_header_units(h, s, f, ch, &header)) != 0)
		return rc;
	if (limit > 0 && relay_text_units(ch->kind, text) + header > limit)
		return -CB_ETOOBIG;
	memset(&m, 0, sizeof(m));
	m.family_id = f->id;
	m.member_id = ch->member_id;
	m.channel_id = ch->id;
	m.staff_id = s->id;
	cb_strlcpy(m.kind, "relay_reply", sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "reply.from_counsellor", sizeof(m.catalog_key));
	if ((rc = handler_params(&params, "counsellor", s->name, "text", text, NULL)) != 0)
		return rc;
	m.params = params;
	m.urgent = 1;
	m.not_before = h->now;
	rc = store_outbox_add(h->store, &m, h->now);
	free(params);
	if (rc != 0)
		return rc;
	if (alert_id != 0 && (rc = store_alert_ack(h->store, alert_id, s->id, h->now)) != 0 && rc != -CB_ESTATE)
		return rc;
	return handler_note(h, &(struct handler_note){.family_id = f->id, .direction = "internal", .channel_kind = via,
						       .kind = "reply", .staff_id = s->id, .member_id = ch->member_id,
						       .code = "reply"},
			    NULL);
}

/* The chat a family is written to from the console: the linked one it
 * last wrote from, else the last linked one. */
struct pick_chat {
	struct channel best;
	int found;
};

static int pick_chat(const void *rec, void *arg)
{
	const struct channel *ch = rec;
	struct pick_chat *p = arg;

	if (!ch->verified || ch->blocked || ch->opted_out)
		return 0;
	if (!p->found || ch->last_inbound_at > p->best.last_inbound_at ||
	    (ch->last_inbound_at == p->best.last_inbound_at && ch->id > p->best.id)) {
		p->best = *ch;
		p->found = 1;
	}
	return 0;
}

int staff_write(struct hctx *h, const struct staff *s, const struct family *f, const char *text)
{
	struct pick_chat p;
	int rc;

	memset(&p, 0, sizeof(p));
	if (!staff_reaches(h, s, f))
		return -CB_EPERM;
	if ((rc = store_channel_each_family(h->store, f->id, pick_chat, &p)) != 0)
		return rc;
	if (!p.found)
		return -CB_ENOENT;
	return relay_words(h, s, f, &p.best, text, 0, NULL);
}

/* The counsellor's words go to the family chat the forward came from,
 * signed with the counsellor's name. */
static int reply(struct hctx *h, struct staff_msg *sm, const struct outbox_msg *fwd, const char *text)
{
	struct family f;
	struct channel ch;
	cJSON *p = cJSON_Parse(fwd->params);
	const cJSON *chan = cJSON_GetObjectItemCaseSensitive(p, "channel_id");
	const cJSON *alert = cJSON_GetObjectItemCaseSensitive(p, "alert_id");
	int64_t channel_id = cJSON_IsString(chan) ? strtoll(chan->valuestring, NULL, 10) : 0;
	int64_t alert_id = cJSON_IsString(alert) ? strtoll(alert->valuestring, NULL, 10) : 0;
	int rc, ok;

	cJSON_Delete(p);
	if ((rc = store_family_get_id(h->store, fwd->family_id, &f)) != 0)
		return rc;
	if ((rc = family_for(h, sm, f.ref, &f, &ok)) != 0 || !ok)
		return rc;
	if (channel_id == 0 || store_channel_get(h->store, channel_id, &ch) != 0 || ch.family_id != f.id)
		return say(h, sm, "staff.reply_failed", "ref", f.ref, "reason",
			   locale_text(h->loc, sm->staff.lang, "staff.reason.gateway"), NULL);
	rc = relay_words(h, &sm->staff, &f, &ch, text, alert_id, sm->channel.kind);
	if (rc == -CB_ETOOBIG) {
		char length_s[24], limit_s[24];
		size_t header = 0, units = relay_text_units(ch.kind, text), limit = relay_text_limit(ch.kind);

		if ((rc = reply_header_units(h, &sm->staff, &f, &ch, &header)) != 0)
			return rc;
		snprintf(length_s, sizeof(length_s), "%zu", units);
		snprintf(limit_s, sizeof(limit_s), "%zu", header < limit ? limit - header : 0);
		return say(h, sm, "staff.reply_too_long", "ref", f.ref, "length", length_s, "limit", limit_s, NULL);
	}
	return rc;
}

static int button(struct hctx *h, struct staff_msg *sm)
{
	long long id;
	char list;
	int d, rc, ok;
	struct outbox_msg fwd;
	struct family f;
	struct alert a;

	if (sscanf(sm->ev->button_data, BUTTON_REPLY, &id, &d) == 2) {
		char value[24], key[24];

		/* The next text from this chat is the reply. */
		rc = store_outbox_get(h->store, id, &fwd);
		store_outbox_msg_free(&fwd);
		if (rc != 0 || fwd.channel_id != sm->channel.id || store_family_get_id(h->store, fwd.family_id, &f) != 0)
			return 0;
		snprintf(value, sizeof(value), "%lld", id);
		snprintf(key, sizeof(key), "%lld", (long long)sm->channel.id);
		sm->family_id = f.id;
		if ((rc = store_state_set(h->store, "staff-reply", key, value)) != 0)
			return rc;
		return say(h, sm, "staff.reply_prompt", "ref", f.ref, NULL);
	}
	if (sscanf(sm->ev->button_data, BUTTON_LOG, &id, &d) == 2) {
		if (store_family_get_id(h->store, id, &f) != 0)
			return 0;
		if ((rc = family_for(h, sm, f.ref, &f, &ok)) != 0 || !ok)
			return rc;
		return show_log(h, sm, &f, 0);
	}
	if (sscanf(sm->ev->button_data, BUTTON_MORE, &list, &id, &d) == 3 && d >= 0) {
		if (list == 'f')
			return cmd_families(h, sm, d);
		if (list == 'a')
			return cmd_alerts(h, sm, d);
		if (list != 'l' || store_family_get_id(h->store, id, &f) != 0)
			return 0;
		if ((rc = family_for(h, sm, f.ref, &f, &ok)) != 0 || !ok)
			return rc;
		return show_log(h, sm, &f, d);
	}
	if (sscanf(sm->ev->button_data, BUTTON_HANDLED, &id, &d) == 2 ||
	    sscanf(sm->ev->button_data, BUTTON_ACK, &id, &d) == 2) {
		int handled = sm->ev->button_data[0] == 'm';

		if (store_alert_get(h->store, id, &a) != 0)
			return 0;
		/* One's own alert, or one passed on to a backup or coordinator,
		 * may be acknowledged (which closes every copy of it); another is
		 * refused like any family. */
		if (a.staff_id != sm->staff.id && a.family_id != 0) {
			if ((rc = store_family_get_id(h->store, a.family_id, &f)) != 0)
				return rc;
			if ((rc = family_for(h, sm, f.ref, &f, &ok)) != 0 || !ok)
				return rc;
		}
		sm->family_id = a.family_id;
		rc = store_alert_ack(h->store, id, sm->staff.id, h->now);
		if (rc != 0 && rc != -CB_ESTATE)
			return rc;
		if (handled)
			return say(h, sm, "staff.handled", "ref", a.family_ref, NULL);
		return say(h, sm, "staff.alert.acked", NULL);
	}
	return 0;
}

int staff_handle(struct hctx *h, const struct inbound_event *ev, const struct channel *ch)
{
	struct staff_msg sm;
	struct outbox_msg fwd;
	char key[24], pending[32];
	int rc;

	memset(&sm, 0, sizeof(sm));
	sm.ev = ev;
	sm.channel = *ch;
	/* What a staff chat is about to reply to is kept by its channel: two
	 * gateways may well have chats with the same address. */
	snprintf(key, sizeof(key), "%lld", (long long)ch->id);
	if ((rc = store_staff_get_id(h->store, ch->staff_id, &sm.staff)) != 0)
		return rc;
	snprintf(sm.actor, sizeof(sm.actor), "staff:%s", sm.staff.name);
	if (!sm.staff.active)
		return 0;
	if (ev->kind == EVENT_BUTTON)
		return button(h, &sm);
	/* An edited command or reply would run or reach the family twice. */
	if (ev->edited)
		return say(h, &sm, "staff.edit_ignored", NULL);
	if (ev->kind != EVENT_TEXT)
		return say(h, &sm, "staff.unknown_command", NULL);
	if (ev->text[0] == '/') {
		if ((rc = store_state_set(h->store, "staff-reply", key, "0")) != 0)
			return rc;
		return command(h, &sm);
	}
	/* A reply to a forward, by Telegram's reply-to or after the Reply
	 * button. */
	if (ev->reply_to[0] != '\0') {
		if (store_outbox_find_forward(h->store, ch->id, ev->reply_to, &fwd) == 0) {
			rc = reply(h, &sm, &fwd, ev->text);
			store_outbox_msg_free(&fwd);
			return rc;
		}
	}
	if (store_state_get(h->store, "staff-reply", key, pending, sizeof(pending)) == 0 &&
	    strtoll(pending, NULL, 10) > 0 && store_outbox_get(h->store, strtoll(pending, NULL, 10), &fwd) == 0) {
		if ((rc = store_state_set(h->store, "staff-reply", key, "0")) == 0)
			rc = reply(h, &sm, &fwd, ev->text);
		store_outbox_msg_free(&fwd);
		return rc;
	}
	return say(h, &sm, "staff.unknown_command", NULL);
}
