/*
 * The packet decoder (see pkt.h for what it reads and what it fills).
 *
 * Why by hand: the telescope decodes every frame of a darknet at tens of
 * millions of frames a second, so the decoder must not allocate, must not
 * make a system call, must touch only the header bytes it needs, and must
 * survive any byte string (it is fuzzed). Libraries that dissect packets
 * (libtins, libtrace, Wireshark's epan, pcap++ layers) allocate per packet
 * or build a layer tree; none of them fills a flat struct with exactly what
 * the classifier and the fingerprints need, and each adds per-packet work
 * we would pay for and not use. Reading a few dozen fields at known offsets
 * runs at 30-40 M frames/s per core together with the file reader
 * (docs/bench-telescope-input.md), and the fields agree with Wireshark's
 * dissectors (tests/integration/decode_vs_tshark.sh).
 *
 * Invariants: every read is preceded by a length check against the captured
 * length (`cap` values below are "bytes available from here"); lengths from
 * the packet (IPv4 total length, IPv6 payload length, TCP data offset,
 * extension header lengths) are checked against the captured length and
 * against the length the enclosing header states, and the smaller wins.
 * Loops (VLAN tags, IPv6 extension headers, TCP options) are bounded by a cap
 * or advance by at least one byte, so no input can make the decoder loop.
 * Checksums are not verified: a telescope counts what arrives, and checking
 * would cost more than the rest of the decode.
 */
#include "pkt.h"

#include <endian.h>
#include <string.h>

#define ETH_HLEN  14
#define SLL_HLEN  16
#define SLL2_HLEN 20

#define ETHERTYPE_IPV4      0x0800
#define ETHERTYPE_IPV6      0x86dd
#define ETHERTYPE_VLAN      0x8100
#define ETHERTYPE_QINQ      0x88a8
#define ETHERTYPE_QINQ_OLD  0x9100
#define ETHERTYPE_QINQ_9200 0x9200

#define IPPROTO_HOPOPTS_  0
#define IPPROTO_ICMP_     1
#define IPPROTO_TCP_      6
#define IPPROTO_UDP_      17
#define IPPROTO_ROUTING_  43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_AH_       51
#define IPPROTO_ICMPV6_   58
#define IPPROTO_NONE_     59
#define IPPROTO_DSTOPTS_  60
#define IPPROTO_SCTP_     132
#define IPPROTO_MH_       135
#define IPPROTO_UDPLITE_  136
#define IPPROTO_HIP_      139
#define IPPROTO_SHIM6_    140

static inline uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Where an IPv6 extension header walk stopped. */
struct ip6_walk {
	uint32_t pos;      /* offset of the upper-layer header from the IPv6 header */
	uint8_t nh;        /* the upper-layer protocol */
	uint8_t count;     /* extension headers passed */
	bool frag_hdr;     /* a fragment header was seen */
	bool more_frags;   /* its M flag */
	uint16_t frag_off; /* its offset in bytes */
	uint32_t frag_id;
};

/* The IPv6 next-header values that are extension headers, which we step
 * over, as opposed to upper-layer protocols (and ESP, whose payload is
 * encrypted: it ends the walk as an upper-layer protocol without ports). */
static bool ip6_is_ext(uint8_t nh)
{
	switch (nh) {
	case IPPROTO_HOPOPTS_:
	case IPPROTO_ROUTING_:
	case IPPROTO_FRAGMENT_:
	case IPPROTO_DSTOPTS_:
	case IPPROTO_AH_:
	case IPPROTO_MH_:
	case IPPROTO_HIP_:
	case IPPROTO_SHIM6_:
		return true;
	default:
		return false;
	}
}

/* Walks the extension headers after the 40-byte IPv6 header h. `stated` is
 * the length the IPv6 header claims, `cap` what was captured (cap <= stated).
 * Stops at the first non-extension header, or after a fragment header with a
 * non-zero offset (what follows is the middle of someone else's datagram). */
