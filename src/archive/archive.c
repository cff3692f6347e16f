/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "archive-internal.h"
#include "fileio.h"
#include "lock.h"
#include "metadata.h"
#include "parse-util.h"
#include "strbuf.h"

static const char *const role_names[_ARCHIVE_ROLE_MAX] = {
	[ARCHIVE_ROLE_ROOT] = "root",
	[ARCHIVE_ROLE_TARGETS] = "targets",
	[ARCHIVE_ROLE_SNAPSHOT] = "snapshot",
	[ARCHIVE_ROLE_TIMESTAMP] = "timestamp",
	[ARCHIVE_ROLE_KERNELS] = "kernels",
};

const char *archive_role_to_string(enum archive_role r)
{
	return r >= 0 && r < _ARCHIVE_ROLE_MAX ? role_names[r] : NULL;
}

enum archive_role archive_role_from_string(const char *s)
{
	for (int i = 0; s && i < _ARCHIVE_ROLE_MAX; i++)
		if (streq(s, role_names[i]))
			return (enum archive_role)i;
	return _ARCHIVE_ROLE_INVALID;
}

bool archive_role_is_offline(enum archive_role r)
{
	return r == ARCHIVE_ROLE_ROOT || r == ARCHIVE_ROLE_TARGETS;
}

int64_t archive_default_expiry(enum archive_role r)
{
	static const int64_t days[_ARCHIVE_ROLE_MAX] = {
		[ARCHIVE_ROLE_ROOT] = 365,    [ARCHIVE_ROLE_TARGETS] = 90,
		[ARCHIVE_ROLE_SNAPSHOT] = 7,  [ARCHIVE_ROLE_TIMESTAMP] = 1,
		[ARCHIVE_ROLE_KERNELS] = 30,
	};

	return r >= 0 && r < _ARCHIVE_ROLE_MAX ? days[r] * 86400 : 0;
}

