/*
 * The telescope's per-packet classifier: one decoded packet (pkt.h) in, one
 * compact summary (struct kz_tpkt) out, with everything the per-source state,
 * the RS-DoS tracker and the port statistics need and nothing else.
 *
 * Classes (REFERENCE.md "Darknet analysis rules", after Corsaro):
 *  - scan probe: TCP SYN without ACK (and without RST), any UDP datagram
 *    with its header, ICMP echo request, ICMPv6 echo request;
 *  - backscatter: TCP SYN-ACK or any RST; ICMP types 0, 3, 4, 5, 11, 12,
 *    14, 16, 18; ICMPv6 types 1, 2, 3, 4 (the errors) and 129 (echo
 *    reply). The victim is the packet's source, except for ICMP errors,
 *    where it is the destination of the quoted packet (when the quote
 *    reaches that far; otherwise the source);
 *  - other: everything else (stray ACKs and FINs, other ICMP types, other
 *    protocols, non-first fragments, which carry no transport header).
 *
 * Fingerprint rule bits, tested on TCP SYN probes only (each a necessary
 * condition per packet; a source is labelled only by a majority over at
 * least 5 of its SYNs, see scanner.h):
 *  - Mirai: tcp.seq == ip.dst, inferred initial TTL 64, no TCP options,
 *    destination port 23 or 2323;
 *  - masscan: ip.id == (ip.dst ^ tcp.dport ^ tcp.seq) & 0xffff, inferred
 *    initial TTL 255, window 1024;
 *  - ZMap before 4.1: ip.id == 54321, inferred initial TTL 255, window 65535;
 *  - nmap -sS: window 1024, exactly one option (MSS 1460), observed TTL at
 *    most 59 (nmap draws its initial TTL from 37-59, so no inference);
 *  - unicornscan: window 4096 here; the other half of its rule, the value
 *    seq ^ dst ^ ((dport << 16) + sport) staying constant over a scan, needs
 *    per-source state, so the value is handed on in kz_tpkt.unicorn. The
 *    scanner computes dst by reading the address's bytes as a native
 *    integer, so a sender on a little-endian machine (most) uses the
 *    byte-swapped address: both values are handed on.
 * Initial TTLs are inferred as the smallest of 64, 128 and 255 at or above
 * the observed TTL (CONTRACT.md). The rules that read the destination
 * address (Mirai, masscan, unicornscan) are IPv4-only and are switched off
 * with KZ_FP_DST_RULES cleared from the rule mask (--anonymised-dst): on a
 * trace whose destinations were rewritten they would be guesses.
 */
#ifndef KZ_CLASSIFY_H
#define KZ_CLASSIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "dset.h"
#include "pkt.h"

enum kz_tclass { KZ_TCLASS_OTHER = 0, KZ_TCLASS_PROBE, KZ_TCLASS_BACKSCATTER, KZ_TCLASS_COUNT };

/* The protocol axis of the port statistics. The "port" of a packet is its
 * destination port for TCP, UDP and SCTP, its type for ICMP and ICMPv6, and
 * its IP protocol number for everything else. */
enum kz_tproto {
	KZ_TPROTO_TCP = 0,
	KZ_TPROTO_UDP,
	KZ_TPROTO_ICMP,
	KZ_TPROTO_ICMP6,
	KZ_TPROTO_SCTP,
	KZ_TPROTO_OTHER,
	KZ_TPROTO_COUNT
};

/* Fingerprint rule bits (kz_tpkt.fp) and rule masks. */
#define KZ_FP_MIRAI     0x01u
#define KZ_FP_MASSCAN   0x02u
#define KZ_FP_ZMAP      0x04u
#define KZ_FP_NMAP      0x08u
#define KZ_FP_UNICORN   0x10u
#define KZ_FP_ALL       0x1fu
#define KZ_FP_DST_RULES (KZ_FP_MIRAI | KZ_FP_MASSCAN | KZ_FP_UNICORN)

/* kz_tpkt.flags */
#define KZ_TPKT_V6      0x01u /* the source is an IPv6 address */
#define KZ_TPKT_SYN     0x02u /* a TCP SYN probe: a vote for the fingerprints */
#define KZ_TPKT_HASPORT 0x04u /* TCP/UDP/SCTP with its header: port is a real port */

/* One packet as the analysis sees it: 64 bytes, one cache line. */
struct kz_tpkt {
	struct kz_addr src; /* the packet's source */
	union {
		struct kz_addr victim; /* backscatter: the victim */
		struct {
			uint32_t unicorn;    /* SYN probes: seq ^ dst ^ ((dport << 16) + sport) */
			uint32_t unicorn_bs; /* the same with dst byte-swapped */
		};
	};
	uint64_t ts_ns;    /* packet time, ns since the epoch */
	uint64_t h;        /* the source's keyed hash: left 0 here, the engine sets it */
	uint32_t dst_hash; /* kz_dset_hash of the dark address (IPv6 folded to 32 bits):
	                      hashed here, on the thread with less to do */
	uint16_t port;     /* the port axis value (see enum kz_tproto) */
	uint16_t sport;    /* source port (TCP/UDP/SCTP), else 0 */
	uint16_t len;      /* IP length, capped at 65535 */
	uint16_t dark16;   /* the dark address's /16 (IPv6: its /64 folded) */
	uint8_t proto;     /* enum kz_tproto */
	uint8_t cls;       /* enum kz_tclass */
	uint8_t fp;        /* KZ_FP_* rules this packet meets */
	uint8_t flags;     /* KZ_TPKT_* */
};

/* The initial TTL a sender most likely used: 64, 128 or 255, the smallest
 * of them at or above the observed TTL. */
static inline uint8_t kz_ttl_initial(uint8_t ttl)
{
	return ttl <= 64 ? 64 : ttl <= 128 ? 128 : 255;
}

/* Classifies a decoded packet (KZ_PKT_OK) at time ts_ns with the fingerprint
 * rules in the mask `rules` (KZ_FP_ALL, or without KZ_FP_DST_RULES). Fills
 * every field of *out. No allocation, no system call. */
void kz_classify(const struct kz_pkt *p, uint64_t ts_ns, unsigned rules, struct kz_tpkt *out);

/* The fast path of kz_pkt_decode + kz_classify, fused, for the frames a
 * darknet is mostly made of: IPv4 without options (raw, or in Ethernet
 * without VLAN tags), not a later fragment, carrying TCP, UDP or an ICMP
 * message that is not an error. For such a frame it fills *out exactly as
 * decoding (KZ_PKT_OK) and classifying would, sets *dst (host order) for
 * the darknet test, and returns 1; for any other frame it returns 0 and the
 * caller takes the general path (*out is then scribbled on). Reads no byte
 * at or past data[caplen]. */
int kz_classify_frame(uint32_t linktype, const uint8_t *data, uint32_t caplen, uint32_t wirelen,
                      uint64_t ts_ns, unsigned rules, struct kz_tpkt *out, uint32_t *dst);

/* Stable lower-case names: "other", "probe", "backscatter"; "tcp", "udp",
 * "icmp", "icmp6", "sctp", "other" (the stats records' proto values). */
const char *kz_tclass_name(enum kz_tclass c);
const char *kz_tproto_name(enum kz_tproto p);

/* The name of one rule bit ("mirai", "masscan", "zmap", "nmap",
 * "unicornscan"), or "" for anything else. */
const char *kz_fp_name(unsigned bit);

#endif
