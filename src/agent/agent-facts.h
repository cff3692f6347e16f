/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the agent knows about its node: kernel release, GNU build id (from the
 * ELF notes in /sys/kernel/notes), boot id and uptime, the livepatches in
 * /sys/kernel/livepatch, the loaded modules (/proc/modules) and the taint
 * mask (/proc/sys/kernel/tainted).
 *
 * Every path is read below a root prefix ("/" on a real node, a prepared
 * directory tree in tests).  Nothing here logs or writes.
 */
#ifndef TUXTAPE_AGENT_FACTS_H
#define TUXTAPE_AGENT_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "macro.h"

#define AGENT_RELEASE_MAX 65    /* __NEW_UTS_LEN + 1 */
#define AGENT_BUILD_ID_MAX 64   /* bytes of a GNU build id we accept */
#define AGENT_MODULE_NAME_MAX 56 /* MODULE_NAME_LEN (64 - sizeof(unsigned long)) */
#define AGENT_NOTES_MAX (1024 * 1024)

struct agent_livepatch {
	char name[AGENT_MODULE_NAME_MAX];
	int enabled;	/* 0, 1, or -1 unreadable */
	int transition; /* 0, 1, or -1 unreadable */
};

struct agent_facts {
	char release[AGENT_RELEASE_MAX];
	char build_id[2 * AGENT_BUILD_ID_MAX + 1]; /* lowercase hex, "" unknown */
	char boot_id[40];			   /* "" unknown */
	double uptime;				   /* seconds, -1 unknown */
	uint64_t taint;
	bool taint_known;
	struct agent_livepatch *livepatches;
	size_t n_livepatches;
	char **modules; /* loaded module names (strv), NULL when /proc/modules is unreadable */
};

/*
 * Reads the facts below root.  Only the kernel release is required
 * (root/proc/sys/kernel/osrelease, or uname(2) when root is "/" and the file
 * cannot be read); everything else is left unknown when it cannot be read.
 * Returns 0, -ENOENT (no release: err names the file), -ENOMEM.
 */
int agent_facts_read(const char *root, struct agent_facts *ret, char err[], size_t errsize);
void agent_facts_release(struct agent_facts *f);

/* The livepatch named name, or NULL. */
const struct agent_livepatch *agent_facts_livepatch(const struct agent_facts *f,
						    const char *name);
bool agent_facts_module_loaded(const struct agent_facts *f, const char *name);

/* {release, build_id|null, boot_id|null, taint|null, livepatches: [...], modules: [...]} */
json_t *agent_facts_to_json(const struct agent_facts *f);

/*
 * Finds the GNU build id (note name "GNU", type NT_GNU_BUILD_ID) in a blob of
 * ELF notes as /sys/kernel/notes holds them (4-byte aligned 32-bit headers)
 * and writes it as lowercase hex into ret (2 * AGENT_BUILD_ID_MAX + 1 bytes).
 * Returns 0, -ENOENT (no such note), -EBADMSG (a note runs past the end;
 * err says at which offset).
 */
int agent_notes_build_id(const void *notes, size_t len, char *ret, size_t retsize, char err[],
			 size_t errsize);

/* Reads root + rel into a NUL-terminated, right-trimmed buffer of at most max bytes. */
int agent_read_root_file(const char *root, const char *rel, size_t max, char **ret);
/* root + rel (caller frees); NULL on OOM.  root "/" or "" means the real file system. */
char *agent_root_path(const char *root, const char *rel);

/* Module names as the kernel keeps them: '-' becomes '_'. */
void agent_module_name_normalize(char *name);
/* True for 1..55 characters of [A-Za-z0-9_-]. */
bool agent_module_name_valid(const char *name);

#endif
