/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "cvss.h"
#include "parse-util.h"
#include "fileio.h"
#include "log.h"
#include "mbox.h"
#include "strbuf.h"
#include "utf8.h"

#define CNA_ASSIGNED_LINE "The Linux kernel CVE team has assigned "
/* Real records list a few dozen files at most; the cap keeps de-duplication cheap. */
#define LIST_MAX 10000
/* RFC 2047 limits an encoded word to 75 characters; allow sloppy senders some more. */
#define ENCODED_WORD_MAX 1024

/* One line of the message, NUL-terminated in a working copy, with its line number. */
struct mline {
	char *s;
	unsigned no;
};

struct mlines {
	struct mline *v;
	size_t n;
};

static void mlines_release(struct mlines *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static const char *startswith(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static bool is_blank(const char *s)
{
	return s[strspn(s, " \t")] == '\0';
}

/* Trims in place; s must be writable. */
static char *strip(char *s)
{
	size_t n;

	s += strspn(s, " \t");
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	return s;
}

static bool is_hex_len(const char *s, size_t min, size_t max)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return s[n] == '\0' && n >= min && n <= max;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Splits buf (len bytes followed by a NUL, writable) into lines; '\n' and a
 * '\r' before it become NULs.  A final empty segment after '\n' is no line.
 */
static int split_lines(char *buf, size_t len, unsigned first_no, struct mlines *ret)
{
	size_t n = 1, i = 0;
	struct mline *v;

	for (const char *p = buf; (p = memchr(p, '\n', len - (size_t)(p - buf))); p++)
		n++;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	n = 0;
	while (i < len) {
		char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len;

		buf[end] = '\0';
		if (end > i && buf[end - 1] == '\r')
			buf[end - 1] = '\0';
		v[n].s = buf + i;
		v[n].no = first_no + (unsigned)n;
		n++;
		i = end + 1;
	}
	ret->v = v;
	ret->n = n;
	return 0;
}

/* Base64 without line length rules: whitespace is skipped, '=' ends the data. */
static int base64_decode(const char *s, size_t len, struct strbuf *out)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned acc = 0, bits = 0, n = 0;
	bool pad = false;
	int r;

	for (size_t i = 0; i < len; i++) {
		const char *pos;

		if (isspace((unsigned char)s[i]))
			continue;
		if (s[i] == '=') {
			pad = true;
			continue;
		}
		pos = s[i] ? strchr(alphabet, s[i]) : NULL;
		if (!pos || pad)
			return -EBADMSG;
		acc = (acc << 6) | (unsigned)(pos - alphabet);
		bits += 6;
		n++;
		if (bits >= 8) {
			bits -= 8;
			r = strbuf_addch(out, (char)((acc >> bits) & 0xff));
			if (r < 0)
				return r;
		}
	}
	/* a lone sixth of a quantum cannot encode a byte */
	return n % 4 == 1 ? -EBADMSG : 0;
}

static int qp_decode_body(const char *s, size_t len, struct strbuf *out)
{
	size_t i = 0;
	int r;

	while (i < len) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - s) : len, e = end;
		bool soft = false;

		/* RFC 2045: trailing whitespace was added in transport */
		while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
			e--;
		if (e > i && s[e - 1] == '=') {
			soft = true;
			e--;
		}
		for (size_t j = i; j < e; j++) {
			int hi, lo;

			if (s[j] == '=' && j + 2 < e && (hi = hexval(s[j + 1])) >= 0 &&
			    (lo = hexval(s[j + 2])) >= 0) {
				r = strbuf_addch(out, (char)(hi << 4 | lo));
				j += 2;
			} else {
				r = strbuf_addch(out, s[j]);
			}
			if (r < 0)
				return r;
		}
		if (nl && !soft) {
			r = strbuf_addch(out, '\n');
			if (r < 0)
				return r;
		}
		i = end + 1;
	}
	return 0;
}

/* Bytes of one charset converted to UTF-8; false for a charset we do not know. */
static int charset_to_utf8(const char *charset, size_t charset_len, const char *s, size_t len,
			   struct strbuf *out, bool *ret_known)
{
	static const char *const utf8ish[] = { "utf-8", "utf8", "us-ascii", "ascii" };
	static const char *const latin1[] = { "iso-8859-1", "latin1", "iso_8859-1" };
	int r;

