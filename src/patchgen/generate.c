/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "elf-object.h"
#include "elfdiff.h"
#include "fileio.h"
#include "generate.h"
#include "klp-module.h"
#include "klp-object.h"
#include "macro.h"
#include "strbuf.h"
#include "symtab.h"

static void decref_jsonp(json_t **p)
{
	json_decref(*p);
}

static int refusal(json_t *refusals, const char *what, const char *reason)
{
	return json_array_append_new(refusals, json_pack("{s:s, s:s}", "what", what, "reason",
							 reason)) < 0
		       ? -ENOMEM
		       : 0;
}

static int strv_to_json(char **v, json_t **ret)
{
	json_t *a = json_array();

	if (!a)
		return -ENOMEM;
	for (size_t i = 0; v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return -ENOMEM;
		}
	*ret = a;
	return 0;
}

struct unit {
	char *objname;
	char *object; /* klp object path */
	struct klp_module_func *funcs;
	size_t n_funcs;
};

/* One translation unit: its klp object, or a refusal in refusals. */
/* Loads the symbols of module objname once; a refusal when they cannot be had. */
static int load_module_symbols(const struct patch_generate_options *o, struct symtab *st,
			       const char *objname, const char *path_for_refusal, json_t *refusals,
			       char *reterr, size_t errsize)
{
	_cleanup_free_ char *ko = NULL;
	char err[512] = "", why[700];
	int r;

	if (streq(objname, "vmlinux") || symtab_count(st, objname, "__this_module") > 0)
		return 0;
	if (!o->module_file) {
		snprintf(why, sizeof(why), "patches module '%s' but its .ko is not known", objname);
		return refusal(refusals, path_for_refusal, why);
	}
	r = o->module_file(o->userdata, objname, &ko, err, sizeof(err));
	if (r >= 0)
		r = symtab_load_module_elf(st, objname, ko, err, sizeof(err));
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		snprintf(why, sizeof(why), "the symbols of module '%s' cannot be read: %s", objname,
			 err);
		return refusal(refusals, path_for_refusal, why);
	}
	return 0;
}

/*
 * Positions of orig's local names that objname has several of: the writer
 * needs them for references, the stub for the functions it replaces.
 */
static int sympos_hints(const struct symtab *st, const char *objname,
			const struct elf_object *orig, struct klp_sympos_hint **ret, size_t *ret_n)
{
	_cleanup_free_ struct klp_sympos_hint *v = calloc(orig->n_syms + 1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < orig->n_syms; i++) {
		const struct eo_symbol *s = &orig->syms[i];
		unsigned long pos;
		char err[256];

		if (s->bind != STB_LOCAL || (s->type != STT_FUNC && s->type != STT_OBJECT) ||
		    symtab_count(st, objname, s->name) < 2)
			continue;
		if (symtab_sympos_near(st, objname, s->name, orig, &pos, err, sizeof(err)) < 0)
			continue; /* the writer reports it if the code needs it */
		v[n++] = (struct klp_sympos_hint){ .name = s->name, .sympos = pos };
	}
	*ret = TAKE_PTR(v);
	*ret_n = n;
	return 0;
}

