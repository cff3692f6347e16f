/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "digest.h"
#include "history.h"
#include "parse-util.h"
#include "strbuf.h"
#include "utf8.h"

static const char *const status_names[_PATCH_HISTORY_STATUS_MAX] = {
	[PATCH_HISTORY_BUILT] = "built",
	[PATCH_HISTORY_REFUSED] = "refused",
	[PATCH_HISTORY_FAILED] = "failed",
};

const char *patch_history_status_to_string(enum patch_history_status s)
{
	if ((int)s < 0 || s >= _PATCH_HISTORY_STATUS_MAX)
		return NULL;
	return status_names[s];
}

enum patch_history_status patch_history_status_from_string(const char *s)
{
	for (int i = 0; s && i < _PATCH_HISTORY_STATUS_MAX; i++)
		if (streq(s, status_names[i]))
			return (enum patch_history_status)i;
	return _PATCH_HISTORY_STATUS_INVALID;
}

void patch_history_record_release(struct patch_history_record *rec)
{
	if (!rec)
		return;
	free(rec->kernel);
	free(rec->name);
	strv_free(rec->cves);
	for (size_t i = 0; i < rec->n_patches; i++) {
		free(rec->patches[i].file);
		free(rec->patches[i].sha256);
	}
	free(rec->patches);
	for (size_t i = 0; i < rec->n_reasons; i++) {
		free(rec->reasons[i].what);
		free(rec->reasons[i].reason);
	}
	free(rec->reasons);
	free(rec->report);
	free(rec->module_path);
	free(rec->module_sha256);
	memset(rec, 0, sizeof(*rec));
}

/*
 * A copy of text fit to store and print: bounded, valid UTF-8 (names and
 * reasons come from patches and compilers, which promise neither).
 */
static int text_dup(const char *s, char **ret)
{
	size_t len;
	char *copy;

	if (!s)
		return -EINVAL;
	len = strlen(s);
	if (len > PATCH_HISTORY_TEXT_MAX)
		return -EFBIG;
	copy = utf8_sanitize(s, len);
	if (!copy)
		return -ENOMEM;
	*ret = copy;
	return 0;
}

static bool cve_id_is_valid(const char *s)
{
	size_t n;

	if (strncmp(s, "CVE-", 4) != 0)
		return false;
	s += 4;
	for (n = 0; n < 4; n++)
		if (!isdigit((unsigned char)s[n]))
			return false;
	if (s[4] != '-')
		return false;
	s += 5;
	for (n = 0; isdigit((unsigned char)s[n]); n++)
		;
	return n >= 4 && n <= 19 && s[n] == '\0';
}

static bool sha256_is_valid(const char *s)
{
	return s && strlen(s) == 64 && is_hex_string(s, 64);
}

