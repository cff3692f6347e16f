/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "child.h"
#include "fileio.h"
#include "klp-module.h"
#include "klp-object.h"
#include "log.h"
#include "modinfo.h"
#include "module-sign.h"
#include "strbuf.h"

/* Largest object or module read. */
#define KLP_MODULE_INPUT_MAX (512u * 1024 * 1024)
/* No leading dot: modpost warns about unknown non-allocated ".x" sections. */
#define CARRY_RELOCS "tuxtape_klp_relocs"
#define CARRY_STRINGS "tuxtape_klp_strings"
#define CARRY_ENTRY 24
#define KLP_SYM_PREFIX ".klp.sym."
/* An object name and its NUL (the kernel reads at most 55 bytes). */
#define KLP_OBJNAME_BUF 56

static int fail(char *reterr, size_t errsize, int r, const char *fmt, ...) _printf_(4, 5);
static int fail(char *reterr, size_t errsize, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reterr, errsize, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- reading ---- */

struct in_elf {
	const char *path;
	char *buf;
	size_t len;
	Elf *e;
	size_t n_secs, shstrndx, symtab, strtab;
	GElf_Shdr *sh;
	Elf_Data **data;
	const char **names;
	size_t n_syms;
};

static void in_elf_release(struct in_elf *in)
{
	if (in->e)
		elf_end(in->e);
	free(in->sh);
	free(in->data);
	free(in->names);
	free(in->buf);
	*in = (struct in_elf){ 0 };
}

static int in_elf_load(struct in_elf *in, const char *path, char *reterr, size_t errsize)
{
	GElf_Ehdr eh;
	int r;

	*in = (struct in_elf){ .path = path };
	if (elf_version(EV_CURRENT) == EV_NONE)
		return fail(reterr, errsize, -ENOTSUP, "libelf: %s", elf_errmsg(-1));
	r = read_file_bounded(path, KLP_MODULE_INPUT_MAX, &in->buf, &in->len);
	if (r < 0)
		return fail(reterr, errsize, r, "cannot read '%s': %s", path, strerror(-r));
	if (in->len < EI_NIDENT || memcmp(in->buf, ELFMAG, SELFMAG) != 0)
		return fail(reterr, errsize, -EBADMSG, "'%s' is not an ELF file", path);
	in->e = elf_memory(in->buf, in->len);
	if (!in->e || !gelf_getehdr(in->e, &eh))
		return fail(reterr, errsize, -EBADMSG, "'%s': %s", path, elf_errmsg(-1));
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_REL || eh.e_machine != EM_X86_64)
		return fail(reterr, errsize, -EBADMSG,
			    "'%s' is not a relocatable x86_64 object", path);
	if (elf_getshdrnum(in->e, &in->n_secs) < 0 || elf_getshdrstrndx(in->e, &in->shstrndx) < 0 ||
	    in->shstrndx >= in->n_secs)
		return fail(reterr, errsize, -EBADMSG, "'%s': bad section headers", path);
	in->sh = calloc(in->n_secs, sizeof(*in->sh));
	in->data = calloc(in->n_secs, sizeof(*in->data));
	in->names = calloc(in->n_secs, sizeof(*in->names));
	if (!in->sh || !in->data || !in->names)
		return -ENOMEM;
	in->names[0] = "";
	for (size_t i = 1; i < in->n_secs; i++) {
		Elf_Scn *scn = elf_getscn(in->e, i);

		if (!scn || !gelf_getshdr(scn, &in->sh[i]))
			return fail(reterr, errsize, -EBADMSG, "'%s': section %zu unreadable", path, i);
		in->names[i] = elf_strptr(in->e, in->shstrndx, in->sh[i].sh_name);
		if (!in->names[i])
			return fail(reterr, errsize, -EBADMSG, "'%s': section %zu has no name", path,
				    i);
		if (in->sh[i].sh_type != SHT_NOBITS && in->sh[i].sh_type != SHT_NULL) {
			/* overflow-safe offset + size <= len: a truncated file fails here */
			if (in->sh[i].sh_offset > in->len ||
			    in->sh[i].sh_size > in->len - in->sh[i].sh_offset)
				return fail(reterr, errsize, -EBADMSG,
					    "'%s': section '%s' extends past the end of the file",
					    path, in->names[i]);
			in->data[i] = elf_getdata(scn, NULL);
			if (!in->data[i] && in->sh[i].sh_size)
				return fail(reterr, errsize, -EBADMSG, "'%s': section '%s': %s",
					    path, in->names[i], elf_errmsg(-1));
		}
		if (in->sh[i].sh_type == SHT_SYMTAB) {
			if (in->symtab)
				return fail(reterr, errsize, -EBADMSG, "'%s': two symbol tables",
					    path);
			in->symtab = i;
		}
	}
	if (!in->symtab || !in->data[in->symtab] ||
	    in->sh[in->symtab].sh_entsize != sizeof(Elf64_Sym) ||
	    in->sh[in->symtab].sh_link == 0 || in->sh[in->symtab].sh_link >= in->n_secs)
		return fail(reterr, errsize, -EBADMSG, "'%s': no usable symbol table", path);
	in->strtab = in->sh[in->symtab].sh_link;
	in->n_syms = in->data[in->symtab]->d_size / sizeof(Elf64_Sym);
	return 0;
}

static const Elf64_Sym *in_sym(const struct in_elf *in, size_t i)
{
	return &((const Elf64_Sym *)in->data[in->symtab]->d_buf)[i];
}

static const char *in_sym_name(const struct in_elf *in, size_t i)
{
	const char *n = elf_strptr(in->e, in->strtab, in_sym(in, i)->st_name);

	return n ? n : "";
}

/* ---- writing ---- */

struct out_sec {
	char *name;
	Elf64_Shdr sh;
	void *buf; /* owned when own */
	size_t size;
	Elf_Type type;
	bool own;
	bool shstrtab; /* the section-name table: out_write() fills it */
};

struct out_elf {
	struct out_sec *secs; /* [0] is the null section */
	size_t n, alloc;
};

static void out_elf_release(struct out_elf *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->secs[i].name);
		if (w->secs[i].own)
			free(w->secs[i].buf);
	}
	free(w->secs);
	*w = (struct out_elf){ 0 };
}

