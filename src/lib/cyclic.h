/*
 * The order in which the survey visits its targets: a pseudo-random
 * permutation of 0..n-1 from a multiplicative cyclic group, as ZMap does
 * (Durumeric et al., "ZMap: Fast Internet-wide scanning", 2013).
 *
 * Let p be the smallest prime above n. The group (Z/pZ)* = {1..p-1} is
 * cyclic; for a primitive root g and a start element s, the sequence
 * s, s*g, s*g^2, ..., s*g^(p-2) (mod p) visits every element of {1..p-1}
 * exactly once. Element v stands for target v - 1; the p - 1 - n elements
 * above n are skipped (few: prime gaps are small). No state per target is
 * kept, so the order costs 64 bytes whatever n is.
 *
 * Shards are disjoint ranges of exponents: shard i of k owns the exponents
 * floor(i(p-1)/k) .. floor((i+1)(p-1)/k) - 1. With one seed every shard
 * derives the same p, g and s, so the shards partition the targets: each
 * target is visited by exactly one shard, once.
 *
 * Version "cyclic-v1" fixes how the seed becomes (g, s), so that machines
 * running the same version agree on a shared seed (docs/survey.md):
 *   key   = SipHash key of the 16 bytes: seed (8 bytes, little-endian) then
 *           the ASCII "cyclicv1";
 *   g     = the first candidate 2 + (SipHash(key, [1, j]) mod (p - 2)),
 *           j = 0, 1, 2, ..., that is a primitive root mod p (g^((p-1)/q)
 *           != 1 for every prime q dividing p - 1); g = 1 when p = 2;
 *   s     = 1 + (SipHash(key, [2, 0]) mod (p - 1)),
 * where [a, b] is the 16-byte message of two little-endian 64-bit words.
 * Any change to this recipe is a new version.
 *
 * n may be anything from 1 to KZ_CYCLIC_MAX_N (2^62: all of IPv4 times a
 * million ports, or an IPv6 scope far larger than anyone can probe), so all
 * arithmetic is modulo a 64-bit prime with 128-bit products.
 */
#ifndef KZ_CYCLIC_H
#define KZ_CYCLIC_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h" /* kz_u128 */

#define KZ_CYCLIC_VERSION "cyclic-v1"
#define KZ_CYCLIC_MAX_N   (UINT64_C(1) << 62)

/* A permutation: plain data, owned by the caller, read-only once made. */
struct kz_cyclic {
	uint64_t n;     /* targets 0..n-1 */
	uint64_t p;     /* the smallest prime above n */
	uint64_t g;     /* a primitive root modulo p */
	uint64_t start; /* the element at exponent 0, in 1..p-1 */
};

/* One shard's walk through the permutation. Plain data the caller owns; one
 * thread at a time. */
struct kz_cyclic_iter {
	uint64_t n, p, g;
	uint64_t cur;  /* the element at the next exponent */
	uint64_t left; /* exponents of this shard not yet walked */
};

/* Derives the permutation of 0..n-1 for a seed (the recipe above). Returns
 * 0, or -ERANGE when n is 0 or above KZ_CYCLIC_MAX_N. */
int kz_cyclic_init(struct kz_cyclic *c, uint64_t n, uint64_t seed)
        __attribute__((warn_unused_result));

/* Starts shard `shard` of `shards` (0 <= shard < shards): it walks its range
 * of exponents. Returns 0, or -EINVAL for a shard outside the count. */
int kz_cyclic_shard(const struct kz_cyclic *c, uint64_t shard, uint64_t shards,
                    struct kz_cyclic_iter *it) __attribute__((warn_unused_result));

/* The shard's next target into *target; false when the shard is done. */
static inline bool kz_cyclic_next(struct kz_cyclic_iter *it, uint64_t *target)
{
	while (it->left) {
		uint64_t v = it->cur;
		it->cur = (uint64_t)(((kz_u128)v * it->g) % it->p);
		it->left--;
		/* Elements above n stand for no target: skip them. */
		if (v <= it->n) {
			*target = v - 1;
			return true;
		}
	}
	return false;
}

/* How many targets a shard holds, estimated from its share of the
 * exponents (exact for a single shard; within the few skipped elements
 * otherwise). For the run header and the ETA. */
uint64_t kz_cyclic_shard_estimate(const struct kz_cyclic *c, uint64_t shard, uint64_t shards);

/* Number theory the permutation rests on, exported for the tests:
 * deterministic Miller-Rabin for any 64-bit n, the smallest prime above n
 * (0 when none fits in 64 bits), and whether g generates (Z/pZ)*. */
bool kz_cyclic_is_prime(uint64_t n);
uint64_t kz_cyclic_next_prime(uint64_t n);
bool kz_cyclic_is_primitive_root(uint64_t g, uint64_t p);

#endif
