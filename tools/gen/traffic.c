/*
 * Sources, their packets, and the merge loop; see traffic.h for the model.
 *
 * The per-tool packet builders below are where the fingerprints live. Each
 * writes exactly the fields the real tool writes (checked against captures of
 * zmap 2.1.1, masscan 1.3.2 and nmap 7.93 made with
 * tools/capture-real-scanners.sh, and against the tools' sources for Mirai
 * and unicornscan); docs/generator.md lists them. The generic kinds (OS
 * stacks, noise) are built so that they never satisfy a tool rule by chance:
 * where a random field could complete a rule (an IP ID of 54321, a sequence
 * number equal to the destination), the builder steps past that value. The
 * one deliberate collision is the raw-socket kind, which shares ZMap's IP ID
 * 54321 as hand-written code does, but not its window.
 *
 * Invariants: an emit call writes at most one frame, and always advances the
 * event it handled, so the loop terminates; sources are only added (the
 * array grows, never shrinks), and indices are stable.
 */
#include "traffic.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "payload.h"
#include "pcapout.h"

#define NS          1000000000LL
#define MS          1000000LL
#define US          1000LL
#define BIN_NS      (60 * NS)
#define TWO32       4294967296.0
#define NEVER       INT64_MAX
#define MAX_SOURCES (1u << 26)
#define MAX_TIMES   ((size_t)1 << 26)
#define RETX_CAP    64

static const uint16_t mirai_ports[] = { 23, 2323 };

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

static uint64_t gcd64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;
		a = b;
		b = t;
	}
	return a;
}

static uint64_t space(const struct gen_run *r, const struct gen_source *s)
{
	return s->family == 6 ? r->w->n6 : r->w->n4;
}

static struct kz_addr target(const struct gen_run *r, const struct gen_source *s, uint64_t idx)
{
	return s->family == 6 ? gen_world_dark6(r->w, idx) : gen_world_dark4(r->w, idx);
}

static uint32_t v4of(struct kz_addr a)
{
	return kz_addr_v4(a);
}

static uint32_t bswap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static uint8_t ttl_after(unsigned initial, unsigned hops)
{
	return (uint8_t)(initial > hops ? initial - hops : 1);
}

/* A random permutation (a·k + b) mod n of the target space. */
static void perm_init(struct gen_rng *rng, uint64_t n, uint64_t *a, uint64_t *b)
{
	if (n <= 1) {
		*a = 1;
		*b = 0;
		return;
	}
	do
		*a = 1 + gen_rng_below(rng, n - 1);
	while (gcd64(*a, n) != 1);
	*b = gen_rng_below(rng, n);
}

static uint64_t perm_at(uint64_t a, uint64_t b, uint64_t k, uint64_t n)
{
	return (uint64_t)(((kz_u128)a * (k % n) + b) % n);
}

static void port_init(struct gen_run *r, struct gen_source *s, unsigned i, uint16_t port,
                      uint8_t proto)
{
	struct gen_port *pt = &s->ports[i];
	pt->port = port;
	pt->proto = proto;
	perm_init(&s->rng, space(r, s), &pt->a, &pt->b);
}

/* The next first-probe target on port i (a ZMap/masscan-style sweep). */
static uint64_t port_next(struct gen_run *r, struct gen_source *s, unsigned i)
{
	struct gen_port *pt = &s->ports[i];
	uint64_t idx = perm_at(pt->a, pt->b, pt->k, space(r, s));
	pt->k++;
	if (s->dest_cap && pt->k >= s->dest_cap)
		pt->done = 1;
	return idx;
}

uint64_t gen_port_dests(const struct gen_run *r, const struct gen_source *s,
                        const struct gen_port *p)
{
	uint64_t n = space(r, s);
	return p->k < n ? p->k : n;
}

static bool all_ports_done(const struct gen_source *s)
{
	for (unsigned i = 0; i < s->nports; i++)
		if (!s->ports[i].done)
			return false;
	return s->nports > 0;
}

/* Picks k distinct entries of menu into out (k <= n). */
static void pick_ports(struct gen_rng *rng, const uint16_t *menu, unsigned n, uint16_t *out,
                       unsigned k)
{
	uint16_t tmp[64];
	if (n > 64)
		n = 64;
	memcpy(tmp, menu, n * sizeof *menu);
	for (unsigned i = 0; i < k && i < n; i++) {
		unsigned j = i + (unsigned)gen_rng_below(rng, n - i);
		uint16_t t = tmp[i];
		tmp[i] = tmp[j];
		tmp[j] = t;
		out[i] = tmp[i];
	}
}

/* ------------------------------------------------------------------ */
/* Writing and counting                                                */

static bool is_probe_to(const struct gen_pkt *p, uint16_t port, uint8_t proto)
{
	if (p->proto != proto || p->dport != port)
		return false;
	return proto != GEN_IP_TCP || p->flags == GEN_TH_SYN;
}

/* The first tracked bin starts at the minute of the epoch at or before t0. */
static int64_t track_origin(const struct gen_run *r)
{
	return r->t0 - r->t0 % BIN_NS;
}

static void track(struct gen_run *r, struct gen_source *s, int64_t ts)
{
	int64_t bin = (ts - track_origin(r)) / BIN_NS;
	if (bin < 0 || (size_t)bin >= r->ntrack || s->track_bin == bin)
		return;
	s->track_bin = bin;
	r->track[bin]++;
}

/* Writes one frame counted against s (when s is not NULL) and, for IP
 * packets p, against s's port port_idx (when >= 0). */
static int put_frame(struct gen_run *r, struct gen_source *s, int64_t t, const uint8_t *f,
                     size_t caplen, size_t origlen, size_t iplen, int port_idx,
                     const struct gen_pkt *p)
{
	int64_t ts = gen_pcap_stamp(r->out, t);
	int rc = gen_pcap_write(r->out, ts, f, (uint32_t)caplen, (uint32_t)origlen);
	if (rc)
		return rc;
	r->packets++;
	r->bytes += iplen;
	if (!s)
		return 0;
	if (!s->packets)
		s->first = ts;
	s->last = ts;
	s->packets++;
	s->bytes += iplen;
	if (s->kind == GEN_K_JUNK)
		r->junk[s->sub]++;
	if (port_idx >= 0)
		s->ports[port_idx].packets++;
	if (p && r->track && s->kind != GEN_K_OUTSIDE &&
	    is_probe_to(p, r->track_port, r->track_proto))
		track(r, s, ts);
	return 0;
}

static int put(struct gen_run *r, struct gen_source *s, int64_t t, const struct gen_pkt *p,
               int port_idx)
{
	size_t iplen;
	size_t n = gen_frame_build(r->frame, p, &iplen);
	return put_frame(r, s, t, r->frame, n, n, iplen, port_idx, p);
}

/* ------------------------------------------------------------------ */
/* Operating-system stacks (generic scanners, visitors, misconfig)     */

/* A TCP timestamp clock: milliseconds since the source started, plus a
 * random boot offset. */
