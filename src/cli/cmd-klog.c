/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "klog-catalog.h"
#include "klog.h"
#include "log.h"
#include "parse-util.h"
#include "strbuf.h"

#define READ_CHUNK (1024 * 1024)
#define DEFAULT_MAX_EVENTS 1000
#define FOLLOW_POLL_NS (200 * 1000 * 1000)
#define MAX_PATCHES 64

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

struct klog_cli {
	bool json, follow, all, quiet;
	json_t *events;
	uint64_t max_events, dropped;
};

static const char *severity_mark(enum klog_severity s)
{
	switch (s) {
	case KLOG_SEVERITY_WARNING:
		return "warning";
	case KLOG_SEVERITY_ERROR:
		return "ERROR";
	case KLOG_SEVERITY_TROUBLE:
		return "TROUBLE";
	default:
		return "";
	}
}

static void print_time(const struct klog_event *ev)
{
	if (ev->time_s >= 0)
		printf("[%12.6f] ", ev->time_s);
	else if (ev->wall_us >= 0) {
		char buf[32];

		format_timestamp(ev->wall_us / 1000000, buf, sizeof(buf));
		printf("[%s] ", buf);
	} else {
		printf("%15s", "");
	}
}

static int on_event(const struct klog_event *ev, void *userdata)
{
	struct klog_cli *c = userdata;

	if (c->json) {
		json_t *j = NULL;
		int r;

		if (c->follow) {
			/* --follow --json: one event per line as it happens */
			r = klog_event_to_json(ev, &j);
			if (r < 0)
				return r;
			r = json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			json_decref(j);
			fputc('\n', stdout);
			fflush(stdout);
			return r < 0 ? -EIO : 0;
		}
		if (json_array_size(c->events) >= c->max_events) {
			c->dropped++;
			return 0;
		}
		r = klog_event_to_json(ev, &j);
		if (r < 0)
			return r;
		return json_array_append_new(c->events, j) < 0 ? -ENOMEM : 0;
	}
	if (c->quiet)
		return 0;
	/* Lifecycle of modules that are not livepatches and boots are noise on a terminal. */
	if (!c->all && ev->severity == KLOG_SEVERITY_INFO &&
	    (ev->type == KLOG_EVENT_BOOT || (!ev->patch && ev->type == KLOG_EVENT_MODULE_TAINT) ||
	     (!ev->patch && ev->type == KLOG_EVENT_MODULE_INIT)))
		return 0;
	print_time(ev);
	printf("%-20s %-7s %s\n", klog_event_type_to_string(ev->type), severity_mark(ev->severity),
	       ev->message);
	if (ev->report) {
		const struct klog_report *r = ev->report;

		if (r->has_rip_frame)
			printf("%17s at %s%s%s%s\n", "", r->rip_frame.function,
			       r->rip_frame.module[0] ? " [" : "", r->rip_frame.module,
			       r->rip_frame.module[0] ? "]" : "");
		if (r->comm[0])
			printf("%17s task %s:%d on CPU %d\n", "", r->comm, r->pid, r->cpu);
	}
	if (ev->implicates)
		printf("%17s -> implicates '%s' (%s%s%s)\n", "", ev->implicates->patch,
		       klog_how_to_string(ev->implicates->how),
		       ev->implicates->detail && ev->implicates->detail[0] ? ": " : "",
		       ev->implicates->detail ? ev->implicates->detail : "");
	if (c->follow)
		fflush(stdout);
	return 0;
}

