/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test driver for the VM tests: boots KERNEL with MODULE through the verify
 * library and prints the result as JSON (with the console log) on stdout.
 * Exit 0 when the verdict is ok, 1 when failed, 3 on error, 2 on usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "parse-util.h"
#include "verify.h"

static void usage(void)
{
	fprintf(stderr, "usage: verify-run [--mode livepatch|load-only] [--accel auto|kvm|tcg]\n"
			"                  [--timeout SEC] [--before SCRIPT] [--after SCRIPT]\n"
			"                  [--busybox PATH] [--gzip] [--initcall-debug]\n"
			"                  [--transition-timeout SEC]\n"
			"                  --work-dir DIR KERNEL MODULE.ko\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },  { "accel", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' }, { "before", required_argument, NULL, 'b' },
		{ "after", required_argument, NULL, 'A' }, { "busybox", required_argument, NULL, 'B' },
		{ "work-dir", required_argument, NULL, 'w' }, { "gzip", no_argument, NULL, 'z' },
		{ "initcall-debug", no_argument, NULL, 'i' },
		{ "transition-timeout", required_argument, NULL, 'T' },
		{ 0 },
	};
	struct verify_config cfg = { .loglevel = -1, .accel = QEMU_ACCEL_AUTO };
	struct verify_spec spec = { .mode = VERIFY_MODE_LIVEPATCH };
	struct verify_result res = { 0 };
	json_t *j = NULL;
	int c, r, t;

	log_set_program("verify-run");
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			spec.mode = verify_mode_from_string(optarg);
			if (spec.mode < 0) {
				log_error("unknown mode '%s'", optarg);
				return 2;
			}
			break;
		case 'a':
			if (streq(optarg, "kvm"))
				cfg.accel = QEMU_ACCEL_KVM;
			else if (streq(optarg, "tcg"))
				cfg.accel = QEMU_ACCEL_TCG;
			else if (!streq(optarg, "auto")) {
				log_error("unknown accelerator '%s'", optarg);
				return 2;
			}
			break;
		case 't':
			if (safe_atoi(optarg, &t) < 0 || t <= 0) {
				log_error("invalid timeout '%s'", optarg);
				return 2;
			}
			cfg.timeout_s = (unsigned)t;
			break;
		case 'b':
			spec.test_before = optarg;
			break;
		case 'A':
			spec.test_after = optarg;
			break;
		case 'B':
			cfg.busybox = optarg;
			break;
		case 'w':
			cfg.work_dir = optarg;
			break;
		case 'z':
			cfg.gzip = true;
			break;
		case 'i':
			cfg.initcall_debug = true;
			break;
		case 'T':
			if (safe_atoi(optarg, &t) < 0 || t <= 0) {
				log_error("invalid transition timeout '%s'", optarg);
				return 2;
			}
			spec.transition_timeout_s = (unsigned)t;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (argc - optind != 2 || !cfg.work_dir) {
		usage();
		return 2;
	}
	cfg.kernel = argv[optind];
	spec.module = argv[optind + 1];

	r = verify_run(&cfg, &spec, &res);
	if (r < 0) {
		log_error_errno(r, "cannot run verification of '%s'", spec.module);
		return 3;
	}
	r = verify_result_to_json(&res, true, &j);
	if (r < 0) {
		verify_result_release(&res);
		log_error_errno(r, "cannot format result");
		return 3;
	}
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(j);
	r = res.verdict == VERIFY_VERDICT_OK ? 0 : res.verdict == VERIFY_VERDICT_FAILED ? 1 : 3;
	verify_result_release(&res);
	return r;
}
