/*
 * Frame builder; see frame.h. Multi-byte fields are stored big-endian with
 * explicit shifts, so the code is independent of the host's byte order.
 */
#include "frame.h"

#include <string.h>

const uint8_t gen_mac_router[6] = { 0x02, 0x00, 0x5e, 0x00, 0x53, 0x01 };
const uint8_t gen_mac_sensor[6] = { 0x02, 0x00, 0x5e, 0x00, 0x53, 0x02 };

#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86dd
#define ETH_VLAN 0x8100

static inline void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* One's-complement sum of 16-bit big-endian words (RFC 1071), unfolded. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	while (len > 1) {
		sum += (uint32_t)p[0] << 8 | p[1];
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

/* Folds the carries back in and complements: the checksum field. */
static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void gen_ipv4_checksum(uint8_t *ip)
{
	size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
	ip[10] = ip[11] = 0;
	be16(ip + 10, fold(sum16(0, ip, ihl)));
}

size_t gen_eth_header(uint8_t *buf, uint16_t ethertype, uint16_t vlan)
{
	memcpy(buf, gen_mac_sensor, 6);
	memcpy(buf + 6, gen_mac_router, 6);
	if (vlan) {
		be16(buf + 12, ETH_VLAN);
		be16(buf + 14, vlan & 0x0fff);
		be16(buf + 16, ethertype);
		return 18;
	}
	be16(buf + 12, ethertype);
	return 14;
}

/* Writes the transport header and payload at l4; returns its length. The
 * checksum is left zero and filled in by the caller, which knows the
 * pseudo-header. */
static size_t build_l4(uint8_t *l4, const struct gen_pkt *p)
{
	size_t n;
	switch (p->proto) {
	case GEN_IP_TCP:
		be16(l4, p->sport);
		be16(l4 + 2, p->dport);
		be32(l4 + 4, p->seq);
		be32(l4 + 8, p->ack);
		l4[12] = (uint8_t)((5 + p->optlen / 4) << 4);
		l4[13] = p->flags;
		be16(l4 + 14, p->window);
		be16(l4 + 16, 0);
		be16(l4 + 18, 0);
		memcpy(l4 + 20, p->opt, p->optlen);
		n = 20u + p->optlen;
		break;
	case GEN_IP_UDP:
		be16(l4, p->sport);
		be16(l4 + 2, p->dport);
		be16(l4 + 4, (uint16_t)(8u + p->paylen));
		be16(l4 + 6, 0);
		n = 8;
		break;
	default: /* ICMP, ICMPv6 */
		l4[0] = p->icmp_type;
		l4[1] = p->icmp_code;
		be16(l4 + 2, 0);
		be16(l4 + 4, p->icmp_id);
		be16(l4 + 6, p->icmp_seq);
		n = 8;
		break;
	}
	if (p->paylen)
		memcpy(l4 + n, p->payload, p->paylen);
	return n + p->paylen;
}

/* Where the transport header keeps its checksum. */
static size_t csum_offset(uint8_t proto)
{
	switch (proto) {
	case GEN_IP_TCP:
		return 16;
	case GEN_IP_UDP:
		return 6;
	default:
		return 2;
	}
}

size_t gen_ip_build(uint8_t *buf, const struct gen_pkt *p)
{
	uint8_t src[16], dst[16];
	uint32_t sum;
	size_t hl, l4len;
	if (kz_addr_is_v4(p->src)) {
		/* Only the last four bytes matter; skip the 16-byte conversion,
		 * which shows in profiles at tens of millions of packets. */
		be32(src + 12, kz_addr_v4(p->src));
		be32(dst + 12, kz_addr_v4(p->dst));
		hl = 20;
		uint8_t *l4 = buf + hl;
		l4len = build_l4(l4, p);
		buf[0] = 0x45;
		buf[1] = 0;
		be16(buf + 2, (uint16_t)(hl + l4len));
		be16(buf + 4, p->ip_id);
		be16(buf + 6, p->df ? 0x4000 : 0); /* DF; offset 0, no MF */
		buf[8] = p->ttl;
		buf[9] = p->proto;
		memcpy(buf + 12, src + 12, 4);
		memcpy(buf + 16, dst + 12, 4);
		gen_ipv4_checksum(buf);
		/* ICMPv4 has no pseudo-header; TCP and UDP do. */
		sum = 0;
		if (p->proto != GEN_IP_ICMP) {
			sum = sum16(sum, src + 12, 4);
			sum = sum16(sum, dst + 12, 4);
			sum += p->proto;
			sum += (uint32_t)l4len;
		}
	} else {
		kz_addr_to_bytes(p->src, src);
		kz_addr_to_bytes(p->dst, dst);
		hl = 40;
		uint8_t *l4 = buf + hl;
		l4len = build_l4(l4, p);
		be32(buf, 0x60000000u | (p->flow & 0xfffff));
		be16(buf + 4, (uint16_t)l4len);
		buf[6] = p->proto;
		buf[7] = p->ttl;
		memcpy(buf + 8, src, 16);
		memcpy(buf + 24, dst, 16);
		/* RFC 8200's pseudo-header: addresses, upper-layer length and
		 * next header, for TCP, UDP and ICMPv6 alike. */
		sum = sum16(0, src, 16);
		sum = sum16(sum, dst, 16);
		sum += (uint32_t)l4len;
		sum += p->proto;
	}
	uint8_t *l4 = buf + hl;
	uint16_t c = fold(sum16(sum, l4, l4len));
	/* A UDP checksum of zero means "none"; a computed zero is sent as
	 * all ones (RFC 768). */
	if (p->proto == GEN_IP_UDP && c == 0)
		c = 0xffff;
	be16(l4 + csum_offset(p->proto), c);
	return hl + l4len;
}

size_t gen_frame_build(uint8_t *buf, const struct gen_pkt *p, size_t *ip_len)
{
	size_t eh = gen_eth_header(buf, kz_addr_is_v4(p->src) ? ETH_IPV4 : ETH_IPV6, p->vlan);
	size_t n = gen_ip_build(buf + eh, p);
	*ip_len = n;
	n += eh;
	if (n < GEN_ETH_MIN) {
		memset(buf + n, 0, GEN_ETH_MIN - n);
		n = GEN_ETH_MIN;
	}
	return n;
}
