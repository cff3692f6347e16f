/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared between the archive's files; not an interface of the component. */
#ifndef TUXTAPE_ARCHIVE_INTERNAL_H
#define TUXTAPE_ARCHIVE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "archive.h"
#include "key.h"

#define ARCHIVE_FORMAT 1
#define ARCHIVE_SPEC_VERSION "1.0.31"
#define ARCHIVE_CONFIG_MAX (1024 * 1024)
#define ARCHIVE_STATE_MAX (256 * 1024 * 1024)
#define ARCHIVE_METADATA_MAX (256 * 1024 * 1024)
#define ARCHIVE_MODULE_MAX (256 * 1024 * 1024)
#define ARCHIVE_MAX_KEYS 16

struct signer_set {
	struct tuf_signer **v;
	size_t n;
};
void signer_set_release(struct signer_set *s);

struct archive {
	char *dir, *repo_dir, *meta_dir, *targets_dir;
	char *staged_dir, *roles_dir, *changes_path, *config_path;
	char *online_dir, *offline_dir;
	char *passphrase, *online_passphrase;
	int lock_fd;
	int64_t now;
	json_t *config; /* archive.json */
	struct signer_set signers[_ARCHIVE_ROLE_MAX];
	bool loaded[_ARCHIVE_ROLE_MAX];
};

/* The served state, read from the repository (our own files: parsed, not verified). */
struct published {
	json_t *root, *timestamp, *snapshot, *targets; /* "signed" bodies; NULL before init */
	int64_t root_version, timestamp_version, snapshot_version, targets_version;
};
void published_release(struct published *p);
int published_load(struct archive *a, struct published *p, char err[], size_t errsize);
/* The "signed" body of the served metadata of kernel role name (version from the snapshot). */
int published_role(struct archive *a, const struct published *p, const char *name,
		   json_t **ret, char err[], size_t errsize);

/* What a commit writes; the caller builds the bodies (version and expires set). */
struct commit {
	json_t *roles;	   /* object: kernel role name -> new signed body */
	json_t *targets;   /* new top-level targets body, or NULL */
	json_t *root;	   /* new root body, or NULL */
	bool timestamp;	   /* re-sign timestamp even when nothing else changes */
	bool snapshot;	   /* re-sign snapshot (and timestamp) */
	struct signer_set extra[_ARCHIVE_ROLE_MAX]; /* old keys of a rotation: they sign too */
	json_t *written;   /* out: metadata file stem -> version written */
};
void commit_release(struct commit *c);
int commit_run(struct archive *a, const struct published *p, struct commit *c,
	       struct archive_result *res, char err[], size_t errsize);
/* Removes metadata older than the kept versions of what the commit wrote. */
unsigned prune_metadata(struct archive *a, const struct commit *c);

/* Signers of a role from archive.json (cached), or of explicit key entries (not cached). */
int archive_signers(struct archive *a, enum archive_role role, struct signer_set **ret,
		    char err[], size_t errsize);
int load_key_entries(struct archive *a, enum archive_role role, const json_t *keys,
		     struct signer_set *out, char err[], size_t errsize);
/* archive.json accessors. */
json_t *config_role(const struct archive *a, enum archive_role role);
int64_t config_expiry(const struct archive *a, enum archive_role role);
unsigned config_keep(const struct archive *a);
int64_t archive_now(const struct archive *a);
/* New key entries {keyid, public, file} for role: generated, saved under the key dir. */
int generate_keys(const char *dir, const char *passphrase, enum archive_role role,
		  enum tuf_scheme scheme, unsigned n, json_t *entries, struct signer_set *out,
		  char err[], size_t errsize);
/* The root body archive.json describes (version given). */
int build_root(const struct archive *a, int64_t version, json_t **ret);
/* The top-level targets body with one terminating delegation per staged role. */
int build_targets(struct archive *a, int64_t version, json_t **ret, char err[], size_t errsize);

/* Staged state. */
int changes_load(struct archive *a, json_t **ret, char err[], size_t errsize);
int changes_save(struct archive *a, json_t *changes, char err[], size_t errsize);
int staged_role_names(struct archive *a, char ***ret, char err[], size_t errsize);
int staged_role_load(struct archive *a, const char *name, json_t **ret, char err[],
		     size_t errsize);
/* Removes target files listed in changes.garbage that no kept metadata lists. */
unsigned prune_targets(struct archive *a, json_t *changes, const struct published *p);

/* Utilities (archive-util.c). */
char *quote_role(const char *name);
int sha256_hex(const void *data, size_t len, char ret[static 65]);
int load_json_file(const char *path, size_t max, json_t **ret, char err[], size_t errsize);
int save_json_state(const char *path, json_t *v, char err[], size_t errsize);
/*
 * Writes path through a temporary file renamed into place; with sync, the
 * file and its directory are made durable.  Test hooks (environment):
 * TUXTAPE_TEST_ARCHIVE_FAIL_WRITE=N fails the Nth write of the process with
 * -ENOSPC half-way; TUXTAPE_TEST_ARCHIVE_KILL_AFTER=N SIGKILLs the process
 * right after the Nth file is in place.
 */
int repo_write(const char *path, const void *data, size_t len, mode_t mode, bool sync,
	       char err[], size_t errsize);
/* fsync of a file or directory written earlier (by path). */
int sync_path(const char *path);
int format_expires(int64_t t, char buf[static 21]);
/* Object member helpers for bodies we read back: -EBADMSG when absent or mistyped. */
int json_get_int(const json_t *o, const char *key, int64_t *ret);
const char *json_get_str(const json_t *o, const char *key);

#endif
