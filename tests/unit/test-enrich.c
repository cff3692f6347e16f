/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "enrich.h"
#include "fileio.h"
#include "http-fixture.h"
#include "strbuf.h"
#include "test-lib.h"

#define NVD_PATH "/rest/json/cves/2.0"

/* ---- KEV -------------------------------------------------------------------- */

struct kev_seen {
	size_t n;
	size_t ransomware;
	struct kev_entry k53104;
	char k53104_name[128];
	bool saw_android_36971;
};

static int kev_collect(const struct kev_entry *e, void *userdata)
{
	struct kev_seen *s = userdata;

	s->n++;
	if (e->known_ransomware)
		s->ransomware++;
	if (streq(e->cve_id, "CVE-2024-53104")) {
		s->k53104 = *e;
		s->k53104.cve_id = NULL; /* borrowed strings die with the parse */
		s->k53104.date_added = NULL;
		s->k53104.due_date = NULL;
		s->k53104.vulnerability_name = NULL;
		snprintf(s->k53104_name, sizeof(s->k53104_name), "%s", e->vulnerability_name);
	}
	if (streq(e->cve_id, "CVE-2024-36971"))
		s->saw_android_36971 = true;
	return 0;
}

static void test_kev_subset(void **state)
{
	_cleanup_free_ char *buf = NULL;
	struct kev_seen seen = { 0 };
	struct kev_catalog cat;
	char err[256] = "";
	size_t len;

	buf = test_read_data("kev/kev-kernel-subset.json", &len);
	assert_int_equal(kev_parse(buf, len, kev_collect, &seen, &cat, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(seen.n, 26);
	assert_int_equal(cat.count, 26);
	assert_string_equal(cat.catalog_version, "2025.08.25");
	assert_true(cat.date_released > 0);
	/* Only CVE-2017-1000253 is "Known" in this snapshot. */
	assert_int_equal(seen.ransomware, 1);
	assert_int_equal(seen.k53104.date_added_ts, 1738713600); /* 2025-02-05 */
	assert_int_equal(seen.k53104.due_date_ts, 1738713600 + 21 * 86400);
	assert_false(seen.k53104.known_ransomware);
	assert_string_equal(seen.k53104_name, "Linux Kernel Out-of-Bounds Write Vulnerability");
	/* Filed under vendorProject "Android": matched by cveID all the same. */
	assert_true(seen.saw_android_36971);
}

static void test_kev_malformed(void **state)
{
	static const struct {
		const char *json;
		const char *error;
	} cases[] = {
		{ "{\"vulnerabilities\": [", "line 1 column" },
		{ "[]", "top level: expected an object" },
		{ "{\"catalogVersion\": \"x\"}", "vulnerabilities: missing or not an array" },
		{ "{\"vulnerabilities\": [1]}", "vulnerabilities[0]: expected an object" },
		{ "{\"vulnerabilities\": [{\"cveID\": \"CVE-24-1\", \"dateAdded\": \"2025-01-01\"}]}",
		  "vulnerabilities[0]: invalid cveID 'CVE-24-1'" },
		{ "{\"vulnerabilities\": [{\"cveID\": \"CVE-2024-1086\", \"dateAdded\": \"2025/01/01\"}]}",
		  "vulnerabilities[0] (CVE-2024-1086): invalid dateAdded '2025/01/01'" },
		{ "{\"vulnerabilities\": [{\"cveID\": \"CVE-2024-1086\", \"dateAdded\": \"2025-01-01\", "
		  "\"dueDate\": 7}]}",
		  "vulnerabilities[0] (CVE-2024-1086): invalid dueDate" },
		{ "{\"catalogVersion\": 3, \"vulnerabilities\": []}",
		  "catalogVersion: expected a string" },
	};
	_cleanup_free_ char *buf = NULL;
	struct kev_seen seen = { 0 };
	char err[256];
	size_t len;

	buf = test_read_data("kev/kev-malformed-missing-id.json", &len);
	assert_int_equal(kev_parse(buf, len, kev_collect, &seen, NULL, err, sizeof(err)), -EBADMSG);
	assert_string_equal(err, "vulnerabilities[2]: missing cveID");
	/* Validated before delivery: a bad catalog delivers nothing. */
	assert_int_equal(seen.n, 0);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = '\0';
		assert_int_equal(kev_parse(cases[i].json, strlen(cases[i].json), kev_collect, &seen,
					   NULL, err, sizeof(err)),
				 -EBADMSG);
		if (!strstr(err, cases[i].error))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].error);
	}
	assert_int_equal(seen.n, 0);
	assert_int_equal(kev_parse("{}", KEV_JSON_MAX + 1, kev_collect, &seen, NULL, NULL, 0),
			 -EFBIG);
}

static int kev_stop(const struct kev_entry *e, void *userdata)
{
	return -ECANCELED;
}

static void test_kev_callback_error(void **state)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	buf = test_read_data("kev/kev-kernel-subset.json", &len);
	assert_int_equal(kev_parse(buf, len, kev_stop, NULL, NULL, NULL, 0), -ECANCELED);
}

/* ---- EPSS ------------------------------------------------------------------- */

struct epss_seen {
	size_t n;
	double e53104, p53104;
	unsigned long bad_lines[16];
	size_t n_bad;
	unsigned long last_line;
};

