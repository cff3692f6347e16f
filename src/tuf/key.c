/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "canonical.h"
#include "child.h"
#include "fileio.h"
#include "key.h"
#include "metadata.h"
#include "parse-util.h"
#include "strbuf.h"

#define PEM_FILE_MAX (64u * 1024)
#define PUBLIC_PEM_MAX (16u * 1024)
#define SIG_HEX_MAX (2u * 2048)
#define COMMAND_OUTPUT_MAX (16u * 1024)
#define COMMAND_TIMEOUT_S 60
#define RSA_BITS_MIN 2048
#define RSA_BITS_GENERATE 3072

struct tuf_key {
	enum tuf_scheme scheme;
	char *keytype;
	char *public; /* keyval.public as published */
	EVP_PKEY *pkey;
	char *id;
};

struct tuf_signer {
	EVP_PKEY *pkey;	      /* NULL for a command signer */
	char *command;	      /* NULL for a key signer */
	struct tuf_key *key;  /* the public half */
};

static const char *const scheme_names[_TUF_SCHEME_MAX] = {
	[TUF_SCHEME_ED25519] = "ed25519",
	[TUF_SCHEME_ECDSA_P256] = "ecdsa-sha2-nistp256",
	[TUF_SCHEME_RSA_PSS_SHA256] = "rsassa-pss-sha256",
	[TUF_SCHEME_RSA_PKCS1V15_SHA256] = "rsa-pkcs1v15-sha256",
};

/* The keytype we write for each scheme. */
static const char *const scheme_keytypes[_TUF_SCHEME_MAX] = {
	[TUF_SCHEME_ED25519] = "ed25519",
	[TUF_SCHEME_ECDSA_P256] = "ecdsa",
	[TUF_SCHEME_RSA_PSS_SHA256] = "rsa",
	[TUF_SCHEME_RSA_PKCS1V15_SHA256] = "rsa",
};

const char *tuf_scheme_to_string(enum tuf_scheme s)
{
	if (s < 0 || s >= _TUF_SCHEME_MAX)
		return NULL;
	return scheme_names[s];
}

enum tuf_scheme tuf_scheme_from_string(const char *s)
{
	if (!s)
		return _TUF_SCHEME_INVALID;
	for (int i = 0; i < _TUF_SCHEME_MAX; i++)
		if (streq(s, scheme_names[i]))
			return (enum tuf_scheme)i;
	return _TUF_SCHEME_INVALID;
}

char *tuf_hex_encode(const void *data, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;
	char *s = malloc(2 * len + 1);

	if (!s)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * len] = '\0';
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int tuf_hex_decode(const char *hex, size_t max_len, unsigned char **ret, size_t *ret_len)
{
	size_t n = hex ? strlen(hex) : 0;
	unsigned char *b;

	if (!hex || n % 2 || n / 2 > max_len)
		return -EBADMSG;
	b = malloc(n / 2 + 1);
	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(b);
			return -EBADMSG;
		}
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	*ret = b;
	*ret_len = n / 2;
	return 0;
}

static void bio_freep(BIO **b)
{
	BIO_free(*b);
}

static void pkey_freep(EVP_PKEY **p)
{
	EVP_PKEY_free(*p);
}

static void md_ctx_freep(EVP_MD_CTX **c)
{
	EVP_MD_CTX_free(*c);
}

/* Whether pkey is what scheme needs (P-256 for ECDSA, RSA >= 2048 bits). */
static bool pkey_fits(EVP_PKEY *pkey, enum tuf_scheme scheme)
{
	char group[64];

	switch (scheme) {
	case TUF_SCHEME_ED25519:
		return EVP_PKEY_is_a(pkey, "ED25519");
	case TUF_SCHEME_ECDSA_P256:
		if (!EVP_PKEY_is_a(pkey, "EC"))
			return false;
		if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), NULL))
			return false;
		return streq(group, "prime256v1") || streq(group, "P-256");
	case TUF_SCHEME_RSA_PSS_SHA256:
	case TUF_SCHEME_RSA_PKCS1V15_SHA256:
		return EVP_PKEY_is_a(pkey, "RSA") && EVP_PKEY_get_bits(pkey) >= RSA_BITS_MIN;
	default:
		return false;
	}
}

