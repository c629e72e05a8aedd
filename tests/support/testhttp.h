/* Plain blocking HTTP GETs for tests (libcurl easy). */
#ifndef CASEBOT_TESTHTTP_H
#define CASEBOT_TESTHTTP_H

#include <cjson/cJSON.h>

/* The body as a malloc'd string (caller frees), or NULL; status may be NULL. */
char *testhttp_get(const char *url, long *status);
/* The body parsed as JSON (caller deletes), or NULL. */
cJSON *testhttp_get_json(const char *url, long *status);

/* POSTs a JSON body with extra "Name: value" headers (NULL-terminated,
 * may be NULL); returns the status (-1 when no answer came). *out, when
 * given, gets the body (caller frees). */
long testhttp_post(const char *url, const char *const *headers, const char *body, char **out);

#endif
