/*
 * SYN probes: the frame is what a Linux connect() sends (fields, option
 * block, checksums checked by an independent summation); the cookies round
 * trip (a reply built from the probe validates with its probe number and
 * port); a wrong ack, a wrong address, a port we do not probe, a source port
 * outside the range or of a probe number beyond the count, another key, and
 * flags that are neither SYN-ACK nor RST-ACK are all rejected; no field is
 * constant across probes; and the parser refuses short and odd frames.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "synprobe.h"

static const uint8_t KEY[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
static const uint16_t PORTS[] = { 23, 2323, 22, 80, 8080 };
static const uint8_t SRC_MAC[6] = { 0x02, 0, 0, 0, 0, 1 };
static const uint8_t GW_MAC[6] = { 0x02, 0, 0, 0, 0, 2 };
static const uint8_t GW6_MAC[6] = { 0x02, 0, 0, 0, 0, 3 };

static struct kz_addr v4(uint32_t a)
{
	return kz_addr_from_v4(a);
}

static struct kz_addr v6(const char *s)
{
	struct kz_addr a;
	const char *why;
	assert_int_equal(kz_addr_parse(s, &a, &why), 0);
	return a;
}

static struct kz_synprobe *make(unsigned probes, const uint8_t *key)
{
	struct kz_synprobe_config cfg;
	memset(&cfg, 0, sizeof cfg);
	memcpy(cfg.key, key, 16);
	cfg.has_src4 = cfg.has_src6 = true;
	cfg.src4 = v4(0xc613ff01); /* 198.19.255.1 */
	cfg.src6 = v6("2001:2::1");
	memcpy(cfg.src_mac, SRC_MAC, 6);
	memcpy(cfg.dst_mac4, GW_MAC, 6);
	memcpy(cfg.dst_mac6, GW6_MAC, 6);
	cfg.sport_first = 32768;
	cfg.sport_last = 61000;
	cfg.probes = probes;
	cfg.ports = PORTS;
	cfg.nports = 5;
	struct kz_synprobe *sp;
	assert_int_equal(kz_synprobe_new(&cfg, &sp), 0);
	return sp;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/* RFC 1071 over a buffer: 0 when the checksum inside is right. */
static uint16_t inet_sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s += (i % 2 == 0) ? (uint64_t)p[i] << 8 : p[i];
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)(0xffff - s);
}

/* The TCP checksum check with the pseudo-header laid out in a buffer. */
static uint16_t tcp_sum(const uint8_t *src, const uint8_t *dst, size_t alen, const uint8_t *tcp,
                        size_t tcplen)
{
	uint8_t buf[256];
	size_t n = 0;
	memcpy(buf + n, src, alen);
	n += alen;
	memcpy(buf + n, dst, alen);
	n += alen;
	buf[n++] = 0;
	buf[n++] = 6;
	buf[n++] = (uint8_t)(tcplen >> 8);
	buf[n++] = (uint8_t)tcplen;
	memcpy(buf + n, tcp, tcplen);
	return inet_sum(buf, n + tcplen);
}

