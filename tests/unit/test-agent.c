/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The agent's engine on a fake node: a prepared root tree and the simulated
 * kernel of agent-kops.h (nothing reaches the host kernel).  Apply from the
 * cache, the grace-period watch and rollback of a misbehaving patch, the
 * boot-loop guard, transition timeouts, refused modules, dry run, disable,
 * rollback, status codes, a corrupt state.  The network side (TUF refresh
 * and download) runs in tests/integration/t0700-agent-archive.sh against a
 * real archive.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-config.h"
#include "agent-kops.h"
#include "agent-state.h"
#include "agent.h"
#include "test-agent-lib.h"

struct fixture {
	char *dir, *root, *state, *cache;
	struct agent_config *config;
	struct agent_kops *sim;
	struct agent_kops counting; /* wraps sim, counts calls */
	unsigned loads, disables, unloads;
	int64_t now;
	bool dry_run;
	struct report *report;
	char notes[8192];
};

static int count_load(void *u, int fd, const char *name)
{
	struct fixture *f = u;

	f->loads++;
	return f->sim->load(f->sim->userdata, fd, name);
}

static int count_disable(void *u, const char *name)
{
	struct fixture *f = u;

	f->disables++;
	return f->sim->disable(f->sim->userdata, name);
}

static int count_unload(void *u, const char *name)
{
	struct fixture *f = u;

	f->unloads++;
	return f->sim->unload(f->sim->userdata, name);
}

static void collect_note(enum log_level level, const char *msg, void *u)
{
	struct fixture *f = u;
	size_t n = strlen(f->notes);

	snprintf(f->notes + n, sizeof(f->notes) - n, "%s\n", msg);
}

static int64_t fake_now(void *u)
{
	struct fixture *f = u;

	return f->now;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->dir = test_tmpdir_new();
	f->root = path_join(f->dir, "root");
	f->state = path_join(f->dir, "state");
	f->cache = path_join(f->dir, "state/cache/" TEST_RELEASE);
	test_make_root(f->root);
	assert_int_equal(mkdir_p(f->cache, 0755), 0);
	f->config = agent_config_new();
	free(f->config->state_dir);
	f->config->state_dir = strdup(f->state);
	f->config->grace_period = 0;
	f->config->transition_timeout = 1;
	f->sim = agent_kops_sim_new(f->root);
	f->counting = (struct agent_kops){ count_load, count_disable, count_unload, f };
	f->now = 1800000000;
	f->report = report_new_default(f->state, NULL, NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	report_free(f->report);
	agent_kops_sim_free(f->sim);
	agent_config_free(f->config);
	test_tmpdir_remove(f->dir);
	free(f->root);
	free(f->state);
	free(f->cache);
	free(f);
	return 0;
}

static struct agent *new_agent(struct fixture *f)
{
	struct agent_options o = {
		.config = f->config,
		.root = f->root,
		.kops = &f->counting,
		.report = f->report,
		.dry_run = f->dry_run,
		.version = "0.1.0",
		.note = collect_note,
		.now = fake_now,
		.userdata = f,
	};
	struct agent *a = NULL;
	char err[256];

	assert_int_equal(agent_new(&o, &a, err, sizeof(err)), 0);
	return a;
}

/* Puts module-version into the cache with its target record; returns the sha256 used. */
static void put_cached_as(struct fixture *f, const char *module, int version, const char *ko_name,
			  const char *created)
{
	_cleanup_free_ char *ko = NULL, *kopath = NULL, *side = NULL, *text = NULL;
	_cleanup_free_ char *file = NULL, *path = NULL, *sidepath = NULL;
	unsigned char md[32];
	char sha[65];
	size_t len;
	json_t *t;
	FILE *p;

	ko = test_make_ko(ko_name, TEST_VERMAGIC, true, &len);
	assert_true(asprintf(&file, "%s-%d.ko", module, version) > 0);
	assert_true(asprintf(&path, TEST_RELEASE "/%s", file) > 0);
	kopath = path_join(f->cache, file);
	assert_int_equal(write_file_atomic(kopath, ko, len, 0644), 0);
	/* sha256 through sha256sum: an implementation other than the agent's */
	{
		_cleanup_free_ char *cmd = NULL;

		assert_true(asprintf(&cmd, "sha256sum '%s'", kopath) > 0);
		p = popen(cmd, "r");
		assert_non_null(p);
		assert_int_equal(fscanf(p, "%64s", sha), 1);
		pclose(p);
		(void)md;
	}
	t = json_pack("{s:s, s:I, s:{s:s}, s:{s:s, s:n, s:s, s:i, s:[], s:n, s:b, s:s, s:s, s:b, "
		      "s:n}}",
		      "path", path, "length", (json_int_t)len, "hashes", "sha256", sha, "custom",
		      "kernel_release", TEST_RELEASE, "build_id", "module_name", module,
		      "patch_version", version, "cves", "replaces", "replace", 1,
		      "min_agent_version", "0.1.0", "created", created, "revoked", 0,
		      "revoked_reason");
	assert_non_null(t);
	text = json_dumps(t, 0);
	json_decref(t);
	assert_true(asprintf(&sidepath, "%s/%s.json", f->cache, file) > 0);
	assert_int_equal(write_file_atomic(sidepath, text, strlen(text), 0644), 0);
}

static void put_cached(struct fixture *f, const char *module, int version)
{
	put_cached_as(f, module, version, module, "2026-11-28T06:00:00Z");
}

static bool loaded(struct fixture *f, const char *module)
{
	_cleanup_free_ char *rel = NULL, *p = NULL;

	assert_true(asprintf(&rel, "sys/kernel/livepatch/%s", module) > 0);
	p = path_join(f->root, rel);
	return access(p, F_OK) == 0;
}

static bool in_modules(struct fixture *f, const char *module)
{
	_cleanup_free_ char *p = path_join(f->root, "proc/modules"), *buf = NULL;
	size_t len;

	assert_int_equal(read_file_bounded(p, 1 << 20, &buf, &len), 0);
	for (char *l = buf; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, module, strlen(module)) == 0 && l[strlen(module)] == ' ')
			return true;
	return false;
}

