/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Patch build records: building a record, storing it in one transaction,
 * reading it back, listing with filters, and the JSON event.  The database
 * cases run on SQLite in a temporary directory and on the PostgreSQL server
 * of TUXTAPE_TEST_PG_URL, in a schema of their own recreated for each test.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "fileio.h"
#include "history.h"
#include "strbuf.h"
#include "test-lib.h"

#define PG_TEST_SCHEMA "tuxtape_test_history"
#define HELLO_SHA256 "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct fixture {
	enum db_backend backend;
	char *tmpdir;
	char *url; /* NULL: backend unavailable */
	struct db *db;
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
	_cleanup_free_ char *msg = NULL;

	assert_non_null(f);
	f->backend = *(enum db_backend *)*state;
	f->tmpdir = test_tmpdir_new();
	if (f->backend == DB_BACKEND_SQLITE) {
		f->url = path_join(f->tmpdir, "tuxtape.db");
	} else if ((base = test_pg_url())) {
		pg_run(base, "SET client_min_messages = warning;"
			     "DROP SCHEMA IF EXISTS " PG_TEST_SCHEMA " CASCADE;"
			     "CREATE SCHEMA " PG_TEST_SCHEMA);
		assert_true(asprintf(&f->url, "%s%coptions=-csearch_path%%3D" PG_TEST_SCHEMA, base,
				     strchr(base, '?') ? '&' : '?') > 0);
	}
	if (f->url && db_open_full(f->url, &f->db, &msg) < 0)
		fail_msg("cannot open '%s': %s", f->url, msg ? msg : "");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	db_close(f->db);
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

static int64_t query1(struct db *db, const char *sql)
{
	struct db_stmt *s;
	int64_t v;

	assert_int_equal(db_prepare(db, sql, &s), 0);
	assert_int_equal(db_step(s), 1);
	v = db_column_int64(s, 0);
	db_stmt_reset(s);
	return v;
}

static int64_t stored_rows(struct db *db)
{
	return query1(db, "SELECT (SELECT COUNT(*) FROM patch_build)"
			  " + (SELECT COUNT(*) FROM patch_build_cve)"
			  " + (SELECT COUNT(*) FROM patch_build_patch)"
			  " + (SELECT COUNT(*) FROM patch_build_reason)");
}

static char *write_tmp(const char *dir, const char *name, const char *content)
{
	char *path = path_join(dir, name);

	assert_non_null(path);
	assert_int_equal(write_file_atomic(path, content, strlen(content), 0644), 0);
	return path;
}

/* A refused record for kernel with one CVE, one patch and one reason. */
static void refused_record(struct patch_history_record *rec, const char *kernel, const char *cve,
			   int64_t created_at)
{
	assert_int_equal(patch_history_record_set_kernel(rec, kernel, NULL), 0);
	rec->status = PATCH_HISTORY_REFUSED;
	if (cve)
		assert_int_equal(patch_history_record_add_cve(rec, cve), 0);
	assert_int_equal(patch_history_record_add_patch(rec, "fix.patch", HELLO_SHA256), 0);
	assert_int_equal(patch_history_record_add_reason(rec, "net/core/dev.c",
							 "changes the layout of 'struct sk_buff'"),
			 0);
	rec->created_at = created_at;
}

/* ---- building a record ---- */

static void test_status_strings(void **state)
{
	assert_string_equal(patch_history_status_to_string(PATCH_HISTORY_BUILT), "built");
	assert_string_equal(patch_history_status_to_string(PATCH_HISTORY_REFUSED), "refused");
	assert_string_equal(patch_history_status_to_string(PATCH_HISTORY_FAILED), "failed");
	assert_null(patch_history_status_to_string(_PATCH_HISTORY_STATUS_MAX));
	assert_null(patch_history_status_to_string(_PATCH_HISTORY_STATUS_INVALID));
	assert_int_equal(patch_history_status_from_string("failed"), PATCH_HISTORY_FAILED);
	assert_int_equal(patch_history_status_from_string("Built"), -EINVAL);
	assert_int_equal(patch_history_status_from_string(NULL), -EINVAL);
}