static char *lowercase_dup(const char *s)
{
	char *c = strdup(s);

	for (char *p = c; p && *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return c;
}

int patch_history_record_set_kernel(struct patch_history_record *rec, const char *kernel,
				    const char *name)
{
	_cleanup_free_ char *k = NULL, *n = NULL;
	int r;

	if (strempty(kernel))
		return -EINVAL;
	r = text_dup(kernel, &k);
	if (r >= 0 && name)
		r = text_dup(name, &n);
	if (r < 0)
		return r;
	free(rec->kernel);
	free(rec->name);
	rec->kernel = TAKE_PTR(k);
	rec->name = TAKE_PTR(n);
	return 0;
}

int patch_history_record_add_cve(struct patch_history_record *rec, const char *cve)
{
	if (!cve || !cve_id_is_valid(cve))
		return -EINVAL;
	if (strv_length(rec->cves) >= PATCH_HISTORY_CVES_MAX)
		return -EFBIG;
	return strv_push(&rec->cves, cve);
}

int patch_history_record_add_patch(struct patch_history_record *rec, const char *file,
				   const char *sha256)
{
	struct patch_history_patch *p;
	_cleanup_free_ char *f = NULL, *h = NULL;
	int r;

	if (strempty(file) || !sha256_is_valid(sha256))
		return -EINVAL;
	if (rec->n_patches >= PATCH_HISTORY_PATCHES_MAX)
		return -EFBIG;
	r = text_dup(file, &f);
	if (r < 0)
		return r;
	h = lowercase_dup(sha256);
	if (!h)
		return -ENOMEM;
	p = reallocarray(rec->patches, rec->n_patches + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rec->patches = p;
	p[rec->n_patches++] = (struct patch_history_patch){ TAKE_PTR(f), TAKE_PTR(h) };
	return 0;
}

int patch_history_file_sha256(const char *path, char hex[static 65])
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return digest_fd_sha256(fd, hex);
}

int patch_history_record_add_patch_file(struct patch_history_record *rec, const char *path)
{
	const char *base;
	char hex[65];
	int r;

	if (strempty(path))
		return -EINVAL;
	r = patch_history_file_sha256(path, hex);
	if (r < 0)
		return r;
	base = strrchr(path, '/');
	base = base ? base + 1 : path;
	return patch_history_record_add_patch(rec, *base ? base : path, hex);
}

int patch_history_record_add_reason(struct patch_history_record *rec, const char *what,
				    const char *reason)
{
	struct patch_history_reason *p;
	_cleanup_free_ char *w = NULL, *why = NULL;
	int r;

	if (strempty(what) || strempty(reason))
		return -EINVAL;
	if (rec->n_reasons >= PATCH_HISTORY_REASONS_MAX)
		return -EFBIG;
	r = text_dup(what, &w);
	if (r >= 0)
		r = text_dup(reason, &why);
	if (r < 0)
		return r;
	p = reallocarray(rec->reasons, rec->n_reasons + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	rec->reasons = p;
	p[rec->n_reasons++] = (struct patch_history_reason){ TAKE_PTR(w), TAKE_PTR(why) };
	return 0;
}

int patch_history_record_set_report(struct patch_history_record *rec, json_t *report)
{
	char *text;

	if (!report)
		return -EINVAL;
	text = json_dumps(report, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!text)
		return -ENOMEM;
	if (strlen(text) > PATCH_HISTORY_REPORT_MAX) {
		free(text);
		return -EFBIG;
	}
	free(rec->report);
	rec->report = text;
	return 0;
}

int patch_history_record_set_module(struct patch_history_record *rec, const char *path)
{
	_cleanup_free_ char *p = NULL, *h = NULL;
	char hex[65];
	int r;

	if (strempty(path))
		return -EINVAL;
	r = patch_history_file_sha256(path, hex);
	if (r < 0)
		return r;
	r = text_dup(path, &p);
	if (r < 0)
		return r;
	h = strdup(hex);
	if (!h)
		return -ENOMEM;
	free(rec->module_path);
	free(rec->module_sha256);
	rec->module_path = TAKE_PTR(p);
	rec->module_sha256 = TAKE_PTR(h);
	return 0;
}

static bool text_ok(const char *s)
{
	return s && strlen(s) <= PATCH_HISTORY_TEXT_MAX && utf8_is_valid(s, strlen(s));
}

/* The rules of patch_history_add(), for records assembled by hand too. */
static int validate(const struct patch_history_record *rec)
{
	if (strempty(rec->kernel) || !text_ok(rec->kernel) || (rec->name && !text_ok(rec->name)))
		return -EINVAL;
	if (!patch_history_status_to_string(rec->status))
		return -EINVAL;
	if (strv_length(rec->cves) > PATCH_HISTORY_CVES_MAX ||
	    rec->n_patches > PATCH_HISTORY_PATCHES_MAX ||
	    rec->n_reasons > PATCH_HISTORY_REASONS_MAX)
		return -EFBIG;
	for (char **c = rec->cves; c && *c; c++)
		if (!cve_id_is_valid(*c))
			return -EINVAL;
	for (size_t i = 0; i < rec->n_patches; i++)
		if (strempty(rec->patches[i].file) || !text_ok(rec->patches[i].file) ||
		    !sha256_is_valid(rec->patches[i].sha256))
			return -EINVAL;
	for (size_t i = 0; i < rec->n_reasons; i++)
		if (strempty(rec->reasons[i].what) || !text_ok(rec->reasons[i].what) ||
		    strempty(rec->reasons[i].reason) || !text_ok(rec->reasons[i].reason))
			return -EINVAL;
	if (rec->status == PATCH_HISTORY_BUILT && (!rec->module_path || !rec->module_sha256))
		return -EINVAL;
	if (!rec->module_path != !rec->module_sha256)
		return -EINVAL;
	if (rec->module_path &&
	    (!text_ok(rec->module_path) || !sha256_is_valid(rec->module_sha256)))
		return -EINVAL;
	if (rec->report) {
		size_t len = strlen(rec->report);
		json_t *j;

		if (len > PATCH_HISTORY_REPORT_MAX)
			return -EFBIG;
		j = json_loadb(rec->report, len, JSON_DECODE_ANY, NULL);
		if (!j)
			return -EINVAL;
		json_decref(j);
	}
	return 0;
}

static int bind_opt(struct db_stmt *s, int idx, const char *v)
{
	return v ? db_bind_text(s, idx, v) : db_bind_null(s, idx);
}

/* Runs an INSERT of (build_id, seq, a, b) or (build_id, seq, a) when b is NULL. */
static int insert_child(struct db *db, const char *sql, int64_t id, size_t seq, const char *a,
			const char *b)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, sql, &s);
	if (r < 0)
		return r;
	if ((r = db_bind_int64(s, 1, id)) < 0 || (r = db_bind_int64(s, 2, (int64_t)seq)) < 0 ||
	    (r = db_bind_text(s, 3, a)) < 0 || (b && (r = db_bind_text(s, 4, b)) < 0))
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	return r < 0 ? r : 0;
}

