/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "klog-catalog.h"
#include "klog-line.h"
#include "klog-report.h"
#include "klog.h"
#include "strbuf.h"
#include "test-lib.h"

/* ---- an event collector ---- */

#define MAX_EVENTS 256

struct seen {
	enum klog_event_type type;
	enum klog_severity severity;
	char patch[KLOG_NAME_MAX], module[KLOG_NAME_MAX], function[KLOG_SYMBOL_MAX];
	char detail[KLOG_REASON_MAX], message[512];
	bool implicated;
	enum klog_how how;
	char how_patch[KLOG_NAME_MAX];
	double time_s;
	int64_t wall_us;
	unsigned boot;
	bool counted;
	size_t n_lines, lines_dropped, n_frames, frames_dropped;
	int cpu, pid;
	char comm[32], modules[1024], location[KLOG_SYMBOL_MAX];
	klog_taint_t taint;
	bool tainted_known;
};

struct collector {
	struct seen ev[MAX_EVENTS];
	size_t n;
	int fail_at; /* return -ECANCELED at this event (1-based), 0 never */
};

static void cp(char *dst, size_t size, const char *s)
{
	snprintf(dst, size, "%s", s ? s : "");
}

static int collect(const struct klog_event *ev, void *userdata)
{
	struct collector *c = userdata;
	struct seen *s;

	if (c->fail_at && (int)c->n + 1 == c->fail_at)
		return -ECANCELED;
	if (c->n >= MAX_EVENTS)
		return 0;
	s = &c->ev[c->n++];
	memset(s, 0, sizeof(*s));
	s->type = ev->type;
	s->severity = ev->severity;
	cp(s->patch, sizeof(s->patch), ev->patch);
	cp(s->module, sizeof(s->module), ev->module);
	cp(s->function, sizeof(s->function), ev->function);
	cp(s->detail, sizeof(s->detail), ev->detail);
	cp(s->message, sizeof(s->message), ev->message);
	s->implicated = ev->implicates != NULL;
	if (ev->implicates) {
		s->how = ev->implicates->how;
		cp(s->how_patch, sizeof(s->how_patch), ev->implicates->patch);
	}
	s->time_s = ev->time_s;
	s->wall_us = ev->wall_us;
	s->boot = ev->boot;
	s->counted = ev->counted;
	s->n_lines = ev->n_lines;
	s->lines_dropped = ev->lines_dropped;
	for (size_t i = 0; i < ev->n_lines; i++)
		assert_non_null(ev->lines[i]);
	if (ev->report) {
		s->n_frames = ev->report->n_frames;
		s->frames_dropped = ev->report->frames_dropped;
		s->cpu = ev->report->cpu;
		s->pid = ev->report->pid;
		cp(s->comm, sizeof(s->comm), ev->report->comm);
		cp(s->modules, sizeof(s->modules), ev->report->modules);
		cp(s->location, sizeof(s->location), ev->report->location);
		s->taint = ev->report->taint;
		s->tainted_known = ev->report->tainted_known;
	}
	return 0;
}

static struct seen *find_event(struct collector *c, enum klog_event_type t, size_t nth)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->ev[i].type == t && nth-- == 0)
			return &c->ev[i];
	return NULL;
}

static size_t count_events(struct collector *c, enum klog_event_type t)
{
	size_t n = 0;

	for (size_t i = 0; i < c->n; i++)
		n += c->ev[i].type == t;
	return n;
}

/* Parses buf with opts (may be NULL: defaults) into c and v; returns the parser's result. */
static int run_text(const char *buf, size_t len, struct klog_options *opts, struct collector *c,
		    struct klog_verdict *v)
{
	struct klog_options o;
	int r;

	if (opts)
		o = *opts;
	else
		klog_options_init(&o);
	o.on_event = collect;
	o.userdata = c;
	c->n = 0;
	r = klog_parse_buffer(buf, len, &o, v);
	return r;
}

static void run_file(const char *rel, struct klog_options *opts, struct collector *c,
		     struct klog_verdict *v)
{
	size_t len;
	_cleanup_free_ char *buf = test_read_data(rel, &len);

	assert_int_equal(run_text(buf, len, opts, c, v), 0);
}

static struct collector *new_collector(void)
{
	struct collector *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	return c;
}

/* ---- line forms ---- */

static void parse_one(const char *text, struct klog_record *r, struct klog_line_state *st)
{
	static char line[KLOG_LINE_MAX + 1];
	size_t len = strlen(text);

	assert_true(len <= KLOG_LINE_MAX);
	memcpy(line, text, len + 1);
	klog_line_parse(st, line, len, r);
}

static struct klog_line_state *new_state(void)
{
	struct klog_line_state *st = calloc(1, sizeof(*st));

	assert_non_null(st);
	st->year = 2025;
	return st;
}

static void test_line_dmesg(void **state)
{
	_cleanup_free_ struct klog_line_state *st = new_state();
	struct klog_record r;

	parse_one("[    2.815527] WARNING: CPU: 0 PID: 88 at x.c:1 f+0x0/0x1", &r, st);
	assert_int_equal(r.form, KLOG_FORM_DMESG);
	assert_true(r.time_s > 2.815526 && r.time_s < 2.815528);
	assert_string_equal(r.text, "WARNING: CPU: 0 PID: 88 at x.c:1 f+0x0/0x1");
	assert_int_equal(r.level, -1);
	assert_string_equal(r.caller, "");

	parse_one("[    0.000000][    T0] Linux version 6.1.0", &r, st);
	assert_int_equal(r.form, KLOG_FORM_DMESG);
	assert_string_equal(r.caller, "T0");
	assert_string_equal(r.text, "Linux version 6.1.0");
	parse_one("[ 1234.500000][   C17] rcu: INFO: x", &r, st);
	assert_string_equal(r.caller, "C17");
	assert_true(r.time_s > 1234.49 && r.time_s < 1234.51);

	parse_one("<4>[   12.000001] klp: hello", &r, st);
	assert_int_equal(r.form, KLOG_FORM_DMESG_RAW);
	assert_int_equal(r.level, 4);
	assert_int_equal(r.facility, 0);
	assert_string_equal(r.text, "klp: hello");
	parse_one("<14>user text", &r, st);
	assert_int_equal(r.form, KLOG_FORM_DMESG_RAW);
	assert_int_equal(r.level, 6);
	assert_int_equal(r.facility, 1);
	assert_string_equal(r.text, "user text");
}

static void test_line_ctime_decode_iso(void **state)
{
	_cleanup_free_ struct klog_line_state *st = new_state();
	struct klog_record r;

	/* 2025-11-28T02:40:11Z = 1764297611 */
	parse_one("[Fri Nov 28 02:40:11 2025] livepatch: enabling patch 'a'", &r, st);
	assert_int_equal(r.form, KLOG_FORM_DMESG_CTIME);
	assert_int_equal(r.wall_us, 1764297611LL * 1000000);
	assert_true(r.time_s < 0);
	assert_string_equal(r.text, "livepatch: enabling patch 'a'");
	parse_one("[Mon Dec  1 00:00:00 2025] x", &r, st);
	assert_int_equal(r.wall_us, 1764547200LL * 1000000);

	parse_one("kern  :warn  : [    1.500000] WARNING: CPU: 0", &r, st);
	assert_int_equal(r.form, KLOG_FORM_DMESG_DECODE);
	assert_int_equal(r.level, 4);
	assert_int_equal(r.facility, 0);
	assert_true(r.time_s > 1.49 && r.time_s < 1.51);
	assert_string_equal(r.text, "WARNING: CPU: 0");
	parse_one("user  :notice: [Fri Nov 28 02:40:11 2025] tuxtape: begin", &r, st);
	assert_int_equal(r.form, KLOG_FORM_DMESG_DECODE);
	assert_int_equal(r.facility, 1);
	assert_int_equal(r.level, 5);
	assert_int_equal(r.wall_us, 1764297611LL * 1000000);
	assert_string_equal(r.text, "tuxtape: begin");
	/* not a facility: plain text */
	parse_one("bogus :info  : text", &r, st);
	assert_int_equal(r.form, KLOG_FORM_BARE);

	parse_one("2025-11-28T02:40:11,250000+01:00 Call Trace:", &r, st);
	assert_int_equal(r.form, KLOG_FORM_ISO);
	assert_int_equal(r.wall_us, (1764297611LL - 3600) * 1000000 + 250000);
	assert_string_equal(r.text, "Call Trace:");
	assert_false(r.foreign);
	parse_one("2025-11-28T02:40:11,000000+00:00 pci 0000:00:01.1: reg 0x20", &r, st);
	assert_int_equal(r.form, KLOG_FORM_ISO);
	assert_false(r.foreign);
	assert_string_equal(r.text, "pci 0000:00:01.1: reg 0x20");
}

