/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "applicability.h"
#include "enrich-sync.h"
#include "fileio.h"
#include "lock.h"
#include "log.h"
#include "mbox.h"
#include "parse-util.h"
#include "progress.h"
#include "store.h"
#include "sync.h"

/* Per-verb options shared by every verb: --json, -v, -q, --help. */
static int common_option(struct cli_ctx *ctx, int c)
{
	switch (c) {
	case 'j':
		ctx->json = true;
		return 1;
	case 'v':
		ctx->verbosity++;
		log_set_max_level(ctx->verbosity == 1 ? LOG_LEVEL_INFO : LOG_LEVEL_DEBUG);
		return 1;
	case 'q':
		ctx->verbosity = -1;
		log_set_max_level(LOG_LEVEL_WARNING);
		return 1;
	}
	return 0;
}

#define COMMON_LONG_OPTIONS                                                                        \
	{ "json", no_argument, NULL, 'j' }, { "verbose", no_argument, NULL, 'v' },                 \
		{ "quiet", no_argument, NULL, 'q' }, { "help", no_argument, NULL, 'h' }

#define COMMON_HELP                                                                                \
	"      --json          machine-readable output\n"                                          \
	"  -v, --verbose       more messages\n"                                                    \
	"  -q, --quiet         only errors\n"                                                      \
	"  -h, --help          show this help\n"

static void format_date(int64_t t, char *buf, size_t size)
{
	if (t <= 0) {
		snprintf(buf, size, "-");
		return;
	}
	format_timestamp(t, buf, size);
	buf[10] = '\0'; /* the day is what a human scans for */
}

static json_t *json_time(int64_t t)
{
	char buf[32];

	if (t <= 0)
		return json_null();
	format_timestamp(t, buf, sizeof(buf));
	return json_string(buf);
}

/* ---- cve sync ---- */

static void sync_help(void)
{
	fputs("usage: tuxtape cve sync [OPTIONS]\n"
	      "\n"
	      "Bring the CVE database up to date from the kernel CNA's vulns repository\n"
	      "(cloned into the data directory and fetched; only changed records are read\n"
	      "after the first run) and, with --mbox, from linux-cve-announce messages.\n"
	      "\n"
	      "Options:\n"
	      "      --source URL|PATH  vulns repository (default: cve.source, else\n"
	      "                         " CVE_SYNC_DEFAULT_SOURCE ")\n"
	      "      --offline          do not fetch; use the existing clone\n"
	      "      --full             re-read every record\n"
	      "      --no-git           skip the vulns repository (e.g. only --mbox)\n"
	      "      --mbox PATH        also read announcements from an mbox file, a maildir\n"
	      "                         or a directory of .mbox files\n"
	      "      --kev URL|FILE     CISA KEV catalogue (JSON; default: cve.kev)\n"
	      "      --epss URL|FILE    FIRST EPSS scores (CSV, gzip or plain; default: cve.epss)\n"
	      "      --nvd              NVD API 2.0: CVSS 3.1/4.0, CWE and dates of the kernel\n"
	      "                         CNA's CVEs changed since the last run (cve.nvd = true)\n"
	      "      --nvd-url URL      NVD API base URL or a local directory (cve.nvd_url)\n"
	      "      --nvd-full         fetch NVD data from the start again\n"
	      "      --wait             wait for a running sync instead of exiting with 4\n" COMMON_HELP
	      "\n"
	      "Offline (--offline or cve.offline), URL feeds come from the cache in the data\n"
	      "directory.  The NVD API key (cve.nvd_api_key, or TUXTAPE_CVE_NVD_API_KEY)\n"
	      "raises NVD's limit from 5 to 50 requests per 30 seconds.\n"
	      "\n"
	      "Exit codes: 0 ok, 1 failure (nothing changed), 3 synced but some records\n"
	      "or feeds were skipped (named on stderr, retried next run), 4 another sync\n"
	      "is running.\n",
	      stdout);
}

struct mbox_ctx {
	struct db *db;
	int64_t now;
	unsigned added, updated, unchanged, rejected;
	int error;
};

static int mbox_record(struct cve_record *rec, const char *origin, void *userdata)
{
	struct mbox_ctx *c = userdata;
	_cleanup_(cve_record_freep) struct cve_record *old = NULL;
	int r;

	r = cve_store_load(c->db, rec->id, &old);
	if (r < 0 && r != -ENOENT)
		return c->error = r;
	/* The vulns repository is authoritative; an announcement only fills gaps. */
	if (old && old->source && !streq(old->source, "mbox")) {
		c->unchanged++;
		return 0;
	}
	if (!rec->published)
		rec->published = c->now;
	rec->modified = rec->modified ? rec->modified : c->now;
	r = cve_store_put(c->db, rec, NULL, !old, c->now);
	if (r < 0) {
		log_error("cannot store '%s' from '%s': %s", rec->id, origin, db_errmsg(c->db));
		return c->error = r;
	}
	if (old)
		c->updated++;
	else
		c->added++;
	if (rec->rejected)
		c->rejected++;
	return 0;
}