/* Adds a section; takes buf when own.  Returns its index or -ENOMEM. */
static ssize_t out_add(struct out_elf *w, const char *name, const Elf64_Shdr *sh, void *buf,
		       size_t size, Elf_Type type, bool own)
{
	if (w->n == w->alloc) {
		size_t na = w->alloc ? w->alloc * 2 : 64;
		struct out_sec *v = realloc(w->secs, na * sizeof(*v));

		if (!v) {
			if (own)
				free(buf);
			return -ENOMEM;
		}
		w->secs = v;
		w->alloc = na;
	}
	w->secs[w->n] = (struct out_sec){ .name = strdup(name), .sh = *sh, .buf = buf,
					  .size = size, .type = type, .own = own };
	if (!w->secs[w->n].name) {
		if (own)
			free(buf);
		return -ENOMEM;
	}
	return (ssize_t)w->n++;
}

/* Writes w to path atomically (a temporary file beside it, then rename). */
static int out_write(struct out_elf *w, const char *path, char *reterr, size_t errsize)
{
	_cleanup_free_ char *tmp = NULL;
	struct strbuf shstr;
	Elf *e = NULL;
	Elf64_Ehdr *eh;
	size_t shstrndx = w->n, shstr_name;
	int fd = -1, r = 0;

	strbuf_init(&shstr, 0);
	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		return fail(reterr, errsize, -errno, "cannot create '%s': %m", tmp);
	strbuf_addch(&shstr, '\0');
	for (size_t i = 1; i < w->n; i++) {
		w->secs[i].sh.sh_name = (Elf64_Word)shstr.len;
		strbuf_add(&shstr, w->secs[i].name, strlen(w->secs[i].name) + 1);
		if (w->secs[i].shstrtab)
			shstrndx = i;
	}
	/* without a placeholder, .shstrtab goes last and names itself */
	shstr_name = shstr.len;
	if (strbuf_add(&shstr, ".shstrtab", sizeof(".shstrtab")) < 0) {
		r = -ENOMEM;
		goto out;
	}
	e = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!e || !(eh = elf64_newehdr(e))) {
		r = fail(reterr, errsize, -EIO, "writing '%s': %s", path, elf_errmsg(-1));
		goto out;
	}
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_REL;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	for (size_t i = 1; i <= w->n; i++) {
		Elf_Scn *scn;
		Elf64_Shdr *sh;
		Elf_Data *d;

		if (i == w->n && shstrndx != w->n)
			break;
		scn = elf_newscn(e);

		if (!scn || !(sh = elf64_getshdr(scn)) || !(d = elf_newdata(scn))) {
			r = fail(reterr, errsize, -EIO, "writing '%s': %s", path, elf_errmsg(-1));
			goto out;
		}
		if (i == shstrndx) {
			*sh = (Elf64_Shdr){ .sh_name = (Elf64_Word)(i == w->n ? shstr_name
									  : w->secs[i].sh.sh_name),
					    .sh_type = SHT_STRTAB, .sh_addralign = 1 };
			d->d_buf = shstr.buf;
			d->d_size = shstr.len;
			d->d_type = ELF_T_BYTE;
			d->d_align = 1;
			continue;
		}
		*sh = w->secs[i].sh;
		sh->sh_offset = 0;
		d->d_buf = w->secs[i].buf;
		d->d_size = w->secs[i].size;
		d->d_type = w->secs[i].type;
		d->d_align = sh->sh_addralign ? sh->sh_addralign : 1;
	}
	if (elf_getscn(e, shstrndx) == NULL) {
		r = -EIO;
		goto out;
	}
	eh->e_shstrndx = (Elf64_Half)shstrndx;
	if (elf_update(e, ELF_C_WRITE) < 0) {
		r = fail(reterr, errsize, -EIO, "writing '%s': %s", path, elf_errmsg(-1));
		goto out;
	}
	elf_end(e);
	e = NULL;
	if (fsync(fd) < 0 || fchmod(fd, 0644) < 0) {
		r = fail(reterr, errsize, -errno, "writing '%s': %m", tmp);
		goto out;
	}
	close(fd);
	fd = -1;
	if (rename(tmp, path) < 0) {
		r = fail(reterr, errsize, -errno, "cannot rename '%s' to '%s': %m", tmp, path);
		goto out;
	}
	free(tmp);
	tmp = NULL;
out:
	if (e)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	if (tmp)
		unlink(tmp);
	strbuf_release(&shstr);
	return r;
}

/* ---- step 1: carry ---- */

struct rela_list {
	Elf64_Rela *v;
	size_t n, alloc;
};

static int rela_push(struct rela_list *l, const Elf64_Rela *r)
{
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 16;
		Elf64_Rela *v = realloc(l->v, na * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->alloc = na;
	}
	l->v[l->n++] = *r;
	return 0;
}

static bool is_klp_sym(const struct in_elf *in, size_t i)
{
	return in_sym(in, i)->st_shndx == KLP_SHN_LIVEPATCH;
}

/* A section the carry step regenerates rather than copies. */
static bool regenerated(const struct in_elf *in, size_t i)
{
	return in->sh[i].sh_type == SHT_RELA || in->sh[i].sh_type == SHT_SYMTAB ||
	       i == in->strtab || i == in->shstrndx;
}

