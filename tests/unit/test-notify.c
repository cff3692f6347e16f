/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Notification of patch build outcomes: the [notify] configuration, the
 * command (real /bin/sh, stdin and environment checked through files it
 * writes) and the webhook against a libmicrohttpd receiver on loopback that
 * records method, headers and body, answers from a script of statuses and
 * can stall to provoke a timeout.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "child.h"
#include "config.h"
#include "fileio.h"
#include "http-fixture.h"
#include "http.h"
#include "notify.h"
#include "strbuf.h"
#include "test-lib.h"

#define SECRET "hunter2-webhook-secret"

/* ---- the receiver ---- */

struct receiver {
	struct MHD_Daemon *daemon;
	unsigned short port;
	pthread_mutex_t lock;
	unsigned statuses[8]; /* answered in turn, the last one repeating */
	size_t n_statuses;
	unsigned delay_ms;
	unsigned hits;
	/* The last request: */
	char *method;
	char *path;
	char *content_type;
	char *signature;
	char *event;
	char *body;
	size_t body_len;
};

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static char *dup_or_null(const char *s)
{
	char *c;

	if (!s)
		return NULL;
	c = strdup(s);
	if (!c)
		abort();
	return c;
}

static void upload_free(void *cls, struct MHD_Connection *conn, void **con_cls,
			enum MHD_RequestTerminationCode toe)
{
	struct strbuf *sb = *con_cls;

	if (sb) {
		strbuf_release(sb);
		free(sb);
		*con_cls = NULL;
	}
}

static enum MHD_Result receive(void *cls, struct MHD_Connection *conn, const char *url,
			       const char *method, const char *version, const char *upload_data,
			       size_t *upload_data_size, void **con_cls)
{
	struct receiver *rv = cls;
	struct strbuf *sb = *con_cls;
	struct MHD_Response *resp;
	enum MHD_Result ret;
	unsigned status, delay;
	size_t i;

	if (!sb) {
		sb = calloc(1, sizeof(*sb));
		if (!sb)
			abort();
		strbuf_init(sb, 4u * 1024 * 1024);
		*con_cls = sb;
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (strbuf_add(sb, upload_data, *upload_data_size) < 0)
			abort();
		*upload_data_size = 0;
		return MHD_YES;
	}

	pthread_mutex_lock(&rv->lock);
	i = rv->hits < rv->n_statuses ? rv->hits : rv->n_statuses - 1;
	status = rv->n_statuses ? rv->statuses[i] : 200;
	rv->hits++;
	free(rv->method);
	free(rv->path);
	free(rv->content_type);
	free(rv->signature);
	free(rv->event);
	free(rv->body);
	rv->method = dup_or_null(method);
	rv->path = dup_or_null(url);
	rv->content_type =
		dup_or_null(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type"));
	rv->signature = dup_or_null(
		MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-TuxTape-Signature"));
	rv->event =
		dup_or_null(MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-TuxTape-Event"));
	rv->body = strbuf_detach(sb, &rv->body_len);
	delay = rv->delay_ms;
	pthread_mutex_unlock(&rv->lock);

	if (delay)
		sleep_ms(delay);
	resp = MHD_create_response_from_buffer(3, (void *)"ok\n", MHD_RESPMEM_PERSISTENT);
	if (!resp)
		abort();
	ret = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

/* key_pem and cert_pem: serve HTTPS with them; NULL: plain HTTP. */
static struct receiver *receiver_start_tls(const char *key_pem, const char *cert_pem)
{
	struct receiver *rv = calloc(1, sizeof(*rv));
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	const union MHD_DaemonInfo *info;

	if (!rv)
		abort();
	pthread_mutex_init(&rv->lock, NULL);
	if (key_pem)
		rv->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
						      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_TLS,
					      0, NULL, NULL, receive, rv, MHD_OPTION_SOCK_ADDR, &sa,
					      MHD_OPTION_NOTIFY_COMPLETED, upload_free, NULL,
					      MHD_OPTION_HTTPS_MEM_KEY, key_pem,
					      MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_END);
	else
		rv->daemon = MHD_start_daemon(
			MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL,
			NULL, receive, rv, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_NOTIFY_COMPLETED,
			upload_free, NULL, MHD_OPTION_END);
	if (!rv->daemon)
		abort();
	info = MHD_get_daemon_info(rv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (!info || !info->port)
		abort();
	rv->port = info->port;
	return rv;
}

static struct receiver *receiver_start(void)
{
	return receiver_start_tls(NULL, NULL);
}

static void receiver_stop(struct receiver *rv)
{
	MHD_stop_daemon(rv->daemon);
	free(rv->method);
	free(rv->path);
	free(rv->content_type);
	free(rv->signature);
	free(rv->event);
	free(rv->body);
	pthread_mutex_destroy(&rv->lock);
	free(rv);
}

static char *receiver_url(struct receiver *rv, const char *userinfo, const char *path)
{
	char *url;

	if (asprintf(&url, "http://%s%s127.0.0.1:%u%s", userinfo ? userinfo : "",
		     userinfo ? "@" : "", rv->port, path) < 0)
		abort();
	return url;
}

static char *bio_text(BIO *b)
{
	char *data, *s;
	long len = BIO_get_mem_data(b, &data);

	s = calloc(1, (size_t)len + 1);
	if (!s)
		abort();
	memcpy(s, data, (size_t)len);
	return s;
}

/* A fresh self-signed P-256 certificate for 127.0.0.1, as PEM key and certificate. */
static void make_certificate(char **ret_key, char **ret_cert)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	BIO *kb = BIO_new(BIO_s_mem()), *cb = BIO_new(BIO_s_mem());

	assert_non_null(pkey);
	assert_non_null(x);
	assert_non_null(kb);
	assert_non_null(cb);
	assert_int_equal(X509_set_version(x, 2), 1);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	assert_int_equal(X509_set_pubkey(x, pkey), 1);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"tuxtape test receiver", -1, -1, 0);
	assert_int_equal(X509_set_issuer_name(x, name), 1);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name, "IP:127.0.0.1");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	ext = X509V3_EXT_conf_nid(NULL, &v3, NID_basic_constraints, "critical,CA:TRUE");
	assert_non_null(ext);
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, pkey, EVP_sha256()) > 0);
	assert_int_equal(PEM_write_bio_PrivateKey(kb, pkey, NULL, NULL, 0, NULL, NULL), 1);
	assert_int_equal(PEM_write_bio_X509(cb, x), 1);
	*ret_key = bio_text(kb);
	*ret_cert = bio_text(cb);
	BIO_free(kb);
	BIO_free(cb);
	X509_free(x);
	EVP_PKEY_free(pkey);
}

