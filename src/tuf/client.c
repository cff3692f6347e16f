/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "client.h"
#include "fileio.h"
#include "http.h"
#include "metadata.h"
#include "parse-util.h"

#define DEFAULT_MAX_ROOT 512000
#define DEFAULT_MAX_TIMESTAMP 16384
#define DEFAULT_MAX_SNAPSHOT 2000000
#define DEFAULT_MAX_TARGETS 2000000
#define DEFAULT_MAX_ROTATIONS 256
#define DEFAULT_MAX_DELEGATIONS 32
#define TARGET_PATH_MAX 1024

/* A delegated targets role loaded and verified during this refresh. */
struct loaded_role {
	char *name;
	struct tuf_metadata *md;
};

struct tuf_client {
	char *metadata_dir, *metadata_url, *target_url, *target_dir, *ca_file;
	int64_t now_cfg, now;
	size_t max_root, max_timestamp, max_snapshot, max_targets;
	unsigned max_rotations, max_delegations;

	struct tuf_metadata *root, *timestamp, *snapshot, *targets;
	struct loaded_role *roles;
	size_t n_roles;
	bool refreshed;
	unsigned requests;
};

/* Percent-encoding of every byte but letters, digits and "_.-~" (plus '/' with keep_slash). */
static char *quote(const char *s, bool keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = malloc(3 * strlen(s) + 1), *p = out;

	if (!out)
		return NULL;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || strchr("_.-~", *c) || (keep_slash && *c == '/')) {
			*p++ = (char)*c;
		} else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	}
	*p = '\0';
	return out;
}

static char *with_slash(const char *url)
{
	size_t n = strlen(url);
	char *s;

	if (n && url[n - 1] == '/')
		return strdup(url);
	if (asprintf(&s, "%s/", url) < 0)
		return NULL;
	return s;
}

/* "http://h/repo/metadata/" -> "http://h/repo/targets/" */
static char *sibling_targets_url(const char *metadata_url)
{
	size_t n = strlen(metadata_url);
	char *s;

	while (n && metadata_url[n - 1] == '/')
		n--;
	while (n && metadata_url[n - 1] != '/')
		n--;
	if (asprintf(&s, "%.*stargets/", (int)n, metadata_url) < 0)
		return NULL;
	return s;
}

static void free_roles(struct tuf_client *c)
{
	for (size_t i = 0; i < c->n_roles; i++) {
		free(c->roles[i].name);
		tuf_metadata_free(c->roles[i].md);
	}
	free(c->roles);
	c->roles = NULL;
	c->n_roles = 0;
}

static void drop_state(struct tuf_client *c)
{
	c->root = tuf_metadata_free(c->root);
	c->timestamp = tuf_metadata_free(c->timestamp);
	c->snapshot = tuf_metadata_free(c->snapshot);
	c->targets = tuf_metadata_free(c->targets);
	free_roles(c);
	c->refreshed = false;
}

/* Parsing goes through the process-wide cache of metadata.c (c unused). */
static int parse(struct tuf_client *c, const char *buf, size_t len, const char *type,
		 const char *what, struct tuf_metadata **ret, char err[], size_t errsize)
{
	return tuf_metadata_parse_cached(buf, len, type, what, ret, err, errsize);
}

struct tuf_client *tuf_client_free(struct tuf_client *c)
{
	if (!c)
		return NULL;
	drop_state(c);
	free(c->metadata_dir);
	free(c->metadata_url);
	free(c->target_url);
	free(c->target_dir);
	free(c->ca_file);
	free(c);
	return NULL;
}

unsigned tuf_client_requests(const struct tuf_client *c)
{
	return c->requests;
}

/* A file of metadata_dir: root.json, timestamp.json, <quoted role>.json. */
static char *trusted_path(const struct tuf_client *c, const char *role)
{
	_cleanup_free_ char *q = quote(role, false);
	char *p;

	if (!q || asprintf(&p, "%s/%s.json", c->metadata_dir, q) < 0)
		return NULL;
	return p;
}

/* One GET, one attempt; the body (at most max bytes) in *ret. */
static int fetch(struct tuf_client *c, const char *url, size_t max, char **ret, size_t *ret_len,
		 char err[], size_t errsize)
{
	struct http_request req = {
		.url = url,
		.max_body = max ? max : 1,
		.max_attempts = 1,
		.ca_file = c->ca_file,
		.connect_timeout_ms = 30000,
		.timeout_ms = 120000,
	};
	_cleanup_http_response_ struct http_response resp = { 0 };
	int r;

	c->requests++;
	r = http_get(&req, &resp);
	if (r == -EFBIG)
		return error_message(err, errsize, r, "'%s': larger than %zu bytes", url, max);
	if (r < 0)
		return error_message(err, errsize, r, "%s", resp.error);
	if (resp.body_len > max)
		return error_message(err, errsize, -EFBIG, "'%s': larger than %zu bytes", url, max);
	*ret = TAKE_PTR(resp.body);
	*ret_len = resp.body_len;
	if (!*ret) {
		*ret = strdup("");
		if (!*ret)
			return -ENOMEM;
	}
	return 0;
}

