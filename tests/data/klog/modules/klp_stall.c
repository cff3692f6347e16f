// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test livepatch for the kernel log parser: patches tt_stall_wait() of the
 * klp_stall_target module, whose thread sleeps in it forever, so the
 * patching transition never completes.
 */
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/livepatch.h>
#include <linux/module.h>

static int tt_stall_wait_new(void)
{
	while (!kthread_should_stop())
		msleep_interruptible(500);
	return 0;
}

static struct klp_func tt_funcs[] = {
	{ .old_name = "tt_stall_wait", .new_func = tt_stall_wait_new },
	{}
};

static struct klp_object tt_objs[] = {
	{ .name = "klp_stall_target", .funcs = tt_funcs },
	{}
};

static struct klp_patch tt_patch = {
	.mod = THIS_MODULE,
	.objs = tt_objs,
};

static int __init tt_stall_init(void)
{
	return klp_enable_patch(&tt_patch);
}

static void __exit tt_stall_exit(void)
{
}

module_init(tt_stall_init);
module_exit(tt_stall_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tuxtape test: a livepatch whose transition stalls");
MODULE_INFO(livepatch, "Y");
