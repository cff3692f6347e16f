/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "child.h"
#include "digest.h"
#include "fileio.h"
#include "kconfig.h"
#include "lock.h"
#include "log.h"
#include "parse-util.h"
#include "prepare.h"
#include "strbuf.h"

/* Largest prepare.json read back (a few KiB normally; config_changes can list many). */
#define STATE_MAX_SIZE (4u * 1024 * 1024)
/* Bound on "CC --version" output and time: it prints a few lines at once. */
#define CC_VERSION_MAX_OUTPUT (64u * 1024)
#define CC_VERSION_TIMEOUT_S 60
/* How many changed options an error message lists before "and N more". */
#define CHANGES_IN_MESSAGE 8

static const char placeholder_text[] = "The real System.map is in";
static const char no_symbol_table[] =
	"no symbol table: install linux-image-%s-dbg or give --kallsyms FILE";

int prepare_needs_kallsyms(const struct kernel_entry *k)
{
	_cleanup_close_ int fd = -1;
	char buf[4096];
	ssize_t n;

	if (!k->system_map)
		return 1;
	fd = open(k->system_map, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf));
	if (n < 0)
		return -errno;
	/* Only the placeholder is that short; a real map is megabytes. */
	return (size_t)n < sizeof(buf) && memmem(buf, (size_t)n, placeholder_text,
						  strlen(placeholder_text));
}

void prepare_result_release(struct prepare_result *r)
{
	if (!r)
		return;
	free(r->dir);
	free(r->build_dir);
	free(r->state_path);
	free(r->log_path);
	free(r->cc);
	free(r->cc_version);
	strv_free(r->make_args);
	free(r->symvers_path);
	free(r->symbol_table);
	free(r->symbol_table_kind);
	free(r->symbol_table_source);
	free(r->symbol_table_note);
	strv_free(r->config_changes);
	strv_free(r->warnings);
	*r = (struct prepare_result){ 0 };
}

static void jsonp(json_t **j)
{
	json_decref(*j);
}

/* The name becomes a directory under DATA/build: one plain component. */
static bool kernel_name_ok(const char *name)
{
	if (strempty(name) || name[0] == '.' || strlen(name) > NAME_MAX - 16)
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || iscntrl((unsigned char)*p))
			return false;
	return true;
}

/* An input file of the target (Module.symvers, System.map, kallsyms), read whole. */
struct target_file {
	const char *kind; /* "Module.symvers", "System.map", "kallsyms" */
	const char *source;
	char *data;
	size_t len;
	char sha256[65];
};

static void target_file_release(struct target_file *f)
{
	free(f->data);
}

static int target_file_read(struct target_file *f, const char *kind, const char *path,
			    char *reterr, size_t errsize)
{
	int r;

	*f = (struct target_file){ .kind = kind, .source = path };
	r = read_file_bounded(path, PREPARE_MAX_SYMBOL_FILE, &f->data, &f->len);
	if (r == -EFBIG) {
		snprintf(reterr, errsize, "%s '%s': larger than %u bytes", kind, path,
			 PREPARE_MAX_SYMBOL_FILE);
		return r;
	}
	if (r < 0) {
		snprintf(reterr, errsize, "cannot read %s '%s': %s", kind, path, strerror(-r));
		return r;
	}
	return digest_sha256(f->data, f->len, f->sha256);
}

static int line_error(char *reterr, size_t errsize, const struct target_file *f, size_t line_no,
		      const char *what)
{
	return parse_error(reterr, errsize, "%s '%s': line %zu: %s", f->kind, f->source, line_no,
			   what);
}

/* "0x1a2b3c4d\tsymbol\tmodule\tEXPORT_SYMBOL[_GPL]\t[namespace]" per line. */
static int symvers_check(const struct target_file *f, char *reterr, size_t errsize)
{
	size_t line_no = 0, symbols = 0;

	for (size_t i = 0; i < f->len;) {
		const char *s = f->data + i, *nl = memchr(s, '\n', f->len - i);
		size_t n = nl ? (size_t)(nl - s) : f->len - i, tabs = 0, digits = 0;

		i += n + 1;
		line_no++;
		if (n == 0)
			continue;
		if (n < 3 || s[0] != '0' || s[1] != 'x')
			return line_error(reterr, errsize, f, line_no, "expected a 0x CRC");
		while (2 + digits < n && isxdigit((unsigned char)s[2 + digits]))
			digits++;
		if (digits == 0 || digits > 8 || 2 + digits >= n || s[2 + digits] != '\t')
			return line_error(reterr, errsize, f, line_no, "expected a 0x CRC");
		for (size_t j = 0; j < n; j++)
			tabs += s[j] == '\t';
		if (tabs < 3)
			return line_error(reterr, errsize, f, line_no,
					  "expected CRC, symbol, module and export type");
		symbols++;
	}
	if (symbols == 0)
		return parse_error(reterr, errsize, "%s '%s': no symbols", f->kind, f->source);
	return 0;
}

