/* Plain blocking HTTP GETs for tests (libcurl easy). */
#ifndef CASEBOT_TESTHTTP_H
#define CASEBOT_TESTHTTP_H

#include <cjson/cJSON.h>

/* The body as a malloc'd string (caller frees), or NULL; status may be NULL. */
char *testhttp_get(const char *url, long *status);
/* The body parsed as JSON (caller deletes), or NULL. */
cJSON *testhttp_get_json(const char *url, long *status);

#endif
