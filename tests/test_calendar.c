/* Appointments in the phone's calendar. Every file is read twice: by
 * libical, placing its times by the file's own VTIMEZONE, and by Python's
 * icalendar (Debian's python3-icalendar, /usr/bin/python3, through
 * tests/data/calendar/check.py), placing them by the TZID. The event lands
 * at the right UTC time on both days summer time changes; a move keeps
 * the UID and raises SEQUENCE; a cancellation is a METHOD:CANCEL file; the
 * title is neutral unless the family opted in to details. The one-time
 * link works once, until the appointment ends, and an unknown, used or
 * expired token gets the same 404. The daemon sends a Telegram family the
 * file as a document, after its text, on create and on move (through
 * tgsim). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <libical/ical.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/calendar.h"
#include "bot/clock.h"
#include "bot/compose.h"
#include "bot/config.h"
#include "bot/gateways/gateway.h"
#include "bot/net/http_server.h"
#include "handlers/handler.h"
#include "locales/locale.h"
#include "store/store.h"
#include "tests/support/dtest.h"
#include "tests/support/testenv.h"

/* Sunday 10 January 2027, 13:00 in Brussels. */
#define NOW ((time_t)1799582400)
/* The last Sundays of March and October 2027, in UTC. */
#define MAR28_0800Z ((time_t)1806220800)
#define MAR28_0030Z ((time_t)1806193800)
#define MAR28_0130Z ((time_t)1806197400)
#define OCT31_0030Z ((time_t)1824942600)
#define OCT31_0900Z ((time_t)1824973200)

#define CLI(t, ...) testenv_cli((t), __VA_ARGS__, (const char *)NULL)

/* What a test checks of a file, as one parser read it. */
struct ics {
	char method[16], uid[96], status[16], summary[128], location[256], tzid[64];
	int sequence, alarms, trigger;
	long long start, end;
};

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return buf;
}

static void copy(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src != NULL ? src : "");
}

/* libical, with the times placed by the file's own VTIMEZONE. */
static void read_libical(const char *text, struct ics *out)
{
	icalcomponent *cal = icalparser_parse_string(text), *vtz, *ev, *alarm;
	icalproperty *start, *duration, *p;
	icalparameter *tzid;
	icaltimezone *zone;

	memset(out, 0, sizeof(*out));
	assert_non_null(cal);
	assert_int_equal(icalcomponent_count_errors(cal), 0);
	assert_int_equal(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
	copy(out->method, sizeof(out->method), icalproperty_method_to_string(icalcomponent_get_method(cal)));
	vtz = icalcomponent_get_first_component(cal, ICAL_VTIMEZONE_COMPONENT);
	ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT);
	assert_non_null(vtz);
	assert_non_null(ev);
	assert_null(icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT));
	zone = icaltimezone_new();
	assert_int_equal(icaltimezone_set_component(zone, icalcomponent_new_clone(vtz)), 1);
	copy(out->uid, sizeof(out->uid), icalcomponent_get_uid(ev));
	out->sequence = icalcomponent_get_sequence(ev);
	p = icalcomponent_get_first_property(ev, ICAL_STATUS_PROPERTY);
	copy(out->status, sizeof(out->status), p != NULL ? icalproperty_get_value_as_string(p) : "");
	copy(out->summary, sizeof(out->summary), icalcomponent_get_summary(ev));
	copy(out->location, sizeof(out->location), icalcomponent_get_location(ev));
	start = icalcomponent_get_first_property(ev, ICAL_DTSTART_PROPERTY);
	duration = icalcomponent_get_first_property(ev, ICAL_DURATION_PROPERTY);
	assert_non_null(start);
	assert_non_null(duration);
	assert_null(icalcomponent_get_first_property(ev, ICAL_DTEND_PROPERTY));
	assert_string_equal(icaltimezone_get_tzid(zone), "Europe/Brussels");
	if ((tzid = icalproperty_get_first_parameter(start, ICAL_TZID_PARAMETER)) != NULL) {
		copy(out->tzid, sizeof(out->tzid), icalparameter_get_tzid(tzid));
		assert_string_equal(icaltimezone_get_tzid(zone), out->tzid);
		out->start = (long long)icaltime_as_timet_with_zone(icalproperty_get_dtstart(start), zone);
	} else {
		/* Only a start in UTC has no zone. */
		assert_true(icaltime_is_utc(icalproperty_get_dtstart(start)));
		out->start = (long long)icaltime_as_timet(icalproperty_get_dtstart(start));
	}
	out->end = out->start + icaldurationtype_as_int(icalproperty_get_duration(duration));
	for (alarm = icalcomponent_get_first_component(ev, ICAL_VALARM_COMPONENT); alarm != NULL;
	     alarm = icalcomponent_get_next_component(ev, ICAL_VALARM_COMPONENT)) {
		if (out->alarms++ == 0) {
			p = icalcomponent_get_first_property(alarm, ICAL_TRIGGER_PROPERTY);
			assert_non_null(p);
			out->trigger = icaldurationtype_as_int(icalproperty_get_trigger(p).duration);
		}
	}
	icaltimezone_free(zone, 1);
	icalcomponent_free(cal);
}

