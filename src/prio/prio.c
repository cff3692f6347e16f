/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "cvss.h"
#include "macro.h"
#include "parse-util.h"
#include "prio.h"

#define SUBSYSTEM_KEY_PREFIX "prio.subsystem."

enum weight_kind {
	WEIGHT_SIGNED,    /* any finite number */
	WEIGHT_POSITIVE,  /* >= 0: bonuses, penalties, multipliers */
	WEIGHT_CVSS,      /* 0..10 */
	WEIGHT_THRESHOLD, /* 0..100 */
};

static const struct weight_key {
	const char *key;
	size_t offset;
	enum weight_kind kind;
} weight_keys[] = {
#define W(field, kind) { "prio." #field, offsetof(struct prio_weights, field), kind }
	W(cvss_weight, WEIGHT_POSITIVE),
	W(default_cvss, WEIGHT_CVSS),
	W(av_network, WEIGHT_SIGNED),
	W(av_adjacent, WEIGHT_SIGNED),
	W(av_local, WEIGHT_SIGNED),
	W(av_physical, WEIGHT_SIGNED),
	W(pr_none, WEIGHT_SIGNED),
	W(pr_low, WEIGHT_SIGNED),
	W(pr_high, WEIGHT_SIGNED),
	W(ui_none, WEIGHT_SIGNED),
	W(ui_required, WEIGHT_SIGNED),
	W(scope_changed, WEIGHT_SIGNED),
	W(kev_bonus, WEIGHT_POSITIVE),
	W(epss_weight, WEIGHT_POSITIVE),
	W(builtin_bonus, WEIGHT_POSITIVE),
	W(module_loaded_bonus, WEIGHT_POSITIVE),
	W(module_unloaded_penalty, WEIGHT_POSITIVE),
	W(livepatch_header_penalty, WEIGHT_POSITIVE),
	W(livepatch_header_only_penalty, WEIGHT_POSITIVE),
	W(livepatch_data_penalty, WEIGHT_POSITIVE),
	W(livepatch_init_penalty, WEIGHT_POSITIVE),
	W(livepatch_asm_penalty, WEIGHT_POSITIVE),
	W(threshold_critical, WEIGHT_THRESHOLD),
	W(threshold_high, WEIGHT_THRESHOLD),
	W(threshold_medium, WEIGHT_THRESHOLD),
#undef W
};

static const struct prio_subsystem default_subsystems[] = {
	/* Reachable from remote peers and from unprivileged user namespaces. */
	{ "net/", 1.2 },
	/* Half of all kernel CVEs; most need a specific device to be present. */
	{ "drivers/", 0.9 },
	{ "drivers/gpu/", 0.8 },
};

void prio_weights_init(struct prio_weights *w)
{
	*w = (struct prio_weights){
		.cvss_weight = 5.0,
		.default_cvss = 5.0,
		.av_network = 6.0,
		.av_adjacent = 3.0,
		.av_local = 0.0,
		.av_physical = -4.0,
		.pr_none = 4.0,
		.pr_low = 0.0,
		.pr_high = -4.0,
		.ui_none = 2.0,
		.ui_required = 0.0,
		.scope_changed = 3.0,
		.kev_bonus = 60.0,
		.epss_weight = 10.0,
		.builtin_bonus = 3.0,
		.module_loaded_bonus = 3.0,
		.module_unloaded_penalty = 15.0,
		.livepatch_header_penalty = 2.0,
		.livepatch_header_only_penalty = 3.0,
		.livepatch_data_penalty = 3.0,
		.livepatch_init_penalty = 2.0,
		.livepatch_asm_penalty = 3.0,
		.threshold_critical = 60.0,
		.threshold_high = 40.0,
		.threshold_medium = 20.0,
	};
	memcpy(w->subsystems, default_subsystems, sizeof(default_subsystems));
	w->n_subsystems = ARRAY_SIZE(default_subsystems);
}

void prio_input_init(struct prio_input *in)
{
	*in = (struct prio_input){
		.nvd_score = -1.0,
		.epss_score = -1.0,
		.epss_percentile = -1.0,
		.build = PRIO_BUILD_UNKNOWN,
		.module = PRIO_MODULE_UNKNOWN,
	};
}

