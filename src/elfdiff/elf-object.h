/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Internal view of a loaded relocatable object, shared by elf-object.c (which
 * builds and validates it) and elfdiff.c (which compares two of them).  All
 * offsets and indices in here have been checked against the file.
 */
#ifndef TUXTAPE_ELF_OBJECT_H
#define TUXTAPE_ELF_OBJECT_H

#include <gelf.h>
#include <stddef.h>
#include <stdint.h>

#include "elfdiff.h"

struct eo_rela {
	uint64_t offset;
	unsigned type;
	int64_t addend;
	size_t sym;		/* index into elf_object.syms, < n_syms */
};

struct eo_section {
	const char *name;	/* never NULL; may be renamed by elfdiff_correlate() */
	GElf_Shdr shdr;
	const unsigned char *data; /* NULL for SHT_NOBITS */
	size_t size;
	/* Relocations applying to this section, sorted by offset. */
	struct eo_rela *relas;
	size_t n_relas;
};

struct eo_symbol {
	const char *name;	/* never NULL, may be ""; may be renamed by elfdiff_correlate() */
	unsigned type;
	unsigned bind;
	size_t shndx;		/* SHN_UNDEF, SHN_ABS, SHN_COMMON or < n_secs */
	uint64_t value;
	uint64_t size;
};

struct elf_object {
	char *path;		/* as opened (DWARF is read from it) */
	char *buf;
	size_t len;
	Elf *elf;
	struct eo_section *secs;
	size_t n_secs;
	struct eo_symbol *syms;
	size_t n_syms;
	char **owned;		/* strv: names given by elfdiff_correlate(), freed with o */
};

/* Renames a symbol or section: name becomes an owned copy of new_name.  -ENOMEM. */
int eo_set_name(struct elf_object *o, const char **name, const char *new_name);

/* True when shndx names a real section of o. */
static inline int eo_is_section_index(const struct elf_object *o, size_t shndx)
{
	return shndx != SHN_UNDEF && shndx < SHN_LORESERVE && shndx < o->n_secs;
}

#endif
