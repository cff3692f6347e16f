/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Kernel log parser: did a livepatch misbehave?
 *
 * A streaming parser.  Feed it bytes of a kernel log in any common form
 * (dmesg with or without timestamps, -T, -x, -r; /dev/kmsg records;
 * journalctl -k text and -o json; syslog lines with a host prefix; serial
 * console captures with noise) and it calls back with events: the livepatch
 * lifecycle of every patch, the errors of the livepatch core and the module
 * loader, and trouble reports (WARNING, BUG, Oops, panic, lockups, RCU
 * stalls, hung tasks, KASAN, UBSAN, KFENCE, ...) with their call trace,
 * module list and taint flags.  Each trouble report is attributed to a
 * livepatch when a frame is in a livepatch module or in a function it patches,
 * or when it falls within a window after a patch was enabled.  At any time
 * the parser gives a verdict: ok, suspect (trouble not attributable) or
 * misbehaved PATCH, with the evidence lines.
 *
 * Memory is constant: lines longer than KLOG_LINE_MAX are cut, a report keeps
 * at most KLOG_REPORT_LINES_MAX lines and KLOG_REPORT_FRAMES_MAX frames, at
 * most KLOG_PATCHES_MAX patches are tracked, so following /dev/kmsg forever
 * does not grow.  The parser does not log and is not thread-safe (one parser
 * per thread).  docs/klog.md describes the events and the JSON format.
 */
#ifndef TUXTAPE_KLOG_H
#define TUXTAPE_KLOG_H

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Version of the JSON document (docs/klog.md); bumped on incompatible change. */
#define KLOG_JSON_VERSION 1

#define KLOG_LINE_MAX 8192        /* longer input lines are cut (and counted) */
#define KLOG_REPORT_LINES_MAX 160 /* lines kept per trouble report */
#define KLOG_REPORT_TEXT_MAX (24 * 1024)
#define KLOG_REPORT_FRAMES_MAX 64
#define KLOG_PATCHES_MAX 64
#define KLOG_PATCH_FUNCS_MAX 16   /* functions a patch is known to replace */
#define KLOG_BLOCKERS_MAX 8       /* tasks named as blocking a transition */
#define KLOG_EVIDENCE_MAX 16
#define KLOG_EVIDENCE_LINE_MAX 320
#define KLOG_NAME_MAX 64          /* module names (the kernel's MODULE_NAME_LEN) */
#define KLOG_SYMBOL_MAX 128       /* function names kept (longer ones are cut) */
#define KLOG_REASON_MAX 512

enum klog_event_type {
	/* module loader */
	KLOG_EVENT_MODULE_TAINT,     /* out-of-tree, unsigned, livepatch ... taints */
	KLOG_EVENT_MODULE_WARNING,   /* retpoline, missing symbol version */
	KLOG_EVENT_MODULE_ERROR,     /* vermagic, unknown symbol, signature ... */
	KLOG_EVENT_MODULE_INIT,      /* initcall_debug: init returned */
	/* livepatch lifecycle */
	KLOG_EVENT_PATCH_ENABLING,
	KLOG_EVENT_TRANSITION_START, /* detail: "patching" or "unpatching" */
	KLOG_EVENT_PATCH_ENABLED,    /* patching transition complete */
	KLOG_EVENT_PATCH_DISABLED,   /* unpatching transition complete */
	KLOG_EVENT_TRANSITION_REVERSED,
	KLOG_EVENT_TRANSITION_SIGNAL, /* the core signals the tasks that block it */
	KLOG_EVENT_TRANSITION_FORCED,
	KLOG_EVENT_TRANSITION_STALLED,
	KLOG_EVENT_TASK_BLOCKING,    /* a task the transition cannot switch yet */
	KLOG_EVENT_PATCH_UNLOADED,
	KLOG_EVENT_PATCH_TARGET,     /* applying to / reverting from a loading module */
	KLOG_EVENT_PATCH_ERROR,      /* an error of the livepatch core */
	KLOG_EVENT_PATCH_MESSAGE,    /* any other "livepatch: " line */
	/* trouble reports */
	KLOG_EVENT_WARNING,
	KLOG_EVENT_BUG,
	KLOG_EVENT_OOPS,
	KLOG_EVENT_GPF,
	KLOG_EVENT_PANIC,
	KLOG_EVENT_SOFT_LOCKUP,
	KLOG_EVENT_HARD_LOCKUP,
	KLOG_EVENT_RCU_STALL,
	KLOG_EVENT_HUNG_TASK,
	KLOG_EVENT_KASAN,
	KLOG_EVENT_UBSAN,
	KLOG_EVENT_KFENCE,
	KLOG_EVENT_SLEEP_IN_ATOMIC,
	/* other */
	KLOG_EVENT_BOOT,             /* "Linux version": a new boot starts */
	_KLOG_EVENT_MAX,
	_KLOG_EVENT_INVALID = -EINVAL,
};

