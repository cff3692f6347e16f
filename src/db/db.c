/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The backend-independent half of the database layer: URL parsing, the
 * statement cache, transaction bookkeeping and schema migrations.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db-internal.h"
#include "migrations.h"

int db_set_errmsg(struct db *db, int error, const char *fmt, ...)
{
	va_list ap;
	char *msg;
	size_t len;
	int r;

	va_start(ap, fmt);
	r = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (r < 0)
		msg = NULL;
	else {
		/* libpq and our callers' log helpers each add their own newline. */
		len = strlen(msg);
		while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
			msg[--len] = '\0';
	}
	free(db->errmsg);
	db->errmsg = msg;
	return error;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* A "scheme://" we do not know is a typo, not a relative path to create. */
static bool looks_like_url(const char *s)
{
	const char *p = s;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
	       *p == '+' || *p == '-' || *p == '.')
		p++;
	return p > s && has_prefix(p, "://");
}

static int parse_url(const char *url, enum db_backend *ret_backend, const char **ret_target)
{
	const char *target = url;
	enum db_backend backend = DB_BACKEND_SQLITE;

	if (strempty(url))
		return -EINVAL;
	if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://"))
		backend = DB_BACKEND_POSTGRESQL;
	else if (has_prefix(url, "sqlite://"))
		target = url + strlen("sqlite://");
	else if (has_prefix(url, "sqlite:"))
		target = url + strlen("sqlite:");
	else if (looks_like_url(url))
		return -EINVAL;
	if (!*target)
		return -EINVAL;
	*ret_backend = backend;
	*ret_target = target;
	return 0;
}

/* FNV-1a: statement texts are short and few, a simple hash is plenty. */
static size_t hash_sql(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return (size_t)h;
}

static struct db_stmt *cache_find(struct db *db, const char *sql, size_t h)
{
	struct db_stmt *s;

	if (!db->n_buckets)
		return NULL;
	for (s = db->buckets[h & (db->n_buckets - 1)]; s; s = s->next)
		if (s->hash == h && streq(s->sql, sql))
			return s;
	return NULL;
}

static int cache_add(struct db *db, struct db_stmt *s)
{
	struct db_stmt **b, *t, *next;
	size_t n, i;

	if (db->n_stmts >= db->n_buckets) {
		n = db->n_buckets ? db->n_buckets * 2 : 16;
		b = calloc(n, sizeof(*b));
		if (!b)
			return -ENOMEM;
		for (i = 0; i < db->n_buckets; i++)
			for (t = db->buckets[i]; t; t = next) {
				next = t->next;
				t->next = b[t->hash & (n - 1)];
				b[t->hash & (n - 1)] = t;
			}
		free(db->buckets);
		db->buckets = b;
		db->n_buckets = n;
	}
	s->next = db->buckets[s->hash & (db->n_buckets - 1)];
	db->buckets[s->hash & (db->n_buckets - 1)] = s;
	db->n_stmts++;
	return 0;
}

/* Rolls back while keeping the error text of the failure that made us do it. */
static void rollback_keep_errmsg(struct db *db)
{
	char *saved;

	if (!db->in_transaction)
		return;
	saved = TAKE_PTR(db->errmsg);
	(void)db->ops->rollback(db);
	free(db->errmsg);
	db->errmsg = saved;
	db->in_transaction = false;
	db->txn_error = 0;
}

/* A failure inside a transaction poisons it: PostgreSQL has aborted it anyway. */
static int note_error(struct db *db, int r)
{
	if (r < 0 && db->in_transaction && !db->txn_error)
		db->txn_error = r;
	return r;
}

enum db_backend db_backend(const struct db *db)
{
	return db->backend;
}

const char *db_errmsg(const struct db *db)
{
	return db && db->errmsg ? db->errmsg : "";
}

int db_schema_version(struct db *db)
{
	return db->schema_version;
}

int db_exec(struct db *db, const char *sql)
{
	if (db->in_transaction && db->txn_error)
		return db->txn_error;
	return note_error(db, db->ops->exec(db, sql));
}

int db_begin(struct db *db)
{
	int r;

	if (db->in_transaction)
		return db_set_errmsg(db, -EALREADY, "a transaction is already in progress");
	r = db->ops->begin(db);
	if (r < 0)
		return r;
	db->in_transaction = true;
	db->txn_error = 0;
	return 0;
}

int db_commit(struct db *db)
{
	int r;

	if (!db->in_transaction)
		return db_set_errmsg(db, -EINVAL, "no transaction in progress");
	r = db->txn_error;
	if (r >= 0)
		r = db->ops->commit(db);
	if (r < 0) {
		rollback_keep_errmsg(db);
		return r;
	}
	db->in_transaction = false;
	return 0;
}

