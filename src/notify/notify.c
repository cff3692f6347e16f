/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "child.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "parse-util.h"
#include "strbuf.h"

/* What we keep of the command's output to quote its last line on failure. */
#define COMMAND_TAIL_MAX 4096
/* Webhook receivers answer briefly; a longer answer is not read. */
#define WEBHOOK_ANSWER_MAX (64u * 1024)

static const struct {
	const char *name;
	unsigned flag;
} outcomes[] = {
	{ "built", NOTIFY_ON_BUILT },
	{ "refused", NOTIFY_ON_REFUSED },
	{ "failed", NOTIFY_ON_FAILED },
};

/*
 * The wrapper between the runner and the user's command: stdin from the
 * event file, the event variables set, secrets dropped, then the command in
 * a shell of its own.  Everything it gets is a positional parameter, so no
 * kernel name or path is ever parsed as shell text.
 */
static const char wrapper[] = "exec <\"$1\" || exit 125\n"
			      "unset TUXTAPE_NOTIFY_WEBHOOK_SECRET TUXTAPE_CVE_NVD_API_KEY\n"
			      "TUXTAPE_EVENT=$2 TUXTAPE_KERNEL=$3 TUXTAPE_STATUS=$4 TUXTAPE_ID=$5\n"
			      "export TUXTAPE_EVENT TUXTAPE_KERNEL TUXTAPE_STATUS TUXTAPE_ID\n"
			      "exec /bin/sh -c \"$6\"\n";

const char *notify_on_to_string(unsigned on, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	if (on == 0)
		on = NOTIFY_ON_DEFAULT;
	for (size_t i = 0; i < ARRAY_SIZE(outcomes); i++) {
		int n;

		if (!(on & outcomes[i].flag))
			continue;
		n = snprintf(buf + len, size - len, "%s%s", len ? "," : "", outcomes[i].name);
		if (n < 0 || (size_t)n >= size - len)
			break;
		len += (size_t)n;
	}
	return buf;
}

int notify_on_from_string(const char *s, unsigned *ret, char *reterr, size_t errsize)
{
	unsigned on = 0;
	const char *p = s;

	for (;;) {
		size_t len, i;

		p += strspn(p, " \t");
		len = strcspn(p, ",");
		while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		for (i = 0; i < ARRAY_SIZE(outcomes); i++)
			if (strlen(outcomes[i].name) == len &&
			    strncmp(p, outcomes[i].name, len) == 0)
				break;
		if (i == ARRAY_SIZE(outcomes))
			return parse_error(
				reterr, errsize,
				"unknown outcome '%.*s' (expected built, refused, failed)",
				(int)(len > 64 ? 64 : len), p);
		on |= outcomes[i].flag;
		p += strcspn(p, ",");
		if (!*p)
			break;
		p++;
	}
	*ret = on;
	return 0;
}

void notify_config_release(struct notify_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->command);
	free(cfg->webhook);
	if (cfg->webhook_secret) {
		explicit_bzero(cfg->webhook_secret, strlen(cfg->webhook_secret));
		free(cfg->webhook_secret);
	}
	free(cfg->webhook_ca);
	memset(cfg, 0, sizeof(*cfg));
}

/* A key's value, NULL when unset or empty (an empty value switches a channel off). */
static const char *get(const struct config *c, const char *key)
{
	const char *v = config_get(c, key, NULL);

	return strempty(v) ? NULL : v;
}

static int get_uint(const struct config *c, const char *key, unsigned min, unsigned max,
		    unsigned *ret, char *reterr, size_t errsize)
{
	const char *v = get(c, key);
	int n;

	if (!v)
		return 0;
	if (safe_atoi(v, &n) < 0 || n < (int)min || n > (int)max)
		return parse_error(reterr, errsize, "%s: invalid value '%.64s' (%u..%u)", key, v,
				   min, max);
	*ret = (unsigned)n;
	return 0;
}

static bool is_http_url(const char *url)
{
	return (strncasecmp(url, "https://", 8) == 0 && url[8]) ||
	       (strncasecmp(url, "http://", 7) == 0 && url[7]);
}

