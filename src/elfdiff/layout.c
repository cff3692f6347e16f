/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Structure layouts from DWARF.  A patch that changes a structure defined in
 * the .c file changes the layout unchanged code in the running kernel keeps
 * using; comparing the layouts of both objects by name finds that.  libdwfl
 * reads the objects because only it applies the relocations of a
 * relocatable object's .debug_* sections (strings and type references).
 */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elf-object.h"
#include "elfdiff.h"
#include "hashmap.h"
#include "macro.h"
#include "strbuf.h"

/* Nesting of anonymous members followed, and of DIEs walked. */
#define LAYOUT_MAX_DEPTH 64

struct member {
	char *name;
	uint64_t offset;	/* bytes from the start of the outermost type */
	uint64_t bit_offset;	/* DW_AT_data_bit_offset of bit fields, else 0 */
	uint64_t bit_size;	/* 0 unless a bit field */
	int64_t size;		/* byte size of the member's type, -1 when unknown */
};

struct layout {
	uint64_t size;
	struct member *m;
	size_t n;
	char *sig;		/* everything above as text, for equality */
	struct layout *next;	/* another definition with the same name */
};

static void layout_free(void *p)
{
	struct layout *l = p;

	while (l) {
		struct layout *next = l->next;

		for (size_t i = 0; i < l->n; i++)
			free(l->m[i].name);
		free(l->m);
		free(l->sig);
		free(l);
		l = next;
	}
}

static void layout_freep(struct layout **l)
{
	layout_free(*l);
}

static int find_no_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
			     Dwarf_Addr base, const char *file_name, const char *debuglink_file,
			     GElf_Word debuglink_crc, char **debuginfo_file_name)
{
	return -1;
}

static const Dwfl_Callbacks offline_callbacks = {
	.find_debuginfo = find_no_debuginfo,
	.section_address = dwfl_offline_section_address,
};

static bool udata(Dwarf_Die *die, unsigned name, uint64_t *ret)
{
	Dwarf_Attribute attr;
	Dwarf_Word w;

	if (!dwarf_attr_integrate(die, name, &attr) || dwarf_formudata(&attr, &w) != 0)
		return false;
	*ret = w;
	return true;
}

static bool type_of(Dwarf_Die *die, Dwarf_Die *ret)
{
	Dwarf_Attribute attr;

	return dwarf_attr_integrate(die, DW_AT_type, &attr) && dwarf_formref_die(&attr, ret);
}

