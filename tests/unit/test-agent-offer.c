/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Offers: parsing the archive's custom fields, judging them for a node, choosing the newest. */
#include <stdio.h>
#include <string.h>

#include "agent-offer.h"
#include "test-lib.h"

#define REL "6.1.0-54-amd64"
#define SHA "3b8f1d2c8e5a4f6b7c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d"
#define BUILD_ID "85c7e4e2ed76f4417e8aaad7c6b040d2bb897a26"

static json_t *custom(const char *module, int version)
{
	return json_pack("{s:s, s:n, s:s, s:i, s:[s], s:n, s:b, s:s, s:s, s:b, s:n}",
			 "kernel_release", REL, "build_id", "module_name", module,
			 "patch_version", version, "cves", "CVE-2024-1", "replaces", "replace",
			 1, "min_agent_version", "0.1.0", "created", "2026-11-28T06:00:00Z",
			 "revoked", 0, "revoked_reason");
}

static int parse(const char *path, json_t *c, struct agent_offer *o, char *err, size_t errsize)
{
	json_t *hashes = json_pack("{s:s}", "sha256", SHA);
	int r = agent_offer_parse(path, 1234, hashes, c, o, err, errsize);

	json_decref(hashes);
	json_decref(c);
	return r;
}

static void test_parse_good(void **state)
{
	struct agent_offer o, o2;
	char err[256] = "";
	json_t *c = custom("tuxtape-lp", 3);

	json_object_set_new(c, "build_id", json_string("85C7E4E2ED76F4417E8AAAD7C6B040D2BB897A26"));
	assert_int_equal(parse(REL "/tuxtape-lp-3.ko", c, &o, err, sizeof(err)), 0);
	assert_string_equal(o.path, REL "/tuxtape-lp-3.ko");
	assert_string_equal(o.file, "tuxtape-lp-3.ko");
	assert_string_equal(o.module, "tuxtape_lp"); /* as the kernel names it */
	assert_int_equal(o.version, 3);
	assert_string_equal(o.build_id, BUILD_ID); /* lowercased */
	assert_string_equal(o.sha256, SHA);
	assert_int_equal(o.length, 1234);
	assert_true(o.replace);
	assert_false(o.revoked);
	assert_int_equal(o.created, 1795845600);
	/* No custom.channels (published before channels existed): stable. */
	assert_int_equal(o.n_channels, 1);
	assert_string_equal(o.channels[0], "stable");

	/* What the cache keeps parses back to the same offer. */
	assert_int_equal(agent_offer_parse_json(o.target, &o2, err, sizeof(err)), 0);
	assert_string_equal(o2.path, o.path);
	assert_int_equal(o2.version, 3);
	assert_string_equal(o2.build_id, BUILD_ID);
	agent_offer_release(&o2);
	agent_offer_release(&o);
}

static void expect_bad(const char *path, json_t *c, const char *needle)
{
	struct agent_offer o = {};
	char err[256] = "";

	assert_int_equal(parse(path, c, &o, err, sizeof(err)), -EBADMSG);
	assert_null(o.path);
	if (!strstr(err, needle))
		fail_msg("error '%s' lacks '%s'", err, needle);
}

static json_t *with(json_t *c, const char *key, json_t *v)
{
	if (v)
		json_object_set_new(c, key, v);
	else
		json_object_del(c, key);
	return c;
}