static void load_state(struct fixture *f, struct agent_state *s)
{
	char err[512];

	assert_true(agent_state_load(f->state, s, err, sizeof(err)) >= 0);
}

static void sim_warn(struct fixture *f, const char *module)
{
	_cleanup_free_ char *rel = NULL, *text = NULL;

	assert_true(asprintf(&rel, "sim/%s.kmsg", module) > 0);
	assert_true(asprintf(&text,
			     "4,900,2815527,-;------------[ cut here ]------------\n"
			     "4,901,2815528,-;WARNING: CPU: 0 PID: 88 at /src/lp.c:14 "
			     "lp_show+0x3c/0x40 [%s]\n"
			     "6,902,2816011,-;Modules linked in: %s(OEK)\n"
			     "6,903,2816433,-;CPU: 0 PID: 88 Comm: cat Tainted: G           OE K "
			     "   6.1.0-54-amd64 #1  Debian 6.1.190-1\n"
			     "6,904,2816701,-;RIP: 0010:lp_show+0x3c/0x40 [%s]\n"
			     "6,905,2817493,-;Call Trace:\n"
			     "6,906,2817697,-; <TASK>\n"
			     "6,907,2817854,-; seq_read_iter+0x122/0x450\n"
			     "6,908,2817900,-; </TASK>\n"
			     "4,909,2818000,-;---[ end trace 0000000000000000 ]---\n",
			     module, module, module) > 0);
	test_put(f->root, rel, text);
}

static void write_marker(struct fixture *f, const char *module, int version, const char *boot,
			 enum agent_marker_phase phase, bool stopped)
{
	_cleanup_free_ char *path = NULL;
	struct agent_marker m = { .version = version, .phase = phase, .time = f->now - 5,
				  .uptime = 1, .stopped = stopped };