static bool keytype_fits(const char *keytype, enum tuf_scheme scheme)
{
	switch (scheme) {
	case TUF_SCHEME_ED25519:
		return streq(keytype, "ed25519");
	case TUF_SCHEME_ECDSA_P256:
		return streq(keytype, "ecdsa") || streq(keytype, "ecdsa-sha2-nistp256");
	case TUF_SCHEME_RSA_PSS_SHA256:
	case TUF_SCHEME_RSA_PKCS1V15_SHA256:
		return streq(keytype, "rsa");
	default:
		return false;
	}
}

static int public_from_string(enum tuf_scheme scheme, const char *pub, EVP_PKEY **ret)
{
	_cleanup_(pkey_freep) EVP_PKEY *pkey = NULL;

	if (scheme == TUF_SCHEME_ED25519) {
		_cleanup_free_ unsigned char *raw = NULL;
		size_t len;

		if (tuf_hex_decode(pub, 64, &raw, &len) < 0 || len != 32)
			return -EBADMSG;
		pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, len);
	} else {
		_cleanup_(bio_freep) BIO *bio = NULL;

		if (strlen(pub) > PUBLIC_PEM_MAX)
			return -EBADMSG;
		bio = BIO_new_mem_buf(pub, -1);
		if (!bio)
			return -ENOMEM;
		pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	}
	ERR_clear_error();
	if (!pkey || !pkey_fits(pkey, scheme))
		return -EBADMSG;
	*ret = TAKE_PTR(pkey);
	return 0;
}

static int key_compute_id(const json_t *obj, char **ret_id)
{
	_cleanup_free_ char *buf = NULL;
	unsigned char md[32];
	size_t len;
	int r;

	r = tuf_canonical_encode(obj, &buf, &len);
	if (r < 0)
		return r;
	if (!EVP_Digest(buf, len, md, NULL, EVP_sha256(), NULL))
		return -ENOMEM;
	*ret_id = tuf_hex_encode(md, sizeof(md));
	return *ret_id ? 0 : -ENOMEM;
}

int tuf_key_from_json_id(const json_t *key, const char *keyid, struct tuf_key **ret, char err[],
			 size_t errsize)
{
	struct tuf_key *k;
	const char *keytype, *scheme_s, *pub;
	enum tuf_scheme scheme;
	json_t *keyval;
	int r;

	if (!json_is_object(key))
		return error_message(err, errsize, -EBADMSG, "key is not an object");
	keytype = json_string_value(json_object_get(key, "keytype"));
	scheme_s = json_string_value(json_object_get(key, "scheme"));
	keyval = json_object_get(key, "keyval");
	pub = json_string_value(json_object_get(keyval, "public"));
	if (!keytype || !scheme_s || !json_is_object(keyval) || !pub)
		return error_message(err, errsize, -EBADMSG,
				     "key lacks string 'keytype', 'scheme' or 'keyval.public'");
	scheme = tuf_scheme_from_string(scheme_s);
	if (scheme < 0)
		return error_message(err, errsize, -EOPNOTSUPP, "unsupported key scheme '%.64s'",
				     scheme_s);
	if (!keytype_fits(keytype, scheme))
		return error_message(err, errsize, -EOPNOTSUPP,
				     "key type '%.64s' does not fit scheme '%s'", keytype,
				     scheme_s);
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->scheme = scheme;
	k->keytype = strdup(keytype);
	k->public = strdup(pub);
	if (!k->keytype || !k->public) {
		tuf_key_free(k);
		return -ENOMEM;
	}
	r = public_from_string(scheme, pub, &k->pkey);
	if (r < 0) {
		tuf_key_free(k);
		if (r == -ENOMEM)
			return r;
		return error_message(err, errsize, -EBADMSG, "unusable %s public key", scheme_s);
	}
	if (keyid) {
		k->id = strdup(keyid);
		if (!k->id) {
			tuf_key_free(k);
			return -ENOMEM;
		}
	} else {
		r = key_compute_id(key, &k->id);
		if (r < 0) {
			tuf_key_free(k);
			return error_message(err, errsize, r == -EINVAL ? -EBADMSG : r,
					     "cannot compute the keyid: %s",
					     r == -EINVAL ? "the key holds a real number" : strerror(-r));
		}
	}
	*ret = k;
	return 0;
}

