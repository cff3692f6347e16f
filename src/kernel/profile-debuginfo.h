/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The build profile recorded in debug information: every DWARF compile unit
 * of a vmlinux or module is a compiled source (DW_AT_name, made relative to
 * the tree with DW_AT_comp_dir and the source tree named by the
 * include/linux/kconfig.h every kernel unit includes), PROFILE_MODULE when
 * the file is a module (*.ko, *.ko.xz), PROFILE_BUILTIN otherwise; the files
 * of each unit's line table that end in ".h" are PROFILE_HEADER (only headers
 * that contributed code or declarations with line information appear there,
 * so this is a subset of what the build directory's deps_ lists give), and
 * .c/.S files there other than the unit's own were #included by it
 * (kernel/sched/build_policy.c includes rt.c, deadline.c, ...) and get the
 * unit's flag, as they are compiled into the same object.  The source tree
 * is the directory of include/linux/kconfig.h when the line table names it,
 * else of any include/linux/ header, else DW_AT_comp_dir.
 *
 * Relocatable files (*.ko, *.o) are read through libdwfl, which applies the
 * relocations of their .debug_* sections (without them every unit of a
 * module would read the first unit's strings and line table); vmlinux through
 * dwarf_begin_elf().  Separate debug files (debuglink, debuginfod) are never
 * looked up: give the file that carries the DWARF.
 */
#ifndef TUXTAPE_KERNEL_PROFILE_DEBUGINFO_H
#define TUXTAPE_KERNEL_PROFILE_DEBUGINFO_H

#include <stddef.h>

#include "profile.h"

/*
 * Adds the compile units of the ELF file at path to p.  Errors: -EBADMSG when
 * path is not an ELF file (compressed modules, *.ko.xz, included: decompress
 * first) or its DWARF is corrupt; -ENODATA when it has no DWARF (a kernel
 * built without CONFIG_DEBUG_INFO, a stripped file); open errors as negative
 * errno; -ENOMEM.  reterr says which.  On failure p may hold part of the
 * units: discard it.
 */
int kernel_profile_read_debuginfo(struct kernel_profile *p, const char *path, char *reterr,
				  size_t errsize);

#endif
