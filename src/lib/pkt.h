/*
 * The packet decoder: one captured frame in, one caller-owned struct kz_pkt
 * out, filled in place. It knows the link layers a telescope meets (Ethernet
 * with 802.1Q/QinQ stacks, raw IP, Linux cooked SLL and SLL2, BSD loopback),
 * IPv4 with options and fragments, IPv6 with its extension headers, and the
 * TCP, UDP, SCTP, ICMP and ICMPv6 headers, including the packet an ICMP
 * error quotes.
 *
 * Every frame gets a result: KZ_PKT_OK, or one reason why it cannot be used
 * (truncated, malformed, not IP), which the caller counts and skips. A frame
 * cut short by the snapshot length is fine as long as the headers are there;
 * the KZ_PKT_F_TRUNCATED flag records it.
 */
#ifndef KZ_PKT_H
#define KZ_PKT_H

#include <endian.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "addr.h"

/* Link types (the pcap LINKTYPE_ values; DLT_ values that differ on Linux
 * are accepted too). */
#define KZ_LINKTYPE_NULL       0   /* BSD loopback, 4-byte AF in host order */
#define KZ_LINKTYPE_ETHERNET   1   /* DLT_EN10MB */
#define KZ_LINKTYPE_DLT_RAW    12  /* DLT_RAW as libpcap reports it on Linux */
#define KZ_LINKTYPE_DLT_RAW14  14  /* DLT_RAW on OpenBSD */
#define KZ_LINKTYPE_RAW        101 /* raw IPv4 or IPv6, as stored in files */
#define KZ_LINKTYPE_LOOP       108 /* OpenBSD loopback, AF in network order */
#define KZ_LINKTYPE_LINUX_SLL  113
#define KZ_LINKTYPE_IPV4       228
#define KZ_LINKTYPE_IPV6       229
#define KZ_LINKTYPE_LINUX_SLL2 276

#define KZ_PKT_VLAN_MAX    4 /* VLAN tags kept; a deeper stack is an error */
#define KZ_PKT_IP6_EXT_MAX 8 /* IPv6 extension headers walked before giving up */

/* Why a frame could not be decoded. KZ_PKT_OK is 0; the names are stable
 * counter labels (kz_pkt_result_name). */
enum kz_pkt_result {
	KZ_PKT_OK = 0,
	KZ_PKT_ERR_LINKTYPE,      /* a link type this decoder does not know */
	KZ_PKT_ERR_TRUNC_LINK,    /* shorter than its link-layer header or VLAN tags */
	KZ_PKT_ERR_VLAN_DEPTH,    /* more than KZ_PKT_VLAN_MAX VLAN tags */
	KZ_PKT_ERR_NOT_IP,        /* ARP, LLC, or any other non-IP payload */
	KZ_PKT_ERR_TRUNC_IP,      /* the IP header (with options or extensions) is cut */
	KZ_PKT_ERR_IP_VERSION,    /* version nibble not 4 or 6, or not the one announced */
	KZ_PKT_ERR_IP_IHL,        /* IPv4 header length below 20 bytes */
	KZ_PKT_ERR_IP_LEN,        /* IP length below the header or beyond the frame */
	KZ_PKT_ERR_IP6_EXT,       /* an IPv6 extension header runs past the payload */
	KZ_PKT_ERR_IP6_EXT_DEPTH, /* more than KZ_PKT_IP6_EXT_MAX extension headers */
	KZ_PKT_ERR_L4_LEN,        /* IP payload too short for its TCP/UDP/ICMP header */
	KZ_PKT_ERR_TRUNC_L4,      /* the capture ends inside the TCP/UDP/ICMP header */
	KZ_PKT_ERR_TCP_OFFSET,    /* TCP data offset below 5 or past the IP payload */
	KZ_PKT_RESULT_COUNT
};

/* Flags in struct kz_pkt.flags. */
#define KZ_PKT_F_L4            (1u << 0)  /* sport/dport and the L4 fields are set */
#define KZ_PKT_F_TRUNCATED     (1u << 1)  /* the capture holds less than the IP length */
#define KZ_PKT_F_IP_OPTIONS    (1u << 2)  /* IPv4 header longer than 20 bytes */
#define KZ_PKT_F_DF            (1u << 3)  /* IPv4 don't-fragment */
#define KZ_PKT_F_FRAGMENT      (1u << 4)  /* a fragment (offset or more-fragments set) */
#define KZ_PKT_F_FRAG_LATER    (1u << 5)  /* a non-first fragment: it has no L4 header */
#define KZ_PKT_F_TCP_OPT_TRUNC (1u << 6)  /* TCP options cut by the capture */
#define KZ_PKT_F_TCP_OPT_BAD   (1u << 7)  /* a TCP option's length is bad or runs past */
#define KZ_PKT_F_TCP_MSS_ONLY  (1u << 8)  /* the only TCP option is one MSS (padding aside) */
#define KZ_PKT_F_UDP_LEN_BAD   (1u << 9)  /* UDP length below 8 or beyond the IP payload */
#define KZ_PKT_F_ICMP_ERROR    (1u << 10) /* an ICMP/ICMPv6 error, which quotes a packet */
#define KZ_PKT_F_INNER         (1u << 11) /* inner.src/dst/proto are set */
#define KZ_PKT_F_INNER_PORTS   (1u << 12) /* inner.sport/dport are set */
#define KZ_PKT_F_INNER_TRUNC   (1u << 13) /* the quote ends before the addresses or ports */
#define KZ_PKT_F_INNER_BAD     (1u << 14) /* the quoted header is malformed */
#define KZ_PKT_F_IP6_FRAG_HDR  (1u << 15) /* IPv6 fragment header present (frag_id is set) */
#define KZ_PKT_F_IP_EVIL       (1u << 16) /* IPv4 reserved flag bit set */
#define KZ_PKT_F_JUMBO         (1u << 17) /* IPv6 payload length 0 with hop-by-hop: jumbogram */

