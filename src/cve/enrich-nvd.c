/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "enrich.h"
#include "record.h"
#include "fileio.h"
#include "http.h"
#include "log.h"
#include "parse-util.h"

/* Cache file names keep this much of the query readable; a hash makes them unique. */
#define CACHE_NAME_QUERY_MAX 160

struct nvd_client {
	char *base_url;	      /* http(s):// or file:// URL */
	char *local_path;     /* set when the base is a local file or directory */
	char *api_key_header; /* "apiKey: ..." or NULL */
	char *cache_dir;
	char *source_identifier; /* sourceIdentifier filter of fetch_changed(), or NULL */
	bool offline;
	unsigned max_attempts;
	unsigned retry_base_ms;
	unsigned timeout_ms;
	nvd_clock_fn clock;
	nvd_sleep_fn sleep;
	void *time_userdata;
	struct nvd_rate_limiter limiter;
	unsigned requests;
	char error[ENRICH_ERROR_MAX];
};

/* ---- response parser ---------------------------------------------------- */

/* Optional string member: absent/null gives NULL, another type -EBADMSG. */
static int get_str(json_t *obj, const char *key, const char **ret)
{
	json_t *v = json_object_get(obj, key);

	*ret = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -EBADMSG;
	*ret = json_string_value(v);
	return 0;
}

static int get_count(json_t *obj, const char *key, long *ret)
{
	json_t *v = json_object_get(obj, key);
	json_int_t x;

	if (!json_is_integer(v))
		return -EBADMSG;
	x = json_integer_value(v);
	if (x < 0 || x > LONG_MAX)
		return -EBADMSG;
	*ret = (long)x;
	return 0;
}

/* One cvssMetricV3x/V40 element; *what names the problem on failure. */
static int parse_metric(json_t *m, const char *default_version, struct nvd_cvss *c,
			const char **what)
{
	const char *type;
	json_t *data, *score;

	*c = (struct nvd_cvss){ .score = -1 };
	if (!json_is_object(m)) {
		*what = "expected an object";
		return -EBADMSG;
	}
	if (get_str(m, "type", &type) < 0) {
		*what = "type is not a string";
		return -EBADMSG;
	}
	c->primary = type && streq(type, "Primary");
	data = json_object_get(m, "cvssData");
	if (!json_is_object(data)) {
		*what = "missing cvssData";
		return -EBADMSG;
	}
	if (get_str(data, "vectorString", &c->vector) < 0 || !c->vector) {
		*what = "missing cvssData.vectorString";
		return -EBADMSG;
	}
	score = json_object_get(data, "baseScore");
	if (!json_is_number(score)) {
		*what = "missing cvssData.baseScore";
		return -EBADMSG;
	}
	c->score = json_number_value(score);
	if (!isfinite(c->score) || c->score < 0.0 || c->score > 10.0) {
		*what = "cvssData.baseScore out of range";
		return -EBADMSG;
	}
	if (get_str(data, "baseSeverity", &c->severity) < 0) {
		*what = "cvssData.baseSeverity is not a string";
		return -EBADMSG;
	}
	if (get_str(data, "version", &c->version) < 0) {
		*what = "cvssData.version is not a string";
		return -EBADMSG;
	}
	if (!c->version)
		c->version = default_version;
	return 0;
}

/* Picks the Primary metric of metrics[key], else the first one. */
static int pick_cvss(json_t *metrics, const char *key, const char *version, size_t i,
		     struct nvd_cvss *out, char *reterr, size_t errsize)
{
	json_t *arr = json_object_get(metrics, key), *m;
	size_t j;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return parse_error(reterr, errsize,
			    "vulnerabilities[%zu].cve.metrics.%s: expected an array", i, key);
	json_array_foreach (arr, j, m) {
		struct nvd_cvss c;
		const char *what = NULL;

		if (parse_metric(m, version, &c, &what) < 0)
			return parse_error(reterr, errsize, "vulnerabilities[%zu].cve.metrics.%s[%zu]: %s",
				    i, key, j, what);
		if (!out->vector || (c.primary && !out->primary))
			*out = c;
	}
	return 0;
}

