/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "klog-catalog.h"
#include "klog-report.h"

#define STARTS(t, len, lit) ((len) >= sizeof(lit) - 1 && memcmp((t), (lit), sizeof(lit) - 1) == 0)

static inline bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* Header lines are short: a plain scan (memmem() upsets GCC's -Wnonnull under UBSan). */
static bool contains(const char *t, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++)
		if (t[i] == needle[0] && memcmp(t + i, needle, n) == 0)
			return true;
	return false;
}

static enum klog_line_kind header(enum klog_event_type t, enum klog_event_type *type)
{
	*type = t;
	return KLOG_LINE_HEADER;
}

enum klog_line_kind klog_report_classify(const char *t, size_t len, enum klog_event_type *type)
{
	if (len < 4)
		return KLOG_LINE_OTHER;
	switch (t[0]) {
	case '-':
		if (STARTS(t, len, "------------[ cut here ]------------"))
			return KLOG_LINE_CUT_HERE;
		if (STARTS(t, len, "---[ end trace"))
			return KLOG_LINE_END;
		if (STARTS(t, len, "---[ end Kernel panic"))
			return KLOG_LINE_END_PANIC;
		break;
	case '=':
		if (len >= 40 && t[len - 1] == '=' && strspn(t, "=") == len)
			return KLOG_LINE_SEPARATOR;
		break;
	case 'W':
		/* "WARNING: CPU: 0 PID: 1 at", old "WARNING: at", newer "WARNING: f.c:1 at f+0x0, CPU#0" */
		if (STARTS(t, len, "WARNING: CPU: ") || STARTS(t, len, "WARNING: at ") ||
		    (STARTS(t, len, "WARNING: ") && contains(t, len, " at ") &&
		     contains(t, len, "CPU#")))
			return header(KLOG_EVENT_WARNING, type);
		break;
	case 'k':
		if (STARTS(t, len, "kernel BUG at "))
			return header(KLOG_EVENT_BUG, type);
		if (STARTS(t, len, "kernel tried to execute NX-protected page"))
			return header(KLOG_EVENT_OOPS, type);
		break;
	case 'B':
		if (!STARTS(t, len, "BUG: "))
			break;
		if (STARTS(t, len, "BUG: kernel NULL pointer dereference") ||
		    STARTS(t, len, "BUG: unable to handle "))
			return header(KLOG_EVENT_OOPS, type);
		if (STARTS(t, len, "BUG: KASAN: "))
			return header(KLOG_EVENT_KASAN, type);
		if (STARTS(t, len, "BUG: KFENCE: "))
			return header(KLOG_EVENT_KFENCE, type);
		if (STARTS(t, len, "BUG: sleeping function called from invalid context") ||
		    STARTS(t, len, "BUG: scheduling while atomic"))
			return header(KLOG_EVENT_SLEEP_IN_ATOMIC, type);
		if (STARTS(t, len, "BUG: soft lockup"))
			return header(KLOG_EVENT_SOFT_LOCKUP, type);
		return header(KLOG_EVENT_BUG, type);
	case 'O':
		if (STARTS(t, len, "Oops: general protection fault"))
			return header(KLOG_EVENT_GPF, type);
		if (STARTS(t, len, "Oops: "))
			return header(KLOG_EVENT_OOPS, type);
		break;
	case 'g':
		if (STARTS(t, len, "general protection fault"))
			return header(KLOG_EVENT_GPF, type);
		break;
	case 'i':
		if (STARTS(t, len, "invalid opcode: "))
			return header(KLOG_EVENT_OOPS, type);
		break;
	case 's':
		if (STARTS(t, len, "stack segment: "))
			return header(KLOG_EVENT_OOPS, type);
		break;
	case 'd':
		if (STARTS(t, len, "double fault: "))
			return header(KLOG_EVENT_OOPS, type);
		break;
	case 'K':
		if (STARTS(t, len, "Kernel panic - not syncing"))
			return header(KLOG_EVENT_PANIC, type);
		break;
	case 'w':
		if (STARTS(t, len, "watchdog: BUG: soft lockup"))
			return header(KLOG_EVENT_SOFT_LOCKUP, type);
		if (STARTS(t, len, "watchdog: Watchdog detected hard LOCKUP"))
			return header(KLOG_EVENT_HARD_LOCKUP, type);
		break;
	case 'N':
		if (STARTS(t, len, "NMI watchdog: Watchdog detected hard LOCKUP"))
			return header(KLOG_EVENT_HARD_LOCKUP, type);
		break;
	case 'r':
		if (STARTS(t, len, "rcu: INFO: ") && contains(t, len, "stall"))
			return header(KLOG_EVENT_RCU_STALL, type);
		break;
	case 'I':
		if (STARTS(t, len, "INFO: task ") && contains(t, len, " blocked for more than "))
			return header(KLOG_EVENT_HUNG_TASK, type);
		if (STARTS(t, len, "INFO: rcu_") && contains(t, len, "stall"))
			return header(KLOG_EVENT_RCU_STALL, type);
		break;
	case 'U':
		if (STARTS(t, len, "UBSAN: "))
			return header(KLOG_EVENT_UBSAN, type);
		break;
	case 'C':
		if (STARTS(t, len, "Call Trace:") || STARTS(t, len, "Call trace:"))
			return KLOG_LINE_CALL_TRACE;
		break;
	default:
		break;
	}
	return KLOG_LINE_OTHER;
}

