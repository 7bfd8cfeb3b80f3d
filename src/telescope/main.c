/*
 * kizuki telescope: the darknet sensor's command line (CONTRACT.md). It
 * parses options, opens the outputs and the capture, drops root after the
 * capture is open, drives the engine (src/lib/telescope.h) batch by batch,
 * and prints the run header, progress and the summary on stderr.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "capture.h"
#include "cli.h"
#include "jsonl.h"
#include "store.h"
#include "telescope.h"
#include "tsink.h"

static const char telescope_usage[] =
        "usage: kizuki telescope (-r FILE | -i IFACE) --darknet CIDR[,CIDR...] [options]\n"
        "\n"
        "Reads a darknet (network telescope) interface or pcap, classifies scans and\n"
        "backscatter, fingerprints scanners and IoT malware, and writes events and\n"
        "interval statistics.\n"
        "\n"
        "  -r, --read FILE          pcap, pcapng or gzip-compressed capture ('-' for stdin)\n"
        "  -i, --interface IFACE    live capture\n"
        "      --darknet CIDRS      the darknet prefixes (required)\n"
        "      --sensor NAME        this sensor's name (default: the host name)\n"
        "      --interval SEC       statistics interval in packet time (default 60)\n"
        "      --max-sources N      per-source state budget (default 1000000)\n"
        "      --update-every SEC   a source's record is updated at most this often\n"
        "                           (default 600; the interval length: every interval)\n"
        "      --anonymised-dst     destinations are anonymised: disable rules using them\n"
        "      --events FILE|-      JSON Lines events (default: stdout when no other output)\n"
        "      --stats FILE|-       JSON Lines interval statistics\n"
        "      --db PATH            the shared SQLite store (created if missing)\n"
        "      --hub URL            post events and statistics to a hub (http://host:port)\n"
        "      --token-file F       the hub token (a sensor token)\n"
        "      --spool DIR          spool for uploads while the hub is unreachable\n"
        "                           (default ./kizuki-spool)\n"
        "      --spool-max BYTES    spool cap (oldest data dropped and counted past it;\n"
        "                           default 1073741824)\n"
        "      --threads N          1, or 2 to decode and analyse on two cores (default 2)\n"
        "      --user NAME          live capture as root: user to drop to (default nobody)\n"
        "      --progress           progress lines on stderr even when it is not a terminal\n"
        "  -h, --help               this text\n";

enum {
	OPT_DARKNET = 256,
	OPT_SENSOR,
	OPT_INTERVAL,
	OPT_MAX_SOURCES,
	OPT_ANON_DST,
	OPT_EVENTS,
	OPT_STATS,
	OPT_DB,
	OPT_HUB,
	OPT_TOKEN_FILE,
	OPT_SPOOL,
	OPT_SPOOL_MAX,
	OPT_THREADS,
	OPT_UPDATE,
	OPT_USER,
	OPT_PROGRESS,
};

#define DARKNET_MAX 1024

/* The capture the signal handler stops (kz_capture_stop is
 * async-signal-safe). */
static struct kz_capture *volatile g_cap;

static void on_signal(int sig)
{
	(void)sig;
	if (g_cap)
		kz_capture_stop(g_cap);
}

struct options {
	const char *read_file, *iface, *darknet, *sensor, *events, *stats, *db, *user;
	const char *hub, *token_file, *spool;
	uint64_t interval, max_sources, threads, update, spool_max;
	bool anon_dst, progress;
};

/* Parses "CIDR[,CIDR...]" into out[]; prints a usage error naming the bad
 * prefix. Returns the count, or -1. */