/* The packet an ICMP error quotes, as far as the quote goes. */
struct kz_pkt_inner {
	struct kz_addr src, dst;
	uint16_t sport, dport; /* TCP/UDP/SCTP ports */
	uint8_t ip_version;
	uint8_t proto;
	uint8_t ttl;
};

/* One decoded frame. Fields that a packet does not have are zero; the flags
 * say which optional parts are set. All integers are in host order. */
struct kz_pkt {
	struct kz_addr src, dst;
	uint32_t flags;
	uint32_t ip_len;       /* IPv4 total length, or 40 + IPv6 payload length */
	uint32_t l3_off;       /* offset of the IP header in the frame */
	uint32_t l4_off;       /* offset of the L4 header (valid with KZ_PKT_F_L4) */
	uint32_t payload_len;  /* L4 payload bytes by the IP length fields */
	uint32_t frag_id;      /* IPv6 fragment identification */
	uint16_t frag_offset;  /* fragment offset in bytes */
	uint16_t ip_id;        /* IPv4 identification */
	uint8_t ip_version;    /* 4 or 6 */
	uint8_t proto;         /* upper-layer protocol after IPv6 extensions */
	uint8_t ttl;           /* TTL or hop limit */
	uint8_t tos;           /* IPv4 TOS or IPv6 traffic class */
	uint8_t ip6_ext_count; /* extension headers walked */
	uint8_t vlan_count;
	uint16_t vlan[KZ_PKT_VLAN_MAX]; /* VLAN ids, outermost first */

	uint16_t sport, dport; /* TCP/UDP/SCTP ports */
	/* TCP */
	uint32_t tcp_seq, tcp_ack;
	uint16_t tcp_win;
	uint8_t tcp_flags;      /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ... */
	uint8_t tcp_hlen;       /* header length in bytes, options included */
	uint8_t tcp_opt_count;  /* options other than EOL and NOP */
	uint16_t tcp_mss;       /* MSS option value, 0 when absent */
	uint32_t tcp_opt_kinds; /* bit k set when option kind k (< 32) is present */
	/* UDP */
	uint16_t udp_len;
	/* ICMP and ICMPv6 */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq; /* echo request/reply */
	struct kz_pkt_inner inner;  /* the quoted packet of an error */
};

#define KZ_TCP_FIN 0x01
#define KZ_TCP_SYN 0x02
#define KZ_TCP_RST 0x04
#define KZ_TCP_PSH 0x08
#define KZ_TCP_ACK 0x10
#define KZ_TCP_URG 0x20
#define KZ_TCP_ECE 0x40
#define KZ_TCP_CWR 0x80

/* Decodes one frame of the given link type: data holds caplen captured
 * bytes of a frame that was wirelen long on the wire (a wirelen below caplen
 * is taken as caplen). Fills *p (always, zeroing what the frame lacks) and
 * returns KZ_PKT_OK or the reason the frame is unusable. Reads no byte at
 * or past data[caplen]; no allocation, no system call. */
enum kz_pkt_result kz_pkt_decode(struct kz_pkt *p, uint32_t linktype, const uint8_t *data,
                                 uint32_t caplen, uint32_t wirelen);

/* A stable lower-case label for a result, for counters and metrics
 * ("ok", "truncated_link", "not_ip", ...). */
const char *kz_pkt_result_name(enum kz_pkt_result r);

/* A short sentence for a result, for logs and documentation. */
const char *kz_pkt_result_text(enum kz_pkt_result r);

/* True when the decoder knows this link type. */
bool kz_pkt_linktype_supported(uint32_t linktype);

/* Per-reason counters, one slot per result; the caller owns them. */
struct kz_pkt_counters {
	uint64_t by_result[KZ_PKT_RESULT_COUNT];
};

static inline void kz_pkt_count(struct kz_pkt_counters *c, enum kz_pkt_result r)
{
	c->by_result[(unsigned)r < KZ_PKT_RESULT_COUNT ? r : KZ_PKT_ERR_LINKTYPE]++;
}

/* A 16- or 32-bit field in network byte order at b, which need not be
 * aligned (the decoders' and the classifier's one way to read headers). */
static inline uint16_t kz_rd16(const uint8_t *b)
{
	uint16_t v;
	memcpy(&v, b, sizeof v);
	return be16toh(v);
}

static inline uint32_t kz_rd32(const uint8_t *b)
{
	uint32_t v;
	memcpy(&v, b, sizeof v);
	return be32toh(v);
}

#endif
