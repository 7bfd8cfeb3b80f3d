/*
 * The per-packet classifier against hand-built packets (raw IP frames run
 * through the real decoder): every class of REFERENCE.md's rules, the
 * victim of ICMP errors, and each fingerprint rule with its near misses
 * (one condition off at a time), plus --anonymised-dst switching off the
 * rules that read the destination.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "classify.h"
#include "pkt.h"

struct fb {
	uint8_t b[512];
	size_t n;
};

static void put8(struct fb *f, unsigned v)
{
	f->b[f->n++] = (uint8_t)v;
}

static void put16(struct fb *f, unsigned v)
{
	put8(f, (v >> 8) & 0xff);
	put8(f, v & 0xff);
}

static void put32(struct fb *f, uint32_t v)
{
	put16(f, v >> 16);
	put16(f, v & 0xffff);
}

#define V4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static const uint32_t SRC = V4(192, 0, 2, 7);
static const uint32_t DST = V4(198, 18, 3, 4);

/* IPv4 header for a payload of len bytes. */
static void ip4(struct fb *f, uint8_t proto, uint32_t src, uint32_t dst, uint8_t ttl, uint16_t id,
                size_t len)
{
	put8(f, 0x45);
	put8(f, 0);
	put16(f, (unsigned)(20 + len));
	put16(f, id);
	put16(f, 0);
	put8(f, ttl);
	put8(f, proto);
	put16(f, 0);
	put32(f, src);
	put32(f, dst);
}

struct syn {
	uint32_t src, dst;
	uint8_t ttl;
	uint16_t id;
	uint16_t sport, dport;
	uint32_t seq;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt; /* a multiple of 4 bytes */
	size_t optlen;
};

/* A default SYN; tests change one field at a time. */
static struct syn syn_default(void)
{
	struct syn s = { SRC, DST, 60, 1234, 40000, 80, 0x01020304, KZ_TCP_SYN, 29200, NULL, 0 };
	return s;
}

static void build_tcp4(struct fb *f, const struct syn *s)
{
	f->n = 0;
	ip4(f, 6, s->src, s->dst, s->ttl, s->id, 20 + s->optlen);
	put16(f, s->sport);
	put16(f, s->dport);
	put32(f, s->seq);
	put32(f, 0);
	put8(f, (unsigned)((20 + s->optlen) / 4) << 4);
	put8(f, s->flags);
	put16(f, s->win);
	put16(f, 0);
	put16(f, 0);
	if (s->optlen)
		memcpy(f->b + f->n, s->opt, s->optlen);
	f->n += s->optlen;
}

/* Frames the fast path took (test_fast_path_taken checks it took some). */
static unsigned fast_hits;

static void classify(const struct fb *f, unsigned rules, struct kz_tpkt *t)
{
	struct kz_pkt p;
	assert_int_equal(kz_pkt_decode(&p, KZ_LINKTYPE_RAW, f->b, (uint32_t)f->n, (uint32_t)f->n),
	                 KZ_PKT_OK);
	memset(t, 0xa5, sizeof *t); /* every field must be written */
	kz_classify(&p, 1234567890123456789ull, rules, t);
	/* The fused fast path, where it takes the frame, gives the same
	 * summary, byte for byte; raw IP and the same frame in Ethernet. */
	for (int eth = 0; eth < 2; eth++) {
		uint8_t frame[sizeof f->b + 14] = { 0 };
		size_t off = eth ? 14 : 0;
		if (eth) {
			frame[12] = 0x08;
			frame[13] = 0x00;
		}
		memcpy(frame + off, f->b, f->n);
		struct kz_tpkt fast;
		uint32_t dst = 0;
		memset(&fast, 0x5a, sizeof fast);
		uint32_t n = (uint32_t)(f->n + off);
		if (kz_classify_frame(eth ? KZ_LINKTYPE_ETHERNET : KZ_LINKTYPE_RAW, frame, n, n,
		                      1234567890123456789ull, rules, &fast, &dst)) {
			assert_memory_equal(&fast, t, sizeof fast);
			assert_int_equal(dst, kz_addr_v4(p.dst));
			fast_hits++;
		}
	}
}