static int parse_weight(const char *key, const char *value, double min, double max, double *ret,
			char *reterr, size_t errsize)
{
	double v;

	if (safe_atod(value, &v) < 0 || !isfinite(v))
		return error_message(reterr, errsize, -EINVAL, "invalid number '%s' for '%s'",
				     value, key);
	if (v < min || v > max)
		return error_message(reterr, errsize, -EINVAL, "value %g of '%s' is outside %g..%g",
				     v, key, min, max);
	*ret = v;
	return 0;
}

static int load_subsystem(struct prio_weights *w, const char *key, const char *value,
			  char *reterr, size_t errsize)
{
	const char *prefix = key + strlen(SUBSYSTEM_KEY_PREFIX);
	size_t len = strlen(prefix), i;
	double factor;
	int r;

	if (len == 0)
		return error_message(reterr, errsize, -EINVAL, "empty path prefix in '%s'", key);
	if (len >= PRIO_PREFIX_MAX)
		return error_message(reterr, errsize, -E2BIG, "path prefix of '%s' is too long",
				     key);
	r = parse_weight(key, value, 0.0, 10.0, &factor, reterr, errsize);
	if (r < 0)
		return r;
	for (i = 0; i < w->n_subsystems; i++)
		if (streq(w->subsystems[i].prefix, prefix))
			break;
	if (i == w->n_subsystems) {
		if (i == PRIO_SUBSYSTEMS_MAX)
			return error_message(reterr, errsize, -E2BIG,
					     "too many subsystem weights at '%s' (at most %d)", key,
					     PRIO_SUBSYSTEMS_MAX);
		memcpy(w->subsystems[i].prefix, prefix, len + 1);
		w->n_subsystems++;
	}
	w->subsystems[i].factor = factor;
	return 0;
}

static int load_key(struct prio_weights *w, const char *key, const char *value, char *reterr,
		    size_t errsize)
{
	static const double min[] = {
		[WEIGHT_SIGNED] = -100.0,
		[WEIGHT_POSITIVE] = 0.0,
		[WEIGHT_CVSS] = 0.0,
		[WEIGHT_THRESHOLD] = 0.0,
	};
	static const double max[] = {
		[WEIGHT_SIGNED] = 100.0,
		[WEIGHT_POSITIVE] = 100.0,
		[WEIGHT_CVSS] = 10.0,
		[WEIGHT_THRESHOLD] = 100.0,
	};

	if (strncmp(key, SUBSYSTEM_KEY_PREFIX, strlen(SUBSYSTEM_KEY_PREFIX)) == 0)
		return load_subsystem(w, key, value, reterr, errsize);
	for (size_t i = 0; i < ARRAY_SIZE(weight_keys); i++) {
		const struct weight_key *k = &weight_keys[i];

		if (streq(k->key, key))
			return parse_weight(key, value, min[k->kind], max[k->kind],
					    (double *)((char *)w + k->offset), reterr, errsize);
	}
	/* A typo would otherwise silently keep the default. */
	return error_message(reterr, errsize, -EINVAL, "unknown key '%s'", key);
}

int prio_weights_load(struct prio_weights *w, const struct config *c, char *reterr,
		      size_t errsize)
{
	struct prio_weights n;
	const char *key, *value;
	int r;

	prio_weights_init(&n);
	for (size_t i = 0; (key = config_key_at(c, i, &value)); i++) {
		if (strncmp(key, "prio.", 5) != 0)
			continue;
		r = load_key(&n, key, value, reterr, errsize);
		if (r < 0)
			return r;
	}
	if (!(n.threshold_high < n.threshold_critical))
		return error_message(reterr, errsize, -EINVAL,
				     "'prio.threshold_high' (%g) must be below " "'prio.threshold_critical' (%g)",
				     n.threshold_high, n.threshold_critical);
	if (!(n.threshold_medium < n.threshold_high))
		return error_message(reterr, errsize, -EINVAL,
				     "'prio.threshold_medium' (%g) must be below " "'prio.threshold_high' (%g)",
				     n.threshold_medium, n.threshold_high);
	*w = n;
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && memcmp(s + ls - lx, suffix, lx) == 0;
}

