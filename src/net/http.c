/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <curl/curl.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "build-config.h"
#include "http.h"
#include "log.h"
#include "strbuf.h"

#define USER_AGENT "tuxtape/" TUXTAPE_VERSION
/* ETags are short; anything longer is not worth keeping for a conditional GET. */
#define ETAG_MAX 256

struct xfer {
	struct strbuf body;
	char *etag;
	bool too_big;
	bool oom;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init_once(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void default_sleep(uint64_t ms, void *userdata)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ms / 1000),
		.tv_nsec = (long)(ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb;
	int r;

	r = strbuf_add(&x->body, ptr, n);
	if (r == -EFBIG) {
		x->too_big = true;
		return 0;
	}
	if (r < 0) {
		x->oom = true;
		return 0;
	}
	return n;
}

static size_t header_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb, len = n;
	const char *v;

	/* A new status line starts the headers of the next answer in a redirect chain. */
	if (n >= 5 && strncmp(ptr, "HTTP/", 5) == 0) {
		free(x->etag);
		x->etag = NULL;
		return n;
	}
	if (n < 5 || strncasecmp(ptr, "etag:", 5) != 0)
		return n;
	v = ptr + 5;
	len -= 5;
	while (len && (*v == ' ' || *v == '\t')) {
		v++;
		len--;
	}
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len == 0 || len > ETAG_MAX)
		return n;
	free(x->etag);
	x->etag = strndup(v, len);
	if (!x->etag)
		x->oom = true;
	return n;
}

uint64_t http_backoff_ms(unsigned retry, unsigned base_ms, unsigned max_ms, uint64_t retry_after_ms)
{
	uint64_t d = base_ms;

	for (unsigned i = 1; i < retry && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	if (retry_after_ms > d)
		d = retry_after_ms > max_ms ? max_ms : retry_after_ms;
	return d;
}

bool http_error_is_transient(int error)
{
	switch (error) {
	case -ECONNREFUSED:
	case -EHOSTUNREACH:
	case -ENETUNREACH:
	case -ECONNRESET:
	case -ETIMEDOUT:
	case -EAGAIN:
		return true;
	default:
		return false;
	}
}

static int status_to_errno(long status)
{
	if ((status >= 200 && status < 300) || status == 304)
		return 0;
	if (status == 401 || status == 403)
		return -EACCES;
	if (status == 404 || status == 410)
		return -ENOENT;
	if (status == 429 || (status >= 500 && status < 600))
		return -EAGAIN;
	return -EPROTO;
}

static int curl_to_errno(CURLcode c, long os_errno, const struct xfer *x)
{
	switch (c) {
	case CURLE_OK:
		return 0;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT:
		if (os_errno == EHOSTUNREACH || os_errno == ENETUNREACH || os_errno == ETIMEDOUT)
			return (int)-os_errno;
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_FILE_COULDNT_READ_FILE:
		if (os_errno == EACCES || os_errno == EISDIR)
			return (int)-os_errno;
		return -ENOENT;
	case CURLE_TOO_MANY_REDIRECTS:
		return -ELOOP;
	case CURLE_PEER_FAILED_VERIFICATION:
		return -EKEYREJECTED;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return -ECONNRESET;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_BAD_CONTENT_ENCODING:
		return -EBADMSG;
	case CURLE_WRITE_ERROR:
		if (x->too_big)
			return -EFBIG;
		return x->oom ? -ENOMEM : -EIO;
	default:
		return -EIO;
	}
}

static const char *status_reason(long status)
{
	static const struct {
		long status;
		const char *text;
	} table[] = {
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 404, "Not Found" },
		{ 410, "Gone" },
		{ 429, "Too Many Requests" },
		{ 500, "Internal Server Error" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
	};

	for (size_t i = 0; i < ARRAY_SIZE(table); i++)
		if (table[i].status == status)
			return table[i].text;
	return "unexpected status";
}

/*
 * The URL as it may appear in messages: userinfo ("user:password@") is
 * replaced so credentials embedded in a URL never reach a log.
 */
static void redact_url(const char *url, char *buf, size_t size)
{
	const char *scheme = strstr(url, "://"), *host, *at, *end;

	if (!scheme) {
		snprintf(buf, size, "%s", url);
		return;
	}
	host = scheme + 3;
	end = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(end - host));
	if (!at) {
		snprintf(buf, size, "%s", url);
		return;
	}
	snprintf(buf, size, "%.*s***@%s", (int)(host - url), url, at + 1);
}