static void test_line_kmsg(void **state)
{
	_cleanup_free_ struct klog_line_state *st = new_state();
	struct klog_record r;

	parse_one("4,1234,5678901,-;WARNING: CPU: 1", &r, st);
	assert_int_equal(r.form, KLOG_FORM_KMSG);
	assert_int_equal(r.level, 4);
	assert_int_equal(r.facility, 0);
	assert_true(r.time_s > 5.678900 && r.time_s < 5.678902);
	assert_string_equal(r.text, "WARNING: CPU: 1");
	parse_one("12,7,100,c,caller=T42;user says", &r, st);
	assert_int_equal(r.form, KLOG_FORM_KMSG);
	assert_int_equal(r.facility, 1);
	assert_int_equal(r.level, 4);
	assert_string_equal(r.caller, "T42");
	/* dictionary lines follow their record */
	parse_one(" SUBSYSTEM=virtual", &r, st);
	assert_true(r.skip);
	/* not kmsg: missing ';' */
	parse_one("6,1,2,-text", &r, st);
	assert_int_not_equal(r.form, KLOG_FORM_KMSG);
}

static void test_line_syslog(void **state)
{
	_cleanup_free_ struct klog_line_state *st = new_state();
	struct klog_record r;

	parse_one("Nov 28 02:40:11 tuxhost kernel: [    2.815527] BUG: x", &r, st);
	assert_int_equal(r.form, KLOG_FORM_SYSLOG);
	assert_false(r.foreign);
	assert_int_equal(r.wall_us, 1764297611LL * 1000000);
	assert_true(r.time_s > 2.81 && r.time_s < 2.82);
	assert_string_equal(r.text, "BUG: x");
	parse_one("Nov  8 02:40:11.500000 tuxhost kernel: livepatch: x", &r, st);
	assert_int_equal(r.form, KLOG_FORM_SYSLOG);
	assert_int_equal(r.wall_us, (1764297611LL - 20 * 86400) * 1000000 + 500000);
	assert_string_equal(r.text, "livepatch: x");
	parse_one("Nov 28 02:40:12 tuxhost sshd[812]: WARNING: CPU: 0 PID: 1 at x", &r, st);
	assert_int_equal(r.form, KLOG_FORM_SYSLOG);
	assert_true(r.foreign);

	parse_one("2025-11-28T02:40:11+0000 tuxhost kernel: Oops: 0000 [#1]", &r, st);
	assert_int_equal(r.form, KLOG_FORM_SYSLOG_ISO);
	assert_false(r.foreign);
	assert_string_equal(r.text, "Oops: 0000 [#1]");
	/* once kernel lines showed a syslog stream, other programs' lines are foreign */
	parse_one("2025-11-28T02:40:11+0000 tuxhost cron[1]: x", &r, st);
	assert_true(r.foreign);

	parse_one("<4>1 2025-11-28T02:40:11.000001+00:00 tuxhost kernel - - - WARNING: CPU: 0", &r,
		  st);
	assert_int_equal(r.form, KLOG_FORM_SYSLOG_ISO);
	assert_int_equal(r.level, 4);
	assert_false(r.foreign);
	assert_int_equal(r.wall_us, 1764297611LL * 1000000 + 1);
	assert_string_equal(r.text, "WARNING: CPU: 0");
	parse_one("<30>1 2025-11-28T02:40:11Z tuxhost systemd 1 - [x@1 a=\"b\"] Started", &r, st);
	assert_true(r.foreign);
	assert_string_equal(r.text, "Started");

	/* journalctl -o short-monotonic */
	parse_one("[    3.000000] tuxhost kernel: livepatch: enabling patch 'x'", &r, st);
	assert_int_equal(r.form, KLOG_FORM_DMESG);
	assert_string_equal(r.text, "livepatch: enabling patch 'x'");
}

static void test_line_journal_json(void **state)
{
	_cleanup_free_ struct klog_line_state *st = new_state();
	struct klog_record r;

	parse_one("{\"_TRANSPORT\":\"kernel\",\"PRIORITY\":\"4\",\"MESSAGE\":\"WARNING: CPU: 0\","
		  "\"_SOURCE_MONOTONIC_TIMESTAMP\":\"2815527\",\"__REALTIME_TIMESTAMP\":\"1764297611000000\","
		  "\"_BOOT_ID\":\"abc\"}",
		  &r, st);
	assert_int_equal(r.form, KLOG_FORM_JOURNAL_JSON);
	assert_false(r.foreign);
	assert_int_equal(r.level, 4);
	assert_true(r.time_s > 2.815526 && r.time_s < 2.815528);
	assert_int_equal(r.wall_us, 1764297611LL * 1000000);
	assert_string_equal(r.text, "WARNING: CPU: 0");
	assert_string_equal(r.boot_id, "abc");
	assert_string_equal(r.raw, "[    2.815527] WARNING: CPU: 0");

	parse_one("{\"SYSLOG_IDENTIFIER\":\"kernel\",\"MESSAGE\":[66,85,71,255]}", &r, st);
	assert_false(r.foreign);
	assert_int_equal((unsigned char)r.text[3], 0xff);
	assert_memory_equal(r.text, "BUG", 3);

	parse_one("{\"_TRANSPORT\":\"syslog\",\"MESSAGE\":\"Oops: x\"}", &r, st);
	assert_true(r.foreign);
	parse_one("{\"_TRANSPORT\":\"kernel\",\"MESSAGE\":", &r, st);
	assert_true(r.malformed);
	assert_true(r.skip);
}

static void test_line_console_noise(void **state)
{
	_cleanup_free_ struct klog_line_state *st = new_state();
	struct klog_record r;

	parse_one("Booting from ROM..\x1b" "c\x1b[?7l\x1b[2J\x1b[0m.[    2.891545] BUG: kernel NULL", &r,
		  st);
	assert_int_equal(r.form, KLOG_FORM_CONSOLE);
	assert_true(r.time_s > 2.89 && r.time_s < 2.90);
	assert_string_equal(r.text, "BUG: kernel NULL");
	parse_one("garbage\r[    1.000000] livepatch: x\r", &r, st);
	assert_int_equal(r.form, KLOG_FORM_DMESG);
	assert_string_equal(r.text, "livepatch: x");
	/* a loose stamp needs six fraction digits */
	parse_one("value [1.5] of something", &r, st);
	assert_int_equal(r.form, KLOG_FORM_BARE);
	assert_string_equal(r.text, "value [1.5] of something");
	parse_one("TUXTAPE-STEP insmod 0 3.64", &r, st);
	assert_int_equal(r.form, KLOG_FORM_BARE);
	parse_one("", &r, st);
	assert_true(r.skip);
}

