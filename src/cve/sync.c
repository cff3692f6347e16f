/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <git2.h>
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
	struct hashmap *dates; /* id -> struct record_dates */
	bool fresh_db;
	unsigned done;
	unsigned kill_after; /* test hook: SIGKILL ourselves after this many records */
};

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

static int note_date(struct sync_run *s, const char *path, git_delta_t status, int64_t when)
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
	d = hashmap_get(s->dates, id);
	if (!d) {
		int r;

		d = calloc(1, sizeof(*d));
		if (!d)
			return -ENOMEM;
		r = hashmap_put(s->dates, id, d);
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

/*
 * Walks the commits in (from, head] oldest first and notes, per record, the
 * commit time when its JSON first appeared and when it last changed.  Only
 * first parents are followed: the CNA's history is linear, and a merge's
 * other side is summarised by the merge itself.
 */
static int collect_dates(struct sync_run *s, const git_oid *from, const git_oid *head)
{
	static char *paths[] = { "cve/published", "cve/rejected" };
	git_diff_options dopts = GIT_DIFF_OPTIONS_INIT;
	git_revwalk *walk = NULL;
	git_oid oid;
	int r;

	dopts.pathspec.strings = paths;
	dopts.pathspec.count = ARRAY_SIZE(paths);
	dopts.flags = GIT_DIFF_SKIP_BINARY_CHECK;

	if ((r = git_revwalk_new(&walk, s->repo)) < 0)
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
		git_diff *diff = NULL;
		int64_t when;

		if ((r = git_commit_lookup(&c, s->repo, &oid)) < 0)
			goto git_fail;
		when = (int64_t)git_commit_time(c);
		r = git_commit_tree(&t, c);
		if (r >= 0 && git_commit_parentcount(c) > 0) {
			r = git_commit_parent(&parent, c, 0);
			if (r >= 0)
				r = git_commit_tree(&pt, parent);
		}
		if (r >= 0)
			r = git_diff_tree_to_tree(&diff, s->repo, pt, t, &dopts);
		if (r >= 0) {
			size_t n = git_diff_num_deltas(diff);

			for (size_t i = 0; i < n && r >= 0; i++) {
				const git_diff_delta *d = git_diff_get_delta(diff, i);

				if (d->status == GIT_DELTA_ADDED || d->status == GIT_DELTA_MODIFIED)
					r = note_date(s, d->new_file.path, d->status, when);
			}
		}
		git_diff_free(diff);
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

/*
 * Reads, parses and stores one record.  Returns 0 when stored or skipped
 * with a recorded error; negative errno only for failures that must stop the
 * run (database, out of memory).
 */
static int sync_record(struct sync_run *s, const struct record_files *f, bool may_exist)
{
	_cleanup_(cve_record_freep) struct cve_record *rec = NULL;
	_cleanup_free_ char *old_hash = NULL;
	struct record_dates *d;
	char hash[17], err[256];
	bool exists = false;
	int r;

	if (!f->present[RECORD_JSON]) {
		/* Sidecars without a record (the CNA has a few orphans) are not a CVE yet. */
		log_debug("'%s/%s' has no .json, ignoring", f->dir, f->id);
		return 0;
	}
	record_hash(f, hash);
	if (may_exist) {
		r = cve_store_get_hash(s->db, f->id, &old_hash);
		if (r < 0)
			return r;
		exists = r > 0;
		if (old_hash && streq(old_hash, hash)) {
			s->stats->unchanged++;
			return clear_error(s, f->id);
		}
	}

	rec = cve_record_new(f->id);
	if (!rec)
		return -ENOMEM;
	for (int i = 0; i < _RECORD_FILE_MAX; i++) {
		git_blob *blob = NULL;
		size_t size;

		if (!f->present[i])
			continue;
		r = git_blob_lookup(&blob, s->repo, &f->oid[i]);
		if (r < 0)
			return record_error(s, f, record_ext[i], git_errmsg());
		size = (size_t)git_blob_rawsize(blob);
		if (size > CVE_RECORD_FILE_MAX) {
			git_blob_free(blob);
			snprintf(err, sizeof(err), "file of %zu bytes exceeds the %u byte limit", size,
				 CVE_RECORD_FILE_MAX);
			return record_error(s, f, record_ext[i], err);
		}
		err[0] = '\0';
		r = record_parser[i](rec, git_blob_rawcontent(blob), size, err, sizeof(err));
		git_blob_free(blob);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			return record_error(s, f, record_ext[i], err[0] ? err : errno_to_string(r));
	}
	rec->rejected = f->rejected;
	rec->source = strdup("vulns");
	if (!rec->source)
		return -ENOMEM;
	d = hashmap_get(s->dates, f->id);
	rec->published = d && d->published ? d->published : s->head_time;
	rec->modified = d && d->modified ? d->modified : s->head_time;

	r = cve_store_put(s->db, rec, hash, !exists, s->now);
	if (r < 0)
		return log_error_errno(r, "cannot store '%s': %s", f->id, db_errmsg(s->db));
	if (exists)
		s->stats->updated++;
	else
		s->stats->added++;
	if (f->rejected)
		s->stats->rejected++;
	r = clear_error(s, f->id);
	if (r < 0)
		return r;
	if (s->kill_after && ++s->done >= s->kill_after)
		raise(SIGKILL);
	return 0;
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

struct full_ctx {
	struct hashmap *seen;
	struct progress *progress;
	unsigned count;
};

static int count_record(struct sync_run *s, struct record_files *f, void *userdata)
{
	(*(unsigned *)userdata)++;
	return 0;
}

static int full_record(struct sync_run *s, struct record_files *f, void *userdata)
{
	struct full_ctx *c = userdata;
	int r;

	/* A record listed under both published/ and rejected/ is published. */
	if (hashmap_contains(c->seen, f->id))
		return 0;
	r = hashmap_put(c->seen, f->id, NULL);
	if (r < 0)
		return r;
	r = sync_record(s, f, !s->fresh_db);
	progress_update(c->progress, ++c->count);
	return r;
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

static int sync_full(struct sync_run *s, bool progress_on)
{
	_cleanup_(hashmap_freep) struct hashmap *seen = hashmap_new(NULL);
	struct progress p;
	struct full_ctx c = { .seen = seen, .progress = &p };
	unsigned total = 0;
	int r;

	if (!seen)
		return -ENOMEM;
	if (progress_on) {
		r = foreach_record(s, count_record, &total);
		if (r < 0)
			return r;
	}
	progress_start(&p, "syncing CVEs", total, progress_on);
	r = foreach_record(s, full_record, &c);
	progress_end(&p);
	if (r < 0)
		return r;
	return s->fresh_db ? 0 : delete_unseen(s, seen);
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

	r = open_repo(o, &repo);
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
	r = collect_dates(&s, stats->full ? NULL : git_commit_id(from), git_commit_id(head));
	if (r >= 0)
		r = stats->full ? sync_full(&s, o->progress) : sync_incremental(&s, from_tree, o->progress);
	if (r >= 0)
		r = sync_state_set(db, SOURCE_NAME, stats->to_commit, o->source, s.now);
	if (r >= 0)
		r = db_commit(db);
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
