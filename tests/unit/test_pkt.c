/*
 * The packet decoder against hand-built frames: every link type, IPv4
 * options and fragments, IPv6 extension headers, TCP option edge cases,
 * ICMP errors quoting whole and truncated packets, VLAN stacks, bad lengths,
 * and the SYNs of Mirai, ZMap and masscan. Every frame is also decoded at
 * every shorter capture length from an exact-size heap copy, so that the
 * sanitizer build catches any read past the capture.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pkt.h"

/* ---- frame building --------------------------------------------------------- */

struct fb {
	uint8_t b[2048];
	size_t n;
};

static void put8(struct fb *f, unsigned v)
{
	f->b[f->n++] = (uint8_t)v;
}

static void put16(struct fb *f, unsigned v)
{
	put8(f, v >> 8);
	put8(f, v & 0xff);
}

static void put32(struct fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

static void putn(struct fb *f, const void *p, size_t n)
{
	memcpy(f->b + f->n, p, n);
	f->n += n;
}

static void set16(struct fb *f, size_t at, unsigned v)
{
	f->b[at] = (uint8_t)(v >> 8);
	f->b[at + 1] = (uint8_t)v;
}

static const uint8_t MACS[12] = { 2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2 };

/* Ethernet with ntags VLAN tags (tpids[i], vid vids[i]) and the EtherType. */
static void eth(struct fb *f, const uint16_t *tpids, const uint16_t *vids, int ntags, uint16_t type)
{
	putn(f, MACS, 12);
	for (int i = 0; i < ntags; i++) {
		put16(f, tpids[i]);
		put16(f, 0xe000u | vids[i]); /* priority 7 set: must be masked off */
	}
	put16(f, type);
}

#define V4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* IPv4 header with optlen bytes of options; total = header + payload_len.
 * Returns the offset of the header. */
static size_t ip4(struct fb *f, uint8_t proto, uint32_t src, uint32_t dst, uint8_t ttl, uint16_t id,
                  uint16_t frag, const uint8_t *opts, size_t optlen, size_t payload_len)
{
	size_t at = f->n;
	size_t ihl = 20 + optlen;
	put8(f, 0x40 | (unsigned)(ihl / 4));
	put8(f, 0);
	put16(f, (unsigned)(ihl + payload_len));
	put16(f, id);
	put16(f, frag);
	put8(f, ttl);
	put8(f, proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
	if (optlen)
		putn(f, opts, optlen);
	return at;
}

static const uint8_t SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
static const uint8_t DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x42 };

static size_t ip6(struct fb *f, uint8_t nh, uint8_t hlim, size_t payload_len)
{
	size_t at = f->n;
	put32(f, 0x60000000u | 0x0ab000u); /* traffic class 0x00, flow label 0xab000 */
	put16(f, (unsigned)payload_len);
	put8(f, nh);
	put8(f, hlim);
	putn(f, SRC6, 16);
	putn(f, DST6, 16);
	return at;
}

static void tcp(struct fb *f, uint16_t sp, uint16_t dp, uint32_t seq, uint32_t ack, uint8_t flags,
                uint16_t win, const uint8_t *opts, size_t optlen)
{
	put16(f, sp);
	put16(f, dp);
	put32(f, seq);
	put32(f, ack);
	put8(f, (unsigned)((20 + optlen) / 4) << 4);
	put8(f, flags);
	put16(f, win);
	put16(f, 0);
	put16(f, 0);
	if (optlen)
		putn(f, opts, optlen);
}

static void udp(struct fb *f, uint16_t sp, uint16_t dp, uint16_t len)
{
	put16(f, sp);
	put16(f, dp);
	put16(f, len);
	put16(f, 0);
}

/* Decodes f with an exact-size heap copy; then every shorter capture of it,
 * which must never read past the capture (ASan) and never be OK with the
 * L4 header claimed beyond what was captured. */
static enum kz_pkt_result decode_n(struct kz_pkt *p, uint32_t lt, const struct fb *f,
                                   uint32_t caplen, uint32_t wirelen)
{
	for (uint32_t cut = 0; cut < caplen; cut++) {
		uint8_t *c = malloc(cut ? cut : 1);
		assert_non_null(c);
		memcpy(c, f->b, cut);
		struct kz_pkt q;
		enum kz_pkt_result r = kz_pkt_decode(&q, lt, c, cut, wirelen);
		if (r == KZ_PKT_OK && (q.flags & KZ_PKT_F_L4))
			assert_true(q.l4_off + 4 <= cut);
		free(c);
	}
	uint8_t *c = malloc(caplen ? caplen : 1);
	assert_non_null(c);
	memcpy(c, f->b, caplen);
	enum kz_pkt_result r = kz_pkt_decode(p, lt, c, caplen, wirelen);
	free(c);
	return r;
}

static enum kz_pkt_result decode(struct kz_pkt *p, uint32_t lt, const struct fb *f)
{
	return decode_n(p, lt, f, (uint32_t)f->n, (uint32_t)f->n);
}

static void assert_v4(struct kz_addr a, uint32_t want)
{
	assert_true(kz_addr_is_v4(a));
	assert_int_equal(kz_addr_v4(a), want);
}

static void assert_v6(struct kz_addr a, const uint8_t want[16])
{
	uint8_t got[16];
	kz_addr_to_bytes(a, got);
	assert_memory_equal(got, want, 16);
}

static const uint32_t S4 = V4(192, 0, 2, 7);
static const uint32_t D4 = V4(198, 18, 3, 4);

/* ---- IPv4 and TCP -------------------------------------------------------------- */

static void test_ipv4_tcp_syn(void **state)
{
	(void)state;
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 6, S4, D4, 57, 0x1234, 0x4000, NULL, 0, 20);
	tcp(&f, 40000, 23, 0xdeadbeef, 0, KZ_TCP_SYN, 14600, NULL, 0);
	struct kz_pkt p;
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_v4(p.src, S4);
	assert_v4(p.dst, D4);
	assert_int_equal(p.ip_version, 4);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.ttl, 57);
	assert_int_equal(p.ip_id, 0x1234);
	assert_int_equal(p.ip_len, 40);
	assert_int_equal(p.l3_off, 14);
	assert_int_equal(p.l4_off, 34);
	assert_true(p.flags & KZ_PKT_F_L4);
	assert_true(p.flags & KZ_PKT_F_DF);
	assert_false(p.flags & (KZ_PKT_F_FRAGMENT | KZ_PKT_F_TRUNCATED | KZ_PKT_F_IP_OPTIONS));
	assert_int_equal(p.sport, 40000);
	assert_int_equal(p.dport, 23);
	assert_int_equal(p.tcp_seq, 0xdeadbeef);
	assert_int_equal(p.tcp_flags, KZ_TCP_SYN);
	assert_int_equal(p.tcp_win, 14600);
	assert_int_equal(p.tcp_hlen, 20);
	assert_int_equal(p.tcp_opt_count, 0);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.vlan_count, 0);
}