static void test_frame_v4(void **state)
{
	(void)state;
	struct kz_synprobe *sp = make(1, KEY);
	uint8_t f[KZ_SYNPROBE_FRAME_MAX];
	struct kz_addr dst = v4(0xc6120a05); /* 198.18.10.5 */
	size_t len = kz_synprobe_build(sp, dst, 2323, 0, 1000, f);
	assert_int_equal(len, 74);
	struct kz_synprobe_cookie c;
	assert_true(kz_synprobe_cookie(sp, dst, 2323, 0, &c));
	assert_memory_equal(f, GW_MAC, 6);
	assert_memory_equal(f + 6, SRC_MAC, 6);
	assert_int_equal(be16(f + 12), 0x0800);
	const uint8_t *ip = f + 14, *tcp = f + 34;
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(be16(ip + 2), 60);
	assert_int_equal(be16(ip + 4), c.ip_id);
	assert_int_equal(be16(ip + 6), 0x4000);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], 6);
	assert_int_equal(be32(ip + 12), 0xc613ff01);
	assert_int_equal(be32(ip + 16), 0xc6120a05);
	assert_int_equal(inet_sum(ip, 20), 0);
	assert_int_equal(be16(tcp), c.sport);
	assert_true(c.sport >= 32768 && c.sport <= 61000);
	assert_int_equal(be16(tcp + 2), 2323);
	assert_int_equal(be32(tcp + 4), c.seq);
	assert_int_equal(be32(tcp + 8), 0);
	assert_int_equal(tcp[12], 0xa0);
	assert_int_equal(tcp[13], KZ_TCP_SYN);
	assert_int_equal(be16(tcp + 14), 64240);
	assert_int_equal(be16(tcp + 18), 0);
	/* mss 1460, sackOK, TS val X ecr 0, nop, wscale 7 */
	static const uint8_t opts_head[8] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10 };
	static const uint8_t opts_tail[8] = { 0, 0, 0, 0, 1, 3, 3, 7 };
	assert_memory_equal(tcp + 20, opts_head, 8);
	assert_memory_equal(tcp + 32, opts_tail, 8);
	assert_int_equal(tcp_sum(ip + 12, ip + 16, 4, tcp, 40), 0);
	/* The timestamp runs with the clock: 250 ms later, 250 more. */
	uint8_t g[KZ_SYNPROBE_FRAME_MAX];
	kz_synprobe_build(sp, dst, 2323, 0, 1250, g);
	assert_int_equal(be32(g + 34 + 28) - be32(tcp + 28), 250);
	kz_synprobe_free(sp);
}

static void test_frame_v6(void **state)
{
	(void)state;
	struct kz_synprobe *sp = make(1, KEY);
	uint8_t f[KZ_SYNPROBE_FRAME_MAX];
	struct kz_addr dst = v6("2001:2::abcd");
	size_t len = kz_synprobe_build(sp, dst, 22, 0, 0, f);
	assert_int_equal(len, 94);
	struct kz_synprobe_cookie c;
	assert_true(kz_synprobe_cookie(sp, dst, 22, 0, &c));
	assert_memory_equal(f, GW6_MAC, 6);
	assert_int_equal(be16(f + 12), 0x86dd);
	const uint8_t *ip = f + 14, *tcp = f + 54;
	assert_int_equal(be32(ip), 0x60000000u | c.flow_label);
	assert_int_equal(be16(ip + 4), 40);
	assert_int_equal(ip[6], 6);
	assert_int_equal(ip[7], 64);
	uint8_t want[16];
	kz_addr_to_bytes(dst, want);
	assert_memory_equal(ip + 24, want, 16);
	assert_int_equal(be16(tcp + 14), 64800);
	assert_int_equal(be16(tcp + 22), 1440);
	assert_int_equal(tcp_sum(ip + 8, ip + 24, 16, tcp, 40), 0);
	kz_synprobe_free(sp);
}

/* A reply frame from (src, sport) to (dst, dport) with the given flags and
 * numbers; the checksums are not filled (the check does not read them). */
static size_t reply(uint8_t *f, struct kz_addr src, struct kz_addr dst, uint16_t sport,
                    uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
	memset(f, 0, 128);
	uint8_t *tcp;
	size_t len;
	if (kz_addr_is_v4(src)) {
		f[12] = 0x08;
		uint8_t *ip = f + 14;
		ip[0] = 0x45;
		ip[2] = 0;
		ip[3] = 44;
		ip[6] = 0x40;
		ip[8] = 61;
		ip[9] = 6;
		uint8_t b[16];
		kz_addr_to_bytes(src, b);
		memcpy(ip + 12, b + 12, 4);
		kz_addr_to_bytes(dst, b);
		memcpy(ip + 16, b + 12, 4);
		tcp = ip + 20;
		len = 14 + 44;
	} else {
		f[12] = 0x86;
		f[13] = 0xdd;
		uint8_t *ip = f + 14;
		ip[0] = 0x60;
		ip[5] = 24;
		ip[6] = 6;
		ip[7] = 60;
		kz_addr_to_bytes(src, ip + 8);
		kz_addr_to_bytes(dst, ip + 24);
		tcp = ip + 40;
		len = 14 + 40 + 24;
	}
	tcp[0] = (uint8_t)(sport >> 8);
	tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8);
	tcp[3] = (uint8_t)dport;
	for (int i = 0; i < 4; i++) {
		tcp[4 + i] = (uint8_t)(seq >> (24 - 8 * i));
		tcp[8 + i] = (uint8_t)(ack >> (24 - 8 * i));
	}
	tcp[12] = 0x60;
	tcp[13] = flags;
	return len;
}