enum klog_severity {
	KLOG_SEVERITY_INFO,    /* lifecycle */
	KLOG_SEVERITY_WARNING, /* worth a look, not trouble by itself */
	KLOG_SEVERITY_ERROR,   /* a load, an enable or a transition failed */
	KLOG_SEVERITY_TROUBLE, /* the kernel reported a fault */
	_KLOG_SEVERITY_MAX,
	_KLOG_SEVERITY_INVALID = -EINVAL,
};

/* How a report or error was tied to a patch, strongest first. */
enum klog_how {
	KLOG_HOW_MODULE,           /* the message names the patch module */
	KLOG_HOW_FRAME,            /* a reliable frame or the RIP is in the patch module */
	KLOG_HOW_PATCHED_FUNCTION, /* a reliable frame is in a function the patch replaces */
	KLOG_HOW_UNRELIABLE_FRAME, /* only a "? " frame is in the patch module */
	KLOG_HOW_TIME_WINDOW,      /* within the window after the patch was enabled */
	KLOG_HOW_RECENT,           /* unnamed error right after the patch module appeared */
	KLOG_HOW_TRANSITION,       /* the patch's transition stalled or was forced */
	_KLOG_HOW_MAX,
	_KLOG_HOW_INVALID = -EINVAL,
};

enum klog_patch_state {
	KLOG_PATCH_SEEN,       /* named by a message, not (yet) enabling */
	KLOG_PATCH_ENABLING,
	KLOG_PATCH_PATCHING,   /* patching transition in progress */
	KLOG_PATCH_ENABLED,
	KLOG_PATCH_UNPATCHING, /* unpatching transition in progress */
	KLOG_PATCH_DISABLED,
	KLOG_PATCH_UNLOADED,
	KLOG_PATCH_FAILED,     /* loading or enabling failed */
	_KLOG_PATCH_STATE_MAX,
	_KLOG_PATCH_STATE_INVALID = -EINVAL,
};

enum klog_verdict_kind {
	KLOG_VERDICT_OK,
	KLOG_VERDICT_SUSPECT,    /* trouble, but not attributable to a patch */
	KLOG_VERDICT_MISBEHAVED, /* a patch caused trouble or failed */
	_KLOG_VERDICT_MAX,
	_KLOG_VERDICT_INVALID = -EINVAL,
};

/* Input forms the line parser recognises (statistics and tests). */
enum klog_form {
	KLOG_FORM_BARE,          /* no prefix */
	KLOG_FORM_DMESG,         /* "[    1.234567] " (and "[  T123]" caller ids) */
	KLOG_FORM_DMESG_RAW,     /* "<6>[    1.234567] " (dmesg -r) */
	KLOG_FORM_DMESG_CTIME,   /* "[Thu Nov 28 02:40:11 2024] " (dmesg -T) */
	KLOG_FORM_DMESG_DECODE,  /* "kern  :info  : " (dmesg -x) */
	KLOG_FORM_ISO,           /* "2024-11-28T02:40:11,123456+00:00 " (dmesg --time-format iso) */
	KLOG_FORM_KMSG,          /* "6,1234,5678901,-;" (/dev/kmsg) */
	KLOG_FORM_SYSLOG,        /* "Nov 28 02:40:11 host kernel: " (syslog, journalctl -k) */
	KLOG_FORM_SYSLOG_ISO,    /* "2024-11-28T02:40:11+0000 host kernel: " (RFC 3339) */
	KLOG_FORM_JOURNAL_JSON,  /* journalctl -o json */
	KLOG_FORM_CONSOLE,       /* a timestamp after console noise */
	_KLOG_FORM_MAX,
	_KLOG_FORM_INVALID = -EINVAL,
};

