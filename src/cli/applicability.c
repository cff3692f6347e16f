/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "applicability.h"
#include "hashmap.h"
#include "store.h"
#include "strbuf.h"

int kernel_view_open(struct db *db, const char *name, struct kernel_view *ret)
{
	struct kernel_view v = { 0 };
	int r;

	r = registry_get(db, name, &v.kernel);
	if (r < 0)
		return r;
	r = registry_load_profile(db, v.kernel, &v.profile);
	if (r >= 0)
		r = registry_loaded_modules(db, name, &v.loaded_modules);
	if (r >= 0)
		r = registry_modules(db, name, &v.module_names, &v.module_dirs);
	if (r >= 0)
		r = gauge_kernel_init(&v.gauge, v.kernel->version, v.profile);
	if (r < 0) {
		kernel_view_release(&v);
		return r;
	}
	*ret = v;
	return 0;
}

void kernel_view_release(struct kernel_view *v)
{
	kernel_entry_free(v->kernel);
	kernel_profile_free(v->profile);
	strv_free(v->loaded_modules);
	strv_free(v->module_names);
	strv_free(v->module_dirs);
	memset(v, 0, sizeof(*v));
}

struct sweep {
	const struct kernel_view *kv;
	applicability_fn fn;
	void *userdata;
};

static int sweep_one(struct cve_record *rec, void *userdata)
{
	struct sweep *s = userdata;
	struct gauge_verdict v;
	int r;

	r = gauge_evaluate(&s->kv->gauge, rec, &v);
	if (r < 0)
		return r;
	return s->fn(rec, &v, s->userdata);
}

int applicability_sweep(struct db *db, const struct kernel_view *kv, applicability_fn fn,
			void *userdata)
{
	struct sweep s = { kv, fn, userdata };

	return cve_store_foreach_brief(db, sweep_one, &s);
}

struct nvd_row {
	char *vector;
	double score;
};

struct epss_row {
	double score;
	double percentile;
};

struct rank_context {
	struct hashmap *kev;  /* id -> NULL */
	struct hashmap *epss; /* id -> struct epss_row */
	struct hashmap *nvd;  /* id -> struct nvd_row */
};

static void nvd_row_free(void *p)
{
	struct nvd_row *n = p;

	if (n)
		free(n->vector);
	free(n);
}

struct rank_context *rank_context_free(struct rank_context *c)
{
	if (!c)
		return NULL;
	hashmap_free(c->kev);
	hashmap_free(c->epss);
	hashmap_free(c->nvd);
	free(c);
	return NULL;
}

