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

/* One side of the comparison plus the correlation key of each symbol. */
struct side {
	const struct elf_object *o;
	char **keys;		/* per symbol; NULL for unnamed, section and file symbols */
};

struct ctx {
	struct side orig, patched;
	struct hashmap *count_orig, *count_patched; /* normalised name -> count */
};

/*
 * GCC numbers local clones and static locals per compilation ("foo.isra.3",
 * "foo.constprop.0", "bar.part.1", "count.2"), and the numbers shift with
 * unrelated edits.  Drop every ".<digits>" run so both builds agree.
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
		while (k < len && name[k] >= '0' && name[k] <= '9')
			k++;
		if (k > i && (k == len || name[k] == '.'))
			i = k;
	}
	out[j] = '\0';
	return out;
}

static bool keyed_symbol(const struct eo_symbol *s)
{
	return s->type != STT_SECTION && s->type != STT_FILE && *s->name;
}

static int count_names(const struct elf_object *o, struct hashmap **ret)
{
	_cleanup_(hashmap_freep) struct hashmap *m = hashmap_new(NULL);
	int r;

	if (!m)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_syms; i++) {
		_cleanup_free_ char *norm = NULL;
		uintptr_t n;

		if (!keyed_symbol(&o->syms[i]))
			continue;
		norm = normalise_name(o->syms[i].name);
		if (!norm)
			return -ENOMEM;
		n = (uintptr_t)hashmap_get(m, norm);
		r = hashmap_put(m, norm, (void *)(n + 1));
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

/* The normalised name when it is unambiguous in both objects, else the exact name. */
static int make_keys(struct ctx *c, struct side *s)
{
	s->keys = calloc(s->o->n_syms + 1, sizeof(char *));
	if (!s->keys)
		return -ENOMEM;
	for (size_t i = 0; i < s->o->n_syms; i++) {
		const struct eo_symbol *sym = &s->o->syms[i];
		_cleanup_free_ char *norm = NULL;
		struct strbuf sb;

		if (!keyed_symbol(sym))
			continue;
		norm = normalise_name(sym->name);
		if (!norm)
			return -ENOMEM;
		strbuf_init(&sb, 0);
		if ((uintptr_t)hashmap_get(c->count_orig, norm) <= 1 &&
		    (uintptr_t)hashmap_get(c->count_patched, norm) <= 1) {
			if (strbuf_adds(&sb, "n:") < 0 || strbuf_adds(&sb, norm) < 0)
				goto oom;
		} else if (strbuf_adds(&sb, "e:") < 0 || strbuf_adds(&sb, sym->name) < 0)
			goto oom;
		s->keys[i] = strbuf_detach(&sb, NULL);
		if (!s->keys[i])
			return -ENOMEM;
		continue;
oom:
		strbuf_release(&sb);
		return -ENOMEM;
	}
	return 0;
}

static void side_release(struct side *s)
{
	if (s->keys)
		for (size_t i = 0; i < s->o->n_syms; i++)
			free(s->keys[i]);
	free(s->keys);
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

/* GCC's local labels (.LC0, .LC1, ...) are renumbered freely: treat them as section offsets. */
static bool is_local_label(const struct eo_symbol *sym)
{
	return sym->type == STT_NOTYPE && sym->bind == STB_LOCAL && strncmp(sym->name, ".L", 2) == 0;
}

static void resolve_target(const struct side *s, const struct eo_rela *r, struct target *ret)
{
	const struct elf_object *o = s->o;
	const struct eo_symbol *sym = &o->syms[r->sym];
	const struct eo_section *sec;
	int64_t addend, t;

	if ((sym->type != STT_SECTION && !is_local_label(sym)) ||
	    !eo_is_section_index(o, sym->shndx)) {
		*ret = (struct target){ .kind = TARGET_SYMBOL, .key = s->keys[r->sym] ? : "",
					.delta = r->addend };
		return;
	}
	sec = &o->secs[sym->shndx];
	addend = r->addend + (int64_t)sym->value;
	/*
	 * The assembler turns references to local symbols into section symbol +
	 * addend.  PC-relative addends are biased by the distance from the
	 * displacement to the end of the instruction, which is 4 for the usual
	 * lea/mov/call forms; the content checks below cope with other biases.
	 */
	t = addend + (is_pc_relative(r->type) ? 4 : 0);
	if (sec->shdr.sh_flags & SHF_STRINGS) {
		*ret = (struct target){ .kind = TARGET_STRING, .sec = sec, .offset = t,
					.addend = addend };
		return;
	}
	/* NEEDSWORK: a per-section symbol index would avoid this scan per relocation. */
	for (size_t i = 0; i < o->n_syms; i++) {
		const struct eo_symbol *c = &o->syms[i];

		if (c->shndx != sym->shndx || (c->type != STT_FUNC && c->type != STT_OBJECT) ||
		    !s->keys[i] || t < 0)
			continue;
		if ((uint64_t)t == c->value ||
		    ((uint64_t)t > c->value && (uint64_t)t < c->value + c->size)) {
			*ret = (struct target){ .kind = TARGET_SYMBOL, .key = s->keys[i],
						.delta = addend - (int64_t)c->value };
			return;
		}
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

static uint64_t symbol_end(const struct eo_symbol *s, const struct eo_section *sec)
{
	return s->size ? s->value + s->size : sec->size;
}

_printf_(2, 3) static bool differ(char reason[static 160], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, 160, fmt, ap);
	va_end(ap);
	return false;
}

/* True when the two correlated symbols are equivalent; otherwise says why in reason. */
static bool symbols_equal(const struct ctx *c, size_t io, size_t ip, char reason[static 160])
{
	const struct eo_symbol *so = &c->orig.o->syms[io], *sp = &c->patched.o->syms[ip];
	const struct eo_section *seco = &c->orig.o->secs[so->shndx];
	const struct eo_section *secp = &c->patched.o->secs[sp->shndx];
	uint64_t endo = symbol_end(so, seco), endp = symbol_end(sp, secp);
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

		for (uint64_t k = 0; k < endo - so->value; k++)
			if (a[k] != b[k])
				return differ(reason, "bytes differ at +0x%llx", (unsigned long long)k);
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
	return true;
}

static bool reportable(const struct elf_object *o, const struct eo_symbol *s)
{
	const char *sec;

	if ((s->type != STT_FUNC && s->type != STT_OBJECT) || !*s->name ||
	    !eo_is_section_index(o, s->shndx))
		return false;
	sec = o->secs[s->shndx].name;
	return strncmp(sec, ".discard", 8) != 0;
}

static unsigned symbol_flags(const struct elf_object *o, size_t i)
{
	const struct eo_symbol *s = &o->syms[i];
	const struct eo_section *sec = &o->secs[s->shndx];
	const struct eo_rela *r;
	unsigned flags = 0;
	size_t n;

	if (s->type != STT_FUNC)
		return 0;
	if (strncmp(sec->name, ".init.", 6) == 0)
		flags |= ELFDIFF_FLAG_INIT;
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
		      enum symbol_change change, const char *reason)
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
				     .flags = symbol_flags(o, i) };
	snprintf(e->reason, sizeof(e->reason), "%s", reason ? : "");
	e->name = strdup(s->name);
	e->section = strdup(o->secs[s->shndx].name);
	if (!e->name || !e->section) {
		free((char *)e->name);
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
				snprintf(parent->reason, sizeof(parent->reason),
					 "child function '%.100s' %s", child->name,
					 symbol_change_to_string(child->change));
			}
		}
	}
}