static int sync_mbox(struct db *db, const char *path, json_t *summary, unsigned *ret_bad)
{
	struct mbox_ctx c = { .db = db, .now = (int64_t)time(NULL) };
	unsigned bad = 0;
	int r;

	r = db_begin(db);
	if (r < 0)
		return log_error_errno(r, "cannot start a transaction: %s", db_errmsg(db));
	r = mbox_foreach(path, mbox_record, &c, &bad);
	if (r >= 0 && c.error < 0)
		r = c.error;
	if (r >= 0)
		r = db_commit(db);
	if (r < 0) {
		(void)db_rollback(db);
		return log_error_errno(r, "cannot read announcements from '%s'", path);
	}
	if (bad)
		log_warning("skipped %u malformed message(s) in '%s' (see -v)", bad, path);
	*ret_bad = bad;
	json_object_set_new(summary, "mbox",
			    json_pack("{s:s, s:I, s:I, s:I, s:I, s:I}", "path", path, "added",
				      (json_int_t)c.added, "updated", (json_int_t)c.updated,
				      "unchanged", (json_int_t)c.unchanged, "rejected",
				      (json_int_t)c.rejected, "errors", (json_int_t)bad));
	return 0;
}

static json_t *enrich_json(int r, const char *source, const struct enrich_result *res)
{
	if (r < 0)
		return json_pack("{s:s, s:s}", "source", source, "error", errno_to_string(r));
	return json_pack("{s:s, s:I, s:I, s:b, s:b, s:s}", "source", source, "stored",
			 (json_int_t)res->stored, "bad_rows", (json_int_t)res->bad, "from_cache",
			 res->from_cache, "stale", res->stale, "version", res->version);
}

/* Runs the configured enrichment feeds; returns how many failed. */
static unsigned enrich(struct cli_ctx *ctx, struct db *db, json_t *summary, const char *cache_dir,
		       bool offline, const char *kev, const char *epss, const char *nvd_url,
		       bool nvd_full)
{
	struct enrich_result res;
	bool human = !ctx->json && ctx->verbosity >= 0;
	unsigned failed = 0;
	int r;

	if (kev) {
		r = enrich_sync_kev(db, kev, cache_dir, offline, &res);
		failed += r < 0 || res.stale;
		json_object_set_new(summary, "kev", enrich_json(r, kev, &res));
		if (r >= 0 && human)
			printf("kev %s: %u entries%s\n", res.version, res.stored,
			       res.from_cache ? " (cached copy)" : "");
	}
	if (epss) {
		r = enrich_sync_epss(db, epss, cache_dir, offline, &res);
		failed += r < 0 || res.stale || res.bad;
		json_object_set_new(summary, "epss", enrich_json(r, epss, &res));
		if (r >= 0 && human)
			printf("epss %s: %u kernel CVEs scored, %u bad rows%s\n", res.version,
			       res.stored, res.bad, res.from_cache ? " (cached copy)" : "");
	}
	if (nvd_url) {
		_cleanup_free_ char *nvd_cache = path_join(cache_dir, "nvd");
		struct nvd_client_options o = {
			.base_url = nvd_url,
			.api_key = config_get(ctx->config, "cve.nvd_api_key", NULL),
			.cache_dir = nvd_cache,
			.offline = offline,
			.source_identifier = config_get(ctx->config, "cve.nvd_source_identifier",
							NVD_KERNEL_CNA_SOURCE),
		};

		if (o.api_key && !*o.api_key)
			o.api_key = NULL;
		r = enrich_sync_nvd(db, &o, nvd_full, &res);
		failed += r < 0;
		json_object_set_new(summary, "nvd", enrich_json(r, nvd_url, &res));
		if (human)
			printf("nvd: %u CVEs updated%s\n", res.stored, r < 0 ? " (incomplete)" : "");
	}
	return failed;
}

