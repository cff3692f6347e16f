/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * CVSS 3.x base metrics: vector parsing, the base score of the CVSS 3.1
 * specification (section 7.1 and the Roundup of Appendix A) and string names
 * for each metric value.
 *
 * The string names are the enumeration values of the CVSS JSON schema
 * ("NETWORK", "ADJACENT_NETWORK", "REQUIRED", "UNCHANGED", ...) so that human
 * and --json output use the same words.
 *
 * All functions are pure and thread-safe.
 */
#ifndef TUXTAPE_CVE_CVSS_H
#define TUXTAPE_CVE_CVSS_H

#include <errno.h>
#include <stddef.h>

/* Longest vector string accepted, base plus every temporal/environmental metric. */
#define CVSS_VECTOR_MAX 256
/* Buffer size for cvss31_format(): "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" + NUL. */
#define CVSS31_BASE_VECTOR_SIZE 45

enum cvss_attack_vector {
	CVSS_AV_NETWORK,
	CVSS_AV_ADJACENT,
	CVSS_AV_LOCAL,
	CVSS_AV_PHYSICAL,
	_CVSS_AV_MAX,
	_CVSS_AV_INVALID = -EINVAL,
};

enum cvss_attack_complexity {
	CVSS_AC_LOW,
	CVSS_AC_HIGH,
	_CVSS_AC_MAX,
	_CVSS_AC_INVALID = -EINVAL,
};

enum cvss_privileges_required {
	CVSS_PR_NONE,
	CVSS_PR_LOW,
	CVSS_PR_HIGH,
	_CVSS_PR_MAX,
	_CVSS_PR_INVALID = -EINVAL,
};

enum cvss_user_interaction {
	CVSS_UI_NONE,
	CVSS_UI_REQUIRED,
	_CVSS_UI_MAX,
	_CVSS_UI_INVALID = -EINVAL,
};

enum cvss_scope {
	CVSS_SCOPE_UNCHANGED,
	CVSS_SCOPE_CHANGED,
	_CVSS_SCOPE_MAX,
	_CVSS_SCOPE_INVALID = -EINVAL,
};

/* Confidentiality, integrity and availability impact share one scale. */
enum cvss_impact {
	CVSS_IMPACT_NONE,
	CVSS_IMPACT_LOW,
	CVSS_IMPACT_HIGH,
	_CVSS_IMPACT_MAX,
	_CVSS_IMPACT_INVALID = -EINVAL,
};

struct cvss31 {
	int minor_version; /* 0 for "CVSS:3.0/", 1 for "CVSS:3.1/" */
	enum cvss_attack_vector attack_vector;
	enum cvss_attack_complexity attack_complexity;
	enum cvss_privileges_required privileges_required;
	enum cvss_user_interaction user_interaction;
	enum cvss_scope scope;
	enum cvss_impact confidentiality;
	enum cvss_impact integrity;
	enum cvss_impact availability;
};

/*
 * Parses a CVSS 3.0 or 3.1 vector string such as
 * "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H".  All eight base metrics are
 * required, in any order.  Temporal and environmental metrics (E, RL, RC, CR,
 * IR, AR, MAV, ...) are checked for valid values and otherwise ignored.
 *
 * Returns 0 and fills *ret, or -EBADMSG when the string is longer than
 * CVSS_VECTOR_MAX, has another prefix, or has an empty, unknown, duplicate or
 * missing metric or an invalid value.  *ret is written only on success.
 */
int cvss31_parse(const char *vector, struct cvss31 *ret);

/*
 * The base score, 0.0 .. 10.0 in steps of 0.1.  3.1 vectors use the
 * integer-based Roundup of the 3.1 specification, 3.0 vectors the plain
 * round-up to one decimal of the 3.0 specification.  -1 when c is NULL or
 * holds a value outside its enum (it did not come from cvss31_parse()).
 */
double cvss31_base_score(const struct cvss31 *c);

/* Sub-scores as NVD shows them (rounded to one decimal, not rounded up); -1 as above. */
double cvss31_exploitability_score(const struct cvss31 *c);
double cvss31_impact_score(const struct cvss31 *c);

/*
 * Writes the canonical base vector ("CVSS:3.x/AV:.../A:x", base metrics only,
 * specification order) into buf of at least CVSS31_BASE_VECTOR_SIZE bytes.
 * Returns 0, -ENOBUFS when size is too small or -EINVAL for an invalid c.
 */
int cvss31_format(const struct cvss31 *c, char *buf, size_t size);

/*
 * Qualitative severity rating of a base score: "NONE" (0.0), "LOW" (0.1-3.9),
 * "MEDIUM" (4.0-6.9), "HIGH" (7.0-8.9), "CRITICAL" (9.0-10.0).  NULL for a
 * score outside 0.0 .. 10.0 (e.g. the -1 of a record without a vector).
 */
const char *cvss_severity_name(double score);

/*
 * Value <-> name tables.  *_to_string() returns NULL for an out-of-range
 * value; *_from_string() accepts the schema name or the one-letter vector
 * abbreviation and returns the value or -EINVAL.
 */
const char *cvss_attack_vector_to_string(enum cvss_attack_vector v);
enum cvss_attack_vector cvss_attack_vector_from_string(const char *s);
const char *cvss_attack_complexity_to_string(enum cvss_attack_complexity v);
enum cvss_attack_complexity cvss_attack_complexity_from_string(const char *s);
const char *cvss_privileges_required_to_string(enum cvss_privileges_required v);
enum cvss_privileges_required cvss_privileges_required_from_string(const char *s);
const char *cvss_user_interaction_to_string(enum cvss_user_interaction v);
enum cvss_user_interaction cvss_user_interaction_from_string(const char *s);
const char *cvss_scope_to_string(enum cvss_scope v);
enum cvss_scope cvss_scope_from_string(const char *s);
const char *cvss_impact_to_string(enum cvss_impact v);
enum cvss_impact cvss_impact_from_string(const char *s);

/* Shorthands for a parsed vector, e.g. cvss31_attack_vector_name(c) == "LOCAL". */
const char *cvss31_attack_vector_name(const struct cvss31 *c);
const char *cvss31_attack_complexity_name(const struct cvss31 *c);
const char *cvss31_privileges_required_name(const struct cvss31 *c);
const char *cvss31_user_interaction_name(const struct cvss31 *c);
const char *cvss31_scope_name(const struct cvss31 *c);
const char *cvss31_confidentiality_name(const struct cvss31 *c);
const char *cvss31_integrity_name(const struct cvss31 *c);
const char *cvss31_availability_name(const struct cvss31 *c);

#endif
