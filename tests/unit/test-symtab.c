/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elfdiff.h"
#include "fileio.h"
#include "strbuf.h"
#include "symtab.h"
#include "test-lib.h"

/* How the patch generator builds the original object, plus a fixed emission order. */
#define ORIG_FLAGS "-c -O2 -ffunction-sections -fdata-sections -fno-toplevel-reorder"

#define assert_contains(s, sub)                                                                    \
	do {                                                                                       \
		if (!strstr((s), (sub)))                                                           \
			fail_msg("'%s' does not contain '%s'", (s), (sub));                        \
	} while (0)

/* One scratch directory for the whole binary (made in main()). */
static char *dir;

static void sh(const char *fmt, ...) _printf_(1, 2);
static void sh(const char *fmt, ...)
{
	_cleanup_free_ char *cmd = NULL;
	va_list ap;

	va_start(ap, fmt);
	assert_true(vasprintf(&cmd, fmt, ap) > 0);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("'%s' failed", cmd);
}

/* Writes DIR/name.c and compiles it to DIR/name.o with flags; returns the object's path. */
static char *compile(const char *name, const char *flags, const char *src)
{
	_cleanup_free_ char *c = NULL;
	char *o;

	assert_true(asprintf(&c, "%s/%s.c", dir, name) > 0);
	assert_true(asprintf(&o, "%s/%s.o", dir, name) > 0);
	assert_int_equal(write_file_atomic(c, src, strlen(src), 0644), 0);
	/* From inside DIR, so STT_FILE says "name.c" in every build. */
	sh("cd '%s' && gcc %s -o '%s' '%s.c'", dir, flags, o, name);
	return o;
}

static struct elf_object *open_obj(const char *path)
{
	struct elf_object *o = NULL;
	char err[256] = "";

	if (elf_object_open(path, &o, err, sizeof(err)) < 0)
		fail_msg("'%s': %s", path, err);
	return o;
}

static struct symtab *load_text(const char *kallsyms)
{
	struct symtab *st = symtab_new();
	char err[256] = "";

	assert_non_null(st);
	if (symtab_load_kallsyms(st, kallsyms, strlen(kallsyms), err, sizeof(err)) < 0)
		fail_msg("kallsyms: %s", err);
	return st;
}

/* ---- kallsyms: order and types ---- */

/* kallsyms and Module.symvers texts, either optional. */
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


static void test_kallsyms_types(void **state)
{
	_cleanup_(symtab_freep) struct symtab *st = load_text(
		"ffffffff81000100 t helper\n"
		"ffffffff81000200 T fn\n"
		"ffffffff82000000 d helper\n"
		"ffffffffc0001000 t helper\t[foo_mod]\n");
	struct symtab_sym s;
	unsigned long pos = 9;

	assert_int_equal(symtab_size(st), 4);
	assert_int_equal(symtab_lookup(st, "vmlinux", "helper", 0, &s), 0);
	assert_int_equal(s.type, 't');
	assert_true(s.addr == 0xffffffff81000100ull);
	assert_false(s.load_only);
	assert_int_equal(symtab_lookup(st, "vmlinux", "helper", 1, &s), 0);
	assert_int_equal(s.type, 'd');
	assert_int_equal(symtab_lookup(st, "vmlinux", "helper", 2, &s), -ENOENT);
	assert_int_equal(symtab_lookup(st, "foo_mod", "helper", 0, &s), 0);
	assert_int_equal(s.type, 't');
	assert_int_equal(symtab_lookup(st, "vmlinux", "nope", 0, &s), -ENOENT);
	/* klp counts by name whatever the type: the data symbol is the second. */
	assert_int_equal(symtab_sympos(st, "vmlinux", "helper", 0xffffffff82000000ull, &pos), 0);
	assert_int_equal(pos, 2);
}

/* ---- symtab_sympos_near on vmlinux (kallsyms order) ---- */

/*
 * Our translation unit.  With -fno-toplevel-reorder the text order is
 * helper, tu_first, mid, tu_last, tail: helper lies before the unique
 * symbols, mid between them, tail after them.
 */
