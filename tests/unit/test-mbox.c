/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "mbox.h"
#include "record.h"
#include "strbuf.h"
#include "test-lib.h"

#define SAMPLE_SEVERITY "mbox/CVE-2023-54223.mbox"
#define SAMPLE_UNKNOWN_INTRO "mbox/CVE-2026-64212.mbox"
#define SAMPLE_UNFIXED "mbox/CVE-2023-52490.mbox"
#define SAMPLE_REJECTED "mbox/CVE-2026-23320.mbox.rejected"
#define SAMPLE_REFERENCE "mbox/CVE-2021-4440.mbox"
#define SAMPLE_MULTI_FIX "mbox/CVE-2022-50380.mbox"
#define SAMPLE_SHORT_SHA "mbox/CVE-2024-26609.mbox"
#define SAMPLE_RULE_IN_TEXT "mbox/CVE-2026-72420.mbox"

static struct cve_record *parse_ok(const char *buf, size_t len)
{
	struct cve_record *r = NULL;
	char err[256] = "";
	int k = mbox_parse_message(buf, len, &r, err, sizeof(err));

	if (k < 0)
		fail_msg("mbox_parse_message: %d (%s)", k, err);
	assert_non_null(r);
	return r;
}

static struct cve_record *parse_file(const char *rel)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	buf = test_read_data(rel, &len);
	return parse_ok(buf, len);
}

/* Expects -err and a reason containing reason; *ret must stay untouched. */
static void parse_fails(const char *buf, size_t len, int err, const char *reason)
{
	struct cve_record *sentinel = (struct cve_record *)&sentinel, *r = sentinel;
	char msg[256] = "";

	assert_int_equal(mbox_parse_message(buf, len, &r, msg, sizeof(msg)), err);
	assert_ptr_equal(r, sentinel);
	if (reason && !strstr(msg, reason))
		fail_msg("reason '%s' does not mention '%s'", msg, reason);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && streq(s + a - b, suffix);
}

