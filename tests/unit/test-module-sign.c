/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * module-sign: a signature appended the way the module loader reads it,
 * checked back with libcrypto's CMS verifier against the certificate, and
 * the refusals (signed twice, wrong key, locked key, broken trailers).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fileio.h"
#include "macro.h"
#include "module-sign.h"
#include "test-lib.h"

struct fixture {
	char *dir, *module, *key, *cert, *key2, *locked;
};

/* A fake module: the signer does not parse ELF, the loader hashes bytes. */
static const char module_bytes[] = "\x7f" "ELF\2\1\1 not really a module, but bytes to sign\n";

static EVP_PKEY *new_key(void)
{
	return EVP_RSA_gen(2048);
}

static X509 *self_signed(EVP_PKEY *key)
{
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"tuxtape test",
				   -1, -1, 0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	return x;
}

static void write_key(const char *path, EVP_PKEY *key, const char *pass)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, key, pass ? EVP_aes_256_cbc() : NULL, NULL, 0,
					      NULL, (void *)pass),
			 1);
	fclose(f);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	EVP_PKEY *key = new_key(), *key2 = new_key();
	X509 *cert;
	FILE *f;

	assert_non_null(fx);
	assert_non_null(key);
	assert_non_null(key2);
	fx->dir = test_tmpdir_new();
	assert_true(asprintf(&fx->module, "%s/lp.ko", fx->dir) > 0);
	assert_true(asprintf(&fx->key, "%s/key.pem", fx->dir) > 0);
	assert_true(asprintf(&fx->cert, "%s/cert.pem", fx->dir) > 0);
	assert_true(asprintf(&fx->key2, "%s/other.pem", fx->dir) > 0);
	assert_true(asprintf(&fx->locked, "%s/locked.pem", fx->dir) > 0);
	assert_int_equal(write_file_atomic(fx->module, module_bytes, sizeof(module_bytes) - 1, 0644),
			 0);
	write_key(fx->key, key, NULL);
	write_key(fx->key2, key2, NULL);
	write_key(fx->locked, key, "sesame");
	cert = self_signed(key);
	f = fopen(fx->cert, "w");
	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, cert), 1);
	fclose(f);
	X509_free(cert);
	EVP_PKEY_free(key);
	EVP_PKEY_free(key2);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	test_tmpdir_remove(fx->dir);
	free(fx->module);
	free(fx->key);
	free(fx->cert);
	free(fx->key2);
	free(fx->locked);
	free(fx);
	unsetenv("KBUILD_SIGN_PIN");
	return 0;
}

/* CMS_verify of the detached signature over content, trusting only cert_path. */
static int cms_check(const char *image, size_t content_len, size_t sig_off, size_t sig_len,
		     const char *cert_path)
{
	const unsigned char *der = (const unsigned char *)image + sig_off;
	CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &der, (long)sig_len);
	BIO *content = BIO_new_mem_buf(image, (int)content_len);
	STACK_OF(X509) *certs = sk_X509_new_null();
	FILE *f = fopen(cert_path, "r");
	X509 *cert = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	int ok;

	if (f)
		fclose(f);
	assert_non_null(cms);
	assert_non_null(cert);
	sk_X509_push(certs, cert);
	ok = CMS_verify(cms, certs, NULL, content, NULL, CMS_BINARY | CMS_NO_SIGNER_CERT_VERIFY);
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	BIO_free(content);
	CMS_ContentInfo_free(cms);
	return ok;
}

static void test_sign_and_verify(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *image = NULL;
	size_t len, content_len, sig_off, sig_len;
	char err[256] = "";

	assert_int_equal(module_sign_file(fx->module, fx->key, fx->cert, "sha256", err, sizeof(err)),
			 0);
	assert_int_equal(read_file_bounded(fx->module, 1 << 20, &image, &len), 0);
	assert_int_equal(module_signature_find(image, len, &content_len, &sig_off, &sig_len), 0);
	/* the module's own bytes are kept, then the signature, trailer and magic */
	assert_int_equal(content_len, sizeof(module_bytes) - 1);
	assert_memory_equal(image, module_bytes, content_len);
	assert_int_equal(len, content_len + sig_len + 12 + strlen(MODULE_SIGNATURE_MAGIC));
	assert_int_equal(image[sig_off + sig_len + 2], 2); /* PKEY_ID_PKCS7 */
	assert_int_equal(cms_check(image, content_len, sig_off, sig_len, fx->cert), 1);

	/* one flipped byte of the module and the signature no longer holds */
	image[10] ^= 1;
	assert_int_equal(cms_check(image, content_len, sig_off, sig_len, fx->cert), 0);

	/* signing twice is refused, the file stays as it was */
	assert_int_equal(module_sign_file(fx->module, fx->key, fx->cert, "sha256", err, sizeof(err)),
			 -EALREADY);
	assert_non_null(strstr(err, "already"));
}

