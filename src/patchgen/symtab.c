/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "elf-object.h"
#include "fileio.h"
#include "hashmap.h"
#include "parse-util.h"
#include "strbuf.h"
#include "symtab.h"

#define LINE_MAX_LEN 4096
#define FIELDS_MAX 6
/* Bound on decompressing a module: xz of the largest modules takes a second. */
#define DECOMPRESS_TIMEOUT_S 120

enum {
	SYM_LOAD_ONLY = 1 << 0, /* a module symbol klp sees only until the module's init ran */
	SYM_FILE = 1 << 1,	/* an STT_FILE marker: never counted nor looked up */
};

/* One symbol, in load order. */
struct sym {
	uint64_t addr;
	uint32_t name;	/* offset into symtab.names */
	uint32_t obj;	/* index into symtab.objs */
	uint32_t file;	/* modules: 1 + index of the STT_FILE block of a local; 0: none */
	char type;	/* kallsyms type letter */
	uint8_t flags;
};

/* Indices into symtab.syms of the same-named symbols of one object, in load order. */
struct symlist {
	uint32_t *idx;
	size_t n, alloc;
};

struct symobj {
	char *name;
	bool elf; /* loaded from a .ko: STT_FILE blocks are known */
};

struct symtab {
	struct sym *syms;
	size_t n_syms, alloc_syms;
	char *names; /* NUL-separated pool */
	size_t names_len, names_alloc;
	struct symobj *objs;
	size_t n_objs;
	uint32_t n_files;
	struct hashmap *objmap;	 /* objname -> 1 + index into objs */
	struct hashmap *lists;	 /* "OBJ NAME" -> struct symlist */
	struct hashmap *exports; /* NAME -> objname (char *) */
};

static void symlist_free(void *p)
{
	struct symlist *l = p;

	if (!l)
		return;
	free(l->idx);
	free(l);
}

struct symtab *symtab_new(void)
{
	struct symtab *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->objmap = hashmap_new(NULL);
	st->lists = hashmap_new(symlist_free);
	st->exports = hashmap_new(free);
	if (!st->objmap || !st->lists || !st->exports)
		return symtab_free(st);
	return st;
}

struct symtab *symtab_free(struct symtab *st)
{
	if (!st)
		return NULL;
	hashmap_free(st->objmap);
	hashmap_free(st->lists);
	hashmap_free(st->exports);
	for (size_t i = 0; i < st->n_objs; i++)
		free(st->objs[i].name);
	free(st->objs);
	free(st->syms);
	free(st->names);
	free(st);
	return NULL;
}

size_t symtab_size(const struct symtab *st)
{
	return st->n_syms - st->n_files;
}

static const char *sym_name(const struct symtab *st, const struct sym *s)
{
	return st->names + s->name;
}

static int fail(char *reterr, size_t errsize, int r, const char *fmt, ...) _printf_(4, 5);
static int fail(char *reterr, size_t errsize, int r, const char *fmt, ...)
{
	va_list ap;

	if (reterr && errsize) {
		va_start(ap, fmt);
		vsnprintf(reterr, errsize, fmt, ap);
		va_end(ap);
	}
	return r;
}

static bool obj_find(const struct symtab *st, const char *objname, uint32_t *ret)
{
	uintptr_t v = (uintptr_t)hashmap_get(st->objmap, objname);

	if (!v)
		return false;
	*ret = (uint32_t)(v - 1);
	return true;
}

static bool str_has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Names never hold whitespace (we split on it), so a space separates the key's halves. */
static char *make_key(const char *objname, const char *name)
{
	char *key;

	if (asprintf(&key, "%s %s", objname, name) < 0)
		return NULL;
	return key;
}