/* Documentation and user-space tools are never part of the kernel image. */
static bool is_kernel_file(const char *f)
{
	return !has_prefix(f, "Documentation/") && !has_prefix(f, "tools/");
}

unsigned prio_fix_flags_from_files(char *const *files)
{
	unsigned flags = 0;
	size_t n = 0, headers = 0;

	for (; files && *files; files++) {
		const char *f = *files;
		bool header;

		if (!is_kernel_file(f))
			continue;
		n++;
		header = has_suffix(f, ".h");
		if (header)
			flags |= PRIO_FIX_HEADER;
		if (header || has_prefix(f, "include/"))
			headers++;
		if (has_suffix(f, ".S"))
			flags |= PRIO_FIX_ASM;
	}
	if (n > 0 && headers == n)
		flags |= PRIO_FIX_HEADER | PRIO_FIX_HEADER_ONLY;
	return flags;
}

/* Contributions are rounded to what --explain prints, so the printed lines add up. */
static double round1(double x)
{
	double r = round(x * 10.0) / 10.0;

	return r == 0.0 ? 0.0 : r;
}

static struct prio_factor *factor_add(struct prio_result *ret, const char *name, double points)
{
	struct prio_factor *f = &ret->factors[ret->n_factors++];

	f->name = name;
	f->points = round1(points);
	f->value[0] = '\0';
	f->note[0] = '\0';
	return f;
}

static void set_text(char *buf, size_t size, const char *s)
{
	snprintf(buf, size, "%s", s ? s : "");
}

static bool cvss_usable(const char *vector, struct cvss31 *ret)
{
	return vector && cvss31_parse(vector, ret) >= 0;
}

/* Picks the CNA vector, else the NVD vector, else the NVD score, else the default. */
static double add_cvss(const struct prio_weights *w, const struct prio_input *in,
		       struct prio_result *ret, struct cvss31 *ret_vector, bool *ret_has_vector)
{
	const char *why_not_cna = in->cna_vector ? "CNA vector is not valid CVSS 3.x" :
						   "not scored by the CNA: a decision, not a gap";
	const char *nvd_bad = in->nvd_vector ? "; NVD vector is not valid" : "";
	char canon[CVSS31_BASE_VECTOR_SIZE] = "";
	struct prio_factor *f;
	double base;

	*ret_has_vector = true;
	if (cvss_usable(in->cna_vector, ret_vector)) {
		ret->cvss_source = PRIO_CVSS_CNA;
		base = cvss31_base_score(ret_vector);
		(void)cvss31_format(ret_vector, canon, sizeof(canon));
		f = factor_add(ret, "cvss", base * w->cvss_weight);
		snprintf(f->value, sizeof(f->value), "%.1f %s", base, canon);
		snprintf(f->note, sizeof(f->note), "CNA base score x%g", w->cvss_weight);
	} else if (cvss_usable(in->nvd_vector, ret_vector)) {
		ret->cvss_source = PRIO_CVSS_NVD;
		base = cvss31_base_score(ret_vector);
		(void)cvss31_format(ret_vector, canon, sizeof(canon));
		f = factor_add(ret, "cvss", base * w->cvss_weight);
		snprintf(f->value, sizeof(f->value), "%.1f %s", base, canon);
		snprintf(f->note, sizeof(f->note), "NVD base score x%g; %s", w->cvss_weight,
			 why_not_cna);
	} else if (in->nvd_score >= 0) {
		*ret_has_vector = false;
		ret->cvss_source = PRIO_CVSS_NVD;
		base = in->nvd_score;
		f = factor_add(ret, "cvss", base * w->cvss_weight);
		snprintf(f->value, sizeof(f->value), "%.1f", base);
		snprintf(f->note, sizeof(f->note), "NVD base score x%g; %s%s", w->cvss_weight,
			 why_not_cna, nvd_bad);
	} else {
		*ret_has_vector = false;
		ret->cvss_source = PRIO_CVSS_DEFAULT;
		base = w->default_cvss;
		f = factor_add(ret, "cvss", base * w->cvss_weight);
		snprintf(f->value, sizeof(f->value), "%.1f default", base);
		snprintf(f->note, sizeof(f->note), "%s; prio.default_cvss x%g%s", why_not_cna,
			 w->cvss_weight, nvd_bad);
	}
	ret->cvss_base = base;
	return f->points;
}

