/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the agent's unit tests (test-agent*.c): fake kernel
 * modules and a fake root tree.  Header-only: each test binary includes it.
 */
#ifndef TUXTAPE_TEST_AGENT_LIB_H
#define TUXTAPE_TEST_AGENT_LIB_H

#include <elf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "strbuf.h"
#include "test-lib.h"

#define TEST_RELEASE "6.1.0-54-amd64"
#define TEST_VERMAGIC TEST_RELEASE " SMP preempt mod_unload modversions "
#define TEST_BOOT_ID "0f0e0d0c-0b0a-0908-0706-050403020100"

/*
 * A minimal x86_64 ELF relocatable object with a .modinfo section holding
 * name=NAME, vermagic=VERMAGIC and (when livepatch) livepatch=Y: what the
 * agent reads of a module.  Caller frees; *ret_len is its size.
 */
static inline char *test_make_ko(const char *name, const char *vermagic, bool livepatch,
				 size_t *ret_len)
{
	static const char shstr[] = "\0.modinfo\0.shstrtab";
	struct strbuf mi;
	Elf64_Ehdr eh = {};
	Elf64_Shdr sh[3] = {};
	size_t mi_off = sizeof(eh), str_off, sh_off, len;
	char *out;

	strbuf_init(&mi, 0);
	strbuf_addf(&mi, "license=GPL%cname=%s%cvermagic=%s%c", 0, name, 0, vermagic, 0);
	if (livepatch)
		strbuf_addf(&mi, "livepatch=Y%c", 0);
	str_off = mi_off + mi.len;
	sh_off = (str_off + sizeof(shstr) + 7) & ~(size_t)7;
	len = sh_off + sizeof(sh);
	out = calloc(1, len);
	assert_non_null(out);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_X86_64;
	eh.e_version = EV_CURRENT;
	eh.e_shoff = sh_off;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 2;
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_PROGBITS;
	sh[1].sh_flags = SHF_ALLOC;
	sh[1].sh_offset = mi_off;
	sh[1].sh_size = mi.len;
	sh[1].sh_addralign = 1;
	sh[2].sh_name = 10;
	sh[2].sh_type = SHT_STRTAB;
	sh[2].sh_offset = str_off;
	sh[2].sh_size = sizeof(shstr);
	sh[2].sh_addralign = 1;
	memcpy(out, &eh, sizeof(eh));
	memcpy(out + mi_off, mi.buf, mi.len);
	memcpy(out + str_off, shstr, sizeof(shstr));
	memcpy(out + sh_off, sh, sizeof(sh));
	strbuf_release(&mi);
	*ret_len = len;
	return out;
}

/* Writes text to dir/rel, creating the directories on the way. */
static inline void test_put(const char *dir, const char *rel, const char *text)
{
	_cleanup_free_ char *path = path_join(dir, rel);
	char *slash;

	assert_non_null(path);
	slash = strrchr(path, '/');
	*slash = '\0';
	assert_int_equal(mkdir_p(path, 0755), 0);
	*slash = '/';
	assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

/*
 * A fake node below root: release TEST_RELEASE, boot id TEST_BOOT_ID, uptime,
 * taint 0, an empty /proc/modules, /dev/kmsg as an empty regular file and an
 * empty /sys/kernel/livepatch.
 */
static inline void test_make_root(const char *root)
{
	_cleanup_free_ char *lp = path_join(root, "sys/kernel/livepatch");

	test_put(root, "proc/sys/kernel/osrelease", TEST_RELEASE "\n");
	test_put(root, "proc/sys/kernel/random/boot_id", TEST_BOOT_ID "\n");
	test_put(root, "proc/sys/kernel/tainted", "0\n");
	test_put(root, "proc/uptime", "100.00 180.00\n");
	test_put(root, "proc/modules", "");
	test_put(root, "dev/kmsg", "");
	assert_int_equal(mkdir_p(lp, 0755), 0);
}

#endif