/* ---- matcher and catalogue ---- */

static void test_match(void **state)
{
	struct klog_cap caps[KLOG_CAPS_MAX];
	const char *t;
	size_t n;

	t = "klp_try_switch_task: kworker/0:1:85 is sleeping on function foo";
	assert_true(klog_match(t, strlen(t), "klp_try_switch_task: %s:%d is sleeping on function %s",
			       caps, KLOG_CAPS_MAX, &n));
	assert_int_equal(n, 3);
	assert_int_equal(caps[0].len, 11);
	assert_memory_equal(caps[0].p, "kworker/0:1", 11);
	assert_memory_equal(caps[1].p, "85", 2);
	assert_memory_equal(caps[2].p, "foo", 3);

	t = "failed to set ftrace filter for function 'x' (-22)";
	assert_true(klog_match(t, strlen(t), "failed to set ftrace filter for function '%s' (%d)", caps,
			       KLOG_CAPS_MAX, &n));
	assert_memory_equal(caps[1].p, "-22", 3);
	t = "calling  tt_init+0x0/0x1000 [klp_a] @ 90";
	assert_true(klog_match(t, strlen(t), "calling  %s+%x/%x [%m] @ %d", caps, KLOG_CAPS_MAX, &n));
	assert_int_equal(n, 5);
	assert_memory_equal(caps[3].p, "klp_a", 5);
	/* %w stops at blanks, %m only takes module names, the text must end */
	assert_false(klog_match("a b c", 5, "%w c", caps, KLOG_CAPS_MAX, &n));
	assert_false(klog_match("x/y: z", 6, "%m: z", caps, KLOG_CAPS_MAX, &n));
	assert_false(klog_match("abc def", 7, "abc", caps, KLOG_CAPS_MAX, &n));
	assert_true(klog_match("abc def", 7, "abc%*", caps, KLOG_CAPS_MAX, &n));
	assert_int_equal(n, 0);
	assert_true(klog_match("100%", 4, "%d%%", caps, KLOG_CAPS_MAX, &n));
	assert_false(klog_match("-", 1, "%d", caps, KLOG_CAPS_MAX, &n));
	assert_false(klog_match("0x", 2, "%x", caps, KLOG_CAPS_MAX, &n));
	assert_false(klog_match("", 0, "%s", caps, KLOG_CAPS_MAX, &n));
}

/* Builds a message from a pattern with sample values for its directives. */
static void sample_of(const char *pat, char *buf, size_t size)
{
	size_t n = 0;

	for (const char *p = pat; *p && n + 16 < size; p++) {
		const char *v = NULL;

		if (*p != '%') {
			buf[n++] = *p;
			continue;
		}
		switch (*++p) {
		case 's': v = "abc"; break;
		case 'w': v = "xyz"; break;
		case 'm': v = "mod_a"; break;
		case 'd': v = "12"; break;
		case 'x': v = "0x1f"; break;
		case '*': v = ""; break;
		case '%': v = "%"; break;
		default: fail_msg("bad directive in '%s'", pat);
		}
		n += (size_t)snprintf(buf + n, size - n, "%s", v);
	}
	buf[n] = '\0';
}

static void test_catalog_reachable(void **state)
{
	static const char *const prefixes[] = { "livepatch: ", "klp_a: ", "" };

	/* every entry is found for its own message: none is shadowed by another */
	for (int t = KLOG_TABLE_LIVEPATCH; t <= KLOG_TABLE_OTHER; t++)
		for (const struct klog_catalog_entry *e = klog_catalog_table(t); e->pattern; e++) {
			struct klog_cap caps[KLOG_CAPS_MAX], mod;
			enum klog_catalog_table table;
			char text[600], body[512];
			const struct klog_catalog_entry *got;
			size_t n;

			sample_of(e->pattern, body, sizeof(body));
			snprintf(text, sizeof(text), "%s%s", prefixes[t], body);
			got = klog_catalog_lookup(text, strlen(text), caps, &n, &mod, &table);
			if (got != e)
				fail_msg("'%s' matched %s", text, got ? got->pattern : "nothing");
			assert_int_equal(table, t);
			assert_true(strlen(e->roles) >= n);
			if (t == KLOG_TABLE_MODULE)
				assert_memory_equal(mod.p, "klp_a", 5);
		}
}

static void test_catalog_no_match(void **state)
{
	static const char *const texts[] = {
		"livepatch: something new in 6.20",
		"pci 0000:00:01.1: reg 0x20",
		"ACPI: Core revision 20220331",
		"klp_a: loading out-of-tree module taints kernel",   /* no full stop */
		"a/b: Unknown symbol x (err -2)",                    /* not a module name */
		"Linux versio",
	};

	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct klog_cap caps[KLOG_CAPS_MAX], mod;
		enum klog_catalog_table table;
		size_t n;

		assert_null(klog_catalog_lookup(texts[i], strlen(texts[i]), caps, &n, &mod, &table));
	}
}

/* ---- report pieces ---- */

static void test_frames(void **state)
{
	struct klog_frame f;
	const char *t;

	t = "  seq_read_iter+0x122/0x450";
	assert_true(klog_parse_frame(t, strlen(t), &f));
	assert_string_equal(f.function, "seq_read_iter");
	assert_string_equal(f.module, "");
	assert_int_equal(f.offset, 0x122);
	assert_int_equal(f.size, 0x450);
	assert_true(f.reliable);
	t = " ? tt_fn.cold+0x1/0x2 [klp_a]";
	assert_true(klog_parse_frame(t, strlen(t), &f));
	assert_false(f.reliable);
	assert_string_equal(f.function, "tt_fn.cold");
	assert_string_equal(f.module, "klp_a");
	t = " [<ffffffff81000000>] foo+0x0/0x10 [mod 0123456789abcdef]";
	assert_true(klog_parse_frame(t, strlen(t), &f));
	assert_string_equal(f.function, "foo");
	assert_string_equal(f.module, "mod");
	t = " foo+0x10";
	assert_true(klog_parse_frame(t, strlen(t), &f));
	assert_int_equal(f.size, 0);
	assert_false(klog_parse_frame(" <TASK>", 7, &f));
	assert_false(klog_parse_frame(" foo+bar", 8, &f));
	assert_false(klog_parse_frame(" foo+0x/0x1", 11, &f));
	assert_false(klog_parse_frame("", 0, &f));
}

static void test_taint_and_modules(void **state)
{
	const char *t = "G           OE K    6.1.0-54-amd64 #1  Debian 6.1.190-1";
	klog_taint_t m = klog_parse_taint(t, strlen(t));
	char letters[27], flags[16];

	klog_taint_letters(m, letters, sizeof(letters));
	assert_string_equal(letters, "EKO");
	t = "P        W  O      6.1.0";
	m = klog_parse_taint(t, strlen(t));
	klog_taint_letters(m, letters, sizeof(letters));
	assert_string_equal(letters, "OPW");
	assert_string_equal(klog_taint_name('K'), "LIVEPATCH");
	assert_null(klog_taint_name('G'));

	assert_true(klog_modules_find("klp_a(OEK) dummy [last unloaded: klp_b(OEK)]", "klp_a", flags,
				      sizeof(flags)));
	assert_string_equal(flags, "OEK");
	assert_true(klog_modules_find("klp_a(OEK) dummy", "dummy", flags, sizeof(flags)));
	assert_string_equal(flags, "");
	assert_false(klog_modules_find("klp_a(OEK) dummy [last unloaded: klp_b(OEK)]", "klp_b", flags,
				       sizeof(flags)));
	assert_false(klog_modules_find("klp_ab(OEK)", "klp_a", flags, sizeof(flags)));
}

