// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test livepatch for the kernel log parser: the replacement of
 * cmdline_proc_show() reads through a NULL pointer (an Oops in the reading
 * task).
 */
#include <linux/compiler.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>

/* Never set: the compiler cannot prove it NULL, so the load is real. */
static int *tt_null_value;

static int tt_null_cmdline_show(struct seq_file *m, void *v)
{
	int *p = READ_ONCE(tt_null_value);

	seq_printf(m, "tuxtape-klp-null %d\n", READ_ONCE(*p));
	return 0;
}

static struct klp_func tt_funcs[] = {
	{ .old_name = "cmdline_proc_show", .new_func = tt_null_cmdline_show },
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

static int __init tt_null_init(void)
{
	return klp_enable_patch(&tt_patch);
}

static void __exit tt_null_exit(void)
{
}

module_init(tt_null_init);
module_exit(tt_null_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tuxtape test: a livepatch that dereferences NULL");
MODULE_INFO(livepatch, "Y");