static void test_file_sha256(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new();
	_cleanup_free_ char *hello = write_tmp(dir, "hello", "hello\n");
	_cleanup_free_ char *empty = write_tmp(dir, "empty", "");
	_cleanup_free_ char *missing = path_join(dir, "missing");
	char hex[65];

	assert_int_equal(patch_history_file_sha256(hello, hex), 0);
	assert_string_equal(hex, HELLO_SHA256);
	assert_int_equal(patch_history_file_sha256(empty, hex), 0);
	assert_string_equal(hex, EMPTY_SHA256);
	assert_int_equal(patch_history_file_sha256(missing, hex), -ENOENT);
	assert_int_equal(patch_history_file_sha256(dir, hex), -EISDIR);
	assert_int_equal(patch_history_file_sha256("/dev/null", hex), -EINVAL);
	rm_rf(dir);
}

static void test_builder_patch_file(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new();
	_cleanup_free_ char *patch = write_tmp(dir, "0001-fix-uvc.patch", "hello\n");
	_cleanup_free_ char *missing = path_join(dir, "0002-missing.patch");
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	assert_int_equal(patch_history_record_add_patch_file(&rec, patch), 0);
	assert_int_equal(rec.n_patches, 1);
	assert_string_equal(rec.patches[0].file, "0001-fix-uvc.patch");
	assert_string_equal(rec.patches[0].sha256, HELLO_SHA256);
	assert_int_equal(patch_history_record_add_patch_file(&rec, missing), -ENOENT);
	assert_int_equal(patch_history_record_add_patch_file(&rec, dir), -EISDIR);
	assert_int_equal(patch_history_record_add_patch_file(&rec, ""), -EINVAL);
	assert_int_equal(rec.n_patches, 1);
	/* Known hashes are stored lowercase. */
	assert_int_equal(
		patch_history_record_add_patch(
			&rec, "b.patch",
			"5891B5B522D5DF086D0FF0B110FBD9D21BB4FC7163AF34D08286A2E846F6BE03"),
		0);
	assert_string_equal(rec.patches[1].sha256, HELLO_SHA256);
	rm_rf(dir);
}

static void test_builder_rejects_bad_sha256(void **state)
{
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	assert_int_equal(patch_history_record_add_patch(&rec, "a.patch", "abc"), -EINVAL);
	assert_int_equal(patch_history_record_add_patch(&rec, "a.patch", NULL), -EINVAL);
	/* 64 characters, not all hex. */
	assert_int_equal(
		patch_history_record_add_patch(
			&rec, "a.patch",
			"zz91b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"),
		-EINVAL);
	assert_int_equal(patch_history_record_add_patch(&rec, "", HELLO_SHA256), -EINVAL);
	assert_int_equal(rec.n_patches, 0);
}

static void test_builder_rejects_bad_cve(void **state)
{
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2024-53104"), 0);
	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2024-1234567"), 0);
	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-24-53104"), -EINVAL);
	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2024-123"), -EINVAL);
	assert_int_equal(patch_history_record_add_cve(&rec, "cve-2024-53104"), -EINVAL);
	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2024-53104 "), -EINVAL);
	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2024-53104;DROP"), -EINVAL);
	assert_int_equal(patch_history_record_add_cve(&rec, NULL), -EINVAL);
	assert_int_equal(strv_length(rec.cves), 2);
}

static void test_builder_rejects_bad_reason(void **state)
{
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	assert_int_equal(patch_history_record_add_reason(&rec, "", "why"), -EINVAL);
	assert_int_equal(patch_history_record_add_reason(&rec, "what", ""), -EINVAL);
	assert_int_equal(patch_history_record_add_reason(&rec, NULL, "why"), -EINVAL);
	assert_int_equal(rec.n_reasons, 0);
}

