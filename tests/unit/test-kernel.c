/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "kbuild.h"
#include "kconfig.h"
#include "profile-build-dir.h"
#include "profile-debuginfo.h"
#include "profile-dry-run.h"
#include "profile-list.h"
#include "profile.h"
#include "strbuf.h"
#include "test-lib.h"

/* Helpers. */

static void write_text(const char *dir, const char *rel, const char *text)
{
	_cleanup_free_ char *path = path_join(dir, rel), *parent = NULL;
	char *slash;

	assert_non_null(path);
	parent = strdup(path);
	slash = strrchr(parent, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p(parent, 0755), 0);
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static void write_textf(const char *dir, const char *rel, const char *fmt, ...) _printf_(3, 4);
static void write_textf(const char *dir, const char *rel, const char *fmt, ...)
{
	_cleanup_strbuf_ struct strbuf sb;
	va_list ap;

	strbuf_init(&sb, 0);
	va_start(ap, fmt);
	assert_int_equal(strbuf_vaddf(&sb, fmt, ap), 0);
	va_end(ap);
	write_text(dir, rel, sb.buf);
}

static void run_shell(const char *fmt, ...) _printf_(1, 2);
static void run_shell(const char *fmt, ...)
{
	_cleanup_strbuf_ struct strbuf sb;
	va_list ap;

	strbuf_init(&sb, 0);
	va_start(ap, fmt);
	assert_int_equal(strbuf_vaddf(&sb, fmt, ap), 0);
	va_end(ap);
	if (system(sb.buf) != 0)
		fail_msg("command failed: %s", sb.buf);
}

static void print_profile(const struct kernel_profile *p)
{
	size_t state = 0;
	unsigned flags;
	const char *path;

	while ((path = kernel_profile_next(p, &state, &flags)))
		print_message("#   %#x %s\n", flags, path);
}

static void assert_flags(const struct kernel_profile *p, const char *path, unsigned flags)
{
	unsigned got = kernel_profile_lookup(p, path);

	if (got != flags) {
		print_profile(p);
		fail_msg("'%s': flags %#x, expected %#x", path, got, flags);
	}
}

static void assert_mentions(const char *msg, const char *what)
{
	if (!strstr(msg, what))
		fail_msg("message '%s' does not mention '%s'", msg, what);
}

/* kconfig */

static void test_kconfig_good(void **state)
{
	_cleanup_(kconfig_freep) struct kconfig *c = NULL;
	_cleanup_free_ char *path = test_data_path("kernel/kconfig-x86_64.config");
	char err[256] = "";

	assert_int_equal(kconfig_read_file(path, &c, err, sizeof(err)), 0);
	assert_string_equal(kconfig_get(c, "CONFIG_X86_64"), "y");
	assert_string_equal(kconfig_get(c, "CONFIG_E1000E"), "m");
	assert_string_equal(kconfig_get(c, "CONFIG_COMPILE_TEST"), "n");
	assert_string_equal(kconfig_get(c, "CONFIG_GCC_VERSION"), "120200");
	assert_string_equal(kconfig_get(c, "CONFIG_PHYSICAL_START"), "0x1000000");
	assert_string_equal(kconfig_get(c, "CONFIG_NODES_SHIFT"), "-1");
	assert_string_equal(kconfig_get(c, "CONFIG_CMDLINE"),
			    "console=ttyS0 quiet msg=\"hello\" path=C:\\boot");
	assert_null(kconfig_get(c, "CONFIG_NOT_THERE"));
	assert_null(kconfig_get(c, "General"));
	assert_int_equal(kconfig_count(c), 24);
	assert_string_equal(kconfig_cc_version_text(c), "gcc-12 (Debian 12.2.0-14) 12.2.0");
	assert_string_equal(kconfig_localversion(c), "");
	assert_string_equal(kconfig_arch(c), "x86_64");
	assert_string_equal(kconfig_srcarch(c), "x86");
	{
		size_t st = 0, n = 0;
		const char *name, *value;

		while ((name = kconfig_next(c, &st, &value))) {
			assert_non_null(value);
			n++;
		}
		assert_int_equal(n, 24);
	}
}

static void test_kconfig_variants(void **state)
{
	static const char arm64[] = "CONFIG_LOCALVERSION=\"-tux\"\r\nCONFIG_ARM64=y\r\n"
				    "CONFIG_X=y\nCONFIG_X=m\n";
	static const char ppc[] = "CONFIG_PPC64=y\nCONFIG_CPU_LITTLE_ENDIAN=y\nCONFIG_PPC=y\n";
	static const char none[] = "# CONFIG_X86_64 is not set\nCONFIG_FOO=n\n";
	struct kconfig *c = NULL;

	assert_int_equal(kconfig_parse(arm64, strlen(arm64), &c, NULL, 0), 0);
	assert_string_equal(kconfig_arch(c), "aarch64");
	assert_string_equal(kconfig_srcarch(c), "arm64");
	assert_string_equal(kconfig_localversion(c), "-tux");
	assert_string_equal(kconfig_get(c, "CONFIG_X"), "m"); /* last one wins */
	assert_null(kconfig_cc_version_text(c));
	c = kconfig_free(c);

	assert_int_equal(kconfig_parse(ppc, strlen(ppc), &c, NULL, 0), 0);
	assert_string_equal(kconfig_arch(c), "ppc64le");
	c = kconfig_free(c);

	assert_int_equal(kconfig_parse(none, strlen(none), &c, NULL, 0), 0);
	assert_null(kconfig_arch(c));
	assert_string_equal(kconfig_get(c, "CONFIG_X86_64"), "n");
	assert_string_equal(kconfig_get(c, "CONFIG_FOO"), "n");
	kconfig_free(c);
}

static void kconfig_fails(const char *buf, size_t len, int err, const char *reason)
{
	struct kconfig *sentinel = (struct kconfig *)&sentinel, *c = sentinel;
	char msg[256] = "";

	assert_int_equal(kconfig_parse(buf, len, &c, msg, sizeof(msg)), err);
	assert_ptr_equal(c, sentinel);
	assert_mentions(msg, reason);
}

static void test_kconfig_bad(void **state)
{
	static const char elf[] = "\177ELF\2\1\1\0\0\0\0\0\0\0\0\0\3\0>\0\1\0\0\0";
	static const char json[] = "{\n  \"CONFIG_X\": \"y\"\n}\n";
	static const char bad_value[] = "CONFIG_A=y\n\nCONFIG_B=maybe\n";
	static const char hex_no_prefix[] = "CONFIG_A=y\nCONFIG_B=deadbeef\n";
	static const char unterminated[] = "CONFIG_A=y\nCONFIG_B=\"abc\n";
	static const char junk_after[] = "CONFIG_A=\"abc\" x\n";
	static const char comments_only[] = "# just a comment\n\n# CONFIG_ but not a setting\n";
	static const char spaced[] = "CONFIG_A = y\n";
	static const char not_set_junk[] = "CONFIG_A=y\n# CONFIG_B is not set really\nfoo\n";
	_cleanup_free_ char *big = malloc(KCONFIG_MAX_SIZE + 1);
	_cleanup_free_ char *self = NULL;
	size_t self_len;

	kconfig_fails(elf, sizeof(elf) - 1, -EBADMSG, "line 1: binary data");
	kconfig_fails(json, strlen(json), -EBADMSG, "line 1: expected 'CONFIG_NAME=value'");
	kconfig_fails(bad_value, strlen(bad_value), -EBADMSG, "line 3: invalid value 'maybe'");
	kconfig_fails(hex_no_prefix, strlen(hex_no_prefix), -EBADMSG, "line 2: invalid value");
	kconfig_fails(unterminated, strlen(unterminated), -EBADMSG, "line 2: unterminated string");
	kconfig_fails(junk_after, strlen(junk_after), -EBADMSG, "line 1: unterminated string");
	kconfig_fails(comments_only, strlen(comments_only), -EBADMSG, "no CONFIG_ lines");
	kconfig_fails("", 0, -EBADMSG, "no CONFIG_ lines");
	kconfig_fails(spaced, strlen(spaced), -EBADMSG, "line 1:");
	kconfig_fails(not_set_junk, strlen(not_set_junk), -EBADMSG, "line 3:");
	kconfig_fails("CONFIG_A=y\nCONFIG_B=\0y\n", 21, -EBADMSG, "line 2: binary data");

	assert_non_null(big);
	memset(big, '#', KCONFIG_MAX_SIZE + 1);
	kconfig_fails(big, KCONFIG_MAX_SIZE + 1, -EFBIG, "larger");

	/* A real ELF file: this test binary. */
	assert_int_equal(read_file_bounded("/proc/self/exe", 0, &self, &self_len), 0);
	kconfig_fails(self, self_len, -EBADMSG, "line 1: binary data");

	{
		struct kconfig *c = NULL;
		char msg[256] = "";

		assert_int_equal(kconfig_read_file("/nonexistent/.config", &c, msg, sizeof(msg)),
				 -ENOENT);
		assert_null(c);
	}
}

/* list */

static void test_list_good(void **state)
{
	static const char list[] = "# build profile of 6.1.76\n"
				   "kernel/fork.c\n"
				   "\n"
				   "drivers/media/usb/uvc/uvc_driver.c\tmodule   # the webcam\n"
				   "  include/linux/sched.h header\r\n"
				   "./fs/ext4//inode.c builtin\n"
				   "include/dt-bindings/clock/qcom,gcc-sdm845.h header\n"
				   "kernel/fork.c header\n"
				   "net/core/dev.c";
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_LIST, true);
	char err[256] = "";

	assert_int_equal(kernel_profile_parse_list(p, list, strlen(list), err, sizeof(err)), 0);
	assert_int_equal(kernel_profile_count(p), 6);
	assert_flags(p, "kernel/fork.c", PROFILE_BUILTIN | PROFILE_HEADER);
	assert_flags(p, "drivers/media/usb/uvc/uvc_driver.c", PROFILE_MODULE);
	assert_flags(p, "include/linux/sched.h", PROFILE_HEADER);
	assert_flags(p, "fs/ext4/inode.c", PROFILE_BUILTIN);
	assert_flags(p, "include/dt-bindings/clock/qcom,gcc-sdm845.h", PROFILE_HEADER);
	assert_flags(p, "net/core/dev.c", PROFILE_BUILTIN);
}

