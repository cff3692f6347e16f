/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "archive-internal.h"
#include "build-config.h"
#include "channel.h"
#include "fileio.h"
#include "metadata.h"
#include "modinfo.h"
#include "parse-util.h"
#include "strbuf.h"
#include "utf8.h"

#define REASON_MAX 1024
#define DEFAULT_MIN_AGENT_VERSION "0.1.0"

/* ---- changes.json ---- */

static int check_changes(const json_t *c, const char *path, char err[], size_t errsize)
{
	const json_t *roles = json_object_get(c, "roles"), *garbage = json_object_get(c, "garbage");
	const json_t *rot = json_object_get(c, "rotation"), *v;
	size_t i;

	if (!json_is_array(roles) || !json_is_array(garbage))
		return parse_error(err, errsize,
				   "staged state '%s' is corrupt: no roles or garbage list", path);
	json_array_foreach (roles, i, v)
		if (!archive_release_is_valid(json_string_value(v)))
			return parse_error(err, errsize, "staged state '%s' is corrupt: roles[%zu]",
					   path, i);
	json_array_foreach (garbage, i, v) {
		const char *file = json_get_str(v, "file");
		int64_t ver;

		if (!file || strstr(file, "..") || file[0] == '/' ||
		    !archive_release_is_valid(json_get_str(v, "role")) ||
		    json_get_int(v, "version", &ver) < 0)
			return parse_error(err, errsize,
					   "staged state '%s' is corrupt: garbage[%zu]", path, i);
	}
	if (rot && !json_is_null(rot) &&
	    (archive_role_from_string(json_get_str(rot, "role")) < 0 ||
	     !json_is_array(json_object_get(rot, "old"))))
		return parse_error(err, errsize, "staged state '%s' is corrupt: rotation", path);
	return 0;
}

int changes_load(struct archive *a, json_t **ret, char err[], size_t errsize)
{
	json_t *c = NULL;
	int r;

	r = load_json_file(a->changes_path, ARCHIVE_STATE_MAX, &c, err, errsize);
	if (r == -ENOENT) {
		c = json_pack("{s:[], s:[], s:n}", "roles", "garbage", "rotation");
		if (!c)
			return -ENOMEM;
	} else if (r == -EBADMSG) {
		char e[512];

		snprintf(e, sizeof(e), "%s", err);
		return parse_error(err, errsize, "staged state is corrupt: %s", e);
	} else if (r < 0) {
		return r;
	}
	r = check_changes(c, a->changes_path, err, errsize);
	if (r < 0) {
		json_decref(c);
		return r;
	}
	*ret = c;
	return 0;
}

int changes_save(struct archive *a, json_t *changes, char err[], size_t errsize)
{
	return save_json_state(a->changes_path, changes, err, errsize);
}

static int changes_mark_role(json_t *changes, const char *name)
{
	json_t *roles = json_object_get(changes, "roles"), *v;
	size_t i;

	json_array_foreach (roles, i, v)
		if (streq(json_string_value(v), name))
			return 0;
	return json_array_append_new(roles, json_string(name)) < 0 ? -ENOMEM : 0;
}

/* ---- staged roles ---- */

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

int staged_role_names(struct archive *a, char ***ret, char err[], size_t errsize)
{
	_cleanup_strv_free_ char **names = NULL;
	struct dirent *de;
	DIR *d = opendir(a->roles_dir);
	int r = 0;

	if (!d) {
		r = -errno;
		snprintf(err, errsize, "cannot read '%s': %s", a->roles_dir, strerror(-r));
		return r;
	}
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		_cleanup_free_ char *name = NULL;

		if (n <= 5 || !streq(de->d_name + n - 5, ".json"))
			continue;
		name = strndup(de->d_name, n - 5);
		if (!name) {
			r = -ENOMEM;
			break;
		}
		if (!archive_release_is_valid(name))
			continue;
		r = strv_consume(&names, TAKE_PTR(name));
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	if (names)
		qsort(names, strv_length(names), sizeof(char *), cmp_str);
	*ret = TAKE_PTR(names);
	return 0;
}

