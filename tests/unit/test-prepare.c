/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernel_prepare() without a kernel: each test makes a fake source tree whose
 * Makefile implements olddefconfig and modules_prepare by writing files (and,
 * steered by FAKE_* environment variables, by changing the config, failing
 * or sleeping), and fake compilers that print a version line.  make itself is
 * real, so the runner, the log and the deadline are exercised for real.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "fileio.h"
#include "prepare.h"
#include "strbuf.h"
#include "test-lib.h"

#define RELEASE "6.1.0-99-test"
#define CC_TEXT "fakecc (TuxTape test 1.0) 1.0"
#define CONFIG                                                                                     \
	"#\n# Linux/x86 6.1.190 Kernel Configuration\n#\n"                                         \
	"CONFIG_CC_VERSION_TEXT=\"" CC_TEXT "\"\n"                                                 \
	"CONFIG_X86_64=y\nCONFIG_X86=y\nCONFIG_MODULES=y\nCONFIG_LOCALVERSION=\"\"\n"             \
	"# CONFIG_DEBUG_FOO is not set\n"
#define SYMVERS                                                                                    \
	"0x4c9d28b0\tphys_base\tvmlinux\tEXPORT_SYMBOL\t\n"                                        \
	"0x039823de\tinit_uts_ns\tvmlinux\tEXPORT_SYMBOL_GPL\t\n"
#define SYSTEM_MAP "ffffffff81000000 T _text\nffffffff81000010 T startup_64\n"
#define PLACEHOLDER                                                                                \
	"ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n"
#define KALLSYMS                                                                                   \
	"ffffffff81000000 T _text\nffffffffc0a01000 t uvc_probe\t[uvcvideo]\n"
#define KALLSYMS_NO_ROOT "0000000000000000 T _text\n0000000000000000 t uvc_probe\t[uvcvideo]\n"

/*
 * The fake kbuild: runs are recorded in $FAKE_RUNS, olddefconfig leaves the
 * config alone unless FAKE_DRIFT asks for a change, modules_prepare writes
 * the generated header kbuild would.
 */
static const char makefile[] =
	"O ?= .\n"
	"olddefconfig:\n"
	"\t@echo \"olddefconfig $(ARCH) $(CC) $(KERNELRELEASE)\" >> $(FAKE_RUNS)\n"
	"\t@echo '  SYNC    include/config/auto.conf'\n"
	"\t@test \"$(FAKE_FAIL)\" != olddefconfig || "
	"{ echo 'scripts/kconfig/conf: error: the fake config broke' >&2; exit 1; }\n"
	"\t@test -z \"$(FAKE_DRIFT)\" || { echo 'CONFIG_FAKE_NEW=y' >> $(O)/.config; "
	"sed -i 's/^CONFIG_MODULES=y/# CONFIG_MODULES is not set/' $(O)/.config; }\n"
	"\t@test -z \"$(FAKE_SALT)\" || echo 'CONFIG_BUILD_SALT=\"\"' >> $(O)/.config\n"
	"modules_prepare:\n"
	"\t@echo \"modules_prepare $(ARCH) $(CC) $(KERNELRELEASE)\" >> $(FAKE_RUNS)\n"
	"\t@mkdir -p $(O)/include/generated\n"
	"\t@echo '#define UTS_RELEASE \"$(KERNELRELEASE)\"' > $(O)/include/generated/utsrelease.h\n"
	"\t@test \"$(FAKE_FAIL)\" != modules_prepare || { echo '  CC      arch/x86/foo.o'; "
	"echo 'arch/x86/foo.c:1:2: error: fake failure' >&2; "
	"echo 'make[2]: *** [scripts/Makefile.build:250: arch/x86/foo.o] Error 1' >&2; exit 2; }\n"
	"\t@test -z \"$(FAKE_SLEEP)\" || sleep $(FAKE_SLEEP)\n";

struct fixture {
	char *dir;
	char *src;
	char *data;
	char *runs;
	char *bin;
	struct prepare_options o;
	struct kernel_entry k;
};

static char *join(const char *a, const char *b)
{
	char *p = path_join(a, b);

	assert_non_null(p);
	return p;
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	assert_int_equal(write_file_atomic(path, text, strlen(text), mode), 0);
}

