/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Enrichment feeds for kernel CVEs: CISA KEV (enrich-kev.c), FIRST EPSS
 * (enrich-epss.c) and the NVD CVE API 2.0 with its rate-limited, caching
 * client (enrich-nvd.c).
 *
 * Parsers take a buffer and a callback invoked once per entry.  Strings in
 * the structs handed to callbacks are borrowed and valid only during the
 * call.  A callback returning a negative errno stops the parse, which then
 * returns that errno.  Malformed input gives -EBADMSG and, when reterr is
 * given, a short "what and where" text (for example
 * "vulnerabilities[12]: missing cveID").  Oversized input gives -EFBIG.
 *
 * Thread-safety: the parsers are reentrant; one nvd_client must not be used
 * by two threads at once.
 */
#ifndef TUXTAPE_CVE_ENRICH_H
#define TUXTAPE_CVE_ENRICH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define ENRICH_CVE_ID_MAX 32
#define ENRICH_ERROR_MAX 512


/* ---- CISA Known Exploited Vulnerabilities ------------------------------ */

/* The catalog is ~1.3 MB in 2025; anything this large is not a KEV catalog. */
#define KEV_JSON_MAX (64u * 1024 * 1024)

struct kev_entry {
	const char *cve_id;
	const char *date_added;		/* "YYYY-MM-DD" */
	int64_t date_added_ts;		/* the same, epoch seconds (UTC midnight) */
	const char *due_date;		/* "YYYY-MM-DD" or NULL */
	int64_t due_date_ts;		/* 0 when absent */
	const char *vulnerability_name; /* or NULL */
	bool known_ransomware;		/* knownRansomwareCampaignUse == "Known" */
	size_t index;			/* position in vulnerabilities[] */
};

struct kev_catalog {
	char catalog_version[64]; /* "2025.08.25", "" when absent */
	int64_t date_released;	  /* 0 when absent */
	size_t count;		  /* entries delivered */
};

typedef int (*kev_entry_fn)(const struct kev_entry *e, void *userdata);

/*
 * Parses the KEV JSON catalog of len bytes (at most KEV_JSON_MAX).  Entries
 * are matched by cveID only (vendorProject/product are unreliable, e.g.
 * CVE-2024-36971 is filed under "Android").  ret_catalog is written on
 * success only and may be NULL.
 */
int kev_parse(const char *buf, size_t len, kev_entry_fn fn, void *userdata,
	      struct kev_catalog *ret_catalog, char *reterr, size_t errsize);

/* ---- FIRST EPSS ---------------------------------------------------------- */

/* Bound on the decompressed CSV (~300k rows are ~10 MB in 2026). */
#define EPSS_DECOMPRESSED_MAX (512u * 1024 * 1024)
/* Rows are ~35 bytes; longer lines are bad rows. */
#define EPSS_LINE_MAX 1024

struct epss_row {
	const char *cve_id;
	double epss;	    /* 0..1 */
	double percentile;  /* 0..1 */
	unsigned long line; /* 1-based line number in the (decompressed) CSV */
};

struct epss_info {
	char model_version[64];	      /* "v2026.06.15", "" when the file has no comment line */
	int64_t score_date;	      /* epoch seconds, 0 when unknown */
	unsigned long rows;	      /* rows delivered */
	unsigned long bad_rows;	      /* rows skipped */
	unsigned long first_bad_line; /* 0 when none */
};

typedef int (*epss_row_fn)(const struct epss_row *row, void *userdata);
/* Told about each skipped row, e.g. to log "line %lu: %s, ignoring". */
typedef void (*epss_bad_row_fn)(unsigned long line, const char *reason, void *userdata);

/*
 * Parses an EPSS bulk CSV, gzip-compressed (detected by its magic) or plain:
 * optional "#model_version:...,score_date:..." line, the header
 * "cve,epss,percentile", then rows.  Bad rows are skipped and counted, not
 * fatal; a missing header or a broken gzip stream is -EBADMSG; more than
 * max_decompressed bytes of CSV (0 = EPSS_DECOMPRESSED_MAX) is -EFBIG.
 * bad_fn may be NULL.  ret_info is written on success only and may be NULL.
 */
int epss_parse(const void *data, size_t len, size_t max_decompressed, epss_row_fn fn,
	       epss_bad_row_fn bad_fn, void *userdata, struct epss_info *ret_info, char *reterr,
	       size_t errsize);

/* ---- NVD CVE API 2.0 -------------------------------------------------------- */

#define NVD_BASE_URL_DEFAULT "https://services.nvd.nist.gov/rest/json/cves/2.0"
/* 2,000 CVEs with full configurations; well above any real page. */
#define NVD_RESPONSE_MAX (128u * 1024 * 1024)
#define NVD_RESULTS_PER_PAGE 2000
/* NVD refuses date ranges longer than 120 consecutive days. */
#define NVD_WINDOW_MAX_SECONDS (120LL * 24 * 3600)
#define NVD_CWES_MAX 16
/* Rolling-window rate limits from the NVD "start here" page. */
#define NVD_RATE_WINDOW_MS 30000
#define NVD_RATE_NO_KEY 5
#define NVD_RATE_WITH_KEY 50

struct nvd_cvss {
	const char *version;  /* "3.1", "3.0", "4.0"; NULL when there is no metric */
	const char *vector;   /* "CVSS:3.1/AV:L/..." */
	double score;	      /* -1 when absent */
	const char *severity; /* "HIGH", ... or NULL */
	bool primary;	      /* type "Primary" (NVD's own) rather than "Secondary" */
};

