/*
 * Private to the survey program: what main.c (options, order of the run)
 * and output.c (records, progress, summary) share.
 */
#ifndef KZ_SURVEY_SURVEY_H
#define KZ_SURVEY_SURVEY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "portspec.h"
#include "scan.h"
#include "scope.h"

struct kz_jsonl_writer;

/* Everything a run's records and lines are made from. */
struct survey_run {
	char run_id[37]; /* a random UUID */
	const char *authorization;
	const char *mode;
	struct kz_portspec ports[KZ_PORTSPEC_MAX];
	size_t nports;
	uint64_t seed, shard, shards;
	uint64_t rate;
	unsigned probes, cooldown_ms;
	const struct kz_scope *scope;
	struct kz_scan *scan;
	struct kz_addr scanner_ip;
	bool has_scanner_ip;
	int64_t start, end;
	struct kz_jsonl_writer *out;
	int out_error; /* the first write error, negative errno */
	bool progress;
	bool progress_tty;
	bool progress_dirty; /* a \r line is on the terminal */
};

/* Writes the header or trailer record (other/other/survey-run). Returns 0
 * or a negative errno, reported. */
int survey_write_run_record(struct survey_run *r, bool trailer, const struct kz_scan_stats *st);

/* The on_hit callback: one record with extra.status "open". */
void survey_on_hit(void *ctx, const struct kz_scan_hit *hit);

/* The on_progress callback: one ZMap-like line on stderr. */
void survey_on_progress(void *ctx, const struct kz_scan_stats *st);

/* The dry-run callback: one line per probe on stdout. */
int survey_on_probe(void *ctx, const struct kz_scan_probe *p);

/* The line printed before sending: what, how much, how fast, how long. */
void survey_print_plan(const struct survey_run *r);

/* The closing summary on stderr. */
void survey_print_summary(struct survey_run *r, const struct kz_scan_stats *st);

#endif
