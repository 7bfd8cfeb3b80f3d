/*
 * Tiny distinct-value counters that live inside a per-source entry, where
 * every byte is paid for in cache misses: how many dark addresses a source
 * reached, and how many on one port.
 *
 *  - struct kz_dset32 (32 bytes): exact up to 8 values; then a HyperLogLog
 *    of 64 four-bit registers (standard error 1.04/8 = 13 %) with linear
 *    counting for small counts. The registers hold ranks above a shared
 *    base, which rises when every register is above it (the "offset" trick
 *    of 4-bit HLL implementations), so the range is not cut at 2^15 * 64.
 *  - struct kz_dset16 (16 bytes): exact up to 8 values (kept as the top 16
 *    bits of their hashes: two of 8 values share them with probability
 *    1e-3); then a 128-bit linear-counting bitmap (standard error about 5 %
 *    at 50 values, 7 % at 100; it saturates near 600, far above the scanner
 *    thresholds it serves on darknets up to a /8). Exact to 8 matters: the
 *    scanner threshold is 5 dark addresses on every darknet up to a /18.
 *
 * Values are 32-bit hashes with the low bit set (kz_dset_hash), so an
 * exact slot holding 0 is empty (kz_dset16 sets the low bit of its 16-bit
 * values for the same reason). Which form a set is in is one bit of a
 * flags byte the caller keeps (mask `big`), so the structs are pure payload
 * and pack into the caller's cache lines.
 */
#ifndef KZ_DSET_H
#define KZ_DSET_H

#include <stdbool.h>
#include <stdint.h>

struct kz_dset32 {
	union {
		uint32_t v[8];
		uint8_t r[32]; /* 64 registers, two per byte, low nibble first */
	};
};

struct kz_dset16 {
	union {
		uint16_t v[8];
		uint32_t bits[4]; /* 32-bit words keep the struct 4-byte aligned */
	};
};

/* A well-mixed 32-bit hash of a 32-bit value (the murmur3 finaliser) with
 * the low bit forced to 1. Not keyed: these sets are per source and small,
 * so a chosen collision only lowers that source's own count. */
static inline uint32_t kz_dset_hash(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x | 1u;
}

/* The number of bits set in x. The build targets the x86-64 baseline,
 * which has no popcnt instruction: __builtin_popcountll there is a call to
 * libgcc's table-free loop. This is the usual SWAR sum, a dozen
 * instructions inline. */
static inline unsigned kz_popcount64(uint64_t x)
{
	x -= (x >> 1) & UINT64_C(0x5555555555555555);
	x = (x & UINT64_C(0x3333333333333333)) + ((x >> 2) & UINT64_C(0x3333333333333333));
	x = (x + (x >> 4)) & UINT64_C(0x0f0f0f0f0f0f0f0f);
	return (unsigned)((x * UINT64_C(0x0101010101010101)) >> 56);
}

/* The out-of-line halves: the sketch forms and the conversion. */
void kz_dset32_add_slow(struct kz_dset32 *s, uint8_t *flags, uint8_t big, uint8_t *base,
                        uint32_t h);
void kz_dset16_add_slow(struct kz_dset16 *s, uint8_t *flags, uint8_t big, uint32_t h);

/* Adds hash h (from kz_dset_hash). *flags & big tells whether the set is in
 * its sketch form and is set when it converts; *base is the HLL register
 * base of a kz_dset32 (0 for a new set). Exact sets that already hold h
 * return without a store. */
static inline void kz_dset32_add(struct kz_dset32 *s, uint8_t *flags, uint8_t big, uint8_t *base,
                                 uint32_t h)
{
	if (!(*flags & big)) {
		for (unsigned i = 0; i < 8; i++) {
			if (s->v[i] == h)
				return;
			if (s->v[i] == 0) {
				s->v[i] = h;
				return;
			}
		}
	} else {
		/* Most adds to a large set change no register (dset.c has the
		 * rank and register layout): settle those here. */
		unsigned rank = (unsigned)__builtin_clz(h << 6) + 1, idx = h >> 26;
		if (rank <= *base)
			return;
		unsigned v = rank - *base, old = (s->r[idx >> 1] >> ((idx & 1) * 4)) & 15u;
		if (v <= old || old == 15)
			return;
	}
	kz_dset32_add_slow(s, flags, big, base, h);
}

static inline void kz_dset16_add(struct kz_dset16 *s, uint8_t *flags, uint8_t big, uint32_t h)
{
	if (!(*flags & big)) {
		uint16_t v = (uint16_t)(h >> 16) | 1u;
		for (unsigned i = 0; i < 8; i++) {
			if (s->v[i] == v)
				return;
			if (s->v[i] == 0) {
				s->v[i] = v;
				return;
			}
		}
	} else {
		unsigned b = h >> 25;
		s->bits[b >> 5] |= UINT32_C(1) << (b & 31);
		return;
	}
	kz_dset16_add_slow(s, flags, big, h);
}

/* The estimated number of distinct values added. */
double kz_dset32_count(const struct kz_dset32 *s, bool big, uint8_t base);
double kz_dset16_count(const struct kz_dset16 *s, bool big);

#endif