/* A compiler that prints line as its version. */
static char *fake_cc(struct fixture *f, const char *name, const char *line)
{
	_cleanup_free_ char *script = NULL;
	char *p = join(f->bin, name);

	assert_true(asprintf(&script, "#!/bin/sh\necho '%s'\necho 'Copyright (C) nobody'\n", line) >
		    0);
	write_text(p, script, 0755);
	return p;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	_cleanup_free_ char *mk = NULL, *cc = NULL, *path = NULL;

	assert_non_null(f);
	f->dir = test_tmpdir_new();
	f->src = join(f->dir, "src");
	f->data = join(f->dir, "data");
	f->runs = join(f->dir, "runs");
	f->bin = join(f->dir, "bin");
	assert_int_equal(mkdir_p(f->src, 0755), 0);
	assert_int_equal(mkdir_p(f->bin, 0755), 0);
	mk = join(f->src, "Makefile");
	write_text(mk, makefile, 0644);
	write_text(f->runs, "", 0644);
	cc = fake_cc(f, "fakecc", CC_TEXT);
	assert_int_equal(setenv("CC", cc, 1), 0);
	assert_int_equal(setenv("FAKE_RUNS", f->runs, 1), 0);
	assert_true(asprintf(&path, "%s:%s", f->bin, getenv("PATH") ?: "/usr/bin:/bin") > 0);
	assert_int_equal(setenv("PATH", path, 1), 0);
	f->o = (struct prepare_options){ .data_dir = f->data, .source_dir = f->src, .timeout_s = 60 };
	f->k = (struct kernel_entry){ .name = (char *)"test", .release = (char *)RELEASE,
				      .version = (char *)"6.1.190", .config = (char *)CONFIG };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	const char *path = getenv("PATH"), *colon = path ? strchr(path, ':') : NULL;

	if (colon)
		setenv("PATH", colon + 1, 1);
	unsetenv("CC");
	unsetenv("FAKE_RUNS");
	unsetenv("FAKE_DRIFT");
	unsetenv("FAKE_FAIL");
	unsetenv("FAKE_SLEEP");
	unsetenv("FAKE_SALT");
	test_tmpdir_remove(f->dir);
	free(f->src);
	free(f->data);
	free(f->runs);
	free(f->bin);
	free(f);
	return 0;
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;

	assert_int_equal(read_file_bounded(path, 1 << 20, &buf, &len), 0);
	return buf;
}

static size_t count_lines(const char *path)
{
	_cleanup_free_ char *text = slurp(path);
	size_t n = 0;

	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static char *state_path(const struct fixture *f)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/build/%s/prepare.json", f->data, f->k.name) > 0);
	return p;
}

static int prepare(struct fixture *f, struct prepare_result *r, char *err, size_t n)
{
	*r = (struct prepare_result){ 0 };
	err[0] = '\0';
	return kernel_prepare(&f->k, NULL, &f->o, r, err, n);
}