static void test_builder_bounds_and_utf8(void **state)
{
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };
	_cleanup_free_ char *big = malloc(PATCH_HISTORY_TEXT_MAX + 2);

	assert_non_null(big);
	memset(big, 'a', PATCH_HISTORY_TEXT_MAX + 1);
	big[PATCH_HISTORY_TEXT_MAX + 1] = '\0';
	assert_int_equal(patch_history_record_add_reason(&rec, big, "why"), -EFBIG);
	assert_int_equal(patch_history_record_set_kernel(&rec, big, NULL), -EFBIG);
	assert_int_equal(patch_history_record_set_kernel(&rec, NULL, NULL), -EINVAL);
	assert_int_equal(patch_history_record_set_kernel(&rec, "", NULL), -EINVAL);
	/* Compiler output is not promised to be UTF-8: stored sanitised. */
	assert_int_equal(patch_history_record_add_reason(&rec, "f\xff", "bad \xc3"), 0);
	assert_string_equal(rec.reasons[0].what, "f\xef\xbf\xbd");
	assert_string_equal(rec.reasons[0].reason, "bad \xef\xbf\xbd");
	for (int i = 0; i < PATCH_HISTORY_CVES_MAX - 1; i++)
		assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2024-0001"), 0);
	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2024-0002"), 0);
	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2024-0003"), -EFBIG);
}

static void test_builder_report_and_module(void **state)
{
	_cleanup_free_ char *dir = test_tmpdir_new();
	_cleanup_free_ char *ko = write_tmp(dir, "livepatch-uvc.ko", "");
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };
	json_t *report = json_pack("{s:[s], s:b}", "changed", "uvc_parse_format", "ok", 1);

	assert_int_equal(patch_history_record_set_report(&rec, report), 0);
	assert_string_equal(rec.report, "{\"changed\":[\"uvc_parse_format\"],\"ok\":true}");
	assert_int_equal(patch_history_record_set_report(&rec, NULL), -EINVAL);
	assert_int_equal(patch_history_record_set_module(&rec, ko), 0);
	assert_string_equal(rec.module_path, ko);
	assert_string_equal(rec.module_sha256, EMPTY_SHA256);
	assert_int_equal(patch_history_record_set_module(&rec, dir), -EISDIR);
	/* A failed call leaves what was there. */
	assert_string_equal(rec.module_path, ko);
	json_decref(report);
	rm_rf(dir);
}

/* ---- the event ---- */

static void test_event_json(void **state)
{
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };
	json_t *ev, *full;
	char *text;

	refused_record(&rec, "deb61", "CVE-2024-53104", 1735787045);
	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2024-50302"), 0);
	rec.id = 12;
	assert_non_null(ev = patch_history_event(&rec));
	text = json_dumps(ev, JSON_COMPACT);
	assert_string_equal(
		text, "{\"version\":1,\"event\":\"patch.refused\",\"id\":12,\"kernel\":\"deb61\","
		      "\"name\":null,\"cves\":[\"CVE-2024-53104\",\"CVE-2024-50302\"],"
		      "\"patches\":[{\"file\":\"fix.patch\",\"sha256\":\"" HELLO_SHA256 "\"}],"
		      "\"reasons\":[{\"what\":\"net/core/dev.c\","
		      "\"reason\":\"changes the layout of 'struct sk_buff'\"}],"
		      "\"module\":null,\"time\":\"2025-01-02T03:04:05Z\"}");
	free(text);
	json_decref(ev);

	rec.report = strdup("{\"refusals\":1}");
	assert_non_null(full = patch_history_to_json(&rec));
	assert_string_equal(json_string_value(json_object_get(full, "event")), "patch.refused");
	assert_string_equal(json_string_value(json_object_get(full, "status")), "refused");
	assert_int_equal(json_integer_value(json_object_get(full, "created_at")), 1735787045);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(full, "report"), "refusals")),
		1);
	json_decref(full);
}