static void list_fails(const char *list, int err, const char *reason)
{
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_LIST, true);
	char msg[256] = "";

	assert_int_equal(kernel_profile_parse_list(p, list, strlen(list), msg, sizeof(msg)), err);
	assert_mentions(msg, reason);
}

static void test_list_bad(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *path = NULL;
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_LIST, true);
	char msg[256] = "";

	list_fails("kernel/fork.c\nmm/slub.c\nfs/super.c modular\n", -EBADMSG,
		   "line 3: unknown kind 'modular'");
	list_fails("kernel/fork.c builtin extra\n", -EBADMSG, "line 1: too many fields");
	list_fails("# ok\n/usr/src/linux/kernel/fork.c\n", -EBADMSG,
		   "line 2: '/usr/src/linux/kernel/fork.c' is absolute");
	list_fails("../linux/kernel/fork.c\n", -EBADMSG,
		   "line 1: '../linux/kernel/fork.c' is absolute or leaves");
	list_fails("{\n  \"files\": []\n}\n", -EBADMSG, "line 1: '{' is not a source path");
	list_fails("kernel/fork.c\n\177ELF\2\1\1\n", -EBADMSG, "line 2: binary data");

	path = path_join(dir, "list");
	write_text(dir, "list", "kernel/fork.c\nfs/namei.c module\n");
	assert_int_equal(kernel_profile_read_list(p, path, msg, sizeof(msg)), 0);
	assert_flags(p, "fs/namei.c", PROFILE_MODULE);
	assert_int_equal(kernel_profile_read_list(p, "/nonexistent/list", msg, sizeof(msg)),
			 -ENOENT);
	test_tmpdir_remove(TAKE_PTR(dir));
}

/* kbuild helpers */

static void assert_normalized(const char *base, const char *path, const char *want)
{
	_cleanup_free_ char *got = kbuild_path_normalize(base, path);

	assert_non_null(got);
	assert_string_equal(got, want);
}