static const char *json_str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	assert_true(cJSON_IsString(it));
	return it->valuestring;
}

static long long json_int(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	assert_true(cJSON_IsNumber(it));
	return (long long)it->valuedouble;
}

/* Python's icalendar, by tests/data/calendar/check.py. */
static void read_python(const char *path, struct ics *out)
{
	char cmd[1024], line[4096];
	cJSON *o;
	FILE *p;

	memset(out, 0, sizeof(*out));
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/data/calendar/check.py '%s' 2>&1", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	if (fgets(line, sizeof(line), p) == NULL)
		line[0] = '\0';
	assert_int_equal(pclose(p), 0);
	if ((o = cJSON_Parse(line)) == NULL)
		fail_msg("check.py: %s", line);
	copy(out->method, sizeof(out->method), json_str(o, "method"));
	copy(out->uid, sizeof(out->uid), json_str(o, "uid"));
	copy(out->status, sizeof(out->status), json_str(o, "status"));
	copy(out->summary, sizeof(out->summary), json_str(o, "summary"));
	copy(out->location, sizeof(out->location), json_str(o, "location"));
	copy(out->tzid, sizeof(out->tzid), json_str(o, "tzid"));
	out->sequence = (int)json_int(o, "sequence");
	out->alarms = (int)json_int(o, "alarms");
	out->trigger = (int)json_int(o, "trigger");
	out->start = json_int(o, "start");
	out->end = json_int(o, "end");
	cJSON_Delete(o);
}

/* Both parsers read the same file the same way; out is what they read. */
static void read_both(const char *path, struct ics *out)
{
	struct ics py;
	char *text = slurp(path);

	read_libical(text, out);
	free(text);
	read_python(path, &py);
	assert_string_equal(out->method, py.method);
	assert_string_equal(out->uid, py.uid);
	assert_string_equal(out->status, py.status);
	assert_string_equal(out->summary, py.summary);
	assert_string_equal(out->location, py.location);
	assert_string_equal(out->tzid, py.tzid);
	assert_int_equal(out->sequence, py.sequence);
	assert_int_equal(out->alarms, py.alarms);
	assert_int_equal(out->trigger, py.trigger);
	assert_int_equal(out->start, py.start);
	assert_int_equal(out->end, py.end);
	assert_int_equal(out->end - out->start, CALENDAR_DURATION);
}

/* The file the family would get for appointment id, read by both. */
static void ics_of(struct testenv *t, int id, struct ics *out)
{
	char path[PATH_MAX + 32], id_s[16];
	static int n;

	snprintf(id_s, sizeof(id_s), "%d", id);
	snprintf(path, sizeof(path), "%s/a%d.ics", t->dir, n++);
	assert_int_equal(CLI(t, "appointment", "ics", id_s, path), 0);
	read_both(path, out);
}