static void test_event_json_built(void **state)
{
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };
	json_t *ev;

	assert_int_equal(patch_history_record_set_kernel(&rec, "deb61", "livepatch_uvc"), 0);
	rec.status = PATCH_HISTORY_BUILT;
	rec.module_path = strdup("/var/lib/tuxtape/out/livepatch_uvc.ko");
	rec.module_sha256 = strdup(HELLO_SHA256);
	assert_non_null(ev = patch_history_event(&rec));
	assert_string_equal(json_string_value(json_object_get(ev, "event")), "patch.built");
	assert_string_equal(json_string_value(json_object_get(ev, "name")), "livepatch_uvc");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(ev, "module"), "sha256")),
		HELLO_SHA256);
	assert_int_equal(json_array_size(json_object_get(ev, "cves")), 0);
	assert_int_equal(json_array_size(json_object_get(ev, "reasons")), 0);
	json_decref(ev);
}

/* ---- the store ---- */

static void test_add_get_roundtrip(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_free_ char *p1 = write_tmp(f->tmpdir, "0001-first.patch", "hello\n");
	_cleanup_free_ char *p2 = write_tmp(f->tmpdir, "0002-second.patch", "");
	_cleanup_free_ char *ko = write_tmp(f->tmpdir, "livepatch_uvc.ko", "hello\n");
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 }, got = { 0 };
	json_t *report = json_pack("{s:s, s:[{s:s}]}", "kernel", "deb61", "functions", "name",
				   "uvc_parse_format");
	int64_t id = 0;

	assert_int_equal(patch_history_record_set_kernel(&rec, "deb61", "livepatch_uvc"), 0);
	rec.status = PATCH_HISTORY_BUILT;
	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2024-53104"), 0);
	assert_int_equal(patch_history_record_add_cve(&rec, "CVE-2023-52434"), 0);
	assert_int_equal(patch_history_record_add_patch_file(&rec, p1), 0);
	assert_int_equal(patch_history_record_add_patch_file(&rec, p2), 0);
	assert_int_equal(patch_history_record_add_reason(&rec, "drivers/media/usb/uvc/uvc_driver.c",
							 "inlined into 'uvc_probe': patched too"),
			 0);
	assert_int_equal(patch_history_record_add_reason(&rec, "__bug_table", "entry dropped"), 0);
	assert_int_equal(patch_history_record_set_report(&rec, report), 0);
	assert_int_equal(patch_history_record_set_module(&rec, ko), 0);
	json_decref(report);

	assert_int_equal(patch_history_add(f->db, &rec, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(rec.id, 1);
	assert_true(rec.created_at > 1700000000);

	assert_int_equal(patch_history_get(f->db, id, &got), 0);
	assert_int_equal(got.id, 1);
	assert_string_equal(got.kernel, "deb61");
	assert_string_equal(got.name, "livepatch_uvc");
	assert_int_equal(got.status, PATCH_HISTORY_BUILT);
	assert_int_equal(got.created_at, rec.created_at);
	assert_int_equal(strv_length(got.cves), 2);
	assert_string_equal(got.cves[0], "CVE-2024-53104");
	assert_string_equal(got.cves[1], "CVE-2023-52434");
	assert_int_equal(got.n_patches, 2);
	assert_string_equal(got.patches[0].file, "0001-first.patch");
	assert_string_equal(got.patches[0].sha256, HELLO_SHA256);
	assert_string_equal(got.patches[1].file, "0002-second.patch");
	assert_string_equal(got.patches[1].sha256, EMPTY_SHA256);
	assert_int_equal(got.n_reasons, 2);
	assert_string_equal(got.reasons[0].what, "drivers/media/usb/uvc/uvc_driver.c");
	assert_string_equal(got.reasons[0].reason, "inlined into 'uvc_probe': patched too");
	assert_string_equal(got.reasons[1].what, "__bug_table");
	assert_string_equal(got.report, rec.report);
	assert_string_equal(got.module_path, ko);
	assert_string_equal(got.module_sha256, HELLO_SHA256);
}

static void test_add_empty_lists(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 }, got = { 0 };
	int64_t id = 0;

	/* A build that failed before anything was known: no CVE, patch, reason or report. */
	assert_int_equal(patch_history_record_set_kernel(&rec, "deb61", NULL), 0);
	rec.status = PATCH_HISTORY_FAILED;
	rec.created_at = 1000;
	assert_int_equal(patch_history_add(f->db, &rec, &id), 0);
	assert_int_equal(patch_history_get(f->db, id, &got), 0);
	assert_int_equal(got.status, PATCH_HISTORY_FAILED);
	assert_int_equal(got.created_at, 1000);
	assert_null(got.cves);
	assert_null(got.name);
	assert_int_equal(got.n_patches, 0);
	assert_int_equal(got.n_reasons, 0);
	assert_null(got.report);
	assert_null(got.module_path);
	assert_null(got.module_sha256);
}

