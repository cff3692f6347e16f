/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent-state.h"
#include "fileio.h"
#include "parse-util.h"

#define STATE_FILE "state.json"
#define STATE_BACKUP "state.json.bak"
#define MARKER_FILE "loading.json"

void agent_state_init(struct agent_state *s)
{
	*s = (struct agent_state){};
}

void agent_state_release(struct agent_state *s)
{
	for (size_t i = 0; i < s->n_loaded; i++)
		free(s->loaded[i].path);
	free(s->loaded);
	for (size_t i = 0; i < s->n_blocked; i++) {
		free(s->blocked[i].path);
		free(s->blocked[i].reason);
	}
	free(s->blocked);
	for (size_t i = 0; i < s->n_failures; i++) {
		free(s->failures[i].path);
		free(s->failures[i].last_error);
	}
	free(s->failures);
	free(s->last_result);
	free(s->last_message);
	free(s->last_error);
	json_decref(s->newest);
	json_decref(s->history);
	*s = (struct agent_state){};
}

static int dup_or_null(char **dst, const char *src)
{
	char *d = NULL;

	if (src && !(d = strdup(src)))
		return -ENOMEM;
	free(*dst);
	*dst = d;
	return 0;
}

static int copy_name(char *dst, size_t size, const char *src)
{
	if (!src || strlen(src) >= size)
		return -EINVAL;
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* Field readers that name the JSON path of what is wrong. */
static int want_string(const json_t *o, const char *key, const char *where, bool nullable,
		       const char **ret, char err[], size_t errsize)
{
	const json_t *v = json_object_get(o, key);

	if (nullable && (!v || json_is_null(v))) {
		*ret = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return parse_error(err, errsize, "%s.%s: not a string", where, key);
	*ret = json_string_value(v);
	return 0;
}

static int want_int(const json_t *o, const char *key, const char *where, int64_t *ret,
		    char err[], size_t errsize)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*ret = 0;
		return 0;
	}
	if (!json_is_integer(v))
		return parse_error(err, errsize, "%s.%s: not an integer", where, key);
	*ret = json_integer_value(v);
	return 0;
}

static int want_array(const json_t *o, const char *key, const json_t **ret, char err[],
		      size_t errsize)
{
	const json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		*ret = NULL;
		return 0;
	}
	if (!json_is_array(v))
		return parse_error(err, errsize, "%s: not an array", key);
	*ret = v;
	return 0;
}

