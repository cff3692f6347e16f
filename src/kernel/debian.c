/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <openssl/evp.h>

#include "debian.h"
#include "digest.h"
#include "fileio.h"
#include "lock.h"
#include "log.h"
#include "parse-util.h"
#include "strbuf.h"

#define STDERR_MAX 4096                /* enough for apt's "E:" lines */
#define APT_SHOW_MAX (4u << 20)        /* every version of linux-source is a few KiB */
#define LIST_MAX (64u << 20)           /* an image lists ~4,000 paths, ~400 KiB */
#define LIST_ENTRIES_MAX 1000000u
#define SMALL_OUT_MAX 4096             /* dpkg-deb -f */
#define MODULES_FILE_MAX (64u << 20)
#define RELEASE_MAX 64
#define VERSION_MAX 128
#define NAME_MAX_LEN 128

extern char **environ;

static void *mfree(void *p)
{
	free(p);
	return NULL;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && streq(s + a - b, suffix);
}

/* A growable NULL-terminated string vector; strv_push() is quadratic for listings. */
struct vec {
	char **v;
	size_t n, alloc;
};

static void vec_release(struct vec *v)
{
	for (size_t i = 0; i < v->n; i++)
		free(v->v[i]);
	free(v->v);
	*v = (struct vec){ 0 };
}

static int vec_consume(struct vec *v, char *s)
{
	if (!s)
		return -ENOMEM;
	if (v->n + 1 >= v->alloc) {
		size_t na = v->alloc ? v->alloc * 2 : 64;
		char **nv = realloc(v->v, na * sizeof(char *));

		if (!nv) {
			free(s);
			return -ENOMEM;
		}
		v->v = nv;
		v->alloc = na;
	}
	v->v[v->n++] = s;
	v->v[v->n] = NULL;
	return 0;
}

/* Hands out the vector as a strv (never NULL unless out of memory). */
static char **vec_detach(struct vec *v)
{
	char **r = v->v;

	if (!r)
		r = calloc(1, sizeof(char *));
	*v = (struct vec){ 0 };
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- running children ---------------------------------------------------------------- */

struct run_result {
	struct strbuf out; /* stdout of the last command when captured */
	struct strbuf err; /* the first STDERR_MAX bytes of every command's stderr */
	int status[2];     /* wait statuses */
};

static void run_result_release(struct run_result *res)
{
	strbuf_release(&res->out);
	strbuf_release(&res->err);
}
#define _cleanup_run_result_ _cleanup_(run_result_release)

/* The caller's environment with LC_ALL=C, so apt's and tar's messages can be matched. */
static char **child_environment(void)
{
	struct vec v = { 0 };

	for (char **e = environ; e && *e; e++) {
		if (has_prefix(*e, "LC_ALL=") || has_prefix(*e, "LANGUAGE="))
			continue;
		if (vec_consume(&v, strdup(*e)) < 0)
			goto oom;
	}
	if (vec_consume(&v, strdup("LC_ALL=C")) < 0)
		goto oom;
	return vec_detach(&v);
oom:
	vec_release(&v);
	return NULL;
}

static int spawn_child(char *const *argv, char **envp, const char *cwd, int in, int out, int err,
		       pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t mask, dfl;
	int r;

	r = posix_spawn_file_actions_init(&fa);
	if (r)
		return -r;
	r = posix_spawnattr_init(&attr);
	if (r) {
		posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	sigemptyset(&mask);
	sigemptyset(&dfl);
	/* A parent ignoring SIGPIPE must not make a pipeline writer spin on EPIPE. */
	sigaddset(&dfl, SIGPIPE);
	if (!(r = posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO)) &&
	    !(r = posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO)) &&
	    !(r = posix_spawn_file_actions_adddup2(&fa, err, STDERR_FILENO)) &&
	    !(r = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) &&
	    !(r = cwd ? posix_spawn_file_actions_addchdir_np(&fa, cwd) : 0) &&
	    !(r = posix_spawnattr_setsigmask(&attr, &mask)) &&
	    !(r = posix_spawnattr_setsigdefault(&attr, &dfl)) &&
	    !(r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)))
		r = posix_spawnp(ret_pid, argv[0], &fa, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Reads both pipes to the end; stdout beyond its bound closes the pipe (the writer dies). */
static int drain(int *out_fd, int *err_fd, struct run_result *res)
{
	char buf[65536];
	int r = 0;

	while (*out_fd >= 0 || *err_fd >= 0) {
		struct pollfd p[2] = { { *out_fd, POLLIN, 0 }, { *err_fd, POLLIN, 0 } };

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (int i = 0; i < 2; i++) {
			int *fd = i == 0 ? out_fd : err_fd;
			ssize_t n;

			if (*fd < 0 || !p[i].revents)
				continue;
			n = read(*fd, buf, sizeof(buf));
			if (n < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (n < 0)
				return -errno;
			if (n == 0) {
				close_fd(fd);
				continue;
			}
			if (i == 0) {
				int k = strbuf_add(&res->out, buf, (size_t)n);

				if (k < 0) {
					r = k;
					close_fd(fd);
				}
			} else if (res->err.len < STDERR_MAX) {
				size_t room = STDERR_MAX - res->err.len;

				strbuf_add(&res->err, buf, (size_t)n < room ? (size_t)n : room);
			}
		}
	}
	return r;
}

/*
 * Runs argv1, or argv1 | argv2, in cwd with stdin on /dev/null; stdout of the
 * last command is captured up to out_max bytes when out_max > 0, else
 * discarded.  Returns 0 with both wait statuses in res once the children
 * ran (the caller judges them), -EFBIG when stdout went beyond out_max, or a
 * negative errno when they could not be started.
 */
static int run(char *const *argv1, char *const *argv2, const char *cwd, size_t out_max,
	       struct run_result *res)
{
	_cleanup_strv_free_ char **envp = NULL;
	_cleanup_close_ int devnull = -1;
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 }, mid[2] = { -1, -1 };
	pid_t pid[2] = { -1, -1 };
	int r;

	strbuf_init(&res->out, out_max);
	strbuf_init(&res->err, 0);
	res->status[0] = res->status[1] = 0;

	envp = child_environment();
	if (!envp)
		return -ENOMEM;
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		return -errno;
	if (pipe2(errp, O_CLOEXEC) < 0 || (out_max && pipe2(outp, O_CLOEXEC) < 0) ||
	    (argv2 && pipe2(mid, O_CLOEXEC) < 0)) {
		r = -errno;
		goto out;
	}

	r = spawn_child(argv1, envp, cwd, devnull, argv2 ? mid[1] : out_max ? outp[1] : devnull,
			errp[1], &pid[0]);
	if (r < 0)
		goto out;
	if (argv2) {
		r = spawn_child(argv2, envp, cwd, mid[0], out_max ? outp[1] : devnull, errp[1],
				&pid[1]);
		if (r < 0)
			goto out;
	}
	close_fd(&mid[0]);
	close_fd(&mid[1]);
	close_fd(&outp[1]);
	close_fd(&errp[1]);
	r = drain(&outp[0], &errp[0], res);
out:
	/* Closing our ends first lets a child blocked on a full pipe die instead of hanging us. */
	close_fd(&outp[0]);
	close_fd(&outp[1]);
	close_fd(&errp[0]);
	close_fd(&errp[1]);
	close_fd(&mid[0]);
	close_fd(&mid[1]);
	for (int i = 0; i < 2; i++)
		if (pid[i] > 0)
			res->status[i] = wait_child(pid[i]);
	return r;
}

static bool status_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* apt's "E:" lines when there are any, else all of stderr, on one line. */
static void summarize(const struct run_result *res, int status, char *buf, size_t size)
{
	_cleanup_strbuf_ struct strbuf sb;
	bool errors_only = has_prefix(res->err.buf, "E: ") || strstr(res->err.buf, "\nE: ");
	const char *p = res->err.buf;

	strbuf_init(&sb, 0);
	while (*p) {
		const char *eol = strchrnul(p, '\n');
		size_t n = (size_t)(eol - p);

		while (n && isspace((unsigned char)p[n - 1]))
			n--;
		if (n && (!errors_only || has_prefix(p, "E: "))) {
			if (sb.len)
				strbuf_adds(&sb, "; ");
			strbuf_add(&sb, p, n);
		}
		p = *eol ? eol + 1 : eol;
	}
	if (sb.len)
		snprintf(buf, size, "%s", sb.buf);
	else if (status < 0)
		snprintf(buf, size, "cannot wait for it");
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
}

/* ---- names and versions ------------------------------------------------------------------- */

static bool lower_or_digit(char c)
{
	return islower((unsigned char)c) || isdigit((unsigned char)c);
}

static bool valid_package_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 2 || n > NAME_MAX_LEN || !lower_or_digit(s[0]))
		return false;
	for (; *s; s++)
		if (!lower_or_digit(*s) && !strchr(".+-", *s))
			return false;
	return true;
}

/* Also what makes a version safe inside a file name (with ':' escaped). */
static bool valid_version(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > VERSION_MAX || !isdigit((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".+~:-", *s))
			return false;
	return true;
}

static bool valid_arch(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > 32)
		return false;
	for (; *s; s++)
		if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) && *s != '-')
			return false;
	return true;
}

static bool digits(const char **p)
{
	const char *s = *p;

	while (isdigit((unsigned char)**p))
		(*p)++;
	return *p > s;
}

