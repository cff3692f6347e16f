/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny HTTP server for tests (libmicrohttpd) on 127.0.0.1 with an ephemeral
 * port, serving canned replies per route and recording what it was asked.
 *
 * Thread-safety: the server answers from its own threads; every function here
 * takes the fixture's lock, so tests may inspect it while requests run.
 * Functions abort the test process on OOM or when the server cannot start.
 */
#ifndef TUXTAPE_TEST_HTTP_FIXTURE_H
#define TUXTAPE_TEST_HTTP_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_FIXTURE_HEADERS_MAX 4

struct http_fixture;

/* One canned answer.  All strings are copied by http_fixture_add(). */
struct http_fixture_reply {
	unsigned status;
	const char *body;			       /* NULL = empty */
	size_t body_len;			       /* 0 = strlen(body) */
	const char *headers[HTTP_FIXTURE_HEADERS_MAX]; /* extra "Name: value" lines */
	bool chunked;				       /* send without Content-Length */
	unsigned delay_ms;			       /* wait this long before answering */
};

struct http_fixture *http_fixture_start(void);
void http_fixture_stop(struct http_fixture *f);

/*
 * Requests for path whose decoded query string ("k=v&k=v", in request order)
 * contains query_contains (NULL matches any) get replies[0], replies[1], ...
 * in turn, the last one repeating.  The first matching route added wins;
 * unmatched requests get 404.
 */
void http_fixture_add(struct http_fixture *f, const char *path, const char *query_contains,
		      const struct http_fixture_reply *replies, size_t n_replies);
/* Drops all routes and the request log. */
void http_fixture_reset(struct http_fixture *f);

/* "http://127.0.0.1:PORT" + path_and_query (caller frees). */
char *http_fixture_url(struct http_fixture *f, const char *path_and_query);
unsigned short http_fixture_port(struct http_fixture *f);

/* Number of requests received for path (any query). */
unsigned http_fixture_hits(struct http_fixture *f, const char *path);
/* Value of header name (case-insensitive) in the last request, or NULL (caller frees). */
char *http_fixture_last_header(struct http_fixture *f, const char *name);
/* Every request so far as "path?query", oldest first (strv; caller frees with strv_free). */
char **http_fixture_requests(struct http_fixture *f);

/* A loopback TCP port nobody listens on (for "connection refused"). */
unsigned short http_fixture_unused_port(void);

#endif
