/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cvss.h"
#include "parse-util.h"
#include "strbuf.h"
#include "test-lib.h"

/* Every distinct vector the kernel CNA published, with its published score and severity. */
static void test_published_vectors(void **state)
{
	_cleanup_free_ char *data = NULL;
	char *line, *next;
	size_t len, n = 0;

	data = test_read_data("cvss/cvss-distinct-vectors.tsv", &len);
	for (line = data; *line; line = next) {
		char *vector = line, *score_s, *severity, *occ;
		struct cvss31 c;
		double expected, got;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		if (!*line)
			continue;
		score_s = strchr(vector, '\t');
		assert_non_null(score_s);
		*score_s++ = '\0';
		if (streq(vector, "cvss_vector"))
			continue;
		severity = strchr(score_s, '\t');
		assert_non_null(severity);
		*severity++ = '\0';
		occ = strchr(severity, '\t');
		if (occ)
			*occ = '\0';
		assert_int_equal(safe_atod(score_s, &expected), 0);

		if (cvss31_parse(vector, &c) < 0)
			fail_msg("cannot parse '%s'", vector);
		got = cvss31_base_score(&c);
		if (got != expected)
			fail_msg("'%s': computed %.1f, published %.1f", vector, got, expected);
		assert_string_equal(cvss_severity_name(got), severity);
		n++;
	}
	assert_int_equal(n, 108);
}

static void test_score_examples(void **state)
{
	static const struct {
		const char *vector;
		double score;
		const char *severity;
	} cases[] = {
		/* scope changed, PR weights switch to 0.68/0.5 */
		{ "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9, "CRITICAL" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1, "MEDIUM" },
		{ "CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 9.3, "CRITICAL" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0, "CRITICAL" },
		{ "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6, "LOW" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0, "NONE" },
		{ "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:N", 0.0, "NONE" },
		{ "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5, "HIGH" },
		/* trailing temporal and environmental metrics are ignored */
		{ "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 7.8, "HIGH" },
		{ "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/CR:H/MAV:N/MS:C/MA:X", 7.8,
		  "HIGH" },
		/* any order */
		{ "CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:L/AC:L/AV:L", 7.8, "HIGH" },
	};
	struct cvss31 c;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cvss31_parse(cases[i].vector, &c) < 0)
			fail_msg("cannot parse '%s'", cases[i].vector);
		if (cvss31_base_score(&c) != cases[i].score)
			fail_msg("'%s': computed %.1f, expected %.1f", cases[i].vector,
				 cvss31_base_score(&c), cases[i].score);
		assert_string_equal(cvss_severity_name(cvss31_base_score(&c)), cases[i].severity);
	}
}

static void test_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"CVSS:3.1",
		"CVSS:3.1/",
		"CVSS:2.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:4.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"cvss:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		" CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H ",
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/",
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H\n",
		"CVSS:3.1//AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		/* missing A */
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H",
		/* duplicate */
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/AV:N",
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/E:P/E:P",
		/* unknown metric and values */
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/XX:H",
		"CVSS:3.1/AV:X/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:L/AC:M/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:l/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:LL/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV=L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/E:Z",
		"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H/MAV:X:N",
	};
	_cleanup_strbuf_ struct strbuf huge;
	struct cvss31 c = { .minor_version = 42 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (cvss31_parse(bad[i], &c) != -EBADMSG)
			fail_msg("'%s' was not rejected with -EBADMSG", bad[i]);
		/* nothing written on failure */
		assert_int_equal(c.minor_version, 42);
	}
	assert_int_equal(cvss31_parse(NULL, &c), -EBADMSG);

	/* over-long input is refused before it is looked at */
	strbuf_init(&huge, 0);
	assert_int_equal(strbuf_adds(&huge, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"), 0);
	while (huge.len <= CVSS_VECTOR_MAX)
		assert_int_equal(strbuf_adds(&huge, "/E:X"), 0);
	assert_int_equal(cvss31_parse(huge.buf, &c), -EBADMSG);
}

static void test_names_and_format(void **state)
{
	struct cvss31 c;
	char buf[CVSS31_BASE_VECTOR_SIZE];

	assert_int_equal(cvss31_parse("CVSS:3.1/S:C/AV:A/AC:H/PR:H/UI:R/C:L/I:N/A:H/RL:W", &c), 0);
	assert_int_equal(c.minor_version, 1);
	assert_string_equal(cvss31_attack_vector_name(&c), "ADJACENT_NETWORK");
	assert_string_equal(cvss31_attack_complexity_name(&c), "HIGH");
	assert_string_equal(cvss31_privileges_required_name(&c), "HIGH");
	assert_string_equal(cvss31_user_interaction_name(&c), "REQUIRED");
	assert_string_equal(cvss31_scope_name(&c), "CHANGED");
	assert_string_equal(cvss31_confidentiality_name(&c), "LOW");
	assert_string_equal(cvss31_integrity_name(&c), "NONE");
	assert_string_equal(cvss31_availability_name(&c), "HIGH");

	assert_int_equal(cvss31_format(&c, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "CVSS:3.1/AV:A/AC:H/PR:H/UI:R/S:C/C:L/I:N/A:H");
	assert_int_equal(cvss31_format(&c, buf, sizeof(buf) - 1), -ENOBUFS);

	assert_int_equal(cvss_attack_vector_from_string("LOCAL"), CVSS_AV_LOCAL);
	assert_int_equal(cvss_attack_vector_from_string("P"), CVSS_AV_PHYSICAL);
	assert_int_equal(cvss_attack_vector_from_string("local"), -EINVAL);
	assert_int_equal(cvss_attack_vector_from_string(""), -EINVAL);
	assert_int_equal(cvss_user_interaction_from_string("R"), CVSS_UI_REQUIRED);
	assert_int_equal(cvss_scope_from_string("UNCHANGED"), CVSS_SCOPE_UNCHANGED);
	assert_int_equal(cvss_impact_from_string("H"), CVSS_IMPACT_HIGH);
	assert_int_equal(cvss_privileges_required_from_string("X"), -EINVAL);
	assert_null(cvss_attack_vector_to_string(_CVSS_AV_MAX));
	assert_null(cvss_impact_to_string(_CVSS_IMPACT_INVALID));

	/* NVD's sub-scores for the most common kernel vector */
	assert_int_equal(cvss31_parse("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", &c), 0);
	assert_true(cvss31_exploitability_score(&c) == 1.8);
	assert_true(cvss31_impact_score(&c) == 5.9);
}

static void test_severity_bands(void **state)
{
	assert_string_equal(cvss_severity_name(0.0), "NONE");
	assert_string_equal(cvss_severity_name(0.1), "LOW");
	assert_string_equal(cvss_severity_name(3.9), "LOW");
	assert_string_equal(cvss_severity_name(4.0), "MEDIUM");
	assert_string_equal(cvss_severity_name(6.9), "MEDIUM");
	assert_string_equal(cvss_severity_name(7.0), "HIGH");
	assert_string_equal(cvss_severity_name(8.9), "HIGH");
	assert_string_equal(cvss_severity_name(9.0), "CRITICAL");
	assert_string_equal(cvss_severity_name(10.0), "CRITICAL");
	assert_null(cvss_severity_name(-1));
	assert_null(cvss_severity_name(10.1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_vectors),
		cmocka_unit_test(test_score_examples),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_names_and_format),
		cmocka_unit_test(test_severity_bands),
	};

	return TEST_MAIN(tests);
}