	*ret_known = true;
	for (size_t i = 0; i < ARRAY_SIZE(utf8ish); i++)
		if (strlen(utf8ish[i]) == charset_len &&
		    strncasecmp(charset, utf8ish[i], charset_len) == 0)
			return strbuf_add(out, s, len);
	for (size_t i = 0; i < ARRAY_SIZE(latin1); i++) {
		if (strlen(latin1[i]) != charset_len ||
		    strncasecmp(charset, latin1[i], charset_len) != 0)
			continue;
		for (size_t j = 0; j < len; j++) {
			unsigned char c = (unsigned char)s[j];

			if (c < 0x80)
				r = strbuf_addch(out, (char)c);
			else
				r = strbuf_addf(out, "%c%c", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
			if (r < 0)
				return r;
		}
		return 0;
	}
	*ret_known = false;
	return 0;
}

/*
 * Decodes the RFC 2047 encoded word at s ("=?charset?Q?text?=") into out.
 * Returns the number of bytes consumed, 0 when s is no decodable word (the
 * caller then keeps it as plain text), or -ENOMEM.
 */
static int decode_encoded_word(const char *s, struct strbuf *out)
{
	_cleanup_strbuf_ struct strbuf raw;
	const char *charset = s + 2, *q1, *text, *end, *star;
	size_t charset_len;
	char enc;
	bool known;
	int r;

	strbuf_init(&raw, 0);
	q1 = strchr(charset, '?');
	if (!q1 || q1 == charset || !q1[1] || q1[2] != '?')
		return 0;
	enc = (char)toupper((unsigned char)q1[1]);
	text = q1 + 3;
	end = memmem(text, strnlen(text, ENCODED_WORD_MAX), "?=", 2);
	if (!end || (enc != 'Q' && enc != 'B'))
		return 0;
	/* encoded words never contain white space */
	for (const char *p = charset; p < end; p++)
		if (isspace((unsigned char)*p))
			return 0;
	/* RFC 2231 language suffix: "UTF-8*en" */
	star = memchr(charset, '*', (size_t)(q1 - charset));
	charset_len = (size_t)((star ? star : q1) - charset);

	if (enc == 'B') {
		r = base64_decode(text, (size_t)(end - text), &raw);
		if (r == -EBADMSG)
			return 0;
		if (r < 0)
			return r;
	} else {
		for (const char *p = text; p < end; p++) {
			int hi, lo;

			if (*p == '_') {
				r = strbuf_addch(&raw, ' ');
			} else if (*p == '=') {
				if (end - p < 3 || (hi = hexval(p[1])) < 0 ||
				    (lo = hexval(p[2])) < 0)
					return 0;
				r = strbuf_addch(&raw, (char)(hi << 4 | lo));
				p += 2;
			} else {
				r = strbuf_addch(&raw, *p);
			}
			if (r < 0)
				return r;
		}
	}
	if (memchr(raw.buf, '\0', raw.len))
		return 0;
	r = charset_to_utf8(charset, charset_len, raw.buf, raw.len, out, &known);
	if (r < 0)
		return r;
	if (!known)
		return 0;
	return (int)(end + 2 - s);
}

/*
 * Decodes encoded words in an unfolded header value.  White space between two
 * adjacent encoded words is dropped (RFC 2047 section 6.2), control characters
 * become spaces and invalid UTF-8 is replaced, so the result is printable.
 */
static char *header_decode(const char *s)
{
	_cleanup_strbuf_ struct strbuf out;
	const char *p = s, *ws = NULL;
	bool prev_word = false;
	int r = 0;

	strbuf_init(&out, 0);
	while (*p && r >= 0) {
		if (*p == ' ' || *p == '\t') {
			ws = p;
			p += strspn(p, " \t");
			continue;
		}
		if (p[0] == '=' && p[1] == '?') {
			size_t before = out.len;
			int n;

			if (ws && !prev_word)
				r = strbuf_add(&out, ws, (size_t)(p - ws));
			if (r < 0)
				break;
			n = decode_encoded_word(p, &out);
			if (n < 0)
				return NULL;
			if (n > 0) {
				p += n;
				ws = NULL;
				prev_word = true;
				continue;
			}
			/* not a word after all: undo and treat as text */
			out.len = before;
			if (out.alloc)
				out.buf[out.len] = '\0';
		}
		if (ws)
			r = strbuf_add(&out, ws, (size_t)(p - ws));
		if (r >= 0)
			r = strbuf_addch(&out, *p);
		ws = NULL;
		prev_word = false;
		p++;
	}
	if (r >= 0 && ws)
		r = strbuf_add(&out, ws, (size_t)(p - ws));
	if (r < 0)
		return NULL;
	for (size_t i = 0; i < out.len; i++)
		if ((unsigned char)out.buf[i] < 0x20 || out.buf[i] == 0x7f)
			out.buf[i] = ' ';
	return utf8_sanitize(out.buf, out.len);
}

/* RFC 5322 date ("Tue, 27 Feb 2024 10:12:13 +0100"); 0 when unparsable. */
static int64_t parse_mail_date(const char *s)
{
	static const char months[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	int day, year, hh, mm, ss = 0, n = 0, off = 0;
	char mon[4];
	const char *p = s, *m;
	struct tm tm = { 0 };
	time_t t;

	p += strspn(p, " \t");
	if (isalpha((unsigned char)*p)) {
		p = strchr(p, ',');
		if (!p)
			return 0;
		p++;
	}
	if (sscanf(p, "%d %3s %d %d:%d%n", &day, mon, &year, &hh, &mm, &n) != 5)
		return 0;
	p += n;
	if (*p == ':') {
		if (sscanf(p + 1, "%d%n", &ss, &n) != 1)
			return 0;
		p += 1 + n;
	}
	p += strspn(p, " \t");
	if ((p[0] == '+' || p[0] == '-') && strspn(p + 1, "0123456789") == 4) {
		off = ((p[1] - '0') * 10 + (p[2] - '0')) * 3600 +
		      ((p[3] - '0') * 10 + (p[4] - '0')) * 60;
		if (p[0] == '-')
			off = -off;
	}
	for (int i = 0; i < 3; i++)
		mon[i] = (char)tolower((unsigned char)mon[i]);
	m = strlen(mon) == 3 ? strstr(months, mon) : NULL;
	if (!m || (m - months) % 3 != 0)
		return 0;
	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	if (year < 1970 || year > 9999 || day < 1 || day > 31 || hh < 0 || hh > 23 || mm < 0 ||
	    mm > 59 || ss < 0 || ss > 60)
		return 0;
	tm.tm_year = year - 1900;
	tm.tm_mon = (int)((m - months) / 3);
	tm.tm_mday = day;
	tm.tm_hour = hh;
	tm.tm_min = mm;
	tm.tm_sec = ss;
	t = timegm(&tm);
	return t == (time_t)-1 ? 0 : (int64_t)t - off;
}

/* Appends a sanitised copy of s unless present; -E2BIG beyond LIST_MAX entries. */
static int push_unique(char ***v, const char *s)
{
	_cleanup_free_ char *clean = utf8_sanitize(s, strlen(s));

	if (!clean)
		return -ENOMEM;
	if (strv_contains(*v, clean))
		return 0;
	if (strv_length(*v) >= LIST_MAX)
		return -E2BIG;
	return strv_consume(v, TAKE_PTR(clean));
}

/* Joins lines [a, b) with '\n' after dropping blank lines at both ends. */
static char *join_lines(const struct mline *v, size_t a, size_t b)
{
	_cleanup_strbuf_ struct strbuf sb;

	strbuf_init(&sb, 0);
	while (a < b && is_blank(v[a].s))
		a++;
	while (b > a && is_blank(v[b - 1].s))
		b--;
	for (size_t i = a; i < b; i++)
		if ((i > a && strbuf_addch(&sb, '\n') < 0) || strbuf_adds(&sb, v[i].s) < 0)
			return NULL;
	strbuf_rtrim(&sb);
	return utf8_sanitize(sb.buf, sb.len);
}

static int section_description(struct cve_record *r, const struct mline *v, size_t a, size_t b)
{
	char *d;

	while (b > a && is_blank(v[b - 1].s))
		b--;
	/* the JSON description does not carry the CNA's closing line */
	if (b > a && startswith(v[b - 1].s, CNA_ASSIGNED_LINE))
		b--;
	d = join_lines(v, a, b);
	if (!d)
		return -ENOMEM;
	free(r->description);
	r->description = d;
	return 0;
}

static int section_severity(struct cve_record *r, const struct mline *v, size_t a, size_t b,
			    char *reterr, size_t errsize)
{
	for (size_t i = a; i < b; i++) {
		char *line = v[i].s + strspn(v[i].s, " \t"), *dup;
		struct cvss31 c;

		if (!startswith(line, "Vector:"))
			continue;
		dup = strip(line + strlen("Vector:"));
		if (cvss31_parse(dup, &c) < 0)
			return parse_error(reterr, errsize, "line %u: invalid CVSS vector '%.100s'",
				    v[i].no, dup);
		free(r->cvss_vector);
		r->cvss_vector = strdup(dup);
		r->cvss_score = cvss31_base_score(&c);
		free(r->cvss_severity);
		r->cvss_severity = strdup(cvss_severity_name(r->cvss_score));
		if (!r->cvss_vector || !r->cvss_severity)
			return -ENOMEM;
		return 0;
	}
	return 0;
}

static bool valid_version(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefghijklmnopqrstuvwxyz.-");

	return isdigit((unsigned char)s[0]) && s[n] == '\0' && n <= 32;
}

static bool valid_commit(const char *s)
{
	return is_hex_len(s, 12, 40);
}

static bool words_are(char *const *w, const char *const *expect, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (expect[i] && !streq(w[i], expect[i]))
			return false;
	return true;
}

/*
 * "Issue introduced in X with commit A and fixed in Y with commit B",
 * "Issue introduced in X with commit A" (not fixed) or
 * "Fixed in Y with commit B" (introduction unknown).
 */
static int parse_version_line(struct cve_record *r, const char *text)
{
	static const char *const intro[] = {
		"Issue", "introduced", "in", NULL, "with", "commit", NULL
	};
	static const char *const fixed_tail[] = {
		"and", "fixed", "in", NULL, "with", "commit", NULL
	};
	static const char *const fixed_only[] = { "Fixed", "in", NULL, "with", "commit", NULL };
	_cleanup_free_ char *copy = strdup(text);
	char *w[16];
	size_t n = 0;

	if (!copy)
		return -ENOMEM;
	for (char *p = copy; *p;) {
		p += strspn(p, " \t");
		if (!*p)
			break;
		if (n == ARRAY_SIZE(w))
			return -EBADMSG;
		w[n++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
	}
	if ((n == 7 || n == 14) && words_are(w, intro, 7) && valid_version(w[3]) &&
	    valid_commit(w[6])) {
		if (n == 7)
			return cve_record_add_pair(r, w[3], w[6], NULL, NULL);
		if (words_are(w + 7, fixed_tail, 7) && valid_version(w[10]) && valid_commit(w[13]))
			return cve_record_add_pair(r, w[3], w[6], w[10], w[13]);
	}
	if (n == 6 && words_are(w, fixed_only, 6) && valid_version(w[2]) && valid_commit(w[5]))
		return cve_record_add_pair(r, NULL, NULL, w[2], w[5]);
	return -EBADMSG;
}

static int section_versions(struct cve_record *r, const struct mline *v, size_t a, size_t b,
			    char *reterr, size_t errsize)
{
	int k;

	while (a < b && is_blank(v[a].s))
		a++;
	/* the first paragraph lists the pairs; the boilerplate after it is ignored */
	for (; a < b && !is_blank(v[a].s); a++) {
		if (r->n_pairs >= LIST_MAX)
			return -E2BIG;
		k = parse_version_line(r, strip(v[a].s));
		if (k == -EBADMSG)
			return parse_error(reterr, errsize, "line %u: cannot parse version line '%.100s'",
				    v[a].no, strip(v[a].s));
		if (k < 0)
			return k;
	}
	return 0;
}

static int section_files(struct cve_record *r, const struct mline *v, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++) {
		int k;

		if ((v[i].s[0] != '\t' && v[i].s[0] != ' ') || is_blank(v[i].s))
			continue;
		k = push_unique(&r->program_files, strip(v[i].s));
		if (k < 0)
			return k;
	}
	return 0;
}

static int section_mitigation(struct cve_record *r, const struct mline *v, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++) {
		char *url = strip(v[i].s), *last, *slash;
		int k;

		if (!startswith(url, "https://") && !startswith(url, "http://"))
			continue;
		if (strpbrk(url, " \t"))
			continue;
		k = push_unique(&r->references, url);
		if (k < 0)
			return k;
		/* https://git.kernel.org/stable/c/<sha>: the last component names the fix */
		slash = strrchr(url, '/');
		last = slash ? slash + 1 : url;
		if (valid_commit(last)) {
			k = push_unique(&r->fix_commits, last);
			if (k < 0)
				return k;
		}
	}
	return 0;
}

enum section {
	SECTION_DESCRIPTION,
	SECTION_SEVERITY,
	SECTION_VERSIONS,
	SECTION_FILES,
	SECTION_MITIGATION,
	_SECTION_MAX,
	_SECTION_INVALID = -EINVAL,
};

static const char *const section_names[_SECTION_MAX] = {
	[SECTION_DESCRIPTION] = "Description",
	[SECTION_SEVERITY] = "Severity",
	[SECTION_VERSIONS] = "Affected and fixed versions",
	[SECTION_FILES] = "Affected files",
	[SECTION_MITIGATION] = "Mitigation",
};

static enum section section_from_string(const char *s)
{
	for (int i = 0; i < _SECTION_MAX; i++)
		if (streq(section_names[i], s))
			return (enum section)i;
	return _SECTION_INVALID;
}

/*
 * bippy underlines each heading with '=' of the same length.  Descriptions
 * carry arbitrary commit text ("KCSAN report:" over a long '=' rule), so a
 * heading must also be a known section name, or sit after two blank lines
 * as bippy writes them, for sections a later bippy may add.
 */
static bool is_heading(const struct mline *v, size_t i, size_t n)
{
	const char *h = v[i].s, *u;
	size_t len;

	if (i + 1 >= n || is_blank(h) || h[0] == ' ' || h[0] == '\t')
		return false;
	u = v[i + 1].s;
	len = strlen(h);
	if (len < 3 || strlen(u) != len || u[strspn(u, "=")] != '\0')
		return false;
	return section_from_string(h) >= 0 ||
	       (i >= 2 && is_blank(v[i - 1].s) && is_blank(v[i - 2].s));
}

static int parse_sections(struct cve_record *r, const struct mline *v, size_t n, char *reterr,
			  size_t errsize)
{
	bool seen[_SECTION_MAX] = { false };
	size_t i = 0;
	int k = 0;

	while (i < n && !is_heading(v, i, n))
		i++;
	while (i < n) {
		enum section s = section_from_string(v[i].s);
		size_t a = i + 2, b = a;

		while (b < n && !is_heading(v, b, n))
			b++;
		if (s >= 0 && seen[s])
			return parse_error(reterr, errsize, "line %u: duplicate '%s' section", v[i].no,
				    section_names[s]);
		if (s >= 0)
			seen[s] = true;
		switch (s) {
		case SECTION_DESCRIPTION:
			k = section_description(r, v, a, b);
			break;
		case SECTION_SEVERITY:
			k = section_severity(r, v, a, b, reterr, errsize);
			break;
		case SECTION_VERSIONS:
			k = section_versions(r, v, a, b, reterr, errsize);
			break;
		case SECTION_FILES:
			k = section_files(r, v, a, b);
			break;
		case SECTION_MITIGATION:
			k = section_mitigation(r, v, a, b);
			break;
		default:
			/* unknown sections from a future bippy are skipped */
			k = 0;
			break;
		}
		if (k == -E2BIG)
			return parse_error(reterr, errsize,
				    "line %u: more than %d entries in '%s' section", v[i].no,
				    LIST_MAX, section_names[s]);
		if (k < 0)
			return k;
		i = b;
	}
	return 0;
}

struct headers {
	char *subject;
	char *date;
	char *cte;
	char *content_type;
};

static void headers_release(struct headers *h)
{
	free(h->subject);
	free(h->date);
	free(h->cte);
	free(h->content_type);
}

static int header_store(struct headers *h, const char *name, struct strbuf *value)
{
	char **slot;

	if (strcasecmp(name, "Subject") == 0)
		slot = &h->subject;
	else if (strcasecmp(name, "Date") == 0)
		slot = &h->date;
	else if (strcasecmp(name, "Content-Transfer-Encoding") == 0)
		slot = &h->cte;
	else if (strcasecmp(name, "Content-Type") == 0)
		slot = &h->content_type;
	else
		return 0;
	/* the first of repeated headers wins */
	if (*slot)
		return 0;
	*slot = strbuf_detach(value, NULL);
	return *slot ? 0 : -ENOMEM;
}

/* Reads the header block starting at v[*i]; leaves *i on the blank separator line. */
static int parse_headers(const struct mline *v, size_t n, size_t *i, struct headers *h,
			 char *reterr, size_t errsize)
{
	_cleanup_strbuf_ struct strbuf value;
	const char *name = NULL;
	size_t j = *i;
	int k;

	strbuf_init(&value, 0);
	for (; j < n && v[j].s[0] != '\0'; j++) {
		char *s = v[j].s, *colon;

		if (s[0] == ' ' || s[0] == '\t') {
			if (!name)
				return parse_error(reterr, errsize,
					    "line %u: continuation line before any header",
					    v[j].no);
			/* unfolding removes the line break and keeps the white space */
			k = strbuf_adds(&value, s);
			if (k < 0)
				return k;
			continue;
		}
		colon = strchr(s, ':');
		if (!colon || colon == s)
			return parse_error(reterr, errsize, "line %u: malformed header line", v[j].no);
		for (const char *p = s; p < colon; p++)
			if (*p <= ' ' || *p > '~')
				return parse_error(reterr, errsize, "line %u: malformed header name",
					    v[j].no);
		if (name) {
			k = header_store(h, name, &value);
			if (k < 0)
				return k;
		}
		*colon = '\0';
		name = s;
		strbuf_reset(&value);
		k = strbuf_adds(&value, colon + 1);
		if (k < 0)
			return k;
	}
	if (name) {
		k = header_store(h, name, &value);
		if (k < 0)
			return k;
	}
	if (j == n)
		return parse_error(reterr, errsize,
			    "no blank line after the headers (truncated message?)");
	*i = j;
	return 0;
}

/* "CVE-2024-1234: title" or "REJECTED: CVE-2024-1234: title" */
static int parse_subject(struct cve_record **ret, const char *raw, char *reterr, size_t errsize)
{
	_cleanup_(cve_record_freep) struct cve_record *r = NULL;
	_cleanup_free_ char *subject = header_decode(raw);
	char id[CVE_ID_MAX], *s, *p, *colon, *title;
	bool rejected = false;

	if (!subject)
		return -ENOMEM;
	s = p = strip(subject);
	if (startswith(p, "REJECTED:")) {
		rejected = true;
		p += strlen("REJECTED:");
		p += strspn(p, " \t");
	}
	colon = strchr(p, ':');
	if (!startswith(p, "CVE-") || !colon || (size_t)(colon - p) >= sizeof(id))
		return parse_error(reterr, errsize, "subject '%.100s' is not a CVE announcement", s);
	memcpy(id, p, (size_t)(colon - p));
	id[colon - p] = '\0';
	if (!cve_id_valid(id))
		return parse_error(reterr, errsize, "subject '%.100s' is not a CVE announcement", s);

	r = cve_record_new(id);
	if (!r)
		return -ENOMEM;
	r->rejected = rejected;
	title = strip(colon + 1);
	if (*title) {
		r->title = strdup(title);
		if (!r->title)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(r);
	return 0;
}

/*
 * Undoes the body's transfer encoding into *ret_buf and splits it.  Line
 * numbers after decoding are counted from the first body line.
 */
static int decode_body(const struct headers *h, const struct mline *v, size_t n, char **ret_buf,
		       struct mlines *ret, char *reterr, size_t errsize)
{
	_cleanup_strbuf_ struct strbuf joined, decoded;
	_cleanup_free_ char *cte = NULL;
	unsigned first_no = n > 0 ? v[0].no : 0;
	const char *enc = NULL;
	int k;

	strbuf_init(&joined, MBOX_MESSAGE_MAX);
	strbuf_init(&decoded, MBOX_MESSAGE_MAX);
	if (h->cte) {
		cte = strdup(h->cte);
		if (!cte)
			return -ENOMEM;
		enc = strip(cte);
	}
	if (!enc || (strcasecmp(enc, "quoted-printable") != 0 && strcasecmp(enc, "base64") != 0)) {
		ret->v = NULL;
		ret->n = 0;
		*ret_buf = NULL;
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		k = strbuf_adds(&joined, v[i].s);
		if (k >= 0)
			k = strbuf_addch(&joined, '\n');
		if (k < 0)
			return k;
	}
	if (strcasecmp(enc, "base64") == 0)
		k = base64_decode(joined.buf, joined.len, &decoded);
	else
		k = qp_decode_body(joined.buf, joined.len, &decoded);
	if (k == -EBADMSG)
		return parse_error(reterr, errsize, "invalid %s body", enc);
	if (k == -EFBIG)
		return parse_error(reterr, errsize, "decoded body too large");
	if (k < 0)
		return k;
	if (memchr(decoded.buf, '\0', decoded.len))
		return parse_error(reterr, errsize, "NUL byte in decoded body");
	k = split_lines(decoded.buf, decoded.len, first_no, ret);
	if (k < 0)
		return k;
	*ret_buf = strbuf_detach(&decoded, NULL);
	if (!*ret_buf) {
		mlines_release(ret);
		return -ENOMEM;
	}
	return 0;
}

int mbox_parse_message(const char *buf, size_t len, struct cve_record **ret, char *reterr,
		       size_t errsize)
{
	_cleanup_(cve_record_freep) struct cve_record *r = NULL;
	_cleanup_(headers_release) struct headers h = { 0 };
	_cleanup_(mlines_release) struct mlines lines = { 0 }, decoded = { 0 };
	_cleanup_free_ char *copy = NULL, *decoded_buf = NULL;
	const char *nul;
	struct mline *body;
	size_t i = 0, nbody;
	bool envelope = false;
	int k;

	if (reterr && errsize)
		reterr[0] = '\0';
	if (len > MBOX_MESSAGE_MAX) {
		if (reterr && errsize)
			snprintf(reterr, errsize, "message of %zu bytes exceeds the %u byte limit",
				 len, MBOX_MESSAGE_MAX);
		return -EFBIG;
	}
	nul = memchr(buf, '\0', len);
	if (nul)
		return parse_error(reterr, errsize, "NUL byte at offset %zu", (size_t)(nul - buf));

	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, len);
	copy[len] = '\0';
	k = split_lines(copy, len, 1, &lines);
	if (k < 0)
		return k;

	if (lines.n > 0 && startswith(lines.v[0].s, "From ")) {
		envelope = true;
		i = 1;
	}
	k = parse_headers(lines.v, lines.n, &i, &h, reterr, errsize);
	if (k < 0)
		return k;
	if (!h.subject)
		return parse_error(reterr, errsize, "no Subject header");
	k = parse_subject(&r, h.subject, reterr, errsize);
	if (k < 0)
		return k;
	if (h.content_type &&
	    strncasecmp(h.content_type + strspn(h.content_type, " \t"), "multipart/", 10) == 0)
		return parse_error(reterr, errsize, "multipart messages are not supported");

	body = lines.v + i + 1;
	nbody = lines.n - i - 1;
	k = decode_body(&h, body, nbody, &decoded_buf, &decoded, reterr, errsize);
	if (k < 0)
		return k;
	if (decoded_buf) {
		body = decoded.v;
		nbody = decoded.n;
	}
	/* mboxrd: ">From " and ">>From " got one more '>' when they were stored */
	for (size_t j = 0; envelope && j < nbody; j++) {
		const char *s = body[j].s;

		if (s[0] == '>' && startswith(s + strspn(s, ">"), "From "))
			body[j].s++;
	}

	free(r->source);
	r->source = strdup("mbox");
	if (!r->source)
		return -ENOMEM;
	if (h.date)
		r->published = parse_mail_date(h.date);

	k = parse_sections(r, body, nbody, reterr, errsize);
	if (k < 0)
		return k;

	if (r->rejected) {
		/* a rejection notice is one sentence without sections */
		if (!r->description) {
			r->description = join_lines(body, 0, nbody);
			if (!r->description)
				return -ENOMEM;
			if (!*r->description) {
				free(r->description);
				r->description = NULL;
			}
		}
	} else {
		if (strempty(r->description))
			return parse_error(reterr, errsize, "%s: no Description section", r->id);
		if (r->n_pairs == 0)
			return parse_error(reterr, errsize,
				    "%s: no lines in an 'Affected and fixed versions' section",
				    r->id);
	}
	*ret = TAKE_PTR(r);
	return 0;
}

/* ---- walking mbox files, maildirs and directories ---- */

struct walk {
	mbox_message_fn fn;
	void *userdata;
	unsigned good;
	unsigned bad;
};

static int deliver(struct walk *w, const char *buf, size_t len, const char *origin)
{
	_cleanup_(cve_record_freep) struct cve_record *rec = NULL;
	char err[256];
	int k;

	k = mbox_parse_message(buf, len, &rec, err, sizeof(err));
	if (k == -EBADMSG || k == -EFBIG) {
		w->bad++;
		log_debug("skipping message '%s': %s", origin, err);
		return 0;
	}
	if (k < 0)
		return k;
	k = w->fn(rec, origin, w->userdata);
	if (k < 0)
		return k;
	if (k > 0)
		TAKE_PTR(rec);
	if (w->good < UINT_MAX)
		w->good++;
	return 0;
}

/*
 * Reads one line with its '\n' into line.  Bytes beyond MBOX_MESSAGE_MAX are
 * dropped and *ret_long is set, so a file without newlines cannot make us
 * allocate more than that.  Returns 1 for a line, 0 at end of file.
 */
static int read_line(FILE *f, struct strbuf *line, bool *ret_long)
{
	int c, k;

	strbuf_reset(line);
	*ret_long = false;
	while ((c = getc_unlocked(f)) != EOF) {
		if (line->len < MBOX_MESSAGE_MAX) {
			k = strbuf_grow(line, 1);
			if (k < 0)
				return k;
			line->buf[line->len++] = (char)c;
			line->buf[line->len] = '\0';
		} else {
			*ret_long = true;
		}
		if (c == '\n')
			break;
	}
	if (ferror(f))
		return -EIO;
	return line->len > 0 || *ret_long;
}

struct pending {
	struct strbuf msg;
	unsigned start;
	bool active;
	bool oversize;
};

static void pending_release(struct pending *m)
{
	strbuf_release(&m->msg);
}

static int flush_message(struct walk *w, struct pending *m, const char *path)
{
	_cleanup_free_ char *origin = NULL;
	int k = 0;

	if (!m->active)
		return 0;
	if (asprintf(&origin, "%s:%u", path, m->start) < 0)
		return -ENOMEM;
	if (m->oversize) {
		w->bad++;
		log_debug("skipping message '%s': larger than %u bytes", origin, MBOX_MESSAGE_MAX);
	} else {
		k = deliver(w, m->msg.buf, m->msg.len, origin);
	}
	strbuf_reset(&m->msg);
	m->active = false;
	m->oversize = false;
	return k;
}

static int walk_mbox_file(struct walk *w, const char *path)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_strbuf_ struct strbuf line;
	_cleanup_(pending_release) struct pending m = { .active = false };
	bool prev_blank = true, too_long;
	unsigned lineno = 0;
	int k;

