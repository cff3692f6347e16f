/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running (target) kernel's symbols as the livepatch writer needs them:
 * which object defines a name, how the kernel would number same-named
 * symbols (the klp "sympos"), and which names are exported.  Filled from a
 * System.map or /proc/kallsyms text, from a module's .ko and from
 * Module.symvers.  Every symbol keeps its load order, object, address and
 * type letter.
 *
 * Not thread-safe while loading; lookups on a loaded table may run
 * concurrently.
 */
#ifndef TUXTAPE_SYMTAB_H
#define TUXTAPE_SYMTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

struct elf_object;

/* Inputs larger than this are refused with -EFBIG. */
#define SYMTAB_INPUT_MAX (256u * 1024 * 1024)
/* Kernel limits (KSYM_NAME_LEN 512, MODULE_NAME_LEN 56 with the NUL). */
#define SYMTAB_NAME_MAX 511
#define SYMTAB_OBJNAME_MAX 55

struct symtab;

/* Returns NULL on OOM. */
struct symtab *symtab_new(void);
struct symtab *symtab_free(struct symtab *st);
DEFINE_CLEANUP_FUNC(struct symtab, symtab_free)

/*
 * Adds the lines of a System.map or /proc/kallsyms text ("ADDR TYPE NAME"
 * with an optional "[MODULE]" fourth field; lines without one belong to
 * "vmlinux").  Order matters: symbols are numbered in the order they are
 * added, which is the order the kernel's kallsyms iteration sees them.
 * Errors: -EFBIG beyond SYMTAB_INPUT_MAX, -EBADMSG on a malformed line
 * (reterr gets "line N: what"), -ENOMEM.  On error the table may hold the
 * lines before the bad one.
 */
int symtab_load_kallsyms(struct symtab *st, const char *text, size_t len, char *reterr,
			 size_t errsize);

/*
 * Adds the exports of a Module.symvers text ("CRC\tNAME\tMODULE\tEXPORT_TYPE"
 * with an optional "\tNAMESPACE").  MODULE is "vmlinux" or a module path,
 * stored in kernel form (basename, '-' as '_').  Same errors as above.
 */
int symtab_load_symvers(struct symtab *st, const char *text, size_t len, char *reterr,
			size_t errsize);

/* Both loaders on a file (read with read_file_bounded()); errors as above plus I/O errors. */
int symtab_load_kallsyms_file(struct symtab *st, const char *path, char *reterr, size_t errsize);
int symtab_load_symvers_file(struct symtab *st, const char *path, char *reterr, size_t errsize);

/*
 * Adds the symbols of a kernel module file (.ko; xz, zstd or gzip
 * compressed ones are decompressed with the xz, zstd or gzip program) as
 * object objname, in the order of its ELF symbol table, which is the order
 * klp_find_object_symbol() counts a module's symbols in: undefined, section
 * and nameless symbols are skipped.  A symbol the kernel drops from the
 * module's table once its init has run (init sections, absolute symbols,
 * sections not loaded) is kept apart: it counts only while the module is
 * being loaded, and symtab_sympos() refuses positions that differ between
 * the two moments.  Addresses are the st_value offsets within sections.
 * STT_FILE symbols mark where each translation unit's local symbols begin
 * (see symtab_sympos_near()).
 * Errors (reterr says what and where): -EINVAL for an objname the kernel
 * cannot have (empty, '.', over SYMTAB_OBJNAME_MAX), -EEXIST when objname
 * already has symbols in st, -EBADMSG when the file is not a 64-bit
 * little-endian relocatable ELF kernel module (no .modinfo) or its tables
 * are out of bounds, -EFBIG beyond SYMTAB_INPUT_MAX (also decompressed),
 * -ENOENT when the file or the decompressor is missing, -EIO when the
 * decompressor fails, -ENOMEM.  On error st is unchanged.
 */
int symtab_load_module_elf(struct symtab *st, const char *objname, const char *ko_path,
			   char *reterr, size_t errsize);

/* Number of symbols loaded (all objects; a module's STT_FILE markers are not symbols). */
size_t symtab_size(const struct symtab *st);

struct symtab_sym {
	uint64_t addr;
	char type;	/* the kallsyms letter: 't', 'T', 'd', 'b', 'r', 'W', ... */
	bool load_only; /* a module symbol klp sees only while the module loads */
};

/*
 * The nth (0-based, load order) symbol called name in objname.  -ENOENT
 * when there are not that many.
 */
int symtab_lookup(const struct symtab *st, const char *objname, const char *name, size_t nth,
		  struct symtab_sym *ret);

/*
 * When name is exported, returns 1 and (if ret_objname is given) the
 * exporting object ("vmlinux" or a module name, owned by st); otherwise 0.
 */
int symtab_exported(const struct symtab *st, const char *name, const char **ret_objname);

/* Number of symbols called name in objname (0 when none), load-time-only ones included. */
size_t symtab_count(const struct symtab *st, const char *objname, const char *name);

/*
 * The klp sympos of name in objname, as klp_find_object_symbol() counts:
 * 0 when the name occurs exactly once; otherwise the 1-based position,
 * among the same-named symbols of that object in load order, of the one at
 * address addr.  addr 0 means "the name must be unique".  Errors: -ENOENT
 * when there is no such symbol (or none at addr, or it exists only while
 * its module is being loaded), -ENOTUNIQ when addr is 0 and the name is not
 * unique, when several same-named symbols share addr, or when the position
 * differs between a module's loading and its life after init (see
 * symtab_load_module_elf()).
 */
int symtab_sympos(const struct symtab *st, const char *objname, const char *name, uint64_t addr,
		  unsigned long *ret);

/*
 * The klp sympos of the local symbol name that the translation unit orig
 * (the unpatched object, as built for the patch) defines, when objname has
 * several symbols of that name.  The link keeps each object's symbols
 * together, so the right one is found through orig's other symbols that
 * the target has only once ("anchors"):
 *  - vmlinux (kallsyms, address order): each output section of the link
 *    holds one contiguous run per object, so a candidate lying between two
 *    anchors of the same section kind (".text", ".text.unlikely", ".data",
 *    ".bss", ".init.text", ... with -ffunction-sections/-fdata-sections
 *    suffixes removed) is ours; a name before or after every anchor is
 *    found by walking from the outermost anchor over the names orig defines
 *    in between, in orig's order, which must match exactly; with no anchor
 *    of that kind, the one candidate around which orig's whole sequence of
 *    names of that kind lies (it needs at least one other name);
 *  - modules loaded with symtab_load_module_elf(): the candidate whose
 *    STT_FILE block holds one of orig's local anchors, or else the only
 *    candidate in a block named like orig's STT_FILE symbol.
 * A name that is unique in objname gives 0 without looking at orig.
 * Returns 0 and *ret, or -ENOENT (no such symbol in objname, or orig does
 * not define name), -ENOTUNIQ when it stays ambiguous, -ENOMEM; reterr says
 * which and why.
 */
int symtab_sympos_near(const struct symtab *st, const char *objname, const char *name,
		       const struct elf_object *orig, unsigned long *ret, char *reterr,
		       size_t errsize);

#endif
