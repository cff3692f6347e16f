/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
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

/* Modules and keys we read: a livepatch module is at most a few MiB. */
#define MODULE_SIGN_INPUT_MAX (256u * 1024 * 1024)
#define KEY_FILE_MAX (1u * 1024 * 1024)
#define TRAILER_LEN 12
#define ID_TYPE_PKCS7 2

static int fail(char *reterr, size_t errsize, int r, const char *fmt, ...) _printf_(4, 5);
static int fail(char *reterr, size_t errsize, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reterr, errsize, fmt, ap);
	va_end(ap);
	return r;
}

/* Appends libcrypto's first queued error to reterr, so the cause is named. */
static int fail_crypto(char *reterr, size_t errsize, int r, const char *what, const char *path)
{
	unsigned long e = ERR_get_error();
	char buf[160] = "";

	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return fail(reterr, errsize, r, "%s '%s'%s%s", what, path, *buf ? ": " : "", buf);
}

int module_signature_find(const void *image, size_t len, size_t *ret_content_len,
			  size_t *ret_sig_off, size_t *ret_sig_len)
{
	const unsigned char *p = image;
	size_t magic_len = sizeof(MODULE_SIGNATURE_MAGIC) - 1, sig_len, end;
	const unsigned char *t;

	if (!image || len < magic_len ||
	    memcmp(p + len - magic_len, MODULE_SIGNATURE_MAGIC, magic_len) != 0)
		return -ENODATA;
	end = len - magic_len;
	if (end < TRAILER_LEN)
		return -EBADMSG;
	t = p + end - TRAILER_LEN;
	/* algo, hash, signer_len and key_id_len are 0 for PKCS#7 */
	if (t[0] || t[1] || t[2] != ID_TYPE_PKCS7 || t[3] || t[4])
		return -EBADMSG;
	sig_len = (size_t)t[8] << 24 | (size_t)t[9] << 16 | (size_t)t[10] << 8 | t[11];
	if (sig_len == 0 || sig_len > MODULE_SIGNATURE_MAX || sig_len > end - TRAILER_LEN)
		return -EBADMSG;
	*ret_content_len = end - TRAILER_LEN - sig_len;
	*ret_sig_off = *ret_content_len;
	*ret_sig_len = sig_len;
	return 0;
}

static int pem_passphrase(char *buf, int size, int rwflag, void *userdata)
{
	const char *pin = getenv("KBUILD_SIGN_PIN");
	size_t n;

	(void)rwflag;
	(void)userdata;
	if (!pin || size <= 0)
		return -1;
	n = strlen(pin);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pin, n);
	return (int)n;
}

static int read_key(const char *path, EVP_PKEY **ret, char *reterr, size_t errsize)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	BIO *b;
	EVP_PKEY *key;
	int r;

	r = read_file_bounded(path, KEY_FILE_MAX, &buf, &len);
	if (r < 0)
		return fail(reterr, errsize, r, "cannot read the signing key '%s': %s", path,
			    strerror(-r));
	b = BIO_new_mem_buf(buf, (int)len);
	if (!b)
		return -ENOMEM;
	key = PEM_read_bio_PrivateKey(b, NULL, pem_passphrase, NULL);
	BIO_free(b);
	explicit_bzero(buf, len);
	if (!key)
		return fail_crypto(reterr, errsize, -EKEYREJECTED,
				   "no usable PEM private key (encrypted keys need KBUILD_SIGN_PIN) in",
				   path);
	*ret = key;
	return 0;
}

static int read_cert(const char *path, X509 **ret, char *reterr, size_t errsize)
{
	_cleanup_free_ char *buf = NULL;
	const unsigned char *der;
	size_t len;
	X509 *x = NULL;
	BIO *b;
	int r;

	r = read_file_bounded(path, KEY_FILE_MAX, &buf, &len);
	if (r < 0)
		return fail(reterr, errsize, r, "cannot read the certificate '%s': %s", path,
			    strerror(-r));
	b = BIO_new_mem_buf(buf, (int)len);
	if (!b)
		return -ENOMEM;
	x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	if (!x) {
		ERR_clear_error();
		der = (const unsigned char *)buf;
		x = d2i_X509(NULL, &der, (long)len);
	}
	if (!x)
		return fail_crypto(reterr, errsize, -EKEYREJECTED,
				   "no X.509 certificate (PEM or DER) in", path);
	*ret = x;
	return 0;
}

