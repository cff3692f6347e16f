/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File helpers: bounded reads, atomic replacement, directory creation. */
#ifndef TUXTAPE_FILEIO_H
#define TUXTAPE_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Reads the whole file into a NUL-terminated buffer (caller frees *ret_buf).
 * Fails with -EFBIG when the file is larger than max_size bytes.
 */
int read_file_bounded(const char *path, size_t max_size, char **ret_buf, size_t *ret_len);

/*
 * Replaces path with data atomically: a temporary file in the same directory
 * is written, fsync'ed and renamed over path, then the directory is synced.
 * On any failure path keeps its old contents.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* mkdir -p with the given mode for created components. */
int mkdir_p(const char *path, mode_t mode);

/* Joins two path components with exactly one '/'; NULL on OOM. */
char *path_join(const char *a, const char *b);

/* rm -rf; missing path is not an error. */
int rm_rf(const char *path);

#endif