static int parse_weaknesses(json_t *cve, size_t i, struct nvd_cve *out, char *reterr,
			    size_t errsize)
{
	json_t *arr = json_object_get(cve, "weaknesses"), *w, *descs, *d;
	size_t j, k;

	if (!arr || json_is_null(arr))
		return 0;
	if (!json_is_array(arr))
		return parse_error(reterr, errsize,
			    "vulnerabilities[%zu].cve.weaknesses: expected an array", i);
	json_array_foreach (arr, j, w) {
		descs = json_is_object(w) ? json_object_get(w, "description") : NULL;
		if (!json_is_array(descs))
			return parse_error(reterr, errsize,
				    "vulnerabilities[%zu].cve.weaknesses[%zu]: missing description",
				    i, j);
		json_array_foreach (descs, k, d) {
			const char *v;
			bool dup = false;

			if (!json_is_object(d) || get_str(d, "value", &v) < 0 || !v)
				return parse_error(
					reterr, errsize,
					"vulnerabilities[%zu].cve.weaknesses[%zu].description[%zu]: missing value",
					i, j, k);
			/* "NVD-CWE-Other"/"NVD-CWE-noinfo" say nothing about the bug class. */
			if (strncmp(v, "CWE-", 4) != 0)
				continue;
			for (size_t n = 0; n < out->n_cwes; n++)
				dup = dup || streq(out->cwes[n], v);
			if (!dup && out->n_cwes < NVD_CWES_MAX)
				out->cwes[out->n_cwes++] = v;
		}
	}
	return 0;
}

static int parse_cve(json_t *item, size_t i, struct nvd_cve *out, char *reterr, size_t errsize)
{
	const char *published, *modified, *kev;
	json_t *cve, *metrics;
	int r;

	*out = (struct nvd_cve){ .index = i, .cvss3.score = -1, .cvss4.score = -1 };
	cve = json_is_object(item) ? json_object_get(item, "cve") : NULL;
	if (!json_is_object(cve))
		return parse_error(reterr, errsize, "vulnerabilities[%zu]: missing cve", i);
	if (get_str(cve, "id", &out->id) < 0 || !cve_id_valid(out->id))
		return parse_error(reterr, errsize, "vulnerabilities[%zu].cve: missing or invalid id", i);
	if (get_str(cve, "published", &published) < 0 || !published ||
	    parse_timestamp(published, &out->published) < 0)
		return parse_error(reterr, errsize, "vulnerabilities[%zu].cve (%s): invalid published", i,
			    out->id);
	if (get_str(cve, "lastModified", &modified) < 0 || !modified ||
	    parse_timestamp(modified, &out->last_modified) < 0)
		return parse_error(reterr, errsize, "vulnerabilities[%zu].cve (%s): invalid lastModified",
			    i, out->id);
	if (get_str(cve, "vulnStatus", &out->vuln_status) < 0)
		return parse_error(reterr, errsize, "vulnerabilities[%zu].cve (%s): invalid vulnStatus", i,
			    out->id);
	if (get_str(cve, "cisaExploitAdd", &kev) < 0 ||
	    (kev && parse_timestamp(kev, &out->cisa_exploit_add_ts) < 0))
		return parse_error(reterr, errsize,
			    "vulnerabilities[%zu].cve (%s): invalid cisaExploitAdd", i, out->id);
	out->cisa_exploit_add = kev != NULL;

	metrics = json_object_get(cve, "metrics");
	if (metrics && !json_is_null(metrics)) {
		if (!json_is_object(metrics))
			return parse_error(reterr, errsize,
				    "vulnerabilities[%zu].cve.metrics: expected an object", i);
		r = pick_cvss(metrics, "cvssMetricV31", "3.1", i, &out->cvss3, reterr, errsize);
		if (r >= 0 && !out->cvss3.vector)
			r = pick_cvss(metrics, "cvssMetricV30", "3.0", i, &out->cvss3, reterr,
				      errsize);
		if (r >= 0)
			r = pick_cvss(metrics, "cvssMetricV40", "4.0", i, &out->cvss4, reterr,
				      errsize);
		if (r < 0)
			return r;
	}
	return parse_weaknesses(cve, i, out, reterr, errsize);
}

