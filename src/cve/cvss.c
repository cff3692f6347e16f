/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cvss.h"
#include "macro.h"

/*
 * Every metric a 3.x vector may carry.  The value letters are listed in enum
 * order for the base metrics, so a letter's position is the enum value.
 */
enum {
	M_AV,
	M_AC,
	M_PR,
	M_UI,
	M_S,
	M_C,
	M_I,
	M_A,
	_M_BASE_MAX,
};

struct metric_def {
	const char *name;
	const char *values;
};

static const struct metric_def metric_defs[] = {
	[M_AV] = { "AV", "NALP" },
	[M_AC] = { "AC", "LH" },
	[M_PR] = { "PR", "NLH" },
	[M_UI] = { "UI", "NR" },
	[M_S] = { "S", "UC" },
	[M_C] = { "C", "NLH" },
	[M_I] = { "I", "NLH" },
	[M_A] = { "A", "NLH" },
	/* temporal */
	{ "E", "XUPFH" },
	{ "RL", "XOTWU" },
	{ "RC", "XURC" },
	/* environmental */
	{ "CR", "XLMH" },
	{ "IR", "XLMH" },
	{ "AR", "XLMH" },
	{ "MAV", "XNALP" },
	{ "MAC", "XLH" },
	{ "MPR", "XNLH" },
	{ "MUI", "XNR" },
	{ "MS", "XUC" },
	{ "MC", "XNLH" },
	{ "MI", "XNLH" },
	{ "MA", "XNLH" },
};

static int metric_lookup(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(metric_defs); i++)
		if (strlen(metric_defs[i].name) == len &&
		    memcmp(metric_defs[i].name, name, len) == 0)
			return (int)i;
	return -1;
}

int cvss31_parse(const char *vector, struct cvss31 *ret)
{
	int base[_M_BASE_MAX] = { 0 };
	uint32_t seen = 0;
	int minor;
	const char *p;

	if (!vector || strnlen(vector, CVSS_VECTOR_MAX + 1) > CVSS_VECTOR_MAX)
		return -EBADMSG;
	if (strncmp(vector, "CVSS:3.1/", 9) == 0)
		minor = 1;
	else if (strncmp(vector, "CVSS:3.0/", 9) == 0)
		minor = 0;
	else
		return -EBADMSG;

	p = vector + 9;
	for (;;) {
		const char *end = strchrnul(p, '/'), *colon, *v;
		int m;

		colon = memchr(p, ':', (size_t)(end - p));
		/* exactly one value letter after the colon */
		if (!colon || end - colon != 2)
			return -EBADMSG;
		m = metric_lookup(p, (size_t)(colon - p));
		if (m < 0 || (seen & (1u << m)))
			return -EBADMSG;
		seen |= 1u << m;
		v = colon[1] ? strchr(metric_defs[m].values, colon[1]) : NULL;
		if (!v)
			return -EBADMSG;
		if (m < _M_BASE_MAX)
			base[m] = (int)(v - metric_defs[m].values);
		if (!*end)
			break;
		p = end + 1;
	}
	if ((seen & ((1u << _M_BASE_MAX) - 1)) != (1u << _M_BASE_MAX) - 1)
		return -EBADMSG;

	*ret = (struct cvss31){
		.minor_version = minor,
		.attack_vector = base[M_AV],
		.attack_complexity = base[M_AC],
		.privileges_required = base[M_PR],
		.user_interaction = base[M_UI],
		.scope = base[M_S],
		.confidentiality = base[M_C],
		.integrity = base[M_I],
		.availability = base[M_A],
	};
	return 0;
}

/* Weights from section 7.4 of the 3.1 specification (identical in 3.0). */
static const double av_weight[_CVSS_AV_MAX] = { 0.85, 0.62, 0.55, 0.2 };
static const double ac_weight[_CVSS_AC_MAX] = { 0.77, 0.44 };
static const double pr_weight_unchanged[_CVSS_PR_MAX] = { 0.85, 0.62, 0.27 };
static const double pr_weight_changed[_CVSS_PR_MAX] = { 0.85, 0.68, 0.5 };
static const double ui_weight[_CVSS_UI_MAX] = { 0.85, 0.62 };
static const double cia_weight[_CVSS_IMPACT_MAX] = { 0, 0.22, 0.56 };

/*
 * Appendix A of 3.1: work on an integer of 1e-5 units so that results like
 * 4.000000000001 from binary floating point do not round up to 4.1.
 */
