/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfdiff.h"
#include "fileio.h"
#include "klp-object.h"
#include "strbuf.h"
#include "symtab.h"
#include "test-lib.h"

#define CFLAGS "-c -O2 -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables"

/* symtab */

static struct symtab *load(const char *kallsyms, const char *symvers)
{
	struct symtab *st = symtab_new();
	char err[200] = "";

	assert_non_null(st);
	if (kallsyms && symtab_load_kallsyms(st, kallsyms, strlen(kallsyms), err, sizeof(err)) < 0)
		fail_msg("kallsyms: %s", err);
	if (symvers && symtab_load_symvers(st, symvers, strlen(symvers), err, sizeof(err)) < 0)
		fail_msg("symvers: %s", err);
	return st;
}

/* klp-object */

static const char src_orig[] =
	"extern int printk(const char *fmt, ...);\n"
	"extern int exported_fn(int);\n"
	"extern int global_unexported(int);\n"
	"static __attribute__((noinline)) int helper(int x) { return x * 3 + 1; }\n"
	"int fn(int x)\n"
	"{\n"
	"	static int counter;\n"
	"	counter++;\n"
	"	printk(\"fn %d\\n\", x);\n"
	"	return helper(x) + counter + exported_fn(x) + global_unexported(x);\n"
	"}\n"
	"int other(int x) { return helper(x) - 1; }\n";

static const char src_patched[] =
	"extern int printk(const char *fmt, ...);\n"
	"extern int exported_fn(int);\n"
	"extern int global_unexported(int);\n"
	"static __attribute__((noinline)) int helper(int x) { return x * 3 + 1; }\n"
	"int fn(int x)\n"
	"{\n"
	"	static int counter;\n"
	"	counter++;\n"
	"	printk(\"fn patched %d\\n\", x);\n"
	"	return helper(x) + counter + exported_fn(x) + global_unexported(x) + 1;\n"
	"}\n"
	"int other(int x) { return helper(x) - 1; }\n";

static const char kallsyms_base[] =
	"ffffffff81000100 t helper\n"
	"ffffffff81000200 T fn\n"
	"ffffffff81000300 T other\n"
	"ffffffff81000400 T printk\n"
	"ffffffff81000500 T exported_fn\n"
	"ffffffff81000600 T global_unexported\n"
	"ffffffff82000000 b counter.0\n";

static const char symvers_base[] =
	"0x11111111\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x22222222\texported_fn\tvmlinux\tEXPORT_SYMBOL_GPL\t\n";

struct fixture {
	char *dir;
	char *orig, *patched, *out;
	struct elf_object *po;
	char **changed;
};

static char *compile(const char *dir, const char *name, const char *flags, const char *src)
{
	_cleanup_free_ char *c = NULL, *cmd = NULL;
	char *out;

	assert_true(asprintf(&c, "%s/%s.c", dir, name) > 0);
	assert_int_equal(write_file_atomic(c, src, strlen(src), 0644), 0);
	assert_true(asprintf(&out, "%s/%s.o", dir, name) > 0);
	assert_true(asprintf(&cmd, "gcc %s -o '%s' '%s'", flags, out, c) > 0);
	assert_int_equal(system(cmd), 0);
	return out;
}

/* Builds the pair with flags and diffs it; f->changed gets the changed functions. */
static void build(struct fixture *f, const char *flags)
{
	_cleanup_(elf_object_freep) struct elf_object *oo = NULL;
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	char err[256] = "";

	f->dir = test_tmpdir_new();
	f->orig = compile(f->dir, "orig", flags, src_orig);
	f->patched = compile(f->dir, "patched", flags, src_patched);
	assert_true(asprintf(&f->out, "%s/klp.o", f->dir) > 0);
	assert_int_equal(elf_object_open(f->orig, &oo, err, sizeof(err)), 0);
	assert_int_equal(elf_object_open(f->patched, &f->po, err, sizeof(err)), 0);
	assert_int_equal(elfdiff_compare(oo, f->po, &rep, err, sizeof(err)), 0);
	assert_int_equal(elfdiff_report_names(rep, STT_FUNC, SYM_CHANGED, &f->changed), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	build(f, CFLAGS);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_tmpdir_remove(f->dir);
	free(f->orig);
	free(f->patched);
	free(f->out);
	elf_object_free(f->po);
	strv_free(f->changed);
	free(f);
	return 0;
}

/* Runs cmd, returns its stdout; fails the test on a non-zero exit or any stderr output. */
static char *run(const char *fmt, ...) _printf_(1, 2);
static char *run(const char *fmt, ...)
{
	_cleanup_free_ char *cmd = NULL;
	struct strbuf sb;
	char buf[4096];
	va_list ap;
	size_t n;
	FILE *p;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	/* stderr joins stdout after a marker, so warnings show up. */
	{
		_cleanup_free_ char *full = NULL;

		assert_true(asprintf(&full, "(%s) 2>&1 1>/dev/null | sed 's/^/STDERR: /'; %s",
				     cmd, cmd) > 0);
		p = popen(full, "r");
	}
	assert_non_null(p);
	strbuf_init(&sb, 0);
	while ((n = fread(buf, 1, sizeof(buf), p)) > 0)
		assert_int_equal(strbuf_add(&sb, buf, n), 0);
	assert_int_equal(pclose(p), 0);
	if (strstr(sb.buf, "STDERR:"))
		fail_msg("'%s' printed errors:\n%s", cmd, sb.buf);
	return strbuf_detach(&sb, NULL);
}

static int write_klp(struct fixture *f, const char *kallsyms, const char *symvers,
		     const char *objname, const struct klp_sympos_hint *hints, size_t n_hints,
		     char *err, size_t errsize)
{
	_cleanup_(symtab_freep) struct symtab *st = load(kallsyms, symvers);
	struct klp_object_options o = { .objname = objname, .symtab = st, .hints = hints,
					.n_hints = n_hints };

	return klp_object_write(f->po, f->changed, &o, f->out, err, errsize);
}

/* The header of section name in path; fails when absent. */
static int find_shdr(const char *path, const char *name, GElf_Shdr *ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len, shstrndx;
	Elf_Scn *scn = NULL;
	Elf *e;
	int found = 0;

	assert_int_equal(read_file_bounded(path, 1 << 24, &buf, &len), 0);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_memory(buf, len);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;

		assert_non_null(gelf_getshdr(scn, &sh));
		if (streq(elf_strptr(e, shstrndx, sh.sh_name), name)) {
			*ret = sh;
			found = 1;
		}
	}
	elf_end(e);
	return found;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in:\n%s", needle, hay);
}

