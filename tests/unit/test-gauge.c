/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applicability gauge on real records of every category in
 * tests/data/cve-records/MANIFEST.tsv (each expectation checked against the
 * record's .dyad), on synthetic records for the shapes the real ones lack,
 * and on build profiles made here.
 */
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "gauge.h"
#include "strbuf.h"
#include "test-lib.h"

/*
 * Loads dir/id.{dyad,json}<suffix> the way the sync does: pairs from the
 * dyad win over the JSON's.  Records under rejected/ are marked so, as the
 * sync does from the directory.
 */
static struct cve_record *load(const char *dir, const char *id, const char *suffix)
{
	struct cve_record *r = cve_record_new(id);
	char path[256], err[256] = "";
	char *buf, *p;
	size_t len;

	assert_non_null(r);
	snprintf(path, sizeof(path), "cve-records/%s/%s.dyad%s", dir, id, suffix);
	p = test_data_path(path);
	if (read_file_bounded(p, 0, &buf, &len) == 0) {
		if (cve_record_parse_dyad(r, buf, len, err, sizeof(err)) < 0)
			fail_msg("%s: %s", path, err);
		free(buf);
	}
	free(p);
	snprintf(path, sizeof(path), "cve-records/%s/%s.json%s", dir, id, suffix);
	buf = test_read_data(path, &len);
	if (cve_record_parse_json(r, buf, len, err, sizeof(err)) < 0)
		fail_msg("%s: %s", path, err);
	free(buf);
	if (strncmp(dir, "rejected/", 9) == 0)
		r->rejected = true;
	return r;
}

/*
 * A record from "intro:fix" strings ("0" = unknown / unfixed) and a NULL-ended
 * file list (may be NULL).
 */
static struct cve_record *synth(const char *const *pairs, const char *const *files)
{
	struct cve_record *r = cve_record_new("CVE-2099-0001");

	assert_non_null(r);
	for (; pairs && *pairs; pairs++) {
		char buf[64], *fix;

		snprintf(buf, sizeof(buf), "%s", *pairs);
		fix = strchr(buf, ':');
		assert_non_null(fix);
		*fix++ = '\0';
		assert_int_equal(cve_record_add_pair(r, streq(buf, "0") ? NULL : buf,
						     streq(buf, "0") ? NULL : "0123456789ab",
						     streq(fix, "0") ? NULL : fix,
						     streq(fix, "0") ? NULL : "ba9876543210"),
				 0);
	}
	for (; files && *files; files++)
		assert_int_equal(strv_push(&r->program_files, *files), 0);
	return r;
}

static struct gauge_verdict check(const struct cve_record *r, const char *kver,
				  const struct kernel_profile *profile, enum gauge_state want,
				  const char *reason_part)
{
	struct gauge_kernel k;
	struct gauge_verdict v;

	assert_int_equal(gauge_kernel_init(&k, kver, profile), 0);
	assert_int_equal(gauge_evaluate(&k, r, &v), 0);
	if (v.state != want)
		fail_msg("%s at %s: %s, expected %s (%s)", r->id, kver,
			 gauge_state_to_string(v.state), gauge_state_to_string(want), v.reason);
	if (reason_part && !strstr(v.reason, reason_part))
		fail_msg("%s at %s: reason '%s' lacks '%s'", r->id, kver, v.reason, reason_part);
	assert_true(v.reason[0] != '\0');
	return v;
}

#define CHECK(r, kver, want, part) check((r), (kver), NULL, (want), (part))

static void test_state_names(void **state)
{
	for (int s = 0; s < _GAUGE_STATE_MAX; s++)
		assert_int_equal(gauge_state_from_string(gauge_state_to_string(s)), s);
	assert_string_equal(gauge_state_to_string(GAUGE_NOT_COMPILED), "not-compiled");
	assert_int_equal(gauge_state_from_string("not-affected"), GAUGE_NOT_AFFECTED);
	assert_int_equal(gauge_state_from_string("vulnerable"), _GAUGE_STATE_INVALID);
	assert_int_equal(gauge_state_from_string(NULL), _GAUGE_STATE_INVALID);
	assert_null(gauge_state_to_string(_GAUGE_STATE_MAX));
	assert_null(gauge_state_to_string(_GAUGE_STATE_INVALID));
}

static void test_kernel_init(void **state)
{
	struct gauge_kernel k;

	assert_int_equal(gauge_kernel_init(&k, "6.1.190", NULL), 0);
	assert_true(k.stable);
	assert_int_equal(k.base.part[0], 6);
	assert_int_equal(k.base.part[1], 1);
	assert_int_equal(k.base.part[2], 0);
	assert_int_equal(gauge_kernel_init(&k, "6.8-rc3", NULL), 0);
	assert_false(k.stable);
	assert_int_equal(k.base.rc, 3);
	assert_int_equal(gauge_kernel_init(&k, "2.6.32.71", NULL), 0);
	assert_true(k.stable);
	assert_int_equal(k.base.part[2], 32);
	assert_int_equal(gauge_kernel_init(&k, "2.6.32", NULL), 0);
	assert_false(k.stable);
	assert_int_equal(gauge_kernel_init(&k, "6.1.190-generic", NULL), -EINVAL);
	assert_int_equal(gauge_kernel_init(&k, "6", NULL), -EINVAL);
	assert_int_equal(gauge_kernel_init(&k, "", NULL), -EINVAL);
	assert_int_equal(gauge_kernel_init(&k, NULL, NULL), -EINVAL);
	assert_int_equal(gauge_kernel_init(&k, "6.1.11111111111111111111111111111111", NULL),
			 -EINVAL);
}

/* A: 4.18:…:6.1.183 (CVE-2026-64563); same-version 6.1.183 pair (CVE-2024-26730). */
static void test_fixed_6_1_183(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-64563", "");

	CHECK(r, "6.1.190", GAUGE_FIXED, "fixed in 6.1.183 (6.1 branch), kernel is 6.1.190");
	CHECK(r, "6.1.183", GAUGE_FIXED, NULL);
	CHECK(r, "6.1.170", GAUGE_AFFECTED,
	      "affected since 4.18; "
	      "fixed in 6.1.183 on the 6.1 branch, after this kernel's 6.1.170");
	CHECK(r, "4.17.19", GAUGE_NOT_AFFECTED, "introduced in 4.18, after this kernel's 4.17.19");
	CHECK(r, "7.2", GAUGE_FIXED, "fixed in 7.2 (mainline)");
	cve_record_free(r);

	/* 6.1.183:6.1.183 plus a 6.6 mainline introduction. */
	r = load("2024", "CVE-2024-26730", "");
	CHECK(r, "6.1.183", GAUGE_FIXED, "introduced and fixed in 6.1.183 (6.1 branch)");
	CHECK(r, "6.1.190", GAUGE_FIXED, NULL);
	CHECK(r, "6.1.182", GAUGE_NOT_AFFECTED, "introduced in 6.1.183 on the 6.1 branch");
	CHECK(r, "6.6.10", GAUGE_AFFECTED, "fixed in 6.6.19 on the 6.6 branch");
	CHECK(r, "6.6.19", GAUGE_FIXED, NULL);
	cve_record_free(r);
}

/* B: 5.7:…:6.1.180 (CVE-2026-64560); 6.1.44 backport fixed in 6.1.182 (CVE-2026-68480). */
static void test_fixed_6_1_182_180(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-64560", "");

	CHECK(r, "6.1.179", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.1.180", GAUGE_FIXED, "fixed in 6.1.180");
	cve_record_free(r);

	r = load("2026", "CVE-2026-68480", "");
	CHECK(r, "6.1.43", GAUGE_NOT_AFFECTED, "introduced in 6.1.44 on the 6.1 branch");
	CHECK(r, "6.1.100", GAUGE_AFFECTED, "affected since 6.1.44 (backport to the 6.1 branch)");
	CHECK(r, "6.1.182", GAUGE_FIXED, "fixed in 6.1.182");
	/* 6.4.9:0:0, an unfixed backport on an EOL branch. */
	CHECK(r, "6.4.12", GAUGE_AFFECTED,
	      "no fix recorded for the 6.4 branch (mainline fix in 7.2)");
	CHECK(r, "6.4.8", GAUGE_NOT_AFFECTED, NULL);
	/* 6.5 (mainline) is in 6.5.3 and no 6.5.y fix exists. */
	CHECK(r, "6.5.3", GAUGE_AFFECTED,
	      "no fix recorded for the 6.5 branch (mainline fix in 7.2)");
	cve_record_free(r);
}

/* C: 3.0:…:6.1.178 (CVE-2024-36013). */
static void test_fixed_6_1_178(void **state)
{
	struct cve_record *r = load("2024", "CVE-2024-36013", "");

	CHECK(r, "6.1.177", GAUGE_AFFECTED, "affected since 3.0");
	CHECK(r, "6.1.178", GAUGE_FIXED, "fixed in 6.1.178 (6.1 branch)");
	CHECK(r, "2.6.39.4", GAUGE_NOT_AFFECTED, "introduced in 3.0");
	CHECK(r, "6.9", GAUGE_FIXED, "fixed in 6.9 (mainline)");
	cve_record_free(r);
}

/* D: 5.12 introduction, fixed only on 6.12+ (CVE-2026-22996). */
static void test_affected_unfixed(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-22996", "");

	CHECK(r, "6.1.190", GAUGE_AFFECTED,
	      "affected since 5.12; no fix recorded for the 6.1 branch (mainline fix in 6.19)");
	CHECK(r, "5.11.22", GAUGE_NOT_AFFECTED, "introduced in 5.12");
	CHECK(r, "6.12.67", GAUGE_FIXED, NULL);
	CHECK(r, "6.12.66", GAUGE_AFFECTED, "fixed in 6.12.67 on the 6.12 branch");
	cve_record_free(r);
}

/* E: introduced in 6.7 (CVE-2026-22981). */
static void test_introduced_later(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-22981", "");

	CHECK(r, "6.1.190", GAUGE_NOT_AFFECTED, "introduced in 6.7, after this kernel's 6.1.190");
	CHECK(r, "6.7", GAUGE_AFFECTED, "fixed in 6.19, after this kernel's 6.7");
	cve_record_free(r);
}

/* F: 6.1.142 backport fixed in 6.1.164, other branches alike (CVE-2026-52945). */
static void test_stable_backport_regression(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-52945", "");

	CHECK(r, "6.1.141", GAUGE_NOT_AFFECTED,
	      "introduced in 6.1.142 on the 6.1 branch, after this kernel's 6.1.141");
	CHECK(r, "6.1.142", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.1.150", GAUGE_AFFECTED, "fixed in 6.1.164 on the 6.1 branch");
	CHECK(r, "6.1.164", GAUGE_FIXED, NULL);
	CHECK(r, "6.1.190", GAUGE_FIXED, "fixed in 6.1.164 (6.1 branch), kernel is 6.1.190");
	CHECK(r, "6.15.3", GAUGE_AFFECTED, NULL); /* 6.15.3:0:0 */
	/* Only stable backports carry the bug: mainline never did. */
	CHECK(r, "6.16", GAUGE_NOT_AFFECTED, "introduced only by backports");
	CHECK(r, "5.10.240", GAUGE_NOT_AFFECTED, NULL);
	cve_record_free(r);
}

/* G: same-version pairs on every branch plus unfixed 5.10/5.15 backports (CVE-2026-64257). */
static void test_same_version_pairs(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-64257", "");

	CHECK(r, "6.1.177", GAUGE_NOT_AFFECTED, NULL);
	CHECK(r, "6.1.178", GAUGE_FIXED, "introduced and fixed in 6.1.178");
	CHECK(r, "6.1.190", GAUGE_FIXED, NULL);
	CHECK(r, "7.2", GAUGE_FIXED, "introduced and fixed in 7.2 (mainline)");
	CHECK(r, "5.15.212", GAUGE_AFFECTED, NULL);
	CHECK(r, "5.15.211", GAUGE_NOT_AFFECTED, NULL);
	cve_record_free(r);

	/* 6.1.116:0:0, unfixed 6.1 backport of a 6.3 bug (CVE-2023-52490). */
	r = load("2023", "CVE-2023-52490", "");
	CHECK(r, "6.1.190", GAUGE_AFFECTED, "affected since 6.1.116");
	CHECK(r, "6.1.115", GAUGE_NOT_AFFECTED, NULL);
	CHECK(r, "6.8", GAUGE_FIXED, NULL);
	cve_record_free(r);
}

/* H: introduction unknown (0:0) (CVE-2026-64212). */
static void test_unknown_introduction(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-64212", "");

	CHECK(r, "6.1.190", GAUGE_AFFECTED,
	      "affected since an unknown release; "
	      "no fix recorded for the 6.1 branch (mainline fix in 7.1)");
	CHECK(r, "6.18.33", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.18.34", GAUGE_FIXED, NULL);
	CHECK(r, "7.1", GAUGE_FIXED, NULL);
	CHECK(r, "2.6.32.71", GAUGE_AFFECTED, NULL);
	cve_record_free(r);
}

/* H: older revisions: "custom" JSON without a dyad, and an -rc fix in a dyad. */
static void test_historical_revisions(void **state)
{
	/* Pairs come from the JSON: no introduction marker, fixes 6.1.78 … 6.8-rc4. */
	struct cve_record *r = load("historical", "CVE-2024-26581", "@4a91b9de3cab");

	CHECK(r, "6.1.77", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.1.78", GAUGE_FIXED, NULL);
	CHECK(r, "6.8-rc3", GAUGE_AFFECTED, "fixed in 6.8-rc4, after this kernel's 6.8-rc3");
	CHECK(r, "6.8-rc4", GAUGE_FIXED, NULL);
	CHECK(r, "6.8.2", GAUGE_FIXED, NULL);
	cve_record_free(r);

	/* 2.6.36 introduction, mainline fix recorded as 6.16-rc2 at that time. */
	r = load("historical", "CVE-2025-38352", "@f2cc7badf88c");
	CHECK(r, "6.16-rc1", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.16-rc2", GAUGE_FIXED, "fixed in 6.16-rc2 (mainline)");
	CHECK(r, "6.1.141", GAUGE_AFFECTED, "affected since 2.6.36");
	CHECK(r, "6.1.142", GAUGE_FIXED, NULL);
	CHECK(r, "2.6.35.14", GAUGE_NOT_AFFECTED, NULL);
	cve_record_free(r);
}

/* I: pairs built from a .vulnerable override (CVE-2026-22984: 5.11, 6.1.161). */
static void test_vulnerable_override(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-22984", "");

	CHECK(r, "6.1.160", GAUGE_AFFECTED, "affected since 5.11");
	CHECK(r, "6.1.161", GAUGE_FIXED, NULL);
	CHECK(r, "5.10.240", GAUGE_NOT_AFFECTED, NULL);
	cve_record_free(r);
}

/* J: .reference records; CVE-2021-4440 is a 5.10-only backport bug. */
static void test_reference_records(void **state)
{
	struct cve_record *r = load("2021", "CVE-2021-4440", "");

	CHECK(r, "5.10.216", GAUGE_AFFECTED, NULL);
	CHECK(r, "5.10.218", GAUGE_FIXED, NULL);
	CHECK(r, "5.10.214", GAUGE_NOT_AFFECTED, NULL);
	CHECK(r, "6.1.190", GAUGE_NOT_AFFECTED, NULL);
	cve_record_free(r);

	r = load("2024", "CVE-2024-50264", "");
	CHECK(r, "6.1.116", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.1.117", GAUGE_FIXED, NULL);
	cve_record_free(r);
}

/* K: several fix commits; CVE-2022-50380 was fixed in mainline 6.1 itself. */
static void test_multiple_fix_commits(void **state)
{
	struct cve_record *r = load("2022", "CVE-2022-50380", "");

	CHECK(r, "6.1.190", GAUGE_FIXED, "fixed in 6.1 (mainline), kernel is 6.1.190");
	CHECK(r, "6.1", GAUGE_FIXED, NULL);
	/* An -rc of 6.1 predates the 6.1 release that has the fix. */
	CHECK(r, "6.1-rc3", GAUGE_AFFECTED, "fixed in 6.1, after this kernel's 6.1-rc3");
	CHECK(r, "6.0.5", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.0.6", GAUGE_FIXED, NULL);
	cve_record_free(r);

	r = load("2026", "CVE-2026-74578", "");
	CHECK(r, "6.1.177", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.1.178", GAUGE_FIXED, NULL);
	cve_record_free(r);
}

/* L: CVE-2024-53104 (KEV): 2.6.26 introduction, uvc_driver.c. */
static void test_kev_record(void **state)
{
	struct cve_record *r = load("2024", "CVE-2024-53104", "");
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_LIST, false);
	struct gauge_verdict v;

	CHECK(r, "6.1.116", GAUGE_AFFECTED, "affected since 2.6.26");
	CHECK(r, "6.1.117", GAUGE_FIXED, "fixed in 6.1.117 (6.1 branch), kernel is 6.1.117");
	CHECK(r, "2.6.25.20", GAUGE_NOT_AFFECTED, "introduced in 2.6.26");
	CHECK(r, "2.6.32.71", GAUGE_AFFECTED, "no fix recorded for the 2.6.32 branch");

	assert_non_null(p);
	assert_int_equal(kernel_profile_add(p, "drivers/media/usb/uvc/uvc_driver.c",
					    PROFILE_MODULE),
			 0);
	v = check(r, "6.1.100", p, GAUGE_AFFECTED, "drivers/media/usb/uvc/uvc_driver.c (module)");
	assert_int_equal(v.compiled_flags, PROFILE_MODULE);
	cve_record_free(r);
}

/* M: .message record (CVE-2024-26807): 6.1.28 backport fixed in 6.1.140. */
static void test_message_record(void **state)
{
	struct cve_record *r = load("2024", "CVE-2024-26807", "");

	CHECK(r, "6.1.27", GAUGE_NOT_AFFECTED, NULL);
	CHECK(r, "6.1.100", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.1.140", GAUGE_FIXED, NULL);
	CHECK(r, "5.15.111", GAUGE_AFFECTED, NULL);
	CHECK(r, "5.15.110", GAUGE_NOT_AFFECTED, NULL);
	CHECK(r, "6.8", GAUGE_FIXED, NULL);
	cve_record_free(r);
}

/*
 * O: CVE-2023-53012, no versions in the semver product: same-version pairs
 * plus unfixed backports (6.1.2:0:0 beside 6.1.9:6.1.9).
 */
static void test_product_without_versions(void **state)
{
	struct cve_record *r = load("2023", "CVE-2023-53012", "");

	CHECK(r, "6.1.1", GAUGE_NOT_AFFECTED, NULL);
	CHECK(r, "6.1.5", GAUGE_AFFECTED, "affected since 6.1.2");
	/* Rule 3: the 6.1.9 fix also follows the 6.1.2 introduction. */
	CHECK(r, "6.1.9", GAUGE_FIXED, NULL);
	CHECK(r, "6.2", GAUGE_FIXED, "introduced and fixed in 6.2 (mainline)");
	CHECK(r, "6.0.16", GAUGE_AFFECTED, NULL);
	CHECK(r, "5.15.91", GAUGE_FIXED, NULL);
	cve_record_free(r);
}

/* P: mainline 5.12 plus backports to older branches (CVE-2023-53437). */
static void test_mixed_introductions(void **state)
{
	struct cve_record *r = load("2023", "CVE-2023-53437", "");

	CHECK(r, "6.1.17", GAUGE_AFFECTED, "affected since 5.12");
	CHECK(r, "6.1.18", GAUGE_FIXED, NULL);
	CHECK(r, "5.11.10", GAUGE_AFFECTED, "affected since 5.11.4");
	CHECK(r, "5.11.3", GAUGE_NOT_AFFECTED, NULL);
	CHECK(r, "4.9.300", GAUGE_AFFECTED, NULL);
	CHECK(r, "4.14.308", GAUGE_FIXED, NULL);
	/* An EOL branch the CNA does not list: the 5.12 introduction applies. */
	CHECK(r, "5.16.5", GAUGE_AFFECTED,
	      "no fix recorded for the 5.16 branch (mainline fix in 6.3)");
	cve_record_free(r);
}

/* Q: fixed only in 7.1.4, no mainline fix recorded (CVE-2026-68086). */
static void test_fixed_only_in_stable(void **state)
{
	struct cve_record *r = load("2026", "CVE-2026-68086", "");

	CHECK(r, "7.1.4", GAUGE_FIXED, NULL);
	CHECK(r, "7.1.3", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.1.190", GAUGE_AFFECTED, "no fix recorded for the 6.1 branch or mainline");
	CHECK(r, "7.2", GAUGE_AFFECTED, "no fix recorded in mainline");
	CHECK(r, "5.3.18", GAUGE_NOT_AFFECTED, NULL);
	cve_record_free(r);
}

/* R: rejected records, one in the legacy format. */
static void test_rejected(void **state)
{
	struct cve_record *r = load("rejected/2026", "CVE-2026-23320", "");

	CHECK(r, "6.1.190", GAUGE_NOT_AFFECTED, "rejected");
	cve_record_free(r);
	r = load("rejected/2024", "CVE-2024-26609", "");
	CHECK(r, "6.1.50", GAUGE_NOT_AFFECTED, "rejected");
	cve_record_free(r);
}

/* S: stable-only bug, 6.4.5 → 6.4.10 plus a 6.5 same-version pair (CVE-2023-54223). */
static void test_stable_only(void **state)
{
	struct cve_record *r = load("2023", "CVE-2023-54223", "");

	CHECK(r, "6.4.4", GAUGE_NOT_AFFECTED, NULL);
	CHECK(r, "6.4.7", GAUGE_AFFECTED, NULL);
	CHECK(r, "6.4.10", GAUGE_FIXED, NULL);
	CHECK(r, "6.5.2", GAUGE_FIXED, "introduced and fixed in 6.5");
	CHECK(r, "6.1.190", GAUGE_NOT_AFFECTED, NULL);
	cve_record_free(r);
}

/* CVE-2025-38585's shape: fixed in 4.18, re-introduced in 5.8, no 6.1 fix. */
static void test_reintroduction(void **state)
{
	static const char *const pairs[] = { "4.12:4.18", "5.8:6.12.42", "5.8:6.15.10",
					     "5.8:6.16.1", "5.8:6.17", NULL };
	struct cve_record *r = synth(pairs, NULL);

	CHECK(r, "6.1.190", GAUGE_AFFECTED,
	      "affected since 5.8 (re-introduced after the fix in 4.18); "
	      "no fix recorded for the 6.1 branch (mainline fix in 6.17)");
	CHECK(r, "5.4.200", GAUGE_FIXED, "fixed in 4.18 (mainline)");
	CHECK(r, "4.17.3", GAUGE_AFFECTED, "affected since 4.12");
	CHECK(r, "6.12.42", GAUGE_FIXED, "fixed in 6.12.42 (6.12 branch)");
	CHECK(r, "4.11.12", GAUGE_NOT_AFFECTED, NULL);
	cve_record_free(r);
}

static void test_eol_branch(void **state)
{
	static const char *const pairs[] = { "5.10:5.10.100", "5.10:5.15.30", "5.10:5.17", NULL };
	struct cve_record *r = synth(pairs, NULL);

	CHECK(r, "5.16.10", GAUGE_AFFECTED,
	      "affected since 5.10; no fix recorded for the 5.16 branch (mainline fix in 5.17)");
	CHECK(r, "5.15.30", GAUGE_FIXED, NULL);
	CHECK(r, "5.17.1", GAUGE_FIXED, NULL);
	cve_record_free(r);
}

static void test_rc_kernel(void **state)
{
	static const char *const pairs[] = { "6.1:6.7.5", "6.1:6.8", NULL };
	static const char *const later[] = { "6.8:6.9", NULL };
	struct cve_record *r = synth(pairs, NULL);

	CHECK(r, "6.8-rc3", GAUGE_AFFECTED, "fixed in 6.8, after this kernel's 6.8-rc3");
	CHECK(r, "6.8", GAUGE_FIXED, NULL);
	CHECK(r, "6.7.5", GAUGE_FIXED, NULL);
	CHECK(r, "6.1-rc7", GAUGE_NOT_AFFECTED, "introduced in 6.1, after this kernel's 6.1-rc7");
	cve_record_free(r);

	r = synth(later, NULL);
	CHECK(r, "6.8-rc3", GAUGE_NOT_AFFECTED, "introduced in 6.8, after this kernel's 6.8-rc3");
	CHECK(r, "6.8.1", GAUGE_AFFECTED, NULL);
	cve_record_free(r);
}

static void test_2_6_versions(void **state)
{
	static const char *const pairs[] = { "2.6.26:2.6.32.60", "2.6.26:3.2.50", "2.6.26:3.4",
					     NULL };
	struct cve_record *r = synth(pairs, NULL);

	CHECK(r, "2.6.32.71", GAUGE_FIXED, "fixed in 2.6.32.60 (2.6.32 branch)");
	CHECK(r, "2.6.32.59", GAUGE_AFFECTED, "fixed in 2.6.32.60 on the 2.6.32 branch");
	CHECK(r, "2.6.32", GAUGE_AFFECTED, NULL);
	CHECK(r, "2.6.25.20", GAUGE_NOT_AFFECTED, "introduced in 2.6.26");
	CHECK(r, "2.6.33.5", GAUGE_AFFECTED, "no fix recorded for the 2.6.33 branch");
	CHECK(r, "3.0.80", GAUGE_AFFECTED, NULL);
	CHECK(r, "3.4", GAUGE_FIXED, NULL);
	cve_record_free(r);
}

/* CVE-2021-47645's dyad: 5.10:…:5.2:… beside proper stable fixes. */
static void test_fix_before_introduction(void **state)
{
	static const char *const pairs[] = { "5.10:5.2", "5.10:5.10.110", "5.10:5.15.33",
					     "5.10:5.16.19", "5.10:5.17.2", NULL };
	struct cve_record *r = synth(pairs, NULL);

	CHECK(r, "6.1.190", GAUGE_UNKNOWN, "pair 5.10:5.2 puts the fix before the introduction");
	CHECK(r, "5.10.50", GAUGE_UNKNOWN, NULL);
	CHECK(r, "5.10.110", GAUGE_FIXED, NULL);
	/* Both readings agree before 5.10. */
	CHECK(r, "5.4.100", GAUGE_NOT_AFFECTED, NULL);
	cve_record_free(r);
}

static void test_no_version_data(void **state)
{
	static const char *const files[] = { "tools/perf/builtin-top.c", NULL };
	static const char *const bad[] = { "6.1.x:6.2", NULL };
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_LIST, false);
	struct cve_record *r = synth(NULL, NULL);

	CHECK(r, "6.1.190", GAUGE_UNKNOWN, "no version data");
	cve_record_free(r);
	/* Not being built settles it even without versions. */
	r = synth(NULL, files);
	check(r, "6.1.190", p, GAUGE_NOT_COMPILED,
	      "the fix touches only tools/Documentation/samples");
	cve_record_free(r);
	r = synth(bad, NULL);
	CHECK(r, "6.1.190", GAUGE_UNKNOWN, "'6.1.x' is not a kernel version");
	cve_record_free(r);
}

static void test_compiled_files(void **state)
{
	static const char *const pairs[] = { "5.10:0", NULL };
	static const char *const src[] = { "drivers/a/builtin.c", "drivers/a/mod.c",
					   "tools/testing/selftests/a/test.c", NULL };
	static const char *const absent[] = { "drivers/b/x.c", "drivers/b/y.c", NULL };
	static const char *const tools[] = { "tools/bpf/bpftool/prog.c", "Documentation/a.rst",
					     "samples/bpf/x.c", "scripts/checkpatch.pl", NULL };
	static const char *const selftest[] = { "kernel/bpf/verifier.c",
						"tools/testing/selftests/bpf/progs/x.c",
						"lib/selftests/y.c", NULL };
	static const char *const header[] = { "include/linux/hugetlb.h", NULL };
	static const char *const header_and_c[] = { "include/linux/hugetlb.h", "mm/unbuilt.c",
						    NULL };
	_cleanup_(kernel_profile_freep) struct kernel_profile *nohdr =
		kernel_profile_new(PROFILE_SOURCE_DRY_RUN, false);
	_cleanup_(kernel_profile_freep) struct kernel_profile *hdr =
		kernel_profile_new(PROFILE_SOURCE_BUILD_DIR, true);
	struct gauge_verdict v;
	struct cve_record *r;

	assert_non_null(nohdr);
	assert_non_null(hdr);
	assert_int_equal(kernel_profile_add(nohdr, "drivers/a/builtin.c", PROFILE_BUILTIN), 0);
	assert_int_equal(kernel_profile_add(nohdr, "drivers/a/mod.c", PROFILE_MODULE), 0);
	assert_int_equal(kernel_profile_add(nohdr, "kernel/bpf/verifier.c", PROFILE_BUILTIN), 0);
	assert_int_equal(kernel_profile_add(hdr, "drivers/a/mod.c", PROFILE_MODULE), 0);
	assert_int_equal(kernel_profile_add(hdr, "include/linux/mm.h", PROFILE_HEADER), 0);

	/* Built-in and module both matched. */
	r = synth(pairs, src);
	v = check(r, "6.1.190", nohdr, GAUGE_AFFECTED,
		  "; compiled: drivers/a/builtin.c (built-in), drivers/a/mod.c (module)");
	assert_int_equal(v.compiled_flags, PROFILE_BUILTIN | PROFILE_MODULE);
	v = check(r, "6.1.190", hdr, GAUGE_AFFECTED, "drivers/a/mod.c (module)");
	assert_int_equal(v.compiled_flags, PROFILE_MODULE);
	/* Not affected by version: the profile does not matter. */
	v = check(r, "5.9.16", nohdr, GAUGE_NOT_AFFECTED, NULL);
	assert_int_equal(v.compiled_flags, 0);
	/* No profile: affected by version alone. */
	v = check(r, "6.1.190", NULL, GAUGE_AFFECTED, "; no build profile");
	assert_int_equal(v.compiled_flags, 0);
	cve_record_free(r);

	r = synth(pairs, absent);
	check(r, "6.1.190", nohdr, GAUGE_NOT_COMPILED,
	      "affected since 5.10; no fix recorded for the 6.1 branch or mainline; "
	      "none of drivers/b/x.c, drivers/b/y.c is compiled");
	cve_record_free(r);

	r = synth(pairs, tools);
	check(r, "6.1.190", hdr, GAUGE_NOT_COMPILED,
	      "the fix touches only tools/Documentation/samples");
	cve_record_free(r);

	/* Selftests are ignored; the one real file decides. */
	r = synth(pairs, selftest);
	v = check(r, "6.1.190", nohdr, GAUGE_AFFECTED, "kernel/bpf/verifier.c (built-in)");
	assert_int_equal(v.compiled_flags, PROFILE_BUILTIN);
	check(r, "6.1.190", hdr, GAUGE_NOT_COMPILED, "none of kernel/bpf/verifier.c is compiled");
	cve_record_free(r);

	/* Header-only fix: known to a header-aware profile, unknown otherwise. */
	r = synth(pairs, header);
	v = check(r, "6.1.190", nohdr, GAUGE_UNKNOWN,
		  "header include/linux/hugetlb.h may be included by compiled files; "
		  "this profile does not list headers");
	assert_true(v.unknown_header);
	v = check(r, "6.1.190", hdr, GAUGE_NOT_COMPILED, "none of include/linux/hugetlb.h");
	assert_false(v.unknown_header);
	assert_int_equal(kernel_profile_add(hdr, "include/linux/hugetlb.h", PROFILE_HEADER), 0);
	v = check(r, "6.1.190", hdr, GAUGE_AFFECTED, "include/linux/hugetlb.h (included)");
	assert_int_equal(v.compiled_flags, 0);
	/* Fixed kernels are fixed whatever the headers. */
	v = check(r, "5.9.1", nohdr, GAUGE_NOT_AFFECTED, NULL);
	assert_false(v.unknown_header);
	cve_record_free(r);

	/* A header beside an unbuilt .c is still undecidable without header data. */
	r = synth(pairs, header_and_c);
	v = check(r, "6.1.190", nohdr, GAUGE_UNKNOWN, "header include/linux/hugetlb.h");
	assert_true(v.unknown_header);
	cve_record_free(r);
}

static void test_long_file_list_truncated(void **state)
{
	static const char *const pairs[] = { "5.10:0", NULL };
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_LIST, false);
	struct cve_record *r = synth(pairs, NULL);
	struct gauge_verdict v;

	for (int i = 0; i < 40; i++) {
		char path[64];

		snprintf(path, sizeof(path), "drivers/some/long/path/file-%02d.c", i);
		assert_int_equal(strv_push(&r->program_files, path), 0);
	}
	v = check(r, "6.1.190", p, GAUGE_NOT_COMPILED, "none of drivers/some/long/path/file-00.c");
	assert_int_equal(strlen(v.reason), sizeof(v.reason) - 1);
	assert_string_equal(v.reason + sizeof(v.reason) - 4, "...");
	cve_record_free(r);
}

static void test_evaluate_many(void **state)
{
	static const char *const versions[] = { "6.1.141", "6.1.150", "6.1.190", "6.15.3",
						"6.16" };
	static const enum gauge_state want[] = { GAUGE_NOT_AFFECTED, GAUGE_AFFECTED, GAUGE_FIXED,
						 GAUGE_AFFECTED, GAUGE_NOT_AFFECTED };
	struct cve_record *r = load("2026", "CVE-2026-52945", "");
	struct gauge_kernel k[ARRAY_SIZE(versions)];
	struct gauge_verdict v[ARRAY_SIZE(versions)], one;

	for (size_t i = 0; i < ARRAY_SIZE(versions); i++)
		assert_int_equal(gauge_kernel_init(&k[i], versions[i], NULL), 0);
	assert_int_equal(gauge_evaluate_many(k, ARRAY_SIZE(k), r, v), 0);
	for (size_t i = 0; i < ARRAY_SIZE(versions); i++) {
		assert_int_equal(v[i].state, want[i]);
		assert_int_equal(gauge_evaluate(&k[i], r, &one), 0);
		assert_string_equal(one.reason, v[i].reason);
	}
	assert_int_equal(gauge_evaluate(NULL, r, &one), -EINVAL);
	assert_int_equal(gauge_evaluate(&k[0], NULL, &one), -EINVAL);
	assert_int_equal(gauge_evaluate(&k[0], r, NULL), -EINVAL);
	cve_record_free(r);
}

/* More pairs than fit on the stack take the allocating path. */
static void test_many_pairs(void **state)
{
	struct cve_record *r = synth(NULL, NULL);

	for (int i = 0; i < GAUGE_PAIRS_INLINE + 10; i++) {
		char fix[16];

		snprintf(fix, sizeof(fix), "4.%d.5", i);
		assert_int_equal(cve_record_add_pair(r, "3.0", "0123456789ab", fix,
						     "ba9876543210"),
				 0);
	}
	CHECK(r, "4.70.5", GAUGE_FIXED, "fixed in 4.70.5 (4.70 branch)");
	CHECK(r, "4.70.4", GAUGE_AFFECTED, NULL);
	CHECK(r, "5.0.1", GAUGE_AFFECTED, "no fix recorded for the 5.0 branch or mainline");
	cve_record_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_kernel_init),
		cmocka_unit_test(test_fixed_6_1_183),
		cmocka_unit_test(test_fixed_6_1_182_180),
		cmocka_unit_test(test_fixed_6_1_178),
		cmocka_unit_test(test_affected_unfixed),
		cmocka_unit_test(test_introduced_later),
		cmocka_unit_test(test_stable_backport_regression),
		cmocka_unit_test(test_same_version_pairs),
		cmocka_unit_test(test_unknown_introduction),
		cmocka_unit_test(test_historical_revisions),
		cmocka_unit_test(test_vulnerable_override),
		cmocka_unit_test(test_reference_records),
		cmocka_unit_test(test_multiple_fix_commits),
		cmocka_unit_test(test_kev_record),
		cmocka_unit_test(test_message_record),
		cmocka_unit_test(test_product_without_versions),
		cmocka_unit_test(test_mixed_introductions),
		cmocka_unit_test(test_fixed_only_in_stable),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_stable_only),
		cmocka_unit_test(test_reintroduction),
		cmocka_unit_test(test_eol_branch),
		cmocka_unit_test(test_rc_kernel),
		cmocka_unit_test(test_2_6_versions),
		cmocka_unit_test(test_fix_before_introduction),
		cmocka_unit_test(test_no_version_data),
		cmocka_unit_test(test_compiled_files),
		cmocka_unit_test(test_long_file_list_truncated),
		cmocka_unit_test(test_evaluate_many),
		cmocka_unit_test(test_many_pairs),
	};

	return TEST_MAIN(tests);
}
