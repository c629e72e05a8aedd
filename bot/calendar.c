#include <libical/ical.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot/calendar.h"
#include "bot/clock.h"
#include "bot/compose.h"
#include "bot/config.h"
#include "bot/gateways/gateway.h"
#include "bot/log.h"
#include "bot/net/http_server.h"
#include "bot/tz.h"
#include "handlers/handler.h"
#include "locales/locale.h"

/* libical keeps the zones it loaded for the life of the process; they are
 * given back at exit, so that a leak checker sees nothing left. */
static void release_zones(void)
{
	icaltimezone_free_builtin_timezones();
}

static icaltimezone *zone(const char *name)
{
	static int registered;

	if (!registered) {
		registered = 1;
		atexit(release_zones);
	}
	return icaltimezone_get_builtin_timezone(name);
}

/* The zone's VTIMEZONE, from the system's zone rules, named by its plain
 * name (libical would prefix it), cut to the rules in force from a year
 * before the event on: valid across every change of summer time the
 * event may be looked at over. */
static icalcomponent *vtimezone(icaltimezone *tz, const char *name, time_t starts_at)
{
	icalcomponent *vtz = icaltimezone_get_component(tz);
	icalproperty *p;

	if (vtz == NULL || (vtz = icalcomponent_new_clone(vtz)) == NULL)
		return NULL;
	if ((p = icalcomponent_get_first_property(vtz, ICAL_TZID_PROPERTY)) != NULL)
		icalproperty_set_tzid(p, name);
	icaltimezone_truncate_vtimezone(vtz,
					icaltime_from_timet_with_zone(starts_at - 366 * 86400, 0,
								      icaltimezone_get_utc_timezone()),
					icaltime_null_time(), 1);
	return vtz;
}

/* Whether the local time of t comes twice (the night summer time ends). */
static int ambiguous(time_t t)
{
	struct tm a, b, c;

	tz_local(t, &a);
	tz_local(t - 3600, &b);
	tz_local(t + 3600, &c);
	return (a.tm_hour == b.tm_hour && a.tm_min == b.tm_min) || (a.tm_hour == c.tm_hour && a.tm_min == c.tm_min);
}

/* The start: a local time in the zone, with its TZID. A local time that
 * comes twice means the first by RFC 5545, but libical and Python's
 * icalendar both take the second: that one start is written in UTC,
 * which every reader places alike. */
static icalproperty *local_time(icalproperty *p, time_t t, icaltimezone *tz, const char *name)
{
	struct icaltimetype it = icaltime_from_timet_with_zone(t, 0, tz);

	if (p == NULL)
		return NULL;
	if (ambiguous(t)) {
		icalproperty_set_dtstart(p, icaltime_from_timet_with_zone(t, 0, icaltimezone_get_utc_timezone()));
		return p;
	}
	/* libical 3.0 converts to the zone but leaves the time marked UTC,
	 * which would print a Z after the local time. */
	it.zone = tz;
	icalproperty_set_dtstart(p, it);
	icalproperty_add_parameter(p, icalparameter_new_tzid(name));
	return p;
}

/* The first reminder of the ladder, as the alarm's offset before the
 * start (seconds); 0 when the ladder has none. */
static int first_reminder(const struct config *cfg, time_t starts_at)
{
	time_t times[CONFIG_LADDER_MAX + 1], first = 0;
	/* From the epoch every step is ahead: the ladder as configured, not
	 * what is left of it today. */
	int n = appointments_reminder_times(cfg, 0, starts_at, times, (int)CB_ARRAY_SIZE(times));

	for (int i = 0; i < n; i++)
		if (first == 0 || times[i] < first)
			first = times[i];
	return first != 0 ? (int)(starts_at - first) : 0;
}

static int add(icalcomponent *c, icalproperty *p)
{
	if (p == NULL)
		return -CB_ENOMEM;
	icalcomponent_add_property(c, p);
	return 0;
}

