#ifndef CASEBOT_EVENT_JSON_H
#define CASEBOT_EVENT_JSON_H

#include <stddef.h>

#include "bot/event.h"

const char *event_kind_name(enum event_kind k);
/* With redact, the text, button data and media reference are left out. */
int event_to_json(const struct inbound_event *ev, int redact, char *out, size_t cap);
int event_from_json(const char *json, const char *channel, const char *external_id,
		    const char *sender, struct inbound_event *ev);

#endif
