/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "klog-catalog.h"
#include "klog-line.h"
#include "klog-report.h"
#include "klog.h"

#define OPEN_REPORTS_MAX 4       /* concurrent reports (with printk caller ids) */
#define PENDING_LINES_MAX 12     /* lines between "cut here" and its header */
#define REPORT_SPAN_MAX 4000     /* lines a report may absorb before it is closed */
#define SANITIZER_SPAN_MAX 600   /* a sanitizer report without its closing separator */
#define HEAD_OTHER_MAX 24        /* free-form lines after a header before the trace */
#define REPORT_GAP_S 10.0        /* a report is over when its next line is this much later */
#define RECENT_S 10.0            /* an unnamed error belongs to a module named this recently */
#define PANIC_INHERIT_S 5.0      /* a panic right after a report shares its attribution */
#define DEDUP_BITS 16
#define MODULES_MAX 1024

enum report_state {
	RS_HEAD,  /* header seen: everything up to the call trace belongs to it */
	RS_TRACE, /* after "Call Trace:": frames, markers, registers, labels */
	RS_TAIL,  /* after "---[ end trace ]---": the repeated register dump */
};

struct open_report {
	bool active, pending, sanitizer, header_seen, muted;
	enum report_state state;
	enum klog_event_type type;
	char caller[KLOG_CALLER_MAX];
	double time_s, last_s;
	int64_t wall_us;
	int level;
	unsigned boot;
	size_t pending_lines, span, head_other;
	char message[KLOG_EVIDENCE_LINE_MAX];
	char text[KLOG_REPORT_TEXT_MAX];
	size_t text_used;
	const char *lines[KLOG_REPORT_LINES_MAX];
	size_t n_lines, lines_dropped, header_line;
	struct klog_frame frames[KLOG_REPORT_FRAMES_MAX];
	size_t n_frames, frames_dropped;
	char modules[MODULES_MAX];
	bool has_modules, modules_truncated, modules_last;
	struct klog_report info;
};

struct patch {
	char name[KLOG_NAME_MAX];
	bool livepatch, declared;
	enum klog_patch_state state;
	klog_taint_t taint;
	double enabled_s, transition_s, enable_ref_s;
	int64_t enable_ref_wall;
	bool transition_open, stalled_reported, reversed;
	unsigned boot, n_errors, n_trouble, n_transitions;
	bool stalled, misbehaved;
	char funcs[KLOG_PATCH_FUNCS_MAX][KLOG_SYMBOL_MAX];
	const char *func_ptrs[KLOG_PATCH_FUNCS_MAX + 1];
	size_t n_funcs;
	uint64_t last_use;
};

struct blocker {
	char task[48];
	char reason[KLOG_SYMBOL_MAX + 32];
	char line[KLOG_EVIDENCE_LINE_MAX];
};

struct klog_parser {
	struct klog_options opts;
	struct klog_line_state ls;
	char line[KLOG_LINE_MAX + 1];
	size_t line_len;
	bool line_cut;

	struct open_report *reports; /* OPEN_REPORTS_MAX */
	struct patch *patches;       /* KLOG_PATCHES_MAX */
	size_t n_patches;
	uint64_t use_counter;
	struct patch *transition;    /* the patch whose transition is open */
	struct blocker blockers[KLOG_BLOCKERS_MAX];
	size_t n_blockers;

	/* the module most recently named by the loader */
	char recent[KLOG_NAME_MAX];
	klog_taint_t recent_taint;
	double recent_s;
	int64_t recent_wall;
	unsigned recent_boot;

	/* the last closed report, for a panic that follows it */
	char last_patch[KLOG_NAME_MAX];
	enum klog_how last_how;
	double last_report_s;
	unsigned last_report_boot;

	uint64_t *dedup;
	double max_time_s;
	bool in_replay;
	unsigned boot;
	uint64_t records_in_boot;
	char boot_id[KLOG_BOOT_ID_MAX];

	double last_time_s;
	int64_t last_wall_us;
	/* the previous record, for bare continuation lines of a timestamped log */
	bool prev_timed;
	double prev_time_s;
	char prev_caller[KLOG_CALLER_MAX];

	struct klog_verdict verdict;
	struct klog_stats stats;
	int error;
	bool muted; /* the record is a copy: update state, emit nothing */
	char transition_line[KLOG_EVIDENCE_LINE_MAX];

	char detail[KLOG_REASON_MAX];
	char how_detail[KLOG_REASON_MAX];
	const char *ev_lines[KLOG_REPORT_LINES_MAX];
};

const char *klog_event_type_to_string(enum klog_event_type t)
{
	static const char *const table[_KLOG_EVENT_MAX] = {
		[KLOG_EVENT_MODULE_TAINT] = "module-taint",
		[KLOG_EVENT_MODULE_WARNING] = "module-warning",
		[KLOG_EVENT_MODULE_ERROR] = "module-error",
		[KLOG_EVENT_MODULE_INIT] = "module-init",
		[KLOG_EVENT_PATCH_ENABLING] = "patch-enabling",
		[KLOG_EVENT_TRANSITION_START] = "transition-start",
		[KLOG_EVENT_PATCH_ENABLED] = "patch-enabled",
		[KLOG_EVENT_PATCH_DISABLED] = "patch-disabled",
		[KLOG_EVENT_TRANSITION_REVERSED] = "transition-reversed",
		[KLOG_EVENT_TRANSITION_SIGNAL] = "transition-signal",
		[KLOG_EVENT_TRANSITION_FORCED] = "transition-forced",
		[KLOG_EVENT_TRANSITION_STALLED] = "transition-stalled",
		[KLOG_EVENT_TASK_BLOCKING] = "task-blocking",
		[KLOG_EVENT_PATCH_UNLOADED] = "patch-unloaded",
		[KLOG_EVENT_PATCH_TARGET] = "patch-target",
		[KLOG_EVENT_PATCH_ERROR] = "patch-error",
		[KLOG_EVENT_PATCH_MESSAGE] = "patch-message",
		[KLOG_EVENT_WARNING] = "warning",
		[KLOG_EVENT_BUG] = "bug",
		[KLOG_EVENT_OOPS] = "oops",
		[KLOG_EVENT_GPF] = "general-protection-fault",
		[KLOG_EVENT_PANIC] = "panic",
		[KLOG_EVENT_SOFT_LOCKUP] = "soft-lockup",
		[KLOG_EVENT_HARD_LOCKUP] = "hard-lockup",
		[KLOG_EVENT_RCU_STALL] = "rcu-stall",
		[KLOG_EVENT_HUNG_TASK] = "hung-task",
		[KLOG_EVENT_KASAN] = "kasan",
		[KLOG_EVENT_UBSAN] = "ubsan",
		[KLOG_EVENT_KFENCE] = "kfence",
		[KLOG_EVENT_SLEEP_IN_ATOMIC] = "sleep-in-atomic",
		[KLOG_EVENT_BOOT] = "boot",
	};

	return t >= 0 && t < _KLOG_EVENT_MAX ? table[t] : NULL;
}

enum klog_event_type klog_event_type_from_string(const char *s)
{
	for (int t = 0; t < _KLOG_EVENT_MAX; t++)
		if (s && streq(s, klog_event_type_to_string(t)))
			return t;
	return _KLOG_EVENT_INVALID;
}

const char *klog_severity_to_string(enum klog_severity s)
{
	static const char *const table[_KLOG_SEVERITY_MAX] = {
		[KLOG_SEVERITY_INFO] = "info",
		[KLOG_SEVERITY_WARNING] = "warning",
		[KLOG_SEVERITY_ERROR] = "error",
		[KLOG_SEVERITY_TROUBLE] = "trouble",
	};

	return s >= 0 && s < _KLOG_SEVERITY_MAX ? table[s] : NULL;
}

const char *klog_how_to_string(enum klog_how h)
{
	static const char *const table[_KLOG_HOW_MAX] = {
		[KLOG_HOW_MODULE] = "module",
		[KLOG_HOW_FRAME] = "frame",
		[KLOG_HOW_PATCHED_FUNCTION] = "patched-function",
		[KLOG_HOW_UNRELIABLE_FRAME] = "unreliable-frame",
		[KLOG_HOW_TIME_WINDOW] = "time-window",
		[KLOG_HOW_RECENT] = "recent",
		[KLOG_HOW_TRANSITION] = "transition",
	};

	return h >= 0 && h < _KLOG_HOW_MAX ? table[h] : NULL;
}