static enum kz_pkt_result ip6_walk(const uint8_t *h, uint32_t stated, uint32_t cap,
                                   struct ip6_walk *w)
{
	w->pos = 40;
	w->nh = h[6];
	w->count = 0;
	w->frag_hdr = false;
	w->more_frags = false;
	w->frag_off = 0;
	w->frag_id = 0;
	while (ip6_is_ext(w->nh)) {
		if (w->count == KZ_PKT_IP6_EXT_MAX)
			return KZ_PKT_ERR_IP6_EXT_DEPTH;
		uint32_t need = w->nh == IPPROTO_FRAGMENT_ ? 8 : 2;
		if (stated - w->pos < need)
			return KZ_PKT_ERR_IP6_EXT;
		if (cap - w->pos < need)
			return KZ_PKT_ERR_TRUNC_IP;
		const uint8_t *x = h + w->pos;
		uint32_t len;
		if (w->nh == IPPROTO_FRAGMENT_)
			len = 8;
		else if (w->nh == IPPROTO_AH_)
			len = ((uint32_t)x[1] + 2) * 4; /* RFC 4302: in 4-byte units, minus 2 */
		else
			len = ((uint32_t)x[1] + 1) * 8;
		if (stated - w->pos < len)
			return KZ_PKT_ERR_IP6_EXT;
		if (cap - w->pos < len)
			return KZ_PKT_ERR_TRUNC_IP;
		if (w->nh == IPPROTO_FRAGMENT_) {
			w->frag_hdr = true;
			w->frag_off = kz_rd16(x + 2) & 0xfff8;
			w->more_frags = x[3] & 1;
			w->frag_id = kz_rd32(x + 4);
		}
		w->nh = x[0];
		w->pos += len;
		w->count++;
		if (w->frag_off != 0)
			break;
	}
	return KZ_PKT_OK;
}

/* Protocols whose first four bytes are the source and destination ports. */
static bool has_ports(uint8_t proto)
{
	return proto == IPPROTO_TCP_ || proto == IPPROTO_UDP_ || proto == IPPROTO_SCTP_ ||
	       proto == IPPROTO_UDPLITE_;
}

/* The packet quoted by an ICMP error: q holds the n bytes that are both
 * captured and inside the ICMP message. A quote is short by design (RFC 792
 * guarantees the IP header and 8 bytes), so its own length fields are not
 * checked against n; only what n holds is read. */
static void decode_inner(struct kz_pkt *p, const uint8_t *q, uint32_t n, unsigned want_version)
{
	struct kz_pkt_inner *in = &p->inner;
	if (n < 1) {
		p->flags |= KZ_PKT_F_INNER_TRUNC;
		return;
	}
	unsigned version = q[0] >> 4;
	if (version != want_version) {
		p->flags |= KZ_PKT_F_INNER_BAD;
		return;
	}
	uint32_t l4;
	if (version == 4) {
		if (n < 20) {
			p->flags |= KZ_PKT_F_INNER_TRUNC;
			return;
		}
		uint32_t ihl = (q[0] & 0x0fu) * 4;
		if (ihl < 20) {
			p->flags |= KZ_PKT_F_INNER_BAD;
			return;
		}
		in->ip_version = 4;
		in->ttl = q[8];
		in->proto = q[9];
		in->src = kz_addr_from_v4(kz_rd32(q + 12));
		in->dst = kz_addr_from_v4(kz_rd32(q + 16));
		p->flags |= KZ_PKT_F_INNER;
		if ((kz_rd16(q + 6) & 0x1fff) != 0)
			return; /* a quoted non-first fragment has no ports */
		l4 = ihl;
	} else {
		if (n < 40) {
			p->flags |= KZ_PKT_F_INNER_TRUNC;
			return;
		}
		in->ip_version = 6;
		in->ttl = q[7];
		in->src = kz_addr_from_bytes(q + 8);
		in->dst = kz_addr_from_bytes(q + 24);
		struct ip6_walk w;
		enum kz_pkt_result r = ip6_walk(q, n, n, &w);
		in->proto = w.nh;
		p->flags |= KZ_PKT_F_INNER;
		if (r == KZ_PKT_ERR_IP6_EXT_DEPTH) {
			p->flags |= KZ_PKT_F_INNER_BAD;
			return;
		}
		if (r != KZ_PKT_OK) {
			p->flags |= KZ_PKT_F_INNER_TRUNC;
			return;
		}
		if (w.frag_off != 0)
			return;
		l4 = w.pos;
	}
	if (!has_ports(in->proto))
		return;
	if (n < l4 || n - l4 < 4) {
		p->flags |= KZ_PKT_F_INNER_TRUNC;
		return;
	}
	in->sport = kz_rd16(q + l4);
	in->dport = kz_rd16(q + l4 + 2);
	p->flags |= KZ_PKT_F_INNER_PORTS;
}

/* TCP options between the fixed header and the data offset. hdr_n is what
 * the data offset says, cap_n what was captured of it (cap_n <= hdr_n). */
