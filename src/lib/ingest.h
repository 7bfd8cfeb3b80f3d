/*
 * Ingest: JSON Lines of records (telescope, survey, any IntelMQ producer)
 * into the hub's store (docs/hub.md "Ingest", docs/store.md).
 *
 * Two phases, so that the expensive part runs in parallel and the single
 * SQLite writer does only SQL:
 *   1. kz_ingest_prepare (any thread, no store): frame, parse, validate,
 *      compute ids for other producers' records, classify, attribute
 *      (pfx2as, operators, mmdb) with the enrichment snapshot of the moment:
 *      attribution is fixed at observation time. Each bad line is kept as
 *      an error (line number and reason); good lines become items.
 *   2. kz_ingest_store (the writer, inside a transaction the caller opened):
 *      per item, skip it if its observation id is known (idempotency),
 *      else store the observation as received, create or update the
 *      finding, append a sighting, move the lifecycle and log transitions.
 *      Survey run headers and trailers go to hub_runs; a finished run (or
 *      the last shard of a sweep) applies coverage.
 * kz_ingest_events does both in one call with its own transaction, for
 * `telescope --db`, the demo and tests.
 *
 * Ownership: a batch borrows the body it was prepared from (stored records
 * point into it) and holds a reference to the enrichment snapshot; free the
 * batch before the body.
 */
#ifndef KZ_INGEST_H
#define KZ_INGEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "enrich.h"
#include "jsonl.h"
#include "store.h"

#define KZ_INGEST_ERRORS_MAX 1000 /* errors listed per body; all are counted */

/* What a finding is about (hub_findings.kind, the API's kind=). */
enum kz_finding_kind {
	KZ_KIND_SURVEY,     /* a surveyed service, whatever its status */
	KZ_KIND_INFECTED,   /* telescope: infected IoT host */
	KZ_KIND_SCANNER,    /* telescope: scanner */
	KZ_KIND_DOS_VICTIM, /* telescope: backscatter from a DoS victim */
	KZ_KIND_PORT_SURGE, /* telescope: port surge */
	KZ_KIND_OTHER,      /* another IntelMQ producer's record */
	KZ_KIND_COUNT,
};

/* "survey", "infected", "scanner", "dos-victim", "port-surge", "other". */
const char *kz_finding_kind_name(enum kz_finding_kind k);
int kz_finding_kind_parse(const char *s, enum kz_finding_kind *out)
        __attribute__((warn_unused_result));

struct kz_ingest_error {
	unsigned long line;
	char reason[KZ_JSONL_REASON_MAX];
};

/* The reply of POST /api/v1/events. errors holds the first
 * KZ_INGEST_ERRORS_MAX; rejected counts them all. */
struct kz_ingest_result {
	uint64_t accepted, duplicates, rejected;
	struct kz_ingest_error *errors;
	size_t nerrors;
};

/* Who posted (borrowed for the call). Anonymous submissions (partners) are
 * stored with the submitter for the audit, marked so that nothing shared
 * ever names it, and with feed.provider / feed.url / feed.code /
 * feed.documentation removed from the stored record. */
struct kz_submitter {
	const char *name;
	bool anonymous;
};

struct kz_ingest_config {
	int64_t inactive_after; /* seconds; 0 means the default, 7 days */
	size_t sightings_keep;  /* 0 means KZ_SIGHTINGS_DEFAULT */
};

#define KZ_INACTIVE_AFTER_DEFAULT (7 * 86400)

struct kz_ingest;
struct kz_ingest_batch;

/* Opens the writer side on a store (borrowed; one thread uses it). Returns
 * 0 or a negative errno with err set. */
int kz_ingest_open(struct kz_store *s, const struct kz_ingest_config *cfg, struct kz_ingest **out,
                   char *err, size_t errlen) __attribute__((warn_unused_result));
void kz_ingest_close(struct kz_ingest *ing);

/* Phase 1. body[0..len) is borrowed until the batch is freed; enrich
 * (borrowed, may be NULL) is referenced by the batch; now is the hub's
 * clock (for --inactive-after). Returns 0 (bad lines are in the result),
 * or -ENOMEM. */
int kz_ingest_prepare(const char *body, size_t len, struct kz_enrich *enrich,
                      const struct kz_submitter *who, int64_t now,
                      const struct kz_ingest_config *cfg, struct kz_ingest_batch **out)
        __attribute__((warn_unused_result));

/* Phase 2, on the writer, inside a transaction. Fills accepted and
 * duplicates. On error (the store failed: disk full, I/O) returns a
 * negative errno with err set; the caller rolls back and the batch's
 * counts are reset by the next call. */
int kz_ingest_store(struct kz_ingest *ing, struct kz_ingest_batch *b, int64_t now, char *err,
                    size_t errlen) __attribute__((warn_unused_result));

/* The writer remembers the observations it stored (and found stored) in
 * transactions that committed, so that a repeat is answered without a
 * read of the store. Entries wait until the caller says how the
 * transaction ended: kz_ingest_committed after a successful COMMIT keeps
 * them, kz_ingest_rolled_back after a ROLLBACK (or a ROLLBACK TO that may
 * have undone any of them) drops them. A caller that calls neither never
 * uses the memory, only the store. kz_ingest_forget empties it: call it
 * after deleting observations (retention), since the memory would still
 * call them stored. */
void kz_ingest_committed(struct kz_ingest *ing);
void kz_ingest_rolled_back(struct kz_ingest *ing);
void kz_ingest_forget(struct kz_ingest *ing);

/* The batch's result (borrowed from the batch). */
const struct kz_ingest_result *kz_ingest_batch_result(const struct kz_ingest_batch *b);

/* Good lines waiting to be stored. */
size_t kz_ingest_batch_items(const struct kz_ingest_batch *b);

void kz_ingest_batch_free(struct kz_ingest_batch *b);

/* After kz_ingest_store: calls fn once per feed.name in the batch with the
 * number of its records accepted and found duplicate (for /metrics). */
void kz_ingest_batch_feeds(const struct kz_ingest_batch *b,
                           void (*fn)(void *arg, const char *feed, uint64_t accepted,
                                      uint64_t duplicates),
                           void *arg);

/* Both phases in one transaction. *res receives the counts and a copy of
 * the errors (free with kz_ingest_result_clear). */
int kz_ingest_events(struct kz_ingest *ing, const char *body, size_t len, struct kz_enrich *enrich,
                     const struct kz_submitter *who, struct kz_ingest_result *res, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

void kz_ingest_result_clear(struct kz_ingest_result *res);

/* The store this ingest writes to (borrowed). */
struct kz_store *kz_ingest_store_handle(struct kz_ingest *ing);

#endif
