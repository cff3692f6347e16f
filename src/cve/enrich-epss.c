/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "enrich.h"
#include "record.h"
#include "parse-util.h"

#define EPSS_HEADER "cve,epss,percentile"
#define INFLATE_CHUNK (64u * 1024)

enum phase {
	PHASE_START,  /* expecting the comment line or the column header */
	PHASE_HEADER, /* comment seen, expecting the column header */
	PHASE_ROWS,
};

struct epss_state {
	char line[EPSS_LINE_MAX + 1];
	size_t line_len;
	bool line_too_long;
	unsigned long lineno;
	enum phase phase;
	size_t total;
	size_t max;
	epss_row_fn fn;
	epss_bad_row_fn bad_fn;
	void *userdata;
	struct epss_info info;
	char *reterr;
	size_t errsize;
};

_printf_(2, 3) static int fail(struct epss_state *st, const char *fmt, ...)
{
	va_list ap;

	if (st->reterr && st->errsize) {
		va_start(ap, fmt);
		vsnprintf(st->reterr, st->errsize, fmt, ap);
		va_end(ap);
	}
	return -EBADMSG;
}

static void bad_row(struct epss_state *st, const char *reason)
{
	st->info.bad_rows++;
	if (!st->info.first_bad_line)
		st->info.first_bad_line = st->lineno;
	if (st->bad_fn)
		st->bad_fn(st->lineno, reason, st->userdata);
}

