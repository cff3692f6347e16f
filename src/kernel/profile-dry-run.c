/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "child.h"
#include "fileio.h"
#include "kbuild.h"
#include "kconfig.h"
#include "log.h"
#include "parse-util.h"
#include "profile-dry-run.h"
#include "strbuf.h"

#define DIR_STACK_MAX 32

/*
 * Relative paths need a base even when make printed no "Entering directory"
 * line; this stand-in is deep enough that "-include ../../include/linux/kconfig.h"
 * still names a directory below "/", so system paths never match it.
 */
static const char unknown_objtree[] = "/.objtree-unknown/1/2/3/4/5/6/7/8";

struct dry_run {
	struct kernel_profile *p;
	char *objtree;		   /* known build tree (the runner's O=), or NULL */
	char *dirs[DIR_STACK_MAX]; /* "Entering directory" stack */
	size_t ndirs;
	struct kbuild_roots roots;
	struct strbuf pending; /* a command continued with backslash-newline */
	size_t line_no;
	size_t compiles; /* kernel compiles seen */
	size_t builtin, modules, host, outside, other;
	char *reterr;
	size_t errsize;
};

static void dry_run_init(struct dry_run *d, struct kernel_profile *p, char *reterr, size_t errsize)
{
	*d = (struct dry_run){ .p = p, .reterr = reterr, .errsize = errsize };
	strbuf_init(&d->pending, DRY_RUN_MAX_LINE);
}

static void dry_run_release(struct dry_run *d)
{
	free(d->objtree);
	for (size_t i = 0; i < d->ndirs; i++)
		free(d->dirs[i]);
	kbuild_roots_release(&d->roots);
	strbuf_release(&d->pending);
}

static const char *current_dir(const struct dry_run *d)
{
	if (d->objtree)
		return d->objtree;
	return d->ndirs > 0 ? d->dirs[d->ndirs - 1] : unknown_objtree;
}

static int on_compile(size_t argc, char **argv, void *userdata)
{
	struct dry_run *d = userdata;
	struct kbuild_compile c;
	_cleanup_free_ char *source = NULL;
	const char *base = current_dir(d);
	unsigned flags, old;
	int r;

	if (!kbuild_compile_parse(argc, argv, &c))
		return 0;
	if (!c.kernel) {
		d->host++;
		return 0;
	}
	d->compiles++;
	r = kbuild_roots_add(&d->roots, base);
	if (r < 0 && r != -E2BIG)
		return r;
	if (c.kconfig_h) {
		_cleanup_free_ char *tree = kbuild_srctree_from_kconfig_h(c.kconfig_h), *abs = NULL;

		if (tree) {
			abs = kbuild_path_normalize(base, tree);
			if (!abs)
				return -ENOMEM;
			r = kbuild_roots_add(&d->roots, abs);
			if (r < 0 && r != -E2BIG)
				return r;
		}
	}
	r = kbuild_relativize(&d->roots, base, c.source, &source);
	if (r < 0)
		return r;
	if (r == 0) {
		d->outside++;
		return 0;
	}
	if (!kbuild_source_wanted(source)) {
		d->other++;
		return 0;
	}
	flags = c.module ? PROFILE_MODULE : PROFILE_BUILTIN;
	old = kernel_profile_lookup(d->p, source);
	r = kernel_profile_add(d->p, source, flags);
	if (r == -EINVAL) {
		d->outside++;
		return 0;
	}
	if (r < 0)
		return r;
	if (!(old & flags)) {
		if (c.module)
			d->modules++;
		else
			d->builtin++;
	}
	return 0;
}

/* "make[2]: Entering directory '/tmp/o'" (older make: `/tmp/o'). */
static int directory_line(struct dry_run *d, const char *s, size_t n)
{
	static const char enter[] = ": Entering directory ", leave[] = ": Leaving directory ";
	const char *colon, *m;
	size_t rest, k;

	if (n < 4 || memcmp(s, "make", 4) != 0)
		return 0;
	colon = memchr(s, ':', n);
	if (!colon || memchr(s, ' ', (size_t)(colon - s)))
		return 0;
	rest = n - (size_t)(colon - s);
	if (rest >= strlen(leave) && memcmp(colon, leave, strlen(leave)) == 0) {
		if (d->ndirs > 0)
			free(d->dirs[--d->ndirs]);
		return 1;
	}
	if (rest < strlen(enter) || memcmp(colon, enter, strlen(enter)) != 0)
		return 0;
	m = colon + strlen(enter);
	k = rest - strlen(enter);
	if (k < 3 || (m[0] != '\'' && m[0] != '`') || m[k - 1] != '\'' || m[1] != '/' ||
	    d->ndirs == DIR_STACK_MAX)
		return 1;
	d->dirs[d->ndirs] = strndup(m + 1, k - 2);
	if (!d->dirs[d->ndirs])
		return -ENOMEM;
	d->ndirs++;
	return 1;
}

