/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SQLite backend.  WAL lets the server read while a sync writes; with WAL,
 * synchronous=NORMAL can lose the last commits on power loss but never
 * corrupts, which is the right trade for data we can fetch again.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "db-internal.h"
#include "fileio.h"

/* Long enough for a concurrent CVE sync to commit a batch, short enough to notice a hang. */
#define BUSY_TIMEOUT_MS 10000

struct sqlite_db {
	struct db base;
	sqlite3 *handle;
};

struct sqlite_stmt {
	struct db_stmt base;
	sqlite3_stmt *stmt;
	int64_t changes;
};

static struct sqlite_db *to_sdb(struct db *db)
{
	return container_of(db, struct sqlite_db, base);
}

static struct sqlite_stmt *to_sst(struct db_stmt *s)
{
	return container_of(s, struct sqlite_stmt, base);
}

static int map_error(sqlite3 *h, int rc)
{
	int e;

	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
		if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		return -EIO;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_RANGE:
		return -ERANGE;
	case SQLITE_CANTOPEN:
	case SQLITE_IOERR:
		/* The OS error says more than SQLite's code (ENOENT, EACCES, ENOTDIR ...). */
		e = h ? sqlite3_system_errno(h) : 0;
		return e > 0 ? -e : -EIO;
	default:
		return -EIO;
	}
}

static int fail(struct db *db, int rc)
{
	sqlite3 *h = to_sdb(db)->handle;

	return db_set_errmsg(db, map_error(h, rc), "%s", sqlite3_errmsg(h));
}

static int exec_sql(sqlite3 *h, const char *sql)
{
	return sqlite3_exec(h, sql, NULL, NULL, NULL);
}

static int create_parent_dir(const char *path)
{
	_cleanup_free_ char *dir = strdup(path);
	char *slash;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	return mkdir_p(dir, 0755);
}

static int sqlite_open(const char *path, struct db **ret, char **reterr_msg)
{
	_cleanup_free_ struct sqlite_db *d = NULL;
	sqlite3 *h = NULL;
	int rc, r;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (!streq(path, ":memory:")) {
		r = create_parent_dir(path);
		if (r < 0) {
			if (asprintf(reterr_msg, "cannot create the directory of '%s': %s", path,
				     strerror(-r)) < 0)
				*reterr_msg = NULL;
			return r;
		}
	}

	rc = sqlite3_open_v2(path, &h,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
				     SQLITE_OPEN_EXRESCODE,
			     NULL);
	if (rc == SQLITE_OK) {
		sqlite3_extended_result_codes(h, 1);
		sqlite3_busy_timeout(h, BUSY_TIMEOUT_MS);
		/*
		 * journal_mode reports the mode it ended up in; ":memory:" stays
		 * "memory", which is fine, so the answer is not checked here.
		 */
		rc = exec_sql(h, "PRAGMA journal_mode = WAL;"
				 "PRAGMA synchronous = NORMAL;"
				 "PRAGMA foreign_keys = ON");
	}
	if (rc != SQLITE_OK) {
		r = map_error(h, rc);
		if (asprintf(reterr_msg, "cannot open SQLite database '%s': %s", path,
			     h ? sqlite3_errmsg(h) : sqlite3_errstr(rc)) < 0)
			*reterr_msg = NULL;
		sqlite3_close_v2(h);
		return r;
	}

	d->handle = h;
	d->base.ops = &db_sqlite_ops;
	d->base.backend = DB_BACKEND_SQLITE;
	*ret = &TAKE_PTR(d)->base;
	return 0;
}

static void sqlite_close(struct db *db)
{
	struct sqlite_db *d = to_sdb(db);

	sqlite3_close_v2(d->handle);
	free(d);
}

static int sqlite_exec(struct db *db, const char *sql)
{
	int rc = exec_sql(to_sdb(db)->handle, sql);

	return rc == SQLITE_OK ? 0 : fail(db, rc);
}

static int sqlite_begin(struct db *db)
{
	return sqlite_exec(db, db_dialect_begin_sql(DB_BACKEND_SQLITE));
}

static int sqlite_commit(struct db *db)
{
	return sqlite_exec(db, "COMMIT");
}

static int sqlite_rollback(struct db *db)
{
	return sqlite_exec(db, "ROLLBACK");
}

