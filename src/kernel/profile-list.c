/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <string.h>

#include "fileio.h"
#include "parse-util.h"
#include "profile-list.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Kernel paths use these ("include/dt-bindings/clock/qcom,gcc-sdm845.h"); JSON does not. */
static bool is_path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("._-+,/@", c));
}

static int parse_kind(const char *s, size_t n, unsigned *ret)
{
	static const struct {
		const char *name;
		unsigned flags;
	} kinds[] = {
		{ "builtin", PROFILE_BUILTIN },
		{ "module", PROFILE_MODULE },
		{ "header", PROFILE_HEADER },
	};

	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (strlen(kinds[i].name) == n && memcmp(s, kinds[i].name, n) == 0) {
			*ret = kinds[i].flags;
			return 0;
		}
	return -EINVAL;
}

static int parse_line(struct kernel_profile *p, const char *s, size_t n, size_t line_no,
		      char *reterr, size_t errsize)
{
	const char *field[3];
	size_t flen[3], nfields = 0, i = 0;
	unsigned flags = PROFILE_BUILTIN;
	_cleanup_free_ char *path = NULL;
	int r;

	for (size_t k = 0; k < n; k++)
		if (((unsigned char)s[k] < 0x20 && s[k] != '\t') || s[k] == 0x7f)
			return parse_error(reterr, errsize, "line %zu: binary data (byte 0x%02x)",
					   line_no, (unsigned char)s[k]);
	while (i < n) {
		size_t start;

		while (i < n && is_blank(s[i]))
			i++;
		if (i == n || s[i] == '#')
			break;
		start = i;
		while (i < n && !is_blank(s[i]))
			i++;
		if (nfields == ARRAY_SIZE(field))
			return parse_error(reterr, errsize,
					   "line %zu: too many fields (expected 'PATH "
					   "[builtin|module|header]')",
					   line_no);
		field[nfields] = s + start;
		flen[nfields++] = i - start;
	}
	if (nfields == 0)
		return 0;
	if (nfields > 2)
		return parse_error(
			reterr, errsize,
			"line %zu: too many fields (expected 'PATH [builtin|module|header]')",
			line_no);
	if (nfields == 2 && parse_kind(field[1], flen[1], &flags) < 0)
		return parse_error(
			reterr, errsize,
			"line %zu: unknown kind '%.*s' (expected builtin, module or header)",
			line_no, (int)(flen[1] > 40 ? 40 : flen[1]), field[1]);
	for (size_t k = 0; k < flen[0]; k++)
		if (!is_path_char(field[0][k]))
			return parse_error(reterr, errsize,
					   "line %zu: '%.*s' is not a source path (character '%c')",
					   line_no, (int)(flen[0] > 60 ? 60 : flen[0]), field[0],
					   field[0][k]);
	path = strndup(field[0], flen[0]);
	if (!path)
		return -ENOMEM;
	r = kernel_profile_add(p, path, flags);
	if (r == -EINVAL)
		return parse_error(reterr, errsize,
				   "line %zu: '%s' is absolute or leaves the source tree", line_no,
				   path);
	return r;
}

int kernel_profile_parse_list(struct kernel_profile *p, const char *buf, size_t len, char *reterr,
			      size_t errsize)
{
	size_t pos = 0, line_no = 0;
	int r;

	if (len > PROFILE_LIST_MAX_SIZE) {
		parse_error(reterr, errsize,
			    "list of %zu bytes is larger than the %u bytes allowed", len,
			    PROFILE_LIST_MAX_SIZE);
		return -EFBIG;
	}
	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + (nl ? 1 : 0);
		line_no++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		r = parse_line(p, s, n, line_no, reterr, errsize);
		if (r < 0)
			return r;
	}
	return 0;
}

int kernel_profile_read_list(struct kernel_profile *p, const char *path, char *reterr,
			     size_t errsize)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = read_file_bounded(path, PROFILE_LIST_MAX_SIZE, &buf, &len);
	if (r == -EFBIG)
		parse_error(reterr, errsize, "larger than the %u bytes allowed for a list",
			    PROFILE_LIST_MAX_SIZE);
	if (r < 0)
		return r;
	return kernel_profile_parse_list(p, buf, len, reterr, errsize);
}
