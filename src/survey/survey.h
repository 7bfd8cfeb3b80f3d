/*
 * Private to the survey program: what main.c (options, order of the run)
 * and output.c (records, progress, summary) share.
 */
#ifndef KZ_SURVEY_SURVEY_H
#define KZ_SURVEY_SURVEY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <pthread.h>

#include "creds.h"
#include "login_engine.h"
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
	/* Stage 2. Records come from the engine's thread and, when its queue
	 * is full, from the scan's delivery thread: out_mu orders them. */
	pthread_mutex_t out_mu;
	bool login;               /* stage 2 runs (no --no-login) */
	bool targets_mode;        /* --targets-file: stage 2 alone, no scan */
	uint64_t targets;         /* targets-file: targets handed to stage 2 */
	uint64_t targets_outside; /* targets-file: outside the scope, skipped */
	uint64_t unchecked;       /* open ports stage 2's queue refused (written "open") */
	struct kz_login_engine *engine;
	const struct kz_creds *creds;
	const char *creds_name; /* "default", or the --creds path */
	bool redact;
	unsigned max_attempts, concurrency;
};

/* Writes the header or trailer record (other/other/survey-run), with
 * stage 1's counts (st; NULL with --targets-file) and stage 2's (lst; NULL
 * with --no-login). Returns 0 or a negative errno, reported. */
int survey_write_run_record(struct survey_run *r, bool trailer, const struct kz_scan_stats *st,
                            const struct kz_login_engine_stats *lst);

/* The on_hit callback: with --no-login one record with extra.status
 * "open"; else the port goes to stage 2 (and is written "open" if stage 2's
 * queue refuses it, so that no port found is lost). */
void survey_on_hit(void *ctx, const struct kz_scan_hit *hit);

/* Stage 2's result callback: one record per service (login_record.h). */
void survey_on_login_result(void *ctx, const struct kz_login_report *rep);

/* Stage 2's progress callback: services done, in flight, waiting, found,
 * and the time left once nothing more can come (with stage 1's line while
 * it runs). */
void survey_on_login_progress(void *ctx, const struct kz_login_engine_stats *st);

/* Stage 2's closing summary on stderr. */
void survey_print_login_summary(struct survey_run *r, const struct kz_login_engine_stats *st);

/* The on_progress callback: one ZMap-like line on stderr. */
void survey_on_progress(void *ctx, const struct kz_scan_stats *st);

/* The dry-run callback: one line per probe on stdout. */
int survey_on_probe(void *ctx, const struct kz_scan_probe *p);

/* The line printed before sending: what, how much, how fast, how long. */
void survey_print_plan(const struct survey_run *r);

/* The closing summary on stderr. */
void survey_print_summary(struct survey_run *r, const struct kz_scan_stats *st);

#endif
