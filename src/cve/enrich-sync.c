/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "enrich-sync.h"
#include "fileio.h"
#include "hashmap.h"
#include "http.h"
#include "log.h"
#include "parse-util.h"
#include "store.h"
#include "strbuf.h"

#define NVD_FIRST_START "2024-01-01T00:00:00Z" /* the kernel CNA began in February 2024 */
#define NVD_OVERLAP_SECONDS 3600

static bool is_url(const char *s)
{
	return strstr(s, "://") != NULL;
}

/*
 * Cache file of a URL feed: the feed kind, a hash of the whole URL (two
 * URLs never share a cache file) and the last path component for humans.
 */
static char *cache_path_for(const char *cache_dir, const char *kind, const char *url)
{
	const char *base = strrchr(url, '/');
	uint64_t h = 1469598103934665603ull;
	char *p = NULL;

	for (const char *c = url; *c; c++) {
		h ^= (unsigned char)*c;
		h *= 1099511628211ull;
	}
	base = base && base[1] ? base + 1 : "feed";
	if (asprintf(&p, "%s/%s-%08x-%.*s", cache_dir, kind, (unsigned)(h >> 32), 100, base) < 0)
		return NULL;
	for (char *c = p + strlen(cache_dir) + 1; *c; c++)
		if (*c == '?' || *c == '&' || *c == '=')
			*c = '_';
	return p;
}

/*
 * Reads a feed: a local file directly, a URL through HTTP (or from its cache
 * when offline or when the download fails).  *ret_cache_path is where a
 * verified download should be cached (NULL for local files and cache hits).
 * Returns 1 when the cache stood in for a failed download.
 */
static int read_feed(const char *kind, const char *source, const char *cache_dir, bool offline,
		     size_t max, char **ret_buf, size_t *ret_len, char **ret_cache_path,
		     bool *ret_from_cache)
{
	struct http_request req = { 0 };
	struct http_response resp = { 0 };
	_cleanup_free_ char *cache = NULL;
	int r;

	*ret_cache_path = NULL;
	*ret_from_cache = false;
	if (!is_url(source)) {
		r = read_file_bounded(source, max, ret_buf, ret_len);
		if (r < 0)
			return log_error_errno(r, "cannot read the %s feed '%s'", kind, source);
		return 0;
	}
	cache = cache_path_for(cache_dir, kind, source);
	if (!cache)
		return -ENOMEM;
	if (!offline) {
		req.url = source;
		req.max_body = max;
		req.max_attempts = 3;
		r = http_get(&req, &resp);
		if (r >= 200 && r < 300) {
			*ret_buf = TAKE_PTR(resp.body);
			*ret_len = resp.body_len;
			*ret_cache_path = TAKE_PTR(cache);
			http_response_release(&resp);
			return 0;
		}
		log_warning("cannot download the %s feed: %s", kind,
			    resp.error[0] ? resp.error : errno_to_string(r < 0 ? r : -EPROTO));
		http_response_release(&resp);
	}
	r = read_file_bounded(cache, max, ret_buf, ret_len);
	if (r == -ENOENT)
		return log_error_errno(-ENETUNREACH, "no %s data: %s and no cached copy at '%s'",
				       kind, offline ? "offline" : "the download failed", cache);
	if (r < 0)
		return log_error_errno(r, "cannot read the cached %s feed '%s'", kind, cache);
	if (offline)
		log_info("using the cached %s feed '%s'", kind, cache);
	else
		log_warning("using the cached %s feed '%s' instead", kind, cache);
	*ret_from_cache = true;
	return offline ? 0 : 1;
}

static int store_cache(const char *kind, const char *path, const char *buf, size_t len)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;
	int r;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	r = mkdir_p(dir, 0755);
	if (r >= 0)
		r = write_file_atomic(path, buf, len, 0644);
	if (r < 0)
		log_warning_errno(r, "cannot cache the %s feed at '%s', ignoring", kind, path);
	return 0;
}

/* ---- KEV ---- */

struct kev_store {
	struct db *db;
	struct db_stmt *insert;
	const char *catalog;
	unsigned n;
};

static int kev_count(const struct kev_entry *e, void *userdata)
{
	(*(unsigned *)userdata)++;
	return 0;
}

