/*
 * The per-packet classifier (see classify.h for the rules and their
 * sources). It runs on every packet addressed to the darknet, so it is
 * branch-light straight-line code over the decoder's fields: no lookups, no
 * allocation, and the output is built in a local and stored once.
 */
#include "classify.h"

/* ICMP (v4) types that are backscatter: replies to a spoofed request
 * (0 echo, 14 timestamp, 16 information, 18 address mask) and the errors
 * (3 unreachable, 4 source quench, 5 redirect, 11 time exceeded, 12
 * parameter problem). Bit t set for type t. */
#define ICMP4_BACKSCATTER                                                                          \
	((1u << 0) | (1u << 3) | (1u << 4) | (1u << 5) | (1u << 11) | (1u << 12) | (1u << 14) |    \
	 (1u << 16) | (1u << 18))

#define ICMP4_ECHO_REQUEST 8
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY   129

#define IPPROTO_NUM_ICMP   1
#define IPPROTO_NUM_TCP    6
#define IPPROTO_NUM_UDP    17
#define IPPROTO_NUM_ICMP6  58
#define IPPROTO_NUM_SCTP   132
#define IPPROTO_NUM_UDPLIT 136

/* ZMap before 4.1 set every probe's IP ID to this constant. */
#define ZMAP_IP_ID 54321

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
	case IPPROTO_NUM_TCP:
		return KZ_TPROTO_TCP;
	case IPPROTO_NUM_UDP:
	case IPPROTO_NUM_UDPLIT:
		return KZ_TPROTO_UDP;
	case IPPROTO_NUM_ICMP:
		return KZ_TPROTO_ICMP;
	case IPPROTO_NUM_ICMP6:
		return KZ_TPROTO_ICMP6;
	case IPPROTO_NUM_SCTP:
		return KZ_TPROTO_SCTP;
	default:
		return KZ_TPROTO_OTHER;
	}
}

/* The fingerprint bits of a TCP SYN probe. */
static unsigned syn_rules(const struct kz_pkt *p, bool v4, uint32_t dst, unsigned rules)
{
	unsigned fp = 0;
	uint8_t init = kz_ttl_initial(p->ttl);
	if (v4) {
		if (p->tcp_seq == dst && init == 64 && p->tcp_hlen == 20 &&
		    (p->dport == 23 || p->dport == 2323))
			fp |= KZ_FP_MIRAI;
		if (p->ip_id == ((dst ^ p->dport ^ p->tcp_seq) & 0xffffu) && init == 255 &&
		    p->tcp_win == 1024)
			fp |= KZ_FP_MASSCAN;
		if (p->ip_id == ZMAP_IP_ID && init == 255 && p->tcp_win == 65535)
			fp |= KZ_FP_ZMAP;
		if (p->tcp_win == 4096)
			fp |= KZ_FP_UNICORN;
	}
	/* nmap's rule needs no IPv4 field: its hop limit is random in 37-59
	 * too. */
	if (p->tcp_win == 1024 && (p->flags & KZ_PKT_F_TCP_MSS_ONLY) && p->tcp_mss == 1460 &&
	    p->ttl <= 59)
		fp |= KZ_FP_NMAP;
	return fp & rules;
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
			fp = (uint8_t)syn_rules(p, v4, dst, rules);
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
		if (p->icmp_type == ICMP4_ECHO_REQUEST)
			cls = KZ_TCLASS_PROBE;
		else if (p->icmp_type < 32 && (ICMP4_BACKSCATTER >> p->icmp_type) & 1u)
			cls = KZ_TCLASS_BACKSCATTER;
		break;
	case KZ_TPROTO_ICMP6:
		if (!l4)
			break;
		t->port = p->icmp_type;
		if (p->icmp_type == ICMP6_ECHO_REQUEST)
			cls = KZ_TCLASS_PROBE;
		else if ((p->icmp_type >= 1 && p->icmp_type <= 4) ||
		         p->icmp_type == ICMP6_ECHO_REPLY)
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