static int parse_darknet(const char *arg, struct kz_cidr *out, size_t max)
{
	char *copy = strdup(arg);
	if (!copy) {
		kz_cli_error("out of memory");
		return -1;
	}
	size_t n = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *why = "";
		if (n == max) {
			kz_cli_usage_error("--darknet: more than %zu prefixes", max);
			free(copy);
			return -1;
		}
		if (kz_cidr_parse(tok, &out[n], &why) != 0) {
			kz_cli_usage_error("--darknet: %s: %s", tok, why);
			free(copy);
			return -1;
		}
		n++;
	}
	free(copy);
	if (n == 0) {
		kz_cli_usage_error("--darknet: no prefix given");
		return -1;
	}
	return (int)n;
}

/* Drops root for good: supplementary groups, then the group, then the
 * user, and checks that it cannot be regained. */
static int drop_privileges(const char *user)
{
	if (geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		kz_cli_error("--user: %s: no such user", user);
		return -1;
	}
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
		kz_cli_error("dropping privileges to %s: %s", user, strerror(errno));
		return -1;
	}
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		kz_cli_error("dropping privileges to %s: root could be regained", user);
		return -1;
	}
	return 0;
}

/* Gives the spool directory and its files to the user the capture will
 * drop to (root only; anyone else already owns what it made). */
static int chown_spool(const char *dir, const char *user)
{
	if (geteuid() != 0)
		return 0;
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		kz_cli_error("--user: %s: no such user", user);
		return -1;
	}
	DIR *d = opendir(dir);
	if (!d || fchown(dirfd(d), pw->pw_uid, pw->pw_gid) != 0) {
		kz_cli_error("--spool: %s: %s", dir, strerror(errno));
		if (d)
			closedir(d);
		return -1;
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (fchownat(dirfd(d), de->d_name, pw->pw_uid, pw->pw_gid, AT_SYMLINK_NOFOLLOW) !=
		    0)
			kz_cli_warn("--spool: %s/%s: %s", dir, de->d_name, strerror(errno));
	}
	closedir(d);
	return 0;
}

/* The size of a plain classic pcap file, for the progress line's estimate;
 * 0 for stdin, gzip, pcapng or anything else. */