static int epss_collect(const struct epss_row *row, void *userdata)
{
	struct epss_seen *s = userdata;

	s->n++;
	s->last_line = row->line;
	if (streq(row->cve_id, "CVE-2024-53104")) {
		s->e53104 = row->epss;
		s->p53104 = row->percentile;
	}
	return 0;
}

static void epss_bad(unsigned long line, const char *reason, void *userdata)
{
	struct epss_seen *s = userdata;

	assert_non_null(reason);
	if (s->n_bad < ARRAY_SIZE(s->bad_lines))
		s->bad_lines[s->n_bad] = line;
	s->n_bad++;
}

/* gzip-compresses data (one member) into a new buffer. */
static unsigned char *gzip_buf(const void *data, size_t len, size_t *ret_len)
{
	z_stream zs = { 0 };
	unsigned char *out;
	size_t cap;

	assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY),
			 Z_OK);
	cap = deflateBound(&zs, len) + 64;
	out = malloc(cap);
	assert_non_null(out);
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (unsigned)len;
	zs.next_out = out;
	zs.avail_out = (unsigned)cap;
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	*ret_len = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

static void check_excerpt(const struct epss_seen *seen, const struct epss_info *info)
{
	assert_int_equal(seen->n, 35);
	assert_int_equal(info->rows, 35);
	assert_int_equal(info->bad_rows, 0);
	assert_int_equal(info->first_bad_line, 0);
	assert_string_equal(info->model_version, "v2026.06.15");
	assert_int_equal(info->score_date, 1790683222); /* 2026-09-29T12:00:22Z */
	assert_true(seen->e53104 == 0.03395);
	assert_true(seen->p53104 == 0.88396);
}

static void test_epss_plain(void **state)
{
	_cleanup_free_ char *buf = NULL;
	struct epss_seen seen = { 0 };
	struct epss_info info;
	char err[256] = "";
	size_t len;

	buf = test_read_data("epss/epss_scores-2026-09-29.EXCERPT.csv", &len);
	assert_int_equal(
		epss_parse(buf, len, 0, epss_collect, epss_bad, &seen, &info, err, sizeof(err)), 0);
	check_excerpt(&seen, &info);
	assert_int_equal(seen.last_line, 37);
}

static void test_epss_gzip(void **state)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_free_ unsigned char *gz = NULL, *twice = NULL;
	struct epss_seen seen = { 0 };
	struct epss_info info;
	char err[256] = "";
	size_t len, gz_len;

	buf = test_read_data("epss/epss_scores-2026-09-29.EXCERPT.csv", &len);
	gz = gzip_buf(buf, len, &gz_len);
	assert_int_equal(gz[0], 0x1f);
	assert_int_equal(
		epss_parse(gz, gz_len, 0, epss_collect, epss_bad, &seen, &info, err, sizeof(err)),
		0);
	check_excerpt(&seen, &info);

	/* Truncated stream. */
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(
		epss_parse(gz, gz_len - 12, 0, epss_collect, NULL, &seen, NULL, err, sizeof(err)),
		-EBADMSG);
	assert_non_null(strstr(err, "gzip: truncated"));

	/* Corrupt deflate data. */
	gz[gz_len / 2] ^= 0xff;
	gz[gz_len / 2 + 1] ^= 0xff;
	assert_int_equal(
		epss_parse(gz, gz_len, 0, epss_collect, NULL, &seen, NULL, err, sizeof(err)),
		-EBADMSG);
	gz[gz_len / 2] ^= 0xff;
	gz[gz_len / 2 + 1] ^= 0xff;

	/* Decompression is bounded. */
	assert_int_equal(
		epss_parse(gz, gz_len, 512, epss_collect, NULL, &seen, NULL, err, sizeof(err)),
		-EFBIG);
	assert_non_null(strstr(err, "larger than 512"));

	/* Two members, then garbage. */
	twice = malloc(2 * gz_len + 4);
	assert_non_null(twice);
	memcpy(twice, gz, gz_len);
	memcpy(twice + gz_len, gz, gz_len);
	memset(&seen, 0, sizeof(seen));
	/* The second member's comment line is a bad row: rows restart only once. */
	assert_int_equal(epss_parse(twice, 2 * gz_len, 0, epss_collect, epss_bad, &seen, &info, err,
				    sizeof(err)),
			 0);
	assert_int_equal(info.rows, 70);
	assert_int_equal(info.bad_rows, 2);
	memcpy(twice + 2 * gz_len, "junk", 4);
	assert_int_equal(epss_parse(twice, 2 * gz_len + 4, 0, epss_collect, NULL, &seen, NULL, err,
				    sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "trailing garbage"));
}

static void test_epss_bad_rows(void **state)
{
	_cleanup_free_ char *buf = NULL;
	struct epss_seen seen = { 0 };
	struct epss_info info;
	char err[256] = "";
	size_t len;

	buf = test_read_data("epss/epss-bad-rows.csv", &len);
	assert_int_equal(
		epss_parse(buf, len, 0, epss_collect, epss_bad, &seen, &info, err, sizeof(err)), 0);
	/* "+0000" spelling of the score date. */
	assert_int_equal(info.score_date, 1756080000);
	assert_string_equal(info.model_version, "v2025.03.14");
	assert_int_equal(info.rows, 3); /* 53104, 36971 and the CRLF-terminated 0386 */
	assert_int_equal(info.bad_rows, 5);
	assert_int_equal(info.first_bad_line, 4);
	assert_int_equal(seen.n_bad, 5);
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(seen.bad_lines[i], 4 + i);
}

