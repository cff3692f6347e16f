/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "initramfs.h"
#include "qemu.h"
#include "strbuf.h"

extern char **environ;

/* After the guest says it is done, qemu gets this long to power off. */
#define END_GRACE_MS 5000
/* A KVM probe boot that needs longer than this is not worth using. */
#define PROBE_TIMEOUT_MS 10000

const char *qemu_accel_to_string(enum qemu_accel a)
{
	static const char *const table[_QEMU_ACCEL_MAX] = {
		[QEMU_ACCEL_AUTO] = "auto",
		[QEMU_ACCEL_KVM] = "kvm",
		[QEMU_ACCEL_TCG] = "tcg",
	};

	return a >= 0 && a < _QEMU_ACCEL_MAX ? table[a] : NULL;
}

void qemu_output_release(struct qemu_output *o)
{
	if (!o)
		return;
	free(o->console);
	free(o->stderr_text);
	*o = (struct qemu_output){ 0 };
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

char **qemu_build_argv(const struct qemu_opts *opts)
{
	_cleanup_strv_free_ char **argv = NULL;
	char mem[32];

	snprintf(mem, sizeof(mem), "%uM", opts->memory_mb ? opts->memory_mb : 512);
	if (strv_push(&argv, opts->binary ? opts->binary : "qemu-system-x86_64") < 0 ||
	    strv_push(&argv, "-accel") < 0 ||
	    strv_push(&argv, opts->accel == QEMU_ACCEL_KVM ? "kvm" : "tcg") < 0)
		return NULL;
	/* Under KVM the host CPU model avoids feature emulation surprises. */
	if (opts->accel == QEMU_ACCEL_KVM &&
	    (strv_push(&argv, "-cpu") < 0 || strv_push(&argv, "host") < 0))
		return NULL;
	/*
	 * -nodefaults drops the NIC and VGA the guest would spend time probing;
	 * the serial port is then created explicitly on stdio.
	 */
	{
		const char *const fixed[] = { "-m", mem, "-smp", "1", "-nodefaults", "-nographic",
					      "-monitor", "none", "-serial", "stdio", "-no-reboot",
					      "-kernel", opts->kernel, "-initrd", opts->initrd,
					      "-append", opts->append ? opts->append : "" };

		for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
			if (strv_push(&argv, fixed[i]) < 0)
				return NULL;
	}
	return TAKE_PTR(argv);
}

static int spawn(char **argv, int out_fd, int err_fd, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int r;

	r = posix_spawn_file_actions_init(&fa);
	if (r != 0)
		return -r;
	r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	if (r == 0)
		r = posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
	if (r == 0)
		r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (r != 0)
		return -r;
	*ret_pid = pid;
	return 0;
}

/* Appends a chunk without '\r' and NUL (serial noise) up to the buffer's cap. */
static bool append_clean(struct strbuf *sb, const char *data, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '\r' || data[i] == '\0')
			continue;
		if (strbuf_addch(sb, data[i]) < 0)
			return false;
	}
	return true;
}

static int wait_child(pid_t pid, uint64_t deadline, bool *killed)
{
	int status;

	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (now_ms() >= deadline && !*killed) {
			kill(pid, SIGKILL);
			*killed = true;
		}
		usleep(10000);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
}