static int setup(void **state)
{
	struct testenv *t = calloc(1, sizeof(*t));

	if (t == NULL || testenv_setup(t, NOW, NULL) != 0)
		return -1;
	if (CLI(t, "init") != 0 || CLI(t, "staff", "add", "Sara", "--role", "counsellor", "--lang", "nl") != 0 ||
	    CLI(t, "family", "add", "F-1", "--lang", "nl", "--counsellor", "Sara") != 0 ||
	    CLI(t, "family", "set", "F-1", "--calendar", "on") != 0)
		return -1;
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct testenv *t = *state;

	testenv_teardown(t);
	free(t);
	return 0;
}

/* Summer time starts at 01:00 UTC on the last Sunday of March: 01:30 is
 * still winter time (UTC+1), 03:30 and 10:00 are summer time (UTC+2). */
static void test_dst_march(void **state)
{
	struct testenv *t = *state;
	struct ics f;

	assert_int_equal(CLI(t, "appointment", "add", "F-1", "--at", "2027-03-28 10:00", "--kind", "lawyer"), 0);
	assert_int_equal(CLI(t, "appointment", "add", "F-1", "--at", "2027-03-28 01:30", "--kind", "school"), 0);
	assert_int_equal(CLI(t, "appointment", "add", "F-1", "--at", "2027-03-28 03:30", "--kind", "doctor"), 0);
	ics_of(t, 1, &f);
	assert_int_equal(f.start, MAR28_0800Z);
	assert_string_equal(f.tzid, "Europe/Brussels");
	assert_string_equal(f.method, "PUBLISH");
	assert_string_equal(f.status, "CONFIRMED");
	/* The first reminder, two days before at 10:00 (winter time), is 47
	 * hours before the start. */
	assert_int_equal(f.alarms, 1);
	assert_int_equal(f.trigger, -47 * 3600);
	ics_of(t, 2, &f);
	assert_int_equal(f.start, MAR28_0030Z);
	ics_of(t, 3, &f);
	assert_int_equal(f.start, MAR28_0130Z);
}

/* Summer time ends at 01:00 UTC on the last Sunday of October: 02:30,
 * which comes twice, is the first (summer) one, and its hour ends at the
 * second 02:30 (a DURATION, which a local DTEND could not say); 10:00 is
 * winter time. */
static void test_dst_october(void **state)
{
	struct testenv *t = *state;
	struct ics f;

	assert_int_equal(CLI(t, "appointment", "add", "F-1", "--at", "2027-10-31 02:30", "--kind", "lawyer"), 0);
	assert_int_equal(CLI(t, "appointment", "add", "F-1", "--at", "2027-10-31 10:00", "--kind", "lawyer"), 0);
	ics_of(t, 1, &f);
	assert_int_equal(f.start, OCT31_0030Z);
	/* Readers would take a local 02:30 for the second one: this start
	 * is in UTC. */
	assert_string_equal(f.tzid, "");
	ics_of(t, 2, &f);
	assert_int_equal(f.start, OCT31_0900Z);
	assert_string_equal(f.tzid, "Europe/Brussels");
	/* Two days before at 10:00 was summer time: 49 hours before. */
	assert_int_equal(f.trigger, -49 * 3600);
}

/* A move keeps the UID and raises SEQUENCE, so the phone updates the same
 * event; a cancellation is METHOD:CANCEL for that UID, one higher again,
 * without an alarm. */
static void test_move_and_cancel(void **state)
{
	struct testenv *t = *state;
	struct ics first, moved, cancelled;

	assert_int_equal(CLI(t, "appointment", "add", "F-1", "--at", "2027-03-28 10:00", "--kind", "lawyer"), 0);
	ics_of(t, 1, &first);
	assert_int_equal(first.sequence, 0);
	assert_non_null(strstr(first.uid, "@casebot"));
	assert_int_equal(CLI(t, "appointment", "move", "1", "--at", "2027-10-31 10:00"), 0);
	ics_of(t, 1, &moved);
	assert_string_equal(moved.uid, first.uid);
	assert_int_equal(moved.sequence, 1);
	assert_int_equal(moved.start, OCT31_0900Z);
	assert_string_equal(moved.method, "PUBLISH");
	assert_int_equal(CLI(t, "appointment", "cancel", "1"), 0);
	ics_of(t, 1, &cancelled);
	assert_string_equal(cancelled.uid, first.uid);
	assert_int_equal(cancelled.sequence, 2);
	assert_string_equal(cancelled.method, "CANCEL");
	assert_string_equal(cancelled.status, "CANCELLED");
	assert_int_equal(cancelled.alarms, 0);
	/* Another appointment is another event. */
	assert_int_equal(CLI(t, "appointment", "add", "F-1", "--at", "2027-03-28 10:00", "--kind", "lawyer"), 0);
	ics_of(t, 2, &moved);
	assert_string_not_equal(moved.uid, first.uid);
}

