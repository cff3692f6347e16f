/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Debian kernel packages without the network: every test builds a small fake
 * kernel image (or linux-source package) with "dpkg-deb --build".  apt runs
 * only from the local package lists: "apt-cache show", and an "apt-get
 * download" of a package no archive has, which fails at once.
 */
#include <dirent.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <openssl/evp.h>

#include "debian.h"
#include "fileio.h"
#include "strbuf.h"
#include "test-lib.h"

#define REL "6.1.0-999-tuxtapetest"
#define VERSION "6.1.190-1"
#define IMAGE "linux-image-" REL
#define CONFIG "CONFIG_LOCALVERSION=\"\"\nCONFIG_MODULES=y\n"
#define SYSTEM_MAP "ffffffff81000000 T _text\nffffffff81000010 T startup_64\n"
#define BUILTIN "kernel/fs/ext4/ext4.ko\nkernel/drivers/char/mem.ko\n"

extern char **environ;

struct fixture {
	char *dir;   /* temporary directory of the test */
	char *deb;   /* the fake image package */
	char *cache; /* an empty cache directory */
};

static void write_file(const char *dir, const char *rel, const char *text)
{
	_cleanup_free_ char *p = path_join(dir, rel), *parent = NULL;

	assert_non_null(p);
	parent = strdup(p);
	assert_non_null(parent);
	*strrchr(parent, '/') = '\0';
	assert_int_equal(mkdir_p(parent, 0755), 0);
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0644), 0);
}

static void *freenull(void *p)
{
	free(p);
	return NULL;
}

static int run_quiet(char *const *argv)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status;

	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0), 0);
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *build_image(const char *dir)
{
	_cleanup_free_ char *root = path_join(dir, "pkgroot");
	char *deb = path_join(dir, "image.deb");

	assert_non_null(root);
	assert_non_null(deb);
	write_file(root, "DEBIAN/control",
		   "Package: " IMAGE "\n"
		   "Version: " VERSION "\n"
		   "Architecture: amd64\n"
		   "Maintainer: TuxTape tests <tests@example.org>\n"
		   "Description: fake kernel image for the unit tests\n");
	write_file(root, "boot/config-" REL, CONFIG);
	write_file(root, "boot/System.map-" REL, SYSTEM_MAP);
	write_file(root, "boot/vmlinuz-" REL, "not a kernel\n");
	write_file(root, "lib/modules/" REL "/kernel/drivers/x/y.ko", "ELF\n");
	write_file(root, "lib/modules/" REL "/kernel/net/w/w.ko.xz", "XZ\n");
	write_file(root, "lib/modules/" REL "/kernel/drivers/a/b.ko", "ELF\n");
	write_file(root, "lib/modules/" REL "/kernel/drivers/x/README", "not a module\n");
	write_file(root, "lib/modules/" REL "/modules.builtin", BUILTIN);
	/* modules of another release in the same package are not ours */
	write_file(root, "lib/modules/6.1.0-1-other/kernel/z.ko", "ELF\n");
	{
		char *const argv[] = { "dpkg-deb", "-Zgzip", "--root-owner-group", "--build",
				       root, deb, NULL };

		assert_int_equal(run_quiet(argv), 0);
	}
	return deb;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = test_tmpdir_new();
	f->deb = build_image(f->dir);
	f->cache = path_join(f->dir, "cache");
	assert_non_null(f->cache);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->deb);
	free(f->cache);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static char *sha256_of(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	size_t len;
	char *hex = malloc(65);

	assert_non_null(hex);
	assert_int_equal(read_file_bounded(path, 1 << 20, &buf, &len), 0);
	assert_int_equal(EVP_Digest(buf, len, md, &mdlen, EVP_sha256(), NULL), 1);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return hex;
}

static uint64_t size_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static void copy_file(const char *from, const char *to)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	assert_int_equal(read_file_bounded(from, 1 << 20, &buf, &len), 0);
	assert_int_equal(write_file_atomic(to, buf, len, 0644), 0);
}

/* Flips one byte in the middle: same size, different hash. */
static void corrupt(const char *path)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	assert_int_equal(read_file_bounded(path, 1 << 20, &buf, &len), 0);
	buf[len / 2] ^= 0x55;
	assert_int_equal(write_file_atomic(path, buf, len, 0644), 0);
}

static void assert_contains(const char *s, const char *what)
{
	if (!strstr(s, what))
		fail_msg("'%s' does not mention '%s'", s, what);
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Nothing but finished files may be left in a cache directory. */
static void assert_no_temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, ".tmp-", 5) == 0)
			fail_msg("'%s/%s' was left behind", dir, de->d_name);
	closedir(d);
}

