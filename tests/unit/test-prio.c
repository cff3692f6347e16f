/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cvss.h"
#include "parse-util.h"
#include "prio.h"
#include "test-lib.h"

#define V_LOCAL_HIGH "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"   /* 7.8 */
#define V_NET_CRIT "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"     /* 9.8 */
#define V_LOCAL_MEDIUM "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:N/I:N/A:H" /* 5.5 */

static struct prio_weights defaults;

static int setup(void **state)
{
	prio_weights_init(&defaults);
	return 0;
}

static const struct prio_factor *factor(const struct prio_result *r, const char *name)
{
	static const struct prio_factor missing = { .name = "" };

	for (size_t i = 0; i < r->n_factors; i++)
		if (streq(r->factors[i].name, name))
			return &r->factors[i];
	fail_msg("no factor '%s'", name);
	return &missing;
}

/* Every result must explain itself: the factors add up to the score. */
static void check_sum(const struct prio_result *r)
{
	double sum = 0.0;

	assert_true(r->n_factors <= PRIO_FACTORS_MAX);
	for (size_t i = 0; i < r->n_factors; i++) {
		assert_non_null(r->factors[i].name);
		assert_true(r->factors[i].value[0] != '\0');
		sum += r->factors[i].points;
	}
	if (fabs(sum - r->score) > 1e-9)
		fail_msg("factors sum to %f, score is %f", sum, r->score);
	assert_true(r->score >= 0.0 && r->score <= 100.0);
}

static struct prio_result score(const struct prio_weights *w, const struct prio_input *in)
{
	struct prio_result r;

	assert_int_equal(prio_score(w, in, &r), 0);
	check_sum(&r);
	return r;
}

static void test_factors_sum(void **state)
{
	char *files[] = { "net/ipv4/tcp.c", "include/net/tcp.h", "arch/x86/entry/entry_64.S",
			  NULL };
	const char *vectors[] = { NULL, V_LOCAL_HIGH, V_NET_CRIT, V_LOCAL_MEDIUM,
				  "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N" };
	struct prio_input in;

	for (size_t v = 0; v < ARRAY_SIZE(vectors); v++)
		for (int kev = 0; kev <= 1; kev++)
			for (int b = 0; b < _PRIO_BUILD_MAX; b++)
				for (int m = 0; m < _PRIO_MODULE_MAX; m++) {
					struct prio_result r;

					prio_input_init(&in);
					in.cve_id = "CVE-2024-1";
					in.cna_vector = vectors[v];
					in.kev = kev;
					in.build = (enum prio_build)b;
					in.module = (enum prio_module_state)m;
					in.epss_percentile = 0.37;
					in.epss_score = 0.0004;
					in.files = m == 1 ? files : NULL;
					in.fix_flags = m == 2 ? PRIO_FIX_DATA | PRIO_FIX_INIT : 0;
					r = score(&defaults, &in);
					assert_string_equal(r.cve_id, "CVE-2024-1");
					assert_int_equal(r.severity, prio_severity_from_score(
									     &defaults, r.score));
				}

	/* Over 100: a "cap" factor keeps the sum equal to the score. */
	prio_input_init(&in);
	in.cna_vector = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H";
	in.kev = true;
	in.epss_percentile = 1.0;
	in.build = PRIO_BUILD_BUILTIN;
	in.files = files + 0;
	files[1] = NULL;
	{
		struct prio_result r = score(&defaults, &in);

		assert_true(r.score == 100.0);
		assert_true(factor(&r, "cap")->points < 0);
	}
}

static void test_kev_alone_critical(void **state)
{
	struct prio_input in;
	struct prio_result r;

	prio_input_init(&in);
	r = score(&defaults, &in);
	assert_int_equal(r.severity, PRIO_SEVERITY_MEDIUM);
	assert_true(factor(&r, "kev")->points == 0.0);

	in.kev = true;
	r = score(&defaults, &in);
	assert_int_equal(r.severity, PRIO_SEVERITY_CRITICAL);
	assert_true(r.kev);
	assert_true(factor(&r, "kev")->points == defaults.kev_bonus);
	assert_true(defaults.kev_bonus >= defaults.threshold_critical);
	assert_true(r.canonical_livepatch && r.redhat_kpatch);

	/* Even a physical, low-impact vector: KEV still decides. */
	in.cna_vector = "CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N";
	r = score(&defaults, &in);
	assert_int_equal(r.severity, PRIO_SEVERITY_CRITICAL);
}

