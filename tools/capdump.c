/*
 * kizuki-capdump: prints every captured frame as the decoder sees it, one
 * line each, from a file or a live interface through the capture back ends.
 * The integration tests use it to compare a live capture with the same
 * packets read from a file; operators can use it to check what the
 * telescope will make of a trace.
 *
 *   kizuki-capdump (-r FILE | -i IFACE) [-f FILTER | --darknet CIDRS]
 *                  [-c COUNT] [-t SECONDS] [--no-ts] [--promisc] [--snaplen N]
 *                  [-B KIB]
 *
 * Per-reason decode counters, the reader's counters and, live, the kernel's
 * drop counters go to stderr at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "capture.h"
#include "log.h"
#include "pkt.h"

struct dump {
	uint64_t limit, seen;
	bool no_ts;
	struct kz_capture *cap;
	struct kz_pkt_counters counters;
};

static struct kz_capture *volatile g_cap;

static void on_signal(int sig)
{
	(void)sig;
	if (g_cap)
		kz_capture_stop(g_cap);
}

static void on_log(enum kz_log_level level, const char *msg, void *user)
{
	(void)user;
	fprintf(stderr, "kizuki-capdump: %s: %s\n", kz_log_level_name(level), msg);
}

static void tcp_flags(uint8_t f, char *out)
{
	static const char names[] = "FSRPAUEC";
	int n = 0;
	for (int i = 0; i < 8; i++)
		if (f & (1u << i))
			out[n++] = names[i];
	if (n == 0)
		out[n++] = '.';
	out[n] = '\0';
}

static void print_frame(struct dump *d, const struct kz_frame *f)
{
	struct kz_pkt p;
	enum kz_pkt_result r = kz_pkt_decode(&p, f->linktype, f->data, f->caplen, f->wirelen);
	kz_pkt_count(&d->counters, r);
	if (!d->no_ts)
		printf("ts=%" PRIu64 " ", f->ts_ns);
	printf("lt=%" PRIu32 " %s", f->linktype, kz_pkt_result_name(r));
	if (r != KZ_PKT_OK) {
		printf(" caplen=%" PRIu32 " wirelen=%" PRIu32 "\n", f->caplen, f->wirelen);
		return;
	}
	char s[KZ_ADDR_STRLEN], t[KZ_ADDR_STRLEN];
	printf(" v%u %s", p.ip_version, kz_addr_format(p.src, s));
	if (p.flags & KZ_PKT_F_L4 && p.sport | p.dport)
		printf(".%u", p.sport);
	printf(" > %s", kz_addr_format(p.dst, t));
	if (p.flags & KZ_PKT_F_L4 && p.sport | p.dport)
		printf(".%u", p.dport);
	printf(" proto=%u ttl=%u iplen=%" PRIu32, p.proto, p.ttl, p.ip_len);
	if (p.ip_version == 4)
		printf(" id=%u", p.ip_id);
	for (unsigned i = 0; i < p.vlan_count; i++)
		printf("%s%u", i ? "," : " vlan=", p.vlan[i]);
	if (p.flags & KZ_PKT_F_FRAGMENT)
		printf(" frag=%u%s", p.frag_offset, p.flags & KZ_PKT_F_FRAG_LATER ? "+" : "");
	if ((p.flags & KZ_PKT_F_L4) && p.proto == 6) {
		char fl[9];
		tcp_flags(p.tcp_flags, fl);
		printf(" tcp=%s seq=%" PRIu32 " ack=%" PRIu32 " win=%u opts=%u", fl, p.tcp_seq,
		       p.tcp_ack, p.tcp_win, p.tcp_opt_count);
		if (p.tcp_mss)
			printf(" mss=%u", p.tcp_mss);
	}
	if ((p.flags & KZ_PKT_F_L4) && (p.proto == 17))
		printf(" udplen=%u", p.udp_len);
	if ((p.flags & KZ_PKT_F_L4) && (p.proto == 1 || p.proto == 58)) {
		printf(" icmp=%u/%u", p.icmp_type, p.icmp_code);
		if (p.flags & KZ_PKT_F_INNER) {
			printf(" inner=%s>%s/%u", kz_addr_format(p.inner.src, s),
			       kz_addr_format(p.inner.dst, t), p.inner.proto);
			if (p.flags & KZ_PKT_F_INNER_PORTS)
				printf(" ports=%u>%u", p.inner.sport, p.inner.dport);
		}
		if (p.flags & KZ_PKT_F_INNER_TRUNC)
			printf(" inner-truncated");
	}
	if (p.flags & KZ_PKT_F_TRUNCATED)
		printf(" truncated");
	printf("\n");
}

static void on_frame(void *user, const struct kz_frame *f)
{
	struct dump *d = user;
	if (d->limit && d->seen >= d->limit)
		return; /* the rest of the batch after -c was reached */
	d->seen++;
	print_frame(d, f);
	if (d->limit && d->seen == d->limit)
		kz_capture_stop(d->cap);
}