static const char src_tu[] =
	"static int __attribute__((noinline, used)) helper(int x) { return x * 3; }\n"
	"int tu_first(int x) { return helper(x) + 1; }\n"
	"static int __attribute__((noinline, used)) mid(int x) { return x + 2; }\n"
	"int tu_last(int x) { return mid(x) + helper(x); }\n"
	"static int __attribute__((noinline, used)) tail(int x) { return x - 1; }\n"
	"int tu_data = 5;\n"
	"static int counter __attribute__((used));\n"
	"int tu_count(void) { return counter++ + tail(1); }\n";

/* Another one with the same static names. */
static const char src_other[] =
	"static int __attribute__((noinline, used)) helper(int x) { return x * 5; }\n"
	"static int __attribute__((noinline, used)) mid(int x) { return x + 7; }\n"
	"static int __attribute__((noinline, used)) tail(int x) { return x - 9; }\n"
	"static int counter __attribute__((used));\n"
	"int other_fn(int x) { return helper(x) + mid(x) + tail(x) + counter++; }\n";

static int near(const char *kallsyms, const struct elf_object *orig, const char *name,
		unsigned long *pos, char *err, size_t errsize)
{
	_cleanup_(symtab_freep) struct symtab *st = load_text(kallsyms);

	*pos = 99;
	err[0] = '\0';
	return symtab_sympos_near(st, "vmlinux", name, orig, pos, err, errsize);
}

static void test_near_crafted(void **state)
{
	_cleanup_free_ char *o = compile("tu", ORIG_FLAGS, src_tu);
	_cleanup_(elf_object_freep) struct elf_object *orig = open_obj(o);
	/* Address order of a link that put another object on either side of ours. */
	static const char good[] =
		"ffffffff81001000 t helper\n"
		"ffffffff81001010 t mid\n"
		"ffffffff81001020 t tail\n"
		"ffffffff81001030 T other_fn\n"
		"ffffffff81001100 t helper\n"
		"ffffffff81001110 T tu_first\n"
		"ffffffff81001120 t mid\n"
		"ffffffff81001130 T tu_last\n"
		"ffffffff81001140 t tail\n"
		"ffffffff81001150 T tu_count\n"
		"ffffffff81001200 t helper\n"
		"ffffffff81001210 t tail\n"
		"ffffffff82000000 D tu_data\n"
		"ffffffff83000000 b counter\n"
		"ffffffff83000010 b counter\n";
	unsigned long pos;
	char err[512];

	assert_int_equal(near(good, orig, "helper", &pos, err, sizeof(err)), 0);
	assert_int_equal(pos, 2);
	assert_int_equal(near(good, orig, "mid", &pos, err, sizeof(err)), 0);
	assert_int_equal(pos, 2);
	assert_int_equal(near(good, orig, "tail", &pos, err, sizeof(err)), 0);
	assert_int_equal(pos, 2);
	/* Unique names need no orig at all. */
	assert_int_equal(near(good, orig, "tu_first", &pos, err, sizeof(err)), 0);
	assert_int_equal(pos, 0);

	/* No other .bss symbol of ours is unique in the target: ambiguous. */
	assert_int_equal(near(good, orig, "counter", &pos, err, sizeof(err)), -ENOTUNIQ);
	assert_contains(err, "'counter' is 2 times in 'vmlinux'");
	assert_contains(err, ".bss");
	assert_int_equal(pos, 99);

	/* Not in the target, not in orig. */
	assert_int_equal(near(good, orig, "nowhere", &pos, err, sizeof(err)), -ENOENT);
	assert_contains(err, "'nowhere' is not in the symbol table of 'vmlinux'");
	assert_int_equal(near("ffffffff81000000 t x\nffffffff81000010 t x\n", orig, "x", &pos, err,
			      sizeof(err)),
			 -ENOENT);
	assert_contains(err, "not defined in the object");
}

