/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive.h"
#include "channel.h"
#include "client.h"
#include "fileio.h"
#include "metadata.h"
#include "modinfo.h"
#include "serve.h"
#include "strbuf.h"
#include "test-lib.h"

#define RELEASE "6.1.0-54-amd64"
#define PASS "correct horse battery staple"

/* ---- a minimal ELF relocatable with a .modinfo section ---- */

static void put(unsigned char *p, uint64_t v, unsigned width, bool msb)
{
	for (unsigned i = 0; i < width; i++)
		p[msb ? width - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

/* Sections: null, .modinfo (or name), .shstrtab.  Caller frees. */
static unsigned char *make_elf(bool is64, bool msb, unsigned type, const char *secname,
			       const char *modinfo, size_t modinfo_len, size_t *ret_len)
{
	size_t ehsize = is64 ? 64 : 52, shentsize = is64 ? 64 : 40;
	char shstr[64];
	size_t shstr_len, name_off = 1, shstr_name, off_mi, off_str, off_sh, total;
	unsigned char *b;

	memset(shstr, 0, sizeof(shstr));
	snprintf(shstr + 1, sizeof(shstr) - 1, "%s", secname);
	shstr_name = 1 + strlen(secname) + 1;
	memcpy(shstr + shstr_name, ".shstrtab", 10);
	shstr_len = shstr_name + 10;
	off_mi = ehsize;
	off_str = off_mi + modinfo_len;
	off_sh = (off_str + shstr_len + 7) & ~(size_t)7;
	total = off_sh + 3 * shentsize;
	b = calloc(1, total);
	assert_non_null(b);
	memcpy(b, "\177ELF", 4);
	b[4] = is64 ? 2 : 1;
	b[5] = msb ? 2 : 1;
	b[6] = 1;
	put(b + 16, type, 2, msb);
	put(b + 18, 62, 2, msb);
	if (is64) {
		put(b + 40, off_sh, 8, msb);
		put(b + 58, shentsize, 2, msb);
		put(b + 60, 3, 2, msb);
		put(b + 62, 2, 2, msb);
	} else {
		put(b + 32, off_sh, 4, msb);
		put(b + 46, shentsize, 2, msb);
		put(b + 48, 3, 2, msb);
		put(b + 50, 2, 2, msb);
	}
	memcpy(b + off_mi, modinfo, modinfo_len);
	memcpy(b + off_str, shstr, shstr_len);
	for (int i = 1; i <= 2; i++) {
		unsigned char *s = b + off_sh + (size_t)i * shentsize;
		size_t name = i == 1 ? name_off : shstr_name, off = i == 1 ? off_mi : off_str;
		size_t size = i == 1 ? modinfo_len : shstr_len;

		put(s, name, 4, msb);
		put(s + 4, i == 1 ? 1 : 3, 4, msb);
		if (is64) {
			put(s + 24, off, 8, msb);
			put(s + 32, size, 8, msb);
		} else {
			put(s + 16, off, 4, msb);
			put(s + 20, size, 4, msb);
		}
	}
	*ret_len = total;
	return b;
}

static char *modinfo_of(const char *name, const char *release, bool livepatch, const char *salt,
			size_t *ret_len)
{
	struct strbuf sb;

	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_add(&sb, "license=GPL", 12), 0);
	if (name)
		assert_int_equal(strbuf_addf(&sb, "name=%s", name), 0), strbuf_addch(&sb, '\0');
	if (release)
		assert_int_equal(strbuf_addf(&sb, "vermagic=%s SMP preempt mod_unload modversions ",
					     release),
				 0),
			strbuf_addch(&sb, '\0');
	if (livepatch)
		assert_int_equal(strbuf_add(&sb, "livepatch=Y", 12), 0);
	assert_int_equal(strbuf_addf(&sb, "srcversion=%s", salt ?: "0"), 0);
	strbuf_addch(&sb, '\0');
	return strbuf_detach(&sb, ret_len);
}

static unsigned char *make_module(const char *name, const char *release, bool livepatch,
				  const char *salt, size_t *ret_len)
{
	size_t mlen;
	char *mi = modinfo_of(name, release, livepatch, salt, &mlen);
	unsigned char *b = make_elf(true, false, 1, ".modinfo", mi, mlen, ret_len);

	free(mi);
	return b;
}

static char *write_module(const char *dir, const char *file, const char *name,
			  const char *release, bool livepatch, const char *salt)
{
	size_t len;
	unsigned char *b = make_module(name, release, livepatch, salt, &len);
	char *path = path_join(dir, file);

	assert_non_null(path);
	assert_int_equal(write_file_atomic(path, b, len, 0644), 0);
	free(b);
	return path;
}

/* ---- modinfo ---- */

static void test_modinfo_good(void **state)
{
	struct modinfo m;
	char err[256];
	size_t len, mlen;
	unsigned char *b = make_module("livepatch_x", RELEASE, true, "a", &len);
	char *mi;

	(void)state;
	assert_int_equal(modinfo_parse(b, len, &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "livepatch_x");
	assert_string_equal(m.release, RELEASE);
	assert_true(m.livepatch);
	modinfo_release(&m);
	free(b);

	/* 32-bit big-endian: the same answers */
	mi = modinfo_of("lp_be", "5.10.0-1-powerpc", true, "b", &mlen);
	b = make_elf(false, true, 1, ".modinfo", mi, mlen, &len);
	assert_int_equal(modinfo_parse(b, len, &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "lp_be");
	assert_string_equal(m.release, "5.10.0-1-powerpc");
	modinfo_release(&m);
	free(b);
	free(mi);

	/* not a livepatch: parsed, flag false */
	b = make_module("plain", RELEASE, false, "c", &len);
	assert_int_equal(modinfo_parse(b, len, &m, err, sizeof(err)), 0);
	assert_false(m.livepatch);
	modinfo_release(&m);
	free(b);
}

static void expect_bad(const void *data, size_t len, const char *needle)
{
	struct modinfo m;
	char err[256] = "";

	assert_int_equal(modinfo_parse(data, len, &m, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, needle)) {
		print_error("err '%s' lacks '%s'\n", err, needle);
		fail();
	}
}

static void test_modinfo_bad(void **state)
{
	size_t len, mlen;
	unsigned char *b;
	char *mi;

	(void)state;
	expect_bad("#!/bin/sh\necho hi\n", 18, "not an ELF file");
	expect_bad("\177EL", 3, "not an ELF file");
	b = make_module("x", RELEASE, true, "a", &len);
	expect_bad(b, 40, "truncated ELF header");
	b[4] = 9;
	expect_bad(b, len, "unknown ELF class");
	b[4] = 2;
	put(b + 16, 2, 2, false); /* ET_EXEC */
	expect_bad(b, len, "not a relocatable");
	put(b + 16, 1, 2, false);
	expect_bad(b, len - 64, "section header table"); /* truncated: headers cut off */
	put(b + 40, (uint64_t)len + 100, 8, false);
	expect_bad(b, len, "section header table");
	free(b);

	b = make_module("x", RELEASE, true, "a", &len);
	put(b + 62, 7, 2, false); /* shstrndx past the table */
	expect_bad(b, len, "section name table index");
	free(b);

	mi = modinfo_of("x", RELEASE, true, "a", &mlen);
	b = make_elf(true, false, 1, ".data", mi, mlen, &len);
	expect_bad(b, len, "no .modinfo");
	free(b);
	free(mi);

	mi = modinfo_of(NULL, RELEASE, true, "a", &mlen);
	b = make_elf(true, false, 1, ".modinfo", mi, mlen, &len);
	expect_bad(b, len, "no name=");
	free(b);
	free(mi);

	mi = modinfo_of("bad/name", RELEASE, true, "a", &mlen);
	b = make_elf(true, false, 1, ".modinfo", mi, mlen, &len);
	expect_bad(b, len, "invalid module name");
	free(b);
	free(mi);

	/* .modinfo's offset beyond the file */
	mi = modinfo_of("x", RELEASE, true, "a", &mlen);
	b = make_elf(true, false, 1, ".modinfo", mi, mlen, &len);
	{
		uint64_t shoff = 0;

		for (int i = 7; i >= 0; i--)
			shoff = shoff << 8 | b[40 + i];
		put(b + shoff + 64 + 24, 1u << 30, 8, false); /* section 1's sh_offset */
	}
	expect_bad(b, len, ".modinfo");
	free(b);
	free(mi);
}

/* ---- small parsers ---- */

static void test_duration_release(void **state)
{
	int64_t d;

	(void)state;
	assert_int_equal(archive_parse_duration("30d", &d), 0);
	assert_int_equal(d, 30 * 86400);
	assert_int_equal(archive_parse_duration("1d12h", &d), 0);
	assert_int_equal(d, 36 * 3600);
	assert_int_equal(archive_parse_duration("2w", &d), 0);
	assert_int_equal(d, 14 * 86400);
	assert_int_equal(archive_parse_duration("45s", &d), 0);
	assert_int_equal(d, 45);
	assert_int_equal(archive_parse_duration("", &d), -EINVAL);
	assert_int_equal(archive_parse_duration("5", &d), -EINVAL);
	assert_int_equal(archive_parse_duration("5x", &d), -EINVAL);
	assert_int_equal(archive_parse_duration("d", &d), -EINVAL);
	assert_int_equal(archive_parse_duration("0s", &d), -ERANGE);
	assert_int_equal(archive_parse_duration("99999999999d", &d), -ERANGE);

	assert_true(archive_release_is_valid(RELEASE));
	assert_true(archive_release_is_valid("6.1.0-rc1~x_y"));
	assert_false(archive_release_is_valid(""));
	assert_false(archive_release_is_valid(".."));
	assert_false(archive_release_is_valid("6.1/x"));
	assert_false(archive_release_is_valid("6.1.0+"));
	assert_false(archive_release_is_valid(
		"12345678901234567890123456789012345678901234567890123456789012345"));
	assert_int_equal(archive_role_from_string("kernels"), ARCHIVE_ROLE_KERNELS);
	assert_int_equal(archive_role_from_string("mirror"), _ARCHIVE_ROLE_INVALID);
	assert_string_equal(archive_role_to_string(ARCHIVE_ROLE_TIMESTAMP), "timestamp");
}

static void check_path(const char *url, const char *want, unsigned want_status)
{
	unsigned st = 0;
	char *p = archive_serve_check_path(url, &st);

	if (want) {
		assert_non_null(p);
		assert_string_equal(p, want);
	} else {
		assert_null(p);
	}
	assert_int_equal(st, want_status);
	free(p);
}

static void test_serve_paths(void **state)
{
	(void)state;
	check_path("/metadata/timestamp.json", "metadata/timestamp.json", 200);
	check_path("/metadata/1.6%2E1.json", "metadata/1.6.1.json", 200);
	check_path("/", NULL, 404);
	check_path("", NULL, 400);
	check_path("metadata/x", NULL, 400);
	check_path("/../etc/passwd", NULL, 400);
	check_path("/metadata/../../etc/passwd", NULL, 400);
	check_path("/%2e%2e/etc/passwd", NULL, 400);
	check_path("/metadata/%2E%2e/x", NULL, 400);
	check_path("/metadata/.%2e/x", NULL, 400);
	check_path("/%252e%252e/x", NULL, 400);
	check_path("/./metadata/x", NULL, 400);
	check_path("/metadata//x", NULL, 400);
	check_path("/metadata/", "metadata", 200);
	check_path("/metadata//", NULL, 400);
	check_path("/metadata%2fx", NULL, 400);
	check_path("/metadata/x%00.json", NULL, 400);
	check_path("/metadata/x%zz", NULL, 400);
	check_path("/metadata/x%2", NULL, 400);
	check_path("/metadata/x%", NULL, 400);
	check_path("/metadata\\..\\x", NULL, 400);
	check_path("/metadata/x\ty", NULL, 400);
}

/* ---- the archive ---- */

struct fx {
	char *dir, *archive, *mods;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = test_tmpdir_new();
	f->archive = path_join(f->dir, "archive");
	f->mods = path_join(f->dir, "mods");
	assert_int_equal(mkdir_p(f->mods, 0755), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	free(f->archive);
	free(f->mods);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void init_archive(struct fx *f, enum tuf_scheme scheme)
{
	struct archive_init_options o = { .scheme = scheme, .passphrase = PASS };
	char err[512] = "";
	int r = archive_init(f->archive, &o, err, sizeof(err));

	if (r < 0)
		print_error("init: %s\n", err);
	assert_int_equal(r, 0);
}

static struct archive *open_archive(struct fx *f, const char *pass)
{
	struct archive *a = NULL;
	char err[512] = "";

	assert_int_equal(archive_open(f->archive, ARCHIVE_OPEN_LOCK, &a, err, sizeof(err)), 0);
	assert_int_equal(archive_set_passphrases(a, pass, NULL), 0);
	return a;
}

static char *meta_path(struct fx *f, const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/repository/metadata/%s", f->archive, name) > 0);
	return p;
}

static bool meta_exists(struct fx *f, const char *name)
{
	char *p = meta_path(f, name);
	bool r = access(p, F_OK) == 0;

	free(p);
	return r;
}

static char *read_meta(struct fx *f, const char *name)
{
	char *p = meta_path(f, name), *buf = NULL;
	size_t len;

	assert_int_equal(read_file_bounded(p, 0, &buf, &len), 0);
	free(p);
	return buf;
}

/* A client of our own TUF library, reading the repository through file:// URLs. */
struct client {
	char *meta, *targets, *mdir, *tdir;
	struct tuf_client *c;
};

static void client_new(struct fx *f, struct client *cl)
{
	struct tuf_client_config cfg = { 0 };
	char *root = meta_path(f, "1.root.json"), err[512] = "";
	int r;

	memset(cl, 0, sizeof(*cl));
	assert_true(asprintf(&cl->meta, "file://%s/repository/metadata/", f->archive) > 0);
	assert_true(asprintf(&cl->targets, "file://%s/repository/targets/", f->archive) > 0);
	cl->mdir = path_join(f->dir, "client-meta");
	cl->tdir = path_join(f->dir, "client-targets");
	r = tuf_client_init_root(cl->mdir, root, err, sizeof(err));
	if (r < 0)
		print_error("client init: %s\n", err);
	assert_int_equal(r, 0);
	free(root);
	cfg.metadata_dir = cl->mdir;
	cfg.metadata_url = cl->meta;
	cfg.target_url = cl->targets;
	cfg.target_dir = cl->tdir;
	assert_int_equal(tuf_client_new(&cfg, &cl->c, err, sizeof(err)), 0);
}

static int client_refresh(struct fx *f, struct client *cl)
{
	struct tuf_client_config cfg = { 0 };
	char err[512] = "";
	int r;

	(void)f;
	/* a fresh client each time, from the trusted state on disk */
	tuf_client_free(cl->c);
	cfg.metadata_dir = cl->mdir;
	cfg.metadata_url = cl->meta;
	cfg.target_url = cl->targets;
	cfg.target_dir = cl->tdir;
	assert_int_equal(tuf_client_new(&cfg, &cl->c, err, sizeof(err)), 0);
	r = tuf_client_refresh(cl->c, err, sizeof(err));
	if (r < 0)
		print_message("# client refresh: %s\n", err);
	return r;
}

static void client_release(struct client *cl)
{
	tuf_client_free(cl->c);
	free(cl->meta);
	free(cl->targets);
	free(cl->mdir);
	free(cl->tdir);
}

static void publish_ok(struct archive *a, struct archive_result *res)
{
	char err[512] = "";
	int r = archive_publish(a, res, err, sizeof(err));

	if (r < 0)
		print_error("publish: %s\n", err);
	assert_int_equal(r, 0);
}

static void test_init(void **state)
{
	struct fx *f = *state;
	struct archive_init_options o = { .passphrase = PASS };
	char err[512] = "", *buf, *p;
	struct stat st;
	json_t *j;

	init_archive(f, TUF_SCHEME_ED25519);
	assert_true(meta_exists(f, "1.root.json"));
	assert_true(meta_exists(f, "root.json"));
	assert_true(meta_exists(f, "1.targets.json"));
	assert_true(meta_exists(f, "1.snapshot.json"));
	assert_true(meta_exists(f, "timestamp.json"));
	buf = read_meta(f, "1.root.json");
	j = json_loads(buf, 0, NULL);
	assert_non_null(j);
	assert_true(json_is_true(json_object_get(json_object_get(j, "signed"),
						  "consistent_snapshot")));
	assert_int_equal(json_object_size(json_object_get(json_object_get(j, "signed"), "keys")),
			 4);
	json_decref(j);
	free(buf);
	/* offline keys encrypted, online keys private to the owner */
	p = path_join(f->archive, "keys/offline");
	{
		char cmd[1024];

		snprintf(cmd, sizeof(cmd),
			 "grep -l 'ENCRYPTED PRIVATE KEY' %s/root-*.pem %s/targets-*.pem "
			 "| wc -l | grep -qx 2",
			 p, p);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd),
			 "stat -c %%a %s/keys/online/*.pem | sort -u | grep -qx 600", f->archive);
		assert_int_equal(system(cmd), 0);
	}
	free(p);
	assert_int_equal(stat(f->archive, &st), 0);

	/* bad input */
	assert_int_equal(archive_init(f->archive, &o, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "not empty"));
	p = path_join(f->dir, "other");
	o.passphrase = NULL;
	assert_int_equal(archive_init(p, &o, err, sizeof(err)), -ENOKEY);
	assert_non_null(strstr(err, "passphrase"));
	rm_rf(p);
	o.passphrase = PASS;
	o.n_keys[ARCHIVE_ROLE_ROOT] = 2;
	o.threshold[ARCHIVE_ROLE_ROOT] = 3;
	assert_int_equal(archive_init(p, &o, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "threshold 3"));
	free(p);
}

static void test_add_publish_client(void **state)
{
	struct fx *f = *state;
	struct archive *a;
	struct archive_result res = { 0 };
	struct archive_add_options ao = { 0 };
	char *cves[] = { "CVE-2024-1234", "CVE-2025-40001", NULL };
	char err[512] = "", *m1, *m2, *plain, *other, *junk, *ts_before, *ts_after;
	json_t *entries = NULL, *custom, *chans;
	struct client cl;
	struct tuf_target *t = NULL;
	char *local = NULL;
	size_t len;
	int r;

	init_archive(f, TUF_SCHEME_ED25519);
	m1 = write_module(f->mods, "lp1.ko", "livepatch_x", RELEASE, true, "1");
	m2 = write_module(f->mods, "lp2.ko", "livepatch_x", RELEASE, true, "2");
	plain = write_module(f->mods, "plain.ko", "plain", RELEASE, false, "3");
	other = write_module(f->mods, "other.ko", "livepatch_y", "6.1.0-53-amd64", true, "4");
	junk = path_join(f->mods, "junk.ko");
	assert_int_equal(write_file_atomic(junk, "not elf", 7, 0644), 0);

	a = open_archive(f, PASS);
	ao.cves = cves;
	ao.build_id = "0123456789abcdef0123456789abcdef01234567";
	r = archive_add(a, &m1, 1, &ao, &entries, err, sizeof(err));
	if (r < 0)
		print_error("add: %s\n", err);
	assert_int_equal(r, 0);
	assert_int_equal(json_array_size(entries), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(entries, 0), "path")),
			    RELEASE "/livepatch_x-1.ko");
	json_decref(entries);
	entries = NULL;

	/* refusals, each with its errno and message */
	assert_int_equal(archive_add(a, &m1, 1, &ao, NULL, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "already in the archive as '" RELEASE "/livepatch_x-1.ko'"));
	assert_int_equal(archive_add(a, &plain, 1, &ao, NULL, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "not a livepatch"));
	assert_int_equal(archive_add(a, &junk, 1, &ao, NULL, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "not an ELF file"));
	ao.kernel_release = RELEASE;
	assert_int_equal(archive_add(a, &other, 1, &ao, NULL, err, sizeof(err)), -EXDEV);
	assert_non_null(strstr(err, "built for kernel '6.1.0-53-amd64'"));
	ao.kernel_release = "6.1.0+";
	assert_int_equal(archive_add(a, &m2, 1, &ao, NULL, err, sizeof(err)), -EINVAL);
	ao.kernel_release = NULL;
	ao.replaces = RELEASE "/nope-1.ko";
	assert_int_equal(archive_add(a, &m2, 1, &ao, NULL, err, sizeof(err)), -ENOENT);
	ao.replaces = NULL;
	{
		char *bad[] = { "CVE-24-1", NULL };
		struct archive_add_options b = { .cves = bad };

		assert_int_equal(archive_add(a, &m2, 1, &b, NULL, err, sizeof(err)), -EINVAL);
		b.cves = NULL;
		b.build_id = "xyz";
		assert_int_equal(archive_add(a, &m2, 1, &b, NULL, err, sizeof(err)), -EINVAL);
		b.build_id = NULL;
		b.min_agent_version = "1..2";
		assert_int_equal(archive_add(a, &m2, 1, &b, NULL, err, sizeof(err)), -EINVAL);
	}

	/* a second version of the module: patch_version 2, replaces the first */
	ao.cves = NULL;
	ao.build_id = NULL;
	assert_int_equal(archive_add(a, &m2, 1, &ao, &entries, err, sizeof(err)), 0);
	custom = json_object_get(json_array_get(entries, 0), "custom");
	assert_int_equal(json_integer_value(json_object_get(custom, "patch_version")), 2);
	assert_string_equal(json_string_value(json_object_get(custom, "replaces")),
			    RELEASE "/livepatch_x-1.ko");
	json_decref(entries);

	/* a new role needs the offline targets key: without the passphrase nothing changes */
	ts_before = read_meta(f, "timestamp.json");
	assert_int_equal(archive_set_passphrases(a, NULL, NULL), 0);
	assert_int_equal(archive_publish(a, &res, err, sizeof(err)), -ENOKEY);
	assert_non_null(strstr(err, "passphrase"));
	assert_int_equal(archive_set_passphrases(a, "wrong", NULL), 0);
	assert_int_equal(archive_publish(a, &res, err, sizeof(err)), -EKEYREJECTED);
	assert_non_null(strstr(err, "wrong passphrase"));
	ts_after = read_meta(f, "timestamp.json");
	assert_string_equal(ts_before, ts_after);
	assert_false(meta_exists(f, "1." RELEASE ".json"));
	free(ts_before);
	free(ts_after);

	assert_int_equal(archive_set_passphrases(a, PASS, NULL), 0);
	publish_ok(a, &res);
	assert_true(res.changed);
	assert_true(res.targets_written);
	assert_int_equal(res.timestamp_version, 2);
	assert_int_equal(res.snapshot_version, 2);
	assert_int_equal(res.targets_version, 2);
	assert_int_equal(res.root_version, 1);
	assert_int_equal(strv_length(res.roles), 1);
	assert_string_equal(res.roles[0], RELEASE);
	archive_result_release(&res);
	assert_true(meta_exists(f, "1." RELEASE ".json"));
	assert_true(meta_exists(f, "2.targets.json"));

	/* nothing staged: no-op */
	publish_ok(a, &res);
	assert_false(res.changed);
	assert_int_equal(res.timestamp_version, 2);
	archive_result_release(&res);

	/* what a node sees, through our TUF client */
	client_new(f, &cl);
	assert_int_equal(client_refresh(f, &cl), 0);
	r = tuf_client_find_target(cl.c, RELEASE "/livepatch_x-1.ko", &t, err, sizeof(err));
	if (r < 0)
		print_error("find: %s\n", err);
	assert_int_equal(r, 0);
	assert_string_equal(t->role, RELEASE);
	custom = t->custom;
	assert_string_equal(json_string_value(json_object_get(custom, "kernel_release")), RELEASE);
	assert_string_equal(json_string_value(json_object_get(custom, "build_id")),
			    "0123456789abcdef0123456789abcdef01234567");
	assert_string_equal(json_string_value(json_object_get(custom, "module_name")),
			    "livepatch_x");
	assert_int_equal(json_integer_value(json_object_get(custom, "patch_version")), 1);
	assert_int_equal(json_array_size(json_object_get(custom, "cves")), 2);
	assert_true(json_is_null(json_object_get(custom, "replaces")));
	assert_true(json_is_true(json_object_get(custom, "replace")));
	assert_string_equal(json_string_value(json_object_get(custom, "min_agent_version")),
			    "0.1.0");
	assert_non_null(json_string_value(json_object_get(custom, "created")));
	assert_true(json_is_false(json_object_get(custom, "revoked")));
	assert_true(json_is_null(json_object_get(custom, "revoked_reason")));
	/* published in stable only unless told otherwise */
	assert_int_equal(json_array_size(json_object_get(custom, "channels")), 1);
	chans = json_object_get(custom, "channels");
	assert_string_equal(json_string_value(json_array_get(chans, 0)), "stable");
	assert_int_equal(json_object_size(custom), 12);
	r = tuf_client_download_target(cl.c, t, &local, err, sizeof(err));
	if (r < 0)
		print_error("download: %s\n", err);
	assert_int_equal(r, 0);
	{
		char *got = NULL, *want = NULL;
		size_t wl;

		assert_int_equal(read_file_bounded(local, 0, &got, &len), 0);
		assert_int_equal(read_file_bounded(m1, 0, &want, &wl), 0);
		assert_int_equal(len, wl);
		assert_memory_equal(got, want, len);
		free(got);
		free(want);
	}
	free(local);
	tuf_target_free(t);

	/* revoke: listed with revoked true and the reason */
	assert_int_equal(archive_revoke(a, RELEASE "/livepatch_x-1.ko", "oops on boot", err,
					sizeof(err)),
			 0);
	assert_int_equal(archive_revoke(a, RELEASE "/livepatch_x-1.ko", "again", err, sizeof(err)),
			 -EALREADY);
	assert_int_equal(archive_revoke(a, RELEASE "/nope-1.ko", "x", err, sizeof(err)), -ENOENT);
	assert_int_equal(archive_revoke(a, RELEASE "/livepatch_x-2.ko", "", err, sizeof(err)),
			 -EINVAL);
	publish_ok(a, &res);
	assert_false(res.targets_written); /* same delegations: no offline key needed */
	archive_result_release(&res);
	assert_int_equal(client_refresh(f, &cl), 0);
	assert_int_equal(tuf_client_find_target(cl.c, RELEASE "/livepatch_x-1.ko", &t, err,
						sizeof(err)),
			 0);
	assert_true(json_is_true(json_object_get(t->custom, "revoked")));
	assert_string_equal(json_string_value(json_object_get(t->custom, "revoked_reason")),
			    "oops on boot");
	tuf_target_free(t);

	/* remove: gone for nodes; the file goes once no kept version lists it */
	assert_int_equal(archive_remove(a, RELEASE "/livepatch_x-2.ko", err, sizeof(err)), 0);
	assert_int_equal(archive_remove(a, RELEASE "/livepatch_x-2.ko", err, sizeof(err)), -ENOENT);
	assert_int_equal(archive_remove(a, "nonsense", err, sizeof(err)), -ENOENT);
	publish_ok(a, &res);
	archive_result_release(&res);
	assert_int_equal(client_refresh(f, &cl), 0);
	assert_int_equal(tuf_client_find_target(cl.c, RELEASE "/livepatch_x-2.ko", &t, err,
						sizeof(err)),
			 -ENOENT);
	{
		json_t *list = NULL;

		assert_int_equal(archive_list(a, NULL, &list, err, sizeof(err)), 0);
		assert_int_equal(json_array_size(list), 1);
		assert_true(json_is_true(json_object_get(json_array_get(list, 0), "published")));
		json_decref(list);
		assert_int_equal(archive_list(a, "6.9.9", &list, err, sizeof(err)), -ENOENT);
	}
	/* four more versions of the role: the removed file and old metadata are pruned */
	for (int i = 0; i < 4; i++) {
		char name[32], salt[8], *m;

		snprintf(name, sizeof(name), "more%d.ko", i);
		snprintf(salt, sizeof(salt), "m%d", i);
		m = write_module(f->mods, name, "livepatch_z", RELEASE, true, salt);
		assert_int_equal(archive_add(a, &m, 1, &ao, NULL, err, sizeof(err)), 0);
		publish_ok(a, &res);
		archive_result_release(&res);
		free(m);
	}
	assert_false(meta_exists(f, "1." RELEASE ".json"));
	assert_false(meta_exists(f, "2.snapshot.json"));
	assert_true(meta_exists(f, "1.root.json"));
	{
		char cmd[1024];

		snprintf(cmd, sizeof(cmd),
			 "ls %s/repository/targets/%s | grep -c livepatch_x-2 | grep -qx 0",
			 f->archive, RELEASE);
		assert_int_equal(system(cmd), 0);
	}
	assert_int_equal(client_refresh(f, &cl), 0);

	client_release(&cl);
	archive_free(a);
	free(m1);
	free(m2);
	free(plain);
	free(other);
	free(junk);
}

static void test_refresh_rotate(void **state)
{
	struct fx *f = *state;
	struct archive_result res = { 0 };
	struct archive_add_options ao = { 0 };
	char err[512] = "", *m;
	struct archive *a;
	struct client cl;
	int64_t now = time(NULL);
	int r;

	init_archive(f, TUF_SCHEME_ECDSA_P256);
	a = open_archive(f, PASS);
	m = write_module(f->mods, "lp.ko", "livepatch_r", RELEASE, true, "r");
	assert_int_equal(archive_add(a, &m, 1, &ao, NULL, err, sizeof(err)), 0);
	publish_ok(a, &res);
	archive_result_release(&res);
	client_new(f, &cl);
	assert_int_equal(client_refresh(f, &cl), 0);

	/* nothing near expiry */
	assert_int_equal(archive_refresh(a, -1, &res, err, sizeof(err)), 0);
	assert_false(res.changed);
	archive_result_release(&res);

	/* 23 h later the 1-day timestamp is within half its lifetime: re-signed alone */
	archive_set_now(a, now + 23 * 3600);
	assert_int_equal(archive_refresh(a, -1, &res, err, sizeof(err)), 0);
	assert_true(res.changed);
	assert_int_equal(res.timestamp_version, 3);
	assert_int_equal(res.snapshot_version, 2);
	archive_result_release(&res);

	/* 89 days later everything is near: online roles re-signed; targets and root too
	 * with the passphrase; without it, warnings */
	archive_free(a);
	a = open_archive(f, NULL);
	archive_set_now(a, now + 89 * 86400);
	assert_int_equal(archive_refresh(a, -1, &res, err, sizeof(err)), 0);
	assert_int_equal(strv_length(res.warnings), 1); /* targets (90 d); root has 365 d */
	assert_non_null(strstr(res.warnings[0], "targets metadata expires"));
	assert_int_equal(strv_length(res.roles), 1);
	assert_false(res.targets_written);
	archive_result_release(&res);
	assert_int_equal(archive_set_passphrases(a, PASS, NULL), 0);
	assert_int_equal(archive_refresh(a, -1, &res, err, sizeof(err)), 0);
	assert_true(res.targets_written);
	assert_int_equal(strv_length(res.warnings), 0);
	archive_result_release(&res);
	assert_int_equal(archive_refresh(a, 400LL * 86400, &res, err, sizeof(err)), 0);
	assert_true(res.root_written);
	assert_int_equal(res.root_version, 2);
	archive_result_release(&res);
	archive_set_now(a, 0);
	archive_free(a);

	/* rotations: the client follows the root chain */
	a = open_archive(f, PASS);
	r = archive_rotate(a, ARCHIVE_ROLE_TIMESTAMP, -1, &res, err, sizeof(err));
	if (r < 0)
		print_error("rotate: %s\n", err);
	assert_int_equal(r, 0);
	assert_true(res.root_written);
	assert_int_equal(res.root_version, 3);
	archive_result_release(&res);
	assert_int_equal(client_refresh(f, &cl), 0);
	assert_int_equal(archive_rotate(a, ARCHIVE_ROLE_ROOT, TUF_SCHEME_ED25519, &res, err,
					sizeof(err)),
			 0);
	assert_int_equal(res.root_version, 4);
	archive_result_release(&res);
	assert_int_equal(archive_rotate(a, ARCHIVE_ROLE_KERNELS, -1, &res, err, sizeof(err)), 0);
	assert_true(res.targets_written);
	assert_int_equal(strv_length(res.roles), 1);
	archive_result_release(&res);
	assert_int_equal(archive_rotate(a, ARCHIVE_ROLE_SNAPSHOT, -1, &res, err, sizeof(err)), 0);
	archive_result_release(&res);
	assert_int_equal(archive_rotate(a, ARCHIVE_ROLE_TARGETS, -1, &res, err, sizeof(err)), 0);
	assert_int_equal(res.root_version, 6);
	archive_result_release(&res);
	assert_int_equal(client_refresh(f, &cl), 0);
	{
		char *root = read_meta(f, "root.json");
		json_t *j = json_loads(root, 0, NULL);

		assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "signed"),
								    "version")),
				 6);
		json_decref(j);
		free(root);
	}
	/* root rotation without the passphrase: refused, nothing changed */
	archive_free(a);
	a = open_archive(f, NULL);
	assert_int_equal(archive_rotate(a, ARCHIVE_ROLE_ROOT, -1, &res, err, sizeof(err)), -ENOKEY);
	assert_false(meta_exists(f, "7.root.json"));
	assert_int_equal(client_refresh(f, &cl), 0);

	client_release(&cl);
	archive_free(a);
	free(m);
}