/* Replaces the first line starting with prefix by text (which carries its own newlines). */
static char *replace_line(const char *buf, const char *prefix, const char *text)
{
	_cleanup_strbuf_ struct strbuf sb;
	const char *p = buf, *end;

	strbuf_init(&sb, 0);
	while (strncmp(p, prefix, strlen(prefix)) != 0) {
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	end = strchrnul(p, '\n');
	if (*end)
		end++;
	assert_int_equal(strbuf_add(&sb, buf, (size_t)(p - buf)), 0);
	assert_int_equal(strbuf_adds(&sb, text), 0);
	assert_int_equal(strbuf_adds(&sb, end), 0);
	return strbuf_detach(&sb, NULL);
}

/* Quoted-printable needs every literal '=' as "=3D". */
static char *qp_escape(const char *buf)
{
	_cleanup_strbuf_ struct strbuf sb;

	strbuf_init(&sb, 0);
	for (const char *p = buf; *p; p++)
		assert_int_equal(*p == '=' ? strbuf_adds(&sb, "=3D") : strbuf_addch(&sb, *p), 0);
	return strbuf_detach(&sb, NULL);
}

static char *to_crlf(const char *buf)
{
	_cleanup_strbuf_ struct strbuf sb;

	strbuf_init(&sb, 0);
	for (const char *p = buf; *p; p++) {
		if (*p == '\n')
			assert_int_equal(strbuf_addch(&sb, '\r'), 0);
		assert_int_equal(strbuf_addch(&sb, *p), 0);
	}
	return strbuf_detach(&sb, NULL);
}

static void test_severity_section(void **state)
{
	_cleanup_(cve_record_freep) struct cve_record *r = parse_file(SAMPLE_SEVERITY);

	assert_string_equal(r->id, "CVE-2023-54223");
	assert_string_equal(r->title, "net/mlx5e: xsk: Fix invalid buffer access for legacy rq");
	assert_false(r->rejected);
	assert_string_equal(r->source, "mbox");
	assert_int_equal(r->published, 0);
	assert_true(
		strncmp(r->description,
			"In the Linux kernel, the following vulnerability has been resolved:\n\n"
			"net/mlx5e: xsk: Fix invalid buffer access for legacy rq\n\n",
			120) == 0);
	/* same end as the JSON description: the CNA's closing line is dropped */
	assert_true(ends_with(r->description, " ---[ end trace 0000000000000000 ]---"));
	assert_null(strstr(r->description, "has assigned"));

	assert_string_equal(r->cvss_vector, "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
	assert_true(r->cvss_score == 9.8);
	assert_string_equal(r->cvss_severity, "CRITICAL");

	assert_int_equal(r->n_pairs, 1);
	assert_string_equal(r->pairs[0].introduced_version, "6.4.5");
	assert_string_equal(r->pairs[0].introduced_commit,
			    "cbb5379362513cbff450df0457dc370da7244bec");
	assert_string_equal(r->pairs[0].fixed_version, "6.4.10");
	assert_string_equal(r->pairs[0].fixed_commit, "58a113a35846d9a5bd759beb332e551e28451f09");

	assert_int_equal(strv_length(r->program_files), 1);
	assert_string_equal(r->program_files[0],
			    "drivers/net/ethernet/mellanox/mlx5/core/en/xsk/rx.c");
	assert_int_equal(strv_length(r->references), 2);
	assert_string_equal(
		r->references[0],
		"https://git.kernel.org/stable/c/58a113a35846d9a5bd759beb332e551e28451f09");
	assert_int_equal(strv_length(r->fix_commits), 2);
	assert_string_equal(r->fix_commits[0], "58a113a35846d9a5bd759beb332e551e28451f09");
	assert_string_equal(r->fix_commits[1], "e0f52298fee449fec37e3e3c32df60008b509b16");
}

static void test_no_severity_section(void **state)
{
	_cleanup_(cve_record_freep) struct cve_record *r = parse_file(SAMPLE_MULTI_FIX);

	assert_string_equal(r->id, "CVE-2022-50380");
	assert_null(r->cvss_vector);
	assert_null(r->cvss_severity);
	assert_true(r->cvss_score < 0);
	assert_int_equal(r->n_pairs, 6);
	assert_int_equal(strv_length(r->fix_commits), 6);
	assert_string_equal(r->fix_commits[5], "dbe863bce7679c7f5ec0e993d834fe16c5e687b5");
	/* the cve.org link sits in the versions boilerplate, not in Mitigation */
	assert_false(strv_contains(r->references, "https://cve.org/CVERecord/?id=CVE-2022-50380"));
}

static void test_unknown_introduction(void **state)
{
	_cleanup_(cve_record_freep) struct cve_record *r = parse_file(SAMPLE_UNKNOWN_INTRO);
	static const char *const fixed[] = { "6.18.34", "7.0.11", "7.1" };

	assert_int_equal(r->n_pairs, 3);
	for (size_t i = 0; i < 3; i++) {
		assert_null(r->pairs[i].introduced_version);
		assert_null(r->pairs[i].introduced_commit);
		assert_string_equal(r->pairs[i].fixed_version, fixed[i]);
	}
	assert_string_equal(r->pairs[2].fixed_commit, "d733ed481fd20a8e7bfe5119c4e77761ba3f87ee");
	assert_string_equal(r->program_files[0], "drivers/net/wireless/intel/iwlwifi/mld/link.c");
}

static void test_unfixed(void **state)
{
	_cleanup_(cve_record_freep) struct cve_record *r = parse_file(SAMPLE_UNFIXED);

	assert_int_equal(r->n_pairs, 4);
	assert_string_equal(r->pairs[2].fixed_version, "6.8");
	assert_string_equal(r->pairs[3].introduced_version, "6.1.116");
	assert_string_equal(r->pairs[3].introduced_commit,
			    "8ca5f0ea52e1eef5e7dcbdff1d1afe602764ea93");
	assert_null(r->pairs[3].fixed_version);
	assert_null(r->pairs[3].fixed_commit);
	assert_int_equal(strv_length(r->fix_commits), 3);
}

static void test_rejected(void **state)
{
	_cleanup_(cve_record_freep) struct cve_record *r = parse_file(SAMPLE_REJECTED);

	assert_string_equal(r->id, "CVE-2026-23320");
	assert_true(r->rejected);
	assert_string_equal(r->title,
			    "usb: gadget: f_ncm: align net_device lifecycle with bind/unbind");
	assert_string_equal(r->description,
			    "CVE-2026-23320 has now been rejected and is no longer a valid CVE.");
	assert_int_equal(r->n_pairs, 0);
	assert_null(r->fix_commits);
}

static void test_references_and_short_commits(void **state)
{
	_cleanup_(cve_record_freep) struct cve_record *r = parse_file(SAMPLE_REFERENCE);
	_cleanup_(cve_record_freep) struct cve_record *old = parse_file(SAMPLE_SHORT_SHA);

	/* a non-commit URL is a reference but no fix commit */
	assert_int_equal(strv_length(r->references), 2);
	assert_string_equal(r->references[1],
			    "https://grsecurity.net/cve-2021-4440_linux_cna_case_study");
	assert_int_equal(strv_length(r->fix_commits), 1);
	assert_string_equal(r->fix_commits[0], "1424ab4bb386df9cc590c73afa55f13e9b00dea2");
	assert_int_equal(strv_length(r->program_files), 10);
	/* indented code inside the description survives */
	assert_non_null(strstr(r->description, "\n\t.cpu_usergs_sysret64    = { 0x0f,"));

	/* early 2024 announcements abbreviate commits to 12 digits */
	assert_int_equal(old->n_pairs, 8);
	assert_string_equal(old->pairs[0].introduced_commit, "e0abdadcc6e1");
	assert_string_equal(old->pairs[7].fixed_version, "6.8");
	assert_string_equal(old->pairs[7].fixed_commit, "f342de4e2f33");
	assert_int_equal(strv_length(old->fix_commits), 8);
}

static void test_rule_inside_description(void **state)
{
	_cleanup_(cve_record_freep) struct cve_record *r = parse_file(SAMPLE_RULE_IN_TEXT);

	/* "KCSAN report:" over a '=' rule is commit text, not a section */
	assert_non_null(strstr(r->description, "\nKCSAN report:\n================"));
	assert_true(ends_with(r->description, "0x0000000000000099 --> R5_Overlap"));
	assert_int_equal(r->n_pairs, 4);
	assert_string_equal(r->cvss_severity, "HIGH");
}

static void test_crlf_and_encoded_subject(void **state)
{
	_cleanup_free_ char *sample = NULL, *a = NULL, *b = NULL, *crlf = NULL;
	_cleanup_(cve_record_freep) struct cve_record *r = NULL;
	size_t len;

	sample = test_read_data(SAMPLE_SEVERITY, &len);
	/* three encoded words (Q, B, Latin-1) folded over three lines, then plain text */
	a = replace_line(sample, "Subject:",
			 "Subject: =?UTF-8?Q?CVE-2023-54223=3A_net/mlx5e=3A_xsk=3A_Fix_inv?=\n"
			 " =?utf-8?b?YWxpZCBidWZmZXIg?=\n"
			 "\t=?ISO-8859-1?Q?f=FCr?= legacy rq =?KOI8-R?Q?x?= =?UTF-8?B?bsOp?=\n"
			 "Date: Tue, 16 Sep 2025 10:12:13 +0200\n");
	b = replace_line(
		a, "Reply-to:", "Reply-to: <cve@kernel.org>,\n <linux-kernel@vger.kernel.org>\n");
	crlf = to_crlf(b);
	r = parse_ok(crlf, strlen(crlf));

	assert_string_equal(
		r->title,
		"net/mlx5e: xsk: Fix invalid buffer f\xc3\xbcr legacy rq =?KOI8-R?Q?x?= n\xc3\xa9");
	assert_int_equal(r->published, 1758010333);
	assert_null(strchr(r->description, '\r'));
	assert_null(strchr(r->pairs[0].fixed_commit, '\r'));
	assert_string_equal(r->program_files[0],
			    "drivers/net/ethernet/mellanox/mlx5/core/en/xsk/rx.c");
	assert_string_equal(r->cvss_severity, "CRITICAL");
}

static void test_from_quoting(void **state)
{
	_cleanup_free_ char *sample = NULL, *quoted = NULL, *bare = NULL;
	_cleanup_(cve_record_freep) struct cve_record *r = NULL, *m = NULL;
	size_t len;

	sample = test_read_data(SAMPLE_SEVERITY, &len);
	quoted = replace_line(sample, "Crash log:",
			      ">From a quoted line\n>>From a twice quoted line\nCrash log:\n");
	r = parse_ok(quoted, strlen(quoted));
	assert_non_null(
		strstr(r->description, "\nFrom a quoted line\n>From a twice quoted line\n"));

	/* without an envelope line (maildir) nothing was quoted */
	bare = strdup(strchr(quoted, '\n') + 1);
	assert_non_null(bare);
	m = parse_ok(bare, strlen(bare));
	assert_non_null(strstr(m->description, "\n>From a quoted line\n>>From a twice"));
}

static void test_quoted_printable_body(void **state)
{
	_cleanup_free_ char *sample = NULL, *escaped = NULL, *a = NULL, *qp = NULL;
	_cleanup_(cve_record_freep) struct cve_record *r = NULL;
	size_t len;

	sample = test_read_data(SAMPLE_SEVERITY, &len);
	escaped = qp_escape(sample);
	a = replace_line(escaped, "Subject:",
			 "Subject: CVE-2023-54223: title\n"
			 "MIME-Version: 1.0\n"
			 "Content-Type: text/plain; charset=UTF-8\n"
			 "Content-Transfer-Encoding: quoted-printable\n");
	qp = replace_line(
		a, "\tIssue introduced",
		"\tIssue introduced in 6.4.5 with commit cbb5379362513cbff450df0457dc370=\n"
		"da7244bec and fixed in 6.4.10 with commit 58a113a35846d9a5bd759beb332e551e=\n"
		"28451f09   \n");
	r = parse_ok(qp, strlen(qp));
	assert_int_equal(r->n_pairs, 1);
	assert_string_equal(r->pairs[0].introduced_commit,
			    "cbb5379362513cbff450df0457dc370da7244bec");
	assert_string_equal(r->pairs[0].fixed_commit, "58a113a35846d9a5bd759beb332e551e28451f09");
	/* "=3D" came back as the '=' of the underlines: the sections were found */
	assert_string_equal(r->cvss_severity, "CRITICAL");
	assert_non_null(strstr(r->description, "CR4: 0000000000370eb0"));
}

static void test_malformed(void **state)
{
	_cleanup_free_ char *sample = NULL, *not_cve = NULL, *t = NULL, *badvec = NULL,
			    *nosubj = NULL, *badid = NULL, *multi = NULL, *dup = NULL,
			    *nodesc = NULL, *badhdr = NULL, *many = NULL;
	_cleanup_strbuf_ struct strbuf files;
	char garbage[512];
	const char *cut;
	size_t len, nlen;

	sample = test_read_data(SAMPLE_SEVERITY, &len);
	not_cve = test_read_data("mbox/not-cve.eml", &nlen);

	/* truncated inside a version line, after the description, inside the headers */
	cut = strstr(sample, "with commit cbb53793");
	assert_non_null(cut);
	parse_fails(sample, (size_t)(cut - sample) + 16, -EBADMSG, "line 79: cannot parse version");
	cut = strstr(sample, "Affected and fixed versions");
	parse_fails(sample, (size_t)(cut - sample), -EBADMSG,
		    "no lines in an 'Affected and fixed versions' section");
	parse_fails(sample, 150, -EBADMSG, "no blank line after the headers");
	parse_fails("", 0, -EBADMSG, "no blank line after the headers");

	parse_fails(not_cve, nlen, -EBADMSG,
		    "subject '[PATCH] foo: fix a typo in a comment' is not a CVE announcement");

	/* binary garbage, with and without NUL bytes */
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(i * 7 + 3);
	parse_fails(garbage, sizeof(garbage), -EBADMSG, "NUL byte at offset");
	for (size_t i = 0; i < sizeof(garbage); i++)
		garbage[i] = (char)(0x80 | (i * 13));
	parse_fails(garbage, sizeof(garbage), -EBADMSG, "malformed header");

	badhdr = replace_line(sample, "To:", "To <linux-cve-announce@vger.kernel.org>\n");
	parse_fails(badhdr, strlen(badhdr), -EBADMSG, "line 3: malformed header line");
	nosubj = replace_line(sample, "Subject:", "X-Subject: CVE-2023-54223: x\n");
	parse_fails(nosubj, strlen(nosubj), -EBADMSG, "no Subject header");
	badid = replace_line(sample, "Subject:", "Subject: CVE-23-54223: x\n");
	parse_fails(badid, strlen(badid), -EBADMSG, "is not a CVE announcement");
	badvec = replace_line(sample, "  Vector:", "  Vector:    CVSS:3.1/AV:N/AC:L/PR:N\n");
	parse_fails(badvec, strlen(badvec), -EBADMSG,
		    "invalid CVSS vector 'CVSS:3.1/AV:N/AC:L/PR:N'");
	multi = replace_line(
		sample, "Subject:",
		"Subject: CVE-2023-54223: x\nContent-Type: multipart/mixed; boundary=x\n");
	parse_fails(multi, strlen(multi), -EBADMSG, "multipart");
	dup = replace_line(sample, "Severity", "Affected files\n==============\n\nSeverity\n");
	parse_fails(dup, strlen(dup), -EBADMSG, "duplicate 'Affected files' section");
	nodesc = replace_line(sample, "Description", "Beschreibung\n");
	parse_fails(nodesc, strlen(nodesc), -EBADMSG, "no Description section");

	/* list sections are capped */
	strbuf_init(&files, 0);
	assert_int_equal(strbuf_adds(&files, "The file(s) affected by this issue are:\n"), 0);
	for (int i = 0; i <= 10000; i++)
		assert_int_equal(strbuf_addf(&files, "\tdrivers/f%05d.c\n", i), 0);
	many = replace_line(sample, "The file(s) affected", files.buf);
	parse_fails(many, strlen(many), -EBADMSG,
		    "more than 10000 entries in 'Affected files' section");

	/* the size check comes before the contents are looked at */
	parse_fails(sample, (size_t)MBOX_MESSAGE_MAX + 1, -EFBIG, "byte limit");
}

struct seen {
	char **ids;
	char **origins;
	int stop_with;
	struct cve_record *kept;
};

static int collect(struct cve_record *rec, const char *origin, void *userdata)
{
	struct seen *s = userdata;

	assert_int_equal(strv_push(&s->ids, rec->id), 0);
	assert_int_equal(strv_push(&s->origins, origin), 0);
	if (s->stop_with)
		return s->stop_with;
	/* take ownership of the rejected one to test the > 0 contract */
	if (rec->rejected && !s->kept) {
		s->kept = rec;
		return 1;
	}
	return 0;
}

static void seen_release(struct seen *s)
{
	strv_free(s->ids);
	strv_free(s->origins);
	cve_record_free(s->kept);
}

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
	_cleanup_free_ char *p = path_join(dir, name);

	assert_non_null(p);
	assert_int_equal(write_file_atomic(p, data, len, 0644), 0);
}

static void copy_data(const char *dir, const char *name, const char *rel)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	buf = test_read_data(rel, &len);
	write_file(dir, name, buf, len);
}

