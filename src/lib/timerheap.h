/*
 * Timers for event loops: a binary min-heap of deadlines whose entries are
 * embedded in the caller's objects (struct kz_timer), each remembering its
 * position, so that moving or cancelling a timer is O(log n) and a timer is
 * never in the heap twice.
 *
 * Why a heap and not a timer wheel: the survey's login engine keeps at most
 * one timer per connection (a few thousand to tens of thousands), its
 * deadlines range from milliseconds to minutes, and almost every event moves
 * its connection's timer. A heap handles any range with no tuning and keeps
 * the earliest deadline, which becomes epoll_wait's timeout, at the root.
 *
 * The heap's array is allocated once for its capacity: arming never
 * allocates, so it cannot fail in the middle of an event.
 */
#ifndef KZ_TIMERHEAP_H
#define KZ_TIMERHEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One timer, embedded in its owner. Zero-initialised it is not armed. */
struct kz_timer {
	uint64_t when; /* the deadline, in the caller's clock */
	size_t pos;    /* 1 + index in the heap; 0 when not armed */
};

/* The heap: caller-allocated, private fields. */
struct kz_timerheap {
	struct kz_timer **v;
	size_t n, cap;
};

/* Prepares a heap for at most cap timers armed at once. Returns 0 or
 * -ENOMEM. */
int kz_timerheap_init(struct kz_timerheap *h, size_t cap) __attribute__((warn_unused_result));

/* Frees the array; the timers are left as they are. */
void kz_timerheap_fini(struct kz_timerheap *h);

/* Arms t for `when`, or moves it there if it is armed. Returns 0, or
 * -ENOSPC when t is not armed and cap timers already are. */
int kz_timerheap_set(struct kz_timerheap *h, struct kz_timer *t, uint64_t when)
        __attribute__((warn_unused_result));

/* Disarms t; a timer that is not armed is left alone. */
void kz_timerheap_cancel(struct kz_timerheap *h, struct kz_timer *t);

/* The earliest armed timer, or NULL. */
struct kz_timer *kz_timerheap_peek(const struct kz_timerheap *h);

/* Removes and returns the earliest timer due at `now` (when <= now), or
 * NULL when none is. */
struct kz_timer *kz_timerheap_pop_due(struct kz_timerheap *h, uint64_t now);

/* True when t is armed. */
static inline bool kz_timer_armed(const struct kz_timer *t)
{
	return t->pos != 0;
}

/* Timers armed. */
static inline size_t kz_timerheap_size(const struct kz_timerheap *h)
{
	return h->n;
}

#endif
