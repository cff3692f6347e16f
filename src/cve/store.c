/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "strbuf.h"

static int bind_text_or_null(struct db_stmt *s, int idx, const char *v)
{
	return v ? db_bind_text(s, idx, v) : db_bind_null(s, idx);
}

static int run(struct db *db, const char *sql, const char *a, const char *b)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, sql, &s);
	if (r < 0)
		return r;
	if (a && (r = db_bind_text(s, 1, a)) < 0)
		return r;
	if (b && (r = db_bind_text(s, 2, b)) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	return r < 0 ? r : 0;
}

static int put_strv(struct db *db, const char *sql, const char *id, char *const *v)
{
	struct db_stmt *s;
	int r, seq = 0;

	if (!v)
		return 0;
	r = db_prepare(db, sql, &s);
	if (r < 0)
		return r;
	for (; *v; v++) {
		if ((r = db_bind_text(s, 1, id)) < 0 || (r = db_bind_int64(s, 2, seq++)) < 0 ||
		    (r = db_bind_text(s, 3, *v)) < 0)
			return r;
		r = db_step(s);
		db_stmt_reset(s);
		if (r < 0)
			return r;
	}
	return 0;
}

static int delete_children(struct db *db, const char *id)
{
	static const char *const sql[] = {
		"DELETE FROM cve_fix_commit WHERE cve_id = ?",
		"DELETE FROM cve_vulnerable_commit WHERE cve_id = ?",
		"DELETE FROM cve_pair WHERE cve_id = ?",
		"DELETE FROM cve_file WHERE cve_id = ?",
		"DELETE FROM cve_reference WHERE cve_id = ?",
	};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(sql); i++)
		if ((r = run(db, sql[i], id, NULL)) < 0)
			return r;
	return 0;
}