static void test_cna_beats_nvd(void **state)
{
	struct prio_input in;
	struct prio_result r;

	prio_input_init(&in);
	in.cna_vector = V_LOCAL_MEDIUM;
	in.nvd_vector = V_NET_CRIT;
	in.nvd_score = 9.8;
	r = score(&defaults, &in);
	assert_int_equal(r.cvss_source, PRIO_CVSS_CNA);
	assert_true(r.cvss_base == 5.5);
	assert_true(factor(&r, "cvss")->points == 27.5);
	assert_string_equal(factor(&r, "attack-vector")->value, "LOCAL");
	assert_non_null(strstr(factor(&r, "cvss")->value, V_LOCAL_MEDIUM));

	/* No CNA vector: NVD's, with the reason in the note. */
	in.cna_vector = NULL;
	r = score(&defaults, &in);
	assert_int_equal(r.cvss_source, PRIO_CVSS_NVD);
	assert_true(r.cvss_base == 9.8);
	assert_string_equal(factor(&r, "attack-vector")->value, "NETWORK");
	assert_non_null(strstr(factor(&r, "cvss")->note, "a decision, not a gap"));

	/* An invalid CNA vector falls through, and says so. */
	in.cna_vector = "CVSS:3.1/AV:X";
	r = score(&defaults, &in);
	assert_int_equal(r.cvss_source, PRIO_CVSS_NVD);
	assert_non_null(strstr(factor(&r, "cvss")->note, "not valid"));

	/* NVD score without a vector: no exposure adjustments. */
	in.cna_vector = NULL;
	in.nvd_vector = NULL;
	in.nvd_score = 7.5;
	r = score(&defaults, &in);
	assert_int_equal(r.cvss_source, PRIO_CVSS_NVD);
	assert_true(r.cvss_base == 7.5);
	assert_string_equal(factor(&r, "attack-vector")->value, "unknown");
	assert_true(factor(&r, "attack-vector")->points == 0.0);
}

static void test_no_vector_default(void **state)
{
	_cleanup_(config_freep) struct config *c = config_new();
	struct prio_weights w;
	struct prio_input in;
	struct prio_result r;

	prio_input_init(&in);
	r = score(&defaults, &in);
	assert_int_equal(r.cvss_source, PRIO_CVSS_DEFAULT);
	assert_true(r.cvss_base == 5.0);
	assert_true(factor(&r, "cvss")->points == 25.0);
	assert_non_null(strstr(factor(&r, "cvss")->note,
			       "not scored by the CNA: a decision, not a gap"));
	assert_string_equal(factor(&r, "scope")->note, "no CVSS vector");
	assert_true(r.score == 25.0);

	assert_non_null(c);
	assert_int_equal(config_load_string(c, "[prio]\ndefault_cvss = 6.5\n", "t", NULL), 0);
	assert_int_equal(prio_weights_load(&w, c, NULL, 0), 0);
	r = score(&w, &in);
	assert_true(r.cvss_base == 6.5);
	assert_true(r.score == 32.5);
}

static void test_attack_vector_order(void **state)
{
	static const char *const av[] = { "N", "A", "L", "P" };
	double previous = 1000.0;
	struct prio_input in;

	prio_input_init(&in);
	in.build = PRIO_BUILD_BUILTIN;
	for (size_t i = 0; i < ARRAY_SIZE(av); i++) {
		char vector[64];
		struct prio_result r;

		snprintf(vector, sizeof(vector), "CVSS:3.1/AV:%s/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
			 av[i]);
		in.cna_vector = vector;
		r = score(&defaults, &in);
		if (!(r.score < previous))
			fail_msg("AV:%s scores %.1f, not below %.1f", av[i], r.score, previous);
		previous = r.score;
	}

	/* Privileges N > L > H, UI N > R, scope changed > unchanged. */
	{
		const char *ordered[] = {
			"CVSS:3.1/AV:L/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
			"CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
			"CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:H/I:H/A:H",
			"CVSS:3.1/AV:L/AC:L/PR:H/UI:R/S:U/C:H/I:H/A:H",
		};

		previous = 1000.0;
		for (size_t i = 0; i < ARRAY_SIZE(ordered); i++) {
			struct prio_result r;

			in.cna_vector = ordered[i];
			r = score(&defaults, &in);
			assert_true(r.score < previous);
			previous = r.score;
		}
		in.cna_vector = V_LOCAL_HIGH;
		previous = score(&defaults, &in).score;
		in.cna_vector = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H";
		assert_true(score(&defaults, &in).score > previous);
	}
}