static int kev_insert(const struct kev_entry *e, void *userdata)
{
	struct kev_store *k = userdata;
	struct db_stmt *s = k->insert;
	int r;

	if ((r = db_bind_text(s, 1, e->cve_id)) < 0 ||
	    (r = db_bind_text(s, 2, e->date_added)) < 0 ||
	    (r = e->due_date ? db_bind_text(s, 3, e->due_date) : db_bind_null(s, 3)) < 0 ||
	    (r = e->vulnerability_name ? db_bind_text(s, 4, e->vulnerability_name)
				       : db_bind_null(s, 4)) < 0 ||
	    (r = db_bind_int64(s, 5, e->known_ransomware)) < 0 ||
	    (r = db_bind_text(s, 6, k->catalog)) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	if (r < 0)
		return r;
	k->n++;
	return 0;
}

int enrich_sync_kev(struct db *db, const char *source, const char *cache_dir, bool offline,
		    struct enrich_result *res)
{
	_cleanup_free_ char *buf = NULL, *cache = NULL;
	struct kev_catalog cat;
	struct kev_store k = { .db = db };
	char err[ENRICH_ERROR_MAX];
	unsigned n = 0;
	size_t len = 0;
	int r;

	memset(res, 0, sizeof(*res));
	r = read_feed("kev", source, cache_dir, offline, KEV_JSON_MAX, &buf, &len, &cache,
		      &res->from_cache);
	if (r < 0)
		return r;
	res->stale = r > 0;
	/* Verify the whole catalogue before anything is cached or stored. */
	r = kev_parse(buf, len, kev_count, &n, &cat, err, sizeof(err));
	if (r < 0)
		return log_error_errno(r, "the KEV feed '%s' is invalid: %s", source, err);
	if (cache)
		store_cache("kev", cache, buf, len);
	snprintf(res->version, sizeof(res->version), "%s", cat.catalog_version);
	k.catalog = cat.catalog_version;

	r = db_begin(db);
	if (r < 0)
		return log_error_errno(r, "cannot start a transaction: %s", db_errmsg(db));
	/* The catalogue is complete each time: entries CISA removed go away here too. */
	r = db_exec(db, "DELETE FROM kev");
	if (r >= 0)
		r = db_prepare(db,
			       "INSERT INTO kev (cve_id, date_added, due_date, name, ransomware,"
			       " catalog_version) VALUES (?, ?, ?, ?, ?, ?)"
			       " ON CONFLICT (cve_id) DO NOTHING",
			       &k.insert);
	if (r >= 0)
		r = kev_parse(buf, len, kev_insert, &k, &cat, err, sizeof(err));
	if (r >= 0)
		r = sync_state_set(db, "kev", cat.catalog_version, source, (int64_t)time(NULL));
	if (r >= 0)
		r = db_commit(db);
	if (r < 0) {
		(void)db_rollback(db);
		return log_error_errno(r, "cannot store the KEV feed: %s", db_errmsg(db));
	}
	res->stored = k.n;
	return 0;
}

/* ---- EPSS ---- */

struct epss_store {
	struct hashmap *known;
	struct db_stmt *insert;
	const char *model;
	const char *date;
	unsigned n;
	bool verify_only;
};

static int epss_row(const struct epss_row *row, void *userdata)
{
	struct epss_store *e = userdata;
	struct db_stmt *s = e->insert;
	int r;

	/* EPSS scores every CVE; keep those of kernel CVEs we track. */
	if (e->verify_only || !hashmap_contains(e->known, row->cve_id))
		return 0;
	if ((r = db_bind_text(s, 1, row->cve_id)) < 0 || (r = db_bind_double(s, 2, row->epss)) < 0 ||
	    (r = db_bind_double(s, 3, row->percentile)) < 0 ||
	    (r = db_bind_text(s, 4, e->date)) < 0 || (r = db_bind_text(s, 5, e->model)) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	if (r < 0)
		return r;
	e->n++;
	return 0;
}

static void epss_bad_row(unsigned long line, const char *reason, void *userdata)
{
	log_debug("EPSS line %lu: %s, ignoring", line, reason);
}

static int load_known_ids(struct db *db, struct hashmap *ids)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, "SELECT id FROM cve", &s);
	if (r < 0)
		return r;
	while ((r = db_step(s)) > 0)
		if (hashmap_put(ids, db_column_text(s, 0), NULL) < 0) {
			r = -ENOMEM;
			break;
		}
	db_stmt_reset(s);
	return r;
}