static void print_summary(const struct klog_parser *p)
{
	struct klog_verdict v;
	size_t n = klog_parser_n_patches(p);

	if (n > 0)
		printf("\npatches:\n");
	for (size_t i = 0; i < n; i++) {
		struct klog_patch_info pi;
		char taint[27];

		if (klog_parser_patch(p, i, &pi) < 0)
			continue;
		klog_taint_letters(pi.taint, taint, sizeof(taint));
		printf("  %-24s %-10s %s%s%s%s\n", pi.name, klog_patch_state_to_string(pi.state),
		       pi.livepatch ? "livepatch" : "module", taint[0] ? ", taints " : "", taint,
		       pi.misbehaved ? ", MISBEHAVED" : pi.stalled ? ", stalled" : "");
	}
	klog_parser_verdict(p, &v);
	printf("\nverdict: %s%s%s\n", klog_verdict_kind_to_string(v.kind),
	       v.kind == KLOG_VERDICT_MISBEHAVED ? " " : "",
	       v.kind == KLOG_VERDICT_MISBEHAVED ? v.patch : "");
	if (v.reason[0])
		printf("reason: %s\n", v.reason);
	if (v.n_evidence)
		printf("evidence:\n");
	for (size_t i = 0; i < v.n_evidence; i++)
		printf("  %s\n", v.evidence[i]);
}

/* Reads fd to its end (or, for a /dev/kmsg-like device, until no record is ready). */
static int read_stream(struct klog_parser *p, int fd, bool records, char *buf, uint64_t *off)
{
	for (;;) {
		ssize_t n;
		int r;

		if (stop_requested)
			return 0;
		n = read(fd, buf, READ_CHUNK);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			if (records && errno == EPIPE)
				continue; /* records were overwritten before we read them */
			return -errno;
		}
		if (n == 0)
			return 0;
		*off += (uint64_t)n;
		r = records ? klog_parser_feed_record(p, buf, (size_t)n)
			    : klog_parser_feed(p, buf, (size_t)n);
		if (r < 0)
			return r;
	}
}

static int follow_file(struct klog_parser *p, const char *path, int *fd, char *buf,
		       uint64_t *off)
{
	struct timespec ts = { 0, FOLLOW_POLL_NS };
	int r;

	while (!stop_requested) {
		struct stat st, pst;

		nanosleep(&ts, NULL);
		if (fstat(*fd, &st) < 0)
			return -errno;
		if ((uint64_t)st.st_size < *off) {
			/* truncated in place: start over */
			if (lseek(*fd, 0, SEEK_SET) < 0)
				return -errno;
			*off = 0;
		} else if (stat(path, &pst) == 0 && (pst.st_ino != st.st_ino || pst.st_dev != st.st_dev)) {
			/* rotated: finish the old file, then read the new one */
			r = read_stream(p, *fd, false, buf, off);
			if (r < 0)
				return r;
			{
				int nfd = open(path, O_RDONLY | O_CLOEXEC);

				if (nfd < 0)
					continue;
				close(*fd);
				*fd = nfd;
				*off = 0;
			}
		}
		r = read_stream(p, *fd, false, buf, off);
		if (r < 0)
			return r;
	}
	return 0;
}

static void check_help(void)
{
	fputs("usage: tuxtape klog check [OPTIONS] [FILE|-]\n"
	      "\n"
	      "Read a kernel log and say whether a livepatch misbehaved: ok, suspect\n"
	      "(trouble not attributable to a livepatch) or misbehaved PATCH, with the\n"
	      "evidence.  FILE may be dmesg output (with or without timestamps, -T, -x,\n"
	      "-r), /dev/kmsg, journalctl -k (text or -o json), syslog, or a serial console\n"
	      "capture; standard input when FILE is '-' or missing.\n"
	      "\n"
	      "Options:\n"
	      "      --follow           keep reading a growing file or /dev/kmsg until\n"
	      "                         interrupted (SIGINT/SIGTERM), then judge\n"
	      "      --patch NAME[:FUNC,...]  a livepatch module and the functions it\n"
	      "                         replaces (repeatable); its load errors count as\n"
	      "                         its misbehaviour\n"
	      "      --window SECONDS   trouble this long after a patch was enabled implicates\n"
	      "                         it (default 60; 0 turns it off)\n"
	      "      --stall SECONDS    a transition open longer is stalled (default 15)\n"
	      "      --since SECONDS    trouble before this uptime does not count\n"
	      "      --year YEAR        for syslog stamps without a year (default: this year)\n"
	      "      --all              print every event, not only the telling ones\n"
	      "      --max-events N     events kept in --json output (default 1000)\n"
	      "      --fail-on-suspect  exit 6 for 'suspect' too\n"
	      "      --json             machine-readable report (docs/klog.md); with --follow,\n"
	      "                         one JSON event per line, then the report\n"
	      "  -h, --help             show this help\n"
	      "\n"
	      "Exit codes: 0 ok or suspect, 6 misbehaved (and suspect with\n"
	      "--fail-on-suspect), 1 the log cannot be read, 2 usage.\n",
	      stdout);
}

