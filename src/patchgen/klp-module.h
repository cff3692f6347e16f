/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Phase 2 of the livepatch module writer: from the objects klp_object_write()
 * made (one per changed translation unit), a loadable livepatch module for
 * the prepared kernel.
 *
 * kbuild must link the module (modpost gives it the target's vermagic and
 * symbol CRCs), but neither ld nor modpost understand SHN_LIVEPATCH symbols
 * and SHF_RELA_LIVEPATCH sections.  So they travel through the link in a
 * form the linker keeps and adjusts:
 *
 *  1. "carry": each object is rewritten without its .klp.rela sections and
 *     .klp.sym symbols; every klp relocation becomes a 24-byte record in
 *     tuxtape_klp_relocs {u64 place; u32 type; u32 name; i64 addend}, where
 *     place has an R_X86_64_64 relocation against the patched place (ld -r
 *     rewrites it to the place's final section and offset) and name is an
 *     offset into tuxtape_klp_strings (the .klp.sym name).  Each replacement
 *     function also gets a global alias __tuxtape_func_K_N for the stub.
 *  2. kbuild links those objects with a generated stub (klp_func/klp_object/
 *     klp_patch, MODULE_INFO(livepatch, "Y")) as an external module of the
 *     prepared tree: make -C SOURCE O=BUILD M=WORK/mod modules.
 *  3. "restore": the linked .ko gets the .klp.sym symbols appended to its
 *     symtab and one .klp.rela.OBJ.SECTION (SHT_RELA, SHF_ALLOC |
 *     SHF_RELA_LIVEPATCH) per patched section, written to a new file that
 *     replaces the output atomically.
 * Optionally the module is then signed (module-sign.c, libcrypto).
 *
 * Work directory layout (WORK, owned by the caller; emptied of these):
 *   mod/          Kbuild, livepatch stub, objK.o_shipped, the linked module
 *   build.log     what make printed
 */
#ifndef TUXTAPE_KLP_MODULE_H
#define TUXTAPE_KLP_MODULE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* Longest module name (the kernel's MODULE_NAME_LEN less the NUL, kept below 56). */
#define KLP_MODULE_NAME_MAX 55
/* Most replacement functions one module carries. */
#define KLP_MODULE_FUNCS_MAX 4096

struct klp_module_func {
	const char *old_name;	  /* the function in the running kernel */
	unsigned long old_sympos; /* its klp sympos (0: unique) */
	const char *new_symbol;	  /* its replacement's symbol in the object */
};

struct klp_module_object {
	const char *objname;	  /* "vmlinux" or the patched module's kernel name */
	const char *object;	  /* path of a klp_object_write() output */
	const struct klp_module_func *funcs;
	size_t n_funcs;
};

struct klp_module_options {
	const char *name;	/* module name: [a-z0-9_], at most KLP_MODULE_NAME_MAX (required) */
	const char *source_dir; /* the prepared kernel's source (required) */
	const char *build_dir;	/* its prepared O= tree (required) */
	char *const *make_args; /* as prepared ("ARCH=x86" "CC=gcc-12" ...), may be NULL */
	const char *work_dir;	/* scratch directory (required) */
	const char *output;	/* where the .ko goes, replaced atomically (required) */
	bool replace;		/* atomic replace (cumulative patch) */
	const char *description; /* MODULE_DESCRIPTION, may be NULL */
	const char *sign_key, *sign_cert; /* both or neither: sign (module-sign.h) */
	unsigned timeout_s;	/* bound on make; 0: none */
};

/*
 * Builds the module.  When report is non-NULL it gets "module" (name),
 * "objects" [{"objname", "functions": [{"old_name", "sympos"}]}],
 * "klp_relocations" (count), "klp_symbols" (names), "vermagic", "signed".
 * Errors, with reterr saying what and where:
 *   -EINVAL      a required option is missing, a bad module or object name,
 *                no functions, only one of sign_key/sign_cert
 *   -ENOENT      an object file, make, the key or the certificate is missing, or a
 *                replacement symbol is not defined in its object
 *   -EBADMSG     an object is not a relocatable x86_64 ELF file or has a
 *                malformed .klp.rela section
 *   -E2BIG       more than KLP_MODULE_FUNCS_MAX functions
 *   -EKEYREJECTED  the signing key is unreadable or does not match the certificate
 *   -EIO         make or signing failed (error line quoted, log named), or
 *                the linked module lost a relocation
 *   -ETIMEDOUT   make outlived timeout_s
 * or another negative errno of the system calls or libelf.
 */
int klp_module_build(const struct klp_module_options *o, const struct klp_module_object *objs,
		     size_t n_objs, json_t *report, char *reterr, size_t errsize);

/*
 * Steps 1 and 3 on their own (for tests): klp_module_carry() rewrites one
 * object (index k names the aliases); klp_module_restore() turns a linked
 * module's carried records back into klp sections.  Same errors as above.
 */
int klp_module_carry(const char *in, const char *out, unsigned k,
		     const struct klp_module_func *funcs, size_t n_funcs, char *reterr,
		     size_t errsize);
int klp_module_restore(const char *in, const char *out, size_t *ret_n_relocs, char *reterr,
		       size_t errsize);

#endif