static int dry_run_line(struct dry_run *d, const char *s, size_t n)
{
	int r;

	d->line_no++;
	if (memchr(s, '\0', n))
		return parse_error(d->reterr, d->errsize, "line %zu: binary data: not make output",
				   d->line_no);
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (d->pending.len == 0) {
		r = directory_line(d, s, n);
		if (r != 0)
			return r < 0 ? r : 0;
	}
	r = strbuf_add(&d->pending, s, n);
	if (r == -EFBIG) {
		d->other++;
		strbuf_reset(&d->pending);
		return 0;
	}
	if (r < 0)
		return r;
	if (n > 0 && s[n - 1] == '\\')
		return strbuf_addch(&d->pending, '\n') == -ENOMEM ? -ENOMEM : 0;
	r = kbuild_shell_foreach(d->pending.buf, d->pending.len, on_compile, d);
	strbuf_reset(&d->pending);
	return r;
}

static int dry_run_finish(struct dry_run *d)
{
	if (d->pending.len > 0) {
		int r = kbuild_shell_foreach(d->pending.buf, d->pending.len, on_compile, d);

		strbuf_reset(&d->pending);
		if (r < 0)
			return r;
	}
	if (d->compiles == 0)
		return parse_error(
			d->reterr, d->errsize,
			"no kernel compile commands ('cc -D__KERNEL__ ... -c -o X.o X.c') "
			"in %zu lines of make output",
			d->line_no);
	log_debug("dry run: %zu lines, %zu kernel compiles, %zu built-in, %zu module, %zu host, "
		  "%zu outside, %zu other",
		  d->line_no, d->compiles, d->builtin, d->modules, d->host, d->outside, d->other);
	return 0;
}

int kernel_profile_read_dry_run(struct kernel_profile *p, const char *buf, size_t len, char *reterr,
				size_t errsize)
{
	_cleanup_(dry_run_release) struct dry_run d;
	size_t pos = 0;
	int r;

	dry_run_init(&d, p, reterr, errsize);
	if (len > DRY_RUN_MAX_OUTPUT) {
		parse_error(reterr, errsize,
			    "make output of %zu bytes is larger than the %llu allowed", len,
			    DRY_RUN_MAX_OUTPUT);
		return -EFBIG;
	}
	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;

		pos += n + (nl ? 1 : 0);
		if (n > DRY_RUN_MAX_LINE) {
			d.line_no++;
			d.other++;
			continue;
		}
		r = dry_run_line(&d, s, n);
		if (r < 0)
			return r;
	}
	return dry_run_finish(&d);
}

/* Running make. */

struct step_output {
	struct dry_run *parser; /* NULL: output only kept for messages */
	struct strbuf line;
	bool discarding; /* the current line is longer than DRY_RUN_MAX_LINE */
	uint64_t total;
	char last[256];	      /* last non-empty line */
	char last_error[256]; /* first line saying what failed */
};

static void step_output_init(struct step_output *o, struct dry_run *parser)
{
	*o = (struct step_output){ .parser = parser };
	strbuf_init(&o->line, DRY_RUN_MAX_LINE);
}

static void step_output_release(struct step_output *o)
{
	strbuf_release(&o->line);
}

static void remember(char *dst, size_t size, const char *s, size_t n)
{
	snprintf(dst, size, "%.*s", (int)n, s);
}

/*
 * The line worth quoting when a step fails: the first that says what went
 * wrong ("*** The source tree is not clean, ...", "foo.c:1:2: error: ..."),
 * not make's own "make[1]: *** [Makefile:2: olddefconfig] Error 2" summary.
 */
static bool is_error_line(const char *s, size_t n)
{
	const char *stars = memmem(s, n, "*** ", 4);

	if (n >= 4 && memcmp(s, "make", 4) == 0)
		return false;
	if (stars && (size_t)(stars - s) + 4 < n && stars[4] != ' ')
		return true;
	return memmem(s, n, "error", 5) || memmem(s, n, "Error", 5);
}

static int output_line(struct step_output *o, const char *s, size_t n)
{
	if (n > 0 && s[n - 1] == '\r')
		n--;
	if (n > 0)
		remember(o->last, sizeof(o->last), s, n);
	if (!o->last_error[0] && is_error_line(s, n))
		remember(o->last_error, sizeof(o->last_error), s, n);
	return o->parser ? dry_run_line(o->parser, s, n) : 0;
}

