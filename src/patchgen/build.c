/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "build.h"
#include "child.h"
#include "elfdiff.h"
#include "fileio.h"
#include "log.h"
#include "parse-util.h"
#include "strbuf.h"

/* How much of patch's output an error quotes. */
/* Largest kbuild .cmd file and source file read, and diff output taken. */
#define CMD_FILE_MAX (4u * 1024 * 1024)
#define SOURCE_FILE_MAX (64u * 1024 * 1024)

enum file_kind {
	FILE_SOURCE,	/* a .c file: built and compared */
	FILE_IGNORED,	/* never part of the kernel image or modules */
	FILE_REFUSED,
};

struct touched {
	char *path;	/* the new name, or the old one for a removed file */
	char *old_path; /* differs from path for renames; NULL when new */
	bool is_new;
	bool is_removed;
};

struct touched_set {
	struct touched *v;
	size_t n;
};

static void touched_set_release(struct touched_set *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].path);
		free(s->v[i].old_path);
	}
	free(s->v);
	*s = (struct touched_set){ 0 };
}

static void refusals_free(struct patch_refusal *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].what);
		free(v[i].reason);
	}
	free(v);
}

struct patch_analysis *patch_analysis_free(struct patch_analysis *a)
{
	if (!a)
		return NULL;
	for (size_t i = 0; i < a->n_files; i++) {
		struct patch_file_analysis *f = &a->files[i];

		free(f->path);
		free(f->object);
		free(f->objname);
		free(f->orig_object);
		free(f->patched_object);
		free(f->line_map);
		strv_free(f->line_only);
		strv_free(f->funcs_changed);
		strv_free(f->funcs_new);
		strv_free(f->funcs_removed);
		strv_free(f->data_changed);
		strv_free(f->data_new);
		strv_free(f->data_removed);
		refusals_free(f->refusals, f->n_refusals);
	}
	free(a->files);
	strv_free(a->ignored);
	free(a);
	return NULL;
}

/* ---- reading the patch ---- */

/* A path inside the tree: relative, no "." or ".." or empty components. */
static bool tree_path_ok(const char *p)
{
	const char *c = p;

	if (!*p || *p == '/')
		return false;
	while (*c) {
		const char *e = strchrnul(c, '/');
		size_t n = (size_t)(e - c);

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c = *e ? e + 1 : e;
	}
	return p[strlen(p) - 1] != '/';
}

/*
 * The name from a "--- " or "+++ " line, -p1 stripped, or NULL in
 * *ret for /dev/null.
 */
static int header_path(const char *line, size_t len, const char *patch, unsigned lineno,
		       char **ret, char *reterr, size_t errsize)
{
	const char *s = line + 4, *end = line + len, *slash;
	size_t n;
	char *p;

	if (s < end && *s == '"')
		return parse_error(reterr, errsize, "'%s' line %u: quoted file names are not supported",
				   patch, lineno);
	n = (size_t)(end - s);
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\t') {
			n = i;
			break;
		}
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\r'))
		n--;
	if (n == 9 && memcmp(s, "/dev/null", 9) == 0) {
		*ret = NULL;
		return 0;
	}
	slash = memchr(s, '/', n);
	if (!slash)
		return parse_error(reterr, errsize, "'%s' line %u: file name without a directory "
				   "prefix to strip (-p1)", patch, lineno);
	p = strndup(slash + 1, n - (size_t)(slash + 1 - s));
	if (!p)
		return -ENOMEM;
	if (!tree_path_ok(p)) {
		parse_error(reterr, errsize, "'%s' line %u: file name '%s' leaves the tree", patch,
			    lineno, p);
		free(p);
		return -EBADMSG;
	}
	*ret = p;
	return 0;
}

/* "@@ -a[,b] +c[,d] @@": v[] = { a, b, c, d } (b and d default to 1). */
static bool parse_hunk_header(const char *line, size_t len, unsigned long v[static 4])
{
	const char *p = line + 3, *end = line + len;

	v[0] = v[2] = 0;
	v[1] = v[3] = 1;
	for (int side = 0; side < 2; side++) {
		if (p >= end || *p != (side ? '+' : '-'))
			return false;
		p++;
		for (int k = 0; k < 2; k++) {
			unsigned long x = 0;
			const char *start = p;

			while (p < end && *p >= '0' && *p <= '9' && x < 100000000)
				x = x * 10 + (unsigned long)(*p++ - '0');
			if (p == start)
				return false;
			v[side * 2 + k] = x;
			if (k == 0 && p < end && *p == ',')
				p++;
			else
				break;
		}
		if (p < end && *p == ' ')
			p++;
	}
	return true;
}

/* "@@ -a[,b] +c[,d] @@": the old and new line counts. */
static bool parse_hunk(const char *line, size_t len, unsigned long *ret_old, unsigned long *ret_new)
{
	unsigned long v[4];

	if (!parse_hunk_header(line, len, v))
		return false;
	*ret_old = v[1];
	*ret_new = v[3];
	return true;
}

static int touched_add(struct touched_set *s, char *old, char *new)
{
	const char *path = new ?: old;
	struct touched *t;

	for (size_t i = 0; i < s->n; i++)
		if (streq(s->v[i].path, path)) {
			/* a later patch touching the file again: new/removed state follows the last */
			s->v[i].is_removed = !new;
			free(old);
			free(new);
			return 0;
		}
	if (s->n >= PATCH_MAX_FILES) {
		free(old);
		free(new);
		return -EFBIG;
	}
	t = realloc(s->v, (s->n + 1) * sizeof(*t));
	if (!t) {
		free(old);
		free(new);
		return -ENOMEM;
	}
	s->v = t;
	t = &s->v[s->n++];
	*t = (struct touched){ .is_new = !old, .is_removed = !new };
	if (new) {
		t->path = new;
		t->old_path = old;
	} else {
		t->path = old;
	}
	return 0;
}

