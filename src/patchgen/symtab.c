/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "hashmap.h"
#include "parse-util.h"
#include "strbuf.h"
#include "symtab.h"

#define LINE_MAX_LEN 4096
#define FIELDS_MAX 6

/* Addresses of the same-named symbols of one object, in load order. */
struct symlist {
	uint64_t *addrs;
	size_t n, alloc;
};

struct symtab {
	struct hashmap *syms;	 /* "OBJ NAME" -> struct symlist */
	struct hashmap *exports; /* NAME -> objname (char *) */
};

static void symlist_free(void *p)
{
	struct symlist *l = p;

	if (!l)
		return;
	free(l->addrs);
	free(l);
}

struct symtab *symtab_new(void)
{
	struct symtab *st = calloc(1, sizeof(*st));

	if (!st)
		return NULL;
	st->syms = hashmap_new(symlist_free);
	st->exports = hashmap_new(free);
	if (!st->syms || !st->exports)
		return symtab_free(st);
	return st;
}

struct symtab *symtab_free(struct symtab *st)
{
	if (!st)
		return NULL;
	hashmap_free(st->syms);
	hashmap_free(st->exports);
	free(st);
	return NULL;
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

static int add_symbol(struct symtab *st, const char *objname, const char *name, uint64_t addr)
{
	_cleanup_free_ char *key = make_key(objname, name);
	struct symlist *l;
	int r;

	if (!key)
		return -ENOMEM;
	l = hashmap_get(st->syms, key);
	if (!l) {
		l = calloc(1, sizeof(*l));
		if (!l)
			return -ENOMEM;
		r = hashmap_put(st->syms, key, l);
		if (r < 0) {
			free(l);
			return r;
		}
	}
	if (l->n == l->alloc) {
		size_t na = l->alloc ? l->alloc * 2 : 2;
		uint64_t *a = reallocarray(l->addrs, na, sizeof(*a));

		if (!a)
			return -ENOMEM;
		l->addrs = a;
		l->alloc = na;
	}
	l->addrs[l->n++] = addr;
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
	int n;

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
	return add_symbol(st, objname, f[2], addr);
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

	return key ? hashmap_get(st->syms, key) : NULL;
}

size_t symtab_count(const struct symtab *st, const char *objname, const char *name)
{
	const struct symlist *l = find(st, objname, name);

	return l ? l->n : 0;
}

int symtab_sympos(const struct symtab *st, const char *objname, const char *name, uint64_t addr,
		  unsigned long *ret)
{
	const struct symlist *l = find(st, objname, name);
	unsigned long pos = 0;

	if (!l || l->n == 0)
		return -ENOENT;
	if (addr == 0) {
		if (l->n > 1)
			return -ENOTUNIQ;
		*ret = 0;
		return 0;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->addrs[i] != addr)
			continue;
		if (pos)
			return -ENOTUNIQ;
		pos = i + 1;
	}
	if (!pos)
		return -ENOENT;
	*ret = l->n == 1 ? 0 : pos;
	return 0;
}
