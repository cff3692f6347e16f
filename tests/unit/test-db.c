/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Every behaviour test runs twice: against SQLite in a temporary directory
 * and against the PostgreSQL server named by TUXTAPE_TEST_PG_URL, in a schema
 * of its own that each test recreates.  Without a server the PostgreSQL half
 * reports SKIP.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db-internal.h"
#include "db.h"
#include "fileio.h"
#include "migrations.h"
#include "test-lib.h"

#define PG_TEST_SCHEMA "tuxtape_test"

struct fixture {
	enum db_backend backend;
	char *tmpdir;
	char *url; /* NULL: backend unavailable, the test skips */
};

static enum db_backend be_sqlite = DB_BACKEND_SQLITE;
static enum db_backend be_pg = DB_BACKEND_POSTGRESQL;

static void pg_run(const char *url, const char *sql)
{
	PGconn *c = PQconnectdb(url);
	PGresult *res;

	if (PQstatus(c) != CONNECTION_OK)
		fail_msg("cannot connect to '%s': %s", url, PQerrorMessage(c));
	res = PQexec(c, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		fail_msg("'%s' failed: %s", sql, PQresultErrorMessage(res));
	PQclear(res);
	PQfinish(c);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *base;

	assert_non_null(f);
	f->backend = *(enum db_backend *)*state;
	f->tmpdir = test_tmpdir_new();
	if (f->backend == DB_BACKEND_SQLITE) {
		/* A missing parent directory is part of the contract. */
		f->url = path_join(f->tmpdir, "sub/dir/tuxtape.db");
	} else if ((base = test_pg_url())) {
		pg_run(base, "SET client_min_messages = warning;"
			     "DROP SCHEMA IF EXISTS " PG_TEST_SCHEMA " CASCADE;"
			     "CREATE SCHEMA " PG_TEST_SCHEMA);
		assert_true(asprintf(&f->url, "%s%coptions=-csearch_path%%3D" PG_TEST_SCHEMA, base,
				     strchr(base, '?') ? '&' : '?') > 0);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->backend == DB_BACKEND_POSTGRESQL && f->url)
		pg_run(test_pg_url(), "SET client_min_messages = warning;"
				      "DROP SCHEMA IF EXISTS " PG_TEST_SCHEMA " CASCADE");
	free(f->url);
	test_tmpdir_remove(f->tmpdir);
	free(f);
	return 0;
}

static struct fixture *fixture(void **state)
{
	struct fixture *f = *state;

	if (!f->url)
		skip();
	return f;
}

static struct db *open_db(struct fixture *f)
{
	_cleanup_free_ char *msg = NULL;
	struct db *db = NULL;
	int r;

	r = db_open_full(f->url, &db, &msg);
	if (r < 0)
		fail_msg("cannot open '%s': %s (%s)", f->url, msg ? msg : "", strerror(-r));
	assert_int_equal(db_backend(db), f->backend);
	return db;
}

static int newest_migration(void)
{
	int v = 0;

	for (size_t i = 0; i < db_n_migrations; i++)
		if (db_migrations[i].version > v)
			v = db_migrations[i].version;
	return v;
}

/* Value of a query that must return exactly one row. */
static int64_t query1(struct db *db, const char *sql)
{
	struct db_stmt *s;
	int64_t v;
	int r;

	r = db_prepare(db, sql, &s);
	if (r < 0)
		fail_msg("prepare '%s': %s", sql, db_errmsg(db));
	assert_int_equal(db_step(s), 1);
	v = db_column_int64(s, 0);
	assert_int_equal(db_step(s), 0);
	db_stmt_reset(s);
	return v;
}

static void exec_ok(struct db *db, const char *sql)
{
	if (db_exec(db, sql) < 0)
		fail_msg("'%s' failed: %s", sql, db_errmsg(db));
}

static int insert_kv(struct db *db, const char *sql, int64_t id, const char *v)
{
	struct db_stmt *s;
	int r;

	r = db_prepare(db, sql, &s);
	if (r < 0)
		return r;
	assert_int_equal(db_bind_int64(s, 1, id), 0);
	if (v)
		assert_int_equal(db_bind_text(s, 2, v), 0);
	r = db_step(s);
	db_stmt_reset(s);
	return r;
}

static void test_open_migrations_idempotent(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_(db_closep) struct db *db = NULL;
	int64_t applied;

	db = open_db(f);
	assert_int_equal(db_schema_version(db), newest_migration());
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM schema_version"), db_n_migrations);
	assert_int_equal(query1(db, "SELECT MAX(version) FROM schema_version"), newest_migration());
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM cve"), 0);
	/* Make a re-application visible: it would insert the row again or fail. */
	exec_ok(db, "UPDATE schema_version SET applied_at = 42");
	db = db_close(db);

	db = open_db(f);
	assert_int_equal(db_schema_version(db), newest_migration());
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM schema_version"), db_n_migrations);
	applied = query1(db, "SELECT MIN(applied_at) FROM schema_version");
	assert_int_equal(applied, 42);
}

static void test_types_roundtrip(void **state)
{
	static const struct {
		int64_t id;
		const char *s;
		int64_t i;
		double d;
	} rows[] = {
		{ 1, "it's a '?' \"quoted\"", INT64_MAX, 0.1 },
		{ 2, "\xc3\xbcnic\xc3\xb8" "de", INT64_MIN, -1e300 },
		{ 3, "", 0, 1.0 / 3.0 },
	};
	struct fixture *f = fixture(state);
	_cleanup_(db_closep) struct db *db = open_db(f);
	struct db_stmt *s;
	size_t n = 0;
	int r;

	exec_ok(db, "CREATE TABLE t (id BIGINT PRIMARY KEY, s TEXT, i BIGINT,"
		    " d DOUBLE PRECISION, n TEXT)");
	r = db_prepare(db, "INSERT INTO t (id, s, i, d, n) VALUES (?, ?, ?, ?, ?)", &s);
	assert_int_equal(r, 0);
	for (size_t k = 0; k < ARRAY_SIZE(rows); k++) {
		assert_int_equal(db_bind_int64(s, 1, rows[k].id), 0);
		assert_int_equal(db_bind_text(s, 2, rows[k].s), 0);
		assert_int_equal(db_bind_int64(s, 3, rows[k].i), 0);
		assert_int_equal(db_bind_double(s, 4, rows[k].d), 0);
		assert_int_equal(k % 2 ? db_bind_null(s, 5) : db_bind_text(s, 5, NULL), 0);
		assert_int_equal(db_step(s), 0);
		assert_int_equal(db_changes(s), 1);
	}
	assert_int_equal(db_bind_int64(s, 6, 0), -ERANGE);
	assert_int_equal(db_bind_int64(s, 0, 0), -ERANGE);

	assert_int_equal(db_prepare(db, "SELECT id, s, i, d, n FROM t ORDER BY id", &s), 0);
	assert_int_equal(db_column_count(s), 5);
	while ((r = db_step(s)) > 0) {
		assert_true(n < ARRAY_SIZE(rows));
		assert_int_equal(db_column_int64(s, 0), rows[n].id);
		assert_string_equal(db_column_text(s, 1), rows[n].s);
		assert_false(db_column_is_null(s, 1));
		assert_int_equal(db_column_int64(s, 2), rows[n].i);
		assert_true(db_column_double(s, 3) == rows[n].d);
		assert_true(db_column_is_null(s, 4));
		assert_null(db_column_text(s, 4));
		n++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(n, ARRAY_SIZE(rows));
	assert_int_equal(db_changes(s), 0);
	/* Comparisons are booleans on PostgreSQL and integers on SQLite; both read as 0/1. */
	assert_int_equal(query1(db, "SELECT EXISTS (SELECT 1 FROM t WHERE id = 2)"), 1);
	assert_int_equal(query1(db, "SELECT SUM(id) FROM t"), 6);
}

static void test_upsert(void **state)
{
	static const char *const upsert =
		"INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v";
	struct fixture *f = fixture(state);
	_cleanup_(db_closep) struct db *db = open_db(f);
	const struct {
		const char *k;
		int64_t v;
	} ops[] = { { "a", 1 }, { "a", 2 }, { "b", 3 } };
	struct db_stmt *s;
	int r;

	exec_ok(db, "CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL)");
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		assert_int_equal(db_prepare(db, upsert, &s), 0);
		assert_int_equal(db_bind_text(s, 1, ops[i].k), 0);
		assert_int_equal(db_bind_int64(s, 2, ops[i].v), 0);
		assert_int_equal(db_step(s), 0);
		assert_int_equal(db_changes(s), 1);
	}
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM kv"), 2);
	assert_int_equal(query1(db, "SELECT v FROM kv WHERE k = 'a'"), 2);

	r = db_prepare(db, "INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT DO NOTHING", &s);
	assert_int_equal(r, 0);
	assert_int_equal(db_bind_text(s, 1, "a"), 0);
	assert_int_equal(db_bind_int64(s, 2, 9), 0);
	assert_int_equal(db_step(s), 0);
	assert_int_equal(db_changes(s), 0);
	assert_int_equal(query1(db, "SELECT v FROM kv WHERE k = 'a'"), 2);
}

static void test_transactions(void **state)
{
	static const char *const ins = "INSERT INTO tx (id) VALUES (?)";
	struct fixture *f = fixture(state);
	_cleanup_(db_closep) struct db *db = open_db(f);

	exec_ok(db, "CREATE TABLE tx (id BIGINT PRIMARY KEY)");
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(db_begin(db), -EALREADY);
	for (int i = 0; i < 3; i++)
		assert_int_equal(insert_kv(db, ins, i, NULL), 0);
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM tx"), 3);
	assert_int_equal(insert_kv(db, ins, 3, NULL), 0);
	assert_int_equal(db_rollback(db), 0);
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM tx"), 0);

	/* Error paths may roll back unconditionally; committing nothing is a bug. */
	assert_int_equal(db_rollback(db), 0);
	assert_int_equal(db_commit(db), -EINVAL);

	assert_int_equal(db_begin(db), 0);
	assert_int_equal(insert_kv(db, ins, 7, NULL), 0);
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM tx"), 1);
}

static void test_unique_violation(void **state)
{
	static const char *const ins = "INSERT INTO u (id, v) VALUES (?, ?)";
	struct fixture *f = fixture(state);
	_cleanup_(db_closep) struct db *db = open_db(f);
	int r;

	exec_ok(db, "CREATE TABLE u (id BIGINT PRIMARY KEY, v TEXT)");
	assert_int_equal(insert_kv(db, ins, 1, "one"), 0);
	assert_int_equal(insert_kv(db, ins, 1, "again"), -EEXIST);
	assert_non_null(strcasestr(db_errmsg(db), "unique"));
	assert_null(strchr(db_errmsg(db), '\n'));

	/*
	 * In a transaction PostgreSQL may report the error only later (pipelined
	 * writes); either way the transaction fails as a whole at commit.
	 */
	assert_int_equal(db_begin(db), 0);
	assert_int_equal(insert_kv(db, ins, 2, "two"), 0);
	r = insert_kv(db, ins, 1, "dup");
	assert_true(r == 0 || r == -EEXIST);
	assert_int_equal(db_commit(db), -EEXIST);
	assert_non_null(strcasestr(db_errmsg(db), "unique"));
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM u"), 1);

	/* The handle stays usable, also after an explicit rollback of a failed transaction. */
	assert_int_equal(db_begin(db), 0);
	r = insert_kv(db, ins, 1, "dup");
	assert_true(r == 0 || r == -EEXIST);
	assert_int_equal(db_rollback(db), 0);
	assert_int_equal(insert_kv(db, ins, 2, "two"), 0);
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM u"), 2);
}

static void test_statement_reuse(void **state)
{
	static const char *const ins = "INSERT INTO r (id, v) VALUES (?, ?)";
	static const char *const sel = "SELECT v FROM r WHERE id = ?";
	/* More than one pipeline batch on PostgreSQL. */
	const int n = 3000;
	struct fixture *f = fixture(state);
	_cleanup_(db_closep) struct db *db = open_db(f);
	struct db_stmt *first = NULL, *s;
	char buf[32];
	int r;

	exec_ok(db, "CREATE TABLE r (id BIGINT PRIMARY KEY, v TEXT)");
	assert_int_equal(db_begin(db), 0);
	for (int i = 0; i < n; i++) {
		assert_int_equal(db_prepare(db, ins, &s), 0);
		if (!first)
			first = s;
		assert_ptr_equal(s, first);
		snprintf(buf, sizeof(buf), "v%d", i);
		assert_int_equal(db_bind_int64(s, 1, i), 0);
		assert_int_equal(db_bind_text(s, 2, buf), 0);
		assert_int_equal(db_step(s), 0);
		if (i == n / 2)
			assert_int_equal(db_changes(s), 1);
	}
	assert_int_equal(db_commit(db), 0);
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM r"), n);

	first = NULL;
	for (int i = 0; i < n; i += 97) {
		assert_int_equal(db_prepare(db, sel, &s), 0);
		if (!first)
			first = s;
		assert_ptr_equal(s, first);
		/* No reset after the last use: prepare hands out a fresh statement. */
		assert_int_equal(db_bind_int64(s, 1, i), 0);
		assert_int_equal(db_step(s), 1);
		snprintf(buf, sizeof(buf), "v%d", i);
		assert_string_equal(db_column_text(s, 0), buf);
	}

	/* A finished statement runs again on the next step, with the same bindings. */
	assert_int_equal(db_prepare(db, "SELECT id FROM r WHERE id < ? ORDER BY id", &s), 0);
	assert_int_equal(db_bind_int64(s, 1, 2), 0);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(db_step(s), 1);
		assert_int_equal(db_column_int64(s, 0), 0);
		assert_int_equal(db_step(s), 1);
		assert_int_equal(db_column_int64(s, 0), 1);
		assert_int_equal(db_step(s), 0);
	}
	/* A bind after a partial read restarts the query. */
	assert_int_equal(db_step(s), 1);
	assert_int_equal(db_bind_int64(s, 1, 1), 0);
	assert_int_equal(db_step(s), 1);
	assert_int_equal(db_step(s), 0);

	assert_int_equal(db_prepare(db, "DELETE FROM r WHERE id >= ?", &s), 0);
	assert_int_equal(db_bind_int64(s, 1, n - 10), 0);
	r = db_step(s);
	assert_int_equal(r, 0);
	assert_int_equal(db_changes(s), 10);
}

