/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the profile readers share about kbuild: splitting the shell commands
 * it runs into words, recognising a compiler invocation in them, and turning
 * the paths it writes (absolute in the source tree, relative to the build
 * tree, "../" from an O= subdirectory) into paths relative to the top of the
 * kernel source tree.  Purely lexical: nothing here touches the file system.
 */
#ifndef TUXTAPE_KERNEL_KBUILD_H
#define TUXTAPE_KERNEL_KBUILD_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/*
 * Calls fn once per simple command of the shell text (commands are separated
 * by ';', '&', '|', '&&', '||', '(', ')' and newlines outside quotes), with
 * the command's words after quote removal.  Backslash-newline joins lines.
 * Words are valid only during the call.  A negative return of fn stops the
 * walk and is returned; -ENOMEM on allocation failure; 0 otherwise.
 */
typedef int (*kbuild_command_fn)(size_t argc, char **argv, void *userdata);
int kbuild_shell_foreach(const char *text, size_t len, kbuild_command_fn fn, void *userdata);

/* True for what kbuild compiles (.c, .S, .s), also when #included by another such file. */
bool kbuild_is_source(const char *path);

/* One compiler invocation "cc ... -c -o X.o Y.c", pointers into the argv given. */
struct kbuild_compile {
	const char *output;    /* argument of -o, NULL when absent */
	const char *source;    /* the .c, .S or .s compiled */
	const char *kconfig_h; /* "-include" argument naming include/linux/kconfig.h, or NULL */
	bool module;	       /* -DMODULE: kbuild compiles module objects with it */
	bool kernel;	       /* -D__KERNEL__: kernel objects have it, host programs not */
};

/*
 * True when argv is a C compiler (gcc, cc, clang, cross and versioned names,
 * behind ccache/distcc and VAR=value prefixes) run with -c on a .c/.S/.s file.
 */
bool kbuild_compile_parse(size_t argc, char **argv, struct kbuild_compile *ret);

/*
 * The source tree named by an "-include" argument ending in
 * "include/linux/kconfig.h" ("/src/linux" for "/src/linux/include/linux/kconfig.h",
 * "." for "./include/linux/kconfig.h" or "include/linux/kconfig.h"); NULL when
 * arg does not name it.  Caller frees.
 */
char *kbuild_srctree_from_kconfig_h(const char *arg);

/*
 * The source tree holding a header under "include/linux/" ("/src/linux" for
 * "/src/linux/include/linux/types.h", "." for "include/linux/types.h"): the
 * fallback when kconfig.h is not named, as in DWARF line tables, which list
 * only files that contributed declarations.  NULL for other paths.  Caller
 * frees.
 */
char *kbuild_srctree_from_header(const char *path);

/*
 * True for compiled sources that belong to the kernel image or its modules:
 * false for scripts/ and tools/ (host programs), generated "*.mod.c" module
 * stubs and dot-files (".vmlinux.export.c", ".tmp_*").
 */
bool kbuild_source_wanted(const char *tree_path);

/*
 * Lexically normalised path: base/path when path is relative and base is
 * given, with "//", "." and ".." resolved ("/.." stays "/", leading ".." of a
 * relative path kept).  No trailing slash.  NULL on OOM.
 */
char *kbuild_path_normalize(const char *base, const char *path);

/*
 * Roots a path may live under, longest first after kbuild_roots_add(): the
 * build tree, the source tree (as named and as resolved by realpath) and
 * whatever the readers learn from the commands.  At most KBUILD_MAX_ROOTS.
 */
#define KBUILD_MAX_ROOTS 8
struct kbuild_roots {
	char *root[KBUILD_MAX_ROOTS]; /* absolute, normalised, owned */
	size_t n;
};

/*
 * Adds an absolute directory (normalised, duplicates ignored); -EINVAL for a
 * relative one, -E2BIG when full.
 */
int kbuild_roots_add(struct kbuild_roots *r, const char *dir);
void kbuild_roots_release(struct kbuild_roots *r);

/*
 * Path relative to the top of the tree: path (relative ones taken from base,
 * the directory the command ran in) stripped of the longest root it lies
 * under.  When base is NULL or relative too, a relative result that does not
 * climb out with ".." is taken as tree-relative.  Returns 1 and *ret (caller
 * frees) when inside a root, 0 when outside every root (system headers,
 * external modules), -ENOMEM.
 */
int kbuild_relativize(const struct kbuild_roots *r, const char *base, const char *path, char **ret);

#endif