/* Loads and fully validates an envelope; *ret_root owns what page borrows. */
static int parse_envelope(const char *buf, size_t len, json_t **ret_root, json_t **ret_vulns,
			  struct nvd_page *ret_page, char *reterr, size_t errsize)
{
	json_auto_t *root = NULL;
	struct nvd_page page = { 0 };
	struct nvd_cve cve;
	json_error_t jerr;
	json_t *vulns, *item;
	size_t i;
	int r;

	if (len > NVD_RESPONSE_MAX) {
		parse_error(reterr, errsize, "response larger than %u bytes", NVD_RESPONSE_MAX);
		return -EFBIG;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return parse_error(reterr, errsize, "line %d column %d: %s", jerr.line, jerr.column,
			    jerr.text);
	if (!json_is_object(root))
		return parse_error(reterr, errsize, "top level: expected an object");
	if (get_count(root, "resultsPerPage", &page.results_per_page) < 0)
		return parse_error(reterr, errsize, "resultsPerPage: missing or not a count");
	if (get_count(root, "startIndex", &page.start_index) < 0)
		return parse_error(reterr, errsize, "startIndex: missing or not a count");
	if (get_count(root, "totalResults", &page.total_results) < 0)
		return parse_error(reterr, errsize, "totalResults: missing or not a count");
	vulns = json_object_get(root, "vulnerabilities");
	if (!json_is_array(vulns))
		return parse_error(reterr, errsize, "vulnerabilities: missing or not an array");
	json_array_foreach (vulns, i, item) {
		r = parse_cve(item, i, &cve, reterr, errsize);
		if (r < 0)
			return r;
	}
	page.count = json_array_size(vulns);
	*ret_vulns = vulns;
	*ret_root = TAKE_PTR(root);
	*ret_page = page;
	return 0;
}

/* Delivers the CVEs of a validated envelope (matching only_id when given). */
static int deliver(json_t *vulns, const char *only_id, nvd_cve_fn fn, void *userdata)
{
	struct nvd_cve cve;
	json_t *item;
	size_t i;
	int r, n = 0;

	json_array_foreach (vulns, i, item) {
		r = parse_cve(item, i, &cve, NULL, 0);
		if (r < 0)
			return r;
		if (only_id && !streq(cve.id, only_id))
			continue;
		r = fn(&cve, userdata);
		if (r < 0)
			return r;
		n++;
	}
	return n;
}

int nvd_parse_response(const char *buf, size_t len, nvd_cve_fn fn, void *userdata,
		       struct nvd_page *ret_page, char *reterr, size_t errsize)
{
	json_auto_t *root = NULL;
	struct nvd_page page;
	json_t *vulns;
	int r;

	r = parse_envelope(buf, len, &root, &vulns, &page, reterr, errsize);
	if (r < 0)
		return r;
	r = deliver(vulns, NULL, fn, userdata);
	if (r < 0)
		return r;
	if (ret_page)
		*ret_page = page;
	return 0;
}

/* ---- rate limiter ------------------------------------------------------- */

void nvd_rate_limiter_init(struct nvd_rate_limiter *rl, unsigned max_requests, int64_t window_ms)
{
	*rl = (struct nvd_rate_limiter){ .window_ms = window_ms };
	if (max_requests < 1)
		max_requests = 1;
	if (max_requests > ARRAY_SIZE(rl->stamps))
		max_requests = ARRAY_SIZE(rl->stamps);
	rl->max_requests = max_requests;
}

int64_t nvd_rate_limiter_delay(const struct nvd_rate_limiter *rl, int64_t now)
{
	int64_t wait;

	if (rl->n < rl->max_requests)
		return 0;
	/* The oldest of the last max_requests requests must leave the window first. */
	wait = rl->stamps[rl->head] + rl->window_ms - now;
	return wait > 0 ? wait : 0;
}

void nvd_rate_limiter_record(struct nvd_rate_limiter *rl, int64_t now)
{
	if (rl->n < rl->max_requests) {
		rl->stamps[(rl->head + rl->n) % rl->max_requests] = now;
		rl->n++;
		return;
	}
	rl->stamps[rl->head] = now;
	rl->head = (rl->head + 1) % rl->max_requests;
}

/* ---- client ------------------------------------------------------------- */

static int64_t default_clock(void *userdata)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void default_sleep(uint64_t ms, void *userdata)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

_printf_(2, 3) static void set_error(struct nvd_client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->error, sizeof(c->error), fmt, ap);
	va_end(ap);
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return h;
}