/* No unique .bss symbol: the object's whole sequence of .bss names decides. */
static void test_near_whole_run(void **state)
{
	_cleanup_free_ char *o = compile("bss", ORIG_FLAGS,
					 "static int hits __attribute__((used));\n"
					 "static int misses __attribute__((used));\n"
					 "int use(void) { return hits + misses; }\n");
	_cleanup_(elf_object_freep) struct elf_object *orig = open_obj(o);
	static const char target[] = "ffffffff81000000 T use\n"
				     "ffffffff83000000 b hits\n"
				     "ffffffff83000010 b stuff\n"
				     "ffffffff83000100 b hits\n"
				     "ffffffff83000110 b misses\n"
				     "ffffffff83000200 b misses\n";
	unsigned long pos;
	char err[512];

	assert_int_equal(near(target, orig, "hits", &pos, err, sizeof(err)), 0);
	assert_int_equal(pos, 2);
	assert_int_equal(near(target, orig, "misses", &pos, err, sizeof(err)), 0);
	assert_int_equal(pos, 1);
	/* The same pair twice: no telling which. */
	assert_int_equal(near("ffffffff83000000 b hits\n"
			      "ffffffff83000010 b misses\n"
			      "ffffffff83000100 b hits\n"
			      "ffffffff83000110 b misses\n",
			      orig, "misses", &pos, err, sizeof(err)),
			 -ENOTUNIQ);
	assert_contains(err, "does not occur exactly once");
}

static void test_near_refuses_guesses(void **state)
{
	_cleanup_free_ char *o = compile("tu", ORIG_FLAGS, src_tu);
	_cleanup_(elf_object_freep) struct elf_object *orig = open_obj(o);
	unsigned long pos;
	char err[512];

	/* Something we do not define separates our helper from tu_first. */
	assert_int_equal(near("ffffffff81001000 t helper\n"
			      "ffffffff81001030 T other_fn\n"
			      "ffffffff81001100 t helper\n"
			      "ffffffff81001108 t unknown_static\n"
			      "ffffffff81001110 T tu_first\n"
			      "ffffffff81001120 t mid\n"
			      "ffffffff81001130 T tu_last\n",
			      orig, "helper", &pos, err, sizeof(err)),
			 -ENOTUNIQ);
	assert_contains(err, "none lies where the object's .text symbols put it");
	assert_contains(err, "before 'tu_first'");

	/* Two same-named symbols between our anchors cannot both be ours. */
	assert_int_equal(near("ffffffff81001110 T tu_first\n"
			      "ffffffff81001120 t mid\n"
			      "ffffffff81001128 t mid\n"
			      "ffffffff81001130 T tu_last\n",
			      orig, "mid", &pos, err, sizeof(err)),
			 -ENOTUNIQ);
	assert_contains(err, "2 of them lie among the object's .text symbols");

	/* Our mid is missing between the anchors: another object's is not taken instead. */
	assert_int_equal(near("ffffffff81001010 t mid\n"
			      "ffffffff81001110 T tu_first\n"
			      "ffffffff81001130 T tu_last\n"
			      "ffffffff81001210 t mid\n",
			      orig, "mid", &pos, err, sizeof(err)),
			 -ENOTUNIQ);
	assert_contains(err, "after 'tu_first', before 'tu_last'");

	/* The anchors' order contradicts orig's: no walk on such a target. */
	assert_int_equal(near("ffffffff81001000 t helper\n"
			      "ffffffff81001110 T tu_last\n"
			      "ffffffff81001120 T tu_first\n"
			      "ffffffff81001130 t helper\n",
			      orig, "helper", &pos, err, sizeof(err)),
			 -ENOTUNIQ);
	assert_int_equal(pos, 99);
}

/*
 * The real thing: both objects built as a distribution builds them (no
 * -ffunction-sections, gcc's own order), linked in either order, the table
 * from nm -n as /proc/kallsyms would list it; orig built as the patch
 * generator builds it.
 */