static void test_release_check(void **state)
{
	const char *good[] = { "6.1.0-54-amd64", "6.1.0-54-rt-amd64", "6.1.0-54-cloud-amd64",
			       "6.1.0-9-arm64", "6.12.10-1-686-pae" };
	const char *bad[] = { "", "6.1.0", "6.1.0-54", "6.1.0-amd64", "6.1-54-amd64",
			      "linux-6.1.0-54-amd64", "6.1.0-54-", "6.1.0-54-AMD64",
			      "6.1.0-54-amd64/../x", "6.1.0-54-amd64 ", "6.10.6+bpo-amd64",
			      "6.1.0-54-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			      "aaaaaaaaaaaaaaaaaaa" };
	struct debian_kernel *sentinel = (struct debian_kernel *)&sentinel, *k = sentinel;
	char err[256];

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_int_equal(debian_release_check(good[i], NULL, 0), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		err[0] = '\0';
		assert_int_equal(debian_release_check(bad[i], err, sizeof(err)), -EINVAL);
		assert_contains(err, "is not a Debian kernel release");
	}
	assert_int_equal(debian_release_check(NULL, NULL, 0), -EINVAL);

	/* fetch refuses before touching anything */
	assert_int_equal(debian_kernel_fetch("6.1.0-amd64", "/nonexistent/cache", 0, &k, err,
					     sizeof(err)),
			 -EINVAL);
	assert_ptr_equal(k, sentinel);
	assert_contains(err, "'6.1.0-amd64' is not a Debian kernel release");
	assert_false(exists("/nonexistent/cache"));
}

static void test_versions(void **state)
{
	static const struct {
		const char *a, *b;
		int sign;
	} cases[] = {
		{ "6.1.190-1", "6.1.190-1", 0 },    { "6.1.190-1", "6.1.192-1", -1 },
		{ "6.1.10-1", "6.1.9-1", 1 },       { "6.1.192-2", "6.1.192-1", 1 },
		{ "6.1~rc1-1", "6.1-1", -1 },       { "1:0.1-1", "6.1.190-1", 1 },
		{ "6.1.190-1~bpo12+1", "6.1.190-1", -1 }, { "6.1.190", "6.1.190-0", 0 },
		{ "1.0a", "1.0+", -1 },             { "1.0", "1.0.0", -1 },
	};
	char *u = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int r = debian_version_compare(cases[i].a, cases[i].b);
		int s = (r > 0) - (r < 0);

		if (s != cases[i].sign)
			fail_msg("compare('%s', '%s') = %d, expected %d", cases[i].a, cases[i].b,
				 r, cases[i].sign);
		r = debian_version_compare(cases[i].b, cases[i].a);
		assert_int_equal((r > 0) - (r < 0), -cases[i].sign);
	}

	assert_int_equal(debian_upstream_version("6.1.190-1", &u), 0);
	assert_string_equal(u, "6.1.190");
	free(u);
	assert_int_equal(debian_upstream_version("1:6.1.190-1~bpo12+1", &u), 0);
	assert_string_equal(u, "6.1.190");
	free(u);
	assert_int_equal(debian_upstream_version("6.1.190", &u), 0);
	assert_string_equal(u, "6.1.190");
	free(u);
	assert_int_equal(debian_upstream_version("-1", &u), -EINVAL);
}