	assert_true(asprintf(&path, TEST_RELEASE "/%s-%d.ko", module, version) > 0);
	m.path = path;
	snprintf(m.module, sizeof(m.module), "%s", module);
	snprintf(m.boot_id, sizeof(m.boot_id), "%s", boot);
	assert_int_equal(agent_marker_write(f->state, &m), 0);
}

static bool marker_present(struct fixture *f)
{
	_cleanup_free_ char *p = path_join(f->state, "loading.json");

	return access(p, F_OK) == 0;
}

static void test_apply_newest_and_replace(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	_cleanup_free_ char *report = path_join(f->state, "report.json");
	struct agent_state s;
	char err[512] = "";

	put_cached(f, "lp_a", 1);
	put_cached(f, "lp_b", 2);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_true(loaded(f, "lp_b"));
	assert_false(loaded(f, "lp_a"));
	assert_int_equal(f->loads, 1);
	assert_false(marker_present(f));
	load_state(f, &s);
	assert_int_equal(s.n_loaded, 1);
	assert_string_equal(s.loaded[0].path, TEST_RELEASE "/lp_b-2.ko");
	assert_true(s.loaded[0].confirmed);
	agent_state_release(&s);
	assert_int_equal(access(report, F_OK), 0);

	/* Again: nothing to do. */
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_int_equal(f->loads, 1);

	/* A newer cumulative patch replaces it; the replaced module is unloaded. */
	put_cached(f, "lp_c", 3);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_true(loaded(f, "lp_c"));
	assert_false(loaded(f, "lp_b"));
	assert_false(in_modules(f, "lp_b"));
	assert_true(in_modules(f, "lp_c"));
	load_state(f, &s);
	assert_int_equal(s.n_loaded, 1);
	assert_string_equal(s.loaded[0].module, "lp_c");
	agent_state_release(&s);
}

static void test_same_module_name_upgrade(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	char err[512] = "";

	/* lp-1 and lp-2 are both module "lp": the old one must go before the new loads. */
	put_cached(f, "lp", 1);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	put_cached(f, "lp", 2);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_true(loaded(f, "lp"));
	assert_int_equal(f->loads, 2);
	assert_int_equal(f->disables, 1);
	assert_non_null(strstr(f->notes, "no atomic replace"));

	/* A module of that name the agent did not load is left alone. */
	test_put(f->root, "proc/modules", "foreign 16384 0 - Live 0x0\n");
	put_cached(f, "foreign", 9);
	assert_int_equal(agent_apply(a, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "was not loaded by the agent"));
}

static void test_misbehaving_patch_rolled_back(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	struct agent_state s;
	const struct agent_blocked *b;
	char err[512] = "";

	put_cached(f, "lp_a", 1);
	put_cached(f, "lp_b", 2);
	sim_warn(f, "lp_b");
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	/* lp_b WARNed in its grace period: out and blocklisted; lp_a runs instead. */
	assert_false(loaded(f, "lp_b"));
	assert_false(in_modules(f, "lp_b"));
	assert_true(loaded(f, "lp_a"));
	/* lp_a replaced lp_b atomically: lp_b was never disabled on its own (no gap). */
	assert_int_equal(f->disables, 0);
	assert_int_equal(f->loads, 2);
	assert_int_equal(f->unloads, 1);
	assert_false(marker_present(f));
	load_state(f, &s);
	b = agent_state_blocked(&s, TEST_RELEASE "/lp_b-2.ko");
	assert_non_null(b);
	assert_non_null(strstr(b->reason, "misbehaved in the grace period"));
	assert_non_null(strstr(b->reason, "lp_show"));
	assert_non_null(s.last_error);
	assert_int_equal(s.n_loaded, 1);
	assert_string_equal(s.loaded[0].module, "lp_a");
	agent_state_release(&s);

	/* The blocklisted patch is not tried again. */
	f->loads = 0;
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_int_equal(f->loads, 0);

	/* Until it is unblocked. */
	assert_int_equal(agent_unblock(a, "lp_b", err, sizeof(err)), 0);
	assert_int_equal(agent_unblock(a, "lp_b", err, sizeof(err)), -ENOENT);
}

