/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd-patch-history.h"
#include "debian.h"
#include "fileio.h"
#include "log.h"
#include "modinfo.h"
#include "build.h"
#include "generate.h"
#include "history.h"
#include "klog.h"
#include "record.h"
#include "klp-module.h"
#include "parse-util.h"
#include "prepare.h"
#include "registry.h"
#include "strbuf.h"
#include "verify.h"

/*
 * The target's own copy of module objname (kernel form, '_' for '-'): for
 * Debian kernels taken out of the cached image package once, under
 * DATA/cache/debian/modules/REL/.  -ENOENT when the kernel is not a Debian
 * one or has no such module.
 */
static int kernel_module_file(const char *data_dir, const struct kernel_entry *k,
			      const char *objname, bool offline, char **ret, char *reterr,
			      size_t errsize)
{
	_cleanup_(debian_kernel_freep) struct debian_kernel *deb = NULL;
	_cleanup_free_ char *cache = path_join(data_dir, "cache/debian");
	_cleanup_free_ char *dir = NULL, *path = NULL, *member = NULL;
	const char *found = NULL;
	char release[128];
	int r;

	if (!cache)
		return -ENOMEM;
	if (kernel_entry_debian_release(k, release, sizeof(release)) < 0) {
		snprintf(reterr, errsize, "kernel '%s' is not a Debian kernel: its modules are not "
					  "known", k->name);
		return -ENOENT;
	}
	r = debian_kernel_fetch(release, cache,
				DEBIAN_FETCH_NO_SOURCE | (offline ? DEBIAN_FETCH_OFFLINE : 0), &deb,
				reterr, errsize);
	if (r < 0)
		return r;
	for (size_t i = 0; deb->modules[i] && !found; i++) {
		const char *base = strrchr(deb->modules[i], '/');
		size_t n;

		base = base ? base + 1 : deb->modules[i];
		n = strcspn(base, ".");
		if (n != strlen(objname))
			continue;
		found = deb->modules[i];
		for (size_t j = 0; j < n; j++)
			if ((base[j] == '-' ? '_' : base[j]) != objname[j])
				found = NULL;
	}
	if (!found) {
		snprintf(reterr, errsize, "Debian kernel '%s' has no module '%s'", release, objname);
		return -ENOENT;
	}
	if (asprintf(&dir, "%s/modules/%s", cache, release) < 0 ||
	    asprintf(&path, "%s/lib/modules/%s/kernel/%s", dir, release, found) < 0 ||
	    asprintf(&member, "lib/modules/%s/kernel/%s", release, found) < 0)
		return -ENOMEM;
	if (access(path, R_OK) != 0) {
		if (!deb->image_deb) {
			snprintf(reterr, errsize, "the image package of '%s' is not cached", release);
			return -ENOENT;
		}
		r = debian_deb_extract_member(deb->image_deb, member, path, reterr, errsize);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(path);
	return 0;
}

struct module_lookup {
	const char *data_dir;
	const struct kernel_entry *k;
	bool offline;
};

static int module_file_cb(void *userdata, const char *objname, char **ret, char *reterr,
			  size_t errsize)
{
	struct module_lookup *ml = userdata;

	return kernel_module_file(ml->data_dir, ml->k, objname, ml->offline, ret, reterr, errsize);
}

static void verify_help(void)
{
	fputs("usage: tuxtape patch verify --kernel NAME [OPTIONS] MODULE\n"
	      "\n"
	      "Boot the kernel in a virtual machine (qemu; KVM when it works, else TCG)\n"
	      "with a generated busybox initramfs, run the test before loading, load\n"
	      "MODULE, wait for the livepatch transition, run the test after, check the\n"
	      "kernel log, disable and unload.  Nothing is loaded into this machine's\n"
	      "kernel.\n"
	      "\n"
	      "Options:\n"
	      "      --kernel NAME      a registered kernel (Debian kernels boot their own\n"
	      "                         vmlinuz; others need --vmlinuz)\n"
	      "      --vmlinuz FILE     the kernel image to boot\n"
	      "      --test SCRIPT      run before and after loading (busybox sh, exit 0 = pass)\n"
	      "      --test-before S, --test-after S   separate scripts\n"
	      "      --dep KO|NAME      load this module first (repeatable); a NAME is taken\n"
	      "                         from the Debian kernel's image package\n"
	      "      --load-only        a plain module, not a livepatch: load, check, unload\n"
	      "      --kernel-arg ARG   add ARG to the guest's kernel command line (repeatable;\n"
	      "                         e.g. module.sig_enforce=1)\n"
	      "      --accel auto|kvm|tcg\n"
	      "      --timeout SECONDS  whole run (default 300)\n"
	      "      --transition-timeout SECONDS  for the livepatch transition (default 60)\n"
	      "      --offline          do not download the kernel package\n"
	      "      --log              include the console log in --json output\n"
	      "      --json             machine-readable verdict\n"
	      "  -h, --help             show this help\n"
	      "\n"
	      "Exit codes: 0 verdict ok, 6 verdict failed (the module or a test failed, or\n"
	      "the kernel complained), 1 could not run, 2 usage, 5 kernel not registered.\n",
	      stdout);
}

static int verb_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_KERNEL = 256,
		OPT_VMLINUZ,
		OPT_TEST,
		OPT_TEST_BEFORE,
		OPT_TEST_AFTER,
		OPT_DEP,
		OPT_LOAD_ONLY,
		OPT_KERNEL_ARG,
		OPT_ACCEL,
		OPT_TIMEOUT,
		OPT_TRANSITION_TIMEOUT,
		OPT_OFFLINE,
		OPT_LOG,
		OPT_JSON,
	};
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "vmlinuz", required_argument, NULL, OPT_VMLINUZ },
		{ "test", required_argument, NULL, OPT_TEST },
		{ "test-before", required_argument, NULL, OPT_TEST_BEFORE },
		{ "test-after", required_argument, NULL, OPT_TEST_AFTER },
		{ "dep", required_argument, NULL, OPT_DEP },
		{ "load-only", no_argument, NULL, OPT_LOAD_ONLY },
		{ "kernel-arg", required_argument, NULL, OPT_KERNEL_ARG },
		{ "accel", required_argument, NULL, OPT_ACCEL },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "transition-timeout", required_argument, NULL, OPT_TRANSITION_TIMEOUT },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "log", no_argument, NULL, OPT_LOG },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_(kernel_entry_freep) struct kernel_entry *k = NULL;
	_cleanup_free_ char *image = NULL, *work = NULL, *modname = NULL;
	_cleanup_strv_free_ char **deps = NULL;
	_cleanup_strbuf_ struct strbuf kernel_args;
	struct klog_verdict kv = { 0 };
	bool have_kv = false;
	struct verify_spec spec = { .mode = VERIFY_MODE_LIVEPATCH };
	struct verify_config cfg = { .accel = QEMU_ACCEL_AUTO, .loglevel = 4, .gzip = true };
	struct verify_result res;
	enum verify_verdict verdict;
	const char *kernel = NULL, *vmlinuz = NULL;
	bool offline = false, with_log = false;
	int c, r, timeout = 300;

	strbuf_init(&kernel_args, 0);
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			kernel = optarg;
			break;
		case OPT_VMLINUZ:
			vmlinuz = optarg;
			break;
		case OPT_TEST:
			spec.test_before = spec.test_after = optarg;
			break;
		case OPT_TEST_BEFORE:
			spec.test_before = optarg;
			break;
		case OPT_TEST_AFTER:
			spec.test_after = optarg;
			break;
		case OPT_DEP:
			if (strv_push(&deps, optarg) < 0)
				return -ENOMEM;
			break;
		case OPT_LOAD_ONLY:
			spec.mode = VERIFY_MODE_LOAD_ONLY;
			break;
		case OPT_KERNEL_ARG:
			if (!*optarg || strpbrk(optarg, " \t\n\r") ||
			    kernel_args.len + strlen(optarg) + 1 >= VERIFY_KERNEL_ARGS_MAX)
				return cli_usage_error("patch", "verify",
						       "bad --kernel-arg '%s' (one word, %d bytes in all)",
						       optarg, VERIFY_KERNEL_ARGS_MAX - 1);
			if ((kernel_args.len && strbuf_addch(&kernel_args, ' ') < 0) ||
			    strbuf_adds(&kernel_args, optarg) < 0)
				return -ENOMEM;
			cfg.kernel_args = kernel_args.buf;
			break;
		case OPT_ACCEL:
			if (streq(optarg, "auto"))
				cfg.accel = QEMU_ACCEL_AUTO;
			else if (streq(optarg, "kvm"))
				cfg.accel = QEMU_ACCEL_KVM;
			else if (streq(optarg, "tcg"))
				cfg.accel = QEMU_ACCEL_TCG;
			else
				return cli_usage_error("patch", "verify", "unknown accel '%s'", optarg);
			break;
		case OPT_TIMEOUT:
			if (safe_atoi(optarg, &timeout) < 0 || timeout < 10 || timeout > 7200)
				return cli_usage_error("patch", "verify",
						       "invalid timeout '%s' (10..7200 s)", optarg);
			break;
		case OPT_TRANSITION_TIMEOUT: {
			int t;

			if (safe_atoi(optarg, &t) < 0 || t < 1 || t > 3600)
				return cli_usage_error("patch", "verify",
						       "invalid transition timeout '%s' (1..3600 s)",
						       optarg);
			spec.transition_timeout_s = (unsigned)t;
			break;
		}
		case OPT_OFFLINE:
			offline = true;
			break;
		case OPT_LOG:
			with_log = true;
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case 'h':
			verify_help();
			return 0;
		default:
			return cli_usage_error("patch", "verify", "invalid option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("patch", "verify", "expected one MODULE (.ko)");
	if (!kernel && !vmlinuz)
		return cli_usage_error("patch", "verify", "give --kernel NAME or --vmlinuz FILE");
	spec.module = argv[optind];
	spec.deps = deps;
	if (access(spec.module, R_OK) < 0)
		return log_error_errno(-errno, "cannot read the module '%s'", spec.module);
	/* the kernel names the module (and its livepatch directory) by .modinfo, not file */
	{
		_cleanup_(modinfo_release) struct modinfo mi = { 0 };
		char err[256];

		r = modinfo_read_file(spec.module, &mi, err, sizeof(err));
		if (r == -ENOMEM)
			return log_error_errno(r, "out of memory");
		modname = r >= 0 ? TAKE_PTR(mi.name) : NULL;
	}
	spec.module_name = modname;

	if (kernel) {
		r = cli_open_db(ctx, &db);
		if (r < 0)
			return r;
		r = registry_get(db, kernel, &k);
		if (r == -ENOENT)
			return cli_kernel_not_registered(kernel);
		if (r < 0)
			return log_error_errno(r, "cannot read kernel '%s'", kernel);
		for (size_t i = 0; deps && deps[i]; i++) {
			_cleanup_free_ char *ko = NULL;
			char err[512] = "";

			if (strchr(deps[i], '/') || strstr(deps[i], ".ko"))
				continue;
			r = kernel_module_file(ctx->data_dir, k, deps[i], offline, &ko, err,
					       sizeof(err));
			if (r < 0)
				return log_error_errno(r, "cannot find module '%s' of kernel '%s'%s%s",
						       deps[i], kernel, err[0] ? ": " : "", err);
			free(deps[i]);
			deps[i] = TAKE_PTR(ko);
		}
		if (!vmlinuz) {
			r = cli_kernel_image(ctx, k, offline, &image);
			if (r < 0)
				return r;
			vmlinuz = image;
		}
	}
	work = path_join(ctx->data_dir, "verify");
	if (!work)
		return -ENOMEM;
	if ((r = mkdir_p(work, 0755)) < 0)
		return log_error_errno(r, "cannot create '%s'", work);
	{
		_cleanup_free_ char *run_dir = NULL;

		if (asprintf(&run_dir, "%s/run-XXXXXX", work) < 0 || !mkdtemp(run_dir))
			return log_error_errno(-errno, "cannot create a work directory in '%s'", work);
		cfg.kernel = vmlinuz;
		cfg.work_dir = run_dir;
		cfg.timeout_s = (unsigned)timeout;
		if (!ctx->json && ctx->verbosity >= 0)
			fprintf(stderr, "booting '%s' with '%s'...\n", vmlinuz, spec.module);
		r = verify_run(&cfg, &spec, &res);
		(void)rm_rf(run_dir);
	}
	if (r < 0)
		return log_error_errno(r, "cannot run the virtual machine");
	/*
	 * The kernel log's own verdict (klog): a report attributed to this
	 * livepatch fails the run even when every step passed.
	 */
	if (res.dmesg || res.log) {
		struct klog_options ko;
		struct klog_patch_spec ps = { .name = spec.module_name };
		char name[VERIFY_MODULE_NAME_MAX + 1];

		if (!ps.name && verify_module_name(spec.module, name, sizeof(name)) >= 0)
			ps.name = name;
		klog_options_init(&ko);
		ko.patches = &ps;
		ko.n_patches = ps.name ? 1 : 0;
		ko.since_s = res.begin_uptime_s;
		r = klog_parse_buffer(res.dmesg ? res.dmesg : res.log,
				      strlen(res.dmesg ? res.dmesg : res.log), &ko, &kv);
		if (r < 0) {
			verify_result_release(&res);
			return log_error_errno(r, "cannot read the kernel log");
		}
		have_kv = true;
		if (kv.kind == KLOG_VERDICT_MISBEHAVED && res.verdict == VERIFY_VERDICT_OK) {
			res.verdict = VERIFY_VERDICT_FAILED;
			/* the full reason is in the klog verdict; the summary is cut to fit */
			snprintf(res.reason, sizeof(res.reason), "kernel log: %.*s",
				 (int)(sizeof(res.reason) - sizeof("kernel log: ")), kv.reason);
		}
	}
	if (ctx->json) {
		json_t *j = NULL, *jk = NULL;

		r = verify_result_to_json(&res, with_log, &j);
		if (r >= 0 && have_kv && klog_verdict_to_json(&kv, &jk) >= 0)
			json_object_set_new(j, "klog", jk);
		if (r >= 0)
			r = cli_print_json(j);
	} else {
		printf("verdict: %s%s%s\n", verify_verdict_to_string(res.verdict),
		       res.reason[0] ? ": " : "", res.reason);
		for (size_t i = 0; i < res.n_steps; i++)
			printf("  %-16s rc=%d\n", res.steps[i].name, res.steps[i].rc);
		printf("%s: boot %.1f s, total %.1f s, taint %ld\n", qemu_accel_to_string(res.accel),
		       (double)res.boot_ms / 1000, (double)res.total_ms / 1000, res.taint);
		if (have_kv)
			printf("kernel log: %s%s%s\n", klog_verdict_kind_to_string(kv.kind),
			       kv.reason[0] ? ": " : "", kv.reason);
	}
	verdict = res.verdict;
	verify_result_release(&res);
	if (r < 0)
		return r;
	return verdict == VERIFY_VERDICT_OK ? 0 : CLI_RESULT_CHECK_FAILED;
}

