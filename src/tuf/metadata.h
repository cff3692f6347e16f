/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TUF metadata: the envelope {"signed": {...}, "signatures": [{keyid, sig}]},
 * signing, publication bytes and the time format of "expires".
 * Thread-safe; nothing here logs.
 */
#ifndef TUXTAPE_TUF_METADATA_H
#define TUXTAPE_TUF_METADATA_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "key.h"
#include "macro.h"

/*
 * Signs canonical(signed_body) with each signer and returns a new envelope
 * (*ret_envelope; signed_body is referenced, not copied).  Returns 0,
 * -EINVAL (no signers, or signed_body is not an object or holds a real),
 * -ENOMEM, or the error of tuf_signer_sign() (err names the keyid).
 */
int tuf_envelope_sign(json_t *signed_body, struct tuf_signer *const *signers, size_t n_signers,
		      json_t **ret_envelope, char err[], size_t errsize);

/*
 * Serialises an envelope the way we publish it: compact JSON, object keys
 * sorted, UTF-8 as is and standard escapes (*ret_buf NUL-terminated, caller
 * frees).  Not canonical JSON, which is not valid JSON once a string holds
 * a control character (the newlines of PEM public keys).  0, -EINVAL
 * (reals, which canonical JSON and so signatures cannot cover), -ENOMEM.
 */
int tuf_envelope_dump(const json_t *envelope, char **ret_buf, size_t *ret_len);

/*
 * "2030-01-01T00:00:00Z" <-> seconds since the epoch (UTC).  Parsing
 * accepts exactly YYYY-MM-DDTHH:MM:SSZ (years 1970..9999, valid dates,
 * seconds 00..59); else -EBADMSG.  Formatting writes 20 chars + NUL;
 * -EINVAL for a time outside 1970..9999.
 */
int tuf_time_parse(const char *s, int64_t *ret);
int tuf_time_format(int64_t t, char buf[static 21]);

/*
 * Reading metadata (the client's side; also used by tests and the archive).
 *
 * A struct tuf_metadata is one parsed envelope: JSON parsed with
 * JSON_REJECT_DUPLICATES, the common fields checked (_type, spec_version
 * major 1, version > 0, expires), the role's body checked (root keys and the
 * four roles, timestamp/snapshot meta, targets and delegations) and the
 * canonical bytes of the whole "signed" object kept for verification, unknown
 * fields included.  Duplicate keyids in "signatures" make the envelope
 * malformed (the spec: a keyid MUST be unique there).
 */
struct tuf_keyset;

struct tuf_metadata {
	json_t *doc;		/* the envelope */
	json_t *body;		/* doc["signed"], borrowed from doc */
	char *canonical;	/* canonical JSON of body */
	size_t canonical_len;
	const char *type;	/* "root", "timestamp", "snapshot" or "targets" */
	int64_t version;
	int64_t expires;
	struct tuf_keyset *keys; /* root: keys; targets: delegations.keys; else NULL */
	unsigned n_ref;		/* references; tuf_metadata_free() drops one */
};


/* Bounds of what a metadata file may hold. */
#define TUF_SIGNATURES_MAX 1024
#define TUF_KEYS_MAX 4096

/*
 * Parses buf (len bytes, need not be NUL-terminated) as metadata of the
 * given type ("root", "timestamp", "snapshot" or "targets"; a delegated role
 * is "targets").  `what` names the file or URL in messages.  Returns 0,
 * -EBADMSG (err gives the JSON path), -ENOMEM.
 */
int tuf_metadata_parse(const void *buf, size_t len, const char *type, const char *what,
		       struct tuf_metadata **ret, char err[], size_t errsize);
/*
 * tuf_metadata_parse() through a process-wide cache keyed by the exact bytes
 * (and type): the same bytes give a new reference to the same parsed object
 * (only successful parses are kept).  Thread-safe; the
 * cache holds at most 32 files and 16 MiB of them, least recently used out
 * first.  tuf_metadata_cache_clear() empties it (tests, leak checkers).
 */
int tuf_metadata_parse_cached(const void *buf, size_t len, const char *type, const char *what,
			      struct tuf_metadata **ret, char err[], size_t errsize);
void tuf_metadata_cache_clear(void);

/* Another reference to m.  Parsed metadata is read-only but for its key set,
 * whose lazy parsing is locked, so references may be used from several threads. */
struct tuf_metadata *tuf_metadata_ref(struct tuf_metadata *m);
/* Drops a reference; frees m with the last.  Accepts NULL; returns NULL. */
struct tuf_metadata *tuf_metadata_free(struct tuf_metadata *m);
DEFINE_CLEANUP_FUNC(struct tuf_metadata, tuf_metadata_free)

/*
 * Verifies m against a role's keyids (a JSON array of strings; each keyid
 * counts once however often it is listed) and threshold, with the keys of
 * `keys` (a root's keys or a delegator's delegations.keys).  Signatures by
 * keys outside the role, unknown or unusable keys, or that do not verify
 * are ignored.  Returns 0 or -EKEYREJECTED naming `role` and the count.
 */
int tuf_metadata_verify(const struct tuf_metadata *m, struct tuf_keyset *keys,
			const json_t *keyids, int64_t threshold, const char *role, char err[],
			size_t errsize);

/* The key of keyid in set (parsed on first use), or NULL when absent or unusable. */
const struct tuf_key *tuf_keyset_get(struct tuf_keyset *set, const char *keyid);

/* Whether "now" is at or past m's expiry (the spec: expired when now >= expires). */
static inline int tuf_metadata_expired(const struct tuf_metadata *m, int64_t now)
{
	return now >= m->expires;
}

#endif
