/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small HTTP(S)/file:// client over libcurl: GET and POST, bounded body in
 * memory, request headers, timeouts, bounded redirects, retries with
 * exponential backoff (honouring Retry-After) and conditional GET.
 *
 * Thread-safety: http_get() and http_post() may be called from several
 * threads at once, each with its own request and response.
 *
 * Secrets: request headers may carry credentials (NVD "apiKey", webhook
 * signatures).  Nothing in this module logs or copies header values or
 * request bodies into error texts.
 */
#ifndef TUXTAPE_NET_HTTP_H
#define TUXTAPE_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define HTTP_BODY_MAX_DEFAULT (64u * 1024 * 1024)
#define HTTP_ATTEMPTS_DEFAULT 4
#define HTTP_RETRY_BASE_MS_DEFAULT 1000
#define HTTP_RETRY_MAX_MS_DEFAULT 60000
#define HTTP_REDIRECTS_DEFAULT 5
#define HTTP_CONNECT_TIMEOUT_MS_DEFAULT 30000
#define HTTP_TIMEOUT_MS_DEFAULT 300000
#define HTTP_ERROR_MAX 512

/* Sleeps ms milliseconds; replaceable so tests and rate limiters control time. */
typedef void (*http_sleep_fn)(uint64_t ms, void *userdata);

/*
 * Called before every attempt (including retries).  A negative return aborts
 * the request with that error.  The NVD client uses it for its rate limiter.
 */
typedef int (*http_attempt_fn)(unsigned attempt, void *userdata);

/*
 * One GET or POST.  Zero-valued fields take the *_DEFAULT above.  Only url is
 * required.  The struct, its strings and the body are borrowed for the call.
 */
struct http_request {
	const char *url;	    /* http://, https:// or file:// */
	const char *const *headers; /* NULL-terminated "Name: value" lines, may be NULL */
	size_t max_body;	    /* larger bodies fail with -EFBIG */
	unsigned connect_timeout_ms;
	unsigned timeout_ms;	/* whole transfer, per attempt */
	unsigned max_attempts;	/* 1 = no retry */
	unsigned retry_base_ms; /* delay before retry n is base * 2^(n-1) ... */
	unsigned retry_max_ms;	/* ... capped here; Retry-After is capped here too */
	unsigned max_redirects;
	bool no_redirects;	   /* do not follow redirects at all */
	int64_t if_modified_since; /* seconds since the epoch, 0 = none */
	const char *if_none_match; /* ETag of a cached copy, NULL = none */
	http_sleep_fn sleep;	   /* NULL = nanosleep */
	http_attempt_fn before_attempt;
	void *userdata; /* for sleep and before_attempt */
	const char *ca_file; /* PEM file of CAs to verify https:// peers with; NULL = system's */
	/* http_post() only: */
	const void *body;	  /* the request body, sent as is (may be NULL when body_len is 0) */
	size_t body_len;
	const char *content_type; /* NULL = "application/json" */
};

/*
 * The outcome of http_get().  Valid after every call, successful or not, and
 * released with http_response_release().
 */
struct http_response {
	long status; /* last HTTP status, 200 for a file:// read, 0 if none */
	char *body;  /* NUL-terminated, owned; after a failure only an error status's body */
	size_t body_len;
	char *etag;		    /* ETag header of the final answer or NULL */
	int64_t last_modified;	    /* Last-Modified in epoch seconds, 0 if unknown */
	unsigned attempts;	    /* attempts made */
	uint64_t retry_after_ms;    /* last Retry-After seen (before capping), 0 if none */
	char error[HTTP_ERROR_MAX]; /* on failure: what failed, naming URL and status */
};

/*
 * Fetches req->url into resp.
 *
 * Returns the HTTP status (2xx, or 304 when a conditional GET found the
 * resource unchanged, with an empty body) or a negative errno:
 *   -EINVAL        bad request (no URL, unsupported scheme, malformed URL)
 *   -EFBIG         body larger than max_body
 *   -ECONNREFUSED, -EHOSTUNREACH, -ENETUNREACH, -ECONNRESET, -ETIMEDOUT
 *                  network failure, after all attempts
 *   -EACCES        401 or 403
 *   -ENOENT        404 or 410, or a missing file:// file
 *   -EAGAIN        429 or 5xx, after all attempts
 *   -ELOOP         too many redirects
 *   -EKEYREJECTED  TLS peer verification failed
 *   -EPROTO        any other unexpected status (other 4xx, unfollowed 3xx)
 *   -ENOMEM, -EIO  out of memory, other libcurl failures
 * Network failures, 429 and 5xx are retried; other failures are not.
 * resp->error then says what happened, naming the URL (never header values).
 */
int http_get(const struct http_request *req, struct http_response *resp);

/*
 * POSTs req->body (body_len bytes, Content-Type req->content_type) to
 * req->url, an http:// or https:// URL; file:// fails with -EINVAL.
 * Redirects are never followed (a 3xx answer is -EPROTO): a POST must not
 * turn into a GET somewhere else.  if_modified_since and if_none_match are
 * ignored.  Returns the 2xx status or the negative errno values of
 * http_get(), with the same retries: network failures, 429 and 5xx are
 * retried, so a receiver may see the same body twice and should deduplicate.
 * resp->body is the (bounded) answer.
 */
int http_post(const struct http_request *req, struct http_response *resp);

void http_response_release(struct http_response *resp);

static inline void http_response_releasep(struct http_response *resp)
{
	http_response_release(resp);
}
#define _cleanup_http_response_ _cleanup_(http_response_releasep)

/*
 * Delay before retry number `retry` (1 = the first retry): base * 2^(retry-1)
 * capped at max_ms, raised to retry_after_ms (itself capped) when given.
 * Exposed for tests.
 */
uint64_t http_backoff_ms(unsigned retry, unsigned base_ms, unsigned max_ms,
			 uint64_t retry_after_ms);

/* True when the errno returned by http_get() is worth retrying later. */
bool http_error_is_transient(int error);

#endif
