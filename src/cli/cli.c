/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "fileio.h"
#include "log.h"

void cli_print_verbs(FILE *f, const char *noun, const struct cli_verb *verbs)
{
	fprintf(f, "usage: tuxtape %s VERB [OPTIONS]\n\nVerbs:\n", noun);
	for (; verbs->name; verbs++)
		fprintf(f, "  %-10s %s\n", verbs->name, verbs->summary);
	fprintf(f, "\nRun 'tuxtape %s VERB --help' for a verb's options.\n", noun);
}

int cli_dispatch(struct cli_ctx *ctx, const char *noun, const struct cli_verb *verbs, int argc,
		 char **argv)
{
	if (argc < 2) {
		cli_print_verbs(stderr, noun, verbs);
		return CLI_RESULT_USAGE;
	}
	if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
		cli_print_verbs(stdout, noun, verbs);
		return 0;
	}
	for (const struct cli_verb *v = verbs; v->name; v++)
		if (streq(v->name, argv[1]))
			return v->run(ctx, argc - 1, argv + 1);
	log_error("unknown verb '%s' for 'tuxtape %s' (see 'tuxtape %s --help')", argv[1], noun,
		  noun);
	return CLI_RESULT_USAGE;
}

int cli_usage_error(const char *noun, const char *verb, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("%s", msg);
	fprintf(stderr, "Run 'tuxtape %s %s --help' for usage.\n", noun, verb);
	return CLI_RESULT_USAGE;
}

int cli_open_db(struct cli_ctx *ctx, struct db **ret)
{
	int r;

	if (strncmp(ctx->database_url, "postgres", 8) != 0) {
		r = mkdir_p(ctx->data_dir, 0755);
		if (r < 0)
			return log_error_errno(r, "cannot create data directory '%s'", ctx->data_dir);
	}
	r = db_open(ctx->database_url, ret);
	if (r < 0) {
		/* The URL may carry a password: name the backend, not the URL. */
		if (strncmp(ctx->database_url, "postgres", 8) == 0)
			return log_error_errno(r, "cannot open the PostgreSQL database");
		return log_error_errno(r, "cannot open the database '%s'", ctx->database_url);
	}
	return 0;
}

int cli_print_json(json_t *v)
{
	int r;

	if (!v)
		return -ENOMEM;
	r = json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(v);
	if (r < 0)
		return -EIO;
	fputc('\n', stdout);
	return 0;
}

bool cli_human_tty(const struct cli_ctx *ctx)
{
	return !ctx->json && ctx->verbosity >= 0 && isatty(STDOUT_FILENO);
}

int cli_kernel_not_registered(const char *name)
{
	log_error("kernel '%s' is not registered (see 'tuxtape kernel list')", name);
	return CLI_RESULT_NOT_FOUND;
}