static int count_compiles(size_t argc, char **argv, void *userdata)
{
	struct kbuild_compile c;
	size_t *n = userdata;

	if (kbuild_compile_parse(argc, argv, &c)) {
		assert_string_equal(c.source, "a b.c");
		assert_string_equal(c.output, "x.o");
		assert_true(c.module);
		assert_true(c.kernel);
		assert_string_equal(c.kconfig_h, "/s/include/linux/kconfig.h");
		(*n)++;
	}
	return 0;
}

static void test_kbuild_helpers(void **state)
{
	static const char cmd[] =
		"set -e; echo '  CC [M]  x.o'; FOO=1 ccache x86_64-linux-gnu-gcc-12 -D__KERNEL__ "
		"-include /s/include/linux/kconfig.h -I dir -DKBUILD_MODNAME='\"a\"' -DMODULE -c "
		"-o x.o \"a b.c\" && fixdep x.d x.o 'gcc -D__KERNEL__ -c -o x.o a.c' > .x.o.cmd\n"
		"# gcc -D__KERNEL__ -c -o y.o y.c\n"
		"sh -c 'gcc -c -o z.o z.c'";
	struct kbuild_roots roots = {};
	size_t n = 0;
	char *rel = NULL;

	assert_int_equal(kbuild_shell_foreach(cmd, strlen(cmd), count_compiles, &n), 0);
	assert_int_equal(n, 1);

	assert_normalized(NULL, "/a/b/../c/./d//e/", "/a/c/d/e");
	assert_normalized(NULL, "/..", "/");
	assert_normalized(NULL, "../../x/../y", "../../y");
	assert_normalized("/obj", "../src/kernel/fork.c", "/src/kernel/fork.c");
	assert_normalized(NULL, "./", ".");
	assert_normalized("rel", "..", ".");

	assert_int_equal(kbuild_roots_add(&roots, "/src"), 0);
	assert_int_equal(kbuild_roots_add(&roots, "/src/build"), 0);
	assert_int_equal(kbuild_roots_add(&roots, "/src/"), 0);
	assert_int_equal(kbuild_roots_add(&roots, "relative"), -EINVAL);
	assert_int_equal(roots.n, 2);
	assert_int_equal(
		kbuild_relativize(&roots, "/src/build", "include/generated/autoconf.h", &rel), 1);
	assert_string_equal(rel, "include/generated/autoconf.h");
	free(rel);
	assert_int_equal(kbuild_relativize(&roots, "/src/build", "../kernel/fork.c", &rel), 1);
	assert_string_equal(rel, "kernel/fork.c");
	free(rel);
	assert_int_equal(kbuild_relativize(&roots, "/src/build", "/usr/include/stdio.h", &rel), 0);
	assert_int_equal(kbuild_relativize(&roots, "/src/build", "/src", &rel), 0);
	assert_int_equal(kbuild_relativize(&roots, NULL, "./a/../b.c", &rel), 1);
	assert_string_equal(rel, "b.c");
	free(rel);
	assert_int_equal(kbuild_relativize(&roots, "x", "../../b.c", &rel), 0);
	kbuild_roots_release(&roots);

	rel = kbuild_srctree_from_kconfig_h("./include/linux/kconfig.h");
	assert_string_equal(rel, ".");
	free(rel);
	rel = kbuild_srctree_from_kconfig_h("include/linux/kconfig.h");
	assert_string_equal(rel, ".");
	free(rel);
	rel = kbuild_srctree_from_kconfig_h("/s/linux/include/linux/kconfig.h");
	assert_string_equal(rel, "/s/linux");
	free(rel);
	assert_null(kbuild_srctree_from_kconfig_h("/s/myinclude/linux/kconfig.h"));

	assert_true(kbuild_source_wanted("kernel/fork.c"));
	assert_false(kbuild_source_wanted("scripts/mod/empty.c"));
	assert_false(kbuild_source_wanted("drivers/foo/foo.mod.c"));
	assert_false(kbuild_source_wanted(".vmlinux.export.c"));
}

/* build directory */

/* One .o.cmd in kbuild's format; prefix is "cmd_" or "savedcmd_"; deps are "\n"-separated. */
static void write_cmd_file(const char *tree, const char *prefix, const char *obj, const char *src,
			   const char *srctree, bool module, const char *deps)
{
	_cleanup_strbuf_ struct strbuf sb;
	_cleanup_free_ char *inc = NULL, *rel = NULL, *dir = strdup(obj);
	char *slash = strrchr(dir, '/'), *base = slash + 1;
	const char *d;

	*slash = '\0';
	strbuf_init(&sb, 0);
	assert_true(asprintf(&inc,
			     "-nostdinc -I%s/arch/x86/include -I./arch/x86/include/generated "
			     "-I%s/include "
			     "-I./include -include %s/include/linux/compiler-version.h -include "
			     "%s/include/linux/kconfig.h -D__KERNEL__",
			     srctree, srctree, srctree, srctree) > 0);
	strbuf_addf(&sb,
		    "%s%s := gcc -Wp,-MMD,%s/.%s.d %s -O2 -fno-strict-aliasing%s "
		    "-DKBUILD_BASENAME='\"%.*s\"' -DKBUILD_MODNAME='\"%.*s\"' -c -o %s %s  ; "
		    "./tools/objtool/objtool --hacks=jump_label --orc %s\n\n",
		    prefix, obj, dir, base, inc, module ? " -DMODULE " : "", (int)strlen(base) - 2,
		    base, (int)strlen(base) - 2, base, obj, src, obj);
	strbuf_addf(&sb, "source_%s := %s\n\ndeps_%s := \\\n", obj, src, obj);
	for (d = deps; d && *d;) {
		size_t n = strcspn(d, "\n");

		strbuf_addf(&sb, "  %.*s \\\n", (int)n, d);
		strbuf_addf(&sb, "    $(wildcard include/config/SOME_OPTION) \\\n");
		d += n + (d[n] == '\n');
	}
	strbuf_addf(&sb, "\n%s: $(deps_%s)\n\n$(deps_%s):\n", obj, obj, obj);
	assert_true(asprintf(&rel, "%s/.%s.cmd", dir, base) > 0);
	write_text(tree, rel, sb.buf);
}

