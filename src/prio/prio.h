/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The prioritizer: an explainable score (0..100) for one CVE applicable to one
 * kernel, built from CVSS (CNA, else NVD, else a default), CISA KEV, EPSS,
 * how the affected code is built and loaded, the subsystem of the fix and how
 * hard the fix is to livepatch.  Every point of the score comes from a named
 * factor, and the factors sum to the score, so `--explain` can print them.
 *
 * Defaults (all configurable under [prio], see docs/prioritizer.md):
 *
 *   cvss        base score x cvss_weight (5.0)            0 .. 50
 *               no vector: default_cvss (5.0) -> 25
 *   exposure    attack vector   N +6  A +3  L 0  P -4
 *               privileges      N +4  L 0   H -4
 *               user interact.  N +2  R 0
 *               scope changed   +3
 *   kev         listed in CISA KEV                        +60
 *   epss        percentile x epss_weight (10)             0 .. 10
 *   build       built-in +3, module loaded +3, module not loaded -15
 *   subsystem   (factor - 1) x (cvss + exposure points), longest path
 *               prefix wins; built in: net/ 1.2, drivers/ 0.9,
 *               drivers/gpu/ 0.8
 *   livepatch   header -2, header-only -3, struct/data -3, __init -2,
 *               assembly -3 (each flag once)
 *   cap         whatever brings the sum back into 0..100
 *
 *   classes     critical >= 60, high >= 40, medium >= 20, else low
 *   vendors     Canonical Livepatch: high or critical;
 *               Red Hat kpatch: important (our high) or critical
 *
 * The kev_bonus equals the critical threshold, so a KEV listing alone reaches
 * critical unless other factors subtract.
 *
 * Every function is pure and thread-safe; nothing allocates or logs.
 */
#ifndef TUXTAPE_PRIO_H
#define TUXTAPE_PRIO_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

struct config;

/* Ordered: a higher value is more severe, so --min-severity is a ">=". */
enum prio_severity {
	PRIO_SEVERITY_LOW,
	PRIO_SEVERITY_MEDIUM,
	PRIO_SEVERITY_HIGH,
	PRIO_SEVERITY_CRITICAL,
	_PRIO_SEVERITY_MAX,
	_PRIO_SEVERITY_INVALID = -EINVAL,
};

/* How the code the fix touches is built into the kernel. */
enum prio_build {
	PRIO_BUILD_UNKNOWN,
	PRIO_BUILD_BUILTIN,
	PRIO_BUILD_MODULE,
	_PRIO_BUILD_MAX,
	_PRIO_BUILD_INVALID = -EINVAL,
};

/* Whether a module is loaded on the node; only read for PRIO_BUILD_MODULE. */
enum prio_module_state {
	PRIO_MODULE_UNKNOWN,
	PRIO_MODULE_LOADED,
	PRIO_MODULE_NOT_LOADED,
	_PRIO_MODULE_MAX,
	_PRIO_MODULE_INVALID = -EINVAL,
};

/* What the fix changes that kpatch-style livepatching handles badly. */
enum prio_fix_flags {
	PRIO_FIX_HEADER = 1 << 0,      /* a header: every includer may change */
	PRIO_FIX_HEADER_ONLY = 1 << 1, /* headers only: inline code, macros or layouts */
	PRIO_FIX_DATA = 1 << 2,        /* struct layout or global data definitions */
	PRIO_FIX_INIT = 1 << 3,        /* __init code: already ran, cannot be patched */
	PRIO_FIX_ASM = 1 << 4,         /* assembly (.S) */
	_PRIO_FIX_ALL = (1 << 5) - 1,
};

/* Where the CVSS base score came from. */
enum prio_cvss_source {
	PRIO_CVSS_CNA,
	PRIO_CVSS_NVD,
	PRIO_CVSS_DEFAULT,
	_PRIO_CVSS_SOURCE_MAX,
	_PRIO_CVSS_SOURCE_INVALID = -EINVAL,
};

#define PRIO_SUBSYSTEMS_MAX 64
#define PRIO_PREFIX_MAX 64
#define PRIO_FACTORS_MAX 12
#define PRIO_VALUE_MAX 128
#define PRIO_NOTE_MAX 128
#define PRIO_CVE_ID_MAX 32

struct prio_subsystem {
	char prefix[PRIO_PREFIX_MAX]; /* e.g. "net/" or "drivers/gpu/" */
	double factor;                /* multiplies the CVSS and exposure points */
};

/*
 * Config key of each field: "prio.<field name>"; subsystems are
 * "prio.subsystem.<prefix>".  Bonuses and penalties are points >= 0 (a
 * penalty is subtracted); the exposure adjustments are signed points.
 */
struct prio_weights {
	double cvss_weight;   /* points per CVSS base point */
	double default_cvss;  /* base score assumed when nothing scored the CVE */
	double av_network;
	double av_adjacent;
	double av_local;
	double av_physical;
	double pr_none;
	double pr_low;
	double pr_high;
	double ui_none;
	double ui_required;
	double scope_changed;
	double kev_bonus;
	double epss_weight;   /* points at EPSS percentile 1.0 */
	double builtin_bonus;
	double module_loaded_bonus;
	double module_unloaded_penalty;
	double livepatch_header_penalty;
	double livepatch_header_only_penalty;
	double livepatch_data_penalty;
	double livepatch_init_penalty;
	double livepatch_asm_penalty;
	double threshold_critical; /* score >= this is critical */
	double threshold_high;
	double threshold_medium;
	size_t n_subsystems;
	struct prio_subsystem subsystems[PRIO_SUBSYSTEMS_MAX];
};

