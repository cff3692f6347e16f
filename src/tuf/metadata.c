/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "canonical.h"
#include "metadata.h"
#include "parse-util.h"
#include "strbuf.h"

#define SPEC_MAJOR "1"

struct keyset_entry {
	const char *keyid; /* borrowed from the metadata's JSON */
	const json_t *json;
	struct tuf_key *key;
	bool tried;
};

struct tuf_keyset {
	size_t n;
	struct keyset_entry e[];
};

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int digits(const char *s, size_t n, unsigned *ret)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EBADMSG;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*ret = v;
	return 0;
}

int tuf_time_parse(const char *s, int64_t *ret)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, sec;

	if (!s || strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z')
		return -EBADMSG;
	if (digits(s, 4, &y) < 0 || digits(s + 5, 2, &mo) < 0 || digits(s + 8, 2, &d) < 0 ||
	    digits(s + 11, 2, &h) < 0 || digits(s + 14, 2, &mi) < 0 || digits(s + 17, 2, &sec) < 0)
		return -EBADMSG;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
		return -EBADMSG;
	if (d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return -EBADMSG;
	*ret = civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

int tuf_time_format(int64_t t, char buf[static 21])
{
	char tmp[64];
	int64_t days, y;
	unsigned m, d, secs;

	if (t < 0 || t > civil_days(9999, 12, 31) * 86400 + 86399)
		return -EINVAL;
	days = t / 86400;
	secs = (unsigned)(t % 86400);
	civil_from_days(days, &y, &m, &d);
	snprintf(tmp, sizeof(tmp), "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)y, m, d, secs / 3600,
		 secs / 60 % 60, secs % 60);
	memcpy(buf, tmp, 21);
	return 0;
}

int tuf_envelope_sign(json_t *signed_body, struct tuf_signer *const *signers, size_t n_signers,
		      json_t **ret_envelope, char err[], size_t errsize)
{
	_cleanup_free_ char *buf = NULL;
	json_t *sigs, *env;
	size_t len;
	int r;

	if (!json_is_object(signed_body) || n_signers == 0)
		return error_message(err, errsize, -EINVAL, "nothing to sign: %s",
				     n_signers ? "the body is not an object" : "no signers");
	r = tuf_canonical_encode(signed_body, &buf, &len);
	if (r < 0)
		return error_message(err, errsize, r, "cannot encode the body: %s",
				     r == -EINVAL ? "it holds a real number" : strerror(-r));
	sigs = json_array();
	if (!sigs)
		return -ENOMEM;
	for (size_t i = 0; i < n_signers; i++) {
		_cleanup_free_ char *sig = NULL;
		const char *keyid = tuf_key_id(tuf_signer_key(signers[i]));

		for (size_t j = 0; j < i; j++)
			if (streq(keyid, tuf_key_id(tuf_signer_key(signers[j])))) {
				json_decref(sigs);
				return error_message(err, errsize, -EINVAL, "key '%s' given twice",
						     keyid);
			}
		r = tuf_signer_sign(signers[i], buf, len, &sig, err, errsize);
		if (r < 0) {
			json_decref(sigs);
			return r;
		}
		if (json_array_append_new(sigs, json_pack("{s:s, s:s}", "keyid", keyid, "sig",
							  sig)) < 0) {
			json_decref(sigs);
			return -ENOMEM;
		}
	}
	env = json_pack("{s:o, s:O}", "signatures", sigs, "signed", signed_body);
	if (!env)
		return -ENOMEM;
	*ret_envelope = env;
	return 0;
}

int tuf_envelope_dump(const json_t *envelope, char **ret_buf, size_t *ret_len)
{
	_cleanup_free_ char *canonical = NULL;
	size_t len;
	char *s;
	int r;

	/* Refuses what canonical JSON refuses (reals), so every published body can be verified. */
	r = tuf_canonical_encode(envelope, &canonical, &len);
	if (r < 0)
		return r;
	s = json_dumps(envelope, JSON_COMPACT | JSON_SORT_KEYS);
	if (!s)
		return -ENOMEM;
	*ret_buf = s;
	*ret_len = strlen(s);
	return 0;
}

/* Keysets */

static struct tuf_keyset *keyset_free(struct tuf_keyset *set)
{
	if (!set)
		return NULL;
	for (size_t i = 0; i < set->n; i++)
		tuf_key_free(set->e[i].key);
	free(set);
	return NULL;
}

static int keyset_new(const json_t *keys, struct tuf_keyset **ret)
{
	struct tuf_keyset *set;
	const char *keyid;
	json_t *v;
	size_t i = 0;

	set = calloc(1, sizeof(*set) + json_object_size(keys) * sizeof(set->e[0]));
	if (!set)
		return -ENOMEM;
	json_object_foreach((json_t *)keys, keyid, v) {
		set->e[i].keyid = keyid;
		set->e[i].json = v;
		i++;
	}
	set->n = i;
	*ret = set;
	return 0;
}

/* Key sets are parsed lazily and may be shared between threads (the parse cache). */
static pthread_mutex_t keyset_lock = PTHREAD_MUTEX_INITIALIZER;

const struct tuf_key *tuf_keyset_get(struct tuf_keyset *set, const char *keyid)
{
	const struct tuf_key *k = NULL;

	if (!set)
		return NULL;
	pthread_mutex_lock(&keyset_lock);
	for (size_t i = 0; i < set->n; i++) {
		struct keyset_entry *e = &set->e[i];

		if (!streq(e->keyid, keyid))
			continue;
		if (!e->tried) {
			/* Unknown schemes and unusable key material only make the key
			 * unable to sign: the metadata stays valid. */
			e->tried = true;
			(void)tuf_key_from_json_id(e->json, e->keyid, &e->key, NULL, 0);
		}
		k = e->key;
		break;
	}
	pthread_mutex_unlock(&keyset_lock);
	return k;
}

/* Parsing */

struct ctx {
	const char *what;
	char *err;
	size_t errsize;
};

_printf_(2, 3) static int bad(const struct ctx *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return error_message(c->err, c->errsize, -EBADMSG, "'%s': %s", c->what, msg);
}

static bool is_count(const json_t *v, int64_t min)
{
	return json_is_integer(v) && json_integer_value(v) >= min;
}

static int check_key(const struct ctx *c, const char *path, const char *keyid, const json_t *key)
{
	const json_t *keyval = json_object_get(key, "keyval");

	if (!json_is_object(key) || !json_is_string(json_object_get(key, "keytype")) ||
	    !json_is_string(json_object_get(key, "scheme")) || !json_is_object(keyval) ||
	    !json_is_string(json_object_get(keyval, "public")))
		return bad(c, "%s.keys[\"%.80s\"]: not a key with string keytype, scheme and "
			   "keyval.public", path, keyid);
	return 0;
}

static int check_keys(const struct ctx *c, const json_t *keys, const char *path)
{
	const char *keyid;
	json_t *v;
	int r;

	if (!json_is_object(keys))
		return bad(c, "%s.keys: not an object", path);
	if (json_object_size(keys) > TUF_KEYS_MAX)
		return bad(c, "%s.keys: more than %d keys", path, TUF_KEYS_MAX);
	json_object_foreach((json_t *)keys, keyid, v) {
		r = check_key(c, path, keyid, v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* {keyids: [string...], threshold: int >= 1} (delegated roles have more). */
static int check_role_keys(const struct ctx *c, const json_t *role, const char *path)
{
	const json_t *keyids = json_object_get(role, "keyids");
	size_t i;
	json_t *v;

	if (!json_is_object(role))
		return bad(c, "%s: not an object", path);
	if (!json_is_array(keyids) || json_array_size(keyids) > TUF_KEYS_MAX)
		return bad(c, "%s.keyids: not an array (of at most %d)", path, TUF_KEYS_MAX);
	json_array_foreach(keyids, i, v)
		if (!json_is_string(v))
			return bad(c, "%s.keyids[%zu]: not a string", path, i);
	if (!is_count(json_object_get(role, "threshold"), 1))
		return bad(c, "%s.threshold: not an integer >= 1", path);
	return 0;
}

static int check_hashes(const struct ctx *c, const json_t *hashes, const char *path,
			bool required)
{
	const char *alg;
	json_t *v;

	if (!hashes && !required)
		return 0;
	if (!json_is_object(hashes) || json_object_size(hashes) == 0)
		return bad(c, "%s.hashes: not a non-empty object", path);
	json_object_foreach((json_t *)hashes, alg, v)
		if (!json_is_string(v))
			return bad(c, "%s.hashes.%.40s: not a string", path, alg);
	return 0;
}

static int check_metafile(const struct ctx *c, const char *name, const json_t *mf)
{
	char path[300];
	const json_t *length;

	snprintf(path, sizeof(path), "signed.meta[\"%.200s\"]", name);
	if (!json_is_object(mf))
		return bad(c, "%s: not an object", path);
	if (!is_count(json_object_get(mf, "version"), 1))
		return bad(c, "%s.version: not an integer >= 1", path);
	length = json_object_get(mf, "length");
	if (length && !is_count(length, 0))
		return bad(c, "%s.length: not an integer >= 0", path);
	return check_hashes(c, json_object_get(mf, "hashes"), path, false);
}

static int check_meta(const struct ctx *c, const json_t *body, bool timestamp)
{
	const json_t *meta = json_object_get(body, "meta");
	const char *name;
	json_t *v;
	int r;

	if (!json_is_object(meta))
		return bad(c, "signed.meta: not an object");
	if (timestamp && !json_object_get(meta, "snapshot.json"))
		return bad(c, "signed.meta: no \"snapshot.json\"");
	json_object_foreach((json_t *)meta, name, v) {
		r = check_metafile(c, name, v);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_root(const struct ctx *c, const json_t *body)
{
	static const char *const roles[] = { "root", "timestamp", "snapshot", "targets" };
	const json_t *cs = json_object_get(body, "consistent_snapshot");
	const json_t *rs = json_object_get(body, "roles");
	int r;

	if (cs && !json_is_boolean(cs))
		return bad(c, "signed.consistent_snapshot: not a boolean");
	r = check_keys(c, json_object_get(body, "keys"), "signed");
	if (r < 0)
		return r;
	if (!json_is_object(rs))
		return bad(c, "signed.roles: not an object");
	for (size_t i = 0; i < ARRAY_SIZE(roles); i++) {
		char path[64];

		snprintf(path, sizeof(path), "signed.roles.%s", roles[i]);
		if (!json_object_get(rs, roles[i]))
			return bad(c, "%s: missing", path);
		r = check_role_keys(c, json_object_get(rs, roles[i]), path);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool is_top_level(const char *name)
{
	return streq(name, "root") || streq(name, "timestamp") || streq(name, "snapshot") ||
	       streq(name, "targets");
}

static int check_string_array(const struct ctx *c, const json_t *a, const char *path)
{
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return bad(c, "%s: not an array", path);
	json_array_foreach(a, i, v)
		if (!json_is_string(v))
			return bad(c, "%s[%zu]: not a string", path, i);
	return 0;
}

static int check_delegations(const struct ctx *c, const json_t *d)
{
	const json_t *roles = json_object_get(d, "roles");
	_cleanup_(json_decrefp) json_t *seen = json_object(); /* names so far */
	size_t i;
	json_t *role;
	int r;

	if (!json_is_object(d))
		return bad(c, "signed.delegations: not an object");
	r = check_keys(c, json_object_get(d, "keys"), "signed.delegations");
	if (r < 0)
		return r;
	if (json_object_get(d, "succinct_roles")) {
		if (roles)
			return bad(c, "signed.delegations: both roles and succinct_roles");
		return 0; /* refused when a search reaches it (not supported) */
	}
	if (!json_is_array(roles))
		return bad(c, "signed.delegations.roles: not an array");
	if (!seen)
		return -ENOMEM;
	json_array_foreach(roles, i, role) {
		const json_t *name = json_object_get(role, "name");
		const json_t *paths = json_object_get(role, "paths");
		const json_t *prefixes = json_object_get(role, "path_hash_prefixes");
		char path[80];

		snprintf(path, sizeof(path), "signed.delegations.roles[%zu]", i);
		r = check_role_keys(c, role, path);
		if (r < 0)
			return r;
		if (!json_is_string(name) || json_string_length(name) == 0)
			return bad(c, "%s.name: not a non-empty string", path);
		if (is_top_level(json_string_value(name)))
			return bad(c, "%s.name: '%s' is a top-level role", path,
				   json_string_value(name));
		if (json_object_get(seen, json_string_value(name)))
			return bad(c, "%s.name: '%.80s' delegated twice", path,
				   json_string_value(name));
		if (json_object_set_new(seen, json_string_value(name), json_null()) < 0)
			return -ENOMEM;
		if (!json_is_boolean(json_object_get(role, "terminating")))
			return bad(c, "%s.terminating: not a boolean", path);
		if (!!paths == !!prefixes)
			return bad(c, "%s: needs exactly one of paths and path_hash_prefixes", path);
		snprintf(path, sizeof(path), "signed.delegations.roles[%zu].%s", i,
			 paths ? "paths" : "path_hash_prefixes");
		r = check_string_array(c, paths ? paths : prefixes, path);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_targets(const struct ctx *c, const json_t *body)
{
	const json_t *targets = json_object_get(body, "targets");
	const json_t *delegations = json_object_get(body, "delegations");
	const char *name;
	json_t *t;
	int r;

	if (!json_is_object(targets))
		return bad(c, "signed.targets: not an object");
	json_object_foreach((json_t *)targets, name, t) {
		char path[300];
		const json_t *custom = json_object_get(t, "custom");

		snprintf(path, sizeof(path), "signed.targets[\"%.200s\"]", name);
		if (!json_is_object(t))
			return bad(c, "%s: not an object", path);
		if (!is_count(json_object_get(t, "length"), 0))
			return bad(c, "%s.length: not an integer >= 0", path);
		r = check_hashes(c, json_object_get(t, "hashes"), path, true);
		if (r < 0)
			return r;
		if (custom && !json_is_object(custom))
			return bad(c, "%s.custom: not an object", path);
	}
	if (delegations)
		return check_delegations(c, delegations);
	return 0;
}

/* "1.0.31" or "1.0": major must be ours. */
static bool spec_version_ok(const char *v)
{
	size_t parts = 0;

	if (!v)
		return false;
	for (const char *p = v;; p++) {
		size_t n = strspn(p, "0123456789");

		if (n == 0)
			return false;
		parts++;
		p += n;
		if (*p == '\0')
			break;
		if (*p != '.')
			return false;
	}
	return (parts == 2 || parts == 3) && strncmp(v, SPEC_MAJOR ".", 2) == 0;
}

static int check_signatures(const struct ctx *c, const json_t *sigs)
{
	size_t i;
	json_t *s;

	if (!json_is_array(sigs))
		return bad(c, "signatures: not an array");
	if (json_array_size(sigs) > TUF_SIGNATURES_MAX)
		return bad(c, "signatures: more than %d", TUF_SIGNATURES_MAX);
	json_array_foreach(sigs, i, s) {
		const char *keyid = json_string_value(json_object_get(s, "keyid"));

		if (!json_is_object(s) || !keyid || !json_is_string(json_object_get(s, "sig")))
			return bad(c, "signatures[%zu]: not an object with string keyid and sig", i);
		for (size_t j = 0; j < i; j++)
			if (streq(keyid, json_string_value(json_object_get(json_array_get(sigs, j),
									   "keyid"))))
				return bad(c, "signatures[%zu]: keyid '%.80s' signs twice", i, keyid);
	}
	return 0;
}

struct tuf_metadata *tuf_metadata_ref(struct tuf_metadata *m)
{
	__atomic_add_fetch(&m->n_ref, 1, __ATOMIC_RELAXED);
	return m;
}

struct tuf_metadata *tuf_metadata_free(struct tuf_metadata *m)
{
	if (!m || __atomic_sub_fetch(&m->n_ref, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	keyset_free(m->keys);
	free(m->canonical);
	json_decref(m->doc);
	free(m);
	return NULL;
}

int tuf_metadata_parse(const void *buf, size_t len, const char *type, const char *what,
		       struct tuf_metadata **ret, char err[], size_t errsize)
{
	_cleanup_(tuf_metadata_freep) struct tuf_metadata *m = NULL;
	const struct ctx c = { .what = what, .err = err, .errsize = errsize };
	const json_t *keys = NULL;
	json_error_t jerr;
	const char *t, *expires;
	json_t *v;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->n_ref = 1;
	m->doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!m->doc)
		return bad(&c, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
	if (!json_is_object(m->doc))
		return bad(&c, "not a JSON object");
	m->body = json_object_get(m->doc, "signed");
	if (!json_is_object(m->body))
		return bad(&c, "signed: not an object");
	r = check_signatures(&c, json_object_get(m->doc, "signatures"));
	if (r < 0)
		return r;
	t = json_string_value(json_object_get(m->body, "_type"));
	if (!t)
		return bad(&c, "signed._type: not a string");
	if (!streq(t, type))
		return bad(&c, "signed._type: '%.40s', expected '%s'", t, type);
	m->type = t;
	if (!spec_version_ok(json_string_value(json_object_get(m->body, "spec_version"))))
		return bad(&c, "signed.spec_version: not a version string of major %s", SPEC_MAJOR);
	v = json_object_get(m->body, "version");
	if (!is_count(v, 1))
		return bad(&c, "signed.version: not an integer >= 1");
	m->version = json_integer_value(v);
	expires = json_string_value(json_object_get(m->body, "expires"));
	if (!expires || tuf_time_parse(expires, &m->expires) < 0)
		return bad(&c, "signed.expires: not a time of the form YYYY-MM-DDTHH:MM:SSZ");
	if (streq(type, "root"))
		r = check_root(&c, m->body);
	else if (streq(type, "timestamp"))
		r = check_meta(&c, m->body, true);
	else if (streq(type, "snapshot"))
		r = check_meta(&c, m->body, false);
	else if (streq(type, "targets"))
		r = check_targets(&c, m->body);
	else
		r = error_message(err, errsize, -EINVAL, "unknown metadata type '%s'", type);
	if (r < 0)
		return r;
	r = tuf_canonical_encode(m->body, &m->canonical, &m->canonical_len);
	if (r == -EINVAL)
		return bad(&c, "signed: holds a real number, which canonical JSON cannot encode");
	if (r < 0)
		return r;
	if (streq(type, "root"))
		keys = json_object_get(m->body, "keys");
	else if (streq(type, "targets"))
		keys = json_object_get(json_object_get(m->body, "delegations"), "keys");
	if (keys) {
		r = keyset_new(keys, &m->keys);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

int tuf_metadata_verify(const struct tuf_metadata *m, struct tuf_keyset *keys,
			const json_t *keyids, int64_t threshold, const char *role, char err[],
			size_t errsize)
{
	const json_t *sigs = json_object_get(m->doc, "signatures");
	int64_t good = 0;
	size_t i;
	json_t *k;

	json_array_foreach(keyids, i, k) {
		const char *keyid = json_string_value(k);
		const struct tuf_key *key;
		bool dup = false;
		size_t j;
		json_t *s;

		if (!keyid)
			continue;
		for (j = 0; j < i && !dup; j++)
			dup = json_equal(json_array_get(keyids, j), k);
		if (dup)
			continue;
		key = tuf_keyset_get(keys, keyid);
		if (!key)
			continue;
		json_array_foreach(sigs, j, s) {
			if (!streq(json_string_value(json_object_get(s, "keyid")), keyid))
				continue;
			if (tuf_key_verify(key, m->canonical, m->canonical_len,
					   json_string_value(json_object_get(s, "sig"))) == 0)
				good++;
			break;
		}
		if (good >= threshold)
			return 0;
	}
	return error_message(err, errsize, -EKEYREJECTED,
			     "%s: %" PRId64 " valid signature%s of the %" PRId64 " required by role '%s'",
			     m->type, good, good == 1 ? "" : "s", threshold, role);
}

/*
 * The parse cache: metadata parsed from exactly these bytes, shared by every
 * client of the process.  A refresh with nothing new reads the same trusted
 * files and gets the same timestamp.json, and parsing them (JSON, canonical
 * form, checks, key material) is most of its CPU; only the parse is reused,
 * every verification is done again.  Least recently used entries go first.
 */
#define PARSE_CACHE_MAX 32
#define PARSE_CACHE_BYTES (16u * 1024 * 1024)

static struct parsed {
	char *raw;
	size_t len;
	char type[16];
	struct tuf_metadata *md;
	uint64_t used;
} cache[PARSE_CACHE_MAX];
static size_t n_cache, cache_bytes;
static uint64_t cache_tick;
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static void cache_drop(size_t i)
{
	free(cache[i].raw);
	tuf_metadata_free(cache[i].md);
	cache_bytes -= cache[i].len;
	cache[i] = cache[--n_cache];
}

int tuf_metadata_parse_cached(const void *buf, size_t len, const char *type, const char *what,
			      struct tuf_metadata **ret, char err[], size_t errsize)
{
	struct tuf_metadata *m = NULL;
	char *raw;
	int r;

	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < n_cache; i++)
		if (cache[i].len == len && streq(cache[i].type, type) &&
		    memcmp(cache[i].raw, buf, len) == 0) {
			cache[i].used = ++cache_tick;
			m = tuf_metadata_ref(cache[i].md);
			break;
		}
	pthread_mutex_unlock(&cache_lock);
	if (m) {
		*ret = m;
		return 0;
	}
	r = tuf_metadata_parse(buf, len, type, what, &m, err, errsize);
	if (r < 0)
		return r;
	raw = len <= PARSE_CACHE_BYTES && strlen(type) < sizeof(cache[0].type) ? malloc(len + 1) :
										 NULL;
	if (raw) {
		memcpy(raw, buf, len);
		pthread_mutex_lock(&cache_lock);
		while (n_cache && (n_cache == PARSE_CACHE_MAX || cache_bytes + len > PARSE_CACHE_BYTES)) {
			size_t lru = 0;

			for (size_t i = 1; i < n_cache; i++)
				if (cache[i].used < cache[lru].used)
					lru = i;
			cache_drop(lru);
		}
		cache[n_cache] = (struct parsed){ .raw = raw, .len = len, .md = tuf_metadata_ref(m),
						  .used = ++cache_tick };
		snprintf(cache[n_cache].type, sizeof(cache[0].type), "%s", type);
		n_cache++;
		cache_bytes += len;
		pthread_mutex_unlock(&cache_lock);
	}
	*ret = m;
	return 0;
}

void tuf_metadata_cache_clear(void)
{
	pthread_mutex_lock(&cache_lock);
	while (n_cache)
		cache_drop(0);
	pthread_mutex_unlock(&cache_lock);
}
