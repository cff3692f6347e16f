/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reporting seam: after every cycle and every change it makes, the
 * agent hands its status document (agent_status_json(), docs/agent.md) to a
 * report sink.  Today's only sink writes STATE_DIR/report.json and, when
 * [agent] report_url is set, POSTs the same JSON there (src/net/http.c).
 * The fleet server of a later issue replaces the POST with its own protocol
 * behind this interface; the engine does not change.
 *
 * Failures are returned (err says what and where), never fatal to the agent.
 */
#ifndef TUXTAPE_AGENT_REPORT_H
#define TUXTAPE_AGENT_REPORT_H

#include <stddef.h>

#include <jansson.h>

#include "macro.h"

struct report;

struct report_ops {
	int (*send)(struct report *r, const json_t *status, char err[], size_t errsize);
	void (*free)(struct report *r);
};

struct report {
	const struct report_ops *ops;
};

/*
 * The file + HTTP sink: state_dir/report.json, and a POST to url when url is
 * not NULL (ca_file: NULL for the system's CAs).  NULL on OOM.
 */
struct report *report_new_default(const char *state_dir, const char *url, const char *ca_file);

/* 0, or the first error: of the file write, else of the POST (-EAGAIN, -ECONNREFUSED ...). */
int report_send(struct report *r, const json_t *status, char err[], size_t errsize);
struct report *report_free(struct report *r);
DEFINE_CLEANUP_FUNC(struct report, report_free)

#endif