static void test_boot_loop_guard(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	struct agent_state s;
	const struct agent_blocked *b;
	char err[512] = "";

	put_cached(f, "lp_a", 1);
	put_cached(f, "lp_b", 2);
	/* The last boot wrote the marker for lp_b and never cleared it. */
	write_marker(f, "lp_b", 2, "11111111-0000-0000-0000-000000000000", AGENT_MARKER_LOADING,
		     false);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_false(loaded(f, "lp_b"));
	assert_true(loaded(f, "lp_a"));
	assert_false(marker_present(f));
	load_state(f, &s);
	b = agent_state_blocked(&s, TEST_RELEASE "/lp_b-2.ko");
	assert_non_null(b);
	assert_non_null(strstr(b->reason, "boot-loop guard"));
	assert_non_null(strstr(s.last_error, "restarted during the load"));
	agent_state_release(&s);
}

static void test_marker_after_clean_stop(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	struct agent_state s;
	char err[512] = "";

	/* A grace period cut short by a stop (shutdown) is no crash. */
	put_cached(f, "lp_b", 2);
	write_marker(f, "lp_b", 2, "11111111-0000-0000-0000-000000000000", AGENT_MARKER_GRACE,
		     true);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_true(loaded(f, "lp_b"));
	load_state(f, &s);
	assert_int_equal(s.n_blocked, 0);
	agent_state_release(&s);
}

static void test_marker_same_boot_resumed(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = NULL;
	struct agent_state s;
	char err[512] = "";

	/* apply --defer-grace at boot: loaded, the grace period left to the daemon. */
	put_cached(f, "lp_b", 2);
	{
		struct agent_options o = {
			.config = f->config, .root = f->root, .kops = &f->counting,
			.defer_grace = true, .version = "0.1.0", .note = collect_note,
			.now = fake_now, .userdata = f,
		};

		assert_int_equal(agent_new(&o, &a, err, sizeof(err)), 0);
	}
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_true(loaded(f, "lp_b"));
	assert_true(marker_present(f));
	load_state(f, &s);
	assert_false(s.loaded[0].confirmed);
	agent_state_release(&s);
	a = agent_free(a);

	/* The daemon, same boot, resumes the watch and confirms. */
	a = new_agent(f);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_false(marker_present(f));
	assert_non_null(strstr(f->notes, "resuming the grace period of 'lp_b'"));
	load_state(f, &s);
	assert_true(s.loaded[0].confirmed);
	assert_int_equal(s.n_blocked, 0);
	agent_state_release(&s);
	assert_int_equal(f->loads, 1);
}

static void test_misbehaving_patch_nothing_older(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	struct agent_state s;
	char err[512] = "";

	/* No older patch to replace it with: it is disabled and unloaded on its own. */
	put_cached(f, "lp_b", 2);
	sim_warn(f, "lp_b");
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_false(loaded(f, "lp_b"));
	assert_false(in_modules(f, "lp_b"));
	assert_int_equal(f->disables, 1);
	assert_non_null(strstr(f->notes, "no older cached patch"));
	load_state(f, &s);
	assert_int_equal(s.n_loaded, 0);
	assert_non_null(agent_state_blocked(&s, TEST_RELEASE "/lp_b-2.ko"));
	agent_state_release(&s);
}

static void test_marker_same_boot_misbehaved(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	struct agent_state s;
	char err[512] = "";

	/* Loaded in this boot (the agent was killed in the grace period); the log has a WARN. */
	put_cached(f, "lp_a", 1);
	put_cached(f, "lp_b", 2);
	test_put(f->root, "sys/kernel/livepatch/lp_b/enabled", "1\n");
	test_put(f->root, "sys/kernel/livepatch/lp_b/transition", "0\n");
	test_put(f->root, "proc/modules", "lp_b 16384 1 - Live 0x0 (OEK)\n");
	sim_warn(f, "lp_b");
	{
		_cleanup_free_ char *p = path_join(f->root, "sim/lp_b.kmsg"), *text = NULL;
		size_t len;

		assert_int_equal(read_file_bounded(p, 1 << 20, &text, &len), 0);
		test_put(f->root, "dev/kmsg", text);
	}
	write_marker(f, "lp_b", 2, TEST_BOOT_ID, AGENT_MARKER_GRACE, false);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_false(loaded(f, "lp_b"));
	assert_false(in_modules(f, "lp_b"));
	assert_true(loaded(f, "lp_a"));
	assert_int_equal(f->disables, 0); /* replaced by lp_a, not disabled first */
	load_state(f, &s);
	assert_non_null(agent_state_blocked(&s, TEST_RELEASE "/lp_b-2.ko"));
	agent_state_release(&s);
}

