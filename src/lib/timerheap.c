/*
 * A binary min-heap of embedded timers (timerheap.h). Each timer stores its
 * 1-based position, kept up to date on every swap, which is what lets a
 * timer be moved or removed from the middle.
 */
#include "timerheap.h"

#include <errno.h>
#include <stdlib.h>

/* Puts t at index i and tells it so: every move goes through here, which
 * keeps each timer's position exact. */
static void place(struct kz_timerheap *h, size_t i, struct kz_timer *t)
{
	h->v[i] = t;
	t->pos = i + 1;
}

/* Moves the timer at i towards the root while it is earlier than its
 * parent; the timer is held aside and written once, at its place. */
static void sift_up(struct kz_timerheap *h, size_t i)
{
	struct kz_timer *t = h->v[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (h->v[parent]->when <= t->when)
			break;
		place(h, i, h->v[parent]);
		i = parent;
	}
	place(h, i, t);
}

/* Moves the timer at i towards the leaves while a child is earlier. */
static void sift_down(struct kz_timerheap *h, size_t i)
{
	struct kz_timer *t = h->v[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1]->when < h->v[c]->when)
			c++;
		if (t->when <= h->v[c]->when)
			break;
		place(h, i, h->v[c]);
		i = c;
	}
	place(h, i, t);
}

int kz_timerheap_init(struct kz_timerheap *h, size_t cap)
{
	h->n = 0;
	h->cap = cap;
	h->v = calloc(cap ? cap : 1, sizeof *h->v);
	return h->v ? 0 : -ENOMEM;
}

void kz_timerheap_fini(struct kz_timerheap *h)
{
	free(h->v);
	h->v = NULL;
	h->n = h->cap = 0;
}

/* Moving an armed timer sifts it one way only: a later deadline can only
 * go down, an earlier one only up. */
int kz_timerheap_set(struct kz_timerheap *h, struct kz_timer *t, uint64_t when)
{
	if (t->pos) {
		uint64_t old = t->when;
		t->when = when;
		if (when < old)
			sift_up(h, t->pos - 1);
		else if (when > old)
			sift_down(h, t->pos - 1);
		return 0;
	}
	if (h->n == h->cap)
		return -ENOSPC;
	t->when = when;
	place(h, h->n++, t);
	sift_up(h, h->n - 1);
	return 0;
}

void kz_timerheap_cancel(struct kz_timerheap *h, struct kz_timer *t)
{
	if (!t->pos)
		return;
	size_t i = t->pos - 1;
	t->pos = 0;
	struct kz_timer *last = h->v[--h->n];
	if (i == h->n)
		return;
	/* The last timer fills the hole and goes whichever way it must. */
	place(h, i, last);
	if (i > 0 && h->v[(i - 1) / 2]->when > last->when)
		sift_up(h, i);
	else
		sift_down(h, i);
}

struct kz_timer *kz_timerheap_peek(const struct kz_timerheap *h)
{
	return h->n ? h->v[0] : NULL;
}

struct kz_timer *kz_timerheap_pop_due(struct kz_timerheap *h, uint64_t now)
{
	if (h->n == 0 || h->v[0]->when > now)
		return NULL;
	struct kz_timer *t = h->v[0];
	kz_timerheap_cancel(h, t);
	return t;
}
