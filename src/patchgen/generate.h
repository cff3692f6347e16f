/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * "patch build" from end to end: analyse the patches (build.h), write one
 * livepatch object per changed translation unit (klp-object.h) and link
 * them into one module for the prepared kernel (klp-module.h).
 *
 * A change that cannot be livepatched is a refusal, part of a successful
 * result with its reasons per file, function or section; errors are for
 * what stopped the work (a patch that does not apply, a failed build).
 */
#ifndef TUXTAPE_PATCHGEN_GENERATE_H
#define TUXTAPE_PATCHGEN_GENERATE_H

#include <jansson.h>
#include <stdbool.h>

struct patch_generate_options {
	const char *source_dir;	  /* pristine source of the prepared kernel (required) */
	const char *build_dir;	  /* its prepared O= tree (required) */
	char *const *make_args;	  /* as prepared */
	const char *symvers;	  /* the target's Module.symvers (required) */
	const char *symbol_table; /* its System.map or kallsyms (NULL: only exports resolve) */
	/*
	 * Finds the target's own copy of the module objname (its symbols give
	 * the klp positions); may be NULL, then module patches are refused.
	 * Returns 0 and a path (caller frees) or a negative errno with reterr.
	 */
	int (*module_file)(void *userdata, const char *objname, char **ret_path, char *reterr,
			   size_t errsize);
	void *userdata;
	char *const *patches;	  /* unified diffs, applied in order (required) */
	const char *work_dir;	  /* scratch (required) */
	const char *name;	  /* module name (required) */
	const char *output;	  /* the .ko to write (required) */
	const char *description;
	bool replace;
	const char *sign_key, *sign_cert;
	unsigned timeout_s, jobs;
};

/*
 * Returns 0 with *ret_report (caller decrefs): {"status": "built" |
 * "refused", "name", "kernel objects": ..., "analysis": {...},
 * "objects": [{"path", "objname", "changed", "new", "included", "klp": {...}}],
 * "module": {...} when built, "refusals": [{"what", "reason"}]}.  A negative
 * errno with reterr otherwise (see patch_analyse() and klp_module_build()).
 */
int patch_generate(const struct patch_generate_options *o, json_t **ret_report, char *reterr,
		   size_t errsize);

#endif
