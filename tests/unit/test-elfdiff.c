/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
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

/*
 * Compiles both, optionally correlates (ret_renamed >= 0 then), and
 * compares with opts.
 */
static struct elfdiff_report *diff_full(const char *flags, const char *a, const char *b,
					const struct elfdiff_options *opts, bool correlate,
					int *ret_renamed)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *pa = NULL, *pb = NULL;
	_cleanup_(elf_object_freep) struct elf_object *oa = NULL, *ob = NULL;
	struct elfdiff_report *rep = NULL;
	char err[256] = "";

	/* one file name on both sides, as __FILE__ is in a kernel build */
	for (int side = 0; side < 2; side++) {
		_cleanup_free_ char *sub = path_join(dir, side ? "patched" : "orig"), *f = NULL;

		assert_non_null(sub);
		assert_int_equal(mkdir_p(sub, 0755), 0);
		assert_true(asprintf(&f, "%s -fmacro-prefix-map=%s/=", flags, sub) > 0);
		*(side ? &pb : &pa) = compile(sub, "unit", f, "o", side ? b : a);
	}
	assert_int_equal(elf_object_open(pa, &oa, err, sizeof(err)), 0);
	assert_int_equal(elf_object_open(pb, &ob, err, sizeof(err)), 0);
	if (correlate) {
		int n = elfdiff_correlate(oa, ob, opts, err, sizeof(err));

		assert_true(n >= 0);
		if (ret_renamed)
			*ret_renamed = n;
		/* a second pass finds nothing left to rename */
		assert_int_equal(elfdiff_correlate(oa, ob, opts, err, sizeof(err)), 0);
	}
	assert_int_equal(elfdiff_compare_opts(oa, ob, opts, &rep, err, sizeof(err)), 0);
	assert_non_null(rep);
	test_tmpdir_remove(TAKE_PTR(dir));
	return rep;
}