/* The patches by absolute path: patch(1) runs in another directory. */
static int absolute_patches(char **v, char ***ret)
{
	_cleanup_strv_free_ char **out = NULL;
	int r;

	for (; *v; v++) {
		_cleanup_free_ char *abs = NULL;

		if (access(*v, R_OK) < 0)
			return log_error_errno(-errno, "cannot read the patch '%s'", *v);
		abs = realpath(*v, NULL);
		if (!abs)
			return log_error_errno(-errno, "cannot resolve the patch '%s'", *v);
		r = strv_push(&out, abs);
		if (r < 0)
			return log_error_errno(r, "out of memory");
	}
	*ret = TAKE_PTR(out);
	return 0;
}

static void analyse_help(void)
{
	fputs("usage: tuxtape patch analyse --kernel NAME [OPTIONS] PATCH...\n"
	      "\n"
	      "Apply the patches to a shadow of the kernel's source (the pristine tree is\n"
	      "never written), build each touched translation unit before and after with\n"
	      "-ffunction-sections -fdata-sections in the prepared tree ('tuxtape kernel\n"
	      "prepare' runs first when needed), compare the objects function by function\n"
	      "and report changed, new and removed functions and data, and why a change\n"
	      "cannot be livepatched (headers, assembly, changed data, __init code,\n"
	      "functions ftrace cannot hook).  'tuxtape patch build' goes on to the module.\n"
	      "\n"
	      "Options:\n"
	      "      --kernel NAME      a registered kernel\n"
	      "      --source-dir DIR   its source tree (not for --debian kernels)\n"
	      "      --force            prepare despite a compiler or config mismatch\n"
	      "      --offline          do not download packages\n"
	      "      --json             machine-readable report\n"
	      "\n"
	      "Exit codes: 0 livepatchable, 6 not livepatchable (reasons in the report),\n"
	      "1 failure (patch does not apply, build failed), 2 usage, 5 kernel not registered.\n",
	      stdout);
}