static int persist(struct tuf_client *c, const char *role, const char *buf, size_t len,
		   char err[], size_t errsize)
{
	_cleanup_free_ char *path = trusted_path(c, role);
	int r;

	if (!path)
		return -ENOMEM;
	r = write_file_atomic(path, buf, len, 0644);
	if (r < 0)
		return error_message(err, errsize, r, "cannot write '%s': %s", path, strerror(-r));
	return 0;
}

static bool hex_equal(const char *a, const char *b)
{
	return strlen(a) == strlen(b) && strcasecmp(a, b) == 0;
}

/*
 * Checks data against a length (if >= 0) and every supported hash of
 * `hashes` (may be NULL).  need_hash: refuse when no listed hash is
 * supported.  -EBADMSG on any mismatch.
 */
static int check_hashes(const void *data, size_t len, int64_t length, const json_t *hashes,
			bool need_hash, const char *what, char err[], size_t errsize)
{
	const char *alg;
	json_t *v;
	unsigned known = 0;

	if (length >= 0 && (uint64_t)length != len)
		return error_message(err, errsize, -EBADMSG, "'%s': %zu bytes, expected %" PRId64,
				     what, len, length);
	json_object_foreach((json_t *)hashes, alg, v) {
		const EVP_MD *md = streq(alg, "sha256") ? EVP_sha256() :
				   streq(alg, "sha512") ? EVP_sha512() : NULL;
		unsigned char digest[EVP_MAX_MD_SIZE];
		_cleanup_free_ char *hex = NULL;
		unsigned dlen;

		if (!md)
			continue;
		known++;
		if (!EVP_Digest(data, len, digest, &dlen, md, NULL))
			return -ENOMEM;
		hex = tuf_hex_encode(digest, dlen);
		if (!hex)
			return -ENOMEM;
		if (!hex_equal(hex, json_string_value(v)))
			return error_message(err, errsize, -EBADMSG, "'%s': %s mismatch", what,
					     alg);
	}
	if (need_hash && known == 0)
		return error_message(err, errsize, -EBADMSG,
				     "'%s': no supported hash (sha256, sha512) is listed", what);
	return 0;
}