static void test_bad_state(void **state)
{
	struct fx *f = *state;
	struct archive_result res = { 0 };
	struct archive_add_options ao = { 0 };
	struct archive *a, *b = NULL;
	char err[512] = "", *m, *ts, *ts2, *p;

	init_archive(f, TUF_SCHEME_ED25519);
	a = open_archive(f, PASS);
	/* a second writer is locked out */
	assert_int_equal(archive_open(f->archive, ARCHIVE_OPEN_LOCK, &b, err, sizeof(err)),
			 -EWOULDBLOCK);
	assert_int_equal(archive_open(f->dir, 0, &b, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "not an archive"));

	m = write_module(f->mods, "lp.ko", "livepatch_s", RELEASE, true, "s");
	assert_int_equal(archive_add(a, &m, 1, &ao, NULL, err, sizeof(err)), 0);
	ts = read_meta(f, "timestamp.json");
	/* a corrupt staged role: refused, the repository as it was */
	assert_true(asprintf(&p, "%s/staged/roles/%s.json", f->archive, RELEASE) > 0);
	assert_int_equal(write_file_atomic(p, "{\"name\": ", 9, 0644), 0);
	assert_int_equal(archive_publish(a, &res, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "staged state is corrupt"));
	assert_non_null(strstr(err, RELEASE ".json"));
	assert_int_equal(
		write_file_atomic(p, "{\"name\": \"x\", \"targets\": {}, \"patch_versions\": {}}",
				  50, 0644),
		0);
	assert_int_equal(archive_publish(a, &res, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "not a role of"));
	free(p);
	/* a corrupt change list */
	assert_true(asprintf(&p, "%s/staged/changes.json", f->archive) > 0);
	assert_int_equal(write_file_atomic(p, "{\"roles\": [\"../x\"], \"garbage\": []}", 34, 0644),
			 0);
	assert_int_equal(archive_publish(a, &res, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "roles[0]"));
	free(p);
	ts2 = read_meta(f, "timestamp.json");
	assert_string_equal(ts, ts2);
	free(ts2);
	/* a missing online key */
	assert_true(asprintf(&p, "rm %s/keys/online/timestamp-*.pem", f->archive) > 0);
	assert_int_equal(system(p), 0);
	free(p);
	assert_true(asprintf(&p, "%s/staged/changes.json", f->archive) > 0);
	assert_int_equal(write_file_atomic(p, "{\"roles\": [], \"garbage\": []}", 28, 0644), 0);
	free(p);
	assert_int_equal(archive_refresh(a, 1000LL * 86400, &res, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "timestamp key"));
	ts2 = read_meta(f, "timestamp.json");
	assert_string_equal(ts, ts2);
	free(ts2);
	free(ts);
	archive_free(a);
	free(m);
}