int notify_config_load(const struct config *c, struct notify_config *ret, char *reterr,
		       size_t errsize)
{
	_cleanup_notify_config_ struct notify_config cfg = { 0 };
	unsigned timeout_s = 0;
	const char *v;
	int r;

	if ((v = get(c, "notify.command")) && !(cfg.command = strdup(v)))
		return -ENOMEM;
	if ((v = get(c, "notify.webhook"))) {
		if (!is_http_url(v) || strpbrk(v, " \t\r\n"))
			/* The URL may hold credentials: name the key, not the value. */
			return parse_error(reterr, errsize,
					   "notify.webhook: not an http:// or https:// URL");
		if (!(cfg.webhook = strdup(v)))
			return -ENOMEM;
	}
	if ((v = get(c, "notify.webhook_secret"))) {
		if (!cfg.webhook)
			return parse_error(
				reterr, errsize,
				"notify.webhook_secret is set but notify.webhook is not");
		if (!(cfg.webhook_secret = strdup(v)))
			return -ENOMEM;
	}
	if ((v = get(c, "notify.webhook_ca"))) {
		if (!cfg.webhook)
			return parse_error(reterr, errsize,
					   "notify.webhook_ca is set but notify.webhook is not");
		if (access(v, R_OK) < 0)
			return parse_error(reterr, errsize,
					   "notify.webhook_ca: cannot read '%s': %s", v,
					   strerror(errno));
		if (!(cfg.webhook_ca = strdup(v)))
			return -ENOMEM;
	}
	r = get_uint(c, "notify.command_timeout", 1, 3600, &cfg.command_timeout_s, reterr, errsize);
	if (r < 0)
		return r;
	r = get_uint(c, "notify.webhook_timeout", 1, 600, &timeout_s, reterr, errsize);
	if (r < 0)
		return r;
	cfg.webhook_timeout_ms = timeout_s * 1000;
	r = get_uint(c, "notify.webhook_attempts", 1, 10, &cfg.webhook_attempts, reterr, errsize);
	if (r < 0)
		return r;
	if ((v = get(c, "notify.on"))) {
		char err[256] = "";

		r = notify_on_from_string(v, &cfg.on, err, sizeof(err));
		if (r < 0)
			return parse_error(reterr, errsize, "notify.on: %s", err);
	}
	*ret = cfg;
	memset(&cfg, 0, sizeof(cfg));
	return 0;
}

bool notify_config_enabled(const struct notify_config *cfg)
{
	return cfg && (cfg->command || cfg->webhook);
}

bool notify_config_wants(const struct notify_config *cfg, const char *outcome)
{
	unsigned on = cfg->on ? cfg->on : NOTIFY_ON_DEFAULT;

	for (size_t i = 0; i < ARRAY_SIZE(outcomes); i++)
		if (streq(outcome, outcomes[i].name))
			return (on & outcomes[i].flag) != 0;
	return false;
}

int notify_signature(const char *secret, const void *body, size_t len, char *buf, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	static const char hex[] = "0123456789abcdef";

	if (size < 7 + 64 + 1)
		return -EINVAL;
	if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), body ? body : (const void *)"", len,
		  md, &mdlen) ||
	    mdlen != 32) {
		explicit_bzero(md, sizeof(md));
		return -EIO;
	}
	memcpy(buf, "sha256=", 7);
	for (unsigned i = 0; i < mdlen; i++) {
		buf[7 + 2 * i] = hex[md[i] >> 4];
		buf[7 + 2 * i + 1] = hex[md[i] & 0xf];
	}
	buf[7 + 2 * mdlen] = '\0';
	explicit_bzero(md, sizeof(md));
	return 0;
}

