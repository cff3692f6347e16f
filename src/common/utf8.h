/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef TUXTAPE_UTF8_H
#define TUXTAPE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when the len bytes at s are valid UTF-8 without NUL bytes. */
bool utf8_is_valid(const char *s, size_t len);

/*
 * Returns a NUL-terminated copy of the len bytes at s in which every invalid
 * UTF-8 sequence and NUL byte is replaced by U+FFFD, so text from a hostile or
 * broken record can be stored and printed safely.  NULL on OOM.
 */
char *utf8_sanitize(const char *s, size_t len);

#endif