/* The title is neutral in each language; what and where come in only
 * for a family that opted in to details. */
static void test_neutral_unless_details(void **state)
{
	static const char *const langs[][2] = {
		{"nl", "Afspraak"}, {"fr", "Rendez-vous"}, {"de", "Termin"}, {"en", "Appointment"},
	};
	struct testenv *t = *state;
	struct ics f;

	assert_int_equal(CLI(t, "appointment", "add", "F-1", "--at", "2027-03-28 10:00", "--kind", "lawyer", "--place",
			     "Rue Haute 12, Bruxelles"),
			 0);
	for (size_t i = 0; i < CB_ARRAY_SIZE(langs); i++) {
		assert_int_equal(CLI(t, "family", "set", "F-1", "--lang", langs[i][0]), 0);
		ics_of(t, 1, &f);
		assert_string_equal(f.summary, langs[i][1]);
		assert_string_equal(f.location, "");
	}
	assert_int_equal(CLI(t, "family", "set", "F-1", "--lang", "nl", "--calendar", "details"), 0);
	ics_of(t, 1, &f);
	assert_string_equal(f.summary, "Afspraak: advocaat");
	assert_string_equal(f.location, "Rue Haute 12, Bruxelles");
	assert_int_equal(CLI(t, "family", "show", "F-1"), 0);
	assert_non_null(strstr(t->out, "calendar:   details"));
}

/* The family gets a calendar row with the appointment, its move and its
 * cancellation only once the setting is on; a wrong value changes
 * nothing. */
static void test_rows_follow_the_setting(void **state)
{
	struct testenv *t = *state;
	char before[65], after[65];

	assert_int_equal(testenv_db_digest(t, before), 0);
	assert_int_equal(CLI(t, "family", "set", "F-1", "--calendar", "sometimes"), 2);
	assert_non_null(strstr(t->err, "--calendar must be off, on or details"));
	assert_int_equal(testenv_db_digest(t, after), 0);
	assert_string_equal(before, after);
	assert_int_equal(CLI(t, "family", "set", "F-1", "--calendar", "off"), 0);
	assert_int_equal(CLI(t, "appointment", "add", "F-1", "--at", "2027-03-28 10:00", "--kind", "lawyer"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE kind = 'calendar'"), 0);
	assert_int_equal(CLI(t, "family", "set", "F-1", "--calendar", "ON"), 0);
	assert_int_equal(CLI(t, "appointment", "add", "F-1", "--at", "2027-03-28 11:00", "--kind", "lawyer"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE kind = 'calendar' AND appointment_id = 2"
					      " AND catalog_key = 'calendar.file' AND status = 'queued'"),
			 1);
	assert_int_equal(CLI(t, "appointment", "move", "2", "--at", "2027-03-29 11:00"), 0);
	/* The file not sent yet is of the old time: it goes, the new one
	 * comes. */
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE kind = 'calendar' AND status = 'queued'"),
			 1);
	assert_int_equal(CLI(t, "appointment", "cancel", "2"), 0);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM outbox WHERE kind = 'calendar' AND status = 'queued'"
					      " AND catalog_key = 'calendar.file_cancelled'"),
			 1);
	assert_int_equal(testenv_query_int(t, "SELECT count(*) FROM audit WHERE action = 'family.set' AND detail = 'on'"),
			 2);
}

/* ---- the link ------------------------------------------------------------ */

