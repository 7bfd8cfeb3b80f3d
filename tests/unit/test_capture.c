/*
 * Capture back ends: the file back end's batches, stop flag and counters;
 * the back-end table; and the darknet BPF filter, compiled by libpcap itself
 * and run over frames with and without VLAN tags. (The live back end is
 * tested in tests/integration/capture_live.sh, on a veth pair.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include "capture.h"

static struct kz_cidr cidr(const char *s)
{
	struct kz_cidr c;
	const char *why;
	assert_int_equal(kz_cidr_parse(s, &c, &why), 0);
	return c;
}

/* An Ethernet frame with ntags tags carrying IPv4 (or ARP) to dst. */
static size_t frame4(uint8_t *f, int ntags, uint32_t dst, bool arp)
{
	memset(f, 0, 128);
	size_t o = 12;
	for (int i = 0; i < ntags; i++) {
		f[o] = i == 0 && ntags == 2 ? 0x88 : 0x81;
		f[o + 1] = i == 0 && ntags == 2 ? 0xa8 : 0x00;
		f[o + 3] = 10;
		o += 4;
	}
	f[o] = 0x08;
	f[o + 1] = arp ? 0x06 : 0x00;
	o += 2;
	if (arp) {
		/* ARP request: the target protocol address is at 24. */
		f[o + 1] = 1;
		f[o + 2] = 8;
		f[o + 4] = 6;
		f[o + 5] = 4;
		f[o + 7] = 1;
		f[o + 24] = (uint8_t)(dst >> 24);
		f[o + 25] = (uint8_t)(dst >> 16);
		f[o + 26] = (uint8_t)(dst >> 8);
		f[o + 27] = (uint8_t)dst;
		return o + 28;
	}
	f[o] = 0x45;
	f[o + 3] = 40;
	f[o + 8] = 64;
	f[o + 9] = 6;
	f[o + 12] = 192;
	f[o + 14] = 2;
	f[o + 15] = 1;
	f[o + 16] = (uint8_t)(dst >> 24);
	f[o + 17] = (uint8_t)(dst >> 16);
	f[o + 18] = (uint8_t)(dst >> 8);
	f[o + 19] = (uint8_t)dst;
	return o + 40;
}

static size_t frame6(uint8_t *f, const char *dst)
{
	memset(f, 0, 128);
	f[12] = 0x86;
	f[13] = 0xdd;
	f[14] = 0x60;
	f[19] = 0;
	f[20] = 59;
	f[21] = 64;
	struct kz_addr a;
	const char *why;
	assert_int_equal(kz_addr_parse(dst, &a, &why), 0);
	kz_addr_to_bytes(a, f + 14 + 24);
	return 14 + 40;
}

static bool matches(struct bpf_program *prog, const uint8_t *f, size_t n)
{
	struct pcap_pkthdr h;
	memset(&h, 0, sizeof h);
	h.caplen = h.len = (bpf_u_int32)n;
	return pcap_offline_filter(prog, &h, f) != 0;
}

static void test_darknet_filter(void **state)
{
	(void)state;
	struct kz_cidr c[2] = { cidr("198.18.0.0/15"), cidr("2001:db8::/32") };
	char text[1024];
	assert_int_equal(kz_capture_filter_for(c, 2, text, sizeof text), 0);
	pcap_t *p = pcap_open_dead(DLT_EN10MB, 65535);
	assert_non_null(p);
	struct bpf_program prog;
	if (pcap_compile(p, &prog, text, 1, PCAP_NETMASK_UNKNOWN) != 0)
		fail_msg("'%s': %s", text, pcap_geterr(p));
	uint8_t f[128];
	for (int tags = 0; tags <= 2; tags++) {
		assert_true(matches(&prog, f, frame4(f, tags, 0xc6120304, false))); /* 198.18.3.4 */
		assert_true(
		        matches(&prog, f, frame4(f, tags, 0xc613ffff, false))); /* 198.19.255.255 */
		assert_false(
		        matches(&prog, f, frame4(f, tags, 0xc6140000, false))); /* 198.20.0.0 */
		assert_false(
		        matches(&prog, f, frame4(f, tags, 0xc0000263, false))); /* 192.0.2.99 */
		/* ARP asking for a darknet address is not darknet traffic. */
		assert_false(matches(&prog, f, frame4(f, tags, 0xc6120001, true)));
	}
	assert_true(matches(&prog, f, frame6(f, "2001:db8::42")));
	assert_false(matches(&prog, f, frame6(f, "2001:db9::42")));
	pcap_freecode(&prog);
	pcap_close(p);

	assert_int_equal(kz_capture_filter_for(c, 0, text, sizeof text), -EINVAL);
	assert_int_equal(kz_capture_filter_for(c, 2, text, 40), -ENOSPC);
	assert_int_equal(kz_capture_filter_for(c, 1, text, sizeof text), 0);
	assert_string_equal(text, "(ip dst net 198.18.0.0/15) or (vlan and ((ip dst net "
	                          "198.18.0.0/15) or (vlan and (ip dst net 198.18.0.0/15))))");
	size_t need = strlen(text);
	assert_int_equal(kz_capture_filter_for(c, 1, text, need), -ENOSPC);
	assert_int_equal(kz_capture_filter_for(c, 1, text, need + 1), 0);
}

