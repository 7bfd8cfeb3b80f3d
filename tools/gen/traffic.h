/*
 * Traffic sources and the scheduler that merges them into one trace.
 *
 * A profile is a list of populations (struct gen_pop): "50 Mirai bots for the
 * whole trace", "new port visitors arriving at 10 a minute", "one SYN-flood
 * victim from 40 % to 50 % of the trace". Each population creates sources
 * (struct gen_source); each source knows how its tool or stack builds a
 * packet and when it sends the next one. The scheduler keeps one heap entry
 * per live source and repeatedly emits the earliest packet, so the trace is
 * written in time order without ever holding it in memory.
 *
 * Rates. A source that scans the IPv4 Internet at r packets per second hits
 * a darknet of n addresses at r·n/2^32 per second; that is the rate of its
 * Poisson process here, and gen_pop.rate_* is r. IPv6 scanners cannot sweep
 * their space, so for IPv6 sources the rate is the observed one. Targets are
 * taken from a per-port permutation of the dark addresses (a ZMap- or
 * masscan-style sweep never repeats a target), so the distinct destinations
 * per port are counted exactly.
 *
 * Counting. Every frame written is counted against exactly one truth entity
 * while it is written: the source whose address it carries, or a junk
 * counter (ARP, runts, truncated and malformed frames). Backscatter is also
 * counted against its victim. The truth file is made from these counters and
 * from what each population was told to be, never by re-reading the trace.
 */
#ifndef GEN_TRAFFIC_H
#define GEN_TRAFFIC_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "frame.h"
#include "heap.h"
#include "rng.h"
#include "world.h"

struct gen_pcap;

enum gen_kind {
	GEN_K_MIRAI,
	GEN_K_ZMAP,
	GEN_K_MASSCAN,
	GEN_K_UNICORNSCAN,
	GEN_K_NMAP,
	GEN_K_SCANNER,      /* generic scanner on an OS stack, above the threshold */
	GEN_K_SLOW_SCANNER, /* the same, kept below D dark addresses */
	GEN_K_RAW_SOCKET,   /* hand-written raw-socket code, IP ID 54321 */
	GEN_K_PING,         /* ICMP echo sweeper */
	GEN_K_VISITOR,      /* one connection attempt to one port (background, surge) */
	GEN_K_UDP_NOISE,
	GEN_K_MISCONFIG,
	GEN_K_OUTSIDE, /* sends only to addresses outside the darknet */
	GEN_K_VICTIM,  /* a DoS victim: its replies to spoofed sources */
	GEN_K_ROUTER,  /* sends ICMP errors about packets to a victim */
	GEN_K_JUNK,    /* frames that are not IP or not decodable */
	GEN_K_SPAWNER, /* creates the sources of a population as they arrive */
	GEN_K_COUNT
};

/* Victims: what the victim (or a router in front of it) sends back. */
enum gen_response {
	GEN_R_SYNACK,
	GEN_R_RST,
	GEN_R_ECHO_REPLY,
	GEN_R_ICMP_ERROR,
};

enum gen_misconfig {
	GEN_M_REPEAT_SYN, /* a client retrying a dead server */
	GEN_M_REPEAT_UDP, /* NTP / syslog / DNS pointed at a dark address */
	GEN_M_STRAY_ACK,  /* ACKs and FINs of a connection that never was */
	GEN_M_FRAGMENTS,  /* fragmented UDP datagrams */
	GEN_M_VLAN,       /* 802.1Q-tagged frames */
};

enum gen_junk {
	GEN_J_ARP,
	GEN_J_TRUNCATED, /* cut by the snapshot length inside the IP header */
	GEN_J_MALFORMED, /* IPv4 with a header length below 20 bytes */
	GEN_J_RUNT,      /* shorter than an Ethernet header */
	GEN_J_COUNT
};

enum gen_stack {
	GEN_S_LINUX,
	GEN_S_WINDOWS,
	GEN_S_BSD,
};

/* One population of a profile. Unset fields mean: IPv4, the whole trace,
 * sources live as long as the window, no ports beyond the kind's own. */
struct gen_pop {
	enum gen_kind kind;
	uint8_t family;                /* 4 or 6; 0 means 4 */
	uint8_t sub;                   /* enum gen_response / gen_misconfig / gen_junk */
	bool surge;                    /* these sources are the port surge */
	unsigned count;                /* sources present when the window opens */
	double arrivals_per_min;       /* further sources arriving during the window */
	double from, to;               /* window, fractions of the duration; to == 0 means 1 */
	double dur_s;                  /* when > 0, the window ends dur_s after from instead */
	double life_min_s, life_max_s; /* a source's active time; 0: the window */
	double rate_min, rate_max;     /* pps: see the file comment; periodic kinds:
	                                  packets per second */
	const uint16_t *ports;         /* destination port menu (copied) */
	unsigned nports;
	unsigned ports_min, ports_max; /* ports per source; 0: 1 */
	unsigned retry_pct;            /* sources that retransmit each probe once */
	unsigned pkt_min, pkt_max;     /* packets per source; 0: no limit */
};

struct gen_port {
	uint16_t port;
	uint8_t proto;
	uint8_t done;  /* no further first probes on this port */
	uint64_t a, b; /* the k-th target is (a·k + b) mod n */
	uint64_t k;    /* first probes sent (targets reached) */
	uint64_t packets;
};