bool klog_report_header_continues(enum klog_event_type open, const char *t, size_t len,
				  enum klog_event_type next, enum klog_event_type *merged)
{
	bool oops_line = STARTS(t, len, "Oops: ") || STARTS(t, len, "invalid opcode: ");

	if (!oops_line && next != KLOG_EVENT_GPF)
		return false;
	switch (open) {
	case KLOG_EVENT_OOPS:
	case KLOG_EVENT_BUG:
		/* "BUG: kernel NULL pointer dereference" + "Oops:", "kernel BUG at" + "invalid opcode" */
		*merged = open;
		return oops_line;
	case KLOG_EVENT_KASAN:
	case KLOG_EVENT_KFENCE:
		/* a sanitizer report that ends in a fault */
		*merged = open;
		return true;
	default:
		return false;
	}
}

/* "RIP: ", "R13: ", "CR2: ", "PKRU: ", "FS:  " ... and "Code: " */
static bool register_line(const char *t, size_t len)
{
	size_t i = 0;

	if (STARTS(t, len, "Code: "))
		return true;
	while (i < len && i < 5 && (is_upper(t[i]) || is_digit(t[i])))
		i++;
	return i >= 2 && i < len && t[i] == ':' && is_upper(t[0]);
}

static const char *const trace_labels[] = {
	"Call Trace:", "Call trace:", "CPU: ", "Hardware name: ", "Workqueue: ",
	"Modules linked in:", "NMI backtrace for cpu", "Sending NMI from CPU", "Task dump for CPU",
	"task:", "rcu: ", "Kernel Offset:", "---[ end", "irq event stamp:", "hardirqs last",
	"softirqs last", "Preemption disabled at:", "Tainted: ", "Not tainted", "Stack:",
	"Backtrace:", "#PF: ", "PGD ", "in_atomic(): ", "preempt_count: ", "RCU nest depth: ",
	"Showing stack for process", "INFO: lockdep is turned off", "Disabling lock debugging",
	"Kdump: ", "pc : ", "lr : ", "sp : ", "(detected by", "\"echo 0 > ",
};

bool klog_report_trace_line(const char *t, size_t len)
{
	struct klog_frame f;

	if (len == 0)
		return false;
	if (t[0] == ' ' || t[0] == '\t' || t[0] == '<' || t[0] == '(')
		return true;
	if (register_line(t, len))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(trace_labels); i++) {
		size_t l = strlen(trace_labels[i]);

		if (t[0] == trace_labels[i][0] && len >= l && memcmp(t, trace_labels[i], l) == 0)
			return true;
	}
	return klog_parse_frame(t, len, &f);
}

bool klog_report_tail_line(const char *t, size_t len)
{
	return register_line(t, len) || STARTS(t, len, "Kernel Offset:") ||
	       STARTS(t, len, "Modules linked in:");
}

static bool is_sym_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
	       c == '.' || c == '$';
}

static size_t parse_hex(const char *s, const char *end, uint64_t *ret)
{
	size_t i = 0;
	uint64_t v = 0;

	if (end - s < 3 || s[0] != '0' || s[1] != 'x')
		return 0;
	i = 2;
	while (s + i < end) {
		char c = s[i];
		unsigned d;

		if (is_digit(c))
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			break;
		v = (v << 4) | d;
		i++;
	}
	if (i == 2)
		return 0;
	*ret = v;
	return i;
}