static uint64_t classic_pcap_size(const char *path)
{
	if (strcmp(path, "-") == 0)
		return 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	uint8_t m[4] = { 0 };
	struct stat sb;
	bool ok = fread(m, 1, 4, f) == 4 && fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode);
	fclose(f);
	uint32_t le =
	        (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
	uint32_t be = __builtin_bswap32(le);
	bool classic =
	        le == 0xa1b2c3d4u || le == 0xa1b23c4du || be == 0xa1b2c3d4u || be == 0xa1b23c4du;
	return ok && classic ? (uint64_t)sb.st_size : 0;
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t real_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

static void print_header(struct kz_telescope *t, const struct options *o, const char *darknet)
{
	const struct kz_scan_thresholds *th = kz_telescope_thresholds(t);
	uint64_t n = kz_telescope_darknet_size(t);
	struct kz_telescope_summary s;
	kz_telescope_summary(t, &s);
	fprintf(stderr,
	        "%s: darknet %s (%" PRIu64 " IPv4 addresses), interval %" PRIu64
	        " s, budget %" PRIu64 " sources (%.0f MB of tables, allocated once)\n",
	        kz_cli_name(), darknet, n, o->interval, o->max_sources, (double)s.memory / 1e6);
	if (n)
		fprintf(stderr,
		        "%s: scanner: >= %u distinct dark addresses on one port/protocol at >= "
		        "%.0f "
		        "pps Internet-wide (a 10 pps scan hits this darknet every %.0f s); a scan "
		        "ends after %u s of silence\n",
		        kz_cli_name(), th->min_dsts, th->min_rate, th->gap_at_min_s, th->silence_s);
	else
		fprintf(stderr,
		        "%s: scanner (IPv6 only): >= %u distinct dark addresses on one "
		        "port/protocol; a scan ends after %u s of silence\n",
		        kz_cli_name(), th->min_dsts, th->silence_s);
	fprintf(stderr,
	        "%s: fingerprints: majority of >= %d SYN probes%s; RS-DoS: >= %d packets, >= %d "
	        "s, >= %d packets in a 60 s window, ends after %d s of silence\n",
	        kz_cli_name(), KZ_FP_MIN_PACKETS,
	        o->anon_dst ? " (mirai, masscan, unicornscan off: --anonymised-dst)" : "",
	        KZ_RSDOS_MIN_PACKETS, KZ_RSDOS_MIN_DURATION_S, KZ_RSDOS_MIN_PPM,
	        KZ_RSDOS_TIMEOUT_S);
}

static void print_summary(struct kz_telescope *t, const struct kz_capture_stats *cs, double seconds)
{
	struct kz_telescope_summary s;
	kz_telescope_summary(t, &s);
	const char *me = kz_cli_name();
	fprintf(stderr,
	        "%s: %" PRIu64 " frames in %.2f s (%.2f Mpps); analysed %" PRIu64 " (probe %" PRIu64
	        ", backscatter %" PRIu64 ", other %" PRIu64 "), outside the darknet %" PRIu64 "\n",
	        me, s.frames, seconds, seconds > 0 ? (double)s.frames / seconds / 1e6 : 0.0,
	        s.analysed, s.by_class[KZ_TCLASS_PROBE], s.by_class[KZ_TCLASS_BACKSCATTER],
	        s.by_class[KZ_TCLASS_OTHER], s.outside);
	uint64_t skipped = s.frames - s.decode.by_result[KZ_PKT_OK];
	if (skipped) {
		fprintf(stderr, "%s: skipped %" PRIu64 ":", me, skipped);
		for (unsigned r = 1; r < KZ_PKT_RESULT_COUNT; r++) {
			if (s.decode.by_result[r])
				fprintf(stderr, " %s %" PRIu64,
				        kz_pkt_result_name((enum kz_pkt_result)r),
				        s.decode.by_result[r]);
		}
		fputc('\n', stderr);
	}
	if (cs->file.bad_records || cs->file.blocks_skipped || cs->file.caplen_over_snaplen)
		fprintf(stderr,
		        "%s: file: bad records %" PRIu64 ", blocks skipped %" PRIu64
		        ", cut to the snapshot length %" PRIu64 "\n",
		        me, cs->file.bad_records, cs->file.blocks_skipped,
		        cs->file.caplen_over_snaplen);
	if (cs->has_kernel)
		fprintf(stderr,
		        "%s: kernel: received %" PRIu64 ", dropped %" PRIu64
		        ", dropped by the interface %" PRIu64 "\n",
		        me, cs->kernel_received, cs->kernel_dropped, cs->iface_dropped);
	fprintf(stderr,
	        "%s: sources %" PRIu32 " of %" PRIu32 " (inserted %" PRIu64 ", evicted %" PRIu64
	        " while active, replaced after their scan ended %" PRIu64
	        ", scans restarted %" PRIu64 ")\n",
	        me, s.sources.used, s.sources.capacity, s.sources.inserts, s.sources.evictions,
	        s.sources.expired, s.scans_restarted);
	fprintf(stderr,
	        "%s: attack vectors %" PRIu64 " (evicted %" PRIu64 "), intervals %" PRIu64
	        ", reordered packets %" PRIu64 ", stats rows %" PRIu64 "\n",
	        me, s.attacks.vectors, s.attacks.evictions, s.intervals, s.reordered, s.stats_rows);
	fprintf(stderr, "%s: events:", me);
	for (unsigned k = 0; k < KZ_TEV_COUNT; k++)
		fprintf(stderr, " %s %" PRIu64 " new + %" PRIu64 " updates",
		        kz_tevent_kind_name((enum kz_tevent_kind)k), s.events_new[k],
		        s.events_update[k]);
	fprintf(stderr, "; records by label:");
	for (unsigned l = 1; l < KZ_LABEL_COUNT; l++)
		fprintf(stderr, " %s %" PRIu64, kz_label_identifier((enum kz_label)l),
		        s.by_label[l]);
	fputc('\n', stderr);
	if (s.hll_errors)
		fprintf(stderr, "%s: sketch inserts lost to memory: %" PRIu64 "\n", me,
		        s.hll_errors);
	/* Which thread did how much: what two cores can gain (docs/telescope.md,
	 * "Speed and threads"). */
	if (s.cpu_analysis > 0)
		fprintf(stderr,
		        "%s: CPU time: reading and decoding %.2f s, analysis %.2f s, writing %.2f "
		        "s\n",
		        me, s.cpu_caller, s.cpu_analysis, s.cpu_writer);
}

/* Fills *o from argv. Returns 0, KZ_EXIT_USAGE after printing why, or -1
 * for --help (printed). */
static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "interface", required_argument, NULL, 'i' },
		{ "darknet", required_argument, NULL, OPT_DARKNET },
		{ "sensor", required_argument, NULL, OPT_SENSOR },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "max-sources", required_argument, NULL, OPT_MAX_SOURCES },
		{ "anonymised-dst", no_argument, NULL, OPT_ANON_DST },
		{ "events", required_argument, NULL, OPT_EVENTS },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "db", required_argument, NULL, OPT_DB },
		{ "hub", required_argument, NULL, OPT_HUB },
		{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
		{ "spool", required_argument, NULL, OPT_SPOOL },
		{ "spool-max", required_argument, NULL, OPT_SPOOL_MAX },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "update-every", required_argument, NULL, OPT_UPDATE },
		{ "user", required_argument, NULL, OPT_USER },
		{ "progress", no_argument, NULL, OPT_PROGRESS },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":r:i:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->read_file = optarg;
			break;
		case 'i':
			o->iface = optarg;
			break;
		case OPT_DARKNET:
			o->darknet = optarg;
			break;
		case OPT_SENSOR:
			o->sensor = optarg;
			break;
		case OPT_INTERVAL:
			if (kz_cli_parse_u64("interval", optarg, 1, KZ_TELESCOPE_INTERVAL_MAX,
			                     &o->interval))
				return KZ_EXIT_USAGE;
			break;
		case OPT_MAX_SOURCES:
			if (kz_cli_parse_u64("max-sources", optarg, 1, UINT32_C(1) << 30,
			                     &o->max_sources))
				return KZ_EXIT_USAGE;
			break;
		case OPT_ANON_DST:
			o->anon_dst = true;
			break;
		case OPT_EVENTS:
			o->events = optarg;
			break;
		case OPT_STATS:
			o->stats = optarg;
			break;
		case OPT_DB:
			o->db = optarg;
			break;
		case OPT_HUB:
			o->hub = optarg;
			break;
		case OPT_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case OPT_SPOOL:
			o->spool = optarg;
			break;
		case OPT_SPOOL_MAX:
			if (kz_cli_parse_u64("spool-max", optarg, 4096, UINT64_MAX >> 1,
			                     &o->spool_max))
				return KZ_EXIT_USAGE;
			break;
		case OPT_THREADS:
			if (kz_cli_parse_u64("threads", optarg, 1, 2, &o->threads))
				return KZ_EXIT_USAGE;
			break;
		case OPT_UPDATE:
			if (kz_cli_parse_u64("update-every", optarg, 1, 7 * 86400, &o->update))
				return KZ_EXIT_USAGE;
			break;
		case OPT_USER:
			o->user = optarg;
			break;
		case OPT_PROGRESS:
			o->progress = true;
			break;
		case 'h':
			fputs(telescope_usage, stdout);
			return -1;
		case ':':
		case '?':
			return kz_cli_bad_option(c, argv);
		default:
			break;
		}
	}
	if (kz_cli_no_positional(argc, argv, optind))
		return KZ_EXIT_USAGE;
	if (!o->read_file == !o->iface)
		return kz_cli_usage_error("exactly one of -r FILE and -i IFACE is required");
	if (!o->darknet)
		return kz_cli_usage_error("--darknet is required");
	if (o->events && o->stats && strcmp(o->events, "-") == 0 && strcmp(o->stats, "-") == 0)
		return kz_cli_usage_error("--events and --stats cannot both be stdout");
	if (!o->hub != !o->token_file)
		return kz_cli_usage_error("--hub and --token-file go together");
	if ((o->spool || o->spool_max) && !o->hub)
		return kz_cli_usage_error("--spool and --spool-max need --hub");
	return 0;
}