static void test_epss_malformed(void **state)
{
	static const struct {
		const char *csv;
		int r;
		const char *error;
	} cases[] = {
		{ "", -EBADMSG, "line 1: missing header" },
		{ "CVE-2024-53104,0.1,0.2\n", -EBADMSG, "line 1: expected header" },
		{ "#model_version:v1,score_date:yesterday\ncve,epss,percentile\n", -EBADMSG,
		  "line 1: invalid score_date" },
		{ "#model_version:v1\nCVE-2024-53104,0.1,0.2\n", -EBADMSG,
		  "line 2: expected header" },
		{ "#model_version:v1\n", -EBADMSG, "line 2: missing header" },
		/* Header only, no trailing newline: valid and empty. */
		{ "cve,epss,percentile", 0, "" },
	};
	_cleanup_strbuf_ struct strbuf sb;
	struct epss_seen seen = { 0 };
	struct epss_info info;
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = '\0';
		assert_int_equal(epss_parse(cases[i].csv, strlen(cases[i].csv), 0, epss_collect,
					    NULL, &seen, NULL, err, sizeof(err)),
				 cases[i].r);
		if (!strstr(err, cases[i].error))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].error);
	}
	assert_int_equal(seen.n, 0);

	/* An overlong row is a bad row, and the parse goes on after it. */
	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_adds(&sb, "cve,epss,percentile\n"), 0);
	for (size_t i = 0; i < 2 * EPSS_LINE_MAX; i++)
		assert_int_equal(strbuf_addch(&sb, 'x'), 0);
	assert_int_equal(strbuf_adds(&sb, "\nCVE-2024-53104,0.5,0.5\nCVE-2024-1086,1,1"), 0);
	assert_int_equal(epss_parse(sb.buf, sb.len, 0, epss_collect, epss_bad, &seen, &info, err,
				    sizeof(err)),
			 0);
	assert_int_equal(info.rows, 2);
	assert_int_equal(info.bad_rows, 1);
	assert_int_equal(info.first_bad_line, 2);
	assert_string_equal(info.model_version, "");
	assert_int_equal(info.score_date, 0);
}

/* ---- NVD parser --------------------------------------------------------------- */

struct nvd_seen {
	size_t n;
	char ids[8][ENRICH_CVE_ID_MAX];
	struct nvd_cve first;
	char v3_vector[128], v3_severity[16], v3_version[8];
	char v4_vector[128], v4_severity[16];
	char cwes[4][16];
	char status[32];
};

