/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd-patch-history.h"
#include "log.h"
#include "notify.h"
#include "parse-util.h"
#include "strbuf.h"

/*
 * Text from patches and compilers on a terminal: C0 and C1 control
 * characters (escape sequences) become '?'; the rest is valid UTF-8 already.
 */
static void put_text(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			fputc('?', f);
		} else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			fputc('?', f);
			p++;
		} else {
			fputc(*p, f);
		}
	}
}

/* Parses a build id: a positive decimal number. */
static int parse_id(const char *s, int64_t *ret)
{
	uint64_t v;

	if (safe_atou64(s, &v) < 0 || v == 0 || v > INT64_MAX)
		return -EINVAL;
	*ret = (int64_t)v;
	return 0;
}

/* ---- patch list ---- */

static void list_help(void)
{
	fputs("usage: tuxtape patch list [OPTIONS]\n"
	      "\n"
	      "List recorded patch builds, newest first: id, time (UTC), kernel, outcome\n"
	      "(built, refused, failed), the CVEs targeted and the number of patches.\n"
	      "\n"
	      "Options:\n"
	      "      --kernel NAME      only builds for this kernel\n"
	      "      --cve ID           only builds targeting this CVE\n"
	      "      --status S         only this outcome: built, refused or failed\n"
	      "      --since DATE       only builds on or after DATE (YYYY-MM-DD or RFC 3339)\n"
	      "      --limit N          at most N builds\n"
	      "      --json             a JSON array of records (without the reports)\n"
	      "  -h, --help             show this help\n",
	      stdout);
}

struct list_ctx {
	json_t *array;
	size_t n;
};

static int list_one(const struct patch_history_record *rec, void *userdata)
{
	struct list_ctx *c = userdata;
	char when[64];

	c->n++;
	if (c->array) {
		json_t *j = patch_history_to_json(rec);

		if (!j)
			return -ENOMEM;
		/* list does not load reports: leave the key out rather than claim null. */
		json_object_del(j, "report");
		return json_array_append_new(c->array, j) < 0 ? -ENOMEM : 0;
	}
	format_timestamp(rec->created_at, when, sizeof(when));
	printf("%6" PRId64 "  %s  ", rec->id, when);
	put_text(stdout, rec->kernel);
	printf("  %-7s  ", patch_history_status_to_string(rec->status));
	if (!rec->cves)
		fputs("-", stdout);
	for (char **cve = rec->cves; cve && *cve; cve++)
		printf("%s%s", cve == rec->cves ? "" : ",", *cve);
	printf("  %zu patch%s\n", rec->n_patches, rec->n_patches == 1 ? "" : "es");
	return 0;
}

int cmd_patch_list(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_KERNEL = 256,
		OPT_CVE,
		OPT_STATUS,
		OPT_SINCE,
		OPT_LIMIT,
		OPT_JSON
	};
	static const struct option options[] = {
		{ "kernel", required_argument, NULL, OPT_KERNEL },
		{ "cve", required_argument, NULL, OPT_CVE },
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(db_closep) struct db *db = NULL;
	struct patch_history_filter flt = PATCH_HISTORY_FILTER_INIT;
	struct list_ctx c = { 0 };
	int opt, r, limit;

	optind = 0;
	while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (opt) {
		case OPT_KERNEL:
			flt.kernel = optarg;
			break;
		case OPT_CVE:
			flt.cve = optarg;
			break;
		case OPT_STATUS:
			flt.status = patch_history_status_from_string(optarg);
			if (flt.status < 0)
				return cli_usage_error(
					"patch", "list",
					"unknown status '%s' (built, refused, failed)", optarg);
			break;
		case OPT_SINCE:
			if (parse_timestamp(optarg, &flt.since) < 0)
				return cli_usage_error("patch", "list",
						       "invalid date '%s' (YYYY-MM-DD or RFC 3339)",
						       optarg);
			break;
		case OPT_LIMIT:
			if (safe_atoi(optarg, &limit) < 0 || limit < 1)
				return cli_usage_error("patch", "list",
						       "invalid limit '%s' (a positive number)",
						       optarg);
			flt.limit = (size_t)limit;
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case 'h':
			list_help();
			return 0;
		default:
			return cli_usage_error("patch", "list", "invalid option");
		}
	}
	if (optind < argc)
		return cli_usage_error("patch", "list", "unexpected argument '%s'", argv[optind]);
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	if (ctx->json && !(c.array = json_array()))
		return -ENOMEM;
	r = patch_history_list(db, &flt, list_one, &c);
	if (r < 0) {
		json_decref(c.array);
		return log_error_errno(r, "cannot list patch builds: %s", db_errmsg(db));
	}
	if (c.array)
		return cli_print_json(c.array);
	if (c.n == 0 && ctx->verbosity >= 0)
		fputs("no patch builds recorded\n", stderr);
	return 0;
}

/* ---- patch show ---- */

static void show_help(void)
{
	fputs("usage: tuxtape patch show ID [--json]\n"
	      "\n"
	      "Show a recorded patch build: kernel, CVEs, patches with their SHA256,\n"
	      "outcome, reasons, module.  --json prints the record as the [notify]\n"
	      "event (version, event, id, kernel, name, cves, patches, reasons, module,\n"
	      "time) plus status, created_at and the build's report; feed it to the\n"
	      "notify command to try the command out (see docs/config.md).\n"
	      "\n"
	      "Exit codes: 0 ok, 2 usage, 5 no build with this id.\n",
	      stdout);
}

