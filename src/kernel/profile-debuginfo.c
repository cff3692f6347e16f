/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdbool.h>
#include <string.h>

#include "hashmap.h"
#include "kbuild.h"
#include "log.h"
#include "parse-util.h"
#include "profile-debuginfo.h"

struct debuginfo {
	struct kernel_profile *p;
	unsigned source_flags; /* PROFILE_MODULE for *.ko, PROFILE_BUILTIN otherwise */
	char *srctree;	       /* last source tree learned from kconfig.h, absolute */
	struct hashmap *seen;  /* absolute header names already added */
	size_t units, sources, included, headers, outside;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static bool is_compressed_module(const char *path)
{
	return ends_with(path, ".ko.xz") || ends_with(path, ".ko.gz") || ends_with(path, ".ko.zst");
}

static bool is_module_path(const char *path)
{
	return ends_with(path, ".ko") || is_compressed_module(path);
}

/* Never look for separate debug files: they could belong to another build. */
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

/* A header, or a .c/.S the unit #included (compiled as part of it, so flagged like it). */
static int add_included(struct debuginfo *di, const struct kbuild_roots *roots,
			const char *comp_dir, const char *name, const char *unit_source)
{
	_cleanup_free_ char *rel = NULL;
	bool absolute = name[0] == '/';
	unsigned flags;
	int r;

	if (absolute && hashmap_contains(di->seen, name))
		return 0;
	r = kbuild_relativize(roots, comp_dir, name, &rel);
	if (r <= 0) {
		di->outside += r == 0;
		return r;
	}
	if (unit_source && streq(rel, unit_source))
		return 0;
	flags = kbuild_is_source(rel) ? di->source_flags : PROFILE_HEADER;
	if ((kernel_profile_lookup(di->p, rel) & flags) == flags)
		return 0;
	r = kernel_profile_add(di->p, rel, flags);
	if (r == -EINVAL)
		return 0;
	if (r < 0)
		return r;
	if (flags == PROFILE_HEADER)
		di->headers++;
	else
		di->included++;
	if (absolute)
		return hashmap_put(di->seen, name, NULL);
	return 0;
}

/*
 * The unit's source tree: the directory holding the include/linux/kconfig.h
 * every kernel unit is compiled with, or failing that (line tables list only
 * files that contributed declarations) any include/linux/ header.
 */
static int learn_srctree(struct debuginfo *di, Dwarf_Files *files, size_t nfiles,
			 const char *comp_dir)
{
	_cleanup_free_ char *fallback = NULL;

	for (size_t i = 0; i < nfiles; i++) {
		const char *f = dwarf_filesrc(files, i, NULL, NULL);
		_cleanup_free_ char *tree = NULL, *abs = NULL;

		if (!f || !ends_with(f, ".h"))
			continue;
		tree = ends_with(f, "include/linux/kconfig.h") ? kbuild_srctree_from_kconfig_h(f)
							       : NULL;
		if (!tree) {
			if (!fallback)
				fallback = kbuild_srctree_from_header(f);
			continue;
		}
		abs = kbuild_path_normalize(comp_dir, tree);
		if (!abs)
			return -ENOMEM;
		if (abs[0] == '/') {
			free(di->srctree);
			di->srctree = TAKE_PTR(abs);
			return 0;
		}
	}
	if (fallback) {
		char *abs = kbuild_path_normalize(comp_dir, fallback);

		if (!abs)
			return -ENOMEM;
		if (abs[0] != '/') {
			free(abs);
			return 0;
		}
		free(di->srctree);
		di->srctree = abs;
	}
	return 0;
}

static int read_unit(struct debuginfo *di, Dwarf_Die *cudie)
{
	_cleanup_(kbuild_roots_release) struct kbuild_roots roots = {};
	Dwarf_Attribute attr;
	const char *name = dwarf_diename(cudie);
	const char *comp_dir = dwarf_formstring(dwarf_attr(cudie, DW_AT_comp_dir, &attr));
	_cleanup_free_ char *source = NULL;
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	int r;

	if (!name)
		return 0;
	di->units++;
	if (dwarf_getsrcfiles(cudie, &files, &nfiles) != 0)
		nfiles = 0;
	r = learn_srctree(di, files, nfiles, comp_dir);
	if (r < 0)
		return r;
	if (comp_dir && comp_dir[0] == '/') {
		r = kbuild_roots_add(&roots, comp_dir);
		if (r < 0)
			return r;
	}
	if (di->srctree) {
		r = kbuild_roots_add(&roots, di->srctree);
		if (r < 0)
			return r;
	}
	r = kbuild_relativize(&roots, comp_dir, name, &source);
	if (r < 0)
		return r;
	if (r == 0) {
		di->outside++;
	} else if (kbuild_source_wanted(source)) {
		r = kernel_profile_add(di->p, source, di->source_flags);
		if (r < 0 && r != -EINVAL)
			return r;
		di->sources += r == 0;
	}
	r = 0;
	for (size_t i = 0; i < nfiles && r >= 0; i++) {
		const char *f = dwarf_filesrc(files, i, NULL, NULL);

		if (f && (ends_with(f, ".h") || kbuild_is_source(f)))
			r = add_included(di, &roots, comp_dir, f, source);
	}
	return r;
}

static int read_units(struct debuginfo *di, Dwarf *dbg, const char *path, char *reterr,
		      size_t errsize)
{
	Dwarf_CU *cu = NULL, *next = NULL;
	Dwarf_Half version;
	uint8_t unit_type;
	Dwarf_Die cudie, subdie;
	int k, r;

	while ((k = dwarf_get_units(dbg, cu, &next, &version, &unit_type, &cudie, &subdie)) == 0) {
		int tag;

		cu = next;
		tag = dwarf_tag(&cudie);
		if (tag != DW_TAG_compile_unit && tag != DW_TAG_skeleton_unit)
			continue;
		r = read_unit(di, &cudie);
		if (r < 0)
			return r;
	}
	if (k < 0)
		return parse_error(reterr, errsize, "'%s': corrupt DWARF: %s", path,
				   dwarf_errmsg(-1));
	return 0;
}

static int no_dwarf(const char *path, char *reterr, size_t errsize)
{
	parse_error(reterr, errsize,
		    "'%s' has no DWARF debug info (built without CONFIG_DEBUG_INFO, or stripped)",
		    path);
	return -ENODATA;
}

/* Relocatable objects need libdwfl to apply the relocations of their .debug_* sections. */
static int read_relocatable(struct debuginfo *di, const char *path, char *reterr, size_t errsize)
{
	Dwfl *dwfl = dwfl_begin(&offline_callbacks);
	Dwfl_Module *mod;
	Dwarf_Addr bias;
	Dwarf *dbg;
	int r;

	if (!dwfl)
		return -ENOMEM;
	dwfl_report_begin(dwfl);
	mod = dwfl_report_offline(dwfl, path, path, -1);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!mod) {
		r = parse_error(reterr, errsize, "'%s' is not an ELF file (%s)", path,
				dwfl_errmsg(-1));
		dwfl_end(dwfl);
		return r;
	}
	dbg = dwfl_module_getdwarf(mod, &bias);
	if (!dbg) {
		dwfl_end(dwfl);
		return no_dwarf(path, reterr, errsize);
	}
	r = read_units(di, dbg, path, reterr, errsize);
	dwfl_end(dwfl);
	return r;
}

