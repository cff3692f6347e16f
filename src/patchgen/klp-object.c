/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <gelf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf-object.h"
#include "hashmap.h"
#include "klp-object.h"
#include "parse-util.h"
#include "strbuf.h"

/* "%55[^.]" and "%511[^,]" in the kernel's sscanf() of .klp.sym names. */
#define KLP_OBJNAME_MAX 55
#define KLP_SYMNAME_MAX 511

/* Sections whose entries point into code; phase 2 must filter and carry them. */
static const char *const special_prefixes[] = {
	"__bug_table", "__ex_table", ".orc_unwind", "__jump_table", ".static_call_sites",
	".altinstructions", ".altinstr_replacement", ".altinstr_aux", "__mcount_loc",
	".return_sites", ".retpoline_sites", ".smp_locks", ".parainstructions", ".call_sites",
	"__patchable_function_entries", ".printk_index", "__dyndbg", "__verbose",
	".static_call.text", ".ibt_endbr_seal", ".kcfi_traps", ".init.", ".exit.",
	".fixup", "__tracepoints",
};

enum sym_kind {
	SK_SECTION,	/* section symbol of a copied section */
	SK_DEFINED,	/* included FUNC/OBJECT */
	SK_UNDEF,	/* exported by vmlinux: resolved by the module loader */
	SK_KLP,		/* .klp.sym.*: resolved by the livepatch core */
};

struct out_sym {
	char *name;
	enum sym_kind kind;
	unsigned bind, type;
	size_t in_sec;	/* patched section index for SK_SECTION/SK_DEFINED */
	uint64_t value, size;
	size_t final;	/* index in the written .symtab */
};

struct out_relasec {
	char *name;
	size_t target;	/* patched section index */
	int klp;
	Elf64_Rela *relas; /* r_info holds the out_sym id until written */
	size_t n, alloc;
	size_t out_index;
};

struct ctx {
	const struct elf_object *o;
	const struct klp_object_options *opts;
	char *reterr;
	size_t errsize;

	/* Per patched section: out section order + 1 when copied, and its bundled symbol. */
	size_t *copied;
	size_t *bundle;	  /* FUNC/OBJECT symbol index + 1 when exactly one, else 0 */
	size_t *n_named;  /* FUNC/OBJECT symbols in the section */
	size_t *secsym;	  /* out_sym id + 1 of the section symbol */
	size_t *out_index;

	size_t *queue;	  /* copied sections, in copy order */
	size_t n_queue;

	struct out_sym *syms;
	size_t n_syms, alloc_syms;
	struct hashmap *ext_syms; /* name -> out_sym id + 1 */

	struct out_relasec *rsecs;
	size_t n_rsecs, alloc_rsecs;
	struct hashmap *rsec_by_name; /* name -> rsec id + 1 */
};

static void ctx_release(struct ctx *c)
{
	free(c->copied);
	free(c->bundle);
	free(c->n_named);
	free(c->secsym);
	free(c->out_index);
	free(c->queue);
	for (size_t i = 0; i < c->n_syms; i++)
		free(c->syms[i].name);
	free(c->syms);
	hashmap_free(c->ext_syms);
	for (size_t i = 0; i < c->n_rsecs; i++) {
		free(c->rsecs[i].name);
		free(c->rsecs[i].relas);
	}
	free(c->rsecs);
	hashmap_free(c->rsec_by_name);
}

static int fail(struct ctx *c, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(struct ctx *c, int r, const char *fmt, ...)
{
	va_list ap;

	if (c->reterr && c->errsize) {
		va_start(ap, fmt);
		vsnprintf(c->reterr, c->errsize, fmt, ap);
		va_end(ap);
	}
	return r;
}

static int is_special(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(special_prefixes); i++)
		if (strncmp(name, special_prefixes[i], strlen(special_prefixes[i])) == 0)
			return 1;
	return 0;
}