static uint32_t tsval(const struct gen_source *s, int64_t t)
{
	return s->ts_base + (uint32_t)((t - s->t_on) / MS);
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The connect() SYN of each stack: TTL, DF, IP ID policy, window, and the
 * option layout p0f and the stacks themselves document. */
static void stack_syn(struct gen_source *s, struct gen_pkt *p, int64_t t)
{
	uint8_t *o = p->opt;
	p->proto = GEN_IP_TCP;
	p->flags = GEN_TH_SYN;
	p->df = 1;
	p->window = s->window;
	p->flow = gen_rng_u32(&s->rng) & 0xfffff;
	switch (s->stack) {
	case GEN_S_WINDOWS:
		/* mss 1460, nop, wscale 8, nop, nop, sackOK */
		p->ttl = ttl_after(128, s->hops);
		p->ip_id = s->ip_id++;
		memcpy(o, "\x02\x04\x05\xb4\x01\x03\x03\x08\x01\x01\x04\x02", 12);
		p->optlen = 12;
		break;
	case GEN_S_BSD:
		/* mss 1460, nop, wscale 6, nop, nop, TS, sackOK, eol, eol */
		p->ttl = ttl_after(64, s->hops);
		p->ip_id = gen_rng_u16(&s->rng);
		memcpy(o, "\x02\x04\x05\xb4\x01\x03\x03\x06\x01\x01\x08\x0a", 12);
		put_be32(o + 12, tsval(s, t));
		memcpy(o + 16, "\x00\x00\x00\x00\x04\x02\x00\x00", 8);
		p->optlen = 24;
		break;
	default:
		/* Linux: mss 1460, sackOK, TS, nop, wscale 7 */
		p->ttl = ttl_after(64, s->hops);
		p->ip_id = gen_rng_u16(&s->rng);
		memcpy(o, "\x02\x04\x05\xb4\x04\x02\x08\x0a", 8);
		put_be32(o + 8, tsval(s, t));
		memcpy(o + 12, "\x00\x00\x00\x00\x01\x03\x03\x07", 8);
		p->optlen = 20;
		break;
	}
}

static uint16_t stack_sport(struct gen_source *s)
{
	switch (s->stack) {
	case GEN_S_WINDOWS:
		/* Windows hands out ephemeral ports in sequence. */
		s->sport = s->sport >= 65535 ? 49152 : (uint16_t)(s->sport + 1);
		return s->sport;
	case GEN_S_BSD:
		return (uint16_t)gen_rng_range(&s->rng, 49152, 65535);
	default:
		return (uint16_t)gen_rng_range(&s->rng, 32768, 60999);
	}
}

/* Steps a generic packet off every tool rule it could meet by chance:
 * Mirai's seq == dst, ZMap's IP ID 54321, masscan's IP ID equation. */
static void avoid_rules(struct gen_pkt *p)
{
	if (!kz_addr_is_v4(p->dst) || p->proto != GEN_IP_TCP)
		return;
	uint32_t dst = v4of(p->dst);
	if (p->seq == dst)
		p->seq ^= 1;
	for (;;) {
		uint16_t m = (uint16_t)((dst ^ p->dport ^ p->seq) & 0xffff);
		if (p->ip_id == 54321 || p->ip_id == m)
			p->ip_id++;
		else
			break;
	}
}

/* The payload a UDP probe to p->dport carries, in the run's scratch buffer. */
static void set_udp_payload(struct gen_run *r, struct gen_source *s, struct gen_pkt *p)
{
	p->paylen = (uint16_t)gen_udp_payload(p->dport, &s->rng, r->scratch);
	p->payload = r->scratch;
}

/* ------------------------------------------------------------------ */
/* Retransmissions                                                     */

static void retx_push(struct gen_source *s, int64_t t, uint64_t dst, uint16_t sport, uint16_t dport,
                      uint32_t seq, uint32_t ack, int port_idx)
{
	if (!s->retx || s->retx_len == s->retx_cap)
		return; /* a full queue drops the retransmission; nothing is counted */
	unsigned i = ((unsigned)s->retx_head + s->retx_len) % s->retx_cap;
	s->retx[i] = (struct gen_retx){
		.t = t,
		.dst = dst,
		.seq = seq,
		.ack = ack,
		.sport = sport,
		.dport = dport,
		.port_idx = (uint8_t)(port_idx < 0 ? 0xff : port_idx),
	};
	s->retx_len++;
}

/* ------------------------------------------------------------------ */
/* Tools                                                               */

/* A random TCP window that is none of the windows another tool's rule keys
 * on (1024, 4096, 65535). Real Mirai can draw them, 1 in 22,000; a bot with
 * window 4096 and one source port would then also meet unicornscan's rule
 * as REFERENCE.md states it, which only makes tests flaky. */
static uint16_t mirai_window(struct gen_rng *rng)
{
	uint16_t w;
	do
		w = (uint16_t)gen_rng_range(rng, 1, 65535);
	while (w == 1024 || w == 4096 || w == 65535);
	return w;
}

/* Mirai's scanner.c: a raw SYN with seq = destination address, TTL 64, no
 * options, IP ID random; port 23, every tenth packet 2323. The original
 * picks its source port and window once per process; variants re-roll them
 * per packet. */
static int probe_mirai(struct gen_run *r, struct gen_source *s, int64_t t)
{
	unsigned pi = s->nports > 1 && gen_rng_chance(&s->rng, 0.1) ? 1 : 0;
	if (s->ports[pi].done)
		pi ^= 1;
	struct gen_pkt p = { 0 };
	p.src = s->addr;
	p.dst = target(r, s, port_next(r, s, pi));
	p.proto = GEN_IP_TCP;
	p.ttl = ttl_after(64, s->hops);
	p.ip_id = gen_rng_u16(&s->rng);
	p.sport = s->variant ? (uint16_t)gen_rng_range(&s->rng, 1, 65535) : s->sport;
	p.dport = s->ports[pi].port;
	p.seq = v4of(p.dst);
	p.window = s->variant ? mirai_window(&s->rng) : s->window;
	p.flags = GEN_TH_SYN;
	return put(r, s, t, &p, (int)pi);
}

/* ZMap 2.1.1 (before 4.1): IP ID 54321, TTL 255, window 65535, no TCP
 * options, source port random in 32768-61000, sequence number random. */
static int probe_zmap(struct gen_run *r, struct gen_source *s, int64_t t)
{
	struct gen_pkt p = { 0 };
	p.src = s->addr;
	p.dst = target(r, s, port_next(r, s, 0));
	p.proto = GEN_IP_TCP;
	p.ttl = ttl_after(255, s->hops);
	p.ip_id = 54321;
	p.sport = (uint16_t)gen_rng_range(&s->rng, 32768, 61000);
	p.dport = s->ports[0].port;
	p.seq = gen_rng_u32(&s->rng);
	p.window = 65535;
	p.flags = GEN_TH_SYN;
	return put(r, s, t, &p, 0);
}

/* masscan 1.3.2: TTL 255, window 1024, no options, one source port per run,
 * IP ID = (dst ^ dport ^ seq) & 0xffff with the address in host order;
 * (address, port) pairs in one random order. */
static int probe_masscan(struct gen_run *r, struct gen_source *s, int64_t t)
{
	unsigned live[64], nlive = 0;
	for (unsigned i = 0; i < s->nports; i++)
		if (!s->ports[i].done)
			live[nlive++] = i;
	unsigned pi = live[gen_rng_below(&s->rng, nlive)];
	struct gen_pkt p = { 0 };
	p.src = s->addr;
	p.dst = target(r, s, port_next(r, s, pi));
	p.proto = GEN_IP_TCP;
	p.ttl = ttl_after(255, s->hops);
	p.sport = s->sport;
	p.dport = s->ports[pi].port;
	p.seq = gen_rng_u32(&s->rng);
	p.ip_id = (uint16_t)((v4of(p.dst) ^ p.dport ^ p.seq) & 0xffff);
	p.window = 1024;
	p.flags = GEN_TH_SYN;
	return put(r, s, t, &p, (int)pi);
}

/* unicornscan 0.4.7 (TCPHASHTRACK): seq = key ^ (dst ^ ((dport << 16) +
 * sport)), the key constant for the scan, where dst is the in-memory
 * address read as a native integer, i.e. byte-swapped on a little-endian
 * (x86) sender. Source port random per packet (>= 4096); window 4096; one
 * MSS option; TTL 255. */
static int probe_unicornscan(struct gen_run *r, struct gen_source *s, int64_t t)
{
	struct gen_pkt p = { 0 };
	p.src = s->addr;
	p.dst = target(r, s, port_next(r, s, 0));
	p.proto = GEN_IP_TCP;
	p.ttl = ttl_after(255, s->hops);
	p.ip_id = gen_rng_u16(&s->rng);
	uint16_t sport = (uint16_t)(gen_rng_u32(&s->rng) % 0xffff);
	if (sport < 4096)
		sport = (uint16_t)(sport + 4096);
	p.sport = sport;
	p.dport = s->ports[0].port;
	uint32_t dst = v4of(p.dst);
	if (s->variant)
		dst = bswap32(dst);
	p.seq = s->seq ^ dst ^ (((uint32_t)p.dport << 16) + sport);
	p.window = 4096;
	memcpy(p.opt, "\x02\x04\x05\xb4", 4);
	p.optlen = 4;
	p.flags = GEN_TH_SYN;
	return put(r, s, t, &p, 0);
}

/* nmap 7.93 -sS: window 1024, exactly one option (MSS 1460), a fresh random
 * initial TTL in 37-59 per packet, random IP ID, one source port and one
 * sequence number for the whole scan (as captured). */
static void build_nmap(struct gen_run *r, struct gen_source *s, struct gen_pkt *p, uint64_t dst,
                       uint16_t dport)
{
	memset(p, 0, sizeof *p);
	p->src = s->addr;
	p->dst = target(r, s, dst);
	p->proto = GEN_IP_TCP;
	p->ttl = ttl_after(gen_rng_range(&s->rng, 37, 59), s->hops);
	p->ip_id = gen_rng_u16(&s->rng);
	p->sport = s->sport;
	p->dport = dport;
	p->seq = s->seq;
	p->window = 1024;
	memcpy(p->opt, "\x02\x04\x05\xb4", 4);
	p->optlen = 4;
	p->flags = GEN_TH_SYN;
}

/* A generic scanner's connect() SYN from its stack. */
static void build_stack_syn(struct gen_run *r, struct gen_source *s, struct gen_pkt *p, int64_t t,
                            uint64_t dst, uint16_t dport, uint16_t sport, uint32_t seq)
{
	memset(p, 0, sizeof *p);
	p->src = s->addr;
	p->dst = target(r, s, dst);
	stack_syn(s, p, t);
	p->sport = sport;
	p->dport = dport;
	p->seq = seq;
	avoid_rules(p);
}

/* Hand-written raw-socket code from the usual tutorials: IP ID 54321 and TTL
 * 255 like ZMap, but the tutorials' window 5840, a fixed or random source
 * port, and a zero or random sequence number. */
static int probe_raw(struct gen_run *r, struct gen_source *s, int64_t t)
{
	struct gen_pkt p = { 0 };
	p.src = s->addr;
	p.dst = target(r, s, port_next(r, s, 0));
	p.proto = GEN_IP_TCP;
	p.ttl = ttl_after(255, s->hops);
	p.ip_id = 54321;
	p.sport = s->variant & 1 ? (uint16_t)gen_rng_range(&s->rng, 1024, 65535) : s->sport;
	p.dport = s->ports[0].port;
	p.seq = s->variant & 2 ? gen_rng_u32(&s->rng) : 0;
	if (p.seq == v4of(p.dst))
		p.seq ^= 1;
	p.window = 5840;
	p.flags = GEN_TH_SYN;
	return put(r, s, t, &p, 0);
}

/* iputils ping: 56 data bytes, a struct timeval then 0x10, 0x11, ... */
static int probe_ping(struct gen_run *r, struct gen_source *s, int64_t t)
{
	uint8_t *d = r->scratch;
	uint64_t sec = (uint64_t)(t / NS), usec = (uint64_t)(t % NS / US);
	for (int i = 0; i < 8; i++) {
		d[i] = (uint8_t)(sec >> (8 * i));
		d[8 + i] = (uint8_t)(usec >> (8 * i));
	}
	for (int i = 16; i < 56; i++)
		d[i] = (uint8_t)(i - 16 + 0x10);
	struct gen_pkt p = { 0 };
	p.src = s->addr;
	p.dst = target(r, s, port_next(r, s, 0));
	p.proto = s->family == 6 ? GEN_IP_ICMP6 : GEN_IP_ICMP;
	p.icmp_type = (uint8_t)s->ports[0].port;
	p.icmp_id = s->sport;
	p.icmp_seq = ++s->ip_id;
	p.ttl = ttl_after(64, s->hops);
	p.df = 1;
	p.ip_id = gen_rng_u16(&s->rng);
	p.flow = gen_rng_u32(&s->rng) & 0xfffff;
	p.payload = d;
	p.paylen = 56;
	return put(r, s, t, &p, 0);
}

/* Kinds that probe several ports of one host in a burst (nmap, generic
 * scanners): the host comes from the source's host permutation, each port
 * counts the hosts it reached. */
static int burst_send(struct gen_run *r, struct gen_source *s, int64_t t)
{
	unsigned pi = ((unsigned)s->burst_start + s->burst_pos) % s->nports;
	struct gen_port *pt = &s->ports[pi];
	struct gen_pkt p;
	pt->k++;
	if (s->kind == GEN_K_NMAP) {
		build_nmap(r, s, &p, s->burst_dst, pt->port);
	} else {
		build_stack_syn(r, s, &p, t, s->burst_dst, pt->port, stack_sport(s),
		                gen_rng_u32(&s->rng));
	}
	if (s->retx_delay)
		retx_push(s, t + s->retx_delay, s->burst_dst, p.sport, p.dport, p.seq, 0, (int)pi);
	return put(r, s, t, &p, (int)pi);
}

static int probe_burst(struct gen_run *r, struct gen_source *s, int64_t t)
{
	s->burst_dst = perm_at(s->ha, s->hb, s->hk, space(r, s));
	s->hk++;
	if (s->dest_cap && s->hk >= s->dest_cap)
		for (unsigned i = 0; i < s->nports; i++)
			s->ports[i].done = 1;
	s->burst_start = (uint16_t)gen_rng_below(&s->rng, s->nports);
	s->burst_pos = 0;
	s->burst_left = (uint16_t)(s->nports - 1);
	/* nmap and connect() loops send a host's ports a few ms apart. */
	s->t_burst = t + (int64_t)gen_rng_range(&s->rng, 1, 20) * MS;
	return burst_send(r, s, t);
}

/* A visitor: one connect() SYN to one port, retransmitted after 1 s and 3 s
 * when the stack keeps trying (burst_left retransmissions). */
static int probe_visitor(struct gen_run *r, struct gen_source *s, int64_t t)
{
	struct gen_pkt p;
	s->burst_dst = port_next(r, s, 0);
	s->sport = stack_sport(s);
	s->seq = gen_rng_u32(&s->rng);
	build_stack_syn(r, s, &p, t, s->burst_dst, s->ports[0].port, s->sport, s->seq);
	s->seq = p.seq;
	s->burst_left = s->retries_left;
	s->burst_pos = 0;
	s->t_burst = t + NS;
	return put(r, s, t, &p, 0);
}

static int probe_udp_noise(struct gen_run *r, struct gen_source *s, int64_t t)
{
	struct gen_pkt p = { 0 };
	p.src = s->addr;
	p.dst = target(r, s, port_next(r, s, 0));
	p.proto = GEN_IP_UDP;
	p.ttl = ttl_after(s->stack == GEN_S_WINDOWS ? 128 : 64, s->hops);
	p.df = s->stack != GEN_S_WINDOWS;
	p.ip_id = s->stack == GEN_S_WINDOWS ? s->ip_id++ : gen_rng_u16(&s->rng);
	p.flow = gen_rng_u32(&s->rng) & 0xfffff;
	p.sport = (uint16_t)gen_rng_range(&s->rng, 32768, 60999);
	p.dport = s->ports[0].port;
	set_udp_payload(r, s, &p);
	return put(r, s, t, &p, 0);
}

/* ------------------------------------------------------------------ */
/* Misconfiguration                                                    */

static int probe_misconfig(struct gen_run *r, struct gen_source *s, int64_t t)
{
	struct gen_pkt p = { 0 };
	p.src = s->addr;
	p.dst = target(r, s, s->burst_dst);
	p.ttl = ttl_after(64, s->hops);
	p.df = 1;
	p.ip_id = gen_rng_u16(&s->rng);
	p.flow = gen_rng_u32(&s->rng) & 0xfffff;
	switch (s->sub) {
	case GEN_M_REPEAT_SYN:
		build_stack_syn(r, s, &p, t, s->burst_dst, s->ports[0].port, stack_sport(s),
		                gen_rng_u32(&s->rng));
		return put(r, s, t, &p, 0);
	case GEN_M_STRAY_ACK: {
		static const uint8_t kinds[] = { GEN_TH_ACK, GEN_TH_ACK | GEN_TH_PSH,
			                         GEN_TH_ACK | GEN_TH_FIN };
		p.proto = GEN_IP_TCP;
		p.sport = s->sport;
		p.dport = s->ports[0].port;
		p.flags = kinds[gen_rng_below(&s->rng, 3)];
		p.seq = s->seq;
		p.ack = s->ack;
		p.window = 502;
		if (p.flags & GEN_TH_PSH) {
			memset(r->scratch, 0x17, 64); /* a TLS application-data record */
			p.payload = r->scratch;
			p.paylen = 64;
			s->seq += 64;
		}
		avoid_rules(&p);
		return put(r, s, t, &p, 0);
	}
	case GEN_M_FRAGMENTS: {
		/* A 1800-byte UDP datagram from port 53 in two fragments: the
		 * first carries the UDP header, the second only data. */
		p.proto = GEN_IP_UDP;
		p.df = 0;
		p.sport = s->sport;
		p.dport = s->ports[0].port;
		for (size_t i = 0; i < 1800; i++)
			r->scratch[i] = (uint8_t)gen_rng_next(&s->rng);
		p.payload = r->scratch;
		p.paylen = 1800;
		uint8_t ip[GEN_FRAME_MAX + 64];
		size_t len = gen_ip_build(ip, &p);
		size_t first = 1480; /* IP payload bytes in the first fragment */
		size_t eh = gen_eth_header(r->frame, 0x0800, 0);
		memcpy(r->frame + eh, ip, 20 + first);
		uint8_t *h = r->frame + eh;
		h[2] = (uint8_t)((20 + first) >> 8);
		h[3] = (uint8_t)(20 + first);
		h[6] = 0x20; /* MF, offset 0 */
		h[7] = 0;
		gen_ipv4_checksum(h);
		/* The second fragment waits in the pending buffer. */
		size_t rest = len - 20 - first;
		size_t eh2 = gen_eth_header(s->pending, 0x0800, 0);
		uint8_t *h2 = s->pending + eh2;
		memcpy(h2, ip, 20);
		memcpy(h2 + 20, ip + 20 + first, rest);
		h2[2] = (uint8_t)((20 + rest) >> 8);
		h2[3] = (uint8_t)(20 + rest);
		h2[6] = (uint8_t)((first / 8) >> 8);
		h2[7] = (uint8_t)(first / 8);
		gen_ipv4_checksum(h2);
		s->pending_len = (uint16_t)(eh2 + 20 + rest);
		if (s->pending_len < GEN_ETH_MIN) {
			memset(s->pending + s->pending_len, 0, GEN_ETH_MIN - s->pending_len);
			s->pending_len = GEN_ETH_MIN;
		}
		s->burst_left = 1;
		s->t_burst = t + 5 * US;
		s->frags++;
		return put_frame(r, s, t, r->frame, eh + 20 + first, eh + 20 + first, 20 + first, 0,
		                 NULL);
	}
	case GEN_M_VLAN:
		p.vlan = 100; /* otherwise the same UDP packet as below */
		__attribute__((fallthrough));
	default: /* GEN_M_REPEAT_UDP */
		p.proto = GEN_IP_UDP;
		p.sport = s->sport;
		p.dport = s->ports[0].port;
		set_udp_payload(r, s, &p);
		return put(r, s, t, &p, 0);
	}
}

/* ------------------------------------------------------------------ */
/* Outside the darknet                                                 */

static int probe_outside(struct gen_run *r, struct gen_source *s, int64_t t)
{
	struct gen_pkt p;
	memset(&p, 0, sizeof p);
	p.src = s->addr;
	if (s->family == 6)
		p.dst = gen_world_source6(r->w, (unsigned)gen_rng_below(&s->rng, 16),
		                          gen_rng_next(&s->rng), gen_rng_next(&s->rng));
	else
		p.dst = gen_world_pool_any(r->w, gen_rng_next(&s->rng));
	stack_syn(s, &p, t);
	p.sport = stack_sport(s);
	p.dport = s->ports[gen_rng_below(&s->rng, s->nports)].port;
	p.seq = gen_rng_u32(&s->rng);
	avoid_rules(&p);
	return put(r, s, t, &p, -1);
}

/* ------------------------------------------------------------------ */
/* Backscatter                                                         */

static int victim_note(struct gen_run *r, struct gen_victim *v, int64_t t)
{
	int64_t ts = gen_pcap_stamp(r->out, t);
	if (!v->packets)
		v->first = ts;
	v->last = ts;
	v->packets++;
	if (v->ntimes == v->cap) {
		if (v->cap >= MAX_TIMES)
			return 0; /* peak windows are then computed on what was kept */
		size_t cap = v->cap ? v->cap * 2 : 1024;
		int64_t *tt = reallocarray(v->times, cap, sizeof *tt);
		if (!tt)
			return -ENOMEM;
		v->times = tt;
		v->cap = cap;
	}
	v->times[v->ntimes++] = ts;
	return 0;
}

/* The victim's SYN-ACK to a spoofed SYN (Linux; the flood's SYNs carry no
 * options, so the reply carries only MSS, as captured from hping3 floods),
 * its RST-ACK from a closed port, or its echo reply. */
static void build_reply(struct gen_run *r, struct gen_source *s, const struct gen_victim *v,
                        struct gen_pkt *p, uint64_t dst, uint16_t dport, uint32_t seq, uint32_t ack)
{
	memset(p, 0, sizeof *p);
	p->src = s->addr;
	p->dst = target(r, s, dst);
	p->ttl = ttl_after(s->stack == GEN_S_WINDOWS ? 128 : 64, s->hops);
	p->flow = gen_rng_u32(&s->rng) & 0xfffff;
	switch (v->response) {
	case GEN_R_SYNACK:
		p->proto = GEN_IP_TCP;
		p->df = 1;
		p->sport = v->service_port;
		p->dport = dport;
		p->seq = seq;
		p->ack = ack;
		p->flags = GEN_TH_SYN | GEN_TH_ACK;
		p->window = 64240;
		memcpy(p->opt, "\x02\x04\x05\xb4", 4);
		p->optlen = 4;
		break;
	case GEN_R_RST:
		p->proto = GEN_IP_TCP;
		p->df = 1;
		p->sport = v->service_port;
		p->dport = dport;
		p->seq = 0;
		p->ack = ack;
		p->flags = GEN_TH_RST | GEN_TH_ACK;
		break;
	default: /* GEN_R_ECHO_REPLY */
		p->proto = s->family == 6 ? GEN_IP_ICMP6 : GEN_IP_ICMP;
		p->icmp_type = s->family == 6 ? 129 : 0;
		p->icmp_id = dport;
		p->icmp_seq = (uint16_t)seq;
		p->ip_id = gen_rng_u16(&s->rng);
		memset(r->scratch, 0, 56);
		p->payload = r->scratch;
		p->paylen = 56;
		break;
	}
}

/* An ICMP error from a router in front of the victim about one flood packet
 * (spoofed source = a dark address, destination = the victim): the ICMP
 * sender is the router, the victim is the quoted packet's destination. */
static int icmp_error(struct gen_run *r, struct gen_source *s, struct gen_victim *v, uint64_t dst,
                      int64_t t)
{
	struct gen_source *router = &r->src[s->routers[gen_rng_below(&s->rng, s->nrouters)]];
	struct gen_pkt q = { 0 };
	q.src = target(r, s, dst);
	q.dst = s->addr;
	q.proto = GEN_IP_UDP;
	q.ip_id = gen_rng_u16(&s->rng);
	q.sport = (uint16_t)gen_rng_range(&s->rng, 1024, 65535);
	q.dport = v->service_port;
	q.paylen = 0;
	static const uint8_t types[][2] = { { 3, 13 }, { 3, 1 }, { 11, 0 } };
	const uint8_t *tc = types[router->variant % 3];
	/* A time-exceeded packet arrived with TTL 1; others with what the
	 * spoofing tool set minus the hops so far. */
	q.ttl = tc[0] == 11 ? 1 : (uint8_t)gen_rng_range(&s->rng, 40, 60);
	uint8_t quoted[GEN_FRAME_MAX];
	/* The flood packet is a bare UDP header: 28 bytes, which is also what
	 * RFC 792 asks a router to quote (the IP header and 8 bytes). */
	size_t qlen = gen_ip_build(quoted, &q);
	struct gen_pkt p = { 0 };
	p.src = router->addr;
	p.dst = q.src;
	p.proto = GEN_IP_ICMP;
	p.icmp_type = tc[0];
	p.icmp_code = tc[1];
	p.ttl = ttl_after(router->stack == GEN_S_LINUX ? 64 : 255, router->hops);
	p.ip_id = gen_rng_u16(&s->rng);
	memcpy(r->scratch, quoted, qlen);
	p.payload = r->scratch;
	p.paylen = (uint16_t)qlen;
	return put(r, router, t, &p, -1);
}

static int probe_victim(struct gen_run *r, struct gen_source *s, int64_t t)
{
	struct gen_victim *v = &r->victims[s->victim];
	/* Spoofed sources are drawn uniformly and may repeat. */
	uint64_t dst = gen_rng_below(&s->rng, space(r, s));
	int rc;
	if (v->response == GEN_R_ICMP_ERROR) {
		rc = icmp_error(r, s, v, dst, t);
	} else {
		struct gen_pkt p;
		uint16_t dport = (uint16_t)gen_rng_range(&s->rng, 1024, 65535);
		uint32_t seq = gen_rng_u32(&s->rng), ack = gen_rng_u32(&s->rng);
		build_reply(r, s, v, &p, dst, dport, seq, ack);
		rc = put(r, s, t, &p, -1);
		/* A server without SYN cookies retransmits its SYN-ACK after 1 s. */
		if (rc == 0 && v->retransmit && v->response == GEN_R_SYNACK)
			retx_push(s, t + NS, dst, v->service_port, dport, seq, ack, -1);
	}
	return rc ? rc : victim_note(r, v, t);
}

/* ------------------------------------------------------------------ */
/* Frames the telescope must count and skip                            */

static int probe_junk(struct gen_run *r, struct gen_source *s, int64_t t)
{
	uint8_t *f = r->frame;
	size_t caplen, origlen;
	switch (s->sub) {
	case GEN_J_ARP: {
		/* The router asking for a dark address nobody owns. */
		size_t n = gen_eth_header(f, 0x0806, 0);
		memset(f, 0xff, 6);
		memcpy(f + n, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
		memcpy(f + n + 8, gen_mac_router, 6);
		put_be32(f + n + 14, v4of(s->addr));
		memset(f + n + 18, 0, 6);
		put_be32(f + n + 24, v4of(gen_world_dark4(r->w, gen_rng_below(&s->rng, r->w->n4))));
		n += 28;
		memset(f + n, 0, GEN_ETH_MIN - n);
		caplen = origlen = GEN_ETH_MIN;
		break;
	}
	case GEN_J_RUNT:
		memcpy(f, gen_mac_sensor, 6);
		memcpy(f + 6, "\x02\x00", 2);
		caplen = origlen = 8;
		break;
	default: {
		/* A SYN to a dark address, either cut inside its IP header by a
		 * 26-byte snapshot length, or with a broken header. */
		struct gen_pkt p = { 0 };
		p.src = s->addr;
		p.dst = gen_world_dark4(r->w, gen_rng_below(&s->rng, r->w->n4));
		p.proto = GEN_IP_TCP;
		p.ttl = ttl_after(64, s->hops);
		p.ip_id = gen_rng_u16(&s->rng);
		p.sport = (uint16_t)gen_rng_range(&s->rng, 32768, 60999);
		p.dport = 80;
		p.seq = gen_rng_u32(&s->rng);
		p.window = 29200;
		p.flags = GEN_TH_SYN;
		avoid_rules(&p);
		size_t iplen;
		origlen = gen_frame_build(f, &p, &iplen);
		caplen = origlen;
		if (s->sub == GEN_J_TRUNCATED) {
			caplen = 26;
		} else if (gen_rng_chance(&s->rng, 0.5)) {
			f[14] = 0x43; /* header length 12 bytes: below the minimum */
		} else {
			f[16] = 0; /* total length 10: shorter than the header */
			f[17] = 10;
		}
		break;
	}
	}
	return put_frame(r, s, t, f, caplen, origlen, 0, -1, NULL);
}

/* ------------------------------------------------------------------ */
/* Population set-up                                                   */

/* Kinds whose gen_pop rate is the observed one, not Internet-wide. */
static bool rate_is_observed(uint8_t kind, uint8_t family)
{
	return family == 6 || kind == GEN_K_UDP_NOISE || kind == GEN_K_MISCONFIG ||
	       kind == GEN_K_OUTSIDE || kind == GEN_K_JUNK || kind == GEN_K_VISITOR;
}

/* Kinds that probe the ports of one host in a burst. */
static bool is_burst_kind(uint8_t kind)
{
	return kind == GEN_K_NMAP || kind == GEN_K_SCANNER || kind == GEN_K_SLOW_SCANNER;
}

/* Appends a zeroed source with nothing scheduled; *idx gets its index. */
static int add_source(struct gen_run *r, uint32_t *idx)
{
	if (r->nsrc == r->capsrc) {
		/* Grown by hand: realloc would not keep the 64-byte alignment
		 * the struct's layout is made for. */
		size_t cap = r->capsrc ? r->capsrc * 2 : 1024;
		if (cap > MAX_SOURCES)
			return -ENOMEM;
		struct gen_source *v = aligned_alloc(64, cap * sizeof *v);
		if (!v)
			return -ENOMEM;
		if (r->nsrc)
			memcpy(v, r->src, r->nsrc * sizeof *v);
		free(r->src);
		r->src = v;
		r->capsrc = cap;
	}
	*idx = (uint32_t)r->nsrc++;
	memset(&r->src[*idx], 0, sizeof r->src[*idx]);
	r->src[*idx].victim = UINT32_MAX;
	r->src[*idx].track_bin = -1;
	r->src[*idx].t_probe = NEVER;
	return 0;
}

/* The OS under a generic source: mostly Linux (servers and IoT devices),
 * then Windows, then BSD and macOS. */
static uint8_t pick_stack(struct gen_rng *rng)
{
	double u = gen_rng_unit(rng);
	return u < 0.6 ? GEN_S_LINUX : u < 0.85 ? GEN_S_WINDOWS : GEN_S_BSD;
}

/* Initial windows: Linux 5.x (64240), 3.x-4.x (29200), 2.6 (14600);
 * Windows 10 (64240), 7 (8192), older (65535); BSD and macOS (65535). */
static uint16_t stack_window(struct gen_rng *rng, uint8_t stack)
{
	static const uint16_t linux_w[] = { 64240, 29200, 14600 };
	static const uint16_t win_w[] = { 64240, 8192, 65535 };
	switch (stack) {
	case GEN_S_WINDOWS:
		return win_w[gen_rng_below(rng, 3)];
	case GEN_S_BSD:
		return 65535;
	default:
		return linux_w[gen_rng_below(rng, 3)];
	}
}

/* A source's port table, allocated once when it is created. */
static int alloc_ports(struct gen_source *s, unsigned n)
{
	s->ports = calloc(n ? n : 1, sizeof *s->ports);
	if (!s->ports)
		return -ENOMEM;
	s->nports = (uint8_t)n;
	return 0;
}

/* The address of the next source of population ps. */
static int next_address(struct gen_run *r, struct gen_popstate *ps, unsigned pop_idx,
                        uint8_t family, struct gen_rng *rng, struct kz_addr *out)
{
	uint32_t ord = ps->created;
	if (family == 6) {
		*out = gen_world_source6(r->w, ord % 16,
		                         (uint64_t)(pop_idx & 0xff) << 16 | (ord / 16),
		                         gen_rng_next(rng));
	} else {
		if (ord >= ps->pool_quota)
			return -ENOSPC;
		*out = gen_world_source4(r->w, ps->pool_base + ord);
	}
	ps->created++;
	return 0;
}

/* A Poisson gap in ns. A source too slow to send within any trace gets a
 * gap far past every end time (and still far from int64 overflow). */
static int64_t first_gap(struct gen_source *s)
{
	double g = gen_rng_exp(&s->rng, s->gap_ns);
	return g < 4e18 ? (int64_t)g : INT64_MAX / 4;
}

/* Creates one source of population pop_idx active from t_on (or, when
 * spawned is false, somewhere in the window as its lifetime allows). */
static int create_source(struct gen_run *r, unsigned pop_idx, int64_t t_spawn, bool spawned,
                         uint32_t *out_idx)
{
	struct gen_popstate *ps = &r->pops[pop_idx];
	const struct gen_pop *d = &ps->def;
	struct gen_rng rng = gen_rng_derive(r->seed, pop_idx + 1, ps->created);
	uint8_t family = d->family == 6 ? 6 : 4;
	struct kz_addr addr;
	if (next_address(r, ps, pop_idx, family, &rng, &addr))
		return -ENOSPC;
	uint32_t idx;
	int rc = add_source(r, &idx);
	if (rc)
		return rc;
	struct gen_source *s = &r->src[idx];
	s->kind = (uint8_t)d->kind;
	s->sub = d->sub;
	s->family = family;
	s->pop = (uint16_t)pop_idx;
	s->ordinal = ps->created - 1;
	s->addr = addr;
	s->rng = rng;
	/* 6-20 routers between source and darknet, as on Internet paths; the
	 * stack, window, clocks and ports are drawn for every kind, used by
	 * some, so that the order of draws does not depend on the kind. */
	s->hops = (uint8_t)gen_rng_range(&s->rng, 6, 20);
	s->stack = pick_stack(&s->rng);
	s->window = stack_window(&s->rng, s->stack);
	s->ts_base = gen_rng_u32(&s->rng);
	s->ip_id = gen_rng_u16(&s->rng);
	s->sport = (uint16_t)gen_rng_range(&s->rng, 49152, 65000);
	s->rate = gen_rng_logu(&s->rng, d->rate_min, d->rate_max);
	double lambda =
	        rate_is_observed(s->kind, family) ? s->rate : s->rate * (double)r->w->n4 / TWO32;
	if (is_burst_kind(s->kind)) {
		/* nmap and connect() loops spend their rate on the ports of one
		 * host after another: hosts come at rate / ports. */
		unsigned avg_ports = d->ports_max ? (d->ports_min + d->ports_max) / 2 : 1;
		lambda /= avg_ports ? avg_ports : 1;
	}
	s->gap_ns = lambda > 0 ? 1e9 / lambda : 1e30;

	/* Activity window. Sources present from the start with a finite life
	 * start anywhere from a life before the window to its end (clipped),
	 * so the window opens on a population already in its steady state. */
	double life = d->life_max_s > 0 ? d->life_min_s + gen_rng_unit(&s->rng) *
	                                                          (d->life_max_s - d->life_min_s)
	                                : 0;
	int64_t life_ns = (int64_t)(life * 1e9);
	bool single = s->kind == GEN_K_VISITOR || s->kind == GEN_K_UDP_NOISE;
	if (spawned) {
		s->t_on = t_spawn;
		s->t_off = life_ns ? t_spawn + life_ns : ps->t_to;
	} else if (single) {
		s->t_on = ps->t_from +
		          (int64_t)(gen_rng_unit(&s->rng) * (double)(ps->t_to - ps->t_from));
		s->t_off = ps->t_to;
	} else if (life_ns) {
		int64_t span = ps->t_to - ps->t_from + life_ns;
		int64_t start =
		        ps->t_from - life_ns + (int64_t)(gen_rng_unit(&s->rng) * (double)span);
		s->t_on = start > ps->t_from ? start : ps->t_from;
		s->t_off = start + life_ns;
	} else {
		s->t_on = ps->t_from;
		s->t_off = ps->t_to;
	}
	if (s->t_off > ps->t_to)
		s->t_off = ps->t_to;

	/* Ports and per-kind state. */
	uint16_t menu_pick[64];
	unsigned np = 1;
	if (d->nports) {
		unsigned lo = d->ports_min ? d->ports_min : 1,
		         hi = d->ports_max ? d->ports_max : lo;
		np = gen_rng_range(&s->rng, lo, hi);
		if (np > d->nports)
			np = d->nports;
		if (np > 64)
			np = 64;
		pick_ports(&s->rng, d->ports, d->nports, menu_pick, np);
	} else {
		menu_pick[0] = 80;
	}
	unsigned retry = d->retry_pct && gen_rng_below(&s->rng, 100) < d->retry_pct;
	unsigned pkts =
	        d->pkt_max ? gen_rng_range(&s->rng, d->pkt_min ? d->pkt_min : 1, d->pkt_max) : 0;
	switch (s->kind) {
	case GEN_K_MIRAI:
		if ((rc = alloc_ports(s, 2)))
			return rc;
		port_init(r, s, 0, mirai_ports[0], GEN_IP_TCP);
		port_init(r, s, 1, mirai_ports[1], GEN_IP_TCP);
		s->variant = d->sub;
		s->sport = (uint16_t)gen_rng_range(&s->rng, 1, 65535);
		s->window = mirai_window(&s->rng);
		break;
	case GEN_K_ZMAP:
	case GEN_K_UNICORNSCAN:
	case GEN_K_RAW_SOCKET:
		if ((rc = alloc_ports(s, 1)))
			return rc;
		port_init(r, s, 0, menu_pick[0], GEN_IP_TCP);
		s->seq = gen_rng_u32(&s->rng);
		if (s->kind == GEN_K_UNICORNSCAN) /* three in four run on x86 */
			s->variant = (uint8_t)gen_rng_chance(&s->rng, 0.75);
		if (s->kind == GEN_K_RAW_SOCKET) {
			s->variant = (uint8_t)gen_rng_below(&s->rng, 4);
			s->sport = gen_rng_chance(&s->rng, 0.5)
			                   ? 1234
			                   : (uint16_t)gen_rng_range(&s->rng, 1024, 65535);
		}
		break;
	case GEN_K_MASSCAN:
		if ((rc = alloc_ports(s, np)))
			return rc;
		for (unsigned i = 0; i < np; i++)
			port_init(r, s, i, menu_pick[i], GEN_IP_TCP);
		s->sport = (uint16_t)gen_rng_range(&s->rng, 40000, 59999);
		break;
	case GEN_K_NMAP:
	case GEN_K_SCANNER:
	case GEN_K_SLOW_SCANNER:
		if ((rc = alloc_ports(s, np)))
			return rc;
		for (unsigned i = 0; i < np; i++)
			port_init(r, s, i, menu_pick[i], GEN_IP_TCP);
		perm_init(&s->rng, space(r, s), &s->ha, &s->hb);
		if (s->kind == GEN_K_NMAP) {
			s->hops = (uint8_t)gen_rng_range(&s->rng, 2, 14);
			s->sport = (uint16_t)gen_rng_range(&s->rng, 33000, 65000);
			s->seq = gen_rng_u32(&s->rng);
		}
		if (s->kind == GEN_K_SLOW_SCANNER)
			s->dest_cap = r->min_dests - 1;
		if (retry)
			s->retx_delay =
			        s->stack == GEN_S_WINDOWS && s->kind != GEN_K_NMAP ? 3 * NS : NS;
		break;
	case GEN_K_PING:
		if ((rc = alloc_ports(s, 1)))
			return rc;
		port_init(r, s, 0, family == 6 ? 128 : 8, family == 6 ? GEN_IP_ICMP6 : GEN_IP_ICMP);
		s->sport = gen_rng_u16(&s->rng);
		s->ip_id = 0;
		break;
	case GEN_K_VISITOR:
		if ((rc = alloc_ports(s, 1)))
			return rc;
		port_init(r, s, 0, menu_pick[0], GEN_IP_TCP);
		s->retries_left = (uint8_t)(pkts ? pkts - 1 : gen_rng_below(&s->rng, 3));
		break;
	case GEN_K_UDP_NOISE:
		if ((rc = alloc_ports(s, 1)))
			return rc;
		port_init(r, s, 0, menu_pick[0], GEN_IP_UDP);
		s->stack = gen_rng_chance(&s->rng, 0.8) ? GEN_S_LINUX : GEN_S_WINDOWS;
		s->pkt_cap = pkts ? pkts : 0;
		break;
	case GEN_K_MISCONFIG: {
		uint8_t proto = s->sub == GEN_M_REPEAT_SYN || s->sub == GEN_M_STRAY_ACK
		                        ? GEN_IP_TCP
		                        : GEN_IP_UDP;
		uint16_t port = menu_pick[0];
		s->stack = GEN_S_LINUX;
		if (s->sub == GEN_M_STRAY_ACK || s->sub == GEN_M_FRAGMENTS) {
			/* The dark address is the client side: a high port. */
			s->sport = s->sub == GEN_M_FRAGMENTS ? 53 : menu_pick[0];
			port = (uint16_t)gen_rng_range(&s->rng, 32768, 60999);
		} else if (port == 123) {
			s->sport = 123;
		}
		if ((rc = alloc_ports(s, 1)))
			return rc;
		port_init(r, s, 0, port, proto);
		s->burst_dst = port_next(r, s, 0); /* its one destination */
		s->seq = gen_rng_u32(&s->rng);
		s->ack = gen_rng_u32(&s->rng);
		if (s->sub == GEN_M_FRAGMENTS) {
			s->pending = malloc(GEN_FRAME_MAX);
			if (!s->pending)
				return -ENOMEM;
		}
		break;
	}
	case GEN_K_OUTSIDE:
		if ((rc = alloc_ports(s, np)))
			return rc;
		for (unsigned i = 0; i < np; i++)
			s->ports[i].port = menu_pick[i];
		break;
	case GEN_K_VICTIM: {
		if (r->nvictims == r->capvictims) {
			size_t cap = r->capvictims ? r->capvictims * 2 : 16;
			struct gen_victim *v = reallocarray(r->victims, cap, sizeof *v);
			if (!v)
				return -ENOMEM;
			r->victims = v;
			r->capvictims = cap;
		}
		s->victim = (uint32_t)r->nvictims;
		struct gen_victim *v = &r->victims[r->nvictims++];
		memset(v, 0, sizeof *v);
		v->src = idx;
		v->response = s->sub;
		v->service_port = menu_pick[0];
		v->retransmit = (uint8_t)retry;
		v->attack_pps = s->rate;
		v->attack_from = s->t_on;
		v->attack_to = s->t_off;
		if (s->stack == GEN_S_BSD)
			s->stack = GEN_S_LINUX;
		break;
	}
	default:
		break;
	}
	if (s->kind == GEN_K_VICTIM || retry || s->retx_delay) {
		s->retx = calloc(RETX_CAP, sizeof *s->retx);
		if (!s->retx)
			return -ENOMEM;
		s->retx_cap = RETX_CAP;
	}

	/* The first packet: single-shot kinds send at once, periodic ones at a
	 * random phase of their period, the rest after a Poisson gap. */
	switch (s->kind) {
	case GEN_K_VISITOR:
	case GEN_K_UDP_NOISE:
		s->t_probe = s->t_on;
		break;
	case GEN_K_MISCONFIG:
	case GEN_K_JUNK:
		s->t_probe = s->t_on + (int64_t)fmin(gen_rng_unit(&s->rng) * s->gap_ns, 4e18);
		break;
	default:
		s->t_probe = s->t_on + first_gap(s);
		break;
	}
	if (s->t_probe >= s->t_off)
		s->t_probe = NEVER;

	/* ICMP-error victims get one or two routers that speak for them. */
	if (s->kind == GEN_K_VICTIM && s->sub == GEN_R_ICMP_ERROR) {
		unsigned nr = 1 + (unsigned)gen_rng_below(&r->src[idx].rng, 2);
		for (unsigned i = 0; i < nr; i++) {
			struct kz_addr ra;
			struct gen_rng rr = gen_rng_derive(r->seed, pop_idx + 1, ps->created);
			if (next_address(r, ps, pop_idx, family, &rr, &ra))
				return -ENOSPC;
			uint32_t ridx;
			if ((rc = add_source(r, &ridx)))
				return rc;
			s = &r->src[idx]; /* the array may have moved */
			struct gen_source *rt = &r->src[ridx];
			rt->kind = GEN_K_ROUTER;
			rt->family = family;
			rt->pop = (uint16_t)pop_idx;
			rt->ordinal = ps->created - 1;
			rt->addr = ra;
			rt->rng = rr;
			rt->hops = (uint8_t)gen_rng_range(&rr, 3, 12);
			rt->stack = gen_rng_chance(&rr, 0.7) ? GEN_S_BSD : GEN_S_LINUX;
			rt->variant = (uint8_t)gen_rng_below(&rr, 3);
			rt->victim = s->victim;
			s->routers[i] = ridx;
			s->nrouters = (uint8_t)(i + 1);
		}
	}
	*out_idx = idx;
	return 0;
}

/* The source's next event: a retransmission, the next port of a burst, or
 * a new probe, whichever comes first. */
static int64_t next_time(const struct gen_source *s)
{
	int64_t t = s->t_probe;
	if (s->burst_left && s->t_burst < t)
		t = s->t_burst;
	if (s->retx_len && s->retx[s->retx_head].t < t)
		t = s->retx[s->retx_head].t;
	return t;
}

/* Queues a new source's first event, if it has one before the end. */
static int schedule(struct gen_run *r, uint32_t idx)
{
	int64_t t = next_time(&r->src[idx]);
	if (t >= r->t_end)
		return 0;
	return gen_heap_push(&r->queue, (struct gen_event){ t, idx });
}

int gen_run_init(struct gen_run *r, struct gen_world *w, uint64_t seed, int64_t t0,
                 int64_t duration_ns)
{
	memset(r, 0, sizeof *r);
	r->w = w;
	r->seed = seed;
	r->t0 = t0;
	r->t_end = t0 + duration_ns;
	/* D = max(5, ceil(100 n / 2^24)) (REFERENCE.md, darknet analysis). */
	uint64_t d = (100 * w->n4 + (1u << 24) - 1) >> 24;
	r->min_dests = (unsigned)(d > 5 ? d : 5);
	return 0;
}

/* t0 + frac of dur, rounded to a multiple of unit of the epoch: telescope
 * intervals are aligned to the clock of packet time, not to the trace. */
static int64_t align(int64_t t0, double frac, int64_t dur, int64_t unit)
{
	int64_t t = t0 + (int64_t)llround(frac * (double)dur);
	return (int64_t)llround((double)t / (double)unit) * unit;
}

int gen_run_add(struct gen_run *r, const struct gen_pop *p)
{
	uint8_t family = p->family == 6 ? 6 : 4;
	if ((family == 6 && r->w->ndark6 == 0) || (family == 4 && r->w->ndark4 == 0))
		return -EINVAL;
	if (r->npops == r->cappops) {
		size_t cap = r->cappops ? r->cappops * 2 : 32;
		struct gen_popstate *v = reallocarray(r->pops, cap, sizeof *v);
		if (!v)
			return -ENOMEM;
		r->pops = v;
		r->cappops = cap;
	}
	unsigned pop_idx = (unsigned)r->npops++;
	struct gen_popstate *ps = &r->pops[pop_idx];
	memset(ps, 0, sizeof *ps);
	ps->def = *p;
	if (p->nports) {
		/* Profiles may pass menus on their stack: keep a copy. */
		uint16_t *menu = calloc(p->nports, sizeof *menu);
		if (!menu) {
			r->npops--;
			return -ENOMEM;
		}
		memcpy(menu, p->ports, p->nports * sizeof *menu);
		ps->def.ports = menu;
	}
	int64_t dur = r->t_end - r->t0;
	/* Visitor windows (the surge) start on a minute, so that the surge's
	 * first 60 s interval is unambiguous; the rest on a second. */
	int64_t unit = p->kind == GEN_K_VISITOR ? BIN_NS : NS;
	ps->t_from = align(r->t0, p->from, dur, unit);
	if (p->dur_s > 0)
		ps->t_to = ps->t_from + (int64_t)llround(p->dur_s) * NS;
	else
		ps->t_to = align(r->t0, p->to > 0 ? p->to : 1.0, dur, unit);
	if (ps->t_to > r->t_end)
		ps->t_to = r->t_end;
	ps->rng = gen_rng_derive(r->seed, pop_idx + 1, UINT32_MAX);
	/* Addresses: the initial sources, the expected arrivals with a margin
	 * of five standard deviations, and two routers per victim. */
	double minutes = (double)(ps->t_to - ps->t_from) / (double)BIN_NS;
	double expect = p->arrivals_per_min * minutes;
	uint32_t quota = p->count + (uint32_t)(expect + 5 * sqrt(expect) + 4);
	if (p->kind == GEN_K_VICTIM)
		quota += 2 * p->count;
	if (family == 4) {
		int rc = gen_world_reserve(r->w, quota, &ps->pool_base);
		if (rc)
			return rc; /* the caller explains */
		ps->pool_quota = quota;
	}
	for (unsigned i = 0; i < p->count; i++) {
		uint32_t idx;
		int rc = create_source(r, pop_idx, ps->t_from, false, &idx);
		if (rc)
			return rc;
		if ((rc = schedule(r, idx)))
			return rc;
	}
	if (p->arrivals_per_min > 0 && ps->t_to > ps->t_from) {
		uint32_t idx;
		int rc = add_source(r, &idx);
		if (rc)
			return rc;
		struct gen_source *s = &r->src[idx];
		s->kind = GEN_K_SPAWNER;
		s->pop = (uint16_t)pop_idx;
		s->rng = ps->rng;
		s->gap_ns = 60e9 / p->arrivals_per_min;
		s->t_on = ps->t_from;
		s->t_off = ps->t_to;
		s->t_probe = ps->t_from + first_gap(s);
		if (s->t_probe >= s->t_off)
			s->t_probe = NEVER;
		if ((rc = schedule(r, idx)))
			return rc;
	}
	return 0;
}

int gen_run_track(struct gen_run *r, uint16_t port, uint8_t proto)
{
	r->ntrack = (size_t)((r->t_end - track_origin(r) + BIN_NS - 1) / BIN_NS);
	r->track = calloc(r->ntrack ? r->ntrack : 1, sizeof *r->track);
	if (!r->track)
		return -ENOMEM;
	r->track_port = port;
	r->track_proto = proto;
	return 0;
}

double gen_run_expected_pps(const struct gen_run *r)
{
	double sum = 0;
	for (size_t i = 0; i < r->nsrc; i++) {
		const struct gen_source *s = &r->src[i];
		if (s->kind == GEN_K_SPAWNER || s->kind == GEN_K_ROUTER || s->t_probe == NEVER)
			continue;
		double per = 1;
		if (is_burst_kind(s->kind))
			per = s->nports;
		if (s->retx_delay)
			per *= 2;
		if (s->victim != UINT32_MAX && r->victims[s->victim].retransmit)
			per *= 2;
		sum += per * 1e9 / s->gap_ns;
	}
	return sum;
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */

/* A spawner's event: one source of its population arrives now. A source
 * beyond the population's address quota is counted and left out. */
static int spawn(struct gen_run *r, uint32_t idx, int64_t t)
{
	struct gen_source *s = &r->src[idx];
	unsigned pop = s->pop;
	int64_t next = t + first_gap(s);
	s->t_probe = next < s->t_off ? next : NEVER;
	uint32_t nidx;
	int rc = create_source(r, pop, t, true, &nidx);
	if (rc == -ENOSPC) {
		r->dropped_sources++;
		return 0;
	}
	if (rc)
		return rc;
	return schedule(r, nidx);
}

/* A retransmission: the same packet again, but for the IP ID (and the TCP
 * timestamp) the stack would change. */
static int emit_retx(struct gen_run *r, struct gen_source *s, int64_t t)
{
	struct gen_retx e = s->retx[s->retx_head];
	s->retx_head = (uint16_t)((s->retx_head + 1) % s->retx_cap);
	s->retx_len--;
	struct gen_pkt p;
	int port_idx = e.port_idx == 0xff ? -1 : e.port_idx;
	if (s->kind == GEN_K_VICTIM) {
		build_reply(r, s, &r->victims[s->victim], &p, e.dst, e.dport, e.seq, e.ack);
		int rc = put(r, s, t, &p, -1);
		return rc ? rc : victim_note(r, &r->victims[s->victim], t);
	}
	if (s->kind == GEN_K_NMAP) {
		build_nmap(r, s, &p, e.dst, e.dport);
	} else {
		build_stack_syn(r, s, &p, t, e.dst, e.dport, e.sport, e.seq);
	}
	return put(r, s, t, &p, port_idx);
}

/* The next packet of a burst: a visitor's retransmission, the second
 * fragment, or the next port of the host being probed. */
static int emit_burst(struct gen_run *r, struct gen_source *s, int64_t t)
{
	s->burst_left--;
	s->burst_pos++;
	switch (s->kind) {
	case GEN_K_VISITOR: {
		struct gen_pkt p;
		build_stack_syn(r, s, &p, t, s->burst_dst, s->ports[0].port, s->sport, s->seq);
		/* Exponential back-off: the next retransmission twice as late. */
		s->t_burst = t + (NS << s->burst_pos);
		return put(r, s, t, &p, 0);
	}
	case GEN_K_MISCONFIG:
		s->frags++;
		return put_frame(r, s, t, s->pending, s->pending_len, s->pending_len,
		                 (size_t)s->pending_len - 14, -1, NULL);
	default:
		s->t_burst += (int64_t)gen_rng_range(&s->rng, 1, 20) * MS;
		return burst_send(r, s, t);
	}
}

/* A new probe (or packet) of the source's kind, then the time of the next. */
static int emit_probe(struct gen_run *r, uint32_t idx, int64_t t)
{
	struct gen_source *s = &r->src[idx];
	if (s->kind == GEN_K_SPAWNER)
		return spawn(r, idx, t);
	if (s->burst_left) {
		/* Finish the current host first. */
		s->t_probe = s->t_burst + 1;
		return 0;
	}
	int rc;
	switch (s->kind) {
	case GEN_K_MIRAI:
		rc = probe_mirai(r, s, t);
		break;
	case GEN_K_ZMAP:
		rc = probe_zmap(r, s, t);
		break;
	case GEN_K_MASSCAN:
		rc = probe_masscan(r, s, t);
		break;
	case GEN_K_UNICORNSCAN:
		rc = probe_unicornscan(r, s, t);
		break;
	case GEN_K_NMAP:
	case GEN_K_SCANNER:
	case GEN_K_SLOW_SCANNER:
		rc = probe_burst(r, s, t);
		break;
	case GEN_K_RAW_SOCKET:
		rc = probe_raw(r, s, t);
		break;
	case GEN_K_PING:
		rc = probe_ping(r, s, t);
		break;
	case GEN_K_VISITOR:
		rc = probe_visitor(r, s, t);
		break;
	case GEN_K_UDP_NOISE:
		rc = probe_udp_noise(r, s, t);
		break;
	case GEN_K_MISCONFIG:
		rc = probe_misconfig(r, s, t);
		break;
	case GEN_K_OUTSIDE:
		rc = probe_outside(r, s, t);
		break;
	case GEN_K_VICTIM:
		rc = probe_victim(r, s, t);
		break;
	case GEN_K_JUNK:
		rc = probe_junk(r, s, t);
		break;
	default:
		rc = 0;
		break;
	}
	if (rc)
		return rc;
	/* When does it probe next? */
	if (s->kind == GEN_K_VISITOR || (s->pkt_cap && s->packets >= s->pkt_cap) ||
	    all_ports_done(s)) {
		s->t_probe = NEVER;
		return 0;
	}
	int64_t gap;
	if (s->kind == GEN_K_MISCONFIG) /* periodic, with 10 % jitter */
		gap = (int64_t)fmin(s->gap_ns * (0.9 + 0.2 * gen_rng_unit(&s->rng)), 4e18);
	else
		gap = first_gap(s);
	int64_t next = t + (gap > 0 ? gap : 1);
	s->t_probe = next < s->t_off ? next : NEVER;
	return 0;
}

/* Handles the event of source idx at t: exactly the one next_time named. */
static int emit(struct gen_run *r, uint32_t idx, int64_t t)
{
	struct gen_source *s = &r->src[idx];
	if (s->retx_len && s->retx[s->retx_head].t == t)
		return emit_retx(r, s, t);
	if (s->burst_left && s->t_burst == t)
		return emit_burst(r, s, t);
	if (s->t_probe == t)
		return emit_probe(r, idx, t);
	return 0;
}

int gen_run_loop(struct gen_run *r, struct gen_pcap *out, uint64_t max_packets)
{
	r->out = out;
	for (;;) {
		const struct gen_event *e = gen_heap_top(&r->queue);
		if (!e) {
			if (r->queue.n)
				return -ENOMEM;
			break;
		}
		if (e->t >= r->t_end)
			break;
		uint32_t idx = e->idx;
		int64_t t = e->t;
		gen_heap_pop(&r->queue);
		int rc = emit(r, idx, t);
		if (rc)
			return rc;
		/* The source's next event; a spawn has already queued the new
		 * source, never earlier than t. */
		int64_t nt = next_time(&r->src[idx]);
		if (nt < r->t_end && (rc = gen_heap_push(&r->queue, (struct gen_event){ nt, idx })))
			return rc;
		if (max_packets && r->packets >= max_packets)
			break;
	}
	return 0;
}

void gen_run_free(struct gen_run *r)
{
	for (size_t i = 0; i < r->nsrc; i++) {
		free(r->src[i].ports);
		free(r->src[i].retx);
		free(r->src[i].pending);
	}
	for (size_t i = 0; i < r->nvictims; i++)
		free(r->victims[i].times);
	for (size_t i = 0; i < r->npops; i++)
		free((void *)r->pops[i].def.ports);
	free(r->src);
	free(r->pops);
	free(r->victims);
	free(r->track);
	gen_heap_free(&r->queue);
	memset(r, 0, sizeof *r);
}

/* ------------------------------------------------------------------ */
/* Names                                                               */

const char *gen_kind_name(const struct gen_run *r, const struct gen_source *s)
{
	static const char *const names[GEN_K_COUNT] = {
		[GEN_K_MIRAI] = "mirai",
		[GEN_K_ZMAP] = "zmap",
		[GEN_K_MASSCAN] = "masscan",
		[GEN_K_UNICORNSCAN] = "unicornscan",
		[GEN_K_NMAP] = "nmap",
		[GEN_K_SCANNER] = "scanner",
		[GEN_K_SLOW_SCANNER] = "slow-scanner",
		[GEN_K_RAW_SOCKET] = "raw-socket",
		[GEN_K_PING] = "ping-sweeper",
		[GEN_K_VISITOR] = "port-visitor",
		[GEN_K_UDP_NOISE] = "udp-noise",
		[GEN_K_MISCONFIG] = "misconfig",
		[GEN_K_OUTSIDE] = "outside",
		[GEN_K_VICTIM] = "backscatter-victim",
		[GEN_K_ROUTER] = "icmp-router",
		[GEN_K_JUNK] = "junk",
		[GEN_K_SPAWNER] = "spawner",
	};
	if (s->kind == GEN_K_VISITOR && r->pops[s->pop].def.surge)
		return "surge-visitor";
	return s->kind < GEN_K_COUNT ? names[s->kind] : "?";
}

const char *gen_response_name(uint8_t response)
{
	switch (response) {
	case GEN_R_SYNACK:
		return "syn-ack";
	case GEN_R_RST:
		return "rst";
	case GEN_R_ECHO_REPLY:
		return "echo-reply";
	default:
		return "icmp-error";
	}
}

const char *gen_misconfig_name(uint8_t sub)
{
	switch (sub) {
	case GEN_M_REPEAT_SYN:
		return "repeat-syn";
	case GEN_M_REPEAT_UDP:
		return "repeat-udp";
	case GEN_M_STRAY_ACK:
		return "stray-ack";
	case GEN_M_FRAGMENTS:
		return "fragments";
	default:
		return "vlan";
	}
}

const char *gen_junk_name(unsigned j)
{
	switch (j) {
	case GEN_J_ARP:
		return "arp";
	case GEN_J_TRUNCATED:
		return "truncated";
	case GEN_J_MALFORMED:
		return "malformed-ip";
	default:
		return "runt";
	}
}

const char *gen_stack_name(uint8_t stack)
{
	switch (stack) {
	case GEN_S_WINDOWS:
		return "windows";
	case GEN_S_BSD:
		return "bsd";
	default:
		return "linux";
	}
}