int rank_context_new(struct db *db, struct rank_context **ret)
{
	struct rank_context *c = calloc(1, sizeof(*c));
	struct db_stmt *s = NULL;
	int r;

	if (!c)
		return -ENOMEM;
	c->kev = hashmap_new(NULL);
	c->epss = hashmap_new(free);
	c->nvd = hashmap_new(nvd_row_free);
	if (!c->kev || !c->epss || !c->nvd) {
		rank_context_free(c);
		return -ENOMEM;
	}
	r = db_prepare(db, "SELECT cve_id FROM kev", &s);
	while (r >= 0 && (r = db_step(s)) > 0)
		r = hashmap_put(c->kev, db_column_text(s, 0), NULL);
	if (s)
		db_stmt_reset(s);
	s = NULL;
	if (r >= 0)
		r = db_prepare(db, "SELECT cve_id, score, percentile FROM epss", &s);
	while (r >= 0 && (r = db_step(s)) > 0) {
		struct epss_row *e = malloc(sizeof(*e));

		if (!e) {
			r = -ENOMEM;
			break;
		}
		e->score = db_column_double(s, 1);
		e->percentile = db_column_double(s, 2);
		r = hashmap_put(c->epss, db_column_text(s, 0), e);
		if (r < 0)
			free(e);
	}
	if (s)
		db_stmt_reset(s);
	s = NULL;
	if (r >= 0)
		r = db_prepare(db, "SELECT cve_id, v31_vector, v31_score FROM nvd", &s);
	while (r >= 0 && (r = db_step(s)) > 0) {
		struct nvd_row *n = calloc(1, sizeof(*n));

		if (!n) {
			r = -ENOMEM;
			break;
		}
		n->vector = db_column_is_null(s, 1) ? NULL : strdup(db_column_text(s, 1));
		n->score = db_column_is_null(s, 2) ? -1 : db_column_double(s, 2);
		r = hashmap_put(c->nvd, db_column_text(s, 0), n);
		if (r < 0)
			nvd_row_free(n);
	}
	if (s)
		db_stmt_reset(s);
	if (r < 0) {
		rank_context_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

/*
 * Which module a fixed file is built into: with a module map, the module
 * whose directory is the longest prefix of the file's directory (kbuild
 * builds a module from its directory and, for composite modules, its
 * subdirectories); without one, a module named like the file.
 */
static const char *module_of(const struct kernel_view *kv, const char *file, char *buf,
			     size_t size)
{
	const char *slash = strrchr(file, '/'), *best = NULL;
	size_t dirlen = slash ? (size_t)(slash - file) : 0, best_len = 0;

	for (size_t i = 0; kv->module_dirs && kv->module_dirs[i]; i++) {
		size_t l = strlen(kv->module_dirs[i]);

		if (l <= dirlen && strncmp(file, kv->module_dirs[i], l) == 0 &&
		    (l == dirlen || file[l] == '/') && (!best || l > best_len)) {
			best = kv->module_names[i];
			best_len = l;
		}
	}
	if (best || kv->module_names)
		return best;
	{
		const char *base = slash ? slash + 1 : file, *dot = strrchr(base, '.');
		size_t n = dot ? (size_t)(dot - base) : strlen(base);

		if (n == 0 || n >= size)
			return NULL;
		memcpy(buf, base, n);
		buf[n] = '\0';
		for (char *p = buf; *p; p++)
			if (*p == '-')
				*p = '_';
		return buf;
	}
}

/*
 * Loaded when any fixed file's module is in the nodes' report; not loaded
 * only when every fixed file maps to a known module that nobody loads;
 * otherwise unknown (a guess must never lower a score).
 */
static enum prio_module_state module_state(const struct kernel_view *kv,
					   const struct cve_record *rec)
{
	bool all_known = true, any = false;

	if (!kv->loaded_modules)
		return PRIO_MODULE_UNKNOWN;
	for (char **f = rec->program_files; f && *f; f++) {
		char buf[128];
		const char *m;
		size_t l = strlen(*f);

		if (l < 2 || strcmp(*f + l - 2, ".c") != 0)
			continue;
		any = true;
		m = module_of(kv, *f, buf, sizeof(buf));
		if (m && strv_contains(kv->loaded_modules, m))
			return PRIO_MODULE_LOADED;
		if (!m || !kv->module_names)
			all_known = false;
	}
	return any && all_known ? PRIO_MODULE_NOT_LOADED : PRIO_MODULE_UNKNOWN;
}

void rank_context_input(const struct rank_context *c, const struct kernel_view *kv,
			const struct cve_record *rec, const struct gauge_verdict *v,
			struct prio_input *in)
{
	const struct epss_row *e = hashmap_get(c->epss, rec->id);
	const struct nvd_row *n = hashmap_get(c->nvd, rec->id);

	prio_input_init(in);
	in->cve_id = rec->id;
	in->cna_vector = rec->cvss_vector;
	in->nvd_vector = n ? n->vector : NULL;
	in->nvd_score = n ? n->score : -1;
	in->kev = hashmap_contains(c->kev, rec->id);
	in->epss_score = e ? e->score : -1;
	in->epss_percentile = e ? e->percentile : -1;
	if (v->compiled_flags & PROFILE_BUILTIN)
		in->build = PRIO_BUILD_BUILTIN;
	else if (v->compiled_flags & PROFILE_MODULE)
		in->build = PRIO_BUILD_MODULE;
	else
		in->build = PRIO_BUILD_UNKNOWN;
	in->module = in->build == PRIO_BUILD_MODULE ? module_state(kv, rec) : PRIO_MODULE_UNKNOWN;
	in->files = rec->program_files;
}