static int verb_sync(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_SOURCE = 256,
		OPT_OFFLINE,
		OPT_FULL,
		OPT_NO_GIT,
		OPT_MBOX,
		OPT_WAIT,
		OPT_KEV,
		OPT_EPSS,
		OPT_NVD,
		OPT_NVD_URL,
		OPT_NVD_FULL,
	};
	static const struct option options[] = {
		{ "source", required_argument, NULL, OPT_SOURCE },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "full", no_argument, NULL, OPT_FULL },
		{ "no-git", no_argument, NULL, OPT_NO_GIT },
		{ "mbox", required_argument, NULL, OPT_MBOX },
		{ "wait", no_argument, NULL, OPT_WAIT },
		{ "kev", required_argument, NULL, OPT_KEV },
		{ "epss", required_argument, NULL, OPT_EPSS },
		{ "nvd", no_argument, NULL, OPT_NVD },
		{ "nvd-url", required_argument, NULL, OPT_NVD_URL },
		{ "nvd-full", no_argument, NULL, OPT_NVD_FULL },
		COMMON_LONG_OPTIONS,
		{},
	};
	struct cve_sync_options so = { 0 };
	struct cve_sync_stats st;
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_free_ char *repo_dir = NULL, *lock_path = NULL;
	_cleanup_close_ int lock_fd = -1;
	const char *mbox = NULL, *kev = NULL, *epss = NULL, *nvd_url = NULL;
	bool no_git = false, wait = false, offline = false, nvd = false, nvd_full = false;
	unsigned errors = 0;
	json_t *summary;
	int c, r;

	/* 0, not 1: glibc then re-initialises, argument permutation included. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "vqh", options, NULL)) != -1) {
		if (common_option(ctx, c))
			continue;
		switch (c) {
		case OPT_SOURCE:
			so.source = optarg;
			break;
		case OPT_OFFLINE:
			offline = true;
			break;
		case OPT_FULL:
			so.full = true;
			break;
		case OPT_NO_GIT:
			no_git = true;
			break;
		case OPT_MBOX:
			mbox = optarg;
			break;
		case OPT_WAIT:
			wait = true;
			break;
		case OPT_KEV:
			kev = optarg;
			break;
		case OPT_EPSS:
			epss = optarg;
			break;
		case OPT_NVD:
			nvd = true;
			break;
		case OPT_NVD_URL:
			nvd_url = optarg;
			nvd = true;
			break;
		case OPT_NVD_FULL:
			nvd_full = nvd = true;
			break;
		case 'h':
			sync_help();
			return 0;
		default:
			return cli_usage_error("cve", "sync", "invalid option");
		}
	}
	if (optind < argc)
		return cli_usage_error("cve", "sync", "unexpected argument '%s'", argv[optind]);
	if (!offline)
		(void)config_get_bool(ctx->config, "cve.offline", false, &offline);
	so.offline = offline;
	if (!kev)
		kev = config_get(ctx->config, "cve.kev", NULL);
	if (!epss)
		epss = config_get(ctx->config, "cve.epss", NULL);
	if (!nvd && config_get_bool(ctx->config, "cve.nvd", false, &nvd) < 0)
		return log_error_errno(-EINVAL, "invalid boolean for 'cve.nvd'");
	if (!nvd_url)
		nvd_url = config_get(ctx->config, "cve.nvd_url", NULL);
	if (!so.source)
		so.source = config_get(ctx->config, "cve.source", CVE_SYNC_DEFAULT_SOURCE);
	so.progress = !ctx->json && ctx->verbosity >= 0 && progress_wanted();

	r = mkdir_p(ctx->data_dir, 0755);
	if (r < 0)
		return log_error_errno(r, "cannot create data directory '%s'", ctx->data_dir);
	lock_path = path_join(ctx->data_dir, "cve-sync.lock");
	repo_dir = path_join(ctx->data_dir, "vulns.git");
	if (!lock_path || !repo_dir)
		return -ENOMEM;
	so.repo_dir = repo_dir;
	lock_fd = lock_file_acquire(lock_path, wait);
	if (lock_fd == -EWOULDBLOCK)
		return log_error_errno(lock_fd, "another 'tuxtape cve sync' is running (lock '%s')",
				       lock_path);
	if (lock_fd < 0)
		return log_error_errno(lock_fd, "cannot lock '%s'", lock_path);

	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;

	summary = json_object();
	if (!summary)
		return -ENOMEM;
	if (!no_git) {
		r = cve_sync_git(db, &so, &st);
		if (r < 0) {
			/* cve_sync_git() has said what failed and where. */
			json_decref(summary);
			return r;
		}
		errors += st.errors;
		json_object_set_new(
			summary, "vulns",
			json_pack("{s:s, s:s?, s:s, s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "source",
				  so.source, "from", st.from_commit[0] ? st.from_commit : NULL, "to",
				  st.to_commit, "full", st.full, "rewritten", st.rewritten, "added",
				  (json_int_t)st.added, "updated", (json_int_t)st.updated, "unchanged",
				  (json_int_t)st.unchanged, "deleted", (json_int_t)st.deleted,
				  "rejected", (json_int_t)st.rejected, "errors", (json_int_t)st.errors));
		if (!ctx->json && ctx->verbosity >= 0)
			printf("vulns %.12s: %u added, %u updated, %u deleted, %u rejected, %u errors%s\n",
			       st.to_commit, st.added, st.updated, st.deleted, st.rejected,
			       st.errors, st.full ? " (full read)" : "");
	}
	if (mbox) {
		unsigned bad = 0;
		json_t *m;

		r = sync_mbox(db, mbox, summary, &bad);
		if (r < 0) {
			json_decref(summary);
			return r;
		}
		errors += bad;
		m = json_object_get(summary, "mbox");
		if (!ctx->json && ctx->verbosity >= 0)
			printf("mbox: %lld added, %lld updated, %lld rejected, %u errors\n",
			       (long long)json_integer_value(json_object_get(m, "added")),
			       (long long)json_integer_value(json_object_get(m, "updated")),
			       (long long)json_integer_value(json_object_get(m, "rejected")), bad);
	}
	if (kev || epss || nvd) {
		_cleanup_free_ char *cache_dir = path_join(ctx->data_dir, "cache");

		if (!cache_dir) {
			json_decref(summary);
			return -ENOMEM;
		}
		errors += enrich(ctx, db, summary, cache_dir, offline, kev, epss,
				 nvd ? (nvd_url ? nvd_url : NVD_BASE_URL_DEFAULT) : NULL, nvd_full);
	}
	json_object_set_new(summary, "total", json_integer(cve_store_count(db, false)));
	json_object_set_new(summary, "errors", json_integer(errors));
	if (ctx->json)
		r = cli_print_json(summary);
	else
		json_decref(summary);
	if (r < 0)
		return r;
	return errors ? CLI_RESULT_PARTIAL : 0;
}