static char *role_path(struct archive *a, const char *name)
{
	char *p = NULL;

	if (asprintf(&p, "%s/%s.json", a->roles_dir, name) < 0)
		return NULL;
	return p;
}

static int check_entry(const json_t *e)
{
	const json_t *custom = json_object_get(e, "custom");
	const char *sha = json_get_str(json_object_get(e, "hashes"), "sha256");
	int64_t len, pv;

	if (json_get_int(e, "length", &len) < 0 || len < 0 || !sha || !is_hex_string(sha, 64) ||
	    !json_is_object(custom) || !json_get_str(custom, "module_name") ||
	    json_get_int(custom, "patch_version", &pv) < 0 || pv < 1)
		return -EBADMSG;
	/* no channels: staged before channels existed, in CHANNEL_DEFAULT */
	if (json_object_get(custom, "channels") &&
	    channel_list_check(json_object_get(custom, "channels"), NULL, 0) < 0)
		return -EBADMSG;
	return 0;
}

int staged_role_load(struct archive *a, const char *name, json_t **ret, char err[],
		     size_t errsize)
{
	_cleanup_free_ char *path = role_path(a, name);
	_cleanup_(json_decrefp) json_t *role = NULL;
	const char *key;
	json_t *e;
	int r;

	if (!path)
		return -ENOMEM;
	r = load_json_file(path, ARCHIVE_STATE_MAX, &role, err, errsize);
	if (r == -EBADMSG) {
		char e2[512];

		snprintf(e2, sizeof(e2), "%s", err);
		return parse_error(err, errsize, "staged state is corrupt: %s", e2);
	}
	if (r < 0)
		return r;
	if (!streq(json_get_str(role, "name") ?: "", name) ||
	    !json_is_object(json_object_get(role, "targets")) ||
	    !json_is_object(json_object_get(role, "patch_versions")))
		return parse_error(err, errsize, "staged state '%s' is corrupt: not a role of '%s'",
				   path, name);
	json_object_foreach (json_object_get(role, "targets"), key, e) {
		size_t pl = strlen(name);

		if (strncmp(key, name, pl) != 0 || key[pl] != '/' || strchr(key + pl + 1, '/') ||
		    check_entry(e) < 0)
			return parse_error(err, errsize,
					   "staged state '%s' is corrupt: target '%s'", path, key);
	}
	*ret = TAKE_PTR(role);
	return 0;
}

static int staged_role_save(struct archive *a, json_t *role, char err[], size_t errsize)
{
	_cleanup_free_ char *path = role_path(a, json_get_str(role, "name"));

	if (!path)
		return -ENOMEM;
	return save_json_state(path, role, err, errsize);
}

/* Role and file name of a target path "R/name-V.ko"; -EINVAL when it is none. */
static int split_target(const char *path, char **ret_role, const char **ret_base)
{
	const char *slash = path ? strchr(path, '/') : NULL;
	char *role;

	if (!slash || strchr(slash + 1, '/') || !slash[1] || strlen(path) > 256)
		return -EINVAL;
	role = strndup(path, (size_t)(slash - path));
	if (!role)
		return -ENOMEM;
	if (!archive_release_is_valid(role)) {
		free(role);
		return -EINVAL;
	}
	*ret_role = role;
	*ret_base = slash + 1;
	return 0;
}

/* repository/targets/R/<sha256>.<base> of a staged entry. */
static char *target_file(struct archive *a, const char *path, const json_t *entry)
{
	const char *slash = strchr(path, '/');
	const char *sha = json_get_str(json_object_get(entry, "hashes"), "sha256");
	char *p = NULL;

	if (asprintf(&p, "%s/%.*s/%s.%s", a->targets_dir, (int)(slash - path), path, sha,
		     slash + 1) < 0)
		return NULL;
	return p;
}

static int64_t published_role_version(const struct published *p, const char *name)
{
	_cleanup_free_ char *key = NULL;
	int64_t v = 0;

	if (!p->snapshot || asprintf(&key, "%s.json", name) < 0)
		return 0;
	if (json_get_int(json_object_get(json_object_get(p->snapshot, "meta"), key), "version",
			 &v) < 0)
		return 0;
	return v;
}