const char *klog_patch_state_to_string(enum klog_patch_state s)
{
	static const char *const table[_KLOG_PATCH_STATE_MAX] = {
		[KLOG_PATCH_SEEN] = "seen",
		[KLOG_PATCH_ENABLING] = "enabling",
		[KLOG_PATCH_PATCHING] = "patching",
		[KLOG_PATCH_ENABLED] = "enabled",
		[KLOG_PATCH_UNPATCHING] = "unpatching",
		[KLOG_PATCH_DISABLED] = "disabled",
		[KLOG_PATCH_UNLOADED] = "unloaded",
		[KLOG_PATCH_FAILED] = "failed",
	};

	return s >= 0 && s < _KLOG_PATCH_STATE_MAX ? table[s] : NULL;
}

const char *klog_verdict_kind_to_string(enum klog_verdict_kind v)
{
	static const char *const table[_KLOG_VERDICT_MAX] = {
		[KLOG_VERDICT_OK] = "ok",
		[KLOG_VERDICT_SUSPECT] = "suspect",
		[KLOG_VERDICT_MISBEHAVED] = "misbehaved",
	};

	return v >= 0 && v < _KLOG_VERDICT_MAX ? table[v] : NULL;
}

const char *klog_form_to_string(enum klog_form f)
{
	static const char *const table[_KLOG_FORM_MAX] = {
		[KLOG_FORM_BARE] = "bare",
		[KLOG_FORM_DMESG] = "dmesg",
		[KLOG_FORM_DMESG_RAW] = "dmesg-raw",
		[KLOG_FORM_DMESG_CTIME] = "dmesg-ctime",
		[KLOG_FORM_DMESG_DECODE] = "dmesg-decode",
		[KLOG_FORM_ISO] = "iso",
		[KLOG_FORM_KMSG] = "kmsg",
		[KLOG_FORM_SYSLOG] = "syslog",
		[KLOG_FORM_SYSLOG_ISO] = "syslog-iso",
		[KLOG_FORM_JOURNAL_JSON] = "journal-json",
		[KLOG_FORM_CONSOLE] = "console",
	};

	return f >= 0 && f < _KLOG_FORM_MAX ? table[f] : NULL;
}

enum klog_severity klog_event_type_severity(enum klog_event_type t)
{
	switch (t) {
	case KLOG_EVENT_MODULE_WARNING:
	case KLOG_EVENT_TRANSITION_REVERSED:
	case KLOG_EVENT_TRANSITION_SIGNAL:
		return KLOG_SEVERITY_WARNING;
	case KLOG_EVENT_MODULE_ERROR:
	case KLOG_EVENT_TRANSITION_FORCED:
	case KLOG_EVENT_TRANSITION_STALLED:
	case KLOG_EVENT_PATCH_ERROR:
		return KLOG_SEVERITY_ERROR;
	case KLOG_EVENT_WARNING:
	case KLOG_EVENT_BUG:
	case KLOG_EVENT_OOPS:
	case KLOG_EVENT_GPF:
	case KLOG_EVENT_PANIC:
	case KLOG_EVENT_SOFT_LOCKUP:
	case KLOG_EVENT_HARD_LOCKUP:
	case KLOG_EVENT_RCU_STALL:
	case KLOG_EVENT_HUNG_TASK:
	case KLOG_EVENT_KASAN:
	case KLOG_EVENT_UBSAN:
	case KLOG_EVENT_KFENCE:
	case KLOG_EVENT_SLEEP_IN_ATOMIC:
		return KLOG_SEVERITY_TROUBLE;
	default:
		return KLOG_SEVERITY_INFO;
	}
}

const char *klog_taint_name(char letter)
{
	/* include/linux/panic.h and kernel/panic.c (taint_flags) */
	switch (letter) {
	case 'P': return "PROPRIETARY_MODULE";
	case 'F': return "FORCED_MODULE";
	case 'S': return "CPU_OUT_OF_SPEC";
	case 'R': return "FORCED_RMMOD";
	case 'M': return "MACHINE_CHECK";
	case 'B': return "BAD_PAGE";
	case 'U': return "USER";
	case 'D': return "DIE";
	case 'A': return "OVERRIDDEN_ACPI_TABLE";
	case 'W': return "WARN";
	case 'C': return "CRAP";
	case 'I': return "FIRMWARE_WORKAROUND";
	case 'O': return "OOT_MODULE";
	case 'E': return "UNSIGNED_MODULE";
	case 'L': return "SOFTLOCKUP";
	case 'K': return "LIVEPATCH";
	case 'X': return "AUX";
	case 'T': return "RANDSTRUCT";
	case 'N': return "TEST";
	default: return NULL;
	}
}

void klog_options_init(struct klog_options *o)
{
	time_t now = time(NULL);
	/* days since the epoch -> civil year, without gmtime() */
	int64_t z = (int64_t)now / 86400 + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
	int64_t y = (int64_t)yoe + era * 400 + ((mp < 10 ? mp + 3 : mp - 9) <= 2);

	*o = (struct klog_options){
		.window_s = 60,
		.stall_s = 15,
		.since_s = -1,
		.year = (int)y,
	};
}

static void copy_str(char *dst, size_t size, const char *s, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

/* Function names match without GCC's clone suffixes (".cold", ".isra.0", ".constprop.0"). */
static bool same_function(const char *a, const char *b)
{
	size_t la = strcspn(a, "."), lb = strcspn(b, ".");

	return la == lb && la > 0 && memcmp(a, b, la) == 0;
}

static struct patch *find_patch(struct klog_parser *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->n_patches; i++)
		if (strlen(p->patches[i].name) == len && memcmp(p->patches[i].name, name, len) == 0)
			return &p->patches[i];
	return NULL;
}

static void patch_add_function(struct patch *pt, const char *f, size_t len)
{
	char buf[KLOG_SYMBOL_MAX];

	copy_str(buf, sizeof(buf), f, len);
	for (size_t i = 0; i < pt->n_funcs; i++)
		if (streq(pt->funcs[i], buf))
			return;
	if (pt->n_funcs >= KLOG_PATCH_FUNCS_MAX)
		return;
	memcpy(pt->funcs[pt->n_funcs], buf, sizeof(buf));
	pt->func_ptrs[pt->n_funcs] = pt->funcs[pt->n_funcs];
	pt->n_funcs++;
	pt->func_ptrs[pt->n_funcs] = NULL;
}

/*
 * Finds or adds a patch.  When the table is full, the least recently used
 * entry that is neither declared nor in a transition makes room; the order
 * of the others is kept.
 */
static struct patch *get_patch(struct klog_parser *p, const char *name, size_t len)
{
	struct patch *pt = find_patch(p, name, len);
	size_t victim = SIZE_MAX;

	if (!pt && !klog_is_module_name(name, len))
		return NULL;
	if (pt) {
		pt->last_use = ++p->use_counter;
		return pt;
	}
	if (p->n_patches >= KLOG_PATCHES_MAX) {
		for (size_t i = 0; i < p->n_patches; i++) {
			struct patch *c = &p->patches[i];

			if (c->declared || c == p->transition)
				continue;
			if (victim == SIZE_MAX || c->last_use < p->patches[victim].last_use)
				victim = i;
		}
		p->stats.patches_dropped++;
		if (victim == SIZE_MAX)
			return NULL;
		memmove(&p->patches[victim], &p->patches[victim + 1],
			(p->n_patches - victim - 1) * sizeof(*p->patches));
		p->n_patches--;
		if (p->transition > &p->patches[victim])
			p->transition--;
		/* func_ptrs point into the moved entries: rebuild them. */
		for (size_t i = victim; i < p->n_patches; i++)
			for (size_t k = 0; k < p->patches[i].n_funcs; k++)
				p->patches[i].func_ptrs[k] = p->patches[i].funcs[k];
	}
	pt = &p->patches[p->n_patches++];
	*pt = (struct patch){
		.state = KLOG_PATCH_SEEN,
		.enabled_s = -1,
		.transition_s = -1,
		.enable_ref_s = -1,
		.enable_ref_wall = -1,
		.boot = p->boot,
		.last_use = ++p->use_counter,
	};
	copy_str(pt->name, sizeof(pt->name), name, len);
	return pt;
}

static bool patch_active(const struct patch *pt)
{
	return pt->state == KLOG_PATCH_PATCHING || pt->state == KLOG_PATCH_ENABLED ||
	       pt->state == KLOG_PATCH_UNPATCHING;
}

