/*
 * Address sets: any set of IPv4 and IPv6 addresses, held as a sorted list of
 * disjoint, non-adjacent, inclusive ranges of 128-bit keys (IPv4 keys are
 * IPv4-mapped, see addr.h). The survey's scope, exclude, opt-out and deny
 * lists are sets; so is the final target list, which the sender checks before
 * every packet (kz_ipset_contains) and which the cyclic-group permutation
 * indexes (kz_ipset_nth).
 *
 * Sizes are counted in kz_u128. A set can hold all 2^128 addresses, one more
 * than kz_u128 can count: sizes and counts saturate at KZ_U128_MAX, so
 * KZ_U128_MAX reads "2^128 - 1 or 2^128". Every other size is exact.
 *
 * A set holds at most KZ_IPSET_MAX_RANGES ranges (48 bytes each, so at most
 * 192 MiB); an operation that would need more fails with -E2BIG and leaves
 * its inputs as they were.
 *
 * A set is not locked: any number of threads may read one set at once
 * (contains, nth, size, range, digest), but nothing may read it while it is
 * being changed.
 */
#ifndef KZ_IPSET_H
#define KZ_IPSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define KZ_IPSET_MAX_RANGES (1u << 22) /* 4,194,304 ranges */
#define KZ_IPSET_DIGEST_LEN 32         /* SHA-256 */
#define KZ_U128_MAX         (~(kz_u128)0)
#define KZ_U128_STRLEN      40 /* 39 decimal digits and a NUL */

struct kz_ipset;

/* One range of a set, both ends included. */
struct kz_addr_range {
	struct kz_addr first;
	struct kz_addr last;
};

/* Makes an empty set. Returns 0 or -ENOMEM. */
int kz_ipset_new(struct kz_ipset **out) __attribute__((warn_unused_result));

/* Frees a set; NULL is allowed. */
void kz_ipset_free(struct kz_ipset *s);

/* Makes a copy of s in *out (owned by the caller). Returns 0 or -ENOMEM. */
int kz_ipset_clone(const struct kz_ipset *s, struct kz_ipset **out)
        __attribute__((warn_unused_result));

/* Adds every address from first to last (inclusive), merging with the ranges
 * it overlaps or touches. When overlapped is not NULL it is set to whether
 * any address was already in the set (touching alone is not overlapping).
 * Costs O(log n) to find the place plus the ranges moved after it, so adding
 * in ascending order is O(1) amortised. Returns 0, -EINVAL when first is
 * above last, -E2BIG at the cap, or -ENOMEM; on error s is unchanged. */
int kz_ipset_add_range(struct kz_ipset *s, struct kz_addr first, struct kz_addr last,
                       bool *overlapped) __attribute__((warn_unused_result));

/* Makes a set of the n ranges r[] in any order, overlapping or not, in
 * O(n log n): the way to build a large set from unsorted input. r is
 * borrowed and sorted in place. Returns 0, -EINVAL when a range's first is
 * above its last, -E2BIG or -ENOMEM. */
int kz_ipset_from_ranges(struct kz_addr_range *r, size_t n, struct kz_ipset **out)
        __attribute__((warn_unused_result));

/* kz_ipset_add_range over the addresses a prefix covers. */
int kz_ipset_add_cidr(struct kz_ipset *s, const struct kz_cidr *c, bool *overlapped)
        __attribute__((warn_unused_result));

/* A ∪ B, A − B and A ∩ B as a new set in *out, owned by the caller; a and b
 * are borrowed and unchanged. Each is one O(n + m) merge. Returns 0, -E2BIG
 * or -ENOMEM. */
int kz_ipset_union(const struct kz_ipset *a, const struct kz_ipset *b, struct kz_ipset **out)
        __attribute__((warn_unused_result));
int kz_ipset_difference(const struct kz_ipset *a, const struct kz_ipset *b, struct kz_ipset **out)
        __attribute__((warn_unused_result));
int kz_ipset_intersection(const struct kz_ipset *a, const struct kz_ipset *b, struct kz_ipset **out)
        __attribute__((warn_unused_result));

/* True when the address is in the set: one binary search, no allocation, no
 * locking. This is the check made before every packet the survey sends. */
bool kz_ipset_contains(const struct kz_ipset *s, struct kz_addr a);

/* The number of addresses in the set, saturating at KZ_U128_MAX. O(1). */
kz_u128 kz_ipset_size(const struct kz_ipset *s);

/* True when the set has no address. */
bool kz_ipset_empty(const struct kz_ipset *s);

/* The number of ranges, and range i of them (i below that number) in
 * ascending order. */
size_t kz_ipset_range_count(const struct kz_ipset *s);
struct kz_addr_range kz_ipset_range(const struct kz_ipset *s, size_t i);

/* The i-th address of the set in ascending order, counting from 0, in
 * O(log n) through prefix sums over the ranges' sizes. Returns 0, or -ERANGE
 * when i is not below the set's size (the one address of index 2^128 - 1 in a
 * full set cannot be asked for). */
int kz_ipset_nth(const struct kz_ipset *s, kz_u128 i, struct kz_addr *out)
        __attribute__((warn_unused_result));

/* How many of the addresses from first to last (inclusive) are in the set,
 * saturating at KZ_U128_MAX; 0 when first is above last. O(log n). */
kz_u128 kz_ipset_count_in(const struct kz_ipset *s, struct kz_addr first, struct kz_addr last);

/* The lowest address of the set between first and last (inclusive) into
 * *out. Returns false when there is none. O(log n). */
bool kz_ipset_first_in(const struct kz_ipset *s, struct kz_addr first, struct kz_addr last,
                       struct kz_addr *out);

/* True when both sets hold the same addresses. */
bool kz_ipset_equal(const struct kz_ipset *a, const struct kz_ipset *b);

/* SHA-256 of the canonical range list: for each range in ascending order, its
 * first then its last address as 16 network-order bytes (IPv4 as
 * ::ffff:a.b.c.d). Equal sets have equal digests however they were built; the
 * empty set hashes the empty string. Returns 0 or -ENOMEM. */
int kz_ipset_digest(const struct kz_ipset *s, uint8_t out[KZ_IPSET_DIGEST_LEN])
        __attribute__((warn_unused_result));

/* Writes v in decimal into buf of KZ_U128_STRLEN bytes and returns buf. */
char *kz_u128_format(kz_u128 v, char *buf);

#endif