static int next_id(struct db *db, int64_t *ret)
{
	struct db_stmt *s;
	int r;

	/* The UPDATE takes the row lock first: a concurrent writer waits, then counts on. */
	r = db_prepare(db, "UPDATE patch_build_seq SET last_id = last_id + 1 WHERE name = ?", &s);
	if (r < 0 || (r = db_bind_text(s, 1, "patch_build")) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	if (r < 0)
		return r;
	r = db_prepare(db, "SELECT last_id FROM patch_build_seq WHERE name = ?", &s);
	if (r < 0 || (r = db_bind_text(s, 1, "patch_build")) < 0)
		return r;
	r = db_step(s);
	if (r > 0)
		*ret = db_column_int64(s, 0);
	db_stmt_reset(s);
	if (r == 0)
		return -EPROTO; /* the counter row of migration 3 is gone */
	return r < 0 ? r : 0;
}

static int add_rows(struct db *db, const struct patch_history_record *rec, int64_t created_at,
		    int64_t *ret_id)
{
	struct db_stmt *s;
	int64_t id = 0;
	size_t i = 0;
	int r;

	r = next_id(db, &id);
	if (r < 0)
		return r;
	r = db_prepare(
		db,
		"INSERT INTO patch_build (id, kernel_name, name, status, report, module_path,"
		" module_sha256, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		&s);
	if (r < 0)
		return r;
	if ((r = db_bind_int64(s, 1, id)) < 0 || (r = db_bind_text(s, 2, rec->kernel)) < 0 ||
	    (r = bind_opt(s, 3, rec->name)) < 0 ||
	    (r = db_bind_text(s, 4, patch_history_status_to_string(rec->status))) < 0 ||
	    (r = bind_opt(s, 5, rec->report)) < 0 || (r = bind_opt(s, 6, rec->module_path)) < 0 ||
	    (r = bind_opt(s, 7, rec->module_sha256)) < 0 ||
	    (r = db_bind_int64(s, 8, created_at)) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	if (r < 0)
		return r;
	for (char **c = rec->cves; c && *c; c++, i++) {
		r = insert_child(
			db, "INSERT INTO patch_build_cve (build_id, seq, cve_id) VALUES (?, ?, ?)",
			id, i, *c, NULL);
		if (r < 0)
			return r;
	}
	for (i = 0; i < rec->n_patches; i++) {
		r = insert_child(db,
				 "INSERT INTO patch_build_patch (build_id, seq, file, sha256)"
				 " VALUES (?, ?, ?, ?)",
				 id, i, rec->patches[i].file, rec->patches[i].sha256);
		if (r < 0)
			return r;
	}
	for (i = 0; i < rec->n_reasons; i++) {
		r = insert_child(db,
				 "INSERT INTO patch_build_reason (build_id, seq, what, reason)"
				 " VALUES (?, ?, ?, ?)",
				 id, i, rec->reasons[i].what, rec->reasons[i].reason);
		if (r < 0)
			return r;
	}
	*ret_id = id;
	return 0;
}

int patch_history_add(struct db *db, struct patch_history_record *rec, int64_t *ret_id)
{
	int64_t id = 0, created_at = rec->created_at ? rec->created_at : (int64_t)time(NULL);
	int r;

	r = validate(rec);
	if (r < 0)
		return r;
	r = db_begin(db);
	if (r < 0)
		return r;
	r = add_rows(db, rec, created_at, &id);
	if (r >= 0)
		r = db_commit(db);
	if (r < 0) {
		(void)db_rollback(db);
		return r;
	}
	rec->id = id;
	rec->created_at = created_at;
	if (ret_id)
		*ret_id = id;
	return 0;
}

static int col_dup(struct db_stmt *s, int i, char **ret)
{
	if (db_column_is_null(s, i)) {
		*ret = NULL;
		return 0;
	}
	*ret = strdup(db_column_text(s, i));
	return *ret ? 0 : -ENOMEM;
}

#define BUILD_COLUMNS "id, kernel_name, name, status, module_path, module_sha256, created_at"

/* The main row (BUILD_COLUMNS, then report when asked) into rec. */
static int record_from_row(struct db_stmt *s, bool with_report, struct patch_history_record *rec)
{
	int r;

	rec->id = db_column_int64(s, 0);
	rec->status = patch_history_status_from_string(db_column_text(s, 3));
	if ((int)rec->status < 0)
		return -EBADMSG; /* written by something else than patch_history_add() */
	rec->created_at = db_column_int64(s, 6);
	if ((r = col_dup(s, 1, &rec->kernel)) < 0 || (r = col_dup(s, 2, &rec->name)) < 0 ||
	    (r = col_dup(s, 4, &rec->module_path)) < 0 ||
	    (r = col_dup(s, 5, &rec->module_sha256)) < 0 ||
	    (with_report && (r = col_dup(s, 7, &rec->report)) < 0))
		return r;
	return 0;
}

static int load_children(struct db *db, struct patch_history_record *rec)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, "SELECT cve_id FROM patch_build_cve WHERE build_id = ? ORDER BY seq",
		       &s);
	if (r < 0 || (r = db_bind_int64(s, 1, rec->id)) < 0)
		return r;
	while ((r = db_step(s)) > 0)
		if ((r = strv_push(&rec->cves, db_column_text(s, 0))) < 0)
			break;
	db_stmt_reset(s);
	if (r < 0)
		return r;

	r = db_prepare(db,
		       "SELECT file, sha256 FROM patch_build_patch WHERE build_id = ? ORDER BY seq",
		       &s);
	if (r < 0 || (r = db_bind_int64(s, 1, rec->id)) < 0)
		return r;
	while ((r = db_step(s)) > 0) {
		struct patch_history_patch *p =
			reallocarray(rec->patches, rec->n_patches + 1, sizeof(*p));

		if (!p) {
			r = -ENOMEM;
			break;
		}
		rec->patches = p;
		p = &rec->patches[rec->n_patches];
		*p = (struct patch_history_patch){ 0 };
		rec->n_patches++;
		if ((r = col_dup(s, 0, &p->file)) < 0 || (r = col_dup(s, 1, &p->sha256)) < 0)
			break;
	}
	db_stmt_reset(s);
	if (r < 0)
		return r;

	r = db_prepare(
		db, "SELECT what, reason FROM patch_build_reason WHERE build_id = ? ORDER BY seq",
		&s);
	if (r < 0 || (r = db_bind_int64(s, 1, rec->id)) < 0)
		return r;
	while ((r = db_step(s)) > 0) {
		struct patch_history_reason *p =
			reallocarray(rec->reasons, rec->n_reasons + 1, sizeof(*p));

		if (!p) {
			r = -ENOMEM;
			break;
		}
		rec->reasons = p;
		p = &rec->reasons[rec->n_reasons];
		*p = (struct patch_history_reason){ 0 };
		rec->n_reasons++;
		if ((r = col_dup(s, 0, &p->what)) < 0 || (r = col_dup(s, 1, &p->reason)) < 0)
			break;
	}
	db_stmt_reset(s);
	return r < 0 ? r : 0;
}

int patch_history_get(struct db *db, int64_t id, struct patch_history_record *ret)
{
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };
	struct db_stmt *s;
	int r;

	r = db_prepare(db, "SELECT " BUILD_COLUMNS ", report FROM patch_build WHERE id = ?", &s);
	if (r < 0 || (r = db_bind_int64(s, 1, id)) < 0)
		return r;
	r = db_step(s);
	if (r > 0)
		r = record_from_row(s, true, &rec);
	else if (r == 0)
		r = -ENOENT;
	db_stmt_reset(s);
	if (r < 0)
		return r;
	r = load_children(db, &rec);
	if (r < 0)
		return r;
	*ret = rec;
	memset(&rec, 0, sizeof(rec));
	return 0;
}