static struct elfdiff_report *diff_flags(const char *flags, const char *a, const char *b)
{
	return diff_full(flags, a, b, NULL, false, NULL);
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

/*
 * Stand-ins with the kernel's calling shapes: __might_sleep(file, line),
 * warn_slowpath_fmt(file, line, taint, fmt), ext4's __ext4_error(sb, func,
 * line, fmt), a location struct filled on the stack, and a dynamic debug
 * descriptor in __dyndbg with the 6.1 layout (four pointers, lineno:18).
 */
#define LINES_SRC(pad, constant)                                                                  \
	pad "void __might_sleep(const char *file, int line);\n"                                  \
	"void warn_slowpath_fmt(const char *file, int line, unsigned taint, const char *fmt, ...);\n" \
	"int __ext4_error(void *sb, const char *func, unsigned line, const char *fmt, ...);\n"   \
	"struct loc { const char *file; int line; };\n"                                          \
	"void report(const struct loc *l, int v);\n"                                             \
	"struct _ddebug { const char *modname, *function, *filename, *format;\n"                 \
	"	unsigned lineno:18; unsigned class_id:6; unsigned flags:8; long key[2]; }\n"     \
	"	__attribute__((aligned(8)));\n"                                                  \
	"void __dynamic_pr_debug(struct _ddebug *d, const char *fmt, ...);\n"                   \
	"#define CAT2(a, b) a##b\n"                                                             \
	"#define CAT(a, b) CAT2(a, b)\n"                                                        \
	"#define might_sleep() __might_sleep(__FILE__, __LINE__)\n"                              \
	"#define WARN(c, fmt) ({ int __r = !!(c); if (__r) warn_slowpath_fmt(__FILE__, __LINE__, 9, fmt); __r; })\n" \
	"#define fs_error(sb, fmt) __ext4_error(sb, __func__, __LINE__, fmt)\n"                 \
	"#define pr_debug_id(id, fmt) do { \\\n"                                                \
	"	static struct _ddebug __attribute__((section(\"__dyndbg\"), used)) id = \\\n"   \
	"		{ \"mod\", __func__, __FILE__, fmt, __LINE__, 63, 0, { 0, 0 } }; \\\n"  \
	"	__dynamic_pr_debug(&id, fmt); } while (0)\n"                                       \
	"#define pr_debug(fmt) pr_debug_id(CAT(__UNIQUE_ID_ddebug, __COUNTER__), fmt)\n"       \
	"int sleeper(int x)\n{\n\tmight_sleep();\n\treturn x * 3;\n}\n"                     \
	"int warner(int x)\n{\n\tif (WARN(x > 5, \"big %d\"))\n\t\treturn -1;\n\treturn x + 1;\n}\n" \
	"int failer(void *sb, int x)\n{\n\tif (x)\n\t\tfs_error(sb, \"bad\");\n\treturn 0;\n}\n" \
	"void locator(int v)\n{\n\tstruct loc l = { __FILE__, __LINE__ };\n\treport(&l, " constant ");\n}\n" \
	"void debugger(void)\n{\n\tpr_debug(\"one\");\n\tpr_debug(\"two\");\n}\n"

#define LINES_PAD "\n\n/* four lines\n * above */\n"

/* Original line l is patched line l + by after line `after`, unchanged before. */
static unsigned *shift_map(size_t n, size_t after, unsigned by)
{
	unsigned *m = calloc(n, sizeof(unsigned));

	assert_non_null(m);
	for (size_t l = 1; l < n; l++)
		m[l] = (unsigned)l + (l > after ? by : 0);
	return m;
}

static void test_line_only(void **state)
{
	_cleanup_free_ unsigned *map = shift_map(200, 0, 4);
	struct elfdiff_options opts = { .line_map = map, .n_lines = 200 };
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	static const char *const funcs[] = { "sleeper", "warner", "failer", "locator", "debugger" };
	size_t line_only = 0;

	rep = diff_full(CFLAGS, LINES_SRC("", "7"), LINES_SRC(LINES_PAD, "7"), &opts, true, NULL);
	assert_int_equal(count_change(rep, SYM_SAME), elfdiff_report_count(rep));
	for (size_t i = 0; i < ARRAY_SIZE(funcs); i++)
		if (!(expect(rep, funcs[i], SYM_SAME)->flags & ELFDIFF_FLAG_LINE_ONLY) &&
		    !streq(funcs[i], "debugger"))
			fail_msg("'%s' is not flagged line-only", funcs[i]);
	for (size_t i = 0; i < elfdiff_report_count(rep); i++) {
		const struct elfdiff_entry *e = elfdiff_report_entry(rep, i);

		if (strncmp(e->name, "__UNIQUE_ID_ddebug", 18) == 0) {
			assert_string_equal(e->section, "__dyndbg");
			assert_true(e->flags & ELFDIFF_FLAG_SPECIAL_STATIC);
			assert_true(e->flags & ELFDIFF_FLAG_LINE_ONLY);
			line_only++;
		}
	}
	assert_int_equal(line_only, 2);
	elfdiff_report_free(TAKE_PTR(rep));

	/* Without the patch's line map every moved line is a change. */
	rep = diff_full(CFLAGS, LINES_SRC("", "7"), LINES_SRC(LINES_PAD, "7"), NULL, true, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(funcs); i++)
		expect(rep, funcs[i], SYM_CHANGED);
	elfdiff_report_free(TAKE_PTR(rep));

	/* A map that moves the lines elsewhere (5, not 4) explains nothing. */
	free(map);
	map = shift_map(200, 0, 5);
	opts.line_map = map;
	rep = diff_full(CFLAGS, LINES_SRC("", "7"), LINES_SRC(LINES_PAD, "7"), &opts, true, NULL);
	for (size_t i = 0; i < ARRAY_SIZE(funcs); i++)
		expect(rep, funcs[i], SYM_CHANGED);
	elfdiff_report_free(TAKE_PTR(rep));

	/* Lines changed by the patch (map 0) explain nothing either. */
	free(map);
	map = calloc(200, sizeof(unsigned));
	opts.line_map = map;
	rep = diff_full(CFLAGS, LINES_SRC("", "7"), LINES_SRC(LINES_PAD, "7"), &opts, true, NULL);
	expect(rep, "sleeper", SYM_CHANGED);
}

static void test_line_only_with_real_change(void **state)
{
	_cleanup_free_ unsigned *map = shift_map(200, 0, 4);
	struct elfdiff_options opts = { .line_map = map, .n_lines = 200 };
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	const struct elfdiff_entry *e;

	/* A real constant beside the moved lines: locator changed, the rest only moved. */
	rep = diff_full(CFLAGS, LINES_SRC("", "7"), LINES_SRC(LINES_PAD, "70000"), &opts, true,
			NULL);
	e = expect(rep, "locator", SYM_CHANGED);
	assert_false(e->flags & ELFDIFF_FLAG_LINE_ONLY);
	assert_non_null(strstr(e->reason, "bytes differ"));
	assert_true(expect(rep, "sleeper", SYM_SAME)->flags & ELFDIFF_FLAG_LINE_ONLY);
	assert_true(expect(rep, "failer", SYM_SAME)->flags & ELFDIFF_FLAG_LINE_ONLY);
	assert_int_equal(count_change(rep, SYM_CHANGED), 1);
	elfdiff_report_free(TAKE_PTR(rep));

	/*
	 * A constant that happens to be a line number of the file, changed to
	 * something the map does not say: 30 -> 31 where line 30 moved to 34.
	 */
	rep = diff_full(CFLAGS, LINES_SRC("", "30"), LINES_SRC(LINES_PAD, "31"), &opts, true,
			NULL);
	expect(rep, "locator", SYM_CHANGED);
	elfdiff_report_free(TAKE_PTR(rep));

	/* Same lines, a changed descriptor format: the descriptor and its user changed. */
	{
		_cleanup_free_ char *b = strdup(LINES_SRC(LINES_PAD, "7"));

		memcpy(strstr(b, "\"two\"") + 1, "TWO", 3);
		rep = diff_full(CFLAGS, LINES_SRC("", "7"), b, &opts, true, NULL);
		e = expect(rep, "debugger", SYM_CHANGED);
		expect(rep, "sleeper", SYM_SAME);
	}
}

static void test_special_static_changed(void **state)
{
	/* GCC turns the switch into a lookup table CSWTCH.N; only the table changes. */
	static const char a[] = "int pick(unsigned x) { switch (x) { case 0: return 11; "
				"case 1: return 23; case 2: return 37; case 3: return 41; "
				"case 4: return 53; default: return 0; } }\n"
				"int other(int x) { return x + 1; }\n";
	_cleanup_free_ char *b = strdup(a);
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	const struct elfdiff_entry *e = NULL;

	strstr(b, "53")[1] = '4';
	rep = diff_full(CFLAGS, a, b, NULL, true, NULL);
	for (size_t i = 0; i < elfdiff_report_count(rep); i++)
		if (strncmp(elfdiff_report_entry(rep, i)->name, "CSWTCH.", 7) == 0)
			e = elfdiff_report_entry(rep, i);
	assert_non_null(e);
	assert_int_equal(e->change, SYM_CHANGED);
	assert_true(e->flags & ELFDIFF_FLAG_SPECIAL_STATIC);
	/* the code is byte for byte the same, but it uses the changed table */
	e = expect(rep, "pick", SYM_CHANGED);
	assert_non_null(strstr(e->reason, "CSWTCH."));
	expect(rep, "other", SYM_SAME);
}

static void test_static_locals(void **state)
{
	/* Unrelated edits renumber GCC's static locals; asm labels pin the numbers. */
	static const char a[] =
		"int f1(int x) { static int count __asm__(\"count.1\"); count += x; return count; }\n"
		"int f2(int x) { static int count __asm__(\"count.2\"); count -= x; return count; }\n"
		"int f3(int x) { static int calls __asm__(\"calls.3\"); return ++calls + x; }\n";
	static const char b[] =
		"int f0(int x) { static int calls __asm__(\"calls.3\"); return calls++ - x; }\n"
		"int f1(int x) { static int count __asm__(\"count.5\"); count += x; return count; }\n"
		"int f2(int x) { static int count __asm__(\"count.1\"); count -= 2 * x; return count; }\n"
		"int f3(int x) { static int calls __asm__(\"calls.9\"); return ++calls + x; }\n";
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	const struct elfdiff_entry *e;
	int renamed = -1;

	rep = diff_full(CFLAGS, a, b, NULL, true, &renamed);
	/* the twins by function, whatever their numbers were */
	e = expect(rep, "count.1", SYM_SAME);
	assert_string_equal(e->orig_name, "count.1");
	assert_string_equal(e->section, ".bss.count.1");
	expect(rep, "count.2", SYM_SAME);
	expect(rep, "f1", SYM_SAME);
	e = expect(rep, "f2", SYM_CHANGED);
	expect(rep, "f3", SYM_SAME);
	expect(rep, "calls.3", SYM_SAME);
	expect(rep, "f0", SYM_NEW);
	/* f0's own "calls.3" is new and got a fresh name, so no name means two things */
	for (size_t i = 0; i < elfdiff_report_count(rep); i++) {
		e = elfdiff_report_entry(rep, i);
		if (e->change == SYM_NEW && e->type == STT_OBJECT) {
			assert_string_not_equal(e->name, "calls.3");
			assert_string_not_equal(e->name, "calls.9");
			assert_int_equal(strncmp(e->name, "calls.", 6), 0);
			assert_null(e->orig_name);
		}
	}
	/* count.5 -> count.1, count.1 -> count.2, calls.9 -> calls.3, f0's calls.3 -> fresh */
	assert_int_equal(renamed, 4);
	assert_int_equal(count_change(rep, SYM_CHANGED), 1);
	elfdiff_report_free(TAKE_PTR(rep));

	/* Without correlate() the report names the twins as the patched object does. */
	rep = diff(a, b);
	e = expect(rep, "count.5", SYM_SAME);
	assert_string_equal(e->orig_name, "count.1");
	expect(rep, "f2", SYM_CHANGED);
}

static void test_static_locals_shared_section(void **state)
{
	/* WARN_ONCE-style flags: several per function, all in one section */
#define ONCE_SRC(g_body)                                                                           \
	"void ext(int);\n"                                                                          \
	"#define ONCE(n) do { static int d __asm__(\"__already_done.\" #n) "                        \
	"__attribute__((section(\".data.once\"))); if (!d) { d = 1; ext(n); } } while (0)\n"      \
	"int f(int a) { ONCE(1); ONCE(2); ONCE(3); return a; }\n"                                   \
	"int g(int a) { ONCE(4); " g_body " }\n"
	static const char a[] = ONCE_SRC("return a + 1;");
	static const char b[] = ONCE_SRC("return a + 2;");
#undef ONCE_SRC
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	int renamed = -1;

	rep = diff_full(CFLAGS, a, b, NULL, true, &renamed);
	expect(rep, "f", SYM_SAME);
	expect(rep, "g", SYM_CHANGED);
	expect(rep, "__already_done.1", SYM_SAME);
	expect(rep, "__already_done.3", SYM_SAME);
	expect(rep, "__already_done.4", SYM_SAME);
	assert_int_equal(count_change(rep, SYM_NEW), 0);
	assert_int_equal(count_change(rep, SYM_REMOVED), 0);
	assert_int_equal(renamed, 0);
}

static void test_static_local_moved(void **state)
{
	/* The only "state" moved from one function to another that both still exist. */
	static const char a[] =
		"int g1(int x) { static int state __asm__(\"state.1\"); return state += x; }\n"
		"int g2(int x) { return x * 2; }\n";
	static const char b[] =
		"int g1(int x) { return x + 1; }\n"
		"int g2(int x) { static int state __asm__(\"state.4\"); return state += x * 2; }\n";
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = diff_full(CFLAGS, a, b, NULL,
									       true, NULL);

	expect(rep, "state.1", SYM_REMOVED);
	expect(rep, "state.4", SYM_NEW);
	expect(rep, "g1", SYM_CHANGED);
	expect(rep, "g2", SYM_CHANGED);
	elfdiff_report_free(TAKE_PTR(rep));

	/* Inlining moved the reference from a function that is gone: still one variable. */
	rep = diff_full(CFLAGS,
			"static __attribute__((noinline)) int bump(int x) { static int n __asm__(\"n.2\");\n"
			"	return n += x; }\n"
			"int user(int x) { return bump(x) + 1; }\n",
			"int user(int x) { static int n __asm__(\"n.7\"); return (n += x) + 2; }\n",
			NULL, true, NULL);
	expect(rep, "n.2", SYM_SAME);
	expect(rep, "bump", SYM_REMOVED);
	expect(rep, "user", SYM_CHANGED);
}

static void test_clone_suffixes(void **state)
{
	/* GCC turned helper into an IPA-SRA clone: the clone is new, its caller changed. */
	static const char a[] =
		"static __attribute__((noinline)) int helper(int x) __asm__(\"helper\");\n"
		"static __attribute__((noinline)) int helper(int x) { return x * 5 + 1; }\n"
		"int caller(int x) { return helper(x) + 2; }\n";
	static const char b[] =
		"static __attribute__((noinline)) int helper(int x) __asm__(\"helper.isra.0\");\n"
		"static __attribute__((noinline)) int helper(int x) { return x * 5 + 1; }\n"
		"int caller(int x) { return helper(x) + 2; }\n";
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;

	rep = diff_full(CFLAGS, a, b, NULL, true, NULL);
	expect(rep, "helper", SYM_REMOVED);
	expect(rep, "helper.isra.0", SYM_NEW);
	expect(rep, "caller", SYM_CHANGED);
	elfdiff_report_free(TAKE_PTR(rep));

	/* and back: the clone disappears */
	rep = diff_full(CFLAGS, b, a, NULL, true, NULL);
	expect(rep, "helper.isra.0", SYM_REMOVED);
	expect(rep, "helper", SYM_NEW);
	expect(rep, "caller", SYM_CHANGED);
	elfdiff_report_free(TAKE_PTR(rep));

	/* A .cold part appears: the parent changed, the part is new. */
	rep = diff_full(CFLAGS,
			"int hot(int x) { return x + 3; }\n",
			"void hot_cold(void) __asm__(\"hot.cold\") __attribute__((noinline, cold));\n"
			"void hot_cold(void) { __builtin_trap(); }\n"
			"int hot(int x) { return x + 3; }\n",
			NULL, true, NULL);
	expect(rep, "hot.cold", SYM_NEW);
	expect(rep, "hot", SYM_CHANGED);
	assert_non_null(strstr(elfdiff_report_find(rep, "hot")->reason, "hot.cold"));
	elfdiff_report_free(TAKE_PTR(rep));

	/* Renumbered clones are renamed, with their sections, to the original's names. */
	rep = diff_full(CFLAGS,
			"static __attribute__((noinline)) int sc(int) __asm__(\"sc.constprop.1\");\n"
			"static __attribute__((noinline)) int sc(int x) { return x ^ 0x55; }\n"
			"int u(int x) { return sc(x); }\n",
			"static __attribute__((noinline)) int sc(int) __asm__(\"sc.constprop.6\");\n"
			"static __attribute__((noinline)) int sc(int x) { return x ^ 0x55; }\n"
			"int u(int x) { return sc(x); }\n",
			NULL, true, NULL);
	assert_string_equal(expect(rep, "sc.constprop.1", SYM_SAME)->section,
			    ".text.sc.constprop.1");
	expect(rep, "u", SYM_SAME);
}

static const char layout_base[] =
	"struct point { int x; int y; };\n"
	"typedef struct { long a; char b; } pair_t;\n"
	"union num { int i; float f; };\n"
	"struct flags { unsigned a:3; unsigned b:5; };\n"
	"int use(struct point *p, pair_t *q, union num *n, struct flags *f)\n"
	"{ return p->x + p->y + (int)q->a + n->i + f->a + f->b; }\n";

static char **layouts(const char *flags, const char *a, const char *b, int expect_r)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *pa = NULL, *pb = NULL;
	_cleanup_(elf_object_freep) struct elf_object *oa = NULL, *ob = NULL;
	char **v = NULL, err[256] = "";

