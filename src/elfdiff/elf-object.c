/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>

#include "elf-object.h"
#include "fileio.h"
#include "macro.h"
#include "parse-util.h"
#include "strbuf.h"

struct elf_object *elf_object_free(struct elf_object *o)
{
	if (!o)
		return NULL;
	for (size_t i = 0; i < o->n_secs; i++)
		free(o->secs[i].relas);
	free(o->secs);
	free(o->syms);
	strv_free(o->owned);
	free(o->path);
	if (o->elf)
		elf_end(o->elf);
	free(o->buf);
	free(o);
	return NULL;
}

static int cmp_rela(const void *a, const void *b)
{
	const struct eo_rela *x = a, *y = b;

	return (x->offset > y->offset) - (x->offset < y->offset);
}

static int load_sections(struct elf_object *o, size_t shstrndx, char *reterr, size_t errsize)
{
	Elf_Scn *scn = NULL;

	o->secs = calloc(o->n_secs ? o->n_secs : 1, sizeof(*o->secs));
	if (!o->secs)
		return -ENOMEM;
	while ((scn = elf_nextscn(o->elf, scn))) {
		size_t i = elf_ndxscn(scn);
		struct eo_section *s;
		const char *name;

		if (i >= o->n_secs)
			return parse_error(reterr, errsize, "section index %zu out of range", i);
		s = &o->secs[i];
		if (!gelf_getshdr(scn, &s->shdr))
			return parse_error(reterr, errsize, "section %zu: bad header", i);
		name = elf_strptr(o->elf, shstrndx, s->shdr.sh_name);
		if (!name)
			return parse_error(reterr, errsize, "section %zu: bad name", i);
		s->name = name;
		s->size = s->shdr.sh_size;
		if (s->shdr.sh_type == SHT_NOBITS || s->shdr.sh_type == SHT_NULL)
			continue;
		/* Overflow-safe "offset + size <= len": a truncated file fails here. */
		if (s->shdr.sh_offset > o->len || s->shdr.sh_size > o->len - s->shdr.sh_offset)
			return parse_error(reterr, errsize, "section '%s' extends past end of file",
					   name);
		s->data = (const unsigned char *)o->buf + s->shdr.sh_offset;
	}
	o->secs[0].name = "";
	return 0;
}

static int load_symbols(struct elf_object *o, char *reterr, size_t errsize)
{
	size_t symtab = 0;
	Elf_Data *data;
	size_t n;

	for (size_t i = 1; i < o->n_secs; i++)
		if (o->secs[i].shdr.sh_type == SHT_SYMTAB) {
			if (symtab)
				return parse_error(reterr, errsize, "more than one symbol table");
			symtab = i;
		}
	if (!symtab)
		return 0;
	if (o->secs[symtab].shdr.sh_entsize != sizeof(Elf64_Sym))
		return parse_error(reterr, errsize, "symbol table: bad entry size");
	data = elf_getdata(elf_getscn(o->elf, symtab), NULL);
	if (!data)
		return parse_error(reterr, errsize, "symbol table: %s", elf_errmsg(-1));
	n = data->d_size / sizeof(Elf64_Sym);
	o->syms = calloc(n ? n : 1, sizeof(*o->syms));
	if (!o->syms)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct eo_symbol *s = &o->syms[i];
		GElf_Sym sym;
		const char *name;

		if (!gelf_getsym(data, (int)i, &sym))
			return parse_error(reterr, errsize, "symbol %zu: unreadable", i);
		name = elf_strptr(o->elf, o->secs[symtab].shdr.sh_link, sym.st_name);
		if (!name)
			return parse_error(reterr, errsize, "symbol %zu: bad name", i);
		s->name = name;
		s->type = GELF_ST_TYPE(sym.st_info);
		s->bind = GELF_ST_BIND(sym.st_info);
		s->shndx = sym.st_shndx;
		s->value = sym.st_value;
		s->size = sym.st_size;
		if (s->shndx == SHN_XINDEX)
			/* NEEDSWORK: objects with more than 65279 sections. */
			return parse_error(reterr, errsize, "symbol '%s': extended section index "
					   "not supported", name);
		if (s->shndx != SHN_UNDEF && s->shndx < SHN_LORESERVE) {
			const struct eo_section *sec;

			if (s->shndx >= o->n_secs)
				return parse_error(reterr, errsize,
						   "symbol '%s': section index out of range", name);
			sec = &o->secs[s->shndx];
			if ((s->type == STT_FUNC || s->type == STT_OBJECT) &&
			    (s->value > sec->size || s->size > sec->size - s->value))
				return parse_error(reterr, errsize,
						   "symbol '%s' extends past its section", name);
		}
	}
	o->n_syms = n;
	return 0;
}