_printf_(2, 3) static void set_error(struct http_response *resp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(resp->error, sizeof(resp->error), fmt, ap);
	va_end(ap);
}

static void xfer_reset(struct xfer *x)
{
	strbuf_reset(&x->body);
	free(x->etag);
	x->etag = NULL;
	x->too_big = false;
	x->oom = false;
}

static void xfer_release(struct xfer *x)
{
	strbuf_release(&x->body);
	free(x->etag);
	x->etag = NULL;
}

static void curl_easy_cleanupp(CURL **c)
{
	if (*c)
		curl_easy_cleanup(*c);
}

static void curl_slist_freep(struct curl_slist **l)
{
	curl_slist_free_all(*l);
}

static int build_headers(const struct http_request *req, bool post, struct curl_slist **ret)
{
	struct curl_slist *list = NULL, *n;
	char buf[ETAG_MAX + 32];

	for (const char *const *h = req->headers; h && *h; h++) {
		n = curl_slist_append(list, *h);
		if (!n)
			goto oom;
		list = n;
	}
	if (post) {
		const char *type = req->content_type ? req->content_type : "application/json";
		_cleanup_free_ char *line = NULL;

		/* The type lands in a header line: no line breaks smuggled into it. */
		if (strpbrk(type, "\r\n")) {
			curl_slist_free_all(list);
			return -EINVAL;
		}
		if (asprintf(&line, "Content-Type: %s", type) < 0)
			goto oom;
		n = curl_slist_append(list, line);
		if (!n)
			goto oom;
		list = n;
		/* No "Expect: 100-continue" round trip: webhook bodies are small. */
		n = curl_slist_append(list, "Expect:");
		if (!n)
			goto oom;
		list = n;
	}
	if (!post && req->if_none_match) {
		if (strlen(req->if_none_match) > ETAG_MAX) {
			curl_slist_free_all(list);
			return -EINVAL;
		}
		snprintf(buf, sizeof(buf), "If-None-Match: %s", req->if_none_match);
		n = curl_slist_append(list, buf);
		if (!n)
			goto oom;
		list = n;
	}
	*ret = list;
	return 0;
oom:
	curl_slist_free_all(list);
	return -ENOMEM;
}

static int setup_handle(CURL *c, const struct http_request *req, bool post,
			struct curl_slist *headers, struct xfer *x, char *errbuf)
{
	unsigned redirects = req->max_redirects ? req->max_redirects : HTTP_REDIRECTS_DEFAULT;
	size_t max_body = req->max_body ? req->max_body : HTTP_BODY_MAX_DEFAULT;
	CURLcode e = CURLE_OK;

#define SET(opt, val)                                                                              \
	do {                                                                                       \
		if (e == CURLE_OK)                                                                 \
			e = curl_easy_setopt(c, opt, val);                                         \
	} while (0)
	SET(CURLOPT_URL, req->url);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, USER_AGENT);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_PROTOCOLS_STR, post ? "http,https" : "http,https,file");
	/* A redirect must never turn a remote answer into a local file read. */
	SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, req->no_redirects || post ? 0L : 1L);
	SET(CURLOPT_MAXREDIRS, (long)redirects);
	SET(CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(req->connect_timeout_ms ? req->connect_timeout_ms
					   : HTTP_CONNECT_TIMEOUT_MS_DEFAULT));
	SET(CURLOPT_TIMEOUT_MS,
	    (long)(req->timeout_ms ? req->timeout_ms : HTTP_TIMEOUT_MS_DEFAULT));
	/* Content-Length beyond the cap fails early; write_cb enforces it for chunked bodies. */
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_body);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_FILETIME, 1L);
	SET(CURLOPT_WRITEFUNCTION, write_cb);
	SET(CURLOPT_WRITEDATA, x);
	SET(CURLOPT_HEADERFUNCTION, header_cb);
	SET(CURLOPT_HEADERDATA, x);
	if (headers)
		SET(CURLOPT_HTTPHEADER, headers);
	if (req->ca_file)
		SET(CURLOPT_CAINFO, req->ca_file);
	if (post) {
		/* Borrowed, not copied: the body outlives the transfer. */
		SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
		SET(CURLOPT_POSTFIELDS, req->body_len ? (const char *)req->body : "");
	}
	if (!post && req->if_modified_since > 0) {
		SET(CURLOPT_TIMECONDITION, (long)CURL_TIMECOND_IFMODSINCE);
		SET(CURLOPT_TIMEVALUE_LARGE, (curl_off_t)req->if_modified_since);
	}
