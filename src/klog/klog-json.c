/* SPDX-License-Identifier: GPL-2.0-or-later */
/* JSON forms of events, verdicts and the whole report (docs/klog.md, version 1). */
#include <stdio.h>
#include <string.h>

#include "klog-report.h"
#include "klog.h"
#include "parse-util.h"
#include "utf8.h"

/* Kernel logs are not always UTF-8: invalid bytes become U+FFFD. */
static json_t *jstr(const char *s)
{
	json_t *j;
	char *c;

	if (!s)
		return json_null();
	if (utf8_is_valid(s, strlen(s)))
		return json_string(s);
	c = utf8_sanitize(s, strlen(s));
	if (!c)
		return NULL;
	j = json_string(c);
	free(c);
	return j;
}

static json_t *jtime(double t)
{
	/* microseconds, like the printk stamp */
	return t >= 0 ? json_real((double)(int64_t)(t * 1e6 + 0.5) / 1e6) : json_null();
}

static json_t *jwall(int64_t us)
{
	char buf[32], out[48];

	if (us < 0)
		return json_null();
	format_timestamp(us / 1000000, buf, sizeof(buf));
	/* "YYYY-MM-DDTHH:MM:SSZ" -> with microseconds */
	snprintf(out, sizeof(out), "%.19s.%06lldZ", buf, (long long)(us % 1000000));
	return json_string(out);
}

static json_t *taint_json(klog_taint_t t)
{
	json_t *a = json_array();

	for (char c = 'A'; a && c <= 'Z'; c++)
		if ((t & KLOG_TAINT_BIT(c)) && klog_taint_name(c))
			json_array_append_new(a, json_string(klog_taint_name(c)));
	return a;
}

static json_t *frame_json(const struct klog_frame *f)
{
	return json_pack("{s:o, s:o, s:I, s:I, s:b}", "function", jstr(f->function), "module",
			 f->module[0] ? jstr(f->module) : json_null(), "offset",
			 (json_int_t)f->offset, "size", (json_int_t)f->size, "reliable",
			 f->reliable);
}