int enrich_sync_epss(struct db *db, const char *source, const char *cache_dir, bool offline,
		     struct enrich_result *res)
{
	_cleanup_(hashmap_freep) struct hashmap *known = hashmap_new(NULL);
	_cleanup_free_ char *buf = NULL, *cache = NULL;
	struct epss_store e = { .known = known, .verify_only = true };
	struct epss_info info;
	char err[ENRICH_ERROR_MAX], date[32] = "";
	size_t len = 0;
	int r;

	memset(res, 0, sizeof(*res));
	if (!known)
		return -ENOMEM;
	/* The compressed daily file is about 2 MB; allow plenty for plain CSV too. */
	r = read_feed("epss", source, cache_dir, offline, 256u * 1024 * 1024, &buf, &len, &cache,
		      &res->from_cache);
	if (r < 0)
		return r;
	res->stale = r > 0;
	r = epss_parse(buf, len, EPSS_DECOMPRESSED_MAX, epss_row, epss_bad_row, &e, &info, err,
		       sizeof(err));
	if (r < 0)
		return log_error_errno(r, "the EPSS feed '%s' is invalid: %s", source, err);
	if (info.bad_rows)
		log_warning("skipped %lu malformed EPSS row(s) in '%s', the first at line %lu",
			    info.bad_rows, source, info.first_bad_line);
	if (cache)
		store_cache("epss", cache, buf, len);
	if (info.score_date)
		format_timestamp(info.score_date, date, sizeof(date));
	snprintf(res->version, sizeof(res->version), "%s", info.model_version);
	e.model = info.model_version;
	e.date = date;
	e.verify_only = false;

	r = load_known_ids(db, known);
	if (r < 0)
		return log_error_errno(r, "cannot read CVE ids: %s", db_errmsg(db));
	r = db_begin(db);
	if (r < 0)
		return log_error_errno(r, "cannot start a transaction: %s", db_errmsg(db));
	r = db_exec(db, "DELETE FROM epss");
	if (r >= 0)
		r = db_prepare(db,
			       "INSERT INTO epss (cve_id, score, percentile, score_date, model_version)"
			       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (cve_id) DO UPDATE SET"
			       " score = excluded.score, percentile = excluded.percentile",
			       &e.insert);
	if (r >= 0)
		r = epss_parse(buf, len, EPSS_DECOMPRESSED_MAX, epss_row, NULL, &e, &info, err,
			       sizeof(err));
	if (r >= 0)
		r = sync_state_set(db, "epss", date, source, (int64_t)time(NULL));
	if (r >= 0)
		r = db_commit(db);
	if (r < 0) {
		(void)db_rollback(db);
		return log_error_errno(r, "cannot store the EPSS feed: %s", db_errmsg(db));
	}
	res->stored = e.n;
	res->bad = (unsigned)info.bad_rows;
	return 0;
}

/* ---- NVD ---- */

struct nvd_store {
	struct db *db;
	struct db_stmt *insert;
	int64_t now;
	unsigned n;
	int error;
};