static void test_packages_parse(void **state)
{
	static const char text[] =
		"Package: linux-image-6.1.0-54-amd64\n"
		"Source: linux-signed-amd64 (6.1.190+1)\n"
		"Version: 6.1.190-1\n"
		"Architecture: amd64\n"
		"Depends: kmod, linux-base (>= 4.3~)\n"
		"Description: Linux 6.1 for 64-bit PCs (signed)\n"
		" The Linux kernel 6.1 and modules for use on PCs with AMD64, Intel 64 or\n"
		" VIA Nano processors.\n"
		"Size: 70491372\n"
		"SHA256: D788F148714B4CEC6A9FF5E66282F56D9A7A0C2C12AC3E5093DE12ABAF47F56E\n"
		"\n"
		"Package: linux-headers-6.1.0-54-amd64\n"
		"Version: 6.1.190-1\n"
		"Depends: linux-headers-6.1.0-54-common (= 6.1.190-1), linux-kbuild-6.1\n"
		"\n";
	struct debian_package **l = NULL;
	char err[256] = "";

	assert_int_equal(debian_packages_parse(text, strlen(text), &l, err, sizeof(err)), 0);
	assert_non_null(l[0]);
	assert_non_null(l[1]);
	assert_null(l[2]);
	assert_string_equal(l[0]->name, "linux-image-6.1.0-54-amd64");
	assert_string_equal(l[0]->version, "6.1.190-1");
	assert_string_equal(l[0]->architecture, "amd64");
	assert_int_equal(l[0]->size, 70491372);
	assert_string_equal(l[0]->sha256,
			    "d788f148714b4cec6a9ff5e66282f56d9a7a0c2c12ac3e5093de12abaf47f56e");
	assert_string_equal(l[1]->depends,
			    "linux-headers-6.1.0-54-common (= 6.1.190-1), linux-kbuild-6.1");
	assert_null(l[1]->sha256);
	assert_int_equal(l[1]->size, 0);
	debian_package_list_free(l);

	/* empty output is an empty list */
	l = NULL;
	assert_int_equal(debian_packages_parse("", 0, &l, err, sizeof(err)), 0);
	assert_null(l[0]);
	debian_package_list_free(l);

	l = NULL;
	assert_int_equal(debian_packages_parse("Package: x1\nSHA256: 12\n", 24, &l, err,
					       sizeof(err)),
			 -EBADMSG);
	assert_contains(err, "bad SHA256");
	assert_null(l);
	assert_int_equal(debian_packages_parse("Package: x1\n\n", 13, &l, err, sizeof(err)),
			 -EBADMSG);
	assert_contains(err, "stanza 1: no Version field");
	assert_int_equal(debian_packages_parse("Package: ../x\nVersion: 1\n", 25, &l, err,
					       sizeof(err)),
			 -EBADMSG);
	assert_contains(err, "bad package name");
	assert_int_equal(debian_packages_parse("Package: x1\nVersion: 1/2\n", 25, &l, err,
					       sizeof(err)),
			 -EBADMSG);
	assert_contains(err, "bad version");
	assert_null(l);
}

static void test_deb_inspect(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *version = NULL, *out = NULL, *p = NULL, *buf = NULL;
	_cleanup_strv_free_ char **paths = NULL, **modules = NULL;
	char err[512] = "";
	size_t len;

	assert_int_equal(debian_deb_version(f->deb, &version, err, sizeof(err)), 0);
	assert_string_equal(version, VERSION);

	assert_int_equal(debian_deb_list(f->deb, &paths, err, sizeof(err)), 0);
	assert_true(strv_contains(paths, "boot/config-" REL));
	assert_true(strv_contains(paths, "lib/modules/" REL "/modules.builtin"));
	assert_true(strv_contains(paths, "boot/"));
	assert_false(strv_contains(paths, "./boot/config-" REL));

	assert_int_equal(debian_deb_list_modules(f->deb, REL, &modules, err, sizeof(err)), 0);
	assert_int_equal(strv_length(modules), 3);
	assert_string_equal(modules[0], "drivers/a/b.ko");
	assert_string_equal(modules[1], "drivers/x/y.ko");
	assert_string_equal(modules[2], "net/w/w.ko"); /* .ko.xz named as the module */

	out = path_join(f->dir, "out");
	assert_non_null(out);
	assert_int_equal(mkdir_p(out, 0755), 0);
	{
		char *const members[] = { "boot/config-" REL, "boot/System.map-" REL,
					  "lib/modules/" REL "/modules.builtin", NULL };

		assert_int_equal(debian_deb_extract(f->deb, out, members, err, sizeof(err)), 0);
	}
	p = path_join(out, "boot/config-" REL);
	assert_int_equal(read_file_bounded(p, 4096, &buf, &len), 0);
	assert_string_equal(buf, CONFIG);
	free(p);
	free(buf);
	buf = NULL;
	p = path_join(out, "boot/System.map-" REL);
	assert_int_equal(read_file_bounded(p, 4096, &buf, &len), 0);
	assert_string_equal(buf, SYSTEM_MAP);
	free(p);
	/* only what was asked for */
	p = path_join(out, "boot/vmlinuz-" REL);
	assert_false(exists(p));
	free(p);
	p = path_join(out, "lib/modules/" REL "/kernel");
	assert_false(exists(p));

	{
		char *const missing[] = { "boot/config-6.1.0-1-amd64", NULL };
		char *const escape[] = { "../etc/passwd", NULL };

		assert_int_equal(debian_deb_extract(f->deb, out, missing, err, sizeof(err)),
				 -ENOENT);
		assert_contains(err, "Not found in archive");
		assert_int_equal(debian_deb_extract(f->deb, out, escape, err, sizeof(err)),
				 -EINVAL);
	}

	/* one member to a file of our naming, moved into place whole */
	{
		_cleanup_free_ char *dest = path_join(f->dir, "one/deep/config"), *b2 = NULL,
				    *gone = path_join(f->dir, "one/deep/missing");
		DIR *d;
		struct dirent *de;
		size_t l2;

		assert_int_equal(debian_deb_extract_member(f->deb, "boot/config-" REL, dest, err,
							   sizeof(err)),
				 0);
		assert_int_equal(read_file_bounded(dest, 4096, &b2, &l2), 0);
		assert_string_equal(b2, CONFIG);
		/* an existing file is the cache: kept as it is */
		assert_int_equal(write_file_atomic(dest, "cached\n", 7, 0644), 0);
		assert_int_equal(debian_deb_extract_member(f->deb, "boot/config-" REL, dest, err,
							   sizeof(err)),
				 0);
		free(b2);
		b2 = NULL;
		assert_int_equal(read_file_bounded(dest, 4096, &b2, &l2), 0);
		assert_string_equal(b2, "cached\n");
		/* a missing member leaves neither the file nor the temporary directory */
		assert_int_equal(debian_deb_extract_member(f->deb, "boot/nope", gone, err,
							   sizeof(err)),
				 -ENOENT);
		assert_false(exists(gone));
		free(p);
		p = path_join(f->dir, "one/deep");
		d = opendir(p);
		assert_non_null(d);
		while ((de = readdir(d)))
			assert_null(strstr(de->d_name, ".tmp-"));
		closedir(d);
	}
}

