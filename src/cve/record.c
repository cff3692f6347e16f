/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cvss.h"
#include "parse-util.h"
#include "record.h"
#include "strbuf.h"
#include "utf8.h"

/* The first Linux commit: bippy writes it where the introduction is unknown. */
#define LINUX_FIRST_COMMIT "1da177e4c3f41524e886b7f1b8a0c1fc7321cac2"

struct cve_record *cve_record_new(const char *id)
{
	struct cve_record *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	if (id)
		snprintf(r->id, sizeof(r->id), "%s", id);
	r->cvss_score = -1;
	return r;
}

static void pair_release(struct cve_pair *p)
{
	free(p->introduced_version);
	free(p->introduced_commit);
	free(p->fixed_version);
	free(p->fixed_commit);
}

static void record_clear_pairs(struct cve_record *r)
{
	for (size_t i = 0; i < r->n_pairs; i++)
		pair_release(&r->pairs[i]);
	free(r->pairs);
	r->pairs = NULL;
	r->n_pairs = 0;
}

struct cve_record *cve_record_free(struct cve_record *r)
{
	if (!r)
		return NULL;
	free(r->title);
	free(r->description);
	strv_free(r->fix_commits);
	strv_free(r->vulnerable_commits);
	record_clear_pairs(r);
	strv_free(r->program_files);
	strv_free(r->references);
	free(r->cvss_vector);
	free(r->cvss_severity);
	free(r->cvss_rationale);
	free(r->source);
	free(r);
	return NULL;
}

bool cve_id_valid(const char *id)
{
	size_t n;

	if (strncmp(id, "CVE-", 4) != 0)
		return false;
	for (int i = 4; i < 8; i++)
		if (!isdigit((unsigned char)id[i]))
			return false;
	if (id[8] != '-')
		return false;
	n = strspn(id + 9, "0123456789");
	return n >= 4 && n <= 19 && id[9 + n] == '\0';
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int cve_record_add_pair(struct cve_record *r, const char *iv, const char *ic, const char *fv,
			const char *fc)
{
	struct cve_pair *n = realloc(r->pairs, (r->n_pairs + 1) * sizeof(*n));
	struct cve_pair *p;

	if (!n)
		return -ENOMEM;
	r->pairs = n;
	p = &n[r->n_pairs];
	p->introduced_version = dup_or_null(iv);
	p->introduced_commit = dup_or_null(ic);
	p->fixed_version = dup_or_null(fv);
	p->fixed_commit = dup_or_null(fc);
	if ((iv && !p->introduced_version) || (ic && !p->introduced_commit) ||
	    (fv && !p->fixed_version) || (fc && !p->fixed_commit)) {
		pair_release(p);
		return -ENOMEM;
	}
	r->n_pairs++;
	return 0;
}

int kernel_version_parse(const char *s, struct kernel_version *ret)
{
	struct kernel_version v = { 0 };
	const char *p = s;

	if (!s || !isdigit((unsigned char)*p))
		return -EINVAL;
	for (;;) {
		long n = 0;

		if (v.nparts == 4 || !isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p++ - '0');
			if (n > 1000000)
				return -ERANGE;
		}
		v.part[v.nparts++] = (int)n;
		if (*p != '.')
			break;
		p++;
	}
	if (strncmp(p, "-rc", 3) == 0) {
		int rc = 0;

		p += 3;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p) && rc < 10000)
			rc = rc * 10 + (*p++ - '0');
		v.rc = rc;
	}
	if (*p || v.nparts < 2)
		return -EINVAL;
	*ret = v;
	return 0;
}

int kernel_version_cmp(const struct kernel_version *a, const struct kernel_version *b)
{
	for (int i = 0; i < 4; i++)
		if (a->part[i] != b->part[i])
			return a->part[i] < b->part[i] ? -1 : 1;
	/* An -rc precedes its release: 6.8-rc3 < 6.8. */
	if (a->rc != b->rc) {
		if (!a->rc)
			return 1;
		if (!b->rc)
			return -1;
		return a->rc < b->rc ? -1 : 1;
	}
	return 0;
}