static struct kz_tpkt tcp4(const struct syn *s, unsigned rules)
{
	struct fb f;
	struct kz_tpkt t;
	build_tcp4(&f, s);
	classify(&f, rules, &t);
	return t;
}

static const uint8_t MSS1460[4] = { 2, 4, 0x05, 0xb4 };
static const uint8_t MSS1400[4] = { 2, 4, 0x05, 0x78 };
static const uint8_t MSS_SACK[8] = { 2, 4, 0x05, 0xb4, 4, 2, 1, 1 };

/* ------------------------------------------------------------ classes */

static void test_tcp_classes(void **state)
{
	(void)state;
	struct syn s = syn_default();
	struct kz_tpkt t = tcp4(&s, KZ_FP_ALL);
	assert_int_equal(t.cls, KZ_TCLASS_PROBE);
	assert_int_equal(t.proto, KZ_TPROTO_TCP);
	assert_true(t.flags & KZ_TPKT_SYN);
	assert_true(t.flags & KZ_TPKT_HASPORT);
	assert_int_equal(t.port, 80);
	assert_int_equal(t.sport, 40000);
	assert_int_equal(t.dst_hash, kz_dset_hash(DST));
	assert_int_equal(t.dark16, DST >> 16);
	assert_int_equal(t.len, 40);
	assert_int_equal(t.h, 0);
	assert_true(t.ts_ns == 1234567890123456789ull);
	assert_true(t.src.v == kz_addr_from_v4(SRC).v);

	s.flags = KZ_TCP_SYN | KZ_TCP_ACK; /* a victim's answer to a spoofed SYN */
	t = tcp4(&s, KZ_FP_ALL);
	assert_int_equal(t.cls, KZ_TCLASS_BACKSCATTER);
	assert_false(t.flags & KZ_TPKT_SYN);
	assert_true(t.victim.v == kz_addr_from_v4(SRC).v);

	s.flags = KZ_TCP_RST;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).cls, KZ_TCLASS_BACKSCATTER);
	s.flags = KZ_TCP_RST | KZ_TCP_ACK;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).cls, KZ_TCLASS_BACKSCATTER);
	s.flags = KZ_TCP_SYN | KZ_TCP_RST; /* any RST */
	t = tcp4(&s, KZ_FP_ALL);
	assert_int_equal(t.cls, KZ_TCLASS_BACKSCATTER);
	assert_int_equal(t.fp, 0);
	s.flags = KZ_TCP_ACK; /* a stray ACK: neither */
	assert_int_equal(tcp4(&s, KZ_FP_ALL).cls, KZ_TCLASS_OTHER);
	s.flags = KZ_TCP_FIN | KZ_TCP_ACK;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).cls, KZ_TCLASS_OTHER);
	s.flags = KZ_TCP_SYN | KZ_TCP_ECE | KZ_TCP_CWR; /* ECN SYN is still a SYN */
	assert_int_equal(tcp4(&s, KZ_FP_ALL).cls, KZ_TCLASS_PROBE);
}

static void test_udp_and_other(void **state)
{
	(void)state;
	struct fb f = { .n = 0 };
	struct kz_tpkt t;
	ip4(&f, 17, SRC, DST, 50, 1, 8 + 4);
	put16(&f, 53);
	put16(&f, 5060);
	put16(&f, 12);
	put16(&f, 0);
	put32(&f, 0xdeadbeef);
	classify(&f, KZ_FP_ALL, &t);
	assert_int_equal(t.cls, KZ_TCLASS_PROBE); /* any UDP, even from port 53 */
	assert_int_equal(t.proto, KZ_TPROTO_UDP);
	assert_int_equal(t.port, 5060);
	assert_int_equal(t.sport, 53);
	assert_false(t.flags & KZ_TPKT_SYN);

	/* GRE: other, on the port axis as its protocol number. */
	f.n = 0;
	ip4(&f, 47, SRC, DST, 50, 1, 4);
	put32(&f, 0);
	classify(&f, KZ_FP_ALL, &t);
	assert_int_equal(t.cls, KZ_TCLASS_OTHER);
	assert_int_equal(t.proto, KZ_TPROTO_OTHER);
	assert_int_equal(t.port, 47);
	assert_false(t.flags & KZ_TPKT_HASPORT);

	/* A non-first UDP fragment has no header: other, port 0. */
	f.n = 0;
	ip4(&f, 17, SRC, DST, 50, 1, 16);
	f.b[6] = 0x00;
	f.b[7] = 0x02; /* offset 16 bytes */
	for (int i = 0; i < 16; i++)
		put8(&f, 0);
	classify(&f, KZ_FP_ALL, &t);
	assert_int_equal(t.cls, KZ_TCLASS_OTHER);
	assert_int_equal(t.proto, KZ_TPROTO_UDP);
	assert_int_equal(t.port, 0);
}