	pa = compile(dir, "orig", flags, "o", a);
	pb = compile(dir, "patched", flags, "o", b);
	assert_int_equal(elf_object_open(pa, &oa, err, sizeof(err)), 0);
	assert_int_equal(elf_object_open(pb, &ob, err, sizeof(err)), 0);
	assert_int_equal(elfdiff_struct_layouts(oa, ob, &v, err, sizeof(err)), expect_r);
	if (expect_r == -ENODATA)
		assert_non_null(strstr(err, "no DWARF"));
	test_tmpdir_remove(TAKE_PTR(dir));
	return v;
}

static void expect_layout_change(const char *from, const char *to, const char *msg)
{
	_cleanup_free_ char *b = strdup(layout_base);
	_cleanup_strbuf_ struct strbuf sb;
	_cleanup_strv_free_ char **v = NULL;
	char *p = strstr(b, from);

	assert_non_null(p);
	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_add(&sb, b, (size_t)(p - b)), 0);
	assert_int_equal(strbuf_adds(&sb, to), 0);
	assert_int_equal(strbuf_adds(&sb, p + strlen(from)), 0);
	v = layouts(CFLAGS " -g", layout_base, sb.buf, 0);
	if (strv_length(v) != 1 || !streq(v[0], msg))
		fail_msg("expected '%s', got '%s' (%zu)", msg, v[0] ? v[0] : "", strv_length(v));
}