int cve_store_put(struct db *db, const struct cve_record *rec, const char *record_hash,
		  bool fresh, int64_t now)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db,
		       "INSERT INTO cve (id, title, description, published, modified, cvss_vector,"
		       " cvss_score, cvss_severity, cvss_rationale, rejected, source, record_hash,"
		       " synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		       " ON CONFLICT (id) DO UPDATE SET title = excluded.title,"
		       " description = excluded.description,"
		       " published = CASE WHEN cve.published = 0 OR (excluded.published <> 0 AND"
		       "   excluded.published < cve.published) THEN excluded.published"
		       "   ELSE cve.published END,"
		       " modified = CASE WHEN excluded.modified > cve.modified THEN excluded.modified"
		       "   ELSE cve.modified END,"
		       " cvss_vector = excluded.cvss_vector, cvss_score = excluded.cvss_score,"
		       " cvss_severity = excluded.cvss_severity,"
		       " cvss_rationale = excluded.cvss_rationale, rejected = excluded.rejected,"
		       " source = excluded.source, record_hash = excluded.record_hash,"
		       " synced_at = excluded.synced_at",
		       &s);
	if (r < 0)
		return r;
	if ((r = db_bind_text(s, 1, rec->id)) < 0 || (r = bind_text_or_null(s, 2, rec->title)) < 0 ||
	    (r = bind_text_or_null(s, 3, rec->description)) < 0 ||
	    (r = db_bind_int64(s, 4, rec->published)) < 0 ||
	    (r = db_bind_int64(s, 5, rec->modified)) < 0 ||
	    (r = bind_text_or_null(s, 6, rec->cvss_vector)) < 0 ||
	    (r = rec->cvss_vector ? db_bind_double(s, 7, rec->cvss_score) : db_bind_null(s, 7)) < 0 ||
	    (r = bind_text_or_null(s, 8, rec->cvss_severity)) < 0 ||
	    (r = bind_text_or_null(s, 9, rec->cvss_rationale)) < 0 ||
	    (r = db_bind_int64(s, 10, rec->rejected)) < 0 ||
	    (r = db_bind_text(s, 11, rec->source ? rec->source : "vulns")) < 0 ||
	    (r = bind_text_or_null(s, 12, record_hash)) < 0 || (r = db_bind_int64(s, 13, now)) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	if (r < 0)
		return r;

	if (!fresh && (r = delete_children(db, rec->id)) < 0)
		return r;
	if ((r = put_strv(db, "INSERT INTO cve_fix_commit (cve_id, seq, sha) VALUES (?, ?, ?)",
			  rec->id, rec->fix_commits)) < 0 ||
	    (r = put_strv(db,
			  "INSERT INTO cve_vulnerable_commit (cve_id, seq, sha) VALUES (?, ?, ?)",
			  rec->id, rec->vulnerable_commits)) < 0 ||
	    (r = put_strv(db, "INSERT INTO cve_reference (cve_id, seq, url) VALUES (?, ?, ?)",
			  rec->id, rec->references)) < 0)
		return r;

	if (rec->program_files) {
		r = db_prepare(db, "INSERT INTO cve_file (cve_id, path) VALUES (?, ?)", &s);
		if (r < 0)
			return r;
		for (char **f = rec->program_files; *f; f++) {
			if ((r = db_bind_text(s, 1, rec->id)) < 0 || (r = db_bind_text(s, 2, *f)) < 0)
				return r;
			r = db_step(s);
			db_stmt_reset(s);
			if (r < 0)
				return r;
		}
	}

	if (rec->n_pairs) {
		r = db_prepare(db,
			       "INSERT INTO cve_pair (cve_id, seq, introduced_version,"
			       " introduced_commit, fixed_version, fixed_commit)"
			       " VALUES (?, ?, ?, ?, ?, ?)",
			       &s);
		if (r < 0)
			return r;
		for (size_t i = 0; i < rec->n_pairs; i++) {
			const struct cve_pair *p = &rec->pairs[i];

			if ((r = db_bind_text(s, 1, rec->id)) < 0 ||
			    (r = db_bind_int64(s, 2, (int64_t)i)) < 0 ||
			    (r = bind_text_or_null(s, 3, p->introduced_version)) < 0 ||
			    (r = bind_text_or_null(s, 4, p->introduced_commit)) < 0 ||
			    (r = bind_text_or_null(s, 5, p->fixed_version)) < 0 ||
			    (r = bind_text_or_null(s, 6, p->fixed_commit)) < 0)
				return r;
			r = db_step(s);
			db_stmt_reset(s);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int cve_store_delete(struct db *db, const char *id)
{
	int r = delete_children(db, id);

	if (r < 0)
		return r;
	return run(db, "DELETE FROM cve WHERE id = ?", id, NULL);
}

int cve_store_get_hash(struct db *db, const char *id, char **ret)
{
	struct db_stmt *s;
	int r;

	*ret = NULL;
	r = db_prepare(db, "SELECT record_hash FROM cve WHERE id = ?", &s);
	if (r < 0)
		return r;
	if ((r = db_bind_text(s, 1, id)) < 0)
		return r;
	r = db_step(s);
	if (r > 0 && !db_column_is_null(s, 0)) {
		*ret = strdup(db_column_text(s, 0));
		if (!*ret)
			r = -ENOMEM;
	}
	db_stmt_reset(s);
	return r;
}

int cve_store_set_dates(struct db *db, const char *id, int64_t published, int64_t modified)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db,
		       "UPDATE cve SET published = CASE WHEN published = 0 OR (? <> 0 AND ? < published)"
		       " THEN ? ELSE published END,"
		       " modified = CASE WHEN ? > modified THEN ? ELSE modified END WHERE id = ?",
		       &s);
	if (r < 0)
		return r;
	if ((r = db_bind_int64(s, 1, published)) < 0 || (r = db_bind_int64(s, 2, published)) < 0 ||
	    (r = db_bind_int64(s, 3, published)) < 0 || (r = db_bind_int64(s, 4, modified)) < 0 ||
	    (r = db_bind_int64(s, 5, modified)) < 0 || (r = db_bind_text(s, 6, id)) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	return r < 0 ? r : 0;
}

int64_t cve_store_count(struct db *db, bool include_rejected)
{
	struct db_stmt *s;
	int64_t n;
	int r;

	r = db_prepare(db,
		       include_rejected ? "SELECT COUNT(*) FROM cve"
					: "SELECT COUNT(*) FROM cve WHERE rejected = 0",
		       &s);
	if (r < 0)
		return r;
	r = db_step(s);
	n = r > 0 ? db_column_int64(s, 0) : r;
	db_stmt_reset(s);
	return n;
}

int sync_state_get(struct db *db, const char *source, char **ret_commit, char **ret_location)
{
	struct db_stmt *s;
	int r;

	if (ret_commit)
		*ret_commit = NULL;
	if (ret_location)
		*ret_location = NULL;
	r = db_prepare(db, "SELECT commit_id, location FROM sync_state WHERE source = ?", &s);
	if (r < 0)
		return r;
	if ((r = db_bind_text(s, 1, source)) < 0)
		return r;
	r = db_step(s);
	if (r > 0) {
		if (ret_commit && !db_column_is_null(s, 0))
			*ret_commit = strdup(db_column_text(s, 0));
		if (ret_location && !db_column_is_null(s, 1))
			*ret_location = strdup(db_column_text(s, 1));
	}
	db_stmt_reset(s);
	return r < 0 ? r : 0;
}

int sync_state_set(struct db *db, const char *source, const char *commit, const char *location,
		   int64_t now)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db,
		       "INSERT INTO sync_state (source, location, commit_id, synced_at)"
		       " VALUES (?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET"
		       " location = excluded.location, commit_id = excluded.commit_id,"
		       " synced_at = excluded.synced_at",
		       &s);
	if (r < 0)
		return r;
	if ((r = db_bind_text(s, 1, source)) < 0 || (r = bind_text_or_null(s, 2, location)) < 0 ||
	    (r = bind_text_or_null(s, 3, commit)) < 0 || (r = db_bind_int64(s, 4, now)) < 0)
		return r;
	r = db_step(s);
	db_stmt_reset(s);
	return r < 0 ? r : 0;
}

