/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "cli.h"
#include "config.h"
#include "fileio.h"
#include "log.h"

#define SYSTEM_CONFIG "/etc/tuxtape/tuxtape.conf"
#define SYSTEM_DATA_DIR "/var/lib/tuxtape"

extern char **environ;

struct cli_noun {
	const char *name;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
};

static const struct cli_noun nouns[] = {
	{ "archive", cmd_archive, "publish livepatch modules in a signed TUF archive" },
	{ "cve", cmd_cve, "sync, list, show and rank kernel CVE records" },
	{ "kernel", cmd_kernel, "register kernels and judge which CVEs apply to them" },
	{ "klog", cmd_klog, "read a kernel log: did a livepatch misbehave?" },
	{ "patch", cmd_patch, "verify livepatch modules in a virtual machine" },
};

static void usage(FILE *f)
{
	fputs("usage: tuxtape [OPTIONS] COMMAND [ARGS...]\n"
	      "\n"
	      "TuxTape: a self-hosted Linux kernel livepatching toolchain.\n"
	      "\n"
	      "Commands:\n",
	      f);
	for (size_t i = 0; i < ARRAY_SIZE(nouns); i++)
		fprintf(f, "  %-10s %s\n", nouns[i].name, nouns[i].summary);
	fputs("\n"
	      "Options:\n"
	      "  -c, --config FILE   read FILE after " SYSTEM_CONFIG " and\n"
	      "                      $XDG_CONFIG_HOME/tuxtape/tuxtape.conf\n"
	      "      --system        use " SYSTEM_DATA_DIR " as the data directory\n"
	      "      --json          print machine-readable JSON\n"
	      "  -v, --verbose       more messages (repeat for debug output)\n"
	      "  -q, --quiet         only errors\n"
	      "  -h, --help          show this help\n"
	      "      --version       show the version\n"
	      "\n"
	      "Run 'tuxtape COMMAND --help' for the commands' verbs.\n"
	      "Exit codes: 0 ok, 1 failure, 2 usage error, 3 done with some errors,\n"
	      "4 another run holds the lock, 5 not found, 6 a verification failed\n"
	      "(docs/exit-codes.md).\n",
	      f);
}

static char *default_data_dir(bool system)
{
	const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
	char *p = NULL;

	if (system)
		return strdup(SYSTEM_DATA_DIR);
	if (xdg && *xdg == '/')
		return path_join(xdg, "tuxtape");
	if (home && *home == '/') {
		if (asprintf(&p, "%s/.local/share/tuxtape", home) < 0)
			return NULL;
		return p;
	}
	/* No home (a service account): the system location is the only sensible one. */
	return strdup(SYSTEM_DATA_DIR);
}

static int load_config(struct cli_ctx *ctx)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	_cleanup_free_ char *user = NULL;
	const char *v;
	int r, line = 0;

	ctx->config = config_new();
	if (!ctx->config)
		return log_error_errno(-ENOMEM, "cannot allocate configuration");
	r = config_load_file(ctx->config, SYSTEM_CONFIG, true, &line);
	if (r < 0)
		return log_error_errno(r, "cannot read '%s'%s", SYSTEM_CONFIG,
				       r == -EBADMSG ? " (syntax error)" : "");
	if (xdg && *xdg == '/')
		user = path_join(xdg, "tuxtape/tuxtape.conf");
	else if (home && *home == '/' && asprintf(&user, "%s/.config/tuxtape/tuxtape.conf", home) < 0)
		user = NULL;
	if (user) {
		r = config_load_file(ctx->config, user, true, &line);
		if (r == -EBADMSG)
			return log_error_errno(r, "cannot read '%s': syntax error at line %d", user,
					       line);
		if (r < 0)
			return log_error_errno(r, "cannot read '%s'", user);
	}
	if (ctx->config_path) {
		r = config_load_file(ctx->config, ctx->config_path, false, &line);
		if (r == -EBADMSG)
			return log_error_errno(r, "cannot read '%s': syntax error at line %d",
					       ctx->config_path, line);
		if (r < 0)
			return log_error_errno(r, "cannot read '%s'", ctx->config_path);
	}
	config_load_env(ctx->config, environ);

	v = config_get(ctx->config, "core.data_dir", NULL);
	ctx->data_dir = v ? strdup(v) : default_data_dir(ctx->system);
	if (!ctx->data_dir)
		return log_error_errno(-ENOMEM, "cannot allocate data directory name");
	v = config_get(ctx->config, "core.database", NULL);
	if (v)
		ctx->database_url = strdup(v);
	else if (asprintf(&ctx->database_url, "sqlite:%s/tuxtape.db", ctx->data_dir) < 0)
		ctx->database_url = NULL;
	if (!ctx->database_url)
		return log_error_errno(-ENOMEM, "cannot allocate database URL");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "system", no_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	struct cli_ctx ctx = { .argv0 = argv[0] };
	const struct cli_noun *noun = NULL;
	int c, r;

	/* Global options stop at the first non-option: the command's own options follow it. */
	while ((c = getopt_long(argc, argv, "+c:vqh", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctx.config_path = optarg;
			break;
		case 'S':
			ctx.system = true;
			break;
		case 'j':
			ctx.json = true;
			break;
		case 'v':
			ctx.verbosity++;
			break;
		case 'q':
			ctx.verbosity = -1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("tuxtape %s\n", TUXTAPE_VERSION);
			return EXIT_OK;
		default:
			fputs("Run 'tuxtape --help' for usage.\n", stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < ARRAY_SIZE(nouns); i++)
		if (streq(nouns[i].name, argv[optind]))
			noun = &nouns[i];
	if (!noun) {
		log_error("unknown command '%s' (see 'tuxtape --help')", argv[optind]);
		return EXIT_USAGE;
	}

	r = load_config(&ctx);
	if (r < 0) {
		/* Not the command's result: a broken configuration is a plain failure. */
		config_free(ctx.config);
		free(ctx.data_dir);
		free(ctx.database_url);
		return EXIT_FAILURE_;
	}
	{
		/* Per-command -v/-q/--json may change these again. */
		log_set_max_level(ctx.verbosity < 0	  ? LOG_LEVEL_WARNING
				  : ctx.verbosity == 0 ? LOG_LEVEL_NOTICE
				  : ctx.verbosity == 1 ? LOG_LEVEL_INFO
						       : LOG_LEVEL_DEBUG);
		r = noun->run(&ctx, argc - optind, argv + optind);
	}

	config_free(ctx.config);
	free(ctx.data_dir);
	free(ctx.database_url);
	fflush(stdout);
	if (r == CLI_RESULT_USAGE)
		return EXIT_USAGE;
	if (r == CLI_RESULT_PARTIAL)
		return EXIT_PARTIAL;
	if (r == -EWOULDBLOCK)
		return EXIT_LOCKED;
	if (r == CLI_RESULT_NOT_FOUND)
		return EXIT_NOT_FOUND;
	if (r == CLI_RESULT_CHECK_FAILED)
		return EXIT_CHECK_FAILED;
	return r < 0 ? EXIT_FAILURE_ : EXIT_OK;
}
