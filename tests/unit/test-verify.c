/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "fileio.h"
#include "initramfs.h"
#include "strbuf.h"
#include "test-lib.h"
#include "verify.h"

/* A tiny newc reader, independent of the writer, to read archives back. */
struct entry {
	char name[256];
	unsigned mode, nlink, rmajor, rminor;
	const unsigned char *data;
	size_t size;
};

static unsigned hex8(const unsigned char *p)
{
	char buf[9];

	memcpy(buf, p, 8);
	buf[8] = '\0';
	return (unsigned)strtoul(buf, NULL, 16);
}

/* Returns the number of entries before the trailer; fails the test on bad input. */
static size_t read_newc(const unsigned char *p, size_t len, struct entry *out, size_t max)
{
	size_t off = 0, n = 0;

	for (;;) {
		struct entry e = { 0 };
		unsigned namesize;

		assert_true(off + 110 <= len);
		assert_memory_equal(p + off, "070701", 6);
		e.mode = hex8(p + off + 14);
		e.nlink = hex8(p + off + 38);
		e.size = hex8(p + off + 54);
		e.rmajor = hex8(p + off + 78);
		e.rminor = hex8(p + off + 86);
		namesize = hex8(p + off + 94);
		assert_true(namesize > 1 && namesize <= sizeof(e.name));
		assert_true(off + 110 + namesize <= len);
		memcpy(e.name, p + off + 110, namesize);
		assert_int_equal(e.name[namesize - 1], '\0');
		off = (off + 110 + namesize + 3) & ~(size_t)3;
		e.data = p + off;
		assert_true(off + e.size <= len);
		off = (off + e.size + 3) & ~(size_t)3;
		if (streq(e.name, "TRAILER!!!")) {
			assert_int_equal(off, len);
			return n;
		}
		assert_true(n < max);
		out[n++] = e;
	}
}

static const struct entry *find(const struct entry *es, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (streq(es[i].name, name))
			return &es[i];
	fail_msg("no entry '%s'", name);
	return NULL;
}

static void test_cpio_roundtrip(void **state)
{
	_cleanup_(initramfs_freep) struct initramfs *ir = initramfs_new();
	struct entry es[8];
	const void *data;
	size_t len, n;

	assert_non_null(ir);
	assert_int_equal(initramfs_add_dir(ir, "bin", 0755), 0);
	assert_int_equal(initramfs_add_file(ir, "bin/hello", 0755, "abcde", 5), 0);
	assert_int_equal(initramfs_add_file(ir, "empty", 0644, NULL, 0), 0);
	assert_int_equal(initramfs_add_symlink(ir, "bin/sh", "busybox"), 0);
	assert_int_equal(initramfs_add_chardev(ir, "console", 0600, 5, 1), 0);
	assert_int_equal(initramfs_finish(ir), 0);

	data = initramfs_data(ir, &len);
	assert_int_equal(len % 4, 0);
	n = read_newc(data, len, es, ARRAY_SIZE(es));
	assert_int_equal(n, 5);
	assert_string_equal(es[0].name, "bin");
	assert_int_equal(es[0].mode, S_IFDIR | 0755);
	assert_int_equal(es[0].nlink, 2);
	assert_int_equal(es[1].mode, S_IFREG | 0755);
	assert_int_equal(es[1].size, 5);
	assert_memory_equal(es[1].data, "abcde", 5);
	assert_int_equal(es[2].size, 0);
	assert_int_equal(es[3].mode, S_IFLNK | 0777);
	assert_int_equal(es[3].size, 7);
	assert_memory_equal(es[3].data, "busybox", 7);
	assert_int_equal(es[4].mode, S_IFCHR | 0600);
	assert_int_equal(es[4].rmajor, 5);
	assert_int_equal(es[4].rminor, 1);
}

