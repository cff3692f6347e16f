/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * In-memory builder of a "newc" cpio archive, the format the kernel unpacks
 * as initramfs.  Entries are written in the order they are added with
 * mtime 0 and uid/gid 0, so the same input gives the same bytes.  The whole
 * archive is capped at INITRAMFS_MAX_SIZE.  Not thread-safe.
 */
#ifndef TUXTAPE_INITRAMFS_H
#define TUXTAPE_INITRAMFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "macro.h"
#include "strbuf.h"

#define INITRAMFS_MAX_SIZE (256u * 1024 * 1024)
/* Largest single file taken from the host (busybox, modules, scripts). */
#define INITRAMFS_FILE_MAX (64u * 1024 * 1024)

struct initramfs {
	struct strbuf buf;
	unsigned ino;
	bool finished;
};

/* Returns NULL only on OOM. */
struct initramfs *initramfs_new(void);
struct initramfs *initramfs_free(struct initramfs *ir);
DEFINE_CLEANUP_FUNC(struct initramfs, initramfs_free);

/*
 * Entry names are archive paths without a leading '/', e.g. "bin/busybox".
 * Parent directories must be added first (the kernel does not create them).
 * All return 0, -EINVAL for an empty/absolute/over-long name, -EFBIG when
 * the archive would exceed INITRAMFS_MAX_SIZE, -EALREADY after finish.
 */
int initramfs_add_dir(struct initramfs *ir, const char *name, mode_t perm);
int initramfs_add_file(struct initramfs *ir, const char *name, mode_t perm, const void *data,
		       size_t len);
int initramfs_add_symlink(struct initramfs *ir, const char *name, const char *target);
/* Character device node, e.g. dev/console 5:1 (needs no privileges here). */
int initramfs_add_chardev(struct initramfs *ir, const char *name, mode_t perm, unsigned major,
			  unsigned minor);
/* Copies a host file (at most INITRAMFS_FILE_MAX bytes, else -EFBIG). */
int initramfs_add_host_file(struct initramfs *ir, const char *name, mode_t perm,
			    const char *host_path);

/* Appends the TRAILER!!! entry; further adds fail with -EALREADY. */
int initramfs_finish(struct initramfs *ir);

/*
 * Writes the finished archive to path atomically, gzip-compressed when gzip
 * is true (the kernel accepts both).  -EINVAL when not finished.
 */
int initramfs_write(struct initramfs *ir, const char *path, bool gzip);

/*
 * The archive bytes (valid until the next add or free); for tests and for
 * callers that stream it elsewhere.
 */
const void *initramfs_data(const struct initramfs *ir, size_t *ret_len);

#endif