/* ---- cve list ---- */

static void list_help(void)
{
	fputs("usage: tuxtape cve list [OPTIONS]\n"
	      "\n"
	      "List CVE records, newest first.\n"
	      "\n"
	      "Options:\n"
	      "      --since DATE       published or changed on or after DATE (YYYY-MM-DD)\n"
	      "      --file PATH        touching PATH (a source file, or a directory ending in /)\n"
	      "      --rejected         include rejected records\n"
	      "  -n, --limit N          at most N records\n"
	      "      --kernel NAME      every CVE's state for a registered kernel, with the\n"
	      "                         reason (same as 'tuxtape kernel cves NAME')\n" COMMON_HELP,
	      stdout);
}

struct list_ctx {
	json_t *array;
	unsigned n;
};

static int list_print(const struct cve_summary *s, void *userdata)
{
	struct list_ctx *c = userdata;
	char pub[32];

	c->n++;
	if (c->array) {
		json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o, s:s?, s:b, s:b, s:o}", "id", s->id,
				      "title", s->title, "published", json_time(s->published),
				      "modified", json_time(s->modified), "cvss_score",
				      s->cvss_score >= 0 ? json_real(s->cvss_score) : json_null(),
				      "cvss_severity", s->cvss_severity, "kev", s->kev, "rejected",
				      s->rejected, "epss",
				      s->epss >= 0 ? json_real(s->epss) : json_null());

		return o ? json_array_append_new(c->array, o) : -ENOMEM;
	}
	format_date(s->published, pub, sizeof(pub));
	if (s->cvss_score >= 0)
		printf("%-16s %-10s %4.1f %-8s %s%s%s\n", s->id, pub, s->cvss_score,
		       s->cvss_severity ? s->cvss_severity : "", s->kev ? "[KEV] " : "",
		       s->rejected ? "[REJECTED] " : "", s->title);
	else
		printf("%-16s %-10s    - %-8s %s%s%s\n", s->id, pub, "", s->kev ? "[KEV] " : "",
		       s->rejected ? "[REJECTED] " : "", s->title);
	return 0;
}

static int verb_list(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_SINCE = 256, OPT_FILE, OPT_REJECTED, OPT_KERNEL };
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "file", required_argument, NULL, OPT_FILE },
		{ "rejected", no_argument, NULL, OPT_REJECTED },
		{ "limit", required_argument, NULL, 'n' },
		COMMON_LONG_OPTIONS,
		{},
	};
	_cleanup_(db_closep) struct db *db = NULL;
	struct cve_filter f = { 0 };
	struct list_ctx lc = { 0 };
	const char *kernel = NULL;
	int c, r;

	/* 0, not 1: glibc then re-initialises, argument permutation included. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "n:vqh", options, NULL)) != -1) {
		if (common_option(ctx, c))
			continue;
		switch (c) {
		case OPT_SINCE:
			if (parse_timestamp(optarg, &f.since) < 0)
				return cli_usage_error("cve", "list",
						       "invalid date '%s' (expected YYYY-MM-DD)",
						       optarg);
			break;
		case OPT_FILE:
			if (!*optarg)
				return cli_usage_error("cve", "list", "empty --file");
			f.file = optarg;
			break;
		case OPT_REJECTED:
			f.include_rejected = true;
			break;
		case OPT_KERNEL:
			kernel = optarg;
			break;
		case 'n':
			if (safe_atoi(optarg, &f.limit) < 0 || f.limit < 0)
				return cli_usage_error("cve", "list", "invalid limit '%s'", optarg);
			break;
		case 'h':
			list_help();
			return 0;
		default:
			return cli_usage_error("cve", "list", "invalid option");
		}
	}
	if (optind < argc)
		return cli_usage_error("cve", "list", "unexpected argument '%s'", argv[optind]);
	if (kernel) {
		char *kargv[] = { "cves", (char *)kernel, NULL };

		if (f.since || f.file || f.limit || f.include_rejected)
			return cli_usage_error("cve", "list",
					       "--kernel cannot be combined with other filters yet");
		return cmd_kernel_cves(ctx, 2, kargv);
	}
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	if (ctx->json) {
		lc.array = json_array();
		if (!lc.array)
			return -ENOMEM;
	}
	r = cve_store_list(db, &f, list_print, &lc);
	if (r < 0) {
		json_decref(lc.array);
		return log_error_errno(r, "cannot list CVEs: %s", db_errmsg(db));
	}
	if (lc.array)
		return cli_print_json(lc.array);
	if (ctx->verbosity >= 0 && isatty(STDOUT_FILENO))
		fprintf(stderr, "%u CVE(s)\n", lc.n);
	return 0;
}

/* ---- cve show ---- */