static void check_link(const char *first, const char *second, unsigned long want)
{
	_cleanup_free_ char *orig_path = NULL, *map = NULL, *text = NULL;
	_cleanup_(elf_object_freep) struct elf_object *orig = NULL;
	_cleanup_(symtab_freep) struct symtab *st = NULL;
	static const char *const names[] = { "helper", "mid", "tail" };
	char err[512] = "";
	size_t len;

	orig_path = compile("orig", "-c -O2 -ffunction-sections -fdata-sections", src_tu);
	orig = open_obj(orig_path);
	free(compile("tu", "-c -O2", src_tu));
	free(compile("other", "-c -O2", src_other));
	assert_true(asprintf(&map, "%s/linked.map", dir) > 0);
	sh("cd '%s' && ld -o linked -e tu_first %s.o %s.o && nm -n linked | grep -v ' [aUw] ' > '%s'",
	   dir, first, second, map);
	assert_int_equal(read_file_bounded(map, 1 << 20, &text, &len), 0);
	st = load_text(text);
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		unsigned long pos = 99;

		if (symtab_sympos_near(st, "vmlinux", names[i], orig, &pos, err, sizeof(err)) < 0)
			fail_msg("%s: %s\n%s", names[i], err, text);
		assert_int_equal(pos, want);
	}
}

static void test_near_linked(void **state)
{
	check_link("tu", "other", 1);
	check_link("other", "tu", 2);
}

/* ---- modules ---- */

static const char src_mod_a[] =
	"static const char modinfo[] __attribute__((section(\".modinfo\"), used)) = "
	"\"license=GPL\";\n"
	"static int __attribute__((noinline, used)) helper(int x) { return x * 3; }\n"
	"static int __attribute__((noinline, used)) a_only(int x) { return x + 1; }\n"
	"static int __attribute__((noinline, used)) setup(int x) { return x; }\n"
	"int a_entry(int x) { return helper(x) + a_only(x) + setup(x); }\n";

static const char src_mod_b[] =
	"static int __attribute__((noinline, used)) helper(int x) { return x * 5; }\n"
	"static int __attribute__((noinline, used, section(\".init.text\"))) setup(int x)\n"
	"{ return x + 2; }\n"
	"int b_entry(int x) { return helper(x) + setup(x); }\n";

/* Links DIR/a.o and DIR/b.o in the given order into DIR/name.ko. */
static char *make_ko(const char *name, const char *first, const char *second)
{
	char *ko;

	free(compile("a", "-c -O2", src_mod_a));
	free(compile("b", "-c -O2", src_mod_b));
	assert_true(asprintf(&ko, "%s/%s.ko", dir, name) > 0);
	sh("cd '%s' && ld -r -o '%s' %s.o %s.o", dir, ko, first, second);
	return ko;
}

static struct symtab *load_ko(const char *objname, const char *ko)
{
	struct symtab *st = symtab_new();
	char err[256] = "";

	assert_non_null(st);
	if (symtab_load_module_elf(st, objname, ko, err, sizeof(err)) < 0)
		fail_msg("%s: %s", ko, err);
	return st;
}