struct event {
	const struct appointment *a;
	const char *uid;
	int sequence;
	const char *title;
	int details;
	int cancelled;
	int alarm;      /* seconds before the start, 0: none */
	time_t now;
};

static icalcomponent *vevent(const struct event *e, icaltimezone *tz, const char *name)
{
	icalcomponent *ev = icalcomponent_new_vevent(), *alarm;
	int rc = 0;

	if (ev == NULL)
		return NULL;
	rc |= add(ev, icalproperty_new_uid(e->uid));
	rc |= add(ev, icalproperty_new_dtstamp(icaltime_from_timet_with_zone(e->now, 0,
									     icaltimezone_get_utc_timezone())));
	rc |= add(ev, icalproperty_new_sequence(e->sequence));
	rc |= add(ev, local_time(icalproperty_new(ICAL_DTSTART_PROPERTY), e->a->starts_at, tz, name));
	/* A duration, not a local end: an hour that starts at 02:30 on the
	 * night summer time ends also ends at 02:30. */
	rc |= add(ev, icalproperty_new_duration(icaldurationtype_from_int(CALENDAR_DURATION)));
	rc |= add(ev, icalproperty_new_summary(e->title));
	if (e->details && e->a->place[0] != '\0')
		rc |= add(ev, icalproperty_new_location(e->a->place));
	rc |= add(ev, icalproperty_new_status(e->cancelled ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED));
	/* A shared or synchronised calendar shows others only that the time
	 * is taken. */
	rc |= add(ev, icalproperty_new_class(ICAL_CLASS_PRIVATE));
	if (rc == 0 && e->alarm > 0 && !e->cancelled) {
		struct icaltriggertype trigger;

		memset(&trigger, 0, sizeof(trigger));
		trigger.time = icaltime_null_time();
		trigger.duration = icaldurationtype_from_int(-e->alarm);
		if ((alarm = icalcomponent_new_valarm()) == NULL) {
			rc = -CB_ENOMEM;
		} else {
			icalcomponent_add_component(ev, alarm);
			rc |= add(alarm, icalproperty_new_action(ICAL_ACTION_DISPLAY));
			rc |= add(alarm, icalproperty_new_description(e->title));
			rc |= add(alarm, icalproperty_new_trigger(trigger));
		}
	}
	if (rc != 0) {
		icalcomponent_free(ev);
		return NULL;
	}
	return ev;
}

/* The event's title: neutral, or with the kind for a family that opted in
 * to details. */
static int title(const struct locales *loc, enum lang l, const struct appointment *a, int details, char *out,
		 size_t cap)
{
	char kindkey[64];
	const char *what;

	snprintf(kindkey, sizeof(kindkey), "appointment.kind.%s", a->kind);
	if (details && (what = locale_text(loc, l, kindkey)) != NULL) {
		const struct locale_param p[] = {{"what", what}};

		return locale_render(loc, l, "calendar.title_kind", p, 1, out, cap);
	}
	return locale_render(loc, l, "calendar.title", NULL, 0, out, cap);
}

int calendar_file(struct store *st, const struct locales *loc, const struct config *cfg, int64_t appointment_id,
		  enum lang l, time_t now, char **out, size_t *len)
{
	struct appointment a;
	enum calendar_mode mode;
	char uid[CALENDAR_UID_MAX], name[256];
	struct event e;
	icaltimezone *tz;
	icalcomponent *cal = NULL, *part;
	char *text = NULL;
	int rc;