static enum kz_synverdict judge(const struct kz_synprobe *sp, const uint8_t *f, size_t len,
                                unsigned *probe, size_t *port)
{
	struct kz_synreply r;
	assert_int_equal(kz_synreply_parse(f, len, &r), 0);
	return kz_synprobe_check(sp, &r, probe, port);
}

static void roundtrip(struct kz_addr our, struct kz_addr target)
{
	struct kz_synprobe *sp = make(3, KEY);
	uint8_t f[128];
	unsigned probe;
	size_t port;
	for (unsigned k = 0; k < 3; k++) {
		struct kz_synprobe_cookie c;
		assert_true(kz_synprobe_cookie(sp, target, 8080, k, &c));
		size_t len = reply(f, target, our, 8080, c.sport, KZ_TCP_SYN | KZ_TCP_ACK, 777,
		                   c.seq + 1);
		assert_int_equal(judge(sp, f, len, &probe, &port), KZ_SYN_OPEN);
		assert_int_equal(port, 4);
		/* Two probe numbers may share a source port (and so a
		 * sequence number): the lowest one is reported. */
		struct kz_synprobe_cookie ck;
		assert_true(kz_synprobe_cookie(sp, target, 8080, probe, &ck));
		assert_int_equal(ck.sport, c.sport);
		assert_true(probe <= k);

		/* RST-ACK acknowledging the SYN: closed. */
		len = reply(f, target, our, 8080, c.sport, KZ_TCP_RST | KZ_TCP_ACK, 0, c.seq + 1);
		assert_int_equal(judge(sp, f, len, &probe, &port), KZ_SYN_CLOSED);

		/* Wrong ack, by one either way. */
		len = reply(f, target, our, 8080, c.sport, KZ_TCP_SYN | KZ_TCP_ACK, 0, c.seq);
		assert_int_equal(judge(sp, f, len, &probe, &port), KZ_SYN_INVALID);
		len = reply(f, target, our, 8080, c.sport, KZ_TCP_SYN | KZ_TCP_ACK, 0, c.seq + 2);
		assert_int_equal(judge(sp, f, len, &probe, &port), KZ_SYN_INVALID);
		/* A bare RST, a SYN alone, an ACK alone, SYN+RST. */
		static const uint8_t bad_flags[] = { KZ_TCP_RST, KZ_TCP_SYN, KZ_TCP_ACK,
			                             KZ_TCP_SYN | KZ_TCP_ACK | KZ_TCP_RST };
		for (size_t i = 0; i < sizeof bad_flags; i++) {
			len = reply(f, target, our, 8080, c.sport, bad_flags[i], 0, c.seq + 1);
			assert_int_equal(judge(sp, f, len, &probe, &port), KZ_SYN_INVALID);
		}
		/* The same numbers from another port of the target. */
		len = reply(f, target, our, 8081, c.sport, KZ_TCP_SYN | KZ_TCP_ACK, 0, c.seq + 1);
		assert_int_equal(judge(sp, f, len, &probe, &port), KZ_SYN_INVALID);
		/* ... from another address. */
		struct kz_addr other = { target.v + 1 };
		len = reply(f, other, our, 8080, c.sport, KZ_TCP_SYN | KZ_TCP_ACK, 0, c.seq + 1);
		assert_int_equal(judge(sp, f, len, &probe, &port), KZ_SYN_INVALID);
		/* ... to another of our addresses. */
		struct kz_addr not_us = { our.v + 1 };
		len = reply(f, target, not_us, 8080, c.sport, KZ_TCP_SYN | KZ_TCP_ACK, 0,
		            c.seq + 1);
		assert_int_equal(judge(sp, f, len, &probe, &port), KZ_SYN_INVALID);
		/* ... to a neighbouring source port. */
		uint16_t near = c.sport == 61000 ? 32768 : (uint16_t)(c.sport + 1);
		len = reply(f, target, our, 8080, near, KZ_TCP_SYN | KZ_TCP_ACK, 0, c.seq + 1);
		assert_int_equal(judge(sp, f, len, &probe, &port), KZ_SYN_INVALID);
	}
	kz_synprobe_free(sp);
}