static void test_module_elf(void **state)
{
	_cleanup_free_ char *ko = make_ko("ab", "a", "b"), *orig_path = NULL;
	_cleanup_(symtab_freep) struct symtab *st = load_ko("ab_mod", ko);
	_cleanup_(elf_object_freep) struct elf_object *orig = NULL;
	struct symtab_sym s;
	unsigned long pos = 99;
	char err[512] = "";

	assert_int_equal(symtab_count(st, "ab_mod", "helper"), 2);
	assert_int_equal(symtab_count(st, "ab_mod", "a_entry"), 1);
	assert_int_equal(symtab_count(st, "vmlinux", "helper"), 0);
	/* Section symbols, file markers and the like are not symbols. */
	assert_int_equal(symtab_count(st, "ab_mod", "a.c"), 0);
	assert_int_equal(symtab_lookup(st, "ab_mod", "helper", 0, &s), 0);
	assert_int_equal(s.type, 't');
	assert_int_equal(symtab_lookup(st, "ab_mod", "a_entry", 0, &s), 0);
	assert_int_equal(s.type, 'T');
	assert_int_equal(symtab_lookup(st, "ab_mod", "modinfo", 0, &s), 0);
	assert_int_equal(s.type, 'r');
	assert_int_equal(symtab_lookup(st, "ab_mod", "setup", 1, &s), 0);
	assert_true(s.load_only);

	/* ELF order: a.o's helper first. */
	orig_path = compile("orig_a", "-c -O2 -ffunction-sections -fdata-sections", src_mod_a);
	orig = open_obj(orig_path);
	/* orig_a.c is a.c under another name: its STT_FILE differs, its locals anchor. */
	assert_int_equal(symtab_sympos_near(st, "ab_mod", "helper", orig, &pos, err, sizeof(err)),
			 0);
	assert_int_equal(pos, 1);
	/* setup: b.o's comes later and only lives until init; a's is unique after init. */
	assert_int_equal(symtab_sympos_near(st, "ab_mod", "setup", orig, &pos, err, sizeof(err)),
			 0);
	assert_int_equal(pos, 1);
	assert_int_equal(symtab_sympos(st, "ab_mod", "setup", 0, &pos), 0);
	assert_int_equal(pos, 1);
	assert_int_equal(symtab_sympos(st, "ab_mod", "helper", 0, &pos), -ENOTUNIQ);
	/* Unique: 0. */
	assert_int_equal(symtab_sympos_near(st, "ab_mod", "a_only", orig, &pos, err, sizeof(err)),
			 0);
	assert_int_equal(pos, 0);
}

static void test_module_elf_order(void **state)
{
	_cleanup_free_ char *ko = make_ko("ba", "b", "a"), *orig_path = NULL;
	_cleanup_(symtab_freep) struct symtab *st = load_ko("ba_mod", ko);
	_cleanup_(elf_object_freep) struct elf_object *orig = NULL;
	unsigned long pos = 99;
	char err[512] = "";

	orig_path = compile("a", "-c -O2 -ffunction-sections -fdata-sections", src_mod_a);
	orig = open_obj(orig_path);
	assert_int_equal(symtab_sympos_near(st, "ba_mod", "helper", orig, &pos, err, sizeof(err)),
			 0);
	assert_int_equal(pos, 2);
	/* b's init-only setup comes first: a's setup is 2nd while loading, 1st after init. */
	pos = 99;
	assert_int_equal(symtab_sympos_near(st, "ba_mod", "setup", orig, &pos, err, sizeof(err)),
			 -ENOTUNIQ);
	assert_contains(err, "differs while the module loads");
	assert_int_equal(pos, 99);
	assert_int_equal(symtab_sympos(st, "ba_mod", "setup", 0, &pos), -ENOTUNIQ);

	/* Without local anchors, the block named like orig's source file decides. */
	{
		_cleanup_free_ char *lone = NULL;
		_cleanup_(elf_object_freep) struct elf_object *o2 = NULL;

		lone = compile("a", "-c -O2 -ffunction-sections -fdata-sections",
			       "static int __attribute__((noinline, used)) helper(int x)"
			       " { return x * 3; }\n"
			       "int a_entry(int x) { return helper(x); }\n");
		o2 = open_obj(lone);
		assert_int_equal(symtab_sympos_near(st, "ba_mod", "helper", o2, &pos, err,
						    sizeof(err)), 0);
		assert_int_equal(pos, 2);
		free(lone);
		lone = compile("zz", "-c -O2 -ffunction-sections -fdata-sections",
			       "static int __attribute__((noinline, used)) helper(int x)"
			       " { return x * 3; }\n"
			       "int a_entry(int x) { return helper(x); }\n");
		elf_object_free(o2);
		o2 = open_obj(lone);
		assert_int_equal(symtab_sympos_near(st, "ba_mod", "helper", o2, &pos, err,
						    sizeof(err)), -ENOTUNIQ);
		assert_contains(err, "none sits in a source file block");
		assert_contains(err, "named 'zz.c'");
	}
}