void signer_set_release(struct signer_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		tuf_signer_free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int signer_set_push(struct signer_set *s, struct tuf_signer *signer)
{
	struct tuf_signer **v = realloc(s->v, (s->n + 1) * sizeof(*v));

	if (!v) {
		tuf_signer_free(signer);
		return -ENOMEM;
	}
	s->v = v;
	s->v[s->n++] = signer;
	return 0;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

struct archive *archive_free(struct archive *a)
{
	if (!a)
		return NULL;
	for (int i = 0; i < _ARCHIVE_ROLE_MAX; i++)
		signer_set_release(&a->signers[i]);
	json_decref(a->config);
	free_secret(a->passphrase);
	free_secret(a->online_passphrase);
	closep(&a->lock_fd);
	free(a->dir);
	free(a->repo_dir);
	free(a->meta_dir);
	free(a->targets_dir);
	free(a->staged_dir);
	free(a->roles_dir);
	free(a->changes_path);
	free(a->config_path);
	free(a->online_dir);
	free(a->offline_dir);
	free(a);
	return NULL;
}

static struct archive *archive_alloc(const char *dir)
{
	struct archive *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->lock_fd = -1;
	a->dir = strdup(dir);
	a->repo_dir = path_join(dir, "repository");
	a->meta_dir = path_join(dir, "repository/metadata");
	a->targets_dir = path_join(dir, "repository/targets");
	a->staged_dir = path_join(dir, "staged");
	a->roles_dir = path_join(dir, "staged/roles");
	a->changes_path = path_join(dir, "staged/changes.json");
	a->config_path = path_join(dir, "archive.json");
	a->online_dir = path_join(dir, "keys/online");
	if (!a->dir || !a->repo_dir || !a->meta_dir || !a->targets_dir || !a->staged_dir ||
	    !a->roles_dir || !a->changes_path || !a->config_path || !a->online_dir)
		return archive_free(a);
	return a;
}

int archive_set_passphrases(struct archive *a, const char *offline, const char *online)
{
	free_secret(a->passphrase);
	free_secret(a->online_passphrase);
	a->passphrase = offline ? strdup(offline) : NULL;
	a->online_passphrase = online ? strdup(online) : NULL;
	if ((offline && !a->passphrase) || (online && !a->online_passphrase))
		return -ENOMEM;
	return 0;
}

int archive_set_offline_dir(struct archive *a, const char *dir)
{
	char *d = strdup(dir);

	if (!d)
		return -ENOMEM;
	free(a->offline_dir);
	a->offline_dir = d;
	return 0;
}

void archive_set_now(struct archive *a, int64_t now)
{
	a->now = now;
}

int64_t archive_now(const struct archive *a)
{
	return a->now ? a->now : (int64_t)time(NULL);
}

const char *archive_dir(const struct archive *a)
{
	return a->dir;
}

const char *archive_repository_dir(const struct archive *a)
{
	return a->repo_dir;
}

json_t *config_role(const struct archive *a, enum archive_role role)
{
	return json_object_get(json_object_get(a->config, "roles"), archive_role_to_string(role));
}

int64_t config_expiry(const struct archive *a, enum archive_role role)
{
	json_int_t v = json_integer_value(json_object_get(json_object_get(a->config, "expiry"),
							  archive_role_to_string(role)));

	return v > 0 ? (int64_t)v : archive_default_expiry(role);
}

unsigned config_keep(const struct archive *a)
{
	json_int_t v = json_integer_value(json_object_get(a->config, "keep"));

	return v > 0 && v < 1000000 ? (unsigned)v : ARCHIVE_DEFAULT_KEEP;
}

/* archive.json is ours, but a hand edit must not crash us: check what we use. */
static int check_config(const json_t *c, const char *path, char err[], size_t errsize)
{
	const json_t *roles = json_object_get(c, "roles");
	int64_t format;

	if (json_get_int(c, "format", &format) < 0 || format != ARCHIVE_FORMAT)
		return parse_error(err, errsize, "'%s': unknown format (want %d)", path,
				   ARCHIVE_FORMAT);
	for (int i = 0; i < _ARCHIVE_ROLE_MAX; i++) {
		const json_t *r = json_object_get(roles, role_names[i]), *keys, *k;
		int64_t t;
		size_t j;

		keys = json_object_get(r, "keys");
		if (!json_is_array(keys) || json_array_size(keys) == 0 ||
		    json_array_size(keys) > ARCHIVE_MAX_KEYS ||
		    json_get_int(r, "threshold", &t) < 0 || t < 1 ||
		    (size_t)t > json_array_size(keys))
			return parse_error(err, errsize, "'%s': roles.%s: bad keys or threshold",
					   path, role_names[i]);
		json_array_foreach (keys, j, k)
			if (!json_get_str(k, "keyid") ||
			    !json_is_object(json_object_get(k, "public")) ||
			    (!json_get_str(k, "file") && !json_get_str(k, "command")))
				return parse_error(err, errsize,
						   "'%s': roles.%s.keys[%zu] is malformed", path,
						   role_names[i], j);
	}
	return 0;
}

int archive_open(const char *dir, enum archive_open_flags flags, struct archive **ret,
		 char err[], size_t errsize)
{
	_cleanup_(archive_freep) struct archive *a = archive_alloc(dir);
	_cleanup_free_ char *lock_path = NULL;
	const char *off;
	int r;

	if (!a)
		return -ENOMEM;
	if (access(a->config_path, F_OK) < 0) {
		r = -errno;
		if (r == -ENOENT)
			snprintf(err, errsize,
				 "'%s' is not an archive (no archive.json; see 'tuxtape "
				 "archive init')",
				 dir);
		else
			snprintf(err, errsize, "cannot access '%s': %s", a->config_path,
				 strerror(-r));
		return r;
	}
	if (flags & ARCHIVE_OPEN_LOCK) {
		lock_path = path_join(dir, "lock");
		if (!lock_path)
			return -ENOMEM;
		a->lock_fd = lock_file_acquire(lock_path, 0);
		if (a->lock_fd < 0) {
			r = a->lock_fd;
			if (r == -EWOULDBLOCK)
				snprintf(err, errsize, "archive '%s' is locked by another process",
					 dir);
			else
				snprintf(err, errsize, "cannot lock '%s': %s", lock_path,
					 strerror(-r));
			return r;
		}
	}
	r = load_json_file(a->config_path, ARCHIVE_CONFIG_MAX, &a->config, err, errsize);
	if (r < 0)
		return r;
	r = check_config(a->config, a->config_path, err, errsize);
	if (r < 0)
		return r;
	off = json_get_str(a->config, "offline_dir");
	if (strempty(off))
		return parse_error(err, errsize, "'%s': no offline_dir", a->config_path);
	a->offline_dir = off[0] == '/' ? strdup(off) : path_join(dir, off);
	if (!a->offline_dir)
		return -ENOMEM;
	*ret = TAKE_PTR(a);
	return 0;
}

static const char *role_passphrase(const struct archive *a, enum archive_role role)
{
	if (archive_role_is_offline(role))
		return a->passphrase;
	return json_is_true(json_object_get(a->config, "online_encrypted")) ? a->online_passphrase
									      : NULL;
}

static bool role_needs_passphrase(const struct archive *a, enum archive_role role)
{
	return archive_role_is_offline(role) ||
	       json_is_true(json_object_get(a->config, "online_encrypted"));
}

int load_key_entries(struct archive *a, enum archive_role role, const json_t *keys,
		     struct signer_set *out, char err[], size_t errsize)
{
	const char *name = archive_role_to_string(role);
	const json_t *k;
	size_t i;
	int r;

	json_array_foreach (keys, i, k) {
		const char *keyid = json_get_str(k, "keyid"), *file = json_get_str(k, "file");
		const char *command = json_get_str(k, "command");
		_cleanup_(tuf_signer_freep) struct tuf_signer *s = NULL;
		char e[512] = "";

		if (!keyid)
			return parse_error(err, errsize, "'%s': roles.%s.keys[%zu] has no keyid",
					   a->config_path, name, i);
		if (command) {
			r = tuf_signer_new_command(command, json_object_get(k, "public"), &s, e,
						   sizeof(e));
			if (r < 0) {
				snprintf(err, errsize,
					 "cannot use the signing command of the %s key %.16s: %s",
					 name, keyid, e);
				return r;
			}
		} else {
			_cleanup_free_ char *path = NULL;

			if (!file || strchr(file, '/'))
				return parse_error(err, errsize,
						   "'%s': roles.%s.keys[%zu]: bad file name",
						   a->config_path, name, i);
			path = path_join(archive_role_is_offline(role) ? a->offline_dir
								       : a->online_dir,
					 file);
			if (!path)
				return -ENOMEM;
			if (role_needs_passphrase(a, role) && !role_passphrase(a, role)) {
				snprintf(
					err, errsize,
					"the %s key '%s' is encrypted: give the %s passphrase (%s)",
					name, path,
					archive_role_is_offline(role) ? "offline" : "online",
					archive_role_is_offline(role)
						? "--passphrase-file or TUXTAPE_ARCHIVE_PASSPHRASE"
						: "--online-passphrase-file or "
						  "TUXTAPE_ARCHIVE_ONLINE_PASSPHRASE");
				return -ENOKEY;
			}
			r = tuf_signer_load_pem(path, role_passphrase(a, role), &s, e, sizeof(e));
			if (r == -ENOENT) {
				snprintf(
					err, errsize, "the %s key '%s' is missing%s", name, path,
					archive_role_is_offline(role)
						? " (is the offline medium mounted? see --offline-dir)"
						: "");
				return r;
			}
			if (r == -EKEYREJECTED) {
				snprintf(err, errsize,
					 "cannot load the %s key '%s': wrong passphrase? (%s)",
					 name, path, e);
				return r;
			}
			if (r < 0) {
				snprintf(err, errsize, "cannot load the %s key '%s': %s", name,
					 path, e);
				return r;
			}
		}
		if (!streq(tuf_key_id(tuf_signer_key(s)), keyid)) {
			snprintf(err, errsize,
				 "the %s key %s is not the key %.16s archive.json names", name,
				 command ? "command" : file, keyid);
			return -EKEYREJECTED;
		}
		r = signer_set_push(out, TAKE_PTR(s));
		if (r < 0)
			return r;
	}
	return 0;
}

int archive_signers(struct archive *a, enum archive_role role, struct signer_set **ret,
		    char err[], size_t errsize)
{
	int r;

	if (!a->loaded[role]) {
		struct signer_set s = { 0 };

		r = load_key_entries(a, role, json_object_get(config_role(a, role), "keys"), &s,
				     err, errsize);
		if (r < 0) {
			signer_set_release(&s);
			return r;
		}
		a->signers[role] = s;
		a->loaded[role] = true;
	}
	*ret = &a->signers[role];
	return 0;
}

static json_t *key_entry(const struct tuf_key *k, const char *file, const char *command)
{
	json_t *e = json_pack("{s:s, s:o}", "keyid", tuf_key_id(k), "public", tuf_key_to_json(k));

	if (e && json_object_set_new(e, file ? "file" : "command",
				     json_string(file ? file : command)) < 0)
		return json_decref(e), NULL;
	return e;
}

int generate_keys(const char *dir, const char *passphrase, enum archive_role role,
		  enum tuf_scheme scheme, unsigned n, json_t *entries, struct signer_set *out,
		  char err[], size_t errsize)
{
	int r;

	for (unsigned i = 0; i < n; i++) {
		_cleanup_(tuf_signer_freep) struct tuf_signer *s = NULL;
		_cleanup_free_ char *file = NULL, *path = NULL;
		char e[512] = "";
		json_t *entry;

		r = tuf_signer_generate(scheme, &s);
		if (r < 0) {
			snprintf(err, errsize, "cannot generate a %s key: %s",
				 tuf_scheme_to_string(scheme) ?: "?", strerror(-r));
			return r;
		}
		if (asprintf(&file, "%s-%.16s.pem", archive_role_to_string(role),
			     tuf_key_id(tuf_signer_key(s))) < 0)
			return -ENOMEM;
		path = path_join(dir, file);
		if (!path)
			return -ENOMEM;
		r = tuf_signer_save_pem(s, path, passphrase, e, sizeof(e));
		if (r < 0) {
			snprintf(err, errsize, "cannot save the %s key '%s': %s",
				 archive_role_to_string(role), path, e);
			return r;
		}
		entry = key_entry(tuf_signer_key(s), file, NULL);
		if (!entry || json_array_append_new(entries, entry) < 0)
			return -ENOMEM;
		r = signer_set_push(out, TAKE_PTR(s));
		if (r < 0)
			return r;
	}
	return 0;
}

static int expires_string(const struct archive *a, enum archive_role role, json_t **ret)
{
	char buf[21];
	int r = format_expires(archive_now(a) + config_expiry(a, role), buf);

	if (r < 0)
		return r;
	*ret = json_string(buf);
	return *ret ? 0 : -ENOMEM;
}

static int add_role_keys(const json_t *role_cfg, json_t *keys, json_t **ret_role)
{
	json_t *ids = json_array(), *k;
	size_t i;

	if (!ids)
		return -ENOMEM;
	json_array_foreach (json_object_get(role_cfg, "keys"), i, k) {
		const char *id = json_get_str(k, "keyid");

		if (json_array_append_new(ids, json_string(id)) < 0 ||
		    json_object_set(keys, id, json_object_get(k, "public")) < 0) {
			json_decref(ids);
			return -ENOMEM;
		}
	}
	*ret_role = json_pack("{s:o, s:O}", "keyids", ids, "threshold",
			      json_object_get(role_cfg, "threshold"));
	return *ret_role ? 0 : -ENOMEM;
}

int build_root(const struct archive *a, int64_t version, json_t **ret)
{
	_cleanup_(json_decrefp) json_t *body = NULL, *keys = json_object(), *roles = json_object();
	json_t *expires = NULL;
	int r;

	if (!keys || !roles)
		return -ENOMEM;
	for (int i = ARCHIVE_ROLE_ROOT; i <= ARCHIVE_ROLE_TIMESTAMP; i++) {
		json_t *role = NULL;

		r = add_role_keys(config_role(a, (enum archive_role)i), keys, &role);
		if (r < 0)
			return r;
		if (json_object_set_new(roles, role_names[i], role) < 0)
			return -ENOMEM;
	}
	r = expires_string(a, ARCHIVE_ROLE_ROOT, &expires);
	if (r < 0)
		return r;
	body = json_pack("{s:s, s:s, s:I, s:o, s:b, s:O, s:O}", "_type", "root", "spec_version",
			 ARCHIVE_SPEC_VERSION, "version", (json_int_t)version, "expires", expires,
			 "consistent_snapshot", 1, "keys", keys, "roles", roles);
	if (!body)
		return -ENOMEM;
	*ret = TAKE_PTR(body);
	return 0;
}

int build_targets(struct archive *a, int64_t version, json_t **ret, char err[], size_t errsize)
{
	_cleanup_(json_decrefp) json_t *keys = json_object(), *roles = json_array(), *body = NULL;
	_cleanup_strv_free_ char **names = NULL;
	json_t *expires = NULL, *kernel_role = NULL;
	int r;

	if (!keys || !roles)
		return -ENOMEM;
	r = staged_role_names(a, &names, err, errsize);
	if (r < 0)
		return r;
	if (names && names[0]) {
		r = add_role_keys(config_role(a, ARCHIVE_ROLE_KERNELS), keys, &kernel_role);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; names && names[i]; i++) {
		_cleanup_free_ char *pattern = NULL;
		json_t *d;

		if (asprintf(&pattern, "%s/*", names[i]) < 0)
			return json_decref(kernel_role), -ENOMEM;
		d = json_pack("{s:s, s:O, s:O, s:[s], s:b}", "name", names[i], "keyids",
			      json_object_get(kernel_role, "keyids"), "threshold",
			      json_object_get(kernel_role, "threshold"), "paths", pattern,
			      "terminating", 1);
		if (!d || json_array_append_new(roles, d) < 0)
			return json_decref(kernel_role), -ENOMEM;
	}
	json_decref(kernel_role);
	r = expires_string(a, ARCHIVE_ROLE_TARGETS, &expires);
	if (r < 0)
		return r;
	body = json_pack("{s:s, s:s, s:I, s:o, s:{}, s:{s:O, s:O}}", "_type", "targets",
			 "spec_version", ARCHIVE_SPEC_VERSION, "version", (json_int_t)version,
			 "expires", expires, "targets", "delegations", "keys", keys, "roles",
			 roles);
	if (!body)
		return -ENOMEM;
	*ret = TAKE_PTR(body);
	return 0;
}

static int dir_is_empty_or_missing(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	r = 1;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
			r = -EEXIST;
			break;
		}
	closedir(d);
	return r;
}

static int init_role_keys(struct archive *a, const struct archive_init_options *o,
			  enum archive_role role, json_t *roles, char err[], size_t errsize)
{
	const char *name = archive_role_to_string(role);
	_cleanup_(json_decrefp) json_t *entries = json_array();
	unsigned n_cmd = 0, n, t;
	int r;

	if (!entries)
		return -ENOMEM;
	for (size_t i = 0; i < o->n_commands; i++) {
		const struct archive_key_command *c = &o->commands[i];
		_cleanup_(tuf_signer_freep) struct tuf_signer *s = NULL;
		char e[512] = "";
		json_t *entry;

		if (c->role != role)
			continue;
		r = tuf_signer_new_command(c->command, c->public_key, &s, e, sizeof(e));
		if (r < 0) {
			snprintf(err, errsize, "invalid signing command for %s: %s", name, e);
			return r == -ENOMEM ? r : -EINVAL;
		}
		entry = key_entry(tuf_signer_key(s), NULL, c->command);
		if (!entry || json_array_append_new(entries, entry) < 0)
			return -ENOMEM;
		r = signer_set_push(&a->signers[role], TAKE_PTR(s));
		if (r < 0)
			return r;
		n_cmd++;
	}
	n = o->n_keys[role] ? o->n_keys[role] : (n_cmd ? n_cmd : 1);
	t = o->threshold[role] ? o->threshold[role] : 1;
	if (n < n_cmd || n > ARCHIVE_MAX_KEYS) {
		snprintf(err, errsize, "%s: %u keys asked, %u signing commands given (1..%d keys)",
			 name, n, n_cmd, ARCHIVE_MAX_KEYS);
		return -EINVAL;
	}
	if (t > n) {
		snprintf(err, errsize, "%s: threshold %u is more than its %u keys", name, t, n);
		return -EINVAL;
	}
	if (n > n_cmd) {
		const char *pass =
			archive_role_is_offline(role) ? o->passphrase : o->online_passphrase;

		if (archive_role_is_offline(role) && !o->passphrase) {
			snprintf(
				err, errsize,
				"offline %s keys are encrypted: give a passphrase (--passphrase-file "
				"or TUXTAPE_ARCHIVE_PASSPHRASE) or a --signer-command",
				name);
			return -ENOKEY;
		}
		r = generate_keys(archive_role_is_offline(role) ? a->offline_dir : a->online_dir,
				  pass, role, o->scheme, n - n_cmd, entries, &a->signers[role], err,
				  errsize);
		if (r < 0)
			return r;
	}
	a->loaded[role] = true;
	if (json_object_set_new(
		    roles, name,
		    json_pack("{s:I, s:O}", "threshold", (json_int_t)t, "keys", entries)) < 0)
		return -ENOMEM;
	return 0;
}

static int init_in(const char *dir, const struct archive_init_options *o, char err[],
		   size_t errsize)
{
	_cleanup_(archive_freep) struct archive *a = NULL;
	_cleanup_(json_decrefp) json_t *roles = json_object(), *expiry = json_object();
	_cleanup_(json_decrefp) json_t *changes = NULL;
	_cleanup_free_ char *abs_dir = NULL, *offline_cfg = NULL;
	struct published none = { 0 };
	struct commit c = { 0 };
	struct archive_result res = { 0 };
	int r;

	if (!roles || !expiry)
		return -ENOMEM;
	if (!tuf_scheme_to_string(o->scheme) || o->scheme == TUF_SCHEME_RSA_PKCS1V15_SHA256) {
		snprintf(err, errsize, "unsupported key scheme");
		return -EINVAL;
	}
	abs_dir = realpath(dir, NULL);
	if (!abs_dir)
		return -errno;
	a = archive_alloc(abs_dir);
	if (!a)
		return -ENOMEM;
	a->now = o->now;
	if (o->offline_dir) {
		r = mkdir_p(o->offline_dir, 0700);
		if (r >= 0) {
			offline_cfg = realpath(o->offline_dir, NULL);
			r = offline_cfg ? 0 : -errno;
		}
		if (r < 0) {
			snprintf(err, errsize, "cannot create the offline key directory '%s': %s",
				 o->offline_dir, strerror(-r));
			return r;
		}
		a->offline_dir = strdup(offline_cfg);
	} else {
		offline_cfg = strdup("keys/offline");
		a->offline_dir = path_join(abs_dir, "keys/offline");
	}
	if (!offline_cfg || !a->offline_dir)
		return -ENOMEM;
	{
		const char *dirs[] = { a->offline_dir, a->online_dir, a->roles_dir, a->meta_dir,
				       a->targets_dir };

		for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
			r = mkdir_p(dirs[i], i < 2 ? 0700 : 0755);
			if (r < 0) {
				snprintf(err, errsize, "cannot create '%s': %s", dirs[i],
					 strerror(-r));
				return r;
			}
		}
	}
	r = archive_set_passphrases(a, o->passphrase, o->online_passphrase);
	if (r < 0)
		return r;
	for (int i = 0; i < _ARCHIVE_ROLE_MAX; i++) {
		int64_t e =
			o->expiry[i] ? o->expiry[i] : archive_default_expiry((enum archive_role)i);

		if (e < 1) {
			snprintf(err, errsize, "invalid %s expiry", role_names[i]);
			return -EINVAL;
		}
		if (json_object_set_new(expiry, role_names[i], json_integer(e)) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < o->n_commands; i++)
		if (o->commands[i].role < 0 || o->commands[i].role >= _ARCHIVE_ROLE_MAX) {
			snprintf(err, errsize, "signing command %zu: unknown role", i + 1);
			return -EINVAL;
		}
	for (int i = 0; i < _ARCHIVE_ROLE_MAX; i++) {
		r = init_role_keys(a, o, (enum archive_role)i, roles, err, errsize);
		if (r < 0)
			return r;
	}
	a->config = json_pack("{s:i, s:s, s:s, s:I, s:s, s:b, s:O, s:O}", "format", ARCHIVE_FORMAT,
			      "spec_version", ARCHIVE_SPEC_VERSION, "scheme",
			      tuf_scheme_to_string(o->scheme), "keep",
			      (json_int_t)(o->keep ? o->keep : ARCHIVE_DEFAULT_KEEP), "offline_dir",
			      offline_cfg, "online_encrypted", o->online_passphrase != NULL,
			      "expiry", expiry, "roles", roles);
	if (!a->config)
		return -ENOMEM;
	changes = json_pack("{s:[], s:[], s:n}", "roles", "garbage", "rotation");
	if (!changes)
		return -ENOMEM;
	r = changes_save(a, changes, err, errsize);
	if (r < 0)
		return r;
	/* The repository first, archive.json last: a failed init leaves no half archive. */
	r = build_root(a, 1, &c.root);
	if (r >= 0)
		r = build_targets(a, 1, &c.targets, err, errsize);
	if (r >= 0)
		r = commit_run(a, &none, &c, &res, err, errsize);
	commit_release(&c);
	archive_result_release(&res);
	if (r < 0)
		return r;
	return save_json_state(a->config_path, a->config, err, errsize);
}

int archive_init(const char *dir, const struct archive_init_options *o, char err[],
		 size_t errsize)
{
	int r, existed;

	existed = dir_is_empty_or_missing(dir);
	if (existed == -EEXIST) {
		snprintf(err, errsize,
			 "'%s' is not empty: an archive is created in a new directory", dir);
		return existed;
	}
	if (existed < 0) {
		snprintf(err, errsize, "cannot read '%s': %s", dir, strerror(-existed));
		return existed;
	}
	r = mkdir_p(dir, 0755);
	if (r < 0) {
		snprintf(err, errsize, "cannot create '%s': %s", dir, strerror(-r));
		return r;
	}
	r = init_in(dir, o, err, errsize);
	if (r < 0) {
		/* no half archive: DIR is left as it was (keys made in --offline-dir stay) */
		(void)rm_rf(dir);
		if (existed)
			(void)mkdir(dir, 0755);
	}
	return r;
}

void archive_result_release(struct archive_result *r)
{
	strv_free(r->roles);
	strv_free(r->warnings);
	*r = (struct archive_result){ 0 };
}

static json_t *strv_to_json(char **v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0)
			return json_decref(a), NULL;
	return a;
}

json_t *archive_result_to_json(const struct archive_result *r)
{
	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:o, s:b, s:b, s:i, s:o}", "changed",
			 r->changed, "root_version", (json_int_t)r->root_version, "targets_version",
			 (json_int_t)r->targets_version, "snapshot_version",
			 (json_int_t)r->snapshot_version, "timestamp_version",
			 (json_int_t)r->timestamp_version, "roles", strv_to_json(r->roles),
			 "root_written", r->root_written, "targets_written", r->targets_written,
			 "pruned", (int)r->pruned, "warnings", strv_to_json(r->warnings));
}
