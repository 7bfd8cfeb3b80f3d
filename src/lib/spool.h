/*
 * The sensors' upload to the hub, through an on-disk spool (CONTRACT.md:
 * `--hub URL --token-file F --spool DIR --spool-max BYTES`; docs/spool.md).
 *
 * Records are appended to segment files in the spool directory; a sender
 * thread posts closed segments, oldest first, to the hub's
 * /api/v1/events (or /api/v1/stats) and deletes a segment only when the
 * hub's reply accounts for every line of it (accepted + duplicates +
 * rejected). While the hub is down or failing the sender retries with
 * backoff (0.5 s doubling to 30 s) and the spool keeps growing: nothing is
 * lost up to --spool-max. Past it the oldest closed segments are dropped,
 * counted, logged, reported in the summary and sent to the hub with the
 * next upload (X-Kizuki-Spool-Dropped), whose /metrics shows them.
 *
 * Durability: lines are written with write(2) as they come (so a crash of
 * the sensor loses nothing written); a segment is fsync'd when it is
 * closed (at 1 MiB, or after one second), before it becomes sendable. A
 * power cut may lose the open segment's last second. A spool directory left
 * by a crash is picked up at the next open: an open segment is cut back to
 * its last whole line and queued.
 *
 * Posting a segment twice (a reply lost after the hub committed) is
 * harmless: the hub counts the second copy as duplicates.
 */
#ifndef KZ_SPOOL_H
#define KZ_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define KZ_SPOOL_SEGMENT_BYTES (1u << 20)
#define KZ_SPOOL_MAX_DEFAULT   (1ull << 30)

enum kz_spool_stream {
	KZ_SPOOL_EVENTS, /* POST /api/v1/events */
	KZ_SPOOL_STATS,  /* POST /api/v1/stats */
	KZ_SPOOL_STREAMS,
};

struct kz_spool_config {
	const char *dir;      /* created (0700) if missing */
	uint64_t max_bytes;   /* 0: KZ_SPOOL_MAX_DEFAULT */
	const char *hub_url;  /* "http://host:port" (a trailing /api/v1/... is cut) */
	const char *token;    /* copied; wiped at close */
	const char *sensor;   /* sent as X-Kizuki-Sensor; may be NULL */
	size_t segment_bytes; /* 0: KZ_SPOOL_SEGMENT_BYTES; never above max_bytes / 16
	                         (at least 4 KiB) */
};

struct kz_spool_stats {
	uint64_t pending_bytes, pending_segments;
	uint64_t sent_records, sent_segments;
	uint64_t rejected_records; /* the hub refused them (bad lines) */
	uint64_t dropped_records;  /* since the spool directory was made (kept in <dir>/dropped) */
	uint64_t dropped_segments, dropped_bytes; /* by this process */
	uint64_t failed_posts;                    /* attempts that will be retried */
};

struct kz_spool;

/* Opens (creates) the spool, takes over what a previous run left, and
 * starts the sender. Returns 0 or a negative errno with err set. */
int kz_spool_open(const struct kz_spool_config *cfg, struct kz_spool **out, char *err,
                  size_t errlen) __attribute__((warn_unused_result));

/* The command line's form (`--hub URL --token-file F [--spool DIR]
 * [--spool-max BYTES]`): reads the token from token_file (kz_token_file_read),
 * uses "kizuki-spool" in the working directory when dir is NULL, and opens
 * the spool. sensor names the uploader in the hub's /metrics (may be NULL).
 * Errors as kz_spool_open, naming the option at fault. */
int kz_spool_open_cli(const char *hub_url, const char *token_file, const char *dir,
                      uint64_t max_bytes, const char *sensor, struct kz_spool **out, char *err,
                      size_t errlen) __attribute__((warn_unused_result));

/* Appends one record line (len bytes; a "\n" is added when it lacks one).
 * Returns 0, or a negative errno when the disk refuses (the record is then
 * not spooled; the caller reports it). */
int kz_spool_append(struct kz_spool *sp, enum kz_spool_stream s, const char *line, size_t len)
        __attribute__((warn_unused_result));

/* Closes the open segments so that the sender can send them now. */
int kz_spool_flush(struct kz_spool *sp) __attribute__((warn_unused_result));

/* Figures so far. */
void kz_spool_get_stats(struct kz_spool *sp, struct kz_spool_stats *st);

/* Flushes, gives the sender up to drain_seconds to empty the spool, stops
 * it, and frees everything. What was not sent stays in the directory for
 * the next run. *st (may be NULL) receives the final figures. */
void kz_spool_close(struct kz_spool *sp, double drain_seconds, struct kz_spool_stats *st);

#endif
