/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "http-fixture.h"
#include "http.h"
#include "strbuf.h"
#include "test-lib.h"

struct fake_sleep {
	uint64_t delays[16];
	size_t n;
};

static void fake_sleep(uint64_t ms, void *userdata)
{
	struct fake_sleep *fs = userdata;

	if (fs->n < ARRAY_SIZE(fs->delays))
		fs->delays[fs->n] = ms;
	fs->n++;
}

static int setup(void **state)
{
	*state = http_fixture_start();
	return 0;
}

static int teardown(void **state)
{
	http_fixture_stop(*state);
	return 0;
}

/* Quick retries with recorded (not real) sleeps. */
static struct http_request quick_request(const char *url, struct fake_sleep *fs)
{
	return (struct http_request){
		.url = url,
		.max_attempts = 3,
		.retry_base_ms = 10,
		.retry_max_ms = 5000,
		.connect_timeout_ms = 2000,
		.timeout_ms = 5000,
		.sleep = fake_sleep,
		.userdata = fs,
	};
}

static void test_get_ok(void **state)
{
	struct http_fixture *f = *state;
	static const struct http_fixture_reply ok[] = {
		{ .status = 200, .body = "hello\n", .headers = { "ETag: \"v1\"" } },
	};
	static const char *const headers[] = { "apiKey: s3cret-key", "Accept: application/json",
					       NULL };
	_cleanup_free_ char *url = http_fixture_url(f, "/ok?x=1");
	_cleanup_free_ char *ua = NULL, *key = NULL;
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request(url, &fs);

	http_fixture_add(f, "/ok", NULL, ok, ARRAY_SIZE(ok));
	req.headers = headers;
	assert_int_equal(http_get(&req, &resp), 200);
	assert_int_equal(resp.status, 200);
	assert_int_equal(resp.body_len, 6);
	assert_string_equal(resp.body, "hello\n");
	assert_string_equal(resp.etag, "\"v1\"");
	assert_int_equal(resp.attempts, 1);
	assert_int_equal(fs.n, 0);
	ua = http_fixture_last_header(f, "User-Agent");
	assert_non_null(ua);
	assert_true(strncmp(ua, "tuxtape/", 8) == 0);
	key = http_fixture_last_header(f, "apiKey");
	assert_string_equal(key, "s3cret-key");
}

static void test_get_403_no_retry(void **state)
{
	struct http_fixture *f = *state;
	static const struct http_fixture_reply forbidden[] = {
		{ .status = 403, .body = "{\"message\":\"forbidden\"}" },
	};
	static const char *const headers[] = { "apiKey: s3cret-key", NULL };
	_cleanup_free_ char *url = http_fixture_url(f, "/forbidden");
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request(url, &fs);

	http_fixture_add(f, "/forbidden", NULL, forbidden, ARRAY_SIZE(forbidden));
	req.headers = headers;
	assert_int_equal(http_get(&req, &resp), -EACCES);
	assert_int_equal(resp.status, 403);
	assert_int_equal(resp.attempts, 1);
	assert_int_equal(http_fixture_hits(f, "/forbidden"), 1);
	assert_int_equal(fs.n, 0);
	assert_non_null(strstr(resp.error, url));
	assert_non_null(strstr(resp.error, "HTTP 403"));
	assert_null(strstr(resp.error, "s3cret"));
	/* The server's explanation stays available. */
	assert_non_null(strstr(resp.body, "forbidden"));
}

static void test_get_404(void **state)
{
	struct http_fixture *f = *state;
	_cleanup_free_ char *url = http_fixture_url(f, "/nothing-here");
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request(url, &fs);

	assert_int_equal(http_get(&req, &resp), -ENOENT);
	assert_int_equal(resp.status, 404);
	assert_int_equal(resp.attempts, 1);
}

