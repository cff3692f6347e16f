/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The build profile of a built kernel tree, from the ".foo.o.cmd" files kbuild
 * writes next to every object:
 *
 *	cmd_kernel/fork.o := gcc -Wp,-MMD,kernel/.fork.o.d ... -c -o kernel/fork.o kernel/fork.c
 *	source_kernel/fork.o := kernel/fork.c
 *	deps_kernel/fork.o := \
 *	  include/linux/kconfig.h \
 *	    $(wildcard include/config/CPU_BIG_ENDIAN) \
 *	  ...
 *
 * ("savedcmd_" since Linux 6.3; "source_" missing before 2.6.2x, where the
 * source is read from the command).  Every compiled kernel source becomes
 * PROFILE_BUILTIN or PROFILE_MODULE, every file in deps_ PROFILE_HEADER,
 * except .c/.S files there: those were #included by the object
 * (kernel/sched/build_policy.c includes rt.c, deadline.c, ...) and are
 * compiled into it, so they get its flag.
 *
 * Module or built-in: an object is a module object when its own compile
 * command carries -DMODULE (kbuild adds it exactly for objects of obj-m, the
 * same rule that decides THIS_MODULE) or when a "foo.mod" file lists it
 * (kbuild's list of the objects linked into module foo, the input of
 * modpost); every other kernel object is built in.  Both come from files
 * written with the object itself, so they cannot disagree with how it was
 * compiled, unlike the archive member lists, whose format changed across
 * versions (built-in.o, thin built-in.a, vmlinux.a).
 *
 * Paths: relative ones are taken from the build tree (make's working
 * directory); absolute ones are made relative to the source tree, which is
 * learned from the "-include <srctree>/include/linux/kconfig.h" every kernel
 * compile carries, from the Makefile kbuild writes into an O= build tree
 * ("include /src/linux/Makefile", or "MAKEARGS := -C /src/linux" before 5.x),
 * or from its "source" symlink; files generated into the build tree keep their
 * build-tree path ("include/generated/autoconf.h").  Files outside both trees
 * (system headers, external modules) are left out, as are host programs
 * (compiled without -D__KERNEL__), scripts/, tools/ and generated "*.mod.c".
 */
#ifndef TUXTAPE_KERNEL_PROFILE_BUILD_DIR_H
#define TUXTAPE_KERNEL_PROFILE_BUILD_DIR_H

#include <stddef.h>

#include "profile.h"

/* Largest .o.cmd read (a file with a thousand headers is about 100 KiB). */
#define BUILD_DIR_CMD_MAX_SIZE (16u * 1024 * 1024)
/* Most *.o.cmd files walked (allmodconfig has about 40,000). */
#define BUILD_DIR_MAX_CMD_FILES 1000000u
/* Deepest directory walked below the build tree. */
#define BUILD_DIR_MAX_DEPTH 32

struct kernel_build_dir_stats {
	size_t cmd_files; /* *.o.cmd files read */
	size_t builtin;	  /* distinct compiled sources added as built-in */
	size_t modules;	  /* distinct compiled sources added as module */
	size_t headers;	  /* distinct headers added */
	size_t included;  /* .c/.S #included by a compiled file, added with its flag */
	size_t host;	  /* compiles without -D__KERNEL__ (host programs), left out */
	size_t outside;	  /* sources outside the source and build trees, left out */
	size_t other;	  /* links, generated stubs, oversized or unreadable files, left out */
};

/*
 * Walks dir (symbolic links are not followed; .git is skipped) and adds what
 * its *.o.cmd files compiled to p.  *ret_stats (optional) is written on
 * success.  Errors: -ENOENT with "no *.o.cmd files under 'DIR': not a built
 * kernel tree" (or "... but no kernel compile commands") in reterr, -ENOTDIR,
 * -E2BIG beyond BUILD_DIR_MAX_CMD_FILES, open/read errors of dir as negative
 * errno, -ENOMEM.  On failure p may hold part of the tree: discard it.
 */
int kernel_profile_read_build_dir(struct kernel_profile *p, const char *dir, char *reterr,
				  size_t errsize, struct kernel_build_dir_stats *ret_stats);

#endif
