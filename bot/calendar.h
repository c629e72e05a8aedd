/* Appointments in the phone's calendar: the iCalendar file a family gets
 * (built with libical), the message that carries it or links to it, and
 * the one-time link the daemon serves where a gateway cannot carry the
 * file. Nothing of it is kept on disk: the file is made when it is sent
 * or fetched, from the appointment as it is then. */
#ifndef CASEBOT_CALENDAR_H
#define CASEBOT_CALENDAR_H

#include <stddef.h>
#include <time.h>

#include "bot/casebot.h"
#include "store/store.h"

struct config;
struct composed;
struct gateway;
struct http_server;
struct locales;

/* An appointment has a start and no end: the event lasts an hour, and a
 * link to it works until then. */
#define CALENDAR_DURATION (60 * 60)
#define CALENDAR_FILE_MAX (64 * 1024)
#define CALENDAR_MIME "text/calendar"
#define CALENDAR_FILENAME "appointment.ics"
#define CALENDAR_PATH "/calendar/"
/* A link's token: 32 random bytes, base64url without padding. */
#define CALENDAR_TOKEN_BYTES 32
#define CALENDAR_TOKEN_CHARS 43

/* The file of an appointment as its family gets it at now, in language l:
 * METHOD:PUBLISH with the event (TZID of the configured zone, its
 * VTIMEZONE from the zone's rules, a VALARM at the first reminder of the
 * ladder), or METHOD:CANCEL once it is cancelled. The title is neutral;
 * the kind and the place are in it only for a family whose calendar
 * setting is "details". *out is the caller's to free. */
int calendar_file(struct store *st, const struct locales *loc, const struct config *cfg, int64_t appointment_id,
		  enum lang l, time_t now, char **out, size_t *len);

/* A calendar row of the outbox, rendered for gateway gw: the text the
 * file follows (out->media_kind "calendar": the outbox sends the file
 * after it) where the gateway sends calendar files; else, where [http] public_url
 * is set, a message with a new one-time link (its token stored hashed,
 * valid until the appointment ends); -CB_ESTATE when neither can be
 * sent, -CB_ENOENT when the appointment is gone. */
int calendar_compose(struct store *st, const struct locales *loc, const struct config *cfg,
		     const struct outbox_msg *m, enum lang l, const struct gateway *gw, time_t now,
		     struct composed *out);

/* What the link's page reads; its owner keeps it as long as the server.
 * loc is read through: SIGHUP replaces the catalogs. */
struct calendar_server {
	struct store *st;
	struct locales *const *loc;
	const struct config *cfg;
};

/* GET /calendar/<token>: the file, once, as text/calendar; 404, the same
 * for every refusal, to an unknown, used or expired token. */
int calendar_route(struct http_server *srv, struct calendar_server *cs);

#endif
