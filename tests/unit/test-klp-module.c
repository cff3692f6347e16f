/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * klp-module: the livepatch relocations survive a real "ld -r" through the
 * carry/restore pair, at the place the linker moved their code to.
 */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfdiff.h"
#include "fileio.h"
#include "klp-module.h"
#include "klp-object.h"
#include "strbuf.h"
#include "symtab.h"
#include "test-lib.h"

#define CFLAGS "-c -O2 -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables"

static const char src_orig[] =
	"extern int printk(const char *fmt, ...);\n"
	"extern int global_unexported(int);\n"
	"static __attribute__((noinline)) int helper(int x) { return x * 3 + 1; }\n"
	"int fn(int x)\n"
	"{\n"
	"	static int counter;\n"
	"	counter++;\n"
	"	printk(\"fn %d\\n\", x);\n"
	"	return helper(x) + counter + global_unexported(x);\n"
	"}\n";

static const char src_patched[] =
	"extern int printk(const char *fmt, ...);\n"
	"extern int global_unexported(int);\n"
	"static __attribute__((noinline)) int helper(int x) { return x * 3 + 1; }\n"
	"int fn(int x)\n"
	"{\n"
	"	static int counter;\n"
	"	counter++;\n"
	"	printk(\"fn patched %d\\n\", x);\n"
	"	return helper(x) + counter + global_unexported(x) + 7;\n"
	"}\n";

/* Linked first, so the linker moves the carried .text.fn behind it. */
static const char src_other[] =
	"__attribute__((section(\".text.fn\"), used)) int pad_fn(int x)\n"
	"{ return x * x * x + 5 * x - 3; }\n"
	"extern char __tuxtape_func_0_0[];\n"
	"void *stub_ref(void) { return __tuxtape_func_0_0; }\n";

static const char kallsyms[] = "ffffffff81000100 t helper\n"
				"ffffffff81000200 T fn\n"
				"ffffffff81000400 T printk\n"
				"ffffffff81000600 T global_unexported\n"
				"ffffffff82000000 b counter.0\n";

static const char symvers[] = "0x11111111\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n";

struct rel {
	uint64_t offset;
	unsigned type;
	int64_t addend;
	char sym[128];
	unsigned shndx;
};

struct sec_info {
	bool found;
	GElf_Shdr sh;
	char target[64]; /* name of the section sh_info names */
	struct rel rels[64];
	size_t n;
	size_t n_klp_syms; /* SHN_LIVEPATCH symbols in the file */
	uint64_t fn_value, alias_value;
	bool alias;
};

/* Reads section name of path and its relocations; when several match, the last. */
static void read_sec(const char *path, const char *name, struct sec_info *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len, shstrndx;
	Elf_Scn *scn = NULL, *symscn = NULL;
	GElf_Shdr symsh = { 0 };
	Elf *e;

	memset(ret, 0, sizeof(*ret));
	assert_int_equal(read_file_bounded(path, 1 << 24, &buf, &len), 0);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_memory(buf, len);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		assert_non_null(gelf_getshdr(scn, &sh));
		if (sh.sh_type == SHT_SYMTAB) {
			symscn = scn;
			symsh = sh;
		}
	}
	assert_non_null(symscn);
	{
		Elf_Data *sd = elf_getdata(symscn, NULL);

		for (size_t i = 0; i < sd->d_size / sizeof(Elf64_Sym); i++) {
			GElf_Sym s;
			const char *n;

			gelf_getsym(sd, (int)i, &s);
			n = elf_strptr(e, symsh.sh_link, s.st_name);
			if (s.st_shndx == KLP_SHN_LIVEPATCH)
				ret->n_klp_syms++;
			if (n && streq(n, "fn") && GELF_ST_TYPE(s.st_info) == STT_FUNC)
				ret->fn_value = s.st_value;
			if (n && streq(n, "__tuxtape_func_0_0") && s.st_shndx != SHN_UNDEF) {
				ret->alias = true;
				ret->alias_value = s.st_value;
			}
		}
	}
	scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d, *sd;

		gelf_getshdr(scn, &sh);
		if (!streq(elf_strptr(e, shstrndx, sh.sh_name), name))
			continue;
		ret->found = true;
		ret->sh = sh;
		ret->n = 0;
		if (sh.sh_type != SHT_RELA)
			continue;
		{
			GElf_Shdr tsh;

			gelf_getshdr(elf_getscn(e, sh.sh_info), &tsh);
			snprintf(ret->target, sizeof(ret->target), "%s",
				 elf_strptr(e, shstrndx, tsh.sh_name));
		}
		d = elf_getdata(scn, NULL);
		sd = elf_getdata(symscn, NULL);
		for (size_t i = 0; i < d->d_size / sizeof(Elf64_Rela) && i < 64; i++) {
			GElf_Rela r;
			GElf_Sym s;
			struct rel *x = &ret->rels[ret->n++];

			gelf_getrela(d, (int)i, &r);
			gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &s);
			x->offset = r.r_offset;
			x->type = (unsigned)GELF_R_TYPE(r.r_info);
			x->addend = r.r_addend;
			x->shndx = s.st_shndx;
			snprintf(x->sym, sizeof(x->sym), "%s", elf_strptr(e, symsh.sh_link, s.st_name));
		}
	}
	elf_end(e);
}

