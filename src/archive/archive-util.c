/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "archive-internal.h"
#include "fileio.h"
#include "metadata.h"
#include "parse-util.h"

char *quote_role(const char *name)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(name);
	char *q = malloc(n * 3 + 1), *o = q;

	if (!q)
		return NULL;
	for (const unsigned char *s = (const unsigned char *)name; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '_' || *s == '.' || *s == '-' || *s == '~') {
			*o++ = (char)*s;
		} else {
			*o++ = '%';
			*o++ = hex[*s >> 4];
			*o++ = hex[*s & 15];
		}
	}
	*o = '\0';
	return q;
}

int sha256_hex(const void *data, size_t len, char ret[static 65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[SHA256_DIGEST_LENGTH];

	if (!SHA256(data, len, md))
		return -EIO;
	for (size_t i = 0; i < sizeof(md); i++) {
		ret[2 * i] = hex[md[i] >> 4];
		ret[2 * i + 1] = hex[md[i] & 15];
	}
	ret[64] = '\0';
	return 0;
}

int load_json_file(const char *path, size_t max, json_t **ret, char err[], size_t errsize)
{
	_cleanup_free_ char *buf = NULL;
	json_error_t je;
	size_t len;
	json_t *v;
	int r;

	r = read_file_bounded(path, max, &buf, &len);
	if (r == -EFBIG) {
		snprintf(err, errsize, "'%s' is larger than %zu bytes", path, max);
		return r;
	}
	if (r < 0) {
		snprintf(err, errsize, "cannot read '%s': %s", path, strerror(-r));
		return r;
	}
	v = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!v)
		return parse_error(err, errsize, "'%s' line %d column %d: %s", path, je.line,
				   je.column, je.text);
	if (!json_is_object(v)) {
		json_decref(v);
		return parse_error(err, errsize, "'%s': not a JSON object", path);
	}
	*ret = v;
	return 0;
}

int save_json_state(const char *path, json_t *v, char err[], size_t errsize)
{
	_cleanup_free_ char *s = json_dumps(v, JSON_INDENT(1) | JSON_SORT_KEYS);
	int r;

	if (!s)
		return -ENOMEM;
	r = write_file_atomic(path, s, strlen(s), 0644);
	if (r < 0)
		snprintf(err, errsize, "cannot write '%s': %s", path, strerror(-r));
	return r;
}

static long hook_fail_at = -2, hook_kill_after = -2, hook_writes;

static long hook_value(const char *name)
{
	const char *v = getenv(name);
	uint64_t n;

	if (!v || safe_atou64(v, &n) < 0 || n == 0 || n > 1000000000)
		return -1;
	return (long)n;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int sync_path(const char *path)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

static int sync_dir_of(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	_cleanup_close_ int fd = -1;
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else if (slash)
		dir[1] = '\0';
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

int repo_write(const char *path, const void *data, size_t len, mode_t mode, bool sync,
	       char err[], size_t errsize)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	bool fail;
	int r;

	if (hook_fail_at == -2) {
		hook_fail_at = hook_value("TUXTAPE_TEST_ARCHIVE_FAIL_WRITE");
		hook_kill_after = hook_value("TUXTAPE_TEST_ARCHIVE_KILL_AFTER");
	}
	fail = ++hook_writes == hook_fail_at;
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errsize, "cannot create a file beside '%s': %s", path, strerror(-r));
		return r;
	}
	r = write_all(fd, data, fail ? len / 2 : len);
	if (r >= 0 && fail)
		r = -ENOSPC; /* test hook: a full disk half-way through this file */
	if (r >= 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r >= 0 && sync && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && close(TAKE_FD(fd)) < 0)
		r = -errno;
	if (r >= 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		snprintf(err, errsize, "cannot write '%s': %s", path, strerror(-r));
		return r;
	}
	if (sync) {
		r = sync_dir_of(path);
		if (r < 0) {
			snprintf(err, errsize, "cannot sync the directory of '%s': %s", path,
				 strerror(-r));
			return r;
		}
	}
	if (hook_writes == hook_kill_after)
		raise(SIGKILL); /* test hook: a publish killed between two files */
	return 0;
}

int format_expires(int64_t t, char buf[static 21])
{
	return tuf_time_format(t, buf);
}

int json_get_int(const json_t *o, const char *key, int64_t *ret)
{
	const json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return -EBADMSG;
	*ret = json_integer_value(v);
	return 0;
}

const char *json_get_str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

bool archive_release_is_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64 || streq(s, ".") || streq(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-' ||
		      s[i] == '~'))
			return false;
	return true;
}

int archive_parse_duration(const char *s, int64_t *ret)
{
	const int64_t max = 100LL * 366 * 86400;
	int64_t total = 0;

	if (strempty(s))
		return -EINVAL;
	while (*s) {
		int64_t n = 0, unit;
		const char *start = s;

		while (*s >= '0' && *s <= '9') {
			n = n * 10 + (*s - '0');
			if (n > max)
				return -ERANGE;
			s++;
		}
		if (s == start)
			return -EINVAL;
		switch (*s) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7 * 86400;
			break;
		default:
			return -EINVAL;
		}
		s++;
		if (n > max / unit)
			return -ERANGE;
		total += n * unit;
		if (total > max)
			return -ERANGE;
	}
	if (total < 1)
		return -ERANGE;
	*ret = total;
	return 0;
}
