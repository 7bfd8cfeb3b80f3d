/*
 * The telescope engine: frames in, events and interval statistics out.
 *
 *   frame -> decode (pkt.h) -> darknet filter -> classify (classify.h)
 *         -> per-source state (srctable.h), RS-DoS vectors (rsdos.h),
 *            per-port counters (portstats.h)
 *         -> at each interval boundary of packet time: verdicts
 *            (scanner.h), attacks, port stats, surges (surge.h) -> sinks
 *
 * Intervals are aligned to the wall clock of packet time: interval k covers
 * [k * len, (k + 1) * len) seconds since the epoch. An interval is closed
 * when the first packet of a later one arrives (or at the end, or by
 * kz_telescope_tick on a quiet live interface); a packet stamped earlier
 * than the open interval (reordering) is counted in the open interval.
 *
 * Events (CONTRACT.md): a source, victim or port gets a record when it first
 * qualifies, then at most one update per interval in which it is active,
 * with the same extra.finding_id and a new extra.observation_id. Sources
 * (thousands of them are active at once on a busy darknet) are updated at
 * most every update_s seconds: an update is due when the source was active
 * since its last record and that record is update_s old; due updates go
 * out at the end of the interval in which they fall due (found by a sweep
 * of the table every update_s), and every pending update at the end of the
 * run, so the last record of each finding has its final counts. Victims
 * are updated every interval they are active.
 *
 * Hot path. kz_telescope_frame decodes and classifies into a 64-byte
 * summary (the fused fast path of classify.h for plain IPv4 frames, the
 * decoder and classifier for the rest), hashes its source and queues it; every
 * KZ_TELESCOPE_BATCH (512) summaries the batch is analysed as a software
 * pipeline (prefetch a packet's index slot, resolve its entry and prefetch
 * it, update with it, each stage 8 packets behind the one before), so the
 * cache misses overlap instead of following each other. No allocation, no
 * system call per packet. With threads = 2 the decode and classification run on
 * the caller's thread and the analysis on a second one, fed through a
 * single-producer single-consumer ring of batches; a third thread, the
 * writer, formats the records and calls the sinks from a second ring of
 * jobs, so that the analysis thread (the busier one) only judges. Sinks are
 * then called from the writer thread, always in the order the analysis
 * produced the records, never from two threads at once.
 *
 * Output goes to sinks: const tables of functions (STYLE.md 2) that receive
 * each event record, each stats row and the end of each interval (their
 * commit point). tsink.h has the JSON Lines and store sinks.
 */
#ifndef KZ_TELESCOPE_H
#define KZ_TELESCOPE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "hll.h"
#include "pcapfile.h"
#include "pkt.h"
#include "rsdos.h"
#include "scanner.h"
#include "srctable.h"

#define KZ_TELESCOPE_BATCH          512
#define KZ_TELESCOPE_INTERVAL_MAX   86400u
#define KZ_TELESCOPE_SINKS_MAX      4
#define KZ_TELESCOPE_DEFAULT_IVAL   60u
#define KZ_TELESCOPE_DEFAULT_SRCS   1000000u
#define KZ_TELESCOPE_DEFAULT_UPDATE 600u

struct kz_telescope_config {
	const struct kz_cidr *darknet; /* the darknet prefixes (borrowed for the call) */
	size_t ndarknet;
	const char *sensor;   /* extra.sensor (copied) */
	uint32_t interval_s;  /* 1 .. KZ_TELESCOPE_INTERVAL_MAX */
	uint32_t max_sources; /* the per-source budget (>= 1) */
	uint32_t max_attacks; /* RS-DoS vectors; 0: max(4096, max_sources / 16) */
	bool anonymised_dst;  /* switch off the rules that read ip.dst */
	/* A qualified source's record is updated at most every update_s
	 * seconds of packet time (and at the end), however often it is
	 * active; 0 or anything up to interval_s: every interval it is
	 * active. */
	uint32_t update_s;
	unsigned threads; /* 1, or 2 for a separate analysis thread */
	/* time.observation of the records (seconds); NULL: the system clock. */
	int64_t (*clock)(void);
};

enum kz_tevent_kind { KZ_TEV_INFECTED = 0, KZ_TEV_SCANNER, KZ_TEV_DOS, KZ_TEV_SURGE, KZ_TEV_COUNT };

/* What a sink gets with each event record. Strings are borrowed for the
 * call. */
struct kz_tevent {
	enum kz_tevent_kind kind;
	bool first; /* the first record of this finding in this run (else an update) */
	const char *identifier;
	const char *finding_id, *observation_id;
	int64_t interval_start, time_source;
};

/* One stats record (CONTRACT.md "Interval stats"). */
struct kz_tstats_row {
	const char *sensor;
	uint64_t darknet_size;
	int64_t interval_start;
	uint32_t interval_len;
	const char *proto; /* kz_tproto_name */
	uint16_t port;
	uint64_t packets, unique_sources;
	const struct kz_hll *hll; /* NULL below KZ_STATS_HLL_MIN_SOURCES sources */
};

