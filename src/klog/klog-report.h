/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Trouble report lines: which lines start, continue and end a report, and
 * what a line tells (frames, RIP, CPU/PID/Comm, taint, module list).
 * Internal to src/klog.
 */
#ifndef TUXTAPE_KLOG_REPORT_H
#define TUXTAPE_KLOG_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "klog.h"

enum klog_line_kind {
	KLOG_LINE_OTHER,
	KLOG_LINE_HEADER,    /* starts a report of the given type */
	KLOG_LINE_CUT_HERE,  /* "------------[ cut here ]------------": a WARN or BUG follows */
	KLOG_LINE_SEPARATOR, /* "=====...": a sanitizer report starts or ends */
	KLOG_LINE_END,       /* "---[ end trace ... ]---" */
	KLOG_LINE_END_PANIC, /* "---[ end Kernel panic ... ]---" */
	KLOG_LINE_CALL_TRACE, /* "Call Trace:" */
};

/* Classifies a message text; *type is set for KLOG_LINE_HEADER. */
enum klog_line_kind klog_report_classify(const char *text, size_t len, enum klog_event_type *type);

/*
 * Whether a header of type `next` continues an open report of type `open`
 * (the "Oops:" after "BUG: kernel NULL pointer dereference", the "invalid
 * opcode" after "kernel BUG at").  *merged is the resulting type.
 */
bool klog_report_header_continues(enum klog_event_type open, const char *text, size_t len,
				  enum klog_event_type next, enum klog_event_type *merged);

/* A line that may appear inside a call trace section (frames, markers, registers, labels). */
bool klog_report_trace_line(const char *text, size_t len);
/* A line that may follow "---[ end trace ]---" (the register dump Oops repeats). */
bool klog_report_tail_line(const char *text, size_t len);

/* Parses "[? ]func+0xoff/0xsize [module...]" (leading blanks allowed). */
bool klog_parse_frame(const char *text, size_t len, struct klog_frame *ret);

/*
 * Reads what a report line tells into r: CPU/PID/Comm/taint, RIP, header
 * details (function of a WARNING, location of a BUG).  Returns true when
 * the line was the "Modules linked in:" list (*modules set to the list).
 */
bool klog_report_scan_line(struct klog_report *r, const char *text, size_t len,
			   enum klog_event_type type, bool header, const char **modules,
			   size_t *modules_len);

/* Decodes "G           OE K" taint text up to the kernel release. */
klog_taint_t klog_parse_taint(const char *s, size_t len);

/*
 * Looks up module name in a "Modules linked in:" list; returns its flags
 * ("OEK") in flags (may be "") and true when listed.
 */
bool klog_modules_find(const char *list, const char *name, char *flags, size_t size);

#endif