static void test_ipv4_options(void **state)
{
	(void)state;
	/* Router alert (4 bytes) and a timestamp option padded to 12 bytes. */
	static const uint8_t opts[12] = { 0x94, 4, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0 };
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 17, S4, D4, 64, 1, 0, opts, sizeof opts, 8 + 5);
	udp(&f, 53, 5353, 13);
	putn(&f, "hello", 5);
	struct kz_pkt p;
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_IP_OPTIONS);
	assert_int_equal(p.l4_off, 14 + 32);
	assert_int_equal(p.sport, 53);
	assert_int_equal(p.dport, 5353);
	assert_int_equal(p.udp_len, 13);
	assert_int_equal(p.payload_len, 5);
	assert_false(p.flags & KZ_PKT_F_UDP_LEN_BAD);
}

static void test_ipv4_bad_lengths(void **state)
{
	(void)state;
	struct kz_pkt p;
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	size_t ip = ip4(&f, 6, S4, D4, 64, 1, 0, NULL, 0, 20);
	tcp(&f, 1, 2, 3, 4, KZ_TCP_SYN, 5, NULL, 0);

	f.b[ip] = 0x44; /* IHL 4 */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_IP_IHL);
	f.b[ip] = 0x4f; /* IHL 15: 60 bytes, more than the frame holds */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_TRUNC_IP);
	f.b[ip] = 0x45;

	set16(&f, ip + 2, 19); /* total length below the header */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_IP_LEN);
	set16(&f, ip + 2, 0); /* what TSO captures on a sender show */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_IP_LEN);
	set16(&f, ip + 2, 41); /* one byte more than the frame on the wire */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_IP_LEN);
	set16(&f, ip + 2, 30); /* room for only 10 bytes of TCP */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_L4_LEN);
	set16(&f, ip + 2, 40);

	f.b[ip] = 0x55; /* version 5 */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_IP_VERSION);
	f.b[ip] = 0x65; /* IPv6 under EtherType IPv4 */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_IP_VERSION);
	f.b[ip] = 0x45;

	/* Shorter than the Ethernet header, and cut inside the IP header. */
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_ETHERNET, &f, 13, 13), KZ_PKT_ERR_TRUNC_LINK);
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_ETHERNET, &f, 14, 54), KZ_PKT_ERR_TRUNC_IP);
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_ETHERNET, &f, 33, 54), KZ_PKT_ERR_TRUNC_IP);
	/* Cut inside the TCP header. */
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_ETHERNET, &f, 44, 54), KZ_PKT_ERR_TRUNC_L4);
}

static void test_ipv4_padding_and_snaplen(void **state)
{
	(void)state;
	struct kz_pkt p;
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 6, S4, D4, 64, 1, 0, NULL, 0, 20 + 100);
	tcp(&f, 1, 80, 3, 4, KZ_TCP_ACK | KZ_TCP_PSH, 5, NULL, 0);
	memset(f.b + f.n, 'x', 100);
	f.n += 100;
	/* A snapshot of 64 bytes of a 154-byte frame: fine, and recorded. */
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_ETHERNET, &f, 64, (uint32_t)f.n), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_TRUNCATED);
	assert_int_equal(p.ip_len, 140);
	assert_int_equal(p.payload_len, 100);
	assert_int_equal(p.dport, 80);

	/* Ethernet padding after a short datagram is not part of it. */
	struct fb g = { .n = 0 };
	eth(&g, NULL, NULL, 0, 0x0800);
	ip4(&g, 17, S4, D4, 64, 1, 0, NULL, 0, 8);
	udp(&g, 1, 2, 8);
	memset(g.b + g.n, 0, 60 - g.n);
	g.n = 60;
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_OK);
	assert_int_equal(p.ip_len, 28);
	assert_int_equal(p.payload_len, 0);
	assert_false(p.flags & (KZ_PKT_F_TRUNCATED | KZ_PKT_F_UDP_LEN_BAD));
}

