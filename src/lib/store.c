/*
 * The SQLite store: open, pragmas, schema versions, migrations.
 *
 * Durability. The file runs in WAL mode with synchronous=NORMAL: a commit
 * appends the transaction to the write-ahead log with write(2) before
 * COMMIT returns, so once kz_store_commit returns 0 the transaction is in
 * the kernel and survives the death of the process, SIGKILL included; only
 * a crash of the machine or power loss may lose the last transactions
 * (never corrupt the file), because the log is fsync'd at checkpoints, not
 * at every commit. That is what the hub's "acknowledged after commit" needs,
 * at a fraction of the cost of an fsync per POST. KZ_STORE_DURABLE selects
 * synchronous=FULL (fsync per commit) where power loss matters too. WAL also
 * lets readers (reports, the dashboard) run while the ingest path writes.
 *
 * Versions. PRAGMA user_version holds the schema version; it lives in the
 * database header, so it changes atomically with the migration's
 * transaction. kz_migrations is the human-readable log of the same steps
 * (version, description, when, by which kizuki). PRAGMA application_id
 * marks the file as kizuki's, so `file` names it and we refuse to migrate a
 * stranger's database.
 *
 * Each migration runs in BEGIN IMMEDIATE and re-reads the version inside
 * the transaction: when two processes open a new file at once, one applies
 * the step and the other finds it done and skips it.
 */
#include "store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"
#include "timefmt.h"

#ifndef KZ_VERSION
#define KZ_VERSION "unknown"
#endif

/* "KZKI": PRAGMA application_id of every kizuki store. */
#define KZ_APPLICATION_ID 0x4b5a4b49

struct kz_store {
	sqlite3 *db;
	char *path;
	int version;
};

/* ------------------------------------------------------ kizuki's schema */

/* Version 1's C part: who made the file and when, for whoever finds it
 * on a disk years later. */
static int meta_init(sqlite3 *db, char *err, size_t errlen)
{
	char now[KZ_TIME_STRLEN];
	if (kz_time_format((int64_t)time(NULL), now) != 0) {
		snprintf(err, errlen, "the clock is outside the years 0000-9999");
		return -ERANGE;
	}
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, "INSERT INTO kz_meta(key, value) VALUES (?1, ?2)", -1, &st,
	                            NULL);
	for (int i = 0; rc == SQLITE_OK && i < 2; i++) {
		sqlite3_bind_text(st, 1, i == 0 ? "created-by" : "created-at", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, i == 0 ? "kizuki " KZ_VERSION : now, -1, SQLITE_TRANSIENT);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "kz_meta: %s", sqlite3_errmsg(db));
		return kz_store_errno(rc);
	}
	return 0;
}

/* Version 2: the hub's tables (docs/store.md describes every column).
 * Times are INTEGER seconds since the epoch (UTC); ids are the records'
 * 32-hex-digit text, so that rows join with the JSON Lines by eye and in
 * SQL. hub_findings is what the API, the reports and the dashboard read;
 * hub_observations keeps every record as received with the attribution it
 * got at that moment; the rest feed coverage, port statistics and audit. */