static void test_exec_and_errors(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_(db_closep) struct db *db = open_db(f);
	struct db_stmt *s;

	exec_ok(db, "CREATE TABLE a (x BIGINT); CREATE TABLE b (y BIGINT);"
		    "INSERT INTO a (x) VALUES (1)");
	assert_int_equal(query1(db, "SELECT COUNT(*) FROM a"), 1);
	assert_int_equal(db_exec(db, "SELEKT nonsense"), -EIO);
	assert_true(strlen(db_errmsg(db)) > 0);
	assert_int_equal(db_prepare(db, "SELECT * FROM no_such_table", &s), -EIO);
	assert_int_equal(db_prepare(db, "SELECT 1; SELECT 2", &s), -EINVAL);
	assert_int_equal(db_prepare(db, "SELECT ';' AS x; -- trailing comment", &s), 0);
	assert_int_equal(db_step(s), 1);
	assert_string_equal(db_column_text(s, 0), ";");
}

static void test_newer_schema(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_(db_closep) struct db *db = open_db(f);
	_cleanup_free_ char *msg = NULL;
	struct db *db2 = NULL;
	struct db_stmt *s;

	assert_int_equal(db_prepare(db, "INSERT INTO schema_version (version, name, applied_at)"
					" VALUES (?, 'from the future', 0)",
				    &s),
			 0);
	assert_int_equal(db_bind_int64(s, 1, newest_migration() + 1), 0);
	assert_int_equal(db_step(s), 0);
	db = db_close(db);

	assert_int_equal(db_open_full(f->url, &db2, &msg), -EPROTO);
	assert_null(db2);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "newer"));
	assert_int_equal(db_open(f->url, &db2), -EPROTO);
	assert_null(db2);
}

