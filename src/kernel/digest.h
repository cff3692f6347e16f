/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA256 of files and buffers, for the package cache, kernel images and patch builds. */
#ifndef TUXTAPE_DIGEST_H
#define TUXTAPE_DIGEST_H

#include <stddef.h>

/*
 * Reads fd to its end and writes the SHA256 of what it read as 64 lowercase
 * hex digits and a NUL.  -ENOMEM, -EIO (libcrypto), or read(2)'s errno.
 */
int digest_fd_sha256(int fd, char hex[static 65]);

/* The same for the file at path (opened O_CLOEXEC): -ENOENT etc. from open(2). */
int digest_file_sha256(const char *path, char hex[static 65]);

/* The same for len bytes in memory.  -EIO (libcrypto). */
int digest_sha256(const void *data, size_t len, char hex[static 65]);

#endif
