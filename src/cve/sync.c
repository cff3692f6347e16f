/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <git2.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fileio.h"
#include "hashmap.h"
#include "log.h"
#include "parse-util.h"
#include "progress.h"
#include "record.h"
#include "store.h"
#include "strbuf.h"
#include "sync.h"

#define SOURCE_NAME "vulns"

void (*cve_sync_test_hook)(unsigned records_done);

/* The sidecar files of one record, by extension, in the order they are applied. */
enum record_file {
	RECORD_DYAD,
	RECORD_JSON,
	RECORD_SHA1,
	RECORD_VULNERABLE,
	RECORD_CVSS,
	RECORD_REFERENCE,
	RECORD_MESSAGE,
	_RECORD_FILE_MAX,
};

static const char *const record_ext[_RECORD_FILE_MAX] = {
	[RECORD_DYAD] = ".dyad",
	[RECORD_JSON] = ".json",
	[RECORD_SHA1] = ".sha1",
	[RECORD_VULNERABLE] = ".vulnerable",
	[RECORD_CVSS] = ".cvss",
	[RECORD_REFERENCE] = ".reference",
	[RECORD_MESSAGE] = ".message",
};

/* Where one CVE's files are in the tree being synced. */
struct record_files {
	char id[CVE_ID_MAX];
	char dir[64]; /* "cve/published/2024" */
	bool rejected;
	bool present[_RECORD_FILE_MAX];
	git_oid oid[_RECORD_FILE_MAX];
};

struct record_dates {
	int64_t published;
	int64_t modified;
};

struct sync_run {
	struct db *db;
	git_repository *repo;
	git_tree *head_tree;
	int64_t head_time;
	int64_t now;
	struct cve_sync_stats *stats;
	struct hashmap *dates; /* id -> struct record_dates; NULL while a thread computes them */
	bool fresh_db;
	bool has_errors;       /* sync_error holds rows of this source */
	unsigned done;
	unsigned kill_after; /* test hook: SIGKILL ourselves after this many records */
};

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int git_error_to_errno(int gerr)
{
	const git_error *e = git_error_last();

	switch (gerr) {
	case GIT_ENOTFOUND:
		return -ENOENT;
	case GIT_EEXISTS:
		return -EEXIST;
	case GIT_EAUTH:
	case GIT_ECERTIFICATE:
		return -EACCES;
	default:
		break;
	}
	if (e && e->klass == GIT_ERROR_NET)
		return -EHOSTUNREACH;
	if (e && e->klass == GIT_ERROR_OS)
		return -EIO;
	return -EPROTO;
}

static const char *git_errmsg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

static int transfer_progress(const git_indexer_progress *st, void *payload)
{
	struct progress *p = payload;

	p->total = st->total_objects;
	progress_update(p, st->received_objects);
	return 0;
}

/* A mirror refspec: fetches update local branches directly, forced, so HEAD follows upstream. */
static int create_mirror_remote(git_remote **out, git_repository *repo, const char *name,
				const char *url, void *payload)
{
	return git_remote_create_with_fetchspec(out, repo, name, url, "+refs/heads/*:refs/heads/*");
}

static int fix_head(git_repository *repo);

static int clone_repo(const struct cve_sync_options *o, git_repository **ret)
{
	git_clone_options opts = GIT_CLONE_OPTIONS_INIT;
	_cleanup_free_ char *tmp = NULL;
	struct progress p;
	int r;

	/* Clone next to the final place and rename, so a killed clone leaves no half repository. */
	if (asprintf(&tmp, "%s.tmp-%ld", o->repo_dir, (long)getpid()) < 0)
		return -ENOMEM;
	(void)rm_rf(tmp);
	{
		_cleanup_free_ char *parent = strdup(o->repo_dir);
		char *slash = parent ? strrchr(parent, '/') : NULL;

		if (!parent)
			return -ENOMEM;
		if (slash && slash != parent) {
			*slash = '\0';
			r = mkdir_p(parent, 0755);
			if (r < 0)
				return log_error_errno(r, "cannot create '%s'", parent);
		}
	}
	progress_start(&p, "cloning vulns", 0, o->progress);
	opts.bare = 1;
	opts.remote_cb = create_mirror_remote;
	opts.fetch_opts.callbacks.transfer_progress = transfer_progress;
	opts.fetch_opts.callbacks.payload = &p;
	r = git_clone(ret, o->source, tmp, &opts);
	progress_end(&p);
	if (r < 0) {
		int e = git_error_to_errno(r);

		log_error("cannot clone the vulns repository '%s': %s", o->source, git_errmsg());
		(void)rm_rf(tmp);
		return e;
	}
	git_repository_free(*ret);
	*ret = NULL;
	if (rename(tmp, o->repo_dir) < 0) {
		r = -errno;
		(void)rm_rf(tmp);
		return log_error_errno(r, "cannot move clone into place at '%s'", o->repo_dir);
	}
	r = git_repository_open_bare(ret, o->repo_dir);
	if (r < 0) {
		log_error("cannot open '%s': %s", o->repo_dir, git_errmsg());
		return git_error_to_errno(r);
	}
	(void)fix_head(*ret);
	return 0;
}

