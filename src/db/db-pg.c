/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * PostgreSQL backend over libpq.  Statements are server-side prepared once
 * per connection (the cache in db.c keeps them) and run with text-format
 * parameters whose types the server infers from the statement.  A query's
 * whole result is fetched per execution; result sets here are small.
 *
 * Inside a transaction, statements that return no rows are sent in libpq
 * pipeline mode and their results collected in batches: the CVE sync writes
 * hundreds of thousands of rows in one transaction, and waiting a round trip
 * for each would dominate its run time.  Their errors therefore surface at a
 * later step or at commit; db.c makes the transaction fail either way, as
 * PostgreSQL aborts it at the first error anyway.
 */
#include <libpq-fe.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "strbuf.h"

/* Results collected at once; bounds client memory and the server's unread output. */
#define PIPELINE_MAX 1024
/* Seconds; libpq waits forever by default on a silent network. */
#define CONNECT_TIMEOUT "10"

struct pg_param {
	char *buf;
	size_t alloc;
	bool set; /* false: SQL NULL */
};

struct pg_stmt {
	struct db_stmt base;
	char name[32];
	int n_params;
	int n_fields;
	struct pg_param *params;
	const char **values;
	PGresult *res;
	int row;
	int n_rows;
	int64_t changes;
	unsigned pending; /* executions sent in the pipeline whose results are unread */
};

struct pg_db {
	struct db base;
	PGconn *conn;
	locale_t c_locale;
	unsigned next_id;
	bool pipeline;
	/* First failure among pipelined statements, reported until commit or rollback. */
	int deferred_error;
	size_t n_queued;
	struct pg_stmt *queue[PIPELINE_MAX];
};

static struct pg_db *to_pdb(struct db *db)
{
	return container_of(db, struct pg_db, base);
}

static struct pg_stmt *to_pst(struct db_stmt *s)
{
	return container_of(s, struct pg_stmt, base);
}

/* libpq's messages span lines ("...\n\tIs the server running..."); callers log one line. */
static char *one_line(const char *msg)
{
	_cleanup_strbuf_ struct strbuf sb;
	bool space = false;

	strbuf_init(&sb, 0);
	for (const char *p = msg; *p; p++) {
		if (*p == '\n' || *p == '\t' || *p == ' ') {
			space = true;
			continue;
		}
		if (space && sb.len > 0 && strbuf_addch(&sb, ' ') < 0)
			return NULL;
		if (strbuf_addch(&sb, *p) < 0)
			return NULL;
		space = false;
	}
	return strbuf_detach(&sb, NULL);
}

static int fail_conn(struct pg_db *d)
{
	_cleanup_free_ char *msg = one_line(PQerrorMessage(d->conn));
	int r = PQstatus(d->conn) == CONNECTION_BAD ? -ECONNREFUSED : -EIO;

	return db_set_errmsg(&d->base, r, "%s", msg ? msg : "out of memory");
}

static int map_sqlstate(const char *state)
{
	if (!state)
		return -EIO;
	if (streq(state, "23505"))
		return -EEXIST;
	/* serialization_failure, deadlock_detected, lock_not_available */
	if (streq(state, "40001") || streq(state, "40P01") || streq(state, "55P03"))
		return -EBUSY;
	if (strncmp(state, "08", 2) == 0)
		return -ECONNREFUSED;
	if (streq(state, "53100"))
		return -ENOSPC;
	if (streq(state, "53200"))
		return -ENOMEM;
	return -EIO;
}

static int fail_result(struct pg_db *d, const PGresult *res)
{
	const char *primary, *detail;

	if (!res || PQstatus(d->conn) == CONNECTION_BAD)
		return fail_conn(d);
	primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	if (!primary)
		return fail_conn(d);
	return db_set_errmsg(&d->base, map_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE)),
			     "%s%s%s", primary, detail ? ": " : "", detail ? detail : "");
}

/* Rows written, as SQLite counts them: a SELECT changes nothing. */
static int64_t changes_of(PGresult *res)
{
	static const char *const writers[] = { "INSERT ", "UPDATE ", "DELETE ", "MERGE " };
	const char *status = PQcmdStatus(res);

	for (size_t i = 0; i < ARRAY_SIZE(writers); i++)
		if (strncmp(status, writers[i], strlen(writers[i])) == 0)
			return strtoll(PQcmdTuples(res), NULL, 10);
	return 0;
}

/*
 * Sends Sync, collects every queued result and leaves pipeline mode, so the
 * synchronous calls can be used again.  Returns the first deferred error.
 */
