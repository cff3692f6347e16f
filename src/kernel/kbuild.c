/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "kbuild.h"
#include "strbuf.h"

struct lexer {
	struct strbuf words; /* the words of the current command, NUL-separated */
	size_t *starts;	     /* offset of each word in words */
	size_t nwords, alloc;
	char **argv; /* built from starts when the command is emitted */
	bool in_word;
};

static void lexer_release(struct lexer *lx)
{
	strbuf_release(&lx->words);
	free(lx->starts);
	free(lx->argv);
}

static int word_begin(struct lexer *lx)
{
	if (lx->in_word)
		return 0;
	if (lx->nwords == lx->alloc) {
		size_t n = lx->alloc ? lx->alloc * 2 : 64;
		size_t *s = realloc(lx->starts, n * sizeof(*s));

		if (!s)
			return -ENOMEM;
		lx->starts = s;
		lx->alloc = n;
	}
	lx->starts[lx->nwords++] = lx->words.len;
	lx->in_word = true;
	return 0;
}

static int word_end(struct lexer *lx)
{
	if (!lx->in_word)
		return 0;
	lx->in_word = false;
	/* The NUL strbuf keeps after the text becomes part of the buffer as a separator. */
	return strbuf_addch(&lx->words, '\0');
}

static int word_addch(struct lexer *lx, char c)
{
	int r = word_begin(lx);

	return r < 0 ? r : strbuf_addch(&lx->words, c);
}

