/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Test helper for t0320: records one patch build the way `patch build` does
 * (cli_patch_history_record(): store in one transaction, then announce it
 * through [notify]) without building anything, and prints its id.
 *
 * usage: history-add [--config FILE] --kernel NAME --status S [--name N]
 *                    [--cve ID]... [--patch FILE]... [--reason WHAT:REASON]...
 *                    [--report JSON] [--module FILE] [--time EPOCH]
 * The database and data directory come from TUXTAPE_CORE_DATABASE and
 * TUXTAPE_CORE_DATA_DIR, as for tuxtape.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cmd-patch-history.h"
#include "config.h"
#include "history.h"
#include "log.h"
#include "parse-util.h"

extern char **environ;

static int usage(const char *msg)
{
	fprintf(stderr, "history-add: %s\n", msg);
	return 2;
}

int main(int argc, char **argv)
{
	enum {
		OPT_CONFIG = 256,
		OPT_KERNEL,
		OPT_STATUS,
		OPT_NAME,
		OPT_CVE,
		OPT_PATCH,
		OPT_REASON,
		OPT_REPORT,
		OPT_MODULE,
		OPT_TIME
	};
	static const struct option options[] = {
		{ "config", required_argument, NULL, OPT_CONFIG },
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "cve", required_argument, NULL, OPT_CVE },
		{ "patch", required_argument, NULL, OPT_PATCH },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "report", required_argument, NULL, OPT_REPORT },
		{ "module", required_argument, NULL, OPT_MODULE },
		{ "time", required_argument, NULL, OPT_TIME },
		{},
	};
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };
	_cleanup_(config_freep) struct config *config = config_new();
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_free_ char *data_dir = NULL, *database = NULL;
	struct cli_ctx ctx = { .argv0 = argv[0] };
	const char *kernel = NULL, *name = NULL, *v;
	uint64_t t;
	int64_t id = 0;
	int c, r, line = 0;

	log_set_program("history-add");
	if (!config)
		return 1;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			if (config_load_file(config, optarg, false, &line) < 0)
				return usage("cannot read the config file");
			break;
		case OPT_KERNEL:
			kernel = optarg;
			break;
		case OPT_STATUS:
			rec.status = patch_history_status_from_string(optarg);
			if ((int)rec.status < 0)
				return usage("bad --status");
			break;
		case OPT_NAME:
			name = optarg;
			break;
		case OPT_CVE:
			if (patch_history_record_add_cve(&rec, optarg) < 0)
				return usage("bad --cve");
			break;
		case OPT_PATCH:
			if (patch_history_record_add_patch_file(&rec, optarg) < 0)
				return usage("bad --patch");
			break;
		case OPT_REASON: {
			_cleanup_free_ char *what = strdup(optarg);
			char *colon = what ? strchr(what, ':') : NULL;

			if (!colon)
				return usage("--reason needs WHAT:REASON");
			*colon = '\0';
			if (patch_history_record_add_reason(&rec, what, colon + 1) < 0)
				return usage("bad --reason");
			break;
		}
		case OPT_REPORT: {
			json_t *j = json_loads(optarg, JSON_DECODE_ANY, NULL);

			r = j ? patch_history_record_set_report(&rec, j) : -EINVAL;
			json_decref(j);
			if (r < 0)
				return usage("bad --report");
			break;
		}
		case OPT_MODULE:
			if (patch_history_record_set_module(&rec, optarg) < 0)
				return usage("bad --module");
			break;
		case OPT_TIME:
			if (safe_atou64(optarg, &t) < 0 || t > INT64_MAX)
				return usage("bad --time");
			rec.created_at = (int64_t)t;
			break;
		default:
			return usage("bad option");
		}
	}
	if (!kernel || patch_history_record_set_kernel(&rec, kernel, name) < 0)
		return usage("--kernel NAME is required");
	config_load_env(config, environ);
	v = config_get(config, "core.data_dir", NULL);
	if (!v)
		return usage("TUXTAPE_CORE_DATA_DIR is not set");
	data_dir = strdup(v);
	v = config_get(config, "core.database", NULL);
	if (v)
		database = strdup(v);
	else if (asprintf(&database, "sqlite:%s/tuxtape.db", data_dir) < 0)
		database = NULL;
	if (!data_dir || !database)
		return 1;
	ctx.config = config;
	ctx.data_dir = data_dir;
	ctx.database_url = database;
	if (cli_open_db(&ctx, &db) < 0)
		return 1;
	if (cli_patch_history_record(&ctx, db, &rec, &id) < 0)
		return 1;
	printf("%" PRId64 "\n", id);
	return 0;
}
