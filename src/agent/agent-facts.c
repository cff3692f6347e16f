/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "agent-facts.h"
#include "fileio.h"
#include "parse-util.h"
#include "strbuf.h"

#define NT_GNU_BUILD_ID_ 3
#define PROC_MODULES_MAX (4u * 1024 * 1024)
#define MODULE_NAME_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"

static bool root_is_real(const char *root)
{
	return !root || !*root || streq(root, "/");
}

char *agent_root_path(const char *root, const char *rel)
{
	if (root_is_real(root))
		return strdup(rel);
	return path_join(root, rel);
}

int agent_read_root_file(const char *root, const char *rel, size_t max, char **ret)
{
	_cleanup_free_ char *path = agent_root_path(root, rel);
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (!path)
		return -ENOMEM;
	/* sysfs attributes stat as 4096 bytes (a page), whatever they hold */
	r = read_file_bounded(path, max < 4096 ? 4096 : max, &buf, &len);
	if (r < 0)
		return r;
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	*ret = buf;
	return 0;
}

void agent_module_name_normalize(char *name)
{
	for (; *name; name++)
		if (*name == '-')
			*name = '_';
}

bool agent_module_name_valid(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n > 0 && n < AGENT_MODULE_NAME_MAX && strspn(name, MODULE_NAME_CHARS) == n;
}

static uint32_t get32(const unsigned char *p)
{
	uint32_t v;

	/* The notes are in the kernel's byte order, which is ours. */
	memcpy(&v, p, sizeof(v));
	return v;
}

int agent_notes_build_id(const void *notes, size_t len, char *ret, size_t retsize, char err[],
			 size_t errsize)
{
	const unsigned char *p = notes;
	size_t off = 0;

	while (off + 12 <= len) {
		uint32_t namesz = get32(p + off), descsz = get32(p + off + 4),
			 type = get32(p + off + 8);
		size_t name_off = off + 12, name_pad = ((size_t)namesz + 3) & ~(size_t)3,
		       desc_off, desc_pad = ((size_t)descsz + 3) & ~(size_t)3;

		if (name_pad > len - name_off)
			return parse_error(err, errsize,
					   "ELF note at offset %zu: name of %u bytes runs past the "
					   "end (%zu bytes)",
					   off, namesz, len);
		desc_off = name_off + name_pad;
		if (desc_pad > len - desc_off)
			return parse_error(err, errsize,
					   "ELF note at offset %zu: descriptor of %u bytes runs "
					   "past the end (%zu bytes)",
					   off, descsz, len);
		if (type == NT_GNU_BUILD_ID_ && namesz == 4 &&
		    memcmp(p + name_off, "GNU", 4) == 0) {
			if (descsz == 0 || descsz > AGENT_BUILD_ID_MAX || retsize < 2 * descsz + 1)
				return parse_error(err, errsize,
						   "ELF note at offset %zu: GNU build id of %u "
						   "bytes",
						   off, descsz);
			for (size_t i = 0; i < descsz; i++)
				snprintf(ret + 2 * i, 3, "%02x", p[desc_off + i]);
			return 0;
		}
		off = desc_off + desc_pad;
	}
	if (off != len && off + 12 > len && len - off >= 4)
		return parse_error(err, errsize, "ELF note at offset %zu: header cut short", off);
	return -ENOENT;
}

static int read_release(const char *root, struct agent_facts *f, char err[], size_t errsize)
{
	_cleanup_free_ char *rel = NULL;
	struct utsname u;
	int r;

	r = agent_read_root_file(root, "/proc/sys/kernel/osrelease", 4096, &rel);
	if (r == -ENOMEM)
		return r;
	if (r >= 0 && *rel && strlen(rel) < sizeof(f->release) && !strchr(rel, '/')) {
		memcpy(f->release, rel, strlen(rel) + 1);
		return 0;
	}
	if (root_is_real(root) && uname(&u) == 0 && strlen(u.release) < sizeof(f->release)) {
		memcpy(f->release, u.release, strlen(u.release) + 1);
		return 0;
	}
	snprintf(err, errsize, "cannot read the kernel release from '%s%s'",
		 root_is_real(root) ? "" : root, "/proc/sys/kernel/osrelease");
	return -ENOENT;
}

static int read_livepatches(const char *root, struct agent_facts *f)
{
	_cleanup_free_ char *dir = agent_root_path(root, "/sys/kernel/livepatch");
	DIR *d;
	struct dirent *de;
	int r = 0;

	if (!dir)
		return -ENOMEM;
	d = opendir(dir);
	if (!d)
		return 0; /* no livepatch support or none loaded: nothing to list */
	while ((de = readdir(d))) {
		struct agent_livepatch *lp;
		char rel[sizeof(de->d_name) + 64];
		char *v = NULL;

		if (de->d_name[0] == '.' || !agent_module_name_valid(de->d_name))
			continue;
		lp = realloc(f->livepatches, (f->n_livepatches + 1) * sizeof(*lp));
		if (!lp) {
			r = -ENOMEM;
			break;
		}
		f->livepatches = lp;
		lp = &lp[f->n_livepatches++];
		/* agent_module_name_valid() bounds the length. */
		memcpy(lp->name, de->d_name, strlen(de->d_name) + 1);
		lp->enabled = lp->transition = -1;
		snprintf(rel, sizeof(rel), "/sys/kernel/livepatch/%s/enabled", de->d_name);
		if (agent_read_root_file(root, rel, 64, &v) >= 0)
			lp->enabled = streq(v, "1") ? 1 : streq(v, "0") ? 0 : -1;
		free(v);
		v = NULL;
		snprintf(rel, sizeof(rel), "/sys/kernel/livepatch/%s/transition", de->d_name);
		if (agent_read_root_file(root, rel, 64, &v) >= 0)
			lp->transition = streq(v, "1") ? 1 : streq(v, "0") ? 0 : -1;
		free(v);
	}
	closedir(d);
	return r;
}