static int load_relas(struct elf_object *o, char *reterr, size_t errsize)
{
	for (size_t i = 1; i < o->n_secs; i++) {
		const struct eo_section *rs = &o->secs[i];
		struct eo_section *target;
		Elf_Data *data;
		size_t n;

		if (rs->shdr.sh_type == SHT_REL)
			return parse_error(reterr, errsize, "section '%s': SHT_REL is not used on "
					   "x86_64", rs->name);
		if (rs->shdr.sh_type != SHT_RELA)
			continue;
		if (rs->shdr.sh_entsize != sizeof(Elf64_Rela))
			return parse_error(reterr, errsize, "section '%s': bad entry size", rs->name);
		if (rs->shdr.sh_info == 0 || rs->shdr.sh_info >= o->n_secs)
			return parse_error(reterr, errsize, "section '%s': bad target section",
					   rs->name);
		target = &o->secs[rs->shdr.sh_info];
		if (target->relas)
			return parse_error(reterr, errsize, "section '%s': has two relocation sections",
					   target->name);
		data = elf_getdata(elf_getscn(o->elf, i), NULL);
		if (!data)
			return parse_error(reterr, errsize, "section '%s': %s", rs->name,
					   elf_errmsg(-1));
		n = data->d_size / sizeof(Elf64_Rela);
		target->relas = calloc(n ? n : 1, sizeof(*target->relas));
		if (!target->relas)
			return -ENOMEM;
		for (size_t j = 0; j < n; j++) {
			struct eo_rela *r = &target->relas[j];
			GElf_Rela rela;

			if (!gelf_getrela(data, (int)j, &rela))
				return parse_error(reterr, errsize, "section '%s': entry %zu unreadable",
						   rs->name, j);
			r->offset = rela.r_offset;
			r->type = GELF_R_TYPE(rela.r_info);
			r->addend = rela.r_addend;
			r->sym = GELF_R_SYM(rela.r_info);
			if (r->sym >= o->n_syms)
				return parse_error(reterr, errsize, "section '%s': entry %zu: bad symbol",
						   rs->name, j);
			if (target->shdr.sh_type != SHT_NOBITS && r->offset > target->size)
				return parse_error(reterr, errsize, "section '%s': entry %zu: offset "
						   "past section end", rs->name, j);
		}
		target->n_relas = n;
		qsort(target->relas, n, sizeof(*target->relas), cmp_rela);
	}
	return 0;
}

int eo_set_name(struct elf_object *o, const char **name, const char *new_name)
{
	char *copy = strdup(new_name);
	int r;

	if (!copy)
		return -ENOMEM;
	r = strv_consume(&o->owned, copy);
	if (r < 0)
		return r;
	*name = copy;
	return 0;
}

int elf_object_open(const char *path, struct elf_object **ret, char *reterr, size_t errsize)
{
	_cleanup_(elf_object_freep) struct elf_object *o = NULL;
	GElf_Ehdr ehdr;
	size_t shstrndx;
	int r;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	o->path = strdup(path);
	if (!o->path)
		return -ENOMEM;
	r = read_file_bounded(path, ELF_OBJECT_MAX_SIZE, &o->buf, &o->len);
	if (r < 0)
		return r;
	/* Check the identity ourselves: libelf accepts anything as ELF_K_NONE. */
	if (o->len < EI_NIDENT || memcmp(o->buf, ELFMAG, SELFMAG) != 0)
		return parse_error(reterr, errsize, "not an ELF file");
	if ((unsigned char)o->buf[EI_CLASS] != ELFCLASS64 ||
	    (unsigned char)o->buf[EI_DATA] != ELFDATA2LSB)
		return parse_error(reterr, errsize, "not a 64-bit little-endian ELF file");
	if (o->len < sizeof(Elf64_Ehdr))
		return parse_error(reterr, errsize, "truncated ELF header");
	o->elf = elf_memory(o->buf, o->len);
	if (!o->elf || elf_kind(o->elf) != ELF_K_ELF || !gelf_getehdr(o->elf, &ehdr))
		return parse_error(reterr, errsize, "unreadable ELF file: %s", elf_errmsg(-1));
	if (ehdr.e_type != ET_REL)
		return parse_error(reterr, errsize, "not a relocatable object (e_type %u)",
				   (unsigned)ehdr.e_type);
	if (ehdr.e_machine != EM_X86_64)
		return parse_error(reterr, errsize, "not an x86_64 object (e_machine %u)",
				   (unsigned)ehdr.e_machine);
	if (ehdr.e_phnum != 0)
		return parse_error(reterr, errsize, "relocatable object has program headers");
	if (ehdr.e_shoff > o->len || ehdr.e_shentsize != sizeof(Elf64_Shdr))
		return parse_error(reterr, errsize, "section header table past end of file");
	if (elf_getshdrnum(o->elf, &o->n_secs) < 0 || elf_getshdrstrndx(o->elf, &shstrndx) < 0)
		return parse_error(reterr, errsize, "bad section headers: %s", elf_errmsg(-1));
	if (o->n_secs > (o->len - ehdr.e_shoff) / sizeof(Elf64_Shdr))
		return parse_error(reterr, errsize, "section header table past end of file");
	if (shstrndx >= o->n_secs)
		return parse_error(reterr, errsize, "bad section name table index");

	r = load_sections(o, shstrndx, reterr, errsize);
	if (r < 0)
		return r;
	r = load_symbols(o, reterr, errsize);
	if (r < 0)
		return r;
	r = load_relas(o, reterr, errsize);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}
