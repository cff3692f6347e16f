/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * OLPC canonical JSON, the form TUF signs: object keys sorted by strcmp()
 * of their UTF-8 bytes, no whitespace, strings with only '\\' and '"'
 * escaped (every other byte, control characters included, written as is),
 * integers only.  Thread-safe; nothing here logs.
 */
#ifndef TUXTAPE_TUF_CANONICAL_H
#define TUXTAPE_TUF_CANONICAL_H

#include <stddef.h>

#include <jansson.h>

/*
 * Encodes value into a new buffer (*ret_buf, NUL-terminated, caller frees;
 * *ret_len excludes the NUL).  Returns 0, -EINVAL when value holds a real
 * number (or is NULL, or nests deeper than 64 levels), -ENOMEM.
 * Out parameters are written only on success.
 */
int tuf_canonical_encode(const json_t *value, char **ret_buf, size_t *ret_len);

#endif
