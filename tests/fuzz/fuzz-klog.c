/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the kernel log parser: arbitrary bytes, fed in two
 * pieces split where the first byte says (lines then span feeds), or record
 * by record like /dev/kmsg; every event and the final document are turned
 * into JSON.  Build with clang (see tests/fuzz/README.md); fuzz-klog-replay
 * runs the corpus as a regression test in every build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "klog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_event(const struct klog_event *ev, void *userdata)
{
	json_t *j = NULL;
	size_t *n = userdata;

	if (klog_event_to_json(ev, &j) < 0)
		abort();
	/* the JSON must serialise: invalid UTF-8 or NaN would make it fail */
	{
		char *s = json_dumps(j, JSON_COMPACT);

		if (!s)
			abort();
		free(s);
	}
	json_decref(j);
	(*n)++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct klog_patch_spec spec = { "klp_a", (const char *const[]){ "cmdline_proc_show", NULL } };
	struct klog_options o;
	struct klog_parser *p;
	struct klog_verdict v;
	json_t *doc = NULL;
	size_t n = 0, split;
	int r = 0;

	klog_options_init(&o);
	o.year = 2025;
	o.on_event = on_event;
	o.userdata = &n;
	o.patches = &spec;
	o.n_patches = size > 0 && (data[0] & 0x40) ? 1 : 0;
	p = klog_parser_new(&o);
	if (!p)
		return 0;
	if (size > 0 && (data[0] & 0x80)) {
		/* record by record, like reads of /dev/kmsg */
		const uint8_t *s = data + 1, *end = data + size;

		while (r >= 0 && s < end) {
			const uint8_t *nl = memchr(s, '\n', (size_t)(end - s));
			size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);

			r = klog_parser_feed_record(p, (const char *)s, len);
			s += len + (nl ? 1 : 0);
		}
	} else {
		split = size > 0 ? (data[0] * size) / 256 : 0;
		r = klog_parser_feed(p, data, split);
		if (r >= 0)
			r = klog_parser_feed(p, data + split, size - split);
	}
	if (r >= 0)
		r = klog_parser_finish(p);
	if (r < 0)
		abort(); /* nothing in the input may make the parser fail */
	klog_parser_verdict(p, &v);
	if (v.kind == KLOG_VERDICT_MISBEHAVED && !v.patch[0])
		abort();
	if (klog_parser_to_json(p, json_array(), 0, &doc) < 0)
		abort();
	{
		char *s = json_dumps(doc, JSON_COMPACT);

		if (!s)
			abort();
		free(s);
	}
	json_decref(doc);
	klog_parser_free(p);
	return 0;
}