/* Everything the run opens, closed in one place. */
struct run {
	struct kz_spool *spool;
	struct kz_tsink_spool spool_sink;
	struct kz_tevents *ev;
	struct kz_jsonl_writer *st_w;
	struct kz_tsink_jsonl st_sink;
	struct kz_store *store;
	struct kz_tstore *tstore;
	struct kz_telescope *t;
	struct kz_capture *cap;
};

static int open_outputs(struct run *r, const struct options *o)
{
	char err[512];
	int rc;
	if (o->events && (rc = kz_tevents_open(o->events, false, &r->ev))) {
		kz_cli_error("--events: %s: %s", o->events, strerror(-rc));
		return -1;
	}
	if (o->stats && (rc = kz_jsonl_writer_open(o->stats, 0, &r->st_w))) {
		kz_cli_error("--stats: %s: %s", o->stats, strerror(-rc));
		return -1;
	}
	if (o->db) {
		if (kz_store_open(o->db, KZ_STORE_CREATE, &r->store, err, sizeof err) ||
		    kz_tstore_open(r->store, o->sensor, &r->tstore, err, sizeof err)) {
			kz_cli_error("--db: %s", err);
			return -1;
		}
	}
	if (o->hub && kz_spool_open_cli(o->hub, o->token_file, o->spool, o->spool_max, o->sensor,
	                                &r->spool, err, sizeof err)) {
		kz_cli_error("%s", err);
		return -1;
	}
	return 0;
}

