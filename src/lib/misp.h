/*
 * A MISP feed of the hub's findings for partners (docs/reports.md "MISP
 * feed"): a directory with manifest.json, hashes.csv and one <uuid>.json per
 * event, as MISP's "Feeds" pull them. One event per operator (AS) per period:
 * the findings attributed to that AS first seen in that period (a
 * multi-origin finding is in each origin's event; findings with no AS are in
 * the events of AS 0). Attributes: the address as ip-src (sources: infected
 * hosts, scanners; to_ids for infected hosts only) or ip-dst (surveyed
 * devices, DoS victims), and the AS. Tags: tlp:clear ... tlp:red on every
 * attribute and the most restrictive on the event; kizuki:<identifier> on
 * attributes.
 *
 * With a partner key, no address is written as an ip-src/ip-dst attribute:
 * the pseudonym is a "text" attribute of kizuki's own category
 * (KZ_MISP_PSEUDONYM_CATEGORY), its comment naming the key id.
 *
 * Event and attribute uuids are UUIDv5 in kizuki's namespace over the AS,
 * the period and the key id (events) or the finding id (attributes), so a
 * feed pulled twice has the same uuids.
 */
#ifndef KZ_MISP_H
#define KZ_MISP_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "share.h"
#include "uuid.h"

#define KZ_MISP_PSEUDONYM_CATEGORY "kizuki pseudonymised address"
#define KZ_MISP_PERIOD_DEFAULT     86400

/* One event of a feed. */
struct kz_misp_event {
	char uuid[KZ_UUID_STRLEN];
	uint32_t asn;         /* 0: findings with no AS */
	int64_t period_start; /* seconds since the epoch, a multiple of the period */
	size_t count;         /* findings */
	int64_t timestamp;    /* the latest change of any of them */
	enum kz_tlp tlp;      /* the most restrictive label among them */
	enum kz_severity severity;
};

/* The events of a feed, sorted by uuid. */
struct kz_misp_index {
	struct kz_misp_event *ev;
	size_t n;
};

/* Lists the events of the feed o describes: one pass over the findings the
 * partner may see. Returns 0 or a negative errno with err set; free the
 * index with kz_misp_index_free. */
int kz_misp_index_build(sqlite3 *db, const struct kz_feed_opts *o, struct kz_misp_index **out,
                        char *err, size_t errlen) __attribute__((warn_unused_result));
void kz_misp_index_free(struct kz_misp_index *idx);

/* The event with this uuid, or NULL. */
const struct kz_misp_event *kz_misp_index_find(const struct kz_misp_index *idx, const char *uuid);

/* manifest.json of the index. Returns 0 or a negative errno. */
int kz_misp_write_manifest(sqlite3 *db, const struct kz_misp_index *idx,
                           const struct kz_feed_opts *o, FILE *out, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* <uuid>.json of one event: {"Event": {...}}. With hashes (may be NULL),
 * also appends the event's hashes.csv lines ("md5-of-value,event-uuid"). */
int kz_misp_write_event(sqlite3 *db, const struct kz_misp_event *ev, const struct kz_feed_opts *o,
                        FILE *out, FILE *hashes, char *err, size_t errlen)
        __attribute__((warn_unused_result));

/* hashes.csv of the whole feed. */
int kz_misp_write_hashes(sqlite3 *db, const struct kz_misp_index *idx, const struct kz_feed_opts *o,
                         FILE *out, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The whole feed into directory dir (created if missing): every event
 * file, hashes.csv, then manifest.json, each written to a temporary name and
 * renamed, so a reader never sees half a file. *events (may be NULL)
 * receives the number of events. Returns 0 or a negative errno. */
int kz_misp_write_dir(sqlite3 *db, const struct kz_feed_opts *o, const char *dir, size_t *events,
                      char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
