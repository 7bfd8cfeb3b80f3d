/*
 * kizuki-bench-pcapcount: the input layer against the peer baseline the
 * telescope benchmark uses (REFERENCE.md, "Benchmark definitions"): a bare
 * libpcap pcap_next_ex loop that only counts packets. Over the same file, in
 * one run, it times
 *   1. libpcap pcap_next_ex, counting;
 *   2. our reader (kz_pcapfile_next), counting;
 *   3. our reader + the decoder (kz_pcap_decode on every frame);
 *   4. the file capture back end + the decoder (the telescope's path);
 * each after one warm-up pass, as the median of --runs passes, and prints
 * Mpps and the ratios to libpcap, by wall-clock time (the benchmark's
 * definition) and by process CPU time (steadier on a shared machine).
 *
 *   kizuki-bench-pcapcount --generate FILE N   write N synthetic SYNs with pcap_dump
 *   kizuki-bench-pcapcount [--runs N] FILE     measure
 */
#include <errno.h>
#include <inttypes.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capture.h"
#include "pcapfile.h"
#include "pkt.h"

struct result {
	uint64_t packets;
	uint64_t check; /* a sum over decoded fields, so no pass can be optimised away */
	double seconds;
	double cpu; /* process CPU seconds: steadier than wall time on a shared machine */
};

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	/* xorshift64*: fast and good enough for synthetic headers */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void put16(uint8_t *b, unsigned v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static void put32(uint8_t *b, uint32_t v)
{
	put16(b, v >> 16);
	put16(b + 2, v & 0xffff);
}

/* N Ethernet/IPv4/TCP SYNs to 198.18.0.0/15 from random sources, padded to
 * the 60-byte Ethernet minimum, 1 us apart. */
static int generate(const char *path, uint64_t n)
{
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	if (!p)
		return 1;
	pcap_dumper_t *d = pcap_dump_open(p, path);
	if (!d) {
		fprintf(stderr, "kizuki-bench-pcapcount: %s: %s\n", path, pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	static const uint16_t ports[8] = { 23, 23, 2323, 80, 8080, 22, 445, 5555 };
	uint8_t f[60];
	memset(f, 0, sizeof f);
	static const uint8_t macs[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };
	memcpy(f, macs, 12);
	put16(f + 12, 0x0800);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = rng();
		uint8_t *ip = f + 14, *tcp = f + 34;
		ip[0] = 0x45;
		put16(ip + 2, 40);
		put16(ip + 4, (unsigned)(r & 0xffff));
		ip[8] = (uint8_t)(i % 3 == 0 ? 64 : 240 + (r >> 60));
		ip[9] = 6;
		put32(ip + 12, (uint32_t)(r >> 16) | 0x01000000u);
		put32(ip + 16, 0xc6120000u | (uint32_t)((r >> 40) & 0x1ffff));
		put16(tcp, 1024 + (unsigned)((r >> 24) & 0x7fff));
		put16(tcp + 2, ports[(r >> 57) & 7]);
		put32(tcp + 4, (uint32_t)rng());
		tcp[12] = 5 << 4;
		tcp[13] = 0x02;
		put16(tcp + 14, i % 3 == 0 ? 14600 : 1024);
		struct pcap_pkthdr h;
		h.ts.tv_sec = (time_t)(1700000000 + i / 1000000);
		h.ts.tv_usec = (suseconds_t)(i % 1000000);
		h.caplen = h.len = sizeof f;
		pcap_dump((u_char *)d, &h, f);
	}
	pcap_dump_close(d);
	pcap_close(p);
	return 0;
}

static int run_libpcap(const char *path, struct result *r)
{
	char ebuf[PCAP_ERRBUF_SIZE];
	double t0 = now();
	pcap_t *p = pcap_open_offline(path, ebuf);
	if (!p) {
		fprintf(stderr, "kizuki-bench-pcapcount: %s\n", ebuf);
		return -1;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t n = 0, check = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		n++;
		check += h->caplen;
	}
	pcap_close(p);
	r->seconds = now() - t0;
	r->packets = n;
	r->check = check;
	return rc == PCAP_ERROR_BREAK ? 0 : -1;
}

static int run_reader(const char *path, bool decode, struct result *r)
{
	char why[256];
	struct kz_pcapfile *pf;
	double t0 = now();
	if (kz_pcapfile_open(path, &pf, why, sizeof why) != 0) {
		fprintf(stderr, "kizuki-bench-pcapcount: %s\n", why);
		return -1;
	}
	struct kz_frame f;
	struct kz_pkt p;
	uint64_t n = 0, check = 0;
	int rc;
	while ((rc = kz_pcapfile_next(pf, &f)) == 1) {
		n++;
		if (decode) {
			if (kz_pkt_decode(&p, f.linktype, f.data, f.caplen, f.wirelen) == KZ_PKT_OK)
				check += p.dport;
		} else {
			check += f.caplen;
		}
	}
	kz_pcapfile_close(pf);
	r->seconds = now() - t0;
	r->packets = n;
	r->check = check;
	return rc;
}

struct cap_count {
	uint64_t n, check;
};

static void on_frame(void *user, const struct kz_frame *f)
{
	struct cap_count *c = user;
	struct kz_pkt p;
	c->n++;
	if (kz_pkt_decode(&p, f->linktype, f->data, f->caplen, f->wirelen) == KZ_PKT_OK)
		c->check += p.dport;
}

static int run_capture(const char *path, struct result *r)
{
	char err[256];
	struct kz_capture *c;
	struct kz_capture_opts o = { .source = path };
	double t0 = now();
	if (kz_capture_open(&kz_capture_file, &o, &c, err, sizeof err) != 0) {
		fprintf(stderr, "kizuki-bench-pcapcount: %s\n", err);
		return -1;
	}
	struct cap_count cc = { 0, 0 };
	int rc = kz_capture_loop(c, on_frame, &cc);
	kz_capture_close(c);
	r->seconds = now() - t0;
	r->packets = cc.n;
	r->check = cc.check;
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

enum { M_LIBPCAP, M_READER, M_DECODE, M_CAPTURE, M_COUNT };

static const char *const method_name[M_COUNT] = {
	"libpcap pcap_next_ex, count",
	"kizuki reader, count",
	"kizuki reader + decode",
	"kizuki capture(file) + decode",
};

static int run(int m, const char *path, struct result *r)
{
	double c0 = cpu_now();
	int rc;
	switch (m) {
	case M_LIBPCAP:
		rc = run_libpcap(path, r);
		break;
	case M_READER:
		rc = run_reader(path, false, r);
		break;
	case M_DECODE:
		rc = run_reader(path, true, r);
		break;
	default:
		rc = run_capture(path, r);
		break;
	}
	r->cpu = cpu_now() - c0;
	return rc;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--generate") == 0)
		return generate(argv[2], strtoull(argv[3], NULL, 10));
	int runs = 5;
	const char *path = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
			runs = atoi(argv[++i]);
		else
			path = argv[i];
	}
	if (!path || runs < 1 || runs > 101) {
		fprintf(stderr, "usage: kizuki-bench-pcapcount [--runs N] FILE\n"
		                "       kizuki-bench-pcapcount --generate FILE PACKETS\n");
		return 2;
	}
	double median[M_COUNT], median_cpu[M_COUNT];
	uint64_t packets[M_COUNT];
	for (int m = 0; m < M_COUNT; m++) {
		struct result r;
		if (run(m, path, &r) != 0) /* warm-up: page cache, branch predictors */
			return 1;
		double t[101], c[101];
		for (int k = 0; k < runs; k++) {
			if (run(m, path, &r) != 0)
				return 1;
			t[k] = r.seconds;
			c[k] = r.cpu;
		}
		qsort(t, (size_t)runs, sizeof t[0], cmp_double);
		qsort(c, (size_t)runs, sizeof c[0], cmp_double);
		median[m] = t[runs / 2];
		median_cpu[m] = c[runs / 2];
		packets[m] = r.packets;
		fprintf(stderr, "  (%s: check %" PRIu64 ")\n", method_name[m], r.check);
	}
	for (int m = 1; m < M_COUNT; m++)
		if (packets[m] != packets[0]) {
			fprintf(stderr,
			        "kizuki-bench-pcapcount: %s counted %" PRIu64 ", libpcap %" PRIu64
			        "\n",
			        method_name[m], packets[m], packets[0]);
			return 1;
		}
	printf("file %s: %" PRIu64 " packets; median of %d warm runs each\n", path, packets[0],
	       runs);
	printf("  %-32s %10s %9s %8s   %10s %8s\n", "", "wall Mpps", "wall s", "ratio", "CPU Mpps",
	       "ratio");
	for (int m = 0; m < M_COUNT; m++) {
		printf("  %-32s %10.2f %9.3f %7.2fx   %10.2f %7.2fx\n", method_name[m],
		       (double)packets[m] / median[m] / 1e6, median[m],
		       median[M_LIBPCAP] / median[m], (double)packets[m] / median_cpu[m] / 1e6,
		       median_cpu[M_LIBPCAP] / median_cpu[m]);
	}
	return 0;
}
