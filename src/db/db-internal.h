/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Private to src/db: the backend vtable, the generic parts of the handle and
 * statement that db.c manages, and the dialect helpers of db-dialect.c.
 *
 * A backend embeds struct db / struct db_stmt as the first member of its own
 * structures and gets back to them with container_of().  db.c owns the
 * statement cache, the transaction state and the error text; a backend only
 * talks to its library and reports failures through db_set_errmsg().
 */
#ifndef TUXTAPE_DB_INTERNAL_H
#define TUXTAPE_DB_INTERNAL_H

#include <stddef.h>

#include "db.h"
#include "macro.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

enum db_stmt_state {
	DB_STMT_IDLE,    /* bindable, not executed since the last reset */
	DB_STMT_ROW,     /* a row is available */
	DB_STMT_DONE,    /* finished or failed; the next bind or step resets it */
};

struct db_stmt {
	struct db *db;
	char *sql;            /* cache key: the text as the caller wrote it (owned) */
	size_t hash;
	struct db_stmt *next; /* cache bucket chain */
	enum db_stmt_state state;
};

struct db_ops {
	/*
	 * Connects to target (a path or a libpq conninfo URI) and returns a
	 * handle with ops and backend set.  On failure *reterr_msg may be set to
	 * a malloc'ed description.
	 */
	int (*open)(const char *target, struct db **ret, char **reterr_msg);
	/* Disconnects and frees db; db.c has finalized every statement before. */
	void (*close)(struct db *db);

	int (*exec)(struct db *db, const char *sql);
	int (*begin)(struct db *db);
	/* On failure the transaction is left for the caller to roll back. */
	int (*commit)(struct db *db);
	int (*rollback)(struct db *db);

	/* sql uses '?' placeholders; the backend rewrites as its dialect needs. */
	int (*prepare)(struct db *db, const char *sql, struct db_stmt **ret);
	/* Frees s; only db_close() calls it, so server-side state goes with the connection. */
	void (*finalize)(struct db_stmt *s);

	int (*bind_text)(struct db_stmt *s, int idx, const char *v);
	int (*bind_int64)(struct db_stmt *s, int idx, int64_t v);
	int (*bind_double)(struct db_stmt *s, int idx, double v);
	int (*bind_null)(struct db_stmt *s, int idx);

	/* 1 row, 0 done, negative errno. */
	int (*step)(struct db_stmt *s);
	/* Drops results; with clear_bindings also sets every parameter to NULL. */
	void (*reset)(struct db_stmt *s, bool clear_bindings);

	bool (*column_is_null)(struct db_stmt *s, int col);
	const char *(*column_text)(struct db_stmt *s, int col);
	int64_t (*column_int64)(struct db_stmt *s, int col);
	double (*column_double)(struct db_stmt *s, int col);
	int (*column_count)(struct db_stmt *s);
	int64_t (*changes)(struct db_stmt *s);
};

struct db {
	const struct db_ops *ops;
	enum db_backend backend;
	char *errmsg;
	int schema_version;
	bool in_transaction;
	/* First failure inside the current transaction; it poisons the rest of it. */
	int txn_error;

	struct db_stmt **buckets;
	size_t n_buckets;
	size_t n_stmts;
};

extern const struct db_ops db_sqlite_ops;
extern const struct db_ops db_pg_ops;

/* Replaces the handle's error text; a trailing newline is dropped.  Returns error. */
int db_set_errmsg(struct db *db, int error, const char *fmt, ...) _printf_(3, 4);

/*
 * Rewrites '?' placeholders to $1..$n, leaving '?' inside string literals,
 * quoted identifiers and comments alone.  *ret is malloc'ed, *ret_n is the
 * number of placeholders.  -ENOMEM only.
 */
int db_dialect_number_placeholders(const char *sql, char **ret, int *ret_n);

/* False when sql holds more than one statement (a trailing ';' is fine). */
bool db_dialect_is_single_statement(const char *sql);

/* The statement that opens a write transaction. */
const char *db_dialect_begin_sql(enum db_backend backend);

/* A query returning one row when the schema_version table exists, none otherwise. */
const char *db_dialect_schema_table_exists_sql(enum db_backend backend);

/*
 * A statement that serializes migrations between processes for the rest of
 * the transaction, or NULL when the BEGIN already takes the write lock.
 */
const char *db_dialect_migration_lock_sql(enum db_backend backend);

#endif