int klp_module_carry(const char *inpath, const char *outpath, unsigned k,
		     const struct klp_module_func *funcs, size_t n_funcs, char *reterr,
		     size_t errsize)
{
	_cleanup_(in_elf_release) struct in_elf in = { 0 };
	_cleanup_(out_elf_release) struct out_elf w = { 0 };
	_cleanup_free_ size_t *secmap = NULL, *symmap = NULL, *secsym = NULL;
	char carry_name[sizeof(CARRY_RELOCS) + 12], strings_name[sizeof(CARRY_STRINGS) + 12];
	_cleanup_free_ Elf64_Sym *syms = NULL;
	_cleanup_free_ struct rela_list *relas = NULL;
	_cleanup_(strbuf_releasep) struct strbuf strtab = { 0 }, carry_str = { 0 };
	_cleanup_free_ unsigned char *carry = NULL;
	struct rela_list carry_rela = { 0 };
	size_t n_out_syms = 1, n_carry = 0, carry_alloc = 0, first_global = 1;
	ssize_t idx, symtab_idx, carry_idx;
	Elf64_Shdr sh;
	int r;

	r = in_elf_load(&in, inpath, reterr, errsize);
	if (r < 0)
		return r;
	secmap = calloc(in.n_secs, sizeof(*secmap));
	secsym = calloc(in.n_secs, sizeof(*secsym));
	relas = calloc(in.n_secs + 1, sizeof(*relas));
	symmap = calloc(in.n_syms + 1, sizeof(*symmap));
	/* input symbols + one section symbol per section + aliases */
	syms = calloc(in.n_syms + in.n_secs + n_funcs + 1, sizeof(*syms));
	if (!secmap || !secsym || !relas || !symmap || !syms)
		return -ENOMEM;
	strbuf_init(&strtab, 0);
	strbuf_init(&carry_str, 0);
	strbuf_addch(&strtab, '\0');
	strbuf_addch(&carry_str, '\0');

	/* Sections: everything but the ones regenerated keeps its order. */
	sh = (Elf64_Shdr){ 0 };
	if (out_add(&w, "", &sh, NULL, 0, ELF_T_BYTE, false) < 0)
		return -ENOMEM;
	for (size_t i = 1; i < in.n_secs; i++) {
		if (in.sh[i].sh_type == SHT_GROUP)
			return fail(reterr, errsize, -EBADMSG, "'%s': unexpected COMDAT group '%s'",
				    inpath, in.names[i]);
		if (regenerated(&in, i))
			continue;
		sh = (Elf64_Shdr){ .sh_type = in.sh[i].sh_type, .sh_flags = in.sh[i].sh_flags,
				   .sh_size = in.sh[i].sh_size,
				   .sh_addralign = in.sh[i].sh_addralign,
				   .sh_entsize = in.sh[i].sh_entsize };
		idx = out_add(&w, in.names[i], &sh, in.data[i] ? in.data[i]->d_buf : NULL,
			      in.data[i] ? in.data[i]->d_size : 0, ELF_T_BYTE, false);
		if (idx < 0)
			return (int)idx;
		secmap[i] = (size_t)idx;
	}

	/* Symbols: locals first, then globals; .klp.sym symbols leave. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t j = 1; j < in.n_syms; j++) {
			const Elf64_Sym *s = in_sym(&in, j);
			bool local = ELF64_ST_BIND(s->st_info) == STB_LOCAL;
			Elf64_Sym o = *s;

			if (local != (pass == 0) || is_klp_sym(&in, j))
				continue;
			if (s->st_shndx != SHN_UNDEF && s->st_shndx < SHN_LORESERVE) {
				if (s->st_shndx >= in.n_secs || !secmap[s->st_shndx])
					return fail(reterr, errsize, -EBADMSG,
						    "'%s': symbol '%s' is in an unusable section",
						    inpath, in_sym_name(&in, j));
				o.st_shndx = (Elf64_Half)secmap[s->st_shndx];
				if (ELF64_ST_TYPE(s->st_info) == STT_SECTION)
					secsym[s->st_shndx] = n_out_syms;
			}
			if (ELF64_ST_TYPE(s->st_info) != STT_SECTION || !s->st_name) {
				int64_t off = (int64_t)strtab.len;

				if (strbuf_add(&strtab, in_sym_name(&in, j),
					       strlen(in_sym_name(&in, j)) + 1) < 0)
					return -ENOMEM;
				o.st_name = (Elf64_Word)off;
			}
			symmap[j] = n_out_syms;
			syms[n_out_syms++] = o;
		}
		if (pass == 0) {
			/* section symbols for patched places that have none */
			for (size_t i = 1; i < in.n_secs; i++)
				if (secmap[i] && !secsym[i] && (in.sh[i].sh_flags & SHF_ALLOC)) {
					syms[n_out_syms] = (Elf64_Sym){
						.st_info = ELF64_ST_INFO(STB_LOCAL, STT_SECTION),
						.st_shndx = (Elf64_Half)secmap[i] };
					secsym[i] = n_out_syms++;
				}
			first_global = n_out_syms;
		}
	}
	/* Aliases the stub refers to. */
	for (size_t f = 0; f < n_funcs; f++) {
		size_t found = 0;
		char alias[64];
		int64_t off = (int64_t)strtab.len;

		for (size_t j = 1; j < in.n_syms; j++) {
			const Elf64_Sym *s = in_sym(&in, j);

			if (ELF64_ST_TYPE(s->st_info) == STT_FUNC && s->st_shndx != SHN_UNDEF &&
			    s->st_shndx < SHN_LORESERVE &&
			    streq(in_sym_name(&in, j), funcs[f].new_symbol)) {
				if (found)
					return fail(reterr, errsize, -EBADMSG,
						    "'%s': function '%s' is defined twice", inpath,
						    funcs[f].new_symbol);
				found = j;
			}
		}
		if (!found)
			return fail(reterr, errsize, -ENOENT,
				    "'%s': replacement function '%s' is not defined", inpath,
				    funcs[f].new_symbol);
		snprintf(alias, sizeof(alias), "__tuxtape_func_%u_%zu", k, f);
		if (strbuf_add(&strtab, alias, strlen(alias) + 1) < 0)
			return -ENOMEM;
		syms[n_out_syms] = *in_sym(&in, found);
		syms[n_out_syms].st_name = (Elf64_Word)off;
		syms[n_out_syms].st_info = ELF64_ST_INFO(STB_GLOBAL, STT_FUNC);
		syms[n_out_syms].st_other = STV_DEFAULT;
		syms[n_out_syms].st_shndx = (Elf64_Half)secmap[in_sym(&in, found)->st_shndx];
		n_out_syms++;
	}

	/* Relocations: ordinary ones are renumbered, klp ones become carried records. */
	for (size_t i = 1; i < in.n_secs; i++) {
		const Elf64_Rela *v;
		size_t n, target = in.sh[i].sh_info;
		bool klp = in.sh[i].sh_flags & KLP_SHF_RELA_LIVEPATCH;

		if (in.sh[i].sh_type != SHT_RELA)
			continue;
		if (in.sh[i].sh_entsize != sizeof(Elf64_Rela) || target == 0 ||
		    target >= in.n_secs || !secmap[target] || !in.data[i])
			return fail(reterr, errsize, -EBADMSG,
				    "'%s': relocation section '%s' is malformed", inpath,
				    in.names[i]);
		v = in.data[i]->d_buf;
		n = in.data[i]->d_size / sizeof(Elf64_Rela);
		for (size_t j = 0; j < n; j++) {
			size_t sym = ELF64_R_SYM(v[j].r_info);
			Elf64_Rela o = v[j];

			if (sym == 0 || sym >= in.n_syms || v[j].r_offset >= in.sh[target].sh_size)
				return fail(reterr, errsize, -EBADMSG,
					    "'%s': '%s' entry %zu is malformed", inpath,
					    in.names[i], j);
			if (klp != is_klp_sym(&in, sym) ||
			    (klp && strncmp(in_sym_name(&in, sym), KLP_SYM_PREFIX,
					    strlen(KLP_SYM_PREFIX)) != 0))
				return fail(reterr, errsize, -EBADMSG,
					    "'%s': '%s' entry %zu mixes livepatch and ordinary "
					    "symbols ('%s')",
					    inpath, in.names[i], j, in_sym_name(&in, sym));
			if (!klp) {
				o.r_info = ELF64_R_INFO(symmap[sym], ELF64_R_TYPE(v[j].r_info));
				r = rela_push(&relas[target], &o);
				if (r < 0)
					return r;
				continue;
			}
			if (n_carry == carry_alloc) {
				size_t na = carry_alloc ? carry_alloc * 2 : 16;
				unsigned char *p = realloc(carry, na * CARRY_ENTRY);

				if (!p)
					return -ENOMEM;
				carry = p;
				carry_alloc = na;
			}
			{
				unsigned char *e = carry + n_carry * CARRY_ENTRY;
				uint64_t place = 0;
				uint32_t type = (uint32_t)ELF64_R_TYPE(v[j].r_info);
				uint32_t name = (uint32_t)carry_str.len;
				int64_t addend = v[j].r_addend;
				Elf64_Rela cr = {
					.r_offset = n_carry * CARRY_ENTRY,
					.r_info = ELF64_R_INFO(secsym[target], R_X86_64_64),
					.r_addend = (int64_t)v[j].r_offset,
				};

				if (!secsym[target])
					return fail(reterr, errsize, -EBADMSG,
						    "'%s': livepatch relocation in non-allocated "
						    "section '%s'",
						    inpath, in.names[target]);
				if (strbuf_add(&carry_str, in_sym_name(&in, sym),
					       strlen(in_sym_name(&in, sym)) + 1) < 0)
					return -ENOMEM;
				memcpy(e, &place, 8);
				memcpy(e + 8, &type, 4);
				memcpy(e + 12, &name, 4);
				memcpy(e + 16, &addend, 8);
				r = rela_push(&carry_rela, &cr);
				if (r < 0)
					return r;
				n_carry++;
			}
		}
	}

	sh = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_size = n_carry * CARRY_ENTRY,
			   .sh_addralign = 8, .sh_entsize = CARRY_ENTRY };
	/*
	 * Per-unit names: "ld -r" concatenates same-named sections, and the name
	 * offsets of the records are relative to their own unit's strings.
	 */
	snprintf(carry_name, sizeof(carry_name), CARRY_RELOCS ".%u", k);
	snprintf(strings_name, sizeof(strings_name), CARRY_STRINGS ".%u", k);
	carry_idx = out_add(&w, carry_name, &sh, TAKE_PTR(carry), n_carry * CARRY_ENTRY,
			    ELF_T_BYTE, true);
	if (carry_idx < 0)
		goto nomem;
	sh = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_size = carry_str.len, .sh_addralign = 1 };
	if (out_add(&w, strings_name, &sh, strbuf_detach(&carry_str, NULL), sh.sh_size,
		    ELF_T_BYTE, true) < 0)
		goto nomem;

	/* The symbol table goes after the relocation sections, whose sh_link it is. */
	symtab_idx = (ssize_t)w.n;
	for (size_t i = 1; i < in.n_secs; i++)
		if (relas[i].n)
			symtab_idx++;
	if (carry_rela.n)
		symtab_idx++;
	for (size_t i = 1; i <= in.n_secs; i++) {
		struct rela_list *l = i < in.n_secs ? &relas[i] : &carry_rela;
		size_t tgt = i < in.n_secs ? secmap[i] : (size_t)carry_idx;
		_cleanup_free_ char *name = NULL;

		if (!l->n)
			continue;
		if (asprintf(&name, ".rela%s", w.secs[tgt].name) < 0) {
			name = NULL;
			goto nomem;
		}
		sh = (Elf64_Shdr){ .sh_type = SHT_RELA, .sh_flags = SHF_INFO_LINK,
				   .sh_size = l->n * sizeof(Elf64_Rela), .sh_addralign = 8,
				   .sh_entsize = sizeof(Elf64_Rela), .sh_link = (Elf64_Word)symtab_idx,
				   .sh_info = (Elf64_Word)tgt };
		if (out_add(&w, name, &sh, l->v, sh.sh_size, ELF_T_RELA, true) < 0) {
			l->v = NULL;
			goto nomem;
		}
		l->v = NULL;
	}
	sh = (Elf64_Shdr){ .sh_type = SHT_SYMTAB, .sh_size = n_out_syms * sizeof(Elf64_Sym),
			   .sh_addralign = 8, .sh_entsize = sizeof(Elf64_Sym),
			   .sh_link = (Elf64_Word)symtab_idx + 1, .sh_info = (Elf64_Word)first_global };
	if (out_add(&w, ".symtab", &sh, TAKE_PTR(syms), sh.sh_size, ELF_T_SYM, true) != symtab_idx)
		goto nomem;
	sh = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_size = strtab.len, .sh_addralign = 1 };
	if (out_add(&w, ".strtab", &sh, strbuf_detach(&strtab, NULL), sh.sh_size, ELF_T_BYTE,
		    true) < 0)
		goto nomem;
	r = out_write(&w, outpath, reterr, errsize);
	goto out;