static void test_transition_timeout(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	struct agent_state s;
	char err[512] = "";

	put_cached(f, "lp_s", 4);
	test_put(f->root, "sim/lp_s.stall", "");
	for (int i = 1; i <= AGENT_STALLS_MAX; i++) {
		assert_int_equal(agent_apply(a, err, sizeof(err)), -ETIMEDOUT);
		assert_non_null(strstr(err, "did not complete within 1s; reverted"));
		/* Reverted: disabled and unloaded, the marker gone. */
		assert_false(loaded(f, "lp_s"));
		assert_false(in_modules(f, "lp_s"));
		assert_false(marker_present(f));
		load_state(f, &s);
		if (i < AGENT_STALLS_MAX) {
			assert_int_equal(s.n_blocked, 0);
			assert_int_equal(s.failures[0].count, i);
		} else {
			assert_non_null(agent_state_blocked(&s, TEST_RELEASE "/lp_s-4.ko"));
		}
		agent_state_release(&s);
	}
	/* Blocklisted now: nothing is tried. */
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_int_equal(f->loads, AGENT_STALLS_MAX);
}

static void test_load_errors(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	struct agent_state s;
	char err[512] = "";

	/* Not the patch's fault (EPERM: no CAP_SYS_MODULE): no blocklist. */
	put_cached(f, "lp_e", 1);
	test_put(f->root, "sim/lp_e.load-error", "1\n");
	assert_int_equal(agent_apply(a, err, sizeof(err)), -EPERM);
	assert_false(marker_present(f));
	load_state(f, &s);
	assert_int_equal(s.n_blocked, 0);
	agent_state_release(&s);

	/* The kernel refuses the module itself (ENOEXEC): blocklisted. */
	test_put(f->root, "sim/lp_e.load-error", "8\n");
	assert_int_equal(agent_apply(a, err, sizeof(err)), -ENOEXEC);
	assert_non_null(strstr(err, "cannot load 'lp_e'"));
	load_state(f, &s);
	assert_non_null(agent_state_blocked(&s, TEST_RELEASE "/lp_e-1.ko"));
	agent_state_release(&s);
}

static void test_tampered_cache(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	_cleanup_free_ char *ko = NULL;
	struct agent_state s;
	char err[512] = "";
	FILE *fp;

	put_cached(f, "lp_a", 1);
	put_cached(f, "lp_b", 2);
	/* A byte of lp_b changed on disk: refused before the kernel sees it. */
	ko = path_join(f->cache, "lp_b-2.ko");
	fp = fopen(ko, "r+");
	assert_non_null(fp);
	fseek(fp, 70, SEEK_SET);
	fputc('X', fp);
	fclose(fp);
	/* lp_c's metadata says "lp_c" but the module is named "lp_other". */
	put_cached_as(f, "lp_c", 3, "lp_other", "2026-11-28T06:00:00Z");
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_true(loaded(f, "lp_a"));
	assert_int_equal(f->loads, 1);
	assert_non_null(strstr(f->notes, "does not match its metadata"));
	assert_non_null(strstr(f->notes, "is named 'lp_other', its metadata says 'lp_c'"));
	load_state(f, &s);
	assert_non_null(agent_state_blocked(&s, TEST_RELEASE "/lp_b-2.ko"));
	assert_non_null(agent_state_blocked(&s, TEST_RELEASE "/lp_c-3.ko"));
	agent_state_release(&s);
}