/* ---- fixtures ---- */

struct fixture {
	char *dir;
	struct receiver *rv;
	char *saved_tmpdir;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *t = getenv("TMPDIR");

	assert_non_null(f);
	f->dir = test_tmpdir_new();
	f->rv = receiver_start();
	f->saved_tmpdir = t ? strdup(t) : NULL;
	/* Event files go here, so the test sees that none is left behind. */
	setenv("TMPDIR", f->dir, 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->saved_tmpdir)
		setenv("TMPDIR", f->saved_tmpdir, 1);
	else
		unsetenv("TMPDIR");
	unsetenv("TUXTAPE_NOTIFY_WEBHOOK_SECRET");
	free(f->saved_tmpdir);
	receiver_stop(f->rv);
	test_tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static json_t *event_new(const char *event, const char *kernel)
{
	json_t *e = json_pack(
		"{s:i, s:s, s:I, s:s, s:[s], s:[{s:s, s:s}], s:[{s:s, s:s}], s:n, s:s}", "version",
		1, "event", event, "id", (json_int_t)7, "kernel", kernel, "cves", "CVE-2024-53104",
		"patches", "file", "0001-uvc.patch", "sha256",
		"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "reasons",
		"what", "drivers/media/usb/uvc/uvc_driver.c:uvc_parse", "reason",
		"changes data 'uvc_fmts'", "module", "time", "2025-01-02T03:04:05Z");

	assert_non_null(e);
	return e;
}

static char *compact(json_t *e)
{
	char *s = json_dumps(e, JSON_COMPACT);

	assert_non_null(s);
	return s;
}

static char *read_text(const char *dir, const char *name)
{
	_cleanup_free_ char *path = path_join(dir, name);
	char *buf = NULL;
	size_t len;

	assert_non_null(path);
	if (read_file_bounded(path, 1 << 20, &buf, &len) < 0)
		return NULL;
	return buf;
}

static bool exists(const char *dir, const char *name)
{
	_cleanup_free_ char *path = path_join(dir, name);

	return access(path, F_OK) == 0;
}

/* Files named tuxtape-event-* left in dir. */
static unsigned leftover_events(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned n = 0;

	assert_non_null(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, "tuxtape-event-", 14) == 0)
			n++;
	closedir(d);
	return n;
}

static char *hmac_hex(const char *key, const char *body, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char *hex = calloc(1, 2 * EVP_MAX_MD_SIZE + 8);

	assert_non_null(hex);
	assert_non_null(HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, len,
			     md, &mdlen));
	memcpy(hex, "sha256=", 8);
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(hex + 7 + 2 * i, 3, "%02x", md[i]);
	return hex;
}

/* ---- configuration ---- */

static struct config *config_of(const char *text)
{
	struct config *c = config_new();
	int line = 0;

	assert_non_null(c);
	assert_int_equal(config_load_string(c, text, "test", &line), 0);
	return c;
}