static void test_parse_bad(void **state)
{
	const char *p = REL "/lp-3.ko";
	struct agent_offer o;
	char err[256];

	expect_bad("lp-3.ko", custom("lp", 3), "path is not");
	expect_bad(REL "/../etc/passwd.ko", custom("lp", 3), "file name");
	expect_bad(REL "/sub/lp-3.ko", custom("lp", 3), "file name");
	expect_bad(REL "/lp-3.so", custom("lp", 3), "file name");
	expect_bad(REL "/.hidden.ko", custom("lp", 3), "file name");
	expect_bad("6.1.0-99-amd64/lp-3.ko", custom("lp", 3),
		   "custom.kernel_release does not match");
	expect_bad(p, with(custom("lp", 3), "kernel_release", NULL), "custom.kernel_release");
	expect_bad(p, with(custom("lp", 3), "kernel_release", json_string("../x")),
		   "custom.kernel_release");
	expect_bad(p, with(custom("lp", 3), "module_name", json_string("a/b")),
		   "custom.module_name");
	expect_bad(p, with(custom("lp", 3), "module_name", NULL), "custom.module_name");
	expect_bad(p, with(custom("lp", 3), "patch_version", json_integer(0)),
		   "custom.patch_version");
	expect_bad(p, with(custom("lp", 3), "patch_version", json_string("3")),
		   "custom.patch_version");
	expect_bad(p, with(custom("lp", 3), "build_id", json_string("xyz")), "custom.build_id");
	expect_bad(p, with(custom("lp", 3), "build_id", json_integer(5)), "custom.build_id");
	expect_bad(p, with(custom("lp", 3), "min_agent_version", json_string("new")),
		   "custom.min_agent_version");
	expect_bad(p, with(custom("lp", 3), "replace", NULL), "custom.replace");
	expect_bad(p, with(custom("lp", 3), "revoked", json_string("yes")), "custom.revoked");
	expect_bad(p, with(custom("lp", 3), "created", json_string("yesterday")),
		   "custom.created");
	expect_bad(p, json_array(), "no custom object");

	/* custom.channels: an array of 1 to 16 distinct channel names. */
	expect_bad(p, with(custom("lp", 3), "channels", json_string("stable")),
		   "target '" REL "/lp-3.ko': custom.channels: not an array");
	expect_bad(p, with(custom("lp", 3), "channels", json_null()),
		   "custom.channels: not an array");
	expect_bad(p, with(custom("lp", 3), "channels", json_array()),
		   "custom.channels: 0 channel names, not 1 to 16");
	expect_bad(p, with(custom("lp", 3), "channels", json_pack("[s, s]", "beta", "Beta!")),
		   "custom.channels[1]: 'Beta!' is not a channel name");
	expect_bad(p, with(custom("lp", 3), "channels", json_pack("[s]", "")),
		   "custom.channels[0]: '' is not a channel name");
	expect_bad(p, with(custom("lp", 3), "channels", json_pack("[s]", "-beta")),
		   "custom.channels[0]: '-beta' is not a channel name");
	expect_bad(p,
		   with(custom("lp", 3), "channels",
			json_pack("[s]", "a23456789012345678901234567890123")),
		   "custom.channels[0]: 'a23456789012345678901234567890123' is not a channel");
	expect_bad(p, with(custom("lp", 3), "channels", json_pack("[s, i]", "beta", 7)),
		   "custom.channels[1]: not a string");
	expect_bad(p, with(custom("lp", 3), "channels", json_pack("[s, s]", "beta", "beta")),
		   "custom.channels[1]: 'beta' is listed twice");
	{
		json_t *many = json_array();
		char name[16];

		for (int i = 0; i < 17; i++) {
			snprintf(name, sizeof(name), "c%d", i);
			json_array_append_new(many, json_string(name));
		}
		expect_bad(p, with(custom("lp", 3), "channels", many),
			   "custom.channels: 17 channel names, not 1 to 16");
	}

	/* No sha256 (only another hash): refused, the agent checks the cache with it. */
	{
		json_t *hashes = json_pack("{s:s}", "sha512", SHA SHA), *c = custom("lp", 3);

		assert_int_equal(agent_offer_parse(p, 1, hashes, c, &o, err, sizeof(err)),
				 -EBADMSG);
		assert_non_null(strstr(err, "hashes.sha256"));
		json_decref(hashes);
		json_decref(c);
	}
	assert_int_equal(agent_offer_parse(NULL, 1, NULL, NULL, &o, err, sizeof(err)), -EBADMSG);
}

static void test_judge(void **state)
{
	struct agent_offer o;
	char err[256];
	json_t *c = custom("lp", 3);

	json_object_set_new(c, "build_id", json_string(BUILD_ID));
	json_object_set_new(c, "min_agent_version", json_string("0.2"));
	assert_int_equal(parse(REL "/lp-3.ko", c, &o, err, sizeof(err)), 0);

	assert_int_equal(agent_offer_judge(&o, REL, BUILD_ID, "stable", "0.2.0", false),
			 AGENT_OFFER_ELIGIBLE);
	assert_int_equal(agent_offer_judge(&o, "6.1.0-53-amd64", BUILD_ID,
					   "stable", "0.2.0", false),
			 AGENT_OFFER_OTHER_KERNEL);
	assert_int_equal(agent_offer_judge(&o, REL, "00", "stable", "0.2.0", false),
			 AGENT_OFFER_BUILD_ID);
	/* A node whose build id is unknown does not take a build-specific patch. */
	assert_int_equal(agent_offer_judge(&o, REL, "", "stable", "0.2.0", false),
			 AGENT_OFFER_BUILD_ID);
	assert_int_equal(agent_offer_judge(&o, REL, BUILD_ID, "stable", "0.1.9", false),
			 AGENT_OFFER_AGENT_TOO_OLD);
	assert_int_equal(agent_offer_judge(&o, REL, BUILD_ID, "stable", "bogus", false),
			 AGENT_OFFER_AGENT_TOO_OLD);
	assert_int_equal(agent_offer_judge(&o, REL, BUILD_ID, "stable", "0.10", false),
			 AGENT_OFFER_ELIGIBLE);
	assert_int_equal(agent_offer_judge(&o, REL, BUILD_ID, "stable", "0.2.0", true),
			 AGENT_OFFER_BLOCKED);
	o.revoked = true;
	assert_int_equal(agent_offer_judge(&o, REL, BUILD_ID, "stable", "0.2.0", true),
			 AGENT_OFFER_REVOKED);
	o.replace = false;
	assert_int_equal(agent_offer_judge(&o, REL, BUILD_ID, "stable", "0.2.0", false),
			 AGENT_OFFER_NOT_CUMULATIVE);
	assert_string_equal(agent_offer_status_to_string(AGENT_OFFER_BUILD_ID),
			    "build-id-mismatch");
	assert_null(agent_offer_status_to_string(_AGENT_OFFER_STATUS_MAX));
	agent_offer_release(&o);

	/* A null build id fits every build of the release, also an unknown one. */
	assert_int_equal(parse(REL "/lp-3.ko", custom("lp", 3), &o, err, sizeof(err)), 0);
	assert_int_equal(agent_offer_judge(&o, REL, "", "stable", "0.1.0", false),
			 AGENT_OFFER_ELIGIBLE);
	agent_offer_release(&o);
}