static void test_ipv4_fragments(void **state)
{
	(void)state;
	struct kz_pkt p;
	/* First fragment (MF, offset 0): the L4 header is there. */
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 17, S4, D4, 64, 77, 0x2000, NULL, 0, 16);
	udp(&f, 1000, 2000, 1400);
	put32(&f, 0);
	put32(&f, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_FRAGMENT);
	assert_false(p.flags & KZ_PKT_F_FRAG_LATER);
	assert_true(p.flags & KZ_PKT_F_L4);
	assert_int_equal(p.dport, 2000);
	/* The UDP length covers the whole datagram, not this fragment. */
	assert_true(p.flags & KZ_PKT_F_UDP_LEN_BAD);

	/* Non-first fragment: offset 185 * 8; what follows is data, not UDP. */
	struct fb g = { .n = 0 };
	eth(&g, NULL, NULL, 0, 0x0800);
	ip4(&g, 17, S4, D4, 64, 77, 185, NULL, 0, 16);
	udp(&g, 0xaaaa, 0xbbbb, 0xcccc);
	put32(&g, 0);
	put32(&g, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_FRAGMENT);
	assert_true(p.flags & KZ_PKT_F_FRAG_LATER);
	assert_false(p.flags & KZ_PKT_F_L4);
	assert_int_equal(p.frag_offset, 1480);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.sport, 0);
	assert_int_equal(p.dport, 0);
	assert_int_equal(p.payload_len, 16);

	/* A non-first fragment too short for any L4 header is still fine. */
	struct fb h = { .n = 0 };
	eth(&h, NULL, NULL, 0, 0x0800);
	ip4(&h, 6, S4, D4, 64, 77, 0x2001, NULL, 0, 2);
	put16(&h, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &h), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_FRAG_LATER);
}

static void test_tcp_offsets(void **state)
{
	(void)state;
	struct kz_pkt p;
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 6, S4, D4, 64, 1, 0, NULL, 0, 24);
	size_t t = f.n;
	tcp(&f, 1, 2, 3, 4, KZ_TCP_SYN, 5, (const uint8_t *)"\x02\x04\x05\xb4", 4);
	f.b[t + 12] = 4 << 4; /* data offset 4 */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_TCP_OFFSET);
	f.b[t + 12] = 0;
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_TCP_OFFSET);
	f.b[t + 12] = 7 << 4; /* 28 bytes, the segment has 24 */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_TCP_OFFSET);
	f.b[t + 12] = 6 << 4;
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_int_equal(p.tcp_mss, 1460);
	assert_true(p.flags & KZ_PKT_F_TCP_MSS_ONLY);
	/* The options cut by a short capture: the fixed header is enough. */
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_ETHERNET, &f, 56, (uint32_t)f.n), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_TCP_OPT_TRUNC);
	assert_false(p.flags & KZ_PKT_F_TCP_MSS_ONLY);
	assert_int_equal(p.tcp_mss, 0);
}

static void test_tcp_options(void **state)
{
	(void)state;
	struct kz_pkt p;
	/* Linux's SYN: MSS, SACK permitted, timestamps, NOP, window scale. */
	static const uint8_t linux_opts[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
		                                0, 1, 0,    0,    0, 0, 1, 3,  3, 7 };
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 6, S4, D4, 64, 1, 0x4000, NULL, 0, 40);
	tcp(&f, 1, 22, 3, 0, KZ_TCP_SYN, 64240, linux_opts, sizeof linux_opts);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_int_equal(p.tcp_hlen, 40);
	assert_int_equal(p.tcp_opt_count, 4);
	assert_int_equal(p.tcp_mss, 1460);
	assert_int_equal(p.tcp_opt_kinds, (1u << 2) | (1u << 3) | (1u << 4) | (1u << 8));
	assert_false(p.flags & (KZ_PKT_F_TCP_MSS_ONLY | KZ_PKT_F_TCP_OPT_BAD));

	/* An option whose length runs past the data offset. */
	static const uint8_t past[8] = { 1, 1, 2, 4, 0x05, 0xb4, 8, 10 };
	struct fb g = { .n = 0 };
	eth(&g, NULL, NULL, 0, 0x0800);
	ip4(&g, 6, S4, D4, 64, 1, 0, NULL, 0, 28 + 8);
	tcp(&g, 1, 22, 3, 0, KZ_TCP_SYN, 1024, past, sizeof past);
	put32(&g, 0); /* payload bytes the option must not reach into */
	put32(&g, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_TCP_OPT_BAD);
	assert_int_equal(p.tcp_opt_count, 1);
	assert_int_equal(p.tcp_mss, 1460);
	assert_false(p.flags & KZ_PKT_F_TCP_MSS_ONLY);

	/* Zero-length option: would loop forever if trusted. */
	static const uint8_t zero[4] = { 3, 0, 0, 0 };
	struct fb h = { .n = 0 };
	eth(&h, NULL, NULL, 0, 0x0800);
	ip4(&h, 6, S4, D4, 64, 1, 0, NULL, 0, 24);
	tcp(&h, 1, 22, 3, 0, KZ_TCP_SYN, 1024, zero, sizeof zero);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &h), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_TCP_OPT_BAD);

	/* MSS with a wrong length, and MSS then EOL padding. */
	static const uint8_t badmss[4] = { 2, 3, 5, 0 };
	struct fb k = { .n = 0 };
	eth(&k, NULL, NULL, 0, 0x0800);
	ip4(&k, 6, S4, D4, 64, 1, 0, NULL, 0, 24);
	tcp(&k, 1, 22, 3, 0, KZ_TCP_SYN, 1024, badmss, sizeof badmss);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &k), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_TCP_OPT_BAD);
	assert_int_equal(p.tcp_mss, 0);
	static const uint8_t mss_eol[8] = { 2, 4, 0x02, 0x18, 0, 0, 0, 0 };
	struct fb m = { .n = 0 };
	eth(&m, NULL, NULL, 0, 0x0800);
	ip4(&m, 6, S4, D4, 64, 1, 0, NULL, 0, 28);
	tcp(&m, 1, 22, 3, 0, KZ_TCP_SYN, 1024, mss_eol, sizeof mss_eol);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &m), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_TCP_MSS_ONLY);
	assert_int_equal(p.tcp_mss, 536);
}

