/*
 * The store: one SQLite file shared by telescope --db and the hub (and by
 * both on one machine), opened in WAL mode, with numbered schema versions
 * and migrations that run once, in order, each in its own transaction.
 *
 * Modules own their SQL: they take the sqlite3 handle from kz_store_db and
 * prepare their own statements. This module owns opening, the pragmas,
 * schema versions, transactions and error text. docs/store.md describes the
 * durability guarantees and the schema.
 */
#ifndef KZ_STORE_H
#define KZ_STORE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

struct kz_store;

/* One schema step. version counts 1, 2, 3, ... without gaps; a released
 * migration is never edited, later changes are new versions. The SQL (may
 * hold several statements) runs first, then apply (for what SQL cannot do,
 * such as backfilling from computed values); either may be NULL. apply
 * returns 0 or a negative errno and writes a reason into err. */
struct kz_migration {
	int version;
	const char *description;
	const char *sql;
	int (*apply)(sqlite3 *db, char *err, size_t errlen);
};

#define KZ_STORE_CREATE  0x1 /* create the file if it does not exist */
#define KZ_STORE_DURABLE 0x2 /* synchronous=FULL: also survive power loss */
#define KZ_STORE_NOMUTEX                                                                           \
	0x4 /* one thread at a time uses the handle: skip SQLite's                                 \
	       per-call connection mutex (the hub's writer) */

#define KZ_STORE_BUSY_MS 5000 /* how long a statement waits for another writer */

/* Opens (with KZ_STORE_CREATE: creates) the store at path and brings its
 * schema to the latest version of kizuki's own migration list. Returns 0 and
 * *out, or a negative errno with a one-line reason naming the path in err:
 * -ENOENT (no such file without KZ_STORE_CREATE), -EPROTONOSUPPORT (the file
 * has a newer schema than this binary knows), -EINVAL (not a kizuki store),
 * -EBUSY (another writer held the lock longer than KZ_STORE_BUSY_MS), -EIO or
 * -ENOSPC from SQLite, or the error of a failed migration, which is rolled
 * back: the file stays at the version before it. */
int kz_store_open(const char *path, unsigned flags, struct kz_store **out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* As kz_store_open with another migration list (list[i].version == i + 1);
 * for tests and tools. The list is borrowed for the call. */
int kz_store_open_with(const char *path, unsigned flags, const struct kz_migration *list, size_t n,
                       struct kz_store **out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Closes the database. Statements prepared on it must be finalized first. */
void kz_store_close(struct kz_store *s);

/* The SQLite handle, borrowed, for modules that own their SQL. */
sqlite3 *kz_store_db(struct kz_store *s);

/* The path given at open. */
const char *kz_store_path(const struct kz_store *s);

/* The schema version the file is at (after open: the latest of the list). */
int kz_store_version(const struct kz_store *s);

/* The latest schema version kizuki's own migration list defines. */
int kz_store_latest_version(void);

/* kizuki's own migration list (*n entries): with kz_store_open_with and a
 * shorter n, a file at an older version, for upgrade tests. */
const struct kz_migration *kz_store_migration_list(size_t *n);

/* Runs one or more SQL statements without results. Returns 0 or a negative
 * errno with "path: sqlite message" in err. */
int kz_store_exec(struct kz_store *s, const char *sql, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Prepares one statement (the caller finalizes it). Errors as exec. */
int kz_store_prepare(struct kz_store *s, const char *sql, sqlite3_stmt **stmt, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

/* BEGIN IMMEDIATE: a write transaction that takes the write lock at once, so
 * it never fails half-way for want of it (waits up to KZ_STORE_BUSY_MS). */
int kz_store_begin(struct kz_store *s, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* COMMIT. When it returns 0 the transaction survives a crash of the process
 * (and, with KZ_STORE_DURABLE, of the machine); see docs/store.md. */
int kz_store_commit(struct kz_store *s, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* ROLLBACK, if a transaction is open; never fails in a way callers can act
 * on, so it returns nothing. */
void kz_store_rollback(struct kz_store *s);

/* The value of key in kz_meta, in a new string the caller frees. Returns 0,
 * -ENOENT when the key is absent, or another negative errno (err set). */
int kz_store_meta_get(struct kz_store *s, const char *key, char **value, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* Sets key to value in kz_meta (insert or replace). */
int kz_store_meta_set(struct kz_store *s, const char *key, const char *value, char *err,
                      size_t errlen) __attribute__((warn_unused_result));

/* The integer key of a record id (extra.finding_id, extra.observation_id):
 * its first 64 bits, as stored in hub_observations.okey. Keys may collide;
 * a match is confirmed on the full id. Text that is not an id of ours
 * (lowercase hex) gets a hash of the whole text. */
int64_t kz_store_id_key(const char *id, size_t len);

/* A negative errno for an SQLite result code (primary or extended). */
int kz_store_errno(int sqlite_rc);

#endif