static char *compile(const char *dir, const char *name, const char *src)
{
	_cleanup_free_ char *c = NULL, *cmd = NULL;
	char *out;

	assert_true(asprintf(&c, "%s/%s.c", dir, name) > 0);
	assert_int_equal(write_file_atomic(c, src, strlen(src), 0644), 0);
	assert_true(asprintf(&out, "%s/%s.o", dir, name) > 0);
	assert_true(asprintf(&cmd, "gcc " CFLAGS " -o '%s' '%s'", out, c) > 0);
	assert_int_equal(system(cmd), 0);
	return out;
}

struct fixture {
	char *dir, *klp, *carried, *linked, *restored;
};

/* klp.o: the phase 1 object of the patched fn, for vmlinux. */
static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	_cleanup_free_ char *orig = NULL, *patched = NULL;
	_cleanup_(elf_object_freep) struct elf_object *oo = NULL, *po = NULL;
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	_cleanup_(symtab_freep) struct symtab *st = symtab_new();
	_cleanup_strv_free_ char **changed = NULL;
	struct klp_object_options ko = { .objname = "vmlinux" };
	char err[256] = "";

	assert_non_null(f);
	assert_non_null(st);
	f->dir = test_tmpdir_new();
	orig = compile(f->dir, "orig", src_orig);
	patched = compile(f->dir, "patched", src_patched);
	assert_int_equal(elf_object_open(orig, &oo, err, sizeof(err)), 0);
	assert_int_equal(elf_object_open(patched, &po, err, sizeof(err)), 0);
	assert_int_equal(elfdiff_compare(oo, po, &rep, err, sizeof(err)), 0);
	assert_int_equal(elfdiff_report_names(rep, STT_FUNC, SYM_CHANGED, &changed), 0);
	assert_int_equal(strv_length(changed), 1);
	assert_string_equal(changed[0], "fn");
	assert_int_equal(symtab_load_kallsyms(st, kallsyms, strlen(kallsyms), err, sizeof(err)), 0);
	assert_int_equal(symtab_load_symvers(st, symvers, strlen(symvers), err, sizeof(err)), 0);
	ko.symtab = st;
	assert_true(asprintf(&f->klp, "%s/klp.o", f->dir) > 0);
	assert_true(asprintf(&f->carried, "%s/carried.o", f->dir) > 0);
	assert_true(asprintf(&f->linked, "%s/linked.o", f->dir) > 0);
	assert_true(asprintf(&f->restored, "%s/restored.ko", f->dir) > 0);
	if (klp_object_write(po, changed, &ko, f->klp, err, sizeof(err)) < 0)
		fail_msg("klp_object_write: %s", err);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_tmpdir_remove(f->dir);
	free(f->klp);
	free(f->carried);
	free(f->linked);
	free(f->restored);
	free(f);
	return 0;
}

static const struct klp_module_func fn_func = { .old_name = "fn", .new_symbol = "fn" };

