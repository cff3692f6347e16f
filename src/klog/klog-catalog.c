/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <string.h>

#include "klog-catalog.h"

#define E_NONE _KLOG_EVENT_INVALID
#define S_INFO KLOG_SEVERITY_INFO
#define S_WARN KLOG_SEVERITY_WARNING
#define S_ERR KLOG_SEVERITY_ERROR

/*
 * Livepatch core, after the "livepatch: " pr_fmt prefix.  The wording is the
 * same from 5.10 to 6.12 (docs/klog.md lists where kernels differ); order
 * matters where one pattern is a prefix of another.
 */
static const struct klog_catalog_entry livepatch_table[] = {
	{ "enabling patch '%s'", KLOG_EVENT_PATCH_ENABLING, S_INFO, "p", NULL, KLOG_ACT_ENABLING },
	{ "'%s': initializing %w transition", E_NONE, S_INFO, "pd", NULL,
	  KLOG_ACT_TRANSITION_DEBUG },
	{ "'%s': starting %w transition", KLOG_EVENT_TRANSITION_START, S_INFO, "pd", NULL,
	  KLOG_ACT_START },
	{ "'%s': completing %w transition", E_NONE, S_INFO, "pd", NULL,
	  KLOG_ACT_TRANSITION_DEBUG },
	{ "'%s': canceling patching transition, going to unpatch", KLOG_EVENT_TRANSITION_REVERSED,
	  S_WARN, "p", "canceled", KLOG_ACT_CANCEL },
	{ "'%s': reversing transition from %w to %w", KLOG_EVENT_TRANSITION_REVERSED, S_WARN,
	  "pdd", NULL, KLOG_ACT_REVERSE },
	{ "'%s': %w complete", KLOG_EVENT_PATCH_ENABLED, S_INFO, "pd", NULL, KLOG_ACT_COMPLETE },
	{ "signaling remaining tasks", KLOG_EVENT_TRANSITION_SIGNAL, S_WARN, "", NULL,
	  KLOG_ACT_SIGNAL },
	{ "forcing remaining tasks to the patched state", KLOG_EVENT_TRANSITION_FORCED, S_ERR, "",
	  NULL, KLOG_ACT_FORCE },
	{ "klp_try_switch_task: %s:%d is sleeping on function %s", KLOG_EVENT_TASK_BLOCKING,
	  S_INFO, "cnf", "sleeping on function", KLOG_ACT_TASK },
	{ "klp_try_switch_task: %s:%d is running", KLOG_EVENT_TASK_BLOCKING, S_INFO, "cn",
	  "running", KLOG_ACT_TASK },
	{ "klp_try_switch_task: %s:%d has an unreliable stack", KLOG_EVENT_TASK_BLOCKING, S_INFO,
	  "cn", "unreliable stack", KLOG_ACT_TASK },
	{ "klp_try_switch_task: Unknown error code (%d) when trying to switch %s:%d",
	  KLOG_EVENT_TASK_BLOCKING, S_INFO, "dcn", NULL, KLOG_ACT_TASK },
	{ "applying patch '%s' to loading module '%s'", KLOG_EVENT_PATCH_TARGET, S_INFO, "po",
	  "applying", KLOG_ACT_TARGET },
	{ "reverting patch '%s' on unloading module '%s'", KLOG_EVENT_PATCH_TARGET, S_INFO, "po",
	  "reverting", KLOG_ACT_TARGET },
	/* errors */
	{ "symbol '%s' not found in symbol table", KLOG_EVENT_PATCH_ERROR, S_ERR, "d", NULL,
	  KLOG_ACT_PATCH_ERROR },
	{ "unresolvable ambiguity for symbol '%s' in object '%s'", KLOG_EVENT_PATCH_ERROR, S_ERR,
	  "do", NULL, KLOG_ACT_PATCH_ERROR },
	{ "symbol position %d for symbol '%s' in object '%s' not found", KLOG_EVENT_PATCH_ERROR,
	  S_ERR, "ddo", NULL, KLOG_ACT_PATCH_ERROR },
	{ "symbol %s is not marked as a livepatch symbol", KLOG_EVENT_PATCH_ERROR, S_ERR, "d",
	  NULL, KLOG_ACT_PATCH_ERROR },
	{ "symbol %s has an incorrectly formatted name", KLOG_EVENT_PATCH_ERROR, S_ERR, "d", NULL,
	  KLOG_ACT_PATCH_ERROR },
	{ "invalid access to vmlinux symbol '%s' from module-specific livepatch relocation section",
	  KLOG_EVENT_PATCH_ERROR, S_ERR, "d", NULL, KLOG_ACT_PATCH_ERROR },
	{ "section %s has an incorrectly formatted name", KLOG_EVENT_PATCH_ERROR, S_ERR, "d", NULL,
	  KLOG_ACT_PATCH_ERROR },
	{ "kallsyms size lookup failed for '%s' replacement", KLOG_EVENT_PATCH_ERROR, S_ERR, "f",
	  NULL, KLOG_ACT_PATCH_ERROR },
	{ "kallsyms size lookup failed for '%s'", KLOG_EVENT_PATCH_ERROR, S_ERR, "f", NULL,
	  KLOG_ACT_PATCH_ERROR },
	{ "pre-patch callback failed for object '%s'", KLOG_EVENT_PATCH_ERROR, S_ERR, "o", NULL,
	  KLOG_ACT_PATCH_ERROR },
	{ "failed to patch object '%s'", KLOG_EVENT_PATCH_ERROR, S_ERR, "o", NULL,
	  KLOG_ACT_PATCH_ERROR },
	{ "failed to enable patch '%s'", KLOG_EVENT_PATCH_ERROR, S_ERR, "p", NULL,
	  KLOG_ACT_PATCH_ERROR },
	{ "module %s is not marked as a livepatch module", KLOG_EVENT_PATCH_ERROR, S_ERR, "p", NULL,
	  KLOG_ACT_PATCH_ERROR },
	{ "This architecture doesn't have support for the livepatch consistency model.",
	  KLOG_EVENT_PATCH_MESSAGE, S_WARN, "", NULL, KLOG_ACT_PATCH_MESSAGE },
	{ "The livepatch transition may never complete.", KLOG_EVENT_PATCH_MESSAGE, S_WARN, "",
	  NULL, KLOG_ACT_PATCH_MESSAGE },
	{ "Livepatch patch (%s) is not compatible with the already installed livepatches.",
	  KLOG_EVENT_PATCH_ERROR, S_ERR, "p", NULL, KLOG_ACT_PATCH_ERROR },
	{ "failed to initialize patch '%s' for module '%s' (%d)", KLOG_EVENT_PATCH_ERROR, S_ERR,
	  "pod", NULL, KLOG_ACT_PATCH_ERROR },
	{ "failed to apply patch '%s' to module '%s' (%d)", KLOG_EVENT_PATCH_ERROR, S_ERR, "pod",
	  NULL, KLOG_ACT_PATCH_ERROR },
	{ "patch '%s' failed for module '%s', refusing to load module '%s'",
	  KLOG_EVENT_PATCH_ERROR, S_ERR, "po-", NULL, KLOG_ACT_PATCH_ERROR },
	{ "failed to find location for function '%s'", KLOG_EVENT_PATCH_ERROR, S_ERR, "f", NULL,
	  KLOG_ACT_PATCH_ERROR },
	{ "failed to set ftrace filter for function '%s' (%d)", KLOG_EVENT_PATCH_ERROR, S_ERR,
	  "fd", NULL, KLOG_ACT_PATCH_ERROR },
	{ "failed to register ftrace handler for function '%s' (%d)", KLOG_EVENT_PATCH_ERROR,
	  S_ERR, "fd", NULL, KLOG_ACT_PATCH_ERROR },
	{ "Failed to construct shadow variable <%s, %s> (%d)", KLOG_EVENT_PATCH_ERROR, S_ERR,
	  "ddd", NULL, KLOG_ACT_PATCH_ERROR },
	{ "Duplicate shadow variable <%s, %s>", KLOG_EVENT_PATCH_ERROR, S_ERR, "dd", NULL,
	  KLOG_ACT_PATCH_ERROR },
	{ NULL },
};