static void test_deb_not_a_package(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *bogus = path_join(f->dir, "bogus.deb"), *v = NULL;
	_cleanup_strv_free_ char **paths = NULL;
	char err[512] = "";

	write_file(f->dir, "bogus.deb", "this is not an ar archive\n");
	assert_int_equal(debian_deb_version(bogus, &v, err, sizeof(err)), -EBADMSG);
	assert_contains(err, "dpkg-deb -f");
	assert_null(v);
	assert_int_equal(debian_deb_list(bogus, &paths, err, sizeof(err)), -EBADMSG);
	assert_contains(err, "bogus.deb");
	assert_null(paths);
	assert_int_equal(debian_deb_version("-rf", &v, err, sizeof(err)), -EINVAL);
}

static void test_file_verify(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *sha = sha256_of(f->deb), *copy = path_join(f->dir, "copy.deb");
	uint64_t size = size_of(f->deb);

	assert_int_equal(debian_file_verify(f->deb, size, sha), 0);
	assert_int_equal(debian_file_verify(f->deb, 0, sha), 0);
	assert_int_equal(debian_file_verify(f->deb, size + 1, sha), -EBADMSG);
	assert_int_equal(debian_file_verify(f->deb, size, "zz"), -EINVAL);
	copy_file(f->deb, copy);
	corrupt(copy);
	assert_int_equal(size_of(copy), size);
	assert_int_equal(debian_file_verify(copy, size, sha), -EBADMSG);
	assert_int_equal(debian_file_verify(f->dir, 0, NULL), -EBADMSG);
	assert_int_equal(debian_file_verify("/nonexistent", 0, NULL), -ENOENT);
}

static void test_cache_reuse_and_corruption(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *sha = sha256_of(f->deb), *cached = NULL, *got = NULL;
	struct debian_package pkg = {
		.name = IMAGE,
		.version = VERSION,
		.architecture = "amd64",
		.sha256 = sha,
		.size = size_of(f->deb),
	};
	char err[512] = "";

	assert_int_equal(mkdir_p(f->cache, 0755), 0);
	cached = path_join(f->cache, IMAGE "_" VERSION "_amd64.deb");
	copy_file(f->deb, cached);

	/* a good copy is used as is, offline */
	assert_int_equal(debian_deb_fetch(&pkg, f->cache, DEBIAN_FETCH_OFFLINE, &got, err,
					  sizeof(err)),
			 0);
	assert_string_equal(got, cached);
	got = freenull(got);

	/* without hash or size, dpkg-deb --info decides */
	pkg.sha256 = NULL;
	pkg.size = 0;
	assert_int_equal(debian_deb_fetch(&pkg, f->cache, DEBIAN_FETCH_OFFLINE, &got, err,
					  sizeof(err)),
			 0);
	got = freenull(got);
	pkg.sha256 = sha;
	pkg.size = size_of(f->deb);

	/* a corrupted copy is detected, removed, and never handed out */
	corrupt(cached);
	assert_int_equal(debian_deb_fetch(&pkg, f->cache, DEBIAN_FETCH_OFFLINE, &got, err,
					  sizeof(err)),
			 -ENETUNREACH);
	assert_null(got);
	assert_contains(err, IMAGE "=" VERSION " is not in the cache");
	assert_contains(err, "(a corrupted copy was removed)");
	assert_false(exists(cached));

	/* truncated, checked by dpkg-deb only */
	write_file(f->cache, IMAGE "_" VERSION "_amd64.deb", "!<arch>\n");
	pkg.sha256 = NULL;
	pkg.size = 0;
	assert_int_equal(debian_deb_fetch(&pkg, f->cache, DEBIAN_FETCH_OFFLINE, &got, err,
					  sizeof(err)),
			 -ENETUNREACH);
	assert_false(exists(cached));
	assert_no_temporaries(f->cache);
}