static int fetch_repo(const struct cve_sync_options *o, git_repository *repo)
{
	git_fetch_options fo = GIT_FETCH_OPTIONS_INIT;
	git_remote *remote = NULL;
	struct progress p;
	int r;

	r = git_remote_lookup(&remote, repo, "origin");
	if (r < 0) {
		log_error("the clone at '%s' has no remote 'origin': %s", o->repo_dir, git_errmsg());
		return git_error_to_errno(r);
	}
	if (!streq(git_remote_url(remote), o->source)) {
		/* The configured source moved: follow it, as a user editing the config expects. */
		git_remote_free(remote);
		r = git_remote_set_url(repo, "origin", o->source);
		if (r >= 0)
			r = git_remote_lookup(&remote, repo, "origin");
		if (r < 0) {
			log_error("cannot point '%s' at '%s': %s", o->repo_dir, o->source, git_errmsg());
			return git_error_to_errno(r);
		}
	}
	progress_start(&p, "fetching vulns", 0, o->progress);
	fo.callbacks.transfer_progress = transfer_progress;
	fo.callbacks.payload = &p;
	fo.prune = GIT_FETCH_PRUNE;
	r = git_remote_fetch(remote, NULL, &fo, "tuxtape cve sync");
	progress_end(&p);
	git_remote_free(remote);
	if (r < 0) {
		log_error("cannot fetch the vulns repository '%s': %s", o->source, git_errmsg());
		return git_error_to_errno(r);
	}
	return 0;
}

/*
 * Points HEAD of the bare clone at the upstream default branch when it does
 * not resolve: with the mirror refspec, libgit2 leaves HEAD at its own
 * default name, which need not be upstream's (vulns uses "master", a
 * re-published copy may use "main").
 */
static int fix_head(git_repository *repo)
{
	static const char *const fallbacks[] = { "refs/heads/master", "refs/heads/main" };
	git_reference *ref = NULL, *resolved = NULL;
	git_branch_iterator *it = NULL;
	git_branch_t type;
	int r;

	if (git_repository_head(&ref, repo) == 0) {
		git_reference_free(ref);
		return 0;
	}
	if (git_reference_lookup(&ref, repo, "refs/remotes/origin/HEAD") == 0) {
		const char *target = git_reference_symbolic_target(ref);
		char name[256];

		if (target) {
			const char *slash = strrchr(target, '/');

			snprintf(name, sizeof(name), "refs/heads/%s", slash ? slash + 1 : target);
			if (git_reference_lookup(&resolved, repo, name) == 0) {
				git_reference_free(resolved);
				git_reference_free(ref);
				return git_repository_set_head(repo, name) < 0 ? -EIO : 0;
			}
		}
		git_reference_free(ref);
	}
	for (size_t i = 0; i < ARRAY_SIZE(fallbacks); i++)
		if (git_reference_lookup(&resolved, repo, fallbacks[i]) == 0) {
			git_reference_free(resolved);
			return git_repository_set_head(repo, fallbacks[i]) < 0 ? -EIO : 0;
		}
	/* Any branch at all: a repository with a single branch of another name. */
	r = git_branch_iterator_new(&it, repo, GIT_BRANCH_LOCAL);
	if (r == 0 && git_branch_next(&ref, &type, it) == 0) {
		r = git_repository_set_head(repo, git_reference_name(ref)) < 0 ? -EIO : 0;
		git_reference_free(ref);
	} else {
		r = -ENOENT;
	}
	git_branch_iterator_free(it);
	return r;
}

static int open_repo(const struct cve_sync_options *o, git_repository **ret)
{
	struct stat st;
	int r;

	if (stat(o->repo_dir, &st) < 0) {
		if (errno != ENOENT)
			return log_error_errno(-errno, "cannot access '%s'", o->repo_dir);
		if (o->offline)
			return log_error_errno(-ENOENT,
					       "no clone of the vulns repository at '%s' (run once "
					       "without --offline)",
					       o->repo_dir);
		return clone_repo(o, ret);
	}
	r = git_repository_open_bare(ret, o->repo_dir);
	if (r < 0) {
		log_error("'%s' is not a usable git repository: %s", o->repo_dir, git_errmsg());
		return git_error_to_errno(r);
	}
	if (o->offline)
		return 0;
	r = fetch_repo(o, *ret);
	if (r >= 0)
		(void)fix_head(*ret);
	if (r < 0) {
		git_repository_free(*ret);
		*ret = NULL;
	}
	return r;
}

/* ---- history: when each record was first published and last changed ---- */

static int note_date(struct hashmap *dates, const char *path, git_delta_t status, int64_t when)
{
	const char *base = strrchr(path, '/');
	char id[CVE_ID_MAX];
	const char *dot;
	struct record_dates *d;
	size_t n;

	base = base ? base + 1 : path;
	dot = strchr(base, '.');
	if (!dot || !streq(dot, ".json"))
		return 0;
	n = (size_t)(dot - base);
	if (n >= sizeof(id))
		return 0;
	memcpy(id, base, n);
	id[n] = '\0';
	d = hashmap_get(dates, id);
	if (!d) {
		int r;

		d = calloc(1, sizeof(*d));
		if (!d)
			return -ENOMEM;
		r = hashmap_put(dates, id, d);
		if (r < 0) {
			free(d);
			return r;
		}
	}
	if (status == GIT_DELTA_ADDED && (!d->published || when < d->published))
		d->published = when;
	if (when > d->modified)
		d->modified = when;
	return 0;
}

static git_tree *subtree(git_repository *repo, git_tree *root, const char *path);

/* Notes the .json records of one year directory that are new or changed against its parent. */
static int dates_in_year(git_repository *repo, struct hashmap *dates, const git_tree_entry *ye,
			 const git_tree_entry *pye, int64_t when)
{
	git_tree *yt = NULL, *pyt = NULL;
	size_t n;
	int r = 0;

	if (git_tree_lookup(&yt, repo, git_tree_entry_id(ye)) < 0)
		return 0;
	if (pye && git_tree_lookup(&pyt, repo, git_tree_entry_id(pye)) < 0)
		pyt = NULL;
	n = git_tree_entrycount(yt);
	for (size_t i = 0; i < n && r >= 0; i++) {
		const git_tree_entry *e = git_tree_entry_byindex(yt, i), *pe;
		const char *name = git_tree_entry_name(e);
		size_t l = strlen(name);

		if (l < 5 || strcmp(name + l - 5, ".json") != 0)
			continue;
		pe = pyt ? git_tree_entry_byname(pyt, name) : NULL;
		if (!pe)
			r = note_date(dates, name, GIT_DELTA_ADDED, when);
		else if (!git_oid_equal(git_tree_entry_id(e), git_tree_entry_id(pe)))
			r = note_date(dates, name, GIT_DELTA_MODIFIED, when);
	}
	git_tree_free(pyt);
	git_tree_free(yt);
	return r;
}