int agent_state_from_json(const json_t *j, struct agent_state *ret, char err[], size_t errsize)
{
	struct agent_state s;
	const json_t *arr = NULL, *e, *v;
	const char *str = NULL;
	int64_t n = 0;
	size_t i;
	int r;

	agent_state_init(&s);
	if (!json_is_object(j))
		return parse_error(err, errsize, "not a JSON object");
	r = want_int(j, "version", "", &n, err, errsize);
	if (r < 0)
		return r;
	if (n != AGENT_STATE_VERSION)
		return parse_error(err, errsize, "version %lld is not %d", (long long)n,
				   AGENT_STATE_VERSION);
	r = want_string(j, "boot_id", "", true, &str, err, errsize);
	if (r < 0)
		goto fail;
	if (str && copy_name(s.boot_id, sizeof(s.boot_id), str) < 0) {
		r = parse_error(err, errsize, ".boot_id: too long");
		goto fail;
	}

	r = want_array(j, "loaded", &arr, err, errsize);
	if (r < 0)
		goto fail;
	json_array_foreach(arr, i, e) {
		char where[48];
		const char *path = NULL, *module = NULL, *sha = NULL;
		int64_t version = 0, at = 0;

		snprintf(where, sizeof(where), "loaded[%zu]", i);
		if ((r = want_string(e, "path", where, false, &path, err, errsize)) < 0 ||
		    (r = want_string(e, "module", where, false, &module, err, errsize)) < 0 ||
		    (r = want_string(e, "sha256", where, false, &sha, err, errsize)) < 0 ||
		    (r = want_int(e, "patch_version", where, &version, err, errsize)) < 0 ||
		    (r = want_int(e, "loaded_at", where, &at, err, errsize)) < 0)
			goto fail;
		if (!agent_module_name_valid(module) || strlen(sha) != 64) {
			r = parse_error(err, errsize, "%s: bad module name or sha256", where);
			goto fail;
		}
		r = agent_state_set_loaded(&s, path, module, version, sha, at,
					   json_is_true(json_object_get(e, "confirmed")));
		if (r < 0)
			goto fail;
	}

	r = want_array(j, "blocklist", &arr, err, errsize);
	if (r < 0)
		goto fail;
	json_array_foreach(arr, i, e) {
		char where[48];
		const char *path = NULL, *module = NULL, *reason = NULL;
		int64_t version = 0, t = 0;

		snprintf(where, sizeof(where), "blocklist[%zu]", i);
		if ((r = want_string(e, "path", where, false, &path, err, errsize)) < 0 ||
		    (r = want_string(e, "module", where, false, &module, err, errsize)) < 0 ||
		    (r = want_string(e, "reason", where, false, &reason, err, errsize)) < 0 ||
		    (r = want_int(e, "patch_version", where, &version, err, errsize)) < 0 ||
		    (r = want_int(e, "time", where, &t, err, errsize)) < 0)
			goto fail;
		if (!agent_module_name_valid(module)) {
			r = parse_error(err, errsize, "%s.module: not a module name", where);
			goto fail;
		}
		r = agent_state_block(&s, path, module, version, reason, t);
		if (r < 0)
			goto fail;
	}

	r = want_array(j, "failures", &arr, err, errsize);
	if (r < 0)
		goto fail;
	json_array_foreach(arr, i, e) {
		char where[48];
		const char *path = NULL, *last = NULL;
		int64_t count = 0;

		snprintf(where, sizeof(where), "failures[%zu]", i);
		if ((r = want_string(e, "path", where, false, &path, err, errsize)) < 0 ||
		    (r = want_string(e, "last_error", where, true, &last, err, errsize)) < 0 ||
		    (r = want_int(e, "count", where, &count, err, errsize)) < 0)
			goto fail;
		if (count < 1 || count > 1000000) {
			r = parse_error(err, errsize, "%s.count: out of range", where);
			goto fail;
		}
		r = agent_state_count_failure(&s, path, last);
		if (r < 0)
			goto fail;
		s.failures[s.n_failures - 1].count = (unsigned)count;
	}

	v = json_object_get(j, "last_check");
	if (v && !json_is_null(v)) {
		const char *result, *message;

		if (!json_is_object(v)) {
			r = parse_error(err, errsize, "last_check: not an object");
			goto fail;
		}
		if ((r = want_int(v, "time", "last_check", &s.last_check, err, errsize)) < 0 ||
		    (r = want_string(v, "result", "last_check", false, &result, err, errsize)) <
			    0 ||
		    (r = want_string(v, "message", "last_check", true, &message, err, errsize)) <
			    0)
			goto fail;
		if (dup_or_null(&s.last_result, result) < 0 ||
		    dup_or_null(&s.last_message, message) < 0) {
			r = -ENOMEM;
			goto fail;
		}
	}
	v = json_object_get(j, "last_error");
	if (v && !json_is_null(v)) {
		const char *message;

		if (!json_is_object(v)) {
			r = parse_error(err, errsize, "last_error: not an object");
			goto fail;
		}
		if ((r = want_int(v, "time", "last_error", &s.last_error_time, err, errsize)) <
			    0 ||
		    (r = want_string(v, "message", "last_error", false, &message, err, errsize)) <
			    0)
			goto fail;
		if (dup_or_null(&s.last_error, message) < 0) {
			r = -ENOMEM;
			goto fail;
		}
	}
	v = json_object_get(j, "newest");
	if (v && !json_is_null(v)) {
		if (!json_is_object(v)) {
			r = parse_error(err, errsize, "newest: not an object");
			goto fail;
		}
		s.newest = json_deep_copy(v);
	}
	r = want_array(j, "history", &arr, err, errsize);
	if (r < 0)
		goto fail;
	s.history = arr ? json_deep_copy(arr) : json_array();
	if (!s.history) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = s;
	return 0;
fail:
	agent_state_release(&s);
	return r;
}

static json_t *nullable_string(const char *s)
{
	return s ? json_string(s) : json_null();
}