static void test_download_unknown_package(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *cached = NULL, *got = NULL;
	struct debian_package pkg = {
		.name = "tuxtape-test-no-such-package",
		.version = "1.0-1",
		.architecture = "amd64",
	};
	struct debian_kernel *sentinel = (struct debian_kernel *)&sentinel, *k = sentinel;
	char err[512] = "";

	if (access("/usr/bin/apt-get", X_OK) < 0) {
		print_message("# no apt-get, download errors not tested\n");
		return;
	}
	/* a corrupted cached copy is replaced by a download, which fails here */
	assert_int_equal(mkdir_p(f->cache, 0755), 0);
	cached = path_join(f->cache, "tuxtape-test-no-such-package_1.0-1_amd64.deb");
	write_file(f->cache, "tuxtape-test-no-such-package_1.0-1_amd64.deb", "garbage\n");
	assert_int_equal(debian_deb_fetch(&pkg, f->cache, 0, &got, err, sizeof(err)), -ENOENT);
	assert_null(got);
	assert_contains(err, "apt-get download tuxtape-test-no-such-package=1.0-1 failed: E: ");
	assert_contains(err, "tuxtape-test-no-such-package");
	assert_false(exists(cached));
	assert_no_temporaries(f->cache);

	/* and through the whole fetch: the image package's name in apt-get's words */
	assert_int_equal(debian_kernel_fetch("6.1.0-999-amd64", f->cache, 0, &k, err, sizeof(err)),
			 -ENOENT);
	assert_ptr_equal(k, sentinel);
	assert_contains(err, "apt-get download linux-image-6.1.0-999-amd64 failed: E: Unable to "
			     "locate package linux-image-6.1.0-999-amd64");
	assert_no_temporaries(f->cache);
}

static void check_kernel(const struct debian_kernel *k, const char *cache)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;

	assert_string_equal(k->release, REL);
	assert_string_equal(k->image_package, IMAGE);
	assert_string_equal(k->package_version, VERSION);
	assert_string_equal(k->upstream_version, "6.1.190");
	assert_true(strncmp(k->config_path, cache, strlen(cache)) == 0);
	assert_int_equal(read_file_bounded(k->config_path, 4096, &buf, &len), 0);
	assert_string_equal(buf, CONFIG);
	free(buf);
	buf = NULL;
	assert_int_equal(read_file_bounded(k->system_map_path, 4096, &buf, &len), 0);
	assert_string_equal(buf, SYSTEM_MAP);
	assert_false(k->system_map_placeholder);
	assert_int_equal(strv_length(k->modules), 3);
	assert_string_equal(k->modules[1], "drivers/x/y.ko");
	assert_int_equal(strv_length(k->builtin), 2);
	assert_string_equal(k->builtin[0], "fs/ext4/ext4.ko");
	assert_string_equal(k->builtin[1], "drivers/char/mem.ko");
	/* no headers for a fake release: a warning, not a failure */
	assert_null(k->symvers_path);
	assert_null(k->headers_deb);
	assert_true(strv_length(k->warnings) >= 1);
	assert_contains(k->warnings[0], "linux-headers-" REL);
}

static void test_fetch_offline_from_cache(void **state)
{
	struct fixture *f = *state;
	struct debian_kernel *k = NULL;
	_cleanup_free_ char *cached = NULL, *xdir = NULL;
	char err[512] = "";
	int r;

	assert_int_equal(mkdir_p(f->cache, 0755), 0);
	cached = path_join(f->cache, IMAGE "_" VERSION "_amd64.deb");
	xdir = path_join(f->cache, "extract/" IMAGE "_" VERSION);

	/* nothing cached */
	assert_int_equal(debian_kernel_fetch(REL, f->cache, DEBIAN_FETCH_OFFLINE, &k, err,
					     sizeof(err)),
			 -ENETUNREACH);
	assert_contains(err, IMAGE);
	assert_null(k);

	/* a corrupted image with no way to verify but dpkg-deb: refused, removed */
	write_file(f->cache, IMAGE "_" VERSION "_amd64.deb", "garbage\n");
	assert_int_equal(debian_kernel_fetch(REL, f->cache, DEBIAN_FETCH_OFFLINE, &k, err,
					     sizeof(err)),
			 -ENETUNREACH);
	assert_false(exists(cached));
	assert_false(exists(xdir));

	copy_file(f->deb, cached);
	r = debian_kernel_fetch(REL, f->cache, DEBIAN_FETCH_OFFLINE, &k, err, sizeof(err));
	if (r < 0)
		fail_msg("debian_kernel_fetch: %d (%s)", r, err);
	check_kernel(k, f->cache);
	assert_string_equal(k->image_deb, cached);
	assert_true(exists(xdir));
	k = debian_kernel_free(k);
	assert_no_temporaries(f->cache);

	/* the extraction is reused even when the .deb is gone */
	assert_int_equal(unlink(cached), 0);
	r = debian_kernel_fetch(REL, f->cache, DEBIAN_FETCH_OFFLINE, &k, err, sizeof(err));
	if (r < 0)
		fail_msg("debian_kernel_fetch (cached): %d (%s)", r, err);
	check_kernel(k, f->cache);
	assert_null(k->image_deb);
	debian_kernel_free(k);
}

