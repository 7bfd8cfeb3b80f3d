/*
 * The scheduler's queue: a 4-ary min-heap of (time, source) events.
 *
 * Each active source has exactly one entry, the time of its next packet, so
 * the heap never holds more than the number of live sources. Ties are broken
 * by the source index so that the merge order, and with it the output, does
 * not depend on the heap's internal layout. The hot path is replace_top (emit
 * the earliest source's packet, then re-queue it): one sift-down instead of a
 * pop and a push.
 */
#ifndef GEN_HEAP_H
#define GEN_HEAP_H

#include <stddef.h>
#include <stdint.h>

struct gen_event {
	int64_t t;    /* nanoseconds since the epoch, packet time */
	uint32_t idx; /* the source */
};

struct gen_heap {
	struct gen_event *v;
	size_t n, cap;
};

/* Adds an event; grows the array (a hard cap of 2^28 events). Returns 0 or
 * -ENOMEM. */
int gen_heap_push(struct gen_heap *h, struct gen_event e) __attribute__((warn_unused_result));

/* Replaces the earliest event with e and restores the order. The heap must
 * not be empty. */
void gen_heap_replace_top(struct gen_heap *h, struct gen_event e);

/* Removes the earliest event. The heap must not be empty. */
void gen_heap_pop(struct gen_heap *h);

static inline const struct gen_event *gen_heap_top(const struct gen_heap *h)
{
	return h->n ? &h->v[0] : NULL;
}

void gen_heap_free(struct gen_heap *h);

#endif
