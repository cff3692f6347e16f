/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Channels (tiers) of the patch archive: every module target lists the
 * channels it is published in (custom.channels, docs/archive.md), and a node
 * follows one channel ([agent] channel, docs/agent.md), taking only the
 * targets listed in it.  A patch usually starts in an early channel (edge,
 * beta, candidate) and is promoted to stable once it has proven itself.
 * The names are free; one rule for them lives here so that the archive and
 * the agent accept exactly the same ones.  Nothing here allocates or logs.
 */
#ifndef TUXTAPE_CHANNEL_H
#define TUXTAPE_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define CHANNEL_NAME_MAX 32 /* characters of a name */
#define CHANNELS_MAX 16	    /* names in one target's list */
/* The agent's default, and what a target without custom.channels (published before
 * channels existed) is in. */
#define CHANNEL_DEFAULT "stable"
/* For messages. */
#define CHANNEL_NAME_RULE "1 to 32 of [a-z0-9_-], starting with a letter or digit"

/* True for a channel name: CHANNEL_NAME_RULE.  NULL is not one. */
bool channel_name_valid(const char *s);

/*
 * Checks a channel list as targets carry it: a JSON array of 1 to
 * CHANNELS_MAX distinct strings, each channel_name_valid().  Returns 0, or
 * -EBADMSG with err (when given) saying what is wrong ("not an array",
 * "[2]: 'Beta!' is not a channel name (...)"), for the caller to prefix with
 * the field and where it is.
 */
int channel_list_check(const json_t *list, char err[], size_t errsize);

/* True when the list (checked or not) holds name. */
bool channel_list_has(const json_t *list, const char *name);

#endif