static double add_metric(struct prio_result *ret, const char *name, bool has_vector,
			 const char *value, double points, const char *note)
{
	struct prio_factor *f;

	if (!has_vector) {
		f = factor_add(ret, name, 0.0);
		set_text(f->value, sizeof(f->value), "unknown");
		set_text(f->note, sizeof(f->note), "no CVSS vector");
		return 0.0;
	}
	f = factor_add(ret, name, points);
	set_text(f->value, sizeof(f->value), value);
	set_text(f->note, sizeof(f->note), note);
	return f->points;
}

static double add_exposure(const struct prio_weights *w, struct prio_result *ret,
			   const struct cvss31 *c, bool has_vector)
{
	static const char *const av_notes[] = {
		[CVSS_AV_NETWORK] = "reachable over the network",
		[CVSS_AV_ADJACENT] = "reachable from the adjacent network",
		[CVSS_AV_LOCAL] = "needs local access",
		[CVSS_AV_PHYSICAL] = "needs physical access",
	};
	static const char *const pr_notes[] = {
		[CVSS_PR_NONE] = "no privileges needed",
		[CVSS_PR_LOW] = "an unprivileged user suffices",
		[CVSS_PR_HIGH] = "needs administrative privileges",
	};
	const double av[] = {
		[CVSS_AV_NETWORK] = w->av_network,
		[CVSS_AV_ADJACENT] = w->av_adjacent,
		[CVSS_AV_LOCAL] = w->av_local,
		[CVSS_AV_PHYSICAL] = w->av_physical,
	};
	const double pr[] = {
		[CVSS_PR_NONE] = w->pr_none,
		[CVSS_PR_LOW] = w->pr_low,
		[CVSS_PR_HIGH] = w->pr_high,
	};
	bool changed = has_vector && c->scope == CVSS_SCOPE_CHANGED;
	bool no_ui = has_vector && c->user_interaction == CVSS_UI_NONE;
	double sum = 0.0;

	sum += add_metric(ret, "attack-vector", has_vector,
			  has_vector ? cvss31_attack_vector_name(c) : NULL,
			  has_vector ? av[c->attack_vector] : 0.0,
			  has_vector ? av_notes[c->attack_vector] : NULL);
	sum += add_metric(ret, "privileges", has_vector,
			  has_vector ? cvss31_privileges_required_name(c) : NULL,
			  has_vector ? pr[c->privileges_required] : 0.0,
			  has_vector ? pr_notes[c->privileges_required] : NULL);
	sum += add_metric(ret, "user-interaction", has_vector,
			  has_vector ? cvss31_user_interaction_name(c) : NULL,
			  no_ui ? w->ui_none : w->ui_required,
			  no_ui ? "no user action needed" : "needs a user's action");
	sum += add_metric(ret, "scope", has_vector, has_vector ? cvss31_scope_name(c) : NULL,
			  changed ? w->scope_changed : 0.0,
			  changed ? "crosses a security boundary" : NULL);
	return sum;
}

/* Longest matching prefix for one file; NULL when none matches. */
static const struct prio_subsystem *subsystem_of(const struct prio_weights *w, const char *file)
{
	const struct prio_subsystem *best = NULL;
	size_t best_len = 0;

	for (size_t i = 0; i < w->n_subsystems; i++) {
		const struct prio_subsystem *s = &w->subsystems[i];
		size_t len = strlen(s->prefix);

		if (len > best_len && strncmp(file, s->prefix, len) == 0) {
			best = s;
			best_len = len;
		}
	}
	return best;
}

static void add_subsystem(const struct prio_weights *w, const struct prio_input *in,
			  struct prio_result *ret, double technical)
{
	const struct prio_subsystem *best = NULL;
	const char *best_file = NULL;
	struct prio_factor *f;

