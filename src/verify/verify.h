/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Verification harness: boots a kernel under qemu with an initramfs we build
 * (busybox + a generated /init), loads the module under test and reports what
 * happened; or, in kallsyms mode (below), reads the kernel's /proc/kallsyms.
 *
 * The /init protocol, one marker per console line ("TUXTAPE-" may follow
 * kernel noise on the same line):
 *   TUXTAPE-BEGIN <protocol> <uptime>
 *   TUXTAPE-STEP <name> <rc> <uptime>       one per step, in order
 *   TUXTAPE-TAINT <value of /proc/sys/kernel/tainted>
 *   TUXTAPE-DMESG-BEGIN / <dmesg> / TUXTAPE-DMESG-END
 *   TUXTAPE-END <failed: 0 or 1>
 * then poweroff -f.  Steps: insmod-dep (each dependency), test-before,
 * insmod, and for VERIFY_MODE_LIVEPATCH wait-patched (enabled 1, transition 0),
 * test-after, disable, wait-unpatched, rmmod; for VERIFY_MODE_LOAD_ONLY
 * loaded (/sys/module/<name> exists), test-after, rmmod.  A step that is not
 * reached has no marker.  Timeouts in the guest report rc 110 (ETIMEDOUT).
 * Test scripts run with busybox sh and pass with exit code 0.
 * /init also writes "tuxtape: begin" and "tuxtape: step <name> rc=<rc>" to
 * /dev/kmsg and turns on dynamic debug for kernel/livepatch files when debugfs has
 * it, so the transition's pr_debug lines reach the dump.
 */
#ifndef TUXTAPE_VERIFY_H
#define TUXTAPE_VERIFY_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "qemu.h"

#define VERIFY_PROTOCOL 1
#define VERIFY_STEPS_MAX 32
#define VERIFY_STEP_NAME_MAX 32
#define VERIFY_LOG_MAX (4u * 1024 * 1024)
#define VERIFY_REASON_MAX 256
#define VERIFY_KERNEL_ARGS_MAX 512
/* Module names as the kernel's MODULE_NAME_LEN (64) allows. */
#define VERIFY_MODULE_NAME_MAX 56

enum verify_mode {
	VERIFY_MODE_LIVEPATCH,
	VERIFY_MODE_LOAD_ONLY,
	_VERIFY_MODE_MAX,
	_VERIFY_MODE_INVALID = -EINVAL,
};

enum verify_verdict {
	VERIFY_VERDICT_OK,     /* every step passed, the kernel stayed healthy */
	VERIFY_VERDICT_FAILED, /* the guest ran our /init and something failed */
	VERIFY_VERDICT_ERROR,  /* no answer: the guest never reached /init */
	_VERIFY_VERDICT_MAX,
	_VERIFY_VERDICT_INVALID = -EINVAL,
};

const char *verify_mode_to_string(enum verify_mode m);
enum verify_mode verify_mode_from_string(const char *s);
const char *verify_verdict_to_string(enum verify_verdict v);

struct verify_spec {
	enum verify_mode mode;
	const char *module;       /* host path of the .ko under test */
	const char *module_name;  /* NULL: file name without .ko, '-' as '_' */
	char **deps;              /* host paths of modules loaded first, in order; may be NULL */
	const char *test_before;  /* host path of a script, or NULL */
	const char *test_after;
	unsigned transition_timeout_s; /* 0: 60 */
};

struct verify_config {
	const char *qemu;     /* NULL: qemu-system-x86_64 from PATH */
	const char *kernel;   /* vmlinuz to boot */
	const char *busybox;  /* static busybox; NULL: /bin/busybox */
	const char *work_dir; /* existing directory for the initramfs */
	enum qemu_accel accel; /* AUTO: KVM if it probes fine, else TCG */
	unsigned memory_mb;   /* 0: 512 */
	unsigned timeout_s;   /* whole run; 0: 300 */
	int loglevel;         /* console loglevel 0..8; other values: 4 */
	bool gzip;            /* compress the initramfs */
	bool initcall_debug;  /* boot with initcall_debug: module init calls and their
			       * return values appear in the kernel log */
	const char *kernel_args; /* more kernel command line (e.g. module.sig_enforce=1),
				  * shorter than VERIFY_KERNEL_ARGS_MAX, one line; may be NULL */
};

struct verify_step {
	char name[VERIFY_STEP_NAME_MAX];
	int rc;
	double uptime_s; /* guest uptime when the step finished; -1 unknown */
};

struct verify_result {
	enum verify_verdict verdict;
	char reason[VERIFY_REASON_MAX]; /* empty when ok */
	struct verify_step steps[VERIFY_STEPS_MAX];
	size_t n_steps;
	bool saw_begin, saw_end;
	long taint;                     /* -1 when not reported */
	double begin_uptime_s;          /* guest uptime when /init started; -1 unknown */
	char *dmesg;                    /* text between the DMESG markers, or NULL */
	char *log;                      /* whole console, at most VERIFY_LOG_MAX */
	size_t log_len;
	bool log_truncated;
	/* Filled by verify_run() only: */
	enum qemu_accel accel;
	bool timed_out;
	int qemu_status;
	uint64_t boot_ms;  /* host time from spawn to TUXTAPE-BEGIN */
	uint64_t total_ms;
};

