/*
 * SYN probes and reply checks (synprobe.h has the cookie recipe).
 *
 * Building copies a per-family template (Ethernet header, fixed IP and TCP
 * fields, the option block) and fills in the cookie fields and checksums:
 * three SipHash calls, two short checksums and a 74- or 94-byte copy per
 * probe. The hash messages are 64-bit words: for IPv4 the two addresses
 * share one word, so each hash is two words; for IPv6 five.
 */
#include "synprobe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ETH_HLEN     14
#define ETHERTYPE_V4 0x0800
#define ETHERTYPE_V6 0x86dd
#define ETHERTYPE_Q  0x8100
#define IPPROTO_TCP_ 6
#define TCP_HLEN_SYN 40 /* 20 bytes of header, 20 of options */

/* Hash domains: each input kind gets its own tag so that no two kinds of
 * value ever hash the same message. */
#define TAG_SPORT UINT64_C(1)
#define TAG_SEQ   UINT64_C(2)
#define TAG_TS    UINT64_C(3)

struct kz_synprobe {
	struct kz_siphash_key key;
	bool has_src4, has_src6;
	struct kz_addr src4, src6;
	uint16_t sport_first;
	uint32_t sport_count;
	unsigned probes;
	uint8_t tmpl4[KZ_SYNPROBE_FRAME_V4];
	uint8_t tmpl6[KZ_SYNPROBE_FRAME_V6];
	/* Port -> index + 1 (0: not a target port): one load per reply. */
	uint16_t port_slot[65536];
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The ones'-complement sum of n bytes as big-endian 16-bit words, not yet
 * folded (RFC 1071). */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

/* The Linux SYN option block: MSS, SACK permitted, timestamps (value filled
 * per probe, echo 0), NOP, window scale 7. */
static void put_options(uint8_t *o, uint16_t mss)
{
	static const uint8_t opts[20] = { 2, 4, 0, 0, 4, 2, 8, 10, 0, 0,
		                          0, 0, 0, 0, 0, 0, 1, 3,  3, 7 };
	memcpy(o, opts, sizeof opts);
	put16(o + 2, mss);
}

static void put_tcp_fixed(uint8_t *t, uint16_t window, uint16_t mss)
{
	memset(t, 0, TCP_HLEN_SYN);
	t[12] = (TCP_HLEN_SYN / 4) << 4;
	t[13] = KZ_TCP_SYN;
	put16(t + 14, window);
	put_options(t + 20, mss);
}

static void build_templates(struct kz_synprobe *sp, const struct kz_synprobe_config *cfg)
{
	uint8_t *f = sp->tmpl4;
	memcpy(f, cfg->dst_mac4, KZ_MAC_LEN);
	memcpy(f + 6, cfg->src_mac, KZ_MAC_LEN);
	put16(f + 12, ETHERTYPE_V4);
	uint8_t *ip = f + ETH_HLEN;
	ip[0] = 0x45;
	put16(ip + 2, 20 + TCP_HLEN_SYN);
	put16(ip + 6, 0x4000); /* DF, as Linux sets on TCP */
	ip[8] = 64;
	ip[9] = IPPROTO_TCP_;
	put32(ip + 12, kz_addr_v4(cfg->src4));
	put_tcp_fixed(ip + 20, 64240, 1460);

	f = sp->tmpl6;
	memcpy(f, cfg->dst_mac6, KZ_MAC_LEN);
	memcpy(f + 6, cfg->src_mac, KZ_MAC_LEN);
	put16(f + 12, ETHERTYPE_V6);
	ip = f + ETH_HLEN;
	ip[0] = 0x60;
	put16(ip + 4, TCP_HLEN_SYN);
	ip[6] = IPPROTO_TCP_;
	ip[7] = 64;
	kz_addr_to_bytes(cfg->src6, ip + 8);
	put_tcp_fixed(ip + 40, 64800, 1440);
}

int kz_synprobe_new(const struct kz_synprobe_config *cfg, struct kz_synprobe **out)
{
	if ((!cfg->has_src4 && !cfg->has_src6) || cfg->sport_first == 0 ||
	    cfg->sport_last < cfg->sport_first || cfg->probes < 1 ||
	    cfg->probes > KZ_SYNPROBE_MAX_PROBES || cfg->nports == 0 ||
	    cfg->nports > KZ_SYNPROBE_MAX_PORTS)
		return -EINVAL;
	if ((cfg->has_src4 && !kz_addr_is_v4(cfg->src4)) ||
	    (cfg->has_src6 && kz_addr_is_v4(cfg->src6)))
		return -EINVAL;
	struct kz_synprobe *sp = calloc(1, sizeof *sp);
	if (!sp)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->nports; i++) {
		uint16_t p = cfg->ports[i];
		if (p == 0 || sp->port_slot[p]) {
			free(sp);
			return -EINVAL;
		}
		sp->port_slot[p] = (uint16_t)(i + 1);
	}
	kz_siphash_key_load(&sp->key, cfg->key);
	sp->has_src4 = cfg->has_src4;
	sp->has_src6 = cfg->has_src6;
	sp->src4 = cfg->src4;
	sp->src6 = cfg->src6;
	sp->sport_first = cfg->sport_first;
	sp->sport_count = (uint32_t)cfg->sport_last - cfg->sport_first + 1;
	sp->probes = cfg->probes;
	build_templates(sp, cfg);
	*out = sp;
	return 0;
}