/* The end of an interval, with what the analysis counted in it (the
 * summary has the totals). After the last interval, the final sweep of
 * pending updates ends with one more call with `final` set and the same
 * start. */
struct kz_tinterval {
	const char *sensor;
	int64_t start;
	uint32_t len;
	bool final;
	uint64_t analysed;        /* packets analysed in the interval */
	uint64_t sources_active;  /* sources with packets in it */
	uint32_t sources_held;    /* entries of the source table in use at its end */
	uint64_t sources_evicted; /* entries taken from still-active sources in it */
	uint64_t vectors_evicted; /* RS-DoS vectors dropped while active in it */
	uint64_t reordered;       /* packets stamped before it, counted in it */
};

/* An output sink. Every function returns 0 or a negative errno; the first
 * failure stops the engine (kz_telescope_error) and error() says why. Any
 * function may be NULL. An event arrives as its JSON line (len bytes, the
 * final "\n" included), exactly as --events holds it. */
struct kz_tsink {
	const char *name;
	int (*event)(void *state, const char *line, size_t len, const struct kz_tevent *ev);
	int (*stats)(void *state, const struct kz_tstats_row *row);
	/* All records of the interval have been handed over. */
	int (*interval_done)(void *state, const struct kz_tinterval *iv);
	const char *(*error)(void *state);
};

/* What the engine counted; kz_telescope_summary fills it. */
struct kz_telescope_summary {
	uint64_t frames, bytes;        /* handed to the engine */
	struct kz_pkt_counters decode; /* by decode result (OK = decoded) */
	uint64_t outside;              /* decoded, not addressed to the darknet */
	uint64_t analysed;             /* addressed to the darknet */
	uint64_t by_class[KZ_TCLASS_COUNT];
	uint64_t reordered; /* stamped before the open interval */
	uint64_t intervals; /* intervals closed */
	uint64_t events_new[KZ_TEV_COUNT], events_update[KZ_TEV_COUNT];
	uint64_t by_label[KZ_LABEL_COUNT]; /* source records by label */
	uint64_t stats_rows;
	uint64_t scans_restarted; /* sources seen again after the scan timeout */
	uint64_t hll_errors;
	uint64_t untracked; /* packets analysed without a source entry (see .c) */
	struct kz_srctable_stats sources;
	struct kz_rsdos_stats attacks;
	uint64_t first_ns, last_ns; /* packet time of the first and last analysed packet */
	size_t memory;              /* bytes of the fixed tables */
	/* CPU seconds of each thread, set by kz_telescope_finish: the calling
	 * thread (reading, decoding, classifying; with one thread, all of
	 * it), the analysis thread and the writer (0 with one thread). */
	double cpu_caller, cpu_analysis, cpu_writer;
};

struct kz_telescope;

/* Makes an engine. err gets one line on failure ("--darknet: ..."). Returns
 * 0, -EINVAL or -ENOMEM. */
int kz_telescope_new(const struct kz_telescope_config *cfg, struct kz_telescope **out, char *err,
                     size_t errlen) __attribute__((warn_unused_result));

/* Adds a sink (the table and state are borrowed until kz_telescope_free). */
int kz_telescope_add_sink(struct kz_telescope *t, const struct kz_tsink *sink, void *state)
        __attribute__((warn_unused_result));

/* Takes one frame (a kz_capture_fn: user is the engine). */
void kz_telescope_frame(void *user, const struct kz_frame *f);

/* Hands queued packets over to the analysis (2 threads) or analyses them
 * (1 thread). Call after each capture batch so that a quiet live interface
 * does not hold packets back. */
void kz_telescope_push(struct kz_telescope *t);

/* Tells the engine that the time is now_ns (live capture: the system
 * clock). Closes the open interval when its end is more than 2 s in the
 * past, so a quiet interface still reports on time. */
void kz_telescope_tick(struct kz_telescope *t, uint64_t now_ns);

/* Analyses what is queued and closes the open interval. Returns 0 or the
 * first error (also after earlier failures). */
int kz_telescope_finish(struct kz_telescope *t) __attribute__((warn_unused_result));

/* The first error so far (0 if none) and its text. */
int kz_telescope_error(const struct kz_telescope *t);
const char *kz_telescope_error_text(const struct kz_telescope *t);

/* Counters; with 2 threads, call after kz_telescope_finish for exact
 * figures (before it, the analysis thread's counters lag). */
void kz_telescope_summary(struct kz_telescope *t, struct kz_telescope_summary *s);

/* Progress figures that are safe to read while the engine runs. */
void kz_telescope_progress(const struct kz_telescope *t, uint64_t *frames, uint64_t *sources,
                           uint64_t *events);

/* The thresholds in force and the darknet's IPv4 size. */
const struct kz_scan_thresholds *kz_telescope_thresholds(const struct kz_telescope *t);
uint64_t kz_telescope_darknet_size(const struct kz_telescope *t);

/* Stops the analysis thread (if any) and frees everything. */
void kz_telescope_free(struct kz_telescope *t);

const char *kz_tevent_kind_name(enum kz_tevent_kind k);

#endif