static void test_prepare_then_cached(void **state)
{
	struct fixture *f = *state;
	struct prepare_result r;
	_cleanup_free_ char *symvers = join(f->dir, "Module.symvers"), *cfg = NULL, *uts = NULL,
			    *obj_symvers = NULL, *log = NULL, *json_text = NULL, *want = NULL;
	char err[512], real[PATH_MAX];
	json_t *j;

	write_text(symvers, SYMVERS, 0644);
	f->o.symvers = symvers;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_false(r.cached);
	assert_false(r.cc_mismatch);
	assert_string_equal(r.cc, getenv("CC"));
	assert_string_equal(r.cc_version, CC_TEXT);
	assert_null(r.config_changes[0]);
	assert_non_null(r.symbol_table_note);
	assert_non_null(strstr(r.symbol_table_note, "linux-image-" RELEASE "-dbg"));
	assert_null(r.symbol_table);

	assert_true(asprintf(&want, "%s/build/test/obj", f->data) > 0);
	assert_string_equal(r.build_dir, want);
	cfg = join(r.build_dir, ".config");
	free(json_text);
	json_text = slurp(cfg);
	assert_string_equal(json_text, CONFIG);
	uts = join(r.build_dir, "include/generated/utsrelease.h");
	free(json_text);
	json_text = slurp(uts);
	assert_string_equal(json_text, "#define UTS_RELEASE \"" RELEASE "\"\n");
	obj_symvers = join(r.build_dir, "Module.symvers");
	free(json_text);
	json_text = slurp(obj_symvers);
	assert_string_equal(json_text, SYMVERS);
	assert_non_null(r.symvers_path);
	assert_true(exists(r.symvers_path));

	/* Both steps ran once, with ARCH, CC and KERNELRELEASE from the kernel. */
	free(json_text);
	json_text = slurp(f->runs);
	assert_non_null(strstr(json_text, "olddefconfig x86 "));
	assert_non_null(strstr(json_text, "modules_prepare x86 "));
	assert_non_null(strstr(json_text, RELEASE "\n"));
	assert_int_equal(count_lines(f->runs), 2);

	log = slurp(r.log_path);
	assert_non_null(strstr(log, "### make -C "));
	assert_non_null(strstr(log, "SYNC    include/config/auto.conf"));

	j = json_load_file(r.state_path, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kernel")), "test");
	assert_string_equal(json_string_value(json_object_get(j, "version")), "6.1.190");
	assert_string_equal(json_string_value(json_object_get(j, "cc_version")), CC_TEXT);
	assert_string_equal(json_string_value(json_object_get(j, "build_dir")), r.build_dir);
	assert_int_equal(strlen(json_string_value(json_object_get(j, "config_hash"))), 64);
	assert_non_null(json_string_value(json_object_get(j, "prepared_at")));
	assert_true(json_is_object(json_object_get(j, "symvers")));
	assert_true(json_is_null(json_object_get(j, "symbol_table")));
	assert_non_null(json_string_value(json_object_get(j, "symbol_table_note")));
	assert_non_null(realpath(f->src, real));
	assert_string_equal(json_string_value(json_object_get(j, "source_dir")), real);
	json_decref(j);
	prepare_result_release(&r);

	/* Prepared once: the same inputs return at once, make does not run. */
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_true(r.cached);
	assert_int_equal(count_lines(f->runs), 2);
	prepare_result_release(&r);
}

static void test_stale_redone(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *state_file = state_path(f), *cfg = NULL;
	struct prepare_result r;
	char err[512];

	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	cfg = join(r.build_dir, ".config");
	prepare_result_release(&r);
	assert_int_equal(count_lines(f->runs), 2);

	/* Another config: prepared again. */
	f->k.config = (char *)CONFIG "CONFIG_EXTRA=y\n";
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_false(r.cached);
	prepare_result_release(&r);
	assert_int_equal(count_lines(f->runs), 4);

	/* A tree without its state (an interrupted run) is redone. */
	assert_int_equal(unlink(state_file), 0);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_false(r.cached);
	prepare_result_release(&r);
	assert_int_equal(count_lines(f->runs), 6);

	/* So is one whose .config was edited behind our back. */
	write_text(cfg, CONFIG "CONFIG_EDITED=y\n", 0644);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_false(r.cached);
	prepare_result_release(&r);
	assert_int_equal(count_lines(f->runs), 8);

	/* And one from another kernel release. */
	f->k.release = (char *)"6.1.0-100-test";
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_false(r.cached);
	prepare_result_release(&r);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_true(r.cached);
	prepare_result_release(&r);
	assert_int_equal(count_lines(f->runs), 10);
}

static void test_config_drift(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *state_file = state_path(f);
	struct prepare_result r;
	char err[1024];

	assert_int_equal(setenv("FAKE_DRIFT", "1", 1), 0);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "make olddefconfig changed 2 options"));
	assert_non_null(strstr(err, "CONFIG_FAKE_NEW: (new) -> y"));
	assert_non_null(strstr(err, "CONFIG_MODULES: y -> n"));
	assert_false(exists(state_file));
	/* modules_prepare never ran. */
	assert_int_equal(count_lines(f->runs), 1);

	/* Forced: prepared, with the changes recorded and returned. */
	f->o.force = true;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_false(r.cached);
	assert_int_equal(strv_length(r.config_changes), 2);
	assert_string_equal(r.config_changes[0], "CONFIG_FAKE_NEW: (new) -> y");
	assert_string_equal(r.config_changes[1], "CONFIG_MODULES: y -> n");
	prepare_result_release(&r);

	/* The recorded drift still refuses an unforced caller, without running make. */
	f->o.force = false;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "CONFIG_MODULES: y -> n"));
	f->o.force = true;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_true(r.cached);
	assert_int_equal(strv_length(r.config_changes), 2);
	prepare_result_release(&r);
	assert_int_equal(count_lines(f->runs), 3);
}

/* Debian deletes build-only options from its installed config: their return is no drift. */
static void test_stripped_options(void **state)
{
	struct fixture *f = *state;
	struct prepare_result r;
	char err[1024];

	assert_int_equal(setenv("FAKE_SALT", "1", 1), 0);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_null(r.config_changes[0]);
	assert_int_equal(strv_length(r.warnings), 2);
	assert_non_null(strstr(r.warnings[1], "CONFIG_BUILD_SALT="));
	prepare_result_release(&r);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_true(r.cached);
	assert_int_equal(strv_length(r.warnings), 2);
	assert_non_null(strstr(r.warnings[1], "CONFIG_BUILD_SALT="));
	prepare_result_release(&r);

	/* A value the config does give must stay. */
	f->k.config = (char *)CONFIG "CONFIG_BUILD_SALT=\"6.1.0-99-test\"\n";
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "CONFIG_BUILD_SALT: 6.1.0-99-test -> "));
}