static int sqlite_prepare(struct db *db, const char *sql, struct db_stmt **ret)
{
	_cleanup_free_ struct sqlite_stmt *s = NULL;
	int rc;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	/* PERSISTENT: cached statements live as long as the handle, keep them off the lookaside. */
	rc = sqlite3_prepare_v3(to_sdb(db)->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->stmt,
				NULL);
	if (rc != SQLITE_OK)
		return fail(db, rc);
	if (!s->stmt)
		return db_set_errmsg(db, -EINVAL, "empty SQL statement");
	*ret = &TAKE_PTR(s)->base;
	return 0;
}

static void sqlite_finalize(struct db_stmt *s)
{
	struct sqlite_stmt *ss = to_sst(s);

	sqlite3_finalize(ss->stmt);
	free(ss);
}

static int bind_result(struct db_stmt *s, int rc)
{
	return rc == SQLITE_OK ? 0 : fail(s->db, rc);
}

static int sqlite_bind_text(struct db_stmt *s, int idx, const char *v)
{
	return bind_result(s, sqlite3_bind_text(to_sst(s)->stmt, idx, v, -1, SQLITE_TRANSIENT));
}

static int sqlite_bind_int64(struct db_stmt *s, int idx, int64_t v)
{
	return bind_result(s, sqlite3_bind_int64(to_sst(s)->stmt, idx, v));
}

static int sqlite_bind_double(struct db_stmt *s, int idx, double v)
{
	return bind_result(s, sqlite3_bind_double(to_sst(s)->stmt, idx, v));
}

static int sqlite_bind_null(struct db_stmt *s, int idx)
{
	return bind_result(s, sqlite3_bind_null(to_sst(s)->stmt, idx));
}

static int sqlite_step(struct db_stmt *s)
{
	struct sqlite_stmt *ss = to_sst(s);
	int rc;

	rc = sqlite3_step(ss->stmt);
	if (rc == SQLITE_ROW)
		return 1;
	if (rc != SQLITE_DONE)
		return fail(s->db, rc);
	/* sqlite3_changes64() keeps the count of the last writer, which a SELECT is not. */
	ss->changes = sqlite3_stmt_readonly(ss->stmt) ? 0
						      : sqlite3_changes64(to_sdb(s->db)->handle);
	return 0;
}

static void sqlite_reset(struct db_stmt *s, bool clear_bindings)
{
	struct sqlite_stmt *ss = to_sst(s);

	/* Returns the error of the last step again, which was already reported. */
	(void)sqlite3_reset(ss->stmt);
	if (clear_bindings)
		sqlite3_clear_bindings(ss->stmt);
}

static bool sqlite_column_is_null(struct db_stmt *s, int col)
{
	return sqlite3_column_type(to_sst(s)->stmt, col) == SQLITE_NULL;
}

static const char *sqlite_column_text(struct db_stmt *s, int col)
{
	return (const char *)sqlite3_column_text(to_sst(s)->stmt, col);
}

static int64_t sqlite_column_int64(struct db_stmt *s, int col)
{
	return sqlite3_column_int64(to_sst(s)->stmt, col);
}

static double sqlite_column_double(struct db_stmt *s, int col)
{
	return sqlite3_column_double(to_sst(s)->stmt, col);
}

static int sqlite_column_count(struct db_stmt *s)
{
	return sqlite3_column_count(to_sst(s)->stmt);
}

static int64_t sqlite_changes(struct db_stmt *s)
{
	return to_sst(s)->changes;
}

const struct db_ops db_sqlite_ops = {
	.open = sqlite_open,
	.close = sqlite_close,
	.exec = sqlite_exec,
	.begin = sqlite_begin,
	.commit = sqlite_commit,
	.rollback = sqlite_rollback,
	.prepare = sqlite_prepare,
	.finalize = sqlite_finalize,
	.bind_text = sqlite_bind_text,
	.bind_int64 = sqlite_bind_int64,
	.bind_double = sqlite_bind_double,
	.bind_null = sqlite_bind_null,
	.step = sqlite_step,
	.reset = sqlite_reset,
	.column_is_null = sqlite_column_is_null,
	.column_text = sqlite_column_text,
	.column_int64 = sqlite_column_int64,
	.column_double = sqlite_column_double,
	.column_count = sqlite_column_count,
	.changes = sqlite_changes,
};
