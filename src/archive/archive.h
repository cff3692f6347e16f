/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The patch archive: a TUF repository (specification 1.0.x) of livepatch
 * modules, one delegated targets role per kernel release (docs/archive.md).
 *
 * Layout of an archive directory DIR:
 *   DIR/archive.json              settings and public keys (no secrets)
 *   DIR/lock                      flock of every writer
 *   DIR/staged/roles/<R>.json     the staged target list of kernel release R
 *   DIR/staged/changes.json       roles changed since the last publish, target
 *                                 files to prune, a key rotation in progress
 *   DIR/keys/online/              snapshot, timestamp and kernels keys (0600)
 *   DIR/keys/offline/             root and targets keys, encrypted (or --offline-dir)
 *   DIR/repository/metadata/      N.root.json, root.json, timestamp.json,
 *                                 N.snapshot.json, N.targets.json, N.<R>.json
 *   DIR/repository/targets/R/     <sha256>.<module>-<patch_version>.ko
 * DIR/repository is what clients read; it is plain files, so any static web
 * server serves it.  Metadata files are written under new names and made
 * durable before timestamp.json, the one file clients start from, is
 * replaced atomically: a failed or killed publish leaves the previous
 * repository served, whole.
 *
 * Errors are negative errno with err[] naming what and where: -EBADMSG
 * malformed input (module, staged state, published metadata), -ENOENT a
 * missing archive, key, module or target, -EEXIST an archive or target that
 * is already there, -EKEYREJECTED a wrong passphrase, -ENOKEY an offline
 * key needed without its passphrase, -EXDEV a module built for another
 * kernel, -EWOULDBLOCK another process holds the archive's lock, -EINVAL a
 * bad argument, -EPERM a change a revoked target does not take.  Nothing
 * here logs.  One struct archive per thread.
 */
#ifndef TUXTAPE_ARCHIVE_H
#define TUXTAPE_ARCHIVE_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "key.h"
#include "macro.h"

enum archive_role {
	ARCHIVE_ROLE_ROOT,
	ARCHIVE_ROLE_TARGETS,
	ARCHIVE_ROLE_SNAPSHOT,
	ARCHIVE_ROLE_TIMESTAMP,
	ARCHIVE_ROLE_KERNELS, /* the key of every per-kernel delegated role */
	_ARCHIVE_ROLE_MAX,
	_ARCHIVE_ROLE_INVALID = -EINVAL,
};

/* "root", "targets", "snapshot", "timestamp", "kernels". */
const char *archive_role_to_string(enum archive_role r);
enum archive_role archive_role_from_string(const char *s);
/* Root and targets keys are offline (encrypted with the passphrase or external). */
bool archive_role_is_offline(enum archive_role r);

/* Default metadata lifetimes in seconds: 365, 90, 7, 1 and 30 days. */
int64_t archive_default_expiry(enum archive_role r);
#define ARCHIVE_DEFAULT_KEEP 4 /* metadata versions of each role kept for clients mid-update */

/* An external signer given at init: role, shell command, its public key JSON. */
struct archive_key_command {
	enum archive_role role;
	const char *command;
	const json_t *public_key;
};

struct archive_init_options {
	enum tuf_scheme scheme;		      /* of generated keys (ed25519 when zero) */
	unsigned n_keys[_ARCHIVE_ROLE_MAX];   /* 0: 1, or the number of commands given */
	unsigned threshold[_ARCHIVE_ROLE_MAX]; /* 0: 1 */
	int64_t expiry[_ARCHIVE_ROLE_MAX];    /* seconds; 0: archive_default_expiry() */
	unsigned keep;			      /* 0: ARCHIVE_DEFAULT_KEEP */
	const char *offline_dir;	      /* NULL: DIR/keys/offline */
	const char *passphrase;		      /* offline keys; required unless all are commands */
	const char *online_passphrase;	      /* NULL: online keys unencrypted (0600) */
	const struct archive_key_command *commands;
	size_t n_commands;
	int64_t now; /* 0: time(NULL) */
};

/*
 * Creates the archive in dir (created; must be empty or missing): keys,
 * archive.json, 1.root.json, empty targets, snapshot and timestamp.
 * Returns 0, -EEXIST (dir holds files), -EINVAL (thresholds, expiries,
 * commands), -ENOKEY (offline keys without a passphrase), write errors.
 * On failure dir is as before (keys generated in o->offline_dir stay).
 */
int archive_init(const char *dir, const struct archive_init_options *o, char err[],
		 size_t errsize);

struct archive;

enum archive_open_flags {
	ARCHIVE_OPEN_LOCK = 1 << 0, /* writers: take DIR/lock (-EWOULDBLOCK when held) */
};

/* Opens an archive made by archive_init().  -ENOENT when dir holds none. */
int archive_open(const char *dir, enum archive_open_flags flags, struct archive **ret,
		 char err[], size_t errsize);
struct archive *archive_free(struct archive *a);
DEFINE_CLEANUP_FUNC(struct archive, archive_free)