static void test_make_fails(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *state_file = state_path(f);
	struct prepare_result r;
	char err[1024];

	assert_int_equal(setenv("FAKE_FAIL", "modules_prepare", 1), 0);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "make modules_prepare: failed with exit status 2: "
				    "arch/x86/foo.c:1:2: error: fake failure"));
	assert_non_null(strstr(err, "prepare.log"));
	assert_false(exists(state_file));

	assert_int_equal(setenv("FAKE_FAIL", "olddefconfig", 1), 0);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "make olddefconfig: failed with exit status 2: "
				    "scripts/kconfig/conf: error: the fake config broke"));
	assert_false(exists(state_file));

	/* Fixed: the failed tree is redone, not trusted. */
	assert_int_equal(unsetenv("FAKE_FAIL"), 0);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_false(r.cached);
	assert_true(exists(state_file));
	prepare_result_release(&r);
}

static void test_timeout(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *state_file = state_path(f);
	struct prepare_result r;
	char err[512];

	assert_int_equal(setenv("FAKE_SLEEP", "30", 1), 0);
	f->o.timeout_s = 1;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -ETIMEDOUT);
	assert_non_null(strstr(err, "make modules_prepare: timed out after 1 s"));
	assert_false(exists(state_file));
}

static void test_cc_mismatch(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *other = fake_cc(f, "othercc", "fakecc (TuxTape test 2.0) 2.0");
	_cleanup_free_ char *state_file = state_path(f);
	struct prepare_result r;
	json_t *j;
	char err[512];

	assert_int_equal(setenv("CC", other, 1), 0);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "compiler mismatch"));
	assert_non_null(strstr(err, "'" CC_TEXT "'"));
	assert_non_null(strstr(err, "'fakecc (TuxTape test 2.0) 2.0'"));
	assert_int_equal(count_lines(f->runs), 0);
	assert_false(exists(state_file));

	f->o.force = true;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_true(r.cc_mismatch);
	assert_string_equal(r.cc_version, "fakecc (TuxTape test 2.0) 2.0");
	j = json_load_file(r.state_path, 0, NULL);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(j, "cc_mismatch")));
	json_decref(j);
	prepare_result_release(&r);

	/* A compiler that cannot run at all. */
	assert_int_equal(setenv("CC", "/nonexistent/cc", 1), 0);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "'/nonexistent/cc --version'"));
}

static void test_cc_names(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *renamed = fake_cc(f, "renamedcc", "renamedcc (TuxTape test 1.0) 1.0");
	_cleanup_free_ char *named = fake_cc(f, "tuxtape-test-cc-12", "tuxtape-test-cc-12 (X) 1.0");
	_cleanup_free_ char *config = NULL;
	struct prepare_result r;
	char err[512];

	/* The same compiler under another name is no mismatch. */
	assert_int_equal(setenv("CC", renamed, 1), 0);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_false(r.cc_mismatch);
	prepare_result_release(&r);

	/* Without CC, the compiler the config names is used when it is in PATH. */
	assert_int_equal(unsetenv("CC"), 0);
	assert_true(asprintf(&config, "%s%s", CONFIG,
			     "CONFIG_CC_VERSION_TEXT=\"tuxtape-test-cc-12 (X) 1.0\"\n") > 0);
	f->k.config = config;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_false(r.cc_mismatch);
	assert_string_equal(r.cc, "tuxtape-test-cc-12");
	assert_true(strv_contains(r.make_args, "CC=tuxtape-test-cc-12"));
	prepare_result_release(&r);
}