static void test_string_tables(void **state)
{
	for (int t = 0; t < _KLOG_EVENT_MAX; t++) {
		assert_non_null(klog_event_type_to_string(t));
		assert_int_equal(klog_event_type_from_string(klog_event_type_to_string(t)), t);
	}
	assert_int_equal(klog_event_type_from_string("nope"), _KLOG_EVENT_INVALID);
	assert_null(klog_event_type_to_string(_KLOG_EVENT_MAX));
	for (int i = 0; i < _KLOG_SEVERITY_MAX; i++)
		assert_non_null(klog_severity_to_string(i));
	for (int i = 0; i < _KLOG_HOW_MAX; i++)
		assert_non_null(klog_how_to_string(i));
	for (int i = 0; i < _KLOG_PATCH_STATE_MAX; i++)
		assert_non_null(klog_patch_state_to_string(i));
	for (int i = 0; i < _KLOG_VERDICT_MAX; i++)
		assert_non_null(klog_verdict_kind_to_string(i));
	for (int i = 0; i < _KLOG_FORM_MAX; i++)
		assert_non_null(klog_form_to_string(i));
	assert_int_equal(klog_event_type_severity(KLOG_EVENT_OOPS), KLOG_SEVERITY_TROUBLE);
	assert_int_equal(klog_event_type_severity(KLOG_EVENT_PATCH_ERROR), KLOG_SEVERITY_ERROR);
	assert_int_equal(klog_event_type_severity(KLOG_EVENT_PATCH_ENABLED), KLOG_SEVERITY_INFO);
}

/* ---- real logs of the VM harness ---- */

static void test_real_clean(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	_cleanup_(klog_parser_freep) struct klog_parser *p = NULL;
	struct klog_patch_info pi;
	struct klog_verdict v;
	struct klog_options o;
	size_t len;
	_cleanup_free_ char *buf = test_read_data("klog/clean.console", &len);
	static const enum klog_event_type order[] = {
		KLOG_EVENT_PATCH_ENABLING, KLOG_EVENT_TRANSITION_START, KLOG_EVENT_PATCH_ENABLED,
		KLOG_EVENT_TRANSITION_START, KLOG_EVENT_PATCH_DISABLED,
	};
	size_t k = 0;

	klog_options_init(&o);
	o.on_event = collect;
	o.userdata = c;
	p = klog_parser_new(&o);
	assert_non_null(p);
	assert_int_equal(klog_parser_feed(p, buf, len), 0);
	assert_int_equal(klog_parser_finish(p), 0);
	klog_parser_verdict(p, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_OK);
	assert_string_equal(v.reason, "");
	assert_int_equal(v.n_evidence, 0);
	for (size_t i = 0; i < c->n && k < ARRAY_SIZE(order); i++)
		if (c->ev[i].type == order[k])
			k++;
	assert_int_equal(k, ARRAY_SIZE(order));
	assert_string_equal(find_event(c, KLOG_EVENT_TRANSITION_START, 1)->detail, "unpatching");
	assert_int_equal(klog_parser_n_patches(p), 1);
	assert_int_equal(klog_parser_patch(p, 0, &pi), 0);
	assert_string_equal(pi.name, "klp_clean");
	assert_true(pi.livepatch);
	assert_int_equal(pi.state, KLOG_PATCH_DISABLED);
	assert_int_equal(pi.taint, KLOG_TAINT_BIT('O') | KLOG_TAINT_BIT('E') | KLOG_TAINT_BIT('K'));
	assert_int_equal(pi.n_transitions, 2);
	assert_false(pi.misbehaved);
	assert_true(pi.enabled_s > 2.9 && pi.enabled_s < 3.0);
	assert_int_equal(klog_parser_patch(p, 1, &pi), -ENOENT);
	assert_int_equal(klog_parser_stats(p)->boots, 1);
	assert_int_equal(klog_parser_stats(p)->bytes, len);
}

static void test_real_warn(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	struct klog_verdict v;
	struct seen *w;
	bool found = false;

	run_file("klog/warn.console", NULL, c, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "klp_warn");
	assert_int_equal(v.how, KLOG_HOW_FRAME);
	assert_int_equal(v.event, KLOG_EVENT_WARNING);
	assert_int_equal(count_events(c, KLOG_EVENT_WARNING), 1);
	w = find_event(c, KLOG_EVENT_WARNING, 0);
	assert_string_equal(w->function, "tt_warn_cmdline_show");
	assert_string_equal(w->module, "klp_warn");
	assert_string_equal(w->how_patch, "klp_warn");
	assert_int_equal(w->pid, 88);
	assert_int_equal(w->cpu, 0);
	assert_string_equal(w->comm, "cat");
	assert_string_equal(w->modules, "klp_warn(OEK)");
	assert_true(w->tainted_known);
	assert_true(w->taint & KLOG_TAINT_BIT('K'));
	assert_true(w->n_frames >= 10);
	assert_non_null(strstr(w->location, "klp_warn.c:14"));
	for (size_t i = 0; i < v.n_evidence; i++) {
		assert_null(strstr(v.evidence[i], "[ cut here ]"));
		found |= strstr(v.evidence[i], "WARNING: CPU: 0 PID: 88") != NULL;
	}
	assert_true(found);
	assert_non_null(strstr(v.evidence[0], "klp_warn was called"));
}

static void test_real_null(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	_cleanup_(klog_parser_freep) struct klog_parser *p = NULL;
	struct klog_patch_info pi;
	struct klog_verdict v;
	struct klog_options o;
	size_t len;
	_cleanup_free_ char *buf = test_read_data("klog/null.console", &len);

	klog_options_init(&o);
	o.on_event = collect;
	o.userdata = c;
	p = klog_parser_new(&o);
	assert_non_null(p);
	assert_int_equal(klog_parser_feed(p, buf, len), 0);
	assert_int_equal(klog_parser_finish(p), 0);
	klog_parser_verdict(p, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "klp_null");
	assert_int_equal(v.event, KLOG_EVENT_OOPS);
	/* the console copy and the dmesg dump are one report */
	assert_int_equal(count_events(c, KLOG_EVENT_OOPS), 1);
	assert_int_equal(count_events(c, KLOG_EVENT_PATCH_DISABLED), 1);
	assert_true(klog_parser_stats(p)->duplicates > 30);
	assert_string_equal(find_event(c, KLOG_EVENT_OOPS, 0)->function, "tt_null_cmdline_show");
	/* copies seen out of order still end in the right state */
	assert_int_equal(klog_parser_patch(p, 0, &pi), 0);
	assert_int_equal(pi.state, KLOG_PATCH_DISABLED);
	assert_int_equal(pi.n_trouble, 1);
	assert_true(pi.misbehaved);
	assert_int_equal(klog_parser_stats(p)->boots, 1);
}

