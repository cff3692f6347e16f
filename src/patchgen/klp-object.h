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
 * tables, constants, gcc's __func__.N and CSWTCH.N) is copied; named data
 * that is not included (static locals included) is referenced, so the
 * running kernel's instance is kept.
 *
 * Special sections, for Debian 12's 6.1 x86_64 kernel: of each entry array
 * only the entries whose first field (the anchor) points into copied code
 * are kept, their relocations converted like the code's:
 *   __bug_table, __ex_table, .altinstructions (12 bytes), __jump_table,
 *   .parainstructions (16), .static_call_sites, __mcount_loc (8),
 *   .smp_locks, .retpoline_sites, .return_sites (4), and .orc_unwind_ip (4)
 *   with .orc_unwind (6) at the same indices.
 * Kept .altinstructions entries bring their .altinstr_replacement bytes;
 * code jumping to .altinstr_aux (static_cpu_has) brings those fragments;
 * dynamic debug descriptors (__dyndbg, 56 bytes) and WARN_ONCE flags
 * (.data.once, .data.unlikely) the code uses are copied fresh (a neighbour
 * may come along: a PC-relative operand can be followed by an immediate, so
 * the reference is taken to cover 4 more bytes).  Tracepoints
 * and static call trampolines are referenced by symbol.  Dropped silently:
 * .discard.*, .note.*, .comment, .GCC.command.line, and .init.* / .exit.*
 * that copied code does not refer to.  Special sections keep their names,
 * and every output section name is unique.
 *
 * Relocations in special sections to vmlinux symbols are applied when the
 * module loads (early enough); those to a module's symbols (patching a
 * module, or a module's export) are refused, because the module loader
 * uses the entries before the livepatch core resolves them.
 *
 * No global state; not thread-safe per object.
 */
#ifndef TUXTAPE_KLP_OBJECT_H
#define TUXTAPE_KLP_OBJECT_H

#include <jansson.h>
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
	/*
	 * Optional, owned by the caller: on success the writer sets
	 * "special_sections" {NAME: {"kept": N, "dropped": N}} (entry arrays
	 * and __dyndbg descriptors present in the patched object),
	 * "klp_symbols" [".klp.sym...", ...], "exported_symbols" [names the
	 * module loader resolves] and "copied_data" [symbol names, or section
	 * names for anonymous data, of data copied without being included].
	 */
	json_t *report;
};

/*
 * Names of the special sections of patched that refer to, or are referred
 * to by, the sections of the included symbols (for reports).
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
 *  -EBADMSG      a special section whose size is not a multiple of its
 *                entry size (or whose sh_entsize differs), .orc_unwind_ip
 *                and .orc_unwind of different lengths, an entry whose
 *                relocation crosses its end;
 *  -EOPNOTSUPP   what cannot be carried: an included symbol in a COMDAT
 *                group, a shared or a special section; copied code that
 *                refers to __init/__exit code or data; a __jump_table or
 *                .static_call_sites key (or any special-section reference)
 *                that lives in a module; entries in special sections not
 *                used by this target (__patchable_function_entries,
 *                .call_sites, .printk_index, .ibt_endbr_seal, .kcfi_traps,
 *                .fixup, __dyndbg_classes); a reference into a section
 *                holding several symbols that cannot be told apart;
 *                relocation types apply_relocate_add() does not know;
 *                two output sections of one name;
 *  -ENOMEM, or a negative errno from writing the file.
 */
int klp_object_write(const struct elf_object *patched, char *const *include,
		     const struct klp_object_options *opts, const char *path, char *reterr,
		     size_t errsize);

#endif