int tuf_key_from_json(const json_t *key, struct tuf_key **ret, char err[], size_t errsize)
{
	return tuf_key_from_json_id(key, NULL, ret, err, errsize);
}

const char *tuf_key_id(const struct tuf_key *k)
{
	return k->id;
}

enum tuf_scheme tuf_key_scheme(const struct tuf_key *k)
{
	return k->scheme;
}

json_t *tuf_key_to_json(const struct tuf_key *k)
{
	return json_pack("{s:s, s:s, s:{s:s}}", "keytype", k->keytype, "scheme",
			 scheme_names[k->scheme], "keyval", "public", k->public);
}

/* Sets the padding parameters of RSA schemes on a sign or verify context. */
static int setup_rsa(EVP_PKEY_CTX *pctx, enum tuf_scheme scheme, bool sign)
{
	if (scheme == TUF_SCHEME_RSA_PKCS1V15_SHA256)
		return EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0 ? 0 : -EIO;
	if (scheme != TUF_SCHEME_RSA_PSS_SHA256)
		return 0;
	if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, sign ? RSA_PSS_SALTLEN_DIGEST :
							  RSA_PSS_SALTLEN_AUTO) <= 0)
		return -EIO;
	return 0;
}

static const EVP_MD *scheme_md(enum tuf_scheme scheme)
{
	return scheme == TUF_SCHEME_ED25519 ? NULL : EVP_sha256();
}

int tuf_key_verify(const struct tuf_key *k, const void *data, size_t len, const char *sig_hex)
{
	_cleanup_(md_ctx_freep) EVP_MD_CTX *ctx = NULL;
	_cleanup_free_ unsigned char *sig = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	size_t sig_len;
	int r;

	if (!k || !k->pkey)
		return -EKEYREJECTED;
	r = tuf_hex_decode(sig_hex, SIG_HEX_MAX, &sig, &sig_len);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || sig_len == 0)
		return -EKEYREJECTED;
	if (k->scheme == TUF_SCHEME_ED25519 && sig_len != 64)
		return -EKEYREJECTED;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestVerifyInit(ctx, &pctx, scheme_md(k->scheme), NULL, k->pkey) != 1 ||
	    setup_rsa(pctx, k->scheme, false) < 0) {
		ERR_clear_error();
		return -EKEYREJECTED;
	}
	r = EVP_DigestVerify(ctx, sig, sig_len, data, len);
	ERR_clear_error();
	return r == 1 ? 0 : -EKEYREJECTED;
}

struct tuf_key *tuf_key_free(struct tuf_key *k)
{
	if (!k)
		return NULL;
	EVP_PKEY_free(k->pkey);
	free(k->keytype);
	free(k->public);
	free(k->id);
	free(k);
	return NULL;
}

/* The {keytype, scheme, keyval} object of a private key's public half. */
static json_t *public_json(EVP_PKEY *pkey, enum tuf_scheme scheme)
{
	_cleanup_free_ char *pub = NULL;

	if (scheme == TUF_SCHEME_ED25519) {
		unsigned char raw[32];
		size_t len = sizeof(raw);

		if (EVP_PKEY_get_raw_public_key(pkey, raw, &len) != 1 || len != 32)
			return NULL;
		pub = tuf_hex_encode(raw, len);
	} else {
		_cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_mem());
		char *p;
		long n;

		if (!bio || PEM_write_bio_PUBKEY(bio, pkey) != 1)
			return NULL;
		n = BIO_get_mem_data(bio, &p);
		if (n <= 0)
			return NULL;
		pub = strndup(p, (size_t)n);
	}
	if (!pub)
		return NULL;
	return json_pack("{s:s, s:s, s:{s:s}}", "keytype", scheme_keytypes[scheme], "scheme",
			 scheme_names[scheme], "keyval", "public", pub);
}

