/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
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

/*
 * How a section of the patched object is carried.  The work happens in three
 * passes: marking (what is copied: included sections whole, referenced cells
 * of pieced sections, special-section entries whose anchor is copied code),
 * layout (offsets in the new sections) and emission (relocations converted).
 * Marking and emission classify references with the same function, so they
 * cannot disagree about what a reference means.
 */
enum sec_class {
	SC_NORMAL,	/* code or data: copied whole when included or anonymous */
	SC_ENTRIES,	/* fixed-size entries anchored in code by their first field */
	SC_ALT,		/* .altinstructions: entries that also pull in replacement code */
	SC_ORC_IP,	/* .orc_unwind_ip: entries; .orc_unwind follows by index */
	SC_ORC,		/* .orc_unwind: carried with .orc_unwind_ip */
	SC_PIECES,	/* copied in pieces, as far as kept code or entries refer to it */
	SC_SYMBOLIC,	/* defined by other code, only referenced by symbol */
	SC_INIT,	/* __init/__exit: refused when copied code refers to it */
	SC_UNSUPPORTED, /* refused when it refers to copied code (not used by 6.1 x86) */
	SC_DROP,	/* never carried, never refused */
};

/* How an SC_PIECES section is cut. */
enum cut {
	CUT_NONE,
	CUT_FIXED,	/* fixed-size records (entsize) */
	CUT_SYMBOLS,	/* at its symbols' boundaries */
	CUT_REFERENCES, /* at every offset something refers to */
	CUT_RANGES,	/* ranges named by .altinstructions entries */
};

struct special_def {
	const char *name;
	bool prefix;
	enum sec_class cls;
	size_t entsize;
	enum cut cut;
};

/*
 * Entry sizes of Debian 12's 6.1 x86_64 kernel (struct bug_entry with
 * relative pointers and BUGVERBOSE, exception_table_entry, alt_instr,
 * jump_entry, static_call_site, paravirt_patch_site, orc_entry, _ddebug).
 */
static const struct special_def specials[] = {
	{ "__bug_table", false, SC_ENTRIES, 12, CUT_NONE },
	{ "__ex_table", false, SC_ENTRIES, 12, CUT_NONE },
	{ ".altinstructions", false, SC_ALT, 12, CUT_NONE },
	{ ".altinstr_replacement", false, SC_PIECES, 0, CUT_RANGES },
	{ ".altinstr_aux", false, SC_PIECES, 0, CUT_REFERENCES },
	{ "__jump_table", false, SC_ENTRIES, 16, CUT_NONE },
	{ ".static_call_sites", false, SC_ENTRIES, 8, CUT_NONE },
	{ ".parainstructions", false, SC_ENTRIES, 16, CUT_NONE },
	{ ".smp_locks", false, SC_ENTRIES, 4, CUT_NONE },
	{ ".retpoline_sites", false, SC_ENTRIES, 4, CUT_NONE },
	{ ".return_sites", false, SC_ENTRIES, 4, CUT_NONE },
	{ "__mcount_loc", false, SC_ENTRIES, 8, CUT_NONE },
	{ ".orc_unwind_ip", false, SC_ORC_IP, 4, CUT_NONE },
	{ ".orc_unwind", false, SC_ORC, 6, CUT_NONE },
	{ "__dyndbg", false, SC_PIECES, 56, CUT_FIXED },
	/* WARN_ONCE and friends: a fresh flag per patch, as for new code. */
	{ ".data.once", false, SC_PIECES, 0, CUT_SYMBOLS },
	{ ".data..once", false, SC_PIECES, 0, CUT_SYMBOLS },
	{ ".data.unlikely", false, SC_PIECES, 0, CUT_SYMBOLS },
	{ ".data..unlikely", false, SC_PIECES, 0, CUT_SYMBOLS },
	{ "__tracepoints", true, SC_SYMBOLIC, 0, CUT_NONE },
	{ ".static_call.text", false, SC_SYMBOLIC, 0, CUT_NONE },
	{ ".init.", true, SC_INIT, 0, CUT_NONE },
	{ ".exit.", true, SC_INIT, 0, CUT_NONE },
	{ "__patchable_function_entries", false, SC_UNSUPPORTED, 0, CUT_NONE },
	{ ".call_sites", false, SC_UNSUPPORTED, 0, CUT_NONE },
	{ ".printk_index", false, SC_UNSUPPORTED, 0, CUT_NONE },
	{ ".ibt_endbr_seal", false, SC_UNSUPPORTED, 0, CUT_NONE },
	{ ".kcfi_traps", false, SC_UNSUPPORTED, 0, CUT_NONE },
	{ ".fixup", false, SC_UNSUPPORTED, 0, CUT_NONE },
	{ "__dyndbg_classes", false, SC_UNSUPPORTED, 0, CUT_NONE },
	{ "__verbose", false, SC_UNSUPPORTED, 0, CUT_NONE },
	{ ".discard.", true, SC_DROP, 0, CUT_NONE },
	{ ".note.", true, SC_DROP, 0, CUT_NONE },
	{ ".comment", false, SC_DROP, 0, CUT_NONE },
	{ ".GCC.command.line", false, SC_DROP, 0, CUT_NONE },
};

static const struct special_def normal_def = { "", false, SC_NORMAL, 0, CUT_NONE };

/* Read-only local data gcc names per function, safe to copy (never compared by address). */
static const char *const copyable_const_prefixes[] = {
	"__func__.", "__FUNCTION__.", "__PRETTY_FUNCTION__.", "CSWTCH.",
};

enum sym_kind {
	SK_SECTION,	/* section symbol of an output section */
	SK_DEFINED,	/* symbol defined in an output section */
	SK_UNDEF,	/* exported by vmlinux: resolved by the module loader */
	SK_KLP,		/* .klp.sym.*: resolved by the livepatch core */
};

struct out_sym {
	char *name;
	enum sym_kind kind;
	unsigned bind, type;
	size_t osec;	/* output section id for SK_SECTION/SK_DEFINED */
	uint64_t value, size;
	size_t final;	/* index in the written .symtab */
};

/* A byte range of a patched section placed at out in its output section. */
struct piece {
	uint64_t src, len, out;
	const char *owner; /* the included function it belongs to, for messages */
};

struct out_sec {
	size_t src;	/* patched section index */
	bool whole;	/* the whole section, at the same offsets */
	struct piece *pieces;
	size_t n_pieces, alloc_pieces;
	uint64_t size;
	unsigned char *buf; /* built contents unless whole or NOBITS */
	size_t symid;	/* its section symbol */
	size_t out_index;
};