/* ---- debian_source_tree() ---- */

#define SRC_NAME "linux-source-6.1"
#define SRC_VERSION "6.1.999-1"
#define SRC_MEMBER "usr/src/" SRC_NAME ".tar.xz"
#define SRC_MAKEFILE "# SPDX-License-Identifier: GPL-2.0\nVERSION = 6\nPATCHLEVEL = 1\n" \
		     "SUBLEVEL = 999\nEXTRAVERSION =\nNAME = Curry Ramen\n"

enum fake_source {
	SOURCE_GOOD,
	SOURCE_GARBAGE_TARBALL, /* not xz at all */
	SOURCE_NO_TARBALL,      /* the package lacks usr/src/linux-source-6.1.tar.xz */
	SOURCE_OTHER_VERSION,   /* the Makefile is of another sublevel */
	SOURCE_TWO_TOPS,        /* the tarball holds two top directories */
};

/* A fake linux-source-6.1 package at version, as Debian lays it out; returns its path. */
static char *build_source(const char *dir, const char *tag, const char *version,
			  enum fake_source kind)
{
	_cleanup_free_ char *root = NULL, *stage = NULL, *tarball = NULL, *control = NULL,
			    *file = NULL;
	char *deb = NULL;

	assert_true(asprintf(&root, "%s/src-%s/root", dir, tag) > 0);
	assert_true(asprintf(&stage, "%s/src-%s/stage", dir, tag) > 0);
	assert_true(asprintf(&deb, "%s/src-%s.deb", dir, tag) > 0);
	assert_true(asprintf(&control,
			     "Package: " SRC_NAME "\nVersion: %s\nArchitecture: all\n"
			     "Maintainer: TuxTape tests <tests@example.org>\n"
			     "Description: fake kernel source for the unit tests\n",
			     version) > 0);
	tarball = path_join(root, SRC_MEMBER);
	assert_non_null(tarball);
	write_file(root, "DEBIAN/control", control);
	write_file(root, "usr/share/doc/" SRC_NAME "/copyright", "GPL-2\n");
	write_file(stage, SRC_NAME "/Makefile",
		   kind == SOURCE_OTHER_VERSION ? "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 998\n"
						: SRC_MAKEFILE);
	write_file(stage, SRC_NAME "/kernel/fork.c", "/* fork */\n");
	if (kind == SOURCE_TWO_TOPS)
		write_file(stage, "stray/file", "x\n");
	if (kind == SOURCE_GARBAGE_TARBALL) {
		write_file(root, SRC_MEMBER, "this is not an xz stream\n");
	} else if (kind != SOURCE_NO_TARBALL) {
		char *const tar[] = { "tar", "-cJf", tarball, "-C", stage, SRC_NAME,
				      kind == SOURCE_TWO_TOPS ? "stray" : NULL, NULL };

		file = strdup(tarball);
		assert_non_null(file);
		*strrchr(file, '/') = '\0';
		assert_int_equal(mkdir_p(file, 0755), 0);
		assert_int_equal(run_quiet(tar), 0);
	}
	{
		char *const argv[] = { "dpkg-deb", "-Zgzip", "--root-owner-group", "--build",
				       root, deb, NULL };

		assert_int_equal(run_quiet(argv), 0);
	}
	return deb;
}

static void source_kernel(struct debian_kernel *k, char *deb)
{
	*k = (struct debian_kernel){
		.release = (char *)REL,
		.package_version = (char *)SRC_VERSION,
		.upstream_version = (char *)"6.1.999",
		.source_deb = deb,
		.source_version = (char *)SRC_VERSION,
		.source_exact = true,
	};
}

static void assert_file(const char *dir, const char *rel, const char *text)
{
	_cleanup_free_ char *p = path_join(dir, rel), *buf = NULL;
	size_t len;

	assert_non_null(p);
	assert_int_equal(read_file_bounded(p, 4096, &buf, &len), 0);
	assert_string_equal(buf, text);
}

/*
 * Unpacking wants DEBIAN_SOURCE_MIN_FREE even for a tiny package; on a fuller
 * disk the refusal is what gets tested.
 */
