/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The record of every `patch build`: which kernel, which CVEs, which patches
 * (file name and SHA256 of the content, in order), the outcome (built,
 * refused, failed), the reasons, the JSON report and, when built, the module
 * with its SHA256.  Each record is written in one transaction and gets an id
 * that is never reused (a counter row, so concurrent writers on PostgreSQL
 * queue on it and SQLite's write lock orders them).
 *
 * Records are built with the patch_history_record_* helpers, which copy what
 * they are given; patch_history_get() and patch_history_list() hand out
 * records the same way.  Nothing here logs.  Not thread-safe beyond the
 * database handle's rules (one handle per thread).
 */
#ifndef TUXTAPE_PATCHGEN_HISTORY_H
#define TUXTAPE_PATCHGEN_HISTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "macro.h"

/* Bounds of what one record may hold; more is -EFBIG. */
#define PATCH_HISTORY_CVES_MAX 1024
#define PATCH_HISTORY_PATCHES_MAX 1024
#define PATCH_HISTORY_REASONS_MAX 4096
#define PATCH_HISTORY_REPORT_MAX (16u * 1024 * 1024)
#define PATCH_HISTORY_TEXT_MAX 4096 /* kernel name, file names, what/reason texts */

enum patch_history_status {
	PATCH_HISTORY_BUILT,
	PATCH_HISTORY_REFUSED,
	PATCH_HISTORY_FAILED,
	_PATCH_HISTORY_STATUS_MAX,
	_PATCH_HISTORY_STATUS_INVALID = -EINVAL,
};

/* "built", "refused", "failed"; NULL for other values. */
const char *patch_history_status_to_string(enum patch_history_status s);
/* _PATCH_HISTORY_STATUS_INVALID for unknown strings. */
enum patch_history_status patch_history_status_from_string(const char *s);

struct patch_history_patch {
	char *file;   /* the file name as given (basename for files added by path) */
	char *sha256; /* 64 lowercase hex digits of the content */
};

struct patch_history_reason {
	char *what;   /* the function, section or file concerned, e.g. "net/core/dev.c:foo" */
	char *reason; /* why, in words */
};

/* One build.  Every string and array is owned by the record. */
struct patch_history_record {
	int64_t id;   /* set by patch_history_add(); 0 before */
	char *kernel; /* registered kernel name, required */
	char *name;   /* livepatch module name (--name), or NULL */
	enum patch_history_status status;
	char **cves; /* strv of "CVE-YYYY-N...", or NULL */
	struct patch_history_patch *patches;
	size_t n_patches;
	struct patch_history_reason *reasons;
	size_t n_reasons;
	char *report;	   /* the JSON report as text, or NULL */
	char *module_path; /* built modules only */
	char *module_sha256;
	int64_t created_at; /* unix time; patch_history_add() uses now when 0 */
};

void patch_history_record_release(struct patch_history_record *rec);
static inline void patch_history_record_releasep(struct patch_history_record *rec)
{
	patch_history_record_release(rec);
}
#define _cleanup_patch_history_record_ _cleanup_(patch_history_record_releasep)

/* Copies kernel and name into rec (name may be NULL).  -ENOMEM. */
int patch_history_record_set_kernel(struct patch_history_record *rec, const char *kernel,
				    const char *name);
/* Appends a CVE id; -EINVAL when it is not of the form CVE-YYYY-NNNN..., -EFBIG past the bound. */
int patch_history_record_add_cve(struct patch_history_record *rec, const char *cve);
/* Appends a patch by name and known SHA256 (64 hex digits, stored lowercase); -EINVAL otherwise. */
int patch_history_record_add_patch(struct patch_history_record *rec, const char *file,
				   const char *sha256);
/*
 * Appends the patch file at path: its basename and the SHA256 of its
 * content.  -ENOENT/-EACCES/-EISDIR as open(2) and read(2) say.
 */
int patch_history_record_add_patch_file(struct patch_history_record *rec, const char *path);
/* Appends a reason; both texts required.  -EINVAL, -EFBIG, -ENOMEM. */
int patch_history_record_add_reason(struct patch_history_record *rec, const char *what,
				    const char *reason);
/* Stores the report as compact JSON text (report is borrowed).  -ENOMEM, -EFBIG. */
int patch_history_record_set_report(struct patch_history_record *rec, json_t *report);
/* Records the module at path and the SHA256 of its content.  Errors as add_patch_file(). */
int patch_history_record_set_module(struct patch_history_record *rec, const char *path);

/* SHA256 of the file's content as 65 bytes of lowercase hex and NUL into hex. */
int patch_history_file_sha256(const char *path, char hex[static 65]);

/*
 * Validates rec and stores it in one transaction, returning its new id in
 * *ret_id (rec->id is set too).  -EINVAL for a record that breaks the rules
 * above: no kernel, unknown status, a built record without module path and
 * SHA256, a report that is not JSON, a malformed CVE id or SHA256; -EFBIG
 * past a bound; database errors as db.h.  On failure nothing is stored.
 */
int patch_history_add(struct db *db, struct patch_history_record *rec, int64_t *ret_id);

/* The record with this id into *ret (release it); -ENOENT when there is none. */
int patch_history_get(struct db *db, int64_t id, struct patch_history_record *ret);

struct patch_history_filter {
	const char *kernel; /* NULL = every kernel */
	const char *cve;    /* NULL = any; else records targeting this CVE */
	int status;	    /* an enum patch_history_status, or -1 = any */
	int64_t since;	    /* created_at >= since; 0 = no bound */
	size_t limit;	    /* newest first; 0 = no limit */
	bool with_report;   /* load the report text too (list leaves it NULL otherwise) */
};
#define PATCH_HISTORY_FILTER_INIT                                                                  \
	{                                                                                          \
		.status = -1                                                                       \
	}

/*
 * Calls fn for each record matching filter, newest first.  The record is
 * the caller's for the call only (released after fn returns); a negative
 * return of fn stops the walk and is returned.
 */
typedef int (*patch_history_fn)(const struct patch_history_record *rec, void *userdata);
int patch_history_list(struct db *db, const struct patch_history_filter *filter,
		       patch_history_fn fn, void *userdata);

/*
 * The notification event of a record: {"version": 1, "event":
 * "patch.STATUS", "id", "kernel", "name", "cves": [...], "patches": [{"file",
 * "sha256"}], "reasons": [{"what", "reason"}], "module": {"path", "sha256"}
 * or null, "time": RFC 3339 UTC of created_at}.  NULL on OOM.
 */
json_t *patch_history_event(const struct patch_history_record *rec);

/*
 * The full record as JSON: the event above plus "status", "created_at"
 * (unix time) and "report" (the parsed report, or null).  A consumer of the
 * event can be fed `tuxtape patch show ID --json`.  NULL on OOM.
 */
json_t *patch_history_to_json(const struct patch_history_record *rec);

#endif