struct served {
	struct testenv *t;
	struct config cfg;
	struct store *st;
	struct locales *loc;
	uv_loop_t loop;
	struct http_server *srv;
	struct calendar_server cs;
	uv_async_t done;
	char base[64];
	/* One GET, from a thread while the loop serves. */
	char url[256];
	long status;
	char ctype[128];
	char *body;
	size_t len;
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	struct served *s = arg;
	char *grown = realloc(s->body, s->len + size * n + 1);

	if (grown == NULL)
		return 0;
	s->body = grown;
	memcpy(s->body + s->len, p, size * n);
	s->len += size * n;
	s->body[s->len] = '\0';
	return size * n;
}

static void *client(void *arg)
{
	struct served *s = arg;
	CURL *c = curl_easy_init();
	char *ctype = NULL;

	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
	if (curl_easy_perform(c) == CURLE_OK) {
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &s->status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype);
		copy(s->ctype, sizeof(s->ctype), ctype);
	}
	curl_easy_cleanup(c);
	uv_async_send(&s->done);
	return NULL;
}

static void got(uv_async_t *a)
{
	uv_stop(a->loop);
}

/* GET url while the loop serves it; the answer is in s. */
static void get(struct served *s, const char *url)
{
	pthread_t th;

	free(s->body);
	s->body = NULL;
	s->len = 0;
	s->status = 0;
	s->ctype[0] = '\0';
	copy(s->url, sizeof(s->url), url);
	assert_int_equal(pthread_create(&th, NULL, client, s), 0);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	pthread_join(th, NULL);
}

static int served_setup(void **state)
{
	struct served *s = calloc(1, sizeof(*s));
	char err[512];

	if (s == NULL || setup((void **)&s->t) != 0)
		return -1;
	if (config_load(&s->cfg, s->t->conf, err, sizeof(err)) != 0 ||
	    store_open(s->t->data, 0, &s->st, err, sizeof(err)) != 0 ||
	    locale_load(s->cfg.locales_dir, &s->loc, err, sizeof(err)) != 0)
		return -1;
	uv_loop_init(&s->loop);
	uv_async_init(&s->loop, &s->done, got);
	s->srv = http_server_new(&s->loop);
	s->cs = (struct calendar_server){s->st, &s->loc, &s->cfg};
	if (s->srv == NULL || calendar_route(s->srv, &s->cs) != 0 || http_server_listen(s->srv, "127.0.0.1:0") != 0)
		return -1;
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", http_server_port(s->srv));
	snprintf(s->cfg.http_public_url, sizeof(s->cfg.http_public_url), "%s/", s->base);
	*state = s;
	return 0;
}

static void closed(uv_handle_t *h)
{
	(void)h;
}

static int served_teardown(void **state)
{
	struct served *s = *state;
	void *t = s->t;

	http_server_close(s->srv, NULL, NULL);
	uv_close((uv_handle_t *)&s->done, closed);
	uv_run(&s->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&s->loop), 0);
	store_close(s->st);
	locale_free(s->loc);
	free(s->body);
	free(s);
	return teardown(&t);
}

/* A gateway that sends some media, but no calendar file (WhatsApp's
 * caps), or one that does (Telegram's). */
static struct gateway_ops upload_ops = {.name = "test"};

static int fake_send_file(struct gateway *gw, const char *address, const char *kind, const char *mime,
			  const char *filename, const void *data, size_t len, gateway_sent_cb cb, void *arg)
{
	(void)gw, (void)address, (void)kind, (void)mime, (void)filename, (void)data, (void)len;
	(void)cb, (void)arg;
	return -CB_EINVAL;
}

static void gateway_with(struct gateway *gw, unsigned media)
{
	memset(gw, 0, sizeof(*gw));
	upload_ops.send_file = fake_send_file;
	gw->ops = &upload_ops;
	gw->caps.media_send = media;
}