static void test_cpio_errors(void **state)
{
	_cleanup_(initramfs_freep) struct initramfs *ir = initramfs_new();
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *path = path_join(dir, "x.cpio");

	assert_int_equal(initramfs_add_dir(ir, "/abs", 0755), -EINVAL);
	assert_int_equal(initramfs_add_dir(ir, "", 0755), -EINVAL);
	assert_int_equal(initramfs_add_symlink(ir, "l", ""), -EINVAL);
	assert_int_equal(initramfs_add_host_file(ir, "f", 0644, "/nonexistent/file"), -ENOENT);
	assert_int_equal(initramfs_write(ir, path, false), -EINVAL);
	assert_int_equal(initramfs_finish(ir), 0);
	assert_int_equal(initramfs_finish(ir), -EALREADY);
	assert_int_equal(initramfs_add_dir(ir, "late", 0755), -EALREADY);
	test_tmpdir_remove(dir);
}

static void test_cpio_gzip(void **state)
{
	_cleanup_(initramfs_freep) struct initramfs *ir = initramfs_new();
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *path = path_join(dir, "x.cpio.gz");
	unsigned char back[4096];
	const void *data;
	gzFile gz;
	size_t len;
	int n;

	assert_int_equal(initramfs_add_file(ir, "f", 0644, "payload", 7), 0);
	assert_int_equal(initramfs_finish(ir), 0);
	assert_int_equal(initramfs_write(ir, path, true), 0);
	data = initramfs_data(ir, &len);
	gz = gzopen(path, "rb");
	assert_non_null(gz);
	n = gzread(gz, back, sizeof(back));
	gzclose(gz);
	assert_int_equal(n, (int)len);
	assert_memory_equal(back, data, len);
	test_tmpdir_remove(dir);
}

