/*
 * The bounded hit FIFO (hitqueue.h): a ring of items under one mutex, with
 * "not empty" and "not full" condition variables. Each side signals the
 * other only on the transition that the other may be waiting for.
 */
#include "hitqueue.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct kz_hitqueue {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	struct kz_hitqueue_item *ring;
	size_t cap, head, len;
	bool closed, held;
	bool draining; /* held, but a burst has begun: go on to empty */
	uint64_t waits;
};

int kz_hitqueue_new(size_t capacity, struct kz_hitqueue **out)
{
	if (capacity == 0 || capacity > KZ_HITQUEUE_MAX)
		return -EINVAL;
	struct kz_hitqueue *q = calloc(1, sizeof *q);
	if (!q)
		return -ENOMEM;
	q->ring = calloc(capacity, sizeof *q->ring);
	if (!q->ring) {
		free(q);
		return -ENOMEM;
	}
	q->cap = capacity;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	*out = q;
	return 0;
}

void kz_hitqueue_push(struct kz_hitqueue *q, const struct kz_hitqueue_item *it)
{
	pthread_mutex_lock(&q->mu);
	if (q->len == q->cap)
		q->waits++;
	while (q->len == q->cap && !q->closed)
		pthread_cond_wait(&q->not_full, &q->mu);
	if (!q->closed) {
		q->ring[(q->head + q->len) % q->cap] = *it;
		q->len++;
		/* Wake the consumer when it can go: the first item, or
		 * half full while held. */
		if (q->held ? q->len == (q->cap + 1) / 2 : q->len == 1)
			pthread_cond_signal(&q->not_empty);
	}
	pthread_mutex_unlock(&q->mu);
}

bool kz_hitqueue_pop(struct kz_hitqueue *q, struct kz_hitqueue_item *it)
{
	size_t half = (q->cap + 1) / 2;
	pthread_mutex_lock(&q->mu);
	while (!q->closed && !(q->len > 0 && (!q->held || q->draining || q->len >= half)))
		pthread_cond_wait(&q->not_empty, &q->mu);
	bool got = q->len > 0;
	if (got) {
		if (q->held && q->len >= half)
			q->draining = true;
		*it = q->ring[q->head];
		q->head = (q->head + 1) % q->cap;
		if (q->len-- == q->cap)
			pthread_cond_signal(&q->not_full);
		if (q->len == 0)
			q->draining = false;
	}
	pthread_mutex_unlock(&q->mu);
	return got;
}

void kz_hitqueue_hold(struct kz_hitqueue *q, bool hold)
{
	pthread_mutex_lock(&q->mu);
	q->held = hold;
	if (!hold)
		pthread_cond_broadcast(&q->not_empty);
	pthread_mutex_unlock(&q->mu);
}

void kz_hitqueue_close(struct kz_hitqueue *q)
{
	pthread_mutex_lock(&q->mu);
	q->closed = true;
	pthread_cond_broadcast(&q->not_empty);
	pthread_cond_broadcast(&q->not_full);
	pthread_mutex_unlock(&q->mu);
}

uint64_t kz_hitqueue_waits(struct kz_hitqueue *q)
{
	pthread_mutex_lock(&q->mu);
	uint64_t w = q->waits;
	pthread_mutex_unlock(&q->mu);
	return w;
}

void kz_hitqueue_free(struct kz_hitqueue *q)
{
	if (!q)
		return;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->not_empty);
	pthread_cond_destroy(&q->not_full);
	free(q->ring);
	free(q);
}
