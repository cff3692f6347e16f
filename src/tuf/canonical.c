/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "canonical.h"
#include "strbuf.h"

#define CANONICAL_DEPTH_MAX 64

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int add_string(struct strbuf *sb, const char *s, size_t len)
{
	size_t start = 0;
	int r;

	r = strbuf_addch(sb, '"');
	for (size_t i = 0; r >= 0 && i < len; i++) {
		if (s[i] != '"' && s[i] != '\\')
			continue;
		r = strbuf_add(sb, s + start, i - start);
		if (r >= 0)
			r = strbuf_addch(sb, '\\');
		start = i;
	}
	if (r >= 0)
		r = strbuf_add(sb, s + start, len - start);
	if (r >= 0)
		r = strbuf_addch(sb, '"');
	return r;
}

static int encode(struct strbuf *sb, const json_t *v, unsigned depth)
{
	int r = 0;

	if (!v || depth > CANONICAL_DEPTH_MAX)
		return -EINVAL;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v), i = 0;
		_cleanup_free_ const char **keys = NULL;
		const char *key;
		json_t *value;

		if (n) {
			keys = malloc(n * sizeof(*keys));
			if (!keys)
				return -ENOMEM;
		}
		json_object_foreach((json_t *)v, key, value)
			keys[i++] = key;
		if (n > 1)
			qsort(keys, n, sizeof(*keys), cmp_keys);
		r = strbuf_addch(sb, '{');
		for (i = 0; r >= 0 && i < n; i++) {
			if (i)
				r = strbuf_addch(sb, ',');
			if (r >= 0)
				r = add_string(sb, keys[i], strlen(keys[i]));
			if (r >= 0)
				r = strbuf_addch(sb, ':');
			if (r >= 0)
				r = encode(sb, json_object_get(v, keys[i]), depth + 1);
		}
		if (r >= 0)
			r = strbuf_addch(sb, '}');
		return r;
	}
	case JSON_ARRAY:
		r = strbuf_addch(sb, '[');
		for (size_t i = 0; r >= 0 && i < json_array_size(v); i++) {
			if (i)
				r = strbuf_addch(sb, ',');
			if (r >= 0)
				r = encode(sb, json_array_get(v, i), depth + 1);
		}
		if (r >= 0)
			r = strbuf_addch(sb, ']');
		return r;
	case JSON_STRING:
		return add_string(sb, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return strbuf_addf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	case JSON_TRUE:
		return strbuf_adds(sb, "true");
	case JSON_FALSE:
		return strbuf_adds(sb, "false");
	case JSON_NULL:
		return strbuf_adds(sb, "null");
	case JSON_REAL:
	default:
		return -EINVAL;
	}
}

int tuf_canonical_encode(const json_t *value, char **ret_buf, size_t *ret_len)
{
	_cleanup_strbuf_ struct strbuf sb;
	int r;

	strbuf_init(&sb, 0);
	r = encode(&sb, value, 0);
	if (r < 0)
		return r;
	*ret_buf = strbuf_detach(&sb, ret_len);
	return *ret_buf ? 0 : -ENOMEM;
}