static void test_build_dir_in_tree(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *tree = NULL, *real = NULL;
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_BUILD_DIR, true);
	struct kernel_build_dir_stats st;
	char err[256] = "";

	tree = path_join(dir, "linux");
	assert_int_equal(mkdir_p(tree, 0755), 0);
	real = realpath(tree, NULL);
	assert_non_null(real);
	/* Built in, relative paths as an in-tree build writes them. */
	write_cmd_file(tree, "cmd_", "kernel/fork.o", "kernel/fork.c", ".", false,
		       "include/linux/compiler-version.h\ninclude/linux/kconfig.h\n"
		       "include/linux/sched.h\narch/x86/include/asm/current.h\n"
		       "/usr/lib/gcc/x86_64-linux-gnu/12/include/stdarg.h\n"
		       "include/generated/autoconf.h\nkernel/../include/linux/mm.h");
	/* Module by -DMODULE. */
	write_cmd_file(tree, "cmd_", "drivers/foo/bar.o", "drivers/foo/bar.c", ".", true,
		       "include/linux/module.h\ndrivers/foo/bar.h");
	/* Included .c files are compiled into the includer. */
	write_cmd_file(tree, "cmd_", "kernel/sched/build_policy.o", "kernel/sched/build_policy.c",
		       ".", false, "kernel/sched/sched.h\nkernel/sched/rt.c\nkernel/sched/idle.c");
	/* Module only because foo.mod lists it (no -DMODULE in its command). */
	write_cmd_file(tree, "cmd_", "drivers/foo/baz.o", "drivers/foo/baz.c", ".", false,
		       "include/linux/module.h");
	write_text(tree, "drivers/foo/foo.mod", "drivers/foo/bar.o\ndrivers/foo/baz.o\n");
	/* The composite object's link, the generated stub and a host program: not sources. */
	write_text(tree, "drivers/foo/.foo.o.cmd",
		   "cmd_drivers/foo/foo.o := ld -m elf_x86_64 -r -o drivers/foo/foo.o "
		   "@drivers/foo/foo.mod\n");
	write_cmd_file(tree, "cmd_", "drivers/foo/foo.mod.o", "drivers/foo/foo.mod.c", ".", true,
		       "include/linux/module.h");
	write_text(tree, "scripts/kconfig/.conf.o.cmd",
		   "cmd_scripts/kconfig/conf.o := gcc -Wp,-MMD,scripts/kconfig/.conf.o.d -Wall "
		   "-O2 -c -o scripts/kconfig/conf.o scripts/kconfig/conf.c\n\n"
		   "source_scripts/kconfig/conf.o := scripts/kconfig/conf.c\n\n"
		   "deps_scripts/kconfig/conf.o := \\\n  scripts/kconfig/lkc.h \\\n\n");
	/* Old format: no source_ line, the source is the first deps_ entry. */
	write_text(tree, "lib/.crc32.o.cmd",
		   "cmd_lib/crc32.o := gcc -Wp,-MD,lib/.crc32.o.d  -nostdinc -D__KERNEL__ "
		   "-include include/linux/autoconf.h -O2 -D\"KBUILD_STR(s)=#s\" "
		   "-D\"KBUILD_BASENAME=KBUILD_STR(crc32)\"  -c -o lib/crc32.o lib/crc32.c\n\n"
		   "deps_lib/crc32.o := \\\n  lib/crc32.c \\\n    $(wildcard "
		   "include/config/crc32.h) \\\n"
		   "  include/linux/crc32.h \\\n\nlib/crc32.o: $(deps_lib/crc32.o)\n");
	/* A .cmd that is not kbuild's at all. */
	write_text(tree, "misc/.junk.o.cmd", "this is not a command file\n");
	/* A symlink must not be followed. */
	{
		_cleanup_free_ char *link = path_join(tree, "usr-link");

		assert_int_equal(symlink("/usr/include", link), 0);
	}

	assert_int_equal(kernel_profile_read_build_dir(p, tree, err, sizeof(err), &st), 0);
	assert_flags(p, "kernel/fork.c", PROFILE_BUILTIN);
	assert_flags(p, "drivers/foo/bar.c", PROFILE_MODULE);
	assert_flags(p, "drivers/foo/baz.c", PROFILE_MODULE);
	assert_flags(p, "lib/crc32.c", PROFILE_BUILTIN);
	assert_flags(p, "include/linux/sched.h", PROFILE_HEADER);
	assert_flags(p, "include/linux/mm.h", PROFILE_HEADER);
	assert_flags(p, "include/linux/crc32.h", PROFILE_HEADER);
	assert_flags(p, "arch/x86/include/asm/current.h", PROFILE_HEADER);
	assert_flags(p, "include/generated/autoconf.h", PROFILE_HEADER);
	assert_flags(p, "drivers/foo/bar.h", PROFILE_HEADER);
	assert_flags(p, "kernel/sched/build_policy.c", PROFILE_BUILTIN);
	assert_flags(p, "kernel/sched/rt.c", PROFILE_BUILTIN);
	assert_flags(p, "kernel/sched/idle.c", PROFILE_BUILTIN);
	assert_flags(p, "kernel/sched/sched.h", PROFILE_HEADER);
	assert_flags(p, "drivers/foo/foo.mod.c", 0);
	assert_flags(p, "scripts/kconfig/conf.c", 0);
	assert_flags(p, "scripts/kconfig/lkc.h", 0);
	assert_int_equal(kernel_profile_count(p), 17);
	assert_int_equal(st.cmd_files, 9);
	assert_int_equal(st.builtin, 3);
	assert_int_equal(st.modules, 2);
	assert_int_equal(st.headers, 10);
	assert_int_equal(st.included, 2);
	assert_int_equal(st.host, 1);
	assert_int_equal(st.outside, 0);
	assert_int_equal(st.other, 3);
	test_tmpdir_remove(TAKE_PTR(dir));
}

