/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Offers: the module targets the archive lists for one kernel release
 * (docs/archive.md gives the custom fields), checked and judged for this
 * node, and the choice of the one to run: the newest eligible cumulative
 * patch.
 *
 * An offer is parsed from a verified TUF target (path, length, hashes,
 * custom) or from the copy of it the agent keeps beside a cached module.
 * Parsing refuses what the agent could not act on safely (a path outside
 * "<release>/<file>.ko", a module name the kernel would not accept, a
 * missing sha256), so a signed but odd entry never names a local file.
 * Nothing here logs or does I/O.
 */
#ifndef TUXTAPE_AGENT_OFFER_H
#define TUXTAPE_AGENT_OFFER_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "agent-facts.h"
#include "channel.h"

#define AGENT_TARGET_FILE_MAX 200

struct agent_offer {
	char *path;			    /* target path "<release>/<file>" */
	const char *file;		    /* points into path: the file name */
	char module[AGENT_MODULE_NAME_MAX]; /* custom.module_name, '-' turned into '_' */
	int64_t version;		    /* custom.patch_version (>= 1) */
	char release[AGENT_RELEASE_MAX];    /* custom.kernel_release */
	char build_id[2 * AGENT_BUILD_ID_MAX + 1]; /* custom.build_id lowercased, "" = any */
	char min_agent_version[32];		   /* custom.min_agent_version */
	bool replace;				   /* custom.replace: a cumulative module */
	bool revoked;
	char *revoked_reason; /* NULL when not given */
	int64_t created;      /* custom.created, 0 when absent */
	/* custom.channels, distinct valid names; { CHANNEL_DEFAULT } when absent */
	char channels[CHANNELS_MAX][CHANNEL_NAME_MAX + 1];
	size_t n_channels;
	char sha256[65];      /* hashes.sha256 */
	uint64_t length;
	json_t *target; /* {path, length, hashes, custom}: what was listed, for the cache */
};

void agent_offer_release(struct agent_offer *o);
void agent_offers_free(struct agent_offer *offers, size_t n);

/*
 * Checks and copies one target.  Returns 0, -EBADMSG (err names the target
 * and the field: "custom.patch_version: not a positive integer"), -ENOMEM.
 */
int agent_offer_parse(const char *path, uint64_t length, const json_t *hashes,
		      const json_t *custom, struct agent_offer *ret, char err[], size_t errsize);
/* The same from the {path, length, hashes, custom} object agent_offer_parse() kept. */
int agent_offer_parse_json(const json_t *target, struct agent_offer *ret, char err[],
			   size_t errsize);

enum agent_offer_status {
	AGENT_OFFER_ELIGIBLE,
	AGENT_OFFER_OTHER_KERNEL,   /* custom.kernel_release is not this kernel */
	AGENT_OFFER_BUILD_ID,	    /* built for another build of this release */
	AGENT_OFFER_AGENT_TOO_OLD,  /* min_agent_version is newer than this agent */
	AGENT_OFFER_NOT_CUMULATIVE, /* replace: false (the agent runs cumulative modules only) */
	AGENT_OFFER_REVOKED,	    /* revoked by the archive */
	AGENT_OFFER_OTHER_CHANNEL,  /* not published in the node's channel */
	AGENT_OFFER_BLOCKED,	    /* in this node's blocklist */
	_AGENT_OFFER_STATUS_MAX,
	_AGENT_OFFER_STATUS_INVALID = -EINVAL,
};

const char *agent_offer_status_to_string(enum agent_offer_status s);

/*
 * Judges an offer for a node running release (and build_id, "" unknown),
 * following channel (NULL: CHANNEL_DEFAULT), with an agent of version
 * agent_version; blocked says whether the node's blocklist holds it.  The
 * first reason that applies, in the enum's order.  A revoked offer is
 * REVOKED whatever its channels, so a node that changed channel still
 * unloads a revoked patch it runs; one outside the channel is OTHER_CHANNEL
 * rather than BLOCKED, so it never counts as this node's newest patch.
 */
enum agent_offer_status agent_offer_judge(const struct agent_offer *o, const char *release,
					  const char *build_id, const char *channel,
					  const char *agent_version, bool blocked);

/* True when the offer is published in channel. */
bool agent_offer_in_channel(const struct agent_offer *o, const char *channel);

/*
 * Orders offers newest first: higher patch_version, then later created, then
 * the path in reverse (so equal versions of differently named modules still
 * have one order).  < 0 when a is newer than b.
 */
int agent_offer_compare(const struct agent_offer *a, const struct agent_offer *b);

/*
 * Index of the newest eligible offer (agent_offer_compare()), or -ENOENT
 * when none is eligible.
 */
int agent_offer_newest(const struct agent_offer *offers, const enum agent_offer_status *status,
		       size_t n);

/*
 * Compares dotted numeric versions ("0.1.0" < "0.10"; missing parts are 0).
 * *ret < 0, 0, > 0.  Returns 0 or -EINVAL for anything but 1 to 4 dot
 * separated numbers.
 */
int agent_version_compare(const char *a, const char *b, int *ret);

/* True for a kernel release usable as one path component. */
bool agent_release_valid(const char *release);

#endif