void kz_synprobe_free(struct kz_synprobe *sp)
{
	if (!sp)
		return;
	explicit_bzero(&sp->key, sizeof sp->key);
	free(sp);
}

/* The run's source address for dst's family, or false. */
static bool source_for(const struct kz_synprobe *sp, struct kz_addr dst, struct kz_addr *src)
{
	if (kz_addr_is_v4(dst)) {
		*src = sp->src4;
		return sp->has_src4;
	}
	*src = sp->src6;
	return sp->has_src6;
}

/* H(tag | src, dst, extra): the three cookie hashes share this shape. */
static inline uint64_t cookie_hash(const struct kz_synprobe *sp, struct kz_addr src,
                                   struct kz_addr dst, uint64_t tag, uint64_t extra)
{
	uint64_t last = tag << 56 | extra;
	if (kz_addr_is_v4(dst)) {
		uint64_t w[2] = { (uint64_t)kz_addr_v4(src) << 32 | kz_addr_v4(dst), last };
		return kz_siphash24_words(&sp->key, w, 2);
	}
	uint64_t w[5] = { (uint64_t)(src.v >> 64), (uint64_t)src.v, (uint64_t)(dst.v >> 64),
		          (uint64_t)dst.v, last };
	return kz_siphash24_words(&sp->key, w, 5);
}

static inline uint16_t sport_of(const struct kz_synprobe *sp, struct kz_addr src,
                                struct kz_addr dst, uint16_t dport, unsigned probe)
{
	uint64_t h = cookie_hash(sp, src, dst, TAG_SPORT, (uint64_t)dport << 16 | probe);
	return (uint16_t)(sp->sport_first + h % sp->sport_count);
}

static inline uint64_t seq_hash(const struct kz_synprobe *sp, struct kz_addr src,
                                struct kz_addr dst, uint16_t sport, uint16_t dport)
{
	return cookie_hash(sp, src, dst, TAG_SEQ, (uint64_t)sport << 16 | dport);
}

bool kz_synprobe_cookie(const struct kz_synprobe *sp, struct kz_addr dst, uint16_t dport,
                        unsigned probe, struct kz_synprobe_cookie *out)
{
	struct kz_addr src;
	if (!source_for(sp, dst, &src))
		return false;
	out->sport = sport_of(sp, src, dst, dport, probe);
	uint64_t h = seq_hash(sp, src, dst, out->sport, dport);
	out->seq = (uint32_t)h;
	out->ip_id = (uint16_t)(h >> 32);
	out->flow_label = (uint32_t)(h >> 32) & 0xfffff;
	return true;
}

size_t kz_synprobe_build(const struct kz_synprobe *sp, struct kz_addr dst, uint16_t dport,
                         unsigned probe, uint32_t ms, uint8_t *buf)
{
	struct kz_synprobe_cookie c;
	if (!kz_synprobe_cookie(sp, dst, dport, probe, &c))
		return 0;
	struct kz_addr src = kz_addr_is_v4(dst) ? sp->src4 : sp->src6;
	uint32_t tsval = (uint32_t)cookie_hash(sp, src, dst, TAG_TS, 0) + ms;
	uint8_t *tcp;
	uint32_t acc;
	size_t len;
	if (kz_addr_is_v4(dst)) {
		memcpy(buf, sp->tmpl4, KZ_SYNPROBE_FRAME_V4);
		uint8_t *ip = buf + ETH_HLEN;
		put16(ip + 4, c.ip_id);
		put32(ip + 16, kz_addr_v4(dst));
		put16(ip + 10, fold(sum16(ip, 20, 0)));
		tcp = ip + 20;
		/* Pseudo-header: both addresses, protocol, TCP length. */
		acc = sum16(ip + 12, 8, IPPROTO_TCP_ + TCP_HLEN_SYN);
		len = KZ_SYNPROBE_FRAME_V4;
	} else {
		memcpy(buf, sp->tmpl6, KZ_SYNPROBE_FRAME_V6);
		uint8_t *ip = buf + ETH_HLEN;
		put32(ip, 0x60000000u | c.flow_label);
		kz_addr_to_bytes(dst, ip + 24);
		tcp = ip + 40;
		acc = sum16(ip + 8, 32, IPPROTO_TCP_ + TCP_HLEN_SYN);
		len = KZ_SYNPROBE_FRAME_V6;
	}
	put16(tcp, c.sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, c.seq);
	put32(tcp + 20 + 8, tsval);
	put16(tcp + 16, fold(sum16(tcp, TCP_HLEN_SYN, acc)));
	return len;
}