static void debuginfo_release(struct debuginfo *di)
{
	hashmap_free(di->seen);
	free(di->srctree);
}

static int read_file(struct debuginfo *di, int fd, const char *path, char *reterr, size_t errsize)
{
	GElf_Ehdr ehdr;
	Dwarf *dbg;
	Elf *elf;
	int r;

	/* Modules are relocatable; libdwfl decompresses what this elfutils was built to read. */
	if (is_compressed_module(path))
		return read_relocatable(di, path, reterr, errsize);
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr)) {
		if (elf)
			elf_end(elf);
		return parse_error(reterr, errsize, "'%s' is not an ELF file", path);
	}
	if (ehdr.e_type == ET_REL) {
		elf_end(elf);
		return read_relocatable(di, path, reterr, errsize);
	}
	dbg = dwarf_begin_elf(elf, DWARF_C_READ, NULL);
	if (!dbg) {
		elf_end(elf);
		return no_dwarf(path, reterr, errsize);
	}
	r = read_units(di, dbg, path, reterr, errsize);
	dwarf_end(dbg);
	elf_end(elf);
	return r;
}

int kernel_profile_read_debuginfo(struct kernel_profile *p, const char *path, char *reterr,
				  size_t errsize)
{
	_cleanup_(debuginfo_release) struct debuginfo di = {
		.p = p,
		.source_flags = is_module_path(path) ? PROFILE_MODULE : PROFILE_BUILTIN,
	};
	_cleanup_close_ int fd = -1;
	int r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		parse_error(reterr, errsize, "cannot open '%s': %s", path, strerror(-r));
		return r;
	}
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	di.seen = hashmap_new(NULL);
	if (!di.seen)
		return -ENOMEM;
	r = read_file(&di, fd, path, reterr, errsize);
	if (r < 0)
		return r;
	log_debug("debuginfo '%s': %zu units, %zu sources, %zu included sources, %zu headers, "
		  "%zu outside",
		  path, di.units, di.sources, di.included, di.headers, di.outside);
	return 0;
}
