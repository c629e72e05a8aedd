/* The alerts to triage and the audit log (bot/console/desk.c). */
#ifndef CASEBOT_CONSOLE_DESK_H
#define CASEBOT_CONSOLE_DESK_H

#include "bot/console/page.h"

/* GET /alerts: the list, filtered by ?urgent=1, ?mine=1, ?all=1 (the
 * acknowledged too) and ?family=REF. */
void desk_alerts(struct page *x);
/* POST /alerts/ID/ack and /alerts/ID/assign (staff=ID). */
void desk_alert_post(struct page *x, int64_t id, const char *verb);
/* GET /alerts/live?after=ID: the open alerts' count and the open alerts
 * newer than ID, as JSON, for the overview's live list. */
void desk_alerts_live(struct page *x);
/* GET /audit and /audit.csv: filtered by ?family=REF, ?staff=NAME and
 * ?since=YYYY-MM-DD (a week back by default). */
void desk_audit(struct page *x, int csv);

#endif
