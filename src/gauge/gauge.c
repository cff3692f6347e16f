/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gauge.h"

static const char *const gauge_state_names[_GAUGE_STATE_MAX] = {
	[GAUGE_NOT_AFFECTED] = "not-affected",
	[GAUGE_FIXED] = "fixed",
	[GAUGE_NOT_COMPILED] = "not-compiled",
	[GAUGE_AFFECTED] = "affected",
	[GAUGE_UNKNOWN] = "unknown",
};

const char *gauge_state_to_string(enum gauge_state s)
{
	return s >= 0 && s < _GAUGE_STATE_MAX ? gauge_state_names[s] : NULL;
}

enum gauge_state gauge_state_from_string(const char *s)
{
	for (int i = 0; i < _GAUGE_STATE_MAX; i++)
		if (s && streq(s, gauge_state_names[i]))
			return (enum gauge_state)i;
	return _GAUGE_STATE_INVALID;
}

/* Until 3.0 a mainline release had three numbers (2.6.26) and a stable one four. */
static int branch_depth(const struct kernel_version *v)
{
	return v->part[0] == 2 && v->part[1] == 6 ? 3 : 2;
}

static bool is_stable(const struct kernel_version *v)
{
	return v->nparts > branch_depth(v);
}

static bool same_branch(const struct kernel_version *a, const struct kernel_version *b)
{
	int d = branch_depth(a);

	if (d != branch_depth(b))
		return false;
	for (int i = 0; i < d; i++)
		if (a->part[i] != b->part[i])
			return false;
	return true;
}

static void format_branch(const struct kernel_version *v, char *buf, size_t size)
{
	if (branch_depth(v) == 3)
		snprintf(buf, size, "%d.%d.%d", v->part[0], v->part[1], v->part[2]);
	else
		snprintf(buf, size, "%d.%d", v->part[0], v->part[1]);
}

int gauge_kernel_init(struct gauge_kernel *k, const char *version,
		      const struct kernel_profile *profile)
{
	struct kernel_version v;
	int d;

	if (!k || !version || strlen(version) >= sizeof(k->version) ||
	    kernel_version_parse(version, &v) < 0)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	memcpy(k->version, version, strlen(version) + 1);
	k->v = v;
	k->stable = is_stable(&v);
	d = branch_depth(&v);
	for (int i = 0; i < d; i++)
		k->base.part[i] = v.part[i];
	k->base.nparts = d;
	/* 6.8-rc3 is built on 6.8-rc3; a stable kernel on its branch's release. */
	k->base.rc = k->stable ? 0 : v.rc;
	k->profile = profile;
	return 0;
}

/*
 * A stable X.Y.Z is only in kernels of its own branch: backports are not
 * ancestors of later mainline releases.
 */
static bool version_in(const struct gauge_kernel *k, const struct kernel_version *v)
{
	if (is_stable(v))
		return same_branch(v, &k->v) && kernel_version_cmp(v, &k->v) <= 0;
	return kernel_version_cmp(v, &k->base) <= 0;
}

/* The record's pair versions, parsed once per record; "in_k" is redone per kernel. */
struct pair_versions {
	struct kernel_version iv, fv;
	bool has_iv, has_fv; /* false: "0" (unknown introduction, unfixed branch) */
	bool anomaly;        /* the dyad puts the fix before the introduction */
	bool fv_in_k;
};

struct parsed_record {
	const struct cve_record *rec;
	struct pair_versions *pv;
	size_t n;
	const char *bad; /* first version that does not parse, NULL when all do */
};

static void parse_pairs(const struct cve_record *rec, struct pair_versions *pv,
			struct parsed_record *ret)
{
	*ret = (struct parsed_record){ .rec = rec, .pv = pv, .n = rec->n_pairs };
	for (size_t i = 0; i < rec->n_pairs; i++) {
		const struct cve_pair *p = &rec->pairs[i];

		pv[i] = (struct pair_versions){ 0 };
		if (p->introduced_version) {
			if (kernel_version_parse(p->introduced_version, &pv[i].iv) < 0) {
				if (!ret->bad)
					ret->bad = p->introduced_version;
				continue;
			}
			pv[i].has_iv = true;
		}
		if (p->fixed_version) {
			if (kernel_version_parse(p->fixed_version, &pv[i].fv) < 0) {
				if (!ret->bad)
					ret->bad = p->fixed_version;
				pv[i].has_iv = false;
				continue;
			}
			pv[i].has_fv = true;
		}
		pv[i].anomaly = pv[i].has_iv && pv[i].has_fv &&
				kernel_version_cmp(&pv[i].fv, &pv[i].iv) < 0;
	}
}