static int add_sinks(struct run *r)
{
	int rc = 0;
	if (r->ev)
		rc = kz_telescope_add_sink(r->t, &kz_tsink_events, r->ev);
	if (!rc && r->st_w) {
		r->st_sink.w = r->st_w;
		rc = kz_telescope_add_sink(r->t, &kz_tsink_stats, &r->st_sink);
	}
	if (!rc && r->tstore)
		rc = kz_telescope_add_sink(r->t, &kz_tsink_store, r->tstore);
	if (!rc && r->spool) {
		r->spool_sink.sp = r->spool;
		rc = kz_telescope_add_sink(r->t, &kz_tsink_spool, &r->spool_sink);
	}
	return rc;
}

/* Seconds the end of a run waits for the spool's sender to hand what is
 * left to the hub: long when the hub has been taking posts (a busy hub may
 * be slow), short when it never answered (it is down; waiting would only
 * delay the exit). What is not sent stays in the spool for the next run. */
#define SPOOL_DRAIN_UP_S   120.0
#define SPOOL_DRAIN_DOWN_S 5.0

/* Closes the outputs; returns false when a writer reports a late error. */
static bool close_outputs(struct run *r)
{
	bool ok = true;
	int rc;
	if (r->spool) {
		struct kz_spool_stats st;
		kz_spool_get_stats(r->spool, &st);
		bool up = st.sent_segments > 0 || st.failed_posts == 0;
		kz_spool_close(r->spool, up ? SPOOL_DRAIN_UP_S : SPOOL_DRAIN_DOWN_S, &st);
		fprintf(stderr,
		        "%s: hub: %" PRIu64 " records sent, %" PRIu64
		        " refused by the hub, %" PRIu64
		        " bytes left in the spool for the next run, %" PRIu64
		        " records dropped over --spool-max\n",
		        kz_cli_name(), st.sent_records, st.rejected_records, st.pending_bytes,
		        st.dropped_records);
	}
	kz_tstore_close(r->tstore);
	kz_store_close(r->store);
	if (r->ev && (rc = kz_tevents_close(r->ev))) {
		kz_cli_error("--events: %s", strerror(-rc));
		ok = false;
	}
	if (r->st_w && (rc = kz_jsonl_writer_close(r->st_w))) {
		kz_cli_error("--stats: %s", strerror(-rc));
		ok = false;
	}
	return ok;
}