static int compare(struct ctx *c, struct elfdiff_report *rep)
{
	const struct elf_object *o = c->orig.o, *p = c->patched.o;
	_cleanup_(hashmap_freep) struct hashmap *by_key = hashmap_new(NULL);
	_cleanup_free_ bool *matched = calloc(p->n_syms + 1, sizeof(bool));
	int r;

	if (!by_key || !matched)
		return -ENOMEM;
	for (size_t i = 0; i < p->n_syms; i++) {
		/* Store i + 1 so that index 0 is distinguishable from "absent". */
		if (!reportable(p, &p->syms[i]) || hashmap_contains(by_key, c->patched.keys[i]))
			continue;
		r = hashmap_put(by_key, c->patched.keys[i], (void *)(uintptr_t)(i + 1));
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < o->n_syms; i++) {
		char reason[160] = "";
		uintptr_t ip;

		if (!reportable(o, &o->syms[i]))
			continue;
		ip = (uintptr_t)hashmap_get(by_key, c->orig.keys[i]);
		if (!ip || matched[ip - 1]) {
			r = report_add(rep, o, i, SYM_REMOVED, NULL);
		} else {
			matched[ip - 1] = true;
			if (symbols_equal(c, i, ip - 1, reason))
				r = report_add(rep, p, ip - 1, SYM_SAME, NULL);
			else if (o->syms[i].type == STT_OBJECT)
				/* The generator refuses these: state lives in the running kernel. */
				r = report_add(rep, p, ip - 1, SYM_CHANGED, "existing data changed");
			else
				r = report_add(rep, p, ip - 1, SYM_CHANGED, reason);
		}
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < p->n_syms; i++) {
		if (!reportable(p, &p->syms[i]) || matched[i])
			continue;
		r = report_add(rep, p, i, SYM_NEW, NULL);
		if (r < 0)
			return r;
	}
	propagate_children(rep);
	return 0;
}

int elfdiff_compare(const struct elf_object *orig, const struct elf_object *patched,
		    struct elfdiff_report **ret, char *reterr, size_t errsize)
{
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	struct ctx c = { .orig = { .o = orig }, .patched = { .o = patched } };
	int r;

	if (!orig || !patched || !ret)
		return -EINVAL;
	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	r = count_names(orig, &c.count_orig);
	if (r >= 0)
		r = count_names(patched, &c.count_patched);
	if (r >= 0)
		r = make_keys(&c, &c.orig);
	if (r >= 0)
		r = make_keys(&c, &c.patched);
	if (r >= 0)
		r = compare(&c, rep);
	side_release(&c.orig);
	side_release(&c.patched);
	hashmap_free(c.count_orig);
	hashmap_free(c.count_patched);
	if (r < 0) {
		if (reterr && errsize)
			snprintf(reterr, errsize, "out of memory");
		return r;
	}
	*ret = TAKE_PTR(rep);
	return 0;
}

struct elfdiff_report *elfdiff_report_free(struct elfdiff_report *r)
{
	if (!r)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		free((char *)r->entries[i].name);
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