static int verb_analyse(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_KERNEL = 256, OPT_SOURCE_DIR, OPT_FORCE, OPT_OFFLINE, OPT_JSON };
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "source-dir", required_argument, NULL, OPT_SOURCE_DIR },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_(kernel_entry_freep) struct kernel_entry *k = NULL;
	_cleanup_free_ char *tree = NULL, *work = NULL;
	_cleanup_strv_free_ char **patches = NULL;
	struct prepare_options po = { .timeout_s = 3600 };
	struct prepare_result pr = { 0 };
	struct patch_analysis *a = NULL;
	const char *kernel = NULL;
	bool offline = false, livepatchable;
	char err[512] = "";
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			kernel = optarg;
			break;
		case OPT_SOURCE_DIR:
			po.source_dir = optarg;
			break;
		case OPT_FORCE:
			po.force = true;
			break;
		case OPT_OFFLINE:
			offline = true;
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case 'h':
			analyse_help();
			return 0;
		default:
			return cli_usage_error("patch", "analyse", "invalid option");
		}
	}
	if (!kernel)
		return cli_usage_error("patch", "analyse", "--kernel NAME is required");
	if (optind >= argc)
		return cli_usage_error("patch", "analyse", "expected at least one PATCH");
	r = absolute_patches(argv + optind, &patches);
	if (r < 0)
		return r;
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = cli_kernel_prepare(ctx, db, kernel, &po, offline, &k, &tree, &pr);
	if (r < 0 || r == CLI_RESULT_USAGE || r == CLI_RESULT_NOT_FOUND)
		return r;
	if (asprintf(&work, "%s/patch-work-XXXXXX", pr.dir) < 0 || !mkdtemp(work)) {
		r = log_error_errno(-errno, "cannot create a work directory in '%s'", pr.dir);
		goto out;
	}
	{
		struct patch_analyse_options ao = {
			.source_dir = tree,
			.build_dir = pr.build_dir,
			.make_args = pr.make_args,
			.work_dir = work,
			.patches = patches,
			.timeout_s = 3600,
		};

		r = patch_analyse(&ao, &a, err, sizeof(err));
	}
	if (r < 0) {
		log_error_errno(r, "cannot analyse the patch for '%s'%s%s", kernel,
				err[0] ? ": " : "", err);
		goto out;
	}
	livepatchable = a->livepatchable;
	if (ctx->json) {
		r = cli_print_json(patch_analysis_to_json(a));
	} else {
		json_t *j = patch_analysis_to_json(a);
		size_t i;
		json_t *f;

		json_array_foreach(json_object_get(j, "files"), i, f) {
			json_t *fn = json_object_get(f, "functions"), *refs = json_object_get(f, "refusals");
			size_t k2;
			json_t *x;

			printf("%s (%s, in %s)\n", json_string_value(json_object_get(f, "path")),
			       json_is_string(json_object_get(f, "object"))
				       ? json_string_value(json_object_get(f, "object"))
				       : "-",
			       json_is_string(json_object_get(f, "objname"))
				       ? json_string_value(json_object_get(f, "objname"))
				       : "-");
			json_array_foreach(json_object_get(fn, "changed"), k2, x)
				printf("  changed function  %s\n", json_string_value(x));
			json_array_foreach(json_object_get(fn, "new"), k2, x)
				printf("  new function      %s\n", json_string_value(x));
			json_array_foreach(json_object_get(fn, "removed"), k2, x)
				printf("  removed function  %s\n", json_string_value(x));
			json_array_foreach(json_object_get(f, "line_only"), k2, x)
				printf("  only __LINE__     %s\n", json_string_value(x));
			json_array_foreach(refs, k2, x)
				printf("  refused: %s: %s\n",
				       json_string_value(json_object_get(x, "what")),
				       json_string_value(json_object_get(x, "reason")));
		}
		printf("%s\n", livepatchable ? "livepatchable" : "not livepatchable");
		json_decref(j);
	}
	if (r >= 0 && !livepatchable)
		r = CLI_RESULT_CHECK_FAILED;