/*
 * Inputs are borrowed for the duration of prio_score() only.  Start from
 * prio_input_init(): a zeroed struct would claim an NVD score and an EPSS
 * percentile of 0.
 */
struct prio_input {
	const char *cve_id;         /* "CVE-2024-1234"; may be NULL (sorts last) */
	const char *cna_vector;     /* CNA CVSS 3.x vector, NULL if the CNA did not score */
	const char *nvd_vector;     /* NVD CVSS 3.x vector, NULL if none */
	double nvd_score;           /* NVD base score when there is no NVD vector; < 0 unknown */
	bool kev;                   /* listed in CISA KEV */
	double epss_score;          /* 0..1, < 0 unknown (shown, not scored) */
	double epss_percentile;     /* 0..1, < 0 unknown */
	enum prio_build build;
	enum prio_module_state module;
	char *const *files;         /* the fix's programFiles, NULL-terminated; may be NULL */
	unsigned fix_flags;         /* enum prio_fix_flags known from the diff */
};

struct prio_factor {
	const char *name; /* static string: "cvss", "attack-vector", ..., "cap" */
	char value[PRIO_VALUE_MAX];
	double points;    /* signed contribution, rounded to 0.1 */
	char note[PRIO_NOTE_MAX];
};

struct prio_result {
	char cve_id[PRIO_CVE_ID_MAX]; /* copy of the input's, "" when none */
	double score;                 /* 0..100, rounded to 0.1; the sum of factors[] */
	enum prio_severity severity;
	enum prio_cvss_source cvss_source;
	double cvss_base;             /* the base score used (default included) */
	bool kev;
	unsigned fix_flags;           /* caller's flags plus those derived from file names */
	bool canonical_livepatch;     /* Canonical Livepatch patches high and critical */
	bool redhat_kpatch;           /* Red Hat kpatch: important and critical */
	size_t n_factors;
	struct prio_factor factors[PRIO_FACTORS_MAX];
};

/* Everything unknown: no vectors or scores, not in KEV, build unknown, no files. */
void prio_input_init(struct prio_input *in);

/* Fills w with the defaults listed at the top of this header. */
void prio_weights_init(struct prio_weights *w);

/*
 * Defaults, overridden by the "prio.*" keys of c (c may be NULL).  Every
 * prio.* key must be known: on an unknown key, a value that is not a finite
 * number, a negative bonus or penalty, a default_cvss outside 0..10, a
 * threshold outside 0..100 or not ordered critical > high > medium, a
 * subsystem factor outside 0..10 or an empty prefix returns -EINVAL; on more
 * than PRIO_SUBSYSTEMS_MAX subsystems or a prefix of PRIO_PREFIX_MAX bytes or
 * more, -E2BIG.  On error, reterr (when given) names the key and *w is
 * untouched.
 */
int prio_weights_load(struct prio_weights *w, const struct config *c, char *reterr,
		      size_t errsize);

/*
 * Scores one CVE.  An unparsable CNA or NVD vector is skipped with a note on
 * the "cvss" factor, the next source is used.  Returns 0, or -EINVAL for a
 * NULL argument, an enum out of range, unknown fix flags, an EPSS value or
 * NVD score out of range, or a cve_id of PRIO_CVE_ID_MAX bytes or more; *ret
 * is written only on success.  Allocation-free.
 */
int prio_score(const struct prio_weights *w, const struct prio_input *in, struct prio_result *ret);

/* Class of a score under the thresholds of w. */
enum prio_severity prio_severity_from_score(const struct prio_weights *w, double score);

/*
 * Order for listings: score descending, then KEV first, then CVE id newest
 * first (higher year, then higher number); results without an id last.
 * prio_result_compare_qsort() takes pointers to struct prio_result elements.
 */
int prio_result_compare(const struct prio_result *a, const struct prio_result *b);
int prio_result_compare_qsort(const void *a, const void *b);

/*
 * "low", "medium", "high", "critical"; from_string() ignores case and
 * returns -EINVAL for anything else.
 */
const char *prio_severity_to_string(enum prio_severity s);
enum prio_severity prio_severity_from_string(const char *s);
/* Red Hat's words for our classes: "low", "moderate", "important", "critical". */
const char *prio_severity_to_redhat_string(enum prio_severity s);
/* "built-in", "module", "unknown" / "loaded", "not-loaded", "unknown"; "cna", "nvd", "default". */
const char *prio_build_to_string(enum prio_build b);
enum prio_build prio_build_from_string(const char *s);
const char *prio_module_state_to_string(enum prio_module_state m);
enum prio_module_state prio_module_state_from_string(const char *s);
const char *prio_cvss_source_to_string(enum prio_cvss_source s);

/*
 * The flags derivable from file names alone: a .h file -> PRIO_FIX_HEADER;
 * every file a header or under include/ -> also PRIO_FIX_HEADER_ONLY; a .S
 * file -> PRIO_FIX_ASM.  Documentation/ and tools/ are not kernel code and
 * are ignored.  files may be NULL.
 */
unsigned prio_fix_flags_from_files(char *const *files);

#endif
