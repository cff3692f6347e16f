/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "lock.h"
#include "macro.h"

int lock_file_acquire(const char *path, int wait)
{
	_cleanup_close_ int fd = -1;
	char pid[32];
	int n;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX | (wait ? 0 : LOCK_NB)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	/* The pid is informational only: it helps a user see who holds the lock. */
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)n, 0) < 0) {
		/* ignored: the lock itself is what matters */
	}
	return TAKE_FD(fd);
}
