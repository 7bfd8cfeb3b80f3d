/*
 * kizuki-gen: writes a realistic darknet trace (classic pcap) and its ground
 * truth (JSON Lines) for the telescope's tests, benchmarks and the demo.
 *
 * Everything is a function of the options and the seed: the same command
 * writes the same bytes. The program only parses options, picks the profile,
 * and drives the run; the traffic model is in traffic.c, the profiles in
 * profiles.c, the truth in truth.c. docs/generator.md is the manual.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame.h"
#include "log.h"
#include "pcapout.h"
#include "profiles.h"
#include "traffic.h"
#include "truth.h"
#include "world.h"

#define NS 1000000000LL

static const char usage_text[] =
        "usage: kizuki-gen --out FILE.pcap[.gz]|- [options]\n"
        "       kizuki-gen --list-profiles\n"
        "\n"
        "Writes a darknet trace with its ground truth: Mirai-like bots, ZMap, masscan,\n"
        "unicornscan and nmap scans, generic scanners, backscatter from DoS victims,\n"
        "UDP and misconfiguration noise, a port surge, IPv6. Only benchmarking and\n"
        "documentation addresses are used (198.18.0.0/15, the TEST-NETs, 2001:db8::/32,\n"
        "2001:2::/48). See docs/generator.md.\n"
        "\n"
        "  -p, --profile NAME     mixed (alias test), scanners, dos, surge, steady, noise,\n"
        "                         ipv6, demo, bench (default mixed)\n"
        "  -s, --seed N           random seed (default 1)\n"
        "      --darknet CIDRS    darknet prefixes, comma-separated (default: the profile's;\n"
        "                         198.18.0.0/16 for most)\n"
        "  -d, --duration DUR     packet-time length: 90m, 2h, 3600 (seconds), 1d\n"
        "      --start TIME       first packet time, 2024-06-03T00:00:00Z or @EPOCH\n"
        "                         (default 2024-06-03T00:00:00Z)\n"
        "  -n, --packets N        stop after N packets; bench: also sizes the duration\n"
        "      --surge-port PORT  the surge's TCP port (default: the profile's)\n"
        "  -o, --out FILE         the trace: classic pcap, FILE.gz for gzip, - for stdout\n"
        "      --ns               nanosecond timestamps (default microseconds)\n"
        "  -t, --truth FILE       the ground truth, JSON Lines\n"
        "      --pfx2as FILE      the prefix-to-AS table of the sources (CAIDA format)\n"
        "      --list-profiles    list the profiles and exit\n"
        "  -q, --quiet            no summary on stderr\n"
        "  -h, --help             this text\n"
        "      --version          the version\n";

enum {
	OPT_DARKNET = 256,
	OPT_START,
	OPT_SURGE_PORT,
	OPT_NS,
	OPT_PFX2AS,
	OPT_LIST,
	OPT_VERSION,
};

static const struct option long_opts[] = {
	{ "profile", required_argument, NULL, 'p' },
	{ "seed", required_argument, NULL, 's' },
	{ "darknet", required_argument, NULL, OPT_DARKNET },
	{ "duration", required_argument, NULL, 'd' },
	{ "start", required_argument, NULL, OPT_START },
	{ "packets", required_argument, NULL, 'n' },
	{ "surge-port", required_argument, NULL, OPT_SURGE_PORT },
	{ "out", required_argument, NULL, 'o' },
	{ "ns", no_argument, NULL, OPT_NS },
	{ "truth", required_argument, NULL, 't' },
	{ "pfx2as", required_argument, NULL, OPT_PFX2AS },
	{ "list-profiles", no_argument, NULL, OPT_LIST },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The library's messages, as CONTRACT.md's one-line errors. */
static void log_to_stderr(enum kz_log_level level, const char *msg, void *userdata)
{
	(void)userdata;
	fprintf(stderr, "kizuki-gen: %s%s\n", level == KZ_LOG_WARN ? "warning: " : "", msg);
}

/* A usage error: one line, a hint, exit status 2. */
static int usage_error(const char *what, const char *why)
{
	fprintf(stderr, "kizuki-gen: %s: %s\n(kizuki-gen --help for usage)\n", what, why);
	return 2;
}

