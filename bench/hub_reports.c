/*
 * kizuki-bench-hub_reports: issue 6's "all operators' reports for 1 M
 * findings in < 10 s" (docs/bench-hub-reports.md). bench/hub_reports.sh
 * fills a store with kizuki-bench-hub (through the ingest library) and
 * runs this.
 *
 *   kizuki-bench-hub_reports DB OUTDIR|- FORMAT...
 *       For each FORMAT (csv, json, xarf), writes every operator's report
 *       (every AS in hub_operators) into OUTDIR/AS<asn>.<ext>, or to
 *       /dev/null with "-", two ways, and prints operators, findings,
 *       bytes, seconds and findings/s for each:
 *         each  one index range per operator (kz_report_write), as the
 *               hub's pulls, notifier and `kizuki report --asn N` do;
 *         all   one pass over every finding, demultiplexed to the
 *               operators' files (kz_report_write_all), as
 *               `kizuki report --asn all` does.
 *
 * The store is opened as `kizuki report` opens it; the page cache is warm
 * after the first format (say so when quoting the figures).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "frow.h"
#include "report.h"
#include "store.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: on a shared machine the wall time also
 * holds the time other processes had the CPU. */
static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_format(sqlite3 *db, const uint32_t *asns, size_t nasns, const char *outdir,
                      enum kz_report_format fmt)
{
	char err[512], path[4200];
	struct kz_anon_names *anon = NULL;
	size_t findings = 0;
	long long bytes = 0;
	double t0 = now_s(), c0 = cpu_s();
	if (kz_anon_names_load(db, &anon, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (size_t i = 0; i < nasns; i++) {
		if (strcmp(outdir, "-") == 0)
			snprintf(path, sizeof path, "/dev/null");
		else
			snprintf(path, sizeof path, "%s/AS%u%s", outdir, asns[i],
			         kz_report_format_ext(fmt));
		FILE *f = fopen(path, "w");
		if (!f) {
			fprintf(stderr, "%s: %s\n", path, strerror(errno));
			kz_anon_names_free(anon);
			return 1;
		}
		/* A large buffer: reports are written sequentially. */
		setvbuf(f, NULL, _IOFBF, 1 << 20);
		struct kz_report_opts o = {
			.asn = asns[i],
			.format = fmt,
			.since = INT64_MIN,
			.now = (int64_t)time(NULL),
			.anon = anon,
		};
		size_t n = 0;
		if (kz_report_write(db, &o, f, NULL, &n, err, sizeof err) != 0) {
			fprintf(stderr, "AS%u: %s\n", asns[i], err);
			fclose(f);
			kz_anon_names_free(anon);
			return 1;
		}
		bytes += ftell(f) > 0 ? ftell(f) : 0;
		fclose(f);
		findings += n;
	}
	double dt = now_s() - t0, dc = cpu_s() - c0;
	kz_anon_names_free(anon);
	printf("%-5s each  %zu operators, %zu findings, %.1f MB, %.2f s (%.2f s CPU), %.0f "
	       "findings/s\n",
	       kz_report_format_name(fmt), nasns, findings, (double)bytes / 1e6, dt, dc,
	       (double)findings / dt);
	return 0;
}

struct sinkctx {
	const char *outdir;
	enum kz_report_format fmt;
	long long bytes;
	int failed;
};

static FILE *sink_open(void *arg, uint32_t asn, const struct kz_report_operator **op,
                       int64_t *renotify_before)
{
	struct sinkctx *x = arg;
	char path[4200];
	(void)op;
	(void)renotify_before;
	if (strcmp(x->outdir, "-") == 0)
		snprintf(path, sizeof path, "/dev/null");
	else
		snprintf(path, sizeof path, "%s/AS%u%s", x->outdir, asn,
		         kz_report_format_ext(x->fmt));
	FILE *f = fopen(path, "w");
	if (!f) {
		x->failed = 1;
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, 1 << 16);
	return f;
}

static int sink_close(void *arg, uint32_t asn, FILE *out, size_t count, bool ok)
{
	struct sinkctx *x = arg;
	(void)asn;
	(void)count;
	(void)ok;
	long pos = ftell(out);
	x->bytes += pos > 0 ? pos : 0;
	return fclose(out) == 0 ? 0 : -EIO;
}

static int run_all(sqlite3 *db, size_t nasns, const char *outdir, enum kz_report_format fmt)
{
	char err[512];
	struct kz_anon_names *anon = NULL;
	struct sinkctx x = { .outdir = outdir, .fmt = fmt };
	struct kz_report_sink sink = { .open = sink_open, .close = sink_close, .arg = &x };
	size_t findings = 0;
	double t0 = now_s(), c0 = cpu_s();
	if (kz_anon_names_load(db, &anon, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct kz_report_opts o = {
		.format = fmt,
		.since = INT64_MIN,
		.now = (int64_t)time(NULL),
		.anon = anon,
	};
	int rc = kz_report_write_all(db, &o, &sink, &findings, err, sizeof err);
	kz_anon_names_free(anon);
	if (rc || x.failed) {
		fprintf(stderr, "all: %s\n", rc ? err : "cannot open a file");
		return 1;
	}
	double dt = now_s() - t0, dc = cpu_s() - c0;
	printf("%-5s all   %zu operators, %zu findings, %.1f MB, %.2f s (%.2f s CPU), %.0f "
	       "findings/s\n",
	       kz_report_format_name(fmt), nasns, findings, (double)x.bytes / 1e6, dt, dc,
	       (double)findings / dt);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: kizuki-bench-hub_reports DB OUTDIR|- FORMAT...\n");
		return 2;
	}
	struct kz_store *s;
	char err[512];
	if (kz_store_open(argv[1], KZ_STORE_NOMUTEX, &s, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (strcmp(argv[2], "-") != 0 && mkdir(argv[2], 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "%s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	sqlite3 *db = kz_store_db(s);
	sqlite3_stmt *st;
	uint32_t *asns = NULL;
	size_t n = 0, cap = 0;
	if (sqlite3_prepare_v2(db, "SELECT asn FROM hub_operators ORDER BY asn", -1, &st, NULL) !=
	    SQLITE_OK) {
		fprintf(stderr, "%s\n", sqlite3_errmsg(db));
		return 1;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			asns = realloc(asns, cap * sizeof *asns);
			if (!asns)
				return 1;
		}
		asns[n++] = (uint32_t)sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	int rc = 0;
	for (int i = 3; i < argc && rc == 0; i++) {
		enum kz_report_format fmt;
		if (kz_report_format_parse(argv[i], &fmt) != 0) {
			fprintf(stderr, "%s: csv, json or xarf\n", argv[i]);
			rc = 2;
			break;
		}
		rc = run_format(db, asns, n, argv[2], fmt);
		if (rc == 0)
			rc = run_all(db, n, argv[2], fmt);
	}
	free(asns);
	kz_store_close(s);
	return rc;
}
