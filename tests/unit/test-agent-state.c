/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state.json: round trip, corruption (clear error, last good copy kept), the boot-loop marker. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-state.h"
#include "test-agent-lib.h"

#define SHA "3b8f1d2c8e5a4f6b7c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d"

static void fill(struct agent_state *s)
{
	agent_state_init(s);
	memcpy(s->boot_id, TEST_BOOT_ID, sizeof(TEST_BOOT_ID));
	assert_int_equal(agent_state_set_loaded(s, TEST_RELEASE "/lp-3.ko", "lp", 3, SHA, 1000,
						true),
			 0);
	assert_int_equal(agent_state_block(s, TEST_RELEASE "/lp-4.ko", "lp_b", 4, "it WARNed",
					   1100),
			 0);
	assert_int_equal(agent_state_count_failure(s, TEST_RELEASE "/lp-5.ko", "stalled"), 1);
	assert_int_equal(agent_state_count_failure(s, TEST_RELEASE "/lp-5.ko", "stalled again"),
			 2);
	assert_int_equal(agent_state_set_check(s, 1200, "updated", "loaded lp-3"), 0);
	assert_int_equal(agent_state_set_error(s, 1150, "mirror down"), 0);
	s->newest = json_pack("{s:s, s:s, s:i, s:b}", "path", TEST_RELEASE "/lp-4.ko",
			      "kernel_release", TEST_RELEASE, "patch_version", 4, "blocked", 1);
	assert_int_equal(agent_state_add_history(s, 1000, "loaded", TEST_RELEASE "/lp-3.ko", NULL),
			 0);
}

static void test_round_trip(void **state)
{
	char *dir = test_tmpdir_new();
	struct agent_state s, t;
	char err[512] = "";

	fill(&s);
	assert_int_equal(agent_state_save(dir, &s, err, sizeof(err)), 0);
	assert_int_equal(agent_state_load(dir, &t, err, sizeof(err)), 0);
	assert_string_equal(t.boot_id, TEST_BOOT_ID);
	assert_int_equal(t.n_loaded, 1);
	assert_string_equal(t.loaded[0].path, TEST_RELEASE "/lp-3.ko");
	assert_string_equal(t.loaded[0].module, "lp");
	assert_int_equal(t.loaded[0].version, 3);
	assert_true(t.loaded[0].confirmed);
	assert_int_equal(t.n_blocked, 1);
	assert_string_equal(agent_state_blocked(&t, TEST_RELEASE "/lp-4.ko")->reason, "it WARNed");
	assert_null(agent_state_blocked(&t, TEST_RELEASE "/lp-3.ko"));
	assert_int_equal(t.n_failures, 1);
	assert_int_equal(t.failures[0].count, 2);
	assert_string_equal(t.failures[0].last_error, "stalled again");
	assert_int_equal(t.last_check, 1200);
	assert_string_equal(t.last_result, "updated");
	assert_string_equal(t.last_error, "mirror down");
	assert_true(json_is_true(json_object_get(t.newest, "blocked")));
	assert_int_equal(json_array_size(t.history), 1);

	/* unblock by module name or path; drop; clear failures */
	assert_int_equal(agent_state_unblock(&t, "nothing"), 0);
	assert_int_equal(agent_state_unblock(&t, "lp_b"), 1);
	assert_int_equal(t.n_blocked, 0);
	agent_state_drop_loaded(&t, "lp");
	assert_int_equal(t.n_loaded, 0);
	agent_state_clear_failures(&t, TEST_RELEASE "/lp-5.ko");
	assert_int_equal(t.n_failures, 0);
	for (int i = 0; i < AGENT_HISTORY_MAX + 5; i++)
		assert_int_equal(agent_state_add_history(&t, i, "x", NULL, NULL), 0);
	assert_int_equal(json_array_size(t.history), AGENT_HISTORY_MAX);

	agent_state_release(&s);
	agent_state_release(&t);
	test_tmpdir_remove(dir);
}