static void test_channels(void **state)
{
	struct agent_offer o, o2;
	char err[256] = "";
	json_t *c = custom("lp", 3), *many = json_array();
	char name[16];

	json_object_set_new(c, "channels", json_pack("[s, s]", "beta", "candidate"));
	assert_int_equal(parse(REL "/lp-3.ko", c, &o, err, sizeof(err)), 0);
	assert_int_equal(o.n_channels, 2);
	assert_string_equal(o.channels[0], "beta");
	assert_string_equal(o.channels[1], "candidate");
	assert_true(agent_offer_in_channel(&o, "candidate"));
	assert_false(agent_offer_in_channel(&o, "stable"));

	/* Matching and non-matching channel; NULL is the default, stable. */
	assert_int_equal(agent_offer_judge(&o, REL, "", "beta", "0.1.0", false),
			 AGENT_OFFER_ELIGIBLE);
	assert_int_equal(agent_offer_judge(&o, REL, "", "candidate", "0.1.0", false),
			 AGENT_OFFER_ELIGIBLE);
	assert_int_equal(agent_offer_judge(&o, REL, "", "stable", "0.1.0", false),
			 AGENT_OFFER_OTHER_CHANNEL);
	assert_int_equal(agent_offer_judge(&o, REL, "", NULL, "0.1.0", false),
			 AGENT_OFFER_OTHER_CHANNEL);
	assert_int_equal(agent_offer_judge(&o, REL, "", "bet", "0.1.0", false),
			 AGENT_OFFER_OTHER_CHANNEL);
	assert_string_equal(agent_offer_status_to_string(AGENT_OFFER_OTHER_CHANNEL),
			    "other-channel");
	/* Release and build id are judged first; a blocked offer of another channel is not
	 * this node's (blocked) newest; a revoked one is revoked whatever its channel. */
	assert_int_equal(agent_offer_judge(&o, "6.1.0-53-amd64", "", "stable", "0.1.0", false),
			 AGENT_OFFER_OTHER_KERNEL);
	assert_int_equal(agent_offer_judge(&o, REL, "", "stable", "0.1.0", true),
			 AGENT_OFFER_OTHER_CHANNEL);
	assert_int_equal(agent_offer_judge(&o, REL, "", "beta", "0.1.0", true),
			 AGENT_OFFER_BLOCKED);
	o.revoked = true;
	assert_int_equal(agent_offer_judge(&o, REL, "", "stable", "0.1.0", false),
			 AGENT_OFFER_REVOKED);
	o.revoked = false;

	/* The cache's copy keeps the channels, so apply at boot judges the same way. */
	assert_int_equal(agent_offer_parse_json(o.target, &o2, err, sizeof(err)), 0);
	assert_int_equal(o2.n_channels, 2);
	assert_string_equal(o2.channels[1], "candidate");
	assert_int_equal(agent_offer_judge(&o2, REL, "", "stable", "0.1.0", false),
			 AGENT_OFFER_OTHER_CHANNEL);
	agent_offer_release(&o2);
	agent_offer_release(&o);

	/* 16 names of 32 characters: the most a target may list. */
	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		json_array_append_new(many, json_string(name));
	}
	json_array_set_new(many, 15, json_string("a2345678901234567890123456789012"));
	c = custom("lp", 3);
	json_object_set_new(c, "channels", many);
	assert_int_equal(parse(REL "/lp-3.ko", c, &o, err, sizeof(err)), 0);
	assert_int_equal(o.n_channels, 16);
	assert_int_equal(agent_offer_judge(&o, REL, "", "a2345678901234567890123456789012",
					   "0.1.0", false),
			 AGENT_OFFER_ELIGIBLE);
	assert_int_equal(agent_offer_judge(&o, REL, "", "c0", "0.1.0", false),
			 AGENT_OFFER_ELIGIBLE);
	agent_offer_release(&o);
}