int debian_release_check(const char *release, char *reterr, size_t errsize)
{
	const char *p = release, *flavour;

	if (!release || strlen(release) > RELEASE_MAX)
		goto bad;
	if (!digits(&p) || *p++ != '.' || !digits(&p) || *p++ != '.' || !digits(&p) ||
	    *p++ != '-' || !digits(&p) || *p++ != '-')
		goto bad;
	flavour = p;
	if (!isalnum((unsigned char)*flavour) || has_suffix(flavour, "-"))
		goto bad;
	for (; *p; p++)
		if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-')
			goto bad;
	return 0;
bad:
	return error_message(reterr, errsize, -EINVAL,
			     "'%s' is not a Debian kernel release (expected X.Y.Z-ABI-FLAVOUR such as " "'6.1.0-54-amd64')",
			     release ? release : "(null)");
}

/* dpkg's order: '~' sorts before everything, even the end; letters before other characters. */
static int order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	if (c)
		return c + 256;
	return 0;
}

static int verrevcmp(const char *a, const char *b)
{
	while (*a || *b) {
		int first_diff = 0;

		while ((*a && !isdigit((unsigned char)*a)) || (*b && !isdigit((unsigned char)*b))) {
			int ac = order((unsigned char)*a), bc = order((unsigned char)*b);

			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		while (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (isdigit((unsigned char)*a))
			return 1;
		if (isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

struct version_parts {
	unsigned long epoch;
	char upstream[VERSION_MAX + 1];
	char revision[VERSION_MAX + 1];
};

static void version_split(const char *v, struct version_parts *ret)
{
	const char *colon = strchr(v, ':'), *dash;
	size_t n;

	*ret = (struct version_parts){ 0 };
	if (colon) {
		for (const char *p = v; p < colon && ret->epoch < 100000; p++)
			if (isdigit((unsigned char)*p))
				ret->epoch = ret->epoch * 10 + (unsigned long)(*p - '0');
		v = colon + 1;
	}
	dash = strrchr(v, '-');
	n = dash ? (size_t)(dash - v) : strlen(v);
	snprintf(ret->upstream, sizeof(ret->upstream), "%.*s", (int)n, v);
	snprintf(ret->revision, sizeof(ret->revision), "%s", dash ? dash + 1 : "");
}

int debian_version_compare(const char *a, const char *b)
{
	struct version_parts pa, pb;
	int r;

	version_split(a, &pa);
	version_split(b, &pb);
	if (pa.epoch != pb.epoch)
		return pa.epoch < pb.epoch ? -1 : 1;
	r = verrevcmp(pa.upstream, pb.upstream);
	if (r)
		return r;
	return verrevcmp(pa.revision, pb.revision);
}

int debian_upstream_version(const char *package_version, char **ret)
{
	struct version_parts p;
	char *s;

	if (!package_version || strlen(package_version) > VERSION_MAX)
		return -EINVAL;
	version_split(package_version, &p);
	if (!*p.upstream)
		return -EINVAL;
	s = strdup(p.upstream);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

/* The Z of "X.Y.Z" in the upstream part, for "nearest version" choices. */
static bool patch_level(const char *version, unsigned long *ret)
{
	struct version_parts p;
	const char *s;
	unsigned long z = 0;

	version_split(version, &p);
	s = strchr(p.upstream, '.');
	s = s ? strchr(s + 1, '.') : NULL;
	if (!s || !isdigit((unsigned char)s[1]))
		return false;
	for (s++; isdigit((unsigned char)*s) && z < 1000000; s++)
		z = z * 10 + (unsigned long)(*s - '0');
	*ret = z;
	return true;
}

/* ---- apt-cache show ----------------------------------------------------------------------- */

struct debian_package *debian_package_free(struct debian_package *p)
{
	if (!p)
		return NULL;
	free(p->name);
	free(p->version);
	free(p->architecture);
	free(p->sha256);
	free(p->depends);
	free(p);
	return NULL;
}

struct debian_package **debian_package_list_free(struct debian_package **l)
{
	if (!l)
		return NULL;
	for (struct debian_package **p = l; *p; p++)
		debian_package_free(*p);
	free(l);
	return NULL;
}

static void debian_package_list_freep(struct debian_package ***l)
{
	debian_package_list_free(*l);
}

static struct debian_package *package_dup(const struct debian_package *p)
{
	struct debian_package *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->size = p->size;
	if (!(n->name = strdup(p->name)) ||
	    (p->version && !(n->version = strdup(p->version))) ||
	    (p->architecture && !(n->architecture = strdup(p->architecture))) ||
	    (p->sha256 && !(n->sha256 = strdup(p->sha256))) ||
	    (p->depends && !(n->depends = strdup(p->depends))))
		return debian_package_free(n);
	return n;
}

static int stanza_check(struct debian_package *p, unsigned stanza, char *reterr, size_t errsize)
{
	if (!p->name || !p->version)
		return parse_error(reterr, errsize, "stanza %u: no %s field", stanza,
				   p->name ? "Version" : "Package");
	if (!valid_package_name(p->name))
		return parse_error(reterr, errsize, "stanza %u: bad package name '%s'", stanza,
				   p->name);
	if (!valid_version(p->version))
		return parse_error(reterr, errsize, "stanza %u: bad version '%s'", stanza,
				   p->version);
	if (p->architecture && !valid_arch(p->architecture))
		return parse_error(reterr, errsize, "stanza %u: bad architecture '%s'", stanza,
				   p->architecture);
	return 0;
}

int debian_packages_parse(const char *text, size_t len, struct debian_package ***ret,
			  char *reterr, size_t errsize)
{
	_cleanup_(debian_package_list_freep) struct debian_package **list = NULL;
	_cleanup_(debian_package_freep) struct debian_package *cur = NULL;
	const char *p = text, *end = text + len;
	size_t n = 0, alloc = 0;
	unsigned stanza = 1;
	int r;

	if (len > APT_SHOW_MAX)
		return error_message(reterr, errsize, -EFBIG,
				     "apt-cache output larger than %u bytes", APT_SHOW_MAX);
	for (;;) {
		const char *eol = p < end ? memchr(p, '\n', (size_t)(end - p)) : NULL;
		const char *line_end = eol ? eol : end;
		size_t ll = (size_t)(line_end - p);
		char **field = NULL;
		const char *colon, *v;

		if (p >= end || ll == 0) {
			/* blank line or end: close the stanza */
			if (cur) {
				r = stanza_check(cur, stanza, reterr, errsize);
				if (r < 0)
					return r;
				if (n + 1 >= alloc) {
					size_t na = alloc ? alloc * 2 : 8;
					struct debian_package **nl =
						realloc(list, na * sizeof(*nl));

					if (!nl)
						return -ENOMEM;
					list = nl;
					alloc = na;
				}
				list[n++] = TAKE_PTR(cur);
				list[n] = NULL;
				stanza++;
			}
			if (p >= end)
				break;
			p = line_end + 1;
			continue;
		}
		if (!cur && !(cur = calloc(1, sizeof(*cur))))
			return -ENOMEM;
		colon = memchr(p, ':', ll);
		if (*p == ' ' || *p == '\t' || !colon)
			goto next; /* continuation of a multi-line field */
		v = colon + 1;
		while (v < line_end && (*v == ' ' || *v == '\t'))
			v++;
#define FIELD(s) ((size_t)(colon - p) == strlen(s) && strncasecmp(p, s, strlen(s)) == 0)
		if (FIELD("Package"))
			field = &cur->name;
		else if (FIELD("Version"))
			field = &cur->version;
		else if (FIELD("Architecture"))
			field = &cur->architecture;
		else if (FIELD("SHA256"))
			field = &cur->sha256;
		else if (FIELD("Depends"))
			field = &cur->depends;
		else if (FIELD("Size")) {
			_cleanup_free_ char *s = strndup(v, (size_t)(line_end - v));

			if (!s)
				return -ENOMEM;
			if (safe_atou64(s, &cur->size) < 0)
				return parse_error(reterr, errsize, "stanza %u: bad Size '%s'",
						   stanza, s);
		}
#undef FIELD
		if (field) {
			free(*field);
			*field = strndup(v, (size_t)(line_end - v));
			if (!*field)
				return -ENOMEM;
			if (field == &cur->sha256) {
				if (!is_hex_string(cur->sha256, 64))
					return parse_error(reterr, errsize,
							   "stanza %u: bad SHA256 '%s'", stanza,
							   cur->sha256);
				for (char *c = cur->sha256; *c; c++)
					*c = (char)tolower((unsigned char)*c);
			}
		}
next:
		p = eol ? eol + 1 : end;
	}
	if (!list && !(list = calloc(1, sizeof(*list))))
		return -ENOMEM;
	*ret = TAKE_PTR(list);
	return 0;
}

/*
 * Every version apt knows of the names, in one run (apt-cache loads its
 * lists for about a second each time); names it does not know are left out.
 * -ENOENT when it knows none of them.
 */
static int apt_show(char *const *names, struct debian_package ***ret, char *reterr,
		    size_t errsize)
{
	_cleanup_run_result_ struct run_result res = { 0 };
	struct vec argv = { 0 };
	char why[512], perr[256] = "";
	int r;

	if (vec_consume(&argv, strdup("apt-cache")) < 0 || vec_consume(&argv, strdup("show")) < 0)
		goto oom;
	for (char *const *n = names; *n; n++)
		if (vec_consume(&argv, strdup(*n)) < 0)
			goto oom;
	r = run(argv.v, NULL, NULL, APT_SHOW_MAX, &res);
	vec_release(&argv);
	if (r < 0)
		return error_message(reterr, errsize, r == -EFBIG ? r : -EIO,
				     "apt-cache show %s failed: %s", names[0], errno_to_string(r));
	if (!status_ok(res.status[0])) {
		summarize(&res, res.status[0], why, sizeof(why));
		return error_message(reterr, errsize,
				     strstr(res.err.buf, "No packages found") ? -ENOENT : -EIO,
				     "apt-cache show %s failed: %s", names[0], why);
	}
	r = debian_packages_parse(res.out.buf, res.out.len, ret, perr, sizeof(perr));
	if (r < 0)
		return error_message(reterr, errsize, r, "apt-cache show %s: %s", names[0], perr);
	return 0;
oom:
	vec_release(&argv);
	return -ENOMEM;
}

/* The highest version of name in l (apt's candidate unless pinned otherwise); -ENOENT if none. */
static int apt_candidate(struct debian_package **l, const char *name, struct debian_package **ret)
{
	struct debian_package *best = NULL;

	for (struct debian_package **p = l; p && *p; p++)
		if (streq((*p)->name, name) &&
		    (!best || debian_version_compare((*p)->version, best->version) > 0))
			best = *p;
	if (!best)
		return -ENOENT;
	*ret = package_dup(best);
	return *ret ? 0 : -ENOMEM;
}

/* ---- the cache ---------------------------------------------------------------------------- */

/* "1:2.0-1" -> "1%3a2.0-1", as apt-get download names its files. */
static char *escape_version(const char *v)
{
	_cleanup_strbuf_ struct strbuf sb;

	strbuf_init(&sb, 0);
	for (; *v; v++)
		if ((*v == ':' ? strbuf_adds(&sb, "%3a") : strbuf_addch(&sb, *v)) < 0)
			return NULL;
	return strbuf_detach(&sb, NULL);
}

static char *unescape_version(const char *v, size_t n)
{
	_cleanup_strbuf_ struct strbuf sb;

	strbuf_init(&sb, 0);
	for (size_t i = 0; i < n; i++) {
		if (i + 3 <= n && strncasecmp(v + i, "%3a", 3) == 0) {
			if (strbuf_addch(&sb, ':') < 0)
				return NULL;
			i += 2;
		} else if (strbuf_addch(&sb, v[i]) < 0)
			return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

static char *deb_cache_path(const char *cache_dir, const struct debian_package *pkg)
{
	_cleanup_free_ char *ev = escape_version(pkg->version), *file = NULL;

	if (!ev || asprintf(&file, "%s_%s_%s.deb", pkg->name, ev, pkg->architecture) < 0)
		return NULL;
	return path_join(cache_dir, file);
}

static char *extract_path(const char *cache_dir, const char *name, const char *version)
{
	_cleanup_free_ char *ev = escape_version(version), *rel = NULL;

	if (!ev || asprintf(&rel, "extract/%s_%s", name, ev) < 0)
		return NULL;
	return path_join(cache_dir, rel);
}

static void tmpdir_removep(char **p)
{
	if (*p) {
		rm_rf(*p);
		free(*p);
	}
}

/* A private directory in cache_dir: renames out of it stay on one file system. */
static int make_tmpdir(const char *cache_dir, char **ret)
{
	char *t = path_join(cache_dir, ".tmp-XXXXXX");

	if (!t)
		return -ENOMEM;
	if (!mkdtemp(t)) {
		int r = -errno;

		free(t);
		return r;
	}
	*ret = t;
	return 0;
}

static int fsync_dir(const char *dir)
{
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return fsync(fd) < 0 ? -errno : 0;
}

/*
 * The highest cached version of name (want == NULL) or exactly want, from
 * NAME_VERSION_ARCH.deb files and extract/NAME_VERSION directories; -ENOENT
 * when there is none.  Cached files found this way are verified on use.
 */
static int cache_scan(const char *cache_dir, const char *name, const char *want,
		      struct debian_package **ret)
{
	_cleanup_(debian_package_freep) struct debian_package *best = NULL;
	_cleanup_free_ char *prefix = NULL, *xdir = NULL;
	const char *dirs[2];

	if (asprintf(&prefix, "%s_", name) < 0 || !(xdir = path_join(cache_dir, "extract")))
		return -ENOMEM;
	dirs[0] = cache_dir;
	dirs[1] = xdir;
	for (int i = 0; i < 2; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		if (!d)
			continue;
		while ((de = readdir(d))) {
			_cleanup_free_ char *version = NULL, *arch = NULL;
			const char *rest, *vend;

			if (!has_prefix(de->d_name, prefix))
				continue;
			rest = de->d_name + strlen(prefix);
			if (i == 0) {
				const char *us;

				if (!has_suffix(rest, ".deb"))
					continue;
				vend = rest + strlen(rest) - 4;
				us = memrchr(rest, '_', (size_t)(vend - rest));
				if (!us)
					continue;
				arch = strndup(us + 1, (size_t)(vend - us - 1));
				vend = us;
			} else
				vend = rest + strlen(rest);
			version = unescape_version(rest, (size_t)(vend - rest));
			if (!version || (i == 0 && !arch)) {
				closedir(d);
				return -ENOMEM;
			}
			if (!valid_version(version) || (arch && !valid_arch(arch)) ||
			    (want && !streq(version, want)))
				continue;
			if (best && debian_version_compare(version, best->version) < 0)
				continue;
			if (best && debian_version_compare(version, best->version) == 0 &&
			    (best->architecture || !arch))
				continue;
			debian_package_free(best);
			best = calloc(1, sizeof(*best));
			if (!best || !(best->name = strdup(name))) {
				closedir(d);
				return -ENOMEM;
			}
			best->version = TAKE_PTR(version);
			best->architecture = TAKE_PTR(arch);
		}
		closedir(d);
	}
	if (!best)
		return -ENOENT;
	*ret = TAKE_PTR(best);
	return 0;
}

int debian_file_verify(const char *path, uint64_t size, const char *sha256)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	char hex[65];
	int r;

	if (sha256 && !is_hex_string(sha256, 64))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if (size && (uint64_t)st.st_size != size)
		return -EBADMSG;
	if (!sha256)
		return 0;
	r = digest_fd_sha256(fd, hex);
	if (r < 0)
		return r;
	return strncasecmp(hex, sha256, 64) == 0 ? 0 : -EBADMSG;
}

static int deb_info_ok(const char *deb)
{
	_cleanup_run_result_ struct run_result res = { 0 };
	char *const argv[] = { "dpkg-deb", "--info", (char *)deb, NULL };
	int r;

	r = run(argv, NULL, NULL, 0, &res);
	if (r < 0)
		return r;
	return status_ok(res.status[0]) ? 0 : -EBADMSG;
}

/* 0 when the cached file is good, -ENOENT when absent, -EBADMSG when it does not verify. */
static int verify_deb(const char *path, const struct debian_package *pkg)
{
	struct stat st;

	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if (pkg->sha256 || pkg->size)
		return debian_file_verify(path, pkg->size, pkg->sha256);
	return deb_info_ok(path);
}

static int download(const struct debian_package *pkg, const char *cache_dir, const char *final,
		    char **ret_path, char *reterr, size_t errsize)
{
	_cleanup_(tmpdir_removep) char *tmp = NULL;
	_cleanup_run_result_ struct run_result res = { 0 };
	_cleanup_free_ char *spec = NULL, *got = NULL, *dest = NULL, *prefix = NULL;
	char why[1024];
	DIR *d;
	struct dirent *de;
	int r;

	if (pkg->version ? asprintf(&spec, "%s=%s", pkg->name, pkg->version) < 0
			 : !(spec = strdup(pkg->name)))
		return -ENOMEM;
	r = make_tmpdir(cache_dir, &tmp);
	if (r < 0)
		return error_message(reterr, errsize, r,
				     "cannot create a download directory in '%s': %s", cache_dir,
				     errno_to_string(r));

	log_debug("apt-get download %s in '%s'", spec, tmp);
	{
		char *const argv[] = { "apt-get", "download", "-q", spec, NULL };

		r = run(argv, NULL, tmp, 0, &res);
	}
	if (r < 0)
		return error_message(reterr, errsize, -EIO, "apt-get download %s failed: %s", spec,
				     errno_to_string(r));
	if (!status_ok(res.status[0])) {
		summarize(&res, res.status[0], why, sizeof(why));
		r = strstr(res.err.buf, "Unable to locate package") ||
				    strstr(res.err.buf, "was not found") ||
				    strstr(res.err.buf, "Can't select")
			    ? -ENOENT
			    : -EIO;
		return error_message(reterr, errsize, r, "apt-get download %s failed: %s", spec,
				     why);
	}

	if (asprintf(&prefix, "%s_", pkg->name) < 0)
		return -ENOMEM;
	d = opendir(tmp);
	if (!d)
		return error_message(reterr, errsize, -errno, "cannot read '%s'", tmp);
	while ((de = readdir(d)))
		if (has_prefix(de->d_name, prefix) && has_suffix(de->d_name, ".deb")) {
			got = strdup(de->d_name);
			break;
		}
	closedir(d);
	if (!got)
		return error_message(reterr, errsize, -EIO,
				     "apt-get download %s left no .deb in '%s'", spec, tmp);

	{
		_cleanup_free_ char *src = path_join(tmp, got);

		if (!src || !(dest = final ? strdup(final) : path_join(cache_dir, got)))
			return -ENOMEM;
		r = verify_deb(src, pkg);
		if (r == -EBADMSG)
			return error_message(reterr, errsize, r,
					     "apt-get download %s: '%s' does not match %s", spec,
					     got,
					     pkg->sha256 ? "the size and SHA256 of apt-cache show" : "dpkg-deb --info");
		if (r < 0)
			return error_message(reterr, errsize, r, "cannot verify '%s': %s", src,
					     errno_to_string(r));
		if (rename(src, dest) < 0)
			return error_message(reterr, errsize, -errno,
					     "cannot rename '%s' to '%s': %m", src, dest);
	}
	(void)fsync_dir(cache_dir);
	*ret_path = TAKE_PTR(dest);
	return 0;
}

int debian_deb_fetch(const struct debian_package *pkg, const char *cache_dir, unsigned flags,
		     char **ret_path, char *reterr, size_t errsize)
{
	_cleanup_free_ char *path = NULL;
	bool removed = false;
	int r;

	if (!pkg || !pkg->name || !valid_package_name(pkg->name) ||
	    (pkg->version && !valid_version(pkg->version)) ||
	    (pkg->architecture && !valid_arch(pkg->architecture)) || !cache_dir)
		return error_message(reterr, errsize, -EINVAL, "invalid package '%s'",
				     pkg && pkg->name ? pkg->name : "(null)");
	r = mkdir_p(cache_dir, 0755);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot create '%s': %s", cache_dir,
				     errno_to_string(r));

	if (pkg->version && pkg->architecture) {
		path = deb_cache_path(cache_dir, pkg);
		if (!path)
			return -ENOMEM;
		r = verify_deb(path, pkg);
		if (r == 0) {
			log_debug("using cached '%s'", path);
			*ret_path = TAKE_PTR(path);
			return 0;
		}
		if (r == -EBADMSG) {
			/* A later download renames over it anyway; offline it must not be used. */
			log_debug("cached '%s' does not verify, removing it", path);
			if (unlink(path) < 0 && errno != ENOENT)
				return error_message(reterr, errsize, -errno,
						     "cannot remove '%s': %m", path);
			removed = true;
		} else if (r != -ENOENT)
			return error_message(reterr, errsize, r, "cannot verify '%s': %s", path,
					     errno_to_string(r));
	}
	if (flags & DEBIAN_FETCH_OFFLINE)
		return error_message(reterr, errsize, -ENETUNREACH,
				     "%s%s%s is not in the cache '%s'%s and downloads are disabled",
				     pkg->name, pkg->version ? "=" : "",
				     pkg->version ? pkg->version : "", cache_dir,
				     removed ? " (a corrupted copy was removed)" : "");
	return download(pkg, cache_dir, path, ret_path, reterr, errsize);
}

/* ---- inside a .deb ------------------------------------------------------------------------ */

static int check_deb_arg(const char *deb, char *reterr, size_t errsize)
{
	/* dpkg-deb would take "-x.deb" for an option */
	if (!deb || !*deb || deb[0] == '-')
		return error_message(reterr, errsize, -EINVAL, "bad package path '%s'",
				     deb ? deb : "(null)");
	return 0;
}

int debian_deb_version(const char *deb, char **ret, char *reterr, size_t errsize)
{
	_cleanup_run_result_ struct run_result res = { 0 };
	char *const argv[] = { "dpkg-deb", "-f", (char *)deb, "Version", NULL };
	char why[512];
	char *v;
	int r;

	r = check_deb_arg(deb, reterr, errsize);
	if (r < 0)
		return r;
	r = run(argv, NULL, NULL, SMALL_OUT_MAX, &res);
	if (r < 0)
		return error_message(reterr, errsize, r == -EFBIG ? -EBADMSG : r,
				     "dpkg-deb -f '%s' Version failed: %s", deb,
				     errno_to_string(r));
	if (!status_ok(res.status[0])) {
		summarize(&res, res.status[0], why, sizeof(why));
		return error_message(reterr, errsize, -EBADMSG,
				     "dpkg-deb -f '%s' Version failed: %s", deb, why);
	}
	strbuf_rtrim(&res.out);
	if (!valid_version(res.out.buf))
		return error_message(reterr, errsize, -EBADMSG, "'%s' has a bad Version '%s'", deb,
				     res.out.buf);
	v = strbuf_detach(&res.out, NULL);
	if (!v)
		return -ENOMEM;
	*ret = v;
	return 0;
}

int debian_deb_list(const char *deb, char ***ret, char *reterr, size_t errsize)
{
	_cleanup_run_result_ struct run_result res = { 0 };
	char *const argv1[] = { "dpkg-deb", "--fsys-tarfile", (char *)deb, NULL };
	char *const argv2[] = { "tar", "-t", "-f", "-", NULL };
	struct vec v = { 0 };
	char why[512];
	const char *p;
	int r;

	r = check_deb_arg(deb, reterr, errsize);
	if (r < 0)
		return r;
	r = run(argv1, argv2, NULL, LIST_MAX, &res);
	if (r < 0)
		return error_message(reterr, errsize, r, "listing '%s' failed: %s", deb,
				     r == -EFBIG ? "listing too large" : errno_to_string(r));
	for (int i = 0; i < 2; i++)
		if (!status_ok(res.status[i])) {
			summarize(&res, res.status[i], why, sizeof(why));
			return error_message(reterr, errsize, -EBADMSG, "%s '%s' failed: %s",
					     i == 0 ? "dpkg-deb --fsys-tarfile" : "tar -t of", deb,
					     why);
		}
	for (p = res.out.buf; *p;) {
		const char *eol = strchrnul(p, '\n');
		const char *s = p;

		if (has_prefix(s, "./"))
			s += 2;
		if (eol > s) {
			if (v.n >= LIST_ENTRIES_MAX) {
				vec_release(&v);
				return error_message(reterr, errsize, -EFBIG,
						     "'%s' has more than %u files", deb,
						     LIST_ENTRIES_MAX);
			}
			r = vec_consume(&v, strndup(s, (size_t)(eol - s)));
			if (r < 0) {
				vec_release(&v);
				return r;
			}
		}
		p = *eol ? eol + 1 : eol;
	}
	*ret = vec_detach(&v);
	return *ret ? 0 : -ENOMEM;
}

static const char *const module_suffixes[] = { ".ko", ".ko.xz", ".ko.zst", ".ko.gz" };

/* "lib/modules/REL/kernel/P.ko[.xz]" -> "P.ko", NULL when path is no module of release. */
static char *module_of(const char *path, const char *release)
{
	const char *roots[] = { "lib/modules/", "usr/lib/modules/" };

	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		const char *s = path;
		size_t rl = strlen(release);

		if (!has_prefix(s, roots[i]))
			continue;
		s += strlen(roots[i]);
		if (strncmp(s, release, rl) != 0 || !has_prefix(s + rl, "/kernel/"))
			continue;
		s += rl + strlen("/kernel/");
		for (size_t j = 0; j < ARRAY_SIZE(module_suffixes); j++) {
			char *m;

			if (!has_suffix(s, module_suffixes[j]))
				continue;
			m = strndup(s, strlen(s) - strlen(module_suffixes[j]) + 3);
			if (m && strlen(m) <= 3) {
				free(m);
				continue;
			}
			return m ? m : (char *)-1;
		}
	}
	return NULL;
}

static int modules_from_list(char *const *paths, const char *release, char ***ret)
{
	struct vec v = { 0 };

	for (char *const *p = paths; *p; p++) {
		char *m = module_of(*p, release);
		int r;

		if (!m)
			continue;
		r = vec_consume(&v, m == (char *)-1 ? NULL : m);
		if (r < 0) {
			vec_release(&v);
			return r;
		}
	}
	if (v.n)
		qsort(v.v, v.n, sizeof(char *), cmp_str);
	*ret = vec_detach(&v);
	return *ret ? 0 : -ENOMEM;
}

int debian_deb_list_modules(const char *deb, const char *release, char ***ret, char *reterr,
			    size_t errsize)
{
	_cleanup_strv_free_ char **paths = NULL;
	int r;

	r = debian_deb_list(deb, &paths, reterr, errsize);
	if (r < 0)
		return r;
	return modules_from_list(paths, release, ret);
}

int debian_deb_extract(const char *deb, const char *dir, char *const *members, char *reterr,
		       size_t errsize)
{
	_cleanup_run_result_ struct run_result res = { 0 };
	char *const argv1[] = { "dpkg-deb", "--fsys-tarfile", (char *)deb, NULL };
	struct vec argv2 = { 0 };
	const char *head[] = { "tar", "-x", "-f", "-", "--no-same-owner", "-C", dir, "--" };
	char why[512];
	int r;

	r = check_deb_arg(deb, reterr, errsize);
	if (r < 0)
		return r;
	if (!members || !*members)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		if ((r = vec_consume(&argv2, strdup(head[i]))) < 0)
			goto out;
	for (char *const *m = members; *m; m++) {
		char *a = NULL;

		if ((*m)[0] == '/' || strstr(*m, "..")) {
			r = error_message(reterr, errsize, -EINVAL, "refusing to extract '%s'", *m);
			goto out;
		}
		/* dpkg-deb --build writes every member as "./path" */
		if (asprintf(&a, "./%s", *m) < 0)
			a = NULL;
		if ((r = vec_consume(&argv2, a)) < 0)
			goto out;
	}
	r = run(argv1, argv2.v, NULL, 0, &res);
	if (r < 0) {
		r = error_message(reterr, errsize, r, "extracting from '%s' failed: %s", deb,
				  errno_to_string(r));
		goto out;
	}
	if (!status_ok(res.status[1])) {
		summarize(&res, res.status[1], why, sizeof(why));
		r = error_message(reterr, errsize,
				  strstr(res.err.buf, "Not found in archive") ? -ENOENT : -EBADMSG,
				  "tar -x from '%s' failed: %s", deb, why);
		goto out;
	}
	if (!status_ok(res.status[0])) {
		summarize(&res, res.status[0], why, sizeof(why));
		r = error_message(reterr, errsize, -EBADMSG,
				  "dpkg-deb --fsys-tarfile '%s' failed: %s", deb, why);
		goto out;
	}
	r = 0;
out:
	vec_release(&argv2);
	return r;
}

/* ---- one kernel --------------------------------------------------------------------------- */

struct debian_kernel *debian_kernel_free(struct debian_kernel *k)
{
	if (!k)
		return NULL;
	free(k->release);
	free(k->image_package);
	free(k->package_version);
	free(k->upstream_version);
	free(k->image_deb);
	free(k->config_path);
	free(k->system_map_path);
	free(k->symvers_path);
	free(k->headers_deb);
	free(k->headers_common_deb);
	free(k->source_deb);
	free(k->source_version);
	strv_free(k->modules);
	strv_free(k->builtin);
	strv_free(k->warnings);
	free(k);
	return NULL;
}

static int warn(struct debian_kernel *k, const char *fmt, ...) _printf_(2, 3);
static int warn(struct debian_kernel *k, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		log_debug("%s", s);
	return strv_consume(&k->warnings, s);
}

static bool is_regular(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Moves a finished tmp directory to final; when another fetch got there first, theirs stays. */
static int publish_dir(const char *tmp, const char *final, char *reterr, size_t errsize)
{
	_cleanup_free_ char *parent = strdup(final);
	char *slash;
	int r;

	if (!parent)
		return -ENOMEM;
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	r = mkdir_p(parent, 0755);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot create '%s': %s", parent,
				     errno_to_string(r));
	if (chmod(tmp, 0755) < 0)
		return error_message(reterr, errsize, -errno, "cannot chmod '%s': %m", tmp);
	if (rename(tmp, final) < 0) {
		if ((errno == ENOTEMPTY || errno == EEXIST) && is_dir(final))
			return 0;
		return error_message(reterr, errsize, -errno, "cannot rename '%s' to '%s': %m", tmp,
				     final);
	}
	(void)fsync_dir(parent);
	return 0;
}

static int read_lines(const char *path, char ***ret)
{
	_cleanup_free_ char *buf = NULL;
	struct vec v = { 0 };
	size_t len;
	int r;

	r = read_file_bounded(path, MODULES_FILE_MAX, &buf, &len);
	if (r < 0)
		return r;
	for (char *p = buf; *p;) {
		char *eol = strchrnul(p, '\n');
		char *s = p;
		size_t n;

		p = *eol ? eol + 1 : eol;
		*eol = '\0';
		n = strlen(s);
		while (n && isspace((unsigned char)s[n - 1]))
			s[--n] = '\0';
		if (!n)
			continue;
		if (has_prefix(s, "kernel/"))
			s += strlen("kernel/");
		r = vec_consume(&v, strdup(s));
		if (r < 0) {
			vec_release(&v);
			return r;
		}
	}
	*ret = vec_detach(&v);
	return *ret ? 0 : -ENOMEM;
}

/* Where modules.builtin sits in an image, relative to the package root. */
static int builtin_member(char *const *paths, const char *release, char **ret)
{
	const char *roots[] = { "lib/modules", "usr/lib/modules" };

	*ret = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(roots); i++) {
		_cleanup_free_ char *m = NULL;

		if (asprintf(&m, "%s/%s/modules.builtin", roots[i], release) < 0)
			return -ENOMEM;
		if (strv_contains(paths, m)) {
			*ret = TAKE_PTR(m);
			return 0;
		}
	}
	return 0;
}

static int unpack_image(const char *deb, const char *release, const char *cache_dir,
			const char *final, char *reterr, size_t errsize)
{
	_cleanup_(tmpdir_removep) char *tmp = NULL;
	_cleanup_strv_free_ char **paths = NULL, **modules = NULL, **members = NULL;
	_cleanup_free_ char *config = NULL, *map = NULL, *builtin = NULL, *list = NULL;
	_cleanup_strbuf_ struct strbuf sb;
	int r;

	strbuf_init(&sb, 0);
	r = debian_deb_list(deb, &paths, reterr, errsize);
	if (r < 0)
		return r;
	if (asprintf(&config, "boot/config-%s", release) < 0 ||
	    asprintf(&map, "boot/System.map-%s", release) < 0)
		return -ENOMEM;
	if (!strv_contains(paths, config) || !strv_contains(paths, map))
		return error_message(reterr, errsize, -ENOENT, "'%s' has no %s", deb,
				     strv_contains(paths, config) ? map : config);
	r = builtin_member(paths, release, &builtin);
	if (r < 0)
		return r;
	if (strv_push(&members, config) < 0 || strv_push(&members, map) < 0 ||
	    (builtin && strv_push(&members, builtin) < 0))
		return -ENOMEM;
	r = modules_from_list(paths, release, &modules);
	if (r < 0)
		return r;

	r = make_tmpdir(cache_dir, &tmp);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot create a directory in '%s': %s",
				     cache_dir, errno_to_string(r));
	r = debian_deb_extract(deb, tmp, members, reterr, errsize);
	if (r < 0)
		return r;
	for (char **m = members; *m; m++) {
		_cleanup_free_ char *p = path_join(tmp, *m);

		if (!p)
			return -ENOMEM;
		if (!is_regular(p))
			return error_message(reterr, errsize, -EBADMSG,
					     "'%s' in '%s' is not a regular file", *m, deb);
	}
	for (char **m = modules; *m; m++)
		if (strbuf_adds(&sb, *m) < 0 || strbuf_addch(&sb, '\n') < 0)
			return -ENOMEM;
	list = path_join(tmp, "modules.list");
	if (!list)
		return -ENOMEM;
	r = write_file_atomic(list, sb.buf, sb.len, 0644);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot write '%s': %s", list,
				     errno_to_string(r));
	return publish_dir(tmp, final, reterr, errsize);
}

/* Tries the signed image, then the unsigned one, in apt and then in the cache. */
static int find_image(struct debian_package **apt, const char *release, const char *cache_dir,
		      struct debian_package **ret)
{
	_cleanup_free_ char *signed_name = NULL, *unsigned_name = NULL;
	const char *names[2];
	int r;

	if (asprintf(&signed_name, "linux-image-%s", release) < 0 ||
	    asprintf(&unsigned_name, "linux-image-%s-unsigned", release) < 0)
		return -ENOMEM;
	names[0] = signed_name;
	names[1] = unsigned_name;
	for (int i = 0; i < 2; i++) {
		r = apt_candidate(apt, names[i], ret);
		if (r != -ENOENT)
			return r;
	}
	for (int i = 0; i < 2; i++) {
		r = cache_scan(cache_dir, names[i], NULL, ret);
		if (r != -ENOENT)
			return r;
	}
	/* Neither apt nor the cache know it: let apt-get download say why. */
	*ret = calloc(1, sizeof(**ret));
	if (!*ret || !((*ret)->name = strdup(signed_name)))
		return -ENOMEM;
	return 0;
}

/*
 * Debian's image ships a one-line System.map pointing at the -dbg package
 * (850 MB); callers must not take it for a symbol table.
 */
static int placeholder_map(struct debian_kernel *k)
{
	_cleanup_free_ char *head = NULL;
	size_t len;
	int r;

	r = read_file_bounded(k->system_map_path, 64 << 20, &head, &len);
	if (r < 0)
		return r;
	k->system_map_placeholder = len < 4096 && strstr(head, "The real System.map is in");
	if (!k->system_map_placeholder)
		return 0;
	return warn(k, "System.map-%s in %s is a placeholder; the real one is in "
		       "linux-image-%s-dbg",
		    k->release, k->image_package, k->release);
}

static int fetch_image(struct debian_kernel *k, struct debian_package **apt, const char *cache_dir,
		       unsigned flags, char *reterr, size_t errsize)
{
	_cleanup_(debian_package_freep) struct debian_package *pkg = NULL;
	_cleanup_free_ char *xdir = NULL, *deb = NULL, *version = NULL, *list = NULL,
			    *builtin = NULL;
	int r;

	r = find_image(apt, k->release, cache_dir, &pkg);
	if (r < 0)
		return r;
	if (pkg->version) {
		xdir = extract_path(cache_dir, pkg->name, pkg->version);
		if (!xdir)
			return -ENOMEM;
	}
	if (xdir && is_dir(xdir)) {
		version = strdup(pkg->version);
		if (!version)
			return -ENOMEM;
		if (pkg->architecture && (deb = deb_cache_path(cache_dir, pkg)) && !is_regular(deb))
			deb = mfree(deb);
	} else {
		r = debian_deb_fetch(pkg, cache_dir, flags, &deb, reterr, errsize);
		if (r < 0)
			return r;
		r = debian_deb_version(deb, &version, reterr, errsize);
		if (r < 0)
			return r;
		if (pkg->version && !streq(version, pkg->version))
			return error_message(reterr, errsize, -EBADMSG,
					     "'%s' has version %s, expected %s", deb, version,
					     pkg->version);
		free(xdir);
		xdir = extract_path(cache_dir, pkg->name, version);
		if (!xdir)
			return -ENOMEM;
		if (!is_dir(xdir)) {
			r = unpack_image(deb, k->release, cache_dir, xdir, reterr, errsize);
			if (r < 0)
				return r;
		}
	}

	k->image_package = strdup(pkg->name);
	k->image_deb = TAKE_PTR(deb);
	k->package_version = TAKE_PTR(version);
	if (!k->image_package)
		return -ENOMEM;
	r = debian_upstream_version(k->package_version, &k->upstream_version);
	if (r < 0)
		return r;
	if (asprintf(&k->config_path, "%s/boot/config-%s", xdir, k->release) < 0 ||
	    asprintf(&k->system_map_path, "%s/boot/System.map-%s", xdir, k->release) < 0 ||
	    !(list = path_join(xdir, "modules.list")))
		return -ENOMEM;
	if (!is_regular(k->config_path) || !is_regular(k->system_map_path))
		return error_message(reterr, errsize, -ENOENT,
				     "'%s' lacks boot/config-%s or System.map", xdir, k->release);
	r = placeholder_map(k);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot read '%s': %s", k->system_map_path,
				     errno_to_string(r));
	r = read_lines(list, &k->modules);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot read '%s': %s", list,
				     errno_to_string(r));
	for (int i = 0; i < 2 && !builtin; i++) {
		if (asprintf(&builtin, "%s/%slib/modules/%s/modules.builtin", xdir,
			     i ? "usr/" : "", k->release) < 0)
			return -ENOMEM;
		if (!is_regular(builtin))
			builtin = mfree(builtin);
	}
	if (builtin) {
		r = read_lines(builtin, &k->builtin);
		if (r < 0)
			return error_message(reterr, errsize, r, "cannot read '%s': %s", builtin,
					     errno_to_string(r));
	} else {
		k->builtin = calloc(1, sizeof(char *));
		if (!k->builtin)
			return -ENOMEM;
		r = warn(k, "%s has no modules.builtin", k->image_package);
		if (r < 0)
			return r;
	}
	return 0;
}

