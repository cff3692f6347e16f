/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's persistent state in STATE_DIR (docs/agent.md):
 *   state.json      loaded patches (of one boot), blocklist with reasons,
 *                   transition failures, last check and its result, last
 *                   error, the newest offer, a short history
 *   state.json.bak  the same bytes: the last good copy, read when
 *                   state.json does not parse
 *   loading.json    the boot-loop marker: written (fsync'ed) before a load,
 *                   removed once the transition completed and the grace
 *                   period passed
 * Every file is replaced atomically (write_file_atomic).  Nothing here logs.
 */
#ifndef TUXTAPE_AGENT_STATE_H
#define TUXTAPE_AGENT_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent-facts.h"

#define AGENT_STATE_VERSION 1
#define AGENT_STATE_MAX (4u * 1024 * 1024)
#define AGENT_HISTORY_MAX 32
#define AGENT_BLOCKLIST_MAX 4096

struct agent_loaded {
	char *path; /* target path */
	char module[AGENT_MODULE_NAME_MAX];
	int64_t version;
	char sha256[65];
	int64_t loaded_at;
	bool confirmed; /* the transition completed and the grace period passed */
};

struct agent_blocked {
	char *path;
	char module[AGENT_MODULE_NAME_MAX];
	int64_t version;
	char *reason;
	int64_t time;
};

struct agent_failure {
	char *path;
	unsigned count; /* transitions that did not complete in time */
	char *last_error;
};

struct agent_state {
	char boot_id[40]; /* the boot `loaded` describes */
	struct agent_loaded *loaded;
	size_t n_loaded;
	struct agent_blocked *blocked;
	size_t n_blocked;
	struct agent_failure *failures;
	size_t n_failures;
	int64_t last_check; /* 0: never */
	char *last_result;  /* docs/agent.md: "updated", "up-to-date", "error" ... */
	char *last_message;
	int64_t last_error_time;
	char *last_error;
	json_t *newest;	 /* the newest offer for this kernel, or NULL (see docs/agent.md) */
	json_t *history; /* array of {time, event, path, detail}, newest last */
};

void agent_state_init(struct agent_state *s);
void agent_state_release(struct agent_state *s);

/*
 * Reads dir/state.json.  A missing file gives an empty state (first run).
 * When state.json does not parse, state.json.bak is read instead and 1 is
 * returned with err describing the damage (the caller reports it; the next
 * save replaces the damaged file).  Returns 0, 1, or -EBADMSG when neither
 * parses (err names the file and the JSON position or field; the files are
 * left as they are), -EFBIG, -ENOMEM, the errno of the read.
 */
int agent_state_load(const char *dir, struct agent_state *ret, char err[], size_t errsize);

/* Writes state.json and then state.json.bak, each atomically. */
int agent_state_save(const char *dir, const struct agent_state *s, char err[], size_t errsize);

/* Parses/serialises the JSON form (exposed for tests). */
int agent_state_from_json(const json_t *j, struct agent_state *ret, char err[], size_t errsize);
json_t *agent_state_to_json(const struct agent_state *s);

const struct agent_blocked *agent_state_blocked(const struct agent_state *s, const char *path);
/* Adds (or updates the reason of) a blocklist entry. */
int agent_state_block(struct agent_state *s, const char *path, const char *module,
		      int64_t version, const char *reason, int64_t now);
/* Removes entries whose path or module equals name; returns how many (>= 0). */
int agent_state_unblock(struct agent_state *s, const char *name);

struct agent_loaded *agent_state_loaded(struct agent_state *s, const char *module);
int agent_state_set_loaded(struct agent_state *s, const char *path, const char *module,
			   int64_t version, const char *sha256, int64_t now, bool confirmed);
void agent_state_drop_loaded(struct agent_state *s, const char *module);

/* Counts one failure of path; returns the new count (>= 1) or -ENOMEM. */
int agent_state_count_failure(struct agent_state *s, const char *path, const char *error);
void agent_state_clear_failures(struct agent_state *s, const char *path);

int agent_state_set_check(struct agent_state *s, int64_t now, const char *result,
			  const char *message);
int agent_state_set_error(struct agent_state *s, int64_t now, const char *message);
/* Appends to the history, dropping the oldest beyond AGENT_HISTORY_MAX. */
int agent_state_add_history(struct agent_state *s, int64_t now, const char *event,
			    const char *path, const char *detail);

/* The boot-loop marker. */
enum agent_marker_phase {
	AGENT_MARKER_LOADING, /* between writing the marker and the end of the transition */
	AGENT_MARKER_GRACE,   /* the transition completed; the grace period runs */
	_AGENT_MARKER_PHASE_MAX,
	_AGENT_MARKER_PHASE_INVALID = -EINVAL,
};

struct agent_marker {
	char *path; /* target path, NULL when the marker could not be read */
	char module[AGENT_MODULE_NAME_MAX];
	int64_t version;
	enum agent_marker_phase phase;
	int64_t time;	 /* when the load began */
	char boot_id[40]; /* "" unknown */
	double uptime;	 /* at the load, -1 unknown */
	bool stopped;	 /* the agent was asked to stop during the grace period */
};

void agent_marker_release(struct agent_marker *m);
/* Writes dir/loading.json (atomically, fsync'ed). */
int agent_marker_write(const char *dir, const struct agent_marker *m);
/*
 * Reads dir/loading.json.  Returns 0 (no marker), 1 (a marker; a marker
 * that does not parse is returned with path NULL), or a negative errno.
 */
int agent_marker_read(const char *dir, struct agent_marker *ret);
int agent_marker_clear(const char *dir);

#endif