	*out = NULL;
	*len = 0;
	if ((rc = store_appointment_get(st, appointment_id, &a)) != 0 ||
	    (rc = store_family_calendar(st, a.family_id, &mode)) != 0 ||
	    (rc = store_appointment_calendar(st, a.id, uid, &e.sequence)) != 0)
		return rc;
	if ((tz = zone(cfg->timezone)) == NULL) {
		log_error("calendar: libical knows no zone %s", cfg->timezone);
		return -CB_ECONFIG;
	}
	e.a = &a;
	e.uid = uid;
	e.details = mode == CALENDAR_DETAILS;
	e.cancelled = strcmp(a.status, "cancelled") == 0;
	e.alarm = first_reminder(cfg, a.starts_at);
	e.now = now;
	e.title = name;
	if ((rc = title(loc, l, &a, e.details, name, sizeof(name))) != 0)
		return rc;
	rc = -CB_ENOMEM;
	if ((cal = icalcomponent_new_vcalendar()) == NULL)
		goto out;
	if (add(cal, icalproperty_new_version("2.0")) != 0 || add(cal, icalproperty_new_prodid("-//casebot//calendar//EN")) != 0 ||
	    add(cal, icalproperty_new_calscale("GREGORIAN")) != 0 ||
	    add(cal, icalproperty_new_method(e.cancelled ? ICAL_METHOD_CANCEL : ICAL_METHOD_PUBLISH)) != 0)
		goto out;
	if ((part = vtimezone(tz, cfg->timezone, a.starts_at)) == NULL)
		goto out;
	icalcomponent_add_component(cal, part);
	if ((part = vevent(&e, tz, cfg->timezone)) == NULL)
		goto out;
	icalcomponent_add_component(cal, part);
	if ((text = icalcomponent_as_ical_string_r(cal)) == NULL)
		goto out;
	*len = strlen(text);
	if (*len > CALENDAR_FILE_MAX) {
		rc = -CB_ETOOBIG;
		goto out;
	}
	if ((*out = malloc(*len + 1)) == NULL)
		goto out;
	memcpy(*out, text, *len + 1);
	rc = 0;
out:
	if (text != NULL)
		icalmemory_free_buffer(text);
	if (cal != NULL)
		icalcomponent_free(cal);
	if (rc != 0)
		*len = 0;
	return rc;
}

/* Renders key into out as the message's whole text. */
static int text(const struct locales *loc, enum lang l, const char *key, const struct locale_param *p, size_t n,
		struct composed *out)
{
	int rc = locale_render(loc, l, key, p, n, out->text, sizeof(out->text));

	if (rc == 0) {
		cb_strlcpy(out->first_key, key, sizeof(out->first_key));
		for (size_t i = 0; i < n && i < COMPOSE_VALUES_MAX; i++) {
			cb_strlcpy(out->first[i].name, p[i].name, sizeof(out->first[i].name));
			cb_strlcpy(out->first[i].value, p[i].value, sizeof(out->first[i].value));
		}
		out->nfirst = n < COMPOSE_VALUES_MAX ? (int)n : COMPOSE_VALUES_MAX;
	}
	return rc;
}

int calendar_compose(struct store *st, const struct locales *loc, const struct config *cfg,
		     const struct outbox_msg *m, enum lang l, const struct gateway *gw, time_t now,
		     struct composed *out)
{
	unsigned char token[CALENDAR_TOKEN_BYTES], hash[CALENDAR_TOKEN_HASH];
	char b64[CALENDAR_TOKEN_CHARS + 1], url[sizeof(cfg->http_public_url) + 64];
	struct appointment a;
	int cancelled, rc;
	size_t base;