static void test_module_state(void **state)
{
	struct prio_input in;
	double builtin, loaded, module, unknown, unloaded;

	prio_input_init(&in);
	in.cna_vector = V_LOCAL_HIGH;
	unknown = score(&defaults, &in).score;
	in.build = PRIO_BUILD_BUILTIN;
	builtin = score(&defaults, &in).score;
	in.build = PRIO_BUILD_MODULE;
	module = score(&defaults, &in).score;
	in.module = PRIO_MODULE_LOADED;
	loaded = score(&defaults, &in).score;
	in.module = PRIO_MODULE_NOT_LOADED;
	{
		struct prio_result r = score(&defaults, &in);

		unloaded = r.score;
		assert_string_equal(factor(&r, "build")->value, "module, not loaded");
		assert_true(factor(&r, "build")->points == -defaults.module_unloaded_penalty);
	}
	assert_true(builtin > unknown);
	assert_true(loaded > module);
	assert_true(module == unknown);
	assert_true(unloaded < module);
	/* A typical local 7.8 is high, but not once its module is known unloaded. */
	assert_int_equal(prio_severity_from_score(&defaults, builtin), PRIO_SEVERITY_HIGH);
	assert_int_equal(prio_severity_from_score(&defaults, unloaded), PRIO_SEVERITY_MEDIUM);
}

static void test_subsystem_weights(void **state)
{
	_cleanup_(config_freep) struct config *c = config_new();
	char *tcp[] = { "net/ipv4/tcp.c", NULL };
	char *bridge[] = { "net/bridge/br.c", NULL };
	char *gpu[] = { "drivers/gpu/drm/i915/x.c", NULL };
	char *usb[] = { "drivers/usb/core/hub.c", NULL };
	char *mixed[] = { "Documentation/net.rst", "drivers/gpu/drm/x.c", "net/ipv4/tcp.c", NULL };
	char *docs[] = { "Documentation/networking/x.rst", "tools/net/ynl.c", NULL };
	char err[256] = "";
	struct prio_weights w;
	struct prio_input in;
	struct prio_result r;
	const struct prio_factor *f;
	double technical;

	assert_non_null(c);
	assert_int_equal(config_load_string(c,
					    "[core]\ndata_dir = /x\n"
					    "[prio]\nsubsystem.net/ = 1.2\n"
					    "subsystem.net/ipv4/ = 1.5\n"
					    "subsystem.drivers/gpu/ = 0.5\n"
					    "kev_bonus = 70\n",
					    "t", NULL),
			 0);
	assert_int_equal(prio_weights_load(&w, c, err, sizeof(err)), 0);
	assert_true(w.kev_bonus == 70.0);
	assert_int_equal(w.n_subsystems, 4); /* net/ and drivers/gpu/ replaced, net/ipv4/ added */

	prio_input_init(&in);
	in.cna_vector = V_LOCAL_HIGH;
	technical = 39.0 + 2.0; /* 7.8 x 5 + UI:N */

	in.files = tcp;
	r = score(&w, &in);
	f = factor(&r, "subsystem");
	assert_non_null(strstr(f->value, "net/ipv4/ x1.5"));
	assert_true(fabs(f->points - 0.5 * technical) < 1e-9);

	in.files = bridge;
	r = score(&w, &in);
	f = factor(&r, "subsystem");
	assert_non_null(strstr(f->value, "net/ x1.2"));
	assert_true(fabs(f->points - 0.2 * technical) < 1e-9);

	in.files = gpu;
	r = score(&w, &in);
	f = factor(&r, "subsystem");
	assert_true(fabs(f->points + 0.5 * technical) < 1e-9);

	/* Built-in default drivers/ 0.9 is still there for other drivers. */
	in.files = usb;
	r = score(&w, &in);
	f = factor(&r, "subsystem");
	assert_non_null(strstr(f->value, "drivers/ x0.9"));

	/* Several subsystems: the most exposed one counts; docs are ignored. */
	in.files = mixed;
	r = score(&w, &in);
	f = factor(&r, "subsystem");
	assert_non_null(strstr(f->value, "net/ipv4/"));
	in.files = docs;
	r = score(&w, &in);
	f = factor(&r, "subsystem");
	assert_string_equal(f->value, "none");
	assert_true(f->points == 0.0);

	/* Defaults without a config. */
	assert_int_equal(prio_weights_load(&w, NULL, NULL, 0), 0);
	assert_int_equal(w.n_subsystems, 3);
	in.files = gpu;
	r = score(&w, &in);
	f = factor(&r, "subsystem");
	assert_non_null(strstr(f->value, "drivers/gpu/ x0.8"));
}

