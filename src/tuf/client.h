/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The TUF client workflow (specification 1.0.x, section 5): root rotation
 * chain, timestamp, snapshot, targets and delegations with the defences
 * against rollback, freeze, mix-and-match and endless data; consistent
 * snapshots; target download with length and hash checks.
 *
 * Trusted metadata lives in metadata_dir under unversioned names
 * (root.json, timestamp.json, snapshot.json, targets.json, <quoted
 * role>.json): the exact bytes received, written atomically and only after
 * full verification.  A failed refresh leaves the last trusted files as
 * they were but for what the spec stores before the failing step (newer
 * roots, the removal of timestamp and snapshot when their keys rotate, a
 * verified timestamp when the snapshot fails).  Role names are URL-quoted with no safe characters (every byte
 * but letters, digits and "_.-~" becomes %XX, '/' included) in URLs and
 * file names, so a name can never escape metadata_dir.
 *
 * Errors (negative errno; err says what and where: role, URL or file, JSON
 * path): -EBADMSG malformed metadata or target hash/length mismatch,
 * -EKEYREJECTED bad/missing signatures or threshold not met, -EKEYEXPIRED
 * expired, -ESTALE rollback, -EFBIG too large, -ENOENT not found (404, no
 * such target), -ELOOP too many delegated roles visited, network errors
 * of http_get() (src/net/http.h).  At most max_root_rotations new roots are
 * taken per refresh (the next refresh goes on from there).
 *
 * Thread-safety: one struct tuf_client per thread.  Nothing here logs.
 */
#ifndef TUXTAPE_TUF_CLIENT_H
#define TUXTAPE_TUF_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "macro.h"

struct tuf_client_config {
	const char *metadata_dir; /* trusted metadata, unversioned names; must hold root.json */
	const char *metadata_url; /* base URL ending in '/': http://, https:// or file:// */
	const char *target_url;	  /* base URL of targets ending in '/' (NULL: metadata_url/../targets/) */
	const char *target_dir;	  /* where downloaded targets are cached (plain target path) */
	const char *ca_file;	  /* NULL: system CAs */
	int64_t now;		  /* 0: time(NULL) at tuf_client_refresh() */
	/* 0 = defaults: root 512000 B, timestamp 16384 B, snapshot/targets 2000000 B,
	 * 256 root rotations, 32 delegated roles visited */
	size_t max_root_length, max_timestamp_length, max_snapshot_length, max_targets_length;
	unsigned max_root_rotations, max_delegations;
};

struct tuf_client;

/*
 * Checks that root_file is a well-formed root signed by its own threshold
 * (expiry is not checked: the refresh handles an expired initial root) and
 * stores its exact bytes as metadata_dir/root.json (directory created).
 */
int tuf_client_init_root(const char *metadata_dir, const char *root_file, char err[],
			 size_t errsize);

/*
 * A client of the repository at cfg->metadata_url with trusted metadata in
 * cfg->metadata_dir, whose root.json is read and verified now (it must be
 * signed by its own threshold); the other trusted files are read by each
 * refresh.  cfg's strings are copied.  Returns 0, -EINVAL (missing
 * dir/URL), errors of reading or verifying root.json, -ENOMEM.
 */
int tuf_client_new(const struct tuf_client_config *cfg, struct tuf_client **ret, char err[],
		   size_t errsize);
struct tuf_client *tuf_client_free(struct tuf_client *c);
DEFINE_CLEANUP_FUNC(struct tuf_client, tuf_client_free)

/*
 * Sections 5.1-5.6 top level: root chain, timestamp, snapshot, top-level
 * targets.  Delegated roles are fetched lazily by tuf_client_find_target().
 * May be called again (a new refresh from the trusted state on disk).
 * Trusted files are replaced as the spec orders, each only after its own
 * full verification: a refresh that fails at the snapshot keeps the new
 * timestamp it verified, never an unverified file.
 */
int tuf_client_refresh(struct tuf_client *c, char err[], size_t errsize);

/* HTTP requests made so far by c (for tests and benchmarks). */
unsigned tuf_client_requests(const struct tuf_client *c);

struct tuf_target {
	char *path; /* target path, e.g. "6.1.0-54-amd64/tuxtape-lp-3.ko" */
	uint64_t length;
	json_t *hashes; /* {"sha256": hex, ...} */
	json_t *custom; /* NULL or the custom object */
	char *role;	/* role that listed it */
};
void tuf_target_free(struct tuf_target *t);
DEFINE_CLEANUP_FUNC(struct tuf_target, tuf_target_free)

/*
 * Delegation search (pre-order DFS, terminating, thresholds, path patterns;
 * refreshes first if c has not been refreshed).  -ENOENT if absent, -ELOOP
 * when max_delegations roles were visited without an answer, -EOPNOTSUPP
 * for succinct_roles (TAP 15) on the way; *ret owned by the caller.
 */
int tuf_client_find_target(struct tuf_client *c, const char *path, struct tuf_target **ret,
			   char err[], size_t errsize);

/*
 * All targets of one delegated role reachable from targets.json, each
 * re-resolved with tuf_client_find_target() so a higher-priority role's
 * entry wins. Caller frees each and the array.  -ENOENT when the role is not
 * delegated (reachably) from targets.
 */
int tuf_client_role_targets(struct tuf_client *c, const char *role, struct tuf_target ***ret,
			    size_t *ret_n, char err[], size_t errsize);

/*
 * Download (or reuse the cached, re-verified copy in target_dir); verify
 * length and all known hashes (sha256, sha512; an entry with no supported
 * hash is refused); ret_path = local path (owned).  The file is written to
 * target_dir/<path> atomically only after verification.
 */
int tuf_client_download_target(struct tuf_client *c, const struct tuf_target *t, char **ret_path,
			       char err[], size_t errsize);

#endif
