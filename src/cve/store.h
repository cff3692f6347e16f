/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CVE records in the database: writes used by the scanner (always inside a
 * transaction the caller owns) and the reads behind `cve list` and `cve show`.
 */
#ifndef TUXTAPE_CVE_STORE_H
#define TUXTAPE_CVE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "record.h"

/*
 * Inserts or replaces one record with all its child rows.  fresh=true means
 * the caller knows the CVE is not stored yet (first sync), which skips the
 * deletes of old child rows.  record_hash identifies the source files' content.
 */
int cve_store_put(struct db *db, const struct cve_record *r, const char *record_hash, bool fresh,
		  int64_t now);
/* Removes a CVE and its child rows; 0 also when it was not stored. */
int cve_store_delete(struct db *db, const char *id);
/*
 * *ret = stored record_hash (caller frees), NULL when the CVE is unknown or
 * was stored without one (from an announcement).  Returns 1 when the CVE is
 * stored, 0 when not.
 */
int cve_store_get_hash(struct db *db, const char *id, char **ret);
/* Keeps the earliest known publication date; sets the modification date. */
int cve_store_set_dates(struct db *db, const char *id, int64_t published, int64_t modified);
int64_t cve_store_count(struct db *db, bool include_rejected);

/* Sync state per source ("vulns", "mbox", "kev", "epss", "nvd"). */
int sync_state_get(struct db *db, const char *source, char **ret_commit, char **ret_location);
int sync_state_set(struct db *db, const char *source, const char *commit, const char *location,
		   int64_t now);

/* Loads one record with its child rows; -ENOENT when unknown. */
int cve_store_load(struct db *db, const char *id, struct cve_record **ret);

struct cve_filter {
	int64_t since;         /* published or modified at or after; 0 = any */
	const char *file;      /* a program file path, or a directory prefix ending in '/' */
	bool include_rejected;
	int limit;             /* 0 = no limit */
};

struct cve_summary {
	const char *id;
	const char *title;
	int64_t published;
	int64_t modified;
	double cvss_score;     /* < 0 when none */
	const char *cvss_severity;
	bool rejected;
	bool kev;
	double epss;           /* < 0 when none */
};

typedef int (*cve_summary_fn)(const struct cve_summary *s, void *userdata);
int cve_store_list(struct db *db, const struct cve_filter *f, cve_summary_fn fn, void *userdata);

/*
 * Streams every non-rejected record (id, title, published, CNA CVSS, pairs
 * and program files; no description or references) in id order, with three
 * queries instead of several per CVE: the gauge and the prioritizer read all
 * records at once.  The record passed to fn is freed after fn returns.
 */
typedef int (*cve_record_fn)(struct cve_record *rec, void *userdata);
int cve_store_foreach_brief(struct db *db, cve_record_fn fn, void *userdata);

#endif
