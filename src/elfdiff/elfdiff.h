/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Function-by-function comparison of two relocatable x86_64 objects built
 * from the same translation unit before and after a fix (the first layer of
 * the livepatch generator).  Objects are expected to be built with
 * -ffunction-sections -fdata-sections.
 *
 * Correlation: GCC numbers static locals ("count.3"), local clones
 * ("foo.isra.2", "foo.constprop.0", "foo.part.1") and __UNIQUE_ID_ names per
 * compilation, and the numbers shift with unrelated edits.  A patched symbol
 * is the twin of an original one when, ignoring those numbers, the name is
 * unique in both objects (a static local must also not have moved to another
 * function); a name several static locals share is matched by the functions
 * that refer to them, then by equal contents; other shared names must match
 * exactly.
 *
 * Line numbers: a patch that adds lines moves the __LINE__ values baked
 * into code and data.  Given the patch's line map, differences that are
 * exactly such moves are no change (ELFDIFF_FLAG_LINE_ONLY): the 32-bit
 * immediate of "mov $imm,%reg" / "movl $imm,mem" (how line arguments reach
 * __might_sleep(), __warn_printk(), ext4's __ext4_error() and the like), and
 * the line field of dynamic debug descriptors (section __dyndbg).  Both
 * values must be line numbers of the file and the new one exactly where the
 * patch moved the old one; any other byte difference is a change.
 * (__bug_table entries are not compared: they are not symbols.)
 *
 * Not thread-safe per object; distinct objects may be used from distinct
 * threads.
 */
#ifndef TUXTAPE_ELFDIFF_H
#define TUXTAPE_ELFDIFF_H

#include <errno.h>
#include <stdbool.h>
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

/*
 * GCC's split-off unlikely code of a function ("f.cold", "f.isra.0.cold"):
 * entered by jumps from its function only, it travels with it and is
 * never hooked by ftrace on its own.
 */
bool elfdiff_is_cold_part(const char *name);

const char *symbol_change_to_string(enum symbol_change c);
enum symbol_change symbol_change_from_string(const char *s);

enum elfdiff_flags {
	/* In .init.text/.init.data (or another .init section): has run / is freed. */
	ELFDIFF_FLAG_INIT = 1 << 0,
	/* FUNC without a __fentry__ call at its entry: notrace, so not patchable. */
	ELFDIFF_FLAG_NO_FENTRY = 1 << 1,
	/* In .exit.text/.exit.data: module unload code, notrace. */
	ELFDIFF_FLAG_EXIT = 1 << 2,
	/* SAME although bytes differ: only __LINE__ values moved (see above). */
	ELFDIFF_FLAG_LINE_ONLY = 1 << 3,
	/*
	 * Per-site state the compiler or a kernel macro emits (WARN_ONCE flags
	 * in .data.once, __warned, __already_done, lockdep __key, ratelimit _rs,
	 * __func__, CSWTCH switch tables, dynamic debug descriptors): a patch may
	 * carry fresh copies, so a change is no change of existing state.
	 */
	ELFDIFF_FLAG_SPECIAL_STATIC = 1 << 4,
};

struct elfdiff_entry {
	const char *name;	/* patched name for SAME/CHANGED/NEW, orig name for REMOVED */
	const char *orig_name;	/* the original's name (differs after renumbering); NULL for NEW */
	unsigned type;		/* STT_FUNC or STT_OBJECT */
	unsigned bind;		/* STB_LOCAL, STB_GLOBAL, STB_WEAK */
	enum symbol_change change;
	const char *section;	/* section holding the symbol (patched side when present) */
	unsigned flags;		/* enum elfdiff_flags, from the patched side when present */
	char reason[160];	/* why CHANGED; empty otherwise */
};

struct elfdiff_report;

struct elfdiff_options {
	/*
	 * The patch's line map of the translation unit's source file:
	 * line_map[l] is the patched line of original line l, or 0 when the
	 * patch changed or removed that line, for 1 <= l < n_lines
	 * (line_map[0] is unused).  NULL: no line-number tolerance.
	 */
	const unsigned *line_map;
	size_t n_lines;
};

/*
 * Compares every FUNC and OBJECT symbol of orig with its twin in patched
 * (see "Correlation" above).  opts may be NULL.  The report owns its
 * strings and does not refer to the objects.  Errors: -EINVAL (a NULL
 * object), -ENOMEM.
 */
int elfdiff_compare_opts(const struct elf_object *orig, const struct elf_object *patched,
			 const struct elfdiff_options *opts, struct elfdiff_report **ret,
			 char *reterr, size_t errsize);
/* elfdiff_compare_opts() without options. */
int elfdiff_compare(const struct elf_object *orig, const struct elf_object *patched,
		    struct elfdiff_report **ret, char *reterr, size_t errsize);

/*
 * Renames, in memory, every symbol of patched that has a twin in orig under
 * another name to the twin's name ("count.7" -> "count.3",
 * "f.isra.4" -> "f.isra.1"), and the section holding it when it is that
 * symbol's own -ffunction-sections/-fdata-sections section (with its
 * relocation section).  A patched symbol without a twin whose name an
 * original symbol also has is renamed to a fresh number, so a name never
 * means two things.  Afterwards names say what is the same: the module
 * writer refers to the running kernel's instance of a static local by the
 * name it has there.  Idempotent; the report of a later elfdiff_compare()
 * is unchanged, except that names are the original's.
 *
 * Returns the number of symbols renamed, or -EINVAL, -ENOMEM.
 */
int elfdiff_correlate(const struct elf_object *orig, struct elf_object *patched,
		      const struct elfdiff_options *opts, char *reterr, size_t errsize);

/*
 * Compares the layouts of the named structure and union types (a typedef
 * name for an anonymous one) in the DWARF of both objects: byte size,
 * member names, offsets (bit offsets of bit fields) and member sizes.  A
 * type only one object has is no change.  *ret is a new strv of
 * descriptions, one per changed type, e.g. "struct foo layout changed
 * (size 16 -> 24)" or "... (member 'b' moved from +4 to +8)"; empty when
 * nothing changed.  Errors: -ENODATA when an object has no DWARF
 * (.debug_info), -EBADMSG when libdw cannot read it (reterr says which),
 * -ENOMEM.
 */
int elfdiff_struct_layouts(const struct elf_object *orig, const struct elf_object *patched,
			   char ***ret, char *reterr, size_t errsize);
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