static void show_help(void)
{
	fputs("usage: tuxtape cve show [OPTIONS] CVE-ID\n"
	      "\n"
	      "Show one CVE: description, fix commits, per-branch introduced/fixed pairs,\n"
	      "program files, CVSS (CNA and NVD), CISA KEV and EPSS.\n"
	      "\n"
	      "Options:\n" COMMON_HELP "\nExit codes: 0 ok, 5 unknown CVE.\n",
	      stdout);
}

struct enrichment {
	json_t *kev;
	json_t *epss;
	json_t *nvd;
};

static int load_enrichment(struct db *db, const char *id, struct enrichment *e)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db,
		       "SELECT date_added, due_date, name, ransomware, catalog_version FROM kev"
		       " WHERE cve_id = ?",
		       &s);
	if (r < 0 || (r = db_bind_text(s, 1, id)) < 0)
		return r;
	r = db_step(s);
	if (r > 0)
		e->kev = json_pack("{s:s?, s:s?, s:s?, s:b, s:s?}", "date_added",
				   db_column_text(s, 0), "due_date", db_column_text(s, 1), "name",
				   db_column_text(s, 2), "known_ransomware_use",
				   db_column_int64(s, 3) != 0, "catalog_version",
				   db_column_text(s, 4));
	db_stmt_reset(s);
	if (r < 0)
		return r;

	r = db_prepare(db,
		       "SELECT score, percentile, score_date, model_version FROM epss WHERE cve_id = ?",
		       &s);
	if (r < 0 || (r = db_bind_text(s, 1, id)) < 0)
		return r;
	r = db_step(s);
	if (r > 0)
		e->epss = json_pack("{s:f, s:f, s:s?, s:s?}", "score", db_column_double(s, 0),
				    "percentile", db_column_double(s, 1), "date",
				    db_column_text(s, 2), "model_version", db_column_text(s, 3));
	db_stmt_reset(s);
	if (r < 0)
		return r;

	r = db_prepare(db,
		       "SELECT published, last_modified, status, v31_vector, v31_score,"
		       " v31_severity, v40_vector, v40_score, v40_severity, cwes FROM nvd"
		       " WHERE cve_id = ?",
		       &s);
	if (r < 0 || (r = db_bind_text(s, 1, id)) < 0)
		return r;
	r = db_step(s);
	if (r > 0)
		e->nvd = json_pack(
			"{s:o, s:o, s:s?, s:s?, s:o, s:s?, s:s?, s:o, s:s?, s:s?}", "published",
			json_time(db_column_int64(s, 0)), "last_modified",
			json_time(db_column_int64(s, 1)), "status", db_column_text(s, 2),
			"cvss31_vector", db_column_text(s, 3), "cvss31_score",
			db_column_is_null(s, 4) ? json_null() : json_real(db_column_double(s, 4)),
			"cvss31_severity", db_column_text(s, 5), "cvss40_vector",
			db_column_text(s, 6), "cvss40_score",
			db_column_is_null(s, 7) ? json_null() : json_real(db_column_double(s, 7)),
			"cvss40_severity", db_column_text(s, 8), "cwes", db_column_text(s, 9));
	db_stmt_reset(s);
	return r < 0 ? r : 0;
}