/*
 * "ADDRESS TYPE NAME" per line, kallsyms adding "\t[module]".  Returns 1 for
 * Debian's placeholder System.map, whose single line would otherwise parse.
 */
static int symbol_table_check(const struct target_file *f, char *reterr, size_t errsize)
{
	size_t line_no = 0, symbols = 0, nonzero = 0;

	if (f->len < 4096 && memmem(f->data, f->len, placeholder_text, strlen(placeholder_text)))
		return 1;
	for (size_t i = 0; i < f->len;) {
		const char *s = f->data + i, *nl = memchr(s, '\n', f->len - i);
		size_t n = nl ? (size_t)(nl - s) : f->len - i, a = 0, name_end;
		bool zero = true;

		i += n + 1;
		line_no++;
		if (n == 0)
			continue;
		while (a < n && isxdigit((unsigned char)s[a])) {
			zero = zero && s[a] == '0';
			a++;
		}
		if (a == 0 || a > 16 || a + 3 > n || s[a] != ' ' || !isalpha((unsigned char)s[a + 1]) ||
		    s[a + 2] != ' ')
			return line_error(reterr, errsize, f, line_no, "expected 'ADDRESS TYPE NAME'");
		name_end = a + 3;
		while (name_end < n && s[name_end] != ' ' && s[name_end] != '\t')
			name_end++;
		if (name_end == a + 3 ||
		    (name_end < n && (s[name_end] != '\t' || s[name_end + 1] != '[' || s[n - 1] != ']')))
			return line_error(reterr, errsize, f, line_no, "expected 'ADDRESS TYPE NAME'");
		symbols++;
		nonzero += !zero;
	}
	if (symbols == 0)
		return parse_error(reterr, errsize, "%s '%s': no symbols", f->kind, f->source);
	if (nonzero == 0)
		return parse_error(reterr, errsize,
				   "%s '%s': every address is zero (read /proc/kallsyms as root)",
				   f->kind, f->source);
	return 0;
}

/* First line of "CC --version", with '#' removed as kbuild does. */
static int cc_version_text(const char *cc, char **ret, char *reterr, size_t errsize)
{
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *out = NULL, *copy = strdup(cc);
	char *word, *save = NULL, *nl, *w;
	int status = 0, r;

	if (!copy)
		return -ENOMEM;
	/* kbuild runs "$(CC) --version" through the shell: "ccache gcc" is two words. */
	for (word = strtok_r(copy, " \t", &save); word; word = strtok_r(NULL, " \t", &save)) {
		r = strv_push(&argv, word);
		if (r < 0)
			return r;
	}
	if (!argv) {
		snprintf(reterr, errsize, "compiler check: empty CC");
		return -EINVAL;
	}
	r = strv_push(&argv, "--version");
	if (r < 0)
		return r;
	r = child_run_capture(argv, CC_VERSION_MAX_OUTPUT, child_deadline(CC_VERSION_TIMEOUT_S),
			      &out, &status);
	if (r < 0 || status != 0) {
		if (r == 0)
			r = -EIO;
		snprintf(reterr, errsize, "compiler check: cannot run '%s --version': %s", cc,
			 r == -EIO ? "it failed" : strerror(-r));
		return r;
	}
	nl = strchr(out, '\n');
	if (nl)
		*nl = '\0';
	for (w = out; *out && (w = strchr(w, '#'));)
		memmove(w, w + 1, strlen(w));
	*ret = TAKE_PTR(out);
	return 0;
}

/* Same text, or the same but for the program's name ("gcc" for "gcc-12"). */
static bool cc_same(const char *a, const char *b, bool *ret_renamed)
{
	const char *ra = strchr(a, ' '), *rb = strchr(b, ' ');

	*ret_renamed = false;
	if (streq(a, b))
		return true;
	if (!ra || !rb || !streq(ra, rb) || strlen(ra) < 4)
		return false;
	*ret_renamed = true;
	return true;
}

/* The first word of the config's text when it is a program in PATH ("gcc-12"). */
static char *cc_from_config(const char *text)
{
	_cleanup_free_ char *name = NULL, *path = NULL;
	const char *sp = strchr(text, ' ');
	char *save = NULL;

	if (!sp || sp == text)
		return NULL;
	name = strndup(text, (size_t)(sp - text));
	if (!name)
		return NULL;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._+-", *p))
			return NULL;
	path = strdup(getenv("PATH") ?: "/usr/bin:/bin");
	if (!path)
		return NULL;
	for (char *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		_cleanup_free_ char *exe = path_join(d, name);

		if (exe && access(exe, X_OK) == 0)
			return TAKE_PTR(name);
	}
	return NULL;
}

struct compiler {
	char *cc;
	char *version;
	bool mismatch;
	bool renamed; /* the same compiler under another name: CONFIG_CC_VERSION_TEXT changes */
};