/*
 * Collects the files of one unified diff.  Hunk bodies are skipped by their
 * line counts so a removed line that starts with "-- " is not taken for a
 * file header; everything outside hunks (mail headers, the commit message,
 * git's extended headers) is ignored.
 */
static int patch_files(const char *patch, const char *text, size_t len, struct touched_set *s,
		       char *reterr, size_t errsize)
{
	const char *p = text, *end = text + len;
	unsigned lineno = 0, found = 0;
	int r;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *next;
		const char *line2, *nl2;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		unsigned long old_left, new_left;
		char *old = NULL, *new = NULL;

		next = nl ? nl + 1 : end;
		lineno++;
		if (n < 4 || memcmp(p, "--- ", 4) != 0 || next >= end ||
		    (size_t)(end - next) < 4 || memcmp(next, "+++ ", 4) != 0) {
			p = next;
			continue;
		}
		line2 = next;
		nl2 = memchr(line2, '\n', (size_t)(end - line2));
		r = header_path(p, n, patch, lineno, &old, reterr, errsize);
		if (r < 0)
			return r;
		r = header_path(line2, nl2 ? (size_t)(nl2 - line2) : (size_t)(end - line2), patch,
				lineno + 1, &new, reterr, errsize);
		if (r < 0) {
			free(old);
			return r;
		}
		if (!old && !new)
			return parse_error(reterr, errsize, "'%s' line %u: both names are /dev/null",
					   patch, lineno);
		r = touched_add(s, old, new);
		if (r == -EFBIG)
			snprintf(reterr, errsize, "'%s': more than %u files", patch, PATCH_MAX_FILES);
		if (r < 0)
			return r;
		found++;
		lineno++;
		p = nl2 ? nl2 + 1 : end;

		/* the hunks of this file */
		while (p < end && end - p >= 3 && memcmp(p, "@@ ", 3) == 0) {
			nl = memchr(p, '\n', (size_t)(end - p));
			lineno++;
			if (!parse_hunk(p, nl ? (size_t)(nl - p) : (size_t)(end - p), &old_left,
					&new_left))
				return parse_error(reterr, errsize, "'%s' line %u: malformed hunk header",
						   patch, lineno);
			p = nl ? nl + 1 : end;
			while (p < end && (old_left > 0 || new_left > 0)) {
				nl = memchr(p, '\n', (size_t)(end - p));
				lineno++;
				if (*p == ' ' || *p == '\n') {
					if (old_left == 0 || new_left == 0)
						break;
					old_left--;
					new_left--;
				} else if (*p == '-' && old_left > 0) {
					old_left--;
				} else if (*p == '+' && new_left > 0) {
					new_left--;
				} else if (*p != '\\') {
					break;
				}
				p = nl ? nl + 1 : end;
			}
			if (old_left > 0 || new_left > 0)
				return parse_error(reterr, errsize, "'%s' line %u: hunk ends early",
						   patch, lineno);
			/* "\ No newline at end of file" after the last line */
			if (p < end && *p == '\\') {
				nl = memchr(p, '\n', (size_t)(end - p));
				lineno++;
				p = nl ? nl + 1 : end;
			}
		}
	}
	if (!found)
		return parse_error(reterr, errsize, "'%s': no file changes found (not a unified diff?)",
				   patch);
	return 0;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && streq(s + n - m, suffix);
}

/* What a touched file means for a livepatch; *ret_reason says why when refused. */
static enum file_kind classify(const struct touched *t, const char **ret_reason)
{
	const char *base = strrchr(t->path, '/');

	base = base ? base + 1 : t->path;
	*ret_reason = NULL;
	if (has_prefix(t->path, "tools/") || has_prefix(t->path, "scripts/") ||
	    has_prefix(t->path, "Documentation/"))
		return FILE_IGNORED;
	if (streq(base, "Makefile") || streq(base, "Kbuild") || has_prefix(base, "Kconfig") ||
	    has_suffix(base, ".mk")) {
		*ret_reason = "build system changes (Makefile/Kconfig) are not supported";
		return FILE_REFUSED;
	}
	if (has_suffix(base, ".S")) {
		*ret_reason = "assembly changes are not supported: only C functions with a "
			      "__fentry__ call can be redirected";
		return FILE_REFUSED;
	}
	if (has_suffix(base, ".h")) {
		*ret_reason = "header changes are not supported: every object that includes the "
			      "header would have to be rebuilt, and they cannot all be found (the "
			      "prepared tree has no .cmd files of the kernel's objects)";
		return FILE_REFUSED;
	}
	if (has_prefix(t->path, "kernel/livepatch/") || has_prefix(t->path, "kernel/trace/") ||
	    streq(t->path, "arch/x86/kernel/ftrace.c")) {
		*ret_reason = "the ftrace and livepatch core cannot be livepatched: ftrace does "
			      "not hook its own code (built without -pg), and a patch must not "
			      "change the machinery that applies it";
		return FILE_REFUSED;
	}
	if (has_suffix(base, ".c")) {
		if (t->is_new) {
			*ret_reason = "new source files are not supported yet";
			return FILE_REFUSED;
		}
		if (t->is_removed) {
			*ret_reason = "removed source files are not supported";
			return FILE_REFUSED;
		}
		if (t->old_path && !streq(t->old_path, t->path)) {
			*ret_reason = "renamed source files are not supported";
			return FILE_REFUSED;
		}
		return FILE_SOURCE;
	}
	*ret_reason = "changes to this kind of file are not supported";
	return FILE_REFUSED;
}