/* ---- scanner SYNs (REFERENCE.md, "Darknet analysis rules") --------------------- */

static void test_mirai_syn(void **state)
{
	(void)state;
	struct kz_pkt p;
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 6, V4(203, 0, 113, 9), D4, 64, 0x7a11, 0, NULL, 0, 20);
	tcp(&f, 51234, 23, D4, 0, KZ_TCP_SYN, 0x3e1f, NULL, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	/* What the Mirai rule reads: seq == dst, TTL 64, no options, port 23. */
	assert_int_equal(p.tcp_seq, kz_addr_v4(p.dst));
	assert_int_equal(p.ttl, 64);
	assert_int_equal(p.tcp_opt_count, 0);
	assert_int_equal(p.tcp_hlen, 20);
	assert_int_equal(p.dport, 23);
	assert_int_equal(p.tcp_flags, KZ_TCP_SYN);
}

static void test_zmap_syn(void **state)
{
	(void)state;
	struct kz_pkt p;
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 6, V4(203, 0, 113, 10), D4, 255, 54321, 0, NULL, 0, 20);
	tcp(&f, 37000, 80, 0x1a2b3c4d, 0, KZ_TCP_SYN, 65535, NULL, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_int_equal(p.ip_id, 54321);
	assert_int_equal(p.ttl, 255);
	assert_int_equal(p.tcp_win, 65535);
	assert_int_equal(p.dport, 80);
}

static void test_masscan_syn(void **state)
{
	(void)state;
	struct kz_pkt p;
	uint32_t seq = 0x9e3779b9, dport = 8080;
	uint16_t id = (uint16_t)((D4 ^ dport ^ seq) & 0xffff);
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 6, V4(203, 0, 113, 11), D4, 255, id, 0, NULL, 0, 20);
	tcp(&f, 61000, (uint16_t)dport, seq, 0, KZ_TCP_SYN, 1024, NULL, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_int_equal(p.ip_id, (kz_addr_v4(p.dst) ^ p.dport ^ p.tcp_seq) & 0xffff);
	assert_int_equal(p.ttl, 255);
	assert_int_equal(p.tcp_win, 1024);
}

/* ---- ICMP errors ------------------------------------------------------------- */

static void test_icmp_error_full_quote(void **state)
{
	(void)state;
	struct kz_pkt p;
	/* Port unreachable from a victim (backscatter): it quotes the packet
	 * that was "sent" from the darknet address to the victim. */
	uint32_t victim = V4(203, 0, 113, 80);
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 1, victim, D4, 50, 9, 0, NULL, 0, 8 + 28);
	put8(&f, 3);
	put8(&f, 3);
	put16(&f, 0);
	put32(&f, 0);
	ip4(&f, 17, D4, victim, 1, 99, 0, NULL, 0, 8);
	udp(&f, 4444, 53, 8);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_int_equal(p.icmp_type, 3);
	assert_int_equal(p.icmp_code, 3);
	assert_true(p.flags & KZ_PKT_F_ICMP_ERROR);
	assert_true(p.flags & KZ_PKT_F_INNER);
	assert_true(p.flags & KZ_PKT_F_INNER_PORTS);
	assert_false(p.flags & (KZ_PKT_F_INNER_TRUNC | KZ_PKT_F_INNER_BAD));
	assert_v4(p.inner.src, D4);
	assert_v4(p.inner.dst, victim);
	assert_int_equal(p.inner.proto, 17);
	assert_int_equal(p.inner.sport, 4444);
	assert_int_equal(p.inner.dport, 53);
	assert_int_equal(p.inner.ip_version, 4);

	/* Echo request: id and sequence. */
	struct fb g = { .n = 0 };
	eth(&g, NULL, NULL, 0, 0x0800);
	ip4(&g, 1, S4, D4, 50, 9, 0, NULL, 0, 8);
	put8(&g, 8);
	put8(&g, 0);
	put16(&g, 0);
	put16(&g, 0x4242);
	put16(&g, 7);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_OK);
	assert_int_equal(p.icmp_type, 8);
	assert_int_equal(p.icmp_id, 0x4242);
	assert_int_equal(p.icmp_seq, 7);
	assert_false(p.flags & KZ_PKT_F_ICMP_ERROR);
}