static void test_get_503_then_200(void **state)
{
	struct http_fixture *f = *state;
	static const struct http_fixture_reply seq[] = {
		{ .status = 503, .body = "busy" },
		{ .status = 503, .body = "busy" },
		{ .status = 200, .body = "finally" },
	};
	_cleanup_free_ char *url = http_fixture_url(f, "/flaky");
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request(url, &fs);

	http_fixture_add(f, "/flaky", NULL, seq, ARRAY_SIZE(seq));
	assert_int_equal(http_get(&req, &resp), 200);
	assert_string_equal(resp.body, "finally");
	assert_int_equal(resp.attempts, 3);
	assert_int_equal(http_fixture_hits(f, "/flaky"), 3);
	/* Exponential backoff: base, then twice the base. */
	assert_int_equal(fs.n, 2);
	assert_int_equal(fs.delays[0], 10);
	assert_int_equal(fs.delays[1], 20);
}

static void test_get_503_always(void **state)
{
	struct http_fixture *f = *state;
	static const struct http_fixture_reply busy[] = { { .status = 503, .body = "busy" } };
	_cleanup_free_ char *url = http_fixture_url(f, "/down");
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request(url, &fs);

	http_fixture_add(f, "/down", NULL, busy, ARRAY_SIZE(busy));
	req.max_attempts = 4;
	assert_int_equal(http_get(&req, &resp), -EAGAIN);
	assert_int_equal(resp.status, 503);
	assert_int_equal(resp.attempts, 4);
	assert_int_equal(http_fixture_hits(f, "/down"), 4);
	assert_int_equal(fs.n, 3);
	assert_int_equal(fs.delays[2], 40);
	assert_non_null(strstr(resp.error, "HTTP 503"));
	assert_non_null(strstr(resp.error, "after 4 attempts"));
}

static void test_get_503_real_sleep(void **state)
{
	struct http_fixture *f = *state;
	static const struct http_fixture_reply busy[] = { { .status = 503 } };
	_cleanup_free_ char *url = http_fixture_url(f, "/down");
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct http_request req = {
		.url = url,
		.max_attempts = 3,
		.retry_base_ms = 1,
		.retry_max_ms = 5,
	};

	/* The default sleep is used when none is injected. */
	http_fixture_add(f, "/down", NULL, busy, ARRAY_SIZE(busy));
	assert_int_equal(http_get(&req, &resp), -EAGAIN);
	assert_int_equal(resp.attempts, 3);
}

static void test_get_429_retry_after(void **state)
{
	struct http_fixture *f = *state;
	static const struct http_fixture_reply seq[] = {
		{ .status = 429, .headers = { "Retry-After: 2" } },
		{ .status = 200, .body = "ok" },
	};
	static const struct http_fixture_reply long_wait[] = {
		{ .status = 429, .headers = { "Retry-After: 3600" } },
	};
	_cleanup_free_ char *url = http_fixture_url(f, "/limited");
	_cleanup_free_ char *url2 = http_fixture_url(f, "/closed");
	_cleanup_http_response_ struct http_response resp = { 0 }, resp2 = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request(url, &fs);

	http_fixture_add(f, "/limited", NULL, seq, ARRAY_SIZE(seq));
	http_fixture_add(f, "/closed", NULL, long_wait, ARRAY_SIZE(long_wait));
	assert_int_equal(http_get(&req, &resp), 200);
	assert_int_equal(resp.attempts, 2);
	assert_int_equal(fs.n, 1);
	assert_int_equal(fs.delays[0], 2000);

	/* A pause beyond retry_max_ms is not waited for: fail now, say why. */
	fs.n = 0;
	req.url = url2;
	assert_int_equal(http_get(&req, &resp2), -EAGAIN);
	assert_int_equal(resp2.status, 429);
	assert_int_equal(resp2.attempts, 1);
	assert_int_equal(resp2.retry_after_ms, 3600 * 1000);
	assert_int_equal(fs.n, 0);
	assert_non_null(strstr(resp2.error, "retry after 3600"));
}