bool klog_parse_frame(const char *text, size_t len, struct klog_frame *ret)
{
	const char *s = text, *end = text + len, *name;
	struct klog_frame f = { .reliable = true };
	size_t n;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (end - s >= 2 && s[0] == '?' && s[1] == ' ') {
		f.reliable = false;
		s += 2;
	}
	/* Old x86 and some arches: "[<ffffffff81000000>] func+0x0/0x10" */
	if (end - s >= 3 && s[0] == '[' && s[1] == '<') {
		const char *c = memchr(s, ']', (size_t)(end - s));

		if (!c)
			return false;
		s = c + 1;
		while (s < end && *s == ' ')
			s++;
		if (end - s >= 2 && s[0] == '?' && s[1] == ' ') {
			f.reliable = false;
			s += 2;
		}
	}
	name = s;
	while (s < end && is_sym_char(*s))
		s++;
	if (s == name || s >= end || *s != '+')
		return false;
	n = (size_t)(s - name);
	if (n >= sizeof(f.function))
		n = sizeof(f.function) - 1;
	memcpy(f.function, name, n);
	f.function[n] = '\0';
	s++;
	if ((n = parse_hex(s, end, &f.offset)) == 0)
		return false;
	s += n;
	if (s < end && *s == '/') {
		s++;
		if ((n = parse_hex(s, end, &f.size)) == 0)
			return false;
		s += n;
	}
	while (s < end && *s == ' ')
		s++;
	if (s < end && *s == '[') {
		const char *m = ++s;

		while (s < end && *s != ']' && *s != ' ')
			s++;
		if (s < end && klog_is_module_name(m, (size_t)(s - m))) {
			memcpy(f.module, m, (size_t)(s - m));
			f.module[s - m] = '\0';
		}
	}
	*ret = f;
	return true;
}

klog_taint_t klog_parse_taint(const char *s, size_t len)
{
	klog_taint_t t = 0;
	size_t i = 0;

	while (i < len) {
		size_t j = i;

		while (i < len && s[i] == ' ')
			i++;
		j = i;
		while (j < len && s[j] != ' ')
			j++;
		if (j == i)
			break;
		for (size_t k = i; k < j; k++)
			if (!is_upper(s[k]))
				return t; /* the kernel release: the flags are over */
		for (size_t k = i; k < j; k++)
			if (s[k] != 'G')
				t |= KLOG_TAINT_BIT(s[k]);
		i = j;
	}
	return t;
}

void klog_taint_letters(klog_taint_t t, char *buf, size_t size)
{
	size_t n = 0;

	for (int b = 0; b < 26 && n + 1 < size; b++)
		if (t & ((klog_taint_t)1 << b))
			buf[n++] = (char)('A' + b);
	if (size)
		buf[n] = '\0';
}