static void icmp4(struct fb *f, uint8_t type, uint8_t code, size_t extra)
{
	put8(f, type);
	put8(f, code);
	put16(f, 0);
	put32(f, 0x00010002);
	(void)extra;
}

static void test_icmp_classes(void **state)
{
	(void)state;
	static const uint8_t backscatter[] = { 0, 3, 4, 5, 11, 12, 14, 16, 18 };
	for (unsigned type = 0; type < 256; type++) {
		struct fb f = { .n = 0 };
		struct kz_tpkt t;
		ip4(&f, 1, SRC, DST, 50, 1, 8);
		icmp4(&f, (uint8_t)type, 0, 0);
		classify(&f, KZ_FP_ALL, &t);
		bool bs = memchr(backscatter, (int)type, sizeof backscatter) != NULL;
		enum kz_tclass want = type == 8 ? KZ_TCLASS_PROBE
		                      : bs      ? KZ_TCLASS_BACKSCATTER
		                                : KZ_TCLASS_OTHER;
		assert_int_equal(t.cls, want);
		assert_int_equal(t.proto, KZ_TPROTO_ICMP);
		assert_int_equal(t.port, type);
		if (bs && type != 3 && type != 4 && type != 5 && type != 11 && type != 12)
			assert_true(t.victim.v == kz_addr_from_v4(SRC).v);
	}
}

/* An ICMP error quoting the attack's SYN-ACK: the router that sent it is
 * not the victim; the quoted packet's destination is. */
static void test_icmp_error_victim(void **state)
{
	(void)state;
	const uint32_t router = V4(203, 0, 113, 9), victim = V4(192, 0, 2, 80);
	struct fb f = { .n = 0 };
	struct kz_tpkt t;
	ip4(&f, 1, router, DST, 240, 1, 8 + 28);
	icmp4(&f, 3, 1, 0);
	/* Quoted: victim's SYN-ACK to the spoofed (dark) address... as the
	 * router saw it: from the dark address to the victim. */
	ip4(&f, 6, DST, victim, 50, 7, 8);
	put16(&f, 4444);
	put16(&f, 80);
	put32(&f, 1);
	classify(&f, KZ_FP_ALL, &t);
	assert_int_equal(t.cls, KZ_TCLASS_BACKSCATTER);
	assert_true(t.victim.v == kz_addr_from_v4(victim).v);
	assert_true(t.src.v == kz_addr_from_v4(router).v);

	/* Cut before the quoted addresses: the sender stands in. */
	f.n = 0;
	ip4(&f, 1, router, DST, 240, 1, 8 + 8);
	icmp4(&f, 11, 0, 0);
	put32(&f, 0x45000000);
	put32(&f, 0);
	classify(&f, KZ_FP_ALL, &t);
	assert_int_equal(t.cls, KZ_TCLASS_BACKSCATTER);
	assert_true(t.victim.v == kz_addr_from_v4(router).v);
}

