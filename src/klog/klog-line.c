/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "klog-line.h"
#include "parse-util.h"

static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

static const char *const facilities[] = {
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron",
	"authpriv", "ftp", "res0", "res1", "res2", "res3", "local0", "local1", "local2",
	"local3", "local4", "local5", "local6", "local7",
};

static const char *const levels[] = { "emerg", "alert", "crit", "err",
				      "warn", "notice", "info", "debug" };

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int klog_month_from_string(const char *s)
{
	for (int i = 0; i < 12; i++)
		if (strncmp(s, months[i], 3) == 0)
			return i;
	return -1;
}

static int64_t civil_to_us(int y, int mon, int d, int h, int mi, int s, int64_t frac_us)
{
	return ((civil_days(y, (unsigned)mon + 1, (unsigned)d) * 86400) + h * 3600 +
		mi * 60 + s) * 1000000 + frac_us;
}

/* Parses at most max digits; returns the count (0: none). */
static size_t parse_uint(const char *s, size_t max, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	while (i < max && is_digit(s[i])) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		i++;
	}
	*ret = v;
	return i;
}

/* "[   12.345678]": returns the length consumed (with the ']'), 0 if not one. */
static size_t parse_mono_bracket(const char *s, double *ret, bool strict)
{
	uint64_t sec, frac;
	size_t i = 1, n, nf;
	double f;

	if (s[0] != '[')
		return 0;
	while (s[i] == ' ')
		i++;
	n = parse_uint(s + i, 12, &sec);
	if (n == 0 || s[i + n] != '.')
		return 0;
	i += n + 1;
	nf = parse_uint(s + i, 9, &frac);
	if (nf == 0 || s[i + nf] != ']' || (strict && nf != 6))
		return 0;
	static const double scale[10] = { 1, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9 };

	i += nf + 1;
	f = (double)frac * scale[nf];
	*ret = (double)sec + f;
	return i;
}

/* "[  T123]" or "[    C1]" right after the timestamp (CONFIG_PRINTK_CALLER). */
static size_t parse_caller_bracket(const char *s, char *caller)
{
	size_t i = 1, start;

	if (s[0] != '[')
		return 0;
	while (s[i] == ' ')
		i++;
	if (s[i] != 'T' && s[i] != 'C')
		return 0;
	start = i++;
	while (is_digit(s[i]))
		i++;
	if (i == start + 1 || s[i] != ']' || i - start >= KLOG_CALLER_MAX)
		return 0;
	memcpy(caller, s + start, i - start);
	caller[i - start] = '\0';
	return i + 1;
}

