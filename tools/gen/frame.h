/*
 * Building Ethernet frames byte by byte: Ethernet II (optionally one 802.1Q
 * tag), IPv4 or IPv6, and TCP, UDP, ICMP or ICMPv6, with correct lengths and
 * checksums.
 *
 * The caller fills one struct gen_pkt (kept on its stack and reused) and gets
 * the frame in a caller-owned buffer: nothing is allocated per packet. Every
 * field a fingerprint looks at (TTL, IP ID, window, options, sequence number)
 * is set by the caller exactly; the builder only derives what follows from
 * them. Frames shorter than Ethernet's minimum are zero-padded to 60 bytes, as
 * a NIC delivers them, so readers must take lengths from the IP header.
 */
#ifndef GEN_FRAME_H
#define GEN_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define GEN_FRAME_MAX 2048
#define GEN_ETH_MIN   60

enum {
	GEN_IP_TCP = 6,
	GEN_IP_UDP = 17,
	GEN_IP_ICMP = 1,
	GEN_IP_ICMP6 = 58,
};

enum {
	GEN_TH_FIN = 0x01,
	GEN_TH_SYN = 0x02,
	GEN_TH_RST = 0x04,
	GEN_TH_PSH = 0x08,
	GEN_TH_ACK = 0x10,
};

/* One packet as the sender put it on the wire. Addresses are both IPv4
 * (v4-mapped) or both IPv6. */
struct gen_pkt {
	struct kz_addr src, dst;
	uint8_t proto;  /* GEN_IP_* */
	uint8_t ttl;    /* TTL or hop limit as it arrives (after the hops) */
	uint8_t df;     /* IPv4 don't-fragment */
	uint16_t ip_id; /* IPv4 identification */
	uint32_t flow;  /* IPv6 flow label (20 bits) */
	uint16_t vlan;  /* 802.1Q VLAN id, 0 for none */
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;   /* TCP flags */
	uint16_t window; /* TCP window */
	uint8_t optlen;  /* TCP option bytes, a multiple of 4, at most 40 */
	uint8_t opt[40];
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq; /* echo request/reply; zero for errors */
	const uint8_t *payload;     /* borrowed for the call */
	uint16_t paylen;
};

/* Builds the IP packet (no link header) into buf, which holds at least
 * GEN_FRAME_MAX bytes. Returns its length. */
size_t gen_ip_build(uint8_t *buf, const struct gen_pkt *p);

/* Builds the whole Ethernet frame into buf (GEN_FRAME_MAX bytes), padded to
 * GEN_ETH_MIN. Returns the frame length; *ip_len gets the IP packet's length
 * (what per-source byte counts use). */
size_t gen_frame_build(uint8_t *buf, const struct gen_pkt *p, size_t *ip_len);

/* Writes the Ethernet header (and VLAN tag when vlan != 0) for ethertype into
 * buf; returns its length (14 or 18). */
size_t gen_eth_header(uint8_t *buf, uint16_t ethertype, uint16_t vlan);

/* Sets the IPv4 header checksum of the header at ip (ihl * 4 bytes). */
void gen_ipv4_checksum(uint8_t *ip);

/* The MAC addresses of every frame: the darknet's upstream router sends to
 * the telescope's capture interface. */
extern const uint8_t gen_mac_router[6];
extern const uint8_t gen_mac_sensor[6];

#endif