/* "linux-headers-6.1.0-54-common (= 6.1.190-1), ..." -> the first linux-headers-*common* name. */
static char *common_from_depends(const char *depends)
{
	const char *p = depends;

	while (p && *p) {
		const char *end = strchrnul(p, ','), *n = p, *e;

		while (n < end && isspace((unsigned char)*n))
			n++;
		e = n;
		while (e < end && !isspace((unsigned char)*e) && !strchr("(|:", *e))
			e++;
		if (e - n > 14 && has_prefix(n, "linux-headers-") &&
		    memmem(n, (size_t)(e - n), "common", 6)) {
			char *s = strndup(n, (size_t)(e - n));

			if (s && !valid_package_name(s))
				s = mfree(s);
			return s;
		}
		p = *end ? end + 1 : end;
	}
	return NULL;
}

/* apt's candidate of name, else the newest cached copy; -ENOENT when neither has it. */
static int find_package(struct debian_package **apt, const char *name, const char *cache_dir,
			struct debian_package **ret)
{
	int r = apt_candidate(apt, name, ret);

	if (r != -ENOENT)
		return r;
	return cache_scan(cache_dir, name, NULL, ret);
}

/* Absence (not in the archive, offline without a copy) is a warning; anything else an error. */
static bool merely_missing(int r)
{
	return r == -ENOENT || r == -ENETUNREACH;
}