static void test_struct_layouts(void **state)
{
	_cleanup_strv_free_ char **v = layouts(CFLAGS " -g", layout_base, layout_base, 0);
	_cleanup_free_ char *more = NULL;

	assert_int_equal(strv_length(v), 0);
	expect_layout_change("int x; int y;", "int x; int z; int y;",
			     "struct point layout changed (size 8 -> 12, member 'y' moved from +4 "
			     "to +8)");
	expect_layout_change("int x; int y;", "long x; int y;",
			     "struct point layout changed (size 8 -> 16, member 'x' changed size "
			     "from 4 to 8)");
	expect_layout_change("long a; char b;", "long a; char c;",
			     "struct pair_t layout changed (member 'b' removed)");
	expect_layout_change("int i; float f;", "int i; float f; double d;",
			     "union num layout changed (size 4 -> 8)");
	expect_layout_change("unsigned a:3;", "unsigned a:4;",
			     "struct flags layout changed (member 'a' moved within its bits)");
	expect_layout_change("int x; int y;", "int y; int x;",
			     "struct point layout changed (member 'x' moved from +0 to +4)");
	/* a struct only the patch has is new, not changed */
	assert_true(asprintf(&more, "%sstruct fresh { int q; };\nint q(struct fresh *f) "
			     "{ return f->q; }\n", layout_base) > 0);
	strv_free(v);
	v = layouts(CFLAGS " -g", layout_base, more, 0);
	assert_int_equal(strv_length(v), 0);
	/* no DWARF: nothing can be said */
	assert_null(layouts(CFLAGS, layout_base, layout_base, -ENODATA));
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
		cmocka_unit_test(test_line_only),
		cmocka_unit_test(test_line_only_with_real_change),
		cmocka_unit_test(test_special_static_changed),
		cmocka_unit_test(test_static_locals),
		cmocka_unit_test(test_static_locals_shared_section),
		cmocka_unit_test(test_static_local_moved),
		cmocka_unit_test(test_clone_suffixes),
		cmocka_unit_test(test_struct_layouts),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_strings),
	};

	return TEST_MAIN(tests);
}
