/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "elfdiff.h"
#include "fileio.h"
#include "strbuf.h"
#include "test-lib.h"

#define CFLAGS "-c -O2 -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables"

/* Helpers. */

static char *write_source(const char *dir, const char *name, const char *src)
{
	_cleanup_free_ char *file = NULL;
	char *path;

	assert_true(asprintf(&file, "%s.c", name) > 0);
	path = path_join(dir, file);
	assert_non_null(path);
	assert_int_equal(write_file_atomic(path, src, strlen(src), 0644), 0);
	return path;
}

/* Compiles src into dir/name.o (or whatever flags produce); returns the output path. */
static char *compile(const char *dir, const char *name, const char *flags, const char *out_ext,
		     const char *src)
{
	_cleanup_free_ char *c = write_source(dir, name, src), *cmd = NULL;
	char *out;

	assert_true(asprintf(&out, "%s/%s.%s", dir, name, out_ext) > 0);
	assert_true(asprintf(&cmd, "gcc %s -o '%s' '%s'", flags, out, c) > 0);
	assert_int_equal(system(cmd), 0);
	return out;
}

static struct elfdiff_report *diff_flags(const char *flags, const char *a, const char *b)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *pa = NULL, *pb = NULL;
	_cleanup_(elf_object_freep) struct elf_object *oa = NULL, *ob = NULL;
	struct elfdiff_report *rep = NULL;
	char err[256] = "";

	pa = compile(dir, "orig", flags, "o", a);
	pb = compile(dir, "patched", flags, "o", b);
	assert_int_equal(elf_object_open(pa, &oa, err, sizeof(err)), 0);
	assert_int_equal(elf_object_open(pb, &ob, err, sizeof(err)), 0);
	assert_int_equal(elfdiff_compare(oa, ob, &rep, err, sizeof(err)), 0);
	assert_non_null(rep);
	test_tmpdir_remove(TAKE_PTR(dir));
	return rep;
}

static struct elfdiff_report *diff(const char *a, const char *b)
{
	return diff_flags(CFLAGS, a, b);
}

static const struct elfdiff_entry *expect(const struct elfdiff_report *rep, const char *name,
					  enum symbol_change change)
{
	const struct elfdiff_entry *e = elfdiff_report_find(rep, name);

	if (!e)
		fail_msg("no entry for '%s'", name);
	if (e->change != change)
		fail_msg("'%s' is %s (%s), expected %s", name, symbol_change_to_string(e->change),
			 e->reason, symbol_change_to_string(change));
	return e;
}

static size_t count_change(const struct elfdiff_report *rep, enum symbol_change change)
{
	size_t n = 0;

	for (size_t i = 0; i < elfdiff_report_count(rep); i++)
		n += elfdiff_report_entry(rep, i)->change == change;
	return n;
}

/* Tests. */

static const char base_src[] =
	"int printf(const char *, ...);\n"
	"int gval = 5;\n"
	"static int helper(int x) { return x * 7; }\n"
	"int f1(int x) { return x + 1; }\n"
	"int f2(int x) { return x * 3 + gval; }\n"
	"int caller(int x) { return helper(x) + 1; }\n"
	"int getg(void) { return gval; }\n"
	"void say_a(void) { printf(\"alpha %d\\n\", 1); }\n"
	"void say_b(void) { printf(\"beta %d\\n\", 2); }\n"
	"void say_c(void) { printf(\"gamma %d\\n\", 3); }\n";

static void test_identical(void **state)
{
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = diff(base_src, base_src);
	_cleanup_strv_free_ char **funcs = NULL;

	assert_true(elfdiff_report_count(rep) >= 7);
	assert_int_equal(count_change(rep, SYM_SAME), elfdiff_report_count(rep));
	expect(rep, "gval", SYM_SAME);
	assert_int_equal(elfdiff_report_names(rep, STT_FUNC, SYM_CHANGED, &funcs), 0);
	assert_int_equal(strv_length(funcs), 0);
	assert_null(elfdiff_report_entry(rep, elfdiff_report_count(rep)));
}

static void test_body_changed(void **state)
{
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	_cleanup_free_ char *src = strdup(base_src);
	_cleanup_strv_free_ char **funcs = NULL;
	char *p = strstr(src, "x + 1;");

	p[4] = '2';
	rep = diff(base_src, src);
	expect(rep, "f1", SYM_CHANGED);
	assert_int_equal(count_change(rep, SYM_CHANGED), 1);
	assert_int_equal(elfdiff_report_names(rep, STT_FUNC, SYM_CHANGED, &funcs), 0);
	assert_int_equal(strv_length(funcs), 1);
	assert_string_equal(funcs[0], "f1");
	assert_string_equal(elfdiff_report_find(rep, "f1")->section, ".text.f1");
}