#undef SET
	if (e == CURLE_OUT_OF_MEMORY)
		return -ENOMEM;
	return e == CURLE_OK ? 0 : -EINVAL;
}

static int perform(const char *method, const struct http_request *req, struct http_response *resp)
{
	_cleanup_(curl_easy_cleanupp) CURL *c = NULL;
	_cleanup_(curl_slist_freep) struct curl_slist *headers = NULL;
	unsigned attempts = req->max_attempts ? req->max_attempts : HTTP_ATTEMPTS_DEFAULT;
	unsigned base_ms = req->retry_base_ms ? req->retry_base_ms : HTTP_RETRY_BASE_MS_DEFAULT;
	unsigned max_ms = req->retry_max_ms ? req->retry_max_ms : HTTP_RETRY_MAX_MS_DEFAULT;
	size_t max_body = req->max_body ? req->max_body : HTTP_BODY_MAX_DEFAULT;
	http_sleep_fn sleep_fn = req->sleep ? req->sleep : default_sleep;
	char errbuf[CURL_ERROR_SIZE], url[1024];
	bool is_file, gave_up_early = false, post = streq(method, "POST");
	struct xfer x = { 0 };
	CURLcode cc = CURLE_OK;
	int r = 0;

	memset(resp, 0, sizeof(*resp));
	strbuf_init(&x.body, max_body);
	if (!req->url || !*req->url) {
		set_error(resp, "%s failed: no URL given", method);
		return -EINVAL;
	}
	redact_url(req->url, url, sizeof(url));
	is_file = strncasecmp(req->url, "file:", 5) == 0;
	if (post && (is_file || (strncasecmp(req->url, "http://", 7) != 0 &&
				 strncasecmp(req->url, "https://", 8) != 0))) {
		set_error(resp, "POST '%s' failed: only http:// and https:// URLs are supported",
			  url);
		return -EINVAL;
	}
	if (post && !req->body && req->body_len) {
		set_error(resp, "POST '%s' failed: no body given", url);
		return -EINVAL;
	}

	pthread_once(&curl_once, curl_init_once);
	if (curl_init_result != CURLE_OK) {
		set_error(resp, "%s '%s' failed: cannot initialise libcurl", method, url);
		return -ENOMEM;
	}
	c = curl_easy_init();
	if (!c) {
		set_error(resp, "%s '%s' failed: out of memory", method, url);
		return -ENOMEM;
	}
	r = build_headers(req, post, &headers);
	if (r >= 0)
		r = setup_handle(c, req, post, headers, &x, errbuf);
	if (r < 0) {
		set_error(resp, "%s '%s' failed: cannot set up request", method, url);
		return r;
	}

	for (unsigned attempt = 1;; attempt++) {
		curl_off_t retry_after = 0;
		long os_errno = 0;
		uint64_t delay;

		if (req->before_attempt) {
			r = req->before_attempt(attempt, req->userdata);
			if (r < 0) {
				set_error(resp, "%s '%s' aborted before attempt %u: %s", method,
					  url, attempt, errno_to_string(r));
				break;
			}
		}
		xfer_reset(&x);
		errbuf[0] = '\0';
		resp->attempts = attempt;
		resp->status = 0;
		log_debug("%s '%s' (attempt %u of %u)", method, url, attempt, attempts);

		cc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
		curl_easy_getinfo(c, CURLINFO_OS_ERRNO, &os_errno);
		if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) != CURLE_OK)
			retry_after = 0;
		resp->retry_after_ms = retry_after > 0 ? (uint64_t)retry_after * 1000 : 0;

		if (cc == CURLE_OK && is_file)
			resp->status = 200;
		/* An error status decides the outcome even when its body overflowed. */
		if (cc == CURLE_TOO_MANY_REDIRECTS)
			r = -ELOOP;
		else if (resp->status >= 300 && resp->status != 304)
			r = status_to_errno(resp->status);
		else
			r = curl_to_errno(cc, os_errno, &x);
		if (r >= 0 || !http_error_is_transient(r) || attempt >= attempts)
			break;
		if (resp->retry_after_ms > max_ms) {
			/* The server asks for a longer pause than we may wait: give up now. */
			gave_up_early = true;
			break;
		}
		delay = http_backoff_ms(attempt, base_ms, max_ms, resp->retry_after_ms);
		log_debug("%s '%s' failed (%s), retrying in %" PRIu64 " ms", method, url,
			  resp->status ? status_reason(resp->status) : errno_to_string(r), delay);
		sleep_fn(delay, req->userdata);
	}

	if (r >= 0) {
		curl_off_t ft = -1;

		if (curl_easy_getinfo(c, CURLINFO_FILETIME_T, &ft) == CURLE_OK && ft > 0)
			resp->last_modified = (int64_t)ft;
		resp->etag = TAKE_PTR(x.etag);
		resp->body = strbuf_detach(&x.body, &resp->body_len);
		if (!resp->body) {
			xfer_release(&x);
			return -ENOMEM;
		}
		xfer_release(&x);
		return (int)resp->status;
	}

	if (r == -ELOOP) {
		set_error(resp, "%s '%s' failed: more than %u redirects", method, url,
			  req->max_redirects ? req->max_redirects : HTTP_REDIRECTS_DEFAULT);
	} else if (resp->status >= 300 && resp->status != 304) {
		/* Keep the (bounded) error body: servers often explain themselves there. */
		resp->body = strbuf_detach(&x.body, &resp->body_len);
		if (gave_up_early)
			set_error(
				resp,
				"%s '%s' failed: HTTP %ld (%s), server asks to retry after %" PRIu64
				" s",
				method, url, resp->status, status_reason(resp->status),
				resp->retry_after_ms / 1000);
		else
			set_error(resp, "%s '%s' failed: HTTP %ld (%s) after %u attempt%s", method,
				  url, resp->status, status_reason(resp->status), resp->attempts,
				  resp->attempts == 1 ? "" : "s");
	} else if (r == -EFBIG) {
		set_error(resp, "%s '%s' failed: body larger than %zu bytes", method, url, max_body);
	} else if (!resp->error[0]) {
		set_error(resp, "%s '%s' failed: %s (%s) after %u attempt%s", method, url,
			  errbuf[0] ? errbuf : curl_easy_strerror(cc), errno_to_string(r),
			  resp->attempts, resp->attempts == 1 ? "" : "s");
	}
	xfer_release(&x);
	return r;
}

int http_get(const struct http_request *req, struct http_response *resp)
{
	return perform("GET", req, resp);
}

int http_post(const struct http_request *req, struct http_response *resp)
{
	return perform("POST", req, resp);
}

void http_response_release(struct http_response *resp)
{
	if (!resp)
		return;
	free(resp->body);
	free(resp->etag);
	resp->body = NULL;
	resp->etag = NULL;
	resp->body_len = 0;
}
