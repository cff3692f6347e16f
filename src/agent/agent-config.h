/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fleet agent's configuration: /etc/tuxtape/agent.conf, an INI file read
 * with src/common/config.h (docs/agent.md lists every key).  Unknown sections
 * and keys are errors, so a misspelt key does not silently keep a default.
 * Environment variables do not override it: the agent runs from units and an
 * initramfs where the environment is not the administrator's.
 */
#ifndef TUXTAPE_AGENT_CONFIG_H
#define TUXTAPE_AGENT_CONFIG_H

#include <stdbool.h>

#include "macro.h"

#define AGENT_CONFIG_PATH "/etc/tuxtape/agent.conf"
#define AGENT_STATE_DIR "/var/lib/tuxtape-agent"

#define AGENT_INTERVAL_DEFAULT 3600u
#define AGENT_GRACE_PERIOD_DEFAULT 60u
#define AGENT_TRANSITION_TIMEOUT_DEFAULT 60u
/* Bounds of the durations (seconds). */
#define AGENT_INTERVAL_MAX (7u * 86400)
#define AGENT_GRACE_PERIOD_MAX 86400u
#define AGENT_TRANSITION_TIMEOUT_MAX 3600u
#define AGENT_MIRRORS_MAX 16

struct agent_config {
	/* [archive] url: repository base URLs (holding metadata/ and targets/), each
	 * ending in '/', NULL-terminated, in the order to try; NULL when unset */
	char **mirrors;
	char *root_file;  /* [archive] root: the trusted root.json to start from, or NULL */
	char *ca_file;	  /* [archive] ca_file, or NULL (system CAs) */
	unsigned interval;	     /* [agent] interval, seconds */
	char *channel;		     /* [agent] channel: the archive channel followed, "stable" */
	bool auto_apply;	     /* [agent] auto_apply: false = only report */
	unsigned grace_period;	     /* [agent] grace_period, seconds (0: no watch) */
	unsigned transition_timeout; /* [agent] transition_timeout, seconds */
	char *report_url;	     /* [agent] report_url, or NULL */
	char *state_dir;	     /* [agent] state_dir, AGENT_STATE_DIR */
};

/* A configuration with every default; NULL on OOM. */
struct agent_config *agent_config_new(void);
struct agent_config *agent_config_free(struct agent_config *c);
DEFINE_CLEANUP_FUNC(struct agent_config, agent_config_free)

/*
 * Reads path into a new configuration (defaults for what it does not set).
 * A missing file is not an error when optional is true.  Returns 0,
 * -ENOENT, -EBADMSG (syntax error, unknown key, bad value: err names the
 * file, the line or key and the reason), -ENOMEM, or the errno of the read.
 */
int agent_config_load(const char *path, bool optional, struct agent_config **ret, char err[],
		      size_t errsize);

/*
 * Parses "90", "90s", "15m", "1h", "2d" into seconds (at most max).
 * Returns 0, -EINVAL (malformed) or -ERANGE.
 */
int agent_parse_duration(const char *s, unsigned max, unsigned *ret);

#endif