static void test_roundtrip(void **state)
{
	(void)state;
	roundtrip(v4(0xc613ff01), v4(0xc6120001));
	roundtrip(v4(0xc613ff01), v4(0xc612ffff));
	roundtrip(v6("2001:2::1"), v6("2001:2::ff:1"));
}

/* Probe number 5 is ours only when the run sends at least 6 probes; and
 * another run's key validates nothing of this one's. */
static void test_probe_count_and_key(void **state)
{
	(void)state;
	struct kz_synprobe *six = make(6, KEY), *one = make(1, KEY);
	uint8_t other_key[16];
	memcpy(other_key, KEY, 16);
	other_key[0] ^= 1;
	struct kz_synprobe *other = make(6, other_key);
	struct kz_addr our = v4(0xc613ff01);
	int rejected_by_one = 0;
	for (uint32_t i = 0; i < 200; i++) {
		struct kz_addr t = v4(0xc6120000 + i);
		struct kz_synprobe_cookie c5, c0;
		assert_true(kz_synprobe_cookie(six, t, 23, 5, &c5));
		assert_true(kz_synprobe_cookie(six, t, 23, 0, &c0));
		uint8_t f[128];
		size_t len = reply(f, t, our, 23, c5.sport, KZ_TCP_SYN | KZ_TCP_ACK, 1, c5.seq + 1);
		unsigned probe;
		size_t port;
		assert_int_equal(judge(six, f, len, &probe, &port), KZ_SYN_OPEN);
		assert_int_equal(port, 0);
		if (c5.sport != c0.sport) {
			assert_int_equal(judge(one, f, len, &probe, &port), KZ_SYN_INVALID);
			rejected_by_one++;
		}
		assert_int_equal(judge(other, f, len, &probe, &port), KZ_SYN_INVALID);
	}
	assert_true(rejected_by_one > 190);
	kz_synprobe_free(six);
	kz_synprobe_free(one);
	kz_synprobe_free(other);
}

/* No field that a telescope could key on: IP IDs and source ports spread
 * over their ranges, and none of the published scanner rules (Mirai's
 * seq == dst, masscan's IP ID, ZMap's 54321) holds. */
static void test_no_fingerprint(void **state)
{
	(void)state;
	struct kz_synprobe *sp = make(1, KEY);
	static uint8_t seen_id[65536], seen_port[65536];
	memset(seen_id, 0, sizeof seen_id);
	memset(seen_port, 0, sizeof seen_port);
	unsigned ids = 0, ports = 0, rules = 0;
	for (uint32_t i = 0; i < 20000; i++) {
		uint32_t dst = 0xc6120000 + i;
		struct kz_synprobe_cookie c;
		assert_true(kz_synprobe_cookie(sp, v4(dst), 23, 0, &c));
		ids += !seen_id[c.ip_id];
		seen_id[c.ip_id] = 1;
		ports += !seen_port[c.sport];
		seen_port[c.sport] = 1;
		assert_true(c.sport >= 32768 && c.sport <= 61000);
		if (c.seq == dst || c.ip_id == 54321 || c.ip_id == ((dst ^ 23 ^ c.seq) & 0xffff))
			rules++;
	}
	/* 20000 draws from 65536 IDs leave about 17,400 distinct; from
	 * 28,233 ports about 14,000. */
	assert_true(ids > 16000);
	assert_true(ports > 12000);
	assert_true(rules < 5);
	kz_synprobe_free(sp);
}