static char *col_dup(struct db_stmt *s, int col)
{
	return db_column_is_null(s, col) ? NULL : strdup(db_column_text(s, col));
}

static int load_strv(struct db *db, const char *sql, const char *id, char ***ret)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, sql, &s);
	if (r < 0)
		return r;
	if ((r = db_bind_text(s, 1, id)) < 0)
		return r;
	while ((r = db_step(s)) > 0)
		if (strv_push(ret, db_column_text(s, 0)) < 0) {
			r = -ENOMEM;
			break;
		}
	db_stmt_reset(s);
	return r;
}

int cve_store_load(struct db *db, const char *id, struct cve_record **ret)
{
	_cleanup_(cve_record_freep) struct cve_record *rec = NULL;
	struct db_stmt *s;
	int r;

	r = db_prepare(db,
		       "SELECT id, title, description, published, modified, cvss_vector, cvss_score,"
		       " cvss_severity, cvss_rationale, rejected, source FROM cve WHERE id = ?",
		       &s);
	if (r < 0)
		return r;
	if ((r = db_bind_text(s, 1, id)) < 0)
		return r;
	r = db_step(s);
	if (r <= 0) {
		db_stmt_reset(s);
		return r < 0 ? r : -ENOENT;
	}
	rec = cve_record_new(db_column_text(s, 0));
	if (!rec) {
		db_stmt_reset(s);
		return -ENOMEM;
	}
	rec->title = col_dup(s, 1);
	rec->description = col_dup(s, 2);
	rec->published = db_column_int64(s, 3);
	rec->modified = db_column_int64(s, 4);
	rec->cvss_vector = col_dup(s, 5);
	rec->cvss_score = db_column_is_null(s, 6) ? -1 : db_column_double(s, 6);
	rec->cvss_severity = col_dup(s, 7);
	rec->cvss_rationale = col_dup(s, 8);
	rec->rejected = db_column_int64(s, 9) != 0;
	rec->source = col_dup(s, 10);
	db_stmt_reset(s);

	if ((r = load_strv(db, "SELECT sha FROM cve_fix_commit WHERE cve_id = ? ORDER BY seq", id,
			   &rec->fix_commits)) < 0 ||
	    (r = load_strv(db,
			   "SELECT sha FROM cve_vulnerable_commit WHERE cve_id = ? ORDER BY seq",
			   id, &rec->vulnerable_commits)) < 0 ||
	    (r = load_strv(db, "SELECT path FROM cve_file WHERE cve_id = ? ORDER BY path", id,
			   &rec->program_files)) < 0 ||
	    (r = load_strv(db, "SELECT url FROM cve_reference WHERE cve_id = ? ORDER BY seq", id,
			   &rec->references)) < 0)
		return r;

	r = db_prepare(db,
		       "SELECT introduced_version, introduced_commit, fixed_version, fixed_commit"
		       " FROM cve_pair WHERE cve_id = ? ORDER BY seq",
		       &s);
	if (r < 0)
		return r;
	if ((r = db_bind_text(s, 1, id)) < 0)
		return r;
	while ((r = db_step(s)) > 0) {
		const char *v[4];

		for (int i = 0; i < 4; i++)
			v[i] = db_column_is_null(s, i) ? NULL : db_column_text(s, i);
		r = cve_record_add_pair(rec, v[0], v[1], v[2], v[3]);
		if (r < 0)
			break;
	}
	db_stmt_reset(s);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(rec);
	return 0;
}

