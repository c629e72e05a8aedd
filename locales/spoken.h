/* Dates and times written to be heard, the way a Belgian says them in each
 * language: "dinsdag drie december, om twee uur 's middags", "mardi trois
 * décembre, à quatorze heures", "Dienstag, den dritten Dezember, um
 * vierzehn Uhr", "Tuesday the third of December, at two in the afternoon".
 * Every number is a word, from the catalogs' voice.* lists. */
#ifndef CASEBOT_SPOKEN_H
#define CASEBOT_SPOKEN_H

#include <stddef.h>
#include <time.h>

#include "bot/casebot.h"

struct locales;

/* t in the process zone. */
int spoken_datetime(const struct locales *loc, enum lang l, time_t t, char *out, size_t cap);
/* A calendar date without a time (a due date). */
int spoken_day(const struct locales *loc, enum lang l, int y, int mon, int day, char *out, size_t cap);
/* A number from 0 to 59 as a word. */
const char *spoken_number(const struct locales *loc, enum lang l, int n);

#endif