/*
 * Walks the commits in (from, head] oldest first and notes, per record, the
 * commit time when its JSON first appeared and when it last changed.  Only
 * first parents are followed: the CNA's history is linear, and a merge's
 * other side is summarised by the merge itself.  Trees are compared by hand,
 * year directory by year directory, skipping every subtree whose id did not
 * change: much cheaper than a full diff, and all that dates need.
 */
static int collect_dates(git_repository *repo, struct hashmap *dates, const git_oid *from,
			 const git_oid *head)
{
	static const char *const roots[] = { "cve/published", "cve/rejected" };
	git_revwalk *walk = NULL;
	git_oid oid;
	int r;

	if ((r = git_revwalk_new(&walk, repo)) < 0)
		goto git_fail;
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_REVERSE);
	git_revwalk_simplify_first_parent(walk);
	if ((r = git_revwalk_push(walk, head)) < 0)
		goto git_fail;
	if (from && (r = git_revwalk_hide(walk, from)) < 0)
		goto git_fail;

	while ((r = git_revwalk_next(&oid, walk)) == 0) {
		git_commit *c = NULL, *parent = NULL;
		git_tree *t = NULL, *pt = NULL;
		int64_t when;

		if ((r = git_commit_lookup(&c, repo, &oid)) < 0)
			goto git_fail;
		when = (int64_t)git_commit_time(c);
		r = git_commit_tree(&t, c);
		if (r >= 0 && git_commit_parentcount(c) > 0) {
			r = git_commit_parent(&parent, c, 0);
			if (r >= 0)
				r = git_commit_tree(&pt, parent);
		}
		for (size_t ri = 0; r >= 0 && ri < ARRAY_SIZE(roots); ri++) {
			git_tree *rt = subtree(repo, t, roots[ri]);
			git_tree *prt = pt ? subtree(repo, pt, roots[ri]) : NULL;
			size_t n = rt ? git_tree_entrycount(rt) : 0;

			if (rt && prt && git_oid_equal(git_tree_id(rt), git_tree_id(prt)))
				n = 0;
			for (size_t y = 0; y < n && r >= 0; y++) {
				const git_tree_entry *ye = git_tree_entry_byindex(rt, y), *pye;

				if (git_tree_entry_type(ye) != GIT_OBJECT_TREE)
					continue;
				pye = prt ? git_tree_entry_byname(prt, git_tree_entry_name(ye)) : NULL;
				if (pye && git_oid_equal(git_tree_entry_id(ye), git_tree_entry_id(pye)))
					continue;
				r = dates_in_year(repo, dates, ye, pye, when);
			}
			git_tree_free(prt);
			git_tree_free(rt);
		}
		git_tree_free(pt);
		git_tree_free(t);
		git_commit_free(parent);
		git_commit_free(c);
		if (r < 0) {
			if (r == -ENOMEM)
				goto out;
			goto git_fail;
		}
	}
	r = r == GIT_ITEROVER ? 0 : r;
	if (r < 0)
		goto git_fail;
out:
	git_revwalk_free(walk);
	return r;
git_fail:
	log_error("cannot walk the history of the vulns repository: %s", git_errmsg());
	r = git_error_to_errno(r);
	goto out;
}

/* ---- reading and storing one record ---- */