static double roundup31(double x)
{
	long long i = llround(x * 100000.0);

	if (i % 10000 == 0)
		return (double)i / 100000.0;
	return (double)(i / 10000 + 1) / 10.0;
}

/* 3.0 defined Roundup as the smallest one-decimal number >= x, nothing more. */
static double roundup30(double x)
{
	return ceil(x * 10.0) / 10.0;
}

static bool cvss_valid(const struct cvss31 *c)
{
	return c && (unsigned)c->attack_vector < _CVSS_AV_MAX &&
	       (unsigned)c->attack_complexity < _CVSS_AC_MAX &&
	       (unsigned)c->privileges_required < _CVSS_PR_MAX &&
	       (unsigned)c->user_interaction < _CVSS_UI_MAX &&
	       (unsigned)c->scope < _CVSS_SCOPE_MAX &&
	       (unsigned)c->confidentiality < _CVSS_IMPACT_MAX &&
	       (unsigned)c->integrity < _CVSS_IMPACT_MAX &&
	       (unsigned)c->availability < _CVSS_IMPACT_MAX;
}

static double exploitability(const struct cvss31 *c)
{
	const double *pr = c->scope == CVSS_SCOPE_CHANGED ? pr_weight_changed : pr_weight_unchanged;

	return 8.22 * av_weight[c->attack_vector] * ac_weight[c->attack_complexity] *
	       pr[c->privileges_required] * ui_weight[c->user_interaction];
}

static double impact(const struct cvss31 *c)
{
	double iss = 1.0 - (1.0 - cia_weight[c->confidentiality]) *
				   (1.0 - cia_weight[c->integrity]) *
				   (1.0 - cia_weight[c->availability]);

	if (c->scope == CVSS_SCOPE_UNCHANGED)
		return 6.42 * iss;
	return 7.52 * (iss - 0.029) - 3.25 * pow(iss - 0.02, 15);
}

double cvss31_base_score(const struct cvss31 *c)
{
	double imp, sum;

	if (!cvss_valid(c))
		return -1;
	imp = impact(c);
	if (imp <= 0)
		return 0;
	sum = imp + exploitability(c);
	if (c->scope == CVSS_SCOPE_CHANGED)
		sum *= 1.08;
	if (sum > 10)
		sum = 10;
	return c->minor_version == 0 ? roundup30(sum) : roundup31(sum);
}

static double round1(double x)
{
	return round(x * 10.0) / 10.0;
}

double cvss31_exploitability_score(const struct cvss31 *c)
{
	return cvss_valid(c) ? round1(exploitability(c)) : -1;
}

double cvss31_impact_score(const struct cvss31 *c)
{
	double imp;

	if (!cvss_valid(c))
		return -1;
	imp = impact(c);
	return imp <= 0 ? 0 : round1(imp);
}

int cvss31_format(const struct cvss31 *c, char *buf, size_t size)
{
	int n;

	if (!cvss_valid(c))
		return -EINVAL;
	n = snprintf(buf, size, "CVSS:3.%d/AV:%c/AC:%c/PR:%c/UI:%c/S:%c/C:%c/I:%c/A:%c",
		     c->minor_version == 0 ? 0 : 1, metric_defs[M_AV].values[c->attack_vector],
		     metric_defs[M_AC].values[c->attack_complexity],
		     metric_defs[M_PR].values[c->privileges_required],
		     metric_defs[M_UI].values[c->user_interaction],
		     metric_defs[M_S].values[c->scope], metric_defs[M_C].values[c->confidentiality],
		     metric_defs[M_I].values[c->integrity],
		     metric_defs[M_A].values[c->availability]);
	if (n < 0 || (size_t)n >= size)
		return -ENOBUFS;
	return 0;
}

const char *cvss_severity_name(double score)
{
	long tenths;

	if (!(score >= 0 && score <= 10))
		return NULL;
	/* compare in tenths: the bands are defined on one-decimal scores */
	tenths = lround(score * 10);
	if (tenths == 0)
		return "NONE";
	if (tenths < 40)
		return "LOW";
	if (tenths < 70)
		return "MEDIUM";
	if (tenths < 90)
		return "HIGH";
	return "CRITICAL";
}