static void tcp_options(struct kz_pkt *p, const uint8_t *o, uint32_t hdr_n, uint32_t cap_n)
{
	uint32_t i = 0;
	unsigned count = 0;
	bool mss_ok = false;
	while (i < cap_n) {
		uint8_t kind = o[i];
		if (kind == 0) /* end of option list */
			break;
		if (kind == 1) { /* no-operation: padding */
			i++;
			continue;
		}
		if (hdr_n - i < 2) {
			p->flags |= KZ_PKT_F_TCP_OPT_BAD;
			break;
		}
		if (cap_n - i < 2) {
			p->flags |= KZ_PKT_F_TCP_OPT_TRUNC;
			break;
		}
		uint32_t len = o[i + 1];
		if (len < 2 || len > hdr_n - i) {
			p->flags |= KZ_PKT_F_TCP_OPT_BAD;
			break;
		}
		if (len > cap_n - i) {
			p->flags |= KZ_PKT_F_TCP_OPT_TRUNC;
			break;
		}
		if (count < 255)
			count++;
		if (kind < 32)
			p->tcp_opt_kinds |= 1u << kind;
		if (kind == 2) {
			if (len == 4) {
				p->tcp_mss = kz_rd16(o + i + 2);
				mss_ok = true;
			} else {
				p->flags |= KZ_PKT_F_TCP_OPT_BAD;
			}
		}
		i += len;
	}
	p->tcp_opt_count = (uint8_t)count;
	if (count == 1 && mss_ok && !(p->flags & (KZ_PKT_F_TCP_OPT_BAD | KZ_PKT_F_TCP_OPT_TRUNC)))
		p->flags |= KZ_PKT_F_TCP_MSS_ONLY;
}

/* ICMP messages that quote the packet that caused them (RFC 792, RFC 4443):
 * for backscatter, the victim is the quoted packet's destination. */
static bool icmp_is_error(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP_)
		return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
	return type >= 1 && type <= 4; /* ICMPv6: unreachable, too big, time, parameter */
}

/* ICMP messages with an identifier and sequence number after the header:
 * echo, timestamp, information and address mask requests and replies. */
static bool icmp_is_echo(uint8_t proto, uint8_t type)
{
	if (proto == IPPROTO_ICMP_)
		return type == 0 || type == 8 || (type >= 13 && type <= 18);
	return type == 128 || type == 129;
}

/* The L4 header at l: `len` bytes by the IP length fields, `cap` captured
 * (cap <= len). */
static enum kz_pkt_result decode_l4(struct kz_pkt *p, const uint8_t *d, uint32_t l4_off,
                                    uint32_t len, uint32_t cap)
{
	const uint8_t *l = d + l4_off;
	p->payload_len = len;
	switch (p->proto) {
	case IPPROTO_TCP_: {
		if (len < 20)
			return KZ_PKT_ERR_L4_LEN;
		if (cap < 20)
			return KZ_PKT_ERR_TRUNC_L4;
		uint32_t doff = (uint32_t)(l[12] >> 4) * 4;
		if (doff < 20 || doff > len)
			return KZ_PKT_ERR_TCP_OFFSET;
		p->sport = kz_rd16(l);
		p->dport = kz_rd16(l + 2);
		p->tcp_seq = kz_rd32(l + 4);
		p->tcp_ack = kz_rd32(l + 8);
		p->tcp_flags = l[13];
		p->tcp_win = kz_rd16(l + 14);
		p->tcp_hlen = (uint8_t)doff;
		p->payload_len = len - doff;
		uint32_t opt_cap = min32(doff, cap);
		if (opt_cap < doff)
			p->flags |= KZ_PKT_F_TCP_OPT_TRUNC;
		if (doff > 20)
			tcp_options(p, l + 20, doff - 20, opt_cap - 20);
		break;
	}
	case IPPROTO_UDP_:
	case IPPROTO_UDPLITE_:
		if (len < 8)
			return KZ_PKT_ERR_L4_LEN;
		if (cap < 8)
			return KZ_PKT_ERR_TRUNC_L4;
		p->sport = kz_rd16(l);
		p->dport = kz_rd16(l + 2);
		p->udp_len = kz_rd16(l + 4);
		p->payload_len = len - 8;
		/* UDP-Lite's field is a checksum coverage, not a length. */
		if (p->proto == IPPROTO_UDP_ && (p->udp_len < 8 || p->udp_len > len))
			p->flags |= KZ_PKT_F_UDP_LEN_BAD;
		break;
	case IPPROTO_SCTP_:
		if (len < 12)
			return KZ_PKT_ERR_L4_LEN;
		if (cap < 12)
			return KZ_PKT_ERR_TRUNC_L4;
		p->sport = kz_rd16(l);
		p->dport = kz_rd16(l + 2);
		p->payload_len = len - 12;
		break;
	case IPPROTO_ICMP_:
	case IPPROTO_ICMPV6_:
		if (len < 8)
			return KZ_PKT_ERR_L4_LEN;
		if (cap < 8)
			return KZ_PKT_ERR_TRUNC_L4;
		p->icmp_type = l[0];
		p->icmp_code = l[1];
		p->payload_len = len - 8;
		if (icmp_is_echo(p->proto, l[0])) {
			p->icmp_id = kz_rd16(l + 4);
			p->icmp_seq = kz_rd16(l + 6);
		} else if (icmp_is_error(p->proto, l[0])) {
			p->flags |= KZ_PKT_F_ICMP_ERROR;
			decode_inner(p, l + 8, cap - 8, p->proto == IPPROTO_ICMP_ ? 4 : 6);
		}
		break;
	default:
		return KZ_PKT_OK; /* GRE, ESP, ...: counted, no L4 fields */
	}
	p->l4_off = l4_off;
	p->flags |= KZ_PKT_F_L4;
	return KZ_PKT_OK;
}