static int nvd_cve(const struct nvd_cve *c, void *userdata)
{
	struct nvd_store *n = userdata;
	struct db_stmt *s = n->insert;
	_cleanup_strbuf_ struct strbuf cwes;
	int r;

	strbuf_init(&cwes, 4096);
	for (size_t i = 0; i < c->n_cwes; i++)
		if ((r = strbuf_addf(&cwes, "%s%s", i ? "," : "", c->cwes[i])) < 0)
			return r;
	if ((r = db_bind_text(s, 1, c->id)) < 0 || (r = db_bind_int64(s, 2, c->published)) < 0 ||
	    (r = db_bind_int64(s, 3, c->last_modified)) < 0 ||
	    (r = c->vuln_status ? db_bind_text(s, 4, c->vuln_status) : db_bind_null(s, 4)) < 0 ||
	    (r = c->cvss3.vector ? db_bind_text(s, 5, c->cvss3.vector) : db_bind_null(s, 5)) < 0 ||
	    (r = c->cvss3.score >= 0 ? db_bind_double(s, 6, c->cvss3.score) : db_bind_null(s, 6)) < 0 ||
	    (r = c->cvss3.severity ? db_bind_text(s, 7, c->cvss3.severity) : db_bind_null(s, 7)) < 0 ||
	    (r = c->cvss4.vector ? db_bind_text(s, 8, c->cvss4.vector) : db_bind_null(s, 8)) < 0 ||
	    (r = c->cvss4.score >= 0 ? db_bind_double(s, 9, c->cvss4.score) : db_bind_null(s, 9)) < 0 ||
	    (r = c->cvss4.severity ? db_bind_text(s, 10, c->cvss4.severity) : db_bind_null(s, 10)) < 0 ||
	    (r = cwes.len ? db_bind_text(s, 11, cwes.buf) : db_bind_null(s, 11)) < 0 ||
	    (r = db_bind_int64(s, 12, n->now)) < 0)
		return n->error = r;
	r = db_step(s);
	db_stmt_reset(s);
	if (r < 0)
		return n->error = r;
	n->n++;
	return 0;
}

int enrich_sync_nvd(struct db *db, const struct nvd_client_options *o, bool full,
		    struct enrich_result *res)
{
	_cleanup_(nvd_client_freep) struct nvd_client *client = NULL;
	_cleanup_free_ char *last = NULL;
	struct nvd_store n = { .db = db, .now = (int64_t)time(NULL) };
	int64_t start, end = n.now;
	char end_s[32];
	int r, fr;

	memset(res, 0, sizeof(*res));
	r = nvd_client_new(o, &client);
	if (r < 0)
		return log_error_errno(r, "invalid NVD settings (base URL '%s')",
				       o->base_url ? o->base_url : NVD_BASE_URL_DEFAULT);
	r = sync_state_get(db, "nvd", &last, NULL);
	if (r < 0)
		return log_error_errno(r, "cannot read the sync state: %s", db_errmsg(db));
	if (full || !last || parse_timestamp(last, &start) < 0)
		(void)parse_timestamp(NVD_FIRST_START, &start);
	else
		start -= NVD_OVERLAP_SECONDS; /* NVD's clock and ours need not agree */

	r = db_begin(db);
	if (r < 0)
		return log_error_errno(r, "cannot start a transaction: %s", db_errmsg(db));
	r = db_prepare(db,
		       "INSERT INTO nvd (cve_id, published, last_modified, status, v31_vector,"
		       " v31_score, v31_severity, v40_vector, v40_score, v40_severity, cwes,"
		       " fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		       " ON CONFLICT (cve_id) DO UPDATE SET published = excluded.published,"
		       " last_modified = excluded.last_modified, status = excluded.status,"
		       " v31_vector = excluded.v31_vector, v31_score = excluded.v31_score,"
		       " v31_severity = excluded.v31_severity, v40_vector = excluded.v40_vector,"
		       " v40_score = excluded.v40_score, v40_severity = excluded.v40_severity,"
		       " cwes = excluded.cwes, fetched_at = excluded.fetched_at",
		       &n.insert);
	if (r < 0) {
		(void)db_rollback(db);
		return log_error_errno(r, "cannot prepare NVD storage: %s", db_errmsg(db));
	}
	fr = nvd_client_fetch_changed(client, start, end, nvd_cve, &n);
	if (n.error < 0) {
		(void)db_rollback(db);
		return log_error_errno(n.error, "cannot store NVD data: %s", db_errmsg(db));
	}
	format_timestamp(end, end_s, sizeof(end_s));
	/*
	 * Keep what arrived even when a later page failed (each page cost a
	 * rate-limited request), but advance the window only after a complete
	 * fetch, so the next run asks again from the same start.
	 */
	r = 0;
	if (fr >= 0)
		r = sync_state_set(db, "nvd", end_s, o->base_url, n.now);
	if (r >= 0)
		r = db_commit(db);
	if (r < 0) {
		(void)db_rollback(db);
		return log_error_errno(r, "cannot store NVD data: %s", db_errmsg(db));
	}
	res->stored = n.n;
	snprintf(res->version, sizeof(res->version), "%s", end_s);
	if (fr < 0)
		return log_error_errno(fr, "%s", nvd_client_error(client));
	return 0;
}