/* Module loader (kernel/module.c in 5.10/5.15, kernel/module/ since 6.0), after "<module>: ". */
static const struct klog_catalog_entry module_table[] = {
	{ "loading out-of-tree module taints kernel.", KLOG_EVENT_MODULE_TAINT, S_INFO, "", "O",
	  KLOG_ACT_TAINT },
	{ "module verification failed: signature and/or required key missing - tainting kernel",
	  KLOG_EVENT_MODULE_TAINT, S_INFO, "", "E", KLOG_ACT_TAINT },
	{ "tainting kernel with TAINT_LIVEPATCH", KLOG_EVENT_MODULE_TAINT, S_INFO, "", "K",
	  KLOG_ACT_TAINT },
	{ "module license '%s' taints kernel.", KLOG_EVENT_MODULE_TAINT, S_INFO, "-", "P",
	  KLOG_ACT_TAINT },
	{ "module is from the staging directory, the quality is unknown, you have been warned.",
	  KLOG_EVENT_MODULE_TAINT, S_INFO, "", "C", KLOG_ACT_TAINT },
	{ "module is marked as livepatch module, but livepatch support is disabled",
	  KLOG_EVENT_MODULE_ERROR, S_ERR, "", NULL, KLOG_ACT_MODULE_ERROR },
	{ "version magic '%s' should be '%s'", KLOG_EVENT_MODULE_ERROR, S_ERR, "dd", NULL,
	  KLOG_ACT_MODULE_ERROR },
	{ "disagrees about version of symbol %s", KLOG_EVENT_MODULE_ERROR, S_ERR, "d", NULL,
	  KLOG_ACT_MODULE_ERROR },
	{ "no symbol version for %s", KLOG_EVENT_MODULE_WARNING, S_WARN, "d", NULL,
	  KLOG_ACT_MODULE_WARNING },
	{ "Unknown symbol %s (err %d)", KLOG_EVENT_MODULE_ERROR, S_ERR, "dd", NULL,
	  KLOG_ACT_MODULE_ERROR },
	{ "loading module not compiled with retpoline compiler.", KLOG_EVENT_MODULE_WARNING,
	  S_WARN, "", NULL, KLOG_ACT_MODULE_WARNING },
	{ "Unknown rela relocation: %d", KLOG_EVENT_MODULE_ERROR, S_ERR, "d", NULL,
	  KLOG_ACT_MODULE_ERROR },
	{ "exports duplicate symbol %s (owned by %s)", KLOG_EVENT_MODULE_ERROR, S_ERR, "dd", NULL,
	  KLOG_ACT_MODULE_ERROR },
	{ "module has bad taint, not creating trace events", KLOG_EVENT_MODULE_WARNING, S_WARN, "",
	  NULL, KLOG_ACT_MODULE_WARNING },
	{ "please compile with -fno-common", KLOG_EVENT_MODULE_ERROR, S_ERR, "", NULL,
	  KLOG_ACT_MODULE_ERROR },
	{ NULL },
};