static int parse_seconds(const char *s, double max, double *ret)
{
	double d;

	if (safe_atod(s, &d) < 0 || d < 0 || d > max)
		return -EINVAL;
	*ret = d;
	return 0;
}

/* "NAME[:F1,F2]": the name into *name, the functions into *funcs (both owned by the caller). */
static int parse_patch_arg(const char *arg, char **name, char ***funcs)
{
	const char *colon = strchr(arg, ':'), *f;
	size_t nl = colon ? (size_t)(colon - arg) : strlen(arg);
	int r;

	if (!klog_is_module_name(arg, nl))
		return -EINVAL;
	*name = strndup(arg, nl);
	if (!*name)
		return -ENOMEM;
	for (f = colon ? colon + 1 : NULL; f;) {
		const char *comma = strchr(f, ',');
		size_t fl = comma ? (size_t)(comma - f) : strlen(f);
		char *fn;

		if (fl == 0 || fl >= KLOG_SYMBOL_MAX)
			return -EINVAL;
		fn = strndup(f, fl);
		if (!fn)
			return -ENOMEM;
		r = strv_consume(funcs, fn);
		if (r < 0)
			return r;
		f = comma ? comma + 1 : NULL;
	}
	return 0;
}

struct patch_args {
	struct klog_patch_spec specs[MAX_PATCHES];
	char *names[MAX_PATCHES];
	char **funcs[MAX_PATCHES];
	size_t n;
};

static void patch_args_release(struct patch_args *a)
{
	for (size_t i = 0; i < a->n; i++) {
		free(a->names[i]);
		strv_free(a->funcs[i]);
	}
}