static void test_foreach_mbox_file(void **state)
{
	_cleanup_free_ char *path = test_data_path("mbox/several.mbox"), *o = NULL;
	_cleanup_(seen_release) struct seen s = { 0 };
	unsigned bad = 99;

	assert_int_equal(mbox_foreach(path, collect, &s, &bad), 4);
	assert_int_equal(bad, 1);
	assert_int_equal(strv_length(s.ids), 4);
	assert_string_equal(s.ids[0], "CVE-2023-54223");
	assert_string_equal(s.ids[1], "CVE-2026-64212");
	assert_string_equal(s.ids[2], "CVE-2026-23320");
	assert_string_equal(s.ids[3], "CVE-2023-52490");
	assert_non_null(s.kept);
	assert_true(s.kept->rejected);
	assert_int_equal(asprintf(&o, "%s:175", path) > 0, 1);
	assert_string_equal(s.origins[2], o);
	assert_true(ends_with(s.origins[3], "several.mbox:210"));
}

static void test_foreach_maildir(void **state)
{
	_cleanup_free_ char *tmp = test_tmpdir_new(), *cur = NULL, *new = NULL, *tmpd = NULL;
	_cleanup_(seen_release) struct seen s = { 0 };
	_cleanup_free_ char *sample = NULL, *crlf = NULL;
	unsigned bad = 99;
	size_t len;

	cur = path_join(tmp, "cur");
	new = path_join(tmp, "new");
	tmpd = path_join(tmp, "tmp");
	assert_int_equal(mkdir_p(cur, 0755), 0);
	assert_int_equal(mkdir_p(new, 0755), 0);
	assert_int_equal(mkdir_p(tmpd, 0755), 0);
	/* maildir files carry no envelope line */
	sample = test_read_data(SAMPLE_UNKNOWN_INTRO, &len);
	crlf = to_crlf(strchr(sample, '\n') + 1);
	write_file(cur, "1700000000.1.host:2,S", crlf, strlen(crlf));
	write_file(cur, "1700000000.2.host:2,", "\x01\x02garbage\n", 10);
	write_file(cur, ".hidden", "x", 1);
	copy_data(new, "1700000001.1.host", SAMPLE_REJECTED);
	copy_data(tmpd, "1700000002.1.host", SAMPLE_SEVERITY);

	assert_int_equal(mbox_foreach(tmp, collect, &s, &bad), 2);
	assert_int_equal(bad, 1);
	assert_string_equal(s.ids[0], "CVE-2026-64212");
	assert_string_equal(s.ids[1], "CVE-2026-23320");
	assert_true(ends_with(s.origins[0], "/cur/1700000000.1.host:2,S"));
	assert_true(ends_with(s.origins[1], "/new/1700000001.1.host"));
	test_tmpdir_remove(TAKE_PTR(tmp));
}

