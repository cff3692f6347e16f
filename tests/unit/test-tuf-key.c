/* SPDX-License-Identifier: GPL-2.0-or-later */
/* TUF keys: parsing, keyids, verification of each scheme, signers, PEM files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "fileio.h"
#include "key.h"
#include "test-lib.h"

static const char msg[] = "the bytes to sign\n";

/* RFC 8032 section 7.1, test 1 (empty message). */
static const char rfc8032_pub[] =
	"d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
static const char rfc8032_sig[] =
	"e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39"
	"701cf9b46bd25bf5f0595bbe24655141438e7a100b";

static json_t *key_json(const char *keytype, const char *scheme, const char *pub)
{
	return json_pack("{s:s, s:s, s:{s:s}}", "keytype", keytype, "scheme", scheme, "keyval",
			 "public", pub);
}

static int parse(json_t *j, struct tuf_key **ret)
{
	char err[256] = "";
	int r = tuf_key_from_json(j, ret, err, sizeof(err));

	if (r < 0)
		assert_true(err[0] != '\0');
	json_decref(j);
	return r;
}

static void test_scheme_strings(void **state)
{
	assert_string_equal(tuf_scheme_to_string(TUF_SCHEME_ED25519), "ed25519");
	assert_string_equal(tuf_scheme_to_string(TUF_SCHEME_ECDSA_P256), "ecdsa-sha2-nistp256");
	assert_string_equal(tuf_scheme_to_string(TUF_SCHEME_RSA_PSS_SHA256), "rsassa-pss-sha256");
	assert_string_equal(tuf_scheme_to_string(TUF_SCHEME_RSA_PKCS1V15_SHA256),
			    "rsa-pkcs1v15-sha256");
	assert_null(tuf_scheme_to_string(_TUF_SCHEME_MAX));
	assert_null(tuf_scheme_to_string(_TUF_SCHEME_INVALID));
	for (int i = 0; i < _TUF_SCHEME_MAX; i++)
		assert_int_equal(tuf_scheme_from_string(tuf_scheme_to_string(i)), i);
	assert_int_equal(tuf_scheme_from_string("ed448"), _TUF_SCHEME_INVALID);
	assert_int_equal(tuf_scheme_from_string(NULL), _TUF_SCHEME_INVALID);
}

/* keyid = sha256 of {"keytype":..,"keyval":{"public":..},"scheme":..} exactly. */
static void test_keyid(void **state)
{
	_cleanup_(tuf_key_freep) struct tuf_key *k = NULL;
	_cleanup_free_ char *canon = NULL, *want = NULL;
	unsigned char md[32];
	json_t *j;

	assert_int_equal(parse(key_json("ed25519", "ed25519", rfc8032_pub), &k), 0);
	assert_true(asprintf(&canon, "{\"keytype\":\"ed25519\",\"keyval\":{\"public\":\"%s\"},"
				     "\"scheme\":\"ed25519\"}", rfc8032_pub) > 0);
	assert_true(EVP_Digest(canon, strlen(canon), md, NULL, EVP_sha256(), NULL));
	want = tuf_hex_encode(md, sizeof(md));
	assert_string_equal(tuf_key_id(k), want);
	assert_int_equal(tuf_key_scheme(k), TUF_SCHEME_ED25519);
	j = tuf_key_to_json(k);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "keyval"),
							      "public")),
			    rfc8032_pub);
	json_decref(j);
}

/* Unknown fields of the key object are part of its keyid (the spec's rule)... */
static void test_keyid_unknown_fields(void **state)
{
	_cleanup_(tuf_key_freep) struct tuf_key *a = NULL, *b = NULL, *c = NULL;
	json_t *j = key_json("ed25519", "ed25519", rfc8032_pub);

	json_object_set_new(j, "x-extra", json_pack("{s:i}", "a", 1));
	assert_int_equal(parse(j, &a), 0);
	assert_int_equal(parse(key_json("ed25519", "ed25519", rfc8032_pub), &b), 0);
	assert_string_not_equal(tuf_key_id(a), tuf_key_id(b));
	/* ... but metadata name keys by the keyid they were published under. */
	j = key_json("ed25519", "ed25519", rfc8032_pub);
	assert_int_equal(tuf_key_from_json_id(j, "any-label", &c, NULL, 0), 0);
	json_decref(j);
	assert_string_equal(tuf_key_id(c), "any-label");
}