	/* A fix spanning subsystems counts where it is most exposed. */
	for (char *const *p = in->files; p && *p; p++) {
		const struct prio_subsystem *s;

		if (!is_kernel_file(*p))
			continue;
		s = subsystem_of(w, *p);
		if (s && (!best || s->factor > best->factor)) {
			best = s;
			best_file = *p;
		}
	}
	if (!best) {
		f = factor_add(ret, "subsystem", 0.0);
		set_text(f->value, sizeof(f->value), "none");
		set_text(f->note, sizeof(f->note), "no weight for the fix's files (x1)");
		return;
	}
	/* Scales exposure, so a negative technical part is not made worse by a weight > 1. */
	if (technical < 0.0)
		technical = 0.0;
	f = factor_add(ret, "subsystem", (best->factor - 1.0) * technical);
	snprintf(f->value, sizeof(f->value), "%s x%g (%s)", best->prefix, best->factor,
		 best_file);
	snprintf(f->note, sizeof(f->note), "x%g applied to %.1f CVSS and exposure points",
		 best->factor, technical);
}

static void add_kev(const struct prio_weights *w, const struct prio_input *in,
		    struct prio_result *ret)
{
	struct prio_factor *f = factor_add(ret, "kev", in->kev ? w->kev_bonus : 0.0);

	set_text(f->value, sizeof(f->value), in->kev ? "listed" : "not listed");
	if (in->kev)
		set_text(f->note, sizeof(f->note), "CISA KEV: exploited in the wild");
}

static void add_epss(const struct prio_weights *w, const struct prio_input *in,
		     struct prio_result *ret)
{
	struct prio_factor *f;

	if (in->epss_percentile < 0) {
		f = factor_add(ret, "epss", 0.0);
		if (in->epss_score >= 0)
			snprintf(f->value, sizeof(f->value), "score %.5f", in->epss_score);
		else
			set_text(f->value, sizeof(f->value), "unknown");
		set_text(f->note, sizeof(f->note), "no percentile, not scored");
		return;
	}
	f = factor_add(ret, "epss", in->epss_percentile * w->epss_weight);
	if (in->epss_score >= 0)
		snprintf(f->value, sizeof(f->value), "percentile %.3f, score %.5f",
			 in->epss_percentile, in->epss_score);
	else
		snprintf(f->value, sizeof(f->value), "percentile %.3f", in->epss_percentile);
	snprintf(f->note, sizeof(f->note), "percentile x%g; a weak signal for kernel CVEs",
		 w->epss_weight);
}

static void add_build(const struct prio_weights *w, const struct prio_input *in,
		      struct prio_result *ret)
{
	const char *value = "unknown", *note = "build status unknown";
	double points = 0.0;
	struct prio_factor *f;

	if (in->build == PRIO_BUILD_BUILTIN) {
		value = "built-in";
		note = "always in the running kernel";
		points = w->builtin_bonus;
	} else if (in->build == PRIO_BUILD_MODULE) {
		switch (in->module) {
		case PRIO_MODULE_LOADED:
			value = "module, loaded";
			note = "loaded on the node";
			points = w->module_loaded_bonus;
			break;
		case PRIO_MODULE_NOT_LOADED:
			value = "module, not loaded";
			note = "not loaded on the node; autoloading may still load it";
			points = -w->module_unloaded_penalty;
			break;
		default:
			value = "module";
			note = "load state unknown";
			break;
		}
	}
	f = factor_add(ret, "build", points);
	set_text(f->value, sizeof(f->value), value);
	set_text(f->note, sizeof(f->note), note);
}

static void add_livepatch(const struct prio_weights *w, const struct prio_input *in,
			  struct prio_result *ret)
{
	static const struct {
		unsigned flag;
		const char *name;
	} flags[] = {
		{ PRIO_FIX_HEADER, "header" },     { PRIO_FIX_HEADER_ONLY, "header-only" },
		{ PRIO_FIX_DATA, "struct/data" }, { PRIO_FIX_INIT, "__init" },
		{ PRIO_FIX_ASM, "assembly" },
	};
	const double penalties[ARRAY_SIZE(flags)] = {
		w->livepatch_header_penalty, w->livepatch_header_only_penalty,
		w->livepatch_data_penalty,   w->livepatch_init_penalty,
		w->livepatch_asm_penalty,
	};
	unsigned set = in->fix_flags | prio_fix_flags_from_files(in->files);
	double points = 0.0;
	struct prio_factor *f;
	size_t len = 0;

