/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Node facts from a prepared /sys + /proc tree (with a real ELF notes blob),
 * the notes parser, and the .modinfo reader.
 */
#include <stdio.h>
#include <string.h>

#include "agent-facts.h"
#include "modinfo.h"
#include "test-agent-lib.h"

static void test_facts_from_tree(void **state)
{
	char *root = test_tmpdir_new();
	_cleanup_free_ char *notes_path = path_join(root, "sys/kernel/notes");
	_cleanup_free_ char *notes = NULL;
	struct agent_facts f;
	const struct agent_livepatch *lp;
	char err[256] = "";
	size_t len;
	json_t *j;

	test_make_root(root);
	notes = test_read_data("agent/kernel-notes.bin", &len);
	assert_int_equal(write_file_atomic(notes_path, notes, len, 0444), 0);
	test_put(root, "proc/sys/kernel/tainted", "12289\n"); /* P, O, K */
	test_put(root, "proc/modules",
		 "livepatch_a 16384 1 - Live 0xffffffffc0a00000 (OEK)\n"
		 "ext4 1003520 1 - Live 0xffffffffc0800000\n"
		 "livepatch_old 16384 0 - Live 0xffffffffc0900000 (OEK)\n");
	test_put(root, "sys/kernel/livepatch/livepatch_a/enabled", "1\n");
	test_put(root, "sys/kernel/livepatch/livepatch_a/transition", "1\n");
	test_put(root, "sys/kernel/livepatch/other/enabled", "0\n");

	assert_int_equal(agent_facts_read(root, &f, err, sizeof(err)), 0);
	assert_string_equal(f.release, TEST_RELEASE);
	assert_string_equal(f.build_id, "85c7e4e2ed76f4417e8aaad7c6b040d2bb897a26");
	assert_string_equal(f.boot_id, TEST_BOOT_ID);
	assert_true(f.uptime > 99.9 && f.uptime < 100.1);
	assert_true(f.taint_known);
	assert_int_equal(f.taint, 12289);
	assert_int_equal(f.n_livepatches, 2);
	lp = agent_facts_livepatch(&f, "livepatch_a");
	assert_non_null(lp);
	assert_int_equal(lp->enabled, 1);
	assert_int_equal(lp->transition, 1);
	lp = agent_facts_livepatch(&f, "other");
	assert_non_null(lp);
	assert_int_equal(lp->enabled, 0);
	assert_int_equal(lp->transition, -1); /* no transition file: unknown */
	assert_null(agent_facts_livepatch(&f, "ext4"));
	assert_true(agent_facts_module_loaded(&f, "ext4"));
	assert_true(agent_facts_module_loaded(&f, "livepatch_old"));
	assert_false(agent_facts_module_loaded(&f, "livepatch"));

	j = agent_facts_to_json(&f);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "build_id")),
			    "85c7e4e2ed76f4417e8aaad7c6b040d2bb897a26");
	assert_int_equal(json_array_size(json_object_get(j, "modules")), 3);
	json_decref(j);
	agent_facts_release(&f);
	test_tmpdir_remove(root);
}

static void test_facts_minimal_and_missing(void **state)
{
	char *root = test_tmpdir_new();
	struct agent_facts f;
	char err[256] = "";

	/* Without a release the agent cannot work: the error names the file. */
	assert_int_equal(agent_facts_read(root, &f, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "/proc/sys/kernel/osrelease"));

	/* Only the release: everything else unknown, not an error. */
	test_put(root, "proc/sys/kernel/osrelease", "6.1.0-99-amd64\n");
	assert_int_equal(agent_facts_read(root, &f, err, sizeof(err)), 0);
	assert_string_equal(f.release, "6.1.0-99-amd64");
	assert_string_equal(f.build_id, "");
	assert_string_equal(f.boot_id, "");
	assert_false(f.taint_known);
	assert_true(f.uptime < 0);
	assert_int_equal(f.n_livepatches, 0);
	assert_null(f.modules);
	agent_facts_release(&f);

	/* A notes blob without a GNU build id: unknown. */
	test_put(root, "sys/kernel/notes", "");
	assert_int_equal(agent_facts_read(root, &f, err, sizeof(err)), 0);
	assert_string_equal(f.build_id, "");
	agent_facts_release(&f);
	test_tmpdir_remove(root);
}

