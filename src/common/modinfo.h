/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The .modinfo section of a kernel module (.ko): an ELF relocatable (32 or
 * 64 bit, either byte order) whose .modinfo holds NUL-separated "key=value"
 * strings.  Every offset and size is checked against the buffer.  Thread-safe;
 * nothing here logs.  Used by the archive (`archive add`), the fleet agent
 * (before finit_module) and the patch generator.
 */
#ifndef TUXTAPE_COMMON_MODINFO_H
#define TUXTAPE_COMMON_MODINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

#define MODINFO_NAME_MAX 56 /* the kernel's MODULE_NAME_LEN, NUL included */

struct modinfo {
	char *name;	/* name= (a module name: [A-Za-z0-9_-]) */
	char *vermagic; /* vermagic= or NULL */
	char *release;	/* first word of vermagic, or NULL */
	bool livepatch; /* livepatch=Y */
};

/*
 * Parses data.  Returns 0; -EBADMSG (err says what: not ELF, not a
 * relocatable, no .modinfo, a bad offset, no or an invalid name=), -ENOMEM.
 * The caller checks livepatch.  *ret is released with modinfo_release().
 */
int modinfo_parse(const void *data, size_t size, struct modinfo *ret, char err[],
		  size_t errsize);
void modinfo_release(struct modinfo *m);

/* Largest module modinfo_read_file() reads. */
#define MODINFO_FILE_MAX (256u * 1024 * 1024)

/* modinfo_parse() of the file at path; errors of read_file_bounded() too. */
int modinfo_read_file(const char *path, struct modinfo *ret, char err[], size_t errsize);

/* True when vermagic was built for release: its first word is exactly release. */
bool modinfo_vermagic_matches(const char *vermagic, const char *release);

#endif
