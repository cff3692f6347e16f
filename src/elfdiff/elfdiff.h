/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Function-by-function comparison of two relocatable x86_64 objects built
 * from the same translation unit before and after a fix (the first layer of
 * the livepatch generator).  Objects are expected to be built with
 * -ffunction-sections -fdata-sections.
 *
 * Not thread-safe per object; distinct objects may be used from distinct
 * threads.
 */
#ifndef TUXTAPE_ELFDIFF_H
#define TUXTAPE_ELFDIFF_H

#include <errno.h>
#include <stddef.h>

#include "macro.h"

/* Objects larger than this are refused with -EFBIG. */
#define ELF_OBJECT_MAX_SIZE (512u * 1024 * 1024)

struct elf_object;

/*
 * Reads and indexes the object at path.  Errors: -EFBIG beyond
 * ELF_OBJECT_MAX_SIZE, -EBADMSG (reterr says what) when the file is not ELF,
 * is truncated or inconsistent, is not ET_REL or not x86_64 ELFCLASS64
 * little-endian; -ENOMEM; other negative errno from reading the file.
 */
int elf_object_open(const char *path, struct elf_object **ret, char *reterr, size_t errsize);
struct elf_object *elf_object_free(struct elf_object *o);
DEFINE_CLEANUP_FUNC(struct elf_object, elf_object_free)

enum symbol_change {
	SYM_SAME,
	SYM_CHANGED,
	SYM_NEW,
	SYM_REMOVED,
	_SYM_CHANGE_MAX,
	_SYM_CHANGE_INVALID = -EINVAL,
};

const char *symbol_change_to_string(enum symbol_change c);
enum symbol_change symbol_change_from_string(const char *s);

enum elfdiff_flags {
	/* The function lives in .init.text (or another .init section): not patchable. */
	ELFDIFF_FLAG_INIT = 1 << 0,
	/* FUNC without a __fentry__ call at its entry: notrace, so not patchable. */
	ELFDIFF_FLAG_NO_FENTRY = 1 << 1,
};

struct elfdiff_entry {
	const char *name;	/* patched name for SAME/CHANGED/NEW, orig name for REMOVED */
	unsigned type;		/* STT_FUNC or STT_OBJECT */
	unsigned bind;		/* STB_LOCAL, STB_GLOBAL, STB_WEAK */
	enum symbol_change change;
	const char *section;	/* section holding the symbol (patched side when present) */
	unsigned flags;		/* enum elfdiff_flags, from the patched side when present */
	char reason[160];	/* why CHANGED; empty otherwise */
};

struct elfdiff_report;

/*
 * Compares every FUNC and OBJECT symbol of orig with its counterpart in
 * patched.  The report owns its strings and does not refer to the objects.
 * Errors: -ENOMEM.
 */
int elfdiff_compare(const struct elf_object *orig, const struct elf_object *patched,
		    struct elfdiff_report **ret, char *reterr, size_t errsize);
struct elfdiff_report *elfdiff_report_free(struct elfdiff_report *r);
DEFINE_CLEANUP_FUNC(struct elfdiff_report, elfdiff_report_free)

size_t elfdiff_report_count(const struct elfdiff_report *r);
/* NULL when i is out of range. */
const struct elfdiff_entry *elfdiff_report_entry(const struct elfdiff_report *r, size_t i);
/* First entry with this name, or NULL. */
const struct elfdiff_entry *elfdiff_report_find(const struct elfdiff_report *r, const char *name);

/*
 * Names of the entries of the given symbol type (STT_FUNC/STT_OBJECT) and
 * change, as a new NULL-terminated strv the caller frees with strv_free().
 * *ret is an empty strv when nothing matches.  Errors: -ENOMEM.
 */
int elfdiff_report_names(const struct elfdiff_report *r, unsigned type, enum symbol_change change,
			 char ***ret);

#endif