static int parse_hex(const char *s, int max_digits, uint64_t *ret)
{
	uint64_t v = 0;
	int n = 0;

	for (; *s; s++, n++) {
		unsigned d;

		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -EINVAL;
		if (n >= max_digits)
			return -ERANGE;
		v = v << 4 | d;
	}
	if (n == 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Splits line in place on any of seps; returns the field count or -E2BIG. */
static int split(char *line, const char *seps, int merge, char **fields)
{
	int n = 0;
	char *p = line;

	for (;;) {
		size_t len;

		if (merge)
			p += strspn(p, seps);
		if (!*p && (merge || n > 0))
			break;
		if (n == FIELDS_MAX)
			return -E2BIG;
		len = strcspn(p, seps);
		fields[n++] = p;
		if (!p[len])
			break;
		p[len] = '\0';
		p += len + 1;
		if (!merge && !*p) {
			/* A trailing separator ends an empty last field. */
			if (n == FIELDS_MAX)
				return -E2BIG;
			fields[n++] = p;
			break;
		}
	}
	return n;
}

static int valid_name(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max;
}

/* Module.symvers names modules by path ("drivers/net/foo-bar"); the kernel says "foo_bar". */
static char *module_kernel_name(const char *path)
{
	const char *base = strrchr(path, '/');
	char *s;

	s = strdup(base ? base + 1 : path);
	if (!s)
		return NULL;
	for (char *p = s; *p; p++)
		if (*p == '-')
			*p = '_';
	return s;
}

/* Index of objname in st->objs, added when missing. */
static int obj_index(struct symtab *st, const char *objname, uint32_t *ret)
{
	struct symobj *o;
	int r;

	if (obj_find(st, objname, ret))
		return 0;
	o = reallocarray(st->objs, st->n_objs + 1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	st->objs = o;
	o[st->n_objs] = (struct symobj){ .name = strdup(objname) };
	if (!o[st->n_objs].name)
		return -ENOMEM;
	r = hashmap_put(st->objmap, objname, (void *)(uintptr_t)(st->n_objs + 1));
	if (r < 0) {
		free(o[st->n_objs].name);
		return r;
	}
	*ret = (uint32_t)st->n_objs++;
	return 0;
}

static int pool_add(struct symtab *st, const char *s, uint32_t *ret)
{
	size_t len = strlen(s) + 1;

	if (st->names_len + len > UINT32_MAX)
		return -EFBIG;
	if (st->names_len + len > st->names_alloc) {
		size_t na = st->names_alloc ? st->names_alloc : 64 * 1024;
		char *p;

		while (na < st->names_len + len)
			na *= 2;
		p = realloc(st->names, na);
		if (!p)
			return -ENOMEM;
		st->names = p;
		st->names_alloc = na;
	}
	memcpy(st->names + st->names_len, s, len);
	*ret = (uint32_t)st->names_len;
	st->names_len += len;
	return 0;
}

/* Appends a symbol; a marker (SYM_FILE) gets no list entry. */
static int add_symbol(struct symtab *st, uint32_t obj, const char *name, uint64_t addr, char type,
		      uint8_t flags, uint32_t file)
{
	struct symlist *l = NULL;
	struct sym *sym;
	int r;

	if (st->n_syms >= UINT32_MAX)
		return -EFBIG;
	if (!(flags & SYM_FILE)) {
		_cleanup_free_ char *key = make_key(st->objs[obj].name, name);

		if (!key)
			return -ENOMEM;
		l = hashmap_get(st->lists, key);
		if (!l) {
			l = calloc(1, sizeof(*l));
			if (!l)
				return -ENOMEM;
			r = hashmap_put(st->lists, key, l);
			if (r < 0) {
				free(l);
				return r;
			}
		}
		if (l->n == l->alloc) {
			size_t na = l->alloc ? l->alloc * 2 : 2;
			uint32_t *a = reallocarray(l->idx, na, sizeof(*a));

			if (!a)
				return -ENOMEM;
			l->idx = a;
			l->alloc = na;
		}
	}
	if (st->n_syms == st->alloc_syms) {
		size_t na = st->alloc_syms ? st->alloc_syms * 2 : 1024;

		sym = reallocarray(st->syms, na, sizeof(*sym));
		if (!sym)
			return -ENOMEM;
		st->syms = sym;
		st->alloc_syms = na;
	}
	sym = &st->syms[st->n_syms];
	*sym = (struct sym){ .addr = addr, .obj = obj, .file = file, .type = type, .flags = flags };
	r = pool_add(st, name, &sym->name);
	if (r < 0)
		return r;
	if (l)
		l->idx[l->n++] = (uint32_t)st->n_syms;
	st->n_syms++;
	return 0;
}

typedef int (*line_fn)(struct symtab *st, char *line, char *reterr, size_t errsize);

static int for_each_line(struct symtab *st, const char *text, size_t len, line_fn fn,
			 char *reterr, size_t errsize)
{
	char line[LINE_MAX_LEN + 1];
	size_t lineno = 0, pos = 0;

	if (len > SYMTAB_INPUT_MAX)
		return -EFBIG;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char err[200] = "";
		int r;

		lineno++;
		if (n > LINE_MAX_LEN)
			return parse_error(reterr, errsize, "line %zu: longer than %d bytes", lineno,
					   LINE_MAX_LEN);
		if (memchr(text + pos, '\0', n))
			return parse_error(reterr, errsize, "line %zu: NUL byte", lineno);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (n > 0 && line[n - 1] == '\r')
			line[n - 1] = '\0';
		if (!line[strspn(line, " \t")])
			continue;
		r = fn(st, line, err, sizeof(err));
		if (r == -EBADMSG)
			return parse_error(reterr, errsize, "line %zu: %s", lineno, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static int kallsyms_line(struct symtab *st, char *line, char *reterr, size_t errsize)
{
	char *f[FIELDS_MAX];
	const char *objname = "vmlinux";
	char mod[SYMTAB_OBJNAME_MAX + 1];
	uint64_t addr;
	uint32_t obj;
	int n, r;

	n = split(line, " \t", 1, f);
	if (n < 3 || n > 4)
		return parse_error(reterr, errsize, "expected 'ADDR TYPE NAME [MODULE]'");
	if (parse_hex(f[0], 16, &addr) < 0)
		return parse_error(reterr, errsize, "bad address '%.40s'", f[0]);
	if (strlen(f[1]) != 1 || !((f[1][0] >= 'a' && f[1][0] <= 'z') ||
				   (f[1][0] >= 'A' && f[1][0] <= 'Z')))
		return parse_error(reterr, errsize, "bad symbol type '%.40s'", f[1]);
	if (!valid_name(f[2], SYMTAB_NAME_MAX))
		return parse_error(reterr, errsize, "symbol name too long");
	if (n == 4) {
		size_t l = strlen(f[3]);

		if (l < 3 || f[3][0] != '[' || f[3][l - 1] != ']' || l - 2 > SYMTAB_OBJNAME_MAX)
			return parse_error(reterr, errsize, "bad module field '%.60s'", f[3]);
		memcpy(mod, f[3] + 1, l - 2);
		mod[l - 2] = '\0';
		if (strchr(mod, '.') || strchr(mod, '[') || strchr(mod, ']'))
			return parse_error(reterr, errsize, "bad module name '%s'", mod);
		objname = mod;
	}
	r = obj_index(st, objname, &obj);
	if (r < 0)
		return r;
	if (st->objs[obj].elf)
		return parse_error(reterr, errsize, "symbols of '%s' already come from its module file",
				   objname);
	return add_symbol(st, obj, f[2], addr, f[1][0], 0, 0);
}

static int symvers_line(struct symtab *st, char *line, char *reterr, size_t errsize)
{
	_cleanup_free_ char *objname = NULL;
	char *f[FIELDS_MAX];
	uint64_t crc;
	int n, r;

	n = split(line, "\t", 0, f);
	if (n < 4 || n > 5)
		return parse_error(reterr, errsize,
				   "expected 'CRC<tab>NAME<tab>MODULE<tab>EXPORT_TYPE[<tab>NAMESPACE]'");
	if (strncmp(f[0], "0x", 2) != 0 || parse_hex(f[0] + 2, 8, &crc) < 0)
		return parse_error(reterr, errsize, "bad CRC '%.40s'", f[0]);
	if (!valid_name(f[1], SYMTAB_NAME_MAX) || strpbrk(f[1], " "))
		return parse_error(reterr, errsize, "bad symbol name");
	if (strempty(f[2]) || strlen(f[2]) > 4096)
		return parse_error(reterr, errsize, "bad module");
	if (strncmp(f[3], "EXPORT_SYMBOL", strlen("EXPORT_SYMBOL")) != 0)
		return parse_error(reterr, errsize, "bad export type '%.40s'", f[3]);
	objname = module_kernel_name(f[2]);
	if (!objname)
		return -ENOMEM;
	if (!valid_name(objname, SYMTAB_OBJNAME_MAX) || strchr(objname, '.'))
		return parse_error(reterr, errsize, "bad module name '%.60s'", objname);
	r = hashmap_put(st->exports, f[1], objname);
	if (r < 0)
		return r;
	TAKE_PTR(objname);
	return 0;
}

int symtab_load_kallsyms(struct symtab *st, const char *text, size_t len, char *reterr,
			 size_t errsize)
{
	return for_each_line(st, text, len, kallsyms_line, reterr, errsize);
}

int symtab_load_symvers(struct symtab *st, const char *text, size_t len, char *reterr,
			size_t errsize)
{
	return for_each_line(st, text, len, symvers_line, reterr, errsize);
}

int symtab_load_kallsyms_file(struct symtab *st, const char *path, char *reterr, size_t errsize)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = read_file_bounded(path, SYMTAB_INPUT_MAX, &buf, &len);
	if (r < 0)
		return r;
	return symtab_load_kallsyms(st, buf, len, reterr, errsize);
}

int symtab_load_symvers_file(struct symtab *st, const char *path, char *reterr, size_t errsize)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = read_file_bounded(path, SYMTAB_INPUT_MAX, &buf, &len);
	if (r < 0)
		return r;
	return symtab_load_symvers(st, buf, len, reterr, errsize);
}

/* ---- kernel module files ---- */

static const struct {
	const char *magic;
	size_t len;
	const char *program;
} compressors[] = {
	{ "\xfd" "7zXZ\0", 6, "xz" },
	{ "\x28\xb5\x2f\xfd", 4, "zstd" },
	{ "\x1f\x8b", 2, "gzip" },
};

static int collect(const char *buf, size_t len, void *userdata)
{
	return strbuf_add(userdata, buf, len);
}

/* The module's bytes, decompressed by the matching program when compressed. */
static int read_module(const char *path, char **ret, size_t *ret_len, char *reterr,
		       size_t errsize)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int status = 0, r;

	r = read_file_bounded(path, SYMTAB_INPUT_MAX, &buf, &len);
	if (r == -EFBIG)
		return fail(reterr, errsize, r, "'%s': larger than %u bytes", path,
			    SYMTAB_INPUT_MAX);
	if (r < 0)
		return fail(reterr, errsize, r, "cannot read '%s': %s", path, strerror(-r));
	for (size_t i = 0; i < ARRAY_SIZE(compressors); i++) {
		char *argv[] = { (char *)compressors[i].program, (char *)"-dc", (char *)"--",
				 (char *)path, NULL };
		_cleanup_strbuf_ struct strbuf out = { 0 };

		if (len < compressors[i].len || memcmp(buf, compressors[i].magic, compressors[i].len))
			continue;
		strbuf_init(&out, SYMTAB_INPUT_MAX);
		r = child_run_stream(argv, false, child_deadline(DECOMPRESS_TIMEOUT_S), collect, &out,
				     &status);
		if (r == -EFBIG)
			return fail(reterr, errsize, r, "'%s': larger than %u bytes decompressed",
				    path, SYMTAB_INPUT_MAX);
		if (r < 0)
			return fail(reterr, errsize, r, "cannot run '%s' on '%s': %s",
				    compressors[i].program, path, strerror(-r));
		if (status != 0)
			return fail(reterr, errsize, -EIO, "'%s -dc' failed on '%s' (exit status %d)",
				    compressors[i].program, path, status);
		free(buf);
		len = out.len;
		buf = strbuf_detach(&out, NULL);
		if (!buf)
			return -ENOMEM;
		break;
	}
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* The symbol's type letter, as a module's /proc/kallsyms lines show it. */
static char module_type(const GElf_Sym *sym, const GElf_Shdr *sh, size_t pcpu)
{
	bool global = GELF_ST_BIND(sym->st_info) != STB_LOCAL;
	char c;

	if (GELF_ST_BIND(sym->st_info) == STB_WEAK)
		return GELF_ST_TYPE(sym->st_info) == STT_OBJECT ? 'V' : 'W';
	if (sym->st_shndx == SHN_ABS || sym->st_shndx == pcpu)
		c = 'a';
	else if (!sh)
		c = '?';
	else if (sh->sh_flags & SHF_EXECINSTR)
		c = 't';
	else if (sh->sh_type == SHT_NOBITS)
		c = 'b';
	else if (sh->sh_flags & SHF_ALLOC)
		c = sh->sh_flags & SHF_WRITE ? 'd' : 'r';
	else
		c = 'n';
	return global && c != '?' ? (char)(c - 'a' + 'A') : c;
}

struct module_elf {
	Elf *elf;
	size_t n_secs, shstrndx, symtab, pcpu;
	bool modinfo;
};

static void module_elf_release(struct module_elf *m)
{
	if (m->elf)
		elf_end(m->elf);
}

static int module_elf_open(struct module_elf *m, char *buf, size_t len, char *reterr,
			   size_t errsize)
{
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;

	if (len < EI_NIDENT || memcmp(buf, ELFMAG, SELFMAG) != 0)
		return parse_error(reterr, errsize, "not an ELF file");
	if ((unsigned char)buf[EI_CLASS] != ELFCLASS64 || (unsigned char)buf[EI_DATA] != ELFDATA2LSB)
		return parse_error(reterr, errsize, "not a 64-bit little-endian ELF file");
	if (len < sizeof(Elf64_Ehdr))
		return parse_error(reterr, errsize, "truncated ELF header");
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOTSUP;
	m->elf = elf_memory(buf, len);
	if (!m->elf || elf_kind(m->elf) != ELF_K_ELF || !gelf_getehdr(m->elf, &eh))
		return parse_error(reterr, errsize, "unreadable ELF file: %s", elf_errmsg(-1));
	if (eh.e_type != ET_REL)
		return parse_error(reterr, errsize, "not a kernel module (e_type %u)",
				   (unsigned)eh.e_type);
	if (eh.e_shoff > len || eh.e_shentsize != sizeof(Elf64_Shdr) ||
	    elf_getshdrnum(m->elf, &m->n_secs) < 0 || elf_getshdrstrndx(m->elf, &m->shstrndx) < 0 ||
	    m->n_secs > (len - eh.e_shoff) / sizeof(Elf64_Shdr) || m->shstrndx >= m->n_secs)
		return parse_error(reterr, errsize, "section header table out of bounds");
	while ((scn = elf_nextscn(m->elf, scn))) {
		size_t i = elf_ndxscn(scn);
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(m->elf, m->shstrndx, sh.sh_name)))
			return parse_error(reterr, errsize, "section %zu: bad header or name", i);
		if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
		    (sh.sh_offset > len || sh.sh_size > len - sh.sh_offset))
			return parse_error(reterr, errsize, "section '%s' extends past end of file",
					   name);
		if (streq(name, ".modinfo"))
			m->modinfo = true;
		if (streq(name, ".data..percpu"))
			m->pcpu = i;
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (m->symtab)
			return parse_error(reterr, errsize, "more than one symbol table");
		if (sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link == 0 || sh.sh_link >= m->n_secs)
			return parse_error(reterr, errsize, "symbol table: bad entry size or link");
		m->symtab = i;
	}
	if (!m->modinfo)
		return parse_error(reterr, errsize, "not a kernel module (no .modinfo section)");
	if (!m->symtab)
		return parse_error(reterr, errsize, "no symbol table (stripped module)");
	return 0;
}

