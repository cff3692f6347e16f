/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Objects klp_object_write() must refuse, one per macro: a truncated
 * __bug_table (TRUNCATED), .orc_unwind_ip without its .orc_unwind entries
 * (ORC_MISMATCH), .smp_locks with 8-byte entries (ENTSIZE), code that calls
 * __init code and reads __initdata (INIT_REF), an entry in
 * __patchable_function_entries (PFE).
 */
extern int exported_fn(int);

#ifdef INIT_REF
static int __attribute__((section(".init.text"), noinline, used)) setup_thing(int x)
{
	return x + 1;
}
#endif

int fn(int x)
{
#ifdef TRUNCATED
	asm volatile("1: nop\n.pushsection __bug_table,\"aw\"\n.long 1b - .\n.short 0\n"
		     ".popsection\n");
#endif
#ifdef ORC_MISMATCH
	asm volatile("1: nop\n.pushsection .orc_unwind_ip,\"a\"\n.long 1b - .\n.popsection\n"
		     ".pushsection .orc_unwind,\"a\"\n.byte 0,0,0,0\n.popsection\n");
#endif
#ifdef ENTSIZE
	asm volatile("1: nop\n.pushsection .smp_locks,\"aM\",@progbits,8\n.quad 1b\n.popsection\n");
#endif
#ifdef PFE
	asm volatile("1: nop\n.pushsection __patchable_function_entries,\"a\"\n.quad 1b\n"
		     ".popsection\n");
#endif
#ifdef INIT_REF
	x = setup_thing(x);
#endif
	return exported_fn(x) + 1;
}
