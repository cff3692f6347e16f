/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One kernel CVE as the scanner stores it, and the parsers that build it from
 * the kernel CNA's files (CVE JSON 5.x, .dyad, .sha1, .cvss, .vulnerable,
 * .reference, .message).  The mbox parser (mbox.h) fills the same struct.
 *
 * Ownership: every pointer in struct cve_record is owned by the record and
 * released by cve_record_free().
 */
#ifndef TUXTAPE_CVE_RECORD_H
#define TUXTAPE_CVE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Upper bound for any one record file; larger files are refused with -EFBIG. */
#define CVE_RECORD_FILE_MAX (8u * 1024 * 1024)
#define CVE_ID_MAX 32

/*
 * One vulnerable:fixed pair of a stable branch or mainline.  A NULL version or
 * commit means "0" in the dyad: unknown introduction on the left, not fixed on
 * the right.  Commits are hex, 40 or (older records) 12 characters.
 */
struct cve_pair {
	char *introduced_version;
	char *introduced_commit;
	char *fixed_version;
	char *fixed_commit;
};

struct cve_record {
	char id[CVE_ID_MAX];
	char *title;
	char *description;
	char **fix_commits;      /* strv, from .sha1 (or the JSON/mbox when absent) */
	char **vulnerable_commits; /* strv, from .vulnerable overrides */
	struct cve_pair *pairs;
	size_t n_pairs;
	char **program_files;    /* strv */
	char **references;       /* strv of URLs */
	char *cvss_vector;       /* CNA CVSS:3.1 vector or NULL */
	double cvss_score;       /* computed by cvss.c; < 0 when no vector */
	char *cvss_severity;     /* "LOW", "MEDIUM", "HIGH", "CRITICAL" or NULL */
	char *cvss_rationale;
	bool rejected;
	char *source;            /* "vulns" or "mbox" */
	int64_t published;       /* seconds since epoch, 0 = unknown */
	int64_t modified;
};

struct cve_record *cve_record_new(const char *id);
struct cve_record *cve_record_free(struct cve_record *r);
DEFINE_CLEANUP_FUNC(struct cve_record, cve_record_free)

/* True for "CVE-YYYY-N" with 4-digit year and 4..19 digit number. */
bool cve_id_valid(const char *id);

int cve_record_add_pair(struct cve_record *r, const char *iv, const char *ic, const char *fv,
			const char *fc);

/*
 * Parsers.  Each takes a buffer of len bytes (not necessarily NUL-terminated
 * for JSON) and fills r.  On malformed input they return -EBADMSG and, when
 * reterr is given, write a short description of what and where (for example
 * "line 3: expected 4 ':'-separated fields") into it.
 */
int cve_record_parse_json(struct cve_record *r, const char *buf, size_t len, char *reterr,
			  size_t errsize);
int cve_record_parse_dyad(struct cve_record *r, const char *buf, size_t len, char *reterr,
			  size_t errsize);
int cve_record_parse_sha1(struct cve_record *r, const char *buf, size_t len, char *reterr,
			  size_t errsize);
int cve_record_parse_cvss(struct cve_record *r, const char *buf, size_t len, char *reterr,
			  size_t errsize);
int cve_record_parse_vulnerable(struct cve_record *r, const char *buf, size_t len, char *reterr,
				size_t errsize);
int cve_record_parse_reference(struct cve_record *r, const char *buf, size_t len);
int cve_record_parse_message(struct cve_record *r, const char *buf, size_t len);

/* Kernel version strings: "6.1", "6.1.183", "2.6.26", "2.6.32.71", "6.8-rc3". */
struct kernel_version {
	int part[4];    /* missing parts are 0 */
	int nparts;
	int rc;         /* 0 = release, N = -rcN (sorts before the release) */
};
int kernel_version_parse(const char *s, struct kernel_version *ret);
int kernel_version_cmp(const struct kernel_version *a, const struct kernel_version *b);

#endif
