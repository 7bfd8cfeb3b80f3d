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

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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

/* ------------------------------------------------ the fused fast path */

/* ICMP (v4) types that are backscatter: replies to a spoofed request
 * (0 echo, 14 timestamp, 16 information, 18 address mask) and the errors
 * (3 unreachable, 4 source quench, 5 redirect, 11 time exceeded, 12
 * parameter problem). Bit t set for type t. */
#define KZ_CLS_ICMP4_BACKSCATTER                                                                   \
	((1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 11) | (1u << 12) | (1u << 14) |    \
	 (1u << 16) | (1u << 18))

#define KZ_CLS_ICMP4_ECHO_REQUEST 8
#define KZ_CLS_ICMP6_ECHO_REQUEST 128
#define KZ_CLS_ICMP6_ECHO_REPLY   129

#define KZ_CLS_IPPROTO_NUM_ICMP   1
#define KZ_CLS_IPPROTO_NUM_TCP    6
#define KZ_CLS_IPPROTO_NUM_UDP    17
#define KZ_CLS_IPPROTO_NUM_ICMP6  58
#define KZ_CLS_IPPROTO_NUM_SCTP   132
#define KZ_CLS_IPPROTO_NUM_UDPLIT 136

/* ZMap before 4.1 set every probe's IP ID to this constant. */
#define KZ_CLS_ZMAP_IP_ID 54321

/* What the fingerprint rules read of a TCP SYN probe: the same fields
 * whether they come from a struct kz_pkt or straight from the frame
 * (kz_classify_frame). */
struct kz_cls_syn_fields {
	uint32_t seq;
	uint16_t dport, ip_id, win, mss;
	uint8_t ttl, hlen;
	bool mss_only; /* KZ_PKT_F_TCP_MSS_ONLY */
};

/* The fingerprint bits of a TCP SYN probe. */
static inline __attribute__((always_inline)) unsigned
kz_cls_syn_rules(const struct kz_cls_syn_fields *s, bool v4, uint32_t dst, unsigned rules)
{
	unsigned fp = 0;
	uint8_t init = kz_ttl_initial(s->ttl);
	if (v4) {
		if (s->seq == dst && init == 64 && s->hlen == 20 &&
		    (s->dport == 23 || s->dport == 2323))
			fp |= KZ_FP_MIRAI;
		if (s->ip_id == ((dst ^ s->dport ^ s->seq) & 0xffffu) && init == 255 &&
		    s->win == 1024)
			fp |= KZ_FP_MASSCAN;
		if (s->ip_id == KZ_CLS_ZMAP_IP_ID && init == 255 && s->win == 65535)
			fp |= KZ_FP_ZMAP;
		if (s->win == 4096)
			fp |= KZ_FP_UNICORN;
	}
	/* nmap's rule needs no IPv4 field: its hop limit is random in 37-59
	 * too. */
	if (s->win == 1024 && s->mss_only && s->mss == 1460 && s->ttl <= 59)
		fp |= KZ_FP_NMAP;
	return fp & rules;
}

/* KZ_PKT_F_TCP_MSS_ONLY and the MSS value of a TCP header's options, as
 * pkt.c's option walk computes them: hdr_n option bytes by the data
 * offset, cap_n of them captured. For kz_classify_frame: 0x10000 | the MSS
 * when the only option is an MSS, else 0 (returned, not stored through a
 * pointer, so that the caller's fields stay in registers and its frame
 * needs no stack canary). */
uint32_t kz_cls_tcp_mss_only(const uint8_t *o, uint32_t hdr_n, uint32_t cap_n);

/* The fast path of kz_pkt_decode + kz_classify, fused, for the frames a
 * darknet is mostly made of: IPv4 without options (raw, or in Ethernet
 * without VLAN tags), not a later fragment, carrying TCP, UDP or an ICMP
 * message that is not an error. For such a frame it fills *out exactly as
 * decoding (KZ_PKT_OK) and classifying would, sets *dst (host order) for
 * the darknet test, and returns 1; for any other frame it returns 0 and the
 * caller takes the general path (*out is then scribbled on). Reads no byte
 * at or past data[caplen]. Inline: the telescope runs it on every frame, and
 * the call was a tenth of its cost. */
