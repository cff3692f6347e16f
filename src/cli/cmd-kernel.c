/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


#include "applicability.h"
#include "cli.h"
#include "debian.h"
#include "digest.h"
#include "fileio.h"
#include "initramfs.h"
#include "kconfig.h"
#include "lock.h"
#include "log.h"
#include "parse-util.h"
#include "prepare.h"
#include "profile-build-dir.h"
#include "profile-debuginfo.h"
#include "profile-dry-run.h"
#include "profile-list.h"
#include "registry.h"
#include "strbuf.h"
#include "verify.h"

#define CONFIG_FILE_MAX (4u * 1024 * 1024)

/* ---- kernel add ---- */

static void add_help(void)
{
	fputs("usage: tuxtape kernel add NAME [OPTIONS]\n"
	      "\n"
	      "Register (or re-register) a kernel: its version, configuration and build\n"
	      "profile, the source files actually compiled into it.\n"
	      "\n"
	      "Options:\n"
	      "      --debian RELEASE   a Debian 12 kernel, e.g. 6.1.0-54-amd64: version, config,\n"
	      "                         System.map and modules come from its packages\n"
	      "                         (apt-get download, cached in the data directory)\n"
	      "      --version V        upstream version, e.g. 6.1.190 (else from the tree)\n"
	      "      --release R        uname -r (default: from the tree, else the version)\n"
	      "      --config FILE      the kernel's .config\n"
	      "Build profile, one of:\n"
	      "      --build-dir DIR    a built tree: *.o.cmd files give sources and headers\n"
	      "      --source-dir DIR   a source tree: kbuild's dry run (make -n) with --config\n"
	      "      --debuginfo FILE   vmlinux or a .ko with DWARF (repeatable)\n"
	      "      --profile FILE     a list: PATH [builtin|module|header] per line\n"
	      "      --modules FILE     the kernel's modules, one .ko path per line (e.g. the\n"
	      "                         output of 'find /lib/modules/REL/kernel -name \"*.ko*\"'),\n"
	      "                         so sources can be tied to their modules\n"
	      "      --no-source        with --debian: no linux-source, so no build profile\n"
	      "      --offline          do not download (--debian uses the cache)\n"
	      "      --json             machine-readable output\n"
	      "  -h, --help             show this help\n"
	      "\n"
	      "Nothing is registered when any step fails.  Exit codes: 0 ok, 1 failure, 2 usage.\n",
	      stdout);
}

/* Reads VERSION/PATCHLEVEL/SUBLEVEL from a tree's Makefile, or include/config/kernel.release. */
static int tree_version(const char *dir, char **ret_version, char **ret_release)
{
	_cleanup_free_ char *rel_path = path_join(dir, "include/config/kernel.release");
	_cleanup_free_ char *mk_path = path_join(dir, "Makefile");
	_cleanup_free_ char *buf = NULL;
	int v = -1, p = -1, s = -1;
	size_t len;

	if (!rel_path || !mk_path)
		return -ENOMEM;
	if (read_file_bounded(rel_path, 4096, &buf, &len) == 0) {
		buf[strcspn(buf, "\n")] = '\0';
		*ret_release = strdup(buf);
		free(TAKE_PTR(buf));
	}
	if (read_file_bounded(mk_path, 1024 * 1024, &buf, &len) < 0)
		return -ENOENT;
	for (char *line = buf; line && *line;) {
		char *nl = strchr(line, '\n');

		if (nl)
			*nl = '\0';
		(void)(sscanf(line, "VERSION = %d", &v) || sscanf(line, "PATCHLEVEL = %d", &p) ||
		       sscanf(line, "SUBLEVEL = %d", &s));
		line = nl ? nl + 1 : NULL;
	}
	if (v < 0 || p < 0)
		return -ENOENT;
	if (asprintf(ret_version, s > 0 ? "%d.%d.%d" : "%d.%d", v, p, s) < 0)
		return -ENOMEM;
	return 0;
}

struct add_opts {
	const char *version, *release, *arch, *config, *build_dir, *source_dir, *profile, *debian;
	char **debuginfo;
	bool offline;
	bool no_source;
};

/* Writes a profile as a list file (the --profile format), atomically. */
static int save_profile(const struct kernel_profile *p, const char *path)
{
	static const char *const kind[] = { "builtin", "module", "header" };
	_cleanup_strbuf_ struct strbuf sb;
	const char *f;
	unsigned flags;
	size_t it = 0;
	int r = 0;

	strbuf_init(&sb, 0);
	while (r >= 0 && (f = kernel_profile_next(p, &it, &flags)))
		for (int i = 0; r >= 0 && i < 3; i++)
			if (flags & (1u << i))
				r = strbuf_addf(&sb, "%s %s\n", f, kind[i]);
	return r < 0 ? r : write_file_atomic(path, sb.buf, sb.len, 0644);
}

/*
 * The profile of a Debian kernel: kbuild's dry run over the linux-source
 * package of the same version with the image's config (about 3 minutes), kept
 * in the cache so registering the same kernel again is instant.
 */
static int debian_profile(struct cli_ctx *ctx, const struct add_opts *o,
			  const struct debian_kernel *deb, const char *cache,
			  struct kernel_profile **ret)
{
	_cleanup_(kernel_profile_freep) struct kernel_profile *p = NULL;
	_cleanup_free_ char *tree = NULL, *saved = NULL, *dir = NULL;
	char err[512] = "";
	int r;