json_t *agent_state_to_json(const struct agent_state *s)
{
	json_t *loaded = json_array(), *blocked = json_array(), *failures = json_array();

	if (!loaded || !blocked || !failures)
		goto oom;
	for (size_t i = 0; i < s->n_loaded; i++) {
		const struct agent_loaded *l = &s->loaded[i];

		json_t *e = json_pack("{s:s, s:s, s:I, s:s, s:I, s:b}", "path", l->path, "module",
				      l->module, "patch_version", (json_int_t)l->version, "sha256",
				      l->sha256, "loaded_at", (json_int_t)l->loaded_at, "confirmed",
				      l->confirmed);

		if (json_array_append_new(loaded, e) < 0)
			goto oom;
	}
	for (size_t i = 0; i < s->n_blocked; i++) {
		const struct agent_blocked *b = &s->blocked[i];

		if (json_array_append_new(blocked,
					  json_pack("{s:s, s:s, s:I, s:s, s:I}", "path", b->path,
						    "module", b->module, "patch_version",
						    (json_int_t)b->version, "reason", b->reason,
						    "time", (json_int_t)b->time)) < 0)
			goto oom;
	}
	for (size_t i = 0; i < s->n_failures; i++) {
		const struct agent_failure *f = &s->failures[i];

		if (json_array_append_new(failures,
					  json_pack("{s:s, s:I, s:o}", "path", f->path, "count",
						    (json_int_t)f->count, "last_error",
						    nullable_string(f->last_error))) < 0)
			goto oom;
	}
	return json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:O?, s:o}", "version",
			 AGENT_STATE_VERSION, "boot_id", *s->boot_id ? json_string(s->boot_id)
								     : json_null(),
			 "loaded", loaded, "blocklist", blocked, "failures", failures,
			 "last_check",
			 s->last_check ? json_pack("{s:I, s:s, s:o}", "time",
						   (json_int_t)s->last_check, "result",
						   s->last_result ? s->last_result : "unknown",
						   "message", nullable_string(s->last_message))
				       : json_null(),
			 "last_error",
			 s->last_error ? json_pack("{s:I, s:s}", "time",
						   (json_int_t)s->last_error_time, "message",
						   s->last_error)
				       : json_null(),
			 "newest", s->newest, "history",
			 s->history ? json_deep_copy(s->history) : json_array());
oom:
	json_decref(loaded);
	json_decref(blocked);
	json_decref(failures);
	return NULL;
}

static int load_one(const char *dir, const char *name, struct agent_state *ret, char err[],
		    size_t errsize)
{
	_cleanup_free_ char *path = path_join(dir, name), *buf = NULL;
	char inner[512];
	json_error_t je;
	json_t *j;
	size_t len;
	int r;

	if (!path)
		return -ENOMEM;
	r = read_file_bounded(path, AGENT_STATE_MAX, &buf, &len);
	if (r < 0) {
		snprintf(err, errsize, "cannot read '%s': %s", path, strerror(-r));
		return r;
	}
	j = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return parse_error(err, errsize, "'%s': line %d column %d: %s", path, je.line,
				   je.column, je.text);
	r = agent_state_from_json(j, ret, inner, sizeof(inner));
	json_decref(j);
	if (r == -EBADMSG)
		return parse_error(err, errsize, "'%s': %s", path, inner);
	return r;
}

int agent_state_load(const char *dir, struct agent_state *ret, char err[], size_t errsize)
{
	char first[768], second[768];
	int r;

	r = load_one(dir, STATE_FILE, ret, first, sizeof(first));
	if (r >= 0)
		return 0;
	if (r == -ENOENT) {
		/* No state yet; a backup alone means the main file was lost: use it. */
		r = load_one(dir, STATE_BACKUP, ret, second, sizeof(second));
		if (r == -ENOENT) {
			agent_state_init(ret);
			ret->history = json_array();
			return ret->history ? 0 : -ENOMEM;
		}
		if (r >= 0) {
			snprintf(err, errsize, "%s; using the last good copy '%s/%s'", first, dir,
				 STATE_BACKUP);
			return 1;
		}
		snprintf(err, errsize, "%s", second);
		return r;
	}
	if (r != -EBADMSG) {
		snprintf(err, errsize, "%s", first);
		return r;
	}
	r = load_one(dir, STATE_BACKUP, ret, second, sizeof(second));
	if (r >= 0) {
		snprintf(err, errsize, "%s; using the last good copy '%s/%s'", first, dir,
			 STATE_BACKUP);
		return 1;
	}
	snprintf(err, errsize, "%s (and no good copy: %s)", first, second);
	return -EBADMSG;
}

int agent_state_save(const char *dir, const struct agent_state *s, char err[], size_t errsize)
{
	_cleanup_free_ char *path = path_join(dir, STATE_FILE), *bak = path_join(dir, STATE_BACKUP);
	_cleanup_free_ char *text = NULL;
	json_t *j = agent_state_to_json(s);
	int r;

	if (!path || !bak || !j) {
		json_decref(j);
		return -ENOMEM;
	}
	text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	r = write_file_atomic(path, text, strlen(text), 0644);
	if (r >= 0)
		r = write_file_atomic(bak, text, strlen(text), 0644);
	if (r < 0)
		snprintf(err, errsize, "cannot write '%s': %s", r >= 0 ? bak : path, strerror(-r));
	return r;
}