/* The calendar row as the outbox renders it for gw: its text. */
static int render(struct served *s, const struct gateway *gw, struct composed *out)
{
	struct outbox_msg m;
	time_t now = clock_now();
	int rc;

	memset(&m, 0, sizeof(m));
	m.id = (int64_t)testenv_query_int(s->t, "SELECT max(id) FROM outbox WHERE kind = 'calendar'");
	m.appointment_id = 1;
	m.family_id = 1;
	cb_strlcpy(m.kind, "calendar", sizeof(m.kind));
	cb_strlcpy(m.catalog_key, "calendar.file", sizeof(m.catalog_key));
	if (store_begin(s->st) != 0)
		return -CB_ESTORE;
	rc = calendar_compose(s->st, s->loc, &s->cfg, &m, LANG_NL, gw, now, out);
	if (rc == 0 && store_commit(s->st) != 0)
		rc = -CB_ESTORE;
	if (rc != 0)
		store_rollback(s->st);
	return rc;
}

/* The URL in a link message. */
static void link_of(const struct composed *c, char *url, size_t cap)
{
	const char *p = strstr(c->text, "http://");

	assert_non_null(p);
	copy(url, cap, p);
	url[strcspn(url, " \n")] = '\0';
}

/* A gateway that sends calendar files gets the file; one that cannot,
 * with public_url set, a link; without public_url, nothing. */
static void test_file_link_or_nothing(void **state)
{
	struct served *s = *state;
	struct composed *c = calloc(1, sizeof(*c));
	struct gateway gw;

	assert_non_null(c);
	assert_int_equal(CLI(s->t, "appointment", "add", "F-1", "--at", "2027-03-28 10:00", "--kind", "lawyer"), 0);
	gateway_with(&gw, GATEWAY_MEDIA_ALL);
	assert_int_equal(render(s, &gw, c), 0);
	assert_string_equal(c->media_kind, "calendar");
	assert_string_equal(c->text, "Voor je agenda: open dit bestand om de afspraak toe te voegen.");
	assert_int_equal(testenv_query_int(s->t, "SELECT count(*) FROM calendar_links"), 0);
	gateway_with(&gw, gateway_media_bit("document") | gateway_media_bit("voice") | gateway_media_bit("audio"));
	assert_int_equal(render(s, &gw, c), 0);
	assert_string_equal(c->media_kind, "");
	assert_non_null(strstr(c->text, "Voor je agenda: open deze link"));
	assert_non_null(strstr(c->text, s->base));
	assert_int_equal(testenv_query_int(s->t, "SELECT count(*) FROM calendar_links"), 1);
	/* A send tried again makes a new link: the first one goes. */
	assert_int_equal(render(s, &gw, c), 0);
	assert_int_equal(testenv_query_int(s->t, "SELECT count(*) FROM calendar_links"), 1);
	s->cfg.http_public_url[0] = '\0';
	assert_int_equal(render(s, &gw, c), -CB_ESTATE);
	free(c);
}

/* The link serves the file once, as text/calendar; then, or with a token
 * nobody was given, the same 404. Only the token's hash is stored. */
static void test_link_works_once(void **state)
{
	struct served *s = *state;
	struct composed *c = calloc(1, sizeof(*c));
	char url[256], other[256], token[CALENDAR_TOKEN_CHARS + 1], b64[64], sql[256];
	unsigned char raw[CALENDAR_TOKEN_BYTES];
	struct gateway gw;
	struct ics f;
	char *not_found;

	assert_non_null(c);
	assert_int_equal(CLI(s->t, "appointment", "add", "F-1", "--at", "2027-03-28 10:00", "--kind", "lawyer"), 0);
	gateway_with(&gw, 0);
	assert_int_equal(render(s, &gw, c), 0);
	link_of(c, url, sizeof(url));
	copy(token, sizeof(token), url + strlen(url) - CALENDAR_TOKEN_CHARS);
	assert_int_equal(strlen(token), CALENDAR_TOKEN_CHARS);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM calendar_links WHERE length(token_hash) = 32"
		 " AND instr(CAST(token_hash AS TEXT), '%s') = 0", token);
	assert_int_equal(testenv_query_int(s->t, sql), 1);
	/* A token nobody was given: 404, and the real link still works. */
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	snprintf(other, sizeof(other), "%s/calendar/%s", s->base, b64);
	get(s, other);
	assert_int_equal(s->status, 404);
	not_found = strdup(s->body);
	get(s, url);
	assert_int_equal(s->status, 200);
	assert_non_null(strstr(s->ctype, "text/calendar"));
	read_libical(s->body, &f);
	assert_int_equal(f.start, MAR28_0800Z);
	assert_string_equal(f.summary, "Afspraak");
	/* Used: gone, and answered as a token never given. */
	assert_int_equal(testenv_query_int(s->t, "SELECT count(*) FROM calendar_links"), 0);
	get(s, url);
	assert_int_equal(s->status, 404);
	assert_string_equal(s->body, not_found);
	/* Bad shapes say no more. */
	snprintf(other, sizeof(other), "%s/calendar/%s", s->base, "short");
	get(s, other);
	assert_int_equal(s->status, 404);
	assert_string_equal(s->body, not_found);
	snprintf(other, sizeof(other), "%s/calendar", s->base);
	get(s, other);
	assert_int_equal(s->status, 404);
	assert_null(strstr(s->body, token));
	free(not_found);
	free(c);
}