static void record_hash(const struct record_files *f, char out[17])
{
	uint64_t h = 1469598103934665603ull;

	for (int i = 0; i < _RECORD_FILE_MAX; i++) {
		if (!f->present[i])
			continue;
		for (size_t k = 0; k < sizeof(f->oid[i].id); k++) {
			h ^= f->oid[i].id[k];
			h *= 1099511628211ull;
		}
		h ^= (uint64_t)i + 1;
		h *= 1099511628211ull;
	}
	h ^= f->rejected;
	snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static int record_error(struct sync_run *s, const struct record_files *f, const char *ext,
			const char *msg)
{
	struct db_stmt *st;
	char path[160];
	int r;

	snprintf(path, sizeof(path), "%s/%s%s", f->dir, f->id, ext);
	log_warning("skipping '%s': %s", path, msg);
	s->stats->errors++;
	r = db_prepare(s->db,
		       "INSERT INTO sync_error (source, cve_id, path, message, first_seen)"
		       " VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, cve_id) DO UPDATE SET"
		       " path = excluded.path, message = excluded.message",
		       &st);
	if (r < 0)
		return r;
	if ((r = db_bind_text(st, 1, SOURCE_NAME)) < 0 || (r = db_bind_text(st, 2, f->id)) < 0 ||
	    (r = db_bind_text(st, 3, path)) < 0 || (r = db_bind_text(st, 4, msg)) < 0 ||
	    (r = db_bind_int64(st, 5, s->now)) < 0)
		return r;
	r = db_step(st);
	db_stmt_reset(st);
	return r < 0 ? r : 0;
}

static int clear_error(struct sync_run *s, const char *id)
{
	struct db_stmt *st;
	int r;

	r = db_prepare(s->db, "DELETE FROM sync_error WHERE source = ? AND cve_id = ?", &st);
	if (r < 0)
		return r;
	if ((r = db_bind_text(st, 1, SOURCE_NAME)) < 0 || (r = db_bind_text(st, 2, id)) < 0)
		return r;
	r = db_step(st);
	db_stmt_reset(st);
	return r < 0 ? r : 0;
}

typedef int (*parse_fn)(struct cve_record *r, const char *buf, size_t len, char *reterr,
			size_t errsize);

static int parse_reference(struct cve_record *r, const char *buf, size_t len, char *e, size_t n)
{
	return cve_record_parse_reference(r, buf, len);
}

static int parse_message(struct cve_record *r, const char *buf, size_t len, char *e, size_t n)
{
	return cve_record_parse_message(r, buf, len);
}

static const parse_fn record_parser[_RECORD_FILE_MAX] = {
	[RECORD_DYAD] = cve_record_parse_dyad,
	[RECORD_JSON] = cve_record_parse_json,
	[RECORD_SHA1] = cve_record_parse_sha1,
	[RECORD_VULNERABLE] = cve_record_parse_vulnerable,
	[RECORD_CVSS] = cve_record_parse_cvss,
	[RECORD_REFERENCE] = parse_reference,
	[RECORD_MESSAGE] = parse_message,
};

/* One record read and parsed, possibly on a worker thread; the database is left to the caller. */
struct parsed_record {
	struct cve_record *rec; /* NULL when error < 0 */
	int error;              /* 0, -EBADMSG for a problem of the record, else fatal */
	int bad_kind;           /* the file kind at fault when error == -EBADMSG */
	char err[256];
	bool ready;             /* set by the worker under the pipeline lock */
};

static void parse_record(git_repository *repo, const struct record_files *f,
			 struct parsed_record *p)
{
	_cleanup_(cve_record_freep) struct cve_record *rec = cve_record_new(f->id);
	int r;

	p->rec = NULL;
	p->error = 0;
	p->err[0] = '\0';
	if (!rec) {
		p->error = -ENOMEM;
		return;
	}
	for (int i = 0; i < _RECORD_FILE_MAX; i++) {
		git_blob *blob = NULL;
		size_t size;

		if (!f->present[i])
			continue;
		p->bad_kind = i;
		r = git_blob_lookup(&blob, repo, &f->oid[i]);
		if (r < 0) {
			snprintf(p->err, sizeof(p->err), "%s", git_errmsg());
			p->error = -EBADMSG;
			return;
		}
		size = (size_t)git_blob_rawsize(blob);
		if (size > CVE_RECORD_FILE_MAX) {
			git_blob_free(blob);
			snprintf(p->err, sizeof(p->err), "file of %zu bytes exceeds the %u byte limit",
				 size, CVE_RECORD_FILE_MAX);
			p->error = -EBADMSG;
			return;
		}
		r = record_parser[i](rec, git_blob_rawcontent(blob), size, p->err, sizeof(p->err));
		git_blob_free(blob);
		if (r == -ENOMEM) {
			p->error = r;
			return;
		}
		if (r < 0) {
			if (!p->err[0])
				snprintf(p->err, sizeof(p->err), "%s", errno_to_string(r));
			p->error = -EBADMSG;
			return;
		}
	}
	rec->rejected = f->rejected;
	rec->source = strdup("vulns");
	if (!rec->source) {
		p->error = -ENOMEM;
		return;
	}
	p->rec = TAKE_PTR(rec);
}

/*
 * Stores one parsed record (or records its error).  Returns 0 when stored or
 * skipped with a recorded error; negative errno only for failures that must
 * stop the run (database, out of memory).
 */
static int store_parsed(struct sync_run *s, const struct record_files *f,
			struct parsed_record *p, bool exists, const char *hash)
{
	struct record_dates *d;
	int r;

	if (p->error == -EBADMSG)
		return record_error(s, f, record_ext[p->bad_kind], p->err);
	if (p->error < 0)
		return p->error;
	/* Without dates yet (the parallel full read sets them afterwards), 0 keeps stored ones. */
	d = s->dates ? hashmap_get(s->dates, f->id) : NULL;
	p->rec->published = d && d->published ? d->published : s->dates ? s->head_time : 0;
	p->rec->modified = d && d->modified ? d->modified : s->dates ? s->head_time : 0;

	r = cve_store_put(s->db, p->rec, hash, !exists, s->now);
	if (r < 0)
		return log_error_errno(r, "cannot store '%s': %s", f->id, db_errmsg(s->db));
	if (exists)
		s->stats->updated++;
	else
		s->stats->added++;
	if (f->rejected)
		s->stats->rejected++;
	if (s->has_errors && (r = clear_error(s, f->id)) < 0)
		return r;
	if (s->kill_after && ++s->done >= s->kill_after)
		raise(SIGKILL);
	return 0;
}

/* Looks the record up in the database: 1 = must be written, 0 = unchanged. */
static int check_stored(struct sync_run *s, const struct record_files *f, const char *hash,
			bool *ret_exists)
{
	_cleanup_free_ char *old_hash = NULL;
	int r;

	r = cve_store_get_hash(s->db, f->id, &old_hash);
	if (r < 0)
		return r;
	*ret_exists = r > 0;
	if (old_hash && streq(old_hash, hash)) {
		s->stats->unchanged++;
		if (s->has_errors && (r = clear_error(s, f->id)) < 0)
			return r;
		return 0;
	}
	return 1;
}

/* Reads, parses and stores one record on the calling thread. */
static int sync_record(struct sync_run *s, const struct record_files *f, bool may_exist)
{
	struct parsed_record p;
	bool exists = false;
	char hash[17];
	int r;

	if (!f->present[RECORD_JSON]) {
		/* Sidecars without a record (the CNA has a few orphans) are not a CVE yet. */
		log_debug("'%s/%s' has no .json, ignoring", f->dir, f->id);
		return 0;
	}
	record_hash(f, hash);
	if (may_exist) {
		r = check_stored(s, f, hash, &exists);
		if (r <= 0)
			return r;
	}
	parse_record(s->repo, f, &p);
	r = store_parsed(s, f, &p, exists, hash);
	cve_record_free(p.rec);
	return r;
}

/* Splits "CVE-2024-1234.json" into id and file kind; false for files we do not read. */
static bool classify(const char *name, char id[CVE_ID_MAX], int *ret_kind)
{
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);

	if (n >= CVE_ID_MAX)
		return false;
	memcpy(id, name, n);
	id[n] = '\0';
	if (!cve_id_valid(id) || !dot)
		return false;
	for (int i = 0; i < _RECORD_FILE_MAX; i++)
		if (streq(dot, record_ext[i])) {
			*ret_kind = i;
			return true;
		}
	return false;
}