static bool enough_space(struct fixture *f)
{
	_cleanup_free_ char *deb = NULL;
	struct statvfs sv;
	struct debian_kernel k;
	char *dir = NULL;
	char err[512] = "";

	assert_int_equal(mkdir_p(f->cache, 0755), 0);
	assert_int_equal(statvfs(f->cache, &sv), 0);
	if ((unsigned long long)sv.f_bavail * sv.f_frsize >= DEBIAN_SOURCE_MIN_FREE)
		return true;
	print_message("# less than 3 GiB free in '%s': only the refusal is tested\n", f->cache);
	deb = build_source(f->dir, "nospace", SRC_VERSION, SOURCE_GOOD);
	source_kernel(&k, deb);
	assert_int_equal(debian_source_tree(&k, f->cache, 0, &dir, err, sizeof(err)), -ENOSPC);
	assert_contains(err, "not unpacking the kernel source in '");
	assert_null(dir);
	assert_no_temporaries(f->cache);
	return false;
}

static void test_source_tree(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *deb = build_source(f->dir, "good", SRC_VERSION, SOURCE_GOOD);
	_cleanup_free_ char *final = path_join(f->cache, "src/linux-source-" SRC_VERSION);
	_cleanup_free_ char *stray = NULL, *marker = NULL;
	struct debian_kernel k;
	char *dir = NULL;
	char err[512] = "";
	int r;

	if (!enough_space(f))
		return;
	source_kernel(&k, deb);
	stray = path_join(final, "stray");
	marker = path_join(final, DEBIAN_SOURCE_MARKER);

	r = debian_source_tree(&k, f->cache, DEBIAN_FETCH_OFFLINE, &dir, err, sizeof(err));
	if (r < 0)
		fail_msg("debian_source_tree: %d (%s)", r, err);
	assert_string_equal(dir, final);
	dir = freenull(dir);
	assert_file(final, "Makefile", SRC_MAKEFILE);
	assert_file(final, "kernel/fork.c", "/* fork */\n");
	assert_file(final, DEBIAN_SOURCE_MARKER, SRC_NAME " " SRC_VERSION "\n");
	assert_no_temporaries(f->cache);
	assert_no_temporaries(final);

	/* reused as is: not unpacked again, the .deb not even needed */
	write_file(final, "stray", "left by the first test\n");
	k.source_deb = (char *)"/nonexistent/linux-source.deb";
	assert_int_equal(debian_source_tree(&k, f->cache, DEBIAN_FETCH_OFFLINE, &dir, err,
					    sizeof(err)),
			 0);
	assert_string_equal(dir, final);
	dir = freenull(dir);
	assert_true(exists(stray));

	/* without its marker the tree is unfinished: removed and unpacked again */
	k.source_deb = deb;
	assert_int_equal(unlink(marker), 0);
	r = debian_source_tree(&k, f->cache, DEBIAN_FETCH_OFFLINE, &dir, err, sizeof(err));
	if (r < 0)
		fail_msg("debian_source_tree (unmarked): %d (%s)", r, err);
	assert_false(exists(stray));
	assert_file(final, DEBIAN_SOURCE_MARKER, SRC_NAME " " SRC_VERSION "\n");
	assert_file(final, "Makefile", SRC_MAKEFILE);
	dir = freenull(dir);

	/* a marker of another package does not count either */
	write_file(final, "stray", "x\n");
	write_file(final, DEBIAN_SOURCE_MARKER, SRC_NAME " 6.1.998-1\n");
	assert_int_equal(debian_source_tree(&k, f->cache, DEBIAN_FETCH_OFFLINE, &dir, err,
					    sizeof(err)),
			 0);
	assert_false(exists(stray));
	dir = freenull(dir);

	/* a half-written tree of a killed run at the final path (a file even) */
	assert_int_equal(rm_rf(final), 0);
	write_file(f->cache, "src/linux-source-" SRC_VERSION, "partial\n");
	assert_int_equal(debian_source_tree(&k, f->cache, DEBIAN_FETCH_OFFLINE, &dir, err,
					    sizeof(err)),
			 0);
	assert_file(final, "Makefile", SRC_MAKEFILE);
	free(dir);
	assert_no_temporaries(f->cache);
}

