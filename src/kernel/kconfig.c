/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <string.h>

#include "fileio.h"
#include "hashmap.h"
#include "kconfig.h"
#include "parse-util.h"
#include "strbuf.h"

struct kconfig {
	struct hashmap *symbols; /* "CONFIG_X" -> owned value string */
};

static const char not_set_prefix[] = "# CONFIG_";
static const char not_set_suffix[] = " is not set";

struct kconfig *kconfig_free(struct kconfig *c)
{
	if (!c)
		return NULL;
	hashmap_free(c->symbols);
	free(c);
	return NULL;
}

static bool is_symbol_char(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '_';
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_xdigit(char ch)
{
	return is_digit(ch) || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* Length of the symbol name starting at s ("CONFIG_" included), 0 when there is none. */
static size_t symbol_len(const char *s, size_t n)
{
	size_t i = strlen("CONFIG_");

	if (n <= i || memcmp(s, "CONFIG_", i) != 0)
		return 0;
	while (i < n && is_symbol_char(s[i]))
		i++;
	return i > strlen("CONFIG_") ? i : 0;
}

/*
 * Unquoted values kconfig writes: tristate, decimal (possibly negative) and hex
 * (kconfig always stores hex with its "0x").  "n" is not written by kconfig but
 * appears in hand-edited fragments and means the same as unset.
 */
static bool valid_bare_value(const char *v, size_t n)
{
	bool hex = false;
	size_t i = 0;

	if (n == 1 && (v[0] == 'y' || v[0] == 'm' || v[0] == 'n'))
		return true;
	if (n > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
		hex = true;
		i = 2;
	} else if (n > 1 && v[0] == '-') {
		i = 1;
	}
	if (i >= n)
		return false;
	for (; i < n; i++)
		if (!(hex ? is_xdigit(v[i]) : is_digit(v[i])))
			return false;
	return true;
}

/* Unescapes the "..." value at v (v[0] == '"'); -EINVAL when unterminated or followed by junk. */
static int unquote(const char *v, size_t n, struct strbuf *out)
{
	size_t i;

	for (i = 1; i < n; i++) {
		if (v[i] == '\\' && i + 1 < n && (v[i + 1] == '"' || v[i + 1] == '\\')) {
			if (strbuf_addch(out, v[++i]) < 0)
				return -ENOMEM;
		} else if (v[i] == '"') {
			break;
		} else if (strbuf_addch(out, v[i]) < 0) {
			return -ENOMEM;
		}
	}
	if (i >= n)
		return -EINVAL;
	for (i++; i < n; i++)
		if (v[i] != ' ' && v[i] != '\t')
			return -EINVAL;
	return 0;
}

static int put_symbol(struct kconfig *c, const char *name, size_t name_len, const char *value,
		      size_t value_len)
{
	_cleanup_free_ char *key = strndup(name, name_len);
	char *v = strndup(value, value_len);
	int r;

	if (!key || !v) {
		free(v);
		return -ENOMEM;
	}
	r = hashmap_put(c->symbols, key, v);
	if (r < 0)
		free(v);
	return r < 0 ? r : 0;
}

static int parse_line(struct kconfig *c, const char *s, size_t n, size_t line_no, bool *ret_symbol,
		      char *reterr, size_t errsize)
{
	size_t sym, i;

	*ret_symbol = false;
	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
			return parse_error(
				reterr, errsize,
				"line %zu: binary data (byte 0x%02x): not a kernel config", line_no,
				(unsigned char)s[i]);
	i = 0;
	while (i < n && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (i == n)
		return 0;
	if (s[0] == '#') {
		size_t pre = strlen(not_set_prefix), suf = strlen(not_set_suffix);

		/* "# CONFIG_X is not set" is a value; every other comment is ignored. */
		if (n > pre + suf && memcmp(s, not_set_prefix, pre) == 0 &&
		    memcmp(s + n - suf, not_set_suffix, suf) == 0) {
			sym = symbol_len(s + 2, n - 2);
			if (sym == n - 2 - suf) {
				*ret_symbol = true;
				return put_symbol(c, s + 2, sym, "n", 1);
			}
		}
		return 0;
	}
	sym = symbol_len(s, n);
	if (sym == 0 || sym >= n || s[sym] != '=')
		return parse_error(
			reterr, errsize,
			"line %zu: expected 'CONFIG_NAME=value', a comment or a blank line: "
			"not a kernel config",
			line_no);
	*ret_symbol = true;
	{
		const char *v = s + sym + 1;
		size_t vn = n - sym - 1;
		_cleanup_strbuf_ struct strbuf sb;
		int r;

		strbuf_init(&sb, 0);
		if (vn > 0 && v[0] == '"') {
			r = unquote(v, vn, &sb);
			if (r == -ENOMEM)
				return r;
			if (r < 0)
				return parse_error(reterr, errsize,
						   "line %zu: unterminated string value of '%.*s'",
						   line_no, (int)sym, s);
			return put_symbol(c, s, sym, sb.buf, sb.len);
		}
		while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
			vn--;
		if (!valid_bare_value(v, vn))
			return parse_error(
				reterr, errsize,
				"line %zu: invalid value '%.*s' of '%.*s' (expected y, m, "
				"a number or a quoted string)",
				line_no, (int)(vn > 40 ? 40 : vn), v, (int)sym, s);
		return put_symbol(c, s, sym, v, vn);
	}
}

int kconfig_parse(const char *buf, size_t len, struct kconfig **ret, char *reterr, size_t errsize)
{
	_cleanup_(kconfig_freep) struct kconfig *c = NULL;
	size_t pos = 0, line_no = 0, symbols = 0;
	int r;

	if (len > KCONFIG_MAX_SIZE) {
		parse_error(reterr, errsize,
			    "config of %zu bytes is larger than the %u bytes allowed", len,
			    KCONFIG_MAX_SIZE);
		return -EFBIG;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->symbols = hashmap_new(free);
	if (!c->symbols)
		return -ENOMEM;
	while (pos < len) {
		const char *s = buf + pos, *nl = memchr(s, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - s) : len - pos;
		bool is_symbol;

		pos += n + (nl ? 1 : 0);
		line_no++;
		if (n > 0 && s[n - 1] == '\r')
			n--;
		r = parse_line(c, s, n, line_no, &is_symbol, reterr, errsize);
		if (r < 0)
			return r;
		symbols += is_symbol;
	}
	if (symbols == 0)
		return parse_error(reterr, errsize,
				   "no CONFIG_ lines in %zu lines read: not a kernel config",
				   line_no);
	*ret = TAKE_PTR(c);
	return 0;
}

int kconfig_read_file(const char *path, struct kconfig **ret, char *reterr, size_t errsize)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	r = read_file_bounded(path, KCONFIG_MAX_SIZE, &buf, &len);
	if (r == -EFBIG)
		parse_error(reterr, errsize, "larger than the %u bytes allowed for a config",
			    KCONFIG_MAX_SIZE);
	if (r < 0)
		return r;
	return kconfig_parse(buf, len, ret, reterr, errsize);
}

const char *kconfig_get(const struct kconfig *c, const char *name)
{
	return hashmap_get(c->symbols, name);
}

size_t kconfig_count(const struct kconfig *c)
{
	return hashmap_size(c->symbols);
}

const char *kconfig_next(const struct kconfig *c, size_t *state, const char **ret_value)
{
	void *v = NULL;
	const char *k = hashmap_next(c->symbols, state, &v);

	if (k && ret_value)
		*ret_value = v;
	return k;
}

const char *kconfig_cc_version_text(const struct kconfig *c)
{
	return kconfig_get(c, "CONFIG_CC_VERSION_TEXT");
}

const char *kconfig_localversion(const struct kconfig *c)
{
	return kconfig_get(c, "CONFIG_LOCALVERSION");
}

static bool is_y(const struct kconfig *c, const char *name)
{
	const char *v = kconfig_get(c, name);

	return v && streq(v, "y");
}

struct arch_guess {
	const char *machine;
	const char *srcarch;
};

/* First match wins, so 64-bit and endianness variants come before their family. */
static struct arch_guess guess_arch(const struct kconfig *c)
{
	bool le = is_y(c, "CONFIG_CPU_LITTLE_ENDIAN");

	if (is_y(c, "CONFIG_X86_64"))
		return (struct arch_guess){ "x86_64", "x86" };
	if (is_y(c, "CONFIG_X86_32") || is_y(c, "CONFIG_X86"))
		return (struct arch_guess){ "i686", "x86" };
	if (is_y(c, "CONFIG_ARM64"))
		return (struct arch_guess){ "aarch64", "arm64" };
	if (is_y(c, "CONFIG_ARM"))
		return (struct arch_guess){ "arm", "arm" };
	if (is_y(c, "CONFIG_PPC64"))
		return (struct arch_guess){ le ? "ppc64le" : "ppc64", "powerpc" };
	if (is_y(c, "CONFIG_PPC"))
		return (struct arch_guess){ "ppc", "powerpc" };
	if (is_y(c, "CONFIG_S390"))
		return (struct arch_guess){ "s390x", "s390" };
	if (is_y(c, "CONFIG_RISCV"))
		return (struct arch_guess){ is_y(c, "CONFIG_64BIT") ? "riscv64" : "riscv32",
					    "riscv" };
	if (is_y(c, "CONFIG_LOONGARCH"))
		return (struct arch_guess){ "loongarch64", "loongarch" };
	if (is_y(c, "CONFIG_MIPS"))
		return (struct arch_guess){ is_y(c, "CONFIG_64BIT") ? "mips64" : "mips", "mips" };
	return (struct arch_guess){ NULL, NULL };
}

const char *kconfig_arch(const struct kconfig *c)
{
	return guess_arch(c).machine;
}

const char *kconfig_srcarch(const struct kconfig *c)
{
	return guess_arch(c).srcarch;
}