nomem:
	r = -ENOMEM;
out:
	for (size_t i = 0; i <= in.n_secs; i++)
		free(relas[i].v);
	free(carry_rela.v);
	return r;
}

/* ---- step 3: restore ---- */

struct klp_group {
	char objname[KLP_OBJNAME_BUF];
	size_t target; /* section index in the module */
	struct rela_list relas;
};

static ssize_t find_section(const struct in_elf *in, const char *name)
{
	ssize_t found = -1;

	for (size_t i = 1; i < in->n_secs; i++)
		if (streq(in->names[i], name)) {
			if (found >= 0)
				return -ENOTUNIQ;
			found = (ssize_t)i;
		}
	return found;
}

/* One unit's carried records (sections ci and si) become grouped relocations. */
struct restore_state {
	Elf64_Sym *syms;
	size_t n_syms;
	struct strbuf strtab;
	struct klp_group *groups;
	size_t n_groups;
	size_t n_relocs;
};

static int restore_unit(const struct in_elf *in, const char *inpath, size_t ci, size_t si,
			struct restore_state *st, char *reterr, size_t errsize)
{
	_cleanup_free_ const Elf64_Rela **by_entry = NULL;
	size_t n_entries, reloc_sec = 0;
	const unsigned char *entries;
	const char *strs;
	size_t strs_len;
	int r;