struct klog_parser *klog_parser_new(const struct klog_options *opts)
{
	struct klog_parser *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (opts)
		p->opts = *opts;
	else
		klog_options_init(&p->opts);
	p->reports = calloc(OPEN_REPORTS_MAX, sizeof(*p->reports));
	p->patches = calloc(KLOG_PATCHES_MAX, sizeof(*p->patches));
	p->dedup = calloc((size_t)1 << DEDUP_BITS, sizeof(uint64_t));
	if (!p->reports || !p->patches || !p->dedup)
		return klog_parser_free(p);
	p->ls.year = p->opts.year > 0 ? p->opts.year : 1970;
	p->max_time_s = -1;
	p->last_time_s = -1;
	p->last_wall_us = -1;
	p->recent_s = -1;
	p->last_report_s = -1;
	p->verdict.time_s = -1;
	p->verdict.event = _KLOG_EVENT_INVALID;
	p->verdict.how = _KLOG_HOW_INVALID;
	p->stats.boots = 1;
	/* The declared patches are copied: the caller's specs need not outlive the parser. */
	for (size_t i = 0; i < p->opts.n_patches && p->n_patches < KLOG_PATCHES_MAX; i++) {
		const struct klog_patch_spec *s = &p->opts.patches[i];
		struct patch *pt;

		if (!s->name)
			continue;
		pt = get_patch(p, s->name, strlen(s->name));
		if (!pt)
			continue;
		pt->declared = true;
		pt->livepatch = true;
		for (const char *const *f = s->functions; f && *f; f++)
			patch_add_function(pt, *f, strlen(*f));
	}
	p->opts.patches = NULL;
	p->opts.n_patches = 0;
	return p;
}

struct klog_parser *klog_parser_free(struct klog_parser *p)
{
	if (!p)
		return NULL;
	free(p->reports);
	free(p->patches);
	free(p->dedup);
	free(p);
	return NULL;
}

static size_t n_declared(const struct klog_parser *p, struct patch **ret)
{
	size_t n = 0;

	for (size_t i = 0; i < p->n_patches; i++)
		if (p->patches[i].declared) {
			n++;
			*ret = &p->patches[i];
		}
	return n;
}

static bool event_counted(const struct klog_parser *p, double t)
{
	return p->opts.since_s < 0 || t < 0 || t >= p->opts.since_s;
}

static const char *how_phrase(enum klog_how h)
{
	switch (h) {
	case KLOG_HOW_MODULE:
		return "the message names livepatch";
	case KLOG_HOW_FRAME:
		return "a frame is in livepatch";
	case KLOG_HOW_PATCHED_FUNCTION:
		return "a frame is in a function replaced by livepatch";
	case KLOG_HOW_UNRELIABLE_FRAME:
		return "an unreliable frame is in livepatch";
	case KLOG_HOW_TIME_WINDOW:
		return "within the window after enabling livepatch";
	case KLOG_HOW_RECENT:
		return "right after loading livepatch";
	case KLOG_HOW_TRANSITION:
		return "the transition of livepatch";
	default:
		return "";
	}
}

static void add_evidence(struct klog_verdict *v, const char *line)
{
	if (v->n_evidence >= KLOG_EVIDENCE_MAX)
		return;
	for (size_t i = 0; i < v->n_evidence; i++)
		if (strncmp(v->evidence[i], line, KLOG_EVIDENCE_LINE_MAX - 1) == 0)
			return;
	snprintf(v->evidence[v->n_evidence++], KLOG_EVIDENCE_LINE_MAX, "%s", line);
}

/* Evidence of a report: its header, the lines naming the patch, CPU, RIP and module list. */
static void report_evidence(struct klog_verdict *v, const struct klog_event *ev)
{
	const char *patch = ev->implicates ? ev->implicates->patch : NULL;
	char tag[KLOG_NAME_MAX + 2] = "";
	size_t frames = 0;

	bool header_passed = false, rip_added = false;

	if (patch)
		snprintf(tag, sizeof(tag), "[%s", patch);
	for (size_t i = 0; i < ev->n_lines; i++) {
		const char *l = ev->lines[i];

		if (!header_passed) {
			/* the header and what precedes it (a WARN's message), not the markers */
			if (strstr(l, "[ cut here ]") || strstr(l, "=========="))
				continue;
			add_evidence(v, l);
			header_passed = strstr(l, ev->message) != NULL;
			continue;
		}
		/* the kernel RIP once (Oops repeats the registers), not user space's */
		if (strstr(l, "RIP: 0010:") || strstr(l, "] pc : ")) {
			if (!rip_added)
				add_evidence(v, l);
			rip_added = true;
			continue;
		}
		if ((tag[0] && strstr(l, tag)) || strstr(l, "Modules linked in:") ||
		    strstr(l, "Comm: "))
			add_evidence(v, l);
	}
	/* the first frames show how the fault was reached */
	for (size_t i = 0; i < ev->n_lines && frames < 4; i++) {
		struct klog_frame f;
		const char *t = strchr(ev->lines[i], ']');

		t = t ? t + 1 : ev->lines[i];
		if (t[0] == ' ' && klog_parse_frame(t, strlen(t), &f) && f.reliable) {
			add_evidence(v, ev->lines[i]);
			frames++;
		}
	}
}

static void update_verdict(struct klog_parser *p, const struct klog_event *ev)
{
	struct klog_verdict *v = &p->verdict;
	bool misbehaved = ev->implicates && ev->severity >= KLOG_SEVERITY_ERROR;

	if (!ev->counted)
		return;
	if (ev->severity == KLOG_SEVERITY_TROUBLE)
		v->n_trouble++;
	else if (ev->severity == KLOG_SEVERITY_ERROR)
		v->n_errors++;
	if (ev->severity < KLOG_SEVERITY_ERROR)
		return;
	if (v->kind == KLOG_VERDICT_MISBEHAVED || (!misbehaved && v->kind == KLOG_VERDICT_SUSPECT))
		return;
	v->kind = misbehaved ? KLOG_VERDICT_MISBEHAVED : KLOG_VERDICT_SUSPECT;
	v->event = ev->type;
	v->time_s = ev->time_s;
	v->n_evidence = 0;
	v->patch[0] = '\0';
	v->how = _KLOG_HOW_INVALID;
	if (misbehaved) {
		snprintf(v->patch, sizeof(v->patch), "%s", ev->implicates->patch);
		v->how = ev->implicates->how;
		snprintf(v->reason, sizeof(v->reason), "%.24s: %.200s (%.48s '%.55s'%s%.120s)",
			 klog_event_type_to_string(ev->type), ev->message, how_phrase(v->how),
			 v->patch, ev->implicates->detail[0] ? ": " : "", ev->implicates->detail);
	} else {
		snprintf(v->reason, sizeof(v->reason), "%s: %.200s (not attributable to a livepatch)",
			 klog_event_type_to_string(ev->type), ev->message);
	}
	if (ev->report)
		report_evidence(v, ev);
	else
		for (size_t i = 0; i < ev->n_lines; i++)
			add_evidence(v, ev->lines[i]);
}

static int emit(struct klog_parser *p, struct klog_event *ev)
{
	int r = 0;

	if (p->muted)
		return 0;
	ev->counted = event_counted(p, ev->time_s);
	ev->boot = p->boot;
	p->stats.events++;
	if (ev->severity >= 0 && ev->severity < _KLOG_SEVERITY_MAX)
		p->stats.events_by_severity[ev->severity]++;
	if (ev->implicates) {
		struct patch *pt = find_patch(p, ev->implicates->patch, strlen(ev->implicates->patch));

		if (pt && ev->severity >= KLOG_SEVERITY_ERROR) {
			pt->misbehaved = true;
			if (ev->severity == KLOG_SEVERITY_TROUBLE)
				pt->n_trouble++;
		}
	}
	update_verdict(p, ev);
	if (p->opts.on_event)
		r = p->opts.on_event(ev, p->opts.userdata);
	if (r < 0 && p->error == 0)
		p->error = r;
	return r < 0 ? r : 0;
}

/* A single-line event of the catalogue. */
static int emit_simple(struct klog_parser *p, const struct klog_record *rec,
		       enum klog_event_type type, enum klog_severity sev, const char *patch,
		       const char *module, const char *function, const char *detail,
		       const struct klog_attribution *a)
{
	const char *lines[1] = { rec->raw };
	struct klog_event ev = {
		.type = type,
		.severity = sev,
		.level = rec->level,
		.time_s = rec->time_s,
		.wall_us = rec->wall_us,
		.patch = patch,
		.module = module,
		.function = function,
		.detail = detail,
		.message = rec->text,
		.lines = lines,
		.n_lines = 1,
		.implicates = a,
	};

	return emit(p, &ev);
}

/* ---- trouble reports ---- */

static bool is_livepatch_module(struct klog_parser *p, const struct open_report *o,
				const char *name)
{
	struct patch *pt;
	char flags[16];

	if (!name[0])
		return false;
	pt = find_patch(p, name, strlen(name));
	if (pt && pt->livepatch)
		return true;
	return o->has_modules && klog_modules_find(o->modules, name, flags, sizeof(flags)) &&
	       strchr(flags, 'K');
}