static int index_sections(struct ctx *c)
{
	const struct elf_object *o = c->o;
	size_t n = o->n_secs ? o->n_secs : 1;

	c->copied = calloc(n, sizeof(size_t));
	c->bundle = calloc(n, sizeof(size_t));
	c->n_named = calloc(n, sizeof(size_t));
	c->secsym = calloc(n, sizeof(size_t));
	c->out_index = calloc(n, sizeof(size_t));
	c->queue = calloc(n, sizeof(size_t));
	c->ext_syms = hashmap_new(NULL);
	c->rsec_by_name = hashmap_new(NULL);
	if (!c->copied || !c->bundle || !c->n_named || !c->secsym || !c->out_index || !c->queue ||
	    !c->ext_syms || !c->rsec_by_name)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_syms; i++) {
		const struct eo_symbol *s = &o->syms[i];

		if ((s->type != STT_FUNC && s->type != STT_OBJECT) ||
		    !eo_is_section_index(o, s->shndx))
			continue;
		c->n_named[s->shndx]++;
		c->bundle[s->shndx] = c->n_named[s->shndx] == 1 ? i + 1 : 0;
	}
	return 0;
}

static int add_sym(struct ctx *c, struct out_sym *s, size_t *ret_id)
{
	if (c->n_syms == c->alloc_syms) {
		size_t na = c->alloc_syms ? c->alloc_syms * 2 : 16;
		struct out_sym *a = reallocarray(c->syms, na, sizeof(*a));

		if (!a) {
			free(s->name);
			return -ENOMEM;
		}
		c->syms = a;
		c->alloc_syms = na;
	}
	c->syms[c->n_syms] = *s;
	*ret_id = c->n_syms++;
	return 0;
}

/* Copies patched section idx whole and gives it a section symbol. */
static int copy_section(struct ctx *c, size_t idx)
{
	struct out_sym s = { .kind = SK_SECTION, .bind = STB_LOCAL, .type = STT_SECTION,
			     .in_sec = idx };
	size_t id;
	int r;

	if (c->copied[idx])
		return 0;
	s.name = strdup("");
	if (!s.name)
		return -ENOMEM;
	r = add_sym(c, &s, &id);
	if (r < 0)
		return r;
	c->secsym[idx] = id + 1;
	c->queue[c->n_queue++] = idx;
	c->copied[idx] = c->n_queue;
	return 0;
}

/* The defined FUNC/OBJECT symbol called name, as an index; -ENOENT/-ENOTUNIQ otherwise. */
static int find_defined(const struct elf_object *o, const char *name, size_t *ret)
{
	size_t found = 0;

	for (size_t i = 0; i < o->n_syms; i++) {
		const struct eo_symbol *s = &o->syms[i];

		if ((s->type != STT_FUNC && s->type != STT_OBJECT) ||
		    !eo_is_section_index(o, s->shndx) || !streq(s->name, name))
			continue;
		if (found)
			return -ENOTUNIQ;
		found = i + 1;
	}
	if (!found)
		return -ENOENT;
	*ret = found - 1;
	return 0;
}

static int include_symbols(struct ctx *c, char *const *include)
{
	const struct elf_object *o = c->o;

	if (!include || !include[0])
		return fail(c, -EINVAL, "nothing to include");
	for (char *const *n = include; *n; n++) {
		const struct eo_symbol *s;
		const struct eo_section *sec;
		struct out_sym os = { .kind = SK_DEFINED };
		size_t i, id;
		int r;

		r = find_defined(o, *n, &i);
		if (r == -ENOENT)
			return fail(c, r, "'%s' is not a function or object defined in the patched "
					  "object", *n);
		if (r < 0)
			return fail(c, r, "'%s' is defined more than once in the patched object", *n);
		s = &o->syms[i];
		sec = &o->secs[s->shndx];
		if (c->n_named[s->shndx] != 1)
			return fail(c, -EOPNOTSUPP, "'%s' shares section '%s' with other symbols "
					  "(build with -ffunction-sections -fdata-sections)", *n,
				    sec->name);
		if (sec->shdr.sh_flags & SHF_GROUP)
			return fail(c, -EOPNOTSUPP, "'%s' is in a COMDAT group", *n);
		if (is_special(sec->name))
			return fail(c, -EOPNOTSUPP, "'%s' is in special section '%s'", *n,
				    sec->name);
		if (c->copied[s->shndx])
			continue;
		r = copy_section(c, s->shndx);
		if (r < 0)
			return r;
		os.name = strdup(s->name);
		if (!os.name)
			return -ENOMEM;
		os.bind = s->bind;
		os.type = s->type;
		os.in_sec = s->shndx;
		os.value = s->value;
		os.size = s->size;
		r = add_sym(c, &os, &id);
		if (r < 0)
			return r;
	}
	return 0;
}