static void test_newest(void **state)
{
	struct agent_offer o[5];
	enum agent_offer_status st[5];
	char err[256];
	json_t *c;

	assert_int_equal(parse(REL "/lp-1.ko", custom("lp", 1), &o[0], err, sizeof(err)), 0);
	assert_int_equal(parse(REL "/lp-4.ko", custom("lp", 4), &o[1], err, sizeof(err)), 0);
	assert_int_equal(parse(REL "/lp-3.ko", custom("lp", 3), &o[2], err, sizeof(err)), 0);
	/* Same version as lp-3 of another module, created later: newer. */
	c = custom("other", 3);
	json_object_set_new(c, "created", json_string("2026-11-29T06:00:00Z"));
	assert_int_equal(parse(REL "/other-3.ko", c, &o[3], err, sizeof(err)), 0);
	assert_int_equal(parse(REL "/lp-2.ko", custom("lp", 2), &o[4], err, sizeof(err)), 0);
	for (size_t i = 0; i < 5; i++)
		st[i] = AGENT_OFFER_ELIGIBLE;

	assert_int_equal(agent_offer_newest(o, st, 5), 1);
	st[1] = AGENT_OFFER_REVOKED;
	assert_int_equal(agent_offer_newest(o, st, 5), 3);
	st[3] = AGENT_OFFER_BLOCKED;
	assert_int_equal(agent_offer_newest(o, st, 5), 2);
	st[2] = AGENT_OFFER_BUILD_ID;
	st[4] = AGENT_OFFER_AGENT_TOO_OLD;
	assert_int_equal(agent_offer_newest(o, st, 5), 0);
	st[0] = AGENT_OFFER_NOT_CUMULATIVE;
	assert_int_equal(agent_offer_newest(o, st, 5), -ENOENT);
	assert_int_equal(agent_offer_newest(o, st, 0), -ENOENT);
	assert_true(agent_offer_compare(&o[3], &o[2]) < 0);
	assert_true(agent_offer_compare(&o[1], &o[3]) < 0);
	assert_int_equal(agent_offer_compare(&o[0], &o[0]), 0);
	for (size_t i = 0; i < 5; i++)
		agent_offer_release(&o[i]);

	/* Equal version and time: the path decides, the same way every time. */
	assert_int_equal(parse(REL "/lp_v1-1.ko", custom("lp_v1", 1), &o[0], err, sizeof(err)), 0);
	assert_int_equal(parse(REL "/lp_v2-1.ko", custom("lp_v2", 1), &o[1], err, sizeof(err)), 0);
	st[0] = st[1] = AGENT_OFFER_ELIGIBLE;
	assert_int_equal(agent_offer_newest(o, st, 2), 1);
	assert_true(agent_offer_compare(&o[1], &o[0]) < 0);
	agent_offer_release(&o[0]);
	agent_offer_release(&o[1]);
}

static void test_versions(void **state)
{
	int c;

	assert_int_equal(agent_version_compare("0.1.0", "0.1", &c), 0);
	assert_int_equal(c, 0);
	assert_int_equal(agent_version_compare("0.1.0", "0.10", &c), 0);
	assert_true(c < 0);
	assert_int_equal(agent_version_compare("1.0", "0.99.99", &c), 0);
	assert_true(c > 0);
	assert_int_equal(agent_version_compare("1.2.3.4", "1.2.3.5", &c), 0);
	assert_true(c < 0);
	assert_int_equal(agent_version_compare("1.2.3.4.5", "1", &c), -EINVAL);
	assert_int_equal(agent_version_compare("1..2", "1", &c), -EINVAL);
	assert_int_equal(agent_version_compare("1.2-rc1", "1", &c), -EINVAL);
	assert_int_equal(agent_version_compare("", "1", &c), -EINVAL);
	assert_int_equal(agent_version_compare("1.", "1", &c), -EINVAL);
	assert_true(agent_release_valid(REL));
	assert_false(agent_release_valid("../x"));
	assert_false(agent_release_valid(""));
	assert_false(agent_release_valid("a/b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_channels),
		cmocka_unit_test(test_newest),
		cmocka_unit_test(test_versions),
	};

	return TEST_MAIN(tests);
}