static void test_sqlite_wal(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_(db_closep) struct db *db = open_db(f);
	_cleanup_free_ char *wal = NULL;
	struct db_stmt *s;

	assert_int_equal(db_prepare(db, "PRAGMA journal_mode", &s), 0);
	assert_int_equal(db_step(s), 1);
	assert_string_equal(db_column_text(s, 0), "wal");
	db_stmt_reset(s);
	assert_int_equal(query1(db, "PRAGMA synchronous"), 1); /* NORMAL */
	assert_int_equal(query1(db, "PRAGMA foreign_keys"), 1);
	assert_int_equal(query1(db, "PRAGMA busy_timeout"), 10000);
	assert_true(asprintf(&wal, "%s-wal", f->url) > 0);
	assert_int_equal(access(wal, F_OK), 0);
}

static void test_bad_urls(void **state)
{
	_cleanup_free_ char *msg = NULL, *file = NULL, *url = NULL;
	char *dir = test_tmpdir_new();
	struct db *db = NULL;

	assert_int_equal(db_open("", &db), -EINVAL);
	assert_int_equal(db_open(NULL, &db), -EINVAL);
	assert_int_equal(db_open("sqlite:", &db), -EINVAL);
	assert_int_equal(db_open("mysql://localhost/x", &db), -EINVAL);
	assert_int_equal(db_open("postgresql://localhost/x?no_such_option=1", &db), -EINVAL);
	assert_null(db);

	assert_int_equal(db_open_full("postgresql://127.0.0.1:1/x", &db, &msg), -ECONNREFUSED);
	assert_null(db);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "127.0.0.1"));
	assert_null(strchr(msg, '\n'));

	/* A regular file where the parent directory should be. */
	file = path_join(dir, "file");
	assert_int_equal(write_file_atomic(file, "x", 1, 0644), 0);
	assert_true(asprintf(&url, "sqlite:%s/db.sqlite", file) > 0);
	assert_int_equal(db_open(url, &db), -ENOTDIR);
	assert_null(db);
	test_tmpdir_remove(dir);
}