/* ---- add ---- */

static bool all_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static bool valid_cve(const char *s)
{
	size_t n = s ? strlen(s) : 0, digits = 0;

	if (n < 13 || n > 24 || strncmp(s, "CVE-", 4) != 0 || !all_digits(s + 4, 4) || s[8] != '-')
		return false;
	for (const char *p = s + 9; *p; p++, digits++)
		if (*p < '0' || *p > '9')
			return false;
	return digits >= 4;
}

static bool valid_version(const char *s)
{
	bool digit = false;
	unsigned dots = 0;

	if (strempty(s) || strlen(s) > 32)
		return false;
	for (; *s; s++) {
		if (*s >= '0' && *s <= '9')
			digit = true;
		else if (*s == '.' && digit && dots < 3)
			digit = false, dots++;
		else
			return false;
	}
	return digit;
}

/* Names given with opt: each a channel name, none twice, at most CHANNELS_MAX. */
static int check_channel_names(char *const *names, const char *opt, char err[], size_t errsize)
{
	size_t n = strv_length(names);

	if (n > CHANNELS_MAX) {
		snprintf(err, errsize, "invalid %s: %zu channels, at most %d", opt, n,
			 CHANNELS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!channel_name_valid(names[i])) {
			snprintf(err, errsize, "invalid channel '%s' in %s (" CHANNEL_NAME_RULE ")",
				 names[i], opt);
			return -EINVAL;
		}
		for (size_t j = 0; j < i; j++)
			if (streq(names[j], names[i])) {
				snprintf(err, errsize, "invalid %s: channel '%s' given twice", opt,
					 names[i]);
				return -EINVAL;
			}
	}
	return 0;
}

/* A new reference to the target's channel list; { CHANNEL_DEFAULT } when it has none. */
static json_t *entry_channels(const json_t *custom)
{
	json_t *v = json_object_get(custom, "channels");

	return v ? json_deep_copy(v) : json_pack("[s]", CHANNEL_DEFAULT);
}

static int check_add_options(const struct archive_add_options *o, size_t n_modules, char err[],
			     size_t errsize)
{
	int r;

	if (o->kernel_release && !archive_release_is_valid(o->kernel_release)) {
		snprintf(err, errsize,
			 "invalid kernel release '%s' (letters, digits and '._~-', at most 64)",
			 o->kernel_release);
		return -EINVAL;
	}
	if (o->build_id) {
		size_t n = strlen(o->build_id);

		if (n < 2 || n > 128 || n % 2 || !is_hex_string(o->build_id, n)) {
			snprintf(err, errsize, "invalid build id '%s' (2 to 128 hex digits)",
				 o->build_id);
			return -EINVAL;
		}
	}
	for (size_t i = 0; o->cves && o->cves[i]; i++)
		if (!valid_cve(o->cves[i])) {
			snprintf(err, errsize, "invalid CVE id '%s' (CVE-YYYY-NNNN)", o->cves[i]);
			return -EINVAL;
		}
	if (o->min_agent_version && !valid_version(o->min_agent_version)) {
		snprintf(err, errsize, "invalid agent version '%s' (like 0.1.0)",
			 o->min_agent_version);
		return -EINVAL;
	}
	if (o->replaces && n_modules > 1) {
		snprintf(err, errsize,
			 "--replaces names the target one module replaces: give one module");
		return -EINVAL;
	}
	r = check_channel_names(o->channels, "--channel", err, errsize);
	if (r < 0)
		return r;
	return 0;
}

struct staged_file {
	char *path;
	char *data;
	size_t len;
};

struct add_ctx {
	json_t *roles; /* name -> role state, loaded on demand */
	struct staged_file *files;
	size_t n_files;
	json_t *entries;
};

static void add_ctx_release(struct add_ctx *c)
{
	json_decref(c->roles);
	json_decref(c->entries);
	for (size_t i = 0; i < c->n_files; i++) {
		free(c->files[i].path);
		free(c->files[i].data);
	}
	free(c->files);
}

