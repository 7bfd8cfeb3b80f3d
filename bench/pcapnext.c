/*
 * kizuki-bench-pcapnext: the telescope benchmark's peer baseline as a
 * process of its own (REFERENCE.md, "Benchmark definitions"): a bare
 * libpcap pcap_next_ex loop over a capture file that only counts packets.
 * bench/telescope.sh times it the same way as kizuki telescope and tcpdump,
 * so all three pay for their start-up and their reading alike.
 *
 *   kizuki-bench-pcapnext FILE    prints "packets seconds" on stdout
 */
#include <pcap/pcap.h>
#include <stdio.h>
#include <time.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: kizuki-bench-pcapnext FILE\n");
		return 2;
	}
	char err[PCAP_ERRBUF_SIZE];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pcap_t *p = pcap_open_offline(argv[1], err);
	if (!p) {
		fprintf(stderr, "kizuki-bench-pcapnext: %s\n", err);
		return 1;
	}
	struct pcap_pkthdr *h;
	const u_char *data;
	unsigned long long n = 0;
	int rc;
	while ((rc = pcap_next_ex(p, &h, &data)) == 1)
		n++;
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "kizuki-bench-pcapnext: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("%llu %.6f\n", n, secs);
	return 0;
}