/* "Thu Nov 28 02:40:11 2024" (dmesg -T, ctime form) inside brackets. */
static size_t parse_ctime_bracket(const char *s, int64_t *ret)
{
	uint64_t d, h, mi, sec, y;
	size_t i = 0, n;
	int mon;

	if (s[0] != '[' || !is_alpha(s[1]) || !is_alpha(s[2]) || !is_alpha(s[3]) || s[4] != ' ')
		return 0;
	i = 5;
	mon = klog_month_from_string(s + i);
	if (mon < 0 || s[i + 3] != ' ')
		return 0;
	i += 4;
	if (s[i] == ' ')
		i++;
	if ((n = parse_uint(s + i, 2, &d)) == 0 || s[i + n] != ' ')
		return 0;
	i += n + 1;
	if (parse_uint(s + i, 2, &h) != 2 || s[i + 2] != ':' ||
	    parse_uint(s + i + 3, 2, &mi) != 2 || s[i + 5] != ':' ||
	    parse_uint(s + i + 6, 2, &sec) != 2 || s[i + 8] != ' ')
		return 0;
	i += 9;
	if (parse_uint(s + i, 4, &y) != 4 || s[i + 4] != ']')
		return 0;
	if (d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	*ret = civil_to_us((int)y, mon, (int)d, (int)h, (int)mi, (int)sec, 0);
	return i + 5;
}

/*
 * "2024-11-28T02:40:11[.,]frac(Z|+hh:mm|+hhmm)?" followed by a space;
 * returns the length including the space.
 */
static size_t parse_iso(const char *s, int64_t *ret)
{
	uint64_t y, mon, d, h, mi, sec, frac = 0, tzh = 0, tzm = 0;
	int64_t frac_us = 0, off = 0;
	size_t i, n;

	if (parse_uint(s, 4, &y) != 4 || s[4] != '-' || parse_uint(s + 5, 2, &mon) != 2 ||
	    s[7] != '-' || parse_uint(s + 8, 2, &d) != 2 || (s[10] != 'T' && s[10] != ' ') ||
	    parse_uint(s + 11, 2, &h) != 2 || s[13] != ':' || parse_uint(s + 14, 2, &mi) != 2 ||
	    s[16] != ':' || parse_uint(s + 17, 2, &sec) != 2)
		return 0;
	if (mon < 1 || mon > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	i = 19;
	if (s[i] == '.' || s[i] == ',') {
		n = parse_uint(s + i + 1, 9, &frac);
		if (n == 0)
			return 0;
		frac_us = (int64_t)frac;
		for (size_t k = n; k < 6; k++)
			frac_us *= 10;
		for (size_t k = 6; k < n; k++)
			frac_us /= 10;
		i += n + 1;
	}
	if (s[i] == 'Z') {
		i++;
	} else if (s[i] == '+' || s[i] == '-') {
		int sign = s[i] == '-' ? -1 : 1;

		if (parse_uint(s + i + 1, 2, &tzh) != 2)
			return 0;
		i += 3;
		if (s[i] == ':')
			i++;
		if (parse_uint(s + i, 2, &tzm) != 2)
			return 0;
		i += 2;
		off = sign * (int64_t)(tzh * 3600 + tzm * 60);
	}
	if (s[i] != ' ')
		return 0;
	*ret = civil_to_us((int)y, (int)mon - 1, (int)d, (int)h, (int)mi, (int)sec, frac_us) -
	       off * 1000000;
	return i + 1;
}

/* "Nov 28 02:40:11[.123456] " (RFC 3164); returns the length including the space. */
static size_t parse_bsd_time(const char *s, int year, int64_t *ret)
{
	uint64_t d, h, mi, sec, frac = 0;
	int64_t frac_us = 0;
	size_t i, n;
	int mon;

	mon = klog_month_from_string(s);
	if (mon < 0 || s[3] != ' ')
		return 0;
	i = 4;
	if (s[i] == ' ')
		i++;
	if ((n = parse_uint(s + i, 2, &d)) == 0 || s[i + n] != ' ')
		return 0;
	i += n + 1;
	if (parse_uint(s + i, 2, &h) != 2 || s[i + 2] != ':' ||
	    parse_uint(s + i + 3, 2, &mi) != 2 || s[i + 5] != ':' ||
	    parse_uint(s + i + 6, 2, &sec) != 2)
		return 0;
	i += 8;
	if (s[i] == '.') {
		n = parse_uint(s + i + 1, 9, &frac);
		if (n == 0)
			return 0;
		frac_us = (int64_t)frac;
		for (size_t k = n; k < 6; k++)
			frac_us *= 10;
		for (size_t k = 6; k < n; k++)
			frac_us /= 10;
		i += n + 1;
	}
	if (s[i] != ' ' || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return 0;
	*ret = civil_to_us(year, mon, (int)d, (int)h, (int)mi, (int)sec, frac_us);
	return i + 1;
}

/*
 * After a syslog time: "host ident[pid]: text".  Returns the offset of the
 * text and sets *kernel when ident is "kernel"; 0 when the shape does not fit.
 */
static size_t parse_host_ident(const char *s, bool *kernel)
{
	size_t i = 0, id;

	while (s[i] && s[i] != ' ') {
		/* Host names have no ':' '/' '[' ']': this keeps "CPU: 0" and "x86/mm:" text. */
		if (s[i] == ':' || s[i] == '/' || s[i] == '[' || s[i] == ']' || s[i] == '(')
			return 0;
		i++;
	}
	if (i == 0 || s[i] != ' ')
		return 0;
	id = ++i;
	while (s[i] && s[i] != ' ' && s[i] != ':' && s[i] != '[')
		i++;
	if (i == id)
		return 0;
	*kernel = i - id == 6 && memcmp(s + id, "kernel", 6) == 0;
	if (s[i] == '[') {
		while (s[i] && s[i] != ']' && s[i] != ' ')
			i++;
		if (s[i] != ']')
			return 0;
		i++;
	}
	if (s[i] != ':')
		return 0;
	i++;
	if (s[i] == ' ')
		i++;
	return i;
}

/* Removes ANSI escape sequences and control characters (but tabs) in place. */
static size_t strip_noise(char *s, size_t len)
{
	size_t r = 0, w = 0;

	while (r < len) {
		unsigned char c = (unsigned char)s[r];

		if (c == 0x1b) {
			r++;
			if (r < len && s[r] == '[') {
				/* CSI: parameters and intermediates, then a final byte 0x40..0x7e. */
				r++;
				while (r < len && ((unsigned char)s[r] < 0x40 || (unsigned char)s[r] > 0x7e))
					r++;
				if (r < len)
					r++;
			} else if (r < len && (s[r] == '(' || s[r] == ')' || s[r] == '#')) {
				r += r + 1 < len ? 2 : 1;
			} else if (r < len) {
				r++;
			}
			continue;
		}
		if (c < 0x20 && c != '\t') {
			r++;
			continue;
		}
		s[w++] = s[r++];
	}
	s[w] = '\0';
	return w;
}

/* Sets the text and a dmesg-style ts prefix that may follow any outer prefix. */
static void set_text(struct klog_record *r, const char *s, const char *end)
{
	double ts;
	size_t n;

	/* syslog, the journal and kmsg texts may still carry the kernel's own "[ts] ". */
	if (s[0] == '[' && r->time_s < 0 && (n = parse_mono_bracket(s, &ts, false)) > 0) {
		r->time_s = ts;
		s += n;
		if (s[0] == '[' && (n = parse_caller_bracket(s, r->caller)) > 0)
			s += n;
		if (s[0] == ' ')
			s++;
	}
	r->text = s;
	r->text_len = (size_t)(end - s);
}

/* dmesg forms starting with '[': monotonic, caller id, ctime; NULL if none. */
static const char *parse_bracket_prefix(struct klog_record *r, const char *s, bool strict)
{
	size_t n;

	if ((n = parse_mono_bracket(s, &r->time_s, strict)) > 0) {
		s += n;
		if (s[0] == '[' && (n = parse_caller_bracket(s, r->caller)) > 0)
			s += n;
		if (s[0] == ' ')
			s++;
		return s;
	}
	if ((n = parse_ctime_bracket(s, &r->wall_us)) > 0) {
		s += n;
		if (s[0] == ' ')
			s++;
		return s;
	}
	return NULL;
}

/* journalctl -o short-monotonic: "[ts] host kernel: text" */
static const char *strip_journal_host(struct klog_line_state *st, struct klog_record *r,
				      const char *s)
{
	bool kernel = false;
	size_t n = parse_host_ident(s, &kernel);

	if (n > 0 && kernel) {
		st->syslog_seen = true;
		return s + n;
	}
	return s;
}

static bool parse_journal_json(struct klog_line_state *st, const char *line, size_t len,
			       struct klog_record *r)
{
	json_t *o, *msg, *v;
	const char *s;
	size_t n = 0;
	int w;

	o = json_loadb(line, len, JSON_DISABLE_EOF_CHECK, NULL);
	if (!o || !json_is_object(o)) {
		json_decref(o);
		return false;
	}
	r->form = KLOG_FORM_JOURNAL_JSON;
	v = json_object_get(o, "_TRANSPORT");
	s = json_string_value(v);
	if (!(s && streq(s, "kernel"))) {
		s = json_string_value(json_object_get(o, "SYSLOG_IDENTIFIER"));
		if (!(s && streq(s, "kernel")))
			r->foreign = true;
	}
	msg = json_object_get(o, "MESSAGE");
	if (json_is_string(msg)) {
		n = json_string_length(msg);
		if (n > KLOG_LINE_MAX)
			n = KLOG_LINE_MAX;
		memcpy(st->scratch, json_string_value(msg), n);
	} else if (json_is_array(msg)) {
		/* Non-UTF-8 messages come as an array of byte values. */
		size_t i;

		json_array_foreach(msg, i, v) {
			json_int_t b = json_integer_value(v);

			if (n >= KLOG_LINE_MAX)
				break;
			st->scratch[n++] = (char)(b > 0 && b < 256 ? b : '?');
		}
	}
	/* A message is one line: the journal keeps the kernel's lines apart. */
	for (size_t i = 0; i < n; i++)
		if (st->scratch[i] == '\n' || st->scratch[i] == '\0')
			st->scratch[i] = ' ';
	st->scratch[n] = '\0';
	if ((s = json_string_value(json_object_get(o, "PRIORITY"))) && is_digit(s[0]) && !s[1])
		r->level = s[0] - '0';
	if ((s = json_string_value(json_object_get(o, "SYSLOG_FACILITY"))) && is_digit(s[0])) {
		uint64_t f;

		if (parse_uint(s, 3, &f) > 0 && f < 24)
			r->facility = (int)f;
	}
	if ((s = json_string_value(json_object_get(o, "_SOURCE_MONOTONIC_TIMESTAMP")))) {
		uint64_t us;

		if (parse_uint(s, 20, &us) > 0)
			r->time_s = (double)us / 1e6;
	}
	if ((s = json_string_value(json_object_get(o, "__REALTIME_TIMESTAMP")))) {
		uint64_t us;

		if (parse_uint(s, 20, &us) > 0)
			r->wall_us = (int64_t)us;
	}
	if ((s = json_string_value(json_object_get(o, "_BOOT_ID"))))
		snprintf(r->boot_id, sizeof(r->boot_id), "%s", s);
	set_text(r, st->scratch, st->scratch + n);
	/* The evidence shows what a reader of dmesg would see. */
	if (r->time_s >= 0)
		w = snprintf(st->scratch_raw, sizeof(st->scratch_raw), "[%12.6f] %s", r->time_s,
			     r->text);
	else
		w = snprintf(st->scratch_raw, sizeof(st->scratch_raw), "%s", r->text);
	r->raw = st->scratch_raw;
	r->raw_len = w < 0 ? 0 : (size_t)w >= sizeof(st->scratch_raw) ? sizeof(st->scratch_raw) - 1
									 : (size_t)w;
	json_decref(o);
	return true;
}

/* "6,1234,5678901,-[,caller=T1];text" */
static bool parse_kmsg(struct klog_line_state *st, struct klog_record *r, const char *s,
		       const char *end)
{
	uint64_t prio, seq, us;
	size_t i = 0, n;

	if ((n = parse_uint(s, 4, &prio)) == 0 || s[n] != ',')
		return false;
	i = n + 1;
	if ((n = parse_uint(s + i, 20, &seq)) == 0 || s[i + n] != ',')
		return false;
	i += n + 1;
	if ((n = parse_uint(s + i, 20, &us)) == 0 || s[i + n] != ',')
		return false;
	i += n + 1;
	if (s[i] != '-' && s[i] != 'c' && s[i] != '+')
		return false;
	i++;
	while (s[i] == ',') {
		const char *f = s + i + 1, *e = f;

		while (*e && *e != ',' && *e != ';')
			e++;
		if (e - f > 7 && memcmp(f, "caller=", 7) == 0 && (size_t)(e - f - 7) < KLOG_CALLER_MAX) {
			memcpy(r->caller, f + 7, (size_t)(e - f - 7));
			r->caller[e - f - 7] = '\0';
		}
		i = (size_t)(e - s);
	}
	if (s[i] != ';')
		return false;
	r->form = KLOG_FORM_KMSG;
	r->level = (int)(prio & 7);
	r->facility = (int)(prio >> 3);
	r->time_s = (double)us / 1e6;
	st->kmsg_seen = true;
	r->text = s + i + 1;
	r->text_len = (size_t)(end - r->text);
	return true;
}

/* "kern  :info  : " (dmesg -x); returns the offset of what follows, 0 if not one. */
static size_t parse_decode(const char *s, int *facility, int *level)
{
	size_t i = 0, a, b;

	while (is_alpha(s[i]) || is_digit(s[i]))
		i++;
	a = i;
	if (a == 0 || a > 8)
		return 0;
	while (s[i] == ' ')
		i++;
	if (s[i] != ':')
		return 0;
	i++;
	b = i;
	while (is_alpha(s[i]))
		i++;
	if (i == b)
		return 0;
	{
		size_t lb = i - b;
		int lv = -1, fa = -1;

		for (size_t k = 0; k < ARRAY_SIZE(facilities); k++)
			if (strlen(facilities[k]) == a && memcmp(s, facilities[k], a) == 0)
				fa = (int)k;
		for (size_t k = 0; k < ARRAY_SIZE(levels); k++)
			if (strlen(levels[k]) == lb && memcmp(s + b, levels[k], lb) == 0)
				lv = (int)k;
		if (fa < 0 || lv < 0)
			return 0;
		*facility = fa;
		*level = lv;
	}
	while (s[i] == ' ')
		i++;
	if (s[i] != ':')
		return 0;
	i++;
	if (s[i] == ' ')
		i++;
	return i;
}

/* After a syslog-style time stamp: host and ident, kernel lines only. */
static void finish_syslog(struct klog_line_state *st, struct klog_record *r, const char *s,
			  const char *end, enum klog_form form, bool *matched)
{
	bool kernel = false;
	size_t n = parse_host_ident(s, &kernel);

	*matched = false;
	if (n == 0)
		return;
	*matched = true;
	r->form = form;
	/* Only a kernel line proves a syslog stream; "pci 0000:00:01.1: ..." reads alike. */
	if (kernel)
		st->syslog_seen = true;
	else
		r->foreign = true;
	set_text(r, s + n, end);
}

void klog_line_parse(struct klog_line_state *st, char *line, size_t len, struct klog_record *ret)
{
	struct klog_record r = {
		.form = KLOG_FORM_BARE, .level = -1, .facility = -1, .time_s = -1, .wall_us = -1,
	};
	const char *s, *end, *p;
	bool matched;
	size_t n;

	/* Serial consoles end lines in CR LF and redraw with CR: keep what follows the last CR. */
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	{
		char *cr = memrchr(line, '\r', len);

		if (cr) {
			size_t k = (size_t)(cr + 1 - line);

			memmove(line, cr + 1, len - k + 1);
			len -= k;
		}
	}
	if (len > 0 && ((unsigned char)line[0] < 0x20 || memchr(line, 0x1b, len)))
		len = strip_noise(line, len);

	s = line;
	end = line + len;
	r.raw = line;
	r.raw_len = len;
	if (len == 0) {
		r.skip = true;
		r.text = line;
		*ret = r;
		return;
	}

	{
		switch (s[0]) {
		case '[':
			p = parse_bracket_prefix(&r, s, false);
			if (p) {
				r.form = r.wall_us >= 0 ? KLOG_FORM_DMESG_CTIME : KLOG_FORM_DMESG;
				if (r.form == KLOG_FORM_DMESG)
					p = strip_journal_host(st, &r, p);
				r.text = p;
				r.text_len = (size_t)(end - p);
				*ret = r;
				return;
			}
			break;
		case '<': {
			uint64_t prio;

			n = parse_uint(s + 1, 3, &prio);
			if (n == 0 || s[n + 1] != '>' || prio > 191)
				break;
			r.level = (int)(prio & 7);
			r.facility = (int)(prio >> 3);
			s += n + 2;
			if (s[0] == '1' && s[1] == ' ') {
				/* RFC 5424: "1 TIMESTAMP HOST APP PROCID MSGID SD MSG" */
				int64_t w;
				size_t k = parse_iso(s + 2, &w);

				if (k > 0) {
					const char *q = s + 2 + k, *app;
					size_t f = 0;

					app = NULL;
					/* host, app, procid, msgid */
					while (f < 4 && *q) {
						const char *t = q;

						while (*q && *q != ' ')
							q++;
						if (f == 1)
							app = t;
						if (f == 1 && !(q - t == 6 && memcmp(t, "kernel", 6) == 0))
							app = NULL;
						if (*q == ' ')
							q++;
						f++;
					}
					if (*q == '-') {
						q++;
					} else if (*q == '[') {
						while (*q && *q != ']')
							q++;
						if (*q)
							q++;
					}
					if (*q == ' ')
						q++;
					r.form = KLOG_FORM_SYSLOG_ISO;
					r.wall_us = w;
					st->syslog_seen = true;
					r.foreign = app == NULL;
					set_text(&r, q, end);
					*ret = r;
					return;
				}
			}
			if (klog_month_from_string(s) >= 0) {
				int64_t w;
				size_t k = parse_bsd_time(s, st->year, &w);

				if (k > 0) {
					r.wall_us = w;
					finish_syslog(st, &r, s + k, end, KLOG_FORM_SYSLOG, &matched);
					if (matched) {
						*ret = r;
						return;
					}
					r.wall_us = -1;
				}
			}
			p = s[0] == '[' ? parse_bracket_prefix(&r, s, false) : s;
			if (!p)
				p = s;
			r.form = KLOG_FORM_DMESG_RAW;
			r.text = p;
			r.text_len = (size_t)(end - p);
			*ret = r;
			return;
		}
		case '{':
			if (parse_journal_json(st, s, (size_t)(end - s), &r)) {
				*ret = r;
				return;
			}
			if (len > 1 && s[1] == '"') {
				r.malformed = true;
				r.skip = true;
				r.text = s;
				r.text_len = len;
				*ret = r;
				return;
			}
			break;
		case ' ':
			/* /dev/kmsg dictionary lines (" SUBSYSTEM=pci") follow their record. */
			if (st->kmsg_seen && len > 1 && s[1] != ' ' && strchr(s + 1, '=')) {
				r.skip = true;
				r.text = s;
				r.text_len = len;
				*ret = r;
				return;
			}
			break;
		default:
			if (is_digit(s[0])) {
				int64_t w;

				if (parse_kmsg(st, &r, s, end)) {
					*ret = r;
					return;
				}
				n = parse_iso(s, &w);
				if (n > 0) {
					bool seen = st->syslog_seen;

					r.wall_us = w;
					finish_syslog(st, &r, s + n, end, KLOG_FORM_SYSLOG_ISO, &matched);
					/* "Call Trace:" reads like "host ident:" only in syslog streams. */
					if (matched && (!r.foreign || seen)) {
						*ret = r;
						return;
					}
					r.foreign = false;
					r.form = KLOG_FORM_ISO;
					r.text = s + n;
					r.text_len = (size_t)(end - r.text);
					*ret = r;
					return;
				}
			} else if (is_alpha(s[0])) {
				int fa, lv;

				if (klog_month_from_string(s) >= 0) {
					int64_t w;

					n = parse_bsd_time(s, st->year, &w);
					if (n > 0) {
						r.wall_us = w;
						finish_syslog(st, &r, s + n, end, KLOG_FORM_SYSLOG,
							      &matched);
						if (matched) {
							*ret = r;
							return;
						}
						r.wall_us = -1;
					}
				}
				n = parse_decode(s, &fa, &lv);
				if (n > 0) {
					r.facility = fa;
					r.level = lv;
					p = s[n] == '[' ? parse_bracket_prefix(&r, s + n, false) : NULL;
					r.form = KLOG_FORM_DMESG_DECODE;
					set_text(&r, p ? p : s + n, end);
					*ret = r;
					return;
				}
			}
			break;
		}
		/*
		 * Console noise before a timestamp ("Booting from ROM...[    1.23] ..."):
		 * a strict dmesg stamp anywhere on the line starts the record.
		 */
		p = s;
		while ((p = memchr(p + 1, '[', (size_t)(end - p - 1))) != NULL) {
			struct klog_record t = r;
			const char *q = parse_bracket_prefix(&t, p, true);

			if (q && t.wall_us < 0) {
				t.form = KLOG_FORM_CONSOLE;
				t.text = q;
				t.text_len = (size_t)(end - q);
				*ret = t;
				return;
			}
			if (end - p < 16)
				break;
		}
	}
	r.form = KLOG_FORM_BARE;
	r.text = s;
	r.text_len = (size_t)(end - s);
	*ret = r;
}