	ret->fix_flags = set;
	f = factor_add(ret, "livepatch", 0.0);
	for (size_t i = 0; i < ARRAY_SIZE(flags); i++) {
		if (!(set & flags[i].flag))
			continue;
		points -= penalties[i];
		if (len < sizeof(f->value))
			len += (size_t)snprintf(f->value + len, sizeof(f->value) - len, "%s%s",
						len ? ", " : "", flags[i].name);
	}
	f->points = round1(points);
	if (set) {
		set_text(f->note, sizeof(f->note),
			 "harder to livepatch: kpatch patches functions, not data");
	} else {
		set_text(f->value, sizeof(f->value), "none");
		set_text(f->note, sizeof(f->note),
			 in->files && *in->files ? "no obstacle seen in the file names" :
						   "no fix files known");
	}
}

enum prio_severity prio_severity_from_score(const struct prio_weights *w, double score)
{
	if (score >= w->threshold_critical)
		return PRIO_SEVERITY_CRITICAL;
	if (score >= w->threshold_high)
		return PRIO_SEVERITY_HIGH;
	if (score >= w->threshold_medium)
		return PRIO_SEVERITY_MEDIUM;
	return PRIO_SEVERITY_LOW;
}

static int input_check(const struct prio_input *in)
{
	if (in->cve_id && strlen(in->cve_id) >= PRIO_CVE_ID_MAX)
		return -EINVAL;
	if ((unsigned)in->build >= _PRIO_BUILD_MAX || (unsigned)in->module >= _PRIO_MODULE_MAX)
		return -EINVAL;
	if (in->fix_flags & ~(unsigned)_PRIO_FIX_ALL)
		return -EINVAL;
	/* NaN fails every comparison, so test the valid range and negate. */
	if (!(in->nvd_score <= 10.0) || !(in->epss_score <= 1.0) || !(in->epss_percentile <= 1.0))
		return -EINVAL;
	return 0;
}

int prio_score(const struct prio_weights *w, const struct prio_input *in, struct prio_result *ret)
{
	struct cvss31 vector = { 0 };
	double technical, sum = 0.0;
	bool has_vector;
	int r;

	if (!w || !in || !ret)
		return -EINVAL;
	r = input_check(in);
	if (r < 0)
		return r;

	ret->n_factors = 0;
	set_text(ret->cve_id, sizeof(ret->cve_id), in->cve_id);
	ret->kev = in->kev;
	technical = add_cvss(w, in, ret, &vector, &has_vector);
	technical += add_exposure(w, ret, &vector, has_vector);
	add_subsystem(w, in, ret, technical);
	add_kev(w, in, ret);
	add_epss(w, in, ret);
	add_build(w, in, ret);
	add_livepatch(w, in, ret);

	for (size_t i = 0; i < ret->n_factors; i++)
		sum += ret->factors[i].points;
	sum = round1(sum);
	if (sum > 100.0 || sum < 0.0) {
		struct prio_factor *f = factor_add(ret, "cap", (sum > 100.0 ? 100.0 : 0.0) - sum);

		snprintf(f->value, sizeof(f->value), "%.1f", sum);
		set_text(f->note, sizeof(f->note), "the score is limited to 0..100");
		sum = sum > 100.0 ? 100.0 : 0.0;
	}
	ret->score = sum;
	ret->severity = prio_severity_from_score(w, sum);
	ret->canonical_livepatch = ret->severity >= PRIO_SEVERITY_HIGH;
	ret->redhat_kpatch = ret->severity >= PRIO_SEVERITY_HIGH;
	return 0;
}

/* "CVE-YYYY-N..." -> year and number; false for anything else. */
static bool cve_id_parse(const char *s, uint64_t *ret_year, uint64_t *ret_num)
{
	uint64_t part[2] = { 0, 0 };

	if (strncasecmp(s, "CVE-", 4) != 0)
		return false;
	s += 4;
	for (int i = 0; i < 2; i++) {
		const char *start = s;

		for (; *s >= '0' && *s <= '9'; s++) {
			if (s - start >= 18)
				return false;
			part[i] = part[i] * 10 + (uint64_t)(*s - '0');
		}
		if (s == start || *s != (i == 0 ? '-' : '\0'))
			return false;
		if (i == 0)
			s++;
	}
	*ret_year = part[0];
	*ret_num = part[1];
	return true;
}

