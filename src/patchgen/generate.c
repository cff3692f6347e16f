/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "elfdiff.h"
#include "fileio.h"
#include "generate.h"
#include "klp-module.h"
#include "klp-object.h"
#include "macro.h"
#include "strbuf.h"
#include "symtab.h"

/* Largest kbuild .cmd file read. */
#define CMD_FILE_MAX (4u * 1024 * 1024)

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

/*
 * The object a translation unit is linked into: "vmlinux", or the module
 * named by -DKBUILD_MODNAME when kbuild compiled it with -DMODULE (read from
 * the .o.cmd file kbuild wrote beside the patched object).
 */
static int unit_objname(const char *obj_root, const char *object, char **ret, char *reterr,
			size_t errsize)
{
	_cleanup_free_ char *dir = strdup(object), *cmd = NULL, *text = NULL;
	const char *base, *p;
	char *slash;
	size_t len;
	int r;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	base = slash ? slash + 1 : dir;
	if (slash)
		*slash = '\0';
	if (asprintf(&cmd, "%s/%s%s.%s.cmd", obj_root, slash ? dir : "", slash ? "/" : "", base) <
	    0) {
		cmd = NULL;
		return -ENOMEM;
	}
	r = read_file_bounded(cmd, CMD_FILE_MAX, &text, &len);
	if (r < 0) {
		snprintf(reterr, errsize, "cannot read kbuild's '%s': %s", cmd, strerror(-r));
		return r;
	}
	if (!strstr(text, " -DMODULE ")) {
		*ret = strdup("vmlinux");
		return *ret ? 0 : -ENOMEM;
	}
	p = strstr(text, "-DKBUILD_MODNAME='\"");
	if (!p) {
		snprintf(reterr, errsize, "'%s' builds a module but names none", cmd);
		return -EBADMSG;
	}
	p += strlen("-DKBUILD_MODNAME='\"");
	len = strcspn(p, "\"'");
	if (len == 0 || len > SYMTAB_OBJNAME_MAX) {
		snprintf(reterr, errsize, "'%s': bad KBUILD_MODNAME", cmd);
		return -EBADMSG;
	}
	*ret = strndup(p, len);
	return *ret ? 0 : -ENOMEM;
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
static int build_unit(const struct patch_generate_options *o, const struct symtab *st,
		      const struct patch_file_analysis *f, size_t index, struct unit *u,
		      json_t *jobj, json_t *refusals, char *reterr, size_t errsize)
{
	_cleanup_free_ char *patched_path = NULL, *patched_root = NULL, *orig_path = NULL;
	_cleanup_(elf_object_freep) struct elf_object *patched = NULL;
	_cleanup_strv_free_ char **include = NULL;
	json_t *klp = json_object(), *jinc = NULL;
	char err[512] = "";
	int r;

	if (!klp || json_object_set_new(jobj, "klp", klp) < 0)
		return -ENOMEM;
	patched_root = path_join(o->work_dir, "patched-obj");
	if (!patched_root)
		return -ENOMEM;
	r = unit_objname(patched_root, f->object, &u->objname, reterr, errsize);
	if (r < 0)
		return r;
	if (json_object_set_new(jobj, "objname", json_string(u->objname)) < 0)
		return -ENOMEM;
	if (asprintf(&patched_path, "%s/patched/%s", o->work_dir, f->object) < 0 ||
	    asprintf(&orig_path, "%s/orig/%s", o->work_dir, f->object) < 0 ||
	    asprintf(&u->object, "%s/klp/unit%zu.o", o->work_dir, index) < 0) {
		patched_path = orig_path = u->object = NULL;
		return -ENOMEM;
	}
	r = elf_object_open(patched_path, &patched, err, sizeof(err));
	if (r < 0) {
		snprintf(reterr, errsize, "'%s': %s", patched_path, err);
		return r;
	}
	for (char **v = f->funcs_changed; *v; v++)
		if ((r = strv_push(&include, *v)) < 0)
			return r;
	for (char **v = f->funcs_new; *v; v++)
		if ((r = strv_push(&include, *v)) < 0)
			return r;
	for (char **v = f->data_new; *v; v++)
		if ((r = strv_push(&include, *v)) < 0)
			return r;
	if (strv_to_json(include, &jinc) < 0 || json_object_set_new(jobj, "included", jinc) < 0)
		return -ENOMEM;

	/* The functions the kernel redirects: every changed one, by its position. */
	u->funcs = calloc(strv_length(f->funcs_changed) + 1, sizeof(*u->funcs));
	if (!u->funcs)
		return -ENOMEM;
	for (char **v = f->funcs_changed; *v; v++) {
		unsigned long pos = 0;
		char why[600];

		r = symtab_sympos(st, u->objname, *v, 0, &pos);
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
						   "ours cannot be told",
				 symtab_count(st, u->objname, *v), u->objname);
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
	if (json_array_size(refusals))
		return 0;
	{
		_cleanup_free_ char *dir = path_join(o->work_dir, "klp");
		struct klp_object_options ko = { .objname = u->objname, .symtab = st };

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
