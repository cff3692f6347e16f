/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Preparing a registered kernel for patch builds ("kernel prepare"): a kbuild
 * output tree (make O=) that reproduces the target's objects, made once per
 * kernel and reused.  Layout under DATA/build/NAME/:
 *
 *   obj/                 the O= tree: the kernel's exact .config after
 *                        "make olddefconfig modules_prepare", the target's
 *                        Module.symvers (so modpost writes the running
 *                        kernel's CRCs) and its System.map when known
 *   target/              pristine copies of the target's Module.symvers and
 *                        symbol table (System.map or a saved /proc/kallsyms):
 *                        a vmlinux or modules build in obj/ overwrites its own
 *   prepare.log          everything make printed, step by step
 *   prepare.json         the state, written last and atomically (below)
 *
 * and DATA/build/.NAME.lock, the flock that serialises preparers of NAME.
 *
 * make runs as "make -C SOURCE O=OBJ ARCH=SRCARCH CC=CC KERNELRELEASE=REL
 * TARGET" (the arguments are in the state as "make_args"; later builds in
 * obj/ must pass the same ones).  KERNELRELEASE is the kernel's release, so
 * the generated utsrelease.h, and with it vermagic, matches the target even
 * when its config's LOCALVERSION does not say it (Debian passes it to make).
 *
 * The compiler: CC from the environment when set, else the program named at
 * the start of the config's CONFIG_CC_VERSION_TEXT when it is in PATH and
 * prints that text ("gcc-12" for Debian's kernels), else "gcc".  Its
 * "CC --version" first line is compared with CONFIG_CC_VERSION_TEXT as kbuild
 * computes it; a difference only in the program's name ("gcc" for "gcc-12")
 * is the same compiler and is not a mismatch.
 *
 * prepare.json: {"format": 1, "kernel", "release", "version", "arch",
 * "source_dir", "build_dir", "cc", "cc_version", "cc_mismatch",
 * "config_hash" (SHA256 of the config given), "dotconfig_hash" (of obj/.config
 * after make), "config_changes" (strv, see below), "make_args", "symvers" and
 * "symbol_table" ({"kind": "System.map"|"kallsyms", "source" (the file, or
 * "vm" for a kallsyms captured by booting the kernel), "path", "sha256"} or
 * null), "symbol_table_note", "prepared_at" (RFC 3339 UTC)}.
 * A state matching every input (kernel, release, version, source tree,
 * config, compiler version text, the SHA256 of Module.symvers and of the
 * symbol table) and whose obj/.config still has its recorded hash is reused
 * as is; one that differs only in the symbol table gets the new table in
 * target/ (and obj/System.map) without running make; anything else removes
 * the directory and prepares again.
 */
#ifndef TUXTAPE_PATCHGEN_PREPARE_H
#define TUXTAPE_PATCHGEN_PREPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "registry.h"

/* Largest Module.symvers, System.map or kallsyms file accepted (6.1 kallsyms: ~20 MB). */
#define PREPARE_MAX_SYMBOL_FILE (256u * 1024 * 1024)

/* State file format written by this version. */
#define PREPARE_STATE_FORMAT 1

struct prepare_options {
	const char *data_dir;	/* DATA: the tree goes to DATA/build/NAME/ (required) */
	const char *source_dir; /* the kernel's clean source tree, never modified (required) */
	const char *symvers;	/* the target's Module.symvers (Debian: linux-headers), or NULL */
	const char *kallsyms;	/* a saved /proc/kallsyms of the target, or NULL */
	const char *kallsyms_source; /* recorded as the symbol table's "source" instead of
				      * the kallsyms path ("vm": captured by booting it) */
	bool force;		/* accept a compiler mismatch and config changes, recording them */
	unsigned timeout_s;	/* bound on all make steps together; 0: none */
	unsigned jobs;		/* make -j; 0: the number of online CPUs */
};

struct prepare_result {
	char *dir;	       /* DATA/build/NAME */
	char *build_dir;       /* DATA/build/NAME/obj, the O= tree */
	char *state_path;      /* DATA/build/NAME/prepare.json */
	char *log_path;	       /* DATA/build/NAME/prepare.log */
	char *cc;	       /* the compiler make is given as CC= */
	char *cc_version;      /* its "--version" first line */
	char **make_args;      /* strv: "ARCH=x86", "CC=gcc-12", "KERNELRELEASE=..." */
	char *symvers_path;    /* pristine copy under target/, or NULL */
	char *symbol_table;    /* pristine System.map or kallsyms copy under target/, or NULL */
	char *symbol_table_kind; /* "System.map", "kallsyms" or NULL */
	char *symbol_table_source; /* the file it came from, or o->kallsyms_source, or NULL */
	char *symbol_table_note; /* why there is none ("no symbol table: install ..."), or NULL */
	char **config_changes; /* strv "CONFIG_X: old -> new" (only non-empty under force), never NULL */
	char **warnings;       /* strv of non-fatal notes, never NULL */
	bool cached;	       /* a valid earlier preparation was reused */
	bool cc_mismatch;      /* the compiler differs from the config's (only under force) */
};

/*
 * Prepares (or finds prepared) the build tree of kernel k: config_text is its
 * .config (NULL: k->config), k->system_map its System.map when it is a real
 * one (Debian's one-line placeholder is recognised and ignored: then the
 * symbol table comes from o->kallsyms, or symbol_table_note says how to get
 * one).  k->name names the directory; k->release, when set, is passed as
 * KERNELRELEASE.  Concurrent calls for one kernel are serialised by a lock.
 *
 * Returns 0 and fills *ret (release it with prepare_result_release()), or a
 * negative errno with a message in reterr naming the step:
 *   -EINVAL       no data_dir or source_dir, a kernel name unusable as a
 *                 directory name, no config
 *   -ENOENT       source_dir has no Makefile, make or the compiler is missing,
 *                 symvers or kallsyms does not exist
 *   -EBADMSG      the config is not a kernel config; symvers, System.map or
 *                 kallsyms is malformed (or kallsyms was saved without root
 *                 and has only zero addresses)
 *   -EPROTO       without o->force: the compiler's version text differs from
 *                 CONFIG_CC_VERSION_TEXT (or the config has none), both
 *                 quoted; or "make olddefconfig" changed the config (the
 *                 source or toolchain does not match the target), the changed
 *                 options listed
 *   -EIO          a make step failed: its exit status and last error line
 *   -ETIMEDOUT    the make steps outlived o->timeout_s
 *   -EFBIG        an input file beyond PREPARE_MAX_SYMBOL_FILE
 * or another negative errno of the system calls.  On failure no state file
 * exists; what make left in obj/ and prepare.log stay for inspection and are
 * removed by the next call.  *ret is written only on success.
 */
int kernel_prepare(const struct kernel_entry *k, const char *config_text,
		   const struct prepare_options *o, struct prepare_result *ret, char *reterr,
		   size_t errsize);

/* Frees what *r holds and zeroes it; a zeroed result is fine. */
void prepare_result_release(struct prepare_result *r);

/*
 * 1 when k has no real symbol table (no System.map, or Debian's one-line
 * placeholder), so the caller should find a kallsyms; 0 when its
 * System.map is one; a negative errno when it cannot be read.
 */
int prepare_needs_kallsyms(const struct kernel_entry *k);

#endif