static void test_build_dir_o_build(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *src = NULL, *obj = NULL, *sub = NULL,
			    *bare = NULL;
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_BUILD_DIR, true);
	struct kernel_build_dir_stats st;
	char err[256] = "";

	assert_true(asprintf(&src, "%s/src/linux-6.1", dir) > 0);
	assert_true(asprintf(&obj, "%s/build/amd64", dir) > 0);
	assert_int_equal(mkdir_p(src, 0755), 0);
	/* What kbuild writes into an O= tree: its Makefile and the "source" link. */
	write_textf(obj, "Makefile",
		    "# Automatically generated by %s/Makefile: don't edit\n"
		    "export KBUILD_OUTPUT = %s\ninclude %s/Makefile\n",
		    src, obj, src);
	{
		_cleanup_free_ char *link = path_join(obj, "source");

		assert_int_equal(symlink(src, link), 0);
	}
	{
		_cleanup_free_ char *fork = NULL, *drv = NULL, *ext = NULL, *gen = NULL,
				    *deps = NULL;

		assert_true(asprintf(&fork, "%s/kernel/fork.c", src) > 0);
		assert_true(asprintf(&drv, "%s/drivers/media/usb/uvc/uvc_driver.c", src) > 0);
		assert_true(asprintf(&ext, "/home/me/out-of-tree/hello.c") > 0);
		assert_true(asprintf(&deps,
				     "%s/include/linux/kconfig.h\n%s/include/linux/sched.h\n"
				     "include/generated/autoconf.h\n"
				     "arch/x86/include/generated/asm/rwonce.h\n"
				     "/usr/include/stdio.h",
				     src, src) > 0);
		write_cmd_file(obj, "savedcmd_", "kernel/fork.o", fork, src, false, deps);
		write_cmd_file(obj, "savedcmd_", "drivers/media/usb/uvc/uvc_driver.o", drv, src,
			       true, deps);
		write_cmd_file(obj, "savedcmd_", "extmod/hello.o", ext, src, true, deps);
		assert_true(asprintf(&gen, "drivers/tty/vt/consolemap_deftbl.c") > 0);
		write_cmd_file(obj, "savedcmd_", "drivers/tty/vt/consolemap_deftbl.o", gen, src,
			       false, "");
	}
	assert_int_equal(kernel_profile_read_build_dir(p, obj, err, sizeof(err), &st), 0);
	assert_flags(p, "kernel/fork.c", PROFILE_BUILTIN);
	assert_flags(p, "drivers/media/usb/uvc/uvc_driver.c", PROFILE_MODULE);
	assert_flags(p, "drivers/tty/vt/consolemap_deftbl.c", PROFILE_BUILTIN);
	assert_flags(p, "include/linux/sched.h", PROFILE_HEADER);
	assert_flags(p, "include/linux/kconfig.h", PROFILE_HEADER);
	assert_flags(p, "include/generated/autoconf.h", PROFILE_HEADER);
	assert_flags(p, "arch/x86/include/generated/asm/rwonce.h", PROFILE_HEADER);
	assert_int_equal(kernel_profile_count(p), 7);
	assert_int_equal(st.outside, 1);

	/* The same tree as an O= subdirectory of the source ("../kernel/fork.c"), no Makefile. */
	assert_true(asprintf(&sub, "%s/build", src) > 0);
	write_cmd_file(sub, "cmd_", "kernel/fork.o", "../kernel/fork.c", "..", false,
		       "../include/linux/kconfig.h\n../include/linux/sched.h\n"
		       "include/generated/autoconf.h\n../../../escapes/too/far.h");
	{
		_cleanup_(kernel_profile_freep) struct kernel_profile *q =
			kernel_profile_new(PROFILE_SOURCE_BUILD_DIR, true);

		assert_int_equal(kernel_profile_read_build_dir(q, sub, err, sizeof(err), &st), 0);
		assert_flags(q, "kernel/fork.c", PROFILE_BUILTIN);
		assert_flags(q, "include/linux/sched.h", PROFILE_HEADER);
		assert_flags(q, "include/generated/autoconf.h", PROFILE_HEADER);
		assert_int_equal(kernel_profile_count(q), 4);
	}

	/* Absolute paths, no Makefile nor link: the -include of kconfig.h names the tree. */
	assert_true(asprintf(&bare, "%s/bare", dir) > 0);
	write_cmd_file(bare, "cmd_", "kernel/fork.o", "/elsewhere/linux/kernel/fork.c",
		       "/elsewhere/linux", false, "/elsewhere/linux/include/linux/sched.h");
	{
		_cleanup_(kernel_profile_freep) struct kernel_profile *q =
			kernel_profile_new(PROFILE_SOURCE_BUILD_DIR, true);

		assert_int_equal(kernel_profile_read_build_dir(q, bare, err, sizeof(err), NULL), 0);
		assert_flags(q, "kernel/fork.c", PROFILE_BUILTIN);
		assert_flags(q, "include/linux/sched.h", PROFILE_HEADER);
		assert_int_equal(kernel_profile_count(q), 2);
	}
	test_tmpdir_remove(TAKE_PTR(dir));
}

static void test_build_dir_not_built(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new();
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_BUILD_DIR, true);
	char err[256] = "";

	write_text(dir, "kernel/fork.c", "int x;\n");
	write_text(dir, "Makefile", "VERSION = 6\n");
	assert_int_equal(kernel_profile_read_build_dir(p, dir, err, sizeof(err), NULL), -ENOENT);
	assert_mentions(err, "no *.o.cmd files under");
	assert_mentions(err, "not a built kernel tree");

	/* Only host programs were built. */
	write_text(dir, "scripts/basic/.fixdep.o.cmd",
		   "cmd_scripts/basic/fixdep.o := gcc -O2 -c -o scripts/basic/fixdep.o "
		   "scripts/basic/fixdep.c\n");
	assert_int_equal(kernel_profile_read_build_dir(p, dir, err, sizeof(err), NULL), -ENOENT);
	assert_mentions(err, "no kernel compile commands");

	assert_int_equal(
		kernel_profile_read_build_dir(p, "/nonexistent/dir", err, sizeof(err), NULL),
		-ENOENT);
	{
		_cleanup_free_ char *file = path_join(dir, "kernel/fork.c");

		assert_int_equal(kernel_profile_read_build_dir(p, file, err, sizeof(err), NULL),
				 -ENOTDIR);
	}
	assert_int_equal(kernel_profile_count(p), 0);
	test_tmpdir_remove(TAKE_PTR(dir));
}