static git_tree *subtree(git_repository *repo, git_tree *root, const char *path)
{
	git_tree_entry *e = NULL;
	git_tree *t = NULL;

	if (git_tree_entry_bypath(&e, root, path) < 0)
		return NULL;
	if (git_tree_entry_type(e) == GIT_OBJECT_TREE)
		(void)git_tree_lookup(&t, repo, git_tree_entry_id(e));
	git_tree_entry_free(e);
	return t;
}

/*
 * Calls fn for every record under cve/published and cve/rejected.  Entries of
 * a directory are sorted by name and "CVE-2024-1234.x" sorts before
 * "CVE-2024-12340", so one record's files are adjacent.
 */
typedef int (*record_fn)(struct sync_run *s, struct record_files *f, void *userdata);

static int foreach_record(struct sync_run *s, record_fn fn, void *userdata)
{
	static const char *const roots[] = { "cve/published", "cve/rejected" };
	int r = 0;

	for (size_t ri = 0; ri < ARRAY_SIZE(roots) && r >= 0; ri++) {
		git_tree *top = subtree(s->repo, s->head_tree, roots[ri]);
		size_t ny;

		if (!top)
			continue;
		ny = git_tree_entrycount(top);
		for (size_t y = 0; y < ny && r >= 0; y++) {
			const git_tree_entry *ye = git_tree_entry_byindex(top, y);
			struct record_files cur = { .id = "" };
			git_tree *yt = NULL;
			size_t n;

			if (git_tree_entry_type(ye) != GIT_OBJECT_TREE)
				continue;
			if (git_tree_lookup(&yt, s->repo, git_tree_entry_id(ye)) < 0)
				continue;
			n = git_tree_entrycount(yt);
			for (size_t i = 0; i < n && r >= 0; i++) {
				const git_tree_entry *e = git_tree_entry_byindex(yt, i);
				char id[CVE_ID_MAX];
				int kind;

				if (!classify(git_tree_entry_name(e), id, &kind) ||
				    git_tree_entry_type(e) != GIT_OBJECT_BLOB)
					continue;
				if (!streq(id, cur.id)) {
					if (cur.id[0])
						r = fn(s, &cur, userdata);
					memset(&cur, 0, sizeof(cur));
					snprintf(cur.id, sizeof(cur.id), "%s", id);
					snprintf(cur.dir, sizeof(cur.dir), "%s/%s", roots[ri],
						 git_tree_entry_name(ye));
					cur.rejected = ri == 1;
				}
				cur.present[kind] = true;
				git_oid_cpy(&cur.oid[kind], git_tree_entry_id(e));
			}
			if (r >= 0 && cur.id[0])
				r = fn(s, &cur, userdata);
			git_tree_free(yt);
		}
		git_tree_free(top);
	}
	return r;
}

/* Finds one record's files in the head tree; published wins over rejected. */
static int lookup_record(struct sync_run *s, const char *id, struct record_files *ret)
{
	static const char *const roots[] = { "cve/published", "cve/rejected" };
	char year[5];

	memset(ret, 0, sizeof(*ret));
	snprintf(ret->id, sizeof(ret->id), "%s", id);
	memcpy(year, id + 4, 4);
	year[4] = '\0';
	for (size_t ri = 0; ri < ARRAY_SIZE(roots); ri++) {
		char dir[64];
		git_tree *t;
		bool any = false;

		snprintf(dir, sizeof(dir), "%s/%s", roots[ri], year);
		t = subtree(s->repo, s->head_tree, dir);
		if (!t)
			continue;
		for (int k = 0; k < _RECORD_FILE_MAX; k++) {
			char name[CVE_ID_MAX + 16];
			const git_tree_entry *e;

			snprintf(name, sizeof(name), "%s%s", id, record_ext[k]);
			e = git_tree_entry_byname(t, name);
			if (e && git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
				ret->present[k] = true;
				git_oid_cpy(&ret->oid[k], git_tree_entry_id(e));
				any = true;
			}
		}
		git_tree_free(t);
		if (any && ret->present[RECORD_JSON]) {
			snprintf(ret->dir, sizeof(ret->dir), "%s", dir);
			ret->rejected = ri == 1;
			return 1;
		}
		memset(ret->present, 0, sizeof(ret->present));
	}
	return 0;
}

static int delete_unseen(struct sync_run *s, struct hashmap *seen)
{
	_cleanup_strv_free_ char **gone = NULL;
	struct db_stmt *st;
	int r;

	r = db_prepare(s->db, "SELECT id FROM cve WHERE source = 'vulns'", &st);
	if (r < 0)
		return r;
	while ((r = db_step(st)) > 0)
		if (!hashmap_contains(seen, db_column_text(st, 0)) &&
		    strv_push(&gone, db_column_text(st, 0)) < 0) {
			r = -ENOMEM;
			break;
		}
	db_stmt_reset(st);
	if (r < 0)
		return r;
	for (char **g = gone; g && *g; g++) {
		r = cve_store_delete(s->db, *g);
		if (r < 0)
			return r;
		s->stats->deleted++;
	}
	return 0;
}