/* ---- the shadow tree ---- */

/* dst gets a symlink to every entry of src (dst exists and is empty). */
static int link_entries(const char *src, const char *dst)
{
	DIR *d = opendir(src);
	struct dirent *de;
	int r = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		_cleanup_free_ char *from = NULL, *to = NULL;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		from = path_join(src, de->d_name);
		to = path_join(dst, de->d_name);
		if (!from || !to) {
			r = -ENOMEM;
			break;
		}
		if (symlink(from, to) < 0) {
			r = -errno;
			break;
		}
	}
	closedir(d);
	return r;
}

/* Copies a regular file to a path that must not exist (never following a link there). */
static int copy_file(const char *from, const char *to)
{
	_cleanup_close_ int in = -1, out = -1;
	struct stat st;
	char buf[65536];
	ssize_t n;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, st.st_mode & 07777);
	if (out < 0)
		return -errno;
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));

			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			done += w;
		}
	}
	return 0;
}

/*
 * Makes rel a real file in the shadow tree: every directory on its way
 * becomes a real directory of symlinks, and the file itself a real copy of
 * the pristine one (nothing when the file is new).  Only entries under
 * shadow are unlinked or created, so patch writing to rel afterwards
 * reaches nothing of the pristine tree.
 */
static int shadow_materialize(const char *src, const char *shadow, const char *rel)
{
	_cleanup_free_ char *path = strdup(rel);
	char *c;
	int r;

	if (!path)
		return -ENOMEM;
	for (c = path;; c++) {
		_cleanup_free_ char *s = NULL, *d = NULL;
		bool last = !strchr(c, '/');
		struct stat st;

		c = strchrnul(c, '/');
		*c = '\0';
		s = path_join(src, path);
		d = path_join(shadow, path);
		if (!s || !d)
			return -ENOMEM;
		if (lstat(d, &st) < 0) {
			if (errno != ENOENT)
				return -errno;
			/* new in the patch: patch makes the file, directories are ours */
			if (last)
				return 0;
			if (mkdir(d, 0755) < 0)
				return -errno;
		} else if (S_ISLNK(st.st_mode)) {
			if (unlink(d) < 0)
				return -errno;
			if (last)
				return copy_file(s, d);
			if (mkdir(d, 0755) < 0)
				return -errno;
			r = link_entries(s, d);
			if (r < 0)
				return r;
		} else if (last) {
			return S_ISREG(st.st_mode) ? 0 : -EISDIR;
		} else if (!S_ISDIR(st.st_mode)) {
			return -ENOTDIR;
		}
		*c = '/';
	}
}

/* ---- child processes ---- */

struct run {
	const struct patch_analyse_options *o;
	char *log_path;
	char *work_abs; /* work_dir made absolute */
	char *shadow;
	char *orig_obj;
	char *patched_obj;
	int log_fd;
	int64_t deadline;
	char jobs[32];
};

static int run_child(struct run *run, char **argv, const char *step, bool quote_all,
		     char *reterr, size_t errsize)
{
	const struct child_log log = { .fd = run->log_fd, .path = run->log_path,
				       .deadline_ms = run->deadline,
				       .timeout_s = run->o->timeout_s };

	log_debug("patch build: %s", step);
	return child_run_step(&log, argv, step, quote_all, reterr, errsize);
}

static int run_make(struct run *run, const char *src, const char *obj, const char *target,
		    const char *what, char *reterr, size_t errsize)
{
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *odir = NULL, *step = NULL;
	int r;

	if (asprintf(&odir, "O=%s", obj) < 0) {
		odir = NULL;
		return -ENOMEM;
	}
	if (asprintf(&step, "make %s (%s)", target, what) < 0) {
		step = NULL;
		return -ENOMEM;
	}
	if ((r = strv_push(&argv, "make")) < 0 || (r = strv_push(&argv, "-C")) < 0 ||
	    (r = strv_push(&argv, src)) < 0 || (r = strv_push(&argv, odir)) < 0)
		return r;
	for (size_t i = 0; run->o->make_args && run->o->make_args[i]; i++)
		if ((r = strv_push(&argv, run->o->make_args[i])) < 0)
			return r;
	if ((r = strv_push(&argv, PATCH_BUILD_KCFLAGS)) < 0 ||
	    (run->jobs[0] && (r = strv_push(&argv, run->jobs)) < 0) ||
	    (r = strv_push(&argv, target)) < 0)
		return r;
	return run_child(run, argv, step, false, reterr, errsize);
}

static int apply_patch(struct run *run, const char *patch, char *reterr, size_t errsize)
{
	_cleanup_free_ char *step = NULL;
	/*
	 * --forward: --batch alone would apply an already applied (reversed)
	 * patch in reverse without a word.
	 */
	char *argv[] = { (char *)"patch",
			 (char *)"-p1",
			 (char *)"--batch",
			 (char *)"--forward",
			 (char *)"--no-backup-if-mismatch",
			 (char *)"-d",
			 run->shadow,
			 (char *)"-i",
			 (char *)patch,
			 NULL };

	if (asprintf(&step, "patch '%s' does not apply", patch) < 0) {
		step = NULL;
		return -ENOMEM;
	}
	return run_child(run, argv, step, true, reterr, errsize);
}

/* ---- comparison ---- */