static void _printf_(2, 3) reason_add(struct gauge_verdict *v, const char *fmt, ...)
{
	size_t len = strnlen(v->reason, sizeof(v->reason));
	va_list ap;
	int n;

	if (len + 1 >= sizeof(v->reason))
		return;
	va_start(ap, fmt);
	n = vsnprintf(v->reason + len, sizeof(v->reason) - len, fmt, ap);
	va_end(ap);
	/* Mark a cut so a truncated file list is not read as complete. */
	if (n >= 0 && (size_t)n >= sizeof(v->reason) - len)
		memcpy(v->reason + sizeof(v->reason) - 4, "...", 4);
}

typedef bool (*version_filter)(const struct kernel_version *v, const struct gauge_kernel *k);

/* Earliest pair (by introduction) among those for which keep() holds; -1 if none. */
static ssize_t earliest_intro(const struct parsed_record *pr, const struct gauge_kernel *k,
			      version_filter keep)
{
	ssize_t best = -1;

	for (size_t i = 0; i < pr->n; i++)
		if (pr->pv[i].has_iv && keep(&pr->pv[i].iv, k) &&
		    (best < 0 || kernel_version_cmp(&pr->pv[i].iv, &pr->pv[best].iv) < 0))
			best = (ssize_t)i;
	return best;
}

static bool on_kernel_branch(const struct kernel_version *v, const struct gauge_kernel *k)
{
	return is_stable(v) && same_branch(v, &k->v);
}

static bool mainline(const struct kernel_version *v, const struct gauge_kernel *k)
{
	return !is_stable(v);
}

static bool any(const struct kernel_version *v, const struct gauge_kernel *k)
{
	return true;
}

static void reason_not_affected(const struct parsed_record *pr, const struct gauge_kernel *k,
				struct gauge_verdict *v)
{
	const struct cve_pair *pairs = pr->rec->pairs;
	char branch[16];
	ssize_t i;

	format_branch(&k->v, branch, sizeof(branch));
	i = earliest_intro(pr, k, on_kernel_branch);
	if (i >= 0) {
		reason_add(v, "introduced in %s on the %s branch, after this kernel's %s",
			   pairs[i].introduced_version, branch, k->version);
		return;
	}
	i = earliest_intro(pr, k, mainline);
	if (i >= 0) {
		reason_add(v, "introduced in %s, after this kernel's %s",
			   pairs[i].introduced_version, k->version);
		return;
	}
	i = earliest_intro(pr, k, any);
	reason_add(v,
		   "introduced only by backports to other stable branches (earliest %s), "
		   "none to the %s branch",
		   i >= 0 ? pairs[i].introduced_version : "?", branch);
}

static const char *branch_word(const struct kernel_version *v, char *buf, size_t size)
{
	char b[16];

	if (!is_stable(v))
		return "mainline";
	format_branch(v, b, sizeof(b));
	snprintf(buf, size, "%s branch", b);
	return buf;
}

static void reason_fixed(const struct parsed_record *pr, const struct gauge_kernel *k,
			 ssize_t fix, ssize_t intro, struct gauge_verdict *v)
{
	const struct pair_versions *f = &pr->pv[fix], *i = &pr->pv[intro];
	char word[32];

	reason_add(v, "%s %s (%s), kernel is %s",
		   i->has_iv && kernel_version_cmp(&f->fv, &i->iv) == 0 ? "introduced and fixed in"
									 : "fixed in",
		   pr->rec->pairs[fix].fixed_version, branch_word(&f->fv, word, sizeof(word)),
		   k->version);
}

/* Whether fix pair j fixes an introduction at pair i (any fix when i is unknown). */
static bool fixes(const struct parsed_record *pr, size_t j, size_t i)
{
	return pr->pv[j].has_fv &&
	       (!pr->pv[i].has_iv || kernel_version_cmp(&pr->pv[j].fv, &pr->pv[i].iv) >= 0);
}