static void test_icmp_error_truncated_quote(void **state)
{
	(void)state;
	struct kz_pkt p;
	uint32_t victim = V4(203, 0, 113, 80);
	/* Time exceeded quoting only 12 bytes of the IPv4 header: nothing
	 * usable, but the packet itself is fine. */
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 1, victim, D4, 50, 9, 0, NULL, 0, 8 + 12);
	put8(&f, 11);
	put8(&f, 0);
	put16(&f, 0);
	put32(&f, 0);
	struct fb inner = { .n = 0 };
	ip4(&inner, 6, D4, victim, 1, 99, 0, NULL, 0, 20);
	putn(&f, inner.b, 12);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_ICMP_ERROR);
	assert_true(p.flags & KZ_PKT_F_INNER_TRUNC);
	assert_false(p.flags & KZ_PKT_F_INNER);

	/* The IPv4 header and 2 bytes of TCP: addresses, no ports. */
	struct fb g = { .n = 0 };
	eth(&g, NULL, NULL, 0, 0x0800);
	ip4(&g, 1, victim, D4, 50, 9, 0, NULL, 0, 8 + 22);
	put8(&g, 3);
	put8(&g, 1);
	put16(&g, 0);
	put32(&g, 0);
	putn(&g, inner.b, 20);
	put16(&g, 4444);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_INNER);
	assert_true(p.flags & KZ_PKT_F_INNER_TRUNC);
	assert_false(p.flags & KZ_PKT_F_INNER_PORTS);
	assert_v4(p.inner.dst, victim);
	assert_int_equal(p.inner.proto, 6);

	/* The same quote complete in the ICMP message but cut by the capture:
	 * the decoder uses what was captured. */
	struct fb h = { .n = 0 };
	eth(&h, NULL, NULL, 0, 0x0800);
	ip4(&h, 1, victim, D4, 50, 9, 0, NULL, 0, 8 + 28);
	put8(&h, 3);
	put8(&h, 1);
	put16(&h, 0);
	put32(&h, 0);
	putn(&h, inner.b, 20);
	put16(&h, 4444);
	put16(&h, 23);
	put32(&h, 1);
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_ETHERNET, &h, 14 + 20 + 8 + 22, (uint32_t)h.n),
	                 KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_TRUNCATED);
	assert_true(p.flags & KZ_PKT_F_INNER_TRUNC);
	assert_false(p.flags & KZ_PKT_F_INNER_PORTS);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &h), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_INNER_PORTS);
	assert_int_equal(p.inner.dport, 23);

	/* A quote that is not IPv4 at all. */
	h.b[14 + 20 + 8] = 0x65;
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &h), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_INNER_BAD);
	assert_false(p.flags & KZ_PKT_F_INNER);
}

static void test_icmpv6_errors(void **state)
{
	(void)state;
	struct kz_pkt p;
	/* Destination unreachable quoting IPv6 + TCP. */
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x86dd);
	ip6(&f, 58, 60, 8 + 40 + 20);
	put8(&f, 1);
	put8(&f, 4);
	put16(&f, 0);
	put32(&f, 0);
	ip6(&f, 6, 1, 20);
	tcp(&f, 5555, 443, 1, 0, KZ_TCP_SYN, 1, NULL, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.proto, 58);
	assert_int_equal(p.icmp_type, 1);
	assert_int_equal(p.icmp_code, 4);
	assert_true(p.flags & KZ_PKT_F_ICMP_ERROR);
	assert_true(p.flags & KZ_PKT_F_INNER_PORTS);
	assert_int_equal(p.inner.ip_version, 6);
	assert_int_equal(p.inner.proto, 6);
	assert_int_equal(p.inner.sport, 5555);
	assert_int_equal(p.inner.dport, 443);
	assert_v6(p.inner.dst, DST6);

	/* Packet too big quoting IPv6 + fragment header + UDP. */
	struct fb g = { .n = 0 };
	eth(&g, NULL, NULL, 0, 0x86dd);
	ip6(&g, 58, 60, 8 + 40 + 8 + 8);
	put8(&g, 2);
	put8(&g, 0);
	put16(&g, 0);
	put32(&g, 1280);
	ip6(&g, 44, 1, 16);
	put8(&g, 17);
	put8(&g, 0);
	put16(&g, 1); /* offset 0, M set */
	put32(&g, 0xabcdef);
	udp(&g, 7, 9, 2000);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_INNER_PORTS);
	assert_int_equal(p.inner.proto, 17);
	assert_int_equal(p.inner.dport, 9);

	/* Time exceeded quoting 30 bytes of an IPv6 header. */
	struct fb h = { .n = 0 };
	eth(&h, NULL, NULL, 0, 0x86dd);
	ip6(&h, 58, 60, 8 + 30);
	put8(&h, 3);
	put8(&h, 0);
	put16(&h, 0);
	put32(&h, 0);
	struct fb in6 = { .n = 0 };
	ip6(&in6, 6, 1, 20);
	putn(&h, in6.b, 30);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &h), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_INNER_TRUNC);
	assert_false(p.flags & KZ_PKT_F_INNER);

	/* An ICMPv6 error quoting IPv4 is malformed; an echo request is not an error. */
	struct fb k = { .n = 0 };
	eth(&k, NULL, NULL, 0, 0x86dd);
	ip6(&k, 58, 60, 8 + 28);
	put8(&k, 1);
	put8(&k, 0);
	put16(&k, 0);
	put32(&k, 0);
	ip4(&k, 17, D4, S4, 1, 1, 0, NULL, 0, 8);
	udp(&k, 1, 2, 8);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &k), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_INNER_BAD);
	struct fb e = { .n = 0 };
	eth(&e, NULL, NULL, 0, 0x86dd);
	ip6(&e, 58, 60, 8);
	put8(&e, 128);
	put8(&e, 0);
	put16(&e, 0);
	put16(&e, 31);
	put16(&e, 2);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &e), KZ_PKT_OK);
	assert_int_equal(p.icmp_id, 31);
	assert_false(p.flags & KZ_PKT_F_ICMP_ERROR);
}

/* ---- IPv6 extension headers ---------------------------------------------------- */

static void ext(struct fb *f, uint8_t nh, unsigned len8)
{
	/* A generic extension header of (len8 + 1) * 8 bytes, PadN inside. */
	put8(f, nh);
	put8(f, len8);
	for (unsigned i = 2; i < (len8 + 1) * 8; i++)
		put8(f, i == 2 ? 1 : 0);
}

