/*
 * SYN probes and the stateless check of their replies.
 *
 * A probe is a whole Ethernet frame: IPv4 (or IPv6) and a TCP SYN shaped
 * like the one a current Linux stack sends for connect(), so that nothing
 * in it marks it as a scanner's: TTL / hop limit 64, DF, window 64240
 * (64800 over IPv6), options MSS 1460 (1440), SACK permitted, timestamps,
 * NOP, window scale 7, in Linux's order; IP ID, timestamp offset and IPv6
 * flow label random per connection.
 *
 * Nothing is remembered per probe. Every variable field comes from
 * SipHash-2-4 under a key that is random per run:
 *   source port = first + H(1 | src, dst, dport, probe) mod (last - first + 1)
 *   sequence    = low 32 bits of H(2 | src, dst, sport, dport)
 *   IP ID       = bits 32..47 of the same hash; the IPv6 flow label bits
 *                 32..51
 *   TS value    = H(3 | src, dst) + milliseconds since the run started
 *                 (Linux's per-address-pair offset plus a clock)
 * so that a reply proves itself: it is ours when it comes to our source
 * address, from a port we probe, to a source port that probe number k of
 * that (source, destination, port) would have used for some k below the
 * probe count, and acknowledges that 4-tuple's sequence number plus one. A
 * SYN-ACK is an open port; a RST-ACK a closed one.
 *
 * The kernel of the scanning host knows no socket for these connections, so
 * it answers each SYN-ACK with a RST: the scan never completes a handshake
 * (stage 2 opens its own connections with ordinary sockets).
 *
 * Parsing a reply is allocation-free and checks every length before every
 * read (tests/fuzz/fuzz_synreply.c). Whether the reply's source is inside
 * the scope is the caller's check (scan.c), made with kz_scope_allows like
 * every other scope decision.
 */
#ifndef KZ_SYNPROBE_H
#define KZ_SYNPROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "netif.h"
#include "siphash.h"

#define KZ_SYNPROBE_MAX_PROBES 10
#define KZ_SYNPROBE_MAX_PORTS  65535
#define KZ_SYNPROBE_FRAME_MAX  94 /* Ethernet + IPv6 + TCP with options */
#define KZ_SYNPROBE_FRAME_V4   74
#define KZ_SYNPROBE_FRAME_V6   94

/* What the probes are made from; copied by kz_synprobe_new. */
struct kz_synprobe_config {
	uint8_t key[KZ_SIPHASH_KEYLEN]; /* the run's cookie key */
	bool has_src4, has_src6;        /* which families this run can send */
	struct kz_addr src4, src6;      /* the source addresses */
	uint8_t src_mac[KZ_MAC_LEN];    /* the interface's MAC */
	uint8_t dst_mac4[KZ_MAC_LEN];   /* next hop for IPv4 targets */
	uint8_t dst_mac6[KZ_MAC_LEN];   /* next hop for IPv6 targets */
	uint16_t sport_first;           /* source ports, both ends included */
	uint16_t sport_last;
	unsigned probes;       /* probes per target, 1..KZ_SYNPROBE_MAX_PROBES */
	const uint16_t *ports; /* the target ports, distinct, 1..65535 */
	size_t nports;
};

struct kz_synprobe;

/* Makes the probe builder. Returns 0, -EINVAL for a bad configuration
 * (no source address, an empty or reversed source-port range, a probe
 * count out of range, a repeated or zero port), or -ENOMEM. */
int kz_synprobe_new(const struct kz_synprobe_config *cfg, struct kz_synprobe **out)
        __attribute__((warn_unused_result));

/* Frees it and wipes the key; NULL is allowed. */
void kz_synprobe_free(struct kz_synprobe *sp);

/* The variable fields of one probe (for --dry-run and the tests). */
struct kz_synprobe_cookie {
	uint16_t sport;
	uint32_t seq;
	uint16_t ip_id;
	uint32_t flow_label; /* IPv6 only, 20 bits */
};

/* The cookie fields of probe number `probe` to (dst, dport). Returns false
 * when the run has no source address of dst's family. */
bool kz_synprobe_cookie(const struct kz_synprobe *sp, struct kz_addr dst, uint16_t dport,
                        unsigned probe, struct kz_synprobe_cookie *out);

/* Writes probe number `probe` to (dst, dport) into buf (at least
 * KZ_SYNPROBE_FRAME_MAX bytes); ms is the run's millisecond clock for the
 * timestamp option. Returns the frame's length, or 0 when the run has no
 * source address of dst's family. */
size_t kz_synprobe_build(const struct kz_synprobe *sp, struct kz_addr dst, uint16_t dport,
                         unsigned probe, uint32_t ms, uint8_t *buf);

/* The index of port in the configured list, or -1 when it is not one. */
int kz_synprobe_port_index(const struct kz_synprobe *sp, uint16_t port);

/* TCP flags as they sit in the header. */
#define KZ_TCP_FIN 0x01
#define KZ_TCP_SYN 0x02
#define KZ_TCP_RST 0x04
#define KZ_TCP_ACK 0x10

/* The fields of a received TCP segment that the check reads. */
struct kz_synreply {
	struct kz_addr src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint8_t ttl;
};

/* Parses an Ethernet frame (an optional 802.1Q tag, IPv4 or IPv6, TCP)
 * from len captured bytes. Returns 0; -ENOENT when it is not TCP over IP
 * (another protocol, an IPv6 extension header, an IPv4 fragment after the
 * first); -EINVAL when a length is inconsistent or the bytes end early. */
int kz_synreply_parse(const uint8_t *frame, size_t len, struct kz_synreply *out)
        __attribute__((warn_unused_result));

enum kz_synverdict {
	KZ_SYN_INVALID = 0, /* not a reply to one of our probes */
	KZ_SYN_OPEN,        /* a valid SYN-ACK */
	KZ_SYN_CLOSED,      /* a valid RST-ACK */
};

/* Checks a parsed reply against the cookies (the rules above). On a valid
 * reply sets *probe to the probe number it answers and *port_index to the
 * index of its port. The scope is not checked here. */
enum kz_synverdict kz_synprobe_check(const struct kz_synprobe *sp, const struct kz_synreply *r,
                                     unsigned *probe, size_t *port_index);

#endif
