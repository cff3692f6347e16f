/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * patch_analyse() without a kernel: each test makes a fake source tree whose
 * Makefile builds PATH.o from PATH.c with the host gcc (honouring O= and
 * KCFLAGS like kbuild's single-target builds), and real patch(1), make and
 * elfdiff do the rest.  After every run the pristine tree must be exactly as
 * it was: names, types, sizes, mtimes and contents.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "build.h"
#include "fileio.h"
#include "strbuf.h"
#include "test-lib.h"

/*
 * Fails loudly when a build does not get kbuild-like KCFLAGS.  Like kbuild
 * it writes .NAME.o.cmd beside each object, with -DKBUILD_MODNAME='"name"'
 * and, for the objects under mod/ (the module "mymod"), -DMODULE.
 */
static const char makefile[] =
	"O ?= .\n"
	".SUFFIXES:\n"
	".PHONY: FORCE\n"
	"FORCE:\n"
	"MODNAME = $(if $(filter mod/%,$@),mymod,$(notdir $*))\n"
	"MODULE = $(if $(filter mod/%,$@),-DMODULE)\n"
	"%.o: FORCE\n"
	"\t$(if $(findstring -ffunction-sections,$(KCFLAGS)),,$(error KCFLAGS missing))\n"
	"\t@mkdir -p $(dir $(O)/$@)\n"
	"\tgcc -c -O2 -g -pg -mfentry $(KCFLAGS) -I$(CURDIR)/include $(MODULE) "
	"-DKBUILD_MODNAME='\"$(MODNAME)\"' -o $(O)/$@ $(CURDIR)/$*.c\n"
	"\t@printf '%s\\n\\n' \"cmd_$@ := gcc -c $(KCFLAGS) $(MODULE) "
	"-DKBUILD_MODNAME='\\\"$(MODNAME)\\\"' -o $@ $*.c\" >$(O)/$(dir $@).$(notdir $@).cmd\n";

static const char lib_h[] = "int helper(int a);\n";

static const char x_c[] = "#include \"lib.h\"\n"
			  "\n"
			  "int counter = 1;\n"
			  "\n"
			  "int compute(int a)\n"
			  "{\n"
			  "\treturn a * 3 + counter;\n"
			  "}\n"
			  "\n"
			  "int other(int a)\n"
			  "{\n"
			  "\treturn a + 7;\n"
			  "}\n"
			  "\n"
			  "int report_line(int line);\n"
			  "\n"
			  "int where(void)\n" /* line 17: its __LINE__ moves with every line added above */
			  "{\n"
			  "\treturn report_line(__LINE__);\n"
			  "}\n"
			  "\n"
			  "struct st {\n" /* line 22 */
			  "\tint a;\n"
			  "\tint b;\n"
			  "};\n"
			  "\n"
			  "int sum(struct st *s)\n"
			  "{\n"
			  "\treturn s->a + s->b;\n"
			  "}\n"
			  "\n"
			  "__attribute__((section(\".exit.text\"))) int bye(int a)\n" /* line 32 */
			  "{\n"
			  "\treturn a - 3;\n"
			  "}\n"
			  "\n"
			  "int g1(int x)\n" /* line 37 */
			  "{\n"
			  "\tstatic int state __asm__(\"state.1\");\n"
			  "\treturn state += x;\n"
			  "}\n"
			  "\n"
			  "int g2(int x)\n"
			  "{\n"
			  "\treturn x * 2;\n"
			  "}\n"
			  "\n"
			  "int pick(unsigned int x)\n" /* line 48: GCC makes the switch a table */
			  "{\n"
			  "\tswitch (x) {\n"
			  "\tcase 0: return 11;\n"
			  "\tcase 1: return 23;\n"
			  "\tcase 2: return 37;\n"
			  "\tcase 3: return 41;\n"
			  "\tcase 4: return 53;\n"
			  "\tdefault: return 0;\n"
			  "\t}\n"
			  "}\n";

static const char m_c[] = "int mfunc(int a)\n"
			  "{\n"
			  "\treturn a + 1;\n"
			  "}\n";

static const char entry_s[] = "\t.text\n\t.globl entry\nentry:\n\tret\n";

#define X_HEADER                                                                                   \
	"From 1234 Mon Sep 17 00:00:00 2001\n"                                                     \
	"Subject: [PATCH] drv: fix it\n\n"                                                         \
	"A line of commit message.\n---\n"                                                         \
	"diff --git a/drv/x.c b/drv/x.c\n"                                                         \
	"index 1111111..2222222 100644\n"                                                          \
	"--- a/drv/x.c\n"                                                                          \
	"+++ b/drv/x.c\n"

static const char patch_body[] = X_HEADER "@@ -4,7 +4,7 @@ int counter = 1;\n"
					  " \n"
					  " int compute(int a)\n"
					  " {\n"
					  "-\treturn a * 3 + counter;\n"
					  "+\treturn a * 5 + counter;\n"
					  " }\n"
					  " \n"
					  " int other(int a)\n"
					  "-- \n2.39.5\n";

static const char patch_new_func[] = X_HEADER "@@ -11,3 +11,8 @@ int other(int a)\n"
					      " {\n"
					      " \treturn a + 7;\n"
					      " }\n"
					      "+\n"
					      "+int added(int a)\n"
					      "+{\n"
					      "+\treturn a - 1;\n"
					      "+}\n";

static const char patch_global[] = "--- a/drv/x.c\t2024-01-01 00:00:00\n"
				   "+++ b/drv/x.c\t2024-01-01 00:00:00\n"
				   "@@ -1,6 +1,6 @@\n"
				   " #include \"lib.h\"\n"
				   " \n"
				   "-int counter = 1;\n"
				   "+int counter = 2;\n"
				   " \n"
				   " int compute(int a)\n"
				   " {\n";

static const char patch_comment[] = "--- a/drv/x.c\n"
				    "+++ b/drv/x.c\n"
				    "@@ -1,3 +1,4 @@\n"
				    " #include \"lib.h\"\n"
				    "+/* only a comment */\n"
				    " \n"
				    " int counter = 1;\n";

/* Two lines above everything and a real change below: where() only moved. */
static const char patch_lines_and_body[] = "--- a/drv/x.c\n"
					   "+++ b/drv/x.c\n"
					   "@@ -1,7 +1,9 @@\n"
					   " #include \"lib.h\"\n"
					   "+/* a comment\n"
					   "+ * of two lines */\n"
					   " \n"
					   " int counter = 1;\n"
					   " \n"
					   " int compute(int a)\n"
					   " {\n"
					   "-\treturn a * 3 + counter;\n"
					   "+\treturn a * 4 + counter;\n";

static const char patch_header[] = "diff --git a/include/lib.h b/include/lib.h\n"
				   "--- a/include/lib.h\n"
				   "+++ b/include/lib.h\n"
				   "@@ -1 +1,2 @@\n"
				   " int helper(int a);\n"
				   "+int helper2(int a);\n";

static const char patch_asm_and_tools[] = "--- a/arch/entry.S\n"
					  "+++ b/arch/entry.S\n"
					  "@@ -2,3 +2,4 @@\n"
					  " \t.globl entry\n"
					  " entry:\n"
					  "+\tnop\n"
					  " \tret\n"
					  "--- a/tools/README\n"
					  "+++ b/tools/README\n"
					  "@@ -1 +1 @@\n"
					  "-tools\n"
					  "+tools, better\n"
					  "--- /dev/null\n"
					  "+++ b/drv/y.c\n"
					  "@@ -0,0 +1 @@\n"
					  "+int y;\n";

static const char patch_struct[] = "--- a/drv/x.c\n"
				   "+++ b/drv/x.c\n"
				   "@@ -22,4 +22,5 @@ int where(void)\n"
				   " struct st {\n"
				   "+\tint pad;\n"
				   " \tint a;\n"
				   " \tint b;\n"
				   " };\n";

static const char patch_exit[] = "--- a/drv/x.c\n"
				 "+++ b/drv/x.c\n"
				 "@@ -33,3 +33,3 @@\n"
				 " {\n"
				 "-\treturn a - 3;\n"
				 "+\treturn a - 4;\n"
				 " }\n";

/* The only "state" moves from g1 to g2, both of which stay. */
static const char patch_moved_static[] = "--- a/drv/x.c\n"
					 "+++ b/drv/x.c\n"
					 "@@ -37,10 +37,10 @@\n"
					 " int g1(int x)\n"
					 " {\n"
					 "-\tstatic int state __asm__(\"state.1\");\n"
					 "-\treturn state += x;\n"
					 "+\treturn x + 1;\n"
					 " }\n"
					 " \n"
					 " int g2(int x)\n"
					 " {\n"
					 "-\treturn x * 2;\n"
					 "+\tstatic int state __asm__(\"state.4\");\n"
					 "+\treturn state += x * 2;\n"
					 " }\n";

static const char patch_switch[] = "--- a/drv/x.c\n"
				   "+++ b/drv/x.c\n"
				   "@@ -55,3 +55,3 @@\n"
				   " \tcase 3: return 41;\n"
				   "-\tcase 4: return 53;\n"
				   "+\tcase 4: return 54;\n"
				   " \tdefault: return 0;\n";

static const char patch_module[] = "--- a/mod/m.c\n"
				   "+++ b/mod/m.c\n"
				   "@@ -1,4 +1,4 @@\n"
				   " int mfunc(int a)\n"
				   " {\n"
				   "-\treturn a + 1;\n"
				   "+\treturn a + 2;\n"
				   " }\n";

static const char patch_core[] = "--- a/kernel/livepatch/core.c\n"
				 "+++ b/kernel/livepatch/core.c\n"
				 "@@ -1 +1 @@\n"
				 "-int klp_x;\n"
				 "+int klp_x = 1;\n";

static const char patch_bad[] = "--- a/drv/x.c\n"
				"+++ b/drv/x.c\n"
				"@@ -5,3 +5,3 @@\n"
				" int compute(int a)\n"
				" {\n"
				"-\treturn a * 4 + counter;\n"
				"+\treturn a * 5 + counter;\n";

/* A removed line that looks like a file header must not be taken for one. */
static const char patch_tricky[] = "--- a/drv/x.c\n"
				   "+++ b/drv/x.c\n"
				   "@@ -1 +1 @@\n"
				   "--- a/etc/passwd\n"
				   "+++ b/etc/passwd\n";

struct fixture {
	char *dir;
	char *src;
	char *build;
	char *work;
	char *snapshot;
	char *patches[3];
	struct patch_analyse_options o;
};

static char *join(const char *a, const char *b)
{
	char *p = path_join(a, b);

	assert_non_null(p);
	return p;
}

static void write_text(const char *dir, const char *rel, const char *text)
{
	_cleanup_free_ char *p = join(dir, rel);
	char *slash = strrchr(p, '/');

	*slash = '\0';
	assert_int_equal(mkdir_p(p, 0755), 0);
	*slash = '/';
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

/* Every entry under dir with type, size, mtime and contents, sorted by readdir order of names. */
static void snapshot_dir(struct strbuf *sb, const char *dir, const char *rel)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort);

	assert_true(n >= 0);
	for (int i = 0; i < n; i++) {
		_cleanup_free_ char *p = NULL, *r = NULL;
		struct stat st;

		if (streq(names[i]->d_name, ".") || streq(names[i]->d_name, "..")) {
			free(names[i]);
			continue;
		}
		p = join(dir, names[i]->d_name);
		r = join(rel, names[i]->d_name);
		free(names[i]);
		assert_int_equal(lstat(p, &st), 0);
		strbuf_addf(sb, "%s %o %lld %lld.%09ld\n", r, st.st_mode, (long long)st.st_size,
			    (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
		if (S_ISDIR(st.st_mode)) {
			snapshot_dir(sb, p, r);
		} else {
			_cleanup_free_ char *buf = NULL;
			size_t len;

			assert_true(S_ISREG(st.st_mode));
			assert_int_equal(read_file_bounded(p, 1 << 20, &buf, &len), 0);
			strbuf_add(sb, buf, len);
		}
	}
	free(names);
}

static char *snapshot(const char *dir)
{
	struct strbuf sb;

	strbuf_init(&sb, 0);
	snapshot_dir(&sb, dir, ".");
	return strbuf_detach(&sb, NULL);
}

static void assert_pristine(const struct fixture *f)
{
	_cleanup_free_ char *now = snapshot(f->src);

	assert_string_equal(now, f->snapshot);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = test_tmpdir_new();
	f->src = join(f->dir, "src");
	f->build = join(f->dir, "build");
	f->work = join(f->dir, "work");
	write_text(f->src, "Makefile", makefile);
	write_text(f->src, "include/lib.h", lib_h);
	write_text(f->src, "drv/x.c", x_c);
	write_text(f->src, "drv/Makefile", "obj-y += x.o\n");
	write_text(f->src, "mod/m.c", m_c);
	write_text(f->src, "kernel/livepatch/core.c", "int klp_x;\n");
	write_text(f->src, "arch/entry.S", entry_s);
	write_text(f->src, "tools/README", "tools\n");
	write_text(f->build, ".config", "CONFIG_X=y\n");
	f->snapshot = snapshot(f->src);
	f->o = (struct patch_analyse_options){ .source_dir = f->src, .build_dir = f->build,
					       .work_dir = f->work, .patches = f->patches,
					       .timeout_s = 60 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_tmpdir_remove(f->dir);
	free(f->src);
	free(f->build);
	free(f->work);
	free(f->snapshot);
	for (size_t i = 0; i < ARRAY_SIZE(f->patches); i++)
		free(f->patches[i]);
	free(f);
	return 0;
}

/* Writes the patches as work/../pN.patch and runs the analysis. */
static int analyse(struct fixture *f, const char *const *texts, size_t n,
		   struct patch_analysis **ret, char *err, size_t errsize)
{
	for (size_t i = 0; i < ARRAY_SIZE(f->patches); i++) {
		free(f->patches[i]);
		f->patches[i] = NULL;
	}
	for (size_t i = 0; i < n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "p%zu.patch", i);
		write_text(f->dir, name, texts[i]);
		f->patches[i] = join(f->dir, name);
	}
	err[0] = '\0';
	return patch_analyse(&f->o, ret, err, errsize);
}

static int analyse1(struct fixture *f, const char *text, struct patch_analysis **ret, char *err,
		    size_t errsize)
{
	return analyse(f, &text, 1, ret, err, errsize);
}

static const struct patch_file_analysis *find_file(const struct patch_analysis *a,
						   const char *path)
{
	for (size_t i = 0; i < a->n_files; i++)
		if (streq(a->files[i].path, path))
			return &a->files[i];
	fail_msg("no file '%s' in the analysis", path);
	return NULL;
}

static void test_body_change(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	_cleanup_free_ char *shadow_c = join(f->work, "shadow/drv/x.c"),
			    *shadow_mk = join(f->work, "shadow/drv/Makefile"),
			    *shadow_inc = join(f->work, "shadow/include"), *dump = NULL,
			    *orig_o = join(f->work, "orig/drv/x.o"),
			    *patched_o = join(f->work, "patched/drv/x.o");
	_cleanup_free_ char *work_abs = NULL, *expected = NULL;
	const struct patch_file_analysis *x;
	char err[1024];
	struct stat st;
	json_t *j;

	assert_int_equal(analyse1(f, patch_body, &a, err, sizeof(err)), 0);
	assert_pristine(f);
	assert_true(a->livepatchable);
	assert_int_equal(a->n_files, 1);
	x = find_file(a, "drv/x.c");
	assert_string_equal(x->object, "drv/x.o");
	assert_string_equal(x->objname, "vmlinux");
	work_abs = realpath(f->work, NULL);
	assert_non_null(work_abs);
	assert_true(asprintf(&expected, "%s/orig/drv/x.o", work_abs) > 0);
	assert_string_equal(x->orig_object, expected);
	free(expected);
	assert_true(asprintf(&expected, "%s/patched/drv/x.o", work_abs) > 0);
	assert_string_equal(x->patched_object, expected);
	assert_int_equal(strv_length(x->line_only), 0);
	assert_int_equal(strv_length(x->funcs_changed), 1);
	assert_string_equal(x->funcs_changed[0], "compute");
	assert_int_equal(strv_length(x->funcs_new), 0);
	assert_int_equal(strv_length(x->data_changed), 0);
	assert_int_equal(x->n_refusals, 0);

	/* the touched file is a real copy, its neighbours and the rest are links */
	assert_int_equal(lstat(shadow_c, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(lstat(shadow_mk, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(lstat(shadow_inc, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(orig_o, &st), 0);
	assert_int_equal(stat(patched_o, &st), 0);

	j = patch_analysis_to_json(a);
	assert_non_null(j);
	dump = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	free(expected);
	assert_true(asprintf(&expected,
			     "{\"files\":[{\"data\":{\"changed\":[],\"new\":[],\"removed\":[]},"
			     "\"functions\":{\"changed\":[\"compute\"],\"new\":[],\"removed\":[]},"
			     "\"line_only\":[],\"object\":\"drv/x.o\",\"objname\":\"vmlinux\","
			     "\"orig_object\":\"%s/orig/drv/x.o\","
			     "\"patched_object\":\"%s/patched/drv/x.o\",\"path\":\"drv/x.c\","
			     "\"refusals\":[]}],"
			     "\"ignored\":[],\"livepatchable\":true}",
			     work_abs, work_abs) > 0);
	assert_string_equal(dump, expected);

	/* a second run over the same work directory starts afresh */
	a = patch_analysis_free(a);
	assert_int_equal(analyse1(f, patch_body, &a, err, sizeof(err)), 0);
	assert_true(a->livepatchable);
	assert_pristine(f);
}

static void test_new_function(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *x;
	char err[1024];

	assert_int_equal(analyse1(f, patch_new_func, &a, err, sizeof(err)), 0);
	assert_pristine(f);
	x = find_file(a, "drv/x.c");
	assert_int_equal(strv_length(x->funcs_new), 1);
	assert_string_equal(x->funcs_new[0], "added");
	assert_int_equal(strv_length(x->funcs_changed), 0);
	assert_int_equal(x->n_refusals, 0);
	assert_true(a->livepatchable);
}

static void test_changed_global(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *x;
	char err[1024];

	assert_int_equal(analyse1(f, patch_global, &a, err, sizeof(err)), 0);
	assert_pristine(f);
	x = find_file(a, "drv/x.c");
	assert_true(strv_contains(x->data_changed, "counter"));
	assert_int_equal(x->n_refusals, 1);
	assert_string_equal(x->refusals[0].what, "counter");
	assert_string_equal(x->refusals[0].reason, "existing data changed");
	assert_false(a->livepatchable);
}

static void test_no_code_change(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *x;
	char err[1024];

	assert_int_equal(analyse1(f, patch_comment, &a, err, sizeof(err)), 0);
	assert_pristine(f);
	x = find_file(a, "drv/x.c");
	assert_int_equal(x->n_refusals, 1);
	assert_string_equal(x->refusals[0].reason,
			    "no change in compiled code (only __LINE__ values moved)");
	assert_int_equal(strv_length(x->line_only), 1);
	assert_string_equal(x->line_only[0], "where");
	assert_false(a->livepatchable);
}

static void test_lines_moved_and_body(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *x;
	char err[1024];

	assert_int_equal(analyse1(f, patch_lines_and_body, &a, err, sizeof(err)), 0);
	assert_pristine(f);
	x = find_file(a, "drv/x.c");
	assert_int_equal(strv_length(x->funcs_changed), 1);
	assert_string_equal(x->funcs_changed[0], "compute");
	assert_int_equal(strv_length(x->line_only), 1);
	assert_string_equal(x->line_only[0], "where");
	/* the map is what patch did: line 19 (where's __LINE__) is now 21 */
	assert_true(x->n_lines > 46);
	assert_int_equal(x->line_map[1], 1);
	assert_int_equal(x->line_map[7], 0);
	assert_int_equal(x->line_map[19], 21);
	assert_int_equal(x->n_refusals, 0);
	assert_true(a->livepatchable);
}

static void test_header_refused(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *h;
	_cleanup_free_ char *shadow_h = join(f->work, "shadow/include/lib.h"), *text = NULL;
	char err[1024];
	size_t len;

	assert_int_equal(analyse1(f, patch_header, &a, err, sizeof(err)), 0);
	assert_pristine(f);
	h = find_file(a, "include/lib.h");
	assert_null(h->object);
	assert_int_equal(h->n_refusals, 1);
	assert_non_null(strstr(h->refusals[0].reason, "header changes are not supported"));
	assert_non_null(strstr(h->refusals[0].reason, "cannot all be found"));
	assert_false(a->livepatchable);
	/* applied to the copy, not to the pristine header */
	assert_int_equal(read_file_bounded(shadow_h, 1 << 20, &text, &len), 0);
	assert_non_null(strstr(text, "helper2"));
}

static void test_asm_tools_new_file(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *s, *y;
	char err[1024];

	assert_int_equal(analyse1(f, patch_asm_and_tools, &a, err, sizeof(err)), 0);
	assert_pristine(f);
	assert_int_equal(a->n_files, 2);
	s = find_file(a, "arch/entry.S");
	assert_non_null(strstr(s->refusals[0].reason, "assembly changes are not supported"));
	assert_null(s->object);
	y = find_file(a, "drv/y.c");
	assert_string_equal(y->refusals[0].reason, "new source files are not supported yet");
	assert_int_equal(strv_length(a->ignored), 1);
	assert_string_equal(a->ignored[0], "tools/README");
	assert_false(a->livepatchable);
}

static void test_struct_layout(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *x;
	char err[1024];

	assert_int_equal(analyse1(f, patch_struct, &a, err, sizeof(err)), 0);
	assert_pristine(f);
	x = find_file(a, "drv/x.c");
	assert_true(strv_contains(x->funcs_changed, "sum"));
	assert_int_equal(x->n_refusals, 1);
	assert_string_equal(x->refusals[0].what, "struct st");
	assert_string_equal(x->refusals[0].reason, "struct st layout changed (size 8 -> 12, member "
				    "'a' moved from +0 to +4)");
	assert_false(a->livepatchable);
}

static void test_exit_function(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *x;
	char err[1024];

	assert_int_equal(analyse1(f, patch_exit, &a, err, sizeof(err)), 0);
	x = find_file(a, "drv/x.c");
	assert_true(strv_contains(x->funcs_changed, "bye"));
	assert_int_equal(x->n_refusals, 1);
	assert_string_equal(x->refusals[0].what, "bye");
	assert_non_null(strstr(x->refusals[0].reason, "__exit function changed"));
	assert_false(a->livepatchable);
}

static void test_static_local_lost(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *x;
	char err[1024];

	assert_int_equal(analyse1(f, patch_moved_static, &a, err, sizeof(err)), 0);
	x = find_file(a, "drv/x.c");
	assert_true(strv_contains(x->data_removed, "state.1"));
	assert_true(strv_contains(x->data_new, "state.4"));
	assert_int_equal(x->n_refusals, 1);
	assert_string_equal(x->refusals[0].what, "state.4");
	assert_string_equal(x->refusals[0].reason,
			    "static local 'state' cannot be matched to the running kernel's "
			    "'state.1' (its functions changed): the patch would start from a "
			    "fresh copy");
	assert_false(a->livepatchable);
}

static void test_switch_table(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *x;
	char err[1024];

	assert_int_equal(analyse1(f, patch_switch, &a, err, sizeof(err)), 0);
	x = find_file(a, "drv/x.c");
	/* pick()'s code is the same; its table is not */
	assert_true(strv_contains(x->funcs_changed, "pick"));
	assert_int_equal(strv_length(x->data_changed), 1);
	assert_int_equal(strncmp(x->data_changed[0], "CSWTCH.", 7), 0);
	assert_int_equal(x->n_refusals, 1);
	assert_string_equal(x->refusals[0].what, x->data_changed[0]);
	assert_non_null(strstr(x->refusals[0].reason, "per-site data"));
	assert_false(a->livepatchable);
}

static void test_module_object(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	_cleanup_(elf_object_freep) struct elf_object *o = NULL, *p = NULL;
	const struct patch_file_analysis *m;
	struct patch_file_analysis none = { .path = (char *)"none.c" };
	char err[1024];

	assert_int_equal(analyse1(f, patch_module, &a, err, sizeof(err)), 0);
	m = find_file(a, "mod/m.c");
	assert_string_equal(m->objname, "mymod");
	assert_string_equal(m->funcs_changed[0], "mfunc");
	assert_true(a->livepatchable);
	/* the saved objects, correlated, for the module writer */
	assert_int_equal(patch_file_open_objects(m, &o, &p, err, sizeof(err)), 0);
	assert_non_null(o);
	assert_non_null(p);
	assert_int_equal(patch_file_open_objects(&none, &o, &p, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "none.c"));
}

static void test_ftrace_core_refused(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const struct patch_file_analysis *c;
	char err[1024];

	assert_int_equal(analyse1(f, patch_core, &a, err, sizeof(err)), 0);
	assert_pristine(f);
	c = find_file(a, "kernel/livepatch/core.c");
	assert_null(c->object);
	assert_null(c->objname);
	assert_int_equal(c->n_refusals, 1);
	assert_non_null(strstr(c->refusals[0].reason, "livepatch core cannot be livepatched"));
	assert_false(a->livepatchable);
}

static void test_two_patches(void **state)
{
	struct fixture *f = *state;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	const char *texts[] = { patch_body, patch_new_func };
	const struct patch_file_analysis *x;
	char err[1024];

	assert_int_equal(analyse(f, texts, 2, &a, err, sizeof(err)), 0);
	assert_pristine(f);
	assert_int_equal(a->n_files, 1);
	x = find_file(a, "drv/x.c");
	assert_string_equal(x->funcs_changed[0], "compute");
	assert_string_equal(x->funcs_new[0], "added");
	assert_true(a->livepatchable);
}

static void test_does_not_apply(void **state)
{
	struct fixture *f = *state;
	struct patch_analysis *a = NULL;
	char err[1024];

	assert_int_equal(analyse1(f, patch_bad, &a, err, sizeof(err)), -EIO);
	assert_null(a);
	assert_non_null(strstr(err, "does not apply"));
	assert_non_null(strstr(err, "FAILED"));
	assert_pristine(f);
}

static void test_already_applied(void **state)
{
	struct fixture *f = *state;
	struct patch_analysis *a = NULL;
	const char *texts[] = { patch_body, patch_body };
	char err[1024];

	/* the second copy would be reversed silently by --batch alone */
	assert_int_equal(analyse(f, texts, 2, &a, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "previously applied"));
	assert_pristine(f);
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;
	struct patch_analysis *a = NULL;
	char err[1024];

	assert_int_equal(analyse1(f, "just text\n", &a, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "no file changes"));
	assert_int_equal(analyse1(f, "--- a/../x.c\n+++ b/../x.c\n@@ -1 +1 @@\n-a\n+b\n", &a, err,
				  sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "leaves the tree"));
	assert_int_equal(analyse1(f, "--- a/drv/x.c\n+++ b/drv/x.c\n@@ -1,3 +1,3 @@\n-a\n", &a,
				  err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "hunk ends early"));
	/* "--- a/etc/passwd" inside a hunk is content: the file is drv/x.c, which does not match */
	assert_int_equal(analyse1(f, patch_tricky, &a, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "drv/x.c"));
	assert_pristine(f);
}

static void test_build_fails(void **state)
{
	struct fixture *f = *state;
	struct patch_analysis *a = NULL;
	static const char broken[] = "--- a/drv/x.c\n"
				     "+++ b/drv/x.c\n"
				     "@@ -10,3 +10,3 @@ int other(int a)\n"
				     " {\n"
				     "-\treturn a + 7;\n"
				     "+\treturn a + ;\n"
				     " }\n";
	char err[1024];

	assert_int_equal(analyse1(f, broken, &a, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "make drv/x.o (patched)"));
	assert_non_null(strstr(err, "error"));
	assert_pristine(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_body_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_function, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_global, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_code_change, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lines_moved_and_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_header_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_asm_tools_new_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_struct_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exit_function, setup, teardown),
		cmocka_unit_test_setup_teardown(test_static_local_lost, setup, teardown),
		cmocka_unit_test_setup_teardown(test_switch_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_module_object, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ftrace_core_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_patches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_does_not_apply, setup, teardown),
		cmocka_unit_test_setup_teardown(test_already_applied, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_fails, setup, teardown),
	};

	return TEST_MAIN(tests);
}