int patch_history_list(struct db *db, const struct patch_history_filter *filter,
		       patch_history_fn fn, void *userdata)
{
	static const struct patch_history_filter all = PATCH_HISTORY_FILTER_INIT;
	_cleanup_strbuf_ struct strbuf sql;
	struct db_stmt *s;
	const char *where = " WHERE";
	int r, idx = 1;

	strbuf_init(&sql, 0);
	if (!filter)
		filter = &all;
	if (filter->status >= 0 &&
	    !patch_history_status_to_string((enum patch_history_status)filter->status))
		return -EINVAL;
	r = strbuf_addf(&sql, "SELECT " BUILD_COLUMNS "%s FROM patch_build",
			filter->with_report ? ", report" : "");
	/* Only the shape of the SQL varies (a few cached statements); values are bound. */
	if (r >= 0 && filter->kernel) {
		r = strbuf_addf(&sql, "%s kernel_name = ?", where);
		where = " AND";
	}
	if (r >= 0 && filter->status >= 0) {
		r = strbuf_addf(&sql, "%s status = ?", where);
		where = " AND";
	}
	if (r >= 0 && filter->since) {
		r = strbuf_addf(&sql, "%s created_at >= ?", where);
		where = " AND";
	}
	if (r >= 0 && filter->cve)
		r = strbuf_addf(&sql,
				"%s id IN (SELECT build_id FROM patch_build_cve"
				" WHERE cve_id = ?)",
				where);
	if (r >= 0)
		r = strbuf_adds(&sql, " ORDER BY id DESC");
	if (r >= 0 && filter->limit)
		r = strbuf_adds(&sql, " LIMIT ?");
	if (r < 0)
		return r;

	r = db_prepare(db, sql.buf, &s);
	if (r < 0)
		return r;
	if (filter->kernel && (r = db_bind_text(s, idx++, filter->kernel)) < 0)
		return r;
	if (filter->status >= 0 &&
	    (r = db_bind_text(s, idx++,
			      patch_history_status_to_string(
				      (enum patch_history_status)filter->status))) < 0)
		return r;
	if (filter->since && (r = db_bind_int64(s, idx++, filter->since)) < 0)
		return r;
	if (filter->cve && (r = db_bind_text(s, idx++, filter->cve)) < 0)
		return r;
	if (filter->limit && (r = db_bind_int64(s, idx++, (int64_t)filter->limit)) < 0)
		return r;

	while ((r = db_step(s)) > 0) {
		_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

		r = record_from_row(s, filter->with_report, &rec);
		if (r >= 0)
			r = load_children(db, &rec);
		if (r >= 0)
			r = fn(&rec, userdata);
		if (r < 0)
			break;
	}
	db_stmt_reset(s);
	return r < 0 ? r : 0;
}