static void frame_text(char *buf, size_t size, const struct klog_frame *f)
{
	snprintf(buf, size, "%s+0x%llx/0x%llx%s%s%s", f->function, (unsigned long long)f->offset,
		 (unsigned long long)f->size, f->module[0] ? " [" : "", f->module,
		 f->module[0] ? "]" : "");
}

/*
 * The module list of a report tells which livepatches are loaded (flag K)
 * and which disabled patches are gone.
 */
static int note_module_list(struct klog_parser *p, struct open_report *o)
{
	const char *s = o->modules;
	int r = 0;

	while (*s) {
		const char *tok, *par;

		while (*s == ' ')
			s++;
		tok = s;
		while (*s && *s != ' ')
			s++;
		if (s == tok)
			continue;
		if (tok[0] == '[') {
			/* "[last unloaded: name(OEK)]" is gone: skip to the ']' */
			while (*s && s[-1] != ']') {
				while (*s == ' ')
					s++;
				while (*s && *s != ' ')
					s++;
			}
			continue;
		}
		par = memchr(tok, '(', (size_t)(s - tok));
		if (par && memchr(par, 'K', (size_t)(s - par))) {
			struct patch *pt = get_patch(p, tok, (size_t)(par - tok));

			if (pt)
				pt->livepatch = true;
		}
	}
	for (size_t i = 0; i < p->n_patches && r >= 0; i++) {
		struct patch *pt = &p->patches[i];
		char flags[16];

		if (pt->state != KLOG_PATCH_DISABLED || pt->boot != p->boot ||
		    klog_modules_find(o->modules, pt->name, flags, sizeof(flags)))
			continue;
		pt->state = KLOG_PATCH_UNLOADED;
		{
			const char *lines[1] = { o->message };
			struct klog_event ev = {
				.type = KLOG_EVENT_PATCH_UNLOADED,
				.severity = KLOG_SEVERITY_INFO,
				.level = -1,
				.time_s = o->time_s,
				.wall_us = o->wall_us,
				.patch = pt->name,
				.module = pt->name,
				.detail = "absent from the module list of a later report",
				.message = o->message,
				.lines = lines,
				.n_lines = 1,
			};

			r = emit(p, &ev);
		}
	}
	return r;
}

static bool attribute_report(struct klog_parser *p, struct open_report *o,
			     struct klog_attribution *a)
{
	const struct klog_frame *rip = o->info.has_rip_frame ? &o->info.rip_frame : NULL;
	struct patch *best = NULL;
	double best_t = -1;

	/* 1. the faulting code or a reliable frame is in a livepatch module */
	if (rip && rip->reliable && is_livepatch_module(p, o, rip->module)) {
		struct patch *pt = get_patch(p, rip->module, strlen(rip->module));

		frame_text(p->how_detail, sizeof(p->how_detail), rip);
		*a = (struct klog_attribution){ pt ? pt->name : rip->module, KLOG_HOW_FRAME,
						p->how_detail };
		return true;
	}
	for (size_t i = 0; i < o->n_frames; i++) {
		const struct klog_frame *f = &o->frames[i];

		if (f->reliable && is_livepatch_module(p, o, f->module)) {
			struct patch *pt = get_patch(p, f->module, strlen(f->module));

			frame_text(p->how_detail, sizeof(p->how_detail), f);
			*a = (struct klog_attribution){ pt ? pt->name : f->module, KLOG_HOW_FRAME,
							p->how_detail };
			return true;
		}
	}
	/* 2. a reliable frame is in a function an active patch replaces */
	for (size_t k = 0; k < p->n_patches; k++) {
		struct patch *pt = &p->patches[k];

		if (!patch_active(pt) || pt->boot != o->boot)
			continue;
		for (size_t j = 0; j < pt->n_funcs; j++) {
			if (rip && rip->reliable && same_function(rip->function, pt->funcs[j])) {
				frame_text(p->how_detail, sizeof(p->how_detail), rip);
				*a = (struct klog_attribution){ pt->name, KLOG_HOW_PATCHED_FUNCTION,
								p->how_detail };
				return true;
			}
			for (size_t i = 0; i < o->n_frames; i++)
				if (o->frames[i].reliable &&
				    same_function(o->frames[i].function, pt->funcs[j])) {
					frame_text(p->how_detail, sizeof(p->how_detail), &o->frames[i]);
					*a = (struct klog_attribution){ pt->name,
									KLOG_HOW_PATCHED_FUNCTION,
									p->how_detail };
					return true;
				}
		}
	}
	/* 3. only an unreliable ("? ") frame is in a livepatch module */
	for (size_t i = 0; i < o->n_frames; i++) {
		const struct klog_frame *f = &o->frames[i];

		if (!f->reliable && is_livepatch_module(p, o, f->module)) {
			struct patch *pt = get_patch(p, f->module, strlen(f->module));

			frame_text(p->how_detail, sizeof(p->how_detail), f);
			*a = (struct klog_attribution){ pt ? pt->name : f->module,
							KLOG_HOW_UNRELIABLE_FRAME, p->how_detail };
			return true;
		}
	}
	/* 4. a panic right after an attributed report */
	if (o->type == KLOG_EVENT_PANIC && p->last_patch[0] && p->last_report_boot == o->boot &&
	    o->time_s >= 0 && p->last_report_s >= 0 && o->time_s - p->last_report_s <= PANIC_INHERIT_S) {
		struct patch *pt = find_patch(p, p->last_patch, strlen(p->last_patch));

		if (pt) {
			snprintf(p->how_detail, sizeof(p->how_detail), "follows the report it caused");
			*a = (struct klog_attribution){ pt->name, p->last_how, p->how_detail };
			return true;
		}
	}
	/* 5. within the window after a patch was enabled (the most recent one) */
	if (p->opts.window_s > 0) {
		for (size_t k = 0; k < p->n_patches; k++) {
			struct patch *pt = &p->patches[k];
			double d;

			if (pt->boot != o->boot || !pt->livepatch)
				continue;
			if (o->time_s >= 0 && pt->enable_ref_s >= 0)
				d = o->time_s - pt->enable_ref_s;
			else if (o->wall_us >= 0 && pt->enable_ref_wall >= 0)
				d = (double)(o->wall_us - pt->enable_ref_wall) / 1e6;
			else
				continue;
			if (d >= 0 && d <= p->opts.window_s && (!best || d < best_t)) {
				best = pt;
				best_t = d;
			}
		}
		if (best) {
			snprintf(p->how_detail, sizeof(p->how_detail), "%.1f s after '%s' was enabled",
				 best_t, best->name);
			*a = (struct klog_attribution){ best->name, KLOG_HOW_TIME_WINDOW,
							p->how_detail };
			return true;
		}
	}
	return false;
}

static int close_report(struct klog_parser *p, struct open_report *o)
{
	struct klog_attribution a;
	bool attributed, muted;
	struct klog_event ev;
	int r = 0;

	if (!o->active)
		return 0;
	o->active = false;
	if (o->pending || !o->header_seen)
		return 0; /* "cut here" or a separator that no report followed */
	muted = p->muted;
	p->muted = o->muted;
	if (o->has_modules)
		r = note_module_list(p, o);
	if (r < 0) {
		p->muted = muted;
		return r;
	}
	o->info.frames = o->frames;
	o->info.n_frames = o->n_frames;
	o->info.frames_dropped = o->frames_dropped;
	o->info.modules = o->has_modules ? o->modules : NULL;
	o->info.modules_truncated = o->modules_truncated;
	attributed = attribute_report(p, o, &a);
	ev = (struct klog_event){
		.type = o->type,
		.severity = KLOG_SEVERITY_TROUBLE,
		.level = o->level,
		.time_s = o->time_s,
		.wall_us = o->wall_us,
		.patch = attributed ? a.patch : NULL,
		.module = o->info.has_rip_frame && o->info.rip_frame.module[0]
				  ? o->info.rip_frame.module
				  : NULL,
		.function = o->info.has_rip_frame ? o->info.rip_frame.function : NULL,
		.detail = o->info.location[0] ? o->info.location : NULL,
		.message = o->message,
		.lines = o->lines,
		.n_lines = o->n_lines,
		.lines_dropped = o->lines_dropped,
		.report = &o->info,
		.implicates = attributed ? &a : NULL,
	};
	if (attributed) {
		copy_str(p->last_patch, sizeof(p->last_patch), a.patch, strlen(a.patch));
		p->last_how = a.how;
	} else {
		p->last_patch[0] = '\0';
	}
	p->last_report_s = o->time_s;
	p->last_report_boot = o->boot;
	r = emit(p, &ev);
	p->muted = muted;
	return r;
}