static int role_get(struct archive *a, struct add_ctx *c, const char *name, json_t **ret,
		    char err[], size_t errsize)
{
	json_t *role = json_object_get(c->roles, name);
	int r;

	if (!role) {
		r = staged_role_load(a, name, &role, err, errsize);
		if (r == -ENOENT)
			role = json_pack("{s:s, s:{}, s:{}}", "name", name, "targets",
					 "patch_versions");
		else if (r < 0)
			return r;
		if (!role || json_object_set_new(c->roles, name, role) < 0)
			return -ENOMEM;
	}
	*ret = role;
	return 0;
}

/*
 * The newest non-revoked entry of the role (by patch_version), or NULL: the
 * cumulative module a new one replaces, whatever its module name.
 */
static const char *newest_entry(const json_t *role)
{
	const char *key, *best = NULL;
	int64_t best_v = 0;
	json_t *e;

	json_object_foreach (json_object_get(role, "targets"), key, e) {
		const json_t *custom = json_object_get(e, "custom");
		int64_t v;

		if (json_is_true(json_object_get(custom, "revoked")) ||
		    json_get_int(custom, "patch_version", &v) < 0)
			continue;
		if (v > best_v) {
			best_v = v;
			best = key;
		}
	}
	return best;
}

static int add_one(struct archive *a, struct add_ctx *c, const char *module,
		   const struct archive_add_options *o, char err[], size_t errsize)
{
	_cleanup_free_ char *data = NULL, *path = NULL, *file = NULL;
	_cleanup_(modinfo_release) struct modinfo mi = { 0 };
	const char *release, *key, *replaces;
	json_t *role, *targets, *e, *custom, *cves, *channels, *entry;
	char sha[65], created[21], e2[256] = "";
	int64_t pv = 0, v;
	size_t len;
	int r;

	r = read_file_bounded(module, ARCHIVE_MODULE_MAX, &data, &len);
	if (r < 0) {
		snprintf(err, errsize, "cannot read module '%s': %s", module,
			 r == -EFBIG ? "larger than 256 MiB" : strerror(-r));
		return r;
	}
	r = modinfo_parse(data, len, &mi, e2, sizeof(e2));
	if (r == -EBADMSG)
		return parse_error(err, errsize, "'%s' is not a kernel module: %s", module, e2);
	if (r < 0)
		return r;
	if (!mi.livepatch)
		return parse_error(
			err, errsize,
			"'%s' (module %s) is not a livepatch: no livepatch=Y in .modinfo", module,
			mi.name);
	if (o->kernel_release && mi.release && !streq(o->kernel_release, mi.release)) {
		snprintf(err, errsize, "'%s' is built for kernel '%s' (vermagic), not '%s'", module,
			 mi.release, o->kernel_release);
		return -EXDEV;
	}
	release = o->kernel_release ?: mi.release;
	if (!release)
		return parse_error(err, errsize,
				   "'%s' has no vermagic: give its kernel with --kernel-release",
				   module);
	if (!archive_release_is_valid(release)) {
		snprintf(
			err, errsize,
			"'%s': kernel release '%s' cannot name a role (letters, digits and '._~-', at "
			"most 64)",
			module, release);
		return -EINVAL;
	}
	r = role_get(a, c, release, &role, err, errsize);
	if (r < 0)
		return r;
	r = sha256_hex(data, len, sha);
	if (r < 0)
		return r;
	targets = json_object_get(role, "targets");
	json_object_foreach (targets, key, e) {
		const char *other = json_get_str(json_object_get(e, "hashes"), "sha256");

		if (other && streq(other, sha)) {
			snprintf(err, errsize, "'%s' is already in the archive as '%s'", module,
				 key);
			return -EEXIST;
		}
		/* patch versions grow per kernel release, across module names */
		if (json_get_int(json_object_get(e, "custom"), "patch_version", &v) >= 0 && v > pv)
			pv = v;
	}
	{
		/* removed entries keep their numbers used */
		const char *name;
		json_t *jv;

		json_object_foreach (json_object_get(role, "patch_versions"), name, jv)
			if (json_is_integer(jv) && json_integer_value(jv) > pv)
				pv = json_integer_value(jv);
	}
	pv++;
	if (o->replaces) {
		if (!json_object_get(targets, o->replaces)) {
			snprintf(err, errsize, "--replaces '%s': no such target in role '%s'",
				 o->replaces, release);
			return -ENOENT;
		}
		replaces = o->replaces;
	} else {
		replaces = newest_entry(role);
	}
	if (asprintf(&path, "%s/%s-%lld.ko", release, mi.name, (long long)pv) < 0)
		return -ENOMEM;
	r = format_expires(archive_now(a), created);
	if (r < 0)
		return r;
	cves = json_array();
	for (size_t i = 0; cves && o->cves && o->cves[i]; i++)
		if (json_array_append_new(cves, json_string(o->cves[i])) < 0)
			return json_decref(cves), -ENOMEM;
	channels = json_array();
	for (size_t i = 0; channels && o->channels && o->channels[i]; i++)
		if (json_array_append_new(channels, json_string(o->channels[i])) < 0)
			return json_decref(cves), json_decref(channels), -ENOMEM;
	if (channels && json_array_size(channels) == 0 &&
	    json_array_append_new(channels, json_string(CHANNEL_DEFAULT)) < 0)
		return json_decref(cves), json_decref(channels), -ENOMEM;
	custom = json_pack(
		"{s:s, s:o, s:s, s:I, s:o, s:o, s:b, s:s, s:o, s:s, s:b, s:n}", "kernel_release",
		release, "build_id", o->build_id ? json_string(o->build_id) : json_null(),
		"module_name", mi.name, "patch_version", (json_int_t)pv, "cves", cves, "replaces",
		replaces ? json_string(replaces) : json_null(), "replace", !o->no_replace,
		"min_agent_version", o->min_agent_version ?: DEFAULT_MIN_AGENT_VERSION, "channels",
		channels, "created", created, "revoked", 0, "revoked_reason");
	if (!custom)
		return -ENOMEM;
	entry = json_pack("{s:I, s:{s:s}, s:o}", "length", (json_int_t)len, "hashes", "sha256", sha,
			  "custom", custom);
	if (!entry || json_object_set_new(targets, path, entry) < 0)
		return -ENOMEM;
	if (json_object_set_new(json_object_get(role, "patch_versions"), mi.name,
				json_integer(pv)) < 0)
		return -ENOMEM;
	file = target_file(a, path, entry);
	if (!file)
		return -ENOMEM;
	{
		struct staged_file *f = realloc(c->files, (c->n_files + 1) * sizeof(*f));

		if (!f)
			return -ENOMEM;
		c->files = f;
		c->files[c->n_files++] =
			(struct staged_file){ TAKE_PTR(file), TAKE_PTR(data), len };
	}
	if (json_array_append_new(c->entries, json_pack("{s:s, s:s, s:I, s:s, s:O}", "path", path,
							"role", release, "length", (json_int_t)len,
							"sha256", sha, "custom", custom)) < 0)
		return -ENOMEM;
	return 0;
}

