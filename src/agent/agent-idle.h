/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the daemon hands back before it sleeps for an interval.
 *
 * Most of an idle agent's resident set is clean pages of the libraries it
 * maps (libcurl alone pulls in some thirty on Debian 12), faulted in by the
 * last check and by the kernel's fault-around.  They are identical to the
 * page cache, so dropping our page-table references to them loses nothing:
 * the next check faults them back in (minor faults, the cache is warm), and
 * meanwhile they are ordinary reclaimable cache instead of pages mapped by a
 * process, which reclaim protects.
 */
#ifndef TUXTAPE_AGENT_IDLE_H
#define TUXTAPE_AGENT_IDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/*
 * Drops the resident pages of this process's read-only, private file
 * mappings that hold no private page: smaps says Anonymous and Swap are 0,
 * so every page is a clean copy of the file and madvise(MADV_DONTNEED) is
 * only a page-table change.  Mappings with private pages (RELRO after
 * relocation, a debugger's breakpoint) are left alone: zapping them would
 * bring back the file's bytes.  Reads smaps_path (NULL: /proc/self/smaps).
 * Sets *ret_kb (may be NULL) to the resident kB of the mappings dropped.
 * Returns 0, or a negative errno when smaps cannot be read.
 */
int idle_release_clean_mappings(const char *smaps_path, size_t *ret_kb);

/*
 * The same, for a daemon that does it after every check: smaps costs about a
 * millisecond to produce (the kernel walks every page table), so the chosen
 * mappings are kept and reused while the process's file mappings, as
 * /proc/self/maps lists them, stay the same.  Those mappings are read-only,
 * so they cannot gain private pages meanwhile; a library loaded or
 * protected differently since changes the list and brings a new scan.
 */
struct idle_release;
struct idle_release *idle_release_new(void);
struct idle_release *idle_release_free(struct idle_release *ir);
DEFINE_CLEANUP_FUNC(struct idle_release, idle_release_free)

/*
 * Releases the clean mappings of proc_self (NULL: /proc/self; a directory
 * with maps and smaps in tests); *ret_rescanned (may be NULL) says whether
 * smaps was read.  Returns 0, or a negative errno when maps or smaps cannot
 * be read (nothing is released then).
 */
int idle_release_run(struct idle_release *ir, const char *proc_self, bool *ret_rescanned);

#endif
