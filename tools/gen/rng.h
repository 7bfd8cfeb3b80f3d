/*
 * The generator's random numbers: splitmix64, one 64-bit state per stream.
 *
 * Every population and every source owns its own stream, derived from the
 * run's seed and the stream's identity (population index, source ordinal),
 * never from the order in which the scheduler happens to interleave them. So
 * a trace is a pure function of (seed, profile, options), and removing one
 * population (the surge, say) leaves every other source's packets unchanged.
 * splitmix64 passes BigCrush, costs a few cycles, and its state fits in the
 * per-source struct; cryptographic quality is not needed here.
 */
#ifndef GEN_RNG_H
#define GEN_RNG_H

#include <math.h>
#include <stdint.h>

#include "addr.h"

struct gen_rng {
	uint64_t s;
};

static inline uint64_t gen_rng_next(struct gen_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A stream for (seed, a, b): the three are mixed so that neighbouring ids
 * give unrelated sequences. */
static inline struct gen_rng gen_rng_derive(uint64_t seed, uint64_t a, uint64_t b)
{
	struct gen_rng r = { seed ^ 0x6a09e667f3bcc908ULL };
	r.s = gen_rng_next(&r) ^ (a * 0xd1b54a32d192ed03ULL);
	r.s = gen_rng_next(&r) ^ (b * 0x8cb92ba72f3d8dd7ULL);
	(void)gen_rng_next(&r);
	return r;
}

static inline uint32_t gen_rng_u32(struct gen_rng *r)
{
	return (uint32_t)(gen_rng_next(r) >> 32);
}

static inline uint16_t gen_rng_u16(struct gen_rng *r)
{
	return (uint16_t)(gen_rng_next(r) >> 48);
}

/* Uniform in [0, n) by the multiply-shift method; the bias is below 2^-32
 * for every n this program uses. n must not be 0. */
static inline uint64_t gen_rng_below(struct gen_rng *r, uint64_t n)
{
	return (uint64_t)(((kz_u128)gen_rng_next(r) * n) >> 64);
}

/* Uniform integer in [lo, hi]. */
static inline uint32_t gen_rng_range(struct gen_rng *r, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)gen_rng_below(r, (uint64_t)hi - lo + 1);
}

/* Uniform in [0, 1). */
static inline double gen_rng_unit(struct gen_rng *r)
{
	return (double)(gen_rng_next(r) >> 11) * 0x1.0p-53;
}

/* True with probability p. */
static inline int gen_rng_chance(struct gen_rng *r, double p)
{
	return gen_rng_unit(r) < p;
}

/* Exponentially distributed with the given mean: the gap between two events
 * of a Poisson process. 1 - u is in (0, 1], so the logarithm is finite. */
static inline double gen_rng_exp(struct gen_rng *r, double mean)
{
	return -log(1.0 - gen_rng_unit(r)) * mean;
}

/* Log-uniform in [lo, hi]: rates of scanners span orders of magnitude, and
 * each decade is about as common as the next. */
static inline double gen_rng_logu(struct gen_rng *r, double lo, double hi)
{
	if (hi <= lo)
		return lo;
	return lo * exp(gen_rng_unit(r) * log(hi / lo));
}

#endif