/* Splits "A,B,C" into prefixes and builds the darknet filter. */
static int darknet_filter(const char *list, char *buf, size_t len)
{
	struct kz_cidr c[64];
	size_t n = 0;
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return -ENOMEM;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const char *why;
		if (n == 64 || kz_cidr_parse(tok, &c[n], &why) != 0) {
			fprintf(stderr, "kizuki-capdump: --darknet %s: %s\n", tok,
			        n == 64 ? "more than 64 prefixes" : why);
			free(copy);
			return -EINVAL;
		}
		n++;
	}
	free(copy);
	return kz_capture_filter_for(c, n, buf, len);
}

static const char usage[] =
        "usage: kizuki-capdump (-r FILE | -i IFACE) [-f FILTER | --darknet CIDRS]\n"
        "                      [-c COUNT] [-t SECONDS] [--no-ts] [--promisc] [--snaplen N]\n"
        "                      [-B KIB]\n";

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "interface", required_argument, NULL, 'i' },
		{ "filter", required_argument, NULL, 'f' },
		{ "darknet", required_argument, NULL, 'd' },
		{ "count", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-ts", no_argument, NULL, 'n' },
		{ "promisc", no_argument, NULL, 'p' },
		{ "snaplen", required_argument, NULL, 's' },
		{ "buffer", required_argument, NULL, 'B' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct kz_capture_opts o = { 0 };
	const struct kz_capture_backend *be = NULL;
	struct dump d = { 0 };
	char filter[8192];
	unsigned timeout = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "r:i:f:c:t:s:B:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r':
			be = &kz_capture_file;
			o.source = optarg;
			break;
		case 'i':
			be = &kz_capture_live;
			o.source = optarg;
			break;
		case 'f':
			o.filter = optarg;
			break;
		case 'd':
			if (darknet_filter(optarg, filter, sizeof filter) != 0)
				return 2;
			o.filter = filter;
			break;
		case 'c':
			d.limit = strtoull(optarg, NULL, 10);
			break;
		case 't':
			timeout = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'n':
			d.no_ts = true;
			break;
		case 'p':
			o.promisc = true;
			break;
		case 's':
			o.snaplen = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'B':
			o.buffer_bytes = (uint32_t)strtoul(optarg, NULL, 10) * 1024u;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (!be || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	kz_log_set_handler(on_log, NULL, KZ_LOG_INFO);
	char err[512];
	if (kz_capture_open(be, &o, &d.cap, err, sizeof err) != 0) {
		fprintf(stderr, "kizuki-capdump: %s\n", err);
		return 1;
	}
	if (be == &kz_capture_live)
		fprintf(stderr, "kizuki-capdump: listening on %s, link type %" PRIu32 "\n",
		        o.source, kz_capture_linktype(d.cap));
	g_cap = d.cap;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	if (timeout)
		alarm(timeout);
	int rc = kz_capture_loop(d.cap, on_frame, &d);
	fflush(stdout);
	struct kz_capture_stats st;
	kz_capture_stats(d.cap, &st);
	fprintf(stderr, "kizuki-capdump: %" PRIu64 " frames", st.frames);
	for (int i = 0; i < KZ_PKT_RESULT_COUNT; i++)
		if (d.counters.by_result[i])
			fprintf(stderr, ", %s %" PRIu64, kz_pkt_result_name((enum kz_pkt_result)i),
			        d.counters.by_result[i]);
	fprintf(stderr, "\n");
	if (st.has_kernel)
		fprintf(stderr,
		        "kizuki-capdump: kernel: received %" PRIu64 ", dropped %" PRIu64
		        ", interface dropped %" PRIu64 "\n",
		        st.kernel_received, st.kernel_dropped, st.iface_dropped);
	else
		fprintf(stderr,
		        "kizuki-capdump: file: %" PRIu64 " records, %" PRIu64
		        " bad records, %" PRIu64 " blocks skipped, %" PRIu64
		        " cut to the snapshot length\n",
		        st.file.records, st.file.bad_records, st.file.blocks_skipped,
		        st.file.caplen_over_snaplen);
	int status = 0;
	if (rc < 0 && rc != -EINTR) {
		fprintf(stderr, "kizuki-capdump: %s\n", kz_capture_error(d.cap));
		status = 1;
	}
	g_cap = NULL;
	kz_capture_close(d.cap);
	return status;
}
