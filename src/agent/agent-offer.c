/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <strings.h>
#include <stdio.h>
#include <string.h>

#include "agent-offer.h"
#include "parse-util.h"

#define RELEASE_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-"

static const char *const status_names[_AGENT_OFFER_STATUS_MAX] = {
	[AGENT_OFFER_ELIGIBLE] = "eligible",
	[AGENT_OFFER_OTHER_KERNEL] = "other-kernel",
	[AGENT_OFFER_BUILD_ID] = "build-id-mismatch",
	[AGENT_OFFER_AGENT_TOO_OLD] = "agent-too-old",
	[AGENT_OFFER_NOT_CUMULATIVE] = "not-cumulative",
	[AGENT_OFFER_REVOKED] = "revoked",
	[AGENT_OFFER_OTHER_CHANNEL] = "other-channel",
	[AGENT_OFFER_BLOCKED] = "blocked",
};

const char *agent_offer_status_to_string(enum agent_offer_status s)
{
	return s >= 0 && s < _AGENT_OFFER_STATUS_MAX ? status_names[s] : NULL;
}

bool agent_release_valid(const char *release)
{
	size_t n = strlen(release);

	return n > 0 && n < AGENT_RELEASE_MAX && release[0] != '.' &&
	       strspn(release, RELEASE_CHARS) == n;
}

void agent_offer_release(struct agent_offer *o)
{
	if (!o)
		return;
	free(o->path);
	free(o->revoked_reason);
	json_decref(o->target);
	*o = (struct agent_offer){};
}

void agent_offers_free(struct agent_offer *offers, size_t n)
{
	for (size_t i = 0; offers && i < n; i++)
		agent_offer_release(&offers[i]);
	free(offers);
}

static int parse_version_parts(const char *s, uint64_t parts[4])
{
	size_t n = 0;

	memset(parts, 0, 4 * sizeof(uint64_t));
	if (!s || !*s)
		return -EINVAL;
	for (;;) {
		char num[21];
		size_t len = strspn(s, "0123456789");

		if (len == 0 || len >= sizeof(num) || n == 4)
			return -EINVAL;
		memcpy(num, s, len);
		num[len] = '\0';
		if (safe_atou64(num, &parts[n++]) < 0)
			return -EINVAL;
		s += len;
		if (!*s)
			return 0;
		if (*s != '.')
			return -EINVAL;
		s++;
	}
}

int agent_version_compare(const char *a, const char *b, int *ret)
{
	uint64_t pa[4], pb[4];

	if (parse_version_parts(a, pa) < 0 || parse_version_parts(b, pb) < 0)
		return -EINVAL;
	for (size_t i = 0; i < 4; i++)
		if (pa[i] != pb[i]) {
			*ret = pa[i] < pb[i] ? -1 : 1;
			return 0;
		}
	*ret = 0;
	return 0;
}

static int bad(char err[], size_t errsize, const char *path, const char *what)
{
	return parse_error(err, errsize, "target '%s': %s", path, what);
}