static int fetch_headers(struct debian_kernel *k, struct debian_package **apt,
			 const char *cache_dir, unsigned flags, char *reterr, size_t errsize)
{
	_cleanup_(debian_package_list_freep) struct debian_package **more = NULL;
	_cleanup_(debian_package_freep) struct debian_package *pkg = NULL, *common = NULL;
	_cleanup_free_ char *name = NULL, *xdir = NULL, *symvers = NULL, *deb = NULL,
			    *common_name = NULL, *abi = NULL;
	char why[512] = "";
	bool from_depends;
	int r;

	if (asprintf(&name, "linux-headers-%s", k->release) < 0 ||
	    asprintf(&symvers, "usr/src/linux-headers-%s/Module.symvers", k->release) < 0)
		return -ENOMEM;
	r = find_package(apt, name, cache_dir, &pkg);
	if (r == -ENOENT)
		return warn(k, "%s is neither in the archive nor in the cache", name);
	if (r < 0)
		return r;
	if (!streq(pkg->version, k->package_version)) {
		r = warn(k, "%s has version %s, the image %s", name, pkg->version,
			 k->package_version);
		if (r < 0)
			return r;
	}

	xdir = extract_path(cache_dir, name, pkg->version);
	if (!xdir)
		return -ENOMEM;
	if (is_dir(xdir)) {
		/* as for the image: the extraction is what counts, the .deb is reported if kept */
		if (pkg->architecture && (deb = deb_cache_path(cache_dir, pkg)) && !is_regular(deb))
			deb = mfree(deb);
	} else {
		_cleanup_(tmpdir_removep) char *tmp = NULL;
		_cleanup_strv_free_ char **paths = NULL;
		char *const members[] = { symvers, NULL };

		r = debian_deb_fetch(pkg, cache_dir, flags, &deb, why, sizeof(why));
		if (merely_missing(r))
			return warn(k, "%s", why);
		if (r < 0)
			return error_message(reterr, errsize, r, "%s", why);
		r = debian_deb_list(deb, &paths, reterr, errsize);
		if (r < 0)
			return r;
		r = make_tmpdir(cache_dir, &tmp);
		if (r < 0)
			return error_message(reterr, errsize, r,
					     "cannot create a directory in '%s': %s", cache_dir,
					     errno_to_string(r));
		if (strv_contains(paths, symvers)) {
			r = debian_deb_extract(deb, tmp, members, reterr, errsize);
			if (r < 0)
				return r;
		}
		r = publish_dir(tmp, xdir, reterr, errsize);
		if (r < 0)
			return r;
	}
	k->headers_deb = TAKE_PTR(deb);
	k->symvers_path = path_join(xdir, symvers);
	if (!k->symvers_path)
		return -ENOMEM;
	if (!is_regular(k->symvers_path)) {
		k->symvers_path = mfree(k->symvers_path);
		r = warn(k, "%s has no %s", name, symvers);
		if (r < 0)
			return r;
	}

	/* The shared header tree: its name comes from Depends (-common-rt for rt kernels). */
	common_name = pkg->depends ? common_from_depends(pkg->depends) : NULL;
	from_depends = common_name != NULL;
	if (!common_name) {
		const char *flavour = k->release;

		for (int i = 0; i < 2; i++)
			flavour = strchr(flavour, '-') + 1;
		if (asprintf(&abi, "%.*s", (int)(flavour - k->release - 1), k->release) < 0 ||
		    asprintf(&common_name, "linux-headers-%s-common", abi) < 0)
			return -ENOMEM;
	}
	r = find_package(apt, common_name, cache_dir, &common);
	if (r == -ENOENT && from_depends) {
		/* a name from Depends that the first query may not have guessed */
		char *const names[] = { common_name, NULL };

		r = apt_show(names, &more, why, sizeof(why));
		if (r == 0)
			r = find_package(more, common_name, cache_dir, &common);
	}
	if (r == 0)
		r = debian_deb_fetch(common, cache_dir, flags, &k->headers_common_deb, why,
				     sizeof(why));
	if (merely_missing(r))
		return warn(k, "%s%s", *why ? why : common_name,
			    *why ? "" : " is neither in the archive nor in the cache");
	if (r < 0)
		return error_message(reterr, errsize, r, "%s", why);
	return 0;
}

