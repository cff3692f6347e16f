/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "http-fixture.h"
#include "macro.h"
#include "strbuf.h"

struct reply {
	unsigned status;
	char *body;
	size_t body_len;
	char *headers[HTTP_FIXTURE_HEADERS_MAX];
	bool chunked;
	unsigned delay_ms;
};

struct route {
	char *path;
	char *query_contains;
	struct reply *replies;
	size_t n_replies;
	size_t next;
	struct route *link;
};

struct http_fixture {
	struct MHD_Daemon *daemon;
	unsigned short port;
	pthread_mutex_t lock;
	struct route *routes; /* in insertion order */
	char **requests;      /* "path?query" */
	char **last_headers;  /* "Name: value" of the last request */
};

struct chunk_state {
	char *body;
	size_t len;
	size_t pos;
};

static void *xmalloc0(size_t n)
{
	void *p = calloc(1, n ? n : 1);

	if (!p)
		abort();
	return p;
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		abort();
	return p;
}

static char *xmemdup(const void *data, size_t len)
{
	char *p = xmalloc0(len + 1);

	memcpy(p, data, len);
	return p;
}

static void xstrv_push(char ***v, const char *s)
{
	if (strv_push(v, s) < 0)
		abort();
}

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct strbuf *sb = cls;

	if (sb->len)
		strbuf_addch(sb, '&');
	if (value)
		strbuf_addf(sb, "%s=%s", key, value);
	else
		strbuf_adds(sb, key);
	return MHD_YES;
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	char ***v = cls;
	char *line;

	if (asprintf(&line, "%s: %s", key, value ? value : "") < 0)
		abort();
	if (strv_consume(v, line) < 0)
		abort();
	return MHD_YES;
}

static ssize_t chunk_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct chunk_state *cs = cls;
	size_t n;

	if (cs->pos >= cs->len)
		return MHD_CONTENT_READER_END_OF_STREAM;
	n = cs->len - cs->pos;
	if (n > max)
		n = max;
	memcpy(buf, cs->body + cs->pos, n);
	cs->pos += n;
	return (ssize_t)n;
}

static void chunk_free(void *cls)
{
	struct chunk_state *cs = cls;

	free(cs->body);
	free(cs);
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	struct http_fixture *f = cls;
	_cleanup_strbuf_ struct strbuf query;
	struct MHD_Response *resp;
	struct reply rep = { .status = 404 };
	char **headers = NULL;
	enum MHD_Result ret;
	char *line;

	strbuf_init(&query, 0);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &query);
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &headers);
	if (asprintf(&line, "%s?%s", url, query.buf) < 0)
		abort();

	pthread_mutex_lock(&f->lock);
	if (strv_consume(&f->requests, line) < 0)
		abort();
	strv_free(f->last_headers);
	f->last_headers = headers;
	for (struct route *r = f->routes; r; r = r->link) {
		if (!streq(r->path, url))
			continue;
		if (r->query_contains && !strstr(query.buf, r->query_contains))
			continue;
		rep = r->replies[r->next];
		/* Copy what the answer needs: the route may be reset while we answer. */
		rep.body = xmemdup(rep.body, rep.body_len);
		for (size_t i = 0; i < HTTP_FIXTURE_HEADERS_MAX; i++)
			rep.headers[i] = rep.headers[i] ? xstrdup(rep.headers[i]) : NULL;
		if (r->next + 1 < r->n_replies)
			r->next++;
		break;
	}
	pthread_mutex_unlock(&f->lock);

	if (rep.delay_ms)
		sleep_ms(rep.delay_ms);
	if (!rep.body)
		rep.body = xstrdup("no route\n");
	if (rep.chunked) {
		struct chunk_state *cs = xmalloc0(sizeof(*cs));

		cs->body = rep.body;
		cs->len = rep.body_len;
		rep.body = NULL;
		resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, chunk_reader,
							 cs, chunk_free);
	} else {
		size_t len = rep.body_len ? rep.body_len : strlen(rep.body);

		resp = MHD_create_response_from_buffer(len, rep.body, MHD_RESPMEM_MUST_FREE);
		rep.body = NULL;
	}
	if (!resp)
		abort();
	for (size_t i = 0; i < HTTP_FIXTURE_HEADERS_MAX; i++) {
		char *colon;

		if (!rep.headers[i])
			continue;
		colon = strchr(rep.headers[i], ':');
		if (colon) {
			*colon = '\0';
			MHD_add_response_header(resp, rep.headers[i],
						colon + 1 + strspn(colon + 1, " "));
		}
		free(rep.headers[i]);
	}
	ret = MHD_queue_response(conn, rep.status, resp);
	MHD_destroy_response(resp);
	return ret;
}

