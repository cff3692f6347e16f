/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Debian 12 kernel packages: fetches what registering a distribution kernel
 * needs from its release string ("6.1.0-54-amd64").
 *
 * On Debian 12 the files live in real (not meta) packages:
 *   linux-image-REL            signed image (amd64, arm64, i386); the same
 *                              files as linux-image-REL-unsigned, which is
 *                              used when the signed one does not exist:
 *                              boot/config-REL, boot/System.map-REL (a
 *                              one-line placeholder: the real map is only in
 *                              linux-image-REL-dbg), lib/modules/REL/kernel/
 *                              ... .ko, lib/modules/REL/modules.builtin
 *   linux-headers-REL          usr/src/linux-headers-REL/Module.symvers
 *   linux-headers-ABI-common   the shared header tree (downloaded, not unpacked)
 *   linux-source-X.Y           the source tarball, at the image's version
 *
 * Cache layout under cache_dir (the caller passes DATA/cache/debian):
 *   NAME_VERSION_ARCH.deb      downloaded packages, named as apt-get names them
 *   extract/NAME_VERSION/      files unpacked from one package, plus our own
 *                              modules.list for images
 *   src/linux-source-VERSION/  the unpacked kernel source (debian_source_tree())
 *   .tmp-XXXXXX/               in-progress downloads and extractions; only
 *                              whole files and directories are renamed out
 *
 * Packages are downloaded with "apt-get download" and inspected with dpkg-deb
 * and tar, run without a shell with LC_ALL=C.  Nothing here logs except at
 * debug level; errors come back as negative errno with a message in reterr
 * naming the step and the package.
 */
#ifndef TUXTAPE_KERNEL_DEBIAN_H
#define TUXTAPE_KERNEL_DEBIAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

enum debian_fetch_flags {
	DEBIAN_FETCH_OFFLINE = 1 << 0,   /* only cached files; never run apt-get download */
	DEBIAN_FETCH_NO_SOURCE = 1 << 1, /* linux-source (~140 MB) only when already cached */
};

struct debian_kernel {
	char *release;          /* "6.1.0-54-amd64" */
	char *image_package;    /* "linux-image-6.1.0-54-amd64" or "...-unsigned" */
	char *package_version;  /* "6.1.190-1" */
	char *upstream_version; /* "6.1.190" */
	char *image_deb;        /* the cached image .deb, NULL when only its extraction is kept */
	char *config_path;      /* .../boot/config-REL */
	char *system_map_path;  /* .../boot/System.map-REL */
	bool system_map_placeholder; /* Debian's one-line stand-in (the real map is in -dbg) */
	char *symvers_path;     /* Module.symvers from linux-headers-REL; may be NULL */
	char *headers_deb;      /* may be NULL */
	char *headers_common_deb; /* may be NULL */
	char *source_deb;       /* linux-source-X.Y .deb at package_version; may be NULL */
	char *source_version;   /* package_version when exact, else the nearest the archive has */
	bool source_exact;      /* source_version == package_version */
	/* strv relative to lib/modules/REL/kernel/: "drivers/x/y.ko" (never NULL, sorted) */
	char **modules;
	char **builtin; /* strv, the same form, from modules.builtin (never NULL, may be empty) */
	char **warnings; /* strv of non-fatal problems ("no linux-headers-... in the cache") */
};

/*
 * Fetches and unpacks the packages of release into cache_dir (created when
 * missing).  The image is required; headers and source are best effort and
 * their absence is reported in ->warnings.  Cached .debs are checked against
 * the size and SHA256 apt-cache knows (dpkg-deb --info when apt knows nothing)
 * and downloaded again when they do not match.
 *
 * Returns 0 and *ret (free with debian_kernel_free()), or:
 *   -EINVAL       release does not look like X.Y.Z-ABI-FLAVOUR
 *   -ENOENT       the archive has no image package for release
 *   -ENETUNREACH  DEBIAN_FETCH_OFFLINE and the image is not cached
 *   -EBADMSG      a package is malformed or does not match its hash
 *   -EIO          apt-get, dpkg-deb or tar failed otherwise
 *   -EFBIG        a listing or file went beyond its bound
 * with a message in reterr (when given).  *ret is written only on success.
 * Concurrent fetches into one cache_dir are safe (each works in its own
 * temporary directory and publishes by rename) but may download twice.
 * An extraction in the cache is trusted without its .deb: it was made from a
 * verified package.  Stale .tmp-* directories of killed runs are not removed.
 */
int debian_kernel_fetch(const char *release, const char *cache_dir, unsigned flags,
			struct debian_kernel **ret, char *reterr, size_t errsize);
struct debian_kernel *debian_kernel_free(struct debian_kernel *k);
DEFINE_CLEANUP_FUNC(struct debian_kernel, debian_kernel_free)

/* Written last into an unpacked source tree: its presence proves a finished extraction. */
#define DEBIAN_SOURCE_MARKER ".tuxtape-complete"
/* Free space debian_source_tree() wants before unpacking (the 6.1 tree takes ~1.4 GB). */
#define DEBIAN_SOURCE_MIN_FREE (3ull << 30)

