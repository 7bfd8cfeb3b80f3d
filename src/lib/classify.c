/*
 * The per-packet classifier (see classify.h for the rules and their
 * sources). It runs on every packet addressed to the darknet, so it is
 * branch-light straight-line code over the decoder's fields: no lookups, no
 * allocation, and the output is built in a local and stored once.
 *
 * kz_classify_frame fuses decoding and classifying for the frames a
 * darknet is mostly made of (IPv4 without options carrying TCP, UDP or
 * non-error ICMP): it reads only the dozen header fields the summary
 * needs, straight from the frame, instead of filling the decoder's
 * 170-byte struct and reading it back, and it parses TCP options only
 * when the rest of the nmap rule already holds. It declines everything
 * else, which then takes the general path. Its promise is equality: for
 * every frame it takes, the summary is byte for byte the one decoding and
 * classifying give (the unit test and the decoder's fuzz harness check
 * it); about half the front's time per packet was the general path.
 */
#include "classify.h"

#include <endian.h>
#include <string.h>

/* A 32-bit stand-in for an IPv6 destination: distinct-destination sets
 * and hashes take 32 bits, and a darknet's addresses differ in their low
 * bits, so fold all four words rather than keep one. */
static inline uint32_t fold32(kz_u128 v)
{
	uint64_t x = (uint64_t)v ^ (uint64_t)(v >> 64);
	return (uint32_t)x ^ (uint32_t)(x >> 32);
}

static inline enum kz_tproto proto_axis(uint8_t proto)
{
	switch (proto) {
	case KZ_CLS_IPPROTO_NUM_TCP:
		return KZ_TPROTO_TCP;
	case KZ_CLS_IPPROTO_NUM_UDP:
	case KZ_CLS_IPPROTO_NUM_UDPLIT:
		return KZ_TPROTO_UDP;
	case KZ_CLS_IPPROTO_NUM_ICMP:
		return KZ_TPROTO_ICMP;
	case KZ_CLS_IPPROTO_NUM_ICMP6:
		return KZ_TPROTO_ICMP6;
	case KZ_CLS_IPPROTO_NUM_SCTP:
		return KZ_TPROTO_SCTP;
	default:
		return KZ_TPROTO_OTHER;
	}
}