void verify_result_release(struct verify_result *r);

/*
 * Module name the kernel will use for path (basename without ".ko", '-'
 * replaced by '_').  -EINVAL for anything but [A-Za-z0-9_-] names ending in
 * ".ko" or longer than VERIFY_MODULE_NAME_MAX.
 */
int verify_module_name(const char *path, char *buf, size_t size);

/* The /init script for spec (caller frees).  -EINVAL for a bad spec. */
int verify_init_script(const struct verify_spec *spec, char **ret);

/*
 * Writes the initramfs for spec to path: busybox and its applet links,
 * /dev/console, the generated /init, /modules and /tests.
 */
int verify_build_initramfs(const struct verify_config *cfg, const struct verify_spec *spec,
			   const char *path);

/*
 * Parses console text into ret (fresh; release with verify_result_release):
 * markers, steps, dmesg and a verdict with reason.  Oopses, panics, BUG and
 * WARNING reports after /init started make the run fail.  Unknown or
 * malformed markers are ignored.  -E2BIG beyond VERIFY_STEPS_MAX steps or
 * VERIFY_LOG_MAX bytes, -ENOMEM.
 */
int verify_parse_console(const char *text, size_t len, struct verify_result *ret);

/*
 * Builds the initramfs in cfg->work_dir, boots cfg->kernel and parses the
 * console.  Returns 0 with a verdict (ok/failed/error) in ret whenever qemu
 * ran; negative errno when it could not run (-ENOENT: qemu, kernel or
 * busybox missing).
 */
int verify_run(const struct verify_config *cfg, const struct verify_spec *spec,
	       struct verify_result *ret);

/* JSON form; the console log only when with_log.  -ENOMEM. */
int verify_result_to_json(const struct verify_result *r, bool with_log, json_t **ret);

/*
 * Kallsyms mode: boots the kernel to read its symbol table.  The /init
 * protocol, each marker on a line of its own:
 *   TUXTAPE-KALLSYMS-BEGIN <protocol> <uname -r>
 *   <base64 of "gzip -c /proc/kallsyms">
 *   TUXTAPE-KALLSYMS-END <lines> <bytes>     (of the uncompressed text)
 * or TUXTAPE-KALLSYMS-ERROR <what>; then poweroff -f.  The kernel boots
 * with nokaslr, so the addresses are the link-time ones (those of
 * System.map) and two captures are identical; the console loglevel is 1 so
 * kernel messages cannot break into the dump.
 */
#define VERIFY_KALLSYMS_PROTOCOL 1
/* Largest decompressed /proc/kallsyms accepted (6.1 with KALLSYMS_ALL: 9 MB). */
#define VERIFY_KALLSYMS_MAX (64u * 1024 * 1024)
/* Console bound while capturing (the 6.1 dump is 1.2 MB of base64). */
#define VERIFY_KALLSYMS_CONSOLE_MAX (32u * 1024 * 1024)
#define VERIFY_RELEASE_MAX 64

struct verify_kallsyms {
	char *text;	/* /proc/kallsyms as the guest read it, NUL-terminated */
	size_t len;
	size_t lines;
	char release[VERIFY_RELEASE_MAX + 1]; /* the guest's uname -r */
	/* Filled by verify_capture_kallsyms() only: */
	enum qemu_accel accel;
	uint64_t boot_ms;  /* host time from spawn to TUXTAPE-KALLSYMS-BEGIN */
	uint64_t total_ms;
};

void verify_kallsyms_release(struct verify_kallsyms *k);

/* The kallsyms-mode /init (caller frees).  -ENOMEM. */
int verify_kallsyms_init_script(char **ret);

/*
 * Finds the dump in console text and decodes it into ret (fresh; release
 * with verify_kallsyms_release()), checking that it is whole: base64 and
 * gzip (whose CRC covers the text) intact, the line and byte counts of the
 * END marker, every line "ADDRESS TYPE NAME[\t[MODULE]]", and no text
 * symbol at address 0 (what an unprivileged or kptr_restrict=2 read gives).
 * Errors, with reterr saying what and where (console line numbers):
 *   -EIO      the guest reported TUXTAPE-KALLSYMS-ERROR, or printed no dump
 *   -EBADMSG  a malformed, truncated or zero-address dump
 *   -EFBIG    more than VERIFY_KALLSYMS_MAX bytes once decompressed
 *   -ENOMEM
 */
int verify_kallsyms_decode(const char *console, size_t len, struct verify_kallsyms *ret,
			   char *reterr, size_t errsize);

/*
 * Builds the kallsyms initramfs in cfg->work_dir, boots cfg->kernel
 * (cfg->loglevel, ->initcall_debug are not used; timeout_s 0: 300 s) and
 * decodes the dump.  Errors as verify_kallsyms_decode(), plus -EINVAL (no
 * kernel or work_dir), -ENOENT (qemu, kernel or busybox missing),
 * -ETIMEDOUT (no complete dump in time), -EFBIG (console beyond
 * VERIFY_KALLSYMS_CONSOLE_MAX); reterr adds qemu's complaint or the last
 * console line when the guest printed no dump.
 */
int verify_capture_kallsyms(const struct verify_config *cfg, struct verify_kallsyms *ret,
			    char *reterr, size_t errsize);

#endif