/* Cells of a CUT_FIXED/CUT_SYMBOLS/CUT_REFERENCES section: cell i is [bounds[i], bounds[i+1]). */
struct cells {
	uint64_t *bounds;
	size_t n;
	bool *marked;
	const char **owner;
};

struct work {
	size_t sec;
	uint64_t lo, hi;
	const char *owner;
};

struct entry_count {
	size_t kept, total;
};

struct out_relasec {
	char *name;
	size_t osec;	/* the output section it applies to */
	int klp;
	Elf64_Rela *relas; /* r_info holds the out_sym id until written */
	size_t n, alloc;
	size_t out_index;
};

struct ctx {
	const struct elf_object *o;
	const struct klp_object_options *opts;
	char *const *include;
	char *reterr;
	size_t errsize;

	/* Per patched section. */
	const struct special_def **def;
	size_t *bundle;	  /* FUNC/OBJECT symbol index + 1 when exactly one, else 0 */
	size_t *n_named;  /* FUNC/OBJECT symbols in the section */
	size_t *osec;	  /* output section id + 1 */
	bool *included;	  /* holds an included symbol */
	struct cells *cells;
	struct entry_count *count;

	struct out_sec *osecs;
	size_t n_osecs, alloc_osecs;

	struct work *work;
	size_t n_work, alloc_work;

	struct out_sym *syms;
	size_t n_syms, alloc_syms;
	struct hashmap *ext_syms; /* name -> out_sym id + 1 */

	struct out_relasec *rsecs;
	size_t n_rsecs, alloc_rsecs;
	struct hashmap *rsec_by_name; /* name -> rsec id + 1 */

	char **copied_data;
};

static void ctx_release(struct ctx *c)
{
	size_t n = c->o ? c->o->n_secs : 0;

	if (c->cells)
		for (size_t i = 0; i < n; i++) {
			free(c->cells[i].bounds);
			free(c->cells[i].marked);
			free(c->cells[i].owner);
		}
	free(c->cells);
	free(c->def);
	free(c->bundle);
	free(c->n_named);
	free(c->osec);
	free(c->included);
	free(c->count);
	for (size_t i = 0; i < c->n_osecs; i++) {
		free(c->osecs[i].pieces);
		free(c->osecs[i].buf);
	}
	free(c->osecs);
	free(c->work);
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
	strv_free(c->copied_data);
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

/* Grows an array of n used elements to room for one more. */
static int grow(void **arr, size_t *alloc, size_t n, size_t elem)
{
	size_t na;
	void *a;

	if (n < *alloc)
		return 0;
	na = *alloc ? *alloc * 2 : 16;
	a = reallocarray(*arr, na, elem);
	if (!a)
		return -ENOMEM;
	*arr = a;
	*alloc = na;
	return 0;
}

static const struct special_def *lookup_def(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(specials); i++) {
		const struct special_def *d = &specials[i];

		if (d->prefix ? strncmp(name, d->name, strlen(d->name)) == 0 : streq(name, d->name))
			return d;
	}
	return &normal_def;
}

static int is_special_class(enum sec_class cls)
{
	return cls != SC_NORMAL && cls != SC_DROP;
}

static int is_special(const char *name)
{
	return is_special_class(lookup_def(name)->cls);
}

static int is_exec(const struct eo_section *sec)
{
	return !!(sec->shdr.sh_flags & SHF_EXECINSTR);
}

/* Bytes a relocation of this type writes; 0 for types we do not carry. */
static unsigned rela_width(unsigned type)
{
	switch (type) {
	case R_X86_64_NONE:
		return 0;
	case R_X86_64_64:
	case R_X86_64_PC64:
		return 8;
	case R_X86_64_32:
	case R_X86_64_32S:
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
		return 4;
	default:
		return 0;
	}
}

static int rela_type_ok(unsigned type)
{
	return type == R_X86_64_NONE || rela_width(type) > 0;
}

