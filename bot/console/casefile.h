/* The family page at /families/REF and everything done from it:
 * appointments, document requests and decisions, document downloads,
 * the check-in plan, alerts, writing to the family, unlinking a chat and
 * closing the file. Each is audited; each is refused (and the refusal
 * audited) for a family the staff member does not reach. */
#ifndef CASEBOT_CONSOLE_CASEFILE_H
#define CASEBOT_CONSOLE_CASEFILE_H

#include "bot/console/page.h"

/* The most a downloaded document may be (what the gateways let families
 * send is less). */
#define CASEFILE_DOCUMENT_MAX (64 * 1024 * 1024)

/* Answers a request for /families/REF and below (tail: what follows the
 * reference, "" or "/write", "/documents/7"...). 0 when nothing here
 * answers that path. */
int casefile_route(struct page *x, const char *ref, const char *tail, size_t tail_len, int get, int post);

#endif