static void test_inlined_static_changed(void **state)
{
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	_cleanup_free_ char *src = strdup(base_src);

	strstr(src, "x * 7")[4] = '9';
	rep = diff(base_src, src);
	expect(rep, "caller", SYM_CHANGED);
	expect(rep, "f1", SYM_SAME);
	expect(rep, "f2", SYM_SAME);
}

static void test_new_function_and_data(void **state)
{
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	_cleanup_strbuf_ struct strbuf sb;
	_cleanup_strv_free_ char **funcs = NULL;
	const struct elfdiff_entry *e;

	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_adds(&sb, base_src), 0);
	assert_int_equal(strbuf_adds(&sb, "static int table_new[4] = { 1, 2, 3, 4 };\n"
				     "int newf(int i) { return table_new[i & 3] ^ 5; }\n"), 0);
	rep = diff(base_src, sb.buf);
	e = expect(rep, "newf", SYM_NEW);
	assert_int_equal(e->type, STT_FUNC);
	assert_int_equal(e->bind, STB_GLOBAL);
	e = expect(rep, "table_new", SYM_NEW);
	assert_int_equal(e->type, STT_OBJECT);
	assert_int_equal(e->bind, STB_LOCAL);
	assert_int_equal(count_change(rep, SYM_CHANGED), 0);
	assert_int_equal(elfdiff_report_names(rep, STT_FUNC, SYM_NEW, &funcs), 0);
	assert_int_equal(strv_length(funcs), 1);

	/* And the other way round. */
	elfdiff_report_free(TAKE_PTR(rep));
	rep = diff(sb.buf, base_src);
	expect(rep, "newf", SYM_REMOVED);
	expect(rep, "table_new", SYM_REMOVED);
}

static void test_data_changed(void **state)
{
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	_cleanup_free_ char *src = strdup(base_src);
	_cleanup_strv_free_ char **objs = NULL;
	const struct elfdiff_entry *e;

	strstr(src, "gval = 5")[7] = '6';
	rep = diff(base_src, src);
	e = expect(rep, "gval", SYM_CHANGED);
	assert_string_equal(e->reason, "existing data changed");
	assert_int_equal(e->type, STT_OBJECT);
	assert_string_equal(e->section, ".data.gval");
	expect(rep, "getg", SYM_SAME);
	expect(rep, "f2", SYM_SAME);
	assert_int_equal(elfdiff_report_names(rep, STT_OBJECT, SYM_CHANGED, &objs), 0);
	assert_int_equal(strv_length(objs), 1);
}

static void test_string_changed(void **state)
{
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	_cleanup_strbuf_ struct strbuf sb;
	const char *p = strstr(base_src, "alpha");

	/* A longer first string shifts the offsets of all later ones. */
	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_add(&sb, base_src, (size_t)(p - base_src)), 0);
	assert_int_equal(strbuf_adds(&sb, "alpha, now longer"), 0);
	assert_int_equal(strbuf_adds(&sb, p + 5), 0);
	rep = diff(base_src, sb.buf);
	expect(rep, "say_a", SYM_CHANGED);
	expect(rep, "say_b", SYM_SAME);
	expect(rep, "say_c", SYM_SAME);
	assert_int_equal(count_change(rep, SYM_CHANGED), 1);

	/* Without -fdata-sections all literals share one .rodata.str1.1 and later ones move. */
	elfdiff_report_free(TAKE_PTR(rep));
	rep = diff_flags("-c -O2 -ffunction-sections", base_src, sb.buf);
	expect(rep, "say_a", SYM_CHANGED);
	expect(rep, "say_b", SYM_SAME);
	expect(rep, "say_c", SYM_SAME);
	assert_int_equal(count_change(rep, SYM_CHANGED), 1);

	/* Same length, different text: caught by content, not offset. */
	elfdiff_report_free(TAKE_PTR(rep));
	sb.buf[p - base_src] = 'A';
	rep = diff_flags("-c -O2 -ffunction-sections", base_src, sb.buf);
	expect(rep, "say_a", SYM_CHANGED);
	assert_int_equal(count_change(rep, SYM_CHANGED), 1);
}

