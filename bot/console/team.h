/* The staff page (bot/console/team.c), for coordinators. */
#ifndef CASEBOT_CONSOLE_TEAM_H
#define CASEBOT_CONSOLE_TEAM_H

#include "bot/console/page.h"

void team_page(struct page *x);
/* POST /staff (id 0, verb NULL: add one) and /staff/ID/VERB: away, back,
 * invite, confirm, unlink, deactivate, password, totp, backup. */
void team_post(struct page *x, int64_t id, const char *verb);

#endif