static void test_real_stall(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	struct klog_verdict v;
	struct seen *s;
	struct klog_options o;

	run_file("klog/stall.console", NULL, c, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "klp_stall");
	assert_int_equal(v.event, KLOG_EVENT_TRANSITION_STALLED);
	assert_int_equal(v.how, KLOG_HOW_TRANSITION);
	assert_int_equal(count_events(c, KLOG_EVENT_TRANSITION_STALLED), 1);
	s = find_event(c, KLOG_EVENT_TRANSITION_STALLED, 0);
	assert_string_equal(s->function, "tt_stall_wait");
	assert_non_null(strstr(s->detail, "patching transition open for"));
	/* the blocking task is named once, though the core repeats it every second */
	assert_int_equal(count_events(c, KLOG_EVENT_TASK_BLOCKING), 1);
	assert_non_null(strstr(find_event(c, KLOG_EVENT_TASK_BLOCKING, 0)->detail, "tt_stall:"));
	assert_int_equal(count_events(c, KLOG_EVENT_TRANSITION_SIGNAL), 1);
	assert_int_equal(count_events(c, KLOG_EVENT_TRANSITION_REVERSED), 1);
	assert_int_equal(count_events(c, KLOG_EVENT_PATCH_DISABLED), 1);
	assert_int_equal(count_events(c, KLOG_EVENT_PATCH_ENABLED), 0);
	assert_non_null(strstr(v.evidence[0], "starting patching transition"));
	assert_non_null(strstr(v.evidence[1], "is sleeping on function tt_stall_wait"));

	/* a longer stall time: the kernel's own signal is the first sign */
	klog_options_init(&o);
	o.stall_s = 300;
	run_file("klog/stall.console", &o, c, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	s = find_event(c, KLOG_EVENT_TRANSITION_STALLED, 0);
	assert_non_null(strstr(s->detail, "signals the remaining tasks"));
}

static void test_real_load_failures(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	static const char *const funcs[] = { "cmdline_proc_show", NULL };
	struct klog_patch_spec spec = { "bad_vermagic", funcs };
	struct klog_verdict v;
	struct klog_options o;
	struct seen *e;

	run_file("klog/symbol.console", NULL, c, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "bad_symbol");
	assert_int_equal(v.event, KLOG_EVENT_MODULE_ERROR);
	assert_int_equal(v.how, KLOG_HOW_MODULE);
	e = find_event(c, KLOG_EVENT_MODULE_ERROR, 0);
	assert_string_equal(e->module, "bad_symbol");
	assert_string_equal(e->detail, "kallsyms_lookup_name -2");

	/* a plain module that fails: trouble, but no livepatch to blame */
	run_file("klog/vermagic.console", NULL, c, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_SUSPECT);
	assert_string_equal(v.patch, "");
	assert_non_null(strstr(v.reason, "version magic"));
	e = find_event(c, KLOG_EVENT_MODULE_ERROR, 0);
	assert_string_equal(e->module, "bad_vermagic");
	assert_false(e->implicated);
	/* declared as a patch, its load failure is its misbehaviour */
	klog_options_init(&o);
	o.patches = &spec;
	o.n_patches = 1;
	run_file("klog/vermagic.console", &o, c, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "bad_vermagic");
	assert_int_equal(v.how, KLOG_HOW_MODULE);
}

/* ---- synthetic logs: other kernels and shapes ---- */

static void test_reports_6_1(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	static const enum klog_event_type expect[] = {
		KLOG_EVENT_HUNG_TASK, KLOG_EVENT_SOFT_LOCKUP, KLOG_EVENT_RCU_STALL,
		KLOG_EVENT_KASAN, KLOG_EVENT_UBSAN, KLOG_EVENT_KFENCE,
		KLOG_EVENT_SLEEP_IN_ATOMIC, KLOG_EVENT_GPF, KLOG_EVENT_BUG,
		KLOG_EVENT_OOPS, KLOG_EVENT_PANIC,
	};
	struct klog_verdict v;
	size_t k = 0;
	struct seen *e;

	run_file("klog/synthetic/reports-6.1.log", NULL, c, &v);
	for (size_t i = 0; i < c->n; i++)
		if (c->ev[i].severity == KLOG_SEVERITY_TROUBLE) {
			assert_true(k < ARRAY_SIZE(expect));
			if (c->ev[i].type != expect[k])
				fail_msg("report %zu is %s, expected %s", k,
					 klog_event_type_to_string(c->ev[i].type),
					 klog_event_type_to_string(expect[k]));
			assert_false(c->ev[i].implicated);
			k++;
		}
	assert_int_equal(k, ARRAY_SIZE(expect));
	assert_int_equal(v.kind, KLOG_VERDICT_SUSPECT);
	assert_int_equal(v.event, KLOG_EVENT_HUNG_TASK);
	assert_int_equal(v.n_trouble, ARRAY_SIZE(expect));
	e = find_event(c, KLOG_EVENT_HUNG_TASK, 0);
	assert_string_equal(e->comm, "jbd2/vda1-8");
	assert_int_equal(e->pid, 215);
	assert_int_equal(e->n_frames, 9);
	e = find_event(c, KLOG_EVENT_SOFT_LOCKUP, 0);
	assert_string_equal(e->comm, "kworker/1:2");
	assert_string_equal(e->function, "dummy_spin");
	assert_string_equal(e->module, "dummy");
	e = find_event(c, KLOG_EVENT_RCU_STALL, 0);
	assert_int_equal(e->n_lines, 14);
	e = find_event(c, KLOG_EVENT_KASAN, 0);
	assert_string_equal(e->function, "dummy_fill");
	assert_true(e->n_lines >= 20);
	assert_string_equal(find_event(c, KLOG_EVENT_UBSAN, 0)->location, "drivers/net/dummy.c:120:23");
	assert_string_equal(find_event(c, KLOG_EVENT_KFENCE, 0)->function, "dummy_peek");
	assert_string_equal(find_event(c, KLOG_EVENT_SLEEP_IN_ATOMIC, 0)->location,
			    "kernel/locking/mutex.c:580");
	e = find_event(c, KLOG_EVENT_BUG, 0);
	assert_string_equal(e->location, "drivers/net/dummy.c:140");
	assert_string_equal(e->function, "dummy_check");
	e = find_event(c, KLOG_EVENT_OOPS, 0);
	assert_string_equal(e->comm, "init");
	assert_true(e->taint & KLOG_TAINT_BIT('D'));
}

static void test_livepatch_6_12(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	struct klog_verdict v;
	struct seen *e;

	run_file("klog/synthetic/livepatch-6.12.log", NULL, c, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "klp_fix_a");
	assert_int_equal(v.event, KLOG_EVENT_GPF);
	e = find_event(c, KLOG_EVENT_GPF, 0);
	assert_int_equal(e->how, KLOG_HOW_FRAME);
	assert_int_equal(e->pid, 4242);
	assert_string_equal(e->comm, "nft");
	assert_true(e->taint & KLOG_TAINT_BIT('K'));
	/* the panic the fault caused points at the same patch */
	e = find_event(c, KLOG_EVENT_PANIC, 0);
	assert_non_null(e);
	assert_string_equal(e->how_patch, "klp_fix_a");
}

static void test_livepatch_5_10(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	struct klog_verdict v;
	struct klog_options o;
	struct seen *e;

	run_file("klog/synthetic/livepatch-5.10.log", NULL, c, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "klp_old");
	e = find_event(c, KLOG_EVENT_WARNING, 0);
	assert_int_equal(e->how, KLOG_HOW_FRAME);
	assert_int_equal(e->n_frames, 3);
	/* no livepatch frame: the hard lockup 12 s after enabling is within the window */
	e = find_event(c, KLOG_EVENT_HARD_LOCKUP, 0);
	assert_int_equal(e->how, KLOG_HOW_TIME_WINDOW);
	assert_string_equal(e->how_patch, "klp_old");
	klog_options_init(&o);
	o.window_s = 0;
	run_file("klog/synthetic/livepatch-5.10.log", &o, c, &v);
	assert_false(find_event(c, KLOG_EVENT_HARD_LOCKUP, 0)->implicated);
	o.window_s = 5;
	run_file("klog/synthetic/livepatch-5.10.log", &o, c, &v);
	assert_false(find_event(c, KLOG_EVENT_HARD_LOCKUP, 0)->implicated);
}

static void test_no_timestamps(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	struct klog_verdict v;
	struct seen *e;

	run_file("klog/synthetic/no-timestamps.log", NULL, c, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "klp_quiet");
	e = find_event(c, KLOG_EVENT_WARNING, 0);
	assert_true(e->time_s < 0);
	assert_int_equal(e->how, KLOG_HOW_FRAME);
	assert_string_equal(e->function, "refcount_warn_saturate");
	assert_non_null(find_event(c, KLOG_EVENT_PATCH_DISABLED, 0));
}

static void test_caller_ids(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	struct klog_verdict v;
	struct seen *oops, *warn;

	run_file("klog/synthetic/caller-ids.log", NULL, c, &v);
	oops = find_event(c, KLOG_EVENT_OOPS, 0);
	warn = find_event(c, KLOG_EVENT_WARNING, 0);
	assert_non_null(oops);
	assert_non_null(warn);
	/* interleaved CPUs: each report keeps its own lines */
	assert_int_equal(oops->pid, 412);
	assert_string_equal(oops->function, "dev_get_stats");
	assert_int_equal(oops->n_frames, 2);
	assert_int_equal(oops->how, KLOG_HOW_FRAME);
	assert_string_equal(oops->modules, "klp_cpu(OEK)");
	assert_int_equal(warn->pid, 977);
	assert_string_equal(warn->function, "kfree");
	assert_int_equal(warn->n_frames, 2);
	assert_int_equal(warn->how, KLOG_HOW_TIME_WINDOW);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "klp_cpu");
}

