/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CNA record parsers on real records of every shape the scanner meets
 * (tests/data/cve-records, categories in MANIFEST.tsv), and on broken ones.
 */
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "record.h"
#include "strbuf.h"
#include "test-lib.h"

static struct cve_record *load(const char *dir, const char *id, const char *json_suffix)
{
	static const char *const sidecars[] = { ".dyad", ".sha1", ".vulnerable", ".cvss",
						".reference", ".message" };
	struct cve_record *r = cve_record_new(id);
	char path[256], err[256] = "";
	char *buf;
	size_t len;

	assert_non_null(r);
	/* Same order as the sync: pairs from the dyad win over the JSON's. */
	{
		char *p;

		snprintf(path, sizeof(path), "cve-records/%s/%s%s", dir, id, sidecars[0]);
		p = test_data_path(path);
		if (read_file_bounded(p, 0, &buf, &len) == 0) {
			assert_int_equal(cve_record_parse_dyad(r, buf, len, err, sizeof(err)), 0);
			free(buf);
		}
		free(p);
	}
	snprintf(path, sizeof(path), "cve-records/%s/%s%s", dir, id, json_suffix);
	buf = test_read_data(path, &len);
	if (cve_record_parse_json(r, buf, len, err, sizeof(err)) < 0)
		fail_msg("%s: %s", path, err);
	free(buf);
	for (size_t i = 1; i < ARRAY_SIZE(sidecars); i++) {
		char *p;
		int ret = 0;

		snprintf(path, sizeof(path), "cve-records/%s/%s%s", dir, id, sidecars[i]);
		p = test_data_path(path);
		if (read_file_bounded(p, 0, &buf, &len) == 0) {
			switch (i) {
			case 1:
				ret = cve_record_parse_sha1(r, buf, len, err, sizeof(err));
				break;
			case 2:
				ret = cve_record_parse_vulnerable(r, buf, len, err, sizeof(err));
				break;
			case 3:
				ret = cve_record_parse_cvss(r, buf, len, err, sizeof(err));
				break;
			case 4:
				ret = cve_record_parse_reference(r, buf, len);
				break;
			case 5:
				ret = cve_record_parse_message(r, buf, len);
				break;
			}
			free(buf);
			if (ret < 0)
				fail_msg("%s: %s", path, err);
		}
		free(p);
	}
	return r;
}

static const struct cve_pair *pair_fixed_in(const struct cve_record *r, const char *v)
{
	for (size_t i = 0; i < r->n_pairs; i++)
		if (r->pairs[i].fixed_version && streq(r->pairs[i].fixed_version, v))
			return &r->pairs[i];
	return NULL;
}