static const struct klog_catalog_entry other_table[] = {
	{ "x86/modules: Skipping invalid relocation target, existing value is nonzero for type %d, loc %w, val %w",
	  KLOG_EVENT_MODULE_ERROR, S_ERR, "ddd", NULL, KLOG_ACT_MODULE_ERROR },
	{ "Lockdown: %s: unsigned module loading is restricted; see man kernel_lockdown.7",
	  KLOG_EVENT_MODULE_ERROR, S_ERR, "c", NULL, KLOG_ACT_MODULE_ERROR },
	{ "Loading of unsigned module is rejected", KLOG_EVENT_MODULE_ERROR, S_ERR, "", NULL,
	  KLOG_ACT_MODULE_ERROR },
	{ "Loading of module with unsupported crypto is rejected", KLOG_EVENT_MODULE_ERROR, S_ERR,
	  "", NULL, KLOG_ACT_MODULE_ERROR },
	{ "Loading of module with unavailable key is rejected", KLOG_EVENT_MODULE_ERROR, S_ERR, "",
	  NULL, KLOG_ACT_MODULE_ERROR },
	{ "calling  %s+%x/%x [%m] @ %d", E_NONE, S_INFO, "f--m-", NULL, KLOG_ACT_INIT_CALL },
	{ "initcall %s+%x/%x [%m] returned %d after %d usecs", KLOG_EVENT_MODULE_INIT, S_INFO,
	  "f--md-", NULL, KLOG_ACT_INIT_RETURN },
	{ "do_init_module: '%m'->init suspiciously returned %d, it should follow 0/-E convention",
	  KLOG_EVENT_MODULE_WARNING, S_WARN, "md", NULL, KLOG_ACT_MODULE_WARNING },
	{ "Linux version %*", KLOG_EVENT_BOOT, S_INFO, "", NULL, KLOG_ACT_BOOT },
	{ NULL },
};

static inline bool is_module_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static inline bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool klog_is_module_name(const char *s, size_t len)
{
	if (len == 0 || len >= 56)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_module_char(s[i]))
			return false;
	return true;
}

struct match_ctx {
	const char *end;
	struct klog_cap *caps;
	size_t max, n;
};

