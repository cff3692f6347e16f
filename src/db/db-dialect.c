/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Everything that differs between the SQL dialects.  Callers write SQLite-
 * and PostgreSQL-compatible SQL with '?' placeholders; what cannot be written
 * once (parameter syntax, transaction start, catalog queries, locking) is
 * chosen here so the backends stay free of SQL text.
 */
#include <stdlib.h>
#include <string.h>

#include "db-internal.h"
#include "strbuf.h"

/*
 * Returns the end of the quoted token starting at p (quote char q); a doubled
 * quote is an escaped one.  An unterminated token runs to the end of the text
 * and the server reports the syntax error.
 */
static const char *skip_quoted(const char *p, char q)
{
	for (p++; *p; p++) {
		if (*p != q)
			continue;
		if (p[1] != q)
			return p + 1;
		p++;
	}
	return p;
}

static const char *skip_comment(const char *p)
{
	const char *end;

	if (p[0] == '-' && p[1] == '-') {
		p = strchrnul(p, '\n');
		return *p ? p + 1 : p;
	}
	/* PostgreSQL nests block comments, SQLite does not: callers must not rely on either. */
	end = strstr(p + 2, "*/");
	return end ? end + 2 : p + strlen(p);
}

/* Skips a literal, quoted identifier or comment at p; returns p itself when there is none. */
static const char *skip_token(const char *p)
{
	if (*p == '\'' || *p == '"')
		return skip_quoted(p, *p);
	if ((p[0] == '-' && p[1] == '-') || (p[0] == '/' && p[1] == '*'))
		return skip_comment(p);
	return p;
}

int db_dialect_number_placeholders(const char *sql, char **ret, int *ret_n)
{
	_cleanup_strbuf_ struct strbuf sb;
	const char *p = sql, *start;
	int n = 0;

	strbuf_init(&sb, 0);
	if (strbuf_grow(&sb, strlen(sql) + 16) < 0)
		return -ENOMEM;
	while (*p) {
		start = p;
		p = skip_token(p);
		if (p == start && *p == '?') {
			if (strbuf_addf(&sb, "$%d", ++n) < 0)
				return -ENOMEM;
			p++;
			continue;
		}
		if (p == start)
			p++;
		if (strbuf_add(&sb, start, (size_t)(p - start)) < 0)
			return -ENOMEM;
	}
	*ret = strbuf_detach(&sb, NULL);
	*ret_n = n;
	return 0;
}

bool db_dialect_is_single_statement(const char *sql)
{
	const char *p = sql, *start;
	bool seen_end = false;

	while (*p) {
		start = p;
		p = skip_token(p);
		if (p != start) {
			/* Comments after the last ';' are fine, literals are a second statement. */
			if (seen_end && (*start == '\'' || *start == '"'))
				return false;
			continue;
		}
		if (*p == ';')
			seen_end = true;
		else if (seen_end && !strchr(" \t\r\n", *p))
			return false;
		p++;
	}
	return true;
}

const char *db_dialect_begin_sql(enum db_backend backend)
{
	/*
	 * SQLite: a deferred transaction that reads and later writes cannot
	 * upgrade its lock once another connection committed (SQLITE_BUSY without
	 * waiting), so take the write lock up front and let busy_timeout queue us.
	 */
	return backend == DB_BACKEND_SQLITE ? "BEGIN IMMEDIATE" : "BEGIN";
}

const char *db_dialect_schema_table_exists_sql(enum db_backend backend)
{
	if (backend == DB_BACKEND_SQLITE)
		return "SELECT 1 FROM sqlite_master"
		       " WHERE type = 'table' AND name = 'schema_version'";
	/* Resolved through search_path, like the unqualified name in every other query. */
	return "SELECT 1 WHERE to_regclass('schema_version') IS NOT NULL";
}

const char *db_dialect_migration_lock_sql(enum db_backend backend)
{
	/*
	 * PostgreSQL: two processes opening a fresh database would both try to
	 * create the tables; a transaction-scoped advisory lock (an arbitrary
	 * constant, "TuxTape" in ASCII) makes the second wait and then see the
	 * first one's work.  SQLite's BEGIN IMMEDIATE already excludes writers.
	 */
	return backend == DB_BACKEND_POSTGRESQL ? "SELECT pg_advisory_xact_lock(23773057715892325)"
						: NULL;
}