static int refuse(struct patch_file_analysis *f, const char *what, const char *reason)
{
	struct patch_refusal *v = realloc(f->refusals, (f->n_refusals + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	f->refusals = v;
	v[f->n_refusals] = (struct patch_refusal){ strdup(what), strdup(reason) };
	if (!v[f->n_refusals].what || !v[f->n_refusals].reason) {
		free(v[f->n_refusals].what);
		free(v[f->n_refusals].reason);
		return -ENOMEM;
	}
	f->n_refusals++;
	return 0;
}

/* "count.3" and "count.7" are one static local renumbered; "count" is the base. */
static size_t name_base_len(const char *name)
{
	return strcspn(name, ".");
}

/*
 * A static local of orig that has no twin while the patched object has a
 * new one of the same name: correlation could not tell they are one
 * variable (its functions changed too much), and the patch would start
 * from a fresh copy instead of the running kernel's state.
 */
static int refuse_lost_static_locals(struct patch_file_analysis *f,
				     const struct elfdiff_report *rep)
{
	int r;

	for (size_t i = 0; i < elfdiff_report_count(rep); i++) {
		const struct elfdiff_entry *e = elfdiff_report_entry(rep, i);
		size_t len = name_base_len(e->name);
		char why[300];

		if (e->change != SYM_REMOVED || e->type != STT_OBJECT || e->bind != STB_LOCAL ||
		    !e->name[len] || (e->flags & ELFDIFF_FLAG_SPECIAL_STATIC))
			continue;
		for (size_t k = 0; k < elfdiff_report_count(rep); k++) {
			const struct elfdiff_entry *n = elfdiff_report_entry(rep, k);

			if (n->change != SYM_NEW || n->type != STT_OBJECT ||
			    name_base_len(n->name) != len || strncmp(n->name, e->name, len) != 0)
				continue;
			snprintf(why, sizeof(why), "static local '%.*s' cannot be matched to the "
				 "running kernel's '%s' (its functions changed): the patch would "
				 "start from a fresh copy", (int)len, e->name, e->name);
			r = refuse(f, n->name, why);
			if (r < 0)
				return r;
			break;
		}
	}
	return 0;
}

static int refuse_struct_layouts(struct patch_file_analysis *f, const struct elf_object *orig,
				 const struct elf_object *patched, char *reterr, size_t errsize)
{
	_cleanup_strv_free_ char **changes = NULL;
	char err[512] = "";
	int r;

	r = elfdiff_struct_layouts(orig, patched, &changes, err, sizeof(err));
	if (r == -ENODATA)
		return refuse(f, f->object, "no DWARF debug info (CONFIG_DEBUG_INFO): struct "
			      "layout changes cannot be checked");
	if (r < 0) {
		snprintf(reterr, errsize, "%s", err);
		return r;
	}
	for (size_t i = 0; changes[i]; i++) {
		/* "struct foo layout changed (...)": what is "struct foo" */
		const char *cut = strstr(changes[i], " layout changed");
		_cleanup_free_ char *what = strndup(changes[i], cut ? (size_t)(cut - changes[i]) :
							      strlen(changes[i]));

		if (!what)
			return -ENOMEM;
		r = refuse(f, what, changes[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int open_correlated(const char *orig_path, const char *patched_path,
			   const struct elfdiff_options *opts, struct elf_object **ret_orig,
			   struct elf_object **ret_patched, char *reterr, size_t errsize)
{
	_cleanup_(elf_object_freep) struct elf_object *orig = NULL, *patched = NULL;
	char err[512] = "";
	int r;

	r = elf_object_open(orig_path, &orig, err, sizeof(err));
	if (r < 0) {
		snprintf(reterr, errsize, "'%s': %s", orig_path, err);
		return r;
	}
	r = elf_object_open(patched_path, &patched, err, sizeof(err));
	if (r < 0) {
		snprintf(reterr, errsize, "'%s': %s", patched_path, err);
		return r;
	}
	r = elfdiff_correlate(orig, patched, opts, err, sizeof(err));
	if (r < 0) {
		snprintf(reterr, errsize, "correlating '%s' with '%s': %s", orig_path, patched_path,
			 err);
		return r;
	}
	*ret_orig = TAKE_PTR(orig);
	*ret_patched = TAKE_PTR(patched);
	return 0;
}

int patch_file_open_objects(const struct patch_file_analysis *f, struct elf_object **ret_orig,
			    struct elf_object **ret_patched, char *reterr, size_t errsize)
{
	struct elfdiff_options opts = { .line_map = f->line_map, .n_lines = f->n_lines };

	if (!f->orig_object || !f->patched_object) {
		snprintf(reterr, errsize, "'%s': no objects were built", f->path);
		return -ENOENT;
	}
	return open_correlated(f->orig_object, f->patched_object, &opts, ret_orig, ret_patched,
			       reterr, errsize);
}

static int compare_objects(struct patch_file_analysis *f, char *reterr, size_t errsize)
{
	_cleanup_(elf_object_freep) struct elf_object *orig = NULL, *patched = NULL;
	_cleanup_(elfdiff_report_freep) struct elfdiff_report *rep = NULL;
	struct elfdiff_options opts = { .line_map = f->line_map, .n_lines = f->n_lines };
	char ***lists[] = { &f->funcs_changed, &f->funcs_new, &f->funcs_removed,
			    &f->data_changed, &f->data_new, &f->data_removed };
	bool any = false;
	int r;

	r = patch_file_open_objects(f, &orig, &patched, reterr, errsize);
	if (r < 0)
		return r;
	r = elfdiff_compare_opts(orig, patched, &opts, &rep, reterr, errsize);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		static const enum symbol_change changes[] = { SYM_CHANGED, SYM_NEW, SYM_REMOVED };

		strv_free(*lists[i]);
		*lists[i] = NULL;
		r = elfdiff_report_names(rep, i < 3 ? STT_FUNC : STT_OBJECT, changes[i % 3],
					 lists[i]);
		if (r < 0)
			return r;
		any = any || (*lists[i])[0];
	}
	for (size_t i = 0; i < elfdiff_report_count(rep); i++) {
		const struct elfdiff_entry *e = elfdiff_report_entry(rep, i);

		if (e->change == SYM_SAME && (e->flags & ELFDIFF_FLAG_LINE_ONLY) &&
		    (r = strv_push(&f->line_only, e->name)) < 0)
			return r;
	}
	if (!any) {
		char why[160];

		snprintf(why, sizeof(why), "no change in compiled code%s",
			 f->line_only[0] ? " (only __LINE__ values moved)" : "");
		return refuse(f, f->path, why);
	}
	for (size_t i = 0; i < elfdiff_report_count(rep); i++) {
		const struct elfdiff_entry *e = elfdiff_report_entry(rep, i);
		const char *why = NULL;

		if (e->change != SYM_CHANGED)
			continue;
		/*
		 * A dynamic debug descriptor whose text changed: the patched code
		 * that uses it changed too (elfdiff says so), and keeping the
		 * running kernel's descriptor only keeps its old text in the
		 * control file.  Other per-site data (switch tables, ratelimit
		 * state) would need a fresh copy the module writer does not make.
		 */
		if (e->type == STT_OBJECT && (e->flags & ELFDIFF_FLAG_SPECIAL_STATIC) &&
		    streq(e->section, "__dyndbg"))
			continue;
		if (e->type == STT_OBJECT && (e->flags & ELFDIFF_FLAG_SPECIAL_STATIC))
			why = "per-site data the compiler or a kernel macro made (switch table, "
			      "ratelimit or WARN_ONCE state, __func__) changed: the patch would "
			      "keep using the running kernel's copy";
		else if (e->type == STT_OBJECT && (e->flags & ELFDIFF_FLAG_INIT))
			why = "__initdata changed: it was freed after boot";
		else if (e->type == STT_OBJECT)
			why = "existing data changed";
		else if (e->flags & ELFDIFF_FLAG_INIT)
			why = "__init function changed: it has run already";
		else if (e->flags & ELFDIFF_FLAG_EXIT)
			why = "__exit function changed: it runs at module unload and ftrace "
			      "cannot hook it (notrace)";
		else if ((e->flags & ELFDIFF_FLAG_NO_FENTRY) && !elfdiff_is_cold_part(e->name))
			/* a .cold part is never hooked: it travels with its function */
			why = "no __fentry__ call: cannot be hooked by ftrace (notrace or built "
			      "without -pg)";
		if (why && (r = refuse(f, e->name, why)) < 0)
			return r;
	}
	r = refuse_lost_static_locals(f, rep);
	if (r < 0)
		return r;
	return refuse_struct_layouts(f, orig, patched, reterr, errsize);
}

/*
 * The line map of a patched file: original line -> patched line, from
 * "diff -U0" of the pristine and the patched file (what patch really did,
 * offsets and fuzz included).  map[l] is 0 for changed and removed lines.
 */
static int line_map(struct run *run, struct patch_file_analysis *f, char *reterr, size_t errsize)
{
	_cleanup_free_ char *orig = path_join(run->o->source_dir, f->path),
			    *patched = path_join(run->shadow, f->path), *text = NULL, *out = NULL;
	char *argv[] = { (char *)"diff", (char *)"-U0", NULL, NULL, NULL };
	size_t len, n = 1, old = 1;
	long delta = 0;
	int status, r;

	if (!orig || !patched)
		return -ENOMEM;
	r = read_file_bounded(orig, SOURCE_FILE_MAX, &text, &len);
	if (r < 0) {
		snprintf(reterr, errsize, "reading '%s': %s", orig, strerror(-r));
		return r;
	}
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	if (len && text[len - 1] != '\n')
		n++;
	argv[2] = orig;
	argv[3] = patched;
	r = child_run_capture(argv, SOURCE_FILE_MAX, run->deadline, &out, &status);
	if (r < 0 || status > 1) {
		snprintf(reterr, errsize, "diff '%s' '%s': %s", orig, patched,
			 r < 0 ? strerror(-r) : "failed");
		return r < 0 ? r : -EIO;
	}
	f->line_map = calloc(n, sizeof(unsigned));
	if (!f->line_map)
		return -ENOMEM;
	f->n_lines = n;
	for (const char *p = out; *p;) {
		const char *nl = strchrnul(p, '\n');
		unsigned long v[4];

		if (nl - p > 3 && memcmp(p, "@@ ", 3) == 0 &&
		    parse_hunk_header(p, (size_t)(nl - p), v)) {
			/* -U0: lines a..a+b-1 replaced; b == 0 inserts after line a */
			size_t first = v[1] ? v[0] : v[0] + 1;

			for (; old < first && old < n; old++)
				f->line_map[old] = (unsigned)((long)old + delta);
			old = first + v[1];
			delta += (long)v[3] - (long)v[1];
		}
		p = *nl ? nl + 1 : nl;
	}
	for (; old < n; old++)
		f->line_map[old] = (unsigned)((long)old + delta);
	return 0;
}

/* Reads -DMODULE and -DKBUILD_MODNAME of rel from the .cmd file kbuild wrote in obj_root. */
static int read_objname(const char *obj_root, const char *rel, char **ret)
{
	_cleanup_free_ char *dir = strdup(rel), *cmd = NULL, *text = NULL;
	const char *base, *p, *end;
	char *slash;
	size_t len;
	int r;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	base = slash ? slash + 1 : dir;
	if (slash)
		*slash = '\0';
	if (asprintf(&cmd, "%s/%s%s.%s.cmd", obj_root, slash ? dir : "", slash ? "/" : "",
		     base) < 0) {
		cmd = NULL;
		return -ENOMEM;
	}
	r = read_file_bounded(cmd, CMD_FILE_MAX, &text, &len);
	if (r < 0)
		return r;
	/* only the command line: "cmd_PATH := gcc ..." up to its end */
	end = strchrnul(text, '\n');
	*(char *)end = '\0';
	if (!has_prefix(text, "cmd_"))
		return -EBADMSG;
	if (!strstr(text, " -DMODULE ") && !has_suffix(text, " -DMODULE")) {
		*ret = strdup("vmlinux");
		return *ret ? 0 : -ENOMEM;
	}
	p = strstr(text, "-DKBUILD_MODNAME=");
	if (!p)
		return -EBADMSG;
	p += strlen("-DKBUILD_MODNAME=");
	/* kbuild writes -DKBUILD_MODNAME='"name"' (shell quoting around a C string) */
	while (*p == '\'' || *p == '"' || *p == '\\')
		p++;
	len = strcspn(p, "'\"\\ ");
	if (len == 0)
		return -EBADMSG;
	*ret = strndup(p, len);
	return *ret ? 0 : -ENOMEM;
}

/* Copies built object rel from obj_root to dir/rel, replacing an earlier one. */
static int save_object(const char *obj_root, const char *rel, const char *dir)
{
	_cleanup_free_ char *from = path_join(obj_root, rel), *to = path_join(dir, rel);
	char *slash;
	int r;

	if (!from || !to)
		return -ENOMEM;
	slash = strrchr(to, '/');
	*slash = '\0';
	r = mkdir_p(to, 0755);
	*slash = '/';
	if (r < 0)
		return r;
	if (unlink(to) < 0 && errno != ENOENT)
		return -errno;
	return copy_file(from, to);
}

/* Builds rel in the O= tree obj from src, after removing a stale copy make could trust. */
static int build_object(struct run *run, const char *src, const char *obj, const char *rel,
			const char *what, char *reterr, size_t errsize)
{
	_cleanup_free_ char *stale = path_join(obj, rel);

	if (!stale)
		return -ENOMEM;
	if (unlink(stale) < 0 && errno != ENOENT)
		return -errno;
	return run_make(run, src, obj, rel, what, reterr, errsize);
}

static int analyse_source(struct run *run, struct patch_file_analysis *f, char *reterr,
			  size_t errsize)
{
	_cleanup_free_ char *orig_dir = path_join(run->work_abs, "orig"),
			    *patched_dir = path_join(run->work_abs, "patched");
	char err[512] = "";
	int r;

	if (!orig_dir || !patched_dir)
		return -ENOMEM;
	f->object = strdup(f->path);
	if (!f->object)
		return -ENOMEM;
	f->object[strlen(f->object) - 1] = 'o';

	r = build_object(run, run->o->source_dir, run->orig_obj, f->object, "original", reterr,
			 errsize);
	if (r < 0)
		return r;
	r = save_object(run->orig_obj, f->object, orig_dir);
	if (r < 0) {
		snprintf(reterr, errsize, "copying the original '%s': %s", f->object, strerror(-r));
		return r;
	}
	r = build_object(run, run->shadow, run->patched_obj, f->object, "patched", reterr,
			 errsize);
	if (r < 0)
		return r;
	r = save_object(run->patched_obj, f->object, patched_dir);
	if (r < 0) {
		snprintf(reterr, errsize, "copying the patched '%s': %s", f->object, strerror(-r));
		return r;
	}
	f->orig_object = path_join(orig_dir, f->object);
	f->patched_object = path_join(patched_dir, f->object);
	if (!f->orig_object || !f->patched_object)
		return -ENOMEM;
	r = read_objname(run->patched_obj, f->object, &f->objname);
	if (r == -ENOENT || r == -EBADMSG) {
		char why[300];

		snprintf(why, sizeof(why), "cannot tell whether it is built into vmlinux or a "
			 "module: kbuild left no readable .cmd file for '%s' (%s)", f->object,
			 r == -ENOENT ? "missing" : "no -DKBUILD_MODNAME");
		r = refuse(f, f->object, why);
	}
	if (r < 0)
		return r;
	r = line_map(run, f, reterr, errsize);
	if (r < 0)
		return r;
	r = compare_objects(f, err, sizeof(err));
	if (r < 0)
		snprintf(reterr, errsize, "comparing '%s': %s", f->object, err);
	return r;
}

/* ---- the whole ---- */

static int file_init(struct patch_file_analysis *f, const char *path)
{
	*f = (struct patch_file_analysis){ .path = strdup(path) };
	f->funcs_changed = calloc(1, sizeof(char *));
	f->funcs_new = calloc(1, sizeof(char *));
	f->funcs_removed = calloc(1, sizeof(char *));
	f->data_changed = calloc(1, sizeof(char *));
	f->data_new = calloc(1, sizeof(char *));
	f->data_removed = calloc(1, sizeof(char *));
	f->line_only = calloc(1, sizeof(char *));
	if (!f->path || !f->funcs_changed || !f->funcs_new || !f->funcs_removed ||
	    !f->data_changed || !f->data_new || !f->data_removed || !f->line_only)
		return -ENOMEM;
	return 0;
}

static void run_release(struct run *run)
{
	free(run->log_path);
	free(run->shadow);
	free(run->orig_obj);
	free(run->patched_obj);
	free(run->work_abs);
	if (run->log_fd >= 0)
		close(run->log_fd);
}

static int read_patches(const struct patch_analyse_options *o, struct touched_set *set,
			char *reterr, size_t errsize)
{
	for (size_t i = 0; o->patches[i]; i++) {
		_cleanup_free_ char *text = NULL;
		size_t len;
		int r;

		r = read_file_bounded(o->patches[i], PATCH_MAX_SIZE, &text, &len);
		if (r == -EFBIG)
			snprintf(reterr, errsize, "patch '%s' is larger than %u bytes", o->patches[i],
				 PATCH_MAX_SIZE);
		else if (r < 0)
			snprintf(reterr, errsize, "reading patch '%s': %s", o->patches[i],
				 strerror(-r));
		if (r < 0)
			return r;
		r = patch_files(o->patches[i], text, len, set, reterr, errsize);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Largest kbuild .cmd or .d file rewritten. */
#define TOOLS_DEP_FILE_MAX (4u * 1024 * 1024)

static int rebase_file(const char *path, const char *from, const char *to)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_strbuf_ struct strbuf out;
	size_t len, flen = strlen(from);
	const char *p, *hit;

	if (read_file_bounded(path, TOOLS_DEP_FILE_MAX, &text, &len) < 0 || !strstr(text, from))
		return 0; /* not ours to fix: make rebuilds what it must */
	strbuf_init(&out, 0);
	for (p = text; (hit = strstr(p, from)); p = hit + flen) {
		strbuf_add(&out, p, (size_t)(hit - p));
		strbuf_adds(&out, to);
	}
	if (strbuf_adds(&out, p) < 0)
		return -ENOMEM;
	return write_file_atomic(path, out.buf, out.len, 0644);
}

static int rebase_dir(const char *dir, const char *from, const char *to, unsigned depth)
{
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (depth > 16)
		return 0;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (r >= 0 && (e = readdir(d))) {
		_cleanup_free_ char *p = NULL;
		size_t n = strlen(e->d_name);

		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		p = path_join(dir, e->d_name);
		if (!p) {
			r = -ENOMEM;
			break;
		}
		if (e->d_type == DT_DIR)
			r = rebase_dir(p, from, to, depth + 1);
		else if (e->d_type == DT_REG &&
			 ((n > 4 && streq(e->d_name + n - 4, ".cmd")) ||
			  (n > 2 && streq(e->d_name + n - 2, ".d"))))
			r = rebase_file(p, from, to);
	}
	closedir(d);
	return r < 0 ? r : 0;
}

/*
 * The host tools kbuild runs before every target (objtool, resolve_btfids)
 * record their absolute output paths in .cmd/.d files; in a copy of the
 * tree the paths differ, so make would rebuild objtool from scratch (some
 * 10 s of CPU per side).  Point them at the copy.
 */
static int rebase_tools(const char *build_dir, const char *copy)
{
	_cleanup_free_ char *tools = path_join(copy, "tools");
	_cleanup_free_ char *from = NULL, *to = NULL;

	if (!tools)
		return -ENOMEM;
	from = realpath(build_dir, NULL);
	if (!from)
		return -errno;
	to = realpath(copy, NULL);
	if (!to)
		return -errno;
	return rebase_dir(tools, from, to, 0);
}

static int setup_trees(struct run *run, const struct touched_set *set, char *reterr,
		       size_t errsize)
{
	const struct patch_analyse_options *o = run->o;
	const char *scratch[] = { "shadow", "orig-obj", "patched-obj", "orig", "patched" };
	char *cp_orig[] = { (char *)"cp", (char *)"-a", (char *)o->build_dir, run->orig_obj, NULL };
	char *cp[] = { (char *)"cp", (char *)"-a", (char *)o->build_dir, run->patched_obj, NULL };
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(scratch); i++) {
		_cleanup_free_ char *p = path_join(o->work_dir, scratch[i]);

		if (!p)
			return -ENOMEM;
		r = rm_rf(p);
		if (r < 0) {
			snprintf(reterr, errsize, "removing '%s': %s", p, strerror(-r));
			return r;
		}
	}
	if (mkdir(run->shadow, 0755) < 0)
		return -errno;
	r = link_entries(o->source_dir, run->shadow);
	if (r < 0) {
		snprintf(reterr, errsize, "linking the source tree into '%s': %s", run->shadow,
			 strerror(-r));
		return r;
	}
	for (size_t i = 0; i < set->n; i++) {
		const char *names[] = { set->v[i].path, set->v[i].old_path };

		for (size_t k = 0; k < ARRAY_SIZE(names); k++) {
			if (!names[k])
				continue;
			r = shadow_materialize(o->source_dir, run->shadow, names[k]);
			if (r < 0) {
				snprintf(reterr, errsize, "copying '%s' into the shadow tree: %s",
					 names[k], strerror(-r));
				return r;
			}
		}
	}
	r = run_child(run, cp_orig, "copying the build tree", false, reterr, errsize);
	if (r < 0)
		return r;
	r = run_child(run, cp, "copying the build tree", false, reterr, errsize);
	if (r < 0)
		return r;
	r = rebase_tools(o->build_dir, run->orig_obj);
	if (r >= 0)
		r = rebase_tools(o->build_dir, run->patched_obj);
	if (r < 0)
		snprintf(reterr, errsize, "rebasing the copied build tree's tools: %s", strerror(-r));
	return r;
}

int patch_analyse(const struct patch_analyse_options *o, struct patch_analysis **ret,
		  char *reterr, size_t errsize)
{
	_cleanup_(touched_set_release) struct touched_set set = { 0 };
	_cleanup_(patch_analysis_freep) struct patch_analysis *a = NULL;
	_cleanup_(run_release) struct run run = { .o = o, .log_fd = -1 };
	struct stat st;
	bool any_change = false, refused = false;
	int r;

	if (!o || strempty(o->source_dir) || strempty(o->build_dir) || strempty(o->work_dir) ||
	    !o->patches || !o->patches[0]) {
		snprintf(reterr, errsize, "patch build: a source tree, a build tree, a work "
			 "directory and at least one patch are required");
		return -EINVAL;
	}
	if (stat(o->source_dir, &st) < 0 || !S_ISDIR(st.st_mode) ||
	    stat(o->build_dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(reterr, errsize, "patch build: no source tree '%s' or build tree '%s'",
			 o->source_dir, o->build_dir);
		return -ENOENT;
	}
	r = read_patches(o, &set, reterr, errsize);
	if (r < 0)
		return r;

	r = mkdir_p(o->work_dir, 0755);
	if (r < 0) {
		snprintf(reterr, errsize, "creating '%s': %s", o->work_dir, strerror(-r));
		return r;
	}
	run.work_abs = realpath(o->work_dir, NULL);
	if (!run.work_abs) {
		r = -errno;
		snprintf(reterr, errsize, "resolving '%s': %s", o->work_dir, strerror(-r));
		return r;
	}
	run.log_path = path_join(run.work_abs, "build.log");
	run.shadow = path_join(run.work_abs, "shadow");
	run.orig_obj = path_join(run.work_abs, "orig-obj");
	run.patched_obj = path_join(run.work_abs, "patched-obj");
	if (!run.log_path || !run.shadow || !run.orig_obj || !run.patched_obj)
		return -ENOMEM;
	run.deadline = child_deadline(o->timeout_s);
	if (o->jobs)
		snprintf(run.jobs, sizeof(run.jobs), "-j%u", o->jobs);
	run.log_fd = open(run.log_path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (run.log_fd < 0) {
		r = -errno;
		snprintf(reterr, errsize, "creating '%s': %s", run.log_path, strerror(-r));
		return r;
	}

	r = setup_trees(&run, &set, reterr, errsize);
	if (r < 0)
		return r;
	for (size_t i = 0; o->patches[i]; i++) {
		r = apply_patch(&run, o->patches[i], reterr, errsize);
		if (r < 0)
			return r;
	}

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->ignored = calloc(1, sizeof(char *));
	a->files = calloc(set.n, sizeof(*a->files));
	if (!a->ignored || (set.n && !a->files))
		return -ENOMEM;
	for (size_t i = 0; i < set.n; i++) {
		struct patch_file_analysis *f;
		const char *reason;
		enum file_kind kind = classify(&set.v[i], &reason);

		if (kind == FILE_IGNORED) {
			r = strv_push(&a->ignored, set.v[i].path);
			if (r < 0)
				return r;
			continue;
		}
		f = &a->files[a->n_files++];
		r = file_init(f, set.v[i].path);
		if (r < 0)
			return r;
		if (kind == FILE_REFUSED)
			r = refuse(f, f->path, reason);
		else
			r = analyse_source(&run, f, reterr, errsize);
		if (r < 0)
			return r;
		refused = refused || f->n_refusals > 0;
		any_change = any_change || f->funcs_changed[0] || f->funcs_new[0] ||
			     f->funcs_removed[0] || f->data_changed[0] || f->data_new[0] ||
			     f->data_removed[0];
	}
	a->livepatchable = any_change && !refused;
	*ret = TAKE_PTR(a);
	return 0;
}

/* ---- JSON ---- */

static json_t *names_json(char *const *v)
{
	json_t *a = json_array();

	if (!a)
		return NULL;
	for (size_t i = 0; v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *file_json(const struct patch_file_analysis *f)
{
	json_t *refusals = json_array(), *j;

	if (!refusals)
		return NULL;
	for (size_t i = 0; i < f->n_refusals; i++)
		if (json_array_append_new(refusals,
					  json_pack("{s:s, s:s}", "what", f->refusals[i].what,
						    "reason", f->refusals[i].reason)) < 0) {
			json_decref(refusals);
			return NULL;
		}
	/* "o" steals each reference, and a NULL one (OOM) fails the whole pack */
	j = json_pack("{s:s, s:s?, s:s?, s:s?, s:s?, s:{s:o, s:o, s:o}, s:{s:o, s:o, s:o}, s:o, "
		      "s:o}",
		      "path", f->path, "object", f->object, "objname", f->objname, "orig_object",
		      f->orig_object, "patched_object", f->patched_object, "functions", "changed",
		      names_json(f->funcs_changed), "new", names_json(f->funcs_new), "removed",
		      names_json(f->funcs_removed), "data", "changed", names_json(f->data_changed),
		      "new", names_json(f->data_new), "removed", names_json(f->data_removed),
		      "line_only", names_json(f->line_only), "refusals", refusals);
	return j;
}

json_t *patch_analysis_to_json(const struct patch_analysis *a)
{
	json_t *files = json_array();

	if (!files)
		return NULL;
	for (size_t i = 0; i < a->n_files; i++)
		if (json_array_append_new(files, file_json(&a->files[i])) < 0) {
			json_decref(files);
			return NULL;
		}
	return json_pack("{s:o, s:o, s:b}", "files", files, "ignored", names_json(a->ignored),
			 "livepatchable", a->livepatchable);
}