/* The staged role file of RELEASE, to compare before and after a refused command. */
static char *read_staged_role(struct fx *f)
{
	char *p = NULL, *buf = NULL;
	size_t len;

	assert_true(asprintf(&p, "%s/staged/roles/%s.json", f->archive, RELEASE) > 0);
	assert_int_equal(read_file_bounded(p, 0, &buf, &len), 0);
	free(p);
	return buf;
}

static json_t *staged_channels(struct archive *a, const char *path)
{
	json_t *list = NULL, *e, *ret = NULL;
	char err[512] = "";
	size_t i;

	assert_int_equal(archive_list(a, RELEASE, &list, err, sizeof(err)), 0);
	json_array_foreach (list, i, e)
		if (streq(json_string_value(json_object_get(e, "path")), path))
			ret = json_incref(
				json_object_get(json_object_get(e, "custom"), "channels"));
	json_decref(list);
	return ret;
}

static void expect_channels(struct archive *a, const char *path, const char *want)
{
	json_t *got = staged_channels(a, path), *w = json_loads(want, 0, NULL);

	assert_non_null(w);
	if (!json_equal(got, w)) {
		char *g = got ? json_dumps(got, JSON_COMPACT) : NULL;

		fail_msg("channels of '%s': %s, want %s", path, g ? g : "(none)", want);
	}
	json_decref(got);
	json_decref(w);
}

