/*
 * A mergeable HyperLogLog sketch of distinct 64-bit hashes: unique sources
 * per port per interval in the telescope, merged by the hub into its
 * 5-minute, 1-hour and 1-day rollups. docs/hll.md is the wire format.
 *
 * Precision p (register index bits, 4..18; m = 2^p registers). kizuki uses
 * p = 14: a standard error of 1.04/sqrt(16384) = 0.81 % once dense, in
 * 12 KiB serialised and 16 KiB of memory. p = 12 would take a quarter of
 * that but double the error to 1.6 %: a port-surge alert (3x the baseline)
 * would not mind, a daily ranking of ports whose counts differ by a few per
 * cent would. p = 16 would put 64 KiB of base64 in one stats JSON line for
 * every busy port. Only dense sketches pay these sizes (see below).
 *
 * Two forms, as in HyperLogLog++ (Heule, Nunkesser and Hall, 2013):
 *  - sparse (small cardinalities): a sorted list of (25-bit hash prefix,
 *    rank) pairs. Counting is linear counting over 2^25 buckets, so a few
 *    thousand sources are counted almost exactly. Most ports see a handful
 *    of sources a minute and a telescope keeps thousands of sketches at
 *    once, so these sketches stay tens of bytes. Up to 5 sources the
 *    count is exact, unless two share a 25-bit hash prefix (probability
 *    n(n-1)/2^26, 3e-7 for 5): then it is one less.
 *  - dense: m registers of the maximum rank, counted with Ertl's improved
 *    raw estimator ("New cardinality estimation algorithms for HyperLogLog
 *    sketches", 2017), which needs no bias table or range switch.
 * A sketch turns dense once its sparse encoding would be longer than the
 * dense one or it holds more than m/4 entries (its memory would exceed the
 * dense form's). Both limits only grow with the set of entries, so whether
 * a sketch is dense depends only on what was added, not on the order nor on
 * merges: merging sketches gives exactly the sketch of the union.
 *
 * A sketch is plain data with no locking: one writer at a time.
 *
 * Hashes of addresses are a fixed, public function so that sketches from
 * different sensors merge: SipHash-2-4 under the ASCII key "kizuki HLL key 1"
 * of the 16 network-order address bytes (IPv4 as ::ffff:a.b.c.d).
 */
#ifndef KZ_HLL_H
#define KZ_HLL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define KZ_HLL_P_MIN     4
#define KZ_HLL_P_MAX     18
#define KZ_HLL_P_DEFAULT 14

/* The longest base64 text kz_hll_from_base64 accepts: a dense sketch at
 * KZ_HLL_P_MAX. */
#define KZ_HLL_BYTES_MAX  (3 + 3 * (1u << KZ_HLL_P_MAX) / 4)
#define KZ_HLL_BASE64_MAX ((KZ_HLL_BYTES_MAX + 2) / 3 * 4)

struct kz_hll;

/* Makes an empty sketch of precision p. Returns 0, -EINVAL for p outside
 * KZ_HLL_P_MIN..KZ_HLL_P_MAX, or -ENOMEM. */
int kz_hll_new(unsigned p, struct kz_hll **out) __attribute__((warn_unused_result));

void kz_hll_free(struct kz_hll *h);

/* A new sketch equal to h, in the same form (its serialisation is the
 * same bytes). Returns 0 or -ENOMEM. */
int kz_hll_clone(const struct kz_hll *h, struct kz_hll **out) __attribute__((warn_unused_result));

/* Empties the sketch (back to the sparse form, precision kept). */
void kz_hll_clear(struct kz_hll *h);

/* Adds one 64-bit hash (it must be uniformly distributed). Returns 0, or
 * -ENOMEM when the sketch had to grow and could not; it is then unchanged. */
int kz_hll_add_hash(struct kz_hll *h, uint64_t hash) __attribute__((warn_unused_result));

/* The fixed hash of an address every kizuki sketch uses (see above). */
uint64_t kz_hll_hash_addr(struct kz_addr a);

/* Adds an address: kz_hll_add_hash(h, kz_hll_hash_addr(a)). */
int kz_hll_add_addr(struct kz_hll *h, struct kz_addr a) __attribute__((warn_unused_result));

/* The estimated number of distinct hashes added. */
double kz_hll_estimate(const struct kz_hll *h);

/* The estimate rounded to the nearest integer. */
uint64_t kz_hll_count(const struct kz_hll *h);

/* dst becomes the sketch of the union of both sets; src is only read.
 * Returns 0, -EINVAL when the precisions differ, or -ENOMEM (dst is then
 * unchanged). */
int kz_hll_merge(struct kz_hll *dst, const struct kz_hll *src) __attribute__((warn_unused_result));

unsigned kz_hll_precision(const struct kz_hll *h);

/* True while the sketch is in its sparse form. */
bool kz_hll_is_sparse(const struct kz_hll *h);

/* Heap bytes the sketch holds, for callers that bound their memory. */
size_t kz_hll_memory(const struct kz_hll *h);

/* The serialised form (docs/hll.md): its exact length, and the bytes written
 * into out of that length. */
size_t kz_hll_serialized_size(const struct kz_hll *h);
void kz_hll_serialize(const struct kz_hll *h, uint8_t *out);

/* Parses a serialised sketch from untrusted bytes. On error returns -EINVAL
 * and sets *why to a static reason, or returns -ENOMEM. */
int kz_hll_from_bytes(const uint8_t *data, size_t len, struct kz_hll **out, const char **why)
        __attribute__((warn_unused_result));

/* The serialised form as base64 (RFC 4648, padded): a new NUL-terminated
 * string the caller frees, and its length. Returns 0 or -ENOMEM. */
int kz_hll_to_base64(const struct kz_hll *h, char **text, size_t *len)
        __attribute__((warn_unused_result));

/* Parses base64 text of len bytes from an untrusted source (the hub's HTTP
 * API): strict base64, then kz_hll_from_bytes. Errors as there. */
int kz_hll_from_base64(const char *text, size_t len, struct kz_hll **out, const char **why)
        __attribute__((warn_unused_result));

#endif
