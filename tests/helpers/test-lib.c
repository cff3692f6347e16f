/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "test-lib.h"

char *test_tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *dir;

	if (!base || !*base)
		base = "/tmp";
	if (asprintf(&dir, "%s/tuxtape-test.XXXXXX", base) < 0)
		abort();
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		abort();
	}
	return dir;
}

void test_tmpdir_remove(char *dir)
{
	if (!dir)
		return;
	if (!getenv("TUXTAPE_TEST_KEEP"))
		rm_rf(dir);
	free(dir);
}

char *test_data_path(const char *rel)
{
	const char *base = getenv("TEST_DATA_DIR");
	char *p;

#ifdef TEST_DATA_DIR
	if (!base)
		base = TEST_DATA_DIR;
#endif
	if (!base)
		abort();
	p = path_join(base, rel);
	if (!p)
		abort();
	return p;
}

const char *test_pg_url(void)
{
	const char *u = getenv("TUXTAPE_TEST_PG_URL");

	return u && *u ? u : NULL;
}

char *test_read_data(const char *rel, size_t *ret_len)
{
	char *path = test_data_path(rel), *buf = NULL;
	int r = read_file_bounded(path, 0, &buf, ret_len);

	if (r < 0) {
		fprintf(stderr, "cannot read test data '%s': %s\n", path, strerror(-r));
		free(path);
		fail();
	}
	free(path);
	return buf;
}

int test_run_group(const char *name, const struct CMUnitTest *tests, size_t n)
{
	static const char suffix[] = "_postgresql";
	struct CMUnitTest *keep = calloc(n ? n : 1, sizeof(*keep));
	size_t m = 0, dropped = 0;
	int r;

	if (!keep)
		abort();
	for (size_t i = 0; i < n; i++) {
		size_t l = strlen(tests[i].name);

		if (!test_pg_url() && l >= sizeof(suffix) - 1 &&
		    strcmp(tests[i].name + l - (sizeof(suffix) - 1), suffix) == 0) {
			dropped++;
			continue;
		}
		keep[m++] = tests[i];
	}
	if (dropped)
		printf("# %zu PostgreSQL case(s) not run: TUXTAPE_TEST_PG_URL is not set\n", dropped);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	r = _cmocka_run_group_tests(name, keep, m, NULL, NULL);
	free(keep);
	return r;
}