static void copy_str(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

static int nvd_collect(const struct nvd_cve *cve, void *userdata)
{
	struct nvd_seen *s = userdata;

	if (s->n < ARRAY_SIZE(s->ids))
		copy_str(s->ids[s->n], sizeof(s->ids[0]), cve->id);
	if (s->n++ > 0)
		return 0;
	/* Keep scalars of the first CVE and copies of its borrowed strings. */
	s->first = *cve;
	copy_str(s->v3_vector, sizeof(s->v3_vector), cve->cvss3.vector);
	copy_str(s->v3_severity, sizeof(s->v3_severity), cve->cvss3.severity);
	copy_str(s->v3_version, sizeof(s->v3_version), cve->cvss3.version);
	copy_str(s->v4_vector, sizeof(s->v4_vector), cve->cvss4.vector);
	copy_str(s->v4_severity, sizeof(s->v4_severity), cve->cvss4.severity);
	copy_str(s->status, sizeof(s->status), cve->vuln_status);
	for (size_t i = 0; i < cve->n_cwes && i < 4; i++)
		copy_str(s->cwes[i], sizeof(s->cwes[0]), cve->cwes[i]);
	return 0;
}

static void test_nvd_parse_real(void **state)
{
	_cleanup_free_ char *buf = NULL;
	struct nvd_seen seen = { 0 };
	struct nvd_page page;
	char err[256] = "";
	size_t len;

	buf = test_read_data("nvd/CVE-2024-53104.json", &len);
	assert_int_equal(nvd_parse_response(buf, len, nvd_collect, &seen, &page, err, sizeof(err)),
			 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(page.results_per_page, 1);
	assert_int_equal(page.start_index, 0);
	assert_int_equal(page.total_results, 1);
	assert_int_equal(page.count, 1);
	assert_string_equal(seen.ids[0], "CVE-2024-53104");
	assert_int_equal(seen.first.published, 1733127308);	/* 2024-12-02T08:15:08.687 */
	assert_int_equal(seen.first.last_modified, 1762211840); /* 2025-11-03T23:17:20.637 */
	assert_string_equal(seen.status, "Modified");
	assert_string_equal(seen.v3_version, "3.1");
	assert_string_equal(seen.v3_vector, "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H");
	assert_true(seen.first.cvss3.score == 7.8);
	assert_string_equal(seen.v3_severity, "HIGH");
	assert_true(seen.first.cvss3.primary);
	assert_string_equal(seen.v4_vector, "");
	assert_true(seen.first.cvss4.score < 0);
	/* CWE-787 is listed by NVD and by CISA-ADP: reported once. */
	assert_int_equal(seen.first.n_cwes, 1);
	assert_string_equal(seen.cwes[0], "CWE-787");
	assert_true(seen.first.cisa_exploit_add);
	assert_int_equal(seen.first.cisa_exploit_add_ts, 1738713600);
}

static void test_nvd_parse_cvss40(void **state)
{
	_cleanup_free_ char *buf = NULL;
	struct nvd_seen seen = { 0 };
	size_t len;

	buf = test_read_data("nvd/cvss40-and-v30.json", &len);
	assert_int_equal(nvd_parse_response(buf, len, nvd_collect, &seen, NULL, NULL, 0), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.ids[1], "CVE-2021-4440");
	/* Primary wins over an earlier Secondary. */
	assert_string_equal(seen.v4_vector,
			    "CVSS:4.0/AV:L/AC:L/AT:N/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
	assert_true(seen.first.cvss4.score == 8.5);
	assert_true(seen.first.cvss4.primary);
	/* Only a Secondary v3.1: taken, flagged as not NVD's own. */
	assert_true(seen.first.cvss3.score == 7.0);
	assert_false(seen.first.cvss3.primary);
	assert_int_equal(seen.first.n_cwes, 2);
	assert_string_equal(seen.cwes[1], "CWE-416");
	assert_false(seen.first.cisa_exploit_add);
	assert_int_equal(seen.first.cisa_exploit_add_ts, 0);
}

static int nvd_check_v30(const struct nvd_cve *cve, void *userdata)
{
	if (streq(cve->id, "CVE-2021-4440")) {
		assert_string_equal(cve->cvss3.version, "3.0");
		assert_true(cve->cvss3.score == 5.5);
		assert_null(cve->cvss4.vector);
		/* NVD-CWE-noinfo is not a CWE. */
		assert_int_equal(cve->n_cwes, 0);
		assert_string_equal(cve->vuln_status, "Awaiting Analysis");
		(*(int *)userdata)++;
	}
	return 0;
}

static void test_nvd_parse_v30_fallback(void **state)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int n = 0;

	buf = test_read_data("nvd/cvss40-and-v30.json", &len);
	assert_int_equal(nvd_parse_response(buf, len, nvd_check_v30, &n, NULL, NULL, 0), 0);
	assert_int_equal(n, 1);
}

static void test_nvd_parse_malformed(void **state)
{
	static const struct {
		const char *file;
		const char *error;
	} files[] = {
		{ "nvd/malformed-score.json",
		  "vulnerabilities[0].cve.metrics.cvssMetricV31[1]: missing cvssData.baseScore" },
		{ "nvd/malformed-no-lastmodified.json",
		  "vulnerabilities[0].cve (CVE-2024-53104): invalid lastModified" },
		{ "nvd/malformed-no-total.json", "totalResults: missing or not a count" },
	};
	static const struct {
		const char *json;
		const char *error;
	} cases[] = {
		{ "[]", "top level: expected an object" },
		{ "{\"resultsPerPage\":1,\"startIndex\":0,\"totalResults\":1}",
		  "vulnerabilities: missing or not an array" },
		{ "{\"resultsPerPage\":1,\"startIndex\":-1,\"totalResults\":1,\"vulnerabilities\":[]}",
		  "startIndex: missing or not a count" },
		{ "{\"resultsPerPage\":1,\"startIndex\":0,\"totalResults\":1,\"vulnerabilities\":[{}]}",
		  "vulnerabilities[0]: missing cve" },
		{ "{\"resultsPerPage\":1,\"startIndex\":0,\"totalResults\":1,\"vulnerabilities\":"
		  "[{\"cve\":{\"id\":\"CVE-2024-1\"}}]}",
		  "vulnerabilities[0].cve: missing or invalid id" },
	};
	_cleanup_free_ char *good = NULL;
	struct nvd_seen seen = { 0 };
	char err[256];
	size_t len;

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		_cleanup_free_ char *buf = test_read_data(files[i].file, &len);

		err[0] = '\0';
		assert_int_equal(
			nvd_parse_response(buf, len, nvd_collect, &seen, NULL, err, sizeof(err)),
			-EBADMSG);
		if (!streq(err, files[i].error))
			fail_msg("%s: got '%s'", files[i].file, err);
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		err[0] = '\0';
		assert_int_equal(nvd_parse_response(cases[i].json, strlen(cases[i].json),
						    nvd_collect, &seen, NULL, err, sizeof(err)),
				 -EBADMSG);
		if (!strstr(err, cases[i].error))
			fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].error);
	}

	/* Truncated answers (a dropped connection) are syntax errors. */
	good = test_read_data("nvd/CVE-2024-53104.json", &len);
	for (size_t cut = 1; cut < len; cut += len / 7) {
		err[0] = '\0';
		assert_int_equal(
			nvd_parse_response(good, cut, nvd_collect, &seen, NULL, err, sizeof(err)),
			-EBADMSG);
		assert_non_null(strstr(err, "line "));
	}
	assert_int_equal(seen.n, 0);
	assert_int_equal(
		nvd_parse_response(good, NVD_RESPONSE_MAX + 1, nvd_collect, &seen, NULL, NULL, 0),
		-EFBIG);
}

/* ---- rate limiter ------------------------------------------------------------ */