static void test_config_defaults(void **state)
{
	_cleanup_(config_freep) struct config *c = config_of("[core]\ndata_dir = /x\n");
	_cleanup_notify_config_ struct notify_config cfg = { 0 };
	char err[256] = "";

	assert_int_equal(notify_config_load(c, &cfg, err, sizeof(err)), 0);
	assert_null(cfg.command);
	assert_null(cfg.webhook);
	assert_false(notify_config_enabled(&cfg));
	assert_true(notify_config_wants(&cfg, "refused"));
	assert_true(notify_config_wants(&cfg, "failed"));
	assert_false(notify_config_wants(&cfg, "built"));
	assert_false(notify_config_wants(&cfg, "bogus"));
}

static void test_config_full(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *ca = path_join(f->dir, "ca.pem"), *text = NULL;
	_cleanup_(config_freep) struct config *c = NULL;
	_cleanup_notify_config_ struct notify_config cfg = { 0 };
	char err[256] = "", on[64];

	assert_int_equal(write_file_atomic(ca, "x", 1, 0644), 0);
	assert_true(asprintf(&text,
			     "[notify]\ncommand = mail -s tuxtape ops@example.org\n"
			     "command_timeout = 12\nwebhook = https://hooks.example.org/tuxtape\n"
			     "webhook_secret = " SECRET "\nwebhook_ca = %s\nwebhook_timeout = 4\n"
			     "webhook_attempts = 5\non = built, failed\n",
			     ca) > 0);
	c = config_of(text);
	assert_int_equal(notify_config_load(c, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.command, "mail -s tuxtape ops@example.org");
	assert_int_equal(cfg.command_timeout_s, 12);
	assert_string_equal(cfg.webhook, "https://hooks.example.org/tuxtape");
	assert_string_equal(cfg.webhook_secret, SECRET);
	assert_string_equal(cfg.webhook_ca, ca);
	assert_int_equal(cfg.webhook_timeout_ms, 4000);
	assert_int_equal(cfg.webhook_attempts, 5);
	assert_int_equal(cfg.on, NOTIFY_ON_BUILT | NOTIFY_ON_FAILED);
	assert_true(notify_config_enabled(&cfg));
	assert_true(notify_config_wants(&cfg, "built"));
	assert_false(notify_config_wants(&cfg, "refused"));
	assert_string_equal(notify_on_to_string(cfg.on, on, sizeof(on)), "built,failed");
	assert_string_equal(notify_on_to_string(0, on, sizeof(on)), "refused,failed");
}

static void test_config_env_overrides(void **state)
{
	_cleanup_(config_freep) struct config *c = config_of("[notify]\ncommand = true\n");
	_cleanup_notify_config_ struct notify_config cfg = { 0 };
	char *env[] = { (char *)"TUXTAPE_NOTIFY_WEBHOOK=http://127.0.0.1:1/h",
			(char *)"TUXTAPE_NOTIFY_COMMAND=", NULL };
	char err[256] = "";

	/* An empty value switches a channel off. */
	config_load_env(c, env);
	assert_int_equal(notify_config_load(c, &cfg, err, sizeof(err)), 0);
	assert_null(cfg.command);
	assert_string_equal(cfg.webhook, "http://127.0.0.1:1/h");
}

/* Loads text, expects -EBADMSG with want in the message and secret_text nowhere in it. */
static void expect_bad_config(const char *text, const char *want)
{
	_cleanup_(config_freep) struct config *c = config_of(text);
	_cleanup_notify_config_ struct notify_config cfg = { 0 };
	char err[256] = "";

	assert_int_equal(notify_config_load(c, &cfg, err, sizeof(err)), -EBADMSG);
	if (!strstr(err, want))
		fail_msg("message '%s' does not say '%s'", err, want);
	assert_null(strstr(err, SECRET));
	assert_null(strstr(err, "pa55word"));
	assert_null(cfg.command);
}

static void test_config_bad_webhook_scheme(void **state)
{
	expect_bad_config("[notify]\ncommand = true\nwebhook = ftp://u:pa55word@example.org/x\n",
			  "notify.webhook: not an http:// or https:// URL");
}

static void test_config_bad_webhook_empty_host(void **state)
{
	expect_bad_config("[notify]\nwebhook = https://\n", "notify.webhook");
}

static void test_config_secret_without_webhook(void **state)
{
	expect_bad_config("[notify]\ncommand = true\nwebhook_secret = " SECRET "\n",
			  "notify.webhook_secret is set but notify.webhook is not");
}

static void test_config_ca_without_webhook(void **state)
{
	expect_bad_config("[notify]\nwebhook_ca = /etc/hostname\n",
			  "notify.webhook_ca is set but notify.webhook is not");
}

static void test_config_ca_missing(void **state)
{
	expect_bad_config("[notify]\nwebhook = https://h.example.org/\n"
			  "webhook_ca = /nonexistent/ca.pem\n",
			  "notify.webhook_ca: cannot read '/nonexistent/ca.pem'");
}

static void test_config_bad_command_timeout(void **state)
{
	expect_bad_config("[notify]\ncommand = true\ncommand_timeout = 0\n",
			  "notify.command_timeout: invalid value '0' (1..3600)");
}

static void test_config_bad_webhook_timeout(void **state)
{
	expect_bad_config("[notify]\nwebhook = https://h.example.org/\nwebhook_timeout = 10s\n",
			  "notify.webhook_timeout: invalid value '10s'");
}

static void test_config_bad_attempts(void **state)
{
	expect_bad_config("[notify]\nwebhook = https://h.example.org/\nwebhook_attempts = 11\n",
			  "notify.webhook_attempts: invalid value '11' (1..10)");
}

static void test_config_bad_on(void **state)
{
	expect_bad_config(
		"[notify]\ncommand = true\non = refused, exploded\n",
		"notify.on: unknown outcome 'exploded' (expected built, refused, failed)");
}

static void test_config_empty_on_word(void **state)
{
	expect_bad_config("[notify]\ncommand = true\non = refused,,failed\n",
			  "notify.on: unknown outcome ''");
}

static void test_on_from_string(void **state)
{
	unsigned on = 0;
	char err[128];

	assert_int_equal(notify_on_from_string("failed", &on, err, sizeof(err)), 0);
	assert_int_equal(on, NOTIFY_ON_FAILED);
	assert_int_equal(notify_on_from_string(" built ,refused , failed ", &on, err, sizeof(err)),
			 0);
	assert_int_equal(on, NOTIFY_ON_BUILT | NOTIFY_ON_REFUSED | NOTIFY_ON_FAILED);
	on = 42;
	assert_int_equal(notify_on_from_string("Built", &on, err, sizeof(err)), -EBADMSG);
	assert_int_equal(on, 42);
}

/* ---- signature ---- */

static void test_signature_known_answer(void **state)
{
	/* RFC 4231, test case 2. */
	static const char data[] = "what do ya want for nothing?";
	char sig[80];

	assert_int_equal(notify_signature("Jefe", data, strlen(data), sig, sizeof(sig)), 0);
	assert_string_equal(sig, "sha256=5bdcc146bf60754e6a042426089575c7"
				 "5a003f089d2739839dec58b964ec3843");
	assert_int_equal(notify_signature("Jefe", data, strlen(data), sig, 71), -EINVAL);
}

/* ---- events ---- */

static void test_send_rejects_bad_events(void **state)
{
	struct notify_config cfg = { .command = (char *)"true" };
	struct notify_result res;
	json_t *e;

	assert_int_equal(notify_send(&cfg, NULL, &res), -EINVAL);
	e = json_pack("[s]", "patch.refused");
	assert_int_equal(notify_send(&cfg, e, &res), -EINVAL);
	json_decref(e);
	e = json_pack("{s:s}", "event", "patch.refused");
	assert_int_equal(notify_send(&cfg, e, &res), -EINVAL); /* no kernel */
	json_decref(e);
	e = json_pack("{s:s, s:s}", "event", "build.refused", "kernel", "k");
	assert_int_equal(notify_send(&cfg, e, &res), -EINVAL);
	json_decref(e);
	e = json_pack("{s:s, s:s}", "event", "patch.exploded", "kernel", "k");
	assert_int_equal(notify_send(&cfg, e, &res), -EINVAL);
	json_decref(e);
	e = json_pack("{s:i, s:s}", "event", 3, "kernel", "k");
	assert_int_equal(notify_send(&cfg, e, &res), -EINVAL);
	json_decref(e);
}

static void test_send_too_big(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *cmd = NULL, *big = malloc(NOTIFY_EVENT_MAX + 1);
	struct notify_config cfg = { 0 };
	struct notify_result res;
	json_t *e = event_new("patch.failed", "deb61");

	assert_non_null(big);
	memset(big, 'x', NOTIFY_EVENT_MAX);
	big[NOTIFY_EVENT_MAX] = '\0';
	assert_int_equal(json_object_set_new(e, "note", json_string(big)), 0);
	assert_true(asprintf(&cmd, "touch '%s/ran'", f->dir) > 0);
	cfg.command = cmd;
	assert_int_equal(notify_send(&cfg, e, &res), -EFBIG);
	assert_false(exists(f->dir, "ran"));
	json_decref(e);
}

static void test_send_skips_unwanted(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *cmd = NULL, *url = receiver_url(f->rv, NULL, "/hook");
	struct notify_config cfg = { .webhook = url };
	struct notify_result res;
	json_t *e = event_new("patch.built", "deb61");

	assert_true(asprintf(&cmd, "touch '%s/ran'", f->dir) > 0);
	cfg.command = cmd;
	assert_int_equal(notify_send(&cfg, e, &res), 0);
	assert_true(res.skipped);
	assert_false(res.command_ran);
	assert_false(res.webhook_ran);
	assert_false(exists(f->dir, "ran"));
	assert_int_equal(f->rv->hits, 0);

	/* Nothing configured: skipped too. */
	memset(&cfg, 0, sizeof(cfg));
	json_object_set_new(e, "event", json_string("patch.refused"));
	assert_int_equal(notify_send(&cfg, e, &res), 0);
	assert_true(res.skipped);
	json_decref(e);
}

/* ---- the command ---- */

static void test_command_stdin_and_environment(void **state)
{
	struct fixture *f = *state;
	/* A kernel name that would run a command if it were ever parsed as shell text. */
	static const char kernel[] = "deb61'; touch pwned; '$(touch pwned2)";
	_cleanup_free_ char *cmd = NULL, *in = NULL, *env = NULL, *want = NULL;
	_cleanup_free_ char *want_env = NULL;
	struct notify_config cfg = { 0 };
	struct notify_result res;
	json_t *e = event_new("patch.refused", kernel);

	setenv("TUXTAPE_NOTIFY_WEBHOOK_SECRET", SECRET, 1);
	assert_true(asprintf(&cmd, "cd '%s' && cat > stdin && { echo; env; } > env && echo done",
			     f->dir) > 0);
	cfg.command = cmd;
	assert_int_equal(notify_send(&cfg, e, &res), 0);
	assert_false(res.skipped);
	assert_true(res.command_ran);
	assert_int_equal(res.command_error, 0);
	assert_int_equal(res.command_status, 0);
	assert_false(res.webhook_ran);

	in = read_text(f->dir, "stdin");
	want = compact(e);
	assert_non_null(in);
	assert_int_equal(strlen(in), strlen(want) + 1);
	assert_memory_equal(in, want, strlen(want));
	assert_int_equal(in[strlen(want)], '\n');

	env = read_text(f->dir, "env");
	assert_non_null(env);
	assert_non_null(strstr(env, "\nTUXTAPE_EVENT=patch.refused\n"));
	assert_non_null(strstr(env, "\nTUXTAPE_STATUS=refused\n"));
	assert_non_null(strstr(env, "\nTUXTAPE_ID=7\n"));
	assert_true(asprintf(&want_env, "\nTUXTAPE_KERNEL=%s\n", kernel) > 0);
	assert_non_null(strstr(env, want_env));
	/* The kernel name stayed data, and the secret stayed home. */
	assert_false(exists(f->dir, "pwned"));
	assert_false(exists(f->dir, "pwned2"));
	assert_null(strstr(env, SECRET));
	assert_null(strstr(env, "TUXTAPE_NOTIFY_WEBHOOK_SECRET"));
	assert_int_equal(leftover_events(f->dir), 0);
	json_decref(e);
}

static void test_command_fails(void **state)
{
	struct fixture *f = *state;
	struct notify_config cfg = {
		.command = (char *)"echo starting; echo 'mail: relay\x01 refused' >&2; exit 3",
	};
	struct notify_result res;
	json_t *e = event_new("patch.failed", "deb61");

	assert_int_equal(notify_send(&cfg, e, &res), -EIO);
	assert_true(res.command_ran);
	assert_int_equal(res.command_error, -EIO);
	assert_int_equal(res.command_status, 3);
	/* The last line it printed, control characters defused. */
	assert_string_equal(res.command_message,
			    "notify command exited with status 3: mail: relay? refused");
	assert_int_equal(leftover_events(f->dir), 0);
	json_decref(e);
}

static void test_command_killed_by_signal(void **state)
{
	struct notify_config cfg = { .command = (char *)"kill -TERM $$" };
	struct notify_result res;
	json_t *e = event_new("patch.failed", "deb61");

	assert_int_equal(notify_send(&cfg, e, &res), -EIO);
	assert_int_equal(res.command_status, 128 + 15);
	json_decref(e);
}

static void test_command_timeout(void **state)
{
	struct fixture *f = *state;
	struct notify_config cfg = { .command = (char *)"sleep 30", .command_timeout_s = 1 };
	struct notify_result res;
	json_t *e = event_new("patch.refused", "deb61");
	int64_t start = child_now_ms();

	assert_int_equal(notify_send(&cfg, e, &res), -ETIMEDOUT);
	assert_true(child_now_ms() - start < 10000);
	assert_int_equal(res.command_error, -ETIMEDOUT);
	assert_string_equal(res.command_message, "notify command killed after 1 s");
	assert_int_equal(leftover_events(f->dir), 0);
	json_decref(e);
}

static void test_command_not_reading_stdin(void **state)
{
	struct notify_config cfg = { .command = (char *)"exit 0" };
	struct notify_result res;
	json_t *e = event_new("patch.refused", "deb61");

	assert_int_equal(notify_send(&cfg, e, &res), 0);
	json_decref(e);
}

/* ---- the webhook ---- */

static void test_webhook_signed_post(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *url = receiver_url(f->rv, NULL, "/hooks/tuxtape");
	_cleanup_free_ char *want = NULL, *sig = NULL;
	struct notify_config cfg = { .webhook = url, .webhook_secret = (char *)SECRET };
	struct notify_result res;
	json_t *e = event_new("patch.refused", "deb61");

	assert_int_equal(notify_send(&cfg, e, &res), 0);
	assert_true(res.webhook_ran);
	assert_int_equal(res.webhook_error, 0);
	assert_int_equal(res.webhook_status, 200);
	assert_int_equal(res.webhook_attempts, 1);
	assert_false(res.command_ran);
	assert_int_equal(f->rv->hits, 1);
	assert_string_equal(f->rv->method, "POST");
	assert_string_equal(f->rv->path, "/hooks/tuxtape");
	assert_string_equal(f->rv->content_type, "application/json");
	assert_string_equal(f->rv->event, "patch.refused");
	want = compact(e);
	assert_int_equal(f->rv->body_len, strlen(want));
	assert_memory_equal(f->rv->body, want, strlen(want));
	/* The signature covers the exact bytes received. */
	sig = hmac_hex(SECRET, f->rv->body, f->rv->body_len);
	assert_string_equal(f->rv->signature, sig);
	json_decref(e);
}

static void test_webhook_unsigned(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *url = receiver_url(f->rv, NULL, "/h");
	struct notify_config cfg = { .webhook = url, .on = NOTIFY_ON_BUILT };
	struct notify_result res;
	json_t *e = event_new("patch.built", "deb61");

	assert_int_equal(notify_send(&cfg, e, &res), 0);
	assert_int_equal(f->rv->hits, 1);
	assert_null(f->rv->signature);
	assert_string_equal(f->rv->event, "patch.built");
	json_decref(e);
}

static void test_webhook_500_then_200(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *url = receiver_url(f->rv, NULL, "/h");
	struct notify_config cfg = {
		.webhook = url,
		.webhook_secret = (char *)SECRET,
		.webhook_attempts = 3,
		.webhook_retry_base_ms = 10,
	};
	struct notify_result res;
	json_t *e = event_new("patch.failed", "deb61");
	_cleanup_free_ char *sig = NULL;

	f->rv->statuses[0] = 500;
	f->rv->statuses[1] = 200;
	f->rv->n_statuses = 2;
	assert_int_equal(notify_send(&cfg, e, &res), 0);
	assert_int_equal(f->rv->hits, 2);
	assert_int_equal(res.webhook_attempts, 2);
	assert_int_equal(res.webhook_status, 200);
	/* The retry carries the same body and signature. */
	sig = hmac_hex(SECRET, f->rv->body, f->rv->body_len);
	assert_string_equal(f->rv->signature, sig);
	json_decref(e);
}

static void test_webhook_500_always(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *url = receiver_url(f->rv, "tuxtape:pa55word", "/h");
	struct notify_config cfg = {
		.webhook = url,
		.webhook_secret = (char *)SECRET,
		.webhook_attempts = 3,
		.webhook_retry_base_ms = 10,
	};
	struct notify_result res;
	json_t *e = event_new("patch.failed", "deb61");

	f->rv->statuses[0] = 500;
	f->rv->n_statuses = 1;
	assert_int_equal(notify_send(&cfg, e, &res), -EAGAIN);
	assert_int_equal(f->rv->hits, 3);
	assert_int_equal(res.webhook_error, -EAGAIN);
	assert_int_equal(res.webhook_status, 500);
	assert_int_equal(res.webhook_attempts, 3);
	assert_non_null(strstr(res.webhook_message, "HTTP 500"));
	assert_non_null(strstr(res.webhook_message, "after 3 attempts"));
	assert_non_null(strstr(res.webhook_message, "POST 'http://***@127.0.0.1:"));
	assert_null(strstr(res.webhook_message, "pa55word"));
	assert_null(strstr(res.webhook_message, SECRET));
	json_decref(e);
}

static void test_webhook_4xx_not_retried(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *url = receiver_url(f->rv, NULL, "/h");
	struct notify_config cfg = { .webhook = url,
				     .webhook_attempts = 3,
				     .webhook_retry_base_ms = 10 };
	struct notify_result res;
	json_t *e = event_new("patch.failed", "deb61");

	f->rv->statuses[0] = 400;
	f->rv->n_statuses = 1;
	assert_int_equal(notify_send(&cfg, e, &res), -EPROTO);
	assert_int_equal(f->rv->hits, 1);
	json_decref(e);
}

static void test_webhook_timeout(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *url = receiver_url(f->rv, NULL, "/slow");
	struct notify_config cfg = {
		.webhook = url,
		.webhook_timeout_ms = 300,
		.webhook_attempts = 1,
	};
	struct notify_result res;
	json_t *e = event_new("patch.refused", "deb61");
	int64_t start = child_now_ms();

	f->rv->delay_ms = 1500;
	assert_int_equal(notify_send(&cfg, e, &res), -ETIMEDOUT);
	assert_true(child_now_ms() - start < 1400);
	assert_int_equal(res.webhook_error, -ETIMEDOUT);
	assert_int_equal(res.webhook_attempts, 1);
	json_decref(e);
}

static void test_webhook_connection_refused(void **state)
{
	_cleanup_free_ char *url = NULL;
	struct notify_config cfg = { .webhook_attempts = 2, .webhook_retry_base_ms = 10 };
	struct notify_result res;
	json_t *e = event_new("patch.refused", "deb61");

	assert_true(asprintf(&url, "http://127.0.0.1:%u/h", http_fixture_unused_port()) > 0);
	cfg.webhook = url;
	assert_int_equal(notify_send(&cfg, e, &res), -ECONNREFUSED);
	assert_int_equal(res.webhook_attempts, 2);
	assert_int_equal(res.webhook_status, 0);
	json_decref(e);
}

struct tls_case {
	struct receiver *rv;
	char *key, *cert, *ca, *url;
};

static void tls_start(struct fixture *f, struct tls_case *t)
{
	make_certificate(&t->key, &t->cert);
	t->ca = path_join(f->dir, "receiver-ca.pem");
	assert_non_null(t->ca);
	assert_int_equal(write_file_atomic(t->ca, t->cert, strlen(t->cert), 0644), 0);
	t->rv = receiver_start_tls(t->key, t->cert);
	assert_true(asprintf(&t->url, "https://127.0.0.1:%u/secure", t->rv->port) > 0);
}

static void tls_stop(struct tls_case *t)
{
	receiver_stop(t->rv);
	free(t->key);
	free(t->cert);
	free(t->ca);
	free(t->url);
}

static void test_webhook_https_with_ca(void **state)
{
	struct tls_case t = { 0 };
	struct notify_config cfg = { .webhook_secret = (char *)SECRET, .webhook_attempts = 1 };
	struct notify_result res;
	json_t *e = event_new("patch.refused", "deb61");
	_cleanup_free_ char *want = compact(e), *sig = NULL;

	tls_start(*state, &t);
	cfg.webhook = t.url;
	cfg.webhook_ca = t.ca;
	assert_int_equal(notify_send(&cfg, e, &res), 0);
	assert_int_equal(res.webhook_status, 200);
	assert_int_equal(t.rv->hits, 1);
	assert_string_equal(t.rv->method, "POST");
	assert_int_equal(t.rv->body_len, strlen(want));
	assert_memory_equal(t.rv->body, want, strlen(want));
	sig = hmac_hex(SECRET, t.rv->body, t.rv->body_len);
	assert_string_equal(t.rv->signature, sig);
	tls_stop(&t);
	json_decref(e);
}

static void test_webhook_https_untrusted(void **state)
{
	struct tls_case t = { 0 };
	struct notify_config cfg = { .webhook_attempts = 1 };
	struct notify_result res;
	json_t *e = event_new("patch.refused", "deb61");

	/* The system's CAs do not know the receiver: nothing may be sent. */
	tls_start(*state, &t);
	cfg.webhook = t.url;
	assert_int_equal(notify_send(&cfg, e, &res), -EKEYREJECTED);
	assert_int_equal(t.rv->hits, 0);
	tls_stop(&t);
	json_decref(e);
}

static void test_webhook_https_bad_ca_file(void **state)
{
	struct fixture *f = *state;
	struct tls_case t = { 0 };
	_cleanup_free_ char *bad = path_join(f->dir, "not-a-ca.pem");
	struct notify_config cfg = { .webhook_attempts = 1 };
	struct notify_result res;
	json_t *e = event_new("patch.refused", "deb61");

	tls_start(f, &t);
	assert_int_equal(write_file_atomic(bad, "garbage\n", 8, 0644), 0);
	cfg.webhook = t.url;
	cfg.webhook_ca = bad;
	assert_true(notify_send(&cfg, e, &res) < 0);
	assert_true(res.webhook_error < 0);
	assert_int_equal(t.rv->hits, 0);
	assert_non_null(strstr(res.webhook_message, "failed"));
	tls_stop(&t);
	json_decref(e);
}

static void test_command_failure_does_not_stop_webhook(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *url = receiver_url(f->rv, NULL, "/h");
	struct notify_config cfg = { .command = (char *)"exit 1", .webhook = url };
	struct notify_result res;
	json_t *e = event_new("patch.refused", "deb61");

	assert_int_equal(notify_send(&cfg, e, &res), -EIO);
	assert_int_equal(res.command_error, -EIO);
	assert_true(res.webhook_ran);
	assert_int_equal(res.webhook_error, 0);
	assert_int_equal(f->rv->hits, 1);
	json_decref(e);
}

/* ---- http_post() itself ---- */

static void test_post_rejects_file_urls(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *path = path_join(f->dir, "target"), *url = NULL;
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct http_request req = { .body = "{}", .body_len = 2 };

	assert_true(asprintf(&url, "file://%s", path) > 0);
	req.url = url;
	assert_int_equal(http_post(&req, &resp), -EINVAL);
	assert_non_null(strstr(resp.error, "only http:// and https://"));
	assert_false(exists(f->dir, "target"));
}

static void test_post_no_body(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *url = receiver_url(f->rv, NULL, "/empty");
	_cleanup_http_response_ struct http_response resp = { 0 }, resp2 = { 0 };
	struct http_request req = { .url = url, .content_type = "text/plain", .max_attempts = 1 };

	assert_int_equal(http_post(&req, &resp), 200);
	assert_string_equal(f->rv->method, "POST");
	assert_string_equal(f->rv->content_type, "text/plain");
	assert_int_equal(f->rv->body_len, 0);
	assert_string_equal(resp.body, "ok\n");
	/* A length without a body is a caller's bug. */
	req.body_len = 5;
	assert_int_equal(http_post(&req, &resp2), -EINVAL);
}

static void test_post_bad_content_type(void **state)
{
	struct fixture *f = *state;
	_cleanup_free_ char *url = receiver_url(f->rv, NULL, "/h");
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct http_request req = {
		.url = url,
		.body = "{}",
		.body_len = 2,
		.content_type = "application/json\r\nX-Injected: 1",
		.max_attempts = 1,
	};

	assert_int_equal(http_post(&req, &resp), -EINVAL);
	assert_int_equal(f->rv->hits, 0);
}

static void test_post_does_not_follow_redirects(void **state)
{
	struct fixture *f = *state;
	struct http_fixture *hf = http_fixture_start();
	static const struct http_fixture_reply moved[] = {
		{ .status = 307, .headers = { "Location: /elsewhere" } },
	};
	static const struct http_fixture_reply elsewhere[] = { { .status = 200, .body = "x" } };
	_cleanup_free_ char *url = http_fixture_url(hf, "/moved");
	_cleanup_http_response_ struct http_response resp = { 0 };
	struct http_request req = { .url = url, .body = "{}", .body_len = 2, .max_attempts = 1 };

	(void)f;
	http_fixture_add(hf, "/moved", NULL, moved, ARRAY_SIZE(moved));
	http_fixture_add(hf, "/elsewhere", NULL, elsewhere, ARRAY_SIZE(elsewhere));
	assert_int_equal(http_post(&req, &resp), -EPROTO);
	assert_int_equal(resp.status, 307);
	assert_int_equal(http_fixture_hits(hf, "/elsewhere"), 0);
	http_fixture_stop(hf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_config_defaults),
		T(test_config_full),
		T(test_config_env_overrides),
		T(test_config_bad_webhook_scheme),
		T(test_config_bad_webhook_empty_host),
		T(test_config_secret_without_webhook),
		T(test_config_ca_without_webhook),
		T(test_config_ca_missing),
		T(test_config_bad_command_timeout),
		T(test_config_bad_webhook_timeout),
		T(test_config_bad_attempts),
		T(test_config_bad_on),
		T(test_config_empty_on_word),
		T(test_on_from_string),
		T(test_signature_known_answer),
		T(test_send_rejects_bad_events),
		T(test_send_too_big),
		T(test_send_skips_unwanted),
		T(test_command_stdin_and_environment),
		T(test_command_fails),
		T(test_command_killed_by_signal),
		T(test_command_timeout),
		T(test_command_not_reading_stdin),
		T(test_webhook_signed_post),
		T(test_webhook_unsigned),
		T(test_webhook_500_then_200),
		T(test_webhook_500_always),
		T(test_webhook_4xx_not_retried),
		T(test_webhook_timeout),
		T(test_webhook_connection_refused),
		T(test_webhook_https_with_ca),
		T(test_webhook_https_untrusted),
		T(test_webhook_https_bad_ca_file),
		T(test_command_failure_does_not_stop_webhook),
		T(test_post_rejects_file_urls),
		T(test_post_no_body),
		T(test_post_bad_content_type),
		T(test_post_does_not_follow_redirects),
#undef T
	};

	return TEST_MAIN(tests);
}
