// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test livepatch for the kernel log parser: the replacement of
 * cmdline_proc_show() WARNs once when /proc/cmdline is read.
 */
#include <linux/bug.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

static int tt_warn_cmdline_show(struct seq_file *m, void *v)
{
	WARN_ONCE(1, "tuxtape test: klp_warn was called\n");
	seq_puts(m, "tuxtape-klp-warn\n");
	return 0;
}

static struct klp_func tt_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = tt_warn_cmdline_show },
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

static int __init tt_warn_init(void)
{
	return klp_enable_patch(&tt_patch);
}

static void __exit tt_warn_exit(void)
{
}

module_init(tt_warn_init);
module_exit(tt_warn_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tuxtape test: a livepatch that WARNs");
MODULE_INFO(livepatch, "Y");