/* "#model_version:v2026.06.15,score_date:2026-09-29T12:00:22Z" */
static int parse_comment(struct epss_state *st, char *s)
{
	char *save = NULL;

	for (char *kv = strtok_r(s + 1, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(kv, ':');

		if (!colon)
			continue;
		*colon = '\0';
		if (streq(kv, "model_version")) {
			if (strlen(colon + 1) >= sizeof(st->info.model_version))
				return fail(st, "line %lu: model_version too long", st->lineno);
			snprintf(st->info.model_version, sizeof(st->info.model_version), "%s",
				 colon + 1);
		} else if (streq(kv, "score_date")) {
			/* parse_timestamp() takes both "...Z" and "...+0000". */
			if (parse_timestamp(colon + 1, &st->info.score_date) < 0)
				return fail(st, "line %lu: invalid score_date '%.40s'", st->lineno,
					    colon + 1);
		}
	}
	return 0;
}

static int parse_unit(const char *s, double *ret)
{
	double v;

	if (safe_atod(s, &v) < 0 || !isfinite(v) || v < 0.0 || v > 1.0)
		return -EINVAL;
	*ret = v;
	return 0;
}

static int parse_row(struct epss_state *st, char *s)
{
	struct epss_row row = { .line = st->lineno };
	char *f[3], *p = s;
	size_t n = 0;

	for (;;) {
		char *comma = strchr(p, ',');

		if (n == ARRAY_SIZE(f)) {
			bad_row(st, "more than 3 fields");
			return 0;
		}
		f[n++] = p;
		if (!comma)
			break;
		*comma = '\0';
		p = comma + 1;
	}
	if (n != 3) {
		bad_row(st, "expected 3 fields");
		return 0;
	}
	if (!cve_id_valid(f[0])) {
		bad_row(st, "invalid CVE id");
		return 0;
	}
	if (parse_unit(f[1], &row.epss) < 0) {
		bad_row(st, "epss is not a number in [0,1]");
		return 0;
	}
	if (parse_unit(f[2], &row.percentile) < 0) {
		bad_row(st, "percentile is not a number in [0,1]");
		return 0;
	}
	row.cve_id = f[0];
	st->info.rows++;
	return st->fn(&row, st->userdata);
}

static int handle_line(struct epss_state *st)
{
	char *s = st->line;
	size_t len = st->line_len;
	bool too_long = st->line_too_long;

	st->lineno++;
	st->line_len = 0;
	st->line_too_long = false;
	if (len && s[len - 1] == '\r')
		len--;
	s[len] = '\0';

	if (too_long) {
		if (st->phase != PHASE_ROWS)
			return fail(st, "line %lu: header line too long", st->lineno);
		bad_row(st, "line too long");
		return 0;
	}
	if (memchr(s, '\0', len)) {
		if (st->phase != PHASE_ROWS)
			return fail(st, "line %lu: NUL byte in header", st->lineno);
		bad_row(st, "NUL byte");
		return 0;
	}
	if (len == 0)
		return 0;

	switch (st->phase) {
	case PHASE_START:
		if (s[0] == '#') {
			st->phase = PHASE_HEADER;
			return parse_comment(st, s);
		}
		/* fall through */
	case PHASE_HEADER:
		if (!streq(s, EPSS_HEADER))
			return fail(st, "line %lu: expected header '" EPSS_HEADER "'", st->lineno);
		st->phase = PHASE_ROWS;
		return 0;
	case PHASE_ROWS:
		return parse_row(st, s);
	}
	return 0;
}

/* Splits decompressed bytes into lines; lines longer than EPSS_LINE_MAX are flagged. */
static int feed(struct epss_state *st, const char *data, size_t n)
{
	if (n > st->max - st->total) {
		fail(st, "CSV larger than %zu bytes", st->max);
		return -EFBIG;
	}
	st->total += n;
	while (n) {
		const char *nl = memchr(data, '\n', n);
		size_t chunk = nl ? (size_t)(nl - data) : n;
		size_t room = EPSS_LINE_MAX - st->line_len;
		int r;

		if (chunk > room) {
			st->line_too_long = true;
			chunk = room;
		}
		memcpy(st->line + st->line_len, data, chunk);
		st->line_len += chunk;
		if (!nl)
			return 0;
		r = handle_line(st);
		if (r < 0)
			return r;
		n -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	return 0;
}

static bool is_gzip(const unsigned char *p, size_t len)
{
	return len >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

static int feed_gzip(struct epss_state *st, const unsigned char *data, size_t len)
{
	unsigned char out[INFLATE_CHUNK];
	z_stream zs = { 0 };
	size_t left = len;
	int zr, r = 0;

	/* 16 + MAX_WBITS: expect a gzip wrapper. */
	if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
		return -ENOMEM;
	zs.next_in = (unsigned char *)data;
	for (;;) {
		if (zs.avail_in == 0 && left) {
			zs.avail_in = left > UINT_MAX ? UINT_MAX : (unsigned)left;
			left -= zs.avail_in;
		}
		zs.next_out = out;
		zs.avail_out = sizeof(out);
		zr = inflate(&zs, Z_NO_FLUSH);
		if (zr == Z_MEM_ERROR) {
			r = -ENOMEM;
			break;
		}
		if (zr == Z_DATA_ERROR || zr == Z_NEED_DICT || zr == Z_STREAM_ERROR) {
			r = fail(st, "gzip: corrupt data (%s)", zs.msg ? zs.msg : "unknown error");
			break;
		}
		r = feed(st, (const char *)out, sizeof(out) - zs.avail_out);
		if (r < 0)
			break;
		if (zr == Z_STREAM_END) {
			size_t rest = zs.avail_in + left;

			if (rest == 0)
				break;
			/* Concatenated gzip members form one stream (RFC 1952). */
			if (!is_gzip(zs.next_in, zs.avail_in)) {
				r = fail(st, "gzip: trailing garbage after compressed data");
				break;
			}
			if (inflateReset(&zs) != Z_OK) {
				r = -ENOMEM;
				break;
			}
			continue;
		}
		if (zr == Z_BUF_ERROR && zs.avail_in == 0 && left == 0) {
			r = fail(st, "gzip: truncated stream");
			break;
		}
	}
	inflateEnd(&zs);
	return r;
}

int epss_parse(const void *data, size_t len, size_t max_decompressed, epss_row_fn fn,
	       epss_bad_row_fn bad_fn, void *userdata, struct epss_info *ret_info, char *reterr,
	       size_t errsize)
{
	struct epss_state *st;
	int r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->max = max_decompressed ? max_decompressed : EPSS_DECOMPRESSED_MAX;
	st->fn = fn;
	st->bad_fn = bad_fn;
	st->userdata = userdata;
	st->reterr = reterr;
	st->errsize = errsize;

	if (is_gzip(data, len))
		r = feed_gzip(st, data, len);
	else
		r = feed(st, data, len);
	/* A last line without '\n'. */
	if (r >= 0 && (st->line_len || st->line_too_long))
		r = handle_line(st);
	if (r >= 0 && st->phase != PHASE_ROWS)
		r = fail(st, "line %lu: missing header '" EPSS_HEADER "'", st->lineno + 1);
	if (r >= 0 && ret_info)
		*ret_info = st->info;
	free(st);
	return r < 0 ? r : 0;
}
