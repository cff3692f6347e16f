// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Test module for the kernel log parser: carries the version magic of
 * Debian's realtime flavour (preempt_rt), so the generic kernel refuses it.
 * Our entry comes before the one kbuild generates, and the loader reads the
 * first.
 */
#include <linux/kernel.h>
#include <linux/module.h>

static int __init tt_vermagic_init(void)
{
	return 0;
}

static void __exit tt_vermagic_exit(void)
{
}

module_init(tt_vermagic_init);
module_exit(tt_vermagic_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tuxtape test: wrong vermagic");
MODULE_INFO(vermagic, "6.1.0-54-rt-amd64 SMP preempt_rt mod_unload modversions ");
