/* libFuzzer target for the catalogs: the first byte picks what the rest
 * is. Even: an en.json, loaded beside the real nl, fr and de catalogs
 * (placeholders, plural forms, lists, the registry's checks, the urgent
 * patterns), and every key of it rendered when it loads. Odd: values for
 * the placeholders and a count, with which every key of the real catalogs
 * is rendered in every language, plural forms and dates included. Built
 * by make fuzz; make test replays tests/data/fuzz/catalog through the
 * same entry. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bot/casebot.h"
#include "locales/keys.h"
#include "locales/locale.h"

static struct locales *real;
static char dir[64], en[96];

static void copy(const char *lang)
{
	char from[512], to[128], buf[65536];
	FILE *in, *out;
	size_t n;

	snprintf(from, sizeof(from), "%s/%s.json", CASEBOT_LOCALES_DIR, lang);
	snprintf(to, sizeof(to), "%s/%s.json", dir, lang);
	if ((in = fopen(from, "rb")) == NULL || (out = fopen(to, "wb")) == NULL)
		abort();
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[256];

	(void)argc;
	(void)argv;
	if (locale_load(CASEBOT_LOCALES_DIR, &real, err, sizeof(err)) != 0)
		abort();
	snprintf(dir, sizeof(dir), "/tmp/casebot-fuzz-catalog-XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	copy("nl");
	copy("fr");
	copy("de");
	snprintf(en, sizeof(en), "%s/en.json", dir);
	return 0;
}

/* Every key of loc rendered in every language with the same value for
 * each placeholder; a render either fits, terminated, or says it does
 * not. */
static void render_all(const struct locales *loc, const char *value, long long count)
{
	static char out[8192];
	char tiny[16];

	for (size_t i = 0; i < keys_count(); i++) {
		const struct keys_entry *k = keys_at(i);
		struct locale_param p[KEYS_MAX_PARAMS];
		size_t n = 0;

		if (k->kind == KEYS_LIST)
			continue;
		while (n < KEYS_MAX_PARAMS && k->params[n] != NULL) {
			p[n].name = k->params[n];
			p[n].value = value;
			n++;
		}
		for (int l = 0; l < LANG_COUNT; l++) {
			int rc = locale_render(loc, (enum lang)l, k->key, p, n, out, sizeof(out));

			if (rc == 0 && memchr(out, '\0', sizeof(out)) == NULL)
				abort();
			locale_render(loc, (enum lang)l, k->key, p, n, tiny, sizeof(tiny));
			if (memchr(tiny, '\0', sizeof(tiny)) == NULL)
				abort();
			if (k->flags & KEYS_PLURAL)
				locale_render_count(loc, (enum lang)l, k->key, count, p, n, out, sizeof(out));
		}
	}
	for (int l = 0; l < LANG_COUNT; l++) {
		locale_plural_one((enum lang)l, count);
		locale_format_datetime(loc, (enum lang)l, (time_t)(count % 7258118400LL), out, sizeof(out));
		locale_format_day(loc, (enum lang)l, (int)(count % 3000), (int)(count % 14), (int)(count % 33), out,
				  sizeof(out));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct locales *loc = NULL;
	char err[512];
	long long count = 0;

	if (size == 0)
		return 0;
	if ((data[0] & 1) == 0) {
		FILE *fp = fopen(en, "wb");

		if (fp == NULL)
			abort();
		fwrite(data + 1, 1, size - 1, fp);
		fclose(fp);
		memset(err, 0x55, sizeof(err));
		if (locale_load(dir, &loc, err, sizeof(err)) == 0) {
			render_all(loc, "x", 1);
			locale_free(loc);
		} else if (memchr(err, '\0', sizeof(err)) == NULL || err[0] == '\0') {
			abort();
		}
		return 0;
	}
	{
		char *value = malloc(size);
		unsigned long long u = 0;

		if (value == NULL)
			return 0;
		for (size_t i = 1; i < size && i < 9; i++)
			u = u * 256 + data[i];
		count = (long long)(u >> 1) * ((u & 1) ? -1 : 1);
		memcpy(value, data + 1, size - 1);
		value[size - 1] = '\0';
		render_all(real, value, count);
		free(value);
	}
	return 0;
}