static void test_rate_limiter(void **state)
{
	struct nvd_rate_limiter rl;

	nvd_rate_limiter_init(&rl, NVD_RATE_NO_KEY, NVD_RATE_WINDOW_MS);
	for (int64_t t = 0; t < 5; t++) {
		assert_int_equal(nvd_rate_limiter_delay(&rl, 1000 + t), 0);
		nvd_rate_limiter_record(&rl, 1000 + t);
	}
	/* Sixth request: wait until the first leaves the 30 s window. */
	assert_int_equal(nvd_rate_limiter_delay(&rl, 1005), 29995);
	assert_int_equal(nvd_rate_limiter_delay(&rl, 20000), 11000);
	assert_int_equal(nvd_rate_limiter_delay(&rl, 31000), 0);
	nvd_rate_limiter_record(&rl, 31000);
	/* The window rolls: now the second request (t=1001) is the oldest. */
	assert_int_equal(nvd_rate_limiter_delay(&rl, 31000), 1);
	assert_int_equal(nvd_rate_limiter_delay(&rl, 31001), 0);

	nvd_rate_limiter_init(&rl, NVD_RATE_WITH_KEY, NVD_RATE_WINDOW_MS);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(nvd_rate_limiter_delay(&rl, 0), 0);
		nvd_rate_limiter_record(&rl, 0);
	}
	assert_int_equal(nvd_rate_limiter_delay(&rl, 0), 30000);

	/* Limits are clamped to what the ring holds. */
	nvd_rate_limiter_init(&rl, 1000, 10);
	assert_int_equal(rl.max_requests, NVD_RATE_WITH_KEY);
	nvd_rate_limiter_init(&rl, 0, 10);
	assert_int_equal(rl.max_requests, 1);
}

/* ---- NVD client --------------------------------------------------------------- */

struct fake_time {
	int64_t now;
	uint64_t sleeps[64];
	size_t n_sleeps;
};

static int64_t fake_clock(void *userdata)
{
	return ((struct fake_time *)userdata)->now;
}

static void fake_sleep(uint64_t ms, void *userdata)
{
	struct fake_time *ft = userdata;

	if (ft->n_sleeps < ARRAY_SIZE(ft->sleeps))
		ft->sleeps[ft->n_sleeps] = ms;
	ft->n_sleeps++;
	ft->now += (int64_t)ms;
}

struct client_env {
	struct http_fixture *fx;
	char *tmp;
	char *cache;
	char *base;
	char *envelope; /* CVE-2024-53104 answer */
	size_t envelope_len;
	struct fake_time time;
};

static int client_setup(void **state)
{
	struct client_env *env = calloc(1, sizeof(*env));

	assert_non_null(env);
	env->fx = http_fixture_start();
	env->tmp = test_tmpdir_new();
	env->cache = path_join(env->tmp, "cache");
	env->base = http_fixture_url(env->fx, NVD_PATH);
	env->envelope = test_read_data("nvd/CVE-2024-53104.json", &env->envelope_len);
	*state = env;
	return 0;
}

static int client_teardown(void **state)
{
	struct client_env *env = *state;

	http_fixture_stop(env->fx);
	test_tmpdir_remove(env->tmp);
	free(env->cache);
	free(env->base);
	free(env->envelope);
	free(env);
	return 0;
}

static struct nvd_client *client_new(struct client_env *env, const char *api_key, bool offline)
{
	struct nvd_client_options opts = {
		.base_url = env->base,
		.api_key = api_key,
		.cache_dir = env->cache,
		.offline = offline,
		.max_attempts = 3,
		.retry_base_ms = 100,
		.timeout_ms = 5000,
		.clock = fake_clock,
		.sleep = fake_sleep,
		.time_userdata = &env->time,
	};
	struct nvd_client *c = NULL;

	assert_int_equal(nvd_client_new(&opts, &c), 0);
	return c;
}

static char *cache_file(struct client_env *env, const char *query)
{
	_cleanup_free_ char *name = nvd_cache_name(env->base, query);

	assert_non_null(name);
	return path_join(env->cache, name);
}

static void test_nvd_client_fetch_and_offline(void **state)
{
	struct client_env *env = *state;
	struct http_fixture_reply ok = { .status = 200,
					 .body = env->envelope,
					 .body_len = env->envelope_len };
	_cleanup_(nvd_client_freep) struct nvd_client *c = NULL, *off = NULL;
	_cleanup_free_ char *key = NULL, *path = NULL, *cached = NULL;
	_cleanup_strv_free_ char **log = NULL;
	struct nvd_seen seen = { 0 };
	size_t len;

	http_fixture_add(env->fx, NVD_PATH, NULL, &ok, 1);
	c = client_new(env, "test-key-123", false);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), 1);
	assert_string_equal(nvd_client_error(c), "");
	assert_int_equal(seen.n, 1);
	assert_true(seen.first.cvss3.score == 7.8);
	assert_int_equal(nvd_client_requests(c), 1);
	key = http_fixture_last_header(env->fx, "apiKey");
	assert_string_equal(key, "test-key-123");
	log = http_fixture_requests(env->fx);
	assert_int_equal(strv_length(log), 1);
	assert_string_equal(log[0], NVD_PATH "?cveId=CVE-2024-53104");

	/* The answer was cached verbatim. */
	path = cache_file(env, "cveId=CVE-2024-53104");
	assert_int_equal(read_file_bounded(path, 0, &cached, &len), 0);
	assert_int_equal(len, env->envelope_len);
	assert_memory_equal(cached, env->envelope, len);

	/* Offline: served from the cache without touching the server. */
	off = client_new(env, NULL, true);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(nvd_client_fetch_cve(off, "CVE-2024-53104", nvd_collect, &seen), 1);
	assert_string_equal(seen.ids[0], "CVE-2024-53104");
	assert_int_equal(http_fixture_hits(env->fx, NVD_PATH), 1);
	assert_int_equal(nvd_client_requests(off), 0);

	/* Offline and not cached. */
	assert_int_equal(nvd_client_fetch_cve(off, "CVE-2024-1086", nvd_collect, &seen),
			 -ENETUNREACH);
	assert_non_null(strstr(nvd_client_error(off), "offline"));
	assert_non_null(strstr(nvd_client_error(off), "cveId=CVE-2024-1086"));
	assert_int_equal(nvd_client_fetch_cve(off, "not-a-cve", nvd_collect, &seen), -EINVAL);
}

