/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf-object.h"
#include "elfdiff.h"
#include "hashmap.h"
#include "macro.h"
#include "strbuf.h"

#define NONE ((size_t)-1)

struct elfdiff_report {
	struct elfdiff_entry *entries;
	size_t n, cap;
};

static const char *const change_names[_SYM_CHANGE_MAX] = {
	[SYM_SAME] = "same",
	[SYM_CHANGED] = "changed",
	[SYM_NEW] = "new",
	[SYM_REMOVED] = "removed",
};

const char *symbol_change_to_string(enum symbol_change c)
{
	if (c < 0 || c >= _SYM_CHANGE_MAX)
		return NULL;
	return change_names[c];
}

enum symbol_change symbol_change_from_string(const char *s)
{
	for (int i = 0; s && i < _SYM_CHANGE_MAX; i++)
		if (streq(s, change_names[i]))
			return (enum symbol_change)i;
	return _SYM_CHANGE_INVALID;
}

bool elfdiff_is_cold_part(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && streq(name + n - 5, ".cold");
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* ---- names ---- */

/*
 * GCC numbers local clones and static locals per compilation ("foo.isra.3",
 * "foo.constprop.0", "bar.part.1", "count.2"), and the numbers shift with
 * unrelated edits.  Drop every ".<digits>" run so both builds agree, and the
 * __COUNTER__ digits of "__UNIQUE_ID_<what><N>".
 */
static char *normalise_name(const char *name)
{
	size_t len = strlen(name), j = 0;
	char *out = malloc(len + 1);

	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		out[j++] = name[i];
		if (name[i++] != '.')
			continue;
		size_t k = i;
		while (k < len && is_digit(name[k]))
			k++;
		if (k > i && (k == len || name[k] == '.')) {
			i = k;
			j--;	/* and the dot */
		}
	}
	out[j] = '\0';
	if (has_prefix(out, "__UNIQUE_ID_")) {
		char *dot = strchrnul(out + 12, '.'), *d = dot;

		while (d > out + 12 && is_digit(d[-1]))
			d--;
		memmove(d, dot, strlen(dot) + 1);
	}
	return out;
}

/* A defined function or data object with a name: what gets compared and correlated. */
static bool pairable(const struct elf_object *o, const struct eo_symbol *s)
{
	return (s->type == STT_FUNC || s->type == STT_OBJECT) && *s->name &&
	       eo_is_section_index(o, s->shndx);
}

/* "count.3", "__func__.7", "__UNIQUE_ID_ddebug12.4": function-scope statics GCC numbers. */
static bool static_local_like(const struct eo_symbol *s, const char *norm)
{
	return s->type == STT_OBJECT && s->bind == STB_LOCAL && norm &&
	       (!streq(norm, s->name) || has_prefix(s->name, "__UNIQUE_ID_"));
}

/* Per-site state a patch may carry fresh copies of (see ELFDIFF_FLAG_SPECIAL_STATIC). */
static bool special_static(const struct elf_object *o, const struct eo_symbol *s)
{
	static const char *const prefixes[] = { "__warned.", "__already_done.", "__key.",
						"__func__.", "__FUNCTION__.", "_rs.",
						"CSWTCH.", "_entry.", "__print_once.",
						"__UNIQUE_ID_ddebug" };
	const char *sec;

	if (s->type != STT_OBJECT || !eo_is_section_index(o, s->shndx))
		return false;
	sec = o->secs[s->shndx].name;
	if (has_prefix(sec, ".data.once") || has_prefix(sec, ".data..once") ||
	    streq(sec, "__dyndbg"))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(prefixes); i++)
		if (has_prefix(s->name, prefixes[i]))
			return true;
	return false;
}

/* ---- the two sides ---- */

struct refs {
	size_t *v;	/* indices of the functions referring to a symbol */
	size_t n;
};

struct side {
	const struct elf_object *o;
	char **norm;	/* per symbol: normalised name when pairable, else NULL */
	char **base;	/* per FUNC symbol: the name before its first '.', else NULL */
	char **keys;	/* per symbol: how references to it compare; NULL: by location */
	size_t *twin;	/* per symbol: its twin's index in the other object, or NONE */
	struct refs *refs; /* per static-local-like symbol: who refers to it */
	/* FUNC/OBJECT symbols by section: sec_syms[sec_first[i] .. sec_first[i + 1]) */
	size_t *sec_first, *sec_syms;
	struct hashmap *bases; /* base names of the defined functions */
};

struct ctx {
	struct side orig, patched;
	const struct elfdiff_options *opts;
};

static void side_release(struct side *s)
{
	for (size_t i = 0; s->o && i < s->o->n_syms; i++) {
		if (s->norm)
			free(s->norm[i]);
		if (s->base)
			free(s->base[i]);
		if (s->keys)
			free(s->keys[i]);
		if (s->refs)
			free(s->refs[i].v);
	}
	free(s->norm);
	free(s->base);
	free(s->keys);
	free(s->twin);
	free(s->refs);
	free(s->sec_first);
	free(s->sec_syms);
	hashmap_free(s->bases);
}

static void ctx_release(struct ctx *c)
{
	side_release(&c->orig);
	side_release(&c->patched);
}

static bool is_pc_relative(unsigned type)
{
	switch (type) {
	case R_X86_64_PC32:
	case R_X86_64_PLT32:
	case R_X86_64_PC64:
	case R_X86_64_GOTPCREL:
	case R_X86_64_GOTPCRELX:
	case R_X86_64_REX_GOTPCRELX:
		return true;
	default:
		return false;
	}
}

/* GCC's local labels (.LC0, .LC1, ...) are renumbered freely: treat them as section offsets. */
static bool is_local_label(const struct eo_symbol *sym)
{
	return sym->type == STT_NOTYPE && sym->bind == STB_LOCAL && strncmp(sym->name, ".L", 2) == 0;
}