const struct agent_blocked *agent_state_blocked(const struct agent_state *s, const char *path)
{
	for (size_t i = 0; i < s->n_blocked; i++)
		if (streq(s->blocked[i].path, path))
			return &s->blocked[i];
	return NULL;
}

int agent_state_block(struct agent_state *s, const char *path, const char *module,
		      int64_t version, const char *reason, int64_t now)
{
	struct agent_blocked *b = (struct agent_blocked *)agent_state_blocked(s, path);

	if (!b) {
		if (s->n_blocked >= AGENT_BLOCKLIST_MAX)
			return -E2BIG;
		b = realloc(s->blocked, (s->n_blocked + 1) * sizeof(*b));
		if (!b)
			return -ENOMEM;
		s->blocked = b;
		b = &b[s->n_blocked];
		*b = (struct agent_blocked){};
		if (copy_name(b->module, sizeof(b->module), module) < 0)
			return -EINVAL;
		b->path = strdup(path);
		if (!b->path)
			return -ENOMEM;
		s->n_blocked++;
	}
	b->version = version;
	b->time = now;
	return dup_or_null(&b->reason, reason ? reason : "blocked");
}

int agent_state_unblock(struct agent_state *s, const char *name)
{
	size_t w = 0;
	int n = 0;

	for (size_t i = 0; i < s->n_blocked; i++) {
		if (streq(s->blocked[i].path, name) || streq(s->blocked[i].module, name)) {
			free(s->blocked[i].path);
			free(s->blocked[i].reason);
			n++;
			continue;
		}
		s->blocked[w++] = s->blocked[i];
	}
	s->n_blocked = w;
	return n;
}

struct agent_loaded *agent_state_loaded(struct agent_state *s, const char *module)
{
	for (size_t i = 0; i < s->n_loaded; i++)
		if (streq(s->loaded[i].module, module))
			return &s->loaded[i];
	return NULL;
}

int agent_state_set_loaded(struct agent_state *s, const char *path, const char *module,
			   int64_t version, const char *sha256, int64_t now, bool confirmed)
{
	struct agent_loaded *l = agent_state_loaded(s, module);
	char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	if (!l) {
		l = realloc(s->loaded, (s->n_loaded + 1) * sizeof(*l));
		if (!l) {
			free(p);
			return -ENOMEM;
		}
		s->loaded = l;
		l = &l[s->n_loaded++];
		*l = (struct agent_loaded){};
	}
	free(l->path);
	l->path = p;
	if (copy_name(l->module, sizeof(l->module), module) < 0 ||
	    copy_name(l->sha256, sizeof(l->sha256), sha256) < 0)
		return -EINVAL;
	l->version = version;
	l->loaded_at = now;
	l->confirmed = confirmed;
	return 0;
}

void agent_state_drop_loaded(struct agent_state *s, const char *module)
{
	size_t w = 0;

	for (size_t i = 0; i < s->n_loaded; i++) {
		if (streq(s->loaded[i].module, module)) {
			free(s->loaded[i].path);
			continue;
		}
		s->loaded[w++] = s->loaded[i];
	}
	s->n_loaded = w;
}

int agent_state_count_failure(struct agent_state *s, const char *path, const char *error)
{
	struct agent_failure *f = NULL;

	for (size_t i = 0; i < s->n_failures; i++)
		if (streq(s->failures[i].path, path))
			f = &s->failures[i];
	if (!f) {
		f = realloc(s->failures, (s->n_failures + 1) * sizeof(*f));
		if (!f)
			return -ENOMEM;
		s->failures = f;
		f = &f[s->n_failures];
		*f = (struct agent_failure){};
		f->path = strdup(path);
		if (!f->path)
			return -ENOMEM;
		s->n_failures++;
	}
	if (dup_or_null(&f->last_error, error) < 0)
		return -ENOMEM;
	return (int)++f->count;
}

void agent_state_clear_failures(struct agent_state *s, const char *path)
{
	size_t w = 0;

	for (size_t i = 0; i < s->n_failures; i++) {
		if (streq(s->failures[i].path, path)) {
			free(s->failures[i].path);
			free(s->failures[i].last_error);
			continue;
		}
		s->failures[w++] = s->failures[i];
	}
	s->n_failures = w;
}