int cve_store_list(struct db *db, const struct cve_filter *f, cve_summary_fn fn, void *userdata)
{
	_cleanup_strbuf_ struct strbuf sql;
	struct db_stmt *s;
	int r, idx = 1;

	strbuf_init(&sql, 0);
	r = strbuf_adds(&sql,
			"SELECT c.id, c.title, c.published, c.modified, c.cvss_score,"
			" c.cvss_severity, c.rejected, k.cve_id, e.score"
			" FROM cve c LEFT JOIN kev k ON k.cve_id = c.id"
			" LEFT JOIN epss e ON e.cve_id = c.id WHERE 1 = 1");
	if (r == 0 && !f->include_rejected)
		r = strbuf_adds(&sql, " AND c.rejected = 0");
	if (r == 0 && f->since)
		r = strbuf_adds(&sql, " AND (c.published >= ? OR c.modified >= ?)");
	if (r == 0 && f->file)
		r = strbuf_adds(&sql,
				f->file[strlen(f->file) - 1] == '/'
					? " AND c.id IN (SELECT cve_id FROM cve_file WHERE"
					  " substr(path, 1, ?) = ?)"
					: " AND c.id IN (SELECT cve_id FROM cve_file WHERE path = ?)");
	/* Newest first; ids sort by year then number when compared by length first. */
	if (r == 0)
		r = strbuf_adds(&sql, " ORDER BY c.published DESC, length(c.id) DESC, c.id DESC");
	if (r == 0 && f->limit > 0)
		r = strbuf_addf(&sql, " LIMIT %d", f->limit);
	if (r < 0)
		return r;

	r = db_prepare(db, sql.buf, &s);
	if (r < 0)
		return r;
	if (f->since) {
		if ((r = db_bind_int64(s, idx++, f->since)) < 0 ||
		    (r = db_bind_int64(s, idx++, f->since)) < 0)
			return r;
	}
	if (f->file) {
		if (f->file[strlen(f->file) - 1] == '/' &&
		    (r = db_bind_int64(s, idx++, (int64_t)strlen(f->file))) < 0)
			return r;
		if ((r = db_bind_text(s, idx++, f->file)) < 0)
			return r;
	}
	while ((r = db_step(s)) > 0) {
		struct cve_summary sum = {
			.id = db_column_text(s, 0),
			.title = db_column_is_null(s, 1) ? "" : db_column_text(s, 1),
			.published = db_column_int64(s, 2),
			.modified = db_column_int64(s, 3),
			.cvss_score = db_column_is_null(s, 4) ? -1 : db_column_double(s, 4),
			.cvss_severity = db_column_is_null(s, 5) ? NULL : db_column_text(s, 5),
			.rejected = db_column_int64(s, 6) != 0,
			.kev = !db_column_is_null(s, 7),
			.epss = db_column_is_null(s, 8) ? -1 : db_column_double(s, 8),
		};

		r = fn(&sum, userdata);
		if (r < 0)
			break;
	}
	db_stmt_reset(s);
	return r < 0 ? r : 0;
}

