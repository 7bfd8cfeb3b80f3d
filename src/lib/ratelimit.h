/*
 * An exact packet rate as a schedule, not a bucket that refills: packet k
 * (counting from 0) is due at start + k / rate. Asking how many packets may
 * go now is arithmetic on the clock reading the caller passes in, so the
 * average rate over a run is exact however coarse the caller's wake-ups are,
 * and the arithmetic is tested with an injected clock and no sleeping.
 *
 * Bursts are bounded: when the caller falls more than `burst` packets behind
 * (the process was descheduled, the NIC pushed back), the excess is given
 * up as if sent, so that at most `burst` packets go at once. Time lost that
 * way is lost, not made up at line rate; `slipped` counts it.
 *
 * Times are nanoseconds on one monotonic clock (CLOCK_MONOTONIC in the
 * survey). Plain data, owned by the caller, one thread at a time.
 */
#ifndef KZ_RATELIMIT_H
#define KZ_RATELIMIT_H

#include <stdint.h>

#define KZ_NSEC_PER_SEC UINT64_C(1000000000)

struct kz_ratelimit {
	uint64_t rate;     /* packets per second, at least 1 */
	uint64_t burst;    /* most packets granted by one call, at least 1 */
	uint64_t start_ns; /* when packet 0 is due */
	uint64_t granted;  /* packets granted since start_ns, slipped ones included */
	uint64_t slipped;  /* packets' worth of schedule given up to bound bursts */
};

/* Starts the schedule at now_ns: the first packet is due at once. A rate or
 * burst of 0 is taken as 1. */
void kz_ratelimit_init(struct kz_ratelimit *rl, uint64_t rate, uint64_t burst, uint64_t now_ns);

/* Grants up to `want` packets that are due by now_ns (at most `burst`) and
 * returns how many; they count as sent whether or not the caller sends
 * them all. */
uint64_t kz_ratelimit_take(struct kz_ratelimit *rl, uint64_t now_ns, uint64_t want);

/* Nanoseconds from now_ns until `count` more packets (count >= 1) will be
 * due; 0 when they already are. */
uint64_t kz_ratelimit_wait_ns(const struct kz_ratelimit *rl, uint64_t now_ns, uint64_t count);

/* When the n-th packet from the start (counting from 0) is due, in ns. */
uint64_t kz_ratelimit_due_ns(const struct kz_ratelimit *rl, uint64_t n);

#endif