/* The symbol line ending in " name" must contain what. */
static void assert_sym(const char *syms, const char *name, const char *what)
{
	_cleanup_free_ char *needle = NULL;
	const char *end, *start;

	assert_true(asprintf(&needle, " %s\n", name) > 0);
	end = strstr(syms, needle);
	if (!end)
		fail_msg("no symbol '%s' in:\n%s", name, syms);
	for (start = end; start > syms && start[-1] != '\n'; start--)
		;
	if (!memmem(start, (size_t)(end - start), what, strlen(what)))
		fail_msg("symbol '%s' is not '%s':\n%s", name, what, syms);
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("'%s' unexpectedly found in:\n%s", needle, hay);
}

static void test_write_vmlinux(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *secs = NULL, *syms = NULL, *relas = NULL, *strs = NULL, *ld = NULL,
			    *linked = NULL;
	GElf_Shdr klp, text, rela;
	char err[256] = "";

	assert_int_equal(strv_length(f->changed), 1);
	assert_string_equal(f->changed[0], "fn");
	if (write_klp(f, kallsyms_base, symvers_base, "vmlinux", NULL, 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);

	secs = run("readelf -SW '%s'", f->out);
	assert_contains(secs, " .text.fn ");
	assert_lacks(secs, ".text.helper");
	assert_lacks(secs, ".text.other");
	assert_lacks(secs, ".bss.counter");
	assert_contains(secs, ".rodata.fn.str1.1");

	/* The klp relocation section: flags and link to its target. */
	assert_true(find_shdr(f->out, ".klp.rela.vmlinux..text.fn", &klp));
	assert_true(find_shdr(f->out, ".text.fn", &text));
	assert_true(find_shdr(f->out, ".rela.text.fn", &rela));
	assert_int_equal(klp.sh_type, SHT_RELA);
	assert_int_equal(klp.sh_flags, SHF_ALLOC | SHF_INFO_LINK | KLP_SHF_RELA_LIVEPATCH);
	assert_int_equal(rela.sh_flags, SHF_INFO_LINK);
	assert_int_equal(klp.sh_info, rela.sh_info);
	assert_int_equal(klp.sh_entsize, sizeof(Elf64_Rela));

	syms = run("readelf -sW '%s'", f->out);
	assert_sym(syms, "fn", "FUNC    GLOBAL DEFAULT");
	/* readelf prints SHN_LIVEPATCH (SHN_LOOS) as "OS [0xff20]". */
	assert_contains(syms, "0xff20] .klp.sym.vmlinux.helper,0\n");
	assert_contains(syms, "OBJECT  LOCAL  DEFAULT OS [0xff20] .klp.sym.vmlinux.counter.0,0\n");
	assert_contains(syms, ".klp.sym.vmlinux.global_unexported,0\n");
	assert_contains(syms, "NOTYPE  GLOBAL DEFAULT  UND printk\n");
	assert_contains(syms, "NOTYPE  GLOBAL DEFAULT  UND exported_fn\n");
	assert_lacks(syms, " helper\n");
	assert_lacks(syms, " other\n");

	relas = run("readelf -rW '%s'", f->out);
	assert_contains(relas, "Relocation section '.klp.rela.vmlinux..text.fn'");
	{
		const char *k = strstr(relas, "'.klp.rela.vmlinux..text.fn'");
		const char *n = strstr(relas, "'.rela.text.fn'");

		assert_non_null(k);
		assert_non_null(n);
		/* Each reference lands in the right section. */
		if (k < n) {
			assert_true(strstr(k, ".klp.sym.vmlinux.helper,0") < n);
			assert_true(strstr(n, "printk") != NULL);
		} else {
			assert_true(strstr(n, "printk") < k);
			assert_true(strstr(n, "exported_fn") < k);
			assert_null(strstr(k, "printk"));
		}
		assert_non_null(strstr(k, ".klp.sym.vmlinux.counter.0,0"));
		assert_non_null(strstr(k, ".klp.sym.vmlinux.global_unexported,0"));
	}
	assert_lacks(relas, "R_X86_64_PC32          0000000000000000 .text.helper");

	strs = run("readelf -p .rodata.fn.str1.1 '%s'", f->out);
	assert_contains(strs, "fn patched %d");

	/* Sanity: binutils can link it. */
	assert_true(asprintf(&linked, "%s/linked.o", f->dir) > 0);
	ld = run("ld -r -o /dev/null '%s'", f->out);
	free(run("readelf -aW '%s'", f->out));
	assert_int_equal(text.sh_type, SHT_PROGBITS);
}

static void test_write_sympos_and_module(void **state)
{
	struct fixture *f = *state;
	const struct klp_sympos_hint hint = { .name = "helper", .sympos = 2 };
	const struct klp_sympos_hint bad_hint = { .name = "helper", .sympos = 3 };
	_cleanup_free_ char *syms = NULL, *secs = NULL;
	char kallsyms[1024], modsyms[1024];
	char err[256] = "";
	GElf_Shdr sh;

	snprintf(kallsyms, sizeof(kallsyms), "%s%s", kallsyms_base,
		 "ffffffff81000700 t helper\n");
	assert_int_equal(write_klp(f, kallsyms, symvers_base, "vmlinux", NULL, 0, err,
				   sizeof(err)), -ENOTUNIQ);
	assert_contains(err, "'helper' occurs 2 times in vmlinux");
	assert_int_equal(write_klp(f, kallsyms, symvers_base, "vmlinux", &bad_hint, 1, err,
				   sizeof(err)), -ENOENT);
	if (write_klp(f, kallsyms, symvers_base, "vmlinux", &hint, 1, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	syms = run("readelf -sW '%s'", f->out);
	assert_contains(syms, " .klp.sym.vmlinux.helper,2\n");

	/* The same code as part of module foo_mod: its locals resolve in foo_mod. */
	snprintf(modsyms, sizeof(modsyms),
		 "ffffffff81000400 T printk\n"
		 "ffffffff81000500 T exported_fn\n"
		 "ffffffff81000100 t helper\n"
		 "ffffffffc0000100 t helper\t[foo_mod]\n"
		 "ffffffffc0000200 T fn\t[foo_mod]\n"
		 "ffffffffc0000600 T global_unexported\t[foo_mod]\n"
		 "ffffffffc0001000 b counter.0\t[foo_mod]\n");
	if (write_klp(f, modsyms, symvers_base, "foo_mod", NULL, 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_true(find_shdr(f->out, ".klp.rela.foo_mod..text.fn", &sh));
	assert_false(find_shdr(f->out, ".klp.rela.vmlinux..text.fn", &sh));
	free(syms);
	syms = run("readelf -sW '%s'", f->out);
	assert_contains(syms, " .klp.sym.foo_mod.helper,0\n");
	assert_contains(syms, " .klp.sym.foo_mod.counter.0,0\n");
	assert_contains(syms, "UND printk\n");
	secs = run("readelf -SW '%s'", f->out);
	assert_lacks(secs, ".text.helper");
}

static void test_write_bad(void **state)
{
	struct fixture *f = *state;
	_cleanup_(symtab_freep) struct symtab *st = load(kallsyms_base, symvers_base);
	struct klp_object_options o = { .objname = "vmlinux", .symtab = st };
	char *nope[] = { "nope", NULL }, *none[] = { NULL }, *data[] = { "counter.0", NULL };
	char **special = NULL;
	char err[256] = "";

	assert_int_equal(klp_object_write(f->po, nope, &o, f->out, err, sizeof(err)), -ENOENT);
	assert_contains(err, "'nope'");
	assert_int_equal(klp_object_write(f->po, none, &o, f->out, err, sizeof(err)), -EINVAL);
	assert_int_equal(klp_object_write(f->po, NULL, &o, f->out, err, sizeof(err)), -EINVAL);
	o.objname = "vm.linux";
	assert_int_equal(klp_object_write(f->po, f->changed, &o, f->out, err, sizeof(err)),
			 -EINVAL);
	o.objname = "";
	assert_int_equal(klp_object_write(f->po, f->changed, &o, f->out, err, sizeof(err)),
			 -EINVAL);
	o.objname = "vmlinux";
	o.symtab = NULL;
	assert_int_equal(klp_object_write(f->po, f->changed, &o, f->out, err, sizeof(err)),
			 -EINVAL);
	/* A referenced local the target does not have. */
	assert_int_equal(write_klp(f, "ffffffff81000200 T fn\nffffffff82000000 b counter.0\n"
				      "ffffffff81000600 T global_unexported\n",
				   symvers_base, "vmlinux", NULL, 0, err, sizeof(err)), -ENOENT);
	assert_contains(err, "'helper' is neither exported nor in the vmlinux symbol table");
	/* Nothing was left behind by the failures. */
	assert_int_equal(access(f->out, F_OK), -1);

	/* Including a data object copies it (a new variable) instead of referencing it. */
	{
		char *both[] = { "fn", "counter.0", NULL };
		_cleanup_free_ char *syms = NULL;

		o.symtab = st;
		if (klp_object_write(f->po, both, &o, f->out, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		syms = run("readelf -sW '%s'", f->out);
		assert_lacks(syms, ".klp.sym.vmlinux.counter");
		assert_sym(syms, "counter.0", "4 OBJECT  LOCAL  DEFAULT");
	}
	assert_int_equal(klp_object_special_sections(f->po, data, &special), 0);
	assert_null(special[0]);
	strv_free(special);
	assert_int_equal(klp_object_special_sections(f->po, nope, &special), -ENOENT);
	assert_int_equal(klp_object_special_sections(f->po, none, &special), -EINVAL);
}

static void test_special_mcount(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	void *p = f;
	char **special = NULL;
	_cleanup_free_ char *relas = NULL;
	char err[256] = "";

	(void)state;
	assert_non_null(f);
	/* -mrecord-mcount gives each function a __mcount_loc entry; the patched one's is kept. */
	build(f, CFLAGS " -fno-pie -mcmodel=kernel -pg -mfentry -mrecord-mcount");
	assert_int_equal(klp_object_special_sections(f->po, f->changed, &special), 0);
	assert_non_null(special[0]);
	assert_string_equal(special[0], "__mcount_loc");
	assert_null(special[1]);
	strv_free(special);
	if (write_klp(f, kallsyms_base, "0x1\t__fentry__\tvmlinux\tEXPORT_SYMBOL\t\n", "vmlinux",
		      NULL, 0, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	relas = run("readelf -rW '%s'", f->out);
	assert_contains(relas, "Relocation section '.rela__mcount_loc' at offset");
	assert_contains(relas, "contains 1 entry:\n");
	assert_contains(relas, "R_X86_64_64            0000000000000000 .text.fn + 0\n");
	assert_lacks(relas, ".text.other");
	teardown(&p);
}

/* Special sections: tests/data/klp/specials.c, built the way kbuild builds the kernel. */

#define KFLAGS CFLAGS " -fno-pie -mcmodel=kernel -mno-red-zone"
#define SPECIAL_FLAGS KFLAGS " -pg -mfentry -mrecord-mcount"

static const char specials_kallsyms[] =
	"ffffffff81000100 t hidden_fn\n"
	"ffffffff81000200 T fn\n"
	"ffffffff81000300 T other\n"
	"ffffffff82000000 D hidden_key\n"
	"ffffffff82000100 D __SCK__hidden_sc\n";

static const char specials_symvers[] =
	"0x1\texported_fn\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x2\texported_key\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x3\t__SCT__exported_sc\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x4\t__SCK__exported_sc\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x5\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x6\t__fentry__\tvmlinux\tEXPORT_SYMBOL\t\n"
	"0x7\t__dynamic_pr_debug\tvmlinux\tEXPORT_SYMBOL\t\n";

/* Compiles tests/data/klp/NAME.c with flags into dir; returns the object's path. */
static char *compile_data(const char *dir, const char *name, const char *flags)
{
	_cleanup_free_ char *rel = NULL, *src = NULL, *cmd = NULL;
	char *out;

	assert_true(asprintf(&rel, "klp/%s.c", name) > 0);
	src = test_data_path(rel);
	assert_non_null(src);
	assert_true(asprintf(&out, "%s/%s.o", dir, name) > 0);
	assert_true(asprintf(&cmd, "gcc %s -o '%s' '%s'", flags, out, src) > 0);
	assert_int_equal(system(cmd), 0);
	return out;
}

/*
 * Every relocation of the object at path, one per line:
 * "RELASECTION TARGET OFFSET(hex) TYPE SYMBOL+ADDEND(hex, signed)", where
 * SYMBOL is the section's name for a section symbol.
 */
static char *dump_relas(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	struct strbuf sb;
	size_t len, shstrndx;
	Elf_Scn *scn = NULL;
	Elf *e;

	assert_int_equal(read_file_bounded(path, 1 << 24, &buf, &len), 0);
	assert_int_not_equal(elf_version(EV_CURRENT), EV_NONE);
	e = elf_memory(buf, len);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	strbuf_init(&sb, 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh, tsh, ssh;
		Elf_Data *d, *syms;
		Elf_Scn *symscn;

		assert_non_null(gelf_getshdr(scn, &sh));
		if (sh.sh_type != SHT_RELA)
			continue;
		assert_non_null(gelf_getshdr(elf_getscn(e, sh.sh_info), &tsh));
		symscn = elf_getscn(e, sh.sh_link);
		assert_non_null(gelf_getshdr(symscn, &ssh));
		d = elf_getdata(scn, NULL);
		syms = elf_getdata(symscn, NULL);
		assert_non_null(d);
		assert_non_null(syms);
		for (size_t i = 0; i < sh.sh_size / sizeof(Elf64_Rela); i++) {
			GElf_Rela r;
			GElf_Sym s;
			const char *name;

			assert_non_null(gelf_getrela(d, (int)i, &r));
			assert_non_null(gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &s));
			if (GELF_ST_TYPE(s.st_info) == STT_SECTION) {
				GElf_Shdr x;

				assert_non_null(gelf_getshdr(elf_getscn(e, s.st_shndx), &x));
				name = elf_strptr(e, shstrndx, x.sh_name);
			} else {
				name = elf_strptr(e, ssh.sh_link, s.st_name);
			}
			unsigned long long a = (unsigned long long)(r.r_addend < 0 ? -r.r_addend
										  : r.r_addend);

			assert_int_equal(strbuf_addf(&sb, "%s %s %llx %u %s%s%llx\n",
						     elf_strptr(e, shstrndx, sh.sh_name),
						     elf_strptr(e, shstrndx, tsh.sh_name),
						     (unsigned long long)r.r_offset,
						     (unsigned)GELF_R_TYPE(r.r_info), name,
						     r.r_addend < 0 ? "-" : "+", a),
					 0);
		}
	}
	elf_end(e);
	return strbuf_detach(&sb, NULL);
}

/* A copy of the contents of section name of path; NULL when absent. */
static unsigned char *section_data(const char *path, const char *name, size_t *ret_size)
{
	_cleanup_free_ char *buf = NULL;
	unsigned char *copy = NULL;
	size_t len, shstrndx;
	Elf_Scn *scn = NULL;
	Elf *e;

	assert_int_equal(read_file_bounded(path, 1 << 24, &buf, &len), 0);
	e = elf_memory(buf, len);
	assert_non_null(e);
	assert_int_equal(elf_getshdrstrndx(e, &shstrndx), 0);
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		assert_non_null(gelf_getshdr(scn, &sh));
		if (!streq(elf_strptr(e, shstrndx, sh.sh_name), name))
			continue;
		assert_null(copy); /* names are unique */
		d = elf_getdata(scn, NULL);
		assert_non_null(d);
		copy = malloc(d->d_size + 1);
		assert_non_null(copy);
		memcpy(copy, d->d_buf, d->d_size);
		*ret_size = d->d_size;
	}
	elf_end(e);
	return copy;
}

/* The line of dump whose prefix is prefix (up to the newline); fails when absent. */
static char *line_with(const char *dump, const char *prefix)
{
	const char *p = dump;

	while (p && *p) {
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			return strndup(p, strcspn(p, "\n"));
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	fail_msg("no line starting with '%s' in:\n%s", prefix, dump);
	return NULL;
}

/* Symbol (or section) and addend of the relocation line of dump starting with prefix. */
static char *target_of(const char *dump, const char *prefix, long long *ret_addend)
{
	_cleanup_free_ char *l = line_with(dump, prefix);
	const char *p = l + strlen(prefix);
	size_t n;

	/* TYPE, then SYMBOL+ADDEND. */
	p = strchr(p, ' ');
	assert_non_null(p);
	p++;
	n = strcspn(p, "+-");
	assert_true(p[n] == '+' || p[n] == '-');
	*ret_addend = strtoll(p + n + 1, NULL, 16) * (p[n] == '-' ? -1 : 1);
	return strndup(p, n);
}

struct special_fixture {
	char *dir, *obj, *out;
	struct elf_object *po;
	json_t *report;
	char *in_relas;
};

static int special_setup(void **state)
{
	struct special_fixture *f = calloc(1, sizeof(*f));
	char err[256] = "";

	assert_non_null(f);
	f->dir = test_tmpdir_new();
	f->obj = compile_data(f->dir, "specials", SPECIAL_FLAGS);
	assert_true(asprintf(&f->out, "%s/klp.o", f->dir) > 0);
	if (elf_object_open(f->obj, &f->po, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	f->in_relas = dump_relas(f->obj);
	f->report = json_object();
	assert_non_null(f->report);
	*state = f;
	return 0;
}

static int special_teardown(void **state)
{
	struct special_fixture *f = *state;

	test_tmpdir_remove(f->dir);
	free(f->obj);
	free(f->out);
	free(f->in_relas);
	elf_object_free(f->po);
	json_decref(f->report);
	free(f);
	return 0;
}

/* Writes f->out from f->po; extra_symvers is added to specials_symvers. */
static int write_special_sv(struct special_fixture *f, const char *kallsyms,
			    const char *extra_symvers, const char *objname, char *const *include,
			    char *err, size_t errsize)
{
	_cleanup_free_ char *sv = NULL;
	_cleanup_(symtab_freep) struct symtab *st = NULL;
	struct klp_object_options o = { .objname = objname, .report = f->report };

	assert_true(asprintf(&sv, "%s%s", specials_symvers, extra_symvers) > 0);
	st = load(kallsyms, sv);
	o.symtab = st;
	return klp_object_write(f->po, include, &o, f->out, err, errsize);
}

static int write_special(struct special_fixture *f, const char *kallsyms, const char *objname,
			 char *const *include, char *err, size_t errsize)
{
	return write_special_sv(f, kallsyms, "", objname, include, err, errsize);
}

static void assert_counts(json_t *report, const char *sec, long long kept, long long dropped)
{
	json_t *e = json_object_get(json_object_get(report, "special_sections"), sec);

	if (!e)
		fail_msg("no '%s' in the report", sec);
	assert_int_equal(json_integer_value(json_object_get(e, "kept")), kept);
	assert_int_equal(json_integer_value(json_object_get(e, "dropped")), dropped);
}

static int json_has(json_t *arr, const char *prefix)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (strncmp(json_string_value(v), prefix, strlen(prefix)) == 0)
			return 1;
	return 0;
}

/* The string a relocation (the line of dump starting with prefix) points to in path. */
static char *string_at(const char *path, const char *dump, const char *prefix)
{
	_cleanup_free_ unsigned char *d = NULL;
	_cleanup_free_ char *sec = NULL;
	long long a;
	size_t size = 0;

	sec = target_of(dump, prefix, &a);
	d = section_data(path, sec, &size);
	if (!d)
		fail_msg("no section '%s'", sec);
	assert_true(a >= 0 && (size_t)a < size);
	return strndup((const char *)d + a, size - (size_t)a);
}

static void test_special_kept_and_dropped(void **state)
{
	struct special_fixture *f = *state;
	char *fn[] = { "fn", NULL };
	_cleanup_free_ char *out = NULL, *secs = NULL, *s = NULL, *t = NULL;
	_cleanup_free_ unsigned char *orc = NULL, *para = NULL, *bug = NULL, *ex = NULL,
				      *alt = NULL;
	static const unsigned char orc_fn[12] = { 1, 1, 2, 3, 4, 5, 1, 6, 7, 8, 9, 10 };
	/* Anchors of fn's entries, which come first in every input section. */
	static const char *const same[] = {
		".rela__bug_table __bug_table 0 ",
		".rela__ex_table __ex_table 0 ",
		".rela__ex_table __ex_table 4 ",
		".rela.altinstructions .altinstructions 0 ",
		".rela__jump_table __jump_table 0 ",
		".rela__jump_table __jump_table 4 ",
		".rela__jump_table __jump_table 10 ",
		".rela__jump_table __jump_table 20 ",
		".rela.static_call_sites .static_call_sites 0 ",
		".rela.parainstructions .parainstructions 0 ",
		".rela.smp_locks .smp_locks 0 ",
		".rela.retpoline_sites .retpoline_sites 0 ",
		".rela.return_sites .return_sites 0 ",
		".rela.orc_unwind_ip .orc_unwind_ip 0 ",
		".rela.orc_unwind_ip .orc_unwind_ip 4 ",
	};
	char err[256] = "";
	long long a;
	size_t size = 0;

	if (write_special(f, specials_kallsyms, "vmlinux", fn, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	out = dump_relas(f->out);
	free(run("ld -r -o /dev/null '%s'", f->out));
	free(run("readelf -aW '%s'", f->out));

	/* Only fn's entries, pointing at the same places in fn's code. */
	assert_lacks(out, ".text.other");
	assert_lacks(out, ".text.third");
	for (size_t i = 0; i < ARRAY_SIZE(same); i++) {
		_cleanup_free_ char *in = line_with(f->in_relas, same[i]);

		assert_contains(in, ".text.fn+");
		assert_contains(out, in);
	}
	assert_counts(f->report, "__bug_table", 1, 1);
	assert_counts(f->report, "__ex_table", 1, 1);
	assert_counts(f->report, ".altinstructions", 1, 1);
	assert_counts(f->report, "__jump_table", 3, 3);
	assert_counts(f->report, ".static_call_sites", 1, 1);
	assert_counts(f->report, ".parainstructions", 1, 1);
	assert_counts(f->report, ".smp_locks", 1, 1);
	assert_counts(f->report, ".retpoline_sites", 1, 1);
	assert_counts(f->report, ".return_sites", 1, 1);
	assert_counts(f->report, ".orc_unwind_ip", 2, 2);
	assert_counts(f->report, ".orc_unwind", 2, 2);
	/* fn's; those of other, third and init_helper are dropped. */
	assert_counts(f->report, "__mcount_loc", 1, 3);
	assert_counts(f->report, "__dyndbg", 1, 1);

	/* Entry contents: fn's tags. */
	bug = section_data(f->out, "__bug_table", &size);
	assert_int_equal(size, 12);
	assert_int_equal(bug[8], 1);
	s = string_at(f->out, out, ".rela__bug_table __bug_table 4 ");
	assert_string_equal(s, "file-1.c");
	ex = section_data(f->out, "__ex_table", &size);
	assert_int_equal(size, 12);
	assert_int_equal(ex[8], 1);
	para = section_data(f->out, ".parainstructions", &size);
	assert_int_equal(size, 16);
	assert_int_equal(para[8], 1);
	orc = section_data(f->out, ".orc_unwind", &size);
	assert_int_equal(size, sizeof(orc_fn));
	assert_memory_equal(orc, orc_fn, sizeof(orc_fn));

	/* The kept alternative's replacement code, with its own relocation. */
	alt = section_data(f->out, ".altinstr_replacement", &size);
	assert_int_equal(size, 5);
	assert_int_equal(alt[0], 0xe8);
	assert_contains(out, ".rela.altinstructions .altinstructions 4 2 "
			     ".altinstr_replacement+0\n");
	assert_contains(out, ".rela.altinstr_replacement .altinstr_replacement 1 4 "
			     "exported_fn-4\n");
	assert_lacks(out, "hidden_fn-4\n.rela.alt");

	/* Keys: exported ones stay normal, the others go through .klp.rela.vmlinux. */
	assert_contains(out, ".klp.rela.vmlinux.__jump_table __jump_table 8 24 "
			     ".klp.sym.vmlinux.hidden_key,0+1\n");
	assert_contains(out, ".rela__jump_table __jump_table 18 24 exported_key+0\n");
	assert_contains(out, ".klp.rela.vmlinux..static_call_sites .static_call_sites 4 2 "
			     ".klp.sym.vmlinux.__SCK__hidden_sc,0+0\n");
	assert_lacks(out, "__SCK__exported_sc");

	/* fn's dynamic debug descriptor only; the jump label's key is its +40 (+2: flags). */
	free(section_data(f->out, "__dyndbg", &size));
	assert_int_equal(size, 56);
	t = target_of(out, ".rela__jump_table __jump_table 28 ", &a);
	assert_string_equal(t, "__dyndbg");
	assert_int_equal(a, 42);
	free(s);
	s = string_at(f->out, out, ".rela__dyndbg __dyndbg 18 ");
	assert_string_equal(s, "fn %d\n");
	free(s);
	s = string_at(f->out, out, ".rela__dyndbg __dyndbg 8 ");
	assert_string_equal(s, "fn");

	/* __mcount_loc: fn's call site, so fn stays traceable. */
	free(section_data(f->out, "__mcount_loc", &size));
	assert_int_equal(size, 8);
	assert_contains(out, ".rela__mcount_loc __mcount_loc 0 1 .text.fn+");

	secs = run("readelf -SW '%s'", f->out);
	assert_lacks(secs, ".init.text");
	assert_lacks(secs, ".comment");
	assert_contains(secs, " .data.once ");

	/* The report. */
	assert_true(json_has(json_object_get(f->report, "klp_symbols"),
			     ".klp.sym.vmlinux.hidden_key,0"));
	assert_true(json_has(json_object_get(f->report, "klp_symbols"),
			     ".klp.sym.vmlinux.hidden_fn,0"));
	assert_false(json_has(json_object_get(f->report, "klp_symbols"), "exported"));
	assert_true(json_has(json_object_get(f->report, "exported_symbols"), "exported_key"));
	assert_true(json_has(json_object_get(f->report, "exported_symbols"), "exported_fn"));
	assert_true(json_has(json_object_get(f->report, "exported_symbols"), "__fentry__"));
	assert_false(json_has(json_object_get(f->report, "exported_symbols"), "hidden"));
	assert_true(json_has(json_object_get(f->report, "copied_data"), "dd."));
	assert_true(json_has(json_object_get(f->report, "copied_data"), "done."));
	assert_true(json_has(json_object_get(f->report, "copied_data"), "__func__."));
	assert_true(json_has(json_object_get(f->report, "copied_data"), ".rodata.str1.1"));
}

static void test_special_all_kept(void **state)
{
	struct special_fixture *f = *state;
	char *both[] = { "fn", "other", NULL };
	_cleanup_free_ char *out = NULL;
	_cleanup_free_ unsigned char *orc = NULL, *in_orc = NULL;
	_cleanup_free_ unsigned char *para = NULL, *orc_other = NULL;
	_cleanup_free_ char *out_other = NULL, *fmt = NULL;
	static const unsigned char orc_o[12] = { 2, 1, 2, 3, 4, 5, 2, 6, 7, 8, 9, 10 };
	char *other[] = { "other", NULL };
	char err[256] = "";
	size_t size = 0, in_size = 0;

	/* other's entries come second in the input: index 2 and 3 of the ORC arrays. */
	if (write_special(f, specials_kallsyms, "vmlinux", other, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	orc_other = section_data(f->out, ".orc_unwind", &size);
	assert_int_equal(size, sizeof(orc_o));
	assert_memory_equal(orc_other, orc_o, sizeof(orc_o));
	para = section_data(f->out, ".parainstructions", &size);
	assert_int_equal(size, 16);
	assert_int_equal(para[8], 2);
	out_other = dump_relas(f->out);
	assert_contains(out_other, ".rela.orc_unwind_ip .orc_unwind_ip 0 2 .text.other+");
	assert_lacks(out_other, ".text.fn");
	fmt = string_at(f->out, out_other, ".rela__dyndbg __dyndbg 18 ");
	assert_string_equal(fmt, "other %d\n");

	json_object_clear(f->report);
	if (write_special(f, specials_kallsyms, "vmlinux", both, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_counts(f->report, "__jump_table", 6, 0);
	assert_counts(f->report, "__dyndbg", 2, 0);
	assert_counts(f->report, ".orc_unwind", 4, 0);
	assert_counts(f->report, "__mcount_loc", 2, 2);
	/* In step: the same bytes in the same order as the input's. */
	orc = section_data(f->out, ".orc_unwind", &size);
	in_orc = section_data(f->obj, ".orc_unwind", &in_size);
	assert_int_equal(size, in_size);
	assert_memory_equal(orc, in_orc, size);
	out = dump_relas(f->out);
	assert_contains(out, ".rela.orc_unwind_ip .orc_unwind_ip 8 2 .text.other+");
	assert_contains(out, ".rela.orc_unwind_ip .orc_unwind_ip c 2 .text.other+");
	/* other's alternative calls a non-exported function: .klp.rela for the replacement. */
	assert_contains(out, ".klp.rela.vmlinux..altinstr_replacement .altinstr_replacement 6 4 "
			     ".klp.sym.vmlinux.hidden_fn,0-4\n");
	free(run("ld -r -o /dev/null '%s'", f->out));
}

static void test_special_refused(void **state)
{
	struct special_fixture *f = *state;
	char *fn[] = { "fn", NULL }, *third[] = { "third", NULL },
	     *init[] = { "init_helper", NULL };
	char err[256] = "";

	/* A jump label whose key lives in the patched module. */
	assert_int_equal(write_special(f, "ffffffff81000100 t hidden_fn\t[foo_mod]\n"
					  "ffffffffc0000200 T fn\t[foo_mod]\n"
					  "ffffffffc0000300 d hidden_key\t[foo_mod]\n"
					  "ffffffffc0000400 d __SCK__hidden_sc\t[foo_mod]\n",
				       "foo_mod", fn, err, sizeof(err)), -EOPNOTSUPP);
	assert_contains(err, "'fn'");
	assert_contains(err, "__jump_table key 'hidden_key'");
	assert_contains(err, "module 'foo_mod'");
	/* A static call key that lives in a module (the jump label's is exported here). */
	assert_int_equal(write_special_sv(f, "ffffffffc0000100 t hidden_fn\t[foo_mod]\n"
					     "ffffffffc0000200 T fn\t[foo_mod]\n"
					     "ffffffffc0000400 d __SCK__hidden_sc\t[foo_mod]\n",
					  "0x8\thidden_key\tvmlinux\tEXPORT_SYMBOL\t\n", "foo_mod",
					  fn, err, sizeof(err)), -EOPNOTSUPP);
	assert_contains(err, "'fn': .static_call_sites key '__SCK__hidden_sc' lives in module "
			     "'foo_mod'");
	/* A key another module exports, when patching vmlinux. */
	assert_int_equal(write_special_sv(f, specials_kallsyms,
					  "0x9\thidden_key\tdrivers/bar-mod\tEXPORT_SYMBOL\t\n",
					  "vmlinux", fn, err, sizeof(err)), -EOPNOTSUPP);
	assert_contains(err, "'fn': __jump_table key 'hidden_key' lives in module 'bar_mod'");
	/* Code calling __init code: refused, naming both. */
	assert_int_equal(write_special(f, specials_kallsyms, "vmlinux", third, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_contains(err, "'third' refers to 'init_helper' in '.init.text'");
	/* Including __init code itself. */
	assert_int_equal(write_special(f, specials_kallsyms, "vmlinux", init, err, sizeof(err)),
			 -EOPNOTSUPP);
	assert_contains(err, "'init_helper' is in special section '.init.text'");
	assert_int_equal(access(f->out, F_OK), -1);
}

static void expect_bad_object(const char *macro, int err_expected, const char *msg)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *flags = NULL, *obj = NULL, *out = NULL;
	_cleanup_(elf_object_freep) struct elf_object *o = NULL;
	_cleanup_(symtab_freep) struct symtab *st = load("ffffffff81000200 T fn\n",
							 specials_symvers);
	struct klp_object_options opts = { .objname = "vmlinux", .symtab = st };
	char *fn[] = { "fn", NULL };
	char err[256] = "";

	assert_true(asprintf(&flags, KFLAGS " -D%s", macro) > 0);
	obj = compile_data(dir, "bad-specials", flags);
	assert_true(asprintf(&out, "%s/klp.o", dir) > 0);
	if (elf_object_open(obj, &o, err, sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(klp_object_write(o, fn, &opts, out, err, sizeof(err)), err_expected);
	if (!strstr(err, msg))
		fail_msg("%s: '%s' does not contain '%s'", macro, err, msg);
	assert_int_equal(access(out, F_OK), -1);
	test_tmpdir_remove(TAKE_PTR(dir));
}

static void test_special_bad(void **state)
{
	(void)state;
	expect_bad_object("TRUNCATED", -EBADMSG, "special section '__bug_table': size 6 is not "
						 "a multiple of its entry size 12");
	expect_bad_object("ORC_MISMATCH", -EBADMSG, "special section '.orc_unwind': size 4 is "
						    "not a multiple of its entry size 6");
	expect_bad_object("ENTSIZE", -EBADMSG, "special section '.smp_locks': entry size 8, "
					       "expected 4");
	expect_bad_object("PFE", -EOPNOTSUPP, "'fn' has entries in special section "
					      "'__patchable_function_entries'");
	expect_bad_object("INIT_REF", -EOPNOTSUPP, "'fn' refers to 'setup_thing' in "
						   "'.init.text'");
}

static void test_special_sections_list(void **state)
{
	struct special_fixture *f = *state;
	char *fn[] = { "fn", NULL };
	_cleanup_(strv_freep) char **v = NULL;

	assert_int_equal(klp_object_special_sections(f->po, fn, &v), 0);
	assert_true(strv_contains(v, "__bug_table"));
	assert_true(strv_contains(v, "__jump_table"));
	assert_true(strv_contains(v, ".orc_unwind_ip"));
	assert_true(strv_contains(v, "__dyndbg"));
	assert_true(strv_contains(v, ".data.once"));
	assert_false(strv_contains(v, ".init.text"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_vmlinux, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_sympos_and_module, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_bad, setup, teardown),
		cmocka_unit_test(test_special_mcount),
		cmocka_unit_test_setup_teardown(test_special_kept_and_dropped, special_setup,
						special_teardown),
		cmocka_unit_test_setup_teardown(test_special_all_kept, special_setup,
						special_teardown),
		cmocka_unit_test_setup_teardown(test_special_refused, special_setup,
						special_teardown),
		cmocka_unit_test(test_special_bad),
		cmocka_unit_test_setup_teardown(test_special_sections_list, special_setup,
						special_teardown),
	};

	return TEST_MAIN(tests);
}
