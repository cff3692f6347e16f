/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A read-only static file server for an archive's repository directory
 * (libmicrohttpd, epoll, a thread pool): GET and HEAD only, regular files
 * only (no directory listing, no symbolic links), no path that leaves the
 * directory (".." or "." segments, encoded or not, are refused with 400).
 * Content-Length on every answer; Cache-Control short for unversioned
 * files (timestamp.json, root.json), immutable for versioned metadata and
 * hash-prefixed targets.  Nothing here logs.
 */
#ifndef TUXTAPE_ARCHIVE_SERVE_H
#define TUXTAPE_ARCHIVE_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define ARCHIVE_SERVE_MAX_AGE 60 /* seconds a cache may keep timestamp.json */

struct archive_server_options {
	const char *root;     /* the directory served (DIR/repository) */
	const char *listen;   /* "ADDR:PORT", "[ADDR6]:PORT" or ":PORT" (port 0: any free one) */
	const char *tls_cert; /* PEM contents (not paths), both or neither */
	const char *tls_key;
	unsigned threads;     /* 0: the number of CPUs */
};

struct archive_server;

/*
 * Starts serving in background threads.  Returns 0, -EINVAL (bad listen
 * address), -ENOENT (root missing), -EOPNOTSUPP (TLS asked, not built in),
 * -EADDRINUSE or -EIO (the daemon did not start; err says why).
 */
int archive_server_start(const struct archive_server_options *o, struct archive_server **ret,
			 char err[], size_t errsize);
/* The bound port and the base URL ("http://127.0.0.1:8080/"; owned by s). */
uint16_t archive_server_port(const struct archive_server *s);
const char *archive_server_url(const struct archive_server *s);
/* Stops and frees; accepts NULL. */
struct archive_server *archive_server_stop(struct archive_server *s);
DEFINE_CLEANUP_FUNC(struct archive_server, archive_server_stop)

/*
 * The request path check on its own (for tests): decodes %XX once and
 * accepts only "/seg/seg..." with segments of printable characters other
 * than '\\', none empty, "." or "..", and no encoded '/', '%' or NUL.  Returns
 * the decoded relative path (caller frees) or NULL with *ret_status 400
 * (or 404 for "/").
 */
char *archive_serve_check_path(const char *url, unsigned *ret_status);

#endif
