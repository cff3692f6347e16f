/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running (target) kernel's symbols as the livepatch writer needs them:
 * which object defines a name, how the kernel would number same-named
 * symbols (the klp "sympos"), and which names are exported.  Filled from a
 * System.map or /proc/kallsyms text and from Module.symvers.
 *
 * Not thread-safe while loading; lookups on a loaded table may run
 * concurrently.
 */
#ifndef TUXTAPE_SYMTAB_H
#define TUXTAPE_SYMTAB_H

#include <stddef.h>
#include <stdint.h>

#include "macro.h"

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
 * When name is exported, returns 1 and (if ret_objname is given) the
 * exporting object ("vmlinux" or a module name, owned by st); otherwise 0.
 */
int symtab_exported(const struct symtab *st, const char *name, const char **ret_objname);

/* Number of symbols called name in objname (0 when none). */
size_t symtab_count(const struct symtab *st, const char *objname, const char *name);

/*
 * The klp sympos of name in objname, as klp_find_object_symbol() counts:
 * 0 when the name occurs exactly once; otherwise the 1-based position,
 * among the same-named symbols of that object in load order, of the one at
 * address addr.  addr 0 means "the name must be unique".  Errors: -ENOENT
 * when there is no such symbol (or none at addr), -ENOTUNIQ when addr is 0
 * and the name is not unique, or when several same-named symbols share addr.
 */
int symtab_sympos(const struct symtab *st, const char *objname, const char *name, uint64_t addr,
		  unsigned long *ret);

#endif