/* 1,000 objects of 600 headers each (from a pool of 4,000) must read in under 2 s. */
static void test_build_dir_speed(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new();
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_BUILD_DIR, true);
	_cleanup_strbuf_ struct strbuf deps;
	struct kernel_build_dir_stats st;
	struct timespec a, b;
	char err[256] = "";
	double secs;

	strbuf_init(&deps, 0);
	for (int i = 0; i < 1000; i++) {
		char obj[64], src[64];

		strbuf_reset(&deps);
		for (int k = 0; k < 600; k++)
			strbuf_addf(&deps, "%sinclude/linux/header-%d.h", k ? "\n" : "",
				    (i * 7 + k * 13) % 4000);
		snprintf(obj, sizeof(obj), "drivers/d%d/f%d.o", i % 50, i);
		snprintf(src, sizeof(src), "drivers/d%d/f%d.c", i % 50, i);
		write_cmd_file(dir, "cmd_", obj, src, ".", i % 3 == 0, deps.buf);
	}
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(kernel_profile_read_build_dir(p, dir, err, sizeof(err), &st), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	print_message("# build dir: 1000 .o.cmd files with 600 headers each read in %.3f s\n",
		      secs);
	assert_int_equal(st.builtin + st.modules, 1000);
	assert_int_equal(st.modules, 334);
	assert_int_equal(st.headers, 4000);
	/* Sanitizer builds run several times slower; the target holds for the release build. */
	assert_true(secs < 10.0);
	test_tmpdir_remove(TAKE_PTR(dir));
}

/* dry run */

static void test_dry_run_o_build(void **state)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_DRY_RUN, false);
	char err[256] = "";
	size_t len;

	buf = test_read_data("kernel/make-n-o-build.txt", &len);
	assert_int_equal(kernel_profile_read_dry_run(p, buf, len, err, sizeof(err)), 0);
	assert_flags(p, "kernel/fork.c", PROFILE_BUILTIN);
	assert_flags(p, "arch/x86/kernel/head_64.S", PROFILE_BUILTIN);
	assert_flags(p, "fs/ext4/inode.c", PROFILE_BUILTIN);
	assert_flags(p, "lib/crc32.c", PROFILE_BUILTIN);
	assert_flags(p, "drivers/tty/vt/consolemap_deftbl.c", PROFILE_BUILTIN);
	assert_flags(p, "drivers/net/ethernet/intel/e1000e/netdev.c", PROFILE_MODULE);
	assert_flags(p, "drivers/media/usb/uvc/uvc_driver.c", PROFILE_MODULE);
	assert_int_equal(kernel_profile_count(p), 7);
}

static void test_dry_run_in_tree(void **state)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_DRY_RUN, false);
	char err[256] = "";
	size_t len;

	buf = test_read_data("kernel/make-n-in-tree.txt", &len);
	assert_int_equal(kernel_profile_read_dry_run(p, buf, len, err, sizeof(err)), 0);
	assert_flags(p, "init/main.c", PROFILE_BUILTIN);
	assert_flags(p, "kernel/sched/core.c", PROFILE_BUILTIN);
	assert_flags(p, "net/bridge/br_mrp_netlink.c", PROFILE_MODULE);
	assert_flags(p, "sound/usb/quirks.c", PROFILE_MODULE);
	assert_flags(p, "drivers/gpu/drm/amd/display/dc/calcs/dcn_calc_math.c", PROFILE_MODULE);
	assert_int_equal(kernel_profile_count(p), 5);
}

static void test_dry_run_subdir_build(void **state)
{
	/* O=build inside the source tree, without "Entering directory" lines. */
	static const char out[] =
		"gcc -nostdinc -I../include -include ../include/linux/kconfig.h -D__KERNEL__ -c "
		"-o kernel/fork.o ../kernel/fork.c\n"
		"gcc -nostdinc -include ../include/linux/kconfig.h -D__KERNEL__ -DMODULE -c -o "
		"fs/fat/inode.o ../fs/fat/inode.c\n"
		"gcc -nostdinc -include ../include/linux/kconfig.h -D__KERNEL__ -c -o "
		"lib/oid_registry_data.o lib/oid_registry_data.c\n"
		"gcc -D__KERNEL__ -c -o x.o ../../../outside.c\n";
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_DRY_RUN, false);
	char err[256] = "";

	assert_int_equal(kernel_profile_read_dry_run(p, out, strlen(out), err, sizeof(err)), 0);
	assert_flags(p, "kernel/fork.c", PROFILE_BUILTIN);
	assert_flags(p, "fs/fat/inode.c", PROFILE_MODULE);
	assert_flags(p, "lib/oid_registry_data.c", PROFILE_BUILTIN);
	assert_int_equal(kernel_profile_count(p), 3);
}

static void test_dry_run_bad(void **state)
{
	static const char json[] = "{\n  \"a\": [1, 2]\n}\n";
	static const char host_only[] =
		"gcc -O2 -c -o scripts/kconfig/conf.o scripts/kconfig/conf.c\n";
	static const char binary[] = "make[1]: Entering directory '/x'\n\177ELF\0\0\0\n";
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_DRY_RUN, false);
	char err[256] = "";

	assert_int_equal(kernel_profile_read_dry_run(p, json, strlen(json), err, sizeof(err)),
			 -EBADMSG);
	assert_mentions(err, "no kernel compile commands");
	assert_mentions(err, "3 lines");
	assert_int_equal(
		kernel_profile_read_dry_run(p, host_only, strlen(host_only), err, sizeof(err)),
		-EBADMSG);
	assert_int_equal(
		kernel_profile_read_dry_run(p, binary, sizeof(binary) - 1, err, sizeof(err)),
		-EBADMSG);
	assert_mentions(err, "line 2: binary data");
	assert_int_equal(kernel_profile_read_dry_run(p, "", 0, err, sizeof(err)), -EBADMSG);
	assert_int_equal(kernel_profile_count(p), 0);
}