static void test_channels(void **state)
{
	struct fx *f = *state;
	struct archive_result res = { 0 };
	struct archive_add_options ao = { 0 };
	char *beta_edge[] = { "beta", "edge", NULL }, *stable[] = { "stable", NULL };
	char *beta[] = { "beta", NULL }, *edge[] = { "edge", NULL }, *none[] = { NULL };
	char err[512] = "", *m1, *m2, *m3, *before, *after, *p;
	char *many[CHANNELS_MAX + 2];
	char names[CHANNELS_MAX + 1][8];
	json_t *entries = NULL, *list = NULL;
	struct archive *a;
	struct client cl;
	struct tuf_target *t = NULL;
	bool changed = true;

	init_archive(f, TUF_SCHEME_ED25519);
	m1 = write_module(f->mods, "lp1.ko", "livepatch_c", RELEASE, true, "c1");
	m2 = write_module(f->mods, "lp2.ko", "livepatch_c", RELEASE, true, "c2");
	m3 = write_module(f->mods, "lp3.ko", "livepatch_c", RELEASE, true, "c3");
	a = open_archive(f, PASS);
	for (size_t i = 0; i <= CHANNELS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "c%zu", i);
		many[i] = names[i];
	}
	many[CHANNELS_MAX + 1] = NULL;

	/* add: default stable; --channel sets the list */
	assert_int_equal(archive_add(a, &m1, 1, &ao, NULL, err, sizeof(err)), 0);
	ao.channels = beta_edge;
	assert_int_equal(archive_add(a, &m2, 1, &ao, &entries, err, sizeof(err)), 0);
	list = json_object_get(json_array_get(entries, 0), "custom");
	/* patch versions are per release, whatever the channels */
	assert_int_equal(json_integer_value(json_object_get(list, "patch_version")), 2);
	list = json_object_get(list, "channels");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_array_get(list, 1)), "edge");
	json_decref(entries);
	expect_channels(a, RELEASE "/livepatch_c-1.ko", "[\"stable\"]");
	expect_channels(a, RELEASE "/livepatch_c-2.ko", "[\"beta\", \"edge\"]");

	/* bad --channel lists stage nothing */
	before = read_staged_role(f);
	{
		char *bad[] = { "Beta", NULL }, *dup[] = { "beta", "beta", NULL };
		char *dash[] = { "-x", NULL }, *empty[] = { "", NULL };
		char *slash[] = { "a/b", NULL };
		char *const *cases[] = { bad, dup, dash, empty, slash, many };
		const char *needles[] = { "invalid channel 'Beta'", "channel 'beta' given twice",
					  "invalid channel '-x'", "invalid channel ''",
					  "invalid channel 'a/b'", "17 channels, at most 16" };

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			ao.channels = cases[i];
			assert_int_equal(archive_add(a, &m3, 1, &ao, NULL, err, sizeof(err)),
					 -EINVAL);
			if (!strstr(err, needles[i]))
				fail_msg("error '%s' lacks '%s'", err, needles[i]);
		}
	}
	after = read_staged_role(f);
	assert_string_equal(before, after);
	free(after);
	ao.channels = NULL;

	/* promote: add a channel, drop one, both in one go; no change stages nothing */
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", stable, edge, &changed,
					 &list, err, sizeof(err)),
			 0);
	assert_true(changed);
	assert_int_equal(json_array_size(list), 2);
	json_decref(list);
	list = NULL;
	expect_channels(a, RELEASE "/livepatch_c-2.ko", "[\"beta\", \"stable\"]");
	free(before);
	before = read_staged_role(f);
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", stable, NULL, &changed,
					 NULL, err, sizeof(err)),
			 0);
	assert_false(changed);
	after = read_staged_role(f);
	assert_string_equal(before, after);
	free(after);
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", NULL, edge, &changed, NULL,
					 err, sizeof(err)),
			 0);
	assert_false(changed);

	/* refusals, each with its errno and message, the staged state unchanged */
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-9.ko", stable, NULL, NULL, NULL,
					 err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "no target '" RELEASE "/livepatch_c-9.ko' is staged"));
	assert_int_equal(archive_promote(a, "6.1.0-1-amd64/x-1.ko", stable, NULL, NULL, NULL, err,
					 sizeof(err)),
			 -ENOENT);
	assert_int_equal(archive_promote(a, "nonsense", stable, NULL, NULL, NULL, err, sizeof(err)),
			 -ENOENT);
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", NULL, NULL, NULL, NULL,
					 err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "no channel to add or remove"));
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", none, none, NULL, NULL,
					 err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", beta, beta, NULL, NULL,
					 err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "channel 'beta' both added and removed"));
	{
		char *bad[] = { "Stable!", NULL };

		assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", bad, NULL, NULL,
						 NULL, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "invalid channel 'Stable!' in --channel"));
		assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", NULL, bad, NULL,
						 NULL, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "invalid channel 'Stable!' in --remove-channel"));
	}
	{
		char *both[] = { "beta", "stable", NULL };

		assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", NULL, both, NULL,
						 NULL, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "would be in no channel"));
	}
	/* [beta, stable] and 15 more would be 17 */
	many[CHANNELS_MAX - 1] = NULL;
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", many, NULL, NULL, NULL,
					 err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "would be in 17 channels, at most 16"));
	many[CHANNELS_MAX - 1] = names[CHANNELS_MAX - 1];
	after = read_staged_role(f);
	assert_string_equal(before, after);
	free(after);
	free(before);

	/* a revoked target stays where it is */
	assert_int_equal(archive_revoke(a, RELEASE "/livepatch_c-1.ko", "bad", err, sizeof(err)),
			 0);
	before = read_staged_role(f);
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-1.ko", beta, NULL, NULL, NULL,
					 err, sizeof(err)),
			 -EPERM);
	assert_non_null(strstr(err, "'" RELEASE "/livepatch_c-1.ko' is revoked (bad)"));
	after = read_staged_role(f);
	assert_string_equal(before, after);
	free(after);
	free(before);

	/* nodes see the channels in the signed metadata */
	publish_ok(a, &res);
	archive_result_release(&res);
	client_new(f, &cl);
	assert_int_equal(client_refresh(f, &cl), 0);
	assert_int_equal(tuf_client_find_target(cl.c, RELEASE "/livepatch_c-2.ko", &t, err,
						sizeof(err)),
			 0);
	list = json_object_get(t->custom, "channels");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_array_get(list, 0)), "beta");
	assert_string_equal(json_string_value(json_array_get(list, 1)), "stable");
	tuf_target_free(t);
	client_release(&cl);

	/* a target staged before channels existed counts as stable; promote writes the list */
	assert_true(asprintf(&p, "%s/staged/roles/%s.json", f->archive, RELEASE) > 0);
	{
		json_t *role = json_load_file(p, 0, NULL), *custom;

		custom = json_object_get(json_object_get(json_object_get(role, "targets"),
							 RELEASE "/livepatch_c-2.ko"),
					 "custom");
		assert_int_equal(json_object_del(custom, "channels"), 0);
		assert_int_equal(json_dump_file(role, p, 0), 0);
		json_decref(role);
	}
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", beta, NULL, &changed, NULL,
					 err, sizeof(err)),
			 0);
	assert_true(changed);
	expect_channels(a, RELEASE "/livepatch_c-2.ko", "[\"stable\", \"beta\"]");

	/* a malformed list in the staged state is refused as corrupt */
	{
		json_t *role = json_load_file(p, 0, NULL), *custom;

		custom = json_object_get(json_object_get(json_object_get(role, "targets"),
							 RELEASE "/livepatch_c-2.ko"),
					 "custom");
		assert_int_equal(json_object_set_new(custom, "channels", json_array()), 0);
		assert_int_equal(json_dump_file(role, p, 0), 0);
		json_decref(role);
	}
	assert_int_equal(archive_promote(a, RELEASE "/livepatch_c-2.ko", beta, NULL, NULL, NULL,
					 err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "target '" RELEASE "/livepatch_c-2.ko'"));
	free(p);
	archive_free(a);
	free(m1);
	free(m2);
	free(m3);
}