static int close_all_reports(struct klog_parser *p)
{
	int r = 0;

	for (size_t i = 0; i < OPEN_REPORTS_MAX && r >= 0; i++)
		r = close_report(p, &p->reports[i]);
	return r;
}

static void report_add_line(struct open_report *o, const struct klog_record *rec)
{
	size_t n = rec->raw_len;

	o->span++;
	if (rec->time_s >= 0)
		o->last_s = rec->time_s;
	if (o->n_lines >= KLOG_REPORT_LINES_MAX || o->text_used + n + 1 > sizeof(o->text)) {
		o->lines_dropped++;
		return;
	}
	memcpy(o->text + o->text_used, rec->raw, n);
	o->text[o->text_used + n] = '\0';
	o->lines[o->n_lines++] = o->text + o->text_used;
	o->text_used += n + 1;
}

static void report_scan(struct open_report *o, const struct klog_record *rec, bool hdr)
{
	const char *mods;
	size_t ml;

	if (rec->cont && o->modules_last && !o->modules_truncated) {
		/* a module list the console broke over two lines */
		size_t l = strlen(o->modules), skip = strspn(rec->text, " \t");

		o->modules_truncated = l + 1 + rec->text_len - skip >= sizeof(o->modules);
		if (!o->modules_truncated) {
			o->modules[l] = ' ';
			memcpy(o->modules + l + 1, rec->text + skip, rec->text_len - skip + 1);
		}
		return;
	}
	o->modules_last = false;
	if (!hdr && (rec->text[0] == ' ' || rec->text[0] == '\t')) {
		struct klog_frame f;

		if (klog_parse_frame(rec->text, rec->text_len, &f)) {
			if (o->n_frames < KLOG_REPORT_FRAMES_MAX)
				o->frames[o->n_frames++] = f;
			else
				o->frames_dropped++;
		}
		return;
	}
	if (klog_report_scan_line(&o->info, rec->text, rec->text_len, o->type, hdr, &mods, &ml) &&
	    !o->has_modules) {
		o->modules_truncated = ml >= sizeof(o->modules);
		copy_str(o->modules, sizeof(o->modules), mods, ml);
		o->has_modules = true;
		o->modules_last = true;
	}
}

static struct open_report *open_report(struct klog_parser *p, const struct klog_record *rec,
				       int *r)
{
	struct open_report *o = NULL, *oldest = NULL;

	for (size_t i = 0; i < OPEN_REPORTS_MAX; i++) {
		if (!p->reports[i].active) {
			o = &p->reports[i];
			break;
		}
		if (!oldest || p->reports[i].span > oldest->span)
			oldest = &p->reports[i];
	}
	if (!o) {
		*r = close_report(p, oldest);
		o = oldest;
	}
	o->active = true;
	o->pending = false;
	o->sanitizer = false;
	o->header_seen = false;
	o->state = RS_HEAD;
	o->type = _KLOG_EVENT_INVALID;
	copy_str(o->caller, sizeof(o->caller), rec->caller, strlen(rec->caller));
	o->time_s = rec->time_s;
	o->last_s = rec->time_s;
	o->wall_us = rec->wall_us;
	o->level = rec->level;
	o->boot = p->boot;
	o->pending_lines = 0;
	o->span = 0;
	o->head_other = 0;
	o->message[0] = '\0';
	o->text_used = 0;
	o->n_lines = 0;
	o->lines_dropped = 0;
	o->header_line = 0;
	o->n_frames = 0;
	o->frames_dropped = 0;
	o->has_modules = false;
	o->modules_truncated = false;
	o->modules_last = false;
	o->info = (struct klog_report){ .cpu = -1, .pid = -1 };
	return o;
}

static void set_header(struct klog_parser *p, struct open_report *o,
		       const struct klog_record *rec, enum klog_event_type type)
{
	o->pending = false;
	o->header_seen = true;
	o->muted = p->muted;
	o->type = type;
	o->sanitizer = o->sanitizer || type == KLOG_EVENT_KASAN || type == KLOG_EVENT_UBSAN ||
		       type == KLOG_EVENT_KFENCE;
	/* The header's time dates the report (not the "cut here" line). */
	if (rec->time_s >= 0)
		o->time_s = rec->time_s;
	if (rec->wall_us >= 0)
		o->wall_us = rec->wall_us;
	if (rec->level >= 0)
		o->level = rec->level;
	copy_str(o->message, sizeof(o->message), rec->text, rec->text_len);
	o->header_line = o->n_lines;
}

/*
 * Feeds a record to the report machinery.  *consumed tells whether it
 * belonged to a report (the catalogue still sees every line).
 */
static int report_record(struct klog_parser *p, const struct klog_record *rec)
{
	enum klog_event_type type = _KLOG_EVENT_INVALID, merged;
	enum klog_line_kind kind = klog_report_classify(rec->text, rec->text_len, &type);
	struct open_report *o = NULL;
	int r = 0;

	for (size_t i = 0; i < OPEN_REPORTS_MAX; i++)
		if (p->reports[i].active && streq(p->reports[i].caller, rec->caller)) {
			o = &p->reports[i];
			break;
		}
	if (o && ((rec->time_s >= 0 && o->last_s >= 0 && rec->time_s - o->last_s > REPORT_GAP_S) ||
		  o->span > REPORT_SPAN_MAX)) {
		r = close_report(p, o);
		o = NULL;
		if (r < 0)
			return r;
	}

	if (o) {
		switch (kind) {
		case KLOG_LINE_HEADER:
			if (o->pending) {
				report_add_line(o, rec);
				set_header(p, o, rec, type);
				report_scan(o, rec, true);
				return 0;
			}
			if (o->state == RS_HEAD &&
			    klog_report_header_continues(o->type, rec->text, rec->text_len, type,
							 &merged)) {
				report_add_line(o, rec);
				o->type = merged;
				return 0;
			}
			r = close_report(p, o);
			o = NULL;
			break;
		case KLOG_LINE_CUT_HERE:
			if (o->pending) {
				report_add_line(o, rec);
				return 0;
			}
			r = close_report(p, o);
			o = NULL;
			break;
		case KLOG_LINE_SEPARATOR:
			if (o->pending) {
				report_add_line(o, rec);
				return 0;
			}
			if (o->sanitizer) {
				report_add_line(o, rec);
				return close_report(p, o);
			}
			/* a separator after another report: it may open a sanitizer report */
			r = close_report(p, o);
			o = NULL;
			break;
		case KLOG_LINE_END:
			report_add_line(o, rec);
			if (o->pending)
				o->active = false;
			else
				o->state = RS_TAIL;
			return 0;
		case KLOG_LINE_END_PANIC:
			report_add_line(o, rec);
			return close_report(p, o);
		case KLOG_LINE_CALL_TRACE:
			report_add_line(o, rec);
			if (!o->sanitizer && o->state == RS_HEAD)
				o->state = RS_TRACE;
			return 0;
		case KLOG_LINE_OTHER:
			if (o->pending) {
				report_add_line(o, rec);
				if (++o->pending_lines > PENDING_LINES_MAX)
					o->active = false;
				return 0;
			}
			if (o->sanitizer ? o->span < SANITIZER_SPAN_MAX : o->state == RS_HEAD) {
				/*
				 * Before the call trace anything may belong to the report, but a
				 * header no trace follows ("BUG: ..." from a driver) must not
				 * swallow the log.
				 */
				if (!o->sanitizer && !klog_report_trace_line(rec->text, rec->text_len) &&
				    ++o->head_other > HEAD_OTHER_MAX)
					return close_report(p, o);
				report_add_line(o, rec);
				report_scan(o, rec, false);
				return 0;
			}
			if ((rec->cont && o->modules_last) ||
			    (o->state == RS_TRACE && klog_report_trace_line(rec->text, rec->text_len)) ||
			    (o->state == RS_TAIL && klog_report_tail_line(rec->text, rec->text_len))) {
				report_add_line(o, rec);
				report_scan(o, rec, false);
				return 0;
			}
			return close_report(p, o);
		}
		if (r < 0)
			return r;
	}

	switch (kind) {
	case KLOG_LINE_HEADER:
		o = open_report(p, rec, &r);
		report_add_line(o, rec);
		set_header(p, o, rec, type);
		report_scan(o, rec, true);
		break;
	case KLOG_LINE_CUT_HERE:
		o = open_report(p, rec, &r);
		o->pending = true;
		report_add_line(o, rec);
		break;
	case KLOG_LINE_SEPARATOR:
		o = open_report(p, rec, &r);
		o->pending = true;
		o->sanitizer = true;
		report_add_line(o, rec);
		break;
	default:
		break;
	}
	return r;
}