static void test_symbol_tables(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *map = join(f->dir, "System.map"), *ph = join(f->dir, "placeholder"),
			    *ks = join(f->dir, "kallsyms"), *ks0 = join(f->dir, "kallsyms0"),
			    *obj_map = NULL, *text = NULL, *target_map = NULL;
	struct prepare_result r;
	size_t runs;
	json_t *j;
	char err[512];

	write_text(map, SYSTEM_MAP, 0644);
	write_text(ph, PLACEHOLDER, 0644);
	write_text(ks, KALLSYMS, 0644);
	write_text(ks0, KALLSYMS_NO_ROOT, 0644);

	/* A real System.map goes into the O= tree and under target/. */
	f->k.system_map = map;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_string_equal(r.symbol_table_kind, "System.map");
	assert_null(r.symbol_table_note);
	obj_map = join(r.build_dir, "System.map");
	text = slurp(obj_map);
	assert_string_equal(text, SYSTEM_MAP);
	free(text);
	text = slurp(r.symbol_table);
	assert_string_equal(text, SYSTEM_MAP);
	prepare_result_release(&r);

	/*
	 * Debian's placeholder: no table, a note, unless kallsyms is given.  Only
	 * the table changes: it is swapped in the prepared tree, make does not run.
	 */
	runs = count_lines(f->runs);
	f->k.system_map = ph;
	assert_int_equal(prepare_needs_kallsyms(&f->k), 1);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_true(r.cached);
	assert_int_equal(count_lines(f->runs), runs);
	assert_null(r.symbol_table);
	assert_non_null(strstr(r.symbol_table_note, "no symbol table: install linux-image-"));
	assert_false(exists(obj_map));
	target_map = join(r.dir, "target/System.map");
	assert_false(exists(target_map));
	prepare_result_release(&r);

	f->o.kallsyms = ks;
	f->o.kallsyms_source = "vm";
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_true(r.cached);
	assert_int_equal(count_lines(f->runs), runs);
	assert_string_equal(r.symbol_table_kind, "kallsyms");
	assert_string_equal(r.symbol_table_source, "vm");
	assert_null(r.symbol_table_note);
	free(text);
	text = slurp(r.symbol_table);
	assert_string_equal(text, KALLSYMS);
	j = json_load_file(r.state_path, 0, NULL);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "symbol_table"),
							      "source")), "vm");
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "symbol_table"),
							      "kind")), "kallsyms");
	json_decref(j);
	prepare_result_release(&r);
	/* The same again: nothing to do. */
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_true(r.cached);
	assert_string_equal(r.symbol_table_kind, "kallsyms");
	prepare_result_release(&r);
	f->o.kallsyms_source = NULL;
	/* Without a label the file is the source. */
	assert_int_equal(prepare(f, &r, err, sizeof(err)), 0);
	assert_string_equal(r.symbol_table_source, ks);
	prepare_result_release(&r);

	/* A real System.map makes the kallsyms pointless; a missing one cannot be read. */
	f->k.system_map = map;
	assert_int_equal(prepare_needs_kallsyms(&f->k), 0);
	f->k.system_map = (char *)"/nonexistent/System.map";
	assert_int_equal(prepare_needs_kallsyms(&f->k), -ENOENT);
	f->k.system_map = NULL;
	assert_int_equal(prepare_needs_kallsyms(&f->k), 1);
	f->k.system_map = ph;

	f->o.kallsyms = ks0;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "read /proc/kallsyms as root"));

	f->o.kallsyms = ph;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EBADMSG);
	f->o.kallsyms = "/nonexistent/kallsyms";
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -ENOENT);
}

static void test_bad_inputs(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *bad = join(f->dir, "bad.symvers"), *empty = join(f->dir, "empty");
	struct prepare_result r;
	char err[512];

	f->k.name = (char *)"../escape";
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EINVAL);
	f->k.name = (char *)"";
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EINVAL);
	f->k.name = (char *)"test";

	f->k.config = (char *)"not a config\n";
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "config of kernel 'test'"));
	f->k.config = NULL;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EINVAL);
	/* The config argument wins over the registry's. */
	assert_int_equal(kernel_prepare(&f->k, CONFIG, &f->o, &r, err, sizeof(err)), 0);
	prepare_result_release(&r);
	f->k.config = (char *)CONFIG;

	f->o.source_dir = empty;
	assert_int_equal(mkdir_p(empty, 0755), 0);
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "is not a kernel source tree"));
	f->o.source_dir = f->src;

	write_text(bad, "phys_base 0x1234\n", 0644);
	f->o.symvers = bad;
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "line 1"));

	/* A config without CONFIG_CC_VERSION_TEXT cannot be checked. */
	f->o.symvers = NULL;
	f->k.config = (char *)"CONFIG_X86_64=y\nCONFIG_MODULES=y\n";
	assert_int_equal(prepare(f, &r, err, sizeof(err)), -EPROTO);
	assert_non_null(strstr(err, "no CONFIG_CC_VERSION_TEXT"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prepare_then_cached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_redone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_drift, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stripped_options, setup, teardown),
		cmocka_unit_test_setup_teardown(test_make_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cc_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cc_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symbol_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_inputs, setup, teardown),
	};

	return TEST_MAIN(tests);
}