	*ret = NULL;
	if (asprintf(&saved, "%s/profiles/%s_%s.profile", cache, deb->release,
		     deb->package_version) < 0)
		return -ENOMEM;
	p = kernel_profile_new(PROFILE_SOURCE_DRY_RUN, false);
	if (!p)
		return -ENOMEM;
	if (access(saved, R_OK) == 0) {
		r = kernel_profile_read_list(p, saved, err, sizeof(err));
		if (r >= 0 && kernel_profile_count(p) > 0) {
			log_info("using the cached profile '%s'", saved);
			*ret = TAKE_PTR(p);
			return 0;
		}
		log_warning("ignoring the unreadable cached profile '%s': %s", saved, err);
		kernel_profile_free(p);
		p = kernel_profile_new(PROFILE_SOURCE_DRY_RUN, false);
		if (!p)
			return -ENOMEM;
	}
	if (!deb->source_exact) {
		log_warning("the archive has no linux-source at %s (nearest: %s); registering "
			    "without a build profile",
			    deb->package_version, deb->source_version ? deb->source_version : "none");
		return 0;
	}
	r = debian_source_tree(deb, cache, o->offline ? DEBIAN_FETCH_OFFLINE : 0, &tree, err,
			       sizeof(err));
	if (r < 0)
		return log_error_errno(r, "cannot unpack the kernel source%s%s", err[0] ? ": " : "",
				       err);
	log_notice("running kbuild's dry run over '%s' (a few minutes, once per kernel)", tree);
	r = kernel_profile_run_dry_run(p, tree, deb->config_path, 1800, err, sizeof(err));
	if (r < 0)
		return log_error_errno(r, "kbuild dry run in '%s' failed%s%s", tree,
				       err[0] ? ": " : "", err);
	if (asprintf(&dir, "%s/profiles", cache) < 0)
		return -ENOMEM;
	if ((r = mkdir_p(dir, 0755)) < 0 || (r = save_profile(p, saved)) < 0)
		log_warning_errno(r, "cannot cache the profile at '%s', ignoring", saved);
	*ret = TAKE_PTR(p);
	return 0;
}

static int build_profile(struct cli_ctx *ctx, const struct add_opts *o, const char *config_path,
			 struct kernel_profile **ret)
{
	_cleanup_(kernel_profile_freep) struct kernel_profile *p = NULL;
	char err[512] = "";
	int r = 0, kinds = !!o->build_dir + !!o->source_dir + !!o->profile + !!o->debuginfo;

	*ret = NULL;
	if (kinds == 0)
		return 0;
	if (kinds > 1)
		return cli_usage_error("kernel", "add",
				       "give one of --build-dir, --source-dir, --debuginfo, --profile");
	if (o->build_dir) {
		p = kernel_profile_new(PROFILE_SOURCE_BUILD_DIR, true);
		if (!p)
			return -ENOMEM;
		r = kernel_profile_read_build_dir(p, o->build_dir, err, sizeof(err), NULL);
		if (r < 0)
			return log_error_errno(r, "cannot read the build profile of '%s'%s%s",
					       o->build_dir, err[0] ? ": " : "", err);
	} else if (o->source_dir) {
		if (!config_path)
			return cli_usage_error("kernel", "add", "--source-dir needs --config");
		p = kernel_profile_new(PROFILE_SOURCE_DRY_RUN, false);
		if (!p)
			return -ENOMEM;
		log_notice("running kbuild's dry run in '%s' (about a minute)", o->source_dir);
		r = kernel_profile_run_dry_run(p, o->source_dir, config_path, 900, err, sizeof(err));
		if (r < 0)
			return log_error_errno(r, "kbuild dry run in '%s' failed%s%s", o->source_dir,
					       err[0] ? ": " : "", err);
	} else if (o->debuginfo) {
		p = kernel_profile_new(PROFILE_SOURCE_DEBUGINFO, true);
		if (!p)
			return -ENOMEM;
		for (char **f = o->debuginfo; *f; f++) {
			r = kernel_profile_read_debuginfo(p, *f, err, sizeof(err));
			if (r < 0)
				return log_error_errno(r, "cannot read debug info of '%s'%s%s", *f,
						       err[0] ? ": " : "", err);
		}
	} else {
		p = kernel_profile_new(PROFILE_SOURCE_LIST, false);
		if (!p)
			return -ENOMEM;
		r = kernel_profile_read_list(p, o->profile, err, sizeof(err));
		if (r < 0)
			return log_error_errno(r, "cannot read the profile '%s'%s%s", o->profile,
					       err[0] ? ": " : "", err);
	}
	if (kernel_profile_count(p) == 0)
		return log_error_errno(-ENODATA, "the build profile is empty");
	*ret = TAKE_PTR(p);
	return 0;
}

/* .ko paths, one per line, made relative to the tree ("/lib/modules/R/kernel/" cut off). */
static int read_ko_list(const char *path, char ***ret, char *reterr, size_t errsize)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_strv_free_ char **v = NULL;
	unsigned lineno = 0;
	size_t len;
	int r;

	r = read_file_bounded(path, 16u * 1024 * 1024, &buf, &len);
	if (r < 0)
		return r;
	for (char *line = buf, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		char *k, *e;

		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		line += strspn(line, " \t");
		e = line + strlen(line);
		while (e > line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			*--e = '\0';
		if (!*line || *line == '#')
			continue;
		if (!strstr(line, ".ko"))
			return parse_error(reterr, errsize, "line %u: '%.80s' is not a .ko path",
					   lineno, line);
		k = strstr(line, "/kernel/");
		if (k)
			line = k + strlen("/kernel/");
		if (strv_push(&v, line) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(v);
	return 0;
}

static json_t *kernel_json(const struct kernel_entry *k, bool with_config)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?, s:b, s:I, s:s?}", "name", k->name,
			      "release", k->release, "version", k->version, "arch", k->arch,
			      "origin", k->origin, "profile_source", k->profile_source,
			      "profile_knows_headers", k->knows_headers, "profile_files",
			      (json_int_t)k->profile_files, "system_map", k->system_map);

	if (o && with_config)
		json_object_set_new(o, "config", k->config ? json_string(k->config) : json_null());
	return o;
}