static void test_moved(void **state)
{
	static const char a[] =
		"static __attribute__((noinline)) int sq(int x) { return x * x; }\n"
		"int first(int x) { return sq(x) + 1; }\n"
		"int second(int x) { return sq(x + 2); }\n"
		"int third(int x) { return x - 4; }\n";
	static const char b[] =
		"static __attribute__((noinline)) int sq(int x) { return x * x; }\n"
		"int third(int x) { return x - 4; }\n"
		"\n/* moved */\n"
		"int second(int x) { return sq(x + 2); }\n"
		"int first(int x) { return sq(x) + 1; }\n";
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = diff(a, b);

	assert_int_equal(count_change(rep, SYM_SAME), elfdiff_report_count(rep));
	expect(rep, "first", SYM_SAME);
	expect(rep, "sq", SYM_SAME);
}

static void test_suffix_renumbered(void **state)
{
	/* Asm labels pin GCC's clone and static-local names to chosen numbers. */
	static const char a[] =
		"static __attribute__((noinline)) int scale(int x) __asm__(\"scale.isra.0\");\n"
		"static __attribute__((noinline)) int scale(int x) { return x * 5 + 1; }\n"
		"static __attribute__((noinline)) int pick(int x) __asm__(\"pick.constprop.1\");\n"
		"static __attribute__((noinline)) int pick(int x) { return x ^ 0x55; }\n"
		"int user(int x) { static int calls __asm__(\"calls.3\"); calls++;\n"
		"	return scale(x) + pick(x); }\n";
	_cleanup_free_ char *b = strdup(a);
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;

	strstr(b, "isra.0")[5] = '7';
	strstr(b, "constprop.1")[10] = '4';
	strstr(b, "calls.3")[6] = '9';
	rep = diff(a, b);
	expect(rep, "scale.isra.7", SYM_SAME);
	expect(rep, "pick.constprop.4", SYM_SAME);
	expect(rep, "calls.9", SYM_SAME);
	expect(rep, "user", SYM_SAME);
	assert_int_equal(count_change(rep, SYM_SAME), elfdiff_report_count(rep));

	/* Two clones of one function: renumbering is ambiguous, so names must match exactly. */
	elfdiff_report_free(TAKE_PTR(rep));
	rep = diff("static __attribute__((noinline)) int s1(int) __asm__(\"s.isra.0\");\n"
		   "static __attribute__((noinline)) int s1(int x) { return x * 5; }\n"
		   "static __attribute__((noinline)) int s2(int) __asm__(\"s.isra.1\");\n"
		   "static __attribute__((noinline)) int s2(int x) { return x * 6; }\n"
		   "int u(int x) { return s1(x) + s2(x); }\n",
		   "static __attribute__((noinline)) int s1(int) __asm__(\"s.isra.1\");\n"
		   "static __attribute__((noinline)) int s1(int x) { return x * 5; }\n"
		   "static __attribute__((noinline)) int s2(int) __asm__(\"s.isra.0\");\n"
		   "static __attribute__((noinline)) int s2(int x) { return x * 6; }\n"
		   "int u(int x) { return s1(x) + s2(x); }\n");
	expect(rep, "s.isra.0", SYM_CHANGED);
	expect(rep, "s.isra.1", SYM_CHANGED);
	expect(rep, "u", SYM_CHANGED);
}

/* Mimics the kernel's BUG_ON(): the line number lives in __bug_table, not in the code. */
#define BUG_SRC(pad)                                                                               \
	pad "#define MY_BUG_ON(c) do { if (c) asm volatile(\"1: ud2\\n\"                           \\\n" \
	    "	\".pushsection __bug_table,\\\"aw\\\"\\n\"                                      \\\n" \
	    "	\"2: .long 1b - 2b\\n .long 0\\n .word %c0\\n .word 0\\n\"                        \\\n" \
	    "	\".popsection\" : : \"i\" (__LINE__)); } while (0)\n"                                \
	    "int checked(int x) { MY_BUG_ON(x > 100); return x * 2; }\n"

static void test_bug_line_moved(void **state)
{
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep =
		diff(BUG_SRC(""), BUG_SRC("\n\n/* moved down */\n\n"));

	expect(rep, "checked", SYM_SAME);
	assert_int_equal(count_change(rep, SYM_SAME), elfdiff_report_count(rep));
}