static void copy_cap(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* "CPU: 0 [UID: 0 ]PID: 88 Comm: cat Tainted: G  OE K  6.1.0 #1" */
static void scan_cpu_line(struct klog_report *r, const char *t, size_t len)
{
	const char *end = t + len, *p = t + 5, *comm, *c;
	int cpu = 0, pid = 0;

	if (r->pid >= 0)
		return; /* the first CPU line is the faulting task; later ones are backtraces */
	if (p >= end || !is_digit(*p))
		return;
	while (p < end && is_digit(*p))
		cpu = cpu * 10 + (*p++ - '0');
	if (end - p > 6 && memcmp(p, " UID: ", 6) == 0) {
		p += 6;
		while (p < end && is_digit(*p))
			p++;
	}
	if (end - p < 6 || memcmp(p, " PID: ", 6) != 0)
		return;
	p += 6;
	while (p < end && is_digit(*p) && pid < 100000000)
		pid = pid * 10 + (*p++ - '0');
	r->cpu = cpu;
	r->pid = pid;
	if (end - p < 7 || memcmp(p, " Comm: ", 7) != 0)
		return;
	comm = p + 7;
	/* A comm may hold blanks; the taint words end it. */
	c = memmem(comm, (size_t)(end - comm), " Tainted: ", 10);
	if (!c)
		c = memmem(comm, (size_t)(end - comm), " Not tainted", 12);
	if (!c)
		c = memmem(comm, (size_t)(end - comm), " Kdump: ", 8);
	if (!c) {
		c = comm;
		while (c < end && *c != ' ')
			c++;
	}
	copy_cap(r->comm, sizeof(r->comm), comm, (size_t)(c - comm));
	p = memmem(c, (size_t)(end - c), "Tainted: ", 9);
	if (p) {
		p += 9;
		r->taint = klog_parse_taint(p, (size_t)(end - p));
		r->tainted_known = true;
	} else if (memmem(c, (size_t)(end - c), "Not tainted", 11)) {
		r->taint = 0;
		r->tainted_known = true;
	}
}

bool klog_report_scan_line(struct klog_report *r, const char *t, size_t len,
			   enum klog_event_type type, bool hdr, const char **modules,
			   size_t *modules_len)
{
	struct klog_cap caps[KLOG_CAPS_MAX];
	size_t n;

	if (hdr) {
		switch (type) {
		case KLOG_EVENT_WARNING:
			if (klog_match(t, len, "WARNING: CPU: %d PID: %d at %w %s", caps, 4, &n) &&
			    n == 4) {
				copy_cap(r->location, sizeof(r->location), caps[2].p, caps[2].len);
				if (klog_parse_frame(caps[3].p, caps[3].len, &r->rip_frame))
					r->has_rip_frame = true;
			}
			break;
		case KLOG_EVENT_BUG:
			if (klog_match(t, len, "kernel BUG at %s!", caps, 1, &n) && n == 1)
				copy_cap(r->location, sizeof(r->location), caps[0].p, caps[0].len);
			break;
		case KLOG_EVENT_KASAN:
		case KLOG_EVENT_KFENCE:
			if (klog_match(t, len, "BUG: %w: %s in %s", caps, 3, &n) && n == 3 &&
			    klog_parse_frame(caps[2].p, caps[2].len, &r->rip_frame))
				r->has_rip_frame = true;
			break;
		case KLOG_EVENT_UBSAN:
			if (klog_match(t, len, "UBSAN: %w in %s", caps, 2, &n) && n == 2)
				copy_cap(r->location, sizeof(r->location), caps[1].p, caps[1].len);
			break;
		case KLOG_EVENT_SLEEP_IN_ATOMIC:
			if (klog_match(t, len, "BUG: sleeping function called from invalid context at %s",
				       caps, 1, &n) && n == 1)
				copy_cap(r->location, sizeof(r->location), caps[0].p, caps[0].len);
			break;
		case KLOG_EVENT_HUNG_TASK:
			if (klog_match(t, len, "INFO: task %s:%d blocked for more than %*", caps, 2,
				       &n) && n == 2) {
				copy_cap(r->comm, sizeof(r->comm), caps[0].p, caps[0].len);
				r->pid = 0;
				for (size_t i = 0; i < caps[1].len && r->pid < 100000000; i++)
					r->pid = r->pid * 10 + (caps[1].p[i] - '0');
			}
			break;
		case KLOG_EVENT_SOFT_LOCKUP:
			if (klog_match(t, len, "%*CPU#%d stuck for %w [%s:%d]", caps, 4, &n) && n == 4) {
				copy_cap(r->comm, sizeof(r->comm), caps[2].p, caps[2].len);
				r->cpu = 0;
				for (size_t i = 0; i < caps[0].len && r->cpu < 100000; i++)
					r->cpu = r->cpu * 10 + (caps[0].p[i] - '0');
			}
			break;
		default:
			break;
		}
		return false;
	}
	switch (t[0]) {
	case 'C':
		if (STARTS(t, len, "CPU: "))
			scan_cpu_line(r, t, len);
		break;
	case 'T':
		/* 6.11+: "Tainted: [W]=WARN, [O]=OOT_MODULE" */
		if (STARTS(t, len, "Tainted: [") && !r->tainted_known) {
			for (size_t i = 0; i + 2 < len; i++)
				if (t[i] == '[' && is_upper(t[i + 1]) && t[i + 2] == ']')
					r->taint |= KLOG_TAINT_BIT(t[i + 1]);
			r->tainted_known = true;
		}
		break;
	case 'R':
	case 'p':
		if (!r->rip[0] && (STARTS(t, len, "RIP: ") || STARTS(t, len, "pc : "))) {
			const char *s = t + 5, *end = t + len;
			struct klog_frame f;

			/* "RIP: 0010:func+0x1/0x2 [mod]"; user space RIPs ("0033:0x4...") say nothing */
			if (t[0] == 'R') {
				const char *colon = memchr(s, ':', (size_t)(end - s));

				if (!colon)
					break;
				s = colon + 1;
			}
			if (klog_parse_frame(s, (size_t)(end - s), &f)) {
				copy_cap(r->rip, sizeof(r->rip), s, (size_t)(end - s));
				r->rip_frame = f;
				r->has_rip_frame = true;
			}
		}
		break;
	case 'M':
		if (STARTS(t, len, "Modules linked in:")) {
			const char *s = t + 18;

			while (*s == ' ')
				s++;
			*modules = s;
			*modules_len = len - (size_t)(s - t);
			return true;
		}
		break;
	default:
		break;
	}
	return false;
}

bool klog_modules_find(const char *list, const char *name, char *flags, size_t size)
{
	size_t nl = strlen(name);
	const char *s = list;

	if (!list)
		return false;
	while (*s) {
		const char *tok, *e;

		while (*s == ' ')
			s++;
		tok = s;
		while (*s && *s != ' ')
			s++;
		if (tok[0] == '[') {
			/* " [last unloaded: name]": a module that is gone */
			while (*s && s[-1] != ']') {
				while (*s == ' ')
					s++;
				while (*s && *s != ' ')
					s++;
			}
			continue;
		}
		e = tok;
		while (e < s && *e != '(')
			e++;
		if ((size_t)(e - tok) == nl && memcmp(tok, name, nl) == 0) {
			if (size) {
				size_t fl = 0;

				if (e < s && *e == '(') {
					const char *c = memchr(e, ')', (size_t)(s - e));

					fl = c ? (size_t)(c - e - 1) : 0;
				}
				copy_cap(flags, size, e + 1, fl);
			}
			return true;
		}
	}
	return false;
}
