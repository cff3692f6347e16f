/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel module signatures, written with libcrypto so that signing needs no
 * scripts/sign-file in the prepared tree (Debian's modules_prepare does not
 * build it).
 *
 * The format the module loader checks (CONFIG_MODULE_SIG): the module's
 * bytes, then a DER CMS/PKCS#7 SignedData over them (detached, no
 * certificates, no signed attributes, the signer named by issuer and serial
 * number), then a 12-byte trailer { algo 0, hash 0, id_type 2 (PKCS#7),
 * signer_len 0, key_id_len 0, 3 pad bytes, big-endian signature length },
 * then the magic "~Module signature appended~\n".
 */
#ifndef TUXTAPE_PATCHGEN_MODULE_SIGN_H
#define TUXTAPE_PATCHGEN_MODULE_SIGN_H

#include <stddef.h>

#define MODULE_SIGNATURE_MAGIC "~Module signature appended~\n"
/* Largest signature accepted when reading one (RSA-16384 with slack). */
#define MODULE_SIGNATURE_MAX (64u * 1024)

/*
 * Finds an appended signature in a module image.  On success the module's
 * own bytes are [0, *ret_content_len) and the DER signature is
 * [*ret_sig_off, *ret_sig_off + *ret_sig_len).
 *   -ENODATA  no signature appended
 *   -EBADMSG  a trailer that does not fit the file or is not PKCS#7
 */
int module_signature_find(const void *image, size_t len, size_t *ret_content_len,
			  size_t *ret_sig_off, size_t *ret_sig_len);

/*
 * Signs the module at path in place (atomically replaced): key_path is a
 * PEM private key (encrypted ones are opened with $KBUILD_SIGN_PIN, the
 * kernel's convention), cert_path its X.509 certificate in PEM or DER (may be
 * the same file as the key), hash a digest name such as "sha256" (the
 * kernel's CONFIG_MODULE_SIG_HASH).  A module already signed is refused.
 * Errors (reterr names the file):
 *   -ENOENT    a file is missing
 *   -EKEYREJECTED  the key cannot be read, or does not match the certificate
 *   -EALREADY  the module is already signed
 *   -EINVAL    unknown hash
 *   -EIO       libcrypto failed to sign
 */
int module_sign_file(const char *path, const char *key_path, const char *cert_path,
		     const char *hash, char *reterr, size_t errsize);

#endif