static int build_unit(const struct patch_generate_options *o, struct symtab *st,
		      const struct patch_file_analysis *f, size_t index, struct unit *u,
		      json_t *jobj, json_t *refusals, char *reterr, size_t errsize)
{
	_cleanup_(elf_object_freep) struct elf_object *patched = NULL, *orig = NULL;
	_cleanup_free_ struct klp_sympos_hint *hints = NULL;
	_cleanup_strv_free_ char **include = NULL;
	size_t n_hints = 0, n_refusals = json_array_size(refusals);
	json_t *klp = json_object(), *jinc = NULL;
	char err[512] = "";
	int r;

	if (!klp || json_object_set_new(jobj, "klp", klp) < 0)
		return -ENOMEM;
	if (!f->objname) {
		snprintf(reterr, errsize, "'%s': the analysis did not find its object", f->path);
		return -ENOENT;
	}
	u->objname = strdup(f->objname);
	if (!u->objname || json_object_set_new(jobj, "objname", json_string(u->objname)) < 0)
		return -ENOMEM;
	if (asprintf(&u->object, "%s/klp/unit%zu.o", o->work_dir, index) < 0) {
		u->object = NULL;
		return -ENOMEM;
	}
	/* correlated as the analysis did: static locals and clones carry the kernel's names */
	r = patch_file_open_objects(f, &orig, &patched, reterr, errsize);
	if (r < 0)
		return r;
	r = load_module_symbols(o, st, u->objname, f->path, refusals, reterr, errsize);
	if (r < 0)
		return r;
	if (json_array_size(refusals) > n_refusals)
		return 0;
	r = sympos_hints(st, u->objname, orig, &hints, &n_hints);
	if (r < 0)
		return r;
	for (char **v = f->funcs_changed; *v; v++)
		if ((r = strv_push(&include, *v)) < 0)
			return r;
	for (char **v = f->funcs_new; *v; v++)
		if ((r = strv_push(&include, *v)) < 0)
			return r;
	for (char **v = f->data_new; *v; v++)
		if ((r = strv_push(&include, *v)) < 0)
			return r;
	/*
	 * A function's .cold part is entered by jumps, not calls, and jumps back:
	 * it must come along with its function, changed or not.
	 */
	for (size_t i = 0, n = strv_length(include); i < n; i++) {
		_cleanup_free_ char *cold = NULL;

		if (asprintf(&cold, "%s.cold", include[i]) < 0)
			return -ENOMEM;
		for (size_t j = 0; j < patched->n_syms; j++)
			if (patched->syms[j].type == STT_FUNC &&
			    patched->syms[j].shndx != SHN_UNDEF && streq(patched->syms[j].name, cold) &&
			    !strv_contains(include, cold)) {
				if ((r = strv_push(&include, cold)) < 0)
					return r;
				break;
			}
	}
	if (strv_to_json(include, &jinc) < 0 || json_object_set_new(jobj, "included", jinc) < 0)
		return -ENOMEM;

	/* The functions the kernel redirects: every changed one, by its position. */
	u->funcs = calloc(strv_length(f->funcs_changed) + 1, sizeof(*u->funcs));
	if (!u->funcs)
		return -ENOMEM;
	for (char **v = f->funcs_changed; *v; v++) {
		unsigned long pos = 0;
		char why[600];

		/* entered from its function only, never through ftrace: not redirected */
		if (elfdiff_is_cold_part(*v))
			continue;

		r = symtab_sympos(st, u->objname, *v, 0, &pos);
		if (r == -ENOTUNIQ)
			r = symtab_sympos_near(st, u->objname, *v, orig, &pos, err, sizeof(err));
		if (r == -ENOENT) {
			snprintf(why, sizeof(why), "not in the symbol table of %s (%s)", u->objname,
				 o->symbol_table ? "inlined or discarded in the running kernel?"
						 : "no symbol table: prepare the kernel with one");
			r = refusal(refusals, *v, why);
			if (r < 0)
				return r;
			continue;
		}
		if (r == -ENOTUNIQ) {
			snprintf(why, sizeof(why), "%zu functions of that name in %s: which one is "
						   "ours cannot be told (%s)",
				 symtab_count(st, u->objname, *v), u->objname, err);
			r = refusal(refusals, *v, why);
			if (r < 0)
				return r;
			continue;
		}
		if (r < 0)
			return r;
		u->funcs[u->n_funcs++] = (struct klp_module_func){ .old_name = *v,
								   .old_sympos = pos,
								   .new_symbol = *v };
	}
	if (json_array_size(refusals) > n_refusals)
		return 0;
	{
		_cleanup_free_ char *dir = path_join(o->work_dir, "klp");
		struct klp_object_options ko = { .objname = u->objname, .symtab = st,
						 .hints = hints, .n_hints = n_hints, .report = klp };

		if (!dir)
			return -ENOMEM;
		r = mkdir_p(dir, 0755);
		if (r < 0)
			return r;
		r = klp_object_write(patched, include, &ko, u->object, err, sizeof(err));
	}
	if (r == -EOPNOTSUPP || r == -ENOENT || r == -ENOTUNIQ || r == -ENAMETOOLONG) {
		/* the writer cannot carry something: a refusal, not a failure */
		r = refusal(refusals, f->path, err);
		return r;
	}
	if (r < 0) {
		snprintf(reterr, errsize, "writing the livepatch object of '%s': %s", f->path, err);
		return r;
	}
	return 0;
}

