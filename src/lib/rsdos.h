/*
 * Randomly-spoofed denial-of-service attacks seen through their backscatter
 * (Moore et al., "Inferring Internet Denial-of-Service Activity", 2006),
 * with the thresholds of CAIDA corsaro's dos plugin applied to observed
 * packets, unscaled (REFERENCE.md):
 *
 *  - an attack vector is keyed by victim address and protocol (the protocol
 *    of the backscatter: TCP SYN-ACKs and RSTs, ICMP replies and errors);
 *  - it is an attack once it has at least 25 packets, lasts at least 60 s
 *    (first to last packet) and its peak rate is at least 30 packets in a
 *    60 s window; the windows start at the vector's first packet plus a
 *    multiple of 10 s (six 10 s buckets, sliding one bucket at a time, as
 *    corsaro's ppm window does), and max_ppm is the largest such window;
 *  - it ends after 300 s without a packet: corsaro's vector timeout, which
 *    is also Moore et al.'s flow timeout. A victim hit again after that is
 *    a new attack (its finding, keyed by the victim, simply gets a new
 *    observation);
 *  - attackers are counted as distinct /16s of the spoofed addresses the
 *    backscatter reached (for IPv6 darknets, /64s folded to 16 bits), exact
 *    up to 4 and then estimated from a 64-bit bitmap.
 *
 * The Internet-wide attack rate is estimated as max_ppm / 60 * 2^32 / n for
 * a darknet of n IPv4 addresses; the probability of seeing an attack of k
 * spoofed packets at all is 1 - (1 - n/2^32)^k, which is why a small darknet
 * sees only large attacks.
 *
 * Memory is a fixed pool of vectors allocated once; when it is full, a new
 * vector takes the slot of an ended one or, failing that, of the
 * least recently active among a few candidates, and that eviction is
 * counted.
 */
#ifndef KZ_RSDOS_H
#define KZ_RSDOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "classify.h"

#define KZ_RSDOS_MIN_PACKETS    25
#define KZ_RSDOS_MIN_DURATION_S 60
#define KZ_RSDOS_MIN_PPM        30
#define KZ_RSDOS_WINDOW_S       60
#define KZ_RSDOS_BUCKET_S       10
#define KZ_RSDOS_BUCKETS        (KZ_RSDOS_WINDOW_S / KZ_RSDOS_BUCKET_S)
#define KZ_RSDOS_TIMEOUT_S      300

/* One attack vector (victim, protocol); 128 bytes. Times in ns of packet
 * time. */
struct kz_rsdos_attack {
	struct kz_addr victim;
	uint64_t first_ns, last_ns;
	uint64_t packets;
	uint64_t bytes;
	uint32_t buckets[KZ_RSDOS_BUCKETS]; /* ring: bucket b lives at b % 6 */
	uint32_t cur;                       /* the newest bucket's number since first_ns */
	uint32_t sum;                       /* packets in buckets cur-5 .. cur */
	uint32_t max_ppm;                   /* the largest window seen */
	uint32_t iv_stamp;                  /* interval number + 1 of its last packet */
	uint32_t iv_packets;                /* packets in that interval */
	uint16_t att[4];                    /* spoofed /16s, exact */
	uint8_t natt;                       /* entries in att */
	uint8_t proto;                      /* enum kz_tproto of the backscatter */
	uint8_t reported;                   /* an event was written for this attack */
	uint8_t att_big;                    /* more than 4 /16s: see att_bits */
	uint64_t att_bits;
	uint32_t attacks; /* attacks on this vector so far (restarts after the timeout) */
	uint32_t pad[3];
} __attribute__((aligned(64)));

struct kz_rsdos_stats {
	uint64_t vectors;   /* vectors started (new, or restarted after the timeout) */
	uint64_t evictions; /* vectors dropped while active to make room */
	uint64_t reused;    /* slots of ended vectors reused */
	uint64_t unlisted;  /* active vectors left out of an interval's flush (churn) */
	uint32_t used, capacity;
};

struct kz_rsdos;

/* Makes a tracker with room for capacity vectors (>= 1), allocated now.
 * Returns 0, -EINVAL or -ENOMEM. */
int kz_rsdos_new(uint32_t capacity, struct kz_rsdos **out) __attribute__((warn_unused_result));

void kz_rsdos_free(struct kz_rsdos *r);

/* Adds one backscatter packet (p->cls == KZ_TCLASS_BACKSCATTER) in the
 * interval stamped iv_stamp (interval number + 1). */
void kz_rsdos_packet(struct kz_rsdos *r, const struct kz_tpkt *p, uint32_t iv_stamp);

/* True when the vector meets all three thresholds. */
bool kz_rsdos_is_attack(const struct kz_rsdos_attack *a);

/* Adds one packet at t_ns to a vector's window arithmetic (for tests and
 * for kz_rsdos_packet): the count, the buckets and max_ppm. */
void kz_rsdos_window_add(struct kz_rsdos_attack *a, uint64_t t_ns);

/* Calls fn on every vector with packets in the interval stamped iv_stamp,
 * then forgets which vectors were active (for the next interval). */
void kz_rsdos_flush(struct kz_rsdos *r, uint32_t iv_stamp,
                    void (*fn)(void *user, struct kz_rsdos_attack *a), void *user);

/* Distinct spoofed /16s of a vector (estimated past 4). */
double kz_rsdos_attackers(const struct kz_rsdos_attack *a);

void kz_rsdos_stats(const struct kz_rsdos *r, struct kz_rsdos_stats *st);

size_t kz_rsdos_memory(const struct kz_rsdos *r);

#endif