static int verb_add(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_VERSION = 256,
		OPT_RELEASE,
		OPT_ARCH,
		OPT_CONFIG,
		OPT_BUILD_DIR,
		OPT_SOURCE_DIR,
		OPT_DEBUGINFO,
		OPT_PROFILE,
		OPT_DEBIAN,
		OPT_OFFLINE,
		OPT_NO_SOURCE,
		OPT_MODULES,
		OPT_JSON,
	};
	static const struct option options[] = {
		{ "version", required_argument, NULL, OPT_VERSION },
		{ "release", required_argument, NULL, OPT_RELEASE },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "build-dir", required_argument, NULL, OPT_BUILD_DIR },
		{ "source-dir", required_argument, NULL, OPT_SOURCE_DIR },
		{ "debuginfo", required_argument, NULL, OPT_DEBUGINFO },
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "debian", required_argument, NULL, OPT_DEBIAN },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "no-source", no_argument, NULL, OPT_NO_SOURCE },
		{ "modules", required_argument, NULL, OPT_MODULES },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_(kernel_profile_freep) struct kernel_profile *profile = NULL;
	_cleanup_(kconfig_freep) struct kconfig *kc = NULL;
	_cleanup_(debian_kernel_freep) struct debian_kernel *deb = NULL;
	_cleanup_free_ char *config_text = NULL, *tree_ver = NULL, *tree_rel = NULL, *origin = NULL;
	_cleanup_strv_free_ char **debuginfo = NULL, **modules = NULL;
	const char *modules_file = NULL;
	struct add_opts o = { 0 };
	struct kernel_entry k = { 0 };
	struct kernel_version kv;
	const char *config_path;
	bool replaced = false;
	char err[512] = "";
	size_t len = 0;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_VERSION:
			o.version = optarg;
			break;
		case OPT_RELEASE:
			o.release = optarg;
			break;
		case OPT_ARCH:
			o.arch = optarg;
			break;
		case OPT_CONFIG:
			o.config = optarg;
			break;
		case OPT_BUILD_DIR:
			o.build_dir = optarg;
			break;
		case OPT_SOURCE_DIR:
			o.source_dir = optarg;
			break;
		case OPT_DEBUGINFO:
			if (strv_push(&debuginfo, optarg) < 0)
				return -ENOMEM;
			break;
		case OPT_PROFILE:
			o.profile = optarg;
			break;
		case OPT_DEBIAN:
			o.debian = optarg;
			break;
		case OPT_OFFLINE:
			o.offline = true;
			break;
		case OPT_NO_SOURCE:
			o.no_source = true;
			break;
		case OPT_MODULES:
			modules_file = optarg;
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case 'h':
			add_help();
			return 0;
		default:
			return cli_usage_error("kernel", "add", "invalid option");
		}
	}
	o.debuginfo = debuginfo;
	if (argc - optind != 1)
		return cli_usage_error("kernel", "add", "expected one kernel NAME");
	k.name = argv[optind];
	if (!*k.name || strlen(k.name) > 128 || strpbrk(k.name, "/ \t\n"))
		return cli_usage_error("kernel", "add", "invalid kernel name '%s'", k.name);

	if (o.debian) {
		_cleanup_free_ char *cache = path_join(ctx->data_dir, "cache/debian");
		bool own_profile = !o.build_dir && !o.source_dir && !o.profile && !o.debuginfo;

		if (!cache)
			return -ENOMEM;
		r = debian_kernel_fetch(o.debian, cache,
					(o.offline ? DEBIAN_FETCH_OFFLINE : 0) |
						(o.no_source || !own_profile ? DEBIAN_FETCH_NO_SOURCE : 0),
					&deb, err, sizeof(err));
		if (r < 0)
			return log_error_errno(r, "cannot fetch Debian kernel '%s'%s%s", o.debian,
					       err[0] ? ": " : "", err);
		if (!o.version)
			o.version = deb->upstream_version;
		if (!o.release)
			o.release = deb->release;
		if (!o.config)
			o.config = deb->config_path;
		origin = kernel_origin_debian(deb->release, deb->package_version);
		if (!origin)
			return -ENOMEM;
		for (char **w = deb->warnings; w && *w; w++)
			log_warning("%s", *w);
		if (own_profile && !o.no_source) {
			r = debian_profile(ctx, &o, deb, cache, &profile);
			if (r < 0)
				return r;
		}
	}
	config_path = o.config;
	if (config_path) {
		r = read_file_bounded(config_path, CONFIG_FILE_MAX, &config_text, &len);
		if (r < 0)
			return log_error_errno(r, "cannot read the config '%s'", config_path);
		r = kconfig_parse(config_text, len, &kc, err, sizeof(err));
		if (r < 0)
			return log_error_errno(r, "'%s' is not a kernel config: %s", config_path, err);
		if (!o.arch)
			o.arch = kconfig_arch(kc);
	}
	if ((o.build_dir || o.source_dir) && !o.version) {
		r = tree_version(o.build_dir ? o.build_dir : o.source_dir, &tree_ver, &tree_rel);
		if (r < 0)
			return log_error_errno(r, "cannot tell the kernel version of '%s' (give --version)",
					       o.build_dir ? o.build_dir : o.source_dir);
		o.version = tree_ver;
		if (!o.release && tree_rel)
			o.release = tree_rel;
	}
	if (!o.version)
		return cli_usage_error("kernel", "add",
				       "give --version (e.g. 6.1.190), --debian, or a tree to read it from");
	if (kernel_version_parse(o.version, &kv) < 0)
		return log_error_errno(-EINVAL,
				       "version '%s' does not parse (expected e.g. 6.1.190, 6.8-rc3)",
				       o.version);

	if (!profile) {
		r = build_profile(ctx, &o, config_path, &profile);
		if (r < 0 || r == CLI_RESULT_USAGE)
			return r;
	}

	k.version = (char *)o.version;
	k.release = (char *)(o.release ? o.release : o.version);
	k.arch = (char *)o.arch;
	k.config = config_text;
	k.origin = origin;
	/* Debian ships a one-line stand-in; the real map is in the -dbg package. */
	k.system_map = deb && !deb->system_map_placeholder ? deb->system_map_path : NULL;
	if (modules_file) {
		r = read_ko_list(modules_file, &modules, err, sizeof(err));
		if (r < 0)
			return log_error_errno(r, "cannot read the module list '%s'%s%s", modules_file,
					       err[0] ? ": " : "", err);
	}
	k.modules = modules ? modules : deb ? deb->modules : NULL;
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = registry_put(db, &k, profile, (int64_t)time(NULL), &replaced);
	if (r < 0)
		return log_error_errno(r, "cannot register kernel '%s': %s", k.name, db_errmsg(db));

	if (ctx->json) {
		_cleanup_(kernel_entry_freep) struct kernel_entry *stored = NULL;

		r = registry_get(db, k.name, &stored);
		if (r < 0)
			return log_error_errno(r, "cannot read back kernel '%s'", k.name);
		return cli_print_json(json_pack("{s:b, s:o}", "replaced", replaced, "kernel",
						kernel_json(stored, false)));
	}
	if (ctx->verbosity >= 0)
		printf("%s kernel '%s': %s (%s), %s, %zu profile files%s\n",
		       replaced ? "updated" : "registered", k.name, k.version, k.release,
		       config_path ? "with config" : "no config",
		       profile ? kernel_profile_count(profile) : 0,
		       profile ? "" : " (no build profile: compiled-file checks are skipped)");
	return 0;
}

