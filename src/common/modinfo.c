/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "modinfo.h"
#include "parse-util.h"

#define EI_NIDENT 16
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define ET_REL 1
#define SHN_UNDEF 0
#define SHN_LORESERVE 0xff00
#define SHN_XINDEX 0xffff
#define SHT_NOBITS 8
#define MAX_SECTIONS 65536

struct elf_view {
	const unsigned char *data;
	size_t size;
	bool is64, msb;
};

static uint64_t rd(const struct elf_view *e, size_t off, unsigned width)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < width; i++) {
		unsigned shift = e->msb ? (width - 1 - i) * 8 : i * 8;

		v |= (uint64_t)e->data[off + i] << shift;
	}
	return v;
}

struct shdr {
	uint32_t name, type;
	uint64_t offset, size;
	uint32_t link;
};

/* Section header i; the caller checked the table lies within the buffer. */
static void read_shdr(const struct elf_view *e, uint64_t shoff, uint64_t entsize, uint64_t i,
		      struct shdr *s)
{
	size_t o = (size_t)(shoff + i * entsize);

	s->name = (uint32_t)rd(e, o, 4);
	s->type = (uint32_t)rd(e, o + 4, 4);
	if (e->is64) {
		s->offset = rd(e, o + 24, 8);
		s->size = rd(e, o + 32, 8);
		s->link = (uint32_t)rd(e, o + 40, 4);
	} else {
		s->offset = rd(e, o + 16, 4);
		s->size = rd(e, o + 20, 4);
		s->link = (uint32_t)rd(e, o + 24, 4);
	}
}

static bool in_bounds(const struct elf_view *e, uint64_t off, uint64_t len)
{
	return off <= e->size && len <= e->size - off;
}

