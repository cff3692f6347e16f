/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "agent-facts.h"
#include "agent-kops.h"
#include "fileio.h"
#include "parse-util.h"
#include "strbuf.h"

/* --- the real kernel --- */

static int write_sysfs(const char *path, const char *value)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t n = strlen(value);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t w = write(fd, value, n);

		if (w >= 0)
			return (size_t)w == n ? 0 : -EIO;
		if (errno != EINTR)
			return -errno;
	}
}

static int sys_load(void *userdata, int fd, const char *name)
{
	return RET_NERRNO(syscall(SYS_finit_module, fd, "", 0));
}

static int sys_disable(void *userdata, const char *name)
{
	_cleanup_free_ char *path = NULL;

	if (asprintf(&path, "/sys/kernel/livepatch/%s/enabled", name) < 0)
		return -ENOMEM;
	return write_sysfs(path, "0");
}

static int sys_unload(void *userdata, const char *name)
{
	return RET_NERRNO(syscall(SYS_delete_module, name, O_NONBLOCK));
}

const struct agent_kops agent_kops_syscall = {
	.load = sys_load,
	.disable = sys_disable,
	.unload = sys_unload,
};

/* --- the simulated kernel below a root directory --- */

struct sim {
	struct agent_kops ops;
	char *root;
};

static char *sim_path(const struct sim *s, const char *fmt, ...) _printf_(2, 3);
static char *sim_path(const struct sim *s, const char *fmt, ...)
{
	_cleanup_free_ char *rel = NULL;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&rel, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	return path_join(s->root, rel);
}

/* ROOT + dir + name + suffix exists. */
static bool sim_exists(const struct sim *s, const char *dir, const char *name, const char *suffix)
{
	_cleanup_free_ char *p = sim_path(s, "%s%s%s", dir, name, suffix);

	return p && access(p, F_OK) == 0;
}

static int sim_write(const struct sim *s, const char *dir, const char *name, const char *suffix,
		     const char *value)
{
	_cleanup_free_ char *p = sim_path(s, "%s%s%s", dir, name, suffix);

	if (!p)
		return -ENOMEM;
	return write_file_atomic(p, value, strlen(value), 0644);
}

static int append(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	size_t n = strlen(text);

	if (fd < 0)
		return -errno;
	return write(fd, text, n) == (ssize_t)n ? 0 : -EIO;
}