static void test_ipv6_extensions(void **state)
{
	(void)state;
	struct kz_pkt p;
	/* Hop-by-hop, destination options, AH, routing, then TCP. */
	struct fb g = { .n = 0 };
	eth(&g, NULL, NULL, 0, 0x86dd);
	ip6(&g, 0, 64, 8 + 16 + 12 + 8 + 20);
	ext(&g, 60, 0); /* hop-by-hop, 8 */
	ext(&g, 51, 1); /* destination options, 16 */
	put8(&g, 43);   /* AH with payload length 1: (1 + 2) * 4 = 12 bytes */
	put8(&g, 1);
	for (int i = 0; i < 10; i++)
		put8(&g, 0);
	ext(&g, 6, 0); /* routing, 8 */
	tcp(&g, 1, 2323, 9, 0, KZ_TCP_SYN, 1, NULL, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_OK);
	assert_int_equal(p.ip6_ext_count, 4);
	assert_int_equal(p.proto, 6);
	assert_int_equal(p.dport, 2323);
	assert_int_equal(p.l4_off, 14 + 40 + 8 + 16 + 12 + 8);
	assert_v6(p.src, SRC6);
	assert_v6(p.dst, DST6);
	assert_int_equal(p.ttl, 64);

	/* An extension header longer than the payload length says. */
	struct fb h = { .n = 0 };
	eth(&h, NULL, NULL, 0, 0x86dd);
	ip6(&h, 60, 64, 8);
	ext(&h, 59, 1); /* 16 bytes in an 8-byte payload */
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &h), KZ_PKT_ERR_IP6_EXT);
	/* Cut by the capture instead. */
	struct fb k = { .n = 0 };
	eth(&k, NULL, NULL, 0, 0x86dd);
	ip6(&k, 60, 64, 16);
	ext(&k, 59, 1);
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_ETHERNET, &k, 14 + 40 + 8, (uint32_t)k.n),
	                 KZ_PKT_ERR_TRUNC_IP);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &k), KZ_PKT_OK);
	assert_int_equal(p.proto, 59);
	assert_false(p.flags & KZ_PKT_F_L4);

	/* Nine destination-options headers: more than the walk allows. */
	struct fb m = { .n = 0 };
	eth(&m, NULL, NULL, 0, 0x86dd);
	ip6(&m, 60, 64, 9 * 8 + 8);
	for (int i = 0; i < 9; i++)
		ext(&m, i == 8 ? 17 : 60, 0);
	udp(&m, 1, 2, 8);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &m), KZ_PKT_ERR_IP6_EXT_DEPTH);

	/* IPv6 payload longer than the frame. */
	struct fb n = { .n = 0 };
	eth(&n, NULL, NULL, 0, 0x86dd);
	ip6(&n, 17, 64, 100);
	udp(&n, 1, 2, 8);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &n), KZ_PKT_ERR_IP_LEN);
}

static void test_ipv6_fragments(void **state)
{
	(void)state;
	struct kz_pkt p;
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x86dd);
	ip6(&f, 44, 64, 8 + 8);
	put8(&f, 17);
	put8(&f, 0);
	put16(&f, 1); /* first fragment, more follow */
	put32(&f, 0x01020304);
	udp(&f, 1, 500, 3000);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_FRAGMENT);
	assert_true(p.flags & KZ_PKT_F_IP6_FRAG_HDR);
	assert_true(p.flags & KZ_PKT_F_L4);
	assert_int_equal(p.frag_id, 0x01020304);
	assert_int_equal(p.dport, 500);

	struct fb g = { .n = 0 };
	eth(&g, NULL, NULL, 0, 0x86dd);
	ip6(&g, 44, 64, 8 + 8);
	put8(&g, 17);
	put8(&g, 0);
	put16(&g, 1448); /* offset 1448, last fragment */
	put32(&g, 0x01020304);
	udp(&g, 0xaaaa, 0xbbbb, 1);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_FRAG_LATER);
	assert_false(p.flags & KZ_PKT_F_L4);
	assert_int_equal(p.frag_offset, 1448);
	assert_int_equal(p.proto, 17);
	assert_int_equal(p.dport, 0);
}

/* ---- link layers --------------------------------------------------------------- */

static void l4_syn(struct fb *f)
{
	ip4(f, 6, S4, D4, 64, 1, 0, NULL, 0, 20);
	tcp(f, 1111, 2222, 3, 0, KZ_TCP_SYN, 1024, NULL, 0);
}

static void test_vlan_stacks(void **state)
{
	(void)state;
	struct kz_pkt p;
	static const uint16_t tp1[1] = { 0x8100 }, vid1[1] = { 100 };
	struct fb f = { .n = 0 };
	eth(&f, tp1, vid1, 1, 0x0800);
	l4_syn(&f);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_int_equal(p.vlan_count, 1);
	assert_int_equal(p.vlan[0], 100);
	assert_int_equal(p.l3_off, 18);
	assert_int_equal(p.dport, 2222);

	static const uint16_t tp2[2] = { 0x88a8, 0x8100 }, vid2[2] = { 7, 4094 };
	struct fb g = { .n = 0 };
	eth(&g, tp2, vid2, 2, 0x0800);
	l4_syn(&g);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_OK);
	assert_int_equal(p.vlan_count, 2);
	assert_int_equal(p.vlan[0], 7);
	assert_int_equal(p.vlan[1], 4094);
	assert_int_equal(p.l3_off, 22);

	static const uint16_t tp4[4] = { 0x9100, 0x88a8, 0x8100, 0x8100 }, vid4[4] = { 1, 2, 3, 4 };
	struct fb h = { .n = 0 };
	eth(&h, tp4, vid4, 4, 0x86dd);
	ip6(&h, 17, 64, 8);
	udp(&h, 1, 2, 8);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &h), KZ_PKT_OK);
	assert_int_equal(p.vlan_count, 4);
	assert_int_equal(p.vlan[3], 4);
	assert_int_equal(p.ip_version, 6);

	static const uint16_t tp5[5] = { 0x8100, 0x8100, 0x8100, 0x8100, 0x8100 },
	                      vid5[5] = { 1, 2, 3, 4, 5 };
	struct fb k = { .n = 0 };
	eth(&k, tp5, vid5, 5, 0x0800);
	l4_syn(&k);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &k), KZ_PKT_ERR_VLAN_DEPTH);

	/* A tag cut by the capture. */
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_ETHERNET, &g, 16, (uint32_t)g.n),
	                 KZ_PKT_ERR_TRUNC_LINK);
	/* ARP under a VLAN tag is still not IP. */
	struct fb a = { .n = 0 };
	eth(&a, tp1, vid1, 1, 0x0806);
	for (int i = 0; i < 28; i++)
		put8(&a, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &a), KZ_PKT_ERR_NOT_IP);
}