/* The same version, else the closest patch level (newer on a tie), else the newest. */
static const struct debian_package *pick_source(struct debian_package **l, const char *name,
					       const char *want)
{
	const struct debian_package *best = NULL;
	unsigned long wz, z, bz = 0;
	bool have_wz = patch_level(want, &wz);

	for (struct debian_package **p = l; *p; p++)
		if (streq((*p)->name, name) && debian_version_compare((*p)->version, want) == 0)
			return *p;
	for (struct debian_package **p = l; *p; p++) {
		unsigned long d, bd;

		if (!streq((*p)->name, name))
			continue;
		if (!best) {
			best = *p;
			continue;
		}
		if (have_wz && patch_level((*p)->version, &z) && patch_level(best->version, &bz)) {
			d = z > wz ? z - wz : wz - z;
			bd = bz > wz ? bz - wz : wz - bz;
			if (d != bd) {
				if (d < bd)
					best = *p;
				continue;
			}
		}
		if (debian_version_compare((*p)->version, best->version) > 0)
			best = *p;
	}
	return best;
}

static int fetch_source(struct debian_kernel *k, struct debian_package **apt,
			const char *cache_dir, unsigned flags, char *reterr, size_t errsize)
{
	_cleanup_(debian_package_freep) struct debian_package *cached = NULL;
	_cleanup_free_ char *name = NULL;
	const struct debian_package *pick = NULL;
	char why[512] = "";
	const char *dot;
	int r;

	dot = strchr(strchr(k->release, '.') + 1, '.');
	if (asprintf(&name, "linux-source-%.*s", (int)(dot - k->release), k->release) < 0)
		return -ENOMEM;
	pick = pick_source(apt, name, k->package_version);
	if (!pick || debian_version_compare(pick->version, k->package_version) != 0) {
		/* the archive dropped it, but an earlier fetch may have kept it */
		if (cache_scan(cache_dir, name, k->package_version, &cached) == 0 &&
		    cached->architecture)
			pick = cached;
	}
	if (!pick)
		return warn(k, "%s is neither in the archive nor in the cache", name);
	k->source_version = strdup(pick->version);
	if (!k->source_version)
		return -ENOMEM;
	k->source_exact = debian_version_compare(pick->version, k->package_version) == 0;
	if (!k->source_exact)
		return warn(k, "%s has no version %s, the nearest is %s (not downloaded)", name,
			    k->package_version, pick->version);
	if (flags & DEBIAN_FETCH_NO_SOURCE)
		flags |= DEBIAN_FETCH_OFFLINE;
	r = debian_deb_fetch(pick, cache_dir, flags, &k->source_deb, why, sizeof(why));
	if (r == -ENETUNREACH && (flags & DEBIAN_FETCH_NO_SOURCE))
		return 0;
	if (merely_missing(r))
		return warn(k, "%s", why);
	if (r < 0)
		return error_message(reterr, errsize, r, "%s", why);
	return 0;
}

