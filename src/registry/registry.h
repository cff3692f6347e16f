/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel registry: the kernels TuxTape serves, each with its version,
 * configuration and build profile, in the database.  Registering a kernel
 * again replaces it whole, in one transaction.
 */
#ifndef TUXTAPE_REGISTRY_H
#define TUXTAPE_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include "db.h"
#include "macro.h"
#include "profile.h"

struct kernel_entry {
	char *name;           /* the user's name for it, unique */
	char *release;        /* uname -r, e.g. "6.1.0-54-amd64" */
	char *version;        /* upstream version, e.g. "6.1.190" */
	char *arch;
	char *config;         /* the .config text, or NULL */
	char *origin;         /* where it came from, for humans: "debian 6.1.190-1", paths */
	char *system_map;     /* path of a cached System.map, or NULL */
	char *profile_source; /* profile_source_to_string() or NULL without profile */
	bool knows_headers;
	int64_t profile_files;
	int64_t created_at;
	int64_t updated_at;
	char **modules;       /* registry_put() only: .ko paths for the module map, or NULL */
};

struct kernel_entry *kernel_entry_free(struct kernel_entry *k);

/* The origin recorded for a kernel registered from Debian packages (caller frees). */
char *kernel_origin_debian(const char *release, const char *package_version);
/*
 * The Debian release ("6.1.0-54-amd64") of a kernel registered from Debian
 * packages, into buf; -ENOENT for other kernels, -ENAMETOOLONG when it does
 * not fit.
 */
int kernel_entry_debian_release(const struct kernel_entry *k, char *buf, size_t size);
DEFINE_CLEANUP_FUNC(struct kernel_entry, kernel_entry_free)

/*
 * Inserts or replaces a kernel, its profile (NULL = keep no profile) and its
 * module map (k->modules: .ko paths relative to the tree, e.g.
 * "drivers/media/usb/uvc/uvcvideo.ko", tying a source file to the module
 * built from its directory) in one transaction.  *ret_replaced tells whether
 * it existed before.
 */
int registry_put(struct db *db, const struct kernel_entry *k, const struct kernel_profile *p,
		 int64_t now, bool *ret_replaced);
/* The module map as two parallel strv: module names and their directories. */
int registry_modules(struct db *db, const char *name, char ***ret_names, char ***ret_dirs);
/* -ENOENT when unknown. */
int registry_get(struct db *db, const char *name, struct kernel_entry **ret);
int registry_remove(struct db *db, const char *name);

typedef int (*kernel_entry_fn)(const struct kernel_entry *k, void *userdata);
int registry_list(struct db *db, kernel_entry_fn fn, void *userdata);

/* The stored profile, or *ret = NULL when the kernel has none. */
int registry_load_profile(struct db *db, const struct kernel_entry *k, struct kernel_profile **ret);

/*
 * Replaces the set of modules reported loaded on nodes running this kernel
 * (one transaction); -ENOENT when the kernel is not registered.
 */
int registry_set_loaded_modules(struct db *db, const char *name, char *const *modules,
				int64_t now);
/* Modules reported loaded on nodes running this kernel (strv, may be NULL). */
int registry_loaded_modules(struct db *db, const char *name, char ***ret);

#endif