static void check_bad_config(const char *text, int expected, const char *key)
{
	_cleanup_(config_freep) struct config *c = config_new();
	char err[256] = "";
	struct prio_weights w;

	assert_non_null(c);
	memset(&w, 0xa5, sizeof(w));
	assert_int_equal(config_load_string(c, text, "t", NULL), 0);
	assert_int_equal(prio_weights_load(&w, c, err, sizeof(err)), expected);
	if (!strstr(err, key))
		fail_msg("error '%s' does not name '%s'", err, key);
	/* Untouched on failure. */
	assert_int_equal(w.n_subsystems, (size_t)0xa5a5a5a5a5a5a5a5ULL);
}

static void test_bad_config(void **state)
{
	char big[PRIO_SUBSYSTEMS_MAX * 32 + 16] = "[prio]\n";
	char longkey[PRIO_PREFIX_MAX + 64];

	check_bad_config("[prio]\nkev_bonus = lots\n", -EINVAL, "'prio.kev_bonus'");
	check_bad_config("[prio]\nepss_weight = nan\n", -EINVAL, "'prio.epss_weight'");
	check_bad_config("[prio]\nbuiltin_bonus = -3\n", -EINVAL, "'prio.builtin_bonus'");
	check_bad_config("[prio]\ndefault_cvss = 11\n", -EINVAL, "'prio.default_cvss'");
	check_bad_config("[prio]\nkev_bonsu = 50\n", -EINVAL, "'prio.kev_bonsu'");
	check_bad_config("[prio]\nsubsystem.net/ = 1,2\n", -EINVAL, "'prio.subsystem.net/'");
	check_bad_config("[prio]\nsubsystem.fs/ = -1\n", -EINVAL, "'prio.subsystem.fs/'");
	check_bad_config("[prio]\nsubsystem. = 1\n", -EINVAL, "'prio.subsystem.'");
	check_bad_config("[prio]\nthreshold_high = 70\n", -EINVAL, "'prio.threshold_high'");
	check_bad_config("[prio]\nthreshold_medium = 40\n", -EINVAL, "'prio.threshold_medium'");
	check_bad_config("[prio]\nthreshold_critical = 101\n", -EINVAL,
			 "'prio.threshold_critical'");

	snprintf(longkey, sizeof(longkey), "[prio]\nsubsystem.%0*d/ = 1\n", PRIO_PREFIX_MAX, 0);
	check_bad_config(longkey, -E2BIG, "prio.subsystem.0000");
	for (int i = 0; i < PRIO_SUBSYSTEMS_MAX; i++) {
		size_t len = strlen(big);

		snprintf(big + len, sizeof(big) - len, "subsystem.d%d/ = 1\n", i);
	}
	check_bad_config(big, -E2BIG, "prio.subsystem.d");
}

