/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TUF keys and signatures with OpenSSL 3 (libcrypto EVP):
 *   ed25519              keyval.public = 64 hex chars, signature = 128 hex chars
 *   ecdsa-sha2-nistp256  keyval.public = PEM SubjectPublicKeyInfo, signature = hex of
 *                        the DER ECDSA-Sig-Value over SHA-256 (keytype "ecdsa" or
 *                        "ecdsa-sha2-nistp256")
 *   rsassa-pss-sha256    keyval.public = PEM SubjectPublicKeyInfo, signature = hex of
 *                        RSASSA-PSS with SHA-256, MGF1-SHA-256 (verification accepts any
 *                        salt length; signing uses the digest length)
 * A keyid is the hex SHA-256 of the canonical JSON of {keytype, scheme, keyval}
 * (keyval reduced to "public").
 *
 * Signers: a private key (generated, or loaded from PKCS#8 PEM, optionally
 * AES-256 encrypted with a passphrase) or an external command (an HSM's
 * tool) run through /bin/sh -c with the bytes on stdin, printing the hex
 * signature on stdout.
 *
 * Thread-safety: distinct objects may be used from distinct threads; a
 * struct tuf_key is immutable after creation.  Nothing here logs.
 */
#ifndef TUXTAPE_TUF_KEY_H
#define TUXTAPE_TUF_KEY_H

#include <errno.h>
#include <stddef.h>

#include <jansson.h>

#include "macro.h"

enum tuf_scheme {
	TUF_SCHEME_ED25519,
	TUF_SCHEME_ECDSA_P256,
	TUF_SCHEME_RSA_PSS_SHA256,
	TUF_SCHEME_RSA_PKCS1V15_SHA256, /* verification of others' metadata (and signing) */
	_TUF_SCHEME_MAX,
	_TUF_SCHEME_INVALID = -EINVAL,
};

/* "ed25519", "ecdsa-sha2-nistp256", "rsassa-pss-sha256", "rsa-pkcs1v15-sha256";
 * NULL for other values. */
const char *tuf_scheme_to_string(enum tuf_scheme s);
/* The inverse; _TUF_SCHEME_INVALID for unknown or NULL strings. */
enum tuf_scheme tuf_scheme_from_string(const char *s);

/* A public key with its keyid. */
struct tuf_key;

/*
 * Parses a TUF key object {keytype, scheme, keyval: {public}} (other fields
 * are ignored and not part of the keyid).  Returns 0, -EBADMSG for a
 * malformed object or unparsable key material, -EOPNOTSUPP for an unknown
 * keytype/scheme (err names it), -ENOMEM.  *ret owned by the caller.
 */
int tuf_key_from_json(const json_t *key, struct tuf_key **ret, char err[], size_t errsize);

/*
 * Like tuf_key_from_json() but with the keyid a metadata file names the key
 * by (the key of its "keys" map), which clients use as is: the keyid is a
 * label, and unknown fields of the key object do not change it.
 */
int tuf_key_from_json_id(const json_t *key, const char *keyid, struct tuf_key **ret, char err[],
			 size_t errsize);

/* Lowercase hex of data (caller frees); NULL on OOM. */
char *tuf_hex_encode(const void *data, size_t len);
/* Decodes hex (either case) of at most max_len bytes into *ret (caller frees).
 * -EBADMSG for odd length, non-hex characters or more than max_len bytes. */
int tuf_hex_decode(const char *hex, size_t max_len, unsigned char **ret, size_t *ret_len);

/* 64 lowercase hex chars: sha256 of the canonical key JSON (or the keyid given
 * to tuf_key_from_json_id()).  Owned by k. */
const char *tuf_key_id(const struct tuf_key *k);
enum tuf_scheme tuf_key_scheme(const struct tuf_key *k);
/* A new reference to {keytype, scheme, keyval: {public}}; NULL on OOM. */
json_t *tuf_key_to_json(const struct tuf_key *k);

/*
 * Verifies sig_hex (hex, either case) over data.  Returns 0 or
 * -EKEYREJECTED (bad signature, malformed hex, wrong length); -ENOMEM.
 */
int tuf_key_verify(const struct tuf_key *k, const void *data, size_t len, const char *sig_hex);

/* Accepts NULL; returns NULL. */
struct tuf_key *tuf_key_free(struct tuf_key *k);
DEFINE_CLEANUP_FUNC(struct tuf_key, tuf_key_free)

/* A private key or an external signing command. */
struct tuf_signer;

/*
 * A fresh private key (ed25519, P-256 or RSA 3072).  Returns 0, -EINVAL
 * for an unknown scheme, -ENOMEM or -EIO (OpenSSL failure).
 */
int tuf_signer_generate(enum tuf_scheme s, struct tuf_signer **ret);

/*
 * Writes the private key as PKCS#8 PEM, AES-256-CBC encrypted (PBES2,
 * scrypt or PBKDF2 as OpenSSL's default) when passphrase != NULL, mode 0600,
 * atomically.  -EINVAL for a command signer; -EIO, or the errno of the write.
 */
int tuf_signer_save_pem(const struct tuf_signer *s, const char *path, const char *passphrase,
			char err[], size_t errsize);

/*
 * Loads a PKCS#8 PEM private key (encrypted ones need passphrase).  Returns
 * 0, -ENOENT, -EFBIG (over 64 KiB), -EKEYREJECTED (wrong or missing
 * passphrase, unreadable key), -EOPNOTSUPP (a key type TUF does not use here).
 */
int tuf_signer_load_pem(const char *path, const char *passphrase, struct tuf_signer **ret,
			char err[], size_t errsize);

/*
 * External signer (HSM): `command` runs via /bin/sh -c with the bytes to sign
 * on stdin and must print the hex signature on stdout (surrounding
 * whitespace ignored; at most 16 KiB; 60 s deadline); `public_key` is its
 * {keytype,scheme,keyval} JSON.  The signature the command prints is
 * verified with public_key before tuf_signer_sign() returns it.
 * Returns 0, -EINVAL (empty command), errors of tuf_key_from_json().
 */
int tuf_signer_new_command(const char *command, const json_t *public_key,
			   struct tuf_signer **ret, char err[], size_t errsize);

/*
 * Chooses the scheme of an RSA key signer (rsassa-pss-sha256, the default of
 * tuf_signer_load_pem(), or rsa-pkcs1v15-sha256): a PEM file does not say.
 * -EINVAL for other keys or schemes, -ENOMEM.
 */
int tuf_signer_set_scheme(struct tuf_signer *s, enum tuf_scheme scheme);

/* The signer's public key; owned by s. */
const struct tuf_key *tuf_signer_key(const struct tuf_signer *s);

/*
 * Signs data; *ret_sig_hex (lowercase hex, caller frees).  Returns 0,
 * -ENOMEM, -EIO (OpenSSL or the command failed; err quotes its status),
 * -ETIMEDOUT (command deadline), -EKEYREJECTED (the command's signature does
 * not verify with its public key), -EFBIG (command output too long).
 */
int tuf_signer_sign(struct tuf_signer *s, const void *data, size_t len, char **ret_sig_hex,
		    char err[], size_t errsize);

/* Accepts NULL; returns NULL.  Private key material is freed by OpenSSL. */
struct tuf_signer *tuf_signer_free(struct tuf_signer *s);
DEFINE_CLEANUP_FUNC(struct tuf_signer, tuf_signer_free)

#endif