static void test_not_ip(void **state)
{
	(void)state;
	struct kz_pkt p;
	/* ARP request: who has 198.18.0.1 tell 198.18.0.2. */
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0806);
	put16(&f, 1);
	put16(&f, 0x0800);
	put8(&f, 6);
	put8(&f, 4);
	put16(&f, 1);
	putn(&f, MACS, 6);
	put32(&f, V4(198, 18, 0, 2));
	putn(&f, MACS, 6);
	put32(&f, V4(198, 18, 0, 1));
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_ERR_NOT_IP);
	/* 802.3 with a length field (LLC, STP). */
	struct fb g = { .n = 0 };
	eth(&g, NULL, NULL, 0, 38);
	for (int i = 0; i < 38; i++)
		put8(&g, 0x42);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_ERR_NOT_IP);
	/* An unknown link type. */
	assert_int_equal(decode(&p, 147, &g), KZ_PKT_ERR_LINKTYPE);
	assert_false(kz_pkt_linktype_supported(147));
	assert_true(kz_pkt_linktype_supported(KZ_LINKTYPE_LINUX_SLL2));
}

static void sll(struct fb *f, uint16_t proto)
{
	put16(f, 0); /* packet type: to us */
	put16(f, 1); /* ARPHRD_ETHER */
	put16(f, 6); /* address length */
	putn(f, MACS, 8);
	put16(f, proto);
}

static void sll2(struct fb *f, uint16_t proto)
{
	put16(f, proto);
	put16(f, 0);
	put32(f, 3); /* interface index */
	put16(f, 1); /* ARPHRD_ETHER */
	put8(f, 0);  /* packet type */
	put8(f, 6);
	putn(f, MACS, 8);
}

static void test_cooked(void **state)
{
	(void)state;
	struct kz_pkt p;
	struct fb f = { .n = 0 };
	sll(&f, 0x0800);
	l4_syn(&f);
	assert_int_equal(decode(&p, KZ_LINKTYPE_LINUX_SLL, &f), KZ_PKT_OK);
	assert_int_equal(p.l3_off, 16);
	assert_int_equal(p.dport, 2222);
	assert_v4(p.dst, D4);

	struct fb g = { .n = 0 };
	sll(&g, 0x86dd);
	ip6(&g, 17, 33, 8);
	udp(&g, 1, 161, 8);
	assert_int_equal(decode(&p, KZ_LINKTYPE_LINUX_SLL, &g), KZ_PKT_OK);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.dport, 161);
	assert_int_equal(p.ttl, 33);

	struct fb h = { .n = 0 };
	sll2(&h, 0x0800);
	l4_syn(&h);
	assert_int_equal(decode(&p, KZ_LINKTYPE_LINUX_SLL2, &h), KZ_PKT_OK);
	assert_int_equal(p.l3_off, 20);
	assert_int_equal(p.sport, 1111);

	struct fb k = { .n = 0 };
	sll2(&k, 0x86dd);
	ip6(&k, 6, 64, 20);
	tcp(&k, 9, 22, 1, 0, KZ_TCP_SYN, 1, NULL, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_LINUX_SLL2, &k), KZ_PKT_OK);
	assert_int_equal(p.ip_version, 6);
	assert_int_equal(p.dport, 22);

	/* libpcap re-inserts a VLAN tag after the cooked header. */
	struct fb v = { .n = 0 };
	sll(&v, 0x8100);
	put16(&v, 42);
	put16(&v, 0x0800);
	l4_syn(&v);
	assert_int_equal(decode(&p, KZ_LINKTYPE_LINUX_SLL, &v), KZ_PKT_OK);
	assert_int_equal(p.vlan_count, 1);
	assert_int_equal(p.vlan[0], 42);

	/* Cooked ARP, and a cooked header cut short. */
	struct fb a = { .n = 0 };
	sll2(&a, 0x0806);
	for (int i = 0; i < 28; i++)
		put8(&a, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_LINUX_SLL2, &a), KZ_PKT_ERR_NOT_IP);
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_LINUX_SLL2, &a, 19, 19), KZ_PKT_ERR_TRUNC_LINK);
	assert_int_equal(decode_n(&p, KZ_LINKTYPE_LINUX_SLL, &f, 15, 15), KZ_PKT_ERR_TRUNC_LINK);
}