int db_rollback(struct db *db)
{
	int r;

	/* Lets error paths roll back unconditionally. */
	if (!db->in_transaction)
		return 0;
	r = db->ops->rollback(db);
	db->in_transaction = false;
	db->txn_error = 0;
	return r;
}

int db_prepare(struct db *db, const char *sql, struct db_stmt **ret)
{
	size_t h = hash_sql(sql);
	struct db_stmt *s;
	int r;

	if (db->in_transaction && db->txn_error)
		return db->txn_error;
	s = cache_find(db, sql, h);
	if (s) {
		/* The caller expects a fresh statement, whatever the last user left behind. */
		db->ops->reset(s, true);
		s->state = DB_STMT_IDLE;
		*ret = s;
		return 0;
	}

	/* PostgreSQL cannot prepare several statements as one; SQLite would run only the first. */
	if (!db_dialect_is_single_statement(sql))
		return db_set_errmsg(db, -EINVAL, "more than one SQL statement in '%s'", sql);
	r = db->ops->prepare(db, sql, &s);
	if (r < 0)
		return note_error(db, r);
	s->db = db;
	s->hash = h;
	s->state = DB_STMT_IDLE;
	s->sql = strdup(sql);
	if (!s->sql || cache_add(db, s) < 0) {
		free(s->sql);
		db->ops->finalize(s);
		return -ENOMEM;
	}
	*ret = s;
	return 0;
}

static void prepare_bind(struct db_stmt *s)
{
	if (s->state != DB_STMT_IDLE) {
		s->db->ops->reset(s, false);
		s->state = DB_STMT_IDLE;
	}
}

int db_bind_text(struct db_stmt *s, int idx, const char *v)
{
	prepare_bind(s);
	if (!v)
		return s->db->ops->bind_null(s, idx);
	return s->db->ops->bind_text(s, idx, v);
}

int db_bind_int64(struct db_stmt *s, int idx, int64_t v)
{
	prepare_bind(s);
	return s->db->ops->bind_int64(s, idx, v);
}

int db_bind_double(struct db_stmt *s, int idx, double v)
{
	prepare_bind(s);
	return s->db->ops->bind_double(s, idx, v);
}

int db_bind_null(struct db_stmt *s, int idx)
{
	prepare_bind(s);
	return s->db->ops->bind_null(s, idx);
}

int db_step(struct db_stmt *s)
{
	struct db *db = s->db;
	int r;

	if (db->in_transaction && db->txn_error)
		return db->txn_error;
	if (s->state == DB_STMT_DONE) {
		db->ops->reset(s, false);
		s->state = DB_STMT_IDLE;
	}
	r = db->ops->step(s);
	s->state = r > 0 ? DB_STMT_ROW : DB_STMT_DONE;
	return note_error(db, r);
}

void db_stmt_reset(struct db_stmt *s)
{
	if (!s)
		return;
	s->db->ops->reset(s, true);
	s->state = DB_STMT_IDLE;
}

bool db_column_is_null(struct db_stmt *s, int col)
{
	return s->state != DB_STMT_ROW || s->db->ops->column_is_null(s, col);
}

const char *db_column_text(struct db_stmt *s, int col)
{
	return s->state == DB_STMT_ROW ? s->db->ops->column_text(s, col) : NULL;
}

int64_t db_column_int64(struct db_stmt *s, int col)
{
	return s->state == DB_STMT_ROW ? s->db->ops->column_int64(s, col) : 0;
}

double db_column_double(struct db_stmt *s, int col)
{
	return s->state == DB_STMT_ROW ? s->db->ops->column_double(s, col) : 0.0;
}

int db_column_count(struct db_stmt *s)
{
	return s->db->ops->column_count(s);
}

int64_t db_changes(struct db_stmt *s)
{
	return s->db->ops->changes(s);
}

/* Runs a query expected to return at most one integer; 1 with *ret set, 0 for no row. */
static int query_int(struct db *db, const char *sql, int64_t *ret)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, sql, &s);
	if (r < 0)
		return r;
	r = db_step(s);
	if (r > 0)
		*ret = db_column_int64(s, 0);
	/* Ends SQLite's read transaction right away. */
	db_stmt_reset(s);
	return r;
}

