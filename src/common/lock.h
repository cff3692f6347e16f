/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Exclusive advisory locks on a lock file (flock), so cron runs cannot interleave. */
#ifndef TUXTAPE_LOCK_H
#define TUXTAPE_LOCK_H

/*
 * Takes an exclusive lock on path (created if missing).  With wait false it
 * fails at once with -EWOULDBLOCK when another process holds it.  Returns the
 * fd that holds the lock (>= 0); closing it releases the lock.
 */
int lock_file_acquire(const char *path, int wait);

#endif
