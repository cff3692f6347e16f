/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A growable, always NUL-terminated byte buffer.  A non-zero max_size caps
 * the buffer when it is filled from untrusted input: growing beyond it fails
 * with -EFBIG and leaves the contents as they were.
 */
#ifndef TUXTAPE_STRBUF_H
#define TUXTAPE_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

struct strbuf {
	char *buf;   /* never NULL after strbuf_init(); "" when empty */
	size_t len;
	size_t alloc;
	size_t max_size; /* 0 = unbounded */
};

void strbuf_init(struct strbuf *sb, size_t max_size);
void strbuf_release(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);
int strbuf_grow(struct strbuf *sb, size_t extra);
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_adds(struct strbuf *sb, const char *s);
int strbuf_addch(struct strbuf *sb, char c);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap);
/* Returns the buffer (caller frees) and leaves sb empty and initialised. */
char *strbuf_detach(struct strbuf *sb, size_t *ret_len);
void strbuf_rtrim(struct strbuf *sb);

static inline void strbuf_releasep(struct strbuf *sb)
{
	strbuf_release(sb);
}
#define _cleanup_strbuf_ _cleanup_(strbuf_releasep)

/* NULL-terminated vectors of owned strings. */
char **strv_free(char **v);
size_t strv_length(char *const *v);
/* Appends a copy of s; -ENOMEM on failure. */
int strv_push(char ***v, const char *s);
/* Appends s and takes ownership of it (freed on failure too). */
int strv_consume(char ***v, char *s);
int strv_contains(char *const *v, const char *s);
char **strv_copy(char *const *v);
static inline void strv_freep(char ***v)
{
	strv_free(*v);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

#endif