/*
 * What apt knows about every package of release (an empty list when it knows
 * none, e.g. before "apt-get update"; the cache may still have them).
 */
static int apt_query(const char *release, struct debian_package ***ret, char *reterr,
		     size_t errsize)
{
	const char *abi_end = strchr(strchr(release, '-') + 1, '-');
	const char *minor_end = strchr(strchr(release, '.') + 1, '.');
	char *names[7] = { NULL };
	size_t n = 0;
	int r;

	if (asprintf(&names[n++], "linux-image-%s", release) < 0 ||
	    asprintf(&names[n++], "linux-image-%s-unsigned", release) < 0 ||
	    asprintf(&names[n++], "linux-headers-%s", release) < 0 ||
	    asprintf(&names[n++], "linux-headers-%.*s-common", (int)(abi_end - release),
		     release) < 0 ||
	    asprintf(&names[n++], "linux-source-%.*s", (int)(minor_end - release), release) < 0) {
		names[n - 1] = NULL;
		r = -ENOMEM;
		goto out;
	}
	/* rt kernels share linux-headers-ABI-common-rt */
	if (has_prefix(abi_end + 1, "rt-") &&
	    asprintf(&names[n++], "linux-headers-%.*s-common-rt", (int)(abi_end - release),
		     release) < 0) {
		names[n - 1] = NULL;
		r = -ENOMEM;
		goto out;
	}
	r = apt_show(names, ret, reterr, errsize);
	if (r == -ENOENT) {
		*ret = calloc(1, sizeof(**ret));
		r = *ret ? 0 : -ENOMEM;
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return r;
}

int debian_kernel_fetch(const char *release, const char *cache_dir, unsigned flags,
			struct debian_kernel **ret, char *reterr, size_t errsize)
{
	_cleanup_(debian_kernel_freep) struct debian_kernel *k = NULL;
	_cleanup_(debian_package_list_freep) struct debian_package **apt = NULL;
	int r;

	r = debian_release_check(release, reterr, errsize);
	if (r < 0)
		return r;
	if (strempty(cache_dir))
		return error_message(reterr, errsize, -EINVAL, "no cache directory");
	r = mkdir_p(cache_dir, 0755);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot create '%s': %s", cache_dir,
				     errno_to_string(r));
	k = calloc(1, sizeof(*k));
	if (!k || !(k->release = strdup(release)) || !(k->warnings = calloc(1, sizeof(char *))))
		return -ENOMEM;

	r = apt_query(release, &apt, reterr, errsize);
	if (r < 0)
		return r;
	r = fetch_image(k, apt, cache_dir, flags, reterr, errsize);
	if (r < 0)
		return r;
	r = fetch_headers(k, apt, cache_dir, flags, reterr, errsize);
	if (r < 0)
		return r;
	r = fetch_source(k, apt, cache_dir, flags, reterr, errsize);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(k);
	return 0;
}