static int verb_check(struct cli_ctx *ctx, int argc, char **argv)
{
	enum {
		OPT_FOLLOW = 256,
		OPT_PATCH,
		OPT_WINDOW,
		OPT_STALL,
		OPT_SINCE,
		OPT_YEAR,
		OPT_ALL,
		OPT_MAX_EVENTS,
		OPT_FAIL_ON_SUSPECT,
		OPT_JSON,
	};
	static const struct option options[] = {
		{ "follow", no_argument, NULL, OPT_FOLLOW },
		{ "patch", required_argument, NULL, OPT_PATCH },
		{ "window", required_argument, NULL, OPT_WINDOW },
		{ "stall", required_argument, NULL, OPT_STALL },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "year", required_argument, NULL, OPT_YEAR },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "max-events", required_argument, NULL, OPT_MAX_EVENTS },
		{ "fail-on-suspect", no_argument, NULL, OPT_FAIL_ON_SUSPECT },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	_cleanup_(klog_parser_freep) struct klog_parser *p = NULL;
	_cleanup_(patch_args_release) struct patch_args pa = { .n = 0 };
	_cleanup_(json_decrefp) json_t *events = NULL;
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = -1;
	struct klog_cli c = { .max_events = DEFAULT_MAX_EVENTS };
	struct klog_options o;
	struct klog_verdict v;
	bool fail_on_suspect = false, records = false;
	const char *path = NULL;
	uint64_t off = 0;
	struct stat st;
	int ch, r;

	klog_options_init(&o);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (ch) {
		case OPT_FOLLOW:
			c.follow = true;
			break;
		case OPT_PATCH:
			if (pa.n >= MAX_PATCHES)
				return cli_usage_error("klog", "check", "at most %d --patch options",
						       MAX_PATCHES);
			r = parse_patch_arg(optarg, &pa.names[pa.n], &pa.funcs[pa.n]);
			pa.specs[pa.n] = (struct klog_patch_spec){
				pa.names[pa.n], (const char *const *)pa.funcs[pa.n]
			};
			pa.n++;
			if (r == -ENOMEM)
				return log_error_errno(r, "cannot allocate patch list");
			if (r < 0)
				return cli_usage_error("klog", "check",
						       "invalid --patch '%s' (NAME[:FUNC,...], a module name)",
						       optarg);
			break;
		case OPT_WINDOW:
			if (parse_seconds(optarg, 86400, &o.window_s) < 0)
				return cli_usage_error("klog", "check",
						       "invalid window '%s' (0..86400 s)", optarg);
			break;
		case OPT_STALL:
			if (parse_seconds(optarg, 86400, &o.stall_s) < 0 || o.stall_s < 1)
				return cli_usage_error("klog", "check", "invalid stall time '%s' (1..86400 s)",
						       optarg);
			break;
		case OPT_SINCE:
			if (parse_seconds(optarg, 1e9, &o.since_s) < 0)
				return cli_usage_error("klog", "check", "invalid uptime '%s'", optarg);
			break;
		case OPT_YEAR:
			if (safe_atoi(optarg, &o.year) < 0 || o.year < 1970 || o.year > 9999)
				return cli_usage_error("klog", "check", "invalid year '%s'", optarg);
			break;
		case OPT_ALL:
			c.all = true;
			break;
		case OPT_MAX_EVENTS: {
			uint64_t m;

			if (safe_atou64(optarg, &m) < 0 || m > 10000000)
				return cli_usage_error("klog", "check",
						       "invalid event count '%s' (0..10000000)", optarg);
			c.max_events = m;
			break;
		}
		case OPT_FAIL_ON_SUSPECT:
			fail_on_suspect = true;
			break;
		case OPT_JSON:
			ctx->json = true;
			break;
		case 'h':
			check_help();
			return 0;
		default:
			return cli_usage_error("klog", "check", "invalid option");
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("klog", "check", "expected at most one FILE");
	if (argc - optind == 1 && !streq(argv[optind], "-"))
		path = argv[optind];

	o.patches = pa.specs;
	o.n_patches = pa.n;

	c.json = ctx->json;
	c.quiet = ctx->verbosity < 0; /* -q: the exit code says it */
	if (c.json && !c.follow) {
		c.events = events = json_array();
		if (!events)
			return log_error_errno(-ENOMEM, "cannot allocate events");
	}
	o.on_event = on_event;
	o.userdata = &c;
	p = klog_parser_new(&o);
	buf = malloc(READ_CHUNK);
	if (!p || !buf)
		return log_error_errno(-ENOMEM, "cannot allocate the parser");

	if (path) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return log_error_errno(-errno, "cannot open '%s'", path);
	} else {
		fd = dup(STDIN_FILENO);
		if (fd < 0)
			return log_error_errno(-errno, "cannot read standard input");
	}
	if (fstat(fd, &st) < 0)
		return log_error_errno(-errno, "cannot read '%s'", path ? path : "-");
	if (S_ISDIR(st.st_mode))
		return log_error_errno(-EISDIR, "cannot read '%s': is a directory", path);
	/* /dev/kmsg gives one record per read(); without --follow stop when none is ready. */
	records = S_ISCHR(st.st_mode);
	if (records && !c.follow) {
		int fl = fcntl(fd, F_GETFL);

		if (fl >= 0)
			(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	}
	if (c.follow) {
		struct sigaction sa = { .sa_handler = on_stop_signal };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}

	r = read_stream(p, fd, records, buf, &off);
	if (r >= 0 && c.follow && path && S_ISREG(st.st_mode))
		r = follow_file(p, path, &fd, buf, &off);
	if (r < 0)
		return log_error_errno(r, "cannot read '%s'", path ? path : "-");
	r = klog_parser_finish(p);
	if (r < 0)
		return log_error_errno(r, "cannot parse '%s'", path ? path : "-");

	if (c.json) {
		json_t *doc = NULL;

		c.events = NULL;
		r = klog_parser_to_json(p, TAKE_PTR(events), c.dropped, &doc);
		if (r >= 0 && c.follow) {
			r = json_dumpf(doc, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER) < 0 ? -EIO : 0;
			fputc('\n', stdout);
			json_decref(doc);
		} else if (r >= 0) {
			r = cli_print_json(doc);
		}
		if (r < 0)
			return log_error_errno(r, "cannot write the report");
	} else if (ctx->verbosity >= 0) {
		print_summary(p);
	}
	klog_parser_verdict(p, &v);
	if (ctx->verbosity >= 1 && !c.json) {
		const struct klog_stats *s = klog_parser_stats(p);

		log_info("read %llu bytes, %llu lines, %llu duplicates, %llu foreign",
			 (unsigned long long)s->bytes, (unsigned long long)s->lines,
			 (unsigned long long)s->duplicates, (unsigned long long)s->foreign);
	}
	if (v.kind == KLOG_VERDICT_MISBEHAVED || (v.kind == KLOG_VERDICT_SUSPECT && fail_on_suspect))
		return CLI_RESULT_CHECK_FAILED;
	return 0;
}