	memset(out, 0, sizeof(*out));
	if ((rc = store_appointment_get(st, m->appointment_id, &a)) != 0)
		return rc;
	cancelled = strcmp(a.status, "cancelled") == 0;
	if ((gw->caps.media_send & gateway_media_bit("calendar")) != 0 && gw->ops->send_file != NULL) {
		cb_strlcpy(out->media_kind, "calendar", sizeof(out->media_kind));
		return text(loc, l, cancelled ? "calendar.file_cancelled" : "calendar.file", NULL, 0, out);
	}
	if (cfg->http_public_url[0] == '\0')
		return -CB_ESTATE;
	/* The token goes out in this message only; the store keeps its hash.
	 * A send tried again makes a new one, and the old one goes. */
	randombytes_buf(token, sizeof(token));
	crypto_generichash(hash, sizeof(hash), token, sizeof(token), NULL, 0);
	sodium_bin2base64(b64, sizeof(b64), token, sizeof(token), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(token, sizeof(token));
	base = strlen(cfg->http_public_url);
	while (base > 0 && cfg->http_public_url[base - 1] == '/')
		base--;
	snprintf(url, sizeof(url), "%.*s%s%s", (int)base, cfg->http_public_url, CALENDAR_PATH, b64);
	sodium_memzero(b64, sizeof(b64));
	rc = store_calendar_link_add(st, hash, a.family_id, a.id, m->id, l, now, a.starts_at + CALENDAR_DURATION);
	if (rc == 0) {
		const struct locale_param p[] = {{"url", url}};

		rc = text(loc, l, cancelled ? "calendar.link_cancelled" : "calendar.link", p, 1, out);
	}
	sodium_memzero(url, sizeof(url));
	return rc;
}

/* ---- the link ----------------------------------------------------------- */

static void not_found(struct http_server_req *req)
{
	static const char body[] = "Not Found\n";

	http_server_add_header(req, "Cache-Control", "no-store");
	http_server_respond(req, 404, "text/plain; charset=utf-8", body, sizeof(body) - 1);
}

/* Whatever is wrong (a bad token, a used one, one that expired, an
 * appointment erased meanwhile) answers the same 404: a guess learns
 * nothing. A file that cannot be made leaves the link as it was. */
static void serve(struct http_server_req *req, void *arg)
{
	struct calendar_server *r = arg;
	unsigned char token[CALENDAR_TOKEN_BYTES], hash[CALENDAR_TOKEN_HASH];
	const char *t = NULL;
	size_t tlen = 0, got = 0;
	time_t now = clock_now();
	int64_t appointment_id;
	char *file = NULL;
	size_t len = 0;
	enum lang l;
	int rc;

	if (strncmp(req->path, CALENDAR_PATH, strlen(CALENDAR_PATH)) == 0) {
		t = req->path + strlen(CALENDAR_PATH);
		tlen = strcspn(t, "?#");
	}
	if (strcmp(req->method, "GET") != 0 || t == NULL || tlen != CALENDAR_TOKEN_CHARS ||
	    sodium_base642bin(token, sizeof(token), t, tlen, NULL, &got, NULL,
			      sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
	    got != sizeof(token)) {
		not_found(req);
		return;
	}
	crypto_generichash(hash, sizeof(hash), token, sizeof(token), NULL, 0);
	sodium_memzero(token, sizeof(token));
	if (store_begin(r->st) != 0) {
		not_found(req);
		return;
	}
	rc = store_calendar_link_take(r->st, hash, now, &appointment_id, &l);
	if (rc == 0)
		rc = calendar_file(r->st, *r->loc, r->cfg, appointment_id, l, now, &file, &len);
	/* An expired link is deleted as it is found; a used one was before. */
	if ((rc == 0 || rc == -CB_ENOENT) && store_commit(r->st) != 0)
		rc = -CB_ESTORE;
	if (rc != 0) {
		store_rollback(r->st);
		free(file);
		not_found(req);
		return;
	}
	log_info("calendar: a one-time link served appointment #%lld", (long long)appointment_id);
	http_server_add_header(req, "Content-Disposition", "attachment; filename=\"" CALENDAR_FILENAME "\"");
	http_server_add_header(req, "Cache-Control", "no-store");
	http_server_add_header(req, "X-Content-Type-Options", "nosniff");
	http_server_add_header(req, "Referrer-Policy", "no-referrer");
	http_server_respond(req, 200, CALENDAR_MIME "; charset=utf-8", file, len);
	free(file);
}

int calendar_route(struct http_server *srv, struct calendar_server *cs)
{
	return http_server_route(srv, "/calendar", serve, cs);
}