#define KZ_HUB_SCHEMA_V2                                                                           \
	"CREATE TABLE hub_pfx_versions ("                                                          \
	" id INTEGER PRIMARY KEY,"                                                                 \
	" version TEXT NOT NULL UNIQUE,"                                                           \
	" first_used INTEGER NOT NULL"                                                             \
	") STRICT;"                                                                                \
	"CREATE TABLE hub_findings ("                                                              \
	" id INTEGER PRIMARY KEY,"                                                                 \
	" finding_id TEXT NOT NULL UNIQUE,"                                                        \
	" kind TEXT NOT NULL,"                                                                     \
	" feed TEXT NOT NULL,"                                                                     \
	" taxonomy TEXT NOT NULL,"                                                                 \
	" type TEXT NOT NULL,"                                                                     \
	" identifier TEXT NOT NULL,"                                                               \
	" ip TEXT,"                                                                                \
	" port INTEGER,"                                                                           \
	" transport TEXT,"                                                                         \
	" application TEXT,"                                                                       \
	" status TEXT,"                                                                            \
	" asns TEXT NOT NULL DEFAULT '',"                                                          \
	" network TEXT,"                                                                           \
	" as_name TEXT,"                                                                           \
	" cc TEXT,"                                                                                \
	" region TEXT,"                                                                            \
	" city TEXT,"                                                                              \
	" first_seen INTEGER NOT NULL,"                                                            \
	" last_seen INTEGER NOT NULL,"                                                             \
	" count INTEGER NOT NULL,"                                                                 \
	" state TEXT NOT NULL,"                                                                    \
	" state_since INTEGER NOT NULL,"                                                           \
	" base_state TEXT NOT NULL,"                                                               \
	" weak INTEGER NOT NULL DEFAULT 0,"                                                        \
	" unreachable_runs INTEGER NOT NULL DEFAULT 0,"                                            \
	" ticket TEXT NOT NULL UNIQUE,"                                                            \
	" tlp INTEGER NOT NULL,"                                                                   \
	" last_notified INTEGER,"                                                                  \
	" notified_channel TEXT,"                                                                  \
	" feedback TEXT,"                                                                          \
	" feedback_at INTEGER,"                                                                    \
	" last_observation INTEGER,"                                                               \
	" updated INTEGER NOT NULL,"                                                               \
	" sightings BLOB"                                                                          \
	") STRICT;"                                                                                \
	"CREATE INDEX hub_findings_state ON hub_findings(state);"                                  \
	"CREATE TABLE hub_finding_asns ("                                                          \
	" asn INTEGER NOT NULL,"                                                                   \
	" finding INTEGER NOT NULL,"                                                               \
	" PRIMARY KEY (asn, finding)"                                                              \
	") STRICT, WITHOUT ROWID;"                                                                 \
	"CREATE TABLE hub_observations ("                                                          \
	" id INTEGER PRIMARY KEY,"                                                                 \
	" observation_id TEXT NOT NULL UNIQUE,"                                                    \
	" finding INTEGER NOT NULL,"                                                               \
	" time_source INTEGER NOT NULL,"                                                           \
	" received INTEGER NOT NULL,"                                                              \
	" port INTEGER,"                                                                           \
	" origin TEXT,"                                                                            \
	" status TEXT,"                                                                            \
	" asns TEXT NOT NULL DEFAULT '',"                                                          \
	" network TEXT,"                                                                           \
	" pfx_version INTEGER,"                                                                    \
	" cc TEXT,"                                                                                \
	" tlp INTEGER NOT NULL,"                                                                   \
	" submitter TEXT NOT NULL,"                                                                \
	" anonymous INTEGER NOT NULL DEFAULT 0,"                                                   \
	" record TEXT NOT NULL"                                                                    \
	") STRICT;"                                                                                \
	"CREATE TABLE hub_runs ("                                                                  \
	" run_id TEXT PRIMARY KEY,"                                                                \
	" scanner_ip TEXT,"                                                                        \
	" scope_digest TEXT,"                                                                      \
	" scope TEXT,"                                                                             \
	" ports TEXT,"                                                                             \
	" addresses INTEGER,"                                                                      \
	" seed TEXT,"                                                                              \
	" shard_index INTEGER NOT NULL DEFAULT 0,"                                                 \
	" shard_count INTEGER NOT NULL DEFAULT 1,"                                                 \
	" started INTEGER,"                                                                        \
	" ended INTEGER,"                                                                          \
	" finished INTEGER NOT NULL DEFAULT 0,"                                                    \
	" covered INTEGER NOT NULL DEFAULT 0,"                                                     \
	" header_observation TEXT UNIQUE,"                                                         \
	" trailer_observation TEXT UNIQUE,"                                                        \
	" header TEXT,"                                                                            \
	" trailer TEXT,"                                                                           \
	" submitter TEXT,"                                                                         \
	" received INTEGER NOT NULL"                                                               \
	") STRICT;"                                                                                \
	"CREATE TABLE hub_transitions ("                                                           \
	" id INTEGER PRIMARY KEY,"                                                                 \
	" finding INTEGER NOT NULL,"                                                               \
	" at INTEGER NOT NULL,"                                                                    \
	" from_state TEXT NOT NULL,"                                                               \
	" to_state TEXT NOT NULL,"                                                                 \
	" cause TEXT NOT NULL"                                                                     \
	") STRICT;"                                                                                \
	"CREATE INDEX hub_transitions_finding ON hub_transitions(finding, at);"                    \
	"CREATE TABLE hub_feedback ("                                                              \
	" id INTEGER PRIMARY KEY,"                                                                 \
	" finding INTEGER NOT NULL,"                                                               \
	" at INTEGER NOT NULL,"                                                                    \
	" token_name TEXT NOT NULL,"                                                               \
	" role TEXT NOT NULL,"                                                                     \
	" feedback TEXT NOT NULL,"                                                                 \
	" comment TEXT"                                                                            \
	") STRICT;"                                                                                \
	"CREATE INDEX hub_feedback_finding ON hub_feedback(finding, at);"                          \
	"CREATE TABLE hub_operators ("                                                             \
	" asn INTEGER PRIMARY KEY,"                                                                \
	" name TEXT NOT NULL,"                                                                     \
	" abuse_contact TEXT NOT NULL,"                                                            \
	" renotify_sec INTEGER"                                                                    \
	") STRICT;"                                                                                \
	"CREATE TABLE hub_stats_intervals ("                                                       \
	" sensor TEXT NOT NULL,"                                                                   \
	" interval_start INTEGER NOT NULL,"                                                        \
	" interval_len INTEGER NOT NULL,"                                                          \
	" proto TEXT NOT NULL,"                                                                    \
	" port INTEGER NOT NULL,"                                                                  \
	" packets INTEGER NOT NULL,"                                                               \
	" unique_sources INTEGER NOT NULL,"                                                        \
	" darknet_size INTEGER,"                                                                   \
	" received INTEGER NOT NULL,"                                                              \
	" PRIMARY KEY (sensor, interval_start, proto, port)"                                       \
	") STRICT, WITHOUT ROWID;"                                                                 \
	"CREATE TABLE hub_stats_rollups ("                                                         \
	" bin INTEGER NOT NULL,"                                                                   \
	" start INTEGER NOT NULL,"                                                                 \
	" sensor TEXT NOT NULL,"                                                                   \
	" proto TEXT NOT NULL,"                                                                    \
	" port INTEGER NOT NULL,"                                                                  \
	" packets INTEGER NOT NULL,"                                                               \
	" unique_sources INTEGER NOT NULL,"                                                        \
	" sketchless_max INTEGER NOT NULL DEFAULT 0,"                                              \
	" sources_hll BLOB,"                                                                       \
	" darknet_size INTEGER,"                                                                   \
	" intervals INTEGER NOT NULL,"                                                             \
	" PRIMARY KEY (bin, start, sensor, proto, port)"                                           \
	") STRICT, WITHOUT ROWID;"