static void test_ed25519_known_answer(void **state)
{
	_cleanup_(tuf_key_freep) struct tuf_key *k = NULL;
	char upper[sizeof(rfc8032_sig)], bad[sizeof(rfc8032_sig)];

	assert_int_equal(parse(key_json("ed25519", "ed25519", rfc8032_pub), &k), 0);
	assert_int_equal(tuf_key_verify(k, "", 0, rfc8032_sig), 0);
	for (size_t i = 0; i < sizeof(upper); i++)
		upper[i] = (char)(rfc8032_sig[i] >= 'a' ? rfc8032_sig[i] - 32 : rfc8032_sig[i]);
	assert_int_equal(tuf_key_verify(k, "", 0, upper), 0);
	memcpy(bad, rfc8032_sig, sizeof(bad));
	bad[10] = bad[10] == '0' ? '1' : '0';
	assert_int_equal(tuf_key_verify(k, "", 0, bad), -EKEYREJECTED);
	assert_int_equal(tuf_key_verify(k, "x", 1, rfc8032_sig), -EKEYREJECTED);
}

/* Each scheme: sign, verify, and reject tampered data and signatures. */
static void roundtrip(enum tuf_scheme scheme)
{
	_cleanup_(tuf_signer_freep) struct tuf_signer *s = NULL;
	_cleanup_(tuf_key_freep) struct tuf_key *k = NULL;
	_cleanup_free_ char *sig = NULL;
	char err[256];
	size_t n;

	assert_int_equal(tuf_signer_generate(scheme, &s), 0);
	assert_int_equal(tuf_key_scheme(tuf_signer_key(s)), scheme);
	assert_int_equal(tuf_signer_sign(s, msg, sizeof(msg) - 1, &sig, err, sizeof(err)), 0);
	/* The published public key parses back to the same keyid. */
	assert_int_equal(parse(tuf_key_to_json(tuf_signer_key(s)), &k), 0);
	assert_string_equal(tuf_key_id(k), tuf_key_id(tuf_signer_key(s)));
	assert_int_equal(tuf_key_verify(k, msg, sizeof(msg) - 1, sig), 0);
	assert_int_equal(tuf_key_verify(k, msg, sizeof(msg) - 2, sig), -EKEYREJECTED);
	n = strlen(sig);
	sig[n - 3] = sig[n - 3] == 'a' ? 'b' : 'a';
	assert_int_equal(tuf_key_verify(k, msg, sizeof(msg) - 1, sig), -EKEYREJECTED);
	assert_int_equal(tuf_key_verify(k, msg, sizeof(msg) - 1, ""), -EKEYREJECTED);
	assert_int_equal(tuf_key_verify(k, msg, sizeof(msg) - 1, "abc"), -EKEYREJECTED);
	assert_int_equal(tuf_key_verify(k, msg, sizeof(msg) - 1, "zz"), -EKEYREJECTED);
	assert_int_equal(tuf_key_verify(k, msg, sizeof(msg) - 1, NULL), -EKEYREJECTED);
}

static void test_ed25519(void **state)
{
	roundtrip(TUF_SCHEME_ED25519);
}

static void test_ecdsa_p256(void **state)
{
	roundtrip(TUF_SCHEME_ECDSA_P256);
}

static void test_rsa_pss(void **state)
{
	roundtrip(TUF_SCHEME_RSA_PSS_SHA256);
}

static void test_rsa_pkcs1v15(void **state)
{
	roundtrip(TUF_SCHEME_RSA_PKCS1V15_SHA256);
}

/* A signature of one scheme does not verify under another key. */
static void test_cross_key(void **state)
{
	_cleanup_(tuf_signer_freep) struct tuf_signer *a = NULL, *b = NULL;
	_cleanup_free_ char *sig = NULL;

	assert_int_equal(tuf_signer_generate(TUF_SCHEME_ECDSA_P256, &a), 0);
	assert_int_equal(tuf_signer_generate(TUF_SCHEME_ECDSA_P256, &b), 0);
	assert_int_equal(tuf_signer_sign(a, msg, 5, &sig, NULL, 0), 0);
	assert_int_equal(tuf_key_verify(tuf_signer_key(b), msg, 5, sig), -EKEYREJECTED);
}

static void test_key_not_object(void **state)
{
	struct tuf_key *k = NULL;

	assert_int_equal(parse(json_string("ed25519"), &k), -EBADMSG);
}

