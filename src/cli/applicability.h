/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the CLI shows about CVEs and one registered kernel: each CVE's
 * applicability (the gauge) and, for the applicable ones, the prioritizer's
 * score.  Loads what both need in a handful of queries.
 */
#ifndef TUXTAPE_CLI_APPLICABILITY_H
#define TUXTAPE_CLI_APPLICABILITY_H

#include "db.h"
#include "gauge.h"
#include "prio.h"
#include "record.h"
#include "registry.h"

struct kernel_view {
	struct kernel_entry *kernel;
	struct kernel_profile *profile; /* NULL when the kernel has none */
	struct gauge_kernel gauge;
	char **loaded_modules;          /* reported by nodes; NULL when none reported */
	char **module_names;            /* the kernel's module map (Debian kernels), or NULL */
	char **module_dirs;             /* ... and the directory each is built from */
};

/* Loads the kernel and its profile; -ENOENT when it is not registered. */
int kernel_view_open(struct db *db, const char *name, struct kernel_view *ret);
void kernel_view_release(struct kernel_view *v);

typedef int (*applicability_fn)(const struct cve_record *rec, const struct gauge_verdict *v,
				void *userdata);
/* Judges every non-rejected CVE against the kernel. */
int applicability_sweep(struct db *db, const struct kernel_view *kv, applicability_fn fn,
			void *userdata);

/* Enrichment of all CVEs, for ranking. */
struct rank_context;
int rank_context_new(struct db *db, struct rank_context **ret);
struct rank_context *rank_context_free(struct rank_context *c);
/* Fills in for one affected CVE; strings point into rec and the context. */
void rank_context_input(const struct rank_context *c, const struct kernel_view *kv,
			const struct cve_record *rec, const struct gauge_verdict *v,
			struct prio_input *in);

#endif