static int ext_sym(struct ctx *c, const char *name, enum sym_kind kind, unsigned bind,
		   unsigned type, size_t *ret_id)
{
	struct out_sym s = { .kind = kind, .bind = bind, .type = type };
	uintptr_t v = (uintptr_t)hashmap_get(c->ext_syms, name);
	int r;

	if (v) {
		*ret_id = v - 1;
		return 0;
	}
	s.name = strdup(name);
	if (!s.name)
		return -ENOMEM;
	r = add_sym(c, &s, ret_id);
	if (r < 0)
		return r;
	return hashmap_put(c->ext_syms, name, (void *)(uintptr_t)(*ret_id + 1));
}

static int target_sympos(struct ctx *c, const char *objname, const char *name,
			 unsigned long *ret)
{
	size_t count = symtab_count(c->opts->symtab, objname, name);
	int r;

	if (count == 0)
		return fail(c, -ENOENT, "'%s' is neither exported nor in the %s symbol table", name,
			    objname);
	for (size_t i = 0; i < c->opts->n_hints; i++) {
		const struct klp_sympos_hint *h = &c->opts->hints[i];

		if (!h->name || !streq(h->name, name))
			continue;
		if (h->sympos > count)
			return fail(c, -ENOENT, "'%s' occurs %zu times in %s, not %lu", name,
				    count, objname, h->sympos);
		*ret = h->sympos;
		return 0;
	}
	r = symtab_sympos(c->opts->symtab, objname, name, 0, ret);
	if (r == -ENOTUNIQ)
		return fail(c, r, "'%s' occurs %zu times in %s; its position must be given", name,
			    count, objname);
	return r;
}

/* Resolves a reference to the not-included symbol t; *ret_klp gets the klp objname or NULL. */
static int resolve_external(struct ctx *c, const struct eo_symbol *t, size_t *ret_id,
			    const char **ret_klp)
{
	const char *eobj = NULL, *objname = c->opts->objname;
	unsigned long pos = 0;
	char *klpname;
	int r;

	if (strempty(t->name))
		return fail(c, -EOPNOTSUPP, "reference to an unnamed symbol");
	if (t->bind != STB_LOCAL && symtab_exported(c->opts->symtab, t->name, &eobj)) {
		if (streq(eobj, "vmlinux")) {
			*ret_klp = NULL;
			return ext_sym(c, t->name, SK_UNDEF, STB_GLOBAL,
				       t->type == STT_OBJECT || t->type == STT_FUNC ? t->type
										    : STT_NOTYPE,
				       ret_id);
		}
		/* A module's export may not be there when the patch loads: klp resolves it later. */
		objname = eobj;
	} else {
		r = target_sympos(c, objname, t->name, &pos);
		if (r < 0)
			return r;
	}
	if (strlen(t->name) > KLP_SYMNAME_MAX)
		return fail(c, -ENAMETOOLONG, "symbol name '%.60s...' is too long for .klp.sym",
			    t->name);
	if (asprintf(&klpname, ".klp.sym.%s.%s,%lu", objname, t->name, pos) < 0)
		return -ENOMEM;
	r = ext_sym(c, klpname, SK_KLP, t->bind == STB_LOCAL ? STB_LOCAL : STB_GLOBAL,
		    t->type == STT_OBJECT || t->type == STT_FUNC ? t->type : STT_NOTYPE, ret_id);
	free(klpname);
	if (r < 0)
		return r;
	*ret_klp = objname;
	return 0;
}

static int rela_type_ok(unsigned type)
{
	switch (type) {
	case R_X86_64_NONE:
	case R_X86_64_64:
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_PC64:
		return 1;
	default:
		return 0;
	}
}