static int output_feed(struct step_output *o, const char *buf, size_t len)
{
	int r;

	o->total += len;
	if (o->total > DRY_RUN_MAX_OUTPUT)
		return -EFBIG;
	while (len > 0) {
		const char *nl = memchr(buf, '\n', len);
		size_t n = nl ? (size_t)(nl - buf) : len;

		if (!o->discarding) {
			r = strbuf_add(&o->line, buf, n);
			if (r == -EFBIG) {
				o->discarding = true;
				strbuf_reset(&o->line);
			} else if (r < 0) {
				return r;
			}
		}
		if (!nl)
			break;
		if (!o->discarding) {
			r = output_line(o, o->line.buf, o->line.len);
			if (r < 0)
				return r;
		} else if (o->parser) {
			o->parser->line_no++;
			o->parser->other++;
		}
		o->discarding = false;
		strbuf_reset(&o->line);
		buf += n + 1;
		len -= n + 1;
	}
	return 0;
}

static int output_end(struct step_output *o)
{
	if (o->discarding || o->line.len == 0)
		return 0;
	return output_line(o, o->line.buf, o->line.len);
}

static int feed_output(const char *buf, size_t len, void *userdata)
{
	return output_feed(userdata, buf, len);
}

/* make's stdout and stderr interleaved, parsed as they stream. */
static int run_make(char *const argv[], int64_t deadline_ms, struct step_output *o, int *ret_status)
{
	int r = child_run_stream(argv, true, deadline_ms, feed_output, o, ret_status);

	return r < 0 ? r : output_end(o);
}

static void rm_rf_freep(char **dir)
{
	if (*dir) {
		rm_rf(*dir);
		free(*dir);
	}
}

static int step_error(char *reterr, size_t errsize, const char *step, int r, unsigned timeout_s,
		      const struct step_output *o, int status)
{
	const char *tail = o->last_error[0] ? o->last_error : o->last;

	if (!reterr || !errsize)
		return r;
	if (r == -ETIMEDOUT)
		snprintf(reterr, errsize, "%s: timed out after %u s", step, timeout_s);
	else if (r == -ENOENT)
		snprintf(reterr, errsize, "%s: cannot run 'make': %s", step, strerror(-r));
	else if (r == -EFBIG)
		snprintf(reterr, errsize, "%s: more than %llu bytes of output", step,
			 DRY_RUN_MAX_OUTPUT);
	else if (r == -EIO)
		snprintf(reterr, errsize, "%s: failed with exit status %d%s%s", step, status,
			 tail[0] ? ": " : "", tail);
	else if (r != -EBADMSG)
		snprintf(reterr, errsize, "%s: %s", step, strerror(-r));
	return r;
}

/* Prefixes reterr (filled by a parser) with the step. */
static int prefix_error(char *reterr, size_t errsize, const char *what, int r)
{
	char msg[512];

	if (reterr && errsize) {
		snprintf(msg, sizeof(msg), "%s", reterr);
		snprintf(reterr, errsize, "%s: %s", what, msg);
	}
	return r;
}

/* argv of make for one step: the fixed prefix, then the step's own arguments. */
struct make_argv {
	char *v[16];
	size_t n;
};

static void make_argv_init(struct make_argv *a, const char *source_dir, char *odir, char *arch)
{
	a->n = 0;
	a->v[a->n++] = (char *)"make";
	a->v[a->n++] = (char *)"-C";
	a->v[a->n++] = (char *)source_dir;
	a->v[a->n++] = odir;
	if (arch)
		a->v[a->n++] = arch;
	a->v[a->n] = NULL;
}

static void make_argv_add(struct make_argv *a, const char *arg)
{
	if (a->n + 1 < ARRAY_SIZE(a->v)) {
		a->v[a->n++] = (char *)arg;
		a->v[a->n] = NULL;
	}
}

