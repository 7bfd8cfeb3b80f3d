/*
 * The address plan of a generated trace: the darknet, where sources come
 * from, and which AS each source belongs to.
 *
 * Only documentation and benchmarking space is ever used, even though the
 * trace is only written to disk: the darknet must lie in 198.18.0.0/15, a
 * TEST-NET (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), 2001:db8::/32 or
 * 2001:2::/48; IPv4 sources are drawn from the rest of those ranges; IPv6
 * sources from 2001:db8::/36 (or 2001:2::/48 when the darknet is there).
 *
 * Source addresses are handed out without repetition and without the
 * populations depending on each other: each population reserves a block of
 * indices, and index i maps to the pool address at position P(i) of a keyed
 * permutation P of the pool (a Feistel network with cycle walking). So two
 * sources never share an address, addresses look random, and one population's
 * addresses do not change when another population is added or removed.
 *
 * Attribution (the demo's pfx2as): 198.19.0.0/16 is cut into sixteen /20s,
 * the i-th announced by AS64496 + i; 198.19.255.0/24 is also announced by the
 * multi-origin set 64510_64511 (a more specific prefix, so its addresses have
 * two origins); the IPv6 source region is cut into sixteen equal prefixes in
 * the same order. Addresses elsewhere (the TEST-NETs, 198.18.0.0/16) have no
 * origin, as unannounced space has none.
 */
#ifndef GEN_WORLD_H
#define GEN_WORLD_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"

#define GEN_MAX_DARK 8
#define GEN_MAX_POOL 16
#define GEN_AS_FIRST 64496u
#define GEN_AS_COUNT 16u

struct gen_range4 {
	uint32_t first;
	uint32_t size;
};

struct gen_world {
	struct kz_cidr dark[GEN_MAX_DARK]; /* as given, in order */
	unsigned ndark;
	struct gen_range4 dark4[GEN_MAX_DARK];
	unsigned ndark4;
	uint64_t n4; /* IPv4 dark addresses: the n of REFERENCE.md's formulas */
	struct kz_cidr dark6[GEN_MAX_DARK];
	unsigned dark6_bits[GEN_MAX_DARK]; /* index bits used in each IPv6 prefix */
	unsigned ndark6;
	uint64_t n6; /* size of the IPv6 target index space */

	struct gen_range4 pool[GEN_MAX_POOL]; /* IPv4 source space */
	unsigned npool;
	uint32_t pool_size;
	uint32_t pool_reserved;
	unsigned perm_bits;
	uint64_t perm_key;

	struct kz_cidr v6src; /* IPv6 source region */
	unsigned v6_as_len;   /* prefix length of each AS's share */
};

/* Sets up the plan for a comma-separated darknet list. as_space_only keeps
 * IPv4 sources inside 198.19.0.0/16 (every source attributable). On error
 * returns -EINVAL and writes the reason, naming the fault, into why. */
int gen_world_init(struct gen_world *w, const char *darknets, bool as_space_only, uint64_t seed,
                   char *why, size_t whylen) __attribute__((warn_unused_result));

/* The idx-th IPv4 dark address, idx < n4. */
struct kz_addr gen_world_dark4(const struct gen_world *w, uint64_t idx);

/* The idx-th IPv6 target, idx < n6: a low-numbered interface id in one of the
 * prefix's subnets, the way IPv6 scanners guess live addresses. */
struct kz_addr gen_world_dark6(const struct gen_world *w, uint64_t idx);

/* True when a is inside one of the darknet prefixes. */
bool gen_world_is_dark(const struct gen_world *w, struct kz_addr a);

/* Reserves count consecutive source indices for one population; *base gets
 * the first. Returns 0, or -ENOSPC when the pool is too small. */
int gen_world_reserve(struct gen_world *w, uint32_t count, uint32_t *base)
        __attribute__((warn_unused_result));

/* The IPv4 source address of reserved index i. */
struct kz_addr gen_world_source4(const struct gen_world *w, uint32_t i);

/* An IPv4 address of the pool chosen by a random 64-bit value: used as a
 * destination outside the darknet. */
struct kz_addr gen_world_pool_any(const struct gen_world *w, uint64_t r);

/* An IPv6 source in AS share as_idx (0..15); ordinal keeps addresses of one
 * population apart, iid is the interface id. */
struct kz_addr gen_world_source6(const struct gen_world *w, unsigned as_idx, uint64_t ordinal,
                                 uint64_t iid);

/* The origin ASes of a, longest match first; returns how many (0..2). */
unsigned gen_world_asn(const struct gen_world *w, struct kz_addr a, uint32_t asn[2]);

/* Writes the prefix-to-AS table in CAIDA's format. Returns 0 or a negative
 * errno (logged). */
int gen_world_write_pfx2as(const struct gen_world *w, const char *path)
        __attribute__((warn_unused_result));

#endif
