/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "parse-util.h"

int safe_atoi(const char *s, int *ret)
{
	char *end;
	long v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = (int)v;
	return 0;
}

int safe_atou64(const char *s, uint64_t *ret)
{
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int safe_atod(const char *s, double *ret)
{
	char *end;
	double v;

	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_boolean(const char *s, bool *ret)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

bool is_hex_string(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[i] == '\0';
}

int parse_timestamp(const char *s, int64_t *ret)
{
	struct tm tm = { 0 };
	int y, mo, d, h = 0, mi = 0, sec = 0, n = 0, offset = 0;
	const char *rest;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
		return -EINVAL;
	rest = s + n;
	if (*rest == 'T' || *rest == ' ') {
		int m = 0;

		if (sscanf(rest + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &m) != 3)
			return -EINVAL;
		rest += 1 + m;
		if (*rest == '.')
			for (rest++; isdigit((unsigned char)*rest); rest++)
				;
		if (*rest == 'Z' && rest[1] == '\0') {
			rest++;
		} else if (*rest == '+' || *rest == '-') {
			int oh, om, k = 0;

			if (sscanf(rest + 1, "%2d:%2d%n", &oh, &om, &k) != 2 &&
			    sscanf(rest + 1, "%2d%2d%n", &oh, &om, &k) != 2)
				return -EINVAL;
			offset = (oh * 3600 + om * 60) * (*rest == '+' ? 1 : -1);
			rest += 1 + k;
		}
	}
	if (*rest)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ret = (int64_t)timegm(&tm) - offset;
	return 0;
}

void format_timestamp(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void vformat_error(char *reterr, size_t errsize, const char *fmt, va_list ap)
{
	if (reterr && errsize)
		vsnprintf(reterr, errsize, fmt, ap);
}

int parse_error(char *reterr, size_t errsize, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat_error(reterr, errsize, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

int error_message(char *reterr, size_t errsize, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vformat_error(reterr, errsize, fmt, ap);
	va_end(ap);
	return r;
}

/* Howard Hinnant's days_from_civil: eras of 400 years, March-based years. */
int64_t civil_days(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}
