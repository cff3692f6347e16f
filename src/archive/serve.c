/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <microhttpd.h>

#include "parse-util.h"
#include "serve.h"

#define PATH_MAX_LEN 1024

struct archive_server {
	struct MHD_Daemon *daemon;
	int root_fd;
	uint16_t port;
	char *url;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

char *archive_serve_check_path(const char *url, unsigned *ret_status)
{
	size_t n = url ? strlen(url) : 0, o = 0;
	char *out, *seg;

	*ret_status = 400;
	if (n == 0 || url[0] != '/' || n > PATH_MAX_LEN)
		return NULL;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	for (size_t i = 1; i < n; i++) {
		unsigned char ch = (unsigned char)url[i];

		if (ch == '%') {
			int hi, lo;

			if (i + 2 >= n) { /* truncated escape */
				free(out);
				return NULL;
			}
			hi = hexval(url[i + 1]);
			lo = hexval(url[i + 2]);
			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			ch = (unsigned char)(hi * 16 + lo);
			i += 2;
			/* an encoded separator, NUL or '%' (a second layer of encoding) is
			 * never one of our file names */
			if (ch == '/' || ch == '\0' || ch == '%') {
				free(out);
				return NULL;
			}
		}
		if (ch < 0x20 || ch == 0x7f || ch == '\\') {
			free(out);
			return NULL;
		}
		out[o++] = (char)ch;
	}
	if (o > 0 && out[o - 1] == '/')
		o--; /* "dir/": the directory, which is then not listed */
	out[o] = '\0';
	if (o == 0) {
		*ret_status = 404; /* "/": no directory listing */
		free(out);
		return NULL;
	}
	for (seg = out;;) {
		char *slash = strchr(seg, '/');
		size_t len = slash ? (size_t)(slash - seg) : strlen(seg);

		if (len == 0 || (len == 1 && seg[0] == '.') ||
		    (len == 2 && seg[0] == '.' && seg[1] == '.')) {
			free(out);
			return NULL;
		}
		if (!slash)
			break;
		seg = slash + 1;
	}
	*ret_status = 200;
	return out;
}

/* The URL as sent: archive_serve_check_path() decodes it once, itself. */
static size_t no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static int open_beneath(int root_fd, const char *rel)
{
	static int have_openat2 = 1;
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	if (__atomic_load_n(&have_openat2, __ATOMIC_RELAXED)) {
		fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd;
		__atomic_store_n(&have_openat2, 0, __ATOMIC_RELAXED);
	}
	/* Older kernels: the checked path has no "..", and the last component is no link. */
	return openat(root_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
}

static bool is_versioned(const char *rel)
{
	const char *base = strrchr(rel, '/');
	size_t i = 0;

	base = base ? base + 1 : rel;
	/* N.name.json */
	while (base[i] >= '0' && base[i] <= '9')
		i++;
	if (i > 0 && base[i] == '.')
		return true;
	/* <sha256>.name: a target under its hash */
	for (i = 0; i < 64; i++)
		if (!((base[i] >= '0' && base[i] <= '9') || (base[i] >= 'a' && base[i] <= 'f')))
			return false;
	return base[64] == '.' && base[65] != '\0';
}

static enum MHD_Result answer_status(struct MHD_Connection *conn, unsigned status)
{
	static const char bad[] = "bad request\n", notfound[] = "not found\n",
			  method[] = "method not allowed\n", error[] = "server error\n";
	const char *body = status == 400   ? bad
			   : status == 404 ? notfound
			   : status == 405 ? method
					   : error;
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	if (status == 405)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	struct archive_server *s = cls;
	struct MHD_Response *resp;
	_cleanup_free_ char *rel = NULL;
	enum MHD_Result ret;
	unsigned status;
	struct stat st;
	size_t n;
	int fd;

	(void)version;
	(void)upload_data;
	/* Answering on the first call (headers only) makes libmicrohttpd close the
	 * connection; on the second, keep-alive works. */
	if (!*con_cls) {
		static int seen;

		*con_cls = &seen;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0; /* a body with GET/HEAD means nothing here */
		return MHD_YES;
	}
	if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD))
		return answer_status(conn, 405);
	rel = archive_serve_check_path(url, &status);
	if (!rel)
		return answer_status(conn, status);
	fd = open_beneath(s->root_fd, rel);
	if (fd < 0)
		return answer_status(conn, errno == ENOENT || errno == ENOTDIR || errno == ELOOP ||
							   errno == EXDEV || errno == EACCES
						   ? 404
						   : 500);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return answer_status(conn, 404); /* directories are not listed */
	}
	resp = MHD_create_response_from_fd64((uint64_t)st.st_size, fd);
	if (!resp) {
		close(fd);
		return MHD_NO;
	}
	n = strlen(rel);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				n > 5 && streq(rel + n - 5, ".json") ? "application/json"
								      : "application/octet-stream");
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
				is_versioned(rel) ? "public, max-age=31536000, immutable"
						  : "public, max-age=60");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, bool *ipv6,
			char **ret_host)
{
	_cleanup_free_ char *host = NULL;
	const char *colon, *port_s;
	uint64_t port;

	if (strempty(listen))
		return -EINVAL;
	if (listen[0] == '[') {
		const char *end = strchr(listen, ']');

		if (!end || end[1] != ':')
			return -EINVAL;
		host = strndup(listen + 1, (size_t)(end - listen - 1));
		port_s = end + 2;
	} else {
		colon = strrchr(listen, ':');
		if (!colon)
			return -EINVAL;
		host = strndup(listen, (size_t)(colon - listen));
		port_s = colon + 1;
	}
	if (!host)
		return -ENOMEM;
	if (safe_atou64(port_s, &port) < 0 || port > 65535)
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '\0' || strchr(host, '.') || !strchr(host, ':')) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		if (host[0] == '\0')
			in->sin_addr.s_addr = htonl(INADDR_ANY);
		else if (inet_pton(AF_INET, host, &in->sin_addr) != 1)
			return -EINVAL;
		*ipv6 = false;
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
			return -EINVAL;
		*ipv6 = true;
	}
	*ret_host = TAKE_PTR(host);
	return 0;
}