char *nvd_cache_name(const char *base_url, const char *query)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	char safe[CACHE_NAME_QUERY_MAX + 1];
	size_t n = 0;
	char *name;

	for (const char *p = query; *p && n < CACHE_NAME_QUERY_MAX; p++, n++)
		safe[n] = (isalnum((unsigned char)*p) || *p == '-' || *p == '.') ? *p : '_';
	safe[n] = '\0';
	h = fnv1a(h, base_url);
	h = fnv1a(h, "?");
	h = fnv1a(h, query);
	if (asprintf(&name, "nvd-%s-%016llx.json", safe, (unsigned long long)h) < 0)
		return NULL;
	return name;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

int nvd_client_new(const struct nvd_client_options *opts, struct nvd_client **ret)
{
	_cleanup_(nvd_client_freep) struct nvd_client *c = NULL;
	const char *base = opts->base_url ? opts->base_url : NVD_BASE_URL_DEFAULT;
	const char *local = NULL;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (has_prefix(base, "file://")) {
		/* Only local absolute paths: file:///path. */
		if (base[7] != '/')
			return -EINVAL;
		local = base + 7;
	} else if (base[0] == '/' || base[0] == '.') {
		local = base;
	} else if (!has_prefix(base, "http://") && !has_prefix(base, "https://")) {
		return -EINVAL;
	}
	c->base_url = strdup(base);
	c->local_path = local ? strdup(local) : NULL;
	if (!c->base_url || (local && !c->local_path))
		return -ENOMEM;
	if (opts->api_key) {
		/* A CR or LF would let the key inject headers. */
		if (!*opts->api_key || strpbrk(opts->api_key, "\r\n"))
			return -EINVAL;
		if (asprintf(&c->api_key_header, "apiKey: %s", opts->api_key) < 0) {
			c->api_key_header = NULL;
			return -ENOMEM;
		}
	}
	if (opts->source_identifier) {
		c->source_identifier = strdup(opts->source_identifier);
		if (!c->source_identifier)
			return -ENOMEM;
	}
	if (opts->cache_dir) {
		c->cache_dir = strdup(opts->cache_dir);
		if (!c->cache_dir)
			return -ENOMEM;
	}
	c->offline = opts->offline;
	c->max_attempts = opts->max_attempts;
	c->retry_base_ms = opts->retry_base_ms;
	c->timeout_ms = opts->timeout_ms;
	c->clock = opts->clock ? opts->clock : default_clock;
	c->sleep = opts->sleep ? opts->sleep : default_sleep;
	c->time_userdata = opts->time_userdata;
	nvd_rate_limiter_init(&c->limiter, opts->api_key ? NVD_RATE_WITH_KEY : NVD_RATE_NO_KEY,
			      NVD_RATE_WINDOW_MS);
	*ret = TAKE_PTR(c);
	return 0;
}

struct nvd_client *nvd_client_free(struct nvd_client *c)
{
	if (!c)
		return NULL;
	free(c->base_url);
	free(c->local_path);
	if (c->api_key_header) {
		/* Do not leave the key behind in freed memory. */
		explicit_bzero(c->api_key_header, strlen(c->api_key_header));
		free(c->api_key_header);
	}
	free(c->cache_dir);
	free(c->source_identifier);
	free(c);
	return NULL;
}

const char *nvd_client_error(const struct nvd_client *c)
{
	return c->error;
}

unsigned nvd_client_requests(const struct nvd_client *c)
{
	return c->requests;
}

static void client_sleep(uint64_t ms, void *userdata)
{
	struct nvd_client *c = userdata;

	c->sleep(ms, c->time_userdata);
}

