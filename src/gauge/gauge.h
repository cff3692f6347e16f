/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The applicability gauge: does one CVE record concern one kernel?
 *
 * The version half applies the rule measured on all published records
 * (docs/reference "rule 3"): every introduction of the bug that is in the
 * kernel must be followed by a fix that is also in the kernel.  A version is
 * "in" a kernel when it is unknown (the bug was always there), when it is a
 * mainline release X.Y (2.6.Z) not later than the mainline release the kernel
 * is built on, or when it is a stable release X.Y.Z (2.6.Z.W) on the kernel's
 * own X.Y branch and not later than the kernel.
 *
 * The build half, used when the version half says affected and a build
 * profile is given, checks whether any file the fix touches is compiled into
 * the kernel (tools/, Documentation/, samples/, scripts/ and selftests never
 * are).
 *
 * Version-level rules cannot see vendor cherry-picks or reverts in a custom
 * tree; that needs commit ancestry, which is not this module's job.
 *
 * Thread-safety: none of these functions keep state; a struct gauge_kernel
 * may be shared by threads once initialised (the profile must not change).
 */
#ifndef TUXTAPE_GAUGE_H
#define TUXTAPE_GAUGE_H

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"
#include "profile.h"
#include "record.h"

enum gauge_state {
	GAUGE_NOT_AFFECTED, /* the bug never reached this kernel (or the CVE is rejected) */
	GAUGE_FIXED,        /* it reached the kernel and the kernel carries the fix */
	GAUGE_NOT_COMPILED, /* affected by version, but none of the fixed files is built */
	GAUGE_AFFECTED,
	GAUGE_UNKNOWN,      /* undecidable: no versions, contradictory data, headers */
	_GAUGE_STATE_MAX,
	_GAUGE_STATE_INVALID = -EINVAL,
};

/* "not-affected", "fixed", "not-compiled", "affected", "unknown"; NULL when out of range. */
const char *gauge_state_to_string(enum gauge_state s);
/* _GAUGE_STATE_INVALID for an unknown name or NULL. */
enum gauge_state gauge_state_from_string(const char *s);

#define GAUGE_VERSION_MAX 32
#define GAUGE_REASON_MAX 384

/*
 * One kernel to judge against.  Initialise with gauge_kernel_init(); the
 * fields are read-only afterwards.
 */
struct gauge_kernel {
	char version[GAUGE_VERSION_MAX];      /* as given, e.g. "6.1.190", "6.8-rc3" */
	struct kernel_version v;
	struct kernel_version base;           /* mainline release (or -rc) it is built on */
	bool stable;                          /* a stable release X.Y.Z, not mainline X.Y */
	const struct kernel_profile *profile; /* borrowed, may be NULL = build unknown */
};

/*
 * Parses version ("6.1.190", "2.6.32.71", "6.8-rc3") into k.  profile is
 * borrowed and must outlive k; NULL means the kernel's build is unknown.
 * Returns 0, or -EINVAL when version is NULL, not a kernel version or longer
 * than GAUGE_VERSION_MAX - 1 (k is then untouched).
 */
int gauge_kernel_init(struct gauge_kernel *k, const char *version,
		      const struct kernel_profile *profile);

struct gauge_verdict {
	enum gauge_state state;
	/*
	 * Set with GAUGE_UNKNOWN when the kernel is affected by version but the
	 * only compiled-relevant files of the fix are headers and the profile
	 * does not list headers.
	 */
	bool unknown_header;
	/*
	 * PROFILE_BUILTIN and/or PROFILE_MODULE of the fixed files found in the
	 * profile; only set when state is GAUGE_AFFECTED.
	 */
	unsigned compiled_flags;
	/* In words, e.g. "fixed in 6.1.117 (6.1 branch), kernel is 6.1.190"; never empty. */
	char reason[GAUGE_REASON_MAX];
};

/*
 * Judges rec against k and writes the verdict to *ret.  Does not allocate
 * unless the record has more than GAUGE_PAIRS_INLINE pairs.  Data problems of
 * the record (no pairs, unparsable versions, a fix before its introduction)
 * are verdicts (GAUGE_UNKNOWN), not errors.
 *
 * Returns 0; -EINVAL when an argument is NULL; -ENOMEM.  *ret is written only
 * on success.
 */
#define GAUGE_PAIRS_INLINE 64
int gauge_evaluate(const struct gauge_kernel *k, const struct cve_record *rec,
		   struct gauge_verdict *ret);

/*
 * Same as gauge_evaluate() for n_kernels kernels at once, parsing the
 * record's versions only once: ret[i] is the verdict for kernels[i].  Use it
 * when sweeping many records over a fleet's kernels.
 *
 * Returns 0; -EINVAL when an argument is NULL; -ENOMEM.  ret[] is written only
 * on success.
 */
int gauge_evaluate_many(const struct gauge_kernel *kernels, size_t n_kernels,
			const struct cve_record *rec, struct gauge_verdict *ret);

#endif