struct http_fixture *http_fixture_start(void)
{
	struct http_fixture *f = xmalloc0(sizeof(*f));
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = 0,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	const union MHD_DaemonInfo *info;

	pthread_mutex_init(&f->lock, NULL);
	f->daemon =
		MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
				 NULL, NULL, handle, f, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	if (!f->daemon) {
		fprintf(stderr, "http fixture: cannot start libmicrohttpd on 127.0.0.1\n");
		abort();
	}
	info = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		abort();
	f->port = info->port;
	return f;
}

static void routes_free(struct route *r)
{
	while (r) {
		struct route *next = r->link;

		for (size_t i = 0; i < r->n_replies; i++) {
			free(r->replies[i].body);
			for (size_t j = 0; j < HTTP_FIXTURE_HEADERS_MAX; j++)
				free(r->replies[i].headers[j]);
		}
		free(r->replies);
		free(r->path);
		free(r->query_contains);
		free(r);
		r = next;
	}
}

void http_fixture_reset(struct http_fixture *f)
{
	pthread_mutex_lock(&f->lock);
	routes_free(f->routes);
	f->routes = NULL;
	f->requests = strv_free(f->requests);
	f->last_headers = strv_free(f->last_headers);
	pthread_mutex_unlock(&f->lock);
}

void http_fixture_stop(struct http_fixture *f)
{
	if (!f)
		return;
	MHD_stop_daemon(f->daemon);
	http_fixture_reset(f);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

void http_fixture_add(struct http_fixture *f, const char *path, const char *query_contains,
		      const struct http_fixture_reply *replies, size_t n_replies)
{
	struct route *r = xmalloc0(sizeof(*r)), **tail;

	if (n_replies == 0)
		abort();
	r->path = xstrdup(path);
	r->query_contains = query_contains ? xstrdup(query_contains) : NULL;
	r->replies = xmalloc0(n_replies * sizeof(*r->replies));
	r->n_replies = n_replies;
	for (size_t i = 0; i < n_replies; i++) {
		const struct http_fixture_reply *in = &replies[i];
		struct reply *out = &r->replies[i];

		out->status = in->status;
		out->body_len = in->body_len ? in->body_len : (in->body ? strlen(in->body) : 0);
		out->body = xmemdup(in->body ? in->body : "", out->body_len);
		for (size_t j = 0; j < HTTP_FIXTURE_HEADERS_MAX; j++)
			out->headers[j] = in->headers[j] ? xstrdup(in->headers[j]) : NULL;
		out->chunked = in->chunked;
		out->delay_ms = in->delay_ms;
	}
	pthread_mutex_lock(&f->lock);
	for (tail = &f->routes; *tail; tail = &(*tail)->link)
		;
	*tail = r;
	pthread_mutex_unlock(&f->lock);
}

char *http_fixture_url(struct http_fixture *f, const char *path_and_query)
{
	char *url;

	if (asprintf(&url, "http://127.0.0.1:%u%s", f->port, path_and_query) < 0)
		abort();
	return url;
}

unsigned short http_fixture_port(struct http_fixture *f)
{
	return f->port;
}

unsigned http_fixture_hits(struct http_fixture *f, const char *path)
{
	size_t len = strlen(path);
	unsigned n = 0;

	pthread_mutex_lock(&f->lock);
	for (char **r = f->requests; r && *r; r++)
		if (strncmp(*r, path, len) == 0 && (*r)[len] == '?')
			n++;
	pthread_mutex_unlock(&f->lock);
	return n;
}

char *http_fixture_last_header(struct http_fixture *f, const char *name)
{
	size_t len = strlen(name);
	char *v = NULL;

	pthread_mutex_lock(&f->lock);
	for (char **h = f->last_headers; h && *h; h++)
		if (strncasecmp(*h, name, len) == 0 && (*h)[len] == ':') {
			v = xstrdup(*h + len + 2);
			break;
		}
	pthread_mutex_unlock(&f->lock);
	return v;
}

char **http_fixture_requests(struct http_fixture *f)
{
	char **v = NULL;

	pthread_mutex_lock(&f->lock);
	for (char **r = f->requests; r && *r; r++)
		xstrv_push(&v, *r);
	pthread_mutex_unlock(&f->lock);
	return v;
}

unsigned short http_fixture_unused_port(void)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sa);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* The kernel picked a free port; nobody listens on it once we close the socket. */
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		abort();
	return ntohs(sa.sin_port);
}
