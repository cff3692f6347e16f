/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "strbuf.h"

static char empty_buf[1];

void strbuf_init(struct strbuf *sb, size_t max_size)
{
	sb->buf = empty_buf;
	sb->len = 0;
	sb->alloc = 0;
	sb->max_size = max_size;
}

void strbuf_release(struct strbuf *sb)
{
	if (sb->alloc)
		free(sb->buf);
	strbuf_init(sb, sb->max_size);
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->alloc)
		sb->buf[0] = '\0';
}

int strbuf_grow(struct strbuf *sb, size_t extra)
{
	size_t need, n;
	char *p;

	if (extra > SIZE_MAX - sb->len - 1)
		return -ENOMEM;
	need = sb->len + extra + 1;
	if (sb->max_size && need - 1 > sb->max_size)
		return -EFBIG;
	if (need <= sb->alloc)
		return 0;
	n = sb->alloc ? sb->alloc : 64;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	p = realloc(sb->alloc ? sb->buf : NULL, n);
	if (!p)
		return -ENOMEM;
	if (!sb->alloc)
		p[0] = '\0';
	sb->buf = p;
	sb->alloc = n;
	return 0;
}

int strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	int r = strbuf_grow(sb, len);

	if (r < 0)
		return r;
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_adds(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int strbuf_addch(struct strbuf *sb, char c)
{
	return strbuf_add(sb, &c, 1);
}

int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n, r;

	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		return -EINVAL;
	r = strbuf_grow(sb, (size_t)n);
	if (r < 0)
		return r;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return r;
}

char *strbuf_detach(struct strbuf *sb, size_t *ret_len)
{
	char *p;

	if (!sb->alloc) {
		p = strdup("");
	} else {
		p = sb->buf;
	}
	if (ret_len)
		*ret_len = sb->len;
	strbuf_init(sb, sb->max_size);
	return p;
}

void strbuf_rtrim(struct strbuf *sb)
{
	while (sb->len > 0 && (sb->buf[sb->len - 1] == ' ' || sb->buf[sb->len - 1] == '\t' ||
			       sb->buf[sb->len - 1] == '\n' || sb->buf[sb->len - 1] == '\r'))
		sb->len--;
	if (sb->alloc)
		sb->buf[sb->len] = '\0';
}

char **strv_free(char **v)
{
	if (!v)
		return NULL;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
	return NULL;
}

size_t strv_length(char *const *v)
{
	size_t n = 0;

	if (v)
		while (v[n])
			n++;
	return n;
}

int strv_consume(char ***v, char *s)
{
	size_t n;
	char **nv;

	if (!s)
		return -ENOMEM;
	n = strv_length(*v);
	nv = realloc(*v, (n + 2) * sizeof(char *));
	if (!nv) {
		free(s);
		return -ENOMEM;
	}
	nv[n] = s;
	nv[n + 1] = NULL;
	*v = nv;
	return 0;
}

int strv_push(char ***v, const char *s)
{
	return strv_consume(v, strdup(s));
}

int strv_contains(char *const *v, const char *s)
{
	if (v)
		for (; *v; v++)
			if (strcmp(*v, s) == 0)
				return 1;
	return 0;
}

char **strv_copy(char *const *v)
{
	char **n = calloc(1, sizeof(char *));

	if (!n)
		return NULL;
	if (v)
		for (; *v; v++)
			if (strv_push(&n, *v) < 0)
				return strv_free(n);
	return n;
}