static void compiler_release(struct compiler *c)
{
	free(c->cc);
	free(c->version);
}

static int compiler_check(const struct kconfig *config, bool force, struct compiler *ret,
			  char *reterr, size_t errsize)
{
	const char *want = kconfig_cc_version_text(config), *env = getenv("CC");
	_cleanup_free_ char *cc = NULL, *text = NULL;
	int r;

	if (!strempty(env)) {
		cc = strdup(env);
	} else if (want && (cc = cc_from_config(want))) {
		/* Debian builds with CC=gcc-12: use that name when it is the same compiler. */
		r = cc_version_text(cc, &text, reterr, errsize);
		if (r < 0 || !streq(text, want)) {
			free(TAKE_PTR(cc));
			free(TAKE_PTR(text));
		}
	}
	if (!cc)
		cc = strdup("gcc");
	if (!cc)
		return -ENOMEM;
	if (!text) {
		r = cc_version_text(cc, &text, reterr, errsize);
		if (r < 0)
			return r;
	}
	*ret = (struct compiler){ .cc = TAKE_PTR(cc), .version = TAKE_PTR(text) };
	if (want && cc_same(want, ret->version, &ret->renamed))
		return 0;
	ret->mismatch = true;
	if (force)
		return 0;
	if (!want)
		snprintf(reterr, errsize,
			 "compiler check: the config has no CONFIG_CC_VERSION_TEXT, cannot tell "
			 "whether '%s' (%s) built the kernel",
			 ret->cc, ret->version);
	else
		snprintf(reterr, errsize,
			 "compiler mismatch: the kernel was built by '%s', CC '%s' is '%s'", want,
			 ret->cc, ret->version);
	compiler_release(ret);
	*ret = (struct compiler){ 0 };
	return -EPROTO;
}

static int strv_sort_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Build-only options Debian deletes from the config it installs in /boot
 * (signing key, trusted keys, build salt: paths and keys of its build
 * machine), so olddefconfig brings them back with their defaults.  When the
 * given config lacks them, that is not drift; a value it does give is
 * compared as any other.
 */
static const char *const stripped_options[] = {
	"CONFIG_BUILD_SALT",
	"CONFIG_MODULE_SIG_ALL",
	"CONFIG_MODULE_SIG_KEY",
	"CONFIG_SYSTEM_TRUSTED_KEYS",
};

static bool stripped_option(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(stripped_options); i++)
		if (streq(name, stripped_options[i]))
			return true;
	return false;
}

/* A symbol "is not set" and one kconfig did not write at all are the same setting. */
static const char *value_or_n(const char *v)
{
	return v ? v : "n";
}

/*
 * Options whose value differs between the config given and the one
 * olddefconfig wrote, as "CONFIG_X: old -> new", sorted; stripped options
 * that came back go to *warnings as "CONFIG_X=value".
 */
static int config_diff(const struct kconfig *before, const struct kconfig *after,
		       bool ignore_cc_text, char ***ret, char ***warnings)
{
	_cleanup_strbuf_ struct strbuf restored;
	_cleanup_strv_free_ char **changes = NULL;
	const char *name, *value;
	size_t state = 0;
	int r;

	strbuf_init(&restored, 0);
	while ((name = kconfig_next(before, &state, &value))) {
		const char *now = kconfig_get(after, name);
		char *line;

		if (ignore_cc_text && streq(name, "CONFIG_CC_VERSION_TEXT"))
			continue;
		if (streq(value_or_n(now), value))
			continue;
		if (asprintf(&line, "%s: %s -> %s", name, value, now ? now : "(gone)") < 0)
			return -ENOMEM;
		r = strv_consume(&changes, line);
		if (r < 0)
			return r;
	}
	state = 0;
	while ((name = kconfig_next(after, &state, &value))) {
		char *line;

		if (kconfig_get(before, name) || streq(value, "n"))
			continue;
		if (stripped_option(name)) {
			r = strbuf_addf(&restored, "%s%s=%s", restored.len ? ", " : "", name, value);
			if (r < 0)
				return r;
			continue;
		}
		if (asprintf(&line, "%s: (new) -> %s", name, value) < 0)
			return -ENOMEM;
		r = strv_consume(&changes, line);
		if (r < 0)
			return r;
	}
	if (restored.len) {
		char *w;

		if (asprintf(&w, "options missing from the config took kbuild's defaults (the "
				 "distribution strips them): %s", restored.buf) < 0)
			return -ENOMEM;
		r = strv_consume(warnings, w);
		if (r < 0)
			return r;
	}
	if (changes)
		qsort(changes, strv_length(changes), sizeof(*changes), strv_sort_cmp);
	else if (!(changes = calloc(1, sizeof(*changes))))
		return -ENOMEM;
	*ret = TAKE_PTR(changes);
	return 0;
}