static void test_key_missing_public(void **state)
{
	struct tuf_key *k = NULL;

	assert_int_equal(parse(json_pack("{s:s, s:s, s:{}}", "keytype", "ed25519", "scheme",
					 "ed25519", "keyval"),
			       &k),
			 -EBADMSG);
	assert_int_equal(parse(json_pack("{s:s, s:{s:s}}", "keytype", "ed25519", "keyval",
					 "public", rfc8032_pub),
			       &k),
			 -EBADMSG);
}

static void test_key_unknown_scheme(void **state)
{
	struct tuf_key *k = NULL;

	assert_int_equal(parse(key_json("sigstore-oidc", "Fulcio", "x"), &k), -EOPNOTSUPP);
	assert_int_equal(parse(key_json("ed25519", "ed448", rfc8032_pub), &k), -EOPNOTSUPP);
}

static void test_key_type_scheme_mismatch(void **state)
{
	struct tuf_key *k = NULL;

	assert_int_equal(parse(key_json("rsa", "ed25519", rfc8032_pub), &k), -EOPNOTSUPP);
}

static void test_key_bad_ed25519_hex(void **state)
{
	struct tuf_key *k = NULL;

	assert_int_equal(parse(key_json("ed25519", "ed25519", "d75a98"), &k), -EBADMSG);
	assert_int_equal(parse(key_json("ed25519", "ed25519",
					"g75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"),
			       &k),
			 -EBADMSG);
}

static void test_key_ecdsa_not_pem(void **state)
{
	struct tuf_key *k = NULL;

	assert_int_equal(parse(key_json("ecdsa", "ecdsa-sha2-nistp256", rfc8032_pub), &k),
			 -EBADMSG);
}

static char *public_pem(EVP_PKEY *p)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *s;
	long n;

	assert_int_equal(PEM_write_bio_PUBKEY(bio, p), 1);
	n = BIO_get_mem_data(bio, &data);
	s = strndup(data, (size_t)n);
	BIO_free(bio);
	EVP_PKEY_free(p);
	return s;
}

static void test_key_ecdsa_wrong_curve(void **state)
{
	_cleanup_free_ char *pem = public_pem(EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"));
	struct tuf_key *k = NULL;

	assert_int_equal(parse(key_json("ecdsa", "ecdsa-sha2-nistp256", pem), &k), -EBADMSG);
}

static void test_key_rsa_too_small(void **state)
{
	_cleanup_free_ char *pem = public_pem(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024));
	struct tuf_key *k = NULL;

	assert_int_equal(parse(key_json("rsa", "rsassa-pss-sha256", pem), &k), -EBADMSG);
}

