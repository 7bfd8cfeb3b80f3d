/*
 * A 4-ary min-heap of events ordered by (time, source index); see heap.h.
 */
#include "heap.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#define HEAP_MAX ((size_t)1 << 28)

/* Evaluated without short-circuits so that the compiler can use flag
 * arithmetic and conditional moves: the order of two events is a coin toss
 * to the branch predictor, and mispredictions dominated the profile. */
static inline bool before(struct gen_event a, struct gen_event b)
{
	return (a.t < b.t) | ((a.t == b.t) & (a.idx < b.idx));
}

/* Four children per node: half the levels of a binary heap, and the four
 * children share a cache line, which is what the sift-down waits on. */
#define ARITY 4

static void sift_down(struct gen_heap *h, size_t i)
{
	struct gen_event e = h->v[i];
	size_t n = h->n;
	for (;;) {
		size_t c = ARITY * i + 1;
		if (c >= n)
			break;
		size_t m;
		if (c + 3 < n) {
			/* All four children: a two-round tournament. */
			size_t a = before(h->v[c + 1], h->v[c]) ? c + 1 : c;
			size_t b = before(h->v[c + 3], h->v[c + 2]) ? c + 3 : c + 2;
			m = before(h->v[b], h->v[a]) ? b : a;
		} else {
			m = c;
			for (size_t k = c + 1; k < n; k++)
				if (before(h->v[k], h->v[m]))
					m = k;
		}
		if (!before(h->v[m], e))
			break;
		h->v[i] = h->v[m];
		i = m;
	}
	h->v[i] = e;
}

int gen_heap_push(struct gen_heap *h, struct gen_event e)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 1024;
		if (cap > HEAP_MAX)
			return -ENOMEM;
		struct gen_event *v = reallocarray(h->v, cap, sizeof *v);
		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	size_t i = h->n++;
	while (i > 0) {
		size_t p = (i - 1) / ARITY;
		if (!before(e, h->v[p]))
			break;
		h->v[i] = h->v[p];
		i = p;
	}
	h->v[i] = e;
	return 0;
}

void gen_heap_replace_top(struct gen_heap *h, struct gen_event e)
{
	h->v[0] = e;
	sift_down(h, 0);
}

void gen_heap_pop(struct gen_heap *h)
{
	h->n--;
	if (h->n) {
		h->v[0] = h->v[h->n];
		sift_down(h, 0);
	}
}

void gen_heap_free(struct gen_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}