static inline int kz_classify_frame(uint32_t linktype, const uint8_t *data, uint32_t caplen,
                                    uint32_t wirelen, uint64_t ts_ns, unsigned rules,
                                    struct kz_tpkt *out, uint32_t *dst_out)
{
	uint32_t off;
	if (linktype == KZ_LINKTYPE_ETHERNET) {
		if (caplen < 14 + 20 || kz_rd16(data + 12) != 0x0800)
			return 0;
		off = 14;
	} else if (linktype == KZ_LINKTYPE_RAW || linktype == KZ_LINKTYPE_DLT_RAW ||
	           linktype == KZ_LINKTYPE_DLT_RAW14 || linktype == KZ_LINKTYPE_IPV4) {
		if (caplen < 20)
			return 0;
		off = 0;
	} else {
		return 0;
	}
	const uint8_t *h = data + off;
	/* IPv4 without options, not a later fragment, lengths consistent:
	 * anything else is the decoder's. */
	if (h[0] != 0x45)
		return 0;
	uint32_t cap = caplen - off;
	uint32_t wire = (wirelen < caplen ? caplen : wirelen) - off;
	uint32_t tot = kz_rd16(h + 2);
	if (tot < 20 || tot > wire || (kz_rd16(h + 6) & 0x1fff) != 0)
		return 0;
	uint32_t len = tot - 20, lcap = (tot < cap ? tot : cap) - 20;
	const uint8_t *l = h + 20;
	uint32_t dst = kz_rd32(h + 16);
	struct kz_tpkt *t = out;
	uint8_t cls = KZ_TCLASS_OTHER, fp = 0, flags = 0, proto;
	uint16_t port, sport = 0;
	switch (h[9]) {
	case KZ_CLS_IPPROTO_NUM_TCP: {
		if (len < 20 || lcap < 20)
			return 0;
		uint32_t doff = (uint32_t)(l[12] >> 4) * 4;
		if (doff < 20 || doff > len)
			return 0;
		proto = KZ_TPROTO_TCP;
		port = kz_rd16(l + 2);
		sport = kz_rd16(l);
		flags = KZ_TPKT_HASPORT;
		t->victim.v = 0;
		uint8_t tf = l[13];
		if ((tf & KZ_TCP_RST) ||
		    (tf & (KZ_TCP_SYN | KZ_TCP_ACK)) == (KZ_TCP_SYN | KZ_TCP_ACK)) {
			cls = KZ_TCLASS_BACKSCATTER;
		} else if (tf & KZ_TCP_SYN) {
			cls = KZ_TCLASS_PROBE;
			flags |= KZ_TPKT_SYN;
			struct kz_cls_syn_fields sf = {
				.seq = kz_rd32(l + 4),
				.dport = port,
				.ip_id = kz_rd16(h + 4),
				.win = kz_rd16(l + 14),
				.ttl = h[8],
				.hlen = (uint8_t)doff,
			};
			if (sf.win == 1024 && sf.ttl <= 59 && doff > 20) {
				uint32_t opt_cap = doff < lcap ? doff : lcap;
				uint32_t m = kz_cls_tcp_mss_only(l + 20, doff - 20, opt_cap - 20);
				sf.mss_only = m != 0;
				sf.mss = (uint16_t)m;
			}
			fp = (uint8_t)kz_cls_syn_rules(&sf, true, dst, rules);
			uint32_t ports = ((uint32_t)port << 16) + sport;
			t->unicorn = sf.seq ^ dst ^ ports;
			t->unicorn_bs = sf.seq ^ __builtin_bswap32(dst) ^ ports;
		}
		break;
	}
	case KZ_CLS_IPPROTO_NUM_UDP:
		if (len < 8 || lcap < 8)
			return 0;
		proto = KZ_TPROTO_UDP;
		port = kz_rd16(l + 2);
		sport = kz_rd16(l);
		flags = KZ_TPKT_HASPORT;
		cls = KZ_TCLASS_PROBE;
		t->victim.v = 0;
		break;
	case KZ_CLS_IPPROTO_NUM_ICMP: {
		if (len < 8 || lcap < 8)
			return 0;
		uint8_t type = l[0];
		/* Errors quote a packet, which names the victim: the decoder's. */
		if (type == 3 || type == 4 || type == 5 || type == 11 || type == 12)
			return 0;
		proto = KZ_TPROTO_ICMP;
		port = type;
		t->victim.v = 0;
		if (type == KZ_CLS_ICMP4_ECHO_REQUEST)
			cls = KZ_TCLASS_PROBE;
		else if (type < 32 && (KZ_CLS_ICMP4_BACKSCATTER >> type) & 1u)
			cls = KZ_TCLASS_BACKSCATTER;
		break;
	}
	default:
		return 0;
	}
	t->src = kz_addr_from_v4(kz_rd32(h + 12));
	if (cls == KZ_TCLASS_BACKSCATTER)
		t->victim = t->src;
	t->ts_ns = ts_ns;
	t->h = 0;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	/* The last 16 bytes of the summary in two stores, not eight: they
	 * are built in registers, so no narrow store is read back wide. */
	_Static_assert(
	        offsetof(struct kz_tpkt, dst_hash) == 48 && offsetof(struct kz_tpkt, port) == 52 &&
	                offsetof(struct kz_tpkt, sport) == 54 &&
	                offsetof(struct kz_tpkt, len) == 56 &&
	                offsetof(struct kz_tpkt, dark16) == 58 &&
	                offsetof(struct kz_tpkt, proto) == 60 &&
	                offsetof(struct kz_tpkt, cls) == 61 && offsetof(struct kz_tpkt, fp) == 62 &&
	                offsetof(struct kz_tpkt, flags) == 63,
	        "the summary's tail is two 64-bit words");
	uint64_t w0 = kz_dset_hash(dst) | (uint64_t)port << 32 | (uint64_t)sport << 48;
	uint64_t w1 = (uint64_t)(uint16_t)tot | (uint64_t)(dst >> 16) << 16 |
	              (uint64_t)proto << 32 | (uint64_t)cls << 40 | (uint64_t)fp << 48 |
	              (uint64_t)flags << 56;
	memcpy(&t->dst_hash, &w0, sizeof w0);
	memcpy(&t->len, &w1, sizeof w1);
#else
	t->dst_hash = kz_dset_hash(dst);
	t->port = port;
	t->sport = sport;
	t->len = (uint16_t)tot;
	t->dark16 = (uint16_t)(dst >> 16);
	t->proto = proto;
	t->cls = cls;
	t->fp = fp;
	t->flags = flags;
#endif
	*dst_out = dst;
	return 1;
}

/* Stable lower-case names: "other", "probe", "backscatter"; "tcp", "udp",
 * "icmp", "icmp6", "sctp", "other" (the stats records' proto values). */
const char *kz_tclass_name(enum kz_tclass c);
const char *kz_tproto_name(enum kz_tproto p);

/* The name of one rule bit ("mirai", "masscan", "zmap", "nmap",
 * "unicornscan"), or "" for anything else. */
const char *kz_fp_name(unsigned bit);

#endif