/* ---- the source tree ---------------------------------------------------------------------- */

#define SOURCE_MAKEFILE_MAX (1u << 20)
#define SOURCE_MARKER_MAX 4096

/* "6.1.0-54-amd64" -> "linux-source-6.1" (release already checked). */
static char *source_package_name(const char *release)
{
	const char *dot = strchr(strchr(release, '.') + 1, '.');
	char *s = NULL;

	if (asprintf(&s, "linux-source-%.*s", (int)(dot - release), release) < 0)
		return NULL;
	return s;
}

static char *marker_text(const char *name, const char *version)
{
	char *s = NULL;

	if (asprintf(&s, "%s %s\n", name, version) < 0)
		return NULL;
	return s;
}

/* A tree with our marker for this very package is finished; anything else is not. */
static bool source_tree_complete(const char *dir, const char *expected)
{
	_cleanup_free_ char *marker = path_join(dir, DEBIAN_SOURCE_MARKER), *buf = NULL;
	size_t len;

	if (!marker || !is_dir(dir) || !is_regular(marker))
		return false;
	if (read_file_bounded(marker, SOURCE_MARKER_MAX, &buf, &len) < 0)
		return false;
	return streq(buf, expected);
}

/* k->source_deb, else the cached or downloaded linux-source .deb at k->source_version. */
static int source_deb(const struct debian_kernel *k, const char *name, const char *cache_dir,
		      unsigned flags, char **ret, char *reterr, size_t errsize)
{
	_cleanup_(debian_package_list_freep) struct debian_package **apt = NULL;
	_cleanup_(debian_package_freep) struct debian_package *pkg = NULL;
	char *const names[] = { (char *)name, NULL };
	char why[512] = "";
	int r;

	if (k->source_deb) {
		*ret = strdup(k->source_deb);
		return *ret ? 0 : -ENOMEM;
	}
	/* apt's entry carries the SHA256; without it only dpkg-deb --info can vouch for a file */
	r = apt_show(names, &apt, why, sizeof(why));
	if (r < 0 && r != -ENOENT)
		return error_message(reterr, errsize, r, "%s", why);
	for (struct debian_package **p = apt; p && *p; p++)
		if (streq((*p)->name, name) &&
		    debian_version_compare((*p)->version, k->source_version) == 0) {
			pkg = package_dup(*p);
			if (!pkg)
				return -ENOMEM;
			break;
		}
	if (!pkg) {
		r = cache_scan(cache_dir, name, k->source_version, &pkg);
		if (r == -ENOENT)
			return error_message(reterr, errsize, -ENOENT,
					     "%s=%s is neither in the archive nor in the cache",
					     name, k->source_version);
		if (r < 0)
			return r;
	}
	return debian_deb_fetch(pkg, cache_dir, flags & DEBIAN_FETCH_OFFLINE, ret, reterr,
				errsize);
}

static int check_free_space(const char *dir, char *reterr, size_t errsize)
{
	struct statvfs sv;
	unsigned long long avail;

	if (statvfs(dir, &sv) < 0)
		return error_message(reterr, errsize, -errno,
				     "cannot check the free space in '%s': %m", dir);
	avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
	if (avail < DEBIAN_SOURCE_MIN_FREE)
		return error_message(reterr, errsize, -ENOSPC,
				     "not unpacking the kernel source in '%s': %llu MiB free, %llu MiB " "needed",
				     dir, avail >> 20, DEBIAN_SOURCE_MIN_FREE >> 20);
	return 0;
}

/* The one directory tar left in dir, else -EBADMSG. */
static int single_top_dir(const char *dir, char **ret)
{
	_cleanup_free_ char *found = NULL;
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (n++ == 0 && !(found = path_join(dir, de->d_name))) {
			closedir(d);
			return -ENOMEM;
		}
	}
	closedir(d);
	if (n != 1 || !is_dir(found))
		return -EBADMSG;
	*ret = TAKE_PTR(found);
	return 0;
}

/* "VERSION = 6" ... from the top Makefile: "6.1.190", or NULL when a field is missing. */
static char *makefile_version(const char *text)
{
	const char *fields[] = { "VERSION", "PATCHLEVEL", "SUBLEVEL" };
	char values[3][16] = { "", "", "" };
	char *s = NULL;

	for (const char *p = text; *p;) {
		const char *eol = strchrnul(p, '\n');

		for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
			size_t fl = strlen(fields[i]);
			const char *v = p + fl;
			size_t n = 0;

			if (*values[i] || strncmp(p, fields[i], fl) != 0)
				continue;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v++ != '=')
				continue;
			while (*v == ' ' || *v == '\t')
				v++;
			while (n + 1 < sizeof(values[i]) && isdigit((unsigned char)v[n]))
				n++;
			memcpy(values[i], v, n);
			values[i][n] = '\0';
		}
		p = *eol ? eol + 1 : eol;
	}
	if (!*values[0] || !*values[1] || !*values[2])
		return NULL;
	if (asprintf(&s, "%s.%s.%s", values[0], values[1], values[2]) < 0)
		return NULL;
	return s;
}

static int check_source_makefile(const char *top, const char *version, char *reterr,
				 size_t errsize)
{
	_cleanup_free_ char *makefile = path_join(top, "Makefile"), *text = NULL, *upstream = NULL,
			    *have = NULL;
	size_t len;
	int r;

	if (!makefile)
		return -ENOMEM;
	r = debian_upstream_version(version, &upstream);
	if (r < 0)
		return r;
	if (!is_regular(makefile))
		return error_message(reterr, errsize, -EBADMSG,
				     "the unpacked tree has no Makefile");
	r = read_file_bounded(makefile, SOURCE_MAKEFILE_MAX, &text, &len);
	if (r < 0)
		return error_message(reterr, errsize, r == -EFBIG ? -EBADMSG : r,
				     "cannot read '%s': %s", makefile, errno_to_string(r));
	have = makefile_version(text);
	if (!have)
		return error_message(reterr, errsize, -EBADMSG,
				     "the Makefile has no VERSION, PATCHLEVEL and SUBLEVEL");
	if (!streq(have, upstream))
		return error_message(reterr, errsize, -EBADMSG,
				     "the Makefile is of Linux %s, not %s", have, upstream);
	return 0;
}

