/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TUF metadata: times, envelopes, parsing of every role and threshold verification. */
#include <stdlib.h>
#include <string.h>

#include "canonical.h"
#include "metadata.h"
#include "test-lib.h"

static struct tuf_signer *signers[3];

static void setup_keys(void)
{
	if (tuf_signer_generate(TUF_SCHEME_ED25519, &signers[0]) < 0 ||
	    tuf_signer_generate(TUF_SCHEME_ECDSA_P256, &signers[1]) < 0 ||
	    tuf_signer_generate(TUF_SCHEME_ED25519, &signers[2]) < 0)
		abort();
}

static void teardown_keys(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(signers); i++)
		signers[i] = tuf_signer_free(signers[i]);
}

static const char *kid(int i)
{
	return tuf_key_id(tuf_signer_key(signers[i]));
}

static json_t *common(const char *type)
{
	return json_pack("{s:s, s:s, s:i, s:s}", "_type", type, "spec_version", "1.0.31",
			 "version", 1, "expires", "2030-01-01T00:00:00Z");
}

/* A root with keys 0 and 1 (ecdsa: PEM with newlines), every role keys [0, 1] threshold 1. */
static json_t *root_body(void)
{
	json_t *b = common("root"), *roles = json_object(), *keys = json_object();
	const char *names[] = { "root", "timestamp", "snapshot", "targets" };

	for (int i = 0; i < 2; i++)
		json_object_set_new(keys, kid(i), tuf_key_to_json(tuf_signer_key(signers[i])));
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		json_object_set_new(roles, names[i],
				    json_pack("{s:[s, s], s:i}", "keyids", kid(0), kid(1),
					      "threshold", 1));
	json_object_set_new(b, "keys", keys);
	json_object_set_new(b, "roles", roles);
	json_object_set_new(b, "consistent_snapshot", json_true());
	return b;
}

static json_t *timestamp_body(void)
{
	json_t *b = common("timestamp");

	json_object_set_new(b, "meta", json_pack("{s:{s:i, s:i, s:{s:s}}}", "snapshot.json",
						 "version", 3, "length", 10, "hashes", "sha256",
						 "ab"));
	return b;
}

static json_t *targets_body(void)
{
	json_t *b = common("targets");

	json_object_set_new(b, "targets",
			    json_pack("{s:{s:i, s:{s:s}, s:{s:s}}}", "a/b.ko", "length", 3,
				      "hashes", "sha256", "00", "custom", "x", "y"));
	json_object_set_new(
		b, "delegations",
		json_pack("{s:{s:o}, s:[{s:s, s:[s], s:i, s:b, s:[s]}]}", "keys", kid(2),
			  tuf_key_to_json(tuf_signer_key(signers[2])), "roles", "name",
			  "6.1.0-54-amd64", "keyids", kid(2), "threshold", 1, "terminating", 1,
			  "paths", "6.1.0-54-amd64/*"));
	return b;
}

/* Signs body (stolen) with the given signers and returns the published bytes. */
static char *publish(json_t *body, const int *which, size_t n, size_t *ret_len)
{
	struct tuf_signer *s[3];
	json_t *env = NULL;
	char *buf = NULL, err[256];

	for (size_t i = 0; i < n; i++)
		s[i] = signers[which[i]];
	assert_int_equal(tuf_envelope_sign(body, s, n, &env, err, sizeof(err)), 0);
	json_decref(body);
	assert_int_equal(tuf_envelope_dump(env, &buf, ret_len), 0);
	json_decref(env);
	return buf;
}

/* Parses text as type; returns the errno, checks err names the file when failing. */
static int parse_text(const char *text, const char *type, char err[256])
{
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *m = NULL;
	int r;

	err[0] = '\0';
	r = tuf_metadata_parse(text, strlen(text), type, "x.json", &m, err, 256);
	if (r < 0) {
		assert_null(m);
		assert_non_null(strstr(err, "'x.json'"));
	}
	return r;
}

