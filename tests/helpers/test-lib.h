/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared test fixtures: temporary directories, test data paths and the
 * PostgreSQL URL of the throwaway cluster `make check` starts.
 */
#ifndef TUXTAPE_TEST_LIB_H
#define TUXTAPE_TEST_LIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A new empty directory under $TMPDIR; caller frees and removes it with test_tmpdir_remove(). */
char *test_tmpdir_new(void);
void test_tmpdir_remove(char *dir);

/* Absolute path of a file under tests/data (caller frees). */
char *test_data_path(const char *rel);

/*
 * URL of the test PostgreSQL database, from TUXTAPE_TEST_PG_URL, or NULL when
 * no server was started for this run (the test then skips its PostgreSQL half).
 */
const char *test_pg_url(void);

/* Reads a test data file; aborts the test when it is missing. */
char *test_read_data(const char *rel, size_t *ret_len);

/*
 * Runs group tests with TAP output; use as the body of main().  Tests whose
 * name ends in "_postgresql" are left out (with a TAP comment saying so) when
 * no PostgreSQL server was started for this run: Debian 12's cmocka reports
 * skip() as "not ok ... # SKIP", which meson counts as a failure.
 */
int test_run_group(const char *name, const struct CMUnitTest *tests, size_t n);
#define TEST_MAIN(tests) test_run_group(__FILE__, (tests), sizeof(tests) / sizeof((tests)[0]))

#endif