static void test_carry_link_restore(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *other = NULL, *cmd = NULL;
	struct sec_info orig, carried, linked, pad, out;
	char err[512] = "";
	size_t n = 0;

	read_sec(f->klp, ".klp.rela.vmlinux..text.fn", &orig);
	assert_true(orig.found);
	assert_true(orig.n >= 2); /* helper, global_unexported, counter.0 */

	assert_int_equal(klp_module_carry(f->klp, f->carried, 0, &fn_func, 1, err, sizeof(err)), 0);
	read_sec(f->carried, ".klp.rela.vmlinux..text.fn", &carried);
	assert_false(carried.found);
	assert_int_equal(carried.n_klp_syms, 0);
	assert_true(carried.alias);
	assert_int_equal(carried.alias_value, carried.fn_value);
	read_sec(f->carried, ".relatuxtape_klp_relocs.0", &carried);
	assert_true(carried.found);
	assert_int_equal(carried.n, orig.n);
	assert_string_equal(carried.target, "tuxtape_klp_relocs.0");

	/* a real link that moves .text.fn: pad_fn comes first in the merged section */
	other = compile(f->dir, "other", src_other);
	assert_true(asprintf(&cmd, "ld -r -o '%s' '%s' '%s'", f->linked, other, f->carried) > 0);
	assert_int_equal(system(cmd), 0);
	read_sec(other, ".text.fn", &pad);
	assert_true(pad.sh.sh_size > 0);
	read_sec(f->linked, ".text.fn", &linked);
	assert_true(linked.found);
	assert_true(linked.sh.sh_size > pad.sh.sh_size);

	assert_int_equal(klp_module_restore(f->linked, f->restored, &n, err, sizeof(err)), 0);
	assert_int_equal(n, orig.n);
	read_sec(f->restored, ".klp.rela.vmlinux..text.fn", &out);
	assert_true(out.found);
	assert_string_equal(out.target, ".text.fn");
	assert_int_equal(out.sh.sh_flags & (SHF_ALLOC | KLP_SHF_RELA_LIVEPATCH),
			 SHF_ALLOC | KLP_SHF_RELA_LIVEPATCH);
	assert_int_equal(out.n, orig.n);
	assert_true(out.n_klp_syms > 0);
	assert_true(out.n_klp_syms <= orig.n);
	/* same relocations, shifted by where the linker put fn's code */
	for (size_t i = 0; i < orig.n; i++) {
		bool match = false;

		for (size_t j = 0; j < out.n; j++)
			if (out.rels[j].offset == orig.rels[i].offset + out.fn_value &&
			    out.rels[j].type == orig.rels[i].type &&
			    out.rels[j].addend == orig.rels[i].addend &&
			    streq(out.rels[j].sym, orig.rels[i].sym) &&
			    out.rels[j].shndx == KLP_SHN_LIVEPATCH)
				match = true;
		if (!match)
			fail_msg("relocation %s+%lld at %llu lost (fn at %llu)", orig.rels[i].sym,
				 (long long)orig.rels[i].addend,
				 (unsigned long long)orig.rels[i].offset,
				 (unsigned long long)out.fn_value);
	}
	assert_true(out.fn_value >= pad.sh.sh_size);
	/* the output is a valid object for the toolchain too */
	free(cmd);
	assert_true(asprintf(&cmd, "readelf -W -r -s '%s' >/dev/null 2>&1", f->restored) > 0);
	assert_int_equal(system(cmd), 0);
}

/* A second translation unit: gn() reaches another non-exported global. */
static const char src2_orig[] = "extern int other_global;\n"
				"int gn(int x) { return x + other_global; }\n";
static const char src2_patched[] = "extern int other_global;\n"
				   "int gn(int x) { return 2 * x + other_global; }\n";
static const char kallsyms2[] = "ffffffff81000800 T gn\n"
				"ffffffff82000100 D other_global\n";

/*
 * Two units carried (k = 0 and 1) and linked into one module: each unit's
 * records name their own symbols (the carried sections must not merge, the
 * name offsets are per unit).  A cumulative patch of two files depends on it.
 */