/* Decimal digits only: no sign, no space, no other base. */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "90m", "2h", "1d", "30s" or plain seconds; fractions allowed. */
static int parse_duration(const char *s, double *secs)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v <= 0)
		return -EINVAL;
	double mul = 1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		mul = 60, end++;
	else if (*end == 'h')
		mul = 3600, end++;
	else if (*end == 'd')
		mul = 86400, end++;
	if (*end || v * mul > 366 * 86400.0)
		return -EINVAL;
	*secs = v * mul;
	return 0;
}

/* "YYYY-MM-DDTHH:MM:SSZ" or "@EPOCH". */
static int parse_time(const char *s, int64_t *ns)
{
	if (*s == '@') {
		uint64_t v;
		if (parse_u64(s + 1, &v) || v > 4000000000u)
			return -EINVAL;
		*ns = (int64_t)v * NS;
		return 0;
	}
	struct tm tm = { 0 };
	char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end || strcmp(end, "Z") != 0)
		return -EINVAL;
	time_t t = timegm(&tm);
	if (t < 0 || t > 4000000000)
		return -EINVAL;
	*ns = (int64_t)t * NS;
	return 0;
}

/* Monotonic seconds, for the summary's speed figure. */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int list_profiles(void)
{
	unsigned n;
	const struct gen_profile *p = gen_profiles(&n);
	for (unsigned i = 0; i < n; i++)
		printf("%-9s %s\n", p[i].name, p[i].summary);
	return 0;
}

/* The command line, parsed. */
struct options {
	const char *profile, *darknet, *out, *truth, *pfx2as;
	uint64_t seed, packets;
	double duration;
	int64_t start;
	long surge_port;
	bool nanosec, quiet;
};

/* Builds the run for the options; on failure logs and returns an errno. */
static int build(struct gen_run *r, struct gen_world *w, const struct gen_profile *prof,
                 const struct options *o, double duration, uint16_t surge_port)
{
	int rc = gen_run_init(r, w, o->seed, o->start, (int64_t)(duration * 1e9));
	if (rc == 0)
		rc = prof->build(r, surge_port);
	if (rc == 0 && surge_port)
		rc = gen_run_track(r, surge_port, GEN_IP_TCP);
	if (rc == -ENOSPC)
		fprintf(stderr,
		        "kizuki-gen: profile %s: the darknet leaves too few source addresses "
		        "for it (try a smaller darknet)\n",
		        prof->name);
	else if (rc)
		fprintf(stderr, "kizuki-gen: profile %s: %s\n", prof->name, strerror(-rc));
	return rc;
}