/* Version 5: observations deduplicated per finding by an integer key.
 * Version 2's UNIQUE index on the 32-digit observation_id put every insert
 * on a random page of an index as large as the table's row count (one 4 KiB
 * WAL page per stored event, most of the writer's time). The new index
 * (finding, okey) keeps a finding's observations together, so the insert
 * lands on the page the finding's previous observations are on; okey, the
 * id's first 64 bits, is compared with the full observation_id before a
 * record counts as a duplicate (src/lib/ingest.c). An observation id names
 * an observation of one finding (CONTRACT.md: a hash of the finding id and
 * the run or interval), so per-finding uniqueness is the same rule.
 *
 * SQLite cannot drop the index a UNIQUE column made, hence the rebuild:
 * same columns and row ids plus okey, computed by a function registered for
 * the copy. Other indexes on the table (version 4's index of anonymous
 * origins, and any later one) are read first and made again. */
#define KZ_HUB_OBSERVATIONS_V5                                                                     \
	"CREATE TABLE hub_observations_v5 ("                                                       \
	" id INTEGER PRIMARY KEY,"                                                                 \
	" observation_id TEXT NOT NULL,"                                                           \
	" okey INTEGER NOT NULL,"                                                                  \
	" finding INTEGER NOT NULL,"                                                               \
	" time_source INTEGER NOT NULL,"                                                           \
	" received INTEGER NOT NULL,"                                                              \
	" port INTEGER,"                                                                           \
	" origin TEXT,"                                                                            \
	" status TEXT,"                                                                            \
	" asns TEXT NOT NULL DEFAULT '',"                                                          \
	" network TEXT,"                                                                           \
	" pfx_version INTEGER,"                                                                    \
	" cc TEXT,"                                                                                \
	" tlp INTEGER NOT NULL,"                                                                   \
	" submitter TEXT NOT NULL,"                                                                \
	" anonymous INTEGER NOT NULL DEFAULT 0,"                                                   \
	" record TEXT NOT NULL"                                                                    \
	") STRICT;"