/* The DER CMS SignedData over data, detached, as the module loader wants it. */
static int cms_sign(const void *data, size_t len, X509 *cert, EVP_PKEY *key, const EVP_MD *md,
		    unsigned char **ret_der, size_t *ret_len, const char *path, char *reterr,
		    size_t errsize)
{
	const unsigned flags = CMS_NOCERTS | CMS_PARTIAL | CMS_BINARY | CMS_DETACHED;
	CMS_ContentInfo *cms = NULL;
	BIO *in = NULL, *out = NULL;
	BUF_MEM *mem;
	int r = -EIO;

	in = BIO_new_mem_buf(data, (int)len);
	out = BIO_new(BIO_s_mem());
	if (!in || !out) {
		r = -ENOMEM;
		goto out;
	}
	cms = CMS_sign(NULL, NULL, NULL, NULL, flags);
	if (!cms ||
	    !CMS_add1_signer(cms, cert, key, md,
			     CMS_NOCERTS | CMS_BINARY | CMS_NOSMIMECAP | CMS_NOATTR) ||
	    CMS_final(cms, in, NULL, CMS_BINARY) != 1 || i2d_CMS_bio(out, cms) != 1) {
		r = fail_crypto(reterr, errsize, -EIO, "cannot sign", path);
		goto out;
	}
	BIO_get_mem_ptr(out, &mem);
	if (!mem || mem->length == 0 || mem->length > MODULE_SIGNATURE_MAX) {
		r = fail(reterr, errsize, -EIO, "cannot sign '%s': odd signature size", path);
		goto out;
	}
	*ret_der = malloc(mem->length);
	if (!*ret_der) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(*ret_der, mem->data, mem->length);
	*ret_len = mem->length;
	r = 0;
out:
	CMS_ContentInfo_free(cms);
	BIO_free(in);
	BIO_free(out);
	return r;
}

int module_sign_file(const char *path, const char *key_path, const char *cert_path,
		     const char *hash, char *reterr, size_t errsize)
{
	_cleanup_free_ char *image = NULL, *signed_image = NULL;
	_cleanup_free_ unsigned char *sig = NULL;
	size_t len, sig_len = 0, a, b, c, total;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	const EVP_MD *md;
	unsigned char trailer[TRAILER_LEN] = { 0, 0, ID_TYPE_PKCS7 };
	int r;

	if (!path || !key_path || !cert_path)
		return fail(reterr, errsize, -EINVAL, "signing needs a module, a key and a certificate");
	md = EVP_get_digestbyname(hash ? hash : "sha256");
	if (!md)
		return fail(reterr, errsize, -EINVAL, "unknown signature hash '%s'", hash);
	r = read_file_bounded(path, MODULE_SIGN_INPUT_MAX, &image, &len);
	if (r < 0)
		return fail(reterr, errsize, r, "cannot read the module '%s': %s", path,
			    strerror(-r));
	if (module_signature_find(image, len, &a, &b, &c) != -ENODATA)
		return fail(reterr, errsize, -EALREADY, "'%s' already carries a signature", path);
	r = read_key(key_path, &key, reterr, errsize);
	if (r < 0)
		return r;
	r = read_cert(cert_path, &cert, reterr, errsize);
	if (r < 0)
		goto out;
	if (X509_check_private_key(cert, key) != 1) {
		ERR_clear_error();
		r = fail(reterr, errsize, -EKEYREJECTED,
			 "the key '%s' does not match the certificate '%s'", key_path, cert_path);
		goto out;
	}
	r = cms_sign(image, len, cert, key, md, &sig, &sig_len, path, reterr, errsize);
	if (r < 0)
		goto out;

	trailer[8] = (unsigned char)(sig_len >> 24);
	trailer[9] = (unsigned char)(sig_len >> 16);
	trailer[10] = (unsigned char)(sig_len >> 8);
	trailer[11] = (unsigned char)sig_len;
	total = len + sig_len + TRAILER_LEN + sizeof(MODULE_SIGNATURE_MAGIC) - 1;
	signed_image = malloc(total);
	if (!signed_image) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(signed_image, image, len);
	memcpy(signed_image + len, sig, sig_len);
	memcpy(signed_image + len + sig_len, trailer, TRAILER_LEN);
	memcpy(signed_image + len + sig_len + TRAILER_LEN, MODULE_SIGNATURE_MAGIC,
	       sizeof(MODULE_SIGNATURE_MAGIC) - 1);
	r = write_file_atomic(path, signed_image, total, 0644);
	if (r < 0)
		r = fail(reterr, errsize, r, "cannot write '%s': %s", path, strerror(-r));
out:
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}