static void test_severity_and_vendors(void **state)
{
	_cleanup_(config_freep) struct config *c = config_new();
	struct prio_weights w;
	struct prio_input in;
	struct prio_result r;

	assert_int_equal(prio_severity_from_score(&defaults, 60.0), PRIO_SEVERITY_CRITICAL);
	assert_int_equal(prio_severity_from_score(&defaults, 59.9), PRIO_SEVERITY_HIGH);
	assert_int_equal(prio_severity_from_score(&defaults, 40.0), PRIO_SEVERITY_HIGH);
	assert_int_equal(prio_severity_from_score(&defaults, 39.9), PRIO_SEVERITY_MEDIUM);
	assert_int_equal(prio_severity_from_score(&defaults, 20.0), PRIO_SEVERITY_MEDIUM);
	assert_int_equal(prio_severity_from_score(&defaults, 19.9), PRIO_SEVERITY_LOW);
	assert_int_equal(prio_severity_from_score(&defaults, 0.0), PRIO_SEVERITY_LOW);

	assert_non_null(c);
	assert_int_equal(config_load_string(c,
					    "[prio]\nthreshold_critical = 90\nthreshold_high = 50\n"
					    "threshold_medium = 10\n",
					    "t", NULL),
			 0);
	assert_int_equal(prio_weights_load(&w, c, NULL, 0), 0);

	prio_input_init(&in);
	in.cna_vector = V_LOCAL_HIGH; /* 39 + 2 = 41 */
	r = score(&defaults, &in);
	assert_true(r.score == 41.0);
	assert_int_equal(r.severity, PRIO_SEVERITY_HIGH);
	assert_true(r.canonical_livepatch);
	assert_true(r.redhat_kpatch);
	assert_string_equal(prio_severity_to_redhat_string(r.severity), "important");
	r = score(&w, &in);
	assert_int_equal(r.severity, PRIO_SEVERITY_MEDIUM);
	assert_false(r.canonical_livepatch);
	assert_false(r.redhat_kpatch);
	assert_string_equal(prio_severity_to_redhat_string(r.severity), "moderate");

	in.cna_vector = V_NET_CRIT; /* 49 + 6 + 4 + 2 = 61 */
	r = score(&defaults, &in);
	assert_true(r.score == 61.0);
	assert_int_equal(r.severity, PRIO_SEVERITY_CRITICAL);
	assert_true(r.canonical_livepatch && r.redhat_kpatch);

	in.cna_vector = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:L"; /* 1.8 -> 9 - 4 */
	r = score(&defaults, &in);
	assert_int_equal(r.severity, PRIO_SEVERITY_LOW);
	assert_false(r.canonical_livepatch || r.redhat_kpatch);

	/* String tables, as used by --min-severity. */
	for (int s = 0; s < _PRIO_SEVERITY_MAX; s++)
		assert_int_equal(prio_severity_from_string(prio_severity_to_string(s)), s);
	assert_int_equal(prio_severity_from_string("HIGH"), PRIO_SEVERITY_HIGH);
	assert_int_equal(prio_severity_from_string("important"), -EINVAL);
	assert_int_equal(prio_severity_from_string(NULL), -EINVAL);
	assert_null(prio_severity_to_string(_PRIO_SEVERITY_MAX));
	assert_null(prio_severity_to_string(_PRIO_SEVERITY_INVALID));
	assert_string_equal(prio_severity_to_redhat_string(PRIO_SEVERITY_CRITICAL), "critical");
	assert_int_equal(prio_build_from_string("built-in"), PRIO_BUILD_BUILTIN);
	assert_string_equal(prio_build_to_string(PRIO_BUILD_MODULE), "module");
	assert_int_equal(prio_module_state_from_string("not-loaded"), PRIO_MODULE_NOT_LOADED);
	assert_string_equal(prio_module_state_to_string(PRIO_MODULE_LOADED), "loaded");
	assert_string_equal(prio_cvss_source_to_string(PRIO_CVSS_DEFAULT), "default");
}

