/* libFuzzer target for the dates and times the CLI reads: "YYYY-MM-DD
 * HH:MM" in Europe/Brussels (skipped and doubled hours), a day alone,
 * HH:MM, and the error line each refusal prints. Built by make fuzz;
 * make test replays tests/data/fuzz/dates through the same entry. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/casebot.h"
#include "bot/cli/cli.h"
#include "bot/tz.h"

static struct cli cli;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (tz_set("Europe/Brussels") != 0)
		abort();
	cli.err = fopen("/dev/null", "w");
	cli.out = cli.err;
	if (cli.err == NULL)
		abort();
	snprintf(cli.cmd, sizeof(cli.cmd), "appointment add");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[256];
	size_t n = size < sizeof(s) - 1 ? size : sizeof(s) - 1;
	time_t t = 0, u = 0;
	int y, mon, day, minutes, rc;

	memcpy(s, data, n);
	s[n] = '\0';
	rc = cli_parse_when(&cli, "--at", s, &t);
	if (rc != CLI_OK && rc != CLI_USAGE)
		abort();
	/* What the CLI takes is a local time that exists, once. */
	if (rc == CLI_OK) {
		struct tm tm;

		tz_local(t, &tm);
		if (tz_make_local(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, &u) != 0 ||
		    u != t - tm.tm_sec)
			abort();
	}
	rc = cli_parse_day(&cli, "--due", s, &y, &mon, &day);
	if (rc == CLI_OK && tz_valid_date(y, mon, day) != 0)
		abort();
	if (tz_parse_hhmm(s, &minutes) == 0 && (minutes < 0 || minutes >= 24 * 60))
		abort();
	if (tz_parse_date(s, &y, &mon, &day) == 0 && tz_valid_date(y, mon, day) != 0)
		abort();
	tz_parse_local(s, &t);
	return 0;
}