static void show_human(const struct patch_history_record *rec)
{
	char when[64];

	format_timestamp(rec->created_at, when, sizeof(when));
	printf("Build:    %" PRId64 "\nKernel:   ", rec->id);
	put_text(stdout, rec->kernel);
	if (rec->name) {
		fputs("\nName:     ", stdout);
		put_text(stdout, rec->name);
	}
	printf("\nStatus:   %s\nTime:     %s\nCVEs:     ",
	       patch_history_status_to_string(rec->status), when);
	if (!rec->cves)
		fputs("-", stdout);
	for (char **cve = rec->cves; cve && *cve; cve++)
		printf("%s%s", cve == rec->cves ? "" : ", ", *cve);
	fputs(rec->n_patches ? "\nPatches:\n" : "\nPatches:  -\n", stdout);
	for (size_t i = 0; i < rec->n_patches; i++) {
		printf("  %s  ", rec->patches[i].sha256);
		put_text(stdout, rec->patches[i].file);
		fputc('\n', stdout);
	}
	if (rec->n_reasons)
		fputs("Reasons:\n", stdout);
	for (size_t i = 0; i < rec->n_reasons; i++) {
		fputs("  ", stdout);
		put_text(stdout, rec->reasons[i].what);
		fputs(": ", stdout);
		put_text(stdout, rec->reasons[i].reason);
		fputc('\n', stdout);
	}
	fputs("Module:   ", stdout);
	if (rec->module_path) {
		put_text(stdout, rec->module_path);
		printf("\n          sha256 %s\n", rec->module_sha256);
	} else {
		fputs("-\n", stdout);
	}
}

int cmd_patch_show(struct cli_ctx *ctx, int argc, char **argv)
{
	_cleanup_(db_closep) struct db *db = NULL;
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };
	const char *arg = NULL;
	int64_t id;
	int r;

	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--json")) {
			ctx->json = true;
		} else if (streq(argv[i], "--help") || streq(argv[i], "-h")) {
			show_help();
			return 0;
		} else if (argv[i][0] == '-' || arg) {
			return cli_usage_error("patch", "show", "unexpected argument '%s'",
					       argv[i]);
		} else {
			arg = argv[i];
		}
	}
	if (!arg)
		return cli_usage_error("patch", "show", "expected a build ID");
	if (parse_id(arg, &id) < 0)
		return cli_usage_error("patch", "show", "invalid build ID '%s' (a positive number)",
				       arg);
	r = cli_open_db(ctx, &db);
	if (r < 0)
		return r;
	r = patch_history_get(db, id, &rec);
	if (r == -ENOENT) {
		log_error("patch build %" PRId64 " does not exist (see 'tuxtape patch list')", id);
		return CLI_RESULT_NOT_FOUND;
	}
	if (r < 0)
		return log_error_errno(r, "cannot read patch build %" PRId64 ": %s", id,
				       db_errmsg(db));
	if (ctx->json)
		return cli_print_json(patch_history_to_json(&rec));
	show_human(&rec);
	return 0;
}

/* ---- recording a build ---- */

int cli_patch_history_record(struct cli_ctx *ctx, struct db *db, struct patch_history_record *rec,
			     int64_t *ret_id)
{
	_cleanup_notify_config_ struct notify_config cfg = { 0 };
	struct notify_result res;
	char err[512] = "";
	json_t *event;
	int64_t id = 0;
	int r;

	r = patch_history_add(db, rec, &id);
	if (r == -EINVAL || r == -EFBIG)
		return log_error_errno(r, "cannot record the patch build for kernel '%s'",
				       rec->kernel ? rec->kernel : "");
	if (r < 0)
		return log_error_errno(r, "cannot record the patch build for kernel '%s': %s",
				       rec->kernel, db_errmsg(db));
	*ret_id = id;

	r = notify_config_load(ctx->config, &cfg, err, sizeof(err));
	if (r < 0) {
		log_warning("cannot announce patch build %" PRId64 ": [notify] %s, ignoring", id,
			    err[0] ? err : errno_to_string(r));
		return 0;
	}
	if (!notify_config_enabled(&cfg) ||
	    !notify_config_wants(&cfg, patch_history_status_to_string(rec->status)))
		return 0;
	event = patch_history_event(rec);
	if (!event) {
		log_warning("cannot announce patch build %" PRId64 ": out of memory, ignoring", id);
		return 0;
	}
	r = notify_send(&cfg, event, &res);
	json_decref(event);
	if (res.command_error < 0)
		log_warning("cannot announce patch build %" PRId64 ": %s, ignoring", id,
			    res.command_message);
	if (res.webhook_error < 0)
		log_warning("cannot announce patch build %" PRId64 ": %s, ignoring", id,
			    res.webhook_message);
	if (r < 0 && res.command_error >= 0 && res.webhook_error >= 0)
		log_warning("cannot announce patch build %" PRId64 ": %s, ignoring", id,
			    errno_to_string(r));
	if (r >= 0 && !res.skipped)
		log_debug("announced patch build %" PRId64, id);
	return 0;
}
