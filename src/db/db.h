/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The database layer: one interface over SQLite (the embedded default, WAL
 * mode) and PostgreSQL (libpq, chosen by a "postgresql://" or "postgres://"
 * URL).  SQL is written once with '?' placeholders; the PostgreSQL backend
 * rewrites them to $1..$n.  Dialect differences live in db-dialect.c only.
 *
 * The schema is versioned: db_open() applies every pending migration, each in
 * its own transaction, and records it in the schema_version table.
 *
 * Errors: negative errno.  -ECONNREFUSED/-EHOSTUNREACH when a server cannot be
 * reached, -EBUSY on lock contention that outlived the busy timeout,
 * -EEXIST on a unique-constraint violation, -EIO for other SQL errors.  The
 * last error text of a handle is kept for the caller to log (db_errmsg()).
 *
 * Not thread-safe: one handle per thread.
 */
#ifndef TUXTAPE_DB_H
#define TUXTAPE_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

enum db_backend {
	DB_BACKEND_SQLITE,
	DB_BACKEND_POSTGRESQL,
};

struct db;
struct db_stmt;

/*
 * url: a file path or "sqlite:PATH" for SQLite, "postgresql://..." for
 * PostgreSQL (an empty "postgresql://" lets libpq use PG* environment
 * variables).  Creates the SQLite file and its parent directory if missing.
 * Applies migrations.  Returns 0 and sets *ret.
 */
int db_open(const char *url, struct db **ret);
/*
 * As db_open(); on failure, when reterr_msg is not NULL, *reterr_msg is set to
 * a malloc'ed description for the caller to log (libpq's connection error,
 * the failed migration, a schema newer than this program) or to NULL.
 */
int db_open_full(const char *url, struct db **ret, char **reterr_msg);
struct db *db_close(struct db *db);
DEFINE_CLEANUP_FUNC(struct db, db_close)

enum db_backend db_backend(const struct db *db);
const char *db_errmsg(const struct db *db);
/* Version of the newest applied migration. */
int db_schema_version(struct db *db);

/* Runs SQL without parameters or results (DDL, several statements allowed). */
int db_exec(struct db *db, const char *sql);

int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);

/*
 * Prepares a statement with '?' placeholders.  Statements are cached per
 * handle by SQL text, so preparing the same SQL in a loop is cheap.
 * The statement belongs to db and stays valid until db_close().
 */
int db_prepare(struct db *db, const char *sql, struct db_stmt **ret);

/* Bind parameters, 1-based.  Text is copied. */
int db_bind_text(struct db_stmt *s, int idx, const char *v);
int db_bind_int64(struct db_stmt *s, int idx, int64_t v);
int db_bind_double(struct db_stmt *s, int idx, double v);
int db_bind_null(struct db_stmt *s, int idx);

/*
 * Executes (first call) or advances.  Returns 1 when a row is available,
 * 0 when done, negative errno on failure.  A finished statement is reset
 * automatically by the next bind or step after db_stmt_reset().
 */
int db_step(struct db_stmt *s);
/* Clears results and bindings so the statement can run again. */
void db_stmt_reset(struct db_stmt *s);

/* Column accessors for the current row, 0-based.  Text is valid until the next step/reset. */
bool db_column_is_null(struct db_stmt *s, int col);
const char *db_column_text(struct db_stmt *s, int col);
int64_t db_column_int64(struct db_stmt *s, int col);
double db_column_double(struct db_stmt *s, int col);
int db_column_count(struct db_stmt *s);

/* Rows changed by the last INSERT/UPDATE/DELETE run through s. */
int64_t db_changes(struct db_stmt *s);

#endif