/* A link expires when the appointment ends: after that, 404, and the row
 * goes; retention removes links nobody opened, and erasure a family's. */
static void test_link_expires(void **state)
{
	struct served *s = *state;
	struct composed *c = calloc(1, sizeof(*c));
	struct retention_counts counts;
	char url[256], stamp[32];
	struct gateway gw;
	struct hctx h;

	assert_non_null(c);
	assert_int_equal(CLI(s->t, "appointment", "add", "F-1", "--at", "2027-03-28 10:00", "--kind", "lawyer"), 0);
	gateway_with(&gw, 0);
	assert_int_equal(render(s, &gw, c), 0);
	link_of(c, url, sizeof(url));
	assert_int_equal(testenv_query_int(s->t, "SELECT expires_at FROM calendar_links"),
			 MAR28_0800Z + CALENDAR_DURATION);
	/* The send tried again: its new link replaces the first. */
	assert_int_equal(render(s, &gw, c), 0);
	link_of(c, url, sizeof(url));
	snprintf(stamp, sizeof(stamp), "%lld", (long long)(MAR28_0800Z + CALENDAR_DURATION));
	setenv("CASEBOT_TEST_NOW", stamp, 1);
	get(s, url);
	assert_int_equal(s->status, 404);
	assert_int_equal(testenv_query_int(s->t, "SELECT count(*) FROM calendar_links"), 0);
	/* Retention: a link of an appointment that has ended goes. */
	snprintf(stamp, sizeof(stamp), "%lld", (long long)NOW);
	setenv("CASEBOT_TEST_NOW", stamp, 1);
	assert_int_equal(render(s, &gw, c), 0);
	assert_int_equal(testenv_query_int(s->t, "SELECT count(*) FROM calendar_links"), 1);
	h = (struct hctx){&s->cfg, s->st, s->loc, NOW, "bot"};
	assert_int_equal(retention_run(&h, &counts), 0);
	assert_int_equal(testenv_query_int(s->t, "SELECT count(*) FROM calendar_links"), 1);
	h.now = MAR28_0800Z + CALENDAR_DURATION;
	assert_int_equal(retention_run(&h, &counts), 0);
	assert_int_equal(testenv_query_int(s->t, "SELECT count(*) FROM calendar_links"), 0);
	/* Erasure: the family's links go with it. */
	assert_int_equal(render(s, &gw, c), 0);
	assert_int_equal(testenv_query_int(s->t, "SELECT count(*) FROM calendar_links"), 1);
	assert_int_equal(CLI(s->t, "family", "erase", "F-1", "--yes"), 0);
	assert_int_equal(testenv_query_int(s->t, "SELECT count(*) FROM calendar_links"), 0);
	free(c);
}

/* ---- the daemon and Telegram -------------------------------------------- */

/* The file behind the document the bot sent in its n-th message to the
 * family chat ("[document FILE_ID]"), downloaded from tgsim as the phone
 * would, into path. */