int kz_synprobe_port_index(const struct kz_synprobe *sp, uint16_t port)
{
	return (int)sp->port_slot[port] - 1;
}

int kz_synreply_parse(const uint8_t *f, size_t len, struct kz_synreply *out)
{
	if (len < ETH_HLEN)
		return -EINVAL;
	size_t off = 12;
	uint16_t type = get16(f + off);
	off += 2;
	if (type == ETHERTYPE_Q) {
		if (len < off + 4)
			return -EINVAL;
		type = get16(f + off + 2);
		off += 4;
	}
	const uint8_t *ip = f + off;
	size_t iplen = len - off;
	const uint8_t *tcp;
	size_t tcplen;
	if (type == ETHERTYPE_V4) {
		if (iplen < 20 || ip[0] >> 4 != 4)
			return -EINVAL;
		size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
		size_t total = get16(ip + 2);
		if (ihl < 20 || total < ihl || iplen < ihl)
			return -EINVAL;
		if (ip[9] != IPPROTO_TCP_ || (get16(ip + 6) & 0x1fff) != 0)
			return -ENOENT;
		/* The capture may cut the frame short (snaplen) but never
		 * the IP datagram longer than it says. */
		tcplen = (total < iplen ? total : iplen) - ihl;
		tcp = ip + ihl;
		out->src = kz_addr_from_v4(get32(ip + 12));
		out->dst = kz_addr_from_v4(get32(ip + 16));
		out->ttl = ip[8];
	} else if (type == ETHERTYPE_V6) {
		if (iplen < 40 || ip[0] >> 4 != 6)
			return -EINVAL;
		if (ip[6] != IPPROTO_TCP_)
			return -ENOENT;
		size_t payload = get16(ip + 4);
		tcplen = payload < iplen - 40 ? payload : iplen - 40;
		tcp = ip + 40;
		out->src = kz_addr_from_bytes(ip + 8);
		out->dst = kz_addr_from_bytes(ip + 24);
		out->ttl = ip[7];
	} else {
		return -ENOENT;
	}
	if (tcplen < 20 || (size_t)(tcp[12] >> 4) * 4 < 20)
		return -EINVAL;
	out->sport = get16(tcp);
	out->dport = get16(tcp + 2);
	out->seq = get32(tcp + 4);
	out->ack = get32(tcp + 8);
	out->flags = tcp[13];
	return 0;
}

enum kz_synverdict kz_synprobe_check(const struct kz_synprobe *sp, const struct kz_synreply *r,
                                     unsigned *probe, size_t *port_index)
{
	enum kz_synverdict v;
	if ((r->flags & (KZ_TCP_SYN | KZ_TCP_ACK | KZ_TCP_RST)) == (KZ_TCP_SYN | KZ_TCP_ACK))
		v = KZ_SYN_OPEN;
	else if ((r->flags & (KZ_TCP_SYN | KZ_TCP_ACK | KZ_TCP_RST)) == (KZ_TCP_RST | KZ_TCP_ACK))
		v = KZ_SYN_CLOSED;
	else
		return KZ_SYN_INVALID;
	/* Cheap tests first: our address, one of our ports, a source port
	 * from our range. Only then the hashes. */
	struct kz_addr src;
	if (!source_for(sp, r->src, &src) || kz_addr_cmp(src, r->dst) != 0)
		return KZ_SYN_INVALID;
	unsigned slot = sp->port_slot[r->sport];
	if (slot == 0)
		return KZ_SYN_INVALID;
	if (r->dport < sp->sport_first || (uint32_t)(r->dport - sp->sport_first) >= sp->sport_count)
		return KZ_SYN_INVALID;
	for (unsigned k = 0; k < sp->probes; k++) {
		if (sport_of(sp, r->dst, r->src, r->sport, k) != r->dport)
			continue;
		/* The sequence number depends on the 4-tuple only, so one
		 * probe number matching the port is enough to decide. */
		uint32_t seq = (uint32_t)seq_hash(sp, r->dst, r->src, r->dport, r->sport);
		if (r->ack != seq + 1)
			return KZ_SYN_INVALID;
		*probe = k;
		*port_index = slot - 1;
		return v;
	}
	return KZ_SYN_INVALID;
}