static json_t *strv_to_json(char **v)
{
	json_t *a = json_array();

	for (; a && v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *record_to_json(const struct cve_record *rec, struct enrichment *e)
{
	json_t *pairs = json_array(), *o;

	for (size_t i = 0; pairs && i < rec->n_pairs; i++) {
		const struct cve_pair *p = &rec->pairs[i];

		json_array_append_new(pairs,
				      json_pack("{s:s?, s:s?, s:s?, s:s?}", "introduced_version",
						p->introduced_version, "introduced_commit",
						p->introduced_commit, "fixed_version", p->fixed_version,
						"fixed_commit", p->fixed_commit));
	}
	o = json_pack("{s:s, s:s?, s:s?, s:o, s:o, s:b, s:s?, s:o, s:o, s:o, s:o, s:o}", "id",
		      rec->id, "title", rec->title, "description", rec->description, "published",
		      json_time(rec->published), "modified", json_time(rec->modified), "rejected",
		      rec->rejected, "source", rec->source, "fix_commits",
		      strv_to_json(rec->fix_commits), "vulnerable_commits",
		      strv_to_json(rec->vulnerable_commits), "pairs", pairs, "program_files",
		      strv_to_json(rec->program_files), "references", strv_to_json(rec->references));
	if (!o)
		return NULL;
	json_object_set_new(o, "cvss",
			    rec->cvss_vector
				    ? json_pack("{s:s, s:s, s:f, s:s?, s:s?}", "source", "cna",
						"vector", rec->cvss_vector, "base_score",
						rec->cvss_score, "severity", rec->cvss_severity,
						"rationale", rec->cvss_rationale)
				    : json_null());
	json_object_set_new(o, "kev", e->kev ? e->kev : json_null());
	json_object_set_new(o, "epss", e->epss ? e->epss : json_null());
	json_object_set_new(o, "nvd", e->nvd ? e->nvd : json_null());
	e->kev = e->epss = e->nvd = NULL;
	return o;
}

static void print_record(const struct cve_record *rec, const struct enrichment *e)
{
	char pub[32], mod[32];

	format_date(rec->published, pub, sizeof(pub));
	format_date(rec->modified, mod, sizeof(mod));
	printf("%s%s: %s\n", rec->id, rec->rejected ? " [REJECTED]" : "",
	       rec->title ? rec->title : "");
	printf("Published: %s   Modified: %s   Source: %s\n", pub, mod,
	       rec->source ? rec->source : "-");
	if (rec->cvss_vector)
		printf("CVSS (CNA): %.1f %s  %s\n", rec->cvss_score,
		       rec->cvss_severity ? rec->cvss_severity : "", rec->cvss_vector);
	if (e->nvd && json_is_string(json_object_get(e->nvd, "cvss31_vector")))
		printf("CVSS (NVD): %.1f %s  %s\n",
		       json_real_value(json_object_get(e->nvd, "cvss31_score")),
		       json_string_value(json_object_get(e->nvd, "cvss31_severity")),
		       json_string_value(json_object_get(e->nvd, "cvss31_vector")));
	if (e->kev)
		printf("CISA KEV: listed since %s\n",
		       json_string_value(json_object_get(e->kev, "date_added")));
	else
		printf("CISA KEV: not listed\n");
	if (e->epss)
		printf("EPSS: %.5f (percentile %.3f)\n",
		       json_real_value(json_object_get(e->epss, "score")),
		       json_real_value(json_object_get(e->epss, "percentile")));
	printf("\nFix commits:\n");
	for (char **c = rec->fix_commits; c && *c; c++)
		printf("  %s\n", *c);
	printf("\nAffected and fixed (per branch):\n");
	for (size_t i = 0; i < rec->n_pairs; i++) {
		const struct cve_pair *p = &rec->pairs[i];

		printf("  introduced %-9s %-12.12s  ", p->introduced_version ? p->introduced_version : "?",
		       p->introduced_commit ? p->introduced_commit : "(unknown)");
		if (p->fixed_version)
			printf("fixed %-9s %.12s\n", p->fixed_version,
			       p->fixed_commit ? p->fixed_commit : "");
		else
			printf("not fixed\n");
	}
	printf("\nFiles:\n");
	for (char **f = rec->program_files; f && *f; f++)
		printf("  %s\n", *f);
	if (rec->description)
		printf("\n%s\n", rec->description);
}

static int verb_show(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = { COMMON_LONG_OPTIONS, {} };
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_(cve_record_freep) struct cve_record *rec = NULL;
	struct enrichment e = { 0 };
	int c, r;

	/* 0, not 1: glibc then re-initialises, argument permutation included. */
	optind = 0;
	while ((c = getopt_long(argc, argv, "vqh", options, NULL)) != -1) {
		if (common_option(ctx, c))
			continue;
		if (c == 'h') {
			show_help();
			return 0;
		}
		return cli_usage_error("cve", "show", "invalid option");
	}
	if (argc - optind != 1)
		return cli_usage_error("cve", "show", "expected one CVE id");
	if (!cve_id_valid(argv[optind]))
		return cli_usage_error("cve", "show", "'%s' is not a CVE id (CVE-YYYY-NNNN)",
				       argv[optind]);
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = cve_store_load(db, argv[optind], &rec);
	if (r == -ENOENT) {
		log_error("'%s' is not in the database (run 'tuxtape cve sync')", argv[optind]);
		return CLI_RESULT_NOT_FOUND;
	}
	if (r < 0)
		return log_error_errno(r, "cannot load '%s': %s", argv[optind], db_errmsg(db));
	r = load_enrichment(db, rec->id, &e);
	if (r < 0)
		return log_error_errno(r, "cannot load enrichment of '%s': %s", rec->id,
				       db_errmsg(db));
	if (ctx->json)
		return cli_print_json(record_to_json(rec, &e));
	print_record(rec, &e);
	json_decref(e.kev);
	json_decref(e.epss);
	json_decref(e.nvd);
	return 0;
}


/* ---- cve rank ---- */

static void rank_help(void)
{
	fputs("usage: tuxtape cve rank --kernel NAME [OPTIONS]\n"
	      "\n"
	      "Rank the CVEs that affect a registered kernel by an explainable score:\n"
	      "CVSS (CNA, else NVD) and its parts, CISA KEV, EPSS, built-in or module (and\n"
	      "whether nodes have it loaded), subsystem weights and how livepatchable the fix\n"
	      "looks.  Weights are the [prio] section of the config (docs/prioritizer.md).\n"
	      "\n"
	      "Options:\n"
	      "      --kernel NAME        the kernel (required)\n"
	      "      --explain            show each factor's contribution\n"
	      "      --min-severity S     low, medium, high or critical\n"
	      "      --vendor V           only what V would patch: canonical (high, critical)\n"
	      "                           or redhat (important, critical)\n"
	      "  -n, --limit N            at most N CVEs\n" COMMON_HELP
	      "\nExit codes: 0 ok, 1 failure, 2 usage, 5 kernel not registered.\n",
	      stdout);
}

struct rank_collect {
	const struct rank_context *rc;
	const struct kernel_view *kv;
	const struct prio_weights *w;
	struct prio_result *results;
	char **titles; /* parallel to results */
	char **states;
	size_t n, alloc;
	int error;
};

static int rank_one(const struct cve_record *rec, const struct gauge_verdict *v, void *userdata)
{
	struct rank_collect *c = userdata;
	struct prio_input in;
	int r;

	/* Ranked: affected, and unknown where only a header decides (it may well be). */
	if (v->state != GAUGE_AFFECTED && !(v->state == GAUGE_UNKNOWN && v->unknown_header))
		return 0;
	if (c->n == c->alloc) {
		size_t na = c->alloc ? c->alloc * 2 : 256;
		struct prio_result *nr = realloc(c->results, na * sizeof(*nr));
		char **nt, **ns;

		if (!nr)
			return -ENOMEM;
		c->results = nr;
		nt = realloc(c->titles, na * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		c->titles = nt;
		ns = realloc(c->states, na * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		c->states = ns;
		c->alloc = na;
	}
	rank_context_input(c->rc, c->kv, rec, v, &in);
	r = prio_score(c->w, &in, &c->results[c->n]);
	if (r < 0)
		return r;
	c->titles[c->n] = strdup(rec->title ? rec->title : "");
	c->states[c->n] = strdup(v->unknown_header ? "unknown-header" : gauge_state_to_string(v->state));
	if (!c->titles[c->n] || !c->states[c->n])
		return -ENOMEM;
	c->n++;
	return 0;
}

/* Sorts results with their titles and states by the prioritizer's order. */
static void rank_sort(struct rank_collect *c)
{
	size_t *idx = malloc(c->n * sizeof(*idx) + 1);
	struct prio_result *r2;
	char **t2, **s2;

	if (!idx)
		return;
	for (size_t i = 0; i < c->n; i++)
		idx[i] = i;
	/* Insertion by merge would be overkill: sort indexes with the public comparator. */
	for (size_t gap = c->n / 2; gap > 0; gap /= 2)
		for (size_t i = gap; i < c->n; i++)
			for (size_t j = i; j >= gap &&
					   prio_result_compare(&c->results[idx[j - gap]],
							       &c->results[idx[j]]) > 0;
			     j -= gap) {
				size_t t = idx[j];

				idx[j] = idx[j - gap];
				idx[j - gap] = t;
			}
	r2 = malloc(c->n * sizeof(*r2) + 1);
	t2 = malloc(c->n * sizeof(*t2) + 1);
	s2 = malloc(c->n * sizeof(*s2) + 1);
	if (r2 && t2 && s2) {
		for (size_t i = 0; i < c->n; i++) {
			r2[i] = c->results[idx[i]];
			t2[i] = c->titles[idx[i]];
			s2[i] = c->states[idx[i]];
		}
		free(c->results);
		free(c->titles);
		free(c->states);
		c->results = r2;
		c->titles = t2;
		c->states = s2;
	} else {
		free(r2);
		free(t2);
		free(s2);
	}
	free(idx);
}

static json_t *result_json(const struct prio_result *res, const char *title, const char *state,
			   bool explain)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:f, s:s, s:s, s:b, s:b, s:b, s:f}", "id",
			      res->cve_id, "title", title, "state", state, "score", res->score,
			      "severity", prio_severity_to_string(res->severity), "cvss_source",
			      prio_cvss_source_to_string(res->cvss_source), "kev", res->kev,
			      "canonical_livepatch", res->canonical_livepatch, "redhat_kpatch",
			      res->redhat_kpatch, "cvss_base", res->cvss_base);

	if (o && explain) {
		json_t *f = json_array();

		for (size_t i = 0; f && i < res->n_factors; i++)
			json_array_append_new(f, json_pack("{s:s, s:s, s:f, s:s}", "name",
							   res->factors[i].name, "value",
							   res->factors[i].value, "points",
							   res->factors[i].points, "note",
							   res->factors[i].note));
		json_object_set_new(o, "factors", f);
	}
	return o;
}

static int verb_rank(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_KERNEL = 256, OPT_EXPLAIN, OPT_MIN_SEVERITY, OPT_VENDOR };
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "explain", no_argument, NULL, OPT_EXPLAIN },
		{ "min-severity", required_argument, NULL, OPT_MIN_SEVERITY },
		{ "vendor", required_argument, NULL, OPT_VENDOR },
		{ "limit", required_argument, NULL, 'n' },
		COMMON_LONG_OPTIONS,
		{},
	};
	_cleanup_(db_closep) struct db *db = NULL;
	struct prio_weights w;
	struct rank_context *rc = NULL;
	struct kernel_view kv;
	struct rank_collect col = { 0 };
	const char *kernel = NULL, *vendor = NULL;
	enum prio_severity min = PRIO_SEVERITY_LOW;
	bool explain = false;
	json_t *out = NULL;
	char err[256] = "";
	int c, r, limit = 0;
	size_t shown = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "n:vqh", options, NULL)) != -1) {
		if (common_option(ctx, c))
			continue;
		switch (c) {
		case OPT_KERNEL:
			kernel = optarg;
			break;
		case OPT_EXPLAIN:
			explain = true;
			break;
		case OPT_MIN_SEVERITY:
			min = prio_severity_from_string(optarg);
			if ((int)min < 0)
				return cli_usage_error("cve", "rank",
						       "unknown severity '%s' (low, medium, high, critical)",
						       optarg);
			break;
		case OPT_VENDOR:
			if (!streq(optarg, "canonical") && !streq(optarg, "redhat"))
				return cli_usage_error("cve", "rank",
						       "unknown vendor '%s' (canonical, redhat)", optarg);
			vendor = optarg;
			break;
		case 'n':
			if (safe_atoi(optarg, &limit) < 0 || limit < 0)
				return cli_usage_error("cve", "rank", "invalid limit '%s'", optarg);
			break;
		case 'h':
			rank_help();
			return 0;
		default:
			return cli_usage_error("cve", "rank", "invalid option");
		}
	}
	if (optind < argc)
		return cli_usage_error("cve", "rank", "unexpected argument '%s'", argv[optind]);
	if (!kernel)
		return cli_usage_error("cve", "rank", "--kernel NAME is required");
	r = prio_weights_load(&w, ctx->config, err, sizeof(err));
	if (r < 0)
		return log_error_errno(r, "invalid [prio] configuration: %s", err);
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = kernel_view_open(db, kernel, &kv);
	if (r == -ENOENT)
		return cli_kernel_not_registered(kernel);
	if (r < 0)
		return log_error_errno(r, "cannot load kernel '%s': %s", kernel, db_errmsg(db));
	r = rank_context_new(db, &rc);
	if (r >= 0) {
		col.rc = rc;
		col.kv = &kv;
		col.w = &w;
		r = applicability_sweep(db, &kv, rank_one, &col);
	}
	if (r < 0) {
		log_error_errno(r, "cannot rank CVEs for '%s': %s", kernel, db_errmsg(db));
		goto out;
	}
	rank_sort(&col);
	if (ctx->json && !(out = json_array())) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < col.n && (!limit || shown < (size_t)limit); i++) {
		const struct prio_result *res = &col.results[i];

		if (res->severity < min)
			continue;
		if (vendor && (streq(vendor, "canonical") ? !res->canonical_livepatch
							   : !res->redhat_kpatch))
			continue;
		shown++;
		if (out) {
			json_array_append_new(out, result_json(res, col.titles[i], col.states[i],
							       explain));
			continue;
		}
		printf("%3zu. %5.1f %-8s %-16s %s%s\n", shown, res->score,
		       prio_severity_to_string(res->severity), res->cve_id,
		       res->kev ? "[KEV] " : "", col.titles[i]);
		if (explain) {
			for (size_t k = 0; k < res->n_factors; k++)
				printf("        %+6.1f  %-16s %-28s %s\n", res->factors[k].points,
				       res->factors[k].name, res->factors[k].value,
				       res->factors[k].note);
		}
	}
	if (out) {
		r = cli_print_json(out);
		out = NULL;
	} else if (ctx->verbosity >= 0) {
		fprintf(stderr, "%zu of %zu applicable CVEs shown for '%s' (%s)\n", shown, col.n,
			kernel, kv.kernel->version);
	}
out:
	json_decref(out);
	for (size_t i = 0; i < col.n; i++) {
		free(col.titles[i]);
		free(col.states[i]);
	}
	free(col.titles);
	free(col.states);
	free(col.results);
	rank_context_free(rc);
	kernel_view_release(&kv);
	return r;
}

static const struct cli_verb cve_verbs[] = {
	{ "sync", verb_sync, "fetch and ingest CVE records (vulns git, mbox, KEV, EPSS, NVD)" },
	{ "list", verb_list, "list CVEs (--since, --file, --json)" },
	{ "show", verb_show, "show one CVE with pairs, files, CVSS, KEV and EPSS" },
	{ "rank", verb_rank, "rank the CVEs affecting a kernel, with explanations" },
	{},
};

int cmd_cve(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "cve", cve_verbs, argc, argv);
}
