/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A string-keyed hash map (open addressing, linear probing).  Keys are copied
 * and owned by the map; values are opaque pointers the caller owns unless a
 * free function is given to hashmap_new().
 */
#ifndef TUXTAPE_HASHMAP_H
#define TUXTAPE_HASHMAP_H

#include <stddef.h>

#include "macro.h"

struct hashmap;

struct hashmap *hashmap_new(void (*free_value)(void *));
struct hashmap *hashmap_free(struct hashmap *m);
DEFINE_CLEANUP_FUNC(struct hashmap, hashmap_free)

/* Inserts or replaces (the old value is freed with free_value). */
int hashmap_put(struct hashmap *m, const char *key, void *value);
void *hashmap_get(const struct hashmap *m, const char *key);
int hashmap_contains(const struct hashmap *m, const char *key);
size_t hashmap_size(const struct hashmap *m);
/* Iteration: *state starts at 0; returns the next key or NULL. */
const char *hashmap_next(const struct hashmap *m, size_t *state, void **ret_value);

#endif