static const char *get_string(const json_t *custom, const char *key)
{
	const json_t *v = json_object_get(custom, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

int agent_offer_parse(const char *path, uint64_t length, const json_t *hashes,
		      const json_t *custom, struct agent_offer *ret, char err[], size_t errsize)
{
	struct agent_offer o = {};
	const char *slash, *s, *sha;
	const json_t *v;
	size_t n;
	int r = -EBADMSG;

	if (!path)
		return parse_error(err, errsize, "target without a path");
	slash = strchr(path, '/');
	if (!slash || slash == path || (size_t)(slash - path) >= AGENT_RELEASE_MAX)
		return bad(err, errsize, path, "path is not '<kernel release>/<file>.ko'");
	n = strlen(slash + 1);
	if (n < 4 || n > AGENT_TARGET_FILE_MAX || slash[1] == '.' ||
	    strspn(slash + 1, RELEASE_CHARS) != n || !streq(slash + 1 + n - 3, ".ko"))
		return bad(err, errsize, path,
			   "file name is not [A-Za-z0-9._+-]+.ko (at most 200 characters)");
	if (!json_is_object(custom))
		return bad(err, errsize, path, "no custom object");
	sha = json_is_object(hashes) ? get_string(hashes, "sha256") : NULL;
	if (!sha || strlen(sha) != 64 || !is_hex_string(sha, 64))
		return bad(err, errsize, path, "hashes.sha256 missing or not 64 hex digits");

	s = get_string(custom, "kernel_release");
	if (!s || !agent_release_valid(s))
		return bad(err, errsize, path, "custom.kernel_release missing or malformed");
	if (strlen(s) != (size_t)(slash - path) || strncmp(s, path, (size_t)(slash - path)) != 0)
		return bad(err, errsize, path,
			   "custom.kernel_release does not match the path's directory");
	memcpy(o.release, s, strlen(s) + 1);

	s = get_string(custom, "module_name");
	if (!s || !agent_module_name_valid(s))
		return bad(err, errsize, path,
			   "custom.module_name missing or not 1 to 55 characters of "
			   "[A-Za-z0-9_-]");
	memcpy(o.module, s, strlen(s) + 1);
	agent_module_name_normalize(o.module);

	v = json_object_get(custom, "patch_version");
	if (!json_is_integer(v) || json_integer_value(v) < 1)
		return bad(err, errsize, path, "custom.patch_version: not a positive integer");
	o.version = json_integer_value(v);

	v = json_object_get(custom, "build_id");
	if (json_is_string(v)) {
		s = json_string_value(v);
		n = strlen(s);
		if (n == 0 || n % 2 || n > 2 * AGENT_BUILD_ID_MAX || !is_hex_string(s, n))
			return bad(err, errsize, path, "custom.build_id: not a hex string");
		for (size_t i = 0; i <= n; i++)
			o.build_id[i] = (char)tolower((unsigned char)s[i]);
	} else if (v && !json_is_null(v)) {
		return bad(err, errsize, path, "custom.build_id: neither a string nor null");
	}

	s = get_string(custom, "min_agent_version");
	if (s) {
		int cmp;

		if (strlen(s) >= sizeof(o.min_agent_version) ||
		    agent_version_compare(s, s, &cmp) < 0)
			return bad(err, errsize, path,
				   "custom.min_agent_version: not a version like 0.1.0");
		memcpy(o.min_agent_version, s, strlen(s) + 1);
	} else if (json_object_get(custom, "min_agent_version") &&
		   !json_is_null(json_object_get(custom, "min_agent_version"))) {
		return bad(err, errsize, path, "custom.min_agent_version: not a string");
	}

	v = json_object_get(custom, "replace");
	if (!json_is_boolean(v))
		return bad(err, errsize, path, "custom.replace: not a boolean");
	o.replace = json_is_true(v);
	v = json_object_get(custom, "revoked");
	if (v && !json_is_boolean(v))
		return bad(err, errsize, path, "custom.revoked: not a boolean");
	o.revoked = json_is_true(v);
	if (get_string(custom, "created") &&
	    parse_timestamp(get_string(custom, "created"), &o.created) < 0)
		return bad(err, errsize, path, "custom.created: not an RFC 3339 time");
	v = json_object_get(custom, "channels");
	if (v) {
		char e[192];
		const json_t *ch;
		size_t i;

		if (channel_list_check(v, e, sizeof(e)) < 0)
			return parse_error(err, errsize, "target '%s': custom.channels%s%s", path,
					   *e == '[' ? "" : ": ", e);
		json_array_foreach (v, i, ch)
			memcpy(o.channels[i], json_string_value(ch),
			       strlen(json_string_value(ch)) + 1);
		o.n_channels = json_array_size(v);
	} else {
		/* published before channels existed */
		memcpy(o.channels[0], CHANNEL_DEFAULT, sizeof(CHANNEL_DEFAULT));
		o.n_channels = 1;
	}
	s = get_string(custom, "revoked_reason");

	memcpy(o.sha256, sha, 65);
	for (char *p = o.sha256; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	o.length = length;
	r = -ENOMEM;
	o.path = strdup(path);
	if (!o.path)
		goto fail;
	o.file = o.path + (slash - path) + 1;
	if (s && !(o.revoked_reason = strdup(s)))
		goto fail;
	o.target = json_pack("{s:s, s:I, s:O, s:O}", "path", path, "length", (json_int_t)length,
			     "hashes", hashes, "custom", custom);
	if (!o.target)
		goto fail;
	*ret = o;
	return 0;
fail:
	agent_offer_release(&o);
	return r;
}

int agent_offer_parse_json(const json_t *target, struct agent_offer *ret, char err[],
			   size_t errsize)
{
	const json_t *len = json_object_get(target, "length");

	if (!json_is_integer(len) || json_integer_value(len) < 0)
		return parse_error(err, errsize, "target record without a length");
	return agent_offer_parse(json_string_value(json_object_get(target, "path")),
				 (uint64_t)json_integer_value(len),
				 json_object_get(target, "hashes"),
				 json_object_get(target, "custom"), ret, err, errsize);
}

bool agent_offer_in_channel(const struct agent_offer *o, const char *channel)
{
	for (size_t i = 0; i < o->n_channels; i++)
		if (streq(o->channels[i], channel))
			return true;
	return false;
}

enum agent_offer_status agent_offer_judge(const struct agent_offer *o, const char *release,
					  const char *build_id, const char *channel,
					  const char *agent_version, bool blocked)
{
	int cmp;

	if (!streq(o->release, release))
		return AGENT_OFFER_OTHER_KERNEL;
	if (*o->build_id && (!build_id || strcasecmp(o->build_id, build_id) != 0))
		return AGENT_OFFER_BUILD_ID;
	if (*o->min_agent_version &&
	    (agent_version_compare(o->min_agent_version, agent_version, &cmp) < 0 || cmp > 0))
		return AGENT_OFFER_AGENT_TOO_OLD;
	if (!o->replace)
		return AGENT_OFFER_NOT_CUMULATIVE;
	if (o->revoked)
		return AGENT_OFFER_REVOKED;
	if (!agent_offer_in_channel(o, channel ?: CHANNEL_DEFAULT))
		return AGENT_OFFER_OTHER_CHANNEL;
	if (blocked)
		return AGENT_OFFER_BLOCKED;
	return AGENT_OFFER_ELIGIBLE;
}

int agent_offer_compare(const struct agent_offer *a, const struct agent_offer *b)
{
	if (a->version != b->version)
		return a->version > b->version ? -1 : 1;
	if (a->created != b->created)
		return a->created > b->created ? -1 : 1;
	/* Last resort, but deterministic: "lp_v2-1.ko" comes before "lp_v1-1.ko". */
	return strcmp(b->path, a->path);
}

int agent_offer_newest(const struct agent_offer *offers, const enum agent_offer_status *status,
		       size_t n)
{
	int best = -ENOENT;

	for (size_t i = 0; i < n; i++)
		if (status[i] == AGENT_OFFER_ELIGIBLE &&
		    (best < 0 || agent_offer_compare(&offers[i], &offers[best]) < 0))
			best = (int)i;
	return best;
}