static void test_nvd_client_errors_keep_cache(void **state)
{
	struct client_env *env = *state;
	struct http_fixture_reply ok = { .status = 200,
					 .body = env->envelope,
					 .body_len = env->envelope_len };
	static const struct http_fixture_reply forbidden = { .status = 403,
							     .body = "Request forbidden" };
	static const struct http_fixture_reply down = { .status = 503 };
	static const struct http_fixture_reply garbage = { .status = 200,
							   .body = "<html>maintenance</html>" };
	_cleanup_(nvd_client_freep) struct nvd_client *c = NULL;
	_cleanup_free_ char *path = NULL;
	struct nvd_seen seen = { 0 };
	const char *err;

	c = client_new(env, "secret-key-456", false);
	http_fixture_add(env->fx, NVD_PATH, NULL, &ok, 1);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), 1);
	path = cache_file(env, "cveId=CVE-2024-53104");

	/* 403: no retry, a clear error, the cache untouched. */
	http_fixture_reset(env->fx);
	http_fixture_add(env->fx, NVD_PATH, NULL, &forbidden, 1);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), -EACCES);
	err = nvd_client_error(c);
	assert_non_null(strstr(err, "NVD"));
	assert_non_null(strstr(err, "HTTP 403"));
	assert_non_null(strstr(err, "cveId=CVE-2024-53104"));
	assert_null(strstr(err, "secret-key-456"));
	assert_int_equal(http_fixture_hits(env->fx, NVD_PATH), 1);
	{
		_cleanup_free_ char *cached = NULL;
		size_t len;

		assert_int_equal(read_file_bounded(path, 0, &cached, &len), 0);
		assert_int_equal(len, env->envelope_len);
		assert_memory_equal(cached, env->envelope, len);
	}

	/* 503 throughout: retried, then -EAGAIN; the cache still untouched. */
	http_fixture_reset(env->fx);
	http_fixture_add(env->fx, NVD_PATH, NULL, &down, 1);
	env->time.n_sleeps = 0;
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), -EAGAIN);
	err = nvd_client_error(c);
	assert_non_null(strstr(err, "NVD"));
	assert_non_null(strstr(err, "HTTP 503"));
	assert_non_null(strstr(err, "after 3 attempts"));
	assert_int_equal(http_fixture_hits(env->fx, NVD_PATH), 3);
	/* Backoff 100 ms then 200 ms, through the injected sleep. */
	assert_int_equal(env->time.n_sleeps, 2);
	assert_int_equal(env->time.sleeps[0], 100);
	assert_int_equal(env->time.sleeps[1], 200);

	/* A 200 that is not an API answer is rejected, not cached. */
	http_fixture_reset(env->fx);
	http_fixture_add(env->fx, NVD_PATH, NULL, &garbage, 1);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), -EBADMSG);
	assert_non_null(strstr(nvd_client_error(c), "invalid answer"));
	{
		_cleanup_free_ char *cached = NULL;
		size_t len;

		assert_int_equal(read_file_bounded(path, 0, &cached, &len), 0);
		assert_int_equal(len, env->envelope_len);
	}
}

static void test_nvd_client_rate_limit(void **state)
{
	struct client_env *env = *state;
	struct http_fixture_reply ok = { .status = 200,
					 .body = env->envelope,
					 .body_len = env->envelope_len };
	static const struct http_fixture_reply busy = { .status = 503 };
	_cleanup_(nvd_client_freep) struct nvd_client *c = NULL, *k = NULL;
	struct nvd_seen seen = { 0 };

	http_fixture_add(env->fx, NVD_PATH, "cveId=CVE-2024-1086", &busy, 1);
	http_fixture_add(env->fx, NVD_PATH, NULL, &ok, 1);
	c = client_new(env, NULL, false);
	/* Five requests go at once; the sixth waits for the window to roll. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), 1);
	assert_int_equal(env->time.n_sleeps, 0);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), 1);
	assert_int_equal(env->time.n_sleeps, 1);
	assert_int_equal(env->time.sleeps[0], 30000);
	assert_int_equal(env->time.now, 30000);
	/* Requests 2..5 were at t=0 too, so they have left the window as well. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), 1);
	assert_int_equal(env->time.n_sleeps, 1);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), 1);
	assert_int_equal(env->time.n_sleeps, 2);
	assert_int_equal(env->time.sleeps[1], 30000);
	assert_int_equal(nvd_client_requests(c), 11);

	/* HTTP retries count against the limit too: 3 attempts are 3 requests. */
	env->time.n_sleeps = 0;
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-1086", nvd_collect, &seen), -EAGAIN);
	assert_int_equal(nvd_client_requests(c), 14);

	/* With a key, fifty in a window. */
	env->time.n_sleeps = 0;
	k = client_new(env, "key", false);
	for (int i = 0; i < 50; i++)
		assert_int_equal(nvd_client_fetch_cve(k, "CVE-2024-53104", nvd_collect, &seen), 1);
	assert_int_equal(env->time.n_sleeps, 0);
	assert_int_equal(nvd_client_fetch_cve(k, "CVE-2024-53104", nvd_collect, &seen), 1);
	assert_int_equal(env->time.n_sleeps, 1);
	assert_int_equal(env->time.sleeps[0], 30000);
}

