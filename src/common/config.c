/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fileio.h"
#include "parse-util.h"
#include "strbuf.h"

#define CONFIG_MAX_SIZE (1024 * 1024)

struct config_entry {
	char *key;
	char *value;
};

struct config {
	struct config_entry *entries;
	size_t n;
};

struct config *config_new(void)
{
	return calloc(1, sizeof(struct config));
}

struct config *config_free(struct config *c)
{
	if (!c)
		return NULL;
	for (size_t i = 0; i < c->n; i++) {
		free(c->entries[i].key);
		free(c->entries[i].value);
	}
	free(c->entries);
	free(c);
	return NULL;
}

int config_set(struct config *c, const char *key, const char *value)
{
	struct config_entry *e;
	char *v = strdup(value);

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < c->n; i++)
		if (streq(c->entries[i].key, key)) {
			free(c->entries[i].value);
			c->entries[i].value = v;
			return 0;
		}
	e = realloc(c->entries, (c->n + 1) * sizeof(*e));
	if (!e) {
		free(v);
		return -ENOMEM;
	}
	c->entries = e;
	e[c->n].key = strdup(key);
	if (!e[c->n].key) {
		free(v);
		return -ENOMEM;
	}
	e[c->n].value = v;
	c->n++;
	return 0;
}

static char *strip(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

int config_load_string(struct config *c, const char *text, const char *origin, int *reterr_line)
{
	_cleanup_free_ char *copy = strdup(text);
	char section[128] = "";
	char *line, *save = NULL;
	int lineno = 0, r;

	if (!copy)
		return -ENOMEM;
	/* strtok_r would merge empty lines and break line numbers; walk by hand. */
	for (line = copy; line; line = save) {
		char *nl = strchr(line, '\n'), *s, *eq;

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		s = strip(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');

			if (!close || close[1] || close - s - 1 <= 0 ||
			    (size_t)(close - s - 1) >= sizeof(section))
				goto bad;
			*close = '\0';
			snprintf(section, sizeof(section), "%s", strip(s + 1));
			continue;
		}
		eq = strchr(s, '=');
		if (!eq || !*section)
			goto bad;
		*eq = '\0';
		{
			_cleanup_free_ char *key = NULL;
			char *k = strip(s), *v = strip(eq + 1);
			size_t vl = strlen(v);

			if (!*k)
				goto bad;
			if (vl >= 2 && v[0] == '"' && v[vl - 1] == '"') {
				v[vl - 1] = '\0';
				v++;
			}
			if (asprintf(&key, "%s.%s", section, k) < 0)
				return -ENOMEM;
			r = config_set(c, key, v);
			if (r < 0)
				return r;
		}
	}
	(void)origin;
	return 0;
bad:
	if (reterr_line)
		*reterr_line = lineno;
	return -EBADMSG;
}

int config_load_file(struct config *c, const char *path, bool optional, int *reterr_line)
{
	_cleanup_free_ char *buf = NULL;
	int r;

	r = read_file_bounded(path, CONFIG_MAX_SIZE, &buf, NULL);
	if (r == -ENOENT && optional)
		return 0;
	if (r < 0)
		return r;
	return config_load_string(c, buf, path, reterr_line);
}

void config_load_env(struct config *c, char **env)
{
	static const char prefix[] = "TUXTAPE_";

	for (; env && *env; env++) {
		char key[256], *underscore;
		const char *eq;
		size_t klen;

		if (strncmp(*env, prefix, sizeof(prefix) - 1) != 0)
			continue;
		eq = strchr(*env, '=');
		if (!eq)
			continue;
		klen = (size_t)(eq - *env) - (sizeof(prefix) - 1);
		if (klen == 0 || klen >= sizeof(key))
			continue;
		memcpy(key, *env + sizeof(prefix) - 1, klen);
		key[klen] = '\0';
		/* TUXTAPE_CVE_NVD_API_KEY -> cve.nvd_api_key: the first '_' splits section and key. */
		underscore = strchr(key, '_');
		if (!underscore || underscore == key || !underscore[1])
			continue;
		*underscore = '.';
		for (char *p = key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		(void)config_set(c, key, eq + 1);
	}
}

const char *config_get(const struct config *c, const char *key, const char *def)
{
	for (size_t i = 0; c && i < c->n; i++)
		if (streq(c->entries[i].key, key))
			return c->entries[i].value;
	return def;
}

int config_get_int(const struct config *c, const char *key, int def, int *ret)
{
	const char *v = config_get(c, key, NULL);

	if (!v) {
		*ret = def;
		return 0;
	}
	return safe_atoi(v, ret);
}

int config_get_double(const struct config *c, const char *key, double def, double *ret)
{
	const char *v = config_get(c, key, NULL);

	if (!v) {
		*ret = def;
		return 0;
	}
	return safe_atod(v, ret);
}

int config_get_bool(const struct config *c, const char *key, bool def, bool *ret)
{
	const char *v = config_get(c, key, NULL);

	if (!v) {
		*ret = def;
		return 0;
	}
	return parse_boolean(v, ret);
}

const char *config_key_at(const struct config *c, size_t i, const char **ret_value)
{
	if (!c || i >= c->n)
		return NULL;
	if (ret_value)
		*ret_value = c->entries[i].value;
	return c->entries[i].key;
}