/* Reads the capture until its end, a signal or an error. Returns the exit
 * status. */
/* One progress line: packets, rate, sources, events; for an uncompressed
 * file of known size also how far it is and the time left, from the bytes
 * read (classic pcap: 24 bytes of header, 16 per record). */
static void progress_line(struct run *r, double elapsed, uint64_t file_size)
{
	uint64_t frames, sources, events;
	kz_telescope_progress(r->t, &frames, &sources, &events);
	char eta[64] = "";
	if (file_size) {
		struct kz_capture_stats cs;
		kz_capture_stats(r->cap, &cs);
		double done = (24.0 + (double)cs.file.bytes + 16.0 * (double)cs.file.records) /
		              (double)file_size;
		if (done > 0.001 && done <= 1.0)
			snprintf(eta, sizeof eta, ", %.0f %% done, %.0f s left", 100 * done,
			         elapsed * (1 - done) / done);
	}
	fprintf(stderr,
	        "%s: %" PRIu64 " packets, %.2f Mpps, %" PRIu64 " sources, %" PRIu64 " events%s\n",
	        kz_cli_name(), frames, (double)frames / elapsed / 1e6, sources, events, eta);
}

static int capture_loop(struct run *r, bool live, bool progress, uint64_t file_size)
{
	double t0 = mono_now(), next = t0 + 1.0;
	int status = KZ_EXIT_OK;
	for (;;) {
		int rc = kz_capture_dispatch(r->cap, kz_telescope_frame, r->t);
		kz_telescope_push(r->t);
		if (live)
			kz_telescope_tick(r->t, real_now_ns());
		if (kz_telescope_error(r->t)) {
			kz_cli_error("%s", kz_telescope_error_text(r->t));
			status = KZ_EXIT_FAILURE;
			break;
		}
		if (progress) {
			double now = mono_now();
			if (now >= next) {
				progress_line(r, now - t0, file_size);
				next = now + 1.0;
			}
		}
		/* -EAGAIN: a live ring timeout with nothing to read, which is
		 * when a quiet interface's intervals get closed (the tick). */
		if (rc > 0 || rc == -EAGAIN)
			continue;
		if (rc == 0 || rc == -EINTR)
			break;
		/* A corrupt or unreadable file, or a failed interface: what was
		 * read is still analysed and written below. */
		kz_cli_error("%s", kz_capture_error(r->cap));
		status = KZ_EXIT_FAILURE;
		break;
	}
	return status;
}

