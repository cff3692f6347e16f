/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <string.h>

#include "hashmap.h"
#include "profile.h"

struct kernel_profile {
	struct hashmap *files; /* path -> (void *)(uintptr_t)flags */
	enum profile_source source;
	bool knows_headers;
};

static const char *const profile_source_names[_PROFILE_SOURCE_MAX] = {
	[PROFILE_SOURCE_LIST] = "list",
	[PROFILE_SOURCE_BUILD_DIR] = "build-dir",
	[PROFILE_SOURCE_DRY_RUN] = "dry-run",
	[PROFILE_SOURCE_DEBUGINFO] = "debuginfo",
};

const char *profile_source_to_string(enum profile_source s)
{
	return s >= 0 && s < _PROFILE_SOURCE_MAX ? profile_source_names[s] : NULL;
}

enum profile_source profile_source_from_string(const char *s)
{
	for (int i = 0; i < _PROFILE_SOURCE_MAX; i++)
		if (s && streq(s, profile_source_names[i]))
			return (enum profile_source)i;
	return _PROFILE_SOURCE_INVALID;
}

struct kernel_profile *kernel_profile_new(enum profile_source source, bool knows_headers)
{
	struct kernel_profile *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->files = hashmap_new(NULL);
	if (!p->files) {
		free(p);
		return NULL;
	}
	p->source = source;
	p->knows_headers = knows_headers;
	return p;
}

struct kernel_profile *kernel_profile_free(struct kernel_profile *p)
{
	if (!p)
		return NULL;
	hashmap_free(p->files);
	free(p);
	return NULL;
}

enum profile_source kernel_profile_source(const struct kernel_profile *p)
{
	return p->source;
}

bool kernel_profile_knows_headers(const struct kernel_profile *p)
{
	return p->knows_headers;
}

/* Normalises a tree-relative path in place; -EINVAL for absolute or escaping paths. */
static int normalize(char *path)
{
	char *src = path, *dst = path;

	if (*path == '/' || !*path)
		return -EINVAL;
	while (*src) {
		size_t n;

		while (*src == '/')
			src++;
		n = strcspn(src, "/");
		if (n == 0)
			break;
		if (n == 1 && src[0] == '.') {
			src += 1;
			continue;
		}
		if (n == 2 && src[0] == '.' && src[1] == '.') {
			/* Drop the last component written, refusing to climb out of the tree. */
			if (dst == path)
				return -EINVAL;
			dst--;
			while (dst > path && dst[-1] != '/')
				dst--;
			src += 2;
			continue;
		}
		if (dst != path && dst[-1] != '/')
			*dst++ = '/';
		memmove(dst, src, n);
		dst += n;
		src += n;
	}
	if (dst > path && dst[-1] == '/')
		dst--;
	*dst = '\0';
	return *path ? 0 : -EINVAL;
}

int kernel_profile_add(struct kernel_profile *p, const char *path, unsigned flags)
{
	_cleanup_free_ char *norm = strdup(path);
	uintptr_t old;
	int r;

	if (!norm)
		return -ENOMEM;
	r = normalize(norm);
	if (r < 0)
		return r;
	old = (uintptr_t)hashmap_get(p->files, norm);
	return hashmap_put(p->files, norm, (void *)(old | flags));
}

unsigned kernel_profile_lookup(const struct kernel_profile *p, const char *path)
{
	return (unsigned)(uintptr_t)hashmap_get(p->files, path);
}

size_t kernel_profile_count(const struct kernel_profile *p)
{
	return hashmap_size(p->files);
}

const char *kernel_profile_next(const struct kernel_profile *p, size_t *state, unsigned *ret_flags)
{
	void *v = NULL;
	const char *k = hashmap_next(p->files, state, &v);

	if (k && ret_flags)
		*ret_flags = (unsigned)(uintptr_t)v;
	return k;
}