/* Iterates the lines of buf; the callback sees each line without its newline. */
typedef int (*line_fn)(const char *line, size_t len, unsigned lineno, void *userdata);

static int foreach_line(const char *buf, size_t len, line_fn fn, void *userdata)
{
	unsigned lineno = 0;
	size_t i = 0;
	int r;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len, l = end - i;

		lineno++;
		if (l > 0 && buf[i + l - 1] == '\r')
			l--;
		r = fn(buf + i, l, lineno, userdata);
		if (r < 0)
			return r;
		i = end + 1;
	}
	return 0;
}

/*
 * A full or abbreviated commit id.  The CNA writes 40 digits (12 in older
 * records), but hand-edited .vulnerable and .sha1 files hold other
 * abbreviations too (39 digits in CVE-2024-46833), which git resolves alike.
 */
static bool is_commit(const char *s)
{
	size_t n = strspn(s, "0123456789abcdefABCDEF");

	return s[n] == '\0' && n >= 7 && n <= 40;
}

struct dyad_ctx {
	struct cve_record *r;
	char *reterr;
	size_t errsize;
};

static int dyad_line(const char *line, size_t len, unsigned lineno, void *userdata)
{
	struct dyad_ctx *c = userdata;
	char buf[512], *f[5];
	struct kernel_version kv;
	int n = 0;

	while (len > 0 && isspace((unsigned char)*line)) {
		line++;
		len--;
	}
	if (len == 0 || line[0] == '#')
		return 0;
	if (len >= sizeof(buf))
		return parse_error(c->reterr, c->errsize, "line %u: too long", lineno);
	memcpy(buf, line, len);
	buf[len] = '\0';
	f[n++] = buf;
	for (char *p = buf; *p; p++)
		if (*p == ':') {
			if (n == 5)
				break;
			*p = '\0';
			f[n++] = p + 1;
		}
	if (n != 4)
		return parse_error(c->reterr, c->errsize,
			    "line %u: expected 4 ':'-separated fields, found %d", lineno, n);
	for (int i = 0; i < 4; i += 2) {
		if (streq(f[i], "0") != streq(f[i + 1], "0"))
			return parse_error(c->reterr, c->errsize,
				    "line %u: version '%s' and commit '%s' must both be 0 or neither",
				    lineno, f[i], f[i + 1]);
		if (streq(f[i], "0"))
			continue;
		if (kernel_version_parse(f[i], &kv) < 0)
			return parse_error(c->reterr, c->errsize, "line %u: bad kernel version '%s'",
				    lineno, f[i]);
		if (!is_commit(f[i + 1]))
			return parse_error(c->reterr, c->errsize, "line %u: bad commit id '%s'", lineno,
				    f[i + 1]);
	}
	return cve_record_add_pair(c->r, streq(f[0], "0") ? NULL : f[0],
				   streq(f[1], "0") ? NULL : f[1], streq(f[2], "0") ? NULL : f[2],
				   streq(f[3], "0") ? NULL : f[3]);
}

int cve_record_parse_dyad(struct cve_record *r, const char *buf, size_t len, char *reterr,
			  size_t errsize)
{
	struct dyad_ctx c = { r, reterr, errsize };
	int ret;

	/* The dyad is the authoritative source of pairs: replace what the JSON implied. */
	record_clear_pairs(r);
	ret = foreach_line(buf, len, dyad_line, &c);
	if (ret < 0)
		record_clear_pairs(r);
	return ret;
}

struct commits_ctx {
	char ***v;
	char *reterr;
	size_t errsize;
};