static void test_ipv6(void **state)
{
	(void)state;
	static const uint8_t s6[16] = {
		0x20, 0x01, 0x0d, 0xb8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
	};
	static const uint8_t d6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0,
		                        0,    0,    0,    0,    0,    0,    0, 0x42 };
	for (int kind = 0; kind < 4; kind++) {
		struct fb f = { .n = 0 };
		struct kz_tpkt t;
		uint8_t nh = kind < 2 ? 6 : 58;
		size_t len = kind < 2 ? 24 : 8;
		put32(&f, 0x60000000);
		put16(&f, (unsigned)len);
		put8(&f, nh);
		put8(&f, 50); /* hop limit: nmap's range */
		memcpy(f.b + f.n, s6, 16);
		f.n += 16;
		memcpy(f.b + f.n, d6, 16);
		f.n += 16;
		if (nh == 6) {
			put16(&f, 40000);
			put16(&f, 22);
			put32(&f, 5);
			put32(&f, 0);
			put8(&f, 6 << 4);
			put8(&f, kind == 0 ? KZ_TCP_SYN : KZ_TCP_SYN | KZ_TCP_ACK);
			put16(&f, 1024);
			put32(&f, 0);
			put8(&f, 2);
			put8(&f, 4);
			put16(&f, 1460);
		} else {
			put8(&f, kind == 2 ? 128 : 1); /* echo request; unreachable */
			put8(&f, 0);
			put16(&f, 0);
			put32(&f, 0);
		}
		classify(&f, KZ_FP_ALL, &t);
		assert_true(t.flags & KZ_TPKT_V6);
		switch (kind) {
		case 0:
			assert_int_equal(t.cls, KZ_TCLASS_PROBE);
			/* nmap's rule reads no IPv4 field */
			assert_int_equal(t.fp, KZ_FP_NMAP);
			break;
		case 1:
			assert_int_equal(t.cls, KZ_TCLASS_BACKSCATTER);
			break;
		case 2:
			assert_int_equal(t.cls, KZ_TCLASS_PROBE);
			assert_int_equal(t.proto, KZ_TPROTO_ICMP6);
			assert_int_equal(t.port, 128);
			break;
		default:
			assert_int_equal(t.cls, KZ_TCLASS_BACKSCATTER);
			break;
		}
	}
}

/* -------------------------------------------------------- fingerprints */

static struct syn mirai(void)
{
	struct syn s = syn_default();
	s.seq = DST;
	s.ttl = 52; /* 64 after 12 hops */
	s.dport = 23;
	s.win = 14730;
	return s;
}

static void test_mirai(void **state)
{
	(void)state;
	struct syn s = mirai();
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, KZ_FP_MIRAI);
	s.dport = 2323;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, KZ_FP_MIRAI);
	s.ttl = 64;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, KZ_FP_MIRAI);
	/* Near misses, one condition at a time. */
	s = mirai();
	s.seq = DST + 1;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = mirai();
	s.ttl = 65; /* initial 128 */
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = mirai();
	s.dport = 80;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = mirai();
	s.opt = MSS1460;
	s.optlen = 4;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = mirai();
	assert_int_equal(tcp4(&s, KZ_FP_ALL & ~KZ_FP_DST_RULES).fp, 0);
}

static struct syn masscan(void)
{
	struct syn s = syn_default();
	s.ttl = 243;
	s.win = 1024;
	s.seq = 0x9abcdef0;
	s.id = (uint16_t)((DST ^ s.dport ^ s.seq) & 0xffff);
	return s;
}

static void test_masscan(void **state)
{
	(void)state;
	struct syn s = masscan();
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, KZ_FP_MASSCAN);
	s.id ^= 1;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = masscan();
	s.ttl = 128;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = masscan();
	s.win = 1025;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = masscan();
	assert_int_equal(tcp4(&s, KZ_FP_ALL & ~KZ_FP_DST_RULES).fp, 0);
}

static struct syn zmap(void)
{
	struct syn s = syn_default();
	s.ttl = 250;
	s.id = 54321;
	s.win = 65535;
	return s;
}

static void test_zmap(void **state)
{
	(void)state;
	struct syn s = zmap();
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, KZ_FP_ZMAP);
	/* ZMap's rule reads no destination: it stays on. */
	assert_int_equal(tcp4(&s, KZ_FP_ALL & ~KZ_FP_DST_RULES).fp, KZ_FP_ZMAP);
	/* Hand-written raw-socket code with IP ID 54321 but an OS TTL. */
	s.ttl = 60;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = zmap();
	s.win = 29200;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = zmap();
	s.id = 54320;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
}

static struct syn nmap(void)
{
	struct syn s = syn_default();
	s.ttl = 44;
	s.win = 1024;
	s.opt = MSS1460;
	s.optlen = 4;
	return s;
}

