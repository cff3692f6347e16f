/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A kernel .config as written by kconfig: "CONFIG_X=y|m|\"string\"|123|0x1f",
 * "# CONFIG_X is not set", comments and blank lines.  Anything else (binary
 * data, JSON, a file without a single CONFIG_ line) is refused, so a wrong
 * file given as a config fails loudly instead of yielding an empty config.
 */
#ifndef TUXTAPE_KERNEL_KCONFIG_H
#define TUXTAPE_KERNEL_KCONFIG_H

#include <stddef.h>

#include "macro.h"

/* Largest .config accepted (distribution configs are around 300 KiB). */
#define KCONFIG_MAX_SIZE (4u * 1024 * 1024)

struct kconfig;

/*
 * Parses buf (len bytes, need not be NUL-terminated).  On success *ret owns a
 * new config.  Errors: -EBADMSG with "line N: ..." in reterr (when given) for
 * anything that is not a kernel config, -EFBIG beyond KCONFIG_MAX_SIZE,
 * -ENOMEM.  *ret is written only on success.  A symbol set twice keeps the
 * last value, as kconfig itself does.
 */
int kconfig_parse(const char *buf, size_t len, struct kconfig **ret, char *reterr, size_t errsize);

/* kconfig_parse() of a file; -ENOENT and other open/read errors as negative errno. */
int kconfig_read_file(const char *path, struct kconfig **ret, char *reterr, size_t errsize);

struct kconfig *kconfig_free(struct kconfig *c);
DEFINE_CLEANUP_FUNC(struct kconfig, kconfig_free)

/*
 * Value of a symbol, name with its "CONFIG_" prefix: "y", "m", "n" (for "is
 * not set"), a number as written, or a string without its quotes and with
 * \" and \\ unescaped.  NULL when the symbol does not appear.  The string
 * belongs to c.
 */
const char *kconfig_get(const struct kconfig *c, const char *name);

/* Number of symbols, "is not set" ones included. */
size_t kconfig_count(const struct kconfig *c);

/* Iteration in no particular order: *state starts at 0; NULL at the end. */
const char *kconfig_next(const struct kconfig *c, size_t *state, const char **ret_value);

/* CONFIG_CC_VERSION_TEXT ("gcc (Debian 12.2.0-14) 12.2.0"), NULL when absent. */
const char *kconfig_cc_version_text(const struct kconfig *c);

/* CONFIG_LOCALVERSION (often ""), NULL when absent. */
const char *kconfig_localversion(const struct kconfig *c);

/*
 * The machine the config targets, spelled as `uname -m` prints it
 * ("x86_64", "i686", "aarch64", "arm", "ppc64le", "ppc64", "ppc", "s390x",
 * "riscv64", "riscv32", "loongarch64", "mips64", "mips"), guessed from the
 * architecture symbols; NULL when none matches.  Static string.
 */
const char *kconfig_arch(const struct kconfig *c);

/* The kernel's arch/ directory for the same guess ("x86", "arm64", ...); NULL when unknown. */
const char *kconfig_srcarch(const struct kconfig *c);

#endif