static int commits_line(const char *line, size_t len, unsigned lineno, void *userdata)
{
	struct commits_ctx *c = userdata;
	size_t i = 0;

	/* .vulnerable may hold several ids on one line, separated by spaces. */
	while (i < len) {
		char sha[48];
		size_t s, n;

		while (i < len && isspace((unsigned char)line[i]))
			i++;
		s = i;
		while (i < len && !isspace((unsigned char)line[i]))
			i++;
		n = i - s;
		if (n == 0)
			break;
		if (line[s] == '#')
			break;
		if (n >= sizeof(sha))
			return parse_error(c->reterr, c->errsize, "line %u: bad commit id", lineno);
		memcpy(sha, line + s, n);
		sha[n] = '\0';
		if (!is_commit(sha))
			return parse_error(c->reterr, c->errsize, "line %u: bad commit id '%s'", lineno,
				    sha);
		for (char *p = sha; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!strv_contains(*c->v, sha) && strv_push(c->v, sha) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Replaces *field with the commit ids of a .sha1 or .vulnerable file. */
static int parse_commit_list(char ***field, const char *buf, size_t len, char *reterr,
			     size_t errsize)
{
	char **v = NULL;
	struct commits_ctx c = { &v, reterr, errsize };
	int ret = foreach_line(buf, len, commits_line, &c);

	if (ret < 0) {
		strv_free(v);
		return ret;
	}
	strv_free(*field);
	*field = v;
	return 0;
}

int cve_record_parse_sha1(struct cve_record *r, const char *buf, size_t len, char *reterr,
			  size_t errsize)
{
	return parse_commit_list(&r->fix_commits, buf, len, reterr, errsize);
}

int cve_record_parse_vulnerable(struct cve_record *r, const char *buf, size_t len, char *reterr,
				size_t errsize)
{
	return parse_commit_list(&r->vulnerable_commits, buf, len, reterr, errsize);
}

static int set_cvss(struct cve_record *r, const char *vector, char *reterr, size_t errsize)
{
	struct cvss31 c;
	char *v;

	if (cvss31_parse(vector, &c) < 0)
		return parse_error(reterr, errsize, "bad CVSS vector '%.100s'", vector);
	v = strdup(vector);
	if (!v)
		return -ENOMEM;
	free(r->cvss_vector);
	r->cvss_vector = v;
	r->cvss_score = cvss31_base_score(&c);
	free(r->cvss_severity);
	r->cvss_severity = strdup(cvss_severity_name(r->cvss_score));
	return r->cvss_severity ? 0 : -ENOMEM;
}

int cve_record_parse_cvss(struct cve_record *r, const char *buf, size_t len, char *reterr,
			  size_t errsize)
{
	const char *nl = memchr(buf, '\n', len);
	size_t first = nl ? (size_t)(nl - buf) : len;
	char line[512], *sp, *vector;
	int ret;

	/* Line 1: "<scorer org uuid> CVSS:3.1/..."; then a blank line and the rationale. */
	if (first >= sizeof(line))
		return parse_error(reterr, errsize, "line 1: too long");
	memcpy(line, buf, first);
	line[first] = '\0';
	if (first > 0 && line[first - 1] == '\r')
		line[first - 1] = '\0';
	sp = strchr(line, ' ');
	vector = sp ? sp + 1 : line;
	ret = set_cvss(r, vector, reterr, errsize);
	if (ret < 0)
		return ret;
	if (nl) {
		const char *rest = nl + 1;
		size_t rl = len - first - 1;

		while (rl > 0 && (*rest == '\n' || *rest == '\r')) {
			rest++;
			rl--;
		}
		while (rl > 0 && isspace((unsigned char)rest[rl - 1]))
			rl--;
		free(r->cvss_rationale);
		r->cvss_rationale = rl ? utf8_sanitize(rest, rl) : NULL;
		if (rl && !r->cvss_rationale)
			return -ENOMEM;
	}
	return 0;
}

int cve_record_parse_reference(struct cve_record *r, const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(buf + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - buf) : len, s = i, e = end;

		while (s < e && isspace((unsigned char)buf[s]))
			s++;
		while (e > s && isspace((unsigned char)buf[e - 1]))
			e--;
		if (e > s && e - s < 4096) {
			_cleanup_free_ char *url = utf8_sanitize(buf + s, e - s);

			if (!url)
				return -ENOMEM;
			if (!strv_contains(r->references, url) && strv_push(&r->references, url) < 0)
				return -ENOMEM;
		}
		i = end + 1;
	}
	return 0;
}

int cve_record_parse_message(struct cve_record *r, const char *buf, size_t len)
{
	char *d;

	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		len--;
	d = utf8_sanitize(buf, len);
	if (!d)
		return -ENOMEM;
	free(r->description);
	r->description = d;
	return 0;
}

/* ---- CVE JSON 5.x ---- */

static const char *obj_str(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static int take_files(struct cve_record *r, json_t *files)
{
	size_t i;
	json_t *f;

	json_array_foreach(files, i, f) {
		const char *s = json_string_value(f);

		if (!s || !*s || strlen(s) > 4096)
			continue;
		if (!strv_contains(r->program_files, s) && strv_push(&r->program_files, s) < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * Records without a .dyad (the oldest published form) carry the pairs only in
 * the JSON: the git product lists introducing and fixing commits, the semver
 * (or older "custom") product lists the fixed version of each branch.  bippy
 * writes both lists in the same branch order, so they are zipped by position
 * when the counts agree; otherwise versions and commits are kept apart.
 */
static int pairs_from_affected(struct cve_record *r, json_t *affected)
{
	const char *intro_version = NULL;
	const char **fixed_versions = NULL;
	size_t n_fixed = 0, n_git = 0, i, j;
	json_t *product, *v;
	int ret = 0;

	json_array_foreach(affected, i, product) {
		json_t *versions = json_object_get(product, "versions");

		json_array_foreach(versions, j, v) {
			const char *type = obj_str(v, "versionType");
			const char *ver = obj_str(v, "version");
			const char *status = obj_str(v, "status");

			if (!ver || !status)
				continue;
			if (type && streq(type, "git")) {
				n_git++;
				continue;
			}
			if (!type && streq(status, "affected")) {
				intro_version = ver;
				continue;
			}
			if (type && streq(status, "unaffected") &&
			    (json_object_get(v, "lessThanOrEqual") || streq(type, "original_commit_for_fix")) &&
			    !streq(ver, "0")) {
				const char **nf = realloc(fixed_versions, (n_fixed + 1) * sizeof(char *));

				if (!nf) {
					free(fixed_versions);
					return -ENOMEM;
				}
				fixed_versions = nf;
				fixed_versions[n_fixed++] = ver;
			}
		}
	}

	json_array_foreach(affected, i, product) {
		json_t *versions = json_object_get(product, "versions");
		size_t k = 0;

		json_array_foreach(versions, j, v) {
			const char *type = obj_str(v, "versionType");
			const char *ver = obj_str(v, "version");
			const char *less = obj_str(v, "lessThan");

			if (!type || !streq(type, "git") || !ver)
				continue;
			if (streq(ver, LINUX_FIRST_COMMIT))
				ver = NULL;
			ret = cve_record_add_pair(r, ver ? intro_version : NULL, ver,
						  n_fixed == n_git && less ? fixed_versions[k] : NULL,
						  less);
			if (ret < 0)
				goto out;
			k++;
		}
	}
	/* No git product at all: keep the branch fix versions alone. */
	if (n_git == 0)
		for (i = 0; i < n_fixed; i++) {
			ret = cve_record_add_pair(r, intro_version, NULL, fixed_versions[i], NULL);
			if (ret < 0)
				goto out;
		}
out:
	free(fixed_versions);
	return ret;
}

int cve_record_parse_json(struct cve_record *r, const char *buf, size_t len, char *reterr,
			  size_t errsize)
{
	json_t *root, *meta, *cna, *descs, *d, *refs, *ref, *affected, *product, *metrics, *m;
	json_error_t jerr;
	const char *id, *state, *title;
	size_t i;
	int ret = 0;

	if (len > CVE_RECORD_FILE_MAX)
		return parse_error(reterr, errsize, "record larger than %u bytes", CVE_RECORD_FILE_MAX);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return parse_error(reterr, errsize, "line %d column %d: %s", jerr.line, jerr.column,
			    jerr.text);
	if (!json_is_object(root)) {
		ret = parse_error(reterr, errsize, "top level is not an object");
		goto out;
	}
	meta = json_object_get(root, "cveMetadata");
	id = obj_str(meta, "cveId");
	if (!id)
		id = obj_str(meta, "cveID"); /* dataVersion 5.0 records spell it so */
	if (!id || !cve_id_valid(id)) {
		ret = parse_error(reterr, errsize, "cveMetadata.cveId missing or invalid");
		goto out;
	}
	if (r->id[0] && !streq(r->id, id)) {
		ret = parse_error(reterr, errsize, "cveMetadata.cveId '%s' does not match file name '%s'",
			   id, r->id);
		goto out;
	}
	snprintf(r->id, sizeof(r->id), "%s", id);
	state = obj_str(meta, "state");
	if (state && streq(state, "REJECTED"))
		r->rejected = true;

	cna = json_object_get(json_object_get(root, "containers"), "cna");
	if (!json_is_object(cna)) {
		ret = parse_error(reterr, errsize, "containers.cna missing");
		goto out;
	}
	title = obj_str(cna, "title");
	if (title) {
		free(r->title);
		r->title = strdup(title);
		if (!r->title) {
			ret = -ENOMEM;
			goto out;
		}
	}
	descs = json_object_get(cna, "descriptions");
	json_array_foreach(descs, i, d) {
		const char *lang = obj_str(d, "lang"), *value = obj_str(d, "value");

		if (value && (!lang || strncmp(lang, "en", 2) == 0)) {
			free(r->description);
			r->description = strdup(value);
			if (!r->description) {
				ret = -ENOMEM;
				goto out;
			}
			break;
		}
	}
	if (!r->description && !r->rejected) {
		ret = parse_error(reterr, errsize, "containers.cna.descriptions has no English text");
		goto out;
	}

	affected = json_object_get(cna, "affected");
	if (affected && !json_is_array(affected)) {
		ret = parse_error(reterr, errsize, "containers.cna.affected is not an array");
		goto out;
	}
	json_array_foreach(affected, i, product) {
		json_t *versions = json_object_get(product, "versions");
		size_t j;
		json_t *v;

		ret = take_files(r, json_object_get(product, "programFiles"));
		if (ret < 0)
			goto out;
		json_array_foreach(versions, j, v) {
			const char *type = obj_str(v, "versionType");

			if (type && !streq(type, "git") && !streq(type, "semver") &&
			    !streq(type, "custom") && !streq(type, "original_commit_for_fix")) {
				ret = parse_error(reterr, errsize,
					   "affected[%zu].versions[%zu]: unknown versionType '%.40s'",
					   i, j, type);
				goto out;
			}
		}
	}
	if (r->n_pairs == 0) {
		ret = pairs_from_affected(r, affected);
		if (ret < 0)
			goto out;
	}

	refs = json_object_get(cna, "references");
	json_array_foreach(refs, i, ref) {
		const char *url = obj_str(ref, "url");

		if (url && strlen(url) < 4096 && !strv_contains(r->references, url) &&
		    strv_push(&r->references, url) < 0) {
			ret = -ENOMEM;
			goto out;
		}
	}

	metrics = json_object_get(cna, "metrics");
	json_array_foreach(metrics, i, m) {
		const char *vector = obj_str(json_object_get(m, "cvssV3_1"), "vectorString");

		if (vector && !r->cvss_vector) {
			ret = set_cvss(r, vector, reterr, errsize);
			if (ret < 0)
				goto out;
		}
	}
out:
	json_decref(root);
	return ret;
}