/* Collects every record of the head tree once (published wins over rejected). */
struct record_list {
	struct record_files *files;
	size_t n, alloc;
	struct hashmap *seen;
};

static int list_record(struct sync_run *s, struct record_files *f, void *userdata)
{
	struct record_list *l = userdata;
	int r;

	if (hashmap_contains(l->seen, f->id))
		return 0;
	r = hashmap_put(l->seen, f->id, NULL);
	if (r < 0)
		return r;
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 4096;
		struct record_files *nf = realloc(l->files, na * sizeof(*nf));

		if (!nf)
			return -ENOMEM;
		l->files = nf;
		l->alloc = na;
	}
	l->files[l->n++] = *f;
	return 0;
}

/*
 * The full read runs on every core: worker threads, each with its own
 * repository handle, inflate and parse records ahead of the main thread,
 * which alone talks to the database and writes in tree order.  The window
 * bounds how far workers may run ahead, and so the memory they hold.
 */
#define PIPELINE_WINDOW 512
#define PIPELINE_MAX_WORKERS 4

struct pipeline {
	pthread_mutex_t lock;
	pthread_cond_t produced;
	pthread_cond_t consumed_cond;
	const char *repo_path;
	const struct record_files *files;
	struct parsed_record *slots;
	size_t n, next, consumed;
	bool stop;
	int error; /* a worker could not open the repository */
};

static void *pipeline_worker(void *arg)
{
	struct pipeline *p = arg;
	git_repository *repo = NULL;

	if (git_repository_open_bare(&repo, p->repo_path) < 0) {
		pthread_mutex_lock(&p->lock);
		p->error = -EIO;
		p->stop = true;
		pthread_cond_broadcast(&p->produced);
		pthread_mutex_unlock(&p->lock);
		return NULL;
	}
	for (;;) {
		size_t i;

		pthread_mutex_lock(&p->lock);
		while (!p->stop && p->next < p->n && p->next >= p->consumed + PIPELINE_WINDOW)
			pthread_cond_wait(&p->consumed_cond, &p->lock);
		if (p->stop || p->next >= p->n) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		i = p->next++;
		pthread_mutex_unlock(&p->lock);

		parse_record(repo, &p->files[i], &p->slots[i]);

		pthread_mutex_lock(&p->lock);
		p->slots[i].ready = true;
		pthread_cond_broadcast(&p->produced);
		pthread_mutex_unlock(&p->lock);
	}
	git_repository_free(repo);
	return NULL;
}

struct history_job {
	git_repository *repo;
	struct hashmap *dates;
	git_oid head;
	int result;
};

static void *history_thread(void *arg)
{
	struct history_job *h = arg;

	double t0 = now_seconds();

	h->result = collect_dates(h->repo, h->dates, NULL, &h->head);
	log_debug("history walk: %.3f s", now_seconds() - t0);
	return NULL;
}

static unsigned worker_count(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > PIPELINE_MAX_WORKERS ? PIPELINE_MAX_WORKERS : (unsigned)n;
}

/* Writes the publication and change dates the history walk found. */
static int apply_dates(struct sync_run *s, const struct record_list *l, const bool *written)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct record_dates *d;
		int r;

		if (!written[i])
			continue;
		d = hashmap_get(s->dates, l->files[i].id);
		r = cve_store_set_dates(s->db, l->files[i].id,
					d && d->published ? d->published : s->head_time,
					d && d->modified ? d->modified : s->head_time);
		if (r < 0)
			return log_error_errno(r, "cannot store dates of '%s': %s", l->files[i].id,
					       db_errmsg(s->db));
	}
	return 0;
}