int archive_add(struct archive *a, char *const *modules, size_t n_modules,
		const struct archive_add_options *o, json_t **ret_entries, char err[],
		size_t errsize)
{
	_cleanup_(add_ctx_release) struct add_ctx c = { .roles = json_object(),
							.entries = json_array() };
	_cleanup_(json_decrefp) json_t *changes = NULL;
	const char *name;
	json_t *role;
	int r;

	if (!c.roles || !c.entries)
		return -ENOMEM;
	r = check_add_options(o, n_modules, err, errsize);
	if (r < 0)
		return r;
	r = changes_load(a, &changes, err, errsize);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_modules; i++) {
		r = add_one(a, &c, modules[i], o, err, errsize);
		if (r < 0)
			return r;
	}
	/* Files first (unreferenced until the role lists them), then the change mark, then the
	 * roles: a crash in between at worst republishes an unchanged role. */
	for (size_t i = 0; i < c.n_files; i++) {
		_cleanup_free_ char *dir = strdup(c.files[i].path);

		if (!dir)
			return -ENOMEM;
		*strrchr(dir, '/') = '\0';
		r = mkdir_p(dir, 0755);
		if (r < 0) {
			snprintf(err, errsize, "cannot create '%s': %s", dir, strerror(-r));
			return r;
		}
		r = repo_write(c.files[i].path, c.files[i].data, c.files[i].len, 0644, false, err,
			       errsize);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < c.n_files; i++) {
		_cleanup_free_ char *dir = strdup(c.files[i].path);

		if (!dir)
			return -ENOMEM;
		*strrchr(dir, '/') = '\0';
		r = sync_path(c.files[i].path);
		/* each directory once after its last file of a run */
		if (r >= 0 &&
		    (i + 1 == c.n_files || strncmp(c.files[i + 1].path, dir, strlen(dir)) != 0 ||
		     c.files[i + 1].path[strlen(dir)] != '/' ||
		     strchr(c.files[i + 1].path + strlen(dir) + 1, '/')))
			r = sync_path(dir);
		if (r < 0) {
			snprintf(err, errsize, "cannot sync '%s': %s", c.files[i].path,
				 strerror(-r));
			return r;
		}
	}
	json_object_foreach (c.roles, name, role) {
		r = changes_mark_role(changes, name);
		if (r < 0)
			return r;
	}
	r = changes_save(a, changes, err, errsize);
	if (r < 0)
		return r;
	json_object_foreach (c.roles, name, role) {
		r = staged_role_save(a, role, err, errsize);
		if (r < 0)
			return r;
	}
	if (ret_entries)
		*ret_entries = TAKE_PTR(c.entries);
	return 0;
}