static void test_foreach_directory(void **state)
{
	_cleanup_free_ char *tmp = test_tmpdir_new(), *sub = NULL, *empty = NULL;
	_cleanup_(seen_release) struct seen s = { 0 };
	unsigned bad = 99;

	copy_data(tmp, "a.mbox", "mbox/several.mbox");
	copy_data(tmp, "b.mbox", SAMPLE_MULTI_FIX);
	copy_data(tmp, "c.mbox.rejected", SAMPLE_REJECTED);
	copy_data(tmp, "d.txt", SAMPLE_UNFIXED);
	write_file(tmp, "e.mbox", "", 0);
	sub = path_join(tmp, "f.mbox");
	assert_int_equal(mkdir_p(sub, 0755), 0);

	assert_int_equal(mbox_foreach(tmp, collect, &s, &bad), 5);
	assert_int_equal(bad, 1);
	assert_string_equal(s.ids[4], "CVE-2022-50380");
	assert_true(ends_with(s.origins[4], "/b.mbox:1"));

	/* an empty mbox file holds no messages and nothing bad */
	empty = path_join(tmp, "e.mbox");
	bad = 99;
	assert_int_equal(mbox_foreach(empty, collect, &s, &bad), 0);
	assert_int_equal(bad, 0);
	test_tmpdir_remove(TAKE_PTR(tmp));
}