/*
 * Unpacks deb into tmp and returns the top directory of the source in
 * *ret_top, checked and marked as complete, ready to be renamed.
 */
static int unpack_source(const char *deb, const char *name, const char *version, const char *tmp,
			 char **ret_top, char *reterr, size_t errsize)
{
	_cleanup_run_result_ struct run_result res = { 0 };
	_cleanup_free_ char *member = NULL, *tarball = NULL, *tree = NULL, *top = NULL,
			    *marker = NULL, *file_arg = NULL, *dir_arg = NULL, *dv = NULL,
			    *text = NULL;
	_cleanup_close_ int fd = -1;
	char why[512] = "";
	int r;

	r = debian_deb_version(deb, &dv, why, sizeof(why));
	if (r < 0)
		return error_message(reterr, errsize, r,
				     "reading the version of the source package: %s", why);
	if (debian_version_compare(dv, version) != 0)
		return error_message(reterr, errsize, -EBADMSG, "'%s' has version %s, expected %s",
				     deb, dv, version);

	if (asprintf(&member, "usr/src/%s.tar.xz", name) < 0 ||
	    !(tarball = path_join(tmp, member)) || !(tree = path_join(tmp, "tree")))
		return -ENOMEM;
	{
		char *const members[] = { member, NULL };

		r = debian_deb_extract(deb, tmp, members, why, sizeof(why));
	}
	if (r == -ENOENT)
		return error_message(reterr, errsize, -EBADMSG, "'%s' has no %s", deb, member);
	if (r < 0)
		return error_message(reterr, errsize, r, "extracting %s: %s", member, why);
	if (!is_regular(tarball))
		return error_message(reterr, errsize, -EBADMSG, "%s in '%s' is not a regular file",
				     member, deb);

	if (mkdir(tree, 0755) < 0)
		return error_message(reterr, errsize, -errno, "cannot create '%s': %m", tree);
	/* --file= and --directory= so that no path can pass for an option */
	if (asprintf(&file_arg, "--file=%s", tarball) < 0 ||
	    asprintf(&dir_arg, "--directory=%s", tree) < 0)
		return -ENOMEM;
	log_debug("unpacking %s of '%s' in '%s'", member, deb, tree);
	{
		/* GNU tar refuses ".." members and defers dangerous symlinks by default */
		char *const argv[] = { "tar", "-x", "-J", file_arg, dir_arg, "--no-same-owner",
				       NULL };

		r = run(argv, NULL, NULL, 0, &res);
	}
	if (r < 0)
		return error_message(reterr, errsize, r, "unpacking %s: cannot run tar: %s", member,
				     errno_to_string(r));
	if (!status_ok(res.status[0])) {
		summarize(&res, res.status[0], why, sizeof(why));
		return error_message(reterr, errsize, -EBADMSG,
				     "unpacking %s of '%s': tar -xJ failed: %s", member, deb, why);
	}
	/* the tarball is no longer needed: give its ~140 MB back before the rest */
	(void)unlink(tarball);

	r = single_top_dir(tree, &top);
	if (r == -EBADMSG)
		return error_message(reterr, errsize, r,
				     "%s does not hold exactly one top directory", member);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot read '%s': %s", tree,
				     errno_to_string(r));
	r = check_source_makefile(top, version, why, sizeof(why));
	if (r < 0)
		return error_message(reterr, errsize, r, "checking %s: %s", member, why);

	/*
	 * The marker must not reach the disk before the files it vouches for, or a
	 * crash could leave a marked tree of empty files.
	 */
	fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0)
		return error_message(reterr, errsize, -errno, "cannot sync '%s': %m", top);
	if (!(marker = path_join(top, DEBIAN_SOURCE_MARKER)) ||
	    !(text = marker_text(name, version)))
		return -ENOMEM;
	r = write_file_atomic(marker, text, strlen(text), 0644);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot write '%s': %s", marker,
				     errno_to_string(r));
	*ret_top = TAKE_PTR(top);
	return 0;
}

int debian_source_tree(const struct debian_kernel *k, const char *cache_dir, unsigned flags,
		       char **ret_dir, char *reterr, size_t errsize)
{
	_cleanup_(tmpdir_removep) char *tmp = NULL;
	_cleanup_free_ char *name = NULL, *ev = NULL, *rel = NULL, *final = NULL, *srcdir = NULL,
			    *lock = NULL, *expected = NULL, *deb = NULL, *top = NULL,
			    *aside = NULL;
	_cleanup_close_ int lock_fd = -1;
	int r;

	if (!k || !ret_dir)
		return error_message(reterr, errsize, -EINVAL, "no kernel");
	r = debian_release_check(k->release, reterr, errsize);
	if (r < 0)
		return r;
	if (strempty(cache_dir))
		return error_message(reterr, errsize, -EINVAL, "no cache directory");
	name = source_package_name(k->release);
	if (!name)
		return -ENOMEM;
	if (!k->source_version)
		return error_message(reterr, errsize, -ENOENT,
				     "%s: no %s in the archive or the cache", k->release, name);
	if (!valid_version(k->source_version))
		return error_message(reterr, errsize, -EINVAL, "bad source version '%s'",
				     k->source_version);
	if (!k->source_exact)
		return error_message(reterr, errsize, -ENOENT,
				     "%s: %s has no version %s (the nearest is %s), and another " "version's source is not this kernel's",
				     k->release, name,
				     k->package_version ? k->package_version : "?",
				     k->source_version);

	ev = escape_version(k->source_version);
	if (!ev || asprintf(&rel, "linux-source-%s", ev) < 0 ||
	    !(srcdir = path_join(cache_dir, "src")) || !(final = path_join(srcdir, rel)) ||
	    !(expected = marker_text(name, k->source_version)))
		return -ENOMEM;
	if (source_tree_complete(final, expected)) {
		log_debug("using unpacked source '%s'", final);
		*ret_dir = TAKE_PTR(final);
		return 0;
	}

	r = mkdir_p(srcdir, 0755);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot create '%s': %s", srcdir,
				     errno_to_string(r));
	free(rel);
	if (asprintf(&rel, ".linux-source-%s.lock", ev) < 0 || !(lock = path_join(srcdir, rel)))
		return -ENOMEM;
	lock_fd = lock_file_acquire(lock, 1);
	if (lock_fd < 0)
		return error_message(reterr, errsize, lock_fd, "cannot lock '%s': %s", lock,
				     errno_to_string(lock_fd));
	/* someone else may have finished while we waited */
	if (source_tree_complete(final, expected)) {
		*ret_dir = TAKE_PTR(final);
		return 0;
	}

	r = source_deb(k, name, cache_dir, flags, &deb, reterr, errsize);
	if (r < 0)
		return r;
	r = make_tmpdir(cache_dir, &tmp);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot create a directory in '%s': %s",
				     cache_dir, errno_to_string(r));
	/* a killed run's leftover: moved out of the way at once, deleted with tmp */
	if (!(aside = path_join(tmp, "old")))
		return -ENOMEM;
	if (rename(final, aside) < 0 && errno != ENOENT)
		return error_message(reterr, errsize, -errno, "cannot remove unfinished '%s': %m",
				     final);
	if (is_dir(aside))
		log_debug("removing unfinished source tree '%s'", final);
	r = rm_rf(aside);
	if (r < 0)
		return error_message(reterr, errsize, r, "cannot remove unfinished '%s': %s", final,
				     errno_to_string(r));
	r = check_free_space(cache_dir, reterr, errsize);
	if (r < 0)
		return r;

	r = unpack_source(deb, name, k->source_version, tmp, &top, reterr, errsize);
	if (r < 0)
		return r;
	r = publish_dir(top, final, reterr, errsize);
	if (r < 0)
		return r;
	*ret_dir = TAKE_PTR(final);
	return 0;
}

int debian_deb_extract_member(const char *deb, const char *member, const char *dest,
			      char *reterr, size_t errsize)
{
	_cleanup_free_ char *dir = NULL, *tmp = NULL, *from = NULL;
	char *members[] = { (char *)member, NULL };
	char *slash;
	int r;

	if (access(dest, R_OK) == 0)
		return 0;
	dir = strdup(dest);
	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&tmp, "%s.tmp-%ld", dest, (long)getpid()) < 0) {
		tmp = NULL;
		return -ENOMEM;
	}
	if (asprintf(&from, "%s/%s", tmp, member) < 0) {
		from = NULL;
		return -ENOMEM;
	}
	r = slash ? mkdir_p(dir, 0755) : 0;
	if (r < 0) {
		snprintf(reterr, errsize, "cannot create '%s': %s", dir, strerror(-r));
		return r;
	}
	(void)rm_rf(tmp);
	r = mkdir_p(tmp, 0755);
	if (r >= 0)
		r = debian_deb_extract(deb, tmp, members, reterr, errsize);
	if (r >= 0 && rename(from, dest) < 0) {
		r = -errno;
		snprintf(reterr, errsize, "cannot move '%s' into place: %s", dest, strerror(-r));
	}
	(void)rm_rf(tmp);
	return r;
}
