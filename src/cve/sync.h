/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The CVE scanner's sync from the kernel CNA's vulns git repository.
 *
 * The repository is cloned (bare) into the data directory and fetched on
 * each run.  The first run, or a run whose last synced commit is no longer in
 * the history (a rewritten repository), reads every record; later runs read
 * only the records whose files changed between the last synced commit and
 * HEAD.  Everything one run writes, including the new last synced commit, is
 * one database transaction: a run that fails or is killed leaves the database
 * as it was.
 */
#ifndef TUXTAPE_CVE_SYNC_H
#define TUXTAPE_CVE_SYNC_H

#include <stdbool.h>

#include "db.h"

#define CVE_SYNC_DEFAULT_SOURCE "https://git.kernel.org/pub/scm/linux/security/vulns.git"

struct cve_sync_options {
	const char *source;   /* URL or local path of the vulns repository */
	const char *repo_dir; /* where the bare clone lives */
	bool offline;         /* do not fetch; use the existing clone */
	bool full;            /* read every record even when an incremental run is possible */
	bool progress;        /* draw a progress bar on stderr */
};

struct cve_sync_stats {
	unsigned added, updated, unchanged, deleted, rejected, errors;
	bool full;            /* this run read every record */
	bool rewritten;       /* the last synced commit was gone from the history */
	char from_commit[41]; /* "" on the first run */
	char to_commit[41];
};

/*
 * Runs one sync.  Per-record problems (malformed JSON, oversized files, bad
 * dyad lines) are logged as warnings naming the file, counted in
 * stats->errors, remembered in the sync_error table and retried on the next
 * run; the rest of the records are still synced.  Fatal problems (repository
 * unreachable, database errors) return a negative errno and change nothing.
 */
int cve_sync_git(struct db *db, const struct cve_sync_options *o, struct cve_sync_stats *stats);

/* Test hook: when set, called after every n records are written (inside the transaction). */
extern void (*cve_sync_test_hook)(unsigned records_done);

#endif