/* Also in version 5: an operator's page with a state filter walked all of
 * the operator's findings to find the few in that state (p99 122 ms with
 * 62,500 per AS). hub_finding_asns now carries each finding's state, kept
 * by a trigger wherever the state changes, and an index (asn, state,
 * finding) makes that page one index range. Links are made after their
 * finding (src/lib/ingest.c relink_asns) and take its state then. */
#define KZ_HUB_ASNS_STATE_V5                                                                       \
	"ALTER TABLE hub_finding_asns ADD COLUMN state TEXT;"                                      \
	"UPDATE hub_finding_asns SET state ="                                                      \
	" (SELECT f.state FROM hub_findings f WHERE f.id = finding);"                              \
	"CREATE INDEX hub_finding_asns_state ON hub_finding_asns(asn, state, finding);"            \
	"CREATE TRIGGER hub_findings_state_asns AFTER UPDATE OF state ON hub_findings"             \
	" WHEN new.state IS NOT old.state BEGIN"                                                   \
	" UPDATE hub_finding_asns SET state = new.state WHERE finding = new.id"                    \
	" AND asn IN (SELECT value FROM json_each('[' || new.asns || ']'));"                       \
	" END;"

#define OBS_V2_COLUMNS                                                                             \
	"id, observation_id, finding, time_source, received, port, origin, status, asns,"          \
	" network, pfx_version, cc, tlp, submitter, anonymous, record"

int64_t kz_store_id_key(const char *id, size_t len)
{
	uint64_t v = 0;
	size_t i = 0;
	for (; i < 16 && i < len; i++) {
		char c = id[i];
		unsigned d = c >= '0' && c <= '9'   ? (unsigned)(c - '0')
		             : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
		                                    : 16;
		if (d == 16)
			break;
		v = v << 4 | d;
	}
	if (i < 16) {
		/* Not an id of ours (validated ids are 32 lowercase hex digits):
		 * FNV-1a of the whole text, so that the key is still stable. */
		v = 0xcbf29ce484222325u;
		for (i = 0; i < len; i++)
			v = (v ^ (unsigned char)id[i]) * 0x100000001b3u;
	}
	/* Two's complement: SQLite integers are signed. */
	return (int64_t)v;
}