static void test_source_tree_from_cache(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *deb = build_source(f->dir, "good", SRC_VERSION, SOURCE_GOOD);
	_cleanup_free_ char *cached = path_join(f->cache, SRC_NAME "_" SRC_VERSION "_all.deb");
	struct debian_kernel k;
	char *dir = NULL;
	char err[512] = "";
	int r;

	if (!enough_space(f))
		return;
	/* DEBIAN_FETCH_NO_SOURCE left source_deb NULL: found in the cache, never downloaded */
	source_kernel(&k, NULL);
	assert_int_equal(debian_source_tree(&k, f->cache, DEBIAN_FETCH_OFFLINE, &dir, err,
					    sizeof(err)),
			 -ENOENT);
	assert_contains(err,
			SRC_NAME "=" SRC_VERSION " is neither in the archive nor in the cache");
	assert_null(dir);

	copy_file(deb, cached);
	r = debian_source_tree(&k, f->cache, DEBIAN_FETCH_OFFLINE, &dir, err, sizeof(err));
	if (r < 0)
		fail_msg("debian_source_tree (cached .deb): %d (%s)", r, err);
	assert_file(dir, "Makefile", SRC_MAKEFILE);
	free(dir);
	assert_no_temporaries(f->cache);
}

static void expect_source_error(struct fixture *f, const char *tag, const char *version,
				enum fake_source kind, int error, const char *message,
				const char *message2)
{
	_cleanup_free_ char *deb = build_source(f->dir, tag, version, kind);
	_cleanup_free_ char *final = path_join(f->cache, "src/linux-source-" SRC_VERSION);
	struct debian_kernel k;
	char *dir = NULL;
	char err[1024] = "";
	int r;

	source_kernel(&k, deb);
	r = debian_source_tree(&k, f->cache, DEBIAN_FETCH_OFFLINE, &dir, err, sizeof(err));
	if (r != error)
		fail_msg("%s: got %d (%s), expected %d", tag, r, err, error);
	assert_contains(err, message);
	if (message2)
		assert_contains(err, message2);
	assert_null(dir);
	assert_false(exists(final));
	assert_no_temporaries(f->cache);
}

static void test_source_tree_errors(void **state)
{
	struct fixture *f = *state;
	struct debian_kernel k;
	char *dir = NULL;
	char err[1024] = "";

	if (!enough_space(f))
		return;
	expect_source_error(f, "garbage", SRC_VERSION, SOURCE_GARBAGE_TARBALL, -EBADMSG,
			    "unpacking " SRC_MEMBER " of '", "tar -xJ failed: ");
	expect_source_error(f, "none", SRC_VERSION, SOURCE_NO_TARBALL, -EBADMSG,
			    "has no " SRC_MEMBER, NULL);
	expect_source_error(f, "older", SRC_VERSION, SOURCE_OTHER_VERSION, -EBADMSG,
			    "checking " SRC_MEMBER ": the Makefile is of Linux 6.1.998, "
			    "not 6.1.999",
			    NULL);
	expect_source_error(f, "twotops", SRC_VERSION, SOURCE_TWO_TOPS, -EBADMSG,
			    SRC_MEMBER " does not hold exactly one top directory", NULL);
	expect_source_error(f, "mislabelled", "6.1.998-1", SOURCE_GOOD, -EBADMSG,
			    "has version 6.1.998-1, expected " SRC_VERSION, NULL);

	/* not a package at all */
	write_file(f->dir, "bogus.deb", "not an ar archive\n");
	{
		_cleanup_free_ char *bogus = path_join(f->dir, "bogus.deb");

		source_kernel(&k, bogus);
		assert_int_equal(debian_source_tree(&k, f->cache, 0, &dir, err, sizeof(err)),
				 -EBADMSG);
		assert_contains(err, "reading the version of the source package: dpkg-deb -f");
	}

	/* no source of the kernel's own version: refused before anything is read */
	source_kernel(&k, (char *)"/nonexistent.deb");
	k.source_version = (char *)"6.1.998-1";
	k.source_exact = false;
	assert_int_equal(debian_source_tree(&k, f->cache, 0, &dir, err, sizeof(err)), -ENOENT);
	assert_contains(err, "has no version " SRC_VERSION " (the nearest is 6.1.998-1)");
	k.source_version = NULL;
	assert_int_equal(debian_source_tree(&k, f->cache, 0, &dir, err, sizeof(err)), -ENOENT);
	assert_contains(err, "no " SRC_NAME " in the archive or the cache");
	k.source_version = (char *)"../x";
	k.source_exact = true;
	assert_int_equal(debian_source_tree(&k, f->cache, 0, &dir, err, sizeof(err)), -EINVAL);
	k.release = (char *)"6.1";
	assert_int_equal(debian_source_tree(&k, f->cache, 0, &dir, err, sizeof(err)), -EINVAL);
	assert_null(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_release_check),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_packages_parse),
		cmocka_unit_test_setup_teardown(test_deb_inspect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deb_not_a_package, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_reuse_and_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_download_unknown_package, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_offline_from_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_tree_from_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_tree_errors, setup, teardown),
	};

	return TEST_MAIN(tests);
}