/* IPv4 at d + off: cap bytes captured from there, wire bytes on the wire.
 * A non-first fragment stops here: its first bytes are the middle of the
 * original datagram's payload, not a transport header. */
static enum kz_pkt_result decode_ip4(struct kz_pkt *p, const uint8_t *d, uint32_t off, uint32_t cap,
                                     uint32_t wire)
{
	if (cap < 20)
		return KZ_PKT_ERR_TRUNC_IP;
	const uint8_t *h = d + off;
	uint32_t ihl = (h[0] & 0x0fu) * 4;
	if (ihl < 20)
		return KZ_PKT_ERR_IP_IHL;
	if (ihl > cap)
		return KZ_PKT_ERR_TRUNC_IP;
	uint32_t tot = kz_rd16(h + 2);
	/* Ethernet pads short frames, so the frame may be longer than the
	 * datagram; never shorter, or the header lies. */
	if (tot < ihl || tot > wire)
		return KZ_PKT_ERR_IP_LEN;
	p->ip_version = 4;
	p->tos = h[1];
	p->ip_len = tot;
	p->ip_id = kz_rd16(h + 4);
	p->ttl = h[8];
	p->proto = h[9];
	p->src = kz_addr_from_v4(kz_rd32(h + 12));
	p->dst = kz_addr_from_v4(kz_rd32(h + 16));
	if (ihl > 20)
		p->flags |= KZ_PKT_F_IP_OPTIONS;
	uint16_t frag = kz_rd16(h + 6);
	if (frag & 0x8000)
		p->flags |= KZ_PKT_F_IP_EVIL;
	if (frag & 0x4000)
		p->flags |= KZ_PKT_F_DF;
	p->frag_offset = (uint16_t)((frag & 0x1fff) * 8);
	if (frag & 0x3fff)
		p->flags |= KZ_PKT_F_FRAGMENT;
	uint32_t avail = min32(tot, cap);
	if (tot > cap)
		p->flags |= KZ_PKT_F_TRUNCATED;
	if (p->frag_offset != 0) {
		p->flags |= KZ_PKT_F_FRAG_LATER;
		p->payload_len = tot - ihl;
		return KZ_PKT_OK;
	}
	return decode_l4(p, d, off + ihl, tot - ihl, avail - ihl);
}

/* IPv6 at d + off, as decode_ip4. The payload length bounds the extension
 * header walk; the capture bounds what is read. */