static bool is_module_name(const char *s, size_t n)
{
	if (n == 0 || n >= MODINFO_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static int set_value(char **field, const char *v, size_t n)
{
	char *c = strndup(v, n);

	if (!c)
		return -ENOMEM;
	free(*field);
	*field = c;
	return 0;
}

/* NUL-separated key=value strings; padding NULs between them are skipped. */
static int parse_strings(const char *p, size_t n, struct modinfo *m, char err[], size_t errsize)
{
	size_t i = 0;
	int r;

	while (i < n) {
		const char *s = p + i, *eq, *end = memchr(s, '\0', n - i);
		size_t len = end ? (size_t)(end - s) : n - i;

		i += len + 1;
		if (len == 0)
			continue;
		eq = memchr(s, '=', len);
		if (!eq)
			continue; /* not ours to judge */
		if ((size_t)(eq - s) == 4 && memcmp(s, "name", 4) == 0) {
			if (!is_module_name(eq + 1, len - 5))
				return parse_error(err, errsize,
						   ".modinfo offset %zu: invalid module name",
						   (size_t)(s - p));
			r = set_value(&m->name, eq + 1, len - 5);
		} else if ((size_t)(eq - s) == 8 && memcmp(s, "vermagic", 8) == 0) {
			r = set_value(&m->vermagic, eq + 1, len - 9);
		} else if ((size_t)(eq - s) == 9 && memcmp(s, "livepatch", 9) == 0) {
			m->livepatch = len - 10 == 1 && eq[1] == 'Y';
			r = 0;
		} else {
			r = 0;
		}
		if (r < 0)
			return r;
	}
	return 0;
}

int modinfo_parse(const void *data, size_t size, struct modinfo *ret, char err[], size_t errsize)
{
	struct elf_view e = { .data = data, .size = size };
	struct modinfo m = { 0 };
	uint64_t shoff, shentsize, shnum, shstrndx, need;
	struct shdr strtab, s;
	bool found = false;
	int r;

	if (size < EI_NIDENT || memcmp(data, "\177ELF", 4) != 0)
		return parse_error(err, errsize, "not an ELF file");
	if (e.data[4] != ELFCLASS32 && e.data[4] != ELFCLASS64)
		return parse_error(err, errsize, "unknown ELF class %u", e.data[4]);
	if (e.data[5] != ELFDATA2LSB && e.data[5] != ELFDATA2MSB)
		return parse_error(err, errsize, "unknown ELF byte order %u", e.data[5]);
	e.is64 = e.data[4] == ELFCLASS64;
	e.msb = e.data[5] == ELFDATA2MSB;
	need = e.is64 ? 64 : 52;
	if (size < need)
		return parse_error(err, errsize, "truncated ELF header (%zu bytes)", size);
	if (rd(&e, 16, 2) != ET_REL)
		return parse_error(err, errsize, "not a relocatable object (ELF type %u)",
				   (unsigned)rd(&e, 16, 2));
	shoff = e.is64 ? rd(&e, 40, 8) : rd(&e, 32, 4);
	shentsize = rd(&e, e.is64 ? 58 : 46, 2);
	shnum = rd(&e, e.is64 ? 60 : 48, 2);
	shstrndx = rd(&e, e.is64 ? 62 : 50, 2);
	if (shentsize < (e.is64 ? 64u : 40u))
		return parse_error(err, errsize, "section header size %u too small",
				   (unsigned)shentsize);
	if (shoff == 0 || !in_bounds(&e, shoff, shentsize))
		return parse_error(err, errsize, "section header table at %llu outside the file",
				   (unsigned long long)shoff);
	if (shnum == 0 || shstrndx == SHN_XINDEX) {
		/* more sections than fit the header: the real numbers sit in section 0 */
		read_shdr(&e, shoff, shentsize, 0, &s);
		if (shnum == 0)
			shnum = s.size;
		if (shstrndx == SHN_XINDEX)
			shstrndx = s.link;
	}
	if (shnum == 0 || shnum > MAX_SECTIONS || !in_bounds(&e, shoff, shnum * shentsize))
		return parse_error(err, errsize,
				   "section header table (%llu entries) outside the file",
				   (unsigned long long)shnum);
	if (shstrndx == SHN_UNDEF || shstrndx >= shnum)
		return parse_error(err, errsize, "invalid section name table index %llu",
				   (unsigned long long)shstrndx);
	read_shdr(&e, shoff, shentsize, shstrndx, &strtab);
	if (strtab.type == SHT_NOBITS || !in_bounds(&e, strtab.offset, strtab.size))
		return parse_error(err, errsize, "section name table outside the file");

	for (uint64_t i = 1; i < shnum; i++) {
		const char *name;

		read_shdr(&e, shoff, shentsize, i, &s);
		if (s.name >= strtab.size)
			return parse_error(err, errsize,
					   "section %llu: name offset %u outside the table",
					   (unsigned long long)i, s.name);
		name = (const char *)e.data + strtab.offset + s.name;
		if (!memchr(name, '\0', strtab.size - s.name))
			return parse_error(err, errsize, "section %llu: unterminated name",
					   (unsigned long long)i);
		if (!streq(name, ".modinfo"))
			continue;
		if (s.type == SHT_NOBITS || !in_bounds(&e, s.offset, s.size))
			return parse_error(err, errsize, ".modinfo (section %llu) outside the file",
					   (unsigned long long)i);
		found = true;
		r = parse_strings((const char *)e.data + s.offset, (size_t)s.size, &m, err,
				  errsize);
		if (r < 0) {
			modinfo_release(&m);
			return r;
		}
		break;
	}
	if (!found)
		return parse_error(err, errsize, "no .modinfo section: not a kernel module");
	if (!m.name) {
		modinfo_release(&m);
		return parse_error(err, errsize, ".modinfo has no name=");
	}
	if (m.vermagic) {
		size_t n = strcspn(m.vermagic, " ");

		if (n > 0) {
			m.release = strndup(m.vermagic, n);
			if (!m.release) {
				modinfo_release(&m);
				return -ENOMEM;
			}
		}
	}
	*ret = m;
	return 0;
}

void modinfo_release(struct modinfo *m)
{
	free(m->name);
	free(m->vermagic);
	free(m->release);
	*m = (struct modinfo){ 0 };
}

bool modinfo_vermagic_matches(const char *vermagic, const char *release)
{
	size_t n;

	if (!vermagic || !release)
		return false;
	n = strlen(release);
	return n > 0 && strncmp(vermagic, release, n) == 0 &&
	       (vermagic[n] == ' ' || vermagic[n] == '\0');
}

int modinfo_read_file(const char *path, struct modinfo *ret, char err[], size_t errsize)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	r = read_file_bounded(path, MODINFO_FILE_MAX, &data, &len);
	if (r < 0) {
		snprintf(err, errsize, "cannot read '%s': %s", path, strerror(-r));
		return r;
	}
	return modinfo_parse(data, len, ret, err, errsize);
}
