/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "agent-facts.h"
#include "agent-offer.h"
#include "agent-state.h"
#include "agent-watch.h"
#include "agent.h"
#include "modinfo.h"
#include "client.h"
#include "fileio.h"
#include "lock.h"
#include "parse-util.h"
#include "strbuf.h"

#define POLL_MS 100
#define WATCH_POLL_MS 250
#define UNLOAD_TIMEOUT_S 15
#define SIDECAR_MAX (1024 * 1024)
#define ERR_MAX 1024

struct agent {
	const struct agent_config *config;
	char *root;
	const struct agent_kops *kops;
	struct report *report;
	bool dry_run, defer_grace;
	char *version;
	agent_note_fn note;
	agent_stop_fn should_stop;
	agent_now_fn now;
	void *userdata;
};

/* One engine call: the node's facts, the state and the lock that guards it. */
struct run {
	struct agent *a;
	struct agent_facts facts;
	struct agent_state state;
	bool have_state;
	int lock_fd;
	char *tuf_dir;
	char *cache_dir; /* STATE/cache */
	char *release_dir; /* STATE/cache/<release> */
};

static void note(struct agent *a, enum log_level level, const char *fmt, ...) _printf_(3, 4);
static void note(struct agent *a, enum log_level level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (!a->note)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->note(level, msg, a->userdata);
}

static int64_t now(struct agent *a)
{
	return a->now ? a->now(a->userdata) : (int64_t)time(NULL);
}

static bool stopping(struct agent *a)
{
	return a->should_stop && a->should_stop(a->userdata);
}