static int sync_full(struct sync_run *s, const char *repo_path, bool progress_on)
{
	_cleanup_(hashmap_freep) struct hashmap *seen = hashmap_new(NULL);
	_cleanup_free_ struct parsed_record *slots = NULL;
	_cleanup_free_ bool *written = NULL;
	struct record_list l = { .seen = seen };
	struct pipeline p = { .repo_path = repo_path };
	struct history_job h = { .dates = s->dates, .result = 0 };
	struct hashmap *dates = s->dates;
	pthread_t workers[PIPELINE_MAX_WORKERS], history;
	unsigned nw = 0, want = worker_count();
	bool history_started = false;
	double t_start = now_seconds();
	struct progress pr;
	int r;

	if (!seen)
		return -ENOMEM;
	r = foreach_record(s, list_record, &l);
	log_debug("full read: %zu records listed after %.3f s", l.n, now_seconds() - t_start);
	if (r < 0)
		goto out_files;
	slots = calloc(l.n ? l.n : 1, sizeof(*slots));
	written = calloc(l.n ? l.n : 1, sizeof(*written));
	if (!slots || !written) {
		r = -ENOMEM;
		goto out_files;
	}

	/* The history walk needs its own repository handle to run beside the workers. */
	if (git_repository_open_bare(&h.repo, repo_path) < 0 ||
	    git_reference_name_to_id(&h.head, s->repo, "HEAD") < 0) {
		log_error("cannot open '%s' for the history walk: %s", repo_path, git_errmsg());
		r = -EIO;
		goto out_files;
	}
	if (pthread_create(&history, NULL, history_thread, &h) != 0) {
		r = -EAGAIN;
		goto out_files;
	}
	history_started = true;
	s->dates = NULL; /* stored records get their dates in apply_dates() */

	pthread_mutex_init(&p.lock, NULL);
	pthread_cond_init(&p.produced, NULL);
	pthread_cond_init(&p.consumed_cond, NULL);
	p.files = l.files;
	p.slots = slots;
	p.n = l.n;
	for (nw = 0; nw < want; nw++)
		if (pthread_create(&workers[nw], NULL, pipeline_worker, &p) != 0)
			break;
	if (nw == 0) {
		r = -EAGAIN;
		goto out_threads;
	}

	progress_start(&pr, "syncing CVEs", l.n, progress_on);
	for (size_t i = 0; i < l.n; i++) {
		const struct record_files *f = &l.files[i];
		struct parsed_record *slot = &slots[i];
		bool exists = false, must = true;
		char hash[17];

		pthread_mutex_lock(&p.lock);
		while (!slot->ready && !p.error)
			pthread_cond_wait(&p.produced, &p.lock);
		pthread_mutex_unlock(&p.lock);
		if (!slot->ready) {
			log_error("cannot open '%s' in a worker thread", repo_path);
			r = p.error;
			break;
		}
		if (!f->present[RECORD_JSON]) {
			log_debug("'%s/%s' has no .json, ignoring", f->dir, f->id);
		} else {
			record_hash(f, hash);
			if (!s->fresh_db) {
				r = check_stored(s, f, hash, &exists);
				must = r > 0;
			}
			if (r >= 0 && must) {
				r = store_parsed(s, f, slot, exists, hash);
				written[i] = r >= 0 && slot->error == 0;
			}
		}
		slot->rec = cve_record_free(slot->rec);
		if (r < 0)
			break;
		progress_update(&pr, i + 1);
		pthread_mutex_lock(&p.lock);
		p.consumed = i + 1;
		pthread_cond_broadcast(&p.consumed_cond);
		pthread_mutex_unlock(&p.lock);
	}
	progress_end(&pr);

out_threads:
	pthread_mutex_lock(&p.lock);
	p.stop = true;
	pthread_cond_broadcast(&p.consumed_cond);
	pthread_mutex_unlock(&p.lock);
	for (unsigned i = 0; i < nw; i++)
		pthread_join(workers[i], NULL);
	pthread_mutex_destroy(&p.lock);
	pthread_cond_destroy(&p.produced);
	pthread_cond_destroy(&p.consumed_cond);
	for (size_t i = 0; i < l.n; i++)
		cve_record_free(slots[i].rec);
out_files:
	log_debug("full read: records written after %.3f s", now_seconds() - t_start);
	if (history_started) {
		pthread_join(history, NULL);
		log_debug("full read: history walk joined after %.3f s", now_seconds() - t_start);
		s->dates = dates;
		if (r >= 0 && h.result < 0)
			r = h.result;
	}
	git_repository_free(h.repo);
	if (r >= 0)
		r = apply_dates(s, &l, written);
	log_debug("full read: dates applied after %.3f s", now_seconds() - t_start);
	if (r >= 0 && !s->fresh_db)
		r = delete_unseen(s, seen);
	free(l.files);
	return r;
}


/* Ids whose files changed between two trees. */
static int changed_ids(struct sync_run *s, git_tree *from, struct hashmap *ids)
{
	static char *paths[] = { "cve/published", "cve/rejected" };
	git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
	git_diff *diff = NULL;
	size_t n;
	int r;

	dopts.pathspec.strings = paths;
	dopts.pathspec.count = ARRAY_SIZE(paths);
	dopts.flags = GIT_DIFF_SKIP_BINARY_CHECK;
	r = git_diff_tree_to_tree(&diff, s->repo, from, s->head_tree, &dopts);
	if (r < 0) {
		log_error("cannot diff the vulns repository: %s", git_errmsg());
		return git_error_to_errno(r);
	}
	n = git_diff_num_deltas(diff);
	for (size_t i = 0; i < n && r >= 0; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		const char *paths2[2] = { d->old_file.path, d->new_file.path };

		for (int k = 0; k < 2 && r >= 0; k++) {
			const char *base = paths2[k] ? strrchr(paths2[k], '/') : NULL;
			char id[CVE_ID_MAX];
			int kind;

			if (base && classify(base + 1, id, &kind))
				r = hashmap_put(ids, id, NULL);
		}
	}
	git_diff_free(diff);
	return r;
}

static int pending_errors(struct sync_run *s)
{
	struct db_stmt *st;
	int r;

	r = db_prepare(s->db, "SELECT COUNT(*) FROM sync_error WHERE source = ?", &st);
	if (r < 0)
		return r;
	if ((r = db_bind_text(st, 1, SOURCE_NAME)) < 0)
		return r;
	r = db_step(st);
	if (r > 0)
		s->has_errors = db_column_int64(st, 0) > 0;
	db_stmt_reset(st);
	return r < 0 ? r : 0;
}

static int pending_error_ids(struct sync_run *s, struct hashmap *ids)
{
	struct db_stmt *st;
	int r;

	r = db_prepare(s->db, "SELECT cve_id FROM sync_error WHERE source = ?", &st);
	if (r < 0)
		return r;
	if ((r = db_bind_text(st, 1, SOURCE_NAME)) < 0)
		return r;
	while ((r = db_step(st)) > 0)
		if (hashmap_put(ids, db_column_text(st, 0), NULL) < 0) {
			r = -ENOMEM;
			break;
		}
	db_stmt_reset(st);
	return r;
}