struct gen_retx {
	int64_t t;
	uint64_t dst;
	uint32_t seq, ack;
	uint16_t sport, dport;
	uint8_t port_idx;
};

/* The fields every event reads come first, in one 64-byte line, and those
 * every packet reads in the next: at tens of millions of packets the
 * scheduler waits on memory more than it computes. */
struct gen_source {
	/* line 0: scheduling and counters */
	int64_t t_probe; /* next new probe; INT64_MAX when none */
	int64_t t_burst; /* next packet of the current burst */
	double gap_ns;   /* mean gap between new probes */
	struct gen_rng rng;
	uint64_t packets, bytes;
	int64_t last;
	uint16_t burst_left, retx_len;
	uint8_t kind, family, hops, nports;
	/* line 1: what a packet is made of */
	struct kz_addr addr;
	struct gen_port *ports;
	int64_t t_off;
	uint32_t seq;    /* fixed sequence number (nmap) or scan key (unicornscan) */
	uint16_t sport;  /* fixed source port where the tool has one */
	uint16_t window; /* fixed window where the tool has one */
	uint16_t ip_id;  /* counter for stacks that increment it */
	uint16_t retx_head, retx_cap;
	uint8_t sub, stack, variant, retries_left;
	struct gen_retx *retx;
	/* the rest */
	int64_t first;
	int64_t t_on;
	int64_t track_bin;
	int64_t retx_delay;
	uint16_t burst_pos, burst_start;
	uint16_t pop;
	uint16_t pending_len;
	uint32_t ack;
	uint32_t ordinal;
	uint32_t ts_base;  /* TCP timestamp clock at t_on */
	uint32_t pkt_cap;  /* 0: none */
	uint32_t dest_cap; /* per port; 0: none */
	double rate;       /* the intended rate, as in gen_pop */
	uint64_t burst_dst;
	uint64_t ha, hb, hk; /* host permutation of the kinds that probe several
	                        ports per host: hk hosts chosen so far */
	uint8_t *pending;    /* a frame to send later (the second fragment) */
	uint64_t frags;
	uint32_t victim;     /* index in gen_run.victims, or UINT32_MAX */
	uint32_t routers[2]; /* ICMP-error victims: the routers' source indices */
	uint8_t nrouters;
} __attribute__((aligned(64)));

struct gen_victim {
	uint32_t src; /* the victim's own source entry */
	uint8_t response;
	uint16_t service_port;
	uint8_t retransmit;
	double attack_pps;
	int64_t attack_from, attack_to;
	uint64_t packets;
	int64_t first, last;
	int64_t *times; /* every backscatter packet's time, for the peak windows */
	size_t ntimes, cap;
};

struct gen_popstate {
	struct gen_pop def; /* def.ports points to the run's own copy */
	int64_t t_from, t_to;
	uint32_t pool_base, pool_quota, created;
	struct gen_rng rng;
};

struct gen_run {
	struct gen_world *w;
	uint64_t seed;
	int64_t t0, t_end;
	unsigned min_dests; /* D of REFERENCE.md for this darknet */
	uint64_t packets, bytes, junk[GEN_J_COUNT];
	uint64_t dropped_sources; /* arrivals beyond a population's address quota */
	struct gen_heap queue;    /* one event per live source */
	struct gen_source *src;
	size_t nsrc, capsrc;
	struct gen_popstate *pops;
	size_t npops, cappops;
	struct gen_victim *victims;
	size_t nvictims, capvictims;
	/* Unique sources per 60 s bin on one port (the surge port). */
	uint16_t track_port;
	uint8_t track_proto;
	uint32_t *track;
	size_t ntrack;
	struct gen_pcap *out;
	uint8_t frame[GEN_FRAME_MAX];
	uint8_t scratch[GEN_FRAME_MAX];
};

/* Sets up an empty run over [t0, t0 + duration_ns). */
int gen_run_init(struct gen_run *r, struct gen_world *w, uint64_t seed, int64_t t0,
                 int64_t duration_ns) __attribute__((warn_unused_result));

/* Adds a population and creates its initial sources. Returns 0, -EINVAL for a
 * population this darknet cannot host (skipped silently: an IPv6 population
 * without an IPv6 darknet), or another negative errno. */
int gen_run_add(struct gen_run *r, const struct gen_pop *p) __attribute__((warn_unused_result));

/* Counts unique sources per 60 s bin on this port and protocol. */
int gen_run_track(struct gen_run *r, uint16_t port, uint8_t proto)
        __attribute__((warn_unused_result));

/* The packets per second the sources created so far will send on average:
 * what a profile needs to size its duration for a packet count. */
double gen_run_expected_pps(const struct gen_run *r);

/* Emits the trace into out until the end time or max_packets (0: no cap).
 * Returns 0 or a negative errno. */
int gen_run_loop(struct gen_run *r, struct gen_pcap *out, uint64_t max_packets)
        __attribute__((warn_unused_result));

void gen_run_free(struct gen_run *r);

/* Names used in the truth file. */
const char *gen_kind_name(const struct gen_run *r, const struct gen_source *s);
const char *gen_response_name(uint8_t response);
const char *gen_misconfig_name(uint8_t sub);
const char *gen_junk_name(unsigned j);
const char *gen_stack_name(uint8_t stack);

/* The number of distinct targets port p of s reached. */
uint64_t gen_port_dests(const struct gen_run *r, const struct gen_source *s,
                        const struct gen_port *p);

#endif
