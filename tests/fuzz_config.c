/* libFuzzer target for the configuration: the input is a casebot.conf,
 * read by inih through every section's key table (the core's and each
 * gateway's), their value kinds (text, rates, HH:MM, choices, seconds)
 * and checks. Built by make fuzz; make test replays
 * tests/data/fuzz/config through the same entry. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/casebot.h"
#include "bot/config.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	int fd;

	(void)argc;
	(void)argv;
	/* The loader reads a file: one of this process's own. */
	snprintf(path, sizeof(path), "/tmp/casebot-fuzz-config-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		abort();
	close(fd);
	unsetenv("CASEBOT_CONFIG");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char err[512];
	FILE *fp = fopen(path, "wb");
	int rc;

	if (fp == NULL || fwrite(data, 1, size, fp) != size) {
		if (fp != NULL)
			fclose(fp);
		abort();
	}
	fclose(fp);
	memset(err, 0x55, sizeof(err));
	rc = config_load(&cfg, path, err, sizeof(err));
	/* A refusal says why in one terminated line. */
	if (rc != 0 && (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0'))
		abort();
	if (rc == 0 && (memchr(cfg.data_dir, '\0', sizeof(cfg.data_dir)) == NULL ||
			cfg.work_start < 0 || cfg.work_start >= 24 * 60 || cfg.work_end < 0 || cfg.work_end >= 24 * 60))
		abort();
	return 0;
}