static void reason_affected(const struct parsed_record *pr, const struct gauge_kernel *k,
			    ssize_t intro, struct gauge_verdict *v)
{
	const struct pair_versions *pv = pr->pv;
	const struct cve_pair *pairs = pr->rec->pairs;
	ssize_t earlier = -1, branch_fix = -1, mainline_fix = -1;
	char branch[16];

	format_branch(&k->v, branch, sizeof(branch));
	if (!pv[intro].has_iv)
		reason_add(v, "affected since an unknown release");
	else if (is_stable(&pv[intro].iv))
		reason_add(v, "affected since %s (backport to the %s branch)",
			   pairs[intro].introduced_version, branch);
	else
		reason_add(v, "affected since %s", pairs[intro].introduced_version);

	for (size_t j = 0; j < pr->n; j++) {
		const struct kernel_version *f = &pv[j].fv;

		if (!pv[j].has_fv)
			continue;
		if (pv[j].fv_in_k) {
			/* A fix the kernel has, older than this introduction: a re-introduction. */
			if (!pv[j].anomaly &&
			    (earlier < 0 || kernel_version_cmp(f, &pv[earlier].fv) > 0))
				earlier = (ssize_t)j;
			continue;
		}
		if (!fixes(pr, j, (size_t)intro))
			continue;
		if (is_stable(f) && same_branch(f, &k->v)) {
			if (branch_fix < 0 || kernel_version_cmp(f, &pv[branch_fix].fv) < 0)
				branch_fix = (ssize_t)j;
		} else if (!is_stable(f)) {
			if (mainline_fix < 0 || kernel_version_cmp(f, &pv[mainline_fix].fv) < 0)
				mainline_fix = (ssize_t)j;
		}
	}
	if (earlier >= 0)
		reason_add(v, " (re-introduced after the fix in %s)", pairs[earlier].fixed_version);
	if (branch_fix >= 0)
		reason_add(v, "; fixed in %s on the %s branch, after this kernel's %s",
			   pairs[branch_fix].fixed_version, branch, k->version);
	else if (k->stable && mainline_fix >= 0)
		reason_add(v, "; no fix recorded for the %s branch (mainline fix in %s)", branch,
			   pairs[mainline_fix].fixed_version);
	else if (k->stable)
		reason_add(v, "; no fix recorded for the %s branch or mainline", branch);
	else if (mainline_fix >= 0)
		reason_add(v, "; fixed in %s, after this kernel's %s",
			   pairs[mainline_fix].fixed_version, k->version);
	else
		reason_add(v, "; no fix recorded in mainline");
}

/* The version half: rule 3 over the record's pairs. */
static void judge_versions(const struct parsed_record *pr, const struct gauge_kernel *k,
			   struct gauge_verdict *v)
{
	struct pair_versions *pv = pr->pv;
	ssize_t unfixed = -1, fixed_by = -1, fixed_for = -1, anomaly = -1;
	size_t n_in = 0;

	if (pr->n == 0) {
		v->state = GAUGE_UNKNOWN;
		reason_add(v, "no version data");
		return;
	}
	if (pr->bad) {
		v->state = GAUGE_UNKNOWN;
		reason_add(v, "record version '%.40s' is not a kernel version", pr->bad);
		return;
	}
	for (size_t j = 0; j < pr->n; j++) {
		pv[j].fv_in_k = pv[j].has_fv && version_in(k, &pv[j].fv);
		if (pv[j].anomaly && pv[j].fv_in_k && anomaly < 0)
			anomaly = (ssize_t)j;
	}

	for (size_t i = 0; i < pr->n; i++) {
		ssize_t best = -1;

		if (pv[i].has_iv && !version_in(k, &pv[i].iv))
			continue;
		n_in++;
		/* The dyad repeats one introduction per fixed branch; judge it once. */
		if (i > 0 && pv[i].has_iv == pv[i - 1].has_iv &&
		    (!pv[i].has_iv || kernel_version_cmp(&pv[i].iv, &pv[i - 1].iv) == 0))
			continue;
		for (size_t j = 0; j < pr->n; j++)
			if (pv[j].fv_in_k && fixes(pr, j, i) &&
			    (best < 0 || kernel_version_cmp(&pv[j].fv, &pv[best].fv) < 0))
				best = (ssize_t)j;
		if (best < 0) {
			/* Report the earliest unfixed one; an unknown start is earliest of all. */
			if (unfixed < 0 || (pv[unfixed].has_iv &&
					    (!pv[i].has_iv ||
					     kernel_version_cmp(&pv[i].iv, &pv[unfixed].iv) < 0)))
				unfixed = (ssize_t)i;
		} else if (fixed_by < 0 || kernel_version_cmp(&pv[best].fv, &pv[fixed_by].fv) > 0) {
			fixed_by = best;
			fixed_for = (ssize_t)i;
		}
	}