static int add_rela(struct ctx *c, size_t target, const char *klp_objname, const Elf64_Rela *rel)
{
	const char *secname = c->o->secs[target].name;
	struct out_relasec *rs;
	_cleanup_free_ char *name = NULL;
	uintptr_t v;
	int r;

	if (klp_objname)
		r = asprintf(&name, ".klp.rela.%s.%s", klp_objname, secname);
	else
		r = asprintf(&name, ".rela%s", secname);
	if (r < 0)
		return -ENOMEM;
	v = (uintptr_t)hashmap_get(c->rsec_by_name, name);
	if (!v) {
		if (c->n_rsecs == c->alloc_rsecs) {
			size_t na = c->alloc_rsecs ? c->alloc_rsecs * 2 : 8;
			struct out_relasec *a = reallocarray(c->rsecs, na, sizeof(*a));

			if (!a)
				return -ENOMEM;
			c->rsecs = a;
			c->alloc_rsecs = na;
		}
		r = hashmap_put(c->rsec_by_name, name, (void *)(uintptr_t)(c->n_rsecs + 1));
		if (r < 0)
			return r;
		c->rsecs[c->n_rsecs] = (struct out_relasec){ .name = TAKE_PTR(name), .target = target,
							     .klp = !!klp_objname };
		v = ++c->n_rsecs;
	}
	rs = &c->rsecs[v - 1];
	if (rs->n == rs->alloc) {
		size_t na = rs->alloc ? rs->alloc * 2 : 16;
		Elf64_Rela *a = reallocarray(rs->relas, na, sizeof(*a));

		if (!a)
			return -ENOMEM;
		rs->relas = a;
		rs->alloc = na;
	}
	rs->relas[rs->n++] = *rel;
	return 0;
}

static int anonymous_copyable(const struct eo_section *sec)
{
	uint64_t f = sec->shdr.sh_flags;

	return sec->shdr.sh_type == SHT_PROGBITS && (f & SHF_ALLOC) &&
	       !(f & (SHF_WRITE | SHF_EXECINSTR | SHF_GROUP | SHF_TLS)) && !is_special(sec->name);
}

static int process_rela(struct ctx *c, size_t secidx, const struct eo_rela *er)
{
	const struct elf_object *o = c->o;
	const struct eo_symbol *s = &o->syms[er->sym];
	const struct eo_symbol *t = s;
	const char *klp = NULL;
	int64_t addend = er->addend;
	Elf64_Rela rel;
	size_t id;
	int r;

	if (!rela_type_ok(er->type))
		return fail(c, -EOPNOTSUPP, "relocation type %u at %s+0x%llx is not supported",
			    er->type, o->secs[secidx].name, (unsigned long long)er->offset);
	if (s->shndx == SHN_ABS || s->shndx == SHN_COMMON || s->shndx >= SHN_LORESERVE)
		return fail(c, -EOPNOTSUPP, "reference to '%s' in %s (absolute or common)", s->name,
			    o->secs[secidx].name);
	if (er->sym == 0) {
		id = SIZE_MAX;
	} else if (eo_is_section_index(o, s->shndx)) {
		size_t d = s->shndx;
		const struct eo_section *dsec = &o->secs[d];

		if (!c->copied[d] && c->n_named[d] == 0) {
			if (!anonymous_copyable(dsec))
				return fail(c, -EOPNOTSUPP, "%s refers to section '%s', which "
							    "phase 1 cannot carry",
					    o->secs[secidx].name, dsec->name);
			r = copy_section(c, d);
			if (r < 0)
				return r;
		}
		if (c->copied[d]) {
			/* Anything in a copied section: the section symbol plus offset. */
			id = c->secsym[d] - 1;
			if (s->type != STT_SECTION)
				addend += (int64_t)s->value;
		} else {
			if (s->type != STT_FUNC && s->type != STT_OBJECT) {
				/* Section symbol (gas rewrites local references so). */
				if (!c->bundle[d])
					return fail(c, -EOPNOTSUPP, "%s refers into section '%s' "
								    "holding several symbols",
						    o->secs[secidx].name, dsec->name);
				t = &o->syms[c->bundle[d] - 1];
				addend += (int64_t)s->value - (int64_t)t->value;
			}
			r = resolve_external(c, t, &id, &klp);
			if (r < 0)
				return r;
		}
	} else {
		r = resolve_external(c, s, &id, &klp);
		if (r < 0)
			return r;
	}
	rel.r_offset = er->offset;
	/* Stash the out_sym id; the final index is known only once all symbols are in. */
	rel.r_info = ELF64_R_INFO(id == SIZE_MAX ? 0 : id + 1, er->type);
	rel.r_addend = addend;
	return add_rela(c, secidx, klp, &rel);
}

