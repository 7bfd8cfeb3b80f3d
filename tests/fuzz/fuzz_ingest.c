/*
 * Arbitrary bytes as a POST /api/v1/events body through the hub's ingest
 * path (kz_ingest_prepare, then kz_ingest_store into a real SQLite store in
 * memory): no crash, no leak, no read outside the input, and the counts add
 * up: every line is accepted, a duplicate, or rejected with a line number
 * within the body and a clean reason (when it is read, or when it is stored
 * if it conflicts with a stored run record); storing the same body again accepts
 * nothing new (idempotency); the store keeps one finding per finding id and
 * one observation per observation id.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "store.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kz_store *store;
static struct kz_ingest *ing;
static unsigned runs;

static void reopen(void)
{
	char err[256];
	kz_ingest_close(ing);
	kz_store_close(store);
	if (kz_store_open(":memory:", KZ_STORE_CREATE, &store, err, sizeof err) ||
	    kz_ingest_open(store, NULL, &ing, err, sizeof err))
		abort();
}

static long long count(const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;
	if (sqlite3_prepare_v2(kz_store_db(store), sql, -1, &st, NULL) != SQLITE_OK)
		abort();
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void store_once(const uint8_t *data, size_t size, int64_t now, uint64_t *acc, uint64_t *dup)
{
	struct kz_ingest_batch *b;
	char err[256];
	if (kz_ingest_prepare((const char *)data, size, NULL, NULL, now, NULL, &b) != 0)
		return; /* out of memory */
	const struct kz_ingest_result *res = kz_ingest_batch_result(b);
	unsigned long lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += data[i] == '\n';
	for (size_t i = 0; i < res->nerrors; i++) {
		size_t n = strlen(res->errors[i].reason);
		if (res->errors[i].line == 0 || res->errors[i].line > lines || n == 0 ||
		    kz_utf8_check((const uint8_t *)res->errors[i].reason, n) != n)
			abort();
	}
	uint64_t refused_before = res->rejected;
	if (kz_store_begin(store, err, sizeof err))
		abort();
	if (kz_ingest_store(ing, b, now, err, sizeof err) != 0) {
		/* Only an SQLite limit (a huge record) may fail a store. */
		kz_store_rollback(store);
		kz_ingest_batch_free(b);
		*acc = *dup = UINT64_MAX;
		return;
	}
	if (kz_store_commit(store, err, sizeof err))
		abort();
	/* Storing may refuse an item (a run record conflicting with the
	 * stored one), never lose one. */
	if (res->rejected < refused_before ||
	    res->accepted + res->duplicates + (res->rejected - refused_before) !=
	            kz_ingest_batch_items(b))
		abort();
	*acc = res->accepted;
	*dup = res->duplicates;
	kz_ingest_batch_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!store || ++runs % 500 == 0)
		reopen();
	uint64_t acc1, dup1, acc2, dup2;
	store_once(data, size, 1795800000, &acc1, &dup1);
	if (acc1 == UINT64_MAX)
		return 0;
	store_once(data, size, 1795800000, &acc2, &dup2);
	if (acc2 != 0 || dup2 != acc1 + dup1)
		abort();
	if (count("SELECT count(*) FROM hub_findings") !=
	    count("SELECT count(DISTINCT finding_id) FROM hub_findings"))
		abort();
	if (count("SELECT count(*) FROM hub_observations o LEFT JOIN hub_findings f ON"
	          " f.id = o.finding WHERE f.id IS NULL") != 0)
		abort();
	return 0;
}