const char *klog_event_type_to_string(enum klog_event_type t);
enum klog_event_type klog_event_type_from_string(const char *s);
const char *klog_severity_to_string(enum klog_severity s);
const char *klog_how_to_string(enum klog_how h);
const char *klog_patch_state_to_string(enum klog_patch_state s);
const char *klog_verdict_kind_to_string(enum klog_verdict_kind v);
const char *klog_form_to_string(enum klog_form f);
/* Severity of an event type; trouble types are KLOG_SEVERITY_TROUBLE. */
enum klog_severity klog_event_type_severity(enum klog_event_type t);

/* One call trace frame: "[? ]function+0xoff/0xsize [module]". */
struct klog_frame {
	char function[KLOG_SYMBOL_MAX];
	char module[KLOG_NAME_MAX]; /* "" for vmlinux */
	uint64_t offset, size;
	bool reliable;              /* false for "? " frames */
};

/* Taint flag letters, bit n = 'A' + n. */
typedef uint32_t klog_taint_t;
#define KLOG_TAINT_BIT(letter) ((klog_taint_t)1 << ((letter) - 'A'))
/* Name of a taint letter ("OOT_MODULE" for 'O'); NULL for letters without one. */
const char *klog_taint_name(char letter);
/* Letters of a taint mask in alphabetical order into buf ("EKO"); 27 bytes hold all. */
void klog_taint_letters(klog_taint_t t, char *buf, size_t size);

/* Details of a trouble report.  Strings are "" when unknown. */
struct klog_report {
	int cpu, pid;                   /* -1 unknown */
	char comm[32];
	bool tainted_known;
	klog_taint_t taint;             /* from "Tainted: G  OE K" */
	char rip[KLOG_SYMBOL_MAX + KLOG_NAME_MAX + 48]; /* "func+0x13/0x21 [mod]" */
	struct klog_frame rip_frame;    /* parsed RIP or the header's location */
	bool has_rip_frame;
	char location[KLOG_SYMBOL_MAX]; /* "file:line" of a WARN, BUG or UBSAN */
	const struct klog_frame *frames;
	size_t n_frames, frames_dropped;
	const char *modules;            /* the "Modules linked in:" list as printed, or NULL */
	bool modules_truncated;
};

struct klog_attribution {
	const char *patch;
	enum klog_how how;
	const char *detail; /* the frame, function or time that ties it; may be "" */
};

/*
 * An event.  Every pointer is valid only during the callback.  Times are -1
 * when unknown: time_s is seconds since boot (monotonic, from the printk
 * timestamp), wall_us microseconds since the epoch (dmesg -T, syslog, the
 * journal; syslog stamps without a year take klog_options.year, local time
 * read as UTC).
 */
struct klog_event {
	enum klog_event_type type;
	enum klog_severity severity;
	int level;                /* printk level 0..7 of the first line, -1 unknown */
	double time_s;
	int64_t wall_us;
	unsigned boot;            /* 0 for the first boot in the input, +1 per "Linux version" */
	const char *patch;        /* the livepatch concerned, or NULL */
	const char *module;       /* module named or holding the faulting code, or NULL */
	const char *function;     /* faulting, patched or blocking function, or NULL */
	const char *detail;       /* per type: symbol, direction, vermagic, task..., or NULL */
	const char *message;      /* the text of the first line (no prefix) */
	const char *const *lines; /* the lines as read (prefix kept) */
	size_t n_lines, lines_dropped;
	const struct klog_report *report;        /* trouble events only */
	const struct klog_attribution *implicates; /* NULL when no patch is implicated */
	bool counted;             /* false before klog_options.since: no effect on the verdict */
};

/*
 * Called for every event, in input order (a trouble report when it ends).
 * A negative return stops the parser: klog_parser_feed()/finish() return it.
 */
typedef int (*klog_event_fn)(const struct klog_event *ev, void *userdata);

/* A patch the caller knows of: its module name and the functions it replaces. */
struct klog_patch_spec {
	const char *name;
	const char *const *functions; /* NULL-terminated; may be NULL */
};

struct klog_options {
	double window_s;       /* attribution window after a patch is enabled; 0 disables */
	double stall_s;        /* a transition open longer is stalled */
	double since_s;        /* events before this uptime do not count; < 0: all count */
	int year;              /* for syslog stamps without a year */
	const struct klog_patch_spec *patches;
	size_t n_patches;
	klog_event_fn on_event;
	void *userdata;
};