/* Runs before every HTTP attempt, retries included: they count against the limit too. */
static int before_attempt(unsigned attempt, void *userdata)
{
	struct nvd_client *c = userdata;
	int64_t now = c->clock(c->time_userdata);
	int64_t wait = nvd_rate_limiter_delay(&c->limiter, now);

	if (wait > 0) {
		c->sleep((uint64_t)wait, c->time_userdata);
		now = c->clock(c->time_userdata);
	}
	nvd_rate_limiter_record(&c->limiter, now);
	c->requests++;
	return 0;
}

static const char *status_hint(long status)
{
	if (status == 401 || status == 403)
		return "; API key rejected or rate limit exceeded";
	if (status == 429 || (status >= 500 && status < 600))
		return "; service unavailable, try again later";
	return "";
}

static int read_local(struct nvd_client *c, const char *query, char **ret_buf, size_t *ret_len)
{
	_cleanup_free_ char *name = NULL, *path = NULL;
	struct stat st;
	int r;

	if (stat(c->local_path, &st) == 0 && S_ISDIR(st.st_mode)) {
		/* A directory mirrors answers under their cache names. */
		name = nvd_cache_name(NVD_BASE_URL_DEFAULT, query);
		path = name ? path_join(c->local_path, name) : NULL;
	} else {
		path = strdup(c->local_path);
	}
	if (!path)
		return -ENOMEM;
	r = read_file_bounded(path, NVD_RESPONSE_MAX, ret_buf, ret_len);
	if (r < 0)
		set_error(c, "NVD: cannot read local answer '%s' for '%s': %s", path, query,
			  errno_to_string(r));
	return r;
}

static int read_cache(struct nvd_client *c, const char *path, const char *query, char **ret_buf,
		      size_t *ret_len)
{
	int r;

	if (!path) {
		set_error(c, "NVD: offline and no cache directory configured for '%s'", query);
		return -ENETUNREACH;
	}
	r = read_file_bounded(path, NVD_RESPONSE_MAX, ret_buf, ret_len);
	if (r == -ENOENT) {
		set_error(c, "NVD: offline and no cached answer for '%s' in '%s'", query,
			  c->cache_dir);
		return -ENETUNREACH;
	}
	if (r < 0)
		set_error(c, "NVD: cannot read cached answer '%s': %s", path, errno_to_string(r));
	return r;
}

static int fetch_remote(struct nvd_client *c, const char *query, char **ret_buf, size_t *ret_len)
{
	_cleanup_http_response_ struct http_response resp = { 0 };
	_cleanup_free_ char *url = NULL;
	const char *headers[3] = { "Accept: application/json", NULL, NULL };
	struct http_request req = {
		.headers = headers,
		.max_body = NVD_RESPONSE_MAX,
		.max_attempts = c->max_attempts,
		.retry_base_ms = c->retry_base_ms,
		.timeout_ms = c->timeout_ms,
		.sleep = client_sleep,
		.before_attempt = before_attempt,
		.userdata = c,
	};
	int r;

	r = asprintf(&url, "%s%c%s", c->base_url, strchr(c->base_url, '?') ? '&' : '?', query);
	if (r < 0) {
		url = NULL;
		return -ENOMEM;
	}
	headers[1] = c->api_key_header;
	req.url = url;
	r = http_get(&req, &resp);
	if (r < 0) {
		set_error(c, "NVD: %s%s", resp.error, status_hint(resp.status));
		return r;
	}
	if (r != 200) {
		set_error(c, "NVD: GET '%s' answered HTTP %d, expected 200", url, r);
		return -EPROTO;
	}
	*ret_len = resp.body_len;
	*ret_buf = TAKE_PTR(resp.body);
	return 0;
}

/*
 * One query: from the cache when offline, from the local base, or from the
 * network.  A network answer is validated before it replaces the cached one,
 * so failures and garbage never destroy cached data.
 */
