/*
 * kizuki-bench-telnet_parse: how fast one telnet login machine reads
 * banner text (telnet layer, line window, prompt classification), to show
 * that parsing never bounds the survey's telnet stage.
 *
 * usage: kizuki-bench-telnet_parse [MEGABYTES]   (default 200)
 * Feeds 64 KiB reads of printable text with a CR LF every 80 bytes and a '#'
 * every 7 bytes to one connected machine and prints MB/s. Not run in CI.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "telnet_login.h"

int main(int argc, char **argv)
{
	long mb = argc > 1 ? strtol(argv[1], NULL, 10) : 200;
	if (mb <= 0)
		mb = 200;
	static const struct kz_login_cred creds[] = { { "root", "xc3511" } };
	static struct kz_telnet_login m;
	struct kz_telnet_login_params p;
	kz_telnet_login_defaults(&p);
	p.creds = creds;
	p.ncreds = 1;
	p.max_conn_bytes = UINT32_MAX; /* read everything: no input cap */
	if (kz_telnet_login_init(&m, &p) != 0)
		return 1;
	uint64_t now = 1000;
	kz_telnet_login_start(&m, now);
	kz_telnet_login_connected(&m, now);

	static unsigned char buf[65536];
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = i % 80 == 78   ? '\r'
		         : i % 80 == 79 ? '\n'
		         : i % 7 == 0   ? '#'
		                        : (unsigned char)('a' + i % 26);
	size_t rounds = (size_t)mb * 1000000 / sizeof buf, total = 0;
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (size_t k = 0; k < rounds; k++) {
		/* The time never moves, so the machine only reads. */
		kz_telnet_login_input(&m, buf, sizeof buf, now);
		total += sizeof buf;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("telnet_parse: %.0f MB in %.2f s = %.1f MB/s per core\n", (double)total / 1e6, s,
	       (double)total / 1e6 / s);
	return 0;
}