static int read_modules(const char *root, struct agent_facts *f)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_strv_free_ char **mods = NULL;
	char *line, *next;
	int r;

	r = agent_read_root_file(root, "/proc/modules", PROC_MODULES_MAX, &buf);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	mods = calloc(1, sizeof(char *));
	if (!mods)
		return -ENOMEM;
	for (line = buf; line && *line; line = next) {
		size_t n;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		n = strcspn(line, " ");
		if (n == 0 || n >= AGENT_MODULE_NAME_MAX)
			continue;
		line[n] = '\0';
		if (strv_push(&mods, line) < 0)
			return -ENOMEM;
	}
	f->modules = TAKE_PTR(mods);
	return 0;
}

int agent_facts_read(const char *root, struct agent_facts *ret, char err[], size_t errsize)
{
	struct agent_facts f = { .uptime = -1 };
	_cleanup_free_ char *notes = NULL, *v = NULL, *notes_path = NULL;
	size_t notes_len = 0;
	int r;

	r = read_release(root, &f, err, errsize);
	if (r < 0)
		return r;

	notes_path = agent_root_path(root, "/sys/kernel/notes");
	if (!notes_path)
		return -ENOMEM;
	r = read_file_bounded(notes_path, AGENT_NOTES_MAX, &notes, &notes_len);
	if (r == -ENOMEM)
		return r;
	if (r >= 0 && agent_notes_build_id(notes, notes_len, f.build_id, sizeof(f.build_id), NULL,
					   0) < 0)
		f.build_id[0] = '\0';

	r = agent_read_root_file(root, "/proc/sys/kernel/random/boot_id", 128, &v);
	if (r >= 0 && strlen(v) < sizeof(f.boot_id))
		memcpy(f.boot_id, v, strlen(v) + 1);
	free(TAKE_PTR(v));
	r = agent_read_root_file(root, "/proc/uptime", 256, &v);
	if (r >= 0) {
		v[strcspn(v, " ")] = '\0';
		if (safe_atod(v, &f.uptime) < 0)
			f.uptime = -1;
	}
	free(TAKE_PTR(v));
	r = agent_read_root_file(root, "/proc/sys/kernel/tainted", 128, &v);
	if (r >= 0 && safe_atou64(v, &f.taint) >= 0)
		f.taint_known = true;

	r = read_livepatches(root, &f);
	if (r >= 0)
		r = read_modules(root, &f);
	if (r < 0) {
		agent_facts_release(&f);
		return r;
	}
	*ret = f;
	return 0;
}

void agent_facts_release(struct agent_facts *f)
{
	free(f->livepatches);
	f->livepatches = NULL;
	f->n_livepatches = 0;
	f->modules = strv_free(f->modules);
}

const struct agent_livepatch *agent_facts_livepatch(const struct agent_facts *f, const char *name)
{
	for (size_t i = 0; i < f->n_livepatches; i++)
		if (streq(f->livepatches[i].name, name))
			return &f->livepatches[i];
	return NULL;
}

bool agent_facts_module_loaded(const struct agent_facts *f, const char *name)
{
	return f->modules && strv_contains(f->modules, name);
}

static json_t *str_or_null(const char *s)
{
	return s && *s ? json_string(s) : json_null();
}

json_t *agent_facts_to_json(const struct agent_facts *f)
{
	json_t *lps = json_array(), *mods = f->modules ? json_array() : json_null();

	if (!lps || !mods)
		goto oom;
	for (size_t i = 0; i < f->n_livepatches; i++) {
		const struct agent_livepatch *lp = &f->livepatches[i];

		json_t *enabled = lp->enabled < 0 ? json_null() : json_boolean(lp->enabled);
		json_t *transition =
			lp->transition < 0 ? json_null() : json_boolean(lp->transition);

		if (json_array_append_new(lps, json_pack("{s:s, s:o, s:o}", "name", lp->name,
							 "enabled", enabled, "transition",
							 transition)) < 0)
			goto oom;
	}
	for (size_t i = 0; f->modules && f->modules[i]; i++)
		if (json_array_append_new(mods, json_string(f->modules[i])) < 0)
			goto oom;
	/* json_pack() steals the "o" references, also when it fails. */
	return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "release", f->release, "build_id",
			 str_or_null(f->build_id), "boot_id", str_or_null(f->boot_id), "taint",
			 f->taint_known ? json_integer((json_int_t)f->taint) : json_null(),
			 "livepatches", lps, "modules", mods);
oom:
	json_decref(lps);
	json_decref(mods);
	return NULL;
}
