/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * INI configuration.  Files are read in order (later files override earlier
 * ones), then TUXTAPE_<SECTION>_<KEY> environment variables override both.
 * Keys are "section.key"; values are strings owned by the config.
 */
#ifndef TUXTAPE_CONFIG_H
#define TUXTAPE_CONFIG_H

#include <stdbool.h>

#include "macro.h"

struct config;

struct config *config_new(void);
struct config *config_free(struct config *c);
DEFINE_CLEANUP_FUNC(struct config, config_free)

/*
 * Parses one INI file.  Missing files are not an error when optional is true.
 * On a syntax error returns -EBADMSG and sets *reterr_line (1-based).
 */
int config_load_file(struct config *c, const char *path, bool optional, int *reterr_line);
int config_load_string(struct config *c, const char *text, const char *origin, int *reterr_line);
/* Applies TUXTAPE_SECTION_KEY=value from environ for every known and new key. */
void config_load_env(struct config *c, char **environ_);
int config_set(struct config *c, const char *key, const char *value);

/* Returns the value or def when unset. */
const char *config_get(const struct config *c, const char *key, const char *def);
int config_get_int(const struct config *c, const char *key, int def, int *ret);
int config_get_double(const struct config *c, const char *key, double def, double *ret);
int config_get_bool(const struct config *c, const char *key, bool def, bool *ret);
/* Iterates keys in insertion order; returns the key at i or NULL past the end. */
const char *config_key_at(const struct config *c, size_t i, const char **ret_value);

#endif
