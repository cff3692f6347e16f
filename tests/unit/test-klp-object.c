/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <gelf.h>
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

static void test_symtab_sympos(void **state)
{
	_cleanup_(symtab_freep) struct symtab *st = load(
		"ffffffff81000100 t helper\n"
		"ffffffff81000200 T fn\n"
		"ffffffff81000300 t helper\n"
		"ffffffff81000400 b counter.0\n"
		"ffffffff81000500 t helper\n"
		"ffffffffc0001000 t helper\t[foo_mod]\n"
		"ffffffffc0002000 T modfn\t[foo_mod]\n",
		NULL);
	unsigned long pos = 99;

	assert_int_equal(symtab_count(st, "vmlinux", "helper"), 3);
	assert_int_equal(symtab_count(st, "foo_mod", "helper"), 1);
	assert_int_equal(symtab_count(st, "vmlinux", "modfn"), 0);
	assert_int_equal(symtab_sympos(st, "vmlinux", "fn", 0, &pos), 0);
	assert_int_equal(pos, 0);
	assert_int_equal(symtab_sympos(st, "vmlinux", "helper", 0, &pos), -ENOTUNIQ);
	assert_int_equal(symtab_sympos(st, "vmlinux", "helper", 0xffffffff81000300, &pos), 0);
	assert_int_equal(pos, 2);
	assert_int_equal(symtab_sympos(st, "vmlinux", "helper", 0xffffffff81000500, &pos), 0);
	assert_int_equal(pos, 3);
	assert_int_equal(symtab_sympos(st, "vmlinux", "helper", 0x1234, &pos), -ENOENT);
	/* Unique within its own object even though vmlinux has three. */
	assert_int_equal(symtab_sympos(st, "foo_mod", "helper", 0, &pos), 0);
	assert_int_equal(pos, 0);
	assert_int_equal(symtab_sympos(st, "foo_mod", "helper", 0xffffffffc0001000, &pos), 0);
	assert_int_equal(pos, 0);
	assert_int_equal(symtab_sympos(st, "vmlinux", "nope", 0, &pos), -ENOENT);
	assert_int_equal(symtab_sympos(st, "bar_mod", "helper", 0, &pos), -ENOENT);
}

static void test_symtab_symvers(void **state)
{
	_cleanup_(symtab_freep) struct symtab *st = load(
		NULL,
		"0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"
		"0xdeadbeef\tfoo_export\tdrivers/net/foo-mod\tEXPORT_SYMBOL_GPL\tFOO_NS\n"
		"0x00000001\tbar\tvmlinux\tEXPORT_SYMBOL_GPL\n");
	const char *obj = NULL;

	assert_int_equal(symtab_exported(st, "printk", &obj), 1);
	assert_string_equal(obj, "vmlinux");
	assert_int_equal(symtab_exported(st, "foo_export", &obj), 1);
	assert_string_equal(obj, "foo_mod");
	assert_int_equal(symtab_exported(st, "bar", NULL), 1);
	assert_int_equal(symtab_exported(st, "helper", NULL), 0);
}

static void expect_bad(int kallsyms, const char *text, const char *msg)
{
	_cleanup_(symtab_freep) struct symtab *st = symtab_new();
	char err[200] = "";
	int r;

	r = kallsyms ? symtab_load_kallsyms(st, text, strlen(text), err, sizeof(err))
		     : symtab_load_symvers(st, text, strlen(text), err, sizeof(err));
	assert_int_equal(r, -EBADMSG);
	if (!strstr(err, msg))
		fail_msg("'%s' does not contain '%s'", err, msg);
}

static void test_symtab_bad(void **state)
{
	_cleanup_(symtab_freep) struct symtab *st = symtab_new();
	_cleanup_free_ char *longline = malloc(5000);
	char err[200] = "";

	expect_bad(1, "ffffffff81000100 t a\nffffffff81000200 t\n", "line 2:");
	expect_bad(1, "ffffffff81000100 t a\n\nxyz t b\n", "line 3: bad address");
	expect_bad(1, "11111111111111111 t a\n", "line 1: bad address");
	expect_bad(1, "ffffffff81000100 tt a\n", "line 1: bad symbol type");
	expect_bad(1, "ffffffff81000100 t a foo_mod\n", "line 1: bad module field");
	expect_bad(1, "ffffffff81000100 t a [foo.mod]\n", "line 1: bad module name");
	expect_bad(1, "ffffffff81000100 t a [m] extra\n", "line 1: expected");
	expect_bad(0, "0x1\tname\tvmlinux\n", "line 1: expected");
	expect_bad(0, "0x12\tname\tvmlinux\tEXPORT_SYMBOL\n1234\tx\tvmlinux\tEXPORT_SYMBOL\n",
		   "line 2: bad CRC");
	expect_bad(0, "0x12\tname\tvmlinux\tSOMETHING\n", "line 1: bad export type");
	expect_bad(0, "0x12\tname\tvmlinux\tEXPORT_SYMBOL\tNS\textra\n", "line 1: expected");

	assert_non_null(longline);
	memset(longline, 'a', 4999);
	longline[4999] = '\0';
	assert_int_equal(symtab_load_kallsyms(st, longline, 4999, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 1: longer than"));
	assert_int_equal(symtab_load_kallsyms(st, "a", (size_t)SYMTAB_INPUT_MAX + 1, err,
					      sizeof(err)), -EFBIG);
	assert_int_equal(symtab_load_kallsyms(st, "0 t a\0b\n", 8, err, sizeof(err)), -EBADMSG);
	assert_null(symtab_free(NULL));
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

static void test_special_refused(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	void *p = f;
	char **special = NULL;
	char err[256] = "";

	assert_non_null(f);
	/* -mrecord-mcount gives the patched function a __mcount_loc entry. */
	build(f, CFLAGS " -pg -mfentry -mrecord-mcount");
	assert_int_equal(klp_object_special_sections(f->po, f->changed, &special), 0);
	assert_non_null(special[0]);
	assert_string_equal(special[0], "__mcount_loc");
	assert_null(special[1]);
	strv_free(special);
	assert_int_equal(write_klp(f, kallsyms_base, symvers_base, "vmlinux", NULL, 0, err,
				   sizeof(err)), -EOPNOTSUPP);
	assert_contains(err, "'__mcount_loc'");
	assert_int_equal(access(f->out, F_OK), -1);
	teardown(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symtab_sympos),
		cmocka_unit_test(test_symtab_symvers),
		cmocka_unit_test(test_symtab_bad),
		cmocka_unit_test_setup_teardown(test_write_vmlinux, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_sympos_and_module, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_bad, setup, teardown),
		cmocka_unit_test(test_special_refused),
	};

	return TEST_MAIN(tests);
}
