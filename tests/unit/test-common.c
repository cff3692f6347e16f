/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "fileio.h"
#include "lock.h"
#include "parse-util.h"
#include "strbuf.h"
#include "test-lib.h"

static void test_strbuf_bounded(void **state)
{
	_cleanup_strbuf_ struct strbuf sb;

	strbuf_init(&sb, 8);
	assert_int_equal(strbuf_adds(&sb, "1234"), 0);
	assert_int_equal(strbuf_addf(&sb, "%d", 5678), 0);
	assert_int_equal(strbuf_addch(&sb, 'x'), -EFBIG);
	assert_string_equal(sb.buf, "12345678");
	assert_int_equal(sb.len, 8);
}

static void test_strv(void **state)
{
	_cleanup_strv_free_ char **v = NULL;

	assert_int_equal(strv_push(&v, "a"), 0);
	assert_int_equal(strv_push(&v, "b"), 0);
	assert_int_equal(strv_length(v), 2);
	assert_true(strv_contains(v, "b"));
	assert_false(strv_contains(v, "c"));
}

static void test_parse_numbers(void **state)
{
	int i;
	double d;
	int64_t t;
	bool b;

	assert_int_equal(safe_atoi("42", &i), 0);
	assert_int_equal(i, 42);
	assert_int_equal(safe_atoi("42x", &i), -EINVAL);
	assert_int_equal(safe_atoi("", &i), -EINVAL);
	assert_int_equal(safe_atoi("99999999999", &i), -ERANGE);
	assert_int_equal(safe_atod("0.5", &d), 0);
	assert_true(d == 0.5);
	assert_int_equal(parse_boolean("Yes", &b), 0);
	assert_true(b);
	assert_int_equal(parse_boolean("maybe", &b), -EINVAL);
	assert_int_equal(parse_timestamp("2024-12-02", &t), 0);
	assert_int_equal(t, 1733097600);
	assert_int_equal(parse_timestamp("2024-12-02T01:00:00+01:00", &t), 0);
	assert_int_equal(t, 1733097600);
	assert_int_equal(parse_timestamp("2024-12-02T00:00:00.123Z", &t), 0);
	assert_int_equal(t, 1733097600);
	assert_int_equal(parse_timestamp("2024-13-02", &t), -EINVAL);
	assert_int_equal(parse_timestamp("yesterday", &t), -EINVAL);
}

static void test_config(void **state)
{
	_cleanup_(config_freep) struct config *c = config_new();
	char *env[] = { "TUXTAPE_CVE_NVD_API_KEY=secret", "OTHER=1", "TUXTAPE_X=1", NULL };
	int line = 0, v;

	assert_int_equal(config_load_string(c,
					    "# comment\n[core]\ndatabase = /tmp/x.db\n\n[cve]\n"
					    "nvd_api_key = \"abc\"\nretries=3\n",
					    "t", &line),
			 0);
	assert_string_equal(config_get(c, "core.database", NULL), "/tmp/x.db");
	assert_string_equal(config_get(c, "cve.nvd_api_key", NULL), "abc");
	assert_int_equal(config_get_int(c, "cve.retries", 0, &v), 0);
	assert_int_equal(v, 3);
	config_load_env(c, env);
	assert_string_equal(config_get(c, "cve.nvd_api_key", NULL), "secret");
	assert_null(config_get(c, "x", NULL));
	assert_int_equal(config_load_string(c, "[a]\nok=1\nnot a pair\n", "t", &line), -EBADMSG);
	assert_int_equal(line, 3);
	assert_int_equal(config_load_string(c, "key=before-section\n", "t", &line), -EBADMSG);
	assert_int_equal(line, 1);
}

static void test_atomic_write_and_bounded_read(void **state)
{
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *path = path_join(dir, "a/b/file");
	_cleanup_free_ char *sub = path_join(dir, "a/b");
	_cleanup_free_ char *buf = NULL;
	size_t len;

	assert_int_equal(mkdir_p(sub, 0755), 0);
	assert_int_equal(write_file_atomic(path, "hello", 5, 0644), 0);
	assert_int_equal(write_file_atomic(path, "world!", 6, 0644), 0);
	assert_int_equal(read_file_bounded(path, 100, &buf, &len), 0);
	assert_string_equal(buf, "world!");
	assert_int_equal(len, 6);
	free(TAKE_PTR(buf));
	assert_int_equal(read_file_bounded(path, 3, &buf, &len), -EFBIG);
	assert_int_equal(read_file_bounded(sub, 3, &buf, &len), -EISDIR);
	/* a file of exactly the bound is read, one byte more is refused (regular file and pipe) */
	{
		_cleanup_free_ char *big = calloc(1, 65537);
		_cleanup_free_ char *fifo = path_join(dir, "fifo");

		assert_non_null(big);
		memset(big, 'x', 65537);
		assert_int_equal(write_file_atomic(path, big, 65536, 0644), 0);
		assert_int_equal(read_file_bounded(path, 65536, &buf, &len), 0);
		assert_int_equal(len, 65536);
		free(TAKE_PTR(buf));
		assert_int_equal(read_file_bounded(path, 65535, &buf, &len), -EFBIG);
		assert_int_equal(write_file_atomic(path, big, 65537, 0644), 0);
		assert_int_equal(read_file_bounded(path, 65536, &buf, &len), -EFBIG);
		assert_int_equal(read_file_bounded(path, 65537, &buf, &len), 0);
		free(TAKE_PTR(buf));
		/* not a regular file: no size to check up front */
		assert_int_equal(read_file_bounded("/dev/null", 1, &buf, &len), 0);
		assert_int_equal(len, 0);
		free(TAKE_PTR(buf));
		assert_non_null(fifo);
	}
	test_tmpdir_remove(dir);
}

static void test_lock_excludes_second_holder(void **state)
{
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *path = path_join(dir, "lock");
	int fd1, fd2;

	fd1 = lock_file_acquire(path, 0);
	assert_true(fd1 >= 0);
	/* flock locks belong to the open file description, so a second open conflicts. */
	fd2 = lock_file_acquire(path, 0);
	assert_int_equal(fd2, -EWOULDBLOCK);
	close(fd1);
	fd2 = lock_file_acquire(path, 0);
	assert_true(fd2 >= 0);
	close(fd2);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf_bounded),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_atomic_write_and_bounded_read),
		cmocka_unit_test(test_lock_excludes_second_holder),
	};

	return TEST_MAIN(tests);
}
