/*
 * Hand-off of open ports from the thread that finds them to the thread that
 * uses them: a bounded FIFO with one producer and one consumer.
 *
 * Why: turning a hit into a record (ids hashed, JSON built and written)
 * costs about 13 us, as much CPU as the kernel spends on a whole probe and
 * its reply. Done on the receive thread it takes that CPU from the sender
 * while the scan runs; done on a consumer thread of lower priority it runs
 * in the gaps and in the cooldown, when the machine is idle. Stage 2 (the
 * login checks) consumes hits the same way, as they are found.
 *
 * A queue may be held: while held, the consumer is not woken until the
 * queue is half full, so that during the sending the records are written
 * in a few bursts at most (none at all for a /16), and the rest once the
 * hold is released (in the cooldown, when the machine is idle).
 *
 * The queue holds at most `capacity` hits; a producer finding it full waits
 * (backpressure, counted) rather than dropping a hit or growing without
 * bound. Mutex and condition variables: a few hundred thousand hand-offs a
 * second cost nothing next to the 13 us each, and a waiting consumer sleeps.
 */
#ifndef KZ_HITQUEUE_H
#define KZ_HITQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"

#define KZ_HITQUEUE_MAX (1u << 24)

/* One item: what the scan found. Plain data. */
struct kz_hitqueue_item {
	struct kz_addr addr;
	int64_t time;
	uint32_t port_index;
	uint16_t port;
	uint8_t probe;
	uint8_t ttl;
};

struct kz_hitqueue;

/* Makes a queue of capacity items (1..KZ_HITQUEUE_MAX). Returns 0, -EINVAL
 * or -ENOMEM. */
int kz_hitqueue_new(size_t capacity, struct kz_hitqueue **out) __attribute__((warn_unused_result));

/* Appends an item (copied), waiting while the queue is full. */
void kz_hitqueue_push(struct kz_hitqueue *q, const struct kz_hitqueue_item *it);

/* Takes the oldest item into *it, waiting while the queue is empty and not
 * closed. Returns false when the queue is closed and empty. */
bool kz_hitqueue_pop(struct kz_hitqueue *q, struct kz_hitqueue_item *it);

/* Holds (true) or releases (false) the consumer, as above. */
void kz_hitqueue_hold(struct kz_hitqueue *q, bool hold);

/* No more pushes: pop returns what is left, then false. */
void kz_hitqueue_close(struct kz_hitqueue *q);

/* Times a producer found the queue full and waited. */
uint64_t kz_hitqueue_waits(struct kz_hitqueue *q);

void kz_hitqueue_free(struct kz_hitqueue *q);

#endif