static void test_two_units(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *orig2 = NULL, *patched2 = NULL, *klp2 = NULL, *carried2 = NULL,
			    *cmd = NULL;
	_cleanup_(elf_object_freep) struct elf_object *oo = NULL, *po = NULL;
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	_cleanup_(symtab_freep) struct symtab *st = symtab_new();
	_cleanup_strv_free_ char **changed = NULL;
	struct klp_object_options ko = { .objname = "vmlinux" };
	const struct klp_module_func gn_func = { .old_name = "gn", .new_symbol = "gn" };
	struct sec_info fn_out, gn_out;
	char err[512] = "";
	size_t n = 0;

	assert_non_null(st);
	orig2 = compile(f->dir, "orig2", src2_orig);
	patched2 = compile(f->dir, "patched2", src2_patched);
	assert_int_equal(elf_object_open(orig2, &oo, err, sizeof(err)), 0);
	assert_int_equal(elf_object_open(patched2, &po, err, sizeof(err)), 0);
	assert_int_equal(elfdiff_compare(oo, po, &rep, err, sizeof(err)), 0);
	assert_int_equal(elfdiff_report_names(rep, STT_FUNC, SYM_CHANGED, &changed), 0);
	assert_int_equal(symtab_load_kallsyms(st, kallsyms2, strlen(kallsyms2), err, sizeof(err)),
			 0);
	ko.symtab = st;
	assert_true(asprintf(&klp2, "%s/klp2.o", f->dir) > 0);
	assert_true(asprintf(&carried2, "%s/carried2.o", f->dir) > 0);
	if (klp_object_write(po, changed, &ko, klp2, err, sizeof(err)) < 0)
		fail_msg("klp_object_write: %s", err);

	assert_int_equal(klp_module_carry(f->klp, f->carried, 0, &fn_func, 1, err, sizeof(err)), 0);
	assert_int_equal(klp_module_carry(klp2, carried2, 1, &gn_func, 1, err, sizeof(err)), 0);
	assert_true(asprintf(&cmd, "ld -r -o '%s' '%s' '%s'", f->linked, f->carried, carried2) > 0);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(klp_module_restore(f->linked, f->restored, &n, err, sizeof(err)), 0);

	read_sec(f->restored, ".klp.rela.vmlinux..text.gn", &gn_out);
	assert_true(gn_out.found);
	assert_int_equal(gn_out.n, 1);
	assert_string_equal(gn_out.rels[0].sym, ".klp.sym.vmlinux.other_global,0");
	read_sec(f->restored, ".klp.rela.vmlinux..text.fn", &fn_out);
	assert_true(fn_out.found);
	for (size_t i = 0; i < fn_out.n; i++)
		assert_null(strstr(fn_out.rels[i].sym, "other_global"));
	assert_int_equal(n, fn_out.n + gn_out.n);
}

static void test_bad_input(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *junk = NULL, *trunc = NULL, *buf = NULL;
	const struct klp_module_func missing = { .old_name = "nope", .new_symbol = "nope" };
	struct klp_module_options mo = { 0 };
	struct klp_module_object obj = { .objname = "vmlinux", .object = f->klp,
					 .funcs = &fn_func, .n_funcs = 1 };
	char err[512] = "";
	size_t len;

	assert_true(asprintf(&junk, "%s/junk.o", f->dir) > 0);
	assert_int_equal(write_file_atomic(junk, "not elf at all", 14, 0644), 0);
	assert_int_equal(klp_module_carry(junk, f->carried, 0, &fn_func, 1, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "not an ELF file"));
	assert_int_equal(klp_module_carry(f->klp, f->carried, 0, &missing, 1, err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "'nope' is not defined"));
	/* truncated: the section data ends past the file */
	assert_int_equal(read_file_bounded(f->klp, 1 << 24, &buf, &len), 0);
	assert_true(asprintf(&trunc, "%s/trunc.o", f->dir) > 0);
	assert_int_equal(write_file_atomic(trunc, buf, len / 3, 0644), 0);
	assert_true(klp_module_carry(trunc, f->carried, 0, &fn_func, 1, err, sizeof(err)) < 0);
	/* a plain object has nothing carried to restore */
	assert_int_equal(klp_module_restore(f->klp, f->restored, NULL, err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "no carried livepatch relocations"));
	assert_int_equal(access(f->restored, F_OK), -1);

	/* options */
	assert_int_equal(klp_module_build(&mo, &obj, 1, NULL, err, sizeof(err)), -EINVAL);
	mo = (struct klp_module_options){ .name = "Bad-Name", .source_dir = "/s",
					  .build_dir = "/b", .work_dir = f->dir, .output = "/o" };
	assert_int_equal(klp_module_build(&mo, &obj, 1, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'Bad-Name'"));
	mo.name = "good_name";
	mo.sign_key = "/k";
	assert_int_equal(klp_module_build(&mo, &obj, 1, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "both a key and a certificate"));
	mo.sign_key = NULL;
	assert_int_equal(klp_module_build(&mo, &obj, 0, NULL, err, sizeof(err)), -EINVAL);
	obj.objname = "bad.name";
	assert_int_equal(klp_module_build(&mo, &obj, 1, NULL, err, sizeof(err)), -EINVAL);
	obj.objname = "vmlinux";
	{
		const struct klp_module_func quote = { .old_name = "a\"b", .new_symbol = "fn" };

		obj.funcs = &quote;
		assert_int_equal(klp_module_build(&mo, &obj, 1, NULL, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, "bad function name"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_carry_link_restore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_units, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
	};

	return TEST_MAIN(tests);
}
