/*
 * Interval statistics at the hub (CONTRACT.md "Interval stats"): the
 * telescope's per-(sensor, interval, protocol, port) lines are kept once
 * each (hub_stats_intervals: posting a line again changes nothing) and
 * merged into 5-minute, 1-hour and 1-day rollups (hub_stats_rollups), whose
 * unique-source counts come from merged HyperLogLog sketches, since
 * distinct counts cannot be summed.
 *
 * A line without a sketch (the telescope leaves it out when only a few
 * sources were seen) contributes its count as a lower bound: a rollup's
 * unique_sources is the larger of the merged sketch's estimate and the
 * largest sketchless count in it.
 */
#ifndef KZ_STATSROLL_H
#define KZ_STATSROLL_H

#include <jansson.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest.h"

/* The rollup bins, in seconds. */
#define KZ_STATS_BINS 3
extern const int64_t kz_stats_bins[KZ_STATS_BINS];

struct kz_stats_batch;

/* Parses a body of stats lines (any thread). Bad lines are errors in the
 * result with their numbers; returns 0 or -ENOMEM. The body is copied from
 * as needed; it need not outlive the batch. */
int kz_stats_prepare(const char *body, size_t len, struct kz_stats_batch **out)
        __attribute__((warn_unused_result));

/* Stores a batch inside the caller's transaction: new interval lines are
 * kept and merged into the rollups; known ones count as duplicates. */
int kz_stats_store(sqlite3 *db, struct kz_stats_batch *b, int64_t now, char *err, size_t errlen)
        __attribute__((warn_unused_result));

const struct kz_ingest_result *kz_stats_batch_result(const struct kz_stats_batch *b);
size_t kz_stats_batch_items(const struct kz_stats_batch *b);
void kz_stats_batch_free(struct kz_stats_batch *b);

/* GET /api/v1/stats/ports: per bin start, protocol and port across all
 * sensors, packets, merged unique sources, sensors, and average packets per
 * sensor (TSUBAME's measure), for bins starting in [from, to). Returns 0,
 * -EINVAL for a bin that is not 300, 3600 or 86400, or a store error. */
int kz_stats_ports(sqlite3 *db, int64_t from, int64_t to, int64_t bin, json_t **out, char *err,
                   size_t errlen) __attribute__((warn_unused_result));

#endif
