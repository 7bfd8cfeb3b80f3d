/*
 * Radix heap of events; see heap.h.
 *
 * Invariant: an event with time t sits in bucket 0 when t == last, else in
 * bucket 64 - clz(t ^ last), so every event of bucket i is earlier than every
 * event of bucket j > i, and bucket 0's events are all at last. top() moves
 * the earliest event into bucket 0 when it is empty: it takes the lowest
 * non-empty bucket, makes its minimum the new last, and redistributes the
 * bucket, whose events then all land in lower buckets.
 */
#include "heap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HEAP_MAX ((size_t)1 << 28)

static unsigned bucket_of(const struct gen_heap *h, uint64_t t)
{
	uint64_t x = t ^ h->last;
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

static int append(struct gen_heap *h, unsigned i, struct gen_event e)
{
	struct gen_bucket *b = &h->b[i];
	if (b->n == b->cap) {
		uint32_t cap = b->cap ? b->cap * 2 : 16;
		struct gen_event *v = reallocarray(b->v, cap, sizeof *v);
		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	b->v[b->n++] = e;
	if (i)
		h->nonempty |= (uint64_t)1 << (i - 1);
	return 0;
}

int gen_heap_push(struct gen_heap *h, struct gen_event e)
{
	if (h->n >= HEAP_MAX)
		return -ENOMEM;
	int rc = append(h, bucket_of(h, (uint64_t)e.t), e);
	if (rc == 0)
		h->n++;
	return rc;
}

/* Index in bucket 0 of its lowest source index (bucket 0 is not empty). */
static uint32_t first_of_zero(const struct gen_heap *h)
{
	const struct gen_bucket *b = &h->b[0];
	uint32_t m = 0;
	for (uint32_t k = 1; k < b->n; k++)
		if (b->v[k].idx < b->v[m].idx)
			m = k;
	return m;
}

const struct gen_event *gen_heap_top(struct gen_heap *h)
{
	if (h->n == 0)
		return NULL;
	if (h->b[0].n == 0) {
		unsigned i = 1u + (unsigned)__builtin_ctzll(h->nonempty);
		struct gen_bucket *b = &h->b[i];
		uint64_t min = UINT64_MAX;
		for (uint32_t k = 0; k < b->n; k++)
			if ((uint64_t)b->v[k].t < min)
				min = (uint64_t)b->v[k].t;
		h->last = min;
		/* Every event of bucket i differs from the new last only below
		 * bit i - 1, so each moves to a lower bucket. */
		struct gen_bucket old = *b;
		memset(b, 0, sizeof *b);
		h->nonempty &= ~((uint64_t)1 << (i - 1));
		for (uint32_t k = 0; k < old.n; k++) {
			/* Out of memory while re-sorting: the queue is lost; the
			 * caller sees NULL with events left and gives up. */
			if (append(h, bucket_of(h, (uint64_t)old.v[k].t), old.v[k])) {
				free(old.v);
				return NULL;
			}
		}
		/* Keep the old array for reuse by this bucket. */
		b->v = old.v;
		b->cap = old.cap;
		b->n = 0;
	}
	h->top_at = first_of_zero(h);
	return &h->b[0].v[h->top_at];
}

void gen_heap_pop(struct gen_heap *h)
{
	struct gen_bucket *b = &h->b[0];
	b->v[h->top_at] = b->v[--b->n];
	h->n--;
}

void gen_heap_free(struct gen_heap *h)
{
	for (unsigned i = 0; i < 65; i++)
		free(h->b[i].v);
	memset(h, 0, sizeof *h);
}