static void test_first_run(void **state)
{
	char *dir = test_tmpdir_new();
	struct agent_state s;
	char err[512] = "";

	assert_int_equal(agent_state_load(dir, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n_loaded, 0);
	assert_int_equal(s.last_check, 0);
	agent_state_release(&s);
	test_tmpdir_remove(dir);
}

static void test_corruption(void **state)
{
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *path = path_join(dir, "state.json");
	_cleanup_free_ char *bak = path_join(dir, "state.json.bak");
	_cleanup_free_ char *before = NULL, *after = NULL;
	struct agent_state s, t;
	char err[1024] = "";
	size_t len;

	fill(&s);
	assert_int_equal(agent_state_save(dir, &s, err, sizeof(err)), 0);

	/* A damaged state.json: the last good copy is used, and the damage is reported. */
	test_put(dir, "state.json", "{\"version\": 1, \"loaded\": [");
	assert_int_equal(agent_state_load(dir, &t, err, sizeof(err)), 1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "line 1"));
	assert_non_null(strstr(err, "last good copy"));
	assert_int_equal(t.n_loaded, 1);
	assert_int_equal(t.n_blocked, 1);
	agent_state_release(&t);

	/* Both damaged: a clear error, and neither file is touched. */
	test_put(dir, "state.json.bak", "garbage");
	assert_int_equal(read_file_bounded(path, 1 << 20, &before, &len), 0);
	assert_int_equal(agent_state_load(dir, &t, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "no good copy"));
	assert_int_equal(read_file_bounded(path, 1 << 20, &after, &len), 0);
	assert_string_equal(before, after);
	free(after);
	after = NULL;
	assert_int_equal(read_file_bounded(bak, 1 << 20, &after, &len), 0);
	assert_string_equal(after, "garbage");

	/* Only the copy left (state.json lost): it is used. */
	assert_int_equal(agent_state_save(dir, &s, err, sizeof(err)), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(agent_state_load(dir, &t, err, sizeof(err)), 1);
	assert_int_equal(t.n_loaded, 1);
	agent_state_release(&t);
	agent_state_release(&s);
	test_tmpdir_remove(dir);
}

static void expect_bad_json(const char *text, const char *needle)
{
	json_t *j = json_loads(text, 0, NULL);
	struct agent_state s;
	char err[512] = "";

	assert_non_null(j);
	assert_int_equal(agent_state_from_json(j, &s, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
	json_decref(j);
}

static void test_bad_fields(void **state)
{
	expect_bad_json("[]", "not a JSON object");
	expect_bad_json("{\"version\": 2}", "version 2");
	expect_bad_json("{\"version\": 1, \"loaded\": {}}", "loaded: not an array");
	expect_bad_json("{\"version\": 1, \"loaded\": [{\"path\": 1}]}", "loaded[0].path");
	expect_bad_json("{\"version\": 1, \"loaded\": [{\"path\": \"p\", \"module\": \"../x\", "
			"\"sha256\": \"" SHA "\"}]}",
			"loaded[0]: bad module name");
	expect_bad_json("{\"version\": 1, \"blocklist\": [{\"path\": \"p\", \"module\": \"m\"}]}",
			"blocklist[0].reason");
	expect_bad_json("{\"version\": 1, \"blocklist\": [{\"path\": \"p\", \"module\": \"m\", "
			"\"reason\": \"r\", \"time\": \"now\"}]}",
			"blocklist[0].time: not an integer");
	expect_bad_json("{\"version\": 1, \"failures\": [{\"path\": \"p\", \"count\": 0}]}",
			"failures[0].count");
	expect_bad_json("{\"version\": 1, \"last_check\": 5}", "last_check: not an object");
	expect_bad_json("{\"version\": 1, \"last_check\": {\"time\": 1}}", "last_check.result");
	expect_bad_json("{\"version\": 1, \"last_error\": {\"time\": 1}}", "last_error.message");
	expect_bad_json("{\"version\": 1, \"newest\": []}", "newest: not an object");
	expect_bad_json("{\"version\": 1, \"history\": 3}", "history: not an array");
}

static void test_marker(void **state)
{
	char *dir = test_tmpdir_new();
	struct agent_marker m = {
		.path = (char *)TEST_RELEASE "/lp-3.ko",
		.module = "lp",
		.version = 3,
		.phase = AGENT_MARKER_GRACE,
		.time = 1234,
		.boot_id = TEST_BOOT_ID,
		.uptime = 12.5,
	}, r;

	assert_int_equal(agent_marker_read(dir, &r), 0);
	assert_int_equal(agent_marker_write(dir, &m), 0);
	assert_int_equal(agent_marker_read(dir, &r), 1);
	assert_string_equal(r.path, m.path);
	assert_string_equal(r.module, "lp");
	assert_int_equal(r.version, 3);
	assert_int_equal(r.phase, AGENT_MARKER_GRACE);
	assert_int_equal(r.time, 1234);
	assert_string_equal(r.boot_id, TEST_BOOT_ID);
	assert_true(r.uptime > 12.4 && r.uptime < 12.6);
	assert_false(r.stopped);
	agent_marker_release(&r);

	/* An unreadable marker still counts as a marker, without a patch. */
	test_put(dir, "loading.json", "{\"path\": ");
	assert_int_equal(agent_marker_read(dir, &r), 1);
	assert_null(r.path);
	agent_marker_release(&r);

	assert_int_equal(agent_marker_clear(dir), 0);
	assert_int_equal(agent_marker_read(dir, &r), 0);
	assert_int_equal(agent_marker_clear(dir), 0);
	test_tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_first_run),
		cmocka_unit_test(test_corruption),
		cmocka_unit_test(test_bad_fields),
		cmocka_unit_test(test_marker),
	};

	return TEST_MAIN(tests);
}
