/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "registry.h"
#include "strbuf.h"

struct kernel_entry *kernel_entry_free(struct kernel_entry *k)
{
	if (!k)
		return NULL;
	free(k->name);
	free(k->release);
	free(k->version);
	free(k->arch);
	free(k->config);
	free(k->origin);
	free(k->system_map);
	free(k->profile_source);
	free(k);
	return NULL;
}

#define DEBIAN_ORIGIN_PREFIX "debian "

char *kernel_origin_debian(const char *release, const char *package_version)
{
	char *o;

	if (asprintf(&o, DEBIAN_ORIGIN_PREFIX "%s %s", release, package_version) < 0)
		return NULL;
	return o;
}

int kernel_entry_debian_release(const struct kernel_entry *k, char *buf, size_t size)
{
	const char *rel, *end;
	size_t n;

	if (!k->origin || strncmp(k->origin, DEBIAN_ORIGIN_PREFIX, strlen(DEBIAN_ORIGIN_PREFIX)) != 0)
		return -ENOENT;
	rel = k->origin + strlen(DEBIAN_ORIGIN_PREFIX);
	end = strchr(rel, ' ');
	n = end ? (size_t)(end - rel) : strlen(rel);
	if (n == 0)
		return -ENOENT;
	if (n >= size)
		return -ENAMETOOLONG;
	memcpy(buf, rel, n);
	buf[n] = '\0';
	return 0;
}

static int bind_opt(struct db_stmt *s, int i, const char *v)
{
	return v ? db_bind_text(s, i, v) : db_bind_null(s, i);
}

/* Replaces the module map inside the caller's transaction. */
static int put_modules(struct db *db, const char *name, char *const *ko_paths)
{
	struct db_stmt *s = NULL;
	int r;

	r = db_prepare(db, "DELETE FROM kernel_module WHERE kernel_name = ?", &s);
	if (r >= 0 && (r = db_bind_text(s, 1, name)) >= 0)
		r = db_step(s);
	if (s)
		db_stmt_reset(s);
	if (r < 0 || !ko_paths)
		return r < 0 ? r : 0;
	r = db_prepare(db,
		       "INSERT INTO kernel_module (kernel_name, module, dir) VALUES (?, ?, ?)"
		       " ON CONFLICT (kernel_name, module) DO NOTHING",
		       &s);
	for (char *const *p = ko_paths; r >= 0 && *p; p++) {
		const char *slash = strrchr(*p, '/'), *base = slash ? slash + 1 : *p;
		size_t n = strcspn(base, ".");
		_cleanup_free_ char *dir = NULL;
		char mod[128];

		if (n == 0 || n >= sizeof(mod))
			continue;
		memcpy(mod, base, n);
		mod[n] = '\0';
		/* Module names use '_' where file names may use '-'. */
		for (char *c = mod; *c; c++)
			if (*c == '-')
				*c = '_';
		dir = strndup(*p, slash ? (size_t)(slash - *p) : 0);
		if (!dir)
			return -ENOMEM;
		if ((r = db_bind_text(s, 1, name)) < 0 || (r = db_bind_text(s, 2, mod)) < 0 ||
		    (r = db_bind_text(s, 3, dir)) < 0)
			break;
		r = db_step(s);
		db_stmt_reset(s);
	}
	return r < 0 ? r : 0;
}