_printf_(3, 4) static void set_message(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

struct tail {
	char buf[COMMAND_TAIL_MAX];
	size_t len;
};

/* Keeps the last COMMAND_TAIL_MAX bytes the command printed. */
static int tail_add(const char *data, size_t len, void *userdata)
{
	struct tail *t = userdata;

	if (len >= sizeof(t->buf)) {
		memcpy(t->buf, data + len - sizeof(t->buf), sizeof(t->buf));
		t->len = sizeof(t->buf);
		return 0;
	}
	if (t->len + len > sizeof(t->buf)) {
		size_t drop = t->len + len - sizeof(t->buf);

		memmove(t->buf, t->buf + drop, t->len - drop);
		t->len -= drop;
	}
	memcpy(t->buf + t->len, data, len);
	t->len += len;
	return 0;
}

/* The last non-empty line of the output, control characters replaced, into buf. */
static void tail_last_line(const struct tail *t, char *buf, size_t size)
{
	size_t end = t->len, start;
	size_t k = 0;

	while (end && (t->buf[end - 1] == '\n' || t->buf[end - 1] == '\r' ||
		       t->buf[end - 1] == ' ' || t->buf[end - 1] == '\t'))
		end--;
	start = end;
	while (start && t->buf[start - 1] != '\n')
		start--;
	for (size_t i = start; i < end && k + 1 < size; i++) {
		unsigned char ch = (unsigned char)t->buf[i];

		buf[k++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (size)
		buf[k] = '\0';
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes body to a new private file under $TMPDIR; *ret_path is malloc'ed. */
static int write_event_file(const char *body, size_t len, char **ret_path)
{
	const char *dir = getenv("TMPDIR");
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (strempty(dir))
		dir = "/tmp";
	if (asprintf(&path, "%s/tuxtape-event-XXXXXX", dir) < 0)
		return -ENOMEM;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = write_all(fd, body, len);
	if (r >= 0)
		r = write_all(fd, "\n", 1);
	if (r < 0) {
		(void)unlink(path);
		return r;
	}
	*ret_path = TAKE_PTR(path);
	return 0;
}

static int run_command(const struct notify_config *cfg, const char *body, size_t len,
		       const char *event, const char *kernel, const char *outcome, const char *id,
		       struct notify_result *res)
{
	unsigned timeout_s =
		cfg->command_timeout_s ? cfg->command_timeout_s : NOTIFY_COMMAND_TIMEOUT_S_DEFAULT;
	_cleanup_free_ char *path = NULL;
	_cleanup_free_ struct tail *tail = calloc(1, sizeof(*tail));
	char line[NOTIFY_MESSAGE_MAX - 64];
	int r, status = 0;

	if (!tail)
		return -ENOMEM;
	res->command_ran = true;
	r = write_event_file(body, len, &path);
	if (r < 0) {
		set_message(res->command_message, sizeof(res->command_message),
			    "cannot write the event for the notify command: %s",
			    errno_to_string(r));
		return r;
	}
	{
		char *const argv[] = {
			(char *)"/bin/sh",
			(char *)"-c",
			(char *)wrapper,
			(char *)"tuxtape-notify",
			path,
			(char *)event,
			(char *)kernel,
			(char *)outcome,
			(char *)id,
			cfg->command,
			NULL,
		};

		log_debug("running the notify command for '%s'", event);
		r = child_run_stream(argv, true, child_deadline(timeout_s), tail_add, tail,
				     &status);
	}
	(void)unlink(path);
	tail_last_line(tail, line, sizeof(line));
	res->command_status = status;
	if (r == -ETIMEDOUT) {
		set_message(res->command_message, sizeof(res->command_message),
			    "notify command killed after %u s", timeout_s);
		return r;
	}
	if (r < 0) {
		set_message(res->command_message, sizeof(res->command_message),
			    "cannot run the notify command: %s", errno_to_string(r));
		return r;
	}
	if (status != 0) {
		set_message(res->command_message, sizeof(res->command_message),
			    "notify command exited with status %d%s%s", status, line[0] ? ": " : "",
			    line);
		return -EIO;
	}
	return 0;
}

static int post_webhook(const struct notify_config *cfg, const char *body, size_t len,
			const char *event, struct notify_result *res)
{
	_cleanup_http_response_ struct http_response resp = { 0 };
	_cleanup_free_ char *event_header = NULL;
	char sig_header[128];
	const char *headers[3] = { 0 };
	size_t n = 0;
	int r;

	res->webhook_ran = true;
	if (asprintf(&event_header, "X-TuxTape-Event: %s", event) < 0)
		return -ENOMEM;
	headers[n++] = event_header;
	if (cfg->webhook_secret) {
		memcpy(sig_header, "X-TuxTape-Signature: ", 21);
		r = notify_signature(cfg->webhook_secret, body, len, sig_header + 21,
				     sizeof(sig_header) - 21);
		if (r < 0) {
			set_message(res->webhook_message, sizeof(res->webhook_message),
				    "cannot sign the webhook body: %s", errno_to_string(r));
			return r;
		}
		headers[n++] = sig_header;
	}
	{
		struct http_request req = {
			.url = cfg->webhook,
			.headers = headers,
			.max_body = WEBHOOK_ANSWER_MAX,
			.connect_timeout_ms = cfg->webhook_timeout_ms
						      ? cfg->webhook_timeout_ms
						      : NOTIFY_WEBHOOK_TIMEOUT_MS_DEFAULT,
			.timeout_ms = cfg->webhook_timeout_ms ? cfg->webhook_timeout_ms
							      : NOTIFY_WEBHOOK_TIMEOUT_MS_DEFAULT,
			.max_attempts = cfg->webhook_attempts ? cfg->webhook_attempts
							      : NOTIFY_WEBHOOK_ATTEMPTS_DEFAULT,
			.retry_base_ms = cfg->webhook_retry_base_ms
						 ? cfg->webhook_retry_base_ms
						 : NOTIFY_WEBHOOK_RETRY_BASE_MS_DEFAULT,
			.ca_file = cfg->webhook_ca,
			.body = body,
			.body_len = len,
			.content_type = "application/json",
		};

		log_debug("posting '%s' to the notify webhook", event);
		r = http_post(&req, &resp);
	}
	explicit_bzero(sig_header, sizeof(sig_header));
	res->webhook_status = resp.status;
	res->webhook_attempts = resp.attempts;
	if (r < 0) {
		/* http's text names the (redacted) URL and status, never the headers. */
		set_message(res->webhook_message, sizeof(res->webhook_message),
			    "notify webhook: %s", resp.error[0] ? resp.error : errno_to_string(r));
		return r;
	}
	return 0;
}

int notify_send(const struct notify_config *cfg, json_t *event, struct notify_result *res)
{
	_cleanup_free_ char *body = NULL;
	const char *name, *kernel, *outcome;
	char id[32] = "";
	json_t *jid;
	size_t len;
	int r, first = 0;

	memset(res, 0, sizeof(*res));
	if (!json_is_object(event))
		return -EINVAL;
	name = json_string_value(json_object_get(event, "event"));
	kernel = json_string_value(json_object_get(event, "kernel"));
	if (!name || !kernel || strncmp(name, "patch.", 6) != 0)
		return -EINVAL;
	outcome = name + 6;
	if (!streq(outcome, "built") && !streq(outcome, "refused") && !streq(outcome, "failed"))
		return -EINVAL;
	jid = json_object_get(event, "id");
	if (json_is_integer(jid))
		snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, json_integer_value(jid));

	if (!notify_config_enabled(cfg) || !notify_config_wants(cfg, outcome)) {
		res->skipped = true;
		return 0;
	}
	len = json_dumpb(event, NULL, 0, JSON_COMPACT);
	if (len == 0)
		return -ENOMEM;
	if (len > NOTIFY_EVENT_MAX)
		return -EFBIG;
	body = malloc(len + 1);
	if (!body)
		return -ENOMEM;
	if (json_dumpb(event, body, len, JSON_COMPACT) != len)
		return -ENOMEM;
	body[len] = '\0';

	if (cfg->command) {
		r = run_command(cfg, body, len, name, kernel, outcome, id, res);
		res->command_error = r;
		if (r < 0 && !first)
			first = r;
	}
	if (cfg->webhook) {
		r = post_webhook(cfg, body, len, name, res);
		res->webhook_error = r;
		if (r < 0 && !first)
			first = r;
	}
	return first;
}