static int signer_from_pkey(EVP_PKEY *pkey, enum tuf_scheme scheme, struct tuf_signer **ret)
{
	json_t *pub = public_json(pkey, scheme);
	struct tuf_signer *s;
	int r;

	if (!pub)
		return -ENOMEM;
	s = calloc(1, sizeof(*s));
	if (!s) {
		json_decref(pub);
		return -ENOMEM;
	}
	r = tuf_key_from_json(pub, &s->key, NULL, 0);
	json_decref(pub);
	if (r < 0) {
		free(s);
		return r == -ENOMEM ? r : -EIO;
	}
	s->pkey = pkey;
	*ret = s;
	return 0;
}

int tuf_signer_generate(enum tuf_scheme s, struct tuf_signer **ret)
{
	EVP_PKEY *pkey;
	int r;

	switch (s) {
	case TUF_SCHEME_ED25519:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	case TUF_SCHEME_ECDSA_P256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case TUF_SCHEME_RSA_PSS_SHA256:
	case TUF_SCHEME_RSA_PKCS1V15_SHA256:
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)RSA_BITS_GENERATE);
		break;
	default:
		return -EINVAL;
	}
	if (!pkey) {
		ERR_clear_error();
		return -EIO;
	}
	r = signer_from_pkey(pkey, s, ret);
	if (r < 0)
		EVP_PKEY_free(pkey);
	return r;
}

int tuf_signer_save_pem(const struct tuf_signer *s, const char *path, const char *passphrase,
			char err[], size_t errsize)
{
	_cleanup_(bio_freep) BIO *bio = NULL;
	char *p;
	long n;
	int r;

	if (!s->pkey)
		return error_message(err, errsize, -EINVAL,
				     "cannot save '%s': the key is held by an external command",
				     path);
	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return -ENOMEM;
	if (PEM_write_bio_PKCS8PrivateKey(bio, s->pkey, passphrase ? EVP_aes_256_cbc() : NULL,
					  passphrase, passphrase ? (int)strlen(passphrase) : 0,
					  NULL, NULL) != 1) {
		ERR_clear_error();
		return error_message(err, errsize, -EIO, "cannot encode the private key for '%s'",
				     path);
	}
	n = BIO_get_mem_data(bio, &p);
	if (n <= 0)
		return error_message(err, errsize, -EIO, "cannot encode the private key for '%s'",
				     path);
	r = write_file_atomic(path, p, (size_t)n, 0600);
	OPENSSL_cleanse(p, (size_t)n);
	if (r < 0)
		return error_message(err, errsize, r, "cannot write '%s': %s", path, strerror(-r));
	return 0;
}

struct pw {
	const char *passphrase;
	bool asked;
};

/* Never prompts: a missing passphrase fails the load. */
static int pw_cb(char *buf, int size, int rwflag, void *userdata)
{
	struct pw *pw = userdata;
	size_t n;

	pw->asked = true;
	if (!pw->passphrase)
		return -1;
	n = strlen(pw->passphrase);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pw->passphrase, n);
	return (int)n;
}