static void test_get_oversized(void **state)
{
	struct http_fixture *f = *state;
	_cleanup_free_ char *big = malloc(300 * 1024);
	_cleanup_free_ char *url = http_fixture_url(f, "/big");
	_cleanup_free_ char *url2 = http_fixture_url(f, "/big-chunked");
	_cleanup_http_response_ struct http_response resp = { 0 }, resp2 = { 0 }, resp3 = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request(url, &fs);

	assert_non_null(big);
	memset(big, 'x', 300 * 1024);
	http_fixture_add(
		f, "/big", NULL,
		&(struct http_fixture_reply){ .status = 200, .body = big, .body_len = 300 * 1024 },
		1);
	http_fixture_add(
		f, "/big-chunked", NULL,
		&(struct http_fixture_reply){
			.status = 200, .body = big, .body_len = 300 * 1024, .chunked = true },
		1);
	req.max_body = 100 * 1024;
	assert_int_equal(http_get(&req, &resp), -EFBIG);
	assert_int_equal(resp.attempts, 1);
	assert_non_null(strstr(resp.error, "larger than"));

	/* Without Content-Length the cap is enforced while receiving. */
	req.url = url2;
	assert_int_equal(http_get(&req, &resp2), -EFBIG);
	assert_int_equal(resp2.attempts, 1);

	/* Exactly at the cap is fine. */
	req.max_body = 300 * 1024;
	assert_int_equal(http_get(&req, &resp3), 200);
	assert_int_equal(resp3.body_len, 300 * 1024);
}

static void test_get_connection_refused(void **state)
{
	_cleanup_free_ char *url = NULL;
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req;

	assert_true(asprintf(&url, "http://127.0.0.1:%u/x", http_fixture_unused_port()) > 0);
	req = quick_request(url, &fs);
	assert_int_equal(http_get(&req, &resp), -ECONNREFUSED);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.attempts, 3);
	assert_int_equal(fs.n, 2);
	assert_non_null(strstr(resp.error, url));
}

static void test_get_timeout(void **state)
{
	struct http_fixture *f = *state;
	static const struct http_fixture_reply slow[] = {
		{ .status = 200, .body = "late", .delay_ms = 1500 },
	};
	_cleanup_free_ char *url = http_fixture_url(f, "/slow");
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request(url, &fs);

	http_fixture_add(f, "/slow", NULL, slow, ARRAY_SIZE(slow));
	req.max_attempts = 1;
	req.timeout_ms = 200;
	assert_int_equal(http_get(&req, &resp), -ETIMEDOUT);
}

static void test_get_redirects(void **state)
{
	struct http_fixture *f = *state;
	static const struct http_fixture_reply target[] = { { .status = 200, .body = "here" } };
	static const struct http_fixture_reply loop[] = {
		{ .status = 302, .headers = { "Location: /loop" } },
	};
	_cleanup_free_ char *url = http_fixture_url(f, "/moved");
	_cleanup_free_ char *url2 = http_fixture_url(f, "/loop");
	_cleanup_http_response_ struct http_response resp = { 0 }, resp2 = { 0 }, resp3 = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request(url, &fs);

	http_fixture_add(
		f, "/moved", NULL,
		&(struct http_fixture_reply){ .status = 301, .headers = { "Location: /target" } },
		1);
	http_fixture_add(f, "/target", NULL, target, ARRAY_SIZE(target));
	http_fixture_add(f, "/loop", NULL, loop, ARRAY_SIZE(loop));
	assert_int_equal(http_get(&req, &resp), 200);
	assert_string_equal(resp.body, "here");

	req.url = url2;
	req.max_redirects = 3;
	assert_int_equal(http_get(&req, &resp2), -ELOOP);
	assert_int_equal(resp2.attempts, 1);
	assert_non_null(strstr(resp2.error, "more than 3 redirects"));

	/* With redirects off, a 3xx is an unexpected answer. */
	req.url = url;
	req.no_redirects = true;
	assert_int_equal(http_get(&req, &resp3), -EPROTO);
	assert_int_equal(resp3.status, 301);
}

static void test_get_conditional(void **state)
{
	struct http_fixture *f = *state;
	static const struct http_fixture_reply not_modified[] = { { .status = 304 } };
	_cleanup_free_ char *url = http_fixture_url(f, "/cond");
	_cleanup_free_ char *inm = NULL, *ims = NULL;
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request(url, &fs);

	http_fixture_add(f, "/cond", NULL, not_modified, ARRAY_SIZE(not_modified));
	req.if_none_match = "\"v1\"";
	req.if_modified_since = 1733097600; /* 2024-12-02 00:00:00 UTC */
	assert_int_equal(http_get(&req, &resp), 304);
	assert_int_equal(resp.body_len, 0);
	inm = http_fixture_last_header(f, "If-None-Match");
	assert_string_equal(inm, "\"v1\"");
	ims = http_fixture_last_header(f, "If-Modified-Since");
	assert_string_equal(ims, "Mon, 02 Dec 2024 00:00:00 GMT");
}