/* First relocation of sec at or after off (relocations are sorted by offset). */
static size_t rela_lower_bound(const struct eo_section *sec, uint64_t off)
{
	size_t lo = 0, hi = sec->n_relas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sec->relas[mid].offset < off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The named FUNC/OBJECT symbol of section d covering offset x, or NULL. */
static const struct eo_symbol *covering_symbol(const struct elf_object *o, size_t d, int64_t x)
{
	for (size_t i = 0; i < o->n_syms; i++) {
		const struct eo_symbol *s = &o->syms[i];

		if ((s->type == STT_FUNC || s->type == STT_OBJECT) && s->shndx == d && x >= 0 &&
		    (uint64_t)x >= s->value && (uint64_t)x - s->value < s->size)
			return s;
	}
	return NULL;
}

static int index_sections(struct ctx *c)
{
	const struct elf_object *o = c->o;
	size_t n = o->n_secs ? o->n_secs : 1;

	c->def = calloc(n, sizeof(*c->def));
	c->bundle = calloc(n, sizeof(size_t));
	c->n_named = calloc(n, sizeof(size_t));
	c->osec = calloc(n, sizeof(size_t));
	c->included = calloc(n, sizeof(bool));
	c->cells = calloc(n, sizeof(struct cells));
	c->count = calloc(n, sizeof(struct entry_count));
	c->ext_syms = hashmap_new(NULL);
	c->rsec_by_name = hashmap_new(NULL);
	c->copied_data = calloc(1, sizeof(char *));
	if (!c->def || !c->bundle || !c->n_named || !c->osec || !c->included || !c->cells ||
	    !c->count || !c->ext_syms || !c->rsec_by_name || !c->copied_data)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_secs; i++)
		c->def[i] = i ? lookup_def(o->secs[i].name) : &normal_def;
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

/* Entry arrays must hold whole entries of the size the kernel expects. */
static int check_entry_sizes(struct ctx *c)
{
	const struct elf_object *o = c->o;
	size_t ip = 0, orc = 0;

	for (size_t i = 1; i < o->n_secs; i++) {
		const struct eo_section *sec = &o->secs[i];
		const struct special_def *d = c->def[i];
		size_t e = d->entsize;

		if (d->cls == SC_ORC_IP)
			ip = ip ? SIZE_MAX : i;
		if (d->cls == SC_ORC)
			orc = orc ? SIZE_MAX : i;
		if (!e)
			continue;
		if (sec->size && (sec->shdr.sh_type == SHT_NOBITS || !sec->data))
			return fail(c, -EBADMSG, "special section '%s' has no contents", sec->name);
		if (sec->size % e)
			return fail(c, -EBADMSG, "special section '%s': size %zu is not a "
						 "multiple of its entry size %zu (truncated?)",
				    sec->name, sec->size, e);
		if (sec->shdr.sh_entsize && sec->shdr.sh_entsize != e)
			return fail(c, -EBADMSG, "special section '%s': entry size %llu, "
						 "expected %zu", sec->name,
				    (unsigned long long)sec->shdr.sh_entsize, e);
	}
	if (ip == SIZE_MAX || orc == SIZE_MAX)
		return fail(c, -EBADMSG, "more than one '.orc_unwind_ip' or '.orc_unwind' section");
	if ((ip && !orc) || (!ip && orc))
		return fail(c, -EBADMSG, "'.orc_unwind_ip' and '.orc_unwind' come in pairs, found "
					 "only '%s'", ip ? ".orc_unwind_ip" : ".orc_unwind");
	if (ip && o->secs[ip].size / 4 != o->secs[orc].size / 6)
		return fail(c, -EBADMSG, "'.orc_unwind_ip' has %zu entries, '.orc_unwind' %zu",
			    o->secs[ip].size / 4, o->secs[orc].size / 6);
	return 0;
}

static int add_sym(struct ctx *c, struct out_sym *s, size_t *ret_id)
{
	if (grow((void **)&c->syms, &c->alloc_syms, c->n_syms, sizeof(*c->syms)) < 0) {
		free(s->name);
		return -ENOMEM;
	}
	c->syms[c->n_syms] = *s;
	*ret_id = c->n_syms++;
	return 0;
}

/* The output section for patched section idx, created with its section symbol. */
static int get_osec(struct ctx *c, size_t idx, struct out_sec **ret)
{
	struct out_sym s = { .kind = SK_SECTION, .bind = STB_LOCAL, .type = STT_SECTION };
	size_t id;
	int r;

	if (!c->osec[idx]) {
		if (grow((void **)&c->osecs, &c->alloc_osecs, c->n_osecs, sizeof(*c->osecs)) < 0)
			return -ENOMEM;
		s.name = strdup("");
		if (!s.name)
			return -ENOMEM;
		s.osec = c->n_osecs;
		r = add_sym(c, &s, &id);
		if (r < 0)
			return r;
		c->osecs[c->n_osecs] = (struct out_sec){ .src = idx, .symid = id };
		c->osec[idx] = ++c->n_osecs;
	}
	*ret = &c->osecs[c->osec[idx] - 1];
	return 0;
}

static int push_work(struct ctx *c, size_t sec, uint64_t lo, uint64_t hi, const char *owner)
{
	if (grow((void **)&c->work, &c->alloc_work, c->n_work, sizeof(*c->work)) < 0)
		return -ENOMEM;
	c->work[c->n_work++] = (struct work){ .sec = sec, .lo = lo, .hi = hi, .owner = owner };
	return 0;
}

static int add_piece(struct out_sec *os, uint64_t src, uint64_t len, uint64_t out,
		     const char *owner)
{
	if (grow((void **)&os->pieces, &os->alloc_pieces, os->n_pieces, sizeof(*os->pieces)) < 0)
		return -ENOMEM;
	os->pieces[os->n_pieces++] = (struct piece){ .src = src, .len = len, .out = out,
						     .owner = owner };
	if (out + len > os->size)
		os->size = out + len;
	return 0;
}

/* Copies patched section idx whole (once) and queues its relocations. */
static int copy_whole(struct ctx *c, size_t idx, const char *owner)
{
	const struct eo_section *sec = &c->o->secs[idx];
	struct out_sec *os;
	int r;

	if (c->osec[idx])
		return 0;
	r = get_osec(c, idx, &os);
	if (r < 0)
		return r;
	os->whole = true;
	r = add_piece(os, 0, sec->size, 0, owner);
	if (r < 0)
		return r;
	return push_work(c, idx, 0, sec->size, owner);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Where a relocation of from (at er) can point into its target: [lo, hi]. */
static void ref_span(const struct eo_section *from, const struct eo_rela *er, int64_t base,
		     int64_t *lo, int64_t *hi)
{
	/*
	 * A PC-relative field inside an instruction is followed by up to 4
	 * bytes of immediate, and its addend is biased by what follows it.
	 */
	if (is_exec(from) && (er->type == R_X86_64_PC32 || er->type == R_X86_64_PLT32)) {
		*lo = base + 4;
		*hi = base + 8;
	} else {
		*lo = *hi = base;
	}
}

static int64_t sym_base(const struct eo_symbol *s, int64_t addend)
{
	return addend + (s->type == STT_SECTION ? 0 : (int64_t)s->value);
}

static int build_cells(struct ctx *c, size_t d)
{
	const struct elf_object *o = c->o;
	const struct eo_section *sec = &o->secs[d];
	struct cells *cl = &c->cells[d];
	uint64_t *b;
	size_t n = 0, cap = 2;

	if (cl->bounds)
		return 0;
	switch (c->def[d]->cut) {
	case CUT_FIXED:
		cap = sec->size / c->def[d]->entsize + 1;
		break;
	case CUT_SYMBOLS:
		cap += 2 * c->n_named[d];
		break;
	case CUT_REFERENCES:
		for (size_t i = 0; i < o->n_secs; i++)
			cap += o->secs[i].n_relas;
		break;
	default:
		return -EINVAL;
	}
	b = calloc(cap, sizeof(uint64_t));
	if (!b)
		return -ENOMEM;
	b[n++] = 0;
	b[n++] = sec->size;
	if (c->def[d]->cut == CUT_FIXED) {
		for (uint64_t x = c->def[d]->entsize; x < sec->size; x += c->def[d]->entsize)
			b[n++] = x;
	} else if (c->def[d]->cut == CUT_SYMBOLS) {
		for (size_t i = 0; i < o->n_syms; i++) {
			const struct eo_symbol *s = &o->syms[i];

			if ((s->type != STT_FUNC && s->type != STT_OBJECT) || s->shndx != d)
				continue;
			{
				uint64_t start = s->value < sec->size ? s->value : sec->size;

				b[n++] = start;
				b[n++] = s->size < sec->size - start ? start + s->size : sec->size;
			}
		}
	} else {
		for (size_t i = 1; i < o->n_secs; i++)
			for (size_t j = 0; j < o->secs[i].n_relas; j++) {
				const struct eo_rela *er = &o->secs[i].relas[j];
				const struct eo_symbol *s = &o->syms[er->sym];
				int64_t lo, hi;

				if (s->shndx != d)
					continue;
				ref_span(&o->secs[i], er, sym_base(s, er->addend), &lo, &hi);
				if (lo > 0 && (uint64_t)lo < sec->size)
					b[n++] = (uint64_t)lo;
			}
	}
	qsort(b, n, sizeof(uint64_t), cmp_u64);
	cl->n = 0;
	for (size_t i = 1; i < n; i++)
		if (b[i] != b[cl->n])
			b[++cl->n] = b[i];
	cl->bounds = b;
	cl->marked = calloc(cl->n ? cl->n : 1, sizeof(bool));
	cl->owner = calloc(cl->n ? cl->n : 1, sizeof(char *));
	if (!cl->marked || !cl->owner)
		return -ENOMEM;
	return 0;
}

/* The cell holding x (clamped into the section); SIZE_MAX for an empty section. */
static size_t find_cell(const struct cells *cl, int64_t x)
{
	size_t lo = 0, hi = cl->n;

	if (!cl->n)
		return SIZE_MAX;
	if (x < 0)
		return 0;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (cl->bounds[mid] <= (uint64_t)x)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

static int mark_cells(struct ctx *c, size_t d, int64_t lo, int64_t hi, const char *owner)
{
	struct cells *cl = &c->cells[d];
	size_t a, b;
	int r;

	r = build_cells(c, d);
	if (r < 0)
		return r;
	a = find_cell(cl, lo);
	b = find_cell(cl, hi);
	if (a == SIZE_MAX)
		return 0;
	for (size_t i = a; i <= b; i++) {
		if (cl->marked[i])
			continue;
		cl->marked[i] = true;
		cl->owner[i] = owner;
		r = push_work(c, d, cl->bounds[i], cl->bounds[i + 1], owner);
		if (r < 0)
			return r;
	}
	return 0;
}

/* The piece of a pieced output section that holds x: starting at x, else covering it. */
static const struct piece *find_piece(const struct out_sec *os, uint64_t x)
{
	const struct piece *cover = NULL, *end = NULL;

	for (size_t i = 0; i < os->n_pieces; i++) {
		const struct piece *p = &os->pieces[i];

		if (p->src == x)
			return p;
		if (!cover && p->src < x && x - p->src < p->len)
			cover = p;
		if (!end && p->src < x && x - p->src == p->len)
			end = p;
	}
	return cover ? cover : end;
}

static int copyable_const(const struct ctx *c, const struct eo_symbol *s);

/* Readable name of what offset x of section d holds, for messages. */
static const char *what_at(const struct ctx *c, size_t d, int64_t x, char *buf, size_t size)
{
	const struct eo_symbol *t = covering_symbol(c->o, d, x);

	if (t)
		return t->name;
	if (c->bundle[d])
		return c->o->syms[c->bundle[d] - 1].name;
	snprintf(buf, size, "%s+0x%llx", c->o->secs[d].name, (unsigned long long)x);
	return buf;
}

static int anonymous_copyable(const struct ctx *c, size_t d)
{
	const struct eo_section *sec = &c->o->secs[d];
	uint64_t f = sec->shdr.sh_flags;

	return c->def[d]->cls == SC_NORMAL && sec->shdr.sh_type == SHT_PROGBITS &&
	       (f & SHF_ALLOC) && !(f & (SHF_WRITE | SHF_EXECINSTR | SHF_GROUP | SHF_TLS));
}

static int copyable_const(const struct ctx *c, const struct eo_symbol *s)
{
	if (s->bind != STB_LOCAL || s->type != STT_OBJECT || !eo_is_section_index(c->o, s->shndx) ||
	    c->n_named[s->shndx] != 1 || !anonymous_copyable(c, s->shndx))
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(copyable_const_prefixes); i++)
		if (strncmp(s->name, copyable_const_prefixes[i],
			    strlen(copyable_const_prefixes[i])) == 0)
			return 1;
	return 0;
}

/* What a relocation refers to, once classified. */
struct ref {
	enum { REF_NULL, REF_LOCAL, REF_EXTERNAL } kind;
	size_t sec;	/* REF_LOCAL: the patched section, copied (in part) */
	int64_t base;	/* REF_LOCAL: symbol value + addend, relative to sec */
	int64_t lo;	/* REF_LOCAL: the first byte it can mean */
	size_t sym;	/* REF_EXTERNAL: the symbol the running kernel resolves */
	int64_t addend; /* REF_EXTERNAL: addend against sym */
};

/*
 * Classifies the relocation er of section from.  With mark, also marks what
 * it needs copied.  owner names the included function, for messages.
 */
static int classify(struct ctx *c, size_t from, const struct eo_rela *er, const char *owner,
		    bool mark, struct ref *ret)
{
	const struct elf_object *o = c->o;
	const struct eo_symbol *s = &o->syms[er->sym];
	const struct eo_section *fsec = &o->secs[from];
	const struct eo_symbol *t;
	const struct special_def *def;
	char buf[300];
	int64_t base, lo, hi;
	size_t d;
	int r;

	*ret = (struct ref){ .kind = REF_NULL };
	if (er->sym == 0)
		return 0;
	if (s->shndx == SHN_UNDEF) {
		*ret = (struct ref){ .kind = REF_EXTERNAL, .sym = er->sym, .addend = er->addend };
		return 0;
	}
	if (!eo_is_section_index(o, s->shndx))
		return fail(c, -EOPNOTSUPP, "'%s': reference to '%s' in %s (absolute or common)",
			    owner, s->name, fsec->name);
	d = s->shndx;
	def = c->def[d];
	base = sym_base(s, er->addend);
	ref_span(fsec, er, base, &lo, &hi);
	if (c->osec[d] && c->osecs[c->osec[d] - 1].whole) {
		*ret = (struct ref){ .kind = REF_LOCAL, .sec = d, .base = base, .lo = lo };
		return 0;
	}
	if (def->cls == SC_INIT)
		return fail(c, -EOPNOTSUPP, "'%s' refers to '%s' in '%s': __init and __exit code "
					    "and data are gone once the kernel or module is up",
			    owner, what_at(c, d, lo, buf, sizeof(buf)), o->secs[d].name);
	if (def->cls == SC_PIECES && def->cut == CUT_RANGES) {
		/* Only .altinstructions entries refer here; they add the pieces first. */
		if (!c->osec[d] || !find_piece(&c->osecs[c->osec[d] - 1], (uint64_t)lo))
			return fail(c, -EOPNOTSUPP, "'%s': %s refers into '%s' outside of an "
						    ".altinstructions entry", owner, fsec->name,
				    o->secs[d].name);
		*ret = (struct ref){ .kind = REF_LOCAL, .sec = d, .base = base, .lo = lo };
		return 0;
	}
	if (def->cls == SC_PIECES) {
		if (mark) {
			r = mark_cells(c, d, lo, hi, owner);
			if (r < 0)
				return r;
		}
		*ret = (struct ref){ .kind = REF_LOCAL, .sec = d, .base = base, .lo = lo };
		return 0;
	}
	if (c->n_named[d] == 0 && anonymous_copyable(c, d)) {
		/* String literals and constants, through the section or a .LC label. */
		if (mark) {
			r = copy_whole(c, d, owner);
			if (r < 0)
				return r;
		}
		*ret = (struct ref){ .kind = REF_LOCAL, .sec = d, .base = base, .lo = lo };
		return 0;
	} else if (s->type != STT_SECTION && !strempty(s->name)) {
		t = s;
	} else if (c->bundle[d]) {
		t = &o->syms[c->bundle[d] - 1];
	} else {
		t = covering_symbol(o, d, lo);
		if (t && t != covering_symbol(o, d, hi) && covering_symbol(o, d, hi))
			return fail(c, -EOPNOTSUPP, "'%s': %s refers to '%s' or '%s' in '%s' "
						    "(ambiguous)", owner, fsec->name, t->name,
				    covering_symbol(o, d, hi)->name, o->secs[d].name);
		if (!t)
			t = covering_symbol(o, d, hi);
		if (!t)
			return fail(c, -EOPNOTSUPP, "'%s': %s refers to section '%s', which "
						    "cannot be carried", owner, fsec->name,
				    o->secs[d].name);
	}
	if (copyable_const(c, t)) {
		if (mark) {
			r = copy_whole(c, d, owner);
			if (r < 0)
				return r;
		}
		*ret = (struct ref){ .kind = REF_LOCAL, .sec = d, .base = base, .lo = lo };
		return 0;
	}
	*ret = (struct ref){ .kind = REF_EXTERNAL, .sym = (size_t)(t - o->syms),
			     .addend = base - (int64_t)t->value };
	return 0;
}

/* Marks what the relocations in the queued ranges need, until nothing new is queued. */
static int drain(struct ctx *c)
{
	while (c->n_work) {
		struct work w = c->work[--c->n_work];
		const struct eo_section *sec = &c->o->secs[w.sec];

		for (size_t j = rela_lower_bound(sec, w.lo);
		     j < sec->n_relas && sec->relas[j].offset < w.hi; j++) {
			struct ref ref;
			int r = classify(c, w.sec, &sec->relas[j], w.owner, true, &ref);

			if (r < 0)
				return r;
		}
	}
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
			return fail(c, r, "'%s' is defined more than once in the patched object",
				    *n);
		s = &o->syms[i];
		sec = &o->secs[s->shndx];
		if (sec->shdr.sh_flags & SHF_GROUP)
			return fail(c, -EOPNOTSUPP, "'%s' is in a COMDAT group", *n);
		if (c->def[s->shndx]->cls == SC_PIECES && c->def[s->shndx]->cut != CUT_RANGES &&
		    s->type == STT_OBJECT) {
			/* A new WARN_ONCE flag or dynamic debug descriptor: its own cells. */
			c->included[s->shndx] = true;
			r = mark_cells(c, s->shndx, (int64_t)s->value,
				       (int64_t)(s->value + (s->size ? s->size - 1 : 0)), s->name);
			if (r < 0)
				return r;
			continue;
		}
		if (c->n_named[s->shndx] != 1)
			return fail(c, -EOPNOTSUPP, "'%s' shares section '%s' with other symbols "
					  "(build with -ffunction-sections -fdata-sections)", *n,
				    sec->name);
		if (is_special(sec->name))
			return fail(c, -EOPNOTSUPP, "'%s' is in special section '%s'", *n,
				    sec->name);
		if (c->osec[s->shndx])
			continue;
		c->included[s->shndx] = true;
		r = copy_whole(c, s->shndx, s->name);
		if (r < 0)
			return r;
		os.name = strdup(s->name);
		if (!os.name)
			return -ENOMEM;
		os.bind = s->bind;
		os.type = s->type;
		os.osec = c->osec[s->shndx] - 1;
		os.value = s->value;
		os.size = s->size;
		r = add_sym(c, &os, &id);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether the anchor relocation at off of special section i points into copied code. */
static int anchor(struct ctx *c, size_t i, uint64_t off, const char **ret_owner)
{
	const struct elf_object *o = c->o;
	const struct eo_section *sec = &o->secs[i];
	size_t j = rela_lower_bound(sec, off);
	const struct eo_symbol *s;
	const struct out_sec *os;
	int64_t base;
	size_t d;

	if (j >= sec->n_relas || sec->relas[j].offset != off)
		return 0;
	s = &o->syms[sec->relas[j].sym];
	if (!eo_is_section_index(o, s->shndx))
		return 0;
	d = s->shndx;
	base = sym_base(s, sec->relas[j].addend);
	if (base < 0 || (uint64_t)base > o->secs[d].size)
		return 0;
	if (c->cells[d].bounds) {
		/* Pieced by cells: their output section is made only at layout. */
		size_t k = find_cell(&c->cells[d], base);

		if (k == SIZE_MAX || !c->cells[d].marked[k])
			return 0;
		*ret_owner = c->cells[d].owner[k];
		return 1;
	}
	if (!c->osec[d])
		return 0;
	os = &c->osecs[c->osec[d] - 1];
	if (os->whole) {
		*ret_owner = os->pieces[0].owner;
		return 1;
	}
	{
		const struct piece *p = find_piece(os, (uint64_t)base);

		if (!p)
			return 0;
		*ret_owner = p->owner;
		return 1;
	}
}

/* .altinstructions entry at off: its replacement code becomes a piece too. */
static int keep_replacement(struct ctx *c, size_t i, uint64_t off, const char *owner)
{
	const struct elf_object *o = c->o;
	const struct eo_section *sec = &o->secs[i];
	size_t j = rela_lower_bound(sec, off + 4);
	const struct eo_symbol *s;
	const struct eo_section *rsec;
	struct out_sec *os;
	int64_t base;
	unsigned len;
	int r;

	if (j >= sec->n_relas || sec->relas[j].offset != off + 4)
		return fail(c, -EBADMSG, "'%s': .altinstructions entry at 0x%llx has no "
					 "replacement relocation", owner, (unsigned long long)off);
	s = &o->syms[sec->relas[j].sym];
	if (!eo_is_section_index(o, s->shndx) || c->def[s->shndx]->cut != CUT_RANGES)
		return fail(c, -EOPNOTSUPP, "'%s': .altinstructions entry at 0x%llx has its "
					    "replacement in '%s', not '.altinstr_replacement'",
			    owner, (unsigned long long)off,
			    eo_is_section_index(o, s->shndx) ? o->secs[s->shndx].name : s->name);
	rsec = &o->secs[s->shndx];
	base = sym_base(s, sec->relas[j].addend);
	len = sec->data[off + 11];
	if (base < 0 || (uint64_t)base > rsec->size || len > rsec->size - (uint64_t)base ||
	    (!rsec->data && len))
		return fail(c, -EBADMSG, "'%s': .altinstructions entry at 0x%llx: replacement "
					 "0x%llx+%u is outside '%s'", owner,
			    (unsigned long long)off, (long long)base, len, rsec->name);
	r = get_osec(c, s->shndx, &os);
	if (r < 0)
		return r;
	for (size_t k = 0; k < os->n_pieces; k++)
		if (os->pieces[k].src == (uint64_t)base && os->pieces[k].len == len)
			return 0;
	r = add_piece(os, (uint64_t)base, len, os->size, owner);
	if (r < 0)
		return r;
	return push_work(c, s->shndx, (uint64_t)base, (uint64_t)base + len, owner);
}

/* Keeps the entries of special sections of class cls whose anchor is copied code. */
static int keep_entries(struct ctx *c, enum sec_class cls)
{
	const struct elf_object *o = c->o;

	for (size_t i = 1; i < o->n_secs; i++) {
		const struct eo_section *sec = &o->secs[i];
		size_t e = c->def[i]->entsize, orc = 0;
		struct out_sec *os;
		int r;

		if (c->def[i]->cls != cls || !sec->size)
			continue;
		if (cls == SC_ORC_IP)
			for (size_t k = 1; k < o->n_secs; k++)
				if (c->def[k]->cls == SC_ORC)
					orc = k;
		c->count[i].total = sec->size / e;
		if (orc)
			c->count[orc].total = sec->size / e;
		for (uint64_t off = 0; off < sec->size; off += e) {
			const char *owner = NULL;

			if (!anchor(c, i, off, &owner))
				continue;
			/* get_osec() may move the array: no pointer is kept across calls. */
			r = get_osec(c, i, &os);
			if (r >= 0)
				r = add_piece(os, off, e, c->count[i].kept * e, owner);
			if (r >= 0)
				r = push_work(c, i, off, off + e, owner);
			if (r >= 0 && cls == SC_ALT)
				r = keep_replacement(c, i, off, owner);
			if (r >= 0 && orc) {
				uint64_t k = off / e;

				r = get_osec(c, orc, &os);
				if (r >= 0)
					r = add_piece(os, k * 6, 6, c->count[i].kept * 6, owner);
				if (r >= 0)
					r = push_work(c, orc, k * 6, k * 6 + 6, owner);
			}
			if (r < 0)
				return r;
			c->count[i].kept++;
			if (orc)
				c->count[orc].kept++;
		}
	}
	return 0;
}

/* A special section we cannot carry must not hold entries for copied code. */
static int check_unsupported(struct ctx *c)
{
	const struct elf_object *o = c->o;

	for (size_t i = 1; i < o->n_secs; i++) {
		const struct eo_section *sec = &o->secs[i];

		if (c->def[i]->cls != SC_UNSUPPORTED)
			continue;
		for (size_t j = 0; j < sec->n_relas; j++) {
			const char *owner = NULL;

			if (anchor(c, i, sec->relas[j].offset, &owner))
				return fail(c, -EOPNOTSUPP, "'%s' has entries in special section "
							    "'%s', which is not supported",
					    owner, sec->name);
		}
	}
	return 0;
}

/* Cells become pieces: each run of marked cells is copied as one, keeping its alignment. */
static int layout_cells(struct ctx *c)
{
	const struct elf_object *o = c->o;

	for (size_t d = 1; d < o->n_secs; d++) {
		const struct cells *cl = &c->cells[d];
		const struct eo_section *sec = &o->secs[d];
		uint64_t align = sec->shdr.sh_addralign ? sec->shdr.sh_addralign : 1;
		struct out_sec *os = NULL;
		size_t kept = 0;
		int r;

		if (!cl->bounds)
			continue;
		for (size_t i = 0; i < cl->n; i++) {
			size_t j = i;
			uint64_t out;

			if (!cl->marked[i])
				continue;
			while (j + 1 < cl->n && cl->marked[j + 1])
				j++;
			if (!os) {
				r = get_osec(c, d, &os);
				if (r < 0)
					return r;
			}
			out = os->size + (cl->bounds[i] % align + align - os->size % align) % align;
			r = add_piece(os, cl->bounds[i], cl->bounds[j + 1] - cl->bounds[i], out,
				      cl->owner[i]);
			if (r < 0)
				return r;
			kept += j - i + 1;
			i = j;
		}
		if (c->def[d]->cut == CUT_FIXED) {
			c->count[d].total = cl->n;
			c->count[d].kept = kept;
		}
	}
	return 0;
}

/* Builds the contents of pieced sections and gives copied named data its symbols. */
static int build_contents(struct ctx *c)
{
	const struct elf_object *o = c->o;

	for (size_t k = 0; k < c->n_osecs; k++) {
		struct out_sec *os = &c->osecs[k];
		const struct eo_section *sec = &o->secs[os->src];
		bool data = !is_exec(sec) && c->def[os->src]->cls != SC_ENTRIES &&
			    c->def[os->src]->cls != SC_ALT && c->def[os->src]->cls != SC_ORC_IP &&
			    c->def[os->src]->cls != SC_ORC;
		int r;

		if (!os->whole && sec->data) {
			os->buf = calloc(os->size ? os->size : 1, 1);
			if (!os->buf)
				return -ENOMEM;
			for (size_t i = 0; i < os->n_pieces; i++)
				memcpy(os->buf + os->pieces[i].out, sec->data + os->pieces[i].src,
				       os->pieces[i].len);
		}
		if (!data || (os->whole && c->included[os->src]))
			continue;
		if (os->whole && !c->bundle[os->src]) {
			r = strv_push(&c->copied_data, sec->name);
			if (r < 0)
				return r;
			continue;
		}
		/* Named data: its symbols, local unless included. */
		for (size_t i = 0; i < o->n_syms; i++) {
			const struct eo_symbol *s = &o->syms[i];
			struct out_sym ns = { .kind = SK_DEFINED, .type = s->type, .osec = k,
					      .size = s->size };
			const struct piece *p;
			bool inc = false;
			size_t id;

			if ((s->type != STT_OBJECT && s->type != STT_FUNC) || s->shndx != os->src)
				continue;
			p = os->whole ? &os->pieces[0] : find_piece(os, s->value);
			if (!p || s->value < p->src || s->value - p->src + s->size > p->len)
				continue;
			/* A piece asked for by name keeps its binding. */
			inc = c->included[os->src] && strv_contains(c->include, s->name);
			ns.bind = inc ? s->bind : STB_LOCAL;
			ns.value = s->value - p->src + p->out;
			ns.name = strdup(s->name);
			if (!ns.name)
				return -ENOMEM;
			r = add_sym(c, &ns, &id);
			if (r < 0)
				return r;
			if (inc)
				continue;
			r = strv_push(&c->copied_data, s->name);
			if (r < 0)
				return r;
		}
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
		/* A module's export may be missing when the patch loads: klp resolves it later. */
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

static int add_rela(struct ctx *c, size_t osec, const char *klp_objname, const Elf64_Rela *rel)
{
	const char *secname = c->o->secs[c->osecs[osec].src].name;
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
		if (grow((void **)&c->rsecs, &c->alloc_rsecs, c->n_rsecs, sizeof(*c->rsecs)) < 0)
			return -ENOMEM;
		r = hashmap_put(c->rsec_by_name, name, (void *)(uintptr_t)(c->n_rsecs + 1));
		if (r < 0)
			return r;
		c->rsecs[c->n_rsecs] = (struct out_relasec){ .name = TAKE_PTR(name), .osec = osec,
							     .klp = !!klp_objname };
		v = ++c->n_rsecs;
	}
	rs = &c->rsecs[v - 1];
	if (grow((void **)&rs->relas, &rs->alloc, rs->n, sizeof(*rs->relas)) < 0)
		return -ENOMEM;
	rs->relas[rs->n++] = *rel;
	return 0;
}

/*
 * Special sections are set up by the module loader (alternatives, jump
 * labels, static calls, ...) before the livepatch core applies the
 * relocations of a patched module: a reference there to a module symbol
 * would be seen unresolved.
 */
static int needs_early_relocs(const struct ctx *c, size_t src)
{
	enum sec_class cls = c->def[src]->cls;

	return cls == SC_ENTRIES || cls == SC_ALT || cls == SC_ORC_IP || cls == SC_ORC ||
	       c->def[src]->cut == CUT_RANGES;
}

static int emit_rela(struct ctx *c, size_t k, const struct piece *p, const struct eo_rela *er)
{
	const struct elf_object *o = c->o;
	size_t src = c->osecs[k].src;
	const char *secname = o->secs[src].name;
	const char *klp = NULL;
	struct ref ref;
	Elf64_Rela rel;
	int64_t addend = er->addend;
	size_t id = SIZE_MAX;
	int r;

	if (!rela_type_ok(er->type))
		return fail(c, -EOPNOTSUPP, "'%s': relocation type %u at %s+0x%llx is not "
					    "supported", p->owner, er->type, secname,
			    (unsigned long long)er->offset);
	if (er->offset + rela_width(er->type) > p->src + p->len)
		return fail(c, -EBADMSG, "'%s': relocation at %s+0x%llx crosses the end of "
					 "its entry", p->owner, secname,
			    (unsigned long long)er->offset);
	r = classify(c, src, er, p->owner, false, &ref);
	if (r < 0)
		return r;
	if (ref.kind == REF_LOCAL) {
		const struct out_sec *tos =
			c->osec[ref.sec] ? &c->osecs[c->osec[ref.sec] - 1] : NULL;
		uint64_t size = o->secs[ref.sec].size;
		uint64_t x = ref.lo < 0 ? 0 : (uint64_t)ref.lo > size ? size : (uint64_t)ref.lo;
		const struct piece *q = tos ? (tos->whole ? &tos->pieces[0] : find_piece(tos, x))
					    : NULL;

		if (!q)
			return fail(c, -EOPNOTSUPP, "'%s': %s+0x%llx refers to '%s'+0x%llx, which "
						    "was not copied", p->owner, secname,
				    (unsigned long long)er->offset, o->secs[ref.sec].name,
				    (unsigned long long)x);
		id = tos->symid;
		addend = ref.base - (int64_t)q->src + (int64_t)q->out;
	} else if (ref.kind == REF_EXTERNAL) {
		const struct eo_symbol *t = &o->syms[ref.sym];

		r = resolve_external(c, t, &id, &klp);
		if (r < 0)
			return r;
		addend = ref.addend;
		if (klp && !streq(klp, "vmlinux") && needs_early_relocs(c, src)) {
			if (streq(secname, "__jump_table") || streq(secname, ".static_call_sites"))
				return fail(c, -EOPNOTSUPP, "'%s': %s key '%s' lives in module "
							    "'%s', which the livepatch core "
							    "resolves only after the patch's %s "
							    "are set up", p->owner, secname,
					    t->name,
					    klp, streq(secname, "__jump_table")
							 ? "jump labels" : "static calls");
			return fail(c, -EOPNOTSUPP, "'%s': %s entry refers to '%s' in module '%s', "
						    "which the livepatch core resolves only "
						    "after the module loader has used the entry",
				    p->owner, secname, t->name, klp);
		}
	}
	rel.r_offset = p->out + (er->offset - p->src);
	/* Stash the out_sym id; the final index is known only once all symbols are in. */
	rel.r_info = ELF64_R_INFO(id == SIZE_MAX ? 0 : id + 1, er->type);
	rel.r_addend = addend;
	return add_rela(c, k, klp, &rel);
}

static int emit_relas(struct ctx *c)
{
	/* c->osecs does not grow any more; only symbols and relocation sections do. */
	for (size_t k = 0; k < c->n_osecs; k++) {
		const struct eo_section *sec = &c->o->secs[c->osecs[k].src];

		for (size_t i = 0; i < c->osecs[k].n_pieces; i++) {
			const struct piece *p = &c->osecs[k].pieces[i];

			for (size_t j = rela_lower_bound(sec, p->src);
			     j < sec->n_relas && sec->relas[j].offset < p->src + p->len; j++) {
				int r = emit_rela(c, k, p, &sec->relas[j]);

				if (r < 0)
					return r;
			}
		}
	}
	return 0;
}

static int check_unique_names(struct ctx *c)
{
	_cleanup_(hashmap_freep) struct hashmap *seen = hashmap_new(NULL);

	if (!seen)
		return -ENOMEM;
	for (size_t k = 0; k < c->n_osecs; k++) {
		const char *name = c->o->secs[c->osecs[k].src].name;
		int r;

		if (hashmap_contains(seen, name))
			return fail(c, -EOPNOTSUPP, "the patched object has two sections named "
						    "'%s'", name);
		r = hashmap_put(seen, name, (void *)1);
		if (r < 0)
			return r;
	}
	return 0;
}

static int report_add(json_t *obj, const char *key, json_t *v)
{
	return v && json_object_set_new(obj, key, v) == 0 ? 0 : -ENOMEM;
}

static int fill_report(struct ctx *c, json_t *rep)
{
	const struct elf_object *o = c->o;
	json_t *ss = json_object(), *klp = json_array(), *exp = json_array(),
	       *cd = json_array();
	int r = 0;

	if (!ss || !klp || !exp || !cd) {
		json_decref(ss);
		json_decref(klp);
		json_decref(exp);
		json_decref(cd);
		return -ENOMEM;
	}
	for (size_t i = 1; i < o->n_secs && r >= 0; i++) {
		enum sec_class cls = c->def[i]->cls;
		json_t *e;
		json_int_t kept = (json_int_t)c->count[i].kept;
		json_int_t dropped = (json_int_t)(c->count[i].total - c->count[i].kept);

		if (cls != SC_ENTRIES && cls != SC_ALT && cls != SC_ORC_IP && cls != SC_ORC &&
		    c->def[i]->cut != CUT_FIXED)
			continue;
		e = json_object_get(ss, o->secs[i].name);
		if (e) {
			/* Two sections of one name: add up. */
			kept += json_integer_value(json_object_get(e, "kept"));
			dropped += json_integer_value(json_object_get(e, "dropped"));
		}
		e = json_pack("{s:I,s:I}", "kept", kept, "dropped", dropped);
		r = report_add(ss, o->secs[i].name, e);
	}
	for (size_t i = 0; i < c->n_syms && r >= 0; i++) {
		const struct out_sym *s = &c->syms[i];

		if (s->kind == SK_KLP)
			r = json_array_append_new(klp, json_string(s->name)) ? -ENOMEM : 0;
		else if (s->kind == SK_UNDEF)
			r = json_array_append_new(exp, json_string(s->name)) ? -ENOMEM : 0;
	}
	for (size_t i = 0; c->copied_data[i] && r >= 0; i++)
		r = json_array_append_new(cd, json_string(c->copied_data[i])) ? -ENOMEM : 0;
	if (r < 0) {
		json_decref(ss);
		json_decref(klp);
		json_decref(exp);
		json_decref(cd);
		return r;
	}
	/* Each call takes its value, even on failure: no short cut. */
	r = report_add(rep, "special_sections", ss);
	r = report_add(rep, "klp_symbols", klp) < 0 ? -ENOMEM : r;
	r = report_add(rep, "exported_symbols", exp) < 0 ? -ENOMEM : r;
	r = report_add(rep, "copied_data", cd) < 0 ? -ENOMEM : r;
	return r;
}

static int collect_special(const struct elf_object *o, const bool *included, char ***ret)
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
	_cleanup_free_ bool *included = NULL;
	size_t i;
	int r;

	if (!include || !include[0])
		return -EINVAL;
	included = calloc(patched->n_secs ? patched->n_secs : 1, sizeof(bool));
	if (!included)
		return -ENOMEM;
	for (char *const *n = include; *n; n++) {
		r = find_defined(patched, *n, &i);
		if (r == -ENOTUNIQ)
			r = -ENOENT;
		if (r < 0)
			return r;
		included[patched->syms[i].shndx] = true;
	}
	return collect_special(patched, included, ret);
}

/* Adds s to a string table; returns its offset or a negative errno. */
static int64_t strtab_add(struct strbuf *sb, const char *s)
{
	size_t off = sb->len;

	if (strbuf_add(sb, s, strlen(s) + 1) < 0)
		return -ENOMEM;
	return (int64_t)off;
}

static int cmp_osec(const void *a, const void *b)
{
	const struct out_sec *x = *(const struct out_sec *const *)a;
	const struct out_sec *y = *(const struct out_sec *const *)b;

	return (x->src > y->src) - (x->src < y->src);
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
	_cleanup_free_ struct out_sec **order = NULL;
	_cleanup_free_ Elf64_Sym *symtab = NULL;
	_cleanup_(strbuf_releasep) struct strbuf strtab = { 0 };
	Elf64_Ehdr *eh;
	Elf64_Shdr sh;
	size_t n_local = 1, next, symtab_idx, strtab_idx, shstr_idx, idx;
	int r = 0;

	strbuf_init(&w.shstr, 0);
	strbuf_init(&strtab, 0);
	order = calloc(c->n_osecs ? c->n_osecs : 1, sizeof(*order));
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

	/* Output sections keep the patched object's order. */
	for (size_t i = 0; i < c->n_osecs; i++)
		order[i] = &c->osecs[i];
	qsort(order, c->n_osecs, sizeof(*order), cmp_osec);
	for (size_t i = 0; i < c->n_osecs; i++) {
		struct out_sec *os = order[i];
		const struct eo_section *sec = &o->secs[os->src];
		const void *data = os->whole ? (const void *)sec->data : os->buf;

		sh = (Elf64_Shdr){ .sh_type = sec->shdr.sh_type,
				   .sh_flags = sec->shdr.sh_flags & ~(uint64_t)SHF_GROUP,
				   .sh_addralign = sec->shdr.sh_addralign,
				   .sh_entsize = sec->shdr.sh_entsize,
				   .sh_size = os->size };
		r = new_section(&w, sec->name, &sh, (void *)data, data ? os->size : 0, ELF_T_BYTE,
				&os->out_index);
		if (r < 0)
			goto out;
		if (!data) {
			/* NOBITS: libelf takes the size from the header, not the data. */
			Elf64_Shdr *p = elf64_getshdr(elf_getscn(w.e, os->out_index));

			p->sh_size = os->size;
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
			es->st_shndx = (Elf64_Half)c->osecs[s->osec].out_index;
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
				   .sh_info = (Elf64_Word)c->osecs[rs->osec].out_index };
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
	struct ctx c = { .o = patched, .opts = opts, .include = include, .reterr = reterr,
			 .errsize = errsize };
	int r;

	if (!opts || !opts->symtab || strempty(opts->objname) ||
	    strlen(opts->objname) > KLP_OBJNAME_MAX || strchr(opts->objname, '.'))
		return fail(&c, -EINVAL, "a target object name without '.' (at most %d bytes) and "
					 "a symbol table are required", KLP_OBJNAME_MAX);
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	r = index_sections(&c);
	if (r >= 0)
		r = check_entry_sizes(&c);
	/* Marking: included code, then what it needs, then the entries that belong to it. */
	if (r >= 0)
		r = include_symbols(&c, include);
	if (r >= 0)
		r = drain(&c);
	if (r >= 0)
		r = keep_entries(&c, SC_ALT);
	if (r >= 0)
		r = drain(&c);
	if (r >= 0)
		r = keep_entries(&c, SC_ENTRIES);
	if (r >= 0)
		r = keep_entries(&c, SC_ORC_IP);
	if (r >= 0)
		r = drain(&c);
	if (r >= 0)
		r = check_unsupported(&c);
	/* Layout, then emission. */
	if (r >= 0)
		r = layout_cells(&c);
	if (r >= 0)
		r = build_contents(&c);
	if (r >= 0)
		r = emit_relas(&c);
	if (r >= 0)
		r = check_unique_names(&c);
	if (r >= 0 && opts->report)
		r = fill_report(&c, opts->report);
	if (r >= 0)
		r = write_file(&c, path);
	ctx_release(&c);
	return r;
}