/* Defaults: window 60 s, stall 15 s (the core signals tasks after 15 s), all count, this year. */
void klog_options_init(struct klog_options *o);

struct klog_patch_info {
	const char *name;
	bool livepatch;          /* known to be a livepatch module */
	enum klog_patch_state state;
	klog_taint_t taint;      /* taints its module added */
	double enabled_s;        /* last "patching complete", -1 */
	double transition_s;     /* start of the open transition, -1 */
	unsigned boot;
	unsigned n_errors, n_trouble, n_transitions;
	bool stalled, misbehaved;
	size_t n_functions;
	const char *const *functions; /* known replaced functions (declared or seen) */
};

struct klog_stats {
	uint64_t bytes, lines, records;
	uint64_t duplicates;     /* records seen before (a console copy and a dmesg dump) */
	uint64_t foreign;        /* syslog or journal lines of other programs */
	uint64_t cut_lines;      /* lines longer than KLOG_LINE_MAX */
	uint64_t malformed;      /* journal JSON lines that do not parse */
	uint64_t events, events_by_severity[_KLOG_SEVERITY_MAX];
	uint64_t forms[_KLOG_FORM_MAX];
	uint64_t patches_dropped; /* beyond KLOG_PATCHES_MAX */
	unsigned boots;
};

struct klog_verdict {
	enum klog_verdict_kind kind;
	char patch[KLOG_NAME_MAX];          /* misbehaved only */
	char reason[KLOG_REASON_MAX];       /* "" when ok */
	enum klog_event_type event;         /* the event behind the reason */
	enum klog_how how;                  /* misbehaved only */
	double time_s;
	char evidence[KLOG_EVIDENCE_MAX][KLOG_EVIDENCE_LINE_MAX];
	size_t n_evidence;
	unsigned n_trouble, n_errors;       /* counted events of those severities */
};

struct klog_parser;

/* NULL on OOM.  opts may be NULL (defaults); the patch specs are copied. */
struct klog_parser *klog_parser_new(const struct klog_options *opts);
struct klog_parser *klog_parser_free(struct klog_parser *p);
DEFINE_CLEANUP_FUNC(struct klog_parser, klog_parser_free)

/*
 * Feeds len bytes (any split: lines may span calls).  Returns 0, or the
 * callback's negative return, or -ENOMEM.  Arbitrary bytes are accepted:
 * input that is no kernel log yields no events.
 */
int klog_parser_feed(struct klog_parser *p, const void *buf, size_t len);

/*
 * Feeds one complete record without its newline (a /dev/kmsg read(), a
 * journal entry); same returns as klog_parser_feed().
 */
int klog_parser_feed_record(struct klog_parser *p, const char *rec, size_t len);

/*
 * End of input: parses a last unterminated line, closes open reports, and
 * judges open transitions (stalled when open longer than stall_s).  The
 * parser can be fed again afterwards (--follow prints interim verdicts).
 */
int klog_parser_finish(struct klog_parser *p);

/* The verdict over everything fed so far. */
void klog_parser_verdict(const struct klog_parser *p, struct klog_verdict *ret);
const struct klog_stats *klog_parser_stats(const struct klog_parser *p);
/* Tracked patches, in order of appearance; the info is valid until the next feed. */
size_t klog_parser_n_patches(const struct klog_parser *p);
int klog_parser_patch(const struct klog_parser *p, size_t i, struct klog_patch_info *ret);

/*
 * One-shot: parses buf with opts (on_event may be set) and returns its
 * verdict.  -ENOMEM or the callback's error.
 */
int klog_parse_buffer(const void *buf, size_t len, const struct klog_options *opts,
		      struct klog_verdict *ret);

/* JSON forms (docs/klog.md); -ENOMEM. */
int klog_event_to_json(const struct klog_event *ev, json_t **ret);
int klog_verdict_to_json(const struct klog_verdict *v, json_t **ret);
/*
 * The whole document: version, verdict, patches and stats; events is an
 * array the caller collected with klog_event_to_json() (stolen; may be NULL),
 * events_dropped how many it left out.
 */
int klog_parser_to_json(const struct klog_parser *p, json_t *events, uint64_t events_dropped,
			json_t **ret);

#endif