int main(int argc, char **argv)
{
	struct options o = {
		.profile = "mixed",
		.seed = 1,
		.start = 1717372800LL * NS, /* 2024-06-03T00:00:00Z, a Monday */
		.surge_port = -1,
	};
	kz_log_set_handler(log_to_stderr, NULL, KZ_LOG_WARN);
	int c;
	while ((c = getopt_long(argc, argv, "p:s:d:n:o:t:qh", long_opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o.profile = optarg;
			break;
		case 's':
			if (parse_u64(optarg, &o.seed))
				return usage_error("--seed", "not a non-negative integer");
			break;
		case OPT_DARKNET:
			o.darknet = optarg;
			break;
		case 'd':
			if (parse_duration(optarg, &o.duration))
				return usage_error("--duration", "expected e.g. 90m, 2h, 3600");
			break;
		case OPT_START:
			if (parse_time(optarg, &o.start))
				return usage_error("--start",
				                   "expected YYYY-MM-DDTHH:MM:SSZ or @EPOCH");
			break;
		case 'n':
			if (parse_u64(optarg, &o.packets) || o.packets == 0)
				return usage_error("--packets", "expected a positive integer");
			break;
		case OPT_SURGE_PORT: {
			uint64_t v;
			if (parse_u64(optarg, &v) || v == 0 || v > 65535)
				return usage_error("--surge-port", "expected a port 1-65535");
			o.surge_port = (long)v;
			break;
		}
		case 'o':
			o.out = optarg;
			break;
		case OPT_NS:
			o.nanosec = true;
			break;
		case 't':
			o.truth = optarg;
			break;
		case OPT_PFX2AS:
			o.pfx2as = optarg;
			break;
		case OPT_LIST:
			return list_profiles();
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_VERSION:
			printf("kizuki-gen %s\n", KZ_VERSION);
			return 0;
		default:
			fprintf(stderr, "(kizuki-gen --help for usage)\n");
			return 2;
		}
	}
	if (optind < argc)
		return usage_error(argv[optind], "unexpected argument");
	const struct gen_profile *prof = gen_profile_find(o.profile);
	if (!prof)
		return usage_error(o.profile, "unknown profile (kizuki-gen --list-profiles)");
	if (!o.out && !o.pfx2as)
		return usage_error("--out", "required (or --pfx2as alone)");

	/* The address plan first: a bad --darknet is a usage error. */
	const char *darknet = o.darknet ? o.darknet : prof->darknet;
	struct gen_world w;
	char why[256];
	if (gen_world_init(&w, darknet, prof->as_space_only, o.seed, why, sizeof why)) {
		fprintf(stderr, "kizuki-gen: --darknet: %s\n", why);
		return 2;
	}
	if (o.pfx2as && gen_world_write_pfx2as(&w, o.pfx2as))
		return 1;
	if (!o.out)
		return 0;

	uint16_t surge_port = (uint16_t)(o.surge_port > 0 ? o.surge_port : prof->surge_port);
	uint64_t max_packets = o.packets ? o.packets : prof->packets;
	double duration = o.duration > 0 ? o.duration : prof->duration_s;
	struct gen_run r;
	int rc;
	if (duration <= 0) {
		/* A profile sized by its packet count: build it once to learn its
		 * rate, then for a duration 10 % longer than the count needs
		 * (the run stops at the count). The populations do not depend on
		 * the duration, so the second build has the same sources. */
		struct gen_world probe_w = w;
		if ((rc = build(&r, &probe_w, prof, &o, 3600, surge_port))) {
			gen_run_free(&r);
			return 1;
		}
		double pps = gen_run_expected_pps(&r);
		gen_run_free(&r);
		duration = pps > 0 ? 1.1 * (double)max_packets / pps : 3600;
	}
	double t_start = now_s();
	if ((rc = build(&r, &w, prof, &o, duration, surge_port))) {
		gen_run_free(&r);
		return 1;
	}
	/* Generate: the whole trace streams through the writer. */
	struct gen_pcap *pc;
	if ((rc = gen_pcap_open(&pc, o.out, o.nanosec, 65535))) {
		gen_run_free(&r);
		return 1;
	}
	rc = gen_run_loop(&r, pc, max_packets);
	int crc = gen_pcap_close(pc);
	if (rc || crc) {
		if (rc)
			fprintf(stderr, "kizuki-gen: %s: %s\n", o.out, strerror(-rc));
		gen_run_free(&r);
		return 1;
	}
	bool capped = max_packets && r.packets >= max_packets;
	int64_t end = r.t_end;
	if (capped) {
		/* The trace ends with its last packet. */
		end = r.t0;
		for (size_t i = 0; i < r.nsrc; i++)
			if (r.src[i].packets && r.src[i].last > end)
				end = r.src[i].last;
	}
	double elapsed = now_s() - t_start;
	if (o.truth) {
		struct gen_truth_info info = {
			.profile = prof->name,
			.seed = o.seed,
			.pcap = strcmp(o.out, "-") == 0 ? NULL : o.out,
			.darknets = darknet,
			.nanosec = o.nanosec,
			.capped = capped,
			.end = end,
		};
		if (gen_truth_write(&r, &info, o.truth)) {
			gen_run_free(&r);
			return 1;
		}
	}
	/* The summary, on stderr: stdout may be the trace itself. */
	if (!o.quiet) {
		size_t sources = 0;
		for (size_t i = 0; i < r.nsrc; i++)
			sources += r.src[i].packets && r.src[i].kind != GEN_K_JUNK;
		fprintf(stderr,
		        "kizuki-gen: profile %s, seed %" PRIu64 ", darknet %s: %" PRIu64
		        " packets from %zu sources over %.1f h of packet time, written in %.2f s "
		        "(%.1f Mpps) to %s\n",
		        prof->name, o.seed, darknet, r.packets, sources,
		        (double)(end - r.t0) / 3600e9, elapsed,
		        elapsed > 0 ? (double)r.packets / elapsed / 1e6 : 0.0,
		        strcmp(o.out, "-") == 0 ? "stdout" : o.out);
		if (r.dropped_sources)
			fprintf(stderr,
			        "kizuki-gen: warning: %" PRIu64
			        " arriving sources found no free address and were left out\n",
			        r.dropped_sources);
	}
	gen_run_free(&r);
	return 0;
}