	if (unfixed >= 0 && anomaly >= 0) {
		/*
		 * The kernel holds a commit the record calls the fix, but the record
		 * dates it before the introduction: one of the two versions is wrong.
		 */
		const struct cve_pair *p = &pr->rec->pairs[anomaly];

		v->state = GAUGE_UNKNOWN;
		reason_add(v,
			   "the record's pair %s:%s puts the fix before the introduction, "
			   "and the kernel has that fix; cannot tell",
			   p->introduced_version, p->fixed_version);
	} else if (unfixed >= 0) {
		v->state = GAUGE_AFFECTED;
		reason_affected(pr, k, unfixed, v);
	} else if (n_in == 0) {
		v->state = GAUGE_NOT_AFFECTED;
		reason_not_affected(pr, k, v);
	} else {
		v->state = GAUGE_FIXED;
		reason_fixed(pr, k, fixed_by, fixed_for, v);
	}
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Files never built into the kernel image or its modules. */
static bool never_compiled(const char *path)
{
	return starts_with(path, "tools/") || starts_with(path, "Documentation/") ||
	       starts_with(path, "samples/") || starts_with(path, "scripts/") ||
	       strstr(path, "/selftests/");
}

static bool is_header(const char *path)
{
	size_t n = strlen(path);

	return n >= 2 && streq(path + n - 2, ".h");
}

static const char *flags_word(unsigned flags)
{
	if ((flags & PROFILE_BUILTIN) && (flags & PROFILE_MODULE))
		return "built-in and module";
	if (flags & PROFILE_BUILTIN)
		return "built-in";
	if (flags & PROFILE_MODULE)
		return "module";
	return "included";
}

/*
 * The build half, for a kernel affected by version (or undecided by it):
 * which of the fixed files does the profile say are compiled?
 */
static void judge_build(const struct gauge_kernel *k, const struct cve_record *rec,
			struct gauge_verdict *v)
{
	const char *header = NULL;
	size_t kept = 0, matched = 0;
	unsigned flags = 0;

	if (!rec->program_files || !rec->program_files[0]) {
		reason_add(v, "; the record lists no fixed files");
		return;
	}
	for (char **f = rec->program_files; *f; f++) {
		unsigned fl;

		if (never_compiled(*f))
			continue;
		kept++;
		fl = kernel_profile_lookup(k->profile, *f);
		if (!fl) {
			if (!header && is_header(*f))
				header = *f;
			continue;
		}
		reason_add(v, "%s %s (%s)", matched ? "," : "; compiled:", *f, flags_word(fl));
		matched++;
		flags |= fl & (PROFILE_BUILTIN | PROFILE_MODULE);
	}

	if (kept == 0) {
		v->state = GAUGE_NOT_COMPILED;
		reason_add(v, "; the fix touches only tools/Documentation/samples");
	} else if (matched > 0) {
		if (v->state == GAUGE_AFFECTED)
			v->compiled_flags = flags;
	} else if (header && !kernel_profile_knows_headers(k->profile)) {
		if (v->state == GAUGE_AFFECTED) {
			v->state = GAUGE_UNKNOWN;
			v->unknown_header = true;
		}
		reason_add(v,
			   "; header %s may be included by compiled files; "
			   "this profile does not list headers",
			   header);
	} else {
		size_t n = 0;

		v->state = GAUGE_NOT_COMPILED;
		reason_add(v, "; none of ");
		for (char **f = rec->program_files; *f; f++)
			if (!never_compiled(*f))
				reason_add(v, "%s%s", n++ ? ", " : "", *f);
		reason_add(v, " is compiled");
	}
}

static void judge(const struct parsed_record *pr, const struct gauge_kernel *k,
		  struct gauge_verdict *v)
{
	*v = (struct gauge_verdict){ .state = GAUGE_UNKNOWN };
	if (pr->rec->rejected) {
		v->state = GAUGE_NOT_AFFECTED;
		reason_add(v, "rejected");
		return;
	}
	judge_versions(pr, k, v);
	/* Not being built settles an undecided version verdict too. */
	if (v->state != GAUGE_AFFECTED && v->state != GAUGE_UNKNOWN)
		return;
	if (k->profile)
		judge_build(k, pr->rec, v);
	else if (v->state == GAUGE_AFFECTED)
		reason_add(v, "; no build profile");
}

int gauge_evaluate_many(const struct gauge_kernel *kernels, size_t n_kernels,
			const struct cve_record *rec, struct gauge_verdict *ret)
{
	struct pair_versions inline_pv[GAUGE_PAIRS_INLINE];
	_cleanup_free_ struct pair_versions *heap = NULL;
	struct pair_versions *pv = inline_pv;
	struct parsed_record pr;

	if (!kernels || !rec || !ret || (rec->n_pairs > 0 && !rec->pairs))
		return -EINVAL;
	if (rec->n_pairs > GAUGE_PAIRS_INLINE) {
		heap = calloc(rec->n_pairs, sizeof(*heap));
		if (!heap)
			return -ENOMEM;
		pv = heap;
	}
	parse_pairs(rec, pv, &pr);
	for (size_t i = 0; i < n_kernels; i++)
		judge(&pr, &kernels[i], &ret[i]);
	return 0;
}

int gauge_evaluate(const struct gauge_kernel *k, const struct cve_record *rec,
		   struct gauge_verdict *ret)
{
	return gauge_evaluate_many(k, 1, rec, ret);
}