/*
 * The kernel source of k as a tree in cache_dir/src/linux-source-VERSION/
 * (VERSION is k->source_version, ':' written "%3a"), unpacked once and reused:
 * the .deb's usr/src/linux-source-X.Y.tar.xz is taken out with dpkg-deb and
 * tar into a temporary directory of cache_dir, unpacked with "tar -xJ", its
 * Makefile checked against the package's upstream version, DEBIAN_SOURCE_MARKER
 * written after a syncfs(), and the top directory renamed into place.  A tree
 * without the marker (or with another version's) is removed and unpacked
 * again.  linux-source-X.Y already holds Debian's patches (it has no debian/
 * directory and nothing to apply), so the tree is what Debian compiled,
 * without any configuration: it is a clean tree for "make O=...".
 *
 * The .deb is k->source_deb; when that is NULL (DEBIAN_FETCH_NO_SOURCE) it is
 * taken from the cache or, unless flags has DEBIAN_FETCH_OFFLINE, downloaded
 * as debian_deb_fetch() does.  Unpacking runs under an flock on
 * cache_dir/src/.linux-source-VERSION.lock, so concurrent callers unpack once.
 *
 * Returns 0 and the tree in *ret_dir (caller frees), or, with a message in
 * reterr naming the step:
 *   -ENOENT       k has no source at its own version (k->source_exact false,
 *                 no linux-source in the archive or cache)
 *   -ENETUNREACH  DEBIAN_FETCH_OFFLINE and the .deb is not in the cache
 *   -ENOSPC       less than DEBIAN_SOURCE_MIN_FREE free in cache_dir
 *   -EBADMSG      the package, its tarball or the tree in it is malformed
 *   -EIO          dpkg-deb, tar or apt-get failed otherwise
 * or another negative errno of the file system calls.  Nothing is left at
 * the final path on failure.  The caller must not modify the tree: build with
 * "make -C DIR O=BUILD".
 */
int debian_source_tree(const struct debian_kernel *k, const char *cache_dir, unsigned flags,
		       char **ret_dir, char *reterr, size_t errsize);

/* 0 when release looks like "6.1.0-54-amd64" (X.Y.Z-ABI-FLAVOUR), else -EINVAL and reterr. */
int debian_release_check(const char *release, char *reterr, size_t errsize);

/* dpkg's ordering of Debian versions ("[epoch:]upstream[-revision]"): <0, 0, >0. */
int debian_version_compare(const char *a, const char *b);

/* "1:6.1.190-1~bpo12+1" -> "6.1.190" in *ret (caller frees); -EINVAL when empty. */
int debian_upstream_version(const char *package_version, char **ret);

/* One binary package as "apt-cache show" describes it. */
struct debian_package {
	char *name;         /* "linux-image-6.1.0-54-amd64" */
	char *version;      /* "6.1.190-1"; NULL means "whatever apt-get picks" */
	char *architecture; /* "amd64"; NULL when unknown */
	char *sha256;       /* 64 lowercase hex digits; NULL when unknown */
	char *depends;      /* raw Depends field; may be NULL */
	uint64_t size;      /* 0 when unknown */
};

struct debian_package *debian_package_free(struct debian_package *p);
DEFINE_CLEANUP_FUNC(struct debian_package, debian_package_free)
/* Frees a NULL-terminated array of packages; returns NULL. */
struct debian_package **debian_package_list_free(struct debian_package **l);

/*
 * Parses "apt-cache show" output (len bytes, at most 4 MiB) into a
 * NULL-terminated array in output order (caller frees with
 * debian_package_list_free()).  Stanzas lacking Package or Version, or whose
 * names or versions could not be used in a file name, fail with -EBADMSG.
 */
int debian_packages_parse(const char *text, size_t len, struct debian_package ***ret,
			  char *reterr, size_t errsize);

/*
 * Returns in *ret_path (caller frees) the cached .deb of pkg, downloading it
 * when it is missing or does not verify (size and SHA256 when pkg has them,
 * dpkg-deb --info otherwise); a cache file that fails verification is removed.
 * The download runs in a private directory under cache_dir and only a
 * verified file is renamed into place.  pkg->version NULL downloads apt's
 * candidate.  -ENOENT when apt cannot locate the package, -ENETUNREACH when
 * DEBIAN_FETCH_OFFLINE and there is no valid cached copy, -EBADMSG when the
 * download does not match, -EIO when apt-get fails otherwise.
 */
int debian_deb_fetch(const struct debian_package *pkg, const char *cache_dir, unsigned flags,
		     char **ret_path, char *reterr, size_t errsize);

/*
 * 0 when the file at path has the given size and SHA256 (hex, either case),
 * -EBADMSG when it does not, -errno when it cannot be read.
 */
int debian_file_verify(const char *path, uint64_t size, const char *sha256);

/* "dpkg-deb -f DEB Version" into *ret (caller frees). */
int debian_deb_version(const char *deb, char **ret, char *reterr, size_t errsize);

/*
 * Every member path of the package's data archive, without the leading "./"
 * ("boot/config-6.1.0-54-amd64"; directories end in '/').  At most 1,000,000
 * entries and 64 MiB of listing, else -EFBIG.
 */
int debian_deb_list(const char *deb, char ***ret, char *reterr, size_t errsize);

/*
 * The modules of release in the package: "lib/modules/REL/kernel/P.ko" (also
 * under usr/lib, also .ko.xz/.ko.zst/.ko.gz) become "P.ko".  Sorted.
 */
int debian_deb_list_modules(const char *deb, const char *release, char ***ret, char *reterr,
			    size_t errsize);

/*
 * Extracts members (paths as debian_deb_list() gives them) from the package's
 * data archive into the existing directory dir, by "dpkg-deb --fsys-tarfile"
 * piped into "tar -x".  A member missing from the package fails with -ENOENT.
 */
int debian_deb_extract(const char *deb, const char *dir, char *const *members, char *reterr,
		       size_t errsize);

/*
 * One member of a package ("boot/vmlinuz-R", "lib/modules/R/kernel/...")
 * extracted to the file dest: into a temporary directory beside it, then
 * renamed into place, so dest is never a half file.  A dest that already
 * exists is kept (the cache).  Errors as debian_deb_extract().
 */
int debian_deb_extract_member(const char *deb, const char *member, const char *dest,
			      char *reterr, size_t errsize);

#endif