static void test_continuation(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	struct klog_verdict v;
	struct seen *e;

	run_file("klog/synthetic/continuation.log", NULL, c, &v);
	e = find_event(c, KLOG_EVENT_WARNING, 0);
	assert_non_null(e);
	assert_string_equal(e ? e->modules : "",
			    "ext4 mbcache jbd2 crc16 virtio_blk klp_cont(OEK) virtio_net "
			    "[last unloaded: klp_prev(OEK)]");
	/* only a "? " frame names the patch, and the window is long over */
	assert_int_equal(e->how, KLOG_HOW_UNRELIABLE_FRAME);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "klp_cont");
}

static void test_truncated(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	struct klog_verdict v;
	struct seen *e;

	run_file("klog/synthetic/truncated.log", NULL, c, &v);
	e = find_event(c, KLOG_EVENT_OOPS, 0);
	assert_non_null(e);
	assert_int_equal(e->n_frames, 1);
	assert_int_equal(e->how, KLOG_HOW_FRAME);
	assert_string_equal(v.patch, "klp_cut");
}

static void test_other_forms(void **state)
{
	static const char *const files[] = {
		"klog/synthetic/warn.kmsg",        "klog/synthetic/warn.dmesg-T",
		"klog/synthetic/warn.dmesg-x",     "klog/synthetic/warn.iso",
		"klog/synthetic/warn.syslog",      "klog/synthetic/warn.journal",
		"klog/synthetic/warn.journal.json", "klog/synthetic/warn.rfc5424",
		"klog/synthetic/warn.short-monotonic",
	};
	_cleanup_free_ struct collector *c = new_collector();

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		struct klog_verdict v;
		struct seen *w;

		run_file(files[i], NULL, c, &v);
		if (v.kind != KLOG_VERDICT_MISBEHAVED || !streq(v.patch, "klp_warn"))
			fail_msg("%s: verdict %s '%s'", files[i], klog_verdict_kind_to_string(v.kind),
				 v.patch);
		/* the sshd line that looks like a WARNING is not the kernel's */
		assert_int_equal(count_events(c, KLOG_EVENT_WARNING), 1);
		w = find_event(c, KLOG_EVENT_WARNING, 0);
		assert_string_equal(w->function, "tt_warn_cmdline_show");
		assert_int_equal(w->how, KLOG_HOW_FRAME);
		assert_true(w->time_s >= 0 || w->wall_us >= 0);
		assert_int_equal(count_events(c, KLOG_EVENT_PATCH_DISABLED), 1);
	}
}

/* ---- attribution, options, boots ---- */

#define ENABLE(t, name)                                                                            \
	"[" t "] livepatch: enabling patch '" name "'\n"                                           \
	"[" t "] livepatch: '" name "': starting patching transition\n"                            \
	"[" t "] livepatch: '" name "': patching complete\n"

static const char plain_warn[] =
	"[  %s] ------------[ cut here ]------------\n"
	"[  %s] WARNING: CPU: 0 PID: 9 at fs/x.c:1 vfs_read+0x1/0x10\n"
	"[  %s] CPU: 0 PID: 9 Comm: cat Tainted: G  K  6.1.0 #1\n"
	"[  %s] Call Trace:\n"
	"[  %s]  <TASK>\n"
	"[  %s]  %s+0x10/0x20\n"
	"[  %s]  ksys_read+0x5/0x10\n"
	"[  %s]  </TASK>\n"
	"[  %s] ---[ end trace 0000000000000000 ]---\n";

static char *warn_at(const char *prefix, const char *t, const char *fn)
{
	_cleanup_strbuf_ struct strbuf sb = { 0 };

	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_adds(&sb, prefix), 0);
	assert_int_equal(strbuf_addf(&sb, plain_warn, t, t, t, t, t, t, fn, t, t, t), 0);
	return strbuf_detach(&sb, NULL);
}

