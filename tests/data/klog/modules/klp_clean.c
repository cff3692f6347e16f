// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test livepatch for the kernel log parser: /proc/cmdline answers with a
 * fixed text.  Loads, transitions and unloads cleanly.
 */
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int tt_clean_cmdline_show(struct seq_file *m, void *v)
{
	seq_puts(m, "tuxtape-klp-clean\n");
	return 0;
}

static struct klp_func tt_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = tt_clean_cmdline_show },
	{}
};

static struct klp_object tt_objs[] = {
	{ .name = NULL /* vmlinux */, .funcs = tt_funcs },
	{}
};

static struct klp_patch tt_patch = {
	.mod = THIS_MODULE,
	.objs = tt_objs,
};

static int __init tt_clean_init(void)
{
	return klp_enable_patch(&tt_patch);
}

static void __exit tt_clean_exit(void)
{
}

module_init(tt_clean_init);
module_exit(tt_clean_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tuxtape test: a clean livepatch");
MODULE_INFO(livepatch, "Y");