static json_t *report_json(const struct klog_report *r)
{
	json_t *o, *frames = json_array();
	char letters[27];
	int e = 0;

	if (!frames)
		return NULL;
	for (size_t i = 0; i < r->n_frames; i++)
		e |= json_array_append_new(frames, frame_json(&r->frames[i]));
	klog_taint_letters(r->taint, letters, sizeof(letters));
	o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o}",
		      "cpu", r->cpu >= 0 ? json_integer(r->cpu) : json_null(),
		      "pid", r->pid >= 0 ? json_integer(r->pid) : json_null(),
		      "comm", r->comm[0] ? jstr(r->comm) : json_null(),
		      "taint", r->tainted_known ? json_string(letters) : json_null(),
		      "taint_flags", r->tainted_known ? taint_json(r->taint) : json_null(),
		      "rip", r->has_rip_frame ? frame_json(&r->rip_frame) : json_null(),
		      "location", r->location[0] ? jstr(r->location) : json_null(),
		      "modules", r->modules ? jstr(r->modules) : json_null(),
		      "frames", frames,
		      "frames_dropped", (json_int_t)r->frames_dropped,
		      "modules_truncated", json_boolean(r->modules_truncated));
	if (!o || e) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int klog_event_to_json(const struct klog_event *ev, json_t **ret)
{
	json_t *o, *lines = json_array();
	int e = 0;

	if (!lines)
		return -ENOMEM;
	for (size_t i = 0; i < ev->n_lines; i++)
		e |= json_array_append_new(lines, jstr(ev->lines[i]));
	o = json_object();
	if (!o) {
		json_decref(lines);
		return -ENOMEM;
	}
	e |= json_object_set_new(o, "type", json_string(klog_event_type_to_string(ev->type)));
	e |= json_object_set_new(o, "severity", json_string(klog_severity_to_string(ev->severity)));
	e |= json_object_set_new(o, "time", jtime(ev->time_s));
	e |= json_object_set_new(o, "wall", jwall(ev->wall_us));
	e |= json_object_set_new(o, "boot", json_integer(ev->boot));
	e |= json_object_set_new(o, "level", ev->level >= 0 ? json_integer(ev->level) : json_null());
	e |= json_object_set_new(o, "patch", jstr(ev->patch));
	e |= json_object_set_new(o, "module", jstr(ev->module));
	e |= json_object_set_new(o, "function", jstr(ev->function));
	e |= json_object_set_new(o, "detail", jstr(ev->detail));
	e |= json_object_set_new(o, "message", jstr(ev->message));
	e |= json_object_set_new(o, "counted", json_boolean(ev->counted));
	if (ev->implicates)
		e |= json_object_set_new(
			o, "implicates",
			json_pack("{s:o, s:s, s:o}", "patch", jstr(ev->implicates->patch), "how",
				  klog_how_to_string(ev->implicates->how), "detail",
				  jstr(ev->implicates->detail ? ev->implicates->detail : "")));
	else
		e |= json_object_set_new(o, "implicates", json_null());
	e |= json_object_set_new(o, "report", ev->report ? report_json(ev->report) : json_null());
	e |= json_object_set_new(o, "lines", lines);
	e |= json_object_set_new(o, "lines_dropped", json_integer((json_int_t)ev->lines_dropped));
	if (e || (ev->report && !json_object_get(o, "report"))) {
		json_decref(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

int klog_verdict_to_json(const struct klog_verdict *v, json_t **ret)
{
	json_t *o = json_object(), *ev = json_array();
	int e = 0;

	if (!o || !ev) {
		json_decref(o);
		json_decref(ev);
		return -ENOMEM;
	}
	for (size_t i = 0; i < v->n_evidence; i++)
		e |= json_array_append_new(ev, jstr(v->evidence[i]));
	e |= json_object_set_new(o, "verdict", json_string(klog_verdict_kind_to_string(v->kind)));
	e |= json_object_set_new(o, "patch", v->kind == KLOG_VERDICT_MISBEHAVED ? jstr(v->patch)
									 : json_null());
	e |= json_object_set_new(o, "reason", jstr(v->reason));
	e |= json_object_set_new(o, "event", v->kind != KLOG_VERDICT_OK
						     ? json_string(klog_event_type_to_string(v->event))
						     : json_null());
	e |= json_object_set_new(o, "how", v->kind == KLOG_VERDICT_MISBEHAVED
						   ? json_string(klog_how_to_string(v->how))
						   : json_null());
	e |= json_object_set_new(o, "time", v->kind != KLOG_VERDICT_OK ? jtime(v->time_s)
								       : json_null());
	e |= json_object_set_new(o, "evidence", ev);
	e |= json_object_set_new(o, "trouble", json_integer(v->n_trouble));
	e |= json_object_set_new(o, "errors", json_integer(v->n_errors));
	if (e) {
		json_decref(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}

static json_t *patch_json(const struct klog_patch_info *pi)
{
	json_t *o, *funcs = json_array();
	char letters[27];

	if (!funcs)
		return NULL;
	for (size_t i = 0; i < pi->n_functions; i++)
		json_array_append_new(funcs, jstr(pi->functions[i]));
	klog_taint_letters(pi->taint, letters, sizeof(letters));
	o = json_pack("{s:o, s:b, s:s, s:s, s:o, s:o, s:i, s:i, s:i, s:i, s:b, s:b, s:o}",
		      "name", jstr(pi->name), "livepatch", pi->livepatch, "state",
		      klog_patch_state_to_string(pi->state), "taint", letters, "enabled_at",
		      jtime(pi->enabled_s), "transition_since", jtime(pi->transition_s), "boot",
		      (int)pi->boot, "transitions", (int)pi->n_transitions, "errors",
		      (int)pi->n_errors, "trouble", (int)pi->n_trouble, "stalled", pi->stalled,
		      "misbehaved", pi->misbehaved, "functions", funcs);
	return o;
}

static json_t *stats_json(const struct klog_stats *s)
{
	json_t *forms = json_object(), *sev = json_object(), *o;

	if (!forms || !sev) {
		json_decref(forms);
		json_decref(sev);
		return NULL;
	}
	for (int f = 0; f < _KLOG_FORM_MAX; f++)
		if (s->forms[f])
			json_object_set_new(forms, klog_form_to_string(f),
					    json_integer((json_int_t)s->forms[f]));
	for (int k = 0; k < _KLOG_SEVERITY_MAX; k++)
		json_object_set_new(sev, klog_severity_to_string(k),
				    json_integer((json_int_t)s->events_by_severity[k]));
	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o, s:I, s:i}",
		      "bytes", (json_int_t)s->bytes, "lines", (json_int_t)s->lines, "records",
		      (json_int_t)s->records, "duplicates", (json_int_t)s->duplicates, "foreign",
		      (json_int_t)s->foreign, "cut_lines", (json_int_t)s->cut_lines, "malformed",
		      (json_int_t)s->malformed, "events", (json_int_t)s->events, "by_severity",
		      sev, "forms", forms, "patches_dropped", (json_int_t)s->patches_dropped,
		      "boots", (int)s->boots);
	return o;
}

int klog_parser_to_json(const struct klog_parser *p, json_t *events, uint64_t events_dropped,
			json_t **ret)
{
	struct klog_verdict v;
	json_t *o = NULL, *verdict = NULL, *patches = json_array();
	int r, e = 0;

	klog_parser_verdict(p, &v);
	r = klog_verdict_to_json(&v, &verdict);
	if (r < 0 || !patches) {
		json_decref(events);
		json_decref(patches);
		return r < 0 ? r : -ENOMEM;
	}
	for (size_t i = 0; i < klog_parser_n_patches(p); i++) {
		struct klog_patch_info pi;

		if (klog_parser_patch(p, i, &pi) >= 0)
			e |= json_array_append_new(patches, patch_json(&pi));
	}
	o = json_object();
	if (!o) {
		json_decref(events);
		json_decref(patches);
		json_decref(verdict);
		return -ENOMEM;
	}
	e |= json_object_set_new(o, "version", json_integer(KLOG_JSON_VERSION));
	/* the verdict's fields at the top level, so `jq .verdict` reads naturally */
	{
		const char *k;
		json_t *val;

		json_object_foreach(verdict, k, val)
			e |= json_object_set(o, k, val);
		json_decref(verdict);
	}
	e |= json_object_set_new(o, "patches", patches);
	e |= json_object_set_new(o, "events", events ? events : json_array());
	e |= json_object_set_new(o, "events_dropped", json_integer((json_int_t)events_dropped));
	e |= json_object_set_new(o, "stats", stats_json(klog_parser_stats(p)));
	if (e) {
		json_decref(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}