static void sent_file(struct dt *t, int n, const char *path)
{
	char text[1024], body[256], file_id[64], url[256];
	struct simctl_resp r;
	const char *fp;
	cJSON *root;
	FILE *out;

	dt_sent_text(t, DT_FAMILY_CHAT, n, text, sizeof(text));
	assert_int_equal(sscanf(text, "[document %63[^]]]", file_id), 1);
	snprintf(body, sizeof(body), "{\"file_id\":\"%s\"}", file_id);
	assert_int_equal(simctl_api(&t->sim, "getFile", body, 0, &r), 0);
	assert_int_equal(r.status, 200);
	root = cJSON_Parse(r.body);
	fp = json_str(cJSON_GetObjectItemCaseSensitive(root, "result"), "file_path");
	snprintf(url, sizeof(url), "/file/bot%s/%s", DT_TOKEN, fp);
	cJSON_Delete(root);
	simctl_resp_free(&r);
	assert_int_equal(simctl_http(&t->sim, "GET", url, NULL, 0, &r), 0);
	assert_int_equal(r.status, 200);
	out = fopen(path, "wb");
	assert_non_null(out);
	assert_int_equal(fwrite(r.body, 1, r.len, out), r.len);
	fclose(out);
	simctl_resp_free(&r);
}

static void test_daemon_sends_document(void **state)
{
	struct dt *t = *state;
	char when[32], path[PATH_MAX + 32], text[1024];
	time_t at = time(NULL) + 5 * 86400;
	struct ics first, moved;
	struct tm tm;
	int n;

	assert_int_equal(testenv_cli(&t->env, "family", "set", "F-1", "--calendar", "on", NULL), 0);
	dt_start_daemon(t);
	dt_link_family(t);
	n = dt_sent_count(t, DT_FAMILY_CHAT);
	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d 10:00", &tm);
	assert_int_equal(testenv_cli(&t->env, "appointment", "add", "F-1", "--at", when, "--kind", "lawyer", NULL), 0);
	/* The text, then the file. */
	DT_WAIT_SENT(t, DT_FAMILY_CHAT, n + 2, 10000);
	dt_sent_text(t, DT_FAMILY_CHAT, n, text, sizeof(text));
	assert_string_equal(text, "Voor je agenda: open dit bestand om de afspraak toe te voegen.");
	snprintf(path, sizeof(path), "%s/sent0.ics", t->env.dir);
	sent_file(t, n + 1, path);
	read_both(path, &first);
	assert_int_equal(first.sequence, 0);
	assert_string_equal(first.summary, "Afspraak");
	at += 86400;
	localtime_r(&at, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d 10:00", &tm);
	assert_int_equal(testenv_cli(&t->env, "appointment", "move", "1", "--at", when, NULL), 0);
	/* The notice of the move, the text, then the file. */
	DT_WAIT_SENT(t, DT_FAMILY_CHAT, n + 5, 10000);
	dt_sent_text(t, DT_FAMILY_CHAT, n + 2, text, sizeof(text));
	assert_non_null(strstr(text, "verplaatst"));
	snprintf(path, sizeof(path), "%s/sent1.ics", t->env.dir);
	sent_file(t, n + 4, path);
	read_both(path, &moved);
	assert_string_equal(moved.uid, first.uid);
	assert_int_equal(moved.sequence, 1);
	assert_int_equal(moved.start, first.start + 86400);
	assert_int_equal(dt_q(t, "SELECT count(*) FROM contact_log WHERE kind = 'calendar' AND summary = 'calendar.file' AND status = 'sent'"), 2);
	assert_int_equal(dt_stop_daemon(t, SIGTERM), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dst_march, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dst_october, setup, teardown),
		cmocka_unit_test_setup_teardown(test_move_and_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_neutral_unless_details, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rows_follow_the_setting, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_link_or_nothing, served_setup, served_teardown),
		cmocka_unit_test_setup_teardown(test_link_works_once, served_setup, served_teardown),
		cmocka_unit_test_setup_teardown(test_link_expires, served_setup, served_teardown),
		cmocka_unit_test_setup_teardown(test_daemon_sends_document, dt_setup, dt_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
