/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fleet agent's engine (docs/agent.md): one node's livepatches kept
 * current and safe.  A cycle refreshes the TUF metadata from the archive's
 * mirrors, judges this kernel's offers, unloads revoked patches, downloads
 * and verifies the newest eligible cumulative patch into the cache, loads it
 * (boot-loop marker first), waits for its transition and watches the kernel
 * log for a grace period; a patch that misbehaves is disabled, unloaded and
 * blocklisted.  apply does the same from the cache without the network.
 *
 * The engine knows nothing of signals, terminals or systemd: the caller
 * gives it a configuration, a root prefix, the kernel ops (agent-kops.h), a
 * report sink, and callbacks for messages and for "stop now".  Every call
 * that changes something takes STATE_DIR/lock (flock; a second agent waits)
 * and saves state.json before it returns.
 *
 * Errors: negative errno, err says what and where.  The engine does not log;
 * progress and warnings go to the note callback, once each.
 */
#ifndef TUXTAPE_AGENT_H
#define TUXTAPE_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent-config.h"
#include "agent-kops.h"
#include "log.h"
#include "report.h"

/* Modules larger than this are refused before download. */
#define AGENT_MODULE_MAX (64u * 1024 * 1024)
/* Transition failures of one patch before it is blocklisted. */
#define AGENT_STALLS_MAX 3
/* Cached patches kept per kernel release (the loaded one and older ones to roll back to). */
#define AGENT_CACHE_KEEP 3

typedef void (*agent_note_fn)(enum log_level level, const char *msg, void *userdata);
typedef bool (*agent_stop_fn)(void *userdata);
typedef int64_t (*agent_now_fn)(void *userdata);

struct agent_options {
	const struct agent_config *config; /* borrowed until agent_set_config() or agent_free() */
	const char *root;		   /* prefix of /sys, /proc, /dev paths; NULL = "/" */
	const struct agent_kops *kops;	   /* required unless dry_run */
	struct report *report;		   /* borrowed; NULL: no reports */
	bool dry_run;			   /* change nothing in the kernel (docs/agent.md) */
	bool defer_grace;		   /* leave the grace period to a later `run` (boot) */
	const char *version;		   /* this agent's version for min_agent_version */
	agent_note_fn note;
	agent_stop_fn should_stop;
	agent_now_fn now; /* NULL: time(NULL) */
	void *userdata;	  /* for note, should_stop and now */
};

struct agent;

int agent_new(const struct agent_options *o, struct agent **ret, char err[], size_t errsize);
struct agent *agent_free(struct agent *a);
DEFINE_CLEANUP_FUNC(struct agent, agent_free)
/* Swaps the configuration (SIGHUP); c is borrowed like the first one. */
void agent_set_config(struct agent *a, const struct agent_config *c);

/*
 * One cycle (`check`, and each round of `run`): boot-loop guard, refresh,
 * select, revoke, download, load, watch.  Returns 0 when the cycle ran (its
 * outcome is in the state: updated, up to date, available, a patch rolled
 * back) or a negative errno when it could not (no mirror answered, the
 * metadata did not verify: -EKEYREJECTED, -EBADMSG, -EKEYEXPIRED, -ESTALE;
 * a load failed; the state is corrupt).
 */
int agent_check(struct agent *a, char err[], size_t errsize);

/* `apply`: the boot-loop guard, then the newest eligible cached patch, no network. */
int agent_apply(struct agent *a, char err[], size_t errsize);

/* `disable NAME`: disable and unload livepatch NAME and blocklist it. -ENOENT if not loaded. */
int agent_disable(struct agent *a, const char *name, char err[], size_t errsize);

/* `unblock NAME` (module name or target path): -ENOENT when nothing matched. */
int agent_unblock(struct agent *a, const char *name, char err[], size_t errsize);

/*
 * `rollback`: blocklists the newest loaded patch, loads the previous cached
 * one if any (atomic replace), else disables and unloads it.  -ENOENT when
 * no patch of the agent is loaded.
 */
int agent_rollback(struct agent *a, char err[], size_t errsize);

enum agent_status_code {
	AGENT_STATUS_OK = 0,	    /* up to date (or nothing offered) */
	AGENT_STATUS_ERROR = 1,	    /* the last check failed, or the state is unreadable */
	AGENT_STATUS_AVAILABLE = 3, /* a newer patch is offered but not applied */
	AGENT_STATUS_BLOCKED = 4,   /* the newest patch is blocklisted or was rolled back */
	AGENT_STATUS_STALE = 5,	    /* no check within 3 intervals */
};

/*
 * The status document (docs/agent.md; also what is reported) and its code.
 * Reads only; takes no lock.  Returns the code (>= 0) with *ret set, or a
 * negative errno (-EBADMSG: state.json and its copy do not parse; err says
 * where) with *ret set to a document holding the error.
 */
int agent_status(struct agent *a, json_t **ret, char err[], size_t errsize);

const char *agent_status_code_to_string(enum agent_status_code c);

#endif
