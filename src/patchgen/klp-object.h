/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Phase 1 of the livepatch module writer: from the patched relocatable
 * object and the symbols to include (elfdiff's CHANGED and NEW functions,
 * plus NEW data objects), writes a new relocatable x86_64 object holding
 * only those, with every reference to anything else rewritten per the 6.1
 * livepatch ELF ABI:
 *  - a symbol exported by vmlinux stays an ordinary undefined global;
 *  - anything else (local, non-exported global, exported by a module)
 *    becomes ".klp.sym.OBJ.NAME,SYMPOS" (st_shndx SHN_LIVEPATCH) and its
 *    relocation moves to ".klp.rela.OBJ.<section>" (SHF_RELA_LIVEPATCH).
 * Anonymous read-only data the included code uses (string literals, jump
 * tables, constants) is copied; named data that is not included (static
 * locals included) is referenced, so the running kernel's instance is kept.
 *
 * Not handled yet (refused with -EOPNOTSUPP): special sections (__bug_table,
 * __ex_table, ORC, __jump_table, .static_call_sites, .altinstructions,
 * __mcount_loc, .return_sites, .retpoline_sites, ...) that refer to
 * included code, COMDAT members, relocation types the kernel's
 * apply_relocate_add() does not know.
 *
 * No global state; not thread-safe per object.
 */
#ifndef TUXTAPE_KLP_OBJECT_H
#define TUXTAPE_KLP_OBJECT_H

#include <stddef.h>

#include "elfdiff.h"
#include "symtab.h"

/* Values from include/uapi/linux/elf.h (6.1). */
#define KLP_SHF_RELA_LIVEPATCH 0x00100000u
#define KLP_SHN_LIVEPATCH 0xff20u

/* The sympos to use for a name the target has several times (see symtab_sympos()). */
struct klp_sympos_hint {
	const char *name;
	unsigned long sympos;
};

struct klp_object_options {
	/* "vmlinux" or the patched module's kernel name (no '.', at most 55 bytes). */
	const char *objname;
	/* Symbols and exports of the running target; required. */
	const struct symtab *symtab;
	/* Optional: positions for names that are not unique in objname. */
	const struct klp_sympos_hint *hints;
	size_t n_hints;
};

/*
 * Names of the special sections of patched that refer to, or are referred
 * to by, the sections of the included symbols: what phase 1 cannot carry.
 * *ret is a new strv (caller frees with strv_free()), empty when none.
 * Errors: -ENOENT when an include name is not a defined FUNC/OBJECT of
 * patched, -EINVAL on an empty include list, -ENOMEM.
 */
int klp_object_special_sections(const struct elf_object *patched, char *const *include,
				char ***ret);

/*
 * Writes the object to path (replaced atomically).  include is a
 * NULL-terminated list of FUNC/OBJECT names defined in patched.  Errors,
 * each with reterr saying what and which symbol:
 *  -EINVAL       empty include list, missing/invalid objname or symtab;
 *  -ENOENT       an include name is not defined in patched, or a symbol the
 *                code refers to is neither exported nor in the target's
 *                symbol table;
 *  -ENOTUNIQ     such a symbol is in the target more than once and no hint
 *                gives its position;
 *  -ENAMETOOLONG a .klp.sym name would exceed the kernel's limits;
 *  -EOPNOTSUPP   something phase 1 does not handle (see above);
 *  -ENOMEM, or a negative errno from writing the file.
 */
int klp_object_write(const struct elf_object *patched, char *const *include,
		     const struct klp_object_options *opts, const char *path, char *reterr,
		     size_t errsize);

#endif