static void test_nmap(void **state)
{
	(void)state;
	struct syn s = nmap();
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, KZ_FP_NMAP);
	s.ttl = 59;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, KZ_FP_NMAP);
	s.ttl = 60; /* the observed TTL is judged, not an inferred one */
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = nmap();
	s.opt = MSS1400;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = nmap();
	s.opt = MSS_SACK;
	s.optlen = 8;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = nmap();
	s.optlen = 0;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = nmap();
	s.win = 2048;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s = nmap();
	assert_int_equal(tcp4(&s, KZ_FP_ALL & ~KZ_FP_DST_RULES).fp, KZ_FP_NMAP);
}

static void test_unicornscan(void **state)
{
	(void)state;
	struct syn s = syn_default();
	s.win = 4096;
	s.ttl = 250;
	s.opt = MSS1460;
	s.optlen = 4;
	const uint32_t key = 0x5eed1234;
	uint32_t ports = ((uint32_t)s.dport << 16) + s.sport;
	/* The byte-swapped variant (x86 senders): the constant comes back. */
	s.seq = key ^ __builtin_bswap32(DST) ^ ports;
	struct kz_tpkt t = tcp4(&s, KZ_FP_ALL);
	assert_int_equal(t.fp, KZ_FP_UNICORN);
	assert_int_equal(t.unicorn_bs, key);
	assert_int_equal(t.unicorn, s.seq ^ DST ^ ports);
	s.seq = key ^ DST ^ ports;
	t = tcp4(&s, KZ_FP_ALL);
	assert_int_equal(t.unicorn, key);
	s.win = 4097;
	assert_int_equal(tcp4(&s, KZ_FP_ALL).fp, 0);
	s.win = 4096;
	assert_int_equal(tcp4(&s, KZ_FP_ALL & ~KZ_FP_DST_RULES).fp, 0);
}

/* Runs the fast path and the general one on the same bytes; returns
 * whether the fast path took the frame (then both must agree exactly, and
 * the decoder must have accepted it). */
static bool fast_agrees(uint32_t lt, const uint8_t *b, uint32_t caplen, uint32_t wirelen)
{
	struct kz_tpkt fast, slow;
	uint32_t dst = 0;
	memset(&fast, 0x5a, sizeof fast);
	memset(&slow, 0xa5, sizeof slow);
	int took = kz_classify_frame(lt, b, caplen, wirelen, 42, KZ_FP_ALL, &fast, &dst);
	struct kz_pkt p;
	enum kz_pkt_result r = kz_pkt_decode(&p, lt, b, caplen, wirelen);
	if (!took)
		return false;
	assert_int_equal(r, KZ_PKT_OK);
	kz_classify(&p, 42, KZ_FP_ALL, &slow);
	assert_memory_equal(&fast, &slow, sizeof fast);
	assert_int_equal(dst, kz_addr_v4(p.dst));
	return true;
}