/* An ed25519 key published as an "ecdsa" key is refused, not confused. */
static void test_key_pem_of_other_type(void **state)
{
	_cleanup_free_ char *pem = public_pem(EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	struct tuf_key *k = NULL;

	assert_int_equal(parse(key_json("ecdsa", "ecdsa-sha2-nistp256", pem), &k), -EBADMSG);
	assert_int_equal(parse(key_json("rsa", "rsassa-pss-sha256", pem), &k), -EBADMSG);
}

static void test_hex(void **state)
{
	_cleanup_free_ char *hex = tuf_hex_encode("\x00\xff\x10", 3);
	_cleanup_free_ unsigned char *b = NULL;
	unsigned char *x = NULL;
	size_t n;

	assert_string_equal(hex, "00ff10");
	assert_int_equal(tuf_hex_decode("00FF10", 3, &b, &n), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(b, "\x00\xff\x10", 3);
	assert_int_equal(tuf_hex_decode("00FF10", 2, &x, &n), -EBADMSG);
	assert_int_equal(tuf_hex_decode("0", 2, &x, &n), -EBADMSG);
	assert_int_equal(tuf_hex_decode("0x", 2, &x, &n), -EBADMSG);
	assert_null(x);
}

static int setup_dir(void **state)
{
	*state = test_tmpdir_new();
	return 0;
}

static int teardown_dir(void **state)
{
	test_tmpdir_remove(*state);
	return 0;
}

static void test_pem_plain(void **state)
{
	_cleanup_(tuf_signer_freep) struct tuf_signer *s = NULL, *l = NULL;
	_cleanup_free_ char *path = path_join(*state, "k.pem"), *sig = NULL, *buf = NULL;
	char err[256];
	struct stat st;
	size_t len;

	assert_int_equal(tuf_signer_generate(TUF_SCHEME_ED25519, &s), 0);
	assert_int_equal(tuf_signer_save_pem(s, path, NULL, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(read_file_bounded(path, 0, &buf, &len), 0);
	assert_non_null(strstr(buf, "-----BEGIN PRIVATE KEY-----"));
	assert_int_equal(tuf_signer_load_pem(path, NULL, &l, err, sizeof(err)), 0);
	assert_string_equal(tuf_key_id(tuf_signer_key(l)), tuf_key_id(tuf_signer_key(s)));
	assert_int_equal(tuf_signer_sign(l, msg, 4, &sig, err, sizeof(err)), 0);
	assert_int_equal(tuf_key_verify(tuf_signer_key(s), msg, 4, sig), 0);
}

static void test_pem_encrypted(void **state)
{
	_cleanup_(tuf_signer_freep) struct tuf_signer *s = NULL, *l = NULL;
	_cleanup_free_ char *path = path_join(*state, "k.pem"), *buf = NULL;
	struct tuf_signer *none = NULL;
	char err[256];
	size_t len;

	assert_int_equal(tuf_signer_generate(TUF_SCHEME_ECDSA_P256, &s), 0);
	assert_int_equal(tuf_signer_save_pem(s, path, "correct horse", err, sizeof(err)), 0);
	assert_int_equal(read_file_bounded(path, 0, &buf, &len), 0);
	assert_non_null(strstr(buf, "-----BEGIN ENCRYPTED PRIVATE KEY-----"));
	assert_int_equal(tuf_signer_load_pem(path, NULL, &none, err, sizeof(err)), -EKEYREJECTED);
	assert_non_null(strstr(err, "no passphrase"));
	assert_int_equal(tuf_signer_load_pem(path, "wrong horse", &none, err, sizeof(err)),
			 -EKEYREJECTED);
	assert_non_null(strstr(err, "wrong passphrase"));
	assert_null(none);
	assert_int_equal(tuf_signer_load_pem(path, "correct horse", &l, err, sizeof(err)), 0);
	assert_string_equal(tuf_key_id(tuf_signer_key(l)), tuf_key_id(tuf_signer_key(s)));
}

static void test_pem_missing(void **state)
{
	_cleanup_free_ char *path = path_join(*state, "none.pem");
	struct tuf_signer *s = NULL;
	char err[256];

	assert_int_equal(tuf_signer_load_pem(path, NULL, &s, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "none.pem"));
}

static void test_pem_garbage(void **state)
{
	_cleanup_free_ char *path = path_join(*state, "bad.pem");
	struct tuf_signer *s = NULL;
	char err[256];

	assert_int_equal(write_file_atomic(path, "-----BEGIN PRIVATE KEY-----\nAAAA\n", 33, 0600),
			 0);
	assert_int_equal(tuf_signer_load_pem(path, NULL, &s, err, sizeof(err)), -EKEYREJECTED);
}

static void test_pem_too_large(void **state)
{
	_cleanup_free_ char *path = path_join(*state, "big.pem"), *big = calloc(1, 70000);
	struct tuf_signer *s = NULL;
	char err[256];

	memset(big, 'A', 70000);
	assert_int_equal(write_file_atomic(path, big, 70000, 0600), 0);
	assert_int_equal(tuf_signer_load_pem(path, NULL, &s, err, sizeof(err)), -EFBIG);
}

/* A command signer holds no key: it cannot be saved. */
static void test_pem_save_command_refused(void **state)
{
	_cleanup_(tuf_signer_freep) struct tuf_signer *c = NULL;
	_cleanup_free_ char *path = path_join(*state, "c.pem");
	json_t *pub = key_json("ed25519", "ed25519", rfc8032_pub);
	char err[256];

	assert_int_equal(tuf_signer_new_command("false", pub, &c, err, sizeof(err)), 0);
	json_decref(pub);
	assert_int_equal(tuf_signer_save_pem(c, path, NULL, err, sizeof(err)), -EINVAL);
}

/* openssl as the external signer (what an HSM's tool looks like to us); the
 * private key's path is in $TUF_TEST_KEY. */
static struct tuf_signer *openssl_signer(const char *dir, const char *pipeline)
{
	_cleanup_(tuf_signer_freep) struct tuf_signer *s = NULL;
	_cleanup_free_ char *pem = path_join(dir, "hsm.pem");
	struct tuf_signer *c = NULL;
	char err[256];
	json_t *pub;

	assert_int_equal(tuf_signer_generate(TUF_SCHEME_ECDSA_P256, &s), 0);
	assert_int_equal(tuf_signer_save_pem(s, pem, NULL, err, sizeof(err)), 0);
	assert_int_equal(setenv("TUF_TEST_KEY", pem, 1), 0);
	pub = tuf_key_to_json(tuf_signer_key(s));
	assert_int_equal(tuf_signer_new_command(pipeline, pub, &c, err, sizeof(err)), 0);
	json_decref(pub);
	return c;
}

static void test_command_signer(void **state)
{
	_cleanup_(tuf_signer_freep) struct tuf_signer *c =
		openssl_signer(*state, "openssl dgst -sha256 -sign \"$TUF_TEST_KEY\" | od -An -tx1 | "
				       "tr -d ' \\n'; echo");
	_cleanup_free_ char *sig = NULL;
	char err[256];

	assert_int_equal(tuf_signer_sign(c, msg, sizeof(msg) - 1, &sig, err, sizeof(err)), 0);
	assert_int_equal(tuf_key_verify(tuf_signer_key(c), msg, sizeof(msg) - 1, sig), 0);
}

static void test_command_signer_wrong_signature(void **state)
{
	_cleanup_(tuf_signer_freep) struct tuf_signer *c =
		openssl_signer(*state, "cat >/dev/null; echo 3045022100ee448afe2d25dd1f05afedac83a2"
				       "4e7df90f203615221434979153dc7cea6d4702207710015851e571885a77"
				       "db8a6e42c4b2983a59b9e1ebec91178dfa2fb0d42ab8");
	char *sig = NULL, err[256];

	assert_int_equal(tuf_signer_sign(c, msg, 4, &sig, err, sizeof(err)), -EKEYREJECTED);
	assert_null(sig);
	assert_non_null(strstr(err, "no valid signature"));
}

static void test_command_signer_fails(void **state)
{
	_cleanup_(tuf_signer_freep) struct tuf_signer *c =
		openssl_signer(*state, "echo no HSM >&2; exit 3");
	char *sig = NULL, err[256];

	assert_int_equal(tuf_signer_sign(c, msg, 4, &sig, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "status 3"));
}

static void test_command_signer_endless_output(void **state)
{
	_cleanup_(tuf_signer_freep) struct tuf_signer *c =
		openssl_signer(*state, "yes 00");
	char *sig = NULL, err[256];

	assert_int_equal(tuf_signer_sign(c, msg, 4, &sig, err, sizeof(err)), -EFBIG);
}

static void test_command_signer_bad_args(void **state)
{
	struct tuf_signer *c = NULL;
	json_t *bad = key_json("ed25519", "ed25519", "00");
	char err[256];

	assert_int_equal(tuf_signer_new_command("", bad, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(tuf_signer_new_command("true", bad, &c, err, sizeof(err)), -EBADMSG);
	assert_null(c);
	json_decref(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scheme_strings),
		cmocka_unit_test(test_keyid),
		cmocka_unit_test(test_keyid_unknown_fields),
		cmocka_unit_test(test_ed25519_known_answer),
		cmocka_unit_test(test_ed25519),
		cmocka_unit_test(test_ecdsa_p256),
		cmocka_unit_test(test_rsa_pss),
		cmocka_unit_test(test_rsa_pkcs1v15),
		cmocka_unit_test(test_cross_key),
		cmocka_unit_test(test_key_not_object),
		cmocka_unit_test(test_key_missing_public),
		cmocka_unit_test(test_key_unknown_scheme),
		cmocka_unit_test(test_key_type_scheme_mismatch),
		cmocka_unit_test(test_key_bad_ed25519_hex),
		cmocka_unit_test(test_key_ecdsa_not_pem),
		cmocka_unit_test(test_key_ecdsa_wrong_curve),
		cmocka_unit_test(test_key_rsa_too_small),
		cmocka_unit_test(test_key_pem_of_other_type),
		cmocka_unit_test(test_hex),
		cmocka_unit_test_setup_teardown(test_pem_plain, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_pem_encrypted, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_pem_missing, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_pem_garbage, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_pem_too_large, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_pem_save_command_refused, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_command_signer, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_command_signer_wrong_signature, setup_dir,
						teardown_dir),
		cmocka_unit_test_setup_teardown(test_command_signer_fails, setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_command_signer_endless_output, setup_dir,
						teardown_dir),
		cmocka_unit_test(test_command_signer_bad_args),
	};

	return TEST_MAIN(tests);
}
