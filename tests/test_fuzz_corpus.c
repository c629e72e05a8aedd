/* Every fuzz target's corpus, replayed as a regression run: each file of
 * tests/data/fuzz/<target>/ goes through the target's own entry point
 * (its LLVMFuzzerTestOneInput, built here with gcc under another name; see
 * the Makefile), so that an input that once crashed a parser, and the
 * seeds, are run at every make test. A target aborts on what it finds
 * wrong, which fails this binary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A target without an LLVMFuzzerInitialize has no init: weak, NULL. */
#define TARGET(name) \
	int fuzz_##name##_init(int *argc, char ***argv) __attribute__((weak)); \
	int fuzz_##name##_one(const uint8_t *data, size_t size);
#include "tests/fuzz/targets.h"
#undef TARGET

struct target {
	const char *name;
	int (*init)(int *argc, char ***argv);
	int (*one)(const uint8_t *data, size_t size);
};

static int replay(const struct target *t)
{
	char dir[256], path[600];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "tests/data/fuzz/%s", t->name);
	d = opendir(dir);
	assert_non_null(d);
	if (t->init != NULL)
		assert_int_equal(t->init(NULL, NULL), 0);
	while ((de = readdir(d)) != NULL) {
		FILE *fp;
		char *buf;
		long len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fp = fopen(path, "rb");
		assert_non_null(fp);
		assert_int_equal(fseek(fp, 0, SEEK_END), 0);
		len = ftell(fp);
		rewind(fp);
		buf = malloc((size_t)len + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
		fclose(fp);
		t->one((const uint8_t *)buf, (size_t)len);
		free(buf);
		n++;
	}
	closedir(d);
	return n;
}

#define TARGET(name) \
	static void test_##name(void **state) \
	{ \
		static const struct target t = {#name, fuzz_##name##_init, fuzz_##name##_one}; \
		(void)state; \
		assert_true(replay(&t) > 0); \
	}
#include "tests/fuzz/targets.h"
#undef TARGET

int main(void)
{
#define TARGET(name) cmocka_unit_test(test_##name),
	const struct CMUnitTest tests[] = {
#include "tests/fuzz/targets.h"
	};
#undef TARGET

	return cmocka_run_group_tests(tests, NULL, NULL);
}