	if (!in->data[si] || in->sh[ci].sh_size % CARRY_ENTRY)
		return fail(reterr, errsize, -EBADMSG,
			    "'%s': malformed carried livepatch relocations in '%s'", inpath,
			    in->names[ci]);
	n_entries = in->sh[ci].sh_size / CARRY_ENTRY;
	entries = n_entries ? in->data[ci]->d_buf : NULL;
	strs = in->data[si]->d_buf;
	strs_len = in->data[si]->d_size;
	by_entry = calloc(n_entries + 1, sizeof(*by_entry));
	if (!by_entry)
		return -ENOMEM;
	for (size_t i = 1; i < in->n_secs && n_entries; i++) {
		const Elf64_Rela *v;
		size_t n;

		if (in->sh[i].sh_type != SHT_RELA || in->sh[i].sh_info != ci)
			continue;
		if (reloc_sec || !in->data[i] || in->sh[i].sh_link != in->symtab)
			return fail(reterr, errsize, -EBADMSG, "'%s': bad relocations of '%s'",
				    inpath, in->names[ci]);
		reloc_sec = i;
		v = in->data[i]->d_buf;
		n = in->data[i]->d_size / sizeof(Elf64_Rela);
		for (size_t j = 0; j < n; j++) {
			size_t e = v[j].r_offset / CARRY_ENTRY;

			if (v[j].r_offset % CARRY_ENTRY || e >= n_entries || by_entry[e] ||
			    ELF64_R_TYPE(v[j].r_info) != R_X86_64_64 ||
			    ELF64_R_SYM(v[j].r_info) >= in->n_syms)
				return fail(reterr, errsize, -EBADMSG,
					    "'%s': carried relocation %zu is malformed", inpath, j);
			by_entry[e] = &v[j];
		}
	}

	for (size_t e = 0; e < n_entries; e++) {
		const unsigned char *p = entries + e * CARRY_ENTRY;
		const Elf64_Rela *cr = by_entry[e];
		const Elf64_Sym *ps;
		uint32_t type, name;
		int64_t addend;
		const char *sname;
		char objname[KLP_OBJNAME_BUF];
		size_t target, sym = 0, g;
		uint64_t offset;
		Elf64_Rela out;

		if (!cr)
			return fail(reterr, errsize, -EIO,
				    "'%s': the link lost the place of livepatch relocation %zu",
				    inpath, e);
		memcpy(&type, p + 8, 4);
		memcpy(&name, p + 12, 4);
		memcpy(&addend, p + 16, 8);
		if (name >= strs_len || !memchr(strs + name, '\0', strs_len - name))
			return fail(reterr, errsize, -EBADMSG,
				    "'%s': carried relocation %zu has a bad name", inpath, e);
		sname = strs + name;
		{
			const char *o = sname + strlen(KLP_SYM_PREFIX), *dot;

			if (strncmp(sname, KLP_SYM_PREFIX, strlen(KLP_SYM_PREFIX)) != 0 ||
			    !(dot = strchr(o, '.')) || dot == o ||
			    (size_t)(dot - o) >= sizeof(objname))
				return fail(reterr, errsize, -EBADMSG,
					    "'%s': '%s' is not a livepatch symbol name", inpath,
					    sname);
			memcpy(objname, o, (size_t)(dot - o));
			objname[dot - o] = '\0';
		}
		ps = &st->syms[ELF64_R_SYM(cr->r_info)];
		target = ps->st_shndx;
		if (target == SHN_UNDEF || target >= in->n_secs ||
		    !(in->sh[target].sh_flags & SHF_ALLOC))
			return fail(reterr, errsize, -EIO,
				    "'%s': livepatch relocation %zu ('%s') points at no section",
				    inpath, e, sname);
		offset = ps->st_value + (uint64_t)cr->r_addend;
		if (offset >= in->sh[target].sh_size)
			return fail(reterr, errsize, -EIO,
				    "'%s': livepatch relocation %zu ('%s') points past '%s'",
				    inpath, e, sname, in->names[target]);
		for (size_t j = in->n_syms; j < st->n_syms; j++)
			if (streq(st->strtab.buf + st->syms[j].st_name, sname)) {
				sym = j;
				break;
			}
		if (!sym) {
			sym = st->n_syms++;
			st->syms[sym] = (Elf64_Sym){ .st_name = (Elf64_Word)st->strtab.len,
						     .st_info = ELF64_ST_INFO(STB_GLOBAL, STT_NOTYPE),
						     .st_shndx = KLP_SHN_LIVEPATCH };
			if (strbuf_add(&st->strtab, sname, strlen(sname) + 1) < 0)
				return -ENOMEM;
		}
		for (g = 0; g < st->n_groups; g++)
			if (st->groups[g].target == target && streq(st->groups[g].objname, objname))
				break;
		if (g == st->n_groups) {
			memcpy(st->groups[g].objname, objname, sizeof(objname));
			st->groups[g].target = target;
			st->n_groups++;
		}
		out = (Elf64_Rela){ .r_offset = offset, .r_info = ELF64_R_INFO(sym, type),
				    .r_addend = addend };
		r = rela_push(&st->groups[g].relas, &out);
		if (r < 0)
			return r;
		st->n_relocs++;
	}
	return 0;
}

/* The strings section carried beside relocs section ci ("...relocs.K" -> "...strings.K"). */
static ssize_t carried_strings(const struct in_elf *in, size_t ci)
{
	char name[sizeof(CARRY_STRINGS) + 16];

	if (snprintf(name, sizeof(name), CARRY_STRINGS "%s",
		     in->names[ci] + strlen(CARRY_RELOCS)) >= (int)sizeof(name))
		return -EBADMSG;
	return find_section(in, name);
}