static void test_online_encrypted(void **state)
{
	struct fx *f = *state;
	struct archive_init_options o = { .passphrase = PASS, .online_passphrase = "online secret",
					  .n_keys = { [ARCHIVE_ROLE_TARGETS] = 2 },
					  .threshold = { [ARCHIVE_ROLE_TARGETS] = 2 } };
	struct archive_result res = { 0 };
	struct archive *a = NULL;
	char err[512] = "", cmd[1024];

	assert_int_equal(archive_init(f->archive, &o, err, sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd),
		 "grep -l 'ENCRYPTED PRIVATE KEY' %s/keys/online/*.pem | wc -l | grep -qx 3",
		 f->archive);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(archive_open(f->archive, ARCHIVE_OPEN_LOCK, &a, err, sizeof(err)), 0);
	/* the timestamp needs the online passphrase, the offline one is not enough */
	assert_int_equal(archive_set_passphrases(a, PASS, NULL), 0);
	assert_int_equal(archive_refresh(a, 1000LL * 86400, &res, err, sizeof(err)), -ENOKEY);
	assert_non_null(strstr(err, "online passphrase"));
	assert_int_equal(archive_set_passphrases(a, PASS, "online secret"), 0);
	assert_int_equal(archive_refresh(a, 1000LL * 86400, &res, err, sizeof(err)), 0);
	assert_true(res.targets_written && res.root_written);
	archive_result_release(&res);
	{
		char *t = read_meta(f, "2.targets.json");
		json_t *j = json_loads(t, 0, NULL);

		/* two targets keys, threshold 2: both sign */
		assert_int_equal(json_array_size(json_object_get(j, "signatures")), 2);
		json_decref(j);
		free(t);
	}
	archive_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_modinfo_good),
		cmocka_unit_test(test_modinfo_bad),
		cmocka_unit_test(test_duration_release),
		cmocka_unit_test(test_serve_paths),
		cmocka_unit_test_setup_teardown(test_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_publish_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refresh_rotate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_channels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_online_encrypted, setup, teardown),
	};

	return TEST_MAIN(tests);
}