/* Records role (one entry of it edited in place) as changed, then saves it. */
static int stage_edited_role(struct archive *a, json_t *role, char err[], size_t errsize)
{
	_cleanup_(json_decrefp) json_t *changes = NULL;
	int r;

	r = changes_load(a, &changes, err, errsize);
	if (r < 0)
		return r;
	r = changes_mark_role(changes, json_get_str(role, "name"));
	if (r < 0)
		return r;
	r = changes_save(a, changes, err, errsize);
	if (r < 0)
		return r;
	return staged_role_save(a, role, err, errsize);
}

/* ---- remove, revoke ---- */

static int find_staged(struct archive *a, const char *path, json_t **ret_role, char err[],
		       size_t errsize)
{
	_cleanup_free_ char *name = NULL;
	const char *base;
	json_t *role = NULL;
	int r;

	r = split_target(path, &name, &base);
	if (r == -EINVAL) {
		snprintf(err, errsize, "'%s' is not a target path (RELEASE/MODULE-N.ko)", path);
		return -ENOENT;
	}
	if (r < 0)
		return r;
	r = staged_role_load(a, name, &role, err, errsize);
	if (r == -ENOENT)
		snprintf(err, errsize, "no target '%s' is staged (no role '%s')", path, name);
	if (r < 0)
		return r;
	if (!json_object_get(json_object_get(role, "targets"), path)) {
		json_decref(role);
		snprintf(err, errsize, "no target '%s' is staged", path);
		return -ENOENT;
	}
	*ret_role = role;
	return 0;
}

int archive_remove(struct archive *a, const char *path, char err[], size_t errsize)
{
	_cleanup_(json_decrefp) json_t *role = NULL, *changes = NULL;
	_cleanup_(published_release) struct published p = { 0 };
	json_t *entry, *g;
	char *file;
	int r;

	r = find_staged(a, path, &role, err, errsize);
	if (r < 0)
		return r;
	r = changes_load(a, &changes, err, errsize);
	if (r < 0)
		return r;
	r = published_load(a, &p, err, errsize);
	if (r < 0)
		return r;
	entry = json_object_get(json_object_get(role, "targets"), path);
	file = target_file(a, path, entry);
	if (!file)
		return -ENOMEM;
	g = json_pack("{s:s, s:s, s:I}", "file", file + strlen(a->targets_dir) + 1, "role",
		      json_get_str(role, "name"), "version",
		      (json_int_t)published_role_version(&p, json_get_str(role, "name")));
	free(file);
	if (!g || json_array_append_new(json_object_get(changes, "garbage"), g) < 0)
		return -ENOMEM;
	r = changes_mark_role(changes, json_get_str(role, "name"));
	if (r < 0)
		return r;
	if (json_object_del(json_object_get(role, "targets"), path) < 0)
		return -ENOENT;
	r = changes_save(a, changes, err, errsize);
	if (r < 0)
		return r;
	return staged_role_save(a, role, err, errsize);
}