static void test_patched_function(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	static const char *const funcs[] = { "seq_read_iter", NULL };
	struct klog_patch_spec spec = { "klp_fn", funcs };
	_cleanup_free_ char *log = warn_at(ENABLE("    1.000000", "klp_fn"), " 500.000000",
					    "seq_read_iter.cold");
	struct klog_verdict v;
	struct klog_options o;

	/* without knowing the functions: nothing ties the warning (the window is over) */
	assert_int_equal(run_text(log, strlen(log), NULL, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_SUSPECT);
	klog_options_init(&o);
	o.patches = &spec;
	o.n_patches = 1;
	assert_int_equal(run_text(log, strlen(log), &o, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "klp_fn");
	assert_int_equal(v.how, KLOG_HOW_PATCHED_FUNCTION);
	assert_non_null(strstr(v.reason, "seq_read_iter.cold"));
}

static void test_window_and_since(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	_cleanup_free_ char *log = warn_at(ENABLE("   10.000000", "klp_w"), "  40.000000", "vfs_x");
	_cleanup_free_ char *before = warn_at("", "   5.000000", "vfs_x");
	struct klog_verdict v;
	struct klog_options o;

	assert_int_equal(run_text(log, strlen(log), NULL, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_int_equal(v.how, KLOG_HOW_TIME_WINDOW);
	assert_non_null(strstr(v.reason, "30.0 s after 'klp_w' was enabled"));
	klog_options_init(&o);
	o.window_s = 20;
	assert_int_equal(run_text(log, strlen(log), &o, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_SUSPECT);
	/* trouble before --since does not count */
	klog_options_init(&o);
	o.since_s = 41;
	assert_int_equal(run_text(log, strlen(log), &o, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_OK);
	assert_int_equal(v.n_trouble, 0);
	assert_false(find_event(c, KLOG_EVENT_WARNING, 0)->counted);
	/* trouble before the patch was enabled is not its fault */
	assert_int_equal(run_text(before, strlen(before), NULL, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_SUSPECT);
}

static void test_boots(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	_cleanup_free_ char *log = NULL;
	_cleanup_strbuf_ struct strbuf sb = { 0 };
	struct klog_verdict v;
	_cleanup_free_ char *w = warn_at("", "  12.000000", "vfs_x");

	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_adds(&sb, "[    0.000000] Linux version 6.1.0-54-amd64\n"
					  ENABLE("    9.000000", "klp_boot")
					  "[    0.000000] Linux version 6.1.0-54-amd64\n"
					  "[    1.000000] Linux version 6.1.0-54-amd64 again\n"),
			 0);
	assert_int_equal(strbuf_adds(&sb, w), 0);
	log = strbuf_detach(&sb, NULL);
	/* the second boot's warning is 3 s after 9.0, but the patch is gone */
	assert_int_equal(run_text(log, strlen(log), NULL, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_SUSPECT);
	assert_int_equal(count_events(c, KLOG_EVENT_BOOT), 3);
	assert_int_equal(find_event(c, KLOG_EVENT_WARNING, 0)->boot, 2);
	assert_int_equal(find_event(c, KLOG_EVENT_PATCH_ENABLED, 0)->boot, 0);
}

static void test_unnamed_errors(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	static const char log[] =
		"[    1.000000] klp_sym: tainting kernel with TAINT_LIVEPATCH\n"
		"[    1.000100] livepatch: symbol 'no_such_fn' not found in symbol table\n"
		"[   30.000000] livepatch: symbol 'other_fn' not found in symbol table\n";
	static const char lockdown[] =
		"[    1.000000] Lockdown: insmod: unsigned module loading is restricted; see man kernel_lockdown.7\n";
	struct klog_patch_spec spec = { "klp_decl", NULL };
	struct klog_verdict v;
	struct klog_options o;
	struct seen *e;

	assert_int_equal(run_text(log, strlen(log), NULL, c, &v), 0);
	e = find_event(c, KLOG_EVENT_PATCH_ERROR, 0);
	assert_int_equal(e->how, KLOG_HOW_RECENT);
	assert_string_equal(e->how_patch, "klp_sym");
	assert_string_equal(e->detail, "no_such_fn");
	/* 29 s later nothing says whose symbol it was */
	assert_false(find_event(c, KLOG_EVENT_PATCH_ERROR, 1)->implicated);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);

	assert_int_equal(run_text(lockdown, strlen(lockdown), NULL, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_SUSPECT);
	klog_options_init(&o);
	o.patches = &spec;
	o.n_patches = 1;
	assert_int_equal(run_text(lockdown, strlen(lockdown), &o, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_string_equal(v.patch, "klp_decl");
	assert_int_equal(v.how, KLOG_HOW_RECENT);
}

static void test_stall_at_end(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	static const char open_short[] =
		"[    1.000000] livepatch: enabling patch 'klp_s'\n"
		"[    1.000100] livepatch: 'klp_s': starting patching transition\n"
		"[    5.000000] random: crng init done\n";
	static const char open_long[] =
		"[    1.000000] livepatch: enabling patch 'klp_s'\n"
		"[    1.000100] livepatch: 'klp_s': starting patching transition\n"
		"[   18.000000] random: crng init done\n";
	struct klog_verdict v;

	/* 4 s into a transition the log ends: not (yet) stalled */
	assert_int_equal(run_text(open_short, strlen(open_short), NULL, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_OK);
	assert_int_equal(count_events(c, KLOG_EVENT_TRANSITION_STALLED), 0);
	assert_int_equal(run_text(open_long, strlen(open_long), NULL, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_MISBEHAVED);
	assert_int_equal(count_events(c, KLOG_EVENT_TRANSITION_STALLED), 1);
	assert_true(find_event(c, KLOG_EVENT_TRANSITION_STALLED, 0)->time_s > 17);
}

static void test_reversed_and_unloaded(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	static const char log[] =
		"[    1.000000] livepatch: enabling patch 'klp_r'\n"
		"[    1.000100] livepatch: 'klp_r': starting patching transition\n"
		"[    3.000000] livepatch: 'klp_r': starting unpatching transition\n"
		"[    3.500000] livepatch: 'klp_r': unpatching complete\n"
		"[  900.000000] BUG: unable to handle page fault for address: 0000000000001000\n"
		"[  900.000010] CPU: 0 PID: 1 Comm: x Not tainted 6.1.0 #1\n"
		"[  900.000020] Modules linked in: dummy [last unloaded: klp_r(OEK)]\n"
		"[  900.000030] ---[ end trace 0000000000000000 ]---\n";
	struct klog_verdict v;
	struct seen *e;

	assert_int_equal(run_text(log, strlen(log), NULL, c, &v), 0);
	e = find_event(c, KLOG_EVENT_TRANSITION_REVERSED, 0);
	assert_non_null(e);
	assert_string_equal(e->patch, "klp_r");
	assert_non_null(find_event(c, KLOG_EVENT_PATCH_UNLOADED, 0));
	assert_false(find_event(c, KLOG_EVENT_OOPS, 0)->implicated);
	assert_int_equal(v.kind, KLOG_VERDICT_SUSPECT);
}

/* ---- bounds, streaming, errors ---- */

static void test_bounds(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	_cleanup_strbuf_ struct strbuf sb = { 0 };
	_cleanup_(klog_parser_freep) struct klog_parser *p = NULL;
	_cleanup_free_ char *log = NULL;
	struct klog_verdict v;
	struct klog_options o;
	struct seen *e;

	strbuf_init(&sb, 0);
	assert_int_equal(strbuf_adds(&sb, "[    1.000000] general protection fault: 0000 [#1] SMP\n"
					  "[    1.000000] Call Trace:\n"),
			 0);
	for (int i = 0; i < 5000; i++)
		assert_int_equal(strbuf_addf(&sb, "[    1.000001]  fn_%d+0x1/0x2 [klp_big]\n", i), 0);
	/* a line far longer than KLOG_LINE_MAX */
	assert_int_equal(strbuf_adds(&sb, "[    2.000000] "), 0);
	for (int i = 0; i < KLOG_LINE_MAX; i++)
		assert_int_equal(strbuf_addch(&sb, 'x'), 0);
	assert_int_equal(strbuf_adds(&sb, "\n"), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(strbuf_addf(&sb, "[    3.%06d] klp_%03d: tainting kernel with TAINT_LIVEPATCH\n",
					     i, i),
				 0);
	log = strbuf_detach(&sb, NULL);
	assert_int_equal(run_text(log, strlen(log), NULL, c, &v), 0);
	e = find_event(c, KLOG_EVENT_GPF, 0);
	assert_non_null(e);
	assert_int_equal(e->n_lines, KLOG_REPORT_LINES_MAX);
	assert_true(e->lines_dropped > 0);
	assert_int_equal(e->n_frames, KLOG_REPORT_FRAMES_MAX);
	assert_true(e->frames_dropped > 0);

	klog_options_init(&o);
	p = klog_parser_new(&o);
	assert_non_null(p);
	assert_int_equal(klog_parser_feed(p, log, strlen(log)), 0);
	assert_int_equal(klog_parser_finish(p), 0);
	assert_int_equal(klog_parser_stats(p)->cut_lines, 1);
	assert_int_equal(klog_parser_n_patches(p), KLOG_PATCHES_MAX);
	assert_true(klog_parser_stats(p)->patches_dropped >= 100 - KLOG_PATCHES_MAX);
}

/* Feeding byte by byte gives what feeding at once gives. */
static void test_split_feed(void **state)
{
	_cleanup_free_ struct collector *a = new_collector(), *b = new_collector();
	_cleanup_(klog_parser_freep) struct klog_parser *p = NULL;
	struct klog_verdict va, vb;
	struct klog_options o;
	size_t len;
	_cleanup_free_ char *buf = test_read_data("klog/null.console", &len);

	assert_int_equal(run_text(buf, len, NULL, a, &va), 0);
	klog_options_init(&o);
	o.on_event = collect;
	o.userdata = b;
	p = klog_parser_new(&o);
	assert_non_null(p);
	for (size_t i = 0; i < len; i += 7)
		assert_int_equal(klog_parser_feed(p, buf + i, len - i < 7 ? len - i : 7), 0);
	assert_int_equal(klog_parser_finish(p), 0);
	klog_parser_verdict(p, &vb);
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		assert_int_equal(a->ev[i].type, b->ev[i].type);
		assert_string_equal(a->ev[i].message, b->ev[i].message);
	}
	assert_int_equal(va.kind, vb.kind);
	assert_string_equal(va.reason, vb.reason);
	assert_int_equal(va.n_evidence, vb.n_evidence);
}

static void test_feed_records(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	_cleanup_(klog_parser_freep) struct klog_parser *p = NULL;
	static const char *const recs[] = {
		"5,10,1000000,-;livepatch: enabling patch 'klp_k'\n",
		"5,11,1000100,-;livepatch: 'klp_k': starting patching transition\n SUBSYSTEM=x\n DEVICE=+y",
		" SUBSYSTEM=none",
		"5,12,1000200,-;livepatch: 'klp_k': patching complete",
	};
	struct klog_options o;
	struct klog_verdict v;

	klog_options_init(&o);
	o.on_event = collect;
	o.userdata = c;
	p = klog_parser_new(&o);
	assert_non_null(p);
	for (size_t i = 0; i < ARRAY_SIZE(recs); i++)
		assert_int_equal(klog_parser_feed_record(p, recs[i], strlen(recs[i])), 0);
	assert_int_equal(klog_parser_finish(p), 0);
	klog_parser_verdict(p, &v);
	assert_int_equal(v.kind, KLOG_VERDICT_OK);
	assert_non_null(find_event(c, KLOG_EVENT_PATCH_ENABLED, 0));
	assert_int_equal(klog_parser_stats(p)->forms[KLOG_FORM_KMSG], 3);
}

static void test_callback_error(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	_cleanup_(klog_parser_freep) struct klog_parser *p = NULL;
	struct klog_options o;
	size_t len;
	_cleanup_free_ char *buf = test_read_data("klog/clean.console", &len);

	klog_options_init(&o);
	o.on_event = collect;
	o.userdata = c;
	c->fail_at = 2;
	p = klog_parser_new(&o);
	assert_non_null(p);
	assert_int_equal(klog_parser_feed(p, buf, len), -ECANCELED);
	/* the error sticks */
	assert_int_equal(klog_parser_feed(p, "x\n", 2), -ECANCELED);
	assert_int_equal(klog_parser_finish(p), -ECANCELED);
	assert_int_equal(c->n, 1);
}

static void test_garbage(void **state)
{
	_cleanup_free_ struct collector *c = new_collector();
	char buf[4096];
	struct klog_verdict v;
	unsigned s = 12345;

	/* NUL bytes, control characters, no newline at the end */
	for (size_t i = 0; i < sizeof(buf); i++) {
		s = s * 1103515245 + 12345;
		buf[i] = (char)(s >> 16);
	}
	assert_int_equal(run_text(buf, sizeof(buf), NULL, c, &v), 0);
	assert_int_equal(run_text("", 0, NULL, c, &v), 0);
	assert_int_equal(v.kind, KLOG_VERDICT_OK);
	assert_int_equal(run_text("\n\n\r\n", 4, NULL, c, &v), 0);
	assert_int_equal(c->n, 0);
}

static void test_json(void **state)
{
	_cleanup_(klog_parser_freep) struct klog_parser *p = NULL;
	_cleanup_(json_decrefp) json_t *doc = NULL;
	json_t *events = json_array(), *ev;
	struct klog_options o;
	size_t len;
	_cleanup_free_ char *buf = test_read_data("klog/warn.console", &len);
	static const char bad_utf8[] = "[    1.000000] BUG: bad \xff\xfe bytes\n";
	_cleanup_free_ char *dump = NULL;

	klog_options_init(&o);
	p = klog_parser_new(&o);
	assert_non_null(p);
	assert_int_equal(klog_parser_feed(p, buf, len), 0);
	assert_int_equal(klog_parser_feed(p, bad_utf8, strlen(bad_utf8)), 0);
	assert_int_equal(klog_parser_finish(p), 0);
	assert_int_equal(klog_parser_to_json(p, events, 3, &doc), 0);
	assert_int_equal(json_integer_value(json_object_get(doc, "version")), KLOG_JSON_VERSION);
	assert_string_equal(json_string_value(json_object_get(doc, "verdict")), "misbehaved");
	assert_string_equal(json_string_value(json_object_get(doc, "patch")), "klp_warn");
	assert_string_equal(json_string_value(json_object_get(doc, "how")), "frame");
	assert_true(json_array_size(json_object_get(doc, "evidence")) > 3);
	assert_int_equal(json_integer_value(json_object_get(doc, "events_dropped")), 3);
	ev = json_array_get(json_object_get(doc, "patches"), 0);
	assert_string_equal(json_string_value(json_object_get(ev, "state")), "disabled");
	assert_string_equal(json_string_value(json_object_get(ev, "taint")), "EKO");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "stats"), "lines")),
			 435);
	dump = json_dumps(doc, 0);
	assert_non_null(dump);

	/* an event: invalid UTF-8 is replaced, the report is there */
	{
		struct klog_event e = {
			.type = KLOG_EVENT_BUG,
			.severity = KLOG_SEVERITY_TROUBLE,
			.level = 2,
			.time_s = 1.5,
			.wall_us = 1764297611000001LL,
			.message = "BUG: bad \xff bytes",
			.lines = (const char *const[]){ "[    1.500000] BUG: bad \xff bytes" },
			.n_lines = 1,
			.report = &(struct klog_report){ .cpu = -1, .pid = 7, .comm = "x" },
		};
		json_t *j = NULL;

		assert_int_equal(klog_event_to_json(&e, &j), 0);
		assert_string_equal(json_string_value(json_object_get(j, "type")), "bug");
		assert_string_equal(json_string_value(json_object_get(j, "wall")),
				    "2025-11-28T02:40:11.000001Z");
		assert_non_null(strstr(json_string_value(json_object_get(j, "message")), "\xef\xbf\xbd"));
		assert_true(json_is_null(json_object_get(json_object_get(j, "report"), "cpu")));
		assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "report"), "pid")),
				 7);
		json_decref(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line_dmesg),
		cmocka_unit_test(test_line_ctime_decode_iso),
		cmocka_unit_test(test_line_kmsg),
		cmocka_unit_test(test_line_syslog),
		cmocka_unit_test(test_line_journal_json),
		cmocka_unit_test(test_line_console_noise),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_catalog_reachable),
		cmocka_unit_test(test_catalog_no_match),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_taint_and_modules),
		cmocka_unit_test(test_string_tables),
		cmocka_unit_test(test_real_clean),
		cmocka_unit_test(test_real_warn),
		cmocka_unit_test(test_real_null),
		cmocka_unit_test(test_real_stall),
		cmocka_unit_test(test_real_load_failures),
		cmocka_unit_test(test_reports_6_1),
		cmocka_unit_test(test_livepatch_6_12),
		cmocka_unit_test(test_livepatch_5_10),
		cmocka_unit_test(test_no_timestamps),
		cmocka_unit_test(test_caller_ids),
		cmocka_unit_test(test_continuation),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_other_forms),
		cmocka_unit_test(test_patched_function),
		cmocka_unit_test(test_window_and_since),
		cmocka_unit_test(test_boots),
		cmocka_unit_test(test_unnamed_errors),
		cmocka_unit_test(test_stall_at_end),
		cmocka_unit_test(test_reversed_and_unloaded),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_split_feed),
		cmocka_unit_test(test_feed_records),
		cmocka_unit_test(test_callback_error),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_json),
	};

	return TEST_MAIN(tests);
}
