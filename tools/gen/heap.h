/*
 * The scheduler's queue: a radix heap of (time, source) events.
 *
 * The scheduler only ever adds events at or after the one it is handling, so
 * the queue is monotone, and a radix heap (Ahuja, Mehlhorn, Orlin, Tarjan
 * 1990) serves it better than a comparison heap: an event goes into the
 * bucket of the highest bit in which its time differs from the last time
 * taken out (one xor and one count-leading-zeros, an append), and taking out
 * the earliest only re-sorts the lowest non-empty bucket. A binary heap's
 * sift-down, all unpredictable branches, was a quarter of the generator's
 * time at tens of millions of packets.
 *
 * Events with equal times leave in source-index order, so the order of the
 * trace never depends on the queue's internals. Each live source has exactly
 * one event in the queue.
 */
#ifndef GEN_HEAP_H
#define GEN_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gen_event {
	int64_t t;    /* nanoseconds since the epoch, packet time; never negative */
	uint32_t idx; /* the source */
};

struct gen_bucket {
	struct gen_event *v;
	uint32_t n, cap;
};

struct gen_heap {
	uint64_t last;           /* the time of the last event taken out */
	uint64_t nonempty;       /* bit i - 1: bucket i (1..64) holds events */
	struct gen_bucket b[65]; /* b[0]: events at exactly last */
	size_t n;
	uint32_t top_at; /* where in b[0] the last top() found the earliest */
};

/* Adds an event no earlier than the last one taken out. Grows a bucket (hard
 * cap 2^28 events in all). Returns 0 or -ENOMEM. */
int gen_heap_push(struct gen_heap *h, struct gen_event e) __attribute__((warn_unused_result));

/* The earliest event (lowest time, then lowest index); NULL when the queue is
 * empty, or when memory ran out (then n is not 0). The pointer is valid until
 * the next push or pop. */
const struct gen_event *gen_heap_top(struct gen_heap *h);

/* Removes the event the last gen_heap_top returned; no push in between. */
void gen_heap_pop(struct gen_heap *h);

void gen_heap_free(struct gen_heap *h);

#endif