/* Order of ids shared by the three streams: byte order, which both backends give with COLLATE "C". */
int cve_store_foreach_brief(struct db *db, cve_record_fn fn, void *userdata)
{
	struct db_stmt *cs, *ps, *fs;
	int r, pr, fr;

	r = db_prepare(db,
		       db_backend(db) == DB_BACKEND_POSTGRESQL
			       ? "SELECT id, title, published, cvss_vector, cvss_score, cvss_severity"
				 " FROM cve WHERE rejected = 0 ORDER BY id COLLATE \"C\""
			       : "SELECT id, title, published, cvss_vector, cvss_score, cvss_severity"
				 " FROM cve WHERE rejected = 0 ORDER BY id",
		       &cs);
	if (r < 0)
		return r;
	r = db_prepare(db,
		       db_backend(db) == DB_BACKEND_POSTGRESQL
			       ? "SELECT cve_id, introduced_version, introduced_commit, fixed_version,"
				 " fixed_commit FROM cve_pair ORDER BY cve_id COLLATE \"C\", seq"
			       : "SELECT cve_id, introduced_version, introduced_commit, fixed_version,"
				 " fixed_commit FROM cve_pair ORDER BY cve_id, seq",
		       &ps);
	if (r < 0)
		return r;
	r = db_prepare(db,
		       db_backend(db) == DB_BACKEND_POSTGRESQL
			       ? "SELECT cve_id, path FROM cve_file ORDER BY cve_id COLLATE \"C\", path"
			       : "SELECT cve_id, path FROM cve_file ORDER BY cve_id, path",
		       &fs);
	if (r < 0)
		return r;

	pr = db_step(ps);
	fr = db_step(fs);
	while (pr >= 0 && fr >= 0 && (r = db_step(cs)) > 0) {
		_cleanup_(cve_record_freep) struct cve_record *rec = cve_record_new(db_column_text(cs, 0));

		if (!rec) {
			r = -ENOMEM;
			break;
		}
		rec->title = col_dup(cs, 1);
		rec->published = db_column_int64(cs, 2);
		rec->cvss_vector = col_dup(cs, 3);
		rec->cvss_score = db_column_is_null(cs, 4) ? -1 : db_column_double(cs, 4);
		rec->cvss_severity = col_dup(cs, 5);
		/* Child rows of ids without a cve row (rejected ones) are skipped on the way. */
		while (pr > 0 && strcmp(db_column_text(ps, 0), rec->id) < 0)
			pr = db_step(ps);
		while (pr > 0 && streq(db_column_text(ps, 0), rec->id)) {
			const char *v[4];

			for (int i = 0; i < 4; i++)
				v[i] = db_column_is_null(ps, i + 1) ? NULL : db_column_text(ps, i + 1);
			r = cve_record_add_pair(rec, v[0], v[1], v[2], v[3]);
			if (r < 0)
				break;
			pr = db_step(ps);
		}
		while (r >= 0 && fr > 0 && strcmp(db_column_text(fs, 0), rec->id) < 0)
			fr = db_step(fs);
		while (r >= 0 && fr > 0 && streq(db_column_text(fs, 0), rec->id)) {
			if (strv_push(&rec->program_files, db_column_text(fs, 1)) < 0) {
				r = -ENOMEM;
				break;
			}
			fr = db_step(fs);
		}
		if (r < 0)
			break;
		r = fn(rec, userdata);
		if (r < 0)
			break;
	}
	if (r >= 0 && pr < 0)
		r = pr;
	if (r >= 0 && fr < 0)
		r = fr;
	db_stmt_reset(cs);
	db_stmt_reset(ps);
	db_stmt_reset(fs);
	return r < 0 ? r : 0;
}