int klp_module_restore(const char *inpath, const char *outpath, size_t *ret_n_relocs,
		       char *reterr, size_t errsize)
{
	_cleanup_(in_elf_release) struct in_elf in = { 0 };
	_cleanup_(out_elf_release) struct out_elf w = { 0 };
	struct restore_state st = { 0 };
	size_t n_entries = 0, n_units = 0;
	int r = 0;

	r = in_elf_load(&in, inpath, reterr, errsize);
	if (r < 0)
		return r;
	strbuf_init(&st.strtab, 0);
	for (size_t i = 1; i < in.n_secs; i++)
		if (strncmp(in.names[i], CARRY_RELOCS ".", strlen(CARRY_RELOCS) + 1) == 0)
			n_entries += in.sh[i].sh_size / CARRY_ENTRY;
	/* New symbols: the distinct .klp.sym names, appended after the existing ones. */
	st.syms = calloc(in.n_syms + n_entries + 1, sizeof(*st.syms));
	st.groups = calloc(n_entries + 1, sizeof(*st.groups));
	if (!st.syms || !st.groups)
		goto nomem;
	memcpy(st.syms, in.data[in.symtab]->d_buf, in.n_syms * sizeof(Elf64_Sym));
	st.n_syms = in.n_syms;
	if (in.data[in.strtab] &&
	    strbuf_add(&st.strtab, in.data[in.strtab]->d_buf, in.data[in.strtab]->d_size) < 0)
		goto nomem;
	for (size_t i = 1; i < in.n_secs; i++) {
		ssize_t si;

		if (strncmp(in.names[i], CARRY_RELOCS ".", strlen(CARRY_RELOCS) + 1) != 0)
			continue;
		si = carried_strings(&in, i);
		if (si < 0) {
			r = fail(reterr, errsize, -EBADMSG,
				 "'%s': '%s' has no (or a duplicated) strings section", inpath,
				 in.names[i]);
			goto out;
		}
		r = restore_unit(&in, inpath, i, (size_t)si, &st, reterr, errsize);
		if (r < 0)
			goto out;
		n_units++;
	}
	if (n_units == 0) {
		r = fail(reterr, errsize, -EBADMSG,
			 "'%s' has no carried livepatch relocations", inpath);
		goto out;
	}

	/* Copy every section as it is, with the grown symbol and string tables. */
	{
		Elf64_Shdr sh = { 0 };

		if (out_add(&w, "", &sh, NULL, 0, ELF_T_BYTE, false) < 0)
			goto nomem;
	}
	for (size_t i = 1; i < in.n_secs; i++) {
		Elf64_Shdr sh;
		void *buf = in.data[i] ? in.data[i]->d_buf : NULL;
		size_t size = in.data[i] ? in.data[i]->d_size : 0;
		Elf_Type type = in.data[i] ? in.data[i]->d_type : ELF_T_BYTE;
		GElf_Shdr *g = &in.sh[i];

		if (i == in.shstrndx) {
			/* out_write() regenerates it in place */
			ssize_t k;

			sh = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1 };
			k = out_add(&w, in.names[i], &sh, NULL, 0, ELF_T_BYTE, false);
			if (k < 0)
				goto nomem;
			w.secs[k].shstrtab = true;
			continue;
		}
		sh = (Elf64_Shdr){ .sh_type = g->sh_type, .sh_flags = g->sh_flags,
				   .sh_addr = g->sh_addr, .sh_size = g->sh_size,
				   .sh_link = g->sh_link, .sh_info = g->sh_info,
				   .sh_addralign = g->sh_addralign, .sh_entsize = g->sh_entsize };
		if (i == in.symtab) {
			buf = st.syms;
			size = st.n_syms * sizeof(Elf64_Sym);
			sh.sh_size = size;
			type = ELF_T_SYM;
		} else if (i == in.strtab) {
			buf = st.strtab.buf;
			size = st.strtab.len;
			sh.sh_size = size;
			type = ELF_T_BYTE;
		}
		if (out_add(&w, in.names[i], &sh, buf, size, type, false) < 0)
			goto nomem;
	}
	for (size_t g = 0; g < st.n_groups; g++) {
		_cleanup_free_ char *name = NULL;
		Elf64_Shdr sh = { .sh_type = SHT_RELA,
				  .sh_flags = SHF_ALLOC | SHF_INFO_LINK | KLP_SHF_RELA_LIVEPATCH,
				  .sh_size = st.groups[g].relas.n * sizeof(Elf64_Rela),
				  .sh_addralign = 8, .sh_entsize = sizeof(Elf64_Rela),
				  .sh_link = (Elf64_Word)in.symtab,
				  .sh_info = (Elf64_Word)st.groups[g].target };

		if (asprintf(&name, ".klp.rela.%s.%s", st.groups[g].objname,
			     in.names[st.groups[g].target]) < 0) {
			name = NULL;
			goto nomem;
		}
		if (out_add(&w, name, &sh, st.groups[g].relas.v, sh.sh_size, ELF_T_RELA, false) < 0)
			goto nomem;
	}
	r = out_write(&w, outpath, reterr, errsize);
	if (r >= 0 && ret_n_relocs)
		*ret_n_relocs = st.n_relocs;
	goto out;
nomem:
	r = -ENOMEM;
out:
	for (size_t g = 0; st.groups && g < st.n_groups; g++)
		free(st.groups[g].relas.v);
	free(st.groups);
	free(st.syms);
	strbuf_release(&st.strtab);
	return r;
}

/* ---- step 2: the stub and the kbuild link ---- */

static bool module_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > KLP_MODULE_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/* Kernel symbol names as C string literals: [A-Za-z0-9_.$] only, so no escaping. */
static bool symbol_name_ok(const char *s)
{
	if (!*s || strlen(s) > 511)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '$'))
			return false;
	return true;
}

static bool objname_ok(const char *s)
{
	if (streq(s, "vmlinux"))
		return true;
	if (!*s || strlen(s) >= KLP_OBJNAME_BUF)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_'))
			return false;
	return true;
}

/*
 * The C source of the stub: one klp_object per distinct objname (the kernel
 * refuses two of the same name), its functions from every object file of it.
 */