static void test_get_unknown(void **state)
{
	struct fixture *f = fixture(state);
	struct patch_history_record got = { 0 };

	assert_int_equal(patch_history_get(f->db, 42, &got), -ENOENT);
	assert_null(got.kernel);
}

static void test_ids_never_reused(void **state)
{
	struct fixture *f = fixture(state);
	int64_t ids[4] = { 0 };

	for (int i = 0; i < 3; i++) {
		_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

		refused_record(&rec, "deb61", NULL, 0);
		assert_int_equal(patch_history_add(f->db, &rec, &ids[i]), 0);
	}
	assert_int_equal(ids[0], 1);
	assert_int_equal(ids[1], 2);
	assert_int_equal(ids[2], 3);
	assert_int_equal(db_exec(f->db, "DELETE FROM patch_build WHERE id = 3"), 0);
	{
		_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

		refused_record(&rec, "deb61", NULL, 0);
		assert_int_equal(patch_history_add(f->db, &rec, &ids[3]), 0);
	}
	assert_int_equal(ids[3], 4);
}

static void test_add_is_one_transaction(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };
	int64_t id = 0;

	/* A stray row where this record's reason goes: the insert fails half-way. */
	assert_int_equal(db_exec(f->db,
				 "INSERT INTO patch_build_reason (build_id, seq, what, reason)"
				 " VALUES (1, 0, 'x', 'y')"),
			 0);
	refused_record(&rec, "deb61", "CVE-2024-53104", 0);
	assert_int_equal(patch_history_add(f->db, &rec, &id), -EEXIST);
	assert_int_equal(id, 0);
	assert_int_equal(rec.id, 0);
	assert_int_equal(query1(f->db, "SELECT COUNT(*) FROM patch_build"), 0);
	assert_int_equal(query1(f->db, "SELECT COUNT(*) FROM patch_build_cve"), 0);
	assert_int_equal(query1(f->db, "SELECT COUNT(*) FROM patch_build_patch"), 0);
	/* The counter was rolled back with the rest. */
	assert_int_equal(db_exec(f->db, "DELETE FROM patch_build_reason"), 0);
	assert_int_equal(patch_history_add(f->db, &rec, &id), 0);
	assert_int_equal(id, 1);
}

static void expect_rejected(struct fixture *f, struct patch_history_record *rec, int want)
{
	int64_t id = -1;

	assert_int_equal(patch_history_add(f->db, rec, &id), want);
	assert_int_equal(id, -1);
	assert_int_equal(rec->id, 0);
	assert_int_equal(stored_rows(f->db), 0);
}

static void test_add_rejects_no_kernel(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	rec.status = PATCH_HISTORY_REFUSED;
	expect_rejected(f, &rec, -EINVAL);
}

static void test_add_rejects_bad_status(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	refused_record(&rec, "deb61", NULL, 0);
	rec.status = _PATCH_HISTORY_STATUS_MAX;
	expect_rejected(f, &rec, -EINVAL);
	rec.status = _PATCH_HISTORY_STATUS_INVALID;
	expect_rejected(f, &rec, -EINVAL);
}

static void test_add_rejects_built_without_module(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	refused_record(&rec, "deb61", NULL, 0);
	rec.status = PATCH_HISTORY_BUILT;
	expect_rejected(f, &rec, -EINVAL);
}

static void test_add_rejects_module_without_hash(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	refused_record(&rec, "deb61", NULL, 0);
	rec.status = PATCH_HISTORY_BUILT;
	rec.module_path = strdup("/x.ko");
	expect_rejected(f, &rec, -EINVAL);
	rec.module_sha256 = strdup("not-a-hash");
	expect_rejected(f, &rec, -EINVAL);
}