static int pipeline_finish(struct pg_db *d)
{
	PGresult *res;
	ExecStatusType st;
	struct pg_stmt *ps;
	size_t done = 0, nulls = 0;
	int r = 0;

	if (!d->pipeline)
		return d->deferred_error;
	if (PQpipelineSync(d->conn) != 1) {
		r = fail_conn(d);
		goto out;
	}
	for (;;) {
		res = PQgetResult(d->conn);
		if (!res) {
			/* One NULL ends each query's results; more means the stream is broken. */
			if (PQstatus(d->conn) == CONNECTION_BAD || ++nulls > d->n_queued + 1) {
				r = fail_conn(d);
				goto out;
			}
			continue;
		}
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (done < d->n_queued) {
			ps = d->queue[done++];
			ps->pending--;
			if (st == PGRES_COMMAND_OK)
				ps->changes = changes_of(res);
		}
		if (st != PGRES_COMMAND_OK && st != PGRES_PIPELINE_ABORTED && !d->deferred_error)
			d->deferred_error = fail_result(d, res);
		PQclear(res);
	}
	if (PQexitPipelineMode(d->conn) != 1)
		r = fail_conn(d);
out:
	for (; done < d->n_queued; done++)
		d->queue[done]->pending = 0;
	d->n_queued = 0;
	d->pipeline = false;
	if (r < 0 && !d->deferred_error)
		d->deferred_error = r;
	return d->deferred_error;
}

static int pipeline_send(struct pg_db *d, struct pg_stmt *ps)
{
	if (d->deferred_error)
		return d->deferred_error;
	if (!d->pipeline) {
		if (PQenterPipelineMode(d->conn) != 1)
			return fail_conn(d);
		d->pipeline = true;
	}
	if (PQsendQueryPrepared(d->conn, ps->name, ps->n_params, ps->values, NULL, NULL, 0) != 1)
		return fail_conn(d);
	d->queue[d->n_queued++] = ps;
	ps->pending++;
	ps->changes = 0;
	if (d->n_queued == PIPELINE_MAX)
		return pipeline_finish(d);
	return 0;
}

static void ignore_notice(void *userdata, const char *message)
{
	/* Library code does not print; "relation ... already exists, skipping" is noise. */
}

static int pg_open(const char *url, struct db **ret, char **reterr_msg)
{
	const char *keywords[5], *values[5];
	_cleanup_free_ struct pg_db *d = NULL;
	PQconninfoOption *opts;
	char *err = NULL;
	size_t n = 0;
	int r;

	/* A malformed URL is the caller's mistake, not an unreachable server. */
	opts = PQconninfoParse(url, &err);
	if (!opts) {
		*reterr_msg = err ? one_line(err) : NULL;
		PQfreemem(err);
		return err ? -EINVAL : -ENOMEM;
	}
	PQconninfoFree(opts);

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
	if (d->c_locale == (locale_t)0)
		return -ENOMEM;

	/* Defaults first: later keywords win, so anything in the URL overrides them. */
	keywords[n] = "fallback_application_name";
	values[n++] = "tuxtape";
	keywords[n] = "client_encoding";
	values[n++] = "UTF8";
	if (!getenv("PGCONNECT_TIMEOUT")) {
		keywords[n] = "connect_timeout";
		values[n++] = CONNECT_TIMEOUT;
	}
	keywords[n] = "dbname";
	values[n++] = url;
	keywords[n] = NULL;
	values[n] = NULL;

	d->conn = PQconnectdbParams(keywords, values, 1);
	if (!d->conn || PQstatus(d->conn) != CONNECTION_OK) {
		r = d->conn ? -ECONNREFUSED : -ENOMEM;
		if (d->conn)
			*reterr_msg = one_line(PQerrorMessage(d->conn));
		PQfinish(d->conn);
		freelocale(d->c_locale);
		return r;
	}
	PQsetNoticeProcessor(d->conn, ignore_notice, NULL);

	d->base.ops = &db_pg_ops;
	d->base.backend = DB_BACKEND_POSTGRESQL;
	*ret = &TAKE_PTR(d)->base;
	return 0;
}

static void pg_close(struct db *db)
{
	struct pg_db *d = to_pdb(db);

	PQfinish(d->conn);
	freelocale(d->c_locale);
	free(d);
}