/* Passphrases are copied; NULL clears.  Offline dir overrides archive.json's. */
int archive_set_passphrases(struct archive *a, const char *offline, const char *online);
int archive_set_offline_dir(struct archive *a, const char *dir);
/* The time used for "created" and expiries (0: time(NULL) at each call). */
void archive_set_now(struct archive *a, int64_t now);
const char *archive_dir(const struct archive *a);
/* DIR/repository (owned by a). */
const char *archive_repository_dir(const struct archive *a);

struct archive_add_options {
	const char *kernel_release;    /* NULL: from the module's vermagic */
	const char *build_id;	       /* hex or NULL */
	char *const *cves;	       /* NULL-terminated or NULL */
	const char *replaces;	       /* target path; NULL: the newest non-revoked entry of
					  the role (any module name), if any */
	const char *min_agent_version; /* NULL: "0.1.0" */
	char *const *channels;	       /* NULL-terminated, 1 to CHANNELS_MAX distinct names
					  (channel.h); NULL: { CHANNEL_DEFAULT } */
	bool no_replace; /* "replace": false (not a cumulative atomic-replace patch) */
};

/*
 * Stages the modules (each an ELF relocatable with .modinfo, name= and
 * livepatch=Y) as targets of their kernel release's role; the role is
 * created when new.  *ret_entries (optional) gets one object per module:
 * {path, role, length, sha256, custom}.  Nothing is staged when one module
 * is refused.  Returns 0, -EBADMSG (not a livepatch module), -EXDEV
 * (vermagic of another release than o->kernel_release), -EEXIST (already
 * listed in the role), -ENOENT (replaces names no target), -EINVAL.
 */
int archive_add(struct archive *a, char *const *modules, size_t n_modules,
		const struct archive_add_options *o, json_t **ret_entries, char err[],
		size_t errsize);

/* Drops a staged target (its file is pruned once no kept metadata lists it).  -ENOENT. */
int archive_remove(struct archive *a, const char *path, char err[], size_t errsize);

/* Marks a target revoked with a reason (nodes unload it).  -ENOENT, -EALREADY. */
int archive_revoke(struct archive *a, const char *path, const char *reason, char err[],
		   size_t errsize);

/*
 * Changes the channels a target is published in: adds the names of add, then
 * drops those of drop (each NULL-terminated or NULL; a target staged before
 * channels existed is in { CHANNEL_DEFAULT }).  *ret_channels (optional)
 * gets the resulting list, *ret_changed (optional) whether it differs from
 * the staged one; no change stages nothing.  Returns 0, -ENOENT (no such
 * target), -EPERM (the target is revoked), -EINVAL (an invalid name, a name
 * in both lists, neither list given, a result of no or more than
 * CHANNELS_MAX channels).
 */
int archive_promote(struct archive *a, const char *path, char *const *add, char *const *drop,
		    bool *ret_changed, json_t **ret_channels, char err[], size_t errsize);

/*
 * The staged targets (of one release or all, sorted by path): an array of
 * {path, role, length, sha256, custom, published}, published telling
 * whether the served metadata lists the entry exactly so.
 */
int archive_list(struct archive *a, const char *release, json_t **ret, char err[],
		 size_t errsize);

struct archive_result {
	bool changed;			 /* something was written */
	int64_t root_version, targets_version, snapshot_version, timestamp_version;
	char **roles;			 /* kernel roles written (strv) */
	bool root_written, targets_written;
	unsigned pruned;		 /* old metadata and target files removed */
	char **warnings;		 /* things left undone, e.g. an offline role near expiry
					    without its passphrase (strv) */
};
void archive_result_release(struct archive_result *r);
/* {changed, versions..., roles, root_written, targets_written, pruned, warnings}. */
json_t *archive_result_to_json(const struct archive_result *r);

/*
 * Publishes the staged changes: changed kernel roles, targets when the
 * delegations changed (needs the offline targets key), snapshot, timestamp,
 * a pending root; then prunes metadata older than the kept versions and
 * target files no kept metadata lists.  Nothing staged: no-op.
 */
int archive_publish(struct archive *a, struct archive_result *ret, char err[], size_t errsize);

/*
 * Re-signs the served metadata that expires within `within` seconds (< 0:
 * half of each role's lifetime): timestamp, snapshot, kernel roles and, when
 * their keys can be loaded, targets and root (else a warning in the
 * result).  Staged changes are not published.  Nothing near expiry: no-op.
 * -EBUSY while a rotation is unfinished (publish finishes it).
 */
int archive_refresh(struct archive *a, int64_t within, struct archive_result *ret, char err[],
		    size_t errsize);

/*
 * New key(s) for role (same number; scheme < 0: the role's current one),
 * then a publish: root N+1 signed by the old and the new root keys when
 * root changes; metadata of a rotated role signed by old and new keys so
 * clients on either root accept it.  Old online key files are removed.
 */
int archive_rotate(struct archive *a, enum archive_role role, int scheme,
		   struct archive_result *ret, char err[], size_t errsize);

/* A kernel release usable as role name and path component ([A-Za-z0-9._~-], <= 64). */
bool archive_release_is_valid(const char *s);

/* "30d", "12h", "90m", "45s", "2w" (or a sum: "1d12h") -> seconds (1 s .. 100 years). */
int archive_parse_duration(const char *s, int64_t *ret);

#endif
