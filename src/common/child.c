/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "macro.h"
#include "strbuf.h"

extern char **environ;

int64_t child_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t child_deadline(unsigned timeout_s)
{
	return timeout_s ? child_now_ms() + (int64_t)timeout_s * 1000 : 0;
}

/* The caller's environment minus what would change how make runs. */
char **child_environment(void)
{
	static const char *const drop[] = { "LC_ALL=",	      "MAKEFLAGS=",	"MFLAGS=",
					    "MAKELEVEL=",     "MAKEOVERRIDES=", "GNUMAKEFLAGS=",
					    "KBUILD_OUTPUT=", "KCONFIG_CONFIG=" };
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + 2, sizeof(*env));
	if (!env)
		return NULL;
	/* Messages must be parseable, and kbuild probes the compiler under LC_ALL=C too. */
	env[k++] = (char *)"LC_ALL=C";
	for (size_t i = 0; i < n; i++) {
		bool keep = true;

		for (size_t j = 0; j < ARRAY_SIZE(drop) && keep; j++)
			keep = strncmp(environ[i], drop[j], strlen(drop[j])) != 0;
		if (keep)
			env[k++] = environ[i];
	}
	env[k] = NULL;
	return env;
}

void child_kill_and_reap(pid_t pid)
{
	kill(-pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

/* stdout_fd/stderr_fd: where the child's 1 and 2 go (-1: /dev/null). */
static int spawn(char *const argv[], int stdout_fd, int stderr_fd, pid_t *ret_pid)
{
	_cleanup_free_ char **env = child_environment();
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t mask;
	int r;

	if (!env)
		return -ENOMEM;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (stdout_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (stderr_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, stderr_fd, 2);
	else
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	/* Own process group, so a deadline kills make's children too; default signals. */
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setpgroup(&attr, 0);
	sigemptyset(&mask);
	posix_spawnattr_setsigmask(&attr, &mask);
	sigemptyset(&mask);
	sigaddset(&mask, SIGPIPE);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	posix_spawnattr_setsigdefault(&attr, &mask);
	r = posix_spawnp(ret_pid, argv[0], &fa, &attr, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -r;
}

static int exit_status(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Waits for pid until deadline_ms (0: none). */
static int wait_deadline(pid_t pid, int64_t deadline_ms, int *ret_status)
{
	_cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int status;

	for (;;) {
		pid_t w = waitpid(pid, &status, deadline_ms ? WNOHANG : 0);
		int64_t left;

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == pid) {
			*ret_status = exit_status(status);
			return 0;
		}
		left = deadline_ms - child_now_ms();
		if (left <= 0) {
			child_kill_and_reap(pid);
			return -ETIMEDOUT;
		}
		if (pidfd >= 0) {
			struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

			(void)poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left);
		} else {
			/* No pidfd (pre-5.3 kernel or a seccomp filter): poll the child. */
			struct timespec ts = { 0, 50 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
	}
}

int child_run_logged(char *const argv[], int log_fd, int64_t deadline_ms, int *ret_status)
{
	pid_t pid;
	int r;

	r = spawn(argv, log_fd, log_fd, &pid);
	if (r < 0)
		return r;
	return wait_deadline(pid, deadline_ms, ret_status);
}

int child_run_stream(char *const argv[], bool merge_stderr, int64_t deadline_ms,
		     child_output_fn fn, void *userdata, int *ret_status)
{
	_cleanup_close_ int rfd = -1;
	int pipefd[2], r;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	rfd = pipefd[0];
	r = spawn(argv, pipefd[1], merge_stderr ? pipefd[1] : -1, &pid);
	close(pipefd[1]);
	if (r < 0)
		return r;
	for (;;) {
		struct pollfd pfd = { .fd = rfd, .events = POLLIN };
		char buf[65536];
		int timeout = -1;
		ssize_t n;

		if (deadline_ms) {
			int64_t left = deadline_ms - child_now_ms();

			if (left <= 0) {
				child_kill_and_reap(pid);
				return -ETIMEDOUT;
			}
			timeout = left > INT_MAX ? INT_MAX : (int)left;
		}
		r = poll(&pfd, 1, timeout);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			r = -errno;
			child_kill_and_reap(pid);
			return r;
		}
		if (r == 0)
			continue; /* the deadline check above ends it */
		n = read(rfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			child_kill_and_reap(pid);
			return r;
		}
		if (n == 0)
			break;
		r = fn(buf, (size_t)n, userdata);
		if (r < 0) {
			child_kill_and_reap(pid);
			return r;
		}
	}
	return wait_deadline(pid, deadline_ms, ret_status);
}

static int append_output(const char *buf, size_t len, void *userdata)
{
	return strbuf_add(userdata, buf, len);
}

int child_run_capture(char *const argv[], size_t max_output, int64_t deadline_ms, char **ret_out,
		      int *ret_status)
{
	_cleanup_strbuf_ struct strbuf out;
	int status, r;

	strbuf_init(&out, max_output);
	r = child_run_stream(argv, false, deadline_ms, append_output, &out, &status);
	if (r < 0)
		return r;
	*ret_status = status;
	*ret_out = strbuf_detach(&out, NULL);
	return 0;
}

static bool is_error_line(const char *s, size_t n)
{
	const char *stars;

	if (!s || n == 0)
		return false;
	stars = memmem(s, n, "*** ", 4);
	/* make's "make[1]: *** [Makefile:2: x] Error 2" only repeats that something failed. */
	if (n >= 4 && memcmp(s, "make", 4) == 0)
		return memmem(s, n, "No rule to make target", 22) != NULL;
	if (stars && (size_t)(stars - s) + 4 < n && stars[4] != ' ')
		return true;
	return memmem(s, n, "error", 5) || memmem(s, n, "Error", 5);
}

int child_error_line(int fd, off_t start, char *buf, size_t size)
{
	enum { TAIL = 256 * 1024 };
	_cleanup_free_ char *text = NULL;
	const char *best = NULL, *last = NULL;
	size_t best_len = 0, last_len = 0, len = 0;
	off_t end, from;

	if (size)
		buf[0] = '\0';
	end = lseek(fd, 0, SEEK_END);
	if (end < 0)
		return -errno;
	from = end - start > TAIL ? end - TAIL : start;
	if (end <= from)
		return 0;
	text = malloc((size_t)(end - from));
	if (!text)
		return -ENOMEM;
	while (len < (size_t)(end - from)) {
		ssize_t n = pread(fd, text + len, (size_t)(end - from) - len, from + (off_t)len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	for (const char *s = text, *end_text = text + len; s < end_text;) {
		const char *nl = memchr(s, '\n', (size_t)(end_text - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end_text - s);
		const char *line = s;

		s += n + 1;
		if (n > 0 && line[n - 1] == '\r')
			n--;
		if (n == 0)
			continue;
		last = line;
		last_len = n;
		if (is_error_line(line, n)) {
			best = line;
			best_len = n;
		}
	}
	if (!best) {
		best = last;
		best_len = last_len;
	}
	if (best && size)
		snprintf(buf, size, "%.*s", (int)(best_len < size ? best_len : size - 1), best);
	return 0;
}

int child_run_step(const struct child_log *log, char *const argv[], const char *step,
		   bool quote_output, char *reterr, size_t errsize)
{
	_cleanup_strbuf_ struct strbuf header;
	char line[CHILD_ERROR_LINE_MAX] = "";
	off_t start;
	int status = 0, r;

	strbuf_init(&header, 0);
	strbuf_adds(&header, "### ");
	for (size_t i = 0; argv[i]; i++)
		strbuf_addf(&header, "%s%s", i ? " " : "", argv[i]);
	r = strbuf_addch(&header, '\n');
	if (r < 0)
		return r;
	if (write(log->fd, header.buf, header.len) < 0)
		return -errno;
	start = lseek(log->fd, 0, SEEK_END);
	if (start < 0)
		return -errno;
	r = child_run_logged(argv, log->fd, log->deadline_ms, &status);
	if (r == -ETIMEDOUT) {
		snprintf(reterr, errsize, "%s: timed out after %u s (log '%s')", step,
			 log->timeout_s, log->path);
		return r;
	}
	if (r == -ENOENT) {
		snprintf(reterr, errsize, "%s: cannot run '%s'", step, argv[0]);
		return r;
	}
	if (r < 0) {
		snprintf(reterr, errsize, "%s: %s", step, strerror(-r));
		return r;
	}
	if (status == 0)
		return 0;
	if (quote_output) {
		char out[CHILD_STEP_QUOTED_MAX + 1];
		ssize_t n = pread(log->fd, out, CHILD_STEP_QUOTED_MAX, start);

		if (n < 0)
			n = 0;
		out[n] = '\0';
		while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
			out[--n] = '\0';
		for (char *c = out; *c; c++)
			if (*c == '\n')
				*c = ';';
		snprintf(reterr, errsize, "%s: failed with exit status %d: %s", step, status, out);
		return -EIO;
	}
	(void)child_error_line(log->fd, start, line, sizeof(line));
	snprintf(reterr, errsize, "%s: failed with exit status %d%s%s (log '%s')", step, status,
		 line[0] ? ": " : "", line, log->path);
	return -EIO;
}
