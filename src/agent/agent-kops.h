/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel-ops seam: every action of the agent that changes the kernel
 * goes through one of these three calls, so tests and --dry-run never touch
 * the host kernel.  Reading the kernel's state goes through the root prefix
 * of agent-facts.h instead.
 *
 * agent_kops_syscall: the real kernel (finit_module(2), delete_module(2),
 * a write of "0" to /sys/kernel/livepatch/NAME/enabled).
 *
 * agent_kops_sim_new(): a simulated kernel inside a prepared root tree, used
 * whenever the agent's root is not "/" (docs/agent.md, "Simulated kernel"):
 * a load creates ROOT/sys/kernel/livepatch/NAME/{enabled,transition}, adds
 * the module to ROOT/proc/modules and appends the livepatch core's messages
 * to ROOT/dev/kmsg; a completed transition removes the other livepatch
 * directories (atomic replace); ROOT/sim/NAME.load-error (an errno number),
 * ROOT/sim/NAME.stall (the transition never completes) and ROOT/sim/NAME.kmsg
 * (lines appended to the kernel log after the load) script misbehaviour.
 */
#ifndef TUXTAPE_AGENT_KOPS_H
#define TUXTAPE_AGENT_KOPS_H

struct agent_kops {
	/* Loads the module open on fd (name: its .modinfo name). 0 or a negative errno. */
	int (*load)(void *userdata, int fd, const char *name);
	/* Starts disabling livepatch name (the unpatching transition). */
	int (*disable)(void *userdata, const char *name);
	/* Removes module name (O_NONBLOCK); -EBUSY while it is in use. */
	int (*unload)(void *userdata, const char *name);
	void *userdata;
};

extern const struct agent_kops agent_kops_syscall;

/* A simulated kernel below root; free with agent_kops_sim_free(). NULL on OOM. */
struct agent_kops *agent_kops_sim_new(const char *root);
void agent_kops_sim_free(struct agent_kops *k);

#endif