out:
	patch_analysis_free(a);
	if (work)
		(void)rm_rf(work);
	prepare_result_release(&pr);
	return r;
}

/*
 * Records the outcome of a build (and so announces it, see [notify]).  A
 * failure to record is reported, but the build's own result stands.
 */
static void record_build(struct cli_ctx *ctx, struct db *db, const char *kernel,
			 const char *name, char **cves, char **patches, json_t *report,
			 const char *error, const char *module)
{
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };
	const char *status = report ? json_string_value(json_object_get(report, "status")) : NULL;
	json_t *x;
	size_t i;
	int64_t id;
	int r;

	rec.status = error ? PATCH_HISTORY_FAILED
		     : status && streq(status, "built") ? PATCH_HISTORY_BUILT
							  : PATCH_HISTORY_REFUSED;
	r = patch_history_record_set_kernel(&rec, kernel, name);
	for (size_t j = 0; r >= 0 && cves && cves[j]; j++)
		r = patch_history_record_add_cve(&rec, cves[j]);
	for (size_t j = 0; r >= 0 && patches && patches[j]; j++)
		r = patch_history_record_add_patch_file(&rec, patches[j]);
	if (r >= 0 && error)
		r = patch_history_record_add_reason(&rec, "build", error);
	json_array_foreach(report ? json_object_get(report, "refusals") : NULL, i, x) {
		if (r < 0)
			break;
		r = patch_history_record_add_reason(&rec,
						    json_string_value(json_object_get(x, "what")),
						    json_string_value(json_object_get(x, "reason")));
	}
	if (r >= 0 && report)
		r = patch_history_record_set_report(&rec, report);
	if (r >= 0 && module && rec.status == PATCH_HISTORY_BUILT)
		r = patch_history_record_set_module(&rec, module);
	if (r < 0) {
		log_warning_errno(r, "cannot record the build for '%s', ignoring", kernel);
		return;
	}
	if (cli_patch_history_record(ctx, db, &rec, &id) >= 0) {
		if (report)
			json_object_set_new(report, "id", json_integer(id));
		log_debug("build recorded as %lld", (long long)id);
	}
}