void kz_classify(const struct kz_pkt *p, uint64_t ts_ns, unsigned rules, struct kz_tpkt *out)
{
	/* Fields are stored straight into *out: a local struct copied at the
	 * end would be read back with wide loads right after narrow stores,
	 * which stalls store forwarding on every packet. */
	struct kz_tpkt *t = out;
	bool v4 = p->ip_version == 4;
	bool l4 = (p->flags & KZ_PKT_F_L4) != 0;
	uint32_t dst = v4 ? kz_addr_v4(p->dst) : fold32(p->dst.v);
	t->src = p->src;
	t->victim.v = 0; /* and the unicornscan values that share its bytes */
	t->ts_ns = ts_ns;
	t->h = 0;
	t->dst_hash = kz_dset_hash(dst);
	t->port = 0;
	t->sport = 0;
	t->len = p->ip_len > 65535 ? 65535 : (uint16_t)p->ip_len;
	t->dark16 = v4 ? (uint16_t)(dst >> 16) : (uint16_t)fold32(p->dst.v >> 64);
	uint8_t proto = (uint8_t)proto_axis(p->proto);
	uint8_t cls = KZ_TCLASS_OTHER, fp = 0;
	uint8_t flags = v4 ? 0 : (uint8_t)KZ_TPKT_V6;

	switch (proto) {
	case KZ_TPROTO_TCP:
		if (!l4)
			break;
		t->port = p->dport;
		t->sport = p->sport;
		flags |= KZ_TPKT_HASPORT;
		if (p->tcp_flags & KZ_TCP_RST) {
			cls = KZ_TCLASS_BACKSCATTER;
		} else if ((p->tcp_flags & (KZ_TCP_SYN | KZ_TCP_ACK)) ==
		           (KZ_TCP_SYN | KZ_TCP_ACK)) {
			cls = KZ_TCLASS_BACKSCATTER;
		} else if (p->tcp_flags & KZ_TCP_SYN) {
			cls = KZ_TCLASS_PROBE;
			flags |= KZ_TPKT_SYN;
			struct kz_cls_syn_fields sf = {
				.seq = p->tcp_seq,
				.dport = p->dport,
				.ip_id = p->ip_id,
				.win = p->tcp_win,
				.mss = p->tcp_mss,
				.ttl = p->ttl,
				.hlen = p->tcp_hlen,
				.mss_only = (p->flags & KZ_PKT_F_TCP_MSS_ONLY) != 0,
			};
			fp = (uint8_t)kz_cls_syn_rules(&sf, v4, dst, rules);
			if (v4) {
				uint32_t ports = ((uint32_t)p->dport << 16) + p->sport;
				t->unicorn = p->tcp_seq ^ dst ^ ports;
				t->unicorn_bs = p->tcp_seq ^ __builtin_bswap32(dst) ^ ports;
			}
		}
		break;
	case KZ_TPROTO_UDP:
	case KZ_TPROTO_SCTP:
		if (!l4)
			break;
		t->port = p->dport;
		t->sport = p->sport;
		flags |= KZ_TPKT_HASPORT;
		/* UDP is a probe whatever its ports (REFERENCE.md); SCTP INITs
		 * are not told apart from the rest, so SCTP stays "other". */
		if (proto == KZ_TPROTO_UDP)
			cls = KZ_TCLASS_PROBE;
		break;
	case KZ_TPROTO_ICMP:
		if (!l4)
			break;
		t->port = p->icmp_type;
		if (p->icmp_type == KZ_CLS_ICMP4_ECHO_REQUEST)
			cls = KZ_TCLASS_PROBE;
		else if (p->icmp_type < 32 && (KZ_CLS_ICMP4_BACKSCATTER >> p->icmp_type) & 1u)
			cls = KZ_TCLASS_BACKSCATTER;
		break;
	case KZ_TPROTO_ICMP6:
		if (!l4)
			break;
		t->port = p->icmp_type;
		if (p->icmp_type == KZ_CLS_ICMP6_ECHO_REQUEST)
			cls = KZ_TCLASS_PROBE;
		else if ((p->icmp_type >= 1 && p->icmp_type <= 4) ||
		         p->icmp_type == KZ_CLS_ICMP6_ECHO_REPLY)
			cls = KZ_TCLASS_BACKSCATTER;
		break;
	default:
		t->port = p->proto;
		break;
	}
	if (cls == KZ_TCLASS_BACKSCATTER) {
		/* An ICMP error comes from whoever dropped the attack's reply
		 * (often a router); the victim is where the quoted packet
		 * was going. */
		if ((p->flags & (KZ_PKT_F_ICMP_ERROR | KZ_PKT_F_INNER)) ==
		    (KZ_PKT_F_ICMP_ERROR | KZ_PKT_F_INNER))
			t->victim = p->inner.dst;
		else
			t->victim = p->src;
	}
	t->proto = proto;
	t->cls = cls;
	t->fp = fp;
	t->flags = flags;
}

/* KZ_PKT_F_TCP_MSS_ONLY and the MSS value, as pkt.c's TCP option walk
 * computes them: the options are hdr_n bytes by the data offset, cap_n of
 * them captured. Only the nmap rule reads them, so the fast path calls
 * this only when the rest of that rule holds. */
uint32_t kz_cls_tcp_mss_only(const uint8_t *o, uint32_t hdr_n, uint32_t cap_n)
{
	uint32_t i = 0;
	unsigned count = 0;
	uint32_t mss = 0;
	if (cap_n < hdr_n)
		return 0; /* KZ_PKT_F_TCP_OPT_TRUNC */
	while (i < cap_n) {
		uint8_t kind = o[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (hdr_n - i < 2)
			return 0; /* KZ_PKT_F_TCP_OPT_BAD */
		uint32_t len = o[i + 1];
		if (len < 2 || len > hdr_n - i)
			return 0; /* bad (cap_n == hdr_n: never cut) */
		count++;
		if (kind == 2) {
			if (len != 4)
				return 0; /* bad */
			mss = UINT32_C(0x10000) | kz_rd16(o + i + 2);
		}
		i += len;
	}
	return count == 1 ? mss : 0;
}

const char *kz_tclass_name(enum kz_tclass c)
{
	static const char *const names[KZ_TCLASS_COUNT] = { "other", "probe", "backscatter" };
	return (unsigned)c < KZ_TCLASS_COUNT ? names[c] : "";
}

const char *kz_tproto_name(enum kz_tproto p)
{
	static const char *const names[KZ_TPROTO_COUNT] = { "tcp",   "udp",  "icmp",
		                                            "icmp6", "sctp", "other" };
	return (unsigned)p < KZ_TPROTO_COUNT ? names[p] : "";
}

const char *kz_fp_name(unsigned bit)
{
	switch (bit) {
	case KZ_FP_MIRAI:
		return "mirai";
	case KZ_FP_MASSCAN:
		return "masscan";
	case KZ_FP_ZMAP:
		return "zmap";
	case KZ_FP_NMAP:
		return "nmap";
	case KZ_FP_UNICORN:
		return "unicornscan";
	default:
		return "";
	}
}