/* The FUNC/OBJECT symbol of section sec that covers offset t, or NONE. */
static size_t symbol_at(const struct side *s, size_t sec, int64_t t)
{
	if (t < 0)
		return NONE;
	for (size_t k = s->sec_first[sec]; k < s->sec_first[sec + 1]; k++) {
		const struct eo_symbol *c = &s->o->syms[s->sec_syms[k]];

		if ((uint64_t)t == c->value ||
		    ((uint64_t)t > c->value && (uint64_t)t < c->value + c->size))
			return s->sec_syms[k];
	}
	return NONE;
}

/*
 * The assembler turns references to local symbols into section symbol +
 * addend.  PC-relative addends are biased by the distance from the
 * displacement to the end of the instruction, which is 4 for the usual
 * lea/mov/call forms; the content checks cope with other biases.
 */
static int64_t referenced_offset(const struct eo_symbol *sym, const struct eo_rela *r)
{
	return r->addend + (int64_t)sym->value + (is_pc_relative(r->type) ? 4 : 0);
}

/* The named FUNC/OBJECT a relocation points at, through section symbols too; or NONE. */
static size_t rela_symbol(const struct side *s, const struct eo_rela *r)
{
	const struct eo_symbol *sym = &s->o->syms[r->sym];

	if (sym->type == STT_FUNC || sym->type == STT_OBJECT)
		return eo_is_section_index(s->o, sym->shndx) ? r->sym : NONE;
	if ((sym->type != STT_SECTION && !is_local_label(sym)) ||
	    !eo_is_section_index(s->o, sym->shndx))
		return NONE;
	return symbol_at(s, sym->shndx, referenced_offset(sym, r));
}

static int index_sections(struct side *s)
{
	const struct elf_object *o = s->o;
	size_t *fill;

	s->sec_first = calloc(o->n_secs + 1, sizeof(size_t));
	fill = calloc(o->n_secs + 1, sizeof(size_t));
	if (!s->sec_first || !fill) {
		free(fill);
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->n_syms; i++)
		if (pairable(o, &o->syms[i]))
			s->sec_first[o->syms[i].shndx + 1]++;
	for (size_t i = 0; i < o->n_secs; i++)
		s->sec_first[i + 1] += s->sec_first[i];
	s->sec_syms = calloc(s->sec_first[o->n_secs] + 1, sizeof(size_t));
	if (!s->sec_syms) {
		free(fill);
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->n_syms; i++)
		if (pairable(o, &o->syms[i])) {
			size_t sec = o->syms[i].shndx;

			s->sec_syms[s->sec_first[sec] + fill[sec]++] = i;
		}
	free(fill);
	return 0;
}

static uint64_t symbol_end(const struct eo_symbol *s, const struct eo_section *sec)
{
	return s->size ? s->value + s->size : sec->size;
}

/* Relocations of sec with offsets in [start, end). */
static const struct eo_rela *relas_in(const struct eo_section *sec, uint64_t start, uint64_t end,
				      size_t *ret_n)
{
	size_t i = 0, j;

	while (i < sec->n_relas && sec->relas[i].offset < start)
		i++;
	for (j = i; j < sec->n_relas && sec->relas[j].offset < end; j++)
		;
	*ret_n = j - i;
	return sec->relas + i;
}