static bool match_at(struct match_ctx *m, const char *t, const char *pat)
{
	while (*pat) {
		char d;

		if (pat[0] != '%' || pat[1] == '%') {
			if (t >= m->end || *t != pat[0])
				return false;
			pat += pat[0] == '%' ? 2 : 1;
			t++;
			continue;
		}
		d = pat[1];
		pat += 2;
		switch (d) {
		case 's':
		case 'w':
		case '*': {
			size_t min = d == '*' ? 0 : 1, saved = m->n;
			const char *e;

			if (!*pat) {
				if ((size_t)(m->end - t) < min)
					return false;
				if (d == 'w' && memchr(t, ' ', (size_t)(m->end - t)))
					return false;
				if (d != '*' && m->n < m->max)
					m->caps[m->n++] = (struct klog_cap){ t, (size_t)(m->end - t) };
				return true;
			}
			/* Shortest first; the next literal must match where the capture ends. */
			for (e = t + min; e <= m->end; e++) {
				if (d == 'w' && e > t && e[-1] == ' ')
					return false;
				if (pat[0] != '%' && (e == m->end || *e != pat[0]))
					continue;
				m->n = saved;
				if (d != '*' && m->n < m->max)
					m->caps[m->n++] = (struct klog_cap){ t, (size_t)(e - t) };
				if (match_at(m, e, pat))
					return true;
			}
			m->n = saved;
			return false;
		}
		case 'm':
		case 'd':
		case 'x': {
			const char *s = t;

			if (d == 'm') {
				while (t < m->end && is_module_char(*t))
					t++;
				if (t == s || t - s >= 56)
					return false;
			} else if (d == 'd') {
				if (t < m->end && *t == '-')
					t++;
				while (t < m->end && *t >= '0' && *t <= '9')
					t++;
				if (t == s || (t == s + 1 && *s == '-'))
					return false;
			} else {
				if (m->end - t > 2 && t[0] == '0' && t[1] == 'x')
					t += 2;
				while (t < m->end && is_hex(*t))
					t++;
				if (t == s)
					return false;
			}
			if (m->n < m->max)
				m->caps[m->n++] = (struct klog_cap){ s, (size_t)(t - s) };
			break;
		}
		default:
			return false;
		}
	}
	return t == m->end;
}

bool klog_match(const char *text, size_t len, const char *pattern, struct klog_cap *caps,
		size_t max_caps, size_t *ret_n)
{
	struct match_ctx m = { .end = text + len, .caps = caps, .max = max_caps };

	if (!match_at(&m, text, pattern))
		return false;
	if (ret_n)
		*ret_n = m.n;
	return true;
}

static const struct klog_catalog_entry *lookup_in(const struct klog_catalog_entry *table,
						  const char *text, size_t len,
						  struct klog_cap *caps, size_t *ret_n)
{
	for (const struct klog_catalog_entry *e = table; e->pattern; e++) {
		/* Cheap first-character filter before the matcher. */
		if (e->pattern[0] != '%' && (len == 0 || text[0] != e->pattern[0]))
			continue;
		if (klog_match(text, len, e->pattern, caps, KLOG_CAPS_MAX, ret_n))
			return e;
	}
	return NULL;
}

const struct klog_catalog_entry *klog_catalog_lookup(const char *text, size_t len,
						     struct klog_cap *caps, size_t *ret_n,
						     struct klog_cap *ret_module,
						     enum klog_catalog_table *ret_table)
{
	const struct klog_catalog_entry *e;
	size_t i;

	*ret_n = 0;
	if (len > 11 && memcmp(text, "livepatch: ", 11) == 0) {
		*ret_table = KLOG_TABLE_LIVEPATCH;
		return lookup_in(livepatch_table, text + 11, len - 11, caps, ret_n);
	}
	switch (text[0]) {
	case 'x':
	case 'L':
	case 'c':
	case 'i':
	case 'd':
		e = lookup_in(other_table, text, len, caps, ret_n);
		if (e) {
			*ret_table = KLOG_TABLE_OTHER;
			return e;
		}
		break;
	default:
		break;
	}
	/* "<module>: ..." */
	for (i = 0; i < len && i < 56 && is_module_char(text[i]); i++)
		;
	if (i == 0 || i >= 56 || i + 2 > len || text[i] != ':' || text[i + 1] != ' ')
		return NULL;
	e = lookup_in(module_table, text + i + 2, len - i - 2, caps, ret_n);
	if (!e)
		return NULL;
	*ret_module = (struct klog_cap){ text, i };
	*ret_table = KLOG_TABLE_MODULE;
	return e;
}

const struct klog_catalog_entry *klog_catalog_table(enum klog_catalog_table t)
{
	switch (t) {
	case KLOG_TABLE_LIVEPATCH:
		return livepatch_table;
	case KLOG_TABLE_MODULE:
		return module_table;
	case KLOG_TABLE_OTHER:
		return other_table;
	}
	return NULL;
}