static void build_help(void)
{
	fputs("usage: tuxtape patch build --kernel NAME [OPTIONS] PATCH...\n"
	      "\n"
	      "Build a livepatch module for a registered kernel from one or more fixes\n"
	      "(unified diffs, applied in order; several make one cumulative module).\n"
	      "The kernel is prepared first when needed.  Each touched translation unit\n"
	      "is compiled before and after, compared function by function, and the\n"
	      "changed and new functions are linked into a module whose references to\n"
	      "the running kernel go through livepatch relocations.  When the change\n"
	      "cannot be livepatched, the report says why, per file, function or section.\n"
	      "\n"
	      "Options:\n"
	      "      --kernel NAME      a registered kernel\n"
	      "      --name NAME        module name ([a-z0-9_], default from the first patch)\n"
	      "  -o, --output FILE      where the .ko goes (default ./NAME.ko)\n"
	      "      --replace          atomic replace of earlier livepatches (default)\n"
	      "      --no-replace       stack on earlier livepatches instead\n"
	      "      --sign KEY CERT    sign the module (PEM key, PEM/DER X.509 certificate;\n"
	      "                         an encrypted key takes $KBUILD_SIGN_PIN)\n"
	      "      --description TEXT MODULE_DESCRIPTION of the module\n"
	      "      --cve CVE          the CVE the fix is for (repeatable; recorded)\n"
	      "      --source-dir DIR   the kernel's source tree (not for --debian kernels)\n"
	      "      --force            prepare despite a compiler or config mismatch\n"
	      "      --offline          do not download packages\n"
	      "      --keep-work        keep the work directory (its path is printed)\n"
	      "      --kallsyms FILE    a saved /proc/kallsyms of the target (see kernel prepare)\n"
	      "      --json             the report as JSON\n"
	      "\n"
	      "Every outcome is recorded ('tuxtape patch list') and refusals and failures\n"
	      "are announced as [notify] configures (docs/config.md).\n"
	      "\n"
	      "Exit codes: 0 built, 6 refused (reasons in the report), 1 failure (patch does\n"
	      "not apply, build failed), 2 usage, 5 kernel not registered.\n",
	      stdout);
}