int patch_generate(const struct patch_generate_options *o, json_t **ret_report, char *reterr,
		   size_t errsize)
{
	_cleanup_(symtab_freep) struct symtab *st = NULL;
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	_cleanup_(decref_jsonp) json_t *report = NULL;
	_cleanup_free_ struct unit *units = NULL;
	_cleanup_free_ struct klp_module_object *objs = NULL;
	json_t *refusals, *jobjs;
	size_t n_units = 0;
	int r;

	if (!o || !o->source_dir || !o->build_dir || !o->symvers || !o->patches || !o->work_dir ||
	    !o->name || !o->output) {
		snprintf(reterr, errsize, "missing tree, Module.symvers, patches, name or output");
		return -EINVAL;
	}
	st = symtab_new();
	report = json_object();
	refusals = json_array();
	jobjs = json_array();
	if (!st || !report || !refusals || !jobjs ||
	    json_object_set_new(report, "refusals", refusals) < 0 ||
	    json_object_set_new(report, "objects", jobjs) < 0 ||
	    json_object_set_new(report, "name", json_string(o->name)) < 0)
		return -ENOMEM;
	r = symtab_load_symvers_file(st, o->symvers, reterr, errsize);
	if (r >= 0 && o->symbol_table)
		r = symtab_load_kallsyms_file(st, o->symbol_table, reterr, errsize);
	if (r < 0)
		return r;

	{
		struct patch_analyse_options ao = {
			.source_dir = o->source_dir, .build_dir = o->build_dir,
			.make_args = o->make_args,   .work_dir = o->work_dir,
			.patches = o->patches,	     .timeout_s = o->timeout_s,
			.jobs = o->jobs,
		};

		r = patch_analyse(&ao, &a, reterr, errsize);
		if (r < 0)
			return r;
	}
	if (json_object_set_new(report, "analysis", patch_analysis_to_json(a)) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_files; i++)
		for (size_t j = 0; j < a->files[i].n_refusals; j++)
			if (refusal(refusals, a->files[i].refusals[j].what,
				    a->files[i].refusals[j].reason) < 0)
				return -ENOMEM;
	if (!a->livepatchable && json_array_size(refusals) == 0 &&
	    refusal(refusals, "patch", "changes nothing that is compiled into the kernel") < 0)
		return -ENOMEM;

	units = calloc(a->n_files + 1, sizeof(*units));
	objs = calloc(a->n_files + 1, sizeof(*objs));
	if (!units || !objs)
		return -ENOMEM;
	for (size_t i = 0; a->livepatchable && i < a->n_files; i++) {
		const struct patch_file_analysis *f = &a->files[i];
		json_t *jobj;

		if (!f->object || (!f->funcs_changed[0] && !f->funcs_new[0]))
			continue;
		jobj = json_pack("{s:s, s:s}", "path", f->path, "object", f->object);
		if (!jobj || json_array_append_new(jobjs, jobj) < 0)
			return -ENOMEM;
		r = build_unit(o, st, f, n_units, &units[n_units], jobj, refusals, reterr, errsize);
		n_units++;
		if (r < 0)
			goto out;
	}
	if (json_array_size(refusals) == 0 && n_units) {
		struct klp_module_options mo = {
			.name = o->name, .source_dir = o->source_dir, .build_dir = o->build_dir,
			.make_args = o->make_args, .work_dir = o->work_dir, .output = o->output,
			.replace = o->replace, .description = o->description,
			.sign_key = o->sign_key, .sign_cert = o->sign_cert, .timeout_s = o->timeout_s,
		};
		json_t *jm = json_object();

		if (!jm || json_object_set_new(report, "module", jm) < 0) {
			r = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < n_units; i++)
			objs[i] = (struct klp_module_object){ .objname = units[i].objname,
							      .object = units[i].object,
							      .funcs = units[i].funcs,
							      .n_funcs = units[i].n_funcs };
		r = klp_module_build(&mo, objs, n_units, jm, reterr, errsize);
		if (r < 0)
			goto out;
	}
	r = json_object_set_new(report, "status",
				json_string(json_array_size(refusals) ? "refused" : "built"));
	if (r < 0) {
		r = -ENOMEM;
		goto out;
	}
	*ret_report = TAKE_PTR(report);
	r = 0;
out:
	for (size_t i = 0; i < n_units; i++) {
		free(units[i].objname);
		free(units[i].object);
		free(units[i].funcs);
	}
	return r;
}