static int read_schema_version(struct db *db, int newest, int *ret)
{
	int64_t v = 0;
	int r;

	r = query_int(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", &v);
	if (r < 0)
		return r;
	if (v > newest)
		return db_set_errmsg(db, -EPROTO,
				     "database schema version %" PRId64 " is newer than the newest"
				     " this program knows (%d), upgrade tuxtape",
				     v, newest);
	*ret = (int)v;
	return 0;
}

static int begin_locked(struct db *db)
{
	const char *lock = db_dialect_migration_lock_sql(db->backend);
	int r;

	r = db_begin(db);
	if (r < 0)
		return r;
	if (lock && (r = db_exec(db, lock)) < 0) {
		rollback_keep_errmsg(db);
		return r;
	}
	return 0;
}

static int create_schema_table(struct db *db)
{
	int64_t one;
	int r;

	r = query_int(db, db_dialect_schema_table_exists_sql(db->backend), &one);
	if (r != 0)
		return r < 0 ? r : 0;
	r = begin_locked(db);
	if (r < 0)
		return r;
	r = db_exec(db, "CREATE TABLE IF NOT EXISTS schema_version ("
			"version INTEGER PRIMARY KEY, name TEXT, applied_at BIGINT)");
	if (r < 0) {
		rollback_keep_errmsg(db);
		return r;
	}
	return db_commit(db);
}

static int apply_migration(struct db *db, const struct db_migration *m, int newest)
{
	_cleanup_free_ char *msg = NULL;
	struct db_stmt *s;
	int cur = 0, r;

	r = begin_locked(db);
	if (r < 0)
		return r;
	/* Another process may have migrated while we waited for the lock. */
	r = read_schema_version(db, newest, &cur);
	if (r < 0)
		goto fail;
	if (cur >= m->version)
		return db_commit(db);

	r = db_exec(db, m->sql);
	if (r < 0)
		goto fail;
	r = db_prepare(db,
		       "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)",
		       &s);
	if (r < 0)
		goto fail;
	if ((r = db_bind_int64(s, 1, m->version)) < 0 || (r = db_bind_text(s, 2, m->name)) < 0 ||
	    (r = db_bind_int64(s, 3, (int64_t)time(NULL))) < 0)
		goto fail;
	r = db_step(s);
	db_stmt_reset(s);
	if (r < 0)
		goto fail;
	r = db_commit(db);
	if (r >= 0)
		return 0;
fail:
	if (r != -EPROTO) {
		msg = TAKE_PTR(db->errmsg);
		db_set_errmsg(db, r, "schema migration %d '%s' failed: %s", m->version, m->name,
			      msg ? msg : "");
	}
	rollback_keep_errmsg(db);
	return r;
}

static int migrate(struct db *db)
{
	int newest = 0, cur = 0, r;

	for (size_t i = 0; i < db_n_migrations; i++)
		if (db_migrations[i].version > newest)
			newest = db_migrations[i].version;

	r = create_schema_table(db);
	if (r < 0)
		return r;
	r = read_schema_version(db, newest, &cur);
	if (r < 0)
		return r;
	for (size_t i = 0; i < db_n_migrations && cur < newest; i++) {
		if (db_migrations[i].version <= cur)
			continue;
		r = apply_migration(db, &db_migrations[i], newest);
		if (r < 0)
			return r;
	}
	db->schema_version = newest;
	return 0;
}

int db_open_full(const char *url, struct db **ret, char **reterr_msg)
{
	_cleanup_(db_closep) struct db *db = NULL;
	enum db_backend backend;
	const char *target;
	const struct db_ops *ops;
	char *msg = NULL;
	int r;

	if (reterr_msg)
		*reterr_msg = NULL;
	r = parse_url(url, &backend, &target);
	if (r < 0) {
		if (reterr_msg)
			*reterr_msg = strdup("unsupported database URL, expected a path, "
					     "'sqlite:PATH' or 'postgresql://...'");
		return r;
	}
	ops = backend == DB_BACKEND_SQLITE ? &db_sqlite_ops : &db_pg_ops;
	r = ops->open(target, &db, &msg);
	if (r < 0) {
		if (reterr_msg)
			*reterr_msg = msg;
		else
			free(msg);
		return r;
	}

	r = migrate(db);
	if (r < 0) {
		if (reterr_msg)
			*reterr_msg = TAKE_PTR(db->errmsg);
		return r;
	}
	*ret = TAKE_PTR(db);
	return 0;
}

int db_open(const char *url, struct db **ret)
{
	return db_open_full(url, ret, NULL);
}

struct db *db_close(struct db *db)
{
	struct db_stmt *s, *next;
	char *sql;

	if (!db)
		return NULL;
	for (size_t i = 0; i < db->n_buckets; i++)
		for (s = db->buckets[i]; s; s = next) {
			next = s->next;
			sql = s->sql;
			db->ops->finalize(s);
			free(sql);
		}
	free(db->buckets);
	free(db->errmsg);
	/* An open transaction is rolled back by the backend when the connection goes. */
	db->ops->close(db);
	return NULL;
}