static void changes_message(char *const *changes, char *reterr, size_t errsize)
{
	_cleanup_strbuf_ struct strbuf sb;
	size_t n = strv_length(changes);

	strbuf_init(&sb, 0);
	strbuf_addf(&sb,
		    "make olddefconfig changed %zu option%s of the kernel's config (the source or "
		    "toolchain does not match the target): ",
		    n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && i < CHANGES_IN_MESSAGE; i++)
		strbuf_addf(&sb, "%s%s", i ? ", " : "", changes[i]);
	if (n > CHANGES_IN_MESSAGE)
		strbuf_addf(&sb, " and %zu more", n - CHANGES_IN_MESSAGE);
	snprintf(reterr, errsize, "%s", sb.buf);
}

/* Everything a preparation depends on; equal inputs mean the tree can be reused. */
struct inputs {
	const struct kernel_entry *k;
	const struct prepare_options *o;
	struct kconfig *config;
	const char *config_text;
	char config_hash[65];
	char source_dir[PATH_MAX]; /* resolved */
	struct compiler cc;
	char **make_args;
	struct target_file symvers;   /* .data NULL: none */
	struct target_file symtab;    /* .data NULL: none */
	char *symtab_note;
	char **warnings;
	char *dir, *obj, *target, *state_path, *log_path;
};

static void inputs_release(struct inputs *in)
{
	kconfig_free(in->config);
	compiler_release(&in->cc);
	strv_free(in->make_args);
	target_file_release(&in->symvers);
	target_file_release(&in->symtab);
	free(in->symtab_note);
	strv_free(in->warnings);
	free(in->dir);
	free(in->obj);
	free(in->target);
	free(in->state_path);
	free(in->log_path);
}

static json_t *target_file_json(const struct target_file *f, const char *copy)
{
	if (!f->data)
		return json_null();
	return json_pack("{s:s, s:s, s:s, s:s}", "kind", f->kind, "source", f->source, "path", copy,
			 "sha256", f->sha256);
}