	strbuf_init(&line, 0);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	strbuf_init(&m.msg, MBOX_MESSAGE_MAX);
	for (;;) {
		bool blank;

		k = read_line(f, &line, &too_long);
		if (k < 0)
			return k;
		if (k == 0)
			break;
		lineno++;
		blank = streq(line.buf, "\n") || streq(line.buf, "\r\n");
		if (prev_blank && startswith(line.buf, "From ")) {
			k = flush_message(w, &m, path);
			if (k < 0)
				return k;
			m.active = true;
			m.start = lineno;
		} else if (!m.active) {
			/* blank lines before the first message are no message */
			if (blank)
				continue;
			m.active = true;
			m.start = lineno;
		}
		if (too_long)
			m.oversize = true;
		if (!m.oversize) {
			k = strbuf_add(&m.msg, line.buf, line.len);
			if (k == -EFBIG) {
				m.oversize = true;
				strbuf_release(&m.msg);
			} else if (k < 0) {
				return k;
			}
		}
		prev_blank = blank;
	}
	return flush_message(w, &m, path);
}

static int filter_visible(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

static int filter_mbox(const struct dirent *de)
{
	size_t n = strlen(de->d_name);

	return de->d_name[0] != '.' && n > 5 && streq(de->d_name + n - 5, ".mbox");
}

struct dirlist {
	struct dirent **v;
	int n;
};

static void dirlist_release(struct dirlist *d)
{
	for (int i = 0; i < d->n; i++)
		free(d->v[i]);
	free(d->v);
}

static int list_dir(const char *path, int (*filter)(const struct dirent *), struct dirlist *ret)
{
	int n = scandir(path, &ret->v, filter, alphasort);

	if (n < 0)
		return -errno;
	ret->n = n;
	return 0;
}

static bool is_regular(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int walk_maildir(struct walk *w, const char *path)
{
	static const char *const subdirs[] = { "cur", "new" };
	int k;

	for (size_t s = 0; s < ARRAY_SIZE(subdirs); s++) {
		_cleanup_(dirlist_release) struct dirlist d = { 0 };
		_cleanup_free_ char *dir = path_join(path, subdirs[s]);

		if (!dir)
			return -ENOMEM;
		if (!is_dir(dir))
			continue;
		k = list_dir(dir, filter_visible, &d);
		if (k < 0)
			return k;
		for (int i = 0; i < d.n; i++) {
			_cleanup_free_ char *file = path_join(dir, d.v[i]->d_name);
			_cleanup_free_ char *buf = NULL;
			size_t len;

			if (!file)
				return -ENOMEM;
			if (!is_regular(file))
				continue;
			k = read_file_bounded(file, MBOX_MESSAGE_MAX, &buf, &len);
			if (k == -EFBIG) {
				w->bad++;
				log_debug("skipping message '%s': larger than %u bytes", file,
					  MBOX_MESSAGE_MAX);
				continue;
			}
			/* another reader may have moved it from new/ to cur/ meanwhile */
			if (k == -ENOENT)
				continue;
			if (k < 0)
				return k;
			k = deliver(w, buf, len, file);
			if (k < 0)
				return k;
		}
	}
	return 0;
}

static int walk_mbox_dir(struct walk *w, const char *path)
{
	_cleanup_(dirlist_release) struct dirlist d = { 0 };
	int k;

	k = list_dir(path, filter_mbox, &d);
	if (k < 0)
		return k;
	for (int i = 0; i < d.n; i++) {
		_cleanup_free_ char *file = path_join(path, d.v[i]->d_name);

		if (!file)
			return -ENOMEM;
		if (!is_regular(file))
			continue;
		k = walk_mbox_file(w, file);
		if (k < 0)
			return k;
	}
	return 0;
}

int mbox_foreach(const char *path, mbox_message_fn fn, void *userdata, unsigned *ret_bad)
{
	struct walk w = { .fn = fn, .userdata = userdata };
	_cleanup_free_ char *cur = NULL, *new = NULL;
	struct stat st;
	int k;

	if (stat(path, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode)) {
		cur = path_join(path, "cur");
		new = path_join(path, "new");
		if (!cur || !new)
			return -ENOMEM;
		if (is_dir(cur) || is_dir(new))
			k = walk_maildir(&w, path);
		else
			k = walk_mbox_dir(&w, path);
	} else {
		k = walk_mbox_file(&w, path);
	}
	if (k < 0)
		return k;
	if (ret_bad)
		*ret_bad = w.bad;
	return w.good > INT_MAX ? INT_MAX : (int)w.good;
}