static int put_rows(struct db *db, const struct kernel_entry *k, const struct kernel_profile *p,
		    int64_t now, bool *ret_replaced)
{
	struct db_stmt *s;
	size_t it = 0;
	const char *path;
	unsigned flags;
	int r;

	r = db_prepare(db, "SELECT created_at FROM kernel WHERE name = ?", &s);
	if (r < 0 || (r = db_bind_text(s, 1, k->name)) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	if (r < 0)
		return r;
	*ret_replaced = r > 0;

	r = db_prepare(db,
		       "INSERT INTO kernel (name, release, version, arch, config, profile_source,"
		       " profile_knows_headers, profile_files, origin, system_map, created_at,"
		       " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		       " ON CONFLICT (name) DO UPDATE SET release = excluded.release,"
		       " version = excluded.version, arch = excluded.arch, config = excluded.config,"
		       " profile_source = excluded.profile_source,"
		       " profile_knows_headers = excluded.profile_knows_headers,"
		       " profile_files = excluded.profile_files, origin = excluded.origin,"
		       " system_map = excluded.system_map, updated_at = excluded.updated_at",
		       &s);
	if (r < 0)
		return r;
	if ((r = db_bind_text(s, 1, k->name)) < 0 || (r = db_bind_text(s, 2, k->release)) < 0 ||
	    (r = db_bind_text(s, 3, k->version)) < 0 || (r = bind_opt(s, 4, k->arch)) < 0 ||
	    (r = bind_opt(s, 5, k->config)) < 0 ||
	    (r = bind_opt(s, 6, p ? profile_source_to_string(kernel_profile_source(p)) : NULL)) < 0 ||
	    (r = db_bind_int64(s, 7, p && kernel_profile_knows_headers(p))) < 0 ||
	    (r = db_bind_int64(s, 8, p ? (int64_t)kernel_profile_count(p) : 0)) < 0 ||
	    (r = bind_opt(s, 9, k->origin)) < 0 || (r = bind_opt(s, 10, k->system_map)) < 0 ||
	    (r = db_bind_int64(s, 11, now)) < 0 || (r = db_bind_int64(s, 12, now)) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	if (r < 0)
		return r;

	r = put_modules(db, k->name, k->modules);
	if (r < 0)
		return r;

	/* A new profile replaces the old one whole: no stale files survive. */
	r = db_prepare(db, "DELETE FROM kernel_file WHERE kernel_name = ?", &s);
	if (r < 0 || (r = db_bind_text(s, 1, k->name)) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	if (r < 0 || !p)
		return r < 0 ? r : 0;

	r = db_prepare(db, "INSERT INTO kernel_file (kernel_name, path, flags) VALUES (?, ?, ?)", &s);
	if (r < 0)
		return r;
	while ((path = kernel_profile_next(p, &it, &flags))) {
		if ((r = db_bind_text(s, 1, k->name)) < 0 || (r = db_bind_text(s, 2, path)) < 0 ||
		    (r = db_bind_int64(s, 3, flags)) < 0)
			return r;
		r = db_step(s);
		db_stmt_reset(s);
		if (r < 0)
			return r;
	}
	return 0;
}

int registry_put(struct db *db, const struct kernel_entry *k, const struct kernel_profile *p,
		 int64_t now, bool *ret_replaced)
{
	bool replaced = false;
	int r;

	r = db_begin(db);
	if (r < 0)
		return r;
	r = put_rows(db, k, p, now, &replaced);
	if (r >= 0)
		r = db_commit(db);
	if (r < 0) {
		(void)db_rollback(db);
		return r;
	}
	if (ret_replaced)
		*ret_replaced = replaced;
	return 0;
}

static char *col(struct db_stmt *s, int i)
{
	return db_column_is_null(s, i) ? NULL : strdup(db_column_text(s, i));
}

static struct kernel_entry *entry_from_row(struct db_stmt *s)
{
	struct kernel_entry *k = calloc(1, sizeof(*k));

	if (!k)
		return NULL;
	k->name = col(s, 0);
	k->release = col(s, 1);
	k->version = col(s, 2);
	k->arch = col(s, 3);
	k->config = col(s, 4);
	k->profile_source = col(s, 5);
	k->knows_headers = db_column_int64(s, 6) != 0;
	k->profile_files = db_column_int64(s, 7);
	k->origin = col(s, 8);
	k->system_map = col(s, 9);
	k->created_at = db_column_int64(s, 10);
	k->updated_at = db_column_int64(s, 11);
	if (!k->name || !k->release || !k->version)
		return kernel_entry_free(k);
	return k;
}

#define KERNEL_COLUMNS                                                                             \
	"name, release, version, arch, config, profile_source, profile_knows_headers,"            \
	" profile_files, origin, system_map, created_at, updated_at"

int registry_get(struct db *db, const char *name, struct kernel_entry **ret)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, "SELECT " KERNEL_COLUMNS " FROM kernel WHERE name = ?", &s);
	if (r < 0 || (r = db_bind_text(s, 1, name)) < 0)
		return r;
	r = db_step(s);
	if (r > 0) {
		*ret = entry_from_row(s);
		r = *ret ? 0 : -ENOMEM;
	} else if (r == 0) {
		r = -ENOENT;
	}
	db_stmt_reset(s);
	return r;
}

int registry_list(struct db *db, kernel_entry_fn fn, void *userdata)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, "SELECT " KERNEL_COLUMNS " FROM kernel ORDER BY name", &s);
	if (r < 0)
		return r;
	while ((r = db_step(s)) > 0) {
		struct kernel_entry *k = entry_from_row(s);

		if (!k) {
			r = -ENOMEM;
			break;
		}
		r = fn(k, userdata);
		kernel_entry_free(k);
		if (r < 0)
			break;
	}
	db_stmt_reset(s);
	return r < 0 ? r : 0;
}

