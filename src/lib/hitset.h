/*
 * Duplicate suppression for scan replies: has this (address, key) been seen
 * recently? A device answers one SYN with several SYN-ACKs (its own
 * retransmissions at 1 s, 3 s, 7 s ...), and with --probes N it answers
 * each probe; the survey reports each open port once.
 *
 * Bounded memory, no allocation after creation: two generations of an
 * open-addressing table of 64-bit keyed fingerprints. Inserts go to the
 * current generation; when it holds `window` entries the older generation
 * is emptied and the two swap. So every one of the last `window` distinct
 * hits is remembered, and more than that are never kept. Duplicates arrive
 * within seconds of the first reply, while `window` hits take far longer
 * at any hit rate the survey sees, so in practice each port is reported
 * once; a repeat that comes after `window` newer hits is reported again
 * rather than costing unbounded memory.
 *
 * Fingerprints are SipHash-2-4 of the address and key under a random key:
 * two different hits share one with probability 2^-64 per pair, which
 * would hide the second. One thread at a time.
 */
#ifndef KZ_HITSET_H
#define KZ_HITSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "siphash.h"

#define KZ_HITSET_MAX_WINDOW (UINT64_C(1) << 24)

struct kz_hitset;

/* Makes a set that remembers at least the last `window` distinct hits
 * (1..KZ_HITSET_MAX_WINDOW; about 16 bytes each, twice over). The key is
 * copied. Returns 0, -EINVAL or -ENOMEM. */
int kz_hitset_new(uint64_t window, const uint8_t key[KZ_SIPHASH_KEYLEN], struct kz_hitset **out)
        __attribute__((warn_unused_result));

/* Adds (a, key); returns true when it was not already remembered. */
bool kz_hitset_add(struct kz_hitset *h, struct kz_addr a, uint32_t key);

void kz_hitset_free(struct kz_hitset *h);

#endif
