/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tuxtape-agent: the thin main over the engine (agent.h).  Options, the
 * configuration, signals, the daemon loop with its jittered interval,
 * systemd's notify protocol (spoken directly: no libsystemd, so the agent
 * also runs from an initramfs), logging to stderr and optionally /dev/kmsg,
 * and the exit codes of docs/agent.md.
 */
#include <fcntl.h>
#include <malloc.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "agent-facts.h"
#include "agent-idle.h"
#include "agent-kops.h"
#include "agent.h"
#include "build-config.h"
#include "log.h"
#include "metadata.h"
#include "parse-util.h"
#include "report.h"

enum {
	EXIT_OK_ = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE_ = 2,
};

struct main_ctx {
	const char *config_path;
	bool config_given;
	const char *state_dir;
	const char *root;
	bool dry_run, json, defer_grace, kmsg;
	int verbosity;
	int kmsg_fd;
	sigset_t signals; /* blocked; taken with sigtimedwait() or looked at with sigpending() */
};

static void usage(FILE *f)
{
	fputs("usage: tuxtape-agent [OPTIONS] COMMAND [ARGS]\n"
	      "\n"
	      "Keeps this node's kernel livepatches current and safe (docs/agent.md).\n"
	      "\n"
	      "Commands:\n"
	      "  run              the daemon: a check every interval (+-10%), until SIGTERM;\n"
	      "                   SIGHUP reloads the configuration\n"
	      "  check            one cycle: refresh, select, download, verify, load, watch\n"
	      "  apply            load the newest verified cached patch (no network; early boot)\n"
	      "  status           kernel, patches loaded, available and blocked, last check\n"
	      "  disable NAME     disable and unload livepatch NAME and blocklist it\n"
	      "  unblock NAME     remove NAME (module name or target path) from the blocklist\n"
	      "  rollback         blocklist the newest loaded patch, go back to the previous one\n"
	      "\n"
	      "Options:\n"
	      "  -c, --config FILE    configuration (default " AGENT_CONFIG_PATH ")\n"
	      "  -s, --state-dir DIR  state, cache and trusted metadata (default " AGENT_STATE_DIR
	      ")\n"
	      "      --root DIR       read /sys, /proc and /dev below DIR and simulate the kernel\n"
	      "                       there (tests; never loads into the running kernel)\n"
	      "  -n, --dry-run        change nothing in the kernel: report what would be done\n"
	      "      --defer-grace    apply: leave the grace period to 'run' (the boot unit)\n"
	      "      --json           status, check: print the status document as JSON\n"
	      "      --kmsg           log to /dev/kmsg as well as to stderr\n"
	      "  -v, --verbose        more messages (repeat for debug)\n"
	      "  -q, --quiet          only errors\n"
	      "  -h, --help           this help\n"
	      "      --version        the version\n"
	      "\n"
	      "Exit codes: 0 ok / up to date, 1 error, 2 usage, 3 patches available but not\n"
	      "applied, 4 a patch blocked or rolled back, 5 last check stale (status, check).\n",
	      f);
}

static void log_sink(enum log_level level, const char *msg, void *userdata)
{
	static const char *const prefix[] = {
		[LOG_LEVEL_ERROR] = "error: ",	[LOG_LEVEL_WARNING] = "warning: ",
		[LOG_LEVEL_NOTICE] = "",	[LOG_LEVEL_INFO] = "",
		[LOG_LEVEL_DEBUG] = "debug: ",
	};
	/* printk levels: err 3, warning 4, notice 5, info 6, debug 7 */
	static const int kprio[] = { 3, 4, 5, 6, 7 };
	struct main_ctx *m = userdata;

	fprintf(stderr, "tuxtape-agent: %s%s\n", prefix[level], msg);
	if (m->kmsg_fd >= 0) {
		char line[1024];
		int n = snprintf(line, sizeof(line), "<%d>tuxtape-agent: %s\n", kprio[level], msg);

		if (n > 0 && write(m->kmsg_fd, line, (size_t)n < sizeof(line) ? (size_t)n
									: sizeof(line) - 1) < 0) {
			/* the kernel log is best effort */
		}
	}
}