/* "tuxtape_" and the first patch's base name in [a-z0-9_], at most 55 bytes. */
static char *default_module_name(const char *patch)
{
	const char *base = strrchr(patch, '/');
	char buf[KLP_MODULE_NAME_MAX + 1] = "tuxtape_";
	size_t n = strlen(buf);

	base = base ? base + 1 : patch;
	for (; *base && *base != '.' && n < KLP_MODULE_NAME_MAX; base++) {
		char c = *base;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		buf[n++] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ? c : '_';
	}
	buf[n] = '\0';
	return strdup(buf);
}

static void print_build_report(json_t *j)
{
	json_t *x, *objs = json_object_get(j, "objects"), *refs = json_object_get(j, "refusals");
	size_t i, k;

	json_array_foreach(objs, i, x) {
		json_t *fn = json_object_get(json_object_get(x, "klp"), "special_sections"), *y;
		const char *key;

		printf("%s -> %s\n", json_string_value(json_object_get(x, "path")),
		       json_string_value(json_object_get(x, "objname")));
		json_array_foreach(json_object_get(x, "included"), k, y)
			printf("  included   %s\n", json_string_value(y));
		json_object_foreach(fn, key, y)
			printf("  section    %s: %lld kept, %lld dropped\n", key,
			       (long long)json_integer_value(json_object_get(y, "kept")),
			       (long long)json_integer_value(json_object_get(y, "dropped")));
	}
	json_array_foreach(refs, i, x)
		printf("refused: %s: %s\n", json_string_value(json_object_get(x, "what")),
		       json_string_value(json_object_get(x, "reason")));
	x = json_object_get(j, "module");
	if (x)
		printf("built %s (%lld livepatch relocations, vermagic '%s')\n",
		       json_string_value(json_object_get(x, "path")),
		       (long long)json_integer_value(json_object_get(x, "klp_relocations")),
		       json_string_value(json_object_get(x, "vermagic")) ?: "?");
}

