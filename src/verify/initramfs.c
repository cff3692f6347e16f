/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "fileio.h"
#include "initramfs.h"

/* Kernel's init/initramfs.c rejects names longer than PATH_MAX. */
#define NAME_MAX_LEN 4095

struct initramfs *initramfs_new(void)
{
	struct initramfs *ir = calloc(1, sizeof(*ir));

	if (!ir)
		return NULL;
	strbuf_init(&ir->buf, INITRAMFS_MAX_SIZE);
	return ir;
}

struct initramfs *initramfs_free(struct initramfs *ir)
{
	if (!ir)
		return NULL;
	strbuf_release(&ir->buf);
	free(ir);
	return NULL;
}

static int pad4(struct strbuf *sb)
{
	static const char zeros[4];
	size_t n = (4 - (sb->len & 3)) & 3;

	return n ? strbuf_add(sb, zeros, n) : 0;
}

static int add_entry(struct initramfs *ir, const char *name, mode_t mode, unsigned nlink,
		     unsigned rmajor, unsigned rminor, const void *data, size_t len)
{
	size_t namesize, old_len = ir->buf.len;
	int r;

	if (ir->finished)
		return -EALREADY;
	if (strempty(name) || name[0] == '/')
		return -EINVAL;
	namesize = strlen(name) + 1;
	if (namesize > NAME_MAX_LEN || len > UINT32_MAX)
		return -EINVAL;
	if (len > INITRAMFS_MAX_SIZE)
		return -EFBIG;

	/* newc: magic plus 13 eight-digit hex fields, name, pad, data, pad. */
	r = strbuf_addf(&ir->buf, "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
			++ir->ino, (unsigned)mode, 0u, 0u, nlink, 0u, len, 0u, 0u, rmajor, rminor,
			namesize, 0u);
	if (r >= 0)
		r = strbuf_add(&ir->buf, name, namesize);
	if (r >= 0)
		r = pad4(&ir->buf);
	if (r >= 0 && len > 0)
		r = strbuf_add(&ir->buf, data, len);
	if (r >= 0)
		r = pad4(&ir->buf);
	if (r < 0) {
		/* Leave the archive as it was so the caller can still finish it. */
		ir->buf.len = old_len;
		ir->buf.buf[old_len] = '\0';
		return r;
	}
	return 0;
}

int initramfs_add_dir(struct initramfs *ir, const char *name, mode_t perm)
{
	return add_entry(ir, name, S_IFDIR | (perm & 07777), 2, 0, 0, NULL, 0);
}

int initramfs_add_file(struct initramfs *ir, const char *name, mode_t perm, const void *data,
		       size_t len)
{
	return add_entry(ir, name, S_IFREG | (perm & 07777), 1, 0, 0, data, len);
}

int initramfs_add_symlink(struct initramfs *ir, const char *name, const char *target)
{
	if (strempty(target))
		return -EINVAL;
	return add_entry(ir, name, S_IFLNK | 0777, 1, 0, 0, target, strlen(target));
}

int initramfs_add_chardev(struct initramfs *ir, const char *name, mode_t perm, unsigned major,
			  unsigned minor)
{
	return add_entry(ir, name, S_IFCHR | (perm & 07777), 1, major, minor, NULL, 0);
}

int initramfs_add_host_file(struct initramfs *ir, const char *name, mode_t perm,
			    const char *host_path)
{
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	r = read_file_bounded(host_path, INITRAMFS_FILE_MAX, &data, &len);
	if (r < 0)
		return r;
	return initramfs_add_file(ir, name, perm, data, len);
}

int initramfs_finish(struct initramfs *ir)
{
	int r;

	if (ir->finished)
		return -EALREADY;
	r = add_entry(ir, "TRAILER!!!", 0, 1, 0, 0, NULL, 0);
	if (r < 0)
		return r;
	ir->finished = true;
	return 0;
}

const void *initramfs_data(const struct initramfs *ir, size_t *ret_len)
{
	*ret_len = ir->buf.len;
	return ir->buf.buf;
}

static int gzip_buffer(const void *in, size_t in_len, void **ret, size_t *ret_len)
{
	z_stream zs = { 0 };
	_cleanup_free_ unsigned char *out = NULL;
	uLong cap;
	int zr;

	/* windowBits 15 + 16 selects the gzip wrapper the kernel's decompressor wants. */
	if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&zs, in_len) + 32;
	out = malloc(cap);
	if (!out) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = in_len;
	zs.next_out = out;
	zs.avail_out = cap;
	zr = deflate(&zs, Z_FINISH);
	*ret_len = zs.total_out;
	deflateEnd(&zs);
	if (zr != Z_STREAM_END)
		return -EIO;
	*ret = TAKE_PTR(out);
	return 0;
}

int initramfs_write(struct initramfs *ir, const char *path, bool gzip)
{
	_cleanup_free_ void *gz = NULL;
	size_t gz_len = 0;
	int r;

	if (!ir->finished)
		return -EINVAL;
	if (!gzip)
		return write_file_atomic(path, ir->buf.buf, ir->buf.len, 0644);
	r = gzip_buffer(ir->buf.buf, ir->buf.len, &gz, &gz_len);
	if (r < 0)
		return r;
	return write_file_atomic(path, gz, gz_len, 0644);
}
