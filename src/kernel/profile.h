/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A kernel's build profile: the source files actually compiled into it, each
 * marked built-in or module, and (when the source of the profile knows it)
 * every header those files included.  Paths are relative to the top of the
 * kernel source tree ("drivers/media/usb/uvc/uvc_driver.c").
 */
#ifndef TUXTAPE_KERNEL_PROFILE_H
#define TUXTAPE_KERNEL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

enum profile_file_flags {
	PROFILE_BUILTIN = 1 << 0, /* compiled into vmlinux */
	PROFILE_MODULE = 1 << 1,  /* compiled into a loadable module */
	PROFILE_HEADER = 1 << 2,  /* a header included by a compiled file */
};

enum profile_source {
	PROFILE_SOURCE_LIST,      /* a plain list given by the user */
	PROFILE_SOURCE_BUILD_DIR, /* *.o.cmd files of a built tree: sources and headers */
	PROFILE_SOURCE_DRY_RUN,   /* make -n of a prepared source tree: sources only */
	PROFILE_SOURCE_DEBUGINFO, /* DWARF compile units (and their line-table files) */
	_PROFILE_SOURCE_MAX,
	_PROFILE_SOURCE_INVALID = -EINVAL,
};

const char *profile_source_to_string(enum profile_source s);
enum profile_source profile_source_from_string(const char *s);

struct kernel_profile;

struct kernel_profile *kernel_profile_new(enum profile_source source, bool knows_headers);
struct kernel_profile *kernel_profile_free(struct kernel_profile *p);
DEFINE_CLEANUP_FUNC(struct kernel_profile, kernel_profile_free)

enum profile_source kernel_profile_source(const struct kernel_profile *p);
/* True when headers included by compiled files are listed (build dir, debug info). */
bool kernel_profile_knows_headers(const struct kernel_profile *p);

/*
 * Adds flags to path (ORed with what is there).  The path is normalised:
 * leading "./" and "//" runs removed, ".." resolved; absolute paths and paths
 * escaping the tree are refused with -EINVAL.
 */
int kernel_profile_add(struct kernel_profile *p, const char *path, unsigned flags);
/* Flags of path, 0 when the file is not in the profile. */
unsigned kernel_profile_lookup(const struct kernel_profile *p, const char *path);
size_t kernel_profile_count(const struct kernel_profile *p);
/* Iteration in no particular order: *state starts at 0; NULL at the end. */
const char *kernel_profile_next(const struct kernel_profile *p, size_t *state, unsigned *ret_flags);

#endif
