/*
 * The telescope's output sinks (struct kz_tsink in telescope.h): const
 * tables of functions, one per destination.
 *
 *  - kz_tsink_events: event records as JSON Lines (--events), written as
 *    the engine formatted them, through a 1 MiB stdio buffer;
 *  - kz_tsink_stats: interval stats records as JSON Lines (--stats), the
 *    form of CONTRACT.md "Interval stats" that POST /api/v1/stats takes;
 *  - kz_tsink_spool: both to a hub (--hub), through the on-disk spool of
 *    spool.h (records to /api/v1/events, stats to /api/v1/stats), the
 *    spool's segments closed at the end of every interval;
 *  - kz_tsink_store: both into the shared store (--db) through the hub's
 *    ingest (findings, observations, sightings, stats rollups), plus the
 *    interval counters (telescope_intervals), one transaction per interval
 *    (docs/store.md).
 *
 * The JSON Lines sinks flush at the end of every interval, so a reader
 * following the file sees whole intervals, and what was written before a
 * failure stays written.
 */
#ifndef KZ_TSINK_H
#define KZ_TSINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jsonl.h"
#include "spool.h"
#include "store.h"
#include "telescope.h"

/* State of the stats sink: the writer (borrowed), room for the last
 * error's text, and the sensor name as a JSON string, kept from row to row
 * (zero-initialise the struct, then set w). */
struct kz_tsink_jsonl {
	struct kz_jsonl_writer *w;
	char why[320];
	char sensor[256];       /* the name sensor_json holds, if it is this short */
	char sensor_json[1100]; /* escaped by jansson, quotes included */
	size_t sensor_json_len; /* 0: nothing kept */
};

extern const struct kz_tsink kz_tsink_events;
extern const struct kz_tsink kz_tsink_stats;
extern const struct kz_tsink kz_tsink_store;
extern const struct kz_tsink kz_tsink_spool;

/* State of the spool sink: the spool (borrowed) and room for the last
 * error's text. */
struct kz_tsink_spool {
	struct kz_spool *sp;
	char why[320];
};

/* The events sink's state: a file of JSON lines that the engine hands
 * over already formatted. */
struct kz_tevents;

/* Opens path for the events sink ("-" is stdout, not closed later); a new
 * file gets mode 0600, as kz_jsonl_writer_open creates its files. With
 * append the file is not truncated. Returns 0 or a negative errno. */
int kz_tevents_open(const char *path, bool append, struct kz_tevents **out)
        __attribute__((warn_unused_result));

/* Lines written so far. */
uint64_t kz_tevents_lines(const struct kz_tevents *ev);

/* Flushes and closes; returns the first error of the file's life (0 if
 * none). */
int kz_tevents_close(struct kz_tevents *ev);

/* The store sink's state. */
struct kz_tstore;

/* Prepares the store sink on an open store (borrowed; it must outlive the
 * sink) for one sensor's records (name copied). Returns 0 or a negative errno with a reason in err.
 */
int kz_tstore_open(struct kz_store *store, const char *sensor, struct kz_tstore **out, char *err,
                   size_t errlen) __attribute__((warn_unused_result));

/* Frees the sink. Lines of an interval that was never closed (the engine
 * failed mid-way) are dropped; committed intervals stay. */
void kz_tstore_close(struct kz_tstore *ts);

/* Lines the store took as new, recognised as already stored, and refused. */
void kz_tstore_counts(const struct kz_tstore *ts, uint64_t *accepted, uint64_t *duplicates,
                      uint64_t *rejected);

/* Builds the JSON object of one stats row (a new reference), as written to
 * --stats. Returns NULL on ENOMEM. */
json_t *kz_tstats_json(const struct kz_tstats_row *row);

#endif