static int verb_build(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_KERNEL = 256, OPT_NAME, OPT_REPLACE, OPT_NO_REPLACE, OPT_SIGN, OPT_DESCRIPTION,
		OPT_SOURCE_DIR, OPT_FORCE, OPT_OFFLINE, OPT_KEEP_WORK, OPT_JSON, OPT_KALLSYMS,
		OPT_CVE,
	};
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "output", required_argument, NULL, 'o' },
		{ "replace", no_argument, NULL, OPT_REPLACE },
		{ "no-replace", no_argument, NULL, OPT_NO_REPLACE },
		{ "sign", required_argument, NULL, OPT_SIGN },
		{ "description", required_argument, NULL, OPT_DESCRIPTION },
		{ "source-dir", required_argument, NULL, OPT_SOURCE_DIR },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "keep-work", no_argument, NULL, OPT_KEEP_WORK },
		{ "kallsyms", required_argument, NULL, OPT_KALLSYMS },
		{ "cve", required_argument, NULL, OPT_CVE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_(kernel_entry_freep) struct kernel_entry *k = NULL;
	_cleanup_free_ char *tree = NULL, *work = NULL, *name = NULL, *output = NULL;
	_cleanup_strv_free_ char **patches = NULL, **cves = NULL;
	struct prepare_options po = { .timeout_s = 3600 };
	struct prepare_result pr = { 0 };
	struct patch_generate_options go = { .replace = true, .timeout_s = 3600 };
	struct module_lookup ml = { .data_dir = ctx->data_dir, .offline = false };
	const char *kernel = NULL, *name_arg = NULL, *output_arg = NULL;
	bool offline = false, keep = false;
	json_t *report = NULL;
	char err[1024] = "";
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "ho:", options, NULL)) != -1) {
		switch (c) {
		case OPT_KERNEL:
			kernel = optarg;
			break;
		case OPT_NAME:
			name_arg = optarg;
			break;
		case 'o':
			output_arg = optarg;
			break;
		case OPT_REPLACE:
			go.replace = true;
			break;
		case OPT_NO_REPLACE:
			go.replace = false;
			break;
		case OPT_SIGN:
			if (optind >= argc)
				return cli_usage_error("patch", "build", "--sign needs KEY and CERT");
			go.sign_key = optarg;
			go.sign_cert = argv[optind++];
			break;
		case OPT_DESCRIPTION:
			go.description = optarg;
			break;
		case OPT_SOURCE_DIR:
			po.source_dir = optarg;
			break;
		case OPT_FORCE:
			po.force = true;
			break;
		case OPT_OFFLINE:
			offline = true;
			break;
		case OPT_KEEP_WORK:
			keep = true;
			break;
		case OPT_KALLSYMS:
			po.kallsyms = optarg;
			break;
		case OPT_CVE:
			if (!cve_id_valid(optarg))
				return cli_usage_error("patch", "build", "invalid CVE id '%s'", optarg);
			if (strv_push(&cves, optarg) < 0)
				return log_error_errno(-ENOMEM, "out of memory");
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case 'h':
			build_help();
			return 0;
		default:
			return cli_usage_error("patch", "build", "invalid option");
		}
	}
	if (!kernel)
		return cli_usage_error("patch", "build", "--kernel NAME is required");
	if (optind >= argc)
		return cli_usage_error("patch", "build", "expected at least one PATCH");
	r = absolute_patches(argv + optind, &patches);
	if (r < 0)
		return r;
	if (go.sign_key && (access(go.sign_key, R_OK) < 0 || access(go.sign_cert, R_OK) < 0))
		return log_error_errno(-errno, "cannot read the signing key '%s' or certificate '%s'",
				       go.sign_key, go.sign_cert);
	name = name_arg ? strdup(name_arg) : default_module_name(argv[optind]);
	if (!name)
		return log_error_errno(-ENOMEM, "out of memory");
	if (output_arg)
		output = strdup(output_arg);
	else if (asprintf(&output, "%s.ko", name) < 0)
		output = NULL;
	if (!output)
		return log_error_errno(-ENOMEM, "out of memory");
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = cli_kernel_prepare(ctx, db, kernel, &po, offline, &k, &tree, &pr);
	if (r < 0 || r == CLI_RESULT_USAGE || r == CLI_RESULT_NOT_FOUND)
		return r;
	ml.k = k;
	ml.offline = offline;
	if (!pr.symvers_path) {
		r = log_error_errno(-ENOENT, "kernel '%s' has no Module.symvers: cannot build "
					     "modules for it", kernel);
		goto out;
	}
	if (!pr.symbol_table)
		log_warning("kernel '%s' has no symbol table (%s): only exported symbols resolve",
			    kernel, pr.symbol_table_note ?: "none recorded");
	if (asprintf(&work, "%s/patch-work-XXXXXX", pr.dir) < 0 || !mkdtemp(work)) {
		r = log_error_errno(-errno, "cannot create a work directory in '%s'", pr.dir);
		goto out;
	}
	go.source_dir = tree;
	go.build_dir = pr.build_dir;
	go.make_args = pr.make_args;
	go.symvers = pr.symvers_path;
	go.symbol_table = pr.symbol_table;
	go.module_file = module_file_cb;
	go.userdata = &ml;
	go.patches = patches;
	go.work_dir = work;
	go.name = name;
	go.output = output;
	r = patch_generate(&go, &report, err, sizeof(err));
	if (r < 0) {
		log_error_errno(r, "cannot build a livepatch for '%s'%s%s", kernel,
				err[0] ? ": " : "", err);
		record_build(ctx, db, kernel, name, cves, patches, NULL,
			     err[0] ? err : strerror(-r), NULL);
		goto out;
	}
	json_object_set_new(report, "kernel", json_string(kernel));
	record_build(ctx, db, kernel, name, cves, patches, report, NULL, output);
	if (keep)
		json_object_set_new(report, "work_dir", json_string(work));
	if (ctx->json)
		r = cli_print_json(json_incref(report));
	else
		print_build_report(report);
	if (r >= 0 && !streq(json_string_value(json_object_get(report, "status")), "built"))
		r = CLI_RESULT_CHECK_FAILED;
out:
	json_decref(report);
	if (work && keep)
		log_info("work directory kept: %s", work);
	else if (work)
		(void)rm_rf(work);
	prepare_result_release(&pr);
	return r;
}

static const struct cli_verb patch_verbs[] = {
	{ "build", verb_build, "build a livepatch module from fixes" },
	{ "analyse", verb_analyse, "which functions a fix changes, and whether it can be livepatched" },
	{ "verify", verb_verify, "boot the kernel in a VM, load and test a module" },
	{ "list", cmd_patch_list, "list recorded patch builds" },
	{ "show", cmd_patch_show, "show one recorded patch build" },
	{},
};

int cmd_patch(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "patch", patch_verbs, argc, argv);
}