int tuf_signer_load_pem(const char *path, const char *passphrase, struct tuf_signer **ret,
			char err[], size_t errsize)
{
	_cleanup_(bio_freep) BIO *bio = NULL;
	_cleanup_(pkey_freep) EVP_PKEY *pkey = NULL;
	_cleanup_free_ char *buf = NULL;
	struct pw pw = { .passphrase = passphrase };
	enum tuf_scheme scheme;
	size_t len;
	int r;

	r = read_file_bounded(path, PEM_FILE_MAX, &buf, &len);
	if (r < 0)
		return error_message(err, errsize, r, "cannot read '%s': %s", path,
				     r == -EFBIG ? "larger than 64 KiB" : strerror(-r));
	bio = BIO_new_mem_buf(buf, (int)len);
	if (!bio) {
		OPENSSL_cleanse(buf, len);
		return -ENOMEM;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, pw_cb, &pw);
	OPENSSL_cleanse(buf, len);
	ERR_clear_error();
	if (!pkey) {
		if (pw.asked && !passphrase)
			return error_message(err, errsize, -EKEYREJECTED,
					     "cannot load '%s': the key is encrypted and no passphrase was given",
					     path);
		if (pw.asked)
			return error_message(err, errsize, -EKEYREJECTED,
					     "cannot load '%s': wrong passphrase", path);
		return error_message(err, errsize, -EKEYREJECTED,
				     "cannot load '%s': not a PEM private key", path);
	}
	if (pkey_fits(pkey, TUF_SCHEME_ED25519))
		scheme = TUF_SCHEME_ED25519;
	else if (pkey_fits(pkey, TUF_SCHEME_ECDSA_P256))
		scheme = TUF_SCHEME_ECDSA_P256;
	else if (pkey_fits(pkey, TUF_SCHEME_RSA_PSS_SHA256))
		scheme = TUF_SCHEME_RSA_PSS_SHA256;
	else
		return error_message(err, errsize, -EOPNOTSUPP,
				     "cannot use '%s': not an ed25519, P-256 or RSA (>= 2048 bits) key",
				     path);
	r = signer_from_pkey(pkey, scheme, ret);
	if (r < 0)
		return error_message(err, errsize, r, "cannot use '%s': %s", path, strerror(-r));
	TAKE_PTR(pkey);
	return 0;
}

