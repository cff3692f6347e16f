/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive-internal.h"
#include "fileio.h"
#include "metadata.h"
#include "parse-util.h"
#include "strbuf.h"

/* ---- the served state ---- */

void published_release(struct published *p)
{
	json_decref(p->root);
	json_decref(p->timestamp);
	json_decref(p->snapshot);
	json_decref(p->targets);
	*p = (struct published){ 0 };
}

/* The "signed" body of metadata file name, checked for _type and version (> 0 or want). */
static int load_body(struct archive *a, const char *name, const char *type, int64_t want,
		     json_t **ret, int64_t *ret_version, char err[], size_t errsize)
{
	_cleanup_free_ char *path = path_join(a->meta_dir, name);
	_cleanup_(json_decrefp) json_t *env = NULL;
	json_t *body;
	int64_t v;
	int r;

	if (!path)
		return -ENOMEM;
	r = load_json_file(path, ARCHIVE_METADATA_MAX, &env, err, errsize);
	if (r == -ENOENT)
		snprintf(err, errsize, "published metadata '%s' is missing", path);
	if (r < 0)
		return r;
	body = json_object_get(env, "signed");
	if (!json_is_object(body) || !streq(json_get_str(body, "_type") ?: "", type) ||
	    json_get_int(body, "version", &v) < 0 || v < 1 || (want && v != want) ||
	    !json_get_str(body, "expires"))
		return parse_error(err, errsize,
				   "published metadata '%s' is corrupt: not %s metadata%s", path,
				   type, want ? " of the version the snapshot names" : "");
	*ret = json_incref(body);
	if (ret_version)
		*ret_version = v;
	return 0;
}

static int meta_version(const json_t *body, const char *file, int64_t *ret)
{
	return json_get_int(json_object_get(json_object_get(body, "meta"), file), "version", ret);
}

int published_load(struct archive *a, struct published *p, char err[], size_t errsize)
{
	struct published n = { 0 };
	char name[64];
	int64_t v;
	int r;

	r = load_body(a, "root.json", "root", 0, &n.root, &n.root_version, err, errsize);
	if (r >= 0)
		r = load_body(a, "timestamp.json", "timestamp", 0, &n.timestamp,
			      &n.timestamp_version, err, errsize);
	if (r >= 0 && meta_version(n.timestamp, "snapshot.json", &v) < 0)
		r = parse_error(err, errsize, "published timestamp.json names no snapshot version");
	if (r >= 0) {
		snprintf(name, sizeof(name), "%lld.snapshot.json", (long long)v);
		r = load_body(a, name, "snapshot", v, &n.snapshot, &n.snapshot_version, err,
			      errsize);
	}
	if (r >= 0 && meta_version(n.snapshot, "targets.json", &v) < 0)
		r = parse_error(err, errsize, "published snapshot names no targets version");
	if (r >= 0) {
		snprintf(name, sizeof(name), "%lld.targets.json", (long long)v);
		r = load_body(a, name, "targets", v, &n.targets, &n.targets_version, err, errsize);
	}
	if (r < 0) {
		published_release(&n);
		return r;
	}
	*p = n;
	return 0;
}

int published_role(struct archive *a, const struct published *p, const char *name,
		   json_t **ret, char err[], size_t errsize)
{
	_cleanup_free_ char *key = NULL, *quoted = quote_role(name), *file = NULL;
	int64_t v;

	if (!quoted || asprintf(&key, "%s.json", name) < 0)
		return -ENOMEM;
	if (meta_version(p->snapshot, key, &v) < 0) {
		snprintf(err, errsize, "role '%s' is not in the published snapshot", name);
		return -ENOENT;
	}
	if (asprintf(&file, "%lld.%s.json", (long long)v, quoted) < 0)
		return -ENOMEM;
	return load_body(a, file, "targets", v, ret, NULL, err, errsize);
}

/* ---- signing and writing ---- */

struct out_file {
	char *path;
	char *buf;
	size_t len;
	bool sync;
};

struct outputs {
	struct out_file *v;
	size_t n;
};

static void outputs_release(struct outputs *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].path);
		free(o->v[i].buf);
	}
	free(o->v);
}