static void test_notes_parser(void **state)
{
	_cleanup_free_ char *notes = NULL;
	char id[2 * AGENT_BUILD_ID_MAX + 1], err[256];
	size_t len;
	/* One note: name "GNU", type 3, 4-byte id. */
	const unsigned char small[] = { 4, 0, 0, 0, 4, 0, 0, 0, 3, 0, 0, 0, 'G', 'N', 'U', 0,
					0xde, 0xad, 0xbe, 0xef };
	unsigned char bad[sizeof(small)];

	notes = test_read_data("agent/kernel-notes.bin", &len);
	assert_int_equal(len, 164);
	assert_int_equal(agent_notes_build_id(notes, len, id, sizeof(id), err, sizeof(err)), 0);
	assert_string_equal(id, "85c7e4e2ed76f4417e8aaad7c6b040d2bb897a26");
	/* The GNU note is the first one; without it the Linux and Xen notes are walked. */
	assert_int_equal(agent_notes_build_id(notes + 36, len - 36, id, sizeof(id), err,
					      sizeof(err)),
			 -ENOENT);

	assert_int_equal(agent_notes_build_id(small, sizeof(small), id, sizeof(id), err,
					      sizeof(err)),
			 0);
	assert_string_equal(id, "deadbeef");
	/* A descriptor running past the end. */
	memcpy(bad, small, sizeof(bad));
	bad[4] = 40;
	assert_int_equal(agent_notes_build_id(bad, sizeof(bad), id, sizeof(id), err, sizeof(err)),
			 -EBADMSG);
	assert_non_null(strstr(err, "offset 0"));
	/* A name running past the end. */
	memcpy(bad, small, sizeof(bad));
	bad[0] = 200;
	assert_int_equal(agent_notes_build_id(bad, sizeof(bad), id, sizeof(id), err, sizeof(err)),
			 -EBADMSG);
	/* A huge size must not wrap around. */
	memcpy(bad, small, sizeof(bad));
	bad[4] = bad[5] = bad[6] = bad[7] = 0xff;
	assert_int_equal(agent_notes_build_id(bad, sizeof(bad), id, sizeof(id), err, sizeof(err)),
			 -EBADMSG);
	/* An empty build id. */
	memcpy(bad, small, sizeof(bad));
	bad[4] = 0;
	assert_int_equal(agent_notes_build_id(bad, 16, id, sizeof(id), err, sizeof(err)),
			 -EBADMSG);
	/* A header cut short. */
	assert_int_equal(agent_notes_build_id(small, 8, id, sizeof(id), err, sizeof(err)),
			 -EBADMSG);
	assert_int_equal(agent_notes_build_id(small, 0, id, sizeof(id), err, sizeof(err)), -ENOENT);
}

static void test_modinfo(void **state)
{
	struct modinfo mi = { 0 };
	char err[256];
	size_t len;
	_cleanup_free_ char *ko = test_make_ko("livepatch_a", TEST_VERMAGIC, true, &len);
	_cleanup_free_ char *plain = NULL;
	char *copy;

	assert_int_equal(modinfo_parse(ko, len, &mi, err, sizeof(err)), 0);
	assert_string_equal(mi.name, "livepatch_a");
	assert_string_equal(mi.vermagic, TEST_VERMAGIC);
	assert_true(mi.livepatch);
	assert_true(modinfo_vermagic_matches(mi.vermagic, TEST_RELEASE));
	assert_false(modinfo_vermagic_matches(mi.vermagic, "6.1.0-54"));
	assert_false(modinfo_vermagic_matches(mi.vermagic, "6.1.0-54-amd64-rt"));
	assert_true(modinfo_vermagic_matches("6.1.0-54-amd64", TEST_RELEASE));

	{
		size_t plen;

		plain = test_make_ko("ext4", TEST_VERMAGIC, false, &plen);
		modinfo_release(&mi);
		assert_int_equal(modinfo_parse(plain, plen, &mi, err, sizeof(err)), 0);
		assert_false(mi.livepatch);
		modinfo_release(&mi);
	}

	assert_int_equal(modinfo_parse("hello", 5, &mi, err, sizeof(err)), -EBADMSG);
	assert_int_equal(modinfo_parse(ko, 40, &mi, err, sizeof(err)), -EBADMSG);
	/* Section headers cut off. */
	assert_int_equal(modinfo_parse(ko, len - 10, &mi, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "section header table"));

	copy = malloc(len);
	/* An executable, not a relocatable object. */
	memcpy(copy, ko, len);
	((Elf64_Ehdr *)copy)->e_type = ET_EXEC;
	assert_int_equal(modinfo_parse(copy, len, &mi, err, sizeof(err)), -EBADMSG);
	/* 32-bit. */
	memcpy(copy, ko, len);
	copy[EI_CLASS] = ELFCLASS32;
	assert_int_equal(modinfo_parse(copy, len, &mi, err, sizeof(err)), -EBADMSG);
	/* .modinfo pointing outside the file. */
	memcpy(copy, ko, len);
	{
		Elf64_Shdr sh;
		size_t off = ((Elf64_Ehdr *)copy)->e_shoff + sizeof(sh);

		memcpy(&sh, copy + off, sizeof(sh));
		sh.sh_size = 1u << 30;
		memcpy(copy + off, &sh, sizeof(sh));
	}
	assert_int_equal(modinfo_parse(copy, len, &mi, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, ".modinfo (section 1) outside the file"));
	/* No .modinfo: rename the section. */
	memcpy(copy, ko, len);
	{
		char *name = memmem(copy, len, ".modinfo", 8);

		assert_non_null(name);
		name[1] = 'X';
	}
	assert_int_equal(modinfo_parse(copy, len, &mi, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "no .modinfo"));
	/* Section name table index out of range. */
	memcpy(copy, ko, len);
	((Elf64_Ehdr *)copy)->e_shstrndx = 9;
	assert_int_equal(modinfo_parse(copy, len, &mi, err, sizeof(err)), -EBADMSG);
	free(copy);
}

static void test_module_names(void **state)
{
	char name[] = "tuxtape-lp-3";

	assert_true(agent_module_name_valid("livepatch_x"));
	assert_true(agent_module_name_valid(name));
	agent_module_name_normalize(name);
	assert_string_equal(name, "tuxtape_lp_3");
	assert_false(agent_module_name_valid(""));
	assert_false(agent_module_name_valid("../x"));
	assert_false(agent_module_name_valid("a b"));
	assert_false(agent_module_name_valid(
		"a234567890123456789012345678901234567890123456789012345678901234"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_facts_from_tree),
		cmocka_unit_test(test_facts_minimal_and_missing),
		cmocka_unit_test(test_notes_parser),
		cmocka_unit_test(test_modinfo),
		cmocka_unit_test(test_module_names),
	};

	return TEST_MAIN(tests);
}