static void expect_ko_error(const char *objname, const char *path, int want, const char *msg)
{
	_cleanup_(symtab_freep) struct symtab *st = symtab_new();
	char err[512] = "";

	assert_non_null(st);
	assert_int_equal(symtab_load_module_elf(st, objname, path, err, sizeof(err)), want);
	assert_contains(err, msg);
	assert_int_equal(symtab_size(st), 0);
}

static void test_module_elf_bad(void **state)
{
	_cleanup_free_ char *ko = make_ko("bad", "a", "b"), *cut = NULL, *plain = NULL,
			    *text = NULL, *fake_xz = NULL, *stripped = NULL;
	_cleanup_(symtab_freep) struct symtab *st = load_ko("bad", ko);
	char err[256] = "";

	assert_true(asprintf(&cut, "%s/cut.ko", dir) > 0);
	assert_true(asprintf(&text, "%s/text.ko", dir) > 0);
	assert_true(asprintf(&fake_xz, "%s/fake.ko.xz", dir) > 0);
	assert_true(asprintf(&stripped, "%s/stripped.ko", dir) > 0);
	sh("head -c 2000 '%s' > '%s'", ko, cut);
	sh("printf 'not a module\\n' > '%s'", text);
	sh("printf '\\3757zXZ\\0garbage' > '%s'", fake_xz);
	sh("strip -o '%s' '%s'", stripped, ko);
	plain = compile("plain", "-c -O2", "int plain(void) { return 1; }\n");

	expect_ko_error("m", cut, -EBADMSG, "cut.ko");
	expect_ko_error("m", text, -EBADMSG, "not an ELF file");
	expect_ko_error("m", plain, -EBADMSG, "not a kernel module (no .modinfo section)");
	expect_ko_error("m", stripped, -EBADMSG, "no symbol table");
	expect_ko_error("m", fake_xz, -EIO, "'xz -dc' failed");
	expect_ko_error("m", "/nonexistent/x.ko", -ENOENT, "cannot read '/nonexistent/x.ko'");
	expect_ko_error("a.b", ko, -EINVAL, "'a.b' cannot be a module name");
	expect_ko_error("", ko, -EINVAL, "cannot be a module name");

	/* Twice the same module, or kallsyms lines for it after its .ko: refused. */
	assert_int_equal(symtab_load_module_elf(st, "bad", ko, err, sizeof(err)), -EEXIST);
	assert_contains(err, "already loaded");
	assert_int_equal(symtab_load_kallsyms(st, "ffffffffc0000000 t helper\t[bad]\n", 34, err,
					      sizeof(err)), -EBADMSG);
	assert_contains(err, "line 1: symbols of 'bad' already come from its module file");
}

static void test_module_elf_xz(void **state)
{
	_cleanup_free_ char *ko = make_ko("comp", "a", "b"), *xz = NULL;
	_cleanup_(symtab_freep) struct symtab *plain = load_ko("comp", ko);
	_cleanup_(symtab_freep) struct symtab *st = NULL;

	assert_true(asprintf(&xz, "%s.xz", ko) > 0);
	sh("xz -kf '%s'", ko);
	st = load_ko("comp", xz);
	assert_int_equal(symtab_size(st), symtab_size(plain));
	assert_int_equal(symtab_count(st, "comp", "helper"), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_symtab_sympos),
		cmocka_unit_test(test_symtab_symvers),
		cmocka_unit_test(test_symtab_bad),
		cmocka_unit_test(test_kallsyms_types),
		cmocka_unit_test(test_near_crafted),
		cmocka_unit_test(test_near_whole_run),
		cmocka_unit_test(test_near_refuses_guesses),
		cmocka_unit_test(test_near_linked),
		cmocka_unit_test(test_module_elf),
		cmocka_unit_test(test_module_elf_order),
		cmocka_unit_test(test_module_elf_bad),
		cmocka_unit_test(test_module_elf_xz),
	};

	int r;

	dir = test_tmpdir_new();
	if (!dir)
		return 1;
	r = TEST_MAIN(tests);
	test_tmpdir_remove(dir);
	return r;
}
