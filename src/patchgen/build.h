/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The analysing half of "patch build": which objects a fix changes and
 * whether the changes can be livepatched.  For each .c file the patch
 * touches, the object is built twice with -ffunction-sections
 * -fdata-sections (kbuild single-target builds) and the pair is compared
 * with elfdiff.
 *
 * The pristine source tree is never written: the patched side is a shadow
 * tree under work_dir in which only the directories on the way to a touched
 * file are real (holding symlinks to the pristine entries) and each touched
 * file is a real copy, made before patch(1) runs, so patch cannot write
 * through a symlink.  Layout of work_dir (owned by the caller, emptied of
 * these entries on every call):
 *
 *   shadow/        the patched source tree (mostly symlinks)
 *   orig-obj/      a real copy of build_dir, the O= tree of the original
 *                  build (build_dir itself is never built in: analyses of
 *                  the same kernel may run side by side)
 *   patched-obj/   a real copy of build_dir, the O= tree of the patched
 *                  build (a copy, not hardlinks: kbuild rewrites its
 *                  Makefile, .cmd files and objects in place, which would
 *                  write through hardlinks into build_dir)
 *   orig/PATH.o    the original objects, copied out of build_dir
 *   patched/PATH.o the patched objects
 *   build.log      what make and patch printed
 *
 * Nothing here logs except at debug level.
 */
#ifndef TUXTAPE_PATCHGEN_BUILD_H
#define TUXTAPE_PATCHGEN_BUILD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "elfdiff.h"
#include "macro.h"

/* Largest patch file read. */
#define PATCH_MAX_SIZE (64u * 1024 * 1024)
/* Most files one analysis accepts across all patches. */
#define PATCH_MAX_FILES 4096

/* The flags both builds compile with, as one make argument. */
#define PATCH_BUILD_KCFLAGS "KCFLAGS=-ffunction-sections -fdata-sections"

struct patch_analyse_options {
	const char *source_dir; /* pristine kernel source, never modified (required) */
	const char *build_dir;	/* its prepared O= tree (kernel_prepare()'s build_dir, required) */
	char *const *make_args; /* "ARCH=x86" "CC=gcc-12" ... as prepared; may be NULL */
	const char *work_dir;	/* scratch directory owned by us (created when missing, required) */
	char *const *patches;	/* paths of unified diffs, applied in order with -p1 (required) */
	unsigned timeout_s;	/* bound on all child processes together; 0: none */
	unsigned jobs;		/* make -j; 0: none given */
};

struct patch_refusal {
	char *what;   /* a file or symbol name */
	char *reason; /* why it cannot be livepatched */
};

struct patch_file_analysis {
	char *path;	     /* as in the patch, without the a/ b/ prefix */
	char *object;	     /* PATH.o relative to the tree; NULL when nothing was built */
	/*
	 * What the object is linked into: "vmlinux", or the module's name
	 * (KBUILD_MODNAME: for a module of several objects, the module's)
	 * when kbuild compiled it with -DMODULE, read from the .PATH.o.cmd
	 * kbuild wrote in the patched O= tree.  NULL when nothing was built or
	 * kbuild left no .cmd file (then refused).
	 */
	char *objname;
	char *orig_object;    /* absolute path of work_dir/orig/PATH.o; NULL when not built */
	char *patched_object; /* absolute path of work_dir/patched/PATH.o; NULL when not built */
	char **funcs_changed; /* strv, never NULL (also for the others below) */
	char **funcs_new;
	char **funcs_removed;
	char **data_changed;
	char **data_new;
	char **data_removed;
	/* Functions and data that compare as unchanged only because __LINE__ values moved. */
	char **line_only;
	struct patch_refusal *refusals;
	size_t n_refusals;
	/*
	 * The patch's line map of path (see struct elfdiff_options), for
	 * patch_file_open_objects(); NULL when nothing was built.
	 */
	unsigned *line_map;
	size_t n_lines;
};

struct patch_analysis {
	struct patch_file_analysis *files; /* in the order the patches name them */
	size_t n_files;
	char **ignored;	    /* strv: touched files that never reach the kernel (tools/, ...) */
	bool livepatchable; /* something changed and nothing was refused */
};

struct patch_analysis *patch_analysis_free(struct patch_analysis *a);
DEFINE_CLEANUP_FUNC(struct patch_analysis, patch_analysis_free)

/*
 * Analyses the patches against the tree.  Refusals are part of a
 * successful result, not errors: header changes (the objects including a
 * header cannot all be found: the prepared tree holds no .cmd files of the
 * kernel's objects), assembly, build-system changes, new, removed or renamed
 * .c files, files of the ftrace and livepatch core (kernel/trace/,
 * kernel/livepatch/, arch/x86/kernel/ftrace.c), changed existing data,
 * changed __init/__exit functions or __initdata, functions without
 * __fentry__ (notrace), structure layouts that changed, static locals that
 * cannot be matched to the running kernel's, objects kbuild gives no
 * .cmd file for, and no change in the compiled code.  Both objects are
 * correlated (elfdiff_correlate()) and compared with the patch's line map,
 * so renumbered static locals and clones and moved __LINE__ values are no
 * change.
 *
 * Returns 0 and *ret (free with patch_analysis_free()), or a negative errno
 * with reterr saying what:
 *   -EINVAL     a required option is missing
 *   -ENOENT     a patch file, the source or build tree does not exist, make,
 *               cp or patch cannot be found
 *   -EBADMSG    a patch is malformed, names no file, or a path that leaves
 *               the tree (absolute, ".."), or a quoted path
 *   -EFBIG      a patch beyond PATCH_MAX_SIZE or more than PATCH_MAX_FILES files
 *   -EIO        patch did not apply (its output quoted), or a make step
 *               failed (its error line quoted, log named)
 *   -ETIMEDOUT  the child processes outlived timeout_s
 * or another negative errno of the system calls or elfdiff.
 */
int patch_analyse(const struct patch_analyse_options *o, struct patch_analysis **ret,
		  char *reterr, size_t errsize);

/*
 * Opens f's saved original and patched objects and correlates them the way
 * the analysis did (elfdiff_correlate() with f's line map), so the patched
 * object's static locals and clones carry the running kernel's names: what
 * the module writer needs.  Errors: -ENOENT when f has no objects, those of
 * elf_object_open() and elfdiff_correlate(), with reterr saying which file.
 */
int patch_file_open_objects(const struct patch_file_analysis *f, struct elf_object **ret_orig,
			    struct elf_object **ret_patched, char *reterr, size_t errsize);

/*
 * The JSON form: {"files": [{"path", "object", "objname", "orig_object",
 * "patched_object" (each a string or null), "functions": {"changed",
 * "new", "removed"}, "data": {"changed", "new", "removed"}, "line_only",
 * "refusals": [{"what", "reason"}]}], "ignored": [...], "livepatchable"}.
 * Returns a new reference, or NULL on OOM.
 */
json_t *patch_analysis_to_json(const struct patch_analysis *a);

#endif