static void test_flags(void **state)
{
	static const char src[] =
		"int traced(int x) { return x + 1; }\n"
		"__attribute__((no_instrument_function)) int untraced(int x) { return x + 2; }\n"
		"__attribute__((section(\".init.text\"))) int setup_thing(int x) { return x + 3; }\n";
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	const struct elfdiff_entry *e;

	rep = diff_flags(CFLAGS " -pg -mfentry", src, src);
	e = expect(rep, "traced", SYM_SAME);
	assert_int_equal(e->flags, 0);
	e = expect(rep, "untraced", SYM_SAME);
	assert_int_equal(e->flags, ELFDIFF_FLAG_NO_FENTRY);
	e = expect(rep, "setup_thing", SYM_SAME);
	assert_int_equal(e->flags, ELFDIFF_FLAG_INIT);
	elfdiff_report_free(TAKE_PTR(rep));

	rep = diff(src, src);
	assert_int_equal(expect(rep, "traced", SYM_SAME)->flags, ELFDIFF_FLAG_NO_FENTRY);
}

static void expect_open_error(const char *path, int err, const char *msg)
{
	_cleanup_(elf_object_freep) struct elf_object *o = NULL;
	char reterr[256] = "";

	assert_int_equal(elf_object_open(path, &o, reterr, sizeof(reterr)), err);
	assert_null(o);
	if (msg && !strstr(reterr, msg))
		fail_msg("'%s' does not mention '%s'", reterr, msg);
}

static void rewrite(const char *path, size_t off, unsigned char byte, size_t truncate_to)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	assert_int_equal(read_file_bounded(path, 1 << 24, &buf, &len), 0);
	if (off < len)
		buf[off] = (char)byte;
	assert_int_equal(write_file_atomic(path, buf, truncate_to < len ? truncate_to : len, 0644),
			 0);
}

static void test_bad_input(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *text = NULL, *so = NULL, *exe = NULL;
	_cleanup_free_ char *trunc = NULL, *class32 = NULL, *machine = NULL, *missing = NULL;
	_cleanup_free_ char *tiny = NULL;

	text = write_source(dir, "text", "int main(void) { return 0; }\n");
	expect_open_error(text, -EBADMSG, "not an ELF file");
	tiny = path_join(dir, "tiny");
	assert_int_equal(write_file_atomic(tiny, "\177ELF", 4, 0644), 0);
	expect_open_error(tiny, -EBADMSG, "not an ELF file");
	so = compile(dir, "lib", "-shared -fPIC", "so", "int f(void) { return 1; }\n");
	expect_open_error(so, -EBADMSG, "not a relocatable object");
	exe = compile(dir, "prog", "", "bin", "int main(void) { return 0; }\n");
	expect_open_error(exe, -EBADMSG, "not a relocatable object");

	trunc = compile(dir, "trunc", CFLAGS, "o", "int f(void) { return 1; }\n");
	rewrite(trunc, 0, 0x7f, 300);
	expect_open_error(trunc, -EBADMSG, NULL);
	class32 = compile(dir, "class", CFLAGS, "o", "int f(void) { return 1; }\n");
	rewrite(class32, EI_CLASS, ELFCLASS32, (size_t)-1);
	expect_open_error(class32, -EBADMSG, "64-bit");
	machine = compile(dir, "machine", CFLAGS, "o", "int f(void) { return 1; }\n");
	rewrite(machine, offsetof(Elf64_Ehdr, e_machine), EM_AARCH64, (size_t)-1);
	expect_open_error(machine, -EBADMSG, "x86_64");
	missing = path_join(dir, "missing.o");
	expect_open_error(missing, -ENOENT, NULL);
	test_tmpdir_remove(TAKE_PTR(dir));
}

static void test_strings(void **state)
{
	assert_string_equal(symbol_change_to_string(SYM_REMOVED), "removed");
	assert_null(symbol_change_to_string(_SYM_CHANGE_MAX));
	assert_int_equal(symbol_change_from_string("changed"), SYM_CHANGED);
	assert_int_equal(symbol_change_from_string("bogus"), -EINVAL);
	assert_null(elf_object_free(NULL));
	assert_null(elfdiff_report_free(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_body_changed),
		cmocka_unit_test(test_inlined_static_changed),
		cmocka_unit_test(test_new_function_and_data),
		cmocka_unit_test(test_data_changed),
		cmocka_unit_test(test_string_changed),
		cmocka_unit_test(test_moved),
		cmocka_unit_test(test_suffix_renumbered),
		cmocka_unit_test(test_bug_line_moved),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_strings),
	};

	return TEST_MAIN(tests);
}