/* ---- livepatch lifecycle ---- */

static int emit_stalled(struct klog_parser *p, struct patch *pt, const struct klog_record *rec,
			const char *why, bool with_line)
{
	struct klog_attribution a = { pt->name, KLOG_HOW_TRANSITION, p->how_detail };
	const char **lines = p->ev_lines;
	size_t n = 0;
	double open_s = rec->time_s >= 0 && pt->transition_s >= 0 ? rec->time_s - pt->transition_s
								  : -1;
	struct klog_event ev;

	pt->stalled_reported = true;
	pt->stalled = true;
	if (p->transition == pt && p->transition_line[0])
		lines[n++] = p->transition_line;
	for (size_t i = 0; i < p->n_blockers; i++)
		lines[n++] = p->blockers[i].line;
	if (with_line)
		lines[n++] = rec->raw;
	if (p->n_blockers > 0)
		snprintf(p->how_detail, sizeof(p->how_detail), "blocked by %s (%s)",
			 p->blockers[0].task, p->blockers[0].reason);
	else
		p->how_detail[0] = '\0';
	if (open_s >= 0)
		snprintf(p->detail, sizeof(p->detail), "%s transition open for %.1f s: %s",
			 pt->state == KLOG_PATCH_UNPATCHING ? "unpatching" : "patching", open_s, why);
	else
		snprintf(p->detail, sizeof(p->detail), "%s transition: %s",
			 pt->state == KLOG_PATCH_UNPATCHING ? "unpatching" : "patching", why);
	ev = (struct klog_event){
		.type = KLOG_EVENT_TRANSITION_STALLED,
		.severity = KLOG_SEVERITY_ERROR,
		.level = -1,
		.time_s = rec->time_s,
		.wall_us = rec->wall_us,
		.patch = pt->name,
		.module = pt->name,
		.function = p->n_blockers > 0 && strstr(p->blockers[0].reason, "function ")
				    ? strstr(p->blockers[0].reason, "function ") + 9
				    : NULL,
		.detail = p->detail,
		.message = p->detail,
		.lines = lines,
		.n_lines = n,
		.implicates = &a,
	};
	return emit(p, &ev);
}

static void start_transition(struct klog_parser *p, struct patch *pt,
			     const struct klog_record *rec)
{
	double t = rec->time_s;

	pt->transition_open = true;
	pt->transition_s = t;
	pt->stalled_reported = false;
	if (!p->muted)
		pt->n_transitions++;
	p->transition = pt;
	p->n_blockers = 0;
	snprintf(p->transition_line, sizeof(p->transition_line), "%s", rec->raw);
}

static void end_transition(struct klog_parser *p, struct patch *pt)
{
	pt->transition_open = false;
	if (p->transition == pt) {
		p->transition = NULL;
		p->n_blockers = 0;
	}
}

/* Collects the captures of a catalogue entry by role. */
struct fields {
	struct klog_cap patch, module, object, function, comm, pid;
	char detail[KLOG_REASON_MAX];
};

static void collect_fields(const struct klog_catalog_entry *e, const struct klog_cap *caps,
			   size_t n, struct fields *f)
{
	size_t dl = 0;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < n && e->roles[i]; i++) {
		switch (e->roles[i]) {
		case 'p':
			f->patch = caps[i];
			break;
		case 'm':
			f->module = caps[i];
			break;
		case 'o':
			f->object = caps[i];
			break;
		case 'f':
			f->function = caps[i];
			break;
		case 'c':
			f->comm = caps[i];
			break;
		case 'n':
			f->pid = caps[i];
			break;
		case 'd':
			if (dl + caps[i].len + 2 < sizeof(f->detail)) {
				if (dl)
					f->detail[dl++] = ' ';
				memcpy(f->detail + dl, caps[i].p, caps[i].len);
				dl += caps[i].len;
			}
			break;
		default:
			break;
		}
	}
	f->detail[dl] = '\0';
	if (!dl && e->detail)
		snprintf(f->detail, sizeof(f->detail), "%s", e->detail);
}

static void note_recent(struct klog_parser *p, const char *name, size_t len,
			const struct klog_record *rec)
{
	if (strlen(p->recent) != len || memcmp(p->recent, name, len) != 0 ||
	    p->recent_boot != p->boot)
		p->recent_taint = 0;
	copy_str(p->recent, sizeof(p->recent), name, len);
	p->recent_s = rec->time_s;
	p->recent_wall = rec->wall_us;
	p->recent_boot = p->boot;
}

/* The module an unnamed loader or livepatch error belongs to. */
static struct patch *recent_patch(struct klog_parser *p, const struct klog_record *rec,
				  const char **ret_module)
{
	struct patch *pt = NULL;
	bool recent = p->recent[0] && p->recent_boot == p->boot;

	if (recent && rec->time_s >= 0 && p->recent_s >= 0 && rec->time_s - p->recent_s > RECENT_S)
		recent = false;
	if (recent) {
		*ret_module = p->recent;
		pt = find_patch(p, p->recent, strlen(p->recent));
		if (pt && pt->livepatch) {
			snprintf(p->how_detail, sizeof(p->how_detail), "'%s' was the module loading",
				 pt->name);
			return pt;
		}
		return NULL;
	}
	if (n_declared(p, &pt) == 1) {
		snprintf(p->how_detail, sizeof(p->how_detail), "'%s' is the only declared patch",
			 pt->name);
		return pt;
	}
	return NULL;
}