int qemu_run(const struct qemu_opts *opts, struct qemu_output *ret)
{
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_strbuf_ struct strbuf out = { 0 }, err = { 0 };
	_cleanup_close_ int out_r = -1, err_r = -1;
	int out_p[2], err_p[2], r;
	uint64_t start, deadline, marker_ms = 0;
	bool truncated = false, killed = false, end_seen = false;
	size_t scan = 0, end_scan = 0;
	pid_t pid = 0;

	if (!opts->kernel || !opts->initrd)
		return -EINVAL;
	argv = qemu_build_argv(opts);
	if (!argv)
		return -ENOMEM;
	strbuf_init(&out, opts->console_max ? opts->console_max : 4u * 1024 * 1024);
	strbuf_init(&err, QEMU_STDERR_MAX);

	if (pipe2(out_p, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err_p, O_CLOEXEC) < 0) {
		r = -errno;
		close(out_p[0]);
		close(out_p[1]);
		return r;
	}
	out_r = out_p[0];
	err_r = err_p[0];
	start = now_ms();
	r = spawn(argv, out_p[1], err_p[1], &pid);
	close(out_p[1]);
	close(err_p[1]);
	if (r < 0)
		return r;
	deadline = start + opts->timeout_ms;

	while (out_r >= 0 || err_r >= 0) {
		struct pollfd pfd[2] = { { .fd = out_r, .events = POLLIN },
					 { .fd = err_r, .events = POLLIN } };
		uint64_t now = now_ms();
		char chunk[8192];
		int n;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		n = poll(pfd, 2, (int)(deadline - now));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			kill(pid, SIGKILL);
			killed = true;
			break;
		}
		for (int i = 0; i < 2; i++) {
			ssize_t k;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			k = read(pfd[i].fd, chunk, sizeof(chunk));
			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k <= 0) {
				close(pfd[i].fd);
				if (i == 0)
					out_r = -1;
				else
					err_r = -1;
				continue;
			}
			if (i == 1) {
				/* qemu's diagnostics beyond the cap are not interesting. */
				append_clean(&err, chunk, (size_t)k);
				continue;
			}
			if (!truncated && !append_clean(&out, chunk, (size_t)k))
				truncated = true;
		}
		if (opts->marker && !marker_ms) {
			size_t ml = strlen(opts->marker);

			if (strstr(out.buf + scan, opts->marker))
				marker_ms = now_ms() - start;
			else if (out.len > ml)
				scan = out.len - ml;
		}
		if (opts->end_marker && !end_seen) {
			size_t ml = strlen(opts->end_marker);

			if (strstr(out.buf + end_scan, opts->end_marker)) {
				uint64_t grace = now_ms() + END_GRACE_MS;

				end_seen = true;
				if (grace < deadline)
					deadline = grace;
			} else if (out.len > ml) {
				end_scan = out.len - ml;
			}
		}
	}

	{
		int status = wait_child(pid, killed ? 0 : deadline, &killed);

		if (status < 0)
			return status;
		if (r < 0)
			return r;
		*ret = (struct qemu_output){
			.console_len = out.len,
			.console_truncated = truncated,
			.timed_out = killed,
			.exit_status = status,
			.elapsed_ms = now_ms() - start,
			.marker_ms = marker_ms,
		};
	}
	ret->console = strbuf_detach(&out, NULL);
	ret->stderr_text = strbuf_detach(&err, NULL);
	return 0;
}

static int probe_kvm(const char *binary, const char *kernel, const char *busybox,
		     const char *work_dir)
{
	static const char init[] = "#!/bin/busybox sh\n"
				   "/bin/busybox echo TUXTAPE-PROBE-OK\n"
				   "/bin/busybox poweroff -f\n";
	_cleanup_(initramfs_freep) struct initramfs *ir = NULL;
	_cleanup_free_ char *initrd = NULL;
	struct qemu_output out = { 0 };
	struct qemu_opts opts = {
		.binary = binary,
		.kernel = kernel,
		.append = "console=ttyS0 panic=-1 quiet loglevel=1",
		.accel = QEMU_ACCEL_KVM,
		.timeout_ms = PROBE_TIMEOUT_MS,
		.console_max = 1024 * 1024,
		.end_marker = "TUXTAPE-PROBE-OK",
	};
	bool ok;
	int r;

	ir = initramfs_new();
	initrd = path_join(work_dir, "kvm-probe.cpio");
	if (!ir || !initrd)
		return -ENOMEM;
	r = initramfs_add_dir(ir, "bin", 0755);
	if (r >= 0)
		r = initramfs_add_dir(ir, "dev", 0755);
	if (r >= 0)
		r = initramfs_add_chardev(ir, "dev/console", 0600, 5, 1);
	if (r >= 0)
		r = initramfs_add_host_file(ir, "bin/busybox", 0755, busybox);
	if (r >= 0)
		r = initramfs_add_file(ir, "init", 0755, init, sizeof(init) - 1);
	if (r >= 0)
		r = initramfs_finish(ir);
	if (r >= 0)
		r = initramfs_write(ir, initrd, false);
	if (r < 0)
		return r;
	opts.initrd = initrd;
	r = qemu_run(&opts, &out);
	unlink(initrd);
	if (r < 0)
		return r;
	ok = !out.timed_out && out.exit_status == 0 && strstr(out.console, "TUXTAPE-PROBE-OK");
	qemu_output_release(&out);
	return ok ? 1 : 0;
}

enum qemu_accel qemu_pick_accel(const char *binary, const char *kernel, const char *busybox,
				const char *work_dir)
{
	static enum qemu_accel cached = QEMU_ACCEL_AUTO;
	int fd;

	if (cached != QEMU_ACCEL_AUTO)
		return cached;
	cached = QEMU_ACCEL_TCG;
	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return cached;
	close(fd);
	if (probe_kvm(binary, kernel, busybox, work_dir) > 0)
		cached = QEMU_ACCEL_KVM;
	return cached;
}