int tuf_signer_new_command(const char *command, const json_t *public_key, struct tuf_signer **ret,
			   char err[], size_t errsize)
{
	struct tuf_signer *s;
	int r;

	if (strempty(command))
		return error_message(err, errsize, -EINVAL, "no signing command given");
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->command = strdup(command);
	if (!s->command) {
		free(s);
		return -ENOMEM;
	}
	r = tuf_key_from_json(public_key, &s->key, err, errsize);
	if (r < 0) {
		tuf_signer_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

int tuf_signer_set_scheme(struct tuf_signer *s, enum tuf_scheme scheme)
{
	struct tuf_signer *n = NULL;
	EVP_PKEY *pkey = s->pkey;
	int r;

	if (!pkey || (scheme != TUF_SCHEME_RSA_PSS_SHA256 &&
		      scheme != TUF_SCHEME_RSA_PKCS1V15_SHA256) ||
	    !pkey_fits(pkey, scheme))
		return -EINVAL;
	if (s->key->scheme == scheme)
		return 0;
	if (!EVP_PKEY_up_ref(pkey))
		return -ENOMEM;
	r = signer_from_pkey(pkey, scheme, &n);
	if (r < 0) {
		EVP_PKEY_free(pkey);
		return r;
	}
	tuf_key_free(s->key);
	s->key = TAKE_PTR(n->key);
	tuf_signer_free(n); /* drops the extra reference */
	return 0;
}

const struct tuf_key *tuf_signer_key(const struct tuf_signer *s)
{
	return s->key;
}

static int sign_pkey(struct tuf_signer *s, const void *data, size_t len, char **ret_sig_hex,
		     char err[], size_t errsize)
{
	_cleanup_(md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	_cleanup_free_ unsigned char *sig = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	size_t sig_len = 0;

	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestSignInit(ctx, &pctx, scheme_md(s->key->scheme), NULL, s->pkey) != 1 ||
	    setup_rsa(pctx, s->key->scheme, true) < 0 ||
	    EVP_DigestSign(ctx, NULL, &sig_len, data, len) != 1)
		goto fail;
	sig = malloc(sig_len);
	if (!sig)
		return -ENOMEM;
	if (EVP_DigestSign(ctx, sig, &sig_len, data, len) != 1)
		goto fail;
	*ret_sig_hex = tuf_hex_encode(sig, sig_len);
	return *ret_sig_hex ? 0 : -ENOMEM;
fail:
	ERR_clear_error();
	return error_message(err, errsize, -EIO, "signing with key '%s' failed in OpenSSL",
			     s->key->id);
}

static void unlinkp(char **path)
{
	if (*path) {
		unlink(*path);
		free(*path);
	}
}

static int sign_command(struct tuf_signer *s, const void *data, size_t len, char **ret_sig_hex,
			char err[], size_t errsize)
{
	/* The outer shell points stdin at the file, then runs the command as given. */
	static const char wrapper[] = "exec <\"$1\" || exit 126; exec /bin/sh -c \"$2\"";
	_cleanup_(unlinkp) char *tmp = NULL;
	_cleanup_free_ char *out = NULL;
	_cleanup_close_ int fd = -1;
	const char *tmpdir = getenv("TMPDIR");
	const char *p = data;
	char *start, *end;
	int status, r;

	if (asprintf(&tmp, "%s/tuxtape-sign.XXXXXX", strempty(tmpdir) ? "/tmp" : tmpdir) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		free(TAKE_PTR(tmp));
		return error_message(err, errsize, r,
				     "cannot create a temporary file for the signer: %s",
				     strerror(-r));
	}
	for (size_t left = len; left > 0;) {
		ssize_t n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_message(err, errsize, -errno, "cannot write '%s': %m", tmp);
		p += n;
		left -= (size_t)n;
	}
	{
		char *argv[] = { (char *)"/bin/sh", (char *)"-c", (char *)wrapper,
				 (char *)"tuxtape-signer", tmp, s->command, NULL };

		r = child_run_capture(argv, COMMAND_OUTPUT_MAX, child_deadline(COMMAND_TIMEOUT_S),
				      &out, &status);
	}
	if (r == -ETIMEDOUT)
		return error_message(err, errsize, r,
				     "signing command for key '%s' ran longer than %d s",
				     s->key->id, COMMAND_TIMEOUT_S);
	if (r == -EFBIG)
		return error_message(err, errsize, r,
				     "signing command for key '%s' printed more than %u bytes",
				     s->key->id, COMMAND_OUTPUT_MAX);
	if (r < 0)
		return error_message(err, errsize, r,
				     "cannot run the signing command for key '%s': %s", s->key->id,
				     strerror(-r));
	if (status != 0)
		return error_message(err, errsize, -EIO,
				     "signing command for key '%s' exited with status %d",
				     s->key->id, status);
	start = out + strspn(out, " \t\r\n");
	end = start + strlen(start);
	while (end > start && strchr(" \t\r\n", end[-1]))
		end--;
	*end = '\0';
	if (tuf_key_verify(s->key, data, len, start) < 0)
		return error_message(err, errsize, -EKEYREJECTED,
				     "signing command for key '%s' printed no valid signature",
				     s->key->id);
	for (char *c = start; *c; c++)
		if (*c >= 'A' && *c <= 'F')
			*c = (char)(*c - 'A' + 'a');
	*ret_sig_hex = strdup(start);
	return *ret_sig_hex ? 0 : -ENOMEM;
}

int tuf_signer_sign(struct tuf_signer *s, const void *data, size_t len, char **ret_sig_hex,
		    char err[], size_t errsize)
{
	if (s->pkey)
		return sign_pkey(s, data, len, ret_sig_hex, err, errsize);
	return sign_command(s, data, len, ret_sig_hex, err, errsize);
}

struct tuf_signer *tuf_signer_free(struct tuf_signer *s)
{
	if (!s)
		return NULL;
	EVP_PKEY_free(s->pkey);
	free(s->command);
	tuf_key_free(s->key);
	free(s);
	return NULL;
}
