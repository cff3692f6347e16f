/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Special-section entries in the 6.1 x86_64 formats for two functions, fn
 * and other, and a function calling __init code, third.  Built with -ffunction-sections
 * -fdata-sections -fno-pie -mcmodel=kernel -pg -mfentry -mrecord-mcount.
 * Each function tags its entries with its number where a field allows it.
 */
extern int exported_fn(int);
extern int hidden_fn(int);
extern int printk(const char *fmt, ...);
extern struct skey { int enabled; long type; } exported_key, hidden_key;

struct ddebug {
	const char *modname, *function, *filename, *format;
	unsigned int lineno : 18, class_id : 6, flags : 8;
	struct skey key;
} __attribute__((aligned(8)));
_Static_assert(sizeof(struct ddebug) == 56, "struct _ddebug of 6.1");

extern void __dynamic_pr_debug(struct ddebug *d, const char *fmt, ...);

/*
 * 1: a 5-byte instruction, 2: the next one.  __bug_table (12), __ex_table
 * (12), .altinstructions (12) with 5 bytes of replacement, two __jump_table
 * entries (16: key, then exported_key), .static_call_sites (8),
 * .parainstructions (16), .smp_locks, .retpoline_sites, .return_sites (4),
 * two .orc_unwind_ip (4) entries with their .orc_unwind (6).
 */
#define SPECIALS(tag, key, sckey, repl)                                                      \
	asm volatile("1: .byte 0x0f,0x1f,0x44,0x00,0x00\n"                                   \
		     "2: nop\n"                                                              \
		     "5: call __SCT__exported_sc\n"                                          \
		     ".pushsection .rodata.str1.1,\"aMS\",@progbits,1\n"                     \
		     "3: .asciz \"file-" #tag ".c\"\n"                                       \
		     ".popsection\n"                                                         \
		     ".pushsection __bug_table,\"aw\"\n"                                     \
		     ".long 1b - .\n.long 3b - .\n.short " #tag "\n.short 0\n"               \
		     ".popsection\n"                                                         \
		     ".pushsection __ex_table,\"a\"\n"                                       \
		     ".long 1b - .\n.long 2b - .\n.long " #tag "\n"                          \
		     ".popsection\n"                                                         \
		     ".pushsection .altinstr_replacement,\"ax\"\n"                           \
		     "4: call " repl "\n"                                                    \
		     ".popsection\n"                                                         \
		     ".pushsection .altinstructions,\"a\"\n"                                 \
		     ".long 1b - .\n.long 4b - .\n.short " #tag "\n.byte 5\n.byte 5\n"       \
		     ".popsection\n"                                                         \
		     ".pushsection __jump_table,\"aw\"\n.balign 8\n"                         \
		     ".long 1b - .\n.long 2b - .\n.quad " key " + 1 - .\n"                   \
		     ".long 1b - .\n.long 2b - .\n.quad exported_key - .\n"                  \
		     ".popsection\n"                                                         \
		     ".pushsection .static_call_sites,\"aw\"\n"                              \
		     ".long 5b - .\n.long " sckey " - .\n"                                   \
		     ".popsection\n"                                                         \
		     ".pushsection .parainstructions,\"a\"\n.balign 8\n"                     \
		     ".quad 1b\n.byte " #tag "\n.byte 5\n.balign 8\n"                        \
		     ".popsection\n"                                                         \
		     ".pushsection .smp_locks,\"a\"\n.long 1b - .\n.popsection\n"            \
		     ".pushsection .retpoline_sites,\"a\"\n.long 1b - .\n.popsection\n"      \
		     ".pushsection .return_sites,\"a\"\n.long 2b - .\n.popsection\n"         \
		     ".pushsection .orc_unwind_ip,\"a\"\n.long 1b - .\n.long 2b - .\n"       \
		     ".popsection\n"                                                         \
		     ".pushsection .orc_unwind,\"a\"\n"                                      \
		     ".byte " #tag ",1,2,3,4,5\n.byte " #tag ",6,7,8,9,10\n"                 \
		     ".popsection\n"                                                         \
		     ::: "memory")

/* A dynamic debug call site as 6.1's pr_debug() makes it (descriptor + jump label). */
#define PR_DEBUG(fmt)                                                                        \
	do {                                                                                 \
		static struct ddebug __attribute__((used, aligned(8), section("__dyndbg"))) dd = {\
			"specials", __func__, "specials.c", fmt, __LINE__, 63, 0, { 0, 0 } \
		};                                                                           \
		asm goto("1: .byte 0x0f,0x1f,0x44,0x00,0x00\n"                               \
			 ".pushsection __jump_table,\"aw\"\n.balign 8\n"                     \
			 ".long 1b - .\n.long %l[yes] - .\n.quad %c0 + 2 - .\n"              \
			 ".popsection\n"                                                     \
			 : : "i"(&dd.key) : : yes);                                          \
		if (0) {                                                                     \
yes:                                                                                         \
			__dynamic_pr_debug(&dd, fmt);                                        \
		}                                                                            \
	} while (0)

/* WARN_ONCE's flag. */
#define ONCE()                                                                               \
	({                                                                                   \
		static _Bool __attribute__((section(".data.once"))) done;                    \
		_Bool first = !done;                                                         \
		done = 1;                                                                    \
		first;                                                                       \
	})

static int __attribute__((section(".init.text"), noinline, used)) init_helper(int x)
{
	return x * 7;
}

int fn(int x)
{
	SPECIALS(1, "hidden_key", "__SCK__hidden_sc", "exported_fn");
	PR_DEBUG("fn %d\n");
	if (ONCE())
		printk("fn once\n");
	return exported_fn(x) + hidden_fn(x);
}

int other(int x)
{
	SPECIALS(2, "exported_key", "__SCK__exported_sc", "hidden_fn");
	PR_DEBUG("other %d\n");
	if (ONCE())
		printk("other once\n");
	return exported_fn(x) + 2;
}

/* Calls __init code: refused when included. */
int third(int x)
{
	return init_helper(x) + 3;
}
