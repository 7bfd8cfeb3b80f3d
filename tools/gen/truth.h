/*
 * The ground-truth file: JSON Lines describing what the generator put into
 * the trace, made from the counters the scheduler kept while it wrote each
 * packet and from what each population was told to be. docs/generator.md
 * documents every record and field.
 */
#ifndef GEN_TRUTH_H
#define GEN_TRUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "traffic.h"

struct gen_truth_info {
	const char *profile;
	uint64_t seed;
	const char *pcap;     /* the trace's path, as given */
	const char *darknets; /* the darknet list, as used */
	bool nanosec;
	bool capped; /* stopped at --packets before the end time */
	int64_t end; /* the trace's end: the end time, or the last packet when capped */
};

/* Writes the truth for run r to path. Returns 0 or a negative errno
 * (logged). */
int gen_truth_write(const struct gen_run *r, const struct gen_truth_info *info, const char *path)
        __attribute__((warn_unused_result));

/* The victim figures REFERENCE.md's RS-DoS rule looks at, from the times of
 * its backscatter packets (sorted). peak_grid: the most packets in a 60 s
 * window starting at the first packet plus a multiple of 10 s (corsaro's
 * sliding window); peak_any60 / peak_any50: in any 60 s / 50 s window. */
struct gen_peaks {
	uint64_t peak_grid, peak_any60, peak_any50;
};
struct gen_peaks gen_truth_peaks(const int64_t *times, size_t n);

#endif
