/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's idle release (agent-idle.h): clean file mappings lose their
 * resident pages and keep their bytes; a mapping with private pages (what
 * RELRO is after relocation) is never touched, nor one whose counts are
 * missing or show swapped-out private pages.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "agent-idle.h"
#include "fileio.h"
#include "macro.h"
#include "test-lib.h"

#define MAP_SIZE (64 * 4096)

/* Resident kB of the mapping that starts at addr, or -1 when there is none. */
static long mapping_rss_kb(const void *addr)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/self/smaps", "re");
	char line[4096];
	bool in = false;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long start, end;
		long kb;

		if (sscanf(line, "%lx-%lx ", &start, &end) == 2 && strchr(line, ' ') &&
		    line[strcspn(line, " ") - 1] != ':')
			in = start == (unsigned long)addr;
		else if (in && sscanf(line, "Rss: %ld kB", &kb) == 1)
			return kb;
	}
	return -1;
}

static void test_put_file(const char *dir, const char *name, const char *text)
{
	_cleanup_free_ char *path = path_join(dir, name);

	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

/* A file of MAP_SIZE bytes of fill. */
static char *make_file(const char *dir, const char *name, char fill)
{
	char *path = path_join(dir, name);
	_cleanup_free_ char *data = malloc(MAP_SIZE);

	assert_non_null(data);
	memset(data, fill, MAP_SIZE);
	assert_int_equal(write_file_atomic(path, data, MAP_SIZE, 0644), 0);
	return path;
}

static char *map_file(const char *path, int prot)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *p;

	assert_true(fd >= 0);
	p = mmap(NULL, MAP_SIZE, prot, MAP_PRIVATE, fd, 0);
	assert_true(p != MAP_FAILED);
	return p;
}

static bool all_bytes(const char *p, char c)
{
	for (size_t i = 0; i < MAP_SIZE; i++)
		if (p[i] != c)
			return false;
	return true;
}

static void test_clean_released_private_kept(void **state)
{
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *clean_path = make_file(dir, "clean", 'a');
	_cleanup_free_ char *relro_path = make_file(dir, "relro", 'a');
	char *clean = map_file(clean_path, PROT_READ);
	char *relro = map_file(relro_path, PROT_READ | PROT_WRITE);
	size_t kb = 0;

	/* RELRO's life: written once (relocated), then made read-only. */
	memset(relro, 'b', MAP_SIZE);
	assert_int_equal(mprotect(relro, MAP_SIZE, PROT_READ), 0);
	assert_true(all_bytes(clean, 'a'));
	assert_int_equal(mapping_rss_kb(clean), MAP_SIZE / 1024);
	assert_int_equal(mapping_rss_kb(relro), MAP_SIZE / 1024);

	assert_int_equal(idle_release_clean_mappings(NULL, &kb), 0);
	assert_true(kb >= MAP_SIZE / 1024);
	assert_int_equal(mapping_rss_kb(clean), 0);
	assert_int_equal(mapping_rss_kb(relro), MAP_SIZE / 1024);
	/* Nothing lost: the clean bytes come back from the file, the private ones stayed. */
	assert_true(all_bytes(relro, 'b'));
	assert_true(all_bytes(clean, 'a'));
	assert_int_equal(mapping_rss_kb(clean), MAP_SIZE / 1024);

	/* Writable private mappings are never candidates, even when clean. */
	munmap(relro, MAP_SIZE);
	relro = map_file(relro_path, PROT_READ | PROT_WRITE);
	assert_true(all_bytes(relro, 'a'));
	assert_int_equal(idle_release_clean_mappings(NULL, NULL), 0);
	assert_int_equal(mapping_rss_kb(relro), MAP_SIZE / 1024);

	munmap(clean, MAP_SIZE);
	munmap(relro, MAP_SIZE);
	test_tmpdir_remove(dir);
	(void)state;
}

/* A smaps text naming the clean mapping at p, with the given count lines. */
static char *fake_smaps(const char *dir, const char *p, const char *path, const char *counts)
{
	_cleanup_free_ char *text = NULL;
	char *out = path_join(dir, "smaps");

	assert_true(asprintf(&text, "%lx-%lx r--p 00000000 fe:01 1234 %s\n%s", (unsigned long)p,
			     (unsigned long)p + MAP_SIZE, path, counts) > 0);
	assert_int_equal(write_file_atomic(out, text, strlen(text), 0644), 0);
	return out;
}

static void test_counts_decide(void **state)
{
	static const struct {
		const char *counts;
		bool released;
	} cases[] = {
		{ "Rss: 256 kB\nAnonymous: 0 kB\nSwap: 0 kB\n", true },
		/* private pages swapped out: zapping would drop them */
		{ "Rss: 256 kB\nAnonymous: 0 kB\nSwap: 4 kB\n", false },
		{ "Rss: 256 kB\nAnonymous: 4 kB\nSwap: 0 kB\n", false },
		/* a count missing or unreadable is not taken as zero */
		{ "Rss: 256 kB\nSwap: 0 kB\n", false },
		{ "Rss: 256 kB\nAnonymous: 0 kB\n", false },
		{ "Rss: 256 kB\nAnonymous: x kB\nSwap: 0 kB\n", false },
		{ "Rss: 256 kB\nAnonymous: -1 kB\nSwap: 0 kB\n", false },
		{ "", false },
	};
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *path = make_file(dir, "file", 'c');
	char *p = map_file(path, PROT_READ);

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		_cleanup_free_ char *smaps = fake_smaps(dir, p, path, cases[i].counts);
		size_t kb = 99;

		assert_true(all_bytes(p, 'c'));
		assert_int_equal(mapping_rss_kb(p), MAP_SIZE / 1024);
		assert_int_equal(idle_release_clean_mappings(smaps, &kb), 0);
		assert_int_equal(kb, cases[i].released ? 256 : 0);
		assert_int_equal(mapping_rss_kb(p), cases[i].released ? 0 : MAP_SIZE / 1024);
	}
	munmap(p, MAP_SIZE);
	test_tmpdir_remove(dir);
	(void)state;
}