static int stub_source(const struct klp_module_options *o, const struct klp_module_object *objs,
		       size_t n_objs, char **ret)
{
	_cleanup_strbuf_ struct strbuf sb;
	_cleanup_free_ bool *done = calloc(n_objs + 1, sizeof(bool));
	size_t n_klp = 0;

	if (!done)
		return -ENOMEM;
	strbuf_init(&sb, 0);
	strbuf_adds(&sb, "// SPDX-License-Identifier: GPL-2.0\n"
			 "/* Generated by tuxtape: the livepatch's klp_patch. */\n"
			 "#include <linux/kernel.h>\n#include <linux/module.h>\n"
			 "#include <linux/livepatch.h>\n\n");
	for (size_t k = 0; k < n_objs; k++)
		for (size_t f = 0; f < objs[k].n_funcs; f++)
			strbuf_addf(&sb, "extern char __tuxtape_func_%zu_%zu[];\n", k, f);
	for (size_t k = 0; k < n_objs; k++) {
		if (done[k])
			continue;
		strbuf_addf(&sb, "\nstatic struct klp_func tuxtape_funcs_%zu[] = {\n", n_klp);
		for (size_t m = k; m < n_objs; m++) {
			if (done[m] || !streq(objs[m].objname, objs[k].objname))
				continue;
			done[m] = true;
			for (size_t f = 0; f < objs[m].n_funcs; f++)
				strbuf_addf(&sb,
					    "\t{ .old_name = \"%s\", .new_func = __tuxtape_func_%zu_%zu,"
					    " .old_sympos = %lu },\n",
					    objs[m].funcs[f].old_name, m, f,
					    objs[m].funcs[f].old_sympos);
		}
		strbuf_adds(&sb, "\t{ }\n};\n");
		n_klp++;
	}
	memset(done, 0, (n_objs + 1) * sizeof(bool));
	strbuf_adds(&sb, "\nstatic struct klp_object tuxtape_objs[] = {\n");
	n_klp = 0;
	for (size_t k = 0; k < n_objs; k++) {
		if (done[k])
			continue;
		for (size_t m = k; m < n_objs; m++)
			if (streq(objs[m].objname, objs[k].objname))
				done[m] = true;
		if (streq(objs[k].objname, "vmlinux"))
			strbuf_addf(&sb, "\t{ .name = NULL, .funcs = tuxtape_funcs_%zu },\n", n_klp);
		else
			strbuf_addf(&sb, "\t{ .name = \"%s\", .funcs = tuxtape_funcs_%zu },\n",
				    objs[k].objname, n_klp);
		n_klp++;
	}
	strbuf_addf(&sb,
		    "\t{ }\n};\n\n"
		    "static struct klp_patch tuxtape_patch = {\n"
		    "\t.mod = THIS_MODULE,\n\t.objs = tuxtape_objs,\n\t.replace = %s,\n};\n\n"
		    "static int __init tuxtape_livepatch_init(void)\n{\n"
		    "\treturn klp_enable_patch(&tuxtape_patch);\n}\n\n"
		    "static void __exit tuxtape_livepatch_exit(void)\n{\n}\n\n"
		    "module_init(tuxtape_livepatch_init);\nmodule_exit(tuxtape_livepatch_exit);\n"
		    "MODULE_LICENSE(\"GPL\");\nMODULE_INFO(livepatch, \"Y\");\n",
		    o->replace ? "true" : "false");
	if (o->description) {
		strbuf_adds(&sb, "MODULE_DESCRIPTION(\"");
		for (const char *p = o->description; *p; p++)
			if (*p >= 0x20 && *p < 0x7f && *p != '"' && *p != '\\')
				strbuf_addch(&sb, *p);
		strbuf_adds(&sb, "\");\n");
	}
	if (strbuf_addch(&sb, '\0') < 0)
		return -ENOMEM;
	*ret = strbuf_detach(&sb, NULL);
	return 0;
}

struct runner {
	int log_fd;
	const char *log_path;
	int64_t deadline;
	unsigned timeout_s;
};

static int run_step(struct runner *run, char **argv, const char *step, char *reterr,
		    size_t errsize)
{
	const struct child_log log = { .fd = run->log_fd, .path = run->log_path,
				       .deadline_ms = run->deadline,
				       .timeout_s = run->timeout_s };

	log_debug("klp module: %s", step);
	return child_run_step(&log, argv, step, false, reterr, errsize);
}

/* CONFIG_MODULE_SIG_HASH of the prepared tree, or NULL (then sha256). */
static char *module_sig_hash(const char *build_dir)
{
	_cleanup_free_ char *config = path_join(build_dir, ".config"), *buf = NULL;
	static const char key[] = "\nCONFIG_MODULE_SIG_HASH=\"";
	const char *p, *q;
	size_t len;

	if (!config || read_file_bounded(config, 16u * 1024 * 1024, &buf, &len) < 0)
		return NULL;
	p = strstr(buf, key);
	if (!p)
		return NULL;
	p += sizeof(key) - 1;
	q = strchr(p, '"');
	return q && q - p < 32 ? strndup(p, (size_t)(q - p)) : NULL;
}

static char *module_vermagic(const char *path)
{
	_cleanup_(modinfo_release) struct modinfo mi = { 0 };
	char err[256];

	return modinfo_read_file(path, &mi, err, sizeof(err)) < 0 ? NULL : TAKE_PTR(mi.vermagic);
}

static int add_report(json_t *report, const struct klp_module_options *o,
		      const struct klp_module_object *objs, size_t n_objs, size_t n_relocs,
		      bool signed_)
{
	_cleanup_free_ char *vermagic = module_vermagic(o->output);
	json_t *jobjs = json_array();

	if (!jobjs)
		return -ENOMEM;
	for (size_t k = 0; k < n_objs; k++) {
		json_t *funcs = json_array();

		for (size_t f = 0; funcs && f < objs[k].n_funcs; f++)
			json_array_append_new(funcs,
					      json_pack("{s:s, s:I}", "old_name",
							objs[k].funcs[f].old_name, "sympos",
							(json_int_t)objs[k].funcs[f].old_sympos));
		json_array_append_new(jobjs, json_pack("{s:s, s:s, s:o*}", "objname",
						       objs[k].objname, "object", objs[k].object,
						       "functions", funcs));
	}
	if (json_object_set_new(report, "module", json_string(o->name)) < 0 ||
	    json_object_set_new(report, "path", json_string(o->output)) < 0 ||
	    json_object_set_new(report, "objects", jobjs) < 0 ||
	    json_object_set_new(report, "klp_relocations", json_integer((json_int_t)n_relocs)) < 0 ||
	    json_object_set_new(report, "replace", json_boolean(o->replace)) < 0 ||
	    json_object_set_new(report, "vermagic",
				vermagic ? json_string(vermagic) : json_null()) < 0 ||
	    json_object_set_new(report, "signed", json_boolean(signed_)) < 0)
		return -ENOMEM;
	return 0;
}