static int run_simple(struct pg_db *d, const char *sql, PGresult **ret)
{
	PGresult *res;
	ExecStatusType st;
	int r;

	r = pipeline_finish(d);
	if (r < 0)
		return r;
	res = PQexec(d->conn, sql);
	st = PQresultStatus(res);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		r = fail_result(d, res);
		PQclear(res);
		return r;
	}
	if (ret)
		*ret = res;
	else
		PQclear(res);
	return 0;
}

static int pg_exec(struct db *db, const char *sql)
{
	return run_simple(to_pdb(db), sql, NULL);
}

static int pg_begin(struct db *db)
{
	struct pg_db *d = to_pdb(db);

	d->deferred_error = 0;
	return run_simple(d, db_dialect_begin_sql(DB_BACKEND_POSTGRESQL), NULL);
}

static int pg_commit(struct db *db)
{
	struct pg_db *d = to_pdb(db);
	PGresult *res;
	bool committed;
	int r;

	r = run_simple(d, "COMMIT", &res);
	if (r < 0)
		return r;
	/* COMMIT of an aborted transaction "succeeds" with the tag ROLLBACK. */
	committed = streq(PQcmdStatus(res), "COMMIT");
	PQclear(res);
	if (!committed)
		return db_set_errmsg(db, -EIO, "the transaction was rolled back by the server");
	return 0;
}

static int pg_rollback(struct db *db)
{
	struct pg_db *d = to_pdb(db);

	(void)pipeline_finish(d);
	d->deferred_error = 0;
	return run_simple(d, "ROLLBACK", NULL);
}

static void pg_finalize(struct db_stmt *s)
{
	struct pg_stmt *ps = to_pst(s);

	PQclear(ps->res);
	for (int i = 0; i < ps->n_params; i++)
		free(ps->params[i].buf);
	free(ps->params);
	free(ps->values);
	free(ps);
}

static void pg_finalizep(struct pg_stmt **ps)
{
	if (*ps)
		pg_finalize(&(*ps)->base);
}

static int pg_prepare(struct db *db, const char *sql, struct db_stmt **ret)
{
	_cleanup_(pg_finalizep) struct pg_stmt *ps = NULL;
	_cleanup_free_ char *text = NULL;
	struct pg_db *d = to_pdb(db);
	PGresult *res;
	int n, r;

	r = pipeline_finish(d);
	if (r < 0)
		return r;
	r = db_dialect_number_placeholders(sql, &text, &n);
	if (r < 0)
		return r;
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return -ENOMEM;
	snprintf(ps->name, sizeof(ps->name), "tuxtape_%u", ++d->next_id);

	res = PQprepare(d->conn, ps->name, text, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto fail;
	PQclear(res);
	/* The row shape decides whether an execution may go into the pipeline. */
	res = PQdescribePrepared(d->conn, ps->name);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		goto fail;
	ps->n_fields = PQnfields(res);
	n = PQnparams(res);
	PQclear(res);

	if (n > 0) {
		ps->params = calloc((size_t)n, sizeof(*ps->params));
		ps->values = calloc((size_t)n, sizeof(*ps->values));
		ps->n_params = n;
		if (!ps->params || !ps->values)
			return -ENOMEM;
	}
	*ret = &TAKE_PTR(ps)->base;
	return 0;
fail:
	r = fail_result(d, res);
	PQclear(res);
	return r;
}

static int set_param(struct db_stmt *s, int idx, const char *v)
{
	struct pg_stmt *ps = to_pst(s);
	struct pg_param *p;
	size_t len = v ? strlen(v) + 1 : 0;
	char *buf;

	if (idx < 1 || idx > ps->n_params)
		return db_set_errmsg(s->db, -ERANGE,
				     "parameter index %d out of range, the statement has %d", idx,
				     ps->n_params);
	p = &ps->params[idx - 1];
	if (!v) {
		p->set = false;
		return 0;
	}
	/* Buffers are kept across executions: a bulk insert binds without allocating. */
	if (len > p->alloc) {
		buf = realloc(p->buf, len < 32 ? 32 : len);
		if (!buf)
			return -ENOMEM;
		p->buf = buf;
		p->alloc = len < 32 ? 32 : len;
	}
	memcpy(p->buf, v, len);
	p->set = true;
	return 0;
}

static int pg_bind_text(struct db_stmt *s, int idx, const char *v)
{
	return set_param(s, idx, v);
}

static int pg_bind_int64(struct db_stmt *s, int idx, int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return set_param(s, idx, buf);
}

static int pg_bind_double(struct db_stmt *s, int idx, double v)
{
	locale_t old;
	char buf[32];

	if (isnan(v))
		return set_param(s, idx, "NaN");
	if (isinf(v))
		return set_param(s, idx, v > 0 ? "Infinity" : "-Infinity");
	/* 17 digits round-trip any double; the C locale keeps the decimal point a '.'. */
	old = uselocale(to_pdb(s->db)->c_locale);
	snprintf(buf, sizeof(buf), "%.17g", v);
	uselocale(old);
	return set_param(s, idx, buf);
}

static int pg_bind_null(struct db_stmt *s, int idx)
{
	return set_param(s, idx, NULL);
}

static int pg_step(struct db_stmt *s)
{
	struct pg_stmt *ps = to_pst(s);
	struct pg_db *d = to_pdb(s->db);
	PGresult *res;
	int r;

	if (ps->res) {
		if (++ps->row < ps->n_rows)
			return 1;
		PQclear(ps->res);
		ps->res = NULL;
		return 0;
	}

	for (int i = 0; i < ps->n_params; i++)
		ps->values[i] = ps->params[i].set ? ps->params[i].buf : NULL;
	if (ps->n_fields == 0 && d->base.in_transaction)
		return pipeline_send(d, ps);

	r = pipeline_finish(d);
	if (r < 0)
		return r;
	res = PQexecPrepared(d->conn, ps->name, ps->n_params, ps->values, NULL, NULL, 0);
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
		ps->changes = changes_of(res);
		PQclear(res);
		return 0;
	case PGRES_TUPLES_OK:
		ps->changes = changes_of(res);
		ps->n_rows = PQntuples(res);
		ps->row = 0;
		if (ps->n_rows == 0) {
			PQclear(res);
			return 0;
		}
		ps->res = res;
		return 1;
	default:
		r = fail_result(d, res);
		PQclear(res);
		return r;
	}
}