static void test_livepatch(void **state)
{
	char *c_only[] = { "kernel/fork.c", "Documentation/x.h", NULL };
	char *with_h[] = { "kernel/fork.c", "kernel/fork.h", NULL };
	char *inc_only[] = { "include/linux/skbuff.h", "include/uapi/linux/x.h", NULL };
	char *asm_[] = { "arch/x86/entry/entry_64.S", NULL };
	char *tools[] = { "tools/include/x.h", NULL };
	struct prio_input in;
	struct prio_result r;
	double plain;

	assert_int_equal(prio_fix_flags_from_files(NULL), 0);
	assert_int_equal(prio_fix_flags_from_files(c_only), 0);
	assert_int_equal(prio_fix_flags_from_files(with_h), PRIO_FIX_HEADER);
	assert_int_equal(prio_fix_flags_from_files(inc_only),
			 PRIO_FIX_HEADER | PRIO_FIX_HEADER_ONLY);
	assert_int_equal(prio_fix_flags_from_files(asm_), PRIO_FIX_ASM);
	assert_int_equal(prio_fix_flags_from_files(tools), 0);

	prio_input_init(&in);
	in.cna_vector = V_LOCAL_HIGH;
	in.files = c_only;
	r = score(&defaults, &in);
	plain = r.score;
	assert_string_equal(factor(&r, "livepatch")->value, "none");

	in.files = inc_only;
	r = score(&defaults, &in);
	assert_string_equal(factor(&r, "livepatch")->value, "header, header-only");
	assert_true(factor(&r, "livepatch")->points == -5.0);
	assert_non_null(strstr(factor(&r, "livepatch")->note, "harder to livepatch"));
	assert_true(r.score == plain - 5.0);

	/* Flags from the diff add to those from the names. */
	in.files = asm_;
	in.fix_flags = PRIO_FIX_DATA | PRIO_FIX_INIT;
	r = score(&defaults, &in);
	assert_int_equal(r.fix_flags, PRIO_FIX_DATA | PRIO_FIX_INIT | PRIO_FIX_ASM);
	assert_string_equal(factor(&r, "livepatch")->value, "struct/data, __init, assembly");
	assert_true(factor(&r, "livepatch")->points == -8.0);
}

static void test_invalid_input(void **state)
{
	struct prio_input in, bad;
	struct prio_result r;

	prio_input_init(&in);
	assert_int_equal(prio_score(NULL, &in, &r), -EINVAL);
	assert_int_equal(prio_score(&defaults, NULL, &r), -EINVAL);
	assert_int_equal(prio_score(&defaults, &in, NULL), -EINVAL);

	memset(&r, 0x5a, sizeof(r));
	bad = in;
	bad.epss_percentile = 1.5;
	assert_int_equal(prio_score(&defaults, &bad, &r), -EINVAL);
	bad = in;
	bad.epss_score = NAN;
	assert_int_equal(prio_score(&defaults, &bad, &r), -EINVAL);
	bad = in;
	bad.nvd_score = 10.5;
	assert_int_equal(prio_score(&defaults, &bad, &r), -EINVAL);
	bad = in;
	bad.build = (enum prio_build)7;
	assert_int_equal(prio_score(&defaults, &bad, &r), -EINVAL);
	bad = in;
	bad.module = _PRIO_MODULE_INVALID;
	assert_int_equal(prio_score(&defaults, &bad, &r), -EINVAL);
	bad = in;
	bad.fix_flags = 1u << 20;
	assert_int_equal(prio_score(&defaults, &bad, &r), -EINVAL);
	bad = in;
	bad.cve_id = "CVE-2024-123456789012345678901234567890";
	assert_int_equal(prio_score(&defaults, &bad, &r), -EINVAL);
	/* Written only on success. */
	assert_int_equal(r.n_factors, (size_t)0x5a5a5a5a5a5a5a5aULL);
}

struct real_vector {
	char vector[CVSS_VECTOR_MAX];
	struct cvss31 c;
	double base;
	double score;
};

static size_t load_real_vectors(struct real_vector *out, size_t max)
{
	_cleanup_free_ char *data = NULL;
	char *line, *next;
	size_t len, n = 0;

	data = test_read_data("cvss/cvss-distinct-vectors.tsv", &len);
	for (line = data; *line; line = next) {
		char *tab, *end;

		next = strchrnul(line, '\n');
		if (*next)
			*next++ = '\0';
		tab = strchr(line, '\t');
		if (!tab || !strncmp(line, "cvss_vector", 11))
			continue;
		*tab = '\0';
		assert_true(n < max);
		snprintf(out[n].vector, sizeof(out[n].vector), "%s", line);
		assert_int_equal(cvss31_parse(line, &out[n].c), 0);
		end = strchr(tab + 1, '\t');
		if (end)
			*end = '\0';
		assert_int_equal(safe_atod(tab + 1, &out[n].base), 0);
		n++;
	}
	return n;
}

static void score_all(const struct prio_weights *w, struct real_vector *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct prio_input in;
		struct prio_result r;

		prio_input_init(&in);
		in.cna_vector = v[i].vector;
		in.build = PRIO_BUILD_BUILTIN;
		in.epss_percentile = 0.5;
		r = score(w, &in);
		assert_true(r.cvss_base == v[i].base);
		v[i].score = r.score;
	}
}