static void test_get_file_url(void **state)
{
	char *dir = test_tmpdir_new();
	_cleanup_free_ char *path = path_join(dir, "feed.json");
	_cleanup_free_ char *url = NULL, *missing = NULL;
	_cleanup_http_response_ struct http_response resp = { 0 }, resp2 = { 0 }, resp3 = { 0 };
	struct fake_sleep fs = { 0 };
	struct http_request req;

	assert_int_equal(write_file_atomic(path, "{}\n", 3, 0644), 0);
	assert_true(asprintf(&url, "file://%s", path) > 0);
	assert_true(asprintf(&missing, "file://%s/nope.json", dir) > 0);
	req = quick_request(url, &fs);
	assert_int_equal(http_get(&req, &resp), 200);
	assert_string_equal(resp.body, "{}\n");
	assert_true(resp.last_modified > 0);

	req.url = missing;
	assert_int_equal(http_get(&req, &resp2), -ENOENT);
	assert_int_equal(resp2.attempts, 1);

	req.url = url;
	req.max_body = 2;
	assert_int_equal(http_get(&req, &resp3), -EFBIG);
	test_tmpdir_remove(dir);
}

static void test_get_bad_urls(void **state)
{
	struct http_fixture *f = *state;
	static const struct http_fixture_reply forbidden[] = { { .status = 403 } };
	_cleanup_http_response_ struct http_response resp = { 0 }, resp2 = { 0 }, resp3 = { 0 };
	_cleanup_free_ char *url = NULL;
	struct fake_sleep fs = { 0 };
	struct http_request req = quick_request("ftp://127.0.0.1/x", &fs);

	assert_int_equal(http_get(&req, &resp), -EINVAL);
	req.url = "";
	assert_int_equal(http_get(&req, &resp2), -EINVAL);

	/* Credentials in a URL never reach the error text. */
	http_fixture_add(f, "/auth", NULL, forbidden, ARRAY_SIZE(forbidden));
	assert_true(asprintf(&url, "http://user:hunter2@127.0.0.1:%u/auth", http_fixture_port(f)) >
		    0);
	req.url = url;
	assert_int_equal(http_get(&req, &resp3), -EACCES);
	assert_null(strstr(resp3.error, "hunter2"));
	assert_non_null(strstr(resp3.error, "***@127.0.0.1"));
}

static void test_backoff(void **state)
{
	assert_int_equal(http_backoff_ms(1, 1000, 60000, 0), 1000);
	assert_int_equal(http_backoff_ms(2, 1000, 60000, 0), 2000);
	assert_int_equal(http_backoff_ms(4, 1000, 60000, 0), 8000);
	assert_int_equal(http_backoff_ms(40, 1000, 60000, 0), 60000);
	assert_int_equal(http_backoff_ms(1, 1000, 60000, 5000), 5000);
	assert_int_equal(http_backoff_ms(1, 1000, 60000, 500), 1000);
	assert_int_equal(http_backoff_ms(1, 1000, 60000, 120000), 60000);
	assert_true(http_error_is_transient(-EAGAIN));
	assert_true(http_error_is_transient(-ECONNREFUSED));
	assert_false(http_error_is_transient(-EACCES));
	assert_false(http_error_is_transient(-EFBIG));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_403_no_retry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_404, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_503_then_200, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_503_always, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_503_real_sleep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_429_retry_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_oversized, setup, teardown),
		cmocka_unit_test(test_get_connection_refused),
		cmocka_unit_test_setup_teardown(test_get_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_redirects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_conditional, setup, teardown),
		cmocka_unit_test(test_get_file_url),
		cmocka_unit_test_setup_teardown(test_get_bad_urls, setup, teardown),
		cmocka_unit_test(test_backoff),
	};

	return TEST_MAIN(tests);
}
