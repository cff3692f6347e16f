/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "agent-config.h"
#include "channel.h"
#include "config.h"
#include "parse-util.h"
#include "strbuf.h"

static const char *const known_keys[] = {
	"archive.url",	      "archive.root",	    "archive.ca_file",
	"agent.interval",     "agent.channel",	    "agent.auto_apply",
	"agent.grace_period", "agent.transition_timeout", "agent.report_url",
	"agent.state_dir",
};

struct agent_config *agent_config_new(void)
{
	struct agent_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->interval = AGENT_INTERVAL_DEFAULT;
	c->grace_period = AGENT_GRACE_PERIOD_DEFAULT;
	c->transition_timeout = AGENT_TRANSITION_TIMEOUT_DEFAULT;
	c->auto_apply = true;
	c->channel = strdup(CHANNEL_DEFAULT);
	c->state_dir = strdup(AGENT_STATE_DIR);
	if (!c->channel || !c->state_dir)
		return agent_config_free(c);
	return c;
}

struct agent_config *agent_config_free(struct agent_config *c)
{
	if (!c)
		return NULL;
	strv_free(c->mirrors);
	free(c->root_file);
	free(c->ca_file);
	free(c->channel);
	free(c->report_url);
	free(c->state_dir);
	free(c);
	return NULL;
}

int agent_parse_duration(const char *s, unsigned max, unsigned *ret)
{
	uint64_t v, mult = 1;
	char num[32];
	size_t n;

	if (!s)
		return -EINVAL;
	n = strlen(s);
	if (n == 0 || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n + 1);
	switch (num[n - 1]) {
	case 's':
		num[--n] = '\0';
		break;
	case 'm':
		mult = 60;
		num[--n] = '\0';
		break;
	case 'h':
		mult = 3600;
		num[--n] = '\0';
		break;
	case 'd':
		mult = 86400;
		num[--n] = '\0';
		break;
	default:
		break;
	}
	if (safe_atou64(num, &v) < 0)
		return -EINVAL;
	if (v > max / mult)
		return -ERANGE;
	*ret = (unsigned)(v * mult);
	return 0;
}

static bool url_scheme_ok(const char *u)
{
	return strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0 ||
	       strncmp(u, "file://", 7) == 0;
}

static int parse_mirrors(const char *v, char ***ret, const char *path, char err[], size_t errsize)
{
	_cleanup_strv_free_ char **m = NULL;
	const char *p = v;

	while (*p) {
		size_t len;
		char *u;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		len = strcspn(p, " \t");
		if (strv_length(m) >= AGENT_MIRRORS_MAX)
			return parse_error(err, errsize,
					   "'%s': [archive] url: more than %d mirrors", path,
					   AGENT_MIRRORS_MAX);
		/* Always end in '/': the TUF client joins file names to it. */
		if (asprintf(&u, "%.*s%s", (int)len, p, p[len - 1] == '/' ? "" : "/") < 0)
			return -ENOMEM;
		if (!url_scheme_ok(u)) {
			parse_error(err, errsize,
				    "'%s': [archive] url: '%s' is not an http://, https:// or "
				    "file:// URL",
				    path, u);
			free(u);
			return -EBADMSG;
		}
		if (strv_consume(&m, u) < 0)
			return -ENOMEM;
		p += len;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

static int set_str(char **dst, const char *v)
{
	char *s = NULL;

	if (v && *v) {
		s = strdup(v);
		if (!s)
			return -ENOMEM;
	}
	free(*dst);
	*dst = s;
	return 0;
}

static int get_duration(const struct config *cfg, const char *key, unsigned min, unsigned max,
			unsigned *ret, const char *path, char err[], size_t errsize)
{
	const char *v = config_get(cfg, key, NULL);
	unsigned d;

	if (!v)
		return 0;
	if (agent_parse_duration(v, max, &d) < 0 || d < min)
		return parse_error(err, errsize,
				   "'%s': %s = '%s': not a duration between %us and %us "
				   "(seconds, or with s, m, h or d)",
				   path, key, v, min, max);
	*ret = d;
	return 0;
}

int agent_config_load(const char *path, bool optional, struct agent_config **ret, char err[],
		      size_t errsize)
{
	_cleanup_(agent_config_freep) struct agent_config *c = agent_config_new();
	_cleanup_(config_freep) struct config *cfg = config_new();
	const char *key, *v;
	int r, line = 0;

	if (!c || !cfg)
		return -ENOMEM;
	r = config_load_file(cfg, path, optional, &line);
	if (r == -EBADMSG)
		return parse_error(err, errsize,
				   "'%s': line %d: syntax error (expected [section] or "
				   "key = value)",
				   path, line);
	if (r < 0) {
		snprintf(err, errsize, "cannot read '%s': %s", path, strerror(-r));
		return r;
	}
	for (size_t i = 0; (key = config_key_at(cfg, i, &v)); i++) {
		bool known = false;

		for (size_t k = 0; k < ARRAY_SIZE(known_keys); k++)
			known = known || streq(known_keys[k], key);
		if (!known)
			return parse_error(err, errsize, "'%s': unknown key '%s'", path, key);
	}

	v = config_get(cfg, "archive.url", NULL);
	if (v) {
		r = parse_mirrors(v, &c->mirrors, path, err, errsize);
		if (r < 0)
			return r;
	}
	if (set_str(&c->root_file, config_get(cfg, "archive.root", NULL)) < 0 ||
	    set_str(&c->ca_file, config_get(cfg, "archive.ca_file", NULL)) < 0 ||
	    set_str(&c->report_url, config_get(cfg, "agent.report_url", NULL)) < 0)
		return -ENOMEM;
	if (c->report_url && strncmp(c->report_url, "http://", 7) != 0 &&
	    strncmp(c->report_url, "https://", 8) != 0)
		return parse_error(err, errsize,
				   "'%s': agent.report_url = '%s': not an http:// or https:// URL",
				   path, c->report_url);
	v = config_get(cfg, "agent.channel", NULL);
	if (v) {
		if (!channel_name_valid(v))
			return parse_error(err, errsize,
					   "'%s': agent.channel = '%s': not a channel name "
					   "(" CHANNEL_NAME_RULE ")",
					   path, v);
		if (set_str(&c->channel, v) < 0)
			return -ENOMEM;
	}
	v = config_get(cfg, "agent.state_dir", NULL);
	if (v) {
		if (*v != '/')
			return parse_error(err, errsize,
					   "'%s': agent.state_dir = '%s': not an absolute path",
					   path, v);
		if (set_str(&c->state_dir, v) < 0)
			return -ENOMEM;
	}
	v = config_get(cfg, "agent.auto_apply", NULL);
	if (v && parse_boolean(v, &c->auto_apply) < 0)
		return parse_error(err, errsize, "'%s': agent.auto_apply = '%s': not a boolean",
				   path, v);
	r = get_duration(cfg, "agent.interval", 1, AGENT_INTERVAL_MAX, &c->interval, path, err,
			 errsize);
	if (r >= 0)
		r = get_duration(cfg, "agent.grace_period", 0, AGENT_GRACE_PERIOD_MAX,
				 &c->grace_period, path, err, errsize);
	if (r >= 0)
		r = get_duration(cfg, "agent.transition_timeout", 1, AGENT_TRANSITION_TIMEOUT_MAX,
				 &c->transition_timeout, path, err, errsize);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(c);
	return 0;
}
