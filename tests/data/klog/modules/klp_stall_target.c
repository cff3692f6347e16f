// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Helper for the stalled-transition test: a kernel thread that never leaves
 * tt_stall_wait(), so a livepatch of that function cannot switch it.
 */
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/module.h>

static struct task_struct *tt_thread;

/* Signals from the livepatch core only shorten one sleep; the loop goes on. */
static noinline int tt_stall_wait(void)
{
	while (!kthread_should_stop())
		msleep_interruptible(200);
	return 0;
}

static int tt_stall_thread(void *data)
{
	return tt_stall_wait();
}

static int __init tt_stall_target_init(void)
{
	tt_thread = kthread_run(tt_stall_thread, NULL, "tt_stall");
	return PTR_ERR_OR_ZERO(tt_thread);
}

static void __exit tt_stall_target_exit(void)
{
	kthread_stop(tt_thread);
}

module_init(tt_stall_target_init);
module_exit(tt_stall_target_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tuxtape test: a thread sleeping in a function to be patched");