static int sim_kmsg(const struct sim *s, int level, const char *fmt, ...) _printf_(3, 4);
static int sim_kmsg(const struct sim *s, int level, const char *fmt, ...)
{
	_cleanup_free_ char *path = path_join(s->root, "/dev/kmsg"), *line = NULL;
	struct timespec ts;
	long long us;

	if (!path)
		return -ENOMEM;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	us = (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	if (asprintf(&line, "%d,%lld,%lld,-;", level, us, us) < 0)
		return -ENOMEM;
	{
		_cleanup_free_ char *msg = NULL, *full = NULL;
		va_list ap;
		int n;

		va_start(ap, fmt);
		n = vasprintf(&msg, fmt, ap);
		va_end(ap);
		if (n < 0 || asprintf(&full, "%s%s\n", line, msg) < 0)
			return -ENOMEM;
		return append(path, full);
	}
}

/* Removes the line of module name from ROOT/proc/modules; -ENOENT when absent. */
static int sim_modules_remove(const struct sim *s, const char *name)
{
	_cleanup_free_ char *path = path_join(s->root, "/proc/modules"), *buf = NULL;
	_cleanup_strbuf_ struct strbuf out;
	bool found = false;
	char *line, *next;
	int r;

	strbuf_init(&out, 0);
	if (!path)
		return -ENOMEM;
	r = read_file_bounded(path, 4u << 20, &buf, NULL);
	if (r < 0)
		return r;
	for (line = buf; line && *line; line = next) {
		size_t n = strcspn(line, " \n");

		next = strchr(line, '\n');
		if (next)
			next++;
		if (n == strlen(name) && strncmp(line, name, n) == 0) {
			found = true;
			continue;
		}
		r = strbuf_add(&out, line, next ? (size_t)(next - line) : strlen(line));
		if (r < 0)
			return r;
	}
	if (!found)
		return -ENOENT;
	return write_file_atomic(path, out.buf, out.len, 0644);
}

static int sim_load(void *userdata, int fd, const char *name)
{
	struct sim *s = userdata;
	_cleanup_free_ char *err = NULL, *lpdir = NULL, *mods = NULL, *line = NULL, *extra = NULL;
	_cleanup_free_ char *kmsg = NULL, *mods_text = NULL;
	bool stall;
	int r, e;

	err = sim_path(s, "/sim/%s.load-error", name);
	if (!err)
		return -ENOMEM;
	if (access(err, F_OK) == 0) {
		_cleanup_free_ char *v = NULL;

		r = agent_read_root_file(NULL, err, 64, &v);
		if (r < 0)
			return r;
		return safe_atoi(v, &e) >= 0 && e > 0 ? -e : -EINVAL;
	}
	mods = path_join(s->root, "/proc/modules");
	lpdir = sim_path(s, "/sys/kernel/livepatch/%s", name);
	if (!mods || !lpdir)
		return -ENOMEM;
	if (read_file_bounded(mods, 4u << 20, &mods_text, NULL) >= 0) {
		/* The kernel refuses a second module of the same name. */
		for (char *l = mods_text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
			if (strncmp(l, name, strlen(name)) == 0 && l[strlen(name)] == ' ')
				return -EEXIST;
	}
	r = mkdir_p(lpdir, 0755);
	if (r < 0)
		return r;
	stall = sim_exists(s, "/sim/", name, ".stall");
	if ((r = sim_write(s, "/sys/kernel/livepatch/", name, "/enabled", "1\n")) < 0 ||
	    (r = sim_write(s, "/sys/kernel/livepatch/", name, "/transition",
			   stall ? "1\n" : "0\n")) <
		    0)
		return r;
	if (asprintf(&line, "%s 16384 1 - Live 0xffffffffc0000000 (OEK)\n", name) < 0)
		return -ENOMEM;
	r = append(mods, line);
	if (r < 0)
		return r;
	sim_kmsg(s, 5, "livepatch: enabling patch '%s'", name);
	sim_kmsg(s, 5, "livepatch: '%s': starting patching transition", name);
	if (!stall) {
		_cleanup_free_ char *dir = path_join(s->root, "/sys/kernel/livepatch");
		DIR *d = dir ? opendir(dir) : NULL;
		struct dirent *de;

		/* Atomic replace: the older patches are freed when the transition completes. */
		while (d && (de = readdir(d))) {
			_cleanup_free_ char *other = NULL;

			if (de->d_name[0] == '.' || streq(de->d_name, name))
				continue;
			other = path_join(dir, de->d_name);
			if (other)
				rm_rf(other);
		}
		if (d)
			closedir(d);
		sim_kmsg(s, 5, "livepatch: '%s': patching complete", name);
	}
	extra = sim_path(s, "/sim/%s.kmsg", name);
	kmsg = path_join(s->root, "/dev/kmsg");
	if (extra && kmsg) {
		_cleanup_free_ char *text = NULL;

		if (read_file_bounded(extra, 4u << 20, &text, NULL) >= 0)
			append(kmsg, text);
	}
	return 0;
}

static int sim_disable(void *userdata, const char *name)
{
	struct sim *s = userdata;
	_cleanup_free_ char *lpdir = sim_path(s, "/sys/kernel/livepatch/%s", name);

	if (!lpdir)
		return -ENOMEM;
	if (access(lpdir, F_OK) < 0)
		return -ENOENT;
	sim_kmsg(s, 5, "livepatch: '%s': starting unpatching transition", name);
	sim_kmsg(s, 5, "livepatch: '%s': unpatching complete", name);
	/* A disabled patch is freed: its directory goes away. */
	return rm_rf(lpdir);
}

static int sim_unload(void *userdata, const char *name)
{
	struct sim *s = userdata;

	if (sim_exists(s, "/sys/kernel/livepatch/", name, ""))
		return -EBUSY; /* an enabled livepatch holds its module */
	return sim_modules_remove(s, name);
}

struct agent_kops *agent_kops_sim_new(const char *root)
{
	struct sim *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->root = strdup(root);
	if (!s->root) {
		free(s);
		return NULL;
	}
	s->ops = (struct agent_kops){
		.load = sim_load,
		.disable = sim_disable,
		.unload = sim_unload,
		.userdata = s,
	};
	return &s->ops;
}

void agent_kops_sim_free(struct agent_kops *k)
{
	struct sim *s;

	if (!k)
		return;
	s = k->userdata;
	free(s->root);
	free(s);
}
