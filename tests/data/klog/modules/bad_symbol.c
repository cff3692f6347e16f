// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test livepatch for the kernel log parser: calls kallsyms_lookup_name(),
 * which 6.1 does not export, as a plain undefined symbol (the mistake a
 * generator makes when it forgets a .klp.sym relocation).  Built with
 * KBUILD_MODPOST_WARN=1; the loader refuses it.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

extern unsigned long kallsyms_lookup_name(const char *name);

static int tt_symbol_cmdline_show(struct seq_file *m, void *v)
{
	seq_printf(m, "tuxtape-bad-symbol %lx\n", kallsyms_lookup_name("jiffies"));
	return 0;
}

static struct klp_func tt_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = tt_symbol_cmdline_show },
	{}
};

static struct klp_object tt_objs[] = {
	{ .name = NULL, .funcs = tt_funcs },
	{}
};

static struct klp_patch tt_patch = {
	.mod = THIS_MODULE,
	.objs = tt_objs,
};

static int __init tt_symbol_init(void)
{
	return klp_enable_patch(&tt_patch);
}

static void __exit tt_symbol_exit(void)
{
}

module_init(tt_symbol_init);
module_exit(tt_symbol_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tuxtape test: a livepatch with an unresolvable symbol");
MODULE_INFO(livepatch, "Y");
