/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A progress bar on stderr, drawn only when stderr is a terminal and output
 * is not quiet.  Redraws are rate-limited so the bar costs nothing measurable.
 */
#ifndef TUXTAPE_PROGRESS_H
#define TUXTAPE_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>

struct progress {
	const char *title;
	uint64_t total;
	uint64_t done;
	uint64_t last_draw_ns;
	bool enabled;
	bool drawn;
};

void progress_start(struct progress *p, const char *title, uint64_t total, bool enabled);
void progress_update(struct progress *p, uint64_t done);
void progress_end(struct progress *p);
/* True when stderr is a terminal (and TERM is not "dumb"). */
bool progress_wanted(void);

#endif