static int refs_add(struct refs *r, size_t f)
{
	size_t *v;

	for (size_t i = 0; i < r->n; i++)
		if (r->v[i] == f)
			return 0;
	v = reallocarray(r->v, r->n + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	r->v = v;
	r->v[r->n++] = f;
	return 0;
}

/* Names, bases, section index and who refers to each static local. */
static int side_init(struct side *s, const struct elf_object *o)
{
	size_t n = o->n_syms + 1;
	int r;

	s->o = o;
	s->norm = calloc(n, sizeof(char *));
	s->base = calloc(n, sizeof(char *));
	s->keys = calloc(n, sizeof(char *));
	s->twin = malloc(n * sizeof(size_t));
	s->refs = calloc(n, sizeof(struct refs));
	s->bases = hashmap_new(NULL);
	if (!s->norm || !s->base || !s->keys || !s->twin || !s->refs || !s->bases)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		s->twin[i] = NONE;
	for (size_t i = 0; i < o->n_syms; i++) {
		const struct eo_symbol *sym = &o->syms[i];

		if (!pairable(o, sym))
			continue;
		s->norm[i] = normalise_name(sym->name);
		if (!s->norm[i])
			return -ENOMEM;
		if (sym->type != STT_FUNC)
			continue;
		s->base[i] = strndup(sym->name, strcspn(sym->name, "."));
		if (!s->base[i])
			return -ENOMEM;
		r = hashmap_put(s->bases, s->base[i], NULL);
		if (r < 0)
			return r;
	}
	r = index_sections(s);
	if (r < 0)
		return r;
	for (size_t f = 0; f < o->n_syms; f++) {
		const struct eo_symbol *fs = &o->syms[f];
		const struct eo_section *sec;
		const struct eo_rela *rel;
		size_t nr;

		if (fs->type != STT_FUNC || !s->norm[f])
			continue;
		sec = &o->secs[fs->shndx];
		rel = relas_in(sec, fs->value, symbol_end(fs, sec), &nr);
		for (size_t k = 0; k < nr; k++) {
			size_t t = rela_symbol(s, &rel[k]);

			if (t == NONE || t == f || !static_local_like(&o->syms[t], s->norm[t]))
				continue;
			r = refs_add(&s->refs[t], f);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- comparing references ---- */

enum target_kind { TARGET_SYMBOL, TARGET_STRING, TARGET_CONSTANT, TARGET_BYTES };

/* What a relocation really points at, independent of section layout. */
struct target {
	enum target_kind kind;
	const char *key;	/* TARGET_SYMBOL */
	int64_t delta;		/* TARGET_SYMBOL: addend relative to the symbol */
	const struct eo_section *sec; /* TARGET_STRING, TARGET_BYTES */
	int64_t offset;		/* STRING/CONSTANT: referenced offset; BYTES: addend */
	int64_t addend;		/* STRING/CONSTANT: addend relative to the section */
};

static void resolve_target(const struct side *s, const struct eo_rela *r, struct target *ret)
{
	const struct elf_object *o = s->o;
	const struct eo_symbol *sym = &o->syms[r->sym];
	const struct eo_section *sec;
	int64_t addend, t;
	size_t c;

	if ((sym->type != STT_SECTION && !is_local_label(sym)) ||
	    !eo_is_section_index(o, sym->shndx)) {
		*ret = (struct target){ .kind = TARGET_SYMBOL, .key = s->keys[r->sym] ? : "",
					.delta = r->addend };
		return;
	}
	sec = &o->secs[sym->shndx];
	addend = r->addend + (int64_t)sym->value;
	t = referenced_offset(sym, r);
	if (sec->shdr.sh_flags & SHF_STRINGS) {
		*ret = (struct target){ .kind = TARGET_STRING, .sec = sec, .offset = t,
					.addend = addend };
		return;
	}
	c = symbol_at(s, sym->shndx, t);
	if (c != NONE && s->keys[c]) {
		*ret = (struct target){ .kind = TARGET_SYMBOL, .key = s->keys[c],
					.delta = addend - (int64_t)o->syms[c].value };
		return;
	}
	if ((sec->shdr.sh_flags & SHF_MERGE) && sec->shdr.sh_entsize) {
		*ret = (struct target){ .kind = TARGET_CONSTANT, .sec = sec, .offset = t,
					.addend = addend };
		return;
	}
	*ret = (struct target){ .kind = TARGET_BYTES, .sec = sec, .offset = addend };
}

/* Bytes of the string at off, NUL included, bounded by the section. */
static size_t string_span(const struct eo_section *sec, size_t off)
{
	const unsigned char *nul = memchr(sec->data + off, 0, sec->size - off);

	return nul ? (size_t)(nul - (sec->data + off)) + 1 : sec->size - off;
}

static bool at_string_start(const struct eo_section *sec, int64_t off)
{
	return off >= 0 && (uint64_t)off < sec->size && (off == 0 || sec->data[off - 1] == 0) &&
	       sec->data[off] != 0;
}

static bool strings_equal(const struct target *to, const struct target *tp)
{
	size_t lo, lp, so, sp;

	if (!to->sec->data || !tp->sec->data)
		return false;
	if (at_string_start(to->sec, to->offset) && at_string_start(tp->sec, tp->offset)) {
		lo = string_span(to->sec, to->offset);
		lp = string_span(tp->sec, tp->offset);
		return lo == lp && memcmp(to->sec->data + to->offset, tp->sec->data + tp->offset,
					  lo) == 0;
	}
	/*
	 * Not at a string start: an unusual instruction bias, an empty string or
	 * a pointer into a string.  Be conservative: same addend and the same
	 * bytes from the referenced offset through the string a few bytes on.
	 */
	if (to->addend != tp->addend || to->offset < 0 || (uint64_t)to->offset >= to->sec->size ||
	    (uint64_t)tp->offset >= tp->sec->size)
		return false;
	so = (size_t)to->offset;
	sp = (size_t)tp->offset;
	lo = to->sec->size - so < 4 ? to->sec->size - so : 4;
	lo += so + lo < to->sec->size ? string_span(to->sec, so + lo) : 0;
	lp = tp->sec->size - sp < 4 ? tp->sec->size - sp : 4;
	lp += sp + lp < tp->sec->size ? string_span(tp->sec, sp + lp) : 0;
	return lo == lp && memcmp(to->sec->data + so, tp->sec->data + sp, lo) == 0;
}

/* Mergeable constants (.rodata.cst*): compare the referenced entry. */
static bool constants_equal(const struct target *to, const struct target *tp)
{
	uint64_t es = to->sec->shdr.sh_entsize;

	if (es != tp->sec->shdr.sh_entsize || !to->sec->data || !tp->sec->data)
		return false;
	if (to->offset >= 0 && tp->offset >= 0 && (uint64_t)to->offset % es == 0 &&
	    (uint64_t)tp->offset % es == 0 && (uint64_t)to->offset + es <= to->sec->size &&
	    (uint64_t)tp->offset + es <= tp->sec->size)
		return memcmp(to->sec->data + to->offset, tp->sec->data + tp->offset, es) == 0;
	/* Unusual instruction bias: fall back to identical layout and contents. */
	return to->addend == tp->addend && to->sec->size == tp->sec->size &&
	       memcmp(to->sec->data, tp->sec->data, to->sec->size) == 0;
}

static bool section_bytes_equal(const struct eo_section *a, const struct eo_section *b)
{
	if (a->size != b->size || a->shdr.sh_type != b->shdr.sh_type)
		return false;
	return !a->data || memcmp(a->data, b->data, a->size) == 0;
}

static bool targets_equal(const struct ctx *c, const struct eo_rela *ro, const struct eo_rela *rp)
{
	struct target to, tp;
	_cleanup_free_ char *no = NULL, *np = NULL;

	resolve_target(&c->orig, ro, &to);
	resolve_target(&c->patched, rp, &tp);
	if (to.kind != tp.kind)
		return false;
	switch (to.kind) {
	case TARGET_SYMBOL:
		return streq(to.key, tp.key) && to.delta == tp.delta;
	case TARGET_STRING:
		return strings_equal(&to, &tp);
	case TARGET_CONSTANT:
		return constants_equal(&to, &tp);
	case TARGET_BYTES:
		/* NEEDSWORK: relocations inside the referenced section are not compared. */
		no = normalise_name(to.sec->name);
		np = normalise_name(tp.sec->name);
		return no && np && streq(no, np) && to.offset == tp.offset &&
		       section_bytes_equal(to.sec, tp.sec);
	}
	return false;
}

/* ---- line numbers ---- */

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Original line o is patched line p according to the patch (and o != p). */
static bool line_moved(const struct elfdiff_options *opts, uint32_t o, uint32_t p)
{
	return opts && opts->line_map && o != p && o >= 1 && o < opts->n_lines &&
	       opts->line_map[o] == p;
}

/*
 * True when code[f, f + 4) is the 32-bit immediate of one of the
 * instructions GCC loads constant arguments and fields with:
 *   [REX] B8+r imm32                  mov $imm,%r32 (not REX.W: that is imm64)
 *   [REX] C7 /0 modrm [sib] [disp] imm32  movl/movq $imm,reg-or-memory
 * decoding backwards from f.  rip-relative memory forms carry a relocation
 * and are not accepted.  A wrong guess only ever makes a change look like
 * one (the caller also requires a line move the patch explains).
 */
static bool is_imm32_field(const unsigned char *code, size_t f)
{
	static const size_t disps[] = { 0, 1, 4 };

	if (f >= 1 && (code[f - 1] & 0xf8) == 0xb8 && !(f >= 2 && (code[f - 2] & 0xf8) == 0x48))
		return true;
	for (size_t sib = 0; sib <= 1; sib++)
		for (size_t d = 0; d < ARRAY_SIZE(disps); d++) {
			size_t need = 2 + sib + disps[d], m;
			unsigned modrm, mod, rm;

			if (f < need)
				continue;
			m = f - 1 - sib - disps[d];
			if (code[m - 1] != 0xc7 || (m >= 2 && code[m - 2] == 0x66))
				continue;
			modrm = code[m];
			mod = modrm >> 6;
			rm = modrm & 7;
			if ((modrm >> 3 & 7) != 0)
				continue;
			if (mod == 3 && sib == 0 && disps[d] == 0)
				return true;
			if (mod == 3 || sib != (rm == 4))
				continue;
			if (mod == 0) {
				if (rm == 5)
					continue;
				if (sib ? disps[d] != ((code[m + 1] & 7) == 5 ? 4 : 0) : disps[d] != 0)
					continue;
				return true;
			}
			if ((mod == 1 && disps[d] == 1) || (mod == 2 && disps[d] == 4))
				return true;
		}
	return false;
}

/* Every difference between a and b (n bytes of code) is a moved line in an immediate. */
static bool code_line_only(const struct elfdiff_options *opts, const unsigned char *a,
			   const unsigned char *b, size_t n)
{
	size_t k = 0, lo = 0;

	while (k < n) {
		bool ok = false;

		if (a[k] == b[k]) {
			k++;
			continue;
		}
		/* fields do not overlap: the previous one ended at lo */
		for (size_t f = k >= lo + 3 ? k - 3 : lo; f <= k && !ok; f++) {
			if (f + 4 > n || !is_imm32_field(a, f) || !is_imm32_field(b, f) ||
			    !line_moved(opts, le32(a + f), le32(b + f)))
				continue;
			ok = true;
			k = lo = f + 4;
		}
		if (!ok)
			return false;
	}
	return true;
}

/* struct _ddebug (include/linux/dynamic_debug.h): four pointers, then lineno:18. */
#define DDEBUG_LINENO_OFFSET 32
#define DDEBUG_LINENO_MASK 0x3ffffu

static bool dyndbg_line_only(const struct elfdiff_options *opts, const unsigned char *a,
			     const unsigned char *b, size_t n)
{
	uint32_t wa, wb;

	if (n < DDEBUG_LINENO_OFFSET + 4 ||
	    memcmp(a, b, DDEBUG_LINENO_OFFSET) != 0 ||
	    memcmp(a + DDEBUG_LINENO_OFFSET + 4, b + DDEBUG_LINENO_OFFSET + 4,
		   n - DDEBUG_LINENO_OFFSET - 4) != 0)
		return false;
	wa = le32(a + DDEBUG_LINENO_OFFSET);
	wb = le32(b + DDEBUG_LINENO_OFFSET);
	return ((wa ^ wb) & ~DDEBUG_LINENO_MASK) == 0 &&
	       line_moved(opts, wa & DDEBUG_LINENO_MASK, wb & DDEBUG_LINENO_MASK);
}

/* ---- comparing symbols ---- */

enum equality { DIFFERENT, EQUAL, EQUAL_BUT_LINES };

_printf_(2, 3) static enum equality differ(char reason[static 160], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, 160, fmt, ap);
	va_end(ap);
	return DIFFERENT;
}

/* Whether the two twins are equivalent; otherwise says why in reason. */
static enum equality symbols_equal(const struct ctx *c, size_t io, size_t ip,
				   char reason[static 160])
{
	const struct eo_symbol *so = &c->orig.o->syms[io], *sp = &c->patched.o->syms[ip];
	const struct eo_section *seco = &c->orig.o->secs[so->shndx];
	const struct eo_section *secp = &c->patched.o->secs[sp->shndx];
	uint64_t endo = symbol_end(so, seco), endp = symbol_end(sp, secp);
	enum equality eq = EQUAL;
	const struct eo_rela *ro, *rp;
	size_t no, np;

	if (so->type != sp->type)
		return differ(reason, "symbol type changed");
	if (so->bind != sp->bind)
		return differ(reason, "symbol binding changed");
	if (endo - so->value != endp - sp->value)
		return differ(reason, "size changed from %llu to %llu",
			      (unsigned long long)(endo - so->value),
			      (unsigned long long)(endp - sp->value));
	if ((seco->data == NULL) != (secp->data == NULL))
		return differ(reason, "moved between initialised and zero-filled sections");
	if (seco->data) {
		const unsigned char *a = seco->data + so->value, *b = secp->data + sp->value;
		size_t n = endo - so->value;

		for (size_t k = 0; k < n; k++) {
			if (a[k] == b[k])
				continue;
			if ((so->type == STT_FUNC && code_line_only(c->opts, a, b, n)) ||
			    (so->type == STT_OBJECT && streq(secp->name, "__dyndbg") &&
			     dyndbg_line_only(c->opts, a, b, n))) {
				eq = EQUAL_BUT_LINES;
				break;
			}
			return differ(reason, "bytes differ at +0x%zx", k);
		}
	}
	ro = relas_in(seco, so->value, endo, &no);
	rp = relas_in(secp, sp->value, endp, &np);
	if (no != np)
		return differ(reason, "number of relocations changed from %zu to %zu", no, np);
	for (size_t k = 0; k < no; k++) {
		uint64_t off = ro[k].offset - so->value;

		if (off != rp[k].offset - sp->value || ro[k].type != rp[k].type)
			return differ(reason, "relocation %zu moved or changed type", k);
		if (!targets_equal(c, &ro[k], &rp[k]))
			return differ(reason, "relocation at +0x%llx targets different code or data",
				      (unsigned long long)off);
	}
	return eq;
}

/* ---- correlation ---- */

/* The symbols of both objects that share a type and a normalised name. */
struct group {
	size_t *o, *p;
	size_t no, np;
};

static void group_free(void *v)
{
	struct group *g = v;

	if (!g)
		return;
	free(g->o);
	free(g->p);
	free(g);
}

static int group_add(struct hashmap *m, const char *key, bool patched, size_t idx)
{
	struct group *g = hashmap_get(m, key);
	size_t **v, *n, *nv;
	int r;

	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		r = hashmap_put(m, key, g);
		if (r < 0) {
			free(g);
			return r;
		}
	}
	v = patched ? &g->p : &g->o;
	n = patched ? &g->np : &g->no;
	nv = reallocarray(*v, *n + 1, sizeof(size_t));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[(*n)++] = idx;
	return 0;
}

static int build_groups(const struct ctx *c, struct hashmap **ret)
{
	_cleanup_(hashmap_freep) struct hashmap *m = hashmap_new(group_free);
	const struct side *sides[] = { &c->orig, &c->patched };
	int r;

	if (!m)
		return -ENOMEM;
	for (size_t k = 0; k < 2; k++) {
		const struct side *s = sides[k];

		for (size_t i = 0; i < s->o->n_syms; i++) {
			_cleanup_free_ char *key = NULL;

			if (!s->norm[i])
				continue;
			if (asprintf(&key, "%c:%s", s->o->syms[i].type == STT_FUNC ? 'F' : 'O',
				     s->norm[i]) < 0) {
				key = NULL;
				return -ENOMEM;
			}
			r = group_add(m, key, k == 1, i);
			if (r < 0)
				return r;
		}
	}
	*ret = TAKE_PTR(m);
	return 0;
}

static void pair(struct ctx *c, size_t io, size_t ip)
{
	c->orig.twin[io] = ip;
	c->patched.twin[ip] = io;
}

static bool sll(const struct side *s, size_t i)
{
	return static_local_like(&s->o->syms[i], s->norm[i]);
}

/*
 * How relocations name a symbol: a defined symbol of orig by its name, its
 * twin in patched by the same key, a patched symbol without a twin by a key
 * no orig symbol has, anything else (undefined) by name.
 */
static int build_keys(struct ctx *c)
{
	struct side *sides[] = { &c->orig, &c->patched };

	for (size_t k = 0; k < 2; k++) {
		struct side *s = sides[k];

		for (size_t i = 0; i < s->o->n_syms; i++) {
			const struct eo_symbol *sym = &s->o->syms[i];

			free(s->keys[i]);
			s->keys[i] = NULL;
			if (sym->type == STT_SECTION || sym->type == STT_FILE || !*sym->name)
				continue;
			if (k == 1 && s->twin[i] != NONE)
				s->keys[i] = strdup(c->orig.keys[s->twin[i]]);
			else if (asprintf(&s->keys[i], "%s%s",
					  !s->norm[i] ? "U:" : k == 0 ? "D:" : "N:", sym->name) < 0)
				s->keys[i] = NULL;
			if (!s->keys[i])
				return -ENOMEM;
		}
	}
	return 0;
}

/* Some function refers to both (by base name: "f", "f.part.1" and "f.cold" are one). */
static bool refs_share(const struct ctx *c, size_t io, size_t ip)
{
	const struct refs *ro = &c->orig.refs[io], *rp = &c->patched.refs[ip];

	for (size_t a = 0; a < ro->n; a++)
		for (size_t b = 0; b < rp->n; b++)
			if (streq(c->orig.base[ro->v[a]], c->patched.base[rp->v[b]]))
				return true;
	return false;
}

/*
 * The two are used by different functions, all of which exist on both
 * sides: a static local of another function that happens to have the name.
 * (A function that appears or disappears may be one the compiler inlined
 * differently, so then the references say nothing.)
 */
static bool refs_conflict(const struct ctx *c, size_t io, size_t ip)
{
	const struct refs *ro = &c->orig.refs[io], *rp = &c->patched.refs[ip];

	if (!ro->n || !rp->n || refs_share(c, io, ip))
		return false;
	for (size_t a = 0; a < ro->n; a++)
		if (!hashmap_contains(c->patched.bases, c->orig.base[ro->v[a]]))
			return false;
	for (size_t b = 0; b < rp->n; b++)
		if (!hashmap_contains(c->orig.bases, c->patched.base[rp->v[b]]))
			return false;
	return true;
}

static bool related(const struct ctx *c, size_t io, size_t ip)
{
	return refs_share(c, io, ip) || (!c->orig.refs[io].n && !c->patched.refs[ip].n);
}

static bool same_contents(const struct ctx *c, size_t io, size_t ip)
{
	char reason[160];

	return symbols_equal(c, io, ip, reason) != DIFFERENT;
}

/*
 * Pairs the group's remaining static locals: a unique related candidate
 * both ways; else a unique related candidate with the same contents both
 * ways.
 */
static void pair_static_locals(struct ctx *c, const struct group *g, bool by_contents)
{
	for (size_t a = 0; a < g->no; a++) {
		size_t io = g->o[a], found = NONE, n = 0, back = 0;

		if (c->orig.twin[io] != NONE || !sll(&c->orig, io))
			continue;
		for (size_t b = 0; b < g->np; b++) {
			size_t ip = g->p[b];

			if (c->patched.twin[ip] != NONE || !sll(&c->patched, ip) ||
			    !related(c, io, ip) || (by_contents && !same_contents(c, io, ip)))
				continue;
			found = ip;
			n++;
		}
		if (n != 1)
			continue;
		for (size_t b = 0; b < g->no; b++) {
			size_t jo = g->o[b];

			if (c->orig.twin[jo] == NONE && sll(&c->orig, jo) && related(c, jo, found) &&
			    (!by_contents || same_contents(c, jo, found)))
				back++;
		}
		if (back == 1)
			pair(c, io, found);
	}
}

/*
 * Last resort for static locals several of which share one section
 * (WARN_ONCE's __already_done.N in .data.once, referred to as
 * section+offset): an unpaired pair with the same name at the same offset
 * of same-named sections of equal size is one variable.  A patch that adds
 * or removes such a variable changes the section's size or the offsets.
 */
static void pair_by_place(struct ctx *c, const struct group *g)
{
	for (size_t a = 0; a < g->no; a++) {
		size_t io = g->o[a];
		const struct eo_symbol *so = &c->orig.o->syms[io];

		if (c->orig.twin[io] != NONE || !sll(&c->orig, io) ||
		    !eo_is_section_index(c->orig.o, so->shndx))
			continue;
		for (size_t b = 0; b < g->np; b++) {
			size_t ip = g->p[b];
			const struct eo_symbol *sp = &c->patched.o->syms[ip];
			const struct eo_section *xo, *xp;

			if (c->patched.twin[ip] != NONE || !sll(&c->patched, ip) ||
			    !eo_is_section_index(c->patched.o, sp->shndx) || !streq(so->name, sp->name) ||
			    so->value != sp->value || so->size != sp->size)
				continue;
			xo = &c->orig.o->secs[so->shndx];
			xp = &c->patched.o->secs[sp->shndx];
			if (streq(xo->name, xp->name) && xo->size == xp->size) {
				pair(c, io, ip);
				break;
			}
		}
	}
}

static int correlate(struct ctx *c)
{
	_cleanup_(hashmap_freep) struct hashmap *groups = NULL;
	struct group *g;
	size_t it;
	int r;

	r = build_groups(c, &groups);
	if (r < 0)
		return r;
	/* functions and file-scope data: unique normalised names, else exact names */
	it = 0;
	while (hashmap_next(groups, &it, (void **)&g)) {
		if (g->no == 1 && g->np == 1) {
			if (!sll(&c->orig, g->o[0]) && !sll(&c->patched, g->p[0]))
				pair(c, g->o[0], g->p[0]);
			continue;
		}
		for (size_t a = 0; a < g->no; a++) {
			if (sll(&c->orig, g->o[a]))
				continue;
			for (size_t b = 0; b < g->np; b++)
				if (c->patched.twin[g->p[b]] == NONE && !sll(&c->patched, g->p[b]) &&
				    streq(c->orig.o->syms[g->o[a]].name,
					  c->patched.o->syms[g->p[b]].name)) {
					pair(c, g->o[a], g->p[b]);
					break;
				}
		}
	}
	/*
	 * Static locals, knowing the functions.  Contents may refer to other
	 * static locals (a dynamic debug descriptor to its __func__), so repeat
	 * while that pairs more.
	 */
	for (size_t paired = NONE, round = 0; round < 8; round++) {
		size_t now = 0;

		r = build_keys(c);
		if (r < 0)
			return r;
		it = 0;
		while (hashmap_next(groups, &it, (void **)&g)) {
			if (g->no == 1 && g->np == 1) {
				if (sll(&c->orig, g->o[0]) && sll(&c->patched, g->p[0]) &&
				    !refs_conflict(c, g->o[0], g->p[0]))
					pair(c, g->o[0], g->p[0]);
				continue;
			}
			pair_static_locals(c, g, false);
			pair_static_locals(c, g, true);
		}
		for (size_t i = 0; i < c->orig.o->n_syms; i++)
			now += c->orig.twin[i] != NONE;
		if (now == paired)
			break;
		paired = now;
	}
	r = build_keys(c);
	if (r < 0)
		return r;
	it = 0;
	while (hashmap_next(groups, &it, (void **)&g))
		pair_by_place(c, g);
	return build_keys(c);
}

static int ctx_init(struct ctx *c, const struct elf_object *orig, const struct elf_object *patched,
		    const struct elfdiff_options *opts)
{
	int r;

	*c = (struct ctx){ .opts = opts };
	r = side_init(&c->orig, orig);
	if (r < 0)
		return r;
	r = side_init(&c->patched, patched);
	if (r < 0)
		return r;
	return correlate(c);
}

/* ---- the report ---- */

static bool reportable(const struct elf_object *o, size_t i)
{
	const struct eo_symbol *s = &o->syms[i];

	return pairable(o, s) && !has_prefix(o->secs[s->shndx].name, ".discard");
}

static unsigned symbol_flags(const struct elf_object *o, size_t i)
{
	const struct eo_symbol *s = &o->syms[i];
	const struct eo_section *sec = &o->secs[s->shndx];
	const struct eo_rela *r;
	unsigned flags = 0;
	size_t n;

	if (has_prefix(sec->name, ".init."))
		flags |= ELFDIFF_FLAG_INIT;
	if (has_prefix(sec->name, ".exit."))
		flags |= ELFDIFF_FLAG_EXIT;
	if (special_static(o, s))
		flags |= ELFDIFF_FLAG_SPECIAL_STATIC;
	if (s->type != STT_FUNC)
		return flags;
	/* -pg -mfentry: "call __fentry__" first, possibly after endbr64 or a 4/5-byte nop. */
	r = relas_in(sec, s->value, symbol_end(s, sec), &n);
	if (n == 0 || !streq(o->syms[r->sym].name, "__fentry__"))
		flags |= ELFDIFF_FLAG_NO_FENTRY;
	else {
		uint64_t off = r->offset - s->value;

		/* 2: "call *__fentry__@GOTPCREL(%rip)" in PIE user-space builds. */
		if (off != 0 && off != 1 && off != 2 && off != 5 && off != 6)
			flags |= ELFDIFF_FLAG_NO_FENTRY;
	}
	return flags;
}

static int report_add(struct elfdiff_report *rep, const struct elf_object *o, size_t i,
		      const char *orig_name, enum symbol_change change, unsigned flags,
		      const char *reason)
{
	const struct eo_symbol *s = &o->syms[i];
	struct elfdiff_entry *e;

	if (rep->n == rep->cap) {
		size_t cap = rep->cap ? rep->cap * 2 : 64;
		struct elfdiff_entry *n = reallocarray(rep->entries, cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		rep->entries = n;
		rep->cap = cap;
	}
	e = &rep->entries[rep->n];
	*e = (struct elfdiff_entry){ .type = s->type, .bind = s->bind, .change = change,
				     .flags = symbol_flags(o, i) | flags };
	snprintf(e->reason, sizeof(e->reason), "%s", reason ? : "");
	e->name = strdup(s->name);
	e->orig_name = orig_name ? strdup(orig_name) : NULL;
	e->section = strdup(o->secs[s->shndx].name);
	if (!e->name || !e->section || (orig_name && !e->orig_name)) {
		free((char *)e->name);
		free((char *)e->orig_name);
		free((char *)e->section);
		return -ENOMEM;
	}
	rep->n++;
	return 0;
}

/* "foo.cold", "foo.part.3" -> length of "foo", or 0 when name is no child. */
static size_t child_parent_len(const char *name)
{
	const char *p = strstr(name, ".cold");
	const char *q = strstr(name, ".part.");

	if (!p || (q && q < p))
		p = q;
	return p && p > name ? (size_t)(p - name) : 0;
}

/* GCC splits cold paths and partial inlines into children; a changed child changes the parent. */
static void propagate_children(struct elfdiff_report *rep)
{
	for (size_t i = 0; i < rep->n; i++) {
		const struct elfdiff_entry *child = &rep->entries[i];
		size_t len = child_parent_len(child->name);

		if (child->type != STT_FUNC || !len ||
		    (child->change != SYM_CHANGED && child->change != SYM_NEW &&
		     child->change != SYM_REMOVED))
			continue;
		for (size_t j = 0; j < rep->n; j++) {
			struct elfdiff_entry *parent = &rep->entries[j];

			if (parent->type == STT_FUNC && parent->change == SYM_SAME &&
			    strlen(parent->name) == len && strncmp(parent->name, child->name, len) == 0) {
				parent->change = SYM_CHANGED;
				parent->flags &= ~(unsigned)ELFDIFF_FLAG_LINE_ONLY;
				snprintf(parent->reason, sizeof(parent->reason),
					 "child function '%.100s' %s", child->name,
					 symbol_change_to_string(child->change));
			}
		}
	}
}

/* The verdict on one patched symbol. */
struct status {
	enum symbol_change change;
	unsigned flags;
	char reason[160];
};

static int compare(const struct ctx *c, struct elfdiff_report *rep)
{
	const struct elf_object *o = c->orig.o, *p = c->patched.o;
	_cleanup_free_ struct status *st = calloc(p->n_syms + 1, sizeof(*st));
	int r;

	if (!st)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_syms; i++)
		st[i].change = SYM_NEW;
	for (size_t i = 0; i < o->n_syms; i++) {
		size_t ip = c->orig.twin[i];
		enum equality eq;

		if (!reportable(o, i) || ip == NONE || !reportable(p, ip))
			continue;
		eq = symbols_equal(c, i, ip, st[ip].reason);
		if (eq == DIFFERENT) {
			st[ip].change = SYM_CHANGED;
			if (o->syms[i].type == STT_OBJECT)
				/* The generator refuses these: state lives in the running kernel. */
				snprintf(st[ip].reason, sizeof(st[ip].reason), "existing data changed");
		} else {
			st[ip].change = SYM_SAME;
			st[ip].reason[0] = '\0';
			if (eq == EQUAL_BUT_LINES)
				st[ip].flags |= ELFDIFF_FLAG_LINE_ONLY;
		}
	}
	/* Code using a changed per-site object needs the patch's fresh copy of it. */
	for (size_t j = 0; j < p->n_syms; j++) {
		const struct refs *refs = &c->patched.refs[j];

		if (!reportable(p, j) || st[j].change != SYM_CHANGED || !special_static(p, &p->syms[j]))
			continue;
		for (size_t k = 0; k < refs->n; k++) {
			struct status *f = &st[refs->v[k]];

			if (f->change != SYM_SAME)
				continue;
			f->change = SYM_CHANGED;
			f->flags &= ~(unsigned)ELFDIFF_FLAG_LINE_ONLY;
			snprintf(f->reason, sizeof(f->reason), "uses '%.100s', which changed",
				 p->syms[j].name);
		}
	}
	for (size_t i = 0; i < o->n_syms; i++) {
		size_t ip = c->orig.twin[i];

		if (!reportable(o, i))
			continue;
		if (ip == NONE || !reportable(p, ip))
			r = report_add(rep, o, i, o->syms[i].name, SYM_REMOVED, 0, NULL);
		else
			r = report_add(rep, p, ip, o->syms[i].name, st[ip].change, st[ip].flags,
				       st[ip].reason);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < p->n_syms; i++) {
		size_t io = c->patched.twin[i];

		if (!reportable(p, i) || (io != NONE && reportable(o, io)))
			continue;
		r = report_add(rep, p, i, NULL, SYM_NEW, 0, NULL);
		if (r < 0)
			return r;
	}
	propagate_children(rep);
	return 0;
}

int elfdiff_compare_opts(const struct elf_object *orig, const struct elf_object *patched,
			 const struct elfdiff_options *opts, struct elfdiff_report **ret,
			 char *reterr, size_t errsize)
{
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	_cleanup_(ctx_release) struct ctx c = { 0 };
	int r;

	if (!orig || !patched || !ret)
		return -EINVAL;
	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	r = ctx_init(&c, orig, patched, opts);
	if (r >= 0)
		r = compare(&c, rep);
	if (r < 0) {
		if (reterr && errsize)
			snprintf(reterr, errsize, "out of memory");
		return r;
	}
	*ret = TAKE_PTR(rep);
	return 0;
}

int elfdiff_compare(const struct elf_object *orig, const struct elf_object *patched,
		    struct elfdiff_report **ret, char *reterr, size_t errsize)
{
	return elfdiff_compare_opts(orig, patched, NULL, ret, reterr, errsize);
}

/* ---- renaming ---- */

/* ".text.NAME" -> ".text.NEW" when sec is the symbol's own section (and its .rela twin). */
static int rename_section(struct elf_object *o, size_t sec, const char *old, const char *new)
{
	const char *name = o->secs[sec].name;
	size_t len = strlen(name), lo = strlen(old);
	_cleanup_free_ char *renamed = NULL, *rela_old = NULL, *rela_new = NULL;
	int r;

	if (len <= lo + 1 || name[len - lo - 1] != '.' || !streq(name + len - lo, old) ||
	    name[0] != '.')
		return 0;
	if (asprintf(&renamed, "%.*s%s", (int)(len - lo), name, new) < 0 ||
	    asprintf(&rela_old, ".rela%s", name) < 0 || asprintf(&rela_new, ".rela%s", renamed) < 0)
		return -ENOMEM;
	for (size_t i = 1; i < o->n_secs; i++)
		if (o->secs[i].shdr.sh_type == SHT_RELA && o->secs[i].shdr.sh_info == sec &&
		    streq(o->secs[i].name, rela_old)) {
			r = eo_set_name(o, &o->secs[i].name, rela_new);
			if (r < 0)
				return r;
		}
	return eo_set_name(o, &o->secs[sec].name, renamed);
}

static int rename_symbol(struct elf_object *o, size_t i, const char *new)
{
	_cleanup_free_ char *old = strdup(o->syms[i].name);
	int r;

	if (!old)
		return -ENOMEM;
	r = eo_set_name(o, &o->syms[i].name, new);
	if (r < 0)
		return r;
	return rename_section(o, o->syms[i].shndx, old, new);
}

/* "count.3" -> "count.N" with the first N neither object uses. */
static int fresh_name(const struct hashmap *taken, const char *name, char **ret)
{
	size_t len = strlen(name), k = len;

	while (k > 0 && is_digit(name[k - 1]))
		k--;
	if (k == len || k == 0 || name[k - 1] != '.')
		k = len + 1; /* no numeric suffix: append one */
	for (unsigned n = 1;; n++) {
		char *cand;

		if (asprintf(&cand, "%.*s.%u", (int)(k - 1), name, n) < 0)
			return -ENOMEM;
		if (!hashmap_contains(taken, cand)) {
			*ret = cand;
			return 0;
		}
		free(cand);
	}
}

int elfdiff_correlate(const struct elf_object *orig, struct elf_object *patched,
		      const struct elfdiff_options *opts, char *reterr, size_t errsize)
{
	_cleanup_(ctx_release) struct ctx c = { 0 };
	_cleanup_(hashmap_freep) struct hashmap *taken = NULL;
	int r, renamed = 0;

	if (!orig || !patched)
		return -EINVAL;
	r = ctx_init(&c, orig, patched, opts);
	if (r < 0)
		goto oom;
	for (size_t i = 0; i < patched->n_syms; i++) {
		size_t io = c.patched.twin[i];

		if (io == NONE || streq(patched->syms[i].name, orig->syms[io].name))
			continue;
		r = rename_symbol(patched, i, orig->syms[io].name);
		if (r < 0)
			goto oom;
		renamed++;
	}
	/* a symbol without a twin must not carry a name the original gives another */
	taken = hashmap_new(NULL);
	if (!taken)
		goto oom;
	for (size_t k = 0; k < 2; k++) {
		const struct elf_object *o = k ? patched : orig;

		for (size_t i = 0; i < o->n_syms; i++)
			if (*o->syms[i].name && (r = hashmap_put(taken, o->syms[i].name, NULL)) < 0)
				goto oom;
	}
	for (size_t i = 0; i < orig->n_syms; i++)
		if (c.orig.norm[i] && (r = hashmap_put(taken, orig->syms[i].name, (void *)1)) < 0)
			goto oom;
	for (size_t i = 0; i < patched->n_syms; i++) {
		_cleanup_free_ char *fresh = NULL;

		if (c.patched.twin[i] != NONE || !c.patched.norm[i] ||
		    !hashmap_get(taken, patched->syms[i].name))
			continue;
		r = fresh_name(taken, patched->syms[i].name, &fresh);
		if (r >= 0)
			r = rename_symbol(patched, i, fresh);
		if (r >= 0)
			r = hashmap_put(taken, fresh, NULL);
		if (r < 0)
			goto oom;
		renamed++;
	}
	return renamed;
oom:
	if (reterr && errsize)
		snprintf(reterr, errsize, "out of memory");
	return -ENOMEM;
}

/* ---- report access ---- */

struct elfdiff_report *elfdiff_report_free(struct elfdiff_report *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		free((char *)r->entries[i].name);
		free((char *)r->entries[i].orig_name);
		free((char *)r->entries[i].section);
	}
	free(r->entries);
	free(r);
	return NULL;
}

size_t elfdiff_report_count(const struct elfdiff_report *r)
{
	return r ? r->n : 0;
}

const struct elfdiff_entry *elfdiff_report_entry(const struct elfdiff_report *r, size_t i)
{
	return r && i < r->n ? &r->entries[i] : NULL;
}

const struct elfdiff_entry *elfdiff_report_find(const struct elfdiff_report *r, const char *name)
{
	for (size_t i = 0; r && name && i < r->n; i++)
		if (streq(r->entries[i].name, name))
			return &r->entries[i];
	return NULL;
}

int elfdiff_report_names(const struct elfdiff_report *r, unsigned type, enum symbol_change change,
			 char ***ret)
{
	_cleanup_strv_free_ char **v = calloc(1, sizeof(char *));
	int k;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; r && i < r->n; i++) {
		if (r->entries[i].type != type || r->entries[i].change != change)
			continue;
		k = strv_push(&v, r->entries[i].name);
		if (k < 0)
			return k;
	}
	*ret = TAKE_PTR(v);
	return 0;
}