/* kz_okey(text) for the copy. */
static void okey_sql(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	const unsigned char *t = sqlite3_value_text(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	sqlite3_result_int64(ctx, kz_store_id_key(t ? (const char *)t : "", t ? (size_t)n : 0));
}

static int observations_v5(sqlite3 *db, char *err, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char **idx = NULL;
	size_t nidx = 0;
	int rc = sqlite3_prepare_v2(db,
	                            "SELECT sql FROM sqlite_master WHERE type = 'index' AND"
	                            " tbl_name = 'hub_observations' AND sql IS NOT NULL",
	                            -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		char **nv = reallocarray(idx, nidx + 1, sizeof *idx);
		if (!nv) {
			rc = SQLITE_NOMEM;
			break;
		}
		idx = nv;
		if (!(idx[nidx] = strdup((const char *)sqlite3_column_text(st, 0)))) {
			rc = SQLITE_NOMEM;
			break;
		}
		nidx++;
		rc = SQLITE_OK;
	}
	if (rc == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	if (rc == SQLITE_OK)
		rc = sqlite3_create_function(db, "kz_okey", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
		                             NULL, okey_sql, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_exec(db,
		                  KZ_HUB_OBSERVATIONS_V5
		                  "INSERT INTO hub_observations_v5(" OBS_V2_COLUMNS ", okey)"
		                  " SELECT " OBS_V2_COLUMNS ", kz_okey(observation_id)"
		                  " FROM hub_observations ORDER BY id;"
		                  "DROP TABLE hub_observations;"
		                  "ALTER TABLE hub_observations_v5 RENAME TO hub_observations;"
		                  "CREATE INDEX hub_observations_key ON hub_observations(finding, "
		                  "okey);" KZ_HUB_ASNS_STATE_V5,
		                  NULL, NULL, NULL);
	for (size_t i = 0; i < nidx; i++) {
		if (rc == SQLITE_OK)
			rc = sqlite3_exec(db, idx[i], NULL, NULL, NULL);
		free(idx[i]);
	}
	free(idx);
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "hub_observations: %s", sqlite3_errmsg(db));
	/* The function was only for the copy. */
	sqlite3_create_function(db, "kz_okey", 1, SQLITE_UTF8, NULL, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : kz_store_errno(rc);
}

/* kizuki's migrations. Append new versions at the end; never edit one that
 * has been released, since files in the field have already applied it.
 * Version 1 is the migrations log (kz_migrations, created by the engine in
 * the same transaction as the first step) and kz_meta. */
static const struct kz_migration kz_store_migrations[] = {
	{
	        .version = 1,
	        .description = "migrations log and kz_meta",
	        .sql = "CREATE TABLE kz_meta ("
	               " key TEXT PRIMARY KEY,"
	               " value TEXT NOT NULL"
	               ") STRICT;",
	        .apply = meta_init,
	},
	{
	        .version = 2,
	        .description = "hub: findings, observations, survey runs, stats rollups, "
	                       "feedback, operators",
	        .sql = KZ_HUB_SCHEMA_V2,
	},
	{
	        /* kizuki telescope --db (src/lib/tsink.c): what the sensor saw
	         * and had to drop, per interval. Its records and stats go
	         * through the hub's ingest into the version 2 tables. */
	        .version = 3,
	        .description = "telescope: interval counters",
	        .sql = "CREATE TABLE telescope_intervals ("
	               " sensor TEXT NOT NULL,"
	               " interval_start INTEGER NOT NULL,"
	               " interval_len INTEGER NOT NULL,"
	               " analysed INTEGER NOT NULL,"
	               " sources_active INTEGER NOT NULL,"
	               " sources_held INTEGER NOT NULL,"
	               " sources_evicted INTEGER NOT NULL,"
	               " vectors_evicted INTEGER NOT NULL,"
	               " reordered INTEGER NOT NULL,"
	               " PRIMARY KEY (sensor, interval_start)"
	               ") STRICT, WITHOUT ROWID;",
	},
	{
	        /* Reports and feeds must not name anonymous submitters; this
	         * partial index holds only their rows, so finding their names
	         * costs nothing on the ingest path of everyone else. */
	        .version = 4,
	        .description = "hub: index of anonymous submissions' origins",
	        .sql = "CREATE INDEX hub_observations_anonymous ON hub_observations(origin)"
	               " WHERE anonymous = 1;",
	},
	{
	        .version = 5,
	        .description = "hub: observations deduplicated per finding by an integer key; "
	                       "findings by AS and state",
	        .apply = observations_v5,
	},
};

#define MIGRATIONS_COUNT (sizeof kz_store_migrations / sizeof kz_store_migrations[0])

int kz_store_latest_version(void)
{
	return (int)MIGRATIONS_COUNT;
}

const struct kz_migration *kz_store_migration_list(size_t *n)
{
	*n = MIGRATIONS_COUNT;
	return kz_store_migrations;
}

/* ------------------------------------------------------------- helpers */

int kz_store_errno(int rc)
{
	/* The low byte of an extended result code is its primary code. */
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_ROW:
	case SQLITE_DONE:
		return 0;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	case SQLITE_CANTOPEN:
		return -ENOENT;
	case SQLITE_NOTADB:
		return -EINVAL;
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
		return -EINVAL;
	default:
		return -EIO;
	}
}

__attribute__((format(printf, 5, 6))) static int store_fail(const char *path, int rc, char *err,
                                                            size_t errlen, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (errlen)
		snprintf(err, errlen, "%s: %s", path, msg);
	return rc;
}

/* The error of the last call on db, as a negative errno and text. */
static int db_fail(struct kz_store *s, int sqlite_rc, char *err, size_t errlen, const char *what)
{
	return store_fail(s->path, kz_store_errno(sqlite_rc), err, errlen, "%s: %s", what,
	                  sqlite3_errmsg(s->db));
}

/* Runs a statement returning one integer (PRAGMA user_version and the like). */
static int query_int(sqlite3 *db, const char *sql, long long *out)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int kz_store_exec(struct kz_store *s, const char *sql, char *err, size_t errlen)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, errlen, "SQL");
	return 0;
}