static void expect_rewrite(const char *in, const char *out, int n)
{
	_cleanup_free_ char *got = NULL;
	int got_n = -1;

	assert_int_equal(db_dialect_number_placeholders(in, &got, &got_n), 0);
	assert_string_equal(got, out);
	assert_int_equal(got_n, n);
}

static void test_placeholder_rewrite(void **state)
{
	expect_rewrite("SELECT ?", "SELECT $1", 1);
	expect_rewrite("", "", 0);
	expect_rewrite("SELECT 1", "SELECT 1", 0);
	expect_rewrite("INSERT INTO t VALUES (?, '?', 'it''s ?', ?)",
		       "INSERT INTO t VALUES ($1, '?', 'it''s ?', $2)", 2);
	expect_rewrite("SELECT \"odd?name\", ? -- why?\n, ? /* ?? */ FROM t",
		       "SELECT \"odd?name\", $1 -- why?\n, $2 /* ?? */ FROM t", 2);
	expect_rewrite("SELECT '' || ?, '''?'''", "SELECT '' || $1, '''?'''", 1);
	expect_rewrite("SELECT 'unterminated ?", "SELECT 'unterminated ?", 0);
	expect_rewrite("SELECT 1 /* unterminated ?", "SELECT 1 /* unterminated ?", 0);
	expect_rewrite("VALUES (?,?,?,?,?,?,?,?,?,?,?)",
		       "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)", 11);

	assert_true(db_dialect_is_single_statement("SELECT 1"));
	assert_true(db_dialect_is_single_statement("SELECT 1;\n"));
	assert_true(db_dialect_is_single_statement("SELECT ';x'; -- done"));
	assert_false(db_dialect_is_single_statement("SELECT 1; SELECT 2"));
	assert_false(db_dialect_is_single_statement("SELECT 1;'x'"));
}

#define BOTH(fn)                                                                                   \
	{ #fn "_sqlite", fn, setup, teardown, &be_sqlite },                                        \
	{                                                                                          \
		#fn "_postgresql", fn, setup, teardown, &be_pg                                     \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placeholder_rewrite),
		cmocka_unit_test(test_bad_urls),
		BOTH(test_open_migrations_idempotent),
		BOTH(test_types_roundtrip),
		BOTH(test_upsert),
		BOTH(test_transactions),
		BOTH(test_unique_violation),
		BOTH(test_statement_reuse),
		BOTH(test_exec_and_errors),
		BOTH(test_newer_schema),
		{ "test_sqlite_wal", test_sqlite_wal, setup, teardown, &be_sqlite },
	};

	return TEST_MAIN(tests);
}