static bool same_exposure(const struct cvss31 *a, const struct cvss31 *b)
{
	return a->attack_vector == b->attack_vector &&
	       a->privileges_required == b->privileges_required &&
	       a->user_interaction == b->user_interaction && a->scope == b->scope;
}

/* Every vector the kernel CNA published: the score follows the base score. */
static void test_real_vectors_monotonic(void **state)
{
	static struct real_vector v[256];
	struct prio_weights flat = defaults;
	size_t n = load_real_vectors(v, ARRAY_SIZE(v));

	assert_int_equal(n, 108);

	/* Same exposure metrics: only the base score differs. */
	score_all(&defaults, v, n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			if (!same_exposure(&v[i].c, &v[j].c) || !(v[i].base < v[j].base))
				continue;
			if (!(v[i].score < v[j].score))
				fail_msg("'%s' (%.1f) scores %.1f, '%s' (%.1f) %.1f", v[i].vector,
					 v[i].base, v[i].score, v[j].vector, v[j].base, v[j].score);
		}

	/* Without the exposure adjustments, the order is the base score's everywhere. */
	flat.av_network = flat.av_adjacent = flat.av_local = flat.av_physical = 0;
	flat.pr_none = flat.pr_low = flat.pr_high = 0;
	flat.ui_none = flat.ui_required = flat.scope_changed = 0;
	score_all(&flat, v, n);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			if (v[i].base < v[j].base)
				assert_true(v[i].score < v[j].score);
			else if (v[i].base == v[j].base)
				assert_true(v[i].score == v[j].score);
		}
}

static void test_compare(void **state)
{
	static const struct {
		const char *id;
		const char *vector;
		bool kev;
	} cases[] = {
		{ "CVE-2024-9999", V_LOCAL_HIGH, false },
		{ "CVE-2024-10000", V_LOCAL_HIGH, false },
		{ "CVE-2023-52000", V_LOCAL_HIGH, false },
		{ "CVE-2025-1", V_LOCAL_HIGH, false },
		{ NULL, V_LOCAL_HIGH, false },
		{ "CVE-2021-1", V_NET_CRIT, false },
		{ "CVE-2019-1", V_LOCAL_MEDIUM, true },
	};
	static const char *const expected[] = {
		"CVE-2019-1", "CVE-2021-1", "CVE-2025-1", "CVE-2024-10000",
		"CVE-2024-9999", "CVE-2023-52000", "",
	};
	struct prio_result r[ARRAY_SIZE(cases)];
	struct prio_weights w = defaults;

	/* Equal scores for the KEV tie-break: no KEV bonus. */
	w.kev_bonus = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct prio_input in;

		prio_input_init(&in);
		in.cve_id = cases[i].id;
		in.cna_vector = cases[i].vector;
		in.kev = cases[i].kev;
		r[i] = score(&w, &in);
	}
	/* Make the KEV entry tie with the 9.8 one. */
	r[6].score = r[5].score;
	qsort(r, ARRAY_SIZE(r), sizeof(r[0]), prio_result_compare_qsort);
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		assert_string_equal(r[i].cve_id, expected[i]);
	assert_int_equal(prio_result_compare(&r[0], &r[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_factors_sum, setup),
		cmocka_unit_test_setup(test_kev_alone_critical, setup),
		cmocka_unit_test_setup(test_cna_beats_nvd, setup),
		cmocka_unit_test_setup(test_no_vector_default, setup),
		cmocka_unit_test_setup(test_attack_vector_order, setup),
		cmocka_unit_test_setup(test_module_state, setup),
		cmocka_unit_test_setup(test_subsystem_weights, setup),
		cmocka_unit_test_setup(test_bad_config, setup),
		cmocka_unit_test_setup(test_severity_and_vendors, setup),
		cmocka_unit_test_setup(test_livepatch, setup),
		cmocka_unit_test_setup(test_invalid_input, setup),
		cmocka_unit_test_setup(test_real_vectors_monotonic, setup),
		cmocka_unit_test_setup(test_compare, setup),
	};

	return TEST_MAIN(tests);
}