static json_t *module_json(const struct patch_history_record *rec)
{
	if (!rec->module_path)
		return json_null();
	return json_pack("{s:s, s:s}", "path", rec->module_path, "sha256", rec->module_sha256);
}

json_t *patch_history_event(const struct patch_history_record *rec)
{
	json_t *cves = json_array(), *patches = json_array(), *reasons = json_array(), *ev;
	char event[32], time_buf[64];

	if (!cves || !patches || !reasons)
		goto oom;
	for (char **c = rec->cves; c && *c; c++)
		if (json_array_append_new(cves, json_string(*c)) < 0)
			goto oom;
	for (size_t i = 0; i < rec->n_patches; i++)
		if (json_array_append_new(patches,
					  json_pack("{s:s, s:s}", "file", rec->patches[i].file,
						    "sha256", rec->patches[i].sha256)) < 0)
			goto oom;
	for (size_t i = 0; i < rec->n_reasons; i++)
		if (json_array_append_new(reasons,
					  json_pack("{s:s, s:s}", "what", rec->reasons[i].what,
						    "reason", rec->reasons[i].reason)) < 0)
			goto oom;
	snprintf(event, sizeof(event), "patch.%s",
		 patch_history_status_to_string(rec->status) ?: "unknown");
	format_timestamp(rec->created_at, time_buf, sizeof(time_buf));
	ev = json_pack("{s:i, s:s, s:I, s:s?, s:s?, s:o, s:o, s:o, s:o?, s:s}", "version", 1,
		       "event", event, "id", (json_int_t)rec->id, "kernel", rec->kernel, "name",
		       rec->name, "cves", cves, "patches", patches, "reasons", reasons, "module",
		       module_json(rec), "time", time_buf);
	return ev;
oom:
	json_decref(cves);
	json_decref(patches);
	json_decref(reasons);
	return NULL;
}

json_t *patch_history_to_json(const struct patch_history_record *rec)
{
	json_t *j = patch_history_event(rec), *report = NULL;

	if (!j)
		return NULL;
	if (rec->report) {
		report = json_loads(rec->report, JSON_DECODE_ANY, NULL);
		/* Stored reports were checked on the way in; keep foreign text as text. */
		if (!report)
			report = json_string(rec->report);
	}
	if (json_object_set_new(
		    j, "status",
		    json_string(patch_history_status_to_string(rec->status) ?: "unknown")) < 0 ||
	    json_object_set_new(j, "created_at", json_integer(rec->created_at)) < 0 ||
	    json_object_set_new(j, "report", report ? report : json_null()) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}