static int process_sections(struct ctx *c)
{
	/* The queue grows while we walk it: copied anonymous data may refer further. */
	for (size_t q = 0; q < c->n_queue; q++) {
		size_t idx = c->queue[q];
		const struct eo_section *sec = &c->o->secs[idx];

		for (size_t j = 0; j < sec->n_relas; j++) {
			int r = process_rela(c, idx, &sec->relas[j]);

			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int collect_special(const struct elf_object *o, const size_t *included, char ***ret)
{
	char **v = NULL;
	int r;

	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (size_t i = 1; i < o->n_secs; i++) {
		const struct eo_section *sec = &o->secs[i];
		int hit = 0;

		if (included[i]) {
			/* Code of ours pointing at a special section. */
			for (size_t j = 0; j < sec->n_relas; j++) {
				const struct eo_symbol *s = &o->syms[sec->relas[j].sym];

				if (eo_is_section_index(o, s->shndx) &&
				    is_special(o->secs[s->shndx].name) &&
				    !strv_contains(v, o->secs[s->shndx].name)) {
					r = strv_push(&v, o->secs[s->shndx].name);
					if (r < 0) {
						strv_free(v);
						return r;
					}
				}
			}
			continue;
		}
		if (!is_special(sec->name))
			continue;
		for (size_t j = 0; j < sec->n_relas && !hit; j++) {
			const struct eo_symbol *s = &o->syms[sec->relas[j].sym];

			hit = eo_is_section_index(o, s->shndx) && included[s->shndx];
		}
		if (hit && !strv_contains(v, sec->name)) {
			r = strv_push(&v, sec->name);
			if (r < 0) {
				strv_free(v);
				return r;
			}
		}
	}
	*ret = v;
	return 0;
}

int klp_object_special_sections(const struct elf_object *patched, char *const *include,
				char ***ret)
{
	_cleanup_free_ size_t *included = NULL;
	size_t i;
	int r;

	if (!include || !include[0])
		return -EINVAL;
	included = calloc(patched->n_secs ? patched->n_secs : 1, sizeof(size_t));
	if (!included)
		return -ENOMEM;
	for (char *const *n = include; *n; n++) {
		r = find_defined(patched, *n, &i);
		if (r == -ENOTUNIQ)
			r = -ENOENT;
		if (r < 0)
			return r;
		included[patched->syms[i].shndx] = 1;
	}
	return collect_special(patched, included, ret);
}

static int check_special(struct ctx *c)
{
	_cleanup_(strv_freep) char **v = NULL;
	struct strbuf sb;
	int r;

	r = collect_special(c->o, c->copied, &v);
	if (r < 0)
		return r;
	if (!v[0])
		return 0;
	strbuf_init(&sb, 0);
	for (size_t i = 0; v[i]; i++)
		if (strbuf_addf(&sb, "%s'%s'", i ? ", " : "", v[i]) < 0) {
			strbuf_release(&sb);
			return -ENOMEM;
		}
	r = fail(c, -EOPNOTSUPP, "included code needs special sections not handled yet: %s",
		 sb.buf);
	strbuf_release(&sb);
	return r;
}

/* Adds s to a string table; returns its offset or a negative errno. */
static int64_t strtab_add(struct strbuf *sb, const char *s)
{
	size_t off = sb->len;

	if (strbuf_add(sb, s, strlen(s) + 1) < 0)
		return -ENOMEM;
	return (int64_t)off;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

struct writer {
	Elf *e;
	struct strbuf shstr;
};

static int new_section(struct writer *w, const char *name, const Elf64_Shdr *tmpl, void *buf,
		       size_t size, Elf_Type type, size_t *ret_index)
{
	Elf_Scn *scn = elf_newscn(w->e);
	Elf64_Shdr *sh;
	Elf_Data *d;
	int64_t off;

	if (!scn)
		return -EIO;
	sh = elf64_getshdr(scn);
	d = elf_newdata(scn);
	if (!sh || !d)
		return -EIO;
	off = strtab_add(&w->shstr, name);
	if (off < 0)
		return (int)off;
	*sh = *tmpl;
	sh->sh_name = (Elf64_Word)off;
	d->d_buf = buf;
	d->d_size = size;
	d->d_type = type;
	d->d_align = tmpl->sh_addralign ? tmpl->sh_addralign : 1;
	d->d_version = EV_CURRENT;
	*ret_index = elf_ndxscn(scn);
	return 0;
}

static int write_elf(struct ctx *c, int fd)
{
	const struct elf_object *o = c->o;
	struct writer w = { 0 };
	_cleanup_free_ size_t *order = NULL;
	_cleanup_free_ Elf64_Sym *symtab = NULL;
	_cleanup_(strbuf_releasep) struct strbuf strtab = { 0 };
	Elf64_Ehdr *eh;
	Elf64_Shdr sh;
	size_t n_local = 1, next, symtab_idx, strtab_idx, shstr_idx, idx;
	int r = 0;

	strbuf_init(&w.shstr, 0);
	strbuf_init(&strtab, 0);
	order = calloc(c->n_queue ? c->n_queue : 1, sizeof(size_t));
	symtab = calloc(c->n_syms + 1, sizeof(Elf64_Sym));
	if (!order || !symtab || strtab_add(&w.shstr, "") < 0 || strtab_add(&strtab, "") < 0) {
		strbuf_release(&w.shstr);
		return -ENOMEM;
	}

	w.e = elf_begin(fd, ELF_C_WRITE, NULL);
	if (!w.e) {
		strbuf_release(&w.shstr);
		return -EIO;
	}
	eh = elf64_newehdr(w.e);
	if (!eh) {
		r = -EIO;
		goto out;
	}
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_REL;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;

	/* Copied sections keep the patched object's order. */
	memcpy(order, c->queue, c->n_queue * sizeof(size_t));
	qsort(order, c->n_queue, sizeof(size_t), cmp_size);
	for (size_t i = 0; i < c->n_queue; i++) {
		const struct eo_section *sec = &o->secs[order[i]];

		sh = (Elf64_Shdr){ .sh_type = sec->shdr.sh_type,
				   .sh_flags = sec->shdr.sh_flags & ~(uint64_t)SHF_GROUP,
				   .sh_addralign = sec->shdr.sh_addralign,
				   .sh_entsize = sec->shdr.sh_entsize,
				   .sh_size = sec->size };
		r = new_section(&w, sec->name, &sh, sec->data ? (void *)sec->data : NULL,
				sec->data ? sec->size : 0, ELF_T_BYTE, &c->out_index[order[i]]);
		if (r < 0)
			goto out;
		if (!sec->data) {
			/* NOBITS: libelf takes the size from the header, not the data. */
			Elf64_Shdr *p = elf64_getshdr(elf_getscn(w.e, c->out_index[order[i]]));

			p->sh_size = sec->size;
		}
	}
	/* Keeps ld from assuming an executable stack. */
	sh = (Elf64_Shdr){ .sh_type = SHT_PROGBITS, .sh_addralign = 1 };
	r = new_section(&w, ".note.GNU-stack", &sh, NULL, 0, ELF_T_BYTE, &idx);
	if (r < 0)
		goto out;

	/* Symbols: locals (section symbols first) before globals, as ELF requires. */
	next = 1;
	for (int pass = 0; pass < 3; pass++)
		for (size_t i = 0; i < c->n_syms; i++) {
			struct out_sym *s = &c->syms[i];
			int local = s->bind == STB_LOCAL;

			if ((pass == 0) != (s->kind == SK_SECTION) ||
			    (pass == 1 && !local) || (pass == 2 && local))
				continue;
			s->final = next++;
		}
	for (size_t i = 0; i < c->n_syms; i++) {
		const struct out_sym *s = &c->syms[i];
		Elf64_Sym *es = &symtab[s->final];
		int64_t off = strtab_add(&strtab, s->name);

		if (off < 0) {
			r = -ENOMEM;
			goto out;
		}
		es->st_name = s->kind == SK_SECTION ? 0 : (Elf64_Word)off;
		es->st_info = ELF64_ST_INFO(s->bind, s->type);
		es->st_value = s->value;
		es->st_size = s->size;
		if (s->kind == SK_SECTION || s->kind == SK_DEFINED)
			es->st_shndx = (Elf64_Half)c->out_index[s->in_sec];
		else if (s->kind == SK_KLP)
			es->st_shndx = KLP_SHN_LIVEPATCH;
		if (s->bind == STB_LOCAL && s->final + 1 > n_local)
			n_local = s->final + 1;
	}

	/* Relocation sections; symtab comes right after them. */
	symtab_idx = idx + c->n_rsecs + 1;
	for (size_t i = 0; i < c->n_rsecs; i++) {
		struct out_relasec *rs = &c->rsecs[i];

		for (size_t j = 0; j < rs->n; j++) {
			size_t id = ELF64_R_SYM(rs->relas[j].r_info);
			unsigned type = ELF64_R_TYPE(rs->relas[j].r_info);

			rs->relas[j].r_info = ELF64_R_INFO(id ? c->syms[id - 1].final : 0, type);
		}
		sh = (Elf64_Shdr){ .sh_type = SHT_RELA,
				   .sh_flags = SHF_INFO_LINK,
				   .sh_addralign = 8,
				   .sh_entsize = sizeof(Elf64_Rela),
				   .sh_link = (Elf64_Word)symtab_idx,
				   .sh_info = (Elf64_Word)c->out_index[rs->target] };
		if (rs->klp)
			sh.sh_flags |= SHF_ALLOC | KLP_SHF_RELA_LIVEPATCH;
		r = new_section(&w, rs->name, &sh, rs->relas, rs->n * sizeof(Elf64_Rela),
				ELF_T_RELA, &rs->out_index);
		if (r < 0)
			goto out;
	}

	sh = (Elf64_Shdr){ .sh_type = SHT_SYMTAB, .sh_addralign = 8,
			   .sh_entsize = sizeof(Elf64_Sym), .sh_link = (Elf64_Word)symtab_idx + 1,
			   .sh_info = (Elf64_Word)n_local };
	r = new_section(&w, ".symtab", &sh, symtab, (c->n_syms + 1) * sizeof(Elf64_Sym), ELF_T_SYM,
			&idx);
	if (r < 0)
		goto out;
	if (idx != symtab_idx) {
		r = -EIO;
		goto out;
	}
	sh = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1 };
	r = new_section(&w, ".strtab", &sh, strtab.buf, strtab.len, ELF_T_BYTE, &strtab_idx);
	if (r < 0)
		goto out;
	/* The name must be in the table before the table's size is taken. */
	if (strtab_add(&w.shstr, ".shstrtab") < 0) {
		r = -ENOMEM;
		goto out;
	}
	{
		Elf_Scn *scn = elf_newscn(w.e);
		Elf64_Shdr *p = scn ? elf64_getshdr(scn) : NULL;
		Elf_Data *d = scn ? elf_newdata(scn) : NULL;

		if (!p || !d) {
			r = -EIO;
			goto out;
		}
		*p = (Elf64_Shdr){ .sh_type = SHT_STRTAB, .sh_addralign = 1,
				   .sh_name = (Elf64_Word)(w.shstr.len - strlen(".shstrtab") - 1) };
		d->d_buf = w.shstr.buf;
		d->d_size = w.shstr.len;
		d->d_type = ELF_T_BYTE;
		d->d_align = 1;
		d->d_version = EV_CURRENT;
		shstr_idx = elf_ndxscn(scn);
	}
	eh->e_shstrndx = (Elf64_Half)shstr_idx;
	if (elf_update(w.e, ELF_C_WRITE) < 0)
		r = -EIO;
out:
	elf_end(w.e);
	strbuf_release(&w.shstr);
	return r;
}

static int write_file(struct ctx *c, const char *path)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (asprintf(&tmp, "%s.tmpXXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return fail(c, -errno, "cannot create '%s'", tmp);
	r = write_elf(c, fd);
	if (r == -EIO)
		r = fail(c, r, "writing ELF: %s", elf_errmsg(-1));
	if (r >= 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		r = fail(c, -errno, "cannot write '%s'", tmp);
	if (r >= 0 && rename(tmp, path) < 0)
		r = fail(c, -errno, "cannot rename to '%s'", path);
	if (r < 0)
		unlink(tmp);
	return r;
}

int klp_object_write(const struct elf_object *patched, char *const *include,
		     const struct klp_object_options *opts, const char *path, char *reterr,
		     size_t errsize)
{
	struct ctx c = { .o = patched, .opts = opts, .reterr = reterr, .errsize = errsize };
	int r;

	if (!opts || !opts->symtab || strempty(opts->objname) ||
	    strlen(opts->objname) > KLP_OBJNAME_MAX || strchr(opts->objname, '.'))
		return fail(&c, -EINVAL, "a target object name without '.' (at most %d bytes) and "
					 "a symbol table are required", KLP_OBJNAME_MAX);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	r = index_sections(&c);
	if (r >= 0)
		r = include_symbols(&c, include);
	if (r >= 0)
		r = check_special(&c);
	if (r >= 0)
		r = process_sections(&c);
	if (r >= 0)
		r = write_file(&c, path);
	ctx_release(&c);
	return r;
}