static int catalog_record(struct klog_parser *p, const struct klog_record *rec)
{
	struct klog_cap caps[KLOG_CAPS_MAX], mod = { 0 };
	enum klog_catalog_table table;
	const struct klog_catalog_entry *e;
	struct klog_attribution a = { NULL, KLOG_HOW_MODULE, "" };
	struct fields f;
	struct patch *pt = NULL;
	enum klog_event_type type;
	enum klog_severity sev;
	char module[KLOG_NAME_MAX] = "", function[KLOG_SYMBOL_MAX] = "";
	const char *modp = NULL;
	size_t n;

	e = klog_catalog_lookup(rec->text, rec->text_len, caps, &n, &mod, &table);
	if (!e) {
		/* any other livepatch line is kept: future kernels word things differently */
		if (rec->text_len > 11 && memcmp(rec->text, "livepatch: ", 11) == 0) {
			sev = rec->level >= 0 && rec->level <= 4 ? KLOG_SEVERITY_WARNING
								  : KLOG_SEVERITY_INFO;
			return emit_simple(p, rec, KLOG_EVENT_PATCH_MESSAGE, sev,
					   p->transition ? p->transition->name : NULL, NULL, NULL,
					   NULL, NULL);
		}
		return 0;
	}
	collect_fields(e, caps, n, &f);
	if (table == KLOG_TABLE_MODULE)
		f.module = mod;
	if (f.module.len)
		copy_str(module, sizeof(module), f.module.p, f.module.len);
	if (f.function.len)
		copy_str(function, sizeof(function), f.function.p, f.function.len);
	type = e->type;
	sev = e->severity;

	switch (e->action) {
	case KLOG_ACT_BOOT:
		return emit_simple(p, rec, KLOG_EVENT_BOOT, sev, NULL, NULL, NULL, NULL, NULL);
	case KLOG_ACT_ENABLING:
		pt = get_patch(p, f.patch.p, f.patch.len);
		if (!pt)
			return 0;
		pt->livepatch = true;
		pt->state = KLOG_PATCH_ENABLING;
		pt->boot = p->boot;
		note_recent(p, pt->name, strlen(pt->name), rec);
		return emit_simple(p, rec, type, sev, pt->name, pt->name, NULL, NULL, NULL);
	case KLOG_ACT_TRANSITION_DEBUG:
		pt = get_patch(p, f.patch.p, f.patch.len);
		if (pt)
			pt->livepatch = true;
		return 0;
	case KLOG_ACT_START:
		pt = get_patch(p, f.patch.p, f.patch.len);
		if (!pt)
			return 0;
		pt->livepatch = true;
		pt->boot = p->boot;
		if (streq(f.detail, "unpatching")) {
			int r = 0;

			if (pt->state == KLOG_PATCH_PATCHING && pt->transition_open && !pt->reversed) {
				const char *why = "patching to unpatching";

				r = emit_simple(p, rec, KLOG_EVENT_TRANSITION_REVERSED,
						KLOG_SEVERITY_WARNING, pt->name, pt->name, NULL, why,
						NULL);
				if (r < 0)
					return r;
			}
			if (!pt->reversed || !pt->transition_open)
				start_transition(p, pt, rec);
			pt->reversed = false;
			pt->state = KLOG_PATCH_UNPATCHING;
		} else {
			start_transition(p, pt, rec);
			pt->reversed = false;
			pt->state = KLOG_PATCH_PATCHING;
			pt->enable_ref_s = rec->time_s;
			pt->enable_ref_wall = rec->wall_us;
		}
		return emit_simple(p, rec, type, sev, pt->name, pt->name, NULL, f.detail, NULL);
	case KLOG_ACT_COMPLETE:
		pt = get_patch(p, f.patch.p, f.patch.len);
		if (!pt)
			return 0;
		pt->livepatch = true;
		end_transition(p, pt);
		pt->reversed = false;
		if (streq(f.detail, "unpatching")) {
			pt->state = KLOG_PATCH_DISABLED;
			type = KLOG_EVENT_PATCH_DISABLED;
		} else if (streq(f.detail, "patching")) {
			pt->state = KLOG_PATCH_ENABLED;
			pt->enabled_s = rec->time_s;
			pt->enable_ref_s = rec->time_s;
			pt->enable_ref_wall = rec->wall_us;
			type = KLOG_EVENT_PATCH_ENABLED;
		} else {
			return 0;
		}
		return emit_simple(p, rec, type, sev, pt->name, pt->name, NULL, f.detail, NULL);
	case KLOG_ACT_CANCEL:
	case KLOG_ACT_REVERSE:
		pt = get_patch(p, f.patch.p, f.patch.len);
		if (!pt)
			return 0;
		pt->livepatch = true;
		if (e->action == KLOG_ACT_REVERSE) {
			pt->state = pt->state == KLOG_PATCH_UNPATCHING ? KLOG_PATCH_PATCHING
								       : KLOG_PATCH_UNPATCHING;
			pt->reversed = true;
			start_transition(p, pt, rec);
		} else {
			pt->state = KLOG_PATCH_UNPATCHING;
		}
		return emit_simple(p, rec, type, sev, pt->name, pt->name, NULL, f.detail, NULL);
	case KLOG_ACT_SIGNAL:
	case KLOG_ACT_FORCE: {
		int r;

		pt = p->transition;
		if (pt)
			a.patch = pt->name;
		r = emit_simple(p, rec, type, sev, pt ? pt->name : NULL, pt ? pt->name : NULL, NULL,
				NULL, pt ? &a : NULL);
		if (r >= 0 && pt && !pt->stalled_reported)
			r = emit_stalled(p, pt, rec,
					 e->action == KLOG_ACT_SIGNAL
						 ? "the livepatch core signals the remaining tasks"
						 : "the remaining tasks were forced",
					 true);
		return r;
	}
	case KLOG_ACT_TASK: {
		char task[48];
		size_t i;

		pt = p->transition;
		snprintf(task, sizeof(task), "%.*s:%.*s", (int)(f.comm.len > 32 ? 32 : f.comm.len),
			 f.comm.p, (int)(f.pid.len > 12 ? 12 : f.pid.len), f.pid.p);
		if (pt && function[0])
			patch_add_function(pt, function, strlen(function));
		for (i = 0; i < p->n_blockers; i++)
			if (streq(p->blockers[i].task, task))
				return 0; /* reported again every second: once is enough */
		if (p->n_blockers < KLOG_BLOCKERS_MAX) {
			struct blocker *b = &p->blockers[p->n_blockers++];

			snprintf(b->task, sizeof(b->task), "%s", task);
			snprintf(b->reason, sizeof(b->reason), "%s%s%s",
				 e->detail ? e->detail : "error", function[0] ? " " : "", function);
			snprintf(b->line, sizeof(b->line), "%s", rec->raw);
		}
		snprintf(p->detail, sizeof(p->detail), "%s %s%s%s", task,
			 e->detail ? e->detail : "error", function[0] ? " " : "", function);
		return emit_simple(p, rec, type, sev, pt ? pt->name : NULL, NULL,
				   function[0] ? function : NULL, p->detail, NULL);
	}
	case KLOG_ACT_TARGET:
		pt = get_patch(p, f.patch.p, f.patch.len);
		if (pt)
			pt->livepatch = true;
		snprintf(p->detail, sizeof(p->detail), "%s %.*s", e->detail, (int)f.object.len,
			 f.object.p);
		return emit_simple(p, rec, type, sev, pt ? pt->name : NULL, NULL, NULL, p->detail,
				   NULL);
	case KLOG_ACT_PATCH_MESSAGE:
		return emit_simple(p, rec, type, sev, NULL, NULL, NULL, NULL, NULL);
	case KLOG_ACT_PATCH_ERROR:
		if (f.patch.len) {
			pt = get_patch(p, f.patch.p, f.patch.len);
			if (pt)
				pt->livepatch = true;
			p->how_detail[0] = '\0';
		} else {
			pt = recent_patch(p, rec, &modp);
			a.how = KLOG_HOW_RECENT;
		}
		if (pt) {
			pt->n_errors += !p->muted;
			if (pt->state == KLOG_PATCH_SEEN || pt->state == KLOG_PATCH_ENABLING)
				pt->state = KLOG_PATCH_FAILED;
			a.patch = pt->name;
			a.detail = p->how_detail;
		}
		return emit_simple(p, rec, type, sev, pt ? pt->name : NULL, pt ? pt->name : NULL,
				   function[0] ? function : NULL, f.detail[0] ? f.detail : NULL,
				   pt ? &a : NULL);
	case KLOG_ACT_TAINT: {
		char letter = e->detail ? e->detail[0] : '?';

		note_recent(p, module, strlen(module), rec);
		p->recent_taint |= KLOG_TAINT_BIT(letter);
		pt = find_patch(p, module, strlen(module));
		if (letter == 'K' || (pt && pt->declared))
			pt = get_patch(p, module, strlen(module));
		if (pt) {
			if (letter == 'K')
				pt->livepatch = true;
			pt->taint |= p->recent_taint;
			pt->boot = p->boot;
		}
		return emit_simple(p, rec, type, sev, pt && pt->livepatch ? pt->name : NULL, module,
				   NULL, e->detail, NULL);
	}
	case KLOG_ACT_INIT_CALL:
		note_recent(p, module, strlen(module), rec);
		return 0;
	case KLOG_ACT_INIT_RETURN:
	case KLOG_ACT_MODULE_ERROR:
	case KLOG_ACT_MODULE_WARNING:
		if (e->action == KLOG_ACT_INIT_RETURN) {
			/* detail is the return value */
			if (!streq(f.detail, "0"))
				sev = KLOG_SEVERITY_ERROR;
			note_recent(p, module, strlen(module), rec);
		}
		if (module[0]) {
			note_recent(p, module, strlen(module), rec);
			pt = find_patch(p, module, strlen(module));
			if (pt && !pt->livepatch)
				pt = NULL;
			p->how_detail[0] = '\0';
		} else {
			pt = recent_patch(p, rec, &modp);
			a.how = KLOG_HOW_RECENT;
			if (modp)
				copy_str(module, sizeof(module), modp, strlen(modp));
		}
		if (pt && sev >= KLOG_SEVERITY_ERROR) {
			pt->n_errors += !p->muted;
			if (!patch_active(pt))
				pt->state = KLOG_PATCH_FAILED;
		}
		if (pt) {
			a.patch = pt->name;
			a.detail = p->how_detail;
		}
		return emit_simple(p, rec, type, sev, pt ? pt->name : NULL,
				   module[0] ? module : NULL, function[0] ? function : NULL,
				   f.detail[0] ? f.detail : NULL, pt ? &a : NULL);
	case KLOG_ACT_NONE:
		break;
	}
	return 0;
}

/* ---- records ---- */

