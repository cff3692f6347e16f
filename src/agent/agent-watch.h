/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The grace-period watch: follows the kernel log (/dev/kmsg, or a regular
 * file in a test tree) from the moment a patch is loaded and feeds it to the
 * klog parser (src/klog), which says whether that patch misbehaved.
 *
 * A character device is read one record per read(2) (non-blocking, poll(2)
 * for more); a regular file is read as it grows.  Constant memory: the
 * parser's bounds apply.  Nothing here logs.
 */
#ifndef TUXTAPE_AGENT_WATCH_H
#define TUXTAPE_AGENT_WATCH_H

#include <stdbool.h>

#include "klog.h"
#include "macro.h"

struct agent_watch;

/*
 * Opens the log at path.  from_start false: only what is logged from now on
 * is read (the load that follows); true: the whole buffer, with events
 * before since_s seconds of uptime not counted (a watch resumed after the
 * agent restarted).  patch is the livepatch module watched; window_s the
 * klog attribution window after it is enabled.  Returns 0, -ENOMEM or the
 * errno of open(2).
 */
int agent_watch_open(const char *path, bool from_start, double since_s, const char *patch,
		     double window_s, struct agent_watch **ret);
struct agent_watch *agent_watch_free(struct agent_watch *w);
DEFINE_CLEANUP_FUNC(struct agent_watch, agent_watch_free)

/*
 * Reads what the log holds, waiting up to timeout_ms for more.  Returns 0,
 * or a negative errno when the log cannot be read any more.
 */
int agent_watch_poll(struct agent_watch *w, unsigned timeout_ms);

/* The verdict over what was read; final = also judge open reports and transitions. */
void agent_watch_verdict(struct agent_watch *w, bool final, struct klog_verdict *ret);

#endif