static void test_parse_edges(void **state)
{
	(void)state;
	struct kz_synreply r;
	uint8_t f[128];
	size_t len = reply(f, v4(0xc6120001), v4(0xc613ff01), 23, 40000, 0x12, 5, 6);
	/* Cut anywhere before the end of the fixed TCP header: refused (the
	 * options are not read, so a capture may cut them). */
	for (size_t cut = 0; cut < 14 + 20 + 20; cut++)
		assert_int_equal(kz_synreply_parse(f, cut, &r), -EINVAL);
	assert_int_equal(kz_synreply_parse(f, len, &r), 0);
	assert_int_equal(r.ttl, 61);
	assert_int_equal(r.flags, 0x12);
	assert_int_equal(r.seq, 5);
	assert_int_equal(r.ack, 6);

	/* An 802.1Q tag before the IPv4 header. */
	uint8_t q[132];
	memcpy(q, f, 12);
	q[12] = 0x81;
	q[13] = 0x00;
	q[14] = 0x00;
	q[15] = 0x07;
	memcpy(q + 16, f + 12, len - 12);
	assert_int_equal(kz_synreply_parse(q, len + 4, &r), 0);
	assert_int_equal(r.sport, 23);
	assert_int_equal(r.dport, 40000);

	/* A fragment after the first, UDP, ARP: not ours to parse. */
	f[14 + 7] = 0x10;
	assert_int_equal(kz_synreply_parse(f, len, &r), -ENOENT);
	f[14 + 7] = 0;
	f[14 + 9] = 17;
	assert_int_equal(kz_synreply_parse(f, len, &r), -ENOENT);
	f[14 + 9] = 6;
	f[12] = 0x08;
	f[13] = 0x06;
	assert_int_equal(kz_synreply_parse(f, len, &r), -ENOENT);
	f[13] = 0x00;
	/* IP total length below the header, IHL below 5, TCP offset below 5. */
	f[14 + 3] = 10;
	assert_int_equal(kz_synreply_parse(f, len, &r), -EINVAL);
	f[14 + 3] = 44;
	f[14] = 0x44;
	assert_int_equal(kz_synreply_parse(f, len, &r), -EINVAL);
	f[14] = 0x45;
	f[34 + 12] = 0x40;
	assert_int_equal(kz_synreply_parse(f, len, &r), -EINVAL);

	len = reply(f, v6("2001:2::5"), v6("2001:2::1"), 22, 40000, 0x12, 5, 6);
	for (size_t cut = 0; cut < 14 + 40 + 20; cut++)
		assert_int_equal(kz_synreply_parse(f, cut, &r), -EINVAL);
	assert_int_equal(kz_synreply_parse(f, len, &r), 0);
	assert_int_equal(r.ttl, 60);
	/* A hop-by-hop header first: not parsed. */
	f[14 + 6] = 0;
	assert_int_equal(kz_synreply_parse(f, len, &r), -ENOENT);
}

static void test_bad_config(void **state)
{
	(void)state;
	struct kz_synprobe_config cfg;
	memset(&cfg, 0, sizeof cfg);
	struct kz_synprobe *sp;
	uint16_t ports[] = { 23, 23 };
	cfg.has_src4 = true;
	cfg.src4 = v4(0xc613ff01);
	cfg.sport_first = 32768;
	cfg.sport_last = 61000;
	cfg.probes = 1;
	cfg.ports = ports;
	cfg.nports = 2;
	assert_int_equal(kz_synprobe_new(&cfg, &sp), -EINVAL); /* repeated port */
	cfg.nports = 1;
	assert_int_equal(kz_synprobe_new(&cfg, &sp), 0);
	/* No IPv6 source: no IPv6 probe. */
	uint8_t f[KZ_SYNPROBE_FRAME_MAX];
	assert_int_equal(kz_synprobe_build(sp, v6("2001:2::9"), 23, 0, 0, f), 0);
	assert_int_equal(kz_synprobe_port_index(sp, 23), 0);
	assert_int_equal(kz_synprobe_port_index(sp, 24), -1);
	kz_synprobe_free(sp);
	cfg.probes = KZ_SYNPROBE_MAX_PROBES + 1;
	assert_int_equal(kz_synprobe_new(&cfg, &sp), -EINVAL);
	cfg.probes = 1;
	cfg.sport_last = 1000;
	assert_int_equal(kz_synprobe_new(&cfg, &sp), -EINVAL);
	cfg.sport_last = 61000;
	cfg.has_src4 = false;
	assert_int_equal(kz_synprobe_new(&cfg, &sp), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_v4),       cmocka_unit_test(test_frame_v6),
		cmocka_unit_test(test_roundtrip),      cmocka_unit_test(test_probe_count_and_key),
		cmocka_unit_test(test_no_fingerprint), cmocka_unit_test(test_parse_edges),
		cmocka_unit_test(test_bad_config),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