static void engine_note(enum log_level level, const char *msg, void *userdata)
{
	log_full_errno(level, 0, "%s", msg);
}

static bool engine_should_stop(void *userdata)
{
	sigset_t pending;

	if (sigpending(&pending) < 0)
		return false;
	return sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT);
}

/* systemd's notify protocol: one datagram to $NOTIFY_SOCKET; silently nothing without it. */
static void notify(const char *text)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') || strlen(path) >= sizeof(sa.sun_path))
		return;
	len = strlen(path);
	memcpy(sa.sun_path, path, len);
	if (sa.sun_path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract socket */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, text, strlen(text), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
		/* nobody listens: not our problem */
	}
	close(fd);
}

static int load_config(struct main_ctx *m, struct agent_config **ret)
{
	struct agent_config *c = NULL;
	char err[1024];
	int r;

	r = agent_config_load(m->config_path, !m->config_given, &c, err, sizeof(err));
	if (r < 0) {
		log_error("%s", err);
		return EXIT_FAIL;
	}
	if (m->state_dir) {
		char *d = strdup(m->state_dir);

		if (!d) {
			agent_config_free(c);
			log_error("out of memory");
			return EXIT_FAIL;
		}
		free(c->state_dir);
		c->state_dir = d;
	}
	*ret = c;
	return EXIT_OK_;
}

enum print_mode {
	PRINT_FULL,
	PRINT_JSON,
	PRINT_LINE,
};

