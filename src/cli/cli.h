/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The `tuxtape` admin CLI: shared context, verb tables and the helpers every
 * command uses.  Handlers return 0 or a negative errno; main() alone turns
 * results into exit codes (docs/exit-codes.md).
 */
#ifndef TUXTAPE_CLI_H
#define TUXTAPE_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "db.h"

/* Exit codes; see docs/exit-codes.md. */
enum cli_exit {
	EXIT_OK = 0,
	EXIT_FAILURE_ = 1,
	EXIT_USAGE = 2,
	EXIT_PARTIAL = 3,   /* finished, but some records or sources had errors */
	EXIT_LOCKED = 4,    /* another run holds the lock */
	EXIT_NOT_FOUND = 5, /* the named object does not exist */
	EXIT_CHECK_FAILED = 6, /* a verification ran and its verdict is "failed" */
};

/* Handler results beyond negative errno that map to particular exit codes. */
#define CLI_RESULT_PARTIAL 1
#define CLI_RESULT_USAGE (-1000)
#define CLI_RESULT_NOT_FOUND (-1001)
#define CLI_RESULT_CHECK_FAILED (-1002)

struct cli_ctx {
	struct config *config;
	const char *config_path; /* --config */
	bool json;
	bool system;             /* --system: /var/lib/tuxtape */
	int verbosity;           /* -1 quiet, 0 normal, 1+ verbose */
	char *data_dir;          /* resolved */
	char *database_url;      /* resolved */
	const char *argv0;
};

struct cli_verb {
	const char *name;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;
};

/* Runs the verb named by argv[0] from the table; prints the noun's help for --help. */
int cli_dispatch(struct cli_ctx *ctx, const char *noun, const struct cli_verb *verbs, int argc,
		 char **argv);
void cli_print_verbs(FILE *f, const char *noun, const struct cli_verb *verbs);

/* Opens the configured database (creating the data directory when needed). */
int cli_open_db(struct cli_ctx *ctx, struct db **ret);

/* Prints a JSON value to stdout followed by a newline; takes the reference. */
int cli_print_json(json_t *v);

/* Usage error helper: prints "error: ..." and a hint to --help, returns CLI_RESULT_USAGE. */
int cli_usage_error(const char *noun, const char *verb, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Logs that kernel name is not registered and returns CLI_RESULT_NOT_FOUND. */
int cli_kernel_not_registered(const char *name);

/* True when stdout is a terminal and neither --json nor -q is in force. */
bool cli_human_tty(const struct cli_ctx *ctx);

int cmd_archive(struct cli_ctx *ctx, int argc, char **argv);
int cmd_cve(struct cli_ctx *ctx, int argc, char **argv);
int cmd_kernel(struct cli_ctx *ctx, int argc, char **argv);
int cmd_klog(struct cli_ctx *ctx, int argc, char **argv);
int cmd_patch(struct cli_ctx *ctx, int argc, char **argv);

struct kernel_entry;
struct prepare_options;
struct prepare_result;
/*
 * Prepares (or reuses) the build environment of a registered kernel; Debian
 * kernels get their source from the cache.  On success *ret_k, *ret_tree (the
 * pristine source) and *pr belong to the caller.  Logs its errors.
 */
int cli_kernel_prepare(struct cli_ctx *ctx, struct db *db, const char *name,
		       struct prepare_options *po, bool offline, struct kernel_entry **ret_k,
		       char **ret_tree, struct prepare_result *pr);
/*
 * The same with the symbol table options of `kernel prepare`: a kernel
 * without a real System.map (Debian's) and without po->kallsyms gets the
 * /proc/kallsyms of its image booted under qemu, cached by the image's
 * SHA256 in DATA/cache/kallsyms/ (no_vm: none; vmlinuz: the image for
 * kernels that are not Debian's).
 */
struct cli_prepare_options {
	bool offline;
	bool no_vm;
	const char *vmlinuz;
	bool captured; /* out: the table was captured by this call ... */
	uint64_t capture_ms; /* out: ... in that many milliseconds (qemu's run) */
};
int cli_kernel_prepare_with(struct cli_ctx *ctx, struct db *db, const char *name,
			    struct prepare_options *po, struct cli_prepare_options *co,
			    struct kernel_entry **ret_k, char **ret_tree, struct prepare_result *pr);
/*
 * The vmlinuz of a registered Debian kernel, extracted once from the cached
 * image package (caller frees).  Logs its errors; -ENOENT for other kernels.
 */
int cli_kernel_image(struct cli_ctx *ctx, const struct kernel_entry *k, bool offline, char **ret);
/* `tuxtape kernel cves`, also behind `tuxtape cve list --kernel`. */
int cmd_kernel_cves(struct cli_ctx *ctx, int argc, char **argv);

#endif
