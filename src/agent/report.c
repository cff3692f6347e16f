/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "fileio.h"
#include "http.h"
#include "report.h"

/* A report is small; a node must not wait long on an unreachable server. */
#define REPORT_CONNECT_TIMEOUT_MS 10000
#define REPORT_TIMEOUT_MS 30000
#define REPORT_ATTEMPTS 2
#define REPORT_ANSWER_MAX (64 * 1024)

struct report_default {
	struct report base;
	char *path;
	char *url;
	char *ca_file;
};

static int default_send(struct report *r, const json_t *status, char err[], size_t errsize)
{
	struct report_default *d = (struct report_default *)r;
	_cleanup_free_ char *text = json_dumps(status, JSON_INDENT(2) | JSON_SORT_KEYS);
	_cleanup_http_response_ struct http_response resp = {};
	struct http_request req = {
		.connect_timeout_ms = REPORT_CONNECT_TIMEOUT_MS,
		.timeout_ms = REPORT_TIMEOUT_MS,
		.max_attempts = REPORT_ATTEMPTS,
		.max_body = REPORT_ANSWER_MAX,
		.content_type = "application/json",
	};
	int ret;

	if (!text)
		return -ENOMEM;
	ret = write_file_atomic(d->path, text, strlen(text), 0644);
	if (ret < 0) {
		snprintf(err, errsize, "cannot write '%s': %s", d->path, strerror(-ret));
		return ret;
	}
	if (!d->url)
		return 0;
	req.url = d->url;
	req.ca_file = d->ca_file;
	req.body = text;
	req.body_len = strlen(text);
	ret = http_post(&req, &resp);
	if (ret < 0) {
		snprintf(err, errsize, "cannot post the report to '%s': %s", d->url,
			 *resp.error ? resp.error : strerror(-ret));
		return ret;
	}
	return 0;
}

static void default_free(struct report *r)
{
	struct report_default *d = (struct report_default *)r;

	free(d->path);
	free(d->url);
	free(d->ca_file);
	free(d);
}

static const struct report_ops default_ops = {
	.send = default_send,
	.free = default_free,
};

struct report *report_new_default(const char *state_dir, const char *url, const char *ca_file)
{
	struct report_default *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->base.ops = &default_ops;
	d->path = path_join(state_dir, "report.json");
	d->url = url ? strdup(url) : NULL;
	d->ca_file = ca_file ? strdup(ca_file) : NULL;
	if (!d->path || (url && !d->url) || (ca_file && !d->ca_file)) {
		default_free(&d->base);
		return NULL;
	}
	return &d->base;
}

int report_send(struct report *r, const json_t *status, char err[], size_t errsize)
{
	return r->ops->send(r, status, err, errsize);
}

struct report *report_free(struct report *r)
{
	if (r)
		r->ops->free(r);
	return NULL;
}