int archive_revoke(struct archive *a, const char *path, const char *reason, char err[],
		   size_t errsize)
{
	_cleanup_(json_decrefp) json_t *role = NULL;
	json_t *custom, *jr;
	int r;

	if (strempty(reason) || strlen(reason) > REASON_MAX ||
	    !utf8_is_valid(reason, strlen(reason))) {
		snprintf(err, errsize, "a revocation needs a reason (UTF-8, 1 to %d bytes)",
			 REASON_MAX);
		return -EINVAL;
	}
	for (const char *s = reason; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f) {
			snprintf(err, errsize, "the reason holds a control character");
			return -EINVAL;
		}
	r = find_staged(a, path, &role, err, errsize);
	if (r < 0)
		return r;
	custom = json_object_get(json_object_get(json_object_get(role, "targets"), path), "custom");
	if (json_is_true(json_object_get(custom, "revoked"))) {
		snprintf(err, errsize, "'%s' is already revoked (%s)", path,
			 json_get_str(custom, "revoked_reason") ?: "no reason");
		return -EALREADY;
	}
	jr = json_string(reason);
	if (!jr || json_object_set_new(custom, "revoked", json_true()) < 0 ||
	    json_object_set_new(custom, "revoked_reason", jr) < 0)
		return -ENOMEM;
	return stage_edited_role(a, role, err, errsize);
}

/* ---- channels ---- */

int archive_promote(struct archive *a, const char *path, char *const *add, char *const *drop,
		    bool *ret_changed, json_t **ret_channels, char err[], size_t errsize)
{
	_cleanup_(json_decrefp) json_t *role = NULL, *list = NULL;
	json_t *custom;
	bool changed = false;
	size_t i;
	int r;

	if (strv_length(add) == 0 && strv_length(drop) == 0) {
		snprintf(err, errsize, "invalid request: no channel to add or remove");
		return -EINVAL;
	}
	r = check_channel_names(add, "--channel", err, errsize);
	if (r >= 0)
		r = check_channel_names(drop, "--remove-channel", err, errsize);
	if (r < 0)
		return r;
	for (i = 0; add && add[i]; i++)
		if (strv_contains(drop, add[i])) {
			snprintf(err, errsize,
				 "invalid request: channel '%s' both added and removed", add[i]);
			return -EINVAL;
		}
	r = find_staged(a, path, &role, err, errsize);
	if (r < 0)
		return r;
	custom = json_object_get(json_object_get(json_object_get(role, "targets"), path), "custom");
	if (json_is_true(json_object_get(custom, "revoked"))) {
		snprintf(err, errsize, "'%s' is revoked (%s): its channels stay as they are", path,
			 json_get_str(custom, "revoked_reason") ?: "no reason");
		return -EPERM;
	}
	list = entry_channels(custom);
	if (!list)
		return -ENOMEM;
	for (i = 0; add && add[i]; i++)
		if (!channel_list_has(list, add[i])) {
			if (json_array_append_new(list, json_string(add[i])) < 0)
				return -ENOMEM;
			changed = true;
		}
	for (i = 0; drop && drop[i]; i++)
		for (size_t j = 0; j < json_array_size(list); j++)
			if (streq(json_string_value(json_array_get(list, j)), drop[i])) {
				json_array_remove(list, j);
				changed = true;
				break;
			}
	if (json_array_size(list) == 0) {
		snprintf(err, errsize,
			 "'%s' would be in no channel: to withdraw it use 'archive revoke' or "
			 "'archive remove'",
			 path);
		return -EINVAL;
	}
	if (json_array_size(list) > CHANNELS_MAX) {
		snprintf(err, errsize, "'%s' would be in %zu channels, at most %d", path,
			 json_array_size(list), CHANNELS_MAX);
		return -EINVAL;
	}
	if (changed) {
		if (json_object_set(custom, "channels", list) < 0)
			return -ENOMEM;
		r = stage_edited_role(a, role, err, errsize);
		if (r < 0)
			return r;
	}
	if (ret_changed)
		*ret_changed = changed;
	if (ret_channels)
		*ret_channels = TAKE_PTR(list);
	return 0;
}