/* Publishes a body after `edit` changed it, and parses it as type. */
static int parse_body(json_t *body, const char *type, char err[256])
{
	static const int one[] = { 0 };
	_cleanup_free_ char *text = NULL;
	size_t len;

	text = publish(body, one, 1, &len);
	return parse_text(text, type, err);
}

static void test_time_parse(void **state)
{
	int64_t t = -1;

	assert_int_equal(tuf_time_parse("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(tuf_time_parse("2030-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 1893456000);
	assert_int_equal(tuf_time_parse("2024-02-29T23:59:59Z", &t), 0);
	assert_int_equal(t, 1709251199);
	assert_int_equal(tuf_time_parse("2000-02-29T12:00:00Z", &t), 0);
	t = 7;
	assert_int_equal(tuf_time_parse("2023-02-29T00:00:00Z", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("1900-02-29T00:00:00Z", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("2030-01-01T00:00:00", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("2030-01-01t00:00:00Z", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("2030-01-01 00:00:00Z", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("2030-01-01T24:00:00Z", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("2030-13-01T00:00:00Z", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("2030-1-01T00:00:00Z", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("2030-01-01T00:00:00.5Z", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("2030-01-01T00:00:00+00:00", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("1969-12-31T23:59:59Z", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse("", &t), -EBADMSG);
	assert_int_equal(tuf_time_parse(NULL, &t), -EBADMSG);
	assert_int_equal(t, 7);
}

static void test_time_format(void **state)
{
	char buf[21];
	int64_t back;

	assert_int_equal(tuf_time_format(0, buf), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	assert_int_equal(tuf_time_format(1709251199, buf), 0);
	assert_string_equal(buf, "2024-02-29T23:59:59Z");
	for (int64_t t = 0; t < 300LL * 365 * 86400; t += 86400 * 37 + 3601) {
		assert_int_equal(tuf_time_format(t, buf), 0);
		assert_int_equal(tuf_time_parse(buf, &back), 0);
		assert_int_equal(back, t);
	}
	assert_int_equal(tuf_time_format(-1, buf), -EINVAL);
	assert_int_equal(tuf_time_format(253402300800LL, buf), -EINVAL);
}

/* The published bytes are valid JSON even with PEM newlines, and verify. */
static void test_envelope_roundtrip(void **state)
{
	static const int both[] = { 0, 1 };
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *m = NULL;
	_cleanup_free_ char *text = NULL;
	char err[256];
	size_t len;

	text = publish(root_body(), both, 2, &len);
	assert_int_equal(strlen(text), len);
	assert_non_null(strstr(text, "-----BEGIN PUBLIC KEY-----\\n"));
	assert_int_equal(tuf_metadata_parse(text, len, "root", "root.json", &m, err, sizeof(err)),
			 0);
	assert_string_equal(m->type, "root");
	assert_int_equal(m->version, 1);
	assert_int_equal(m->expires, 1893456000);
	assert_non_null(tuf_keyset_get(m->keys, kid(1)));
	assert_null(tuf_keyset_get(m->keys, kid(2)));
	assert_int_equal(tuf_metadata_verify(m, m->keys,
					     json_object_get(json_object_get(json_object_get(
									     m->body, "roles"),
								     "root"),
							     "keyids"),
					     2, "root", err, sizeof(err)),
			 0);
}

static void test_envelope_sign_errors(void **state)
{
	json_t *body = common("root"), *env = NULL;
	struct tuf_signer *twice[2] = { signers[0], signers[0] };
	char err[256];

	assert_int_equal(tuf_envelope_sign(body, twice, 0, &env, err, sizeof(err)), -EINVAL);
	assert_int_equal(tuf_envelope_sign(body, twice, 2, &env, err, sizeof(err)), -EINVAL);
	json_object_set_new(body, "x", json_real(1.5));
	assert_int_equal(tuf_envelope_sign(body, twice, 1, &env, err, sizeof(err)), -EINVAL);
	assert_null(env);
	json_decref(body);
}

static void test_parse_each_role(void **state)
{
	char err[256];

	assert_int_equal(parse_body(root_body(), "root", err), 0);
	assert_int_equal(parse_body(timestamp_body(), "timestamp", err), 0);
	assert_int_equal(parse_body(targets_body(), "targets", err), 0);
	{
		json_t *b = common("snapshot");

		json_object_set_new(b, "meta", json_pack("{s:{s:i}, s:{s:i}}", "targets.json",
							 "version", 1, "a%2Fb.json", "version", 4));
		assert_int_equal(parse_body(b, "snapshot", err), 0);
	}
}

static void test_not_json(void **state)
{
	char err[256];

	assert_int_equal(parse_text("not json", "root", err), -EBADMSG);
	assert_non_null(strstr(err, "line 1"));
}

static void test_truncated(void **state)
{
	static const int one[] = { 0 };
	_cleanup_free_ char *text = NULL;
	char err[256];
	size_t len;

	text = publish(root_body(), one, 1, &len);
	text[len / 2] = '\0';
	assert_int_equal(parse_text(text, "root", err), -EBADMSG);
	assert_int_equal(parse_text("", "root", err), -EBADMSG);
}

static void test_not_object(void **state)
{
	char err[256];

	assert_int_equal(parse_text("[1]", "root", err), -EBADMSG);
	assert_int_equal(parse_text("{\"signed\":1,\"signatures\":[]}", "root", err), -EBADMSG);
}

/* {"a":1,"a":2} hides a second value from one parser or another: refused. */
static void test_duplicate_json_keys(void **state)
{
	char err[256];

	assert_int_equal(parse_text("{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\","
				    "\"_type\":\"root\"}}",
				    "root", err),
			 -EBADMSG);
}

static void test_wrong_type(void **state)
{
	char err[256];

	assert_int_equal(parse_body(timestamp_body(), "snapshot", err), -EBADMSG);
	assert_non_null(strstr(err, "_type"));
}

static void test_spec_version(void **state)
{
	char err[256];
	json_t *b = timestamp_body();

	json_object_set_new(b, "spec_version", json_string("2.0.0"));
	assert_int_equal(parse_body(b, "timestamp", err), -EBADMSG);
	b = timestamp_body();
	json_object_set_new(b, "spec_version", json_string("1"));
	assert_int_equal(parse_body(b, "timestamp", err), -EBADMSG);
	b = timestamp_body();
	json_object_set_new(b, "spec_version", json_string("1.0"));
	assert_int_equal(parse_body(b, "timestamp", err), 0);
	b = timestamp_body();
	json_object_set_new(b, "spec_version", json_string("1.0.x"));
	assert_int_equal(parse_body(b, "timestamp", err), -EBADMSG);
}

static void test_version_zero(void **state)
{
	char err[256];
	json_t *b = timestamp_body();

	json_object_set_new(b, "version", json_integer(0));
	assert_int_equal(parse_body(b, "timestamp", err), -EBADMSG);
	assert_non_null(strstr(err, "signed.version"));
}

static void test_version_not_integer(void **state)
{
	char err[256];
	json_t *b = timestamp_body();

	json_object_set_new(b, "version", json_string("1"));
	assert_int_equal(parse_body(b, "timestamp", err), -EBADMSG);
	b = timestamp_body();
	json_object_del(b, "version");
	assert_int_equal(parse_body(b, "timestamp", err), -EBADMSG);
}

static void test_expires_format(void **state)
{
	char err[256];
	json_t *b = timestamp_body();

	json_object_set_new(b, "expires", json_string("2030-01-01"));
	assert_int_equal(parse_body(b, "timestamp", err), -EBADMSG);
	assert_non_null(strstr(err, "signed.expires"));
}

static void test_real_in_signed(void **state)
{
	char err[256];

	assert_int_equal(parse_text("{\"signatures\":[],\"signed\":{\"_type\":\"timestamp\","
				    "\"spec_version\":\"1.0.31\",\"version\":1,\"expires\":"
				    "\"2030-01-01T00:00:00Z\",\"meta\":{\"snapshot.json\":{\"version\":"
				    "1}},\"x\":1.0}}",
				    "timestamp", err),
			 -EBADMSG);
	assert_non_null(strstr(err, "real"));
}

static void test_signatures_malformed(void **state)
{
	char err[256];

	assert_int_equal(parse_text("{\"signatures\":{},\"signed\":{}}", "root", err), -EBADMSG);
	assert_int_equal(parse_text("{\"signatures\":[{\"keyid\":\"a\"}],\"signed\":{}}", "root",
				    err),
			 -EBADMSG);
	assert_int_equal(parse_text("{\"signed\":{}}", "root", err), -EBADMSG);
}

/* The spec: a keyid MUST be unique in "signatures" -- even when the threshold is met. */
static void test_duplicate_signature_keyids(void **state)
{
	static const int one[] = { 0 };
	_cleanup_free_ char *text = NULL, *dump = NULL;
	json_t *doc, *sigs;
	char err[256];
	size_t len;

	text = publish(timestamp_body(), one, 1, &len);
	doc = json_loads(text, 0, NULL);
	sigs = json_object_get(doc, "signatures");
	json_array_append(sigs, json_array_get(sigs, 0));
	dump = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	assert_int_equal(parse_text(dump, "timestamp", err), -EBADMSG);
	assert_non_null(strstr(err, "signs twice"));
}

static void test_root_missing_role(void **state)
{
	char err[256];
	json_t *b = root_body();

	json_object_del(json_object_get(b, "roles"), "snapshot");
	assert_int_equal(parse_body(b, "root", err), -EBADMSG);
	assert_non_null(strstr(err, "signed.roles.snapshot"));
}

static void test_root_threshold_zero(void **state)
{
	char err[256];
	json_t *b = root_body();

	json_object_set_new(json_object_get(json_object_get(b, "roles"), "targets"), "threshold",
			    json_integer(0));
	assert_int_equal(parse_body(b, "root", err), -EBADMSG);
	assert_non_null(strstr(err, "signed.roles.targets.threshold"));
}

static void test_root_bad_key(void **state)
{
	char err[256];
	json_t *b = root_body();

	json_object_set_new(json_object_get(b, "keys"), "k", json_pack("{s:s}", "keytype", "x"));
	assert_int_equal(parse_body(b, "root", err), -EBADMSG);
	assert_non_null(strstr(err, "keys[\"k\"]"));
}

static void test_root_consistent_not_bool(void **state)
{
	char err[256];
	json_t *b = root_body();

	json_object_set_new(b, "consistent_snapshot", json_string("yes"));
	assert_int_equal(parse_body(b, "root", err), -EBADMSG);
}

static void test_timestamp_without_snapshot(void **state)
{
	char err[256];
	json_t *b = timestamp_body();

	json_object_set_new(b, "meta", json_object());
	assert_int_equal(parse_body(b, "timestamp", err), -EBADMSG);
}

static void test_metafile_bad(void **state)
{
	char err[256];
	json_t *b = timestamp_body();

	json_object_set_new(json_object_get(json_object_get(b, "meta"), "snapshot.json"),
			    "length", json_integer(-1));
	assert_int_equal(parse_body(b, "timestamp", err), -EBADMSG);
	b = timestamp_body();
	json_object_set_new(json_object_get(json_object_get(b, "meta"), "snapshot.json"),
			    "hashes", json_object());
	assert_int_equal(parse_body(b, "timestamp", err), -EBADMSG);
}

static void test_target_without_hashes(void **state)
{
	char err[256];
	json_t *b = targets_body();

	json_object_del(json_object_get(json_object_get(b, "targets"), "a/b.ko"), "hashes");
	assert_int_equal(parse_body(b, "targets", err), -EBADMSG);
	assert_non_null(strstr(err, "a/b.ko"));
}

static void test_target_negative_length(void **state)
{
	char err[256];
	json_t *b = targets_body();

	json_object_set_new(json_object_get(json_object_get(b, "targets"), "a/b.ko"), "length",
			    json_integer(-5));
	assert_int_equal(parse_body(b, "targets", err), -EBADMSG);
}

static json_t *delegated_role(json_t *b)
{
	return json_array_get(json_object_get(json_object_get(b, "delegations"), "roles"), 0);
}

static void test_delegation_paths_and_prefixes(void **state)
{
	char err[256];
	json_t *b = targets_body();

	json_object_set_new(delegated_role(b), "path_hash_prefixes", json_pack("[s]", "ab"));
	assert_int_equal(parse_body(b, "targets", err), -EBADMSG);
	b = targets_body();
	json_object_del(delegated_role(b), "paths");
	assert_int_equal(parse_body(b, "targets", err), -EBADMSG);
}

static void test_delegation_duplicate_names(void **state)
{
	char err[256];
	json_t *b = targets_body();
	json_t *roles = json_object_get(json_object_get(b, "delegations"), "roles");

	json_array_append_new(roles, json_deep_copy(json_array_get(roles, 0)));
	assert_int_equal(parse_body(b, "targets", err), -EBADMSG);
	assert_non_null(strstr(err, "delegated twice"));
}

static void test_delegation_top_level_name(void **state)
{
	char err[256];
	json_t *b = targets_body();

	json_object_set_new(delegated_role(b), "name", json_string("snapshot"));
	assert_int_equal(parse_body(b, "targets", err), -EBADMSG);
}

static void test_delegation_terminating_missing(void **state)
{
	char err[256];
	json_t *b = targets_body();

	json_object_del(delegated_role(b), "terminating");
	assert_int_equal(parse_body(b, "targets", err), -EBADMSG);
}

/* Unknown fields are kept and signed over: changing one breaks the signature. */
static void test_unknown_fields_signed(void **state)
{
	static const int one[] = { 0 };
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *m = NULL, *t = NULL;
	_cleanup_free_ char *text = NULL, *tampered = NULL, *root_text = NULL;
	json_t *b = timestamp_body(), *keyids;
	char err[256], *p;
	size_t len, rlen;

	json_object_set_new(b, "x-tuf-on-ci-expiry-period", json_integer(7));
	json_object_set_new(b, "x-custom", json_pack("{s:s}", "note", "tab\there"));
	text = publish(b, one, 1, &len);
	root_text = publish(root_body(), one, 1, &rlen);
	assert_int_equal(tuf_metadata_parse(root_text, rlen, "root", "root", &m, err, sizeof(err)),
			 0);
	keyids = json_object_get(json_object_get(json_object_get(m->body, "roles"), "timestamp"),
				 "keyids");
	assert_int_equal(tuf_metadata_parse(text, len, "timestamp", "ts", &t, err, sizeof(err)), 0);
	assert_int_equal(tuf_metadata_verify(t, m->keys, keyids, 1, "timestamp", err, sizeof(err)),
			 0);
	tuf_metadata_free(t);
	t = NULL;
	tampered = strdup(text);
	p = strstr(tampered, "\"x-tuf-on-ci-expiry-period\":7");
	assert_non_null(p);
	p[strlen("\"x-tuf-on-ci-expiry-period\":")] = '8';
	assert_int_equal(tuf_metadata_parse(tampered, len, "timestamp", "ts", &t, err, sizeof(err)),
			 0);
	assert_int_equal(tuf_metadata_verify(t, m->keys, keyids, 1, "timestamp", err, sizeof(err)),
			 -EKEYREJECTED);
}

/* Threshold verification against a role (root keys 0 and 1; key 2 unknown to it). */
static int verify_with(const int *which, size_t n, json_t *keyids, int threshold)
{
	static const int one[] = { 0 };
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *root = NULL, *m = NULL;
	_cleanup_free_ char *rt = NULL, *text = NULL;
	char err[256];
	size_t rlen, len;
	int r;

	rt = publish(root_body(), one, 1, &rlen);
	assert_int_equal(tuf_metadata_parse(rt, rlen, "root", "root", &root, err, sizeof(err)), 0);
	text = publish(timestamp_body(), which, n, &len);
	assert_int_equal(tuf_metadata_parse(text, len, "timestamp", "ts", &m, err, sizeof(err)), 0);
	r = tuf_metadata_verify(m, root->keys, keyids, threshold, "timestamp", err, sizeof(err));
	if (r < 0)
		assert_non_null(strstr(err, "role 'timestamp'"));
	json_decref(keyids);
	return r;
}

static void test_threshold(void **state)
{
	static const int k0[] = { 0 }, k01[] = { 0, 1 }, k2[] = { 2 }, k02[] = { 0, 2 };

	assert_int_equal(verify_with(k0, 1, json_pack("[s, s]", kid(0), kid(1)), 1), 0);
	assert_int_equal(verify_with(k01, 2, json_pack("[s, s]", kid(0), kid(1)), 2), 0);
	assert_int_equal(verify_with(k0, 1, json_pack("[s, s]", kid(0), kid(1)), 2),
			 -EKEYREJECTED);
	/* A key the root does not know does not count, even if listed in the role. */
	assert_int_equal(verify_with(k2, 1, json_pack("[s]", kid(2)), 1), -EKEYREJECTED);
	assert_int_equal(verify_with(k02, 2, json_pack("[s, s]", kid(0), kid(2)), 2),
			 -EKEYREJECTED);
	/* A key known to root but not in the role does not count. */
	assert_int_equal(verify_with(k01, 2, json_pack("[s]", kid(0)), 2), -EKEYREJECTED);
}

/* A keyid listed several times in a role counts once. */
static void test_threshold_duplicate_role_keyids(void **state)
{
	static const int k0[] = { 0 };

	assert_int_equal(verify_with(k0, 1, json_pack("[s, s, s]", kid(0), kid(0), kid(0)), 2),
			 -EKEYREJECTED);
	assert_int_equal(verify_with(k0, 1, json_pack("[s, s, s]", kid(0), kid(0), kid(0)), 1), 0);
}

/* A bad or empty signature next to a good one: the good one still counts. */
static void test_invalid_signature_beside_valid(void **state)
{
	static const int k01[] = { 0, 1 };
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *root = NULL, *m = NULL;
	_cleanup_free_ char *rt = NULL, *text = NULL, *dump = NULL;
	json_t *doc, *keyids = NULL;
	char err[256];
	size_t rlen, len;

	rt = publish(root_body(), k01, 1, &rlen);
	assert_int_equal(tuf_metadata_parse(rt, rlen, "root", "root", &root, err, sizeof(err)), 0);
	text = publish(timestamp_body(), k01, 2, &len);
	doc = json_loads(text, 0, NULL);
	json_object_set_new(json_array_get(json_object_get(doc, "signatures"), 1), "sig",
			    json_string(""));
	dump = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	assert_int_equal(tuf_metadata_parse(dump, strlen(dump), "timestamp", "ts", &m, err,
					    sizeof(err)),
			 0);
	keyids = json_pack("[s, s]", kid(0), kid(1));
	assert_int_equal(tuf_metadata_verify(m, root->keys, keyids, 1, "timestamp", err,
					     sizeof(err)),
			 0);
	assert_int_equal(tuf_metadata_verify(m, root->keys, keyids, 2, "timestamp", err,
					     sizeof(err)),
			 -EKEYREJECTED);
	json_decref(keyids);
}

/* A key of a scheme we do not know keeps the metadata valid; it just never signs. */
static void test_unsupported_key_in_root(void **state)
{
	static const int k0[] = { 0 };
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *m = NULL;
	_cleanup_free_ char *text = NULL;
	json_t *b = root_body();
	char err[256];
	size_t len;

	json_object_set_new(json_object_get(b, "keys"), "oidc",
			    json_pack("{s:s, s:s, s:{s:s}}", "keytype", "sigstore-oidc", "scheme",
				      "Fulcio", "keyval", "public", "x"));
	json_array_append_new(json_object_get(json_object_get(json_object_get(b, "roles"), "root"),
					      "keyids"),
			      json_string("oidc"));
	text = publish(b, k0, 1, &len);
	assert_int_equal(tuf_metadata_parse(text, len, "root", "root", &m, err, sizeof(err)), 0);
	assert_null(tuf_keyset_get(m->keys, "oidc"));
	assert_int_equal(tuf_metadata_verify(m, m->keys,
					     json_object_get(json_object_get(json_object_get(
									     m->body, "roles"),
								     "root"),
							     "keyids"),
					     1, "root", err, sizeof(err)),
			 0);
}

/* The parse cache: the same bytes share one parsed object, other bytes do not. */
static void test_parse_cache(void **state)
{
	static const int one[] = { 0 };
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *a = NULL, *b = NULL, *c = NULL;
	_cleanup_free_ char *text = NULL, *other = NULL;
	json_t *body;
	char err[256];
	size_t len, olen;

	text = publish(timestamp_body(), one, 1, &len);
	assert_int_equal(tuf_metadata_parse_cached(text, len, "timestamp", "a", &a, err, sizeof(err)),
			 0);
	assert_int_equal(tuf_metadata_parse_cached(text, len, "timestamp", "b", &b, err, sizeof(err)),
			 0);
	assert_ptr_equal(a, b);
	/* The same bytes as another type are parsed (and refused) on their own. */
	assert_int_equal(tuf_metadata_parse_cached(text, len, "snapshot", "c", &c, err, sizeof(err)),
			 -EBADMSG);
	body = timestamp_body();
	json_object_set_new(body, "version", json_integer(2));
	other = publish(body, one, 1, &olen);
	assert_int_equal(tuf_metadata_parse_cached(other, olen, "timestamp", "c", &c, err,
						   sizeof(err)),
			 0);
	assert_ptr_not_equal(a, c);
	assert_int_equal(c->version, 2);
	tuf_metadata_cache_clear();
	/* References held outside the cache stay valid. */
	assert_int_equal(a->version, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_parse),
		cmocka_unit_test(test_time_format),
		cmocka_unit_test(test_envelope_roundtrip),
		cmocka_unit_test(test_envelope_sign_errors),
		cmocka_unit_test(test_parse_each_role),
		cmocka_unit_test(test_not_json),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_not_object),
		cmocka_unit_test(test_duplicate_json_keys),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_spec_version),
		cmocka_unit_test(test_version_zero),
		cmocka_unit_test(test_version_not_integer),
		cmocka_unit_test(test_expires_format),
		cmocka_unit_test(test_real_in_signed),
		cmocka_unit_test(test_signatures_malformed),
		cmocka_unit_test(test_duplicate_signature_keyids),
		cmocka_unit_test(test_root_missing_role),
		cmocka_unit_test(test_root_threshold_zero),
		cmocka_unit_test(test_root_bad_key),
		cmocka_unit_test(test_root_consistent_not_bool),
		cmocka_unit_test(test_timestamp_without_snapshot),
		cmocka_unit_test(test_metafile_bad),
		cmocka_unit_test(test_target_without_hashes),
		cmocka_unit_test(test_target_negative_length),
		cmocka_unit_test(test_delegation_paths_and_prefixes),
		cmocka_unit_test(test_delegation_duplicate_names),
		cmocka_unit_test(test_delegation_top_level_name),
		cmocka_unit_test(test_delegation_terminating_missing),
		cmocka_unit_test(test_unknown_fields_signed),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_threshold_duplicate_role_keyids),
		cmocka_unit_test(test_invalid_signature_beside_valid),
		cmocka_unit_test(test_unsupported_key_in_root),
		cmocka_unit_test(test_parse_cache),
	};

	int r;

	setup_keys();
	r = TEST_MAIN(tests);
	teardown_keys();
	return r;
}