int kz_store_prepare(struct kz_store *s, const char *sql, sqlite3_stmt **stmt, char *err,
                     size_t errlen)
{
	*stmt = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, stmt, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, errlen, "prepare");
	return 0;
}

int kz_store_begin(struct kz_store *s, char *err, size_t errlen)
{
	int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, errlen, "begin transaction");
	return 0;
}

int kz_store_commit(struct kz_store *s, char *err, size_t errlen)
{
	int rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL);
	if (rc != SQLITE_OK) {
		int e = db_fail(s, rc, err, errlen, "commit");
		/* A failed COMMIT may leave the transaction open: end it, so the
		 * connection is usable and nothing half-done lingers. */
		kz_store_rollback(s);
		return e;
	}
	return 0;
}

void kz_store_rollback(struct kz_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

sqlite3 *kz_store_db(struct kz_store *s)
{
	return s->db;
}

const char *kz_store_path(const struct kz_store *s)
{
	return s->path;
}

int kz_store_version(const struct kz_store *s)
{
	return s->version;
}

int kz_store_meta_get(struct kz_store *s, const char *key, char **value, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	*value = NULL;
	int rc = kz_store_prepare(s, "SELECT value FROM kz_meta WHERE key = ?1", &st, err, errlen);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW) {
		const unsigned char *v = sqlite3_column_text(st, 0);
		*value = strdup(v ? (const char *)v : "");
		rc = *value ? 0 : -ENOMEM;
	} else if (step == SQLITE_DONE) {
		rc = -ENOENT;
	} else {
		rc = db_fail(s, step, err, errlen, "kz_meta");
	}
	sqlite3_finalize(st);
	return rc;
}

int kz_store_meta_set(struct kz_store *s, const char *key, const char *value, char *err,
                      size_t errlen)
{
	sqlite3_stmt *st;
	int rc = kz_store_prepare(s, "INSERT OR REPLACE INTO kz_meta(key, value) VALUES (?1, ?2)",
	                          &st, err, errlen);
	if (rc)
		return rc;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	int step = sqlite3_step(st);
	rc = step == SQLITE_DONE ? 0 : db_fail(s, step, err, errlen, "kz_meta");
	sqlite3_finalize(st);
	return rc;
}

/* ---------------------------------------------------------- migrations */

static const char migrations_log_sql[] = "CREATE TABLE IF NOT EXISTS kz_migrations ("
                                         " version INTEGER PRIMARY KEY,"
                                         " description TEXT NOT NULL,"
                                         " applied_at TEXT NOT NULL,"
                                         " kizuki_version TEXT NOT NULL"
                                         ") STRICT;";

/* A list with a gap or a repeat is a programming error: refuse it before
 * touching the file. */
static int check_list(const struct kz_migration *list, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (list[i].version != (int)i + 1 || !list[i].description) {
			snprintf(err, errlen,
			         "migration list: entry %zu has version %d, expected %zu with a "
			         "description",
			         i, list[i].version, i + 1);
			return -EINVAL;
		}
	}
	if (n == 0 || n > 1000000) {
		snprintf(err, errlen, "migration list: %zu entries", n);
		return -EINVAL;
	}
	return 0;
}