static json_t *strv_json(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; a && v && v[i]; i++)
		if (json_array_append_new(a, json_string(v[i])) < 0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static char *target_copy_path(const struct inputs *in, const struct target_file *f)
{
	return f->data ? path_join(in->target, f->kind) : NULL;
}

static int state_write(const struct inputs *in, const char *dotconfig_hash, char *const *changes)
{
	_cleanup_free_ char *symvers_copy = target_copy_path(in, &in->symvers),
			    *symtab_copy = target_copy_path(in, &in->symtab), *text = NULL;
	_cleanup_(jsonp) json_t *j = NULL;
	char now[32];

	format_timestamp((int64_t)time(NULL), now, sizeof(now));
	j = json_pack("{s:i, s:s, s:s?, s:s?, s:s?, s:s, s:s, s:s, s:s, s:b, s:s, s:s, s:o, s:o, "
		      "s:o, s:o, s:s?, s:s, s:o}",
		      "format", PREPARE_STATE_FORMAT, "kernel", in->k->name, "release",
		      in->k->release, "version", in->k->version, "arch",
		      kconfig_srcarch(in->config), "source_dir", in->source_dir, "build_dir",
		      in->obj, "cc", in->cc.cc, "cc_version", in->cc.version, "cc_mismatch",
		      in->cc.mismatch, "config_hash", in->config_hash, "dotconfig_hash",
		      dotconfig_hash, "config_changes", strv_json(changes), "make_args",
		      strv_json(in->make_args), "symvers", target_file_json(&in->symvers, symvers_copy),
		      "symbol_table", target_file_json(&in->symtab, symtab_copy),
		      "symbol_table_note", in->symtab_note, "prepared_at", now, "warnings",
		      strv_json(in->warnings));
	if (!j)
		return -ENOMEM;
	text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return -ENOMEM;
	return write_file_atomic(in->state_path, text, strlen(text), 0644);
}

static bool json_str_eq(const json_t *j, const char *key, const char *want)
{
	const char *s = json_string_value(json_object_get(j, key));

	if (!want)
		return json_is_null(json_object_get(j, key)) || !json_object_get(j, key);
	return s && streq(s, want);
}

static bool json_file_eq(const json_t *j, const char *key, const struct target_file *f)
{
	const json_t *o = json_object_get(j, key);

	if (!f->data)
		return json_is_null(o);
	return json_is_object(o) && json_str_eq(o, "kind", f->kind) &&
	       json_str_eq(o, "sha256", f->sha256);
}

static bool json_strv_eq(const json_t *a, char *const *v)
{
	size_t n = strv_length(v);

	if (!json_is_array(a) || json_array_size(a) != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (!s || !streq(s, v[i]))
			return false;
	}
	return true;
}

static char **json_to_strv(const json_t *a)
{
	char **v = calloc(1, sizeof(*v));

	for (size_t i = 0; v && i < json_array_size(a); i++) {
		const char *s = json_string_value(json_array_get(a, i));

		if (s && strv_push(&v, s) < 0)
			return strv_free(v);
	}
	return v;
}

/*
 * 1 and the recorded config changes when the state in the directory was
 * made from exactly these inputs and its obj/.config is intact; 2 (and the
 * .config's hash) when only the symbol table differs, which needs no make;
 * 0 when it must be redone.
 */
static int state_fresh(const struct inputs *in, char ***ret_changes, char ***ret_warnings,
		       char ret_dotconfig_hash[static 65])
{
	_cleanup_(jsonp) json_t *j = NULL;
	_cleanup_free_ char *text = NULL, *dotconfig = NULL, *dotconfig_path = NULL;
	size_t len, dlen;
	char hash[65];
	int r;

	r = read_file_bounded(in->state_path, STATE_MAX_SIZE, &text, &len);
	if (r < 0)
		return 0;
	j = json_loadb(text, len, 0, NULL);
	if (!json_is_object(j))
		return 0;
	if (json_integer_value(json_object_get(j, "format")) != PREPARE_STATE_FORMAT ||
	    !json_str_eq(j, "kernel", in->k->name) || !json_str_eq(j, "release", in->k->release) ||
	    !json_str_eq(j, "version", in->k->version) ||
	    !json_str_eq(j, "source_dir", in->source_dir) || !json_str_eq(j, "build_dir", in->obj) ||
	    !json_str_eq(j, "cc", in->cc.cc) || !json_str_eq(j, "cc_version", in->cc.version) ||
	    !json_str_eq(j, "config_hash", in->config_hash) ||
	    !json_strv_eq(json_object_get(j, "make_args"), in->make_args) ||
	    !json_file_eq(j, "symvers", &in->symvers) ||
	    !json_is_array(json_object_get(j, "config_changes")) ||
	    !json_is_array(json_object_get(j, "warnings")))
		return 0;
	dotconfig_path = path_join(in->obj, ".config");
	if (!dotconfig_path)
		return -ENOMEM;
	if (read_file_bounded(dotconfig_path, KCONFIG_MAX_SIZE, &dotconfig, &dlen) < 0 ||
	    digest_sha256(dotconfig, dlen, hash) < 0 || !json_str_eq(j, "dotconfig_hash", hash))
		return 0;
	*ret_changes = json_to_strv(json_object_get(j, "config_changes"));
	*ret_warnings = json_to_strv(json_object_get(j, "warnings"));
	if (!*ret_changes || !*ret_warnings) {
		*ret_changes = strv_free(*ret_changes);
		*ret_warnings = strv_free(*ret_warnings);
		return -ENOMEM;
	}
	memcpy(ret_dotconfig_hash, hash, sizeof(hash));
	return json_file_eq(j, "symbol_table", &in->symtab) ? 1 : 2;
}

/* One "make -C SRC O=OBJ ARGS... TARGET" with its output appended to the log. */
static int run_step(const struct inputs *in, const char *jobs, const char *target, int log_fd,
		    int64_t deadline, char *reterr, size_t errsize)
{
	_cleanup_strv_free_ char **argv = NULL;
	_cleanup_free_ char *odir = NULL, *step = NULL;
	int r;

	if (asprintf(&odir, "O=%s", in->obj) < 0) {
		odir = NULL;
		return -ENOMEM;
	}
	if (asprintf(&step, "make %s", target) < 0) {
		step = NULL;
		return -ENOMEM;
	}
	if ((r = strv_push(&argv, "make")) < 0 || (r = strv_push(&argv, "-C")) < 0 ||
	    (r = strv_push(&argv, in->source_dir)) < 0 || (r = strv_push(&argv, odir)) < 0)
		return r;
	for (size_t i = 0; in->make_args[i]; i++)
		if ((r = strv_push(&argv, in->make_args[i])) < 0)
			return r;
	if ((jobs && (r = strv_push(&argv, jobs)) < 0) || (r = strv_push(&argv, target)) < 0)
		return r;

	log_debug("prepare: %s", step);
	return child_run_step(&(struct child_log){ .fd = log_fd, .path = in->log_path,
						   .deadline_ms = deadline,
						   .timeout_s = in->o->timeout_s },
			      argv, step, false, reterr, errsize);
}

static int inputs_init(struct inputs *in, const struct kernel_entry *k, const char *config_text,
		       const struct prepare_options *o, char *reterr, size_t errsize)
{
	_cleanup_free_ char *build = NULL, *makefile = NULL;
	const char *srcarch;
	char *arg;
	int r;

	*in = (struct inputs){ .k = k, .o = o };
	if (!o || strempty(o->data_dir) || strempty(o->source_dir)) {
		snprintf(reterr, errsize, "prepare: a data directory and a source tree are required");
		return -EINVAL;
	}
	if (!k || !kernel_name_ok(k->name)) {
		snprintf(reterr, errsize, "prepare: kernel name '%s' cannot name a directory",
			 k && k->name ? k->name : "");
		return -EINVAL;
	}
	in->config_text = config_text ?: k->config;
	if (!in->config_text) {
		snprintf(reterr, errsize, "prepare: kernel '%s' has no config", k->name);
		return -EINVAL;
	}
	r = kconfig_parse(in->config_text, strlen(in->config_text), &in->config, reterr, errsize);
	if (r < 0) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", reterr ? reterr : "");
		snprintf(reterr, errsize, "config of kernel '%s': %s", k->name, msg);
		return r;
	}
	r = digest_sha256(in->config_text, strlen(in->config_text), in->config_hash);
	if (r < 0)
		return r;

	makefile = path_join(o->source_dir, "Makefile");
	if (!makefile)
		return -ENOMEM;
	if (access(makefile, R_OK) < 0 || !realpath(o->source_dir, in->source_dir)) {
		snprintf(reterr, errsize, "'%s' is not a kernel source tree: no Makefile",
			 o->source_dir);
		return -ENOENT;
	}

	build = path_join(o->data_dir, "build");
	if (!build)
		return -ENOMEM;
	in->dir = path_join(build, k->name);
	if (!in->dir || !(in->obj = path_join(in->dir, "obj")) ||
	    !(in->target = path_join(in->dir, "target")) ||
	    !(in->state_path = path_join(in->dir, "prepare.json")) ||
	    !(in->log_path = path_join(in->dir, "prepare.log")))
		return -ENOMEM;

	r = compiler_check(in->config, o->force, &in->cc, reterr, errsize);
	if (r < 0)
		return r;

	in->make_args = calloc(1, sizeof(char *));
	if (!in->make_args)
		return -ENOMEM;
	/* Without ARCH, olddefconfig would re-target a foreign config at the host. */
	srcarch = kconfig_srcarch(in->config);
	if (srcarch) {
		if (asprintf(&arg, "ARCH=%s", srcarch) < 0 || strv_consume(&in->make_args, arg) < 0)
			return -ENOMEM;
	}
	if (asprintf(&arg, "CC=%s", in->cc.cc) < 0 || strv_consume(&in->make_args, arg) < 0)
		return -ENOMEM;
	if (!strempty(k->release) &&
	    (asprintf(&arg, "KERNELRELEASE=%s", k->release) < 0 ||
	     strv_consume(&in->make_args, arg) < 0))
		return -ENOMEM;

	in->warnings = calloc(1, sizeof(char *));
	if (!in->warnings)
		return -ENOMEM;
	if (o->symvers) {
		r = target_file_read(&in->symvers, "Module.symvers", o->symvers, reterr, errsize);
		if (r >= 0)
			r = symvers_check(&in->symvers, reterr, errsize);
		if (r < 0)
			return r;
	} else if (strv_push(&in->warnings, "no Module.symvers: modpost will not know the "
					    "target's CRCs (give the linux-headers package's)") < 0) {
		return -ENOMEM;
	}

	if (k->system_map) {
		r = target_file_read(&in->symtab, "System.map", k->system_map, reterr, errsize);
		if (r >= 0)
			r = symbol_table_check(&in->symtab, reterr, errsize);
		if (r < 0)
			return r;
		if (r == 1) {
			target_file_release(&in->symtab);
			in->symtab = (struct target_file){ 0 };
		} else if (o->kallsyms &&
			   strv_push(&in->warnings,
				     "the kernel has a real System.map, ignoring the kallsyms file") < 0) {
			return -ENOMEM;
		}
	}
	if (!in->symtab.data && o->kallsyms) {
		r = target_file_read(&in->symtab, "kallsyms", o->kallsyms, reterr, errsize);
		if (r >= 0)
			r = symbol_table_check(&in->symtab, reterr, errsize);
		if (r == 1)
			r = parse_error(reterr, errsize, "kallsyms '%s' is a placeholder System.map",
					o->kallsyms);
		if (r < 0)
			return r;
		if (o->kallsyms_source)
			in->symtab.source = o->kallsyms_source;
	}
	if (!in->symtab.data &&
	    asprintf(&in->symtab_note, no_symbol_table, strempty(k->release) ? "REL" : k->release) < 0) {
		in->symtab_note = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int result_fill(struct inputs *in, char **changes, bool cached, struct prepare_result *ret)
{
	struct prepare_result res = {
		.cached = cached,
		.cc_mismatch = in->cc.mismatch,
		.config_changes = changes,
		.make_args = TAKE_PTR(in->make_args),
		.warnings = TAKE_PTR(in->warnings),
		.dir = TAKE_PTR(in->dir),
		.build_dir = TAKE_PTR(in->obj),
		.state_path = TAKE_PTR(in->state_path),
		.log_path = TAKE_PTR(in->log_path),
		.cc = TAKE_PTR(in->cc.cc),
		.cc_version = TAKE_PTR(in->cc.version),
		.symbol_table_note = TAKE_PTR(in->symtab_note),
	};

	if (in->symvers.data)
		res.symvers_path = path_join(in->target, in->symvers.kind);
	if (in->symtab.data) {
		res.symbol_table = path_join(in->target, in->symtab.kind);
		res.symbol_table_kind = strdup(in->symtab.kind);
		res.symbol_table_source = strdup(in->symtab.source);
	}
	if ((in->symvers.data && !res.symvers_path) ||
	    (in->symtab.data &&
	     (!res.symbol_table || !res.symbol_table_kind || !res.symbol_table_source))) {
		prepare_result_release(&res);
		return -ENOMEM;
	}
	*ret = res;
	return 0;
}

static int write_into(const char *dir, const char *name, const char *data, size_t len)
{
	_cleanup_free_ char *p = path_join(dir, name);

	if (!p)
		return -ENOMEM;
	return write_file_atomic(p, data, len, 0644);
}

/* Replaces the symbol table copies of a prepared tree (target/ and obj/System.map). */
static int symtab_replace(const struct inputs *in, char *reterr, size_t errsize)
{
	static const char *const kinds[] = { "System.map", "kallsyms" };
	_cleanup_free_ char *obj_map = path_join(in->obj, "System.map");
	int r;

	if (!obj_map)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		_cleanup_free_ char *p = path_join(in->target, kinds[i]);

		if (!p)
			return -ENOMEM;
		if (unlink(p) < 0 && errno != ENOENT) {
			r = -errno;
			snprintf(reterr, errsize, "cannot remove '%s': %s", p, strerror(-r));
			return r;
		}
	}
	if (unlink(obj_map) < 0 && errno != ENOENT) {
		r = -errno;
		snprintf(reterr, errsize, "cannot remove '%s': %s", obj_map, strerror(-r));
		return r;
	}
	if (!in->symtab.data)
		return 0;
	r = write_into(in->target, in->symtab.kind, in->symtab.data, in->symtab.len);
	if (r >= 0 && streq(in->symtab.kind, "System.map"))
		r = write_into(in->obj, "System.map", in->symtab.data, in->symtab.len);
	if (r < 0)
		snprintf(reterr, errsize, "cannot copy the %s into '%s': %s", in->symtab.kind,
			 in->dir, strerror(-r));
	return r;
}

/* olddefconfig, the drift check, modules_prepare and the target's files; no state. */
static int prepare_tree(struct inputs *in, int64_t deadline, char ***ret_changes,
			char ret_dotconfig_hash[static 65], char *reterr, size_t errsize)
{
	_cleanup_(kconfig_freep) struct kconfig *after = NULL;
	_cleanup_strv_free_ char **changes = NULL;
	_cleanup_free_ char *dotconfig = NULL, *text = NULL;
	_cleanup_close_ int log_fd = -1;
	long ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	char jobs[32];
	size_t len;
	int r;

	r = rm_rf(in->dir);
	if (r < 0) {
		snprintf(reterr, errsize, "cannot remove the old build tree '%s': %s", in->dir,
			 strerror(-r));
		return r;
	}
	if ((r = mkdir_p(in->obj, 0755)) < 0 || (r = mkdir_p(in->target, 0755)) < 0) {
		snprintf(reterr, errsize, "cannot create '%s': %s", in->obj, strerror(-r));
		return r;
	}
	log_fd = open(in->log_path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		r = -errno;
		snprintf(reterr, errsize, "cannot create '%s': %s", in->log_path, strerror(-r));
		return r;
	}
	r = write_into(in->obj, ".config", in->config_text, strlen(in->config_text));
	if (r < 0) {
		snprintf(reterr, errsize, "cannot write '%s/.config': %s", in->obj, strerror(-r));
		return r;
	}

	r = run_step(in, NULL, "olddefconfig", log_fd, deadline, reterr, errsize);
	if (r < 0)
		return r;
	dotconfig = path_join(in->obj, ".config");
	if (!dotconfig)
		return -ENOMEM;
	r = read_file_bounded(dotconfig, KCONFIG_MAX_SIZE, &text, &len);
	if (r < 0) {
		snprintf(reterr, errsize, "make olddefconfig: cannot read '%s': %s", dotconfig,
			 strerror(-r));
		return r;
	}
	r = kconfig_parse(text, len, &after, NULL, 0);
	if (r < 0) {
		snprintf(reterr, errsize, "make olddefconfig: '%s' is not a kernel config",
			 dotconfig);
		return r;
	}
	r = config_diff(in->config, after, in->cc.renamed, &changes, &in->warnings);
	if (r < 0)
		return r;
	if (changes[0] && !in->o->force) {
		changes_message(changes, reterr, errsize);
		return -EPROTO;
	}

	snprintf(jobs, sizeof(jobs), "-j%u",
		 in->o->jobs ? in->o->jobs : (unsigned)(ncpus > 0 ? ncpus : 1));
	r = run_step(in, jobs, "modules_prepare", log_fd, deadline, reterr, errsize);
	if (r < 0)
		return r;

	/* modules_prepare rewrites nothing of .config, but hash what the state vouches for. */
	free(TAKE_PTR(text));
	r = read_file_bounded(dotconfig, KCONFIG_MAX_SIZE, &text, &len);
	if (r < 0)
		return r;
	r = digest_sha256(text, len, ret_dotconfig_hash);
	if (r < 0)
		return r;

	/* modpost takes the CRCs of the kernel's exports from O=/Module.symvers. */
	if (in->symvers.data &&
	    ((r = write_into(in->target, in->symvers.kind, in->symvers.data, in->symvers.len)) < 0 ||
	     (r = write_into(in->obj, "Module.symvers", in->symvers.data, in->symvers.len)) < 0)) {
		snprintf(reterr, errsize, "cannot copy Module.symvers into '%s': %s", in->dir,
			 strerror(-r));
		return r;
	}
	if (in->symtab.data &&
	    ((r = write_into(in->target, in->symtab.kind, in->symtab.data, in->symtab.len)) < 0 ||
	     (streq(in->symtab.kind, "System.map") &&
	      (r = write_into(in->obj, "System.map", in->symtab.data, in->symtab.len)) < 0))) {
		snprintf(reterr, errsize, "cannot copy the %s into '%s': %s", in->symtab.kind,
			 in->dir, strerror(-r));
		return r;
	}
	*ret_changes = TAKE_PTR(changes);
	return 0;
}

int kernel_prepare(const struct kernel_entry *k, const char *config_text,
		   const struct prepare_options *o, struct prepare_result *ret, char *reterr,
		   size_t errsize)
{
	_cleanup_(inputs_release) struct inputs in;
	_cleanup_strv_free_ char **changes = NULL, **warnings = NULL;
	_cleanup_free_ char *build = NULL, *lock_path = NULL;
	_cleanup_close_ int lock_fd = -1;
	char dotconfig_hash[65], msg_buf[1];
	int r;

	/* Every message path below writes reterr; give them somewhere to write. */
	if (!reterr || !errsize) {
		reterr = msg_buf;
		errsize = sizeof(msg_buf);
	}
	reterr[0] = '\0';
	r = inputs_init(&in, k, config_text, o, reterr, errsize);
	if (r < 0)
		return r;

	build = path_join(o->data_dir, "build");
	if (!build || asprintf(&lock_path, "%s/.%s.lock", build, k->name) < 0) {
		lock_path = NULL;
		return -ENOMEM;
	}
	r = mkdir_p(build, 0755);
	if (r < 0) {
		snprintf(reterr, errsize, "cannot create '%s': %s", build, strerror(-r));
		return r;
	}
	lock_fd = lock_file_acquire(lock_path, 1);
	if (lock_fd < 0) {
		snprintf(reterr, errsize, "cannot lock '%s': %s", lock_path, strerror(-lock_fd));
		return lock_fd;
	}

	r = state_fresh(&in, &changes, &warnings, dotconfig_hash);
	if (r < 0)
		return r;
	if (r > 0) {
		/* Including what only the build found out (restored options). */
		strv_free(in.warnings);
		in.warnings = TAKE_PTR(warnings);
		if (changes[0] && !o->force) {
			changes_message(changes, reterr, errsize);
			return -EPROTO;
		}
	}
	if (r == 2) {
		/* Only the symbol table is new: swap it in, the tree stays. */
		log_debug("prepare: '%s' is prepared, replacing its symbol table", in.dir);
		if (unlink(in.state_path) < 0 && errno != ENOENT) {
			r = -errno;
			snprintf(reterr, errsize, "cannot remove '%s': %s", in.state_path,
				 strerror(-r));
			return r;
		}
		r = symtab_replace(&in, reterr, errsize);
		if (r < 0)
			return r;
		r = state_write(&in, dotconfig_hash, changes);
		if (r < 0) {
			snprintf(reterr, errsize, "cannot write '%s': %s", in.state_path,
				 strerror(-r));
			return r;
		}
		return result_fill(&in, TAKE_PTR(changes), true, ret);
	}
	if (r == 1) {
		log_debug("prepare: '%s' is prepared, reusing it", in.dir);
		return result_fill(&in, TAKE_PTR(changes), true, ret);
	}
	changes = strv_free(changes);
	warnings = strv_free(warnings);

	/* The state goes first, so a failure below never leaves one behind. */
	if (unlink(in.state_path) < 0 && errno != ENOENT) {
		r = -errno;
		snprintf(reterr, errsize, "cannot remove '%s': %s", in.state_path, strerror(-r));
		return r;
	}
	r = prepare_tree(&in, child_deadline(o->timeout_s), &changes, dotconfig_hash, reterr,
			 errsize);
	if (r < 0)
		return r;
	r = state_write(&in, dotconfig_hash, changes);
	if (r < 0) {
		snprintf(reterr, errsize, "cannot write '%s': %s", in.state_path, strerror(-r));
		return r;
	}
	return result_fill(&in, TAKE_PTR(changes), false, ret);
}