/* A stand-in kernel tree whose Makefile answers the two steps like kbuild does. */
static char *fake_source_tree(const char *dir, const char *name, const char *olddefconfig_recipe,
			      const char *prepare_recipe)
{
	char *src = path_join(dir, name);

	assert_non_null(src);
	write_textf(
		src, "Makefile",
		"olddefconfig:\n"
		"%s\n"
		"prepare:\n"
		"%s\n"
		"vmlinux:\n"
		"\tgcc -Wp,-MMD,kernel/.fork.o.d -nostdinc -I$(CURDIR)/include -include "
		"$(CURDIR)/include/linux/kconfig.h -D__KERNEL__ -DKBUILD_MODNAME='\"fork\"' "
		"-c -o $(O)/kernel/fork.o $(CURDIR)/kernel/fork.c\n"
		"\tgcc -Wp,-MMD,scripts/kconfig/.conf.o.d -O2 -c -o scripts/kconfig/conf.o "
		"$(CURDIR)/scripts/kconfig/conf.c\n"
		"modules:\n"
		"\tgcc -nostdinc -include $(CURDIR)/include/linux/kconfig.h -D__KERNEL__ -DMODULE "
		"-c -o $(O)/drivers/foo/bar.o $(CURDIR)/drivers/foo/bar.c\n"
		".PHONY: olddefconfig prepare vmlinux modules\n",
		olddefconfig_recipe, prepare_recipe);
	return src;
}

static void test_dry_run_runner(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *src = NULL, *config = NULL, *json = NULL;
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_DRY_RUN, false);
	char err[512] = "";

	config = test_data_path("kernel/kconfig-x86_64.config");
	/* The recipe checks that the config was copied and ARCH passed. */
	src = fake_source_tree(dir, "linux",
			       "\t@test -f $(O)/.config && test \"$(ARCH)\" = x86 && "
			       "grep -q CONFIG_X86_64=y $(O)/.config",
			       "\t@mkdir -p $(O)/include/generated");
	assert_int_equal(kernel_profile_run_dry_run(p, src, config, 60, err, sizeof(err)), 0);
	assert_flags(p, "kernel/fork.c", PROFILE_BUILTIN);
	assert_flags(p, "drivers/foo/bar.c", PROFILE_MODULE);
	assert_int_equal(kernel_profile_count(p), 2);

	/* The config is checked before make runs. */
	json = path_join(dir, "config.json");
	write_text(dir, "config.json", "{\"CONFIG_X\": 1}\n");
	assert_int_equal(kernel_profile_run_dry_run(p, src, json, 60, err, sizeof(err)), -EBADMSG);
	assert_mentions(err, "config '");
	assert_mentions(err, "line 1:");
	assert_int_equal(
		kernel_profile_run_dry_run(p, src, "/nonexistent/.config", 60, err, sizeof(err)),
		-ENOENT);
	assert_int_equal(kernel_profile_run_dry_run(p, dir, config, 60, err, sizeof(err)), -ENOENT);
	assert_mentions(err, "no Makefile");
	test_tmpdir_remove(TAKE_PTR(dir));
}

static void test_dry_run_runner_failures(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *config = NULL, *failing = NULL, *prep = NULL,
			    *slow = NULL, *empty = NULL;
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_DRY_RUN, false);
	char err[512] = "";
	struct timespec a, b;

	config = test_data_path("kernel/kconfig-x86_64.config");
	failing = fake_source_tree(
		dir, "failing",
		"\t@echo '***'; echo '*** The source tree is not clean, please run "
		"make mrproper'; exit 2",
		"\t@true");
	assert_int_equal(kernel_profile_run_dry_run(p, failing, config, 60, err, sizeof(err)),
			 -EIO);
	assert_mentions(err, "make olddefconfig: failed with exit status 2");
	assert_mentions(err, "source tree is not clean");

	prep = fake_source_tree(
		dir, "prep", "\t@true",
		"\t@echo 'In file included from kernel/bounds.c:10:'; "
		"echo 'include/linux/page-flags.h:9:1: error: unknown type'; exit 1");
	assert_int_equal(kernel_profile_run_dry_run(p, prep, config, 60, err, sizeof(err)), -EIO);
	assert_mentions(
		err,
		"make prepare: failed with exit status 2: include/linux/page-flags.h:9:1: error");

	slow = fake_source_tree(dir, "slow", "\t@sleep 30", "\t@true");
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(kernel_profile_run_dry_run(p, slow, config, 1, err, sizeof(err)),
			 -ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 10);
	assert_mentions(err, "make olddefconfig: timed out after 1 s");

	/* make runs fine but prints no kernel compile. */
	empty = path_join(dir, "empty");
	write_text(empty, "Makefile",
		   "olddefconfig prepare:\n\t@true\nvmlinux modules:\n\techo nothing to do\n");
	assert_int_equal(kernel_profile_run_dry_run(p, empty, config, 60, err, sizeof(err)),
			 -EBADMSG);
	assert_mentions(err, "make -n -k vmlinux modules: no kernel compile commands");
	assert_int_equal(kernel_profile_count(p), 0);
	test_tmpdir_remove(TAKE_PTR(dir));
}

/* debuginfo */

static void compile_sample(const char *dir)
{
	write_text(dir, "src/include/hello.h",
		   "struct greeting { int times; const char *text; };\n"
		   "static inline int twice(int x) { return 2 * x; }\n");
	write_text(dir, "src/hello.c",
		   "#include <stddef.h>\n#include \"hello.h\"\n"
		   "struct greeting g = { 1, \"hello\" };\n"
		   "int hello(int n) { return twice(n) + (int)sizeof(size_t) + g.times; }\n");
	write_text(dir, "src/world.c",
		   "int hello(int n);\nint main(void) { return hello(1) == 42; }\n");
	run_shell(
		"cd '%s' && mkdir -p obj && gcc -g -O0 -Isrc/include -c -o obj/hello.o src/hello.c "
		"&& cp obj/hello.o obj/hello.ko && xz -k obj/hello.ko && echo junk | xz > "
		"obj/junk.ko.xz "
		"&& gcc -O0 -c -o obj/nodebug.o src/world.c "
		"&& gcc -g -O0 -Isrc/include -o obj/prog src/hello.c src/world.c",
		dir);
}

