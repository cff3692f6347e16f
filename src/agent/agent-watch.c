/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent-watch.h"

#define RECORD_MAX (16 * 1024)
#define READS_PER_POLL 4096

struct agent_watch {
	int fd;
	bool chardev;
	char patch[KLOG_NAME_MAX];
	struct klog_parser *parser;
	char buf[RECORD_MAX];
};

int agent_watch_open(const char *path, bool from_start, double since_s, const char *patch,
		     double window_s, struct agent_watch **ret)
{
	_cleanup_(agent_watch_freep) struct agent_watch *w = calloc(1, sizeof(*w));
	struct klog_patch_spec spec = {};
	struct klog_options o;
	struct stat st;

	if (!w)
		return -ENOMEM;
	w->fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (w->fd < 0)
		return -errno;
	if (fstat(w->fd, &st) < 0)
		return -errno;
	w->chardev = S_ISCHR(st.st_mode);
	/* On /dev/kmsg SEEK_END moves to the end of the ring buffer; on a file, to its end. */
	if (!from_start && lseek(w->fd, 0, SEEK_END) < 0)
		return -errno;
	snprintf(w->patch, sizeof(w->patch), "%s", patch);
	spec.name = w->patch;
	klog_options_init(&o);
	o.patches = &spec;
	o.n_patches = 1;
	o.since_s = from_start ? since_s : -1;
	if (window_s > 0)
		o.window_s = window_s;
	w->parser = klog_parser_new(&o);
	if (!w->parser)
		return -ENOMEM;
	*ret = TAKE_PTR(w);
	return 0;
}

struct agent_watch *agent_watch_free(struct agent_watch *w)
{
	if (!w)
		return NULL;
	if (w->fd >= 0)
		close(w->fd);
	klog_parser_free(w->parser);
	free(w);
	return NULL;
}

/* Reads until nothing is ready; returns how many reads brought data, or a negative errno. */
static int drain(struct agent_watch *w)
{
	int got = 0, r;

	for (int i = 0; i < READS_PER_POLL; i++) {
		ssize_t n = read(w->fd, w->buf, sizeof(w->buf));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return got;
			if (errno == EPIPE)
				continue; /* records were overwritten before we read them */
			return -errno;
		}
		if (n == 0)
			return got; /* end of a regular file (for now) */
		got++;
		if (w->chardev) {
			/* One record per read; drop the trailing newline. */
			size_t len = (size_t)n;

			if (len > 0 && w->buf[len - 1] == '\n')
				len--;
			r = klog_parser_feed_record(w->parser, w->buf, len);
		} else {
			r = klog_parser_feed(w->parser, w->buf, (size_t)n);
		}
		if (r < 0)
			return r;
	}
	return got;
}

int agent_watch_poll(struct agent_watch *w, unsigned timeout_ms)
{
	int r = drain(w);

	if (r != 0 || timeout_ms == 0)
		return r < 0 ? r : 0;
	if (w->chardev) {
		struct pollfd p = { .fd = w->fd, .events = POLLIN };

		if (poll(&p, 1, (int)timeout_ms) < 0 && errno != EINTR)
			return -errno;
	} else {
		struct timespec ts = { .tv_sec = timeout_ms / 1000,
				       .tv_nsec = (long)(timeout_ms % 1000) * 1000000 };

		nanosleep(&ts, NULL);
	}
	r = drain(w);
	return r < 0 ? r : 0;
}

void agent_watch_verdict(struct agent_watch *w, bool final, struct klog_verdict *ret)
{
	if (final)
		klog_parser_finish(w->parser);
	klog_parser_verdict(w->parser, ret);
}