static void test_module_name(void **state)
{
	char buf[VERIFY_MODULE_NAME_MAX + 1];

	assert_int_equal(verify_module_name("/x/livepatch-cve-2024-1.ko", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "livepatch_cve_2024_1");
	assert_int_equal(verify_module_name("dummy.ko", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "dummy");
	assert_int_equal(verify_module_name("dummy.o", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(verify_module_name(".ko", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(verify_module_name("a b.ko", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(verify_module_name("a;reboot.ko", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(verify_module_name("dummy.ko", buf, 3), -EINVAL);
}

/* The generated /init must at least parse as a POSIX shell script. */
static void check_sh_syntax(const char *script)
{
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *path = path_join(dir, "init");
	_cleanup_free_ char *cmd = NULL;
	int st;

	assert_int_equal(write_file_atomic(path, script, strlen(script), 0755), 0);
	assert_true(asprintf(&cmd, "sh -n '%s'", path) > 0);
	st = system(cmd);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	test_tmpdir_remove(dir);
}

static void test_init_livepatch(void **state)
{
	struct verify_spec spec = { .mode = VERIFY_MODE_LIVEPATCH,
				    .module = "/tmp/livepatch-fix.ko",
				    .test_after = "/tmp/after.sh",
				    .transition_timeout_s = 5 };
	_cleanup_free_ char *s = NULL;

	assert_int_equal(verify_init_script(&spec, &s), 0);
	assert_true(strncmp(s, "#!/bin/sh\n", 10) == 0);
	assert_non_null(strstr(s, "mount -t devtmpfs devtmpfs /dev\n"));
	assert_non_null(strstr(s, "if run insmod insmod /modules/livepatch-fix.ko; then\n"));
	assert_non_null(strstr(s, "run wait-patched wait_patched livepatch_fix 50; then\n"));
	assert_non_null(strstr(s, "run test-after sh /tests/after\n"));
	assert_non_null(strstr(s, "run disable disable_patch livepatch_fix\n"));
	assert_non_null(strstr(s, "run rmmod rmmod_retry livepatch_fix\n"));
	assert_non_null(strstr(s, "echo TUXTAPE-DMESG-BEGIN\ndmesg\necho TUXTAPE-DMESG-END\n"));
	assert_non_null(strstr(s, "poweroff -f\n"));
	assert_null(strstr(s, "test-before"));
	check_sh_syntax(s);
}

static void test_init_load_only(void **state)
{
	char *deps[] = { "/x/dep-a.ko", NULL };
	struct verify_spec spec = { .mode = VERIFY_MODE_LOAD_ONLY, .module = "dummy.ko",
				    .deps = deps, .test_before = "b.sh" };
	_cleanup_free_ char *s = NULL;

	assert_int_equal(verify_init_script(&spec, &s), 0);
	assert_non_null(strstr(s, "run insmod-dep insmod /modules/deps/00-dep-a.ko\n"));
	assert_non_null(strstr(s, "run test-before sh /tests/before\n"));
	assert_non_null(strstr(s, "run loaded test -d /sys/module/dummy\n"));
	assert_null(strstr(s, "wait_patched dummy"));
	check_sh_syntax(s);
}

static void test_init_bad_spec(void **state)
{
	struct verify_spec spec = { .mode = VERIFY_MODE_LIVEPATCH, .module = "ok.ko" };
	char *bad_deps[] = { "dep.o", NULL };
	char *s = NULL;

	spec.module_name = "evil;name";
	assert_int_equal(verify_init_script(&spec, &s), -EINVAL);
	spec.module_name = "has-dash";
	assert_int_equal(verify_init_script(&spec, &s), -EINVAL);
	spec.module_name = NULL;
	spec.module = "x/$(reboot).ko";
	assert_int_equal(verify_init_script(&spec, &s), -EINVAL);
	spec.module = "ok.ko";
	spec.deps = bad_deps;
	assert_int_equal(verify_init_script(&spec, &s), -EINVAL);
	spec.deps = NULL;
	spec.mode = (enum verify_mode)7;
	assert_int_equal(verify_init_script(&spec, &s), -EINVAL);
	assert_null(s);
}

static void test_build_initramfs(void **state)
{
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *bb = path_join(dir, "busybox"), *ko = path_join(dir, "dummy.ko"),
			       *out = path_join(dir, "initramfs.cpio"), *data = NULL;
	struct verify_config cfg = { .busybox = bb };
	struct verify_spec spec = { .mode = VERIFY_MODE_LOAD_ONLY, .module = ko };
	static struct entry es[128];
	const struct entry *e;
	size_t len, n;

	assert_int_equal(write_file_atomic(bb, "BB", 2, 0755), 0);
	assert_int_equal(write_file_atomic(ko, "\177ELF", 4, 0644), 0);
	assert_int_equal(verify_build_initramfs(&cfg, &spec, out), 0);
	assert_int_equal(read_file_bounded(out, INITRAMFS_MAX_SIZE, &data, &len), 0);
	n = read_newc((const unsigned char *)data, len, es, ARRAY_SIZE(es));
	assert_true(n > 10);
	e = find(es, n, "dev/console");
	assert_int_equal(e->mode, S_IFCHR | 0600);
	e = find(es, n, "bin/busybox");
	assert_int_equal(e->size, 2);
	e = find(es, n, "bin/sh");
	assert_int_equal(e->mode, S_IFLNK | 0777);
	e = find(es, n, "modules/dummy.ko");
	assert_memory_equal(e->data, "\177ELF", 4);
	e = find(es, n, "init");
	assert_int_equal(e->mode, S_IFREG | 0755);
	assert_memory_equal(e->data, "#!/bin/sh\n", 10);
	test_tmpdir_remove(dir);
}

static void parse_data(const char *rel, struct verify_result *r)
{
	size_t len;
	_cleanup_free_ char *text = test_read_data(rel, &len);

	assert_int_equal(verify_parse_console(text, len, r), 0);
}

static void test_parse_captured_ok(void **state)
{
	struct verify_result r;
	json_t *j = NULL;

	/* Real console of Debian's 6.1.0-54-amd64 under TCG, dummy.ko load-only. */
	parse_data("verify/load-only-ok.console", &r);
	assert_int_equal(r.verdict, VERIFY_VERDICT_OK);
	assert_string_equal(r.reason, "");
	assert_true(r.saw_begin && r.saw_end);
	assert_int_equal(r.n_steps, 3);
	assert_string_equal(r.steps[0].name, "insmod");
	assert_string_equal(r.steps[1].name, "loaded");
	assert_string_equal(r.steps[2].name, "rmmod");
	for (size_t i = 0; i < r.n_steps; i++) {
		assert_int_equal(r.steps[i].rc, 0);
		assert_true(r.steps[i].uptime_s > 0);
	}
	assert_int_equal(r.taint, 0);
	assert_true(r.begin_uptime_s > 0);
	assert_non_null(r.dmesg);
	assert_non_null(strstr(r.dmesg, "Linux version 6.1.0-54-amd64"));
	assert_non_null(strstr(r.dmesg, "tuxtape: step rmmod rc=0\n"));
	assert_null(strstr(r.dmesg, "TUXTAPE-"));

	assert_int_equal(verify_result_to_json(&r, false, &j), 0);
	assert_string_equal(json_string_value(json_object_get(j, "verdict")), "ok");
	assert_int_equal(json_array_size(json_object_get(j, "steps")), 3);
	assert_null(json_object_get(j, "log"));
	json_decref(j);
	verify_result_release(&r);
}

static void test_parse_captured_failed_step(void **state)
{
	struct verify_result r;

	/* dummy.ko run in livepatch mode: no /sys/kernel/livepatch/dummy appears. */
	parse_data("verify/livepatch-not-a-patch.console", &r);
	assert_int_equal(r.verdict, VERIFY_VERDICT_FAILED);
	assert_string_equal(r.reason, "step 'wait-patched' returned 110");
	assert_int_equal(r.n_steps, 5);
	assert_int_equal(r.steps[1].rc, 110);
	assert_true(r.saw_end);
	verify_result_release(&r);
}

static void test_parse_captured_panic(void **state)
{
	struct verify_result r;

	/* An /init with a syntax error exits: the kernel panics, no END marker. */
	parse_data("verify/init-exits-panic.console", &r);
	assert_int_equal(r.verdict, VERIFY_VERDICT_FAILED);
	assert_true(r.saw_begin);
	assert_false(r.saw_end);
	assert_non_null(strstr(r.reason, "Kernel panic - not syncing: Attempted to kill init!"));
	assert_null(r.dmesg);
	verify_result_release(&r);
}

static void test_parse_synthetic(void **state)
{
	static const char no_init[] = "SeaBIOS\n[    0.5] BUG: early boot noise\n";
	static const char cut[] = "TUXTAPE-BEGIN 1 1.00\nTUXTAPE-STEP insmod 0 1.2\n";
	static const char noisy[] = "TUXTAPE-BEGIN 1 1.00\n"
				    "[    1.1] foo: barTUXTAPE-STEP insmod 0 1.2\n"
				    "TUXTAPE-STEP bogus\n"
				    "TUXTAPE-END 0\n";
	static const char oops[] = "TUXTAPE-BEGIN 1 1.00\n"
				   "TUXTAPE-STEP insmod 0 1.2\n"
				   "TUXTAPE-DMESG-BEGIN\n"
				   "[    0.1] WARNING: CPU: 0 PID: 1 at boot (before our init)\n"
				   "[    1.0] tuxtape: begin\n"
				   "[    1.3] BUG: kernel NULL pointer dereference, address: 0\n"
				   "TUXTAPE-DMESG-END\n"
				   "TUXTAPE-END 0\n";
	struct verify_result r;

	assert_int_equal(verify_parse_console("", 0, &r), 0);
	assert_int_equal(r.verdict, VERIFY_VERDICT_ERROR);
	verify_result_release(&r);

	assert_int_equal(verify_parse_console(no_init, sizeof(no_init) - 1, &r), 0);
	assert_int_equal(r.verdict, VERIFY_VERDICT_ERROR);
	assert_string_equal(r.reason, "the guest never started /init");
	verify_result_release(&r);

	assert_int_equal(verify_parse_console(cut, sizeof(cut) - 1, &r), 0);
	assert_int_equal(r.verdict, VERIFY_VERDICT_FAILED);
	assert_string_equal(r.reason, "the guest stopped before TUXTAPE-END");
	verify_result_release(&r);

	/* A marker after kernel noise on the same line still counts; bad ones don't. */
	assert_int_equal(verify_parse_console(noisy, sizeof(noisy) - 1, &r), 0);
	assert_int_equal(r.verdict, VERIFY_VERDICT_OK);
	assert_int_equal(r.n_steps, 1);
	verify_result_release(&r);

	assert_int_equal(verify_parse_console(oops, sizeof(oops) - 1, &r), 0);
	assert_int_equal(r.verdict, VERIFY_VERDICT_FAILED);
	assert_non_null(strstr(r.reason, "BUG: kernel NULL pointer dereference"));
	verify_result_release(&r);
}

static void test_parse_limits(void **state)
{
	_cleanup_strbuf_ struct strbuf sb = { 0 };
	struct verify_result r;

	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_adds(&sb, "TUXTAPE-BEGIN 1 1.0\n"), 0);
	for (int i = 0; i <= VERIFY_STEPS_MAX; i++)
		assert_int_equal(strbuf_addf(&sb, "TUXTAPE-STEP s%d 0 1.0\n", i), 0);
	assert_int_equal(verify_parse_console(sb.buf, sb.len, &r), -E2BIG);
	assert_int_equal(verify_parse_console(sb.buf, VERIFY_LOG_MAX + 1, &r), -E2BIG);
}

static void test_strings(void **state)
{
	assert_int_equal(verify_mode_from_string("load-only"), VERIFY_MODE_LOAD_ONLY);
	assert_int_equal(verify_mode_from_string("livepatch"), VERIFY_MODE_LIVEPATCH);
	assert_int_equal(verify_mode_from_string("nope"), -EINVAL);
	assert_string_equal(verify_verdict_to_string(VERIFY_VERDICT_ERROR), "error");
	assert_string_equal(qemu_accel_to_string(QEMU_ACCEL_TCG), "tcg");
}

static void test_qemu_argv(void **state)
{
	struct qemu_opts o = { .kernel = "vmlinuz", .initrd = "ird", .append = "console=ttyS0",
			       .accel = QEMU_ACCEL_TCG };
	_cleanup_strv_free_ char **argv = qemu_build_argv(&o);
	_cleanup_strbuf_ struct strbuf sb = { 0 };

	assert_non_null(argv);
	strbuf_init(&sb, 0);
	for (char **a = argv; *a; a++)
		assert_int_equal(strbuf_addf(&sb, "%s ", *a), 0);
	assert_string_equal(sb.buf, "qemu-system-x86_64 -accel tcg -m 512M -smp 1 -nodefaults "
				    "-nographic -monitor none -serial stdio -no-reboot -kernel "
				    "vmlinuz -initrd ird -append console=ttyS0 ");
}

static void test_qemu_missing_binary(void **state)
{
	struct qemu_opts o = { .binary = "/nonexistent/qemu", .kernel = "k", .initrd = "i",
			       .accel = QEMU_ACCEL_TCG, .timeout_ms = 1000 };
	struct qemu_output out;

	assert_int_equal(qemu_run(&o, &out), -ENOENT);
}

/* ---- kallsyms mode ---- */

#define assert_contains(s, sub)                                                                    \
	do {                                                                                       \
		if (!strstr((s), (sub)))                                                           \
			fail_msg("'%s' does not contain '%s'", (s), (sub));                        \
	} while (0)

static const char ksyms[] = "0000000000000000 A fixed_percpu_data\n"
			    "ffffffff81000000 T _stext\n"
			    "ffffffff810f4b30 T pick_next_task_fair\n"
			    "ffffffff810f5000 t update_curr\n"
			    "ffffffff82000000 d some_data\n"
			    "ffffffffc0000000 t dummy_setup\t[dummy]\n";

/* gzip -c | base64 (76 columns), as busybox does it in the guest. */
static char *encode(const char *text, size_t len)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	_cleanup_free_ unsigned char *gz = NULL;
	_cleanup_strbuf_ struct strbuf sb = { 0 };
	z_stream zs = { 0 };
	size_t glen, col = 0;

	assert_int_equal(deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
	gz = malloc(deflateBound(&zs, len) + 32);
	assert_non_null(gz);
	zs.next_in = (Bytef *)text;
	zs.avail_in = (uInt)len;
	zs.next_out = gz;
	zs.avail_out = (uInt)(deflateBound(&zs, len) + 32);
	assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
	glen = zs.total_out;
	deflateEnd(&zs);
	strbuf_init(&sb, 0);
	for (size_t i = 0; i < glen; i += 3) {
		unsigned v = (unsigned)gz[i] << 16 | (i + 1 < glen ? (unsigned)gz[i + 1] << 8 : 0) |
			     (i + 2 < glen ? gz[i + 2] : 0);
		char q[5] = { alphabet[v >> 18], alphabet[(v >> 12) & 63],
			      i + 1 < glen ? alphabet[(v >> 6) & 63] : '=',
			      i + 2 < glen ? alphabet[v & 63] : '=', 0 };

		assert_int_equal(strbuf_adds(&sb, q), 0);
		col += 4;
		if (col == 76 || i + 3 >= glen) {
			assert_int_equal(strbuf_addch(&sb, '\n'), 0);
			col = 0;
		}
	}
	return strbuf_detach(&sb, NULL);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* A console: boot noise, the markers around the encoded text, more noise. */
static char *console_for(const char *text, size_t lines, size_t bytes)
{
	_cleanup_free_ char *b64 = encode(text, strlen(text));
	char *c;

	assert_true(asprintf(&c,
			     "\x1b" "c\x1b[?7l\x1b[2J[    0.000000] Linux version 6.1.0-54-amd64\n"
			     "TUXTAPE-KALLSYMS-BEGIN 1 6.1.0-54-amd64\n%s"
			     "TUXTAPE-KALLSYMS-END %zu %zu\n"
			     "[   10.2] reboot: Power down\n",
			     b64, lines, bytes) > 0);
	return c;
}

static int decode(const char *console, struct verify_kallsyms *k, char *err, size_t errsize)
{
	err[0] = '\0';
	return verify_kallsyms_decode(console, strlen(console), k, err, errsize);
}

static void test_kallsyms_decode_ok(void **state)
{
	_cleanup_free_ char *c = console_for(ksyms, count_lines(ksyms), strlen(ksyms));
	struct verify_kallsyms k = { 0 };
	char err[256];

	assert_int_equal(decode(c, &k, err, sizeof(err)), 0);
	assert_string_equal(k.text, ksyms);
	assert_int_equal(k.len, strlen(ksyms));
	assert_int_equal(k.lines, 6);
	assert_string_equal(k.release, "6.1.0-54-amd64");
	verify_kallsyms_release(&k);
	assert_null(k.text);
}

static void expect_decode(const char *console, int want, const char *msg)
{
	struct verify_kallsyms k = { 0 };
	char err[256];

	assert_int_equal(decode(console, &k, err, sizeof(err)), want);
	assert_contains(err, msg);
	assert_null(k.text);
}

static void test_kallsyms_decode_bad(void **state)
{
	size_t lines = count_lines(ksyms), bytes = strlen(ksyms);
	_cleanup_free_ char *good = console_for(ksyms, lines, bytes);
	_cleanup_free_ char *c = NULL, *b64 = NULL;
	char *p;

	/* Truncated: the guest died (or the console was cut) before the END marker. */
	c = strdup(good);
	assert_non_null(c);
	*strstr(c, "TUXTAPE-KALLSYMS-END") = '\0';
	expect_decode(c, -EBADMSG, "truncated: no TUXTAPE-KALLSYMS-END marker");
	/* ... or mid-line: the base64 stops short of its quantum. */
	free(c);
	c = strdup(good);
	p = strstr(c, "\nTUXTAPE-KALLSYMS-END");
	memmove(p - 1, p, strlen(p) + 1);
	expect_decode(c, -EBADMSG, "ends mid-quantum");

	/* Kernel noise inside the dump. */
	free(c);
	b64 = encode(ksyms, bytes);
	assert_true(asprintf(&c, "TUXTAPE-KALLSYMS-BEGIN 1 6.1.0\n%.20s\n[ 3.1] oops\n%s"
				 "TUXTAPE-KALLSYMS-END %zu %zu\n", b64, b64 + 21, lines, bytes) > 0);
	expect_decode(c, -EBADMSG, "console line 3: not base64 inside the dump: '[ 3.1] oops'");

	/* A changed character in the compressed data: inflate or the gzip CRC catches it. */
	free(c);
	c = strdup(good);
	p = strstr(c, "KALLSYMS-BEGIN 1 6.1.0-54-amd64\n") + 31 + 60;
	*p = *p == 'A' ? 'B' : 'A';
	{
		struct verify_kallsyms k = { 0 };
		char err[256];

		assert_int_equal(decode(c, &k, err, sizeof(err)), -EBADMSG);
		assert_contains(err, "gzip");
	}

	/* Counts that do not match what the guest counted. */
	free(c);
	c = console_for(ksyms, lines + 1, bytes);
	expect_decode(c, -EBADMSG, "the dump has 6 lines, the guest counted 7");
	free(c);
	c = console_for(ksyms, lines, bytes - 1);
	expect_decode(c, -EBADMSG, "the dump has 201 bytes, the guest counted 200");

	/* What an unprivileged read gives: every address zero. */
	free(c);
	c = console_for("0000000000000000 T _stext\n0000000000000000 t update_curr\n", 2, 57);
	expect_decode(c, -EBADMSG, "2 of 2 text symbols have address 0");

	/* Malformed table lines. */
	free(c);
	c = console_for("ffffffff81000000 T _stext\nnot a symbol line\n", 2, 44);
	expect_decode(c, -EBADMSG, "kallsyms line 2: expected 'ADDRESS TYPE NAME'");
	free(c);
	c = console_for("ffffffff81000000 T _stext [mod]\n", 1, 32);
	expect_decode(c, -EBADMSG, "kallsyms line 1: expected '\\t[MODULE]'");
	free(c);
	c = console_for("ffffffff81000000 T _stext", 1, 25);
	expect_decode(c, -EBADMSG, "no newline at the end");

	/* Markers. */
	expect_decode("booting\nTUXTAPE-KALLSYMS-ERROR cannot read or compress /proc/kallsyms\n",
		      -EIO, "the guest reported: cannot read or compress /proc/kallsyms");
	expect_decode("booting\nKernel panic - not syncing\n", -EIO,
		      "printed no TUXTAPE-KALLSYMS-BEGIN marker");
	expect_decode("TUXTAPE-KALLSYMS-BEGIN 2 6.1.0\nAAAA\nTUXTAPE-KALLSYMS-END 1 1\n", -EBADMSG,
		      "console line 1: bad 'TUXTAPE-KALLSYMS-BEGIN' marker");
	expect_decode("TUXTAPE-KALLSYMS-BEGIN 1 6.1/../x\n", -EBADMSG, "bad");
	expect_decode("TUXTAPE-KALLSYMS-BEGIN 1 6.1.0\nAAAA\nTUXTAPE-KALLSYMS-END x\n", -EBADMSG,
		      "console line 3: bad 'TUXTAPE-KALLSYMS-END' marker");
	expect_decode("TUXTAPE-KALLSYMS-BEGIN 1 6.1.0\nAA==AA==\nTUXTAPE-KALLSYMS-END 1 1\n",
		      -EBADMSG, "console line 2: not base64");
	expect_decode("TUXTAPE-KALLSYMS-BEGIN 1 6.1.0\n\nTUXTAPE-KALLSYMS-END 0 0\n", -EBADMSG,
		      "truncated");
}

static void test_kallsyms_decode_too_big(void **state)
{
	size_t n = (size_t)VERIFY_KALLSYMS_MAX + 64;
	_cleanup_free_ char *big = malloc(n + 1), *c = NULL;

	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	c = console_for(big, 0, n);
	expect_decode(c, -EFBIG, "larger than");
}

/* The guest's own tools: busybox gzip and base64 as /init runs them, decoded here. */
static void test_kallsyms_busybox_roundtrip(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *in = NULL, *cmd = NULL, *out = NULL,
			    *init = NULL;
	struct verify_kallsyms k = { 0 };
	char err[256] = "";
	size_t len;

	assert_int_equal(verify_kallsyms_init_script(&init), 0);
	assert_contains(init, "TUXTAPE-KALLSYMS-BEGIN 1 $(uname -r)");
	assert_contains(init, "base64 /tmp/kallsyms.gz");
	assert_contains(init, "echo 1 > /proc/sys/kernel/printk");
	if (access("/bin/busybox", X_OK) < 0) {
		test_tmpdir_remove(TAKE_PTR(dir));
		return;
	}
	assert_true(asprintf(&in, "%s/kallsyms", dir) > 0);
	assert_int_equal(write_file_atomic(in, ksyms, strlen(ksyms), 0644), 0);
	assert_true(asprintf(&cmd,
			     "cd '%s' && { echo 'TUXTAPE-KALLSYMS-BEGIN 1 6.1.0-54-amd64'; "
			     "/bin/busybox gzip -c kallsyms > k.gz && /bin/busybox base64 k.gz && "
			     "echo \"TUXTAPE-KALLSYMS-END $(/bin/busybox wc -l < kallsyms) "
			     "$(/bin/busybox wc -c < kallsyms)\"; } > console",
			     dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(in);
	assert_true(asprintf(&in, "%s/console", dir) > 0);
	assert_int_equal(read_file_bounded(in, 1 << 20, &out, &len), 0);
	if (verify_kallsyms_decode(out, len, &k, err, sizeof(err)) < 0)
		fail_msg("%s\n%s", err, out);
	assert_string_equal(k.text, ksyms);
	verify_kallsyms_release(&k);
	test_tmpdir_remove(TAKE_PTR(dir));
}

static void test_kallsyms_capture_errors(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new(), *kernel = NULL;
	struct verify_config cfg = { .work_dir = dir, .accel = QEMU_ACCEL_TCG,
				     .qemu = "/nonexistent/qemu", .timeout_s = 5 };
	struct verify_kallsyms k = { 0 };
	char err[256] = "";

	assert_int_equal(verify_capture_kallsyms(&cfg, &k, err, sizeof(err)), -EINVAL);
	cfg.kernel = "/nonexistent/vmlinuz";
	assert_int_equal(verify_capture_kallsyms(&cfg, &k, err, sizeof(err)), -ENOENT);
	assert_contains(err, "cannot read the kernel image '/nonexistent/vmlinuz'");
	assert_true(asprintf(&kernel, "%s/vmlinuz", dir) > 0);
	assert_int_equal(write_file_atomic(kernel, "x", 1, 0644), 0);
	cfg.kernel = kernel;
	assert_int_equal(verify_capture_kallsyms(&cfg, &k, err, sizeof(err)), -ENOENT);
	assert_contains(err, "cannot run '/nonexistent/qemu'");
	assert_null(k.text);
	test_tmpdir_remove(TAKE_PTR(dir));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpio_roundtrip),
		cmocka_unit_test(test_cpio_errors),
		cmocka_unit_test(test_cpio_gzip),
		cmocka_unit_test(test_module_name),
		cmocka_unit_test(test_init_livepatch),
		cmocka_unit_test(test_init_load_only),
		cmocka_unit_test(test_init_bad_spec),
		cmocka_unit_test(test_build_initramfs),
		cmocka_unit_test(test_parse_captured_ok),
		cmocka_unit_test(test_parse_captured_failed_step),
		cmocka_unit_test(test_parse_captured_panic),
		cmocka_unit_test(test_parse_synthetic),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_qemu_argv),
		cmocka_unit_test(test_qemu_missing_binary),
		cmocka_unit_test(test_kallsyms_decode_ok),
		cmocka_unit_test(test_kallsyms_decode_bad),
		cmocka_unit_test(test_kallsyms_decode_too_big),
		cmocka_unit_test(test_kallsyms_busybox_roundtrip),
		cmocka_unit_test(test_kallsyms_capture_errors),
	};

	return TEST_MAIN(tests);
}