/* An answer page: copies of the real CVE under other ids. */
static char *make_page(const char *real, long start, long total, const char *const *ids, size_t n)
{
	json_auto_t *src = json_loads(real, 0, NULL), *page = NULL, *vulns = json_array();
	json_t *cve;
	char *out;

	assert_non_null(src);
	cve = json_object_get(json_array_get(json_object_get(src, "vulnerabilities"), 0), "cve");
	assert_non_null(cve);
	for (size_t i = 0; i < n; i++) {
		json_t *copy = json_deep_copy(cve);

		json_object_set_new(copy, "id", json_string(ids[i]));
		json_array_append_new(vulns, json_pack("{s:o}", "cve", copy));
	}
	page = json_pack("{s:i,s:i,s:i,s:s,s:s,s:s,s:O}", "resultsPerPage", (int)n, "startIndex",
			 (int)start, "totalResults", (int)total, "format", "NVD_CVE", "version",
			 "2.0", "timestamp", "2025-11-04T12:00:00.000", "vulnerabilities", vulns);
	assert_non_null(page);
	out = json_dumps(page, JSON_COMPACT);
	assert_non_null(out);
	return out;
}

static void test_nvd_client_paging(void **state)
{
	struct client_env *env = *state;
	static const char *const ids1[] = { "CVE-2024-1086", "CVE-2024-36971" };
	static const char *const ids2[] = { "CVE-2024-50302" };
	static const char *const ids3[] = { "CVE-2024-53197" };
	_cleanup_free_ char *p1 = make_page(env->envelope, 0, 3, ids1, 2);
	_cleanup_free_ char *p2 = make_page(env->envelope, 2, 3, ids2, 1);
	_cleanup_free_ char *p3 = make_page(env->envelope, 0, 1, ids3, 1);
	_cleanup_(nvd_client_freep) struct nvd_client *c = NULL, *off = NULL;
	_cleanup_strv_free_ char **log = NULL;
	struct nvd_seen seen = { 0 };
	const int64_t start = 1704067200;	   /* 2024-01-01 */
	const int64_t end = start + 200 * 86400LL; /* 2024-07-19 */

	/* Second window first: its query also says startIndex=0. */
	http_fixture_add(env->fx, NVD_PATH, "lastModStartDate=2024-04-30T00:00:00.000+00:00",
			 &(struct http_fixture_reply){ .status = 200, .body = p3 }, 1);
	http_fixture_add(env->fx, NVD_PATH, "startIndex=2",
			 &(struct http_fixture_reply){ .status = 200, .body = p2 }, 1);
	http_fixture_add(env->fx, NVD_PATH, "startIndex=0",
			 &(struct http_fixture_reply){ .status = 200, .body = p1 }, 1);
	c = client_new(env, "key", false);
	assert_int_equal(nvd_client_fetch_changed(c, start, end, nvd_collect, &seen), 4);
	assert_string_equal(nvd_client_error(c), "");
	assert_string_equal(seen.ids[0], "CVE-2024-1086");
	assert_string_equal(seen.ids[1], "CVE-2024-36971");
	assert_string_equal(seen.ids[2], "CVE-2024-50302");
	assert_string_equal(seen.ids[3], "CVE-2024-53197");

	log = http_fixture_requests(env->fx);
	assert_int_equal(strv_length(log), 3);
	assert_string_equal(log[0], NVD_PATH "?lastModStartDate=2024-01-01T00:00:00.000+00:00"
					     "&lastModEndDate=2024-04-30T00:00:00.000+00:00"
					     "&resultsPerPage=2000&startIndex=0");
	assert_string_equal(log[1], NVD_PATH "?lastModStartDate=2024-01-01T00:00:00.000+00:00"
					     "&lastModEndDate=2024-04-30T00:00:00.000+00:00"
					     "&resultsPerPage=2000&startIndex=2");
	assert_string_equal(log[2], NVD_PATH "?lastModStartDate=2024-04-30T00:00:00.000+00:00"
					     "&lastModEndDate=2024-07-19T00:00:00.000+00:00"
					     "&resultsPerPage=2000&startIndex=0");

	/* Every page was cached: the same range replays offline. */
	off = client_new(env, NULL, true);
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(nvd_client_fetch_changed(off, start, end, nvd_collect, &seen), 4);
	assert_int_equal(http_fixture_hits(env->fx, NVD_PATH), 3);
	assert_int_equal(nvd_client_fetch_changed(off, start, end + 1, nvd_collect, &seen),
			 -ENETUNREACH);
	assert_int_equal(nvd_client_fetch_changed(off, end, start, nvd_collect, &seen), -EINVAL);
}

