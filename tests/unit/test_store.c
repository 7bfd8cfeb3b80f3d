/*
 * The store on real files in a temporary directory: a fresh file reaches the
 * latest schema, an upgrade keeps every row, a newer file and a failing
 * migration leave the file as it was, WAL and the pragmas are on, two
 * handles (and two threads opening a new file at once) work together, and a
 * committed transaction survives SIGKILL.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"
#include "timefmt.h"

static char tmpdir[64];
static char path[128];
static int counter;

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof tmpdir, "/tmp/kz-store-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A new path for each test. */
static const char *fresh_path(void)
{
	snprintf(path, sizeof path, "%s/t%d.db", tmpdir, ++counter);
	return path;
}

static long long q_int(struct kz_store *s, const char *sql)
{
	sqlite3_stmt *st;
	char err[256];
	if (kz_store_prepare(s, sql, &st, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void q_text(struct kz_store *s, const char *sql, char *out, size_t outlen)
{
	sqlite3_stmt *st;
	char err[256];
	if (kz_store_prepare(s, sql, &st, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

static struct kz_store *open_ok(const char *p, unsigned flags, const struct kz_migration *list,
                                size_t n)
{
	struct kz_store *s = NULL;
	char err[512];
	int rc = list ? kz_store_open_with(p, flags, list, n, &s, err, sizeof err)
	              : kz_store_open(p, flags, &s, err, sizeof err);
	if (rc != 0)
		fail_msg("open %s: %d: %s", p, rc, err);
	return s;
}

static void exec_ok(struct kz_store *s, const char *sql)
{
	char err[512];
	if (kz_store_exec(s, sql, err, sizeof err) != 0)
		fail_msg("%s", err);
}

/* ------------------------------------------------------ kizuki's schema */

static void test_fresh_open_latest(void **state)
{
	(void)state;
	const char *p = fresh_path();
	struct kz_store *s = open_ok(p, KZ_STORE_CREATE, NULL, 0);
	int latest = kz_store_latest_version();
	assert_true(latest >= 1);
	assert_int_equal(kz_store_version(s), latest);
	assert_string_equal(kz_store_path(s), p);
	assert_int_equal(q_int(s, "PRAGMA user_version"), latest);
	assert_int_equal(q_int(s, "PRAGMA application_id"), 0x4b5a4b49);
	assert_int_equal(q_int(s, "SELECT count(*) FROM kz_migrations"), latest);
	assert_int_equal(q_int(s, "SELECT max(version) FROM kz_migrations"), latest);

	char text[128];
	q_text(s, "SELECT kizuki_version FROM kz_migrations WHERE version = 1", text, sizeof text);
	assert_string_equal(text, KZ_VERSION);
	q_text(s, "SELECT applied_at FROM kz_migrations WHERE version = 1", text, sizeof text);
	int64_t t;
	const char *why;
	assert_int_equal(kz_time_parse(text, &t, &why), 0);
	assert_true(t > 1700000000);

	/* kz_meta says who made the file and when. */
	char err[256], *v = NULL;
	assert_int_equal(kz_store_meta_get(s, "created-by", &v, err, sizeof err), 0);
	assert_string_equal(v, "kizuki " KZ_VERSION);
	free(v);
	assert_int_equal(kz_store_meta_get(s, "created-at", &v, err, sizeof err), 0);
	assert_int_equal(kz_time_parse(v, &t, &why), 0);
	free(v);
	assert_int_equal(kz_store_meta_get(s, "nothing", &v, err, sizeof err), -ENOENT);
	assert_null(v);
	assert_int_equal(kz_store_meta_set(s, "pfx2as", "2026-11-27", err, sizeof err), 0);
	assert_int_equal(kz_store_meta_set(s, "pfx2as", "2026-11-28", err, sizeof err), 0);
	assert_int_equal(kz_store_meta_get(s, "pfx2as", &v, err, sizeof err), 0);
	assert_string_equal(v, "2026-11-28");
	free(v);
	kz_store_close(s);

	/* Reopening applies nothing again. */
	s = open_ok(p, 0, NULL, 0);
	assert_int_equal(q_int(s, "SELECT count(*) FROM kz_migrations"), latest);
	kz_store_close(s);
}

static void test_pragmas(void **state)
{
	(void)state;
	struct kz_store *s = open_ok(fresh_path(), KZ_STORE_CREATE, NULL, 0);
	char mode[16];
	q_text(s, "PRAGMA journal_mode", mode, sizeof mode);
	assert_string_equal(mode, "wal");
	assert_int_equal(q_int(s, "PRAGMA foreign_keys"), 1);
	assert_int_equal(q_int(s, "PRAGMA synchronous"), 1); /* NORMAL */
	assert_int_equal(q_int(s, "PRAGMA busy_timeout"), KZ_STORE_BUSY_MS);
	/* The log file exists beside the database while it is open. */
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", path);
	struct stat st;
	assert_int_equal(stat(wal, &st), 0);
	kz_store_close(s);

	s = open_ok(fresh_path(), KZ_STORE_CREATE | KZ_STORE_DURABLE, NULL, 0);
	assert_int_equal(q_int(s, "PRAGMA synchronous"), 2); /* FULL */
	kz_store_close(s);
}

static void test_open_missing_and_foreign(void **state)
{
	(void)state;
	struct kz_store *s = NULL;
	char err[512];
	const char *p = fresh_path();
	assert_int_equal(kz_store_open(p, 0, &s, err, sizeof err), -ENOENT);
	assert_null(s);
	assert_non_null(strstr(err, p));
	assert_int_equal(access(p, F_OK), -1); /* not created */

	/* A text file. */
	p = fresh_path();
	FILE *f = fopen(p, "w");
	fputs("this is not a database, it is a text file of some length\n", f);
	for (int i = 0; i < 100; i++)
		fputs("padding padding padding padding padding padding padding\n", f);
	fclose(f);
	assert_int_equal(kz_store_open(p, 0, &s, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "not a SQLite database"));

	/* Somebody else's SQLite database. */
	p = fresh_path();
	sqlite3 *db;
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE photos(id INTEGER)", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(kz_store_open(p, 0, &s, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "not a kizuki store"));
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	sqlite3_stmt *st;
	sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &st, NULL);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1); /* untouched */
	sqlite3_finalize(st);
	sqlite3_close(db);

	/* Another application's id. */
	p = fresh_path();
	assert_int_equal(sqlite3_open(p, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA application_id = 1234", NULL, NULL, NULL),
	                 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(kz_store_open(p, 0, &s, err, sizeof err), -EINVAL);
	assert_non_null(strstr(err, "application id"));
}

/* ------------------------------------------------- the migration engine */

#define DEVICES                                                                                    \
	{                                                                                          \
		1, "devices",                                                                      \
		        "CREATE TABLE devices (id INTEGER PRIMARY KEY, addr TEXT NOT NULL);", NULL \
	}

static const struct kz_migration v1[] = { DEVICES };

/* Version 2 adds a column and a table, and backfills both in C. */
static int backfill(sqlite3 *db, char *err, size_t errlen)
{
	const char *sql = "UPDATE devices SET port = CASE WHEN id % 2 = 0 THEN 23 ELSE 2323 END;"
	                  "INSERT INTO sightings(device_id, seen)"
	                  " SELECT id, '2026-11-27T16:19:54Z' FROM devices;";
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "backfill: %s", msg ? msg : "?");
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static const struct kz_migration v2[] = {
	DEVICES,
	{ 2, "ports and sightings",
	  "ALTER TABLE devices ADD COLUMN port INTEGER NOT NULL DEFAULT 0;"
	  "CREATE TABLE sightings (device_id INTEGER NOT NULL REFERENCES devices(id),"
	  " seen TEXT NOT NULL);",
	  backfill },
};

static const struct kz_migration v2_bad_sql[] = {
	DEVICES,
	{ 2, "broken", "ALTER TABLE devices ADD COLUMN port INTEGER; CREATE TABLE oops (", NULL },
};

static int fail_apply(sqlite3 *db, char *err, size_t errlen)
{
	(void)db;
	snprintf(err, errlen, "the backfill found a problem");
	return -EIO;
}

static const struct kz_migration v2_bad_apply[] = {
	DEVICES,
	{ 2, "fails in C", "CREATE TABLE half (x INTEGER);", fail_apply },
};

#define ROWS 1000

static const char *row_addr(int i, char *buf)
{
	snprintf(buf, 32, "198.18.%d.%d", i / 256, i % 256);
	return buf;
}

/* A file at version 1 holding ROWS devices. */
static const char *make_v1_file(void)
{
	const char *p = fresh_path();
	struct kz_store *s = open_ok(p, KZ_STORE_CREATE, v1, 1);
	assert_int_equal(kz_store_version(s), 1);
	char err[256];
	sqlite3_stmt *st;
	assert_int_equal(kz_store_begin(s, err, sizeof err), 0);
	assert_int_equal(kz_store_prepare(s, "INSERT INTO devices(id, addr) VALUES (?1, ?2)", &st,
	                                  err, sizeof err),
	                 0);
	for (int i = 1; i <= ROWS; i++) {
		char a[32];
		sqlite3_bind_int(st, 1, i);
		sqlite3_bind_text(st, 2, row_addr(i, a), -1, SQLITE_TRANSIENT);
		assert_int_equal(sqlite3_step(st), SQLITE_DONE);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	assert_int_equal(kz_store_commit(s, err, sizeof err), 0);
	kz_store_close(s);
	return p;
}

static void expect_rows_intact(struct kz_store *s)
{
	sqlite3_stmt *st;
	char err[256];
	assert_int_equal(kz_store_prepare(s, "SELECT id, addr FROM devices ORDER BY id", &st, err,
	                                  sizeof err),
	                 0);
	int i = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		char a[32];
		i++;
		assert_int_equal(sqlite3_column_int(st, 0), i);
		assert_string_equal((const char *)sqlite3_column_text(st, 1), row_addr(i, a));
	}
	sqlite3_finalize(st);
	assert_int_equal(i, ROWS);
}

static void test_upgrade_keeps_every_row(void **state)
{
	(void)state;
	const char *p = make_v1_file();
	struct kz_store *s = open_ok(p, 0, v2, 2);
	assert_int_equal(kz_store_version(s), 2);
	assert_int_equal(q_int(s, "PRAGMA user_version"), 2);
	expect_rows_intact(s);
	/* The new column has its backfilled value on every row. */
	assert_int_equal(q_int(s, "SELECT count(*) FROM devices WHERE port = 23"), ROWS / 2);
	assert_int_equal(q_int(s, "SELECT count(*) FROM devices WHERE port = 2323"), ROWS / 2);
	assert_int_equal(q_int(s, "SELECT count(*) FROM sightings"), ROWS);
	assert_int_equal(q_int(s, "SELECT count(*) FROM sightings s JOIN devices d"
	                          " ON d.id = s.device_id"),
	                 ROWS);
	/* The log holds both steps in order. */
	char text[128];
	q_text(s,
	       "SELECT group_concat(version || ':' || description, '|') FROM"
	       " (SELECT * FROM kz_migrations ORDER BY version)",
	       text, sizeof text);
	assert_string_equal(text, "1:devices|2:ports and sightings");
	/* Foreign keys are enforced on the new table. */
	char err[256];
	assert_int_not_equal(kz_store_exec(s,
	                                   "INSERT INTO sightings(device_id, seen)"
	                                   " VALUES (99999, 'x')",
	                                   err, sizeof err),
	                     0);
	assert_non_null(strstr(err, "FOREIGN KEY"));
	kz_store_close(s);
}

static void test_newer_file_refused(void **state)
{
	(void)state;
	const char *p = make_v1_file();
	kz_store_close(open_ok(p, 0, v2, 2));
	struct kz_store *s = NULL;
	char err[512];
	assert_int_equal(kz_store_open_with(p, 0, v1, 1, &s, err, sizeof err), -EPROTONOSUPPORT);
	assert_null(s);
	assert_non_null(strstr(err, p));
	assert_non_null(strstr(err, "schema version 2 is newer"));
	/* Untouched: the newer binary still opens it at version 2. */
	s = open_ok(p, 0, v2, 2);
	expect_rows_intact(s);
	kz_store_close(s);
}

static void expect_still_v1(const char *p)
{
	struct kz_store *s = open_ok(p, 0, v1, 1);
	assert_int_equal(q_int(s, "PRAGMA user_version"), 1);
	assert_int_equal(q_int(s, "SELECT count(*) FROM kz_migrations"), 1);
	assert_int_equal(q_int(s, "SELECT count(*) FROM pragma_table_info('devices')"), 2);
	assert_int_equal(q_int(s, "SELECT count(*) FROM sqlite_master WHERE name IN"
	                          " ('oops', 'half', 'sightings')"),
	                 0);
	expect_rows_intact(s);
	kz_store_close(s);
}

static void test_failed_migration_rolls_back(void **state)
{
	(void)state;
	const char *p = make_v1_file();
	struct kz_store *s = NULL;
	char err[512];
	assert_int_not_equal(kz_store_open_with(p, 0, v2_bad_sql, 2, &s, err, sizeof err), 0);
	assert_null(s);
	if (!strstr(err, "migration 2 (broken)") || !strstr(err, "incomplete input"))
		fail_msg("%s", err);
	expect_still_v1(p);

	assert_int_equal(kz_store_open_with(p, 0, v2_bad_apply, 2, &s, err, sizeof err), -EIO);
	assert_non_null(strstr(err, "migration 2 (fails in C): the backfill found a problem"));
	expect_still_v1(p);

	/* Fixed, the same file upgrades. */
	s = open_ok(p, 0, v2, 2);
	expect_rows_intact(s);
	kz_store_close(s);
}

static void test_bad_list(void **state)
{
	(void)state;
	static const struct kz_migration gap[] = {
		{ 1, "a", "CREATE TABLE a(x);", NULL },
		{ 3, "c", "CREATE TABLE c(x);", NULL },
	};
	struct kz_store *s = NULL;
	char err[256];
	assert_int_equal(
	        kz_store_open_with(fresh_path(), KZ_STORE_CREATE, gap, 2, &s, err, sizeof err),
	        -EINVAL);
	assert_non_null(strstr(err, "version 3"));
	assert_int_equal(
	        kz_store_open_with(fresh_path(), KZ_STORE_CREATE, gap, 0, &s, err, sizeof err),
	        -EINVAL);
}

/* ------------------------------------------------- transactions, errors */

static void test_transactions(void **state)
{
	(void)state;
	struct kz_store *s = open_ok(fresh_path(), KZ_STORE_CREATE, v1, 1);
	char err[256];
	assert_int_equal(kz_store_begin(s, err, sizeof err), 0);
	exec_ok(s, "INSERT INTO devices(addr) VALUES ('192.0.2.1')");
	kz_store_rollback(s);
	assert_int_equal(q_int(s, "SELECT count(*) FROM devices"), 0);
	kz_store_rollback(s); /* harmless without a transaction */
	assert_int_equal(kz_store_begin(s, err, sizeof err), 0);
	exec_ok(s, "INSERT INTO devices(addr) VALUES ('192.0.2.1')");
	assert_int_equal(kz_store_commit(s, err, sizeof err), 0);
	assert_int_equal(q_int(s, "SELECT count(*) FROM devices"), 1);
	/* Errors name the file and say what SQLite said. */
	assert_int_equal(kz_store_exec(s, "SELEC 1", err, sizeof err), -EIO);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "syntax error"));
	sqlite3_stmt *st;
	assert_int_not_equal(kz_store_prepare(s, "SELECT nope FROM devices", &st, err, sizeof err),
	                     0);
	assert_null(st);
	assert_non_null(strstr(err, "no such column"));
	assert_int_equal(kz_store_commit(s, err, sizeof err), -EIO);
	assert_non_null(strstr(err, "no transaction"));
	kz_store_close(s);
}

/* ------------------------------------------------------------ concurrency */

struct writer_arg {
	const char *path;
	int rc;
	char err[512];
};

static void *second_writer(void *p)
{
	struct writer_arg *a = p;
	struct kz_store *s = NULL;
	a->rc = kz_store_open_with(a->path, 0, v1, 1, &s, a->err, sizeof a->err);
	if (a->rc)
		return NULL;
	/* Blocks while the main thread holds the write lock, then goes on. */
	a->rc = kz_store_begin(s, a->err, sizeof a->err);
	if (a->rc == 0)
		a->rc = kz_store_exec(s, "INSERT INTO devices(addr) VALUES ('second')", a->err,
		                      sizeof a->err);
	if (a->rc == 0)
		a->rc = kz_store_commit(s, a->err, sizeof a->err);
	kz_store_close(s);
	return NULL;
}

static void test_two_handles(void **state)
{
	(void)state;
	const char *p = fresh_path();
	struct kz_store *a = open_ok(p, KZ_STORE_CREATE, v1, 1);
	struct kz_store *b = open_ok(p, 0, v1, 1);
	char err[256];

	/* A writes; B reads the committed state meanwhile (WAL). */
	exec_ok(a, "INSERT INTO devices(addr) VALUES ('first')");
	assert_int_equal(kz_store_begin(a, err, sizeof err), 0);
	exec_ok(a, "INSERT INTO devices(addr) VALUES ('uncommitted')");
	assert_int_equal(q_int(b, "SELECT count(*) FROM devices"), 1);

	/* A second writer waits for A's commit instead of failing. */
	struct writer_arg arg = { .path = p };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, second_writer, &arg), 0);
	struct timespec pause = { 0, 200 * 1000 * 1000 };
	nanosleep(&pause, NULL);
	assert_int_equal(kz_store_commit(a, err, sizeof err), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	if (arg.rc != 0)
		fail_msg("second writer: %d: %s", arg.rc, arg.err);
	assert_int_equal(q_int(b, "SELECT count(*) FROM devices"), 3);
	kz_store_close(b);
	kz_store_close(a);
}

struct opener_arg {
	const char *path;
	int rc;
	char err[512];
};

static void *opener(void *p)
{
	struct opener_arg *a = p;
	struct kz_store *s = NULL;
	a->rc = kz_store_open_with(a->path, KZ_STORE_CREATE, v2, 2, &s, a->err, sizeof a->err);
	kz_store_close(s);
	return NULL;
}

/* Four processes' worth of handles creating one new file at once: each
 * step is applied exactly once. */
static void test_concurrent_create(void **state)
{
	(void)state;
	const char *p = fresh_path();
	struct opener_arg args[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++) {
		args[i].path = p;
		args[i].rc = -1;
		assert_int_equal(pthread_create(&t[i], NULL, opener, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		if (args[i].rc != 0)
			fail_msg("opener %d: %d: %s", i, args[i].rc, args[i].err);
	}
	struct kz_store *s = open_ok(p, 0, v2, 2);
	assert_int_equal(q_int(s, "SELECT count(*) FROM kz_migrations"), 2);
	assert_int_equal(q_int(s, "PRAGMA user_version"), 2);
	kz_store_close(s);
}

/* The contract the hub relies on: once commit returns, SIGKILL loses
 * nothing (WAL, synchronous=NORMAL). */
static void test_commit_survives_sigkill(void **state)
{
	(void)state;
	const char *p = fresh_path();
	kz_store_close(open_ok(p, KZ_STORE_CREATE, v1, 1));
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct kz_store *s = NULL;
		char err[256];
		if (kz_store_open_with(p, 0, v1, 1, &s, err, sizeof err) != 0 ||
		    kz_store_begin(s, err, sizeof err) != 0 ||
		    kz_store_exec(s, "INSERT INTO devices(addr) VALUES ('acknowledged')", err,
		                  sizeof err) != 0 ||
		    kz_store_commit(s, err, sizeof err) != 0)
			_exit(1);
		/* Started but never committed: must vanish. */
		if (kz_store_begin(s, err, sizeof err) != 0 ||
		    kz_store_exec(s, "INSERT INTO devices(addr) VALUES ('in flight')", err,
		                  sizeof err) != 0)
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	struct kz_store *s = open_ok(p, 0, v1, 1);
	assert_int_equal(q_int(s, "SELECT count(*) FROM devices WHERE addr = 'acknowledged'"), 1);
	assert_int_equal(q_int(s, "SELECT count(*) FROM devices"), 1);
	kz_store_close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fresh_open_latest),
		cmocka_unit_test(test_pragmas),
		cmocka_unit_test(test_open_missing_and_foreign),
		cmocka_unit_test(test_upgrade_keeps_every_row),
		cmocka_unit_test(test_newer_file_refused),
		cmocka_unit_test(test_failed_migration_rolls_back),
		cmocka_unit_test(test_bad_list),
		cmocka_unit_test(test_transactions),
		cmocka_unit_test(test_two_handles),
		cmocka_unit_test(test_concurrent_create),
		cmocka_unit_test(test_commit_survives_sigkill),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
