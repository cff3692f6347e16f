/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "progress.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool progress_wanted(void)
{
	const char *term = getenv("TERM");

	return isatty(STDERR_FILENO) && !(term && strcmp(term, "dumb") == 0);
}

static void draw(struct progress *p)
{
	unsigned width = 30, filled;
	char bar[31];

	filled = p->total ? (unsigned)(p->done * width / p->total) : 0;
	if (filled > width)
		filled = width;
	memset(bar, '#', filled);
	memset(bar + filled, '.', width - filled);
	bar[width] = '\0';
	if (p->total)
		fprintf(stderr, "\r%s [%s] %llu/%llu", p->title, bar, (unsigned long long)p->done,
			(unsigned long long)p->total);
	else
		fprintf(stderr, "\r%s %llu", p->title, (unsigned long long)p->done);
	fflush(stderr);
	p->drawn = true;
}

void progress_start(struct progress *p, const char *title, uint64_t total, bool enabled)
{
	memset(p, 0, sizeof(*p));
	p->title = title;
	p->total = total;
	p->enabled = enabled;
}

void progress_update(struct progress *p, uint64_t done)
{
	uint64_t t;

	p->done = done;
	if (!p->enabled)
		return;
	t = now_ns();
	if (p->drawn && t - p->last_draw_ns < 100000000ull)
		return;
	p->last_draw_ns = t;
	draw(p);
}

void progress_end(struct progress *p)
{
	if (!p->enabled || !p->drawn)
		return;
	draw(p);
	fputs("\n", stderr);
}