static void test_add_rejects_bad_report(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	refused_record(&rec, "deb61", NULL, 0);
	rec.report = strdup("{\"unterminated\": ");
	expect_rejected(f, &rec, -EINVAL);
}

static void test_add_rejects_hand_made_bad_cve(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	/* Assembled without the builder: the store checks again. */
	refused_record(&rec, "deb61", NULL, 0);
	assert_int_equal(strv_push(&rec.cves, "CVE-2024-53104'); DROP TABLE patch_build; --"), 0);
	expect_rejected(f, &rec, -EINVAL);
}

static void test_add_rejects_hand_made_bad_patch(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	refused_record(&rec, "deb61", NULL, 0);
	free(rec.patches[0].sha256);
	rec.patches[0].sha256 = strdup("1234");
	expect_rejected(f, &rec, -EINVAL);
}

static void test_add_rejects_invalid_utf8(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };

	refused_record(&rec, "deb61", NULL, 0);
	free(rec.reasons[0].reason);
	rec.reasons[0].reason = strdup("bad \xff byte");
	expect_rejected(f, &rec, -EINVAL);
}

struct collect {
	int64_t ids[16];
	size_t n;
	bool saw_report;
	int stop_after;
};

static int collect_one(const struct patch_history_record *rec, void *userdata)
{
	struct collect *c = userdata;

	if (c->n < ARRAY_SIZE(c->ids))
		c->ids[c->n++] = rec->id;
	if (rec->report)
		c->saw_report = true;
	/* Children come with every record. */
	assert_true(rec->n_patches >= 1);
	if (c->stop_after && (int)c->n >= c->stop_after)
		return -ECANCELED;
	return 0;
}

