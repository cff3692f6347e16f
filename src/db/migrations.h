/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The schema as an ordered list of migrations.  SQL here is the portable
 * subset both backends accept (TEXT, BIGINT, DOUBLE PRECISION, INTEGER
 * booleans, ON CONFLICT upserts), so one text serves SQLite and PostgreSQL.
 * Never edit a released migration: add a new one.
 */
#ifndef TUXTAPE_DB_MIGRATIONS_H
#define TUXTAPE_DB_MIGRATIONS_H

#include <stddef.h>

struct db_migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct db_migration db_migrations[];
extern const size_t db_n_migrations;

#endif
