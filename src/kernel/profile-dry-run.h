/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The build profile of a configured but unbuilt tree, from what
 * `make -n -k vmlinux modules` (or a `make V=1` build log) says it would run:
 * every kernel compile "gcc ... -D__KERNEL__ ... -c -o X.o X.c" (or .S) is a
 * compiled source, PROFILE_MODULE when compiled with -DMODULE (kbuild passes it
 * for exactly the objects of obj-m), PROFILE_BUILTIN otherwise.  Commands are
 * split as the shell would (quotes, ';', '&&', '|'), so the copy of each
 * compile command kbuild quotes for fixdep is not counted twice.  Headers are
 * not known (make -n compiles nothing).
 *
 * Paths are made relative to the source tree named by each compile's
 * "-include <srctree>/include/linux/kconfig.h"; relative paths are taken
 * from the directory of the innermost "make[N]: Entering directory '...'"
 * line (the build tree of an O= build).  Sources outside the trees, host
 * programs (no -D__KERNEL__), scripts/, tools/ and generated "*.mod.c" are
 * left out.
 */
#ifndef TUXTAPE_KERNEL_PROFILE_DRY_RUN_H
#define TUXTAPE_KERNEL_PROFILE_DRY_RUN_H

#include <stddef.h>

#include "profile.h"

/* Largest output parsed (allmodconfig prints about 1 GiB). */
#define DRY_RUN_MAX_OUTPUT (4ull * 1024 * 1024 * 1024)
/* Longer output lines are skipped (a kernel compile command is about 5 KiB). */
#define DRY_RUN_MAX_LINE (4u * 1024 * 1024)

/*
 * Adds the compiles in buf (len bytes of make output) to p.  Errors: -EBADMSG
 * with "line N: ..." in reterr for binary data, or when no kernel compile is
 * found at all; -EFBIG beyond DRY_RUN_MAX_OUTPUT; -ENOMEM.  On failure p may
 * hold part of the output: discard it.
 */
int kernel_profile_read_dry_run(struct kernel_profile *p, const char *buf, size_t len, char *reterr,
				size_t errsize);

/*
 * Runs, in a new temporary build tree (O=, removed afterwards) with config_path
 * copied to its .config and ARCH= set from the config:
 *	make -C source_dir O=TMP olddefconfig
 *	make -C source_dir O=TMP -jNCPUS prepare
 *	make -C source_dir O=TMP -n -k vmlinux modules
 * through posix_spawn (no shell; stdout and stderr read through a pipe,
 * LC_ALL=C, MAKEFLAGS of a calling make dropped) and parses the last one's
 * output as kernel_profile_read_dry_run() does, streaming.  "prepare" really
 * builds the generated headers and host tools (fixdep, modpost, objtool): make
 * -n cannot plan any object without them (6.1 x86_64 defconfig on 2 CPUs:
 * about 10 s, then 15 s and 25 MB of output for -n).  timeout_s bounds all
 * steps together (0: no bound); make and its children are killed when it
 * expires.  source_dir must be a clean source tree (kbuild refuses O= builds
 * from a configured tree: run "make mrproper" there) and the host needs what
 * a kernel build needs (gcc, make, flex, bison, bc, libelf-dev).
 *
 * Errors, each with the step named in reterr ("make olddefconfig: ..."):
 * -ENOENT (no Makefile in source_dir, no config file, no make), -EBADMSG
 * (config_path is not a kernel config, or no kernel compile in the output),
 * -EIO (make failed; reterr holds its last error line), -ETIMEDOUT, -EFBIG,
 * -ENOMEM, other negative errno of the system calls.
 */
int kernel_profile_run_dry_run(struct kernel_profile *p, const char *source_dir,
			       const char *config_path, unsigned timeout_s, char *reterr,
			       size_t errsize);

#endif