static void test_current_record_with_cvss(void **state)
{
	struct cve_record *r = load("2024", "CVE-2024-26730", ".json");

	assert_string_equal(r->id, "CVE-2024-26730");
	assert_non_null(r->title);
	assert_true(strncmp(r->description, "In the Linux kernel", 19) == 0);
	assert_non_null(pair_fixed_in(r, "6.1.183"));
	assert_string_equal(r->cvss_vector, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:H");
	assert_true(r->cvss_score > 7.29 && r->cvss_score < 7.31);
	assert_string_equal(r->cvss_severity, "HIGH");
	assert_true(strncmp(r->cvss_rationale, "AV:L - ", 7) == 0);
	assert_int_equal(strv_length(r->fix_commits), 1);
	assert_true(strv_length(r->program_files) >= 1);
	assert_false(r->rejected);
	cve_record_free(r);
}

static void test_kev_record_pairs(void **state)
{
	struct cve_record *r = load("2024", "CVE-2024-53104", ".json");
	const struct cve_pair *p = pair_fixed_in(r, "6.1.117");

	assert_int_equal(r->n_pairs, 9);
	assert_non_null(p);
	assert_string_equal(p->introduced_version, "2.6.26");
	assert_string_equal(p->introduced_commit, "c0efd232929c2cd87238de2cccdaf4e845be5b0c");
	assert_string_equal(p->fixed_commit, "beced2cb09b58c1243733f374c560a55382003d6");
	assert_string_equal(r->program_files[0], "drivers/media/usb/uvc/uvc_driver.c");
	assert_null(r->cvss_vector); /* the CNA did not score it */
	cve_record_free(r);
}

static void test_unknown_introduction(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-64212", ".json");
	const struct cve_pair *p = pair_fixed_in(r, "7.1");

	assert_non_null(p);
	assert_null(p->introduced_version);
	assert_null(p->introduced_commit);
	cve_record_free(r);
}

static void test_unfixed_stable_branches(void **state)
{
	/* CVE-2023-53012: only unfixed stable introductions; affected[1] has no versions. */
	struct cve_record *r = load("2023", "CVE-2023-53012", ".json");
	size_t unfixed = 0;

	for (size_t i = 0; i < r->n_pairs; i++)
		if (!r->pairs[i].fixed_version) {
			assert_null(r->pairs[i].fixed_commit);
			assert_non_null(r->pairs[i].introduced_version);
			unfixed++;
		}
	assert_true(unfixed >= 3);
	cve_record_free(r);
}

static void test_stable_backport_introduction_and_vulnerable(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-52945", ".json");
	bool stable_intro = false;

	assert_int_equal(strv_length(r->vulnerable_commits), 5);
	for (size_t i = 0; i < r->n_pairs; i++)
		if (r->pairs[i].introduced_version &&
		    strncmp(r->pairs[i].introduced_version, "6.1.", 4) == 0 &&
		    r->pairs[i].fixed_version && strncmp(r->pairs[i].fixed_version, "6.1.", 4) == 0)
			stable_intro = true;
	assert_true(stable_intro);
	cve_record_free(r);
}

static void test_multiple_fixes_message_reference(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-74578", ".json");

	assert_int_equal(strv_length(r->fix_commits), 8);
	cve_record_free(r);
	r = load("2024", "CVE-2024-26807", ".json");
	assert_true(strncmp(r->description, "Both cadence-quadspi", 20) == 0);
	cve_record_free(r);
	r = load("2021", "CVE-2021-4440", ".json");
	assert_true(strv_length(r->references) >= 2);
	cve_record_free(r);
}

static void test_historical_custom_short_commits(void **state)
{
	/* Early 2024 form: versionType "custom", 12-digit commits, no dyad, "-rc" fix. */
	struct cve_record *r = load("historical", "CVE-2024-26581", ".json@4a91b9de3cab");
	const struct cve_pair *p = pair_fixed_in(r, "6.1.78");

	assert_int_equal(r->n_pairs, 4);
	assert_non_null(p);
	assert_string_equal(p->fixed_commit, "1296c110c5a0");
	assert_non_null(pair_fixed_in(r, "6.8-rc4"));
	cve_record_free(r);
}

static void test_rejected_legacy_format(void **state)
{
	/* dataVersion 5.0 with "cveID" and versionType "custom" (CVE-2024-1086's fix). */
	struct cve_record *r = load("rejected/2024", "CVE-2024-26609", ".json");

	assert_string_equal(r->id, "CVE-2024-26609");
	assert_int_equal(r->n_pairs, 8);
	assert_non_null(pair_fixed_in(r, "6.1.76"));
	assert_string_equal(pair_fixed_in(r, "6.1.76")->introduced_version, "3.15");
	cve_record_free(r);
}

static void test_bad_dyad(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "6.1:aaaaaaaaaaaa:6.1.2\n", "line 1: expected 4 ':'-separated fields, found 3" },
		{ "# c\n6.x:aaaaaaaaaaaa:6.1.2:bbbbbbbbbbbb\n", "line 2: bad kernel version '6.x'" },
		{ "6.1:zzzzzzzzzzzz:6.1.2:bbbbbbbbbbbb\n", "line 1: bad commit id 'zzzzzzzzzzzz'" },
		{ "0:aaaaaaaaaaaa:6.1.2:bbbbbbbbbbbb\n", "line 1: version '0' and commit" },
		{ "6.1:a:b:c:d:e\n", "line 1: expected 4 ':'-separated fields, found 5" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cve_record *r = cve_record_new("CVE-2024-0001");
		char err[256] = "";

		assert_int_equal(cve_record_parse_dyad(r, cases[i].text, strlen(cases[i].text), err,
						       sizeof(err)),
				 -EBADMSG);
		if (!strstr(err, cases[i].err))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].err);
		assert_int_equal(r->n_pairs, 0);
		cve_record_free(r);
	}
}