static void test_bad_smaps(void **state)
{
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *path = make_file(dir, "file", 'd');
	_cleanup_free_ char *missing = path_join(dir, "missing");
	_cleanup_free_ char *junk = path_join(dir, "junk");
	_cleanup_free_ char *longline = NULL;
	char *p = map_file(path, PROT_READ);
	size_t kb = 99;

	assert_int_equal(idle_release_clean_mappings(missing, &kb), -ENOENT);
	assert_int_equal(kb, 99);

	/* Anonymous mappings, odd perms, garbage and a header cut in two: nothing released. */
	assert_true(all_bytes(p, 'd'));
	assert_int_equal(asprintf(&longline,
				  "%lx-%lx r-xp 00000000 00:00 0 \nRss: 256 kB\nAnonymous: 0 kB\nSwap: 0 kB\n"
				  "%lx-%lx rwxpq 00000000 fe:01 1 %s\nRss: 256 kB\nAnonymous: 0 kB\nSwap: 0 kB\n"
				  "%lx-%lx r--s 00000000 fe:01 1 %s\nRss: 256 kB\nAnonymous: 0 kB\nSwap: 0 kB\n"
				  "%lx-%lx\nRss: 256 kB\nAnonymous: 0 kB\nSwap: 0 kB\n\x01\xff garbage\n",
				  (unsigned long)p, (unsigned long)p + MAP_SIZE, (unsigned long)p,
				  (unsigned long)p + MAP_SIZE, path, (unsigned long)p,
				  (unsigned long)p + MAP_SIZE, path, (unsigned long)p,
				  (unsigned long)p + MAP_SIZE) > 0,
			 true);
	assert_int_equal(write_file_atomic(junk, longline, strlen(longline), 0644), 0);
	assert_int_equal(idle_release_clean_mappings(junk, &kb), 0);
	assert_int_equal(kb, 0);
	assert_int_equal(mapping_rss_kb(p), MAP_SIZE / 1024);
	munmap(p, MAP_SIZE);
	test_tmpdir_remove(dir);
	(void)state;
}

static void test_cached_choice(void **state)
{
	_cleanup_(idle_release_freep) struct idle_release *ir = idle_release_new();
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *a_path = make_file(dir, "a", 'a');
	_cleanup_free_ char *b_path = make_file(dir, "b", 'b');
	_cleanup_free_ char *fake = path_join(dir, "proc");
	char *a = map_file(a_path, PROT_READ), *b, *big;
	bool rescanned = false;

	assert_non_null(ir);
	assert_true(all_bytes(a, 'a'));
	assert_int_equal(idle_release_run(ir, NULL, &rescanned), 0);
	assert_true(rescanned);
	assert_int_equal(mapping_rss_kb(a), 0);

	/* Same file mappings: the last choice is reused, and still releases. */
	assert_true(all_bytes(a, 'a'));
	assert_int_equal(mapping_rss_kb(a), MAP_SIZE / 1024);
	assert_int_equal(idle_release_run(ir, NULL, &rescanned), 0);
	assert_false(rescanned);
	assert_int_equal(mapping_rss_kb(a), 0);

	/* Anonymous mappings coming and going do not make it rescan... */
	big = mmap(NULL, 8 * MAP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(big != MAP_FAILED);
	memset(big, 'x', 8 * MAP_SIZE);
	assert_int_equal(idle_release_run(ir, NULL, &rescanned), 0);
	assert_false(rescanned);
	assert_true(all_bytes(big, 'x'));

	/* ...a new file mapping does, and a new private one is kept. */
	b = map_file(b_path, PROT_READ | PROT_WRITE);
	memset(b, 'B', MAP_SIZE);
	assert_int_equal(mprotect(b, MAP_SIZE, PROT_READ), 0);
	assert_true(all_bytes(a, 'a'));
	assert_int_equal(idle_release_run(ir, NULL, &rescanned), 0);
	assert_true(rescanned);
	assert_int_equal(mapping_rss_kb(a), 0);
	assert_int_equal(mapping_rss_kb(b), MAP_SIZE / 1024);
	assert_true(all_bytes(b, 'B'));

	/* Unreadable maps or smaps: an error and nothing released. */
	assert_int_equal(mkdir(fake, 0755), 0);
	assert_true(all_bytes(a, 'a'));
	assert_int_equal(idle_release_run(ir, fake, &rescanned), -ENOENT);
	test_put_file(fake, "maps", "");
	assert_int_equal(idle_release_run(ir, fake, &rescanned), -ENOENT);
	assert_int_equal(mapping_rss_kb(a), MAP_SIZE / 1024);

	munmap(a, MAP_SIZE);
	munmap(b, MAP_SIZE);
	munmap(big, 8 * MAP_SIZE);
	test_tmpdir_remove(dir);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_released_private_kept),
		cmocka_unit_test(test_counts_decide),
		cmocka_unit_test(test_bad_smaps),
		cmocka_unit_test(test_cached_choice),
	};

	return TEST_MAIN(tests);
}