/* A kernel-like O= build: DW_AT_name absolute in the source tree, DW_AT_comp_dir the build tree. */
static void test_debuginfo_o_build(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *obj = NULL;
	_cleanup_(kernel_profile_freep) struct kernel_profile *p =
		kernel_profile_new(PROFILE_SOURCE_DEBUGINFO, true);
	char err[256] = "";

	write_text(dir, "ksrc/include/linux/types.h", "typedef unsigned int u32;\n");
	write_text(dir, "ksrc/fs/foo/helper.c", "static u32 helper(u32 x) { return x + 1; }\n");
	write_text(dir, "ksrc/fs/foo/bar.c",
		   "#include <linux/types.h>\n#include \"helper.c\"\n"
		   "u32 bar(u32 x) { return helper(x); }\n");
	write_text(dir, "kobj/fs/foo/.keep", "");
	run_shell("cd '%s/kobj' && gcc -g -O0 -I'%s/ksrc/include' -c -o fs/foo/bar.o "
		  "'%s/ksrc/fs/foo/bar.c' && cp fs/foo/bar.o fs/foo/bar.ko",
		  dir, dir, dir);
	obj = path_join(dir, "kobj/fs/foo/bar.ko");
	assert_int_equal(kernel_profile_read_debuginfo(p, obj, err, sizeof(err)), 0);
	assert_flags(p, "fs/foo/bar.c", PROFILE_MODULE);
	assert_flags(p, "fs/foo/helper.c", PROFILE_MODULE);
	assert_flags(p, "include/linux/types.h", PROFILE_HEADER);
	assert_int_equal(kernel_profile_count(p), 3);
	test_tmpdir_remove(TAKE_PTR(dir));
}

static void test_debuginfo(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *obj = NULL, *ko = NULL, *prog = NULL,
			    *nodebug = NULL, *text = NULL;
	char err[256] = "";

	compile_sample(dir);
	obj = path_join(dir, "obj/hello.o");
	ko = path_join(dir, "obj/hello.ko");
	prog = path_join(dir, "obj/prog");
	nodebug = path_join(dir, "obj/nodebug.o");
	text = path_join(dir, "src/hello.c");
	{
		_cleanup_(kernel_profile_freep) struct kernel_profile *p =
			kernel_profile_new(PROFILE_SOURCE_DEBUGINFO, true);

		assert_int_equal(kernel_profile_read_debuginfo(p, obj, err, sizeof(err)), 0);
		assert_flags(p, "src/hello.c", PROFILE_BUILTIN);
		assert_flags(p, "src/include/hello.h", PROFILE_HEADER);
		assert_int_equal(kernel_profile_count(p), 2); /* <stddef.h> is outside the tree */
	}
	{
		_cleanup_(kernel_profile_freep) struct kernel_profile *p =
			kernel_profile_new(PROFILE_SOURCE_DEBUGINFO, true);

		assert_int_equal(kernel_profile_read_debuginfo(p, ko, err, sizeof(err)), 0);
		assert_flags(p, "src/hello.c", PROFILE_MODULE);
		assert_flags(p, "src/include/hello.h", PROFILE_HEADER);
	}
	{
		_cleanup_(kernel_profile_freep) struct kernel_profile *p =
			kernel_profile_new(PROFILE_SOURCE_DEBUGINFO, true);
		_cleanup_free_ char *xz = path_join(dir, "obj/hello.ko.xz"),
				    *junk = path_join(dir, "obj/junk.ko.xz");

		assert_int_equal(kernel_profile_read_debuginfo(p, xz, err, sizeof(err)), 0);
		assert_flags(p, "src/hello.c", PROFILE_MODULE);
		assert_flags(p, "src/include/hello.h", PROFILE_HEADER);
		assert_int_equal(kernel_profile_read_debuginfo(p, junk, err, sizeof(err)),
				 -EBADMSG);
		assert_mentions(err, "is not an ELF file");
	}
	{
		/* A linked executable goes through dwarf_begin_elf() rather than libdwfl. */
		_cleanup_(kernel_profile_freep) struct kernel_profile *p =
			kernel_profile_new(PROFILE_SOURCE_DEBUGINFO, true);

		assert_int_equal(kernel_profile_read_debuginfo(p, prog, err, sizeof(err)), 0);
		assert_flags(p, "src/hello.c", PROFILE_BUILTIN);
		assert_flags(p, "src/world.c", PROFILE_BUILTIN);
		assert_flags(p, "src/include/hello.h", PROFILE_HEADER);
	}
	{
		_cleanup_(kernel_profile_freep) struct kernel_profile *p =
			kernel_profile_new(PROFILE_SOURCE_DEBUGINFO, true);

		assert_int_equal(kernel_profile_read_debuginfo(p, text, err, sizeof(err)),
				 -EBADMSG);
		assert_mentions(err, "is not an ELF file");
		assert_int_equal(kernel_profile_read_debuginfo(p, nodebug, err, sizeof(err)),
				 -ENODATA);
		assert_mentions(err, "no DWARF");
		assert_int_equal(
			kernel_profile_read_debuginfo(p, "/nonexistent.ko", err, sizeof(err)),
			-ENOENT);
		assert_int_equal(kernel_profile_count(p), 0);
	}
	test_tmpdir_remove(TAKE_PTR(dir));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kconfig_good),
		cmocka_unit_test(test_kconfig_variants),
		cmocka_unit_test(test_kconfig_bad),
		cmocka_unit_test(test_list_good),
		cmocka_unit_test(test_list_bad),
		cmocka_unit_test(test_kbuild_helpers),
		cmocka_unit_test(test_build_dir_in_tree),
		cmocka_unit_test(test_build_dir_o_build),
		cmocka_unit_test(test_build_dir_not_built),
		cmocka_unit_test(test_build_dir_speed),
		cmocka_unit_test(test_dry_run_o_build),
		cmocka_unit_test(test_dry_run_in_tree),
		cmocka_unit_test(test_dry_run_subdir_build),
		cmocka_unit_test(test_dry_run_bad),
		cmocka_unit_test(test_dry_run_runner),
		cmocka_unit_test(test_dry_run_runner_failures),
		cmocka_unit_test(test_debuginfo),
		cmocka_unit_test(test_debuginfo_o_build),
	};

	return TEST_MAIN(tests);
}