int archive_server_start(const struct archive_server_options *o, struct archive_server **ret,
			 char err[], size_t errsize)
{
	_cleanup_(archive_server_stopp) struct archive_server *s = calloc(1, sizeof(*s));
	_cleanup_free_ char *host = NULL;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *info;
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD, threads = o->threads;
	bool ipv6 = false, tls = o->tls_cert || o->tls_key;
	const char *shown;
	int r;

	if (!s)
		return -ENOMEM;
	s->root_fd = -1;
	r = parse_listen(o->listen, &ss, &ipv6, &host);
	if (r == -EINVAL) {
		snprintf(err, errsize, "invalid listen address '%s' (ADDR:PORT or [ADDR6]:PORT)",
			 o->listen ?: "");
		return r;
	}
	if (r < 0)
		return r;
	if (tls && (!o->tls_cert || !o->tls_key)) {
		snprintf(err, errsize, "TLS needs both a certificate and its key");
		return -EINVAL;
	}
	if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		snprintf(err, errsize, "this libmicrohttpd has no TLS support");
		return -EOPNOTSUPP;
	}
	s->root_fd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->root_fd < 0) {
		r = -errno;
		snprintf(err, errsize, "cannot open '%s': %s", o->root, strerror(-r));
		return r;
	}
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		threads = n > 0 && n < 256 ? (unsigned)n : 2;
	}
	if (ipv6)
		flags |= MHD_USE_IPv6;
	if (tls)
		flags |= MHD_USE_TLS;
	s->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape,
		NULL, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_HTTPS_MEM_CERT,
		tls ? o->tls_cert : NULL, MHD_OPTION_HTTPS_MEM_KEY, tls ? o->tls_key : NULL,
		MHD_OPTION_END);
	if (!s->daemon) {
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		/* libmicrohttpd does not say why; the likely cause is worth a probe */
		r = -EIO;
		if (fd >= 0) {
			int one = 1;

			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
			if (bind(fd, (struct sockaddr *)&ss,
				 ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
							  : sizeof(struct sockaddr_in)) < 0)
				r = -errno;
			close(fd);
		}
		snprintf(err, errsize, "cannot listen on '%s': %s", o->listen,
			 r == -EIO ? (tls ? "the server did not start (is the TLS key valid?)"
					  : "the server did not start")
				   : strerror(-r));
		return r;
	}
	info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	s->port = info ? info->port : 0;
	if (host[0] == '\0' || streq(host, "0.0.0.0"))
		shown = "127.0.0.1";
	else if (streq(host, "::"))
		shown = "::1";
	else
		shown = host;
	if (asprintf(&s->url, "%s://%s%s%s:%u/", tls ? "https" : "http", ipv6 ? "[" : "", shown,
		     ipv6 ? "]" : "", (unsigned)s->port) < 0) {
		s->url = NULL;
		return -ENOMEM;
	}
	*ret = TAKE_PTR(s);
	return 0;
}

uint16_t archive_server_port(const struct archive_server *s)
{
	return s->port;
}

const char *archive_server_url(const struct archive_server *s)
{
	return s->url;
}

struct archive_server *archive_server_stop(struct archive_server *s)
{
	if (!s)
		return NULL;
	if (s->daemon)
		MHD_stop_daemon(s->daemon);
	if (s->root_fd >= 0)
		close(s->root_fd);
	free(s->url);
	free(s);
	return NULL;
}