void commit_release(struct commit *c)
{
	json_decref(c->roles);
	json_decref(c->targets);
	json_decref(c->root);
	json_decref(c->written);
	for (int i = 0; i < _ARCHIVE_ROLE_MAX; i++)
		signer_set_release(&c->extra[i]);
	*c = (struct commit){ 0 };
}

/*
 * Signs body with the role's signers and the extra (rotation) ones, each
 * keyid once, and queues the bytes under path; *ret_meta gets the METAFILE
 * entry {version, length, hashes} when asked.
 */
static int sign_out(struct archive *a, struct commit *c, enum archive_role role, json_t *body,
		    const char *file, bool sync, struct outputs *outs, json_t **ret_meta,
		    char err[], size_t errsize)
{
	_cleanup_(json_decrefp) json_t *env = NULL;
	_cleanup_free_ struct tuf_signer **all = NULL;
	_cleanup_free_ char *buf = NULL, *path = NULL;
	struct signer_set *s;
	struct out_file *v;
	size_t n = 0, len;
	char sha[65];
	int64_t version = 0;
	int r;

	r = archive_signers(a, role, &s, err, errsize);
	if (r < 0)
		return r;
	all = calloc(s->n + c->extra[role].n, sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < s->n; i++)
		all[n++] = s->v[i];
	for (size_t i = 0; i < c->extra[role].n; i++) {
		const char *id = tuf_key_id(tuf_signer_key(c->extra[role].v[i]));
		bool dup = false;

		for (size_t j = 0; j < n; j++)
			dup = dup || streq(id, tuf_key_id(tuf_signer_key(all[j])));
		if (!dup)
			all[n++] = c->extra[role].v[i];
	}
	r = tuf_envelope_sign(body, all, n, &env, err, errsize);
	if (r < 0) {
		char e[512];

		snprintf(e, sizeof(e), "%s", err);
		snprintf(err, errsize, "cannot sign %s: %s", file, e);
		return r;
	}
	r = tuf_envelope_dump(env, &buf, &len);
	if (r < 0) {
		snprintf(err, errsize, "cannot serialise %s: %s", file, strerror(-r));
		return r;
	}
	path = path_join(a->meta_dir, file);
	if (!path)
		return -ENOMEM;
	if (ret_meta) {
		r = sha256_hex(buf, len, sha);
		if (r < 0)
			return r;
		(void)json_get_int(body, "version", &version);
		*ret_meta = json_pack("{s:I, s:I, s:{s:s}}", "version", (json_int_t)version,
				      "length", (json_int_t)len, "hashes", "sha256", sha);
		if (!*ret_meta)
			return -ENOMEM;
	}
	v = realloc(outs->v, (outs->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	outs->v = v;
	outs->v[outs->n++] = (struct out_file){ TAKE_PTR(path), TAKE_PTR(buf), len, sync };
	return 0;
}

static int cmp_cstr(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int body_with(const char *type, int64_t version, int64_t expires, const char *field,
		     json_t *value, json_t **ret)
{
	char buf[21];
	int r = format_expires(expires, buf);

	if (r < 0)
		return r;
	*ret = json_pack("{s:s, s:s, s:I, s:s, s:O}", "_type", type, "spec_version",
			 ARCHIVE_SPEC_VERSION, "version", (json_int_t)version, "expires", buf,
			 field, value);
	return *ret ? 0 : -ENOMEM;
}

static int record_version(json_t *versions, const char *stem, int64_t v)
{
	return json_object_set_new(versions, stem, json_integer(v)) < 0 ? -ENOMEM : 0;
}

int commit_run(struct archive *a, const struct published *p, struct commit *c,
	       struct archive_result *res, char err[], size_t errsize)
{
	_cleanup_(outputs_release) struct outputs outs = { 0 };
	_cleanup_(json_decrefp) json_t *snap_meta = NULL, *ts_meta = NULL;
	_cleanup_(json_decrefp) json_t *snapshot = NULL, *timestamp = NULL, *versions = NULL;
	_cleanup_free_ const char **names = NULL;
	bool write_snapshot, write_timestamp;
	int64_t now = archive_now(a);
	size_t n_roles = 0, first_synced;
	const char *name;
	char file[512];
	json_t *body;
	int r;

	snap_meta =
		p->snapshot ? json_deep_copy(json_object_get(p->snapshot, "meta")) : json_object();
	versions = json_object();
	if (!snap_meta || !versions)
		return -ENOMEM;

	/* Everything is built and signed in memory first: a refused passphrase or a failing
	 * signing command leaves no file behind. */
	names = calloc(json_object_size(c->roles) + 1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	json_object_foreach (c->roles, name, body)
		names[n_roles++] = name;
	qsort(names, n_roles, sizeof(*names), cmp_cstr);
	for (size_t i = 0; i < n_roles; i++) {
		_cleanup_free_ char *quoted = quote_role(names[i]), *key = NULL;
		json_t *meta = NULL;
		int64_t v;

		body = json_object_get(c->roles, names[i]);
		if (!quoted || asprintf(&key, "%s.json", names[i]) < 0)
			return -ENOMEM;
		(void)json_get_int(body, "version", &v);
		snprintf(file, sizeof(file), "%lld.%s.json", (long long)v, quoted);
		r = sign_out(a, c, ARCHIVE_ROLE_KERNELS, body, file, false, &outs, &meta, err,
			     errsize);
		if (r < 0)
			return r;
		if (json_object_set_new(snap_meta, key, meta) < 0)
			return -ENOMEM;
		r = record_version(versions, quoted, v);
		if (r < 0)
			return r;
		r = strv_push(&res->roles, names[i]);
		if (r < 0)
			return r;
	}
	if (c->targets) {
		json_t *meta = NULL;
		int64_t v;

		(void)json_get_int(c->targets, "version", &v);
		snprintf(file, sizeof(file), "%lld.targets.json", (long long)v);
		r = sign_out(a, c, ARCHIVE_ROLE_TARGETS, c->targets, file, false, &outs, &meta, err,
			     errsize);
		if (r < 0)
			return r;
		if (json_object_set_new(snap_meta, "targets.json", meta) < 0)
			return -ENOMEM;
		r = record_version(versions, "targets", v);
		if (r < 0)
			return r;
		res->targets_written = true;
		res->targets_version = v;
	} else {
		res->targets_version = p->targets_version;
	}
	write_snapshot = outs.n > 0 || c->snapshot || !p->snapshot;
	if (write_snapshot) {
		int64_t v = p->snapshot_version + 1;

		r = body_with("snapshot", v, now + config_expiry(a, ARCHIVE_ROLE_SNAPSHOT), "meta",
			      snap_meta, &snapshot);
		if (r < 0)
			return r;
		snprintf(file, sizeof(file), "%lld.snapshot.json", (long long)v);
		r = sign_out(a, c, ARCHIVE_ROLE_SNAPSHOT, snapshot, file, false, &outs, &ts_meta,
			     err, errsize);
		if (r < 0)
			return r;
		r = record_version(versions, "snapshot", v);
		if (r < 0)
			return r;
		res->snapshot_version = v;
	} else {
		ts_meta = json_deep_copy(
			json_object_get(json_object_get(p->timestamp, "meta"), "snapshot.json"));
		if (!ts_meta)
			return -ENOMEM;
		res->snapshot_version = p->snapshot_version;
	}
	write_timestamp = write_snapshot || c->timestamp;
	first_synced = outs.n;
	if (write_timestamp) {
		_cleanup_(json_decrefp) json_t *meta = json_pack("{s:O}", "snapshot.json", ts_meta);

		if (!meta)
			return -ENOMEM;
		r = body_with("timestamp", p->timestamp_version + 1,
			      now + config_expiry(a, ARCHIVE_ROLE_TIMESTAMP), "meta", meta,
			      &timestamp);
		if (r < 0)
			return r;
		r = sign_out(a, c, ARCHIVE_ROLE_TIMESTAMP, timestamp, "timestamp.json", true, &outs,
			     NULL, err, errsize);
		if (r < 0)
			return r;
		res->timestamp_version = p->timestamp_version + 1;
	} else {
		res->timestamp_version = p->timestamp_version;
	}
	if (c->root) {
		int64_t v;

		(void)json_get_int(c->root, "version", &v);
		snprintf(file, sizeof(file), "%lld.root.json", (long long)v);
		r = sign_out(a, c, ARCHIVE_ROLE_ROOT, c->root, file, true, &outs, NULL, err,
			     errsize);
		if (r < 0)
			return r;
		r = sign_out(a, c, ARCHIVE_ROLE_ROOT, c->root, "root.json", true, &outs, NULL, err,
			     errsize);
		if (r < 0)
			return r;
		res->root_written = true;
		res->root_version = v;
	} else {
		res->root_version = p->root_version;
	}

	/*
	 * New names first (nothing served refers to them yet), made durable at once, then
	 * timestamp.json, the file clients start from, replaced atomically; a new root last,
	 * after metadata that both the old and the new root accept.
	 */
	for (size_t i = 0; i < outs.n; i++) {
		if (i == first_synced && i > 0) {
			/* written without a sync each: one flush for all of them here (the first
			 * fsync does the work, the others find nothing left to write) */
			r = 0;
			for (size_t j = 0; j < i && r >= 0; j++)
				r = sync_path(outs.v[j].path);
			if (r >= 0)
				r = sync_path(a->meta_dir);
			if (r < 0) {
				snprintf(err, errsize, "cannot sync '%s': %s", a->meta_dir,
					 strerror(-r));
				return r;
			}
		}
		r = repo_write(outs.v[i].path, outs.v[i].buf, outs.v[i].len, 0644, outs.v[i].sync,
			       err, errsize);
		if (r < 0)
			return r;
	}
	res->changed = outs.n > 0;
	json_decref(c->written);
	c->written = TAKE_PTR(versions);
	return 0;
}

unsigned prune_metadata(struct archive *a, const struct commit *c)
{
	unsigned keep = config_keep(a), n = 0;
	const char *stem;
	json_t *v;

	json_object_foreach (c->written, stem, v) {
		for (json_int_t k = json_integer_value(v) - keep; k >= 1; k--) {
			char file[512];
			_cleanup_free_ char *path = NULL;

			snprintf(file, sizeof(file), "%lld.%s.json", (long long)k, stem);
			path = path_join(a->meta_dir, file);
			if (!path || unlink(path) < 0)
				break;
			n++;
		}
	}
	return n;
}

/* ---- publish ---- */

static int keyids_of(const json_t *role_cfg, json_t **ret)
{
	json_t *ids = json_array(), *k;
	size_t i;

	if (!ids)
		return -ENOMEM;
	json_array_foreach (json_object_get(role_cfg, "keys"), i, k)
		if (json_array_append_new(ids, json_string(json_get_str(k, "keyid"))) < 0)
			return json_decref(ids), -ENOMEM;
	*ret = ids;
	return 0;
}

static bool same_id_set(const json_t *x, const json_t *y)
{
	const json_t *v, *w;
	size_t i, j;

	if (!json_is_array(x) || !json_is_array(y) || json_array_size(x) != json_array_size(y))
		return false;
	json_array_foreach (x, i, v) {
		bool found = false;

		json_array_foreach (y, j, w)
			found = found || json_equal(v, w);
		if (!found)
			return false;
	}
	return true;
}

static bool role_matches(const json_t *published_role, const json_t *role_cfg)
{
	_cleanup_(json_decrefp) json_t *ids = NULL;

	if (keyids_of(role_cfg, &ids) < 0)
		return false;
	return same_id_set(json_object_get(published_role, "keyids"), ids) &&
	       json_equal(json_object_get(published_role, "threshold"),
			  json_object_get(role_cfg, "threshold"));
}

static bool root_matches_config(const struct archive *a, const json_t *root)
{
	for (int i = ARCHIVE_ROLE_ROOT; i <= ARCHIVE_ROLE_TIMESTAMP; i++)
		if (!role_matches(json_object_get(json_object_get(root, "roles"),
						  archive_role_to_string((enum archive_role)i)),
				  config_role(a, (enum archive_role)i)))
			return false;
	return true;
}

static bool delegations_match(const struct archive *a, const json_t *targets, char **names)
{
	const json_t *roles = json_object_get(json_object_get(targets, "delegations"), "roles"), *d;
	size_t i, n = strv_length(names);

	if (json_array_size(roles) != n)
		return false;
	json_array_foreach (roles, i, d)
		if (!streq(json_get_str(d, "name") ?: "", names[i]) ||
		    !role_matches(d, config_role(a, ARCHIVE_ROLE_KERNELS)))
			return false;
	return true;
}

static int64_t role_version(const struct published *p, const char *name)
{
	_cleanup_free_ char *key = NULL;
	int64_t v = 0;

	if (asprintf(&key, "%s.json", name) < 0 || meta_version(p->snapshot, key, &v) < 0)
		return 0;
	return v;
}

static int expires_at(const struct archive *a, enum archive_role role, json_t *body)
{
	char buf[21];
	int r = format_expires(archive_now(a) + config_expiry(a, role), buf);

	if (r < 0)
		return r;
	return json_object_set_new(body, "expires", json_string(buf)) < 0 ? -ENOMEM : 0;
}

static int strv_add_unique(char ***v, const char *s)
{
	return strv_contains(*v, s) ? 0 : strv_push(v, s);
}

/*
 * The publish of staged state, shared by publish and rotate.  c->extra may
 * already hold the old keys of a rotation; else they are loaded from
 * changes.rotation.
 */
static int publish_staged(struct archive *a, json_t *changes, struct commit *c,
			  struct archive_result *res, char err[], size_t errsize)
{
	_cleanup_(published_release) struct published p = { 0 };
	_cleanup_strv_free_ char **names = NULL, **todo = NULL;
	/* referenced: changes.rotation is replaced below, its old keys are needed after */
	_cleanup_(json_decrefp) json_t *rot = json_incref(json_object_get(changes, "rotation"));
	json_t *v;
	enum archive_role rot_role = _ARCHIVE_ROLE_INVALID;
	bool need_root, need_targets;
	size_t i;
	int r;

	r = published_load(a, &p, err, errsize);
	if (r < 0)
		return r;
	r = staged_role_names(a, &names, err, errsize);
	if (r < 0)
		return r;
	if (json_is_object(rot))
		rot_role = archive_role_from_string(json_get_str(rot, "role"));
	json_array_foreach (json_object_get(changes, "roles"), i, v) {
		if (!strv_contains(names, json_string_value(v))) {
			snprintf(
				err, errsize,
				"staged state is corrupt: role '%s' changed but '%s/%s.json' is missing",
				json_string_value(v), a->roles_dir, json_string_value(v));
			return -EBADMSG;
		}
		r = strv_add_unique(&todo, json_string_value(v));
		if (r < 0)
			return r;
	}
	for (i = 0; rot_role == ARCHIVE_ROLE_KERNELS && names && names[i]; i++) {
		r = strv_add_unique(&todo, names[i]);
		if (r < 0)
			return r;
	}
	need_root = !root_matches_config(a, p.root);
	need_targets = !delegations_match(a, p.targets, names) || rot_role == ARCHIVE_ROLE_TARGETS;
	if (!todo && !need_root && !need_targets && rot_role < 0) {
		res->root_version = p.root_version;
		res->targets_version = p.targets_version;
		res->snapshot_version = p.snapshot_version;
		res->timestamp_version = p.timestamp_version;
		res->pruned = prune_targets(a, changes, &p);
		return res->pruned ? changes_save(a, changes, err, errsize) : 0;
	}
	if (rot_role >= 0 && c->extra[rot_role].n == 0) {
		r = load_key_entries(a, rot_role, json_object_get(rot, "old"), &c->extra[rot_role],
				     err, errsize);
		if (r < 0)
			return r;
	}
	c->roles = json_object();
	if (!c->roles)
		return -ENOMEM;
	for (i = 0; todo && todo[i]; i++) {
		_cleanup_(json_decrefp) json_t *role = NULL;
		json_t *body = NULL;
		char buf[21];

		r = staged_role_load(a, todo[i], &role, err, errsize);
		if (r < 0)
			return r;
		r = format_expires(archive_now(a) + config_expiry(a, ARCHIVE_ROLE_KERNELS), buf);
		if (r < 0)
			return r;
		body = json_pack("{s:s, s:s, s:I, s:s, s:O}", "_type", "targets", "spec_version",
				 ARCHIVE_SPEC_VERSION, "version",
				 (json_int_t)(role_version(&p, todo[i]) + 1), "expires", buf,
				 "targets", json_object_get(role, "targets"));
		if (!body || json_object_set_new(c->roles, todo[i], body) < 0)
			return -ENOMEM;
	}
	if (need_targets) {
		r = build_targets(a, p.targets_version + 1, &c->targets, err, errsize);
		if (r < 0)
			return r;
	}
	if (need_root) {
		r = build_root(a, p.root_version + 1, &c->root);
		if (r < 0)
			return r;
	}
	c->snapshot = c->timestamp = rot_role >= 0;
	r = commit_run(a, &p, c, res, err, errsize);
	if (r < 0)
		return r;

	/* Committed: the staged marks go, then what no kept metadata lists. */
	if (json_object_set_new(changes, "roles", json_array()) < 0 ||
	    json_object_set_new(changes, "rotation", json_null()) < 0)
		return -ENOMEM;
	published_release(&p);
	r = published_load(a, &p, err, errsize);
	if (r < 0)
		return r;
	res->pruned = prune_targets(a, changes, &p);
	r = changes_save(a, changes, err, errsize);
	if (r < 0)
		return r;
	if (rot_role >= 0 && !archive_role_is_offline(rot_role)) {
		const json_t *k;

		json_array_foreach (json_object_get(rot, "old"), i, k) {
			_cleanup_free_ char *path = NULL;

			if (!json_get_str(k, "file"))
				continue;
			path = path_join(a->online_dir, json_get_str(k, "file"));
			if (path)
				(void)unlink(path);
		}
	}
	res->pruned += prune_metadata(a, c);
	return 0;
}

int archive_publish(struct archive *a, struct archive_result *ret, char err[], size_t errsize)
{
	_cleanup_(json_decrefp) json_t *changes = NULL;
	_cleanup_(commit_release) struct commit c = { 0 };
	struct archive_result res = { 0 };
	int r;

	r = changes_load(a, &changes, err, errsize);
	if (r >= 0)
		r = publish_staged(a, changes, &c, &res, err, errsize);
	if (r < 0) {
		archive_result_release(&res);
		return r;
	}
	*ret = res;
	return 0;
}

/* ---- refresh ---- */

static int near_expiry(const json_t *body, int64_t now, int64_t window, bool *ret)
{
	int64_t t;

	if (tuf_time_parse(json_get_str(body, "expires") ?: "", &t) < 0)
		return -EBADMSG;
	*ret = t - now < window;
	return 0;
}

static int bump(const struct archive *a, enum archive_role role, const json_t *body, json_t **ret)
{
	json_t *b = json_deep_copy(body);
	int64_t v;
	int r;

	if (!b)
		return -ENOMEM;
	(void)json_get_int(b, "version", &v);
	r = expires_at(a, role, b);
	if (r >= 0 && json_object_set_new(b, "version", json_integer(v + 1)) < 0)
		r = -ENOMEM;
	if (r < 0) {
		json_decref(b);
		return r;
	}
	*ret = b;
	return 0;
}

/* Loads an offline role's signers; without its passphrase a warning instead (returns 0). */
static int offline_or_warn(struct archive *a, enum archive_role role, const json_t *body,
			   bool *ret_ok, struct archive_result *res, char err[], size_t errsize)
{
	struct signer_set *s;
	char e[512] = "";
	int r;

	r = archive_signers(a, role, &s, e, sizeof(e));
	if (r == -ENOKEY) {
		_cleanup_free_ char *w = NULL;

		if (asprintf(&w, "%s metadata expires %s and was not re-signed: %s",
			     archive_role_to_string(role), json_get_str(body, "expires"), e) < 0)
			return -ENOMEM;
		*ret_ok = false;
		return strv_consume(&res->warnings, TAKE_PTR(w));
	}
	if (r < 0) {
		snprintf(err, errsize, "%s", e);
		return r;
	}
	*ret_ok = true;
	return 0;
}

int archive_refresh(struct archive *a, int64_t within, struct archive_result *ret, char err[],
		    size_t errsize)
{
	_cleanup_(published_release) struct published p = { 0 };
	_cleanup_(commit_release) struct commit c = { 0 };
	struct archive_result res = { 0 };
	int64_t now = archive_now(a);
	const char *key;
	json_t *m;
	bool near, ok;
	int r;

#define WINDOW(role) (within >= 0 ? within : config_expiry(a, (role)) / 2)
	{
		_cleanup_(json_decrefp) json_t *changes = NULL;

		r = changes_load(a, &changes, err, errsize);
		if (r < 0)
			return r;
		/* archive.json already names the new keys, the served root the old ones */
		if (json_is_object(json_object_get(changes, "rotation"))) {
			snprintf(
				err, errsize,
				"the rotation of the %s keys is not finished: run 'tuxtape archive "
				"publish' first",
				json_get_str(json_object_get(changes, "rotation"), "role"));
			return -EBUSY;
		}
	}
	r = published_load(a, &p, err, errsize);
	if (r < 0)
		return r;
	c.roles = json_object();
	if (!c.roles)
		return -ENOMEM;
	if (near_expiry(p.root, now, WINDOW(ARCHIVE_ROLE_ROOT), &near) < 0)
		goto corrupt;
	if (near) {
		r = offline_or_warn(a, ARCHIVE_ROLE_ROOT, p.root, &ok, &res, err, errsize);
		if (r >= 0 && ok)
			r = bump(a, ARCHIVE_ROLE_ROOT, p.root, &c.root);
		if (r < 0)
			goto fail;
	}
	if (near_expiry(p.targets, now, WINDOW(ARCHIVE_ROLE_TARGETS), &near) < 0)
		goto corrupt;
	if (near) {
		r = offline_or_warn(a, ARCHIVE_ROLE_TARGETS, p.targets, &ok, &res, err, errsize);
		if (r >= 0 && ok)
			r = bump(a, ARCHIVE_ROLE_TARGETS, p.targets, &c.targets);
		if (r < 0)
			goto fail;
	}
	json_object_foreach (json_object_get(p.snapshot, "meta"), key, m) {
		_cleanup_(json_decrefp) json_t *body = NULL;
		_cleanup_free_ char *name = NULL;
		size_t n = strlen(key);
		json_t *nb = NULL;

		if (streq(key, "targets.json") || n <= 5 || !streq(key + n - 5, ".json"))
			continue;
		name = strndup(key, n - 5);
		if (!name)
			return -ENOMEM;
		r = published_role(a, &p, name, &body, err, errsize);
		if (r < 0)
			goto fail;
		if (near_expiry(body, now, WINDOW(ARCHIVE_ROLE_KERNELS), &near) < 0)
			goto corrupt;
		if (!near)
			continue;
		r = bump(a, ARCHIVE_ROLE_KERNELS, body, &nb);
		if (r >= 0 && json_object_set_new(c.roles, name, nb) < 0)
			r = -ENOMEM;
		if (r < 0)
			goto fail;
	}
	if (near_expiry(p.snapshot, now, WINDOW(ARCHIVE_ROLE_SNAPSHOT), &c.snapshot) < 0 ||
	    near_expiry(p.timestamp, now, WINDOW(ARCHIVE_ROLE_TIMESTAMP), &c.timestamp) < 0)
		goto corrupt;
#undef WINDOW
	if (json_object_size(c.roles) == 0 && !c.targets && !c.root && !c.snapshot &&
	    !c.timestamp) {
		res.root_version = p.root_version;
		res.targets_version = p.targets_version;
		res.snapshot_version = p.snapshot_version;
		res.timestamp_version = p.timestamp_version;
		*ret = res;
		return 0;
	}
	r = commit_run(a, &p, &c, &res, err, errsize);
	if (r < 0)
		goto fail;
	res.pruned = prune_metadata(a, &c);
	*ret = res;
	return 0;
corrupt:
	r = parse_error(err, errsize, "published metadata has an invalid expiry");
fail:
	archive_result_release(&res);
	return r;
}

/* ---- rotate ---- */

int archive_rotate(struct archive *a, enum archive_role role, int scheme,
		   struct archive_result *ret, char err[], size_t errsize)
{
	_cleanup_(json_decrefp) json_t *changes = NULL, *entries = json_array(), *old = NULL;
	_cleanup_(commit_release) struct commit c = { 0 };
	struct signer_set *cur, fresh = { 0 };
	struct archive_result res = { 0 };
	json_t *role_cfg, *k;
	const char *pass;
	size_t i;
	int r;

	if (!entries)
		return -ENOMEM;
	if (role < 0 || role >= _ARCHIVE_ROLE_MAX)
		return -EINVAL;
	r = changes_load(a, &changes, err, errsize);
	if (r < 0)
		return r;
	if (json_is_object(json_object_get(changes, "rotation"))) {
		snprintf(
			err, errsize,
			"the rotation of the %s keys is not finished: run 'tuxtape archive publish'",
			json_get_str(json_object_get(changes, "rotation"), "role"));
		return -EBUSY;
	}
	role_cfg = config_role(a, role);
	json_array_foreach (json_object_get(role_cfg, "keys"), i, k)
		if (json_get_str(k, "command")) {
			snprintf(
				err, errsize,
				"the %s keys include an external signing command; rotation makes keys "
				"on disk, so it is refused",
				archive_role_to_string(role));
			return -EOPNOTSUPP;
		}
	/* The old keys must work before anything changes; root signs every new root. */
	r = archive_signers(a, role, &cur, err, errsize);
	if (r < 0)
		return r;
	if (role != ARCHIVE_ROLE_KERNELS) {
		struct signer_set *root;

		r = archive_signers(a, ARCHIVE_ROLE_ROOT, &root, err, errsize);
		if (r < 0)
			return r;
	}
	if (role == ARCHIVE_ROLE_KERNELS || role == ARCHIVE_ROLE_TARGETS) {
		struct signer_set *t;

		r = archive_signers(a, ARCHIVE_ROLE_TARGETS, &t, err, errsize);
		if (r < 0)
			return r;
	}
	if (scheme < 0)
		scheme = tuf_key_scheme(tuf_signer_key(cur->v[0]));
	if (!tuf_scheme_to_string((enum tuf_scheme)scheme) ||
	    scheme == TUF_SCHEME_RSA_PKCS1V15_SHA256) {
		snprintf(err, errsize, "unsupported key scheme");
		return -EINVAL;
	}
	pass = archive_role_is_offline(role)
		       ? a->passphrase
		       : (json_is_true(json_object_get(a->config, "online_encrypted"))
				  ? a->online_passphrase
				  : NULL);
	r = generate_keys(archive_role_is_offline(role) ? a->offline_dir : a->online_dir, pass,
			  role, (enum tuf_scheme)scheme, (unsigned)cur->n, entries, &fresh, err,
			  errsize);
	if (r < 0) {
		signer_set_release(&fresh);
		return r;
	}
	old = json_deep_copy(json_object_get(role_cfg, "keys"));
	if (!old || json_object_set_new(changes, "rotation",
					json_pack("{s:s, s:O}", "role",
						  archive_role_to_string(role), "old", old)) < 0) {
		signer_set_release(&fresh);
		return -ENOMEM;
	}
	/* The rotation is recorded before archive.json names the new keys: an interrupted
	 * rotation is finished by the next publish, the old keys still signing. */
	r = changes_save(a, changes, err, errsize);
	if (r >= 0 && json_object_set(role_cfg, "keys", entries) < 0)
		r = -ENOMEM;
	if (r >= 0)
		r = save_json_state(a->config_path, a->config, err, errsize);
	if (r < 0) {
		signer_set_release(&fresh);
		return r;
	}
	c.extra[role] = *cur;
	a->signers[role] = fresh;
	r = publish_staged(a, changes, &c, &res, err, errsize);
	if (r < 0) {
		archive_result_release(&res);
		return r;
	}
	*ret = res;
	return 0;
}