static int command_end(struct lexer *lx, kbuild_command_fn fn, void *userdata)
{
	char **argv;
	int r;

	r = word_end(lx);
	if (r < 0 || lx->nwords == 0)
		return r;
	argv = realloc(lx->argv, (lx->nwords + 1) * sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	lx->argv = argv;
	for (size_t i = 0; i < lx->nwords; i++)
		argv[i] = lx->words.buf + lx->starts[i];
	argv[lx->nwords] = NULL;
	r = fn(lx->nwords, argv, userdata);
	lx->nwords = 0;
	strbuf_reset(&lx->words);
	return r < 0 ? r : 0;
}

int kbuild_shell_foreach(const char *text, size_t len, kbuild_command_fn fn, void *userdata)
{
	_cleanup_(lexer_release) struct lexer lx = {};
	size_t i = 0;
	int r = 0;

	strbuf_init(&lx.words, 0);
	while (i < len && r >= 0) {
		char c = text[i];

		switch (c) {
		case '\\':
			if (i + 1 < len && text[i + 1] != '\n')
				r = word_addch(&lx, text[i + 1]);
			i += 2;
			break;
		case '\'':
			r = word_begin(&lx);
			for (i++; r >= 0 && i < len && text[i] != '\''; i++)
				r = strbuf_addch(&lx.words, text[i]);
			i++;
			break;
		case '"':
			r = word_begin(&lx);
			for (i++; r >= 0 && i < len && text[i] != '"'; i++) {
				/* Inside double quotes a backslash escapes only these. */
				if (text[i] == '\\' && i + 1 < len && text[i + 1] &&
				    strchr("$`\"\\\n", text[i + 1])) {
					i++;
					if (text[i] == '\n')
						continue;
				}
				r = strbuf_addch(&lx.words, text[i]);
			}
			i++;
			break;
		case ' ':
		case '\t':
		case '\r':
			r = word_end(&lx);
			i++;
			break;
		case '#':
			if (lx.in_word) {
				r = word_addch(&lx, c);
				i++;
				break;
			}
			/* A comment runs to the end of the line. */
			while (i < len && text[i] != '\n')
				i++;
			break;
		case '\n':
		case ';':
		case '&':
		case '|':
		case '(':
		case ')':
			r = command_end(&lx, fn, userdata);
			i++;
			break;
		default:
			r = word_addch(&lx, c);
			i++;
			break;
		}
	}
	if (r >= 0)
		r = command_end(&lx, fn, userdata);
	return r;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* gcc, cc, clang, x86_64-linux-gnu-gcc-12, clang-15, aarch64-linux-gnu-gcc ... */
static bool is_compiler(const char *word)
{
	const char *b = base_name(word);
	size_t n = strlen(b);
	char name[256];

	if (n == 0 || n >= sizeof(name))
		return false;
	memcpy(name, b, n + 1);
	/* Strip a version suffix: "-12", "-12.2", "-15". */
	{
		size_t k = n;

		while (k > 0 && ((name[k - 1] >= '0' && name[k - 1] <= '9') || name[k - 1] == '.'))
			k--;
		if (k > 0 && k < n && name[k - 1] == '-')
			name[k - 1] = '\0';
	}
	return streq(name, "cc") || ends_with(name, "-cc") || ends_with(name, "gcc") ||
	       ends_with(name, "clang");
}

static bool is_wrapper(const char *word)
{
	static const char *const wrappers[] = { "ccache", "distcc", "sccache", "icecc", "env" };
	const char *b = base_name(word);

	for (size_t i = 0; i < ARRAY_SIZE(wrappers); i++)
		if (streq(b, wrappers[i]))
			return true;
	return false;
}

static bool is_assignment(const char *word)
{
	const char *eq = strchr(word, '=');

	if (!eq || eq == word ||
	    !((word[0] >= 'A' && word[0] <= 'Z') || (word[0] >= 'a' && word[0] <= 'z') ||
	      word[0] == '_'))
		return false;
	for (const char *p = word; p < eq; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	return true;
}

static bool has_source_ext(const char *word)
{
	return ends_with(word, ".c") || ends_with(word, ".S") || ends_with(word, ".s");
}

/* Options whose argument is the next word when not attached. */
static bool takes_separate_arg(const char *opt)
{
	static const char *const opts[] = {
		"-I",	    "-D",      "-U",	     "-include",    "-imacros",
		"-isystem", "-iquote", "-idirafter", "-MF",	    "-MT",
		"-MQ",	    "-x",      "--param",    "-Xassembler", "-Xpreprocessor",
		"-Xlinker", "-L",      "-T",	     "-aux-info",   "-isysroot",
	};

	for (size_t i = 0; i < ARRAY_SIZE(opts); i++)
		if (streq(opt, opts[i]))
			return true;
	return false;
}

static const char kconfig_h_suffix[] = "include/linux/kconfig.h";

bool kbuild_compile_parse(size_t argc, char **argv, struct kbuild_compile *ret)
{
	struct kbuild_compile c = {};
	bool has_c = false;
	size_t i = 0;

	while (i < argc && (is_assignment(argv[i]) || is_wrapper(argv[i])))
		i++;
	if (i >= argc || !is_compiler(argv[i]))
		return false;
	for (i++; i < argc; i++) {
		const char *a = argv[i];

		if (streq(a, "-c")) {
			has_c = true;
		} else if (streq(a, "-o")) {
			if (i + 1 < argc)
				c.output = argv[++i];
		} else if (streq(a, "-DMODULE")) {
			c.module = true;
		} else if (streq(a, "-D__KERNEL__")) {
			c.kernel = true;
		} else if (streq(a, "-include")) {
			if (i + 1 < argc && ends_with(argv[i + 1], kconfig_h_suffix))
				c.kconfig_h = argv[i + 1];
			i++;
		} else if (streq(a, "-D") && i + 1 < argc) {
			i++;
			c.module |= streq(argv[i], "MODULE");
			c.kernel |= streq(argv[i], "__KERNEL__");
		} else if (takes_separate_arg(a)) {
			i++;
		} else if (a[0] != '-' && has_source_ext(a)) {
			c.source = a;
		}
	}
	if (!has_c || !c.source)
		return false;
	*ret = c;
	return true;
}

char *kbuild_srctree_from_kconfig_h(const char *arg)
{
	size_t n = strlen(arg), k = strlen(kconfig_h_suffix);

	if (!ends_with(arg, kconfig_h_suffix) || (n > k && arg[n - k - 1] != '/'))
		return NULL;
	if (n == k)
		return strdup(".");
	if (n - k - 1 == 0)
		return strdup("/");
	return strndup(arg, n - k - 1);
}

char *kbuild_srctree_from_header(const char *path)
{
	static const char marker[] = "/include/linux/";
	const char *m;

	if (strncmp(path, marker + 1, strlen(marker) - 1) == 0)
		return strdup(".");
	m = strstr(path, marker);
	if (!m)
		return NULL;
	if (m == path)
		return strdup("/");
	return strndup(path, (size_t)(m - path));
}

bool kbuild_is_source(const char *path)
{
	return has_source_ext(path);
}

bool kbuild_source_wanted(const char *tree_path)
{
	if (strncmp(tree_path, "scripts/", 8) == 0 || strncmp(tree_path, "tools/", 6) == 0)
		return false;
	if (ends_with(tree_path, ".mod.c"))
		return false;
	return base_name(tree_path)[0] != '.';
}

char *kbuild_path_normalize(const char *base, const char *path)
{
	_cleanup_free_ char *joined = NULL;
	const char *src;
	char *out, *dst, *keep;
	bool absolute;

	if (path[0] == '/' || !base || !*base) {
		src = path;
	} else {
		if (asprintf(&joined, "%s/%s", base, path) < 0)
			return NULL;
		src = joined;
	}
	absolute = src[0] == '/';
	out = malloc(strlen(src) + 2);
	if (!out)
		return NULL;
	dst = out;
	if (absolute)
		*dst++ = '/';
	/* Components before keep stay: the root, or the leading "../" of a relative path. */
	keep = dst;
	while (*src) {
		size_t n;

		while (*src == '/')
			src++;
		n = strcspn(src, "/");
		if (n == 0)
			break;
		if (n == 1 && src[0] == '.') {
			src += 1;
			continue;
		}
		if (n == 2 && src[0] == '.' && src[1] == '.') {
			src += 2;
			if (dst > keep) {
				dst--;
				while (dst > keep && dst[-1] != '/')
					dst--;
			} else if (!absolute) {
				memcpy(dst, "../", 3);
				dst += 3;
				keep = dst;
			}
			continue;
		}
		memcpy(dst, src, n);
		dst += n;
		*dst++ = '/';
		src += n;
	}
	if (dst > out + (absolute ? 1 : 0))
		dst--; /* the trailing '/' */
	*dst = '\0';
	if (!*out) {
		out[0] = '.';
		out[1] = '\0';
	}
	return out;
}

int kbuild_roots_add(struct kbuild_roots *r, const char *dir)
{
	char *norm;
	size_t i;

	if (!dir || dir[0] != '/')
		return -EINVAL;
	norm = kbuild_path_normalize(NULL, dir);
	if (!norm)
		return -ENOMEM;
	for (i = 0; i < r->n; i++)
		if (streq(r->root[i], norm)) {
			free(norm);
			return 0;
		}
	if (r->n == KBUILD_MAX_ROOTS) {
		free(norm);
		return -E2BIG;
	}
	/* Longest first, so a build tree inside the source tree wins for its own files. */
	for (i = r->n; i > 0 && strlen(r->root[i - 1]) < strlen(norm); i--)
		r->root[i] = r->root[i - 1];
	r->root[i] = norm;
	r->n++;
	return 0;
}

void kbuild_roots_release(struct kbuild_roots *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->root[i]);
	r->n = 0;
}

int kbuild_relativize(const struct kbuild_roots *r, const char *base, const char *path, char **ret)
{
	_cleanup_free_ char *norm = NULL;

	if (path[0] != '/' && (!base || base[0] != '/')) {
		norm = kbuild_path_normalize(base, path);
		if (!norm)
			return -ENOMEM;
		if (streq(norm, ".") || streq(norm, "..") || strncmp(norm, "../", 3) == 0)
			return 0;
		*ret = TAKE_PTR(norm);
		return 1;
	}
	norm = kbuild_path_normalize(base, path);
	if (!norm)
		return -ENOMEM;
	for (size_t i = 0; r && i < r->n; i++) {
		const char *root = r->root[i];
		size_t n = streq(root, "/") ? 0 : strlen(root);
		char *rest;

		if (strncmp(norm, root, n) != 0 || norm[n] != '/' || norm[n + 1] == '\0')
			continue;
		rest = strdup(norm + n + 1);
		if (!rest)
			return -ENOMEM;
		*ret = rest;
		return 1;
	}
	return 0;
}