static int log_migration(sqlite3 *db, const struct kz_migration *m)
{
	char now[KZ_TIME_STRLEN];
	if (kz_time_format((int64_t)time(NULL), now) != 0)
		snprintf(now, sizeof now, "unknown");
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
	                            "INSERT INTO kz_migrations(version, description, applied_at,"
	                            " kizuki_version) VALUES (?1, ?2, ?3, ?4)",
	                            -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int(st, 1, m->version);
	sqlite3_bind_text(st, 2, m->description, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, KZ_VERSION, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* Applies one migration in its own transaction, unless another process got
 * there first. Returns 0 or a negative errno with err set. */
static int migrate_one(struct kz_store *s, const struct kz_migration *m, size_t n, char *err,
                       size_t errlen)
{
	char what[160], pragma[64];
	long long cur = 0, tables = 0;
	int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, errlen, "begin migration");

	snprintf(what, sizeof what, "migration %d (%s)", m->version, m->description);
	if ((rc = query_int(s->db, "PRAGMA user_version", &cur)) != SQLITE_OK) {
		rc = db_fail(s, rc, err, errlen, "read the schema version");
		goto fail;
	}
	if (cur > (long long)n) {
		rc = store_fail(s->path, -EPROTONOSUPPORT, err, errlen,
		                "schema version %lld is newer than this kizuki (%s) knows (%zu): "
		                "use a newer kizuki",
		                cur, KZ_VERSION, n);
		goto fail;
	}
	if (cur >= m->version) {
		/* Another process applied it while we waited for the lock. */
		kz_store_rollback(s);
		return 0;
	}
	if (cur == 0) {
		/* A new kizuki store starts empty; anything else is not ours. */
		if ((rc = query_int(
		             s->db,
		             "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
		             &tables)) != SQLITE_OK) {
			rc = db_fail(s, rc, err, errlen, "read the schema");
			goto fail;
		}
		if (tables > 0) {
			rc = store_fail(s->path, -EINVAL, err, errlen,
			                "not a kizuki store: it has tables but no kizuki schema "
			                "version");
			goto fail;
		}
		snprintf(pragma, sizeof pragma, "PRAGMA application_id = %d", KZ_APPLICATION_ID);
		if ((rc = sqlite3_exec(s->db, pragma, NULL, NULL, NULL)) != SQLITE_OK ||
		    (rc = sqlite3_exec(s->db, migrations_log_sql, NULL, NULL, NULL)) != SQLITE_OK) {
			rc = db_fail(s, rc, err, errlen, what);
			goto fail;
		}
	}
	if (m->sql && (rc = sqlite3_exec(s->db, m->sql, NULL, NULL, NULL)) != SQLITE_OK) {
		rc = db_fail(s, rc, err, errlen, what);
		goto fail;
	}
	if (m->apply) {
		char why[256] = "";
		if ((rc = m->apply(s->db, why, sizeof why)) != 0) {
			rc = store_fail(s->path, rc < 0 ? rc : -EIO, err, errlen, "%s: %s", what,
			                why);
			goto fail;
		}
	}
	/* PRAGMA takes no bound parameters; the version is our own integer. */
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", m->version);
	if ((rc = log_migration(s->db, m)) != SQLITE_OK ||
	    (rc = sqlite3_exec(s->db, pragma, NULL, NULL, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
		rc = db_fail(s, rc, err, errlen, what);
		goto fail;
	}
	kz_info("%s: schema version %d: %s", s->path, m->version, m->description);
	return 0;
fail:
	kz_store_rollback(s);
	return rc;
}

/* WAL first: it is the statement that reads the file, and the mode
 * persists in the file, so later opens find it set. */
static int set_pragmas(struct kz_store *s, unsigned flags, char *err, size_t errlen)
{
	char mode[16] = "";
	sqlite3_stmt *st;
	/* The first statement reads the file: a stranger's file fails here. */
	int rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			const unsigned char *m = sqlite3_column_text(st, 0);
			snprintf(mode, sizeof mode, "%s", m ? (const char *)m : "");
			rc = SQLITE_OK;
		}
		sqlite3_finalize(st);
	}
	if ((rc & 0xff) == SQLITE_NOTADB)
		return store_fail(s->path, -EINVAL, err, errlen, "not a SQLite database");
	if (rc != SQLITE_OK)
		return db_fail(s, rc, err, errlen, "set WAL mode");
	/* An in-memory database reports "memory"; a file that stays in another
	 * mode (a filesystem without shared memory, NFS) is refused. */
	if (strcmp(mode, "wal") != 0 && strcmp(s->path, ":memory:") != 0)
		return store_fail(s->path, -EIO, err, errlen,
		                  "cannot use WAL mode (the journal stays in '%s' mode)", mode);
	const char *sync = (flags & KZ_STORE_DURABLE) ? "PRAGMA synchronous = FULL"
	                                              : "PRAGMA synchronous = NORMAL";
	if ((rc = sqlite3_exec(s->db, sync, NULL, NULL, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL)) != SQLITE_OK)
		return db_fail(s, rc, err, errlen, "set pragmas");
	return 0;
}

int kz_store_open_with(const char *path, unsigned flags, const struct kz_migration *list, size_t n,
                       struct kz_store **out, char *err, size_t errlen)
{
	*out = NULL;
	if (errlen)
		err[0] = '\0';
	int rc = check_list(list, n, err, errlen);
	if (rc)
		return rc;
	/* SQLite's own "unable to open" does not say why; stat does. */
	struct stat sb;
	if (!(flags & KZ_STORE_CREATE) && strcmp(path, ":memory:") != 0 && stat(path, &sb) != 0)
		return store_fail(path, -errno, err, errlen, "%s", strerror(errno));

	struct kz_store *s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path))) {
		free(s);
		return store_fail(path, -ENOMEM, err, errlen, "out of memory");
	}
	int oflags = SQLITE_OPEN_READWRITE | ((flags & KZ_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0) |
	             ((flags & KZ_STORE_NOMUTEX) ? SQLITE_OPEN_NOMUTEX : 0);
	rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		int e = s->db ? sqlite3_system_errno(s->db) : 0;
		rc = store_fail(path, e ? -e : kz_store_errno(rc), err, errlen, "cannot open: %s",
		                s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		goto fail;
	}
	sqlite3_busy_timeout(s->db, KZ_STORE_BUSY_MS);
	if ((rc = set_pragmas(s, flags, err, errlen)) != 0)
		goto fail;

	long long app = 0, cur = 0;
	if ((rc = query_int(s->db, "PRAGMA application_id", &app)) != SQLITE_OK ||
	    (rc = query_int(s->db, "PRAGMA user_version", &cur)) != SQLITE_OK) {
		rc = db_fail(s, rc, err, errlen, "read the header");
		goto fail;
	}
	if (app != 0 && app != KZ_APPLICATION_ID) {
		rc = store_fail(path, -EINVAL, err, errlen,
		                "not a kizuki store (application id 0x%08llx)", app);
		goto fail;
	}
	if (cur > (long long)n) {
		rc = store_fail(path, -EPROTONOSUPPORT, err, errlen,
		                "schema version %lld is newer than this kizuki (%s) knows (%zu): "
		                "use a newer kizuki",
		                cur, KZ_VERSION, n);
		goto fail;
	}
	/* Read outside a transaction, cur may be stale: migrate_one checks
	 * again under the write lock. */
	for (size_t i = (size_t)cur; i < n; i++)
		if ((rc = migrate_one(s, &list[i], n, err, errlen)) != 0)
			goto fail;
	s->version = (int)n;
	*out = s;
	return 0;
fail:
	kz_store_close(s);
	return rc;
}

int kz_store_open(const char *path, unsigned flags, struct kz_store **out, char *err, size_t errlen)
{
	return kz_store_open_with(path, flags, kz_store_migrations, MIGRATIONS_COUNT, out, err,
	                          errlen);
}

void kz_store_close(struct kz_store *s)
{
	if (!s)
		return;
	/* close_v2 defers the close until a forgotten statement is finalized
	 * instead of failing; the handle is unusable either way. */
	if (s->db)
		sqlite3_close_v2(s->db);
	free(s->path);
	free(s);
}