int kz_cmd_telescope(int argc, char **argv)
{
	struct options o = { .interval = KZ_TELESCOPE_DEFAULT_IVAL,
		             .max_sources = KZ_TELESCOPE_DEFAULT_SRCS,
		             .threads = 2,
		             .update = KZ_TELESCOPE_DEFAULT_UPDATE,
		             .user = "nobody" };
	int rc = parse_options(argc, argv, &o);
	if (rc)
		return rc < 0 ? KZ_EXIT_OK : rc;
	struct kz_cidr *darknet = calloc(DARKNET_MAX, sizeof *darknet);
	if (!darknet) {
		kz_cli_error("out of memory");
		return KZ_EXIT_FAILURE;
	}
	int ndark = parse_darknet(o.darknet, darknet, DARKNET_MAX);
	if (ndark < 0) {
		free(darknet);
		return KZ_EXIT_USAGE;
	}
	/* The sensor name is part of every observation id, so a stable one
	 * (--sensor) is better than the host name for a sensor that may move. */
	char host[256] = "";
	if (!o.sensor) {
		if (gethostname(host, sizeof host - 1) != 0 || !host[0])
			snprintf(host, sizeof host, "sensor");
		o.sensor = host;
	}
	/* Without any output the analysis would be for nothing: the events go
	 * to stdout, as a pipe to jq or IntelMQ expects. */
	if (!o.events && !o.stats && !o.db && !o.hub)
		o.events = "-";

	struct run r = { 0 };
	int status = KZ_EXIT_FAILURE;
	char err[512];
	if (open_outputs(&r, &o))
		goto done;
	struct kz_telescope_config cfg = {
		.darknet = darknet,
		.ndarknet = (size_t)ndark,
		.sensor = o.sensor,
		.interval_s = (uint32_t)o.interval,
		.max_sources = (uint32_t)o.max_sources,
		.anonymised_dst = o.anon_dst,
		.update_s = (uint32_t)o.update,
		.threads = (unsigned)o.threads,
	};
	if ((rc = kz_telescope_new(&cfg, &r.t, err, sizeof err))) {
		kz_cli_error("%s", err[0] ? err : strerror(-rc));
		goto done;
	}
	if (add_sinks(&r)) {
		kz_cli_error("too many outputs");
		goto done;
	}

	bool live = o.iface != NULL;
	char filter[8192];
	struct kz_capture_opts co = { .source = live ? o.iface : o.read_file };
	if (live) {
		if (kz_capture_filter_for(darknet, (size_t)ndark, filter, sizeof filter) != 0) {
			kz_cli_error("--darknet: too many prefixes for a capture filter");
			goto done;
		}
		co.filter = filter;
	}
	if (kz_capture_open(live ? &kz_capture_live : &kz_capture_file, &co, &r.cap, err,
	                    sizeof err)) {
		kz_cli_error("%s", err);
		goto done;
	}
	/* Everything that needs root is open: the capture, the outputs. The
	 * spool keeps creating and deleting segment files in its directory
	 * (and must read what an earlier run left): it goes to the user too. */
	if (live && r.spool && chown_spool(o.spool ? o.spool : "kizuki-spool", o.user))
		goto done;
	if (live && drop_privileges(o.user))
		goto done;

	/* From here SIGINT and SIGTERM stop the capture between batches; the
	 * loop then finishes the open interval like the end of a file. */
	g_cap = r.cap;
	kz_cli_catch_signals(on_signal, false);

	print_header(r.t, &o, o.darknet);
	double t0 = mono_now();
	uint64_t file_size = live ? 0 : classic_pcap_size(o.read_file);
	status = capture_loop(&r, live, kz_cli_want_progress(o.progress), file_size);
	/* The open interval is closed and written even after a capture error
	 * or a signal: what was read is reported. */
	if (kz_telescope_finish(r.t) && status == KZ_EXIT_OK) {
		kz_cli_error("%s", kz_telescope_error_text(r.t));
		status = KZ_EXIT_FAILURE;
	}
	double secs = mono_now() - t0;
	g_cap = NULL;
	struct kz_capture_stats cs;
	kz_capture_stats(r.cap, &cs);
	print_summary(r.t, &cs, secs);
	if (r.tstore) {
		uint64_t acc, dup, rej;
		kz_tstore_counts(r.tstore, &acc, &dup, &rej);
		fprintf(stderr,
		        "%s: store: %" PRIu64 " lines new, %" PRIu64 " already stored, %" PRIu64
		        " refused\n",
		        kz_cli_name(), acc, dup, rej);
	}
done:
	g_cap = NULL;
	kz_capture_close(r.cap);
	kz_telescope_free(r.t);
	if (!close_outputs(&r) && status == KZ_EXIT_OK)
		status = KZ_EXIT_FAILURE;
	free(darknet);
	return status;
}