static enum kz_pkt_result decode_ip6(struct kz_pkt *p, const uint8_t *d, uint32_t off, uint32_t cap,
                                     uint32_t wire)
{
	if (cap < 40)
		return KZ_PKT_ERR_TRUNC_IP;
	const uint8_t *h = d + off;
	uint32_t tot = 40 + (uint32_t)kz_rd16(h + 4);
	if (tot == 40 && h[6] == IPPROTO_HOPOPTS_) {
		/* RFC 2675 jumbogram: the length is in a hop-by-hop option;
		 * the frame is the best bound we have. */
		p->flags |= KZ_PKT_F_JUMBO;
		tot = wire;
	}
	if (tot > wire)
		return KZ_PKT_ERR_IP_LEN;
	p->ip_version = 6;
	p->tos = (uint8_t)(((h[0] & 0x0fu) << 4) | (h[1] >> 4));
	p->ip_len = tot;
	p->ttl = h[7];
	p->src = kz_addr_from_bytes(h + 8);
	p->dst = kz_addr_from_bytes(h + 24);
	uint32_t avail = min32(tot, cap);
	if (tot > cap)
		p->flags |= KZ_PKT_F_TRUNCATED;
	struct ip6_walk w;
	enum kz_pkt_result r = ip6_walk(h, tot, avail, &w);
	p->proto = w.nh;
	p->ip6_ext_count = w.count;
	if (r != KZ_PKT_OK)
		return r;
	if (w.frag_hdr) {
		p->flags |= KZ_PKT_F_IP6_FRAG_HDR;
		p->frag_id = w.frag_id;
		p->frag_offset = w.frag_off;
		if (w.frag_off != 0 || w.more_frags)
			p->flags |= KZ_PKT_F_FRAGMENT;
	}
	if (w.frag_off != 0) {
		p->flags |= KZ_PKT_F_FRAG_LATER;
		p->payload_len = tot - w.pos;
		return KZ_PKT_OK;
	}
	if (w.nh == IPPROTO_NONE_) {
		p->payload_len = tot - w.pos;
		return KZ_PKT_OK;
	}
	return decode_l4(p, d, off + w.pos, tot - w.pos, avail - w.pos);
}

/* The tag protocol identifiers of 802.1Q (8100), 802.1ad (88a8) and the
 * pre-standard QinQ values some switches still send (9100, 9200). */
static bool is_vlan(uint16_t type)
{
	return type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ || type == ETHERTYPE_QINQ_OLD ||
	       type == ETHERTYPE_QINQ_9200;
}

enum kz_pkt_result kz_pkt_decode(struct kz_pkt *p, uint32_t linktype, const uint8_t *data,
                                 uint32_t caplen, uint32_t wirelen)
{
	/* Copying a zero struct compiles to a few vector stores; memset of
	 * this size becomes "rep stos", whose start-up cost was a third of
	 * the decode time. */
	static const struct kz_pkt zero;
	memcpy(p, &zero, sizeof *p);
	if (wirelen < caplen)
		wirelen = caplen;
	uint32_t off;
	unsigned want = 0; /* IP version the link layer announced, 0 for either */
	uint16_t type;
	switch (linktype) {
	case KZ_LINKTYPE_ETHERNET:
		if (caplen < ETH_HLEN)
			return KZ_PKT_ERR_TRUNC_LINK;
		type = kz_rd16(data + 12);
		off = ETH_HLEN;
		break;
	case KZ_LINKTYPE_LINUX_SLL:
		/* packet type, ARPHRD type, address length, 8 address bytes,
		 * then the protocol as an EtherType */
		if (caplen < SLL_HLEN)
			return KZ_PKT_ERR_TRUNC_LINK;
		type = kz_rd16(data + 14);
		off = SLL_HLEN;
		break;
	case KZ_LINKTYPE_LINUX_SLL2:
		/* SLL2 puts the protocol first, then the interface index */
		if (caplen < SLL2_HLEN)
			return KZ_PKT_ERR_TRUNC_LINK;
		type = kz_rd16(data);
		off = SLL2_HLEN;
		break;
	case KZ_LINKTYPE_DLT_RAW:
	case KZ_LINKTYPE_DLT_RAW14:
	case KZ_LINKTYPE_RAW:
		off = 0;
		goto ip;
	case KZ_LINKTYPE_IPV4:
		off = 0;
		want = 4;
		goto ip;
	case KZ_LINKTYPE_IPV6:
		off = 0;
		want = 6;
		goto ip;
	case KZ_LINKTYPE_NULL:
	case KZ_LINKTYPE_LOOP: {
		if (caplen < 4)
			return KZ_PKT_ERR_TRUNC_LINK;
		uint32_t af;
		if (linktype == KZ_LINKTYPE_LOOP) {
			af = kz_rd32(data);
		} else {
			/* Host order of the machine that captured, which need
			 * not be ours: AF values are small, so a large value is
			 * the other byte order. */
			memcpy(&af, data, sizeof af);
			if (af > 0xffff)
				af = __builtin_bswap32(af);
		}
		off = 4;
		if (af == 2)
			want = 4;
		else if (af == 24 || af == 28 || af == 30) /* AF_INET6 on the BSDs and macOS */
			want = 6;
		else
			return KZ_PKT_ERR_NOT_IP;
		goto ip;
	}
	default:
		return KZ_PKT_ERR_LINKTYPE;
	}
	/* Ethernet, SLL and SLL2 share the EtherType and the VLAN tags that
	 * libpcap re-inserts after the cooked header. */
	while (is_vlan(type)) {
		if (p->vlan_count == KZ_PKT_VLAN_MAX)
			return KZ_PKT_ERR_VLAN_DEPTH;
		if (caplen - off < 4)
			return KZ_PKT_ERR_TRUNC_LINK;
		p->vlan[p->vlan_count++] = kz_rd16(data + off) & 0x0fff;
		type = kz_rd16(data + off + 2);
		off += 4;
	}
	if (type == ETHERTYPE_IPV4)
		want = 4;
	else if (type == ETHERTYPE_IPV6)
		want = 6;
	else
		return KZ_PKT_ERR_NOT_IP;
ip:
	p->l3_off = off;
	if (caplen <= off)
		return KZ_PKT_ERR_TRUNC_IP;
	unsigned version = data[off] >> 4;
	if ((version != 4 && version != 6) || (want != 0 && version != want))
		return KZ_PKT_ERR_IP_VERSION;
	if (version == 4)
		return decode_ip4(p, data, off, caplen - off, wirelen - off);
	return decode_ip6(p, data, off, caplen - off, wirelen - off);
}