static int fetch_page(struct nvd_client *c, const char *query, const char *only_id, nvd_cve_fn fn,
		      void *userdata, struct nvd_page *ret_page)
{
	_cleanup_free_ char *name = NULL, *cache_path = NULL, *buf = NULL;
	json_auto_t *root = NULL;
	char why[ENRICH_ERROR_MAX / 2];
	struct nvd_page page;
	json_t *vulns;
	size_t len = 0;
	int r;

	if (c->cache_dir) {
		name = nvd_cache_name(c->base_url, query);
		cache_path = name ? path_join(c->cache_dir, name) : NULL;
		if (!cache_path)
			return -ENOMEM;
	}
	if (c->offline)
		r = read_cache(c, cache_path, query, &buf, &len);
	else if (c->local_path)
		r = read_local(c, query, &buf, &len);
	else
		r = fetch_remote(c, query, &buf, &len);
	if (r < 0)
		return r;

	r = parse_envelope(buf, len, &root, &vulns, &page, why, sizeof(why));
	if (r < 0) {
		set_error(c, "NVD: invalid answer for '%s'%s: %s", query,
			  c->offline ? " in cache" : "", why);
		return r;
	}
	if (cache_path && !c->offline && !c->local_path) {
		r = mkdir_p(c->cache_dir, 0755);
		if (r >= 0)
			r = write_file_atomic(cache_path, buf, len, 0644);
		if (r < 0) {
			set_error(c, "NVD: cannot write cache '%s': %s", cache_path,
				  errno_to_string(r));
			return r;
		}
	}
	r = deliver(vulns, only_id, fn, userdata);
	if (r < 0)
		return r;
	*ret_page = page;
	return r;
}

int nvd_client_fetch_cve(struct nvd_client *c, const char *cve_id, nvd_cve_fn fn, void *userdata)
{
	char query[64];
	struct nvd_page page;

	c->error[0] = '\0';
	if (!cve_id_valid(cve_id)) {
		set_error(c, "NVD: invalid CVE id '%.40s'", cve_id ? cve_id : "");
		return -EINVAL;
	}
	snprintf(query, sizeof(query), "cveId=%s", cve_id);
	/* Filter by id: a local single-file base answers every query with the same file. */
	return fetch_page(c, query, cve_id, fn, userdata, &page);
}

/* NVD wants extended ISO-8601 with an offset; '+' must be percent-encoded. */
static void format_nvd_date(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%S.000%%2B00:00", &tm);
}

int nvd_client_fetch_changed(struct nvd_client *c, int64_t start, int64_t end, nvd_cve_fn fn,
			     void *userdata)
{
	int64_t ws = start;
	long total_delivered = 0;

	c->error[0] = '\0';
	if (end < start || start < 0) {
		set_error(c, "NVD: invalid time range");
		return -EINVAL;
	}
	for (;;) {
		int64_t we = end - ws > NVD_WINDOW_MAX_SECONDS ? ws + NVD_WINDOW_MAX_SECONDS : end;
		char from[48], to[48], query[320];
		long index = 0;

		format_nvd_date(ws, from, sizeof(from));
		format_nvd_date(we, to, sizeof(to));
		for (;;) {
			struct nvd_page page;
			int r;

			snprintf(
				query, sizeof(query),
				"lastModStartDate=%s&lastModEndDate=%s&resultsPerPage=%d&startIndex=%ld%s%s",
				from, to, NVD_RESULTS_PER_PAGE, index,
				c->source_identifier ? "&sourceIdentifier=" : "",
				c->source_identifier ? c->source_identifier : "");
			r = fetch_page(c, query, NULL, fn, userdata, &page);
			if (r < 0)
				return r;
			total_delivered += r;
			/* Guards against servers (or local files) that ignore startIndex. */
			if (page.start_index != index) {
				set_error(c, "NVD: answer for '%s' starts at index %ld", query,
					  page.start_index);
				return -EBADMSG;
			}
			index += (long)page.count;
			if (index >= page.total_results)
				break;
			if (page.count == 0) {
				set_error(c, "NVD: empty page for '%s' but totalResults is %ld",
					  query, page.total_results);
				return -EBADMSG;
			}
		}
		if (we >= end)
			break;
		/* Windows share their boundary instant; a duplicate is harmless, a gap is not. */
		ws = we;
	}
	return total_delivered > INT_MAX ? INT_MAX : (int)total_delivered;
}