int klp_module_build(const struct klp_module_options *o, const struct klp_module_object *objs,
		     size_t n_objs, json_t *report, char *reterr, size_t errsize)
{
	_cleanup_free_ char *mod_dir = NULL, *log_path = NULL, *kbuild = NULL, *stub = NULL,
			    *stub_path = NULL, *linked = NULL, *mflag = NULL, *oflag = NULL,
			    *restored = NULL;
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_strbuf_ struct strbuf objlist;
	struct runner run = { .log_fd = -1 };
	size_t n_funcs = 0, n_relocs = 0;
	bool signed_ = false;
	int r;

	strbuf_init(&objlist, 0);
	if (!o || !o->name || !o->source_dir || !o->build_dir || !o->work_dir || !o->output)
		return fail(reterr, errsize, -EINVAL, "missing module name, tree, work directory "
						      "or output");
	if (!module_name_ok(o->name))
		return fail(reterr, errsize, -EINVAL,
			    "module name '%s' is not 1 to %d of [a-z0-9_]", o->name,
			    KLP_MODULE_NAME_MAX);
	if (!o->sign_key != !o->sign_cert)
		return fail(reterr, errsize, -EINVAL, "signing needs both a key and a certificate");
	if (n_objs == 0)
		return fail(reterr, errsize, -EINVAL, "no functions to patch");
	for (size_t k = 0; k < n_objs; k++) {
		if (!objs[k].objname || !objname_ok(objs[k].objname))
			return fail(reterr, errsize, -EINVAL, "bad object name '%s'",
				    objs[k].objname ? objs[k].objname : "");
		if (objs[k].n_funcs == 0)
			return fail(reterr, errsize, -EINVAL, "object '%s' patches no function",
				    objs[k].object);
		for (size_t f = 0; f < objs[k].n_funcs; f++)
			if (!symbol_name_ok(objs[k].funcs[f].old_name))
				return fail(reterr, errsize, -EINVAL, "bad function name '%s'",
					    objs[k].funcs[f].old_name);
		n_funcs += objs[k].n_funcs;
	}
	if (n_funcs > KLP_MODULE_FUNCS_MAX)
		return fail(reterr, errsize, -E2BIG, "%zu functions: at most %d per module",
			    n_funcs, KLP_MODULE_FUNCS_MAX);

	mod_dir = path_join(o->work_dir, "mod");
	log_path = path_join(o->work_dir, "module.log");
	if (!mod_dir || !log_path)
		return -ENOMEM;
	r = rm_rf(mod_dir);
	if (r < 0 && r != -ENOENT)
		return fail(reterr, errsize, r, "cannot empty '%s': %s", mod_dir, strerror(-r));
	r = mkdir_p(mod_dir, 0755);
	if (r < 0)
		return fail(reterr, errsize, r, "cannot create '%s': %s", mod_dir, strerror(-r));

	/* 1: carry each object through the link */
	for (size_t k = 0; k < n_objs; k++) {
		_cleanup_free_ char *shipped = NULL;

		if (asprintf(&shipped, "%s/tuxtape_obj%zu.o_shipped", mod_dir, k) < 0) {
			shipped = NULL;
			return -ENOMEM;
		}
		r = klp_module_carry(objs[k].object, shipped, (unsigned)k, objs[k].funcs,
				     objs[k].n_funcs, reterr, errsize);
		if (r < 0)
			return r;
		strbuf_addf(&objlist, " tuxtape_obj%zu.o", k);
		/* modpost's srcversion reads every object's .cmd file; there is no source */
		free(shipped);
		if (asprintf(&shipped, "%s/.tuxtape_obj%zu.o.cmd", mod_dir, k) < 0) {
			shipped = NULL;
			return -ENOMEM;
		}
		r = write_file_atomic(shipped, "# livepatch object written by tuxtape\n",
				      strlen("# livepatch object written by tuxtape\n"), 0644);
		if (r < 0)
			return fail(reterr, errsize, r, "cannot write '%s': %s", shipped,
				    strerror(-r));
	}

	/* 2: the stub and kbuild */
	r = stub_source(o, objs, n_objs, &stub);
	if (r < 0)
		return r;
	stub_path = path_join(mod_dir, "tuxtape_stub.c");
	kbuild = NULL;
	if (!stub_path || asprintf(&kbuild,
				   "# Generated by tuxtape\nobj-m := %s.o\n%s-y := tuxtape_stub.o%s\n",
				   o->name, o->name, objlist.buf ? objlist.buf : "") < 0)
		return -ENOMEM;
	r = write_file_atomic(stub_path, stub, strlen(stub), 0644);
	if (r >= 0) {
		_cleanup_free_ char *kb = path_join(mod_dir, "Kbuild");

		r = kb ? write_file_atomic(kb, kbuild, strlen(kbuild), 0644) : -ENOMEM;
	}
	if (r < 0)
		return fail(reterr, errsize, r, "cannot write the stub in '%s': %s", mod_dir,
			    strerror(-r));

	run.log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (run.log_fd < 0)
		return fail(reterr, errsize, -errno, "cannot create '%s': %m", log_path);
	run.log_path = log_path;
	run.deadline = child_deadline(o->timeout_s);
	run.timeout_s = o->timeout_s;
	if (asprintf(&oflag, "O=%s", o->build_dir) < 0 || asprintf(&mflag, "M=%s", mod_dir) < 0) {
		oflag = mflag = NULL;
		r = -ENOMEM;
		goto out;
	}
	if ((r = strv_push(&argv, "make")) < 0 || (r = strv_push(&argv, "-C")) < 0 ||
	    (r = strv_push(&argv, o->source_dir)) < 0 || (r = strv_push(&argv, oflag)) < 0)
		goto out;
	for (size_t i = 0; o->make_args && o->make_args[i]; i++)
		if ((r = strv_push(&argv, o->make_args[i])) < 0)
			goto out;
	if ((r = strv_push(&argv, mflag)) < 0 || (r = strv_push(&argv, "modules")) < 0)
		goto out;
	r = run_step(&run, argv, "linking the livepatch module", reterr, errsize);
	if (r < 0)
		goto out;

	/* 3: restore the klp sections, into a file beside the output, then sign, then rename */
	if (asprintf(&linked, "%s/%s.ko", mod_dir, o->name) < 0 ||
	    asprintf(&restored, "%s/%s.klp.ko", mod_dir, o->name) < 0) {
		linked = restored = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = klp_module_restore(linked, restored, &n_relocs, reterr, errsize);
	if (r < 0)
		goto out;
	if (o->sign_key) {
		_cleanup_free_ char *hash = module_sig_hash(o->build_dir);

		r = module_sign_file(restored, o->sign_key, o->sign_cert, hash ? hash : "sha256",
				     reterr, errsize);
		if (r < 0)
			goto out;
		signed_ = true;
	}
	{
		_cleanup_free_ char *buf = NULL;
		size_t len;

		r = read_file_bounded(restored, KLP_MODULE_INPUT_MAX, &buf, &len);
		if (r >= 0)
			r = write_file_atomic(o->output, buf, len, 0644);
		if (r < 0) {
			r = fail(reterr, errsize, r, "cannot write '%s': %s", o->output,
				 strerror(-r));
			goto out;
		}
	}
	if (report)
		r = add_report(report, o, objs, n_objs, n_relocs, signed_);
out:
	if (run.log_fd >= 0)
		close(run.log_fd);
	return r;
}
