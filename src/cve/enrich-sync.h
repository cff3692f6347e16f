/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Enrichment of the CVE database from CISA KEV, FIRST EPSS and NVD: fetch
 * (URL or local file), verify by parsing, cache, then store in one
 * transaction.  A feed that cannot be fetched or parsed changes nothing; a
 * URL feed falls back to its last cached copy, with a warning.
 */
#ifndef TUXTAPE_CVE_ENRICH_SYNC_H
#define TUXTAPE_CVE_ENRICH_SYNC_H

#include <stdbool.h>

#include "db.h"
#include "enrich.h"

/* The kernel CNA as NVD names it (sourceIdentifier). */
#define NVD_KERNEL_CNA_SOURCE "416baaa9-dc9f-4396-8d5f-8c081fb06d67"

struct enrich_result {
	unsigned stored;
	unsigned bad;       /* rows skipped (EPSS) */
	bool from_cache;    /* the cached copy of a URL feed was used */
	bool stale;         /* ... because the download failed */
	char version[64];   /* KEV catalogVersion, EPSS model version, NVD window end */
};

/* source: URL or file.  cache_dir: where URL downloads are kept. */
int enrich_sync_kev(struct db *db, const char *source, const char *cache_dir, bool offline,
		    struct enrich_result *res);
int enrich_sync_epss(struct db *db, const char *source, const char *cache_dir, bool offline,
		     struct enrich_result *res);
/*
 * Fetches the kernel CNA's CVEs changed at NVD since the last run (all of
 * them from 2024 on, the first time) and stores their CVSS, CWE and dates.
 * Advances the stored window only when every page arrived.
 */
int enrich_sync_nvd(struct db *db, const struct nvd_client_options *o, bool full,
		    struct enrich_result *res);

#endif