/* ---- kernel list / show / remove ---- */

struct list_ctx {
	json_t *array;
};

static int list_one(const struct kernel_entry *k, void *userdata)
{
	struct list_ctx *c = userdata;

	if (c->array)
		return json_array_append_new(c->array, kernel_json(k, false));
	printf("%-20s %-10s %-22s %-10s %7lld files  %s\n", k->name, k->version, k->release,
	       k->profile_source ? k->profile_source : "-", (long long)k->profile_files,
	       k->origin ? k->origin : "");
	return 0;
}

static int verb_list(struct cli_ctx *ctx, int argc, char **argv)
{
	_cleanup_(db_closep) struct db *db = NULL;
	struct list_ctx c = { 0 };
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--json")) {
			ctx->json = true;
		} else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			fputs("usage: tuxtape kernel list [--json]\n\nList registered kernels.\n", stdout);
			return 0;
		} else {
			return cli_usage_error("kernel", "list", "unexpected argument '%s'", argv[i]);
		}
	}
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	if (ctx->json && !(c.array = json_array()))
		return -ENOMEM;
	r = registry_list(db, list_one, &c);
	if (r < 0) {
		json_decref(c.array);
		return log_error_errno(r, "cannot list kernels: %s", db_errmsg(db));
	}
	return c.array ? cli_print_json(c.array) : 0;
}

/* Parses "[--json] NAME" for show, remove and cves-like verbs without other options. */
static int name_and_json(struct cli_ctx *ctx, const char *verb, const char *help, int argc,
			 char **argv, const char **ret_name)
{
	*ret_name = NULL;
	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--json")) {
			ctx->json = true;
		} else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			fputs(help, stdout);
			return 1;
		} else if (argv[i][0] == '-' || *ret_name) {
			return cli_usage_error("kernel", verb, "unexpected argument '%s'", argv[i]);
		} else {
			*ret_name = argv[i];
		}
	}
	if (!*ret_name)
		return cli_usage_error("kernel", verb, "expected a kernel NAME");
	return 0;
}

static int verb_show(struct cli_ctx *ctx, int argc, char **argv)
{
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_(kernel_entry_freep) struct kernel_entry *k = NULL;
	const char *name;
	int r;

	r = name_and_json(ctx, "show",
			  "usage: tuxtape kernel show NAME [--json]\n\nShow a registered kernel.\n"
			  "Exit codes: 0 ok, 5 not registered.\n",
			  argc, argv, &name);
	if (r != 0)
		return r > 0 ? 0 : r;
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = registry_get(db, name, &k);
	if (r == -ENOENT)
		return cli_kernel_not_registered(name);
	if (r < 0)
		return log_error_errno(r, "cannot read kernel '%s': %s", name, db_errmsg(db));
	if (ctx->json)
		return cli_print_json(kernel_json(k, true));
	printf("Kernel:   %s\nVersion:  %s\nRelease:  %s\nArch:     %s\nOrigin:   %s\n"
	       "Config:   %s\nProfile:  %s, %lld files%s\n",
	       k->name, k->version, k->release, k->arch ? k->arch : "-",
	       k->origin ? k->origin : "-", k->config ? "yes" : "none",
	       k->profile_source ? k->profile_source : "none", (long long)k->profile_files,
	       k->knows_headers ? " (headers included)" : "");
	return 0;
}

static int verb_remove(struct cli_ctx *ctx, int argc, char **argv)
{
	_cleanup_(db_closep) struct db *db = NULL;
	const char *name;
	int r;

	r = name_and_json(ctx, "remove",
			  "usage: tuxtape kernel remove NAME\n\nForget a registered kernel.\n"
			  "Exit codes: 0 ok, 5 not registered.\n",
			  argc, argv, &name);
	if (r != 0)
		return r > 0 ? 0 : r;
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = registry_remove(db, name);
	if (r == -ENOENT)
		return cli_kernel_not_registered(name);
	if (r < 0)
		return log_error_errno(r, "cannot remove kernel '%s': %s", name, db_errmsg(db));
	if (ctx->json)
		return cli_print_json(json_pack("{s:s}", "removed", name));
	if (ctx->verbosity >= 0)
		printf("removed kernel '%s'\n", name);
	return 0;
}

/* ---- kernel cves ---- */

struct cves_ctx {
	json_t *array;
	int want; /* a gauge_state or -1 */
	unsigned counts[_GAUGE_STATE_MAX];
	unsigned unknown_header;
};

static int cves_one(const struct cve_record *rec, const struct gauge_verdict *v, void *userdata)
{
	struct cves_ctx *c = userdata;

	c->counts[v->state]++;
	c->unknown_header += v->unknown_header;
	if (c->want >= 0 && (int)v->state != c->want)
		return 0;
	if (c->array)
		return json_array_append_new(
			c->array,
			json_pack("{s:s, s:s, s:b, s:s?, s:s}", "id", rec->id, "state",
				  gauge_state_to_string(v->state), "unknown_header", v->unknown_header,
				  "built", v->compiled_flags & PROFILE_BUILTIN ? "builtin"
					   : v->compiled_flags & PROFILE_MODULE ? "module"
										: NULL,
				  "reason", v->reason));
	printf("%-16s %-13s %s\n", rec->id,
	       v->unknown_header ? "unknown-header" : gauge_state_to_string(v->state), v->reason);
	return 0;
}