static void test_bad_json(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
		{ "{\"cveMetadata\": {", "line 1 column" },
		{ "[1, 2]", "top level is not an object" },
		{ "{\"cveMetadata\": {\"cveId\": \"CVE-24-1\"}}", "cveMetadata.cveId missing or invalid" },
		{ "{\"cveMetadata\": {\"cveId\": \"CVE-2024-0002\"}}", "does not match file name" },
		{ "{\"cveMetadata\": {\"cveId\": \"CVE-2024-0001\"}}", "containers.cna missing" },
		{ "{\"cveMetadata\": {\"cveId\": \"CVE-2024-0001\"}, \"containers\": {\"cna\": "
		  "{\"descriptions\": [{\"lang\": \"en\", \"value\": \"x\"}], \"affected\": [{"
		  "\"versions\": [{\"version\": \"1\", \"status\": \"affected\", \"versionType\": "
		  "\"svn\"}]}]}}}",
		  "affected[0].versions[0]: unknown versionType 'svn'" },
		{ "{\"cveMetadata\": {\"cveId\": \"CVE-2024-0001\"}, \"containers\": {\"cna\": "
		  "{\"descriptions\": [{\"lang\": \"de\", \"value\": \"x\"}]}}}",
		  "no English text" },
		{ "{\"cveMetadata\": {\"cveId\": \"CVE-2024-0001\", \"cveId\": \"CVE-2024-0001\"}}",
		  "duplicate" },
		{ "{\"cveMetadata\": {\"cveId\": \"CVE-2024-0001\"}, \"containers\": {\"cna\": "
		  "{\"descriptions\": [{\"lang\": \"en\", \"value\": \"x\"}], \"metrics\": [{"
		  "\"cvssV3_1\": {\"vectorString\": \"CVSS:3.1/AV:Q\"}}]}}}",
		  "bad CVSS vector" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct cve_record *r = cve_record_new("CVE-2024-0001");
		char err[256] = "";

		assert_int_equal(cve_record_parse_json(r, cases[i].text, strlen(cases[i].text), err,
						       sizeof(err)),
				 -EBADMSG);
		if (!strstr(err, cases[i].err))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].err);
		cve_record_free(r);
	}
}

static void test_bad_sidecars(void **state)
{
	struct cve_record *r = cve_record_new("CVE-2024-0001");
	char err[256] = "";

	assert_int_equal(cve_record_parse_sha1(r, "not-a-sha\n", 10, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 1: bad commit id"));
	assert_int_equal(cve_record_parse_cvss(r, "org CVSS:3.1/AV:N\n", 18, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "bad CVSS vector"));
	/* Several ids on a line and abbreviations are fine. */
	assert_int_equal(cve_record_parse_vulnerable(r, "abcdef1 0123456789ab\n", 21, err, sizeof(err)), 0);
	assert_int_equal(strv_length(r->vulnerable_commits), 2);
	/* A .message with invalid UTF-8 is kept, the bad byte replaced. */
	assert_int_equal(cve_record_parse_message(r, "bad \xff byte\n", 11), 0);
	assert_string_equal(r->description, "bad \xef\xbf\xbd byte");
	cve_record_free(r);
}

static void test_kernel_versions(void **state)
{
	static const char *const ordered[] = { "2.6.12", "2.6.26", "2.6.32.71", "3.18",
					       "6.1",    "6.1.1",  "6.1.183",   "6.8-rc3",
					       "6.8-rc4", "6.8",   "6.8.1",     "7.2" };
	struct kernel_version a, b;

	for (size_t i = 0; i + 1 < ARRAY_SIZE(ordered); i++) {
		assert_int_equal(kernel_version_parse(ordered[i], &a), 0);
		assert_int_equal(kernel_version_parse(ordered[i + 1], &b), 0);
		if (kernel_version_cmp(&a, &b) >= 0)
			fail_msg("%s should sort before %s", ordered[i], ordered[i + 1]);
		assert_true(kernel_version_cmp(&b, &a) > 0);
		assert_int_equal(kernel_version_cmp(&a, &a), 0);
	}
	assert_int_equal(kernel_version_parse("6", &a), -EINVAL);
	assert_int_equal(kernel_version_parse("6.1.", &a), -EINVAL);
	assert_int_equal(kernel_version_parse("6.1-rc", &a), -EINVAL);
	assert_int_equal(kernel_version_parse("1.2.3.4.5", &a), -EINVAL);
	assert_int_equal(kernel_version_parse("v6.1", &a), -EINVAL);
	assert_int_equal(kernel_version_parse("99999999.1", &a), -ERANGE);
}

static void test_cve_ids(void **state)
{
	assert_true(cve_id_valid("CVE-2024-53104"));
	assert_true(cve_id_valid("CVE-2021-4440"));
	assert_false(cve_id_valid("CVE-2021-444"));
	assert_false(cve_id_valid("CVE-21-4440"));
	assert_false(cve_id_valid("CVE-2021-4440.json"));
	assert_false(cve_id_valid("cve-2021-4440"));
	assert_false(cve_id_valid("CVE-2021-12345678901234567890"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_current_record_with_cvss),
		cmocka_unit_test(test_kev_record_pairs),
		cmocka_unit_test(test_unknown_introduction),
		cmocka_unit_test(test_unfixed_stable_branches),
		cmocka_unit_test(test_stable_backport_introduction_and_vulnerable),
		cmocka_unit_test(test_multiple_fixes_message_reference),
		cmocka_unit_test(test_historical_custom_short_commits),
		cmocka_unit_test(test_rejected_legacy_format),
		cmocka_unit_test(test_bad_dyad),
		cmocka_unit_test(test_bad_json),
		cmocka_unit_test(test_bad_sidecars),
		cmocka_unit_test(test_kernel_versions),
		cmocka_unit_test(test_cve_ids),
	};

	return TEST_MAIN(tests);
}
