/*
 * Interval statistics per (protocol, port): packets and unique sources, the
 * records of CONTRACT.md "Interval stats".
 *
 * A port key is proto << 16 | port (enum kz_tproto, and the port axis of
 * classify.h). Packet counts live in one flat array indexed by the key
 * (6 x 65,536 counters), so counting a packet is one increment with no
 * lookup. Unique sources are a HyperLogLog per key (hll.h, the sketch the
 * hub merges), created the first time a key is seen and then reused
 * interval after interval (cleared, not freed); a source is added to a
 * key's sketch when its packet's key differs from its previous packet's in
 * the interval (srctable.h, KZ_OBS_NEW_PKEY), so a source hammering one
 * port costs one sketch insert per interval, not one per packet.
 *
 * Sketch inserts are queued and made in a batch when the interval's
 * counts are read (kz_portstats_sort) or the queue is full, sorted by key
 * and by the sketch's bucket index: a sparse sketch keeps its entries
 * sorted, so an insert in the middle moves the entries after it, and a
 * busy port's sketch took thousands of such inserts per interval. Sorted,
 * each insert lands at the end. The result is the same sketch: a sparse
 * sketch is the set of its entries (the highest rank per bucket), and a
 * dense one the maximum per register, whatever the order they came in,
 * and the switch to the dense form depends only on that set.
 *
 * Memory: the arrays are fixed (about 6.3 MB, and 1 MB of queue); sketches grow with the
 * distinct (source, port) pairs of an interval, at most 16 KiB each once
 * dense, and are cleared at every interval.
 */
#ifndef KZ_PORTSTATS_H
#define KZ_PORTSTATS_H

#include <stddef.h>
#include <stdint.h>

#include "classify.h"
#include "hll.h"

#define KZ_PORTKEYS ((uint32_t)KZ_TPROTO_COUNT << 16)

/* The sketch is written into a stats record only above this many sources
 * ("where more than a few sources were seen"): below it the exact count
 * says as much, and the line stays short. */
#define KZ_STATS_HLL_MIN_SOURCES 4

/* Sketch inserts queued before a batch is made (see above). */
#define KZ_PORTSTATS_QUEUE 32768u

/* A queued insert: the sort key (port key << 25 | the hash's bucket
 * index, its top 25 bits) and the hash. */
struct kz_portstats_ins {
	uint64_t order;
	uint64_t hash;
};

static inline uint32_t kz_portkey(uint8_t proto, uint16_t port)
{
	return (uint32_t)proto << 16 | port;
}

struct kz_portstats {
	uint64_t *packets;   /* [KZ_PORTKEYS] this interval */
	struct kz_hll **hll; /* [KZ_PORTKEYS], NULL until the key is first seen */
	uint32_t *touched;   /* keys with packets this interval, in first-seen order */
	uint32_t ntouched;
	uint32_t *made; /* keys whose sketch exists, so teardown visits only them */
	uint32_t nmade;
	struct kz_portstats_ins *queue, *scratch; /* [KZ_PORTSTATS_QUEUE] each */
	uint32_t nqueue;
	uint64_t hll_errors; /* sketch inserts lost to a failed allocation */
	size_t hll_bytes;    /* heap held by the sketches, at the last reset */
};

/* Allocates the arrays. Returns 0 or -ENOMEM. */
int kz_portstats_init(struct kz_portstats *ps) __attribute__((warn_unused_result));

void kz_portstats_destroy(struct kz_portstats *ps);

/* Counts one packet on a key. */
static inline void kz_portstats_packet(struct kz_portstats *ps, uint32_t key)
{
	if (ps->packets[key]++ == 0)
		ps->touched[ps->ntouched++] = key;
}

/* Makes the queued sketch inserts (kz_portstats_source calls it when the
 * queue is full; kz_portstats_sort before the counts are read). */
void kz_portstats_flush(struct kz_portstats *ps);

/* Adds a source (by its kz_hll_hash_addr) to a key's sketch: queued, made
 * by kz_portstats_sort at the latest. */
static inline void kz_portstats_source(struct kz_portstats *ps, uint32_t key, uint64_t hll_hash)
{
	struct kz_portstats_ins *q = &ps->queue[ps->nqueue];
	q->order = (uint64_t)key << 25 | hll_hash >> 39;
	q->hash = hll_hash;
	if (++ps->nqueue == KZ_PORTSTATS_QUEUE)
		kz_portstats_flush(ps);
}

/* Makes the queued sketch inserts, then sorts the touched keys (for
 * output in key order). Call it before reading the sources of a key. */
void kz_portstats_sort(struct kz_portstats *ps);

/* Unique sources on a key this interval. */
uint64_t kz_portstats_sources(const struct kz_portstats *ps, uint32_t key);

/* Zeroes the counters and clears the sketches of the touched keys. */
void kz_portstats_reset(struct kz_portstats *ps);

#endif