/* ---- list ---- */

int archive_list(struct archive *a, const char *release, json_t **ret, char err[],
		 size_t errsize)
{
	_cleanup_(json_decrefp) json_t *out = json_array();
	_cleanup_(published_release) struct published p = { 0 };
	_cleanup_strv_free_ char **names = NULL;
	int r;

	if (!out)
		return -ENOMEM;
	r = published_load(a, &p, err, errsize);
	if (r < 0)
		return r;
	if (release) {
		if (!archive_release_is_valid(release)) {
			snprintf(err, errsize, "invalid kernel release '%s'", release);
			return -EINVAL;
		}
		r = strv_push(&names, release);
	} else {
		r = staged_role_names(a, &names, err, errsize);
	}
	if (r < 0)
		return r;
	for (size_t i = 0; names && names[i]; i++) {
		_cleanup_(json_decrefp) json_t *role = NULL, *pub = NULL;
		_cleanup_free_ const char **keys = NULL;
		json_t *targets, *e, *pub_targets;
		const char *key;
		size_t n = 0;

		r = staged_role_load(a, names[i], &role, err, errsize);
		if (r == -ENOENT && release) {
			snprintf(err, errsize, "no kernel role '%s' in the archive", release);
			return r;
		}
		if (r < 0)
			return r;
		if (published_role_version(&p, names[i]) > 0) {
			r = published_role(a, &p, names[i], &pub, err, errsize);
			if (r < 0)
				return r;
		}
		pub_targets = json_object_get(pub, "targets");
		targets = json_object_get(role, "targets");
		keys = calloc(json_object_size(targets) + 1, sizeof(*keys));
		if (!keys)
			return -ENOMEM;
		json_object_foreach (targets, key, e)
			keys[n++] = key;
		qsort(keys, n, sizeof(*keys), cmp_str);
		for (size_t j = 0; j < n; j++) {
			json_t *o;

			e = json_object_get(targets, keys[j]);
			o = json_pack("{s:s, s:s, s:O, s:O, s:O, s:b}", "path", keys[j], "role",
				      names[i], "length", json_object_get(e, "length"), "sha256",
				      json_object_get(json_object_get(e, "hashes"), "sha256"),
				      "custom", json_object_get(e, "custom"), "published",
				      json_equal(e, json_object_get(pub_targets, keys[j])));
			if (!o || json_array_append_new(out, o) < 0)
				return -ENOMEM;
		}
	}
	*ret = TAKE_PTR(out);
	return 0;
}

/* ---- pruning of target files ---- */

unsigned prune_targets(struct archive *a, json_t *changes, const struct published *p)
{
	json_t *garbage = json_object_get(changes, "garbage");
	unsigned keep = config_keep(a), n = 0;
	size_t i = 0;

	while (i < json_array_size(garbage)) {
		json_t *g = json_array_get(garbage, i);
		const char *role = json_get_str(g, "role");
		int64_t v = 0, cur = published_role_version(p, role);
		_cleanup_free_ char *path = NULL;

		(void)json_get_int(g, "version", &v);
		/* The file is listed up to version v; kept metadata goes back to cur - keep + 1. */
		if (v > cur - (int64_t)keep) {
			i++;
			continue;
		}
		path = path_join(a->targets_dir, json_get_str(g, "file"));
		if (path && (unlink(path) == 0 || errno == ENOENT)) {
			n++;
			json_array_remove(garbage, i);
		} else {
			i++;
		}
	}
	return n;
}
