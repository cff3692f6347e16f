/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One line of a kernel log in any of its common forms (enum klog_form) split
 * into prefix fields and message text.  Internal to src/klog.
 */
#ifndef TUXTAPE_KLOG_LINE_H
#define TUXTAPE_KLOG_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "klog.h"

#define KLOG_CALLER_MAX 12
#define KLOG_BOOT_ID_MAX 40

struct klog_record {
	enum klog_form form;
	const char *text;   /* message text, NUL-terminated */
	size_t text_len;
	const char *raw;    /* the line as read (noise and CR removed), NUL-terminated */
	size_t raw_len;
	int level;          /* 0..7 or -1 */
	int facility;       /* 0 kern, 1 user ... or -1 */
	double time_s;      /* seconds since boot or -1 */
	int64_t wall_us;    /* microseconds since the epoch or -1 */
	char caller[KLOG_CALLER_MAX]; /* "T123" or "C1" (CONFIG_PRINTK_CALLER), or "" */
	char boot_id[KLOG_BOOT_ID_MAX]; /* journal _BOOT_ID or "" */
	bool foreign;       /* a line of another program (syslog, journal): skip it */
	bool skip;          /* a /dev/kmsg dictionary line or an empty line: skip it */
	bool malformed;     /* journal JSON that does not parse */
	bool cont;          /* a bare line continuing the previous record (set by the parser) */
};

/* Per-input state: forms seen so far and scratch space for rewritten lines. */
struct klog_line_state {
	bool syslog_seen;   /* lines of other programs are foreign, not text */
	bool kmsg_seen;     /* lines starting with a space are kmsg dictionary lines */
	int year;           /* for syslog stamps without one */
	char scratch[KLOG_LINE_MAX + 64];
	char scratch_raw[KLOG_LINE_MAX + 64];
};

/*
 * Parses line (len bytes, NUL-terminated at len, modified in place: escape
 * sequences and carriage returns are removed).  Always succeeds; text points
 * into line or into st's scratch buffers until the next call.
 */
void klog_line_parse(struct klog_line_state *st, char *line, size_t len, struct klog_record *ret);

/* "Nov", "Dec" ... -> 0..11, or -1. */
int klog_month_from_string(const char *s);

#endif