static int cmp_desc_u64(uint64_t a, uint64_t b)
{
	return a > b ? -1 : a < b ? 1 : 0;
}

int prio_result_compare(const struct prio_result *a, const struct prio_result *b)
{
	uint64_t ya, na, yb, nb;
	bool pa, pb;

	if (a->score != b->score)
		return a->score > b->score ? -1 : 1;
	if (a->kev != b->kev)
		return a->kev ? -1 : 1;
	pa = cve_id_parse(a->cve_id, &ya, &na);
	pb = cve_id_parse(b->cve_id, &yb, &nb);
	if (pa != pb)
		return pa ? -1 : 1;
	if (pa && ya != yb)
		return cmp_desc_u64(ya, yb);
	if (pa && na != nb)
		return cmp_desc_u64(na, nb);
	/* Keeps the order total for odd or missing ids. */
	return strcmp(a->cve_id, b->cve_id);
}

int prio_result_compare_qsort(const void *a, const void *b)
{
	return prio_result_compare(a, b);
}

static const char *const severity_names[_PRIO_SEVERITY_MAX] = {
	[PRIO_SEVERITY_LOW] = "low",
	[PRIO_SEVERITY_MEDIUM] = "medium",
	[PRIO_SEVERITY_HIGH] = "high",
	[PRIO_SEVERITY_CRITICAL] = "critical",
};

static const char *const redhat_names[_PRIO_SEVERITY_MAX] = {
	[PRIO_SEVERITY_LOW] = "low",
	[PRIO_SEVERITY_MEDIUM] = "moderate",
	[PRIO_SEVERITY_HIGH] = "important",
	[PRIO_SEVERITY_CRITICAL] = "critical",
};

static const char *const build_names[_PRIO_BUILD_MAX] = {
	[PRIO_BUILD_UNKNOWN] = "unknown",
	[PRIO_BUILD_BUILTIN] = "built-in",
	[PRIO_BUILD_MODULE] = "module",
};

static const char *const module_names[_PRIO_MODULE_MAX] = {
	[PRIO_MODULE_UNKNOWN] = "unknown",
	[PRIO_MODULE_LOADED] = "loaded",
	[PRIO_MODULE_NOT_LOADED] = "not-loaded",
};

static const char *const cvss_source_names[_PRIO_CVSS_SOURCE_MAX] = {
	[PRIO_CVSS_CNA] = "cna",
	[PRIO_CVSS_NVD] = "nvd",
	[PRIO_CVSS_DEFAULT] = "default",
};

static const char *table_to_string(const char *const *names, int max, int v)
{
	return v >= 0 && v < max ? names[v] : NULL;
}

static int table_from_string(const char *const *names, int max, const char *s)
{
	if (!s)
		return -EINVAL;
	for (int i = 0; i < max; i++)
		if (strcasecmp(names[i], s) == 0)
			return i;
	return -EINVAL;
}

const char *prio_severity_to_string(enum prio_severity s)
{
	return table_to_string(severity_names, _PRIO_SEVERITY_MAX, (int)s);
}

enum prio_severity prio_severity_from_string(const char *s)
{
	return (enum prio_severity)table_from_string(severity_names, _PRIO_SEVERITY_MAX, s);
}

const char *prio_severity_to_redhat_string(enum prio_severity s)
{
	return table_to_string(redhat_names, _PRIO_SEVERITY_MAX, (int)s);
}

const char *prio_build_to_string(enum prio_build b)
{
	return table_to_string(build_names, _PRIO_BUILD_MAX, (int)b);
}

enum prio_build prio_build_from_string(const char *s)
{
	return (enum prio_build)table_from_string(build_names, _PRIO_BUILD_MAX, s);
}

const char *prio_module_state_to_string(enum prio_module_state m)
{
	return table_to_string(module_names, _PRIO_MODULE_MAX, (int)m);
}

enum prio_module_state prio_module_state_from_string(const char *s)
{
	return (enum prio_module_state)table_from_string(module_names, _PRIO_MODULE_MAX, s);
}

const char *prio_cvss_source_to_string(enum prio_cvss_source s)
{
	return table_to_string(cvss_source_names, _PRIO_CVSS_SOURCE_MAX, (int)s);
}