static int add_member(struct layout *l, const char *prefix, const char *name, uint64_t offset,
		      uint64_t bit_offset, uint64_t bit_size, int64_t size)
{
	struct member *m = reallocarray(l->m, l->n + 1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	l->m = m;
	m = &l->m[l->n];
	*m = (struct member){ .offset = offset, .bit_offset = bit_offset, .bit_size = bit_size,
			      .size = size };
	if (asprintf(&m->name, "%s%s", prefix, name) < 0)
		return -ENOMEM;
	l->n++;
	return 0;
}

/*
 * The members of a struct/union at base; the members of anonymous struct
 * and union members are flattened into it ("u.<anon>" prefixes keep them
 * apart when their names repeat).
 */
static int collect_members(struct layout *l, Dwarf_Die *type, uint64_t base, const char *prefix,
			   unsigned depth)
{
	Dwarf_Die child;
	unsigned anon = 0;
	int r;

	if (depth > LAYOUT_MAX_DEPTH || dwarf_child(type, &child) != 0)
		return 0;
	do {
		Dwarf_Die mtype, peeled;
		const char *name;
		uint64_t off = 0, bit_off = 0, bit_size = 0;
		Dwarf_Word size;
		int64_t msize = -1;

		if (dwarf_tag(&child) != DW_TAG_member)
			continue;
		name = dwarf_diename(&child);
		/* DWARF 2/3 put a location expression here; GCC 12 emits a constant */
		(void)udata(&child, DW_AT_data_member_location, &off);
		(void)udata(&child, DW_AT_bit_size, &bit_size);
		if (!udata(&child, DW_AT_data_bit_offset, &bit_off) &&
		    udata(&child, DW_AT_bit_offset, &bit_off))
			bit_off += 0x10000; /* the big-endian-style legacy attribute: keep it apart */
		if (type_of(&child, &mtype) && dwarf_aggregate_size(&mtype, &size) == 0)
			msize = (int64_t)size;
		if (!name && type_of(&child, &mtype) && dwarf_peel_type(&mtype, &peeled) == 0 &&
		    (dwarf_tag(&peeled) == DW_TAG_structure_type ||
		     dwarf_tag(&peeled) == DW_TAG_union_type)) {
			_cleanup_free_ char *p = NULL;

			if (asprintf(&p, "%s<anon%u>.", prefix, anon++) < 0)
				return -ENOMEM;
			r = add_member(l, prefix, p + strlen(prefix), base + off, 0, 0, msize);
			if (r >= 0)
				r = collect_members(l, &peeled, base + off, p, depth + 1);
		} else {
			char anon_name[32];

			if (!name)
				snprintf(anon_name, sizeof(anon_name), "<anon%u>", anon++);
			r = add_member(l, prefix, name ? : anon_name, base + off, bit_off, bit_size,
				       msize);
		}
		if (r < 0)
			return r;
	} while (dwarf_siblingof(&child, &child) == 0);
	return 0;
}

static int make_layout(Dwarf_Die *type, struct layout **ret)
{
	_cleanup_(layout_freep) struct layout *l = calloc(1, sizeof(*l));
	struct strbuf sb;
	int r;

	if (!l)
		return -ENOMEM;
	(void)udata(type, DW_AT_byte_size, &l->size);
	r = collect_members(l, type, 0, "", 0);
	if (r < 0)
		return r;
	strbuf_init(&sb, 0);
	r = strbuf_addf(&sb, "%" PRIu64 ";", l->size);
	for (size_t i = 0; r >= 0 && i < l->n; i++)
		r = strbuf_addf(&sb, "%s@%" PRIu64 ".%" PRIu64 ":%" PRIu64 "/%" PRId64 ";",
				l->m[i].name, l->m[i].offset, l->m[i].bit_offset, l->m[i].bit_size,
				l->m[i].size);
	if (r < 0) {
		strbuf_release(&sb);
		return r;
	}
	l->sig = strbuf_detach(&sb, NULL);
	if (!l->sig)
		return -ENOMEM;
	*ret = TAKE_PTR(l);
	return 0;
}

/* Adds a definition under key unless an equal one is there. */
static int record(struct hashmap *m, const char *key, Dwarf_Die *type)
{
	struct layout *l = NULL, *head = hashmap_get(m, key);
	int r;

	r = make_layout(type, &l);
	if (r < 0)
		return r;
	for (struct layout *x = head; x; x = x->next)
		if (streq(x->sig, l->sig)) {
			layout_free(l);
			return 0;
		}
	if (head) {
		l->next = head->next;
		head->next = l;
		return 0;
	}
	r = hashmap_put(m, key, l);
	if (r < 0)
		layout_free(l);
	return r;
}

static bool is_aggregate(int tag)
{
	return tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

static int walk(struct hashmap *m, Dwarf_Die *parent, unsigned depth)
{
	Dwarf_Die die;
	int r;

	if (depth > LAYOUT_MAX_DEPTH || dwarf_child(parent, &die) != 0)
		return 0;
	do {
		int tag = dwarf_tag(&die);
		const char *name = dwarf_diename(&die);
		_cleanup_free_ char *key = NULL;
		Dwarf_Die t;

		if (is_aggregate(tag) && name && !dwarf_hasattr(&die, DW_AT_declaration)) {
			if (asprintf(&key, "%s %s", tag == DW_TAG_union_type ? "union" : "struct",
				     name) < 0)
				return -ENOMEM;
			r = record(m, key, &die);
		} else if (tag == DW_TAG_typedef && name && type_of(&die, &t) &&
			   is_aggregate(dwarf_tag(&t)) && !dwarf_diename(&t) &&
			   !dwarf_hasattr(&t, DW_AT_declaration)) {
			/* typedef struct { ... } name_t; */
			if (asprintf(&key, "%s %s", dwarf_tag(&t) == DW_TAG_union_type ? "union" :
				     "struct", name) < 0)
				return -ENOMEM;
			r = record(m, key, &t);
		} else {
			r = 0;
		}
		if (r < 0)
			return r;
		if (dwarf_haschildren(&die) > 0) {
			r = walk(m, &die, depth + 1);
			if (r < 0)
				return r;
		}
	} while (dwarf_siblingof(&die, &die) == 0);
	return 0;
}

static bool has_debug_info(const struct elf_object *o)
{
	for (size_t i = 1; i < o->n_secs; i++)
		if (streq(o->secs[i].name, ".debug_info") && o->secs[i].size > 0)
			return true;
	return false;
}

/* Every named struct and union of the object's DWARF, by "struct NAME". */
static int read_layouts(const struct elf_object *o, struct hashmap **ret, char *reterr,
			size_t errsize)
{
	_cleanup_(hashmap_freep) struct hashmap *m = hashmap_new(layout_free);
	Dwfl *dwfl;
	Dwfl_Module *mod;
	Dwarf *dbg;
	Dwarf_Addr bias;
	Dwarf_CU *cu = NULL;
	Dwarf_Die cudie;
	uint8_t unit_type;
	Dwarf_Half version;
	int r = 0;

	if (!m)
		return -ENOMEM;
	if (!has_debug_info(o)) {
		snprintf(reterr, errsize, "'%s' has no DWARF debug info", o->path);
		return -ENODATA;
	}
	dwfl = dwfl_begin(&offline_callbacks);
	if (!dwfl)
		return -ENOMEM;
	dwfl_report_begin(dwfl);
	mod = dwfl_report_offline(dwfl, o->path, o->path, -1);
	dwfl_report_end(dwfl, NULL, NULL);
	dbg = mod ? dwfl_module_getdwarf(mod, &bias) : NULL;
	if (!dbg) {
		snprintf(reterr, errsize, "reading the DWARF of '%s': %s", o->path,
			 dwfl_errmsg(-1));
		dwfl_end(dwfl);
		return -EBADMSG;
	}
	while (r >= 0 && dwarf_get_units(dbg, cu, &cu, &version, &unit_type, &cudie, NULL) == 0)
		r = walk(m, &cudie, 0);
	dwfl_end(dwfl);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}

static const struct member *find_member(const struct layout *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (streq(l->m[i].name, name))
			return &l->m[i];
	return NULL;
}

/* What changed between two layouts, in words. */
static int describe(const char *key, const struct layout *a, const struct layout *b, char **ret)
{
	struct strbuf sb;
	const char *sep = "";
	int r;

	strbuf_init(&sb, 0);
	r = strbuf_addf(&sb, "%s layout changed (", key);
	if (r >= 0 && a->size != b->size) {
		r = strbuf_addf(&sb, "size %" PRIu64 " -> %" PRIu64, a->size, b->size);
		sep = ", ";
	}
	for (size_t i = 0; r >= 0 && i < a->n; i++) {
		const struct member *x = &a->m[i], *y = find_member(b, x->name);

		if (!y)
			r = strbuf_addf(&sb, "%smember '%s' removed", sep, x->name);
		else if (x->offset != y->offset)
			r = strbuf_addf(&sb, "%smember '%s' moved from +%" PRIu64 " to +%" PRIu64, sep,
					x->name, x->offset, y->offset);
		else if (x->bit_offset != y->bit_offset || x->bit_size != y->bit_size)
			r = strbuf_addf(&sb, "%smember '%s' moved within its bits", sep, x->name);
		else if (x->size != y->size)
			r = strbuf_addf(&sb, "%smember '%s' changed size from %" PRId64 " to %" PRId64,
					sep, x->name, x->size, y->size);
		else
			continue;
		sep = ", ";
		break;
	}
	for (size_t i = 0; r >= 0 && !*sep && i < b->n; i++)
		if (!find_member(a, b->m[i].name)) {
			r = strbuf_addf(&sb, "member '%s' added", b->m[i].name);
			sep = ", ";
		}
	if (r >= 0 && !*sep)
		r = strbuf_adds(&sb, "member order");
	if (r >= 0)
		r = strbuf_addch(&sb, ')');
	if (r < 0) {
		strbuf_release(&sb);
		return r;
	}
	*ret = strbuf_detach(&sb, NULL);
	return *ret ? 0 : -ENOMEM;
}

static bool same_definitions(const struct layout *a, const struct layout *b)
{
	size_t na = 0, nb = 0;

	for (const struct layout *x = a; x; x = x->next, na++) {
		bool found = false;

		for (const struct layout *y = b; y && !found; y = y->next)
			found = streq(x->sig, y->sig);
		if (!found)
			return false;
	}
	for (const struct layout *y = b; y; y = y->next)
		nb++;
	return na == nb;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int elfdiff_struct_layouts(const struct elf_object *orig, const struct elf_object *patched,
			   char ***ret, char *reterr, size_t errsize)
{
	_cleanup_(hashmap_freep) struct hashmap *mo = NULL, *mp = NULL;
	_cleanup_strv_free_ char **out = calloc(1, sizeof(char *));
	const char *key;
	void *v;
	size_t it = 0;
	int r;

	if (!orig || !patched || !ret)
		return -EINVAL;
	if (!out)
		return -ENOMEM;
	r = read_layouts(orig, &mo, reterr, errsize);
	if (r < 0)
		return r;
	r = read_layouts(patched, &mp, reterr, errsize);
	if (r < 0)
		return r;
	while ((key = hashmap_next(mo, &it, &v))) {
		const struct layout *a = v, *b = hashmap_get(mp, key);
		char *msg = NULL;

		if (!b || same_definitions(a, b))
			continue;
		if (a->next || b->next)
			r = asprintf(&msg, "%s layout changed (one of its definitions)", key) < 0 ?
				    -ENOMEM : 0;
		else
			r = describe(key, a, b, &msg);
		if (r >= 0)
			r = strv_consume(&out, msg);
		if (r < 0)
			return r;
	}
	qsort(out, strv_length(out), sizeof(char *), cmp_str);
	*ret = TAKE_PTR(out);
	return 0;
}