static void catalog_help(void)
{
	fputs("usage: tuxtape klog catalog [--json]\n"
	      "\n"
	      "Print the livepatch core and module loader messages the parser knows, with\n"
	      "the event each one becomes.\n",
	      stdout);
}

static int verb_catalog(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{},
	};
	static const char *const prefixes[] = { "livepatch: ", "<module>: ", "" };
	json_t *a = NULL;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (ch) {
		case 'j':
			ctx->json = true;
			break;
		case 'h':
			catalog_help();
			return 0;
		default:
			return cli_usage_error("klog", "catalog", "invalid option");
		}
	}
	if (optind < argc)
		return cli_usage_error("klog", "catalog", "unexpected argument '%s'", argv[optind]);
	if (ctx->json && !(a = json_array()))
		return log_error_errno(-ENOMEM, "cannot allocate the catalogue");
	for (int t = KLOG_TABLE_LIVEPATCH; t <= KLOG_TABLE_OTHER; t++)
		for (const struct klog_catalog_entry *e = klog_catalog_table(t); e->pattern; e++) {
			const char *type = e->type >= 0 ? klog_event_type_to_string(e->type) : "-";

			if (a) {
				char pat[512];

				snprintf(pat, sizeof(pat), "%s%s", prefixes[t], e->pattern);
				if (json_array_append_new(a, json_pack("{s:s, s:s, s:s}", "pattern", pat,
								       "event", type, "severity",
								       klog_severity_to_string(e->severity))) < 0) {
					json_decref(a);
					return log_error_errno(-ENOMEM, "cannot allocate the catalogue");
				}
			} else {
				printf("%-20s %-8s %s%s\n", type, klog_severity_to_string(e->severity),
				       prefixes[t], e->pattern);
			}
		}
	return a ? cli_print_json(a) : 0;
}

static const struct cli_verb klog_verbs[] = {
	{ "check", verb_check, "read a kernel log: did a livepatch misbehave?" },
	{ "catalog", verb_catalog, "list the livepatch and module loader messages known" },
	{},
};

int cmd_klog(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_dispatch(ctx, "klog", klog_verbs, argc, argv);
}