/* Writes a classic pcap of n minimal raw-IP records and returns its path. */
static void write_pcap(const char *path, int n)
{
	pcap_t *p = pcap_open_dead(DLT_RAW, 65535);
	pcap_dumper_t *d = pcap_dump_open(p, path);
	assert_non_null(d);
	uint8_t ip[20] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 18, 0, 1 };
	for (int i = 0; i < n; i++) {
		struct pcap_pkthdr h;
		memset(&h, 0, sizeof h);
		h.ts.tv_sec = i;
		h.caplen = h.len = sizeof ip;
		pcap_dump((u_char *)d, &h, ip);
	}
	pcap_dump_close(d);
	pcap_close(p);
}

struct counter {
	struct kz_capture *c;
	uint64_t n;
	uint64_t stop_at;
	uint64_t last_ts;
};

static void count(void *user, const struct kz_frame *f)
{
	struct counter *k = user;
	k->n++;
	assert_int_equal(f->caplen, 20);
	assert_true(f->ts_ns >= k->last_ts);
	k->last_ts = f->ts_ns;
	if (k->stop_at && k->n == k->stop_at)
		kz_capture_stop(k->c);
}

static void test_file_backend(void **state)
{
	(void)state;
	char path[] = "/tmp/kz-capture-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	write_pcap(path, 10000);
	assert_ptr_equal(kz_capture_backend_find("file"), &kz_capture_file);
	assert_ptr_equal(kz_capture_backend_find("live"), &kz_capture_live);
	assert_null(kz_capture_backend_find("af_xdp"));

	struct kz_capture_opts o = { .source = path };
	struct kz_capture *c;
	char err[256];
	assert_int_equal(kz_capture_open(&kz_capture_file, &o, &c, err, sizeof err), 0);
	/* 12 is libpcap's DLT_RAW on Linux; the file holds LINKTYPE_RAW 101. */
	assert_int_equal(kz_capture_linktype(c), 101);
	assert_int_equal(kz_capture_fd(c), -1);
	struct counter k = { .c = c };
	int first = kz_capture_dispatch(c, count, &k);
	assert_true(first > 0 && first < 10000); /* one batch, not the whole file */
	assert_int_equal(kz_capture_loop(c, count, &k), 0);
	assert_int_equal(k.n, 10000);
	struct kz_capture_stats st;
	kz_capture_stats(c, &st);
	assert_int_equal(st.frames, 10000);
	assert_int_equal(st.bytes, 200000);
	assert_int_equal(st.file.records, 10000);
	assert_false(st.has_kernel);
	kz_capture_close(c);

	/* A stop asked for inside the callback ends the loop after the batch. */
	assert_int_equal(kz_capture_open(&kz_capture_file, &o, &c, err, sizeof err), 0);
	struct counter s = { .c = c, .stop_at = 10 };
	assert_int_equal(kz_capture_loop(c, count, &s), -EINTR);
	assert_true(kz_capture_stopped(c));
	assert_true(s.n >= 10 && s.n < 10000);
	assert_int_equal(kz_capture_dispatch(c, count, &s), -EINTR);
	kz_capture_close(c);

	/* A corrupt file: the frames before the damage, then the error. */
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	assert_int_equal(fseek(f, 24 + 36 * 5000 + 8, SEEK_SET), 0);
	uint32_t huge = 0x7fffffff;
	assert_int_equal(fwrite(&huge, 4, 1, f), 1);
	fclose(f);
	assert_int_equal(kz_capture_open(&kz_capture_file, &o, &c, err, sizeof err), 0);
	struct counter e = { .c = c };
	assert_int_equal(kz_capture_loop(c, count, &e), -EBADMSG);
	assert_int_equal(e.n, 5000);
	assert_non_null(strstr(kz_capture_error(c), "record caplen 2147483647"));
	kz_capture_close(c);

	unlink(path);
	assert_int_not_equal(kz_capture_open(&kz_capture_file, &o, &c, err, sizeof err), 0);
	assert_null(c);
	assert_non_null(strstr(err, "No such file"));
}

static void test_live_errors(void **state)
{
	(void)state;
	/* No such interface: an error that names it, whether or not we are
	 * root (libpcap checks the name before the privilege). */
	struct kz_capture_opts o = { .source = "kz-no-such-if0" };
	struct kz_capture *c;
	char err[512];
	int rc = kz_capture_open(&kz_capture_live, &o, &c, err, sizeof err);
	assert_true(rc < 0);
	assert_null(c);
	assert_non_null(strstr(err, "kz-no-such-if0"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_darknet_filter),
		cmocka_unit_test(test_file_backend),
		cmocka_unit_test(test_live_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