/* Prints the status document and returns its exit code (EXIT_FAIL when unreadable). */
static int print_status(struct agent *a, enum print_mode mode)
{
	json_t *j = NULL, *v;
	char err[1024] = "";
	size_t i;
	int code;

	code = agent_status(a, &j, err, sizeof(err));
	if (code < 0) {
		log_error("%s", err);
		if (mode == PRINT_JSON && j) {
			json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			putchar('\n');
		}
		json_decref(j);
		return EXIT_FAIL;
	}
	if (mode == PRINT_JSON) {
		json_dumpf(j, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(j);
		return code;
	}
	if (mode == PRINT_LINE) {
		v = json_object_get(json_object_get(j, "last_check"), "message");
		printf("%s: %s\n", json_string_value(json_object_get(j, "status")),
		       json_is_string(v) ? json_string_value(v)
					 : json_string_value(json_object_get(j, "summary")));
		json_decref(j);
		return code;
	}
	printf("status:      %s (%s)\n", json_string_value(json_object_get(j, "status")),
	       json_string_value(json_object_get(j, "summary")));
	v = json_object_get(j, "kernel");
	printf("kernel:      %s", json_string_value(json_object_get(v, "release")));
	if (json_is_string(json_object_get(v, "build_id")))
		printf(" (build id %s)", json_string_value(json_object_get(v, "build_id")));
	if (json_is_integer(json_object_get(v, "taint")))
		printf(", taint %lld", (long long)json_integer_value(json_object_get(v, "taint")));
	putchar('\n');
	json_array_foreach(json_object_get(v, "livepatches"), i, v)
		printf("livepatch:   %s%s%s\n", json_string_value(json_object_get(v, "name")),
		       json_is_true(json_object_get(v, "enabled")) ? " enabled" : " disabled",
		       json_is_true(json_object_get(v, "transition")) ? " (in transition)" : "");
	json_array_foreach(json_object_get(j, "loaded"), i, v)
		printf("loaded:      %s (patch version %lld)%s\n",
		       json_string_value(json_object_get(v, "path")),
		       (long long)json_integer_value(json_object_get(v, "patch_version")),
		       json_is_true(json_object_get(v, "confirmed")) ? ""
								      : " grace period pending");
	v = json_object_get(j, "newest");
	if (json_is_object(v))
		printf("newest:      %s (patch version %lld)%s\n",
		       json_string_value(json_object_get(v, "path")),
		       (long long)json_integer_value(json_object_get(v, "patch_version")),
		       json_is_true(json_object_get(v, "blocked")) ? " blocklisted" : "");
	json_array_foreach(json_object_get(j, "blocklist"), i, v)
		printf("blocked:     %s: %s\n", json_string_value(json_object_get(v, "path")),
		       json_string_value(json_object_get(v, "reason")));
	v = json_object_get(j, "last_check");
	if (json_is_object(v)) {
		char t[32];

		format_timestamp(json_integer_value(json_object_get(v, "time")), t, sizeof(t));
		printf("last check:  %s %s%s%s\n", t,
		       json_string_value(json_object_get(v, "result")),
		       json_is_string(json_object_get(v, "message")) ? ": " : "",
		       json_is_string(json_object_get(v, "message"))
			       ? json_string_value(json_object_get(v, "message"))
			       : "");
	} else {
		printf("last check:  never\n");
	}
	v = json_object_get(j, "last_error");
	if (json_is_object(v)) {
		char t[32];

		format_timestamp(json_integer_value(json_object_get(v, "time")), t, sizeof(t));
		printf("last error:  %s %s\n", t,
		       json_string_value(json_object_get(v, "message")));
	}
	json_decref(j);
	return code;
}

static unsigned jittered(unsigned interval)
{
	static unsigned seed;
	double f;

	if (!seed)
		seed = (unsigned)time(NULL) ^ ((unsigned)getpid() << 16);
	/* +-10%, so a fleet that booted together does not check in together. */
	f = 0.9 + 0.2 * ((double)rand_r(&seed) / RAND_MAX);
	return (unsigned)(interval * f + 0.5) ?: 1;
}

static double cpu_ms(const struct rusage *u)
{
	return (double)(u->ru_utime.tv_sec + u->ru_stime.tv_sec) * 1e3 +
	       (double)(u->ru_utime.tv_usec + u->ru_stime.tv_usec) / 1e3;
}

static int run_daemon(struct main_ctx *m, struct agent *a, struct agent_config **cfg)
{
	_cleanup_(idle_release_freep) struct idle_release *idle = idle_release_new();
	char err[1024], status[1200];
	int r;

	notify("READY=1");
	log_info("started (interval %us, state '%s')", (*cfg)->interval, (*cfg)->state_dir);
	for (;;) {
		unsigned wait_s;
		struct timespec deadline, ts;
		struct rusage before, after;
		siginfo_t si;

		bool rescanned = false;

		getrusage(RUSAGE_SELF, &before);
		r = agent_check(a, err, sizeof(err));
		if (r < 0)
			log_error("check failed: %s", err);
		/*
		 * The daemon idles for an hour between checks: parsed metadata
		 * kept for back-to-back refreshes, the freed heap and its
		 * mappings of clean library pages go back to the system rather
		 * than sit in its RSS (agent-idle.h).  Counted in the check's
		 * CPU: it is part of the cost of a cycle.
		 */
		tuf_metadata_cache_clear();
		malloc_trim(0);
		if (!idle || idle_release_run(idle, NULL, &rescanned) < 0)
			log_debug("could not read /proc/self/maps or smaps: clean mappings kept");
		getrusage(RUSAGE_SELF, &after);
		log_info("check took %.2f ms CPU", cpu_ms(&after) - cpu_ms(&before));
		log_debug("released clean file mappings%s", rescanned ? " (rescanned smaps)" : "");
		snprintf(status, sizeof(status), "STATUS=%s", r < 0 ? err : "last check ok");
		notify(status);
		if (engine_should_stop(m))
			break;

		wait_s = jittered((*cfg)->interval);
		log_debug("next check in %us", wait_s);
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += wait_s;
		for (;;) {
			struct timespec nowt;
			int sig;

			clock_gettime(CLOCK_MONOTONIC, &nowt);
			if (nowt.tv_sec > deadline.tv_sec ||
			    (nowt.tv_sec == deadline.tv_sec && nowt.tv_nsec >= deadline.tv_nsec))
				break;
			ts.tv_sec = deadline.tv_sec - nowt.tv_sec;
			ts.tv_nsec = deadline.tv_nsec - nowt.tv_nsec;
			if (ts.tv_nsec < 0) {
				ts.tv_sec--;
				ts.tv_nsec += 1000000000L;
			}
			sig = sigtimedwait(&m->signals, &si, &ts);
			if (sig == SIGTERM || sig == SIGINT)
				goto stop;
			if (sig == SIGHUP) {
				struct agent_config *n = NULL;

				notify("RELOADING=1");
				if (load_config(m, &n) == EXIT_OK_) {
					agent_set_config(a, n);
					agent_config_free(*cfg);
					*cfg = n;
					log_info("configuration reloaded");
				} else {
					log_error("keeping the previous configuration");
				}
				notify("READY=1");
				/* The interval may have changed: wait it out from now. */
				clock_gettime(CLOCK_MONOTONIC, &deadline);
				deadline.tv_sec += jittered((*cfg)->interval);
			}
		}
	}
stop:
	notify("STOPPING=1");
	log_info("stopping");
	return EXIT_OK_;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "root", required_argument, NULL, 'R' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "defer-grace", no_argument, NULL, 'D' },
		{ "json", no_argument, NULL, 'j' },
		{ "kmsg", no_argument, NULL, 'k' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{},
	};
	struct main_ctx m = { .config_path = AGENT_CONFIG_PATH, .kmsg_fd = -1 };
	_cleanup_(agent_config_freep) struct agent_config *cfg = NULL;
	_cleanup_(agent_freep) struct agent *a = NULL;
	_cleanup_(report_freep) struct report *rep = NULL;
	struct agent_kops *sim = NULL;
	struct agent_options o = {};
	const char *cmd, *arg = NULL;
	char err[1024] = "";
	int c, r, ret;

	log_set_program("tuxtape-agent");
	while ((c = getopt_long(argc, argv, "c:s:nvqh", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			m.config_path = optarg;
			m.config_given = true;
			break;
		case 's':
			if (*optarg != '/') {
				fprintf(stderr,
					"tuxtape-agent: --state-dir '%s': not an absolute path\n",
					optarg);
				return EXIT_USAGE_;
			}
			m.state_dir = optarg;
			break;
		case 'R':
			m.root = optarg;
			break;
		case 'n':
			m.dry_run = true;
			break;
		case 'D':
			m.defer_grace = true;
			break;
		case 'j':
			m.json = true;
			break;
		case 'k':
			m.kmsg = true;
			break;
		case 'v':
			m.verbosity++;
			break;
		case 'q':
			m.verbosity = -1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK_;
		case 'V':
			printf("tuxtape-agent %s\n", TUXTAPE_VERSION);
			return EXIT_OK_;
		default:
			fputs("Run 'tuxtape-agent --help' for usage.\n", stderr);
			return EXIT_USAGE_;
		}
	}
	if (optind >= argc) {
		fputs("tuxtape-agent: no command (run, check, apply, status, disable, unblock, "
		      "rollback; see --help)\n",
		      stderr);
		return EXIT_USAGE_;
	}
	cmd = argv[optind++];
	if (streq(cmd, "disable") || streq(cmd, "unblock")) {
		if (argc - optind != 1) {
			fprintf(stderr, "tuxtape-agent: %s takes one NAME\n", cmd);
			return EXIT_USAGE_;
		}
		arg = argv[optind];
	} else if (!streq(cmd, "run") && !streq(cmd, "check") && !streq(cmd, "apply") &&
		   !streq(cmd, "status") && !streq(cmd, "rollback")) {
		fprintf(stderr, "tuxtape-agent: unknown command '%s' (see --help)\n", cmd);
		return EXIT_USAGE_;
	} else if (argc - optind != 0) {
		fprintf(stderr, "tuxtape-agent: %s takes no arguments\n", cmd);
		return EXIT_USAGE_;
	}
	if (m.defer_grace && !streq(cmd, "apply")) {
		fputs("tuxtape-agent: --defer-grace is an option of apply\n", stderr);
		return EXIT_USAGE_;
	}

	log_set_max_level(m.verbosity < 0     ? LOG_LEVEL_ERROR
			  : m.verbosity == 0 ? LOG_LEVEL_NOTICE
			  : m.verbosity == 1 ? LOG_LEVEL_INFO
					     : LOG_LEVEL_DEBUG);
	if (m.kmsg) {
		_cleanup_free_ char *p = agent_root_path(m.root, "/dev/kmsg");

		m.kmsg_fd = p ? open(p, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY) : -1;
		if (m.kmsg_fd < 0)
			fprintf(stderr,
				"tuxtape-agent: warning: cannot open '%s' for logging: %m\n",
				p ? p : "/dev/kmsg");
	}
	log_set_sink(log_sink, &m);

	if (load_config(&m, &cfg) != EXIT_OK_)
		return EXIT_FAIL;

	/* Signals are taken, not handled: the engine looks for them between steps. */
	sigemptyset(&m.signals);
	sigaddset(&m.signals, SIGTERM);
	sigaddset(&m.signals, SIGINT);
	sigaddset(&m.signals, SIGHUP);
	if (!streq(cmd, "status"))
		sigprocmask(SIG_BLOCK, &m.signals, NULL);

	if (m.root && !streq(m.root, "/")) {
		sim = agent_kops_sim_new(m.root);
		if (!sim) {
			log_error("out of memory");
			return EXIT_FAIL;
		}
	}
	rep = report_new_default(cfg->state_dir, cfg->report_url, cfg->ca_file);
	if (!rep) {
		agent_kops_sim_free(sim);
		log_error("out of memory");
		return EXIT_FAIL;
	}
	o.config = cfg;
	o.root = m.root;
	o.kops = sim ? sim : &agent_kops_syscall;
	o.report = streq(cmd, "status") ? NULL : rep;
	o.dry_run = m.dry_run;
	o.defer_grace = m.defer_grace;
	o.version = TUXTAPE_VERSION;
	o.note = engine_note;
	o.should_stop = engine_should_stop;
	o.userdata = &m;
	r = agent_new(&o, &a, err, sizeof(err));
	if (r < 0) {
		agent_kops_sim_free(sim);
		log_error_errno(r, "%s", err);
		return EXIT_FAIL;
	}

	if (streq(cmd, "run")) {
		ret = run_daemon(&m, a, &cfg);
	} else if (streq(cmd, "status")) {
		ret = print_status(a, m.json ? PRINT_JSON : PRINT_FULL);
	} else if (streq(cmd, "check")) {
		r = agent_check(a, err, sizeof(err));
		if (r < 0) {
			log_error("%s", err);
			ret = EXIT_FAIL;
			if (m.json)
				print_status(a, PRINT_JSON);
		} else {
			/* The cycle ran: its exit code is the status it left. */
			ret = print_status(a, m.json ? PRINT_JSON : PRINT_LINE);
		}
	} else {
		if (streq(cmd, "apply"))
			r = agent_apply(a, err, sizeof(err));
		else if (streq(cmd, "rollback"))
			r = agent_rollback(a, err, sizeof(err));
		else if (streq(cmd, "disable"))
			r = agent_disable(a, arg, err, sizeof(err));
		else
			r = agent_unblock(a, arg, err, sizeof(err));
		if (r < 0)
			log_error("%s", err);
		ret = r < 0 ? EXIT_FAIL : EXIT_OK_;
	}
	agent_kops_sim_free(sim);
	if (m.kmsg_fd >= 0)
		close(m.kmsg_fd);
	return ret;
}