int registry_remove(struct db *db, const char *name)
{
	static const char *const sql[] = {
		"DELETE FROM kernel_file WHERE kernel_name = ?",
		"DELETE FROM kernel_module WHERE kernel_name = ?",
		"DELETE FROM kernel_module_loaded WHERE kernel_name = ?",
		"DELETE FROM kernel WHERE name = ?",
	};
	struct db_stmt *s = NULL;
	int64_t gone = 0;
	int r;

	r = db_begin(db);
	for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(sql); i++) {
		r = db_prepare(db, sql[i], &s);
		if (r >= 0)
			r = db_bind_text(s, 1, name);
		if (r >= 0)
			r = db_step(s);
		if (r >= 0 && i == ARRAY_SIZE(sql) - 1)
			gone = db_changes(s);
		if (s)
			db_stmt_reset(s);
	}
	if (r >= 0 && gone == 0)
		r = -ENOENT;
	if (r >= 0)
		return db_commit(db);
	(void)db_rollback(db);
	return r;
}

int registry_load_profile(struct db *db, const struct kernel_entry *k, struct kernel_profile **ret)
{
	_cleanup_(kernel_profile_freep) struct kernel_profile *p = NULL;
	enum profile_source src;
	struct db_stmt *s;
	int r;

	*ret = NULL;
	if (!k->profile_source)
		return 0;
	src = profile_source_from_string(k->profile_source);
	if (src < 0)
		return -EBADMSG;
	p = kernel_profile_new(src, k->knows_headers);
	if (!p)
		return -ENOMEM;
	r = db_prepare(db, "SELECT path, flags FROM kernel_file WHERE kernel_name = ?", &s);
	if (r < 0 || (r = db_bind_text(s, 1, k->name)) < 0)
		return r;
	while ((r = db_step(s)) > 0) {
		r = kernel_profile_add(p, db_column_text(s, 0), (unsigned)db_column_int64(s, 1));
		if (r < 0)
			break;
	}
	db_stmt_reset(s);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(p);
	return 0;
}

int registry_loaded_modules(struct db *db, const char *name, char ***ret)
{
	struct db_stmt *s;
	int r;

	*ret = NULL;
	r = db_prepare(db, "SELECT module FROM kernel_module_loaded WHERE kernel_name = ?", &s);
	if (r < 0 || (r = db_bind_text(s, 1, name)) < 0)
		return r;
	while ((r = db_step(s)) > 0)
		if (strv_push(ret, db_column_text(s, 0)) < 0) {
			r = -ENOMEM;
			break;
		}
	db_stmt_reset(s);
	if (r < 0)
		*ret = strv_free(*ret);
	return r < 0 ? r : 0;
}

int registry_set_loaded_modules(struct db *db, const char *name, char *const *modules,
				int64_t now)
{
	_cleanup_(kernel_entry_freep) struct kernel_entry *k = NULL;
	struct db_stmt *s = NULL;
	int r;

	r = registry_get(db, name, &k);
	if (r < 0)
		return r;
	r = db_begin(db);
	if (r >= 0)
		r = db_prepare(db, "DELETE FROM kernel_module_loaded WHERE kernel_name = ?", &s);
	if (r >= 0 && (r = db_bind_text(s, 1, name)) >= 0)
		r = db_step(s);
	if (s)
		db_stmt_reset(s);
	if (r >= 0)
		r = db_prepare(db,
			       "INSERT INTO kernel_module_loaded (kernel_name, module, reported_at)"
			       " VALUES (?, ?, ?) ON CONFLICT (kernel_name, module) DO NOTHING",
			       &s);
	for (char *const *m = modules; r >= 0 && m && *m; m++) {
		if ((r = db_bind_text(s, 1, name)) < 0 || (r = db_bind_text(s, 2, *m)) < 0 ||
		    (r = db_bind_int64(s, 3, now)) < 0)
			break;
		r = db_step(s);
		db_stmt_reset(s);
	}
	if (r >= 0)
		return db_commit(db);
	(void)db_rollback(db);
	return r;
}

int registry_modules(struct db *db, const char *name, char ***ret_names, char ***ret_dirs)
{
	_cleanup_strv_free_ char **names = NULL, **dirs = NULL;
	struct db_stmt *s;
	int r;

	r = db_prepare(db, "SELECT module, dir FROM kernel_module WHERE kernel_name = ?", &s);
	if (r < 0 || (r = db_bind_text(s, 1, name)) < 0)
		return r;
	while ((r = db_step(s)) > 0)
		if (strv_push(&names, db_column_text(s, 0)) < 0 ||
		    strv_push(&dirs, db_column_text(s, 1)) < 0) {
			r = -ENOMEM;
			break;
		}
	db_stmt_reset(s);
	if (r < 0)
		return r;
	*ret_names = TAKE_PTR(names);
	*ret_dirs = TAKE_PTR(dirs);
	return 0;
}
