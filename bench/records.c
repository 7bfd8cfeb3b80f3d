/*
 * Records throughput: what a hub POST of kizuki records costs per line
 * (frame, parse, validate, ensure ids) next to a bare jansson parse of the
 * same lines, and what building and writing records costs a sensor.
 *
 *   kizuki-bench-records [N]     (default N = 200000 records)
 *
 * Prints the machine, the command and records/s for each stage; the ratio
 * to the bare parse is the figure to compare across machines. Single
 * thread, memory only, no disk.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "jsonl.h"
#include "record.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void machine(void)
{
	char line[256], model[256] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *c = strchr(line, ':');
			if (c) {
				snprintf(model, sizeof model, "%s", c + 2);
				model[strcspn(model, "\n")] = '\0';
			}
			break;
		}
	}
	if (f)
		fclose(f);
	printf("machine: %s, %ld online CPUs\n", model, sysconf(_SC_NPROCESSORS_ONLN));
}

/* One record of a mix like a survey run's and a telescope's output. */
static json_t *make(size_t i)
{
	static const char banner[] = "\r\nBusyBox v1.21.1 (2015-10-09) built-in shell\r\nlogin: ";
	struct kz_addr a = kz_addr_from_v4(0xc0000200u | (uint32_t)(i & 0xff)); /* 192.0.2.x */
	a.v += (kz_u128)(i >> 8) << 8;
	struct kz_record_spec sp = {
		.time_observation = 1795796400,
		.time_source = 1795796394,
		.addr = a,
	};
	if (i % 2) {
		sp.kind = KZ_REC_WEAK_CREDENTIALS;
		sp.run_id = "bench-run";
		sp.scanner_ip = kz_addr_from_v4(0xc6120001u);
		sp.port = 23;
		sp.application = "telnet";
	} else {
		sp.kind = KZ_REC_INFECTED;
		sp.sensor = "bench-sensor";
		sp.interval_start = 1795796340;
	}
	json_t *rec;
	const char *why;
	if (kz_record_new(&sp, &rec, &why) != 0) {
		fprintf(stderr, "build: %s\n", why);
		exit(1);
	}
	if (i % 2) {
		if (kz_record_set_banner(rec, banner, sizeof banner - 1) ||
		    kz_record_set_str(rec, "extra.status", "login-possible") ||
		    kz_record_set_str(rec, "extra.user", "root") ||
		    kz_record_set_str(rec, "extra.password", "xc3511"))
			exit(1);
	} else if (kz_record_set_int(rec, "extra.packets", 118) ||
	           kz_record_set_int(rec, "source.port", 40312)) {
		exit(1);
	}
	return rec;
}

int main(int argc, char **argv)
{
	size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	if (n == 0)
		n = 1;
	machine();
	printf("command: kizuki-bench-records %zu\n", n);

	/* Build and serialise: the sensor side. */
	size_t cap = n * 1024, len = 0;
	char *body = malloc(cap);
	if (!body)
		return 1;
	double t0 = now();
	for (size_t i = 0; i < n; i++) {
		json_t *rec = make(i);
		char *line;
		size_t ll;
		if (kz_jsonl_format(rec, &line, &ll) != 0 || len + ll > cap)
			return 1;
		memcpy(body + len, line, ll);
		len += ll;
		free(line);
		json_decref(rec);
	}
	double t_build = now() - t0;

	/* Bare jansson parse of the same lines: the floor. */
	t0 = now();
	size_t parsed = 0;
	for (const char *p = body, *end = body + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		json_error_t jerr;
		json_t *v = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, &jerr);
		parsed += v != NULL;
		json_decref(v);
		p = nl + 1;
	}
	double t_parse = now() - t0;

	/* The hub's path: frame, parse, validate, ids. */
	t0 = now();
	struct kz_jsonl_reader *r;
	if (kz_jsonl_reader_memory(body, len, 0, &r) != 0)
		return 1;
	size_t ok = 0;
	json_t *rec;
	struct kz_jsonl_error err;
	char why[KZ_RECORD_WHY_MAX];
	while (kz_jsonl_next(r, &rec, &err) == 1) {
		if (kz_record_validate(rec, why, sizeof why) == 0 &&
		    kz_record_ensure_ids(rec, why, sizeof why) == 0)
			ok++;
		json_decref(rec);
	}
	kz_jsonl_reader_free(r);
	double t_ingest = now() - t0;

	/* Ids computed for other producers' records (one SHA-256 each). */
	t0 = now();
	char id[KZ_ID_STRLEN];
	for (size_t i = 0; i < n; i++)
		if (kz_finding_id_survey(kz_addr_from_v4((uint32_t)i), 23, "telnet", id) != 0)
			return 1;
	double t_id = now() - t0;

	if (parsed != n || ok != n) {
		fprintf(stderr, "parsed %zu, valid %zu of %zu\n", parsed, ok, n);
		return 1;
	}
	double mb = (double)len / 1e6;
	printf("records: %zu, %.1f MB of JSON Lines (%.0f bytes/line)\n", n, mb,
	       (double)len / (double)n);
	printf("build+format:             %10.0f records/s\n", (double)n / t_build);
	printf("jansson parse only:       %10.0f records/s  %6.1f MB/s\n", (double)n / t_parse,
	       mb / t_parse);
	printf("read+validate+ids (hub):  %10.0f records/s  %6.1f MB/s  = %.2fx the bare parse "
	       "time\n",
	       (double)n / t_ingest, mb / t_ingest, t_ingest / t_parse);
	printf("finding id alone:         %10.0f ids/s\n", (double)n / t_id);
	free(body);
	return 0;
}