/* Names are counter labels in the telescope's output and metrics: once
 * published they do not change. */
static const struct {
	const char *name;
	const char *text;
} result_info[KZ_PKT_RESULT_COUNT] = {
	[KZ_PKT_OK] = { "ok", "decoded" },
	[KZ_PKT_ERR_LINKTYPE] = { "unsupported_linktype", "link type not supported" },
	[KZ_PKT_ERR_TRUNC_LINK] = { "truncated_link", "frame shorter than its link-layer header" },
	[KZ_PKT_ERR_VLAN_DEPTH] = { "vlan_too_deep", "more than 4 VLAN tags" },
	[KZ_PKT_ERR_NOT_IP] = { "not_ip", "not IPv4 or IPv6 (ARP, LLC, ...)" },
	[KZ_PKT_ERR_TRUNC_IP] = { "truncated_ip", "capture ends inside the IP header" },
	[KZ_PKT_ERR_IP_VERSION] = { "bad_ip_version",
	                            "IP version not 4 or 6, or not as announced" },
	[KZ_PKT_ERR_IP_IHL] = { "bad_ip_ihl", "IPv4 header length below 20 bytes" },
	[KZ_PKT_ERR_IP_LEN] = { "bad_ip_length", "IP length below its header or beyond the frame" },
	[KZ_PKT_ERR_IP6_EXT] = { "bad_ip6_ext", "IPv6 extension header runs past the payload" },
	[KZ_PKT_ERR_IP6_EXT_DEPTH] = { "ip6_ext_too_deep", "more than 8 IPv6 extension headers" },
	[KZ_PKT_ERR_L4_LEN] = { "bad_l4_length",
	                        "IP payload shorter than its TCP/UDP/SCTP/ICMP header" },
	[KZ_PKT_ERR_TRUNC_L4] = { "truncated_l4",
	                          "capture ends inside the TCP/UDP/SCTP/ICMP header" },
	[KZ_PKT_ERR_TCP_OFFSET] = { "bad_tcp_offset",
	                            "TCP data offset below 5 or past the payload" },
};

const char *kz_pkt_result_name(enum kz_pkt_result r)
{
	if ((unsigned)r >= KZ_PKT_RESULT_COUNT)
		return "unknown";
	return result_info[r].name;
}

const char *kz_pkt_result_text(enum kz_pkt_result r)
{
	if ((unsigned)r >= KZ_PKT_RESULT_COUNT)
		return "unknown result";
	return result_info[r].text;
}

bool kz_pkt_linktype_supported(uint32_t linktype)
{
	switch (linktype) {
	case KZ_LINKTYPE_NULL:
	case KZ_LINKTYPE_ETHERNET:
	case KZ_LINKTYPE_DLT_RAW:
	case KZ_LINKTYPE_DLT_RAW14:
	case KZ_LINKTYPE_RAW:
	case KZ_LINKTYPE_LOOP:
	case KZ_LINKTYPE_LINUX_SLL:
	case KZ_LINKTYPE_IPV4:
	case KZ_LINKTYPE_IPV6:
	case KZ_LINKTYPE_LINUX_SLL2:
		return true;
	default:
		return false;
	}
}
