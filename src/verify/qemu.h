/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs qemu-system-x86_64 without a shell: argv is spawned directly, the
 * serial console (stdout under -nographic) and stderr are read through pipes
 * into bounded buffers, and the process is killed when the deadline passes.
 */
#ifndef TUXTAPE_QEMU_H
#define TUXTAPE_QEMU_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QEMU_STDERR_MAX (64u * 1024)

enum qemu_accel {
	QEMU_ACCEL_AUTO,
	QEMU_ACCEL_KVM,
	QEMU_ACCEL_TCG,
	_QEMU_ACCEL_MAX,
	_QEMU_ACCEL_INVALID = -EINVAL,
};

const char *qemu_accel_to_string(enum qemu_accel a);

struct qemu_output {
	char *console;          /* serial console text, '\r' removed, NUL-terminated */
	size_t console_len;
	bool console_truncated; /* more than the limit was printed; the rest was dropped */
	char *stderr_text;      /* qemu's own diagnostics, at most QEMU_STDERR_MAX */
	bool timed_out;         /* killed at the deadline */
	int exit_status;        /* exit code, or 128 + signal number */
	uint64_t elapsed_ms;
	uint64_t marker_ms;     /* time until `marker` was first seen; 0 when never */
};

void qemu_output_release(struct qemu_output *o);

struct qemu_opts {
	const char *binary;   /* NULL: "qemu-system-x86_64" looked up in PATH */
	const char *kernel;   /* -kernel */
	const char *initrd;   /* -initrd */
	const char *append;   /* -append */
	enum qemu_accel accel; /* KVM or TCG; AUTO is resolved by the caller */
	unsigned memory_mb;   /* 0: 512 */
	unsigned timeout_ms;
	size_t console_max;   /* cap of the console buffer */
	const char *marker;   /* optional: timestamp its first appearance */
	const char *end_marker; /* optional: after it, allow only a short grace period */
};

/*
 * Builds the qemu argv for opts (caller frees with strv_free).  NULL on OOM.
 */
char **qemu_build_argv(const struct qemu_opts *opts);

/*
 * Spawns qemu and collects its output.  Returns 0 when qemu ran (whatever
 * the guest did, see ret->timed_out and ret->exit_status), -ENOENT when the
 * binary is missing, or another negative errno when it could not be run.
 * ret is written only on success.
 */
int qemu_run(const struct qemu_opts *opts, struct qemu_output *ret);

/*
 * Decides KVM or TCG: KVM only when /dev/kvm can be opened read-write and a
 * probe boot of `kernel` with a tiny init that powers off immediately
 * finishes within a few seconds under KVM.  The answer is cached for the
 * process (not thread-safe).  Returns QEMU_ACCEL_KVM or QEMU_ACCEL_TCG.
 */
enum qemu_accel qemu_pick_accel(const char *binary, const char *kernel, const char *busybox,
				const char *work_dir);

#endif
