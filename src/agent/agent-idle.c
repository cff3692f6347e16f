/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "agent-idle.h"
#include "fileio.h"
#include "macro.h"

/* Bound of /proc/self/maps kept for comparison: a few hundred mappings. */
#define MAPS_MAX (1024 * 1024)

struct range {
	unsigned long start, end;
};

struct idle_release {
	char *maps; /* /proc/self/maps when ranges were chosen */
	size_t maps_len;
	struct range *ranges;
	size_t n_ranges;
};

/* One smaps entry as far as the decision needs it. */
struct mapping {
	struct range r;
	bool candidate; /* private, not writable, backed by a file */
	long rss_kb, anon_kb, swap_kb; /* -1: the field was not seen */
};

/* Unknown counts are treated as "has private pages": never guess. */
static bool mapping_clean(const struct mapping *m)
{
	return m->candidate && m->rss_kb >= 0 && m->anon_kb == 0 && m->swap_kb == 0;
}

/* "Name:   123 kB" -> 123, or -1. */
static long field_kb(const char *line, const char *name)
{
	size_t n = strlen(name);
	char *end;
	long v;

	if (strncmp(line, name, n) != 0 || line[n] != ':')
		return -1;
	errno = 0;
	v = strtol(line + n + 1, &end, 10);
	if (errno != 0 || end == line + n + 1 || v < 0)
		return -1;
	return v;
}

static int range_push(struct range **v, size_t *n, struct range r)
{
	struct range *nv = reallocarray(*v, *n + 1, sizeof(**v));

	if (!nv)
		return -ENOMEM;
	nv[(*n)++] = r;
	*v = nv;
	return 0;
}

/* The clean mappings of smaps_path, and their resident kB. */
static int scan_smaps(const char *smaps_path, struct range **ret, size_t *ret_n, size_t *ret_kb)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *line = NULL;
	_cleanup_free_ struct range *v = NULL;
	struct mapping m = { .candidate = false };
	size_t cap = 0, n = 0, kb = 0;
	int r;

	f = fopen(smaps_path, "re");
	if (!f)
		return -errno;
	/* getline(): paths may be long, and a cut line must not pass for a header. */
	for (;;) {
		bool eof = getline(&line, &cap, f) < 0;
		unsigned long start, end;
		char perms[5];
		int path_at = -1;
		long val;

		if (eof || (sscanf(line, "%lx-%lx %4s %*s %*s %*s %n", &start, &end, perms,
				   &path_at) == 3 &&
			    path_at > 0 && strlen(perms) == 4)) {
			if (mapping_clean(&m)) {
				r = range_push(&v, &n, m.r);
				if (r < 0)
					return r;
				kb += (size_t)m.rss_kb;
			}
			if (eof)
				break;
			m = (struct mapping){
				.r = { start, end },
				.candidate = perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p' &&
					     line[path_at] == '/' && end > start,
				.rss_kb = -1,
				.anon_kb = -1,
				.swap_kb = -1,
			};
		} else if ((val = field_kb(line, "Rss")) >= 0)
			m.rss_kb = val;
		else if ((val = field_kb(line, "Anonymous")) >= 0)
			m.anon_kb = val;
		else if ((val = field_kb(line, "Swap")) >= 0)
			m.swap_kb = val;
	}
	if (ferror(f))
		return -EIO;
	*ret = TAKE_PTR(v);
	*ret_n = n;
	if (ret_kb)
		*ret_kb = kb;
	return 0;
}

static void release_ranges(const struct range *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		(void)madvise((void *)v[i].start, v[i].end - v[i].start, MADV_DONTNEED);
}

int idle_release_clean_mappings(const char *smaps_path, size_t *ret_kb)
{
	_cleanup_free_ struct range *v = NULL;
	size_t n = 0;
	int r;

	r = scan_smaps(smaps_path ? smaps_path : "/proc/self/smaps", &v, &n, ret_kb);
	if (r < 0)
		return r;
	release_ranges(v, n);
	return 0;
}

/*
 * Keeps only the lines of file mappings (path after the five fields starts
 * with '/'), in place: the heap, the stack and malloc's own mappings come and
 * go every check and say nothing about which file mappings are clean.
 * Returns the new length.
 */
static size_t keep_file_mappings(char *maps, size_t len)
{
	size_t out = 0;

	for (size_t at = 0; at < len;) {
		char *nl = memchr(maps + at, '\n', len - at);
		size_t line_len = nl ? (size_t)(nl - (maps + at)) + 1 : len - at;
		int path_at = -1;

		if (sscanf(maps + at, "%*s %*s %*s %*s %*s %n", &path_at) >= 0 && path_at > 0 &&
		    (size_t)path_at < line_len && maps[at + path_at] == '/') {
			memmove(maps + out, maps + at, line_len);
			out += line_len;
		}
		at += line_len;
	}
	return out;
}

struct idle_release *idle_release_new(void)
{
	return calloc(1, sizeof(struct idle_release));
}

struct idle_release *idle_release_free(struct idle_release *ir)
{
	if (ir) {
		free(ir->maps);
		free(ir->ranges);
		free(ir);
	}
	return NULL;
}

int idle_release_run(struct idle_release *ir, const char *proc_self, bool *ret_rescanned)
{
	_cleanup_free_ char *maps_path = NULL, *smaps_path = NULL, *maps = NULL;
	_cleanup_free_ struct range *v = NULL;
	size_t maps_len = 0, n = 0;
	int r;

	proc_self = proc_self ? proc_self : "/proc/self";
	maps_path = path_join(proc_self, "maps");
	smaps_path = path_join(proc_self, "smaps");
	if (!maps_path || !smaps_path)
		return -ENOMEM;
	r = read_file_bounded(maps_path, MAPS_MAX, &maps, &maps_len);
	if (r < 0)
		return r;
	maps_len = keep_file_mappings(maps, maps_len);
	if (ret_rescanned)
		*ret_rescanned = false;
	if (!ir->maps || maps_len != ir->maps_len || memcmp(maps, ir->maps, maps_len) != 0) {
		r = scan_smaps(smaps_path, &v, &n, NULL);
		if (r < 0)
			return r;
		free(ir->maps);
		free(ir->ranges);
		ir->maps = TAKE_PTR(maps);
		ir->maps_len = maps_len;
		ir->ranges = TAKE_PTR(v);
		ir->n_ranges = n;
		if (ret_rescanned)
			*ret_rescanned = true;
	}
	release_ranges(ir->ranges, ir->n_ranges);
	return 0;
}