static int64_t json_int_or(const json_t *v, int64_t dflt)
{
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

static const json_t *root_role(const struct tuf_metadata *root, const char *role)
{
	return json_object_get(json_object_get(root->body, "roles"), role);
}

/* Verifies md with a threshold of root's `role` keys. */
static int verify_top(const struct tuf_metadata *root, const struct tuf_metadata *md,
		      const char *role, const char *what, char err[], size_t errsize)
{
	const json_t *r = root_role(root, role);
	char msg[512];
	int k;

	k = tuf_metadata_verify(md, root->keys, json_object_get(r, "keyids"),
				json_integer_value(json_object_get(r, "threshold")), role, msg,
				sizeof(msg));
	if (k < 0)
		return error_message(err, errsize, k, "'%s': %s (root version %" PRId64 ")", what,
				     msg, root->version);
	return 0;
}

static int parse_verified_root(struct tuf_client *c, const char *buf, size_t len,
			       const char *what, struct tuf_metadata **ret, char err[],
			       size_t errsize)
{
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *m = NULL;
	int r;

	r = parse(c, buf, len, "root", what, &m, err, errsize);
	if (r < 0)
		return r;
	r = verify_top(m, m, "root", what, err, errsize);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(m);
	return 0;
}

int tuf_client_init_root(const char *metadata_dir, const char *root_file, char err[],
			 size_t errsize)
{
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *m = NULL;
	_cleanup_free_ char *buf = NULL, *path = NULL;
	size_t len;
	int r;

	r = read_file_bounded(root_file, DEFAULT_MAX_ROOT, &buf, &len);
	if (r < 0)
		return error_message(err, errsize, r, "cannot read '%s': %s", root_file,
				     r == -EFBIG ? "larger than 512000 bytes" : strerror(-r));
	r = parse_verified_root(NULL, buf, len, root_file, &m, err, errsize);
	if (r < 0)
		return r;
	r = mkdir_p(metadata_dir, 0755);
	if (r < 0)
		return error_message(err, errsize, r, "cannot create '%s': %s", metadata_dir,
				     strerror(-r));
	path = path_join(metadata_dir, "root.json");
	if (!path)
		return -ENOMEM;
	r = write_file_atomic(path, buf, len, 0644);
	if (r < 0)
		return error_message(err, errsize, r, "cannot write '%s': %s", path, strerror(-r));
	return 0;
}

static int load_trusted_root(struct tuf_client *c, struct tuf_metadata **ret, char err[],
			     size_t errsize)
{
	_cleanup_free_ char *path = trusted_path(c, "root"), *buf = NULL;
	size_t len;
	int r;

	if (!path)
		return -ENOMEM;
	r = read_file_bounded(path, c->max_root, &buf, &len);
	if (r < 0)
		return error_message(err, errsize, r, "cannot read the trusted root '%s': %s", path,
				     r == -EFBIG ? "too large" : strerror(-r));
	return parse_verified_root(c, buf, len, path, ret, err, errsize);
}

int tuf_client_new(const struct tuf_client_config *cfg, struct tuf_client **ret, char err[],
		   size_t errsize)
{
	_cleanup_(tuf_client_freep) struct tuf_client *c = NULL;
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *root = NULL;
	int r;

	if (strempty(cfg->metadata_dir) || strempty(cfg->metadata_url))
		return error_message(err, errsize, -EINVAL, "no metadata %s given",
				     strempty(cfg->metadata_dir) ? "directory" : "URL");
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->metadata_dir = strdup(cfg->metadata_dir);
	c->metadata_url = with_slash(cfg->metadata_url);
	c->target_url = cfg->target_url ? with_slash(cfg->target_url) :
					  sibling_targets_url(cfg->metadata_url);
	c->target_dir = cfg->target_dir ? strdup(cfg->target_dir) : NULL;
	c->ca_file = cfg->ca_file ? strdup(cfg->ca_file) : NULL;
	if (!c->metadata_dir || !c->metadata_url || !c->target_url ||
	    (cfg->target_dir && !c->target_dir) || (cfg->ca_file && !c->ca_file))
		return -ENOMEM;
	c->now_cfg = cfg->now;
	c->max_root = cfg->max_root_length ? cfg->max_root_length : DEFAULT_MAX_ROOT;
	c->max_timestamp = cfg->max_timestamp_length ? cfg->max_timestamp_length :
						       DEFAULT_MAX_TIMESTAMP;
	c->max_snapshot = cfg->max_snapshot_length ? cfg->max_snapshot_length :
						     DEFAULT_MAX_SNAPSHOT;
	c->max_targets = cfg->max_targets_length ? cfg->max_targets_length : DEFAULT_MAX_TARGETS;
	c->max_rotations = cfg->max_root_rotations ? cfg->max_root_rotations :
						     DEFAULT_MAX_ROTATIONS;
	c->max_delegations = cfg->max_delegations ? cfg->max_delegations :
						    DEFAULT_MAX_DELEGATIONS;
	/* Fail early on a missing or broken trusted root; refresh reads it again. */
	r = load_trusted_root(c, &root, err, errsize);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}

/* Whether two roots give `role` different keyids (as sets). */
static bool role_keys_changed(const struct tuf_metadata *a, const struct tuf_metadata *b,
			      const char *role)
{
	const json_t *ka = json_object_get(root_role(a, role), "keyids");
	const json_t *kb = json_object_get(root_role(b, role), "keyids");
	size_t i, j;
	json_t *x, *y;

	json_array_foreach(ka, i, x) {
		bool found = false;

		json_array_foreach(kb, j, y)
			found = found || json_equal(x, y);
		if (!found)
			return true;
	}
	json_array_foreach(kb, j, y) {
		bool found = false;

		json_array_foreach(ka, i, x)
			found = found || json_equal(x, y);
		if (!found)
			return true;
	}
	return false;
}

static int remove_trusted(struct tuf_client *c, const char *role, char err[], size_t errsize)
{
	_cleanup_free_ char *path = trusted_path(c, role);

	if (!path)
		return -ENOMEM;
	if (unlink(path) < 0 && errno != ENOENT)
		return error_message(err, errsize, -errno, "cannot remove '%s': %m", path);
	return 0;
}

/* 5.3: the root rotation chain, then the freeze check. */
static int update_root(struct tuf_client *c, char err[], size_t errsize)
{
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *first = NULL;
	int r;

	r = load_trusted_root(c, &c->root, err, errsize);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < c->max_rotations; i++) {
		_cleanup_(tuf_metadata_freep) struct tuf_metadata *m = NULL;
		_cleanup_free_ char *url = NULL, *buf = NULL;
		int64_t next;
		size_t len;

		if (c->root->version == INT64_MAX)
			break;
		next = c->root->version + 1;
		if (asprintf(&url, "%s%" PRId64 ".root.json", c->metadata_url, next) < 0)
			return -ENOMEM;
		r = fetch(c, url, c->max_root, &buf, &len, err, errsize);
		if (r == -ENOENT || r == -EACCES)
			break; /* no newer root */
		if (r < 0)
			return r;
		r = parse(c, buf, len, "root", url, &m, err, errsize);
		if (r < 0)
			return r;
		/* Signed by a threshold of the trusted root's keys ... */
		r = verify_top(c->root, m, "root", url, err, errsize);
		if (r < 0)
			return r;
		if (m->version != next)
			return error_message(err, errsize, -EBADMSG,
					     "'%s': version %" PRId64 ", expected %" PRId64, url,
					     m->version, next);
		/* ... and by a threshold of its own. */
		r = verify_top(m, m, "root", url, err, errsize);
		if (r < 0)
			return r;
		r = persist(c, "root", buf, len, err, errsize);
		if (r < 0)
			return r;
		if (!first)
			first = TAKE_PTR(c->root);
		else
			tuf_metadata_free(c->root);
		c->root = TAKE_PTR(m);
	}
	if (tuf_metadata_expired(c->root, c->now)) {
		char when[21] = "";

		(void)tuf_time_format(c->root->expires, when);
		return error_message(err, errsize, -EKEYEXPIRED,
				     "trusted root version %" PRId64 " expired at %s",
				     c->root->version, when);
	}
	/* 5.3.11: new timestamp or snapshot keys void what the old keys signed. */
	if (first && (role_keys_changed(first, c->root, "timestamp") ||
		      role_keys_changed(first, c->root, "snapshot"))) {
		r = remove_trusted(c, "timestamp", err, errsize);
		if (r >= 0)
			r = remove_trusted(c, "snapshot", err, errsize);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * A trusted local file of role `type`, verified with root's keys for `role`;
 * NULL in *ret when missing or not valid any more (ignored: a fresh copy is
 * fetched).  Other errors (OOM) are returned.
 */
static int load_local_top(struct tuf_client *c, const char *role, size_t max,
			  struct tuf_metadata **ret)
{
	_cleanup_free_ char *path = trusted_path(c, role), *buf = NULL;
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *m = NULL;
	size_t len;
	int r;

	*ret = NULL;
	if (!path)
		return -ENOMEM;
	r = read_file_bounded(path, max, &buf, &len);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	r = parse(c, buf, len, role, path, &m, NULL, 0);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || verify_top(c->root, m, role, path, NULL, 0) < 0)
		return 0;
	*ret = TAKE_PTR(m);
	return 0;
}

static int expired_error(const struct tuf_metadata *m, const char *what, char err[],
			 size_t errsize)
{
	char when[21] = "";

	(void)tuf_time_format(m->expires, when);
	return error_message(err, errsize, -EKEYEXPIRED,
			     "'%s': %s version %" PRId64 " expired at %s", what, m->type,
			     m->version, when);
}

static const json_t *snapshot_meta_of(const struct tuf_metadata *ts)
{
	return json_object_get(json_object_get(ts->body, "meta"), "snapshot.json");
}

/* 5.4 */
static int update_timestamp(struct tuf_client *c, char err[], size_t errsize)
{
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *old = NULL, *m = NULL;
	_cleanup_free_ char *url = NULL, *buf = NULL;
	size_t len;
	int r;

	r = load_local_top(c, "timestamp", c->max_timestamp, &old);
	if (r < 0)
		return r;
	if (asprintf(&url, "%stimestamp.json", c->metadata_url) < 0)
		return -ENOMEM;
	r = fetch(c, url, c->max_timestamp, &buf, &len, err, errsize);
	if (r < 0)
		return r;
	r = parse(c, buf, len, "timestamp", url, &m, err, errsize);
	if (r < 0)
		return r;
	r = verify_top(c->root, m, "timestamp", url, err, errsize);
	if (r < 0)
		return r;
	if (old) {
		int64_t ov = json_integer_value(json_object_get(snapshot_meta_of(old), "version"));
		int64_t nv = json_integer_value(json_object_get(snapshot_meta_of(m), "version"));

		if (m->version < old->version)
			return error_message(err, errsize, -ESTALE,
					     "'%s': version %" PRId64 " is older than the trusted %" PRId64,
					     url, m->version, old->version);
		if (m->version == old->version) {
			/* Nothing new: keep the trusted one (its bytes may differ). */
			c->timestamp = TAKE_PTR(old);
			if (tuf_metadata_expired(c->timestamp, c->now))
				return expired_error(c->timestamp, "timestamp.json", err, errsize);
			return 0;
		}
		if (nv < ov)
			return error_message(err, errsize, -ESTALE,
					     "'%s': snapshot version %" PRId64 " is older than the trusted %" PRId64,
					     url, nv, ov);
	}
	if (tuf_metadata_expired(m, c->now))
		return expired_error(m, url, err, errsize);
	r = persist(c, "timestamp", buf, len, err, errsize);
	if (r < 0)
		return r;
	c->timestamp = TAKE_PTR(m);
	return 0;
}

/* Every role listed by old is listed by new with a version at least as high. */
static int check_snapshot_rollback(const struct tuf_metadata *old, const struct tuf_metadata *m,
				   const char *what, char err[], size_t errsize)
{
	const json_t *om = json_object_get(old->body, "meta");
	const json_t *nm = json_object_get(m->body, "meta");
	const char *name;
	json_t *v;

	json_object_foreach((json_t *)om, name, v) {
		const json_t *n = json_object_get(nm, name);
		int64_t ov = json_integer_value(json_object_get(v, "version"));

		if (!n)
			return error_message(err, errsize, -ESTALE,
					     "'%s': '%s' is no longer listed", what, name);
		if (json_integer_value(json_object_get(n, "version")) < ov)
			return error_message(err, errsize, -ESTALE,
					     "'%s': '%s' version %" PRId64 " is older than the trusted %" PRId64,
					     what, name,
					     (int64_t)json_integer_value(json_object_get(n, "version")),
					     ov);
	}
	return 0;
}

static bool consistent(const struct tuf_client *c)
{
	return json_is_true(json_object_get(c->root->body, "consistent_snapshot"));
}

/*
 * Fetches FILE.json (FILE: a quoted role name) as the snapshot or timestamp
 * lists it: V.FILE.json under consistent snapshots, at most max bytes, and
 * checked against the listed length and hashes before anything parses it.
 */
static int fetch_listed(struct tuf_client *c, const char *file, int64_t version, size_t max,
			int64_t length, const json_t *hashes, char **ret_url, char **ret_buf,
			size_t *ret_len, char err[], size_t errsize)
{
	_cleanup_free_ char *url = NULL, *buf = NULL;
	size_t len;
	int r;

	if (consistent(c))
		r = asprintf(&url, "%s%" PRId64 ".%s.json", c->metadata_url, version, file);
	else
		r = asprintf(&url, "%s%s.json", c->metadata_url, file);
	if (r < 0) {
		url = NULL;
		return -ENOMEM;
	}
	r = fetch(c, url, max, &buf, &len, err, errsize);
	if (r < 0)
		return r;
	r = check_hashes(buf, len, length, hashes, false, url, err, errsize);
	if (r < 0)
		return r;
	*ret_url = TAKE_PTR(url);
	*ret_buf = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* 5.5 */
static int update_snapshot(struct tuf_client *c, char err[], size_t errsize)
{
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *old = NULL, *m = NULL;
	_cleanup_free_ char *url = NULL, *buf = NULL;
	const json_t *meta = snapshot_meta_of(c->timestamp);
	int64_t version = json_integer_value(json_object_get(meta, "version"));
	int64_t length = json_int_or(json_object_get(meta, "length"), -1);
	size_t max = length >= 0 ? (size_t)length : c->max_snapshot;
	size_t len;
	int r;

	r = load_local_top(c, "snapshot", max, &old);
	if (r < 0)
		return r;
	if (old && old->version == version && !tuf_metadata_expired(old, c->now)) {
		c->snapshot = TAKE_PTR(old);
		return 0;
	}
	r = fetch_listed(c, "snapshot", version, max, length, json_object_get(meta, "hashes"),
			 &url, &buf, &len, err, errsize);
	if (r < 0)
		return r;
	r = parse(c, buf, len, "snapshot", url, &m, err, errsize);
	if (r < 0)
		return r;
	r = verify_top(c->root, m, "snapshot", url, err, errsize);
	if (r < 0)
		return r;
	if (m->version != version)
		return error_message(err, errsize, -EBADMSG,
				     "'%s': version %" PRId64 ", timestamp names version %" PRId64,
				     url, m->version, version);
	if (old) {
		r = check_snapshot_rollback(old, m, url, err, errsize);
		if (r < 0)
			return r;
	}
	if (tuf_metadata_expired(m, c->now))
		return expired_error(m, url, err, errsize);
	r = persist(c, "snapshot", buf, len, err, errsize);
	if (r < 0)
		return r;
	c->snapshot = TAKE_PTR(m);
	return 0;
}

/*
 * Verifies a targets role's metadata with its delegator: for "targets" the
 * root's targets role, else the delegation entry `entry` of delegator's
 * delegations.
 */
static int verify_delegated(struct tuf_client *c, const struct tuf_metadata *m, const char *role,
			    const struct tuf_metadata *delegator, const json_t *entry,
			    const char *what, char err[], size_t errsize)
{
	char msg[512];
	int r;

	if (!delegator)
		return verify_top(c->root, m, "targets", what, err, errsize);
	r = tuf_metadata_verify(m, delegator->keys, json_object_get(entry, "keyids"),
				json_integer_value(json_object_get(entry, "threshold")), role, msg,
				sizeof(msg));
	if (r < 0)
		return error_message(err, errsize, r, "'%s': %s", what, msg);
	return 0;
}

/*
 * 5.6: loads targets role `role` (trusted copy if it still matches the
 * snapshot, else fetched), verified with its delegator.  *ret is owned by c.
 */
static int load_targets(struct tuf_client *c, const char *role,
			const struct tuf_metadata *delegator, const json_t *entry,
			struct tuf_metadata **ret, char err[], size_t errsize)
{
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *m = NULL;
	_cleanup_free_ char *name = NULL, *url = NULL, *buf = NULL, *path = NULL, *q = NULL;
	const json_t *meta;
	int64_t version, length;
	size_t max, len;
	int r;

	/* Already loaded in this refresh: only the delegator may have changed. */
	if (streq(role, "targets") && c->targets) {
		*ret = c->targets;
		return 0;
	}
	for (size_t i = 0; delegator && i < c->n_roles; i++) {
		if (!streq(c->roles[i].name, role))
			continue;
		r = verify_delegated(c, c->roles[i].md, role, delegator, entry, role, err,
				     errsize);
		if (r < 0)
			return r;
		*ret = c->roles[i].md;
		return 0;
	}
	if (asprintf(&name, "%s.json", role) < 0)
		return -ENOMEM;
	meta = json_object_get(json_object_get(c->snapshot->body, "meta"), name);
	if (!meta)
		return error_message(err, errsize, -EBADMSG,
				     "role '%s' is delegated but snapshot version %" PRId64 " does not list '%s'",
				     role, c->snapshot->version, name);
	version = json_integer_value(json_object_get(meta, "version"));
	length = json_int_or(json_object_get(meta, "length"), -1);
	max = length >= 0 ? (size_t)length : c->max_targets;

	/* The trusted copy, if it is still the one the snapshot names. */
	path = trusted_path(c, role);
	if (!path)
		return -ENOMEM;
	r = read_file_bounded(path, max, &buf, &len);
	if (r == -ENOMEM)
		return r;
	if (r >= 0 && check_hashes(buf, len, length, json_object_get(meta, "hashes"), false, path,
				   NULL, 0) == 0 &&
	    parse(c, buf, len, "targets", path, &m, NULL, 0) == 0 &&
	    verify_delegated(c, m, role, delegator, entry, path, NULL, 0) == 0 &&
	    m->version == version && !tuf_metadata_expired(m, c->now))
		goto done;
	m = tuf_metadata_free(m);
	free(TAKE_PTR(buf));

	q = quote(role, false);
	if (!q)
		return -ENOMEM;
	r = fetch_listed(c, q, version, max, length, json_object_get(meta, "hashes"), &url, &buf,
			 &len, err, errsize);
	if (r < 0)
		return r;
	r = parse(c, buf, len, "targets", url, &m, err, errsize);
	if (r < 0)
		return r;
	r = verify_delegated(c, m, role, delegator, entry, url, err, errsize);
	if (r < 0)
		return r;
	if (m->version != version)
		return error_message(err, errsize, -EBADMSG,
				     "'%s': version %" PRId64 ", snapshot names version %" PRId64,
				     url, m->version, version);
	if (tuf_metadata_expired(m, c->now))
		return expired_error(m, url, err, errsize);
	r = persist(c, role, buf, len, err, errsize);
	if (r < 0)
		return r;
done:
	if (!delegator) {
		c->targets = TAKE_PTR(m);
		*ret = c->targets;
		return 0;
	} else {
		struct loaded_role *n = realloc(c->roles, (c->n_roles + 1) * sizeof(*n));
		char *dup = strdup(role);

		if (n)
			c->roles = n;
		if (!n || !dup) {
			free(dup);
			return -ENOMEM;
		}
		c->roles[c->n_roles].name = dup;
		c->roles[c->n_roles].md = TAKE_PTR(m);
		*ret = c->roles[c->n_roles++].md;
		return 0;
	}
}

int tuf_client_refresh(struct tuf_client *c, char err[], size_t errsize)
{
	struct tuf_metadata *targets;
	int r;

	drop_state(c);
	c->now = c->now_cfg ? c->now_cfg : (int64_t)time(NULL);
	r = update_root(c, err, errsize);
	if (r >= 0)
		r = update_timestamp(c, err, errsize);
	if (r >= 0)
		r = update_snapshot(c, err, errsize);
	if (r >= 0)
		r = load_targets(c, "targets", NULL, NULL, &targets, err, errsize);
	if (r < 0) {
		drop_state(c);
		return r;
	}
	c->refreshed = true;
	return 0;
}

void tuf_target_free(struct tuf_target *t)
{
	if (!t)
		return;
	free(t->path);
	json_decref(t->hashes);
	json_decref(t->custom);
	free(t->role);
	free(t);
}

/* fnmatch of each '/'-separated part, so '*' never matches '/'. */
static bool path_matches(const char *pattern, const char *path)
{
	for (;;) {
		const char *ps = strchr(pattern, '/'), *ts = strchr(path, '/');
		size_t pn = ps ? (size_t)(ps - pattern) : strlen(pattern);
		size_t tn = ts ? (size_t)(ts - path) : strlen(path);
		char pbuf[TARGET_PATH_MAX + 1], tbuf[TARGET_PATH_MAX + 1];

		if (!!ps != !!ts || pn > TARGET_PATH_MAX || tn > TARGET_PATH_MAX)
			return false;
		memcpy(pbuf, pattern, pn);
		pbuf[pn] = '\0';
		memcpy(tbuf, path, tn);
		tbuf[tn] = '\0';
		if (fnmatch(pbuf, tbuf, FNM_NOESCAPE) != 0)
			return false;
		if (!ps)
			return true;
		pattern = ps + 1;
		path = ts + 1;
	}
}

static bool role_matches(const json_t *entry, const char *path, const char *path_sha256)
{
	const json_t *paths = json_object_get(entry, "paths");
	const json_t *prefixes = json_object_get(entry, "path_hash_prefixes");
	size_t i;
	json_t *v;

	json_array_foreach(paths, i, v)
		if (path_matches(json_string_value(v), path))
			return true;
	json_array_foreach(prefixes, i, v)
		if (strncasecmp(path_sha256, json_string_value(v), json_string_length(v)) == 0 &&
		    json_string_length(v) <= 64)
			return true;
	return false;
}

static int ensure_refreshed(struct tuf_client *c, char err[], size_t errsize)
{
	return c->refreshed ? 0 : tuf_client_refresh(c, err, errsize);
}

struct visit {
	const char *role;		     /* borrowed from the delegator's JSON */
	const struct tuf_metadata *delegator; /* NULL for "targets" */
	const json_t *entry;		     /* the delegation entry */
};

static int new_target(const char *path, const json_t *t, const char *role,
		      struct tuf_target **ret)
{
	struct tuf_target *x = calloc(1, sizeof(*x));

	if (!x)
		return -ENOMEM;
	x->path = strdup(path);
	x->role = strdup(role);
	x->length = (uint64_t)json_integer_value(json_object_get(t, "length"));
	x->hashes = json_deep_copy(json_object_get(t, "hashes"));
	if (json_object_get(t, "custom"))
		x->custom = json_deep_copy(json_object_get(t, "custom"));
	if (!x->path || !x->role || !x->hashes || (json_object_get(t, "custom") && !x->custom)) {
		tuf_target_free(x);
		return -ENOMEM;
	}
	*ret = x;
	return 0;
}

int tuf_client_find_target(struct tuf_client *c, const char *path, struct tuf_target **ret,
			   char err[], size_t errsize)
{
	_cleanup_free_ struct visit *stack = NULL, *visited = NULL;
	size_t n_stack = 0, n_visited = 0, alloc;
	char path_sha256[65];
	unsigned budget;
	int r;

	r = ensure_refreshed(c, err, errsize);
	if (r < 0)
		return r;
	{
		unsigned char md[32];
		_cleanup_free_ char *hex = NULL;

		if (!EVP_Digest(path, strlen(path), md, NULL, EVP_sha256(), NULL))
			return -ENOMEM;
		hex = tuf_hex_encode(md, sizeof(md));
		if (!hex)
			return -ENOMEM;
		memcpy(path_sha256, hex, sizeof(path_sha256));
	}
	budget = c->max_delegations;
	alloc = 16;
	stack = malloc(alloc * sizeof(*stack));
	visited = malloc((budget + 1) * sizeof(*visited));
	if (!stack || !visited)
		return -ENOMEM;
	stack[n_stack++] = (struct visit){ .role = "targets" };

	while (n_stack > 0 && budget > 0) {
		struct visit v = stack[--n_stack];
		struct tuf_metadata *m;
		const json_t *t, *roles, *d;
		size_t first_child, i;
		bool seen = false;
		json_t *entry;

		for (i = 0; i < n_visited && !seen; i++)
			seen = visited[i].delegator == v.delegator && streq(visited[i].role, v.role);
		if (seen)
			continue;
		r = load_targets(c, v.role, v.delegator, v.entry, &m, err, errsize);
		if (r < 0)
			return r;
		t = json_object_get(json_object_get(m->body, "targets"), path);
		if (t)
			return new_target(path, t, v.role, ret);
		visited[n_visited++] = v;
		budget--;

		d = json_object_get(m->body, "delegations");
		if (!d)
			continue;
		if (json_object_get(d, "succinct_roles"))
			return error_message(err, errsize, -EOPNOTSUPP,
					     "role '%s' delegates with succinct_roles, which is not supported",
					     v.role);
		roles = json_object_get(d, "roles");
		first_child = n_stack;
		json_array_foreach(roles, i, entry) {
			if (!role_matches(entry, path, path_sha256))
				continue;
			if (n_stack == alloc) {
				struct visit *s = realloc(stack, 2 * alloc * sizeof(*s));

				if (!s)
					return -ENOMEM;
				stack = s;
				alloc *= 2;
			}
			stack[n_stack++] = (struct visit){
				.role = json_string_value(json_object_get(entry, "name")),
				.delegator = m,
				.entry = entry,
			};
			if (json_is_true(json_object_get(entry, "terminating"))) {
				/* Nothing after a terminating match is searched. */
				memmove(stack, stack + first_child,
					(n_stack - first_child) * sizeof(*stack));
				n_stack -= first_child;
				first_child = 0;
				break;
			}
		}
		/* Pre-order: the first listed child is visited next. */
		for (size_t a = first_child, b = n_stack; b > a + 1; a++, b--) {
			struct visit tmp = stack[a];

			stack[a] = stack[b - 1];
			stack[b - 1] = tmp;
		}
	}
	if (n_stack > 0)
		return error_message(err, errsize, -ELOOP,
				     "target '%s' not found within %u delegated roles", path,
				     c->max_delegations);
	return error_message(err, errsize, -ENOENT, "target '%s' not found", path);
}

/* Finds role `name` in the delegation graph below m (roles listed by m
 * first, then depth-first); *ret_m and *ret_entry name its delegator. */
static int find_role(struct tuf_client *c, const struct tuf_metadata *m, const char *name,
		     unsigned *budget, const struct tuf_metadata **ret_m, const json_t **ret_entry,
		     char err[], size_t errsize)
{
	const json_t *roles = json_object_get(json_object_get(m->body, "delegations"), "roles");
	size_t i;
	json_t *entry;
	int r;

	json_array_foreach(roles, i, entry)
		if (streq(json_string_value(json_object_get(entry, "name")), name)) {
			*ret_m = m;
			*ret_entry = entry;
			return 0;
		}
	json_array_foreach(roles, i, entry) {
		struct tuf_metadata *child;

		if (*budget == 0)
			return error_message(err, errsize, -ELOOP,
					     "role '%s' not found within %u delegated roles", name,
					     c->max_delegations);
		(*budget)--;
		r = load_targets(c, json_string_value(json_object_get(entry, "name")), m, entry,
				 &child, err, errsize);
		if (r < 0)
			return r;
		r = find_role(c, child, name, budget, ret_m, ret_entry, err, errsize);
		if (r != -ENOENT)
			return r;
	}
	return -ENOENT;
}

int tuf_client_role_targets(struct tuf_client *c, const char *role, struct tuf_target ***ret,
			    size_t *ret_n, char err[], size_t errsize)
{
	const struct tuf_metadata *delegator = NULL;
	const json_t *entry = NULL, *targets;
	struct tuf_metadata *m;
	struct tuf_target **list = NULL;
	size_t n = 0;
	unsigned budget;
	const char *path;
	json_t *t;
	int r;

	r = ensure_refreshed(c, err, errsize);
	if (r < 0)
		return r;
	budget = c->max_delegations;
	r = find_role(c, c->targets, role, &budget, &delegator, &entry, err, errsize);
	if (r == -ENOENT)
		return error_message(err, errsize, r, "role '%s' is not delegated from targets",
				     role);
	if (r < 0)
		return r;
	r = load_targets(c, role, delegator, entry, &m, err, errsize);
	if (r < 0)
		return r;
	targets = json_object_get(m->body, "targets");
	list = calloc(json_object_size(targets) + 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	json_object_foreach((json_t *)targets, path, t) {
		(void)t;
		r = tuf_client_find_target(c, path, &list[n], err, errsize);
		if (r == -ENOENT)
			continue; /* listed, but no delegation on the way leads here */
		if (r < 0)
			break;
		n++;
	}
	if (r < 0 && r != -ENOENT) {
		for (size_t i = 0; i < n; i++)
			tuf_target_free(list[i]);
		free(list);
		return r;
	}
	*ret = list;
	*ret_n = n;
	return 0;
}

/* A relative path of plain components: no "", "." or ".." part, no leading '/'. */
static bool safe_target_path(const char *p)
{
	if (strempty(p) || strlen(p) > TARGET_PATH_MAX)
		return false;
	for (;;) {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (p[n] == '\0')
			return true;
		p += n + 1;
	}
}

static bool has_supported_hash(const json_t *hashes)
{
	return json_is_string(json_object_get(hashes, "sha256")) ||
	       json_is_string(json_object_get(hashes, "sha512"));
}

static const char *url_hash(const json_t *hashes)
{
	const char *alg;
	json_t *v;

	if (json_object_get(hashes, "sha256"))
		return json_string_value(json_object_get(hashes, "sha256"));
	if (json_object_get(hashes, "sha512"))
		return json_string_value(json_object_get(hashes, "sha512"));
	json_object_foreach((json_t *)hashes, alg, v)
		return json_string_value(v);
	return NULL;
}

int tuf_client_download_target(struct tuf_client *c, const struct tuf_target *t, char **ret_path,
			       char err[], size_t errsize)
{
	_cleanup_free_ char *local = NULL, *buf = NULL, *url = NULL, *q = NULL, *dir = NULL;
	size_t len, max;
	int r;

	if (strempty(c->target_dir))
		return error_message(err, errsize, -EINVAL, "no target directory configured");
	r = ensure_refreshed(c, err, errsize);
	if (r < 0)
		return r;
	if (!safe_target_path(t->path))
		return error_message(err, errsize, -EINVAL,
				     "target path '%.200s' cannot be stored under '%s'", t->path,
				     c->target_dir);
	if (t->length > SIZE_MAX - 1)
		return error_message(err, errsize, -EFBIG, "target '%s' is too large", t->path);
	max = (size_t)t->length;
	if (!has_supported_hash(t->hashes))
		return error_message(err, errsize, -EBADMSG,
				     "target '%s': no supported hash (sha256, sha512) is listed",
				     t->path);
	local = path_join(c->target_dir, t->path);
	if (!local)
		return -ENOMEM;
	r = read_file_bounded(local, max, &buf, &len);
	if (r == -ENOMEM)
		return r;
	if (r >= 0 && check_hashes(buf, len, (int64_t)t->length, t->hashes, true, local, NULL, 0) ==
			      0) {
		*ret_path = TAKE_PTR(local);
		return 0; /* the cached copy is still the one the metadata names */
	}
	free(TAKE_PTR(buf));

	if (consistent(c)) {
		const char *slash = strrchr(t->path, '/');
		const char *hash = url_hash(t->hashes);
		_cleanup_free_ char *prefixed = NULL;

		if (!hash)
			return error_message(err, errsize, -EBADMSG, "target '%s' has no hash",
					     t->path);
		if (asprintf(&prefixed, "%.*s%s.%s", slash ? (int)(slash - t->path + 1) : 0,
			     t->path, hash, slash ? slash + 1 : t->path) < 0)
			return -ENOMEM;
		q = quote(prefixed, true);
	} else {
		q = quote(t->path, true);
	}
	if (!q || asprintf(&url, "%s%s", c->target_url, q) < 0)
		return -ENOMEM;
	r = fetch(c, url, max, &buf, &len, err, errsize);
	if (r < 0)
		return r;
	r = check_hashes(buf, len, (int64_t)t->length, t->hashes, true, url, err, errsize);
	if (r < 0)
		return r;
	dir = strdup(local);
	if (!dir)
		return -ENOMEM;
	*strrchr(dir, '/') = '\0';
	r = mkdir_p(dir, 0755);
	if (r < 0)
		return error_message(err, errsize, r, "cannot create '%s': %s", dir, strerror(-r));
	r = write_file_atomic(local, buf, len, 0644);
	if (r < 0)
		return error_message(err, errsize, r, "cannot write '%s': %s", local, strerror(-r));
	*ret_path = TAKE_PTR(local);
	return 0;
}
