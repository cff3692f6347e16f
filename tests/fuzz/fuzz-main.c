/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Runs a libFuzzer target over files and directories of inputs without
 * libFuzzer: the corpus as a regression test in every build.  TAP output,
 * one test per input.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "macro.h"
#include "strbuf.h"

#define INPUT_MAX (16u * 1024 * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int collect(const char *path, char ***files)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return strv_push(files, path);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *p = NULL;
		int r;

		if (de->d_name[0] == '.')
			continue;
		p = path_join(path, de->d_name);
		if (!p) {
			closedir(d);
			return -ENOMEM;
		}
		r = collect(p, files);
		if (r < 0) {
			closedir(d);
			return r;
		}
	}
	closedir(d);
	return 0;
}

int main(int argc, char **argv)
{
	_cleanup_strv_free_ char **files = NULL;
	size_t n;

	for (int i = 1; i < argc; i++) {
		int r = collect(argv[i], &files);

		if (r < 0) {
			printf("Bail out! cannot read '%s': %s\n", argv[i], strerror(-r));
			return 1;
		}
	}
	n = strv_length(files);
	if (n == 0) {
		printf("Bail out! no inputs\n");
		return 1;
	}
	qsort(files, n, sizeof(*files), cmp);
	printf("1..%zu\n", n);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *buf = NULL;
		size_t len = 0;
		int r = read_file_bounded(files[i], INPUT_MAX, &buf, &len);

		if (r < 0) {
			printf("not ok %zu - %s: %s\n", i + 1, files[i], strerror(-r));
			continue;
		}
		/* a crash or sanitizer report ends the run: meson sees the failure */
		LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
		printf("ok %zu - %s\n", i + 1, files[i]);
		fflush(stdout);
	}
	return 0;
}