static void test_foreach_errors_and_limits(void **state)
{
	_cleanup_free_ char *tmp = test_tmpdir_new(), *big = NULL, *sample = NULL;
	_cleanup_(seen_release) struct seen s = { .stop_with = -ECANCELED };
	_cleanup_(seen_release) struct seen t = { 0 };
	_cleanup_strbuf_ struct strbuf sb;
	_cleanup_free_ char *several = test_data_path("mbox/several.mbox");
	_cleanup_free_ char *missing = path_join(tmp, "missing");
	unsigned bad = 99;
	size_t len;

	assert_int_equal(mbox_foreach(missing, collect, &s, &bad), -ENOENT);
	assert_int_equal(bad, 99);
	/* the callback's error stops the walk and is returned */
	assert_int_equal(mbox_foreach(several, collect, &s, &bad), -ECANCELED);
	assert_int_equal(strv_length(s.ids), 1);
	assert_int_equal(bad, 99);

	/* one message over the limit, one line without a newline, then a good one */
	sample = test_read_data(SAMPLE_UNFIXED, &len);
	strbuf_init(&sb, 0);
	assert_int_equal(
		strbuf_adds(&sb,
			    "From x Mon Sep 17 00:00:00 2001\nSubject: CVE-2024-0001: big\n\n"),
		0);
	assert_int_equal(strbuf_grow(&sb, MBOX_MESSAGE_MAX + 2), 0);
	memset(sb.buf + sb.len, 'a', MBOX_MESSAGE_MAX + 1);
	sb.len += MBOX_MESSAGE_MAX + 1;
	sb.buf[sb.len] = '\0';
	assert_int_equal(strbuf_adds(&sb, "\n\n"), 0);
	assert_int_equal(strbuf_adds(&sb, sample), 0);
	big = path_join(tmp, "big.mbox");
	write_file(tmp, "big.mbox", sb.buf, sb.len);
	assert_int_equal(mbox_foreach(big, collect, &t, &bad), 1);
	assert_int_equal(bad, 1);
	assert_string_equal(t.ids[0], "CVE-2023-52490");
	test_tmpdir_remove(TAKE_PTR(tmp));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_severity_section),
		cmocka_unit_test(test_no_severity_section),
		cmocka_unit_test(test_unknown_introduction),
		cmocka_unit_test(test_unfixed),
		cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_references_and_short_commits),
		cmocka_unit_test(test_rule_inside_description),
		cmocka_unit_test(test_crlf_and_encoded_subject),
		cmocka_unit_test(test_from_quoting),
		cmocka_unit_test(test_quoted_printable_body),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_foreach_mbox_file),
		cmocka_unit_test(test_foreach_maildir),
		cmocka_unit_test(test_foreach_directory),
		cmocka_unit_test(test_foreach_errors_and_limits),
	};

	return TEST_MAIN(tests);
}