static const char *const av_names[_CVSS_AV_MAX] = {
	[CVSS_AV_NETWORK] = "NETWORK",
	[CVSS_AV_ADJACENT] = "ADJACENT_NETWORK",
	[CVSS_AV_LOCAL] = "LOCAL",
	[CVSS_AV_PHYSICAL] = "PHYSICAL",
};
static const char *const ac_names[_CVSS_AC_MAX] = {
	[CVSS_AC_LOW] = "LOW",
	[CVSS_AC_HIGH] = "HIGH",
};
static const char *const pr_names[_CVSS_PR_MAX] = {
	[CVSS_PR_NONE] = "NONE",
	[CVSS_PR_LOW] = "LOW",
	[CVSS_PR_HIGH] = "HIGH",
};
static const char *const ui_names[_CVSS_UI_MAX] = {
	[CVSS_UI_NONE] = "NONE",
	[CVSS_UI_REQUIRED] = "REQUIRED",
};
static const char *const scope_names[_CVSS_SCOPE_MAX] = {
	[CVSS_SCOPE_UNCHANGED] = "UNCHANGED",
	[CVSS_SCOPE_CHANGED] = "CHANGED",
};
static const char *const impact_names[_CVSS_IMPACT_MAX] = {
	[CVSS_IMPACT_NONE] = "NONE",
	[CVSS_IMPACT_LOW] = "LOW",
	[CVSS_IMPACT_HIGH] = "HIGH",
};

static const char *table_to_string(const char *const *names, int max, int v)
{
	return v >= 0 && v < max ? names[v] : NULL;
}

/* Accepts the schema name or the vector letter of the matching metric. */
static int table_from_string(const char *const *names, int max, int metric, const char *s)
{
	const char *letter;

	if (!s || !*s)
		return -EINVAL;
	for (int i = 0; i < max; i++)
		if (streq(names[i], s))
			return i;
	if (s[1] == '\0') {
		letter = strchr(metric_defs[metric].values, s[0]);
		if (letter)
			return (int)(letter - metric_defs[metric].values);
	}
	return -EINVAL;
}

#define DEFINE_CVSS_STRING_TABLE(type, fn, names, max, metric)                                     \
	const char *cvss_##fn##_to_string(enum type v)                                             \
	{                                                                                          \
		return table_to_string(names, max, (int)v);                                        \
	}                                                                                          \
	enum type cvss_##fn##_from_string(const char *s)                                           \
	{                                                                                          \
		return (enum type)table_from_string(names, max, metric, s);                        \
	}

DEFINE_CVSS_STRING_TABLE(cvss_attack_vector, attack_vector, av_names, _CVSS_AV_MAX, M_AV)
DEFINE_CVSS_STRING_TABLE(cvss_attack_complexity, attack_complexity, ac_names, _CVSS_AC_MAX, M_AC)
DEFINE_CVSS_STRING_TABLE(cvss_privileges_required, privileges_required, pr_names, _CVSS_PR_MAX,
			 M_PR)
DEFINE_CVSS_STRING_TABLE(cvss_user_interaction, user_interaction, ui_names, _CVSS_UI_MAX, M_UI)
DEFINE_CVSS_STRING_TABLE(cvss_scope, scope, scope_names, _CVSS_SCOPE_MAX, M_S)
DEFINE_CVSS_STRING_TABLE(cvss_impact, impact, impact_names, _CVSS_IMPACT_MAX, M_C)

const char *cvss31_attack_vector_name(const struct cvss31 *c)
{
	return cvss_attack_vector_to_string(c->attack_vector);
}

const char *cvss31_attack_complexity_name(const struct cvss31 *c)
{
	return cvss_attack_complexity_to_string(c->attack_complexity);
}

const char *cvss31_privileges_required_name(const struct cvss31 *c)
{
	return cvss_privileges_required_to_string(c->privileges_required);
}

const char *cvss31_user_interaction_name(const struct cvss31 *c)
{
	return cvss_user_interaction_to_string(c->user_interaction);
}

const char *cvss31_scope_name(const struct cvss31 *c)
{
	return cvss_scope_to_string(c->scope);
}

const char *cvss31_confidentiality_name(const struct cvss31 *c)
{
	return cvss_impact_to_string(c->confidentiality);
}

const char *cvss31_integrity_name(const struct cvss31 *c)
{
	return cvss_impact_to_string(c->integrity);
}

const char *cvss31_availability_name(const struct cvss31 *c)
{
	return cvss_impact_to_string(c->availability);
}