static double monotonic_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int agent_new(const struct agent_options *o, struct agent **ret, char err[], size_t errsize)
{
	_cleanup_(agent_freep) struct agent *a = NULL;

	if (!o->config || (!o->kops && !o->dry_run)) {
		snprintf(err, errsize, "agent: a configuration and kernel ops are required");
		return -EINVAL;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->config = o->config;
	a->root = strdup(o->root && *o->root ? o->root : "/");
	a->version = strdup(o->version ? o->version : "0");
	if (!a->root || !a->version)
		return -ENOMEM;
	a->kops = o->kops;
	a->report = o->report;
	a->dry_run = o->dry_run;
	a->defer_grace = o->defer_grace;
	a->note = o->note;
	a->should_stop = o->should_stop;
	a->now = o->now;
	a->userdata = o->userdata;
	*ret = TAKE_PTR(a);
	return 0;
}

struct agent *agent_free(struct agent *a)
{
	if (!a)
		return NULL;
	free(a->root);
	free(a->version);
	free(a);
	return NULL;
}

void agent_set_config(struct agent *a, const struct agent_config *c)
{
	a->config = c;
}

const char *agent_status_code_to_string(enum agent_status_code c)
{
	switch (c) {
	case AGENT_STATUS_OK:
		return "up-to-date";
	case AGENT_STATUS_ERROR:
		return "error";
	case AGENT_STATUS_AVAILABLE:
		return "available";
	case AGENT_STATUS_BLOCKED:
		return "blocked";
	case AGENT_STATUS_STALE:
		return "stale";
	}
	return NULL;
}

/* --- run setup --- */

static void run_release(struct run *x)
{
	agent_facts_release(&x->facts);
	if (x->have_state)
		agent_state_release(&x->state);
	if (x->lock_fd >= 0)
		close(x->lock_fd);
	free(x->tuf_dir);
	free(x->cache_dir);
	free(x->release_dir);
}

static int save(struct run *x, char err[], size_t errsize)
{
	return agent_state_save(x->a->config->state_dir, &x->state, err, errsize);
}

/*
 * Drops loaded records the kernel no longer has (a reboot, someone else's
 * rmmod), and remembers which boot the records describe.
 */
static void reconcile(struct run *x)
{
	for (size_t i = 0; i < x->state.n_loaded;) {
		const struct agent_livepatch *lp =
			agent_facts_livepatch(&x->facts, x->state.loaded[i].module);

		if (lp && lp->enabled != 0) {
			i++;
			continue;
		}
		agent_state_drop_loaded(&x->state, x->state.loaded[i].module);
	}
	memcpy(x->state.boot_id, x->facts.boot_id, sizeof(x->state.boot_id));
}

static int run_begin(struct agent *a, struct run *x, bool lock, char err[], size_t errsize)
{
	const char *dir = a->config->state_dir;
	_cleanup_free_ char *lock_path = NULL;
	char e[ERR_MAX];
	int r;

	*x = (struct run){ .a = a, .lock_fd = -1 };
	if (lock) {
		r = mkdir_p(dir, 0755);
		if (r < 0) {
			snprintf(err, errsize, "cannot create state directory '%s': %s", dir,
				 strerror(-r));
			return r;
		}
		lock_path = path_join(dir, "lock");
		if (!lock_path)
			return -ENOMEM;
		x->lock_fd = lock_file_acquire(lock_path, 0);
		if (x->lock_fd == -EWOULDBLOCK) {
			note(a, LOG_LEVEL_NOTICE, "waiting for another tuxtape-agent ('%s')",
			     lock_path);
			x->lock_fd = lock_file_acquire(lock_path, 1);
		}
		if (x->lock_fd < 0) {
			r = x->lock_fd;
			snprintf(err, errsize, "cannot lock '%s': %s", lock_path, strerror(-r));
			return r;
		}
	}
	r = agent_facts_read(a->root, &x->facts, err, errsize);
	if (r < 0)
		return r;
	r = agent_state_load(dir, &x->state, e, sizeof(e));
	if (r < 0) {
		snprintf(err, errsize, "%s", e);
		return r;
	}
	x->have_state = true;
	if (r > 0) {
		note(a, LOG_LEVEL_ERROR, "%s", e);
		agent_state_set_error(&x->state, now(a), e);
	}
	x->tuf_dir = path_join(dir, "tuf");
	x->cache_dir = path_join(dir, "cache");
	x->release_dir = x->cache_dir ? path_join(x->cache_dir, x->facts.release) : NULL;
	if (!x->tuf_dir || !x->cache_dir || !x->release_dir)
		return -ENOMEM;
	if (!agent_release_valid(x->facts.release)) {
		snprintf(err, errsize, "kernel release '%s' cannot name a cache directory",
			 x->facts.release);
		return -EINVAL;
	}
	reconcile(x);
	return 0;
}

/* The kernel changes under our feet (our own loads, replaces, unloads): read it again. */
static int refresh_facts(struct run *x)
{
	struct agent_facts f;
	char e[ERR_MAX];
	int r = agent_facts_read(x->a->root, &f, e, sizeof(e));

	if (r < 0)
		return r;
	agent_facts_release(&x->facts);
	x->facts = f;
	return 0;
}

/* --- status --- */

static bool offer_loaded(const struct run *x, const char *path)
{
	for (size_t i = 0; i < x->state.n_loaded; i++)
		if (streq(x->state.loaded[i].path, path))
			return true;
	return false;
}

static enum agent_status_code status_code(const struct run *x, int64_t t, const char **ret_why)
{
	const struct agent_config *c = x->a->config;
	const json_t *n = x->state.newest;
	const char *rel = json_string_value(json_object_get(n, "kernel_release"));
	const char *path = json_string_value(json_object_get(n, "path"));

	if (x->state.last_result && streq(x->state.last_result, "error")) {
		*ret_why = "the last check failed";
		return AGENT_STATUS_ERROR;
	}
	if (x->state.last_check == 0 || t - x->state.last_check > 3 * (int64_t)c->interval) {
		*ret_why = x->state.last_check ? "the last check is older than 3 intervals"
					       : "no check has run yet";
		return AGENT_STATUS_STALE;
	}
	if (n && rel && streq(rel, x->facts.release) && path) {
		if (json_is_true(json_object_get(n, "blocked"))) {
			*ret_why = "the newest patch is blocklisted on this node";
			return AGENT_STATUS_BLOCKED;
		}
		if (!offer_loaded(x, path)) {
			*ret_why = "a newer patch is available but not applied";
			return AGENT_STATUS_AVAILABLE;
		}
	}
	*ret_why = "up to date";
	return AGENT_STATUS_OK;
}

static json_t *status_json(const struct run *x, enum agent_status_code code, const char *why)
{
	struct agent_marker m;
	json_t *state = agent_state_to_json(&x->state), *marker = json_null(), *j;
	int r = agent_marker_read(x->a->config->state_dir, &m);

	if (!state)
		return NULL;
	if (r > 0) {
		marker = json_pack("{s:o, s:s, s:I}", "path",
				   m.path ? json_string(m.path) : json_null(), "module", m.module,
				   "time", (json_int_t)m.time);
		agent_marker_release(&m);
	}
	j = json_pack("{s:i, s:s, s:i, s:s, s:s, s:b, s:o, s:O, s:O, s:O, s:O, s:O, s:O, s:o}",
		      "version", 1, "agent_version", x->a->version, "code", (int)code, "status",
		      agent_status_code_to_string(code), "summary", why, "dry_run", x->a->dry_run,
		      "kernel", agent_facts_to_json(&x->facts), "loaded",
		      json_object_get(state, "loaded"), "newest", json_object_get(state, "newest"),
		      "blocklist", json_object_get(state, "blocklist"), "last_check",
		      json_object_get(state, "last_check"), "last_error",
		      json_object_get(state, "last_error"), "history",
		      json_object_get(state, "history"), "marker", marker);
	json_decref(state);
	return j;
}

static void report(struct run *x)
{
	const char *why;
	enum agent_status_code code = status_code(x, now(x->a), &why);
	json_t *j;
	char e[ERR_MAX];

	if (!x->a->report)
		return;
	j = status_json(x, code, why);
	if (!j) {
		note(x->a, LOG_LEVEL_WARNING, "cannot build the report: out of memory");
		return;
	}
	if (report_send(x->a->report, j, e, sizeof(e)) < 0)
		note(x->a, LOG_LEVEL_WARNING, "%s, ignoring", e);
	json_decref(j);
}

int agent_status(struct agent *a, json_t **ret, char err[], size_t errsize)
{
	struct run x;
	enum agent_status_code code;
	const char *why;
	int r;

	r = run_begin(a, &x, false, err, errsize);
	if (r < 0) {
		*ret = json_pack("{s:i, s:s, s:i, s:s, s:s}", "version", 1, "agent_version",
				 a->version, "code", AGENT_STATUS_ERROR, "status", "error",
				 "summary", err);
		run_release(&x);
		return r;
	}
	code = status_code(&x, now(a), &why);
	*ret = status_json(&x, code, why);
	run_release(&x);
	return *ret ? (int)code : -ENOMEM;
}

/* --- kernel side --- */

static int read_lp(struct run *x, const char *name, const char *attr)
{
	_cleanup_free_ char *rel = NULL, *v = NULL;

	if (asprintf(&rel, "/sys/kernel/livepatch/%s/%s", name, attr) < 0)
		return -ENOMEM;
	if (agent_read_root_file(x->a->root, rel, 64, &v) < 0)
		return -ENOENT;
	return streq(v, "1") ? 1 : streq(v, "0") ? 0 : -EBADMSG;
}

static bool lp_present(struct run *x, const char *name)
{
	_cleanup_free_ char *rel = NULL, *p = NULL;

	if (asprintf(&rel, "/sys/kernel/livepatch/%s", name) < 0)
		return false;
	p = agent_root_path(x->a->root, rel);
	return p && access(p, F_OK) == 0;
}

/*
 * Waits until livepatch name has no transition open (want_gone false), or
 * until it is disabled or gone (want_gone true).  -ENOENT when it vanished
 * while we wanted it, -ETIMEDOUT, -EINTR on a stop request.
 */
static int wait_lp(struct run *x, const char *name, unsigned timeout_s, bool want_gone)
{
	double deadline = monotonic_s() + timeout_s;

	for (;;) {
		int t, e;

		if (!lp_present(x, name))
			return want_gone ? 0 : -ENOENT;
		t = read_lp(x, name, "transition");
		e = read_lp(x, name, "enabled");
		if (t == 0 && (!want_gone || e == 0))
			return 0;
		if (stopping(x->a))
			return -EINTR;
		if (monotonic_s() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(POLL_MS);
	}
}

static int unload_module(struct run *x, const char *name)
{
	double deadline = monotonic_s() + UNLOAD_TIMEOUT_S;

	for (;;) {
		int r = x->a->kops->unload(x->a->kops->userdata, name);

		if (r >= 0 || r == -ENOENT)
			return 0;
		/* A just-disabled patch drops its module reference a moment later. */
		if ((r != -EBUSY && r != -EAGAIN) || monotonic_s() >= deadline)
			return r;
		sleep_ms(POLL_MS * 2);
	}
}

/* Disables (when enabled) and unloads module name, and forgets it as loaded. */
static int remove_patch(struct run *x, const char *name, char err[], size_t errsize)
{
	unsigned timeout = x->a->config->transition_timeout;
	int r;

	if (x->a->dry_run) {
		note(x->a, LOG_LEVEL_NOTICE, "dry run: would disable and unload '%s'", name);
		return 0;
	}
	if (lp_present(x, name)) {
		/* Writing 0 while the patching transition is open reverses it. */
		if (read_lp(x, name, "enabled") == 1) {
			r = x->a->kops->disable(x->a->kops->userdata, name);
			if (r < 0 && r != -ENOENT) {
				snprintf(err, errsize, "cannot disable livepatch '%s': %s", name,
					 strerror(-r));
				return r;
			}
		}
		r = wait_lp(x, name, timeout, true);
		if (r < 0) {
			snprintf(err, errsize,
				 "livepatch '%s': the unpatching transition did not complete "
				 "within %us",
				 name, timeout);
			return r;
		}
	}
	r = unload_module(x, name);
	if (r < 0) {
		snprintf(err, errsize, "cannot unload module '%s': %s", name, strerror(-r));
		return r;
	}
	agent_state_drop_loaded(&x->state, name);
	return 0;
}

static int block(struct run *x, const char *path, const char *module, int64_t version,
		 const char *reason, const char *event)
{
	int64_t t = now(x->a);
	int r;

	if (x->a->dry_run) {
		note(x->a, LOG_LEVEL_NOTICE, "dry run: would blocklist '%s': %s", path, reason);
		return 0;
	}
	r = agent_state_block(&x->state, path, module, version, reason, t);
	if (r >= 0)
		r = agent_state_add_history(&x->state, t, event, path, reason);
	if (r >= 0 && x->state.newest &&
	    streq(json_string_value(json_object_get(x->state.newest, "path")) ?: "", path))
		json_object_set_new(x->state.newest, "blocked", json_true());
	return r;
}

/* --- files --- */

static int read_fd_bounded(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_strbuf_ struct strbuf sb;
	off_t off = 0;
	int r;

	strbuf_init(&sb, max);
	for (;;) {
		ssize_t n;

		r = strbuf_grow(&sb, 65536);
		if (r < 0)
			return r;
		n = pread(fd, sb.buf + sb.len, sb.alloc - sb.len - 1, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		sb.len += (size_t)n;
		off += n;
		if (sb.len > max)
			return -EFBIG;
	}
	*ret = strbuf_detach(&sb, ret_len);
	return *ret ? 0 : -ENOMEM;
}

static int sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) != 1 || n != 32)
		return -EIO;
	for (unsigned i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/*
 * Opens the cached module of offer o and checks it: length and sha256 as
 * listed, a livepatch module of the listed name for this kernel.  Returns
 * the open fd (handed to finit_module(2), so what was checked is what is
 * loaded) or a negative errno with err set.
 */
static int open_verified(struct run *x, const struct agent_offer *o, char err[], size_t errsize)
{
	_cleanup_free_ char *path = path_join(x->release_dir, o->file), *data = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_(modinfo_release) struct modinfo mi = { 0 };
	char sha[65], e[256];
	size_t len = 0;
	int r;

	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		r = -errno;
		snprintf(err, errsize, "cannot open cached module '%s': %s", path, strerror(-r));
		return r;
	}
	r = read_fd_bounded(fd, AGENT_MODULE_MAX, &data, &len);
	if (r < 0) {
		snprintf(err, errsize, "cannot read cached module '%s': %s", path, strerror(-r));
		return r;
	}
	r = sha256_hex(data, len, sha);
	if (r < 0)
		return r;
	if (len != o->length || !streq(sha, o->sha256)) {
		snprintf(err, errsize,
			 "cached module '%s' does not match its metadata (%zu bytes, sha256 %s; "
			 "expected %llu bytes, sha256 %s)",
			 path, len, sha, (unsigned long long)o->length, o->sha256);
		return -EBADMSG;
	}
	r = modinfo_parse(data, len, &mi, e, sizeof(e));
	if (r < 0) {
		snprintf(err, errsize, "module '%s': %s", path, e);
		return -EBADMSG;
	}
	agent_module_name_normalize(mi.name);
	if (!mi.livepatch) {
		snprintf(err, errsize,
			 "module '%s' is not a livepatch (no livepatch=Y in .modinfo)", path);
		return -EBADMSG;
	}
	if (!streq(mi.name, o->module)) {
		snprintf(err, errsize, "module '%s' is named '%s', its metadata says '%s'", path,
			 mi.name, o->module);
		return -EBADMSG;
	}
	if (!modinfo_vermagic_matches(mi.vermagic, x->facts.release)) {
		snprintf(err, errsize, "module '%s' was built for '%s', this kernel is '%s'", path,
			 mi.vermagic ?: "no vermagic", x->facts.release);
		return -EBADMSG;
	}
	return TAKE_FD(fd);
}

static int write_sidecar(struct run *x, const struct agent_offer *o)
{
	_cleanup_free_ char *name = NULL, *path = NULL, *text = NULL;

	if (asprintf(&name, "%s.json", o->file) < 0)
		return -ENOMEM;
	path = path_join(x->release_dir, name);
	text = json_dumps(o->target, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!path || !text)
		return -ENOMEM;
	return write_file_atomic(path, text, strlen(text), 0644);
}

static int cmp_newest_first(const void *a, const void *b)
{
	return agent_offer_compare(a, b);
}

/* The offers recorded beside cached modules of this kernel, newest first. */
static int read_cache(struct run *x, struct agent_offer **ret, size_t *ret_n)
{
	struct agent_offer *offers = NULL;
	size_t n = 0;
	DIR *d = opendir(x->release_dir);
	struct dirent *de;
	int r = 0;

	if (!d) {
		*ret = NULL;
		*ret_n = 0;
		return errno == ENOENT ? 0 : -errno;
	}
	while ((de = readdir(d))) {
		_cleanup_free_ char *path = NULL, *buf = NULL;
		struct agent_offer o, *grown;
		size_t len = strlen(de->d_name), blen;
		char e[512];
		json_t *j;

		if (len < 9 || !streq(de->d_name + len - 8, ".ko.json") || de->d_name[0] == '.')
			continue;
		path = path_join(x->release_dir, de->d_name);
		if (!path) {
			r = -ENOMEM;
			break;
		}
		if (read_file_bounded(path, SIDECAR_MAX, &buf, &blen) < 0)
			continue;
		j = json_loadb(buf, blen, 0, NULL);
		r = j ? agent_offer_parse_json(j, &o, e, sizeof(e)) : -EBADMSG;
		json_decref(j);
		if (r == -ENOMEM)
			break;
		r = 0;
		if (!j || !o.path) {
			note(x->a, LOG_LEVEL_WARNING, "cache record '%s' is unusable, ignoring",
			     path);
			continue;
		}
		if (strlen(o.file) + 5 != len || strncmp(o.file, de->d_name, len - 5) != 0 ||
		    !streq(o.release, x->facts.release)) {
			note(x->a, LOG_LEVEL_WARNING,
			     "cache record '%s' describes '%s', ignoring", path, o.path);
			agent_offer_release(&o);
			continue;
		}
		grown = realloc(offers, (n + 1) * sizeof(*offers));
		if (!grown) {
			agent_offer_release(&o);
			r = -ENOMEM;
			break;
		}
		offers = grown;
		offers[n++] = o;
	}
	closedir(d);
	if (r < 0) {
		agent_offers_free(offers, n);
		return r;
	}
	if (n > 1)
		qsort(offers, n, sizeof(*offers), cmp_newest_first);
	*ret = offers;
	*ret_n = n;
	return 0;
}

/*
 * Removes downloaded modules without a cache record, but keep_file: what
 * `check --dry-run` fetched (it records nothing) once a newer download
 * supersedes it.  A real check writes the record right after the download,
 * so a module it fetched is never an orphan for long.
 */
static void prune_orphans(struct run *x, const char *keep_file)
{
	DIR *d = opendir(x->release_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		_cleanup_free_ char *ko = NULL, *side = NULL;
		size_t len = strlen(de->d_name);

		if (len < 4 || !streq(de->d_name + len - 3, ".ko") || de->d_name[0] == '.' ||
		    (keep_file && streq(de->d_name, keep_file)))
			continue;
		ko = path_join(x->release_dir, de->d_name);
		if (!ko || asprintf(&side, "%s.json", ko) < 0)
			break;
		if (access(side, F_OK) == 0 || errno != ENOENT)
			continue;
		if (unlink(ko) == 0)
			note(x->a, LOG_LEVEL_INFO, "removed '%s' (downloaded, never recorded) from "
			     "the cache", ko);
	}
	closedir(d);
}

/* Keeps the AGENT_CACHE_KEEP newest cached patches of this kernel (and any loaded one). */
static void prune_cache(struct run *x)
{
	struct agent_offer *offers = NULL;
	size_t n = 0, kept = 0;

	if (read_cache(x, &offers, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *ko = NULL, *side = NULL;

		if (kept < AGENT_CACHE_KEEP || offer_loaded(x, offers[i].path)) {
			kept++;
			continue;
		}
		ko = path_join(x->release_dir, offers[i].file);
		if (ko && asprintf(&side, "%s.json", ko) >= 0) {
			unlink(side);
			unlink(ko);
			note(x->a, LOG_LEVEL_INFO, "removed '%s' from the cache", offers[i].path);
		}
	}
	agent_offers_free(offers, n);
	prune_orphans(x, NULL);
}

/* --- load and watch --- */

static bool load_error_is_permanent(int r)
{
	/* Resources and permissions are the node's problem, not the patch's. */
	return r != -ENOMEM && r != -EBUSY && r != -EAGAIN && r != -EINTR && r != -EPERM &&
	       r != -EACCES && r != -EEXIST;
}

enum watch_outcome {
	WATCH_OK,
	WATCH_MISBEHAVED,
	WATCH_STOPPED,
};

/*
 * Watches the kernel log for the rest of the grace period of module name
 * (remaining seconds).  w may be NULL (the log could not be opened): then it
 * only waits.
 */
static enum watch_outcome watch(struct run *x, struct agent_watch *w, const char *name,
				double remaining, struct klog_verdict *ret)
{
	double deadline = monotonic_s() + (remaining > 0 ? remaining : 0);
	struct klog_verdict v = { .kind = KLOG_VERDICT_OK };
	bool stopped = false;

	for (;;) {
		double left = deadline - monotonic_s();
		unsigned ms = left <= 0 ? 0 : left * 1000 < WATCH_POLL_MS ? (unsigned)(left * 1000)
									 : WATCH_POLL_MS;

		if (w) {
			int r = agent_watch_poll(w, ms);

			if (r < 0) {
				note(x->a, LOG_LEVEL_WARNING,
				     "kernel log unreadable during the grace period of '%s': %s",
				     name, strerror(-r));
				w = NULL;
			} else {
				agent_watch_verdict(w, false, &v);
				if (v.kind == KLOG_VERDICT_MISBEHAVED && streq(v.patch, name))
					break;
			}
		} else if (ms) {
			sleep_ms(ms);
		}
		if (left <= 0)
			break;
		if (stopping(x->a)) {
			stopped = true;
			break;
		}
	}
	if (w)
		agent_watch_verdict(w, !stopped, &v);
	*ret = v;
	if (v.kind == KLOG_VERDICT_MISBEHAVED && streq(v.patch, name))
		return WATCH_MISBEHAVED;
	if (v.kind != KLOG_VERDICT_OK)
		note(x->a, LOG_LEVEL_WARNING,
		     "kernel log during the grace period of '%s': %s: %s (not attributed to it)",
		     name, klog_verdict_kind_to_string(v.kind), v.reason);
	return stopped ? WATCH_STOPPED : WATCH_OK;
}

static struct agent_watch *open_watch(struct run *x, const char *name, bool from_start,
				      double since)
{
	_cleanup_free_ char *path = agent_root_path(x->a->root, "/dev/kmsg");
	struct agent_watch *w = NULL;
	unsigned grace = x->a->config->grace_period;
	int r;

	if (!path)
		return NULL;
	r = agent_watch_open(path, from_start, since, name, grace > 60 ? grace : 60, &w);
	if (r < 0) {
		note(x->a, LOG_LEVEL_WARNING,
		     "cannot read the kernel log '%s': %s; the grace period of '%s' only waits",
		     path, strerror(-r), name);
		return NULL;
	}
	return w;
}

/* Unloads the modules of patches an atomic replace has freed. */
static void unload_replaced(struct run *x, const char *keep)
{
	for (size_t i = 0; i < x->state.n_loaded;) {
		char name[AGENT_MODULE_NAME_MAX];

		memcpy(name, x->state.loaded[i].module, sizeof(name));
		if (streq(name, keep) || lp_present(x, name)) {
			i++;
			continue;
		}
		if (unload_module(x, name) < 0)
			note(x->a, LOG_LEVEL_WARNING,
			     "cannot unload replaced livepatch module '%s', ignoring", name);
		else
			note(x->a, LOG_LEVEL_INFO, "unloaded replaced livepatch module '%s'", name);
		agent_state_drop_loaded(&x->state, name);
	}
}

/*
 * The end of a grace period: confirm, or condemn the patch.  Returns 0
 * (confirmed or deferred), 1 (misbehaved: blocklisted, still loaded; the
 * caller goes back with roll_back(), which replaces it before it unloads it).
 */
static int finish_grace(struct run *x, const char *path, const char *module, int64_t version,
			enum watch_outcome out, const struct klog_verdict *v, char err[],
			size_t errsize)
{
	const char *dir = x->a->config->state_dir;
	struct agent_loaded *l;
	char reason[KLOG_REASON_MAX + 64];

	if (out == WATCH_STOPPED) {
		struct agent_marker m;

		/* A clean stop is no crash: the marker says so, and the patch is watched again. */
		if (agent_marker_read(dir, &m) > 0 && m.path) {
			m.stopped = true;
			agent_marker_write(dir, &m);
		}
		agent_marker_release(&m);
		note(x->a, LOG_LEVEL_NOTICE, "grace period of '%s' cut short by a stop request",
		     module);
		return 0;
	}
	if (out == WATCH_MISBEHAVED) {
		snprintf(reason, sizeof(reason), "misbehaved in the grace period: %s", v->reason);
		note(x->a, LOG_LEVEL_ERROR, "livepatch '%s' %s; rolling it back", module, reason);
		for (size_t i = 0; i < v->n_evidence; i++)
			note(x->a, LOG_LEVEL_NOTICE, "  evidence: %s", v->evidence[i]);
		block(x, path, module, version, reason, "rolled-back");
		agent_marker_clear(dir);
		snprintf(err, errsize, "livepatch '%s' (%s) %s", module, path, reason);
		return 1;
	}
	l = agent_state_loaded(&x->state, module);
	if (l)
		l->confirmed = true;
	agent_state_clear_failures(&x->state, path);
	agent_marker_clear(dir);
	agent_state_add_history(&x->state, now(x->a), "confirmed", path, NULL);
	note(x->a, LOG_LEVEL_NOTICE, "livepatch '%s' (%s, patch version %lld) confirmed", module,
	     path, (long long)version);
	return 0;
}

/*
 * Loads the cached offer o: marker, finit_module, transition, grace period.
 * Returns 0 (loaded and confirmed, or the grace period deferred), 1 (it
 * misbehaved: blocklisted and still loaded, for roll_back()), or a negative
 * errno (err set).
 */
static int install(struct run *x, const struct agent_offer *o, char err[], size_t errsize)
{
	struct agent *a = x->a;
	const char *dir = a->config->state_dir;
	_cleanup_(agent_watch_freep) struct agent_watch *w = NULL;
	_cleanup_close_ int fd = -1;
	struct agent_marker m = {};
	struct klog_verdict v;
	enum watch_outcome out;
	double t0;
	char e[ERR_MAX];
	int r;

	fd = open_verified(x, o, err, errsize);
	if (fd < 0) {
		if (fd == -EBADMSG)
			block(x, o->path, o->module, o->version, err, "refused");
		return fd;
	}
	if (a->dry_run) {
		note(a, LOG_LEVEL_NOTICE, "dry run: would load '%s' (%s, patch version %lld)",
		     o->module, o->path, (long long)o->version);
		return 0;
	}
	r = refresh_facts(x);
	if (r < 0)
		return r;
	if (agent_facts_module_loaded(&x->facts, o->module) || lp_present(x, o->module)) {
		/* Same module name as the running patch: the kernel refuses a second one, so
		 * the old one has to go first and the node is unpatched for a moment. */
		if (!agent_state_loaded(&x->state, o->module)) {
			snprintf(err, errsize,
				 "a module named '%s' is already loaded and was not loaded by the "
				 "agent",
				 o->module);
			return -EEXIST;
		}
		note(a, LOG_LEVEL_WARNING,
		     "'%s' has the module name of the running patch; unloading that one first "
		     "(no atomic replace)",
		     o->module);
		r = remove_patch(x, o->module, err, errsize);
		if (r < 0)
			return r;
	}

	m.path = o->path;
	memcpy(m.module, o->module, sizeof(m.module));
	m.version = o->version;
	m.phase = AGENT_MARKER_LOADING;
	m.time = now(a);
	memcpy(m.boot_id, x->facts.boot_id, sizeof(m.boot_id));
	m.uptime = x->facts.uptime;
	r = agent_marker_write(dir, &m);
	if (r < 0) {
		snprintf(err, errsize, "cannot write the boot-loop marker in '%s': %s", dir,
			 strerror(-r));
		return r;
	}
	w = open_watch(x, o->module, false, -1);

	note(a, LOG_LEVEL_NOTICE, "loading '%s' (%s, patch version %lld)", o->module, o->path,
	     (long long)o->version);
	r = a->kops->load(a->kops->userdata, fd, o->module);
	if (r < 0) {
		agent_marker_clear(dir);
		snprintf(err, errsize, "cannot load '%s' (%s): %s", o->module, o->path,
			 strerror(-r));
		if (load_error_is_permanent(r))
			block(x, o->path, o->module, o->version, err, "load-failed");
		return r;
	}
	t0 = monotonic_s();
	r = wait_lp(x, o->module, a->config->transition_timeout, false);
	if (r == -ENOENT) {
		snprintf(err, errsize, "module '%s' loaded but no livepatch '%s' appeared in sysfs",
			 o->module, o->module);
		remove_patch(x, o->module, e, sizeof(e));
		agent_marker_clear(dir);
		block(x, o->path, o->module, o->version, err, "refused");
		return -EBADMSG;
	}
	if (r == -EINTR) {
		snprintf(err, errsize, "stopped while '%s' was in transition", o->module);
		return r;
	}
	if (r == -ETIMEDOUT) {
		int n;

		snprintf(err, errsize, "livepatch '%s': the patching transition did not complete "
				       "within %us; reverted",
			 o->module, a->config->transition_timeout);
		note(a, LOG_LEVEL_ERROR, "%s", err);
		r = remove_patch(x, o->module, e, sizeof(e));
		if (r < 0)
			note(a, LOG_LEVEL_ERROR, "%s", e);
		agent_marker_clear(dir);
		n = agent_state_count_failure(&x->state, o->path, err);
		if (n >= AGENT_STALLS_MAX)
			block(x, o->path, o->module, o->version, err, "stalled");
		else
			agent_state_add_history(&x->state, now(a), "stalled", o->path, err);
		return -ETIMEDOUT;
	}
	if (read_lp(x, o->module, "enabled") != 1) {
		snprintf(err, errsize, "livepatch '%s' is not enabled after its transition",
			 o->module);
		remove_patch(x, o->module, e, sizeof(e));
		agent_marker_clear(dir);
		block(x, o->path, o->module, o->version, err, "refused");
		return -EBADMSG;
	}
	note(a, LOG_LEVEL_NOTICE, "livepatch '%s' enabled (transition took %.1fs)", o->module,
	     monotonic_s() - t0);
	r = agent_state_set_loaded(&x->state, o->path, o->module, o->version, o->sha256, now(a),
				   false);
	if (r < 0)
		return r;
	agent_state_add_history(&x->state, now(a), "loaded", o->path, NULL);
	m.phase = AGENT_MARKER_GRACE;
	agent_marker_write(dir, &m);
	unload_replaced(x, o->module);
	if (save(x, e, sizeof(e)) < 0)
		note(a, LOG_LEVEL_WARNING, "%s", e);

	if (a->defer_grace) {
		note(a, LOG_LEVEL_NOTICE,
		     "grace period of '%s' left to the daemon (tuxtape-agent run)", o->module);
		return 0;
	}
	if (a->config->grace_period)
		note(a, LOG_LEVEL_INFO, "watching the kernel log for %us", a->config->grace_period);
	out = watch(x, w, o->module, a->config->grace_period, &v);
	return finish_grace(x, o->path, o->module, o->version, out, &v, err, errsize);
}

/* The sha256 the cache record of target path lists, or 64 zeros when there is none. */
static void cached_sha256(struct run *x, const char *path, char sha[65])
{
	const char *file = strrchr(path, '/');
	_cleanup_free_ char *name = NULL, *side = NULL, *buf = NULL;
	struct agent_offer o;
	size_t len;
	json_t *j;

	memset(sha, '0', 64);
	sha[64] = '\0';
	if (!file || asprintf(&name, "%s.json", file + 1) < 0)
		return;
	side = path_join(x->release_dir, name);
	if (!side || read_file_bounded(side, SIDECAR_MAX, &buf, &len) < 0)
		return;
	j = json_loadb(buf, len, 0, NULL);
	if (j && agent_offer_parse_json(j, &o, NULL, 0) >= 0) {
		if (streq(o.path, path))
			memcpy(sha, o.sha256, 65);
		agent_offer_release(&o);
	}
	json_decref(j);
}

static int apply_cached(struct run *x, const char *older_than, bool *ret_loaded, char err[],
			size_t errsize);
static void roll_back(struct run *x, const char *bad_path);

/* --- boot-loop guard --- */

static int guard(struct run *x, char err[], size_t errsize)
{
	struct agent *a = x->a;
	const char *dir = a->config->state_dir;
	const struct agent_livepatch *lp;
	struct agent_marker m;
	struct klog_verdict v;
	enum watch_outcome out;
	char e[ERR_MAX];
	double remaining;
	int r;

	r = agent_marker_read(dir, &m);
	if (r <= 0)
		return r;
	if (!m.path) {
		note(a, LOG_LEVEL_ERROR,
		     "boot-loop marker '%s/loading.json' is unreadable; removed", dir);
		agent_marker_clear(dir);
		return 0;
	}
	if (!*m.boot_id || !streq(m.boot_id, x->facts.boot_id)) {
		if (m.stopped) {
			note(a, LOG_LEVEL_NOTICE,
			     "the grace period of '%s' was cut short by a stop before the restart; "
			     "it will be watched again",
			     m.module);
			agent_marker_clear(dir);
			agent_marker_release(&m);
			return 0;
		}
		snprintf(e, sizeof(e),
			 "the node restarted during the %s of this patch (boot-loop guard)",
			 m.phase == AGENT_MARKER_GRACE ? "grace period" : "load");
		note(a, LOG_LEVEL_ERROR, "livepatch '%s' (%s): %s; it is blocklisted", m.module,
		     m.path, e);
		block(x, m.path, m.module, m.version, e, "boot-loop");
		agent_state_set_error(&x->state, now(a), e);
		if (!a->dry_run)
			agent_marker_clear(dir);
		agent_marker_release(&m);
		return 0;
	}

	/* Same boot: the agent itself stopped or died mid-way.  Pick the watch up again. */
	lp = agent_facts_livepatch(&x->facts, m.module);
	if (!lp || lp->enabled == 0) {
		note(a, LOG_LEVEL_NOTICE, "an interrupted load of '%s' left nothing loaded",
		     m.module);
		agent_marker_clear(dir);
		agent_marker_release(&m);
		return 0;
	}
	if (a->dry_run) {
		note(a, LOG_LEVEL_NOTICE, "dry run: would resume the grace period of '%s'",
		     m.module);
		agent_marker_release(&m);
		return 0;
	}
	r = wait_lp(x, m.module, a->config->transition_timeout, false);
	if (r < 0) {
		snprintf(err, errsize, "livepatch '%s': transition still open after %us", m.module,
			 a->config->transition_timeout);
		agent_marker_release(&m);
		return r;
	}
	if (!agent_state_loaded(&x->state, m.module)) {
		char sha[65];

		cached_sha256(x, m.path, sha);
		agent_state_set_loaded(&x->state, m.path, m.module, m.version, sha, m.time, false);
	}
	if (m.phase == AGENT_MARKER_LOADING || m.stopped) {
		m.phase = AGENT_MARKER_GRACE;
		m.stopped = false;
		agent_marker_write(dir, &m);
	}
	if (a->defer_grace) {
		agent_marker_release(&m);
		return 0;
	}
	remaining = (double)(m.time + a->config->grace_period - now(a));
	note(a, LOG_LEVEL_NOTICE, "resuming the grace period of '%s' (%.0fs left)", m.module,
	     remaining > 0 ? remaining : 0);
	{
		/* printk stamps and /proc/uptime drift apart a little: start a second early. */
		_cleanup_(agent_watch_freep) struct agent_watch *w =
			open_watch(x, m.module, true, m.uptime >= 1 ? m.uptime - 1 : 0);

		out = watch(x, w, m.module, remaining, &v);
	}
	r = finish_grace(x, m.path, m.module, m.version, out, &v, e, sizeof(e));
	if (r > 0) {
		agent_state_set_error(&x->state, now(a), e);
		roll_back(x, m.path);
	}
	agent_marker_release(&m);
	return 0;
}

/* --- the cycle --- */

static json_t *newest_json(const struct agent_offer *o, bool blocked)
{
	json_t *cves = json_object_get(json_object_get(o->target, "custom"), "cves");

	return json_pack("{s:s, s:s, s:s, s:I, s:b, s:O?}", "path", o->path, "kernel_release",
			 o->release, "module", o->module, "patch_version", (json_int_t)o->version,
			 "blocked", blocked, "cves", json_is_array(cves) ? cves : NULL);
}

/*
 * Records the outcome, saves the state and reports.  result != NULL: the
 * outcome of a check (an error is then the check's result too).
 */
static int finish(struct run *x, int r, bool is_check, const char *result, const char *message,
		  char err[], size_t errsize)
{
	char e[ERR_MAX];
	int64_t t = now(x->a);

	if (r < 0) {
		if (is_check)
			agent_state_set_check(&x->state, t, "error", err);
		agent_state_set_error(&x->state, t, err);
	} else if (is_check && result) {
		agent_state_set_check(&x->state, t, result, message);
	}
	if (save(x, e, sizeof(e)) < 0) {
		if (r >= 0) {
			snprintf(err, errsize, "%s", e);
			r = -EIO;
		} else {
			note(x->a, LOG_LEVEL_ERROR, "%s", e);
		}
	}
	report(x);
	return r;
}

static int ensure_root(struct run *x, char err[], size_t errsize)
{
	_cleanup_free_ char *trusted = path_join(x->tuf_dir, "root.json");
	const char *root_file = x->a->config->root_file;
	char e[ERR_MAX];
	int r;

	if (!trusted)
		return -ENOMEM;
	if (access(trusted, F_OK) == 0)
		return 0;
	if (!root_file) {
		snprintf(err, errsize,
			 "no trusted root in '%s' and no [archive] root configured to start from",
			 x->tuf_dir);
		return -ENOENT;
	}
	r = tuf_client_init_root(x->tuf_dir, root_file, e, sizeof(e));
	if (r < 0) {
		snprintf(err, errsize, "cannot install the trusted root '%s': %s", root_file, e);
		return r;
	}
	note(x->a, LOG_LEVEL_NOTICE, "installed trusted root '%s' into '%s'", root_file,
	     x->tuf_dir);
	return 0;
}

/* Refreshes from the first mirror that works. */
static int refresh(struct run *x, struct tuf_client **ret, char err[], size_t errsize)
{
	const struct agent_config *c = x->a->config;
	int first = 0;

	if (!c->mirrors || !*c->mirrors) {
		snprintf(err, errsize, "no archive configured ([archive] url)");
		return -EINVAL;
	}
	for (char **m = c->mirrors; *m; m++) {
		_cleanup_free_ char *meta = NULL, *targets = NULL;
		_cleanup_(tuf_client_freep) struct tuf_client *client = NULL;
		struct tuf_client_config cfg = {};
		char e[ERR_MAX];
		int r;

		if (asprintf(&meta, "%smetadata/", *m) < 0 ||
		    asprintf(&targets, "%stargets/", *m) < 0)
			return -ENOMEM;
		cfg.metadata_dir = x->tuf_dir;
		cfg.metadata_url = meta;
		cfg.target_url = targets;
		cfg.target_dir = x->cache_dir;
		cfg.ca_file = c->ca_file;
		cfg.max_targets_length = 0;
		r = tuf_client_new(&cfg, &client, e, sizeof(e));
		if (r >= 0)
			r = tuf_client_refresh(client, e, sizeof(e));
		if (r >= 0) {
			*ret = TAKE_PTR(client);
			return 0;
		}
		if (m[1])
			note(x->a, LOG_LEVEL_WARNING, "mirror '%s': %s; trying the next one", *m,
			     e);
		if (!first) {
			first = r;
			snprintf(err, errsize, "mirror '%s': %s", *m, e);
		}
		if (stopping(x->a))
			break;
	}
	return first;
}


static int cycle(struct run *x, char err[], size_t errsize)
{
	struct agent *a = x->a;
	_cleanup_(tuf_client_freep) struct tuf_client *client = NULL;
	struct tuf_target **targets = NULL;
	struct agent_offer *offers = NULL;
	enum agent_offer_status *st = NULL;
	size_t n_targets = 0, n = 0;
	const char *result = NULL;
	char message[ERR_MAX] = "", e[ERR_MAX];
	int best, newest = -1, r;

	r = ensure_root(x, err, errsize);
	if (r < 0)
		return finish(x, r, true, NULL, NULL, err, errsize);
	r = mkdir_p(x->release_dir, 0755);
	if (r < 0) {
		snprintf(err, errsize, "cannot create '%s': %s", x->release_dir, strerror(-r));
		return finish(x, r, true, NULL, NULL, err, errsize);
	}
	r = refresh(x, &client, err, errsize);
	if (r < 0)
		return finish(x, r, true, NULL, NULL, err, errsize);

	r = tuf_client_role_targets(client, x->facts.release, &targets, &n_targets, e, sizeof(e));
	if (r == -ENOENT) {
		n_targets = 0;
		r = 0;
	} else if (r < 0) {
		snprintf(err, errsize, "cannot list the targets of '%s': %s", x->facts.release, e);
		return finish(x, r, true, NULL, NULL, err, errsize);
	}
	offers = calloc(n_targets + 1, sizeof(*offers));
	st = calloc(n_targets + 1, sizeof(*st));
	if (!offers || !st) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n_targets; i++) {
		struct tuf_target *t = targets[i];

		r = agent_offer_parse(t->path, t->length, t->hashes, t->custom, &offers[n], e,
				      sizeof(e));
		if (r == -ENOMEM)
			goto out;
		if (r < 0) {
			note(a, LOG_LEVEL_WARNING, "skipping %s", e);
			continue;
		}
		st[n] = agent_offer_judge(&offers[n], x->facts.release, x->facts.build_id,
					  a->config->channel, a->version,
					  agent_state_blocked(&x->state, offers[n].path) != NULL);
		note(a, LOG_LEVEL_DEBUG, "offer '%s' (patch version %lld): %s", offers[n].path,
		     (long long)offers[n].version, agent_offer_status_to_string(st[n]));
		n++;
	}
	r = 0;

	/* Revoked patches running here go first. */
	for (size_t i = 0; i < n; i++) {
		char reason[ERR_MAX];

		if (st[i] != AGENT_OFFER_REVOKED || !offer_loaded(x, offers[i].path))
			continue;
		snprintf(reason, sizeof(reason), "revoked by the archive: %s",
			 offers[i].revoked_reason ? offers[i].revoked_reason : "no reason given");
		note(a, LOG_LEVEL_WARNING, "livepatch '%s' (%s) is %s; unloading it",
		     offers[i].module, offers[i].path, reason);
		r = remove_patch(x, offers[i].module, e, sizeof(e));
		if (r < 0) {
			snprintf(err, errsize, "%s", e);
			goto out;
		}
		block(x, offers[i].path, offers[i].module, offers[i].version, reason, "revoked");
	}

	for (size_t i = 0; i < n; i++)
		if ((st[i] == AGENT_OFFER_ELIGIBLE || st[i] == AGENT_OFFER_BLOCKED) &&
		    (newest < 0 || agent_offer_compare(&offers[i], &offers[newest]) < 0))
			newest = (int)i;
	best = agent_offer_newest(offers, st, n);
	json_decref(x->state.newest);
	x->state.newest = NULL;
	if (newest >= 0) {
		x->state.newest = newest_json(&offers[newest], st[newest] == AGENT_OFFER_BLOCKED);
		if (!x->state.newest) {
			r = -ENOMEM;
			goto out;
		}
		if (st[newest] == AGENT_OFFER_BLOCKED)
			note(a, LOG_LEVEL_WARNING, "the newest patch '%s' is blocklisted here: %s",
			     offers[newest].path,
			     agent_state_blocked(&x->state, offers[newest].path)->reason);
	}
	if (best < 0) {
		result = newest >= 0 ? "blocked" : "no-patches";
		snprintf(message, sizeof(message), "%s",
			 newest >= 0 ? "every patch for this kernel is blocklisted"
				     : "no patch for this kernel");
		note(a, LOG_LEVEL_NOTICE, "%s ('%s', %zu offer(s))", message, x->facts.release, n);
		goto out;
	}
	if (offer_loaded(x, offers[best].path)) {
		result = best == newest ? "up-to-date" : "blocked";
		snprintf(message, sizeof(message), "running '%s' (patch version %lld)",
			 offers[best].path, (long long)offers[best].version);
		note(a, LOG_LEVEL_NOTICE, "up to date: %s", message);
		goto out;
	}
	if (!a->config->auto_apply) {
		result = "available";
		snprintf(message, sizeof(message), "'%s' (patch version %lld) is available; "
			 "auto_apply is off",
			 offers[best].path, (long long)offers[best].version);
		note(a, LOG_LEVEL_NOTICE, "%s", message);
		goto out;
	}
	if (offers[best].length > AGENT_MODULE_MAX) {
		snprintf(err, errsize, "target '%s' is %llu bytes, more than the %u allowed",
			 offers[best].path, (unsigned long long)offers[best].length,
			 AGENT_MODULE_MAX);
		r = -EFBIG;
		goto out;
	}
	{
		_cleanup_free_ char *local = NULL;
		struct tuf_target *t = NULL;

		for (size_t i = 0; i < n_targets && !t; i++)
			if (streq(targets[i]->path, offers[best].path))
				t = targets[i];
		note(a, LOG_LEVEL_INFO, "downloading '%s'", offers[best].path);
		r = tuf_client_download_target(client, t, &local, e, sizeof(e));
		if (r < 0) {
			snprintf(err, errsize, "cannot download '%s': %s", offers[best].path, e);
			goto out;
		}
	}
	if (a->dry_run) {
		_cleanup_close_ int fd = open_verified(x, &offers[best], err, errsize);

		if (fd < 0) {
			r = fd;
			goto out;
		}
		result = "available";
		snprintf(message, sizeof(message),
			 "dry run: '%s' (patch version %lld) downloaded and verified, not loaded",
			 offers[best].path, (long long)offers[best].version);
		note(a, LOG_LEVEL_NOTICE, "%s", message);
		prune_orphans(x, offers[best].file);
		goto out;
	}
	r = write_sidecar(x, &offers[best]);
	if (r < 0) {
		snprintf(err, errsize, "cannot write the cache record of '%s' in '%s': %s",
			 offers[best].path, x->release_dir, strerror(-r));
		goto out;
	}
	r = install(x, &offers[best], err, errsize);
	if (r == 1) {
		result = "rolled-back";
		snprintf(message, sizeof(message), "%s", err);
		agent_state_set_error(&x->state, now(a), err);
		roll_back(x, offers[best].path);
		r = 0;
	} else if (r >= 0) {
		result = "updated";
		snprintf(message, sizeof(message), "loaded '%s' (patch version %lld)",
			 offers[best].path, (long long)offers[best].version);
		prune_cache(x);
	}
out:
	agent_offers_free(offers, n);
	free(st);
	for (size_t i = 0; i < n_targets; i++)
		tuf_target_free(targets[i]);
	free(targets);
	return finish(x, r, true, result, message, err, errsize);
}

int agent_check(struct agent *a, char err[], size_t errsize)
{
	struct run x;
	int r;

	r = run_begin(a, &x, true, err, errsize);
	if (r >= 0)
		r = guard(&x, err, errsize);
	if (r >= 0 && !stopping(a))
		r = cycle(&x, err, errsize); /* saves and reports */
	else if (x.have_state)
		r = finish(&x, r, r < 0, NULL, NULL, err, errsize);
	run_release(&x);
	return r;
}

/* --- apply, rollback, disable, unblock --- */

/*
 * Disables and unloads every blocklisted patch the agent still has loaded:
 * a misbehaving one that no older patch replaced (there was none, or the
 * older one does not replace).
 */
static void remove_blocked(struct run *x)
{
	char e[ERR_MAX];

	for (size_t i = 0; i < x->state.n_loaded;) {
		char module[AGENT_MODULE_NAME_MAX];

		if (!agent_state_blocked(&x->state, x->state.loaded[i].path)) {
			i++;
			continue;
		}
		memcpy(module, x->state.loaded[i].module, sizeof(module));
		if (remove_patch(x, module, e, sizeof(e)) < 0)
			note(x->a, LOG_LEVEL_ERROR, "%s", e);
		/* Dropped from the state when it went; otherwise (failed, dry run) kept. */
		if (i < x->state.n_loaded && streq(x->state.loaded[i].module, module))
			i++;
	}
}

/*
 * Loads the newest eligible cached patch older than the one at path
 * older_than (NULL: any; agent_offer_compare() order); when a cached module
 * fails its checks or misbehaves, the next older one is tried, loaded over
 * the one that misbehaved (atomic replace).  Returns 0 (nothing to do, or
 * loaded), 1 (one misbehaved and was rolled back; err says how), -errno.
 * Blocklisted patches still loaded at the end are taken out.
 */
static int apply_cached(struct run *x, const char *older_than, bool *ret_loaded, char err[],
			size_t errsize)
{
	struct agent *a = x->a;
	struct agent_offer *offers = NULL;
	char rolled[ERR_MAX] = "";
	bool running = false;
	size_t n = 0, skip = 0;
	int r;

	*ret_loaded = false;
	r = read_cache(x, &offers, &n);
	if (r < 0) {
		snprintf(err, errsize, "cannot read the cache '%s': %s", x->release_dir,
			 strerror(-r));
		return r;
	}
	r = 0;
	for (size_t i = 0; older_than && i < n; i++)
		if (streq(offers[i].path, older_than)) {
			skip = i + 1;
			break;
		}
	for (size_t i = skip; i < n; i++) {
		const struct agent_offer *o = &offers[i];
		enum agent_offer_status s;

		s = agent_offer_judge(o, x->facts.release, x->facts.build_id, a->config->channel,
				      a->version, agent_state_blocked(&x->state, o->path) != NULL);
		if (s != AGENT_OFFER_ELIGIBLE) {
			note(a, LOG_LEVEL_DEBUG, "cached '%s': %s", o->path,
			     agent_offer_status_to_string(s));
			continue;
		}
		if (offer_loaded(x, o->path)) {
			note(a, LOG_LEVEL_NOTICE, "up to date: running '%s' (patch version %lld)",
			     o->path, (long long)o->version);
			running = true;
			break;
		}
		r = install(x, o, err, errsize);
		if (r == 1) {
			/* It misbehaved and is out again: the next older one may do. */
			snprintf(rolled, sizeof(rolled), "%s", err);
			note(a, LOG_LEVEL_NOTICE, "trying an older cached patch");
			r = 0;
			continue;
		}
		if (r == -EBADMSG && !lp_present(x, o->module)) {
			note(a, LOG_LEVEL_ERROR, "%s; trying an older cached patch", err);
			r = 0;
			continue;
		}
		*ret_loaded = r == 0;
		break;
	}
	agent_offers_free(offers, n);
	if ((*rolled || older_than) && !*ret_loaded && !running && r >= 0)
		note(a, LOG_LEVEL_NOTICE, "no older cached patch to go back to");
	if (*rolled)
		remove_blocked(x);
	if (r >= 0 && *rolled) {
		snprintf(err, errsize, "%s", rolled);
		return 1;
	}
	return r;
}

/*
 * Patch bad_path misbehaved and is blocklisted but still loaded.  The node
 * goes back to the newest older cached patch by atomic replace, which
 * disables the bad one in the same transition: no moment unpatched.  Only
 * when there is none (or it cannot load) is the bad one disabled on its own.
 */
static void roll_back(struct run *x, const char *bad_path)
{
	char e[ERR_MAX];
	bool loaded;

	if (apply_cached(x, bad_path, &loaded, e, sizeof(e)) < 0)
		note(x->a, LOG_LEVEL_ERROR, "%s", e);
	remove_blocked(x);
}

int agent_apply(struct agent *a, char err[], size_t errsize)
{
	struct run x;
	bool loaded;
	int r;

	r = run_begin(a, &x, true, err, errsize);
	if (r >= 0)
		r = guard(&x, err, errsize);
	if (r >= 0)
		r = apply_cached(&x, NULL, &loaded, err, errsize);
	if (r == 1) {
		agent_state_set_error(&x.state, now(a), err);
		r = 0;
	}
	if (x.have_state)
		r = finish(&x, r, false, NULL, NULL, err, errsize);
	run_release(&x);
	return r;
}

int agent_rollback(struct agent *a, char err[], size_t errsize)
{
	struct run x;
	struct agent_loaded *cur = NULL;
	_cleanup_free_ char *path = NULL;
	char module[AGENT_MODULE_NAME_MAX];
	int64_t version;
	int r;

	r = run_begin(a, &x, true, err, errsize);
	if (r < 0)
		goto out;
	r = guard(&x, err, errsize);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < x.state.n_loaded; i++)
		if (!cur || x.state.loaded[i].version > cur->version)
			cur = &x.state.loaded[i];
	if (!cur) {
		snprintf(err, errsize, "no patch loaded by the agent is running");
		r = -ENOENT;
		goto out;
	}
	path = strdup(cur->path);
	if (!path) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(module, cur->module, sizeof(module));
	version = cur->version;
	note(a, LOG_LEVEL_NOTICE, "rolling back '%s' (%s, patch version %lld)", module, path,
	     (long long)version);
	block(&x, path, module, version, "rolled back by the administrator", "rolled-back");
	roll_back(&x, path);
	refresh_facts(&x);
	if (lp_present(&x, module) || agent_facts_module_loaded(&x.facts, module)) {
		r = remove_patch(&x, module, err, errsize);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	if (x.have_state)
		r = finish(&x, r, false, NULL, NULL, err, errsize);
	run_release(&x);
	return r;
}

int agent_disable(struct agent *a, const char *name, char err[], size_t errsize)
{
	struct run x;
	char module[AGENT_MODULE_NAME_MAX];
	struct agent_loaded *l;
	_cleanup_free_ char *path = NULL;
	int64_t version = 0;
	int r;

	if (!agent_module_name_valid(name)) {
		snprintf(err, errsize, "'%s' is not a module name", name);
		return -EINVAL;
	}
	snprintf(module, sizeof(module), "%s", name);
	agent_module_name_normalize(module);
	r = run_begin(a, &x, true, err, errsize);
	if (r < 0)
		goto out;
	l = agent_state_loaded(&x.state, module);
	if (l) {
		path = strdup(l->path);
		version = l->version;
		if (!path) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (!lp_present(&x, module) && !agent_facts_module_loaded(&x.facts, module)) {
		snprintf(err, errsize, "no livepatch '%s' is loaded", module);
		r = -ENOENT;
		goto out;
	}
	note(a, LOG_LEVEL_NOTICE, "disabling '%s'", module);
	r = remove_patch(&x, module, err, errsize);
	if (r < 0)
		goto out;
	if (path)
		block(&x, path, module, version, "disabled by the administrator", "disabled");
out:
	if (x.have_state)
		r = finish(&x, r, false, NULL, NULL, err, errsize);
	run_release(&x);
	return r;
}

int agent_unblock(struct agent *a, const char *name, char err[], size_t errsize)
{
	struct run x;
	int r;

	r = run_begin(a, &x, true, err, errsize);
	if (r >= 0) {
		r = agent_state_unblock(&x.state, name);
		if (r == 0) {
			snprintf(err, errsize, "nothing named '%s' is blocklisted", name);
			r = -ENOENT;
		} else if (r > 0) {
			agent_state_add_history(&x.state, now(a), "unblocked", name, NULL);
			/* The newest offer may be usable again: the next check says. */
			if (x.state.newest)
				json_object_set_new(x.state.newest, "blocked", json_false());
			r = 0;
		}
	}
	if (x.have_state)
		r = finish(&x, r, false, NULL, NULL, err, errsize);
	run_release(&x);
	return r;
}
