/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Child processes of the patch generator (make, the compiler): run through
 * posix_spawn without a shell, in their own process group so a deadline
 * kills make and everything it started, with LC_ALL=C and without the
 * variables of a calling make (MAKEFLAGS, MAKELEVEL, ...) or kbuild's
 * KBUILD_OUTPUT/KCONFIG_CONFIG, which would redirect the build.  stdin is
 * /dev/null.  Nothing here logs.
 */
#ifndef TUXTAPE_PATCHGEN_CHILD_H
#define TUXTAPE_PATCHGEN_CHILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Longest line child_error_line() quotes. */
#define CHILD_ERROR_LINE_MAX 512

/* Milliseconds of CLOCK_MONOTONIC, the clock of every deadline here. */
int64_t child_now_ms(void);

/*
 * The environment children run with (caller frees the array, not the
 * strings): LC_ALL=C so messages parse, and no inherited make or kbuild
 * variables (MAKEFLAGS, KBUILD_OUTPUT, KCONFIG_CONFIG...) that would change
 * what make does.  NULL on OOM.
 */
char **child_environment(void);
/* SIGKILLs the child's process group and reaps the child. */
void child_kill_and_reap(pid_t pid);

/* A deadline timeout_s from now, or 0 (none) when timeout_s is 0. */
int64_t child_deadline(unsigned timeout_s);

/*
 * Runs argv (argv[0] looked up in PATH) with stdout and stderr appended to
 * log_fd and waits for it.  deadline_ms is a child_now_ms() time, 0 for none.
 * Returns 0 with *ret_status the exit status (128 + signal number when it was
 * killed by a signal), or -ENOENT when argv[0] cannot be found, -ETIMEDOUT
 * when the deadline passed (the process group was killed and reaped), another
 * negative errno of posix_spawn or waitpid.
 */
int child_run_logged(char *const argv[], int log_fd, int64_t deadline_ms, int *ret_status);

/*
 * Runs argv and hands its stdout (and stderr too with merge_stderr; else
 * stderr goes to /dev/null) to fn as it arrives.  A negative return of fn
 * kills the child and is returned; otherwise errors as child_run_logged().
 */
typedef int (*child_output_fn)(const char *buf, size_t len, void *userdata);
int child_run_stream(char *const argv[], bool merge_stderr, int64_t deadline_ms,
		     child_output_fn fn, void *userdata, int *ret_status);

/*
 * Runs argv and returns its stdout in *ret_out (caller frees; NUL-terminated),
 * stderr going to /dev/null.  More than max_output bytes fails with -EFBIG;
 * other errors as child_run_logged().
 */
int child_run_capture(char *const argv[], size_t max_output, int64_t deadline_ms, char **ret_out,
		      int *ret_status);

/*
 * The line worth quoting from output written to fd from offset start on: the
 * last that says what went wrong ("foo.c:1:2: error: ...", "*** No rule to
 * make target ..."), not make's own "make[1]: *** [...] Error 2" summary;
 * the last non-empty line when none does.  Reads at most the last 256 KiB.
 * Writes "" when there is no output.  0 or a negative errno of pread.
 */
int child_error_line(int fd, off_t start, char *buf, size_t size);

/* The log of a multi-step build (make, patch, ld...): where each step's output goes. */
struct child_log {
	int fd;              /* opened for appending */
	const char *path;    /* named in error messages */
	int64_t deadline_ms; /* child_now_ms() time for every step, 0: none */
	unsigned timeout_s;  /* the deadline's length, for messages */
};

/* Output quoted whole by child_run_step() with quote_output (newlines become ';'). */
#define CHILD_STEP_QUOTED_MAX 1024

/*
 * One step of a logged build: writes "### ARGV..." to the log, runs argv with
 * its output appended and waits.  On failure reterr reads
 * "STEP: failed with exit status N: LINE (log 'PATH')" (LINE from
 * child_error_line(), or with quote_output the step's whole output up to
 * CHILD_STEP_QUOTED_MAX, for short and precise tools such as patch(1)),
 * "STEP: timed out after N s (log 'PATH')" or "STEP: cannot run 'ARGV0'".
 * Returns 0, -EIO for a non-zero exit, or the errors of child_run_logged().
 */
int child_run_step(const struct child_log *log, char *const argv[], const char *step,
		   bool quote_output, char *reterr, size_t errsize);

#endif