/* A symbol the kernel keeps in a module's table after init (its is_core_symbol()). */
static bool module_core_symbol(const struct module_elf *m, const GElf_Sym *sym,
			       const GElf_Shdr *sh, const char *secname)
{
	if (sym->st_shndx == SHN_UNDEF || sym->st_shndx >= m->n_secs || !sh)
		return false;
	if (m->pcpu && sym->st_shndx == m->pcpu)
		return true;
	return (sh->sh_flags & SHF_ALLOC) && !str_has_prefix(secname, ".init");
}

/* A module symbol between validation and insertion. */
struct pending {
	const char *name; /* in the ELF string table */
	uint64_t addr;
	char type;
	uint8_t flags;
	uint32_t file; /* block number within this module, 1-based; 0: none */
};

static int module_symbols(const struct module_elf *m, struct pending **ret, size_t *ret_n,
			  char *reterr, size_t errsize)
{
	_cleanup_free_ struct pending *p = NULL;
	Elf_Scn *scn = elf_getscn(m->elf, m->symtab);
	Elf_Data *data = scn ? elf_getdata(scn, NULL) : NULL;
	GElf_Shdr symsh;
	uint32_t file = 0;
	size_t n, np = 0;

	if (!data || !gelf_getshdr(scn, &symsh))
		return parse_error(reterr, errsize, "symbol table: %s", elf_errmsg(-1));
	n = data->d_size / sizeof(Elf64_Sym);
	p = calloc(n ? n : 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (size_t i = 1; i < n; i++) {
		GElf_Shdr shbuf, *sh = NULL;
		const char *name, *secname = "";
		GElf_Sym sym;
		unsigned type;

		if (!gelf_getsym(data, (int)i, &sym))
			return parse_error(reterr, errsize, "symbol %zu: unreadable", i);
		name = elf_strptr(m->elf, symsh.sh_link, sym.st_name);
		if (!name)
			return parse_error(reterr, errsize, "symbol %zu: bad name", i);
		type = GELF_ST_TYPE(sym.st_info);
		if (sym.st_shndx == SHN_XINDEX)
			return parse_error(reterr, errsize, "symbol '%s': extended section index "
					   "not supported", name);
		if (type == STT_FILE) {
			/* Locals that follow belong to this translation unit. */
			if (!valid_name(name, SYMTAB_NAME_MAX) || strpbrk(name, " \t\n"))
				return parse_error(reterr, errsize, "symbol %zu: bad file name", i);
			p[np++] = (struct pending){ .name = name, .type = 'f', .flags = SYM_FILE,
						    .file = ++file };
			continue;
		}
		if (sym.st_shndx == SHN_UNDEF || type == STT_SECTION || !*name)
			continue;
		if (!valid_name(name, SYMTAB_NAME_MAX) || strpbrk(name, " \t\n"))
			return parse_error(reterr, errsize, "symbol %zu: bad name", i);
		if (sym.st_shndx < SHN_LORESERVE) {
			if (sym.st_shndx >= m->n_secs)
				return parse_error(reterr, errsize,
						   "symbol '%s': section index out of range", name);
			sh = gelf_getshdr(elf_getscn(m->elf, sym.st_shndx), &shbuf);
			if (!sh || !(secname = elf_strptr(m->elf, m->shstrndx, sh->sh_name)))
				return parse_error(reterr, errsize, "symbol '%s': bad section", name);
		}
		p[np++] = (struct pending){
			.name = name,
			.addr = sym.st_value,
			.type = module_type(&sym, sh, m->pcpu),
			.flags = module_core_symbol(m, &sym, sh, secname) ? 0 : SYM_LOAD_ONLY,
			.file = GELF_ST_BIND(sym.st_info) == STB_LOCAL ? file : 0,
		};
	}
	*ret = TAKE_PTR(p);
	*ret_n = np;
	return 0;
}

int symtab_load_module_elf(struct symtab *st, const char *objname, const char *ko_path,
			   char *reterr, size_t errsize)
{
	_cleanup_(module_elf_release) struct module_elf m = { 0 };
	_cleanup_free_ struct pending *p = NULL;
	_cleanup_free_ char *buf = NULL;
	char err[256] = "";
	size_t len = 0, n = 0;
	uint32_t obj, base;
	int r;

	if (strempty(objname) || strlen(objname) > SYMTAB_OBJNAME_MAX ||
	    strpbrk(objname, ". \t[]/"))
		return fail(reterr, errsize, -EINVAL, "'%s' cannot be a module name",
			    objname ? objname : "");
	if (obj_find(st, objname, &obj))
		return fail(reterr, errsize, -EEXIST, "symbols of '%s' are already loaded", objname);
	r = read_module(ko_path, &buf, &len, reterr, errsize);
	if (r < 0)
		return r;
	r = module_elf_open(&m, buf, len, err, sizeof(err));
	if (r >= 0)
		r = module_symbols(&m, &p, &n, err, sizeof(err));
	if (r < 0)
		return fail(reterr, errsize, r, "module '%s': %s", ko_path, err);

	/* Validated: from here on only memory can run out. */
	r = obj_index(st, objname, &obj);
	if (r < 0)
		return r;
	st->objs[obj].elf = true;
	base = st->n_files;
	for (size_t i = 0; i < n; i++) {
		r = add_symbol(st, obj, p[i].name, p[i].addr, p[i].type, p[i].flags,
			       p[i].file ? base + p[i].file : 0);
		if (r < 0)
			return r;
		if (p[i].flags & SYM_FILE)
			st->n_files = base + p[i].file;
	}
	return 0;
}

int symtab_exported(const struct symtab *st, const char *name, const char **ret_objname)
{
	const char *obj = hashmap_get(st->exports, name);

	if (!obj)
		return 0;
	if (ret_objname)
		*ret_objname = obj;
	return 1;
}

static const struct symlist *find(const struct symtab *st, const char *objname, const char *name)
{
	_cleanup_free_ char *key = make_key(objname, name);

	return key ? hashmap_get(st->lists, key) : NULL;
}

size_t symtab_count(const struct symtab *st, const char *objname, const char *name)
{
	const struct symlist *l = find(st, objname, name);

	return l ? l->n : 0;
}

int symtab_lookup(const struct symtab *st, const char *objname, const char *name, size_t nth,
		  struct symtab_sym *ret)
{
	const struct symlist *l = find(st, objname, name);
	const struct sym *s;

	if (!l || nth >= l->n)
		return -ENOENT;
	s = &st->syms[l->idx[nth]];
	*ret = (struct symtab_sym){ .addr = s->addr, .type = s->type,
				    .load_only = s->flags & SYM_LOAD_ONLY };
	return 0;
}

/*
 * The sympos of l->idx[k].  klp counts a module's symbols in its load-time
 * table when the module comes after the patch, in its trimmed table when it
 * was there first; a position must hold in both.
 */
static int list_sympos(const struct symtab *st, const struct symlist *l, size_t k,
		       unsigned long *ret)
{
	size_t n_all = l->n, n_core = 0, pos_core = 0;

	if (st->syms[l->idx[k]].flags & SYM_LOAD_ONLY)
		return -ENOENT;
	for (size_t i = 0; i < l->n; i++) {
		if (st->syms[l->idx[i]].flags & SYM_LOAD_ONLY)
			continue;
		n_core++;
		if (i == k)
			pos_core = n_core;
	}
	if (n_all == 1) {
		*ret = 0;
		return 0;
	}
	if (pos_core != k + 1)
		return -ENOTUNIQ;
	*ret = pos_core;
	return 0;
}

int symtab_sympos(const struct symtab *st, const char *objname, const char *name, uint64_t addr,
		  unsigned long *ret)
{
	const struct symlist *l = find(st, objname, name);
	size_t found = SIZE_MAX, n_core = 0;

	if (!l || l->n == 0)
		return -ENOENT;
	for (size_t i = 0; i < l->n; i++) {
		const struct sym *s = &st->syms[l->idx[i]];

		if (addr == 0) {
			/* "Unique": the only one klp can see after the module's init. */
			if (!(s->flags & SYM_LOAD_ONLY) && n_core++ == 0)
				found = i;
			continue;
		}
		if (s->addr != addr)
			continue;
		if (found != SIZE_MAX)
			return -ENOTUNIQ;
		found = i;
	}
	if (addr == 0 && n_core > 1)
		return -ENOTUNIQ;
	if (found == SIZE_MAX)
		return -ENOENT;
	return list_sympos(st, l, found, ret);
}

/* ---- which of several same-named symbols a translation unit defines ---- */

static bool orig_defined(const struct elf_object *o, const struct eo_symbol *s)
{
	return (s->type == STT_FUNC || s->type == STT_OBJECT) && !strempty(s->name) &&
	       eo_is_section_index(o, s->shndx);
}

/*
 * The output section kind a symbol of an object built with
 * -ffunction-sections/-fdata-sections lands in when the target's object was
 * built without: ".text.NAME" -> ".text", ".bss.NAME" -> ".bss", cold and
 * hot text together; explicit sections (".init.text", ".data..percpu")
 * stay what they are.
 */
static const char *region(const struct elf_object *o, const struct eo_symbol *s, char *buf,
			  size_t size)
{
	const char *sec = o->secs[s->shndx].name;
	size_t n = strlen(sec), m = strlen(s->name);

	if (streq(sec, ".text.unlikely") || str_has_prefix(sec, ".text.unlikely."))
		return ".text.unlikely";
	if (streq(sec, ".text.hot") || str_has_prefix(sec, ".text.hot."))
		return ".text.hot";
	if (n > m + 1 && sec[n - m - 1] == '.' && streq(sec + n - m, s->name) &&
	    n - m - 1 < size) {
		memcpy(buf, sec, n - m - 1);
		buf[n - m - 1] = '\0';
		return buf;
	}
	return sec;
}

/* Orders orig's symbols as the assembler emitted them: by section, then offset. */
static int cmp_orig(const void *a, const void *b, void *userdata)
{
	const struct elf_object *o = userdata;
	const struct eo_symbol *x = &o->syms[*(const size_t *)a];
	const struct eo_symbol *y = &o->syms[*(const size_t *)b];

	if (x->shndx != y->shndx)
		return x->shndx < y->shndx ? -1 : 1;
	return (x->value > y->value) - (x->value < y->value);
}

struct near {
	const struct symtab *st;
	uint32_t obj;
	const char *objname, *name;
	const struct elf_object *orig;
	const struct symlist *cands;
	size_t s0; /* orig's index of name */
};

/* The target index of a name the object has exactly once in the target, or -1. */
static int64_t anchor_index(const struct near *nr, const char *name)
{
	const struct symlist *l = find(nr->st, nr->objname, name);

	return l && l->n == 1 ? (int64_t)l->idx[0] : -1;
}

/* The name of the STT_FILE marker that opens block file. */
static const char *block_name(const struct symtab *st, size_t idx, uint32_t file)
{
	for (size_t j = idx + 1; file && j-- > 0;) {
		const struct sym *m = &st->syms[j];

		if ((m->flags & SYM_FILE) && m->file == file)
			return sym_name(st, m);
	}
	return NULL;
}

/* Modules: STT_FILE blocks say which translation unit a local belongs to. */
static int near_by_file(const struct near *nr, size_t *ret_k, char *reterr, size_t errsize)
{
	const struct symtab *st = nr->st;
	const char *orig_file = NULL;
	size_t found = 0, n = 0;
	bool anchored = false;

	for (size_t k = 0; k < nr->cands->n; k++) {
		uint32_t f = st->syms[nr->cands->idx[k]].file;

		for (size_t i = 0; f && i < nr->orig->n_syms; i++) {
			const struct eo_symbol *s = &nr->orig->syms[i];
			int64_t a;

			if (i == nr->s0 || s->bind != STB_LOCAL || !orig_defined(nr->orig, s))
				continue;
			a = anchor_index(nr, s->name);
			if (a >= 0 && st->syms[a].file == f) {
				n++;
				found = k;
				break;
			}
		}
	}
	anchored = n > 0;
	for (size_t i = 0; i < nr->orig->n_syms && !orig_file; i++)
		if (nr->orig->syms[i].type == STT_FILE && !strempty(nr->orig->syms[i].name))
			orig_file = nr->orig->syms[i].name;
	if (!anchored && orig_file) {
		/* No local anchor: the block named like orig's source file. */
		for (size_t k = 0; k < nr->cands->n; k++) {
			size_t idx = nr->cands->idx[k];
			const char *b = block_name(st, idx, st->syms[idx].file);

			if (b && streq(b, orig_file)) {
				n++;
				found = k;
			}
		}
	}
	if (n == 1) {
		*ret_k = found;
		return 0;
	}
	if (n > 1)
		return fail(reterr, errsize, -ENOTUNIQ,
			    "'%s' is %zu times in '%s' and %zu of them sit in a source file block "
			    "%s", nr->name, nr->cands->n, nr->objname, n,
			    anchored ? "with the object's symbols" : "named like the object's");
	return fail(reterr, errsize, -ENOTUNIQ,
		    "'%s' is %zu times in '%s' and none sits in a source file block with the "
		    "object's unique local symbols%s%s%s", nr->name, nr->cands->n, nr->objname,
		    orig_file ? " or named '" : "", orig_file ? orig_file : "",
		    orig_file ? "'" : "");
}

/*
 * Follows the target from index from in direction dir over expected (orig
 * symbol indices, nearest first): each name must come next among the
 * object's symbols.  Names the target lacks altogether were optimised out
 * there as well and are passed over, except skip_never.  True with the
 * index of the last one matched (from when none was).
 */
static bool follow(const struct near *nr, size_t from, int dir, const size_t *expected, size_t n,
		   size_t skip_never, size_t *ret_j)
{
	const struct symtab *st = nr->st;
	size_t j = from;

	for (size_t e = 0; e < n; e++) {
		const struct eo_symbol *want = &nr->orig->syms[expected[e]];

		if (expected[e] != skip_never && symtab_count(st, nr->objname, want->name) == 0)
			continue;
		do {
			if (dir < 0 ? j == 0 : j + 1 >= st->n_syms)
				return false;
			j = dir < 0 ? j - 1 : j + 1;
		} while (st->syms[j].obj != nr->obj || (st->syms[j].flags & SYM_FILE));
		if (!streq(sym_name(st, &st->syms[j]), want->name))
			return false;
	}
	*ret_j = j;
	return true;
}

static bool cand_at(const struct near *nr, size_t j, size_t *ret_k)
{
	for (size_t k = 0; k < nr->cands->n; k++)
		if (nr->cands->idx[k] == j) {
			*ret_k = k;
			return true;
		}
	return false;
}

/* From an anchor over orig's names up to and including name (the last of expected). */
static bool walk(const struct near *nr, size_t from, int dir, const size_t *expected, size_t n,
		 size_t *ret_k)
{
	size_t j;

	return follow(nr, from, dir, expected, n, nr->s0, &j) && j != from && cand_at(nr, j, ret_k);
}

/*
 * Without anchors: the one candidate around which the object's whole
 * sequence of names of that section kind lies (at least one other name).
 */
static int whole_run(const struct near *nr, const size_t *order, size_t n, size_t pos0,
		     size_t *ret_k)
{
	_cleanup_free_ size_t *rev = calloc(pos0 ? pos0 : 1, sizeof(*rev));
	size_t others = 0, matches = 0, found = 0, j;

	if (!rev)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		others += i != pos0 && symtab_count(nr->st, nr->objname,
						    nr->orig->syms[order[i]].name) > 0;
	if (others == 0)
		return -ENOTUNIQ;
	for (size_t i = 0; i < pos0; i++)
		rev[i] = order[pos0 - 1 - i];
	for (size_t k = 0; k < nr->cands->n; k++) {
		size_t c = nr->cands->idx[k];

		if (follow(nr, c, -1, rev, pos0, SIZE_MAX, &j) &&
		    follow(nr, c, 1, order + pos0 + 1, n - pos0 - 1, SIZE_MAX, &j)) {
			matches++;
			found = k;
		}
	}
	if (matches != 1)
		return -ENOTUNIQ;
	*ret_k = found;
	return 0;
}

/* vmlinux: each object's symbols of one section kind are one run in address order. */
static int near_by_region(const struct near *nr, size_t *ret_k, char *reterr, size_t errsize)
{
	const struct elf_object *o = nr->orig;
	_cleanup_free_ size_t *order = calloc(o->n_syms ? o->n_syms : 1, sizeof(*order));
	_cleanup_free_ int64_t *tidx = calloc(o->n_syms ? o->n_syms : 1, sizeof(*tidx));
	char rbuf0[256], rbuf[256];
	const char *r0 = region(o, &o->syms[nr->s0], rbuf0, sizeof(rbuf0));
	const char *before = NULL, *after = NULL;
	size_t n = 0, pos0 = 0, first = SIZE_MAX, last = SIZE_MAX, inside = 0, found = 0;
	int64_t lo = INT64_MAX, hi = -1;

	if (!order || !tidx)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_syms; i++)
		if (orig_defined(o, &o->syms[i]) &&
		    streq(region(o, &o->syms[i], rbuf, sizeof(rbuf)), r0))
			order[n++] = i;
	qsort_r(order, n, sizeof(*order), cmp_orig, (void *)o);
	for (size_t i = 0; i < n; i++) {
		tidx[i] = order[i] == nr->s0 ? -1 : anchor_index(nr, o->syms[order[i]].name);
		if (order[i] == nr->s0)
			pos0 = i;
		if (tidx[i] < 0)
			continue;
		if (first == SIZE_MAX)
			first = i;
		last = i;
		lo = tidx[i] < lo ? tidx[i] : lo;
		hi = tidx[i] > hi ? tidx[i] : hi;
	}
	for (size_t i = 0; i < n; i++) {
		if (tidx[i] < 0)
			continue;
		if (i < pos0)
			before = o->syms[order[i]].name;
		else if (!after)
			after = o->syms[order[i]].name;
	}
	if (first == SIZE_MAX) {
		int r = whole_run(nr, order, n, pos0, ret_k);

		if (r != -ENOTUNIQ)
			return r;
		return fail(reterr, errsize, -ENOTUNIQ,
			    "'%s' is %zu times in '%s', no other %s symbol of the object is unique "
			    "there and the object's sequence of them does not occur exactly once",
			    nr->name, nr->cands->n, nr->objname, r0);
	}
	for (size_t k = 0; k < nr->cands->n; k++)
		if ((int64_t)nr->cands->idx[k] > lo && (int64_t)nr->cands->idx[k] < hi) {
			inside++;
			found = k;
		}
	if (inside == 1) {
		*ret_k = found;
		return 0;
	}
	if (inside > 1)
		return fail(reterr, errsize, -ENOTUNIQ,
			    "'%s' is %zu times in '%s' and %zu of them lie among the object's %s "
			    "symbols", nr->name, nr->cands->n, nr->objname, inside, r0);
	/* Beyond the outermost anchor: only where orig's order puts it, name by name. */
	if (pos0 > last && tidx[last] == hi &&
	    walk(nr, (size_t)hi, 1, order + last + 1, pos0 - last, ret_k))
		return 0;
	if (pos0 < first && tidx[first] == lo) {
		_cleanup_free_ size_t *rev = calloc(first - pos0, sizeof(*rev));

		if (!rev)
			return -ENOMEM;
		for (size_t i = 0; i < first - pos0; i++)
			rev[i] = order[first - 1 - i];
		if (walk(nr, (size_t)lo, -1, rev, first - pos0, ret_k))
			return 0;
	}
	return fail(reterr, errsize, -ENOTUNIQ,
		    "'%s' is %zu times in '%s' and none lies where the object's %s symbols put "
		    "it (%s%s%s%s%s%s%s)", nr->name, nr->cands->n, nr->objname, r0,
		    before ? "after '" : "", before ? before : "", before ? "'" : "",
		    before && after ? ", " : "", after ? "before '" : "", after ? after : "",
		    after ? "'" : "");
}

