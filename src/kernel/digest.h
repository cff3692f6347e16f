/* SPDX-License-Identifier: GPL-2.0-or-later */
/* SHA256 of files, for the package cache and the records of patch builds. */
#ifndef TUXTAPE_DIGEST_H
#define TUXTAPE_DIGEST_H

/*
 * Reads fd to its end and writes the SHA256 of what it read as 64 lowercase
 * hex digits and a NUL.  -ENOMEM, -EIO (libcrypto), or read(2)'s errno.
 */
int digest_fd_sha256(int fd, char hex[static 65]);

#endif