static void pg_reset(struct db_stmt *s, bool clear_bindings)
{
	struct pg_stmt *ps = to_pst(s);

	PQclear(ps->res);
	ps->res = NULL;
	ps->row = ps->n_rows = 0;
	if (clear_bindings)
		for (int i = 0; i < ps->n_params; i++)
			ps->params[i].set = false;
}

static const char *value(struct db_stmt *s, int col)
{
	struct pg_stmt *ps = to_pst(s);

	if (!ps->res || ps->row >= ps->n_rows || col < 0 || col >= ps->n_fields ||
	    PQgetisnull(ps->res, ps->row, col))
		return NULL;
	return PQgetvalue(ps->res, ps->row, col);
}

static bool pg_column_is_null(struct db_stmt *s, int col)
{
	return !value(s, col);
}

static const char *pg_column_text(struct db_stmt *s, int col)
{
	return value(s, col);
}

static double pg_column_double(struct db_stmt *s, int col)
{
	const char *v = value(s, col);
	char *end;
	double d;

	if (!v)
		return 0.0;
	d = strtod_l(v, &end, to_pdb(s->db)->c_locale);
	return *end ? 0.0 : d;
}

static int64_t pg_column_int64(struct db_stmt *s, int col)
{
	const char *v = value(s, col);
	char *end;
	long long n;
	double d;

	if (!v)
		return 0;
	/* SQLite's EXISTS() and comparisons give integers; PostgreSQL's give booleans. */
	if (streq(v, "t"))
		return 1;
	if (streq(v, "f"))
		return 0;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (!*end && errno == 0)
		return n;
	/* numeric results (SUM, AVG) convert like SQLite's: truncated, clamped to the range. */
	d = pg_column_double(s, col);
	if (d >= 9223372036854775807.0)
		return INT64_MAX;
	if (d <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)d;
}

static int pg_column_count(struct db_stmt *s)
{
	return to_pst(s)->n_fields;
}

static int64_t pg_changes(struct db_stmt *s)
{
	struct pg_stmt *ps = to_pst(s);

	/* An error found here is kept and reported by the next step or the commit. */
	if (ps->pending)
		(void)pipeline_finish(to_pdb(s->db));
	return ps->changes;
}

const struct db_ops db_pg_ops = {
	.open = pg_open,
	.close = pg_close,
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.prepare = pg_prepare,
	.finalize = pg_finalize,
	.bind_text = pg_bind_text,
	.bind_int64 = pg_bind_int64,
	.bind_double = pg_bind_double,
	.bind_null = pg_bind_null,
	.step = pg_step,
	.reset = pg_reset,
	.column_is_null = pg_column_is_null,
	.column_text = pg_column_text,
	.column_int64 = pg_column_int64,
	.column_double = pg_column_double,
	.column_count = pg_column_count,
	.changes = pg_changes,
};