int symtab_sympos_near(const struct symtab *st, const char *objname, const char *name,
		       const struct elf_object *orig, unsigned long *ret, char *reterr,
		       size_t errsize)
{
	struct near nr = { .st = st, .objname = objname, .name = name, .orig = orig,
			   .s0 = SIZE_MAX };
	size_t k = 0;
	int r;

	nr.cands = find(st, objname, name);
	if (!nr.cands || nr.cands->n == 0 || !obj_find(st, objname, &nr.obj))
		return fail(reterr, errsize, -ENOENT, "'%s' is not in the symbol table of '%s'",
			    name, objname);
	if (nr.cands->n > 1) {
		for (size_t i = 0; i < orig->n_syms; i++)
			if (orig_defined(orig, &orig->syms[i]) && streq(orig->syms[i].name, name)) {
				nr.s0 = i;
				break;
			}
		if (nr.s0 == SIZE_MAX)
			return fail(reterr, errsize, -ENOENT,
				    "'%s' is %zu times in '%s' but not defined in the object", name,
				    nr.cands->n, objname);
		r = st->objs[nr.obj].elf ? near_by_file(&nr, &k, reterr, errsize)
					 : near_by_region(&nr, &k, reterr, errsize);
		if (r < 0)
			return r;
	}
	r = list_sympos(st, nr.cands, k, ret);
	if (r == -ENOTUNIQ)
		return fail(reterr, errsize, r,
			    "'%s' in '%s': its position differs while the module loads (an init "
			    "symbol of that name comes first)", name, objname);
	if (r == -ENOENT)
		return fail(reterr, errsize, r,
			    "'%s' in '%s' exists only while the module initialises", name, objname);
	return r;
}