static void test_dry_run_changes_nothing(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = NULL;
	char err[512] = "";

	put_cached(f, "lp_a", 1);
	sim_warn(f, "lp_a");
	write_marker(f, "lp_z", 7, "11111111-0000-0000-0000-000000000000", AGENT_MARKER_LOADING,
		     false);
	f->dry_run = true;
	a = new_agent(f);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_int_equal(agent_rollback(a, err, sizeof(err)), -ENOENT);
	assert_int_equal(f->loads + f->disables + f->unloads, 0);
	assert_false(loaded(f, "lp_a"));
	/* The marker stays for the real run to judge. */
	assert_true(marker_present(f));
	assert_non_null(strstr(f->notes, "dry run: would load 'lp_a'"));
	assert_non_null(strstr(f->notes, "dry run: would blocklist"));
}

static void test_disable_and_rollback(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	struct agent_state s;
	char err[512] = "";

	assert_int_equal(agent_rollback(a, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no patch loaded by the agent"));
	assert_int_equal(agent_disable(a, "nothing", err, sizeof(err)), -ENOENT);
	assert_int_equal(agent_disable(a, "../x", err, sizeof(err)), -EINVAL);

	put_cached(f, "lp_a", 1);
	put_cached(f, "lp_b", 2);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_true(loaded(f, "lp_b"));

	/* rollback: lp_b blocklisted, lp_a back (atomic replace), lp_b unloaded */
	assert_int_equal(agent_rollback(a, err, sizeof(err)), 0);
	assert_true(loaded(f, "lp_a"));
	assert_false(loaded(f, "lp_b"));
	assert_false(in_modules(f, "lp_b"));
	load_state(f, &s);
	assert_string_equal(agent_state_blocked(&s, TEST_RELEASE "/lp_b-2.ko")->reason,
			    "rolled back by the administrator");
	agent_state_release(&s);

	/* rollback with nothing older: unloaded */
	assert_int_equal(agent_rollback(a, err, sizeof(err)), 0);
	assert_false(loaded(f, "lp_a"));
	assert_false(in_modules(f, "lp_a"));

	/* disable (a dash in the name is the kernel's underscore) */
	assert_int_equal(agent_unblock(a, TEST_RELEASE "/lp_a-1.ko", err, sizeof(err)), 0);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_true(loaded(f, "lp_a"));
	assert_int_equal(agent_disable(a, "lp-a", err, sizeof(err)), 0);
	assert_false(loaded(f, "lp_a"));
	assert_false(in_modules(f, "lp_a"));
	load_state(f, &s);
	assert_string_equal(agent_state_blocked(&s, TEST_RELEASE "/lp_a-1.ko")->reason,
			    "disabled by the administrator");
	assert_int_equal(s.n_loaded, 0);
	agent_state_release(&s);
}

static int status_of(struct fixture *f, struct agent *a)
{
	json_t *j = NULL;
	char err[512] = "";
	int code = agent_status(a, &j, err, sizeof(err));

	assert_non_null(j);
	if (code >= 0)
		assert_int_equal(json_integer_value(json_object_get(j, "code")), code);
	json_decref(j);
	return code;
}

static void set_check(struct fixture *f, int64_t t, const char *result, json_t *newest)
{
	struct agent_state s;
	char err[512];

	load_state(f, &s);
	agent_state_set_check(&s, t, result, NULL);
	json_decref(s.newest);
	s.newest = newest;
	assert_int_equal(agent_state_save(f->state, &s, err, sizeof(err)), 0);
	agent_state_release(&s);
}

static json_t *newest(const char *path, bool blocked)
{
	return json_pack("{s:s, s:s, s:b}", "path", path, "kernel_release", TEST_RELEASE, "blocked",
			 blocked);
}

static void test_status_codes(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	char err[512] = "";

	/* never checked */
	assert_int_equal(status_of(f, a), AGENT_STATUS_STALE);

	put_cached(f, "lp_a", 1);
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);

	set_check(f, f->now - 10, "up-to-date", newest(TEST_RELEASE "/lp_a-1.ko", false));
	assert_int_equal(status_of(f, a), AGENT_STATUS_OK);
	/* older than 3 intervals */
	set_check(f, f->now - 3 * 3600 - 1, "up-to-date", newest(TEST_RELEASE "/lp_a-1.ko", false));
	assert_int_equal(status_of(f, a), AGENT_STATUS_STALE);
	set_check(f, f->now - 3 * 3600 + 1, "up-to-date", newest(TEST_RELEASE "/lp_a-1.ko", false));
	assert_int_equal(status_of(f, a), AGENT_STATUS_OK);
	/* a newer one is offered and not loaded */
	set_check(f, f->now, "available", newest(TEST_RELEASE "/lp_b-2.ko", false));
	assert_int_equal(status_of(f, a), AGENT_STATUS_AVAILABLE);
	/* the newest is blocklisted */
	set_check(f, f->now, "blocked", newest(TEST_RELEASE "/lp_b-2.ko", true));
	assert_int_equal(status_of(f, a), AGENT_STATUS_BLOCKED);
	/* the newest of another kernel (before a reboot into this one) does not count */
	set_check(f, f->now, "available",
		  json_pack("{s:s, s:s, s:b}", "path", "6.1.0-9-amd64/x-1.ko", "kernel_release",
			    "6.1.0-9-amd64", "blocked", 0));
	assert_int_equal(status_of(f, a), AGENT_STATUS_OK);
	/* the last check failed */
	set_check(f, f->now, "error", NULL);
	assert_int_equal(status_of(f, a), AGENT_STATUS_ERROR);
	/* the patch was unloaded behind the agent's back: available again */
	set_check(f, f->now, "up-to-date", newest(TEST_RELEASE "/lp_a-1.ko", false));
	assert_int_equal(agent_disable(a, "lp_a", err, sizeof(err)), 0);
	assert_int_equal(agent_unblock(a, "lp_a", err, sizeof(err)), 0);
	assert_int_equal(status_of(f, a), AGENT_STATUS_AVAILABLE);
}

static void test_corrupt_state(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	_cleanup_free_ char *path = path_join(f->state, "state.json"), *buf = NULL;
	json_t *j = NULL;
	char err[512] = "";
	size_t len;

	put_cached(f, "lp_a", 1);
	test_put(f->state, "state.json", "{broken");
	test_put(f->state, "state.json.bak", "{broken too");
	assert_int_equal(agent_apply(a, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "state.json"));
	assert_int_equal(f->loads, 0);
	/* The damaged file is left for the administrator, not overwritten. */
	assert_int_equal(read_file_bounded(path, 1 << 20, &buf, &len), 0);
	assert_string_equal(buf, "{broken");
	assert_int_equal(agent_status(a, &j, err, sizeof(err)), -EBADMSG);
	assert_int_equal(json_integer_value(json_object_get(j, "code")), AGENT_STATUS_ERROR);
	json_decref(j);

	/* With a good copy the agent goes on and says what happened. */
	test_put(f->state, "state.json.bak", "{\"version\": 1}");
	assert_int_equal(agent_apply(a, err, sizeof(err)), 0);
	assert_true(loaded(f, "lp_a"));
	assert_non_null(strstr(f->notes, "using the last good copy"));
}

static void test_check_needs_archive_and_root(void **state)
{
	struct fixture *f = *state;
	_cleanup_(agent_freep) struct agent *a = new_agent(f);
	struct agent_state s;
	char err[512] = "";

	assert_int_equal(agent_check(a, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no trusted root"));
	f->config->root_file = path_join(f->dir, "missing-root.json");
	assert_true(agent_check(a, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "missing-root.json"));
	load_state(f, &s);
	assert_string_equal(s.last_result, "error");
	agent_state_release(&s);
	assert_int_equal(status_of(f, a), AGENT_STATUS_ERROR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_apply_newest_and_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_module_name_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_misbehaving_patch_nothing_older, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_misbehaving_patch_rolled_back, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_boot_loop_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marker_after_clean_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marker_same_boot_resumed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marker_same_boot_misbehaved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transition_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disable_and_rollback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_needs_archive_and_root, setup, teardown),
	};

	return TEST_MAIN(tests);
}
