/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The catalogue of livepatch core and module loader messages (kernels 5.10
 * to 6.12, docs/klog.md) and the small pattern matcher that reads them.
 * Internal to src/klog.
 */
#ifndef TUXTAPE_KLOG_CATALOG_H
#define TUXTAPE_KLOG_CATALOG_H

#include <stdbool.h>
#include <stddef.h>

#include "klog.h"

#define KLOG_CAPS_MAX 6

struct klog_cap {
	const char *p;
	size_t len;
};

/* What the parser does with a catalogued message besides emitting its event. */
enum klog_action {
	KLOG_ACT_NONE,
	KLOG_ACT_ENABLING,
	KLOG_ACT_TRANSITION_DEBUG, /* "initializing"/"completing" (pr_debug): state only */
	KLOG_ACT_START,
	KLOG_ACT_COMPLETE,
	KLOG_ACT_CANCEL,
	KLOG_ACT_REVERSE,
	KLOG_ACT_SIGNAL,
	KLOG_ACT_FORCE,
	KLOG_ACT_TASK,
	KLOG_ACT_TARGET,
	KLOG_ACT_PATCH_ERROR,
	KLOG_ACT_PATCH_MESSAGE,
	KLOG_ACT_TAINT,
	KLOG_ACT_MODULE_ERROR,
	KLOG_ACT_MODULE_WARNING,
	KLOG_ACT_INIT_CALL,   /* initcall_debug "calling": the module is loading */
	KLOG_ACT_INIT_RETURN,
	KLOG_ACT_BOOT,
};

enum klog_catalog_table {
	KLOG_TABLE_LIVEPATCH, /* text starts with "livepatch: " (the pattern follows it) */
	KLOG_TABLE_MODULE,    /* text is "<module>: " + pattern */
	KLOG_TABLE_OTHER,     /* the pattern is the whole text */
};

struct klog_catalog_entry {
	const char *pattern;
	enum klog_event_type type; /* _KLOG_EVENT_INVALID: no event of its own */
	enum klog_severity severity;
	/*
	 * One letter per capture: p patch, m module, o target object (module or
	 * vmlinux), f function, d detail (several are joined), c task comm,
	 * n task pid, - ignored.
	 */
	const char *roles;
	const char *detail;        /* fixed detail, e.g. the taint letter */
	enum klog_action action;
};

/*
 * Matches text against pattern.  Directives: %s one or more characters,
 * %w one or more non-blank characters, %m a module name, %d a decimal
 * number (optionally negative), %x a hexadecimal number (optionally 0x),
 * %* any characters (not captured), %% a percent sign.  Everything else is
 * literal and the whole text must match.  Captures %s %w %m %d %x in order.
 */
bool klog_match(const char *text, size_t len, const char *pattern, struct klog_cap *caps,
		size_t max_caps, size_t *ret_n);

/*
 * Finds the catalogue entry for a message text; for module-table entries
 * *ret_module is the module name before ": ".  NULL when none matches.
 */
const struct klog_catalog_entry *klog_catalog_lookup(const char *text, size_t len,
						     struct klog_cap *caps, size_t *ret_n,
						     struct klog_cap *ret_module,
						     enum klog_catalog_table *ret_table);

/* Iteration for docs and tests: entries of a table, NULL-pattern terminated. */
const struct klog_catalog_entry *klog_catalog_table(enum klog_catalog_table t);

/* True for a kernel module name: 1..55 of [A-Za-z0-9_-]. */
bool klog_is_module_name(const char *s, size_t len);

#endif