static void test_nvd_client_paging_guard(void **state)
{
	struct client_env *env = *state;
	static const char *const ids[] = { "CVE-2024-1086" };
	/* A server that ignores startIndex would page forever. */
	_cleanup_free_ char *p = make_page(env->envelope, 0, 5, ids, 1);
	_cleanup_(nvd_client_freep) struct nvd_client *c = NULL;
	struct nvd_seen seen = { 0 };

	http_fixture_add(env->fx, NVD_PATH, NULL,
			 &(struct http_fixture_reply){ .status = 200, .body = p }, 1);
	c = client_new(env, NULL, false);
	assert_int_equal(nvd_client_fetch_changed(c, 0, 86400, nvd_collect, &seen), -EBADMSG);
	assert_non_null(strstr(nvd_client_error(c), "starts at index 0"));
	assert_int_equal(http_fixture_hits(env->fx, NVD_PATH), 2);
}

static void test_nvd_client_local(void **state)
{
	struct client_env *env = *state;
	_cleanup_free_ char *file = test_data_path("nvd/CVE-2024-53104.json");
	_cleanup_free_ char *file_url = NULL, *mirror = NULL, *name = NULL, *mpath = NULL;
	struct nvd_client_options opts = { .clock = fake_clock,
					   .sleep = fake_sleep,
					   .time_userdata = &env->time };
	struct nvd_seen seen = { 0 };
	struct nvd_client *c = NULL;

	/* A single file answers every query; fetch_cve keeps only the asked-for id. */
	opts.base_url = file;
	assert_int_equal(nvd_client_new(&opts, &c), 0);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), 1);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-1086", nvd_collect, &seen), 0);
	assert_int_equal(nvd_client_requests(c), 0);
	c = nvd_client_free(c);

	assert_true(asprintf(&file_url, "file://%s", file) > 0);
	opts.base_url = file_url;
	assert_int_equal(nvd_client_new(&opts, &c), 0);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), 1);
	c = nvd_client_free(c);

	/* A directory holds answers under the default source's cache names. */
	mirror = path_join(env->tmp, "mirror");
	assert_int_equal(mkdir_p(mirror, 0755), 0);
	name = nvd_cache_name(NVD_BASE_URL_DEFAULT, "cveId=CVE-2024-53104");
	mpath = path_join(mirror, name);
	assert_int_equal(write_file_atomic(mpath, env->envelope, env->envelope_len, 0644), 0);
	opts.base_url = mirror;
	assert_int_equal(nvd_client_new(&opts, &c), 0);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen), 1);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-1086", nvd_collect, &seen), -ENOENT);
	assert_non_null(strstr(nvd_client_error(c), "cannot read local answer"));
	c = nvd_client_free(c);

	/* Offline without a cache directory. */
	opts.base_url = NULL;
	opts.offline = true;
	assert_int_equal(nvd_client_new(&opts, &c), 0);
	assert_int_equal(nvd_client_fetch_cve(c, "CVE-2024-53104", nvd_collect, &seen),
			 -ENETUNREACH);
	c = nvd_client_free(c);

	/* Bad options. */
	opts.offline = false;
	opts.base_url = "ftp://example.org/cves";
	assert_int_equal(nvd_client_new(&opts, &c), -EINVAL);
	opts.base_url = "file://relative/path";
	assert_int_equal(nvd_client_new(&opts, &c), -EINVAL);
	opts.base_url = NULL;
	opts.api_key = "key\r\nX-Injected: 1";
	assert_int_equal(nvd_client_new(&opts, &c), -EINVAL);
	assert_null(c);
}

static void test_nvd_cache_name(void **state)
{
	_cleanup_free_ char *a = nvd_cache_name(NVD_BASE_URL_DEFAULT, "cveId=CVE-2024-53104");
	_cleanup_free_ char *b = nvd_cache_name("http://mirror/", "cveId=CVE-2024-53104");
	_cleanup_free_ char *c = nvd_cache_name(NVD_BASE_URL_DEFAULT, "../../etc/passwd");

	assert_non_null(a);
	assert_true(strncmp(a, "nvd-cveId_CVE-2024-53104-", 25) == 0);
	assert_string_not_equal(a, b);
	/* Never a path. */
	assert_null(strchr(c, '/'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kev_subset),
		cmocka_unit_test(test_kev_malformed),
		cmocka_unit_test(test_kev_callback_error),
		cmocka_unit_test(test_epss_plain),
		cmocka_unit_test(test_epss_gzip),
		cmocka_unit_test(test_epss_bad_rows),
		cmocka_unit_test(test_epss_malformed),
		cmocka_unit_test(test_nvd_parse_real),
		cmocka_unit_test(test_nvd_parse_cvss40),
		cmocka_unit_test(test_nvd_parse_v30_fallback),
		cmocka_unit_test(test_nvd_parse_malformed),
		cmocka_unit_test(test_rate_limiter),
		cmocka_unit_test(test_nvd_cache_name),
		cmocka_unit_test_setup_teardown(test_nvd_client_fetch_and_offline, client_setup,
						client_teardown),
		cmocka_unit_test_setup_teardown(test_nvd_client_errors_keep_cache, client_setup,
						client_teardown),
		cmocka_unit_test_setup_teardown(test_nvd_client_rate_limit, client_setup,
						client_teardown),
		cmocka_unit_test_setup_teardown(test_nvd_client_paging, client_setup,
						client_teardown),
		cmocka_unit_test_setup_teardown(test_nvd_client_paging_guard, client_setup,
						client_teardown),
		cmocka_unit_test_setup_teardown(test_nvd_client_local, client_setup,
						client_teardown),
	};

	return TEST_MAIN(tests);
}