int agent_state_set_check(struct agent_state *s, int64_t now, const char *result,
			  const char *message)
{
	s->last_check = now;
	if (dup_or_null(&s->last_result, result) < 0 || dup_or_null(&s->last_message, message) < 0)
		return -ENOMEM;
	return 0;
}

int agent_state_set_error(struct agent_state *s, int64_t now, const char *message)
{
	s->last_error_time = now;
	return dup_or_null(&s->last_error, message);
}

int agent_state_add_history(struct agent_state *s, int64_t now, const char *event,
			    const char *path, const char *detail)
{
	if (!s->history && !(s->history = json_array()))
		return -ENOMEM;
	while (json_array_size(s->history) >= AGENT_HISTORY_MAX)
		json_array_remove(s->history, 0);
	return json_array_append_new(s->history,
				     json_pack("{s:I, s:s, s:o, s:o}", "time", (json_int_t)now,
					       "event", event, "path", nullable_string(path),
					       "detail", nullable_string(detail))) < 0
		       ? -ENOMEM
		       : 0;
}

static const char *const phase_names[_AGENT_MARKER_PHASE_MAX] = {
	[AGENT_MARKER_LOADING] = "loading",
	[AGENT_MARKER_GRACE] = "grace",
};

void agent_marker_release(struct agent_marker *m)
{
	free(m->path);
	*m = (struct agent_marker){};
}

int agent_marker_write(const char *dir, const struct agent_marker *m)
{
	_cleanup_free_ char *path = path_join(dir, MARKER_FILE), *text = NULL;
	json_t *j;

	if (!path)
		return -ENOMEM;
	j = json_pack("{s:s, s:s, s:I, s:s, s:I, s:o, s:o, s:b}", "path", m->path, "module",
		      m->module, "patch_version", (json_int_t)m->version, "phase",
		      phase_names[m->phase], "time", (json_int_t)m->time, "boot_id",
		      *m->boot_id ? json_string(m->boot_id) : json_null(), "uptime",
		      m->uptime >= 0 ? json_real(m->uptime) : json_null(), "stopped", m->stopped);
	if (!j)
		return -ENOMEM;
	text = json_dumps(j, JSON_SORT_KEYS);
	json_decref(j);
	if (!text)
		return -ENOMEM;
	/* write_file_atomic() fsyncs the file and the directory: the marker is on disk
	 * before the kernel sees the module. */
	return write_file_atomic(path, text, strlen(text), 0644);
}

int agent_marker_read(const char *dir, struct agent_marker *ret)
{
	_cleanup_free_ char *path = path_join(dir, MARKER_FILE), *buf = NULL;
	struct agent_marker m = { .uptime = -1 };
	const char *p, *mod, *phase, *boot;
	json_t *j, *v;
	size_t len;
	int r;

	if (!path)
		return -ENOMEM;
	r = read_file_bounded(path, 1024 * 1024, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0 && r != -EFBIG)
		return r;
	j = r < 0 ? NULL : json_loadb(buf, len, 0, NULL);
	p = json_string_value(json_object_get(j, "path"));
	mod = json_string_value(json_object_get(j, "module"));
	phase = json_string_value(json_object_get(j, "phase"));
	boot = json_string_value(json_object_get(j, "boot_id"));
	if (p && mod && agent_module_name_valid(mod) && phase) {
		m.path = strdup(p);
		if (!m.path) {
			json_decref(j);
			return -ENOMEM;
		}
		memcpy(m.module, mod, strlen(mod) + 1);
		m.phase = streq(phase, "grace") ? AGENT_MARKER_GRACE : AGENT_MARKER_LOADING;
		m.version = json_integer_value(json_object_get(j, "patch_version"));
		m.time = json_integer_value(json_object_get(j, "time"));
		if (boot && strlen(boot) < sizeof(m.boot_id))
			memcpy(m.boot_id, boot, strlen(boot) + 1);
		v = json_object_get(j, "uptime");
		if (json_is_number(v))
			m.uptime = json_number_value(v);
		m.stopped = json_is_true(json_object_get(j, "stopped"));
	}
	json_decref(j);
	*ret = m;
	return 1;
}

int agent_marker_clear(const char *dir)
{
	_cleanup_free_ char *path = path_join(dir, MARKER_FILE);

	if (!path)
		return -ENOMEM;
	if (unlink(path) < 0) {
		if (errno == ENOENT)
			return 0;
		return -errno;
	}
	/* Durable, or a power cut could bring the marker back and block a good patch. */
	{
		_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd < 0 || fsync(fd) < 0)
			return -errno;
	}
	return 0;
}
