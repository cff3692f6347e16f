/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The record of patch builds in the CLI: `tuxtape patch list`, `tuxtape
 * patch show ID`, and the one call `patch build` makes to store an outcome
 * and announce it through [notify].
 */
#ifndef TUXTAPE_CLI_CMD_PATCH_HISTORY_H
#define TUXTAPE_CLI_CMD_PATCH_HISTORY_H

#include <stdint.h>

#include "cli.h"
#include "history.h"

/* `tuxtape patch list [--kernel NAME] [--cve ID] [--status S] [--since DATE] [--limit N] [--json]`
 */
int cmd_patch_list(struct cli_ctx *ctx, int argc, char **argv);
/* `tuxtape patch show ID [--json]`; exit 5 (CLI_RESULT_NOT_FOUND) for an unknown id. */
int cmd_patch_show(struct cli_ctx *ctx, int argc, char **argv);

/*
 * Stores rec (patch_history_add(): one transaction; rec->id and
 * rec->created_at are set) and announces it as [notify] in ctx->config
 * says.  A notification that fails, or a [notify] section that does not
 * parse, is logged as a warning naming the build and does not change the
 * result: the record is what matters.  Returns 0 and *ret_id, or the
 * negative errno of storing (logged, naming the kernel).
 */
int cli_patch_history_record(struct cli_ctx *ctx, struct db *db, struct patch_history_record *rec,
			     int64_t *ret_id);

#endif
