/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OLPC canonical JSON: the bytes TUF signs. */
#include <string.h>

#include "canonical.h"
#include "macro.h"
#include "test-lib.h"

/* Encodes the JSON text `in` and compares with `want` (exact bytes). */
static void check(const char *in, const char *want, size_t want_len)
{
	_cleanup_free_ char *buf = NULL;
	json_error_t e;
	json_t *j = json_loads(in, JSON_DECODE_ANY, &e);
	size_t len;

	assert_non_null(j);
	assert_int_equal(tuf_canonical_encode(j, &buf, &len), 0);
	json_decref(j);
	assert_int_equal(len, want_len);
	assert_memory_equal(buf, want, want_len);
	assert_int_equal(buf[len], '\0');
}

#define CHECK(in, want) check((in), (want), sizeof(want) - 1)

static void test_scalars(void **state)
{
	CHECK("true", "true");
	CHECK("false", "false");
	CHECK("null", "null");
	CHECK("0", "0");
	CHECK("-17", "-17");
	CHECK("9223372036854775807", "9223372036854775807");
	CHECK("-9223372036854775808", "-9223372036854775808");
	CHECK("{}", "{}");
	CHECK("[]", "[]");
}

static void test_whitespace_removed(void **state)
{
	CHECK("{ \"a\" : [ 1 , 2 , { } ] ,\n \"b\" : null }", "{\"a\":[1,2,{}],\"b\":null}");
}

/* Only backslash and double quote are escaped; TAB and newline stay raw bytes. */
static void test_string_escapes(void **state)
{
	CHECK("\"tab\\there\"", "\"tab\there\"");
	CHECK("\"line\\nbreak\\r\"", "\"line\nbreak\r\"");
	CHECK("\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\"");
	CHECK("\"back\\\\slash\"", "\"back\\\\slash\"");
	CHECK("\"\\\\\\\"\"", "\"\\\\\\\"\"");
	CHECK("\"slash / stays\"", "\"slash / stays\"");
	CHECK("\"\\u0001\\u001f\"", "\"\x01\x1f\"");
}

static void test_utf8_raw(void **state)
{
	CHECK("\"caf\\u00e9 \\u2603 \\ud83d\\ude00\"", "\"caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\"");
	CHECK("\"caf\xc3\xa9\"", "\"caf\xc3\xa9\"");
}

/* Keys sorted by their UTF-8 bytes (strcmp), recursively; escapes in keys too. */
static void test_key_order(void **state)
{
	CHECK("{\"b\":1,\"a\":2,\"B\":3,\"aa\":4,\"\xc3\xa9\":5,\"_\":6,\"1\":7}",
	      "{\"1\":7,\"B\":3,\"_\":6,\"a\":2,\"aa\":4,\"b\":1,\"\xc3\xa9\":5}");
	CHECK("{\"z\":{\"y\":1,\"x\":[{\"d\":1,\"c\":2}]},\"a\\\"q\":0}",
	      "{\"a\\\"q\":0,\"z\":{\"x\":[{\"c\":2,\"d\":1}],\"y\":1}}");
}

/* A targets body with every special character together (the reference vector's shape). */
static void test_targets_body(void **state)
{
	CHECK("{\"signed\":{\"targets\":{\"a\\tb\\\"c\\\\d\\u00e9\\u2603\":{\"length\":3,"
	      "\"hashes\":{\"sha256\":\"ab\"}}},\"_type\":\"targets\",\"version\":1}}",
	      "{\"signed\":{\"_type\":\"targets\",\"targets\":{\"a\tb\\\"c\\\\d\xc3\xa9\xe2\x98\x83\":"
	      "{\"hashes\":{\"sha256\":\"ab\"},\"length\":3}},\"version\":1}}");
}

static void test_reals_refused(void **state)
{
	char *buf = (char *)"untouched";
	size_t len = 42;
	json_t *j = json_pack("{s:i, s:[i, f]}", "a", 1, "b", 2, 1.5);

	assert_int_equal(tuf_canonical_encode(j, &buf, &len), -EINVAL);
	assert_string_equal(buf, "untouched");
	assert_int_equal(len, 42);
	json_decref(j);
	j = json_real(0.0);
	assert_int_equal(tuf_canonical_encode(j, &buf, &len), -EINVAL);
	json_decref(j);
}

static void test_null_and_deep_refused(void **state)
{
	char *buf;
	size_t len;
	json_t *j = json_array(), *inner = j;

	assert_int_equal(tuf_canonical_encode(NULL, &buf, &len), -EINVAL);
	for (int i = 0; i < 100; i++) {
		json_t *n = json_array();

		json_array_append_new(inner, n);
		inner = n;
	}
	assert_int_equal(tuf_canonical_encode(j, &buf, &len), -EINVAL);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_whitespace_removed),
		cmocka_unit_test(test_string_escapes),
		cmocka_unit_test(test_utf8_raw),
		cmocka_unit_test(test_key_order),
		cmocka_unit_test(test_targets_body),
		cmocka_unit_test(test_reals_refused),
		cmocka_unit_test(test_null_and_deep_refused),
	};

	return TEST_MAIN(tests);
}