static void test_fast_path(void **state)
{
	(void)state;
	/* Every earlier test ran its frames through both paths. */
	assert_true(fast_hits > 20);
	struct fb f;
	struct syn s = syn_default();
	s.win = 1024;
	s.ttl = 45;
	s.opt = MSS1460;
	s.optlen = sizeof MSS1460;
	build_tcp4(&f, &s);
	assert_true(fast_agrees(KZ_LINKTYPE_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n));
	/* The nmap rule's option cut by the capture, at every length that
	 * still holds the fixed TCP header. */
	for (uint32_t cap = 40; cap <= f.n; cap++)
		assert_true(fast_agrees(KZ_LINKTYPE_RAW, f.b, cap, (uint32_t)f.n));
	/* A bad option length, an option past the data offset, two MSS. */
	static const uint8_t bad_len[4] = { 2, 3, 0x05, 0xb4 };
	static const uint8_t past[4] = { 1, 1, 2, 4 };
	static const uint8_t two_mss[8] = { 2, 4, 0x05, 0xb4, 2, 4, 0x05, 0xb4 };
	static const uint8_t eol_first[4] = { 0, 2, 4, 5 };
	const uint8_t *opts[4] = { bad_len, past, two_mss, eol_first };
	const size_t lens[4] = { 4, 4, 8, 4 };
	for (int i = 0; i < 4; i++) {
		s.opt = opts[i];
		s.optlen = lens[i];
		build_tcp4(&f, &s);
		assert_true(fast_agrees(KZ_LINKTYPE_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n));
		assert_int_equal(tcp4(&s, KZ_FP_ALL).fp & KZ_FP_NMAP, 0);
	}
	/* What it leaves to the decoder: IP options, a later fragment, a
	 * length beyond the frame, an ICMP error, a VLAN tag, other link
	 * types. */
	s = syn_default();
	build_tcp4(&f, &s);
	uint8_t b[600];
	memcpy(b, f.b, f.n);
	b[0] = 0x46;
	assert_false(fast_agrees(KZ_LINKTYPE_RAW, b, (uint32_t)f.n, (uint32_t)f.n));
	memcpy(b, f.b, f.n);
	b[6] = 0x00;
	b[7] = 0x10;
	assert_false(fast_agrees(KZ_LINKTYPE_RAW, b, (uint32_t)f.n, (uint32_t)f.n));
	assert_false(fast_agrees(KZ_LINKTYPE_RAW, f.b, (uint32_t)f.n - 1, (uint32_t)f.n - 1));
	assert_false(fast_agrees(KZ_LINKTYPE_LINUX_SLL, f.b, (uint32_t)f.n, (uint32_t)f.n));
	f.n = 0;
	ip4(&f, 1, SRC, DST, 50, 1, 8 + 28);
	icmp4(&f, 3, 1, 28);
	for (int i = 0; i < 28; i++)
		put8(&f, i == 0 ? 0x45 : 0);
	assert_false(fast_agrees(KZ_LINKTYPE_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n));
	f.n = 0;
	ip4(&f, 1, SRC, DST, 50, 1, 8);
	icmp4(&f, 8, 0, 0);
	assert_true(fast_agrees(KZ_LINKTYPE_RAW, f.b, (uint32_t)f.n, (uint32_t)f.n));
	memset(b, 0, 18);
	b[12] = 0x81;
	b[16] = 0x08;
	memcpy(b + 18, f.b, f.n);
	assert_false(fast_agrees(KZ_LINKTYPE_ETHERNET, b, (uint32_t)f.n + 18, (uint32_t)f.n + 18));
	/* Ethernet padding after a short datagram is fine. */
	memset(b, 0, sizeof b);
	b[12] = 0x08;
	memcpy(b + 14, f.b, f.n);
	assert_true(fast_agrees(KZ_LINKTYPE_ETHERNET, b, 64, 64));
}

static void test_ttl_initial(void **state)
{
	(void)state;
	assert_int_equal(kz_ttl_initial(0), 64);
	assert_int_equal(kz_ttl_initial(1), 64);
	assert_int_equal(kz_ttl_initial(64), 64);
	assert_int_equal(kz_ttl_initial(65), 128);
	assert_int_equal(kz_ttl_initial(128), 128);
	assert_int_equal(kz_ttl_initial(129), 255);
	assert_int_equal(kz_ttl_initial(255), 255);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(kz_tclass_name(KZ_TCLASS_BACKSCATTER), "backscatter");
	assert_string_equal(kz_tclass_name((enum kz_tclass)9), "");
	assert_string_equal(kz_tproto_name(KZ_TPROTO_ICMP6), "icmp6");
	assert_string_equal(kz_fp_name(KZ_FP_UNICORN), "unicornscan");
	assert_string_equal(kz_fp_name(KZ_FP_MIRAI | KZ_FP_ZMAP), "");
	assert_int_equal(sizeof(struct kz_tpkt), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_classes),  cmocka_unit_test(test_udp_and_other),
		cmocka_unit_test(test_icmp_classes), cmocka_unit_test(test_icmp_error_victim),
		cmocka_unit_test(test_ipv6),         cmocka_unit_test(test_mirai),
		cmocka_unit_test(test_masscan),      cmocka_unit_test(test_zmap),
		cmocka_unit_test(test_nmap),         cmocka_unit_test(test_unicornscan),
		cmocka_unit_test(test_ttl_initial),  cmocka_unit_test(test_names),
		cmocka_unit_test(test_fast_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