int cmd_kernel_cves(struct cli_ctx *ctx, int argc, char **argv)
{
	enum { OPT_STATE = 256, OPT_JSON, OPT_SUMMARY };
	static const struct option options[] = {
		{ "state", required_argument, NULL, OPT_STATE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "summary", no_argument, NULL, OPT_SUMMARY },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(db_closep) struct db *db = NULL;
	struct kernel_view kv;
	struct cves_ctx cc = { .want = -1 };
	bool summary = false;
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_STATE:
			cc.want = gauge_state_from_string(optarg);
			if (cc.want < 0)
				return cli_usage_error("kernel", "cves",
						       "unknown state '%s' (not-affected, fixed, "
						       "not-compiled, affected, unknown)",
						       optarg);
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case OPT_SUMMARY:
			summary = true;
			break;
		case 'h':
			fputs("usage: tuxtape kernel cves NAME [--state STATE] [--summary] [--json]\n"
			      "\n"
			      "Every CVE's state for this kernel, with the reason in words:\n"
			      "not-affected, fixed, not-compiled, affected or unknown (unknown-header:\n"
			      "only headers of the fix could matter and the profile does not list them).\n"
			      "Exit codes: 0 ok, 5 kernel not registered.\n",
			      stdout);
			return 0;
		default:
			return cli_usage_error("kernel", "cves", "invalid option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("kernel", "cves", "expected a kernel NAME");
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = kernel_view_open(db, argv[optind], &kv);
	if (r == -ENOENT)
		return cli_kernel_not_registered(argv[optind]);
	if (r < 0)
		return log_error_errno(r, "cannot load kernel '%s': %s", argv[optind], db_errmsg(db));
	if (ctx->json && !summary && !(cc.array = json_array())) {
		kernel_view_release(&kv);
		return -ENOMEM;
	}
	if (summary)
		cc.want = _GAUGE_STATE_MAX; /* count only */
	r = applicability_sweep(db, &kv, cves_one, &cc);
	if (r < 0) {
		json_decref(cc.array);
		kernel_view_release(&kv);
		return log_error_errno(r, "cannot judge CVEs for '%s': %s", argv[optind],
				       db_errmsg(db));
	}
	if (ctx->json) {
		json_t *counts = json_object();

		for (int i = 0; i < _GAUGE_STATE_MAX; i++)
			json_object_set_new(counts, gauge_state_to_string(i), json_integer(cc.counts[i]));
		json_object_set_new(counts, "unknown-header", json_integer(cc.unknown_header));
		r = cli_print_json(json_pack("{s:s, s:s, s:o, s:o}", "kernel", kv.kernel->name,
					     "version", kv.kernel->version, "counts", counts,
					     "cves", cc.array ? cc.array : json_array()));
	} else if (summary || ctx->verbosity >= 0) {
		FILE *f = summary ? stdout : stderr;

		fprintf(f, "%s (%s):", kv.kernel->name, kv.kernel->version);
		for (int i = 0; i < _GAUGE_STATE_MAX; i++)
			fprintf(f, " %s %u%s", gauge_state_to_string(i), cc.counts[i],
				i + 1 < _GAUGE_STATE_MAX ? "," : "");
		fprintf(f, " (unknown-header %u)\n", cc.unknown_header);
	}
	kernel_view_release(&kv);
	return r;
}

/* ---- kernel modules ---- */

/*
 * Module names from /proc/modules or lsmod output: the first word of each
 * line, skipping lsmod's "Module Size Used by" header.
 */
static int parse_module_list(const char *buf, char ***ret, char *reterr, size_t errsize)
{
	_cleanup_strv_free_ char **mods = NULL;
	unsigned lineno = 0;

	for (const char *line = buf; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = strcspn(line, " \t\n");
		char name[64];

		lineno++;
		if (n > 0 && !(lineno == 1 && strncmp(line, "Module", n) == 0)) {
			if (n >= sizeof(name))
				return parse_error(reterr, errsize, "line %u: module name too long",
						   lineno);
			memcpy(name, line, n);
			name[n] = '\0';
			for (char *p = name; *p; p++)
				if (!(*p == '_' || *p == '-' || (*p >= '0' && *p <= '9') ||
				      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
					return parse_error(reterr, errsize,
							   "line %u: '%s' is not a module name",
							   lineno, name);
			{
				/* Both formats give the module's size in bytes next. */
				const char *size = line + n + strspn(line + n, " \t");
				size_t digits = strspn(size, "0123456789");

				if (digits == 0 || (size[digits] != ' ' && size[digits] != '\t' &&
						    size[digits] != '\n' && size[digits] != '\0'))
					return parse_error(reterr, errsize,
							   "line %u: no module size after '%s'",
							   lineno, name);
			}
			for (char *p = name; *p; p++)
				if (*p == '-')
					*p = '_';
			if (!strv_contains(mods, name) && strv_push(&mods, name) < 0)
				return -ENOMEM;
		}
		line = nl ? nl + 1 : NULL;
	}
	*ret = TAKE_PTR(mods);
	return 0;
}

static int verb_modules(struct cli_ctx *ctx, int argc, char **argv)
{
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_strv_free_ char **mods = NULL;
	_cleanup_free_ char *buf = NULL;
	const char *name = NULL, *file = NULL;
	char err[256] = "";
	size_t len;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--json")) {
			ctx->json = true;
		} else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			fputs("usage: tuxtape kernel modules NAME FILE|-\n"
			      "\n"
			      "Record which modules are loaded on nodes running kernel NAME, from a\n"
			      "copy of /proc/modules or the output of lsmod ('-' reads standard\n"
			      "input).  The prioritizer lowers CVEs in modules nobody loads.\n"
			      "Exit codes: 0 ok, 1 failure, 2 usage, 5 kernel not registered.\n",
			      stdout);
			return 0;
		} else if (!name) {
			name = argv[i];
		} else if (!file) {
			file = argv[i];
		} else {
			return cli_usage_error("kernel", "modules", "unexpected argument '%s'", argv[i]);
		}
	}
	if (!name || !file)
		return cli_usage_error("kernel", "modules", "expected a kernel NAME and a FILE");
	r = read_file_bounded(streq(file, "-") ? "/dev/stdin" : file, 4u * 1024 * 1024, &buf, &len);
	if (r < 0)
		return log_error_errno(r, "cannot read the module list '%s'", file);
	r = parse_module_list(buf, &mods, err, sizeof(err));
	if (r < 0)
		return log_error_errno(r, "'%s' is not a module list: %s", file, err);
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = registry_set_loaded_modules(db, name, mods, (int64_t)time(NULL));
	if (r == -ENOENT)
		return cli_kernel_not_registered(name);
	if (r < 0)
		return log_error_errno(r, "cannot record modules of '%s': %s", name, db_errmsg(db));
	if (ctx->json)
		return cli_print_json(json_pack("{s:s, s:I}", "kernel", name, "modules",
						(json_int_t)strv_length(mods)));
	if (ctx->verbosity >= 0)
		printf("kernel '%s': %zu loaded modules recorded\n", name, strv_length(mods));
	return 0;
}

/* ---- kernel prepare ---- */

/* Bound on booting a kernel to read its kallsyms (TCG on a busy machine: ~20-40 s). */
#define KALLSYMS_CAPTURE_TIMEOUT_S 300

static void prepare_help(void)
{
	fputs("usage: tuxtape kernel prepare NAME [OPTIONS]\n"
	      "\n"
	      "Create the build environment that reproduces the kernel's objects for the\n"
	      "livepatch generator: its exact source (Debian kernels: linux-source at the\n"
	      "package's version), its config, 'make olddefconfig modules_prepare' in an\n"
	      "O= tree, the same compiler (CONFIG_CC_VERSION_TEXT is compared), the symbol\n"
	      "table and Module.symvers.  Prepared once and cached under DATA/build/NAME.\n"
	      "A kernel without a real System.map (Debian ships a placeholder) gets its\n"
	      "/proc/kallsyms read by booting its image under qemu (once per image).\n"
	      "\n"
	      "Options:\n"
	      "      --source-dir DIR   the kernel's source tree (not for --debian kernels)\n"
	      "      --symvers FILE     the target's Module.symvers (Debian: from linux-headers)\n"
	      "      --kallsyms FILE    a saved /proc/kallsyms of the target (no VM boot)\n"
	      "      --no-vm            do not boot the kernel to read its kallsyms\n"
	      "      --vmlinuz FILE     the image to boot for that (Debian kernels: their own)\n"
	      "      --force            accept a compiler or config mismatch (recorded)\n"
	      "      --offline          do not download packages\n"
	      "      --json             machine-readable output\n"
	      "\n"
	      "Exit codes: 0 ok, 1 failure (nothing marked prepared), 2 usage, 5 not registered.\n",
	      stdout);
}

int cli_kernel_image(struct cli_ctx *ctx, const struct kernel_entry *k, bool offline, char **ret)
{
	_cleanup_(debian_kernel_freep) struct debian_kernel *deb = NULL;
	_cleanup_free_ char *cache = path_join(ctx->data_dir, "cache/debian");
	_cleanup_free_ char *path = NULL, *member = NULL;
	char release[128], err[512] = "";
	int r;

	if (!cache)
		return -ENOMEM;
	if (kernel_entry_debian_release(k, release, sizeof(release)) < 0)
		return log_error_errno(-ENOENT, "kernel '%s' is not a Debian kernel: give --vmlinuz FILE",
				       k->name);
	if (asprintf(&path, "%s/boot/%s/boot/vmlinuz-%s", cache, release, release) < 0 ||
	    asprintf(&member, "boot/vmlinuz-%s", release) < 0)
		return -ENOMEM;
	if (access(path, R_OK) == 0) {
		*ret = TAKE_PTR(path);
		return 0;
	}
	r = debian_kernel_fetch(release, cache,
				DEBIAN_FETCH_NO_SOURCE | (offline ? DEBIAN_FETCH_OFFLINE : 0), &deb,
				err, sizeof(err));
	if (r < 0)
		return log_error_errno(r, "cannot fetch Debian kernel '%s'%s%s", release,
				       err[0] ? ": " : "", err);
	if (!deb->image_deb)
		return log_error_errno(-ENOENT, "the image package of '%s' is not cached", release);
	r = debian_deb_extract_member(deb->image_deb, member, path, err, sizeof(err));
	if (r < 0)
		return log_error_errno(r, "cannot extract the kernel image%s%s", err[0] ? ": " : "",
				       err);
	*ret = TAKE_PTR(path);
	return 0;
}

/*
 * DATA/cache/kallsyms/SHA256.kallsyms for the image, with SHA256.release
 * (what the guest's uname -r said) written first: reused when both are
 * there, otherwise captured by booting the image (under a lock, so
 * concurrent preparers boot once).  The release must be the kernel's.
 * Without qemu or busybox: a warning, 0 and no path.
 */
static int kallsyms_from_vm(struct cli_ctx *ctx, const struct kernel_entry *k, const char *image,
			    char **ret_path, struct cli_prepare_options *co)
{
	_cleanup_free_ char *dir = path_join(ctx->data_dir, "cache/kallsyms"), *path = NULL,
			    *lock = NULL, *work = NULL, *rel_path = NULL, *cached_rel = NULL;
	_cleanup_close_ int lock_fd = -1;
	struct verify_config cfg = { .kernel = image, .accel = QEMU_ACCEL_AUTO, .gzip = true,
				     .timeout_s = KALLSYMS_CAPTURE_TIMEOUT_S, .loglevel = -1 };
	struct verify_kallsyms ks = { 0 };
	char sha[65], err[512] = "";
	int r;

	if (!dir)
		return -ENOMEM;
	r = digest_file_sha256(image, sha);
	if (r < 0)
		return log_error_errno(r, "cannot read the kernel image '%s'", image);
	if (asprintf(&path, "%s/%s.kallsyms", dir, sha) < 0 ||
	    asprintf(&rel_path, "%s/%s.release", dir, sha) < 0 ||
	    asprintf(&lock, "%s/.%s.lock", dir, sha) < 0) {
		path = lock = rel_path = NULL;
		return -ENOMEM;
	}
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return log_error_errno(r, "cannot create '%s'", dir);
	lock_fd = lock_file_acquire(lock, 1);
	if (lock_fd < 0)
		return log_error_errno(lock_fd, "cannot lock '%s'", lock);
	if (access(path, R_OK) == 0 &&
	    read_file_bounded(rel_path, VERIFY_RELEASE_MAX + 1, &cached_rel, NULL) >= 0) {
		log_debug("kallsyms of '%s' (%s) cached in '%s'", image, cached_rel, path);
		if (!strempty(k->release) && !streq(cached_rel, k->release))
			return log_error_errno(-EPROTO, "the image '%s' boots as '%s', kernel '%s' is "
							"'%s'", image, cached_rel, k->name, k->release);
		*ret_path = TAKE_PTR(path);
		return 0;
	}
	if (asprintf(&work, "%s/.work-%ld-XXXXXX", dir, (long)getpid()) < 0) {
		work = NULL;
		return -ENOMEM;
	}
	if (!mkdtemp(work))
		return log_error_errno(-errno, "cannot create a work directory in '%s'", dir);
	cfg.work_dir = work;
	if (!ctx->json && ctx->verbosity >= 0)
		fprintf(stderr, "kernel '%s' has no symbol table: booting '%s' under qemu to read "
				"/proc/kallsyms...\n", k->name, image);
	r = verify_capture_kallsyms(&cfg, &ks, err, sizeof(err));
	(void)rm_rf(work);
	if (r == -ENOENT) {
		/* No qemu or busybox here: the tree is still useful without a table. */
		log_warning("cannot boot '%s' to read its kallsyms: %s; continuing without a "
			    "symbol table (install qemu-system-x86 and busybox-static, or give "
			    "--kallsyms FILE)", image, err);
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "cannot read the kallsyms of '%s' in a VM%s%s (--no-vm "
					  "skips it, --kallsyms FILE gives one)",
				       image, err[0] ? ": " : "", err);
	/* The release first: a table without one is captured again. */
	r = write_file_atomic(rel_path, ks.release, strlen(ks.release), 0644);
	if (r >= 0)
		r = write_file_atomic(path, ks.text, ks.len, 0644);
	if (r < 0) {
		verify_kallsyms_release(&ks);
		return log_error_errno(r, "cannot write '%s'", path);
	}
	if (!strempty(k->release) && !streq(ks.release, k->release)) {
		r = log_error_errno(-EPROTO, "the image '%s' boots as '%s', kernel '%s' is '%s'",
				    image, ks.release, k->name, k->release);
		verify_kallsyms_release(&ks);
		return r;
	}
	if (!ctx->json && ctx->verbosity >= 0)
		fprintf(stderr, "read %zu symbols of %s in %.1f s (%s, boot %.1f s)\n", ks.lines,
			ks.release, (double)ks.total_ms / 1000, qemu_accel_to_string(ks.accel),
			(double)ks.boot_ms / 1000);
	log_debug("kallsyms of '%s': %zu lines, %zu bytes, %" PRIu64 " ms", image, ks.lines, ks.len,
		  ks.total_ms);
	co->captured = true;
	co->capture_ms = ks.total_ms;
	verify_kallsyms_release(&ks);
	*ret_path = TAKE_PTR(path);
	return 0;
}

int cli_kernel_prepare_with(struct cli_ctx *ctx, struct db *db, const char *name,
			    struct prepare_options *po, struct cli_prepare_options *co,
			    struct kernel_entry **ret_k, char **ret_tree, struct prepare_result *pr)
{
	_cleanup_(kernel_entry_freep) struct kernel_entry *k = NULL;
	_cleanup_(debian_kernel_freep) struct debian_kernel *deb = NULL;
	_cleanup_free_ char *tree = NULL, *cache = NULL, *image = NULL, *kallsyms = NULL;
	char release[128], err[512] = "";
	bool debian;
	int r;

	co->captured = false;
	co->capture_ms = 0;
	r = registry_get(db, name, &k);
	if (r == -ENOENT)
		return cli_kernel_not_registered(name);
	if (r < 0)
		return log_error_errno(r, "cannot read kernel '%s'", name);
	if (!k->config)
		return log_error_errno(-ENOENT, "kernel '%s' has no config: register it with --config",
				       k->name);
	po->data_dir = ctx->data_dir;
	debian = kernel_entry_debian_release(k, release, sizeof(release)) >= 0;
	if (!po->source_dir) {
		if (!debian)
			return cli_usage_error("kernel", "prepare",
					       "kernel '%s' is not a Debian kernel: give --source-dir",
					       k->name);
		cache = path_join(ctx->data_dir, "cache/debian");
		if (!cache)
			return -ENOMEM;
		r = debian_kernel_fetch(release, cache, co->offline ? DEBIAN_FETCH_OFFLINE : 0, &deb,
					err, sizeof(err));
		if (r >= 0)
			r = debian_source_tree(deb, cache, co->offline ? DEBIAN_FETCH_OFFLINE : 0,
					       &tree, err, sizeof(err));
		if (r < 0)
			return log_error_errno(r, "cannot get the source of '%s'%s%s", release,
					       err[0] ? ": " : "", err);
		po->source_dir = tree;
		if (!po->symvers)
			po->symvers = deb->symvers_path;
	}
	if (!po->kallsyms && !co->no_vm && (debian || co->vmlinuz)) {
		int needs = prepare_needs_kallsyms(k);

		if (needs < 0)
			return log_error_errno(needs, "cannot read the System.map of kernel '%s' ('%s')",
					       k->name, k->system_map);
		if (needs && !co->vmlinuz) {
			r = cli_kernel_image(ctx, k, co->offline, &image);
			if (r < 0)
				return r;
		}
		if (needs) {
			r = kallsyms_from_vm(ctx, k, co->vmlinuz ? co->vmlinuz : image, &kallsyms, co);
			if (r < 0)
				return r;
			if (kallsyms) {
				po->kallsyms = kallsyms;
				po->kallsyms_source = "vm";
			}
		}
	}
	if (!ctx->json && ctx->verbosity >= 0)
		fprintf(stderr, "preparing '%s' in '%s/build/%s' (a few minutes the first time)...\n",
			k->name, ctx->data_dir, k->name);
	r = kernel_prepare(k, k->config, po, pr, err, sizeof(err));
	if (kallsyms) {
		/* They pointed into this call's memory. */
		po->kallsyms = NULL;
		po->kallsyms_source = NULL;
	}
	if (r < 0)
		return log_error_errno(r, "cannot prepare kernel '%s'%s%s", k->name,
				       err[0] ? ": " : "", err);
	if (!tree) {
		tree = strdup(po->source_dir);
		if (!tree) {
			prepare_result_release(pr);
			return -ENOMEM;
		}
	}
	po->source_dir = NULL; /* it pointed into tree, now owned by the caller */
	*ret_k = TAKE_PTR(k);
	*ret_tree = TAKE_PTR(tree);
	return 0;
}

int cli_kernel_prepare(struct cli_ctx *ctx, struct db *db, const char *name,
		       struct prepare_options *po, bool offline, struct kernel_entry **ret_k,
		       char **ret_tree, struct prepare_result *pr)
{
	struct cli_prepare_options co = { .offline = offline };

	return cli_kernel_prepare_with(ctx, db, name, po, &co, ret_k, ret_tree, pr);
}

static int verb_prepare(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_SOURCE_DIR = 256,
		OPT_SYMVERS,
		OPT_KALLSYMS,
		OPT_NO_VM,
		OPT_VMLINUZ,
		OPT_FORCE,
		OPT_OFFLINE,
		OPT_JSON,
	};
	static const struct option options[] = {
		{ "source-dir", required_argument, NULL, OPT_SOURCE_DIR },
		{ "symvers", required_argument, NULL, OPT_SYMVERS },
		{ "kallsyms", required_argument, NULL, OPT_KALLSYMS },
		{ "no-vm", no_argument, NULL, OPT_NO_VM },
		{ "vmlinuz", required_argument, NULL, OPT_VMLINUZ },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "offline", no_argument, NULL, OPT_OFFLINE },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_(kernel_entry_freep) struct kernel_entry *k = NULL;
	_cleanup_free_ char *tree = NULL;
	struct prepare_options po = { .data_dir = ctx->data_dir, .timeout_s = 3600 };
	struct cli_prepare_options co = { 0 };
	struct prepare_result pr = { 0 };
	int c, r;

	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_SOURCE_DIR:
			po.source_dir = optarg;
			break;
		case OPT_SYMVERS:
			po.symvers = optarg;
			break;
		case OPT_KALLSYMS:
			po.kallsyms = optarg;
			break;
		case OPT_NO_VM:
			co.no_vm = true;
			break;
		case OPT_VMLINUZ:
			co.vmlinuz = optarg;
			break;
		case OPT_FORCE:
			po.force = true;
			break;
		case OPT_OFFLINE:
			co.offline = true;
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case 'h':
			prepare_help();
			return 0;
		default:
			return cli_usage_error("kernel", "prepare", "invalid option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("kernel", "prepare", "expected a kernel NAME");
	if (co.no_vm && co.vmlinuz)
		return cli_usage_error("kernel", "prepare", "--no-vm and --vmlinuz contradict");
	if (co.vmlinuz && access(co.vmlinuz, R_OK) < 0)
		return log_error_errno(-errno, "cannot read the kernel image '%s'", co.vmlinuz);
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = cli_kernel_prepare_with(ctx, db, argv[optind], &po, &co, &k, &tree, &pr);
	if (r < 0 || r == CLI_RESULT_USAGE || r == CLI_RESULT_NOT_FOUND)
		return r;
	for (char **w = pr.warnings; w && *w; w++)
		log_warning("%s", *w);
	if (ctx->json) {
		json_t *changes = json_array(), *o;

		for (char **ch = pr.config_changes; ch && *ch; ch++)
			json_array_append_new(changes, json_string(*ch));
		o = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:b, s:b, s:s?, s:s?, s:s?, s:s?, s:s?, "
			      "s:b, s:I, s:o}",
			      "kernel", k->name, "build_dir", pr.build_dir, "log", pr.log_path, "cc",
			      pr.cc, "cc_version", pr.cc_version, "cached", pr.cached, "cc_mismatch",
			      pr.cc_mismatch, "symvers", pr.symvers_path, "symbol_table",
			      pr.symbol_table, "symbol_table_kind", pr.symbol_table_kind,
			      "symbol_table_source", pr.symbol_table_source, "symbol_table_note",
			      pr.symbol_table_note, "symbol_table_captured", co.captured,
			      "symbol_table_capture_ms", (json_int_t)co.capture_ms, "config_changes",
			      changes);
		r = cli_print_json(o);
	} else if (ctx->verbosity >= 0) {
		printf("kernel '%s' %s: %s\n  compiler %s (%s)\n  Module.symvers %s\n"
		       "  symbol table %s%s%s%s\n",
		       k->name, pr.cached ? "already prepared" : "prepared", pr.build_dir,
		       pr.cc ? pr.cc : "-", pr.cc_version ? pr.cc_version : "-",
		       pr.symvers_path ? pr.symvers_path : "none",
		       pr.symbol_table ? pr.symbol_table
				       : pr.symbol_table_note ? pr.symbol_table_note : "none",
		       pr.symbol_table ? " (" : "",
		       pr.symbol_table ? (streq(pr.symbol_table_source, "vm")
						  ? "read from the kernel booted in a VM"
						  : pr.symbol_table_source)
				       : "",
		       pr.symbol_table ? ")" : "");
	}
	prepare_result_release(&pr);
	return r;
}

static const struct cli_verb kernel_verbs[] = {
	{ "add", verb_add, "register a kernel: version, config, build profile (--debian)" },
	{ "list", verb_list, "list registered kernels" },
	{ "show", verb_show, "show one kernel" },
	{ "remove", verb_remove, "forget a kernel" },
	{ "modules", verb_modules, "record the modules nodes have loaded (lsmod, /proc/modules)" },
	{ "prepare", verb_prepare, "build environment for the livepatch generator" },
	{ "cves", cmd_kernel_cves, "every CVE's applicability to a kernel, with the reason" },
	{},
};

int cmd_kernel(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "kernel", kernel_verbs, argc, argv);
}