static int sync_incremental(struct sync_run *s, git_tree *from, bool progress_on)
{
	_cleanup_(hashmap_freep) struct hashmap *ids = hashmap_new(NULL);
	struct progress p;
	size_t it = 0;
	unsigned count = 0;
	const char *id;
	int r;

	if (!ids)
		return -ENOMEM;
	if ((r = changed_ids(s, from, ids)) < 0 || (r = pending_error_ids(s, ids)) < 0)
		return r;
	progress_start(&p, "syncing CVEs", hashmap_size(ids), progress_on);
	while ((id = hashmap_next(ids, &it, NULL))) {
		struct record_files f;

		if (lookup_record(s, id, &f)) {
			r = sync_record(s, &f, true);
		} else {
			_cleanup_free_ char *old = NULL;

			/* Deleted upstream (or its .json is gone): drop it, and any stale error. */
			r = cve_store_get_hash(s->db, id, &old);
			if (r > 0) {
				r = cve_store_delete(s->db, id);
				s->stats->deleted++;
			}
			if (r >= 0)
				r = clear_error(s, id);
		}
		if (r < 0)
			break;
		progress_update(&p, ++count);
	}
	progress_end(&p);
	return r;
}

static int resolve_commit(git_repository *repo, const char *hex, git_commit **ret)
{
	git_oid oid;

	if (git_oid_fromstrn(&oid, hex, strlen(hex)) < 0 || strlen(hex) != GIT_OID_HEXSZ)
		return -EINVAL;
	return git_commit_lookup(ret, repo, &oid) < 0 ? -ENOENT : 0;
}

int cve_sync_git(struct db *db, const struct cve_sync_options *o, struct cve_sync_stats *stats)
{
	_cleanup_(hashmap_freep) struct hashmap *dates = hashmap_new(free);
	_cleanup_free_ char *last = NULL;
	git_repository *repo = NULL;
	git_object *head_obj = NULL;
	git_commit *head = NULL, *from = NULL;
	git_tree *from_tree = NULL;
	struct sync_run s = { .db = db, .stats = stats, .dates = dates };
	const char *kill_env = getenv("TUXTAPE_TEST_KILL_AFTER");
	double t0;
	int r;

	memset(stats, 0, sizeof(*stats));
	if (!dates)
		return -ENOMEM;
	if (kill_env) {
		int k;

		if (safe_atoi(kill_env, &k) == 0 && k > 0)
			s.kill_after = (unsigned)k;
	}
	s.now = (int64_t)time(NULL);
	git_libgit2_init();

	t0 = now_seconds();
	r = open_repo(o, &repo);
	log_debug("clone/fetch: %.3f s", now_seconds() - t0);
	if (r < 0)
		goto out;
	s.repo = repo;
	r = git_revparse_single(&head_obj, repo, "HEAD^{commit}");
	if (r < 0) {
		log_error("the vulns repository at '%s' has no HEAD commit: %s", o->repo_dir,
			  git_errmsg());
		r = git_error_to_errno(r);
		goto out;
	}
	head = (git_commit *)head_obj;
	s.head_time = (int64_t)git_commit_time(head);
	git_oid_tostr(stats->to_commit, sizeof(stats->to_commit), git_commit_id(head));
	if ((r = git_commit_tree(&s.head_tree, head)) < 0) {
		log_error("cannot read the tree of HEAD: %s", git_errmsg());
		r = git_error_to_errno(r);
		goto out;
	}

	r = sync_state_get(db, SOURCE_NAME, &last, NULL);
	if (r < 0) {
		log_error("cannot read the sync state: %s", db_errmsg(db));
		goto out;
	}
	if (last) {
		snprintf(stats->from_commit, sizeof(stats->from_commit), "%s", last);
		if (resolve_commit(repo, last, &from) < 0 ||
		    git_graph_descendant_of(repo, git_commit_id(head), git_commit_id(from)) != 1) {
			if (!streq(last, stats->to_commit)) {
				log_warning("the last synced commit %.12s is not in the history of "
					    "'%s' any more (rewritten history?); reading every record",
					    last, o->source);
				stats->rewritten = true;
				git_commit_free(from);
				from = NULL;
			}
		}
	}
	stats->full = !from || o->full;
	if (from && !o->full && streq(last, stats->to_commit)) {
		/* Nothing new upstream; only records that failed before are retried. */
		r = git_commit_tree(&from_tree, from);
	} else if (from && !o->full) {
		r = git_commit_tree(&from_tree, from);
	}
	if (r < 0) {
		r = git_error_to_errno(r);
		goto out;
	}

	r = db_begin(db);
	if (r < 0) {
		log_error("cannot start a transaction: %s", db_errmsg(db));
		goto out;
	}
	s.fresh_db = !last && cve_store_count(db, true) == 0;
	r = pending_errors(&s);
	t0 = now_seconds();
	if (r >= 0 && stats->full) {
		r = sync_full(&s, o->repo_dir, o->progress);
	} else if (r >= 0 && (s.has_errors || !streq(last, stats->to_commit))) {
		r = collect_dates(repo, dates, git_commit_id(from), git_commit_id(head));
		log_debug("history walk: %.3f s", now_seconds() - t0);
		if (r >= 0)
			r = sync_incremental(&s, from_tree, o->progress);
	}
	log_debug("records: %.3f s", now_seconds() - t0);
	t0 = now_seconds();
	if (r >= 0)
		r = sync_state_set(db, SOURCE_NAME, stats->to_commit, o->source, s.now);
	if (r >= 0)
		r = db_commit(db);
	log_debug("commit: %.3f s", now_seconds() - t0);
	if (r < 0) {
		if (r != -ENOMEM && db_errmsg(db) && *db_errmsg(db))
			log_error("sync failed, nothing was changed: %s", db_errmsg(db));
		(void)db_rollback(db);
		memset(&stats->added, 0, sizeof(unsigned) * 6);
	}
out:
	git_tree_free(from_tree);
	git_tree_free(s.head_tree);
	git_commit_free(from);
	git_object_free(head_obj);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return r;
}