static void test_refusals(void **state)
{
	struct fixture *fx = *state;
	_cleanup_free_ char *before = NULL, *after = NULL;
	size_t blen, alen;
	char err[256] = "";

	assert_int_equal(read_file_bounded(fx->module, 1 << 20, &before, &blen), 0);
	/* a key that is not the certificate's */
	assert_int_equal(module_sign_file(fx->module, fx->key2, fx->cert, "sha256", err, sizeof(err)),
			 -EKEYREJECTED);
	assert_non_null(strstr(err, "does not match"));
	/* an encrypted key without the PIN, then with a wrong one */
	unsetenv("KBUILD_SIGN_PIN");
	assert_int_equal(module_sign_file(fx->module, fx->locked, fx->cert, "sha256", err,
					  sizeof(err)),
			 -EKEYREJECTED);
	assert_non_null(strstr(err, fx->locked));
	setenv("KBUILD_SIGN_PIN", "wrong", 1);
	assert_int_equal(module_sign_file(fx->module, fx->locked, fx->cert, "sha256", err,
					  sizeof(err)),
			 -EKEYREJECTED);
	/* the certificate file holds a key, not a certificate */
	assert_int_equal(module_sign_file(fx->module, fx->key, fx->key, "sha256", err, sizeof(err)),
			 -EKEYREJECTED);
	assert_non_null(strstr(err, "certificate"));
	assert_int_equal(module_sign_file(fx->module, fx->key, fx->cert, "nosuchhash", err,
					  sizeof(err)),
			 -EINVAL);
	assert_int_equal(module_sign_file(fx->module, "/nonexistent/key.pem", fx->cert, "sha256",
					  err, sizeof(err)),
			 -ENOENT);
	/* nothing of that touched the module */
	assert_int_equal(read_file_bounded(fx->module, 1 << 20, &after, &alen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(after, before, blen);

	/* the right PIN opens the encrypted key */
	setenv("KBUILD_SIGN_PIN", "sesame", 1);
	assert_int_equal(module_sign_file(fx->module, fx->locked, fx->cert, "sha512", err,
					  sizeof(err)),
			 0);
}

static void test_find_malformed(void **state)
{
	static const char magic[] = MODULE_SIGNATURE_MAGIC;
	char buf[256];
	size_t n, a, b, c;

	(void)state;
	assert_int_equal(module_signature_find(module_bytes, sizeof(module_bytes) - 1, &a, &b, &c),
			 -ENODATA);
	/* magic with no room for a trailer */
	assert_int_equal(module_signature_find(magic, strlen(magic), &a, &b, &c), -EBADMSG);
	/* a trailer claiming more signature than the file holds */
	memset(buf, 'x', 40);
	memcpy(buf + 40, "\0\0\2\0\0\0\0\0\0\0\1\0", 12);
	memcpy(buf + 52, magic, strlen(magic));
	n = 52 + strlen(magic);
	assert_int_equal(module_signature_find(buf, n, &a, &b, &c), -EBADMSG);
	/* not PKCS#7 (id_type 1 = X.509 key id, never used by the kernel) */
	buf[42] = 1;
	buf[50] = 0;
	buf[51] = 8;
	assert_int_equal(module_signature_find(buf, n, &a, &b, &c), -EBADMSG);
	/* a well-formed one */
	buf[42] = 2;
	assert_int_equal(module_signature_find(buf, n, &a, &b, &c), 0);
	assert_int_equal(a, 32);
	assert_int_equal(c, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sign_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test(test_find_malformed),
	};

	return test_run_group("module-sign", tests, ARRAY_SIZE(tests));
}