static void add_some(struct fixture *f)
{
	static const struct {
		const char *kernel, *cve;
		enum patch_history_status status;
		int64_t created_at;
	} rows[] = {
		{ "deb61", "CVE-2024-53104", PATCH_HISTORY_REFUSED, 1000 },
		{ "deb61", "CVE-2024-50302", PATCH_HISTORY_FAILED, 2000 },
		{ "deb512", "CVE-2024-53104", PATCH_HISTORY_REFUSED, 3000 },
		{ "deb61", NULL, PATCH_HISTORY_BUILT, 4000 },
		{ "deb61", "CVE-2024-53104", PATCH_HISTORY_REFUSED, 5000 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		_cleanup_patch_history_record_ struct patch_history_record rec = { 0 };
		int64_t id;

		refused_record(&rec, rows[i].kernel, rows[i].cve, rows[i].created_at);
		rec.status = rows[i].status;
		rec.report = strdup("{}");
		if (rec.status == PATCH_HISTORY_BUILT) {
			rec.module_path = strdup("/m.ko");
			rec.module_sha256 = strdup(HELLO_SHA256);
		}
		assert_int_equal(patch_history_add(f->db, &rec, &id), 0);
		assert_int_equal(id, (int64_t)i + 1);
	}
}

static void test_list_filters(void **state)
{
	struct fixture *f = fixture(state);
	struct patch_history_filter flt = PATCH_HISTORY_FILTER_INIT;
	struct collect c = { 0 };

	add_some(f);
	assert_int_equal(patch_history_list(f->db, NULL, collect_one, &c), 0);
	assert_int_equal(c.n, 5);
	/* Newest first, no report unless asked. */
	assert_int_equal(c.ids[0], 5);
	assert_int_equal(c.ids[4], 1);
	assert_false(c.saw_report);

	memset(&c, 0, sizeof(c));
	flt.kernel = "deb61";
	flt.with_report = true;
	assert_int_equal(patch_history_list(f->db, &flt, collect_one, &c), 0);
	assert_int_equal(c.n, 4);
	assert_true(c.saw_report);

	memset(&c, 0, sizeof(c));
	flt.status = PATCH_HISTORY_REFUSED;
	assert_int_equal(patch_history_list(f->db, &flt, collect_one, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.ids[0], 5);
	assert_int_equal(c.ids[1], 1);

	memset(&c, 0, sizeof(c));
	flt = (struct patch_history_filter)PATCH_HISTORY_FILTER_INIT;
	flt.cve = "CVE-2024-53104";
	assert_int_equal(patch_history_list(f->db, &flt, collect_one, &c), 0);
	assert_int_equal(c.n, 3);
	assert_int_equal(c.ids[0], 5);
	assert_int_equal(c.ids[1], 3);
	assert_int_equal(c.ids[2], 1);

	memset(&c, 0, sizeof(c));
	flt.since = 2500;
	flt.limit = 1;
	assert_int_equal(patch_history_list(f->db, &flt, collect_one, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.ids[0], 5);

	memset(&c, 0, sizeof(c));
	flt = (struct patch_history_filter)PATCH_HISTORY_FILTER_INIT;
	flt.kernel = "nonexistent";
	assert_int_equal(patch_history_list(f->db, &flt, collect_one, &c), 0);
	assert_int_equal(c.n, 0);
}

static void test_list_callback_stops(void **state)
{
	struct fixture *f = fixture(state);
	struct collect c = { .stop_after = 2 };

	add_some(f);
	assert_int_equal(patch_history_list(f->db, NULL, collect_one, &c), -ECANCELED);
	assert_int_equal(c.n, 2);
}

static void test_list_rejects_bad_status(void **state)
{
	struct fixture *f = fixture(state);
	struct patch_history_filter flt = PATCH_HISTORY_FILTER_INIT;
	struct collect c = { 0 };

	flt.status = 7;
	assert_int_equal(patch_history_list(f->db, &flt, collect_one, &c), -EINVAL);
	assert_int_equal(c.n, 0);
}

static void test_reopen_keeps_records(void **state)
{
	struct fixture *f = fixture(state);
	_cleanup_patch_history_record_ struct patch_history_record rec = { 0 }, got = { 0 };
	_cleanup_free_ char *msg = NULL;
	int64_t id;

	refused_record(&rec, "deb61", "CVE-2024-53104", 77);
	assert_int_equal(patch_history_add(f->db, &rec, &id), 0);
	f->db = db_close(f->db);
	assert_int_equal(db_open_full(f->url, &f->db, &msg), 0);
	assert_int_equal(patch_history_get(f->db, id, &got), 0);
	assert_string_equal(got.cves[0], "CVE-2024-53104");
	assert_int_equal(got.created_at, 77);
}

#define BOTH(fn)                                                                                   \
	{ #fn "_sqlite", fn, setup, teardown, &be_sqlite },                                        \
	{                                                                                          \
#fn "_postgresql", fn, setup, teardown, &be_pg                                     \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_strings),
		cmocka_unit_test(test_file_sha256),
		cmocka_unit_test(test_builder_patch_file),
		cmocka_unit_test(test_builder_rejects_bad_sha256),
		cmocka_unit_test(test_builder_rejects_bad_cve),
		cmocka_unit_test(test_builder_rejects_bad_reason),
		cmocka_unit_test(test_builder_bounds_and_utf8),
		cmocka_unit_test(test_builder_report_and_module),
		cmocka_unit_test(test_event_json),
		cmocka_unit_test(test_event_json_built),
		BOTH(test_add_get_roundtrip),
		BOTH(test_add_empty_lists),
		BOTH(test_get_unknown),
		BOTH(test_ids_never_reused),
		BOTH(test_add_is_one_transaction),
		BOTH(test_add_rejects_no_kernel),
		BOTH(test_add_rejects_bad_status),
		BOTH(test_add_rejects_built_without_module),
		BOTH(test_add_rejects_module_without_hash),
		BOTH(test_add_rejects_bad_report),
		BOTH(test_add_rejects_hand_made_bad_cve),
		BOTH(test_add_rejects_hand_made_bad_patch),
		BOTH(test_add_rejects_invalid_utf8),
		BOTH(test_list_filters),
		BOTH(test_list_callback_stops),
		BOTH(test_list_rejects_bad_status),
		BOTH(test_reopen_keeps_records),
	};

	return TEST_MAIN(tests);
}
