/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Announcing patch build outcomes: a configured command and/or a webhook.
 *
 * The event is a JSON object (built by patch_history_event() in
 * src/patchgen/history.h): {"version": 1, "event": "patch.refused" |
 * "patch.failed" | "patch.built", "id", "kernel", "cves", "patches",
 * "reasons", "module", "time"}.  notify_send() needs only "event", "kernel"
 * and "id" of it; everything else is passed through as is.
 *
 * The command runs as `/bin/sh -c COMMAND` through the child runner of
 * src/common/child.c, with the event (compact JSON and a newline) on stdin
 * and TUXTAPE_EVENT, TUXTAPE_KERNEL, TUXTAPE_STATUS and TUXTAPE_ID in its
 * environment, in its own process group killed at the deadline.
 *
 * The webhook is an HTTP POST of the same JSON (Content-Type
 * application/json) with the header X-TuxTape-Event and, when a secret is
 * configured, X-TuxTape-Signature: sha256=HEX, the HMAC-SHA256 of the exact
 * body bytes keyed with the secret.  Network failures, 429 and 5xx are
 * retried with exponential backoff.
 *
 * Secrets: the webhook secret never appears in an error text or a log line,
 * and the command does not inherit it (TUXTAPE_NOTIFY_WEBHOOK_SECRET and
 * TUXTAPE_CVE_NVD_API_KEY are removed from its environment).
 *
 * Nothing here logs; the caller reports a failed announcement (as a warning:
 * a notification that failed does not undo what it announces).
 */
#ifndef TUXTAPE_NOTIFY_H
#define TUXTAPE_NOTIFY_H

#include <jansson.h>
#include <stdbool.h>

#include "config.h"
#include "macro.h"

#define NOTIFY_COMMAND_TIMEOUT_S_DEFAULT 30
#define NOTIFY_WEBHOOK_TIMEOUT_MS_DEFAULT 10000
#define NOTIFY_WEBHOOK_ATTEMPTS_DEFAULT 3
#define NOTIFY_WEBHOOK_RETRY_BASE_MS_DEFAULT 1000
/* Largest event notify_send() accepts, serialised. */
#define NOTIFY_EVENT_MAX (1024u * 1024)
#define NOTIFY_MESSAGE_MAX 512

/* Which outcomes are announced ("on = refused,failed"). */
enum notify_on {
	NOTIFY_ON_BUILT = 1 << 0,
	NOTIFY_ON_REFUSED = 1 << 1,
	NOTIFY_ON_FAILED = 1 << 2,
};
#define NOTIFY_ON_DEFAULT (NOTIFY_ON_REFUSED | NOTIFY_ON_FAILED)

/*
 * What [notify] configures.  Strings are owned (notify_config_release()).
 * Zero-valued numbers take the *_DEFAULT above.
 */
struct notify_config {
	char *command; /* shell command, NULL = none */
	unsigned command_timeout_s;
	char *webhook;			/* http:// or https:// URL, NULL = none */
	char *webhook_secret;		/* HMAC-SHA256 key, NULL = unsigned */
	char *webhook_ca;		/* PEM CA file for https://, NULL = the system's */
	unsigned webhook_timeout_ms;	/* per attempt */
	unsigned webhook_attempts;	/* 1 = no retry */
	unsigned webhook_retry_base_ms; /* first backoff, doubled per retry (capped at 60 s) */
	unsigned on;			/* enum notify_on; 0 = NOTIFY_ON_DEFAULT */
};

/*
 * Reads the [notify] section of c: command, command_timeout (s), webhook,
 * webhook_secret, webhook_ca, webhook_timeout (s), webhook_attempts, on
 * (comma-separated built, refused, failed).  Unset keys take the defaults.
 * Returns 0 and fills *ret (release with notify_config_release()), -ENOMEM,
 * or -EBADMSG with the offending key named in reterr (never the secret's
 * value): an unknown outcome in "on", a number out of range, a webhook that
 * is not an http:// or https:// URL, a secret or CA without a webhook, an
 * unreadable webhook_ca.
 */
int notify_config_load(const struct config *c, struct notify_config *ret, char *reterr,
		       size_t errsize);
void notify_config_release(struct notify_config *cfg);
static inline void notify_config_releasep(struct notify_config *cfg)
{
	notify_config_release(cfg);
}
#define _cleanup_notify_config_ _cleanup_(notify_config_releasep)

/* True when a command or a webhook is configured. */
bool notify_config_enabled(const struct notify_config *cfg);
/* True when outcome ("built", "refused", "failed") is to be announced; false for others. */
bool notify_config_wants(const struct notify_config *cfg, const char *outcome);

/*
 * "refused,failed" for the flags in on, into buf (0 = the default set).
 * Returns buf.
 */
const char *notify_on_to_string(unsigned on, char *buf, size_t size);
/* Parses "built,refused" etc.; -EBADMSG naming the unknown word in reterr. */
int notify_on_from_string(const char *s, unsigned *ret, char *reterr, size_t errsize);

/*
 * The outcome of notify_send(), valid after every call.  error fields are 0
 * or a negative errno; messages say what failed (command exit status and the
 * last line it printed; the webhook's URL with credentials redacted and its
 * HTTP status), never the secret.
 */
struct notify_result {
	bool skipped; /* nothing configured, or the outcome is not in "on" */
	bool command_ran;
	int command_error;  /* -EIO non-zero exit, -ETIMEDOUT deadline, -ENOENT no /bin/sh */
	int command_status; /* exit status; 128 + signal when killed */
	char command_message[NOTIFY_MESSAGE_MAX];
	bool webhook_ran;
	int webhook_error;   /* the errno values of http_post() */
	long webhook_status; /* last HTTP status, 0 if none */
	unsigned webhook_attempts;
	char webhook_message[NOTIFY_MESSAGE_MAX];
};

/*
 * Announces event through every configured channel whose outcome is wanted;
 * the command first, then the webhook, each tried even when the other
 * failed.  Returns 0 when every channel tried succeeded (or none was
 * wanted, res->skipped), -EINVAL when event lacks a string "event" of the
 * form "patch.OUTCOME" or a string "kernel", -EFBIG when it serialises to
 * more than NOTIFY_EVENT_MAX bytes, else the first channel's error (details
 * of both in res).  The event is borrowed.
 */
int notify_send(const struct notify_config *cfg, json_t *event, struct notify_result *res);

/*
 * The signature header value "sha256=HEX" of body under secret, into buf
 * (at least 72 bytes).  -EINVAL for a small buffer, -EIO when OpenSSL fails.
 * Exposed for tests and receivers' documentation.
 */
int notify_signature(const char *secret, const void *body, size_t len, char *buf, size_t size);

#endif
