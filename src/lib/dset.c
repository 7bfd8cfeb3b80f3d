/*
 * The sketch halves of the tiny distinct counters (see dset.h).
 *
 * kz_dset32's HyperLogLog: register index = the top 6 bits of the hash,
 * rank = 1 + the leading zeros of the other 26 bits (1..26; the low bit is
 * always set, so the rest is never zero). A nibble stores rank - base,
 * capped at 15; invariant: every register's true value is at least base,
 * because base rises only when every nibble is at least 1 (then all drop by
 * one). A rank at or below base therefore changes nothing.
 */
#include "dset.h"

#include <math.h>
#include <string.h>

#define HLL_M     64
#define HLL_ALPHA 0.709 /* Flajolet et al.'s alpha for m = 64 */

static unsigned nibble(const struct kz_dset32 *s, unsigned i)
{
	return (s->r[i >> 1] >> ((i & 1) * 4)) & 15u;
}

static void set_nibble(struct kz_dset32 *s, unsigned i, unsigned v)
{
	unsigned shift = (i & 1) * 4;
	s->r[i >> 1] = (uint8_t)((s->r[i >> 1] & ~(15u << shift)) | (v << shift));
}

/* True when no nibble is zero: then the base can rise. */
static bool all_nonzero(const struct kz_dset32 *s)
{
	for (unsigned i = 0; i < 32; i++) {
		if ((s->r[i] & 0x0f) == 0 || (s->r[i] & 0xf0) == 0)
			return false;
	}
	return true;
}

static void hll_add(struct kz_dset32 *s, uint8_t *base, uint32_t h)
{
	unsigned idx = h >> 26;
	uint32_t rest = h << 6;
	unsigned rank = (unsigned)__builtin_clz(rest) + 1;
	if (rank <= *base)
		return;
	unsigned v = rank - *base;
	if (v > 15)
		v = 15;
	unsigned old = nibble(s, idx);
	if (v <= old)
		return;
	set_nibble(s, idx, v);
	/* Only a register leaving zero can make every register non-zero. */
	if (old == 0 && *base < 26 && all_nonzero(s)) {
		for (unsigned i = 0; i < 32; i++)
			s->r[i] = (uint8_t)(s->r[i] - 0x11);
		(*base)++;
	}
}

void kz_dset32_add_slow(struct kz_dset32 *s, uint8_t *flags, uint8_t big, uint8_t *base, uint32_t h)
{
	if (*flags & big) {
		hll_add(s, base, h);
		return;
	}
	/* The exact form is full (the inline half found no room): convert. */
	uint32_t v[8];
	memcpy(v, s->v, sizeof v);
	memset(s, 0, sizeof *s);
	*base = 0;
	*flags |= big;
	for (unsigned i = 0; i < 8; i++)
		hll_add(s, base, v[i]);
	hll_add(s, base, h);
}

void kz_dset16_add_slow(struct kz_dset16 *s, uint8_t *flags, uint8_t big, uint32_t h)
{
	uint16_t v[8];
	memcpy(v, s->v, sizeof v);
	memset(s, 0, sizeof *s);
	*flags |= big;
	/* The bitmap bit is the hash's top 7 bits, which the 16-bit exact
	 * values kept. */
	for (unsigned i = 0; i < 8; i++)
		kz_dset16_add(s, flags, big, (uint32_t)v[i] << 16);
	kz_dset16_add(s, flags, big, h);
}

double kz_dset32_count(const struct kz_dset32 *s, bool big, uint8_t base)
{
	if (!big) {
		unsigned n = 0;
		while (n < 8 && s->v[n])
			n++;
		return n;
	}
	/* The sum of 2^-v over the registers, in units of 2^-41: a register
	 * holds at most 15 above a base of at most 26, so every term is a
	 * whole number of units and 64 of them stay below 2^47. The integer
	 * sum is exact, and so is its conversion, so the result is the one
	 * adding ldexp(1.0, -v) in doubles gave (those partial sums were
	 * exact too), at a shift and an add per register. */
	uint64_t units = 0;
	unsigned zeros = 0;
	for (unsigned i = 0; i < HLL_M; i++) {
		unsigned v = nibble(s, i) + base;
		zeros += v == 0;
		units += v <= 41 ? UINT64_C(1) << (41 - v) : 0; /* v > 41: never */
	}
	double sum = (double)units * 0x1p-41;
	double e = HLL_ALPHA * HLL_M * HLL_M / sum;
	/* Linear counting over the registers is the better estimate while
	 * some are still empty and the raw estimate is small. */
	if (e <= 2.5 * HLL_M && zeros > 0)
		e = HLL_M * log((double)HLL_M / zeros);
	return e;
}

double kz_dset16_count(const struct kz_dset16 *s, bool big)
{
	if (!big) {
		unsigned n = 0;
		while (n < 8 && s->v[n])
			n++;
		return n;
	}
	unsigned set = 0;
	for (unsigned i = 0; i < 4; i++)
		set += kz_popcount64(s->bits[i]);
	/* A full bitmap says only "at least about 128 ln 128". */
	unsigned zeros = 128 - set;
	return 128.0 * log(128.0 / (zeros ? zeros : 1));
}
