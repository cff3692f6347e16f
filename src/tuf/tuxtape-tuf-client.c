/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tuxtape-tuf-client: our TUF client behind the command-line protocol of
 * the TUF conformance suite (theupdateframework/tuf-conformance,
 * CLIENT-CLI.md):
 *
 *   tuxtape-tuf-client --metadata-dir DIR init TRUSTED_ROOT
 *   tuxtape-tuf-client --metadata-url URL --metadata-dir DIR refresh
 *   tuxtape-tuf-client --metadata-url URL --metadata-dir DIR --target-name P
 *           [--target-name P2 ...] --target-dir TDIR --target-base-url TURL download
 *
 * Exit 0 on success, 1 on any failure (errors on stderr), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "strbuf.h"

static void usage(FILE *f)
{
	fputs("usage: tuxtape-tuf-client [OPTIONS] init TRUSTED_ROOT\n"
	      "       tuxtape-tuf-client [OPTIONS] refresh\n"
	      "       tuxtape-tuf-client [OPTIONS] download\n"
	      "\n"
	      "A TUF 1.0 client (specification section 5) speaking the command-line\n"
	      "protocol of the TUF conformance suite.\n"
	      "\n"
	      "commands:\n"
	      "  init TRUSTED_ROOT       check TRUSTED_ROOT (self-signed root) and store it\n"
	      "                          as METADATA_DIR/root.json; no network\n"
	      "  refresh                 update root, timestamp, snapshot and targets\n"
	      "  download                refresh, then find and download each --target-name\n"
	      "\n"
	      "options:\n"
	      "  --metadata-dir DIR      trusted metadata (unversioned names)\n"
	      "  --metadata-url URL      base URL of the repository's metadata\n"
	      "  --target-name PATH      a target path to download (repeatable)\n"
	      "  --target-dir DIR        where downloaded targets are stored\n"
	      "  --target-base-url URL   base URL of the repository's targets\n"
	      "  -h, --help              this help\n",
	      f);
}

static int fail_usage(const char *msg)
{
	fprintf(stderr, "tuxtape-tuf-client: %s (see --help)\n", msg);
	return 2;
}

static int report(int r, const char *err)
{
	fprintf(stderr, "tuxtape-tuf-client: %s\n", *err ? err : strerror(-r));
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "metadata-dir", required_argument, NULL, 'd' },
		{ "metadata-url", required_argument, NULL, 'u' },
		{ "target-name", required_argument, NULL, 'n' },
		{ "target-dir", required_argument, NULL, 't' },
		{ "target-base-url", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	_cleanup_strv_free_ char **names = NULL;
	_cleanup_(tuf_client_freep) struct tuf_client *c = NULL;
	struct tuf_client_config cfg = { 0 };
	const char *cmd;
	char err[1024] = "";
	int opt, r;

	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case 'd':
			cfg.metadata_dir = optarg;
			break;
		case 'u':
			cfg.metadata_url = optarg;
			break;
		case 'n':
			if (strv_push(&names, optarg) < 0)
				return report(-ENOMEM, "");
			break;
		case 't':
			cfg.target_dir = optarg;
			break;
		case 'b':
			cfg.target_url = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (optind >= argc)
		return fail_usage("no command given");
	cmd = argv[optind++];
	if (!cfg.metadata_dir)
		return fail_usage("--metadata-dir is required");

	if (strcmp(cmd, "init") == 0) {
		if (argc - optind != 1)
			return fail_usage("init takes one argument, TRUSTED_ROOT");
		r = tuf_client_init_root(cfg.metadata_dir, argv[optind], err, sizeof(err));
		return r < 0 ? report(r, err) : 0;
	}
	if (strcmp(cmd, "refresh") != 0 && strcmp(cmd, "download") != 0)
		return fail_usage("unknown command");
	if (argc - optind != 0)
		return fail_usage("too many arguments");
	if (!cfg.metadata_url)
		return fail_usage("--metadata-url is required");
	if (strcmp(cmd, "download") == 0 && (!names || !cfg.target_dir || !cfg.target_url))
		return fail_usage("download needs --target-name, --target-dir and --target-base-url");

	r = tuf_client_new(&cfg, &c, err, sizeof(err));
	if (r < 0)
		return report(r, err);
	r = tuf_client_refresh(c, err, sizeof(err));
	if (r < 0)
		return report(r, err);
	if (strcmp(cmd, "refresh") == 0)
		return 0;

	for (char **n = names; *n; n++) {
		_cleanup_(tuf_target_freep) struct tuf_target *t = NULL;
		_cleanup_free_ char *path = NULL;

		r = tuf_client_find_target(c, *n, &t, err, sizeof(err));
		if (r >= 0)
			r = tuf_client_download_target(c, t, &path, err, sizeof(err));
		if (r < 0)
			return report(r, err);
	}
	return 0;
}