struct nvd_cve {
	const char *id;
	int64_t published; /* epoch seconds (NVD times are UTC) */
	int64_t last_modified;
	const char *vuln_status;	/* "Analyzed", "Modified", ... or NULL */
	struct nvd_cvss cvss3;		/* v3.1, else v3.0; Primary preferred */
	struct nvd_cvss cvss4;		/* v4.0; Primary preferred */
	const char *cwes[NVD_CWES_MAX]; /* distinct "CWE-n" values, NVD-CWE-* dropped */
	size_t n_cwes;
	bool cisa_exploit_add;	     /* in KEV according to NVD */
	int64_t cisa_exploit_add_ts; /* 0 when absent */
	size_t index;		     /* position in vulnerabilities[] */
};

struct nvd_page {
	long results_per_page;
	long start_index;
	long total_results;
	size_t count; /* CVEs in this page */
};

typedef int (*nvd_cve_fn)(const struct nvd_cve *cve, void *userdata);

/*
 * Parses one API 2.0 response envelope (at most NVD_RESPONSE_MAX bytes) and
 * calls fn per vulnerabilities[].cve.  ret_page is written on success only
 * and may be NULL.  The whole envelope is validated before the first
 * callback, so a malformed page delivers nothing.
 */
int nvd_parse_response(const char *buf, size_t len, nvd_cve_fn fn, void *userdata,
		       struct nvd_page *ret_page, char *reterr, size_t errsize);

/*
 * Rolling-window rate limiter: at most max_requests in any window_ms.
 * Times are milliseconds of a monotonic clock.
 */
struct nvd_rate_limiter {
	unsigned max_requests; /* 1..NVD_RATE_WITH_KEY */
	int64_t window_ms;
	int64_t stamps[NVD_RATE_WITH_KEY]; /* ring of the last request times */
	unsigned n;
	unsigned head; /* oldest entry when n == max_requests */
};

void nvd_rate_limiter_init(struct nvd_rate_limiter *rl, unsigned max_requests, int64_t window_ms);
/* Milliseconds to wait before a request at time now is allowed (0 = go). */
int64_t nvd_rate_limiter_delay(const struct nvd_rate_limiter *rl, int64_t now);
void nvd_rate_limiter_record(struct nvd_rate_limiter *rl, int64_t now);

/* Injectable time for tests: a monotonic clock in ms and a sleep. */
typedef int64_t (*nvd_clock_fn)(void *userdata);
typedef void (*nvd_sleep_fn)(uint64_t ms, void *userdata);

struct nvd_client_options {
	const char *base_url;	/* NULL = NVD_BASE_URL_DEFAULT; also file://... or a local path */
	const char *api_key;	/* NULL = none; sent as header "apiKey", never logged */
	const char *cache_dir;	/* NULL = no cache; created when missing */
	const char *source_identifier; /* fetch_changed() only: NVD sourceIdentifier filter */
	bool offline;		/* answer from the cache only */
	unsigned max_attempts;	/* HTTP attempts per request, 0 = http default */
	unsigned retry_base_ms; /* 0 = http default */
	unsigned timeout_ms;	/* per attempt, 0 = http default */
	nvd_clock_fn clock;	/* NULL = CLOCK_MONOTONIC */
	nvd_sleep_fn sleep;	/* NULL = nanosleep; also used for HTTP retries */
	void *time_userdata;
};

struct nvd_client;

/* Copies what it needs from opts.  Returns -ENOMEM or -EINVAL (bad URL). */
int nvd_client_new(const struct nvd_client_options *opts, struct nvd_client **ret);
struct nvd_client *nvd_client_free(struct nvd_client *c);
DEFINE_CLEANUP_FUNC(struct nvd_client, nvd_client_free)

/*
 * Fetches one CVE (query cveId=...) and calls fn for it; a CVE unknown to
 * NVD calls fn zero times and returns 0.  Returns the number of CVEs
 * delivered or a negative errno:
 *   -ENETUNREACH   offline and no cached answer for this query
 *   -EACCES        NVD answered 401/403 (bad key, or rate limit exceeded)
 *   -EAGAIN        NVD kept answering 429/5xx
 *   -EBADMSG       the answer is not a valid API 2.0 envelope
 *   and the network errors of http_get().
 * A failed request never touches the cached answer.  nvd_client_error()
 * then describes the failure, naming the source and the HTTP status.
 */
int nvd_client_fetch_cve(struct nvd_client *c, const char *cve_id, nvd_cve_fn fn, void *userdata);

/*
 * Fetches CVEs last modified in [start, end] (epoch seconds), split into
 * windows of at most 120 days, each paged with startIndex/resultsPerPage.
 * Returns the number of CVEs delivered or a negative errno as above (-EINVAL
 * for end < start).  Pages before a failure have already been delivered.
 */
int nvd_client_fetch_changed(struct nvd_client *c, int64_t start, int64_t end, nvd_cve_fn fn,
			     void *userdata);

/* The last failure's description; "" after success.  Owned by the client. */
const char *nvd_client_error(const struct nvd_client *c);
/* Network requests made so far (cache hits and local files not counted). */
unsigned nvd_client_requests(const struct nvd_client *c);

/*
 * Cache file name for a query string (caller frees); exposed for tests.
 * Stable across versions so caches survive upgrades.
 */
char *nvd_cache_name(const char *base_url, const char *query);

#endif