/* A fast 64-bit hash of a record (8 bytes a step); the boot keeps boots apart. */
static uint64_t fingerprint(unsigned boot, double t, const char *s, size_t n)
{
	uint64_t h = ((uint64_t)(t * 1e6 + 0.5) + ((uint64_t)boot << 48)) ^
		     (n * 0x9e3779b97f4a7c15ULL), w = 0;

	while (n >= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		s += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h | 1;
}

static int new_boot(struct klog_parser *p)
{
	int r = close_all_reports(p);

	if (r < 0)
		return r;
	p->boot++;
	p->stats.boots = p->boot + 1;
	p->records_in_boot = 0;
	p->transition = NULL;
	p->n_blockers = 0;
	p->recent[0] = '\0';
	p->max_time_s = -1; /* the fingerprints include the boot: no need to clear them */
	for (size_t i = 0; i < p->n_patches; i++) {
		struct patch *pt = &p->patches[i];

		/* a reboot unloads every patch */
		if (pt->state != KLOG_PATCH_SEEN && pt->state != KLOG_PATCH_FAILED)
			pt->state = KLOG_PATCH_UNLOADED;
		pt->transition_open = false;
	}
	return 0;
}

static int process_record(struct klog_parser *p, struct klog_record *rec)
{
	int r;

	p->stats.records++;
	p->stats.forms[rec->form]++;
	if (rec->malformed)
		p->stats.malformed++;
	if (rec->foreign) {
		p->stats.foreign++;
		return 0;
	}
	if (rec->skip)
		return 0;

	/* The verify harness dumps dmesg between markers: a replay of this boot. */
	if (rec->form == KLOG_FORM_BARE && rec->text[0] == 'T') {
		if (streq(rec->text, "TUXTAPE-DMESG-BEGIN"))
			p->in_replay = true;
		else if (streq(rec->text, "TUXTAPE-DMESG-END"))
			p->in_replay = false;
	}
	if (rec->form == KLOG_FORM_BARE && strncmp(rec->text, "-- Boot ", 8) == 0) {
		if (p->records_in_boot > 0)
			return new_boot(p);
		return 0;
	}
	if (rec->boot_id[0]) {
		if (p->boot_id[0] && !streq(p->boot_id, rec->boot_id) && p->records_in_boot > 0) {
			r = new_boot(p);
			if (r < 0)
				return r;
		}
		snprintf(p->boot_id, sizeof(p->boot_id), "%s", rec->boot_id);
	}

	/* A new boot, unless it is the harness's dump of this boot. */
	if (rec->text_len > 14 && memcmp(rec->text, "Linux version ", 14) == 0 && !p->in_replay &&
	    p->records_in_boot > 0) {
		r = new_boot(p);
		if (r < 0)
			return r;
	}

	if (rec->time_s >= 0) {
		uint64_t fp = fingerprint(p->boot, rec->time_s, rec->text, rec->text_len);
		uint64_t *slot = &p->dedup[fp & (((uint64_t)1 << DEDUP_BITS) - 1)];

		/*
		 * Only a record at or before the latest time seen can be a copy (a
		 * console copy, then the dmesg dump).  It still moves the patch
		 * states, which the copies may have seen out of order, but emits
		 * nothing.
		 */
		p->muted = rec->time_s <= p->max_time_s && *slot == fp;
		if (p->muted)
			p->stats.duplicates++;
		*slot = fp;
		if (rec->time_s > p->max_time_s)
			p->max_time_s = rec->time_s;
		p->last_time_s = rec->time_s;
	}
	if (rec->wall_us >= 0)
		p->last_wall_us = rec->wall_us;
	/*
	 * A line without prefix in a timestamped log continues the record before
	 * it (pr_cont pieces a console printed apart): same time, same caller.
	 */
	if (rec->form == KLOG_FORM_BARE && p->prev_timed && !p->in_replay) {
		rec->cont = true;
		rec->time_s = p->prev_time_s;
		memcpy(rec->caller, p->prev_caller, sizeof(rec->caller));
	} else {
		p->prev_timed = rec->time_s >= 0;
		p->prev_time_s = rec->time_s;
		memcpy(p->prev_caller, rec->caller, sizeof(p->prev_caller));
	}

	p->records_in_boot++;

	/* A transition open longer than the stall time is stalled. */
	if (p->transition && !p->transition->stalled_reported && rec->time_s >= 0 &&
	    p->transition->transition_s >= 0 &&
	    rec->time_s - p->transition->transition_s > p->opts.stall_s) {
		r = emit_stalled(p, p->transition, rec, "no completion within the stall time", false);
		if (r < 0)
			return r;
	}

	r = report_record(p, rec);
	if (r >= 0)
		r = catalog_record(p, rec);
	p->muted = false;
	return r;
}

static int process_line(struct klog_parser *p, char *line, size_t len)
{
	struct klog_record rec;
	char *z;

	p->stats.lines++;
	/* NUL bytes would cut the C strings the events hand out. */
	while ((z = memchr(line, '\0', len)) != NULL)
		*z = ' ';
	line[len] = '\0';
	klog_line_parse(&p->ls, line, len, &rec);
	return process_record(p, &rec);
}

int klog_parser_feed(struct klog_parser *p, const void *buf, size_t len)
{
	const char *s = buf;
	int r;

	if (p->error)
		return p->error;
	p->stats.bytes += len;
	while (len > 0) {
		const char *nl = memchr(s, '\n', len);
		size_t chunk = nl ? (size_t)(nl - s) : len, room = KLOG_LINE_MAX - p->line_len;

		if (chunk > room) {
			if (!p->line_cut)
				p->stats.cut_lines++;
			p->line_cut = true;
		}
		memcpy(p->line + p->line_len, s, chunk < room ? chunk : room);
		p->line_len += chunk < room ? chunk : room;
		if (!nl)
			break;
		r = process_line(p, p->line, p->line_len);
		p->line_len = 0;
		p->line_cut = false;
		if (r < 0)
			return r;
		s = nl + 1;
		len -= chunk + 1;
	}
	return 0;
}

int klog_parser_feed_record(struct klog_parser *p, const char *rec, size_t len)
{
	int r;

	if (p->error)
		return p->error;
	if (p->line_len > 0) {
		/* a pending partial line ends where a record begins */
		r = process_line(p, p->line, p->line_len);
		p->line_len = 0;
		p->line_cut = false;
		if (r < 0)
			return r;
	}
	p->stats.bytes += len;
	{
		/* a /dev/kmsg read: the record's line, then its " KEY=value" dictionary lines */
		const char *nl = memchr(rec, '\n', len);

		if (nl)
			len = (size_t)(nl - rec);
	}
	if (len > KLOG_LINE_MAX) {
		p->stats.cut_lines++;
		len = KLOG_LINE_MAX;
	}
	memcpy(p->line, rec, len);
	return process_line(p, p->line, len);
}

int klog_parser_finish(struct klog_parser *p)
{
	int r;

	if (p->error)
		return p->error;
	if (p->line_len > 0) {
		r = process_line(p, p->line, p->line_len);
		p->line_len = 0;
		p->line_cut = false;
		if (r < 0)
			return r;
	}
	r = close_all_reports(p);
	if (r < 0)
		return r;
	if (p->transition && !p->transition->stalled_reported && p->last_time_s >= 0 &&
	    p->transition->transition_s >= 0 &&
	    p->last_time_s - p->transition->transition_s >= p->opts.stall_s) {
		struct klog_record rec = {
			.form = KLOG_FORM_BARE,
			.text = "",
			.raw = "",
			.level = -1,
			.facility = -1,
			.time_s = p->last_time_s,
			.wall_us = p->last_wall_us,
		};

		r = emit_stalled(p, p->transition, &rec, "the log ends before the transition completes",
				 false);
	}
	return r;
}

void klog_parser_verdict(const struct klog_parser *p, struct klog_verdict *ret)
{
	*ret = p->verdict;
}

const struct klog_stats *klog_parser_stats(const struct klog_parser *p)
{
	return &p->stats;
}

size_t klog_parser_n_patches(const struct klog_parser *p)
{
	return p->n_patches;
}

int klog_parser_patch(const struct klog_parser *p, size_t i, struct klog_patch_info *ret)
{
	const struct patch *pt;

	if (i >= p->n_patches)
		return -ENOENT;
	pt = &p->patches[i];
	*ret = (struct klog_patch_info){
		.name = pt->name,
		.livepatch = pt->livepatch,
		.state = pt->state,
		.taint = pt->taint,
		.enabled_s = pt->enabled_s,
		.transition_s = pt->transition_open ? pt->transition_s : -1,
		.boot = pt->boot,
		.n_errors = pt->n_errors,
		.n_trouble = pt->n_trouble,
		.n_transitions = pt->n_transitions,
		.stalled = pt->stalled,
		.misbehaved = pt->misbehaved,
		.n_functions = pt->n_funcs,
		.functions = pt->func_ptrs,
	};
	return 0;
}

int klog_parse_buffer(const void *buf, size_t len, const struct klog_options *opts,
		      struct klog_verdict *ret)
{
	_cleanup_(klog_parser_freep) struct klog_parser *p = klog_parser_new(opts);
	int r;

	if (!p)
		return -ENOMEM;
	r = klog_parser_feed(p, buf, len);
	if (r >= 0)
		r = klog_parser_finish(p);
	if (r < 0)
		return r;
	klog_parser_verdict(p, ret);
	return 0;
}
