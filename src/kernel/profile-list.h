/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A build profile written by hand or by another tool: one tree-relative path
 * per line, optionally followed by its kind ("builtin", the default,
 * "module" or "header"); '#' starts a comment, blank lines are ignored:
 *
 *	# kernel/fork.c is built in
 *	kernel/fork.c
 *	drivers/media/usb/uvc/uvc_driver.c	module
 *	include/linux/sched.h			header
 */
#ifndef TUXTAPE_KERNEL_PROFILE_LIST_H
#define TUXTAPE_KERNEL_PROFILE_LIST_H

#include <stddef.h>

#include "profile.h"

/* Largest list accepted (a distribution kernel with its headers is a few MiB). */
#define PROFILE_LIST_MAX_SIZE (64u * 1024 * 1024)

/*
 * Adds the entries of buf (len bytes) to p.  Errors: -EBADMSG with
 * "line N: ..." in reterr for binary data, an unknown kind, extra fields, or a
 * path that is absolute, leaves the tree or holds characters no kernel path
 * has; -EFBIG beyond PROFILE_LIST_MAX_SIZE; -ENOMEM.  On failure p may hold the
 * entries before the bad line: discard it.
 */
int kernel_profile_parse_list(struct kernel_profile *p, const char *buf, size_t len, char *reterr,
			      size_t errsize);

/* kernel_profile_parse_list() of a file; open/read errors as negative errno. */
int kernel_profile_read_list(struct kernel_profile *p, const char *path, char *reterr,
			     size_t errsize);

#endif
