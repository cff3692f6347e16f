/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdint.h>
#include <string.h>

#include "hashmap.h"

struct hashmap_slot {
	char *key;
	void *value;
	uint64_t hash;
};

struct hashmap {
	struct hashmap_slot *slots;
	size_t cap; /* power of two */
	size_t n;
	void (*free_value)(void *);
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

struct hashmap *hashmap_new(void (*free_value)(void *))
{
	struct hashmap *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->free_value = free_value;
	return m;
}

struct hashmap *hashmap_free(struct hashmap *m)
{
	if (!m)
		return NULL;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key) {
			free(m->slots[i].key);
			if (m->free_value)
				m->free_value(m->slots[i].value);
		}
	free(m->slots);
	free(m);
	return NULL;
}

static struct hashmap_slot *find(const struct hashmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct hashmap_slot *s = &m->slots[i];

		if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
			return s;
	}
}

static int grow(struct hashmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 64;
	struct hashmap_slot *old = m->slots;
	size_t ocap = m->cap;

	m->slots = calloc(ncap, sizeof(*m->slots));
	if (!m->slots) {
		m->slots = old;
		return -ENOMEM;
	}
	m->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key)
			*find(m, old[i].key, old[i].hash) = old[i];
	free(old);
	return 0;
}

int hashmap_put(struct hashmap *m, const char *key, void *value)
{
	struct hashmap_slot *s;
	uint64_t h = hash_str(key);

	if ((m->n + 1) * 4 > m->cap * 3) {
		int r = grow(m);

		if (r < 0)
			return r;
	}
	s = find(m, key, h);
	if (s->key) {
		if (m->free_value && s->value != value)
			m->free_value(s->value);
		s->value = value;
		return 0;
	}
	s->key = strdup(key);
	if (!s->key)
		return -ENOMEM;
	s->hash = h;
	s->value = value;
	m->n++;
	return 0;
}

void *hashmap_get(const struct hashmap *m, const char *key)
{
	struct hashmap_slot *s;

	if (!m->cap)
		return NULL;
	s = find(m, key, hash_str(key));
	return s->key ? s->value : NULL;
}

int hashmap_contains(const struct hashmap *m, const char *key)
{
	return m->cap && find(m, key, hash_str(key))->key != NULL;
}

size_t hashmap_size(const struct hashmap *m)
{
	return m->n;
}

const char *hashmap_next(const struct hashmap *m, size_t *state, void **ret_value)
{
	for (; *state < m->cap; (*state)++)
		if (m->slots[*state].key) {
			struct hashmap_slot *s = &m->slots[(*state)++];

			if (ret_value)
				*ret_value = s->value;
			return s->key;
		}
	return NULL;
}