static void test_raw_and_loopback(void **state)
{
	(void)state;
	struct kz_pkt p;
	struct fb f = { .n = 0 };
	l4_syn(&f);
	assert_int_equal(decode(&p, KZ_LINKTYPE_RAW, &f), KZ_PKT_OK);
	assert_int_equal(p.l3_off, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_DLT_RAW, &f), KZ_PKT_OK);
	assert_int_equal(decode(&p, KZ_LINKTYPE_IPV4, &f), KZ_PKT_OK);
	assert_int_equal(decode(&p, KZ_LINKTYPE_IPV6, &f), KZ_PKT_ERR_IP_VERSION);
	struct fb g = { .n = 0 };
	ip6(&g, 17, 64, 8);
	udp(&g, 1, 2, 8);
	assert_int_equal(decode(&p, KZ_LINKTYPE_RAW, &g), KZ_PKT_OK);
	assert_int_equal(decode(&p, KZ_LINKTYPE_IPV6, &g), KZ_PKT_OK);
	assert_int_equal(decode(&p, KZ_LINKTYPE_IPV4, &g), KZ_PKT_ERR_IP_VERSION);
	struct fb e = { .n = 0 };
	assert_int_equal(decode(&p, KZ_LINKTYPE_RAW, &e), KZ_PKT_ERR_TRUNC_IP);

	/* BSD loopback: AF_INET in either host order; AF_INET6 as macOS. */
	struct fb n = { .n = 0 };
	put8(&n, 2);
	put8(&n, 0);
	put8(&n, 0);
	put8(&n, 0);
	l4_syn(&n);
	assert_int_equal(decode(&p, KZ_LINKTYPE_NULL, &n), KZ_PKT_OK);
	assert_int_equal(p.l3_off, 4);
	struct fb nb = { .n = 0 };
	put32(&nb, 2);
	l4_syn(&nb);
	assert_int_equal(decode(&p, KZ_LINKTYPE_NULL, &nb), KZ_PKT_OK);
	assert_int_equal(decode(&p, KZ_LINKTYPE_LOOP, &nb), KZ_PKT_OK);
	struct fb n6 = { .n = 0 };
	put32(&n6, 30);
	ip6(&n6, 17, 64, 8);
	udp(&n6, 1, 2, 8);
	assert_int_equal(decode(&p, KZ_LINKTYPE_LOOP, &n6), KZ_PKT_OK);
	assert_int_equal(p.ip_version, 6);
	struct fb nx = { .n = 0 };
	put32(&nx, 7); /* not an IP family */
	l4_syn(&nx);
	assert_int_equal(decode(&p, KZ_LINKTYPE_LOOP, &nx), KZ_PKT_ERR_NOT_IP);
}

static void test_udp_and_other_protocols(void **state)
{
	(void)state;
	struct kz_pkt p;
	struct fb f = { .n = 0 };
	eth(&f, NULL, NULL, 0, 0x0800);
	ip4(&f, 17, S4, D4, 64, 1, 0, NULL, 0, 12);
	udp(&f, 1, 2, 40); /* claims more than the IP payload */
	put32(&f, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &f), KZ_PKT_OK);
	assert_true(p.flags & KZ_PKT_F_UDP_LEN_BAD);

	struct fb g = { .n = 0 };
	eth(&g, NULL, NULL, 0, 0x0800);
	ip4(&g, 47, S4, D4, 64, 1, 0, NULL, 0, 4); /* GRE */
	put32(&g, 0x00000800);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &g), KZ_PKT_OK);
	assert_int_equal(p.proto, 47);
	assert_false(p.flags & KZ_PKT_F_L4);
	assert_int_equal(p.payload_len, 4);

	struct fb s = { .n = 0 };
	eth(&s, NULL, NULL, 0, 0x0800);
	ip4(&s, 132, S4, D4, 64, 1, 0, NULL, 0, 12); /* SCTP common header */
	put16(&s, 5060);
	put16(&s, 2905);
	put32(&s, 0);
	put32(&s, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &s), KZ_PKT_OK);
	assert_int_equal(p.dport, 2905);

	struct fb u = { .n = 0 };
	eth(&u, NULL, NULL, 0, 0x0800);
	ip4(&u, 17, S4, D4, 64, 1, 0, NULL, 0, 4); /* 4 bytes: too short for UDP */
	put32(&u, 0);
	assert_int_equal(decode(&p, KZ_LINKTYPE_ETHERNET, &u), KZ_PKT_ERR_L4_LEN);
}

static void test_result_names(void **state)
{
	(void)state;
	for (int i = 0; i < KZ_PKT_RESULT_COUNT; i++) {
		const char *n = kz_pkt_result_name((enum kz_pkt_result)i);
		assert_non_null(n);
		assert_non_null(kz_pkt_result_text((enum kz_pkt_result)i));
		assert_string_not_equal(n, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(n, kz_pkt_result_name((enum kz_pkt_result)j));
	}
	assert_string_equal(kz_pkt_result_name(KZ_PKT_OK), "ok");
	assert_string_equal(kz_pkt_result_name(KZ_PKT_RESULT_COUNT), "unknown");
	struct kz_pkt_counters c = { { 0 } };
	kz_pkt_count(&c, KZ_PKT_ERR_NOT_IP);
	kz_pkt_count(&c, KZ_PKT_ERR_NOT_IP);
	assert_int_equal(c.by_result[KZ_PKT_ERR_NOT_IP], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_tcp_syn),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_bad_lengths),
		cmocka_unit_test(test_ipv4_padding_and_snaplen),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_tcp_offsets),
		cmocka_unit_test(test_tcp_options),
		cmocka_unit_test(test_mirai_syn),
		cmocka_unit_test(test_zmap_syn),
		cmocka_unit_test(test_masscan_syn),
		cmocka_unit_test(test_icmp_error_full_quote),
		cmocka_unit_test(test_icmp_error_truncated_quote),
		cmocka_unit_test(test_icmpv6_errors),
		cmocka_unit_test(test_ipv6_extensions),
		cmocka_unit_test(test_ipv6_fragments),
		cmocka_unit_test(test_vlan_stacks),
		cmocka_unit_test(test_not_ip),
		cmocka_unit_test(test_cooked),
		cmocka_unit_test(test_raw_and_loopback),
		cmocka_unit_test(test_udp_and_other_protocols),
		cmocka_unit_test(test_result_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