int kernel_profile_run_dry_run(struct kernel_profile *p, const char *source_dir,
			       const char *config_path, unsigned timeout_s, char *reterr,
			       size_t errsize)
{
	static const char step_config[] = "make olddefconfig", step_prepare[] = "make prepare",
			  step_dry_run[] = "make -n -k vmlinux modules";
	_cleanup_(kconfig_freep) struct kconfig *config = NULL;
	_cleanup_(rm_rf_freep) char *tmp = NULL;
	_cleanup_free_ char *makefile = NULL, *cfg = NULL, *dotconfig = NULL, *odir = NULL,
			    *arch = NULL;
	_cleanup_(dry_run_release) struct dry_run d;
	_cleanup_(step_output_release) struct step_output o1, o2;
	char real_src[PATH_MAX], real_tmp[PATH_MAX];
	const char *tmpbase = getenv("TMPDIR");
	int64_t deadline = timeout_s ? child_now_ms() + (int64_t)timeout_s * 1000 : 0;
	struct make_argv argv;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	char jobs[32];
	size_t cfg_len;
	int status = 0, r;

	dry_run_init(&d, p, reterr, errsize);
	step_output_init(&o1, NULL);
	step_output_init(&o2, &d);
	makefile = path_join(source_dir, "Makefile");
	if (!makefile)
		return -ENOMEM;
	if (access(makefile, R_OK) < 0 || !realpath(source_dir, real_src)) {
		parse_error(reterr, errsize, "'%s' is not a kernel source tree: no Makefile",
			    source_dir);
		return -ENOENT;
	}
	r = read_file_bounded(config_path, KCONFIG_MAX_SIZE, &cfg, &cfg_len);
	if (r < 0) {
		parse_error(reterr, errsize, "config '%s': %s", config_path,
			    r == -EFBIG ? "too large for a kernel config" : strerror(-r));
		return r;
	}
	r = kconfig_parse(cfg, cfg_len, &config, reterr, errsize);
	if (r < 0) {
		char what[PATH_MAX + 16];

		snprintf(what, sizeof(what), "config '%s'", config_path);
		return prefix_error(reterr, errsize, what, r);
	}
	if (asprintf(&tmp, "%s/tuxtape-dry-run.XXXXXX", strempty(tmpbase) ? "/tmp" : tmpbase) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	if (!mkdtemp(tmp)) {
		r = -errno;
		free(TAKE_PTR(tmp));
		parse_error(reterr, errsize, "cannot create a temporary build directory: %s",
			    strerror(-r));
		return r;
	}
	if (!realpath(tmp, real_tmp))
		return -errno;
	dotconfig = path_join(tmp, ".config");
	if (!dotconfig)
		return -ENOMEM;
	r = write_file_atomic(dotconfig, cfg, cfg_len, 0644);
	if (r < 0) {
		parse_error(reterr, errsize, "cannot write '%s': %s", dotconfig, strerror(-r));
		return r;
	}
	if (asprintf(&odir, "O=%s", real_tmp) < 0) {
		odir = NULL;
		return -ENOMEM;
	}
	/* Without ARCH, olddefconfig would re-target a foreign config at the host. */
	if (kconfig_srcarch(config) && asprintf(&arch, "ARCH=%s", kconfig_srcarch(config)) < 0) {
		arch = NULL;
		return -ENOMEM;
	}

	make_argv_init(&argv, source_dir, odir, arch);
	make_argv_add(&argv, "olddefconfig");
	r = run_make(argv.v, deadline, &o1, &status);
	if (r == 0 && status != 0)
		r = -EIO;
	if (r < 0)
		return step_error(reterr, errsize, step_config, r, timeout_s, &o1, status);

	/*
	 * make -n cannot plan past the generated headers and host tools (objtool,
	 * fixdep) every object depends on, so those are really built first.
	 */
	make_argv_init(&argv, source_dir, odir, arch);
	snprintf(jobs, sizeof(jobs), "-j%ld", ncpus > 0 ? ncpus : 1);
	make_argv_add(&argv, jobs);
	make_argv_add(&argv, "prepare");
	step_output_release(&o1);
	step_output_init(&o1, NULL);
	r = run_make(argv.v, deadline, &o1, &status);
	if (r == 0 && status != 0)
		r = -EIO;
	if (r < 0)
		return step_error(reterr, errsize, step_prepare, r, timeout_s, &o1, status);

	d.objtree = strdup(real_tmp);
	if (!d.objtree)
		return -ENOMEM;
	r = kbuild_roots_add(&d.roots, real_src);
	if (r < 0)
		return r;
	make_argv_init(&argv, source_dir, odir, arch);
	make_argv_add(&argv, "-n");
	make_argv_add(&argv, "-k");
	make_argv_add(&argv, "vmlinux");
	make_argv_add(&argv, "modules");
	r = run_make(argv.v, deadline, &o2, &status);
	if (r == -EBADMSG)
		return prefix_error(reterr, errsize, step_dry_run, r);
	if (r < 0)
		return step_error(reterr, errsize, step_dry_run, r, timeout_s, &o2, status);
	/* With -k, make fails for targets it cannot plan (vmlinux.a); what it printed counts. */
	if (status != 0 && d.compiles == 0)
		return step_error(reterr, errsize, step_dry_run, -EIO, timeout_s, &o2, status);
	if (status != 0)
		log_debug("%s: exit status %d, using the %zu compiles it printed", step_dry_run,
			  status, d.compiles);
	r = dry_run_finish(&d);
	if (r == -EBADMSG)
		return prefix_error(reterr, errsize, step_dry_run, r);
	return r;
}
